import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeCoverage, coverageHtml, glanceBlock, renderBlocks, techniquesBlock, updateDoc } from './coverage.ts';

const ROOT = join(import.meta.dirname, '../..');

// The pack's coverage, computed once for the tests that read it (it loads every rule and reads every test file).
let pack: ReturnType<typeof computeCoverage> | undefined;
const packCoverage = (): ReturnType<typeof computeCoverage> => (pack ??= computeCoverage(['detections'], { root: ROOT }));

describe('seam coverage', () => {
  it("docs/coverage.md's generated blocks are what `seam coverage` computes from detections/ today (run `node bin/seam.mjs coverage --doc docs/coverage.md` after changing rules)", async () => {
    const c = await packCoverage();
    const doc = await readFile(join(ROOT, 'docs/coverage.md'), 'utf8');
    const { text, missing } = updateDoc(doc, renderBlocks(c, { docDir: join(ROOT, 'docs'), root: ROOT, paths: ['detections'] }));
    expect(missing).toEqual([]);
    // Compared line by line, so a failure shows which rows drifted.
    expect(doc.split('\n')).toEqual(text.split('\n'));
  });

  it('every Stratus Red Team technique names detections that exist, at least one of them at medium or above', async () => {
    const c = await packCoverage();
    expect(c.problems).toEqual([]);
    expect(c.stratus.length).toBeGreaterThanOrEqual(54);
    expect(c.stratus.filter((s) => !s.caught).map((s) => s.technique)).toEqual([]);
  });

  it('counts techniques and tactics from the tags, levels per technique, and renders one self-contained HTML page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-coverage-'));
    await mkdir(join(dir, 'pack/cloudtrail'), { recursive: true });
    const rule = (id: string, level: string, tags: string[]): string =>
      [`title: Rule ${id}`, `id: 00000000-0000-4000-8000-00000000000${id}`, 'status: test', 'description: |', `  Call${id} was made.`, '  Triage: who made it.', 'logsource:', '  product: aws', '  service: cloudtrail', 'detection:', '  sel:', `    eventName: Call${id}`, '  condition: sel', `level: ${level}`, 'tags:', ...tags.map((t) => `  - ${t}`), ''].join('\n');
    await writeFile(join(dir, 'pack/cloudtrail/a_rule.yml'), rule('1', 'medium', ['attack.persistence', 'attack.t1098', 'attack.t1098.001']));
    await writeFile(join(dir, 'pack/cloudtrail/b_rule.yml'), rule('2', 'low', ['attack.persistence', 'attack.privilege-escalation', 'attack.t1098']));
    const c = await computeCoverage(['pack'], { root: dir });
    const rules = c.entries.filter((e) => e.kind !== 'native');
    expect(rules.map((e) => `${e.name}:${e.level}:${e.folder}:${e.file}`)).toEqual(['a_rule:medium:cloudtrail:pack/cloudtrail/a_rule.yml', 'b_rule:low:cloudtrail:pack/cloudtrail/b_rule.yml']);
    const t1098 = c.techniques.find((t) => t.id === 'T1098')!;
    // Native detections carry ATT&CK tags too and count beside the rules.
    const nativeAt = (lv: string): number => t1098.entries.filter((e) => e.kind === 'native' && e.level === lv).length;
    expect([t1098.byLevel.medium - nativeAt('medium'), t1098.byLevel.low - nativeAt('low')]).toEqual([1, 1]);
    expect(t1098.entries.filter((e) => e.kind !== 'native').map((e) => e.name)).toEqual(['a_rule', 'b_rule']);
    expect(t1098.tactics.slice(0, 2)).toEqual(['persistence', 'privilege-escalation']);
    expect(c.techniques.find((t) => t.id === 'T1098.001')!.entries.filter((e) => e.kind !== 'native').map((e) => e.name)).toEqual(['a_rule']);
    const persistence = c.tactics.find((t) => t.tactic === 'persistence')!;
    expect([persistence.rules, persistence.mediumPlus]).toEqual([2, 1]);
    expect(persistence.natives).toBeGreaterThan(0);
    // This pack has none of the Stratus table's rules: named as problems, not silently dropped.
    expect(c.problems.some((p) => p.includes('no detection named'))).toBe(true);
    // Without the pack, the table's unknown names and its uncaught techniques are one line each (SigmaHQ's rules alone
    // printed 155), asking for the pack, not one per name.
    expect(c.problems).toHaveLength(2);
    expect(c.problems[0]).toMatch(/^stratus: no detection named \S+, \S+, \S+ or \d+ more of the \d+ the Stratus table names in pack or the native registry: .*add `--rules detections`/);
    expect(c.problems[1]).toMatch(/^stratus: \d+ of \d+ techniques have no detection at medium or above among these rules/);

    const html = coverageHtml(c, { docDir: dir, root: dir, paths: ['pack'] });
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html).toContain('T1098.001');
    expect(html).toContain('a_rule <small>(medium)</small>');
    const doc = 'x\n<!-- seam coverage: tactics -->\nold\n<!-- /seam coverage: tactics -->\ny\n';
    const u = updateDoc(doc, renderBlocks(c, { docDir: dir, root: dir, paths: ['pack'] }));
    expect(u.missing).toEqual(['glance', 'checks', 'techniques', 'stratus']);
    // The checks rows: lint's own summary line and the rule tests counted (this pack has no test files).
    expect(c.lintLine).toBe('lint: files=2 rules=2 correlations=0 rejected=0 cloudtrail=2 kubernetes=0 guardduty=0 runtime=0');
    expect(c.ruleTests).toEqual({ files: 2, cases: 0, missing: 2, errors: 0 });
    const checks = renderBlocks(c, { docDir: dir, root: dir, paths: ['pack'] }).checks;
    expect(checks).toContain('`lint: files=2 rules=2 correlations=0 rejected=0 cloudtrail=2 kubernetes=0 guardduty=0 runtime=0` (no warnings)');
    expect(checks).toContain('`files=2 cases=0`, 2 rule files without a test file');
    expect(u.text).toContain(`| Persistence | 2 | 1 | ${persistence.natives} |`);
    expect(u.text).not.toContain('old');
  });

  it('names the meta-filters that narrow a rule, in the technique and Stratus rows, and counts them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-coverage-filter-'));
    await mkdir(join(dir, 'tuning'), { recursive: true });
    await writeFile(
      join(dir, 'tuning/filter_priv.yml'),
      ['title: Allowed privileged images', 'logsource:', '  product: kubernetes', '  service: audit', 'filter:', '  rules:', '    - k8s_privileged_pod_created', '  sel:', '    requestObject.spec.containers.image: builder', '  condition: not sel', ''].join('\n'),
    );
    const c = await computeCoverage([join(ROOT, 'detections'), join(dir, 'tuning')], { root: ROOT });
    expect(c.filters).toBe(1);
    const narrowed = c.entries.filter((e) => e.filteredBy !== undefined);
    expect(narrowed.map((e) => e.name)).toEqual(['k8s_privileged_pod_created']);
    const blocks = renderBlocks(c, { docDir: join(ROOT, 'docs'), root: ROOT, paths: ['detections', join(dir, 'tuning')] });
    const row = blocks.stratus.split('\n').find((l) => l.startsWith('| `k8s.privilege-escalation.privileged-pod`'));
    expect(row).toMatch(/\[k8s_privileged_pod_created\]\([^)]*\) \(high\) narrowed by \[filter_priv\.yml\]\([^)]*tuning\/filter_priv\.yml\)/);
    expect(techniquesBlock(c, { docDir: join(ROOT, 'docs'), root: ROOT, paths: ['detections'], names: true })).toContain('narrowed by [filter_priv.yml]');
    // The HTML page names them too: in the matrix's lists, in the Stratus table and in the count under the title.
    const html = coverageHtml(c, { docDir: join(ROOT, 'docs'), root: ROOT, paths: ['detections', join(dir, 'tuning')] });
    const by = (path: string): string => `<small class="narrowed">narrowed by <span title="${path}">filter_priv.yml</span></small>`;
    const filterPath = narrowed[0]!.filteredBy![0]!;
    expect(filterPath).toMatch(/tuning\/filter_priv\.yml$/);
    expect(html).toContain(`<li class="lv-high">k8s_privileged_pod_created <small>(high)</small> ${by(filterPath)}</li>`);
    const stratusRow = html.split('\n').find((l) => l.includes('<code>k8s.privilege-escalation.privileged-pod</code>'));
    expect(stratusRow).toContain(`k8s_privileged_pod_created <small>(high)</small> ${by(filterPath)}`);
    expect(html).toContain(`<p><code>filters=1</code>: one meta-filter loaded, narrowing k8s_privileged_pod_created ${by(filterPath)}.`);
    expect(html.split(by(filterPath)).length - 1).toBeGreaterThanOrEqual(3);
    const packHtml = coverageHtml(await packCoverage(), { docDir: join(ROOT, 'docs'), root: ROOT, paths: ['detections'] });
    expect(packHtml).toContain('<p><code>filters=0</code>: 0 meta-filters loaded.</p>');
    expect(packHtml).not.toContain('narrowed by');
    expect((await packCoverage()).filters).toBe(0);
  }, 120_000);

  it("the glance table names each folder by its path: a second rules path's subfolders keep their root, a flat folder is itself", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-coverage-folders-'));
    const rule = (n: string): string =>
      [`title: Rule ${n}`, `id: 00000000-0000-4000-8000-0000000000${n}`, 'status: test', 'description: |', `  Call${n} was made.`, '  Triage: who made it.', 'logsource:', '  product: aws', '  service: cloudtrail', 'detection:', '  sel:', `    eventName: Call${n}`, '  condition: sel', 'level: low', ''].join('\n');
    await mkdir(join(dir, 'pack/cloudtrail'), { recursive: true });
    await mkdir(join(dir, 'mine'), { recursive: true });
    await mkdir(join(dir, 'site/cloudtrail'), { recursive: true });
    await writeFile(join(dir, 'pack/cloudtrail/a.yml'), rule('11'));
    await writeFile(join(dir, 'mine/b.yml'), rule('12'));
    await writeFile(join(dir, 'site/cloudtrail/c.yml'), rule('13'));
    const rows = (paths: string[]) => async (): Promise<string[]> =>
      glanceBlock(await computeCoverage(paths, { root: dir }), { docDir: dir, root: dir, paths })
        .split('\n')
        .filter((l) => l.startsWith('| `') && !l.includes('native'))
        .map((l) => l.split('|').slice(1, 4).map((c) => c.trim()).join(' | '));
    // Before: `mine/mine/` for the flat folder alone, and `cloudtrail/` (one row for both paths) beside another path.
    expect(await rows(['mine'])()).toEqual(['`mine/` |  | 1 rules']);
    expect(await rows(['pack', 'mine', 'site'])()).toEqual([
      '`mine/` |  | 1 rules',
      '`pack/cloudtrail/` | CloudTrail management (and, where noted, data) events | 1 rules',
      '`site/cloudtrail/` | CloudTrail management (and, where noted, data) events | 1 rules',
    ]);
  }, 60_000);
});
