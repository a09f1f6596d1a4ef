import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../../test/helpers/http-receiver.ts';
import { MemoryBus } from '../bus/memory.ts';
import type { BusConsumerOptions, BusMessage } from '../bus/types.ts';
import { Deliverer } from '../sinks/delivery/deliverer.ts';
import { buildOutputs, DeliveryConfig } from '../sinks/registry.ts';
import { rawHeaders } from '../sources/checkpoint/raw-record.ts';
import { detectSource } from '../sources/cloudwatch-logs/parse.ts';
import { roleKafkaAccess, roleTopics } from './access.ts';
import { loadDetection } from './detection.ts';
import { FileIndexSink } from './file-sink.ts';
import { memoryHistory, type History } from './history.ts';
import { memoryUpstream } from './progress.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { createDeliverRole } from './roles/deliver.ts';
import { createIndexRole } from './roles/indexer.ts';
import { createNormalizeRole } from './roles/normalize.ts';
import { defaultGroupId, type RoleName } from './roles/role.ts';
import { pipelineTopics } from './topics.ts';

/**
 * roleKafkaAccess (what the per-role IAM policies are checked against, access.test.ts) against what the roles'
 * code really does: the four roles run the demo dataset over one MemoryBus, each through a view of it that records
 * the topics it subscribes to, produces to, looks at (partitions) and re-reads (history), and its groups. Every
 * one must be in the role's access list.
 */
const DEMO = join(import.meta.dirname, '../../deploy/demo');
const RULES = join(import.meta.dirname, '../../detections');

type Seen = { read: Set<string>; write: Set<string>; describe: Set<string>; groups: Set<string> };
const seenOf = (): Seen => ({ read: new Set(), write: new Set(), describe: new Set(), groups: new Set() });

/** The bus as one role sees it, recording what it does. */
function recording(bus: MemoryBus, seen: Seen): MemoryBus {
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'consumer')
        return async (o: BusConsumerOptions) => {
          for (const t of o.topics) seen.read.add(t);
          seen.groups.add(o.groupId);
          return target.consumer(o);
        };
      if (prop === 'producer')
        return async () => {
          const p = await target.producer();
          return {
            send: async (ms: BusMessage[]) => {
              for (const m of ms) seen.write.add(m.topic);
              await p.send(ms);
            },
            close: () => p.close(),
          };
        };
      if (prop === 'partitions')
        return async (t: string) => {
          seen.describe.add(t);
          return target.partitions(t);
        };
      if (prop === 'committedOffsets')
        return async (g: string, t: string) => {
          seen.groups.add(g);
          seen.describe.add(t);
          return target.committedOffsets(g, t);
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function recordingHistory(h: History, seen: Seen): History {
  return {
    read: (topic, ...rest) => (seen.read.add(topic), h.read(topic, ...rest)),
    readMany: (ranges, opts) => {
      for (const r of ranges) seen.read.add(r.topic);
      return h.readMany(ranges, opts);
    },
  };
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

describe('roleKafkaAccess holds what the roles do', () => {
  it('normalize, correlate, index and deliver on the demo dataset open only the topics and groups their access lists name', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 2, maxBatch: 200 });
    const topics = pipelineTopics('o.');
    const seen: Record<RoleName, Seen> = { normalize: seenOf(), correlate: seenOf(), index: seenOf(), deliver: seenOf() };
    const group = (r: RoleName): string => defaultGroupId(r);
    const normalize = createNormalizeRole({ bus: recording(bus, seen.normalize), topics, groupId: group('normalize'), ...(detection.ruleset ? { ruleset: detection.ruleset } : {}) });
    const correlate = createCorrelateRole({
      bus: recording(bus, seen.correlate),
      topics,
      detection,
      history: recordingHistory(memoryHistory(bus), seen.correlate),
      groupId: group('correlate'),
      order: { upstream: memoryUpstream(bus, topics, group('normalize')), idleMs: Infinity, pollMs: 0 },
    });
    const sink = await FileIndexSink.open(await mkdtemp(join(tmpdir(), 'seam-access-')));
    const index = createIndexRole({ bus: recording(bus, seen.index), topics, sink, groupId: group('index') });
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }] });
    const deliver = createDeliverRole({ bus: recording(bus, seen.deliver), topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: group('deliver'), history: recordingHistory(memoryHistory(bus), seen.deliver) });
    const roles = [normalize, correlate, index, deliver];
    for (const r of roles) await r.start();
    try {
      const producer = await bus.producer();
      const lines = (await readFile(join(DEMO, 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
      for (const text of lines) {
        const source = detectSource(text)!;
        await producer.send([{ topic: topics.raw(source), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source }) }]);
      }
      // A record normalize cannot read: a dead letter.
      await producer.send([{ topic: topics.raw('cloudtrail'), key: 'k', value: Buffer.from('{not json'), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: 'cloudtrail' }) }]);
      for (const t of topics.rawAll) await bus.waitCommitted(group('normalize'), t, 60_000);
      await bus.waitCommitted(group('correlate'), topics.signals, 60_000);
      await correlate.flush();
      for (const t of [topics.events, topics.alerts]) await bus.waitCommitted(group('index'), t, 60_000);
      await bus.waitCommitted(group('deliver'), topics.alerts, 60_000);
      await producer.close();
    } finally {
      for (const r of roles) await r.stop();
      await sink.close();
    }

    for (const role of ['normalize', 'correlate', 'index', 'deliver'] as const) {
      const a = roleKafkaAccess(role, topics);
      const s = seen[role];
      expect([...s.read].filter((t) => !a.read.includes(t)), `${role} read`).toEqual([]);
      expect([...s.write].filter((t) => !a.write.includes(t)), `${role} wrote`).toEqual([]);
      expect([...s.describe].filter((t) => !roleTopics(a).includes(t)), `${role} looked at`).toEqual([]);
      expect([...s.groups].filter((g) => !a.groups.includes(g)), `${role} groups`).toEqual([]);
    }
    // The run reached every output the lists name for the roles' main path.
    expect([...seen.normalize.write].sort()).toEqual([topics.dlq, topics.events, topics.signals].sort());
    for (const t of [topics.alerts, topics.events, topics.incidents, topics.identity]) expect(seen.correlate.write.has(t), `correlate wrote ${t}`).toBe(true);
    expect([...seen.index.read].sort()).toEqual([topics.alerts, topics.events, topics.identity, topics.incidents].sort());
    expect([...seen.deliver.read]).toEqual([topics.alerts]);
    expect(rx.requests.length).toBeGreaterThan(0);
  }, 120_000);
});
