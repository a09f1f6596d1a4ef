// The checkpoint's ids as digests and its size against the checkpoint topic's max.message.bytes (ADR 0061, amendment of
// session 37), on moto and the real Kafka: a checkpoint written by the previous code (full ids) is honoured on restart;
// a checkpoint near the topic's limit is counted and warned about, and one over it is refused before anything is
// produced. The limit is the topic's own (read from the broker): a topic made here with 20,000 bytes stands for the
// 16 MiB one, which a busy CloudTrail group would take ~570 events/s to fill.
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { digestId } from '../../src/sources/checkpoint/digest.ts';
import { KafkaCheckpointStore } from '../../src/sources/checkpoint/kafka-store.ts';
import type { CheckpointV1 } from '../../src/sources/checkpoint/store.ts';
import { ReadWindow } from '../../src/sources/checkpoint/window.ts';
import { CloudWatchLogsSourceConfig } from '../../src/sources/cloudwatch-logs/config.ts';
import { resolveGroup } from '../../src/sources/cloudwatch-logs/parse.ts';
import { CloudWatchLogsSource, groupCheckpointKey } from '../../src/sources/cloudwatch-logs/source.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { auditEvent, createStreams, newBus, produced, put } from './helpers.ts';

const cw = new CloudWatchLogs({ ...awsClientConfig(), maxAttempts: 5 });
const STREAM = 'kube-apiserver-audit-0a';

function recordingLogger(): { log: Logger; warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  return { log: { warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ fields, msg }) } as unknown as Logger, warnings };
}

async function collector(bus: KafkaBus, group: string, checkpointTopic: string, log?: Logger): Promise<CloudWatchLogsSource> {
  const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: checkpointTopic } }), bus, { transactionalIdPrefix: uniqueName('seam-collect-size') });
  const config = CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', name: 'audit', logGroups: [{ logGroupName: group }], lookbackMs: 300_000 });
  const source = new CloudWatchLogsSource(config, {
    logs: cw,
    store: ctx.checkpoints,
    writerFor: (k) => ctx.writerFor(k),
    refresh: () => ctx.refreshCheckpoints(),
    settingsPath: 'collect.sources.audit',
    ...(log === undefined ? {} : { log }),
  });
  await source.start();
  return source;
}

describe('cloudwatch-logs collector checkpoints: digests and size (moto + Kafka)', () => {
  let bus: KafkaBus;
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([{ topic: TOPICS.raw('k8s_audit'), partitions: 6 }]);
  });
  afterAll(async () => {
    await bus.close();
  });

  it('honours a checkpoint the previous code wrote (full ids, version 1): a restart re-reads its events and emits none again; the next checkpoint keeps digests', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const cluster = uniqueName('cp-v1');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    const t0 = Date.now() - 30_000;
    await put(group, STREAM, Array.from({ length: 20 }, (_, i) => ({ timestamp: t0 + i, message: auditEvent(cluster, STREAM, i, t0 + i) })));
    // What the previous code would have saved after emitting them: their eventIds as moto gives them.
    const read = await cw.filterLogEvents({ logGroupName: group, startTime: t0 - 1000, endTime: Date.now() });
    const old = read.events ?? [];
    expect(old).toHaveLength(20);
    const seen: Record<string, string[]> = {};
    for (const e of old) (seen[String(e.timestamp)] ??= []).push(e.eventId!);
    const v1: CheckpointV1 = { v: 1, watermarkMs: Date.now(), seen, savedAt: new Date().toISOString() };
    const topic = uniqueName('seam-checkpoints-v1');
    const store = new KafkaCheckpointStore(bus, { topic });
    await store.ensureTopic();
    const key = groupCheckpointKey('audit', resolveGroup({ logGroupName: group }));
    const producer = await bus.producer();
    await producer.send([{ topic, key, value: Buffer.from(JSON.stringify(v1)) }]);
    await producer.close();

    const source = await collector(bus, group, topic);
    // The first poll after a start re-reads the whole lookback: all 20 are read again, and skipped.
    await source.pollOnce();
    expect(await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from)).toHaveLength(0);
    expect(source.stats.snapshot()).toMatchObject({ received: 20, emitted: 0, duplicatesSkipped: 20 });
    await put(group, STREAM, [0, 1, 2].map((i) => ({ timestamp: Date.now() - 1000 + i, message: auditEvent(cluster, STREAM, 100 + i, Date.now()) })));
    await source.pollOnce();
    const got = await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from);
    expect(got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID).sort()).toEqual([100, 101, 102].map((i) => `${cluster}-${STREAM}-${i}`));
    await source.close();

    // What is on the topic now: version 2, digests of all 23, no full id.
    const reader = new KafkaCheckpointStore(bus, { topic });
    await reader.refresh();
    const now = await reader.load(key);
    expect(now?.v).toBe(2);
    const w = new ReadWindow(now, { lookbackMs: 300_000, initialStartMs: 0, maxWindowMs: 3_600_000 });
    expect(w.seenCount).toBe(23);
    expect(old.every((e) => w.has(digestId(e.eventId!), e.timestamp!))).toBe(true);
    const kept = Object.values(now!.seen).flat();
    expect(kept.every((d) => /^[A-Za-z0-9_-]{16}$/.test(d))).toBe(true);
    expect(old.some((e) => kept.includes(e.eventId!))).toBe(false);
    await reader.close();
    await store.close();
  });

  it('counts and warns about a checkpoint above 80 % of the topic\'s max.message.bytes, and refuses one over it before producing anything (SEAM_ERR_CHECKPOINT_TOO_LARGE)', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const cluster = uniqueName('cp-size');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, [STREAM]);
    const topic = uniqueName('seam-checkpoints-small');
    await bus.createTopics([{ topic, partitions: 1, config: { 'cleanup.policy': 'compact', 'max.message.bytes': '20000' } }]);
    const { log, warnings } = recordingLogger();
    const source = await collector(bus, group, topic, log);

    // 440 events at distinct milliseconds: ~37 B each in the checkpoint, ~16.6 KB with its envelope: above 16,000.
    const t0 = Date.now() - 100_000;
    await put(group, STREAM, Array.from({ length: 440 }, (_, i) => ({ timestamp: t0 + 10 * i, message: auditEvent(cluster, STREAM, i, t0 + 10 * i) })));
    await source.pollOnce();
    const first = source.stats.snapshot();
    const bytes = first.checkpointBytes?.[group] ?? 0;
    process.stdout.write(`checkpoint-size: ids=440 bytes=${bytes} per_id=${(bytes / 440).toFixed(1)} limit=20000\n`);
    expect(first.emitted).toBe(440);
    expect(bytes).toBeGreaterThan(16_000);
    expect(bytes).toBeLessThanOrEqual(20_000);
    expect(first.checkpointNearLimit).toEqual({ [group]: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`The checkpoint of ${group} takes ${bytes} bytes (440 ids seen in the 300 s lookback)`);
    expect(warnings[0]!.msg).toContain('Lower collect.sources.audit.lookbackMs');
    const store = new KafkaCheckpointStore(bus, { topic });
    await store.refresh();
    const saved = await store.load(groupCheckpointKey('audit', resolveGroup({ logGroupName: group })));

    // 120 more: the checkpoint would pass the limit. Nothing of the page is produced, the error says why, the position stays.
    const t1 = Date.now() - 20_000;
    await put(group, STREAM, Array.from({ length: 120 }, (_, i) => ({ timestamp: t1 + 10 * i, message: auditEvent(cluster, STREAM, 1000 + i, t1 + 10 * i) })));
    await source.pollOnce();
    const second = source.stats.snapshot();
    expect(second.errors).toEqual({ SEAM_ERR_CHECKPOINT_TOO_LARGE: 1 });
    expect(second.emitted).toBe(440);
    expect(await produced(bus, [TOPICS.raw('k8s_audit')], [`${group}/`], from)).toHaveLength(440);
    await store.refresh();
    expect(await store.load(groupCheckpointKey('audit', resolveGroup({ logGroupName: group })))).toEqual(saved);
    await source.close();
    await store.close();
  });
});
