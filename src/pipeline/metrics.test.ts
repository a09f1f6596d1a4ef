import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { MetricsServer } from '../core/metrics.ts';
import { CollectorStats } from '../sources/checkpoint/stats.ts';
import { loadDetection } from './detection.ts';
import { memoryHistory, type History } from './history.ts';
import { registerCollectorMetrics, registerRoleMetrics } from './metrics.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { memoryUpstream } from './progress.ts';
import { encodeProgress, encodeSignal, SignalBatcher } from './signal.ts';
import { pipelineTopics } from './topics.ts';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('collector metrics', () => {
  it('serve the CollectorStats a collector keeps: records, errors by code, checkpoint age per log group; ready while running and started', async () => {
    const stats = new CollectorStats('cloudwatch-logs:audit');
    let running = false;
    const server = new MetricsServer({ defaultMetrics: false });
    servers.push(server);
    registerCollectorMetrics(server, { collectors: () => [{ name: 'audit', stats: () => stats.snapshot(), ingestDelays: () => stats.ingestDelay }], running: () => running });
    const { port } = await server.listen('127.0.0.1:0');
    const get = async (path: string): Promise<{ status: number; body: string }> => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: r.status, body: await r.text() };
    };
    expect((await get('/healthz')).status).toBe(200);
    // No event emitted yet: no ingestion delay series (an empty histogram, not zeros).
    expect((await get('/metrics')).body).not.toContain('seam_collector_ingest_delay_seconds_bucket');
    expect(await get('/readyz')).toEqual({ status: 503, body: 'not ready\ncollectors: the collectors are not running\n' });
    // seam_ready says the same at scrape time, for alert rules without a blackbox probe (review-ops M3).
    expect((await get('/metrics')).body).toMatch(/^seam_ready 0$/m);
    running = true;
    // Running, but its start has not succeeded yet (retried with back-off): not ready, and the reason is named.
    stats.startFailures = 1;
    stats.lastStartError = 'SEAM_ERR_SOURCE_API: ListDetectors failed: denied';
    expect(await get('/readyz')).toEqual({ status: 503, body: 'not ready\ncollectors: not started yet: audit (SEAM_ERR_SOURCE_API: ListDetectors failed: denied)\n' });
    stats.started = true;
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/metrics')).body).toMatch(/^seam_ready 1$/m);

    const now = Date.now();
    stats.checkpointed('/aws/eks/prod/cluster', now - 90_000);
    stats.counters.received += 7;
    stats.emitted(5, now);
    stats.counters.error('SEAM_ERR_INPUT_TRUNCATED', 2);
    const m = (await get('/metrics')).body;
    expect(m).toContain('seam_records_in_total{role="collect",source="audit"} 7');
    expect(m).toContain('seam_records_out_total{role="collect",source="audit"} 5');
    expect(m).toContain('seam_errors_total{role="collect",source="audit",code="SEAM_ERR_INPUT_TRUNCATED"} 2');
    const age = /seam_collector_checkpoint_age_seconds\{collector="audit",log_group="\/aws\/eks\/prod\/cluster"\} (\S+)/.exec(m);
    expect(Number(age?.[1])).toBeGreaterThanOrEqual(90);
    expect(Number(age?.[1])).toBeLessThan(200);
    // A resume further behind than maxCatchUpMs: the window skipped, counted (ADR 0060); how far behind the last read ended.
    stats.gap('/aws/eks/prod/cluster', 7_200_000);
    stats.behindMs.set('/aws/eks/prod/cluster', 1_800_000);
    const g = (await get('/metrics')).body;
    expect(g).toContain('seam_collector_gap_seconds_total{collector="audit",log_group="/aws/eks/prod/cluster"} 7200');
    expect(g).toContain('seam_collector_skipped_windows_total{collector="audit",log_group="/aws/eks/prod/cluster"} 1');
    expect(g).toContain('seam_collector_behind_seconds{collector="audit",log_group="/aws/eks/prod/cluster"} 1800');
    // Ingestion delays (ingestionTime - timestamp) of events emitted: a cumulative histogram per log group, the max in the stats line.
    for (const ms of [800, 4_000, 250_000, 290_000, 2 * 3600_000]) stats.ingested('/aws/eks/prod/cluster', ms);
    const d = (await get('/metrics')).body;
    const bucket = (le: string): string => `seam_collector_ingest_delay_seconds_bucket{collector="audit",log_group="/aws/eks/prod/cluster",le="${le}"}`;
    expect(d).toContain(`${bucket('1')} 1`);
    expect(d).toContain(`${bucket('5')} 2`);
    expect(d).toContain(`${bucket('240')} 2`);
    expect(d).toContain(`${bucket('300')} 4`);
    expect(d).toContain(`${bucket('3600')} 4`);
    expect(d).toContain(`${bucket('+Inf')} 5`);
    expect(d).toContain('seam_collector_ingest_delay_seconds_count{collector="audit",log_group="/aws/eks/prod/cluster"} 5');
    expect(d).toContain('seam_collector_ingest_delay_seconds_sum{collector="audit",log_group="/aws/eks/prod/cluster"} 7744.8');
    expect(stats.snapshot().maxIngestDelayMs).toEqual({ '/aws/eks/prod/cluster': 2 * 3600_000 });
    // Caught only thanks to the lookback, and near it (ADR 0061).
    stats.lateIngested.set('/aws/eks/prod/cluster', 3);
    stats.nearLookback.set('/aws/eks/prod/cluster', 2);
    const l = (await get('/metrics')).body;
    expect(l).toContain('seam_collector_late_ingested_total{collector="audit",log_group="/aws/eks/prod/cluster"} 3');
    expect(l).toContain('seam_collector_near_lookback_total{collector="audit",log_group="/aws/eks/prod/cluster"} 2');
    // The checkpoint's size against the checkpoint topic's message limit (ADR 0061, amendment of session 37).
    stats.checkpointBytes.set('/aws/eks/prod/cluster', 14_000_000);
    stats.checkpointNearLimit.set('/aws/eks/prod/cluster', 4);
    const c = (await get('/metrics')).body;
    expect(c).toContain('seam_collector_checkpoint_bytes{collector="audit",log_group="/aws/eks/prod/cluster"} 14000000');
    expect(c).toContain('seam_collector_checkpoint_near_limit_total{collector="audit",log_group="/aws/eks/prod/cluster"} 4');
    expect((await get('/nope')).status).toBe(404);
  });
});

describe('role metrics', () => {
  it('count the batch documents the normalize role read as their records (ADR 0038), by shape', async () => {
    const server = new MetricsServer({ defaultMetrics: false });
    servers.push(server);
    const batches = {
      documents: { cloudtrail: 3, k8s_audit: 2, cloudwatch_logs: 4 },
      records: { cloudtrail: 40, k8s_audit: 7, cloudwatch_logs: 12 },
      empty: { cloudtrail: 1, k8s_audit: 0, cloudwatch_logs: 1 },
      skipped: { cloudtrail: 0, k8s_audit: 0, cloudwatch_logs: 5 },
    };
    registerRoleMetrics(server, { roleNames: ['normalize'], roles: () => [{ name: 'normalize', stats: () => ({ received: 9, batches, inflated: 3, empty: 2, splitChains: 4 }) }] });
    const { port } = await server.listen('127.0.0.1:0');
    const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(m).toContain('seam_batch_documents_total{role="normalize",source="all",shape="cloudtrail"} 3');
    expect(m).toContain('seam_batch_documents_total{role="normalize",source="all",shape="k8s_audit"} 2');
    expect(m).toContain('seam_batch_records_total{role="normalize",source="all",shape="cloudtrail"} 40');
    expect(m).toContain('seam_batch_empty_total{role="normalize",source="all",shape="cloudtrail"} 1');
    expect(m).toContain('seam_batch_documents_total{role="normalize",source="all",shape="cloudwatch_logs"} 4');
    expect(m).toContain('seam_batch_skipped_total{role="normalize",source="all",shape="cloudwatch_logs"} 5');
    expect(m).toContain('seam_raw_inflated_total{role="normalize",source="all"} 3');
    expect(m).toContain('seam_raw_empty_total{role="normalize",source="all"} 2');
    expect(m).toContain('seam_split_role_chains_total{role="normalize",source="all"} 4');
  });
});

describe('correlate readiness', () => {
  it('not ready while a partition it owns is being rebuilt (reason `rebuilding partition N`, seam_ready 0), ready once it processes (review-ops M1)', async () => {
    const detection = await loadDetection({ rules: [join(import.meta.dirname, '../../detections')] });
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('ready.');
    const b = new SignalBatcher();
    const ev = { '@timestamp': '2024-11-05T14:00:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id: 'e1', source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
    b.add('111122223333', [], ['identity'], JSON.stringify(ev), { id: 'e1', ts: ev['@timestamp'], received: null });
    const producer = await bus.producer();
    await producer.send(b.take().map((m) => ({ ...m, topic: topics.signals })));
    // The re-read of history waits until the test lets it go: the rebuild of partition 0 is in progress till then.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const base = memoryHistory(bus);
    const history: History = { read: async (...args) => (await gate, base.read(...args)), readMany: async (...args) => (await gate, base.readMany(...args)) };
    const correlate = createCorrelateRole({ bus, topics, detection, history, groupId: 'c' });
    const server = new MetricsServer({ defaultMetrics: false });
    servers.push(server);
    registerRoleMetrics(server, { roleNames: ['correlate'], roles: () => [correlate] });
    const { port } = await server.listen('127.0.0.1:0');
    const started = correlate.start();
    for (let i = 0; i < 200 && (correlate.stats() as { rebuilding: number[] }).rebuilding.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).text()).toBe('not ready\ncorrelate: rebuilding partition 0\n');
    const during = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(during).toMatch(/^seam_ready 0$/m);
    expect(during).toMatch(/^seam_correlate_rebuilding 1$/m);
    expect(during).not.toMatch(/^seam_correlate_rebuild_seconds_count [1-9]/m);
    open();
    await started;
    await bus.waitCommitted('c', topics.signals);
    expect(await server.notReady()).toEqual([]);
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(after).toMatch(/^seam_ready 1$/m);
    expect(after).toMatch(/^seam_correlate_rebuilding 0$/m);
    expect(after).toMatch(/^seam_correlate_rebuild_seconds_count 1$/m);
    expect(correlate.stats()).toMatchObject({ rebuilds: 1, rebuilding: [], unbuilt: [] });
    await correlate.stop();
  });
});

describe('correlate watermark', () => {
  it('exports each partition\'s watermark and stage 1\'s progress per raw partition, and names the raw partition that holds the watermark back (review-ops M9)', async () => {
    const detection = await loadDetection({ rules: [join(import.meta.dirname, '../../detections')], allowedLatenessMs: 60_000 });
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('wm.');
    const producer = await bus.producer();
    // Two raw partitions with data that stage 1 has not caught up on: both count for the watermark.
    const ct = `${topics.raw('cloudtrail')}/0`;
    const audit = `${topics.raw('k8s_audit')}/0`;
    await producer.send([
      { topic: topics.raw('cloudtrail'), key: 'a', value: Buffer.from('{}') },
      { topic: topics.raw('k8s_audit'), key: 'a', value: Buffer.from('{}') },
    ]);
    // CloudTrail has reached 14:10, the audit partition is stuck at 14:00; a signal at 14:05 waits for the audit one.
    const t0 = Date.parse('2024-11-05T14:00:00Z');
    const ev = { '@timestamp': '2024-11-05T14:05:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id: 'e1', source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
    await producer.send([
      { topic: topics.signals, key: 'k', value: encodeSignal({ v: 1, rules: [], why: ['identity'], event: ev }) },
      { topic: topics.signals, key: 'k', value: encodeProgress([{ src: ct, t: t0 + 600_000 }, { src: audit, t: t0 }]) },
    ]);
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    const correlate = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 },
      heldLog: (fields, msg) => lines.push({ fields, msg }),
    });
    const server = new MetricsServer({ defaultMetrics: false });
    servers.push(server);
    registerRoleMetrics(server, { roleNames: ['correlate'], roles: () => [correlate] });
    await correlate.start();
    await bus.waitCommitted('c', topics.signals);
    // A batch more, so the release after the marks arrived sees the signal still held.
    await producer.send([{ topic: topics.signals, key: 'k', value: encodeProgress([{ src: ct, t: t0 + 660_000 }]) }]);
    await bus.waitCommitted('c', topics.signals);
    const m = await server.registry.metrics();
    // Watermark: the audit partition's 14:00 minus the minute of lateness.
    expect(m).toContain(`seam_correlate_watermark_seconds{partition="0"} ${(t0 - 60_000) / 1000}`);
    expect(m).toContain(`seam_stage1_progress_seconds{topic="${topics.raw('k8s_audit')}",partition="0"} ${t0 / 1000}`);
    expect(m).toContain(`seam_stage1_progress_seconds{topic="${topics.raw('cloudtrail')}",partition="0"} ${(t0 + 660_000) / 1000}`);
    expect(m).toMatch(/^seam_correlate_held_signals 1$/m);
    // One line, at the first batch, naming the audit partition 10 minutes behind CloudTrail; the second batch, within the minute, adds none.
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({ partition: 0, heldBy: audit, progress: '2024-11-05T14:00:00.000Z', behindS: 600, latenessMs: 60_000, held: 1 });
    expect(lines[0]!.msg).toBe(`Watermark held by ${audit} at 2024-11-05T14:00:00.000Z, 600 s behind the newest raw partition; held signals wait for it.`);
    await correlate.stop();
  });
  it('a source that has not delivered since the start holds the watermark at the delay expected of it, and the held line says so (ADR 0009, 5c)', async () => {
    const detection = await loadDetection({ rules: [join(import.meta.dirname, '../../detections')], allowedLatenessMs: 60_000 });
    /** The audit log delivering 5 s late, CloudTrail's topic empty; a CloudTrail-plane signal 70 s old: held or handed on? */
    const run = async (sourceDelayMs?: { cloudtrail: number }) => {
      const bus = new MemoryBus({ defaultPartitions: 1 });
      const topics = pipelineTopics('xd.');
      await bus.ensureTopics([{ topic: topics.raw('cloudtrail'), partitions: 1 }]);
      const producer = await bus.producer();
      await producer.send([{ topic: topics.raw('k8s_audit'), key: 'a', value: Buffer.from('{}') }]);
      const now = Date.now();
      const ev = { '@timestamp': new Date(now - 70_000).toISOString(), eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id: 'e1', source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
      await producer.send([
        { topic: topics.signals, key: 'k', value: encodeSignal({ v: 1, rules: [], why: ['identity'], event: ev }) },
        { topic: topics.signals, key: 'k', value: encodeProgress([{ src: `${topics.raw('k8s_audit')}/0`, t: now - 5000 }]) },
      ]);
      const lines: { fields: Record<string, unknown>; msg: string }[] = [];
      const correlate = createCorrelateRole({
        bus,
        topics,
        detection,
        history: memoryHistory(bus),
        groupId: 'c',
        order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0, ...(sourceDelayMs ? { sourceDelayMs } : {}) },
        heldLog: (fields, msg) => lines.push({ fields, msg }),
      });
      const server = new MetricsServer({ defaultMetrics: false });
      servers.push(server);
      registerRoleMetrics(server, { roleNames: ['correlate'], roles: () => [correlate] });
      await correlate.start();
      await bus.waitCommitted('c', topics.signals);
      await producer.send([{ topic: topics.signals, key: 'k', value: encodeProgress([{ src: `${topics.raw('k8s_audit')}/0`, t: now - 4000 }]) }]);
      await bus.waitCommitted('c', topics.signals);
      const held = /^seam_correlate_held_signals (\d+)$/m.exec(await server.registry.metrics())?.[1];
      await correlate.stop();
      return { held: Number(held), lines, ct: `${topics.raw('cloudtrail')}/0` };
    };
    // Nothing expected of CloudTrail: its empty partition does not count; the watermark is the audit log's progress
    // less the lateness (65 s ago) and the 70 s old signal goes.
    const none = await run();
    expect(none.held).toBe(0);
    expect(none.lines).toEqual([]);
    // Expected up to 15 minutes late: the empty partition holds the watermark 16 minutes back, the signal waits.
    const expected = await run({ cloudtrail: 900_000 });
    expect(expected.held).toBe(1);
    expect(expected.lines).toHaveLength(1);
    expect(expected.lines[0]!.fields).toMatchObject({ heldBy: expected.ct, idle: true, delayS: 900, delayFrom: 'expected', empty: true, held: 1 });
    expect(expected.lines[0]!.msg).toMatch(
      new RegExp(`^Watermark held by ${expected.ct} at \\S+, 89[56] s behind the newest raw partition: cloudtrail has not delivered since this start, and correlate\\.sourceDelayMs expects it up to 900 s late, so its first records may come that late \\(ADR 0009, 5c\\); held signals wait for it\\.$`),
    );
  });
});
