import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { loadDetection } from './detection.ts';
import { OrderedStage, ProgressClock, ReorderBuffer } from './reorder.ts';

/** A fixed pseudo-random sequence in [0, 1). */
function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/**
 * Pushes `items` through a buffer, releasing up to `lag` behind the newest time after each push (`each` runs
 * after every push), then drains it; returns what was accepted and what came out, and the (time, id) order
 * the accepted items must come out in.
 */
function throughBuffer(items: [number, string][], lag: number, trackIds: boolean, each?: (b: ReorderBuffer<string>, id: string, accepted: [number, string][], got: string[]) => void) {
  const b = new ReorderBuffer<string>({ trackIds });
  const got: string[] = [];
  const accepted: [number, string][] = [];
  let newest = -Infinity;
  for (const [t, id] of items) {
    if (b.push(t, id, `${t}/${id}`)) accepted.push([t, id]);
    newest = Math.max(newest, t);
    each?.(b, id, accepted, got);
    b.releaseUpTo(newest - lag, got);
  }
  const pending = b.oldestMs;
  const pendingWant = Math.min(...accepted.map((a) => a[0]).filter((t, i) => !got.includes(`${t}/${accepted[i]![1]}`)));
  b.releaseUpTo(Infinity, got);
  const want = [...accepted].sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)).map(([t, id]) => `${t}/${id}`);
  return { b, got, want, accepted, pending, pendingWant };
}

describe('ReorderBuffer', () => {
  it('hands items on in (event time, id) order up to the watermark, whatever order they came in', () => {
    const b = new ReorderBuffer<string>();
    for (const [t, id] of [[30, 'c'], [10, 'b'], [20, 'a'], [10, 'a'], [40, 'x']] as const) expect(b.push(t, id, `${t}${id}`)).toBe(true);
    expect(b.releaseUpTo(20)).toEqual(['10a', '10b', '20a']);
    expect(b.size).toBe(2);
    expect(b.holds('c')).toBe(true);
    expect(b.holds('a')).toBe(false);
    expect(b.drain()).toEqual(['30c', '40x']);
  });

  it('refuses what sorts before an item already handed on (late), and items without a time', () => {
    const b = new ReorderBuffer<string>();
    b.push(10, 'b', 'b');
    expect(b.releaseUpTo(10)).toEqual(['b']);
    expect(b.push(10, 'a', 'a')).toBe(false);
    expect(b.push(9, 'z', 'z')).toBe(false);
    expect(b.push(Number.NaN, 'n', 'n')).toBe(false);
    expect(b.push(10, 'c', 'c')).toBe(true);
  });
  it('releases in order through its in-order run and its heap alike (mostly ordered input with stragglers), ids tracked or not', () => {
    // Times mostly rising, every few items one from up to 50 back.
    const rand = seeded(7);
    const items: [number, string][] = [];
    for (let i = 0; i < 5000; i++) items.push([rand() < 0.2 ? Math.max(0, i - Math.floor(rand() * 50)) : i, `e${Math.floor(rand() * 1e6)}`]);
    for (const trackIds of [true, false]) {
      const { b, got, want, accepted } = throughBuffer(items, 30, trackIds, (buf, id, acc, out) => {
        // Held: accepted and not yet released (checked before this push's release).
        if (buf.holds(id) !== acc.some((a) => a[1] === id && !out.includes(`${a[0]}/${a[1]}`))) throw new Error(`holds(${id}) wrong`);
      });
      expect(b.size).toBe(0);
      expect(got).toEqual(want);
      expect(accepted.length).toBeLessThan(items.length); // some came too late, and were refused
    }
  });

  it('releases in order when several streams each in order interleave (more streams than runs, so the heap takes some), ids tracked or not', () => {
    // Twenty sources (more than the buffer keeps runs), each in time order, a little apart, picked at random;
    // equal times, so ids break ties.
    const rand = seeded(11);
    const offsets = Array.from({ length: 20 }, (_, i) => (i * 7) % 23);
    const clocks = offsets.map(() => 0);
    const items: [number, string][] = [];
    for (let i = 0; i < 6000; i++) {
      const s = Math.floor(rand() * clocks.length);
      clocks[s] = Math.max(clocks[s]!, Math.floor(i / 4) + offsets[s]! + Math.floor(rand() * 3));
      items.push([clocks[s]!, `s${s}-${Math.floor(rand() * 1e6)}`]);
    }
    for (const trackIds of [true, false]) {
      const { b, got, want, accepted, pending, pendingWant } = throughBuffer(items, 40, trackIds);
      expect(pending).toBe(pendingWant);
      expect(b.size).toBe(0);
      expect(b.oldestMs).toBeUndefined();
      expect(got).toEqual(want);
      expect(accepted.length).toBe(items.length); // within the lateness: none refused
    }
  });
});

describe('ProgressClock', () => {
  const raw = (src: string, o: { hasData?: boolean; idle?: boolean } = {}) => ({ src, hasData: o.hasData ?? true, idle: o.idle ?? false });

  it('is the lowest marked progress over the raw partitions with records, minus the lateness', () => {
    const c = new ProgressClock(5);
    c.mark('a/0', 100);
    c.mark('b/0', 50);
    c.mark('b/0', 40); // progress never goes back
    expect(c.watermark([raw('a/0'), raw('b/0'), raw('c/0', { hasData: false })], false, 0)).toEqual({ watermarkMs: 45, quiet: false });
  });

  it('holds everything back while a partition with records has no mark yet', () => {
    const c = new ProgressClock(5);
    c.mark('a/0', 100);
    expect(c.watermark([raw('a/0'), raw('b/0')], true, 0).watermarkMs).toBe(-Infinity);
  });

  it('leaves out idle partitions once read past them; with none left, follows the wall clock', () => {
    const c = new ProgressClock(5);
    c.mark('a/0', 100);
    c.mark('b/0', 50);
    expect(c.watermark([raw('a/0'), raw('b/0', { idle: true })], false, 1000)).toEqual({ watermarkMs: 45, quiet: false });
    expect(c.watermark([raw('a/0'), raw('b/0', { idle: true })], true, 1000)).toEqual({ watermarkMs: 95, quiet: false });
    expect(c.watermark([raw('a/0', { idle: true }), raw('b/0', { idle: true })], true, 1000)).toEqual({ watermarkMs: 995, quiet: true });
  });
});

describe('OrderedStage', () => {
  it('gives the identity graph and the detections the same story whatever the arrival order within the lateness', async () => {
    const root = join(import.meta.dirname, '../..');
    const detection = await loadDetection({ rules: [join(root, 'detections')] });
    const lines = (await readFile(join(root, 'deploy/demo/eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const events = () =>
      lines.map((l) => {
        const r = normalizeLine(l, { collector: 'test', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01' });
        if (!r.ok) throw r.error;
        return r.value;
      });
    const run = (order: (es: ReturnType<typeof events>) => ReturnType<typeof events>) => {
      const o = new OrderedStage(detection.newStage(), detection.allowedLatenessMs);
      const ids: string[] = [];
      for (const e of order(events())) for (const a of o.process(e)) ids.push(a.id);
      for (const a of o.flush()) ids.push(a.id);
      return { ids: ids.sort(), docs: o.stage.native.graph.toIdentityDocs().sort((a, b) => a.id.localeCompare(b.id)), late: o.late };
    };
    const sorted = run((es) => [...es].sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']) || a.seam.id.localeCompare(b.seam.id)));
    expect(sorted.ids.length).toBeGreaterThan(20);
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 10; i++) {
      // Each event moved by up to 90% of the lateness: a different interleaving of the planes every time.
      const shuffled = run((es) => es.map((e) => ({ e, k: Date.parse(e['@timestamp']) + rnd() * 0.9 * detection.allowedLatenessMs })).sort((a, b) => a.k - b.k).map((x) => x.e));
      expect(shuffled.late).toBe(0);
      expect(shuffled.ids).toEqual(sorted.ids);
      expect(shuffled.docs).toEqual(sorted.docs);
    }
  }, 120_000);
});
