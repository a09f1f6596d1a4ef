import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { digestId } from './digest.ts';
import { FileCheckpointStore } from './file-store.ts';
import { ownerOf } from './ownership.ts';
import { isCheckpoint, type CheckpointV1 } from './store.ts';
import { ReadWindow } from './window.ts';

const opts = { lookbackMs: 300_000, initialStartMs: 1_000_000, maxWindowMs: 3_600_000 };

describe('read window', () => {
  it('starts at initialStartMs, then re-reads the lookback behind the watermark', () => {
    const w = new ReadWindow(undefined, opts);
    expect(w.range(2_000_000)).toEqual({ startMs: 1_000_000, endMs: 2_000_000, full: true });
    w.adopt(w.next([{ id: digestId('a'), tsMs: 1_900_000 }], 2_000_000));
    expect(w.range(2_100_000)).toEqual({ startMs: 1_700_000, endMs: 2_100_000, full: true });
    expect(w.has(digestId('a'), 1_900_000)).toBe(true);
  });

  it('forgets ids older than the window and keeps the cursor millisecond', () => {
    const w = new ReadWindow(undefined, opts);
    const cp = w.next([{ id: digestId('old'), tsMs: 1_600_000 }, { id: digestId('edge'), tsMs: 1_700_000 }, { id: digestId('cursor'), tsMs: 2_000_000 }], 2_000_000);
    expect(cp.seen).toEqual({ '1700000': [digestId('edge')], '2000000': [digestId('cursor')] });
    w.adopt(cp);
    expect(w.has(digestId('cursor'), 2_000_000)).toBe(true);
    expect(w.seenCount).toBe(2);
  });

  it('re-reads the recent part each poll and the whole lookback once a period (two-tier), counting only completed full reads', () => {
    const w = new ReadWindow({ v: 2, watermarkMs: 2_000_000, seen: {}, savedAt: '' }, { ...opts, recentLookbackMs: 60_000, fullLookbackEveryMs: 60_000 });
    // The first poll after a start re-reads the whole lookback.
    const first = w.range(2_005_000);
    expect(first).toEqual({ startMs: 1_700_000, endMs: 2_005_000, full: true });
    // Not completed (a failed write): the next poll is full again.
    expect(w.range(2_010_000).full).toBe(true);
    w.completed(first, 2_005_000);
    w.adopt(w.next([], 2_005_000));
    expect(w.range(2_010_000)).toEqual({ startMs: 1_945_000, endMs: 2_010_000, full: false });
    w.adopt(w.next([], 2_060_000));
    expect(w.range(2_064_999).full).toBe(false);
    expect(w.range(2_065_000)).toEqual({ startMs: 1_760_000, endMs: 2_065_000, full: true });
    // A recent part as long as the lookback: every poll is full.
    const same = new ReadWindow({ v: 2, watermarkMs: 2_000_000, seen: {}, savedAt: '' }, { ...opts, recentLookbackMs: 300_000, fullLookbackEveryMs: 60_000 });
    same.completed(same.range(2_005_000), 2_005_000);
    expect(same.range(2_010_000).full).toBe(true);
  });

  it('reads a long catch-up in chunks of maxWindowMs', () => {
    const w = new ReadWindow({ v: 2, watermarkMs: 0, seen: {}, savedAt: '' }, { ...opts, maxWindowMs: 1000 });
    expect(w.range(10_000_000)).toEqual({ startMs: 0, endMs: 1000, full: true });
  });
});

describe('ownership', () => {
  it('gives each unit exactly one owner and moves few units when a replica leaves', () => {
    const units = Array.from({ length: 200 }, (_, i) => `/aws/eks/c${i}/cluster`);
    const three = ['r0', 'r1', 'r2'];
    const before = units.map((u) => ownerOf(u, three));
    expect(new Set(before).size).toBe(3);
    const after = units.map((u) => ownerOf(u, ['r0', 'r1']));
    const moved = units.filter((_, i) => before[i] !== after[i]);
    // Only r2's units move.
    expect(moved.every((_, i) => before[units.indexOf(moved[i]!)] === 'r2')).toBe(true);
  });
});

describe('file checkpoint store', () => {
  it('saves atomically and reads back after a restart', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'seam-cp-')), 'state', 'checkpoints.json');
    const a = new FileCheckpointStore(path);
    await Promise.all([a.save('k1', { v: 2, watermarkMs: 5, seen: { '5': ['x'] }, savedAt: 't' }), a.save('k2', { v: 2, watermarkMs: 7, seen: {}, savedAt: 't' })]);
    const b = new FileCheckpointStore(path);
    expect(await b.load('k1')).toMatchObject({ watermarkMs: 5, seen: { '5': ['x'] } });
    expect(await b.load('k2')).toMatchObject({ watermarkMs: 7 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveProperty('k2');
  });
});

/** A CloudWatch Logs eventId as AWS writes it: 56 decimal digits. */
const eventId = (i: number): string => `3${String(i).padStart(10, '0')}${'7'.repeat(45)}`;

describe('checkpoint ids as digests (ADR 0061, amendment of session 37)', () => {
  it('digests an id to 16 base64url characters, whatever its length, the same each time', () => {
    for (const id of ['a', eventId(1), 'f'.repeat(32) + '@2024-11-05T14:02:05.000Z']) {
      expect(digestId(id)).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(digestId(id)).toBe(digestId(id));
    }
    expect(digestId(eventId(1))).not.toBe(digestId(eventId(2)));
  });

  it('writes version 2 with digests, and a window read back from it (JSON, the file store) skips the same ids', async () => {
    const w = new ReadWindow(undefined, opts);
    const cp = w.next([{ id: digestId(eventId(1)), tsMs: 1_900_000 }, { id: digestId(eventId(2)), tsMs: 1_900_000 }], 2_000_000);
    expect(cp.v).toBe(2);
    expect(cp.seen).toEqual({ '1900000': [digestId(eventId(1)), digestId(eventId(2))] });
    expect(JSON.stringify(cp)).not.toContain(eventId(1));
    const path = join(await mkdtemp(join(tmpdir(), 'seam-cp-')), 'checkpoints.json');
    await new FileCheckpointStore(path).save('k', cp);
    const loaded = await new FileCheckpointStore(path).load('k');
    expect(loaded).toEqual(cp);
    const back = new ReadWindow(loaded, opts);
    expect(back.has(digestId(eventId(1)), 1_900_000)).toBe(true);
    expect(back.has(digestId(eventId(2)), 1_900_000)).toBe(true);
    expect(back.has(digestId(eventId(3)), 1_900_000)).toBe(false);
    // The same id at another millisecond is another record.
    expect(back.has(digestId(eventId(1)), 1_900_001)).toBe(false);
    expect(back.next([], 2_000_000).seen).toEqual(cp.seen);
  });

  it('loads a version-1 checkpoint (full ids, as written before) from the file store and honours it: its ids are skipped, and the next checkpoint is version 2', async () => {
    const old: CheckpointV1 = { v: 1, watermarkMs: 2_000_000, seen: { '1900000': [eventId(1), eventId(2)], '1999999': [eventId(3)] }, savedAt: '2026-12-06T10:00:00.000Z' };
    expect(isCheckpoint(old)).toBe(true);
    expect(isCheckpoint({ ...old, v: 2 })).toBe(true);
    expect(isCheckpoint({ ...old, v: 3 })).toBe(false);
    // The file as the previous code wrote it.
    const path = join(await mkdtemp(join(tmpdir(), 'seam-cp-')), 'state', 'checkpoints.json');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify({ 'audit|/aws/eks/prod/cluster': old }));
    const loaded = await new FileCheckpointStore(path).load('audit|/aws/eks/prod/cluster');
    expect(loaded).toEqual(old);
    const w = new ReadWindow(loaded, opts);
    expect(w.isFresh).toBe(false);
    expect(w.seenCount).toBe(3);
    for (const [id, t] of [[eventId(1), 1_900_000], [eventId(2), 1_900_000], [eventId(3), 1_999_999]] as const) expect(w.has(digestId(id), t)).toBe(true);
    expect(w.has(digestId(eventId(4)), 1_900_000)).toBe(false);
    const next = w.next([{ id: digestId(eventId(4)), tsMs: 2_050_000 }], 2_100_000);
    expect(next.v).toBe(2);
    expect(next.seen).toEqual({ '1900000': [digestId(eventId(1)), digestId(eventId(2))], '1999999': [digestId(eventId(3))], '2050000': [digestId(eventId(4))] });
    // adopt() takes either version too (a reload after a failed write may read a version-1 checkpoint).
    const again = new ReadWindow(undefined, opts);
    again.adopt(old);
    expect(again.has(digestId(eventId(3)), 1_999_999)).toBe(true);
  });

  it('sizes: 15 min of 10 events/s of 56-digit ids take ~80 B per id in a version-1 checkpoint and ~40 B as digests', () => {
    const lookbackMs = 15 * 60_000;
    const end = Date.UTC(2026, 11, 7); // 13-digit event times, as on AWS
    // 9,000 events 100 ms apart: one per millisecond key, as on a trail of 10 events/s.
    const events = Array.from({ length: 9000 }, (_, i) => ({ id: eventId(i), tsMs: end - lookbackMs + 100 * i }));
    const v1: CheckpointV1 = { v: 1, watermarkMs: end, seen: Object.fromEntries(events.map((e) => [String(e.tsMs), [e.id]])), savedAt: new Date(0).toISOString() };
    const w = new ReadWindow(v1, { ...opts, lookbackMs });
    expect(w.seenCount).toBe(9000);
    const v2 = w.next([], end, new Date(0));
    const before = Buffer.byteLength(JSON.stringify(v1));
    const after = Buffer.byteLength(JSON.stringify(v2));
    process.stdout.write(`checkpoint sizes, 15 min x 10 events/s: v1 ${before} B (${(before / 9000).toFixed(1)} B/id), v2 ${after} B (${(after / 9000).toFixed(1)} B/id)\n`);
    expect(before / 9000).toBeGreaterThan(75);
    expect(after / 9000).toBeLessThan(42);
    // Every id of the old checkpoint is still skipped through the new one.
    const back = new ReadWindow(JSON.parse(JSON.stringify(v2)) as unknown as typeof v2, { ...opts, lookbackMs });
    expect(events.every((e) => back.has(digestId(e.id), e.tsMs))).toBe(true);
  });
});
