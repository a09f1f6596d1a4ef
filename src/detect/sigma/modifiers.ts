/**
 * Sigma value modifiers (appendix v2.1): the known set, Sigma string patterns (wildcards and
 * escapes), the encoding transformations, and the typed matchers (cidr, numeric, time parts).
 */
import type { Cand } from './fields.ts';
import { cidrMatcher } from '../../core/ip.ts';
import { splitInlineFlags } from '../../core/js-regex.ts';

export const MODIFIERS = new Set([
  'contains', 'startswith', 'endswith', 'all', 'exists', 'cased', 'neq',
  're', 'i', 'm', 's',
  'base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'windash',
  'cidr', 'lt', 'lte', 'gt', 'gte',
  'minute', 'hour', 'day', 'week', 'month', 'year',
  'expand', 'fieldref',
]);
export const TIME_PARTS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
export const COMPARE = new Set(['lt', 'lte', 'gt', 'gte']);

/** A Sigma string: literal runs and wildcards. */
export const STAR = 0;
export const ONE = 1;
export type Part = string | typeof STAR | typeof ONE;

/**
 * Parses wildcards and escapes: `*` and `?` are wildcards; `\*`, `\?` and `\\` are literal; any
 * other backslash is literal (so `C:\Windows` needs no escaping).
 */
export function parsePattern(s: string): Part[] {
  const out: Part[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === '*' || n === '?' || n === '\\') {
        lit += n;
        i++;
      } else lit += '\\';
    } else if (c === '*' || c === '?') {
      if (lit) out.push(lit);
      lit = '';
      out.push(c === '*' ? STAR : ONE);
    } else lit += c;
  }
  if (lit) out.push(lit);
  return out;
}

export function hasWildcards(p: readonly Part[]): boolean {
  return p.some((x) => typeof x !== 'string');
}

export function literalOf(p: readonly Part[]): string {
  return p.filter((x): x is string => typeof x === 'string').join('');
}

const DASHES = /[/\u2013\u2014\u2015]/g;
/** windash: `-`, `/`, en dash, em dash and horizontal bar are one character class. */
export function normalizeDashes(s: string): string {
  return s.replace(DASHES, '-');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export type StrTest = (c: Cand) => boolean;

/**
 * Compiles a pattern to a test on an event value. Plain, prefix, suffix and infix patterns use
 * string methods on the precomputed lowercase form; anything else becomes one anchored regex.
 */
export function patternTest(p: readonly Part[], cased: boolean, windash: boolean): StrTest {
  const norm = (s: string): string => {
    const t = cased ? s : s.toLowerCase();
    return windash ? normalizeDashes(t) : t;
  };
  const val = (c: Cand): string | undefined => {
    const s = cased ? c.s : c.l;
    return s === undefined || !windash ? s : normalizeDashes(s);
  };
  const parts = p.map((x) => (typeof x === 'string' ? norm(x) : x));
  const n = parts.length;
  if (n === 0) return (c) => val(c) === '';
  const onlyLit = !hasWildcards(parts);
  if (onlyLit) {
    const lit = parts.join('');
    if (!windash) {
      return cased ? (c) => c.s === lit : (c) => c.l === lit;
    }
    return (c) => val(c) === lit;
  }
  if (n === 1 && parts[0] === STAR) return (c) => c.s !== undefined;
  if (n === 2 && parts[0] === STAR && typeof parts[1] === 'string') {
    const lit = parts[1];
    return (c) => val(c)?.endsWith(lit) === true;
  }
  if (n === 2 && parts[1] === STAR && typeof parts[0] === 'string') {
    const lit = parts[0];
    return (c) => val(c)?.startsWith(lit) === true;
  }
  if (n === 3 && parts[0] === STAR && parts[2] === STAR && typeof parts[1] === 'string') {
    const lit = parts[1];
    return (c) => {
      const s = val(c);
      return s !== undefined && s.includes(lit);
    };
  }
  let src = '^';
  for (const x of parts) src += x === STAR ? '.*' : x === ONE ? '.' : escapeRe(x);
  const re = new RegExp(src + '$', 's');
  return (c) => {
    const s = val(c);
    return s !== undefined && re.test(s);
  };
}

// ---- encodings ----------------------------------------------------------------------------------

/** A value in the modifier pipeline; `binary` strings hold one byte per char (after utf16*). */
export interface PipeValue {
  parts: Part[];
  binary: boolean;
}

function bytesOf(v: PipeValue): Buffer {
  const s = literalOf(v.parts);
  return Buffer.from(s, v.binary ? 'latin1' : 'utf8');
}

export function encodeUtf16(v: PipeValue, kind: 'utf16le' | 'utf16be' | 'utf16'): PipeValue {
  const enc = (s: string, bom: boolean): string => {
    let out = '';
    if (bom) out += '\xff\xfe';
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      const lo = String.fromCharCode(code & 0xff);
      const hi = String.fromCharCode(code >> 8);
      out += kind === 'utf16be' ? hi + lo : lo + hi;
    }
    return out;
  };
  let first = true;
  const parts = v.parts.map((x) => {
    if (typeof x !== 'string') return x;
    const r = enc(x, kind === 'utf16' && first);
    first = false;
    return r;
  });
  return { parts, binary: true };
}

export function encodeBase64(v: PipeValue): PipeValue {
  return { parts: [bytesOf(v).toString('base64')], binary: false };
}

/**
 * The three base64 renderings of a value that may start at any byte offset inside a larger
 * encoded blob: encode with 0, 1 or 2 bytes of padding in front, then drop the characters that
 * depend on the unknown neighbouring bytes.
 */
export function encodeBase64Offset(v: PipeValue): PipeValue[] {
  const b = bytesOf(v);
  const out: PipeValue[] = [];
  const startTrim = [0, 2, 3];
  const endTrim = [0, 3, 2];
  for (let i = 0; i < 3; i++) {
    const enc = Buffer.concat([Buffer.alloc(i), b]).toString('base64');
    const e = endTrim[(b.length + i) % 3]!;
    const s = enc.slice(startTrim[i]!, enc.length - e);
    if (s) out.push({ parts: [s], binary: false });
  }
  return out;
}

// ---- CIDR ---------------------------------------------------------------------------------------

/** Compiles `10.0.0.0/8` or `fe80::/10` to a test on an event value; undefined if malformed (src/core/ip.ts reads both). */
export function cidrTest(spec: string): StrTest | undefined {
  const inRange = cidrMatcher(spec);
  if (inRange === undefined) return undefined;
  return (c) => c.s !== undefined && inRange(c.s);
}

// ---- numbers and time parts ---------------------------------------------------------------------

/**
 * A decimal number written as text: sign, digits, fraction, exponent ("0403", "403.0", "+4.03e2"). Not hex, octal or
 * binary ("0x193", "0o623"), padded text or "Infinity", which `Number()` also reads: Sigma compares numbers as
 * numbers, and a port or code logged as "0x10" is text that happens to parse, not a spelling of 16.
 */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A number from an event value: numbers as is, decimal strings parsed (DECIMAL); otherwise undefined. */
export function numberOf(c: Cand): number | undefined {
  if (typeof c.v === 'number') return c.v;
  if (typeof c.v === 'string' && DECIMAL.test(c.v)) return Number(c.v);
  return undefined;
}

/** Extracts a UTC time part from an ISO 8601 string or epoch (seconds or milliseconds) value. */
export function timePart(c: Cand, part: string): number | undefined {
  let d: Date;
  if (typeof c.v === 'number') d = new Date(c.v < 1e11 ? c.v * 1000 : c.v);
  else if (typeof c.v === 'string') d = new Date(c.v);
  else return undefined;
  const t = d.getTime();
  if (Number.isNaN(t)) return undefined;
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    case 'week': {
      // ISO 8601 week number.
      const x = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const day = x.getUTCDay() || 7;
      x.setUTCDate(x.getUTCDate() + 4 - day);
      const y0 = Date.UTC(x.getUTCFullYear(), 0, 1);
      return Math.ceil(((x.getTime() - y0) / 86400000 + 1) / 7);
    }
    default:
      return undefined;
  }
}

export function compareOp(op: string, a: number, b: number): boolean {
  switch (op) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    default:
      return a === b;
  }
}

/**
 * Converts a Sigma/PCRE regex for JavaScript: a leading inline flag group such as `(?i)` becomes
 * a RegExp flag (V8 in Node 20 has no inline modifiers).
 */
const POSIX_CLASS = /^\[:(alpha|digit|alnum|upper|lower|space|punct|xdigit|word|blank|cntrl|graph|print|ascii):\]/;

/**
 * Metacharacters of other regex flavours that the Sigma specification does not allow (its `re` flavour is a small
 * PCRE subset) and that JavaScript reads differently without an error: `\A`, `\Z`, `\z` are the letters A, Z, z, and
 * `[[:alpha:]]` is a class of `[`, `:`, `a`, `l`, `p`, `h` followed by `]`. Offsets are into `src`.
 */
export function regexFlavourNotes(src: string): { offset: number; message: string }[] {
  const notes: { offset: number; message: string }[] = [];
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === 'A' || next === 'Z' || next === 'z') {
        const what = next === 'A' ? 'start of input: write ^' : 'end of input: write $';
        notes.push({ offset: i, message: `'\\${next}' (PCRE ${what}) is not in Sigma's regex flavour; JavaScript reads it as the letter '${next}'` });
      }
      i++;
    } else if (ch === '[') {
      const m = POSIX_CLASS.exec(src.slice(i));
      if (m !== null) {
        notes.push({ offset: i, message: `POSIX class '${m[0]}' is not in Sigma's regex flavour; JavaScript reads it as a set of its characters (write a range such as [a-zA-Z])` });
        i += m[0].length - 1;
      }
    }
  }
  return notes;
}

export function toJsRegex(src: string, flags: string): RegExp {
  const { source, flags: f } = splitInlineFlags(src, flags);
  return new RegExp(source, f);
}

/**
 * Expands `%name%` placeholders (`|expand`) into every combination of configured values; `\%` is a plain
 * percent sign. The result is a Sigma string: the rule's own text keeps its meaning (`*` and `?` are wildcards,
 * `\*` a literal star), and each configured value is spliced in as written, a pattern too (the specification's
 * "replaced with ... values or patterns", e.g. `srv*`), so `'system:serviceaccount:%ns%:*'` matches every
 * service account of the listed namespaces. Returns the first placeholder without configured values instead,
 * when there is one. Shared by the streaming engine and the hunting compiler so both expand alike.
 */
export const DEFAULT_MAX_PLACEHOLDER_EXPANSION = 4096;

export function expandPlaceholderValues(
  raw: string,
  placeholders: Readonly<Record<string, readonly string[]>>,
  max = DEFAULT_MAX_PLACEHOLDER_EXPANSION,
): { values: string[] } | { missing: string } | { tooMany: number } {
  const pieces: (string | { name: string })[] = [];
  let lit = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && raw[i + 1] === '%') {
      lit += '%';
      i++;
    } else if (ch === '%') {
      const close = raw.indexOf('%', i + 1);
      if (close < 0) {
        lit += raw.slice(i);
        break;
      }
      if (lit) pieces.push(lit);
      lit = '';
      pieces.push({ name: raw.slice(i + 1, close) });
      i = close;
    } else lit += ch;
  }
  if (lit) pieces.push(lit);
  // Count the combinations before building them: seven references to a 10-value placeholder are 10^7 strings.
  let combinations = 1;
  for (const p of pieces) {
    if (typeof p === 'string') continue;
    const values = placeholders[p.name];
    if (values === undefined) return { missing: p.name };
    combinations *= Math.max(1, values.length);
  }
  if (combinations > max) return { tooMany: combinations };
  let out = [''];
  for (const p of pieces) {
    if (typeof p === 'string') {
      out = out.map((o) => o + p);
      continue;
    }
    const values = placeholders[p.name];
    if (values === undefined) return { missing: p.name };
    const next: string[] = [];
    // A value ending in a lone backslash keeps it literal: doubled, so the rule's next `*` stays a wildcard.
    for (const o of out) for (const v of values) next.push(o + (/(?:^|[^\\])(?:\\\\)*\\$/.test(v) ? `${v}\\` : v));
    out = next;
  }
  return { values: out };
}
