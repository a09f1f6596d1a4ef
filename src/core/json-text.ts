/**
 * Scanning JSON text without parsing it (the depth pre-check before JSON.parse, the replay workers'
 * first pass over a file, cutting a batch document into its records).
 */

/**
 * Index of the quote that closes the JSON string opening at `open`, or -1 when the text ends first.
 * Jumps with indexOf (most of a record's bytes are in strings); a quote after an odd run of
 * backslashes is escaped.
 */
export function closingQuote(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  while (j > 0 && text.charCodeAt(j - 1) === 0x5c) {
    let k = j - 1;
    while (text.charCodeAt(k - 1) === 0x5c) k--;
    if ((j - k) % 2 === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}

/** The top-level values of one JSON object (where each starts and ends in the text), parsed when asked. */
export class TopLevel {
  private readonly at = new Map<string, number>();
  private readonly end = new Map<string, number>();
  private readonly parsed = new Map<string, unknown>();

  constructor(private readonly text: string) {}

  set(key: string, start: number, end: number): void {
    this.at.set(key, start);
    this.end.set(key, end);
    this.parsed.delete(key);
  }

  has(key: string): boolean {
    return this.at.has(key);
  }

  /** How many distinct keys the object has. */
  get size(): number {
    return this.at.size;
  }

  /** Is the value a JSON object (without parsing it)? */
  isObject(key: string): boolean {
    const i = this.at.get(key);
    return i !== undefined && this.text.charCodeAt(i) === 0x7b;
  }

  /** Where the value of `key` starts and ends (exclusive) in the text, or undefined. */
  span(key: string): [number, number] | undefined {
    const i = this.at.get(key);
    return i === undefined ? undefined : [i, this.end.get(key)!];
  }

  get(key: string): unknown {
    if (this.parsed.has(key)) return this.parsed.get(key);
    const i = this.at.get(key);
    const v = i === undefined ? undefined : (JSON.parse(this.text.slice(i, this.end.get(key))) as unknown);
    this.parsed.set(key, v);
    return v;
  }
}

/** End (index after the closing quote) of the string starting at `i`, or -1. */
function stringEnd(text: string, i: number): number {
  const j = closingQuote(text, i);
  return j < 0 ? -1 : j + 1;
}

export const isJsonWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * End of the value starting at `i` (object, array, string or scalar), or -1 when it nests deeper than
 * `maxDepth` or is cut short. Scalars are not checked, only cut at the next delimiter.
 */
export function valueEnd(text: string, i: number, maxDepth: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x22) {
        j = stringEnd(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) {
        if (++depth > maxDepth) return -1;
      } else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isJsonWs(d)) break;
    j++;
  }
  return j === i ? -1 : j;
}

/**
 * The top-level values of a JSON object; undefined when the text is not a plain object (it must start
 * with `{`), a key holds an escape, or a value nests deeper than `maxDepth` (the value itself is level 1).
 * `end` finds where a key's value ends (-1: give up), for a caller that reads some values as it goes.
 */
export function topLevel(text: string, maxDepth: number, end?: (key: string, start: number) => number): TopLevel | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  const out = new TopLevel(text);
  let i = 1;
  const n = text.length;
  for (;;) {
    while (i < n && isJsonWs(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x7d) break;
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const ke = stringEnd(text, i);
    if (ke < 0) return undefined;
    const key = text.slice(i + 1, ke - 1);
    if (key.includes('\\')) return undefined;
    i = ke;
    while (i < n && isJsonWs(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    while (i < n && isJsonWs(text.charCodeAt(i))) i++;
    const ve = end === undefined ? valueEnd(text, i, maxDepth) : end(key, i);
    if (ve < 0) return undefined;
    out.set(key, i, ve);
    i = ve;
    while (i < n && isJsonWs(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x2c) i++;
    else if (c === 0x7d) break;
    else return undefined;
  }
  for (i++; i < n; i++) if (!isJsonWs(text.charCodeAt(i))) return undefined;
  return out;
}
