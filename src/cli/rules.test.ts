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

describe('seam rules test with a site\'s rules.overrides (--config)', () => {
  // A feeder and a value_count correlation over it (4 distinct secrets), and two single rules: the pack's cases pass
  // as shipped; the site disables one rule, raises the correlation's threshold and re-levels another.
  const rule = (name: string, n: number, body: string[]): string =>
    [`title: Test ${name}`, `id: 0c7e5a10-0000-4000-8000-00000000010${n}`, `name: ${name}`, 'status: experimental', `description: ${name}.`, ...body, ''].join('\n');
  const audit = (id: string, verb: string, resource: string, name: string, minute: number): string =>
    `      - {kind: Event, apiVersion: audit.k8s.io/v1, level: Metadata, auditID: ${id}, stage: ResponseComplete, verb: ${verb}, requestURI: /api/v1/namespaces/p/${resource}/${name}, user: {username: mallory}, objectRef: {resource: ${resource}, namespace: p, name: ${name}, apiVersion: v1}, responseStatus: {code: 200}, requestReceivedTimestamp: '2026-12-01T10:0${minute}:00Z', stageTimestamp: '2026-12-01T10:0${minute}:00Z'}`;
  const single = (resource: string, verb: string): string[] => ['logsource:', '  product: kubernetes', '  service: audit', 'detection:', '  selection:', `    objectRef.resource: ${resource}`, `    verb: ${verb}`, '  condition: selection', 'level: medium'];

  it('without --config: the rules as shipped, every case passes; with it: disabled rules\' cases are SKIPPED-BY-OVERRIDE, a case the new threshold changes is OVERRIDDEN, neither fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-rules-test-ovr-'));
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(
      join(rules, 't_secret_sweep.yml'),
      rule('t_secret_get', 1, [...single('secrets', 'get').slice(0, -1), 'level: informational']) +
        '---\n' +
        rule('t_secret_sweep', 2, ['correlation:', '  type: value_count', '  rules:', '    - t_secret_get', '  group-by:', '    - user.username', '  timespan: 10m', '  condition:', '    field: objectRef.name', '    gte: 4', 'level: medium']),
    );
    writeFileSync(
      join(rules, 't_secret_sweep.test.yml'),
      ['cases:', '  - name: five secrets', '    alerts: 1', '    events:', ...[1, 2, 3, 4, 5].map((i) => audit(`a${i}`, 'get', 'secrets', `s${i}`, i)), '  - name: two secrets', '    alerts: 0', '    events:', audit('b1', 'get', 'secrets', 's1', 1), audit('b2', 'get', 'secrets', 's2', 2), ''].join('\n'),
    );
    writeFileSync(join(rules, 't_configmap_get.yml'), rule('t_configmap_get', 3, single('configmaps', 'get')));
    writeFileSync(join(rules, 't_configmap_get.test.yml'), ['cases:', '  - name: read', '    alerts: 1', '    events:', audit('c1', 'get', 'configmaps', 'app', 1), ''].join('\n'));
    writeFileSync(join(rules, 't_pod_list.yml'), rule('t_pod_list', 4, single('pods', 'list')));
    writeFileSync(join(rules, 't_pod_list.test.yml'), ['cases:', '  - name: list', '    alerts: 1', '    events:', audit('d1', 'list', 'pods', 'x', 1), ''].join('\n'));
    const yml = join(dir, 'seam.yml');
    writeFileSync(yml, 'rules:\n  overrides:\n    - { rule: t_configmap_get, disabled: true }\n    - { rule: t_pod_list, level: high }\n    - { rule: t_secret_sweep, condition: { gte: 6 } }\n');

    const shipped = seam(['rules', 'test', rules]);
    expect(shipped.status, shipped.out).toBe(0);
    expect(shipped.out).toContain('rules-test: files=3 cases=4 passed=4 failed=0 missing=0 errors=0\n');
    // SEAM_CONFIG alone does not bring the overrides in: the default is the pack as shipped.
    expect(seam(['rules', 'test', rules], { SEAM_CONFIG: yml }).out).toContain('passed=4 failed=0');

    const site = seam(['rules', 'test', rules, '--config', yml]);
    expect(site.status, site.out).toBe(0);
    const lines = site.out.split('\n');
    expect(lines).toContain("override: rule 't_configmap_get' disabled");
    expect(lines).toContain(`SKIPPED-BY-OVERRIDE ${join(rules, 't_configmap_get.test.yml')}: read: t_configmap_get disabled by seam.yml rules.overrides`);
    expect(lines.filter((l) => l.startsWith('OVERRIDDEN'))).toEqual([`OVERRIDDEN ${join(rules, 't_secret_sweep.test.yml')}: five secrets: passes as shipped; with seam.yml rules.overrides: expected 1 alert(s), got 0`]);
    // A level override changes no count: the pod-list case passes; the two-secrets case passes either way.
    expect(lines).toContain('rules-test: files=3 cases=4 passed=2 failed=0 missing=0 errors=0 overridden=1 skipped_by_override=1');
  });
});
