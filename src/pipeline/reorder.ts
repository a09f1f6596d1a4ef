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

/** Released items at the front of a run are dropped (one copy) once this many have piled up and they are most of it. */
const RUN_COMPACT_AT = 4096;
/** Sorted runs kept at most; an item that extends none of them goes to the heap. */
const MAX_RUNS = 16;

/** One sorted run, as three arrays read from `head` (no wrapper object per item). */
class Run<T> {
  t: number[] = [];
  id: string[] = [];
  v: (T | undefined)[] = [];
  head = 0;

  get empty(): boolean {
    return this.head === this.t.length;
  }

  /** Can (t, id) go at the end (it sorts at or after the newest item)? */
  fits(t: number, id: string): boolean {
    const n = this.t.length;
    if (n === this.head) return true;
    const lt = this.t[n - 1]!;
    return !(t < lt || (t === lt && id < this.id[n - 1]!));
  }

  push(t: number, id: string, value: T): void {
    if (this.head === this.t.length && this.head > 0) this.clear();
    this.t.push(t);
    this.id.push(id);
    this.v.push(value);
  }

  /** Takes the front item's value (the caller read its time and id). */
  shift(): T {
    const value = this.v[this.head] as T;
    this.v[this.head++] = undefined;
    const n = this.t.length;
    if (this.head === n) this.clear();
    else if (this.head >= RUN_COMPACT_AT && this.head * 2 >= n) {
      this.t = this.t.slice(this.head);
      this.id = this.id.slice(this.head);
      this.v = this.v.slice(this.head);
      this.head = 0;
    }
    return value;
  }

  private clear(): void {
    this.t.length = 0;
    this.id.length = 0;
    this.v.length = 0;
    this.head = 0;
  }
}

/**
 * Items in (event time, id) order; `push` refuses what sorts before the last item released.
 *
 * Input is mostly a few streams each in order (one per source, or sources a little apart): an item goes at
 * the end of the first of up to `MAX_RUNS` sorted runs it does not sort before (sorted arrays read from their
 * head, no sifting), and only items that extend no run go to a min-heap. Release takes the smallest of the
 * fronts (a run wins a tie with the heap, an earlier run one with a later), so the order is (time, id).
 */
export class ReorderBuffer<T> {
  private readonly runs: Run<T>[] = [new Run<T>()];
  private readonly heap: Held<T>[] = [];
  /** Held ids with their counts, for `holds` (the correlate role asks it while rebuilding); off for a single stream. */
  private readonly ids: Map<string, number> | undefined;
  private lastT = -Infinity;
  private lastId: string | undefined;

  constructor(opts: { trackIds?: boolean } = {}) {
    this.ids = opts.trackIds === false ? undefined : new Map();
  }

  get size(): number {
    let n = this.heap.length;
    for (const r of this.runs) n += r.t.length - r.head;
    return n;
  }

  /** Event time of the oldest held item. */
  get oldestMs(): number | undefined {
    let t = this.heap[0]?.t;
    for (const r of this.runs) if (!r.empty && (t === undefined || r.t[r.head]! < t)) t = r.t[r.head]!;
    return t;
  }

  /**
   * (Event time, id) of the last item released, undefined before the first: every item pushed that sorts at or
   * before it has been released (or refused by `push` as late).
   */
  get released(): { t: number; id: string } | undefined {
    return this.lastId === undefined ? undefined : { t: this.lastT, id: this.lastId };
  }

  /** Event time of the last item released, -Infinity before the first. */
  get releasedMs(): number {
    return this.lastT;
  }

  /** Is an item with this id held? */
  holds(id: string): boolean {
    if (this.ids !== undefined) return this.ids.has(id);
    for (const r of this.runs) for (let i = r.head; i < r.id.length; i++) if (r.id[i] === id) return true;
    return this.heap.some((h) => h.id === id);
  }

  /** Holds an item; false (not held) when it is late: it sorts before an item already released, or has no time. */
  push(t: number, id: string, value: T): boolean {
    if (!Number.isFinite(t)) return false;
    if (this.lastId !== undefined && !(this.lastT < t || (this.lastT === t && this.lastId < id))) return false;
    const runs = this.runs;
    let placed = false;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i]!;
      if (r.fits(t, id)) {
        r.push(t, id, value);
        placed = true;
        break;
      }
    }
    if (!placed) {
      if (runs.length < MAX_RUNS) {
        const r = new Run<T>();
        r.push(t, id, value);
        runs.push(r);
      } else this.heapPush({ t, id, value });
    }
    if (this.ids !== undefined) this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
    return true;
  }

  /** Every held item with event time at or before `watermarkMs`, in order (appended to `into`). */
  releaseUpTo(watermarkMs: number, into: T[] = []): T[] {
    const runs = this.runs;
    for (;;) {
      // The smallest run front: its run, time and id.
      let best: Run<T> | undefined;
      let t = Infinity;
      let id = '';
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i]!;
        if (r.head === r.t.length) continue;
        const rt = r.t[r.head]!;
        if (best === undefined || rt < t || (rt === t && r.id[r.head]! < id)) {
          best = r;
          t = rt;
          id = r.id[r.head]!;
        }
      }
      const h = this.heap[0];
      let value: T;
      if (best !== undefined && (h === undefined || !(h.t < t || (h.t === t && h.id < id)))) {
        if (t > watermarkMs) return into;
        value = best.shift();
      } else {
        if (h === undefined || h.t > watermarkMs) return into;
        this.heapPop();
        ({ t, id, value } = h);
      }
      if (this.ids !== undefined) {
        const c = this.ids.get(id)! - 1;
        if (c === 0) this.ids.delete(id);
        else this.ids.set(id, c);
      }
      this.lastT = t;
      this.lastId = id;
      into.push(value);
    }
  }

  /** Everything held, in order (end of input). */
  drain(): T[] {
    return this.releaseUpTo(Infinity);
  }

  private heapPush(item: Held<T>): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(item, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }

  private heapPop(): void {
    const h = this.heap;
    const end = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[m]!, end)) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = end;
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
 * Longest delivery delay (ms) the watermark allows an idle raw partition by default (`correlate.maxSourceDelayMs`):
 * CloudTrail's documented delivery is within about 15 minutes.
 */
export const DEFAULT_MAX_SOURCE_DELAY_MS = 900_000;

/**
 * The watermark of one signals partition: the lowest progress over the raw partitions that still hold
 * something back, minus the allowed lateness. Progress comes from stage 1's marks (`ProgressMark`). An idle
 * partition (once this signals partition has been read past everything stage 1 had produced when it was seen
 * idle) no longer counts at its progress but at the wall clock less the delay its last records came with (`mark`'s
 * `atMs` less their event time): a source that delivers minutes late and pauses between deliveries resumes that
 * late, and a busy plane's signals must not be handed on past the times it will deliver (ADR 0009, 5c). A delay over
 * `maxDelayMs` (a backfill of old records) leaves it out. A partition with no records, or idle with no delay of its
 * own, counts the same way at its source's delay (the newest delay of any partition of its raw topic) or, when no
 * partition of the source has delivered since the start, at the delay `expectedMs` gives its raw topic
 * (`correlate.sourceDelayMs`); with neither it is left out (a plane not deployed must not stop the others). When no
 * partition counts at its progress the input is quiet, and event time follows the wall clock (minus the lateness).
 */
export class ProgressClock {
  private readonly frontier = new Map<string, number>();
  /** Offset (in this signals partition) of the newest mark read for each raw partition. */
  private readonly markedAt = new Map<string, bigint>();
  /** How far behind stage 1's send the records of each raw partition's newest mark were (ms, ≥ 0). */
  private readonly delay = new Map<string, number>();
  /** The same per raw topic (source): the delay of the newest mark of any of its partitions. */
  private readonly topicDelay = new Map<string, number>();

  /**
   * `expectedMs`: by raw topic, the delivery delay to assume of a source none of whose partitions has delivered since
   * the start (ADR 0009, 5c; `correlate.sourceDelayMs`). A source not in it is left out until it delivers.
   */
  constructor(
    readonly latenessMs: number,
    readonly maxDelayMs = DEFAULT_MAX_SOURCE_DELAY_MS,
    readonly expectedMs: ReadonlyMap<string, number> = new Map(),
  ) {}

  /**
   * Stage 1's progress on raw partition `src`; `offset`: where in this signals partition the mark was read; `atMs`:
   * when stage 1 sent it (the message's timestamp); `fromMs`: event time of the oldest record the mark covers (its
   * batch's; default `t`). The newest mark's `atMs − fromMs` is the partition's delivery delay.
   */
  mark(src: string, t: number, offset?: bigint, atMs?: number, fromMs?: number): void {
    if (t > (this.frontier.get(src) ?? -Infinity)) {
      this.frontier.set(src, t);
      const from = fromMs !== undefined && Number.isFinite(fromMs) && fromMs <= t ? fromMs : t;
      if (atMs !== undefined && Number.isFinite(atMs)) {
        const d = Math.max(0, atMs - from);
        this.delay.set(src, d);
        this.topicDelay.set(topicOf(src), d);
      } else this.delay.delete(src);
    }
    if (offset !== undefined && !(offset <= (this.markedAt.get(src) ?? -1n))) this.markedAt.set(src, offset);
  }

  /**
   * Is a look at stage 1 too old to judge by? It leaves out a raw partition (no records, or idle) from which this
   * partition has read a mark at or after `signalsEnd` (the end of this partition after that look), or it does not
   * know a partition that sent one: that partition received records after the look, and others may have with it
   * (one delivery spread over the planes). Releasing on that look would hand its signals on before theirs; a new
   * look shows them (ADR 0009: the look that sees new records makes a partition active again).
   */
  staleLook(raw: readonly RawPartitionView[], signalsEnd: bigint): boolean {
    if (this.markedAt.size === 0) return false;
    const known = new Set<string>();
    for (const r of raw) {
      known.add(r.src);
      if ((!r.hasData || r.idle) && (this.markedAt.get(r.src) ?? -1n) >= signalsEnd) return true;
    }
    for (const [src, at] of this.markedAt) if (!known.has(src) && at >= signalsEnd) return true;
    return false;
  }

  /** Progress marked for a raw partition (-Infinity when none). */
  progressOf(src: string): number {
    return this.frontier.get(src) ?? -Infinity;
  }

  /** Delivery delay of a raw partition's newest mark (ms), undefined when none is known. */
  delayOf(src: string): number | undefined {
    return this.delay.get(src);
  }

  /**
   * Where a raw partition holds the watermark (event time, before the lateness): `active` at its progress, or, idle
   * or empty, at the wall clock less a delivery delay (`basis`: its own, its source's, or the one expected of its
   * source); undefined when it does not count.
   */
  private position(r: RawPartitionView, consumedThrough: boolean, nowMs: number): { at: number; active: boolean; basis?: DelayBasis; delayMs?: number } | undefined {
    const f = this.frontier.get(r.src) ?? -Infinity;
    if (r.hasData && !(r.idle && consumedThrough)) return { at: f, active: true };
    const observed = (d: number | undefined): boolean => d !== undefined && d <= this.maxDelayMs && this.maxDelayMs > 0;
    const own = r.hasData ? this.delay.get(r.src) : undefined;
    const topic = topicOf(r.src);
    let basis: DelayBasis;
    let d: number;
    if (own !== undefined) {
      if (!observed(own)) return undefined;
      [basis, d] = ['own', own];
    } else if (this.topicDelay.has(topic)) {
      const t = this.topicDelay.get(topic)!;
      if (!observed(t)) return undefined;
      [basis, d] = ['source', t];
    } else {
      const e = this.expectedMs.get(topic);
      if (e === undefined || !(e > 0)) return undefined;
      [basis, d] = ['expected', e];
    }
    // Never below its own progress: it has delivered everything up to there.
    return { at: Math.max(f, nowMs - d), active: false, basis, delayMs: d };
  }

  watermark(raw: readonly RawPartitionView[], consumedThrough: boolean, nowMs: number): { watermarkMs: number; quiet: boolean } {
    let w = Infinity;
    let active = false;
    for (const r of raw) {
      const p = this.position(r, consumedThrough, nowMs);
      if (p === undefined) continue;
      if (p.active) active = true;
      if (p.at - this.latenessMs < w) w = p.at - this.latenessMs;
    }
    return active ? { watermarkMs: w, quiet: false } : { watermarkMs: nowMs - this.latenessMs, quiet: true };
  }

  /**
   * The raw partition the watermark waits for (the lowest position among those `watermark` counts) and the newest
   * position among them: which partition holds alerts back, and how far it is behind the others (review-ops M9);
   * `idle`: it holds it at the wall clock less a delivery delay (`delayMs`), its own, its source's or the one
   * expected of its source (`basis`), and `empty` when it has no records. Undefined when none counts.
   */
  holder(
    raw: readonly RawPartitionView[],
    consumedThrough: boolean,
    nowMs: number,
  ): { src: string; progressMs: number; newestMs: number; idle: boolean; delayMs?: number; basis?: DelayBasis; empty?: boolean } | undefined {
    let best: { r: RawPartitionView; p: NonNullable<ReturnType<ProgressClock['position']>> } | undefined;
    let high = -Infinity;
    for (const r of raw) {
      const p = this.position(r, consumedThrough, nowMs);
      if (p === undefined) continue;
      if (best === undefined || p.at < best.p.at) best = { r, p };
      if (p.at > high) high = p.at;
    }
    if (best === undefined) return undefined;
    const { r, p } = best;
    return {
      src: r.src,
      progressMs: p.at,
      newestMs: high,
      idle: !p.active,
      ...(p.active ? {} : { delayMs: p.delayMs!, basis: p.basis! }),
      ...(r.hasData ? {} : { empty: true }),
    };
  }
}

/** Where the delay an idle or empty raw partition is held at comes from: its newest mark, its source's newest, or `correlate.sourceDelayMs`. */
export type DelayBasis = 'own' | 'source' | 'expected';

/** The raw topic of a `topic/partition` name. */
const topicOf = (src: string): string => {
  const i = src.lastIndexOf('/');
  return i < 0 ? src : src.slice(0, i);
};

/**
 * The same order for a single stream (`seam replay --rules`, rule tests): the watermark is the newest
 * event time seen minus the lateness, and the end of input hands on the rest.
 */
export class OrderedStage {
  private readonly buffer = new ReorderBuffer<SeamEvent>({ trackIds: false });
  /** Reused for the events each call releases. */
  private readonly due: SeamEvent[] = [];
  private readonly seen = new SeenIds();
  private newest = -Infinity;
  late = 0;
  /** Events dropped as copies of one already handed in (same `seam.id`), as the correlate role drops a redelivered signal. */
  duplicates = 0;

  constructor(
    readonly stage: DetectStage,
    readonly latenessMs: number,
  ) {}

  process(event: SeamEvent): Alert[] {
    // A record delivered twice (an organization trail and the account's own, S3 and EventBridge): detected once.
    if (this.seen.repeat(event.seam.id)) {
      this.duplicates++;
      return [];
    }
    const t = isoMs(event['@timestamp']);
    if (!this.buffer.push(t, event.seam.id, event)) {
      this.late++;
      return markLate(this.stage.process(event));
    }
    if (t > this.newest) this.newest = t;
    const out: Alert[] = [];
    const due = this.due;
    due.length = 0;
    this.buffer.releaseUpTo(this.newest - this.latenessMs, due);
    for (let i = 0; i < due.length; i++) {
      const alerts = this.stage.process(due[i]!);
      for (let j = 0; j < alerts.length; j++) out.push(alerts[j]!);
    }
    return out;
  }

  flush(): Alert[] {
    const out: Alert[] = [];
    for (const e of this.buffer.drain()) for (const a of this.stage.process(e)) out.push(a);
    for (const a of this.stage.flush()) out.push(a);
    return out;
  }
}

/**
 * Event ids already handed to detection, bounded: two generations of `max` ids (the older dropped when the newer
 * fills). A copy of an event (same `seam.id`) read again within them is a repeat: the replay paths drop it, as the
 * correlate role drops a signal whose id it has seen (`seenEvents`), so it raises no alert twice (review-de L6).
 */
export class SeenIds {
  private cur = new Set<string>();
  private old = new Set<string>();
  constructor(private readonly max = 200_000) {}
  /** True when the id was seen before; otherwise remembers it and returns false. */
  repeat(id: string): boolean {
    if (this.cur.has(id) || this.old.has(id)) return true;
    if (this.cur.size >= this.max) {
      this.old = this.cur;
      this.cur = new Set();
    }
    this.cur.add(id);
    return false;
  }
}

/** Alerts raised by evidence that arrived after the watermark had passed it (ADR 0009). */
export function markLate(alerts: Alert[]): Alert[] {
  for (const a of alerts) a.late = true;
  return alerts;
}
