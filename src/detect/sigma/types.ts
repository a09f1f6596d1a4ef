import type { YNode } from './read.ts';
/**
 * Shared types of the Sigma engine. Other components (the correlation engine, the CLI) import
 * these; keep them stable.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { RuleCacheReport } from './cache.ts';
import type { RuleModel } from './model.ts';
import type { RuleReads } from './reads.ts';

/** A problem found while loading rules, with a position a user can jump to. */
export interface Diagnostic {
  code: ErrorCode;
  severity: 'error' | 'warning';
  file: string;
  /** 1-based; 0 when unknown (e.g. the file cannot be read). */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  message: string;
  /** Rule id or title, when the problem belongs to one rule. */
  rule?: string;
  /** A reference (to a rule or correlation) that resolves to nothing: the reference as written. */
  ref?: string;
}

/** The `logsource` block of a rule. */
export interface Logsource {
  product?: string;
  category?: string;
  service?: string;
  definition?: string;
}

/** A correlation document, validated for the basics only, handed as-is to `src/detect/correlate/`. */
export interface CorrelationDoc {
  /** The parsed YAML object (plain JS values). */
  doc: unknown;
  file: string;
  /** 1-based position of the document's start. */
  line: number;
  column: number;
  id?: string;
  name?: string;
  /** Where the `name:` key is (lint's SEAM_ERR_RULE_NAME points there). */
  namePos?: { line: number; column: number };
  /** The document's position tree, when read from a file: problems point at the offending key. */
  node?: YNode;
}

/** A detection rule ready to evaluate. */
export interface CompiledRule {
  id: string;
  title: string;
  name?: string;
  /** Where the `name:` key is (lint's SEAM_ERR_RULE_NAME points there). */
  namePos?: { line: number; column: number };
  level?: string;
  status?: string;
  description?: string;
  /** The `Triage:` paragraph of the description, for the analyst (src/detect/triage.ts), read once at load. */
  triage?: string;
  tags: string[];
  logsource: Logsource;
  file: string;
  line: number;
  column: number;
  /** Fields the rule asks alerts to carry (`fields:`), if any. */
  fields?: string[];
  falsepositives?: string[];
  /**
   * What the detection and the filters applied to it read (ADR 0025: early alerts); undefined when not known
   * (a rule no Seam source feeds, compiled on first use).
   */
  reads?: RuleReads;
  /** Files of the meta-filters applied to this rule (ANDed to its detection), in load order. */
  filteredBy?: string[];
  /** Where the rule's own detection reads each of its paths (the entry's key), for lint warnings. */
  readsAt?: Record<string, { line: number; column: number }>;
  /** Evaluates the detection (including filters applied to this rule) against one event. */
  test(event: Record<string, unknown>): boolean;
}

export interface RuleMatch {
  rule: CompiledRule;
  event: SeamEvent;
}

export interface Ruleset {
  rules: CompiledRule[];
  correlations: CorrelationDoc[];
  /**
   * Ids and names of rules, filters and correlations that were left out because another document uses the same id
   * or name, each with why: a correlation or filter naming one says it did not load and why, not just "not loaded".
   */
  notLoaded?: ReadonlyMap<string, string>;
  /** Rules that match the event (only rules whose logsource applies to `event.seam.source`). */
  match(event: SeamEvent): RuleMatch[];
}

export interface LoadStats {
  files: number;
  rules: number;
  correlations: number;
  filters: number;
  rejected: number;
}

/** Where rule loading spent its time, in milliseconds (wall clock). */
export interface LoadTimings {
  /** Listing folders and reading files. */
  read: number;
  /** Stage 1: YAML (or the rule cache). */
  parse: number;
  /** Stages 2 and 3: validation and compilation. */
  compile: number;
  /** Stage 4: the rule index. */
  index: number;
  total: number;
}

export interface LoadOptions {
  /**
   * Folder of the rule cache (cache.ts): stage 1 results keyed by file content hash, so unchanged files
   * are not parsed again. No cache when undefined.
   */
  cacheDir?: string;
  /** Values for `|expand` placeholders, keyed by name without the `%` signs. */
  placeholders?: Record<string, string[]>;
  /**
   * Also evaluate rules whose logsource maps to no Seam source (Windows, auditd, Azure...) against
   * every event. Off in production; the benchmark turns it on to measure the whole corpus.
   */
  matchUnmapped?: boolean;
  /** Keep every validated document's model in LoadResult.models (the hunt compiler consumes them). */
  keepModels?: boolean;
  /** Rule files larger than this are refused (SEAM_ERR_RULE_FILE). Default 1 MiB. */
  maxRuleFileBytes?: number;
  /** Values one rule value may expand to through `|expand` placeholders; more is a load error. Default 4096. */
  maxPlaceholderExpansion?: number;
  /** Site overrides (seam.yml `rules.overrides`, overrides.ts): applied after filters, before the rule index. */
  overrides?: readonly RuleOverride[];
}

/** One site override of a loaded rule or correlation (seam.yml `rules.overrides`). */
export interface RuleOverride {
  /** The rule's or correlation's id or name. */
  rule: string;
  /** True: the rule raises no alert and feeds no correlation (a correlation that uses it is disabled too). */
  disabled?: boolean;
  level?: 'informational' | 'low' | 'medium' | 'high' | 'critical';
  /** A correlation's threshold: these comparisons replace the document's (its condition.field is kept). */
  condition?: { gt?: number; gte?: number; lt?: number; lte?: number; eq?: number; neq?: number };
}

export interface LoadResult {
  ruleset: Ruleset;
  diagnostics: Diagnostic[];
  stats: LoadStats;
  timings?: LoadTimings;
  /** What the rule cache did, when one was used. */
  cache?: RuleCacheReport;
  /** Every validated document's model (rules, filters, correlations), in load order, with `keepModels`. */
  models?: RuleModel[];
  /**
   * The given paths that yielded no rule, filter or correlation (missing, no rule files under them, or every
   * file rejected or already loaded from an earlier path): each also has a SEAM_ERR_RULES_EMPTY diagnostic.
   */
  emptyPaths?: string[];
  /** What each applied site override changed (LoadOptions.overrides), one line each, in the order given. */
  overrides?: string[];
}
