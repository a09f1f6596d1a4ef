/** `seam rules lint PATH...`: load rules, print every diagnostic, summarise. */
import { loadRules } from './ruleset.ts';
import { formatDiagnostic } from './diagnostics.ts';

/** Prints `file:line:col: CODE message` per problem and a summary; exit code 1 if any error. */
export async function lintCommand(paths: string[], out: NodeJS.WritableStream): Promise<number> {
  const { diagnostics, stats } = await loadRules(paths);
  for (const d of diagnostics) out.write(formatDiagnostic(d) + '\n');
  out.write(`lint: files=${stats.files} rules=${stats.rules} correlations=${stats.correlations} rejected=${stats.rejected}\n`);
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}
