/**
 * The detection stage the pipeline calls per event: Sigma matching, single-rule alerts (unless a
 * correlation claims the rule, `generate` unset), and the correlation engine.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { alertFromMatch, eventTimeMs } from './alert.ts';
import type { Alert } from './alert.ts';
import { ruleLookupFrom } from './correlate/compile.ts';
import { CorrelationEngine } from './correlate/engine.ts';
import type { CorrelationStats } from './correlate/engine.ts';
import { DriftChecks } from './drift-check.ts';
import { RequestsMatched, requestOf } from './request-once.ts';
import type { Diagnostic, Ruleset } from './sigma/types.ts';

export interface DetectorOptions {
  ruleset: Ruleset;
  /** How far behind the newest event time an event may arrive and still count in correlations. */
  allowedLatenessMs?: number;
  /**
   * Rule tests only: return the alerts of rules and correlations that a referencing correlation
   * withholds (`generate` not set) as if they were generated; they are still counted as suppressed.
   * Lets a feeder rule be tested by the alerts it would raise. Default false.
   */
  emitWithheld?: boolean;
  /** Open groups one correlation may hold (default 100,000); see CorrelationEngineOptions. */
  maxGroupsPerCorrelation?: number;
  /**
   * Kubernetes usernames whose server-side dry runs are GitOps drift checks (seam.yml `rules.driftCheckUsers`,
   * ADR 0047): their rule matches raise no alert and feed no correlation. Default DEFAULT_DRIFT_CHECK_USERS.
   */
  driftCheckUsers?: readonly string[];
  /** (rule, Kubernetes request) pairs remembered to match a request once (ADR 0057); default DEFAULT_MAX_REQUESTS. */
  maxRequests?: number;
}

export interface DetectorStats {
  events: number;
  matches: number;
  /** Single-rule alerts withheld because a correlation uses the rule (`generate` not set). */
  suppressed: number;
  /** Rule matches on GitOps drift checks (ADR 0047): no alert, no correlation. */
  driftChecks: number;
  /**
   * Matches of a rule that reads no `stage` on a Kubernetes request it had already matched at another stage (or a
   * copy of the same record), ADR 0057: no alert, no correlation.
   */
  repeatedRequests: number;
  alerts: number;
  correlation: CorrelationStats;
}

export interface Detector {
  /** Problems in correlation documents (rule documents are reported by the loader). */
  readonly diagnostics: readonly Diagnostic[];
  /** Correlation documents the loader handed over that did not compile (their errors are in `diagnostics`): they never fire. */
  readonly correlationsRejected: number;
  process(event: SeamEvent): Alert[];
  /** Event time moved on to `eventTimeMs` with no event (other accounts' events, in one thread's order): alerts of windows that closed. */
  advance(eventTimeMs: number): Alert[];
  /**
   * The input is quiet and time follows the wall clock to `t` (ADR 0009): the finals of judged correlation windows
   * that closed, without making older signals late for the correlations that fire as soon as satisfied
   * (`CorrelationEngine.quietTo`).
   */
  quiet(t: number): Alert[];
  /** End of input: judges open correlation windows and returns their alerts. */
  flush(): Alert[];
  stats(): DetectorStats;
}

export function createDetector(opts: DetectorOptions): Detector {
  const { ruleset } = opts;
  const lookup = ruleLookupFrom(ruleset.rules, ruleset.notLoaded);
  const engine = new CorrelationEngine(ruleset.correlations, {
    ruleLookup: lookup,
    ...(opts.allowedLatenessMs === undefined ? {} : { allowedLatenessMs: opts.allowedLatenessMs }),
    ...(opts.emitWithheld === true ? { emitWithheld: true } : {}),
    ...(opts.maxGroupsPerCorrelation === undefined ? {} : { maxGroupsPerCorrelation: opts.maxGroupsPerCorrelation }),
  });
  const drift = new DriftChecks(opts.driftCheckUsers);
  const requests = new RequestsMatched(opts.maxRequests);
  const counts = { events: 0, matches: 0, suppressed: 0, driftChecks: 0, repeatedRequests: 0, alerts: 0 };

  return {
    diagnostics: engine.diagnostics,
    correlationsRejected: ruleset.correlations.length - engine.correlations.length,
    process(event) {
      counts.events++;
      const out: Alert[] = [];
      const matches = ruleset.match(event);
      // A GitOps controller's drift check (ADR 0047): its matches repeat, every reconcile, a change that is never
      // made. No alert, and no correlation counts or sequences them; the event itself is kept (and indexed) as any.
      const driftCheck = matches.length > 0 && drift.by(event) !== undefined;
      if (driftCheck) {
        counts.matches += matches.length;
        counts.driftChecks += matches.length;
      }
      for (const m of driftCheck ? [] : matches) {
        counts.matches++;
        // One Kubernetes request, one match (ADR 0057): a rule that reads no `stage` matched it at its first stage.
        const request = requestOf(m.rule, event);
        if (request !== undefined && !requests.first(m.rule.id, request)) {
          counts.repeatedRequests++;
          continue;
        }
        if (engine.isSuppressed(m.rule.id)) {
          counts.suppressed++;
          if (opts.emitWithheld === true) out.push(alertFromMatch(m));
        } else out.push(alertFromMatch(m));
        out.push(...engine.onMatch(m));
      }
      const t = eventTimeMs(event);
      if (!Number.isNaN(t)) out.push(...engine.advanceTo(t));
      counts.alerts += out.length;
      return out;
    },
    advance(t) {
      const out = engine.advanceTo(t);
      counts.alerts += out.length;
      return out;
    },
    quiet(t) {
      const out = engine.quietTo(t);
      counts.alerts += out.length;
      return out;
    },
    flush() {
      const out = engine.flush();
      counts.alerts += out.length;
      return out;
    },
    stats() {
      return { ...counts, correlation: engine.stats() };
    },
  };
}
