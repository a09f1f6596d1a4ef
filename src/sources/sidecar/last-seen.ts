/**
 * When each pod's sensor last sent a heartbeat (kind heartbeat, src/sensor/heartbeat.ts) to this endpoint: what
 * `seam_sidecar_last_seen_seconds{cluster,namespace,pod}` exports (review-ops M7). Bounded: a pod not heard from for
 * `forgetMs` is dropped (its series ends), a pod whose sensor said it is stopping (SIGTERM: deletion, restart) at
 * once, and past `maxPods` the pod heard from longest ago goes first. Arrival time, not event time: the question is
 * whether the sensor is talking now. Each ingest replica knows only the heartbeats it received: take the minimum over
 * replicas (`min by (cluster, namespace, pod)`).
 */

export interface SeenPod {
  cluster: string;
  namespace: string;
  pod: string;
  /** Arrival of the last heartbeat (ms). */
  atMs: number;
  seq: number;
  intervalMs: number | undefined;
}

export class LastSeen {
  /** Key → pod; a Map keeps insertion order, and a pod heard from again is moved to the end. */
  private readonly pods = new Map<string, SeenPod>();

  constructor(private readonly opts: { forgetMs: number; maxPods: number }) {}

  /** Notes an accepted record: only heartbeats count. */
  note(record: Record<string, unknown>, cluster: string | undefined, nowMs: number): void {
    if (record.kind !== 'heartbeat' || typeof record.namespace !== 'string' || typeof record.pod !== 'string') return;
    const hb = (typeof record.heartbeat === 'object' && record.heartbeat !== null ? record.heartbeat : {}) as Record<string, unknown>;
    const c = typeof record.cluster === 'string' ? record.cluster : (cluster ?? '');
    const key = `${c}\u0000${record.namespace}\u0000${record.pod}`;
    this.pods.delete(key);
    if (hb.stopping === true) return;
    this.pods.set(key, {
      cluster: c,
      namespace: record.namespace,
      pod: record.pod,
      atMs: nowMs,
      seq: typeof hb.seq === 'number' ? hb.seq : 0,
      intervalMs: typeof hb.interval_ms === 'number' ? hb.interval_ms : undefined,
    });
    while (this.pods.size > this.opts.maxPods) this.pods.delete(this.pods.keys().next().value!);
  }

  /** The pods still tracked at `nowMs` (the ones not heard from for forgetMs are dropped first). */
  snapshot(nowMs: number): SeenPod[] {
    for (const [k, p] of this.pods) {
      // Insertion order is arrival order: the first one still fresh ends the sweep.
      if (nowMs - p.atMs <= this.opts.forgetMs) break;
      this.pods.delete(k);
    }
    return [...this.pods.values()];
  }
}
