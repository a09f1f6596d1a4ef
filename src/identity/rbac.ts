/**
 * Kubernetes RBAC objects as the graph stores them, the default ClusterRoles every cluster has (their
 * creation is never audited, so the graph knows them up front), and the meaning of EKS access policies.
 */
import { strs } from '../core/values.ts';

export interface RbacRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  /** ServiceAccount namespace. */
  namespace?: string;
}

export interface RbacBinding {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace?: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: RbacSubject[];
}

export function parseRules(v: unknown): RbacRule[] {
  if (!Array.isArray(v)) return [];
  const out: RbacRule[] = [];
  for (const r of v) {
    if (r === null || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    const rule: RbacRule = { verbs: strs(o.verbs), apiGroups: strs(o.apiGroups), resources: strs(o.resources) };
    const names = strs(o.resourceNames);
    if (names.length > 0) rule.resourceNames = names;
    const urls = strs(o.nonResourceURLs);
    if (urls.length > 0) rule.nonResourceURLs = urls;
    out.push(rule);
  }
  return out;
}

export function parseBinding(o: Record<string, unknown>): RbacBinding | undefined {
  const kind = o.kind;
  if (kind !== 'RoleBinding' && kind !== 'ClusterRoleBinding') return undefined;
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const ref = (o.roleRef ?? {}) as Record<string, unknown>;
  if (typeof meta.name !== 'string' || typeof ref.name !== 'string') return undefined;
  const refKind = ref.kind === 'Role' ? 'Role' : 'ClusterRole';
  const subjects: RbacSubject[] = [];
  if (Array.isArray(o.subjects)) {
    for (const s of o.subjects) {
      if (s === null || typeof s !== 'object') continue;
      const so = s as Record<string, unknown>;
      if ((so.kind === 'User' || so.kind === 'Group' || so.kind === 'ServiceAccount') && typeof so.name === 'string') {
        const sub: RbacSubject = { kind: so.kind, name: so.name };
        const ns = typeof so.namespace === 'string' ? so.namespace : kind === 'RoleBinding' ? (meta.namespace as string | undefined) : undefined;
        if (so.kind === 'ServiceAccount' && ns !== undefined) sub.namespace = ns;
        subjects.push(sub);
      }
    }
  }
  const b: RbacBinding = { kind, name: meta.name, roleRef: { kind: refKind, name: ref.name }, subjects };
  if (kind === 'RoleBinding' && typeof meta.namespace === 'string') b.namespace = meta.namespace;
  return b;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const CORE_WORKLOAD = [
  'pods',
  'pods/log',
  'pods/status',
  'services',
  'endpoints',
  'persistentvolumeclaims',
  'configmaps',
  'replicationcontrollers',
  'serviceaccounts',
  'events',
];
const APPS = ['deployments', 'daemonsets', 'replicasets', 'statefulsets', 'deployments/scale', 'replicasets/scale', 'statefulsets/scale'];
const GROUPS = ['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy', 'extensions', 'discovery.k8s.io'];
const EXEC = ['pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'services/proxy'];

/** The upstream default ClusterRoles, as rule sets close enough to judge power (not byte-for-byte copies). */
export const BUILTIN_CLUSTER_ROLES: Record<string, RbacRule[]> = {
  'cluster-admin': [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verbs: ['*'], apiGroups: [], resources: [], nonResourceURLs: ['*'] },
  ],
  admin: [
    { verbs: [...READ, ...WRITE], apiGroups: GROUPS, resources: [...CORE_WORKLOAD, ...APPS, 'jobs', 'cronjobs', 'ingresses', 'networkpolicies', 'poddisruptionbudgets', 'horizontalpodautoscalers', 'secrets'] },
    { verbs: ['create', 'get'], apiGroups: [''], resources: EXEC },
    { verbs: ['impersonate', 'create'], apiGroups: [''], resources: ['serviceaccounts', 'serviceaccounts/token'] },
    { verbs: [...READ, ...WRITE], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'] },
    { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'] },
  ],
  edit: [
    { verbs: [...READ, ...WRITE], apiGroups: GROUPS, resources: [...CORE_WORKLOAD, ...APPS, 'jobs', 'cronjobs', 'ingresses', 'networkpolicies', 'poddisruptionbudgets', 'horizontalpodautoscalers', 'secrets'] },
    { verbs: ['create', 'get'], apiGroups: [''], resources: EXEC },
    { verbs: ['impersonate', 'create'], apiGroups: [''], resources: ['serviceaccounts', 'serviceaccounts/token'] },
  ],
  view: [{ verbs: READ, apiGroups: GROUPS, resources: [...CORE_WORKLOAD, ...APPS, 'jobs', 'cronjobs', 'ingresses', 'networkpolicies', 'poddisruptionbudgets', 'horizontalpodautoscalers', 'namespaces'] }],
};

/**
 * EKS access policies (`arn:aws:eks::aws:cluster-access-policy/<name>`), by their documented meaning:
 * ClusterAdmin is cluster-admin; Admin, Edit and View match the admin, edit and view ClusterRoles;
 * AdminView reads everything including Secrets.
 */
export const ACCESS_POLICIES: Record<string, { clusterRole: string; rules: RbacRule[]; clusterAdmin: boolean }> = {
  AmazonEKSClusterAdminPolicy: { clusterRole: 'cluster-admin', rules: BUILTIN_CLUSTER_ROLES['cluster-admin']!, clusterAdmin: true },
  AmazonEKSAdminPolicy: { clusterRole: 'admin', rules: BUILTIN_CLUSTER_ROLES.admin!, clusterAdmin: false },
  AmazonEKSEditPolicy: { clusterRole: 'edit', rules: BUILTIN_CLUSTER_ROLES.edit!, clusterAdmin: false },
  AmazonEKSViewPolicy: { clusterRole: 'view', rules: BUILTIN_CLUSTER_ROLES.view!, clusterAdmin: false },
  AmazonEKSAdminViewPolicy: { clusterRole: 'admin-view', rules: [{ verbs: READ, apiGroups: ['*'], resources: ['*'] }], clusterAdmin: false },
};

export function accessPolicyName(arn: string): string {
  const i = arn.lastIndexOf('/');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/** Grants every verb on every resource (cluster-admin's shape). */
export function isWildcardRule(r: RbacRule): boolean {
  return r.verbs.includes('*') && r.resources.includes('*') && (r.apiGroups.includes('*') || r.apiGroups.length === 0);
}

const ESCALATING = new Set(['escalate', 'bind', 'impersonate', '*']);
const SENSITIVE_RESOURCES = new Set(['secrets', '*', 'pods/exec', 'clusterrolebindings', 'rolebindings', 'clusterroles', 'roles', 'serviceaccounts/token', 'nodes/proxy']);

/** A rule that can write, read secrets, exec, or escalate: more than a read-only mapping should hold. */
export function isPowerfulRule(r: RbacRule): boolean {
  if (isWildcardRule(r)) return true;
  if (r.verbs.some((v) => ESCALATING.has(v))) return true;
  if (r.resources.some((x) => SENSITIVE_RESOURCES.has(x)) && r.verbs.some((v) => v !== 'watch')) return true;
  return r.verbs.some((v) => WRITE.includes(v));
}

export function ruleText(r: { verbs: string[]; resources: string[]; apiGroups: string[]; nonResourceURLs?: string[] }): string {
  if (r.nonResourceURLs !== undefined && r.resources.length === 0) return `${r.verbs.join(',')} ${r.nonResourceURLs.join(',')}`;
  const groups = r.apiGroups.map((g) => (g === '' ? 'core' : g)).join(',');
  return `${r.verbs.join(',')} ${r.resources.join(',')} [${groups}]`;
}

/** Rules in `after` that no rule in `before` covers (a widening). */
export function addedRules(before: readonly RbacRule[], after: readonly RbacRule[]): RbacRule[] {
  const covers = (a: RbacRule, b: RbacRule): boolean =>
    (a.verbs.includes('*') || b.verbs.every((v) => a.verbs.includes(v))) &&
    (a.resources.includes('*') || b.resources.every((v) => a.resources.includes(v))) &&
    (a.apiGroups.includes('*') || b.apiGroups.every((v) => a.apiGroups.includes(v)));
  return after.filter((b) => !before.some((a) => covers(a, b)));
}
