import { describe, expect, it } from 'vitest';
import { StallWatch, type PartitionView } from './stall.ts';

const view = (o: Partial<PartitionView> & { end: bigint }): PartitionView => ({ key: 't/0', committed: undefined, fetchedTo: undefined, lastFetchAt: undefined, ...o });

describe('StallWatch', () => {
  it('a partition behind at two checks, fetched by nobody for stallMs, is stalled', () => {
    const w = new StallWatch(1000);
    const p = view({ end: 11n, committed: 9n, fetchedTo: 9n, lastFetchAt: 0 });
    expect(w.check(500, 0, [p])).toEqual([]);
    expect(w.check(900, 0, [p])).toEqual([]);
    expect(w.check(1200, 0, [p]).map((x) => x.key)).toEqual(['t/0']);
  });

  it('one check behind is not enough: a record produced just before it is fetched by the next fetch', () => {
    const w = new StallWatch(1000);
    expect(w.check(5000, 0, [view({ end: 11n, committed: 9n, fetchedTo: 9n, lastFetchAt: 0 })])).toEqual([]);
  });

  it('a fetch between two checks starts the count again', () => {
    const w = new StallWatch(1000);
    expect(w.check(2000, 0, [view({ end: 11n, committed: 9n, fetchedTo: 9n, lastFetchAt: 0 })])).toEqual([]);
    // Handed a batch at 2500 (up to 10), still behind (end 12): behind again from this check on.
    expect(w.check(3000, 0, [view({ end: 12n, committed: 9n, fetchedTo: 10n, lastFetchAt: 2500 })])).toEqual([]);
    expect(w.check(3400, 0, [view({ end: 12n, committed: 9n, fetchedTo: 10n, lastFetchAt: 2500 })])).toEqual([]);
    expect(w.check(3600, 0, [view({ end: 12n, committed: 9n, fetchedTo: 10n, lastFetchAt: 2500 })])).toHaveLength(1);
  });

  it('a member holding commits back (a commit limit) but fetched to the end is not stalled', () => {
    const w = new StallWatch(1000);
    const p = view({ end: 11n, committed: 3n, fetchedTo: 11n, lastFetchAt: 0 });
    for (const now of [2000, 4000, 6000]) expect(w.check(now, 0, [p])).toEqual([]);
  });

  it('nothing fetched since the join counts from the join; no commit and nothing fetched is never stalled', () => {
    const w = new StallWatch(1000);
    const joined = view({ key: 't/1', end: 5n, committed: 2n });
    const unknown = view({ key: 't/2', end: 5n });
    expect(w.check(10_000, 9500, [joined, unknown])).toEqual([]);
    expect(w.check(10_400, 9500, [joined, unknown])).toEqual([]);
    expect(w.check(10_600, 9500, [joined, unknown]).map((x) => x.key)).toEqual(['t/1']);
  });

  it('reset() and a partition leaving the assignment forget what was seen', () => {
    const w = new StallWatch(1000);
    const p = view({ end: 11n, committed: 9n, lastFetchAt: 0 });
    w.check(2000, 0, [p]);
    w.reset();
    expect(w.check(3000, 0, [p])).toEqual([]);
    w.check(4000, 0, []);
    expect(w.check(5000, 0, [p])).toEqual([]);
    expect(w.check(6000, 0, [p])).toHaveLength(1);
  });
});
