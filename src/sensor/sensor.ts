import { sleep } from '../core/backoff.ts';
import { childLogger } from '../core/logger.ts';
import type { SensorConfig } from './config.ts';
import { Heartbeat, listenHealth } from './heartbeat.ts';
import { Scanner, type RuntimeRecord, type ScanCounters } from './scan.ts';
import { Shipper, type ShipCounters } from './ship.ts';

const log = childLogger('sensor');

export interface SensorStats {
  scan: ScanCounters;
  ship?: ShipCounters;
  /** CPU time the scans took (not the whole process: the process figure is measured from outside). */
  scanCpuMs: number;
  /** Longest gap between the starts of two scans: a process living longer than this was always seen. */
  maxScanGapMs: number;
  uptimeMs: number;
}

export interface SensorDeps {
  /** Where events go when no ingest endpoint is configured (NDJSON lines). */
  write?: (line: string) => void;
  shipper?: Shipper;
}

/**
 * The sidecar: scans /proc every `intervalMs` (at a fixed cadence, not "interval after the last scan
 * ended", so a slow scan does not widen the blind spot) and ships what it finds.
 */
export class Sensor {
  readonly scanner: Scanner;
  readonly shipper: Shipper | undefined;
  private scanCpuUs = 0;
  private maxGapMs = 0;
  private lastScanAt: number | undefined;
  private readonly startedAt = Date.now();
  private readonly heartbeat: Heartbeat;
  private nextHeartbeatAt: number | undefined;

  constructor(
    readonly config: SensorConfig,
    private readonly deps: SensorDeps = {},
  ) {
    this.scanner = new Scanner(config);
    this.shipper = deps.shipper ?? (config.ingest ? new Shipper(config.ingest) : undefined);
    this.heartbeat = new Heartbeat(config, this.startedAt);
  }

  /** The heartbeat is due at `now` (the first at the first step): queue it like any event. */
  private beat(now: number, stopping = false): void {
    if (!stopping && this.nextHeartbeatAt !== undefined && now < this.nextHeartbeatAt) return;
    this.nextHeartbeatAt = now + this.config.heartbeatIntervalMs;
    const record = this.heartbeat.next(now, { scan: this.scanner.counters, ...(this.shipper ? { ship: this.shipper.counters } : {}), maxScanGapMs: this.maxGapMs }, stopping);
    this.emit([record]);
  }

  private emit(records: readonly object[]): void {
    if (this.shipper) this.shipper.enqueue(records);
    else for (const e of records) (this.deps.write ?? ((l: string) => process.stdout.write(l)))(JSON.stringify(e) + '\n');
  }

  /** One scan, its events handed to the shipper (or the writer). */
  step(now = Date.now()): RuntimeRecord[] {
    if (this.lastScanAt !== undefined) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastScanAt);
    this.lastScanAt = now;
    const cpu = process.cpuUsage();
    const events = this.scanner.scan(now);
    const d = process.cpuUsage(cpu);
    this.scanCpuUs += d.user + d.system;
    this.emit(events);
    this.beat(now);
    return events;
  }

  stats(): SensorStats {
    return {
      scan: { ...this.scanner.counters },
      ...(this.shipper ? { ship: { ...this.shipper.counters, rejected: { ...this.shipper.counters.rejected } } } : {}),
      scanCpuMs: Math.round(this.scanCpuUs / 1000),
      maxScanGapMs: this.maxGapMs,
      uptimeMs: Date.now() - this.startedAt,
    };
  }

  /** Runs until the signal aborts, then sends what is spooled (for up to `drainMs`). */
  async run(signal: AbortSignal): Promise<SensorStats> {
    const interval = this.config.intervalMs;
    log.info({ intervalMs: interval, pod: `${this.config.pod.namespace}/${this.config.pod.name}`, ingest: this.config.ingest?.url ?? 'stdout' }, 'Sensor started.');
    let next = Date.now();
    let nextStats = Date.now() + this.config.statsIntervalMs;
    // A stopped scan loop must fail the probe: 10 intervals, at least 5 s (a loaded node delays a scan by seconds).
    const health =
      this.config.healthPort === undefined
        ? undefined
        : await listenHealth(this.config.healthHost, this.config.healthPort, () => this.lastScanAt ?? this.startedAt, Math.max(10 * interval, 5000));
    if (health) log.info({ port: health.port }, 'Sensor liveness endpoint is listening (GET /healthz).');
    while (!signal.aborted) {
      const now = Date.now();
      this.step(now);
      void this.shipper?.tick(now);
      if (now >= nextStats) {
        nextStats = now + this.config.statsIntervalMs;
        log.info({ stats: this.stats() }, 'Sensor counters.');
      }
      next += interval;
      // Behind by more than a whole interval (the CPU was taken away): skip ahead rather than scan in a burst.
      if (next < Date.now()) next = Date.now();
      await sleep(Math.max(0, next - Date.now()), signal);
    }
    // The last heartbeat says the sensor was told to stop: silence after it is expected (pod deleted, container restarted).
    this.beat(Date.now(), true);
    health?.server.close();
    if (this.shipper) await this.shipper.drain(Date.now() + (this.config.ingest?.shutdownDrainMs ?? 0));
    const stats = this.stats();
    log.info({ stats }, 'Sensor stopped.');
    return stats;
  }
}
