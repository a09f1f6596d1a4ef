/**
 * Native detections: TypeScript modules that ask the identity graph questions Sigma cannot express. Each is
 * small and stateless apart from an explicit, bounded `state` the engine owns, so a rebuild (replaying
 * `seam.signals`) recreates it and deterministic alert ids keep the index free of duplicates.
 */
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact, Resolution } from '../../identity/types.ts';
import type { Alert, AlertLevel } from '../alert.ts';
import type { NativeConfig } from './config.ts';

export interface EvalContext {
  /** Facts this event added to the graph (already applied). */
  facts: readonly IdentityFact[];
  /** `graph.resolve(event)`, computed once per event for all detections. */
  resolution: Resolution;
  config: NativeConfig;
  /**
   * Records what a detection learned as an identity fact (a baseline's first-seen network or region): the
   * engine applies it to the graph and hands it on with the event's own facts, so it reaches `seam.identity`
   * and comes back on a rebuild (ADR 0008) like everything else the graph knows.
   */
  learn(fact: IdentityFact): void;
}

export interface NativeDetection<S = unknown> {
  id: string;
  title: string;
  level: AlertLevel;
  /** ATT&CK techniques and tactics, Sigma style (`attack.t1098`). */
  tags: string[];
  description: string;
  /** What to check first when it fires. */
  triage: string;
  createState(config: NativeConfig): S;
  /**
   * The only sources whose events `evaluate` looks at (it returns [] for any other, doing nothing): the
   * engine does not call it for the rest. Leave it out when every event matters (or may, to its state).
   */
  sources?: readonly SourceType[];
  evaluate(event: SeamEvent, graph: IdentityGraph, state: S, ctx: EvalContext): Alert[];
  /** Time moved on to `nowMs` (newest event time): emit what was waiting for a window to close. */
  advance?(nowMs: number, graph: IdentityGraph, state: S, config: NativeConfig): Alert[];
  /**
   * The input is quiet and time follows the wall clock to `t` (the correlate role, ADR 0009 decision 7): emit what is
   * due at `t` (finals), without taking `t` as event time, so older records produced afterwards (the next chunk of a
   * backlog) are judged by their own event time. Leave it out when `advance` keeps no clock of its own (the engine
   * then calls `advance(t)`).
   */
  quiet?(t: number, graph: IdentityGraph, state: S, config: NativeConfig): Alert[];
  /** End of input: emit everything still waiting. */
  flush?(graph: IdentityGraph, state: S, config: NativeConfig): Alert[];
  /**
   * `seam run --resume` (ADR 0044): what of the state must outlive the run, as JSON values (bounded: only what
   * can still matter at event time `nowMs`), and putting it back into a fresh state. Only detections whose
   * state waits longer than a run may be apart (the first-use grants) implement it.
   */
  saveState?(state: S, nowMs: number, config: NativeConfig): unknown[];
  loadState?(state: S, entries: readonly unknown[], config: NativeConfig): void;
  /**
   * The Sigma alerts `event` raised (after every native detection evaluated it), and the native alerts its
   * `process` returned (`raised`, which this may still change): for a detection whose alert follows the rules
   * that matched an event of its own (the GuardDuty join's level).
   */
  noteAlerts?(event: SeamEvent, alerts: readonly Alert[], raised: Alert[], state: S): void;
}

// A registry holds detections of different state types; the engine only passes each its own state back.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNativeDetection = NativeDetection<any>;
