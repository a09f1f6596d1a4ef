/**
 * The longest run of literal text every match of a regular expression must contain, so a `|re`
 * value can be rejected with one `includes` before the regex runs (`.+:assumed-role/aws:.+` on
 * every CloudTrail ARN costs microseconds; the substring test costs nanoseconds).
 *
 * Conservative by construction: anything not understood (top-level alternation, escapes other than
 * punctuation, groups, classes, quantifiers that allow zero) ends a run or gives up, so a returned
 * literal is always necessary. A wrong "necessary" literal would hide matches, hence the tests.
 */

export interface RegexLiteral {
  /** Text that occurs in every matching string (lowercase when `folded`). */
  text: string;
  /** The regex ignores case: compare against the lowercase value. */
  folded: boolean;
}

const MIN_LENGTH = 3;

export function regexLiteral(re: RegExp, minLength = MIN_LENGTH): RegexLiteral | undefined {
  if (re.unicode || re.flags.includes('v') || re.sticky || re.global) return undefined;
  const src = re.source;
  const runs: string[] = [];
  let cur = '';
  /** Whether the atom just read is the last character of `cur` (so a quantifier applies to it). */
  let lastLit = false;
  const end = (): void => {
    if (cur) runs.push(cur);
    cur = '';
    lastLit = false;
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '|') return undefined;
    if (ch === '\\') {
      const n = src[i + 1];
      if (n === undefined) return undefined;
      if (/[A-Za-z0-9]/.test(n)) {
        // \d, \b, \x41, \u0041, \cJ, \k<name>, \1...: not literal; skip what may belong to it.
        end();
        i += 2;
        while (i < src.length && /[A-Za-z0-9_{}<>,]/.test(src[i]!)) i++;
        continue;
      }
      cur += n;
      lastLit = true;
      i += 2;
      continue;
    }
    if (ch === '[') {
      end();
      i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      if (i >= src.length) return undefined;
      i++;
      continue;
    }
    if (ch === '(') {
      end();
      let depth = 0;
      while (i < src.length) {
        const c = src[i]!;
        if (c === '\\') {
          i += 2;
          continue;
        }
        if (c === '[') {
          i++;
          while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
        } else if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
        i++;
      }
      if (i >= src.length) return undefined;
      i++;
      continue;
    }
    if (ch === '*' || ch === '?' || ch === '+' || ch === '{') {
      let j = i + 1;
      let minZero = ch !== '+';
      if (ch === '{') {
        const m = /^\{(\d+)(,\d*)?\}/.exec(src.slice(i));
        if (!m) return undefined; // a literal brace in non-unicode mode: not worth the risk
        minZero = Number(m[1]) === 0;
        j = i + m[0].length;
        if (!minZero && Number(m[1]) >= 1 && lastLit) {
          // x{2,}: x is required at least once; what follows is not adjacent to the run.
          runs.push(cur);
          cur = '';
        }
      }
      if (lastLit && minZero) {
        cur = cur.slice(0, -1);
        end();
      } else if (lastLit && ch === '+') {
        end();
      } else end();
      if (src[j] === '?') j++; // lazy
      i = j;
      continue;
    }
    if (ch === '.' || ch === '^' || ch === '$' || ch === ')' || ch === ']' || ch === '}') {
      if (ch === ')') return undefined;
      end();
      i++;
      continue;
    }
    cur += ch;
    lastLit = true;
    i++;
  }
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
