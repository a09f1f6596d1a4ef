import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { seamCacheDir } from '../core/cache-dir.ts';
import { SeamError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import { createDetector } from './detector.ts';
import { placeholderNamesUsed, unusedPlaceholderWarnings } from './placeholder-use.ts';
import { loadRules, throwIfEmpty } from './sigma/ruleset.ts';
export { throwIfEmpty } from './sigma/ruleset.ts';
import { formatDiagnostic } from './sigma/diagnostics.ts';
import { unsetPlaceholderSummary } from './sigma/unset-placeholders.ts';
import type { Diagnostic, LoadOptions, LoadResult } from './sigma/types.ts';

const log = childLogger('detect');

/**
 * Reads a placeholders file: a YAML map of placeholder name (without `%`) to a value or a list of values.
 */
export async function loadPlaceholdersFile(path: string): Promise<Record<string, string[]>> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new SeamError('SEAM_ERR_CONFIG_INVALID', `cannot read placeholders file ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SeamError('SEAM_ERR_CONFIG_INVALID', `placeholders file ${path} must map names to values`, { details: { path } });
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(doc)) {
    const values = Array.isArray(v) ? v : [v];
    if (values.some((x) => x !== null && typeof x === 'object')) {
      throw new SeamError('SEAM_ERR_CONFIG_INVALID', `placeholder ${k} in ${path} must be a value or a list of values`, { details: { path, placeholder: k } });
    }
    out[k.replace(/^%|%$/g, '')] = values.map((x) => String(x));
  }
  return out;
}

/** Where a site's placeholder values come from: a file, and values given inline (seam.yml rules.placeholders). */
export interface RuleSite {
  placeholdersFile?: string | undefined;
  placeholders?: Record<string, string[]> | undefined;
}

/**
 * The placeholder values of a site, as every command that loads rules takes them: the file's, then the inline
 * values over them (seam.yml's rules.placeholders over its rules.placeholdersFile). Undefined when neither is set.
 */
export async function sitePlaceholders(site: RuleSite): Promise<Record<string, string[]> | undefined> {
  const fromFile = site.placeholdersFile ? await loadPlaceholdersFile(site.placeholdersFile) : undefined;
  return fromFile || site.placeholders ? { ...fromFile, ...site.placeholders } : undefined;
}

/**
 * Whether the rule paths a command loads cover the configured ones (seam.yml's rules.paths, else `detections`): each
 * configured path that exists here is one of `paths` or under one. Configured paths of which none exists name no pack
 * to be a subset of: covered.
 */
export function coversRulePaths(paths: readonly string[], configured: readonly string[]): boolean {
  const loaded = paths.map((p) => resolve(p));
  return configured
    .filter((c) => existsSync(c))
    .map((c) => resolve(c))
    .every((c) => loaded.some((p) => c === p || c.startsWith(p.endsWith(sep) ? p : p + sep)));
}

/**
 * One warning per key of a site's placeholders file, then of seam.yml's inline rules.placeholders, that no rule,
 * correlation or filter under `paths` names, with the closest name they do use (review-newuser2 M4). Empty when
 * the site sets no placeholders.
 *
 * `configured`: the configured rules paths, when the command was given its own (`--rules`). When `paths` load only
 * part of them (a one-rule hunt, a lint of one folder, with the site's full file), the keys the other rules use are
 * expected to be unused: no warning, one debug line with their count and names (review-soc follow-up); `seam config
 * check` checks the file against every configured rule.
 */
export async function sitePlaceholderWarnings(site: RuleSite, paths: readonly string[], configured?: readonly string[]): Promise<string[]> {
  if (!site.placeholdersFile && !site.placeholders) return [];
  const used = await placeholderNamesUsed(paths);
  const out: string[] = [];
  const unused: string[] = [];
  if (site.placeholdersFile) {
    const keys = Object.keys(await loadPlaceholdersFile(site.placeholdersFile));
    out.push(...unusedPlaceholderWarnings(keys, used, site.placeholdersFile));
    unused.push(...keys.filter((k) => !used.has(k)));
  }
  if (site.placeholders) {
    out.push(...unusedPlaceholderWarnings(Object.keys(site.placeholders), used, 'seam.yml rules.placeholders'));
    unused.push(...Object.keys(site.placeholders).filter((k) => !used.has(k)));
  }
  if (out.length === 0 || configured === undefined || coversRulePaths(paths, configured)) return out;
  log.debug(
    { unused, paths, configured },
    `${unused.length} site placeholders are used by none of the rules loaded (${paths.join(', ')}), part of the configured ${configured.join(', ')}: not warned about (seam config check checks them against all): ${unused.join(', ')}`,
  );
  return [];
}

/**
 * The rule cache folder of commands that load rules to run them (replay, run and the roles): under
 * seamCacheDir() (SEAM_CACHE_DIR), none when that is `off`. `seam rules lint` and `seam rules test` read
 * every file afresh.
 */
export function ruleCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = seamCacheDir(env);
  return dir === undefined ? undefined : join(dir, 'rules');
}

/**
 * Logs what a rule load did: the site overrides applied (one line each), counts, time per stage, and the rule cache's hits and warnings. `correlationsRejected`:
 * correlations the detector could not compile (Detector.correlationsRejected), counted as `seam rules lint` counts
 * them: not among `correlations`, and said on the line as rejected rule documents are.
 */
export function logRuleLoad(log: Logger, r: Pick<LoadResult, 'stats' | 'timings' | 'cache' | 'overrides'>, correlationsRejected = 0, sayOverrides = true): void {
  for (const w of r.cache?.warnings ?? []) log.warn({ cache: r.cache?.file }, `rule cache: ${w}`);
  // Every site override applied (seam.yml rules.overrides), one line each: a run's alerts differ from the pack's.
  if (sayOverrides) for (const line of r.overrides ?? []) log.info({ override: line }, line);
  const cache = r.cache ? { cache: { state: r.cache.state, hits: r.cache.hits, misses: r.cache.misses, file: r.cache.file } } : {};
  const correlations = r.stats.correlations - correlationsRejected;
  const rejected = r.stats.rejected > 0 || correlationsRejected > 0 ? ` (rejected=${r.stats.rejected} correlations_rejected=${correlationsRejected}: the problems above)` : '';
  log.info(
    { ...r.stats, correlations, correlations_rejected: correlationsRejected, ms: r.timings, ...cache },
    `loaded ${r.stats.rules} rules and ${correlations} correlations from ${r.stats.files} files in ${r.timings?.total ?? '?'} ms${rejected}`,
  );
}

/**
 * Loads rules and correlations from folders and builds the detector the pipeline runs. Problems in
 * individual rules are reported and those rules left out; the rest still run.
 */
/** How late a signal may arrive and still be handled in event-time order (ADR 0009), unless configured. */
export const DEFAULT_ALLOWED_LATENESS_MS = 60_000;

export async function buildDetector(
  paths: string[],
  opts: LoadOptions & {
    allowedLatenessMs?: number;
    placeholdersFile?: string;
    configuredRules?: readonly string[];
    driftCheckUsers?: readonly string[];
    onUnsetPlaceholders?: (line: string) => void;
    /** False: the site overrides applied are not logged (a replay worker after the first: the first says them for the run). */
    sayOverrides?: boolean;
  } = {},
): Promise<ReturnType<typeof createDetector>> {
  const placeholders = await sitePlaceholders(opts);
  for (const w of await sitePlaceholderWarnings(opts, paths, opts.configuredRules)) process.stderr.write(`seam: warning: ${w}\n`);
  const cacheDir = opts.cacheDir ?? ruleCacheDir();
  const loaded = await loadRules(paths, { ...opts, ...(placeholders ? { placeholders } : {}), ...(cacheDir === undefined ? {} : { cacheDir }) });
  throwIfEmpty(loaded);
  const { ruleset, diagnostics } = loaded;
  const unset = opts.onUnsetPlaceholders ? unsetPlaceholderSummary(diagnostics) : undefined;
  if (unset !== undefined) opts.onUnsetPlaceholders!(unset);
  const detector = createDetector({ ruleset, allowedLatenessMs: opts.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS, ...(opts.driftCheckUsers === undefined ? {} : { driftCheckUsers: opts.driftCheckUsers }) });
  logLoadProblems(log, diagnostics, detector.diagnostics, paths);
  logRuleLoad(log, loaded, detector.correlationsRejected, opts.sayOverrides !== false);
  return detector;
}

/**
 * Warning codes every load says, not only `seam rules lint`: they change which alerts a run raises (a correlation
 * withholding a rule's alerts, a filter narrowing a rule, a filter or correlation naming a rule that is not loaded),
 * so a site that deploys without linting must still hear of them (review-de H3). Placeholder warnings have their own
 * one-line summary (unsetPlaceholderSummary); lint-only checks (fields, triage text) stay with `seam rules lint`.
 */
const LOAD_WARNING_CODES: ReadonlySet<string> = new Set(['SEAM_ERR_RULE_SUPPRESSED', 'SEAM_ERR_RULE_REFERENCE']);

/**
 * Logs a load's problems: rule documents left out (errors), correlations the detector could not compile, and the
 * warnings in LOAD_WARNING_CODES, at most 20 lines of each kind, then how many more `seam rules lint` shows.
 */
export function logLoadProblems(log: Logger, loaded: readonly Diagnostic[], compiled: readonly Diagnostic[], paths: readonly string[]): void {
  const more = (n: number, what: string): void => {
    if (n > 20) log.warn(`${n - 20} more ${what}; run \`seam rules lint ${paths.join(' ')}\` to see them all`);
  };
  const errors = loaded.filter((d) => d.severity === 'error');
  for (const d of errors.slice(0, 20)) log.warn({ diagnostic: d }, `rule problem: ${formatDiagnostic(d)}`);
  more(errors.length, 'rule problems');
  // Correlation problems (missing references, bad timespans) are found when the detector compiles them.
  for (const d of compiled.filter((x) => x.severity === 'error')) log.warn({ diagnostic: d }, `correlation problem: ${formatDiagnostic(d)}`);
  const warnings = [...loaded, ...compiled].filter((d) => d.severity === 'warning' && LOAD_WARNING_CODES.has(d.code));
  for (const d of warnings.slice(0, 20)) log.warn({ diagnostic: d }, `rule warning: ${formatDiagnostic(d)}`);
  more(warnings.length, 'rule warnings');
}
