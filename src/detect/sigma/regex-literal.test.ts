import { describe, expect, it } from 'vitest';
import { regexLiteral } from './regex-literal.ts';

describe('regexLiteral', () => {
  it('finds the text every match must contain', () => {
    expect(regexLiteral(/.+:assumed-role\/aws:.+/)).toEqual({ text: ':assumed-role/aws:', folded: false });
    expect(regexLiteral(/^abc\d+defgh/)).toEqual({ text: 'defgh', folded: false });
    expect(regexLiteral(/Invoke-Mimikatz/i)).toEqual({ text: 'invoke-mimikatz', folded: true });
    expect(regexLiteral(/abcx*/)).toEqual({ text: 'abc', folded: false });
    expect(regexLiteral(/abcd+e/)).toEqual({ text: 'abcd', folded: false });
  });

  it('reads escapes, exact repetitions and one-alternative groups from the parsed pattern', () => {
    // The hand-written scanner stopped at every escape; the syntax tree decodes them.
    expect(regexLiteral(/\x41\x42\x43\x44/)).toEqual({ text: 'ABCD', folded: false });
    expect(regexLiteral(/\u0041\u0042\u0043/)).toEqual({ text: 'ABC', folded: false });
    expect(regexLiteral(/ab(?:cd)e/)).toEqual({ text: 'abcde', folded: false });
    expect(regexLiteral(/ab(cd)e/)).toEqual({ text: 'abcde', folded: false });
    expect(regexLiteral(/ab{2}c/)).toEqual({ text: 'abbc', folded: false });
    expect(regexLiteral(/xab{2,3}c/)).toEqual({ text: 'xabb', folded: false });
    expect(regexLiteral(/a{1000}b/)!.text).toBe('a'.repeat(64));
  });

  it('gives up where no literal is necessary', () => {
    expect(regexLiteral(/abcd|efgh/)).toBeUndefined();
    expect(regexLiteral(/(abcd)?/)).toBeUndefined();
    expect(regexLiteral(/ab/)).toBeUndefined();
    expect(regexLiteral(/ab(cd|ef)gh/)).toBeUndefined();
    expect(regexLiteral(/ab\dcd/)).toBeUndefined();
    expect(regexLiteral(/cafés/i)).toBeUndefined();
  });

  it('never claims a literal that a matching string lacks (random patterns and strings)', () => {
    const atoms = ['a', 'b', 'c', '-', '\\.', '\\/', '.', '[ab]', '[^a]', '(ab|c)', '(?:bc)', '\\d', '\\w', '\\b', '^', '$', '1', '\\x61', '\\cJ', '\\1', '(?=a)', '(?!b)', '(?:a)', '(a(?:b))', '\\x62', 'a{2}'];
    const quants = ['', '', '', '*', '+', '?', '{2}', '{0,2}', '{1,}', '*?', '+?'];
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let checked = 0;
    for (let k = 0; k < 3000; k++) {
      let src = '';
      const len = 2 + rnd(8);
      for (let i = 0; i < len; i++) src += atoms[rnd(atoms.length)]! + quants[rnd(quants.length)]!;
      if (rnd(10) === 0) src += '|' + atoms[rnd(atoms.length)]!;
      let re: RegExp;
      try {
        re = new RegExp(src, rnd(3) === 0 ? 'i' : '');
      } catch {
        continue;
      }
      const lit = regexLiteral(re, 1);
      if (!lit) continue;
      for (let s = 0; s < 400; s++) {
        let str = '';
        const n = rnd(6);
        const pieces = ['a', 'b', 'c', 'ab', 'bc', 'abc', 'A', 'B', '-', '.', '/', '1', '\n', 'aa', 'bb'];
        for (let i = 0; i < n; i++) str += pieces[rnd(pieces.length)]!;
        if (!re.test(str)) continue;
        checked++;
        expect((lit.folded ? str.toLowerCase() : str).includes(lit.text), `${re} matched ${JSON.stringify(str)} without ${lit.text}`).toBe(true);
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
