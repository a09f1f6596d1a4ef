import type { Diagnostic } from './types.ts';

/** The message of the warning a rule load gives for each use of a placeholder with no values (src/detect/sigma/model.ts). */
export const UNSET_PLACEHOLDER = /^placeholder %([^%]+)% has no configured values/;

/** The name of the placeholder an unset-placeholder warning is about; undefined for any other diagnostic. */
export function unsetPlaceholderName(d: Diagnostic): string | undefined {
  return d.code === 'SEAM_ERR_RULE_PLACEHOLDER' && d.severity === 'warning' ? UNSET_PLACEHOLDER.exec(d.message)?.[1] : undefined;
}

/** The placeholders a rule load found without values, in order of first use, each with the number of rules using it. */
export function unsetPlaceholders(diagnostics: readonly Diagnostic[]): { name: string; rules: number }[] {
  const byName = new Map<string, Set<string>>();
  for (const d of diagnostics) {
    const name = unsetPlaceholderName(d);
    if (name === undefined) continue;
    let rules = byName.get(name);
    if (rules === undefined) byName.set(name, (rules = new Set()));
    rules.add(d.rule ?? `${d.file}:${d.line}`);
  }
  return [...byName].map(([name, rules]) => ({ name, rules: rules.size }));
}

/**
 * The one line the commands that run rules (`seam run`, `seam replay`, `seam hunt`) print on stderr when some
 * placeholders have no values (review-soc H3, L6): an unset allow-list allows no one and an unset exception list
 * excepts nothing, so results differ from a site's configured stream with nothing else to say why. Undefined when
 * every placeholder the rules use is set. `seam rules lint` prints each placeholder at its first use instead.
 */
export function unsetPlaceholderSummary(diagnostics: readonly Diagnostic[]): string | undefined {
  const unset = unsetPlaceholders(diagnostics);
  if (unset.length === 0) return undefined;
  const list = unset.map((u) => `%${u.name}% (${u.rules} rule${u.rules === 1 ? '' : 's'})`).join(', ');
  return (
    `SEAM_ERR_RULE_PLACEHOLDER: ${unset.length} placeholder${unset.length === 1 ? ' has' : 's have'} no configured values, so what uses ${unset.length === 1 ? 'it' : 'them'} matches nothing ` +
    `(an allow-list allows no one, an exception list excepts nothing): ${list}; set them with --placeholders FILE or seam.yml rules.placeholdersFile (example: deploy/config/placeholders.yml)`
  );
}
