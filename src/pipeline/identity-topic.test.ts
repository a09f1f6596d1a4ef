import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alice, awsAuthUpdate, bob, ev, execInto, iamK8sUser, NODE_MAPPING, roleMapping, t } from '../../test/identity/records.ts';
import { MemoryBus } from '../bus/memory.ts';
import type { BusMessage, ConsumedMessage } from '../bus/types.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import type { Alert } from '../detect/alert.ts';
import { IdentityGraph } from '../identity/graph.ts';
import { decodeIdentityRecord, restoreRecord, type IdentityRecord } from '../identity/record.ts';
import type { IdentityDoc } from '../identity/types.ts';
import { loadDetection, type Detection } from './detection.ts';
import { runEmbedded } from './embedded.ts';
import { memoryHistory } from './history.ts';
import { IdentityPublisher, IdentityRestore } from './identity-topic.ts';
import { crossAccountChain } from '../../test/pipeline/cross-account-chain.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { decodeSignals, encodeSignal, signalKey } from './signal.ts';
import { pipelineTopics, type PipelineTopics } from './topics.ts';

const ROOT = join(import.meta.dirname, '../..');
const RULES = join(ROOT, 'detections');
const DAY_MS = 24 * 3600_000;

function signal(topics: PipelineTopics, event: SeamEvent, timestampMs?: number): BusMessage {
  return { topic: topics.signals, key: signalKey(event), value: encodeSignal({ v: 1, rules: [], why: ['identity'], event }), ...(timestampMs === undefined ? {} : { timestampMs }) };
}

async function demoEvents(): Promise<SeamEvent[]> {
  const lines = (await readFile(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const out: SeamEvent[] = [];
  for (const line of lines) {
    const r = normalizeLine(line, { collector: 'test', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01' });
    if (r.ok) out.push(r.value);
  }
  return out;
}

/** The latest record of every version id on the topic, by partition. */
function latestRecords(bus: MemoryBus, topic: string): Map<string, { record: IdentityRecord; partition: number }> {
  const out = new Map<string, { record: IdentityRecord; partition: number }>();
  bus.read(topic).forEach((msgs, partition) => {
    for (const m of msgs) {
      const record = decodeIdentityRecord(m.value)!;
      expect(m.key).toBe(record.doc.id);
      out.set(m.key!, { record, partition });
    }
  });
  return out;
}

const docsById = (docs: IdentityDoc[]): Map<string, IdentityDoc> => new Map(docs.map((d) => [d.id, d]));

async function runCorrelate(bus: MemoryBus, topics: PipelineTopics, detection: Detection, groupId: string): Promise<ReturnType<typeof createCorrelateRole>> {
  const role = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId });
  await role.start();
  await bus.waitCommitted(groupId, topics.signals);
  await role.stop();
  return role;
}

describe('seam.identity: the correlate role publishes its graph', () => {
  it('produces every version a batch changed with the batch, before its commit, on the signals partition’s number', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 2, maxBatch: 50 });
    const topics = pipelineTopics('p.');
    const producer = await bus.producer();
    await producer.send((await demoEvents()).map((e) => signal(topics, e)));

    // Killed after producing the first batch that changed the graph, before committing it.
    let killedAt: { partition: number; offset: number } | undefined;
    const first = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      afterProduce: async (batch) => {
        if (killedAt !== undefined || bus.read(topics.identity).flat().length === 0) return;
        killedAt = { partition: batch[0]!.partition, offset: Number(batch[0]!.offset) };
        throw new Error('killed between produce and commit');
      },
    });
    await first.start();
    while (killedAt === undefined) await new Promise((r) => setTimeout(r, 1));
    await first.stop();
    // On the topic, on the batch's partition number, and the batch is not committed.
    expect(bus.read(topics.identity)[killedAt.partition]!.length).toBeGreaterThan(0);
    expect(bus.committed('c')[`${topics.signals}/${killedAt.partition}`]).toBe(killedAt.offset);

    const second = await runCorrelate(bus, topics, detection, 'c');
    expect((second.stats() as { rebuilds: number }).rebuilds).toBeGreaterThan(0);

    // Reference: one fresh stage per signals partition, over that partition in order.
    const latest = latestRecords(bus, topics.identity);
    let versions = 0;
    bus.read(topics.signals).forEach((msgs, p) => {
      const stage = detection.newStage();
      for (const m of msgs) for (const sig of decodeSignals(m.value) ?? []) stage.process(sig.event);
      const want = docsById(stage.native.graph.toIdentityDocs());
      versions += want.size;
      for (const [id, doc] of want) {
        expect(latest.get(id)?.partition, `version ${doc.kind} ${doc.from} → ${doc.to}`).toBe(p);
        // The latest record says what the graph says now: closed versions carry valid_to.
        expect(latest.get(id)?.record.doc).toEqual(doc);
      }
    });
    expect(versions).toBeGreaterThan(30);
    expect(latest.size).toBe(versions);
  });

  it('a restarted role still resolves through an aws-auth mapping older than its rebuild window (and does not without seam.identity)', async () => {
    // A one-hour rebuild window; the mapping was made eight days before the request.
    const detection = await loadDetection({ rules: [RULES], maxRebuildMs: 3600_000 });
    expect(detection.rebuildWindowMs).toBe(3600_000);
    const run = async (withIdentityTopic: boolean): Promise<Alert | undefined> => {
      const bus = new MemoryBus({ defaultPartitions: 1 });
      const topics = pipelineTopics('a.');
      const producer = await bus.producer();
      const now = Date.now();
      await producer.send([signal(topics, ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']), t('10:00:00'))), now - 8 * DAY_MS)]);
      await runCorrelate(bus, topics, detection, 'c');
      await producer.send([signal(topics, ev(execInto(iamK8sUser(bob, 'readonly:bob-example.com'), 'payments/api-7c9d8f6b5-x2k4q', t('11:00:00'))), now)]);
      // The same group, a new instance: its first batch rebuilds the state.
      const restarted = await runCorrelate(bus, withIdentityTopic ? topics : { ...topics, identity: 'a.elsewhere' }, detection, 'c');
      expect((restarted.stats() as { rebuilds: number; rebuiltSignals: number }).rebuiltSignals).toBe(0);
      const alerts = bus
        .read(topics.alerts)
        .flat()
        .map((m) => JSON.parse(m.value.toString('utf8')) as Alert);
      return alerts.find((a) => a.rule.id.length > 0 && a.principal?.arn === bob.arn && a.summary.includes('exec'));
    };
    const withTopic = await run(true);
    expect(withTopic).toBeDefined();
    expect(withTopic!.chain?.map((s) => s.kind)).toEqual(['authenticates_as', 'aws_auth_mapping', 'session_of']);
    expect(withTopic!.principal?.k8s_groups).toContain('viewers');

    const without = await run(false);
    expect(without).toBeDefined();
    expect(without!.chain?.map((s) => s.kind)).not.toContain('aws_auth_mapping');
    expect(without!.principal?.k8s_groups ?? []).not.toContain('viewers');
  });

  it('re-sends a version with valid_to when a later fact closes it; re-applied records and re-derived facts change nothing', () => {
    const g = new IdentityGraph();
    const pub = new IdentityPublisher(g, 'seam.identity', 0);
    const events = [
      ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']) + roleMapping('ci-deployer', 'ci', ['system:masters']), t('10:00:00'))),
      // ReadOnly gains a group (the old version closes), ci-deployer is removed (retracted).
      ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers', 'editors']), t('12:00:00'))),
    ];
    const batches = events.map((e) => {
      pub.note(g.observe(e), { offset: '0', timestampMs: 1 });
      return pub.messages().map((m) => decodeIdentityRecord(m.value)!);
    });
    const closed = batches[1]!.filter((r) => r.doc.valid_to !== undefined);
    const closedNames = closed.map((r) => `${r.fact.kind} ${r.fact.from.split('/').pop()} ${r.doc.valid_to}`);
    expect(closedNames).toContain(`aws_auth_mapping ReadOnly ${t('12:00:00')}`);
    expect(closedNames).toContain(`aws_auth_mapping ci-deployer ${t('12:00:00')}`);
    // Each closed version was first sent open, under the same id.
    for (const r of closed) expect(batches[0]!.find((o) => o.doc.id === r.doc.id)?.doc.valid_to).toBeUndefined();
    expect(closed.find((r) => r.fact.from.endsWith('ci-deployer'))?.closed_by).toBe(events[1]!.seam.id);

    // Restored from the latest record per id (what compaction keeps), in any order.
    const latest = new Map<string, IdentityRecord>();
    for (const r of batches.flat()) latest.set(r.doc.id, r);
    const fresh = new IdentityGraph();
    const apply = (f: Parameters<IdentityGraph['applyFact']>[0]): boolean => fresh.applyFact(f);
    for (const r of [...latest.values()].reverse()) expect(restoreRecord(apply, fresh.store, r)).toBe(true);
    const sorted = (docs: IdentityDoc[]): IdentityDoc[] => [...docs].sort((a, b) => a.id.localeCompare(b.id));
    expect(sorted(fresh.toIdentityDocs())).toEqual(sorted(g.toIdentityDocs()));
    // Again: no-ops.
    for (const r of latest.values()) expect(restoreRecord(apply, fresh.store, r)).toBe(false);
    const versions = fresh.stats().versions;
    // The events seen again derive nothing new: no version is duplicated.
    for (const e of events) expect(fresh.observe(e)).toEqual([]);
    expect(fresh.stats().versions).toBe(versions);
    expect(sorted(fresh.toIdentityDocs())).toEqual(sorted(g.toIdentityDocs()));
  });

  it('merging partitions (explain --from kafka): a shared cross-account AssumeRole in two partitions is one version, as in one graph, read in either order', () => {
    // The chain of test/pipeline/cross-account-chain.ts without account groups: A's and B's signals on two partitions,
    // the AssumeRole in both (A's trail and B's shared copy: same key and start, other provenance).
    const B = '210987654321';
    const events = crossAccountChain(B).map((r) => ev(r.raw, r.cluster));
    for (const [i, r] of crossAccountChain(B).entries()) if (r.account !== undefined) events[i]!.seam.account = r.account;
    const one = new IdentityGraph();
    const parts = new Map<string, { g: IdentityGraph; pub: IdentityPublisher; out: BusMessage[] }>();
    for (const [i, e] of events.entries()) {
      one.observe(e);
      const k = signalKey(e);
      let p = parts.get(k);
      if (p === undefined) {
        const g = new IdentityGraph();
        parts.set(k, (p = { g, pub: new IdentityPublisher(g, 'seam.identity', parts.size), out: [] }));
      }
      p.pub.note(p.g.observe(e), { offset: String(i), timestampMs: 1 });
      p.out.push(...p.pub.messages());
    }
    expect([...parts.keys()].sort()).toEqual(['111122223333', B]);
    const bKeys = (g: IdentityGraph): string[] =>
      [...g.store.all()].filter((e) => e.fact.key.includes(`::${B}:`) || e.fact.key.includes('XACCT')).map((e) => `${e.fact.key} -> ${e.fact.to} ${e.fromMs}..${e.toMs}`).sort();
    for (const order of [[...parts.keys()], [...parts.keys()].reverse()]) {
      const restore = (merged: boolean): IdentityGraph => {
        const g = new IdentityGraph();
        for (const k of order) {
          const r = new IdentityRestore(g, 1n << 62n, merged ? { merged, fromTimeMs: Infinity } : {});
          for (const [o, m] of parts.get(k)!.out.entries()) r.add({ ...m, offset: String(o), partition: 0 } as ConsumedMessage);
          r.before(Infinity);
          r.finish();
        }
        return g;
      };
      expect(bKeys(restore(true))).toEqual(bKeys(one));
      // Without the merge rule each B edge is there twice: the first copy closed, zero-length, where the second starts.
      expect(bKeys(restore(false)).length).toBe(2 * bKeys(one).length);
    }
    expect(bKeys(one)).toHaveLength(3);
  });

  it('index documents carry no attributes, so nothing a fact holds beyond names and ids reaches the index', async () => {
    const g = new IdentityGraph();
    const pub = new IdentityPublisher(g, 'seam.identity', 0);
    for (const e of await demoEvents()) pub.note(g.observe(e), undefined);
    const records = pub.messages().map((m) => decodeIdentityRecord(m.value)!);
    expect(records.length).toBeGreaterThan(30);
    const allowed = new Set(['id', 'kind', 'from', 'to', 'cluster', 'account', 'valid_from', 'valid_to', 'provenance']);
    for (const r of records) for (const k of Object.keys(r.doc)) expect(allowed.has(k)).toBe(true);
    // The demo's STS responses carry session tokens; normalization redacted them before any fact was derived.
    const text = records.map((r) => JSON.stringify(r)).join('\n');
    expect(text).not.toMatch(/sessionToken|secretAccessKey|Bearer |eyJ[A-Za-z0-9_-]{10,}\./);
  });

  it('embedded mode writes the graph’s versions next to events and alerts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-identity-'));
    const detection = await loadDetection({ rules: [RULES] });
    const { paths } = await runEmbedded({ paths: [join(ROOT, 'deploy/demo')], stateDir: dir, detection, maxRecordBytes: 1 << 20, cluster: 'prod-eks-01' });
    expect(paths.identity).toBe(join(dir, 'identity.jsonl'));
    // The last line of an id is the version's latest state.
    const written = docsById((await readFile(paths.identity, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as IdentityDoc));
    const stage = detection.newStage();
    for (const e of await demoEvents()) stage.process(e);
    const want = docsById(stage.native.graph.toIdentityDocs());
    expect(want.size).toBeGreaterThan(30);
    expect(written).toEqual(want);
  });
});
