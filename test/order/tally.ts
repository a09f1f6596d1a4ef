// One verdict over every run of the event-time order tests (test/order/), whichever file ran it. Each run
// appends its counts to a file that test/global-setup.ts names and, when the run ends, sums into the line
// `npm run test:order` ends with:
//   order: runs=<n> paths=embedded,kafka alerts_expected=<n> missing=<n> extra=<n> identity_differ=<n>
// (identity_differ: indexed events whose principal, chain or origin differ from embedded mode's, or are missing; ADR 0014)
import fs from 'node:fs';
import { inject } from 'vitest';

export type OrderPath = 'embedded' | 'kafka';

export interface OrderRun {
  path: OrderPath;
  /** Alerts of the reference (embedded mode over the demo file). */
  expected: number;
  /** Reference alerts the run did not raise, and alerts it raised that the reference has not. */
  missing: number;
  extra: number;
  /** Events whose indexed identity differs from the reference's, or that were not indexed (ADR 0014). */
  identityDiffer?: number;
}

export interface OrderTally {
  runs: number;
  paths: OrderPath[];
  expected: number;
  missing: number;
  extra: number;
  identityDiffer: number;
}

function tallyFile(): string | undefined {
  try {
    return inject('orderTallyFile');
  } catch {
    return undefined;
  }
}

/** Counts one finished run into the run's tally file (outside the integration project's setup: nowhere). */
export function recordOrderRun(run: OrderRun & { name: string }): void {
  const file = tallyFile();
  if (file !== undefined) fs.appendFileSync(file, `${JSON.stringify(run)}\n`);
}

export function sumOrderFile(file: string): OrderTally | undefined {
  if (!fs.existsSync(file)) return undefined;
  const t: OrderTally = { runs: 0, paths: [], expected: 0, missing: 0, extra: 0, identityDiffer: 0 };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as OrderRun;
    t.runs++;
    if (!t.paths.includes(r.path)) t.paths.push(r.path);
    t.expected = Math.max(t.expected, r.expected);
    t.missing += r.missing;
    t.extra += r.extra;
    t.identityDiffer += r.identityDiffer ?? 0;
  }
  t.paths.sort();
  return t;
}

export const formatOrder = (t: OrderTally): string => `order: runs=${t.runs} paths=${t.paths.join(',')} alerts_expected=${t.expected} missing=${t.missing} extra=${t.extra} identity_differ=${t.identityDiffer}`;
