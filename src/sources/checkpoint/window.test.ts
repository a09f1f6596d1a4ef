import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCheckpointStore } from './file-store.ts';
import { ownerOf } from './ownership.ts';
import { ReadWindow } from './window.ts';

const opts = { lookbackMs: 300_000, initialStartMs: 1_000_000, maxWindowMs: 3_600_000 };

describe('read window', () => {
  it('starts at initialStartMs, then re-reads the lookback behind the watermark', () => {
    const w = new ReadWindow(undefined, opts);
    expect(w.range(2_000_000)).toEqual({ startMs: 1_000_000, endMs: 2_000_000, full: true });
    w.adopt(w.next([{ id: 'a', tsMs: 1_900_000 }], 2_000_000));
    expect(w.range(2_100_000)).toEqual({ startMs: 1_700_000, endMs: 2_100_000, full: true });
    expect(w.has('a', 1_900_000)).toBe(true);
  });

  it('forgets ids older than the window and keeps the cursor millisecond', () => {
    const w = new ReadWindow(undefined, opts);
    const cp = w.next([{ id: 'old', tsMs: 1_600_000 }, { id: 'edge', tsMs: 1_700_000 }, { id: 'cursor', tsMs: 2_000_000 }], 2_000_000);
    expect(cp.seen).toEqual({ '1700000': ['edge'], '2000000': ['cursor'] });
    w.adopt(cp);
    expect(w.has('cursor', 2_000_000)).toBe(true);
    expect(w.seenCount).toBe(2);
  });

  it('re-reads the recent part each poll and the whole lookback once a period (two-tier), counting only completed full reads', () => {
    const w = new ReadWindow({ v: 1, watermarkMs: 2_000_000, seen: {}, savedAt: '' }, { ...opts, recentLookbackMs: 60_000, fullLookbackEveryMs: 60_000 });
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
    const same = new ReadWindow({ v: 1, watermarkMs: 2_000_000, seen: {}, savedAt: '' }, { ...opts, recentLookbackMs: 300_000, fullLookbackEveryMs: 60_000 });
    same.completed(same.range(2_005_000), 2_005_000);
    expect(same.range(2_010_000).full).toBe(true);
  });

  it('reads a long catch-up in chunks of maxWindowMs', () => {
    const w = new ReadWindow({ v: 1, watermarkMs: 0, seen: {}, savedAt: '' }, { ...opts, maxWindowMs: 1000 });
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
    await Promise.all([a.save('k1', { v: 1, watermarkMs: 5, seen: { '5': ['x'] }, savedAt: 't' }), a.save('k2', { v: 1, watermarkMs: 7, seen: {}, savedAt: 't' })]);
    const b = new FileCheckpointStore(path);
    expect(await b.load('k1')).toMatchObject({ watermarkMs: 5, seen: { '5': ['x'] } });
    expect(await b.load('k2')).toMatchObject({ watermarkMs: 7 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toHaveProperty('k2');
  });
});
