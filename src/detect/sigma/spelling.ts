/** Did-you-mean for names and values: the known word a written one is probably a misspelling of. */

/** Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as one edit. */
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const r = rows[i]!;
      r[j] = Math.min(rows[i - 1]![j]! + 1, r[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) r[j] = Math.min(r[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/** A known value `v` is probably a misspelling of (one or two edits; one for short words), if any. */
export function misspelt(v: string, known: readonly string[]): string | undefined {
  if (known.includes(v)) return undefined;
  const limit = v.length <= 5 ? 1 : 2;
  return known.find((k) => distance(v, k) <= limit);
}

/** The known value nearest to `v` within misspelt's limit (the first of equals), if any: `eventNme` → eventName, not eventTime. */
export function nearest(v: string, known: Iterable<string>): string | undefined {
  const limit = v.length <= 5 ? 1 : 2;
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    if (k === v) return undefined;
    const d = distance(v, k);
    if (d <= limit && (best === undefined || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** ` (did you mean "x"?)` for a misspelling of a known word, else ''. */
export function didYouMean(v: string, known: readonly string[]): string {
  const m = misspelt(v, known);
  return m === undefined ? '' : ` (did you mean "${m}"?)`;
}
