/**
 * End-to-end engine throughput, side by side in one process (these machines are shared and noisy;
 * the ratios are what count): JSON.parse alone, parse+normalize, and parse+normalize+Sigma match
 * with (a) Seam's pack in detections/, (b) every SigmaHQ rule, (c) both. Lines come from
 * bench/lib/events.ts (fixture templates, realistic mix).
 *
 *   node bin/tsx-run.mjs bench/engine.ts [lines=200000] [rounds=5] [sigma-dir=/work/shared/sigma]
 *
 * Throughput loops run chunk by chunk, all configurations over the same chunk in rotating order, so
 * each sees the same load; a round's rate comes from its total time and the median round is
 * reported. Per-event latency is measured in a separate pass (hrtime around each call) so timer
 * overhead does not distort throughput. Last line, for (b):
 * `engine: ratio=<match_rate/parse_rate> events_per_s=<n> rules=<n> p99_us=<n> peak_rss_mb=<n> ruleset_mb=<n> bench_rss_mb=<n>`
 * peak_rss_mb: peak RSS of a process holding one loaded SigmaHQ ruleset (the sigma-dir of (b)) while it
 * normalizes and matches events (bench/engine-rss.ts, run first as a child through tsx, as this bench runs;
 * issue 15 asks ≤ 300 MB); ruleset_mb: heap that ruleset keeps in this process; bench_rss_mb: this bench's
 * own peak, which holds every generated line and four rulesets at once.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RawMeta } from '../src/core/envelope.ts';
import { normalizeLine } from '../src/core/normalize/normalize.ts';
import { loadRules } from '../src/detect/sigma/ruleset.ts';
import type { SigmaRuleset } from '../src/detect/sigma/ruleset.ts';
import { generateLines } from './lib/events.ts';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const SIGMA = process.argv[4] ?? new URL('../../shared/sigma', import.meta.url).pathname;
const PACK = new URL('../detections/', import.meta.url).pathname;
const CHUNK = 10_000;
/** The all-rules-on-every-event stress mode is slow by design; it runs on a prefix only. */
const STRESS_N = Math.min(N, 20_000);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const meta: RawMeta = { collector: 'bench', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', region: 'us-west-2' };

// A collection before each heap reading, so a ruleset's share is what it keeps, not garbage of its loading.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1048576;
};
const heapAtStart = heapMb();
console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${process.version})`);

// One SigmaHQ ruleset in a process of its own, before this one holds anything.
const RSS_N = Math.min(N, 50_000);
const child = spawnSync(process.execPath, [new URL('../bin/tsx-run.mjs', import.meta.url).pathname, new URL('./engine-rss.ts', import.meta.url).pathname, SIGMA, String(RSS_N)], {
  encoding: 'utf8',
  maxBuffer: 16 * 1024 * 1024,
});
if (child.status !== 0) throw new Error(`bench/engine-rss.ts exited ${child.status}: ${child.stderr.slice(-2000)}`);
const rss = JSON.parse(child.stdout.trim().split('\n').pop()!) as { peak_rss_mb: number; after_load_rss_mb: number; heap_mb: number; rules: number; load_ms: number; events: number; matches: number };
console.log(
  `one SigmaHQ ruleset in its own process (bench/engine-rss.ts, tsx): ${rss.rules} rules loaded in ${rss.load_ms} ms, RSS ${rss.after_load_rss_mb} MB after loading (heap ${rss.heap_mb} MB), peak ${rss.peak_rss_mb} MB over ${fmt(rss.events)} events (${rss.matches} matches); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
);
let t = performance.now();
const lines = generateLines(N);
const bytes = lines.reduce((s, l) => s + l.length, 0);
const linesMb = heapMb() - heapAtStart;
console.log(`generated ${fmt(N)} lines (${(bytes / 1e6).toFixed(0)} MB, avg ${Math.round(bytes / N)} B) in ${Math.round(performance.now() - t)} ms; they hold ${linesMb.toFixed(0)} MB of heap`);

interface Loaded {
  name: string;
  ruleset: SigmaRuleset;
  rules: number;
  loadMs: number;
  /** Heap the loaded ruleset keeps (after a collection). */
  heapMb: number;
}
async function load(name: string, paths: string[], matchUnmapped = false): Promise<Loaded> {
  const before = heapMb();
  const s = performance.now();
  const { ruleset, stats, diagnostics } = await loadRules(paths, { matchUnmapped });
  const loadMs = performance.now() - s;
  const kept = heapMb() - before;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  console.log(`rules ${name}: ${stats.rules} loaded, ${stats.correlations} correlations, ${stats.rejected} rejected (${errors} errors) in ${Math.round(loadMs)} ms; keeps ${kept.toFixed(0)} MB of heap`);
  return { name, ruleset, rules: stats.rules, loadMs, heapMb: kept };
}
const configs = [await load('(a) detections/', [PACK]), await load('(b) SigmaHQ', [SIGMA]), await load('(c) both', [PACK, SIGMA])];

let sink = 0;
let failed = 0;
type Loop = (from: number, to: number) => void;
const parseLoop: Loop = (from, to) => {
  for (let i = from; i < to; i++) if (JSON.parse(lines[i]!) !== null) sink++;
};
const normLoop: Loop = (from, to) => {
  for (let i = from; i < to; i++) {
    const r = normalizeLine(lines[i]!, meta);
    if (r.ok) sink++;
    else failed++;
  }
};
const matchLoop =
  (rs: SigmaRuleset): Loop =>
  (from, to) => {
    for (let i = from; i < to; i++) {
      const r = normalizeLine(lines[i]!, meta);
      if (r.ok) sink += rs.match(r.value).length;
    }
  };
const loops: { name: string; run: Loop }[] = [
  { name: 'JSON.parse alone', run: parseLoop },
  { name: 'parse+normalize', run: normLoop },
  ...configs.map((c) => ({ name: `parse+normalize+match ${c.name}`, run: matchLoop(c.ruleset) })),
];

// Warm up every path (JIT, per-field caches), then measure.
for (const l of loops) l.run(0, Math.min(N, 20_000));
t = performance.now();
const rates: number[][] = loops.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const ms = loops.map(() => 0);
  for (let c = 0, k = 0; c < N; c += CHUNK, k++) {
    const end = Math.min(N, c + CHUNK);
    for (let j = 0; j < loops.length; j++) {
      const idx = (j + k + r) % loops.length;
      const s = performance.now();
      loops[idx]!.run(c, end);
      ms[idx]! += performance.now() - s;
    }
  }
  ms.forEach((m, i) => rates[i]!.push(N / (m / 1000)));
}
const parseRates = rates[0]!;
const ratioOf = (i: number): number => median(rates[i]!.map((x, r) => x / parseRates[r]!));
console.log(`\nthroughput: ${ROUNDS} interleaved rounds over ${fmt(N)} events in ${((performance.now() - t) / 1000).toFixed(0)} s; median round (min..max)`);
loops.forEach((l, i) => {
  const xs = rates[i]!;
  console.log(`  ${l.name.padEnd(40)} ${fmt(median(xs)).padStart(9)} events/s (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})  ratio ${ratioOf(i).toFixed(2)}`);
});
if (failed > 0) console.log(`  warning: ${failed / (ROUNDS + 1)} lines per pass failed to normalize`);
// Where (b)'s time per event goes, from the median rates.
const us = (rate: number): number => 1e6 / rate;
const pUs = us(median(parseRates));
const nUs = us(median(rates[1]!)) - pUs;
const mUs = us(median(rates[3]!)) - us(median(rates[1]!));
const total = pUs + nUs + mUs;
console.log(
  `  time per event (b): parse ${pUs.toFixed(2)} us (${((pUs / total) * 100).toFixed(0)}%), normalize ${nUs.toFixed(2)} us (${((nUs / total) * 100).toFixed(0)}%), match ${mUs.toFixed(2)} us (${((mUs / total) * 100).toFixed(0)}%)`,
);

// Per-event latency: a separate pass per configuration, hrtime around each call.
interface Lat {
  p50: number;
  p99: number;
  max: number;
  totalP99: number;
  matchesPerEvent: number;
  /** Rules the index offered per event (each evaluated its predicate). */
  offeredPerEvent: number;
}
function latency(rs: SigmaRuleset, n: number): Lat {
  const m = new Float64Array(n);
  const all = new Float64Array(n);
  let matches = 0;
  let k = 0;
  const offered0 = rs.offered;
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    const r = normalizeLine(lines[i]!, meta);
    if (!r.ok) continue;
    const b = process.hrtime.bigint();
    matches += rs.match(r.value).length;
    const c = process.hrtime.bigint();
    m[k] = Number(c - b) / 1000;
    all[k] = Number(c - a) / 1000;
    k++;
  }
  const ms = m.subarray(0, k).sort();
  const as = all.subarray(0, k).sort();
  const q = (xs: Float64Array, p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  return { p50: q(ms, 0.5), p99: q(ms, 0.99), max: ms[k - 1]!, totalP99: q(as, 0.99), matchesPerEvent: matches / k, offeredPerEvent: (rs.offered - offered0) / k };
}
console.log(`\nper-event latency (separate pass, ${fmt(N)} events), microseconds:`);
const lats = configs.map((c) => {
  const l = latency(c.ruleset, N);
  console.log(
    `  ${c.name.padEnd(18)} rules=${String(c.rules).padStart(4)}  match p50=${l.p50.toFixed(1)} p99=${l.p99.toFixed(1)} max=${l.max.toFixed(0)}  normalize+match p99=${l.totalP99.toFixed(1)}  matches/event=${l.matchesPerEvent.toFixed(3)}  offered/event=${l.offeredPerEvent.toFixed(2)}`,
  );
  return l;
});

// Not production: rules whose logsource maps to no Seam source (Windows, Azure, ...) evaluated on every event.
{
  const stress = await load('(b) SigmaHQ, all rules on every event (stress, not production)', [SIGMA], true);
  const s = performance.now();
  matchLoop(stress.ruleset)(0, STRESS_N);
  const rate = STRESS_N / ((performance.now() - s) / 1000);
  const l = latency(stress.ruleset, STRESS_N);
  console.log(`  stress over ${fmt(STRESS_N)} events: ${fmt(rate)} events/s, match p50=${l.p50.toFixed(1)} p99=${l.p99.toFixed(1)} us, matches/event=${l.matchesPerEvent.toFixed(3)}`);
}

const b = configs[1]!;
const lb = lats[1]!;
const peakMb = process.resourceUsage().maxRSS / 1024;
// The peak is the bench's own doing: every generated line held at once, four rulesets loaded side by side
// (pack, SigmaHQ, both, the stress one) and a latency array per pass. One loaded SigmaHQ ruleset keeps the
// heap printed as ruleset_mb; `seam replay --rules` with SigmaHQ holds it once.
console.log(
  `\nthis bench's peak RSS ${peakMb.toFixed(0)} MB (lines ${linesMb.toFixed(0)} MB of heap, rulesets ${configs.map((c) => `${c.name.split(' ')[0]} ${c.heapMb.toFixed(0)} MB`).join(', ')}); load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (sink ${sink % 10})`,
);
console.log(`engine: ratio=${ratioOf(3).toFixed(2)} events_per_s=${Math.round(median(rates[3]!))} rules=${b.rules} p99_us=${lb.p99.toFixed(1)} peak_rss_mb=${rss.peak_rss_mb} ruleset_mb=${b.heapMb.toFixed(0)} bench_rss_mb=${peakMb.toFixed(0)}`);
