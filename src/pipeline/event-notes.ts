import type { SeamEvent } from '../core/envelope.ts';
import { obj, str } from '../core/values.ts';

/**
 * Normalized events a replay's summary warns about: kept and carried on, but a user should know, because
 * what the detections can say of them is less than it looks. Counted per event in one place for
 * `seam replay` (one thread or `--workers`) and embedded `seam run` (its normalize role).
 */
export interface EventNotes {
  /**
   * Kubernetes audit events with no EKS cluster: an audit log does not name its cluster, so without
   * `--cluster` (or `cluster:` in seam.yml, or a log group or payload that says) the identity graph cannot
   * tie them to the AWS side, and cross-plane detections stay silent.
   */
  auditWithoutCluster: number;
  /** Records with no event time of their own (`seam.time_missing`): their `@timestamp` is when Seam read them. */
  timeMissing: number;
  /**
   * Kubernetes exec, attach and port-forward requests whose upgrade (101) is logged at ResponseStarted, and those
   * logged at ResponseComplete with the 101. The API server logs a session at both stages under one auditID; an input
   * with the second and none of the first comes from an audit pipeline (or policy, `omitStages`) that drops
   * ResponseStarted, where the rules for these sessions match: they cannot fire on it (`sessionsUnstarted`).
   */
  sessionsStarted: number;
  sessionsCompleted: number;
}

export const noNotes = (): EventNotes => ({ auditWithoutCluster: 0, timeMissing: 0, sessionsStarted: 0, sessionsCompleted: 0 });

const SESSIONS = new Set(['exec', 'attach', 'portforward']);

/** Counts what `ev` calls for into `n`. */
export function noteEvent(n: EventNotes, ev: SeamEvent): void {
  if (ev.seam.source === 'k8s_audit' && ev.seam.cluster === undefined) n.auditWithoutCluster++;
  if (ev.seam.time_missing === true) n.timeMissing++;
  if (ev.seam.source === 'k8s_audit' && SESSIONS.has(str(obj(ev.objectRef)?.subresource) ?? '')) {
    if (ev.stage === 'ResponseStarted') n.sessionsStarted++;
    else if (ev.stage === 'ResponseComplete' && obj(ev.responseStatus)?.code === 101) n.sessionsCompleted++;
  }
}

/**
 * How many sessions the input holds only at ResponseComplete: all of them when it holds none at ResponseStarted,
 * else 0. Not matched by auditID: an export cut in time holds sessions whose start lies before it (and open ones),
 * which say nothing about the pipeline; an input with no start at all does.
 */
export function sessionsUnstarted(n: EventNotes): number {
  return n.sessionsStarted === 0 ? n.sessionsCompleted : 0;
}

/** Adds `b`'s counts to `a`. */
export function addNotes(a: EventNotes, b: EventNotes): void {
  a.auditWithoutCluster += b.auditWithoutCluster;
  a.timeMissing += b.timeMissing;
  a.sessionsStarted += b.sessionsStarted;
  a.sessionsCompleted += b.sessionsCompleted;
}
