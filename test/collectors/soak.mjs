#!/usr/bin/env node
// Soak of the collector scenarios (issue 16): runs `vitest run --project integration test/collectors` N times in
// a row (SEAM_SOAK_RUNS, default 20) against the same services, prints each run's `collectors:` line, and ends
// with the worst run: `collectors-soak: runs=<n> failed_runs=<n> worst_missing=<n> worst_duplicated=<n>`.
// SEAM_SOAK_LOG_DIR=<dir> keeps each run's full output there (run-<i>.log). Exit 1 if any run failed or lost or duplicated a record. Services: as for npm test (started if absent;
// set SEAM_KEEP_SERVICES=1 to keep them between runs, which this script does for its own runs).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runs = Number(process.env.SEAM_SOAK_RUNS ?? process.argv[2] ?? 20);
const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
let failedRuns = 0;
let worstMissing = 0;
let worstDuplicated = 0;
for (let i = 1; i <= runs; i++) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [vitest, 'run', '--project', 'integration', 'test/collectors'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEAM_KEEP_SERVICES: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('collectors:')) ?? 'collectors: (no summary line: the run did not finish)';
  const num = (k) => Number(new RegExp(`${k}=(\\d+)`).exec(line)?.[1] ?? NaN);
  const missing = num('missing');
  const duplicated = num('duplicated');
  const ok = r.status === 0 && missing === 0 && duplicated === 0 && /failed=0\b/.test(line);
  if (!ok) failedRuns++;
  worstMissing = Math.max(worstMissing, Number.isNaN(missing) ? 0 : missing);
  worstDuplicated = Math.max(worstDuplicated, Number.isNaN(duplicated) ? 0 : duplicated);
  if (process.env.SEAM_SOAK_LOG_DIR) fs.writeFileSync(path.join(process.env.SEAM_SOAK_LOG_DIR, `run-${i}.log`), `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  process.stdout.write(`run ${i}/${runs} ${ok ? 'ok ' : 'FAIL'} ${((Date.now() - t0) / 1000).toFixed(0)}s ${line}\n`);
  if (!ok && r.status !== 0) process.stdout.write(`${(r.stdout ?? '').split('\n').filter((l) => /FAIL|Error|expected/.test(l)).slice(0, 8).join('\n')}\n`);
}
process.stdout.write(`collectors-soak: runs=${runs} failed_runs=${failedRuns} worst_missing=${worstMissing} worst_duplicated=${worstDuplicated}\n`);
process.exit(failedRuns === 0 ? 0 : 1);
