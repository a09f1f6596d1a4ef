import { describe, expect, it } from 'vitest';
import { compileCorrelations, parseTimespan, ruleLookupFrom, suppressedRuleIds } from './compile.ts';
import { docs, rule } from './test-fixtures.ts';

const rules = [rule('11111111-1111-4111-8111-111111111111', 'failed_login'), rule('22222222-2222-4222-8222-222222222222', 'successful_login')];
const lookup = ruleLookupFrom(rules);

describe('compileCorrelations', () => {
  it('collects every problem of a bundle in one pass, with file and line', () => {
    const { correlations, diagnostics } = compileCorrelations(
      docs(`title: unknown type
correlation:
  type: event_sum
  rules: [failed_login]
  group-by: [User]
  timespan: 1h
---
title: missing rule
correlation:
  type: event_count
  rules: [failed_login, no_such_rule]
  group-by: [User]
  timespan: 1h
  condition: { gte: 3 }
---
title: bad timespan and no condition
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User]
  timespan: 1 hour
---
title: good
id: 33333333-3333-4333-8333-333333333333
correlation:
  type: temporal_ordered
  rules: [failed_login, successful_login]
  group-by: [User]
  timespan: 10m
`),
      lookup,
    );
    expect(correlations.map((c) => c.title)).toEqual(['good']);
    const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line, d.message]);
    expect(errors).toEqual([
      ['SEAM_ERR_RULE_SCHEMA', 1, expect.stringContaining("unknown correlation type 'event_sum'")],
      ['SEAM_ERR_RULE_SCHEMA', 16, expect.stringContaining("bad timespan '1 hour'")],
      ['SEAM_ERR_RULE_CONDITION', 16, expect.stringContaining('needs a `condition`')],
      ['SEAM_ERR_RULE_REFERENCE', 8, expect.stringContaining("'no_such_rule'")],
    ]);
    expect(diagnostics.every((d) => d.file === 'mr_test.yml' && d.column === 1)).toBe(true);
  });

  it('rejects cycles and anything built on a broken correlation', () => {
    const { correlations, diagnostics } = compileCorrelations(
      docs(`title: a
name: a
correlation: { type: temporal, rules: [b, failed_login], group-by: [User], timespan: 5m }
---
title: b
name: b
correlation: { type: temporal, rules: [a, failed_login], group-by: [User], timespan: 5m }
---
title: c
name: c
correlation: { type: event_count, rules: [a], group-by: [User], timespan: 5m, condition: { gte: 2 } }
`),
      lookup,
    );
    expect(correlations).toEqual([]);
    expect(diagnostics.some((d) => d.message.includes('reference cycle'))).toBe(true);
    expect(diagnostics.some((d) => d.message.includes("'c' refers to correlation 'a'"))).toBe(true);
  });

  it('validates conditions: unknown keys, missing field, ranges kept', () => {
    const { correlations, diagnostics } = compileCorrelations(
      docs(`title: sum without field
correlation: { type: value_sum, rules: [failed_login], group-by: [User], timespan: 1h, condition: { gt: 5 } }
---
title: typo
correlation: { type: event_count, rules: [failed_login], group-by: [User], timespan: 1h, condition: { gtee: 5 } }
---
title: range
correlation: { type: event_count, rules: [failed_login], group-by: [User], timespan: 2w, condition: { gt: 100, lte: 200 } }
`),
      lookup,
    );
    expect(diagnostics.map((d) => d.message)).toEqual([
      expect.stringContaining('needs `condition.field`'),
      expect.stringContaining("unknown condition key 'gtee'"),
      expect.stringContaining('condition has no comparison'),
    ]);
    expect(correlations).toHaveLength(1);
    expect(correlations[0]).toMatchObject({ condition: { gt: 100, lte: 200 }, early: false, timespanMs: 14 * 86_400_000 });
  });

  it('resolves aliases per referenced rule and defaults temporal to all rules', () => {
    const { correlations } = compileCorrelations(
      docs(`title: t
correlation:
  type: temporal
  rules: [failed_login, 22222222-2222-4222-8222-222222222222]
  group-by: [ip]
  timespan: 10s
  aliases:
    ip: { failed_login: source.ip, successful_login: destination.ip }
`),
      lookup,
    );
    expect(correlations[0]).toMatchObject({ groupFields: [['source.ip'], ['destination.ip']], condition: { gte: 2 }, early: true });
  });
});

describe('field name aliases', () => {
  const bundle = (aliases: string, extra = ''): ReturnType<typeof compileCorrelations> =>
    compileCorrelations(
      docs(`title: login from an address, then success${extra}
name: outer
correlation:
  type: temporal
  rules: [failed_login, successful_login]
  group-by: [ip]
  timespan: 10m
  aliases:
${aliases}
---
title: built on it
correlation: { type: event_count, rules: [outer], group-by: [ip], timespan: 1h, condition: { gte: 2 } }
`),
      lookup,
    );

  it('rejects an alias in group-by that leaves a referenced rule unmapped, naming the alias and the rules, and what builds on it', () => {
    const { correlations, diagnostics } = bundle('    ip: { failed_login: source.ip }');
    expect(correlations).toEqual([]);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors[0]).toMatchObject({ code: 'SEAM_ERR_RULE_REFERENCE', rule: 'outer', message: expect.stringContaining("alias 'ip' does not map rule 'successful_login'") });
    expect(errors.some((d) => d.message.includes("'built on it' refers to correlation 'login from an address, then success', which cannot be used"))).toBe(true);
    // A rule referenced by id is named as written; a mapping by the rule's name covers it.
    const byId = compileCorrelations(
      docs(`title: t
correlation:
  type: temporal
  rules: [failed_login, 22222222-2222-4222-8222-222222222222]
  group-by: [ip]
  timespan: 10m
  aliases:
    ip: { successful_login: destination.ip }
`),
      lookup,
    );
    expect(byId.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([expect.stringContaining("alias 'ip' does not map rule 'failed_login'")]);
  });

  it('warns about an alias used nowhere, and about a mapping for a rule not referenced, but keeps the correlation', () => {
    const unused = bundle('    ip: { failed_login: source.ip, successful_login: destination.ip }\n    who: { failed_login: user.name }');
    expect(unused.correlations).toHaveLength(2);
    expect(unused.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'SEAM_ERR_RULE_SCHEMA', message: "alias 'who' is not used in `group-by`; it has no effect" })]);
    const extra = bundle('    ip: { failed_login: source.ip, successful_login: destination.ip, console_login: x.ip }');
    expect(extra.correlations).toHaveLength(2);
    expect(extra.diagnostics.map((d) => [d.severity, d.message])).toEqual([['warning', "alias 'ip' maps rule 'console_login', which this correlation does not refer to"]]);
  });

  it('checks an alias used as a value_* condition field too', () => {
    const { correlations, diagnostics } = compileCorrelations(
      docs(`title: bytes
correlation:
  type: value_sum
  rules: [failed_login, successful_login]
  group-by: [User]
  timespan: 1h
  condition: { field: bytes, gt: 100 }
  aliases:
    bytes: { failed_login: a.bytes }
`),
      lookup,
    );
    expect(correlations).toEqual([]);
    expect(diagnostics.map((d) => d.message)).toEqual([expect.stringContaining("alias 'bytes' does not map rule 'successful_login'")]);
  });
});

describe('suppressedRuleIds', () => {
  it('withholds referenced rules unless a referencing correlation sets generate: true', () => {
    const bundle = docs(`title: outer
correlation: { type: temporal_ordered, rules: [inner, successful_login], group-by: [User], timespan: 10m }
---
title: inner
name: inner
correlation: { type: event_count, rules: [failed_login], group-by: [User], timespan: 10m, condition: { gte: 5 } }
`);
    expect([...suppressedRuleIds(bundle, rules)].sort()).toEqual(['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', 'inner'].sort());
    const withGenerate = docs(`title: x
generate: true
correlation: { type: event_count, rules: [failed_login], group-by: [User], timespan: 10m, condition: { gte: 5 } }
---
title: y
correlation: { type: event_count, rules: [failed_login], group-by: [Host], timespan: 10m, condition: { gte: 5 } }
`);
    expect(suppressedRuleIds(withGenerate, rules).size).toBe(0);
  });
});

describe('parseTimespan', () => {
  it('reads s, m, h, d, w and rejects the rest', () => {
    expect([parseTimespan('30s'), parseTimespan('90m'), parseTimespan('1h'), parseTimespan('2d'), parseTimespan('1w')]).toEqual([30_000, 5_400_000, 3_600_000, 172_800_000, 604_800_000]);
    expect([parseTimespan('1M'), parseTimespan('0m'), parseTimespan('1.5h'), parseTimespan(5)]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
