import type { BusMessage, BusProducer } from '../../bus/types.ts';

/**
 * A collector's position, kept durably so a restart neither misses nor repeats records: a time
 * watermark (everything up to it has been read once, and is durable on the bus) plus the ids seen
 * within the lookback window behind it, so a re-read of that window (to catch late-ingested records)
 * emits only what is new. Ids are grouped by event time in ms so the window can be pruned.
 */
export interface Checkpoint {
  v: 1;
  /** Records with an event time <= watermarkMs have been read (except late arrivals, caught by the lookback). */
  watermarkMs: number;
  /** Event time (ms, as a decimal string) → ids seen at that time, for times within the lookback window. */
  seen: Record<string, string[]>;
  savedAt: string;
}

export interface CheckpointStore {
  load(key: string): Promise<Checkpoint | undefined>;
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

export function isCheckpoint(v: unknown): v is Checkpoint {
  if (v === null || typeof v !== 'object') return false;
  const c = v as Partial<Checkpoint>;
  return c.v === 1 && typeof c.watermarkMs === 'number' && c.seen !== null && typeof c.seen === 'object';
}

/** Stable key of a collector's position: collector name + what it reads (log group, stream prefix, detector). */
export function checkpointKey(collector: string, ...parts: (string | undefined)[]): string {
  return [collector, ...parts.filter((p): p is string => p !== undefined && p !== '')].join('|');
}
