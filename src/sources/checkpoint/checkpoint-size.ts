import type { Logger } from 'pino';
import { SeamError } from '../../core/errors.ts';
import type { CollectorStats } from './stats.ts';
import type { Checkpoint } from './store.ts';

export interface CheckpointSizeOptions {
  /** A checkpoint above this share of the limit is near it (default 0.8). */
  nearFraction?: number;
  /** At most one warning per unit this often (default 10 min). */
  warnEveryMs?: number;
}

/**
 * A collector's checkpoint holds every id (digest) seen in the lookback, so its size grows with the events per second
 * of a unit times its lookback. On Kafka the checkpoint is one message, and the broker refuses one over the topic's
 * max.message.bytes: the unit would stop (ADR 0061, amendment of session 37). Before each write the collector hands
 * the size here: it is kept (`CollectorStats.checkpointBytes`); above `nearFraction` of the limit it is counted
 * (`checkpointNearLimit`) and warned about at most every `warnEveryMs` per unit, naming the setting to lower; over the
 * limit the write is refused with SEAM_ERR_CHECKPOINT_TOO_LARGE, before anything is produced.
 */
export class CheckpointSize {
  private readonly nearFraction: number;
  private readonly warnEveryMs: number;
  private readonly warnedAt = new Map<string, number>();

  constructor(
    opts: CheckpointSizeOptions,
    private readonly stats: CollectorStats,
    private readonly log: Logger,
  ) {
    this.nearFraction = opts.nearFraction ?? 0.8;
    this.warnEveryMs = opts.warnEveryMs ?? 10 * 60_000;
  }

  /** Before writing `cp`: its `size` (bytes, and the store's limit), the unit's fields, its lookback and the setting that sets it. */
  check(unit: string, fields: Record<string, unknown>, cp: Checkpoint, size: { bytes: number; limitBytes: number }, o: { lookbackMs: number; setting: string }, nowMs: number): void {
    const { bytes, limitBytes } = size;
    this.stats.checkpointBytes.set(unit, bytes);
    if (bytes <= limitBytes * this.nearFraction) return;
    let seen = 0;
    for (const ids of Object.values(cp.seen)) seen += ids.length;
    const per = ` (${seen} ids seen in the ${Math.round(o.lookbackMs / 1000)} s lookback)`;
    if (bytes > limitBytes) {
      throw new SeamError(
        'SEAM_ERR_CHECKPOINT_TOO_LARGE',
        `The checkpoint of ${unit} takes ${bytes} bytes${per}, over the checkpoint topic's max.message.bytes of ${limitBytes}: nothing is written and ${unit} does not move on. Lower ${o.setting}.`,
        { details: { ...fields, bytes, limitBytes, lookbackMs: o.lookbackMs, setting: o.setting } },
      );
    }
    this.stats.checkpointNearLimit.set(unit, (this.stats.checkpointNearLimit.get(unit) ?? 0) + 1);
    if (nowMs - (this.warnedAt.get(unit) ?? -Infinity) < this.warnEveryMs) return;
    this.warnedAt.set(unit, nowMs);
    const pct = Math.round((bytes / limitBytes) * 100);
    this.log.warn(
      { ...fields, checkpointBytes: bytes, limitBytes, lookbackMs: o.lookbackMs, seen, setting: o.setting },
      `The checkpoint of ${unit} takes ${bytes} bytes${per}, ${pct} % of the checkpoint topic's max.message.bytes (${limitBytes}): over it the collector stops reading ${unit}. Lower ${o.setting} (counted in seam_collector_checkpoint_near_limit_total).`,
    );
  }

  forget(unit: string): void {
    this.warnedAt.delete(unit);
  }
}
