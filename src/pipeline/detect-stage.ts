import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import type { Detector } from '../detect/detector.ts';
import type { IdentityFact } from '../identity/types.ts';
import { createNativeEngine, type NativeEngine, type NativeEngineOptions } from '../detect/native/engine.ts';
import { foldAlerts } from '../detect/fold.ts';
import { findingResource } from '../core/normalize/guardduty.ts';
import type { Rec } from '../core/values.ts';
import { keyAlerts } from './incident-topic.ts';

/**
 * Everything that happens to a normalized event before it is indexed, in one place: the identity
 * graph observes it and writes who acted onto it (`seam.principal`, `seam.chain`, `seam.origin`), the
 * native cross-plane detections run on the graph, then Sigma rules and correlations run on the
 * annotated event, so their alerts name the resolved principal; each alert then gets the key of its incident
 * (`incident_key`, src/pipeline/incident-topic.ts).
 *
 * The stage writes onto `event.seam` only, never elsewhere in the event: the correlate role writes each
 * annotated event to `seam.events` as stage 1's bytes up to `seam` and the annotated `seam` (ADR 0026;
 * src/pipeline/roles/roles.test.ts compares that with JSON.stringify of the whole event).
 */
export interface DetectStage {
  readonly native: NativeEngine;
  process(event: SeamEvent): Alert[];
  /** Event time moved on to `eventTimeMs` with no event (other accounts' events, replay workers): windows that closed. */
  advance(eventTimeMs: number): Alert[];
  /**
   * The input is quiet and time follows the wall clock to `t` (the correlate role, ADR 0009): GuardDuty joins, silent
   * sensors, secret-read bursts and judged correlation windows that closed. Unlike `advance`, neither the native
   * detections' event time (`NativeEngine.quiet`) nor the correlations' moves: older signals handed on afterwards (a
   * replay, a collector catching up) are judged by their own time, and still count in the correlations that fire as
   * soon as satisfied (`Detector.quiet`).
   */
  quiet(t: number): Alert[];
  flush(): Alert[];
  stats(): Record<string, unknown>;
  /** The identity facts the graph applied since the last call (always empty unless created with `collectFacts`). */
  drainFacts(): IdentityFact[];
}

export function createDetectStage(opts: { detector?: Detector; native?: NativeEngineOptions; collectFacts?: boolean }): DetectStage {
  let facts: IdentityFact[] = [];
  const onFacts = opts.native?.onFacts;
  const collect =
    opts.collectFacts === true
      ? (fs: IdentityFact[], e: SeamEvent): void => {
          for (const f of fs) facts.push(f);
          onFacts?.(fs, e);
        }
      : onFacts;
  const native = createNativeEngine({ ...opts.native, ...(collect ? { onFacts: collect } : {}) });
  const detector = opts.detector;
  return {
    native,
    process(event) {
      const out = native.process(event);
      if (detector) {
        const sigma = detector.process(event);
        // Before the Sigma alerts join `out`: the GuardDuty join's level follows the rules its finding matched.
        native.noteAlerts(event, sigma, out);
        for (let i = 0; i < sigma.length; i++) out.push(sigma[i]!);
      }
      // One action, one notification (ADR 0050): the alerts resting on this event alone fold under the highest level.
      if (out.length > 1) foldAlerts(event.seam.id, out);
      // Alerts closed by this event carry who acted, really, as the graph resolved it, and the resource a
      // GuardDuty finding is about (what groups them into incidents when no one acted: ADR 0048).
      const resource = out.length > 0 && event.seam.source === 'guardduty' ? findingResource(event as unknown as Rec) : undefined;
      for (const a of out) {
        if (a.events[a.events.length - 1] !== event.seam.id) continue;
        if (a.origin === undefined && a.chain === undefined) {
          if (event.seam.origin !== undefined) a.origin = event.seam.origin;
          if (event.seam.chain !== undefined && event.seam.chain.length > 0) a.chain = event.seam.chain;
        }
        if (resource !== undefined && a.resource === undefined) a.resource = resource;
      }
      // Who acted is settled: every alert carries the key of its incident (SOC review M7).
      return keyAlerts(out);
    },
    advance(t) {
      const out = native.advance(t);
      if (detector) out.push(...detector.advance(t));
      return keyAlerts(out);
    },
    quiet(t) {
      const out = native.quiet(t);
      if (detector) out.push(...detector.quiet(t));
      return keyAlerts(out);
    },
    flush() {
      const out = native.flush();
      if (detector) out.push(...detector.flush());
      return keyAlerts(out);
    },
    stats() {
      return { native: native.stats(), graph: native.graph.stats(), ...(detector ? { sigma: detector.stats() } : {}) };
    },
    drainFacts() {
      const out = facts;
      facts = [];
      return out;
    },
  };
}
