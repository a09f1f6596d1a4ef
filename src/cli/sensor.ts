import { InvalidArgumentError, type Command } from 'commander';

export interface SensorOptions {
  /** seam.yml whose `sensor` section is read (default SEAM_CONFIG); SEAM_* variables and flags win over it. */
  config?: string;
  intervalMs?: number;
  stdout?: boolean;
  probe?: number[];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Adds the options and action of `seam sensor` to a command (the `seam` CLI, or the sidecar's own entry). */
export function defineSensorCommand(cmd: Command): Command {
  return cmd
    .description('Fargate runtime sensor: scan the pod\'s shared pid namespace and send seam.runtime/v1 events to the ingest endpoint (configured from seam.yml\'s sensor section and SEAM_* environment variables; see docs/runtime-schema.md)')
    .option('--config <file>', 'seam.yml whose sensor section is read (default SEAM_CONFIG); SEAM_* variables and flags win over it (docs/config-reference.md, sensor)')
    .option('--interval-ms <n>', 'scan interval (default 250, or SEAM_SENSOR_INTERVAL_MS)', positiveInt)
    .option('--stdout', 'write events to stdout as NDJSON instead of sending them')
    .option('--probe <pid...>', 'print what this process can read of each pid\'s /proc entry, then exit', (v: string, prev: number[] = []) => [...prev, positiveInt(v)])
    .action(async (o: SensorOptions) => {
      process.exitCode = await sensorCommand(o);
    });
}

/** Runs the sensor until SIGTERM/SIGINT. Thin: configuration from seam.yml's sensor section and the environment, the work in src/sensor. */
export async function sensorCommand(o: SensorOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (o.probe) {
    const { formatVisibility, probeVisibility } = await import('../sensor/visibility.ts');
    for (const pid of o.probe) process.stdout.write(`${pid} ${formatVisibility(probeVisibility(env.SEAM_SENSOR_PROC ?? '/proc', pid))}\n`);
    return 0;
  }
  const { configFromEnv } = await import('../sensor/config.ts');
  const { Sensor } = await import('../sensor/sensor.ts');
  let config;
  try {
    const file = o.config ?? (env.SEAM_CONFIG || undefined);
    const section = file === undefined ? {} : (await import('../sensor/config-file.ts')).readSensorSection(file);
    config = configFromEnv(env, { ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}), ...(o.stdout ? { ingest: undefined } : {}) }, section);
  } catch (error) {
    process.stderr.write(`seam sensor: ${(error as Error).message}\n`);
    return 2;
  }
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const stats = await new Sensor(config).run(ac.signal);
  const s = stats.scan;
  const sh = stats.ship;
  process.stderr.write(
    `sensor: scans=${s.scans} processes=${s.processes} execs=${s.execs} connections=${s.connections} unowned=${s.unownedConnections} files=${s.files} ` +
      `unseen_pids=${s.unseenPids} vanished=${s.vanished} limited=${s.limitedProcesses} tcp_table_reads=${s.tableReads} udp_table_reads=${s.udpTableReads} max_gap_ms=${stats.maxScanGapMs} scan_cpu_ms=${stats.scanCpuMs}` +
      (sh ? ` sent=${sh.sent} spooled=${sh.spoolRecords} dropped=${sh.dropped} failures=${sh.failures} rejected=${Object.values(sh.rejected).reduce((a, b) => a + b, 0)}` : '') +
      '\n',
  );
  return 0;
}
