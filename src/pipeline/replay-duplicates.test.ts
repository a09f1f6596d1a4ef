import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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

// The events output (--out) holds one line per event: each stage of a Kubernetes request is its own event
// (seam.id auditID:stage, ADR 0057), and a copy of a stage already read is not written again. Before, detection
// dropped the copy (above) but --out wrote its line a second time.
const STAGES = join(import.meta.dirname, '../../test/data/review-de/audit-stages');

async function idsIn(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seam: { id: string } }).seam.id);
}

describe('--out of a Kubernetes request logged at two stages, delivered twice', () => {
  it('writes each stage once, with rules or without, one thread or two workers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-dup-out-'));
    const lines = (await readFile(join(STAGES, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean);
    // aud-0001's ResponseStarted and ResponseComplete, then aud-0002's pair, then aud-0001's pair again (the audit
    // log shipped twice).
    const input = join(dir, 'events.jsonl');
    await writeFile(input, [...lines, lines[0]!, lines[1]!].join('\n') + '\n');
    const want = ['aud-0001:ResponseStarted', 'aud-0001:ResponseComplete', 'aud-0002:ResponseStarted', 'aud-0002:ResponseComplete'];
    const stageSpec: ReplayDetectSpec = { rules: [STAGES] };

    const bare = await runReplay({ paths: [input], outPath: join(dir, 'e0.jsonl'), dlqPath: join(dir, 'd0.jsonl'), maxRecordBytes: 1 << 20 });
    expect(bare.records).toBe(6);
    expect(await idsIn(join(dir, 'e0.jsonl'))).toEqual(want);

    const one = await runReplay<Alert>({ paths: [input], outPath: join(dir, 'e1.jsonl'), dlqPath: join(dir, 'd1.jsonl'), alertsPath: join(dir, 'a1.jsonl'), maxRecordBytes: 1 << 20, handler: await buildReplayHandler(stageSpec) });
    expect(one.duplicates).toBe(2);
    expect(await idsIn(join(dir, 'e1.jsonl'))).toEqual(want);
    // The stage-less rule matches each request once (ADR 0057).
    expect((await alertsIn(join(dir, 'a1.jsonl'))).map((a) => a.native_ids)).toEqual([['aud-0001'], ['aud-0002']]);

    const two = await runReplayWorkers({ paths: [input], workers: 2, spec: stageSpec, outPath: join(dir, 'e2.jsonl'), dlqPath: join(dir, 'd2.jsonl'), alertsPath: join(dir, 'a2.jsonl'), maxRecordBytes: 1 << 20 });
    expect(two.duplicates).toBe(2);
    expect(await idsIn(join(dir, 'e2.jsonl'))).toEqual(want);
  });
});
