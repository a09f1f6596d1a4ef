import { BatchRevoked, revokedBy } from '../../bus/revoked.ts';
import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage, HandleContext } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { SeamError, stageThrew } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import type { Alert } from '../../detect/alert.ts';
import { alertNotices, findingHeaders, messageNotices, messageRevisionKey, noticeKey, revisionKey } from '../../detect/finding.ts';
import type { DetectStage } from '../detect-stage.ts';
import type { Detection } from '../detection.ts';
import type { History, HistoryRange } from '../history.ts';
import { IdentityPublisher, IdentityRestore } from '../identity-topic.ts';
import { UpstreamWatch, type Upstream } from '../progress.ts';
import { atOrBefore, decodeMark, encodeMark, laterMark, type SentMark } from '../sent-mark.ts';
import { DEFAULT_MAX_SOURCE_DELAY_MS, markLate, ProgressClock, ReorderBuffer } from '../reorder.ts';
import { EventBatcher } from '../event-route.ts';
import { ALERT_VERSION_HEADER, EarlyAlerts, earlyHints, messageVersion, unenrichedVersion, type AlertVersion, type Unenriched } from '../early.ts';
import { incidentMessages } from '../incident-topic.ts';
import { decodeSignalMessage, parseSpan, signalSpans } from '../signal.ts';
import type { PipelineTopics } from '../topics.ts';
import { defaultGroupId, dlqMessage, type Role } from './role.ts';

const log = childLogger('role.correlate');

export interface CorrelateRoleOptions {
  bus: Bus;
  topics: PipelineTopics;
  detection: Detection;
  history: History;
  groupId?: string;
  fromBeginning?: boolean;
  /**
   * Called for each alert once it is durable on `seam.alerts` (the console prints them), with the arrival time
   * (`seam.ingest.received_at`, ms) of the newest of its events this member still remembers (the alert
   * latency histogram, docs/metrics.md); undefined when it remembers none or they carry no arrival time.
   */
  onAlert?: (alert: Alert, info: AlertTiming) => void;
  /** Bound of the per-partition sets of seen event ids and emitted alert ids (least recently used forgotten first). */
  maxRemembered?: number;
  /**
   * `seam run --resume` (ADR 0044): native detection state an earlier run saved (pending first-use grants, by
   * detection id), put into each partition's state when it is rebuilt, before the re-read of signals.
   */
  nativeState?: Readonly<Record<string, readonly unknown[]>>;
  /** Where the line naming the raw partition that holds the watermark back goes (default: this role's INFO log; tests). */
  heldLog?: (fields: Record<string, unknown>, msg: string) => void;
  /** Test hook, called after a batch's alerts are produced and before its offset is committed. */
  afterProduce?: (batch: ConsumedMessage[]) => Promise<void>;
  /**
   * Event-time order (ADR 0009): where stage 1 stands on the raw topics. Signals are held per
   * partition and handed to the detect stage in (event time, `seam.id`) order once the watermark
   * passes them. Without it, signals are processed in arrival order (signals written by hand).
   */
  order?: {
    upstream: Upstream;
    /** A raw partition caught up this long no longer holds the watermark back (Infinity: never; embedded mode flushes at the end instead). */
    idleMs?: number;
    /** How often the upstream is looked at again, and held signals released when nothing arrives (0: at every batch, no timer). */
    pollMs?: number;
    /**
     * An idle raw partition holds the watermark at the wall clock less the delay its last records came with, up to this
     * delay (ms; default DEFAULT_MAX_SOURCE_DELAY_MS, 0: idle partitions do not hold it, ADR 0009 5c).
     */
    maxSourceDelayMs?: number;
    /**
     * Delivery delay (ms) to expect of each source none of whose raw partitions has delivered since the start (ADR
     * 0009, 5c; `correlate.sourceDelayMs`): its empty partitions hold the watermark at the wall clock less it, until
     * the source's own delay is known. A source not named does not hold the watermark until it delivers.
     */
    sourceDelayMs?: Readonly<Partial<Record<SourceType, number>>>;
  };
  /**
   * Early (provisional) alerts (ADR 0025, default on with `order`): a signal that arrives is matched at once
   * against the Sigma rules whose alert depends neither on order nor on the identity graph, and their alerts
   * go to `seam.alerts` marked `provisional` (not to `seam.incidents`), before the watermark hands the signal
   * on; the ordered path's alert, with the same id, replaces each. Embedded mode turns it off (a replay).
   */
  early?: boolean;
}

/** What the correlate role tells about an alert besides the alert itself (`onAlert`). */
export interface AlertTiming {
  newestIngestMs: number | undefined;
  /** `provisional`: an early alert (ADR 0025); `final`: the ordered path's. */
  version: AlertVersion;
  /**
   * Whether this is the first version of the alert this member made durable (false: the final of an early alert it
   * produced, a GuardDuty finding alert's later version, ADR 0046): the latency histograms time each alert once.
   */
  first: boolean;
  /**
   * A later version of a GuardDuty finding alert already out (ADR 0046) whose severity level did not rise above the
   * levels notified before: it updates the alert (index, `seam.alerts`) and is not a new alert. Absent otherwise.
   */
  update?: true;
}

/** A signal held for event-time order: the event and the signal message it came in (seam.identity, dead letters). */
interface Held {
  event: SeamEvent;
  ref: SignalRef;
  /** The bytes of the event's JSON up to its top-level `seam` value, when stage 1 said where that is (ADR 0026). */
  head?(): Uint8Array | undefined;
  /**
   * Re-read by a rebuild, and handed on before the committed offset by an earlier owner (it sorts at or before the
   * mark committed with that offset, src/pipeline/sent-mark.ts): its event and dead letter are out already and are
   * not sent again when it is handed on; everything else about it (state, alerts by id, identity) is as before.
   */
  emitted?: boolean;
}
type SignalRef = Omit<ConsumedMessage, 'value'>;
const NO_BYTES = Buffer.alloc(0);

/** Marks the stand-in event of a signal whose bytes are not a signal (its text, for the dead letter). */
const UNREADABLE = Symbol('unreadable signal');

/**
 * A signal of a message with spans (ADR 0023): held as its bytes, its event parsed when it is handed on, so
 * signals waiting for the watermark are not object graphs that survive garbage collections. Bytes that do
 * not parse give a stand-in event the stage never sees: `process` dead-letters it.
 */
class LazyHeld implements Held {
  private parsed: SeamEvent | undefined;
  emitted = false;
  constructor(
    private readonly bytes: Buffer,
    readonly ref: SignalRef,
    private readonly id: unknown,
    private readonly ts: unknown,
    private readonly eventAt = -1,
    private readonly seamAt = -1,
  ) {}

  head(): Uint8Array | undefined {
    return this.eventAt > 0 ? this.bytes.subarray(this.eventAt, this.seamAt) : undefined;
  }

  get event(): SeamEvent {
    this.parsed ??= parseSpan(this.bytes)?.event ?? ({ [UNREADABLE]: this.bytes.toString('utf8'), '@timestamp': this.ts, seam: { id: this.id } } as unknown as SeamEvent);
    return this.parsed;
  }

  /** The event parsed without keeping it (early alerts, ADR 0025: the held signal stays bytes), or undefined when it does not parse. */
  peek(): SeamEvent | undefined {
    return this.parsed ?? parseSpan(this.bytes)?.event;
  }
}

/** An event as a dead letter's `raw` (already normalized and redacted); never throws. */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

/** State of one `seam.signals` partition: all cross-plane state of the accounts keyed to it. */
interface PartitionState {
  stage: DetectStage;
  /** Next offset this state expects; anything else means the partition moved or a batch failed. */
  next: bigint;
  /** Event ids seen, each with its `seam.ingest.received_at` when it has one (the alert latency histogram). */
  seenEvents: Lru<string, string | true>;
  emitted: Lru<string, true>;
  /** Ids of provisional alerts produced (by this member, or found on `seam.alerts` on a rebuild), ADR 0025. */
  early: Lru<string, true>;
  /**
   * Early alerts whose final is not out yet, by their event's `seam.id` (ADR 0027): when the event is handed to
   * the stage and the final does not follow, or the member stops first, a closing version replaces each. A
   * rebuild adds those it finds on `seam.alerts`, other partitions' included (never handed to this stage).
   * `stopped`: a stopped member's version is already on `seam.alerts` (found by a rebuild): not produced again on stop.
   */
  awaiting: Map<string, { alert: Alert; stopped: boolean }[]>;
  /** Identity versions the stage changed, for `seam.identity` (ADR 0008). */
  identity: IdentityPublisher;
  /** After a rebuild: what `seam.identity` already says, so the first batch does not repeat it. */
  identityKnown?: Map<string, string>;
  /** Signals waiting for the watermark (ADR 0009), and the progress marks that move it. */
  buffer: ReorderBuffer<Held>;
  clock: ProgressClock;
  /** Signals handed to the stage so far. */
  processed: number;
  /** Event time the quiet stage was last advanced to. */
  advancedMs: number;
  /** Newest event time handed to the stage. */
  newestMs: number;
  /**
   * Signals the stage's Sigma correlations have dropped as late (older than their watermark), as last counted into
   * `stats.correlationLateDrops`: after a rebuild, what the rebuild's own replay dropped, so it is not counted twice.
   */
  lateDropsSeen: number;
  /** The watermark at the last release (event time, ms; -Infinity before the first): `seam_correlate_watermark_seconds`. */
  watermarkMs: number;
  /**
   * The buffer's last released (time, id) once what it covers has been sent (`seam.events`, alerts, dead letters):
   * every signal this state read that sorts at or before it has its output out. Committed with the offset
   * (`commitMetadata`), so the next rebuild does not send those events again.
   */
  sent?: SentMark;
  /**
   * The mark the rebuild found committed with `next` (an earlier owner's `sent`), kept while it still holds for this
   * state: until a signal read after the rebuild is held that sorts at or before it (its event is not out yet).
   */
  inherited?: SentMark;
  /** The mark the rebuild found (as `inherited`, but kept): what the signals read after the rebuild are compared to. */
  rebuilt?: SentMark;
  /**
   * The first (in order) signal read after the rebuild that sorts at or before `rebuilt`: the re-read signals flagged
   * `emitted` that sort after it are handed on after it here, so their annotation may differ from the copy the
   * earlier owner sent (its hand-over at stop sent held ones as its stage stood): their events go out again.
   */
  resendAfter?: SentMark;
}

/** A line naming the raw partition that holds the watermark back, at most this often (review-ops M9). */
const HELD_LOG_MS = 60_000;
/** A partition to rebuild: up to (not including) `upTo`, from `rebuildWindowMs` before `atMs` (the time of the message at `upTo`; looked up when absent). */
interface RebuildTarget {
  partition: number;
  upTo: bigint;
  atMs?: number;
}

/**
 * Stage 2: `seam.signals` → identity graph, native detections, Sigma rules and correlations →
 * `seam.alerts` keyed by alert id, and each signal's event, annotated with who acted, → `seam.events`
 * keyed by `seam.id` (ADR 0014: the index gets signals from here, not from stage 1). State is kept per signals partition, so it moves with the
 * partition: when a batch arrives for a partition this instance has no state for (start, or a
 * rebalance gave it the partition), or that does not follow on from the last batch (the partition
 * went away and came back, or a batch failed), the state is rebuilt by re-reading the partition from
 * `rebuildWindowMs` before the batch up to the batch, with alerts remembered but not produced: they
 * were produced before that offset was committed. A partition it owns with nothing left to read gets no
 * batch: the ticker (and an embedded flush) rebuilds it at its end offset instead (`adopt`). Event ids already seen are skipped, so a
 * redelivered signal is not counted twice by a correlation.
 */
export function createCorrelateRole(o: CorrelateRoleOptions): Role & { flush(): Promise<void>; nativeState(): Record<string, unknown[]> | undefined } {
  const counters = new Counters('role.correlate');
  const states = new Map<number, PartitionState>();
  /** Early alerts closed without their enriched final (ADR 0027), by reason: `seam_alerts_unenriched_total`. */
  const unenriched: Record<Unenriched, number> = { enrichment_failed: 0, not_confirmed: 0, member_stopped: 0 };
  /**
   * Partitions whose state is being rebuilt now: the role is not ready while any is (review-ops M1), and
   * `seam_correlate_rebuilding`; each rebuilt partition's rebuild time, s (`seam_correlate_rebuild_seconds`; the newest 10,000).
   */
  const inRebuild = new Set<number>();
  const rebuildSeconds: number[] = [];
  const stats = { messages: 0, alerts: 0, earlyAlerts: 0, earlyErrors: 0, earlySkipped: 0, events: 0, rebuilds: 0, rebuiltSignals: 0, suppressedOnRebuild: 0, eventsNotResent: 0, abandonedRebuilds: 0, duplicateSignals: 0, duplicateAlerts: 0, findingUpdates: 0, findingEscalations: 0, identityRecords: 0, restoredIdentity: 0, restoredIdentityAfter: 0, stageErrors: 0, lateSignals: 0, lateAlerts: 0, correlationLateDrops: 0, quietAdvances: 0, staleLooks: 0, handedOverEvents: 0, adopted: 0, released: 0 };
  const max = o.maxRemembered ?? 200_000;
  const lateness = o.detection.allowedLatenessMs;
  const watch = o.order === undefined ? undefined : new UpstreamWatch(o.order.upstream, o.order.idleMs ?? 10_000);
  /** `correlate.sourceDelayMs` by raw topic (ADR 0009, 5c). */
  const expectedDelays: ReadonlyMap<string, number> = new Map(
    Object.entries(o.order?.sourceDelayMs ?? {}).flatMap(([s, ms]) => (ms === undefined ? [] : [[o.topics.raw(s as SourceType), ms] as const])),
  );
  const pollMs = o.order?.pollMs ?? 1000;
  const groupId = o.groupId ?? defaultGroupId('correlate');
  /** Early alerts need the watermark's wait to be worth anything, and rules that qualify. */
  const earlyAlerts = o.early !== false && watch !== undefined && o.detection.ruleset !== undefined ? new EarlyAlerts(o.detection.ruleset, { driftCheckUsers: o.detection.driftCheckUsers }) : undefined;
  const early = earlyAlerts !== undefined && earlyAlerts.rules.size > 0 ? earlyAlerts : undefined;
  let producer: BusProducer | undefined;
  let consumer: BusConsumer | undefined;
  /** Partitions of `seam.events`: events are batched per partition (ADR 0019); 0 until the topic exists (one message per event). */
  let eventPartitions = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  /**
   * Aborted when a batch's heartbeat says the group takes this member's partitions away (a rebalance revokes all of
   * them): the batch, and a rebuild in flight (the ticker's adoption too), stop. Replaced at the next batch.
   */
  let revoked = new AbortController();
  // Batches and the ticker take turns: both change a partition's state and produce its alerts.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(f: () => Promise<T>): Promise<T> => {
    const run = turn.then(f, f);
    turn = run.catch(() => undefined);
    return run;
  };

  const fresh = (partition: number, next: bigint): PartitionState => {
    const stage = o.detection.newStage({ collectFacts: true });
    return {
      stage,
      next,
      seenEvents: boundedLru(max),
      emitted: boundedLru(max),
      early: boundedLru(max),
      awaiting: new Map(),
      identity: new IdentityPublisher(stage.native.graph, o.topics.identity, partition),
      buffer: new ReorderBuffer<Held>(),
      clock: new ProgressClock(lateness, o.order?.maxSourceDelayMs ?? DEFAULT_MAX_SOURCE_DELAY_MS, expectedDelays),
      processed: 0,
      advancedMs: -Infinity,
      newestMs: -Infinity,
      lateDropsSeen: 0,
      watermarkMs: -Infinity,
    };
  };

  /** Alerts, annotated events (for `seam.events`, ADR 0014) and dead letters of signals handed to the stage. */
  interface Out {
    alerts: Alert[];
    /** Provisional alerts of signals that arrived (ADR 0025). */
    early: Alert[];
    /** Signals of this batch that were held for the watermark (early alert candidates), and ids handed to the stage since. */
    arrived: { id: string; event: () => SeamEvent | undefined }[];
    handed: Set<string>;
    events: EventBatcher;
    dlq: BusMessage[];
  }
  const newOut = (): Out => ({ alerts: [], early: [], arrived: [], handed: new Set(), events: new EventBatcher(o.topics.events, eventPartitions, o.bus.partitionOf?.bind(o.bus)), dlq: [] });
  /** Hands one signal to the stage; adds its alerts not emitted before, or its dead letter, to `out`. */
  const process = (st: PartitionState, h: Held, late: boolean, out: Out): void => {
    const event = h.event;
    const ref = h.ref;
    const unreadable = (event as { [UNREADABLE]?: string })[UNREADABLE];
    if (unreadable !== undefined) {
      if (h.emitted === true) return; // dead-lettered before the committed offset
      const error = new SeamError('SEAM_ERR_INPUT_JSON', 'signal is not JSON with an event (its span in a seam.signals message)', { details: { topic: ref.topic, partition: ref.partition, offset: ref.offset } });
      counters.error(error.code);
      out.dlq.push(dlqMessage(o.topics, deadLetter('detect', error, unreadable), { ...ref, value: NO_BYTES }));
      return;
    }
    st.processed++;
    if (out.arrived.length > 0) out.handed.add(event.seam?.id);
    const t = Date.parse(event['@timestamp']);
    if (t > st.newestMs) st.newestMs = t;
    let raised: Alert[];
    let threw = false;
    try {
      raised = st.stage.process(event);
    } catch (e) {
      threw = true;
      // A record's content never stalls the partition: this event is dead-lettered, the rest goes on.
      const error = stageThrew('detect', e, { id: event.seam?.id, topic: ref.topic, partition: ref.partition, offset: ref.offset });
      counters.error(error.code);
      stats.stageErrors++;
      if (h.emitted !== true) out.dlq.push(dlqMessage(o.topics, deadLetter('detect', error, safeJson(event)), { ...ref, value: NO_BYTES }));
      raised = [];
    }
    // The event goes to the index as the graph annotated it (`seam.principal`, `seam.chain`,
    // `seam.origin`); one the stage threw on goes as far as it got, so the index still has it. The stage
    // writes under `seam` only: stage 1's bytes up to `seam`, then the annotated `seam` (ADR 0026), are
    // what JSON.stringify of the whole event gives.
    // A re-read signal an earlier owner handed on before its commit: its event is on seam.events already (and the
    // index has it, by id), annotated as it was then; again only when a signal read since sorts before it.
    if (h.emitted === true && !resent(st, t, event.seam?.id)) stats.eventsNotResent++;
    else {
      const head = h.head?.();
      const seam = head === undefined ? undefined : (JSON.stringify(event.seam) as string | undefined);
      out.events.add(event, head !== undefined && seam !== undefined ? { head, seam } : JSON.stringify(event));
    }
    if (late && raised.length > 0) {
      markLate(raised);
      stats.lateAlerts += raised.length;
    }
    st.identity.note(st.stage.drainFacts(), ref);
    out.alerts.push(...novel(st, raised));
    if (st.awaiting.size > 0) closeAwaiting(st, event, threw, out);
  };

  /**
   * The early alerts of an event just handed to the stage (ADR 0027): their final is normally among what the
   * stage raised. One it did not raise — the stage threw (the event is dead-lettered) or the ordered path did
   * not match the annotated event — would stay provisional for ever: its final version is the early content,
   * not provisional, with `unenriched` saying why. An alert, like any final: to `seam.incidents` too.
   */
  const closeAwaiting = (st: PartitionState, event: SeamEvent, threw: boolean, out: Out): void => {
    const id = event.seam?.id;
    const waiting = typeof id === 'string' ? st.awaiting.get(id) : undefined;
    if (waiting === undefined) return;
    st.awaiting.delete(id!);
    const reason: Unenriched = threw ? 'enrichment_failed' : 'not_confirmed';
    for (const w of waiting) {
      if (st.emitted.has(revisionKey(w.alert))) continue;
      const a = unenrichedVersion(w.alert, reason);
      st.emitted.set(revisionKey(a), true);
      for (const n of alertNotices(a)) st.emitted.set(n, true);
      unenriched[reason]++;
      if (o.onAlert !== undefined) timing.set(a, { newestIngestMs: newestIngest(st, a), version: 'final', first: false });
      out.alerts.push(a);
      log.warn({ alert: a.id, rule: a.rule.id, event: id, reason }, 'Early alert closed without its enriched final (ADR 0027).');
    }
  };

  /**
   * Feeds one message: its signals are held for event-time order (or, without order, or when late,
   * processed at once) and its progress marks move the partition's clock. Returns the alerts of what
   * was processed, or a dead letter for an unreadable message.
   */
  const feed = (st: PartitionState, m: ConsumedMessage, out: Out, raiseEarly = false, sentBefore?: SentMark): { signals: number; unreadable: boolean } => {
    // Signals with spans (ADR 0023) are held as bytes and parsed when handed on; others are parsed whole here.
    const spans = signalSpans(m.value, m.headers);
    if (spans !== undefined) {
      const { value: _bytes, ...ref } = m;
      // Held signals keep a copy of their message, not the fetch response it is a view of.
      const value = watch === undefined ? m.value : Buffer.from(m.value);
      // Stage 1's early hints (ADR 0026): only the signals it names can raise an early alert.
      const hints = raiseEarly && early !== undefined ? earlyHints(m.headers, early.fingerprint) : undefined;
      for (let i = 0; i < spans.length; i++) {
        const sp = spans[i]!;
        const id = sp.id;
        if (typeof id === 'string') {
          if (st.seenEvents.has(id)) {
            stats.duplicateSignals++;
            continue;
          }
          st.seenEvents.set(id, typeof sp.received === 'string' ? sp.received : true);
        }
        const at = sp.bytes.byteOffset - m.value.byteOffset;
        const held = new LazyHeld(value.subarray(at, at + sp.bytes.length), ref, id, sp.ts, sp.eventAt, sp.seamAt);
        if (watch !== undefined) {
          const t = Date.parse(sp.ts as string);
          if (st.buffer.push(t, typeof id === 'string' ? id : '', held)) {
            noteHeld(st, held, t, typeof id === 'string' ? id : '', sentBefore);
            if (raiseEarly && early !== undefined && typeof id === 'string') {
              if (hints === undefined || hints.has(i)) out.arrived.push({ id, event: () => held.peek() });
              else stats.earlySkipped++;
            }
            continue;
          }
          stats.lateSignals++;
          noteLate(st, m, t, typeof id === 'string' ? id : '');
          if (sentBefore === undefined) noteBefore(st, t, typeof id === 'string' ? id : '');
          process(st, held, true, out);
        } else process(st, held, false, out);
      }
      return { signals: spans.length, unreadable: false };
    }
    let msg: ReturnType<typeof decodeSignalMessage>;
    try {
      msg = decodeSignalMessage(m.value);
    } catch {
      msg = undefined;
    }
    if (msg === undefined) {
      const error = new SeamError('SEAM_ERR_INPUT_JSON', 'message is not a Seam signal (v1 or v2 JSON with events)', { details: { topic: m.topic, partition: m.partition, offset: m.offset } });
      out.dlq.push(dlqMessage(o.topics, deadLetter('detect', error, m.value.toString('utf8')), m));
      return { signals: 0, unreadable: true };
    }
    const { value: _bytes, ...ref } = m;
    for (const sig of msg.signals) {
      const id = sig.event.seam?.id;
      if (typeof id === 'string') {
        if (st.seenEvents.has(id)) {
          stats.duplicateSignals++;
          continue;
        }
        const received = sig.event.seam.ingest?.received_at;
        st.seenEvents.set(id, typeof received === 'string' ? received : true);
      }
      if (watch !== undefined) {
        const t = Date.parse(sig.event['@timestamp']);
        const h: Held = { event: sig.event, ref };
        if (st.buffer.push(t, typeof id === 'string' ? id : '', h)) {
          noteHeld(st, h, t, typeof id === 'string' ? id : '', sentBefore);
          if (raiseEarly && early !== undefined && typeof id === 'string') out.arrived.push({ id, event: () => sig.event });
          continue;
        }
        // Later than the watermark: evaluated now, out of order, and what it raises says so.
        stats.lateSignals++;
        if (sentBefore === undefined) noteBefore(st, t, typeof id === 'string' ? id : '');
        process(st, { event: sig.event, ref }, true, out);
      } else process(st, { event: sig.event, ref }, false, out);
    }
    for (const p of msg.progress) st.clock.mark(p.src, p.t, BigInt(m.offset), m.timestampMs ?? Date.now(), p.from);
    return { signals: msg.signals.length, unreadable: false };
  };

  /**
   * A late signal at debug level: where it was read, its event time, how far the buffer had handed on, and each raw
   * partition as the last look saw it (d: has records, I: idle) with its marked progress and delivery delay (ADR 0009,
   * 5c: how the skewed, quiet CloudTrail case was traced).
   */
  const noteLate = (st: PartitionState, m: ConsumedMessage, t: number, id: string): void => {
    if (!log.isLevelEnabled('debug')) return;
    const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    const view = watch?.view;
    const raw = (view?.raw ?? []).map((r) => `${r.src} ${r.hasData ? 'd' : '-'}${r.idle ? 'I' : ''} ${iso(st.clock.progressOf(r.src)) ?? '-'} ${st.clock.delayOf(r.src) ?? '-'}`);
    log.debug({ partition: m.partition, offset: m.offset, id, eventTime: iso(t), handedOnThrough: iso(st.buffer.releasedMs), watermark: iso(st.watermarkMs), lookAgeMs: view === undefined ? null : Date.now() - view.atMs, raw }, 'Late signal: it sorts before a signal already handed on; evaluated now and flagged late.');
  };

  /**
   * A signal just held: during a rebuild (`sentBefore`, the mark committed with the offset it rebuilds up to), one an
   * earlier owner had handed on, whose event is out; after it, one that sorts at or before the inherited mark makes
   * that mark say too much (this signal's event is not out): it is dropped, and the state's own `sent` takes over.
   */
  const noteHeld = (st: PartitionState, h: Held, t: number, id: string, sentBefore: SentMark | undefined): void => {
    if (sentBefore !== undefined) {
      if (atOrBefore(t, id, sentBefore)) h.emitted = true;
      return;
    }
    if (st.inherited !== undefined && atOrBefore(t, id, st.inherited)) st.inherited = undefined;
    noteBefore(st, t, id);
  };
  /** A signal read after the rebuild (held, or late) that sorts at or before the mark it found: `resendAfter`. */
  const noteBefore = (st: PartitionState, t: number, id: string): void => {
    if (st.rebuilt === undefined || !atOrBefore(t, id, st.rebuilt)) return;
    if (st.resendAfter === undefined || atOrBefore(t, id, st.resendAfter)) st.resendAfter = { t, id };
  };
  /** Is a re-read signal flagged `emitted` sent again all the same (it sorts after `resendAfter`)? */
  const resent = (st: PartitionState, t: number, id: unknown): boolean => st.resendAfter !== undefined && !atOrBefore(t, typeof id === 'string' ? id : '', st.resendAfter);

  /** Signals the stage's Sigma correlations dropped as late so far (the engine's `dropped.late`). */
  const correlationLateOf = (st: PartitionState): number =>
    (st.stage.stats() as { sigma?: { correlation?: { dropped?: { late?: number } } } }).sigma?.correlation?.dropped?.late ?? 0;
  /** The correlations' event-time watermark (newest event time seen less the lateness). */
  const correlationWatermarkOf = (st: PartitionState): number =>
    (st.stage.stats() as { sigma?: { correlation?: { watermarkMs?: number } } }).sigma?.correlation?.watermarkMs ?? -Infinity;
  const isoOf = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
  /**
   * Counts what the correlations dropped as late since the last count (`correlationLateDrops`, a metric) and says so
   * at most once a minute. A signal older than the newest event time the stage saw less the lateness (a replay of
   * history into a pipeline that has seen newer events), or older than a judged correlation's final produced at a quiet
   * advance, is still evaluated by the single-event rules but counts in no (such) correlation. A quiet advance does
   * not make older signals late for the correlations that fire as soon as satisfied (ADR 0009, amendment 2026-12-07).
   */
  let lateDropsLoggedAt = -Infinity;
  const countLateDrops = (st: PartitionState): void => {
    const n = correlationLateOf(st);
    if (!(n > st.lateDropsSeen)) return;
    stats.correlationLateDrops += n - st.lateDropsSeen;
    st.lateDropsSeen = n;
    const now = Date.now();
    if (now - lateDropsLoggedAt < HELD_LOG_MS) return;
    lateDropsLoggedAt = now;
    log.warn(
      { correlationLateDrops: stats.correlationLateDrops, correlationWatermark: isoOf(correlationWatermarkOf(st)), stageClock: isoOf(st.advancedMs) },
      'Sigma correlations dropped signals older than the newest event time they saw less the allowed lateness (or, for a judged correlation such as lt/eq, older than its final): no correlation counts them (single-event rules still run). Old records produced into a pipeline that has seen newer ones (a replay of history) are late; replay history into fresh topics and groups, or with `seam replay` (ADR 0009).',
    );
  };

  /**
   * Hands on what the watermark has passed, in order. When the input is quiet (every raw partition
   * empty or idle, and this partition read past what they produced), event time follows the wall
   * clock: held signals up to now minus the lateness go, and the stage is moved on there (`DetectStage.quiet`:
   * GuardDuty joins, sensor silences, secret-read bursts and judged correlation windows close; the correlations' and
   * the native detections' event time stays, so older records produced after the quiet spell are judged by their own
   * time and still count in the correlations, ADR 0009 decision 7).
   */
  const release = async (partition: number, st: PartitionState, out: Out, keepAlive?: () => void, signal?: AbortSignal): Promise<void> => {
    let view = watch?.view;
    if (watch === undefined || view === undefined) return;
    let end = view.signalsEnd.get(partition) ?? 0n;
    // The last look predates records a partition it leaves out has sent since (a burst after a quiet spell, the first
    // records of a fresh pipeline): look again before releasing on it, or one plane's signals go before the other's.
    if (st.clock.staleLook(view.raw, end)) {
      stats.staleLooks++;
      await watch.refresh().catch((e: unknown) => log.debug({ error: (e as Error).message }, 'Could not look at stage 1 progress again; using the last look.'));
      view = watch.view!;
      end = view.signalsEnd.get(partition) ?? 0n;
    }
    const { watermarkMs, quiet } = st.clock.watermark(view.raw, st.next >= end, Date.now());
    st.watermarkMs = watermarkMs;
    if (!quiet && st.buffer.size > 0) noteHolder(partition, st, view.raw, st.next >= end);
    // After a rebuild this hands on the whole re-read window (24 h of signals with the shipped rules): the event
    // loop gets a turn every ~100 ms, so the member's group session (keepAlive, kafkajs) and timers go on.
    const due = st.buffer.releaseUpTo(watermarkMs);
    let turnAt = performance.now();
    for (let i = 0; i < due.length; i++) {
      process(st, due[i]!, false, out);
      if ((i & 255) === 255 && performance.now() - turnAt > 100) {
        keepAlive?.();
        await new Promise<void>((r) => setImmediate(r));
        // The group took the partition away: the batch fails (the state half handed on is dropped) and is not committed.
        signal?.throwIfAborted();
        turnAt = performance.now();
      }
    }
    if (quiet && st.processed > 0 && st.buffer.size === 0 && watermarkMs > st.advancedMs) {
      st.advancedMs = watermarkMs;
      stats.quietAdvances++;
      out.alerts.push(...novel(st, st.stage.quiet(watermarkMs)));
    }
  };
  /**
   * Says which raw partition holds the watermark back, when it is more than the allowed lateness behind the newest
   * progress of the others (one slow or stalled collector, a partition whose producer sends old event times): the
   * signals held for it wait, and so do their alerts. At most one line a minute (review-ops M9).
   */
  let heldLoggedAt = -Infinity;
  const noteHolder = (partition: number, st: PartitionState, raw: Parameters<ProgressClock['holder']>[0], consumedThrough: boolean): void => {
    const now = Date.now();
    if (now - heldLoggedAt < HELD_LOG_MS) return;
    const h = st.clock.holder(raw, consumedThrough, now);
    if (h === undefined || !(h.newestMs - h.progressMs > lateness)) return;
    heldLoggedAt = now;
    const at = Number.isFinite(h.progressMs) ? new Date(h.progressMs).toISOString() : undefined;
    const behind = Number.isFinite(h.progressMs) ? Math.round((h.newestMs - h.progressMs) / 1000) : null;
    const delayS = Math.round((h.delayMs ?? 0) / 1000);
    const source = o.topics.sourceOfRaw(h.src.slice(0, h.src.lastIndexOf('/'))) ?? h.src;
    const why = !h.idle
      ? ''
      : h.basis === 'expected'
        ? `: ${source} has not delivered since this start, and correlate.sourceDelayMs expects it up to ${delayS} s late, so its first records may come that late (ADR 0009, 5c)`
        : h.basis === 'source'
          ? `: it ${h.empty === true ? 'has no records' : 'is idle'}, and ${source}'s last records came ${delayS} s late, so it may deliver that late (ADR 0009, 5c)`
          : `: it is idle, and its last records came ${delayS} s late, so it may deliver that late again (ADR 0009, 5c)`;
    (o.heldLog ?? ((f, msg) => log.info(f, msg)))(
      {
        partition,
        heldBy: h.src,
        progress: at ?? null,
        newest: new Date(h.newestMs).toISOString(),
        behindS: behind,
        latenessMs: lateness,
        held: st.buffer.size,
        ...(h.idle ? { idle: true, delayS, delayFrom: h.basis ?? null, ...(h.empty === true ? { empty: true } : {}) } : {}),
      },
      at === undefined
        ? `Watermark held by ${h.src}: it has data but no progress mark has reached this partition yet; held signals wait for it.`
        : `Watermark held by ${h.src} at ${at}, ${behind} s behind the newest raw partition${why}; held signals wait for it.`,
    );
  };
  /** Arrival of each alert's newest event, noted where it is raised (its partition's state), read once it is durable. */
  const timing = new WeakMap<Alert, AlertTiming>();
  const novel = (st: PartitionState, alerts: Alert[]): Alert[] => {
    const out: Alert[] = [];
    for (const a of alerts) {
      // By revision: a GuardDuty finding alert's later version is the same alert, updated (ADR 0046).
      const rk = revisionKey(a);
      if (st.emitted.has(rk)) {
        stats.duplicateAlerts++;
        continue;
      }
      st.emitted.set(rk, true);
      let update = false;
      let later = false;
      if (a.finding !== undefined) {
        // A later version of a finding alert already out (some level notified): an update, or an escalation if its level rose.
        later = st.emitted.has(`${a.id}#low`);
        update = st.emitted.has(noticeKey(a));
        if (later) stats.findingUpdates++;
        if (later && !update) stats.findingEscalations++;
        for (const n of alertNotices(a)) st.emitted.set(n, true);
      }
      if (o.onAlert !== undefined) timing.set(a, { newestIngestMs: newestIngest(st, a), version: 'final', first: !later && !st.early.has(rk), ...(update ? { update: true as const } : {}) });
      out.push(a);
    }
    return out;
  };
  /**
   * The provisional alerts of a signal that arrived and waits for the watermark (ADR 0025), unless its alert
   * is already out: the final (produced, or found on `seam.alerts` by a rebuild) or a provisional one.
   */
  const earlyOf = (st: PartitionState, event: SeamEvent, out: Out): void => {
    let raised: Alert[];
    try {
      raised = early!.raise(event);
    } catch {
      // The ordered path evaluates the event again (and dead-letters it if the stage throws).
      stats.earlyErrors++;
      return;
    }
    for (const a of raised) {
      const rk = revisionKey(a);
      if (st.emitted.has(rk) || st.early.has(rk)) continue;
      st.early.set(rk, true);
      awaitFinal(st, a, false);
      const update = a.finding !== undefined && st.emitted.has(noticeKey(a));
      const later = a.finding !== undefined && st.emitted.has(`${a.id}#low`);
      if (o.onAlert !== undefined) timing.set(a, { newestIngestMs: newestIngest(st, a), version: 'provisional', first: !later, ...(update ? { update: true as const } : {}) });
      out.early.push(a);
    }
  };
  /** Notes an early alert (single-event: its event is `events[0]`) as waiting for its final (ADR 0027). */
  const awaitFinal = (st: PartitionState, a: Alert, stopped: boolean): void => {
    const eventId = a.events[0];
    if (eventId === undefined) return;
    const list = st.awaiting.get(eventId);
    if (list === undefined) st.awaiting.set(eventId, [{ alert: a, stopped }]);
    else list.push({ alert: a, stopped });
  };
  /** The newest `seam.ingest.received_at` (ms) of the alert's events the state still remembers. */
  const newestIngest = (st: PartitionState, a: Alert): number | undefined => {
    let newest: number | undefined;
    for (const id of a.events) {
      const r = st.seenEvents.peek(id);
      if (typeof r !== 'string') continue;
      const t = Date.parse(r);
      if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
    }
    return newest;
  };

  /**
   * What earlier owners already produced on `seam.alerts` since a partition's `fromTimeMs` (alerts of a batch they
   * produced but did not get to commit included), fed one alerts message at a time in order per alerts partition:
   * revisions (`revisionKey`; the alert id but for finding alerts) and notices of finding alerts (ADR 0046) of
   * final versions, and early alerts still without their final, whole (provisional or a stopped member's version,
   * ADR 0027), last version first. Several partitions rebuilt together read the topic once, from the earliest of
   * their times: each starts on every alerts partition at its first message at or after its own time, as a read
   * from the broker's time index would.
   */
  class ProducedSince {
    readonly final = new Set<string>();
    readonly pending = new Map<string, { alert: Alert; stopped: boolean }>();
    private readonly started = new Set<number>();
    constructor(private readonly fromTimeMs: number) {}
    add(m: ConsumedMessage): void {
      if (!this.started.has(m.partition)) {
        if ((m.timestampMs ?? 0) < this.fromTimeMs) return;
        this.started.add(m.partition);
      }
      if (m.key === null) return;
      const { final, pending } = this;
      // By revision: the versions of a GuardDuty finding alert share its key (ADR 0046).
      const rk = messageRevisionKey(m.key, m.headers);
      // A provisional alert (ADR 0025) or a stopped member's version (ADR 0027) is not the alert: its final must still be produced.
      const v = messageVersion(m.headers);
      if (v === 'final') {
        final.add(rk);
        // A finding alert's final also says which severity levels were notified.
        if (rk !== m.key) for (const n of messageNotices(m.key, m.headers)) final.add(n);
        pending.delete(rk);
        return;
      }
      if (final.has(rk) || (v === 'provisional' && pending.get(rk)?.stopped === true)) return;
      try {
        pending.set(rk, { alert: JSON.parse(m.value.toString('utf8')) as Alert, stopped: v === 'stopped' });
      } catch {
        // Not an alert: nothing to close.
      }
    }
  }

  /** A batch's partition, rebuilt up to the batch (and the other owned partitions without a state, with it). */
  const rebuildWith = async (partition: number, first: ConsumedMessage, keepAlive?: () => void, signal?: AbortSignal): Promise<PartitionState> => {
    const targets: RebuildTarget[] = [{ partition, upTo: BigInt(first.offset), atMs: first.timestampMs ?? Date.now() }];
    // Owned partitions with no state whose batch is still to come (a start, a rebalance): rebuilt in the same read,
    // up to the group's committed offset, where their first batch starts. One whose batch starts elsewhere after
    // all (the commit moved) is rebuilt again when it comes; one with nothing left to read is adopted at the ticker.
    const owned = consumer?.assigned?.(o.topics.signals) ?? [];
    const others = owned.filter((p) => p !== partition && !states.has(p));
    if (others.length > 0 && o.bus.committedOffsets !== undefined) {
      const committed = await o.bus.committedOffsets(groupId, o.topics.signals).catch(() => new Map<number, bigint>());
      const end = watch?.view?.signalsEnd;
      for (const p of others) {
        const c = committed.get(p);
        if (c !== undefined && (end === undefined || c < (end.get(p) ?? 0n))) targets.push({ partition: p, upTo: c });
      }
    }
    const built = await rebuild(targets, keepAlive, signal);
    for (const [p, st] of built) if (p !== partition) states.set(p, st);
    return built.get(partition)!;
  };

  /**
   * Rebuilds the states of `targets` together: two reads of history whatever their number (on Kafka, one group
   * join each): (1) each partition's `seam.identity` records from the start, and for a partition whose first
   * message's time is not known (`atMs`), that message; (2) each partition's `seam.signals` from
   * `rebuildWindowMs` before that time up to `upTo`, and `seam.alerts` from the earliest of those times.
   */
  const rebuild = async (targets: RebuildTarget[], keepAlive?: () => void, signal: AbortSignal = revoked.signal): Promise<Map<number, PartitionState>> => {
    const started = performance.now();
    for (const t of targets) inRebuild.add(t.partition);
    // Abandoned when the group takes the partitions away (item 2 of the restart work, docs/metrics.md): the batch's
    // heartbeat says the group rebalances (`signal`), or, between batches (adoption at the ticker), the consumer no
    // longer owns every target (kafkajs rejoins from its fetch loop and `assigned` goes undefined). Nothing of it is
    // kept; the partitions' next owner, this member again or another, rebuilds them from its own assignment.
    const own = new AbortController();
    const abandon = AbortSignal.any([signal, own.signal]);
    const check = (): void => {
      keepAlive?.();
      if (consumer?.assigned === undefined || own.signal.aborted) return;
      const owned = consumer.assigned(o.topics.signals);
      const lost = owned === undefined ? targets.map((t) => t.partition) : targets.filter((t) => !owned.includes(t.partition)).map((t) => t.partition);
      if (lost.length > 0) own.abort(new BatchRevoked(`the group rebalanced: seam.signals partitions ${lost.join(', ')} are no longer this member's`));
    };
    try {
      const parts = targets.map((t) => {
        const st = fresh(t.partition, t.upTo);
        if (o.nativeState !== undefined) st.stage.native.loadState(o.nativeState);
        return { ...t, st, from: 0, signals: 0, restore: undefined as IdentityRestore | undefined, produced: undefined as ProducedSince | undefined, sent: undefined as SentMark | undefined };
      });
      const opts = (phase: string): Parameters<History['readMany']>[1] => ({
        keepAlive: check,
        signal: abandon,
        onPlan: (messages) => {
          if (messages > 100_000n) log.info({ partitions: targets.map((t) => t.partition), phase, messages: messages.toString() }, 'Re-reading history to rebuild correlation state.');
        },
      });
      // (1) Identity facts older than the window come back from seam.identity, around the re-read (ADR 0008).
      const phase1: HistoryRange[] = [];
      for (const p of parts) {
        const restore = new IdentityRestore(p.st.stage.native.graph, p.upTo);
        p.restore = restore;
        phase1.push({ topic: o.topics.identity, partition: p.partition, fromTimeMs: 0, each: (m) => restore.add(m) });
        // The time of the partition's first message (where its batch will start), when not known: that message.
        if (p.atMs === undefined) {
          phase1.push({
            topic: o.topics.signals,
            partition: p.partition,
            fromTimeMs: 0,
            fromOffset: p.upTo,
            toOffset: p.upTo + 1n,
            each: (m) => {
              if (m.timestampMs !== undefined) p.atMs = m.timestampMs;
            },
          });
        }
      }
      await o.history.readMany(phase1, opts('identity'));
      for (const p of parts) {
        // Nothing there (the partition ends at `upTo`): the time is now, as for a partition adopted at its end.
        p.from = (p.atMs ?? Date.now()) - o.detection.rebuildWindowMs;
        p.produced = new ProducedSince(p.from);
        // Facts of signals older than the window go into the graph now, so the re-read resolves against them.
        p.restore!.before(p.from);
      }
      // What earlier owners committed with each partition's offset: how far their output to seam.events reached
      // (src/pipeline/sent-mark.ts). Only a commit at exactly `upTo`, where this rebuild stops, speaks for the signals
      // re-read: every one before it that sorts at or before the mark was handed on, and its event sent, before
      // that commit. Signals after the mark were still held when the commit was made (or were handed on after it,
      // by a batch whose commit never came): their events go out again when they are handed on, so nothing sent but
      // not committed is lost, and the index takes the repeats by id. Without a mark (an older version committed,
      // a commit elsewhere, no order), everything re-read is sent again, as before.
      if (watch !== undefined && o.bus.committedWithMetadata !== undefined) {
        const committed = await o.bus.committedWithMetadata(groupId, o.topics.signals).catch((e: unknown) => {
          log.debug({ error: (e as Error).message }, 'Could not read the committed offsets and their marks; the rebuilt partitions send their re-read events again.');
          return undefined;
        });
        for (const p of parts) {
          const c = committed?.get(p.partition);
          if (c !== undefined && c.offset === p.upTo) p.sent = decodeMark(c.metadata);
        }
      }
      // (2) The window's signals and what was produced since.
      // With event-time order the window's signals are held again, not processed: they are handed on
      // as the watermark allows, and what an earlier owner already produced is suppressed by id below.
      // Their identity records are left for them to derive again when they are handed on.
      const phase2: HistoryRange[] = parts.map((p) => ({
        topic: o.topics.signals,
        partition: p.partition,
        fromTimeMs: p.from,
        toOffset: p.upTo,
        each: (m) => {
          // Produced before (alerts, events) or dead-lettered before (dlq): nothing here goes out again.
          const out: Out = newOut();
          const r = feed(p.st, m, out, false, p.sent);
          stats.suppressedOnRebuild += out.alerts.length;
          p.signals += r.signals;
        },
      }));
      // Also at offset 0: a first batch that produced its alerts and was killed before its commit comes
      // back at offset 0, and its alerts are on the topic (the faults suite once saw 14 produced twice).
      phase2.push({ topic: o.topics.alerts, partition: 'all', fromTimeMs: Math.min(...parts.map((p) => p.from)), each: (m) => { for (const p of parts) p.produced!.add(m); } });
      await o.history.readMany(phase2, opts('signals'));
      check();
      abandon.throwIfAborted();
      const out = new Map<number, PartitionState>();
      const seconds = (performance.now() - started) / 1000;
      for (const p of parts) {
        const st = p.st;
        if (p.sent !== undefined) st.inherited = st.rebuilt = p.sent;
        const restored = p.restore!.finish((eventId: string) => st.buffer.holds(eventId));
        st.identityKnown = restored.known;
        stats.restoredIdentity += restored.stats.before;
        stats.restoredIdentityAfter += restored.stats.after;
        for (const id of p.produced!.final) st.emitted.set(id, true);
        for (const [id, q] of p.produced!.pending) {
          st.early.set(id, true);
          awaitFinal(st, q.alert, q.stopped);
        }
        stats.rebuilds++;
        stats.rebuiltSignals += p.signals;
        st.lateDropsSeen = correlationLateOf(st);
        rebuildSeconds.push(seconds);
        if (p.signals > 0 || restored.stats.records > 0) log.info({ partition: p.partition, signals: p.signals, sentBefore: p.sent === undefined ? null : new Date(p.sent.t).toISOString(), identity: restored.stats, together: targets.length, ms: Math.round(seconds * 1000) }, 'Rebuilt correlation state from seam.identity and seam.signals.');
        out.set(p.partition, st);
      }
      if (rebuildSeconds.length > 10_000) rebuildSeconds.splice(0, rebuildSeconds.length - 10_000);
      return out;
    } catch (e) {
      if (abandon.aborted) {
        stats.abandonedRebuilds++;
        log.info({ partitions: targets.map((t) => t.partition), ms: Math.round(performance.now() - started), reason: String((abandon.reason as Error | undefined)?.message ?? abandon.reason) }, 'Rebuild abandoned: the group took its partitions away; the new assignment rebuilds them.');
      }
      throw e;
    } finally {
      for (const t of targets) inRebuild.delete(t.partition);
    }
  };

  /**
   * Early alerts (ADR 0025) go out on their own, once the batch's release is done and before its final alerts
   * and events (the larger send). Still before the batch's commit; a batch that fails after is redelivered, and
   * its rebuild finds them on `seam.alerts` (not raised again).
   */
  const emitEarly = async (early: Alert[]): Promise<void> => {
    await producer!.send(early.map((a) => ({ topic: o.topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)), headers: { ...findingHeaders(a), [ALERT_VERSION_HEADER]: 'provisional' } })));
    stats.earlyAlerts += early.length;
    if (o.onAlert !== undefined) for (const a of early) o.onAlert(a, timing.get(a) ?? { newestIngestMs: undefined, version: 'provisional', first: true });
  };

  const emit = async (alerts: Alert[], events: EventBatcher, extra: BusMessage[]): Promise<void> => {
    const msgs: BusMessage[] = alerts.map((a) => {
      const headers = findingHeaders(a);
      return { topic: o.topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)), ...(headers ? { headers } : {}) };
    });
    const n = events.count;
    // Each alert is also an update of its incident, in the same send (ADR 0015).
    msgs.push(...incidentMessages(o.topics.incidents, alerts, o.detection.incidentCloseAfterMs), ...events.take(), ...extra);
    if (msgs.length > 0) await producer!.send(msgs);
    stats.alerts += alerts.length;
    stats.events += n;
    counters.emitted += alerts.length;
    if (o.onAlert !== undefined) for (const a of alerts) o.onAlert(a, timing.get(a) ?? { newestIngestMs: undefined, version: 'final', first: true });
  };

  /**
   * A batch may wait for the ticker's turn, rebuild partitions and hand on a whole re-read window: longer than the
   * group's session timeout (kafkajs: 30 s). The member's session is kept alive meanwhile (the batch's heartbeat,
   * at most every second); a heartbeat that fails (the group rebalances) is left to kafkajs after the batch.
   */
  const handle = async (batch: ConsumedMessage[], ctx?: HandleContext): Promise<void> => {
    // A batch after a revocation belongs to the new assignment: it gets a signal of its own.
    if (revoked.signal.aborted) revoked = new AbortController();
    const ctl = revoked;
    let last = 0;
    const beat = ctx?.heartbeat;
    const keepAlive =
      beat === undefined
        ? undefined
        : (): void => {
            if (Date.now() - last < 1000) return;
            last = Date.now();
            beat().catch((e: unknown) => {
              // The group is taking the partitions away: stop this batch (and any rebuild in flight) and throw the
              // heartbeat's error, on which kafkajs rejoins at once; other failures say nothing about ownership.
              if (revokedBy(e)) ctl.abort(e);
              else log.debug({ error: (e as Error).message }, 'Heartbeat during a long correlate batch failed.');
            });
          };
    const timer = keepAlive === undefined ? undefined : setInterval(keepAlive, 2000);
    try {
      await exclusive(() => handleBatch(batch, keepAlive, ctl.signal));
    } catch (e) {
      // However far it got (waiting for its turn, rebuilding, handing the re-read signals on), the batch is dropped
      // with the reason the bus understands: kafkajs rejoins on its rebalance errors instead of restarting the consumer.
      if (ctl.signal.aborted) throw ctl.signal.reason;
      throw e;
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
  };
  let partitionsLookedAt = 0;
  const handleBatch = async (batch: ConsumedMessage[], keepAlive?: () => void, signal?: AbortSignal): Promise<void> => {
    // Waited for the ticker's turn while the group took the partitions away: nothing to do.
    signal?.throwIfAborted();
    const partition = batch[0]!.partition;
    // `seam.events` may not exist yet at start (the memory bus creates topics on first use): look again, at most every second.
    if (eventPartitions === 0 && Date.now() - partitionsLookedAt >= 1000) {
      partitionsLookedAt = Date.now();
      eventPartitions = await o.bus.partitions(o.topics.events);
    }
    let st = states.get(partition);
    if (st === undefined || st.next !== BigInt(batch[0]!.offset)) {
      if (st !== undefined) countLateDrops(st);
      states.delete(partition);
      st = await rebuildWith(partition, batch[0]!, keepAlive, signal);
    }
    try {
      const out: Out = newOut();
      for (const m of batch) {
        const r = feed(st, m, out, true);
        counters.received += r.signals;
        stats.messages++;
        if (r.unreadable) {
          counters.received++;
          counters.error('SEAM_ERR_INPUT_JSON');
        }
      }
      st.next = BigInt(batch[batch.length - 1]!.offset) + 1n;
      if (watch !== undefined) {
        if (pollMs === 0 || watch.view === undefined || Date.now() - watch.view.atMs >= pollMs) {
          // A look that fails (broker restarting) keeps the last one: held signals wait, the batch goes on.
          await watch.refresh().catch((e: unknown) => log.debug({ error: (e as Error).message }, 'Could not look at stage 1 progress; using the last look.'));
        }
        await release(partition, st, out, keepAlive, signal);
        // Early alerts (ADR 0025) of the batch's signals the watermark still holds: those that wait. A signal
        // handed on in this batch (a backlog) gets its final alert now, and no provisional version before it.
        for (const a of out.arrived) {
          if (out.handed.has(a.id)) continue;
          const e = a.event();
          if (e !== undefined) earlyOf(st, e, out);
        }
        if (out.early.length > 0) await emitEarly(out.early.splice(0));
      }
      const identity = st.identity.messages(st.identityKnown);
      delete st.identityKnown;
      stats.identityRecords += identity.length;
      await emit(out.alerts, out.events, [...identity, ...out.dlq]);
      // Everything handed on so far is out: the commit of this batch may say so (commitMetadata).
      st.sent = st.buffer.released ?? st.sent;
      await o.afterProduce?.(batch);
      states.set(partition, st);
    } catch (e) {
      // The state has seen part of an uncommitted batch: drop it; the redelivery rebuilds it.
      states.delete(partition);
      throw e;
    }
  };

  /**
   * Partitions this member owns but has no state for, with nothing left to read (the group committed
   * them to their end): no batch will come to make it rebuild, so the open windows and held signals an
   * earlier owner left (it stopped, or this member restarted after the input ended) would wait for new
   * input. Rebuilt here, as a batch at the end offset would (ADR 0009). States of partitions this
   * member no longer owns are dropped: their next owner rebuilds them, and a stale copy must not come
   * back if the partition returns. Needs the bus to say what it owns (`assigned`, `committedOffsets`).
   */
  const adopt = async (): Promise<void> => {
    const owned = consumer?.assigned?.(o.topics.signals);
    if (owned === undefined || o.bus.committedOffsets === undefined || watch?.view === undefined) return;
    const mine = new Set(owned);
    for (const partition of states.keys()) {
      if (!mine.has(partition)) {
        countLateDrops(states.get(partition)!);
        states.delete(partition);
        stats.released++;
      }
    }
    const candidates = owned.filter((p) => !states.has(p) && (watch.view!.signalsEnd.get(p) ?? 0n) > 0n);
    if (candidates.length === 0) return;
    const committed = await o.bus.committedOffsets(groupId, o.topics.signals);
    const targets: RebuildTarget[] = [];
    for (const partition of candidates) {
      const end = watch.view.signalsEnd.get(partition)!;
      if (committed.get(partition) !== end) continue; // a batch is coming: it rebuilds
      targets.push({ partition, upTo: end, atMs: Date.now() });
    }
    if (targets.length === 0) return;
    for (const [partition, st] of await rebuild(targets)) {
      states.set(partition, st);
      stats.adopted++;
      log.info({ partition, offset: st.next.toString() }, 'Adopted a partition with nothing left to read: rebuilt its state so the windows an earlier owner left open close.');
    }
  };

  /** The ticker: looks at the upstream again, adopts owned partitions no batch will come for, and hands on what the watermark now passes. */
  const tick = (): Promise<void> =>
    exclusive(async () => {
      if (watch === undefined) return;
      if (states.size === 0 && (consumer?.assigned?.(o.topics.signals)?.length ?? 0) === 0) return;
      // A member settled in its group again after a revocation: its adoptions are not abandoned for the old one.
      if (revoked.signal.aborted && consumer?.assigned?.(o.topics.signals) !== undefined) revoked = new AbortController();
      await watch.refresh();
      // A failed adoption (Kafka cannot say the committed offsets now) is tried again at the next tick.
      await adopt().catch((e: unknown) => log.warn({ error: (e as Error).message }, 'Could not adopt owned partitions with nothing left to read; trying again at the next look.'));
      for (const [partition, st] of states) {
        const out: Out = newOut();
        await release(partition, st, out);
        const identity = st.identity.messages(st.identityKnown);
        delete st.identityKnown;
        if (out.alerts.length === 0 && out.events.count === 0 && identity.length === 0 && out.dlq.length === 0) {
          st.sent = st.buffer.released ?? st.sent;
          continue;
        }
        stats.identityRecords += identity.length;
        try {
          await emit(out.alerts, out.events, [...identity, ...out.dlq]);
          st.sent = st.buffer.released ?? st.sent;
        } catch (e) {
          // Not produced: drop the state; the next batch rebuilds it and hands these on again.
          states.delete(partition);
          log.warn({ partition, error: (e as Error).message }, 'Could not produce alerts released by the watermark; the partition state will be rebuilt.');
        }
      }
    });

  /**
   * On stop: signals still held for event-time order were committed with their batches, so the next
   * owner of the partition re-reads them only when it rebuilds (a batch, or adoption at its next look;
   * with no live member, not until one starts). Their events (and dead letters) are sent now, annotated by the
   * stage as it stands (ADR 0014); their alerts are left to the next owner's rebuild (ADR 0009). Then the offsets
   * are committed once more with the final output mark (ADR 0055, `recommit`): it covers those and what the ticker
   * handed on after the last batch's commit, so the next owner's rebuild does not send them again — unless a signal
   * it reads sorts before them (`resendAfter`): handed on after it, their annotation may differ, and they go again.
   * A batch still in flight when stop begins is not covered: on Kafka it is committed as the consumer
   * stops, and what it left held is indexed when the next batch reaches the partition's next owner.
   */
  const handOver = async (): Promise<void> => {
    const out: Out = newOut();
    // Early alerts still waiting for their final (ADR 0027): the next owner's rebuild produces it, if a member
    // takes the partition within the rebuild window; until then, and if none does, a stopped version (not
    // provisional, `unenriched: member_stopped`, header `stopped`, index version 1) says the enrichment is not
    // pending any more. Not to `seam.incidents`: the final is, when it comes.
    const stopped: Alert[] = [];
    for (const st of states.values()) {
      // `seam.alerts` holds every partition's alerts, so a rebuild also found early alerts of other partitions'
      // signals: only those of signals this state read (re-read, or fed since) are its to close.
      for (const [eventId, list] of st.awaiting) {
        if (!st.seenEvents.has(eventId)) continue;
        for (const w of list) if (!w.stopped && !st.emitted.has(revisionKey(w.alert))) stopped.push(unenrichedVersion(w.alert, 'member_stopped'));
      }
      st.awaiting.clear();
    }
    if (stopped.length > 0) {
      await producer!.send(stopped.map((a) => ({ topic: o.topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)), headers: { ...findingHeaders(a), [ALERT_VERSION_HEADER]: 'stopped' } })));
      unenriched.member_stopped += stopped.length;
      log.info({ alerts: stopped.length }, 'Stopping with early alerts whose signals are held: produced their stopped versions; the next owner of the partition produces the finals (ADR 0027).');
    }
    try {
      if (watch !== undefined) await watch.refresh();
      const drained: PartitionState[] = [];
      for (const [partition, st] of states) {
        // Only a state at its partition's end: with more to read, whoever reads it rebuilds and indexes
        // these in order (and a state that lost its partition to another member must not overwrite that).
        const end = watch?.view?.signalsEnd.get(partition);
        if (end === undefined || st.next < end) continue;
        for (const h of st.buffer.drain()) process(st, h, false, out);
        drained.push(st);
      }
      const n = out.events.count;
      if (n > 0 || out.dlq.length > 0) await producer!.send([...out.events.take(), ...out.dlq]);
      stats.events += n;
      stats.handedOverEvents += n;
      // Everything these states read is out now: the mark reaches their last signal.
      for (const st of drained) st.sent = st.buffer.released ?? st.sent;
      // While this member still owns its partitions (not during a rebalance, not after a crash: then nothing).
      await consumer?.recommit?.().catch((e: unknown) => log.warn({ error: (e as Error).message }, 'Could not commit the output mark at stop; the next owner sends again what this member handed on since its last commit.'));
    } finally {
      // The counters at exit include what the correlations dropped since the last look at them.
      for (const st of states.values()) countLateDrops(st);
      states.clear();
    }
  };

  return {
    name: 'correlate',
    async start() {
      // A first look at stage 1's progress; if Kafka cannot answer yet (a broker just started: "not the
      // coordinator", "does not host this topic-partition"), start anyway: nothing is released until a
      // look succeeds, and the ticker keeps looking.
      if (watch !== undefined) {
        await watch.refresh().catch((e: unknown) => log.warn({ error: (e as Error).message }, 'Could not look at stage 1 progress at start; held signals wait for the next look.'));
      }
      if (early !== undefined) log.info({ rules: early.rules.size, of: o.detection.ruleset?.rules.length ?? 0 }, 'Early alerts (ADR 0025): these Sigma rules are raised when their signal arrives, before the watermark; the ordered path replaces each with its final alert.');
      producer = await o.bus.producer();
      eventPartitions = await o.bus.partitions(o.topics.events);
      partitionsLookedAt = Date.now();
      consumer = await o.bus.consumer({
        groupId,
        topics: [o.topics.signals],
        fromBeginning: o.fromBeginning ?? true,
        handle,
        // With each commit: how far this member's output of the partition reaches (src/pipeline/sent-mark.ts), for the
        // next rebuild. Only from a state that has read everything before the offset; none without event-time order
        // (its rebuild sends nothing again anyway).
        commitMetadata: (topic, partition, offset) => {
          if (topic !== o.topics.signals || watch === undefined) return undefined;
          const st = states.get(partition);
          if (st === undefined || offset > st.next) return undefined;
          const m = laterMark(st.sent, st.inherited);
          return m === undefined ? undefined : encodeMark(m);
        },
      });
      await consumer.run();
      if (watch !== undefined && pollMs > 0) {
        ticker = setInterval(() => {
          tick().catch((e: unknown) => log.warn({ error: (e as Error).message }, 'Could not look at stage 1 progress; held signals wait for the next look.'));
        }, pollMs);
        ticker.unref();
      }
    },
    /** End of input (embedded replay only): hands on every held signal, judges open windows everywhere and produces their alerts. */
    flush: () =>
      exclusive(async () => {
        const out: Out = newOut();
        const extra: BusMessage[] = [];
        if (watch !== undefined) await watch.refresh();
        // Partitions an earlier member left with nothing to read are this one's to flush (ADR 0009, 5a).
        await adopt();
        for (const [partition, st] of states) {
          // A state short of its partition's end lost the partition to another member: that one flushes it.
          const end = watch?.view?.signalsEnd.get(partition);
          if (end !== undefined && st.next < end) continue;
          for (const h of st.buffer.drain()) process(st, h, false, out);
          out.alerts.push(...novel(st, st.stage.flush()));
          extra.push(...st.identity.messages(st.identityKnown));
          delete st.identityKnown;
        }
        stats.identityRecords += extra.length;
        await emit(out.alerts, out.events, [...extra, ...out.dlq]);
      }),
    /**
     * What every partition's native detections keep past the run (embedded `--resume` saves it, ADR 0044), before
     * `stop` (which drops the states); undefined when this member holds no partition state (no signal came).
     */
    nativeState() {
      if (states.size === 0) return undefined;
      const all: Record<string, unknown[]> = {};
      for (const st of states.values()) for (const [id, entries] of Object.entries(st.stage.native.saveState())) (all[id] ??= []).push(...entries);
      return all;
    },
    async stop() {
      if (ticker !== undefined) clearInterval(ticker);
      // Held signals' events go out while this member still owns the partitions, so a next owner that
      // rebuilds produces its (ordered) copies after them. Not again after the consumer stopped: the
      // partitions may be another member's by then, and an overwrite would undo its ordered copies.
      await exclusive(handOver).catch((e: unknown) => log.warn({ error: (e as Error).message }, 'Could not index the events of held signals on stop; the next owner indexes them when it rebuilds.'));
      await consumer?.stop();
      await turn;
      await producer?.close();
    },
    stats: () => {
      for (const st of states.values()) countLateDrops(st);
      const byStage = [...states.values()].map((s) => s.stage.stats());
      let held = 0;
      let settled = true;
      // Identity graph size: keys over every partition's graph this member owns.
      let identityGraphKeys = 0;
      for (const b of byStage) identityGraphKeys += (b as { graph?: { keys?: number } }).graph?.keys ?? 0;
      for (const [partition, st] of states) {
        held += st.buffer.size;
        const end = watch?.view?.signalsEnd.get(partition);
        if (end !== undefined && st.next < end) continue; // lost to another member
        if (st.buffer.size > 0 || (st.processed > 0 && !(st.advancedMs > st.newestMs))) settled = false;
      }
      // An owned partition with signals and no state yet: a batch or adoption is still to come (it rebuilds it).
      const unbuilt: number[] = [];
      for (const p of consumer?.assigned?.(o.topics.signals) ?? []) {
        if (!states.has(p) && (watch?.view?.signalsEnd.get(p) ?? 0n) > 0n) {
          settled = false;
          if (!inRebuild.has(p)) unbuilt.push(p);
        }
      }
      // settled: nothing held, every owned partition with signals has a state, and every owned stage's clock is past its newest event (the input went quiet).
      // Event time of each partition's watermark, and the furthest progress stage 1 reported per raw partition (review-ops M9).
      const watermarks: Record<string, number> = {};
      const stage1: Record<string, number> = {};
      for (const [partition, st] of states) {
        if (Number.isFinite(st.watermarkMs)) watermarks[partition] = st.watermarkMs;
        for (const r of watch?.view?.raw ?? []) {
          const f = st.clock.progressOf(r.src);
          if (Number.isFinite(f) && !(f <= (stage1[r.src] ?? -Infinity))) stage1[r.src] = f;
        }
      }
      // rebuilding / unbuilt: partitions not processing yet (a rebuild runs; none has started): not ready (review-ops M1).
      return { ...counters.snapshot(), ...stats, unenriched: { ...unenriched }, held, settled, partitions: states.size, rebuilding: [...inRebuild].sort((a, b) => a - b), unbuilt, rebuildSeconds: [...rebuildSeconds], watermarks, stage1, identityGraphKeys, ...(byStage.length === 1 ? { detect: byStage[0] } : {}) };
    },
  };
}
