import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SITE_CREATE_USER, SITE_PLACEHOLDERS, writeSiteRule } from '../../test/helpers/site-rule.ts';

// Review item 8: a seam.yml beside its rules and placeholders file works from any folder (its relative paths
// resolve against its own folder, as ${file:} does), and a seam.yml whose rules paths all miss stops the command
// instead of running with no rule.

const SEAM = resolve(import.meta.dirname, '../../bin/seam.mjs');

function site(): { dir: string; elsewhere: string; trail: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seam-site-'));
  mkdirSync(join(dir, 'rules'));
  writeSiteRule(join(dir, 'rules'), '0b7c1f0e-58a4-4d3e-9d0a-3c2e8f1a6b21');
  writeFileSync(join(dir, 'ph.yml'), SITE_PLACEHOLDERS);
  const elsewhere = mkdtempSync(join(tmpdir(), 'seam-cwd-'));
  const trail = join(elsewhere, 'trail.jsonl');
  writeFileSync(
    trail,
    `${JSON.stringify(SITE_CREATE_USER)}\n`,
  );
  return { dir, elsewhere, trail };
}

const seam = (cwd: string, args: string[]): { status: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [SEAM, ...args], { cwd, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_RULES: '', SEAM_PLACEHOLDERS_FILE: '', SEAM_CACHE_DIR: 'off', SEAM_LOG_LEVEL: 'error' } });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

describe('seam.yml paths from another folder', () => {
  it('replay --config: rules.paths and placeholdersFile relative to seam.yml load, whatever the working folder', () => {
    const s = site();
    const yml = join(s.dir, 'seam.yml');
    writeFileSync(yml, 'rules:\n  paths: [rules]\n  placeholdersFile: ph.yml\n');
    const r = seam(s.elsewhere, ['replay', s.trail, '--config', yml, '--dlq', join(s.elsewhere, 'dlq.jsonl')]);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toContain('"Site User Created"');
    expect(r.err).toContain('alerts=1');
    const check = seam(s.elsewhere, ['config', 'check', yml]);
    expect(check.status, check.err).toBe(0);
  });

  it('replay and run stop (exit 2, SEAM_ERR_RULES_EMPTY) when none of seam.yml\'s rules paths exists, rather than run with no rule', () => {
    const s = site();
    const yml = join(s.dir, 'seam.yml');
    writeFileSync(yml, 'rules:\n  paths: [detections, more-rules]\n');
    const replay = seam(s.elsewhere, ['replay', s.trail, '--config', yml, '--dlq', join(s.elsewhere, 'dlq.jsonl')]);
    expect(replay.status).toBe(2);
    expect(replay.err).toContain(`SEAM_ERR_RULES_EMPTY: no rules path exists here: ${join(s.dir, 'detections')}, ${join(s.dir, 'more-rules')}`);
    const run = seam(s.elsewhere, ['run', '--input', s.trail, '--config', yml, '--state-dir', join(s.elsewhere, 'out')]);
    expect(run.status).toBe(2);
    expect(run.err).toContain('SEAM_ERR_RULES_EMPTY: no rules path exists here');
    const check = seam(s.elsewhere, ['config', 'check', yml]);
    expect(check.status).toBe(1);
    expect(check.err).toContain('no rules path exists: the commands that run rules stop');
  });

  it('collect --config deploy/config/demo-collect.yml reads the demo from any working folder (its paths are relative to the file)', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'seam-cwd-'));
    const r = seam(elsewhere, ['collect', '--config', resolve(import.meta.dirname, '../../deploy/config/demo-collect.yml')]);
    expect(r.status, r.err).toBe(0);
    expect(r.err).toContain('"received":465,"emitted":465');
  });
});

