import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from './reorder.ts';
import { atOrBefore, decodeMark, encodeMark, laterMark } from './sent-mark.ts';

describe('events-sent mark (commit metadata of the correlate role)', () => {
  it('round-trips through commit metadata and refuses anything that is not one', () => {
    const m = { t: 1_733_400_000_123, id: 'a1b2' };
    expect(decodeMark(encodeMark(m))).toEqual(m);
    expect(decodeMark(undefined)).toBeUndefined();
    expect(decodeMark(null)).toBeUndefined();
    expect(decodeMark('')).toBeUndefined();
    expect(decodeMark('some other consumer\'s metadata')).toBeUndefined();
    expect(decodeMark('{"seam-events-sent":2,"t":1,"id":"x"}')).toBeUndefined();
    expect(decodeMark('{"seam-events-sent":1,"t":"1","id":"x"}')).toBeUndefined();
    expect(decodeMark('{"seam-events-sent":1,"t":1')).toBeUndefined();
    expect(encodeMark({ t: Infinity, id: 'x' })).toBeUndefined();
  });

  it('orders as the reorder buffer does: (event time, id)', () => {
    const m = { t: 100, id: 'm' };
    expect(atOrBefore(99, 'z', m)).toBe(true);
    expect(atOrBefore(100, 'a', m)).toBe(true);
    expect(atOrBefore(100, 'm', m)).toBe(true);
    expect(atOrBefore(100, 'n', m)).toBe(false);
    expect(atOrBefore(101, '', m)).toBe(false);
    expect(laterMark(undefined, m)).toBe(m);
    expect(laterMark(m, undefined)).toBe(m);
    expect(laterMark({ t: 100, id: 'n' }, m)).toEqual({ t: 100, id: 'n' });
    expect(laterMark(m, { t: 101, id: 'a' })).toEqual({ t: 101, id: 'a' });
  });

  it('the buffer\'s last released item covers exactly what it has handed on: later pushes at or before it are refused as late', () => {
    const b = new ReorderBuffer<string>();
    expect(b.released).toBeUndefined();
    for (const [t, id] of [[5, 'b'], [3, 'a'], [5, 'a'], [9, 'c'], [7, 'z']] as const) b.push(t, id, `${t}${id}`);
    const out = b.releaseUpTo(6);
    expect(out).toEqual(['3a', '5a', '5b']);
    const mark = b.released!;
    expect(mark).toEqual({ t: 5, id: 'b' });
    // Everything still held sorts after the mark; anything at or before it is refused (handed on at once by the role).
    expect(b.push(5, 'b', 'dup')).toBe(false);
    expect(b.push(4, 'q', 'old')).toBe(false);
    expect(b.push(5, 'c', 'new')).toBe(true);
    expect(b.drain().every((v) => !['3a', '5a', '5b'].includes(v))).toBe(true);
  });
});
