/**
 * The longest run of literal text every match of a regular expression must contain, so a `|re`
 * value can be rejected with one `includes` before the regex runs (`.+:assumed-role/aws:.+` on
 * every CloudTrail ARN costs microseconds; the substring test costs nanoseconds).
 *
 * Read from the pattern's syntax tree (src/core/js-regex.ts, shared with the hunting compiler), and
 * conservative by construction: only characters, exact repetitions of a character and groups of one
 * alternative extend a run; anything else (classes, sets, assertions, alternation, optional or
 * repeated parts) ends it, and top-level alternation gives up. So a returned literal is always
 * necessary. A wrong "necessary" literal would hide matches, hence the tests.
 */
import { JsRegexSyntaxError, parseJsRegex } from '../../core/js-regex.ts';
import type { AST } from '../../core/js-regex.ts';

export interface RegexLiteral {
  /** Text that occurs in every matching string (lowercase when `folded`). */
  text: string;
  /** The regex ignores case: compare against the lowercase value. */
  folded: boolean;
}

const MIN_LENGTH = 3;
const MAX_REPEAT = 64;

export function regexLiteral(re: RegExp, minLength = MIN_LENGTH): RegexLiteral | undefined {
  if (re.unicode || re.flags.includes('v') || re.sticky || re.global) return undefined;
  let pattern: AST.Pattern;
  try {
    pattern = parseJsRegex(re.source, re.flags);
  } catch (e) {
    if (e instanceof JsRegexSyntaxError) return undefined;
    throw e;
  }
  if (pattern.alternatives.length !== 1) return undefined;
  const runs: string[] = [];
  let cur = '';
  const end = (): void => {
    if (cur) runs.push(cur);
    cur = '';
  };
  const walk = (elements: readonly AST.Element[]): void => {
    for (const el of elements) {
      if (el.type === 'Character') cur += String.fromCharCode(el.value);
      else if (el.type === 'Quantifier' && el.element.type === 'Character') {
        // x{n} is n x's in a row; x{n,m} needs n of them, but what follows may come after more.
        // A huge count is cut to MAX_REPEAT, and a cut run ends there (its tail is not adjacent).
        cur += String.fromCharCode(el.element.value).repeat(Math.min(el.min, MAX_REPEAT));
        if (el.max !== el.min || el.min > MAX_REPEAT) end();
      } else if ((el.type === 'Group' || el.type === 'CapturingGroup') && el.alternatives.length === 1) {
        walk(el.alternatives[0]!.elements);
      } else end();
    }
  };
  walk(pattern.alternatives[0]!.elements);
  end();
  let best = '';
  for (const r of runs) if (r.length > best.length) best = r;
  if (best.length < minLength || best.length === 0) return undefined;
  if (re.ignoreCase) {
    // Under /i (non-unicode) an ASCII pattern char only matches ASCII chars that fold to it.
    // eslint-disable-next-line no-control-regex
    if (!/^[\x00-\x7f]*$/.test(best)) return undefined;
    return { text: best.toLowerCase(), folded: true };
  }
  return { text: best, folded: false };
}
