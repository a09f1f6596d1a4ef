/**
 * Realistic mixed EKS traffic for benchmarks, as JSON lines. Templates are the hand-written records
 * in test/fixtures/ (CloudTrail incl. AssumeRoleWithWebIdentity, GetCallerIdentity, Secrets Manager,
 * IAM and EKS calls; EKS audit events; GuardDuty findings; native and Falco runtime events), plus
 * control-plane noise derived from them (get/list/watch by system users, lease updates), varied per
 * line by id, time, principal and namespace. The mix is what a cluster's stream looks like: mostly
 * benign audit chatter, then CloudTrail, runtime telemetry and a trickle of findings.
 */
import { readFileSync } from 'node:fs';

export type Rec = Record<string, unknown>;

const FIX = new URL('../../test/fixtures/', import.meta.url);
const text = (p: string): string => readFileSync(new URL(p, FIX), 'utf8');
const jsonl = (p: string): Rec[] =>
  text(p)
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Rec);

export interface Templates {
  auditNoise: Rec[];
  auditActivity: Rec[];
  cloudtrailNoise: Rec[];
  cloudtrailActivity: Rec[];
  runtime: Rec[];
  guardduty: Rec[];
}

const SYSTEM_USERS = [
  'system:kube-controller-manager',
  'system:kube-scheduler',
  'system:serviceaccount:kube-system:coredns',
  'system:serviceaccount:kube-system:aws-node',
  'system:node:ip-10-0-31-7.us-west-2.compute.internal',
  'eks:cloud-controller-manager',
];
const NOISE_RESOURCES = ['pods', 'configmaps', 'endpoints', 'nodes', 'services', 'leases', 'endpointslices', 'replicasets', 'namespaces'];
const NOISE_VERBS = ['get', 'list', 'watch', 'watch', 'get', 'update'];
/** Read-only CloudTrail calls that make up most of an account's trail. */
const CT_NOISE = [
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'DescribeNetworkInterfaces'],
  ['eks.amazonaws.com', 'DescribeCluster'],
  ['eks.amazonaws.com', 'ListNodegroups'],
  ['kms.amazonaws.com', 'Decrypt'],
  ['s3.amazonaws.com', 'GetBucketAcl'],
  ['ecr.amazonaws.com', 'GetAuthorizationToken'],
  ['logs.amazonaws.com', 'DescribeLogStreams'],
  ['sts.amazonaws.com', 'AssumeRoleWithWebIdentity'],
  ['sts.amazonaws.com', 'GetCallerIdentity'],
] as const;

function unwrap(doc: unknown): Rec[] {
  if (Array.isArray(doc)) return doc as Rec[];
  const o = doc as Rec;
  for (const k of ['Records', 'Findings']) if (Array.isArray(o[k])) return o[k] as Rec[];
  return [o];
}

/** Reads the fixtures and derives the noise templates. */
export function loadTemplates(): Templates {
  const audit = jsonl('k8s-audit/eks-audit.jsonl');
  const cloudtrail = [...unwrap(JSON.parse(text('cloudtrail/s3-export.json'))), ...jsonl('cloudtrail/redaction-cases.jsonl')];
  const guardduty = [
    ...unwrap(JSON.parse(text('guardduty/get-findings-sdk.json'))),
    ...jsonl('guardduty/findings-rest.jsonl'),
    JSON.parse(text('guardduty/eventbridge-finding.json')) as Rec,
  ];
  const runtime = [...jsonl('runtime/native.jsonl'), ...jsonl('runtime/falco.jsonl')];

  // Control-plane chatter: the node's "get pods" record re-cast as other system users reading other resources.
  const base = audit.find((r) => r.verb === 'get' && String((r.user as Rec).username).startsWith('system:node')) ?? audit[0]!;
  const auditNoise: Rec[] = [];
  for (let u = 0; u < SYSTEM_USERS.length; u++) {
    for (let k = 0; k < NOISE_RESOURCES.length; k++) {
      const r = structuredClone(base);
      const res = NOISE_RESOURCES[k]!;
      const verb = NOISE_VERBS[(u + k) % NOISE_VERBS.length]!;
      r.verb = verb;
      (r.user as Rec).username = SYSTEM_USERS[u]!;
      (r.user as Rec).groups = ['system:authenticated'];
      const ref = (r.objectRef ?? {}) as Rec;
      ref.resource = res;
      r.objectRef = ref;
      r.requestURI = `/api/v1/namespaces/${String(ref.namespace ?? 'default')}/${res}${verb === 'watch' ? '?watch=true' : ''}`;
      r.userAgent = `kube-controller-manager/v1.30.4 (linux/amd64) kubernetes/${k}${u}`;
      auditNoise.push(r);
    }
  }
  const ctBase = cloudtrail.find((r) => r.eventName === 'GetCallerIdentity') ?? cloudtrail[0]!;
  const cloudtrailNoise = CT_NOISE.map(([src, name]) => {
    const r = structuredClone(ctBase);
    r.eventSource = src;
    r.eventName = name;
    r.readOnly = true;
    return r;
  });
  return {
    auditNoise,
    auditActivity: audit,
    cloudtrailNoise,
    cloudtrailActivity: cloudtrail,
    runtime,
    guardduty,
  };
}

const PRINCIPALS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'gha-run-4711', 'gha-run-4712', 'argo-sync', 'i-0a1b2c3d4e5f'];
const NAMESPACES = ['payments', 'checkout', 'search', 'kube-system', 'monitoring', 'default', 'batch'];

const hex = (n: number, w: number): string => (n >>> 0).toString(16).padStart(w, '0').slice(-w);
const uuid = (i: number): string => `${hex(i * 2654435761, 8)}-${hex(i, 4)}-4${hex(i >> 4, 3)}-8${hex(i * 7, 3)}-${hex(i * 40503, 8)}${hex(i, 4)}`;
const time = (i: number): string => new Date(Date.UTC(2024, 10, 5, 14) + i * 7).toISOString();

/** A copy of the template with this line's ids, times, principal and namespace. */
export function vary(t: Rec, i: number): Rec {
  const r = structuredClone(t);
  const who = PRINCIPALS[i % PRINCIPALS.length]!;
  const ns = NAMESPACES[(i >> 3) % NAMESPACES.length]!;
  if (r.auditID !== undefined) {
    r.auditID = uuid(i);
    r.requestReceivedTimestamp = time(i);
    r.stageTimestamp = time(i + 1);
    const user = r.user as Rec;
    if (typeof user.username === 'string' && user.username.includes('assumed-role')) user.username = user.username.replace(/[^/]+$/, who);
    const ref = r.objectRef as Rec | undefined;
    if (ref?.namespace !== undefined && ref.namespace !== 'kube-system') ref.namespace = ns;
  } else if (r.eventID !== undefined) {
    r.eventID = uuid(i);
    r.eventTime = time(i).slice(0, 19) + 'Z';
    const ui = r.userIdentity as Rec;
    if (typeof ui.arn === 'string' && ui.arn.includes('assumed-role')) ui.arn = ui.arn.replace(/[^/]+$/, who);
    r.sourceIPAddress = `10.0.${(i >> 8) & 255}.${i & 255}`;
  } else if (r.schema !== undefined) {
    r.id = uuid(i);
    r.time = time(i);
    r.namespace = ns;
    r.pod = `api-${hex(i, 5)}`;
  } else if (r.rule !== undefined) {
    r.uuid = uuid(i);
    r.time = time(i).replace('Z', '123456Z');
  } else if (r.detail !== undefined) {
    (r.detail as Rec).id = hex(i, 8) + hex(i * 31, 8);
    (r.detail as Rec).updatedAt = time(i);
  } else if (r.Id !== undefined) {
    r.Id = hex(i, 8) + hex(i * 31, 8);
    r.UpdatedAt = time(i);
  } else if (r.id !== undefined) {
    r.id = hex(i, 8) + hex(i * 31, 8);
    r.updatedAt = time(i);
  }
  return r;
}

/** Which template family line i draws from (per mille): 45% audit noise, 12% audit activity, 22% CloudTrail noise, 8% CloudTrail activity, 12% runtime, 1% GuardDuty. */
export function pick(t: Templates, i: number): Rec {
  const x = Math.imul(i + 1, 2654435761) >>> 0;
  const p = x % 1000;
  const from = (xs: Rec[]): Rec => xs[(x >>> 10) % xs.length]!;
  if (p < 450) return from(t.auditNoise);
  if (p < 570) return from(t.auditActivity);
  if (p < 790) return from(t.cloudtrailNoise);
  if (p < 870) return from(t.cloudtrailActivity);
  if (p < 990) return from(t.runtime);
  return from(t.guardduty);
}

/** `n` JSON lines of mixed traffic. */
export function generateLines(n: number): string[] {
  const t = loadTemplates();
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = JSON.stringify(vary(pick(t, i), i + 1));
  return out;
}
