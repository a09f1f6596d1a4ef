import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRuleTextToDsl, compileRulesetToDsl } from './compile.ts';
import { ipv4CidrToLucene, jsRegexToLucene, Untranslatable } from './regex.ts';

const rule = (det: string, ls = 'product: aws\n  service: cloudtrail'): string => `title: t\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n  ${ls}\ndetection:\n${det}\n`;

describe('compileRuleToDsl', () => {
  it('compiles plain values to case-insensitive term, prefix and wildcard queries on the source index', () => {
    const [r] = compileRuleTextToDsl(rule("  sel:\n    eventName: CreateUser\n    userAgent|startswith: 'aws-cli'\n    requestParameters.roleArn|contains: 'admin'\n  condition: sel"), 'r.yml');
    expect(r).toMatchObject({ ok: true, index: 'seam-events-cloudtrail-*', verify: false });
    const q = JSON.stringify(r?.ok && r.query);
    expect(q).toContain('{"term":{"eventName":{"value":"CreateUser","case_insensitive":true}}}');
    expect(q).toContain('{"prefix":{"userAgent":{"value":"aws-cli","case_insensitive":true}}}');
    expect(q).toContain('{"wildcard":{"requestParameters.roleArn":{"value":"*admin*","case_insensitive":true}}}');
    expect(q).toContain('{"term":{"seam.source":{"value":"cloudtrail"}}}');
  });

  it("compiles |expand text around a placeholder to a wildcard query: the rule's own '*' stays a wildcard", () => {
    const det = "  sel:\n    userIdentity.arn|expand: 'arn:aws:sts::%acct%:assumed-role/dev/*'\n  condition: sel";
    const [r] = compileRuleTextToDsl(rule(det), 'r.yml', { placeholders: { acct: ['111122223333', '444455556666'] } });
    expect(r).toMatchObject({ ok: true, verify: false });
    const q = JSON.stringify(r?.ok && r.query);
    expect(q).toContain('{"prefix":{"userIdentity.arn":{"value":"arn:aws:sts::111122223333:assumed-role/dev/","case_insensitive":true}}}');
    expect(q).toContain('{"prefix":{"userIdentity.arn":{"value":"arn:aws:sts::444455556666:assumed-role/dev/","case_insensitive":true}}}');
    expect(q).not.toContain('"term":{"userIdentity.arn"');
    // A value's own wildcard is one too; the rule's escaped star is a literal (a term).
    const [v] = compileRuleTextToDsl(rule("  sel:\n    userIdentity.arn|expand: 'x:%r%:\\*'\n  condition: sel"), 'r.yml', { placeholders: { r: ['dev-*'] } });
    expect(JSON.stringify(v?.ok && v.query)).toContain('{"wildcard":{"userIdentity.arn":{"value":"x:dev-*:\\\\*","case_insensitive":true}}}');
  });

  it('compiles cidr|expand to one CIDR query per listed range, as plain cidr', () => {
    const det = "  sel:\n    eventName: Q1\n  corp:\n    sourceIPAddress|cidr|expand: '%corp_networks%'\n  condition: sel and not corp";
    const ph = { placeholders: { corp_networks: ['198.51.100.0/24', '10.0.0.0/8'] } };
    const [r] = compileRuleTextToDsl(rule(det), 'r.yml', ph);
    const plain = (nets: string[]) => compileRuleTextToDsl(rule(`  sel:\n    eventName: Q1\n  corp:\n    sourceIPAddress|cidr:\n${nets.map((n) => `      - '${n}'`).join('\n')}\n  condition: sel and not corp`), 'r.yml')[0];
    expect(r).toMatchObject({ ok: true, verify: false });
    expect(JSON.stringify(r?.ok && r.query)).toContain('"regexp":{"sourceIPAddress"');
    const p = plain(['198.51.100.0/24', '10.0.0.0/8']);
    expect(p).toMatchObject({ ok: true });
    expect(r?.ok && r.query).toEqual(p?.ok && p.query);
    const [bad] = compileRuleTextToDsl(rule(det), 'r.yml', { placeholders: { corp_networks: ['corp-vpn'] } });
    expect(bad).toMatchObject({ ok: false, reason: expect.stringContaining("placeholder %corp_networks% has the value 'corp-vpn', which is not a CIDR range") as unknown });
  });

  it('marks a rule that needs the engine to confirm hits, and refuses one with nothing indexable', () => {
    const [v] = compileRuleTextToDsl(rule('  sel:\n    eventName: X\n  f:\n    errorCode|exists: true\n  condition: sel and not f'), 'r.yml');
    expect(v).toMatchObject({ ok: true, verify: true });
    const [n] = compileRuleTextToDsl(rule("  kw:\n    - 'mimikatz'\n  condition: kw"), 'r.yml');
    expect(n).toMatchObject({ ok: false });
    const [u] = compileRuleTextToDsl(rule('  sel:\n    EventID: 1\n  condition: sel', 'product: windows\n  service: security'), 'r.yml');
    expect(u).toMatchObject({ ok: false, reason: expect.stringContaining('maps to no Seam source') as unknown });
  });
});

describe('fields that ignore malformed values', () => {
  const audit = 'product: kubernetes\n  service: audit';
  it('finds a word on a numeric field only through _ignored, and asks the engine to confirm it', () => {
    // responseStatus.code is an integer with ignore_malformed: a record quoting it as a word is indexed without it.
    const [w] = compileRuleTextToDsl(rule("  sel:\n    responseStatus.code: 'OK'\n  condition: sel", audit), 'r.yml');
    expect(w).toMatchObject({ ok: true, verify: true });
    expect(JSON.stringify(w?.ok && w.query)).toContain('{"term":{"_ignored":"responseStatus.code"}}');
    // A number is a term on the field, widened by _ignored: the engine also reads the text "0403" or "403.0" as
    // 403, and the index (coerce: false) keeps such text out.
    const [n] = compileRuleTextToDsl(rule('  sel:\n    responseStatus.code: 403\n  condition: sel', audit), 'r.yml');
    expect(n).toMatchObject({ ok: true, verify: true });
    expect(JSON.stringify(n?.ok && n.query)).toContain('{"term":{"responseStatus.code":{"value":403}}}');
    expect(JSON.stringify(n?.ok && n.query)).toContain('{"term":{"_ignored":"responseStatus.code"}}');
    // A text pattern's superset ("has a value") must include values the index ignored: _ignored beside exists.
    const [e] = compileRuleTextToDsl(rule("  sel:\n    responseStatus.code|startswith: '4'\n  condition: sel", audit), 'r.yml');
    expect(e).toMatchObject({ ok: true, verify: true });
    expect(JSON.stringify(e?.ok && e.query)).toContain('{"term":{"_ignored":"responseStatus.code"}}');
    // 'ALLOW' or 'FORBID' is no code but an authorizer's decision, the record's annotation (src/detect/sigma/logsource.ts).
    const [a] = compileRuleTextToDsl(rule("  sel:\n    responseStatus.code: 'ALLOW'\n  condition: sel", audit), 'r.yml');
    expect(JSON.stringify(a?.ok && a.query)).toContain('"annotations.authorization.k8s.io/decision"');
    expect(JSON.stringify(a?.ok && a.query)).not.toContain('responseStatus.code');
  });
});

describe('values of another kind on lenient and coercing number fields', () => {
  const audit = 'product: kubernetes\n  service: audit';
  const q = (det: string, fields?: Parameters<typeof compileRuleTextToDsl>[2]) => {
    const [r] = compileRuleTextToDsl(rule(det, audit), 'r.yml', fields);
    if (!r?.ok) throw new Error(`not huntable: ${r?.reason}`);
    return { verify: r.verify, dsl: JSON.stringify(r.query) };
  };
  it("searches _ignored for a boolean or non-canonical text, which the index leaves out but the engine matches ('true', \"0403\")", () => {
    for (const v of ['true', "'0403'", "'OK'", "'403.0'"]) {
      const r = q(`  sel:\n    verb: get\n    responseStatus.code: ${v}\n  condition: sel`);
      expect(r.verify, v).toBe(true);
      expect(r.dsl, v).toContain('{"term":{"_ignored":"responseStatus.code"}}');
    }
  });
  it("keeps 'not' a superset: a document the index ignored is not excluded by the negated term", () => {
    const r = q('  sel:\n    verb: get\n  f:\n    responseStatus.code: 403\n  condition: sel and not f');
    expect(r.verify).toBe(true);
    // not(term 403): the superset may exclude only documents whose indexed value is 403, never the ignored ones.
    expect(r.dsl).toContain('"must_not":[{"term":{"responseStatus.code":{"value":403}}}]');
    expect(r.dsl).not.toContain('"must_not":[{"bool"');
  });
  it('asks the engine for every value on an index whose number field coerces (made by an older template)', async () => {
    const { mappingFromResponse, resolverFor } = await import('./fields.ts');
    const coercing = mappingFromResponse({ 'seam-events-k8s_audit-old': { mappings: { properties: { verb: { type: 'keyword' }, responseStatus: { properties: { code: { type: 'integer', ignore_malformed: true } } } } } } });
    const fields = () => resolverFor(coercing);
    const r = q('  sel:\n    verb: get\n    responseStatus.code: 403\n  condition: sel', { fields });
    expect(r.verify).toBe(true);
    expect(r.dsl).toContain('{"exists":{"field":"responseStatus.code"}}');
    const strict = mappingFromResponse({ i: { mappings: { properties: { responseStatus: { properties: { code: { type: 'integer', ignore_malformed: true, coerce: false } } } } } } });
    expect(resolverFor(strict)('responseStatus.code')).toEqual({ kind: 'long', lenient: true });
    expect(resolverFor(coercing)('responseStatus.code')).toEqual({ kind: 'long', lenient: true, coerced: true });
  });
});

describe('array blocks', () => {
  it('says an array block is checked by the engine: a superset narrowed by the rest of the rule, or not huntable alone', () => {
    const k8s = 'product: kubernetes\n  service: audit';
    const [r] = compileRuleTextToDsl(
      rule("  sel:\n    verb: create\n  trusted:\n    requestObject.spec.containers[any]:\n      condition: not ok\n      ok:\n        image|startswith: 'registry.k8s.io/'\n  condition: sel and not trusted", k8s),
      'r.yml',
    );
    expect(r).toMatchObject({ ok: true, verify: true, notes: [expect.stringContaining("array block 'requestObject.spec.containers[any]' is judged member by member") as unknown] });
    expect(JSON.stringify(r?.ok && r.query)).toContain('{"term":{"verb":{"value":"create","case_insensitive":true}}}');
    const [n] = compileRuleTextToDsl(rule('  sel:\n    requestObject.spec.containers[any]:\n      image: x\n  condition: sel', k8s), 'r.yml');
    expect(n).toMatchObject({ ok: false, reason: expect.stringContaining('array block') as unknown });
  });
});

describe('runtime value mapping', () => {
  it("translates values the way the engine does (Sigma Initiated: 'true' is the runtime schema's direction: egress)", () => {
    const [r] = compileRuleTextToDsl(rule("  sel:\n    Initiated: 'true'\n  condition: sel", 'product: linux\n  category: network_connection'), 'r.yml');
    expect(r).toMatchObject({ ok: true, index: 'seam-events-runtime-*' });
    const q = JSON.stringify(r?.ok && r.query);
    expect(q).toContain('"network.direction"');
    expect(q).toContain('"egress"');
    expect(q).not.toContain('"true"');
  });
});

describe('regex translation', () => {
  it('anchors like RegExp.test and spells out case folding and classes', () => {
    expect(jsRegexToLucene('^ab$', '')).toBe('(ab)');
    expect(jsRegexToLucene('ab', '')).toBe('.*(ab).*');
    expect(jsRegexToLucene('a\\d', 'i')).toBe('.*([Aa][0-9]).*');
    expect(() => jsRegexToLucene('\\bword', '')).toThrow(Untranslatable);
    expect(() => jsRegexToLucene('(?=x)', '')).toThrow(Untranslatable);
  });

  it('reads the pattern with the engine literal extraction\'s parser (escapes, Annex B, errors)', () => {
    expect(jsRegexToLucene('\\x41b{2,}[\\d-]', '')).toBe('.*(Ab{2,}[\\-0-9]).*');
    expect(jsRegexToLucene('(?i)x', '')).toBe('.*([Xx]).*');
    expect(() => jsRegexToLucene('(a)\\1', '')).toThrow(Untranslatable);
    expect(() => jsRegexToLucene('a)', '')).toThrow(/invalid pattern/);
    expect(() => jsRegexToLucene('(?x)a', '')).toThrow(/'x' flag/);
  });

  it('matches IPv4 CIDR ranges as text', () => {
    const re = ipv4CidrToLucene([10, 0, 0, 0], 8);
    expect(re).toContain('(0?10)\\.');
    // The engine reads ::ffff:a.b.c.d as a.b.c.d (src/core/ip.ts); the query must too. Lucene's syntax for
    // this pattern is a subset of JavaScript's, so it is checked here as a JavaScript regex.
    const js = new RegExp(`^${re}$`);
    for (const v of ['10.1.2.3', '010.001.002.003', '::ffff:10.1.2.3', '::FFFF:10.255.0.1', '0:0:0:0:0:ffff:10.0.0.1']) expect(js.test(v), v).toBe(true);
    for (const v of ['11.1.2.3', '::ffff:11.1.2.3', '::fffe:10.1.2.3', '10.1.2']) expect(js.test(v), v).toBe(false);
  });
});

describe('meta-filters', () => {
  const filter = (rules: string, cond: string): string =>
    `title: leave out automation\nlogsource:\n  product: aws\n  service: cloudtrail\nfilter:\n  rules: ${rules}\n  sel:\n    userIdentity.userName: automation\n  condition: ${cond}\n`;
  const hunt = async (flt: string): Promise<string> => {
    const d = mkdtempSync(join(tmpdir(), 'seam-hunt-filter-'));
    try {
      writeFileSync(join(d, 'rule.yml'), rule('  sel:\n    eventName: CreateAccessKey\n  condition: sel').replace('title: t', 'title: t\nname: key_created'));
      writeFileSync(join(d, 'filter.yml'), flt);
      const { rules } = await compileRulesetToDsl([d]);
      expect(rules).toHaveLength(1);
      const r = rules[0]!.result;
      expect(r.ok).toBe(true);
      return JSON.stringify(r.ok && r.query);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  const automation = '{"term":{"userIdentity.userName":{"value":"automation","case_insensitive":true}}}';
  it("ANDs the filter's condition as written, as the engine does: `not sel` excludes", async () => {
    const q = await hunt(filter('[key_created]', 'not sel'));
    expect(q).toContain(`"must_not":[${automation}]`);
    const kept = await hunt(filter('[key_created]', 'sel'));
    expect(kept).toContain(automation);
    expect(kept).not.toContain('must_not');
  });
  it('applies a `rules: any` filter to every rule its logsource covers', async () => {
    expect(await hunt(filter('any', 'not sel'))).toContain(`"must_not":[${automation}]`);
  });
});
