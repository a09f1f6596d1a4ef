import type { BusMessage, ConsumedMessage } from '../bus/types.ts';
import { sameFact, type IdentityGraph } from '../identity/graph.ts';
import { timeMs } from '../identity/store.ts';
import { decodeIdentityRecord, identityRecord, restoreRecord, versionId, type IdentityRecord, type SignalRef } from '../identity/record.ts';
import { versionsChangedBy } from '../identity/record.ts';
import type { Edge, IdentityFact } from '../identity/types.ts';
import type { History } from './history.ts';

/**
 * The correlate role's side of `seam.identity` (ADR 0008): what one signals partition's graph changed goes
 * out with the batch's alerts, to the same partition number of `seam.identity`, and comes back when the
 * partition's state is rebuilt.
 */
export class IdentityPublisher {
  /** Versions changed since the last `messages()`, by version id, with the signal that changed them last. */
  private readonly changed = new Map<string, { edge: Edge; signal: SignalRef | undefined }>();

  constructor(
    private readonly graph: IdentityGraph,
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /** Notes the facts one signal made the graph apply (`DetectStage.drainFacts()` after processing it). */
  note(facts: readonly IdentityFact[], signal: Pick<ConsumedMessage, 'offset' | 'timestampMs'> | undefined): void {
    if (facts.length === 0) return;
    const ref = signal === undefined ? undefined : { offset: signal.offset, ms: signal.timestampMs ?? 0 };
    for (const f of facts) {
      for (const edge of versionsChangedBy(this.graph.store, f)) {
        const id = versionId(edge.fact);
        // Re-noted: the later signal is the one that changed it last.
        this.changed.delete(id);
        this.changed.set(id, { edge, signal: ref });
      }
    }
  }

  get pending(): number {
    return this.changed.size;
  }

  /**
   * One message per changed version, as it stands now, in the order the versions last changed; clears the
   * notes. `skip` leaves out versions whose record would say what the topic already says (after a rebuild).
   */
  messages(skip?: ReadonlyMap<string, string>): BusMessage[] {
    const out: BusMessage[] = [];
    for (const [id, { edge, signal }] of this.changed) {
      const r = identityRecord(edge, signal);
      if (skip !== undefined && skip.get(id) === sameness(r)) continue;
      out.push({ topic: this.topic, key: id, partition: this.partition, value: Buffer.from(JSON.stringify(r)) });
    }
    this.changed.clear();
    return out;
  }
}

/**
 * What makes two records of one version id say the same thing. The provenance is part of it: two versions of a
 * key that start at the same instant share an id, and the later one must replace the earlier on the topic.
 */
function sameness(r: IdentityRecord): string {
  return `${r.doc.provenance}|${r.doc.valid_to ?? ''}|${r.closed_by ?? ''}`;
}

const PRUNE_EVERY_RECORDS = 4096;

/** How far past the wall clock an event time still counts as "now" for expiry (clock skew, time zones). */
export const FUTURE_TOLERANCE_MS = 24 * 3600_000;

/**
 * "Now" for expiring restored identity versions: the newest fact's event time, but never past the wall clock plus
 * FUTURE_TOLERANCE_MS. One record from a skewed clock (dated weeks ahead) would otherwise expire every baseline
 * and credential version at once, for good (ADR 0044).
 */
export function expiryNowMs(newestMs: number, wallClockMs: number = Date.now()): number {
  return Math.min(newestMs, wallClockMs + FUTURE_TOLERANCE_MS);
}

export interface RestoreStats {
  /** Records read from the partition. */
  records: number;
  /** Applied before the signals window was re-read: facts older than the window. */
  before: number;
  /** Applied after it, where the re-read did not derive them again. */
  after: number;
  /** Records of signals at or after the rebuild point: their batch is about to be handled again. */
  ahead: number;
  /** Not identity records (counted, left alone: the index role dead-letters them). */
  unreadable: number;
}

/**
 * Restores a fresh graph from `seam.identity` partition `partition` around the re-read of `seam.signals`:
 * `reread` re-reads the signals from `fromTimeMs` up to `upTo` into the same stage.
 *
 * Records of signals older than the window are applied first, so the re-read resolves against every old
 * mapping, access entry or annotation. Records of signals inside the window are applied only after it: the
 * re-read derives those facts again as new, which the native detections' state (the first use of a new
 * mapping) needs; applying them afterwards only fills in what it did not derive. Records of signals at or
 * past `upTo` belong to the batch being redelivered and are left for it.
 *
 * With event-time order (ADR 0009) the re-read holds the window's signals instead of processing them:
 * `held(eventId)` then says which events will be processed again, and records whose fact one of them made
 * are not applied (the event derives it again, as new, when it is handed on); a record closed by a held
 * event gets its version back open, the held event closes it again.
 *
 * Returns the stats and, per version id, what the topic says about it, so the first batch after the rebuild
 * does not send the window's versions again.
 */
export async function restoreIdentity(
  history: History,
  topic: string,
  partition: number,
  graph: IdentityGraph,
  window: { fromTimeMs: number; upTo: bigint },
  reread: () => Promise<number>,
  held?: (eventId: string) => boolean,
): Promise<{ stats: RestoreStats; known: Map<string, string>; signals: number }> {
  const restore = new IdentityRestore(graph, window.upTo);
  await history.read(topic, partition, 0, undefined, (m) => restore.add(m));
  restore.before(window.fromTimeMs);
  const signals = await reread();
  return { ...restore.finish(held), signals };
}

/**
 * `restoreIdentity` in steps, for a caller that reads several partitions' identity records and signals with one
 * reader, and knows the window's start only after reading them (the correlate role's rebuild): `add` each record
 * of the partition from its start, `before(fromTimeMs)` once they are all read (the records of signals older than
 * the window go into the graph), re-read the window's signals, then `finish`.
 */
export class IdentityRestore {
  readonly stats: RestoreStats = { records: 0, before: 0, after: 0, ahead: 0, unreadable: 0 };
  private readonly known = new Map<string, string>();
  private records: IdentityRecord[] = [];
  private later: IdentityRecord[] = [];
  private newestMs = -Infinity;
  private sincePrune = 0;

  /** With `merged`: the facts this restore put in the graph (the others came from other partitions' records). */
  private readonly mine = new WeakSet<IdentityFact>();
  private readonly merged: boolean;
  private readonly fromTimeMs: number | undefined;

  /**
   * `merged`: the graph also holds (or will hold) other partitions' records, as `seam identity explain --from kafka`
   * builds one graph of every partition's. An assert that the version of its key holding at its start already says,
   * from another partition's record, is not applied (`apply`), and `finish` returns no `known` (it is per partition).
   * `fromTimeMs`: the window's start, known before the records are read: `add` applies each record as it comes instead
   * of holding every decoded record until `before` (which then only prunes; its argument is ignored).
   */
  constructor(
    private readonly graph: IdentityGraph,
    private readonly upTo: bigint,
    opts: { merged?: boolean; fromTimeMs?: number } = {},
  ) {
    this.merged = opts.merged ?? false;
    this.fromTimeMs = opts.fromTimeMs;
  }

  /**
   * Applies a restored fact. Merging partitions, a fact another partition already holds is skipped, as one graph
   * fed both partitions' events skips an assert that the current version already says (`FactContext.assert`): a
   * CloudTrail event shared between two accounts (a cross-account AssumeRole, in the caller's trail and the role
   * owner's) is in both accounts' partitions, with the same key and start and another provenance (the copy's event
   * id), and would otherwise become a second version of the same session, credential and assumed_by edges.
   */
  private apply(f: IdentityFact): boolean {
    if (this.merged && f.op === 'assert') {
      const cur = this.graph.store.at(f.key, timeMs(f.valid_from, 0));
      if (cur !== undefined && !this.mine.has(cur.fact) && sameFact(cur, f)) return false;
    }
    const changed = this.graph.applyFact(f);
    if (changed && this.merged) this.mine.add(f);
    return changed;
  }

  private readonly applyFact = (f: IdentityFact): boolean => this.apply(f);

  add(m: ConsumedMessage): void {
    const stats = this.stats;
    stats.records++;
    const r = decodeIdentityRecord(m.value);
    if (r === undefined) {
      stats.unreadable++;
      return;
    }
    if (r.signal !== undefined && BigInt(r.signal.offset) >= this.upTo) {
      stats.ahead++;
      return;
    }
    if (!this.merged) this.known.set(r.doc.id, sameness(r));
    if (this.fromTimeMs === undefined) this.records.push(r);
    else this.applyBefore(r, this.fromTimeMs);
  }

  /** One record in topic order: applied when its signal is older than `fromTimeMs` (or it has none), else kept for `finish`. */
  private applyBefore(r: IdentityRecord, fromTimeMs: number): void {
    if (r.signal !== undefined && r.signal.ms >= fromTimeMs) this.later.push(r);
    else if (restoreRecord(this.applyFact, this.graph.store, r)) this.stats.before++;
    // Old records include versions that closed long ago: prune as the graph would have, by event time.
    const t = Date.parse(r.fact.valid_from);
    if (t > this.newestMs) this.newestMs = t;
    if (++this.sincePrune >= PRUNE_EVERY_RECORDS) {
      this.sincePrune = 0;
      this.graph.prune(expiryNowMs(this.newestMs));
    }
  }

  /** Applies, in topic order, the records of signals older than `fromTimeMs` (and of none); keeps the others for `finish`. */
  before(fromTimeMs: number): void {
    for (const r of this.records) this.applyBefore(r, fromTimeMs);
    this.graph.prune(expiryNowMs(this.newestMs));
    this.records = [];
  }

  /** After the window's signals are re-read: what they did not derive again. */
  finish(held?: (eventId: string) => boolean): { stats: RestoreStats; known: Map<string, string> } {
    for (const r of this.later) {
      if (held?.(r.fact.provenance)) continue;
      const open = r.closed_by !== undefined && held?.(r.closed_by) ? { ...r, closed_by: undefined } : r;
      if (restoreRecord(this.applyFact, this.graph.store, open as IdentityRecord)) this.stats.after++;
    }
    this.later = [];
    return { stats: this.stats, known: this.known };
  }
}
