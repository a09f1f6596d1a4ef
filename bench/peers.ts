/**
 * Seam beside rsigma 0.23.0 (a Rust Sigma engine) on the same events and the same rule folder, each run
 * as its user would run it, whole process timed from outside (wall, CPU, peak RSS by /usr/bin/time).
 *
 *   npm run bench:peers [-- EVENTS=100000 RUNS=3 RULES=../shared/sigma/rules BUILD_RSIGMA=yes ALERTS=FILE]
 *
 * ALERTS=FILE keeps the alerts of the last Seam run (to compare two builds: SEAM_DIST_DIR=DIR runs another build).
 *
 * - rsigma is built once with cargo into .cache/rsigma (`cargo install --locked rsigma@0.23.0`, ~12+ min
 *   here, under `nice`); the events are generated once by bench/lib/events.ts into .cache/bench-peers/.
 * - rsigma runs unrouted (every rule on every event: `engine eval -r RULES -e @FILE`) and routed: one run
 *   per source file (the events split by the source Seam assigns them) with `--logsource-routing
 *   --event-logsource product=aws,service=cloudtrail` (kubernetes/audit, linux, aws/guardduty), since raw
 *   records carry no product/service/category fields for rsigma to route on.
 * - Seam runs `seam replay FILE --rules RULES` from the compiled build (ADR 0013; built if stale), with its
 *   rule cache: first cold (empty cache), then warm (a restart with unchanged rules, what a deployment sees).
 * - Time to first alert: both on one event that a rule matches (a CloudTrail StopLogging call).
 * - RUNS times, Seam and routed rsigma take turns (so a change of load falls on both); the fastest run of each
 *   is compared. Unrouted rsigma runs after them.
 *
 * Why the match counts differ (they are not expected to agree):
 * - Logsource routing. Seam offers a rule only events of the source its logsource maps to (aws/cloudtrail
 *   → CloudTrail, kubernetes/audit → audit, linux|process_creation... → runtime), so Windows, Azure, GCP
 *   or macOS rules never meet these events. rsigma unrouted evaluates every rule on every event: a generic
 *   rule (e.g. a keyword or a field such as `Image|endswith`) can match a record of any source. Routed,
 *   rsigma decides from its own logsource routing, which differs from Seam's mapping.
 * - Field mapping. Seam maps the Sigma taxonomy onto its runtime schema (Image → process.exe, CommandLine
 *   → process.cmdline...) and matches object-valued fields by their scalars (`requestParameters|contains`);
 *   rsigma, without a pipeline, looks fields up as the rule names them, so runtime rules cannot match
 *   Seam's runtime records there.
 * - What counts. `alerts_seam` is every alert `seam replay` writes: Sigma rules, Seam's native detections
 *   and correlations (one alert per match, deduplicated by id); `matches_rsigma` is rsigma's output lines
 *   (one per rule match, routed runs summed). The Sigma-only alert count is printed beside it.
 * - Rules each refuses. Seam refuses 3 SigmaHQ rules at load (exponential-backtracking regexes, ADR 0010);
 *   rsigma loads what its parser accepts.
 * So the two do different work per event: Seam normalizes every record (redaction, schema checks), runs
 * the identity graph, native detections and correlations and writes alerts; rsigma matches rules. The
 * rate compared is events through the whole process, as each is used.
 *
 * Last line:
 * `rsigma: ratio=<seam_rate/rsigma_routed_rate> seam_events_per_s=<n> rsigma_events_per_s=<n> seam_load_ms=<n> rsigma_load_ms=<n> seam_rss_mb=<n> rsigma_rss_mb=<n> alerts_seam=<n> matches_rsigma=<n>`
 * seam_load_ms: Seam's own rule-load time (warm cache) from its log; rsigma_load_ms: what rsigma reports
 * for loading, or its whole process on the one-event file when it reports nothing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RawMeta } from '../src/core/envelope.ts';
import { normalizeLine } from '../src/core/normalize/normalize.ts';
import { generateLines } from './lib/events.ts';
import { writeFirstAlertEvent } from './lib/first-alert-event.ts';
import { benchCli, ensureCompiledBuild, fastest as best, measureProcess, needGnuTime, type Measured as Run } from './lib/processes.ts';

const { arg, say, fail, load } = benchCli('bench:peers');
const ROOT = resolve(import.meta.dirname, '..');
const N = Number(arg('EVENTS', '100000'));
const RUNS = Number(arg('RUNS', '3'));
const RULES = resolve(ROOT, arg('RULES', '../shared/sigma/rules'));
const CACHE = join(ROOT, '.cache');
const RSIGMA_ROOT = join(CACHE, 'rsigma');
const RSIGMA = join(RSIGMA_ROOT, 'bin', 'rsigma');
const WORK = join(CACHE, 'bench-peers');
const SEAM = join(ROOT, 'bin', 'seam.mjs');

say(`load average at start: ${load()} (${process.version}); events=${N} runs=${RUNS} rules=${RULES}`);
if (!existsSync(RULES)) fail(`rule folder ${RULES} not found`);
needGnuTime(fail);

// ---- events, generated once --------------------------------------------------------------------------
mkdirSync(WORK, { recursive: true });
const EVENTS = join(WORK, `events-${N}.jsonl`);
const SOURCES = ['cloudtrail', 'k8s_audit', 'runtime', 'guardduty'] as const;
const bySource = (s: string): string => join(WORK, `events-${N}.${s}.jsonl`);
if (!existsSync(EVENTS) || SOURCES.some((s) => !existsSync(bySource(s)))) {
  const lines = generateLines(N);
  const meta: RawMeta = { collector: 'bench', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', region: 'us-west-2' };
  const parts = new Map<string, string[]>(SOURCES.map((s) => [s, []]));
  for (const l of lines) {
    const r = normalizeLine(l, meta);
    if (!r.ok) fail(`a generated line does not normalize: ${r.error.message}`);
    else parts.get(r.value.seam.source)!.push(l);
  }
  writeFileSync(EVENTS, lines.join('\n') + '\n');
  for (const [s, ls] of parts) writeFileSync(bySource(s), ls.length > 0 ? ls.join('\n') + '\n' : '');
  say(`generated ${N} events into ${EVENTS}`);
}
const counts = Object.fromEntries(SOURCES.map((s) => [s, readFileSync(bySource(s), 'utf8').split('\n').filter(Boolean).length]));
say(`events by source: ${SOURCES.map((s) => `${s}=${counts[s]}`).join(' ')} (${(readFileSync(EVENTS).length / 1e6).toFixed(0)} MB)`);
// Each run's own files (timings, outputs, Seam's rule cache) live in a folder of its own, removed at the end:
// .cache/ is shared by every worktree, and two benches writing one time.txt would swap their figures.
const RUN = mkdtempSync(join(WORK, 'run-'));
process.on('exit', () => rmSync(RUN, { recursive: true, force: true }));
const ONE = join(RUN, 'one-event.jsonl');
writeFirstAlertEvent(ONE);

// ---- the compiled build ------------------------------------------------------------------------------
ensureCompiledBuild(ROOT, say, fail);

// ---- measuring one process ---------------------------------------------------------------------------
const measure = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run => measureProcess(RUN, cmd, args, { ...process.env, ...env }, fail);
const fmtRun = (r: Run): string => `wall ${r.wallS.toFixed(2)} s, cpu ${r.cpuS.toFixed(2)} s, rss ${r.rssMb.toFixed(0)} MB`;

// ---- Seam --------------------------------------------------------------------------------------------
const SEAM_CACHE = join(RUN, 'seam-cache');
const seamEnv = { SEAM_RUNTIME: 'dist', SEAM_CACHE_DIR: SEAM_CACHE, SEAM_LOG_LEVEL: 'info' };
const ALERTS = join(RUN, 'seam-alerts.jsonl');
function seam(file: string): Run & { loadMs: number; alerts: number; sigmaAlerts: number } {
  const r = measure(process.execPath, [SEAM, 'replay', file, '--rules', RULES, '--dlq', join(RUN, 'seam-dlq.jsonl'), '--alerts-out', ALERTS], seamEnv);
  const loaded = r.stderr.split('\n').find((l) => l.includes('"msg":"loaded '));
  const loadMs = loaded === undefined ? NaN : Number((JSON.parse(loaded) as { ms?: { total?: number } }).ms?.total);
  const alerts = readFileSync(ALERTS, 'utf8').split('\n').filter(Boolean);
  const sigmaAlerts = alerts.filter((a) => (JSON.parse(a) as { rule?: { type?: string } }).rule?.type === 'sigma').length;
  return { ...r, loadMs, alerts: alerts.length, sigmaAlerts };
}
rmSync(SEAM_CACHE, { recursive: true, force: true });
const seamFirstCold = seam(ONE);
const seamFirstWarm = seam(ONE);
if (seamFirstCold.alerts < 1 || seamFirstWarm.alerts < 1) fail('Seam raised no alert on the one-event file');
say(`seam time to first alert (1 event, ${seamFirstWarm.alerts} alert): cold cache ${fmtRun(seamFirstCold)}, rules ${seamFirstCold.loadMs} ms; warm ${fmtRun(seamFirstWarm)}, rules ${seamFirstWarm.loadMs} ms`);

// ---- rsigma, built once -----------------------------------------------------------------------------
if (!existsSync(RSIGMA)) {
  if (arg('BUILD_RSIGMA', 'yes') === 'no') fail(`${RSIGMA} is not built and BUILD_RSIGMA=no`);
  say(`building rsigma 0.23.0 into ${RSIGMA_ROOT} (cargo, ~12+ min on 2 shared cores)...`);
  const r = spawnSync('nice', ['-n', '10', 'cargo', 'install', '--locked', 'rsigma@0.23.0', '--root', RSIGMA_ROOT], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(RSIGMA)) fail(`cargo install failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}); is cargo installed?`);
}
const version = spawnSync(RSIGMA, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!version.includes('0.23.0')) fail(`${RSIGMA} says '${version}', expected 0.23.0 (remove ${RSIGMA_ROOT} to rebuild)`);

// ---- rsigma ------------------------------------------------------------------------------------------
const rsigmaFirst = measure(RSIGMA, ['engine', 'eval', '-r', RULES, '-e', `@${ONE}`]);
const loadLine = rsigmaFirst.stderr.split('\n').find((l) => /load|compil/i.test(l));
const reportedLoad = loadLine === undefined ? undefined : /([\d.]+)\s*(ms|s)\b/.exec(loadLine);
const rsigmaLoadMs = reportedLoad ? Number(reportedLoad[1]) * (reportedLoad[2] === 's' ? 1000 : 1) : rsigmaFirst.wallS * 1000;
say(`rsigma time to first alert (1 event, ${rsigmaFirst.stdoutLines} match): ${fmtRun(rsigmaFirst)}${loadLine ? `; it says: ${loadLine.trim()}` : ''}`);
// rsigma routes by the event's product/service/category fields, which raw records do not carry; one run per
// source names the source's logsource for all its events (--event-logsource), as a one-source pipeline would.
const LOGSOURCE: Record<(typeof SOURCES)[number], string> = {
  cloudtrail: 'product=aws,service=cloudtrail',
  k8s_audit: 'product=kubernetes,service=audit',
  runtime: 'product=linux',
  guardduty: 'product=aws,service=guardduty',
};
function routedRun(): Run {
  const parts = SOURCES.filter((s) => counts[s]! > 0).map((s) => measure(RSIGMA, ['engine', 'eval', '-r', RULES, '--logsource-routing', '--event-logsource', LOGSOURCE[s], '-e', `@${bySource(s)}`]));
  const sum: Run = {
    wallS: parts.reduce((a, p) => a + p.wallS, 0),
    cpuS: parts.reduce((a, p) => a + p.cpuS, 0),
    rssMb: Math.max(...parts.map((p) => p.rssMb)),
    stdoutLines: parts.reduce((a, p) => a + p.stdoutLines, 0),
    stderr: '',
  };
  say(`rsigma routed, one run per source: ${fmtRun(sum)} (${parts.map((p, i) => `${SOURCES.filter((s) => counts[s]! > 0)[i]} ${p.wallS.toFixed(2)} s`).join(', ')}), matches ${sum.stdoutLines}`);
  return sum;
}
// Seam and routed rsigma take turns, so that a change of the machine's load during the bench falls on both;
// each side's fastest run is compared.
const seamRuns: ReturnType<typeof seam>[] = [];
const routed: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = seam(EVENTS);
  seamRuns.push(r);
  say(`seam replay --rules (warm cache): ${fmtRun(r)}, rules ${r.loadMs} ms, alerts ${r.alerts} (sigma ${r.sigmaAlerts})`);
  routed.push(routedRun());
}
const seamBest = best(seamRuns);
const routedBest = best(routed);
if (arg('ALERTS', '') !== '') copyFileSync(ALERTS, resolve(arg('ALERTS', '')));
const unrouted = Array.from({ length: RUNS }, () => measure(RSIGMA, ['engine', 'eval', '-r', RULES, '-e', `@${EVENTS}`]));
for (const r of unrouted) say(`rsigma unrouted: ${fmtRun(r)}, matches ${r.stdoutLines}`);

const seamRate = N / seamBest.wallS;
const rsigmaRate = N / routedBest.wallS;
const cpuRatio = routedBest.cpuS / seamBest.cpuS;
say(`per CPU second: seam ${(N / seamBest.cpuS).toFixed(0)} events, rsigma routed ${(N / routedBest.cpuS).toFixed(0)} (ratio ${cpuRatio.toFixed(3)}); unrouted rsigma ${(N / best(unrouted).wallS).toFixed(0)} events/s`);
say(`load average at end: ${load()}`);
say(
  `rsigma: ratio=${(seamRate / rsigmaRate).toFixed(3)} seam_events_per_s=${seamRate.toFixed(0)} rsigma_events_per_s=${rsigmaRate.toFixed(0)} seam_load_ms=${seamBest.loadMs} rsigma_load_ms=${rsigmaLoadMs.toFixed(0)} seam_rss_mb=${seamBest.rssMb.toFixed(0)} rsigma_rss_mb=${routedBest.rssMb.toFixed(0)} alerts_seam=${seamBest.alerts} matches_rsigma=${routedBest.stdoutLines}`,
);
