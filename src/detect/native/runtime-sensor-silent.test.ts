import { describe, expect, it } from 'vitest';
import { ACCOUNT, alice, audit, CLUSTER, execInto, ev, iamK8sUser, saK8sUser, t, type K8sUser } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import type { Alert } from '../alert.ts';

// Heartbeats of the Fargate sensor (src/sensor/heartbeat.ts) for shop/checkout-1, every 60 s, and the audit plane beside them.
const SILENT = 'seam-native-runtime-sensor-silent';
const SEQ = 'seam-native-runtime-sensor-sequence-regression';
const NODE = 'fargate-ip-10-0-142-21.us-west-2.compute.internal';
const START = '2024-11-05T13:00:00.000Z';

let n = 0;
function hb(time: string, seq: number, o: { start?: string; stopping?: boolean; pod?: string; uid?: string; interval?: number } = {}): SeamEvent {
  n++;
  return ev({
    schema: 'seam.runtime/v1',
    id: `hb-${n}`,
    time,
    kind: 'heartbeat',
    cluster: CLUSTER,
    account: ACCOUNT,
    namespace: 'shop',
    pod: o.pod ?? 'checkout-1',
    service_account: 'checkout',
    node: NODE,
    sensor: { name: 'seam-sensor', version: '0.1.0' },
    heartbeat: { seq, sensor_start: o.start ?? START, interval_ms: o.interval ?? 60_000, pod_uid: o.uid ?? 'uid-1', uptime_ms: 1000, ...(o.stopping ? { stopping: true } : {}), counters: { scans: seq * 240 } },
  });
}
/** Heartbeats every 60 s from `from` (seconds after 14:00:00), numbered from `seq`. */
const beats = (count: number, from = 0, seq = 1, o: Parameters<typeof hb>[2] = {}): SeamEvent[] => Array.from({ length: count }, (_, i) => hb(t('14:00:00', from + i * 60), seq + i, o));
const kubelet: K8sUser = { username: `system:node:${NODE}`, groups: ['system:nodes', 'system:authenticated'] };
const controller: K8sUser = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
const a = (o: Parameters<typeof audit>[0]): SeamEvent => ev(audit(o));
/** Something else in the cluster moves event time on (another team's request). */
const tick = (hms: string): SeamEvent => a({ verb: 'list', user: iamK8sUser(alice, 'alice'), time: t(hms), resource: 'configmaps', namespace: 'other' });

const run = (id: string, events: SeamEvent[]): Alert[] => runNative(id, events);

describe('runtime sensor went silent while its pod still runs', () => {
  it('medium when its node’s kubelet and its service account still speak after the last heartbeat; the summary says since when', () => {
    const alerts = run(SILENT, [
      ...beats(5),
      // Heartbeat 5 at 14:04:00, then nothing. The pod's kubelet renews its status, the app reads a config map.
      a({ verb: 'patch', user: kubelet, time: t('14:05:30'), resource: 'nodes', name: NODE, subresource: 'status' }),
      a({ verb: 'get', user: saK8sUser('shop', 'checkout', 'checkout-1', NODE), time: t('14:06:10'), resource: 'configmaps', namespace: 'shop', name: 'checkout-config' }),
      tick('14:06:59'),
      tick('14:07:01'),
      tick('14:30:00'),
    ]);
    expect(alerts.map((x) => [x.rule.id, x.rule.level])).toEqual([[SILENT, 'medium']]);
    expect(alerts[0]!.summary).toContain('shop/checkout-1 (cluster prod-eks-01) silent since 14:04:00 (heartbeat 5; none for 3 intervals of 60 s), while the pod still ran: its service account system:serviceaccount:shop:checkout get configmaps from the pod at 14:06:10');
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    expect(alerts[0]!.rule.tags).toContain('attack.t1562.001');
  });

  it('low when the audit plane shows neither life nor end of the pod; an exec into the pod counts as life', () => {
    expect(run(SILENT, [...beats(2), tick('14:05:00')]).map((x) => x.rule.level)).toEqual(['low']);
    const exec = run(SILENT, [...beats(2), ev(execInto(iamK8sUser(alice, 'alice'), 'shop/checkout-1', t('14:02:00'))), tick('14:05:00')]);
    expect(exec.map((x) => x.rule.level)).toEqual(['medium']);
    expect(exec[0]!.summary).toContain('alice create exec on the pod at 14:02:00');
  });

  it('a gap ended by the heartbeat itself, with nothing else in between (a sensor stopped, then continued), is a silence too', () => {
    const alerts = run(SILENT, [...beats(3), ...beats(2, 360, 4)]);
    expect(alerts.map((x) => [x.rule.level, x.summary])).toEqual([['low', 'Runtime sensor of shop/checkout-1 (cluster prod-eks-01) silent since 14:02:00 (heartbeat 3; none for 4 intervals of 60 s), and the audit plane shows no end of the pod']]);
  });

  it('once per silence; heartbeats again start the watch anew', () => {
    const alerts = run(SILENT, [...beats(2), tick('14:05:00'), tick('14:06:00'), ...beats(2, 420, 9), tick('14:15:00')]);
    expect(alerts.map((x) => x.summary.slice(0, 80))).toEqual([
      expect.stringContaining('silent since 14:01:00'),
      expect.stringContaining('silent since 14:08:00'),
    ]);
  });

  it('silent: heartbeats on time, a stopping heartbeat, the pod deleted or evicted, its Fargate node or namespace deleted, a gap under the threshold, the end of the input', () => {
    expect(run(SILENT, [...beats(10), tick('14:10:30')])).toEqual([]);
    // SIGTERM (rollout): the last heartbeat says stopping.
    expect(run(SILENT, [...beats(3), hb(t('14:02:30'), 4, { stopping: true }), tick('14:30:00')])).toEqual([]);
    expect(run(SILENT, [...beats(3), a({ verb: 'delete', user: controller, time: t('14:02:40'), resource: 'pods', namespace: 'shop', name: 'checkout-1' }), tick('14:30:00')])).toEqual([]);
    expect(run(SILENT, [...beats(3), a({ verb: 'create', user: iamK8sUser(alice, 'alice'), time: t('14:02:40'), resource: 'pods', namespace: 'shop', name: 'checkout-1', subresource: 'eviction' }), tick('14:30:00')])).toEqual([]);
    expect(run(SILENT, [...beats(3), a({ verb: 'delete', user: iamK8sUser(alice, 'alice'), time: t('14:03:00'), resource: 'nodes', name: NODE }), tick('14:30:00')])).toEqual([]);
    expect(run(SILENT, [...beats(3), a({ verb: 'delete', user: iamK8sUser(alice, 'alice'), time: t('14:03:00'), resource: 'namespaces', name: 'shop' }), tick('14:30:00')])).toEqual([]);
    // Two intervals missed (a sensor restarted by its liveness probe comes back within seconds): under 3.
    expect(run(SILENT, [...beats(2), ...beats(2, 180, 1, { start: '2024-11-05T14:02:59.000Z' }), tick('14:05:30')])).toEqual([]);
    // The input ends 2.5 intervals after the last heartbeat: a replay's end is not silence.
    expect(run(SILENT, [...beats(2), tick('14:03:30')])).toEqual([]);
  });

  it('near miss: a delete refused, or of another pod, does not end the watch', () => {
    const alerts = run(SILENT, [
      ...beats(2),
      a({ verb: 'delete', user: iamK8sUser(alice, 'alice'), time: t('14:01:30'), resource: 'pods', namespace: 'shop', name: 'checkout-1', code: 403 }),
      a({ verb: 'delete', user: controller, time: t('14:01:40'), resource: 'pods', namespace: 'shop', name: 'checkout-2' }),
      tick('14:05:00'),
    ]);
    expect(alerts.map((x) => x.rule.id)).toEqual([SILENT]);
  });
});

describe('runtime sensor heartbeats from two senders', () => {
  it('high when the sequence goes back under the same sensor start, later in event time', () => {
    const alerts = run(SEQ, [...beats(5), hb(t('14:04:30'), 2)]);
    expect(alerts.map((x) => [x.rule.id, x.rule.level])).toEqual([[SEQ, 'high']]);
    expect(alerts[0]!.summary).toBe('Two senders speak as the runtime sensor of shop/checkout-1 (cluster prod-eks-01): heartbeat number 2 after number 5 from the same sensor start (2024-11-05T13:00:00.000Z) at 14:04:30');
  });

  it('high when heartbeats of an older sensor start come after a newer one (an impostor beside a restarted sensor), at most once an hour', () => {
    const restarted = '2024-11-05T14:02:10.000Z';
    const alerts = run(SEQ, [
      ...beats(3),
      hb(t('14:02:15'), 1, { start: restarted }),
      hb(t('14:02:30'), 4),
      hb(t('14:03:15'), 2, { start: restarted }),
      hb(t('14:03:30'), 5),
    ]);
    expect(alerts.map((x) => x.summary)).toEqual([
      `Two senders speak as the runtime sensor of shop/checkout-1 (cluster prod-eks-01): heartbeat from sensor start ${START} after heartbeats from a later start (${restarted}, number 1) at 14:02:30`,
    ]);
  });

  it('silent: a restart (newer start, seq 1), a resent heartbeat, a new pod of the same name (another UID), heartbeats without a pod UID', () => {
    expect(run(SEQ, [...beats(3), ...beats(3, 200, 1, { start: '2024-11-05T14:03:00.000Z' })])).toEqual([]);
    const resent = beats(3);
    expect(run(SEQ, [...resent, resent[1]!, hb(t('14:01:00'), 2)])).toEqual([]);
    expect(run(SEQ, [...beats(5), ...beats(2, 330, 1, { uid: 'uid-2' })])).toEqual([]);
    const noUid = (time: string, seq: number): SeamEvent => {
      const e = hb(time, seq);
      delete (e.heartbeat as Record<string, unknown>).pod_uid;
      return e;
    };
    expect(run(SEQ, [noUid(t('14:00:00'), 5), noUid(t('14:01:00'), 2)])).toEqual([]);
  });
});
