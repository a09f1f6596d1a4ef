/**
 * Shared vocabulary of the correlation engine: the correlation types of Sigma correlation spec v2.1
 * and the compiled form of a correlation document.
 */
export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** `condition:` of a correlation without its `field`; several comparisons are ANDed (a range). */
export type Condition = Partial<Record<Comparison, number>>;

/** A correlation document after validation, with its rule references resolved to ids. */
export interface CompiledCorrelation {
  /** The document's `id`, else its `name`, else a hash of its title (alert ids need a stable key). */
  id: string;
  name?: string;
  title: string;
  level: string;
  tags: string[];
  description?: string;
  /** The `Triage:` paragraph of the description, for the analyst (src/detect/triage.ts), read once at compile. */
  triage?: string;
  type: CorrelationType;
  /** Ids of the referenced rules or correlations, in the order written (temporal_ordered uses it). */
  rules: string[];
  groupBy: string[];
  /** Per referenced rule (same index as `rules`): group-by field → the field to read in its events. */
  groupFields: string[][];
  /** Per referenced rule: the `condition.field` names after aliasing (value_* types only). */
  valueFields: string[][];
  /** `condition.field` as written (for summaries). */
  field?: string[];
  /** Sigma `fields:` as written: the fields of interest its alerts carry, taken from the events they rest on. */
  fields?: string[];
  /** Per referenced rule: the `fields:` names after aliasing (same index as `fields`). */
  fieldPaths?: string[][];
  timespan: string;
  timespanMs: number;
  condition: Condition;
  /** Referenced rules also emit their own alerts. */
  generate: boolean;
  /**
   * True when a window may fire as soon as it satisfies the condition: the aggregate only grows as
   * events are added and the condition has only lower bounds. Otherwise windows are judged when
   * they close (the watermark passes their end).
   */
  early: boolean;
  file: string;
  line: number;
  column: number;
}
