// Regression tests for the findings of issue 11 ("Why" 1-5), one or more per finding, named after it.
// Finding 1 on Kafka runs on the shared local broker and OpenSearch node through test/pipeline/harness.ts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { memoryHistory } from '../../src/pipeline/history.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import { createCorrelateRole } from '../../src/pipeline/roles/correlate.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { encodeSignal } from '../../src/pipeline/signal.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import { expectedIds, pipeline, referenceSigmaAlerts, type Pipeline, type RawRecord } from '../pipeline/harness.ts';
import { createAccessKey, deepRecord, IMPOSSIBLE_TIMES } from './hostile.ts';

const RULES = join(import.meta.dirname, '../../detections');
const META = { collector: 'test', receivedAt: '2024-05-01T12:30:00.000Z' };
const pipelines: Pipeline[] = [];
afterAll(async () => {
  for (const p of pipelines) await p.cleanup().catch(() => undefined);
});

describe('finding 1: one record stops detection for good', () => {
  it('finding 1: an impossible timestamp is dead-lettered, later records still alert', async () => {
    for (const t of IMPOSSIBLE_TIMES) {
      const r = normalizeLine(createAccessKey(t, `bad-${t}`), META);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SEAM_ERR_NORMALIZE_TIMESTAMP');
    }
    expect(normalizeLine(createAccessKey('2024-02-29T23:59:59Z', 'leap'), META).ok).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'seam-f1-'));
    const input = join(dir, 'in.jsonl');
    const good = [0, 1, 2, 3, 4].map((i) => createAccessKey(`2024-05-01T12:0${i}:00Z`, `good-${i}`));
    await writeFile(input, [createAccessKey('2024-13-45T99:99:99Z', 'poison'), ...good].join('\n') + '\n');
    const detection = await loadDetection({ rules: [RULES] });
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'dlq.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (a) => alerts.push(a) });
    expect(s.records).toBe(6);
    expect(s.rejectedByCode).toEqual({ SEAM_ERR_NORMALIZE_TIMESTAMP: 1 });
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(good.map((_, i) => `good-${i}`)));
    // Embedded `seam run --input` (the roles over the memory bus) finishes with the same outcome.
    const run = await runEmbedded({ paths: [input], stateDir: join(dir, 'run'), detection, maxRecordBytes: 1 << 20 });
    expect(run.summary.rejectedByCode).toEqual({ SEAM_ERR_NORMALIZE_TIMESTAMP: 1 });
    expect(run.summary.alerts).toBe(alerts.length);
  });

  it('finding 1: a record nested thousands of levels deep is dead-lettered by normalizeLine, which never throws', async () => {
    for (const depth of [200, 5_000, 100_000]) {
      const r = normalizeLine(deepRecord(depth, `deep-${depth}`), META);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SEAM_ERR_INPUT_DEPTH');
    }
    // Brackets inside strings do not count; a CRD-deep record (60 levels) is fine.
    expect(normalizeLine(deepRecord(60, 'ok-60'), META).ok).toBe(true);
    const inString = JSON.parse(createAccessKey('2024-05-01T12:00:00Z', 'str')) as Record<string, unknown>;
    inString.requestParameters = { userName: '['.repeat(10_000) + '{"\\"'.repeat(1000) };
    expect(normalizeLine(JSON.stringify(inString), META).ok).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'seam-f1d-'));
    const input = join(dir, 'in.jsonl');
    await writeFile(input, [deepRecord(20_000, 'deep'), createAccessKey('2024-05-01T12:00:00Z', 'after-deep')].join('\n') + '\n');
    const detection = await loadDetection({ rules: [RULES] });
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'dlq.jsonl'), outPath: join(dir, 'ev.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (a) => alerts.push(a) });
    expect(s.rejectedByCode).toEqual({ SEAM_ERR_INPUT_DEPTH: 1 });
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(['after-deep']));
  });

  it('finding 1: an event that makes detection throw is dead-lettered, and the signals partition keeps moving', async () => {
    // A signal normalize would never write (stage 1 validates times), as a buggy or hostile producer could.
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 10 });
    const topics = pipelineTopics('f1.');
    const event = (time: string, id: string): Record<string, unknown> => {
      const r = normalizeLine(createAccessKey('2024-05-01T12:00:00Z', id), META);
      if (!r.ok) throw r.error;
      return { ...r.value, '@timestamp': time };
    };
    const producer = await bus.producer();
    const sig = (e: Record<string, unknown>) => ({ topic: topics.signals, key: '111122223333', value: encodeSignal({ v: 1, rules: [], why: ['rule'], event: e as never }) });
    await producer.send([sig(event('2024-13-45T99:99:99Z', 'poison')), sig(event('2024-05-01T12:01:00Z', 'later-1')), sig(event('2024-05-01T12:02:00Z', 'later-2'))]);
    const role = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'f1' });
    await role.start();
    await bus.waitCommitted('f1', topics.signals, 5_000);
    await role.stop();
    const alerts = bus.read(topics.alerts).flat().map((m) => JSON.parse(m.value.toString('utf8')) as Alert);
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(['later-1', 'later-2']));
    const dls = bus.read(topics.dlq).flat().map((m) => JSON.parse(m.value.toString('utf8')) as DeadLetter);
    expect(dls).toHaveLength(1);
    expect(dls[0]).toMatchObject({ stage: 'detect', code: 'SEAM_ERR_STAGE_THREW', retriable: false });
    expect(dls[0]!.reason).toMatch(/Invalid time value/);
  });

  it('finding 1: on Kafka, poison records are dead-lettered and nothing later on their partition is held up', async () => {
    const p = await pipeline('f1kafka', { raw: 1, events: 1, signals: 1, alerts: 1, dlq: 1 });
    pipelines.push(p);
    const now = Date.now();
    const t = (i: number): string => new Date(now - 60_000 + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const poison: RawRecord[] = [
      { text: createAccessKey('2024-13-45T99:99:99Z', 'k-poison-time'), source: 'cloudtrail' },
      { text: deepRecord(20_000, 'k-poison-deep'), source: 'cloudtrail' },
    ];
    const good: RawRecord[] = Array.from({ length: 20 }, (_, i) => ({ text: createAccessKey(t(i), `k-good-${i}`), source: 'cloudtrail' as const }));
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.produce([poison[0]!, ...good.slice(0, 10), poison[1]!, ...good.slice(10)]);
    await p.drain(60_000);
    // Every alert the good records raise on their own (referenceSigmaAlerts) must be in the index.
    const v = await p.verdict(expectedIds(good), poison, referenceSigmaAlerts(p.detection, good));
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.dlqMissing).toBe(0);
    expect(v.alerts).toBeGreaterThanOrEqual(good.length);
  });
});
