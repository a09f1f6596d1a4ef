import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../detect/alert.ts';
import { buildReplayHandler, runReplay, type ReplayDetectSpec } from './replay.ts';
import { runReplayWorkers } from './replay-workers.ts';

// A record delivered twice (an organization trail and the account's own trail: the same eventID) is detected once by
// `seam replay`, one thread or several, as the correlate role of `seam run` and Kafka drops a signal whose id it has
// seen (review-de L6). The fixture is the review's: one CloudTrail call twice, a feeder rule, and an event_count gte 2
// correlation over it that must not fire.
const FIXTURE = join(import.meta.dirname, '../../test/data/review-de/dup-events');
const spec: ReplayDetectSpec = { rules: [FIXTURE] };

async function alertsIn(path: string): Promise<Alert[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Alert);
}

describe('a record delivered twice', () => {
  it('raises its alert once (printed and written), one thread or two workers, and says it dropped the copy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-dup-'));
    const printed: Alert[] = [];
    const one = await runReplay<Alert>({
      paths: [join(FIXTURE, 'events.jsonl')],
      dlqPath: join(dir, 'd1.jsonl'),
      alertsPath: join(dir, 'a1.jsonl'),
      maxRecordBytes: 1 << 20,
      handler: await buildReplayHandler(spec),
      onAlert: (a) => printed.push(a),
    });
    expect(one.records).toBe(2);
    expect(one.duplicates).toBe(1);
    // Before: two identical lines (alert 1fe7858f…) on stdout and in --alerts-out.
    expect(printed.map((a) => a.native_ids)).toEqual([['ev-0001']]);
    const written = await alertsIn(join(dir, 'a1.jsonl'));
    expect(written.map((a) => a.id)).toEqual(printed.map((a) => a.id));
    expect(written.filter((a) => a.rule.type === 'correlation')).toEqual([]);

    const two = await runReplayWorkers({ paths: [join(FIXTURE, 'events.jsonl')], workers: 2, spec, dlqPath: join(dir, 'd2.jsonl'), alertsPath: join(dir, 'a2.jsonl'), maxRecordBytes: 1 << 20 });
    expect(two.duplicates).toBe(1);
    expect((await alertsIn(join(dir, 'a2.jsonl'))).map((a) => a.id)).toEqual(printed.map((a) => a.id));
  });
});
