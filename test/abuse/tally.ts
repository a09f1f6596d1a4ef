// One tally over the abuse suite of a run (issue 11). Each file appends its counts to a file that
// test/global-setup.ts names and, when the run ends, sums into the line `npm run test:abuse` ends with:
//   abuse: records=<n> rules=<n> requests=<n> crashes=<n> stalls=<n> leaks=<n> impersonations=<n> max_rss_mb=<n>
// (max_rss_mb: the largest peak RSS of any test process that ran abuse tests).
import fs from 'node:fs';
import { inject } from 'vitest';

export interface AbuseTally {
  records: number;
  rules: number;
  requests: number;
  crashes: number;
  stalls: number;
  leaks: number;
  impersonations: number;
  max_rss_mb: number;
}

const KEYS = ['records', 'rules', 'requests', 'crashes', 'stalls', 'leaks', 'impersonations', 'max_rss_mb'] as const;

function tallyFile(): string | undefined {
  try {
    return inject('abuseTallyFile');
  } catch {
    return undefined;
  }
}

/** Appends one file's counts to the run's tally file (when the integration project's setup provides one). */
export function recordAbuse(name: string, t: AbuseTally): void {
  const file = tallyFile();
  if (file !== undefined) fs.appendFileSync(file, `${JSON.stringify({ name, ...t })}\n`);
}

/** Sums a tally file; undefined when no abuse test ran. */
export function sumAbuseFile(file: string): AbuseTally | undefined {
  if (!fs.existsSync(file)) return undefined;
  const t: AbuseTally = { records: 0, rules: 0, requests: 0, crashes: 0, stalls: 0, leaks: 0, impersonations: 0, max_rss_mb: 0 };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const v = JSON.parse(line) as AbuseTally;
    for (const k of KEYS) t[k] = k === 'max_rss_mb' ? Math.max(t[k], v[k]) : t[k] + v[k];
  }
  return t;
}

export const formatAbuse = (label: string, t: AbuseTally): string => `${label}: ${KEYS.map((k) => `${k}=${t[k]}`).join(' ')}`;
