import { describe, expect, it } from 'vitest';
import { coalescingProducer } from './coalesce.ts';
import { MemoryBus } from './memory.ts';
import type { BusMessage, BusProducer } from './types.ts';

/** The memory bus's producer, counting its sends; `failSend` makes that send (1-based) throw instead of appending. */
async function counted(bus: MemoryBus, failSend?: number): Promise<{ p: BusProducer; sends: number[] }> {
  const inner = await bus.producer();
  const sends: number[] = [];
  return {
    sends,
    p: {
      send: async (messages) => {
        sends.push(messages.length);
        // Yield as a network produce would, so that other callers' sends overlap this one.
        await new Promise((r) => setImmediate(r));
        if (sends.length === failSend) throw new Error('injected produce failure');
        await inner.send(messages);
      },
      close: () => inner.close(),
    },
  };
}

/** Caller `c`'s messages: a run of keyed messages spread over the partitions, then a mark to every partition. */
const callerMessages = (c: number, partitions: number): BusMessage[] => [
  ...Array.from({ length: 5 }, (_, i) => ({ topic: 't', key: `k${c}-${i}`, value: Buffer.from(`${c}:s${i}`) })),
  ...Array.from({ length: partitions }, (_, p) => ({ topic: 't', key: null, partition: p, value: Buffer.from(`${c}:mark`) })),
];

describe('coalescingProducer', () => {
  it('sends overlapping calls together, each call whole and in order, calls in the order made', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    const c = await counted(bus);
    const producer = coalescingProducer(c.p);
    // Ten callers at once: the first goes alone, the nine that came while it was in flight go in one send.
    await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send(callerMessages(i, 3))));
    expect(c.sends).toEqual([8, 9 * 8]);
    for (const part of bus.read('t')) {
      const values = part.map((m) => m.value.toString());
      // On every partition each caller's mark comes after its signals, and callers follow each other in order.
      const callers = values.map((v) => Number(v.split(':')[0]));
      expect(callers).toEqual([...callers].sort((a, b) => a - b));
      for (let i = 0; i < 10; i++) {
        const mine = values.filter((v) => v.startsWith(`${i}:`));
        expect(mine.at(-1)).toBe(`${i}:mark`);
        expect(mine.filter((v) => v.endsWith(':mark'))).toHaveLength(1);
      }
    }
    expect(bus.read('t').flat()).toHaveLength(10 * 8);
  });

  it('rejects every call a failed send carried, and sends later calls anew', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    const c = await counted(bus, 2);
    const producer = coalescingProducer(c.p);
    const first = producer.send(callerMessages(0, 3));
    const carried = [producer.send(callerMessages(1, 3)), producer.send(callerMessages(2, 3))];
    await first;
    const results = await Promise.allSettled(carried);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await producer.send(callerMessages(3, 3));
    expect(c.sends).toEqual([8, 16, 8]);
    const callers = new Set(bus.read('t').flat().map((m) => m.value.toString().split(':')[0]));
    expect([...callers].sort()).toEqual(['0', '3']);
    expect(await producer.send([])).toBeUndefined();
  });
});
