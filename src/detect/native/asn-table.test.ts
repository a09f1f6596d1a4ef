import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAsnTable, parseAsnCsv } from './networks.ts';

// A small table in the bundled file's shape (start,end,asn,org; an org with a comma is quoted).
const CSV = ['16777216,16777471,13335,"Cloudflare, Inc."', '16778240,16779263,38803,Gtelecom Pty Ltd', '50331648,67108863,16509,"Amazon.com, Inc."', '67108864,67109119,16509,Amazon.com Inc. (2)', ''].join('\n');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-asn-'));
  writeFileSync(join(dir, 'asn.csv'), CSV);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ASN table and its parsed copy in the cache folder', () => {
  it('the copy, once written, loads the same table as the CSV', () => {
    const parsed = parseAsnCsv(CSV);
    expect([...parsed.starts]).toEqual([16777216, 16778240, 50331648, 67108864]);
    expect(parsed.orgs.get(13335)).toBe('Cloudflare, Inc.');
    expect(parsed.orgs.get(16509)).toBe('Amazon.com, Inc.');
    const cache = join(dir, 'cache');
    const first = loadAsnTable(join(dir, 'asn.csv'), cache);
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/^asn-ipv4-\d+-\d+\.bin$/)]);
    const second = loadAsnTable(join(dir, 'asn.csv'), cache);
    for (const t of [first, second]) {
      expect([...t.starts]).toEqual([...parsed.starts]);
      expect([...t.ends]).toEqual([...parsed.ends]);
      expect([...t.asns]).toEqual([...parsed.asns]);
      expect(t.orgs).toEqual(parsed.orgs);
    }
  });

  it('a damaged copy is ignored and replaced; without a cache folder the CSV is parsed', () => {
    const cache = join(dir, 'cache');
    loadAsnTable(join(dir, 'asn.csv'), cache);
    const [copy] = readdirSync(cache);
    for (const junk of ['', 'SASN', Buffer.from([0x53, 0x41, 0x53, 0x4e, 0xff, 0xff, 0, 0])]) {
      writeFileSync(join(cache, copy!), junk);
      expect([...loadAsnTable(join(dir, 'asn.csv'), cache).asns]).toEqual([13335, 38803, 16509, 16509]);
      expect([...loadAsnTable(join(dir, 'asn.csv'), cache).asns]).toEqual([13335, 38803, 16509, 16509]);
    }
    expect(loadAsnTable(join(dir, 'asn.csv'), undefined).orgs.get(38803)).toBe('Gtelecom Pty Ltd');
  });
});
