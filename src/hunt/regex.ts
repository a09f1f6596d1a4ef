/**
 * Lucene regular expressions (OpenSearch `regexp` queries) with the streaming engine's semantics:
 * a JavaScript `|re` pattern (searched anywhere in the value, flags i/m/s), a Sigma pattern under
 * `windash`, and an IPv4 CIDR range over the value's text. Lucene regexps are anchored, have no
 * `^`/`$`, look-arounds, word boundaries or back-references, and fold case for ASCII only (not in
 * character ranges), so case folding is spelled out as character classes here.
 */
import { JsRegexSyntaxError, parseJsRegex, splitInlineFlags } from '../core/js-regex.ts';
import type { AST } from '../core/js-regex.ts';
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
 * to a Lucene regexp matching the same whole values `RegExp.test` finds a match in. The pattern is
 * read by the parser the engine's literal extraction uses (src/core/js-regex.ts), so both read
 * escapes and Annex B forms alike.
 */
export function jsRegexToLucene(src: string, flags: string): string {
  const split = splitInlineFlags(src, flags);
  const f = split.flags;
  if (split.extended || f.includes('x')) throw new Untranslatable("the 'x' flag");
  const icase = f.includes('i');
  const dotAll = f.includes('s');
  const multiline = f.includes('m');
  let pattern: AST.Pattern;
  try {
    pattern = parseJsRegex(split.source, f);
  } catch (e) {
    if (e instanceof JsRegexSyntaxError) throw new Untranslatable(`invalid pattern: ${e.message}`);
    throw e;
  }

  const fold = (code: number): string => (icase ? foldChar(String.fromCharCode(code), regexVariants) : lit(code));
  const cls = (rs: Range[], neg: boolean): string => classText(icase ? foldRanges(rs) : rs, neg);

  const escapeRanges = (e: AST.CharacterSet): Range[] => {
    switch (e.kind) {
      case 'digit':
        return DIGIT;
      case 'word':
        return WORD;
      case 'space':
        return SPACE;
      default:
        throw new Untranslatable(`${e.raw} character set`);
    }
  };

  const classAtom = (c: AST.CharacterClass): string => {
    const rs: Range[] = [];
    for (const el of c.elements) {
      if (el.type === 'Character') rs.push([el.value, el.value]);
      else if (el.type === 'CharacterClassRange') rs.push([el.min.value, el.max.value]);
      else if (el.type === 'CharacterSet') {
        if (el.negate) throw new Untranslatable(`${el.raw} inside a character class`);
        rs.push(...escapeRanges(el));
      } else throw new Untranslatable(`${el.raw} inside a character class`);
    }
    if (rs.length === 0) {
      if (c.negate) return '.';
      throw new Untranslatable('empty character class');
    }
    return cls(rs, c.negate);
  };

  const atomOf = (el: AST.QuantifiableElement): string => {
    switch (el.type) {
      case 'Character':
        return fold(el.value);
      case 'CharacterClass':
        return classAtom(el);
      case 'CharacterSet':
        if (el.kind === 'any') return dotAll ? '.' : classText(LINE_TERMINATORS, true);
        // \W under /i also excludes the characters that fold into \w (cls folds the ranges again: same set).
        if (el.kind === 'word' && el.negate && icase) return cls(foldRanges(WORD), true);
        return cls(escapeRanges(el), el.negate);
      case 'Group':
      case 'CapturingGroup':
        return '(' + el.alternatives.map((alt) => {
          const items = sequence(alt.elements);
          if (items.some((x) => x.kind !== 'atom')) throw new Untranslatable('anchor inside a group');
          if (items.length === 0) throw new Untranslatable('empty alternative');
          return items.map((x) => x.text).join('');
        }).join('|') + ')';
      case 'Backreference':
        throw new Untranslatable('back-reference');
      case 'Assertion':
        throw new Untranslatable('look-around');
      default:
        throw new Untranslatable(`${(el as AST.Node).raw}`);
    }
  };

  const sequence = (elements: readonly AST.Element[]): Item[] => {
    const seq: Item[] = [];
    for (const el of elements) {
      if (el.type === 'Assertion') {
        if (el.kind === 'start' || el.kind === 'end') seq.push({ kind: el.kind, text: '' });
        else if (el.kind === 'word') throw new Untranslatable('word boundary');
        else throw new Untranslatable('look-around');
        continue;
      }
      if (el.type !== 'Quantifier') {
        seq.push({ kind: 'atom', text: atomOf(el) });
        continue;
      }
      const atom = atomOf(el.element);
      // The quantifier as written (`{0,1}` stays `{0,1}`); laziness does not change which values match.
      let q = el.raw.slice(el.element.raw.length);
      if (!el.greedy) q = q.slice(0, -1);
      const wrap = atom.length > 1 && !atom.startsWith('(') && !atom.startsWith('[') && atom !== '.' && !atom.startsWith('\\');
      seq.push({ kind: 'atom', text: wrap ? `(${atom})${q}` : `${atom}${q}` });
    }
    return seq;
  };

  const out: string[] = [];
  for (const alternative of pattern.alternatives) {
    const alt = sequence(alternative.elements);
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
