/**
 * The detection options of the commands that run rules through the roles (`seam run`, embedded and on Kafka, and
 * `seam dlq replay`'s embedded re-run): rules, the site's placeholder values (file, then seam.yml's inline values
 * over it, as `seam replay`, `seam hunt` and `seam rules lint` take them), lateness, native and identity options.
 */
import { resolve, sep } from 'node:path';
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

/**
 * The cluster and account a record read again (`seam dlq replay`'s embedded re-run) is attributed to, as the live
 * path attributed it when it names none itself: the seam.yml file source whose paths hold its origin (`FILE:LINE`)
 * gives its `cluster` and `account`, as `seam run` reads them; otherwise seam.yml's `cluster`. An account still
 * missing is the one `identity.clusters[]` gives that cluster (only when one account is configured for the name), as
 * the live path keys the cluster's signals (`signalKey`) and as its CloudWatch collector stamps the log group's account.
 */
export function recordAttribution(cfg: SeamConfig): (origin: string | undefined) => { cluster?: string; account?: string } {
  const files = Object.values(cfg.collect?.sources ?? {}).flatMap((s) => (s.type === 'file' ? [s] : []));
  const accounts = new Map<string, Set<string>>();
  for (const c of cfg.identity.clusters) if (c.account !== undefined) accounts.set(c.name, (accounts.get(c.name) ?? new Set()).add(c.account));
  // seam.yml's paths are resolved against its folder; an origin is the path the record was read from.
  const under = (file: string, p: string): boolean => {
    const f = resolve(file);
    const dir = resolve(p);
    return f === dir || f.startsWith(dir + sep);
  };
  return (origin) => {
    // FILE:LINE, FILE:LINE#i, FILE (EVENT-ID): the file is what precedes the position.
    const file = origin === undefined ? undefined : /^(.*?)(?::\d+(?:#\d+)?)?(?: \(.*\))?$/.exec(origin)?.[1];
    const src = file === undefined ? undefined : files.find((s) => s.paths.some((p) => under(file, p)));
    const cluster = src?.cluster ?? cfg.cluster;
    const configured = cluster === undefined ? undefined : accounts.get(cluster);
    const account = src?.account ?? (configured?.size === 1 ? [...configured][0] : undefined);
    return { ...(cluster === undefined ? {} : { cluster }), ...(account === undefined ? {} : { account }) };
  };
}
