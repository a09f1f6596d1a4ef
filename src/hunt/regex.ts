/**
 * Lucene regular expressions (OpenSearch `regexp` queries) with the streaming engine's semantics:
 * a JavaScript `|re` pattern (searched anywhere in the value, flags i/m/s), a Sigma pattern under
 * `windash`, and an IPv4 CIDR range over the value's text. Lucene regexps are anchored, have no
 * `^`/`$`, look-arounds, word boundaries or back-references, and fold case for ASCII only (not in
 * character ranges), so case folding is spelled out as character classes here.
 */
import { ONE, STAR, normalizeDashes } from '../detect/sigma/modifiers.ts';
import type { Part } from '../detect/sigma/modifiers.ts';

export class Untranslatable extends Error {}

/** A Lucene regexp literal for one UTF-16 code unit. */
function lit(code: number): string {
  const ch = String.fromCharCode(code);
  if (/[A-Za-z0-9]/.test(ch) || code >= 0x80) return ch;
  return '\\' + ch;
}

type Range = [number, number];

function classText(ranges: Range[], negate: boolean): string {
  const merged = mergeRanges(ranges);
  if (merged.length === 0) {
    if (negate) return '.';
    throw new Untranslatable('empty character class');
  }
  return '[' + (negate ? '^' : '') + merged.map(([a, b]) => (a === b ? lit(a) : `${lit(a)}-${lit(b)}`)).join('') + ']';
}

function mergeRanges(rs: Range[]): Range[] {
  const s = [...rs].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Characters equal to `c` under `String.prototype.toLowerCase` (Sigma's case-insensitive match). */
export function lowerVariants(c: string): string[] {
  const out = new Set([c]);
  for (const v of [c.toUpperCase(), c.toLowerCase()]) if (v.length === 1 && v.toLowerCase() === c.toLowerCase()) out.add(v);
  return [...out];
}

/** Characters equal to `c` under JavaScript's non-unicode `i` flag (canonicalised with toUpperCase). */
function regexVariants(c: string): string[] {
  const canon = (x: string): string => {
    const u = x.toUpperCase();
    return u.length !== 1 || (x.charCodeAt(0) >= 128 && u.charCodeAt(0) < 128) ? x : u;
  };
  const out = new Set([c]);
  for (const v of [c.toUpperCase(), c.toLowerCase()]) if (v.length === 1 && canon(v) === canon(c)) out.add(v);
  return [...out];
}

function foldChar(c: string, variants: (c: string) => string[]): string {
  const vs = variants(c);
  if (vs.length === 1) return lit(c.charCodeAt(0));
  return classText(vs.map((v) => [v.charCodeAt(0), v.charCodeAt(0)] as Range), false);
}

function foldRanges(rs: Range[]): Range[] {
  const out: Range[] = [...rs];
  for (const [a, b] of rs) {
    if (b - a > 4096) {
      // Too wide to enumerate: fine only if it holds no cased character outside ASCII.
      if (b >= 0xb5) throw new Untranslatable('case-insensitive character range too wide to fold');
    }
    for (let c = a; c <= b; c++) {
      for (const v of regexVariants(String.fromCharCode(c))) out.push([v.charCodeAt(0), v.charCodeAt(0)]);
    }
  }
  return out;
}

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]];
const LINE_TERMINATORS: Range[] = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];

interface Item {
  kind: 'start' | 'end' | 'atom';
  text: string;
}

/**
 * Translates a JavaScript regex (as `toJsRegex` sees it: a leading `(?ims)` group becomes flags)
 * to a Lucene regexp matching the same whole values `RegExp.test` finds a match in.
 */
export function jsRegexToLucene(src: string, flags: string): string {
  let s = src;
  let f = flags;
  const m = /^\(\?([imsx]+)\)/.exec(s);
  if (m) {
    s = s.slice(m[0].length);
    for (const ch of m[1]!) if (!f.includes(ch)) f += ch;
  }
  if (f.includes('x')) throw new Untranslatable("the 'x' flag");
  const icase = f.includes('i');
  const dotAll = f.includes('s');
  const multiline = f.includes('m');
  let i = 0;

  const fold = (c: string): string => (icase ? foldChar(c, regexVariants) : lit(c.charCodeAt(0)));
  const cls = (rs: Range[], neg: boolean): string => classText(icase ? foldRanges(rs) : rs, neg);

  const parseEscapeInClass = (): Range[] => {
    const c = s[i++];
    if (c === undefined) throw new Untranslatable('trailing backslash');
    switch (c) {
      case 'd':
        return DIGIT;
      case 'w':
        return WORD;
      case 's':
        return SPACE;
      case 'D':
      case 'W':
      case 'S':
        throw new Untranslatable(`\\${c} inside a character class`);
      case 'b':
        return [[8, 8]];
      default: {
        const code = escapeCode(c);
        return [[code, code]];
      }
    }
  };

  const escapeCode = (c: string): number => {
    switch (c) {
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'v':
        return 11;
      case 'f':
        return 12;
      case '0':
        if (/[0-9]/.test(s[i] ?? '')) throw new Untranslatable('octal escape');
        return 0;
      case 'x': {
        const h = s.slice(i, i + 2);
        if (/^[0-9a-fA-F]{2}$/.test(h)) {
          i += 2;
          return parseInt(h, 16);
        }
        return 'x'.charCodeAt(0);
      }
      case 'u': {
        const h = s.slice(i, i + 4);
        if (/^[0-9a-fA-F]{4}$/.test(h)) {
          i += 4;
          return parseInt(h, 16);
        }
        return 'u'.charCodeAt(0);
      }
      case 'c': {
        const l = s[i];
        if (l && /[A-Za-z]/.test(l)) {
          i++;
          return l.charCodeAt(0) % 32;
        }
        throw new Untranslatable('\\c escape');
      }
      default:
        if (/[1-9]/.test(c)) throw new Untranslatable('back-reference');
        if (c === 'k') throw new Untranslatable('named back-reference');
        return c.charCodeAt(0);
    }
  };

  const parseClass = (): string => {
    // after '['
    let neg = false;
    if (s[i] === '^') {
      neg = true;
      i++;
    }
    const rs: Range[] = [];
    let first = true;
    while (i < s.length && (s[i] !== ']' || false)) {
      first = false;
      let lo: Range[];
      if (s[i] === '\\') {
        i++;
        lo = parseEscapeInClass();
      } else {
        const code = s.charCodeAt(i++);
        lo = [[code, code]];
      }
      if (s[i] === '-' && s[i + 1] !== ']' && s[i + 1] !== undefined && lo.length === 1 && lo[0]![0] === lo[0]![1]) {
        i++;
        let hi: Range[];
        if (s[i] === '\\') {
          i++;
          hi = parseEscapeInClass();
        } else {
          const code = s.charCodeAt(i++);
          hi = [[code, code]];
        }
        if (hi.length !== 1 || hi[0]![0] !== hi[0]![1]) {
          rs.push(...lo, [45, 45], ...hi);
        } else {
          if (hi[0]![0] < lo[0]![0]) throw new Untranslatable('range out of order');
          rs.push([lo[0]![0], hi[0]![0]]);
        }
      } else rs.push(...lo);
    }
    void first;
    if (s[i] !== ']') throw new Untranslatable('unterminated character class');
    i++;
    if (rs.length === 0) {
      if (neg) return '.';
      throw new Untranslatable('empty character class');
    }
    return cls(rs, neg);
  };

  const parseAtomEscape = (): string => {
    const c = s[i++];
    if (c === undefined) throw new Untranslatable('trailing backslash');
    switch (c) {
      case 'd':
        return cls(DIGIT, false);
      case 'D':
        return cls(DIGIT, true);
      case 'w':
        return cls(WORD, false);
      case 'W':
        return icase ? cls(foldRanges(WORD), true) : cls(WORD, true);
      case 's':
        return cls(SPACE, false);
      case 'S':
        return cls(SPACE, true);
      case 'b':
      case 'B':
        throw new Untranslatable('word boundary');
      default:
        return fold(String.fromCharCode(escapeCode(c)));
    }
  };

  const quantifier = (): string => {
    const c = s[i];
    let q = '';
    if (c === '*' || c === '+' || c === '?') {
      q = c;
      i++;
    } else if (c === '{') {
      const mm = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i));
      if (!mm) return '';
      q = mm[0];
      i += mm[0].length;
    } else return '';
    if (s[i] === '?') i++; // lazy: same set of matching values
    return q;
  };

  const parseDisj = (depth: number): Item[][] => {
    const alts: Item[][] = [[]];
    while (i < s.length) {
      const c = s[i]!;
      if (c === ')') {
        if (depth === 0) throw new Untranslatable('unbalanced parenthesis');
        break;
      }
      if (c === '|') {
        i++;
        alts.push([]);
        continue;
      }
      const seq = alts[alts.length - 1]!;
      if (c === '^' || c === '$') {
        i++;
        seq.push({ kind: c === '^' ? 'start' : 'end', text: '' });
        continue;
      }
      let atom: string;
      if (c === '(') {
        i++;
        if (s.startsWith('?:', i)) i += 2;
        else if (s.startsWith('?=', i) || s.startsWith('?!', i) || s.startsWith('?<=', i) || s.startsWith('?<!', i)) throw new Untranslatable('look-around');
        else if (s[i] === '?') {
          const nm = /^\?<[A-Za-z_$][\w$]*>/.exec(s.slice(i));
          if (!nm) throw new Untranslatable('group syntax');
          i += nm[0].length;
        }
        const inner = parseDisj(depth + 1);
        if (s[i] !== ')') throw new Untranslatable('unbalanced parenthesis');
        i++;
        atom = '(' + inner.map((alt) => {
          if (alt.some((x) => x.kind !== 'atom')) throw new Untranslatable('anchor inside a group');
          if (alt.length === 0) throw new Untranslatable('empty alternative');
          return alt.map((x) => x.text).join('');
        }).join('|') + ')';
      } else if (c === '[') {
        i++;
        atom = parseClass();
      } else if (c === '.') {
        i++;
        atom = dotAll ? '.' : classText(LINE_TERMINATORS, true);
      } else if (c === '\\') {
        i++;
        atom = parseAtomEscape();
      } else if (c === '*' || c === '+' || c === '?') {
        throw new Untranslatable('nothing to repeat');
      } else {
        i++;
        atom = fold(c);
      }
      const q = quantifier();
      seq.push({ kind: 'atom', text: q ? (atom.length > 1 && !atom.startsWith('(') && !atom.startsWith('[') && atom !== '.' && !atom.startsWith('\\') ? `(${atom})${q}` : `${atom}${q}`) : atom });
    }
    return alts;
  };

  const alts = parseDisj(0);
  if (i !== s.length) throw new Untranslatable('unbalanced parenthesis');
  const out: string[] = [];
  for (const alt of alts) {
    let k = 0;
    let anchoredStart = false;
    while (alt[k]?.kind === 'start') {
      anchoredStart = true;
      k++;
    }
    let e = alt.length;
    let anchoredEnd = false;
    while (e > k && alt[e - 1]!.kind === 'end') {
      anchoredEnd = true;
      e--;
    }
    const body = alt.slice(k, e);
    if (body.some((x) => x.kind !== 'atom')) throw new Untranslatable('anchor in the middle of a pattern');
    if (multiline && (anchoredStart || anchoredEnd)) throw new Untranslatable("anchors with the 'm' flag");
    const text = body.map((x) => x.text).join('');
    out.push((anchoredStart ? '' : '.*') + (text === '' ? '' : `(${text})`) + (anchoredEnd ? '' : '.*'));
  }
  return out.length === 1 ? out[0]! : out.map((x) => `(${x === '' ? '()' : x})`).join('|');
}

/**
 * A Sigma pattern under `windash` (the engine lowercases unless `cased`, then treats `-`, `/`, en
 * dash, em dash and horizontal bar as one character) as a whole-value Lucene regexp.
 */
export function windashToLucene(parts: readonly Part[], cased: boolean): string {
  const dashes = classText(['-', '/', '\u2013', '\u2014', '\u2015'].map((d) => [d.charCodeAt(0), d.charCodeAt(0)] as Range), false);
  let out = '';
  for (const p of parts) {
    if (p === STAR) out += '.*';
    else if (p === ONE) out += '.';
    else {
      const norm = normalizeDashes(cased ? p : p.toLowerCase());
      for (const c of norm) {
        if (c.length !== 1) throw new Untranslatable('character outside the basic multilingual plane');
        if (c === '-') out += dashes;
        else out += cased ? lit(c.charCodeAt(0)) : foldChar(c, lowerVariants);
      }
    }
  }
  return out;
}

/** Whole-value regexp for texts `parseAddress` (src/core/ip.ts) reads as an IPv4 address inside `net/bits`. */
export function ipv4CidrToLucene(octets: number[], bits: number): string {
  // parseAddress trims JavaScript whitespace, takes 1-3 digit octets (leading zeros allowed) and reads an
  // IPv4-mapped IPv6 address as the IPv4 one: the dotted mapped forms (`::ffff:a.b.c.d`, `0:0:0:0:0:ffff:a.b.c.d`)
  // are matched here; the hex-tail form (`::ffff:a01:203`), which no AWS or Kubernetes log writes, is not.
  const ws = classText(SPACE, false) + '*';
  const ffff = '[fF][fF][fF][fF]:';
  const mappedPrefix = `(::${ffff}|0:0:0:0:0:${ffff})?`;
  const octet = (lo: number, hi: number): string => {
    const alts: string[] = [];
    for (let v = lo; v <= hi; v++) {
      const t = String(v);
      alts.push(t.length === 3 ? t : t.length === 2 ? `0?${t}` : `(0?0?)${t}`);
    }
    return alts.length === 256 ? '([0-9]|[0-9][0-9]|[01][0-9][0-9]|2[0-4][0-9]|25[0-5])' : `(${alts.join('|')})`;
  };
  const parts: string[] = [];
  let left = bits;
  for (let k = 0; k < 4; k++, left -= 8) {
    const o = octets[k]!;
    if (left >= 8) parts.push(octet(o, o));
    else if (left <= 0) parts.push(octet(0, 255));
    else {
      const mask = (0xff << (8 - left)) & 0xff;
      const base = o & mask;
      parts.push(octet(base, base + (0xff & ~mask)));
    }
  }
  return ws + mappedPrefix + parts.join('\\.') + ws;
}
