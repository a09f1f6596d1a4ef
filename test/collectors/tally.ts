// What the collector tests add up across scenarios, printed once at the end as
// `collectors: events=<n> missing=<n> duplicated=<n> restarts=<n> scenarios=<n> failed=<n>` plus measured
// throughput. Every scenario that runs counts, and one that fails (for whatever reason, also before it could
// count its records) is named in `failed`, so the line never reads clean over a failed run.
export const tally = { events: 0, missing: 0, duplicated: 0, restarts: 0, scenarios: 0, failed: [] as string[] };

export function summaryLine(): string {
  const failed = tally.failed.length === 0 ? '0' : `${tally.failed.length} (${tally.failed.join('; ')})`;
  return `collectors: events=${tally.events} missing=${tally.missing} duplicated=${tally.duplicated} restarts=${tally.restarts} scenarios=${tally.scenarios} failed=${failed}`;
}
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
