/**
 * The Fargate sensor's scan: what it costs and what it catches (the numbers of ADR 0012).
 *
 *   npm run bench:sensor      (root: runs itself in a fresh pid and network namespace, like a pod's)
 *
 * 1. Cost: CPU per scan with N idle processes in the namespace, and per read of the socket tables.
 * 2. Catch rate: a shell starts processes of known lifetimes at random moments while the scanner runs at a
 *    given interval; the share of each lifetime that some scan saw, beside the blind-spot counter (pids
 *    the kernel allocated that no scan saw) to check that the counter tells the truth.
 * The machine is shared and loaded: CPU figures are upper bounds; the load average is printed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../src/sensor/config.ts';
import { readSockets } from '../src/sensor/net.ts';
import { readTcpOpens } from '../src/sensor/procfs.ts';
import { Scanner } from '../src/sensor/scan.ts';

if (process.env.SEAM_BENCH_IN_NS !== '1') {
  // Re-run inside a new pid namespace with its own /proc, so the scanner sees only this benchmark's processes,
  // and a new network namespace, so the socket tables and TCP counters hold only this benchmark's (as a pod's do).
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--net', process.execPath, join(import.meta.dirname, '..', 'bin', 'tsx-run.mjs'), import.meta.filename], { stdio: 'inherit', env: { ...process.env, SEAM_BENCH_IN_NS: '1' } });
  process.exit(r.status ?? 1);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const config = (intervalMs: number) => configFromEnv({ SEAM_POD_NAMESPACE: 'bench', SEAM_POD_NAME: 'bench', SEAM_SENSOR_INTERVAL_MS: String(intervalMs) });
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
process.stdout.write(`bench:sensor — load average ${load()}\n`);

// ---- 1. cost -----------------------------------------------------------------------------------------------
for (const n of [10, 50, 200]) {
  const kids: ChildProcess[] = Array.from({ length: n }, () => spawn('sleep', ['600'], { stdio: 'ignore' }));
  await sleep(300 + n * 5);
  const s = new Scanner(config(250));
  let now = Date.now();
  s.scan(now);
  const scans = 200;
  const t = cpuMs();
  for (let i = 0; i < scans; i++) s.scan((now += 250)); // virtual 250 ms steps: the UDP table sweep (2 s) happens every 8th scan
  const per = (cpuMs() - t) / scans;
  process.stdout.write(`  cost: ${n} processes: ${per.toFixed(2)} ms CPU per scan = ${(per * 4).toFixed(1)} ms/s at 250 ms, ${(per * 2).toFixed(1)} ms/s at 500 ms\n`);
  for (const k of kids) k.kill('SIGKILL');
  await sleep(100);
}
{
  const t = cpuMs();
  let sockets = 0;
  for (let i = 0; i < 100; i++) sockets = readSockets('/proc').length;
  process.stdout.write(`  cost: one read of the four socket tables (${sockets} sockets in this network namespace): ${((cpuMs() - t) / 100).toFixed(2)} ms CPU\n`);
  const u = cpuMs();
  for (let i = 0; i < 100; i++) readSockets('/proc', { tcp: false, udp: true });
  const v = cpuMs();
  for (let i = 0; i < 100; i++) readTcpOpens('/proc');
  process.stdout.write(`  cost: the two UDP tables alone ${((v - u) / 100).toFixed(3)} ms CPU; the TCP open counters (/proc/net/snmp, read every scan) ${((cpuMs() - v) / 100).toFixed(3)} ms CPU\n`);
}

// ---- 2. catch rate by lifetime and interval -----------------------------------------------------------------
const LIFETIMES_MS = [10, 50, 100, 250, 500, 1000];
const PER_LIFETIME = 20;
const dir = mkdtempSync(join(tmpdir(), 'seam-bench-sensor-'));
for (const interval of [100, 250, 500, 1000]) {
  const truthFile = join(dir, `truth-${interval}`);
  const order = LIFETIMES_MS.flatMap((l) => Array.from({ length: PER_LIFETIME }, () => l)).sort(() => Math.random() - 0.5);
  const script = order.map((l) => `sleep ${(l / 1000).toFixed(3)} & echo "$! ${l}" >> ${truthFile}; sleep 0.0$((RANDOM % 9 + 1))`).join('\n');
  const s = new Scanner(config(interval));
  const seen = new Map<number, Set<string>>(); // pid → programs seen
  const record = (): void => {
    for (const e of s.scan()) {
      if (e.kind !== 'process') continue;
      const p = e.process as { pid: number; exe: string };
      if (!seen.has(p.pid)) seen.set(p.pid, new Set());
      seen.get(p.pid)!.add(p.exe.split('/').pop()!);
    }
  };
  record();
  const cpu0 = cpuMs();
  const t0 = Date.now();
  const sh = spawn('bash', ['-c', script + '\nwait'], { stdio: 'ignore' });
  let done = false;
  sh.on('exit', () => (done = true));
  let next = Date.now();
  while (!done) {
    record();
    next += interval;
    await sleep(Math.max(0, next - Date.now()));
  }
  record();
  const cpuPerSec = (cpuMs() - cpu0) / ((Date.now() - t0) / 1000);
  const truth = readFileSync(truthFile, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
  const caught = (l: number): string => {
    const of = truth.filter(([, life]) => life === l);
    return `${of.filter(([pid]) => seen.get(pid)?.has('sleep')).length}/${of.length}`;
  };
  const missed = truth.filter(([pid]) => !seen.get(pid)?.has('sleep')).length;
  process.stdout.write(
    `  interval ${String(interval).padStart(4)} ms: caught by lifetime ${LIFETIMES_MS.map((l) => `${l} ms ${caught(l)}`).join(', ')}; ` +
      `missed ${missed}, blind-spot counter (pids no scan saw, incl. the script's own forks) ${s.counters.unseenPids}; scanner ${cpuPerSec.toFixed(1)} ms CPU/s while busy\n`,
  );
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`bench:sensor — load average ${load()}\n`);
