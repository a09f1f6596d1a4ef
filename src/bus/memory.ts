import type { Bus, BusConsumer, BusConsumerOptions, BusMessage, BusProducer, ConsumedMessage } from './types.ts';

/**
 * The in-memory bus of embedded mode, with Kafka's semantics where Seam relies on them: a topic has
 * partitions, a message goes to the partition its key hashes to (so order holds per key), and each
 * consumer group keeps its own committed offset per partition, advanced only after the handler's
 * promise resolves. Members of one group split the partitions (partition % members). Nothing is
 * persisted: a crash loses the bus, which is why embedded mode's checkpoints are saved only after
 * records have been handed on (see src/sources/checkpoint/).
 */

const DEFAULT_PARTITIONS = 1;
const MAX_BATCH = 500;

/** FNV-1a over the key's UTF-8 bytes: stable across runs, cheap, and spreads short keys well. */
export function partitionFor(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  let h = 0x811c9dc5;
  const bytes = Buffer.from(key, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

interface Topic {
  partitions: ConsumedMessage[][];
}

interface Member {
  id: number;
  opts: BusConsumerOptions;
  running: boolean;
}

interface Group {
  committed: Map<string, number>; // `${topic}/${partition}` → next offset to read
  members: Member[];
}

export interface MemoryBusOptions {
  /** Partitions of topics created implicitly by a produce or a subscription. */
  defaultPartitions?: number;
  /** Largest batch handed to a consumer. */
  maxBatch?: number;
}

export class MemoryBus implements Bus {
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly waiters = new Set<() => void>();
  private rr = 0;
  private nextMemberId = 1;
  private closed = false;
  private readonly defaultPartitions: number;
  private readonly maxBatch: number;

  constructor(opts: MemoryBusOptions = {}) {
    this.defaultPartitions = opts.defaultPartitions ?? DEFAULT_PARTITIONS;
    this.maxBatch = opts.maxBatch ?? MAX_BATCH;
  }

  async ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    for (const t of topics) this.topic(t.topic, t.partitions);
  }

  async partitions(topic: string): Promise<number> {
    return this.topics.get(topic)?.partitions.length ?? 0;
  }

  async producer(): Promise<BusProducer> {
    let open = true;
    return {
      send: async (messages: BusMessage[]) => {
        if (!open || this.closed) throw new Error('memory bus producer is closed');
        this.append(messages);
      },
      close: async () => {
        open = false;
      },
    };
  }

  async consumer(opts: BusConsumerOptions): Promise<BusConsumer> {
    for (const t of opts.topics) this.topic(t);
    const group = this.group(opts.groupId, opts);
    const member: Member = { id: this.nextMemberId++, opts, running: false };
    let loop: Promise<void> | undefined;
    return {
      run: async () => {
        if (member.running) return;
        member.running = true;
        group.members.push(member);
        this.wake();
        loop = this.loop(group, member);
      },
      stop: async () => {
        member.running = false;
        const i = group.members.indexOf(member);
        if (i >= 0) group.members.splice(i, 1);
        this.wake();
        await loop;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const g of this.groups.values()) for (const m of g.members) m.running = false;
    this.wake();
  }

  /** Every message of a topic, partition by partition: for tests and the console sink. */
  read(topic: string): ConsumedMessage[][] {
    return this.topics.get(topic)?.partitions.map((p) => [...p]) ?? [];
  }

  /** How many messages each partition of a topic holds (its end offsets), without copying them. */
  ends(topic: string): number[] {
    return this.topics.get(topic)?.partitions.map((p) => p.length) ?? [];
  }

  /** Committed next offsets of a group, as `topic/partition` → offset. */
  committed(groupId: string): Record<string, number> {
    return Object.fromEntries(this.groups.get(groupId)?.committed ?? []);
  }

  /** Resolves once `groupId` has committed every message of `topic` (tests and embedded drains); throws after `timeoutMs`. */
  async waitCommitted(groupId: string, topic: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const total = this.read(topic).reduce((s, p) => s + p.length, 0);
      const done = Object.entries(this.committed(groupId))
        .filter(([k]) => k.startsWith(topic + '/'))
        .reduce((s, [, v]) => s + v, 0);
      if (done >= total) return;
      if (Date.now() > deadline) throw new Error(`${groupId} did not catch up on ${topic}: ${done} of ${total} committed`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private topic(name: string, partitions = this.defaultPartitions): Topic {
    let t = this.topics.get(name);
    if (t === undefined) {
      t = { partitions: Array.from({ length: Math.max(1, partitions) }, () => []) };
      this.topics.set(name, t);
    } else {
      // Like Kafka, partitions can only grow.
      while (t.partitions.length < partitions) t.partitions.push([]);
    }
    return t;
  }

  private group(id: string, opts: BusConsumerOptions): Group {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = { committed: new Map(), members: [] };
      this.groups.set(id, g);
    }
    for (const topic of opts.topics) {
      const t = this.topic(topic);
      for (let p = 0; p < t.partitions.length; p++) {
        const k = `${topic}/${p}`;
        // A new group starts at the end unless asked for the beginning, as Kafka's auto.offset.reset=latest.
        if (!g.committed.has(k)) g.committed.set(k, opts.fromBeginning ? 0 : t.partitions[p]!.length);
      }
    }
    return g;
  }

  private append(messages: BusMessage[]): void {
    // As Kafka refuses a produce to a partition the topic does not have (checked before anything is appended).
    for (const m of messages) {
      if (m.partition !== undefined && m.partition >= this.topic(m.topic).partitions.length) throw new Error(`memory bus: ${m.topic} has no partition ${m.partition}`);
    }
    for (const m of messages) {
      const t = this.topic(m.topic);
      const p = m.partition ?? partitionFor(m.key, t.partitions.length, this.rr++);
      const log = t.partitions[p]!;
      log.push({
        topic: m.topic,
        key: m.key,
        value: m.value,
        ...(m.headers ? { headers: { ...m.headers } } : {}),
        timestampMs: m.timestampMs ?? Date.now(),
        partition: p,
        offset: String(log.length),
      });
    }
    this.wake();
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  private async loop(group: Group, member: Member): Promise<void> {
    while (member.running && !this.closed) {
      let handled = false;
      for (const topic of member.opts.topics) {
        const t = this.topic(topic);
        for (let p = 0; p < t.partitions.length && member.running; p++) {
          if (group.members.indexOf(member) !== p % group.members.length) continue;
          const k = `${topic}/${p}`;
          const from = group.committed.get(k) ?? 0;
          const log = t.partitions[p]!;
          if (from >= log.length) continue;
          const batch = log.slice(from, from + this.maxBatch);
          try {
            await member.opts.handle(batch);
          } catch {
            // Not committed: the batch is handed again on the next turn, as Kafka redelivers after a failure.
            await new Promise((r) => setTimeout(r, 50));
            handled = true;
            continue;
          }
          // Commit only if no rebalance moved the partition meanwhile (Kafka would reject a stale commit too).
          if (member.running && (group.committed.get(k) ?? 0) === from) group.committed.set(k, from + batch.length);
          handled = true;
        }
      }
      if (!handled) await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}
