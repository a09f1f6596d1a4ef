import { consumedOf } from '../bus/consumed.ts';
import { throwawayGroupId } from '../bus/groups.ts';
import type { KafkaBus } from '../bus/kafka.ts';
import type { MemoryBus } from '../bus/memory.ts';
import type { ConsumedMessage } from '../bus/types.ts';
import { SeamError } from '../core/errors.ts';

/**
 * Re-reading a topic, for the correlate role's rebuild: every message from the first whose (produce)
 * timestamp is at or after `fromTimeMs` up to, not including, `toOffset` (one partition), or up to
 * the current end (every partition, `partition: 'all'`).
 */
export interface History {
  read(topic: string, partition: number | 'all', fromTimeMs: number, toOffset: bigint | undefined, each: (m: ConsumedMessage) => void): Promise<number>;
}

export function memoryHistory(bus: MemoryBus): History {
  return {
    async read(topic, partition, fromTimeMs, toOffset, each) {
      const parts = bus.read(topic);
      let n = 0;
      parts.forEach((log, p) => {
        if (partition !== 'all' && p !== partition) return;
        for (const m of log) {
          if (toOffset !== undefined && BigInt(m.offset) >= toOffset) break;
          if ((m.timestampMs ?? 0) < fromTimeMs) continue;
          each(m);
          n++;
        }
      });
      return n;
    },
  };
}

/**
 * Kafka: start offsets come from the broker's time index (ListOffsets by timestamp); a throwaway
 * consumer group (`<groupPrefix>seam-rebuild-<hex>`, src/bus/groups.ts) seeks there and reads to the end offsets. Committed records only (read_committed).
 */
export function kafkaHistory(bus: KafkaBus, groupPrefix: string = bus.groupPrefix, timeoutMs = 120_000): History {
  return {
    async read(topic, partition, fromTimeMs, toOffset, each) {
      const admin = await bus.admin();
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, Math.floor(fromTimeMs)));
      const ends = await admin.fetchTopicOffsets(topic);
      const ranges = new Map<number, { start: bigint; end: bigint }>();
      for (const e of ends) {
        if (partition !== 'all' && e.partition !== partition) continue;
        const end = partition !== 'all' && toOffset !== undefined ? toOffset : BigInt(e.offset);
        const raw = byTime.find((o) => o.partition === e.partition)?.offset;
        // -1: nothing at or after that time.
        const start = raw === undefined || BigInt(raw) < 0n ? end : BigInt(raw);
        if (start < end) ranges.set(e.partition, { start, end });
      }
      if (ranges.size === 0) return 0;
      const pending = new Set(ranges.keys());
      const groupId = throwawayGroupId('rebuild', groupPrefix);
      // Start offsets are committed for the throwaway group before it joins, so its first fetch starts
      // there. (Seeking after run() races the first join: when the join is slow or retried, the
      // consumer starts at the end, sees nothing and waits out the timeout.)
      await admin.setOffsets({ groupId, topic, partitions: [...ranges].map(([p, r]) => ({ partition: p, offset: r.start.toString() })) });
      const consumer = bus.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytes: 64 * 1024 * 1024 });
      let n = 0;
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: false });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new SeamError('SEAM_ERR_BUS_CONSUME', `re-reading ${topic} took over ${timeoutMs} ms`)), timeoutMs);
          consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
            const r = ranges.get(e.payload.partition);
            if (e.payload.topic === topic && r !== undefined && BigInt(e.payload.lastOffset) + 1n >= r.end) pending.delete(e.payload.partition);
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          });
          consumer
            .run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                const r = ranges.get(batch.partition);
                if (r === undefined) return;
                for (const m of batch.messages) {
                  const off = BigInt(m.offset);
                  if (off < r.start || off >= r.end) continue;
                  each(consumedOf(topic, batch.partition, m));
                  n++;
                }
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
        await admin.deleteGroups([groupId]).catch(() => undefined);
      }
      return n;
    },
  };
}
