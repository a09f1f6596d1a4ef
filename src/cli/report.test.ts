import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRuleNotes } from '../report/incident-source.ts';
import { reportIncidentCommand } from './report.ts';

const dir = mkdtempSync(join(tmpdir(), 'seam-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sink(): { text: string; write(s: string): void } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

describe('seam report incident --config', () => {
  it('reads OpenSearch nodes and index prefix from seam.yml (a closed port shows which node it asked)', async () => {
    const file = join(dir, 'seam.yml');
    writeFileSync(file, 'opensearch:\n  nodeUrls: [http://127.0.0.1:1]\n  indexPrefix: blue\n');
    const out = sink();
    const err = sink();
    const code = await reportIncidentCommand({ latest: true, from: 'opensearch', config: file, env: {} }, out, err);
    expect(code).toBe(1);
    expect(err.text).toMatch(/^seam report incident: /);
    expect(err.text).toContain('127.0.0.1:1');
    expect(out.text).toBe('');
  });

  it('stops with exit 2 and the position of the problem when seam.yml is invalid', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'opensearch:\n  nodeUrls: 42\n');
    const err = sink();
    const code = await reportIncidentCommand({ latest: true, from: 'opensearch', config: file, env: {} }, sink(), err);
    expect(code).toBe(2);
    expect(err.text).toContain('bad.yml:2');
    expect(err.text).toContain('opensearch.nodeUrls');
  });

  it('takes triage notes from several rule paths, files and folders, and skips missing ones', async () => {
    const folder = join(dir, 'rules');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.yml'), 'title: A\nid: rule-a\ndescription: "Something happened. Triage: ask the owner."\n');
    const single = join(dir, 'b.yml');
    writeFileSync(single, 'title: B\nname: rule_b\ndescription: Other thing.\n');
    const notes = await loadRuleNotes([folder, single, join(dir, 'missing')]);
    expect(notes.get('rule-a')).toEqual({ description: 'Something happened.', triage: 'ask the owner.' });
    expect(notes.get('rule_b')).toEqual({ description: 'Other thing.' });
  });
});
