/**
 * Time to first alert with the SigmaHQ rules, measured from outside the process (issue 13): `seam replay` of
 * one CloudTrail StopLogging event (the event bench:peers uses) with `--rules RULES`, from the compiled build,
 * whole process timed by /usr/bin/time (wall, user+sys CPU, peak RSS). Cold: an empty rule cache (a first
 * start or new rules); warm: a restart with unchanged rules; rules-cold: only the rule cache emptied, the other
 * copies in the cache folder kept (the ASN table's parsed copy): a restart with new rules on a machine that ran
 * Seam before. Cold is a first start (the whole cache folder empty); the compiled build brings the ASN table's
 * parsed copy in dist/data/ (ADR 0013), so cold and rules-cold now differ only by the cache folder's other
 * contents (a build without it parses the ASN CSV on cold runs). Runs alternate the three so all see the
 * same load; the machine is shared, so the load average is printed beside each run. Last line:
 * `first-alert: cold_s=<best wall> warm_s=<best wall> cold_cpu_s=<n> warm_cpu_s=<n> cold_rss_mb=<n> warm_rss_mb=<n> rules_cold_s=<n> rules_cold_cpu_s=<n> rules=<n> load=<1-min avg>`
 *
 *   npm run bench:first-alert [-- RUNS=3 RULES=../shared/sigma/rules]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFirstAlertEvent } from './lib/first-alert-event.ts';

const arg = (k: string, d: string): string => process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d;
const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(arg('RUNS', '3'));
const RULES = resolve(ROOT, arg('RULES', '../shared/sigma/rules'));
// Private to this process: other benches share .cache/, and this one empties its rule cache between runs.
const WORK = join(ROOT, '.cache', `bench-first-alert-${process.pid}`);
const SEAM = join(ROOT, 'bin', 'seam.mjs');
const TIME = '/usr/bin/time';
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const fail = (s: string): never => {
  process.stderr.write(`bench:first-alert: ${s}\n`);
  process.exit(1);
};
if (!existsSync(RULES)) fail(`rule folder ${RULES} not found`);
if (!existsSync(TIME)) fail(`${TIME} (GNU time) is needed: apt-get install time`);
console.log(`load average at start: ${load()} (${process.version}); rules=${RULES} runs=${RUNS}`);

mkdirSync(WORK, { recursive: true });
const ONE = join(WORK, 'one-event.jsonl');
writeFirstAlertEvent(ONE);

if (spawnSync(process.execPath, [SEAM, '--help'], { env: { ...process.env, SEAM_RUNTIME: 'dist' }, encoding: 'utf8' }).status !== 0) {
  console.log('dist/ is missing or older than the sources: npm run build');
  if (spawnSync(process.execPath, [join(ROOT, 'bin/build.mjs')], { stdio: 'inherit' }).status !== 0) fail('npm run build failed');
}

interface Run {
  wallS: number;
  cpuS: number;
  rssMb: number;
  loadMs: number;
  rules: number;
  alerts: number;
  load: number;
}
const CACHE = join(WORK, 'seam-cache');
const ALERTS = join(WORK, 'alerts.jsonl');
function run(): Run {
  const timeFile = join(WORK, 'time.txt');
  const out = openSync(join(WORK, 'stdout.txt'), 'w');
  const before = loadavg()[0]!;
  const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, SEAM, 'replay', ONE, '--rules', RULES, '--dlq', join(WORK, 'dlq.jsonl'), '--alerts-out', ALERTS], {
    env: { ...process.env, SEAM_RUNTIME: 'dist', SEAM_CACHE_DIR: CACHE, SEAM_LOG_LEVEL: 'info' },
    stdio: ['ignore', out, 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  closeSync(out);
  if (r.status !== 0) fail(`seam replay exited ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  const [wall, user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  const loaded = r.stderr.toString().split('\n').find((l) => l.includes('"msg":"loaded '));
  const info = loaded === undefined ? undefined : (JSON.parse(loaded) as { rules?: number; ms?: { total?: number } });
  const alerts = readFileSync(ALERTS, 'utf8').split('\n').filter(Boolean).length;
  if (alerts < 1) fail('seam raised no alert on the one-event file');
  return { wallS: wall, cpuS: user + sys, rssMb: rss / 1024, loadMs: Number(info?.ms?.total), rules: Number(info?.rules), alerts, load: (before + loadavg()[0]!) / 2 };
}
const fmt = (k: string, r: Run): string =>
  `${k}: wall ${r.wallS.toFixed(2)} s, cpu ${r.cpuS.toFixed(2)} s, rss ${r.rssMb.toFixed(0)} MB, rules ${r.rules} loaded in ${r.loadMs} ms, alerts ${r.alerts}, load ${r.load.toFixed(2)}`;

const cold: Run[] = [];
const warm: Run[] = [];
const rulesCold: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  rmSync(CACHE, { recursive: true, force: true });
  const c = run();
  console.log(fmt('cold', c));
  cold.push(c);
  const w = run();
  console.log(fmt('warm', w));
  warm.push(w);
  rmSync(join(CACHE, 'rules'), { recursive: true, force: true });
  const r = run();
  console.log(fmt('rules-cold', r));
  rulesCold.push(r);
}
rmSync(WORK, { recursive: true, force: true });
const best = (rs: Run[]): Run => rs.reduce((a, b) => (b.wallS < a.wallS ? b : a));
const c = best(cold);
const w = best(warm);
const rc = best(rulesCold);
console.log(`load average at end: ${load()}`);
console.log(
  `first-alert: cold_s=${c.wallS.toFixed(2)} warm_s=${w.wallS.toFixed(2)} cold_cpu_s=${c.cpuS.toFixed(2)} warm_cpu_s=${w.cpuS.toFixed(2)} cold_rss_mb=${c.rssMb.toFixed(0)} warm_rss_mb=${w.rssMb.toFixed(0)} rules_cold_s=${rc.wallS.toFixed(2)} rules_cold_cpu_s=${rc.cpuS.toFixed(2)} rules=${w.rules} load=${loadavg()[0]!.toFixed(2)}`,
);
