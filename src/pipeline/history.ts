import { throwawayGroupId } from '../bus/groups.ts';
import type { KafkaBus } from '../bus/kafka.ts';
import type { MemoryBus } from '../bus/memory.ts';
import type { ConsumedMessage } from '../bus/types.ts';
import { fetchTopicOffsets, type PartitionOffsets } from '../bus/topic-offsets.ts';

/**
 * Re-reading a topic, for the correlate role's rebuild: every message from the first whose (produce)
 * timestamp is at or after `fromTimeMs` up to, not including, `toOffset` (one partition), or up to
 * the current end (every partition, `partition: 'all'`).
 */
export interface History {
  read(topic: string, partition: number | 'all', fromTimeMs: number, toOffset: bigint | undefined, each: (m: ConsumedMessage) => void): Promise<number>;
  /**
   * Several such reads at once, with one reader (on Kafka: one throwaway group join for all of them): each range's
   * messages in order per partition, ranges interleaved. No two ranges may cover the same topic partition.
   * Returns the messages handed to each range's `each`, in the order of `ranges`.
   */
  readMany(ranges: readonly HistoryRange[], opts?: ReadManyOptions): Promise<number[]>;
}

export interface HistoryRange {
  topic: string;
  partition: number | 'all';
  /** From the first message at or after this (produce) time; 0: from the log start. */
  fromTimeMs: number;
  /** From this offset instead, when later than the time's (one partition only). */
  fromOffset?: bigint;
  /** Up to, not including, this offset (one partition only); undefined: the partition's end now. */
  toOffset?: bigint;
  each(m: ConsumedMessage): void;
}

export interface ReadManyOptions {
  /**
   * Called at least every few seconds while the read runs (and between fetched batches): the correlate role keeps
   * its own consumer's group session alive with it while it re-reads inside a batch handler.
   */
  keepAlive?: () => void;
  /** Called once the messages to read are known, before reading them (the role logs a long read). */
  onPlan?: (messages: bigint) => void;
  /**
   * Abandons the read: it rejects with the signal's reason as soon as it sees it aborted (on Kafka: its throwaway
   * consumer is disconnected). The correlate role aborts a rebuild whose partitions the group takes away.
   */
  signal?: AbortSignal;
}

/**
 * How long a Kafka history read may take: a minute to join and fetch, plus 2 ms per message to read (the
 * correlate role re-reads ~3 signals a message at ~0.1 ms a signal, so this leaves room for a loaded machine),
 * capped at `maxMs` (seam.yml `correlate.maxRebuildMs`).
 */
export function historyTimeoutMs(messages: bigint, maxMs: number): number {
  return Math.min(maxMs, 60_000 + Number(messages) * 2);
}

/** Default cap of a history read (seam.yml `correlate.maxRebuildMs`). */
export const DEFAULT_MAX_REBUILD_MS = 1_800_000;

export function memoryHistory(bus: MemoryBus): History {
  const read = (topic: string, partition: number | 'all', fromTimeMs: number, toOffset: bigint | undefined, each: (m: ConsumedMessage) => void, fromOffset?: bigint): number => {
    const parts = bus.read(topic);
    let n = 0;
    parts.forEach((log, p) => {
      if (partition !== 'all' && p !== partition) return;
      for (const m of log) {
        if (toOffset !== undefined && BigInt(m.offset) >= toOffset) break;
        if ((m.timestampMs ?? 0) < fromTimeMs || (fromOffset !== undefined && BigInt(m.offset) < fromOffset)) continue;
        each(m);
        n++;
      }
    });
    return n;
  };
  return {
    async read(topic, partition, fromTimeMs, toOffset, each) {
      return read(topic, partition, fromTimeMs, toOffset, each);
    },
    async readMany(ranges, opts) {
      checkDisjoint(ranges);
      opts?.signal?.throwIfAborted();
      opts?.onPlan?.(0n);
      return ranges.map((r) => read(r.topic, r.partition, r.fromTimeMs, r.toOffset, r.each, r.fromOffset));
    },
  };
}

function checkDisjoint(ranges: readonly HistoryRange[]): void {
  const seen = new Map<string, Set<number | 'all'>>();
  for (const r of ranges) {
    const parts = seen.get(r.topic) ?? new Set();
    if (parts.has('all') || parts.has(r.partition) || (r.partition === 'all' && parts.size > 0)) throw new Error(`history ranges overlap on ${r.topic} partition ${String(r.partition)}`);
    parts.add(r.partition);
    seen.set(r.topic, parts);
  }
}

/**
 * Kafka: start offsets come from the broker's time index (ListOffsets by timestamp); one throwaway consumer group
 * (`<groupPrefix>seam-rebuild-<hex>`, src/bus/groups.ts) per read (`read`, or all ranges of `readMany`) joins, seeks
 * to them as it joins, and reads to the end offsets. Committed records only (read_committed). The whole read may
 * take `historyTimeoutMs` of what it has to read, at most `maxMs`.
 */
export function kafkaHistory(bus: KafkaBus, groupPrefix: string = bus.groupPrefix, maxMs = DEFAULT_MAX_REBUILD_MS): History {
  const readMany = async (ranges: readonly HistoryRange[], opts: ReadManyOptions = {}): Promise<number[]> => {
    checkDisjoint(ranges);
    const counts = ranges.map(() => 0);
    const admin = await bus.admin();
    /** By `<topic>/<partition>`: where to start and stop, and whose. */
    const plan = new Map<string, { topic: string; partition: number; start: bigint; end: bigint; range: number }>();
    const offsetsByTime = new Map<string, Awaited<ReturnType<typeof admin.fetchTopicOffsetsByTimestamp>>>();
    const endsOf = new Map<string, PartitionOffsets>();
    for (const [i, r] of ranges.entries()) {
      const from = Math.max(0, Math.floor(r.fromTimeMs));
      const tk = `${r.topic}@${from}`;
      if (!offsetsByTime.has(tk)) offsetsByTime.set(tk, from === 0 ? [] : await admin.fetchTopicOffsetsByTimestamp(r.topic, from));
      if (!endsOf.has(r.topic)) endsOf.set(r.topic, await fetchTopicOffsets(admin, r.topic));
      for (const e of endsOf.get(r.topic)!) {
        if (r.partition !== 'all' && e.partition !== r.partition) continue;
        const logEnd = BigInt(e.offset);
        const end = r.partition !== 'all' && r.toOffset !== undefined && r.toOffset < logEnd ? r.toOffset : logEnd;
        let start: bigint;
        if (from === 0) start = BigInt(e.low);
        else {
          const raw = offsetsByTime.get(tk)!.find((o) => o.partition === e.partition)?.offset;
          // -1: nothing at or after that time.
          start = raw === undefined || BigInt(raw) < 0n ? end : BigInt(raw);
        }
        if (r.partition !== 'all' && r.fromOffset !== undefined && r.fromOffset > start) start = r.fromOffset;
        if (start < end) plan.set(`${r.topic}/${e.partition}`, { topic: r.topic, partition: e.partition, start, end, range: i });
      }
    }
    let messages = 0n;
    for (const p of plan.values()) messages += p.end - p.start;
    opts.signal?.throwIfAborted();
    opts.onPlan?.(messages);
    if (plan.size === 0) return counts;
    const timeoutMs = historyTimeoutMs(messages, maxMs);
    const topics = [...new Set([...plan.values()].map((p) => p.topic))];
    await bus.readRanges(
      throwawayGroupId('rebuild', groupPrefix),
      [...plan.values()],
      (m) => {
        const p = plan.get(`${m.topic}/${m.partition}`)!;
        ranges[p.range]!.each(m);
        counts[p.range]!++;
      },
      {
        timeoutMs,
        timeoutMessage: `re-reading ${topics.join(', ')} (${messages} messages) took over ${timeoutMs} ms (seam.yml correlate.maxRebuildMs caps it at ${maxMs} ms)`,
        ...(opts.keepAlive === undefined ? {} : { keepAlive: opts.keepAlive }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      },
    );
    return counts;
  };
  return {
    async read(topic, partition, fromTimeMs, toOffset, each) {
      const [n] = await readMany([{ topic, partition, fromTimeMs, ...(toOffset === undefined ? {} : { toOffset }), each }]);
      return n!;
    },
    readMany,
  };
}
