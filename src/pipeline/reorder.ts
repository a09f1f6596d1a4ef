/**
 * Event-time order for the detect stage (ADR 0009): signals are held in a buffer and handed on in
 * (event time, `seam.id`) order once the watermark has passed them, so every path — embedded, Kafka
 * with any partition count, after a rebuild — feeds the identity graph, the native detections and the
 * correlations the same sequence. A signal that would sort before one already handed on is late: the
 * caller evaluates it at once and flags what it raises.
 */
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { isoMs } from '../core/time.ts';
import type { DetectStage } from './detect-stage.ts';

interface Held<T> {
  t: number;
  id: string;
  value: T;
}

const before = (a: { t: number; id: string }, b: { t: number; id: string }): boolean => a.t < b.t || (a.t === b.t && a.id < b.id);

/** A min-heap on (event time, id); `push` refuses what sorts before the last item released. */
export class ReorderBuffer<T> {
  private readonly heap: Held<T>[] = [];
  private readonly ids = new Map<string, number>();
  private last: { t: number; id: string } | undefined;

  get size(): number {
    return this.heap.length;
  }

  /** Event time of the oldest held item. */
  get oldestMs(): number | undefined {
    return this.heap[0]?.t;
  }

  /** Event time of the last item released, -Infinity before the first. */
  get releasedMs(): number {
    return this.last?.t ?? -Infinity;
  }

  /** Is an item with this id held? */
  holds(id: string): boolean {
    return this.ids.has(id);
  }

  /** Holds an item; false (not held) when it is late: it sorts before an item already released, or has no time. */
  push(t: number, id: string, value: T): boolean {
    if (!Number.isFinite(t)) return false;
    const item = { t, id, value };
    if (this.last !== undefined && !before(this.last, item)) return false;
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
    this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
    return true;
  }

  /** Every held item with event time at or before `watermarkMs`, in order. */
  releaseUpTo(watermarkMs: number): T[] {
    const out: T[] = [];
    while (this.heap.length > 0 && this.heap[0]!.t <= watermarkMs) out.push(this.pop());
    return out;
  }

  /** Everything held, in order (end of input). */
  drain(): T[] {
    return this.releaseUpTo(Infinity);
  }

  private pop(): T {
    const h = this.heap;
    const top = h[0]!;
    const end = h.pop()!;
    if (h.length > 0) {
      h[0] = end;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    const n = this.ids.get(top.id)! - 1;
    if (n === 0) this.ids.delete(top.id);
    else this.ids.set(top.id, n);
    this.last = { t: top.t, id: top.id };
    return top.value;
  }
}

/** One raw partition as the correlate role sees it (`src` = `topic/partition`). */
export interface RawPartitionView {
  src: string;
  /** It holds records (a partition that never had any cannot hold anything back). */
  hasData: boolean;
  /** Stage 1 has committed all of it, and has for the idle timeout. */
  idle: boolean;
}

/**
 * The watermark of one signals partition: the lowest progress over the raw partitions that still hold
 * something back, minus the allowed lateness. Progress comes from stage 1's marks (`ProgressMark`);
 * partitions with no records, and idle ones once this signals partition has been read past everything
 * stage 1 had produced when they were seen idle, do not count. When none counts the input is quiet,
 * and event time follows the wall clock (minus the lateness).
 */
export class ProgressClock {
  private readonly frontier = new Map<string, number>();

  constructor(readonly latenessMs: number) {}

  mark(src: string, t: number): void {
    if (t > (this.frontier.get(src) ?? -Infinity)) this.frontier.set(src, t);
  }

  /** Progress marked for a raw partition (-Infinity when none). */
  progressOf(src: string): number {
    return this.frontier.get(src) ?? -Infinity;
  }

  watermark(raw: readonly RawPartitionView[], consumedThrough: boolean, nowMs: number): { watermarkMs: number; quiet: boolean } {
    let w = Infinity;
    let active = false;
    for (const r of raw) {
      if (!r.hasData) continue;
      if (r.idle && consumedThrough) continue;
      active = true;
      const f = this.frontier.get(r.src) ?? -Infinity;
      if (f - this.latenessMs < w) w = f - this.latenessMs;
    }
    return active ? { watermarkMs: w, quiet: false } : { watermarkMs: nowMs - this.latenessMs, quiet: true };
  }
}

/**
 * The same order for a single stream (`seam replay --rules`, rule tests): the watermark is the newest
 * event time seen minus the lateness, and the end of input hands on the rest.
 */
export class OrderedStage {
  private readonly buffer = new ReorderBuffer<SeamEvent>();
  private newest = -Infinity;
  late = 0;

  constructor(
    readonly stage: DetectStage,
    private readonly latenessMs: number,
  ) {}

  process(event: SeamEvent): Alert[] {
    const t = isoMs(event['@timestamp']);
    if (!this.buffer.push(t, event.seam.id, event)) {
      this.late++;
      return markLate(this.stage.process(event));
    }
    if (t > this.newest) this.newest = t;
    const out: Alert[] = [];
    for (const e of this.buffer.releaseUpTo(this.newest - this.latenessMs)) out.push(...this.stage.process(e));
    return out;
  }

  flush(): Alert[] {
    const out: Alert[] = [];
    for (const e of this.buffer.drain()) out.push(...this.stage.process(e));
    out.push(...this.stage.flush());
    return out;
  }
}

/** Alerts raised by evidence that arrived after the watermark had passed it (ADR 0009). */
export function markLate(alerts: Alert[]): Alert[] {
  for (const a of alerts) a.late = true;
  return alerts;
}
