import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { callAs, ev, session } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import { importAwsRangesCommand } from '../../cli/networks.ts';
import { configCheckCommand, loadCliConfig } from '../../cli/config.ts';
import { isSeamError } from '../../core/errors.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import { buildAwsRanges, lookupAwsRange, readAwsRanges, type AwsIpRangesFile } from './aws-ranges.ts';
import { bundledAsnLookup, networkFor, networkOf } from './networks.ts';

/** Hand-written, made-up prefixes in AWS's documented format (not AWS's file). */
const FIXTURE = join(import.meta.dirname, '../../../test/data/aws-ip-ranges/ip-ranges.json');
const CREATED = Date.parse('2026-11-20T10:00:00Z');
const DAY = 86_400_000;

const tmp = (): string => mkdtempSync(join(tmpdir(), 'seam-aws-ranges-'));
function sink(): { text: string; write(s: string): boolean } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

/** The error a bad file gives. */
function failure(text: string | Buffer): string {
  const dir = tmp();
  const file = join(dir, 'ip-ranges.json');
  writeFileSync(file, text);
  try {
    readAwsRanges(file);
  } catch (e) {
    expect(isSeamError(e) && e.code).toBe('SEAM_ERR_AWS_RANGES_INVALID');
    return (e as Error).message;
  }
  throw new Error('expected the file to be refused');
}

describe('AWS ip-ranges.json: reading', () => {
  it('reads the documented format: counts, createDate, syncToken, regions and services', () => {
    const t = readAwsRanges(FIXTURE);
    expect(t).toMatchObject({ syncToken: '1795168800', createDate: '2026-11-20-10-00-00', createdMs: CREATED, prefixes4: 9, prefixes6: 3 });
    expect(t.regions).toEqual(['GLOBAL', 'eu-central-1', 'us-east-1', 'us-west-2']);
    expect(t.services).toEqual(['AMAZON', 'CLOUDFRONT', 'EC2', 'S3']);
  });

  it('answers IPv4 by the most specific prefix, AMAZON only where no other service names the range; edges exact', () => {
    const t = readAwsRanges(FIXTURE);
    const at = (ip: string): string | undefined => {
      const r = lookupAwsRange(t, ip);
      return r === undefined ? undefined : `${r.region} ${r.service} ${r.border}`;
    };
    expect(at('3.5.0.0')).toBe('us-east-1 EC2 us-east-1');
    expect(at('3.5.15.255')).toBe('us-east-1 EC2 us-east-1');
    expect(at('3.5.16.0')).toBe('us-east-1 S3 us-east-1');
    expect(at('3.5.31.255')).toBe('us-east-1 S3 us-east-1');
    expect(at('3.5.32.0')).toBe('us-east-1 EC2 us-east-1');
    expect(at('3.5.255.255')).toBe('us-east-1 EC2 us-east-1');
    expect(at('3.120.0.1')).toBe('eu-central-1 AMAZON eu-central-1');
    expect(at('3.121.7.9')).toBe('eu-central-1 EC2 eu-central-1');
    expect(at('3.123.255.255')).toBe('eu-central-1 AMAZON eu-central-1');
    expect(at('3.70.1.5')).toBe('us-west-2 EC2 us-west-2-lax-1');
    expect(at('3.160.0.1')).toBe('GLOBAL CLOUDFRONT GLOBAL');
    for (const out of ['3.4.255.255', '3.6.0.0', '3.124.0.0', '3.70.2.0', '52.94.133.131', '0.0.0.0', '255.255.255.255']) expect(at(out)).toBeUndefined();
    // An IPv4-mapped IPv6 address is its IPv4 address.
    expect(at('::ffff:3.5.16.1')).toBe('us-east-1 S3 us-east-1');
  });

  it('answers IPv6 the same way', () => {
    const t = readAwsRanges(FIXTURE);
    expect(lookupAwsRange(t, '2600:1f18::1')).toMatchObject({ region: 'us-east-1', service: 'EC2' });
    expect(lookupAwsRange(t, '2600:1f18:0fff:ffff:ffff:ffff:ffff:ffff')).toMatchObject({ service: 'EC2' });
    expect(lookupAwsRange(t, '2600:1f18:1000::')).toMatchObject({ region: 'us-east-1', service: 'AMAZON' });
    expect(lookupAwsRange(t, '2600:1f18:7fff:ffff:ffff:ffff:ffff:ffff')).toMatchObject({ service: 'AMAZON' });
    expect(lookupAwsRange(t, '2600:1f18:8000::')).toBeUndefined();
    expect(lookupAwsRange(t, '2a05:d014:abc::9')).toMatchObject({ region: 'eu-central-1', service: 'EC2' });
    expect(lookupAwsRange(t, '2a05:d015::1')).toBeUndefined();
    expect(lookupAwsRange(t, 'not an address')).toBeUndefined();
  });

  it('agrees with a longest-prefix match over every prefix, for random nested prefixes and addresses', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const prefixes: AwsIpRangesFile['prefixes'] = [];
    const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
    const services = ['AMAZON', 'EC2', 'S3', 'ROUTE53'];
    // Inside 3.0.0.0/10 so that they nest and overlap often.
    for (let i = 0; i < 400; i++) {
      const bits = 10 + rnd(19);
      const n = (3 * 2 ** 24 + rnd(2 ** 22)) >>> 0;
      const start = bits === 0 ? 0 : (n >>> (32 - bits)) * 2 ** (32 - bits);
      const ip = [start >>> 24, (start >>> 16) & 255, (start >>> 8) & 255, start & 255].join('.');
      prefixes.push({ ip_prefix: `${ip}/${bits}`, region: regions[rnd(3)]!, service: services[rnd(4)]!, network_border_group: 'x' });
    }
    const doc: AwsIpRangesFile = { syncToken: '1', createDate: '2026-01-01-00-00-00', prefixes, ipv6_prefixes: [] };
    const t = buildAwsRanges('random', doc);
    const parsed = prefixes.map((p) => {
      const [a, b] = p.ip_prefix.split('/');
      const s = a!.split('.').reduce((x, o) => x * 256 + Number(o), 0);
      return { s, e: s + 2 ** (32 - Number(b)) - 1, bits: Number(b), p };
    });
    for (let i = 0; i < 6_000; i++) {
      const n = 3 * 2 ** 24 + rnd(2 ** 22 + 2 ** 20);
      const ip = [Math.floor(n / 2 ** 24), Math.floor(n / 65536) % 256, Math.floor(n / 256) % 256, n % 256].join('.');
      const holding = parsed.filter((x) => x.s <= n && n <= x.e);
      const got = lookupAwsRange(t, ip);
      if (holding.length === 0) {
        expect(got).toBeUndefined();
        continue;
      }
      const best = Math.max(...holding.map((x) => x.bits));
      const innermost = holding.filter((x) => x.bits === best);
      const named = [...new Set(innermost.map((x) => x.p.service))].filter((s) => s !== 'AMAZON').sort();
      expect(got).toEqual({ region: innermost[0]!.p.region, service: named.length > 0 ? named.join('+') : 'AMAZON', border: 'x' });
    }
  });
});

describe('AWS ip-ranges.json: a wrong file is refused with what it is and what to do', () => {
  it('an HTML page saved by mistake (a proxy’s or an error page)', () => {
    const msg = failure('<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body>Access denied</body></html>');
    expect(msg).toContain('this is an HTML page ("403 Forbidden"), not ip-ranges.json');
    expect(msg).toContain('curl -fsSL -o ip-ranges.json https://ip-ranges.amazonaws.com/ip-ranges.json');
  });
  it('a truncated download, plain or gzipped', () => {
    const text = readFileSync(FIXTURE, 'utf8');
    expect(failure(text.slice(0, 900))).toMatch(/the JSON stops before it ends \(900 characters\): the download was cut short/);
    const gz = gzipSync(text);
    expect(failure(gz.subarray(0, gz.length - 20))).toContain('gzip data does not inflate');
  });
  it('another JSON file, an empty file, a prefix that is not a CIDR, an unreadable path', () => {
    expect(failure(JSON.stringify({ name: 'seam', version: '1.0.0' }))).toMatch(/not AWS's ip-ranges\.json .*syncToken: .*createDate: .*prefixes: /);
    expect(failure(JSON.stringify({ syncToken: '1', createDate: '2026-11-20-10-00-00', prefixes: [], ipv6_prefixes: [] }))).toContain('prefixes: no IPv4 prefix');
    expect(failure('')).toContain('the file is empty');
    const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as AwsIpRangesFile;
    doc.prefixes[2]!.ip_prefix = '3.5.16.0/40';
    expect(failure(JSON.stringify(doc))).toContain('prefixes.2.ip_prefix: "3.5.16.0/40" is not an IPv4 CIDR');
    doc.prefixes[2]!.ip_prefix = '2600:1f18::/36';
    expect(failure(JSON.stringify(doc))).toContain('is not an IPv4 CIDR');
    expect(() => readAwsRanges(join(tmp(), 'nope.json'))).toThrow(/cannot read the AWS IP ranges file \(ENOENT\)/);
  });
});

describe('seam networks import-aws-ranges', () => {
  it('prints what the file holds, writes a gzipped copy that reads the same, warns about nothing when fresh', async () => {
    const out = sink();
    const err = sink();
    const copy = join(tmp(), 'aws', 'ip-ranges.json.gz');
    expect(await importAwsRangesCommand(FIXTURE, { out: copy, nowMs: CREATED + 5 * DAY }, out, err)).toBe(0);
    expect(out.text).toContain(`aws ranges: file=${FIXTURE} createDate=2026-11-20-10-00-00 age_days=5 syncToken=1795168800 ipv4_prefixes=9 ipv6_prefixes=3 disjoint_ranges=12 regions=4 services=4`);
    expect(out.text).toContain(`wrote ${copy} (`);
    expect(err.text).toBe('');
    const a = readAwsRanges(FIXTURE);
    const b = readAwsRanges(copy);
    expect(readFileSync(copy).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect({ ...b, file: a.file }).toEqual(a);
  });
  it('warns when the file is older than 30 days; refuses a wrong file with exit 1 and the code', async () => {
    const out = sink();
    const err = sink();
    expect(await importAwsRangesCommand(FIXTURE, { nowMs: CREATED + 45 * DAY }, out, err)).toBe(0);
    expect(err.text).toMatch(/^seam: warning: AWS IP ranges file .* was published 45 days ago \(createDate 2026-11-20-10-00-00\): addresses AWS added since count as outside AWS/);
    const html = join(tmp(), 'ip-ranges.json');
    writeFileSync(html, '<html><title>Service Unavailable</title></html>');
    const err2 = sink();
    expect(await importAwsRangesCommand(html, {}, sink(), err2)).toBe(1);
    expect(err2.text).toMatch(/^seam: SEAM_ERR_AWS_RANGES_INVALID: .*this is an HTML page/);
  });
  it('seam.yml native.awsIpRangesFile: relative to the file; a wrong file stops the command at its config', async () => {
    const dir = tmp();
    // A copy published 45 days before the clock: the commands that read it say so.
    const old = new Date(Date.now() - 45 * DAY).toISOString().slice(0, 19).replace(/[T:]/g, '-');
    writeFileSync(join(dir, 'ip-ranges.json'), readFileSync(FIXTURE, 'utf8').replace('2026-11-20-10-00-00', old));
    writeFileSync(join(dir, 'seam.yml'), 'native:\n  awsIpRangesFile: ip-ranges.json\n');
    const err = sink();
    const loaded = await loadCliConfig(join(dir, 'seam.yml'), {}, err);
    expect(loaded?.config.native.awsIpRangesFile).toBe(join(dir, 'ip-ranges.json'));
    expect(err.text).toMatch(/^seam: warning: AWS IP ranges file .* was published 45 days ago/);
    const viaEnv = await loadCliConfig(undefined, { SEAM_AWS_IP_RANGES: FIXTURE }, sink());
    expect(viaEnv?.config.native.awsIpRangesFile).toBe(FIXTURE);
    writeFileSync(join(dir, 'ip-ranges.json'), '{"prefixes": [');
    const err2 = sink();
    expect(await loadCliConfig(join(dir, 'seam.yml'), {}, err2)).toBeUndefined();
    expect(err2.text).toMatch(/SEAM_ERR_AWS_RANGES_INVALID: .*the download was cut short/);
  });
  it('seam config check prints what native.awsIpRangesFile holds, in the import command\'s words', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'seam.yml'), `native:\n  awsIpRangesFile: ${FIXTURE}\n`);
    const out = sink();
    const err = sink();
    // An empty environment: neither CI's SEAM_KAFKA_BROKERS / SEAM_OPENSEARCH_URL nor SEAM_CONFIG reaches the check.
    expect(await configCheckCommand(join(dir, 'seam.yml'), {}, out, err)).toBe(0);
    const age = Math.floor((Date.now() - CREATED) / DAY);
    expect(out.text.split('\n').filter((l) => l.startsWith('# aws ranges:'))).toEqual([
      `# aws ranges: file=${FIXTURE} createDate=2026-11-20-10-00-00 age_days=${age} syncToken=1795168800 ipv4_prefixes=9 ipv6_prefixes=3 disjoint_ranges=12 regions=4 services=4`,
    ]);
    // Without the setting, no such line.
    writeFileSync(join(dir, 'seam.yml'), 'native: {}\n');
    const none = sink();
    expect(await configCheckCommand(join(dir, 'seam.yml'), {}, none, sink())).toBe(0);
    expect(none.text).not.toContain('aws ranges:');
  });
});

describe('networks with AWS’s ranges', () => {
  const ranges = readAwsRanges(FIXTURE);
  it('exact ranges answer "inside AWS" and give the region; the AS still names other networks', () => {
    expect(networkOf('3.5.1.1', bundledAsnLookup, undefined, ranges)).toEqual({ key: 'aws:us-east-1', label: 'AWS us-east-1 (EC2)', asn: 14618, aws: true, region: 'us-east-1', service: 'EC2', private: false });
    expect(networkOf('3.70.1.5', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: 'aws:us-west-2', label: 'AWS us-west-2 (EC2, us-west-2-lax-1)' });
    // In an Amazon AS but in no published range: outside AWS (and still named by its AS).
    expect(networkOf('52.94.133.131', bundledAsnLookup)).toMatchObject({ key: 'AS16509', aws: true });
    expect(networkOf('52.94.133.131', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: 'AS16509', aws: false });
    expect(networkOf('185.220.101.1', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: expect.stringMatching(/^AS\d+$/), aws: false });
    // Without the ASN database the ranges still answer; other networks are prefixes, now known to be outside AWS.
    expect(networkOf('3.121.0.9', undefined, undefined, ranges)).toEqual({ key: 'aws:eu-central-1', label: 'AWS eu-central-1 (EC2)', aws: true, region: 'eu-central-1', service: 'EC2', private: false });
    expect(networkOf('62.226.10.1', undefined, undefined, ranges)).toEqual({ key: '62.226.0.0/16', label: '62.226.0.0/16', aws: false, private: false });
    expect(networkOf('10.0.0.5', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: 'private', aws: undefined });
    // IPv6, a 6to4 address carrying an AWS IPv4 address, and special-purpose IPv6 (still unplaceable).
    expect(networkOf('2a05:d014::1', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: 'aws:eu-central-1', aws: true, service: 'EC2' });
    expect(networkOf('2a05:d015::1', bundledAsnLookup, undefined, ranges)).toMatchObject({ aws: false });
    expect(networkOf('2002:0305:0101::1', bundledAsnLookup, undefined, ranges)).toMatchObject({ key: 'aws:us-east-1', aws: true });
    expect(networkOf('2001:db8::1', bundledAsnLookup, undefined, ranges)).toMatchObject({ aws: undefined });
  });
  it('networkFor reads native.awsIpRangesFile; without it the answers are the AS’s, as before', () => {
    const base = { asnDatabase: true, amazonAsns: [16509, 14618] };
    expect(networkFor('3.5.1.1', base)).toMatchObject({ key: 'AS14618', aws: true });
    expect(networkFor('3.5.1.1', base)).not.toHaveProperty('region');
    expect(networkFor('3.5.1.1', { ...base, awsIpRangesFile: FIXTURE })).toMatchObject({ key: 'aws:us-east-1', aws: true, region: 'us-east-1' });
  });
});

describe('instance credentials used outside AWS, with and without AWS’s ranges', () => {
  const id = 'seam-native-instance-creds-outside-aws';
  const instance = session('web-app-instance-role', 'i-0a1b2c3d4e5f67890', 'ASIAEXAMPLEINSTANCE1', 'AROAEXAMPLEWEBAPP0001');
  const SDK_UA = 'Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.6';
  // 52.94.133.131 is announced by AS16509 but is in none of the fixture's ranges.
  const events = [ev(callAs(instance, 's3.amazonaws.com', 'GetObject', '2026-11-21T09:00:00Z', '3.5.1.1', null, { userAgent: SDK_UA }), undefined), ev(callAs(instance, 's3.amazonaws.com', 'ListBuckets', '2026-11-21T09:05:00Z', '52.94.133.131', null, { userAgent: SDK_UA }), undefined)];
  it('without the file: both addresses are Amazon’s AS, nothing to report (as before)', () => {
    expect(runNative(id, events)).toEqual([]);
  });
  it('with the file: the address in no published range is outside AWS (high), the one in us-east-1 is not', () => {
    const alerts = runNative(id, events, { config: { awsIpRangesFile: FIXTURE } });
    expect(alerts.map((a) => [a.rule.level, a.events])).toEqual([['high', [events[1]!.seam.id]]]);
    expect(alerts[0]!.summary).toContain('from 52.94.133.131 (AS16509 Amazon.com, Inc.), outside AWS');
    // The triage text names the instance, role, key, call and address, and the commands to look and to stop it.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`Instance i-0a1b2c3d4e5f67890's role session (role web-app-instance-role, key ASIAEXAMPLEINSTANCE1) called s3.amazonaws.com:ListBuckets from 52.94.133.131 with “Boto3/1.35.0 md/Botocore`);
    expect(tr).toContain('aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ASIAEXAMPLEINSTANCE1');
    expect(tr).toContain('aws ec2 describe-instances --instance-ids i-0a1b2c3d4e5f67890');
    expect(tr).toContain('aws iam put-role-policy --role-name web-app-instance-role --policy-name AWSRevokeOlderSessions');
    expect(tr).toContain('aws ec2 modify-instance-metadata-options --instance-id i-0a1b2c3d4e5f67890 --http-tokens required');
    expect(tr).toContain('It is benign only if i-0a1b2c3d4e5f67890 sends all its AWS traffic through a proxy or VPN at 52.94.133.131');
  });
  it('a wrong file stops the engine at its start', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ip-ranges.json'), '<html></html>');
    expect(() => runNative(id, events, { config: { awsIpRangesFile: join(dir, 'ip-ranges.json') } })).toThrow(/SEAM_ERR_AWS_RANGES_INVALID|HTML page/);
  });
});

describe('new-network with AWS’s ranges: AWS addresses are networks by region', () => {
  const id = 'seam-native-new-network';
  const ci = session('ci-deployer', 'botocore-session-1762070400', 'ASIAEXAMPLECIDEPLOY1', 'AROAEXAMPLECIDEPLOY1');
  const H = 3600_000;
  const BASE = Date.parse('2026-11-02T08:00:00Z');
  const call = (hours: number, ip: string) => ev(callAs(ci, 'ec2.amazonaws.com', 'DescribeInstances', new Date(BASE + hours * H).toISOString(), ip), undefined);
  // Day 1 (learning): the pipeline runs on EC2 in us-east-1 (3.5.0.0/16 in the fixture).
  const day1 = [call(1, '3.5.1.1'), call(5, '3.5.1.1'), call(9, '3.5.2.7')];
  it('a region the principal never used is new (low, named by region); another address of its region is not', () => {
    const other = call(30, '3.121.0.9');
    const alerts = runNative(id, [...day1, call(29, '3.80.0.1'), other], { config: { awsIpRangesFile: FIXTURE } });
    expect(alerts.map((a) => [a.events, a.rule.level])).toEqual([[[other.seam.id], 'low']]);
    expect(alerts[0]!.summary).toContain('from 3.121.0.9 (AWS eu-central-1 (EC2)), a network it was never seen in; known: AWS us-east-1 (EC2)');
  });
  it('a principal learned as Amazon’s AS before the file was given: its first region is learned, the next reported', () => {
    const graph = new IdentityGraph();
    expect(runNative(id, day1, { graph })).toEqual([]);
    const other = call(31, '3.121.0.9');
    const alerts = runNative(id, [call(30, '3.80.0.1'), other], { config: { awsIpRangesFile: FIXTURE }, graph });
    expect(alerts.map((a) => [a.events, a.rule.level])).toEqual([[[other.seam.id], 'low']]);
  });
});
