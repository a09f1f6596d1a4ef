import type { Logger } from 'pino';
import type { CollectorStats } from './stats.ts';
import type { ReadWindow } from './window.ts';

export interface CatchUpOptions {
  /** How far behind now a collector resumes at most; what lies before that is skipped, counted and warned about. */
  maxCatchUpMs: number;
  lookbackMs: number;
  pollIntervalMs: number;
  /** At most one progress line per unit this often while it catches up. */
  progressEveryMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * How a checkpointed collector resumes after downtime (ADR 0060), per unit (a log group, a GuardDuty detector): from its
 * checkpoint, read forward in windows of at most maxPollWindowMs, so nothing in between is lost; but never from further
 * back than `maxCatchUpMs`. A window older than that is skipped — counted (`CollectorStats.gap`, the metrics
 * `seam_collector_gap_seconds_total` and `seam_collector_skipped_windows_total`) and logged at WARN with the unit and
 * the window's start and end — never silently. While a unit reads behind now, a progress line says how far behind it
 * is (INFO, at most every `progressEveryMs`), and one more says when it has caught up.
 */
export class CatchUp {
  /** Per unit: the end of the event time already counted as skipped (a failed write reloads an older checkpoint: not counted twice). */
  private readonly countedThrough = new Map<string, number>();
  private readonly lastProgress = new Map<string, number>();
  private readonly catchingUp = new Map<string, { sinceMs: number; fromMs: number }>();
  private readonly progressEveryMs: number;

  constructor(
    private readonly opts: CatchUpOptions,
    private readonly stats: CollectorStats,
    private readonly log: Logger,
  ) {
    this.progressEveryMs = opts.progressEveryMs ?? 30_000;
  }

  /** Before a poll: moves a window that would resume before now − maxCatchUpMs up to it; counts and warns about the skip. */
  bound(unit: string, fields: Record<string, unknown>, window: ReadWindow, nowMs: number): void {
    const skipped = window.skipBefore(nowMs - this.opts.maxCatchUpMs);
    if (skipped === undefined) return;
    const from = Math.max(skipped.fromMs, this.countedThrough.get(unit) ?? -Infinity);
    if (skipped.toMs <= from) return;
    this.countedThrough.set(unit, skipped.toMs);
    const ms = skipped.toMs - from;
    this.stats.gap(unit, ms);
    this.log.warn(
      { ...fields, windowStart: iso(from), windowEnd: iso(skipped.toMs), gapS: Math.round(ms / 1000), maxCatchUpMs: this.opts.maxCatchUpMs },
      `Skipping ${Math.round(ms / 1000)} s of events unread (${iso(from)} to ${iso(skipped.toMs)}): the checkpoint is further behind than maxCatchUpMs; reading resumes at ${iso(skipped.toMs)}. Counted in seam_collector_gap_seconds_total.`,
    );
  }

  /**
   * After a poll read [startMs, endMs]: records how far behind now it ended, and logs progress while the unit is
   * further behind than its lookback plus two poll intervals and a minute (a resume after downtime, a long catch-up in chunks).
   */
  progress(unit: string, fields: Record<string, unknown>, range: { startMs: number; endMs: number }, nowMs: number): void {
    const behindMs = Math.max(0, nowMs - range.endMs);
    this.stats.behindMs.set(unit, behindMs);
    const startBehindMs = nowMs - range.startMs;
    // A healthy poll starts about lookback + one poll interval back; the slack keeps slow polls from flapping.
    const behind = startBehindMs > this.opts.lookbackMs + 2 * this.opts.pollIntervalMs + 60_000;
    const was = this.catchingUp.get(unit);
    if (behind) {
      if (was === undefined) this.catchingUp.set(unit, { sinceMs: nowMs, fromMs: range.startMs });
      if (was === undefined || nowMs - (this.lastProgress.get(unit) ?? -Infinity) >= this.progressEveryMs) {
        this.lastProgress.set(unit, nowMs);
        this.log.info(
          { ...fields, readFrom: iso(range.startMs), readTo: iso(range.endMs), behindS: Math.round(behindMs / 1000), startBehindS: Math.round(startBehindMs / 1000) },
          `Catching up: reading ${iso(range.startMs)} to ${iso(range.endMs)}, ${Math.round(behindMs / 1000)} s behind now once this read is done.`,
        );
      }
    } else if (was !== undefined) {
      this.catchingUp.delete(unit);
      this.lastProgress.delete(unit);
      this.log.info(
        { ...fields, caughtUpFrom: iso(was.fromMs), tookS: Math.round((nowMs - was.sinceMs) / 1000) },
        `Caught up: read from ${iso(was.fromMs)} to now in ${Math.round((nowMs - was.sinceMs) / 1000)} s.`,
      );
    }
  }

  forget(unit: string): void {
    this.countedThrough.delete(unit);
    this.lastProgress.delete(unit);
    this.catchingUp.delete(unit);
    this.stats.behindMs.delete(unit);
  }
}
