/**
 * Noise budget: replays a benign corpus (test/noise/benign-corpus.ts: three days of an account with two EKS
 * clusters, ~212k records of which ~80k CloudTrail, seeded) through `seam replay --rules detections` exactly as a user would run it (the
 * CLI in a child process, every rule in detections/, no placeholders file), counts the alerts of level medium
 * or above and fails when there are more than 5 per 100k records. Also fails if any corpus record is rejected
 * (the corpus must be valid input) or the replay fails.
 *
 *   npm run test:noise            (NOISE_KEEP=<dir> keeps the corpus and the alerts there)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateBenignCorpus } from './benign-corpus.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUDGET_PER_100K = 5;
const MEDIUM_PLUS = new Set(['medium', 'high', 'critical']);

interface AlertLine {
  rule: { id: string; title: string; level: string; type: string };
  summary: string;
}

const keep = process.env.NOISE_KEEP;
const dir = keep ?? mkdtempSync(join(tmpdir(), 'seam-noise-'));
mkdirSync(dir, { recursive: true });
const corpus = generateBenignCorpus();
const runs = [
  { cluster: 'prod-eks-01', lines: corpus.prod },
  { cluster: 'staging-eks-01', lines: corpus.staging },
];
let records = 0;
let rejected = 0;
const alerts: AlertLine[] = [];
for (const r of runs) {
  const input = join(dir, `${r.cluster}.jsonl`);
  const out = join(dir, `${r.cluster}.alerts.jsonl`);
  const dlq = join(dir, `${r.cluster}.dlq.jsonl`);
  writeFileSync(input, r.lines.join('\n') + '\n');
  records += r.lines.length;
  const p = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'replay', input, '--rules', join(ROOT, 'detections'), '--alerts-out', out, '--dlq', dlq, '--cluster', r.cluster], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEAM_LOG_LEVEL: 'warn' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const summary = p.stderr.split('\n').filter((l) => l.startsWith('replay:') || l.startsWith('  '));
  process.stdout.write(`${r.cluster}: ${summary.join(' | ')}\n`);
  if (p.status !== 0) {
    process.stderr.write(p.stderr);
    process.stderr.write(`noise: seam replay exited ${p.status}\n`);
    process.exit(1);
  }
  const m = /rejected=(\d+)/.exec(p.stderr);
  rejected += m ? Number(m[1]) : 0;
  const text = readFileSync(out, 'utf8');
  for (const line of text.split('\n')) if (line.trim() !== '') alerts.push(JSON.parse(line) as AlertLine);
}

const loud = alerts.filter((a) => MEDIUM_PLUS.has(a.rule.level));
const byRule = new Map<string, { n: number; level: string; title: string; example: string }>();
for (const a of loud) {
  const e = byRule.get(a.rule.id) ?? { n: 0, level: a.rule.level, title: a.rule.title, example: a.summary };
  e.n++;
  byRule.set(a.rule.id, e);
}
const top = [...byRule].sort((x, y) => y[1].n - x[1].n);
const per100k = (loud.length / records) * 100_000;
const lowCount = alerts.length - loud.length;
for (const [id, e] of top.slice(0, 15)) process.stdout.write(`  ${e.n} × ${e.title} [${id}] (${e.level}): ${e.example.slice(0, 200)}\n`);
process.stdout.write(`  (${lowCount} alerts below medium not counted)\n`);
process.stdout.write(
  `noise: events=${records} records=${records} alerts_medium_plus=${loud.length} per_100k=${per100k.toFixed(2)} by_rule=${top.length === 0 ? 'none' : top.slice(0, 8).map(([id, e]) => `${id}:${e.n}`).join(',')}\n`,
);
if (keep === undefined) rmSync(dir, { recursive: true, force: true });
if (rejected > 0) {
  process.stderr.write(`noise: ${rejected} corpus records were rejected; the corpus must be valid input\n`);
  process.exit(1);
}
if (records < 200_000) {
  process.stderr.write(`noise: only ${records} records; the budget is measured on at least 200k (issue 12)\n`);
  process.exit(1);
}
if (per100k > BUDGET_PER_100K) {
  process.stderr.write(`noise: ${per100k.toFixed(2)} medium+ alerts per 100k benign records exceeds the budget of ${BUDGET_PER_100K}\n`);
  process.exit(1);
}
