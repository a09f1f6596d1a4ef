import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.ts';
import { TOPICS } from '../../bus/topics.ts';
import { MetricsServer } from '../../core/metrics.ts';
import { registerCollectorMetrics } from '../../pipeline/metrics.ts';
import { SensorConfig } from '../../sensor/config.ts';
import { Sensor } from '../../sensor/sensor.ts';
import { Shipper } from '../../sensor/ship.ts';
import { SidecarSourceConfig } from './config.ts';
import { LastSeen } from './last-seen.ts';
import { sha256Hex } from './parse.ts';
import { SidecarSource } from './source.ts';

const hb = (pod: string, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  schema: 'seam.runtime/v1',
  kind: 'heartbeat',
  namespace: 'shop',
  pod,
  heartbeat: { seq, sensor_start: '2026-12-05T00:00:00.000Z', interval_ms: 60_000, ...extra },
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('sidecar last seen', () => {
  it('tracks heartbeats only, forgets pods unheard for forgetMs, drops a stopping sensor at once, and keeps at most maxPods', () => {
    const seen = new LastSeen({ forgetMs: 10_000, maxPods: 2 });
    seen.note({ ...hb('a', 1), kind: 'process' }, 'prod', 0);
    expect(seen.snapshot(0)).toEqual([]);
    seen.note(hb('a', 1), 'prod', 0);
    seen.note(hb('b', 1), 'prod', 5_000);
    expect(seen.snapshot(9_000).map((p) => [p.pod, p.atMs])).toEqual([
      ['a', 0],
      ['b', 5_000],
    ]);
    // a not heard from for more than 10 s: its series ends.
    expect(seen.snapshot(12_000).map((p) => p.pod)).toEqual(['b']);
    seen.note(hb('a', 2), 'prod', 12_000);
    seen.note(hb('c', 1), 'prod', 12_500);
    // Three pods, room for two: b (heard from longest ago) goes.
    expect(seen.snapshot(13_000).map((p) => p.pod)).toEqual(['a', 'c']);
    seen.note(hb('a', 3, { stopping: true }), 'prod', 13_000);
    expect(seen.snapshot(13_000).map((p) => p.pod)).toEqual(['c']);
  });

  it('a real sensor heartbeats through the real endpoint: seam_sidecar_last_seen_seconds per pod, growing while it is silent', async () => {
    const bus = new MemoryBus();
    const token = 'hb-test-token';
    const src = new SidecarSource(SidecarSourceConfig.parse({ type: 'sidecar', host: '127.0.0.1', port: 0, tokens: [{ id: 't', sha256: sha256Hex(token), cluster: 'prod' }] }), { producer: await bus.producer() });
    const url = await src.listen();
    closers.push(() => src.close());
    const config = SensorConfig.parse({ pod: { namespace: 'shop', name: 'checkout-1', uid: 'uid-1', cluster: 'prod' }, heartbeatIntervalMs: 1000, ingest: { url, cluster: 'prod' } });
    const shipper = new Shipper(config.ingest!, undefined, { SEAM_INGEST_TOKEN: token });
    const sensor = new Sensor(config, { shipper });
    const t0 = Date.now();
    // Three scans inside one interval: one heartbeat (the first, at start); a fourth after the interval: the second.
    sensor.step(t0);
    sensor.step(t0 + 300);
    sensor.step(t0 + 600);
    sensor.step(t0 + 1000);
    // The endpoint notes a heartbeat when it receives it: at or after this instant.
    const beforeShip = Date.now();
    await shipper.tick(Date.now(), true);
    expect(shipper.counters.failures).toBe(0);
    const beats = bus
      .read(TOPICS.raw('runtime'))
      .flat()
      .map((m) => JSON.parse(m.value!.toString()) as { kind: string; heartbeat?: { seq: number; interval_ms: number; pod_uid: string; counters: { scans: number } } })
      .filter((r) => r.kind === 'heartbeat');
    expect(beats.map((b) => [b.heartbeat!.seq, b.heartbeat!.counters.scans])).toEqual([
      [1, 1],
      [2, 4],
    ]);
    expect(beats[0]!.heartbeat).toMatchObject({ interval_ms: 1000, pod_uid: 'uid-1' });

    const metrics = new MetricsServer({ defaultMetrics: false });
    closers.push(() => metrics.close());
    registerCollectorMetrics(metrics, { collectors: () => [{ name: 'sidecar', stats: () => src.snapshot() }], running: () => true });
    const gauge = async (): Promise<number> => {
      const text = await metrics.registry.metrics();
      const m = /^seam_sidecar_last_seen_seconds\{collector="sidecar",cluster="prod",namespace="shop",pod="checkout-1"\} (\S+)$/m.exec(text);
      expect(m, text).not.toBeNull();
      return Number(m![1]);
    };
    // The age is bounded by the time since the heartbeats were shipped, measured around it (not a fixed number of
    // seconds, which a loaded machine can pass between the ship and the scrape: that is speed, not correctness).
    const first = await gauge();
    const sinceShip = (Date.now() - beforeShip) / 1000;
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThanOrEqual(sinceShip);
    // Growing while the sensor is silent (300 ms is time passing, a lower bound whatever the load; not a wait for something).
    await new Promise((r) => setTimeout(r, 300));
    expect(await gauge()).toBeGreaterThan(first);
  });
});
