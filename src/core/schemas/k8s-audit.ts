import { z } from 'zod';

/**
 * The audit.k8s.io/v1 Event as the EKS control plane writes it to CloudWatch Logs
 * (log group /aws/eks/<cluster>/cluster, streams kube-apiserver-audit-*). Loose objects: unknown
 * fields are kept, because Sigma rules may use any of them.
 */

/** EKS puts the IAM identity the authenticator resolved into `user.extra`; every value is an array of strings. */
export const EksUserExtra = z
  .looseObject({
    arn: z.array(z.string()).optional().describe('IAM ARN the caller authenticated as (assumed-role ARN for sessions).'),
    canonicalArn: z.array(z.string()).optional().describe('IAM ARN with the session collapsed to the role (arn:aws:iam::<acct>:role/<name>).'),
    sessionName: z.array(z.string()).optional().describe('Role session name, for assumed roles.'),
    accessKeyId: z.array(z.string()).optional().describe('Access key id (ASIA... for temporary credentials) that signed the token.'),
    principalId: z.array(z.string()).optional().describe('IAM unique id (AROA...:session or AIDA...).'),
    'authentication.kubernetes.io/pod-name': z.array(z.string()).optional().describe('Pod a bound service account token belongs to.'),
    'authentication.kubernetes.io/pod-uid': z.array(z.string()).optional(),
    'authentication.kubernetes.io/node-name': z.array(z.string()).optional(),
    'authentication.kubernetes.io/credential-id': z.array(z.string()).optional(),
  })
  .describe('Authenticator extras; EKS values are arrays of strings.');

export const K8sUserInfo = z
  .looseObject({
    username: z.string().optional().describe('Kubernetes user name (system:serviceaccount:<ns>:<name>, system:node:<node>, an IAM-mapped name...).'),
    uid: z.string().optional().describe('User uid; for IAM users EKS sets aws-iam-authenticator:<account>:<principalId>.'),
    groups: z.array(z.string()).optional().describe('Groups, e.g. system:masters, system:authenticated.'),
    extra: EksUserExtra.optional(),
  })
  .describe('authentication.k8s.io UserInfo.');

export const K8sObjectRef = z
  .looseObject({
    resource: z.string().optional().describe('Resource plural, e.g. pods, secrets, configmaps.'),
    namespace: z.string().optional(),
    name: z.string().optional(),
    uid: z.string().optional(),
    apiGroup: z.string().optional().describe('API group; empty for the core group.'),
    apiVersion: z.string().optional(),
    resourceVersion: z.string().optional(),
    subresource: z.string().optional().describe('Subresource, e.g. exec, log, token, status.'),
  })
  .describe('The object the request targets.');

export const K8sStatus = z
  .looseObject({
    metadata: z.unknown().optional(),
    code: z.number().int().optional().describe('HTTP status code of the response.'),
    status: z.string().optional().describe('Success or Failure (only on failures in practice).'),
    reason: z.string().optional().describe('Machine-readable reason, e.g. Forbidden, NotFound.'),
    message: z.string().optional(),
  })
  .describe('metav1.Status of the response.');

export const K8sAuditEvent = z
  .looseObject({
    kind: z.literal('Event').describe('Always Event.'),
    apiVersion: z.string().regex(/^audit\.k8s\.io\//).describe('audit.k8s.io/v1.'),
    level: z.enum(['None', 'Metadata', 'Request', 'RequestResponse']).describe('Audit level the policy applied.'),
    auditID: z.string().min(1).describe('Unique per request; shared by the stages of one request.'),
    stage: z.enum(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']).describe('Request stage this event was written at.'),
    requestURI: z.string().describe('Request URI including the query, e.g. /api/v1/namespaces/default/pods/web/exec?command=sh&container=web.'),
    verb: z.string().describe('Kubernetes verb (get, list, watch, create, update, patch, delete...), or HTTP verb for non-resource URLs.'),
    user: K8sUserInfo.describe('Authenticated user.'),
    impersonatedUser: K8sUserInfo.optional().describe('User impersonated through Impersonate-* headers.'),
    sourceIPs: z.array(z.string()).optional().describe('Client IP, then proxies.'),
    userAgent: z.string().optional(),
    objectRef: K8sObjectRef.optional(),
    responseStatus: K8sStatus.optional(),
    requestObject: z.unknown().optional().describe('Request body (level Request and above); open-ended.'),
    responseObject: z.unknown().optional().describe('Response body (level RequestResponse); open-ended.'),
    requestReceivedTimestamp: z.string().describe('When the API server received the request, RFC 3339 with microseconds.'),
    stageTimestamp: z.string().describe('When this stage was reached.'),
    annotations: z
      .looseObject({
        'authorization.k8s.io/decision': z.string().optional().describe('allow or forbid.'),
        'authorization.k8s.io/reason': z.string().optional().describe('Why RBAC allowed or denied, e.g. the binding.'),
        'pod-security.kubernetes.io/enforce-policy': z.string().optional(),
        'pod-security.kubernetes.io/audit-violations': z.string().optional(),
      })
      .catchall(z.string())
      .optional()
      .describe('Audit annotations set by authorizers and admission plugins.'),
  })
  .describe('audit.k8s.io/v1 Event as EKS writes it to CloudWatch Logs.');
export type K8sAuditEvent = z.infer<typeof K8sAuditEvent>;
