import { describe, expect, it } from 'vitest';
import { first, isRec, num, obj, str, strArray, strOrNumber, strs } from './values.ts';

describe('value readers', () => {
  it('read objects, strings, numbers and their arrays, and nothing else', () => {
    expect(obj({ a: 1 })).toEqual({ a: 1 });
    expect([obj(null), obj([1]), obj('x')]).toEqual([undefined, undefined, undefined]);
    expect([isRec({}), isRec([]), isRec(null)]).toEqual([true, false, false]);
    expect([str('a'), str(''), str(1)]).toEqual(['a', undefined, undefined]);
    expect([strOrNumber('a'), strOrNumber(''), strOrNumber(12), strOrNumber(Number.NaN)]).toEqual(['a', undefined, '12', undefined]);
    expect([num(3), num(Number.POSITIVE_INFINITY), num('3')]).toEqual([3, undefined, undefined]);
    expect([first(['a', 'b']), first('c'), first(['']), first([])]).toEqual(['a', 'c', undefined, undefined]);
  });

  it('strArray keeps an all-string array as it is; strs always copies', () => {
    const a = ['x', 'y'];
    expect(strArray(a)).toBe(a);
    expect(strArray(['x', 1, 'y'])).toEqual(['x', 'y']);
    expect(strArray('x')).toBeUndefined();
    expect(strs(a)).not.toBe(a);
    expect(strs(a)).toEqual(a);
    expect(strs(undefined)).toEqual([]);
  });
});
