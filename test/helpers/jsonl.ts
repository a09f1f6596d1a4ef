import { readFile } from 'node:fs/promises';
import type { Alert } from '../../src/detect/alert.ts';

/** The JSON values of a JSONL file, one a non-empty line. */
export async function readJsonl<T>(path: string): Promise<T[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** An alert as run comparisons see it: its rule and the events it is made of. */
export const alertRuleAndEvents = (a: Alert): string => `${a.rule.id} ${[...a.events].sort().join(',')}`;
