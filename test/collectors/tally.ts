// What the collector tests add up across scenarios, printed once at the end as
// `collectors: events=<n> missing=<n> duplicated=<n> restarts=<n>` plus measured throughput.
export const tally = { events: 0, missing: 0, duplicated: 0, restarts: 0 };
export const throughput: string[] = [];

/** Counts expected ids against produced ones; returns what was missing and duplicated. */
export function account(expected: Iterable<string>, produced: string[]): { missing: string[]; duplicated: string[] } {
  const counts = new Map<string, number>();
  for (const p of produced) counts.set(p, (counts.get(p) ?? 0) + 1);
  const missing: string[] = [];
  let n = 0;
  for (const e of expected) {
    n++;
    if (!counts.has(e)) missing.push(e);
  }
  const duplicated = [...counts].filter(([, c]) => c > 1).map(([k]) => k);
  tally.events += n;
  tally.missing += missing.length;
  tally.duplicated += duplicated.length;
  return { missing, duplicated };
}
