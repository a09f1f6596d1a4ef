/**
 * Lint warnings for rules that load but can never fire (review item 15): a logsource that names one of Seam's
 * products (or misspells one) yet maps to no source Seam collects, a field that differs only in letter case from
 * a field Seam's events carry (Sigma field names are case-sensitive, so `EventName` never matches `eventName`), and
 * a top-level field no CloudTrail or Kubernetes audit record has (review-de H2).
 * Rules for products Seam does not collect (windows, macos, azure...) are only counted (`other=` on the summary).
 * Also: a rule a person should look at (medium+) whose description has no `Triage:` paragraph (SOC review M4).
 */
import { basename } from 'node:path';
import type { SourceType } from '../../core/envelope.ts';
import { CloudTrailRecord } from '../../core/schemas/cloudtrail.ts';
import { K8sAuditEvent } from '../../core/schemas/k8s-audit.ts';
import { templateMapping } from '../../hunt/fields.ts';
import { warn } from './diagnostics.ts';
import { RUNTIME_CATEGORY_KIND } from './logsource.ts';
import { getKey, str } from './read.ts';
import { misspelt, nearest } from './spelling.ts';
import type { CompiledRule, CorrelationDoc, Diagnostic } from './types.ts';
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

const known = new Map<SourceType, KnownFields>();
function fieldsOf(s: SourceType): KnownFields {
  let k = known.get(s);
  if (k === undefined) {
    const exact = new Set(templateMapping(s).keys());
    const closed = CLOSED_TOP_LEVEL[s];
    const top = closed === undefined ? undefined : new Set([...closed, ...[...exact].filter((f) => !f.includes('.'))]);
    known.set(s, (k = { exact, lower: new Map([...exact].map((f) => [f.toLowerCase(), f])), top }));
  }
  return k;
}

/** Why no event of `source` can carry `path` (a sentence ending in "so as written it never matches"), if so. */
function fieldProblem(source: SourceType, path: string): string | undefined {
  const k = fieldsOf(source);
  if (k.exact.has(path)) return undefined;
  const meant = k.lower.get(path.toLowerCase());
  if (meant !== undefined) return `Seam's ${source} events carry ${meant} (field names are case-sensitive), so as written it never matches`;
  const head = path.split('.')[0]!;
  if (k.top === undefined || k.top.has(head)) return undefined;
  const caseOf = [...k.top].find((f) => f.toLowerCase() === head.toLowerCase());
  const near = caseOf === undefined ? nearest(head, k.top) : undefined;
  const hint = caseOf !== undefined ? ` (field names are case-sensitive: ${caseOf})` : near !== undefined ? ` (did you mean ${near}?)` : '';
  return `no ${source} record has a top-level ${head}${hint}, so as written it never matches`;
}

/**
 * Warnings for fields a rule can never match on its source's events, at the field's key: a field that differs only
 * in letter case from one Seam's index templates map (Sigma field names are case-sensitive), and, for CloudTrail and
 * Kubernetes audit rules, a top-level name no record of the source has (SigmaHQ's taxonomy names such as `apiGroup`
 * unless logsource.ts maps them). Paths under an object (requestObject, requestParameters...) are not checked beyond
 * their top level: those objects are open.
 */
export function fieldWarnings(rules: readonly LintedRule[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const r of rules) {
    if (r.source === undefined || r.reads === undefined) continue;
    for (const p of r.reads.paths) {
      const problem = fieldProblem(r.source, p);
      if (problem !== undefined) out.push(warn('SEAM_ERR_RULE_FIELD', r.file, posOf(r, p), `field ${p}: ${problem}`, r.id));
    }
  }
  return out;
}

/**
 * The same check for a correlation's `group-by`, `condition.field` and `aliases` fields (review-de M2), against the
 * sources of the rules it refers to (through referenced correlations too), at the field's line: a correlation that
 * groups by `user.userName` never fires. A group-by naming an alias is the alias's fields, checked under `aliases`.
 */
export function correlationFieldWarnings(correlations: readonly CorrelationDoc[], rules: readonly LintedRule[]): Diagnostic[] {
  const ruleBy = new Map<string, LintedRule>();
  for (const r of rules) {
    ruleBy.set(r.id, r);
    if (r.name !== undefined) ruleBy.set(r.name, r);
  }
  const corrBy = new Map<string, CorrelationDoc>();
  for (const c of correlations) {
    if (c.id !== undefined) corrBy.set(c.id, c);
    if (c.name !== undefined) corrBy.set(c.name, c);
  }
  const refsOf = (c: CorrelationDoc): string[] => {
    const list = getKey(getKey(c.node, 'correlation')?.value, 'rules')?.value;
    const one = str(list);
    if (one !== undefined) return [one];
    return list?.kind === 'seq' ? list.items.map(str).filter((x): x is string => x !== undefined) : [];
  };
  /** The sources of the rules a reference reaches (a correlation's, recursively). */
  const sourcesOf = (ref: string, seen: Set<string>): Set<SourceType> => {
    const out = new Set<SourceType>();
    const r = ruleBy.get(ref);
    if (r !== undefined) {
      if (r.source !== undefined) out.add(r.source);
      return out;
    }
    const c = corrBy.get(ref);
    if (c === undefined || seen.has(ref)) return out;
    seen.add(ref);
    for (const x of refsOf(c)) for (const s of sourcesOf(x, seen)) out.add(s);
    return out;
  };
  const out: Diagnostic[] = [];
  for (const c of correlations) {
    const corr = getKey(c.node, 'correlation')?.value;
    if (corr === undefined) continue;
    const sources = new Set<SourceType>();
    for (const ref of refsOf(c)) for (const s of sourcesOf(ref, new Set())) sources.add(s);
    const check = (field: string | undefined, pos: { line: number; column: number }, where: string, only?: Set<SourceType>): void => {
      if (field === undefined) return;
      for (const s of only ?? sources) {
        const problem = fieldProblem(s, field);
        if (problem !== undefined) {
          out.push(warn('SEAM_ERR_RULE_FIELD', c.file, pos, `${where} field ${field}: ${problem}`, c.id));
          return;
        }
      }
    };
    const aliases = getKey(corr, 'aliases')?.value;
    const aliasNames = new Set(aliases?.kind === 'map' ? aliases.entries.map((e) => e.key) : []);
    const groupBy = getKey(corr, 'group-by');
    if (groupBy?.value.kind === 'seq') {
      for (const item of groupBy.value.items) {
        const f = str(item);
        if (f !== undefined && !aliasNames.has(f)) check(f, item.pos, 'group-by');
      }
    } else if (groupBy !== undefined) {
      const f = str(groupBy.value);
      if (f !== undefined && !aliasNames.has(f)) check(f, groupBy.value.pos, 'group-by');
    }
    const field = getKey(getKey(corr, 'condition')?.value, 'field');
    if (field !== undefined) {
      const f = str(field.value);
      if (f !== undefined && !aliasNames.has(f)) check(f, field.keyPos, 'condition');
    }
    if (aliases?.kind === 'map') {
      for (const a of aliases.entries) {
        if (a.value.kind !== 'map') continue;
        // alias: { rule: field }: each field against the sources of the rule it is read from.
        for (const e of a.value.entries) check(str(e.value), e.keyPos, `alias ${a.key}:`, sourcesOf(e.key, new Set()));
      }
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

/**
 * A warning per rule file whose documents have a `name` and none of them is the file's name (without .yml/.yaml).
 * Correlations, filters, overrides and a test's `expect` refer to a rule by its name, and the name a person finds is
 * the file's (`detections/kubernetes/k8s_exec_or_attach_into_pod.yml`): a renamed or copied file whose `name` was not
 * changed is referred to by a name no file has. Rules without a `name` (SigmaHQ's: they go by id) are not judged; in a
 * file of several documents (a correlation with its feeders) one of them named after the file is enough.
 */
export function nameWarnings(rules: readonly CompiledRule[], correlations: readonly CorrelationDoc[]): Diagnostic[] {
  const byFile = new Map<string, { name: string; id?: string | undefined; line: number; column: number; correlation: boolean }[]>();
  for (const d of [...rules, ...correlations]) {
    if (d.name === undefined) continue;
    const list = byFile.get(d.file);
    // At the `name:` key (the document's start when its position is not known).
    const entry = { name: d.name, id: d.id, line: d.namePos?.line ?? d.line, column: d.namePos?.column ?? d.column, correlation: !('pred' in d) };
    if (list === undefined) byFile.set(d.file, [entry]);
    else list.push(entry);
  }
  const out: Diagnostic[] = [];
  for (const [file, named] of byFile) {
    const own = basename(file).replace(/\.ya?ml$/i, '');
    if (named.some((n) => n.name === own)) continue;
    // The file's correlation when it has one (its feeders are named for the correlation to refer to), else its first.
    const first = named.sort((a, b) => Number(b.correlation) - Number(a.correlation) || a.line - b.line)[0]!;
    const more = named.length > 1 ? ` (nor is any other name in it: ${named.slice(1).map((n) => n.name).join(', ')})` : '';
    out.push(
      warn(
        'SEAM_ERR_RULE_NAME',
        file,
        first,
        `name '${first.name}' is not the file's name '${own}'${more}: correlations, filters and overrides refer to a rule by its name, and people look for it by file; rename the file ${first.name}.yml (and its test ${first.name}.test.yml), or set name: ${own}`,
        first.id ?? first.name,
      ),
    );
  }
  return out;
}
