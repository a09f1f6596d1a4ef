import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeEvent } from '../core/schemas/runtime.ts';
import { SensorConfig } from './config.ts';
import { Heartbeat, listenHealth } from './heartbeat.ts';
import type { ScanCounters } from './scan.ts';

const scan: ScanCounters = { scans: 7, processes: 3, execs: 1, connections: 2, unownedConnections: 0, files: 1, vanished: 0, unseenPids: 4, closedMetadataConnections: 0, tableReads: 5, udpTableReads: 6, limitedProcesses: 0 };
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('sensor heartbeat', () => {
  it('is a valid seam.runtime/v1 record: seq 1, 2, … from one start, distinct ids, the counters, stopping on the last', () => {
    const config = SensorConfig.parse({ pod: { namespace: 'shop', name: 'checkout-1', uid: 'u-1', cluster: 'prod', serviceAccount: 'checkout' }, heartbeatIntervalMs: 30_000 });
    const start = Date.parse('2026-12-05T10:00:00Z');
    const h = new Heartbeat(config, start);
    const a = h.next(start + 10, { scan, maxScanGapMs: 260 });
    const b = h.next(start + 30_010, { scan, maxScanGapMs: 260 }, true);
    expect(RuntimeEvent.safeParse(a).success).toBe(true);
    expect(a).toMatchObject({ kind: 'heartbeat', namespace: 'shop', pod: 'checkout-1', service_account: 'checkout', heartbeat: { seq: 1, sensor_start: '2026-12-05T10:00:00.000Z', interval_ms: 30_000, pod_uid: 'u-1', uptime_ms: 10, counters: { scans: 7, unseen_pids: 4, max_scan_gap_ms: 260 } } });
    expect(a).not.toHaveProperty('container');
    expect(b).toMatchObject({ heartbeat: { seq: 2, stopping: true } });
    expect(b.id).not.toBe(a.id);
    // Another start of the sensor in the same pod: seq starts again, ids differ.
    const again = new Heartbeat(config, start + 60_000).next(start + 60_001, { scan, maxScanGapMs: 0 });
    expect(again).toMatchObject({ heartbeat: { seq: 1, sensor_start: '2026-12-05T10:01:00.000Z' } });
    expect(again.id).not.toBe(a.id);
  });

  it('liveness: 200 while scans are recent, 503 when the last scan is older than staleMs', async () => {
    let last = Date.now();
    const { server, port } = await listenHealth('127.0.0.1', 0, () => last, 1000);
    closers.push(() => server.close());
    const get = async (path: string): Promise<number> => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
    expect(await get('/healthz')).toBe(200);
    last = Date.now() - 5000;
    expect(await get('/healthz')).toBe(503);
    expect(await get('/')).toBe(404);
  });
});
