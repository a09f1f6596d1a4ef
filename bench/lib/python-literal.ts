/**
 * Reads the literal test cases out of Python detection sources (pypanther's `RuleTest(name=..., expected_result=...,
 * log={...})`) without running Python: a small tokenizer for Python literals (strings with their prefixes and
 * escapes, implicit concatenation, numbers, True/False/None, dicts, lists, tuples, comments). Anything else (a
 * variable, a call such as `RuleMock(...)`) is skipped over, and a `log=` that is not a literal is reported as such.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

export class NotLiteral extends Error {}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

/** A cursor over Python source that reads one literal value at a time. */
export class PyReader {
  constructor(
    readonly src: string,
    public pos = 0,
  ) {}

  /** Skips blanks, line continuations and comments. */
  skip(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\\') this.pos++;
      else if (c === '#') while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      else break;
    }
  }

  peek(): string {
    this.skip();
    return this.src[this.pos] ?? '';
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) throw new NotLiteral(`expected '${ch}' at ${this.pos}`);
    this.pos++;
  }

  /** An identifier at the cursor, or undefined. */
  ident(): string | undefined {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos, this.pos + 200));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  private stringStart(): boolean {
    const m = /^([rRbBuUfF]{0,2})(['"])/.exec(this.src.slice(this.pos, this.pos + 4));
    return m !== null;
  }

  private readString(): string {
    const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(this.src.slice(this.pos, this.pos + 5))!;
    const raw = /r/i.test(m[1]!);
    const q = m[2]!;
    this.pos += m[0].length;
    let out = '';
    const s = this.src;
    for (;;) {
      if (this.pos >= s.length) throw new NotLiteral('unterminated string');
      if (s.startsWith(q, this.pos)) {
        this.pos += q.length;
        return out;
      }
      const c = s[this.pos]!;
      if (c === '\\') {
        const n = s[this.pos + 1] ?? '';
        if (raw) {
          out += c + n;
          this.pos += 2;
        } else if (n === 'u' || n === 'x') {
          const len = n === 'u' ? 4 : 2;
          out += String.fromCharCode(parseInt(s.slice(this.pos + 2, this.pos + 2 + len), 16));
          this.pos += 2 + len;
        } else {
          out += ESCAPES[n] ?? '\\' + n;
          this.pos += 2;
        }
      } else {
        if (c === '\n' && q.length === 1) throw new NotLiteral('newline in string');
        out += c;
        this.pos++;
      }
    }
  }

  /** One literal value; throws NotLiteral at anything that is not one. */
  value(): PyValue {
    const c = this.peek();
    if (c === '{') {
      this.pos++;
      const o: Record<string, PyValue> = {};
      while (this.peek() !== '}') {
        const k = this.value();
        this.expect(':');
        o[String(k)] = this.value();
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== '}') throw new NotLiteral(`expected , or } at ${this.pos}`);
      }
      this.pos++;
      return o;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      this.pos++;
      const a: PyValue[] = [];
      while (this.peek() !== close) {
        a.push(this.value());
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== close) throw new NotLiteral(`expected , or ${close} at ${this.pos}`);
      }
      this.pos++;
      return a;
    }
    if (this.stringStart()) {
      let s = this.readString();
      // Implicit concatenation: "a" "b" and strings split over lines inside parentheses.
      while ((this.skip(), this.stringStart())) s += this.readString();
      return s;
    }
    const num = /^-?(\d[\d_]*\.?[\d_]*(e[+-]?\d+)?|\.\d+)/i.exec(this.src.slice(this.pos, this.pos + 64));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0].replaceAll('_', ''));
    }
    const save = this.pos;
    const id = this.ident();
    if (id === 'True') return true;
    if (id === 'False') return false;
    if (id === 'None') return null;
    this.pos = save;
    throw new NotLiteral(`not a literal at ${this.pos}: ${this.src.slice(this.pos, this.pos + 40)}`);
  }

  /** Skips one expression of any kind up to the next ',' or closing bracket at its own depth. */
  skipExpression(): void {
    let depth = 0;
    while (this.pos < this.src.length) {
      this.skip();
      const c = this.src[this.pos]!;
      if (this.stringStart()) {
        this.readString();
        continue;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) return;
        depth--;
      } else if (c === ',' && depth === 0) return;
      this.pos++;
    }
  }
}

export interface PyTestCase {
  /** The `id = "..."` of the class the test belongs to (the last one before it in the file). */
  ruleId: string;
  name: string;
  expected: boolean | undefined;
  /** The `log=` literal, or undefined when it is not one (see `problem`). */
  log: PyValue | undefined;
  problem?: string;
}

/** Every `RuleTest(...)` call in a pypanther rule module, with its keyword arguments read as literals. */
export function pyRuleTests(src: string): PyTestCase[] {
  const out: PyTestCase[] = [];
  const ids = [...src.matchAll(/^\s+id\s*=\s*["']([^"']+)["']/gm)].map((m) => ({ at: m.index, id: m[1]! }));
  for (const m of src.matchAll(/\bRuleTest\(/g)) {
    const r = new PyReader(src, m.index + m[0].length);
    const tc: PyTestCase = { ruleId: ids.filter((x) => x.at < m.index).pop()?.id ?? '?', name: '?', expected: undefined, log: undefined };
    while (r.peek() !== ')' && r.pos < src.length) {
      const key = r.ident();
      if (key === undefined || r.peek() !== '=') {
        tc.problem = `unexpected text at ${r.pos}`;
        break;
      }
      r.pos++;
      const at = r.pos;
      try {
        const v = r.value();
        if (key === 'name') tc.name = String(v);
        else if (key === 'expected_result') tc.expected = v === true ? true : v === false ? false : undefined;
        else if (key === 'log') tc.log = v;
      } catch (e) {
        if (!(e instanceof NotLiteral)) throw e;
        r.pos = at;
        r.skipExpression();
        if (key === 'log') tc.problem = 'log is not a literal';
      }
      if (r.peek() === ',') r.pos++;
      else if (r.peek() !== ')') {
        tc.problem = `unexpected text at ${r.pos}`;
        break;
      }
    }
    out.push(tc);
  }
  return out;
}
