import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRuleTests } from './rule-tests.ts';
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
    expect(s).toMatchObject({ files: 3, failed: 0, errors: 0, missing: 0 });
    expect(s.passed).toBe(s.cases);
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
      expect(alone.text()).toContain(`ERROR ${join(dir, 'c.yml')}:1:1: SEAM_ERR_RULE_REFERENCE correlation 'Two Deletes' refers to rule 'r_delete_outside_allowed', which is neither a loaded rule nor a correlation`);
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

