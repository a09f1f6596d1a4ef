/**
 * Field-mapping pipelines: which Seam source a Sigma logsource applies to, and how the rule's field
 * names map onto that source's event shape. CloudTrail, Kubernetes audit and GuardDuty events keep
 * their raw field names, so SigmaHQ rules run unmodified; Kubernetes audit maps two taxonomy names (capabilities,
 * hostPath: K8S_AUDIT_FIELD_MAP) into the request body; runtime telemetry maps the Sigma taxonomy
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
 * them (SigmaHQ's kubernetes_audit_privileged_pod_creation and kubernetes_audit_hostpath_mount match on them). Every
 * other field of a Kubernetes audit rule is the record's own. Both read a pod's spec in the request body (level
 * Request and above), each array fanning out, so the rule matches when any element does: `capabilities` is any
 * container's added capabilities (a pod whose containers only drop capabilities has none), `hostPath` any volume's
 * host path. `spec.containers` only: initContainers and ephemeralContainers are not read, nor the pod template of a
 * Deployment or DaemonSet (the pods their controllers create are).
 */
export const K8S_AUDIT_FIELD_MAP: Readonly<Record<string, string>> = {
  capabilities: 'requestObject.spec.containers.securityContext.capabilities.add',
  hostPath: 'requestObject.spec.volumes.hostPath.path',
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
  if (product === 'aws' && service === 'cloudtrail') return { source: 'cloudtrail', mapField: identity };
  if (product === 'aws' && service === 'guardduty') return { source: 'guardduty', mapField: identity };
  if (product === 'kubernetes' && (service === 'audit' || (service === undefined && category === 'audit'))) {
    return { source: 'k8s_audit', mapField: k8sAuditMap };
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
