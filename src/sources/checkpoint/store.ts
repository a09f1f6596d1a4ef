import type { BusMessage, BusProducer } from '../../bus/types.ts';

/**
 * A collector's position, kept durably so a restart neither misses nor repeats records: a time
 * watermark (everything up to it has been read once, and is durable on the bus) plus the ids seen
 * within the lookback window behind it, so a re-read of that window (to catch late-ingested records)
 * emits only what is new. Ids are grouped by event time in ms so the window can be pruned.
 *
 * Version 2 keeps a fixed-size digest of each id (`digestId`, digest.ts), not the id: a CloudWatch Logs eventId is
 * ~56 digits, and a 15 min lookback of a busy group came near the checkpoint topic's message limit (ADR 0061,
 * amendment of session 37). The version field, not the ids' shape, says which: a GuardDuty id (finding id @ time)
 * can be any length.
 */
export interface Checkpoint {
  v: 2;
  /** Records with an event time <= watermarkMs have been read (except late arrivals, caught by the lookback). */
  watermarkMs: number;
  /** Event time (ms, as a decimal string) → digests (`digestId`) of the ids seen at that time, for times within the lookback window. */
  seen: Record<string, string[]>;
  savedAt: string;
}

/**
 * A checkpoint written before version 2: the same, with the full ids. Still read and honoured: `ReadWindow` digests
 * its ids on load, so a restart on one emits nothing again; the next write stores version 2.
 */
export interface CheckpointV1 {
  v: 1;
  watermarkMs: number;
  seen: Record<string, string[]>;
  savedAt: string;
}

/** What a store may hold: a checkpoint of either version. */
export type StoredCheckpoint = Checkpoint | CheckpointV1;

export interface CheckpointStore {
  load(key: string): Promise<StoredCheckpoint | undefined>;
  save(key: string, cp: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where a collector writes: records, then the checkpoint that covers them. The checkpoint is never
 * saved before its records are durable; with Kafka both commit in one transaction, so a crash between
 * the two leaves neither visible (and a restart re-reads and emits them exactly once).
 */
export interface CheckpointedWriter {
  write(records: BusMessage[], key: string, cp: Checkpoint): Promise<void>;
  /**
   * Where the store limits a checkpoint's size (Kafka: the checkpoint topic's max.message.bytes; the file has no
   * limit): the bytes `cp` takes as a message under `key`, and that limit. `write` refuses a checkpoint over it
   * (SEAM_ERR_CHECKPOINT_TOO_LARGE) before producing anything.
   */
  size?(key: string, cp: Checkpoint): Promise<{ bytes: number; limitBytes: number }>;
  /**
   * After a failed write: makes the writer usable again and settles the failed write (Kafka: a new
   * transactional producer under the same id aborts it, or waits for its in-flight commit). Reload the
   * checkpoint after this, never before: the failed write may have committed after all.
   */
  reset?(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by fault injection to stop a collector the way a killed process stops: no cleanup, no save. */
export class HardStop extends Error {
  constructor() {
    super('collector stopped hard (fault injection)');
    this.name = 'HardStop';
  }
}

/** Test-only fault injection: a hard stop between the produce and the checkpoint save. */
export interface WriterFaults {
  /** Asked before each write: when true the writer produces the records, then stops hard (HardStop) before saving the checkpoint. */
  killAfterProduce?: () => boolean;
  /**
   * Asked before each write: when true the writer produces the records (Kafka: in a transaction left
   * open), calls `onStall`, and never returns — a process to be killed from outside mid-page.
   */
  stallAfterProduce?: (records: number) => boolean;
  onStall?: (records: number) => void;
}

/** Embedded mode: produce (awaiting durability), then save. */
export function sequentialWriter(producer: BusProducer, store: CheckpointStore, faults: WriterFaults = {}): CheckpointedWriter {
  return {
    async write(records, key, cp) {
      await producer.send(records);
      if (faults.killAfterProduce?.() === true) throw new HardStop();
      if (faults.stallAfterProduce?.(records.length) === true) {
        faults.onStall?.(records.length);
        await new Promise<never>(() => undefined);
      }
      await store.save(key, cp);
    },
    async close() {
      await producer.close();
    },
  };
}

/** A checkpoint of either version (1: full ids, 2: digests). */
export function isCheckpoint(v: unknown): v is StoredCheckpoint {
  if (v === null || typeof v !== 'object') return false;
  const c = v as Partial<StoredCheckpoint>;
  return (c.v === 1 || c.v === 2) && typeof c.watermarkMs === 'number' && c.seen !== null && typeof c.seen === 'object';
}

/** Stable key of a collector's position: collector name + what it reads (log group, stream prefix, detector). */
export function checkpointKey(collector: string, ...parts: (string | undefined)[]): string {
  return [collector, ...parts.filter((p): p is string => p !== undefined && p !== '')].join('|');
}
