/**
 * Static check of a rule regex for catastrophic (exponential) backtracking, at load (ADR 0010).
 * V8's irregexp backtracks, Node 20 has no linear-time engine built in, and RE2 bindings need a
 * native build, so a pattern that can backtrack exponentially is refused instead of run.
 *
 * Exponential backtracking needs a loop whose iterations can divide one piece of text in more than
 * one way: a repeated group that holds another repetition or an alternation (`(a+)+`, `(a|ab)*`,
 * `(.*\))+`). Inside such a loop every choice must be decided by the next character: alternatives
 * must start with different characters, and an inner repetition (or optional part) must not be able
 * to start with a character that may follow it (the loop's own start included). `(\s*\d{1,3}\s*,){2}`
 * and `(?:[^{}]|\{[^{}]*\})*` pass; `(a+)+$`, `(\w+\s?)+$` and `(a|a)*` do not. Loops that only nest
 * single characters (`.*foo.*bar`) stay polynomial and are allowed. The check is linear in the
 * pattern's length and conservative: it may refuse a pattern that is in fact safe, never the reverse
 * for the constructs it models (it treats back-references, lookarounds and classes it cannot read as
 * "any character").
 */

export interface RegexHazard {
  /** Offset in the pattern of the construct. */
  offset: number;
  message: string;
}

/** A set of characters: `chars`, or every character except `chars` (neg). */
interface CharSet {
  neg: boolean;
  chars: Set<string>;
}

const NONE: CharSet = { neg: false, chars: new Set() };
const ANY: CharSet = { neg: true, chars: new Set() };

function union(a: CharSet, b: CharSet): CharSet {
  if (!a.neg && !b.neg) return { neg: false, chars: new Set([...a.chars, ...b.chars]) };
  if (a.neg && b.neg) return { neg: true, chars: new Set([...a.chars].filter((c) => b.chars.has(c))) };
  const [p, n] = a.neg ? [b, a] : [a, b];
  return { neg: true, chars: new Set([...n.chars].filter((c) => !p.chars.has(c))) };
}

function overlaps(a: CharSet, b: CharSet): boolean {
  if (a.neg && b.neg) return true;
  if (!a.neg && !b.neg) {
    for (const c of a.chars) if (b.chars.has(c)) return true;
    return false;
  }
  const [p, n] = a.neg ? [b, a] : [a, b];
  for (const c of p.chars) if (!n.chars.has(c)) return true;
  return false;
}

const range = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) out.push(String.fromCharCode(c));
  return out;
};
const DIGITS = range('0', '9');
const WORD = [...DIGITS, ...range('a', 'z'), ...range('A', 'Z'), '_'];
const SPACE = [' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '\u2028', '\u2029', '\ufeff'];
const ESCAPE_CLASS: Record<string, CharSet> = {
  d: { neg: false, chars: new Set(DIGITS) },
  D: { neg: true, chars: new Set(DIGITS) },
  w: { neg: false, chars: new Set(WORD) },
  W: { neg: true, chars: new Set(WORD) },
  s: { neg: false, chars: new Set(SPACE) },
  S: { neg: true, chars: new Set(SPACE) },
};
const CONTROL: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', '0': '\0' };

type Node =
  | { t: 'char'; set: CharSet; at: number }
  | { t: 'empty'; at: number; inner?: Node }
  | { t: 'seq'; items: Node[]; at: number }
  | { t: 'alt'; branches: Node[]; at: number }
  | { t: 'rep'; node: Node; min: number; max: number; at: number };

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly fold: boolean,
  ) {}

  set(chars: string[], neg = false): CharSet {
    return { neg, chars: new Set(this.fold ? chars.flatMap((c) => [c.toLowerCase(), c.toUpperCase()]) : chars) };
  }

  alternation(): Node {
    const at = this.i;
    const branches = [this.sequence()];
    while (this.s[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0]! : { t: 'alt', branches, at };
  }

  sequence(): Node {
    const at = this.i;
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.quantified(this.atom()));
    return { t: 'seq', items, at };
  }

  /** One escape after the backslash at `this.i - 1`: a character (`ch`) or a class. */
  escape(): { set: CharSet; ch?: string } {
    const s = this.s;
    const d = s[this.i] ?? '';
    this.i++;
    const one = (ch: string): { set: CharSet; ch: string } => ({ set: this.set([ch]), ch });
    if (ESCAPE_CLASS[d] !== undefined) return { set: ESCAPE_CLASS[d]! };
    if (CONTROL[d] !== undefined) return one(CONTROL[d]!);
    if (d === 'x') {
      const code = parseInt(s.slice(this.i, this.i + 2), 16);
      this.i += 2;
      return Number.isNaN(code) ? { set: ANY } : one(String.fromCharCode(code));
    }
    if (d === 'u') {
      const braces = s[this.i] === '{';
      const end = braces ? s.indexOf('}', this.i) : this.i + 4;
      const code = parseInt(s.slice(braces ? this.i + 1 : this.i, end), 16);
      this.i = braces ? end + 1 : end;
      return Number.isNaN(code) || code > 0xffff ? { set: ANY } : one(String.fromCharCode(code));
    }
    if (d === 'p' || d === 'P') {
      if (s[this.i] === '{') this.i = s.indexOf('}', this.i) + 1;
      return { set: ANY };
    }
    if (d === 'k') {
      if (s[this.i] === '<') this.i = s.indexOf('>', this.i) + 1;
      return { set: ANY };
    }
    if (d === 'c') {
      this.i++;
      return { set: ANY };
    }
    if (/[1-9]/.test(d)) {
      // A back-reference: whatever the group matched; "any character" is the safe reading.
      while (/[0-9]/.test(s[this.i] ?? '')) this.i++;
      return { set: ANY };
    }
    return one(d);
  }

  charClass(): CharSet {
    const s = this.s;
    this.i++; // [
    const neg = s[this.i] === '^';
    if (neg) this.i++;
    let acc: CharSet = NONE;
    let first = true;
    while (this.i < s.length && (s[this.i] !== ']' || first)) {
      first = false;
      let lo: { set: CharSet; ch?: string };
      if (s[this.i] === '\\') {
        this.i++;
        lo = this.escape();
      } else {
        lo = { set: this.set([s[this.i]!]), ch: s[this.i]! };
        this.i++;
      }
      if (s[this.i] === '-' && s[this.i + 1] !== ']' && s[this.i + 1] !== undefined && lo.ch !== undefined) {
        this.i++;
        let hi: string | undefined;
        if (s[this.i] === '\\') {
          this.i++;
          hi = this.escape().ch;
        } else hi = s[this.i++];
        if (hi === undefined || hi.charCodeAt(0) - lo.ch.charCodeAt(0) > 512) acc = ANY;
        else acc = union(acc, this.set(range(lo.ch, hi)));
        continue;
      }
      acc = union(acc, lo.set);
    }
    this.i++; // ]
    return neg ? { neg: !acc.neg, chars: acc.chars } : acc;
  }

  atom(): Node {
    const s = this.s;
    const at = this.i;
    const c = s[this.i]!;
    if (c === '^' || c === '$') {
      this.i++;
      return { t: 'empty', at };
    }
    if (c === '.') {
      this.i++;
      return { t: 'char', set: ANY, at };
    }
    if (c === '[') return { t: 'char', set: this.charClass(), at };
    if (c === '\\') {
      this.i++;
      const d = s[this.i];
      if (d === 'b' || d === 'B') {
        this.i++;
        return { t: 'empty', at };
      }
      return { t: 'char', set: this.escape().set, at };
    }
    if (c === '(') {
      this.i++;
      let look = false;
      if (s[this.i] === '?') {
        const n = s[this.i + 1];
        if (n === ':') this.i += 2;
        else if (n === '=' || n === '!') {
          this.i += 2;
          look = true;
        } else if (n === '<' && (s[this.i + 2] === '=' || s[this.i + 2] === '!')) {
          this.i += 3;
          look = true;
        } else if (n === '<') this.i = s.indexOf('>', this.i) + 1;
        else this.i++;
      }
      const inner = this.alternation();
      if (s[this.i] === ')') this.i++;
      // A lookaround consumes nothing here; what it runs is checked on its own.
      return look ? { t: 'empty', at, inner } : inner.t === 'seq' ? { ...inner, at } : inner;
    }
    this.i++;
    return { t: 'char', set: this.set([c]), at };
  }

  quantified(n: Node): Node {
    const s = this.s;
    const q = s[this.i];
    let min: number;
    let max: number;
    if (q === '*' || q === '+' || q === '?') {
      this.i++;
      min = q === '+' ? 1 : 0;
      max = q === '?' ? 1 : Infinity;
    } else if (q === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i, this.i + 32));
      if (m === null) return n;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else return n;
    if (s[this.i] === '?' || s[this.i] === '+') this.i++;
    return { t: 'rep', node: n, min, max, at: n.at };
  }
}

function nullable(n: Node): boolean {
  switch (n.t) {
    case 'char':
      return false;
    case 'empty':
      return true;
    case 'seq':
      return n.items.every(nullable);
    case 'alt':
      return n.branches.some(nullable);
    case 'rep':
      return n.min === 0 || nullable(n.node);
  }
}

function first(n: Node): CharSet {
  switch (n.t) {
    case 'char':
      return n.set;
    case 'empty':
      return NONE;
    case 'seq': {
      let acc = NONE;
      for (const x of n.items) {
        acc = union(acc, first(x));
        if (!nullable(x)) break;
      }
      return acc;
    }
    case 'alt':
      return n.branches.reduce((acc, b) => union(acc, first(b)), NONE);
    case 'rep':
      return first(n.node);
  }
}

/** Holds a choice a loop could make ambiguously: a repetition, an optional part or an alternation. */
function hasChoice(n: Node): boolean {
  switch (n.t) {
    case 'char':
      return false;
    case 'empty':
      return false;
    case 'seq':
      return n.items.some(hasChoice);
    case 'alt':
      return true;
    case 'rep':
      return n.max > n.min || hasChoice(n.node);
  }
}

/** A loop that turns at most this often cannot backtrack exponentially in the input's length. */
const MAX_FREE_TURNS = 8;

class Checker {
  hazard: RegexHazard | undefined;

  fail(at: number, message: string): void {
    this.hazard ??= { offset: at, message };
  }

  /** `follow`: characters that may come right after `n`; `strict`: inside a loop that holds a choice. */
  walk(n: Node, follow: CharSet, strict: boolean): void {
    if (this.hazard !== undefined) return;
    switch (n.t) {
      case 'char':
        return;
      case 'empty':
        if (n.inner !== undefined) this.walk(n.inner, ANY, false);
        return;
      case 'seq': {
        let f = follow;
        for (let k = n.items.length - 1; k >= 0; k--) {
          const x = n.items[k]!;
          this.walk(x, f, strict);
          f = nullable(x) ? union(first(x), f) : first(x);
        }
        return;
      }
      case 'alt': {
        if (strict) {
          for (let a = 0; a < n.branches.length; a++) {
            for (let b = a + 1; b < n.branches.length; b++) {
              const fa = nullable(n.branches[a]!) ? union(first(n.branches[a]!), follow) : first(n.branches[a]!);
              const fb = nullable(n.branches[b]!) ? union(first(n.branches[b]!), follow) : first(n.branches[b]!);
              if (overlaps(fa, fb)) return this.fail(n.at, 'a repeated alternation has branches that can start alike (exponential backtracking)');
            }
          }
        }
        for (const b of n.branches) this.walk(b, follow, strict);
        return;
      }
      case 'rep': {
        const loops = n.max > 1;
        // What may follow the body: its own start (another turn) and, for a loop nested in a strict
        // one, what follows the loop. For the outermost such loop, leaving it costs a linear factor
        // at most, so what follows it outside does not count.
        const inner = loops ? union(first(n.node), strict ? follow : NONE) : follow;
        if (strict && n.max > n.min) {
          // Take another turn or leave: the next character must decide.
          if (nullable(n.node) && n.max > 1) return this.fail(n.at, 'a repetition inside a repeated group can match nothing (exponential backtracking)');
          if (overlaps(first(n.node), follow)) return this.fail(n.at, 'a repetition inside a repeated group can take or leave the same character (nested quantifiers backtrack exponentially)');
        }
        // A loop whose body holds a choice makes every choice inside it strict, unless it turns a
        // few times at most (`(...){4}`: choices^4 ways, however long the input).
        this.walk(n.node, inner, strict || (n.max > MAX_FREE_TURNS && hasChoice(n.node)));
        return;
      }
    }
  }
}

/** The first construct of `pattern` that can backtrack exponentially, or undefined when there is none. */
export function regexHazard(pattern: string, flags = ''): RegexHazard | undefined {
  const p = new Parser(pattern, flags.includes('i'));
  const parts: Node[] = [];
  while (p.i < pattern.length) {
    parts.push(p.alternation());
    if (pattern[p.i] === ')') p.i++; // an unbalanced ')' is the RegExp compiler's to report
  }
  const c = new Checker();
  for (const n of parts) c.walk(n, NONE, false);
  return c.hazard;
}
