/** `seam rules lint PATH...`: load rules, print every diagnostic, summarise. */
import { dirname } from 'node:path';
import type { SourceType } from '../../core/envelope.ts';
import { compileCorrelations, ruleLookupFrom } from '../correlate/compile.ts';
import { loadRules } from './ruleset.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { correlationFieldWarnings, fieldWarnings, logsourceWarnings, nameWarnings, triageWarnings } from './lint-checks.ts';
import type { Diagnostic, LoadResult, LoadStats, RuleOverride } from './types.ts';
import { unsetPlaceholderName } from './unset-placeholders.ts';

/** Names of the per-product counts on the summary line, in the order they are printed. */
const PRODUCT_NAMES: Readonly<Record<SourceType, string>> = {
  cloudtrail: 'cloudtrail',
  k8s_audit: 'kubernetes',
  guardduty: 'guardduty',
  runtime: 'runtime',
};

/**
 * Prints `file:line:col: CODE message` per problem and a summary; exit code 1 if any error. The
 * summary counts loaded rules per product (the Seam source their logsource maps to), and `other=` for
 * rules whose logsource maps to no Seam source, when there are any.
 */
export async function lintCommand(paths: string[], out: NodeJS.WritableStream, opts: LintOptions & { verbose?: boolean } = {}): Promise<number> {
  const { diagnostics, line, loaded } = await lintRules(paths, opts);
  for (const l of loaded.overrides ?? []) out.write(l + '\n');
  for (const l of opts.verbose === true ? diagnostics.map(formatDiagnostic) : foldUnsetPlaceholders(foldTriage(diagnostics))) out.write(l + '\n');
  out.write(line + '\n');
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}

export interface LintResult {
  loaded: LoadResult;
  /** Every problem, each once, in the order found. */
  diagnostics: Diagnostic[];
  /** The summary line (`lintSummaryLine`), correlations that cannot be used counted as rejected. */
  line: string;
}

/** What `seam rules lint` reports (also read by `seam coverage`): load, then compile the correlations as the detector does. */
export interface LintOptions {
  /** The site's placeholder values (--placeholders, seam.yml): a placeholder they set is not reported unset. */
  placeholders?: Record<string, string[]> | undefined;
  /** seam.yml `rules.overrides` (overrides.ts): lint judges the rules as the site runs them, and says each override. */
  overrides?: readonly RuleOverride[] | undefined;
}

export async function lintRules(paths: string[], opts: LintOptions = {}): Promise<LintResult> {
  const loaded = await loadRules(paths, { ...(opts.placeholders ? { placeholders: opts.placeholders } : {}), ...(opts.overrides?.length ? { overrides: opts.overrides } : {}) });
  const { ruleset, stats } = loaded;
  // Correlations are compiled where the detector compiles them: their problems (a window over the
  // bound, a missing reference) are lint errors too, and a correlation that does not compile is rejected.
  const correlations = compileCorrelations(ruleset.correlations, ruleLookupFrom(ruleset.rules, ruleset.notLoaded));
  const dropped = ruleset.correlations.length - correlations.correlations.length;
  const line = lintSummaryLine(ruleset.rules, { ...stats, correlations: stats.correlations - dropped, rejected: stats.rejected + dropped });
  // Rules and correlations that load but can never fire: a logsource meant for Seam that maps to nothing, a field
  // no event of the source carries (wrong case, no such top-level field).
  const never = [...logsourceWarnings(ruleset.rules), ...fieldWarnings(ruleset.rules), ...correlationFieldWarnings(ruleset.correlations, ruleset.rules)];
  // Rules a person should look at whose alerts would reach them without triage text.
  const untriaged = triageWarnings(ruleset.rules, correlations.correlations);
  // A rule whose name is not its file's: referred to by a name no file has.
  const misnamed = nameWarnings(ruleset.rules, ruleset.correlations);
  return { loaded, diagnostics: [...mergeReferenceProblems(loaded.diagnostics, correlations.diagnostics), ...never, ...untriaged, ...misnamed], line };
}

/**
 * A correlation naming a rule that is not loaded is found twice: the loader warns at the reference, compiling
 * makes it an error (the correlation is dropped). Reported once: the error, at the reference's position.
 */
function mergeReferenceProblems(load: readonly Diagnostic[], compiled: readonly Diagnostic[]): Diagnostic[] {
  const out = [...load];
  const used = new Set<Diagnostic>();
  const rest: Diagnostic[] = [];
  for (const c of compiled) {
    if (c.ref === undefined || c.severity !== 'error') {
      rest.push(c);
      continue;
    }
    // The loader's warning of the same file and reference, nearest after the correlation's first line.
    const twin = load
      .filter((d) => d.ref === c.ref && d.file === c.file && d.severity === 'warning' && d.line >= c.line && !used.has(d))
      .sort((a, b) => a.line - b.line)[0];
    if (twin === undefined) {
      rest.push(c);
      continue;
    }
    used.add(twin);
    out[out.indexOf(twin)] = { ...c, line: twin.line, column: twin.column };
  }
  return [...out, ...rest];
}

/**
 * The diagnostics as printed without -v (review-de L4): every unset-placeholder warning of one placeholder becomes one
 * line, at its first use, with the number of rules that use it (linting a rule beside the pack printed ~150 of them,
 * burying the rule's own problems). Every other diagnostic is printed as it is.
 */
export function foldUnsetPlaceholders(diagnostics: readonly Diagnostic[]): string[] {
  const byName = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const name = unsetPlaceholderName(d);
    if (name === undefined) continue;
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [d]);
    else list.push(d);
  }
  const out: string[] = [];
  for (const d of diagnostics) {
    const name = unsetPlaceholderName(d);
    const uses = name === undefined ? undefined : byName.get(name);
    if (uses === undefined || uses.length === 1) {
      out.push(formatDiagnostic(d));
      continue;
    }
    if (uses[0] !== d) continue;
    const rules = new Set(uses.map((u) => u.rule ?? `${u.file}:${u.line}`)).size;
    out.push(formatDiagnostic({ ...d, message: `placeholder %${name}% has no configured values; it matches nothing in ${rules} rule(s), ${uses.length} uses (this is the first; -v lists every one)` }));
  }
  return out;
}

/**
 * Without -v, the SEAM_ERR_RULE_TRIAGE warnings of one folder become one line, at the first, with their number: SigmaHQ's
 * rules have no Triage: paragraph, so linting its aws and kubernetes folders beside the pack printed 53 of them, one per rule, and a
 * detection engineer's own problems were lost among them. A folder with one such rule keeps its line as it is.
 */
export function foldTriage(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const byFolder = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.code !== 'SEAM_ERR_RULE_TRIAGE') continue;
    const folder = dirname(d.file);
    const list = byFolder.get(folder);
    if (list === undefined) byFolder.set(folder, [d]);
    else list.push(d);
  }
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const same = d.code === 'SEAM_ERR_RULE_TRIAGE' ? byFolder.get(dirname(d.file)) : undefined;
    if (same === undefined || same.length === 1) out.push(d);
    else if (same[0] === d) {
      out.push({ ...d, message: `${same.length} rules or correlations at medium or above in ${dirname(d.file)} have no 'Triage:' paragraph in their description (SigmaHQ's have none): their alerts carry no triage text for the analyst (this is the first; -v lists every one)` });
    }
  }
  return out;
}

/** `lint: files=… rules=… correlations=… rejected=… cloudtrail=… …` (also shown by `seam coverage`). */
export function lintSummaryLine(rules: readonly { source?: SourceType | undefined }[], stats: LoadStats): string {
  const counts = new Map<SourceType | undefined, number>();
  for (const r of rules) counts.set(r.source, (counts.get(r.source) ?? 0) + 1);
  let products = Object.entries(PRODUCT_NAMES)
    .map(([source, name]) => `${name}=${counts.get(source as SourceType) ?? 0}`)
    .join(' ');
  const other = counts.get(undefined) ?? 0;
  if (other > 0) products += ` other=${other}`;
  return `lint: files=${stats.files} rules=${stats.rules} correlations=${stats.correlations} rejected=${stats.rejected} ${products}`;
}
