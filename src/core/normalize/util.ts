import { createHash } from 'node:crypto';

/** Field readers for the normalizers (the general ones are in src/core/values.ts). */
import { isRec, type Rec } from '../values.ts';

/** Reads a field in either casing (GuardDuty REST/EventBridge camelCase or SDK PascalCase). */
export function pick(o: Rec | undefined, camel: string): unknown {
  if (o === undefined) return undefined;
  const v = o[camel];
  if (v !== undefined) return v;
  return o[camel.charAt(0).toUpperCase() + camel.slice(1)];
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `YYYY-MM-DDTHH:MM:SS` followed by an optional fraction and `Z`: checked by hand (no regex, no match array). */
function isUtcIso(v: string): boolean {
  const n = v.length;
  if (n < 20 || v.charCodeAt(n - 1) !== 0x5a /* Z */) return false;
  if (v.charCodeAt(4) !== 0x2d || v.charCodeAt(7) !== 0x2d || v.charCodeAt(10) !== 0x54 || v.charCodeAt(13) !== 0x3a || v.charCodeAt(16) !== 0x3a) return false;
  for (const i of DIGIT_POS) if (!isDigit(v.charCodeAt(i))) return false;
  if (!isRealDate(v)) return false;
  if (n === 20) return true;
  if (v.charCodeAt(19) !== 0x2e /* . */ || n === 21) return false;
  for (let i = 20; i < n - 1; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}
const DIGIT_POS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
/** A date and a time of day with no zone designator after it (`Z`, `+hh:mm`, `-hhmm`). */
const NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

const two = (v: string, i: number): number => (v.charCodeAt(i) - 0x30) * 10 + (v.charCodeAt(i + 1) - 0x30);
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A `YYYY-MM-DD` (and `THH:MM:SS` / ` HH:MM:SS`) prefix names real fields; other shapes are left to Date.parse. */
function realDatePrefix(v: string): boolean {
  if (v.charCodeAt(4) !== 0x2d || v.charCodeAt(7) !== 0x2d) return true;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) if (!isDigit(v.charCodeAt(i))) return true;
  const timed = v.length >= 19 && v.charCodeAt(13) === 0x3a && v.charCodeAt(16) === 0x3a;
  if (timed) for (const i of [11, 12, 14, 15, 17, 18]) if (!isDigit(v.charCodeAt(i))) return false;
  return isRealDate(timed ? v : v.slice(0, 10) + 'T00:00:00');
}

/**
 * The digits of `YYYY-MM-DDTHH:MM:SS` name a real instant: `2024-13-45T99:99:99Z` has the shape but
 * is no date (kept as `@timestamp` it made every later alert throw `Invalid time value`).
 */
function isRealDate(v: string): boolean {
  const month = two(v, 5);
  const day = two(v, 8);
  if (month < 1 || month > 12 || day < 1 || two(v, 11) > 23 || two(v, 14) > 59 || two(v, 17) > 59) return false;
  if (day > DAYS_IN_MONTH[month - 1]!) return false;
  if (month === 2 && day === 29) {
    const year = two(v, 0) * 100 + two(v, 2);
    return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  }
  return true;
}

/**
 * A number below this is not read as epoch milliseconds (it would be before 1973-03-03): it is almost always epoch
 * seconds from an exporter (data lakes, some SIEMs; 1e11 seconds is the year 5138). Seam does not guess the unit:
 * such a time is refused, and the dead letter says it looks like epoch seconds (timeError).
 */
export const EPOCH_MS_MIN = 1e11;

/**
 * An ISO 8601 timestamp with at most millisecond precision, or undefined. Audit (µs) and Falco (ns)
 * fractions are cut to ms so every index sees one format; other zones are converted to UTC; epoch
 * numbers are read as milliseconds, and one below EPOCH_MS_MIN (epoch seconds, most likely) is refused.
 */
export function isoTime(v: unknown): string | undefined {
  if (typeof v === 'string') {
    if (isUtcIso(v)) return v.length > 24 ? v.slice(0, 23) + 'Z' : v;
    // Offsets, a space separator or a missing zone, which some exporters write (data-lake exports:
    // `2024-11-05 14:09:12.000000000`). A time without a zone is UTC, never the host's local time.
    if (v.length < 10 || !isDigit(v.charCodeAt(0))) return undefined;
    // Date.parse rolls impossible fields over (Feb 30 becomes Mar 1): check them first.
    if (!realDatePrefix(v)) return undefined;
    const t = Date.parse(NO_ZONE.test(v) ? v.replace(' ', 'T') + 'Z' : v);
    return Number.isNaN(t) ? undefined : new Date(t).toISOString();
  }
  if (typeof v === 'number' && Number.isFinite(v) && v >= EPOCH_MS_MIN) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

/** JSON with object keys sorted, so the same record always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',') + ']';
  if (isRec(v)) {
    const keys = Object.keys(v).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const x = v[k];
      if (x === undefined) continue;
      parts.push(JSON.stringify(k) + ':' + canonicalJson(x));
    }
    return '{' + parts.join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

/** Fallback dedup id: SHA-256 of the canonical record, prefixed so it never collides with a source id. */
export function hashId(v: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(v)).digest('hex');
}

/** Account id from an IAM/STS ARN (arn:partition:service:region:account:resource). */
export function arnAccount(arn: string | undefined): string | undefined {
  if (arn === undefined || !arn.startsWith('arn:')) return undefined;
  let i = 0;
  let start = 0;
  for (let n = 0; n < 4; n++) {
    i = arn.indexOf(':', i);
    if (i < 0) return undefined;
    i++;
    if (n === 3) start = i;
  }
  const end = arn.indexOf(':', start);
  const acct = end < 0 ? undefined : arn.slice(start, end);
  return acct !== undefined && acct.length === 12 ? acct : undefined;
}

/** Region from an ARN, when it has one. */
export function arnRegion(arn: string | undefined): string | undefined {
  if (arn === undefined || !arn.startsWith('arn:')) return undefined;
  const parts = arn.split(':', 5);
  return parts[3] !== undefined && parts[3] !== '' ? parts[3] : undefined;
}
