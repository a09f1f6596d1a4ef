/**
 * Query algebra for hunting. A rule part compiles to two OpenSearch queries: `lo` matches only
 * documents the streaming engine matches (a subset) and `hi` matches every document it matches (a
 * superset). Where the DSL says exactly what the engine says, `lo` and `hi` are the same query.
 * `true` stands for "every document", `false` for "none"; both fold away as queries are combined.
 */

export type Dsl = Record<string, unknown>;
export type Q = Dsl | boolean;

export interface Bounds {
  lo: Q;
  hi: Q;
  /** True when `lo` and `hi` are the same query (the DSL is the engine's semantics). */
  exact: boolean;
  /** Why a part is not exact; reported with the rule. */
  notes: string[];
}

export function exact(q: Q): Bounds {
  return { lo: q, hi: q, exact: true, notes: [] };
}

export function inexact(lo: Q, hi: Q, note: string): Bounds {
  return { lo, hi, exact: false, notes: [note] };
}

export function qAnd(items: Q[]): Q {
  if (items.some((q) => q === false)) return false;
  const rest = items.filter((q): q is Dsl => q !== true);
  if (rest.length === 0) return true;
  if (rest.length === 1) return rest[0]!;
  return { bool: { filter: rest } };
}

export function qOr(items: Q[]): Q {
  if (items.some((q) => q === true)) return true;
  const rest = items.filter((q): q is Dsl => q !== false);
  if (rest.length === 0) return false;
  if (rest.length === 1) return rest[0]!;
  return { bool: { should: rest, minimum_should_match: 1 } };
}

export function qNot(q: Q): Q {
  if (typeof q === 'boolean') return !q;
  return { bool: { must_not: [q] } };
}

/** At least `k` of `items`. */
export function qAtLeast(k: number, items: Q[]): Q {
  const trues = items.filter((q) => q === true).length;
  const rest = items.filter((q): q is Dsl => typeof q !== 'boolean');
  const need = k - trues;
  if (need <= 0) return true;
  if (rest.length < need) return false;
  if (need === 1) return qOr(rest);
  if (need === rest.length) return qAnd(rest);
  return { bool: { should: rest, minimum_should_match: need } };
}

const notesOf = (bs: Bounds[]): string[] => [...new Set(bs.flatMap((b) => b.notes))];

export function bAnd(bs: Bounds[]): Bounds {
  return { lo: qAnd(bs.map((b) => b.lo)), hi: qAnd(bs.map((b) => b.hi)), exact: bs.every((b) => b.exact), notes: notesOf(bs) };
}

export function bOr(bs: Bounds[]): Bounds {
  return { lo: qOr(bs.map((b) => b.lo)), hi: qOr(bs.map((b) => b.hi)), exact: bs.every((b) => b.exact), notes: notesOf(bs) };
}

export function bNot(b: Bounds): Bounds {
  return { lo: qNot(b.hi), hi: qNot(b.lo), exact: b.exact, notes: b.notes };
}

export function bAtLeast(k: number, bs: Bounds[]): Bounds {
  return { lo: qAtLeast(k, bs.map((b) => b.lo)), hi: qAtLeast(k, bs.map((b) => b.hi)), exact: bs.every((b) => b.exact), notes: notesOf(bs) };
}

/** The query OpenSearch needs for a `Q` (constants become match_all / match_none). */
export function toDsl(q: Q): Dsl {
  if (q === true) return { match_all: {} };
  if (q === false) return { match_none: {} };
  return q;
}
