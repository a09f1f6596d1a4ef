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

describe('seam report incident --latest', () => {
  // Three identities: a high incident, then a critical one, then a medium one that ends last of all.
  const principal = (arn: string) => ({ id: arn, type: 'assumed_role' as const, arn });
  const alert = (n: number, who: string, level: string, at: string) => ({
    id: `a${n}`.padEnd(32, '0'),
    '@timestamp': at,
    rule: { id: `rule-${n}`, title: `Rule ${n}`, level, tags: [], type: 'sigma' },
    events: [`ev-${n}`],
    native_ids: [],
    principal: principal(who),
    summary: `rule ${n}`,
  });
  const event = (n: number, who: string, at: string) => ({ '@timestamp': at, eventName: 'Call', seam: { id: `ev-${n}`, source: 'cloudtrail', principal: principal(who) } });
  const who = ['arn:aws:sts::111122223333:assumed-role/a/s', 'arn:aws:sts::111122223333:assumed-role/b/s', 'arn:aws:sts::111122223333:assumed-role/c/s'];
  const rows: [number, string, string, string][] = [
    [1, who[0]!, 'high', '2024-11-05T14:00:00Z'],
    [2, who[1]!, 'critical', '2024-11-05T14:05:00Z'],
    [3, who[2]!, 'medium', '2024-11-05T14:30:00Z'],
  ];

  // A day later: the critical identity (b) came back with a low alert (no incident of its own, ADR 0051; its critical
  // incident has been quiet for over the window anyway); a
  // fourth identity (d) has an old critical incident, quiet for over the 24 h window; today a high one opens (a).
  const later: [number, string, string, string][] = [
    [4, who[1]!, 'low', '2024-11-07T09:00:00Z'],
    [5, 'arn:aws:sts::111122223333:assumed-role/d/s', 'critical', '2024-11-05T15:00:00Z'],
    [6, who[0]!, 'high', '2024-11-07T10:00:00Z'],
    [7, who[2]!, 'high', '2024-11-07T09:30:00Z'],
  ];

  async function latest(only: number[], extra: [number, string, string, string][] = []): Promise<{ code: number; out: string; err: string }> {
    const folder = mkdtempSync(join(dir, 'run-'));
    const picked = [...rows, ...later, ...extra].filter((r) => only.includes(r[0]));
    writeFileSync(join(folder, 'alerts.jsonl'), picked.map(([n, w, l, t]) => JSON.stringify(alert(n, w, l, t))).join('\n') + '\n');
    writeFileSync(join(folder, 'events.jsonl'), picked.map(([n, w, , t]) => JSON.stringify(event(n, w, t))).join('\n') + '\n');
    const out = sink();
    const err = sink();
    const code = await reportIncidentCommand({ latest: true, input: folder, rules: [], env: {} }, out, err);
    return { code, out: out.text, err: err.text };
  }

  it('draws the last incident of the highest level, not a lower one that ended later, and says why', async () => {
    const r = await latest([1, 2, 3]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('[critical] arn:aws:sts::111122223333:assumed-role/b/s');
    expect(r.err).toContain('--latest: the only open critical incident (the highest level among 3 open incidents of 3 as of 2024-11-05T14:30:00Z)');
    expect(r.out).toMatch(/incident-inc-[0-9a-f]+\.html\n$/);
  });

  it('prefers an open incident: a closed critical one and a long-quiet critical one do not shadow today\'s open high ones', async () => {
    const r = await latest([2, 4, 5, 6, 7]);
    expect(r.code).toBe(0);
    // Open as of 2024-11-07T10:00Z: a's high and c's high (b's low alert opens no incident, ADR 0051, and b's critical
    // went quiet more than the window before); of the two highs, a's ended last.
    expect(r.err).toContain('[high] arn:aws:sts::111122223333:assumed-role/a/s');
    expect(r.err).toContain('--latest: the last to end of 2 open high incidents at the highest risk, 20 (the highest level among 2 open incidents of 4 as of 2024-11-07T10:00:00Z)');
  });

  it('among incidents of the same level, the higher risk first, then the last to end (SOC review L5)', async () => {
    // b's critical incident has one alert and ends last; e's critical incident has a critical and two high alerts.
    const e = 'arn:aws:sts::111122223333:assumed-role/e/s';
    const r = await latest([2, 8, 9, 10], [
      [8, e, 'critical', '2024-11-05T14:00:00Z'],
      [9, e, 'high', '2024-11-05T14:01:00Z'],
      [10, e, 'high', '2024-11-05T14:02:00Z'],
    ]);
    expect(r.code).toBe(0);
    // 50 + 20 + 20, each decayed by its age at the incident's newest alert (half-life 24 h): 89.9; b's is 50.
    expect(r.err).toContain(`[critical] ${e}: 3 alerts`);
    expect(r.err).toContain('--latest: the highest risk (89.9; next 50) of 2 open critical incidents (the highest level among 2 open incidents of 2 as of 2024-11-05T14:05:00Z)');
  });

  it('says "1 alert, 1 event, 1 AWS call", not "1 alerts"', async () => {
    const r = await latest([1, 3]);
    expect(r.err).toContain('[high] arn:aws:sts::111122223333:assumed-role/a/s: 1 alert, 1 event, 1 AWS call; --latest: the only open high incident (the highest level among 2 open incidents of 2 as of 2024-11-05T14:30:00Z)');
  });
});

