import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// A flag commander refuses is a usage mistake like Seam's own (a missing rules path, --rules with --who): exit 2,
// which docs/hunting.md's exit codes promise "as for every command" (new-user walkthrough, session 32).

const ROOT = resolve(import.meta.dirname, '../..');

function seam(args: string[]): { status: number | null; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: 'off' };
  delete env.SEAM_KAFKA_BROKERS;
  delete env.SEAM_CONFIG;
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env });
  return { status: r.status, stderr: r.stderr };
}

describe('usage mistakes exit 2', () => {
  it.each([
    [['replay', 'deploy/demo', '--bogus'], "error: unknown option '--bogus'"],
    [['hunt', '--bogus'], "error: unknown option '--bogus'"],
    [['replay', 'deploy/demo', '--workers', '0'], "option '--workers <n>' argument '0' is invalid"],
    [['replay', 'deploy/demo', '--format', 'xml'], "argument 'xml' is invalid. Allowed choices are text, json."],
    [['identity', 'explain', 'alice'], 'give --input <paths...> (files to replay) or --from kafka (the graph on seam.identity)'],
    [['identity', 'explain', 'alice', '--from', 'kafka', '--input', 'deploy/demo'], 'give one of them'],
    [['replay'], "error: missing required argument 'paths'"],
  ])('seam %j', (args, message) => {
    const r = seam(args);
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(2);
  });

  it('a seam.yml or placeholders file that does not load: exit 2 from every command, as from those that check it first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-usage-exit-'));
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'kafka:\n  brokerz: [a:1]\n');
    for (const args of [['dlq', 'list', '--config', bad], ['replay', 'deploy/demo', '--config', bad]]) {
      const r = seam(args);
      expect(r.stderr).toContain('SEAM_ERR_CONFIG_INVALID');
      expect(r.status).toBe(2);
    }
    const missing = seam(['replay', 'deploy/demo', '--rules', 'detections/kubernetes/k8s_privileged_pod_created.yml', '--placeholders', join(dir, 'nothere.yml'), '--dlq', join(dir, 'dlq.jsonl')]);
    expect(missing.stderr).toContain(`SEAM_ERR_CONFIG_INVALID: cannot read placeholders file ${join(dir, 'nothere.yml')}`);
    expect(missing.status).toBe(2);
  });

  it('--help is not a mistake: exit 0', () => {
    expect(seam(['replay', '--help']).status).toBe(0);
    expect(seam(['--help']).status).toBe(0);
  });
});

describe('seam --version', () => {
  it("prints package.json's version and exits 0", () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), flag], { cwd: ROOT, encoding: 'utf8' });
      expect([r.status, r.stdout.trim()]).toEqual([0, version]);
    }
  });
});
