import { describe, expect, it } from 'vitest';
import { JsRegexSyntaxError, parseJsRegex, splitInlineFlags } from './js-regex.ts';

describe('parseJsRegex', () => {
  it('reads a pattern as new RegExp reads it outside unicode mode (Annex B)', () => {
    const p = parseJsRegex('a\\x41\\1{', '');
    expect(p.alternatives).toHaveLength(1);
    // \1 without a group is an octal escape and a lone brace is a literal, as V8 reads them.
    expect(p.alternatives[0]!.elements.map((e) => (e.type === 'Character' ? e.value : e.type))).toEqual([0x61, 0x41, 1, 0x7b]);
    expect(new RegExp('a\\x41\\1{').test('aA\u0001{')).toBe(true);
  });

  it('refuses what Node 20 refuses, with the offset', () => {
    expect(() => parseJsRegex('a)', '')).toThrow(JsRegexSyntaxError);
    // Modifier groups are refused on every Node Seam runs on, so a rule loads (or not) the same everywhere: Node 20's
    // V8 refuses them, Node 24's accepts them (RegExp modifiers), Seam's parser keeps Node 20's answer.
    expect(() => parseJsRegex('(?i:a)', '')).toThrow(JsRegexSyntaxError);
  });
});

describe('splitInlineFlags', () => {
  it('moves a leading (?ims) group into the flags and reports x', () => {
    expect(splitInlineFlags('(?i)abc', '')).toEqual({ source: 'abc', flags: 'i', extended: false });
    expect(splitInlineFlags('(?ix)abc', 'i')).toEqual({ source: 'abc', flags: 'i', extended: true });
    expect(splitInlineFlags('a(?i)b', 's')).toEqual({ source: 'a(?i)b', flags: 's', extended: false });
  });
});
