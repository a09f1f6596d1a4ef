/**
 * AWS's published IP ranges (ip-ranges.json), read offline from a copy the operator downloaded: which addresses are
 * AWS's, and in which region and service. No package ships a copy and third-party data is not committed, so Seam
 * reads the file named by `native.awsIpRangesFile` (as downloaded, or gzipped to fit a ConfigMap); `seam networks
 * import-aws-ranges FILE` checks one and writes that compact copy (ADR 0049).
 *
 * The file's prefixes nest (the AMAZON service lists every range; EC2, S3, CLOUDFRONT... list subsets of them,
 * often the same prefix again), so they are flattened once at load into disjoint sorted ranges, each carrying its
 * most specific prefix's region and services (AMAZON left out when another service names the range): a lookup is
 * one binary search, as for the ASN table.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { SeamError } from '../../core/errors.ts';
import { ipv4Number, ipv6Halves, parseAddress, rangeIndex, rangeIndex128 } from '../../core/ip.ts';

/** What an address's range says: `region` (or GLOBAL), the services (`EC2`, `S3`, `AMAZON` when no other) and the network border group. */
export interface AwsRange {
  region: string;
  service: string;
  border: string;
}

export interface AwsRanges {
  /** Where it was read from. */
  file: string;
  syncToken: string;
  /** As the file writes it: `YYYY-MM-DD-hh-mm-ss`, UTC. */
  createDate: string;
  /** createDate in epoch milliseconds. */
  createdMs: number;
  /** Prefixes in the file (IPv4, IPv6), before merging. */
  prefixes4: number;
  prefixes6: number;
  regions: string[];
  services: string[];
  /** Disjoint IPv4 ranges sorted by start; `attr4[i]` indexes `attrs`. */
  starts4: Uint32Array;
  ends4: Uint32Array;
  attr4: Uint16Array;
  /** Disjoint IPv6 ranges, each bound as two 64-bit halves, sorted by start. */
  startHi6: BigUint64Array;
  startLo6: BigUint64Array;
  endHi6: BigUint64Array;
  endLo6: BigUint64Array;
  attr6: Uint16Array;
  attrs: AwsRange[];
}

const CREATE_DATE = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

const Entry = {
  region: z.string().min(1),
  service: z.string().min(1),
  // Documented on every entry; older copies may lack it.
  network_border_group: z.string().optional(),
};

/** ip-ranges.json as AWS documents it ("Syntax for AWS IP address range JSON"); unknown fields are allowed (AWS may add some). */
export const AwsIpRangesFile = z.object({
  syncToken: z.string().regex(/^\d+$/, 'expected the publication time in epoch seconds, as text'),
  createDate: z.string().regex(CREATE_DATE, 'expected YYYY-MM-DD-hh-mm-ss'),
  prefixes: z.array(z.object({ ip_prefix: z.string(), ...Entry })).min(1, 'no IPv4 prefix: AWS’s file lists thousands'),
  ipv6_prefixes: z.array(z.object({ ipv6_prefix: z.string(), ...Entry })),
});
export type AwsIpRangesFile = z.infer<typeof AwsIpRangesFile>;

const bad = (file: string, message: string, cause?: unknown): SeamError =>
  new SeamError('SEAM_ERR_AWS_RANGES_INVALID', `${file}: ${message}`, { ...(cause === undefined ? {} : { cause }), details: { file } });

const DOWNLOAD_AGAIN = 'download it again: curl -fsSL -o ip-ranges.json https://ip-ranges.amazonaws.com/ip-ranges.json';

/** The file's text: gunzipped when it starts with gzip's magic bytes. */
function fileText(file: string, bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString('utf8');
    } catch (e) {
      throw bad(file, `gzip data does not inflate (${(e as Error).message}): the copy is truncated or damaged; ${DOWNLOAD_AGAIN}`, e);
    }
  }
  return bytes.toString('utf8');
}

/** Parses and validates ip-ranges.json's text; every error says what the file is instead and what to do. */
export function parseAwsIpRangesText(file: string, text: string): AwsIpRangesFile {
  const head = text.trimStart();
  if (head.startsWith('<')) {
    const title = /<title[^>]*>([^<]{0,120})/i.exec(head)?.[1]?.trim();
    throw bad(file, `this is an HTML page${title ? ` ("${title}")` : ''}, not ip-ranges.json: the download saved an error or sign-in page (a proxy, a captive portal); ${DOWNLOAD_AGAIN} (-f makes curl fail instead of saving such a page)`);
  }
  if (head === '') throw bad(file, `the file is empty; ${DOWNLOAD_AGAIN}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 says "Unexpected end of JSON input" or "Expected ... after ... (line N column M)" at the very end.
    const truncated = /end of JSON input|Unterminated/i.test(msg) || head.trimEnd().at(-1) !== '}';
    throw bad(file, truncated ? `the JSON stops before it ends (${text.length} characters): the download was cut short; ${DOWNLOAD_AGAIN}` : `not valid JSON (${msg}); ${DOWNLOAD_AGAIN}`, e);
  }
  const r = AwsIpRangesFile.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw bad(file, `not AWS's ip-ranges.json (syncToken, createDate, prefixes[{ip_prefix, region, service, network_border_group}], ipv6_prefixes[{ipv6_prefix, ...}]): ${issues.join('; ')}${more}`);
  }
  return r.data;
}

/** createDate (`2024-11-05-21-13-10`, UTC) in epoch milliseconds. */
export function createDateMs(createDate: string): number {
  const m = CREATE_DATE.exec(createDate)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

interface Prefix<N> {
  start: N;
  end: N;
  /** Prefix length: the longer, the more specific. */
  bits: number;
  region: string;
  services: string[];
  border: string;
}

/** An IPv4 CIDR's first and last address (host bits cleared: AWS's own example writes `198.51.100.2/24`). */
function cidr4(spec: string): { start: number; end: number; bits: number } | undefined {
  const slash = spec.indexOf('/');
  const bitsText = spec.slice(slash + 1);
  if (slash < 0 || !/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) return undefined;
  const n = ipv4Number(spec.slice(0, slash));
  if (n === undefined) return undefined;
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const start = Math.floor(n / size) * size;
  return { start, end: start + size - 1, bits };
}

/** An IPv6 address's 16-bit groups: the plain hex forms AWS writes, quickly; anything else through parseAddress. */
function groups6(text: string): number[] | undefined {
  if (/^[0-9a-f:]+$/i.test(text)) {
    const halves = text.split('::');
    if (halves.length <= 2) {
      const head = halves[0] === '' ? [] : halves[0]!.split(':');
      const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
      const fill = 8 - head.length - tail.length;
      if ((halves.length === 1 && fill === 0) || (halves.length === 2 && fill >= 1)) {
        const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
        if (all.every((g) => g.length >= 1 && g.length <= 4)) return all.map((g) => parseInt(g, 16));
        return undefined;
      }
    }
  }
  const a = parseAddress(text);
  return a === undefined || a.kind() !== 'ipv6' ? undefined : (a as { parts: number[] }).parts;
}

/** An IPv6 CIDR's first and last address as 128-bit integers. */
function cidr6(spec: string): { start: bigint; end: bigint; bits: number } | undefined {
  const slash = spec.indexOf('/');
  const bitsText = spec.slice(slash + 1);
  if (slash < 0 || !/^\d{1,3}$/.test(bitsText) || Number(bitsText) > 128) return undefined;
  const parts = groups6(spec.slice(0, slash));
  if (parts === undefined) return undefined;
  const word = (i: number): bigint => BigInt(parts[i]! * 65536 + parts[i + 1]!);
  const n = (word(0) << 96n) | (word(2) << 64n) | (word(4) << 32n) | word(6);
  const bits = Number(bitsText);
  const host = (1n << BigInt(128 - bits)) - 1n;
  const start = n & ~host;
  return { start, end: start | host, bits };
}

/**
 * Disjoint ranges from nested prefixes: each address answered by the most specific prefix holding it. `one` is 1 in
 * the bounds' type (numbers for IPv4, BigInts for IPv6).
 */
function flatten<N extends number | bigint>(prefixes: Prefix<N>[], one: N): { start: N; end: N; p: Prefix<N> }[] {
  const add = (a: N, b: N): N => ((a as number) + (b as number)) as N;
  const sub = (a: N, b: N): N => ((a as number) - (b as number)) as N;
  prefixes.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.bits - b.bits));
  // Duplicates (one prefix under AMAZON and under EC2), now side by side, merge their services.
  const sorted: Prefix<N>[] = [];
  for (const p of prefixes) {
    const last = sorted.at(-1);
    if (last !== undefined && last.start === p.start && last.bits === p.bits) {
      for (const x of p.services) if (!last.services.includes(x)) last.services.push(x);
    } else sorted.push(p);
  }
  const out: { start: N; end: N; p: Prefix<N> }[] = [];
  const emit = (start: N, end: N, p: Prefix<N>): void => {
    if (start > end) return;
    const last = out.at(-1);
    if (last !== undefined && last.p === p && add(last.end, one) === start) last.end = end;
    else out.push({ start, end, p });
  };
  // CIDR prefixes either nest or are apart: a stack of the open ones, innermost on top.
  const stack: Prefix<N>[] = [];
  let cursor = sub(one, one);
  for (const p of sorted) {
    while (stack.length > 0 && stack.at(-1)!.end < p.start) {
      const top = stack.pop()!;
      emit(cursor, top.end, top);
      cursor = add(top.end, one);
    }
    if (stack.length > 0) emit(cursor, sub(p.start, one), stack.at(-1)!);
    cursor = p.start;
    stack.push(p);
  }
  while (stack.length > 0) {
    const top = stack.pop()!;
    emit(cursor, top.end, top);
    cursor = add(top.end, one);
  }
  return out;
}

/** The services a range names: AMAZON (the superset of all) only when nothing more specific does. */
function serviceText(services: readonly string[]): string {
  const named = services.filter((s) => s !== 'AMAZON').sort();
  return named.length > 0 ? named.join('+') : 'AMAZON';
}

/** The lookup table of a validated file. */
export function buildAwsRanges(file: string, doc: AwsIpRangesFile): AwsRanges {
  const regions = new Set<string>();
  const services = new Set<string>();
  const entry = <N>(b: { start: N; end: N; bits: number } | undefined, v6: boolean, spec: string, e: { region: string; service: string; network_border_group?: string | undefined }, i: number): Prefix<N> => {
    if (b === undefined) throw bad(file, `${v6 ? 'ipv6_prefixes' : 'prefixes'}.${i}.${v6 ? 'ipv6_prefix' : 'ip_prefix'}: "${spec}" is not an ${v6 ? 'IPv6' : 'IPv4'} CIDR`);
    regions.add(e.region);
    services.add(e.service);
    return { start: b.start, end: b.end, bits: b.bits, region: e.region, services: [e.service], border: e.network_border_group ?? e.region };
  };
  const flat4 = flatten(
    doc.prefixes.map((e, i) => entry(cidr4(e.ip_prefix.trim()), false, e.ip_prefix, e, i)),
    1,
  );
  const flat6 = flatten(
    doc.ipv6_prefixes.map((e, i) => entry(cidr6(e.ipv6_prefix.trim()), true, e.ipv6_prefix, e, i)),
    1n,
  );
  const attrs: AwsRange[] = [];
  const attrIndex = new Map<string, number>();
  const attrOf = (p: Prefix<number | bigint>): number => {
    const a = { region: p.region, service: serviceText(p.services), border: p.border };
    const k = `${a.region}|${a.service}|${a.border}`;
    let i = attrIndex.get(k);
    if (i === undefined) {
      i = attrs.length;
      if (i > 0xffff) throw bad(file, 'more than 65,536 region, service and border group combinations: not AWS’s file');
      attrs.push(a);
      attrIndex.set(k, i);
    }
    return i;
  };
  const LOW64 = (1n << 64n) - 1n;
  const t: AwsRanges = {
    file,
    syncToken: doc.syncToken,
    createDate: doc.createDate,
    createdMs: createDateMs(doc.createDate),
    prefixes4: doc.prefixes.length,
    prefixes6: doc.ipv6_prefixes.length,
    regions: [...regions].sort(),
    services: [...services].sort(),
    starts4: Uint32Array.from(flat4, (r) => r.start),
    ends4: Uint32Array.from(flat4, (r) => r.end),
    attr4: Uint16Array.from(flat4, (r) => attrOf(r.p)),
    startHi6: BigUint64Array.from(flat6, (r) => r.start >> 64n),
    startLo6: BigUint64Array.from(flat6, (r) => r.start & LOW64),
    endHi6: BigUint64Array.from(flat6, (r) => r.end >> 64n),
    endLo6: BigUint64Array.from(flat6, (r) => r.end & LOW64),
    attr6: Uint16Array.from(flat6, (r) => attrOf(r.p)),
    attrs,
  };
  return t;
}

/** Reads, validates and indexes an ip-ranges.json file (or its gzipped copy). */
export function readAwsRanges(file: string): AwsRanges {
  return buildAwsRanges(file, readAwsIpRangesFile(file));
}

/** Reads and validates an ip-ranges.json file (or its gzipped copy). */
export function readAwsIpRangesFile(file: string): AwsIpRangesFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw bad(file, `cannot read the AWS IP ranges file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); download it with: curl -fsSL -o ip-ranges.json https://ip-ranges.amazonaws.com/ip-ranges.json`, e);
  }
  return parseAwsIpRangesText(file, fileText(file, bytes));
}

/** The range holding an IPv4 address (its number). */
export function lookupAwsRange4(t: AwsRanges, n: number): AwsRange | undefined {
  const i = rangeIndex(t.starts4, t.ends4, n);
  return i < 0 ? undefined : t.attrs[t.attr4[i]!];
}

/** The range holding an IPv6 address given as its 16-bit groups. */
export function lookupAwsRange6(t: AwsRanges, parts: readonly number[]): AwsRange | undefined {
  const [hi, lo] = ipv6Halves(parts);
  const i = rangeIndex128({ startHi: t.startHi6, startLo: t.startLo6, endHi: t.endHi6, endLo: t.endLo6 }, hi, lo);
  return i < 0 ? undefined : t.attrs[t.attr6[i]!];
}

/** The range holding an address written as text (IPv4, IPv6, an IPv4-mapped IPv6 address as its IPv4). */
export function lookupAwsRange(t: AwsRanges, ip: string): AwsRange | undefined {
  const n = ipv4Number(ip);
  if (n !== undefined) return lookupAwsRange4(t, n);
  const a = parseAddress(ip);
  if (a === undefined) return undefined;
  if (a.kind() === 'ipv4') return lookupAwsRange4(t, ipv4Number(a.toString())!);
  return lookupAwsRange6(t, (a as { parts: number[] }).parts);
}

/** A file's age in days at `nowMs`, from its createDate. */
export function awsRangesAgeDays(t: Pick<AwsRanges, 'createdMs'>, nowMs = Date.now()): number {
  return Math.floor((nowMs - t.createdMs) / 86_400_000);
}

/** Older than this, `seam networks import-aws-ranges` and the commands that read the file warn: AWS adds ranges every week. */
export const AWS_RANGES_STALE_DAYS = 30;

/** The warning for a file older than AWS_RANGES_STALE_DAYS, if it is. */
export function awsRangesStaleWarning(t: Pick<AwsRanges, 'createdMs' | 'createDate' | 'file'>, nowMs = Date.now()): string | undefined {
  const days = awsRangesAgeDays(t, nowMs);
  if (days <= AWS_RANGES_STALE_DAYS) return undefined;
  return `AWS IP ranges file ${t.file} was published ${days} days ago (createDate ${t.createDate}): addresses AWS added since count as outside AWS, which the "outside AWS" detections report; ${DOWNLOAD_AGAIN}`;
}

/** Loaded files, by path, size and modification time: every engine of the process shares one table. */
const loaded = new Map<string, { key: string; table: AwsRanges }>();

/** The table of `file`, read once per process (again when the file changed). Throws SEAM_ERR_AWS_RANGES_INVALID. */
export function loadAwsRanges(file: string): AwsRanges {
  let key: string;
  try {
    const st = statSync(file);
    key = `${st.size}|${st.mtimeMs}`;
  } catch {
    key = 'missing';
  }
  const hit = loaded.get(file);
  if (hit !== undefined && hit.key === key) return hit.table;
  const table = readAwsRanges(file);
  loaded.set(file, { key, table });
  return table;
}

/** The table the native detections' config names (`native.awsIpRangesFile`), or undefined when it names none. */
export function awsRangesOf(config: { awsIpRangesFile?: string | undefined }): AwsRanges | undefined {
  const file = config.awsIpRangesFile;
  if (file === undefined) return undefined;
  const memo = byConfig.get(config);
  if (memo !== undefined) return memo;
  const t = loadAwsRanges(file);
  byConfig.set(config, t);
  return t;
}
const byConfig = new WeakMap<object, AwsRanges>();
