// CloudWatch Logs collector against moto and the real Kafka: several clusters, log groups and streams,
// late arrivals within the lookback, an event at the cursor millisecond, the same events seen across
// polls, one truncated event, a hard stop between produce and checkpoint, and a restart.
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { RAW_HEADERS, TOPICS } from '../../src/bus/topics.ts';
import type { ConsumedMessage } from '../../src/bus/types.ts';
import { HardStop } from '../../src/sources/checkpoint/store.ts';
import { CloudWatchLogsSourceConfig } from '../../src/sources/cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../../src/sources/cloudwatch-logs/source.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { auditEvent, cloudTrailEvent, createStreams, newBus, produced, put, seqOf } from './helpers.ts';
import { account, tally, throughput } from './tally.ts';

const AUDIT_STREAMS = ['kube-apiserver-audit-0a', 'kube-apiserver-audit-1b', 'kube-apiserver-audit-2c'];
const cw = new CloudWatchLogs({ ...awsClientConfig(), maxAttempts: 5 });

interface Harness {
  source: CloudWatchLogsSource;
  armed: { kill: boolean };
}

export async function cloudWatchCollector(
  bus: KafkaBus,
  opts: {
    checkpointTopic: string;
    txPrefix: string;
    groups: { logGroupName: string }[];
    ownership?: { replicaId: string; replicas: string[] };
    pageLimit?: number;
    pollIntervalMs?: number;
    lookbackMs?: number;
    logs?: CloudWatchLogs;
  },
): Promise<Harness> {
  const armed = { kill: false };
  const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: opts.checkpointTopic } }), bus, {
    transactionalIdPrefix: opts.txPrefix,
    faults: { killAfterProduce: () => armed.kill },
  });
  const config = CloudWatchLogsSourceConfig.parse({
    type: 'cloudwatch-logs',
    name: 'cwl-test',
    logGroups: opts.groups,
    lookbackMs: opts.lookbackMs ?? 5 * 60_000,
    initialLookbackMs: 60 * 60_000,
    pageLimit: opts.pageLimit ?? 1000,
    ...(opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: opts.pollIntervalMs }),
    ...(opts.ownership ? { ownership: opts.ownership } : {}),
  });
  const source = new CloudWatchLogsSource(config, {
    logs: opts.logs ?? cw,
    store: ctx.checkpoints,
    writerFor: (k) => ctx.writerFor(k),
    refresh: () => ctx.refreshCheckpoints(),
  });
  await source.start();
  return { source, armed };
}

function byStream(msgs: ConsumedMessage[]): Map<string, ConsumedMessage[]> {
  const out = new Map<string, ConsumedMessage[]>();
  for (const m of msgs) {
    const k = m.key ?? '';
    out.set(k, [...(out.get(k) ?? []), m]);
  }
  return out;
}

describe('cloudwatch-logs collector (moto + Kafka)', () => {
  let bus: KafkaBus;
  const checkpointTopic = uniqueName('seam-checkpoints-test');
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([TOPICS.raw('k8s_audit'), TOPICS.raw('cloudtrail'), TOPICS.dlq].map((topic) => ({ topic, partitions: 6 })));
  });
  afterAll(async () => {
    await bus.close();
  });

  it('emits every event exactly once, in order per stream, across late arrivals, truncation and a hard stop', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit'), TOPICS.raw('cloudtrail'), TOPICS.dlq]);
    const clusters = [uniqueName('alpha'), uniqueName('beta')];
    const groups = clusters.map((c) => `/aws/eks/${c}/cluster`);
    const ctGroup = `/seam/test/${uniqueName('cloudtrail')}`;
    for (const g of groups) await createStreams(g, [...AUDIT_STREAMS, 'authenticator-0a']);
    await createStreams(ctGroup, ['ct-stream']);

    const expected = new Set<string>();
    const late = new Set<string>();
    let seq = 0;
    const putAudit = async (tsList: number[], isLate = false): Promise<void> => {
      for (const [gi, g] of groups.entries()) {
        for (const s of AUDIT_STREAMS) {
          const events = tsList.map((ts) => {
            const n = isLate ? 100_000 + seq++ : seq++;
            const id = `${clusters[gi]}-${s}-${n}`;
            expected.add(id);
            if (isLate) late.add(id);
            return { timestamp: ts, message: auditEvent(clusters[gi]!, s, n, ts) };
          });
          await put(g, s, events);
        }
        // Not an audit stream: the collector must not read it.
        await put(g, 'authenticator-0a', [{ timestamp: tsList[0]!, message: '{"msg":"authenticator noise"}' }]);
      }
    };

    // Phase 1: history 20 to 10 minutes ago; CloudTrail alongside.
    const t0 = Date.now() - 20 * 60_000;
    await putAudit(Array.from({ length: 400 }, (_, i) => t0 + i * 1500));
    await put(ctGroup, 'ct-stream', Array.from({ length: 300 }, (_, i) => ({ timestamp: t0 + i * 2000, message: cloudTrailEvent(i, t0 + i * 2000) })));
    for (let i = 0; i < 300; i++) expected.add(`ct-${i}`);

    const txPrefix = uniqueName('seam-collect-test');
    const cfgGroups = [...groups.map((logGroupName) => ({ logGroupName })), { logGroupName: ctGroup }];
    const a = await cloudWatchCollector(bus, { checkpointTopic, txPrefix, groups: cfgGroups });
    await a.source.pollOnce();
    const watermark1 = Math.max(...(a.source as unknown as { groups: { window: { watermarkMs: number } }[] }).groups.map((g) => g.window.watermarkMs));

    // Phase 2: fresh events, late arrivals behind the watermark (within the lookback), one at the cursor ms, a truncated one.
    const now2 = Date.now();
    await putAudit(Array.from({ length: 300 }, (_, i) => now2 - 60_000 + i * 200));
    await putAudit(Array.from({ length: 20 }, (_, i) => watermark1 - 120_000 + i * 1000), true);
    await putAudit([watermark1], true);
    const big = auditEvent(clusters[0]!, AUDIT_STREAMS[1]!, 999_999, now2, { padding: 'x'.repeat(270_000) }).slice(0, 256 * 1024 - 26);
    await put(groups[0]!, AUDIT_STREAMS[1]!, [{ timestamp: now2 + 1, message: big }]);

    // Instance A dies between producing a page and saving its checkpoint (its transaction stays open).
    a.armed.kill = true;
    await expect(a.source.pollOnce()).rejects.toBeInstanceOf(HardStop);
    tally.restarts++;

    // Instance B: same identity; starting fences A, then it resumes from the last committed checkpoint.
    const b = await cloudWatchCollector(bus, { checkpointTopic, txPrefix, groups: cfgGroups });
    await b.source.pollOnce();
    await b.source.pollOnce();

    // Phase 3: more events and more late arrivals, read by B.
    const now3 = Date.now();
    await putAudit(Array.from({ length: 100 }, (_, i) => now3 - 10_000 + i * 100));
    // Late by 50 s: within the 60 s every poll re-reads (ADR 0061's two-tier re-read; later ones wait for the whole
    // re-read, once a minute, which late-ingest.test.ts covers).
    await putAudit(Array.from({ length: 5 }, (_, i) => now3 - 50_000 + i), true);
    await b.source.pollOnce();
    await b.source.pollOnce();

    const got = await produced(bus, [TOPICS.raw('k8s_audit'), TOPICS.raw('cloudtrail'), TOPICS.dlq], [...groups, ctGroup], from);
    const ids: string[] = [];
    const truncated = got.filter((m) => m.headers?.[RAW_HEADERS.truncated] === 'true');
    for (const m of got) {
      if (m.headers?.[RAW_HEADERS.truncated] === 'true') continue;
      const rec = JSON.parse(m.value.toString()) as { auditID?: string; eventID?: string };
      ids.push(rec.auditID ?? rec.eventID ?? '?');
    }
    const { missing, duplicated } = account(expected, ids);
    if (duplicated.length > 0) {
      const d = duplicated[0]!;
      const copies = got.filter((m) => m.value.toString().includes(`"auditID":"${d}"`));
      process.stderr.write(`DUP ${d}: ${copies.map((m) => `${m.topic}/${m.partition}@${m.offset} ${m.headers?.[RAW_HEADERS.origin]} rx=${m.headers?.[RAW_HEADERS.receivedAt]}`).join(' | ')}\n`);
    }
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(ids.length).toBe(expected.size);

    // The truncated event: kept (in the audit topic, with the group's source), flagged, counted.
    expect(truncated).toHaveLength(1);
    expect(truncated[0]!.topic).toBe(TOPICS.raw('k8s_audit'));
    expect(truncated[0]!.value.toString()).toBe(big);
    expect(b.source.stats.snapshot().truncated).toBe(1);

    // Attribution: cluster from the group name; CloudTrail has none; the authenticator stream is never read.
    // No group names an account in the config: each record carries the account of its group's ARN
    // (DescribeLogGroups; moto's account), so a cluster's signals share one key on Kafka.
    const motoAccount = /:(\d{12}):log-group:/.exec((await cw.describeLogGroups({ logGroupNamePrefix: groups[0]! })).logGroups?.[0]?.logGroupArn ?? '')?.[1];
    expect(motoAccount).toMatch(/^\d{12}$/);
    for (const m of got) {
      expect(m.headers?.[RAW_HEADERS.account]).toBe(motoAccount);
      const origin = m.headers?.[RAW_HEADERS.origin] ?? '';
      const gi = groups.findIndex((g) => origin.startsWith(`${g}/`));
      if (gi >= 0) {
        expect(m.headers?.[RAW_HEADERS.cluster]).toBe(clusters[gi]);
        expect(m.topic).toBe(TOPICS.raw('k8s_audit'));
        expect(origin).toContain('/kube-apiserver-audit-');
      } else {
        expect(m.headers?.[RAW_HEADERS.cluster]).toBeUndefined();
        expect(m.topic).toBe(TOPICS.raw('cloudtrail'));
      }
      expect(m.key).toBe(origin.slice(0, origin.lastIndexOf('#')));
    }

    // Order per stream: the in-time events of each stream appear in the order they were written.
    for (const [key, msgs] of byStream(got)) {
      const seqs = msgs.map(seqOf).filter((n): n is number => n !== undefined && n < 100_000);
      expect(seqs, key).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(b.source.stats.snapshot().duplicatesSkipped).toBeGreaterThan(0);
    expect(late.size).toBeGreaterThan(0);
    await b.source.close();
  });

  it('two replicas over the same log groups emit each event once, also when one is fenced as a zombie', async () => {
    const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
    const clusters = [uniqueName('r-one'), uniqueName('r-two'), uniqueName('r-three'), uniqueName('r-four')];
    const groups = clusters.map((c) => `/aws/eks/${c}/cluster`);
    for (const g of groups) await createStreams(g, AUDIT_STREAMS.slice(0, 2));
    const expected = new Set<string>();
    let seq = 0;
    const putAll = async (n: number): Promise<void> => {
      const now = Date.now();
      for (const [gi, g] of groups.entries()) {
        for (const s of AUDIT_STREAMS.slice(0, 2)) {
          const events = Array.from({ length: n }, (_, i) => {
            const k = seq++;
            expected.add(`${clusters[gi]}-${s}-${k}`);
            return { timestamp: now - 30_000 + i * 10, message: auditEvent(clusters[gi]!, s, k, now - 30_000 + i * 10) };
          });
          await put(g, s, events);
        }
      }
    };
    const txPrefix = uniqueName('seam-collect-replicas');
    const cfgGroups = groups.map((logGroupName) => ({ logGroupName }));
    const replicas = ['seam-collect-0', 'seam-collect-1'];
    const r0 = await cloudWatchCollector(bus, { checkpointTopic, txPrefix, groups: cfgGroups, ownership: { replicaId: replicas[0]!, replicas } });
    const r1 = await cloudWatchCollector(bus, { checkpointTopic, txPrefix, groups: cfgGroups, ownership: { replicaId: replicas[1]!, replicas } });
    const owned0 = r0.source.ownedGroups().map((g) => g.logGroupName);
    const owned1 = r1.source.ownedGroups().map((g) => g.logGroupName);
    expect([...owned0, ...owned1].sort()).toEqual([...groups].sort());
    expect(owned0.filter((g) => owned1.includes(g))).toEqual([]);

    for (let round = 0; round < 3; round++) {
      await putAll(150);
      await Promise.all([r0.source.pollOnce(), r1.source.pollOnce()]);
    }
    // Scale down to one replica: seam-collect-0 takes every group (fencing seam-collect-1), while 1 keeps polling as a zombie.
    await putAll(100);
    const solo = await cloudWatchCollector(bus, { checkpointTopic, txPrefix, groups: cfgGroups, ownership: { replicaId: replicas[0]!, replicas: [replicas[0]!] } });
    tally.restarts++;
    await Promise.all([solo.source.pollOnce(), r1.source.pollOnce()]);
    await putAll(50);
    await Promise.all([solo.source.pollOnce(), r1.source.pollOnce()]);
    await solo.source.pollOnce();

    const got = await produced(bus, [TOPICS.raw('k8s_audit')], groups, from);
    const { missing, duplicated } = account(
      expected,
      got.map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID),
    );
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    for (const h of [r0, r1, solo]) await h.source.close();
  });

  it('measures collector throughput from moto into Kafka', async () => {
    const cluster = uniqueName('bulk');
    const group = `/aws/eks/${cluster}/cluster`;
    await createStreams(group, AUDIT_STREAMS);
    const now = Date.now() - 5 * 60_000;
    const perStream = 5000;
    for (const s of AUDIT_STREAMS) await put(group, s, Array.from({ length: perStream }, (_, i) => ({ timestamp: now + i * 10, message: auditEvent(cluster, s, i, now + i * 10) })));
    const h = await cloudWatchCollector(bus, { checkpointTopic, txPrefix: uniqueName('seam-collect-bulk'), groups: [{ logGroupName: group }], pageLimit: 10_000 });
    const t = performance.now();
    await h.source.pollOnce();
    const secs = (performance.now() - t) / 1000;
    const n = h.source.stats.counters.emitted;
    expect(n).toBe(perStream * AUDIT_STREAMS.length);
    throughput.push(`cloudwatch-logs collector: ${n} events from moto into Kafka in ${secs.toFixed(2)} s = ${Math.round(n / secs)} events/s`);
    await h.source.close();
  });
});
