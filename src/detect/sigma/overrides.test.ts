import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeamConfig } from '../../core/config/schema.ts';
import { compileCorrelations, ruleLookupFrom } from '../correlate/compile.ts';
import { loadRules } from './ruleset.ts';
import type { RuleOverride } from './types.ts';

// Site overrides (seam.yml rules.overrides, review-de M3): what each kind changes in the loaded rule set, the one line
// each says, and the warnings for one that names nothing loaded or sets a threshold on a Sigma rule.

const RULES = join(resolve(import.meta.dirname, '../../..'), 'test/data/overrides-rules');
const load = (overrides: RuleOverride[]) => loadRules([RULES], { overrides });
const names = (xs: readonly { name?: string | undefined }[]): (string | undefined)[] => xs.map((x) => x.name);

describe('rule overrides at load', () => {
  it('without overrides the fixture loads whole and says nothing', async () => {
    const r = await loadRules([RULES]);
    expect(names(r.ruleset.rules)).toEqual(['t_secret_get', 't_pod_list', 't_configmap_get']);
    expect(names(r.ruleset.correlations)).toEqual(['t_corr_secret_sweep']);
    expect(r.overrides).toBeUndefined();
  });

  it('disabled: the rule is gone from the rule set (by name or id), counted out, and said', async () => {
    const r = await load([{ rule: 't_configmap_get', disabled: true }, { rule: '0c7e5a10-0000-4000-8000-000000000003', disabled: true }]);
    expect(names(r.ruleset.rules)).toEqual(['t_secret_get']);
    expect(r.stats.rules).toBe(1);
    expect(r.overrides).toEqual(["override: rule 't_configmap_get' disabled", "override: rule '0c7e5a10-0000-4000-8000-000000000003' disabled"]);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('disabling a feeder disables the correlation that uses it, and the line names it', async () => {
    const r = await load([{ rule: 't_secret_get', disabled: true }]);
    expect(r.ruleset.correlations).toEqual([]);
    expect(r.stats.correlations).toBe(0);
    expect(r.overrides).toEqual(["override: rule 't_secret_get' disabled (and the correlations that use it: t_corr_secret_sweep)"]);
  });

  it('a disabled correlation no longer withholds its feeder (no SUPPRESSED warning: the feeder is informational either way)', async () => {
    const r = await load([{ rule: 't_corr_secret_sweep', disabled: true }]);
    expect(r.ruleset.correlations).toEqual([]);
    expect(names(r.ruleset.rules)).toContain('t_secret_get');
    expect(r.overrides).toEqual(["override: correlation 't_corr_secret_sweep' disabled"]);
  });

  it('level: a rule\'s and a correlation\'s level change, each said with before and after', async () => {
    const r = await load([{ rule: 't_pod_list', level: 'high' }, { rule: 't_corr_secret_sweep', level: 'low' }]);
    expect(r.ruleset.rules.find((x) => x.name === 't_pod_list')?.level).toBe('high');
    expect((r.ruleset.correlations[0]?.doc as { level?: string }).level).toBe('low');
    expect(r.overrides).toEqual(["override: rule 't_pod_list' level medium -> high", "override: correlation 't_corr_secret_sweep' level medium -> low"]);
    // The compiled correlation carries the new level.
    expect(compileCorrelations(r.ruleset.correlations, ruleLookupFrom(r.ruleset.rules)).correlations[0]?.level).toBe('low');
  });

  it('condition: the comparisons are replaced, condition.field is kept, and the correlation compiles with the new threshold', async () => {
    const r = await load([{ rule: 't_corr_secret_sweep', condition: { gte: 10 } }]);
    expect((r.ruleset.correlations[0]?.doc as { correlation: { condition: unknown } }).correlation.condition).toEqual({ field: 'objectRef.name', gte: 10 });
    expect(r.overrides).toEqual(["override: correlation 't_corr_secret_sweep' condition gte 4 -> gte 10"]);
    const c = compileCorrelations(r.ruleset.correlations, ruleLookupFrom(r.ruleset.rules));
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c.correlations[0]?.condition).toEqual({ gte: 10 });
  });

  it('an override naming nothing loaded, or a threshold on a Sigma rule, is a SEAM_ERR_RULE_REFERENCE warning; the rest still applies', async () => {
    const r = await load([{ rule: 'no_such_rule', disabled: true }, { rule: 't_pod_list', level: 'low', condition: { gte: 3 } }]);
    const w = r.diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_REFERENCE');
    expect(w.map((d) => [d.severity, d.file, d.ref, d.message])).toEqual([
      ['warning', 'seam.yml rules.overrides[0]', 'no_such_rule', "override refers to rule 'no_such_rule', which is not loaded: it changes nothing"],
      ['warning', 'seam.yml rules.overrides[1]', 't_pod_list', "override sets a condition on 't_pod_list', a Sigma rule: only a correlation has a threshold; condition ignored"],
    ]);
    expect(r.overrides).toEqual(["override: rule 't_pod_list' level medium -> low"]);
  });
});

describe('seam.yml rules.overrides', () => {
  const parse = (overrides: unknown) => SeamConfig.safeParse({ rules: { overrides } });
  it('takes disabled, level and condition', () => {
    const r = parse([{ rule: 'a', disabled: true }, { rule: 'b', level: 'low' }, { rule: 'c', condition: { gte: 10 } }]);
    expect(r.success).toBe(true);
  });
  it('refuses an override that changes nothing, an unknown key, an unknown level, an empty condition and two entries for one rule', () => {
    const issues = (x: unknown): string[] => {
      const r = parse(x);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues([{ rule: 'a' }])).toEqual(['rules.overrides.0: an override needs disabled, level or condition']);
    expect(issues([{ rule: 'a', enabled: false }])[0]).toMatch(/enabled/);
    expect(issues([{ rule: 'a', level: 'severe' }])[0]).toMatch(/^rules\.overrides\.0\.level/);
    expect(issues([{ rule: 'a', condition: {} }])).toEqual(['rules.overrides.0.condition: give at least one of gt, gte, lt, lte, eq, neq']);
    expect(issues([{ rule: 'a', level: 'low' }, { rule: 'a', disabled: true }])).toEqual(["rules.overrides.1.rule: a second override of 'a': give one entry per rule"]);
  });
});
