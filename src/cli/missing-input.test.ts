import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Fresh-user walkthrough (session 33): `seam run --input nope/` loaded the whole rule pack (its placeholder warning
// and its "loaded 512 rules" log line) before saying the input does not exist. The input is looked at first now.

const ROOT = resolve(import.meta.dirname, '../..');

function seam(args: string[]): { status: number | null; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, SEAM_LOG_LEVEL: 'info', SEAM_CACHE_DIR: 'off' };
  delete env.SEAM_KAFKA_BROKERS;
  delete env.SEAM_CONFIG;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env });
  return { status: r.status, stderr: r.stderr };
}

describe('a missing input is said before the rules load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seam-missing-input-'));
  const nope = join(dir, 'nope');
  it.each([
    ['run', ['run', '--input', 'deploy/demo', nope, '--state-dir', join(dir, 'out')]],
    ['replay', ['replay', 'deploy/demo', nope, '--rules', 'detections', '--dlq', join(dir, 'dlq.jsonl')]],
  ])('seam %s', (_name, args) => {
    const r = seam(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`seam: SEAM_ERR_INPUT_FILE: cannot read ${nope}: ENOENT`);
    // Nothing of the rule pack was read: no load line, no unset-placeholder warning, and no record replayed.
    expect(r.stderr).not.toMatch(/"msg":"loaded \d+ rules/);
    expect(r.stderr).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
  });
});
