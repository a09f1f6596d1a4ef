// Events CloudWatch Logs ingests late (ADR 0061), against moto and the real Kafka. moto stamps each event's
// ingestionTime with the wall clock at PutLogEvents, so an event put now with an older timestamp is an event
// delivered late by its source (CloudTrail, the EKS control plane). The collector runs on the real clock, with a
// 60 s lookback so "near the lookback" does not take 5 minutes to reach.
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
const LOOKBACK_MS = 60_000;

async function collector(bus: KafkaBus, group: string): Promise<CloudWatchLogsSource> {
  const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: uniqueName('seam-checkpoints-late') } }), bus, { transactionalIdPrefix: uniqueName('seam-collect-late') });
  const config = CloudWatchLogsSourceConfig.parse({
    type: 'cloudwatch-logs',
    name: 'cwl-late',
    logGroups: [{ logGroupName: group }],
    lookbackMs: LOOKBACK_MS,
    initialLookbackMs: 10 * 60_000,
  });
  const source = new CloudWatchLogsSource(config, { logs: cw, store: ctx.checkpoints, writerFor: (k) => ctx.writerFor(k), refresh: () => ctx.refreshCheckpoints() });
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
});
