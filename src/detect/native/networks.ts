/**
 * Where an address is on the Internet, offline: its autonomous system (ASN and organisation) from the
 * IP-to-ASN database of the npm package `@ip-location-db/asn` (RouteViews + NRO + DB-IP ASN Lite,
 * CC BY 4.0: attribution in docs/identity.md), and whether that AS is Amazon's. No network at run time.
 *
 * AWS publishes its ranges as ip-ranges.json, but no npm package ships a copy (the ones named after it
 * download it at run time), and third-party data is not committed here. AWS announces those ranges from
 * its own autonomous systems, so "the address's AS is one of Amazon's" stands in for "inside AWS's
 * ranges" (it also counts CloudFront and Amazon's corporate ranges as Amazon's: the safe side for a
 * detection that fires on "outside AWS"). Refresh: `npm update @ip-location-db/asn` (published daily).
 *
 * IPv6 from the package's IPv6 table (`asn-ipv6-num.csv`, ~100k ranges), loaded the first time an IPv6
 * address is asked about (~0.1 s once per process, inside that event's evaluation; IPv4-only deployments never
 * load it). Without it (no
 * database, or it cannot be read) IPv6 addresses fall back to their /48 prefix as the network and to other
 * evidence for the AWS question.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seamCacheDir } from '../../core/cache-dir.ts';
import { ipv4Number, ipv6Halves, isPrivateIp, parseAddress, rangeIndex, rangeIndex128 } from '../../core/ip.ts';
import { awsRangesOf, lookupAwsRange4, lookupAwsRange6, type AwsRange, type AwsRanges } from './aws-ranges.ts';

/** Amazon's autonomous systems (AWS regions, CloudFront, Amazon corporate): AS16509 and AS14618 announce almost all of AWS. */
export const AMAZON_ASNS: readonly number[] = [16509, 14618, 8987, 9059, 7224, 10124, 17493, 36263, 38895, 39111, 58588, 62785, 135630, 400098, 401395];

export interface AsnInfo {
  asn: number;
  org: string;
}

export interface NetworkInfo {
  /**
   * The baseline's notion of "network": `AS<n>` when the database knows the address, else its /16 (IPv4) or /48
   * (IPv6) prefix; with AWS's ip-ranges.json (native.awsIpRangesFile), `aws:<region>` for an address in AWS's ranges.
   */
  key: string;
  /** Human label: `AS16509 Amazon.com Inc.`, `198.51.0.0/16`, or with AWS's ranges `AWS us-east-1 (EC2)`. */
  label: string;
  asn?: number;
  /**
   * True inside Amazon's ASes (with AWS's ranges given: inside those ranges), false for a public address the
   * database puts elsewhere or does not know (or outside the ranges given), undefined when it cannot tell (no
   * database and no ranges, special-purpose IPv6).
   */
  aws: boolean | undefined;
  /** With AWS's ranges: the AWS region (or GLOBAL) and services (`EC2`, `S3`, `AMAZON`...) of an AWS address. */
  region?: string;
  service?: string;
  private: boolean;
}

/** What `networkFor` reads of the native detections' config. */
export interface NetworkConfig {
  asnDatabase: boolean;
  amazonAsns: readonly number[];
  awsIpRangesFile?: string | undefined;
}

/**
 * What the native detections know about an address under their config: the bundled ASN database unless
 * `asnDatabase` is false, Amazon's ASes, and AWS's exact ranges when `awsIpRangesFile` names a file.
 */
export function networkFor(ip: string, config: NetworkConfig): NetworkInfo | undefined {
  return networkOf(ip, config.asnDatabase ? bundledAsnLookup : undefined, config.amazonAsns, awsRangesOf(config));
}

/** An address → AS lookup; the default reads the bundled database, tests and embedders may pass their own. */
export type AsnLookup = (ip: string) => AsnInfo | undefined;

export function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const p = Number(m[i]);
    if (p > 255) return undefined;
    n = n * 256 + p;
  }
  return n;
}

/** An AS's organisation, looked up by number. */
export interface AsnOrgs {
  get(asn: number): string | undefined;
}

export interface AsnTable {
  starts: Uint32Array;
  ends: Uint32Array;
  asns: Uint32Array;
  orgs: AsnOrgs;
}

let table: AsnTable | null | undefined;
let tableError: string | undefined;

/** IPv6 ranges: each bound as two 64-bit halves, sorted by start; ASNs and organisations as in the IPv4 table. */
export interface Asn6Table {
  startHi: BigUint64Array;
  startLo: BigUint64Array;
  endHi: BigUint64Array;
  endLo: BigUint64Array;
  asns: Uint32Array;
  orgs: AsnOrgs;
}

let table6: Asn6Table | null | undefined;
let table6Error: string | undefined;

const LOW64 = (1n << 64n) - 1n;

/** Parses `asn-ipv6-num.csv` (`start,end,asn,org`, 128-bit decimal bounds, sorted by start). */
export function parseAsn6Csv(text: string): Asn6Table & { orgs: Map<number, string> } {
  const lines = lineCount(text);
  const startHi = new BigUint64Array(lines);
  const startLo = new BigUint64Array(lines);
  const endHi = new BigUint64Array(lines);
  const endLo = new BigUint64Array(lines);
  const asns = new Uint32Array(lines);
  const orgs = new Map<number, string>();
  let n = 0;
  forEachRange(text, orgs, (start, end, asn) => {
    let s: bigint;
    let e: bigint;
    try {
      s = BigInt(start);
      e = BigInt(end);
    } catch {
      return false; // a line whose bounds are not integers is skipped, like one without enough fields
    }
    startHi[n] = s >> 64n;
    startLo[n] = s & LOW64;
    endHi[n] = e >> 64n;
    endLo[n] = e & LOW64;
    asns[n++] = asn;
    return true;
  });
  return { startHi: startHi.subarray(0, n), startLo: startLo.subarray(0, n), endHi: endHi.subarray(0, n), endLo: endLo.subarray(0, n), asns: asns.subarray(0, n), orgs };
}

/** The two 64-bit halves of an IPv6 address (not an IPv4-mapped one: that is its IPv4 address). */
function addressHalves(ip: string): [bigint, bigint] | undefined {
  const a = parseAddress(ip);
  if (a === undefined || a.kind() !== 'ipv6') return undefined;
  return ipv6Halves((a as { parts: number[] }).parts);
}

/** `t`'s answer for an IPv6 address. */
export function lookupAsn6(t: Asn6Table, ip: string): AsnInfo | undefined {
  const h = addressHalves(ip);
  if (h === undefined) return undefined;
  const i = rangeIndex128(t, h[0], h[1]);
  if (i < 0) return undefined;
  const asn = t.asns[i]!;
  return { asn, org: t.orgs.get(asn) ?? '' };
}

/** The bundled IPv6 table, once per process, the first time an IPv6 address is looked up. */
function loadTable6(): Asn6Table | null {
  if (table6 !== undefined) return table6;
  try {
    table6 = parseAsn6Csv(readFileSync(createRequire(import.meta.url).resolve('@ip-location-db/asn/asn-ipv6-num.csv'), 'utf8'));
  } catch (e) {
    table6Error = (e as Error).message;
    table6 = null;
  }
  return table6;
}

/** Lines of `text` (an upper bound on its ranges). */
function lineCount(text: string): number {
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}

/**
 * Walks the `start,end,asn[,org]` lines of an ip-location-db ASN CSV: `range` gets each line's bounds (as text) and
 * AS number and says whether it kept the line; the first organisation name of each kept AS goes into `orgs`.
 */
function forEachRange(text: string, orgs: Map<number, string>, range: (start: string, end: string, asn: number) => boolean): void {
  let pos = 0;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    const c1 = text.indexOf(',', pos);
    const c2 = text.indexOf(',', c1 + 1);
    const c3 = text.indexOf(',', c2 + 1);
    if (c1 > pos && c2 > c1 && c2 < eol) {
      const asn = Number(text.slice(c2 + 1, c3 > 0 && c3 < eol ? c3 : eol));
      if (range(text.slice(pos, c1), text.slice(c1 + 1, c2), asn) && c3 > 0 && c3 < eol && !orgs.has(asn)) {
        orgs.set(asn, text.slice(c3 + 1, eol).replace(/^"|"$/g, '').replace(/""/g, '"').trim());
      }
    }
    pos = eol + 1;
  }
}

/** Parses `asn-ipv4-num.csv` (`start,end,asn,org`, sorted by start) into typed arrays. */
export function parseAsnCsv(text: string): AsnTable & { orgs: Map<number, string> } {
  const lines = lineCount(text);
  const starts = new Uint32Array(lines);
  const ends = new Uint32Array(lines);
  const asns = new Uint32Array(lines);
  const orgs = new Map<number, string>();
  let n = 0;
  forEachRange(text, orgs, (start, end, asn) => {
    starts[n] = Number(start);
    ends[n] = Number(end);
    asns[n++] = asn;
    return true;
  });
  return { starts: starts.subarray(0, n), ends: ends.subarray(0, n), asns: asns.subarray(0, n), orgs };
}

/** 'SAS2' little-endian: the second layout (the first held the organisations as JSON, ~40 ms to decode). */
const MAGIC = 0x32534153;

/**
 * What a parsed copy was made from: the CSV's package version, file name and size. A copy is used only
 * when its key is the CSV's, so an updated `@ip-location-db/asn` is never answered from an older copy.
 * (No modification time: `npm ci` in an image's build stage and in its final stage give the same file
 * different times.)
 */
export function asnCsvKey(csvFile: string, size = statSync(csvFile).size): string {
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(join(dirname(csvFile), 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    version = `${String(pkg.name)}@${String(pkg.version)}`;
  } catch {
    // No package.json beside it (a test's CSV): the name and size still key the copy.
  }
  return `${version} ${basename(csvFile)} ${size}`;
}

/** Sorted ASNs, offsets into UTF-8 bytes: a name is decoded only when an alert or a baseline asks for it. */
class PackedOrgs implements AsnOrgs {
  private readonly seen = new Map<number, string>();
  constructor(
    private readonly keys: Uint32Array,
    private readonly offsets: Uint32Array,
    private readonly bytes: Buffer,
  ) {}

  get(asn: number): string | undefined {
    const hit = this.seen.get(asn);
    if (hit !== undefined) return hit;
    let lo = 0;
    let hi = this.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k === asn) {
        const s = this.bytes.toString('utf8', this.offsets[mid]!, this.offsets[mid + 1]!);
        this.seen.set(asn, s);
        return s;
      }
      if (k < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}

/**
 * The parsed table as one binary file: magic, key length, key (padded to 4 bytes), count of ranges, count of
 * organisations, then uint32 arrays (starts, ends, ASNs; the organisations' ASNs sorted and their names'
 * offsets) and the names' UTF-8 bytes. Every array is read in place, nothing is parsed.
 */
export function encodeAsnTable(t: AsnTable & { orgs: Map<number, string> }, key: string): Buffer {
  const n = t.starts.length;
  const keyBytes = Buffer.from(key, 'utf8');
  const keyPadded = Buffer.alloc(Math.ceil(keyBytes.length / 4) * 4);
  keyBytes.copy(keyPadded);
  const orgAsns = [...t.orgs.keys()].sort((a, b) => a - b);
  const names = orgAsns.map((a) => Buffer.from(t.orgs.get(a)!, 'utf8'));
  const offsets = new Uint32Array(orgAsns.length + 1);
  for (let i = 0; i < names.length; i++) offsets[i + 1] = offsets[i]! + names[i]!.length;
  const u32 = (a: Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([u32(new Uint32Array([MAGIC, keyBytes.length])), keyPadded, u32(new Uint32Array([n, orgAsns.length])), u32(t.starts), u32(t.ends), u32(t.asns), u32(Uint32Array.from(orgAsns)), u32(offsets), ...names]);
}

/** The table in `buf` when it is a whole copy made from the CSV with this key; undefined otherwise. */
export function decodeAsnTable(buf: Buffer, key: string): AsnTable | undefined {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) return undefined;
  const keyLength = buf.readUInt32LE(4);
  let off = 8 + Math.ceil(keyLength / 4) * 4;
  if (buf.length < off + 8 || buf.toString('utf8', 8, 8 + keyLength) !== key) return undefined;
  const n = buf.readUInt32LE(off);
  const m = buf.readUInt32LE(off + 4);
  off += 8;
  const bytesAt = off + (3 * n + 2 * m + 1) * 4;
  if (buf.length < bytesAt) return undefined;
  // In place when the buffer is aligned (readFileSync gives large files their own buffer), else copied.
  const aligned = (buf.byteOffset & 3) === 0;
  const words = (count: number): Uint32Array => {
    const at = buf.byteOffset + off;
    off += count * 4;
    return aligned ? new Uint32Array(buf.buffer, at, count) : new Uint32Array(buf.buffer.slice(at, at + count * 4));
  };
  const starts = words(n);
  const ends = words(n);
  const asns = words(n);
  const orgAsns = words(m);
  const offsets = words(m + 1);
  if (buf.length !== bytesAt + offsets[m]!) return undefined;
  return { starts, ends, asns, orgs: new PackedOrgs(orgAsns, offsets, buf.subarray(bytesAt)) };
}

/** The parsed copy `npm run build` writes beside the compiled code (ADR 0013); absent when running the sources. */
export const SHIPPED_ASN_TABLE = fileURLToPath(new URL('../../data/asn-ipv4.bin', import.meta.url));

/** Writes `csvFile`'s parsed copy to `file` (`npm run build`), atomically. */
export function writeAsnTableCopy(csvFile: string, file: string): void {
  const t = parseAsnCsv(readFileSync(csvFile, 'utf8'));
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, encodeAsnTable(t, asnCsvKey(csvFile)));
  renameSync(tmp, file);
}

/** The table in `file` when it exists and was made from the CSV with this key. */
function readCopy(file: string, key: string): AsnTable | undefined {
  try {
    return decodeAsnTable(readFileSync(file), key);
  } catch {
    return undefined; // missing or unreadable: the next source is tried
  }
}

/**
 * The table of `csvFile`: from `shipped` (the build's copy, dist/data/asn-ipv4.bin) when it was made from
 * this CSV; else from the parsed copy in `cacheDir` for this file's size and time; else parsed (~250 ms of
 * CPU, and the first event with a public address waits for it; a copy loads in a few ms), and the copy
 * written to `cacheDir`. A copy that cannot be read or is not this CSV's is passed over (a cache-folder
 * one replaced); one that cannot be written only costs the parse next time.
 */
export function loadAsnTable(csvFile: string, cacheDir: string | undefined, shipped?: string): AsnTable {
  const st = statSync(csvFile);
  const key = asnCsvKey(csvFile, st.size);
  const fromBuild = shipped === undefined ? undefined : readCopy(shipped, key);
  if (fromBuild !== undefined) return fromBuild;
  const copy = cacheDir === undefined ? undefined : join(cacheDir, `asn-ipv4-v2-${st.size}-${Math.floor(st.mtimeMs)}.bin`);
  if (copy !== undefined && existsSync(copy)) {
    const t = readCopy(copy, key);
    if (t !== undefined) return t;
  }
  const t = parseAsnCsv(readFileSync(csvFile, 'utf8'));
  if (copy !== undefined) {
    try {
      mkdirSync(cacheDir!, { recursive: true });
      const tmp = `${copy}.${process.pid}.tmp`;
      writeFileSync(tmp, encodeAsnTable(t, key));
      renameSync(tmp, copy);
    } catch {
      // A read-only cache folder costs the parse at the next start, nothing else.
    }
  }
  return t;
}

/** The CSV of the bundled database. */
export function bundledAsnCsv(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/asn/asn-ipv4-num.csv');
}

/** The bundled table, once per process. */
function loadTable(): AsnTable | null {
  if (table !== undefined) return table;
  try {
    table = loadAsnTable(bundledAsnCsv(), seamCacheDir(), SHIPPED_ASN_TABLE);
  } catch (e) {
    tableError = (e as Error).message;
    table = null;
  }
  return table;
}

/** Why the bundled database could not be read, if it could not (the detections then use prefixes and other evidence). */
export function asnDatabaseError(): string | undefined {
  loadTable();
  return tableError;
}

/** Why the bundled IPv6 table could not be read, if it could not (loads it). */
export function asn6DatabaseError(): string | undefined {
  loadTable6();
  return table6Error;
}

/** `t`'s answer for an IPv4 address. */
export function lookupAsn(t: AsnTable, ip: string): AsnInfo | undefined {
  const n = ipv4ToInt(ip);
  if (n === undefined) return undefined;
  const i = rangeIndex(t.starts, t.ends, n);
  if (i < 0) return undefined;
  const asn = t.asns[i]!;
  return { asn, org: t.orgs.get(asn) ?? '' };
}

/** Recent IPv6 answers: an IPv6 lookup parses the address and compares BigInts (~3 µs); a busy address repeats. */
const v6Answers = new Map<string, AsnInfo | null>();
const V6_MEMO = 4096;

/** The bundled database's answer for an IPv4 or IPv6 address. */
export const bundledAsnLookup: AsnLookup = (ip) => {
  if (ipv4ToInt(ip) === undefined) {
    if (!ip.includes(':')) return undefined;
    const hit = v6Answers.get(ip);
    if (hit !== undefined) return hit ?? undefined;
    const t6 = loadTable6();
    if (t6 === null) return undefined;
    const answer = lookupAsn6(t6, ip);
    if (v6Answers.size >= V6_MEMO) v6Answers.clear();
    v6Answers.set(ip, answer ?? null);
    return answer;
  }
  const t = loadTable();
  return t === null ? undefined : lookupAsn(t, ip);
};

/** An address's /16 (IPv4) or /48 (IPv6): the network of an address no AS is known for. */
export function networkPrefix(ip: string): string {
  const n = ipv4ToInt(ip);
  if (n !== undefined) return `${Math.floor(n / 16777216)}.${Math.floor(n / 65536) % 256}.0.0/16`;
  const a = parseAddress(ip);
  const parts = a !== undefined && a.kind() === 'ipv6' ? (a.toNormalizedString().split(':') as string[]) : ['?'];
  return parts.slice(0, 3).join(':') + '::/48';
}

/**
 * What the baselines know about an address. `lookup` undefined = no database: networks are prefixes and
 * the AWS question has no answer.
 */
export function networkOf(text: string, lookup: AsnLookup | undefined, amazonAsns: readonly number[] = AMAZON_ASNS, awsRanges?: AwsRanges): NetworkInfo | undefined {
  // An IPv4 address as ipaddr.js writes it back (no leading zero): answered from its number, no address object.
  const n = ipv4Number(text, true);
  if (n !== undefined) return networkOfIpv4(text, n, lookup, amazonAsns, awsRanges);
  const a = parseAddress(text);
  if (a === undefined) return undefined;
  // An IPv4-mapped IPv6 address is its IPv4 address.
  const ip = a.toString();
  const v4 = a.kind() === 'ipv4';
  if (!v4) {
    const parts = (a as { parts: number[] }).parts;
    // A 6to4 address (2002::/16) is its host's IPv4 address. (NAT64's 64:ff9b::/96 embeds the destination's
    // IPv4, not the caller's: outside 2000::/3, unplaceable below.)
    if (parts[0] === 0x2002) return networkOf([parts[1]! >> 8, parts[1]! & 255, parts[2]! >> 8, parts[2]! & 255].join('.'), lookup, amazonAsns, awsRanges);
    // Link-local (fe80::/10), unique local (fc00::/7, isPrivateIp) and loopback are private.
    if ((parts[0]! & 0xffc0) === 0xfe80 || (parts[0]! & 0xfe00) === 0xfc00 || ip === '::1') return { key: 'private', label: 'private address', aws: undefined, private: true };
    // Only global unicast (2000::/3) is anyone's on the Internet; in it, documentation (2001:db8::/32,
    // 3fff::/20) and Teredo (2001::/32, a tunnel whose relay is not the client) say nothing about where a
    // caller is. Those cannot be placed, as without a database.
    const global = (parts[0]! & 0xe000) === 0x2000;
    const unplaceable = !global || (parts[0] === 0x2001 && (parts[1] === 0x0db8 || parts[1] === 0)) || (parts[0] === 0x3fff && parts[1]! < 0x1000);
    const p = networkPrefix(ip);
    if (unplaceable) return { key: p, label: p, aws: undefined, private: false };
    const hit = lookup !== undefined ? lookup(ip) : undefined;
    if (awsRanges !== undefined) return exactNetwork(lookupAwsRange6(awsRanges, parts), hit, p);
    if (hit !== undefined) return { key: `AS${hit.asn}`, label: `AS${hit.asn}${hit.org ? ' ' + hit.org : ''}`, asn: hit.asn, aws: amazonAsns.includes(hit.asn), private: false };
    // A global address no AS announces is not one of Amazon's, when the bundled IPv6 table answered; a lookup
    // passed in by an embedder may know IPv4 only, and its silence says nothing.
    return { key: p, label: p, aws: lookup === bundledAsnLookup && table6 !== null ? false : undefined, private: false };
  }
  const priv = isPrivateIp(ip) || /^(127|169\.254)\./.test(ip);
  if (priv) return { key: 'private', label: 'private address', aws: undefined, private: true };
  const hit = lookup !== undefined ? lookup(ip) : undefined;
  if (awsRanges !== undefined) return exactNetwork(lookupAwsRange4(awsRanges, ipv4Number(ip)!), hit, networkPrefix(ip));
  if (hit !== undefined) {
    const aws = amazonAsns.includes(hit.asn);
    return { key: `AS${hit.asn}`, label: `AS${hit.asn}${hit.org ? ' ' + hit.org : ''}`, asn: hit.asn, aws, private: false };
  }
  const p = networkPrefix(ip);
  // A public IPv4 address no AS announces is not one of Amazon's; without a database we cannot tell.
  return { key: p, label: p, aws: lookup !== undefined && table !== null ? false : undefined, private: false };
}

/**
 * Where an address counts as one host for "the same address again" comparisons: an IPv4 address itself, an IPv6
 * address its /64 (a host picks new addresses in its /64: privacy extensions, several per interface). With
 * the family, so IPv4 and IPv6 sightings of a dual-stack host are followed apart.
 */
export function addressPlace(text: string): { family: '4' | '6'; place: string } | undefined {
  const a = parseAddress(text);
  if (a === undefined) return undefined;
  if (a.kind() === 'ipv4') return { family: '4', place: a.toString() };
  const parts = (a as { parts: number[] }).parts;
  return { family: '6', place: parts.slice(0, 4).map((x) => x.toString(16)).join(':') + '::/64' };
}

/**
 * Where a cluster's own traffic comes from, for "an address the cluster uses" comparisons: an IPv4 address
 * itself (a node's, a NAT gateway's); an IPv6 address its /56, the block AWS gives a VPC, in which each node and
 * each pod of an IPv6 cluster has addresses of its own.
 */
export function clusterPlace(text: string): string | undefined {
  const a = parseAddress(text);
  if (a === undefined) return undefined;
  if (a.kind() === 'ipv4') return a.toString();
  const parts = (a as { parts: number[] }).parts;
  return `${parts[0]!.toString(16)}:${parts[1]!.toString(16)}:${parts[2]!.toString(16)}:${(parts[3]! & 0xff00).toString(16)}::/56`;
}

/** `networkOf` for a canonical IPv4 address `ip` (its number `n`): the same answers, read from the number. */
function networkOfIpv4(ip: string, n: number, lookup: AsnLookup | undefined, amazonAsns: readonly number[], awsRanges: AwsRanges | undefined): NetworkInfo {
  const a = Math.floor(n / 16777216);
  const b = Math.floor(n / 65536) % 256;
  // isPrivateIp's IPv4 ranges (10/8, 172.16/12, 192.168/16, 100.64/10), then loopback and link-local.
  const priv = a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128) || a === 127 || (a === 169 && b === 254);
  if (priv) return { key: 'private', label: 'private address', aws: undefined, private: true };
  const hit = lookup !== undefined ? lookup(ip) : undefined;
  if (awsRanges !== undefined) return exactNetwork(lookupAwsRange4(awsRanges, n), hit, `${a}.${b}.0.0/16`);
  if (hit !== undefined) {
    const aws = amazonAsns.includes(hit.asn);
    return { key: `AS${hit.asn}`, label: `AS${hit.asn}${hit.org ? ' ' + hit.org : ''}`, asn: hit.asn, aws, private: false };
  }
  const p = `${a}.${b}.0.0/16`;
  return { key: p, label: p, aws: lookup !== undefined && table !== null ? false : undefined, private: false };
}

/**
 * A public address's network when AWS's ranges are given: they alone say whether it is AWS's (an address in an
 * Amazon AS but in no published range, Amazon's corporate space, is outside AWS), and place an AWS address in its
 * region (the key the baselines learn); the AS (or the prefix, without the database) still names every other network.
 */
function exactNetwork(range: AwsRange | undefined, hit: AsnInfo | undefined, prefix: string): NetworkInfo {
  const as = hit === undefined ? {} : { asn: hit.asn };
  if (range !== undefined) {
    const where = range.border === range.region ? range.service : `${range.service}, ${range.border}`;
    return { key: `aws:${range.region}`, label: `AWS ${range.region} (${where})`, ...as, aws: true, region: range.region, service: range.service, private: false };
  }
  if (hit !== undefined) return { key: `AS${hit.asn}`, label: `AS${hit.asn}${hit.org ? ' ' + hit.org : ''}`, asn: hit.asn, aws: false, private: false };
  return { key: prefix, label: prefix, aws: false, private: false };
}

/**
 * The user-agent family of a CloudTrail call: who made it, coarsely. Software on an EC2 instance calls AWS
 * through agents and SDKs (`amazon-ssm-agent`, `aws-sdk-go … exec-env/AWS_ECS_EC2`, the CloudWatch agent);
 * a person with copied keys uses a CLI or a script.
 */
export type UaFamily = 'console' | 'aws-service' | 'ec2-agent' | 'cli' | 'sdk' | 'script' | 'attack-tool' | 'other' | 'none';

export function userAgentFamily(ua: string | undefined): UaFamily {
  if (ua === undefined || ua === '') return 'none';
  // CloudTrail writes some user agents in brackets (`[aws-cli/1.18.69 Python/3.8.5 …]`).
  const u = ua.toLowerCase().replace(/^\[/, '');
  // Offensive tooling only: auditors' scanners (Prowler, ScoutSuite) legitimately run on instances with their role.
  // Adversary-emulation harnesses (Stratus Red Team) are deliberately absent: they must be caught by what they do.
  if (/pacu|weirdaal|kali|parrot|pentoo/.test(u)) return 'attack-tool';
  if (u.endsWith('.amazonaws.com') || u === 'aws internal' || u.startsWith('aws internal')) return 'aws-service';
  if (/signin\.amazonaws\.com|console\.amazonaws\.com|aws-internal\/3/.test(u)) return 'console';
  if (/amazon-ssm-agent|amazon-cloudwatch-agent|ec2-instance-connect|aws-ec2-instance|exec-env\/aws_ecs_ec2|exec-env\/aws_ec2|cloud-init|amazon-ecs-agent|aws-node|amazon-vpc-cni|kubelet|eks-node/.test(u)) return 'ec2-agent';
  if (/^aws-cli\/|awscli|aws-powershell|awspowershell|^aws-shell/.test(u)) return 'cli';
  if (/^(python-requests|curl|wget|go-http-client|okhttp|postmanruntime|insomnia|httpie|powershell)\b|^mozilla\/5\.0 \(compatible; .*bot/.test(u)) return 'script';
  if (/boto3|botocore|aws-sdk|aws-sdk-java|aws-sdk-go|aws-sdk-js|aws-sdk-dotnet|aws-sdk-rust|aws-sdk-ruby|aws-sdk-php|s3-browser|cyberduck|rclone|terraform|pulumi|cdk/.test(u)) return 'sdk';
  if (u.startsWith('mozilla/')) return 'console';
  return 'other';
}

/** Does the user agent say it runs on a desktop OS (macOS: EC2 Mac instances aside, an instance runs Linux or Windows Server)? */
export function desktopUserAgent(ua: string | undefined): boolean {
  return ua !== undefined && /os\/macos|darwin|md\/os#macos/i.test(ua);
}
