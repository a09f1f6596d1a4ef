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

/** A rule row of an access-policy table: API groups, resources, verbs (`''` is the core group). */
function row(apiGroups: string[], resources: string[], verbs: string[], nonResourceURLs?: string[]): RbacRule {
  const r: RbacRule = { verbs, apiGroups, resources };
  if (nonResourceURLs !== undefined) r.nonResourceURLs = nonResourceURLs;
  return r;
}

const RWD = ['create', 'delete', 'deletecollection', 'patch', 'update'];
/** "Create, read, update, and delete" / "manage" in the EKS docs' prose. */
const MANAGE = ['create', 'get', 'list', 'watch', 'update', 'patch', 'delete'];
const APPS_WRITE = ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'];
const APPS_READ = ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'];
const EXT_WRITE = ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'];
const EXT_READ = ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'];
const CORE_READ = ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'];
const CORE_STATUS_READ = ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'];

/** AmazonEKSViewPolicy's table. */
const VIEW_POLICY: RbacRule[] = [
  row(['apps'], APPS_READ, READ),
  row(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  row(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  row(['discovery.k8s.io'], ['endpointslices'], READ),
  row(['extensions'], EXT_READ, READ),
  row(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
  row(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  row([''], CORE_READ, READ),
  row([''], CORE_STATUS_READ, READ),
  row([''], ['namespaces'], READ),
];

/** AmazonEKSEditPolicy's table: the view rows plus these. */
const EDIT_POLICY: RbacRule[] = [
  ...VIEW_POLICY,
  row(['apps'], APPS_WRITE, RWD),
  row(['autoscaling'], ['horizontalpodautoscalers'], RWD),
  row(['batch'], ['cronjobs', 'jobs'], RWD),
  row(['extensions'], EXT_WRITE, RWD),
  row(['networking.k8s.io'], ['ingresses', 'networkpolicies'], RWD),
  row(['policy'], ['poddisruptionbudgets'], RWD),
  row([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
  row([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], RWD),
  row([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], RWD),
  row([''], ['serviceaccounts'], ['impersonate']),
];

/** AmazonEKSAdminPolicy's table: the edit rows plus these. */
const ADMIN_POLICY: RbacRule[] = [
  ...EDIT_POLICY,
  row(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  row(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']),
];

export interface AccessPolicyMeaning {
  /**
   * `rule-table`: the rules are the table AWS publishes for the policy. `description`: AWS describes the policy in prose
   * only (resources and verbs, not always API groups or resource names); the rules are Seam's reading of it, with `*`
   * for an API group the text does not name, and no resource names where it says "specific" ones.
   */
  basis: 'rule-table' | 'description';
  rules: RbacRule[];
  /** Grants everything at cluster scope. */
  clusterAdmin: boolean;
  /** AWS: "designated for AWS service-linked roles only and cannot be used with customer-managed roles". */
  serviceLinkedOnly?: boolean;
  /** Where the meaning is documented. */
  source: 'eks-access-policy-permissions' | 'arc-region-switch-eks';
  /** What the rules leave out (scoping the prose mentions). */
  note?: string;
}

const TABLE = 'eks-access-policy-permissions' as const;

/**
 * EKS access policies (`arn:aws:eks::aws:cluster-access-policy/<name>`) and what they grant, from the EKS User Guide's
 * "Review access policy permissions" page (the version that added AmazonEKSSecretReaderPolicy, November 2025) and, for
 * AmazonARCRegionSwitchScalingPolicy, the ARC Region switch guide's "Amazon EKS resource scaling execution block".
 * A policy that is not here (AWS adds policies; AmazonEKSAutoNodePolicy and AmazonAIOpsAssistantPolicy are named but
 * their rules are not published) has unknown permissions: the graph keeps the association and says so
 * (`EffectivePermissions.unknownGrants`), and cluster-admin cannot be ruled out for it.
 */
export const ACCESS_POLICIES: Readonly<Record<string, AccessPolicyMeaning>> = {
  AmazonEKSClusterAdminPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: true, rules: [row(['*'], ['*'], ['*']), row([], [], ['*'], ['*'])] },
  AmazonEKSAdminPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, rules: ADMIN_POLICY },
  AmazonEKSEditPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, rules: EDIT_POLICY },
  AmazonEKSViewPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, rules: VIEW_POLICY },
  AmazonEKSAdminViewPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, rules: [row(['*'], ['*'], READ)] },
  AmazonEKSSecretReaderPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, rules: [row([''], ['secrets'], READ)] },
  AmazonEKSHybridPolicy: { basis: 'rule-table', source: TABLE, clusterAdmin: false, serviceLinkedOnly: true, rules: [row(['*'], ['nodes'], ['list'])] },
  AmazonARCRegionSwitchScalingPolicy: {
    basis: 'rule-table',
    source: 'arc-region-switch-eks',
    clusterAdmin: false,
    rules: [row(['*'], ['*/scale'], ['get', 'update']), row(['*'], ['*/status'], ['get']), row(['autoscaling'], ['horizontalpodautoscalers'], ['get', 'patch'])],
  },
  // EKS Auto Mode's cluster IAM role policies: described in prose only.
  AmazonEKSBlockStoragePolicy: { basis: 'description', source: TABLE, clusterAdmin: false, serviceLinkedOnly: true, rules: [row(['coordination.k8s.io'], ['leases'], MANAGE)], note: 'only the storage components\' own leases (names not published)' },
  AmazonEKSLoadBalancingPolicy: { basis: 'description', source: TABLE, clusterAdmin: false, rules: [row(['coordination.k8s.io'], ['leases'], MANAGE)], note: 'only the load balancing components\' own leases (names not published)' },
  AmazonEKSNetworkingPolicy: { basis: 'description', source: TABLE, clusterAdmin: false, rules: [row(['coordination.k8s.io'], ['leases'], MANAGE)], note: 'only the networking components\' own leases (names not published)' },
  AmazonEKSComputePolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    serviceLinkedOnly: true,
    rules: [row(['coordination.k8s.io'], ['leases'], MANAGE), row(['coordination.k8s.io'], ['leases'], ['get', 'watch'])],
    note: 'writes only the compute components\' own leases (names not published); get and watch on every lease',
  },
  AmazonEKSBlockStorageClusterPolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    serviceLinkedOnly: true,
    rules: [
      row(['storage.k8s.io'], ['csidrivers'], MANAGE),
      row([''], ['persistentvolumes'], ['list', 'watch', 'create', 'update', 'patch', 'delete']),
      row([''], ['persistentvolumeclaims'], ['list', 'watch', 'update']),
      row([''], ['persistentvolumeclaims/status'], ['patch']),
      row([''], ['nodes', 'pods'], READ),
      row(['*'], ['events'], MANAGE),
      row(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattributesclasses'], READ),
      row(['storage.k8s.io'], ['volumeattachments', 'volumeattachments/status'], ['list', 'watch', 'update', 'patch']),
      row(['snapshot.storage.k8s.io'], ['volumesnapshots', 'volumesnapshotcontents', 'volumesnapshotclasses'], MANAGE),
      row(['groupsnapshot.storage.k8s.io'], ['volumegroupsnapshots', 'volumegroupsnapshotcontents', 'volumegroupsnapshotclasses'], MANAGE),
    ],
    note: 'CSI drivers for block storage only',
  },
  AmazonEKSComputeClusterPolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    serviceLinkedOnly: true,
    rules: [
      row(['karpenter.sh'], ['nodepools', 'nodepools/status', 'nodeclaims', 'nodeclaims/status'], MANAGE),
      row(['eks.amazonaws.com'], ['nodeclasses'], MANAGE),
      row([''], ['pods', 'nodes', 'persistentvolumes', 'persistentvolumeclaims', 'replicationcontrollers', 'namespaces'], READ),
      row(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattachments'], READ),
      row(['apps'], ['deployments', 'daemonsets', 'replicasets', 'statefulsets'], ['list', 'watch']),
      row(['policy'], ['poddisruptionbudgets'], READ),
      row(['*'], ['events'], MANAGE),
      row([''], ['nodes'], ['update', 'patch', 'delete']),
      row([''], ['pods/eviction'], ['create']),
      row([''], ['pods'], ['delete']),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create']),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], MANAGE),
    ],
    note: 'CustomResourceDefinitions: any created, only the node-management ones (NodeClasses, NodePools, NodeClaims, NodeDiagnostics) managed',
  },
  AmazonEKSLoadBalancingClusterPolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    rules: [
      row(['*'], ['events'], ['create', 'patch']),
      row([''], ['pods', 'nodes', 'endpoints', 'namespaces'], READ),
      row([''], ['pods/status'], ['update']),
      row([''], ['services', 'services/status'], MANAGE),
      row(['networking.k8s.io'], ['ingresses', 'ingresses/status'], MANAGE),
      row(['discovery.k8s.io'], ['endpointslices'], READ),
      row(['networking.k8s.io'], ['ingressclasses'], READ),
      row(['eks.amazonaws.com'], ['targetgroupbindings', 'targetgroupbindings/status'], ['create', 'get', 'list', 'watch', 'update', 'patch']),
      row(['eks.amazonaws.com'], ['ingressclassparams'], READ),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create', 'get', 'list', 'watch']),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['update', 'patch', 'delete']),
      row(['admissionregistration.k8s.io'], ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], ['create', 'get', 'list', 'watch']),
      row(['admissionregistration.k8s.io'], ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], ['update', 'patch', 'delete']),
    ],
    note: 'CRD changes only to targetgroupbindings.eks.amazonaws.com and ingressclassparams.eks.amazonaws.com; webhook changes only to eks-load-balancing-webhook',
  },
  AmazonEKSNetworkingClusterPolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    rules: [
      row(['eks.amazonaws.com'], ['nodeclasses', 'nodeclasses/status'], READ),
      row(['karpenter.sh'], ['nodeclaims', 'nodeclaims/status'], READ),
      row([''], ['pods'], READ),
      row(['eks.amazonaws.com'], ['cninodes', 'cninodes/status'], MANAGE),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create', 'get', 'list', 'watch']),
      row(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['update', 'patch', 'delete']),
      row(['*'], ['events'], ['create', 'patch']),
    ],
    note: 'CRD changes only to cninodes.eks.amazonaws.com',
  },
  AmazonEKSClusterInsightsPolicy: {
    basis: 'description',
    source: TABLE,
    clusterAdmin: false,
    serviceLinkedOnly: true,
    rules: [row([''], ['nodes'], ['get', 'list']), row([''], ['nodes/status'], ['get']), { verbs: ['get'], apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['kube-proxy'] }],
  },
};

/** Access policies AWS names (in `list-access-policies` output or other guides) without publishing their rules. */
export const UNPUBLISHED_ACCESS_POLICIES: Readonly<Record<string, string>> = {
  AmazonEKSAutoNodePolicy: 'EKS Auto Mode node role policy; the EKS docs list the components it serves (kube-proxy, ipamd, coredns, ebs-csi-driver, neuron, node-monitoring-agent), not its rules',
  AmazonAIOpsAssistantPolicy: 'CloudWatch investigations / DevOps agent policy; named in list-access-policies output, rules not published',
};

/** What an access policy grants, or undefined when Seam does not know (see `ACCESS_POLICIES`). */
export function accessPolicyMeaning(name: string): AccessPolicyMeaning | undefined {
  return Object.hasOwn(ACCESS_POLICIES, name) ? ACCESS_POLICIES[name] : undefined;
}

/** Why an access policy's permissions are unknown, in words for explain output and alerts. */
export function unknownPolicyReason(name: string): string {
  const known = Object.hasOwn(UNPUBLISHED_ACCESS_POLICIES, name) ? UNPUBLISHED_ACCESS_POLICIES[name] : undefined;
  return known ?? 'not an access policy Seam knows (a policy AWS added since, or a name outside arn:aws:eks::aws:cluster-access-policy/)';
}

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
