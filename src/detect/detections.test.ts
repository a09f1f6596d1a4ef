import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { reverseTies, runRuleTests } from './rule-tests.ts';
import { loadRules } from './sigma/ruleset.ts';

const DETECTIONS = join(import.meta.dirname, '../../detections');

/** Collects what the runner prints, so a failure shows which rule and case. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

describe("Seam's detection content", () => {
  it('loads without errors', async () => {
    const { diagnostics, stats } = await loadRules([DETECTIONS]);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(stats.rules).toBeGreaterThan(0);
    expect(stats.correlations).toBeGreaterThan(0);
  });

  it("passes every rule's sibling test cases, and every rule has them", async () => {
    const out = sink();
    const s = await runRuleTests([DETECTIONS], out.stream);
    expect(out.text().split('\n').filter((l) => /^(FAIL|ERROR|MISSING)/.test(l))).toEqual([]);
    expect(s.cases).toBeGreaterThanOrEqual(2 * s.files);
    expect(s.passed).toBe(s.cases);
  }, 600_000); // a hang guard, not a speed check: the cases grow with the pack, and CI runs this beside the other unit files

  it("passes the tests of docs/writing-rules.md's examples, with the pack rule their correlation counts named beside them", async () => {
    const out = sink();
    const s = await runRuleTests([join(DETECTIONS, '../docs/examples/rules'), join(DETECTIONS, 'kubernetes/k8s_bootstrap_token_created.yml')], out.stream);
    expect(out.text().split('\n').filter((l) => /^(FAIL|ERROR|MISSING)/.test(l))).toEqual([]);
    expect(s).toMatchObject({ files: 4, failed: 0, errors: 0, missing: 0 });
    expect(s.passed).toBe(s.cases);
  });

  it("a filter file's cases count the alerts of the rules it narrows (docs/writing-rules.md's tuning example)", async () => {
    const tuning = join(DETECTIONS, '../docs/examples/tuning');
    const rule = join(DETECTIONS, 'kubernetes/k8s_privileged_pod_created.yml');
    const out = sink();
    const s = await runRuleTests([tuning, rule], out.stream);
    expect(out.text().split('\n').filter((l) => /^(FAIL|ERROR|MISSING)/.test(l))).toEqual([]);
    expect(s).toMatchObject({ files: 2, failed: 0, errors: 0, missing: 0 });
    expect(s.passed).toBe(s.cases);
    // Without the rule it narrows, nothing in the file could alert: an error, not `alerts: 0` cases that pass.
    const alone = sink();
    expect(await runRuleTests([tuning], alone.stream)).toMatchObject({ cases: 0, passed: 0, errors: 1 });
    expect(alone.text()).toMatch(/^ERROR .*filter_privileged_pod_ci_runners\.test\.yml: .* defines no rule or correlation that loaded, nor a filter applied to a loaded rule/m);
    // A filter that leaves nothing out fails its `alerts: 0` case.
    const d = await mkdtemp(join(tmpdir(), 'seam-filter-test-'));
    try {
      const f = 'filter_privileged_pod_ci_runners';
      await writeFile(join(d, `${f}.yml`), (await readFile(join(tuning, `${f}.yml`), 'utf8')).replace('objectRef.namespace: ci-runners', 'objectRef.namespace: nowhere'));
      await writeFile(join(d, `${f}.test.yml`), await readFile(join(tuning, `${f}.test.yml`), 'utf8'));
      const wide = sink();
      await runRuleTests([d, rule], wide.stream);
      expect(wide.text()).toContain("the runner's build pod in ci-runners is left out: expected 0 alert(s), got 1");
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('tests one rule file named on its own with its sibling test file', async () => {
    const out = sink();
    const s = await runRuleTests([join(DETECTIONS, 'kubernetes/k8s_admission_webhook_or_policy_deleted.yml')], out.stream);
    expect(out.text()).not.toMatch(/^MISSING/m);
    expect(s).toMatchObject({ files: 1, missing: 0, failed: 0, errors: 0 });
    expect(s.cases).toBeGreaterThanOrEqual(2);
    expect(s.passed).toBe(s.cases);
  });
});

// The rule-test runner's placeholders (rule-tests.ts): a test file's values, and a case's own over them.

const RULE = `title: Delete outside the allowed namespaces
id: 0b7a3c1e-6f2d-4e8a-9c55-2d1f3a4b5c6d
status: test
logsource:
    product: kubernetes
    service: audit
detection:
    sel:
        verb: delete
        objectRef.resource: configmaps
    allowed:
        objectRef.namespace|expand: '%allowed_ns%'
    condition: sel and not allowed
level: medium
`;

const del = (ns: string, n: number): Record<string, unknown> => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: `7d1f0c2a-0000-4000-8000-00000000000${n}`,
  stage: 'ResponseComplete',
  requestURI: `/api/v1/namespaces/${ns}/configmaps/settings`,
  verb: 'delete',
  user: { username: 'alice', groups: ['system:authenticated'] },
  sourceIPs: ['10.0.0.5'],
  objectRef: { resource: 'configmaps', namespace: ns, name: 'settings', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: `2026-03-04T05:06:0${n}.000000Z`,
  stageTimestamp: `2026-03-04T05:06:0${n}.100000Z`,
});

describe('rule tests with placeholders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(cases: unknown[]): Promise<{ passed: number; failed: number; text: string }> {
    await writeFile(join(dir, 'r.yml'), RULE);
    await writeFile(join(dir, 'r.test.yml'), JSON.stringify({ placeholders: { allowed_ns: ['kube-system'] }, cases }));
    const out = sink();
    const s = await runRuleTests([join(dir, 'r.yml')], out.stream);
    expect(s).toMatchObject({ files: 1, missing: 0, errors: 0 });
    return { passed: s.passed, failed: s.failed, text: out.text() };
  }

  it("reads the file's values, and a case's own values for a name replace the file's for that case only", async () => {
    const r = await run([
      { name: 'file list allows kube-system', alerts: 0, events: [del('kube-system', 1)] },
      { name: 'monitoring is not on the file list', alerts: 1, events: [del('monitoring', 2)] },
      { name: 'case list allows monitoring', alerts: 0, events: [del('monitoring', 3)], placeholders: { allowed_ns: ['monitoring'] } },
      { name: 'case list replaces the file list', alerts: 1, events: [del('kube-system', 4)], placeholders: { allowed_ns: ['monitoring'] } },
      { name: 'the next case is back on the file list', alerts: 0, events: [del('kube-system', 5)] },
    ]);
    expect(r.text).not.toMatch(/^(FAIL|ERROR)/m);
    expect(r).toMatchObject({ passed: 5, failed: 0 });
  });

  it('refuses a test file with an unknown key, top level or case, with a did-you-mean', async () => {
    await writeFile(join(dir, 'r.yml'), RULE);
    await writeFile(join(dir, 'r.test.yml'), JSON.stringify({ placeholder: { allowed_ns: ['kube-system'] }, cases: [{ name: 'a', alerts: 0, events: [del('kube-system', 1)] }] }));
    const top = sink();
    expect(await runRuleTests([join(dir, 'r.yml')], top.stream)).toMatchObject({ cases: 0, errors: 1 });
    expect(top.text()).toContain(`ERROR ${join(dir, 'r.test.yml')}: unknown key "placeholder" (did you mean "placeholders"?); keys here: cases, placeholders`);
    await writeFile(join(dir, 'r.test.yml'), JSON.stringify({ cases: [{ name: 'b', alerts: 0, events: [del('kube-system', 1)], placeholder: { allowed_ns: ['kube-system'] }, alert: 1 }] }));
    const inCase = sink();
    expect(await runRuleTests([join(dir, 'r.yml')], inCase.stream)).toMatchObject({ cases: 0, errors: 1 });
    expect(inCase.text()).toContain('case 1 (b): unknown key "placeholder" (did you mean "placeholders"?), unknown key "alert" (did you mean "alerts"?); keys here: name, alerts, events, placeholders');
  });

  it('fails a case whose count the placeholders contradict', async () => {
    const r = await run([{ name: 'monitoring wrongly expected silent', alerts: 0, events: [del('monitoring', 6)] }]);
    expect(r).toMatchObject({ passed: 0, failed: 1 });
    expect(r.text).toMatch(/^FAIL .*monitoring wrongly expected silent/m);
  });
});

describe('rule tests of a correlation', () => {
  it('say why a correlation naming a rule that is not among the paths cannot run, instead of a silent FAIL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-corr-'));
    try {
      const corr = ['title: Two Deletes', 'id: 1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b', 'name: corr_two_deletes', 'correlation:', '    type: event_count', '    rules:', '        - r_delete_outside_allowed', '    group-by:', '        - user.username', '    timespan: 10m', '    condition:', '        gte: 2', 'level: medium', ''].join('\n');
      await writeFile(join(dir, 'c.yml'), corr);
      await writeFile(join(dir, 'c.test.yml'), JSON.stringify({ placeholders: { allowed_ns: ['kube-system'] }, cases: [{ name: 'two deletes', alerts: 1, events: [del('monitoring', 1), del('monitoring', 2)] }] }));
      const alone = sink();
      const s = await runRuleTests([join(dir, 'c.yml')], alone.stream);
      expect(alone.text()).toContain(`ERROR ${join(dir, 'c.yml')}:7:11: SEAM_ERR_RULE_REFERENCE correlation 'Two Deletes' refers to rule 'r_delete_outside_allowed', which is neither a loaded rule nor a correlation`);
      expect(s).toMatchObject({ errors: 1, failed: 1 });
      // With the rule it counts given beside it (its own file and tests), the correlation's case passes.
      await writeFile(join(dir, 'r.yml'), RULE.replace('id: 0b7a3c1e', 'name: r_delete_outside_allowed\nid: 0b7a3c1e'));
      await writeFile(join(dir, 'r.test.yml'), JSON.stringify({ placeholders: { allowed_ns: ['kube-system'] }, cases: [{ name: 'one delete', alerts: 1, events: [del('monitoring', 3)] }] }));
      const both = sink();
      const t = await runRuleTests([join(dir, 'c.yml'), join(dir, 'r.yml')], both.stream);
      expect(both.text()).not.toMatch(/^(FAIL|ERROR)/m);
      expect(t).toMatchObject({ files: 2, cases: 2, passed: 2, errors: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});


// Same-time events (rule-tests.ts): a pipeline hands them on in seam.id order, so each case also runs with them reversed.

describe('rule tests with events of equal event time', () => {
  const ct = (name: string, id: string, sec: number): Record<string, unknown> => ({
    eventVersion: '1.10',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
    eventTime: `2026-03-04T05:06:0${sec}Z`,
    eventSource: 'iam.amazonaws.com',
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    requestParameters: null,
    responseElements: null,
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  });
  const ruleFor = (name: string, n: number): string =>
    `title: ${name}\nid: 5d0e7b2a-0000-4000-8000-00000000000${n}\nname: r_${name}\nstatus: test\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: ${name}\n    condition: sel\nlevel: low\n`;
  const ORDERED = [
    'title: GetUser then DeleteUser',
    'id: 5d0e7b2a-0000-4000-8000-000000000009',
    'correlation:',
    '    type: temporal_ordered',
    '    rules: [r_GetUser, r_DeleteUser]',
    '    group-by: [userIdentity.userName]',
    '    timespan: 5m',
    'level: medium',
    '',
  ].join('\n');

  it('reverses each run of equal event times, and nothing else', () => {
    const at = (id: string, t: string): SeamEvent => ({ '@timestamp': t, seam: { id } }) as unknown as SeamEvent;
    const [a, b, c, d] = [at('a', '2026-03-04T05:06:01Z'), at('b', '2026-03-04T05:06:01Z'), at('c', '2026-03-04T05:06:02Z'), at('d', '2026-03-04T05:06:03Z')];
    expect(reverseTies([a, b, c, d])?.map((x) => x.seam.id)).toEqual(['b', 'a', 'c', 'd']);
    expect(reverseTies([a, c, d])).toBeUndefined();
  });

  it('pass a same-second ordered pair in either file order, and fail a case that only holds in file order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-ties-'));
    try {
      await writeFile(join(dir, 'get.yml'), ruleFor('GetUser', 1));
      await writeFile(join(dir, 'get.test.yml'), JSON.stringify({ cases: [{ name: 'get', alerts: 1, events: [ct('GetUser', 'g1', 1)] }] }));
      await writeFile(join(dir, 'del.yml'), ruleFor('DeleteUser', 2));
      await writeFile(join(dir, 'del.test.yml'), JSON.stringify({ cases: [{ name: 'del', alerts: 1, events: [ct('DeleteUser', 'd1', 1)] }] }));
      await writeFile(join(dir, 'ord.yml'), ORDERED);
      await writeFile(
        join(dir, 'ord.test.yml'),
        JSON.stringify({
          cases: [
            { name: 'same second, file order get then delete', alerts: 1, events: [ct('GetUser', 'ffff-1', 1), ct('DeleteUser', '0000-2', 1)] },
            { name: 'same second, file order delete then get', alerts: 1, events: [ct('DeleteUser', 'ffff-2', 1), ct('GetUser', '0000-1', 1)] },
            { name: 'delete a second before get', alerts: 0, events: [ct('DeleteUser', 'd3', 1), ct('GetUser', 'g3', 2)] },
          ],
        }),
      );
      const out = sink();
      const s = await runRuleTests([dir], out.stream);
      expect(out.text()).not.toMatch(/^(FAIL|ERROR)/m);
      expect(s).toMatchObject({ files: 3, cases: 5, passed: 5, failed: 0 });
      // A wrong count on a tie still fails.
      await writeFile(join(dir, 'ord.test.yml'), JSON.stringify({ cases: [{ name: 'tie wrongly expected silent', alerts: 0, events: [ct('DeleteUser', 'x2', 1), ct('GetUser', 'x1', 1)] }] }));
      const bad = sink();
      const t = await runRuleTests([dir], bad.stream);
      expect(t).toMatchObject({ failed: 1 });
      expect(bad.text()).toMatch(/^FAIL .*tie wrongly expected silent: expected 0 alert\(s\), got 1: GetUser then DeleteUser covered x2, x1$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
