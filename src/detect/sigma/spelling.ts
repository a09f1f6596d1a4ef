/** Did-you-mean for names and values: the known word a written one is probably a misspelling of. */

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** A known value `v` is probably a misspelling of (one or two edits; one for short words), if any. */
export function misspelt(v: string, known: readonly string[]): string | undefined {
  if (known.includes(v)) return undefined;
  const limit = v.length <= 5 ? 1 : 2;
  return known.find((k) => distance(v, k) <= limit);
}

/** ` (did you mean "x"?)` for a misspelling of a known word, else ''. */
export function didYouMean(v: string, known: readonly string[]): string {
  const m = misspelt(v, known);
  return m === undefined ? '' : ` (did you mean "${m}"?)`;
}
