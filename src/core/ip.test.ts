import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { cidrMatcher, inCidr, ipv6Halves, isAddress, isPrivateIp, parseAddress, parseCidr, rangeIndex, rangeIndex128 } from './ip.ts';

describe('parseAddress', () => {
  it('reads IPv4, every IPv6 spelling, brackets and zones; an IPv4-mapped address is the IPv4 one', () => {
    expect(parseAddress('10.1.2.3')?.toString()).toBe('10.1.2.3');
    expect(parseAddress(' 010.001.002.003 ')?.toString()).toBe('10.1.2.3');
    expect(parseAddress('2001:db8::1')?.toNormalizedString()).toBe('2001:db8:0:0:0:0:0:1');
    expect(parseAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')?.toString()).toBe('2001:db8::1');
    expect(parseAddress('[2001:db8::1]')?.toString()).toBe('2001:db8::1');
    expect(parseAddress('fe80::1%eth0')?.toString()).toBe('fe80::1');
    expect(parseAddress('::ffff:10.1.2.3')?.toString()).toBe('10.1.2.3');
    expect(parseAddress('::FFFF:a01:203')?.toString()).toBe('10.1.2.3');
    expect(parseAddress('0:0:0:0:0:ffff:10.1.2.3')?.kind()).toBe('ipv4');
  });
  it('refuses what is not an address', () => {
    for (const t of ['', 'iam.amazonaws.com', '256.1.1.1', '1.2.3', '1.2.3.4.5', '2001:db8::1::2', '12345::1', 'AWS Internal', '0x0a.0.0.1']) {
      expect(parseAddress(t), t).toBeUndefined();
    }
  });
});

describe('isAddress', () => {
  it('says what parseAddress says, address or not', () => {
    const texts = ['10.1.2.3', ' 010.001.002.003 ', '255.255.255.255', '256.1.1.1', '1.256.1.1', '1.1.256.1', '1.1.1.256', '1.2.3', '1.2.3.4.5', '0x0a.0.0.1', '',
      'iam.amazonaws.com', 'AWS Internal', '2001:db8::1', '[2001:db8::1]', '[2001:db8::1', 'fe80::1%eth0', '::ffff:10.1.2.3', '::FFFF:a01:203', '2001:db8::1::2', '12345::1', ':', '::'];
    for (const t of texts) expect(isAddress(t), t).toBe(parseAddress(t) !== undefined);
  });
});

describe('inCidr', () => {
  it('matches compressed IPv6 against ranges written in full and the other way round', () => {
    expect(inCidr('2001:db8::1', '2001:0db8:0000::/48')).toBe(true);
    expect(inCidr('2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db8:0:1::5', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db9::5', '2001:db8::/32')).toBe(false);
  });
  it('honours prefixes that are not a multiple of 16 bits', () => {
    // 2001:db8:1000::/36 spans 2001:db8:1000:: … 2001:db8:1fff:ffff:…
    expect(inCidr('2001:db8:1fff::1', '2001:db8:1000::/36')).toBe(true);
    expect(inCidr('2001:db8:2000::1', '2001:db8:1000::/36')).toBe(false);
    expect(inCidr('2001:db8:0fff::1', '2001:db8:1000::/36')).toBe(false);
    expect(inCidr('10.0.0.129', '10.0.0.128/25')).toBe(true);
    expect(inCidr('10.0.0.127', '10.0.0.128/25')).toBe(false);
    expect(inCidr('172.31.255.255', '172.16.0.0/12')).toBe(true);
    expect(inCidr('172.32.0.0', '172.16.0.0/12')).toBe(false);
  });
  it('puts IPv4-mapped IPv6 addresses in IPv4 ranges, and mapped ranges over IPv4 addresses', () => {
    expect(inCidr('::ffff:10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('::ffff:11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('10.1.2.3', '::ffff:10.0.0.0/104')).toBe(true);
    expect(inCidr('11.1.2.3', '::ffff:10.0.0.0/104')).toBe(false);
  });
  it('single addresses, /0, other families and malformed ranges', () => {
    expect(inCidr('203.0.113.7', '203.0.113.7')).toBe(true);
    expect(inCidr('203.0.113.8', '203.0.113.7')).toBe(false);
    expect(inCidr('2001:db8::1', '2001:db8:0::1')).toBe(true);
    expect(inCidr('8.8.8.8', '0.0.0.0/0')).toBe(true);
    expect(inCidr('2001:db8::1', '0.0.0.0/0')).toBe(false);
    expect(inCidr('10.0.0.1', '::/0')).toBe(false);
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'nope/8']) expect(parseCidr(bad), bad).toBeUndefined();
  });
});

describe('isPrivateIp', () => {
  it('knows RFC 1918, CGNAT and IPv6 unique local, in any spelling', () => {
    for (const ip of ['10.0.151.8', '172.20.1.1', '192.168.0.10', '100.64.3.4', 'fd12:3456::1', 'FC00::1', '::ffff:10.0.0.1', '::ffff:192.168.1.1']) expect(isPrivateIp(ip), ip).toBe(true);
    for (const ip of ['198.51.100.77', '172.32.0.1', '2001:db8::1', 'fe80::1', '::ffff:8.8.8.8', 'sts.amazonaws.com']) expect(isPrivateIp(ip), ip).toBe(false);
  });
});

describe('isPrivateIp on dotted IPv4 (the octet fast path)', () => {
  it('answers as the address parser does (the same text with a leading space takes the parser)', () => {
    const edges = [0, 1, 9, 10, 11, 99, 100, 126, 127, 128, 168, 169, 171, 172, 173, 191, 192, 193, 254, 255, 256, 999];
    const seconds = [0, 15, 16, 31, 32, 63, 64, 127, 128, 167, 168, 169, 254, 255];
    let privates = 0;
    for (const a of edges) {
      for (const b of seconds) {
        for (const ip of [`${a}.${b}.0.1`, `${a}.${b}.255.255`, `0${a}.${b}.1.1`, `${a}.0${b}.1.1`, `${a}.${b}.300.1`, `${a}.${b}.1`, `${a}.${b}.1.1.1`]) {
          const fast = isPrivateIp(ip);
          expect(fast, ip).toBe(isPrivateIp(' ' + ip));
          if (fast) privates++;
        }
      }
    }
    expect(privates).toBeGreaterThan(0);
  });
});

// Property test against the library: whatever spelling an address is written in (compressed, full, upper
// case, bracketed, IPv4-mapped), the answer is the library's own bit comparison on the canonical addresses.
describe('property: same answer as ipaddr.js on canonical addresses', () => {
  // mulberry32: a seeded generator, so a failure replays.
  let seed = 0x5eed;
  const rnd = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  // An address one bit away from the range's own: inside exactly when that bit lies past the prefix.
  const flipOneBit = (bytes: number[]): number[] => {
    const bit = rnd(bytes.length * 8);
    const out = [...bytes];
    out[bit >> 3] = out[bit >> 3]! ^ (0x80 >> (bit & 7));
    return bytes.length === 16 ? Array.from({ length: 8 }, (_, k) => (out[2 * k]! << 8) | out[2 * k + 1]!) : out;
  };
  const randomV6 = (): ipaddr.IPv6 => new ipaddr.IPv6(Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(0x10000))));
  const randomV4 = (): ipaddr.IPv4 => new ipaddr.IPv4(Array.from({ length: 4 }, () => rnd(256)));
  const spellings6 = (a: ipaddr.IPv6): string[] => [a.toString(), a.toNormalizedString(), a.parts.map((p) => p.toString(16).padStart(4, '0')).join(':'), a.toString().toUpperCase(), `[${a.toString()}]`];
  const spellings4 = (a: ipaddr.IPv4): string[] => [a.toString(), `::ffff:${a.toString()}`, `0:0:0:0:0:ffff:${a.toString()}`];

  it('IPv6: 4000 random address/range pairs, near and far', () => {
    let inside = 0;
    for (let i = 0; i < 4000; i++) {
      const net = randomV6();
      const bits = rnd(129);
      // Half the addresses share the range's first bits, so both answers occur often.
      const addr = rnd(2) === 0 ? randomV6() : new ipaddr.IPv6(flipOneBit(net.toByteArray()));
      if (addr.isIPv4MappedAddress() || net.isIPv4MappedAddress()) continue;
      const expected = addr.match(net, bits);
      if (expected) inside++;
      for (const range of [`${net.toString()}/${bits}`, `${net.toNormalizedString()}/${bits}`]) {
        const test = cidrMatcher(range)!;
        for (const s of spellings6(addr)) expect(test(s), `${s} in ${range}`).toBe(expected);
      }
    }
    expect(inside).toBeGreaterThan(500);
  });

  it('IPv4 and IPv4-mapped: 4000 random pairs', () => {
    let inside = 0;
    for (let i = 0; i < 4000; i++) {
      const net = randomV4();
      const bits = rnd(33);
      const addr = rnd(2) === 0 ? randomV4() : new ipaddr.IPv4(flipOneBit(net.toByteArray()));
      const expected = addr.match(net, bits);
      if (expected) inside++;
      for (const range of [`${net.toString()}/${bits}`, `::ffff:${net.toString()}/${bits + 96}`]) {
        const test = cidrMatcher(range)!;
        for (const s of spellings4(addr)) expect(test(s), `${s} in ${range}`).toBe(expected);
      }
    }
    expect(inside).toBeGreaterThan(500);
  });
});

describe('rangeIndex / rangeIndex128 (the ASN and AWS range tables\' search)', () => {
  it('finds the range holding a number, its bounds included, and -1 in gaps and outside', () => {
    const starts = [10, 20, 40];
    const ends = [15, 29, 40];
    const want = (n: number): number => starts.findIndex((s, i) => s <= n && n <= ends[i]!);
    for (let n = 0; n <= 45; n++) expect(rangeIndex(starts, ends, n), `n=${n}`).toBe(want(n));
    expect(rangeIndex([], [], 5)).toBe(-1);
  });

  it('does the same on 128-bit bounds, across the halves', () => {
    const big = (ip: string): [bigint, bigint] => ipv6Halves((parseAddress(ip) as ipaddr.IPv6).parts);
    const rows = [
      ['2001:db8::', '2001:db8::ffff:ffff:ffff:ffff'],
      ['2001:db8:0:1::', '2001:db8:0:1::ff'],
      ['2600::', '2600::'],
    ].map(([s, e]) => [big(s!), big(e!)] as const);
    const t = { startHi: rows.map((r) => r[0][0]), startLo: rows.map((r) => r[0][1]), endHi: rows.map((r) => r[1][0]), endLo: rows.map((r) => r[1][1]) };
    const at = (ip: string): number => rangeIndex128(t, ...big(ip));
    expect(at('2001:db8::')).toBe(0);
    expect(at('2001:db8::ffff:ffff:ffff:ffff')).toBe(0);
    expect(at('2001:db8:0:1::')).toBe(1);
    expect(at('2001:db8:0:1::ff')).toBe(1);
    expect(at('2001:db8:0:1::100')).toBe(-1);
    expect(at('2600::')).toBe(2);
    expect(at('2600::1')).toBe(-1);
    expect(at('::1')).toBe(-1);
  });
});
