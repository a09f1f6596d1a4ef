/**
 * Builders for realistic EKS audit and CloudTrail records, shaped like test/fixtures (same account, cluster,
 * OIDC issuer and people), so identity tests read as timelines: `audit.exec(alice, 'payments/api-…', t('14:09:08'))`.
 */
import { readFileSync } from 'node:fs';
import type { SeamEvent } from '../../src/core/envelope.ts';
import { normalizeRecord, unwrapRecords } from '../../src/core/normalize/normalize.ts';

export const ACCOUNT = '111122223333';
export const CLUSTER = 'prod-eks-01';
export const REGION = 'us-west-2';
export const ISSUER = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;
export const NAT_IP = '52.94.133.131';
export const ATTACKER_IP = '198.51.100.200';
export const OFFICE_IP = '203.0.113.24';
export const DAY = '2024-11-05';

/** `t('14:09:08')` → ISO time on the fixture day; `t('14:09:08', 30)` adds seconds. */
export function t(hms: string, plusSeconds = 0): string {
  return new Date(Date.parse(`${DAY}T${hms}Z`) + plusSeconds * 1000).toISOString();
}

let seq = 0;
function id(prefix: string): string {
  seq++;
  return `${prefix}-${String(seq).padStart(6, '0')}-4e3f-9a8b-${String(seq).padStart(12, '0')}`;
}

export interface IamSession {
  role: string;
  session: string;
  key: string;
  roleId: string;
  /** `arn:aws:sts::…:assumed-role/<role>/<session>` */
  arn: string;
  roleArn: string;
}

export function session(role: string, sessionName: string, key: string, roleId = 'AROA' + role.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(16, '0').slice(0, 16)): IamSession {
  return { role, session: sessionName, key, roleId, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${sessionName}`, roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}` };
}

export const alice = session('PlatformAdmin', 'alice@example.com', 'ASIAEXAMPLEALICE0001', 'AROAEXAMPLEADMIN00001');
export const bob = session('ReadOnly', 'bob@example.com', 'ASIAEXAMPLEBOB000001', 'AROAEXAMPLEREADONLY01');
export const ciDeployer = session('ci-deployer', 'gha-run-4711', 'ASIAEXAMPLECIDEPLOY1', 'AROAEXAMPLECIDEPLOY1');

// ── Kubernetes audit ─────────────────────────────────────────────────────────────────────────────────────────

export interface K8sUser {
  username: string;
  groups: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

/** The user block the EKS authenticator writes for an IAM session mapped to `username`. */
export function iamK8sUser(s: IamSession, username: string = s.arn, groups: string[] = ['system:authenticated']): K8sUser {
  return {
    username,
    uid: `aws-iam-authenticator:${ACCOUNT}:${s.roleId}`,
    groups,
    extra: { accessKeyId: [s.key], arn: [s.arn], canonicalArn: [s.roleArn], principalId: [`${s.roleId}:${s.session}`], sessionName: [s.session] },
  };
}

export function saK8sUser(ns: string, sa: string, pod?: string, node = 'ip-10-0-142-21.us-west-2.compute.internal'): K8sUser {
  const u: K8sUser = { username: `system:serviceaccount:${ns}:${sa}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] };
  if (pod !== undefined) u.extra = { 'authentication.kubernetes.io/pod-name': [pod], 'authentication.kubernetes.io/node-name': [node] };
  return u;
}

export interface AuditOpts {
  verb: string;
  user: K8sUser;
  time: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  apiGroup?: string;
  requestURI?: string;
  requestObject?: unknown;
  responseObject?: unknown;
  code?: number;
  ip?: string;
  userAgent?: string;
}

export function audit(o: AuditOpts): Record<string, unknown> {
  const path = o.requestURI ?? `/${o.apiGroup ? 'apis/' + o.apiGroup + '/v1' : 'api/v1'}${o.namespace ? '/namespaces/' + o.namespace : ''}/${o.resource}${o.name ? '/' + o.name : ''}${o.subresource ? '/' + o.subresource : ''}`;
  const ref: Record<string, unknown> = { resource: o.resource, apiVersion: 'v1' };
  if (o.namespace) ref.namespace = o.namespace;
  if (o.name) ref.name = o.name;
  if (o.subresource) ref.subresource = o.subresource;
  if (o.apiGroup) ref.apiGroup = o.apiGroup;
  const r: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: o.requestObject !== undefined || o.responseObject !== undefined ? 'RequestResponse' : 'Metadata',
    auditID: id('a1b2c3d4'),
    stage: 'ResponseComplete',
    requestURI: path,
    verb: o.verb,
    user: o.user,
    sourceIPs: [o.ip ?? OFFICE_IP],
    userAgent: o.userAgent ?? 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
    objectRef: ref,
    responseStatus: { metadata: {}, code: o.code ?? (o.verb === 'create' ? 201 : 200) },
    requestReceivedTimestamp: o.time,
    stageTimestamp: o.time,
    annotations: { 'authorization.k8s.io/decision': (o.code ?? 200) >= 400 ? 'forbid' : 'allow', 'authorization.k8s.io/reason': '' },
  };
  if (o.requestObject !== undefined) r.requestObject = o.requestObject;
  if (o.responseObject !== undefined) r.responseObject = o.responseObject;
  return r;
}

export function execInto(user: K8sUser, nsPod: string, time: string, command = 'sh'): Record<string, unknown> {
  const [ns, pod] = nsPod.split('/') as [string, string];
  const cmd = command
    .split(' ')
    .map((c) => 'command=' + encodeURIComponent(c))
    .join('&');
  return audit({ verb: 'create', user, time, resource: 'pods', namespace: ns, name: pod, subresource: 'exec', code: 101, requestURI: `/api/v1/namespaces/${ns}/pods/${pod}/exec?${cmd}&container=app&stderr=true&stdout=true` });
}

export function podCreate(user: K8sUser, nsPod: string, sa: string, time: string, node = 'ip-10-0-142-21.us-west-2.compute.internal'): Record<string, unknown> {
  const [ns, pod] = nsPod.split('/') as [string, string];
  const obj = { kind: 'Pod', apiVersion: 'v1', metadata: { name: pod, namespace: ns }, spec: { serviceAccountName: sa, nodeName: node, containers: [{ name: 'app', image: 'app:1' }] } };
  return audit({ verb: 'create', user, time, resource: 'pods', namespace: ns, requestObject: obj, responseObject: obj, ip: '10.0.101.17', userAgent: 'kube-controller-manager/v1.30.4' });
}

export function awsAuthUpdate(user: K8sUser, mapRoles: string, time: string, verb = 'update', mapUsers?: string): Record<string, unknown> {
  const data: Record<string, string> = { mapRoles };
  if (mapUsers !== undefined) data.mapUsers = mapUsers;
  const obj = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data };
  return audit({ verb, user, time, resource: 'configmaps', namespace: 'kube-system', name: verb === 'create' ? undefined : 'aws-auth', requestObject: obj, responseObject: obj });
}

export const NODE_MAPPING = `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n`;
export function roleMapping(role: string, username: string, groups: string[]): string {
  return `- rolearn: arn:aws:iam::${ACCOUNT}:role/${role}\n  username: ${username}\n  groups:\n${groups.map((g) => `  - ${g}\n`).join('')}`;
}

export function bindingWrite(user: K8sUser, kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, role: { kind: 'ClusterRole' | 'Role'; name: string }, subjects: { kind: string; name: string; namespace?: string }[], time: string, ns?: string, verb = 'create'): Record<string, unknown> {
  const obj: Record<string, unknown> = {
    kind,
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name, ...(ns ? { namespace: ns } : {}) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name: role.name },
    subjects: subjects.map((s) => ({ ...(s.kind === 'ServiceAccount' ? {} : { apiGroup: 'rbac.authorization.k8s.io' }), ...s })),
  };
  return audit({ verb, user, time, resource: kind === 'ClusterRoleBinding' ? 'clusterrolebindings' : 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: ns, name, requestObject: obj, responseObject: obj });
}

export function roleWrite(user: K8sUser, kind: 'ClusterRole' | 'Role', name: string, rules: unknown[], time: string, ns?: string, verb = 'create'): Record<string, unknown> {
  const obj = { kind, apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, ...(ns ? { namespace: ns } : {}) }, rules };
  return audit({ verb, user, time, resource: kind === 'ClusterRole' ? 'clusterroles' : 'roles', apiGroup: 'rbac.authorization.k8s.io', namespace: ns, name, requestObject: obj, responseObject: obj });
}

export function saWrite(user: K8sUser, nsName: string, roleArn: string | undefined, time: string, verb = 'create'): Record<string, unknown> {
  const [ns, name] = nsName.split('/') as [string, string];
  const obj = { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name, namespace: ns, ...(roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {}) } };
  return audit({ verb, user, time, resource: 'serviceaccounts', namespace: ns, name, requestObject: obj, responseObject: obj });
}

export function tokenRequest(user: K8sUser, nsName: string, time: string, boundPod?: string, expirationSeconds = 3600): Record<string, unknown> {
  const [ns, name] = nsName.split('/') as [string, string];
  const spec: Record<string, unknown> = { audiences: ['https://kubernetes.default.svc'], expirationSeconds };
  if (boundPod) spec.boundObjectRef = { kind: 'Pod', apiVersion: 'v1', name: boundPod };
  return audit({
    verb: 'create',
    user,
    time,
    resource: 'serviceaccounts',
    namespace: ns,
    name,
    subresource: 'token',
    requestObject: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec },
    responseObject: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec, status: { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', expirationTimestamp: time } },
  });
}

// ── CloudTrail ───────────────────────────────────────────────────────────────────────────────────────────────

export function assumedRoleIdentity(s: IamSession, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'AssumedRole',
    principalId: `${s.roleId}:${s.session}`,
    arn: s.arn,
    accountId: ACCOUNT,
    accessKeyId: s.key,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: s.roleId, arn: s.roleArn, accountId: ACCOUNT, userName: s.role },
      attributes: { creationDate: '2024-11-05T13:55:12Z', mfaAuthenticated: 'false' },
      ...extra,
    },
  };
}

export interface CtOpts {
  source: string;
  name: string;
  time: string;
  identity: Record<string, unknown>;
  ip?: string;
  rp?: unknown;
  re?: unknown;
  errorCode?: string;
  region?: string;
  userAgent?: string;
  vpcEndpointId?: string;
}

export function ct(o: CtOpts): Record<string, unknown> {
  const r: Record<string, unknown> = {
    eventVersion: '1.09',
    userIdentity: o.identity,
    eventTime: o.time.replace(/\.\d+Z$/, 'Z'),
    eventSource: o.source,
    eventName: o.name,
    awsRegion: o.region ?? REGION,
    sourceIPAddress: o.ip ?? NAT_IP,
    userAgent: o.userAgent ?? 'Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.226 lang/python#3.12.7',
    requestParameters: o.rp ?? null,
    responseElements: o.re ?? null,
    requestID: id('req'),
    eventID: id('0f6c2a1e'),
    readOnly: /^(Get|List|Describe)/.test(o.name),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
  if (o.errorCode) r.errorCode = o.errorCode;
  if (o.vpcEndpointId) r.vpcEndpointId = o.vpcEndpointId;
  return r;
}

/** A pod's SDK exchanging its projected token for role credentials (IRSA). */
export function assumeWebIdentity(nsSa: string, role: string, sessionName: string, key: string, time: string, ip = NAT_IP, durationSeconds = 3600): Record<string, unknown> {
  const [ns, sa] = nsSa.split('/') as [string, string];
  const subject = `system:serviceaccount:${ns}:${sa}`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${role}`;
  return ct({
    source: 'sts.amazonaws.com',
    name: 'AssumeRoleWithWebIdentity',
    time,
    ip,
    identity: { type: 'WebIdentityUser', principalId: `${PROVIDER_ARN}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: PROVIDER_ARN },
    rp: { roleArn, roleSessionName: sessionName, durationSeconds },
    re: {
      credentials: { accessKeyId: key, sessionToken: 'IQoJb3JpZ2luX2VjEFIXTUREfixtureSessionTokenNotReal', expiration: 'Nov 5, 2024, 3:09:12 PM' },
      subjectFromWebIdentityToken: subject,
      assumedRoleUser: { assumedRoleId: `AROAIRSA:${sessionName}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${sessionName}` },
      provider: PROVIDER_ARN,
      audience: 'sts.amazonaws.com',
    },
  });
}

/** EKS Pod Identity: the agent's eks-auth call (from the node) and the sts:AssumeRole EKS makes with session tags. */
export function podIdentityAssume(nsSa: string, pod: string, role: string, key: string, time: string, nodeIp = NAT_IP): Record<string, unknown>[] {
  const [ns, sa] = nsSa.split('/') as [string, string];
  const sessionName = `eks-${CLUSTER}-${pod}-3f9a1c2e`.slice(0, 64);
  const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${sessionName}`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${role}`;
  const nodeRole = session('eks-node-role', 'i-0abc123def4567890', 'ASIAEXAMPLENODE00001');
  return [
    ct({
      source: 'sts.amazonaws.com',
      name: 'AssumeRole',
      time,
      ip: 'pods.eks.amazonaws.com',
      identity: { type: 'AWSService', invokedBy: 'pods.eks.amazonaws.com' },
      rp: {
        roleArn,
        roleSessionName: sessionName,
        durationSeconds: 21600,
        tags: [
          { key: 'eks-cluster-arn', value: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${CLUSTER}` },
          { key: 'eks-cluster-name', value: CLUSTER },
          { key: 'kubernetes-namespace', value: ns },
          { key: 'kubernetes-service-account', value: sa },
          { key: 'kubernetes-pod-name', value: pod },
          { key: 'kubernetes-pod-uid', value: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d' },
        ],
        transitiveTagKeys: ['eks-cluster-arn', 'eks-cluster-name', 'kubernetes-namespace', 'kubernetes-service-account', 'kubernetes-pod-name', 'kubernetes-pod-uid'],
      },
      re: { credentials: { accessKeyId: key, sessionToken: 'x', expiration: 'Nov 5, 2024, 8:09:12 PM' }, assumedRoleUser: { assumedRoleId: 'AROAPODID:' + sessionName, arn: sessionArn } },
      userAgent: 'pods.eks.amazonaws.com',
    }),
    ct({
      source: 'eks-auth.amazonaws.com',
      name: 'AssumeRoleForPodIdentity',
      time,
      ip: nodeIp,
      identity: assumedRoleIdentity(nodeRole),
      rp: { clusterName: CLUSTER, token: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
      re: {
        subject: { namespace: ns, serviceAccount: sa },
        audience: 'pods.eks.amazonaws.com',
        podIdentityAssociation: { associationArn: `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${CLUSTER}/a-abcdefgh12345678`, associationId: 'a-abcdefgh12345678' },
        assumedRoleUser: { arn: sessionArn, assumeRoleId: 'AROAPODID:' + sessionName },
        credentials: { accessKeyId: key, sessionToken: 'x', expiration: 'Nov 5, 2024, 8:09:12 PM' },
      },
      userAgent: 'aws-sdk-go-v2/1.30.3 eks-pod-identity-agent',
    }),
  ];
}

/** A call signed with a session's credentials. */
export function callAs(s: IamSession, source: string, name: string, time: string, ip = NAT_IP, rp: unknown = null, extra: Partial<CtOpts> = {}): Record<string, unknown> {
  return ct({ source, name, time, ip, identity: assumedRoleIdentity(s), rp, ...extra });
}

export function eksCall(s: IamSession, name: string, time: string, rp: Record<string, unknown>, re: unknown = null, ip = OFFICE_IP): Record<string, unknown> {
  return ct({ source: 'eks.amazonaws.com', name, time, ip, identity: assumedRoleIdentity(s), rp, re, userAgent: 'aws-cli/2.18.0 md/command#eks' });
}

// ── events ──────────────────────────────────────────────────────────────────────────────────────────────────

export function ev(raw: unknown, cluster: string | undefined = CLUSTER): SeamEvent {
  const r = normalizeRecord(raw, { collector: 'test', receivedAt: '2024-11-05T15:00:00.000Z', ...(cluster ? { cluster } : {}) });
  if (!r.ok) throw new Error(`test record does not normalize: ${r.error.message}`);
  return r.value;
}

/** Events of a fixture file (JSONL, or a CloudTrail `{"Records": [...]}` document). */
export function fixtureEvents(path: string, cluster: string | undefined = CLUSTER): SeamEvent[] {
  const text = readFileSync(new URL('../fixtures/' + path, import.meta.url), 'utf8');
  let records: unknown[];
  try {
    const doc = JSON.parse(text) as unknown;
    records = unwrapRecords(doc) ?? [doc];
  } catch {
    records = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  }
  return records.map((r) => ev(r, cluster));
}

/** Sorts events by time (fixtures mix planes) and stable on ties. */
export function byTime(events: SeamEvent[]): SeamEvent[] {
  return events.map((e, i) => ({ e, i })).sort((a, b) => Date.parse(a.e['@timestamp']) - Date.parse(b.e['@timestamp']) || a.i - b.i).map((x) => x.e);
}
