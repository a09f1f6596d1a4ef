import { z } from 'zod';

/**
 * GuardDuty findings in the three shapes Seam receives:
 * - the REST JSON of GetFindings (camelCase keys, e.g. `updatedAt`, `sourceIPs`),
 * - the JS SDK's GetFindings output (PascalCase keys, e.g. `UpdatedAt`, `SourceIps`),
 * - the EventBridge event `{"detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{...camelCase}}`.
 * The finding schema is written once and built for both casings, so the two can never drift apart.
 */

type Casing = (name: string) => string;
const camel: Casing = (n) => n;
const pascal: Casing = (n) => n.charAt(0).toUpperCase() + n.slice(1);

function buildFinding(k: Casing) {
  const obj = (fields: Record<string, z.ZodType>, description: string) =>
    z.looseObject(Object.fromEntries(Object.entries(fields).map(([n, s]) => [k(n), s]))).describe(description);
  const str = (d: string) => z.string().optional().describe(d);
  const strs = (d: string) => z.array(z.string()).optional().describe(d);

  const remoteIpDetails = obj(
    {
      ipAddressV4: str('Remote IPv4 address.'),
      ipAddressV6: str('Remote IPv6 address.'),
      organization: z.looseObject({}).optional(),
      country: z.looseObject({}).optional(),
      city: z.looseObject({}).optional(),
      geoLocation: z.looseObject({}).optional(),
    },
    'Where the caller connected from.',
  ).optional();

  const userDetails = obj(
    {
      username: str('Kubernetes user name.'),
      uid: str('Kubernetes user uid.'),
      groups: strs('Kubernetes groups.'),
      sessionName: z.union([z.array(z.string()), z.string()]).optional().describe('IAM role session name(s) behind the user.'),
      impersonatedUser: obj({ username: str('Impersonated user.'), groups: strs('Impersonated groups.') }, 'Impersonated user.').optional(),
    },
    'Kubernetes user that performed the activity.',
  );

  const container = obj(
    {
      containerRuntime: str('Runtime, e.g. containerd.'),
      id: str('Container id.'),
      name: str('Container name.'),
      image: str('Image.'),
      imagePrefix: str('Image prefix.'),
      securityContext: obj({ privileged: z.boolean().optional(), allowPrivilegeEscalation: z.boolean().optional() }, 'Security context.').optional(),
      volumeMounts: z.array(z.looseObject({})).optional(),
    },
    'A container of the workload.',
  );

  const workload = obj(
    {
      name: str('Workload name.'),
      type: str('Workload kind, e.g. pods, deployments.'),
      uid: str('Workload uid.'),
      namespace: str('Workload namespace.'),
      serviceAccountName: str('Service account the workload runs as.'),
      hostNetwork: z.boolean().optional(),
      hostIPC: z.boolean().optional(),
      hostPID: z.boolean().optional(),
      containers: z.array(container).optional(),
      volumes: z.array(z.looseObject({})).optional(),
    },
    'Kubernetes workload involved.',
  );

  const kubernetesApiCallAction = obj(
    {
      requestUri: str('Kubernetes API request URI.'),
      verb: str('Kubernetes verb.'),
      sourceIps: strs('Caller IP then proxies (SDK casing).'),
      sourceIPs: strs('Caller IP then proxies (REST casing).'),
      userAgent: str('Caller user agent.'),
      remoteIpDetails,
      statusCode: z.number().int().optional().describe('HTTP status of the call.'),
      parameters: str('Call parameters.'),
      resource: str('Resource, e.g. pods.'),
      subresource: str('Subresource, e.g. exec.'),
      namespace: str('Namespace.'),
      resourceName: str('Resource name.'),
    },
    'Kubernetes API call behind the finding.',
  ).optional();

  const awsApiCallAction = obj(
    {
      api: str('API name, e.g. GetSecretValue.'),
      callerType: str('Remote IP or domain.'),
      serviceName: str('Service, e.g. secretsmanager.amazonaws.com.'),
      errorCode: str('Error code of the call.'),
      userAgent: str('Caller user agent.'),
      remoteIpDetails,
      affectedResources: z.record(z.string(), z.string()).optional(),
    },
    'AWS API call behind the finding.',
  ).optional();

  return obj(
    {
      schemaVersion: str('Finding schema version, e.g. 2.0.'),
      id: z.string().describe('Finding id (stable across updates of the same finding).'),
      arn: str('Finding ARN.'),
      accountId: z.string().describe('Account the finding is in.'),
      region: str('Region.'),
      partition: str('Partition, e.g. aws.'),
      type: z.string().describe('Finding type, e.g. PrivilegeEscalation:Kubernetes/PrivilegedContainer.'),
      severity: z.number().describe('Severity 1.0–8.9 (Low < 4, Medium < 7, High).'),
      confidence: z.number().optional(),
      title: str('Short title.'),
      description: str('Long description.'),
      createdAt: str('When the finding was created.'),
      updatedAt: z.string().describe('When the finding was last updated (part of the dedup id).'),
      resource: obj(
        {
          resourceType: str('EKSCluster, Instance, AccessKey, Container, ...'),
          eksClusterDetails: obj(
            { name: str('Cluster name.'), arn: str('Cluster ARN.'), vpcId: str('VPC.'), status: str('Status.'), createdAt: str('Created.') },
            'EKS cluster involved.',
          ).optional(),
          kubernetesDetails: obj({ kubernetesUserDetails: userDetails.optional(), kubernetesWorkloadDetails: workload.optional() }, 'Kubernetes details.').optional(),
          accessKeyDetails: obj(
            { accessKeyId: str('Access key.'), principalId: str('IAM unique id.'), userName: str('IAM user or role name.'), userType: str('IAMUser, AssumedRole, Root, Federated.') },
            'IAM credentials involved.',
          ).optional(),
        },
        'Affected resource.',
      ),
      service: obj(
        {
          serviceName: str('Always guardduty.'),
          detectorId: str('Detector id.'),
          action: obj({ actionType: str('KUBERNETES_API_CALL, AWS_API_CALL, ...'), kubernetesApiCallAction, awsApiCallAction }, 'Activity that triggered the finding.').optional(),
          eventFirstSeen: str('First time the activity was seen.'),
          eventLastSeen: str('Last time the activity was seen.'),
          count: z.number().optional().describe('How many times the activity was seen.'),
          featureName: str('Detection feature, e.g. EksAuditLogs, RuntimeMonitoring.'),
          archived: z.boolean().optional(),
          resourceRole: str('TARGET or ACTOR.'),
          evidence: z.looseObject({}).optional(),
          additionalInfo: z.looseObject({}).optional(),
        },
        'GuardDuty service context.',
      ),
    },
    'A GuardDuty finding.',
  );
}

export const GuardDutyFinding = buildFinding(camel).describe('GuardDuty finding, REST/EventBridge camelCase shape.');
export const GuardDutyFindingSdk = buildFinding(pascal).describe('GuardDuty finding, JS SDK GetFindings PascalCase shape.');

export const GuardDutyEventBridge = z
  .looseObject({
    version: z.string().describe('Always "0".'),
    id: z.string().describe('EventBridge event id (differs per delivery of the same finding update).'),
    'detail-type': z.literal('GuardDuty Finding'),
    source: z.literal('aws.guardduty'),
    account: z.string(),
    time: z.string().describe('When EventBridge received the event.'),
    region: z.string(),
    resources: z.array(z.string()).optional(),
    detail: GuardDutyFinding,
  })
  .describe('GuardDuty finding delivered through EventBridge.');

/** GetFindings output: `{"Findings":[...]}` (SDK) or `{"findings":[...]}` (REST). */
export const GuardDutyFindingsFile = z.union([
  z.looseObject({ Findings: z.array(z.unknown()) }),
  z.looseObject({ findings: z.array(z.unknown()) }),
]);
