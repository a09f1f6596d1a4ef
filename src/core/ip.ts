/**
 * Addresses and CIDR ranges, in one place, on ipaddr.js (a maintained parser): the Sigma `cidr` modifier,
 * the hunting compiler, the identity graph's egress learning and the native detections all read an address
 * the same way.
 *
 * How a text is read as an address:
 * - surrounding whitespace and IPv6 brackets (`[2001:db8::1]`) are ignored, so is an IPv6 zone (`fe80::1%eth0`);
 * - IPv4 is four decimal octets of 1–3 digits (`010.0.0.1` is 10.0.0.1, never octal), each ≤ 255;
 * - IPv6 in any form RFC 4291 allows (compressed, full, with an embedded IPv4 tail);
 * - an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) IS the IPv4 address: a log that writes a client as mapped
 *   IPv6 must still fall inside `10.0.0.0/8`.
 * A range is `address/bits` or a single address (/32, /128); a mapped IPv6 range of /96 or more is the IPv4
 * range it maps.
 */
import ipaddr from 'ipaddr.js';

export type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface Cidr {
  readonly address: Address;
  readonly bits: number;
  readonly kind: 'ipv4' | 'ipv6';
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address a text names, or undefined. See the module comment for what is accepted. */
export function parseAddress(text: string): Address | undefined {
  let t = text.trim();
  const m = V4.exec(t);
  if (m !== null) {
    const octets = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    return octets.every((o) => o <= 255) ? new ipaddr.IPv4(octets) : undefined;
  }
  if (!t.includes(':')) return undefined;
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (!ipaddr.IPv6.isValid(t)) return undefined;
  const v6 = ipaddr.IPv6.parse(t);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/**
 * Whether `parseAddress(text)` names an address, without building it: the same tests (an IPv4 text's octets each
 * ≤ 255; an IPv6 text valid once brackets and zone are cut off), for callers that only ask (once per detection
 * and event, src/detect/native/util.ts connectionAddress).
 */
export function isAddress(text: string): boolean {
  let t = text.trim();
  const m = V4.exec(t);
  if (m !== null) return Number(m[1]) <= 255 && Number(m[2]) <= 255 && Number(m[3]) <= 255 && Number(m[4]) <= 255;
  if (!t.includes(':')) return false;
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  return ipaddr.IPv6.isValid(t);
}

/** `10.0.0.0/8`, `2001:db8::/36`, `::ffff:10.0.0.0/104` or a single address; undefined if malformed. */
export function parseCidr(spec: string): Cidr | undefined {
  const parts = spec.trim().split('/');
  if (parts.length > 2) return undefined;
  const [addrText = '', bitsText] = parts;
  let t = addrText.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  // Read the range's own address without unwrapping a mapped one yet: its prefix length counts IPv6 bits.
  let address: Address | undefined;
  if (V4.test(t)) address = parseAddress(t);
  else if (t.includes(':') && ipaddr.IPv6.isValid(t)) address = ipaddr.IPv6.parse(t);
  if (address === undefined) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText.trim()) ? Number(bitsText.trim()) : NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && bits >= 96) {
    return { address: address.toIPv4Address(), bits: bits - 96, kind: 'ipv4' };
  }
  return { address, bits, kind: address.kind() };
}

/** Is `address` inside `range`? Addresses of the other family never are. */
export function contains(range: Cidr, address: Address): boolean {
  if (address.kind() !== range.kind) return false;
  return address.match(range.address, range.bits);
}

/** A reusable test for one range (parsed once); undefined if the range is malformed. */
export function cidrMatcher(spec: string): ((text: string) => boolean) | undefined {
  const range = parseCidr(spec);
  if (range === undefined) return undefined;
  return (text) => {
    const a = parseAddress(text);
    return a !== undefined && contains(range, a);
  };
}

/** `ip` inside `cidr` (a range or a single address); false when either does not parse. */
export function inCidr(ip: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  const a = parseAddress(ip);
  return range !== undefined && a !== undefined && contains(range, a);
}

const PRIVATE: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'].map((c) => parseCidr(c)!);

/**
 * An address of a private network (RFC 1918, carrier-grade NAT 100.64/10, IPv6 unique local fc00::/7): what a
 * workload inside a VPC calls from. Loopback and link-local are not private networks here (not a VPC caller).
 */
export function isPrivateIp(ip: string): boolean {
  // Plain dotted IPv4 (what nearly every caller passes): the same ranges, read from the octets, no address object.
  const n = ipv4Number(ip);
  if (n !== undefined) {
    const a = n >>> 24;
    const b = (n >>> 16) & 255;
    return a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b < 128);
  }
  const a = parseAddress(ip);
  return a !== undefined && PRIVATE.some((r) => contains(r, a));
}

/**
 * The 32-bit value of a text that is exactly four dot-separated decimal octets of 1–3 digits each ≤ 255 (what
 * `parseAddress` reads as IPv4 when there is no surrounding space); undefined for anything else, which then takes
 * the full path. `canonical`: also undefined when an octet has a leading zero, so that the text is exactly what
 * `parseAddress(text).toString()` writes back.
 */
export function ipv4Number(text: string, canonical = false): number | undefined {
  const len = text.length;
  if (len < 7 || len > 15) return undefined;
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (canonical && digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + octet;
}

/** An IPv6 address's eight 16-bit groups as two 64-bit halves (high, low). */
export function ipv6Halves(parts: readonly number[]): [bigint, bigint] {
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 4; i++) hi = (hi << 16n) | BigInt(parts[i]!);
  for (let i = 4; i < 8; i++) lo = (lo << 16n) | BigInt(parts[i]!);
  return [hi, lo];
}

/**
 * The index of the range holding `n` among disjoint ranges sorted by start (`starts[i]..ends[i]`, inclusive), or
 * -1: the last range starting at or before it, if it also ends at or after it. The IPv4 tables' one search.
 */
export function rangeIndex(starts: ArrayLike<number>, ends: ArrayLike<number>, n: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= n) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && ends[hi]! >= n ? hi : -1;
}

/** 128-bit ranges as 64-bit halves, sorted by start and disjoint. */
export interface Ranges128 {
  startHi: ArrayLike<bigint>;
  startLo: ArrayLike<bigint>;
  endHi: ArrayLike<bigint>;
  endLo: ArrayLike<bigint>;
}

/** `rangeIndex` for IPv6 tables: the index of the range holding the address (`hi`, `lo`), or -1. */
export function rangeIndex128(t: Ranges128, hi: bigint, lo: bigint): number {
  let l = 0;
  let r = t.startHi.length - 1;
  while (l <= r) {
    const mid = (l + r) >>> 1;
    const sh = t.startHi[mid]!;
    if (sh < hi || (sh === hi && t.startLo[mid]! <= lo)) l = mid + 1;
    else r = mid - 1;
  }
  if (r < 0) return -1;
  const eh = t.endHi[r]!;
  return eh < hi || (eh === hi && t.endLo[r]! < lo) ? -1 : r;
}
