import type { KafkaBus } from '../bus/kafka.ts';
import type { MemoryBus } from '../bus/memory.ts';
import { fetchTopicOffsets } from '../bus/topic-offsets.ts';
import type { RawPartitionView } from './reorder.ts';
import type { PipelineTopics } from './topics.ts';

/**
 * Where stage 1 stands on its input, as the correlate role needs it for its watermark (ADR 0009):
 * every partition of the raw topics, whether it holds records and whether the normalize group has
 * committed all of them; then the end offsets of the signals partitions, read after, so that a
 * signals partition read up to there holds every signal of the partitions seen caught up.
 */
export interface UpstreamSnapshot {
  /** `end`: the partition's end offset, so a look can tell that records arrived since the last one. */
  raw: { src: string; hasData: boolean; caughtUp: boolean; end: bigint }[];
  signalsEnd: Map<number, bigint>;
}

export interface Upstream {
  snapshot(): Promise<UpstreamSnapshot>;
}

export function memoryUpstream(bus: MemoryBus, topics: PipelineTopics, normalizeGroupId: string): Upstream {
  return {
    async snapshot() {
      const committed = bus.committed(normalizeGroupId);
      const raw: UpstreamSnapshot['raw'] = [];
      for (const t of topics.rawAll) {
        bus.ends(t).forEach((end, p) => {
          const src = `${t}/${p}`;
          raw.push({ src, hasData: end > 0, caughtUp: (committed[src] ?? 0) >= end, end: BigInt(end) });
        });
      }
      const signalsEnd = new Map(bus.ends(topics.signals).map((end, p) => [p, BigInt(end)] as const));
      return { raw, signalsEnd };
    },
  };
}

/** Kafka: the raw topics' low/high offsets and the normalize group's committed offsets, from the admin client. */
export function kafkaUpstream(bus: KafkaBus, topics: PipelineTopics, normalizeGroupId: string): Upstream {
  return {
    async snapshot() {
      const admin = await bus.admin();
      const existing = new Set(await admin.listTopics());
      const rawTopics = topics.rawAll.filter((t) => existing.has(t));
      const committed = rawTopics.length === 0 ? [] : await admin.fetchOffsets({ groupId: normalizeGroupId, topics: rawTopics });
      const raw: UpstreamSnapshot['raw'] = [];
      for (const t of rawTopics) {
        const at = committed.find((c) => c.topic === t)?.partitions ?? [];
        // A topic whose partitions this client's metadata does not show yet may hold records all the same: the look
        // fails (SEAM_ERR_BUS_TOPIC_NOT_READY) and held signals wait for the next one. Read as "no partitions", it let
        // the watermark pass without it: one plane's signals went before the other's (sensor demo, session 36 CI).
        for (const e of await fetchTopicOffsets(admin, t)) {
          const low = BigInt(e.low);
          const high = BigInt(e.high);
          const c = BigInt(at.find((p) => p.partition === e.partition)?.offset ?? '-1');
          raw.push({ src: `${t}/${e.partition}`, hasData: high > low, caughtUp: (c < 0n ? low : c) >= high, end: high });
        }
      }
      const signalsEnd = new Map<number, bigint>();
      if (existing.has(topics.signals)) for (const e of await fetchTopicOffsets(admin, topics.signals)) signalsEnd.set(e.partition, BigInt(e.high));
      return { raw, signalsEnd };
    },
  };
}

/**
 * Snapshots over time: a raw partition is idle once, at every snapshot for `idleMs`, it has been caught up and
 * has received no record (a source that pauses between deliveries is not idle at once; a busy one that stage 1
 * keeps up with is not idle at all, and a partition that was empty or idle is active again from the look that
 * sees its new records).
 */
export class UpstreamWatch {
  private readonly caughtUpSince = new Map<string, number>();
  private readonly endAt = new Map<string, bigint>();
  private current: { raw: RawPartitionView[]; signalsEnd: Map<number, bigint>; atMs: number } | undefined;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly upstream: Upstream,
    readonly idleMs: number,
  ) {}

  get view(): { raw: RawPartitionView[]; signalsEnd: Map<number, bigint>; atMs: number } | undefined {
    return this.current;
  }

  /** Takes a new snapshot (one at a time; callers arriving meanwhile share it). */
  refresh(nowMs: () => number = Date.now): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const snap = await this.upstream.snapshot();
        const now = nowMs();
        const raw: RawPartitionView[] = [];
        for (const r of snap.raw) {
          // Records arrived since the last look: the quiet time starts again.
          if (this.endAt.get(r.src) !== r.end) this.caughtUpSince.delete(r.src);
          this.endAt.set(r.src, r.end);
          if (r.caughtUp) {
            if (!this.caughtUpSince.has(r.src)) this.caughtUpSince.set(r.src, now);
          } else this.caughtUpSince.delete(r.src);
          const since = this.caughtUpSince.get(r.src);
          raw.push({ src: r.src, hasData: r.hasData, idle: since !== undefined && now - since >= this.idleMs });
        }
        this.current = { raw, signalsEnd: snap.signalsEnd, atMs: now };
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
