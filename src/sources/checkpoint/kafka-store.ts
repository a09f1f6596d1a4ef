import type { KafkaBus, TransactionalProducer } from '../../bus/kafka.ts';
import type { BusMessage, BusProducer } from '../../bus/types.ts';
import { SeamError } from '../../core/errors.ts';
import { HardStop, isCheckpoint, type Checkpoint, type CheckpointedWriter, type CheckpointStore, type StoredCheckpoint, type WriterFaults } from './store.ts';

export const CHECKPOINT_TOPIC = 'seam.checkpoints';
/** max.message.bytes of the checkpoint topic Seam creates; a topic that exists is read for its own. */
export const CHECKPOINT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A record batch's bytes beyond the checkpoint's key and value (batch header 61 B, the record's varints and attributes): a generous bound. */
const RECORD_OVERHEAD_BYTES = 128;
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
  private cache: Map<string, StoredCheckpoint> | undefined;
  /** Which read the cache came from (reads are numbered as they start): a read that started earlier never replaces it. */
  private cacheRead = 0;
  private reads = 0;
  private producer: BusProducer | undefined;
  /** The topic's max.message.bytes, read once the topic exists (CHECKPOINT_MAX_MESSAGE_BYTES until then, or if it cannot be read). */
  private limitBytes: number | undefined;
  /** Each checkpoint's message value, serialized once for `size` and the write that follows it. */
  private readonly serialized = new WeakMap<Checkpoint, Buffer>();

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
        config: { 'cleanup.policy': 'compact', 'max.message.bytes': String(CHECKPOINT_MAX_MESSAGE_BYTES), 'min.compaction.lag.ms': '60000' },
      },
    ]);
    if (this.limitBytes === undefined) {
      // A topic created before Seam, or by hand, may have another limit; without DescribeConfigs (an IAM policy), Seam's own.
      const max = Number((await this.bus.topicConfig(this.topic, ['max.message.bytes']).catch(() => ({}) as Record<string, string>))['max.message.bytes']);
      this.limitBytes = Number.isFinite(max) && max > 0 ? max : CHECKPOINT_MAX_MESSAGE_BYTES;
    }
  }

  /** The largest message the checkpoint topic takes (its max.message.bytes). */
  get maxMessageBytes(): number {
    return this.limitBytes ?? CHECKPOINT_MAX_MESSAGE_BYTES;
  }

  private value(cp: Checkpoint): Buffer {
    let v = this.serialized.get(cp);
    if (v === undefined) this.serialized.set(cp, (v = Buffer.from(JSON.stringify(cp))));
    return v;
  }

  /** The bytes `cp` takes on the topic under `key` (a bound of its record batch), and the topic's limit. */
  size(key: string, cp: Checkpoint): { bytes: number; limitBytes: number } {
    return { bytes: this.value(cp).length + Buffer.byteLength(key) + RECORD_OVERHEAD_BYTES, limitBytes: this.maxMessageBytes };
  }

  /**
   * The message that saves `cp` under `key`, for a transaction that also carries its records. A checkpoint over the
   * topic's limit is refused here, before anything is produced: the broker would refuse the whole transaction
   * (kafkajs MESSAGE_TOO_LARGE), and the collector would retry it every poll without saying why.
   */
  message(key: string, cp: Checkpoint): BusMessage {
    const { bytes, limitBytes } = this.size(key, cp);
    if (bytes > limitBytes) {
      throw new SeamError(
        'SEAM_ERR_CHECKPOINT_TOO_LARGE',
        `checkpoint ${key} takes ${bytes} bytes, over the ${limitBytes} bytes (max.message.bytes) of ${this.topic}: lower the collector's lookbackMs for this unit (it keeps every id seen in the lookback)`,
        { details: { key, bytes, limitBytes, topic: this.topic } },
      );
    }
    return { topic: this.topic, key, value: this.value(cp), timestampMs: Date.now() };
  }

  async load(key: string): Promise<StoredCheckpoint | undefined> {
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
    const message = this.message(key, cp);
    try {
      await this.producer.send([message]);
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
      size: (key, cp) => Promise.resolve(this.size(key, cp)),
      reset: () => tx.reset(),
      close: () => tx.close(),
    };
  }

  private async readToEnd(): Promise<Map<string, StoredCheckpoint>> {
    const out = new Map<string, StoredCheckpoint>();
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
