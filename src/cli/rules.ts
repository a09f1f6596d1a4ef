import type { SeamConfig } from '../core/config/schema.ts';
import type { RuleSite } from '../detect/load.ts';

/** Options of `seam rules lint` and `seam rules test`: where the site's placeholder values come from. */
export interface RulesCliOptions {
  /** YAML map of placeholder values (as `seam replay --placeholders`); wins over seam.yml's rules.placeholdersFile (lint; test reads only this). */
  placeholders?: string;
  /** seam.yml (default SEAM_CONFIG): its rules.paths, rules.placeholdersFile and rules.placeholders. */
  config?: string;
  /** lint: every diagnostic, also each use of an unset placeholder (folded to one line per placeholder without it). */
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * The rule paths and placeholder values the rule commands use, as `seam replay` and `seam run` take them: the paths
 * given, else seam.yml's rules.paths, else `detections`; placeholders from --placeholders or rules.placeholdersFile,
 * with seam.yml's inline rules.placeholders over the file's (only --placeholders when configPlaceholders is false). Undefined when seam.yml is invalid (already reported).
 */
async function ruleSite(paths: string[], o: RulesCliOptions, configPlaceholders = true): Promise<{ paths: string[]; configured?: string[]; site: RuleSite; overrides?: SeamConfig['rules']['overrides'] } | undefined> {
  const env = o.env ?? process.env;
  // seam.yml is read only when one is named, by the flag or SEAM_CONFIG (its schema takes a moment to load).
  let cfg: SeamConfig | undefined;
  if (o.config !== undefined || (env.SEAM_CONFIG ?? '').trim() !== '') {
    const { loadCliConfig } = await import('./config.ts');
    const loaded = await loadCliConfig(o.config, env);
    if (loaded === undefined) return undefined;
    cfg = loaded.config;
  }
  const placeholdersFile = o.placeholders ?? (configPlaceholders ? cfg?.rules.placeholdersFile : undefined);
  const inline = configPlaceholders ? cfg?.rules.placeholders : undefined;
  return {
    paths: paths.length > 0 ? paths : (cfg?.rules.paths ?? ['detections']),
    ...(paths.length > 0 ? { configured: cfg?.rules.paths ?? ['detections'] } : {}),
    site: { ...(placeholdersFile ? { placeholdersFile } : {}), ...(inline ? { placeholders: inline } : {}) },
    // seam.yml's rules.overrides, for lint only (tests stay hermetic, as with the placeholders).
    ...(configPlaceholders && cfg?.rules.overrides?.length ? { overrides: cfg.rules.overrides } : {}),
  };
}

// The rule commands load the engine lazily, so `seam replay` without rules starts fast.
export async function rulesLintCommand(paths: string[], o: RulesCliOptions = {}): Promise<number> {
  const r = await ruleSite(paths, o);
  if (r === undefined) return 2;
  const { lintCommand } = await import('../detect/sigma/lint.ts');
  const { sitePlaceholders, sitePlaceholderWarnings } = await import('../detect/load.ts');
  const placeholders = await sitePlaceholders(r.site);
  for (const w of await sitePlaceholderWarnings(r.site, r.paths, r.configured)) process.stdout.write(`warning: ${w}\n`);
  return lintCommand(r.paths, process.stdout, { placeholders, ...(r.overrides ? { overrides: r.overrides } : {}), verbose: o.verbose === true });
}

/**
 * Tests are hermetic by default (review-de M5): a case runs on its test file's and its own placeholder values only,
 * so a seam.yml named by SEAM_CONFIG cannot change a result; seam.yml gives the rule paths, never placeholder values.
 * Site values come in only with an explicit --placeholders FILE, under each test file's and case's own.
 */
export async function rulesTestCommand(paths: string[], o: RulesCliOptions = {}): Promise<number> {
  const r = await ruleSite(paths, o, false);
  if (r === undefined) return 2;
  const { runRuleTests } = await import('../detect/rule-tests.ts');
  const { sitePlaceholders } = await import('../detect/load.ts');
  // An explicit --config brings its rules.overrides (not SEAM_CONFIG alone: the default stays the pack as shipped):
  // each case runs as shipped and as the site runs it, and the cases an override changes are said, not failed.
  let overrides: SeamConfig['rules']['overrides'] | undefined;
  if (o.config !== undefined) {
    const { loadCliConfig } = await import('./config.ts');
    overrides = (await loadCliConfig(o.config, o.env ?? process.env))?.config.rules.overrides;
  }
  const s = await runRuleTests(r.paths, process.stdout, { placeholders: await sitePlaceholders(r.site), ...(overrides?.length ? { overrides } : {}) });
  return s.failed === 0 && s.missing === 0 && s.errors === 0 ? 0 : 1;
}
