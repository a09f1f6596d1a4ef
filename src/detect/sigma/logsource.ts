/**
 * Field-mapping pipelines: which Seam source a Sigma logsource applies to, and how the rule's field
 * names map onto that source's event shape. CloudTrail, Kubernetes audit and GuardDuty events keep
 * their raw field names, so SigmaHQ rules run unmodified; Kubernetes audit maps pySigma's taxonomy names
 * (K8S_AUDIT_FIELD_MAP) onto the record, and an entry's meaning can stand for tests of other fields (a privileged
 * container's capabilities, an authorizer's decision, CloudTrail's `status`); runtime telemetry maps the Sigma taxonomy
 * (Image, CommandLine...) onto Seam's native runtime fields.
 */
import type { SourceType } from '../../core/envelope.ts';
import type { Logsource } from './types.ts';

export interface LogsourceMapping {
  /** Seam source the rule applies to; undefined when Seam collects nothing the rule could match. */
  source: SourceType | undefined;
  mapField: (field: string) => string;
  /**
   * For runtime rules with a category: the runtime event `kind` the rule applies to (a
   * process_creation rule must not meet the process context carried by network or file events).
   */
  kind?: string;
  /**
   * For fields whose values the source encodes differently (Sigma's `Initiated: 'true'` is the
   * runtime schema's `direction: egress`): the event value for a rule value, or undefined to keep it.
   */
  mapValue?: (field: string, value: string) => string | undefined;
  /**
   * For taxonomy fields no single path of the source says (CloudTrail's `status`, a privileged container's
   * capabilities): the tests an entry stands for, or undefined to map it as usual.
   */
  meaning?: EntryMeaningFn;
}

const identity = (f: string): string => f;

/**
 * Sigma taxonomy field → native runtime event field. Easy to change in one place; a field not
 * listed is looked up under its own name (so runtime events may also carry Sigma names directly).
 */
export const RUNTIME_FIELD_MAP: Readonly<Record<string, string>> = {
  Image: 'process.exe',
  CommandLine: 'process.cmdline',
  ProcessId: 'process.pid',
  CurrentDirectory: 'process.cwd',
  User: 'process.user',
  LogonId: 'process.uid',
  // seam.runtime/v1 (src/core/schemas/runtime.ts) carries the parent's executable and pid only;
  // ParentCommandLine is left unmapped, so rules that need it cannot match runtime events.
  ParentImage: 'process.parent_exe',
  ParentProcessId: 'process.ppid',
  // OriginalFileName (a Windows PE header field), DestinationHostname, SourceFilename (the old name
  // of a renamed file; the schema's `path` is that, but only for op=rename) and ContainerId have no
  // counterpart in seam.runtime/v1 either, so they stay unmapped too.
  TargetFilename: 'file.path',
  DestinationIp: 'network.dst_ip',
  DestinationPort: 'network.dst_port',
  SourceIp: 'network.src_ip',
  SourcePort: 'network.src_port',
  Protocol: 'network.protocol',
  // Values translated by RUNTIME_VALUE_MAP.
  Initiated: 'network.direction',
  QueryName: 'dns.query',
  QueryResults: 'dns.answers',
  ContainerName: 'container',
  ContainerImage: 'image',
};

/**
 * Sigma field → (lowercase rule value → runtime event value), for fields the runtime schema encodes
 * differently. `Initiated: 'true'` means the host opened the connection: `direction: egress`.
 */
export const RUNTIME_VALUE_MAP: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Initiated: { true: 'egress', false: 'ingress' },
};

const runtimeValue = (field: string, value: string): string | undefined => {
  const m = Object.hasOwn(RUNTIME_VALUE_MAP, field) ? RUNTIME_VALUE_MAP[field]! : undefined;
  const k = value.toLowerCase();
  return m !== undefined && Object.hasOwn(m, k) ? m[k] : undefined;
};

/**
 * Sigma's Kubernetes taxonomy names that are no field of an audit.k8s.io/v1 Event → where the audit record carries
 * them. Every other field of a Kubernetes audit rule is the record's own. The names are those pySigma's Kubernetes
 * audit pipelines know (verb is the record's own): `apiGroup`, `resource`, `subresource` and `namespace` are the
 * request's `objectRef` (SigmaHQ's kubernetes_audit_rbac_permisions_listing and kubernetes_audit_sidecar_injection
 * match on `apiGroup`; an API group's own rules write `objectRef.apiGroup`, and the core group has none), `username`
 * the requesting user. `capabilities`, `privileged` and `hostPath` read a pod's spec in the request body (level
 * Request and above), each array fanning out, so the rule matches when any element does: `capabilities` is any
 * container's added capabilities (a pod whose containers only drop capabilities has none; see also
 * K8S_AUDIT_IMPLIED), `privileged` any container's `securityContext.privileged`, `hostPath` any volume's host path.
 * `spec.containers` only: initContainers and ephemeralContainers are not read, nor the pod template of a
 * Deployment or DaemonSet (the pods their controllers create are).
 */
export const K8S_AUDIT_FIELD_MAP: Readonly<Record<string, string>> = {
  apiGroup: 'objectRef.apiGroup',
  resource: 'objectRef.resource',
  subresource: 'objectRef.subresource',
  namespace: 'objectRef.namespace',
  username: 'user.username',
  capabilities: 'requestObject.spec.containers.securityContext.capabilities.add',
  privileged: 'requestObject.spec.containers.securityContext.privileged',
  hostPath: 'requestObject.spec.volumes.hostPath.path',
};

/**
 * A test an entry of a taxonomy field stands for: the field at `path` equals `is` (true, false, or a string, letter
 * case aside), or is null or missing (`is: null`), or is present (`exists: true`).
 */
export type FieldTest = { path: string; is: boolean | string | null } | { path: string; exists: boolean };

/**
 * What an entry of a taxonomy field means on the source's records when no path says it: `also` are tests any of
 * which satisfies the entry besides its mapped field (`keep`), or instead of it.
 */
export interface EntryMeaning {
  keep: boolean;
  also: FieldTest[];
}

/** An entry's field, its modifiers and its values, for LogsourceMapping.meaning. */
export type EntryMeaningFn = (field: string, mods: readonly string[], values: readonly (string | number | boolean | null)[]) => EntryMeaning | undefined;

/** Whether an entry only asks that the field have some value: `'*'` (SigmaHQ's stand-in for `|exists`) or `|exists: true`. */
const anyValue = (mods: readonly string[], values: readonly (string | number | boolean | null)[]): boolean =>
  (mods.length === 0 && values.length > 0 && values.every((v) => v === '*')) || (mods.length === 1 && mods[0] === 'exists' && values.length === 1 && (values[0] === true || values[0] === 'true'));

/**
 * A privileged container has every capability (the Linux capability set of a process on the host): an entry that
 * asks only whether a container of the pod has added capabilities (`capabilities: '*'`, SigmaHQ's
 * kubernetes_audit_privileged_pod_creation, whose description names `securityContext.privileged` as one way to
 * deploy a privileged container) is also satisfied by any container with `securityContext.privileged: true`. An
 * entry naming a capability is not: a rule asking for SYS_ADMIN says which capability it means.
 *
 * `responseStatus.code` is the response's HTTP status, a number. SigmaHQ's
 * kubernetes_audit_potential_enumeration_activity asks for `responseStatus.code: 'ALLOW'`, an authorizer's decision,
 * which the record carries as the `authorization.k8s.io/decision` annotation (`allow` or `forbid`): a code of
 * `allow` or `forbid` (one value, no modifiers, letter case aside) is that annotation. A numeric code is the code.
 */
const k8sAuditMeaning: EntryMeaningFn = (field, mods, values) => {
  if (field === 'capabilities' && anyValue(mods, values)) return { keep: true, also: [{ path: K8S_AUDIT_FIELD_MAP.privileged!, is: true }] };
  if (field === 'responseStatus.code' && mods.length === 0 && values.length === 1 && typeof values[0] === 'string') {
    const v = values[0].toLowerCase();
    if (v === 'allow' || v === 'forbid') return { keep: false, also: [{ path: 'annotations.authorization.k8s.io/decision', is: v }] };
  }
  return undefined;
};

/**
 * CloudTrail has no `status`: SigmaHQ's aws_delete_saml_provider asks for `status: success`, a call that did not
 * fail. A failed call carries `errorCode` (SigmaHQ's other CloudTrail rules write `errorCode: null` for success),
 * so `status: success` is `errorCode` null or missing, `status: failure` (or `failed`) an `errorCode`; other values
 * stay unmapped, and lint warns about them.
 */
const cloudtrailMeaning: EntryMeaningFn = (field, mods, values) => {
  if (field !== 'status' || mods.length !== 0 || values.length !== 1 || typeof values[0] !== 'string') return undefined;
  const v = values[0].toLowerCase();
  if (v === 'success') return { keep: false, also: [{ path: 'errorCode', is: null }] };
  if (v === 'failure' || v === 'failed') return { keep: false, also: [{ path: 'errorCode', exists: true }] };
  return undefined;
};

const k8sAuditMap = (f: string): string => K8S_AUDIT_FIELD_MAP[f] ?? f;

/** Sigma category → the runtime event `kind` it describes. */
export const RUNTIME_CATEGORY_KIND: Readonly<Record<string, string>> = {
  process_creation: 'process',
  network_connection: 'network',
  file_event: 'file',
  dns_query: 'dns',
  dns: 'dns',
};
const RUNTIME_CATEGORIES = new Set(Object.keys(RUNTIME_CATEGORY_KIND));
/** Products whose process/network/file rules describe what a Linux container on EKS or Fargate does. */
const RUNTIME_PRODUCTS = new Set(['seam', 'eks', 'fargate', 'kubernetes', 'linux']);

const runtimeMap = (f: string): string => RUNTIME_FIELD_MAP[f] ?? f;

export function mapLogsource(ls: Logsource): LogsourceMapping {
  const product = ls.product?.toLowerCase();
  const service = ls.service?.toLowerCase();
  const category = ls.category?.toLowerCase();
  if (product === 'aws' && service === 'cloudtrail') return { source: 'cloudtrail', mapField: identity, meaning: cloudtrailMeaning };
  if (product === 'aws' && service === 'guardduty') return { source: 'guardduty', mapField: identity };
  if (product === 'kubernetes' && (service === 'audit' || (service === undefined && category === 'audit'))) {
    return { source: 'k8s_audit', mapField: k8sAuditMap, meaning: k8sAuditMeaning };
  }
  if (
    ((product === 'seam' || product === 'eks' || product === 'fargate' || product === 'kubernetes') && service === 'runtime') ||
    (product !== undefined && RUNTIME_PRODUCTS.has(product) && category !== undefined && RUNTIME_CATEGORIES.has(category) && service === undefined)
  ) {
    const kind = category !== undefined && Object.hasOwn(RUNTIME_CATEGORY_KIND, category) ? RUNTIME_CATEGORY_KIND[category] : undefined;
    const m: LogsourceMapping = { source: 'runtime', mapField: runtimeMap, mapValue: runtimeValue };
    if (kind !== undefined) m.kind = kind;
    return m;
  }
  return { source: undefined, mapField: identity };
}

/** True when every logsource field a filter sets is equal (case-insensitively) in the rule's logsource. */
export function logsourceCovers(filter: Logsource, rule: Logsource): boolean {
  for (const k of ['product', 'category', 'service'] as const) {
    const f = filter[k];
    if (f !== undefined && f.toLowerCase() !== rule[k]?.toLowerCase()) return false;
  }
  return true;
}
