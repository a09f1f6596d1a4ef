/**
 * The detection path with Seam's own pack, as `seam replay --rules detections` runs it (no seam.yml): each record
 * normalized, then the detect stage in event-time order (identity graph, native detections, the Sigma rules and
 * correlations of detections/, alert folding, incident keys). Input: the noise budget's benign corpus
 * (test/noise/benign-corpus.ts, both clusters, read by the file source as the replay reads it).
 *
 * Compares builds side by side in one process: each ROOT is a source tree (default: this one), its
 * src/core/normalize and src/pipeline/replay.ts are imported from there (so two trees are two separate module
 * graphs), and all run the rules of this tree's detections/. Every round gives each root a fresh handler and runs
 * the corpus chunk by chunk, the roots taking turns per chunk in rotating order, so a change of load falls on all;
 * the median round is reported, and each root's rate over the first one's per round (the ratio that counts on a
 * shared machine). `normalize alone` is this tree's normalizeLine with no detection, to see what the stage costs.
 * Each root's alerts (count and a hash of their ids, levels and summaries) are printed: two builds that
 * behave the same print the same line.
 *
 *   node bin/tsx-run.mjs bench/pack.ts [rounds=5] [ROOT...]
 *   e.g. git archive main src | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/node_modules
 *        node bin/tsx-run.mjs bench/pack.ts 5 /tmp/base .
 *
 * A ROOT may also be a build (`node bin/build.mjs --out-dir DIR`, a folder with build-stamp.json): a CPU profile of
 * compiled JavaScript names the lines of each function.
 * SEAM_BENCH_RECORDS=n runs the corpus's first n records only.
 * With SEAM_BENCH_ONLY=1 it runs the first root only, once, with no interleaving (for `node --cpu-prof`).
 * Last line: `pack: events_per_s=<first root> [ratio_<i>=<root i over the first>...] records=<n> alerts=<n>`
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { RawMeta } from '../src/core/envelope.ts';
import { readFilesBatches } from '../src/sources/file/source.ts';
import { BatchCounts } from '../src/core/normalize/batch.ts';
import { generateBenignCorpus } from '../test/noise/benign-corpus.ts';

const ROUNDS = Number(process.argv[2] ?? 5);
const HERE = resolve(import.meta.dirname, '..');
const ROOTS = process.argv.length > 3 ? process.argv.slice(3).map((r) => resolve(r)) : [HERE];
const RULES = join(HERE, 'detections');
const ONLY = process.env.SEAM_BENCH_ONLY === '1';
const CHUNK = 10_000;
const MAX_RECORD_BYTES = 1024 * 1024;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// The corpus, read by the file source as `seam replay FILE --cluster C` reads it (CloudTrail held in time order).
const items: { text: string; meta: RawMeta }[] = [];
{
  const corpus = generateBenignCorpus();
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-pack-'));
  for (const [cluster, lines] of [
    ['prod-eks-01', corpus.prod],
    ['staging-eks-01', corpus.staging],
  ] as const) {
    const file = join(dir, `${cluster}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    for await (const chunk of readFilesBatches([file], { maxRecordBytes: MAX_RECORD_BYTES, batches: new BatchCounts(), cluster })) {
      for (const it of chunk) if (it.kind === 'record') items.push({ text: it.text, meta: it.meta });
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
// SEAM_BENCH_RECORDS=n: the first n records only (the prod cluster's first hours), for a quicker comparison.
if (process.env.SEAM_BENCH_RECORDS !== undefined) items.length = Math.min(items.length, Number(process.env.SEAM_BENCH_RECORDS));
const N = items.length;
console.log(`corpus: ${fmt(N)} records (benign corpus, both clusters); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${process.version})`);

interface Handler {
  process(e: unknown): { id?: string; rule: { id: string; level: string }; summary?: string }[];
  flush(): { id?: string; rule: { id: string; level: string }; summary?: string }[];
}
interface Build {
  name: string;
  normalizeLine: (text: string, meta: RawMeta, o: { maxRecordBytes: number }) => { ok: boolean; value?: unknown };
  newHandler: () => Promise<Handler>;
}
async function build(root: string): Promise<Build> {
  // A source tree, or a build of one (`node bin/build.mjs --out-dir DIR`: its profiles name the compiled lines).
  const mod = (path: string): string => pathToFileURL(existsSync(join(root, 'build-stamp.json')) ? join(root, `${path}.js`) : join(root, 'src', `${path}.ts`)).href;
  const norm = (await import(mod('core/normalize/normalize'))) as { normalizeLine: Build['normalizeLine'] };
  const replay = (await import(mod('pipeline/replay'))) as { buildReplayHandler: (s: { rules: string[] }) => Promise<Handler> };
  return { name: root, normalizeLine: norm.normalizeLine, newHandler: () => replay.buildReplayHandler({ rules: [RULES] }) };
}
const builds: Build[] = [];
for (const r of ROOTS) builds.push(await build(r));

/** One pass's state for one build: its handler and what its alerts were so far. */
interface Pass {
  handler: Handler;
  alerts: number;
  hash: ReturnType<typeof createHash>;
  failed: number;
}
const newPass = async (b: Build): Promise<Pass> => ({ handler: await b.newHandler(), alerts: 0, hash: createHash('sha256'), failed: 0 });
const note = (p: Pass, alerts: ReturnType<Handler['process']>): void => {
  for (const a of alerts) {
    p.alerts++;
    p.hash.update(`${a.id}|${a.rule.id}|${a.rule.level}|${a.summary}\n`);
  }
};
const run = (b: Build, p: Pass, from: number, to: number): void => {
  const opts = { maxRecordBytes: MAX_RECORD_BYTES };
  for (let i = from; i < to; i++) {
    const it = items[i]!;
    const r = b.normalizeLine(it.text, it.meta, opts);
    if (!r.ok) {
      p.failed++;
      continue;
    }
    note(p, p.handler.process(r.value));
  }
};
let sink = 0;
const normalizeAlone = (from: number, to: number): void => {
  const b = builds[0]!;
  const opts = { maxRecordBytes: MAX_RECORD_BYTES };
  for (let i = from; i < to; i++) {
    const it = items[i]!;
    if (b.normalizeLine(it.text, it.meta, opts).ok) sink++;
  }
};

if (ONLY) {
  const b = builds[0]!;
  const p = await newPass(b);
  const s = performance.now();
  run(b, p, 0, N);
  note(p, p.handler.flush());
  const ms = performance.now() - s;
  console.log(`${b.name}: ${fmt(N / (ms / 1000))} events/s, alerts=${p.alerts} hash=${p.hash.digest('hex').slice(0, 16)} failed=${p.failed}`);
  console.log(`pack: events_per_s=${Math.round(N / (ms / 1000))} records=${N} alerts=${p.alerts}`);
  process.exit(0);
}

// Warm-up: a whole pass per build (JIT, the rule cache, lazily built indexes), which also gives the alerts line.
const outcome: string[] = [];
for (const b of builds) {
  const p = await newPass(b);
  run(b, p, 0, N);
  note(p, p.handler.flush());
  outcome.push(`alerts=${p.alerts} hash=${p.hash.digest('hex').slice(0, 16)} failed=${p.failed}`);
}
normalizeAlone(0, Math.min(N, 20_000));

const names = [...builds.map((b) => b.name), 'normalize alone (first root)'];
const rates: number[][] = names.map(() => []);
const t0 = performance.now();
for (let r = 0; r < ROUNDS; r++) {
  const passes = await Promise.all(builds.map((b) => newPass(b)));
  const ms = names.map(() => 0);
  for (let c = 0, k = 0; c < N; c += CHUNK, k++) {
    const end = Math.min(N, c + CHUNK);
    for (let j = 0; j < names.length; j++) {
      const idx = (j + k + r) % names.length;
      const s = performance.now();
      if (idx === builds.length) normalizeAlone(c, end);
      else run(builds[idx]!, passes[idx]!, c, end);
      ms[idx]! += performance.now() - s;
    }
  }
  for (let i = 0; i < builds.length; i++) {
    const s = performance.now();
    passes[i]!.handler.flush();
    ms[i]! += performance.now() - s;
  }
  ms.forEach((m, i) => rates[i]!.push(N / (m / 1000)));
}
console.log(`\n${ROUNDS} interleaved rounds over ${fmt(N)} records in ${((performance.now() - t0) / 1000).toFixed(0)} s; median round (min..max), ratio to the first root per round (median, min..max)`);
const ratios = rates.map((xs) => xs.map((x, r) => x / rates[0]![r]!));
names.forEach((n, i) => {
  const xs = rates[i]!;
  const rs = ratios[i]!;
  console.log(
    `  ${n.padEnd(44)} ${fmt(median(xs)).padStart(8)} events/s (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})  ratio ${median(rs).toFixed(3)} (${Math.min(...rs).toFixed(3)}..${Math.max(...rs).toFixed(3)})${i < builds.length ? `  ${outcome[i]}` : ''}`,
  );
});
console.log(`load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')} (sink ${sink % 10})`);
console.log(
  `pack: events_per_s=${Math.round(median(rates[0]!))} ${builds
    .slice(1)
    .map((_, i) => `ratio_${i + 1}=${median(ratios[i + 1]!).toFixed(3)}`)
    .join(' ')} records=${N} alerts=${outcome[0]!.split(' ')[0]!.slice(7)}`,
);
