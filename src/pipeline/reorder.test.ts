import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { loadDetection } from './detection.ts';
import { UpstreamWatch, type UpstreamSnapshot } from './progress.ts';
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

/**
 * The correlate role's loop on one signals partition, driven by a simulated clock (ADR 0009, 5c): each second stage 1
 * reads what the collectors delivered, sends its signals and marks (the mark's send time is `now`, as a Kafka
 * message's timestamp), the role looks at stage 1 (UpstreamWatch: idle after `idleMs` caught up with no new records)
 * and releases what the watermark passes. The audit log delivers every second, 5 s behind; CloudTrail 120 s behind,
 * one record every `ctEveryS` seconds (a pause longer than `idleMs`: its partition turns idle between deliveries),
 * from `ctFromS` on, after `ctBefore` records at the start. Returns the CloudTrail signals the buffer refused as
 * late (behind a signal already handed on), of how many.
 */
async function skewRun(o: { clock: ProgressClock; ctEveryS: number; ctFromS: number; ctBefore: number; seconds: number }): Promise<{ late: number; of: number }> {
  const idleMs = 10_000;
  let now = Date.parse('2026-12-06T12:00:00.000Z');
  const ends: Record<string, number> = { 'audit/0': 0, 'ct/0': 0 };
  let signals = 0;
  const upstream = { snapshot: async (): Promise<UpstreamSnapshot> => ({ raw: Object.entries(ends).map(([src, end]) => ({ src, hasData: end > 0, caughtUp: true, end: BigInt(end) })), signalsEnd: new Map([[0, BigInt(signals)]]) }) };
  const watch = new UpstreamWatch(upstream, idleMs);
  const buffer = new ReorderBuffer<string>();
  let late = 0;
  let of = 0;
  const deliver = (src: string, t: number, id: string): void => {
    ends[src]!++;
    if (src === 'ct/0') of++;
    if (!buffer.push(t, id, id) && src === 'ct/0') late++;
    o.clock.mark(src, t, BigInt(signals++), now);
  };
  for (let s = 0; s < o.seconds; s++) {
    now += 1000;
    deliver('audit/0', now - 5000, `a${s}`);
    if (s < o.ctBefore || (s >= o.ctFromS && (s - o.ctFromS) % o.ctEveryS === 0)) deliver('ct/0', now - 120_000, `c${s}`);
    await watch.refresh(() => now);
    buffer.releaseUpTo(o.clock.watermark(watch.view!.raw, true, now).watermarkMs);
  }
  return { late, of };
}

describe('ProgressClock: a raw partition that delivers late and pauses (ADR 0009, 5c)', () => {
  it('keeps an idle partition at the wall clock less its delivery delay, so a busy plane is not handed on past its next records', async () => {
    // CloudTrail delivered before (its delay is known), then one record every 15 s: idle between deliveries.
    const run = await skewRun({ clock: new ProgressClock(60_000), ctBefore: 20, ctFromS: 100, ctEveryS: 15, seconds: 460 });
    expect(run.of).toBe(20 + 24);
    expect(run.late).toBe(0);
    // With idle partitions left out (maxDelayMs 0, as before 5c's change): each delivery after a pause lands behind the
    // audit log's signals, handed on up to its progress less the lateness, 55 s past CloudTrail's.
    const before = await skewRun({ clock: new ProgressClock(60_000, 0), ctBefore: 20, ctFromS: 100, ctEveryS: 15, seconds: 460 });
    expect(before.late).toBe(24);
  });

  it('cannot know how late a source that never delivered will be: its first records are late', async () => {
    // The empty partition is left out (it may never receive anything: a plane not deployed must not stop the others), so
    // the audit log's signals were handed on up to 65 s behind the wall clock when CloudTrail's first record comes,
    // 120 s behind: its records of the next 55 s of event time (at 200, 215, 230 and 245 s) are late; after them, none.
    const run = await skewRun({ clock: new ProgressClock(60_000), ctBefore: 0, ctFromS: 200, ctEveryS: 15, seconds: 460 });
    expect(run).toEqual({ late: 4, of: 18 });
  });

  it('holds for a source that never delivered the delay configured for it (correlate.sourceDelayMs), until its own is known', async () => {
    // The same start as above, with CloudTrail expected up to 15 minutes late: its empty partition holds the audit
    // log's signals until its first records (120 s late) come, then their delay takes over. None late.
    const run = await skewRun({ clock: new ProgressClock(60_000, 900_000, new Map([['ct', 900_000]])), ctBefore: 0, ctFromS: 200, ctEveryS: 15, seconds: 460 });
    expect(run).toEqual({ late: 0, of: 18 });
    // An expected delay shorter than the real one helps only as far as it goes: 30 s of the 120 leaves the records of
    // the next 30 s of event time late (2; 4 with none).
    const short = await skewRun({ clock: new ProgressClock(60_000, 900_000, new Map([['ct', 30_000]])), ctBefore: 0, ctFromS: 200, ctEveryS: 15, seconds: 460 });
    expect(short).toEqual({ late: 2, of: 18 });
  });

  it('counts an empty or delay-less partition at its source\'s delay, else the expected one, else not at all', () => {
    const raw = (src: string, o: { hasData?: boolean; idle?: boolean } = {}) => ({ src, hasData: o.hasData ?? true, idle: o.idle ?? false });
    const now = 2_000_000;
    const c = new ProgressClock(60_000, 900_000, new Map([['ct', 900_000]]));
    c.mark('audit/0', now - 5000, 0n, now);
    const view = [raw('audit/0'), raw('ct/0', { hasData: false }), raw('ct/1', { hasData: false }), raw('gd/0', { hasData: false })];
    // CloudTrail has not delivered: both its empty partitions hold at now - 15 min; GuardDuty, not expected, does not count.
    expect(c.watermark(view, true, now)).toEqual({ watermarkMs: now - 900_000 - 60_000, quiet: false });
    expect(c.holder(view, true, now)).toEqual({ src: 'ct/0', progressMs: now - 900_000, newestMs: now - 5000, idle: true, delayMs: 900_000, basis: 'expected', empty: true });
    // CloudTrail's first records on ct/0, 120 s late: the observed delay replaces the expected one, on ct/0 (idle) and on
    // ct/1, still empty (its source's delay).
    c.mark('ct/0', now - 120_000, 1n, now);
    const later = [raw('audit/0'), raw('ct/0', { idle: true }), raw('ct/1', { hasData: false }), raw('gd/0', { hasData: false })];
    expect(c.watermark(later, true, now + 10_000)).toEqual({ watermarkMs: now + 10_000 - 120_000 - 60_000, quiet: false });
    expect(c.holder(later, true, now + 10_000)).toMatchObject({ src: 'ct/0', basis: 'own', delayMs: 120_000 });
    expect(c.holder([raw('audit/0'), raw('ct/1', { hasData: false })], true, now + 10_000)).toMatchObject({ src: 'ct/1', basis: 'source', delayMs: 120_000, empty: true });
    // Its delay is a backfill's (over maxDelayMs): the source stops holding the watermark back, expected delay or not.
    c.mark('ct/0', now, 2n, now + 86_400_000);
    expect(c.watermark(later, true, now + 10_000)).toEqual({ watermarkMs: now - 5000 - 60_000, quiet: false });
    // Nothing configured (the default without a CloudTrail collector): an empty source is left out, as before.
    const none = new ProgressClock(60_000);
    none.mark('audit/0', now - 5000, 0n, now);
    expect(none.watermark(view, true, now)).toEqual({ watermarkMs: now - 5000 - 60_000, quiet: false });
    // Expected 0: that source is not waited for. Every partition empty or idle: quiet, the wall clock.
    expect(new ProgressClock(60_000, 900_000, new Map([['ct', 0]])).watermark([raw('ct/0', { hasData: false })], true, now)).toEqual({ watermarkMs: now - 60_000, quiet: true });
    expect(c.watermark([raw('ct/0', { hasData: false }), raw('audit/0', { idle: true })], true, now).quiet).toBe(true);
  });

  it('takes the delay from the oldest record a mark covers, and leaves out a partition whose delay is over the maximum', () => {
    const raw = (src: string, idle = false) => ({ src, hasData: true, idle });
    const c = new ProgressClock(60_000, 900_000);
    c.mark('audit/0', 1_400_000, 0n, 1_405_000);
    // A CloudTrail file of 5 minutes of records, delivered 5 minutes after its newest: 10 minutes late at its oldest.
    c.mark('ct/0', 700_000, 1n, 1_000_000, 400_000);
    expect(c.delayOf('ct/0')).toBe(600_000);
    expect(c.watermark([raw('audit/0'), raw('ct/0', true)], true, 1_410_000)).toEqual({ watermarkMs: 1_410_000 - 600_000 - 60_000, quiet: false });
    expect(c.holder([raw('audit/0'), raw('ct/0', true)], true, 1_410_000)).toEqual({ src: 'ct/0', progressMs: 810_000, newestMs: 1_400_000, idle: true, delayMs: 600_000, basis: 'own' });
    // Never behind its own progress (it has delivered up to there); active, it holds the watermark there, as before.
    expect(c.watermark([raw('audit/0'), raw('ct/0', true)], true, 1_010_000).watermarkMs).toBe(700_000 - 60_000);
    expect(c.watermark([raw('audit/0'), raw('ct/0')], true, 1_410_000).watermarkMs).toBe(700_000 - 60_000);
    // A backfill: its newest mark is a day old when sent. Idle, it stops holding the watermark back.
    c.mark('ct/0', 800_000, 2n, 800_000 + 86_400_000);
    expect(c.watermark([raw('audit/0'), raw('ct/0', true)], true, 1_410_000).watermarkMs).toBe(1_400_000 - 60_000);
    // Every partition idle: the input is quiet and event time follows the wall clock, whatever the delays.
    const q = new ProgressClock(60_000);
    q.mark('ct/0', 700_000, 0n, 820_000);
    expect(q.watermark([raw('ct/0', true)], true, 1_000_000)).toEqual({ watermarkMs: 940_000, quiet: true });
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
