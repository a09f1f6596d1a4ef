import { describe, expect, it } from 'vitest';
import { closingQuote } from './json-text.ts';

describe('closingQuote', () => {
  it('finds the quote that closes a string, past escaped quotes and escaped backslashes', () => {
    expect(closingQuote('"abc",1', 0)).toBe(4);
    expect(closingQuote(String.raw`"a\"b"`, 0)).toBe(5);
    expect(closingQuote(String.raw`"a\\"`, 0)).toBe(4);
    expect(closingQuote(String.raw`"a\\\"b"`, 0)).toBe(7);
    expect(closingQuote('{"k":"v"}', 5)).toBe(7);
  });
  it('says -1 when the text is cut inside the string', () => {
    expect(closingQuote('"abc', 0)).toBe(-1);
    expect(closingQuote(String.raw`"abc\"`, 0)).toBe(-1);
  });
});
