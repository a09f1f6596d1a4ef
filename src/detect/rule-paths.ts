import { existsSync } from 'node:fs';
import { SeamError } from '../core/errors.ts';

/**
 * The rule paths of a command that exist here. A missing path the user named on the command line is an error; one
 * from seam.yml (or its default, `detections`) is skipped, and the caller says so, unless none of them exists: then
 * it is an error too (SEAM_ERR_RULES_EMPTY), as for a path that yields no rule, so a command that runs rules never
 * runs with none because it was started in another folder (review item 8).
 */
export function existingRulePaths(paths: readonly string[], explicit: boolean): { paths: string[]; skipped: string[] } {
  const skipped = paths.filter((p) => !existsSync(p));
  if (skipped.length > 0 && explicit) throw new SeamError('SEAM_ERR_RULES_EMPTY', `rules path ${skipped.join(', ')} does not exist`, { details: { paths: skipped } });
  if (paths.length > 0 && skipped.length === paths.length) {
    throw new SeamError(
      'SEAM_ERR_RULES_EMPTY',
      `no rules path exists here: ${skipped.join(', ')} (seam.yml rules.paths, SEAM_RULES or the default \`detections\`, which is relative to the working folder; relative paths written in seam.yml resolve against its folder). Name the rules with --rules, or fix rules.paths`,
      { details: { paths: skipped } },
    );
  }
  return { paths: paths.filter((p) => existsSync(p)), skipped };
}
