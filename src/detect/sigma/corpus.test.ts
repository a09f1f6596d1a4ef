import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';
import { lintRules } from './lint.ts';
import { loadRules } from './ruleset.ts';

const CORPUS = join(SHARED, 'sigma');
const SPEC_TESTS = join(SHARED, 'sigma-spec', 'tests', 'schema');

describe.skipIf(!sharedPresent(CORPUS))('SigmaHQ corpus', () => {
  it('loads every rule; every problem has a file and a position', async () => {
    const { stats, diagnostics, ruleset } = await loadRules([CORPUS]);
    expect(stats.files).toBe(3779);
    // Every rejection is explained by an error diagnostic with a file and a line.
    const errors = diagnostics.filter((d) => d.severity === 'error');
    for (const d of diagnostics) {
      expect(d.file.startsWith(CORPUS)).toBe(true);
      expect(d.line).toBeGreaterThan(0);
    }
    // Three Invoke-Obfuscation rules share a regex that backtracks exponentially (`(?:.*\)){1,}`:
    // x4 time per 2 characters of command line); they are refused at load (ADR 0010).
    expect(errors.map((d) => [d.code, d.file.split('/').pop()])).toEqual([
      ['SEAM_ERR_RULE_REGEX', 'posh_pm_invoke_obfuscation_var.yml'],
      ['SEAM_ERR_RULE_REGEX', 'posh_ps_invoke_obfuscation_var.yml'],
      ['SEAM_ERR_RULE_REGEX', 'proc_creation_win_hktl_invoke_obfuscation_var.yml'],
    ]);
    expect(stats).toMatchObject({ rules: 3776, correlations: 0, filters: 0, rejected: 3 });
    // The only warnings are placeholders without configured values (rules-placeholder/).
    expect(new Set(diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code))).toEqual(new Set(['SEAM_ERR_RULE_PLACEHOLDER']));
    const buckets = ruleset.indexStats().buckets;
    // Runtime rules with a category sit in one bucket per event kind.
    expect(Object.keys(buckets).sort()).toEqual(['(none)', 'cloudtrail', 'k8s_audit', 'runtime:file', 'runtime:network', 'runtime:process']);
  }, 120_000);
});

describe.skipIf(!sharedPresent(CORPUS))('README figures of the pack beside SigmaHQ (review-de L3)', () => {
  it('README quotes the lint line of detections + SigmaHQ cloud/aws and application/kubernetes as it is today', async () => {
    const root = join(import.meta.dirname, '../../..');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const pack = await lintRules([join(root, 'detections')]);
    const both = await lintRules([join(root, 'detections'), join(CORPUS, 'rules/cloud/aws'), join(CORPUS, 'rules/application/kubernetes')]);
    expect(readme).toContain('`' + both.line + '`');
    const { rules, correlations } = pack.loaded.stats;
    const sigmaRules = both.loaded.stats.rules - rules;
    expect(readme).toContain(`(Seam's ${rules} rules and ${correlations} correlations, SigmaHQ's ${sigmaRules} rules;`);
  }, 120_000);
});

describe.skipIf(!sharedPresent(SPEC_TESTS))('Sigma specification examples', () => {
  it('loads each schema test file (rules, filters, correlations) on its own without errors', async () => {
    const total = { rules: 0, filters: 0, correlations: 0, rejected: 0 };
    for (const dir of ['rules', 'filter', 'correlation']) {
      for (const f of readdirSync(`${SPEC_TESTS}/${dir}`)) {
        // The *_ecs.yml variants reuse the ids of their siblings, so each file loads alone.
        const { stats, diagnostics, ruleset } = await loadRules([`${SPEC_TESTS}/${dir}/${f}`]);
        expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += stats[k];
        expect(ruleset.correlations.every((c) => c.line > 0 && typeof c.doc === 'object')).toBe(true);
      }
    }
    expect(total).toEqual({ rules: 2, filters: 2, correlations: 8, rejected: 0 });
  });
});
