import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
  }, 120_000);

  it('tests one rule file named on its own with its sibling test file', async () => {
    const out = sink();
    const s = await runRuleTests([join(DETECTIONS, 'kubernetes/k8s_admission_webhook_or_policy_deleted.yml')], out.stream);
    expect(out.text()).not.toMatch(/^MISSING/m);
    expect(s).toMatchObject({ files: 1, missing: 0, failed: 0, errors: 0 });
    expect(s.cases).toBeGreaterThanOrEqual(2);
    expect(s.passed).toBe(s.cases);
  });
});
