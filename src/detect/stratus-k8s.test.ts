import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RawMeta } from '../core/envelope.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { createDetector } from './detector.ts';
import { loadRules } from './sigma/ruleset.ts';
import type { Ruleset } from './sigma/types.ts';

// Every Stratus Red Team Kubernetes/EKS technique that the audit log shows must raise an alert of
// level medium or above from Seam's pack as a user runs it (no placeholders file), through a rule
// keyed on the behaviour (no rule keys on the Stratus tool's name).
// Fixtures (test/fixtures/stratus-k8s/<technique id>.jsonl): the audit.k8s.io/v1 events each technique's
// detonation produces on EKS, written by Seam from the technique's documentation page and what its detonation
// does (API calls, subresources, verbs, request bodies), not copied from a recording; the user agent is
// kubectl's. eks.lateral-movement.create-access-entry is CloudTrail only (CreateAccessEntry,
// AssociateAccessPolicy) and is covered by the CloudTrail rules' tests, not here.
const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/stratus-k8s');
const TECHNIQUES = [
  'k8s.credential-access.dump-secrets',
  'k8s.credential-access.steal-serviceaccount-token',
  'k8s.persistence.create-admin-clusterrole',
  'k8s.persistence.create-client-certificate',
  'k8s.persistence.create-token',
  'k8s.privilege-escalation.hostpath-volume',
  'k8s.privilege-escalation.nodes-proxy',
  'k8s.privilege-escalation.privileged-pod',
  'eks.persistence.backdoor-aws-auth-configmap',
];
const MEDIUM_PLUS = new Set(['medium', 'high', 'critical']);

describe('Stratus Red Team Kubernetes/EKS techniques', () => {
  let ruleset: Ruleset;
  beforeAll(async () => {
    const loaded = await loadRules([join(ROOT, 'detections')]);
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    ruleset = loaded.ruleset;
  });

  it('has a fixture for every technique', async () => {
    const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.jsonl')).map((f) => f.replace(/\.jsonl$/, ''));
    expect(files.sort()).toEqual([...TECHNIQUES].sort());
  });

  it.each(TECHNIQUES)('%s raises a medium+ alert from a behaviour rule', async (technique) => {
    const detector = createDetector({ ruleset, allowedLatenessMs: 0 });
    const lines = (await readFile(join(FIXTURES, `${technique}.jsonl`), 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const titles: string[] = [];
    for (const [i, text] of lines.entries()) {
      const meta: RawMeta = { collector: 'stratus-k8s-test', receivedAt: new Date(0).toISOString(), source: 'k8s_audit', origin: `${technique}:${i + 1}` };
      const r = normalizeLine(text, meta);
      expect(r.ok, `${technique} line ${i + 1} normalizes`).toBe(true);
      if (!r.ok) continue;
      for (const a of detector.process(r.value)) if (MEDIUM_PLUS.has(a.rule.level) && a.rule.title !== 'Kubernetes API Called By An Offensive Tool') titles.push(a.rule.title);
    }
    for (const a of detector.flush()) if (MEDIUM_PLUS.has(a.rule.level)) titles.push(a.rule.title);
    expect(titles, `${technique}: no medium+ alert`).not.toEqual([]);
  });
});
