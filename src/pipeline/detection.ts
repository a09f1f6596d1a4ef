import { childLogger } from '../core/logger.ts';
import { parseTimespan } from '../detect/correlate/compile.ts';
import { createDetector } from '../detect/detector.ts';
import { DEFAULT_ALLOWED_LATENESS_MS, logLoadProblems, logRuleLoad, ruleCacheDir, throwIfEmpty } from '../detect/load.ts';
import { unsetPlaceholderSummary } from '../detect/sigma/unset-placeholders.ts';
import { loadRules } from '../detect/sigma/ruleset.ts';
import { existingRulePaths } from '../detect/rule-paths.ts';
import type { RuleOverride, Ruleset } from '../detect/sigma/types.ts';
import { NativeConfig, type NativeOptions } from '../detect/native/config.ts';
import type { IdentityGraphOptions } from '../identity/config.ts';
import { IdentityGraph } from '../identity/graph.ts';
import { loadSeeds, type Seeds } from '../identity/seed-files.ts';
import { createDetectStage, type DetectStage } from './detect-stage.ts';
import { accountGroupsOf, clusterAccountsOf, type AccountGroups, type ClusterAccounts } from './signal.ts';

const log = childLogger('pipeline.detection');

/**
 * Rules loaded once per process and shared: the normalize role matches with the ruleset (stateless),
 * the correlate role builds one detect stage per signals partition from it (stateful).
 */
export interface Detection {
  readonly ruleset: Ruleset | undefined;
  /**
   * A fresh detect stage: own identity graph, native state and correlation windows, shared compiled rules.
   * `collectFacts`: keep the facts its graph applies for `drainFacts()` (the correlate role publishes them).
   */
  newStage(opts?: { collectFacts?: boolean }): DetectStage;
  /** How far back the correlate role re-reads `seam.signals` to rebuild a partition's state. */
  readonly rebuildWindowMs: number;
  /** How late evidence may reach the correlate stage and still be handled in event-time order (ADR 0009). */
  readonly allowedLatenessMs: number;
  /** Event time without an alert after which an identity's incident closes (ADR 0020); absent: the default. */
  readonly incidentCloseAfterMs?: number;
  /** Cluster → account from seam.yml `identity.clusters`: the normalize role keys a cluster's signals by it. */
  readonly clusterAccounts: ClusterAccounts;
  /** Account → its group's key from seam.yml `identity.accountGroups`: the normalize role keys a group's signals together (ADR 0056). */
  readonly accountGroups: AccountGroups;
  /** seam.yml `rules.driftCheckUsers` (ADR 0047), for the early alerts; undefined: the default list. */
  readonly driftCheckUsers?: readonly string[];
  /** The seed files read (seam.yml `identity.seeds`, `--seed`): every stage's graph starts from their facts. */
  readonly seeds: Seeds;
}

export interface DetectionOptions {
  /**
   * Rule files and folders. A path that exists but yields no rule is an error (SEAM_ERR_RULES_EMPTY); a
   * missing one is an error too when `explicitRules` (the user named it), else skipped with a warning (seam.yml's
   * paths, or the default) unless none exists (src/detect/rule-paths.ts). An empty list: native detections only.
   */
  rules?: string[];
  explicitRules?: boolean;
  native?: NativeOptions;
  /**
   * Identity graph options (seam.yml `identity`: clusters with egress CIDRs and OIDC issuers, seeds); each stage gets
   * its own graph, which starts from the facts of `identity.seeds` (read once, here).
   */
  identity?: IdentityGraphOptions;
  /** The cluster of seeds that name none (seam.yml `cluster`, `--cluster`). */
  seedCluster?: string;
  allowedLatenessMs?: number;
  /** seam.yml `incidents.closeAfterMs` (ADR 0020). */
  incidentCloseAfterMs?: number;
  /** Cap on the rebuild window (the 7-day first-use window of native detections is not re-read). */
  maxRebuildMs?: number;
  /** Values of the rules' `%name%` placeholders (see deploy/config/placeholders.yml). */
  placeholders?: Record<string, string[]>;
  /** seam.yml `rules.overrides`: site overrides applied at load (src/detect/sigma/overrides.ts). */
  overrides?: readonly RuleOverride[];
  /** seam.yml `rules.driftCheckUsers`: whose dry runs are GitOps drift checks (ADR 0047); default DEFAULT_DRIFT_CHECK_USERS. */
  driftCheckUsers?: readonly string[];
  /** Rule cache folder (LoadOptions.cacheDir); default ruleCacheDir() (under SEAM_CACHE_DIR), false for none. */
  ruleCacheDir?: string | false;
  /** Told the one-line summary of the placeholders the rules use that have no values (unsetPlaceholderSummary), when some do. */
  onUnsetPlaceholders?: (line: string) => void;
}

export async function loadDetection(o: DetectionOptions = {}): Promise<Detection> {
  const lateness = o.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const { paths, skipped } = existingRulePaths(o.rules ?? [], o.explicitRules === true);
  if (skipped.length > 0) log.warn({ paths: skipped }, `skipping rule paths that do not exist: ${skipped.join(', ')}`);
  let ruleset: Ruleset | undefined;
  if (paths.length > 0) {
    const cacheDir = o.ruleCacheDir === undefined ? ruleCacheDir() : o.ruleCacheDir === false ? undefined : o.ruleCacheDir;
    const loaded = await loadRules(paths, { ...(o.placeholders ? { placeholders: o.placeholders } : {}), ...(o.overrides?.length ? { overrides: o.overrides } : {}), ...(cacheDir === undefined ? {} : { cacheDir }) });
    throwIfEmpty(loaded);
    ruleset = loaded.ruleset;
    const unset = o.onUnsetPlaceholders ? unsetPlaceholderSummary(loaded.diagnostics) : undefined;
    if (unset !== undefined) o.onUnsetPlaceholders!(unset);
    const probe = createDetector({ ruleset, allowedLatenessMs: lateness });
    logLoadProblems(log, loaded.diagnostics, probe.diagnostics, paths);
    logRuleLoad(log, loaded, probe.correlationsRejected);
  }
  const native = NativeConfig.parse(o.native ?? {});
  // Read before any stage exists: a seed file that cannot be read stops the start, naming it (SEAM_ERR_SEED).
  const seeds = await loadSeeds(o.identity?.seeds ?? [], { ...(o.seedCluster === undefined ? {} : { cluster: o.seedCluster }), clusters: o.identity?.clusters?.map((c) => ({ egressCidrs: [], ...c })) ?? [] });
  if (seeds.files.length > 0) log.info({ seeds: seeds.files }, `identity graph seeded from ${seeds.files.map((f) => `${f.path} (${f.kind}, ${f.facts} facts)`).join(', ')}`);
  const newGraph = (): IdentityGraph => {
    const g = new IdentityGraph(o.identity);
    g.applyFacts(seeds.facts);
    return g;
  };
  const longestCorrelation = Math.max(0, ...(ruleset?.correlations.map((c) => parseTimespan((c.doc as { correlation?: { timespan?: unknown } } | null)?.correlation?.timespan) ?? 0) ?? []));
  const longestNative = Math.max(native.execToAwsWindowMs, native.tokenUseWindowMs, 2 * native.guardDutyJoinMs);
  const rebuildWindowMs = Math.min(Math.max(longestCorrelation, longestNative) + lateness, o.maxRebuildMs ?? 24 * 3600_000);
  return {
    ruleset,
    rebuildWindowMs,
    allowedLatenessMs: lateness,
    clusterAccounts: clusterAccountsOf(o.identity?.clusters),
    accountGroups: accountGroupsOf(o.identity?.accountGroups),
    ...(o.incidentCloseAfterMs === undefined ? {} : { incidentCloseAfterMs: o.incidentCloseAfterMs }),
    ...(o.driftCheckUsers === undefined ? {} : { driftCheckUsers: o.driftCheckUsers }),
    seeds,
    newStage: (s) =>
      createDetectStage({
        ...(ruleset ? { detector: createDetector({ ruleset, allowedLatenessMs: lateness, ...(o.driftCheckUsers === undefined ? {} : { driftCheckUsers: o.driftCheckUsers }) }) } : {}),
        ...(o.native || o.identity ? { native: { ...(o.native ? { config: o.native } : {}), ...(o.identity ? { graph: newGraph() } : {}) } } : {}),
        ...(s?.collectFacts ? { collectFacts: true } : {}),
      }),
  };
}
