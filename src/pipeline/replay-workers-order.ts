/**
 * The event-time order of a one-thread replay, kept when the events are spread over worker threads
 * (ADR 0018). One thread holds every event in one reorder buffer (ADR 0009): the watermark is the newest
 * event time seen minus the allowed lateness, over all accounts, and an event that sorts before one
 * already handed on is late (evaluated at once, its alerts flagged). A worker that saw only its own
 * tenants' events would have its own, lower watermark: fewer late events and other windows. So the main
 * thread runs the one-thread order over event times and ids alone (`OneThreadOrder`, first pass) and each
 * worker follows it (`FollowedOrder`): it hands its events on when the whole input's watermark passes
 * them, and treats as late exactly the events the one thread would.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { isoMs } from '../core/time.ts';
import type { Alert } from '../detect/alert.ts';
import type { DetectStage } from './detect-stage.ts';
import { markLate, ReorderBuffer, SeenIds } from './reorder.ts';

/** A record's `late` value (WorkerBatch) when the one thread drops it as a copy of an event already handed in (1: late, 0: in order). */
export const DUPLICATE = 2;

/** `OrderedStage`'s decisions without the events: (time, id) pairs in one buffer. */
export class OneThreadOrder {
  private readonly buffer = new ReorderBuffer<null>({ trackIds: false });
  private readonly due: null[] = [];
  private readonly seen = new SeenIds();
  private newest = -Infinity;
  /** The watermark after the last event (-Infinity before the first). */
  watermark = -Infinity;

  /**
   * The newest event time the detect stage has been handed (the time its windows and the native detections'
   * timers are at): the last event released. A late event is older by definition.
   */
  get clock(): number {
    return this.buffer.releasedMs;
  }

  constructor(private readonly latenessMs: number) {}

  /** Whether the one thread drops this event as a copy of one already handed in (`OrderedStage`: same `seam.id`); call before `push`. */
  repeat(id: string): boolean {
    return this.seen.repeat(id);
  }

  /** One event (its time and `seam.id`), in input order: true when the one thread finds it late. */
  push(t: number, id: string): boolean {
    if (!this.buffer.push(t, id, null)) return true;
    if (t > this.newest) this.newest = t;
    this.watermark = this.newest - this.latenessMs;
    this.buffer.releaseUpTo(this.watermark, this.due);
    this.due.length = 0;
    return false;
  }
}

/** A worker's share of the events, handed to the detect stage in the order `OneThreadOrder` decided. */
export class FollowedOrder {
  private readonly buffer = new ReorderBuffer<SeamEvent>({ trackIds: false });
  private readonly due: SeamEvent[] = [];
  private clock = -Infinity;

  constructor(readonly stage: DetectStage) {}

  /**
   * One event with the one-thread decisions: the watermark and the detect stage's clock before it (what
   * every account's events had moved them to), whether it is late, and the watermark after it. Time moves
   * the stage as other accounts' events moved it in one thread (their own matches and graph facts are in
   * other workers): the events due by then are handed on first, then the stage advances to the clock.
   */
  process(ev: SeamEvent, late: boolean, wmBefore: number, clockBefore: number, wmAfter: number, duplicate = false): Alert[] {
    const out: Alert[] = [];
    this.release(wmBefore, out);
    if (clockBefore > this.clock) {
      this.clock = clockBefore;
      for (const a of this.stage.advance(clockBefore)) out.push(a);
    }
    // A copy of an event already handed in, as the one thread judged it (`OneThreadOrder.repeat`): detected once.
    if (duplicate) {
      this.release(wmAfter, out);
      return out;
    }
    if (late || !this.buffer.push(isoMs(ev['@timestamp']), ev.seam.id, ev)) {
      for (const a of markLate(this.stage.process(ev))) out.push(a);
      return out;
    }
    this.release(wmAfter, out);
    return out;
  }

  flush(): Alert[] {
    const out: Alert[] = [];
    this.release(Infinity, out);
    for (const a of this.stage.flush()) out.push(a);
    return out;
  }

  private release(wm: number, out: Alert[]): void {
    const due = this.due;
    due.length = 0;
    this.buffer.releaseUpTo(wm, due);
    for (let i = 0; i < due.length; i++) for (const a of this.stage.process(due[i]!)) out.push(a);
  }
}
