#!/usr/bin/env node
// Soak of the collector scenarios (issue 16): runs `vitest run --project integration test/collectors` N times in
// a row (SEAM_SOAK_RUNS or the first argument, default 20) against the same services. For every run it prints
// the suite's `collectors:` line and, indented, each fault scenario's figures (`collector fault <name>: ...`);
// it ends with the worst run:
//   collectors-soak: runs=<n> failed_runs=<n> events=<sum> worst_missing=<n> worst_duplicated=<n> worst_run=<i> slowest_run=<i> (<s>s) max_takeover_ms=<n>
// worst_run is the run with the most missing + duplicated records (or the first failed one; with none, the slowest).
// SEAM_SOAK_LOG_DIR=<dir> keeps each run's full output there (run-<i>.log; the fault scenarios log every step and
// what each `seam collect` child printed). Exit 1 if any run failed or lost or duplicated a record. Services: as for
// npm test (started if absent; SEAM_KEEP_SERVICES=1 keeps them between runs, which this script sets for its runs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runs = Number(process.env.SEAM_SOAK_RUNS ?? process.argv[2] ?? 20);
const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const results = [];
for (let i = 1; i <= runs; i++) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run', '--project', 'integration', 'test/collectors'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEAM_KEEP_SERVICES: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const secs = Math.round((Date.now() - t0) / 1000);
  const out = (r.stdout ?? '').split('\n');
  const line = out.find((l) => l.startsWith('collectors:')) ?? 'collectors: (no summary line: the run did not finish)';
  const faults = out.filter((l) => l.startsWith('collector fault '));
  const num = (k) => Number(new RegExp(`${k}=(\\d+)`).exec(line)?.[1] ?? NaN);
  const missing = num('missing');
  const duplicated = num('duplicated');
  const ok = r.status === 0 && missing === 0 && duplicated === 0 && /failed=0\b/.test(line);
  const takeover = Math.max(0, ...faults.map((l) => Number(/takeoverMs=(\d+)/.exec(l)?.[1] ?? 0)));
  results.push({ i, ok, secs, missing, duplicated, events: num('events'), takeover });
  if (process.env.SEAM_SOAK_LOG_DIR) fs.writeFileSync(path.join(process.env.SEAM_SOAK_LOG_DIR, `run-${i}.log`), `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  process.stdout.write(`run ${i}/${runs} ${ok ? 'ok ' : 'FAIL'} ${secs}s ${line}\n`);
  for (const f of faults) process.stdout.write(`    ${f}\n`);
  if (!ok) process.stdout.write(`${out.filter((l) => /FAIL|Error|expected/.test(l)).slice(0, 8).join('\n')}\n`);
}
const n = (v) => (Number.isNaN(v) ? 0 : v);
const failed = results.filter((x) => !x.ok);
const bad = (x) => n(x.missing) + n(x.duplicated);
const slowest = results.reduce((a, b) => (b.secs > a.secs ? b : a), results[0]);
const worst = failed.length === 0 ? slowest : failed.reduce((a, b) => (bad(b) > bad(a) ? b : a), failed[0]);
process.stdout.write(
  `collectors-soak: runs=${runs} failed_runs=${failed.length} events=${results.reduce((s, x) => s + n(x.events), 0)} ` +
    `worst_missing=${Math.max(...results.map((x) => n(x.missing)))} worst_duplicated=${Math.max(...results.map((x) => n(x.duplicated)))} ` +
    `worst_run=${worst.i} slowest_run=${slowest.i} (${slowest.secs}s) max_takeover_ms=${Math.max(...results.map((x) => x.takeover))}\n`,
);
process.exit(failed.length === 0 ? 0 : 1);
