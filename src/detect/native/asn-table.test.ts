import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asn6DatabaseError, asnCsvKey, bundledAsnCsv, bundledAsnLookup, decodeAsnTable, loadAsnTable, lookupAsn, lookupAsn6, parseAsn6Csv, parseAsnCsv, writeAsnTableCopy, type AsnTable } from './networks.ts';

// A small table in the bundled file's shape (start,end,asn,org; an org with a comma is quoted).
const CSV = ['16777216,16777471,13335,"Cloudflare, Inc."', '16778240,16779263,38803,Gtelecom Pty Ltd', '50331648,67108863,16509,"Amazon.com, Inc."', '67108864,67109119,16509,Amazon.com Inc. (2)', ''].join('\n');
const ORGS: [number, string | undefined][] = [
  [13335, 'Cloudflare, Inc.'],
  [38803, 'Gtelecom Pty Ltd'],
  [16509, 'Amazon.com, Inc.'],
  [64512, undefined],
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-asn-'));
  writeFileSync(join(dir, 'asn.csv'), CSV);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function expectSameTable(t: AsnTable, parsed: AsnTable): void {
  expect([...t.starts]).toEqual([...parsed.starts]);
  expect([...t.ends]).toEqual([...parsed.ends]);
  expect([...t.asns]).toEqual([...parsed.asns]);
  for (const [asn, org] of ORGS) expect(t.orgs.get(asn)).toBe(org);
}

describe('ASN table and its parsed copy in the cache folder', () => {
  it('the copy, once written, loads the same table as the CSV', () => {
    const parsed = parseAsnCsv(CSV);
    expect([...parsed.starts]).toEqual([16777216, 16778240, 50331648, 67108864]);
    for (const [asn, org] of ORGS) expect(parsed.orgs.get(asn)).toBe(org);
    const cache = join(dir, 'cache');
    const first = loadAsnTable(join(dir, 'asn.csv'), cache);
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/^asn-ipv4-v2-\d+-\d+\.bin$/)]);
    const second = loadAsnTable(join(dir, 'asn.csv'), cache);
    for (const t of [first, second]) expectSameTable(t, parsed);
  });

  it('a damaged copy is ignored and replaced; without a cache folder the CSV is parsed', () => {
    const cache = join(dir, 'cache');
    loadAsnTable(join(dir, 'asn.csv'), cache);
    const [copy] = readdirSync(cache);
    const good = readFileSync(join(cache, copy!));
    for (const junk of ['', 'SAS2', Buffer.from([0x53, 0x41, 0x53, 0x32, 0xff, 0xff, 0, 0]), good.subarray(0, good.length - 3), Buffer.concat([good, Buffer.from('x')])]) {
      writeFileSync(join(cache, copy!), junk);
      expect([...loadAsnTable(join(dir, 'asn.csv'), cache).asns]).toEqual([13335, 38803, 16509, 16509]);
      expect(readFileSync(join(cache, copy!))).toEqual(good);
      expect([...loadAsnTable(join(dir, 'asn.csv'), cache).asns]).toEqual([13335, 38803, 16509, 16509]);
    }
    expect(loadAsnTable(join(dir, 'asn.csv'), undefined).orgs.get(38803)).toBe('Gtelecom Pty Ltd');
  });
});

describe("the build's copy of the ASN table (dist/data/asn-ipv4.bin, ADR 0013)", () => {
  it('is preferred, and answers like the CSV it was made from', () => {
    const shipped = join(dir, 'data', 'asn-ipv4.bin');
    writeAsnTableCopy(join(dir, 'asn.csv'), shipped);
    const cache = join(dir, 'cache');
    expectSameTable(loadAsnTable(join(dir, 'asn.csv'), cache, shipped), parseAsnCsv(CSV));
    // Taken from the build's copy: nothing parsed, so nothing written to the cache folder.
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
  });

  it('a copy made from another CSV (other size, other package version) is never read: the CSV is parsed', () => {
    const csv = join(dir, 'asn.csv');
    const shipped = join(dir, 'asn-ipv4.bin');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@ip-location-db/asn', version: '1.0.0' }));
    writeAsnTableCopy(csv, shipped);
    expect(asnCsvKey(csv)).toBe(`@ip-location-db/asn@1.0.0 asn.csv ${CSV.length}`);
    expect(decodeAsnTable(readFileSync(shipped), asnCsvKey(csv))).toBeDefined();
    // The package updated, same size: the copy is stale.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@ip-location-db/asn', version: '1.0.1' }));
    expect(decodeAsnTable(readFileSync(shipped), asnCsvKey(csv))).toBeUndefined();
    // The CSV changed: a new range for AS64512.
    const changed = CSV + '67109120,67109375,64512,Example Net\n';
    writeFileSync(csv, changed);
    const t = loadAsnTable(csv, undefined, shipped);
    expect([...t.asns]).toEqual([13335, 38803, 16509, 16509, 64512]);
    expect(lookupAsn(t, '4.0.1.1')).toEqual({ asn: 64512, org: 'Example Net' });
    // A missing copy is no error either.
    expect([...loadAsnTable(csv, undefined, join(dir, 'nope.bin')).asns]).toHaveLength(5);
  });

  it("on the bundled database, the copy gives the CSV's answers", () => {
    const csv = bundledAsnCsv();
    const shipped = join(dir, 'asn-ipv4.bin');
    writeAsnTableCopy(csv, shipped);
    const parsed = parseAsnCsv(readFileSync(csv, 'utf8'));
    const copy = decodeAsnTable(readFileSync(shipped), asnCsvKey(csv))!;
    expect(copy).toBeDefined();
    expect(copy.starts.length).toBe(parsed.starts.length);
    // AWS (us-east-1, eu-west-1), Google DNS, Cloudflare, an address no AS announces, the ends of the space.
    for (const ip of ['52.95.110.1', '3.5.140.2', '8.8.8.8', '1.1.1.1', '198.51.100.7', '0.0.0.0', '255.255.255.255', '185.220.101.4']) {
      expect(lookupAsn(copy, ip)).toEqual(lookupAsn(parsed, ip));
    }
    expect(lookupAsn(copy, '52.95.110.1')?.asn).toBe(16509);
    expect(lookupAsn(copy, '8.8.8.8')?.org).toBe(parsed.orgs.get(15169));
  });
});

describe('the IPv6 table (asn-ipv6-num.csv)', () => {
  const v6 = (text: string): bigint => {
    // Test helper: a full 8-group address to its 128-bit value.
    return text.split(':').reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
  };
  const csv = [
    [v6('2001:0db8:0000:0000:0000:0000:0000:0000'), v6('2001:0db8:0000:0000:0000:0000:0000:002f'), 64500, 'Sub-64 One'],
    [v6('2001:0db8:0000:0000:0000:0000:0000:0030'), v6('2001:0db8:0000:0000:0000:0000:0000:0030'), 64501, '"Single, Address"'],
    [v6('2001:0db8:0000:0000:0000:0000:0000:0031'), v6('2001:0db8:0000:ffff:ffff:ffff:ffff:ffff'), 64500, 'Sub-64 One'],
    [v6('2a05:d000:0000:0000:0000:0000:0000:0000'), v6('2a05:d07f:ffff:ffff:ffff:ffff:ffff:ffff'), 16509, 'Amazon.com, Inc.'],
  ]
    .map((r) => r.join(','))
    .join('\n');
  const t = parseAsn6Csv(csv + '\nnot,a,line\n');

  it('reads 128-bit bounds exactly, below /64 too, and skips lines whose bounds are not numbers', () => {
    expect(t.asns.length).toBe(4);
    expect(lookupAsn6(t, '2001:db8::2f')).toEqual({ asn: 64500, org: 'Sub-64 One' });
    expect(lookupAsn6(t, '2001:db8::30')).toEqual({ asn: 64501, org: 'Single, Address' });
    expect(lookupAsn6(t, '2001:db8::31')?.asn).toBe(64500);
    expect(lookupAsn6(t, '2001:db8:0:ffff:ffff:ffff:ffff:ffff')?.asn).toBe(64500);
    expect(lookupAsn6(t, '2001:db8:1::')).toBeUndefined(); // past the range's end
    expect(lookupAsn6(t, '2a05:d014:abc::1')?.asn).toBe(16509);
    expect(lookupAsn6(t, '2000::1')).toBeUndefined(); // before the first range
    expect(lookupAsn6(t, '10.0.0.1')).toBeUndefined(); // not IPv6
  });

  it('the bundled table places Amazon, another provider and unannounced space', () => {
    expect(bundledAsnLookup('2600:1f18:4a3:6f00::7')?.asn).toBeOneOf([16509, 14618]);
    expect(bundledAsnLookup('2a01:4f8:1c1c::1')?.asn).toBe(24940);
    expect(bundledAsnLookup('2001:db8::1')).toBeUndefined();
    expect(asn6DatabaseError()).toBeUndefined();
  });
});
