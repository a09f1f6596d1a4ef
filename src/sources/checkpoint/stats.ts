import { Counters } from '../../core/counters.ts';

/**
 * Upper bounds (s) of the ingestion delay histogram (CloudWatch Logs' `ingestionTime` − the event's own time): fine
 * around the default lookback (300 s) and the 15 min CloudTrail is sometimes late, coarse beyond.
 */
export const INGEST_DELAY_BUCKETS_S = [1, 5, 15, 30, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600] as const;

/** One log group's ingestion delays: counts per bucket of INGEST_DELAY_BUCKETS_S (not cumulative) and above the last. */
export interface DelayHistogram {
  counts: number[];
  over: number;
  sumS: number;
  count: number;
  maxMs: number;
}

/**
 * What a collector reports beyond the common counters: records flagged truncated, duplicates skipped
 * by the lookback window, lag (now − newest event time read) and events per second emitted over the
 * last minute.
 */
export class CollectorStats {
  readonly counters: Counters;
  truncated = 0;
  duplicatesSkipped = 0;
  newestEventMs: number | undefined;
  private readonly buckets = new Map<number, number>(); // second → events emitted
  /** When this process last saved each checkpoint (by log group or detector), or started owning it. */
  readonly checkpointAtMs = new Map<string, number>();
  /**
   * Event time skipped unread, by log group (or detector): the collector resumed, or fell, further behind than its
   * `maxCatchUpMs` and moved on to now − maxCatchUpMs (src/sources/checkpoint/catch-up.ts). Never silent: also a WARN line.
   */
  readonly gaps = new Map<string, { ms: number; windows: number }>();
  /** How far behind now each log group's (or detector's) last read ended, by name: 0 when it reads up to now. */
  readonly behindMs = new Map<string, number>();
  /** Ingestion delay of each event emitted, by log group (each event once: the lookback's re-reads are not measured again). */
  readonly ingestDelay = new Map<string, DelayHistogram>();
  /** Events emitted that were older than the previous poll's end, by log group: caught only thanks to the lookback (ADR 0061). */
  readonly lateIngested = new Map<string, number>();
  /** Events emitted whose ingestion delay was above 80 % of the lookback, by log group: near a loss (ADR 0061). */
  readonly nearLookback = new Map<string, number>();
  /** Bytes of the last checkpoint written, by log group (or detector), where the store limits them (Kafka). */
  readonly checkpointBytes = new Map<string, number>();
  /** Checkpoints written above 80 % of the checkpoint topic's max.message.bytes, by log group (or detector): near a stop (checkpoint-size.ts). */
  readonly checkpointNearLimit = new Map<string, number>();
  /** Whether the collector's start (detectors listed, writers created, checkpoints read) has succeeded. */
  started = false;
  /** Start attempts that failed, and the last one's reason (src/sources/start-retry.ts). */
  startFailures = 0;
  lastStartError: string | undefined;

  constructor(component: string) {
    this.counters = new Counters(component);
  }

  emitted(n: number, nowMs = Date.now()): void {
    this.counters.emitted += n;
    const s = Math.floor(nowMs / 1000);
    this.buckets.set(s, (this.buckets.get(s) ?? 0) + n);
    for (const k of this.buckets.keys()) if (k < s - 60) this.buckets.delete(k);
  }

  checkpointed(name: string, nowMs = Date.now()): void {
    this.checkpointAtMs.set(name, nowMs);
  }

  gap(name: string, ms: number): void {
    const g = this.gaps.get(name) ?? { ms: 0, windows: 0 };
    g.ms += ms;
    g.windows++;
    this.gaps.set(name, g);
  }

  /** An event emitted that CloudWatch Logs ingested `delayMs` after its own time. */
  ingested(name: string, delayMs: number): void {
    let h = this.ingestDelay.get(name);
    if (h === undefined) this.ingestDelay.set(name, (h = { counts: INGEST_DELAY_BUCKETS_S.map(() => 0), over: 0, sumS: 0, count: 0, maxMs: 0 }));
    const ms = Math.max(0, delayMs);
    const i = INGEST_DELAY_BUCKETS_S.findIndex((b) => ms <= b * 1000);
    if (i < 0) h.over++;
    else h.counts[i]!++;
    h.sumS += ms / 1000;
    h.count++;
    if (ms > h.maxMs) h.maxMs = ms;
  }

  sawEventAt(tsMs: number): void {
    if (this.newestEventMs === undefined || tsMs > this.newestEventMs) this.newestEventMs = tsMs;
  }

  snapshot(nowMs = Date.now()): ReturnType<Counters['snapshot']> & { truncated: number; duplicatesSkipped: number; lagMs: number | null; eventsPerSec: number; started: boolean; startFailures: number; lastStartError?: string; checkpointAgeMs?: Record<string, number>; gapMs?: Record<string, number>; skippedWindows?: Record<string, number>; behindMs?: Record<string, number>; maxIngestDelayMs?: Record<string, number>; lateIngested?: Record<string, number>; nearLookback?: Record<string, number>; checkpointBytes?: Record<string, number>; checkpointNearLimit?: Record<string, number> } {
    const s = Math.floor(nowMs / 1000);
    let n = 0;
    let oldest = s;
    for (const [k, v] of this.buckets) {
      if (k >= s - 60) {
        n += v;
        oldest = Math.min(oldest, k);
      }
    }
    const span = Math.max(1, s - oldest + 1);
    return {
      ...this.counters.snapshot(),
      truncated: this.truncated,
      duplicatesSkipped: this.duplicatesSkipped,
      lagMs: this.newestEventMs === undefined ? null : Math.max(0, nowMs - this.newestEventMs),
      eventsPerSec: n / span,
      started: this.started,
      startFailures: this.startFailures,
      ...(this.lastStartError === undefined || this.started ? {} : { lastStartError: this.lastStartError }),
      ...(this.checkpointAtMs.size === 0 ? {} : { checkpointAgeMs: Object.fromEntries([...this.checkpointAtMs].map(([k, at]) => [k, Math.max(0, nowMs - at)])) }),
      ...(this.gaps.size === 0
        ? {}
        : { gapMs: Object.fromEntries([...this.gaps].map(([k, g]) => [k, g.ms])), skippedWindows: Object.fromEntries([...this.gaps].map(([k, g]) => [k, g.windows])) }),
      ...(this.behindMs.size === 0 ? {} : { behindMs: Object.fromEntries(this.behindMs) }),
      ...(this.ingestDelay.size === 0 ? {} : { maxIngestDelayMs: Object.fromEntries([...this.ingestDelay].map(([k, h]) => [k, h.maxMs])) }),
      ...(this.lateIngested.size === 0 ? {} : { lateIngested: Object.fromEntries(this.lateIngested) }),
      ...(this.nearLookback.size === 0 ? {} : { nearLookback: Object.fromEntries(this.nearLookback) }),
      ...(this.checkpointBytes.size === 0 ? {} : { checkpointBytes: Object.fromEntries(this.checkpointBytes) }),
      ...(this.checkpointNearLimit.size === 0 ? {} : { checkpointNearLimit: Object.fromEntries(this.checkpointNearLimit) }),
    };
  }
}
