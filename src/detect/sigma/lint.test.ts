import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintCommand } from './lint.ts';

const rule = (n: number, logsource: string): string => `title: Lint Count ${n}
id: 00000000-0000-4000-8000-00000000000${n}
logsource:
${logsource}
detection:
  selection:
    eventName: X${n}
  condition: selection
level: low
`;

async function lint(paths: string[], verbose = false): Promise<{ code: number; text: string }> {
  let text = '';
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  const code = await lintCommand(paths, out, { verbose });
  return { code, text };
}

describe('seam rules lint', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-lint-'));
    await writeFile(join(dir, 'a.yml'), rule(1, '  product: aws\n  service: cloudtrail'));
    await writeFile(join(dir, 'b.yml'), rule(2, '  product: aws\n  service: cloudtrail'));
    await writeFile(join(dir, 'c.yml'), rule(3, '  product: kubernetes\n  service: audit'));
    await writeFile(join(dir, 'd.yml'), rule(4, '  product: windows\n  category: process_creation'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ends with a summary that counts rules per product', async () => {
    const { code, text } = await lint([dir]);
    expect(code).toBe(0);
    const last = text.trimEnd().split('\n').at(-1);
    expect(last).toBe('lint: files=4 rules=4 correlations=0 rejected=0 cloudtrail=2 kubernetes=1 guardduty=0 runtime=0 other=1');
  });

  it('leaves other= out when every rule maps to a Seam source', async () => {
    const { text } = await lint([join(dir, 'a.yml'), join(dir, 'c.yml')]);
    expect(text.trimEnd().split('\n').at(-1)).toBe('lint: files=2 rules=2 correlations=0 rejected=0 cloudtrail=1 kubernetes=1 guardduty=0 runtime=0');
  });

  it('reports a correlation naming a rule that is not loaded once, as an error at the reference, and counts it rejected', async () => {
    const file = join(dir, 'corr.yml');
    await writeFile(
      file,
      ['title: Two things', 'id: 6c1f9a3e-2b4d-4f8a-9e7c-1a2b3c4d5e6f', 'name: corr_two_things', 'correlation:', '    type: event_count', '    rules:', '        - lint_count_1', '        - no_such_rule', '    group-by:', '        - seam.principal.id', '    timespan: 10m', '    condition:', '        gte: 2', 'level: medium', ''].join('\n'),
    );
    const first = rule(1, '  product: aws\n  service: cloudtrail').replace('title: Lint Count 1', 'title: Lint Count 1\nname: lint_count_1');
    const a = join(dir, 'named.yml');
    await writeFile(a, first.replace('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009'));
    const { code, text } = await lint([a, file]);
    const problems = text.split('\n').filter((l) => l.includes('no_such_rule'));
    expect(problems).toEqual([`${file}:8:11: SEAM_ERR_RULE_REFERENCE correlation 'Two things' refers to rule 'no_such_rule', which is neither a loaded rule nor a correlation`]);
    expect(code).toBe(1);
    expect(text.trimEnd().split('\n').at(-1)).toBe('lint: files=2 rules=1 correlations=0 rejected=1 cloudtrail=1 kubernetes=0 guardduty=0 runtime=0');
    await rm(file);
    await rm(a);
  });

  it("a correlation naming a rule or correlation by a misspelt name gets the loaded one it probably means", async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-corr-typo-'));
    try {
      const corr = (n: number, name: string, refs: string[]): string =>
        [`title: Corr ${n}`, `id: 6c1f9a3e-2b4d-4f8a-9e7c-1a2b3c4d5e7${n}`, `name: ${name}`, 'correlation:', '    type: event_count', '    rules:', ...refs.map((r) => `        - ${r}`), '    group-by:', '        - seam.principal.id', '    timespan: 10m', '    condition:', '        gte: 2', 'level: low', ''].join('\n');
      await writeFile(join(d, 'named.yml'), rule(1, '  product: aws\n  service: cloudtrail').replace('title: Lint Count 1', 'title: Lint Count 1\nname: lint_count_1'));
      await writeFile(join(d, 'c1.yml'), corr(1, 'corr_one', ['lint_count_1']));
      // A misspelt rule name, and a misspelt correlation name (a correlation may count another).
      await writeFile(join(d, 'c2.yml'), corr(2, 'corr_two', ['lint_cont_1']));
      await writeFile(join(d, 'c3.yml'), corr(3, 'corr_three', ['corr_onee']));
      const { code, text } = await lint([d]);
      expect(code).toBe(1);
      expect(text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_REFERENCE') && !l.includes('SUPPRESSED'))).toEqual([
        `${join(d, 'c2.yml')}:7:11: SEAM_ERR_RULE_REFERENCE correlation 'Corr 2' refers to rule 'lint_cont_1', which is neither a loaded rule nor a correlation (did you mean "lint_count_1"?)`,
        `${join(d, 'c3.yml')}:7:11: SEAM_ERR_RULE_REFERENCE correlation 'Corr 3' refers to rule 'corr_onee', which is neither a loaded rule nor a correlation (did you mean "corr_one"?)`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it("a correlation's misspelt type gets a did-you-mean, and a timespan lint refuses names only the units the engine takes", async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-corr-type-'));
    try {
      await writeFile(join(d, 'named.yml'), rule(1, '  product: aws\n  service: cloudtrail').replace('title: Lint Count 1', 'title: Lint Count 1\nname: lint_count_1'));
      const corr = (type: string, timespan: string): string =>
        ['title: Corr', 'name: corr_t', 'correlation:', `    type: ${type}`, '    rules: [lint_count_1]', '    group-by: [userIdentity.arn]', `    timespan: ${timespan}`, '    condition:', '        gte: 2', 'level: low', ''].join('\n');
      await writeFile(join(d, 'c.yml'), corr('temporal_order', '30min'));
      const { text } = await lint([d]);
      expect(text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_SCHEMA'))).toEqual([
        `${join(d, 'c.yml')}:4:11: SEAM_ERR_RULE_SCHEMA correlation type 'temporal_order' is not one of event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile (did you mean "temporal_ordered"?)`,
        // It said "s, m, h, d, w, M or y", and 1M is then refused when the correlation compiles.
        `${join(d, 'c.yml')}:7:15: SEAM_ERR_RULE_SCHEMA timespan '30min' must be a number followed by s, m, h, d or w (e.g. 90m, 7d; months and years are not fixed durations)`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a rule test file under a name Seam reads as a rule is one error saying what to rename it to', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-testname-'));
    try {
      await writeFile(join(d, 'named.yml'), rule(1, '  product: aws\n  service: cloudtrail'));
      await writeFile(join(d, 'named.tests.yml'), 'placeholders: {}\ncases:\n  - name: x\n    alerts: 1\n    events: []\n');
      const { code, text } = await lint([d]);
      expect(code).toBe(1);
      expect(text.split('\n').filter((l) => l.includes('named.tests.yml'))).toEqual([
        `${join(d, 'named.tests.yml')}:2:1: SEAM_ERR_RULE_SCHEMA this is a rule test file (top-level 'cases'), not a rule: Seam reads tests only as X.test.yml beside the rule X.yml (rename it named.test.yml)`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('warns, naming the file, when a rule meant for Seam can never fire: a logsource that maps to no Seam source, a field in the wrong case', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-never-'));
    try {
      await writeFile(join(d, 'typo.yml'), rule(5, '  product: aws\n  service: cloudtrial'));
      await writeFile(join(d, 'noproduct.yml'), rule(6, '  service: cloudtrail'));
      await writeFile(join(d, 'windows.yml'), rule(7, '  product: windows\n  category: process_creation'));
      await writeFile(join(d, 'case.yml'), rule(8, '  product: aws\n  service: cloudtrail').replace('eventName: X8', 'EventName: X8'));
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'typo.yml')}:1:1: SEAM_ERR_RULE_LOGSOURCE (warning) logsource {product: aws, service: cloudtrial} maps to no source Seam collects, so this rule loads but never runs (did you mean service: cloudtrail?)`);
      expect(lines).toContain(`${join(d, 'noproduct.yml')}:1:1: SEAM_ERR_RULE_LOGSOURCE (warning) logsource {service: cloudtrail} maps to no source Seam collects, so this rule loads but never runs (did you mean product: aws?)`);
      expect(lines).toContain(`${join(d, 'case.yml')}:8:5: SEAM_ERR_RULE_FIELD (warning) field EventName: Seam's cloudtrail events carry eventName (field names are case-sensitive), so as written it never matches`);
      // A rule for a product Seam does not collect is only counted.
      expect(text).not.toContain('windows.yml');
      expect(lines.at(-1)).toBe('lint: files=4 rules=4 correlations=0 rejected=0 cloudtrail=1 kubernetes=0 guardduty=0 runtime=0 other=3');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('warns about a rule at medium or above whose description has no Triage: paragraph, not about a low one or one that has it', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-triage-'));
    try {
      const cloudtrail = '  product: aws\n  service: cloudtrail';
      await writeFile(join(d, 'bare.yml'), rule(1, cloudtrail).replace('level: low', 'level: high\ndescription: Something happened.'));
      await writeFile(join(d, 'triaged.yml'), rule(2, cloudtrail).replace('level: low', 'level: high\ndescription: |\n  Something happened.\n  Triage: who did it, from where.'));
      await writeFile(join(d, 'tuning-only.yml'), rule(3, cloudtrail).replace('level: low', 'level: medium\ndescription: |\n  Something happened.\n  Triage: add your own with %seam_x%.'));
      await writeFile(join(d, 'context.yml'), rule(4, cloudtrail));
      await mkdir(join(d, 'mine'));
      await writeFile(join(d, 'mine/alone.yml'), rule(5, cloudtrail).replace('level: low', 'level: medium'));
      const triageOf = (text: string): string[] => text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_TRIAGE'));
      const verbose = await lint([d], true);
      expect(verbose.code).toBe(0);
      expect(triageOf(verbose.text)).toEqual([
        `${join(d, 'bare.yml')}:1:1: SEAM_ERR_RULE_TRIAGE (warning) level high and no 'Triage:' paragraph in the description: its alerts carry no triage text for the analyst`,
        `${join(d, 'mine/alone.yml')}:1:1: SEAM_ERR_RULE_TRIAGE (warning) level medium and no 'Triage:' paragraph in the description: its alerts carry no triage text for the analyst`,
        `${join(d, 'tuning-only.yml')}:1:1: SEAM_ERR_RULE_TRIAGE (warning) level medium and no 'Triage:' paragraph in the description: its alerts carry no triage text for the analyst`,
      ]);
      // Without -v, one line per folder with several (SigmaHQ's folders printed one per rule), a lone one as it is.
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      expect(triageOf(text)).toEqual([
        `${join(d, 'bare.yml')}:1:1: SEAM_ERR_RULE_TRIAGE (warning) 2 rules or correlations at medium or above in ${d} have no 'Triage:' paragraph in their description (SigmaHQ's have none): their alerts carry no triage text for the analyst (this is the first; -v lists every one)`,
        `${join(d, 'mine/alone.yml')}:1:1: SEAM_ERR_RULE_TRIAGE (warning) level medium and no 'Triage:' paragraph in the description: its alerts carry no triage text for the analyst`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('prints one line per unset placeholder with its rule count (review-de L4), every use with -v', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-ph-'));
    try {
      const ct = '  product: aws\n  service: cloudtrail';
      for (const n of [1, 2]) await writeFile(join(d, `r${n}.yml`), rule(n, ct).replace(`eventName: X${n}`, "eventName|expand:\n      - '%site_a%'\n      - '%site_b%'\n    userIdentity.arn|expand: '%site_a%'"));
      const folded = (await lint([d])).text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_PLACEHOLDER'));
      expect(folded).toEqual([
        `${join(d, 'r1.yml')}:9:9: SEAM_ERR_RULE_PLACEHOLDER (warning) placeholder %site_a% has no configured values; it matches nothing in 2 rule(s), 4 uses (this is the first; -v lists every one)`,
        `${join(d, 'r1.yml')}:10:9: SEAM_ERR_RULE_PLACEHOLDER (warning) placeholder %site_b% has no configured values; it matches nothing in 2 rule(s), 2 uses (this is the first; -v lists every one)`,
      ]);
      const all = (await lint([d], true)).text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_PLACEHOLDER'));
      expect(all).toHaveLength(6);
      expect(all[0]).toContain('placeholder %site_a% has no configured values; this value matches nothing (rule still loads)');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('warns at the line about a correlation group-by, condition field or alias field no event of its rules carries', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-corr-'));
    try {
      const base = rule(1, '  product: kubernetes\n  service: audit').replace('title: Lint Count 1', 'title: Lint Count 1\nname: base_k8s').replace('eventName: X1', 'verb: create');
      await writeFile(join(d, 'base.yml'), base);
      const corr = (n: number, body: string): string =>
        [`title: Corr ${n}`, `id: 6c1f9a3e-2b4d-4f8a-9e7c-1a2b3c4d5e6${n}`, `name: corr_${n}`, 'correlation:', ...body.split('\n'), 'level: low', ''].join('\n');
      await writeFile(join(d, 'c1.yml'), corr(1, '  type: value_count\n  rules:\n    - base_k8s\n  group-by:\n    - user.userName\n  timespan: 10m\n  condition:\n    field: objectref.name\n    gte: 3'));
      await writeFile(join(d, 'c2.yml'), corr(2, '  type: event_count\n  rules:\n    - base_k8s\n  aliases:\n    who:\n      base_k8s: User.username\n  group-by:\n    - who\n  timespan: 10m\n  condition:\n    gte: 3'));
      // Right case, an alias used right, a chained correlation over c3: no warning.
      await writeFile(join(d, 'c3.yml'), corr(3, '  type: value_count\n  rules:\n    - base_k8s\n  group-by:\n    - user.username\n    - seam.cluster\n  timespan: 10m\n  condition:\n    field: objectRef.name\n    gte: 3'));
      await writeFile(join(d, 'c4.yml'), corr(4, '  type: event_count\n  rules:\n    - corr_3\n  group-by:\n    - user.UserName\n  timespan: 1h\n  condition:\n    gte: 2'));
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      expect(text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_FIELD'))).toEqual([
        `${join(d, 'c1.yml')}:9:7: SEAM_ERR_RULE_FIELD (warning) group-by field user.userName: Seam's k8s_audit events carry user.username (field names are case-sensitive), so as written it never matches`,
        `${join(d, 'c1.yml')}:12:5: SEAM_ERR_RULE_FIELD (warning) condition field objectref.name: Seam's k8s_audit events carry objectRef.name (field names are case-sensitive), so as written it never matches`,
        `${join(d, 'c2.yml')}:10:7: SEAM_ERR_RULE_FIELD (warning) alias who: field User.username: Seam's k8s_audit events carry user.username (field names are case-sensitive), so as written it never matches`,
        `${join(d, 'c4.yml')}:9:7: SEAM_ERR_RULE_FIELD (warning) group-by field user.UserName: Seam's k8s_audit events carry user.username (field names are case-sensitive), so as written it never matches`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('warns at the key about a top-level field no audit or CloudTrail record has; open objects and mapped taxonomy names pass', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-top-'));
    const k8s = '  product: kubernetes\n  service: audit';
    try {
      await writeFile(join(d, 'apigroup.yml'), rule(1, k8s).replace('eventName: X1', "verb: create\n    apiGroup: apps\n    group: apps"));
      await writeFile(join(d, 'open.yml'), rule(2, k8s).replace('eventName: X2', "verb: create\n    requestObject.spec.hostNetwork: 'true'\n    objectRef.resource: pods"));
      await writeFile(join(d, 'mapped.yml'), rule(3, k8s).replace('eventName: X3', "hostPath: '*'\n    capabilities: '*'"));
      await writeFile(join(d, 'ct.yml'), rule(4, '  product: aws\n  service: cloudtrail').replace('eventName: X4', 'eventName: X4\n    status: pending\n    requestParameters.anything: x'));
      await writeFile(join(d, 'ctok.yml'), rule(6, '  product: aws\n  service: cloudtrail').replace('eventName: X6', 'eventName: X6\n    status: success'));
      await writeFile(join(d, 'gd.yml'), rule(5, '  product: aws\n  service: guardduty').replace('eventName: X5', 'Resource.ResourceType: Instance'));
      // A misspelt top-level name: the nearest one the source's records have (eventTime is two edits from eventNme too).
      await writeFile(join(d, 'typo.yml'), rule(7, '  product: aws\n  service: cloudtrail').replace('eventName: X7', 'eventNme: X7\n    eventSorce: kms.amazonaws.com'));
      await writeFile(join(d, 'verb.yml'), rule(8, k8s).replace('eventName: X8', 'verbb: create'));
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      const lines = text.trimEnd().split('\n');
      expect(lines.filter((l) => l.includes('SEAM_ERR_RULE_FIELD'))).toEqual([
        `${join(d, 'apigroup.yml')}:10:5: SEAM_ERR_RULE_FIELD (warning) field group: no k8s_audit record has a top-level group, so as written it never matches`,
        `${join(d, 'ct.yml')}:9:5: SEAM_ERR_RULE_FIELD (warning) field status: no cloudtrail record has a top-level status, so as written it never matches`,
        `${join(d, 'typo.yml')}:8:5: SEAM_ERR_RULE_FIELD (warning) field eventNme: no cloudtrail record has a top-level eventNme (did you mean eventName?), so as written it never matches`,
        `${join(d, 'typo.yml')}:9:5: SEAM_ERR_RULE_FIELD (warning) field eventSorce: no cloudtrail record has a top-level eventSorce (did you mean eventSource?), so as written it never matches`,
        `${join(d, 'verb.yml')}:8:5: SEAM_ERR_RULE_FIELD (warning) field verbb: no k8s_audit record has a top-level verbb (did you mean verb?), so as written it never matches`,
      ]);
      // apiGroup is pySigma's taxonomy name for objectRef.apiGroup; status: success (or failure) is a call without
      // (with) an errorCode; other values of status stay unmapped (logsource.ts).
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});


describe('seam rules lint, strictness per the Sigma schema', () => {
  const ct = (id: string, extra: string, detection = '    sel:\n        eventName: ListUsers\n    condition: sel'): string =>
    `title: Strict ${id}\nid: 0e5b7c2a-1d3f-4a6b-8c9d-00000000000${id}\nname: strict_${id}\n${extra}logsource:\n    product: aws\n    service: cloudtrail\ndetection:\n${detection}\n`;

  it('rejects an unknown level, in a rule and in a correlation, instead of running it as medium', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-strict-'));
    try {
      await writeFile(join(d, 'rule.yml'), ct('1', 'level: severe\n'));
      await writeFile(join(d, 'ok.yml'), ct('2', 'level: low\n'));
      await writeFile(join(d, 'corr.yml'), ['title: Strict corr', 'level: severe', 'correlation:', '    type: event_count', '    rules: [strict_2]', '    group-by: [userIdentity.arn]', '    timespan: 5m', '    condition: { gte: 2 }', ''].join('\n'));
      const { code, text } = await lint([d]);
      expect(code).toBe(1);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'rule.yml')}:4:8: SEAM_ERR_RULE_SCHEMA level 'severe' is not one of informational, low, medium, high, critical`);
      expect(lines).toContain(`${join(d, 'corr.yml')}:2:1: SEAM_ERR_RULE_SCHEMA level 'severe' is not one of informational, low, medium, high, critical`);
      expect(lines.at(-1)).toBe('lint: files=3 rules=1 correlations=0 rejected=2 cloudtrail=1 kubernetes=0 guardduty=0 runtime=0');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('warns about |all with one value and a v1 detection.timeframe; the rules load', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-strict-'));
    try {
      await writeFile(join(d, 'all.yml'), ct('3', 'level: low\n', '    sel:\n        userAgent|contains|all: boto\n    condition: sel'));
      await writeFile(join(d, 'all2.yml'), ct('4', 'level: low\n', '    sel:\n        userAgent|contains|all: [boto, aws]\n    condition: sel'));
      await writeFile(join(d, 'tf.yml'), ct('5', 'level: low\n', '    sel:\n        eventName: ListUsers\n    condition: sel\n    timeframe: 5m'));
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'all.yml')}:10:9: SEAM_ERR_RULE_MODIFIER (warning) 'all' with a single value means nothing (every value of a one-value list); remove it or list the values`);
      expect(lines.filter((l) => l.includes('all2.yml') && !l.includes('SEAM_ERR_RULE_NAME'))).toEqual([]);
      expect(lines).toContain(`${join(d, 'tf.yml')}:12:5: SEAM_ERR_RULE_SCHEMA (warning) 'detection.timeframe' (Sigma v1) is ignored: the rule matches single events; write a correlation (e.g. event_count with a timespan) for a count over time`);
      expect(lines.at(-1)).toBe('lint: files=3 rules=3 correlations=0 rejected=0 cloudtrail=3 kubernetes=0 guardduty=0 runtime=0');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('says did-you-mean for a mistyped modifier, condition identifier and rule a filter names; an invalid regex is said once', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-strict-'));
    try {
      await writeFile(join(d, 'ok.yml'), ct('7', 'level: low\n'));
      await writeFile(join(d, 'mod.yml'), ct('8', 'level: low\n', '    sel:\n        eventName|contain: Foo\n    condition: sel'));
      await writeFile(join(d, 'cond.yml'), ct('9', 'level: low\n', '    sel:\n        eventName: Foo\n    filter:\n        userIdentity.userName: admin\n    condition: sel and not filtr'));
      await writeFile(join(d, 're.yml'), ct('a', 'level: low\n', "    sel:\n        eventName|re: 'Foo(['\n    condition: sel"));
      await writeFile(join(d, 'filter.yml'), ['title: Filter a typo', 'logsource:', '    product: aws', '    service: cloudtrail', 'filter:', '    rules:', '        - strict_77', '    sel:', '        userIdentity.userName: admin', '    condition: not sel', ''].join('\n'));
      const { text } = await lint([d]);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'mod.yml')}:10:9: SEAM_ERR_RULE_MODIFIER unknown modifier 'contain' (did you mean "contains"?)`);
      expect(lines).toContain(`${join(d, 'cond.yml')}:13:28: SEAM_ERR_RULE_REFERENCE condition refers to undefined search identifier 'filtr' (did you mean "filter"?)`);
      expect(lines).toContain(`${join(d, 'filter.yml')}:7:11: SEAM_ERR_RULE_REFERENCE (warning) filter refers to rule 'strict_77', which is not loaded (did you mean "strict_7"?)`);
      const re = lines.filter((l) => l.startsWith(`${join(d, 're.yml')}:`) && l.includes('SEAM_ERR_RULE_REGEX'));
      expect(re).toHaveLength(1);
      expect(re[0]).toMatch(/SEAM_ERR_RULE_REGEX invalid regular expression \/Foo\(\[\/: /);
      expect(re[0]).not.toMatch(/Invalid regular expression/);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it("points a correlation's problems at the offending key, and tells a filter naming a correlation that filters target rules", async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-strict-'));
    try {
      await writeFile(join(d, 'ok.yml'), ct('6', 'level: low\n'));
      await writeFile(
        join(d, 'corr.yml'),
        ['title: Strict positions', 'name: strict_corr', 'correlation:', '    type: event_count', '    rules: [strict_6]', '    group-by: [userIdentity.arn]', '    timespan: 1M', '    condition:', '        gtee: 2', ''].join('\n'),
      );
      await writeFile(
        join(d, 'filter.yml'),
        ['title: Filter a correlation', 'logsource:', '    product: aws', '    service: cloudtrail', 'filter:', '    rules:', '        - strict_corr', '    sel:', '        userIdentity.userName: admin', '    condition: sel', ''].join('\n'),
      );
      const { text } = await lint([d]);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'corr.yml')}:7:5: SEAM_ERR_RULE_SCHEMA bad timespan '1M': expected a number and one of s, m, h, d, w (e.g. 90m; months and years are not fixed durations)`);
      expect(lines).toContain(`${join(d, 'corr.yml')}:9:9: SEAM_ERR_RULE_CONDITION unknown condition key 'gtee'; expected gt, gte, lt, lte, eq, neq or field`);
      expect(lines).toContain(`${join(d, 'filter.yml')}:7:11: SEAM_ERR_RULE_REFERENCE (warning) filter refers to correlation 'strict_corr': filters target Sigma rules only; name the rules the correlation refers to, or tune them`);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('seam rules lint: a name that is not its file name', () => {
  const rule = (name: string | undefined, id: string): string =>
    `title: Keys\nid: 0e5b7c2a-1d3f-4a6b-8c9d-0000000000${id}\n${name === undefined ? '' : `name: ${name}\n`}level: low\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: CreateAccessKey\n    condition: sel\n`;
  it('warns (exit 0), at its name: key, about a renamed or copied file whose name was kept; not about a rule without a name (SigmaHQ), nor a feeder beside a correlation named after the file', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-name-'));
    try {
      await writeFile(join(d, 'ct_key_created_v2.yml'), rule('ct_key_created', '01'));
      await writeFile(join(d, 'ct_key_created_ok.yml'), rule('ct_key_created_ok', '02'));
      await writeFile(join(d, 'aws_sigmahq_style.yml'), rule(undefined, '03'));
      const corr = ['title: Burst', 'name: corr_key_burst', 'level: low', 'correlation:', '    type: event_count', '    rules: [key_feeder]', '    group-by: [userIdentity.arn]', '    timespan: 5m', '    condition: { gte: 2 }', ''].join('\n');
      await writeFile(join(d, 'corr_key_burst.yml'), `${rule('key_feeder', '04')}---\n${corr}`);
      await writeFile(join(d, 'corr_misnamed.yml'), `${rule('key_feeder_2', '05')}---\n${corr.replace('corr_key_burst', 'corr_other').replace('key_feeder]', 'key_feeder_2]')}`);
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      expect(text.split('\n').filter((l) => l.includes('SEAM_ERR_RULE_NAME'))).toEqual([
        `${join(d, 'corr_misnamed.yml')}:14:1: SEAM_ERR_RULE_NAME (warning) name 'corr_other' is not the file's name 'corr_misnamed' (nor is any other name in it: key_feeder_2): correlations, filters and overrides refer to a rule by its name, and people look for it by file; rename the file corr_other.yml (and its test corr_other.test.yml), or set name: corr_misnamed`,
        `${join(d, 'ct_key_created_v2.yml')}:3:1: SEAM_ERR_RULE_NAME (warning) name 'ct_key_created' is not the file's name 'ct_key_created_v2': correlations, filters and overrides refer to a rule by its name, and people look for it by file; rename the file ct_key_created.yml (and its test ct_key_created.test.yml), or set name: ct_key_created_v2`,
      ]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe('seam rules lint: a rule named by its file name', () => {
  it("a correlation or filter naming a SigmaHQ rule (no name) by its file name is told the rule's id to write", async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-byfile-'));
    try {
      const id = '0e5b7c2a-1d3f-4a6b-8c9d-0000000000aa';
      await writeFile(join(d, 'aws_trail_stopped.yml'), `title: Trail stopped\nid: ${id}\nlevel: low\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: StopLogging\n    condition: sel\n`);
      await writeFile(join(d, 'corr_twice.yml'), ['title: Twice', 'name: corr_twice', 'level: low', 'correlation:', '    type: event_count', '    rules: [aws_trail_stopped]', '    group-by: [userIdentity.arn]', '    timespan: 1h', '    condition: { gte: 2 }', ''].join('\n'));
      await writeFile(join(d, 'filter_ci.yml'), ['title: CI', 'logsource:', '    product: aws', '    service: cloudtrail', 'filter:', '    rules: [aws_trail_stopped]', '    sel:', '        userIdentity.arn: arn:aws:iam::111122223333:user/ci', '    condition: not sel', ''].join('\n'));
      const { text } = await lint([d]);
      const hint = `it is the file name of ${join(d, 'aws_trail_stopped.yml')}, and Sigma refers to a rule by its id or name, not its file; write its id '${id}' (the rule has no name)`;
      expect(text).toContain(`${join(d, 'corr_twice.yml')}:6:13: SEAM_ERR_RULE_REFERENCE correlation 'Twice' refers to rule 'aws_trail_stopped', which is neither a loaded rule nor a correlation: ${hint}`);
      expect(text).toContain(`${join(d, 'filter_ci.yml')}:6:13: SEAM_ERR_RULE_REFERENCE (warning) filter refers to rule 'aws_trail_stopped', which is not loaded: ${hint}`);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});

describe("Seam's pack lints clean", () => {
  it('has no problem but the placeholders a site fills in (a falsepositives entry YAML reads as a mapping is a schema warning)', async () => {
    const { lintRules } = await import('./lint.ts');
    const { diagnostics } = await lintRules([new URL('../../../detections/', import.meta.url).pathname]);
    const other = diagnostics.filter((d) => d.code !== 'SEAM_ERR_RULE_PLACEHOLDER').map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`);
    expect(other).toEqual([]);
  }, 120_000);
});

