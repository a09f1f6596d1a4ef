// Seam's Kafka bus (src/bus/kafka.ts) against the real local broker: what a consumer group commits.
// A group that has handled everything must show no lag, also on topics written by transactional
// producers (the collectors), whose partitions end with commit or abort markers the handler never sees;
// a handler that throws gets its batch again; a producer whose send failed keeps working afterwards; a partition held
// without being fetched restarts its member (ADR 0059).
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../src/bus/kafka.ts';
import { throwawayGroupStem } from '../src/bus/groups.ts';
import type { BusConsumer, ConsumedMessage } from '../src/bus/types.ts';
import { kafkaBrokers, uniqueName, uniqueTopic } from './helpers/services.ts';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const buses: KafkaBus[] = [];
const consumers: BusConsumer[] = [];
const newBus = (groupPrefix?: string): KafkaBus => {
  const b = new KafkaBus({ brokers: kafkaBrokers(), clientId: uniqueName('bus-test'), ...(groupPrefix === undefined ? {} : { groupPrefix }) });
  buses.push(b);
  return b;
};

afterAll(async () => {
  for (const c of consumers) await c.stop().catch(() => undefined);
  for (const b of buses) await b.close().catch(() => undefined);
});

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The readToEnd readers of `bus` (its own groupPrefix) whose throwaway group has a member in it (state and member
 * count per group): such a reader has taken its end offsets already (readToEnd takes them before it joins).
 */
async function joinedReaders(bus: KafkaBus): Promise<{ groupId: string; state: string; members: number }[]> {
  const admin = await bus.admin();
  const stem = throwawayGroupStem('reader', bus.groupPrefix);
  const ids = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(stem));
  if (ids.length === 0) return [];
  return (await admin.describeGroups(ids)).groups.map((g) => ({ groupId: g.groupId, state: g.state, members: g.members.length }));
}

/** Waits until `n` readers of `bus` are in their groups (Stable, one member each), then returns; the deadline only bounds a hang. */
async function readersJoined(bus: KafkaBus, n: number): Promise<void> {
  let seen: Awaited<ReturnType<typeof joinedReaders>> = [];
  await until(
    async () => (seen = await joinedReaders(bus)).filter((g) => g.state === 'Stable' && g.members > 0).length >= n,
    120_000,
    () => `${n} readToEnd reader(s) to join their groups (seen: ${JSON.stringify(seen)})`,
  );
}

/** Messages between the group's committed offsets and the partitions' ends. */
async function lag(bus: KafkaBus, groupId: string, topic: string): Promise<number> {
  const admin = await bus.admin();
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  let behind = 0;
  for (const e of await admin.fetchTopicOffsets(topic)) {
    const c = BigInt(committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1');
    behind += Number(BigInt(e.high) - (c < 0n ? BigInt(e.low) : c));
  }
  return behind;
}

describe('Kafka bus: consumer group commits', () => {
  it('commits past the commit and abort markers of transactional producers, so a drained group shows no lag', async () => {
    const bus = newBus();
    const topic = uniqueTopic('bus-txn');
    await bus.createTopics([{ topic, partitions: 2 }]);
    const txId = uniqueName('bus-txn-producer');
    const tx = await bus.transactionalProducer(txId);
    const value = (i: number): Buffer => Buffer.from(JSON.stringify({ i }));
    // Committed transactions (each ends with a COMMIT marker), then an aborted one on every partition last.
    for (let t = 0; t < 3; t++) await tx.sendAtomically(Array.from({ length: 10 }, (_, i) => ({ topic, key: `k${i % 4}`, value: value(t * 10 + i) })));
    await tx.sendUncommitted(Array.from({ length: 8 }, (_, i) => ({ topic, key: `k${i % 4}`, value: value(1000 + i) })));
    await tx.close(); // an open transaction of a closed producer stays open until a new one with its id aborts it
    const fencer = await bus.transactionalProducer(txId);
    await fencer.close();

    const groupId = uniqueName('bus-txn-group');
    const seen: ConsumedMessage[] = [];
    const c = await newBus().consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (batch) => {
        seen.push(...batch);
      },
    });
    consumers.push(c);
    await c.run();
    await until(() => seen.length >= 30, 60_000, 'the 30 committed records');
    await until(async () => (await lag(bus, groupId, topic)) === 0, 30_000, `group lag 0 (still ${await lag(bus, groupId, topic)})`);
    expect(seen.map((m) => (JSON.parse(m.value.toString('utf8')) as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('fences the previous holder of a transactional id when the new producer is created, before its first write', async () => {
    // A collector creates its writer, then reads its checkpoint, then writes. If the fence waited for the first
    // write (kafkajs initializes the transactional id lazily), a zombie could commit a page between the new
    // owner's checkpoint read and its first write, and the new owner would emit that page again.
    const bus = newBus();
    const topic = uniqueTopic('bus-fence');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const txId = uniqueName('bus-fence-producer');
    const zombie = await bus.transactionalProducer(txId);
    await zombie.sendAtomically([{ topic, key: 'k', value: Buffer.from('before') }]);
    const owner = await bus.transactionalProducer(txId);
    await expect(zombie.sendAtomically([{ topic, key: 'k', value: Buffer.from('zombie') }])).rejects.toMatchObject({ code: 'SEAM_ERR_CHECKPOINT_FENCED' });
    await owner.sendAtomically([{ topic, key: 'k', value: Buffer.from('owner') }]);
    const got: string[] = [];
    // untilStable: the owner's commit markers are written after its EndTxn returns, so the last stable
    // offset may not have reached its record yet.
    await bus.readToEnd([topic], (m) => got.push(m.value.toString()), 60_000, { untilStable: true });
    expect(got).toEqual(['before', 'owner']);
    await zombie.close();
    await owner.close();
  });

  it('delivers a batch again when its handler throws, and commits it once handled', async () => {
    const bus = newBus();
    const topic = uniqueTopic('bus-retry');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const p = await bus.producer();
    await p.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: null, value: Buffer.from(String(i)) })));
    await p.close();
    const groupId = uniqueName('bus-retry-group');
    let failures = 0;
    const handled: string[] = [];
    const c = await newBus().consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (batch) => {
        if (failures < 2) {
          failures++;
          throw new Error('handler failed on purpose');
        }
        handled.push(...batch.map((m) => m.value.toString('utf8')));
      },
    });
    consumers.push(c);
    await c.run();
    await until(async () => (await lag(bus, groupId, topic)) === 0, 60_000, 'the group to commit the batch');
    expect(failures).toBe(2);
    expect(handled).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('a partition held without being fetched (kafkajs#1456) restarts its member after kafka.consumer.stallMs, and every record is handled', async () => {
    // The stall is made the way kafkajs shows it: the partition stays assigned to a live, heartbeating member that
    // never fetches it (paused in kafkajs, which the bus never does by itself). Without the watchdog the group
    // stays Stable with lag on that partition for good.
    const topic = uniqueTopic('bus-stall');
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: uniqueName('bus-stall'), fetch: { stallMs: 1500, maxWaitTimeMs: 200 } });
    buses.push(bus);
    await bus.createTopics([{ topic, partitions: 2 }]);
    const send = async (from: number, n: number): Promise<void> => {
      const p = await bus.producer();
      await p.send(Array.from({ length: n }, (_, i) => ({ topic, key: null, partition: (from + i) % 2, value: Buffer.from(String(from + i)) })));
      await p.close();
    };
    await send(0, 10);
    const groupId = uniqueName('bus-stall-group');
    const handled = new Set<string>();
    const c = (await bus.consumer({ groupId, topics: [topic], fromBeginning: true, handle: async (batch) => void batch.forEach((m) => handled.add(m.value.toString('utf8'))) })) as BusConsumer & {
      pauseForTest(topic: string, partition: number): void;
    };
    consumers.push(c);
    await c.run();
    await until(async () => (await lag(bus, groupId, topic)) === 0, 60_000, 'the group to handle the first 10 records');
    c.pauseForTest(topic, 1);
    await send(10, 10);
    const member = (): { stallRestarts: number } | undefined => bus.consumerMembers().find((m) => m.groupId === groupId);
    await until(async () => (await lag(bus, groupId, topic)) === 0, 60_000, () => `the stalled partition to be handled after a restart (restarts: ${member()?.stallRestarts})`);
    expect(member()?.stallRestarts).toBe(1);
    expect([...handled].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('a handler that throws after commitUpTo gets its batch again from the offset it committed, not from the batch start', async () => {
    // The deliver role commits after each alert it notified. A failure later in the same batch (a notifier down, a
    // dead-letter send refused) is retried inside the process by kafkajs, from the offsets the consumer had resolved:
    // the part already committed must not be handed over again, or its notifications are sent twice.
    const bus = newBus();
    const topic = uniqueTopic('bus-upto-retry');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const p = await bus.producer();
    await p.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: null, value: Buffer.from(String(i)) })));
    await p.close();
    const groupId = uniqueName('bus-upto-retry-group');
    const firstOffsets: string[] = [];
    const handled: string[] = [];
    let failed = false;
    const c = await newBus().consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async (batch, ctx) => {
        firstOffsets.push(batch[0]!.offset);
        for (const m of batch) {
          if (m.offset === '8' && !failed) {
            failed = true;
            throw new Error('handler failed on purpose after committing up to offset 8');
          }
          handled.push(m.offset);
          await ctx!.commitUpTo!(BigInt(m.offset) + 1n);
        }
      },
    });
    consumers.push(c);
    await c.run();
    await until(async () => (await lag(bus, groupId, topic)) === 0, 60_000, () => `the group to commit every record (batches began at ${firstOffsets.join(', ')})`);
    expect(failed).toBe(true);
    // The first batch began at 0; the one after the failure at 8, the first offset not committed.
    expect(firstOffsets.slice(0, 2)).toEqual(['0', '8']);
    expect(handled).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('commitUpTo commits part of a batch while the handler runs, never past commitLimit nor back; commitHandled takes it to the end once the limit goes', async () => {
    const bus = newBus();
    const topic = uniqueTopic('bus-upto');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const p = await bus.producer();
    await p.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: null, value: Buffer.from(String(i)) })));
    await p.close();
    const groupId = uniqueName('bus-upto-group');
    const committed = async (): Promise<bigint | undefined> => (await bus.committedOffsets(groupId, topic)).get(0);
    // The deliver role's held alert (ADR 0052): nothing past offset 15 may be committed while it is held.
    let limit: bigint | undefined = 15n;
    const seen: Record<string, bigint | undefined> = {};
    const c = await newBus().consumer({
      groupId,
      topics: [topic],
      fromBeginning: true,
      commitLimit: () => limit,
      handle: async (batch, ctx) => {
        for (const m of batch) {
          await ctx!.commitUpTo!(BigInt(m.offset) + 1n);
          if (m.offset === '9') seen.mid = await committed();
          if (m.offset === '17') {
            seen.atLimit = await committed();
            await ctx!.commitUpTo!(5n);
            seen.afterBack = await committed();
          }
        }
      },
    });
    consumers.push(c);
    await c.run();
    await until(async () => (await committed()) === 15n && seen.afterBack !== undefined, 60_000, 'the batch handled and committed up to the limit');
    // Committed while the batch was still being handled: after a kill there, the next reader starts at 10, not 0.
    expect(seen).toEqual({ mid: 10n, atLimit: 15n, afterBack: 15n });
    limit = undefined;
    await c.commitHandled!();
    expect(await committed()).toBe(20n);
    expect(await lag(bus, groupId, topic)).toBe(0);
  });

  it('recommit writes the metadata of now at the committed offsets of the partitions the member owns, never moving them; another member\'s partition and a stopped member commit nothing', async () => {
    const bus = newBus();
    const topic = uniqueTopic('bus-recommit');
    await bus.createTopics([{ topic, partitions: 2 }]);
    const p = await bus.producer();
    const produce = (n: number) => p.send([0, 1].flatMap((partition) => Array.from({ length: n }, (_, i) => ({ topic, partition, key: null, value: Buffer.from(String(i)) }))));
    await produce(10);
    const groupId = uniqueName('bus-recommit-group');
    const committed = async (): Promise<string[]> => [...(await bus.committedWithMetadata(groupId, topic))].sort(([a], [b]) => a - b).map(([, c]) => `${c.offset}:${c.metadata ?? '-'}`);
    // The correlate role's output mark stands for what `version` is here: it grows after the commits.
    let version = 1;
    const a = await newBus().consumer({ groupId, topics: [topic], fromBeginning: true, handle: async () => undefined, commitMetadata: () => `A${version}` });
    consumers.push(a);
    await a.run();
    await until(async () => (await committed()).join() === '10:A1,10:A1', 60_000, 'both partitions committed');
    version = 2;
    await a.recommit!();
    expect(await committed()).toEqual(['10:A2', '10:A2']);
    // A second member takes one partition: A's recommit leaves that one (its offset and B's metadata) as it is.
    const b = await newBus().consumer({ groupId, topics: [topic], fromBeginning: true, handle: async () => undefined, commitMetadata: () => 'B' });
    consumers.push(b);
    await b.run();
    await until(() => a.assigned?.(topic)?.length === 1 && b.assigned?.(topic)?.length === 1, 60_000, 'the two members to own a partition each');
    const ofB = b.assigned!(topic)![0]!;
    await produce(5);
    const expected = (mine: string, theirs: string): string[] => [0, 1].map((q) => (q === ofB ? theirs : mine));
    await until(async () => (await committed()).join() === expected('15:A2', '15:B').join(), 60_000, 'both members to commit the new records');
    version = 3;
    await a.recommit!();
    expect(await committed()).toEqual(expected('15:A3', '15:B'));
    // Stopped: it owns nothing any more, and commits nothing.
    await a.stop();
    version = 4;
    await a.recommit!();
    expect(await committed()).toEqual(expected('15:A3', '15:B'));
    await p.close();
  });
});

describe('Kafka bus: reading to the end past open transactions', () => {
  it('readToEnd stops at the last stable offset; untilStable also returns a record committed behind another producer\'s open transaction', async () => {
    const bus = newBus(`${uniqueName('bus-lso')}-`);
    const topic = uniqueTopic('bus-lso');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const value = (s: string): Buffer => Buffer.from(s);
    const first = await bus.transactionalProducer(uniqueName('bus-lso-committed'));
    await first.sendAtomically([{ topic, key: 'k', value: value('before') }]);
    const openTxId = uniqueName('bus-lso-open');
    const open = await bus.transactionalProducer(openTxId);
    await open.sendUncommitted([{ topic, key: 'k', value: value('open') }]);
    await first.sendAtomically([{ topic, key: 'k', value: value('behind-open') }]);
    const read = async (untilStable: boolean, out: string[] = []): Promise<string[]> => {
      await bus.readToEnd([topic], (m) => out.push(m.value.toString()), 120_000, { untilStable });
      return out;
    };
    // The committed record behind the open transaction is past the last stable offset: not seen. This is how a
    // test reading the shared raw topics while another run had a transaction open saw committed records "missing".
    expect(await read(false)).toEqual(['before']);
    // The untilStable reader must take its end while the transaction is still open, and be waiting on it when it is
    // aborted. Awaited, not slept for (a 1.5 s sleep let a loaded machine abort first, which tested nothing): its group
    // joined (its end taken) and the record before the open transaction handed over (it reads up to it and waits).
    const got: string[] = [];
    let settled = false;
    const stable = read(true, got).finally(() => (settled = true));
    await readersJoined(bus, 1);
    await until(() => got.includes('before') || settled, 120_000, () => `the untilStable reader to read the record before the open transaction (read so far: ${JSON.stringify(got)})`);
    expect(settled, 'the untilStable reader ended while a transaction before its end was still open').toBe(false);
    expect(got).toEqual(['before']);
    const fencer = await bus.transactionalProducer(openTxId); // aborts the open transaction
    expect(await stable).toEqual(['before', 'behind-open']);
    for (const p of [first, open, fencer]) await p.close().catch(() => undefined);
  });

  it('untilStable also reads a partition whose open transaction began before anything after the start was committed', async () => {
    // The last stable offset is then the start itself: a reader that takes its end from the last stable offset
    // (and raises it only once it has fetched something) reads nothing there. This is a fresh checkpoint topic
    // whose first transaction is still open while another unit's checkpoint commits behind it, or a test reading
    // a shared raw topic `from` where it ended while another run's transaction is open.
    const bus = newBus(`${uniqueName('bus-lso-start')}-`);
    const topic = uniqueTopic('bus-lso-start');
    await bus.createTopics([{ topic, partitions: 1 }]);
    const openTxId = uniqueName('bus-lso-start-open');
    const open = await bus.transactionalProducer(openTxId);
    await open.sendUncommitted([{ topic, key: 'k', value: Buffer.from('open') }]);
    const committer = await bus.transactionalProducer(uniqueName('bus-lso-start-committed'));
    await committer.sendAtomically([{ topic, key: 'k', value: Buffer.from('behind-open') }]);
    const from = await bus.endOffsets([topic]);
    expect(from[`${topic}/0`]).toBe(0n); // nothing stable yet
    const read = async (opts: { untilStable: boolean; from?: typeof from }): Promise<string[]> => {
      const out: string[] = [];
      await bus.readToEnd([topic], (m) => out.push(m.value.toString()), 120_000, opts);
      return out;
    };
    expect(await read({ untilStable: false })).toEqual([]);
    // Both readers must take their ends while the transaction is open and wait on it. Awaited, not slept for (a 1.5 s
    // sleep let a loaded machine abort first, which tested nothing): both groups joined, neither read ended.
    let settled = 0;
    const stable = read({ untilStable: true }).finally(() => settled++);
    const stableFrom = read({ untilStable: true, from }).finally(() => settled++);
    await readersJoined(bus, 2);
    expect(settled, 'an untilStable reader ended while a transaction before its end was still open').toBe(0);
    const fencer = await bus.transactionalProducer(openTxId); // aborts the open transaction
    expect(await stable).toEqual(['behind-open']);
    expect(await stableFrom).toEqual(['behind-open']);
    for (const p of [open, committer, fencer]) await p.close().catch(() => undefined);
  });

  it('readToEnd from where a previous read ended returns only what came after, each record once', async () => {
    const bus = newBus();
    const topic = uniqueTopic('bus-incremental');
    await bus.createTopics([{ topic, partitions: 3 }]);
    const producer = await bus.producer();
    const send = (vs: string[]): Promise<void> => producer.send(vs.map((v) => ({ topic, key: v, value: Buffer.from(v) })));
    await send(['old-1', 'old-2']);
    const from = await bus.endOffsets([topic]);
    await send(['a', 'b', 'c', 'd']);
    const read = async (at: typeof from): Promise<{ got: string[]; to: typeof from }> => {
      const got: string[] = [];
      const to = await bus.readToEnd([topic], (m) => got.push(m.value.toString()), 60_000, { untilStable: true, from: at });
      return { got: got.sort(), to };
    };
    const first = await read(from);
    expect(first.got).toEqual(['a', 'b', 'c', 'd']);
    await send(['e', 'f']);
    const second = await read(first.to);
    expect(second.got).toEqual(['e', 'f']);
    expect((await read(second.to)).got).toEqual([]);
    await producer.close();
  });

  it('members of one group in one process (the index role runs 3) keep their committed offsets apart, and all consume', async () => {
    // kafkajs keeps a group's committed offsets in one object per *client* and group id, and each new assignment
    // clears from it the topics that member was not given. Two members of one group on one client then cleared each
    // other's topics: a member whose batch spanned the other's later sync failed in uncommittedOffsets() with "Cannot
    // read properties of undefined (reading '0')", which kafkajs does not restart (a cold CI's `seam run`, index
    // role, restarted after a SIGKILL). The race is rare; its cause is not: each member's offset manager (read here
    // through a hook on kafkajs's class, which only records) must hold an object of its own.
    const seen = new Map<string, { groupId: string; committed: object }>();
    const om = require('kafkajs/src/consumer/offsetManager/index.js') as { prototype: { clearAllOffsets(this: OffsetManagerView): void } };
    const original = om.prototype.clearAllOffsets;
    om.prototype.clearAllOffsets = function (this: OffsetManagerView): void {
      original.call(this);
      seen.set(this.memberId, { groupId: this.groupId, committed: this.committedOffsets() });
    };
    try {
      const bus = newBus();
      const topics = [uniqueTopic('bus-shared-a'), uniqueTopic('bus-shared-b'), uniqueTopic('bus-shared-c')];
      await bus.createTopics(topics.map((topic) => ({ topic, partitions: 1 })));
      const groupId = uniqueName('bus-shared-group');
      const got = new Map<string, number>();
      const handle = async (batch: ConsumedMessage[]): Promise<void> => {
        for (const m of batch) got.set(m.topic, (got.get(m.topic) ?? 0) + 1);
      };
      let crash: unknown;
      void bus.crashedForGood.then((c) => (crash = c));
      const members: BusConsumer[] = [];
      for (let i = 0; i < 2; i++) {
        const c = await bus.consumer({ groupId, topics, fromBeginning: true, handle, partitionsAtOnce: 3 });
        consumers.push(c);
        members.push(c);
        await c.run();
      }
      // Both in, the three partitions split between them: each was given an assignment without some topic.
      await until(() => members.every((m) => topics.some((t) => (m.assigned?.(t) ?? []).length > 0)), 60_000, 'both members to be given a partition');
      const p = await bus.producer();
      await p.send(topics.flatMap((topic) => Array.from({ length: 20 }, (_, i) => ({ topic, key: null, value: Buffer.from(String(i)) }))));
      await p.close();
      await until(
        async () => crash !== undefined || (await Promise.all(topics.map((t) => lag(bus, groupId, t)))).every((l) => l === 0),
        60_000,
        () => `the group to handle and commit every topic (handled: ${JSON.stringify([...got])})`,
      );
      expect(crash, 'a member crashed for good').toBeUndefined();
      expect(topics.map((t) => got.get(t) ?? 0)).toEqual([20, 20, 20]);
      const mine = [...seen.values()].filter((s) => s.groupId === groupId);
      expect(mine.length, 'offset managers of this group seen').toBeGreaterThanOrEqual(2);
      expect(new Set(mine.map((s) => s.committed)).size, 'members sharing one committed-offsets object').toBe(mine.length);
    } finally {
      om.prototype.clearAllOffsets = original;
    }
  });
});

/** What the test above reads of kafkajs's OffsetManager. */
interface OffsetManagerView {
  memberId: string;
  groupId: string;
  committedOffsets(): object;
}
