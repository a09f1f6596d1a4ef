import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Review item 19: the alert delivery file is read before the rules, so a mistake in it is the first thing said, at
// its file:line:col; `config check` validates the one seam.yml names.

const ROOT = resolve(import.meta.dirname, '../..');
const seam = (args: string[]): { status: number | null; err: string } => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_CACHE_DIR: 'off', SEAM_LOG_LEVEL: 'error' } });
  return { status: r.status, err: r.stderr };
};

describe('the delivery file', () => {
  it('seam run reads it before the rules: its error comes first, not the rules path\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-delivery-cli-'));
    const delivery = join(dir, 'delivery.yml');
    writeFileSync(delivery, 'outputs:\n  hook: { type: webhook, url: "https://soar.example/hooks/seam", secret: "${env:HOOK_SECRET}" }\nroutes:\n  - { name: all, outputs: [hook] }\n');
    // A rules folder with no rule in it would stop the run too (SEAM_ERR_RULES_EMPTY), once the rules load.
    const empty = join(dir, 'no-rules');
    mkdirSync(empty);
    const r = seam(['run', '--input', join(ROOT, 'deploy/demo'), '--rules', empty, '--delivery', delivery, '--state-dir', join(dir, 'out')]);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain(`SEAM_ERR_CONFIG_INVALID: ${delivery} is invalid:`);
    expect(r.err).toContain(`${delivery}:2:74 outputs.hook.secret: Invalid input: expected object, received string (the delivery file names a secret's source as an object: write { env: HOOK_SECRET }`);
    expect(r.err).not.toContain('SEAM_ERR_RULES_EMPTY');
  });

  it('config check validates the delivery file seam.yml names (exit 2, at its position)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-delivery-check-'));
    writeFileSync(join(dir, 'delivery.yml'), 'outputs:\n  hook: { type: webhook, url: "https://soar.example/hooks/seam" }\nroutes:\n  - { name: all, outputs: [hook, pager] }\n');
    writeFileSync(join(dir, 'seam.yml'), 'delivery: delivery.yml\n');
    const r = seam(['config', 'check', join(dir, 'seam.yml')]);
    expect(r.status).toBe(2);
    expect(r.err).toContain(`${join(dir, 'delivery.yml')}:4:34 routes.0.outputs.1: no output named 'pager'`);
  });
});
