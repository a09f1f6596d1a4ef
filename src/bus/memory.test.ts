import { describe, expect, it } from 'vitest';
import { MemoryBus, partitionFor } from './memory.ts';
import type { ConsumedMessage } from './types.ts';

const msg = (topic: string, key: string, v: string) => ({ topic, key, value: Buffer.from(v) });

// The deadline ends only a wait whose condition never comes: 2 s was within reach of a loaded machine (load ~30).
async function until(cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('memory bus', () => {
  it('partitions by key hash, stably', () => {
    expect(partitionFor('a/b', 8, 0)).toBe(partitionFor('a/b', 8, 99));
    // FNV-1a of the key's UTF-8 bytes, ASCII or not (the ASCII path reads char codes, ADR 0026).
    const fnv = (k: string, n: number): number => {
      let h = 0x811c9dc5;
      for (const b of Buffer.from(k, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h % n;
    };
    for (const k of ['', 'a', 'seam-id-123', '111122223333', 'ünï', 'a✓b', 'x\u007f', '\ud83d\ude00', `${'k'.repeat(300)}é`]) for (const n of [1, 3, 6, 7]) expect(partitionFor(k, n, 0), k).toBe(fnv(k, n));
    const used = new Set(['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].map((k) => partitionFor(k, 4, 0)));
    expect(used.size).toBeGreaterThan(1);
  });

  it('keeps order per key and delivers every message once to a group', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]);
    const p = await bus.producer();
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (let i = 0; i < 100; i++) await p.send(keys.map((k) => msg('t', k, `${k}:${i}`)));
    const seen = new Map<string, number[]>();
    const c = await bus.consumer({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      handle: async (batch) => {
        for (const m of batch) {
          const [k, i] = m.value.toString().split(':');
          seen.set(k!, [...(seen.get(k!) ?? []), Number(i)]);
        }
      },
    });
    await c.run();
    await until(() => [...seen.values()].reduce((n, l) => n + l.length, 0) === 500);
    for (const k of keys) expect(seen.get(k)).toEqual([...Array(100).keys()]);
    await c.stop();
    const committed = Object.values(bus.committed('g')).reduce((a, b) => a + b, 0);
    expect(committed).toBe(500);
  });

  it('commits only after the handler resolves: a failed batch is handed again', async () => {
    const bus = new MemoryBus();
    const p = await bus.producer();
    await p.send([msg('t', 'k', '1'), msg('t', 'k', '2')]);
    let calls = 0;
    const got: string[] = [];
    const c = await bus.consumer({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      handle: async (batch: ConsumedMessage[]) => {
        calls++;
        if (calls === 1) throw new Error('sink down');
        got.push(...batch.map((m) => m.value.toString()));
      },
    });
    await c.run();
    await until(() => got.length === 2);
    expect(got).toEqual(['1', '2']);
    expect(calls).toBe(2);
    await c.stop();
  });

  for (const limited of [false, true]) {
    it(`a batch that fails after commitUpTo is handed again from what it committed${limited ? ' (with a commit limit, as the deliver role runs)' : ''}`, async () => {
      const bus = new MemoryBus();
      const p = await bus.producer();
      const firsts: string[] = [];
      const got: string[] = [];
      let failed = false;
      const c = await bus.consumer({
        groupId: 'g',
        topics: ['t'],
        fromBeginning: true,
        ...(limited ? { commitLimit: () => undefined } : {}),
        handle: async (batch, ctx) => {
          firsts.push(batch[0]!.value.toString());
          for (const m of batch) {
            if (m.value.toString() === '6' && !failed) {
              failed = true;
              throw new Error('notifier down after the first alerts were sent');
            }
            got.push(m.value.toString());
            await ctx!.commitUpTo!(BigInt(m.offset) + 1n);
          }
        },
      });
      await c.run();
      // A first batch handled whole, so the member reads on from its own position (kept with a commit limit) ...
      await p.send(Array.from({ length: 3 }, (_, i) => msg('t', 'k', String(i))));
      await until(() => got.length === 3);
      // ... then a batch that fails after committing its first three.
      await p.send(Array.from({ length: 7 }, (_, i) => msg('t', 'k', String(i + 3))));
      await until(() => got.length >= 10);
      expect(firsts).toEqual(['0', '3', '6']);
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
      await c.stop();
    });
  }

  it('resumes a group from its committed offset and starts new groups at the end unless fromBeginning', async () => {
    const bus = new MemoryBus();
    const p = await bus.producer();
    await p.send([msg('t', 'k', '1')]);
    const first: string[] = [];
    const c1 = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true, handle: async (b) => void first.push(...b.map((m) => m.value.toString())) });
    await c1.run();
    await until(() => first.length === 1);
    await c1.stop();
    await p.send([msg('t', 'k', '2')]);
    const second: string[] = [];
    const c2 = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true, handle: async (b) => void second.push(...b.map((m) => m.value.toString())) });
    const late: string[] = [];
    const c3 = await bus.consumer({ groupId: 'other', topics: ['t'], handle: async (b) => void late.push(...b.map((m) => m.value.toString())) });
    await c2.run();
    await c3.run();
    await p.send([msg('t', 'k', '3')]);
    await until(() => second.length === 2 && late.length === 1);
    expect(second).toEqual(['2', '3']);
    expect(late).toEqual(['3']);
    await c2.stop();
    await c3.stop();
  });

  it('splits partitions between members of one group', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]);
    const p = await bus.producer();
    const byMember = [new Set<number>(), new Set<number>()];
    let total = 0;
    const members = await Promise.all(
      [0, 1].map((i) =>
        bus.consumer({
          groupId: 'g',
          topics: ['t'],
          fromBeginning: true,
          handle: async (b) => {
            for (const m of b) byMember[i]!.add(m.partition);
            total += b.length;
          },
        }),
      ),
    );
    for (const m of members) await m.run();
    await p.send(Array.from({ length: 40 }, (_, i) => msg('t', `key-${i}`, String(i))));
    await until(() => total === 40);
    expect([...byMember[0]!].some((x) => byMember[1]!.has(x))).toBe(false);
    for (const m of members) await m.stop();
    await bus.close();
  });
});

describe('memory bus retention (trim)', () => {
  const at = (topic: string, i: number) => ({ topic, key: 'k', value: Buffer.from(String(i)), timestampMs: i * 1000 });

  it('drops what every group has committed, keeping keepMs before the oldest unread message, with offsets absolute', async () => {
    const bus = new MemoryBus({ maxBatch: 10, trim: { t: 5_000 } });
    const p = await bus.producer();
    const fast: number[] = [];
    const slow: number[] = [];
    let slowOpen = false;
    const c1 = await bus.consumer({ groupId: 'fast', topics: ['t'], fromBeginning: true, handle: async (b) => void fast.push(...b.map((m) => Number(m.offset))) });
    const c2 = await bus.consumer({
      groupId: 'slow',
      topics: ['t'],
      fromBeginning: true,
      handle: async (b) => {
        if (!slowOpen) throw new Error('not yet');
        slow.push(...b.map((m) => Number(m.offset)));
      },
    });
    await c1.run();
    await c2.run();
    await p.send(Array.from({ length: 100 }, (_, i) => at('t', i)));
    await until(() => fast.length === 100);
    // One group has read everything, the other nothing: nothing may go.
    expect(bus.held().dropped).toBe(0);
    slowOpen = true;
    await until(() => slow.length === 100);
    expect(slow).toEqual([...Array(100).keys()]);
    // Both read up to offset 100 (message time 99 s): what is older than 94 s has gone, a batch at a time.
    const kept = bus.read('t')[0]!.map((m) => Number(m.offset));
    expect(kept[kept.length - 1]).toBe(99);
    expect(kept[0]).toBeGreaterThan(0);
    expect(kept[0]).toBeLessThanOrEqual(94);
    expect(bus.ends('t')).toEqual([100]);
    expect(bus.held().dropped).toBe(kept[0]);
    // A new group from the beginning starts at the log's start; offsets go on from the end.
    const late: number[] = [];
    const c3 = await bus.consumer({ groupId: 'late', topics: ['t'], fromBeginning: true, handle: async (b) => void late.push(...b.map((m) => Number(m.offset))) });
    await c3.run();
    await p.send([at('t', 100)]);
    await until(() => late.length === kept.length + 1 && fast.length === 101);
    expect(late[0]).toBe(kept[0]);
    expect(late[late.length - 1]).toBe(100);
    for (const c of [c1, c2, c3]) await c.stop();
  });

  it('keeps every message of topics not named, and of all topics without trim', async () => {
    const bus = new MemoryBus({ maxBatch: 5, trim: { t: 0 } });
    const p = await bus.producer();
    let n = 0;
    const c = await bus.consumer({ groupId: 'g', topics: ['t', 'u'], fromBeginning: true, handle: async (b) => void (n += b.length) });
    await c.run();
    await p.send([...Array.from({ length: 20 }, (_, i) => at('t', i)), ...Array.from({ length: 20 }, (_, i) => at('u', i))]);
    await until(() => n === 40);
    await bus.waitCommitted('g', 't');
    expect(bus.read('u')[0]).toHaveLength(20);
    expect(bus.read('t')[0]!.length).toBeLessThan(20);
    await c.stop();
  });

  it('says which partitions each member owns and what the group committed, as Kafka would', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    const p = await bus.producer();
    await p.send([0, 1, 2].map((n) => ({ topic: 't', key: null, partition: n, value: Buffer.from(String(n)) })));
    const handle = async (): Promise<void> => undefined;
    const a = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true, handle });
    const b = await bus.consumer({ groupId: 'g', topics: ['t'], fromBeginning: true, handle });
    expect(a.assigned?.('t')).toBeUndefined(); // not running yet: no member of the group
    await a.run();
    expect(a.assigned?.('t')).toEqual([0, 1, 2]);
    await b.run();
    expect([...a.assigned!('t')!, ...b.assigned!('t')!].sort()).toEqual([0, 1, 2]);
    expect(a.assigned!('t')).not.toEqual(b.assigned!('t'));
    await until(() => Object.values(bus.committed('g')).reduce((x, y) => x + y, 0) === 3);
    expect([...(await bus.committedOffsets('g', 't'))].sort()).toEqual([[0, 1n], [1, 1n], [2, 1n]]);
    expect((await bus.committedOffsets('nobody', 't')).size).toBe(0);
    await b.stop();
    // The partitions of a member that left go to the others at once.
    expect(a.assigned!('t')).toEqual([0, 1, 2]);
    expect(b.assigned!('t')).toBeUndefined();
    await a.stop();
  });
});
