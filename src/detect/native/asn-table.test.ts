import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asnCsvKey, bundledAsnCsv, decodeAsnTable, loadAsnTable, lookupAsn, parseAsnCsv, writeAsnTableCopy, type AsnTable } from './networks.ts';

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
