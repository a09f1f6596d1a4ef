// NativeEngine.quiet (ADR 0009 decision 7): the correlate role's quiet advance to the wall clock emits what is due then,
// but leaves the engine's event time alone, so records produced afterwards with older event times (the next chunk of
// a backlog, a collector catching up) are judged by their own time, as when produced at once.
import { describe, expect, it } from 'vitest';
import { ACCOUNT, alice, audit, callAs, ciDeployer, CLUSTER, ev, iamK8sUser, t, type IamSession } from '../../../test/identity/records.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import type { Alert } from '../alert.ts';
import { createNativeEngine } from './engine.ts';

const H = 3600_000;
const BASE = Date.parse('2024-11-05T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString().replace(/\.\d+Z$/, 'Z');
const param = (s: IamSession, name: string, hours: number): SeamEvent =>
  ev(callAs(s, 'ssm.amazonaws.com', 'GetParameter', at(hours), undefined, { name, withDecryption: true }, { userAgent: 'aws-cli/2.22.4' }), undefined);
const names = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}key-${String(i).padStart(2, '0')}`);

/** Runs the native detections over `chunks`, with a quiet advance to the wall clock after each but the last, then flushes. */
function run(chunks: SeamEvent[][], only?: string[]): Alert[] {
  const engine = createNativeEngine(only === undefined ? {} : { only });
  const out: Alert[] = [];
  chunks.forEach((chunk, i) => {
    for (const e of chunk) out.push(...engine.process(structuredClone(e)));
    if (i < chunks.length - 1) out.push(...engine.quiet(Date.now()));
  });
  out.push(...engine.flush());
  expect(engine.stats().errors).toEqual({});
  return out;
}

const shape = (alerts: Alert[]): string[] => alerts.map((a) => `${a.rule.id} ${a.id} ${a.rule.level} ${a.events.join(',')}`).sort();

describe('a quiet advance leaves the native detections on event time (NativeEngine.quiet)', () => {
  it('a secret-read burst in records produced after a quiet advance still waits its grace: the same alert as produced at once', () => {
    // Day 1 teaches alice's and the CI role's baselines; on day 2 alice reads 12 parameters she never read, one every
    // 30 s: the burst reaches ten at the 10th and shows the reads within its grace (the 11th and 12th too).
    const learning = [param(alice, '/prod/payments/key-00', 2), ...names(15, '/prod/infra/').map((n, i) => param(ciDeployer, n, 3 + i / 600))];
    const harvest = names(12, '/prod/payments/').map((n, i) => param(alice, n, 30 + i / 120));
    const once = run([[...learning, ...harvest]], ['seam-native-secrets-first-read-burst']);
    expect(once.map((a) => a.rule.id)).toEqual(['seam-native-secrets-first-read-burst']);
    expect(once[0]!.events).toHaveLength(11);
    // The backlog in chunks: the burst is completed after the quiet advance (before: settled at once on the wall
    // clock, without its grace, showing 10 of the 11 reads under another id).
    for (const cut of [3, 8, 10]) {
      const chunked = run([[...learning, ...harvest.slice(0, cut)], harvest.slice(cut)], ['seam-native-secrets-first-read-burst']);
      expect(shape(chunked)).toEqual(shape(once));
    }
    // A burst already pending when the input went quiet is due by the wall clock: the quiet advance settles it (its
    // final, as a judged correlation's), with the reads that had arrived; the 12th read, produced later, is not shown.
    const final = run([[...learning, ...harvest.slice(0, 11)], harvest.slice(11)], ['seam-native-secrets-first-read-burst']);
    expect(final.map((a) => a.events.length)).toEqual([10]);
  });

  it('a sensor silence in records produced after a quiet advance is judged by their event time: the same alert as produced at once', () => {
    // Heartbeats every 60 s from 14:00, a gap of 6 minutes from 14:19 with the cluster's other requests moving event
    // time on, then heartbeats again: one silence (since 14:19:00, 3 intervals), low.
    const SILENT = 'seam-native-runtime-sensor-silent';
    let n = 0;
    const hb = (at: string): SeamEvent =>
      ev({
        schema: 'seam.runtime/v1', id: `q-hb-${++n}`, time: at, kind: 'heartbeat', cluster: CLUSTER, account: ACCOUNT, namespace: 'shop', pod: 'checkout-1',
        node: 'fargate-ip-10-0-142-21.us-west-2.compute.internal',
        heartbeat: { seq: n, sensor_start: '2024-11-05T13:00:00.000Z', interval_ms: 60_000, pod_uid: 'uid-1', uptime_ms: 1000 },
      });
    const tick = (at: string): SeamEvent => ev(audit({ verb: 'list', user: iamK8sUser(alice, 'alice'), time: at, resource: 'configmaps', namespace: 'other' }));
    const first = Array.from({ length: 10 }, (_, i) => hb(t('14:00:00', i * 60)));
    const second = [
      ...Array.from({ length: 10 }, (_, i) => hb(t('14:10:00', i * 60))),
      ...[0, 60, 120, 180, 240].map((s) => tick(t('14:20:30', s))),
      ...Array.from({ length: 3 }, (_, i) => hb(t('14:25:00', i * 60))),
      tick('2024-11-05T14:27:30Z'),
    ];
    const once = run([[...first, ...second]], [SILENT]);
    expect(once).toHaveLength(1);
    expect(once[0]!.summary).toContain('silent since 14:19:00 (heartbeat 20; none for 3 intervals');
    const chunked = run([first, second], [SILENT]);
    // The quiet advance judges the sensor silent on the wall clock (its final: a quiet input is what silence is live);
    // the heartbeats of the next chunk start the watch anew, and the gap in it is judged by its own event time (before:
    // the engine's clock stayed on the wall clock, so no event in that chunk moved the detection and the gap went
    // unreported until the next quiet advance).
    expect(chunked).toHaveLength(2);
    expect(chunked[0]!.summary).toContain('silent since 14:09:00 (heartbeat 10;');
    expect(shape(chunked.slice(1))).toEqual(shape(once));
    expect(chunked[1]!.summary).toBe(once[0]!.summary);
  });
});
