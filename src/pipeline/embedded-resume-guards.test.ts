import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alice, bob, callAs } from '../../test/identity/records.ts';
import { writeFileAtomically } from '../core/atomic-file.ts';
import type { Alert } from '../detect/alert.ts';
import type { IdentityRecord } from '../identity/record.ts';
import { loadDetection, type Detection } from './detection.ts';
import { runEmbedded } from './embedded.ts';
import { IDENTITY_STATE_FILE } from './identity-state.ts';
import { STATE_LOCK_FILE } from './state-lock.ts';

// Review findings on `seam run --resume` (ADR 0044): two runs on one state dir, and a future-dated record.
const OFFICE = '62.226.10.1';
const ABROAD = '139.130.4.5';
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * 3600_000).toISOString();
const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
let detection: Detection;
let root: string;
let dayA: string;
let dayB: string;

const run = async (dir: string, paths: string[]) => {
  const alerts: Alert[] = [];
  const r = await runEmbedded({ paths, stateDir: dir, detection, maxRecordBytes: 1 << 20, resume: true, onAlert: (a) => alerts.push(a) });
  return { ...r, alerts };
};
const state = async (dir: string): Promise<IdentityRecord[]> =>
  (await readFile(join(dir, IDENTITY_STATE_FILE), 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .slice(1)
    .map((l) => JSON.parse(l) as IdentityRecord);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'seam-resume-guards-'));
  detection = await loadDetection({ ruleCacheDir: false });
  dayA = join(root, 'a.jsonl');
  dayB = join(root, 'b.jsonl');
  const rowsA: unknown[] = [];
  const rowsB: unknown[] = [];
  for (let h = 0; h < 10; h += 0.5) rowsA.push(callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', at(h), OFFICE));
  for (let h = 0; h < 10; h += 0.5) rowsB.push(callAs(bob, 'ec2.amazonaws.com', 'DescribeInstances', at(h), OFFICE));
  await writeFile(dayA, jsonl(rowsA));
  await writeFile(dayB, jsonl(rowsB));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('seam run --resume takes the state directory for itself', () => {
  it('a second run on the same --state-dir at once is refused, naming the lock file and its holder; the lock goes when the run ends', async () => {
    const dir = join(root, 'shared');
    const results = await Promise.allSettled([run(dir, [dayA]), run(dir, [dayB])]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const e = refused[0]!.reason as Error & { code: string };
    expect(e.code).toBe('SEAM_ERR_STATE_LOCKED');
    expect(e.message).toContain(join(dir, STATE_LOCK_FILE));
    expect(e.message).toContain(`pid ${process.pid} on host ${hostname()}`);
    expect(await readdir(dir)).not.toContain(STATE_LOCK_FILE);
    // The next run is not refused, and both subjects end up learned.
    const winner = (await state(dir)).some((r) => r.fact.from === alice.arn) ? dayB : dayA;
    await run(dir, [winner]);
    const starts = (await state(dir)).filter((r) => r.fact.kind === 'baseline_start').map((r) => r.fact.from);
    expect(starts).toEqual(expect.arrayContaining([alice.arn, bob.arn]));
  });

  it('the lock is removed when the run fails', async () => {
    const dir = join(root, 'failing');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, IDENTITY_STATE_FILE), 'not a state file\n');
    await expect(run(dir, [dayA])).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOAD' });
    expect(await readdir(dir)).not.toContain(STATE_LOCK_FILE);
  });

  it('a lock left by a crashed run on this host (its pid is gone) is taken over; one from another host is refused with how to remove it', async () => {
    const dir = join(root, 'stale');
    await mkdir(dir, { recursive: true });
    const child = spawnSync(process.execPath, ['-e', '']);
    const deadPid = child.pid!;
    const lock = join(dir, STATE_LOCK_FILE);
    await writeFile(lock, JSON.stringify({ pid: deadPid, host: hostname(), started_at: '2026-11-01T00:00:00.000Z' }));
    const r = await run(dir, [dayA]);
    expect(r.identityState?.saved).toBeGreaterThan(0);
    expect(await readdir(dir)).not.toContain(STATE_LOCK_FILE);

    await writeFile(lock, JSON.stringify({ pid: 1, host: 'other-pod-7f9c', started_at: '2026-11-01T00:00:00.000Z' }));
    const refused = run(dir, [dayA]);
    await expect(refused).rejects.toMatchObject({ code: 'SEAM_ERR_STATE_LOCKED' });
    await expect(refused).rejects.toThrow(`pid 1 on host other-pod-7f9c`);
    await expect(refused).rejects.toThrow(`remove ${lock}`);
    // Refused: the other holder's lock is left alone.
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ host: 'other-pod-7f9c' });
  });
});

describe('writeFileAtomically', () => {
  it('two writers with the same pid on one file do not share a temp file: both succeed, one whole content stands', async () => {
    const path = join(root, 'atomic', 'f.jsonl');
    const a = 'a\n'.repeat(200_000);
    const b = 'b\n'.repeat(200_000);
    const results = await Promise.allSettled([writeFileAtomically(path, a), writeFileAtomically(path, b), writeFileAtomically(path, [a, b])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect([a, b, a + b]).toContain(await readFile(path, 'utf8'));
    expect(await readdir(join(root, 'atomic'))).toEqual(['f.jsonl']);
  });
});

describe('a future-dated record (skewed clock) does not expire the baselines', () => {
  it('one record 60 days ahead in a resumed run: every baseline of alice is kept, and the next day still raises new-network', async () => {
    // A daily cron on recent files: expiry's "now" is capped at the wall clock plus a day, so the timeline is set
    // two days before the wall clock (on historic files the cap is no help: see ADR 0044).
    const base = Math.floor(Date.now() / 3600_000) * 3600_000 - 48 * 3600_000;
    const at = (hours: number): string => new Date(base + hours * 3600_000).toISOString();
    const dir = join(root, 'skew');
    const d1 = join(root, 'd1.jsonl');
    const rows: unknown[] = [];
    for (let h = 0; h < 10; h += 0.5) rows.push(callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', at(h), OFFICE));
    await writeFile(d1, jsonl(rows));
    const skew = join(root, 'skew.jsonl');
    const d3 = join(root, 'd3.jsonl');
    await writeFile(skew, jsonl([callAs(bob, 'ec2.amazonaws.com', 'DescribeInstances', at(24 * 60), OFFICE)]));
    await writeFile(d3, jsonl([callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', at(25), OFFICE), callAs(alice, 'ec2.amazonaws.com', 'DescribeInstances', at(26), ABROAD)]));
    await run(dir, [d1]);
    // Her baselines (open for 30 days); her 12-hour session credential legitimately expires by the wall clock.
    const baselines = async (): Promise<string[]> =>
      (await state(dir)).filter((r) => r.fact.from === alice.arn && /^(baseline_|seen_)/.test(r.fact.kind)).map((r) => r.doc.id);
    const before = await baselines();
    await run(dir, [skew]);
    expect(before.length).toBeGreaterThanOrEqual(5);
    expect(await baselines()).toEqual(before);
    const r3 = await run(dir, [d3]);
    expect(r3.alerts.map((x) => x.rule.id)).toContain('seam-native-new-network');
  });
});
