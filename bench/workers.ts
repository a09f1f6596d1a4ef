/**
 * `seam replay --workers 2` beside `--workers 1` (ADR 0018) on the events and rules of bench:peers (100k
 * generated events, the 3,140 SigmaHQ rules), each run as a user runs it (`seam replay FILE --rules RULES`
 * from the compiled build, warm rule cache), whole process timed from outside (wall, CPU, peak RSS of
 * all threads by /usr/bin/time), runs alternated so both see the same machine.
 *
 *   npm run bench:workers [-- EVENTS=100000 RUNS=2 TENANTS=7 RULES=../shared/sigma/rules]
 *
 * Two inputs:
 * - the bench:peers file as it is: one account, one cluster, so one tenant. All of it goes to one
 *   worker; what this shows is the cost of the machinery (two passes over the input, the messages).
 * - the same events with the CloudTrail lines spread over TENANTS accounts (bench/workers-input.ts):
 *   one cluster's audit log, runtime events and findings beside an organization trail. The result line
 *   is this input's. Tenant 0 (the cluster and its account) keeps ~74% of the records, so one worker
 *   does most of the work: the speed-up is bounded by that share, whatever the threads cost.
 * - that input's CloudTrail lines alone (~30% of the events, TENANTS accounts of about equal size): what
 *   the split gives when the tenants are balanced.
 * For each: the alerts of both runs, sorted, must be the same lines (else the bench fails), and the time
 * split printed by `--workers` (main thread's two passes, each worker's rule load and busy time) says
 * where the time goes.
 *
 * Last line:
 * `workers: speedup=<w1_wall/w2_wall> w1_events_per_s=<n> w2_events_per_s=<n> w1_rss_mb=<n> w2_rss_mb=<n> alerts_w1=<n> alerts_w2=<n>`
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateLines } from './lib/events.ts';
import { benchCli, ensureCompiledBuild, fastest as best, measureProcess, needGnuTime } from './lib/processes.ts';
import { multiAccountLines } from './workers-input.ts';

const { arg, say, fail, load } = benchCli('bench:workers');
const ROOT = resolve(import.meta.dirname, '..');
const N = Number(arg('EVENTS', '100000'));
const RUNS = Number(arg('RUNS', '2'));
const TENANTS = Number(arg('TENANTS', '7'));
const RULES = resolve(ROOT, arg('RULES', '../shared/sigma/rules'));
const WORK = join(ROOT, '.cache', 'bench-workers');
const SEAM = join(ROOT, 'bin', 'seam.mjs');

say(`load average at start: ${load()} (${process.version}); events=${N} runs=${RUNS} tenants=${TENANTS} rules=${RULES}`);
if (!existsSync(RULES)) fail(`rule folder ${RULES} not found`);
needGnuTime(fail);

// ---- events, generated once (bench/lib/events.ts, as bench:peers) -------------------------------------
mkdirSync(WORK, { recursive: true });
const ONE_ACCOUNT = join(WORK, `events-${N}.jsonl`);
const MANY = join(WORK, `events-${N}-${TENANTS}-accounts.jsonl`);
const TRAILS = join(WORK, `events-${N}-${TENANTS}-accounts-cloudtrail.jsonl`);
if (!existsSync(ONE_ACCOUNT)) writeFileSync(ONE_ACCOUNT, generateLines(N).join('\n') + '\n');
if (!existsSync(MANY) || !existsSync(TRAILS)) {
  const lines = multiAccountLines(N, TENANTS);
  writeFileSync(MANY, lines.join('\n') + '\n');
  writeFileSync(TRAILS, lines.filter((l) => (JSON.parse(l) as Record<string, unknown>).eventSource !== undefined).join('\n') + '\n');
}
const trailEvents = readFileSync(TRAILS, 'utf8').split('\n').filter(Boolean).length;
const RUN = mkdtempSync(join(WORK, 'run-'));
process.on('exit', () => rmSync(RUN, { recursive: true, force: true }));

// ---- the compiled build ------------------------------------------------------------------------------
ensureCompiledBuild(ROOT, say, fail);

// ---- one run -----------------------------------------------------------------------------------------
interface Run {
  workers: number;
  wallS: number;
  cpuS: number;
  rssMb: number;
  alerts: string[];
  split: string;
  plan: string;
  load: string;
}
const env = { ...process.env, SEAM_RUNTIME: 'dist', SEAM_CACHE_DIR: join(RUN, 'seam-cache'), SEAM_LOG_LEVEL: 'warn' };
function seam(file: string, workers: number): Run {
  const alertsFile = join(RUN, `alerts-${workers}.jsonl`);
  const args = [SEAM, 'replay', file, '--rules', RULES, '--dlq', join(RUN, 'dlq.jsonl'), '--alerts-out', alertsFile, '--workers', String(workers)];
  const m = measureProcess(RUN, process.execPath, args, env, fail);
  const lines = m.stderr.split('\n');
  return {
    workers,
    wallS: m.wallS,
    cpuS: m.cpuS,
    rssMb: m.rssMb,
    alerts: readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean).sort(),
    split: lines.find((l) => l.startsWith('replay: main thread'))?.slice('replay: '.length) ?? '',
    plan: lines.find((l) => l.includes(' workers, tenants='))?.slice('replay: '.length) ?? '',
    load: load(),
  };
}
const fmt = (r: Run): string => `wall ${r.wallS.toFixed(2)} s, cpu ${r.cpuS.toFixed(2)} s, rss ${r.rssMb.toFixed(0)} MB, alerts ${r.alerts.length} (load ${r.load})`;

// Warm the rule cache (a restart with unchanged rules, as bench:peers measures Seam).
const ONE = join(RUN, 'one.jsonl');
writeFileSync(ONE, readFileSync(ONE_ACCOUNT, 'utf8').split('\n', 1)[0] + '\n');
seam(ONE, 1);

function compare(name: string, file: string): { w1: Run; w2: Run } {
  const w1: Run[] = [];
  const w2: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    w1.push(seam(file, 1));
    say(`${name} --workers 1: ${fmt(w1.at(-1)!)}`);
    w2.push(seam(file, 2));
    say(`${name} --workers 2: ${fmt(w2.at(-1)!)}; ${w2.at(-1)!.plan}; ${w2.at(-1)!.split}`);
  }
  const a = best(w1);
  const b = best(w2);
  const same = a.alerts.length === b.alerts.length && a.alerts.every((l, i) => l === b.alerts[i]);
  if (!same) fail(`${name}: --workers 2 wrote other alerts than --workers 1 (${b.alerts.length} vs ${a.alerts.length})`);
  say(`${name}: speedup ${(a.wallS / b.wallS).toFixed(3)} (best of ${RUNS}), CPU ${(b.cpuS / a.cpuS).toFixed(2)}x of one thread's, same ${a.alerts.length} alerts`);
  return { w1: a, w2: b };
}

compare('one account', ONE_ACCOUNT);
const trails = compare(`${TENANTS} accounts' CloudTrail alone (${trailEvents} events)`, TRAILS);
say(`balanced tenants: w1_events_per_s=${(trailEvents / trails.w1.wallS).toFixed(0)} w2_events_per_s=${(trailEvents / trails.w2.wallS).toFixed(0)}`);
const { w1, w2 } = compare(`${TENANTS} accounts`, MANY);
say(`load average at end: ${load()}`);
say(
  `workers: speedup=${(w1.wallS / w2.wallS).toFixed(3)} w1_events_per_s=${(N / w1.wallS).toFixed(0)} w2_events_per_s=${(N / w2.wallS).toFixed(0)} w1_rss_mb=${w1.rssMb.toFixed(0)} w2_rss_mb=${w2.rssMb.toFixed(0)} alerts_w1=${w1.alerts.length} alerts_w2=${w2.alerts.length}`,
);
