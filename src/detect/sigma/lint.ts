/** `seam rules lint PATH...`: load rules, print every diagnostic, summarise. */
import type { SourceType } from '../../core/envelope.ts';
import { compileCorrelations, ruleLookupFrom } from '../correlate/compile.ts';
import { loadRules } from './ruleset.ts';
import { formatDiagnostic } from './diagnostics.ts';
import type { LoadStats } from './types.ts';

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
export async function lintCommand(paths: string[], out: NodeJS.WritableStream): Promise<number> {
  const loaded = await loadRules(paths);
  const { ruleset, stats } = loaded;
  // Correlations are compiled where the detector compiles them: their problems (a window over the
  // bound, a missing reference) are lint errors too.
  const correlations = compileCorrelations(ruleset.correlations, ruleLookupFrom(ruleset.rules));
  const diagnostics = [...loaded.diagnostics, ...correlations.diagnostics];
  for (const d of diagnostics) out.write(formatDiagnostic(d) + '\n');
  out.write(lintSummaryLine(ruleset.rules, stats) + '\n');
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
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
