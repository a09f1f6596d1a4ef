// Events CloudWatch Logs ingests late (ADR 0061), against moto and the real Kafka. moto stamps each event's
// ingestionTime with the wall clock at PutLogEvents, so an event put now with an older timestamp is an event
// delivered late by its source (CloudTrail, the EKS control plane). The collector runs on the real clock, with a
// 60 s lookback so "near the lookback" does not take 5 minutes to reach.
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { CloudWatchLogsSourceConfig } from '../../src/sources/cloudwatch-logs/config.ts';
import { CloudWatchLogsSource, type FilterLogEventsApi } from '../../src/sources/cloudwatch-logs/source.ts';
import type { CheckpointedWriter } from '../../src/sources/checkpoint/store.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { auditEvent, createStreams, newBus, produced, put } from './helpers.ts';

const cw = new CloudWatchLogs({ ...awsClientConfig(), maxAttempts: 5 });
const STREAM = 'kube-apiserver-audit-0a';
const LOOKBACK_MS = 60_000;

/** The collector's warnings, as fields and message. */
function recordingLogger(): { log: Logger; warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  return { log: { warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ fields, msg }) } as unknown as Logger, warnings };
}

interface CollectorOptions {
  log?: Logger;
  lookbackMs?: number;
  /** The lookback set on the log group itself instead of the collector. */
  groupLookbackMs?: number;
  initialLookbackMs?: number;
  now?: () => number;
  logs?: FilterLogEventsApi;
  /** Told the size of each checkpoint written (JSON bytes). */
  onCheckpoint?: (bytes: number) => void;
  /** The two-tier re-read's recent part (ADR 0061); as long as the lookback turns it off. */
  recentLookbackMs?: number;
}

async function collector(bus: KafkaBus, group: string, o: CollectorOptions = {}): Promise<CloudWatchLogsSource> {
  const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: uniqueName('seam-checkpoints-late') } }), bus, { transactionalIdPrefix: uniqueName('seam-collect-late') });
  const config = CloudWatchLogsSourceConfig.parse({
    type: 'cloudwatch-logs',
    name: 'cwl-late',
    ...(o.groupLookbackMs === undefined ? { logGroups: [{ logGroupName: group }], lookbackMs: o.lookbackMs ?? LOOKBACK_MS } : { logGroups: [{ logGroupName: group, lookbackMs: o.groupLookbackMs }] }),
    initialLookbackMs: o.initialLookbackMs ?? 10 * 60_000,
    ...(o.recentLookbackMs === undefined ? {} : { recentLookbackMs: o.recentLookbackMs }),
  });
  const writerFor = async (k: string): Promise<CheckpointedWriter> => {
    const w = await ctx.writerFor(k);
    const seen = o.onCheckpoint;
    if (seen === undefined) return w;
    return {
      write: (records, key, cp) => {
        seen(Buffer.byteLength(JSON.stringify(cp)));
        return w.write(records, key, cp);
      },
      close: () => w.close(),
      ...(w.reset === undefined ? {} : { reset: () => w.reset!() }),
    };
  };
  const source = new CloudWatchLogsSource(config, {
    logs: o.logs ?? cw,
    store: ctx.checkpoints,
    writerFor,
    refresh: () => ctx.refreshCheckpoints(),
    settingsPath: 'collect.sources.audit',
    ...(o.log === undefined ? {} : { log: o.log }),
    ...(o.now === undefined ? {} : { now: o.now }),
  });
  await source.start();
  return source;
}

describe('cloudwatch-logs collector and late-ingested events (moto + Kafka)', () => {
  let bus: KafkaBus;
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([{ topic: TOPICS.raw('k8s_audit'), partitions: 6 }]);
  });
  afterAll(async () => {
    await bus.close();
  });

  it('measures each event\'s ingestion delay once, by log group', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const cluster = uniqueName('late');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    const source = await collector(bus, group);
    let seq = 0;
    const event = (ts: number): { timestamp: number; message: string } => ({ timestamp: ts, message: auditEvent(cluster, STREAM, seq++, ts) });

    // On time (about a second late), and 40 s late: both read by the first poll.
    const t0 = Date.now();
    await put(group, STREAM, [...Array.from({ length: 10 }, (_, i) => event(t0 - 1_000 + i)), ...Array.from({ length: 5 }, (_, i) => event(t0 - 40_000 + i))]);
    await source.pollOnce();
    // Polls re-read the lookback; each event is measured once.
    await source.pollOnce();
    await source.pollOnce();

    const h = source.stats.ingestDelay.get(group);
    const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
    const s = source.stats.snapshot();
    process.stdout.write(`late-ingest measure: emitted=${got.length} read=${s.received} measured=${h?.count} max_delay_s=${((h?.maxMs ?? 0) / 1000).toFixed(1)}\n`);
    expect(got.length).toBe(15);
    expect(h?.count).toBe(15);
    // Three polls read every event three times; measured once each.
    expect(s.received).toBe(45);
    expect(h!.maxMs).toBeGreaterThanOrEqual(40_000);
    expect(s.maxIngestDelayMs).toEqual({ [group]: h!.maxMs });
    // 10 events at most 5 s late (put within seconds of their time), 5 over 30 s.
    expect(h!.counts.slice(0, 2).reduce((a, b) => a + b, 0)).toBe(10);
    expect(h!.counts.slice(4).reduce((a, b) => a + b, 0) + h!.over).toBe(5);
    await source.close();
  });

  it('reads and counts events ingested after the previous poll passed them, warns when they come near the lookback, and still misses one ingested later than the lookback', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const cluster = uniqueName('late');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    const { log, warnings } = recordingLogger();
    const source = await collector(bus, group, { log });
    let seq = 0;
    const ids = { onTime: [] as string[], late: [] as string[], nearLookback: [] as string[], tooLate: [] as string[] };
    const putAt = async (kind: keyof typeof ids, tss: number[]): Promise<void> => {
      await put(
        group,
        STREAM,
        tss.map((ts) => {
          ids[kind].push(`${cluster}-${STREAM}-${seq}`);
          return { timestamp: ts, message: auditEvent(cluster, STREAM, seq++, ts) };
        }),
      );
    };
    // Each poll's end is the wall clock when it starts: at least `startedAt`, at most `endedAt`.
    let startedAt = 0;
    let endedAt = 0;
    const poll = async (): Promise<void> => {
      startedAt = Date.now();
      await source.pollOnce();
      endedAt = Date.now();
    };

    await putAt('onTime', [Date.now() - 500]);
    await poll();
    expect(source.stats.snapshot().lateIngested).toBeUndefined();
    // Ingested now, timed 20 s before the previous poll's end: inside the lookback (60 s), so read, and counted as caught by it.
    await putAt('late', [startedAt - 20_000, startedAt - 20_000 + 1, startedAt - 20_000 + 2]);
    // Timed after the previous poll's end: not late.
    await putAt('onTime', [endedAt + 1]);
    await poll();
    expect(source.stats.snapshot().lateIngested).toEqual({ [group]: 3 });
    expect(warnings).toEqual([]);
    // 55 s late (over 80 % of the 60 s lookback) and still inside it: read, counted, and warned about once.
    await putAt('nearLookback', [Date.now() - 55_000, Date.now() - 55_000 + 1]);
    await poll();
    await putAt('nearLookback', [Date.now() - 56_000]);
    await poll();
    // Ingested 70 s before the previous poll's end: older than the lookback reaches. Never read, and nothing counts it.
    await putAt('tooLate', [endedAt - 70_000]);
    await poll();
    await poll();

    const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
    const emitted = new Set(got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID));
    const s = source.stats.snapshot();
    process.stdout.write(
      `late-ingest: emitted=${got.length} late_counted=${s.lateIngested?.[group]} near_lookback=${s.nearLookback?.[group]} max_delay_s=${((s.maxIngestDelayMs?.[group] ?? 0) / 1000).toFixed(1)} warnings=${warnings.length} too_late_missed=${ids.tooLate.filter((id) => !emitted.has(id)).length}\n`,
    );
    expect([...emitted].sort()).toEqual([...ids.onTime, ...ids.late, ...ids.nearLookback].sort());
    expect(got.length).toBe(emitted.size);
    // Caught thanks to the lookback: the 3 late ones and the 3 near it. The one too late is in no count.
    expect(s.lateIngested).toEqual({ [group]: 6 });
    expect(s.nearLookback).toEqual({ [group]: 3 });
    expect(s.maxIngestDelayMs?.[group]).toBeGreaterThanOrEqual(56_000);
    expect(source.stats.ingestDelay.get(group)?.count).toBe(8);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ logGroup: group, lookbackMs: LOOKBACK_MS, setting: 'collect.sources.audit.lookbackMs', events: 2 });
    expect(warnings[0]!.msg).toMatch(new RegExp(`^Events of ${group} are ingested up to 5\\d s after their own time, near the lookback of 60 s: .* Raise collect\\.sources\\.audit\\.lookbackMs`));
    await source.close();
  });

  it('two-tier re-read (5 min lookback, the default 60 s recent part): an event ingested 90 s late is read by the next whole re-read, once', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const cluster = uniqueName('tier');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    let clock = Date.now() - 10 * 60_000;
    const t0 = clock;
    const source = await collector(bus, group, { lookbackMs: 5 * 60_000, initialLookbackMs: 60_000, now: () => clock, log: recordingLogger().log });
    let seq = 0;
    const at = (ts: number): { timestamp: number; message: string } => ({ timestamp: ts, message: auditEvent(cluster, STREAM, seq++, ts) });
    await put(group, STREAM, [at(t0 - 1_000)]);
    await source.pollOnce(); // first poll: whole lookback
    const emittedBy = async (): Promise<number> => (await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from)).length;
    const polls: { at: number; emitted: number }[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 5_000;
      // 100 s in: an event timed 90 s ago arrives (older than the 60 s the recent polls re-read).
      if (clock - t0 === 100_000) await put(group, STREAM, [at(clock - 90_000)]);
      await source.pollOnce();
      polls.push({ at: clock - t0, emitted: source.stats.counters.emitted });
    }
    const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
    const caughtAt = polls.find((p) => p.emitted === 2)?.at;
    process.stdout.write(`late-ingest two-tier: emitted=${got.length} late_event_read_at_s=${caughtAt === undefined ? 'never' : caughtAt / 1000} (put at 100 s, 90 s late)\n`);
    expect(await emittedBy()).toBe(2);
    expect(new Set(got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID)).size).toBe(2);
    // Not by the recent polls right after it arrived; by the first whole re-read, at most 60 s (+ a poll) later.
    expect(caughtAt).toBeDefined();
    expect(caughtAt!).toBeGreaterThan(100_000);
    expect(caughtAt!).toBeLessThanOrEqual(100_000 + 65_000);
    expect(source.stats.snapshot().lateIngested).toEqual({ [group]: 1 });
    await source.close();
  });

  it('names the log group\'s own lookbackMs when the group sets one', async () => {
    const cluster = uniqueName('late');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    const { log, warnings } = recordingLogger();
    const source = await collector(bus, group, { log, groupLookbackMs: LOOKBACK_MS });
    await source.pollOnce();
    const ts = Date.now() - 55_000;
    await put(group, STREAM, [{ timestamp: ts, message: auditEvent(cluster, STREAM, 0, ts) }]);
    await source.pollOnce();
    expect(source.stats.snapshot().nearLookback).toEqual({ [group]: 1 });
    expect(warnings.map((w) => w.fields.setting)).toEqual(['collect.sources.audit.logGroups[0].lookbackMs']);
    expect(warnings[0]!.msg).toContain('near the lookback of 60 s');
    await source.close();
  });

  // What a longer lookback costs (ADR 0061, decision 3): with every poll re-reading its lookback, every event is read
  // about (lookback + poll interval) / poll interval times; with the two-tier re-read (the default: 60 s each poll, the
  // whole lookback every 60 s) about 60 s / poll interval + lookback / 60 s. CloudTrail-like: one event every 2 s; polls
  // every 5 s (the default) for 20 minutes of the collector's clock; side by side in one run.
  it('read amplification of a 5 and a 15 min lookback at the default 5 s poll interval, whole and two-tier', async () => {
    const STEP = 2_000;
    const POLL = 5_000;
    const t = Date.now();
    const out: string[] = [];
    for (const [lookbackMs, twoTier] of [
      [5 * 60_000, false],
      [15 * 60_000, false],
      [5 * 60_000, true],
      [15 * 60_000, true],
    ] as const) {
      const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
      const cluster = uniqueName('amp');
      const group = `/aws/eks/${cluster}/cluster`;
      await createStreams(group, [STREAM]);
      const events = Array.from({ length: (35 * 60_000) / STEP + 1 }, (_, i) => t - 35 * 60_000 + i * STEP);
      await put(group, STREAM, events.map((ts, i) => ({ timestamp: ts, message: auditEvent(cluster, STREAM, i, ts) })));
      let clock = t - 20 * 60_000;
      let calls = 0;
      let maxCheckpoint = 0;
      const source = await collector(bus, group, {
        lookbackMs,
        ...(twoTier ? {} : { recentLookbackMs: lookbackMs }),
        initialLookbackMs: 15 * 60_000,
        now: () => clock,
        log: recordingLogger().log,
        logs: { filterLogEvents: (i) => (calls++, cw.filterLogEvents(i)) },
        onCheckpoint: (b) => (maxCheckpoint = Math.max(maxCheckpoint, b)),
      });
      // The first poll reads the 15 min before the start once; then 240 polls 5 s apart, as the running collector makes.
      await source.pollOnce();
      const first = { read: source.stats.counters.received, emitted: source.stats.counters.emitted, calls };
      while (clock < t) {
        clock += POLL;
        await source.pollOnce();
      }
      const s = source.stats.snapshot();
      const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
      const ids = new Set(got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID));
      const read = s.received - first.read;
      const emitted = s.emitted - first.emitted;
      const perEvent = read / emitted;
      out.push(`lookback_min=${lookbackMs / 60_000} re_read=${twoTier ? 'two-tier' : 'whole'} polls=240 emitted=${emitted} read=${read} read_per_emitted=${perEvent.toFixed(1)} calls=${calls - first.calls} max_checkpoint_bytes=${maxCheckpoint} (${(maxCheckpoint / (lookbackMs / STEP)).toFixed(0)} B per id in the lookback)`);
      // Every event once, none twice.
      expect(ids.size).toBe(events.length);
      expect(got.length).toBe(events.length);
      // Each event of the 20 minutes is read by every poll whose window covers it, give or take one: lookback / interval
      // polls when each re-reads the whole lookback; two-tier, 60 s / interval recent polls plus lookback / 60 s full ones.
      const expected = twoTier ? 60_000 / POLL + lookbackMs / 60_000 : lookbackMs / POLL;
      expect(perEvent).toBeGreaterThan(expected - 2);
      expect(perEvent).toBeLessThan(expected + 2);
      await source.close();
    }
    process.stdout.write(out.map((l) => `late-ingest amplification: ${l}\n`).join(''));
  });
});
