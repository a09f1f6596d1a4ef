import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from './ruleset.ts';
import { unsetPlaceholders, unsetPlaceholderSummary } from './unset-placeholders.ts';

const rule = (n: number, detection: string): string => `title: Placeholder Use ${n}
id: 00000000-0000-4000-8000-0000000000a${n}
logsource:
  product: aws
  service: cloudtrail
detection:
${detection}
  condition: selection
level: low
`;

describe('unsetPlaceholderSummary', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-unset-ph-'));
    // site_a in two rules (three uses), site_b in one.
    await writeFile(join(dir, 'r1.yml'), rule(1, "  selection:\n    eventName|expand:\n      - '%site_a%'\n      - '%site_b%'\n    userIdentity.arn|expand: '%site_a%'"));
    await writeFile(join(dir, 'r2.yml'), rule(2, "  selection:\n    eventName|expand: '%site_a%'"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names each unset placeholder once with the number of rules using it, in order of first use', async () => {
    const { diagnostics } = await loadRules([dir]);
    expect(unsetPlaceholders(diagnostics)).toEqual([
      { name: 'site_a', rules: 2 },
      { name: 'site_b', rules: 1 },
    ]);
    const line = unsetPlaceholderSummary(diagnostics);
    expect(line).toMatch(/^SEAM_ERR_RULE_PLACEHOLDER: 2 placeholders have no configured values/);
    expect(line).toContain('%site_a% (2 rules), %site_b% (1 rule);');
    expect(line).toContain('--placeholders FILE or seam.yml rules.placeholdersFile');
  });

  it('leaves out the placeholders the site sets, and says nothing when all are set', async () => {
    const some = await loadRules([dir], { placeholders: { site_a: ['X'] } });
    expect(unsetPlaceholders(some.diagnostics)).toEqual([{ name: 'site_b', rules: 1 }]);
    expect(unsetPlaceholderSummary(some.diagnostics)).toMatch(/^SEAM_ERR_RULE_PLACEHOLDER: 1 placeholder has no configured values, so what uses it matches nothing .*: %site_b% \(1 rule\);/);
    const all = await loadRules([dir], { placeholders: { site_a: ['X'], site_b: ['Y'] } });
    expect(unsetPlaceholderSummary(all.diagnostics)).toBeUndefined();
  });
});
