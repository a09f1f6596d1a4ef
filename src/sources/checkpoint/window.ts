import { digestId, type IdDigest } from './digest.ts';
import type { Checkpoint, StoredCheckpoint } from './store.ts';

/**
 * The read window behind a collector's watermark — pure logic, no I/O. Each poll reads
 * [watermark − lookback, now]; an id already seen in that window is skipped, so late-ingested
 * records are caught and nothing at the cursor millisecond is emitted twice. After a poll's records
 * are durable the watermark moves to the poll's end and ids older than the new window are forgotten.
 * The window holds and compares digests of the ids (`digestId`), as the checkpoint stores them; a version-1
 * checkpoint (full ids) is digested on load, so it is honoured as it was.
 */
export interface WindowOptions {
  lookbackMs: number;
  /** Where a collector without a checkpoint starts (ms since epoch). */
  initialStartMs: number;
  /** Longest span read in one poll, so a long catch-up proceeds in chunks and the seen set stays bounded. */
  maxWindowMs: number;
  /**
   * Two-tier re-read (ADR 0061): most polls re-read only this far behind the watermark (at most `lookbackMs`); the whole
   * lookback is re-read when `fullLookbackEveryMs` has passed since the last full re-read that completed (and on the
   * first poll). Unset: every poll re-reads the whole lookback.
   */
  recentLookbackMs?: number;
  fullLookbackEveryMs?: number;
}

export class ReadWindow {
  private seen: Map<number, Set<IdDigest>>;
  watermarkMs: number;

  constructor(
    cp: StoredCheckpoint | undefined,
    private readonly opts: WindowOptions,
  ) {
    this.watermarkMs = cp?.watermarkMs ?? opts.initialStartMs;
    this.seen = seenOf(cp);
    // No checkpoint means a fresh start: nothing before initialStartMs is wanted, so no lookback yet.
    this.fresh = cp === undefined;
  }

  private fresh: boolean;
  /** When the last full re-read of the lookback that completed started (in memory: a restart begins with one). */
  private fullAt = -Infinity;

  /**
   * The time range of the next poll, both ends inclusive (as FilterLogEvents treats them); `full` when it re-reads the
   * whole lookback (call `completed(range)` once the poll's last page is durable).
   */
  range(nowMs: number): { startMs: number; endMs: number; full: boolean } {
    const { recentLookbackMs, fullLookbackEveryMs } = this.opts;
    const full = recentLookbackMs === undefined || fullLookbackEveryMs === undefined || recentLookbackMs >= this.opts.lookbackMs || nowMs - this.fullAt >= fullLookbackEveryMs;
    const behind = full ? this.opts.lookbackMs : recentLookbackMs;
    const startMs = this.fresh ? this.watermarkMs : Math.max(0, this.watermarkMs - behind);
    const endMs = Math.max(startMs, Math.min(nowMs, startMs + this.opts.maxWindowMs));
    return { startMs, endMs, full };
  }

  /** The poll of `range(nowMs)` is done (its last page durable): a full re-read counts from `nowMs`. */
  completed(r: { full: boolean }, nowMs: number): void {
    if (r.full) this.fullAt = nowMs;
  }

  /** True until the window has a checkpoint (read from the store or adopted after a write). */
  get isFresh(): boolean {
    return this.fresh;
  }

  /**
   * Bounds a resume: a window whose watermark is older than `floorMs` (the collector was down, or behind, longer
   * than its max catch-up) moves so that its next range starts at `floorMs`. Returns the event time skipped unread —
   * (old watermark, floorMs): everything up to the old watermark was read — or undefined when nothing is skipped.
   * A fresh window (no checkpoint) starts where it was told to and is never moved. The move is kept in memory only:
   * the next checkpoint written carries it.
   */
  skipBefore(floorMs: number): { fromMs: number; toMs: number } | undefined {
    if (this.fresh || this.watermarkMs >= floorMs) return undefined;
    const fromMs = this.watermarkMs;
    this.watermarkMs = floorMs + this.opts.lookbackMs;
    // Ids of the old window are older than the new one: forget them (next() would too).
    for (const t of this.seen.keys()) if (t < floorMs) this.seen.delete(t);
    return { fromMs, toMs: floorMs };
  }

  /** Whether the id of digest `id` (`digestId`) was emitted at `tsMs`. */
  has(id: IdDigest, tsMs: number): boolean {
    return this.seen.get(tsMs)?.has(id) === true;
  }

  /** Records an id (its digest) as emitted (call only once its record is durable, or build the next checkpoint first). */
  add(id: IdDigest, tsMs: number): void {
    let s = this.seen.get(tsMs);
    if (s === undefined) this.seen.set(tsMs, (s = new Set()));
    s.add(id);
  }

  /** The checkpoint after adding `ids` (digests), optionally moving the watermark to `toMs`; does not change this window. */
  next(ids: { id: IdDigest; tsMs: number }[], toMs?: number, now = new Date()): Checkpoint {
    const watermarkMs = toMs === undefined ? this.watermarkMs : Math.max(this.watermarkMs, toMs);
    const floor = watermarkMs - this.opts.lookbackMs;
    const seen: Record<string, string[]> = {};
    for (const [t, s] of this.seen) if (t >= floor) seen[String(t)] = [...s];
    for (const { id, tsMs } of ids) {
      if (tsMs < floor) continue;
      const k = String(tsMs);
      const list = seen[k] ?? (seen[k] = []);
      if (!list.includes(id)) list.push(id);
    }
    return { v: 2, watermarkMs, seen, savedAt: now.toISOString() };
  }

  /** Adopts a checkpoint that has just been made durable (or reloaded: then it may be a version-1 one). */
  adopt(cp: StoredCheckpoint): void {
    this.fresh = false;
    this.watermarkMs = cp.watermarkMs;
    this.seen = seenOf(cp);
  }

  get seenCount(): number {
    let n = 0;
    for (const s of this.seen.values()) n += s.size;
    return n;
  }
}

/** A checkpoint's seen ids as digests: version 2 stores digests, version 1 the ids themselves (digested here). */
function seenOf(cp: StoredCheckpoint | undefined): Map<number, Set<IdDigest>> {
  const out = new Map<number, Set<IdDigest>>();
  if (cp === undefined) return out;
  for (const [t, ids] of Object.entries(cp.seen)) out.set(Number(t), new Set(cp.v === 1 ? ids.map(digestId) : (ids as IdDigest[])));
  return out;
}
