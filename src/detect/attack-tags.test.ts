import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_TACTICS, tacticTagProblem } from './attack-tags.ts';
import { NATIVE_DETECTIONS } from './native/registry.ts';
import { lintCommand } from './sigma/lint.ts';

const ROOT = join(import.meta.dirname, '../..');

async function lint(paths: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  const code = await lintCommand(paths, out);
  return { code, text };
}

const rule = (author: string, tags: string[]): string => `title: Tag Check
id: 6a0c1f52-3a55-4a38-9a3e-2f1e3d0b9c11
author: ${author}
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: UpdateFunctionCode20150331v2
  condition: selection
tags:
${tags.map((t) => `  - ${t}`).join('\n')}
level: low
`;

describe('ATT&CK tactic tags', () => {
  it('knows the Sigma appendix spelling and names the canonical one for another spelling', () => {
    expect(tacticTagProblem('attack.privilege-escalation')).toBeUndefined();
    expect(tacticTagProblem('attack.t1098.003')).toBeUndefined();
    expect(tacticTagProblem('attack.g0016')).toBeUndefined();
    expect(tacticTagProblem('cve.2021-44228')).toBeUndefined();
    expect(tacticTagProblem('attack.privilege_escalation')?.canonical).toBe('attack.privilege-escalation');
    expect(tacticTagProblem('attack.Command_And_Control')?.canonical).toBe('attack.command-and-control');
    const unknown = tacticTagProblem('attack.privesc');
    expect(unknown?.canonical).toBeUndefined();
    expect(unknown?.message).toContain('neither an ATT&CK tactic');
  });

  describe('seam rules lint', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'seam-tags-'));
      await writeFile(join(dir, 'ours-bad.yml'), rule('Seam', ['attack.persistence', 'attack.privilege_escalation', 'attack.t1525']));
      await writeFile(join(dir, 'ours-good.yml'), rule('Seam', ['attack.persistence', 'attack.privilege-escalation', 'attack.t1525']).replace('6a0c1f52', '6a0c1f53'));
      await writeFile(join(dir, 'theirs.yml'), rule('Someone Else', ['attack.privilege_escalation', 'attack.privesc']).replace('6a0c1f52', '6a0c1f54'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fails on a non-canonical tactic tag in a Seam rule, pointing at the tag', async () => {
      const { code, text } = await lint([join(dir, 'ours-bad.yml')]);
      expect(code).toBe(1);
      expect(text).toContain(`${join(dir, 'ours-bad.yml')}:13:5: SEAM_ERR_RULE_SCHEMA ATT&CK tactic tag 'attack.privilege_escalation' is not in the canonical form: write 'attack.privilege-escalation'`);
      // The rule still loads: a tag changes no match.
      expect(text.trimEnd().split('\n').at(-1)).toContain('rules=1 correlations=0 rejected=0');
    });

    it('passes the canonical spelling', async () => {
      const { code, text } = await lint([join(dir, 'ours-good.yml')]);
      expect(code).toBe(0);
      expect(text).not.toContain('tactic');
    });

    it("only warns about another author's spelling (SigmaHQ's older rules), and says nothing of its unknown tags", async () => {
      const { code, text } = await lint([join(dir, 'theirs.yml')]);
      expect(code).toBe(0);
      expect(text).toContain("SEAM_ERR_RULE_SCHEMA (warning) ATT&CK tactic tag 'attack.privilege_escalation'");
      expect(text).not.toContain('attack.privesc');
    });

    it('finds no tactic tag problem in detections/', async () => {
      const { code, text } = await lint([join(ROOT, 'detections')]);
      expect(text.split('\n').filter((l) => l.includes('ATT&CK') || l.includes('neither an ATT&CK tactic'))).toEqual([]);
      expect(code).toBe(0);
    });
  });

  it('native detections tag tactics the same way', () => {
    const bad: string[] = [];
    for (const d of Object.values(NATIVE_DETECTIONS)) {
      for (const t of d.tags) if (tacticTagProblem(t) !== undefined) bad.push(`${d.id}: ${t}`);
    }
    expect(bad).toEqual([]);
    // The check above would pass vacuously if no native detection tagged a tactic.
    expect(Object.values(NATIVE_DETECTIONS).filter((d) => d.tags.some((t) => ATTACK_TACTICS.includes(t.slice('attack.'.length)))).length).toBeGreaterThan(10);
  });
});
