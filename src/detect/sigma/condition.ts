/**
 * Sigma condition parser → AST. Precedence, least to most binding: or, and, not, `x of`,
 * parentheses (rules specification v2.1, "Condition").
 */

export type Cond =
  | { t: 'id'; name: string; offset: number }
  | { t: 'and'; items: Cond[] }
  | { t: 'or'; items: Cond[] }
  | { t: 'not'; item: Cond }
  | { t: 'of'; quant: 'all' | number; pattern: string; offset: number };

export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

interface Tok {
  v: string;
  offset: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(\(|\)|[^\s()]+)/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < src.length && (m = re.exec(src)) !== null) {
    out.push({ v: m[1]!, offset: m.index + m[0].length - m[1]!.length });
  }
  if (src.slice(re.lastIndex).trim() !== '') throw new ConditionError('unexpected text', re.lastIndex);
  return out;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', '(', ')']);

export function parseCondition(src: string): Cond {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const low = (t: Tok | undefined): string | undefined => t?.v.toLowerCase();
  const end = (): number => (toks.length ? toks[toks.length - 1]!.offset + toks[toks.length - 1]!.v.length : 0);

  const parseOr = (): Cond => {
    const items = [parseAnd()];
    while (low(peek()) === 'or') {
      i++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { t: 'or', items };
  };
  const parseAnd = (): Cond => {
    const items = [parseNot()];
    while (low(peek()) === 'and') {
      i++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { t: 'and', items };
  };
  const parseNot = (): Cond => {
    if (low(peek()) === 'not') {
      i++;
      return { t: 'not', item: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): Cond => {
    const tok = peek();
    if (!tok) throw new ConditionError('expression expected at end of condition', end());
    const v = tok.v.toLowerCase();
    if (tok.v === '(') {
      i++;
      const inner = parseOr();
      const close = peek();
      if (close?.v !== ')') throw new ConditionError("')' expected", close?.offset ?? end());
      i++;
      return inner;
    }
    const next = low(toks[i + 1]);
    if ((v === 'all' || /^\d+$/.test(v)) && next === 'of') {
      const target = toks[i + 2];
      if (!target || KEYWORDS.has(target.v.toLowerCase())) {
        throw new ConditionError(`search identifier pattern or 'them' expected after '${tok.v} of'`, target?.offset ?? end());
      }
      i += 3;
      const quant = v === 'all' ? 'all' : Number(v);
      if (quant === 0) throw new ConditionError("'0 of' never matches", tok.offset);
      return { t: 'of', quant, pattern: target.v, offset: target.offset };
    }
    if (KEYWORDS.has(v)) throw new ConditionError(`unexpected '${tok.v}'`, tok.offset);
    i++;
    return { t: 'id', name: tok.v, offset: tok.offset };
  };

  if (toks.length === 0) throw new ConditionError('condition is empty', 0);
  const ast = parseOr();
  const rest = peek();
  if (rest) throw new ConditionError(`unexpected '${rest.v}'`, rest.offset);
  return ast;
}

/** Search identifiers an `x of pattern` refers to (`them` = all not starting with `_`). */
export function expandPattern(pattern: string, names: readonly string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  if (!pattern.includes('*')) return names.filter((n) => n === pattern);
  // Without a RegExp per pattern (one per rule of SigmaHQ's `1 of selection_*` was a tenth of checking a rule).
  const parts = pattern.split('*');
  return names.filter((n) => globMatch(parts, n));
}

/** A line terminator, which a `*` of a pattern (`.` in the regex it stood for) does not match. */
const LINE_END = /[\n\r\u2028\u2029]/;

/** Whether `s` is `parts` joined by runs of any characters but line terminators (`*`), whole. */
export function globMatch(parts: readonly string[], s: string): boolean {
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  const end = s.length - last.length;
  // Leftmost placement of each middle part leaves the most room for the rest: enough for `*` alone.
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const j = s.indexOf(p, at);
    if (j < 0 || j + p.length > end) return false;
    at = j + p.length;
  }
  // What the stars stand for holds no line end (a condition's token, so the middle parts, has no whitespace).
  return !LINE_END.test(s.slice(first.length, end));
}
