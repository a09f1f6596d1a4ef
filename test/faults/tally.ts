// One tally over every fault scenario of a run, whichever file ran it. Each scenario appends its counts
// to a file that test/global-setup.ts names and, when the run ends, sums into the last line:
//   faults: lost=<n> duplicated=<n> dlq=<n> scenarios=<n>
// Outside the integration project's global setup (no file provided) scenarios are only counted per file.
import fs from 'node:fs';
import { inject } from 'vitest';

export interface FaultCounts {
  lost: number;
  duplicated: number;
  dlq: number;
}

export interface FaultTally extends FaultCounts {
  scenarios: number;
}

function tallyFile(): string | undefined {
  try {
    return inject('faultsTallyFile');
  } catch {
    return undefined;
  }
}

/** Counts one finished scenario into `tally` (this file's) and into the run's tally file. */
export function recordScenario(tally: FaultTally, name: string, v: FaultCounts): void {
  tally.lost += v.lost;
  tally.duplicated += v.duplicated;
  tally.dlq += v.dlq;
  tally.scenarios++;
  const file = tallyFile();
  if (file !== undefined) fs.appendFileSync(file, `${JSON.stringify({ name, lost: v.lost, duplicated: v.duplicated, dlq: v.dlq })}\n`);
}

/** Sums a tally file written by recordScenario; undefined when no scenario ran. */
export function sumTallyFile(file: string): FaultTally | undefined {
  if (!fs.existsSync(file)) return undefined;
  const t: FaultTally = { lost: 0, duplicated: 0, dlq: 0, scenarios: 0 };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const v = JSON.parse(line) as FaultCounts;
    t.lost += v.lost;
    t.duplicated += v.duplicated;
    t.dlq += v.dlq;
    t.scenarios++;
  }
  return t;
}

export const formatTally = (label: string, t: FaultTally): string => `${label}: lost=${t.lost} duplicated=${t.duplicated} dlq=${t.dlq} scenarios=${t.scenarios}`;
