import type { Bus, BusConsumer, BusConsumerOptions, BusMessage, BusProducer, ConsumedMessage } from './types.ts';

/**
 * The in-memory bus of embedded mode, with Kafka's semantics where Seam relies on them: a topic has
 * partitions, a message goes to the partition its key hashes to (so order holds per key), and each
 * consumer group keeps its own committed offset per partition, advanced only after the handler's
 * promise resolves. Members of one group split the partitions (partition % members). Nothing is
 * persisted: a crash loses the bus, which is why embedded mode's checkpoints are saved only after
 * records have been handed on (see src/sources/checkpoint/).
 *
 * Retention (`trim`): by default every message is kept (tests read whole topics). With `trim`, a
 * named topic drops the messages every consumer group on it has committed, once they are older (by
 * timestamp) than its `keepMs` before the oldest message a group has yet to read: what Kafka's
 * retention would have deleted, while a redelivery's rebuild window (re-read through `read`) stays.
 * Offsets stay absolute, as in Kafka: the log of a partition starts at its `start` offset.
 */

const DEFAULT_PARTITIONS = 1;
const MAX_BATCH = 500;

/** FNV-1a over the key's UTF-8 bytes: stable across runs, cheap, and spreads short keys well. */
export function partitionFor(key: string | null, partitions: number, roundRobin: number): number {
  if (key === null) return roundRobin % partitions;
  let h = 0x811c9dc5;
  // FNV-1a over the key's UTF-8 bytes; an ASCII key's bytes are its char codes (no Buffer per key: ADR 0026).
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return fnvBytes(key, partitions);
    h ^= c;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

function fnvBytes(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

interface Partition {
  /** Offset of `msgs[0]`: what retention has dropped before it. */
  start: number;
  msgs: ConsumedMessage[];
  /** Retention's last scan: `msgs[0..scanned)` are older than `scannedBelow` (ms), so the next scan starts there. */
  scanned?: number;
  scannedBelow?: number;
}

interface Topic {
  partitions: Partition[];
  /** Retention of this topic's committed messages, in ms of message time (undefined: keep all). */
  keepMs: number | undefined;
}

interface Member {
  id: number;
  opts: BusConsumerOptions;
  running: boolean;
  /**
   * With `opts.commitLimit`: `${topic}/${partition}` → the next offset this member reads, which may be past the
   * committed one; valid for the group's membership `epoch` it was read in (a rebalance re-reads from the commit).
   */
  positions: Map<string, number>;
  epoch: number;
}

interface Group {
  committed: Map<string, number>; // `${topic}/${partition}` → next offset to read
  /** Metadata committed with each offset (`commitMetadata`); absent: none, as a Kafka commit without it. */
  metadata: Map<string, string>;
  members: Member[];
  /** Bumped when a member joins or leaves: partitions move, and read positions past the commit are void. */
  epoch: number;
}

export interface MemoryBusOptions {
  /** Partitions of topics created implicitly by a produce or a subscription. */
  defaultPartitions?: number;
  /** Largest batch handed to a consumer. */
  maxBatch?: number;
  /**
   * Topic → ms: drop what every group has committed on that topic, keeping that much message time
   * before the oldest unread message (e.g. the correlate role's rebuild window; 0 for a topic nobody
   * re-reads). Embedded mode sets it so a long replay does not hold every record in memory.
   */
  trim?: Readonly<Record<string, number>>;
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
  private readonly trimmed: Map<string, number>;
  private droppedCount = 0;

  constructor(opts: MemoryBusOptions = {}) {
    this.defaultPartitions = opts.defaultPartitions ?? DEFAULT_PARTITIONS;
    this.maxBatch = opts.maxBatch ?? MAX_BATCH;
    this.trimmed = new Map(Object.entries(opts.trim ?? {}).map(([t, ms]) => [t, Math.max(0, ms)]));
  }

  async ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    for (const t of topics) this.topic(t.topic, t.partitions);
  }

  async partitions(topic: string): Promise<number> {
    return this.topics.get(topic)?.partitions.length ?? 0;
  }

  partitionOf(key: string, partitions: number): number {
    return partitionFor(key, partitions, 0);
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
    const member: Member = { id: this.nextMemberId++, opts, running: false, positions: new Map(), epoch: -1 };
    let loop: Promise<void> | undefined;
    return {
      run: async () => {
        if (member.running) return;
        member.running = true;
        group.members.push(member);
        group.epoch++;
        this.wake();
        loop = this.loop(group, member);
      },
      stop: async () => {
        member.running = false;
        const i = group.members.indexOf(member);
        if (i >= 0) group.members.splice(i, 1);
        group.epoch++;
        this.wake();
        await loop;
      },
      commitHandled: async () => {
        if (!member.running || member.epoch !== group.epoch || member.opts.commitLimit === undefined) return;
        for (const [k, pos] of member.positions) {
          const cut = k.lastIndexOf('/');
          const c = this.allowed(member.opts, k.slice(0, cut), Number(k.slice(cut + 1)), pos);
          if (c > (group.committed.get(k) ?? 0)) this.commit(group, member.opts, k.slice(0, cut), Number(k.slice(cut + 1)), c);
        }
      },
      recommit: async () => {
        const metadata = member.opts.commitMetadata;
        if (!member.running || member.epoch !== group.epoch || metadata === undefined) return;
        const i = group.members.indexOf(member);
        for (const topic of member.opts.topics) {
          const n = this.topics.get(topic)?.partitions.length ?? 0;
          for (let p = i; i >= 0 && p < n; p += group.members.length) {
            const k = `${topic}/${p}`;
            const offset = group.committed.get(k);
            const md = offset === undefined ? undefined : metadata(topic, p, BigInt(offset));
            if (md !== undefined) group.metadata.set(k, md);
          }
        }
      },
      // As the loop splits partitions: partition % members, by the member's place in the group.
      assigned: (topic: string): number[] | undefined => {
        const i = group.members.indexOf(member);
        if (!member.running || i < 0) return undefined;
        const n = this.topics.get(topic)?.partitions.length ?? 0;
        const out: number[] = [];
        for (let p = 0; p < n; p++) if (p % group.members.length === i) out.push(p);
        return out;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const g of this.groups.values()) for (const m of g.members) m.running = false;
    this.wake();
  }

  /** Every message a topic still holds, partition by partition (all of them unless the topic is trimmed). */
  read(topic: string): ConsumedMessage[][] {
    return this.topics.get(topic)?.partitions.map((p) => [...p.msgs]) ?? [];
  }

  /** End offsets of each partition of a topic (how many messages it was ever sent), without copying them. */
  ends(topic: string): number[] {
    return this.topics.get(topic)?.partitions.map((p) => p.start + p.msgs.length) ?? [];
  }

  /** Messages held / dropped by retention over all topics (embedded mode's memory, in counts). */
  held(): { messages: number; dropped: number } {
    let messages = 0;
    for (const t of this.topics.values()) for (const p of t.partitions) messages += p.msgs.length;
    return { messages, dropped: this.droppedCount };
  }

  /** Committed next offsets of a group, as `topic/partition` → offset. */
  committed(groupId: string): Record<string, number> {
    return Object.fromEntries(this.groups.get(groupId)?.committed ?? []);
  }

  async committedWithMetadata(groupId: string, topic: string): Promise<Map<number, { offset: bigint; metadata: string | undefined }>> {
    const g = this.groups.get(groupId);
    const out = new Map<number, { offset: bigint; metadata: string | undefined }>();
    for (const [p, offset] of await this.committedOffsets(groupId, topic)) out.set(p, { offset, metadata: g?.metadata.get(`${topic}/${p}`) });
    return out;
  }

  /** A commit of `offset` for the group, with the member's metadata for it (none: cleared, as Kafka does). */
  private commit(group: Group, opts: BusConsumerOptions, topic: string, partition: number, offset: number): void {
    const k = `${topic}/${partition}`;
    group.committed.set(k, offset);
    const md = opts.commitMetadata?.(topic, partition, BigInt(offset));
    if (md === undefined) group.metadata.delete(k);
    else group.metadata.set(k, md);
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    for (const [k, v] of this.groups.get(groupId)?.committed ?? []) {
      if (k.startsWith(topic + '/') && !k.slice(topic.length + 1).includes('/')) out.set(Number(k.slice(topic.length + 1)), BigInt(v));
    }
    return out;
  }

  /**
   * Resolves once `groupId` has committed every message of `topic` (tests and embedded drains); throws after `timeoutMs`.
   * The deadline only ends a wait whose condition never comes: 60 s, since 10 s was within reach of a loaded machine.
   */
  async waitCommitted(groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const total = this.ends(topic).reduce((s, end) => s + end, 0);
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
      t = { partitions: Array.from({ length: Math.max(1, partitions) }, () => ({ start: 0, msgs: [] })), keepMs: this.trimmed.get(name) };
      this.topics.set(name, t);
    } else {
      // Like Kafka, partitions can only grow.
      while (t.partitions.length < partitions) t.partitions.push({ start: 0, msgs: [] });
    }
    return t;
  }

  private group(id: string, opts: BusConsumerOptions): Group {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = { committed: new Map(), metadata: new Map(), members: [], epoch: 0 };
      this.groups.set(id, g);
    }
    for (const topic of opts.topics) {
      const t = this.topic(topic);
      for (let p = 0; p < t.partitions.length; p++) {
        const k = `${topic}/${p}`;
        // A new group starts at the end unless asked for the beginning (the log's start: what retention
        // kept), as Kafka's auto.offset.reset=latest / earliest.
        const part = t.partitions[p]!;
        if (!g.committed.has(k)) g.committed.set(k, opts.fromBeginning ? part.start : part.start + part.msgs.length);
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
      const part = t.partitions[p]!;
      part.msgs.push({
        topic: m.topic,
        key: m.key,
        value: m.value,
        ...(m.headers ? { headers: { ...m.headers } } : {}),
        timestampMs: m.timestampMs ?? Date.now(),
        partition: p,
        offset: String(part.start + part.msgs.length),
      });
    }
    this.wake();
  }

  /**
   * Drops the committed prefix of a partition older than `keepMs` before the oldest message some group
   * has yet to read (its reference: a redelivered batch rebuilds from `keepMs` before its first message).
   * Only a prefix goes, so offsets stay contiguous; out-of-order timestamps just keep more.
   */
  private trim(topic: string, p: number, keepMs: number, part: Partition): void {
    const k = `${topic}/${p}`;
    const end = part.start + part.msgs.length;
    let low = end;
    let refMs = Infinity;
    for (const g of this.groups.values()) {
      const c = g.committed.get(k);
      if (c === undefined) continue;
      if (c < low) low = c;
      // The message a group reads next, or its last one when it has read everything.
      const m = part.msgs[Math.min(c, end - 1) - part.start];
      if (m !== undefined) refMs = Math.min(refMs, m.timestampMs ?? 0);
    }
    const below = refMs - keepMs;
    const limit = low - part.start;
    // What the last scan found older than a threshold this one's is not below is still old enough: go on from there
    // (rescanning from 0 each batch cost O(batch) per commit while the prefix waited for a batch's worth).
    let n = part.scanned !== undefined && part.scannedBelow !== undefined && below >= part.scannedBelow ? Math.min(part.scanned, limit) : 0;
    while (n < limit && (part.msgs[n]!.timestampMs ?? 0) < below) n++;
    part.scanned = n;
    part.scannedBelow = below;
    // Splicing is O(held): wait for a batch's worth so a partition is not shifted message by message.
    if (n === 0 || (n < this.maxBatch && n < limit)) return;
    part.msgs.splice(0, n);
    part.start += n;
    part.scanned = 0;
    this.droppedCount += n;
  }

  /** What a member may commit of a partition it has read up to `end`: `end`, or less when its `commitLimit` says so. */
  private allowed(opts: BusConsumerOptions, topic: string, p: number, end: number): number {
    const limit = opts.commitLimit?.(topic, p);
    return limit === undefined ? end : Math.min(end, Number(limit));
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  private async loop(group: Group, member: Member): Promise<void> {
    while (member.running && !this.closed) {
      let handled = false;
      if (member.epoch !== group.epoch) {
        member.positions.clear();
        member.epoch = group.epoch;
      }
      for (const topic of member.opts.topics) {
        const t = this.topic(topic);
        for (let p = 0; p < t.partitions.length && member.running; p++) {
          if (group.members.indexOf(member) !== p % group.members.length) continue;
          const k = `${topic}/${p}`;
          const part = t.partitions[p]!;
          const committed = group.committed.get(k) ?? 0;
          const from = Math.max(member.positions.get(k) ?? committed, part.start);
          if (from >= part.start + part.msgs.length) continue;
          const batch = part.msgs.slice(from - part.start, from - part.start + this.maxBatch);
          // What this member committed of the batch itself (`commitUpTo`); a rebalance or a stop (a process killed,
          // in tests) ends its right to commit, as Kafka rejects a commit from a member that left the generation.
          const epoch = group.epoch;
          let mine = committed;
          const commitUpTo = async (next: bigint): Promise<void> => {
            const c = this.allowed(member.opts, topic, p, Number(next));
            if (!member.running || group.epoch !== epoch || (group.committed.get(k) ?? 0) !== mine || c <= mine) return;
            this.commit(group, member.opts, topic, p, c);
            mine = c;
            // A failure later in the batch hands it again from here, as kafkajs retries from what was resolved.
            if (member.opts.commitLimit !== undefined) member.positions.set(k, Math.max(member.positions.get(k) ?? c, c));
          };
          try {
            await member.opts.handle(batch, { commitUpTo });
          } catch {
            // Not committed: the batch is handed again on the next turn, as Kafka redelivers after a failure.
            await new Promise((r) => setTimeout(r, 50));
            handled = true;
            continue;
          }
          // Commit only if no rebalance moved the partition meanwhile (Kafka would reject a stale commit too).
          if (member.running && (group.committed.get(k) ?? 0) === mine && (member.opts.commitLimit === undefined || member.epoch === group.epoch)) {
            const end = from + batch.length;
            // With a commit limit, reading goes on from here while the commit may stay behind.
            if (member.opts.commitLimit !== undefined) member.positions.set(k, end);
            const c = this.allowed(member.opts, topic, p, end);
            if (c > mine) this.commit(group, member.opts, topic, p, c);
            if (t.keepMs !== undefined) this.trim(topic, p, t.keepMs, part);
          }
          handled = true;
        }
      }
      if (!handled) await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}
