/**
 * AWS ip-ranges.json at a realistic size (ADR 0049): a synthetic file of ~8,000 IPv4 and ~3,000 IPv6 prefixes in
 * AWS's format (made up here, in a temporary folder: AWS's file is not committed), then the load time, the
 * lookup time side by side with the bundled ASN table's and with an address parse alone, and the heap the table
 * holds. `node bin/tsx-run.mjs bench/aws-ranges.ts`
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { lookupAwsRange, readAwsRanges, type AwsIpRangesFile } from '../src/detect/native/aws-ranges.ts';
import { bundledAsnLookup, networkOf } from '../src/detect/native/networks.ts';
import { parseAddress } from '../src/core/ip.ts';

let seed = 42;
const rnd = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2', 'eu-central-1', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2', 'sa-east-1', 'ca-central-1', 'me-south-1', 'af-south-1', 'GLOBAL'];
const SERVICES = ['EC2', 'S3', 'CLOUDFRONT', 'ROUTE53_HEALTHCHECKS', 'API_GATEWAY', 'DYNAMODB', 'GLOBALACCELERATOR', 'EC2_INSTANCE_CONNECT'];
const FIRST_OCTETS = [3, 13, 15, 18, 34, 35, 43, 44, 46, 50, 52, 54, 63, 99, 100, 107, 108, 130, 150, 157, 176, 184];

/** Like AWS's: every range under AMAZON, about half of them again under a service, some nested more specifically. */
function synthetic(): AwsIpRangesFile {
  const prefixes: AwsIpRangesFile['prefixes'] = [];
  const entry = (p: string, region: string, service: string) => ({ ip_prefix: p, region, service, network_border_group: region });
  while (prefixes.length < 8_000) {
    const bits = 16 + rnd(9);
    const a = FIRST_OCTETS[rnd(FIRST_OCTETS.length)]!;
    const n = (a * 2 ** 24 + rnd(2 ** 24)) >>> 0;
    const start = Math.floor(n / 2 ** (32 - bits)) * 2 ** (32 - bits);
    const ip = (x: number): string => [Math.floor(x / 2 ** 24), Math.floor(x / 65536) % 256, Math.floor(x / 256) % 256, x % 256].join('.');
    const region = REGIONS[rnd(REGIONS.length)]!;
    prefixes.push(entry(`${ip(start)}/${bits}`, region, 'AMAZON'));
    if (rnd(2) === 0) prefixes.push(entry(`${ip(start)}/${bits}`, region, SERVICES[rnd(SERVICES.length)]!));
    if (rnd(4) === 0 && bits < 24) prefixes.push(entry(`${ip(start + 2 ** (32 - bits - 1))}/${bits + 1}`, region, SERVICES[rnd(SERVICES.length)]!));
  }
  const ipv6_prefixes: AwsIpRangesFile['ipv6_prefixes'] = [];
  while (ipv6_prefixes.length < 3_000) {
    const region = REGIONS[rnd(REGIONS.length)]!;
    const p = `2600:1f${(rnd(256) + 0x10).toString(16)}:${rnd(65536).toString(16)}::/${40 + rnd(17)}`;
    const bits = Number(p.split('/')[1]);
    const addr = parseAddress(p.split('/')[0]!)!.toByteArray();
    let v = 0n;
    for (const b of addr) v = (v << 8n) | BigInt(b);
    v &= ~((1n << BigInt(128 - bits)) - 1n);
    const hex = v.toString(16).padStart(32, '0').match(/.{4}/g)!.join(':');
    ipv6_prefixes.push({ ipv6_prefix: `${hex}/${bits}`, region, service: rnd(2) === 0 ? 'AMAZON' : 'EC2', network_border_group: region });
  }
  return { syncToken: '1795168800', createDate: '2026-11-20-10-00-00', prefixes, ipv6_prefixes };
}

const dir = mkdtempSync(join(tmpdir(), 'seam-bench-aws-ranges-'));
const file = join(dir, 'ip-ranges.json');
const doc = synthetic();
// AWS writes its file indented by two spaces.
writeFileSync(file, JSON.stringify(doc, null, 2));
writeFileSync(`${file}.gz`, gzipSync(JSON.stringify(doc), { level: 9 }));
console.log(`file: ${doc.prefixes.length} IPv4 + ${doc.ipv6_prefixes.length} IPv6 prefixes, ${statSync(file).size} bytes as AWS writes it, ${statSync(`${file}.gz`).size} gzipped (the --out copy)`);

const gc = (globalThis as { gc?: () => void }).gc;
const used = (): number => {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const heap0 = used();
let t = readAwsRanges(file);
const heap1 = used();
const loads: number[] = [];
const parses: number[] = [];
for (let i = 0; i < 5; i++) {
  let s = process.hrtime.bigint();
  t = readAwsRanges(i % 2 === 0 ? file : `${file}.gz`);
  loads.push(Number(process.hrtime.bigint() - s) / 1e6);
  s = process.hrtime.bigint();
  JSON.parse(readFileSync(file, 'utf8'));
  parses.push(Number(process.hrtime.bigint() - s) / 1e6);
}
const typed = t.starts4.byteLength + t.ends4.byteLength + t.attr4.byteLength + t.startHi6.byteLength * 4 + t.attr6.byteLength;
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`load (read, validate, flatten): median ${median(loads).toFixed(1)} ms over 5 (json and gz alternately); reading and JSON.parse of the file alone ${median(parses).toFixed(1)} ms (ratio ${(median(loads) / median(parses)).toFixed(1)}); ${t.starts4.length} IPv4 + ${t.attr6.length} IPv6 disjoint ranges, ${t.attrs.length} region/service/border triples`);
console.log(`memory: ${(typed / 1024).toFixed(0)} KiB of typed arrays${gc ? `; heap + array buffers held after the first load ${((heap1 - heap0) / 1024).toFixed(0)} KiB (after gc)` : ' (run with --expose-gc for the heap figure)'}`);

// Addresses: half in the file's ranges, half anywhere.
const addresses: string[] = [];
for (let i = 0; i < 10_000; i++) {
  const p = doc.prefixes[rnd(doc.prefixes.length)]!.ip_prefix.split('/')[0]!.split('.').map(Number);
  addresses.push(i % 2 === 0 ? `${p[0]}.${p[1]}.${p[2]}.${rnd(256)}` : `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${rnd(256)}`);
}
const v6: string[] = doc.ipv6_prefixes.slice(0, 2000).map((p) => p.ipv6_prefix.replace(/::\/\d+$/, '::1').replace(/(:0000)+\/\d+$/, '::1'));
bundledAsnLookup(addresses[0]!);
bundledAsnLookup('2600:1f18::1');

const time = (label: string, rounds: number, list: string[], f: (ip: string) => unknown): number => {
  for (const ip of list) f(ip); // warm
  const s = process.hrtime.bigint();
  let sink = 0;
  for (let r = 0; r < rounds; r++) for (const ip of list) if (f(ip) !== undefined) sink++;
  const ns = Number(process.hrtime.bigint() - s) / (rounds * list.length);
  console.log(`  ${label}: ${ns.toFixed(0)} ns/lookup (${sink} hits)`);
  return ns;
};
console.log('IPv4 lookups, 10,000 addresses (half in the ranges) × 50:');
const ranges4 = time('AWS ranges (lookupAwsRange)', 50, addresses, (ip) => lookupAwsRange(t, ip));
const asn4 = time('bundled ASN table (bundledAsnLookup)', 50, addresses, bundledAsnLookup);
const net4 = time('networkOf with ASN + AWS ranges', 50, addresses, (ip) => networkOf(ip, bundledAsnLookup, undefined, t));
const netAsn4 = time('networkOf with ASN only', 50, addresses, (ip) => networkOf(ip, bundledAsnLookup));
console.log(`  ratio AWS ranges / ASN table: ${(ranges4 / asn4).toFixed(2)}; networkOf with / without the ranges: ${(net4 / netAsn4).toFixed(2)}`);
console.log('IPv6 lookups, 2,000 addresses in the ranges × 20:');
const ranges6 = time('AWS ranges', 20, v6, (ip) => lookupAwsRange(t, ip));
const parse6 = time('parseAddress alone', 20, v6, parseAddress);
console.log(`  ratio AWS ranges / address parse: ${(ranges6 / parse6).toFixed(2)}`);
