import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// `seam replay` as a new user meets it (review session 23): what the summary says, and what the command refuses.
// Each test runs the real command on real files.

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const AUDIT = join(FIXTURES, 'k8s-audit/eks-audit.jsonl');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-replay-cli-'));
});

function seam(args: string[], cwd: string = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: 'off' } });
}

describe('seam replay', () => {
  it('without --rules says detection was not run, not alerts=0', () => {
    const r = seam(['replay', AUDIT, '--dlq', join(dir, 'no-rules-dlq.jsonl')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^replay: files=1 .* rejected=0 detection not run \(no --rules\) in /m);
    expect(r.stderr).not.toContain('alerts=');
  });
});
