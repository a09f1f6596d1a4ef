import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RUNTIME_SCHEMA_ID } from '../core/schemas/runtime.ts';
import type { SensorConfig } from './config.ts';
import type { ScanCounters } from './scan.ts';
import type { ShipCounters } from './ship.ts';

/**
 * The sensor's heartbeat (review-ops M7): a `kind: heartbeat` record every `heartbeatIntervalMs`, sent like any
 * event, so Seam can tell a silenced sensor (SIGSTOP or kill by the app, which shares its UID and pid namespace,
 * ADR 0012) from a quiet pod. `seq` counts from 1 at each start of the process (`sensor_start`), so a lower number
 * after a higher one from the same start is a second sender using the sensor's token.
 */

export interface HeartbeatCounters {
  scan: ScanCounters;
  ship?: ShipCounters;
  maxScanGapMs: number;
}

export class Heartbeat {
  private seq = 0;
  private readonly base: Record<string, unknown>;
  private readonly start: string;
  private readonly idBase: string;

  constructor(
    private readonly config: SensorConfig,
    private readonly startedAtMs: number,
    sensor = { name: 'seam-sensor', version: '0.1.0' },
  ) {
    const p = config.pod;
    this.start = new Date(startedAtMs).toISOString();
    this.idBase = `${p.uid ?? `${p.namespace}/${p.name}`}|${this.start}`;
    // The pod's identity without a container: the heartbeat is about the sensor, not the app container.
    this.base = Object.fromEntries(
      Object.entries({ schema: RUNTIME_SCHEMA_ID, cluster: p.cluster, account: p.account, region: p.region, namespace: p.namespace, pod: p.name, service_account: p.serviceAccount, node: p.node, sensor }).filter(
        ([, v]) => v !== undefined,
      ),
    );
  }

  /** The next heartbeat record (`stopping`: the last one, sent on SIGTERM). */
  next(nowMs: number, counters: HeartbeatCounters, stopping = false): Record<string, unknown> {
    this.seq++;
    const s = counters.scan;
    const sh = counters.ship;
    return {
      ...this.base,
      id: createHash('sha256').update(`${this.idBase}|heartbeat|${this.seq}`).digest('hex').slice(0, 32),
      time: new Date(nowMs).toISOString(),
      kind: 'heartbeat',
      heartbeat: {
        seq: this.seq,
        sensor_start: this.start,
        interval_ms: this.config.heartbeatIntervalMs,
        ...(this.config.pod.uid === undefined ? {} : { pod_uid: this.config.pod.uid }),
        uptime_ms: Math.max(0, nowMs - this.startedAtMs),
        ...(stopping ? { stopping: true } : {}),
        counters: {
          scans: s.scans,
          processes: s.processes,
          execs: s.execs,
          connections: s.connections,
          files: s.files,
          unseen_pids: s.unseenPids,
          limited_processes: s.limitedProcesses,
          max_scan_gap_ms: counters.maxScanGapMs,
          ...(sh === undefined ? {} : { sent: sh.sent, dropped: sh.dropped, failures: sh.failures, spool_records: sh.spoolRecords }),
        },
      },
    };
  }
}

/**
 * The liveness endpoint for the container's probe: `GET /healthz` answers 200 while the scan loop runs (a scan
 * started within `staleMs`), else 503. A stopped process (SIGSTOP) answers nothing, so the probe times out and the
 * kubelet restarts the container: the heartbeat's sequence then starts again at 1, which Seam reports.
 */
export async function listenHealth(host: string, port: number, lastScanAt: () => number | undefined, staleMs: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz') {
      res.writeHead(404).end('not found: /healthz\n');
      return;
    }
    const last = lastScanAt();
    const age = last === undefined ? undefined : Date.now() - last;
    if (age !== undefined && age <= staleMs) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(age === undefined ? 'no scan yet\n' : `last scan ${age} ms ago\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return { server, port: (server.address() as AddressInfo).port };
}
