import { childLogger } from '../core/logger.ts';
import { createDetector } from './detector.ts';
import { loadRules } from './sigma/ruleset.ts';
import { formatDiagnostic } from './sigma/diagnostics.ts';
import type { LoadOptions } from './sigma/types.ts';

const log = childLogger('detect');

/**
 * Loads rules and correlations from folders and builds the detector the pipeline runs. Problems in
 * individual rules are reported and those rules left out; the rest still run.
 */
export async function buildDetector(paths: string[], opts: LoadOptions & { allowedLatenessMs?: number } = {}): Promise<ReturnType<typeof createDetector>> {
  const { ruleset, diagnostics, stats } = await loadRules(paths, opts);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  for (const d of errors.slice(0, 20)) log.warn({ diagnostic: d }, `rule problem: ${formatDiagnostic(d)}`);
  if (errors.length > 20) log.warn(`${errors.length - 20} more rule problems; run \`seam rules lint ${paths.join(' ')}\` to see them all`);
  log.info({ ...stats }, `loaded ${stats.rules} rules and ${stats.correlations} correlations from ${stats.files} files`);
  const detector = createDetector({ ruleset, allowedLatenessMs: opts.allowedLatenessMs ?? 60_000 });
  // Correlation problems (missing references, bad timespans) are found when the detector compiles them.
  for (const d of detector.diagnostics.filter((x) => x.severity === 'error')) log.warn({ diagnostic: d }, `correlation problem: ${formatDiagnostic(d)}`);
  return detector;
}
