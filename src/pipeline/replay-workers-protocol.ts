/** Messages between `seam replay --workers N`'s main thread and its worker threads (ADR 0018). */
import type { ReplayDetectSpec } from './replay.ts';
import type { EventNotes } from './event-notes.ts';
import type { FindingAlertRef, FindingLevel } from '../detect/finding.ts';

export interface WorkerInit {
  spec: ReplayDetectSpec;
  cluster?: string;
  maxRecordBytes: number;
  /** `--out`: the worker sends each normalized event's JSON back. */
  writeEvents: boolean;
}

/** One read chunk's records for one worker: input positions, texts, origins; all read at one time. */
export interface WorkerBatch {
  t: 'batch';
  round: number;
  idx: number[];
  texts: string[];
  origins: string[];
  /**
   * The account and cluster the file source gave each record ('' for none): `--cluster`, `--account`, or the ones a
   * CloudWatch Logs subscription payload names for its log events (ADR 0039). The rest of a record's meta is the
   * batch's (`receivedAt`) or the worker's (`collector`).
   */
  accounts: string[];
  clusters: string[];
  receivedAt: string;
  /**
   * The event-time order of the one-thread replay over the whole input (ADR 0009), which the main thread
   * works out in its first pass: per record, whether it is late there (it sorts before an event already
   * handed on: 1; a copy of an event already handed in, which it drops: DUPLICATE, 2), the watermark before and after
   * it, and the newest event time handed on before it.
   */
  late: number[];
  wmBefore: number[];
  clockBefore: number[];
  wmAfter: number[];
  /** What the first pass read of each record (`viewHash`; 0 when it does not normalize), for the worker to check. */
  expect: number[];
}

export type ToWorker = WorkerBatch | { t: 'end' };

export const ITEM = { alert: 0, deadLetter: 1, event: 2 } as const;

/** What a worker made of one batch (or, for `done`, of the end of input), in input order. */
export interface WorkerOut {
  t: 'out';
  round: number;
  /** Input position of the record whose processing produced each item. */
  idx: number[];
  kind: number[];
  /** The JSON line to write. */
  lines: string[];
  /**
   * Dead letter: its code; a GuardDuty finding alert (ADR 0046): `findingKey` (its id and severity level), for the
   * main thread to count its later versions as updates as one thread does; otherwise ''.
   */
  keys: string[];
  normalized: number;
  bySource: Record<string, number>;
  notes: EventNotes;
  /** Time the worker spent on this batch (normalizing, detecting, serializing). */
  busyMs: number;
  /** Records whose normalization disagreed with the first pass's reading of them (0 unless a bug). */
  mismatched: number;
}

export type FromWorker = { t: 'ready'; loadMs: number } | WorkerOut | (Omit<WorkerOut, 't'> & { t: 'done' }) | { t: 'error'; message: string; code?: string };

/** The key of a GuardDuty finding alert's item: what `countAlert` reads of it (ADR 0046); '' for other alerts. */
export function findingKey(a: FindingAlertRef): string {
  return a.finding === undefined ? '' : `${a.id} ${a.finding.severity_level ?? ''}`;
}

/** The finding alert an item's key names, or undefined for another alert ('' key). */
export function findingOfKey(key: string): FindingAlertRef | undefined {
  if (key === '') return undefined;
  const sp = key.indexOf(' ');
  const level = key.slice(sp + 1);
  return { id: key.slice(0, sp), finding: { updated_at: '', ...(level === '' ? {} : { severity_level: level as FindingLevel }) } };
}
