/**
 * Lint warnings for rules that load but can never fire (review item 15): a logsource that names one of Seam's
 * products (or misspells one) yet maps to no source Seam collects, a field that differs only in letter case from
 * a field Seam's events carry (Sigma field names are case-sensitive, so `EventName` never matches `eventName`), and
 * a top-level field no CloudTrail or Kubernetes audit record has (review-de H2).
 * Rules for products Seam does not collect (windows, macos, azure...) are only counted (`other=` on the summary).
 * Also: a rule a person should look at (medium+) whose description has no `Triage:` paragraph (SOC review M4).
 */
import type { SourceType } from '../../core/envelope.ts';
import { CloudTrailRecord } from '../../core/schemas/cloudtrail.ts';
import { K8sAuditEvent } from '../../core/schemas/k8s-audit.ts';
import { templateMapping } from '../../hunt/fields.ts';
import { warn } from './diagnostics.ts';
import { RUNTIME_CATEGORY_KIND } from './logsource.ts';
import { misspelt } from './spelling.ts';
import type { CompiledRule, Diagnostic } from './types.ts';
import type { CompiledCorrelation } from '../correlate/types.ts';

/** A loaded rule with the Seam source its logsource maps to (undefined: none). */
type LintedRule = CompiledRule & { source?: SourceType | undefined };

/** The logsource values src/detect/sigma/logsource.ts maps to a Seam source. */
const PRODUCTS = ['aws', 'kubernetes', 'eks', 'fargate', 'seam'];
const SERVICES = ['cloudtrail', 'guardduty', 'audit', 'runtime'];
const CATEGORIES = [...Object.keys(RUNTIME_CATEGORY_KIND), 'audit'];
const READS =
  'Seam reads product: aws with service: cloudtrail or guardduty; product: kubernetes with service: audit (or category: audit); product: kubernetes, eks, fargate or seam with service: runtime, or with category: process_creation, network_connection, file_event or dns_query (linux too)';

/** A warning per rule whose logsource is meant for Seam (its product, a misspelling of one) but maps to no source. */
export function logsourceWarnings(rules: readonly LintedRule[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of rules) {
    if (r.source !== undefined) continue;
    const product = r.logsource.product?.toLowerCase();
    const service = r.logsource.service?.toLowerCase();
    const category = r.logsource.category?.toLowerCase();
    const productTypo = product === undefined ? undefined : misspelt(product, PRODUCTS);
    const serviceTypo = service === undefined ? undefined : misspelt(service, SERVICES);
    const meantForSeam =
      (product !== undefined && (PRODUCTS.includes(product) || productTypo !== undefined)) ||
      // No product: a Seam service (or a misspelling of one) without the product it needs.
      (product === undefined && service !== undefined && (SERVICES.includes(service) || serviceTypo !== undefined));
    if (!meantForSeam) continue;
    const hints = [
      productTypo && `product: ${productTypo}`,
      serviceTypo && `service: ${serviceTypo}`,
      category === undefined ? undefined : misspelt(category, CATEGORIES) && `category: ${misspelt(category, CATEGORIES)}`,
      product === undefined && service === 'cloudtrail' ? 'product: aws' : undefined,
      product === undefined && service === 'guardduty' ? 'product: aws' : undefined,
      product === undefined && service === 'audit' ? 'product: kubernetes' : undefined,
    ].filter((h): h is string => typeof h === 'string');
    const written = Object.entries(r.logsource)
      .filter(([k]) => k === 'product' || k === 'service' || k === 'category')
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(', ');
    out.push(
      warn('SEAM_ERR_RULE_LOGSOURCE', r.file, r, `logsource {${written}} maps to no source Seam collects, so this rule loads but never runs${hints.length > 0 ? ` (did you mean ${hints.join(', ')}?)` : ` (${READS})`}`, r.id),
    );
  }
  return out;
}

/**
 * Top-level fields a record of the source can carry, for the sources whose records have a fixed top level
 * (CloudTrail records, audit.k8s.io/v1 Events): the schema's fields (src/core/schemas), the index template's, and
 * the few CloudTrail writes that neither lists. GuardDuty findings (two letter cases, fields added often) and runtime
 * events (Falco's, seam.runtime/v1's, Sigma's taxonomy names) are not checked: there an unknown name proves nothing.
 */
const CLOSED_TOP_LEVEL: Partial<Record<SourceType, readonly string[]>> = {
  cloudtrail: [
    ...Object.keys(CloudTrailRecord.shape),
    'vpcEndpointAccountId',
    'sessionCredentialFromConsole',
    'addendum',
    'managementEvent',
    'serviceEventDetails',
    'insightDetails',
    'edgeDeviceDetails',
    'eventBridge',
  ],
  k8s_audit: Object.keys(K8sAuditEvent.shape),
};

interface KnownFields {
  exact: Set<string>;
  lower: Map<string, string>;
  /** Top-level names a record can have; undefined: the source's top level is open (not checked). */
  top: Set<string> | undefined;
}

/** Where a rule reads `path`: the entry's key, else (a path read by a filter applied to it) the rule's own start. */
function posOf(r: LintedRule, path: string): { line: number; column: number } {
  return r.readsAt !== undefined && Object.hasOwn(r.readsAt, path) ? r.readsAt[path]! : r;
}

/**
 * Warnings for fields a rule can never match on its source's events, at the field's key: a field that differs only
 * in letter case from one Seam's index templates map (Sigma field names are case-sensitive), and, for CloudTrail and
 * Kubernetes audit rules, a top-level name no record of the source has (SigmaHQ's taxonomy names such as `hostPath`
 * unless logsource.ts maps them). Paths under an object (requestObject, requestParameters...) are not checked beyond
 * their top level: those objects are open.
 */
export function fieldWarnings(rules: readonly LintedRule[]): Diagnostic[] {
  const known = new Map<SourceType, KnownFields>();
  const fieldsOf = (s: SourceType): KnownFields => {
    let k = known.get(s);
    if (k === undefined) {
      const exact = new Set(templateMapping(s).keys());
      const closed = CLOSED_TOP_LEVEL[s];
      const top = closed === undefined ? undefined : new Set([...closed, ...[...exact].filter((f) => !f.includes('.'))]);
      known.set(s, (k = { exact, lower: new Map([...exact].map((f) => [f.toLowerCase(), f])), top }));
    }
    return k;
  };
  const out: Diagnostic[] = [];
  for (const r of rules) {
    if (r.source === undefined || r.reads === undefined) continue;
    const k = fieldsOf(r.source);
    for (const p of r.reads.paths) {
      if (k.exact.has(p)) continue;
      const meant = k.lower.get(p.toLowerCase());
      if (meant !== undefined) {
        out.push(warn('SEAM_ERR_RULE_FIELD', r.file, posOf(r, p), `field ${p}: Seam's ${r.source} events carry ${meant} (field names are case-sensitive), so as written it never matches`, r.id));
        continue;
      }
      const head = p.split('.')[0]!;
      if (k.top === undefined || k.top.has(head)) continue;
      const caseOf = [...k.top].find((f) => f.toLowerCase() === head.toLowerCase());
      const hint = caseOf !== undefined ? ` (field names are case-sensitive: ${caseOf})` : '';
      out.push(warn('SEAM_ERR_RULE_FIELD', r.file, posOf(r, p), `field ${p}: no ${r.source} record has a top-level ${head}${hint}, so as written it never matches`, r.id));
    }
  }
  return out;
}

/** Levels at which a person should look (medium and above): their alerts should say what to check first. */
const LOOKED_AT = new Set(['medium', 'high', 'critical']);

/**
 * A warning per rule or correlation at medium or above whose description has no `Triage:` paragraph for the analyst
 * (src/detect/triage.ts: the alert's `triage` comes from it). A rule without a level is medium.
 */
export function triageWarnings(rules: readonly CompiledRule[], correlations: readonly CompiledCorrelation[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of [...rules, ...correlations]) {
    if (!LOOKED_AT.has(r.level ?? 'medium') || r.triage !== undefined) continue;
    out.push(warn('SEAM_ERR_RULE_TRIAGE', r.file, r, `level ${r.level ?? 'medium'} and no 'Triage:' paragraph in the description: its alerts carry no triage text for the analyst`, r.id));
  }
  return out;
}
