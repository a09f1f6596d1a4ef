import type { KafkaBus, TransactionalProducer } from '../../bus/kafka.ts';
import type { BusMessage, BusProducer } from '../../bus/types.ts';
import { SeamError } from '../../core/errors.ts';
import { HardStop, isCheckpoint, type Checkpoint, type CheckpointedWriter, type CheckpointStore, type WriterFaults } from './store.ts';

export const CHECKPOINT_TOPIC = 'seam.checkpoints';
/** The lease heartbeat topic's name without kafka.topicPrefix (ADR 0004). */
export const LEASE_TOPIC = 'seam.collect.leases';

export interface KafkaCheckpointStoreOptions {
  topic?: string;
  partitions?: number;
  /** How long reading the topic to its end may take before load fails. */
  loadTimeoutMs?: number;
}

/**
 * Checkpoints in a compacted Kafka topic (key = checkpoint key, value = JSON), for when Kafka is the
 * bus: any replica on any host can pick a log group up where another left it. On start the topic is
 * read to its end (read_committed, so checkpoints of aborted transactions never count). A writer
 * commits a poll's records and its checkpoint in one transaction.
 */
export class KafkaCheckpointStore implements CheckpointStore {
  readonly topic: string;
  private readonly partitions: number;
  private readonly loadTimeoutMs: number;
  private cache: Map<string, Checkpoint> | undefined;
  /** Which read the cache came from (reads are numbered as they start): a read that started earlier never replaces it. */
  private cacheRead = 0;
  private reads = 0;
  private producer: BusProducer | undefined;

  constructor(
    private readonly bus: KafkaBus,
    opts: KafkaCheckpointStoreOptions = {},
  ) {
    this.topic = opts.topic ?? CHECKPOINT_TOPIC;
    this.partitions = opts.partitions ?? 1;
    // Past the broker's transaction timeout (kafkajs: 60 s), which ends an orphaned transaction that holds the read back.
    this.loadTimeoutMs = opts.loadTimeoutMs ?? 90_000;
  }

  async ensureTopic(): Promise<void> {
    await this.bus.createTopics([
      {
        topic: this.topic,
        partitions: this.partitions,
        // Checkpoints of a busy lookback window can be a few MB of ids.
        config: { 'cleanup.policy': 'compact', 'max.message.bytes': String(16 * 1024 * 1024), 'min.compaction.lag.ms': '60000' },
      },
    ]);
  }

  /** The message that saves `cp` under `key`, for a transaction that also carries its records. */
  message(key: string, cp: Checkpoint): BusMessage {
    return { topic: this.topic, key, value: Buffer.from(JSON.stringify(cp)), timestampMs: Date.now() };
  }

  async load(key: string): Promise<Checkpoint | undefined> {
    if (this.cache === undefined) await this.refresh();
    return this.cache!.get(key);
  }

  /**
   * Re-reads the topic to its end: call after fencing, so what a zombie had committed is seen. Units of one
   * collector reload at the same time (after a broker restart each resets its writer, then refreshes): a read
   * that started before another unit's fence but ended after that unit's own read must not replace the cache
   * that unit then loads from — it could lack the page that unit's failed (but committed) write carried, and the
   * page would be emitted again. So the cache only ever moves to a read that started later.
   */
  async refresh(): Promise<void> {
    await this.ensureTopic();
    const read = ++this.reads;
    const map = await this.readToEnd();
    if (read > this.cacheRead) {
      this.cache = map;
      this.cacheRead = read;
    }
  }

  async save(key: string, cp: Checkpoint): Promise<void> {
    await this.ensureTopic();
    this.producer ??= await this.bus.producer();
    try {
      await this.producer.send([this.message(key, cp)]);
    } catch (e) {
      throw new SeamError('SEAM_ERR_CHECKPOINT_SAVE', `cannot save checkpoint ${key} to ${this.topic}`, { cause: e, details: { key } });
    }
    (this.cache ??= new Map()).set(key, cp);
  }

  /**
   * A writer whose records and checkpoint commit in one Kafka transaction. Creating it fences any
   * older producer with the same transactional id (a zombie replica, the previous run) and aborts its
   * open transaction; load checkpoints after this, not before.
   */
  async writer(transactionalId: string, faults: WriterFaults = {}): Promise<CheckpointedWriter> {
    await this.ensureTopic();
    const tx: TransactionalProducer = await this.bus.transactionalProducer(transactionalId);
    return {
      write: async (records, key, cp) => {
        const msgs = [...records, this.message(key, cp)];
        if (faults.killAfterProduce?.() === true) {
          // Produce the records inside a transaction, then die before the checkpoint and the commit.
          await tx.sendUncommitted(records);
          throw new HardStop();
        }
        if (faults.stallAfterProduce?.(records.length) === true) {
          await tx.sendUncommitted(records);
          faults.onStall?.(records.length);
          await new Promise<never>(() => undefined);
        }
        await tx.sendAtomically(msgs);
        (this.cache ??= new Map()).set(key, cp);
      },
      reset: () => tx.reset(),
      close: () => tx.close(),
    };
  }

  private async readToEnd(): Promise<Map<string, Checkpoint>> {
    const out = new Map<string, Checkpoint>();
    try {
      await this.bus.readToEnd(
        [this.topic],
        (m) => {
          if (m.key === null) return;
          if (m.value.length === 0) {
            out.delete(m.key);
            return;
          }
          try {
            const v: unknown = JSON.parse(m.value.toString());
            if (isCheckpoint(v)) out.set(m.key, v);
          } catch {
            // A foreign or corrupt value is not a checkpoint: that key starts over rather than crash.
          }
        },
        this.loadTimeoutMs,
        // A checkpoint committed behind another unit's open transaction is still the latest one: wait for it
        // (reading only to the last stable offset would hand a new owner an older checkpoint: duplicates).
        { untilStable: true },
      );
    } catch (e) {
      throw new SeamError('SEAM_ERR_CHECKPOINT_LOAD', `cannot read checkpoints from ${this.topic}: ${(e as Error).message}`, { cause: e, details: { topic: this.topic } });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.producer?.close();
    this.producer = undefined;
  }
}
