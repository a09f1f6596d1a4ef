import type { SeamEvent } from '../core/envelope.ts';

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
}

export const noNotes = (): EventNotes => ({ auditWithoutCluster: 0, timeMissing: 0 });

/** Counts what `ev` calls for into `n`. */
export function noteEvent(n: EventNotes, ev: SeamEvent): void {
  if (ev.seam.source === 'k8s_audit' && ev.seam.cluster === undefined) n.auditWithoutCluster++;
  if (ev.seam.time_missing === true) n.timeMissing++;
}

/** Adds `b`'s counts to `a`. */
export function addNotes(a: EventNotes, b: EventNotes): void {
  a.auditWithoutCluster += b.auditWithoutCluster;
  a.timeMissing += b.timeMissing;
}
