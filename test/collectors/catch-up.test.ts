// A CloudWatch Logs collector restarted after downtime (ADR 0060), against moto and the real Kafka: it resumes from
// its checkpoint and reads the whole downtime, in maxPollWindowMs chunks, each event once; and with a maxCatchUpMs
// shorter than the downtime it skips exactly the events older than now − maxCatchUpMs, and counts them.
// The collector's clock is set (deps.now): "down for 3 hours" without waiting 3 hours.
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { CloudWatchLogsSourceConfig } from '../../src/sources/cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../../src/sources/cloudwatch-logs/source.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { auditEvent, createStreams, newBus, produced, put } from './helpers.ts';

const cw = new CloudWatchLogs({ ...awsClientConfig(), maxAttempts: 5 });
const STREAM = 'kube-apiserver-audit-0a';
const HOUR = 60 * 60_000;
const STEP_MS = 5_000;

async function collector(bus: KafkaBus, o: { checkpointTopic: string; txPrefix: string; group: string; now: () => number; maxCatchUpMs?: number }): Promise<CloudWatchLogsSource> {
  const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: o.checkpointTopic } }), bus, { transactionalIdPrefix: o.txPrefix });
  const config = CloudWatchLogsSourceConfig.parse({
    type: 'cloudwatch-logs',
    name: 'cwl-catch-up',
    logGroups: [{ logGroupName: o.group }],
    initialLookbackMs: 10 * 60_000,
    pageLimit: 1000,
    ...(o.maxCatchUpMs === undefined ? {} : { maxCatchUpMs: o.maxCatchUpMs }),
  });
  const source = new CloudWatchLogsSource(config, { logs: cw, store: ctx.checkpoints, writerFor: (k) => ctx.writerFor(k), refresh: () => ctx.refreshCheckpoints(), now: o.now });
  await source.start();
  return source;
}

interface Run {
  /** Event times written to the group, by audit id. */
  written: Map<string, number>;
  /** Audit ids on the raw topic, as often as they are there. */
  emitted: string[];
  restarted: CloudWatchLogsSource;
  polls: number;
  catchUpS: number;
  t: number;
}

/** Events every 5 s over the last 3 h 10 min; a collector runs at t − 3 h and stops; another resumes at t. */
async function downFor3Hours(bus: KafkaBus, maxCatchUpMs?: number): Promise<Run> {
  const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
  const cluster = uniqueName('catchup');
  const group = `/aws/eks/${cluster}/cluster`;
  await createStreams(group, [STREAM]);
  const t = Date.now();
  const written = new Map<string, number>();
  const events = Array.from({ length: (3 * HOUR + 10 * 60_000) / STEP_MS + 1 }, (_, i) => {
    const ts = t - 3 * HOUR - 10 * 60_000 + i * STEP_MS;
    written.set(`${cluster}-${STREAM}-${i}`, ts);
    return { timestamp: ts, message: auditEvent(cluster, STREAM, i, ts) };
  });
  await put(group, STREAM, events);

  const checkpointTopic = uniqueName('seam-checkpoints-catchup');
  const txPrefix = uniqueName('seam-collect-catchup');
  // Before the downtime: first start (10 min back), one poll up to t − 3 h, a graceful stop.
  const before = await collector(bus, { checkpointTopic, txPrefix, group, now: () => t - 3 * HOUR });
  await before.pollOnce();
  await before.close();

  // After 3 hours down: the same collector identity resumes.
  const restarted = await collector(bus, { checkpointTopic, txPrefix, group, now: () => t, ...(maxCatchUpMs === undefined ? {} : { maxCatchUpMs }) });
  const started = performance.now();
  let polls = 0;
  do {
    await restarted.pollOnce();
    polls++;
  } while ((restarted.stats.behindMs.get(group) ?? 0) > 0 && polls < 20);
  const catchUpS = (performance.now() - started) / 1000;
  // One more poll, as the running collector would: it re-reads its lookback and sends nothing again.
  await restarted.pollOnce();
  const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
  const emitted = got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID);
  await restarted.close();
  return { written, emitted, restarted, polls, catchUpS, t };
}

const tally = (r: Run): { missing: string[]; duplicated: number } => {
  const seen = new Set(r.emitted);
  return { missing: [...r.written.keys()].filter((id) => !seen.has(id)), duplicated: r.emitted.length - seen.size };
};

describe('cloudwatch-logs collector restarted after 3 hours down (moto + Kafka)', () => {
  let bus: KafkaBus;
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([{ topic: TOPICS.raw('k8s_audit'), partitions: 6 }]);
  });
  afterAll(async () => {
    await bus.close();
  });

  it('resumes from its checkpoint and reads the whole downtime, in 1 h chunks, each event once', async () => {
    const r = await downFor3Hours(bus);
    const { missing, duplicated } = tally(r);
    const s = r.restarted.stats.snapshot();
    // re_read_skipped: events of the checkpoint's lookback the restart read again and did not send (ids in the checkpoint).
    process.stdout.write(
      `catch-up (default maxCatchUpMs): written=${r.written.size} emitted=${r.emitted.length} lost=${missing.length} duplicated=${duplicated} re_read_skipped=${s.duplicatesSkipped} polls=${r.polls} catch_up_s=${r.catchUpS.toFixed(1)}\n`,
    );
    expect(missing).toEqual([]);
    expect(duplicated).toBe(0);
    // 3 h behind with maxPollWindowMs 1 h: chunks, then caught up.
    expect(r.polls).toBe(4);
    expect(s.gapMs).toBeUndefined();
    expect(s.duplicatesSkipped).toBeGreaterThan(0);
  });

  it('with maxCatchUpMs 1 h, skips exactly the events older than now − 1 h, and counts the window it skipped', async () => {
    const r = await downFor3Hours(bus, HOUR);
    const { missing, duplicated } = tally(r);
    const floor = r.t - HOUR;
    // Read before the stop: up to t − 3 h; resumed at t − 1 h. Between them, unread.
    const inGap = [...r.written].filter(([, ts]) => ts > r.t - 3 * HOUR && ts < floor).map(([id]) => id);
    const s = r.restarted.stats.snapshot();
    process.stdout.write(
      `catch-up (maxCatchUpMs 1 h): written=${r.written.size} emitted=${r.emitted.length} lost=${missing.length} in_skipped_window=${inGap.length} gap_s=${(s.gapMs?.[Object.keys(s.gapMs)[0]!] ?? 0) / 1000} duplicated=${duplicated} polls=${r.polls} catch_up_s=${r.catchUpS.toFixed(1)}\n`,
    );
    expect(missing.sort()).toEqual(inGap.sort());
    expect(missing.length).toBeGreaterThan(1000);
    expect(duplicated).toBe(0);
    expect(Object.values(s.gapMs ?? {})).toEqual([2 * HOUR]);
    expect(Object.values(s.skippedWindows ?? {})).toEqual([1]);
    expect(r.polls).toBe(1);
  });
});
