/**
 * A fast reader for the plain block YAML that Sigma rules are written in (ADR 0017): block maps and
 * lists, plain and quoted scalars on one line, plain scalars folded over more-indented lines, `|`/`>`
 * block scalars, plain or quoted (escape-free) keys, empty values, comments and `---` separators. It gives
 * exactly what readYaml (the `yaml` package) gives, positions included, or `undefined` for anything
 * else: anchors, aliases, tags, flow collections, multi-line quoted scalars, folded plain scalars with
 * blank lines, comments or `: ` inside, keys that are not strings, duplicate keys, numbers other than
 * decimal integers, tabs outside comment lines, any error. The caller then parses the text with the `yaml`
 * package, which reports problems with their positions. Parsing SigmaHQ's 3,140 rule files with `yaml`
 * took ~1.4 s of CPU, most of a cold start; this takes a tenth, and reads every one of them (the few it
 * left to `yaml` cost ~0.1 s more on a cold start, the `yaml` parser's code running for the first time).
 * yaml-fast.test.ts compares both on every rule file of SigmaHQ and of Seam.
 */
import type { Pos, ReadDoc, YEntry, YNode } from './read.ts';

class Unsupported extends Error {}
const NO = new Unsupported();

interface Line {
  /** Offset of the line's first character. */
  start: number;
  /** Offset of the line's end (its '\n' or the text's end). */
  end: number;
  /** Spaces before the first other character. */
  indent: number;
  /** Blank, or a comment only: not structure. */
  skip: boolean;
}

const INDICATORS = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);
const NULLS = new Set(['~', 'null', 'Null', 'NULL']);
const BOOLS = new Map<string, boolean>([['true', true], ['True', true], ['TRUE', true], ['false', false], ['False', false], ['FALSE', false]]);
/** Whether the core schema reads a plain word as null or a boolean (`~`, `null`, `True`...: at most 5 characters). */
const typedWord = (s: string): boolean => s.length <= 5 && (NULLS.has(s) || BOOLS.has(s));
/** Decimal integers the core schema reads as numbers (`007` is 7, `+5` is 5), at most 15 digits: exact as doubles. */
const INT = /^[-+]?[0-9]{1,15}$/;
/** Plain scalars the core schema reads as something other than a string or a plain integer. */
const OTHER_TYPED = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

const MAX_NODES = 50_000;

export function readYamlFast(text: string): ReadDoc[] | undefined {
  try {
    return new Reader(text).docs();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

class Reader {
  private readonly lines: Line[] = [];
  private li = 0;
  private nodes = 0;

  constructor(private readonly text: string) {
    // Carriage returns and a byte-order mark are left to the full parser, and tabs but in comment lines.
    if (/[\r\uFEFF]/.test(text)) throw NO;
    let tab = text.indexOf('\t');
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let i = start;
      while (i < end && text.charCodeAt(i) === 32) i++;
      const skip = i === end || text.charCodeAt(i) === 35; /* # */
      // A tab after a line's leading '#' is comment text (or, in a block scalar, content kept as it is).
      while (tab >= 0 && tab < start) tab = text.indexOf('\t', tab + 1);
      if (tab >= 0 && tab < end && (i === end || text.charCodeAt(i) !== 35)) throw NO;
      this.lines.push({ start, end, indent: i - start, skip });
      if (end === text.length) break;
      start = end + 1;
    }
  }

  /** Line and column (1-based) of an offset on line `li`. */
  private pos(li: number, offset: number): Pos {
    return { line: li + 1, column: offset - this.lines[li]!.start + 1 };
  }

  private count(): void {
    if (++this.nodes > MAX_NODES) throw NO;
  }

  /** The next structural line from `li` on (skipping blanks and comments), or undefined at the end. */
  private next(): number | undefined {
    while (this.li < this.lines.length && this.lines[this.li]!.skip) this.li++;
    return this.li < this.lines.length ? this.li : undefined;
  }

  private isMarker(li: number): boolean {
    const l = this.lines[li]!;
    if (l.indent !== 0) return false;
    const s = this.text.slice(l.start, l.end);
    if (s.startsWith('%') || s.startsWith('...')) throw NO;
    if (!s.startsWith('---')) return false;
    if (s.length === 3) return true;
    // `--- content` or `---x`: not a plain separator.
    throw NO;
  }

  docs(): ReadDoc[] {
    const out: ReadDoc[] = [];
    for (;;) {
      const li = this.next();
      if (li === undefined) break;
      if (this.isMarker(li)) {
        this.li++;
        // `---` with nothing after it is an empty document to `yaml` (a null scalar), not no document.
        const n = this.next();
        if (n === undefined || this.isMarker(n)) throw NO;
        continue;
      }
      const l = this.lines[li]!;
      if (l.indent !== 0) throw NO;
      const node = this.block(0, li);
      out.push({ node, js: undefined, pos: node.pos });
      // Anything after the document's top node must be a separator.
      const after = this.next();
      if (after !== undefined && !this.isMarker(after)) throw NO;
    }
    for (const d of out) if (d.node.kind === 'map' && d.node.entries.some((e) => e.key === 'correlation')) d.js = toPlain(d.node);
    return out;
  }

  /** A block node whose first line is `li`, indented `indent`. */
  private block(indent: number, li: number): YNode {
    const l = this.lines[li]!;
    const c = this.text.charCodeAt(l.start + l.indent);
    if (c === 45 /* - */ && this.dashItem(l.start + l.indent, l.end)) return this.seq(indent);
    return this.map(indent, l.start + l.indent);
  }

  /** Whether the '-' at `at` starts a list item ('-' then a space or the line's end). */
  private dashItem(at: number, end: number): boolean {
    return at + 1 === end || this.text.charCodeAt(at + 1) === 32;
  }

  /**
   * Where the key of a `key: value` line ends (the ':' offset), or -1 when the content from `from` is not
   * a plain key. Throws for what is neither a plain key nor a plain scalar.
   */
  private keyEnd(from: number, end: number): number {
    // Searched with indexOf on the line rather than char by char: on a cold start this code runs a few
    // hundred thousand times before V8 optimizes it, and the builtin needs no warming up.
    const line = this.text.slice(from, end);
    const hash = line.indexOf(' #');
    const limit = hash >= 0 ? hash + 1 : line.length;
    for (let i = line.indexOf(':'); i >= 0 && i < limit; i = line.indexOf(':', i + 1)) {
      if (i + 1 === line.length || line.charCodeAt(i + 1) === 32) return from + i;
    }
    return -1;
  }

  private map(indent: number, firstAt: number): YNode {
    const entries: YEntry[] = [];
    const seen = new Set<string>();
    let pos: Pos | undefined;
    let at = firstAt;
    this.count();
    for (;;) {
      const li = this.li;
      const l = this.lines[li]!;
      const first = this.text.charAt(at);
      let k: number;
      let key: string;
      if (first === "'" || first === '"') {
        // A quoted key (`'|all': ...`): always a string; the ':' right after its closing quote.
        const q = this.quotedKey(at, l.end);
        key = q.key;
        k = q.colon;
      } else {
        k = this.keyEnd(at, l.end);
        if (k < 0) throw NO;
        if (INDICATORS.has(first)) throw NO;
        key = this.text.slice(at, trimEnd(this.text, at, k));
        const c0 = key.charCodeAt(0);
        // Keys the core schema would type (numbers, null, booleans) are left to the full parser.
        if (key === '' || (c0 >= 48 && c0 <= 57) || c0 === 43 || c0 === 46 || (c0 === 45 && key.length > 1) || typedWord(key)) throw NO;
      }
      if (seen.has(key)) throw NO;
      seen.add(key);
      const keyPos = this.pos(li, at);
      pos ??= keyPos;
      this.count();
      // The value: on this line, or the block below.
      let v = k + 1;
      while (v < l.end && this.text.charCodeAt(v) === 32) v++;
      let value: YNode;
      if (v === l.end || this.text.charCodeAt(v) === 35) {
        this.li = li + 1;
        const n = this.next();
        const nl = n === undefined ? undefined : this.lines[n]!;
        if (nl !== undefined && nl.indent > indent) {
          if (this.isMarkerSafe(n!)) throw NO;
          value = this.block(nl.indent, n!);
        } else if (nl !== undefined && nl.indent === indent && this.text.charCodeAt(nl.start + nl.indent) === 45 && this.dashItem(nl.start + nl.indent, nl.end)) {
          value = this.seq(indent);
        } else {
          // An empty value (`filter: ` then a sibling, a parent's key or the end): null, where its comment or its line's end is.
          this.count();
          value = { kind: 'scalar', pos: this.pos(li, v), value: null, text: '' };
        }
      } else {
        value = this.inline(li, v, indent);
      }
      entries.push({ key, keyPos, value });
      const n = this.next();
      if (n === undefined) break;
      const nl = this.lines[n]!;
      if (nl.indent < indent) break;
      if (nl.indent > indent) throw NO;
      if (this.isMarkerSafe(n)) break;
      at = nl.start + nl.indent;
      if (this.text.charCodeAt(at) === 45 && this.dashItem(at, nl.end)) break;
    }
    return { kind: 'map', pos: pos!, entries };
  }

  /** A quoted key from `at` (its quote): its text, and the offset of the ':' that must follow the closing quote. */
  private quotedKey(at: number, end: number): { key: string; colon: number } {
    const t = this.text;
    const quote = t.charCodeAt(at);
    let key = '';
    let from = at + 1;
    for (;;) {
      const q = t.indexOf(quote === 39 ? "'" : '"', from);
      if (q < 0 || q >= end) throw NO;
      const part = t.slice(from, q);
      // Escapes in a double-quoted key are left to the full parser.
      if (quote === 34 && part.includes('\\')) throw NO;
      key += part;
      if (quote === 39 && t.charCodeAt(q + 1) === 39) {
        key += "'";
        from = q + 2;
        continue;
      }
      const colon = q + 1;
      if (key === '' || t.charCodeAt(colon) !== 58 || !(colon + 1 === end || t.charCodeAt(colon + 1) === 32)) throw NO;
      return { key, colon };
    }
  }

  private isMarkerSafe(li: number): boolean {
    const l = this.lines[li]!;
    return l.indent === 0 && this.text.startsWith('---', l.start) && (l.end - l.start === 3 || this.text.charCodeAt(l.start + 3) === 32);
  }

  private seq(indent: number): YNode {
    const items: YNode[] = [];
    let pos: Pos | undefined;
    this.count();
    for (;;) {
      const li = this.li;
      const l = this.lines[li]!;
      const dash = l.start + l.indent;
      pos ??= this.pos(li, dash);
      let v = dash + 1;
      while (v < l.end && this.text.charCodeAt(v) === 32) v++;
      if (v === l.end || this.text.charCodeAt(v) === 35) {
        this.li = li + 1;
        const n = this.next();
        if (n === undefined || this.lines[n]!.indent <= indent) throw NO; // an empty item
        items.push(this.block(this.lines[n]!.indent, n));
      } else if (this.text.charCodeAt(v) === 45 && this.dashItem(v, l.end)) {
        throw NO; // `- - x`
      } else if (!INDICATORS.has(this.text.charAt(v)) && this.keyEnd(v, l.end) >= 0) {
        // `- key: value`: a map indented at its first key.
        items.push(this.map(v - l.start, v));
      } else {
        items.push(this.inline(li, v, indent));
      }
      const n = this.next();
      if (n === undefined) break;
      const nl = this.lines[n]!;
      if (nl.indent < indent) break;
      if (nl.indent > indent) throw NO;
      const at = nl.start + nl.indent;
      if (!(this.text.charCodeAt(at) === 45 && this.dashItem(at, nl.end))) break;
      if (this.isMarkerSafe(n)) break;
    }
    return { kind: 'seq', pos: pos!, items };
  }

  /**
   * A scalar starting at offset `v` of line `li`, the value of a key or list item whose block is indented
   * `indent`. Leaves `li` after the scalar's last line.
   */
  private inline(li: number, v: number, indent: number): YNode {
    const t = this.text;
    const l = this.lines[li]!;
    const pos = this.pos(li, v);
    const ch = t.charAt(v);
    this.count();
    if (ch === "'" || ch === '"') {
      let value = '';
      let closed = -1;
      if (ch === "'") {
        // Runs between quotes; '' is one quote.
        let from = v + 1;
        for (;;) {
          const q = t.indexOf("'", from);
          if (q < 0 || q >= l.end) break;
          value += t.slice(from, q);
          if (t.charCodeAt(q + 1) === 39) {
            value += "'";
            from = q + 2;
            continue;
          }
          closed = q;
          break;
        }
      } else {
        const q = t.indexOf('"', v + 1);
        const bs = t.indexOf('\\', v + 1);
        if (q >= 0 && q < l.end && (bs < 0 || bs > q)) {
          value = t.slice(v + 1, q);
          closed = q;
        } else {
          for (let i = v + 1; i < l.end; i++) {
            const c = t.charAt(i);
            if (c === '"') {
              closed = i;
              break;
            }
            if (c === '\\') {
              const e = t.charAt(i + 1);
              const m = ESCAPES[e];
              if (m !== undefined) {
                value += m;
                i++;
                continue;
              }
              // \xXX, \uXXXX, \UXXXXXXXX: a code point, as `yaml` decodes it.
              const length = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
              const hex = t.slice(i + 2, i + 2 + length);
              if (length === 0 || i + 2 + length > l.end || !/^[0-9a-fA-F]+$/.test(hex)) throw NO;
              const code = parseInt(hex, 16);
              if (code > 0x10ffff) throw NO;
              value += String.fromCodePoint(code);
              i += 1 + length;
              continue;
            }
            value += c;
          }
        }
      }
      if (closed < 0) throw NO; // multi-line quoted scalar
      this.rest(li, closed + 1, l.end);
      this.li = li + 1;
      this.noContinuation(indent);
      return { kind: 'scalar', pos, value, text: value, quote: ch === "'" ? "'" : '"' };
    }
    if (ch === '|' || ch === '>') return this.blockScalar(li, v, indent, pos);
    if (INDICATORS.has(ch) && !((ch === '-' || ch === '?' || ch === ':') && v + 1 < l.end && t.charCodeAt(v + 1) !== 32)) throw NO;
    // A plain scalar: to a comment (' #') or the line's end; `a: b: c` is left to the full parser. (indexOf,
    // as in keyEnd; a '#' right at `v` was refused above.)
    let end = l.end;
    const line = t.slice(v, l.end);
    const hash = line.indexOf(' #');
    if (hash >= 0) end = v + hash + 1;
    const colon = line.indexOf(': ');
    if ((colon >= 0 && v + colon < end) || (end === l.end && t.charCodeAt(l.end - 1) === 58)) throw NO;
    let raw = t.slice(v, trimEnd(t, v, end));
    this.li = li + 1;
    // Lines right below indented more than the block continue it: folded, each trimmed, joined by a space.
    while (this.li < this.lines.length) {
      const cl = this.lines[this.li]!;
      if (cl.skip || cl.indent <= indent) break;
      if (end !== l.end) throw NO; // a comment, then more of the scalar: an error
      raw += ' ' + this.continuation(cl);
      this.li++;
    }
    this.noContinuation(indent);
    // Only short words can be null or a boolean: a Set lookup would hash every (long) value first.
    if (raw.length <= 5 && NULLS.has(raw)) return { kind: 'scalar', pos, value: null, text: raw };
    const b = raw.length <= 5 ? BOOLS.get(raw) : undefined;
    if (b !== undefined) return { kind: 'scalar', pos, value: b, text: raw };
    // Only text starting with a digit, a sign or a dot can be a number.
    const c0 = raw.charCodeAt(0);
    if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
      if (INT.test(raw)) return { kind: 'scalar', pos, value: parseInt(raw, 10), text: raw };
      if (OTHER_TYPED.test(raw)) throw NO;
    }
    return { kind: 'scalar', pos, value: raw, text: raw };
  }

  /** A plain scalar's continuation line, trimmed; what could be anything but more of the scalar is left to the full parser. */
  private continuation(cl: Line): string {
    const t = this.text;
    const from = cl.start + cl.indent;
    if (INDICATORS.has(t.charAt(from))) throw NO;
    for (let i = from; i < cl.end; i++) {
      const c = t.charCodeAt(i);
      if ((c === 35 && t.charCodeAt(i - 1) === 32) || (c === 58 && (i + 1 === cl.end || t.charCodeAt(i + 1) === 32))) throw NO;
    }
    return t.slice(from, trimEnd(t, from, cl.end));
  }

  /** After a closing quote: only spaces and a comment. */
  private rest(_li: number, from: number, end: number): void {
    let i = from;
    while (i < end && this.text.charCodeAt(i) === 32) i++;
    if (i < end && !(this.text.charCodeAt(i) === 35 && i > from)) throw NO;
  }

  /** A scalar's next line may not continue it (a multi-line plain scalar is left to the full parser). */
  private noContinuation(indent: number): void {
    const n = this.next();
    if (n !== undefined && this.lines[n]!.indent > indent) throw NO;
  }

  /** `|`, `|-`, `>` or `>-`, then lines indented more than `indent`. */
  private blockScalar(li: number, v: number, indent: number, pos: Pos): YNode {
    const t = this.text;
    const l = this.lines[li]!;
    const folded = t.charAt(v) === '>';
    let i = v + 1;
    let strip = false;
    if (t.charAt(i) === '-') {
      strip = true;
      i++;
    }
    this.rest(li, i, l.end);
    if (i < l.end && t.charCodeAt(i) !== 32) throw NO; // `|+`, `|2`...
    // Content lines: blank ones, or indented more than the parent; comments inside are content.
    let contentIndent = -1;
    const body: string[] = [];
    let k = li + 1;
    for (; k < this.lines.length; k++) {
      const cl = this.lines[k]!;
      const blank = cl.indent === cl.end - cl.start;
      if (blank) {
        body.push('');
        continue;
      }
      if (contentIndent < 0) {
        if (cl.indent <= indent) break;
        contentIndent = cl.indent;
      }
      if (cl.indent < contentIndent) {
        if (cl.indent > indent) throw NO; // less indented content
        break;
      }
      const line = t.slice(cl.start + contentIndent, cl.end);
      if (folded && cl.indent > contentIndent) throw NO; // more-indented lines of a folded scalar
      body.push(line);
    }
    if (contentIndent < 0) throw NO;
    // Trailing blank lines belong to no one (clip/strip); leading blank lines would matter: refuse them.
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    if (body[0] === '') throw NO;
    // A blank line with spaces beyond the content indent is content in the full parser.
    for (let j = li + 1; j < k; j++) {
      const cl = this.lines[j]!;
      if (cl.indent === cl.end - cl.start && cl.indent > 0) throw NO;
    }
    this.li = k;
    let value: string;
    if (!folded) value = body.join('\n');
    else {
      if (body.includes('')) throw NO;
      value = body.join(' ');
    }
    if (!strip) value += '\n';
    return { kind: 'scalar', pos, value, text: value };
  }
}

/** The end of `t` between `from` and `end` without trailing spaces. */
function trimEnd(t: string, from: number, end: number): number {
  while (end > from && t.charCodeAt(end - 1) === 32) end--;
  return end;
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

/** The plain JS value of a node (correlations are handed on as such). */
export function toPlain(n: YNode): unknown {
  if (n.kind === 'scalar') return n.value;
  if (n.kind === 'seq') return n.items.map(toPlain);
  const o: Record<string, unknown> = {};
  for (const e of n.entries) o[e.key] = toPlain(e.value);
  return o;
}
