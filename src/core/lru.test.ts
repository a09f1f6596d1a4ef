import { describe, expect, it } from 'vitest';
import { boundedLru } from './lru.ts';

describe('boundedLru', () => {
  it('keeps at most maxEntries, forgetting the least recently used first', () => {
    const m = boundedLru<string, number>(3);
    for (const [k, v] of [['a', 1], ['b', 2], ['c', 3]] as const) m.set(k, v);
    expect(m.get('a')).toBe(1); // a is now the most recently used
    m.set('d', 4);
    expect(m.size).toBe(3);
    expect(m.has('b')).toBe(false);
    expect([...m.rkeys()]).toEqual(['c', 'a', 'd']);
    for (let i = 0; i < 1000; i++) m.set(`k${i}`, i);
    expect(m.size).toBe(3);
    expect([...m.rvalues()]).toEqual([997, 998, 999]);
  });
});
