import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SITE_ADMIN_ARN, SITE_CREATE_USER, SITE_PLACEHOLDERS, writeSiteRule } from '../../test/helpers/site-rule.ts';

// `seam rules lint` and `seam rules test` take a site's placeholder values the way `seam replay` does: from
// --placeholders FILE, or from seam.yml (--config FILE / SEAM_CONFIG: rules.placeholdersFile, rules.placeholders),
// whose rules.paths are also their default paths (review item 7). `rules test` is hermetic: it takes site values
// only from --placeholders, never from seam.yml (review-de M5).

const ROOT = resolve(import.meta.dirname, '../..');
const SEAM = join(ROOT, 'bin/seam.mjs');

function site(): { dir: string; rules: string; ph: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seam-rules-cli-'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeSiteRule(rules, '6f0c2a52-0d5e-4c55-9a43-7b1f7d0f2b11');
  writeFileSync(
    join(rules, 'site_user_created.test.yml'),
    `cases:
  - name: an admin of the site creates a user
    alerts: 1
    events:
      - ${JSON.stringify(SITE_CREATE_USER)}
`,
  );
  const ph = join(dir, 'ph.yml');
  writeFileSync(ph, SITE_PLACEHOLDERS);
  return { dir, rules, ph };
}

const seam = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } => {
  const r = spawnSync(process.execPath, [SEAM, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_RULES: '', SEAM_PLACEHOLDERS_FILE: '', SEAM_LOG_LEVEL: 'error', ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
};

describe('seam rules lint / test with a site\'s placeholders', () => {
  it('lint: --placeholders FILE and seam.yml (--config, SEAM_CONFIG) set the placeholder, which is then not reported unset', () => {
    const s = site();
    const bare = seam(['rules', 'lint', s.rules]);
    expect(bare.out).toContain('placeholder %site_admins% has no configured values');
    const flag = seam(['rules', 'lint', s.rules, '--placeholders', s.ph]);
    expect(flag.status, flag.out).toBe(0);
    expect(flag.out).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
    expect(flag.out).toContain('lint: files=1 rules=1 ');
    // seam.yml: inline values, and its rules.paths as the default paths.
    const yml = join(s.dir, 'seam.yml');
    writeFileSync(yml, `rules:\n  paths: [${JSON.stringify(s.rules)}]\n  placeholders:\n    site_admins: ['${SITE_ADMIN_ARN}']\n`);
    for (const r of [seam(['rules', 'lint', '--config', yml]), seam(['rules', 'lint'], { SEAM_CONFIG: yml })]) {
      expect(r.status, r.out).toBe(0);
      expect(r.out).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
      expect(r.out).toContain('lint: files=1 rules=1 ');
    }
  });

  it('test: site values only with --placeholders, under the test file\'s; seam.yml\'s are not read; an invalid seam.yml stops the command (exit 2)', () => {
    const s = site();
    const bare = seam(['rules', 'test', s.rules]);
    expect(bare.status).toBe(1);
    expect(bare.out).toContain('expected 1 alert(s), got 0');
    const flag = seam(['rules', 'test', s.rules, '--placeholders', s.ph]);
    expect(flag.status, flag.out).toBe(0);
    expect(flag.out).toContain('rules-test: files=1 cases=1 passed=1 failed=0');
    const yml = join(s.dir, 'seam.yml');
    writeFileSync(yml, `rules:\n  placeholdersFile: ${JSON.stringify(s.ph)}\n`);
    // Hermetic by default (review-de M5): seam.yml's placeholders never change a test's result, by --config or SEAM_CONFIG.
    for (const cfg of [seam(['rules', 'test', s.rules, '--config', yml]), seam(['rules', 'test', s.rules], { SEAM_CONFIG: yml })]) {
      expect(cfg.status, cfg.out).toBe(1);
      expect(cfg.out).toContain('expected 1 alert(s), got 0');
    }
    writeFileSync(yml, 'rules:\n  placeholderFile: ph.yml\n');
    const bad = seam(['rules', 'test', s.rules, '--config', yml]);
    expect(bad.status).toBe(2);
    expect(bad.out).toContain('rules.placeholderFile');
  });
});
