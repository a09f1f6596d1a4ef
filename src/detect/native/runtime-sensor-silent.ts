/**
 * The Fargate runtime sensor went silent while its pod still runs, and a second sender speaks as one sensor
 * (review-ops M7). The sensor shares the app's pid namespace and UID (ADR 0012): code running in the app can stop
 * (SIGSTOP) or kill it, and can read its ingest token. It sends a heartbeat (`kind: heartbeat`) every
 * `interval_ms` with a sequence number counted from 1 at each start (`sensor_start`), and a last one with
 * `stopping: true` on SIGTERM (docs/runtime-schema.md).
 *
 * Silent: no heartbeat for `sensorSilentIntervals` (3) of its own intervals of event time, no `stopping` heartbeat,
 * and the audit plane showed no end of the pod in that time: the pod deleted (any `delete` of it, its namespace, a
 * `deletecollection` of the namespace's pods), evicted (`pods/eviction`), or its node deleted (on Fargate a pod has
 * a node of its own, deleted after the pod). Decided when event time (the watermark in the correlate role) passes
 * the threshold, so the audit plane's records up to then have arrived (or at the heartbeat that ends the gap, when
 * nothing else moved event time on); once per silence (a heartbeat again starts the watch anew). Level: medium when the audit plane shows the pod running after its last heartbeat (its Fargate
 * node's kubelet, its service account's requests from that pod, an exec into it or another successful request on
 * it), because then the silence is not the pod's end: the sensor was stopped, killed, or cut off; low otherwise (a
 * pod whose end the audit plane does not show, or a cluster without the audit plane, looks the same). Not in the
 * input's last threshold: the end of a replay is not silence.
 *
 * Regression (a separate detection, high): a heartbeat of the same pod (same pod UID) whose sequence number is not
 * above the last one from the same `sensor_start`, or which comes from an older `sensor_start` than one already
 * seen, later in event time: one sensor process cannot do that, so a second sender uses the sensor's token and
 * identity (the token is readable by the app). A restart (a newer `sensor_start`, seq 1) is not flagged: the
 * liveness probe restarts a stopped sensor, and an impostor who waits for the real sensor's silence looks like
 * one; the silence detection is what sees that case, when the gap is long enough. Resent records (the same
 * heartbeat again, or an older one late) are not later in event time and are skipped.
 *
 * State: per tracked pod its last heartbeat and any sign of life after it, at most `maxStateEntries` pods
 * (least recently heard from go first); what a restarted correlate member rebuilds from seam.signals.
 */
import type { Principal, SeamEvent } from '../../core/envelope.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import { first, num, obj, str } from '../../core/values.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, remembered, timeOf } from './util.ts';

interface Heartbeat {
  key: string;
  cluster: string;
  namespace: string;
  pod: string;
  node: string | undefined;
  podUid: string | undefined;
  seq: number;
  start: string;
  intervalMs: number;
  stopping: boolean;
}

/** What a heartbeat event says, or undefined when it is not one. */
export function heartbeatOf(event: SeamEvent): Heartbeat | undefined {
  if (event.seam.source !== 'runtime' || event.seam.action !== 'heartbeat') return undefined;
  const hb = obj(event.heartbeat);
  const namespace = str(event.namespace);
  const pod = str(event.pod);
  const seq = num(hb?.seq);
  const start = str(hb?.sensor_start);
  const intervalMs = num(hb?.interval_ms);
  if (hb === undefined || namespace === undefined || pod === undefined || seq === undefined || start === undefined || intervalMs === undefined || intervalMs <= 0) return undefined;
  const cluster = event.seam.cluster ?? '';
  return { key: `${cluster}|${namespace}|${pod}`, cluster, namespace, pod, node: str(event.node), podUid: str(hb.pod_uid), seq, start, intervalMs, stopping: hb.stopping === true };
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

// ---- silent -------------------------------------------------------------------------------------------------

interface Track {
  hb: Heartbeat;
  /** Event time and id of the last heartbeat. */
  lastMs: number;
  lastId: string;
  principal: Principal | undefined;
  account: string | undefined;
  /** The latest sign of the pod running after the last heartbeat. */
  life?: { ms: number; id: string; what: string };
  /** The silence since `lastMs` was reported. */
  reported: boolean;
}

interface SilentState {
  tracks: Lru<string, Track>;
  /** `<cluster>|<node>` → track key, for Fargate nodes (`fargate-ip-…`): a Fargate pod's node is its own. */
  byNode: Lru<string, string>;
  /** Earliest event time at which some track may be due (a lower bound; checked again when reached). */
  nextDue: number;
}

const dueOf = (t: Track, c: NativeConfig): number => t.lastMs + c.sensorSilentIntervals * t.hb.intervalMs;

/** The pods an audit event shows ended (`end`) or running (`life`), by track key, with a description. */
function auditSays(event: SeamEvent, state: SilentState): { end: string[]; life: { key: string; what: string }[] } {
  const cluster = event.seam.cluster ?? '';
  const out: { end: string[]; life: { key: string; what: string }[] } = { end: [], life: [] };
  const code = num(obj(event.responseStatus)?.code) ?? 200;
  if (code >= 400) return out;
  const verb = str(event.verb) ?? '';
  const ref = obj(event.objectRef);
  const resource = str(ref?.resource);
  const ns = str(ref?.namespace);
  const name = str(ref?.name);
  const sub = str(ref?.subresource);
  const user = obj(event.user);
  const username = str(user?.username) ?? '';
  if (resource === 'pods' && ns !== undefined) {
    if (name !== undefined && ((verb === 'delete' && sub === undefined) || (verb === 'create' && sub === 'eviction'))) {
      out.end.push(`${cluster}|${ns}|${name}`);
    } else if (name === undefined && verb === 'deletecollection') {
      for (const [k, t] of state.tracks.entries()) if (t.hb.cluster === cluster && t.hb.namespace === ns) out.end.push(k);
    } else if (name !== undefined && verb !== 'delete') {
      out.life.push({ key: `${cluster}|${ns}|${name}`, what: `${username || 'someone'} ${verb}${sub ? ` ${sub}` : ''} on the pod` });
    }
  }
  if (resource === 'namespaces' && verb === 'delete' && name !== undefined) for (const [k, t] of state.tracks.entries()) if (t.hb.cluster === cluster && t.hb.namespace === name) out.end.push(k);
  if (resource === 'nodes' && verb === 'delete' && name !== undefined) {
    const k = state.byNode.get(`${cluster}|${name}`);
    if (k !== undefined) out.end.push(k);
  }
  if (username.startsWith('system:node:')) {
    const k = state.byNode.get(`${cluster}|${username.slice('system:node:'.length)}`);
    if (k !== undefined) out.life.push({ key: k, what: `its node's kubelet (${username}) ${verb} ${resource ?? ''}`.trimEnd() });
  }
  const podName = first(obj(user?.extra)?.['authentication.kubernetes.io/pod-name']);
  const m = /^system:serviceaccount:([^:]+):/.exec(username);
  if (podName !== undefined && m !== null) out.life.push({ key: `${cluster}|${m[1]}|${podName}`, what: `its service account ${username} ${verb} ${resource ?? ''} from the pod`.trimEnd() });
  return out;
}

/** The alert for a track whose silence passed the threshold at `nowMs`. */
function silentAlert(d: NativeDetection<SilentState>, tr: Track, nowMs: number): Alert {
  const hb = tr.hb;
  const missed = Math.floor((nowMs - tr.lastMs) / hb.intervalMs);
  const where = `${hb.namespace}/${hb.pod}${hb.cluster ? ` (cluster ${hb.cluster})` : ''}`;
  const life = tr.life;
  const events = [remembered(tr.lastId, tr.lastMs), ...(life ? [remembered(life.id, life.ms)] : [])];
  return nativeAlert(d, {
    level: life ? 'medium' : 'low',
    events,
    summary: `Runtime sensor of ${where} silent since ${clock(tr.lastMs)} (heartbeat ${hb.seq}; none for ${missed} intervals of ${hb.intervalMs / 1000} s)${life ? `, while the pod still ran: ${life.what} at ${clock(life.ms)}` : ', and the audit plane shows no end of the pod'}`,
    triage:
      `The sensor of ${where} sent its last heartbeat (number ${hb.seq}, sensor started ${hb.start}) at ${clock(tr.lastMs)} and none for ${missed} of its ${hb.intervalMs / 1000} s intervals, without saying it was stopping. ` +
      (life
        ? `The pod still ran after that: ${life.what} at ${clock(life.ms)}. A sensor stopped (SIGSTOP) or killed while the app runs is what code in the app can do (same UID): `
        : 'The audit plane shows neither the pod running nor its end since: check whether the pod still exists, then: ') +
      'look at the sensor container’s state, restarts and last termination reason, execs into the pod and its runtime events before the silence, and its service account’s AWS and Kubernetes calls since. Several pods silent at once points at Seam’s ingest endpoint or the network.',
    principal: tr.principal,
    account: tr.account,
    cluster: hb.cluster || undefined,
  });
}

export const runtimeSensorSilent: NativeDetection<SilentState> = {
  id: 'seam-native-runtime-sensor-silent',
  title: 'Runtime sensor went silent while its pod still runs',
  level: 'medium',
  tags: ['attack.defense-evasion', 'attack.t1562.001', 'attack.t1489'],
  description:
    'A Fargate runtime sensor (seam sensor) sent no heartbeat for several of its intervals without saying it was stopping, and the audit plane did not show its pod deleted, evicted or its node deleted: the sensor was stopped or killed by code in the app (same UID and pid namespace, ADR 0012), crashed, or cannot reach Seam. Medium when the audit plane shows the pod still running after the last heartbeat; low otherwise.',
  triage:
    'Is the pod still running (kubectl get pod -o wide; its restart count and the sensor container’s state and last termination reason), and did anyone exec into it or deploy a new image just before? A sensor stopped while the app runs is what an attacker in the app would do first: look at the pod’s runtime events, its service account’s AWS calls and Kubernetes requests from the time of the last heartbeat. Several pods silent at once points at Seam’s ingest endpoint or the network instead (seam_sidecar_last_seen_seconds, the endpoint’s errors).',
  createState: (c: NativeConfig): SilentState => ({ tracks: boundedLru(c.maxStateEntries), byNode: boundedLru(c.maxStateEntries), nextDue: Infinity }),
  sources: ['runtime', 'k8s_audit'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: SilentState, ctx: EvalContext): Alert[] {
    const t = timeOf(event);
    if (!Number.isFinite(t)) return [];
    const hb = heartbeatOf(event);
    if (hb !== undefined) {
      const known = state.tracks.get(hb.key);
      if (hb.stopping) {
        // Told to stop: the silence after this is expected. A restarted sensor starts a new track.
        if (known === undefined || t >= known.lastMs) state.tracks.delete(hb.key);
        return [];
      }
      if (known !== undefined && t < known.lastMs) return [];
      // The first event after a gap may be the heartbeat that ends it (nothing else moved event time on): the gap is still a silence.
      const late = known !== undefined && !known.reported && t >= dueOf(known, ctx.config) ? [silentAlert(this, known, t)] : [];
      const track: Track = { hb, lastMs: t, lastId: event.seam.id, principal: ctx.resolution.principal ?? event.seam.principal, account: event.seam.account, reported: false };
      state.tracks.set(hb.key, track);
      // Only a Fargate node is the pod's own: an EC2 node's kubelet speaks for many pods.
      if (hb.node !== undefined && hb.node.startsWith('fargate-')) state.byNode.set(`${hb.cluster}|${hb.node}`, hb.key);
      state.nextDue = Math.min(state.nextDue, dueOf(track, ctx.config));
      return late;
    }
    if (event.seam.source !== 'k8s_audit' || state.tracks.size === 0) return [];
    const says = auditSays(event, state);
    for (const k of says.end) {
      const tr = state.tracks.get(k);
      // The end of the pod after its last heartbeat (or at most one interval before: the delete and the sensor's last beat race).
      if (tr !== undefined && t >= tr.lastMs - tr.hb.intervalMs) state.tracks.delete(k);
    }
    for (const l of says.life) {
      const tr = state.tracks.peek(l.key);
      if (tr !== undefined && !tr.reported && t > tr.lastMs) tr.life = { ms: t, id: event.seam.id, what: l.what };
    }
    return [];
  },
  advance(nowMs: number, _graph: IdentityGraph, state: SilentState, config: NativeConfig): Alert[] {
    if (nowMs < state.nextDue) return [];
    const out: Alert[] = [];
    let next = Infinity;
    for (const tr of state.tracks.values()) {
      if (tr.reported) continue;
      const due = dueOf(tr, config);
      if (due > nowMs) {
        next = Math.min(next, due);
        continue;
      }
      tr.reported = true;
      out.push(silentAlert(this, tr, nowMs));
    }
    state.nextDue = next;
    return out;
  },
};

// ---- sequence regression ------------------------------------------------------------------------------------

interface Stream {
  start: string;
  seq: number;
  lastMs: number;
  lastId: string;
  /** Event time of the last alert about this pod (one an hour at most). */
  alertedMs?: number;
}

const REALERT_MS = 3600_000;

export const runtimeSensorSequenceRegression: NativeDetection<Lru<string, Stream>> = {
  id: 'seam-native-runtime-sensor-sequence-regression',
  title: 'Runtime sensor heartbeats from two senders (sequence went back)',
  level: 'high',
  tags: ['attack.defense-evasion', 'attack.t1562.001', 'attack.t1528'],
  description:
    'A Fargate runtime sensor’s heartbeat whose sequence number is not above the last one from the same sensor start, or which comes from an older sensor start than one already seen, in the same pod (same pod UID), later in event time: one sensor process cannot do that, so a second sender uses the sensor’s ingest token and identity (the token is readable by code in the app, ADR 0012).',
  triage:
    'Who else holds the pod’s ingest token? The app container can read it (same UID). Treat the pod’s runtime events since the first overlapping heartbeat as possibly forged, look for an exec or a new process in the pod before it, rotate the token (its SHA-256 in the sidecar collector’s tokens) and restart the pod. A second sensor container configured in the same pod by mistake looks the same.',
  createState: (c: NativeConfig): Lru<string, Stream> => boundedLru(c.maxStateEntries),
  sources: ['runtime'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: Lru<string, Stream>, ctx: EvalContext): Alert[] {
    const hb = heartbeatOf(event);
    const t = timeOf(event);
    if (hb === undefined || hb.podUid === undefined || !Number.isFinite(t)) return [];
    const key = `${hb.key}|${hb.podUid}`;
    const s = state.get(key);
    if (s === undefined || t <= s.lastMs) {
      // First heartbeat of the pod, or a resent / late one (not after the last in event time).
      if (s === undefined) state.set(key, { start: hb.start, seq: hb.seq, lastMs: t, lastId: event.seam.id });
      return [];
    }
    const sameStart = hb.start === s.start;
    const back = (sameStart && hb.seq <= s.seq) || hb.start < s.start;
    if (!back) {
      // Next heartbeat, or a restart (newer sensor_start): follow it.
      state.set(key, { ...s, start: hb.start, seq: hb.seq, lastMs: t, lastId: event.seam.id });
      return [];
    }
    const prev = { ...s };
    // Keep following the stream with the newer start and the higher number: the other one's next heartbeat is flagged too (once an hour).
    if (s.alertedMs !== undefined && t - s.alertedMs < REALERT_MS) return [];
    s.alertedMs = t;
    const where = `${hb.namespace}/${hb.pod}${hb.cluster ? ` (cluster ${hb.cluster})` : ''}`;
    const what = sameStart ? `number ${hb.seq} after number ${prev.seq} from the same sensor start (${hb.start})` : `from sensor start ${hb.start} after heartbeats from a later start (${prev.start}, number ${prev.seq})`;
    const principal = ctx.resolution.principal ?? event.seam.principal;
    return [
      nativeAlert(this, {
        events: [remembered(prev.lastId, prev.lastMs), event],
        summary: `Two senders speak as the runtime sensor of ${where}: heartbeat ${what} at ${clock(t)}`,
        triage:
          `The sensor of ${where} sent heartbeat ${what} at ${clock(t)}; one sensor process counts up from 1 at its start, so another sender holds its token and identity (code in the app can read that token, as it runs with the same UID). ` +
          `Treat the pod’s runtime events since ${clock(prev.lastMs)} as possibly forged, look for an exec or a new process in the pod before it${principal ? ` and at what ${describePrincipal(principal)} did since` : ''}, rotate the ingest token and restart the pod. A second sensor container configured in the same pod by mistake looks the same.`,
        principal,
        account: event.seam.account,
        cluster: hb.cluster || undefined,
      }),
    ];
  },
};
