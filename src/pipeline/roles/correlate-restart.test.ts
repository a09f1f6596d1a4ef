import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.ts';
import type { Bus, BusConsumerOptions } from '../../bus/types.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { loadDetection } from '../detection.ts';
import { memoryHistory, type History } from '../history.ts';
import { memoryUpstream } from '../progress.ts';
import { decodeMark } from '../sent-mark.ts';
import { eventJsons } from '../event-route.ts';
import { SignalBatcher } from '../signal.ts';
import { pipelineTopics } from '../topics.ts';
import { createCorrelateRole } from './correlate.ts';

const RULES = join(import.meta.dirname, '../../../detections');

function signalMessages(ids: string[], at: string = '2024-11-05T14:00:00Z'): { key: string | null; value: Buffer; headers?: Record<string, string> }[] {
  const b = new SignalBatcher();
  for (const id of ids) {
    const ev = { '@timestamp': at, eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id, source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
    b.add('111122223333', [], ['identity'], JSON.stringify(ev), { id, ts: ev['@timestamp'], received: null });
  }
  return b.take();
}

describe('correlate rebuild and rebalances', () => {
  it('abandons a rebuild whose partition the group takes away, keeps nothing of it, and lets the new owner rebuild and commit', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('abandon.');
    await bus.ensureTopics([{ topic: topics.signals, partitions: 2 }]);
    const producer = await bus.producer();
    await producer.send(signalMessages(['e1', 'e2']).map((m) => ({ ...m, topic: topics.signals, partition: 1 })));
    // Member A's re-read of history waits until the test lets it go; then it goes on as a Kafka read does, whose
    // keep-alive runs every 2 s while it reads.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const base = memoryHistory(bus);
    let reads = 0;
    const gated: History = {
      read: base.read,
      readMany: async (ranges, opts) => {
        reads++;
        await gate;
        opts?.keepAlive?.();
        return base.readMany(ranges, opts);
      },
    };
    const a = createCorrelateRole({ bus, topics, detection, history: gated, groupId: 'c' });
    const aStarted = a.start();
    for (let i = 0; i < 500 && (a.stats() as { rebuilding: number[] }).rebuilding.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // Partition 1's batch rebuilds it, and partition 0 (owned, no state, nothing read yet) with it.
    expect((a.stats() as { rebuilding: number[] }).rebuilding).toEqual([0, 1]);
    // Member B joins: partition 1 is B's now (the memory bus deals partitions round robin over the members).
    const b = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c' });
    await b.start();
    open();
    await aStarted;
    await bus.waitCommitted('c', topics.signals);
    const sa = a.stats() as { rebuilds: number; abandonedRebuilds: number; partitions: number; rebuilding: number[] };
    const sb = b.stats() as { rebuilds: number; abandonedRebuilds: number; rebuiltSignals: number; partitions: number; events: number };
    expect(reads).toBeGreaterThanOrEqual(1);
    // A stopped at its first look after the gate: the whole rebuild (partitions 0 and 1 together) is dropped.
    expect(sa).toMatchObject({ rebuilds: 0, abandonedRebuilds: 1, rebuilding: [] });
    expect(a.stats()).toMatchObject({ partitions: 0 });
    // B rebuilt partition 1 (nothing before its first batch) and handled its two signals.
    expect(sb.abandonedRebuilds).toBe(0);
    expect(sb.rebuilds).toBeGreaterThanOrEqual(1);
    expect(sb.events).toBe(2);
    await a.stop();
    await b.stop();
  });

  it('stops a batch whose heartbeat says the group rebalances, and throws the heartbeat\'s error for the bus to rejoin on', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const mem = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('hb.');
    await mem.ensureTopics([{ topic: topics.signals, partitions: 1 }]);
    const producer = await mem.producer();
    await producer.send(signalMessages(['e1']).map((m) => ({ ...m, topic: topics.signals, partition: 0 })));
    const [first] = mem.read(topics.signals)[0]!;
    // A bus whose consumer hands the test the role's batch handler, as kafkajs would call it.
    let handler: BusConsumerOptions['handle'] | undefined;
    const bus: Bus = {
      producer: () => mem.producer(),
      ensureTopics: (t) => mem.ensureTopics(t),
      partitions: (t) => mem.partitions(t),
      close: async () => undefined,
      consumer: async (opts) => {
        handler = opts.handle;
        return { run: async () => undefined, stop: async () => undefined, assigned: () => [0] };
      },
    };
    const base = memoryHistory(mem);
    const history: History = {
      read: base.read,
      readMany: async (ranges, opts) => {
        opts?.keepAlive?.();
        await new Promise((r) => setTimeout(r, 10));
        return base.readMany(ranges, opts);
      },
    };
    const role = createCorrelateRole({ bus, topics, detection, history, groupId: 'c' });
    await role.start();
    const rebalancing = Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), { type: 'REBALANCE_IN_PROGRESS' });
    let beats = 0;
    const thrown = await handler!([first!], { heartbeat: () => (beats++, Promise.reject(rebalancing)) }).then(() => undefined, (e: unknown) => e);
    expect(beats).toBeGreaterThanOrEqual(1);
    expect(thrown).toBe(rebalancing);
    expect(role.stats()).toMatchObject({ rebuilds: 0, abandonedRebuilds: 1, partitions: 0, rebuilding: [], events: 0 });
    // A heartbeat that fails for another reason (a broker briefly away) says nothing about ownership: the batch goes on.
    await handler!([first!], { heartbeat: () => Promise.reject(new Error('Connection timeout')) });
    expect(role.stats()).toMatchObject({ rebuilds: 1, abandonedRebuilds: 1, partitions: 1, events: 1 });
    await role.stop();
  });

  it('a restarted member does not send again the events an earlier one handed on before its commit, nor those it held and sent at its stop', async () => {
    const detection = await loadDetection({ rules: [RULES], allowedLatenessMs: 1000 });
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('sent.');
    await bus.ensureTopics([{ topic: topics.signals, partitions: 1 }]);
    const producer = await bus.producer();
    const now = Date.now();
    // An hour old: handed on at once (the input is quiet, the watermark follows the wall clock less the lateness).
    const old = ['o1', 'o2', 'o3'];
    // 2 s ahead: held by the first member, whose watermark is 1 s behind the clock; the second one's passes them.
    const ahead = ['a1', 'a2'];
    await producer.send([
      ...signalMessages(old, new Date(now - 3600_000).toISOString()),
      ...signalMessages(ahead, new Date(now + 2000).toISOString()),
    ].map((m) => ({ ...m, topic: topics.signals, partition: 0 })));
    const role = () => createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, topics, 'n'), pollMs: 0 } });
    const a = role();
    await a.start();
    await bus.waitCommitted('c', topics.signals);
    expect(a.stats()).toMatchObject({ events: 3, held: 2 });
    // The commit says how far A's output reaches: the last of the old signals.
    const mark = async () => decodeMark((await bus.committedWithMetadata('c', topics.signals)).get(0)?.metadata);
    expect((await mark())?.t).toBe(now - 3600_000);
    expect(old).toContain((await mark())?.id);
    // A stops with the two still held: it sends their events as it stands (hand-over), their alerts left to the next
    // owner, and commits its offset once more with the mark that covers them (ADR 0055, at stop).
    await a.stop();
    expect(a.stats()).toMatchObject({ events: 5, handedOverEvents: 2 });
    expect(await mark()).toEqual({ t: now + 2000, id: 'a2' });
    expect((await bus.committedOffsets('c', topics.signals)).get(0)).toBe(2n);
    await new Promise((r) => setTimeout(r, 3500 - (Date.now() - now)));
    await producer.send(signalMessages(['n1'], new Date().toISOString()).map((m) => ({ ...m, topic: topics.signals, partition: 0 })));
    const b = role();
    await b.start();
    await bus.waitCommitted('c', topics.signals);
    const sb = b.stats() as { rebuilds: number; rebuiltSignals: number; eventsNotResent: number; events: number; held: number };
    // n1 (now) waits for B's watermark, a second behind the clock.
    expect(sb).toMatchObject({ rebuilds: 1, rebuiltSignals: 5, held: 1 });
    // None of the five is sent again: the old ones went out before A's last batch commit, the two held at A's stop.
    expect(sb.eventsNotResent).toBe(5);
    expect(sb.events).toBe(0);
    await b.stop();
    // n1's event goes out at B's stop.
    expect(b.stats()).toMatchObject({ events: 1, handedOverEvents: 1 });
  });

  it('a restarted member sends again the events an earlier one held and sent at its stop that sort after a signal it reads first', async () => {
    const detection = await loadDetection({ rules: [RULES], allowedLatenessMs: 1000 });
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('resent.');
    await bus.ensureTopics([{ topic: topics.signals, partitions: 1 }]);
    const producer = await bus.producer();
    const now = Date.now();
    const send = (ids: string[], atMs: number) => producer.send(signalMessages(ids, new Date(atMs).toISOString()).map((m) => ({ ...m, topic: topics.signals, partition: 0 })));
    // A minute ahead: held by both members for as long as this test runs.
    await send(['a1'], now + 60_000);
    await send(['a2'], now + 62_000);
    const role = () => createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, topics, 'n'), pollMs: 0 } });
    const a = role();
    await a.start();
    await bus.waitCommitted('c', topics.signals);
    await a.stop();
    expect(a.stats()).toMatchObject({ events: 2, handedOverEvents: 2 });
    expect(decodeMark((await bus.committedWithMetadata('c', topics.signals)).get(0)?.metadata)).toEqual({ t: now + 62_000, id: 'a2' });
    // Read by B after its rebuild, sorting between the two: A annotated a2 without it, B hands a2 on after it.
    await send(['b1'], now + 61_000);
    const b = role();
    await b.start();
    await bus.waitCommitted('c', topics.signals);
    expect(b.stats()).toMatchObject({ rebuilds: 1, rebuiltSignals: 2, held: 3, events: 0 });
    await b.stop();
    // At B's stop: a1 (before b1) is not sent again; b1 is new; a2 (after b1) goes again, as B's stage annotated it.
    expect(b.stats()).toMatchObject({ eventsNotResent: 1, events: 2, handedOverEvents: 2 });
    const sent = bus.read(topics.events).flat().flatMap((m) => eventJsons(m).map((j) => (JSON.parse(j.toString('utf8')) as SeamEvent).seam.id));
    expect(sent.sort()).toEqual(['a1', 'a2', 'a2', 'b1']);
  });
});
