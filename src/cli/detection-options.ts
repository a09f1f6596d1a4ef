/**
 * The detection options of the commands that run rules through the roles (`seam run`, embedded and on Kafka, and
 * `seam dlq replay`'s embedded re-run): rules, the site's placeholder values (file, then seam.yml's inline values
 * over it, as `seam replay`, `seam hunt` and `seam rules lint` take them), lateness, native and identity options.
 */
import type { SeamConfig } from '../core/config/schema.ts';
import type { DetectionOptions } from '../pipeline/detection.ts';
import { parseSeedFlag } from '../identity/seed-flag.ts';

/**
 * The identity seeds (docs/identity.md, Seeding from snapshots): seam.yml's `identity.seeds`, then `--seed FILE[=CLUSTER]`'s.
 * Read only where the identity graph lives (embedded, the correlate role): a normalize-only pod need not mount them.
 */
export function seedsOf(cfg: SeamConfig, flags: readonly string[] | undefined): SeamConfig['identity']['seeds'] {
  return [...cfg.identity.seeds, ...(flags ?? []).map(parseSeedFlag)];
}

/**
 * Detection options from seam.yml. `placeholdersFile`: the command's `--placeholders FILE`, else seam.yml's
 * rules.placeholdersFile (the caller chooses; `seam run` adds the demo's). Throws SEAM_ERR_CONFIG_INVALID when the
 * file cannot be read.
 */
export async function detectionOptions(
  cfg: SeamConfig,
  rules: string[],
  placeholdersFile: string | undefined,
  explicitRules: boolean,
  seeds: { seeds: SeamConfig['identity']['seeds']; cluster?: string } = { seeds: [] },
  // Where the rule-loading warnings go: embedded mode's `seam: …` text lines, or on Kafka the log's format (every
  // stderr line JSON in a pipe, review-ops L1).
  warn: (text: string) => void = (text) => process.stderr.write(`seam: ${text}\n`),
): Promise<DetectionOptions> {
  const { sitePlaceholders, sitePlaceholderWarnings } = await import('../detect/load.ts');
  const site = { placeholdersFile, placeholders: cfg.rules.placeholders };
  const placeholders = await sitePlaceholders(site);
  // Rules named on the command line may be part of the configured ones: the site file's other keys are then expected.
  for (const w of await sitePlaceholderWarnings(site, rules, explicitRules ? cfg.rules.paths : undefined)) warn(`warning: ${w}`);
  return {
    rules,
    explicitRules,
    native: cfg.native,
    identity: { ...cfg.identity, seeds: seeds.seeds },
    ...(seeds.cluster === undefined ? {} : { seedCluster: seeds.cluster }),
    ...(placeholders ? { placeholders } : {}),
    ...(cfg.rules.overrides?.length ? { overrides: cfg.rules.overrides } : {}),
    ...(cfg.rules.allowedLatenessMs === undefined ? {} : { allowedLatenessMs: cfg.rules.allowedLatenessMs }),
    driftCheckUsers: cfg.rules.driftCheckUsers,
    incidentCloseAfterMs: cfg.incidents.closeAfterMs,
    onUnsetPlaceholders: warn,
  };
}
