import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createDetector } from './detector.ts';
import { logLoadProblems } from './load.ts';
import { loadRules } from './sigma/ruleset.ts';

// review-de H3: `replay` and `run` said nothing of a correlation withholding a rule's alerts or a filter naming a
// rule that is not loaded; only `seam rules lint` did. Every load now logs them.

const RULE = `title: Console Login Without MFA
id: 11111111-2222-4333-8444-555555555555
name: console_no_mfa
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventName: ConsoleLogin, additionalEventData.MFAUsed: 'No'}
  condition: sel
level: medium
`;
const WITHHOLDING = `title: Two Logins Without MFA
id: 11111111-2222-4333-8444-666666666666
correlation:
  type: event_count
  rules: [console_no_mfa]
  group-by: [userIdentity.arn]
  timespan: 1h
  condition: {gte: 2}
level: low
`;
const FILTER_TYPO = `title: Break-glass users
id: 11111111-2222-4333-8444-777777777777
logsource: {product: aws, service: cloudtrail}
filter:
  rules: [console_no_mfaa]
  bg: {userIdentity.userName: breakglass}
  condition: not bg
`;

async function problemsOf(files: Record<string, string>): Promise<{ msg: string; level: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-load-problems-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const loaded = await loadRules([dir]);
  const detector = createDetector({ ruleset: loaded.ruleset });
  const lines: { msg: string; level: number }[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { msg: string; level: number }); cb(); } });
  logLoadProblems(pino({ level: 'info' }, sink), loaded.diagnostics, detector.diagnostics, [dir]);
  await new Promise((r) => setImmediate(r));
  return lines;
}

describe('logLoadProblems', () => {
  it('says a correlation without generate withholds a medium rule', async () => {
    const lines = await problemsOf({ 'rule.yml': RULE, 'corr.yml': WITHHOLDING });
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/rule warning: .*corr\.yml:\d+:\d+: SEAM_ERR_RULE_SUPPRESSED \(warning\) correlation suppresses the alerts of rule 'console_no_mfa'/)]);
    expect(lines[0]!.level).toBe(40);
  });

  it('says a filter names a rule that is not loaded', async () => {
    const lines = await problemsOf({ 'rule.yml': RULE, 'filter.yml': FILTER_TYPO });
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/SEAM_ERR_RULE_REFERENCE \(warning\) filter refers to rule 'console_no_mfaa', which is not loaded/)]);
  });

  it('says nothing for a clean load', async () => {
    expect(await problemsOf({ 'rule.yml': RULE })).toEqual([]);
  });
});
