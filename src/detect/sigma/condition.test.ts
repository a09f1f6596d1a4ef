import { describe, expect, it } from 'vitest';
import { expandPattern } from './condition.ts';

/** What expandPattern gave before: the pattern as an anchored RegExp, `*` as `.*`. */
function byRegExp(pattern: string, names: readonly string[]): string[] {
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return names.filter((n) => re.test(n));
}

describe('expandPattern', () => {
  const names = ['selection', 'selection_1', 'selection_img', 'sel', 'filter_main_x', 'filter_optional', '_hidden', 'a', 'aa', 'aba', 'abab', 'x.y', 'x+y', 'a\nb', 'sel\u2028x', 'ab*', ''];
  const patterns = ['selection_*', 'sel*', '*', '**', 'filter_*_x', '*_*', 'a*a', 'a*b*a*b', '*a*', 'x.*', 'x+*', 'a*b', 'sel*x', '*tion', 'ab*', 'a**a', 'q*'];
  it('names what the anchored regex it replaces named, for every pattern and name', () => {
    for (const p of patterns) expect({ p, got: expandPattern(p, names) }).toEqual({ p, got: byRegExp(p, names) });
  });
  it('them: every identifier not starting with _; a plain name: itself only', () => {
    expect(expandPattern('them', ['a', '_b', 'c'])).toEqual(['a', 'c']);
    expect(expandPattern('sel', names)).toEqual(['sel']);
  });
});
