import { throwawayGroupId } from '../../bus/groups.ts';
import type { KafkaBus } from '../../bus/kafka.ts';
import type { BusConsumer, BusProducer } from '../../bus/types.ts';
import { childLogger } from '../../core/logger.ts';

/**
 * Which replicas of a collector are alive, from heartbeats on a compacted Kafka topic (ADR 0004,
 * "Automatic failover"). Each replica writes `{ replicaId, atMs, ttlMs }` under the key
 * `<collector>|<replicaId>` every `heartbeatMs`, and reads the topic from the beginning: a replica is
 * live while its last heartbeat is younger than its ttl (by the reader's clock: hosts' clocks must agree
 * to well within the ttl). A replica that stops gracefully writes a tombstone, so its units move at once;
 * one that dies stops heartbeating, and its units move after the ttl. Ownership is rendezvous hashing
 * over the live replicas; the transactional fence stays the safety net while two views disagree.
 */
export interface Membership {
  /** Live replicas (always including this one), sorted. */
  live(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LeaseOptions {
  topic: string;
  collector: string;
  replicaId: string;
  ttlMs: number;
  heartbeatMs: number;
  now?: () => number;
}

interface Heartbeat {
  replicaId: string;
  collector: string;
  atMs: number;
  ttlMs: number;
}

const log = childLogger('collect.lease');

export class KafkaLeaseMembership implements Membership {
  private readonly seen = new Map<string, { atMs: number; ttlMs: number }>();
  private producer: BusProducer | undefined;
  private consumer: BusConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private groupId = '';
  private readonly now: () => number;
  private readonly prefix: string;

  constructor(
    private readonly bus: KafkaBus,
    private readonly opts: LeaseOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.prefix = `${opts.collector}|`;
  }

  live(): string[] {
    const now = this.now();
    const out = new Set([this.opts.replicaId]);
    for (const [id, h] of this.seen) if (h.atMs + h.ttlMs > now) out.add(id);
    return [...out].sort();
  }

  private take(key: string | null, value: Buffer): void {
    if (key === null || !key.startsWith(this.prefix)) return;
    const id = key.slice(this.prefix.length);
    if (value.length === 0) {
      this.seen.delete(id);
      return;
    }
    try {
      const h = JSON.parse(value.toString()) as Partial<Heartbeat>;
      if (typeof h.atMs === 'number' && typeof h.ttlMs === 'number') {
        const prev = this.seen.get(id);
        if (prev === undefined || prev.atMs <= h.atMs) this.seen.set(id, { atMs: h.atMs, ttlMs: h.ttlMs });
      }
    } catch {
      // Not a heartbeat: ignored.
    }
  }

  private async beat(): Promise<void> {
    const hb: Heartbeat = { replicaId: this.opts.replicaId, collector: this.opts.collector, atMs: this.now(), ttlMs: this.opts.ttlMs };
    await this.producer!.send([{ topic: this.opts.topic, key: `${this.prefix}${this.opts.replicaId}`, value: Buffer.from(JSON.stringify(hb)), timestampMs: hb.atMs }]);
    this.seen.set(this.opts.replicaId, { atMs: hb.atMs, ttlMs: hb.ttlMs });
  }

  async start(): Promise<void> {
    await this.bus.createTopics([
      { topic: this.opts.topic, partitions: 1, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'segment.ms': '600000' } },
    ]);
    this.producer = await this.bus.producer();
    await this.beat();
    // What is known now (every replica's last heartbeat), before this replica claims anything.
    await this.bus.readToEnd([this.opts.topic], (m) => this.take(m.key, m.value));
    this.groupId = throwawayGroupId('lease', this.bus.groupPrefix, this.opts.replicaId);
    this.consumer = await this.bus.consumer({
      groupId: this.groupId,
      topics: [this.opts.topic],
      fromBeginning: true,
      handle: async (msgs) => {
        for (const m of msgs) this.take(m.key, m.value);
      },
    });
    void this.consumer.run();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.beat()
          .catch((error: unknown) => log.warn({ error, replicaId: this.opts.replicaId }, 'A lease heartbeat failed; the next one is tried on time.'))
          .finally(() => {
            if (this.timer !== undefined) tick();
          });
      }, this.opts.heartbeatMs);
      this.timer.unref();
    };
    tick();
    log.info({ replicaId: this.opts.replicaId, collector: this.opts.collector, live: this.live() }, 'Collector replica joined (lease heartbeats).');
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    if (t !== undefined) clearTimeout(t);
    // Leave: a tombstone moves this replica's units at once instead of after the ttl.
    await this.producer?.send([{ topic: this.opts.topic, key: `${this.prefix}${this.opts.replicaId}`, value: Buffer.alloc(0) }]).catch(() => undefined);
    await this.consumer?.stop().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    if (this.consumer !== undefined) await (await this.bus.admin()).deleteGroups([this.groupId]).catch(() => undefined);
    this.consumer = undefined;
    this.producer = undefined;
  }
}
