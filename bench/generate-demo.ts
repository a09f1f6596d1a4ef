/**
 * Generates the demo dataset `deploy/demo/eks-demo.jsonl` that `npm start` replays: ~30 minutes of
 * one EKS cluster (prod-eks-01, account 111122223333, us-west-2) across all four planes — benign
 * control-plane noise, deployments, IRSA credential refreshes and app telemetry, with one intrusion
 * woven through it:
 *
 *   14:09 alice execs into payments/api → shell in the container (Falco + sidecar) → the pod's IRSA
 *   token is read and used from outside the cluster (AssumeRoleWithWebIdentity from 198.51.100.23) →
 *   GetCallerIdentity, a denied iam:ListUsers, GetSecretValue → the stolen role lists Secrets → alice
 *   grants the IRSA role cluster admin (CreateAccessEntry + AssociateAccessPolicy) and edits aws-auth
 *   to map ci-deployer to system:masters → a privileged pod → GuardDuty findings.
 *
 * Deterministic (seeded), so the committed file only changes when this script does. It lives in
 * bench/ because every file under deploy/demo/ is replayed as input.
 *
 *   node bin/tsx-run.mjs bench/generate-demo.ts [out=deploy/demo/eks-demo.jsonl]
 */
import { writeFileSync } from 'node:fs';

type Rec = Record<string, unknown>;
const OUT = process.argv[2] ?? 'deploy/demo/eks-demo.jsonl';
const ACCT = '111122223333';
const REGION = 'us-west-2';
const CLUSTER = 'prod-eks-01';
const OIDC = `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
const T0 = Date.UTC(2024, 10, 5, 14, 0, 0);

// Small deterministic PRNG (mulberry32).
let seed = 0x5ea3;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const iso = (ms: number, digits = 3): string => {
  const s = new Date(ms).toISOString();
  return digits === 3 ? s : digits === 0 ? s.slice(0, 19) + 'Z' : s.slice(0, 23) + hex(digits - 3).replace(/[a-f]/g, '7') + 'Z';
};

const events: { t: number; rec: Rec }[] = [];
const emit = (t: number, rec: Rec): void => {
  events.push({ t, rec });
};

// ---------- Kubernetes audit ----------
interface K8sUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}
const iamExtra = (role: string, session: string, key: string, roleId: string): Record<string, string[]> => ({
  accessKeyId: [key],
  arn: [`arn:aws:sts::${ACCT}:assumed-role/${role}/${session}`],
  canonicalArn: [`arn:aws:iam::${ACCT}:role/${role}`],
  principalId: [`${roleId}:${session}`],
  sessionName: [session],
});
const ALICE: K8sUser = {
  username: `arn:aws:sts::${ACCT}:assumed-role/PlatformAdmin/alice@example.com`,
  uid: `aws-iam-authenticator:${ACCT}:AROAEXAMPLEADMIN00001`,
  groups: ['system:authenticated'],
  extra: iamExtra('PlatformAdmin', 'alice@example.com', 'ASIAEXAMPLEALICE0001', 'AROAEXAMPLEADMIN00001'),
};
const CI: K8sUser = {
  username: 'ci-deployer',
  uid: `aws-iam-authenticator:${ACCT}:AROAEXAMPLECIDEPLOY1`,
  groups: ['system:authenticated', 'deployers'],
  extra: iamExtra('ci-deployer', 'gha-run-4711', 'ASIAEXAMPLECIDEPLOY1', 'AROAEXAMPLECIDEPLOY1'),
};
const NODES = ['fargate-ip-10-0-142-21', 'fargate-ip-10-0-151-8', 'fargate-ip-10-0-163-77'].map((n) => `${n}.${REGION}.compute.internal`);
const nodeUser = (node: string): K8sUser => ({
  username: `system:node:${node}`,
  uid: `aws-iam-authenticator:${ACCT}:AROAEXAMPLEFARGATE01`,
  groups: ['system:bootstrappers', 'system:nodes', 'system:node-proxier'],
  extra: iamExtra('eks-fargate-pod-execution-role', '1730815500000000000', 'ASIAEXAMPLEFARGATE01', 'AROAEXAMPLEFARGATE01'),
});
const sa = (ns: string, name: string, pod?: string, node?: string): K8sUser => ({
  username: `system:serviceaccount:${ns}:${name}`,
  uid: uuid(),
  groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
  ...(pod ? { extra: { 'authentication.kubernetes.io/pod-name': [pod], ...(node ? { 'authentication.kubernetes.io/node-name': [node] } : {}) } } : {}),
});
const eksUser = (name: string): K8sUser => ({ username: name, uid: name, groups: ['system:authenticated'] });
const KUBECTL = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
const PAYMENTS_POD = 'api-7c9d8f6b5-x2k4q';

interface AuditOpts {
  user: K8sUser;
  verb: string;
  uri: string;
  ref?: Rec;
  code?: number;
  ip?: string;
  ua?: string;
  level?: string;
  decision?: string;
  reason?: string;
  requestObject?: unknown;
  responseObject?: unknown;
}
function audit(t: number, o: AuditOpts): void {
  const code = o.code ?? 200;
  const rec: Rec = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: o.level ?? 'Metadata',
    auditID: uuid(),
    stage: 'ResponseComplete',
    requestURI: o.uri,
    verb: o.verb,
    user: o.user,
    sourceIPs: [o.ip ?? '10.0.101.17'],
    userAgent: o.ua ?? KUBECTL,
    ...(o.ref ? { objectRef: o.ref } : {}),
    responseStatus: code >= 400 ? { metadata: {}, status: 'Failure', reason: code === 403 ? 'Forbidden' : 'NotFound', code } : { metadata: {}, code },
    ...(o.requestObject !== undefined ? { requestObject: o.requestObject } : {}),
    ...(o.responseObject !== undefined ? { responseObject: o.responseObject } : {}),
    requestReceivedTimestamp: iso(t, 6),
    stageTimestamp: iso(t + 3 + Math.floor(rand() * 20), 6),
    annotations: { 'authorization.k8s.io/decision': o.decision ?? (code === 403 ? 'forbid' : 'allow'), 'authorization.k8s.io/reason': o.reason ?? '' },
  };
  // An upgraded session (exec, attach, port-forward: long-running requests) is logged when the 101 goes out
  // (ResponseStarted) and again when it closes (ResponseComplete), under one auditID. The earlier stamp takes
  // no random number, so every later record of the file stays as it was.
  const sub = o.ref?.subresource;
  if (code === 101 && (sub === 'exec' || sub === 'attach' || sub === 'portforward')) {
    const complete = String(rec.stageTimestamp);
    emit(t, { ...rec, stage: 'ResponseStarted', stageTimestamp: new Date(t + 3).toISOString().slice(0, 23) + complete.slice(23) });
  }
  emit(t, rec);
}

// ---------- CloudTrail ----------
const BOTO = 'Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 Botocore/1.35.54';
const GOSDK = 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64';
const assumed = (role: string, session: string, key: string, roleId: string, path = ''): Rec => ({
  type: 'AssumedRole',
  principalId: `${roleId}:${session}`,
  arn: `arn:aws:sts::${ACCT}:assumed-role/${role}/${session}`,
  accountId: ACCT,
  accessKeyId: key,
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${ACCT}:role/${path}${role}`, accountId: ACCT, userName: role },
    attributes: { creationDate: iso(T0 - 600_000, 0), mfaAuthenticated: 'false' },
  },
});
const ALICE_AWS = assumed('PlatformAdmin', 'alice@example.com', 'ASIAEXAMPLEALICE0002', 'AROAEXAMPLEADMIN00001', `aws-reserved/sso.amazonaws.com/${REGION}/`);
const NODE_AWS = assumed('eks-fargate-pod-execution-role', '1730815500000000000', 'ASIAEXAMPLEFARGATE01', 'AROAEXAMPLEFARGATE01');

function trail(t: number, ui: Rec, source: string, name: string, o: { ip?: string; ua?: string; params?: Rec | null; resp?: Rec | null; error?: [string, string]; ro?: boolean; region?: string; resources?: Rec[] } = {}): void {
  emit(t, {
    eventVersion: '1.09',
    userIdentity: ui,
    eventTime: iso(t, 0),
    eventSource: source,
    eventName: name,
    awsRegion: o.region ?? REGION,
    sourceIPAddress: o.ip ?? '52.94.133.131',
    userAgent: o.ua ?? BOTO,
    ...(o.error ? { errorCode: o.error[0], errorMessage: o.error[1] } : {}),
    requestParameters: o.params ?? null,
    responseElements: o.resp ?? null,
    requestID: uuid(),
    eventID: uuid(),
    readOnly: o.ro ?? true,
    ...(o.resources ? { resources: o.resources } : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCT,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${source.split('.')[0]}.${REGION}.amazonaws.com` },
  });
}

/** IRSA: the SDK in the pod exchanges the projected token for role credentials. */
function irsa(t: number, ns: string, saName: string, role: string, ip: string, ua = BOTO): Rec {
  const session = `botocore-session-${Math.floor(t / 1000)}`;
  const key = `ASIA${hex(16).toUpperCase()}`;
  const roleId = `AROA${hex(17).toUpperCase()}`;
  const roleArn = `arn:aws:iam::${ACCT}:role/${role}`;
  trail(t, { type: 'WebIdentityUser', principalId: `arn:aws:iam::${ACCT}:oidc-provider/${OIDC}:sts.amazonaws.com:system:serviceaccount:${ns}:${saName}`, userName: `system:serviceaccount:${ns}:${saName}`, identityProvider: `arn:aws:iam::${ACCT}:oidc-provider/${OIDC}` }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
    ip,
    ua,
    params: { roleArn, roleSessionName: session, durationSeconds: 3600 },
    resp: {
      credentials: { accessKeyId: key, sessionToken: `IQoJb3JpZ2luX2VjE${hex(60)}`, expiration: new Date(t + 3_600_000).toUTCString() },
      subjectFromWebIdentityToken: `system:serviceaccount:${ns}:${saName}`,
      assumedRoleUser: { assumedRoleId: `${roleId}:${session}`, arn: `arn:aws:sts::${ACCT}:assumed-role/${role}/${session}` },
      provider: `arn:aws:iam::${ACCT}:oidc-provider/${OIDC}`,
      audience: 'sts.amazonaws.com',
    },
    resources: [{ accountId: ACCT, type: 'AWS::IAM::Role', ARN: roleArn }],
  });
  const ui = assumed(role, session, key, roleId);
  (ui.sessionContext as Rec).webIdFederationData = { federatedProvider: `arn:aws:iam::${ACCT}:oidc-provider/${OIDC}`, attributes: {} };
  return ui;
}

// ---------- runtime ----------
function native(t: number, ns: string, pod: string, saName: string, node: string, kind: string, body: Rec, proc?: Rec): void {
  emit(t, {
    schema: 'seam.runtime/v1',
    id: `01JBX${hex(21).toUpperCase()}`,
    time: iso(t),
    kind,
    cluster: CLUSTER,
    account: ACCT,
    region: REGION,
    namespace: ns,
    pod,
    container: pod.split('-')[0],
    service_account: saName,
    node,
    sensor: { name: 'seam-sidecar', version: '0.1.0' },
    ...(proc ? { process: proc } : {}),
    [kind]: body,
  });
}
function falco(t: number, rule: string, priority: string, tags: string[], msg: string, fields: Rec): void {
  const ns = String(fields['k8s.ns.name']);
  const pod = String(fields['k8s.pod.name']);
  emit(t, {
    uuid: uuid(),
    output: `${new Date(t).toISOString().slice(11, 23)}000000: ${priority} ${msg} (k8s_ns=${ns} k8s_pod_name=${pod})`,
    priority,
    rule,
    source: 'syscall',
    tags,
    time: iso(t, 9),
    hostname: NODES[0],
    output_fields: fields,
  });
}

// ---------- GuardDuty (EventBridge) ----------
function finding(t: number, type: string, severity: number, title: string, user: Rec, action: Rec, workload?: Rec, description = `${title} Cluster ${CLUSTER}.`): void {
  const id = hex(32);
  const at = iso(t);
  emit(t + 300_000, {
    version: '0',
    id: uuid(),
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: ACCT,
    time: iso(t + 300_000, 0),
    region: REGION,
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: ACCT,
      region: REGION,
      partition: 'aws',
      id,
      arn: `arn:aws:guardduty:${REGION}:${ACCT}:detector/12abc34d567e8fa901bc2d34eexample/finding/${id}`,
      type,
      resource: {
        resourceType: 'EKSCluster',
        eksClusterDetails: { name: CLUSTER, arn: `arn:aws:eks:${REGION}:${ACCT}:cluster/${CLUSTER}`, vpcId: 'vpc-0a1b2c3d4e5f67890', status: 'ACTIVE', createdAt: '2024-03-14T09:26:53.000Z' },
        kubernetesDetails: { kubernetesUserDetails: user, ...(workload ? { kubernetesWorkloadDetails: workload } : {}) },
      },
      service: {
        serviceName: 'guardduty',
        detectorId: '12abc34d567e8fa901bc2d34eexample',
        action: { actionType: 'KUBERNETES_API_CALL', kubernetesApiCallAction: action },
        resourceRole: 'TARGET',
        additionalInfo: { value: '{}', type: 'default' },
        featureName: 'EksAuditLogs',
        eventFirstSeen: at,
        eventLastSeen: at,
        archived: false,
        count: 1,
      },
      severity,
      createdAt: iso(t + 240_000),
      updatedAt: iso(t + 240_000),
      title,
      description,
    },
  });
}

// ================= benign background, 14:00–14:30 =================
const END = T0 + 30 * 60_000;
for (let t = T0; t < END; t += 10_000 + Math.floor(rand() * 2000)) {
  // Leader-election leases and controller chatter every ~10 s.
  audit(t, { user: eksUser('eks:kube-controller-manager'), verb: 'update', uri: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager', ref: { resource: 'leases', namespace: 'kube-system', name: 'kube-controller-manager', apiGroup: 'coordination.k8s.io', apiVersion: 'v1' }, ua: 'kube-controller-manager/v1.30.4 (linux/amd64) kubernetes/a737599/leader-election' });
  if (rand() < 0.5) {
    const node = pick(NODES);
    audit(t + 2500, { user: nodeUser(node), verb: 'patch', uri: `/api/v1/nodes/${node}/status?timeout=10s`, ref: { resource: 'nodes', name: node, apiVersion: 'v1', subresource: 'status' }, ip: '10.0.142.21', ua: 'kubelet/v1.30.4-eks-a737599 (linux/amd64) kubernetes/a737599' });
  }
}
for (let t = T0 + 20_000; t < END; t += 60_000 + Math.floor(rand() * 20_000)) {
  audit(t, { user: eksUser('eks:certificate-controller'), verb: 'list', uri: '/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=500', ref: { resource: 'certificatesigningrequests', apiGroup: 'certificates.k8s.io', apiVersion: 'v1' }, ua: 'eks-certificate-controller/v0.0.0 (linux/amd64) kubernetes/$Format' });
  audit(t + 700, { user: sa('kube-system', 'coredns'), verb: 'watch', uri: '/apis/discovery.k8s.io/v1/endpointslices?allowWatchBookmarks=true&watch=true', ref: { resource: 'endpointslices', apiGroup: 'discovery.k8s.io', apiVersion: 'v1' }, ip: '10.0.151.8', ua: 'coredns/v1.11.3-eksbuild.1 (linux/amd64) kubernetes/$Format' });
  trail(t + 1500, NODE_AWS, 'ecr.amazonaws.com', 'GetAuthorizationToken', { ip: '10.0.142.21', ua: 'aws-sdk-go-v2/1.30.3 ecr-credential-provider' });
  native(t + 4000, 'checkout', 'web-5f7b9c8d4-q8w2e', 'checkout-web', NODES[1] as string, 'dns', { query: 'dynamodb.us-west-2.amazonaws.com', qtype: 'A', rcode: 'NOERROR', answers: ['3.218.182.10'], server: '172.20.0.10' }, { pid: 7, exe: '/usr/local/bin/node', uid: 1000 });
  native(t + 4100, 'checkout', 'web-5f7b9c8d4-q8w2e', 'checkout-web', NODES[1] as string, 'network', { direction: 'egress', protocol: 'tcp', src_ip: '10.0.151.8', src_port: 40000 + Math.floor(rand() * 20000), dst_ip: '3.218.182.10', dst_port: 443 }, { pid: 7, exe: '/usr/local/bin/node', uid: 1000 });
}
for (let t = T0 + 45_000; t < END; t += 240_000) {
  audit(t, { user: eksUser('eks:addon-manager'), verb: 'get', uri: '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', ref: { resource: 'daemonsets', namespace: 'kube-system', name: 'aws-node', apiGroup: 'apps', apiVersion: 'v1' }, ua: 'eks-addon-manager/v1.0.0' });
  trail(t + 3000, { type: 'AWSService', invokedBy: 'eks.amazonaws.com' }, 'sts.amazonaws.com', 'AssumeRole', { ip: 'eks.amazonaws.com', ua: 'eks.amazonaws.com', params: { roleArn: `arn:aws:iam::${ACCT}:role/eks-cluster-role`, roleSessionName: 'EKS' }, resp: { credentials: { accessKeyId: `ASIA${hex(16).toUpperCase()}`, sessionToken: `IQoJb3JpZ2luX2VjEKS${hex(60)}`, expiration: new Date(t + 3_600_000).toUTCString() } } });
}
// Apps refreshing IRSA credentials and using them.
for (let t = T0 + 90_000; t < END; t += 300_000) {
  const ui = irsa(t, 'checkout', 'checkout-web', 'checkout-web-irsa', '10.0.151.8');
  for (let k = 0; k < 4; k++) trail(t + 2000 + k * 40_000, ui, 'dynamodb.amazonaws.com', 'DescribeTable', { ip: '10.0.151.8', params: { tableName: 'orders' } });
}
{
  // The payments app's normal credential refresh (from inside the VPC).
  const ui = irsa(T0 + 120_000, 'payments', 'api', 'payments-api-irsa', '10.0.142.21', GOSDK);
  trail(T0 + 125_000, ui, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: '10.0.142.21', ua: GOSDK, params: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCT}:secret:prod/payments/db-Q1w2E3` } });
}
// People: alice browsing, CI deploying.
for (let t = T0 + 150_000; t < END; t += 180_000 + Math.floor(rand() * 60_000)) {
  const ns = pick(['payments', 'checkout', 'search']);
  audit(t, { user: ALICE, verb: pick(['list', 'get']), uri: `/api/v1/namespaces/${ns}/pods?limit=500`, ref: { resource: 'pods', namespace: ns, apiVersion: 'v1' }, ip: '203.0.113.24' });
  trail(t + 5000, ALICE_AWS, 'eks.amazonaws.com', 'DescribeCluster', { ip: '203.0.113.24', ua: 'aws-cli/2.18.0 md/command#eks.describe-cluster', params: { name: CLUSTER } });
}
// The same CI run before and after alice maps its role to system:masters in aws-auth (14:15:35): the EKS
// authenticator lists the groups the mapping gives, so the later request carries system:masters (and no longer
// deployers, which the new mapping dropped). Seam's first-use alert waits for a request that carries the new group.
for (const t of [T0 + 240_000, T0 + 1_380_000]) {
  const user: K8sUser = t < T0 + 15 * 60_000 ? CI : { ...CI, groups: ['system:masters', 'system:authenticated'] };
  audit(t, { user, verb: 'patch', uri: '/apis/apps/v1/namespaces/checkout/deployments/web?fieldManager=kubectl-client-side-apply', ref: { resource: 'deployments', namespace: 'checkout', name: 'web', apiGroup: 'apps', apiVersion: 'v1' }, ip: '198.51.100.77', ua: 'kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8' });
  native(t + 30_000, 'checkout', 'web-5f7b9c8d4-q8w2e', 'checkout-web', NODES[1] as string, 'process', { pid: 1, ppid: 0, exe: '/usr/local/bin/node', cmdline: 'node /app/server.js', uid: 1000, user: 'node' });
}

// ================= the intrusion =================
const A = T0 + 9 * 60_000;
const api = { 'k8s.ns.name': 'payments', 'k8s.pod.name': PAYMENTS_POD, 'container.name': 'api', 'container.id': '0f1e2d3c4b5a' };
audit(A, { user: ALICE, verb: 'create', uri: `/api/v1/namespaces/payments/pods/${PAYMENTS_POD}/exec?command=sh&command=-c&command=cat+%2Fvar%2Frun%2Fsecrets%2Feks.amazonaws.com%2Fserviceaccount%2Ftoken&container=api&stderr=true&stdout=true`, ref: { resource: 'pods', namespace: 'payments', name: PAYMENTS_POD, apiVersion: 'v1', subresource: 'exec' }, code: 101, ip: '203.0.113.24' });
falco(A + 600, 'Terminal shell in container', 'Notice', ['T1059', 'container', 'mitre_execution', 'shell'], 'A shell was spawned in a container with an attached terminal', { ...api, 'proc.cmdline': 'sh -c cat /var/run/secrets/eks.amazonaws.com/serviceaccount/token', 'proc.exepath': '/bin/sh', 'proc.name': 'sh', 'user.uid': 0 });
native(A + 610, 'payments', PAYMENTS_POD, 'api', NODES[0] as string, 'process', { pid: 412, ppid: 1, exe: '/bin/sh', cmdline: 'sh -c cat /var/run/secrets/eks.amazonaws.com/serviceaccount/token', uid: 0, user: 'root' });
native(A + 650, 'payments', PAYMENTS_POD, 'api', NODES[0] as string, 'file', { op: 'open', path: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', flags: 'O_RDONLY' }, { pid: 413, ppid: 412, exe: '/bin/cat', uid: 0 });
falco(A + 660, 'Read sensitive file untrusted', 'Warning', ['T1555', 'container', 'filesystem', 'mitre_credential_access'], 'Sensitive file opened for reading by non-trusted program', { ...api, 'fd.name': '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', 'proc.cmdline': 'cat /var/run/secrets/eks.amazonaws.com/serviceaccount/token', 'proc.exepath': '/bin/cat', 'proc.name': 'cat', 'user.uid': 0 });
// The token is used from outside the cluster.
const X = A + 95_000;
const stolen = irsa(X, 'payments', 'api', 'payments-api-irsa', '198.51.100.23', 'aws-cli/2.18.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/command#sts.assume-role-with-web-identity');
const attackerUa = 'aws-cli/2.18.0 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6';
trail(X + 9_000, stolen, 'sts.amazonaws.com', 'GetCallerIdentity', { ip: '198.51.100.23', ua: attackerUa + ' md/command#sts.get-caller-identity' });
trail(X + 21_000, stolen, 'iam.amazonaws.com', 'ListUsers', { ip: '198.51.100.23', ua: attackerUa, region: 'us-east-1', error: ['AccessDenied', `User: ${String(stolen.arn)} is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${ACCT}:user/ because no identity-based policy allows the iam:ListUsers action`] });
trail(X + 34_000, stolen, 'secretsmanager.amazonaws.com', 'ListSecrets', { ip: '198.51.100.23', ua: attackerUa });
trail(X + 41_000, stolen, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: '198.51.100.23', ua: attackerUa, params: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCT}:secret:prod/payments/stripe-AbCdEf` } });
// ...and against the Kubernetes API with the role's session (mapped via an access entry that does not exist yet: 401/403).
const stolenK8s: K8sUser = { username: String(stolen.arn), uid: `aws-iam-authenticator:${ACCT}:${String(stolen.principalId).split(':')[0]}`, groups: ['system:authenticated'], extra: iamExtra('payments-api-irsa', String(stolen.arn).split('/').pop() as string, String(stolen.accessKeyId), String(stolen.principalId).split(':')[0] as string) };
audit(X + 60_000, { user: stolenK8s, verb: 'list', uri: '/api/v1/namespaces/payments/secrets', ref: { resource: 'secrets', namespace: 'payments', apiVersion: 'v1' }, code: 403, ip: '198.51.100.23' });
// Alice (whose laptop is the foothold) hands the role cluster admin.
const G = X + 240_000;
const principalArn = `arn:aws:iam::${ACCT}:role/payments-api-irsa`;
trail(G, ALICE_AWS, 'eks.amazonaws.com', 'CreateAccessEntry', { ip: '203.0.113.24', ua: 'aws-cli/2.18.0 md/command#eks.create-access-entry', ro: false, params: { name: CLUSTER, principalArn, type: 'STANDARD' }, resp: { accessEntry: { clusterName: CLUSTER, principalArn, kubernetesGroups: [], type: 'STANDARD', username: `arn:aws:sts::${ACCT}:assumed-role/payments-api-irsa/{{SessionName}}` } } });
trail(G + 14_000, ALICE_AWS, 'eks.amazonaws.com', 'AssociateAccessPolicy', { ip: '203.0.113.24', ua: 'aws-cli/2.18.0 md/command#eks.associate-access-policy', ro: false, params: { name: CLUSTER, principalArn, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster', namespaces: [] } } });
const mapRoles = `- rolearn: arn:aws:iam::${ACCT}:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n- rolearn: arn:aws:iam::${ACCT}:role/ci-deployer\n  username: ci-deployer\n  groups:\n  - system:masters\n`;
audit(G + 60_000, { user: ALICE, verb: 'update', uri: '/api/v1/namespaces/kube-system/configmaps/aws-auth?fieldManager=kubectl-edit', ref: { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', apiVersion: 'v1' }, ip: '203.0.113.24', level: 'RequestResponse', requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles } }, responseObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles } } });
// Now the stolen session can read Secrets.
audit(G + 90_000, { user: stolenK8s, verb: 'list', uri: '/api/v1/namespaces/payments/secrets', ref: { resource: 'secrets', namespace: 'payments', apiVersion: 'v1' }, ip: '198.51.100.23', level: 'RequestResponse', reason: 'EKS Access Policy: allowed by ClusterRoleBinding "arn:aws:iam::111122223333:role/payments-api-irsa+arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" of ClusterRole "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"', responseObject: { kind: 'SecretList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'db-credentials', namespace: 'payments' }, type: 'Opaque', data: { password: 'ZGVtby1wYXNzd29yZC1ub3QtcmVhbA==' } }] } });
// A privileged pod for persistence.
audit(G + 130_000, { user: stolenK8s, verb: 'create', uri: '/api/v1/namespaces/kube-system/pods', ref: { resource: 'pods', namespace: 'kube-system', name: 'node-debugger', apiVersion: 'v1' }, code: 201, ip: '198.51.100.23', level: 'Request', requestObject: { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'node-debugger', namespace: 'kube-system' }, spec: { hostPID: true, hostNetwork: true, containers: [{ name: 'shell', image: 'public.ecr.aws/docker/library/alpine:3.20', command: ['sleep', 'infinity'], securityContext: { privileged: true } }] } } });
const gdUser = { username: String(stolen.arn), uid: stolenK8s.uid, groups: ['system:authenticated'], sessionName: [String(stolen.arn).split('/').pop()] };
finding(G + 130_000, 'PrivilegeEscalation:Kubernetes/PrivilegedContainer', 5, 'Privileged container with root level access launched on EKS Cluster.', gdUser, { requestUri: '/api/v1/namespaces/kube-system/pods', verb: 'create', sourceIPs: ['198.51.100.23'], userAgent: attackerUa, remoteIpDetails: { ipAddressV4: '198.51.100.23' }, statusCode: 201, resource: 'pods', namespace: 'kube-system', resourceName: 'node-debugger' }, { name: 'node-debugger', type: 'pods', namespace: 'kube-system', hostNetwork: true, hostPID: true, containers: [{ name: 'shell', image: 'public.ecr.aws/docker/library/alpine:3.20', securityContext: { privileged: true } }] });
finding(A, 'Execution:Kubernetes/AnomalousBehavior.ExecInPod', 5, 'Command executed inside a pod in an anomalous way.', { username: ALICE.username, uid: ALICE.uid, groups: ALICE.groups, sessionName: ['alice@example.com'] }, { requestUri: `/api/v1/namespaces/payments/pods/${PAYMENTS_POD}/exec`, verb: 'create', sourceIPs: ['203.0.113.24'], userAgent: KUBECTL, remoteIpDetails: { ipAddressV4: '203.0.113.24' }, statusCode: 101, resource: 'pods', subresource: 'exec', namespace: 'payments', resourceName: PAYMENTS_POD }, undefined, `A command was executed inside pod payments/${PAYMENTS_POD} in an anomalous way. Cluster ${CLUSTER}.`);
// Background anonymous scanning that GuardDuty also flags.
audit(T0 + 1_500_000, { user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, verb: 'get', uri: '/version', ip: '192.0.2.201', ua: 'python-requests/2.31.0', reason: 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer"' });
audit(T0 + 1_502_000, { user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, verb: 'list', uri: '/api/v1/secrets', ref: { resource: 'secrets', apiVersion: 'v1' }, code: 403, ip: '192.0.2.201', ua: 'python-requests/2.31.0' });

events.sort((a, b) => a.t - b.t);
writeFileSync(OUT, events.map((e) => JSON.stringify(e.rec)).join('\n') + '\n');
const count = (p: (r: Rec) => boolean): number => events.filter((e) => p(e.rec)).length;
console.log(
  `wrote ${events.length} events to ${OUT}: audit=${count((r) => r.kind === 'Event')} cloudtrail=${count((r) => r.eventVersion !== undefined)} guardduty=${count((r) => r.source === 'aws.guardduty')} runtime=${count((r) => r.schema !== undefined || r.rule !== undefined)}`,
);
