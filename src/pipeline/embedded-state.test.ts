import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, callAs } from '../../test/identity/records.ts';
import type { Alert } from '../detect/alert.ts';
import type { IdentityRecord } from '../identity/record.ts';
import { loadDetection, type Detection } from './detection.ts';
import { runEmbedded, type EmbeddedResult } from './embedded.ts';
import { FileIndexSink } from './file-sink.ts';
import { IDENTITY_STATE_FILE } from './identity-state.ts';
import { incidentUpdate, type IncidentDoc } from './incident-topic.ts';

// The timeline of baseline-state.test.ts, as files a daily cron would be handed: alice works from the office on
// day one (her learning day), and the next day from the office, then from a network she never used.
const OFFICE = '62.226.10.1'; // AS3320
const HOME = '91.64.10.1'; // AS3209
const ABROAD = '139.130.4.5'; // AS1221
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * 3600_000).toISOString();
const call = (hours: number, ip: string): Record<string, unknown> => callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', at(hours), ip);

let root: string;
let day1: string;
let day2: string;
let detection: Detection;

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const lines = async (path: string): Promise<unknown[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
const stateOf = async (dir: string): Promise<IdentityRecord[]> => (await lines(join(dir, IDENTITY_STATE_FILE))).slice(1) as IdentityRecord[];
const baselineAlerts = (alerts: unknown[]): Alert[] => (alerts as Alert[]).filter((a) => a.rule.id.startsWith('seam-native-new-'));

async function run(dir: string, paths: string[], resume: boolean): Promise<EmbeddedResult & { alerts: Alert[] }> {
  const alerts: Alert[] = [];
  const r = await runEmbedded({ paths, stateDir: dir, detection, maxRecordBytes: 1024 * 1024, resume, onAlert: (a) => alerts.push(a) });
  return { ...r, alerts };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'seam-embedstate-'));
  detection = await loadDetection({ ruleCacheDir: false });
  day1 = join(root, 'day1.jsonl');
  day2 = join(root, 'day2.jsonl');
  const first: unknown[] = [];
  for (let h = 0; h < 10; h += 0.5) first.push(call(h, h < 8 ? OFFICE : HOME));
  await writeFile(day1, jsonl(first));
  // 25 and 26 hours after her first call: past the 24 h learning period, on the next day's file.
  await writeFile(day2, jsonl([call(25, OFFICE), call(26, ABROAD)]));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('embedded mode --resume: seam.identity kept in <state-dir>/identity-state.jsonl between runs', () => {
  it('day 2 resumed from day 1 raises new-network (learning not restarted); without --resume day 2 is learning and silent', async () => {
    const dir = join(root, 'daily');
    const first = await run(dir, [day1], true);
    expect(first.identityState).toMatchObject({ found: false, loaded: 0 });
    expect(baselineAlerts(first.alerts)).toEqual([]);
    const learned = await stateOf(dir);
    expect(learned.filter((r) => r.fact.kind === 'seen_network').map((r) => r.fact.to).sort()).toEqual(['net:AS3209', 'net:AS3320']);
    const start1 = learned.filter((r) => r.fact.kind === 'baseline_start' && r.fact.from === alice.arn);
    expect(start1).toHaveLength(1);
    expect(learned.every((r) => r.signal === undefined)).toBe(true);
    const identityLines1 = (await readFile(join(dir, 'identity.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');

    // The same day-2 run from a copy of the day-1 folder, without the flag: the default ignores the state.
    const fresh = join(root, 'fresh');
    await cp(dir, fresh, { recursive: true });
    const silent = await run(fresh, [day2], false);
    expect(silent.identityState).toBeUndefined();
    expect(baselineAlerts(silent.alerts)).toEqual([]);
    // ...and it rewrites the files: only day 2's two events.
    expect(await lines(join(fresh, 'events.jsonl'))).toHaveLength(2);

    const second = await run(dir, [day2], true);
    expect(second.identityState).toMatchObject({ found: true, loaded: learned.length });
    const alerts = baselineAlerts(second.alerts);
    expect(alerts.map((a) => `${a.rule.id} ${a.rule.level}`)).toEqual(['seam-native-new-network low']);
    expect(alerts[0]!.summary).toContain(ABROAD);
    expect(alerts[0]!.summary).toContain('AS3320');
    // The learning period still starts at her first call on day 1.
    const kept = await stateOf(dir);
    const start2 = kept.filter((r) => r.fact.kind === 'baseline_start' && r.fact.from === alice.arn);
    expect(start2.map((r) => [r.doc.id, r.fact.valid_from])).toEqual(start1.map((r) => [r.doc.id, r.fact.valid_from]));
    expect(kept.filter((r) => r.fact.kind === 'seen_network').map((r) => r.fact.to).sort()).toEqual(['net:AS1221', 'net:AS3209', 'net:AS3320']);
    // Appended: both days' events, the day-2 alert; identity.jsonl got day 2's versions only, not day 1's again.
    expect(await lines(join(dir, 'events.jsonl'))).toHaveLength(22);
    expect(baselineAlerts(await lines(join(dir, 'alerts.jsonl'))).map((a) => a.id)).toEqual(alerts.map((a) => a.id));
    // A day-1 version is indexed again only when day 2 changed it (refreshed, closed), never as a plain copy.
    const indexed = (await readFile(join(dir, 'identity.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
    expect(indexed.length).toBeGreaterThan(identityLines1.length);
    expect(indexed.slice(0, identityLines1.length)).toEqual(identityLines1);
    const before = new Set(identityLines1);
    expect(indexed.slice(identityLines1.length).filter((l) => before.has(l))).toEqual([]);
    // Day 1's session credentials closed long before day 2's newest fact: not carried into the file any more.
    expect(second.identityState!.expired).toBeGreaterThan(0);
    const newest = Math.max(...kept.map((r) => Date.parse(r.fact.valid_from)));
    for (const r of kept) if (r.doc.valid_to !== undefined) expect(Date.parse(r.doc.valid_to)).toBeGreaterThanOrEqual(newest - 3600_000);
  });

  it('two resumed runs give the same alerts as one run over both days’ files', async () => {
    const dir = join(root, 'twice');
    const a = await run(dir, [day1], true);
    const b = await run(dir, [day2], true);
    const once = await run(join(root, 'once'), [day1, day2], false);
    const ids = (xs: Alert[]): string[] => xs.map((x) => `${x.rule.id} ${x.id}`).sort();
    expect(baselineAlerts(once.alerts)).toHaveLength(1);
    expect(ids([...a.alerts, ...b.alerts])).toEqual(ids(once.alerts));
    expect(ids((await lines(join(dir, 'alerts.jsonl'))) as Alert[])).toEqual(ids(once.alerts));
  });

  it('a state file that is not whole stops a resumed run with an error naming it, and nothing is written', async () => {
    const dir = join(root, 'corrupt');
    await run(dir, [day1], true);
    const path = join(dir, IDENTITY_STATE_FILE);
    const whole = await readFile(path, 'utf8');
    const events = await readFile(join(dir, 'events.jsonl'), 'utf8');

    await writeFile(path, whole.replace(/\n\{"v":1,[^\n]*\n/, '\n{"v":1,"fact":\n'));
    await expect(run(dir, [day2], true)).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOAD', message: expect.stringContaining(`identity state file ${path} line 2 is not an identity record`) });
    // Cut short (a copy that stopped mid-way): the header's count says so.
    const rows = whole.split('\n');
    await writeFile(path, rows.slice(0, rows.length - 3).join('\n') + '\n');
    await expect(run(dir, [day2], true)).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOAD', message: expect.stringMatching(/holds \d+ records where its header counts \d+ \(cut short\?\)/) });
    await writeFile(path, 'not json\n');
    await expect(run(dir, [day2], true)).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOAD', message: expect.stringContaining(path) });
    expect(await readFile(join(dir, 'events.jsonl'), 'utf8')).toBe(events);
    // Without the flag the file is not read: a fresh run goes ahead.
    const fresh = await run(dir, [day2], false);
    expect(fresh.summary.normalized).toBe(2);
  });
});

describe('FileIndexSink appending (--resume)', () => {
  it('reads back the incidents an earlier run wrote, so a later alert of the identity joins its incident', async () => {
    const dir = join(root, 'incidents');
    const alert = (id: string, time: string): Alert => ({ id, '@timestamp': time, rule: { id: 'r', title: 'R', level: 'medium' }, principal: { id: alice.arn, type: 'assumed_role', arn: alice.arn } }) as unknown as Alert;
    const first = await FileIndexSink.open(dir);
    await first.mergeIncidents([incidentUpdate(alert('a1', at(1)))]);
    await first.close();
    // A run killed mid-write leaves a last line without its newline: skipped.
    await writeFile(join(dir, 'incidents.jsonl'), (await readFile(join(dir, 'incidents.jsonl'), 'utf8')) + '{"id":"inc-');
    const second = await FileIndexSink.open(dir, { append: true });
    await second.mergeIncidents([incidentUpdate(alert('a2', at(5)))]);
    await second.close();
    // Compacted on open (the torn line dropped, one line per id), then this run's version appended: the last line
    // holds both alerts.
    const rows = (await readFile(join(dir, 'incidents.jsonl'), 'utf8')).split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe('');
    expect((JSON.parse(rows[0]!) as IncidentDoc).alert_ids).toEqual(['a1']);
    const last = JSON.parse(rows[1]!) as IncidentDoc;
    expect(last.alert_ids).toEqual(['a1', 'a2']);
    expect(last.alert_count).toBe(2);

    await writeFile(join(dir, 'incidents.jsonl'), '{"alerts":[]}\n');
    await expect(FileIndexSink.open(dir, { append: true })).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOAD', message: expect.stringContaining('incidents.jsonl line 1 is not an incident') });
  });

  it('an incident that grows every run is kept as its last version: the file does not grow with the square of the runs', async () => {
    const dir = join(root, 'incidents-growth');
    const alert = (id: string, time: string): Alert => ({ id, '@timestamp': time, rule: { id: 'r', title: 'R', level: 'medium' }, principal: { id: alice.arn, type: 'assumed_role', arn: alice.arn } }) as unknown as Alert;
    const runs = 30;
    for (let n = 0; n < runs; n++) {
      const sink = await FileIndexSink.open(dir, { append: n > 0 });
      await sink.mergeIncidents([incidentUpdate(alert(`a${n}`, at(1 + n / 10)))]);
      await sink.close();
    }
    const rows = (await readFile(join(dir, 'incidents.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
    // The compacted version from before the last run, and the last run's.
    expect(rows).toHaveLength(2);
    const last = JSON.parse(rows[1]!) as IncidentDoc;
    expect(last.alert_count).toBe(runs);
    expect([...last.alert_ids].sort()).toEqual(Array.from({ length: runs }, (_, n) => `a${n}`).sort());
  });
});

// The demo cut at 14:20:00, as two daily runs would see it: the aws-auth mapping into system:masters (14:15:35)
// in the first file, ci-deployer's first request with it (14:23:00) in the second (review-newuser2 H2).
describe('--resume keeps the grants waiting for their first use', () => {
  const ROOT = join(import.meta.dirname, '../..');
  const seamRun = (input: string, stateDir: string, resume: boolean): string => {
    const args = ['bin/seam.mjs', 'run', '--input', input, '--state-dir', stateDir, '--cluster', 'prod-eks-01', '--placeholders', 'deploy/config/placeholders.yml', ...(resume ? ['--resume'] : [])];
    // CI exports these: the child must run embedded, with no site config.
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'error' } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  const alertIds = async (dir: string): Promise<string[]> => [...new Set(((await lines(join(dir, 'alerts.jsonl'))) as Alert[]).map((a) => a.id))].sort();

  it('the demo in two resumed runs cut between the aws-auth grant and its first use raises the same 35 alerts (same ids) as one run', async () => {
    const demo = (await readFile(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
    const cut = Date.parse('2024-11-05T14:20:00Z');
    const timeOf = (l: string): number => {
      const r = JSON.parse(l) as Record<string, unknown>;
      return Date.parse(String(r.requestReceivedTimestamp ?? r.eventTime ?? r.updatedAt ?? r.time ?? ''));
    };
    expect(demo.every((l) => !Number.isNaN(timeOf(l)))).toBe(true);
    const before = join(root, 'demo-before.jsonl');
    const after = join(root, 'demo-after.jsonl');
    await writeFile(before, demo.filter((l) => timeOf(l) < cut).join('\n') + '\n');
    await writeFile(after, demo.filter((l) => timeOf(l) >= cut).join('\n') + '\n');

    const one = join(root, 'demo-one');
    seamRun(join(ROOT, 'deploy/demo/eks-demo.jsonl'), one, false);
    const two = join(root, 'demo-two');
    expect(seamRun(before, two, true)).toMatch(/alerts=31 /);
    // Run 1 ended with the mapping's grant (and no other) waiting: it is in the state file, after the records.
    const saved = await lines(join(two, IDENTITY_STATE_FILE));
    expect(saved[0]).toMatchObject({ seam: 'identity-state', v: 2, native: 1 });
    expect(saved.filter((l) => (l as { seam?: string }).seam === 'native-state')).toEqual([
      expect.objectContaining({ detection: 'seam-native-aws-auth-backdoor', entry: expect.objectContaining({ principal: 'arn:aws:iam::111122223333:role/ci-deployer', admin: true }) }),
    ]);
    const day2 = seamRun(after, two, true);
    expect(day2).toMatch(/alerts=4 /);
    expect(day2).toMatch(/\[critical\] .*First use of a new aws-auth mapping/);

    const ids = await alertIds(one);
    expect(ids).toHaveLength(35);
    expect(await alertIds(two)).toEqual(ids);
    // Used: nothing waits any more.
    expect((await lines(join(two, IDENTITY_STATE_FILE)))[0]).toMatchObject({ v: 2, native: 0 });
    // A hang guard, not a speed check: three `seam run`s over the demo, each a node start and a whole-pack load. It took
    // 25 s at load ~8 beside a whole unit run; at the CI's load 15-20 that is within reach of the old 120 s.
  }, 600_000);
});
