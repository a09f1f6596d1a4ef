/**
 * Runs native detections over the event stream: each event first updates the identity graph, is resolved once,
 * then meets every detection. Time-driven detections (GuardDuty joins) are advanced by event time.
 */
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact, Resolution } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { NativeConfig, type NativeOptions } from './config.ts';
import { NATIVE_DETECTIONS } from './registry.ts';
import { addressListsOf } from './address-lists.ts';
import { awsRangesOf } from './aws-ranges.ts';
import type { AnyNativeDetection, EvalContext } from './types.ts';
import { isoMs } from '../../core/time.ts';

export interface NativeEngineOptions {
  graph?: IdentityGraph;
  config?: NativeOptions;
  /** Detection ids to run (default: all). */
  only?: string[];
  /**
   * Write the graph's answer onto the event (default true): `seam.principal` refined, `seam.chain` the
   * path that resolved it, `seam.origin` the identity the chain reached. Later stages (Sigma,
   * correlations, the index) then see who acted, really.
   */
  annotate?: boolean;
  /** Called with the facts each event produced (to publish on `seam.signals`). */
  onFacts?: (facts: IdentityFact[], event: SeamEvent) => void;
}

export interface NativeEngineStats {
  events: number;
  alerts: number;
  byDetection: Record<string, number>;
  errors: Record<string, number>;
}

export interface NativeEngine {
  readonly graph: IdentityGraph;
  process(event: SeamEvent): Alert[];
  /** Event time moved on to `nowMs` with no event (other accounts' events, replay workers): what was waiting for a window to close. */
  advance(nowMs: number): Alert[];
  /**
   * The input is quiet and time follows the wall clock to `t` (the correlate role, ADR 0009 decision 7): what is due
   * at `t` (GuardDuty joins, silent sensors, secret-read bursts past their grace), without moving the engine's event
   * time: records produced afterwards with older event times (a replay, the next chunk of a backlog) still advance the
   * timed detections by their own time, and the state saved for `--resume` is kept relative to event time.
   */
  quiet(t: number): Alert[];
  flush(): Alert[];
  /**
   * `seam run --resume` (ADR 0044): the detections' state that outlives a run (pending first-use grants), by
   * detection id, as of the newest event time seen; and putting it back into this (fresh) engine.
   */
  saveState(): Record<string, unknown[]>;
  loadState(saved: Readonly<Record<string, readonly unknown[]>>): void;
  /** The Sigma alerts `event` raised, and what `process(event)` returned: handed to the detections that take them (`noteAlerts`). */
  noteAlerts(event: SeamEvent, alerts: readonly Alert[], raised: Alert[]): void;
  stats(): NativeEngineStats;
}

function annotate(event: SeamEvent, r: Resolution): void {
  if (r.principal !== undefined) event.seam.principal = r.principal;
  if (r.chain.length > 0) event.seam.chain = r.chain;
  if (r.origin !== undefined) event.seam.origin = r.origin;
  if (event.seam.cluster === undefined && r.cluster !== undefined) event.seam.cluster = r.cluster;
}

export function createNativeEngine(opts: NativeEngineOptions = {}): NativeEngine {
  const graph = opts.graph ?? new IdentityGraph();
  const config = NativeConfig.parse(opts.config ?? {});
  // AWS's ranges file is read now, so a wrong file stops the start (SEAM_ERR_AWS_RANGES_INVALID), not each event.
  awsRangesOf(config);
  // So are the address lists (SEAM_ERR_ADDRESS_LIST_INVALID).
  addressListsOf(config);
  const detections: AnyNativeDetection[] = Object.values(NATIVE_DETECTIONS).filter((d) => opts.only === undefined || opts.only.includes(d.id));
  const states = new Map<string, unknown>(detections.map((d) => [d.id, d.createState(config)]));
  const stats: NativeEngineStats = { events: 0, alerts: 0, byDetection: {}, errors: {} };
  let nowMs = -Infinity;
  // What detections learned while evaluating the current event (bound once: no closure per event).
  let learned: IdentityFact[] = [];
  const learn = (f: IdentityFact): void => {
    if (graph.applyFact(f)) learned.push(f);
  };

  // Only the detections that wait on time are advanced; the rest never see `advance`.
  const timed = detections.filter((d) => d.advance !== undefined);
  const stateOf = detections.map((d) => states.get(d.id));
  // Per source, the detections that look at its events (in registry order), with their states.
  const bySource = new Map<string, { ds: AnyNativeDetection[]; ss: unknown[] }>();
  const forSource = (source: string): { ds: AnyNativeDetection[]; ss: unknown[] } => {
    let f = bySource.get(source);
    if (f === undefined) {
      f = { ds: [], ss: [] };
      for (let i = 0; i < detections.length; i++) {
        const d = detections[i]!;
        if (d.sources !== undefined && !d.sources.includes(source as SourceType)) continue;
        f.ds.push(d);
        f.ss.push(stateOf[i]);
      }
      bySource.set(source, f);
    }
    return f;
  };
  const timedState = timed.map((d) => states.get(d.id));
  const noting = detections.filter((d) => d.noteAlerts !== undefined);
  const notingState = noting.map((d) => states.get(d.id));

  const count = (d: AnyNativeDetection, alerts: Alert[], out: Alert[]): void => {
    if (alerts.length === 0) return;
    stats.alerts += alerts.length;
    stats.byDetection[d.id] = (stats.byDetection[d.id] ?? 0) + alerts.length;
    for (const a of alerts) out.push(a);
  };
  // One broken detection must not stop the others; its failures are counted (and surface in stats).
  const failed = (d: AnyNativeDetection): void => {
    stats.errors[d.id] = (stats.errors[d.id] ?? 0) + 1;
  };

  // Per event: a plain loop, no closure or spread per detection (this runs 16 times per event).
  const advanceTo = (t: number, out: Alert[]): Alert[] => {
    if (t > nowMs) {
      nowMs = t;
      for (let i = 0; i < timed.length; i++) {
        const d = timed[i]!;
        try {
          count(d, d.advance!(nowMs, graph, timedState[i], config), out);
        } catch {
          failed(d);
        }
      }
    }
    return out;
  };

  return {
    graph,
    process(event) {
      stats.events++;
      const facts = graph.observe(event);
      if (facts.length > 0) opts.onFacts?.(facts, event);
      const resolution = graph.resolve(event);
      if (opts.annotate !== false) annotate(event, resolution);
      const ctx: EvalContext = { facts, resolution, config, learn };
      const out: Alert[] = [];
      const { ds, ss } = forSource(event.seam.source);
      for (let i = 0; i < ds.length; i++) {
        const d = ds[i]!;
        try {
          count(d, d.evaluate(event, graph, ss[i], ctx), out);
        } catch {
          failed(d);
        }
      }
      if (learned.length > 0) {
        const l = learned;
        learned = [];
        opts.onFacts?.(l, event);
      }
      return advanceTo(isoMs(event['@timestamp']), out);
    },
    advance: (t) => advanceTo(t, []),
    quiet(t) {
      const out: Alert[] = [];
      for (let i = 0; i < timed.length; i++) {
        const d = timed[i]!;
        try {
          count(d, d.quiet === undefined ? d.advance!(t, graph, timedState[i], config) : d.quiet(t, graph, timedState[i], config), out);
        } catch {
          failed(d);
        }
      }
      return out;
    },
    flush() {
      const out: Alert[] = [];
      for (const d of detections) {
        if (d.flush === undefined) continue;
        try {
          count(d, d.flush(graph, states.get(d.id), config), out);
        } catch {
          failed(d);
        }
      }
      return out;
    },
    saveState() {
      const saved: Record<string, unknown[]> = {};
      for (const d of detections) {
        if (d.saveState === undefined) continue;
        const entries = d.saveState(states.get(d.id), nowMs, config);
        if (entries.length > 0) saved[d.id] = entries;
      }
      return saved;
    },
    loadState(saved) {
      for (const d of detections) {
        const entries = saved[d.id];
        if (d.loadState === undefined || entries === undefined) continue;
        d.loadState(states.get(d.id), entries, config);
      }
    },
    noteAlerts(event, alerts, raised) {
      if (alerts.length === 0) return;
      for (let i = 0; i < noting.length; i++) {
        const d = noting[i]!;
        try {
          d.noteAlerts!(event, alerts, raised, notingState[i]);
        } catch {
          failed(d);
        }
      }
    },
    stats: () => ({ ...stats, byDetection: { ...stats.byDetection }, errors: { ...stats.errors } }),
  };
}
