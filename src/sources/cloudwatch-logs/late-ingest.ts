import type { Logger } from 'pino';
import type { CollectorStats } from '../checkpoint/stats.ts';

export interface LateIngestOptions {
  /** A delay above this share of the lookback is near a loss (default 0.8). */
  nearFraction?: number;
  /** At most one warning per log group this often (default 10 min). */
  warnEveryMs?: number;
}

/**
 * Events CloudWatch Logs ingests late (ADR 0061). Each poll reads [previous end − lookbackMs, now], so an event is read
 * for sure when it is ingested at most lookbackMs after its own time: the first poll that can see it may have started
 * just before it was ingested, so the poll interval adds nothing to that margin (it only sometimes saves an event up to
 * one interval later), and CloudWatch Logs' own delay before an ingested event is searchable takes from it. Later
 * than that, it is never read and nothing can count it. So: count the events the lookback caught (older than the
 * previous poll's end: `CollectorStats.lateIngested`) and those near the margin (delay above `nearFraction` of the
 * lookback: `nearLookback`), and warn, at most every `warnEveryMs` per log group, naming the largest delay and the
 * setting to raise.
 */
export class LateIngest {
  private readonly nearFraction: number;
  private readonly warnEveryMs: number;
  /** Per log group: when it was last warned about, and the largest delay near the lookback since. */
  private readonly warned = new Map<string, { atMs: number; maxMs: number; events: number }>();

  constructor(
    opts: LateIngestOptions,
    private readonly stats: CollectorStats,
    private readonly log: Logger,
  ) {
    this.nearFraction = opts.nearFraction ?? 0.8;
    this.warnEveryMs = opts.warnEveryMs ?? 10 * 60_000;
  }

  /**
   * After a page is durable: the ingestion delays of the events it emitted, and how many of them were older than the
   * previous poll's end (caught only thanks to the lookback), the group's lookback and the setting that sets it
   * (`collect.sources.<name>.lookbackMs`, or the group's own `...logGroups[i].lookbackMs`).
   */
  page(unit: string, fields: Record<string, unknown>, o: { delaysMs: number[]; late: number; lookbackMs: number; marginMs?: number; setting: string }, nowMs: number): void {
    const lookbackMs = o.lookbackMs;
    // With the two-tier re-read (the whole lookback only every fullLookbackEveryMs) an event is read for sure only within a shorter margin.
    const marginMs = Math.min(lookbackMs, o.marginMs ?? lookbackMs);
    const nearMs = marginMs * this.nearFraction;
    for (const d of o.delaysMs) this.stats.ingested(unit, d);
    if (o.late > 0) this.stats.lateIngested.set(unit, (this.stats.lateIngested.get(unit) ?? 0) + o.late);
    const near = o.delaysMs.filter((d) => d > nearMs);
    if (near.length === 0) return;
    this.stats.nearLookback.set(unit, (this.stats.nearLookback.get(unit) ?? 0) + near.length);
    const w = this.warned.get(unit) ?? { atMs: -Infinity, maxMs: 0, events: 0 };
    for (const d of near) if (d > w.maxMs) w.maxMs = d;
    w.events += near.length;
    this.warned.set(unit, w);
    if (nowMs - w.atMs < this.warnEveryMs) return;
    const maxS = Math.ceil(w.maxMs / 1000);
    const lookbackS = Math.round(lookbackMs / 1000);
    const sure = marginMs < lookbackMs ? ` (read for sure within ${Math.round(marginMs / 1000)} s: the whole lookback is re-read every fullLookbackEveryMs)` : '';
    // Later than the lookback and still read: the collector was behind (a first start, a catch-up) when it read them.
    const where =
      w.maxMs > lookbackMs
        ? `more than the lookback of ${lookbackS} s (read only because this read was behind now: while the collector keeps up, events that late are never read)`
        : `near the lookback of ${lookbackS} s${sure}: an event ingested later than the lookback is never read`;
    this.log.warn(
      { ...fields, maxIngestDelayS: maxS, lookbackMs, ...(marginMs < lookbackMs ? { marginMs } : {}), events: w.events, setting: o.setting },
      `Events of ${String(fields.logGroup)} are ingested up to ${maxS} s after their own time, ${where}. Raise ${o.setting} (counted in seam_collector_near_lookback_total).`,
    );
    this.warned.set(unit, { atMs: nowMs, maxMs: 0, events: 0 });
  }

  forget(unit: string): void {
    this.warned.delete(unit);
  }
}
