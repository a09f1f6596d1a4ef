import { describe, expect, it } from 'vitest';
import { regexHazard } from './regex-safety.ts';

describe('regexHazard', () => {
  it('refuses patterns that backtrack exponentially', () => {
    for (const p of ['(a+)+$', '(a*)*b', '(\\w+\\s?)+$', '(a|a)*b', '(a|ab)*c', '(.*\\))+x', '^(([a-z])+.)+[A-Z]([a-z])+$', '(x+x+)+y', '(?:a|b|ab)+$', '(\\d+)*\\.', '([^,]*,?)+;']) {
      expect(regexHazard(p), p).toBeDefined();
    }
    expect(regexHazard('(A+)+$', 'i')).toBeDefined();
    // The offset names the inner repetition, where the rule's author has to act.
    expect(regexHazard('x(a+)+$')!.offset).toBe(2);
  });

  it('accepts the shapes real rules use', () => {
    for (const p of [
      '.*foo.*bar',
      '(\\s*\\d{1,3}\\s*,){2}',
      '(?:[a-z0-9\\-]+\\.){2}[a-z0-9\\-]+',
      'https?:\\/\\/(?:0[0-9]{1,11}\\.){3}0[0-9]{1,11}',
      '-(W|R)\\s?(\\s|"|\')([0-9a-fA-F]{2}\\s?){2,20}(\\s|"|\')',
      '\\{(?=(?:[^{}]|\\{(?:[^{}]|\\{[^{}]*\\})*\\})*"Effect"\\s*:\\s*"Allow")',
      '\\b(\\d{12})\\b[\\s\\S]*\\b(?!\\1\\b)\\d{12}\\b',
      '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
      '(?:\\{\\d\\}){1,}',
      '[\\]\\[(){}]+',
      'https?:\\/\\/(?:(?:25[0-5]|(?:2[0-4]|1\\d|[1-9])?\\d)(?:\\.|\\b)){4}',
    ]) {
      expect(regexHazard(p), p).toBeUndefined();
    }
  });
});
