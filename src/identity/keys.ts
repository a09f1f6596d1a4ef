/**
 * Node keys. IAM principals are keyed by ARN (roles without their path, because aws-auth, access entries and
 * the EKS authenticator's `canonicalArn` all name roles that way); Kubernetes objects are keyed per cluster,
 * because `payments/api` in two clusters are two identities.
 */

/** Cluster name used when neither the record nor the collector says which cluster it came from. */
export const UNKNOWN_CLUSTER = 'unknown';

const ROLE_RE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const ASSUMED_RE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

/**
 * The few principals of a stream are parsed again and again (every event of a workload names its session and
 * role): each answer below is remembered per ARN string, up to MEMO_MAX of them (then the memo starts over).
 */
const MEMO_MAX = 4096;

function memo<T>(compute: (arn: string) => T): (arn: string) => T {
  let m = new Map<string, T>();
  return (arn) => {
    const hit = m.get(arn);
    if (hit !== undefined || m.has(arn)) return hit as T;
    const v = compute(arn);
    if (m.size >= MEMO_MAX) m = new Map();
    m.set(arn, v);
    return v;
  };
}

/** `arn:aws:iam::1:role/path/Name` → `arn:aws:iam::1:role/Name`; other ARNs unchanged. */
export const canonicalIamArn: (arn: string) => string = memo((arn) => {
  const m = ROLE_RE.exec(arn);
  return m === null ? arn : `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`;
});

interface Assumed {
  role: string;
  session: string;
}

/** An STS assumed-role ARN's role (as an IAM role ARN) and session name; undefined for any other ARN. */
const assumedOf = memo((arn): Assumed | undefined => {
  const m = ASSUMED_RE.exec(arn);
  return m === null ? undefined : { role: `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`, session: m[4]! };
});

/** The IAM role behind an STS assumed-role ARN (`arn:aws:sts::1:assumed-role/R/s` → `arn:aws:iam::1:role/R`). */
export function roleOfSession(arn: string): string | undefined {
  return assumedOf(arn)?.role;
}

export function sessionNameOf(arn: string): string | undefined {
  return assumedOf(arn)?.session;
}

export function isAssumedRoleArn(arn: string): boolean {
  return assumedOf(arn) !== undefined;
}

export function isRoleArn(arn: string): boolean {
  return ROLE_RE.test(arn);
}

export function roleNameOf(arn: string): string | undefined {
  return ROLE_RE.exec(arn)?.[3] ?? ASSUMED_RE.exec(arn)?.[3];
}

export function accountOfArn(arn: string): string | undefined {
  return /^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
}

/** `arn:aws:iam::<account>:role/<name>` from a role name (IAM events name roles, not ARNs). */
export function roleArnFromName(account: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/${name}`;
}

export const accessKeyKey = (id: string): string => `akid:${id}`;
export const clusterKey = (c: string): string => `eks:${c}`;
export const userKey = (c: string, name: string): string => `k8s:${c}:user:${name}`;
export const groupKey = (c: string, name: string): string => `k8s:${c}:group:${name}`;
export const saKey = (c: string, nsName: string): string => `k8s:${c}:sa:${nsName}`;
export const podKey = (c: string, nsName: string): string => `k8s:${c}:pod:${nsName}`;
export const ipKey = (ip: string): string => `ip:${ip}`;
export const oidcKey = (issuer: string): string => `oidc:${issuer}`;
export const accessPolicyKey = (name: string): string => `eks-access-policy:${name}`;
/** Role (namespaced) or ClusterRole key. */
export const rbacRoleKey = (c: string, kind: 'Role' | 'ClusterRole', name: string, ns?: string): string =>
  kind === 'Role' ? `k8s:${c}:role:${ns ?? ''}/${name}` : `k8s:${c}:clusterrole:${name}`;

const SA_USER = 'system:serviceaccount:';

/** `ns/name` → `system:serviceaccount:ns:name` (the other way: serviceAccountOf, core/normalize/principal.ts). */
export function usernameOfSa(nsName: string): string {
  const i = nsName.indexOf('/');
  return SA_USER + nsName.slice(0, i) + ':' + nsName.slice(i + 1);
}

/** The readable tail of a node key: `k8s:prod:sa:payments/api` → `payments/api`. */
export function nodeLabel(key: string): string {
  const m = /^k8s:[^:]*:[a-z]+:(.*)$/.exec(key);
  if (m !== null) return m[1] ?? key;
  const i = key.indexOf(':');
  return i > 0 && !key.startsWith('arn:') ? key.slice(i + 1) : key;
}

/** OIDC issuer host/path from a provider ARN or issuer URL: `oidc.eks.us-west-2.amazonaws.com/id/ABC`. */
export function issuerOf(providerOrUrl: string): string {
  const i = providerOrUrl.indexOf(':oidc-provider/');
  if (i >= 0) return providerOrUrl.slice(i + ':oidc-provider/'.length);
  return providerOrUrl.replace(/^https?:\/\//, '').replace(/\/$/, '');
}
