/**
 * Sigma correlation engine (spec v2.1): event_count, value_count, temporal, temporal_ordered,
 * value_sum, value_avg, value_percentile, with group-by, aliases, correlations of correlations and
 * true sliding windows in event time.
 *
 * Semantics (docs/alerts.md has the long form):
 * - A window is `timespan` long, inclusive at both ends, and may start at any signal: a burst that
 *   straddles a clock boundary fires like any other.
 * - Time is event time. The watermark is the highest event time seen minus `allowedLatenessMs`;
 *   signals older than the watermark are dropped as late (counted), anything newer is placed in
 *   event-time order, so arrival order within the lateness does not change what fires.
 *   temporal_ordered counts signals of equal event time as in order whichever came first.
 *   Quiet input (`quietTo`, the wall clock) closes only judged windows, and makes signals older than it
 *   late only for judged correlations, whose finals it produced (ADR 0009, amendment 2026-12-07).
 * - Growing aggregates (counts, distinct values, rules seen, ordered chains, sums) with only
 *   lower bounds (gt, gte) fire as soon as a window satisfies them. Any other condition (upper
 *   bounds, eq, neq, averages, shares) is judged once per window, when the watermark passes the
 *   window's end; windows start at each signal in turn.
 * - Re-fire policy: the signals of a window that fired are consumed (removed from the group), so
 *   they never contribute to another alert of the same correlation; the next alert needs new
 *   signals. A judged window that fails because its aggregate is too small drops only its first
 *   signal and the window slides on (later signals may still complete it). A growing aggregate
 *   that fails otherwise (over an upper bound, equal to `neq`) drops the whole window, because any
 *   window sliding inside it is a fragment of the same burst. Averages and shares always slide.
 * - State per group is the signals inside the window plus the lateness; a group is deleted when
 *   its last signal leaves. Memory grows with active groups and with the signals a window holds,
 *   never with the stream's length.
 * - A GuardDuty finding is one signal, whatever its versions (ADR 0046, amended 2026-12-05): GuardDuty
 *   republishes a finding with the same id and a later `updatedAt` while its activity repeats. A later
 *   version of a finding the group holds (same referenced rule) replaces the held one, in place of adding
 *   a signal; once the finding left the group (its window fired, or it was evicted), its later versions
 *   are not new signals while each comes within the timespan of the one before. A finding quiet for longer
 *   than the timespan counts again when it is next updated.
 */
import type { Principal, SeamEvent } from '../../core/envelope.ts';
import type { CorrelationDoc, Diagnostic, RuleMatch } from '../sigma/types.ts';
import { resolveField } from '../sigma/fields.ts';
import { buildAlert, describeEvent, eventTimeMs, fieldValueText, nativeIdOf, whereOf, type Contribution } from '../alert.ts';
import { findingVersionOf } from '../finding.ts';
import type { Alert, AlertInput } from '../alert.ts';
import { createAggregate } from './aggregate.ts';
import type { Aggregate, Verdict } from './aggregate.ts';
import { compileCorrelations, suppressedRuleIds, tooSmall } from './compile.ts';
import type { RuleLookup } from './compile.ts';
import { Deadlines } from './deadlines.ts';
import type { CompiledCorrelation } from './types.ts';

export interface CorrelationEngineOptions {
  /** How far behind the newest event time a signal may arrive and still count. Default 0. */
  allowedLatenessMs?: number;
  /** Resolves rule references (id or name) of correlation documents to detection rules. */
  ruleLookup: RuleLookup;
  /**
   * Rule tests only: also return the alerts of correlations that a referencing correlation withholds
   * (`generate` not set), so a nested correlation can be tested on its own. Default false.
   */
  emitWithheld?: boolean;
  /** Open groups one correlation may hold; signals that would open more are dropped and counted (`dropped.group_limit`). Default 100,000. */
  maxGroupsPerCorrelation?: number;
}

export const DEFAULT_MAX_GROUPS = 100_000;

export interface CorrelationStats {
  correlations: number;
  /** Groups holding at least one signal, over all correlations. */
  activeGroups: number;
  /** Signals held in windows, over all groups. */
  bufferedSignals: number;
  /** Signals that left the window without firing. */
  evictedSignals: number;
  /** Groups deleted because their last signal left the window. */
  evictedGroups: number;
  /** Correlation windows that fired (including those of suppressed nested correlations). */
  fired: number;
  /** Alerts returned to the caller. */
  emitted: number;
  dropped: { late: number; missing_group_field: number; missing_value: number; bad_time: number; group_limit: number; duplicate: number; finding_version: number };
  /** Later versions of a GuardDuty finding that replaced the version a group held (ADR 0046). */
  replacedFindingVersions: number;
  /** Current watermark (ms since the epoch), -Infinity before the first event. */
  watermarkMs: number;
  /** How far quiet input closed the judged correlations' windows (`quietTo`), -Infinity before any quiet spell. */
  closedMs: number;
}

/** A rule match or a nested correlation's alert, as a correlation sees it. */
interface Signal {
  key: string;
  t: number;
  start: number;
  ids: readonly string[];
  nativeIds: readonly string[];
  principal: Principal | undefined;
  account: string | undefined;
  cluster: string | undefined;
  /** The (last) event, for field lookups. */
  event: SeamEvent | undefined;
  /** Group-by values of a nested correlation's alert, looked up before the event. */
  group: Record<string, string> | undefined;
  derived: boolean;
  /** Every event behind it was a server-side dry run (`seam.dry_run`, a nested alert's `dry_run`). */
  dryRun: boolean;
  /** The GuardDuty finding id the signal is a version of (ADR 0046): the signal's key within a group. */
  finding?: string;
}

interface Entry {
  t: number;
  seq: number;
  r: number;
  v: string | number | undefined;
  sig: Signal;
}

interface Chain {
  start: number;
  entries: Entry[];
}

interface Group {
  key: string;
  values: Record<string, string>;
  /** Signals in event-time order (ties: arrival order). */
  buf: Entry[];
  maxT: number;
  agg: Aggregate;
  /** Early mode: the aggregate covers buf[lo..]. Judged mode: it covers buf[0..lo). */
  lo: number;
  /** temporal_ordered: best partial chain per stage (latest start wins). */
  chains: (Chain | undefined)[];
  /** Deadline currently in the heap (event time at which buf[0] leaves the window). */
  due: number;
  dead: boolean;
}

/**
 * Where a GuardDuty finding stands in a group (ADR 0046): the time of its newest version seen, and the entry that
 * counted it (event time, sequence number, `seam.id`), held in the group's buffer until it fires or is evicted.
 */
interface FindingMark {
  t: number;
  at: number;
  seq: number;
  id: string;
}

interface State {
  c: CompiledCorrelation;
  groups: Map<string, Group>;
  /**
   * Group key, rule reference and finding id → its mark, oldest refreshed first (Map order). Outlives the group:
   * a finding whose window fired stays counted. Forgotten once the watermark is a timespan past it.
   */
  findings: Map<string, FindingMark>;
}

const byTime = (a: Entry, b: Entry): number => a.t - b.t || a.seq - b.seq;

/** Judged once per window when it closes (upper bounds, eq, neq, averages, shares), not as soon as satisfied. */
const judged = (c: CompiledCorrelation): boolean => c.type !== 'temporal_ordered' && !c.early;

/** First index whose entry is not before (t, seq) — binary search on the sorted buffer. */
function lowerBound(buf: readonly Entry[], t: number, seq = -Infinity): number {
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = buf[mid]!;
    if (e.t < t || (e.t === t && e.seq < seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where the entry (t, seq) is in the group's buffer, or -1 (fired or evicted). */
function indexOf(g: { buf: readonly Entry[] }, t: number, seq: number): number {
  const i = lowerBound(g.buf, t, seq);
  return g.buf[i]?.seq === seq ? i : -1;
}

/** Whether the group holds the match of rule reference `r` on event `id` at time `t` (entries are sorted by time). */
function heldAlready(g: { buf: readonly Entry[] }, t: number, r: number, id: string): boolean {
  for (let i = lowerBound(g.buf, t); i < g.buf.length && g.buf[i]!.t === t; i++) {
    const e = g.buf[i]!;
    if (e.r === r && e.sig.ids.length === 1 && e.sig.ids[0] === id) return true;
  }
  return false;
}

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

export class CorrelationEngine {
  readonly diagnostics: Diagnostic[];
  readonly correlations: readonly CompiledCorrelation[];
  private readonly lateness: number;
  private readonly states: State[] = [];
  /** Rule or correlation id → the correlations that refer to it, with its index in their `rules`. */
  private readonly refs = new Map<string, { s: State; r: number }[]>();
  private readonly suppressed: Set<string>;
  private readonly emitWithheld: boolean;
  /** Groups of correlations that fire as soon as satisfied (growing aggregates, temporal_ordered): deadlines are evictions only. */
  private readonly heap = new Deadlines<{ s: State; g: Group }>();
  /** Groups of judged correlations (upper bounds, eq, neq, averages, shares): deadlines are their windows' finals. */
  private readonly judgedHeap = new Deadlines<{ s: State; g: Group }>();
  /** Correlations holding finding marks (most hold none: `advance` looks at these only). */
  private readonly marked = new Set<State>();
  private maxT = -Infinity;
  private wm = -Infinity;
  /**
   * How far quiet input has closed the judged correlations' windows (`quietTo`): at or after `wm`, their finals are out,
   * and a signal older than it is late for them. The others keep to `wm`, event time (ADR 0009, amendment 2026-12-07).
   */
  private closed = -Infinity;
  private seq = 0;
  private counters = {
    evictedSignals: 0,
    evictedGroups: 0,
    fired: 0,
    emitted: 0,
    dropped: { late: 0, missing_group_field: 0, missing_value: 0, bad_time: 0, group_limit: 0, duplicate: 0, finding_version: 0 },
    replacedFindingVersions: 0,
  };

  private readonly maxGroups: number;

  constructor(docs: readonly CorrelationDoc[], opts: CorrelationEngineOptions) {
    this.lateness = Math.max(0, opts.allowedLatenessMs ?? 0);
    this.maxGroups = opts.maxGroupsPerCorrelation ?? DEFAULT_MAX_GROUPS;
    const { correlations, diagnostics } = compileCorrelations(docs, opts.ruleLookup);
    this.diagnostics = diagnostics;
    this.correlations = correlations;
    for (const c of correlations) {
      const s: State = { c, groups: new Map(), findings: new Map() };
      this.states.push(s);
      c.rules.forEach((id, r) => {
        const list = this.refs.get(id) ?? [];
        list.push({ s, r });
        this.refs.set(id, list);
      });
    }
    this.suppressed = suppressedRuleIds(docs, opts.ruleLookup);
    this.emitWithheld = opts.emitWithheld === true;
  }

  /** True when alerts of this rule or correlation id are withheld (referenced, `generate` not set). */
  isSuppressed(id: string): boolean {
    return this.suppressed.has(id);
  }

  /** Feeds one rule match; returns the correlation alerts it completes (and any the watermark closes). */
  onMatch(match: RuleMatch): Alert[] {
    const out: Alert[] = [];
    const { rule, event } = match;
    if (!this.refs.has(rule.id)) return out;
    const t = eventTimeMs(event);
    if (Number.isNaN(t)) {
      this.counters.dropped.bad_time++;
      return out;
    }
    const nid = nativeIdOf(event);
    const sig: Signal = {
      key: rule.id,
      t,
      start: t,
      ids: [event.seam.id],
      nativeIds: nid === undefined ? [] : [nid],
      principal: event.seam.principal,
      account: event.seam.account,
      cluster: event.seam.cluster,
      event,
      group: undefined,
      derived: false,
      dryRun: event.seam.dry_run === true,
    };
    const finding = event.seam.source === 'guardduty' ? findingVersionOf(event)?.id : undefined;
    if (finding !== undefined) sig.finding = finding;
    this.feed(sig, out);
    this.advance(t, out);
    return out;
  }

  /** Moves event time forward (call it for every event, matched or not); returns alerts of windows that closed. */
  advanceTo(eventTimeMs: number): Alert[] {
    const out: Alert[] = [];
    this.advance(eventTimeMs, out);
    return out;
  }

  /**
   * The input is quiet and time follows the wall clock to `t` (the correlate role, ADR 0009): judges the windows of
   * judged correlations (upper bounds, eq, neq, averages, shares) that end before `t` less the lateness, as
   * `advanceTo(t)` would, so their finals come out while nothing arrives. It does not move event time: correlations
   * that fire as soon as satisfied (growing aggregates, temporal_ordered) have no final to wait for, so they keep their
   * state, and older signals that arrive after the quiet spell (a replay, a collector catching up, the next chunk of a
   * backlog) still count in them unless they are older than the newest event time seen less the lateness. A judged
   * correlation's final is out, so a signal older than the quiet clock is late for it (counted, `dropped.late`).
   */
  quietTo(t: number): Alert[] {
    const out: Alert[] = [];
    const w = t - this.lateness;
    if (!(w > this.closed)) return out;
    this.closed = w;
    this.drain(out);
    return out;
  }

  /** End of input: judges every open window as if time had run out, then drops all state. */
  flush(): Alert[] {
    const out: Alert[] = [];
    this.wm = Infinity;
    this.drain(out);
    return out;
  }

  stats(): CorrelationStats {
    let activeGroups = 0;
    let bufferedSignals = 0;
    for (const s of this.states) {
      activeGroups += s.groups.size;
      for (const g of s.groups.values()) bufferedSignals += g.buf.length;
    }
    return {
      correlations: this.states.length,
      activeGroups,
      bufferedSignals,
      evictedSignals: this.counters.evictedSignals,
      evictedGroups: this.counters.evictedGroups,
      fired: this.counters.fired,
      emitted: this.counters.emitted,
      dropped: { ...this.counters.dropped },
      replacedFindingVersions: this.counters.replacedFindingVersions,
      watermarkMs: this.wm,
      closedMs: this.closed,
    };
  }

  private advance(t: number, out: Alert[]): void {
    if (!(t > this.maxT)) return;
    this.maxT = t;
    this.wm = t - this.lateness;
    this.drain(out);
    this.forgetFindings();
  }

  /** Drops finding marks a timespan behind the watermark: any version still to come is further than that from them. */
  private forgetFindings(): void {
    if (this.marked.size === 0) return;
    for (const s of this.marked) {
      for (const [k, m] of s.findings) {
        if (m.t + s.c.timespanMs >= this.wm) break;
        s.findings.delete(k);
      }
      if (s.findings.size === 0) this.marked.delete(s);
    }
  }

  /** Handles every group whose oldest signal has left its window at the current watermark (judged ones: or the quiet clock). */
  private drain(out: Alert[]): void {
    this.drainHeap(this.heap, this.wm, out);
    this.drainHeap(this.judgedHeap, Math.max(this.wm, this.closed), out);
  }

  private drainHeap(heap: Deadlines<{ s: State; g: Group }>, wm: number, out: Alert[]): void {
    while (heap.size > 0 && heap.peek() < wm) {
      const { at, item } = heap.pop()!;
      const { s, g } = item;
      if (g.dead || at !== g.due) continue; // rescheduled since
      g.due = Infinity;
      this.expire(s, g, wm, out);
      this.schedule(s, g);
    }
  }

  private feed(sig: Signal, out: Alert[]): void {
    for (const { s, r } of this.refs.get(sig.key) ?? []) this.ingest(s, r, sig, out);
  }

  private ingest(s: State, r: number, sig: Signal, out: Alert[]): void {
    const c = s.c;
    // Nested correlation alerts are stamped with their last event's time, which a judged window
    // may report after the watermark passed it: they are late by construction, not by delivery.
    if (!sig.derived && (sig.t < this.wm || (judged(c) && sig.t < this.closed))) {
      this.counters.dropped.late++;
      return;
    }
    const values: Record<string, string> = {};
    const parts: string[] = [];
    const fields = c.groupFields[r]!;
    for (let i = 0; i < c.groupBy.length; i++) {
      const v = this.lookup(sig, fields[i]!);
      if (v === undefined) {
        this.counters.dropped.missing_group_field++;
        return;
      }
      values[c.groupBy[i]!] = v;
      parts.push(v);
    }
    let v: string | number | undefined;
    if (c.type === 'value_count' || c.type === 'value_percentile' || c.type === 'value_sum' || c.type === 'value_avg') {
      const vs: string[] = [];
      for (const f of c.valueFields[r]!) {
        const x = this.lookup(sig, f);
        if (x === undefined) break;
        vs.push(x);
      }
      if (vs.length !== c.valueFields[r]!.length) {
        this.counters.dropped.missing_value++;
        return;
      }
      if (c.type === 'value_sum' || c.type === 'value_avg') {
        v = vs[0] === '' ? NaN : Number(vs[0]);
        if (!Number.isFinite(v)) {
          this.counters.dropped.missing_value++;
          return;
        }
      } else v = vs.length === 1 ? vs[0] : JSON.stringify(vs);
    }
    const key = JSON.stringify(parts);
    let g = s.groups.get(key);
    const fk = sig.finding === undefined || sig.derived ? undefined : `${key}\n${r}\n${sig.finding}`;
    if (fk !== undefined) {
      const m = s.findings.get(fk);
      if (m !== undefined && Math.abs(sig.t - m.t) <= c.timespanMs) {
        const i = g === undefined ? -1 : indexOf(g, m.at, m.seq);
        if (i < 0 || sig.t <= m.at) {
          // Fired or evicted (a later version keeps it counted), or an older version than the one held.
          if (sig.ids[0] === m.id) this.counters.dropped.duplicate++;
          else this.counters.dropped.finding_version++;
          if (i < 0 && sig.t > m.t) {
            m.t = sig.t;
            s.findings.delete(fk);
            s.findings.set(fk, m);
          }
          return;
        }
        this.withdraw(s, g!, i, out);
        this.counters.replacedFindingVersions++;
      }
    }
    if (g === undefined) {
      // Grouping by a field that is unique per event must not grow state without end.
      if (s.groups.size >= this.maxGroups) {
        this.counters.dropped.group_limit++;
        return;
      }
      g = { key, values, buf: [], maxT: -Infinity, agg: createAggregate(c.type), lo: 0, chains: [], due: Infinity, dead: false };
      s.groups.set(key, g);
    }
    // A second copy of one event (the same seam.id, so the same event time): a trail read both from S3 and through
    // EventBridge, or CloudTrail beside Security Lake's copy (ADR 0041). Counted once, or a count reaches its
    // threshold on half the events.
    if (!sig.derived && sig.ids.length === 1 && heldAlready(g, sig.t, r, sig.ids[0]!)) {
      this.counters.dropped.duplicate++;
      return;
    }
    const e: Entry = { t: sig.t, seq: this.seq++, r, v, sig };
    if (fk !== undefined) {
      s.findings.delete(fk);
      s.findings.set(fk, { t: e.t, at: e.t, seq: e.seq, id: sig.ids[0]! });
      this.marked.add(s);
    }
    if (c.type === 'temporal_ordered') this.insertOrdered(s, g, e, out);
    else if (c.early) this.insertEarly(s, g, e, out);
    else this.insertJudged(g, e);
    this.schedule(s, g);
  }

  private lookup(sig: Signal, field: string): string | undefined {
    const fromGroup = sig.group?.[field];
    if (fromGroup !== undefined) return fromGroup;
    if (sig.event === undefined) return undefined;
    const found = resolveField(sig.event, field);
    if (found.length === 0) return undefined;
    if (found.length === 1) return scalar(found[0]!.v);
    const all = found.map((x) => scalar(x.v)).filter((x): x is string => x !== undefined);
    return all.length === 0 ? undefined : JSON.stringify(all);
  }

  private insert(g: Group, e: Entry): number {
    if (e.t >= g.maxT) {
      g.buf.push(e);
      g.maxT = e.t;
      return g.buf.length - 1;
    }
    const i = lowerBound(g.buf, e.t, e.seq);
    g.buf.splice(i, 0, e);
    return i;
  }

  /** Takes buf[i] out of the group (a GuardDuty finding's version that a later one replaces), keeping the aggregate in step. */
  private withdraw(s: State, g: Group, i: number, out: Alert[]): void {
    const e = g.buf[i]!;
    g.buf.splice(i, 1);
    if (s.c.type === 'temporal_ordered') {
      // Partial chains may run through it: find them again without it (nothing completes that did not before).
      this.rescanOrdered(s, g, out);
    } else if (s.c.early) {
      // The aggregate covers buf[lo..].
      if (i >= g.lo) g.agg.remove(e);
      else g.lo--;
    } else if (i < g.lo) {
      // The aggregate covers buf[0..lo).
      g.agg.remove(e);
      g.lo--;
    }
  }

  /** Early mode: fire as soon as a window holding `e` satisfies the (lower-bound) condition. */
  private insertEarly(s: State, g: Group, e: Entry, out: Alert[]): void {
    const c = s.c;
    const T = c.timespanMs;
    const inOrder = e.t >= g.maxT;
    const idx = this.insert(g, e);
    if (inOrder) {
      // The trailing window [e.t - T, e.t] is the largest window that holds e: check it alone.
      g.agg.add(e);
      while (g.lo < g.buf.length && g.buf[g.lo]!.t < e.t - T) g.agg.remove(g.buf[g.lo++]!);
      const verdict = g.agg.check(c.condition);
      if (verdict !== undefined) {
        const fired = g.buf.splice(g.lo);
        g.agg.reset();
        this.fire(s, g, fired, verdict, out);
      }
      return;
    }
    // Late within the lateness: try each window [a.t, a.t + T] that starts at or before e and reaches it.
    const agg = createAggregate(c.type);
    const from = lowerBound(g.buf, e.t - T);
    let j = from;
    for (let i = from; i <= idx; i++) {
      const end = g.buf[i]!.t + T;
      while (j < g.buf.length && g.buf[j]!.t <= end) agg.add(g.buf[j++]!);
      const verdict = agg.check(c.condition);
      if (verdict !== undefined) {
        const fired = g.buf.splice(i, j - i);
        this.fire(s, g, fired, verdict, out);
        break;
      }
      agg.remove(g.buf[i]!);
    }
    // Rebuild the trailing aggregate for the next in-order signal.
    g.agg.reset();
    g.lo = lowerBound(g.buf, g.maxT - T);
    for (let k = g.lo; k < g.buf.length; k++) g.agg.add(g.buf[k]!);
  }

  /** Judged mode: just place the signal; windows are judged when the watermark passes their end. */
  private insertJudged(g: Group, e: Entry): void {
    const idx = this.insert(g, e);
    if (idx === 0 && g.buf.length > 1) {
      // A new earliest signal starts an earlier window: the covered prefix no longer applies.
      g.agg.reset();
      g.lo = 0;
    } else if (idx < g.lo) {
      g.agg.add(e);
      g.lo++;
    }
  }

  /**
   * temporal_ordered: keep, per stage, the chain with the latest start; a full chain fires.
   *
   * Signals with the same event time count as in order whichever came first: event times cannot
   * tell them apart (CloudTrail's are to the second, and a script makes both calls in one), and
   * the ordered path hands ties on in `seam.id` order, which is random. So a signal that arrives at
   * the group's newest time may complete chains through signals of later stages already held at
   * that same time; those are stepped again (see `stepTies`).
   */
  private insertOrdered(s: State, g: Group, e: Entry, out: Alert[]): void {
    const inOrder = e.t >= g.maxT;
    const tie = e.t === g.maxT;
    this.insert(g, e);
    if (inOrder) {
      let done = this.step(s.c, g, e);
      if (done === undefined && tie) done = this.stepTies(s.c, g, e);
      if (done === undefined) return;
      this.consume(g, done.entries);
      this.fire(s, g, done.entries, { value: s.c.rules.length }, out);
    }
    this.rescanOrdered(s, g, out);
  }

  /**
   * After `e` was stepped at the group's newest time: steps again the held signals of later stages
   * at that time, once per stage that may follow, so a chain running through them in any arrival
   * order is found. Returns a completed chain, if any.
   */
  private stepTies(c: CompiledCorrelation, g: Group, e: Entry): Chain | undefined {
    const n = c.rules.length;
    if (e.r === n - 1) return undefined;
    const later: Entry[] = [];
    for (let i = lowerBound(g.buf, e.t); i < g.buf.length; i++) {
      const x = g.buf[i]!;
      if (x !== e && x.r > e.r) later.push(x);
    }
    return this.stepBatch(c, g, later, n - 1 - e.r);
  }

  /** Steps `batch` (signals of one event time) `passes` times; a chain through them in any order needs one pass per link. */
  private stepBatch(c: CompiledCorrelation, g: Group, batch: readonly Entry[], passes: number): Chain | undefined {
    const times = Math.min(passes, batch.length);
    for (let p = 0; p < times; p++) {
      for (const x of batch) {
        const done = this.step(c, g, x);
        if (done !== undefined) return done;
      }
    }
    return undefined;
  }

  private step(c: CompiledCorrelation, g: Group, e: Entry): Chain | undefined {
    const n = c.rules.length;
    if (e.r === 0) g.chains[0] = { start: e.t, entries: [e] };
    else {
      const prev = g.chains[e.r - 1];
      if (prev === undefined || e.t - prev.start > c.timespanMs) return undefined;
      const cur = g.chains[e.r];
      if (cur === undefined || prev.start >= cur.start) g.chains[e.r] = { start: prev.start, entries: [...prev.entries, e] };
    }
    if (e.r !== n - 1) return undefined;
    const done = g.chains[n - 1];
    g.chains[n - 1] = undefined;
    return done;
  }

  /** Replays the group's signals in event-time order (after a late signal or a fire); signals of one time as a batch in any order. */
  private rescanOrdered(s: State, g: Group, out: Alert[]): void {
    const n = s.c.rules.length;
    for (;;) {
      g.chains = [];
      let done: Chain | undefined;
      for (let i = 0; i < g.buf.length && done === undefined; ) {
        let j = i + 1;
        while (j < g.buf.length && g.buf[j]!.t === g.buf[i]!.t) j++;
        done = j === i + 1 ? this.step(s.c, g, g.buf[i]!) : this.stepBatch(s.c, g, g.buf.slice(i, j), n);
        i = j;
      }
      if (done === undefined) return;
      this.consume(g, done.entries);
      this.fire(s, g, done.entries, { value: s.c.rules.length }, out);
    }
  }

  private consume(g: Group, entries: readonly Entry[]): void {
    const gone = new Set(entries);
    g.buf = g.buf.filter((x) => !gone.has(x));
  }

  /** Called when the watermark `wm` passes buf[0].t + T: judge closed windows (judged mode), evict. */
  private expire(s: State, g: Group, wm: number, out: Alert[]): void {
    const c = s.c;
    const T = c.timespanMs;
    if (judged(c)) {
      while (g.buf.length > 0 && g.buf[0]!.t + T < wm) {
        const end = g.buf[0]!.t + T;
        while (g.lo < g.buf.length && g.buf[g.lo]!.t <= end) g.agg.add(g.buf[g.lo++]!);
        const verdict = g.agg.check(c.condition);
        if (verdict !== undefined) {
          const window = g.buf.slice(0, g.lo);
          const fired = verdict.only === undefined ? window : window.filter((x) => x.v === verdict.only);
          this.consume(g, fired);
          g.agg.reset();
          g.lo = 0;
          this.fire(s, g, fired, verdict, out);
        } else if (c.type !== 'value_avg' && c.type !== 'value_percentile' && !tooSmall(c.condition, g.agg.value())) {
          this.counters.evictedSignals += g.lo;
          g.buf.splice(0, g.lo);
          g.agg.reset();
          g.lo = 0;
        } else {
          g.agg.remove(g.buf[0]!);
          g.buf.shift();
          g.lo--;
          this.counters.evictedSignals++;
        }
      }
      return;
    }
    let n = 0;
    while (n < g.buf.length && g.buf[n]!.t + T < wm) n++;
    if (n === 0) return;
    const gone = g.buf.splice(0, n);
    this.counters.evictedSignals += n;
    if (c.type === 'temporal_ordered') {
      g.chains = g.chains.map((ch) => (ch !== undefined && ch.start + T < wm ? undefined : ch));
    } else {
      for (let k = 0; k < gone.length; k++) if (k >= g.lo) g.agg.remove(gone[k]!);
      g.lo = Math.max(0, g.lo - n);
    }
  }

  private schedule(s: State, g: Group): void {
    const first = g.buf[0];
    if (first === undefined) {
      if (!g.dead) {
        g.dead = true;
        s.groups.delete(g.key);
        this.counters.evictedGroups++;
      }
      return;
    }
    const due = first.t + s.c.timespanMs;
    if (due === g.due) return;
    g.due = due;
    (judged(s.c) ? this.judgedHeap : this.heap).push(due, { s, g });
  }

  private fire(s: State, g: Group, entries: readonly Entry[], verdict: Verdict, out: Alert[]): void {
    const c = s.c;
    this.counters.fired++;
    const sorted = [...entries].sort(byTime);
    const last = sorted[sorted.length - 1]!.sig;
    const input: AlertInput = {
      rule: { id: c.id, title: c.title, level: c.level as AlertInput['rule']['level'], tags: [...c.tags], type: 'correlation', correlation_type: c.type },
      contributions: sorted.map((x) => contributionOfSignal(x)),
      summary: this.summary(c, g, sorted, verdict),
      triage: c.triage,
      group: { ...g.values },
      windowed: true,
      aggregate: verdict.value,
    };
    if (last.principal !== undefined) input.principal = last.principal;
    if (last.account !== undefined) input.account = last.account;
    if (last.cluster !== undefined) input.cluster = last.cluster;
    const alert = buildAlert(input);
    const fields = correlationFields(c, sorted);
    if (fields !== undefined) alert.fields = fields;
    if (this.emitWithheld || !this.suppressed.has(c.id)) {
      out.push(alert);
      this.counters.emitted++;
    }
    if (this.refs.has(c.id)) {
      this.feed(
        {
          key: c.id,
          t: last.t,
          start: sorted[0]!.sig.start,
          ids: alert.events,
          nativeIds: alert.native_ids,
          principal: last.principal,
          account: last.account,
          cluster: last.cluster,
          event: last.event,
          group: alert.group,
          derived: true,
          dryRun: alert.dry_run === true,
        },
        out,
      );
    }
  }

  private summary(c: CompiledCorrelation, g: Group, sorted: readonly Entry[], verdict: Verdict): string {
    const field = (c.field ?? []).join('+');
    const n = sorted.length;
    let what: string;
    switch (c.type) {
      case 'event_count':
        what = `${n} events`;
        break;
      case 'value_count':
        what = `${verdict.value} distinct ${field} in ${n} events`;
        break;
      case 'temporal':
        what = `${verdict.value} of ${c.rules.length} rules in ${n} events`;
        break;
      case 'temporal_ordered':
        what = `${c.rules.length} rules in order`;
        break;
      case 'value_sum':
        what = `sum(${field})=${round(verdict.value)} over ${n} events`;
        break;
      case 'value_avg':
        what = `avg(${field})=${round(verdict.value)} over ${n} events`;
        break;
      case 'value_percentile':
        what = `${field}=${verdict.only ?? ''} is ${round(verdict.value)}% of the group's events (${n} events)`;
        break;
    }
    const groupText = c.groupBy.length === 0 ? 'across all events' : 'by group ' + c.groupBy.map((k) => `${k}=${g.values[k]}`).join(' ');
    const lastEvent = sorted[sorted.length - 1]!.sig.event;
    const tail = lastEvent === undefined ? '' : `; last: ${describeEvent(lastEvent)}`;
    return `Correlation '${c.title}': ${what} ${groupText} within ${c.timespan}${tail}`;
  }
}

/** A held signal as a contribution; `where` from its (last) event, so the alert says where the last event came from. */
/** Distinct values of one field of interest a correlation alert lists at most; past it, a last `… N more` entry says how many were left out. */
const CORRELATION_FIELD_VALUES_MAX = 20;

/**
 * A correlation's `fields:` (Alert.fields) from every event it rests on: per field, its distinct values in event-time
 * order (each as a plain rule's alert holds it: text, cut at 1024 characters, scrubbed), one value as a string, several
 * as a list (at most CORRELATION_FIELD_VALUES_MAX). Read as group-by reads it: a nested correlation's group values
 * first, else the event's field, through the correlation's aliases for the rule that matched it. Undefined when none
 * has a value.
 */
function correlationFields(c: CompiledCorrelation, sorted: readonly Entry[]): Record<string, string | string[]> | undefined {
  if (c.fields === undefined || c.fieldPaths === undefined) return undefined;
  const out: Record<string, string | string[]> = {};
  c.fields.forEach((name, i) => {
    const seen = new Set<string>();
    for (const x of sorted) {
      const fromGroup = x.sig.group?.[name];
      const raw = fromGroup !== undefined ? [fromGroup] : x.sig.event === undefined ? [] : resolveField(x.sig.event, c.fieldPaths![x.r]![i]!).map((f) => f.v);
      for (const v of raw) if (v !== null && v !== undefined) seen.add(fieldValueText(v));
    }
    if (seen.size === 0) return;
    const values = [...seen];
    if (values.length === 1) out[name] = values[0]!;
    else if (values.length <= CORRELATION_FIELD_VALUES_MAX) out[name] = values;
    else out[name] = [...values.slice(0, CORRELATION_FIELD_VALUES_MAX), `… ${values.length - CORRELATION_FIELD_VALUES_MAX} more`];
  });
  return Object.keys(out).length > 0 ? out : undefined;
}

function contributionOfSignal(x: Entry): Contribution {
  const c: Contribution = { ids: x.sig.ids, nativeIds: x.sig.nativeIds, timeMs: x.t, startMs: x.sig.start };
  if (x.sig.dryRun) c.dryRun = true;
  const where = x.sig.event === undefined ? undefined : whereOf(x.sig.event);
  if (where !== undefined) c.where = where;
  return c;
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}
