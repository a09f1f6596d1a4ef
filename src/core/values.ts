/**
 * Readers for values of unknown shape (parsed JSON, YAML, raw event fields): the one set every module
 * uses, so "a string" means the same everywhere (non-empty) and the hot path stays allocation-free.
 */

export type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` as a plain object (not null, not an array), else undefined. */
export function obj(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** A non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A non-empty string, or a finite number as text (ids some sources write as numbers). */
export function strOrNumber(v: unknown): string | undefined {
  return typeof v === 'string' ? str(v) : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** First string of a string or string[] (EKS `user.extra` values are arrays). */
export function first(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (Array.isArray(v)) return str(v[0]);
  return undefined;
}

/** The strings of an array (the array itself when all are strings: no copy), undefined when `v` is no array. */
export function strArray(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  for (const x of v) if (typeof x !== 'string') return v.filter((y): y is string => typeof y === 'string');
  return v as string[];
}

/** The strings of an array as a new array (safe to keep or change), [] when `v` is no array. */
export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
