/**
 * Field-mapping pipelines: which Seam source a Sigma logsource applies to, and how the rule's field
 * names map onto that source's event shape. CloudTrail, Kubernetes audit and GuardDuty events keep
 * their raw field names, so SigmaHQ rules run unmodified; runtime telemetry maps the Sigma taxonomy
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
  OriginalFileName: 'process.name',
  TargetFilename: 'file.path',
  SourceFilename: 'file.source_path',
  DestinationIp: 'network.dst_ip',
  DestinationPort: 'network.dst_port',
  DestinationHostname: 'network.dst_host',
  SourceIp: 'network.src_ip',
  SourcePort: 'network.src_port',
  Protocol: 'network.protocol',
  Initiated: 'network.outbound',
  QueryName: 'dns.query',
  QueryResults: 'dns.answers',
  ContainerId: 'container.id',
  ContainerName: 'container.name',
  ContainerImage: 'container.image',
};

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
    return { source: 'k8s_audit', mapField: identity };
  }
  if (
    ((product === 'seam' || product === 'eks' || product === 'fargate' || product === 'kubernetes') && service === 'runtime') ||
    (product !== undefined && RUNTIME_PRODUCTS.has(product) && category !== undefined && RUNTIME_CATEGORIES.has(category) && service === undefined)
  ) {
    const kind = category !== undefined && Object.hasOwn(RUNTIME_CATEGORY_KIND, category) ? RUNTIME_CATEGORY_KIND[category] : undefined;
    return kind === undefined ? { source: 'runtime', mapField: runtimeMap } : { source: 'runtime', mapField: runtimeMap, kind };
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
