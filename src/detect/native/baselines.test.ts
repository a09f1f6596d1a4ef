import { describe, expect, it } from 'vitest';
import { alice, assumeWebIdentity, audit, callAs, ev, iamK8sUser, saK8sUser, session, type IamSession } from '../../../test/identity/records.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { NativeOptions } from './config.ts';
import { createNativeEngine } from './engine.ts';
import { distanceKm } from './impossible-travel.ts';
import { bundledAsnLookup, networkOf, userAgentFamily } from './networks.ts';

// Addresses the bundled ASN database places (checked in the 'networks' block below).
const OFFICE = '62.226.10.1'; // Deutsche Telekom
const HOME = '91.64.10.1'; // Vodafone DE
const ABROAD = '139.130.4.5'; // Telstra (AU)
const ATTACKER = '185.220.101.1'; // a hosting AS, not Amazon
const EC2_IP = '52.94.133.131'; // AS16509
const EC2_OTHER = '35.90.10.1'; // AS16509, another host
const NAT = '44.230.10.1'; // AS16509

const H = 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString();

const SSM_UA = 'aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0';
const CLI_UA = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#s3.ls';

const instance = session('web-app-instance-role', 'i-0a1b2c3d4e5f67890', 'ASIAEXAMPLEINSTANCE1', 'AROAEXAMPLEWEBAPP0001');
const ci = session('ci-deployer', 'botocore-session-1762070400', 'ASIAEXAMPLECIDEPLOY1', 'AROAEXAMPLECIDEPLOY1');

function call(s: IamSession, name: string, hours: number, ip: string, extra: { source?: string; region?: string; userAgent?: string; rp?: unknown; errorCode?: string } = {}): SeamEvent {
  const raw = callAs(s, extra.source ?? 'ec2.amazonaws.com', name, at(hours), ip, extra.rp ?? null, {
    ...(extra.region ? { region: extra.region } : {}),
    ...(extra.userAgent ? { userAgent: extra.userAgent } : {}),
  });
  if (extra.errorCode) raw.errorCode = extra.errorCode;
  return ev(raw, undefined);
}

const run = (events: SeamEvent[], only: string, config: NativeOptions = {}, graph = new IdentityGraph()): Alert[] => runNative(only, events, { config, graph });

/** A person's first working day (learning): office and home, a few regions. */
function aliceDayOne(): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (let h = 0; h < 10; h += 0.5) out.push(call(alice, h % 2 === 0 ? 'DescribeInstances' : 'DescribeVpcs', h, h < 8 ? OFFICE : HOME));
  out.push(call(alice, 'ListFunctions', 3, OFFICE, { source: 'lambda.amazonaws.com', region: 'eu-central-1' }));
  return out;
}

describe('networks', () => {
  it('places the test addresses with the bundled database (Amazon vs not), and /16 or /48 prefixes without it', () => {
    for (const ip of [EC2_IP, EC2_OTHER, NAT]) expect(networkOf(ip, bundledAsnLookup)?.aws).toBe(true);
    for (const ip of [OFFICE, HOME, ABROAD, ATTACKER]) expect(networkOf(ip, bundledAsnLookup)).toMatchObject({ aws: false, key: expect.stringMatching(/^AS\d+$/) });
    expect(networkOf(OFFICE, undefined)).toEqual({ key: '62.226.0.0/16', label: '62.226.0.0/16', aws: undefined, private: false });
    // IPv6 from the package's IPv6 table: Amazon's (eu-central-1), a hosting provider's, unannounced space; /48 without the database.
    expect(networkOf('2a05:d014::1', bundledAsnLookup)).toMatchObject({ key: 'AS16509', aws: true });
    expect(networkOf('2a01:4f8:1c1c::1', bundledAsnLookup)).toMatchObject({ key: 'AS24940', aws: false });
    expect(networkOf('2001:db8::7', bundledAsnLookup)).toMatchObject({ key: '2001:db8:0::/48', aws: undefined });
    expect(networkOf('2a05:d014::1', undefined)).toMatchObject({ key: '2a05:d014:0::/48', aws: undefined });
    expect(networkOf('fd12:3456::1', bundledAsnLookup)?.private).toBe(true);
    expect(networkOf('10.0.3.4', bundledAsnLookup)?.private).toBe(true);
    expect(networkOf('s3.amazonaws.com', bundledAsnLookup)).toBeUndefined();
  });
  it('answers a plain dotted IPv4 address (its fast path) as the address parser does (the same text with a leading space)', () => {
    const ips = [EC2_IP, EC2_OTHER, NAT, OFFICE, HOME, ABROAD, ATTACKER, '10.0.3.4', '127.0.0.1', '169.254.169.254', '169.253.1.1', '172.15.0.1', '172.16.0.1', '172.31.255.255', '172.32.0.1'];
    ips.push('192.168.1.1', '192.169.1.1', '100.63.0.1', '100.64.0.1', '100.127.0.1', '100.128.0.1', '0.0.0.0', '255.255.255.255', '1.2.3.4', '203.0.113.24', '8.8.8.8');
    for (const ip of ips) {
      for (const lookup of [bundledAsnLookup, undefined]) expect(networkOf(ip, lookup), ip).toEqual(networkOf(' ' + ip, lookup));
    }
    // Not the plain form: leading zeros, out of range, too few parts: the parser's answer (or none).
    expect(networkOf('010.0.0.1', bundledAsnLookup)?.private).toBe(true);
    expect(networkOf('1.2.3.256', bundledAsnLookup)).toBeUndefined();
    expect(networkOf('1.2.3', bundledAsnLookup)).toBeUndefined();
  });
  it('tells user-agent families apart', () => {
    expect(userAgentFamily(SSM_UA)).toBe('ec2-agent');
    expect(userAgentFamily('aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2 exec-env/AWS_ECS_EC2')).toBe('ec2-agent');
    expect(userAgentFamily(CLI_UA)).toBe('cli');
    expect(userAgentFamily('[aws-cli/1.18.69 Python/3.8.5 Linux/5.4.0-1029-aws botocore/1.17.42]')).toBe('cli');
    expect(userAgentFamily('Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.226 lang/python#3.12.7')).toBe('sdk');
    expect(userAgentFamily('python-requests/2.32.3')).toBe('script');
    expect(userAgentFamily('[Pacu] Boto3/1.9.0')).toBe('attack-tool');
    expect(userAgentFamily('AWS Internal')).toBe('aws-service');
  });
  it('measures great-circle distances', () => {
    expect(Math.round(distanceKm({ lat: 52.52, lon: 13.405, label: 'Berlin' }, { lat: -33.87, lon: 151.21, label: 'Sydney' }))).toBeGreaterThan(16000);
  });
});

describe('instance credentials used outside AWS', () => {
  const id = 'seam-native-instance-creds-outside-aws';
  it('fires (high) on the instance role used from outside AWS, once per address, even with none of the instance’s own calls', () => {
    const theft = [
      call(instance, 'GetCallerIdentity', 30, ATTACKER, { source: 'sts.amazonaws.com', userAgent: CLI_UA }),
      call(instance, 'ListBuckets', 30.01, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
      call(instance, 'GetObject', 30.02, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA, rp: { bucketName: 'customer-exports', key: 'all.csv' } }),
    ];
    const alerts = run(theft, id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.summary).toContain('i-0a1b2c3d4e5f67890');
    expect(alerts[0]!.summary).toContain(ATTACKER);
    expect(alerts[0]!.events).toEqual([theft[0]!.seam.id]);
  });
  it('stays silent on the instance’s own calls (its address, VPC endpoint, a service on its behalf) and on other roles from outside AWS', () => {
    const own = [
      call(instance, 'UpdateInstanceInformation', 1, EC2_IP, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
      call(instance, 'GetObject', 2, EC2_IP, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
      ev({ ...callAs(instance, 's3.amazonaws.com', 'PutObject', at(3), '10.0.4.17'), vpcEndpointId: 'vpce-0a1b2c3d' }, undefined),
      call(instance, 'PutMetricData', 4, 'monitoring.amazonaws.com', { source: 'monitoring.amazonaws.com' }),
      call(alice, 'ListBuckets', 5, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
      // A stopped and started instance gets a new public address: the old one never comes back.
      call(instance, 'UpdateInstanceInformation', 6, EC2_OTHER, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
      call(instance, 'UpdateInstanceInformation', 7, EC2_OTHER, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
    ];
    expect(run(own, id)).toEqual([]);
  });
  it('reads the session from principalId and the session issuer when the record has no arn', () => {
    const raw = callAs(instance, 's3.amazonaws.com', 'ListBuckets', at(1), ATTACKER);
    delete (raw.userIdentity as Record<string, unknown>).arn;
    const alerts = run([ev(raw, undefined)], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high']);
  });
  it('a long-term key is not an instance session', () => {
    const raw = callAs(instance, 's3.amazonaws.com', 'ListBuckets', at(1), ATTACKER);
    (raw.userIdentity as Record<string, unknown>).accessKeyId = 'AKIAEXAMPLELONGTERM1';
    expect(run([ev(raw, undefined)], id)).toEqual([]);
  });
  it('medium: the session alternates between two AWS addresses (another EC2 host holds the keys)', () => {
    const alerts = run(
      [
        call(instance, 'UpdateInstanceInformation', 1, EC2_IP, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
        call(instance, 'ListBuckets', 1.2, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
        call(instance, 'UpdateInstanceInformation', 1.3, EC2_IP, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
        call(instance, 'UpdateInstanceInformation', 1.4, EC2_OTHER, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
      ],
      id,
    );
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
  });
  it('a dual-stack instance (IPv4 for some endpoints, its IPv6 addresses for others) is one host; two IPv6 /64s in turn are two', () => {
    const v6a = '2600:1f14:abc:1:8f00::5';
    const v6a2 = '2600:1f14:abc:1:77::9'; // same /64: another address of the same host
    const v6b = '2600:1f14:def:7::20';
    const ssm = { source: 'ssm.amazonaws.com', userAgent: SSM_UA };
    const dual = [call(instance, 'UpdateInstanceInformation', 1, EC2_IP, ssm), call(instance, 'UpdateInstanceInformation', 1.1, v6a, ssm), call(instance, 'UpdateInstanceInformation', 1.2, EC2_IP, ssm), call(instance, 'UpdateInstanceInformation', 1.3, v6a2, ssm), call(instance, 'UpdateInstanceInformation', 1.4, EC2_IP, ssm)];
    expect(run(dual, id)).toEqual([]);
    const two = [call(instance, 'UpdateInstanceInformation', 1, v6a, ssm), call(instance, 'UpdateInstanceInformation', 1.1, v6b, ssm), call(instance, 'UpdateInstanceInformation', 1.2, v6a2, ssm)];
    expect(run(two, id).map((a) => a.rule.level)).toEqual(['medium']);
  });
  it('special-purpose IPv6 cannot be placed: documentation, Teredo, NAT64; 6to4 is placed by its IPv4; all of fe80::/10 is link-local', () => {
    expect(networkOf('2001:db8::7', bundledAsnLookup)).toMatchObject({ aws: undefined, private: false });
    expect(networkOf('3fff:1::7', bundledAsnLookup)).toMatchObject({ aws: undefined });
    expect(networkOf('2001:0:4136:e378::1', bundledAsnLookup)).toMatchObject({ aws: undefined });
    expect(networkOf('ff02::1', bundledAsnLookup)).toMatchObject({ aws: undefined });
    expect(networkOf('fe90::1', bundledAsnLookup)?.private).toBe(true);
    expect(networkOf('64:ff9b::' + '342a:92cd', bundledAsnLookup)).toMatchObject({ aws: undefined }); // NAT64: the destination's IPv4
    // Documentation is 3fff::/20 only: 3fff:fff::7 cannot be placed, 3fff:1000::7 is global space nobody announces.
    expect([networkOf('3fff:fff::7', bundledAsnLookup)?.aws, networkOf('3fff:1000::7', bundledAsnLookup)?.aws]).toEqual([undefined, false]);
    expect(networkOf('2002:342a:92cd::1', bundledAsnLookup)).toEqual(networkOf('52.42.146.205', bundledAsnLookup));
    // A lookup passed in that knows IPv4 only: its silence about an IPv6 address places nothing.
    expect(networkOf('2a01:4f8:1c1c::1', () => undefined)).toMatchObject({ aws: undefined });
  });
  it('high: an attack tool’s user agent, even from an AWS address', () => {
    const kali = 'aws-cli/1.22.34 Python/3.9.12 Linux/5.16.0-kali7-amd64 botocore/1.24.23';
    const alerts = run([call(instance, 'ListBuckets', 1, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: kali })], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high']);
  });
  it('medium: a macOS user agent from an AWS address (a workstation behind a cloud VPN)', () => {
    const mac = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/command#s3.ls';
    const alerts = run([call(instance, 'ListBuckets', 1, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: mac }), call(instance, 'ListBuckets', 1.1, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: mac })], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
  });
  it('medium: a second AWS address with a CLI the instance never used, an hour after the instance’s own calls', () => {
    const events = [
      call(instance, 'UpdateInstanceInformation', 1, EC2_IP, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
      call(instance, 'GetCallerIdentity', 2, EC2_OTHER, { source: 'sts.amazonaws.com', userAgent: CLI_UA }),
      call(instance, 'ListBuckets', 2.1, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
    ];
    const alerts = run(events, id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
    expect(alerts[0]!.events).toEqual([events[0]!.seam.id, events[1]!.seam.id]);
    // The instance's own CLI (user data) at its own address first, then a restart's new address: not a copy.
    const own = [
      call(instance, 'GetObject', 1, EC2_IP, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
      call(instance, 'UpdateInstanceInformation', 1.1, EC2_IP, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
      call(instance, 'GetObject', 2, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: CLI_UA }),
      call(instance, 'UpdateInstanceInformation', 2.1, EC2_OTHER, { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
    ];
    expect(run(own, id)).toEqual([]);
  });
  it('high: an IPv6 address outside AWS (the IPv6 table places it), as for IPv4; nothing with the instance’s agent', () => {
    const alerts = run(
      [
        call(instance, 'UpdateInstanceInformation', 1, '2600:1f14:abc:1::10', { source: 'ssm.amazonaws.com', userAgent: SSM_UA }),
        call(instance, 'ListBuckets', 2, '2a01:4f8:1c1c::1', { source: 's3.amazonaws.com', userAgent: 'python-requests/2.32.3' }),
      ],
      id,
    );
    expect(alerts.map((a) => a.rule.level)).toEqual(['high']);
    expect(alerts[0]!.summary).toContain('AS24940');
  });
  it('medium: an IPv6 address it cannot place (no database), with a script user agent', () => {
    const alerts = run([call(instance, 'ListBuckets', 2, '2a01:4f8:1c1c::1', { source: 's3.amazonaws.com', userAgent: 'python-requests/2.32.3' })], id, { asnDatabase: false });
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
  });
  it('without the database (asnDatabase: false) the address alone is not enough, a script user agent from IPv4 still is not', () => {
    expect(run([call(instance, 'ListBuckets', 1, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA })], id, { asnDatabase: false })).toEqual([]);
  });
});

describe('new network', () => {
  const id = 'seam-native-new-network';
  it('learns during the learning period, then fires (low) once on a network the person was never seen in', () => {
    const events = [...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 31, HOME), call(alice, 'DescribeInstances', 32, ABROAD), call(alice, 'DescribeVpcs', 32.1, ABROAD)];
    const alerts = run(events, id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('low');
    expect(alerts[0]!.summary).toContain('AS1221');
    expect(alerts[0]!.events).toEqual([events[events.length - 2]!.seam.id]);
    // The triage text names who, the call, address and network, its known networks, and the commands with its key and role.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`role/PlatformAdmin (alice@example.com) called ec2.amazonaws.com:DescribeInstances from ${ABROAD}`);
    expect(tr).toMatch(/\(AS1221 [^)]*\), a network it was never seen in\. Its known networks: /);
    expect(tr).toContain(`List what it did from ${ABROAD} (aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${alice.key}`);
    expect(tr).toContain("deny role PlatformAdmin's sessions issued before now (aws iam put-role-policy --role-name PlatformAdmin ");
  });
  it('medium on the third network new to a person within an hour (a leaked key tried from several hosts), kept across a restart', () => {
    const GOOGLE = '34.120.10.10'; // AS396982
    const spray = [call(alice, 'GetCallerIdentity', 30, ABROAD, { source: 'sts.amazonaws.com', userAgent: CLI_UA }), call(alice, 'ListBuckets', 30.3, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA }), call(alice, 'ListUsers', 30.6, GOOGLE, { source: 'iam.amazonaws.com', userAgent: CLI_UA })];
    const alerts = run([...aliceDayOne(), ...spray], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['low', 'low', 'medium']);
    expect(alerts[2]!.summary).toContain('3 new networks within 60 minutes');
    expect(alerts[2]!.triage).toContain('; 3 networks new to it within the hour: a key in several hands.');
    // The same three networks over three hours: a person travelling, low each time.
    const slow = [call(alice, 'DescribeInstances', 30, ABROAD), call(alice, 'DescribeInstances', 31.5, ATTACKER), call(alice, 'DescribeInstances', 33, GOOGLE)];
    expect(run([...aliceDayOne(), ...slow], id).map((a) => a.rule.level)).toEqual(['low', 'low', 'low']);
    // Networks first seen while learning do not count toward a burst.
    const learnedThenOne = [...aliceDayOne(), call(alice, 'DescribeInstances', 23.9, ABROAD), call(alice, 'DescribeInstances', 23.95, ATTACKER), call(alice, 'DescribeInstances', 24.3, GOOGLE)];
    expect(run(learnedThenOne, id).map((a) => a.rule.level)).toEqual(['low']);
    // A restart between the second and the third: the first sightings are facts, so the third is still medium.
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [id], onFacts: (fs) => published.push(...fs) });
    for (const e of [...aliceDayOne(), spray[0]!, spray[1]!]) first.process(e);
    const g = new IdentityGraph();
    g.applyFacts(published);
    expect(run([spray[2]!], id, {}, g).map((a) => a.rule.level)).toEqual(['medium']);
  });
  it('is silent during learning, whatever the networks', () => {
    expect(run([...aliceDayOne(), call(alice, 'DescribeInstances', 12, ABROAD), call(alice, 'DescribeInstances', 13, ATTACKER)], id)).toEqual([]);
  });
  it('medium when a role that only ever acted from inside AWS acts from a public network outside AWS', () => {
    const events: SeamEvent[] = [];
    for (let h = 0; h < 30; h++) events.push(call(ci, 'DescribeStacks', h, h % 2 === 0 ? NAT : '10.0.7.9', { source: 'cloudformation.amazonaws.com' }));
    // Another AWS address is the same network (AS16509): nothing new.
    events.push(call(ci, 'DescribeStacks', 31, EC2_OTHER, { source: 'cloudformation.amazonaws.com' }));
    events.push(call(ci, 'GetCallerIdentity', 40, ATTACKER, { source: 'sts.amazonaws.com', userAgent: CLI_UA }));
    events.push(call(ci, 'DescribeStacks', 41, HOME, { source: 'cloudformation.amazonaws.com' }));
    const alerts = run(events, id);
    // The CI role's sessions are per run: the baseline is the role's. Once it has been outside AWS, the next new network is context.
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'low']);
    expect(alerts[0]!.summary).toContain(ATTACKER);
  });
  it('baselines a workload per service account, not per hourly IRSA session', () => {
    const events: SeamEvent[] = [];
    for (let h = 0; h < 30; h++) {
      const s = session('payments-api-irsa', `botocore-session-${1762070400 + h * 3600}`, `ASIAEXAMPLEIRSA${String(h).padStart(5, '0')}`);
      events.push(ev(assumeWebIdentity('payments/api', 'payments-api-irsa', s.session, s.key, at(h), NAT), 'prod-eks-01'));
      events.push(call(s, 'GetObject', h + 0.1, NAT, { source: 's3.amazonaws.com' }));
    }
    const late = session('payments-api-irsa', 'botocore-session-1762200000', 'ASIAEXAMPLEIRSA99999');
    events.push(ev(assumeWebIdentity('payments/api', 'payments-api-irsa', late.session, late.key, at(31), NAT), 'prod-eks-01'));
    events.push(call(late, 'ListBuckets', 31.5, ATTACKER, { source: 's3.amazonaws.com', userAgent: CLI_UA }));
    const alerts = run(events, id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
    expect(alerts[0]!.summary).toContain('system:serviceaccount:payments:api');
  });
  it('Kubernetes API requests count: kubectl with the person’s IAM session shares her baseline; a service account token used from outside AWS is medium', () => {
    const kubectl = (hours: number, ip: string): SeamEvent =>
      ev(audit({ verb: 'list', user: iamK8sUser(alice), time: at(hours), resource: 'pods', namespace: 'payments', ip, code: 200 }));
    const sa = (hours: number, ip: string): SeamEvent =>
      ev(audit({ verb: 'get', user: saK8sUser('payments', 'api'), time: at(hours), resource: 'configmaps', namespace: 'payments', ip, code: 200 }));
    const events = [...aliceDayOne(), kubectl(2, OFFICE), sa(1, '10.0.142.21'), sa(20, '10.0.142.21'), kubectl(30, HOME), kubectl(31, ABROAD), sa(32, ATTACKER)];
    const alerts = run(events, id);
    expect(alerts.map((a) => `${a.rule.level} ${a.summary.includes('AS1221') ? 'abroad' : a.summary.includes('payments:api') ? 'sa' : '?'}`)).toEqual(['low abroad', 'medium sa']);
  });
  it('judges a Kubernetes request by its connection’s address: an X-Forwarded-For entry the client wrote does not pass for a pod', () => {
    const sa = (hours: number, ips: string[]): SeamEvent => {
      const raw = audit({ verb: 'get', user: saK8sUser('payments', 'api'), time: at(hours), resource: 'configmaps', namespace: 'payments', ip: ips[0], code: 200 });
      return ev({ ...raw, sourceIPs: ips });
    };
    const learned = [sa(1, ['10.0.142.21']), sa(20, ['10.0.142.21'])];
    const alerts = run([...learned, sa(32, ['10.0.142.21', ATTACKER])], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
    expect(alerts[0]!.summary).toContain(ATTACKER);
    // relayed by something in the VPC: the connection is private, and known
    expect(run([...learned, sa(32, [ATTACKER, '10.0.142.21'])], id)).toEqual([]);
  });
  it('a learning period of 0 still needs something learned first', () => {
    expect(run([call(alice, 'DescribeInstances', 1, OFFICE)], id, { baselineLearningMs: 0 })).toEqual([]);
  });
});

describe('new region', () => {
  const id = 'seam-native-new-region';
  it('low for a region new to the person; medium for a write in a region the account never used; global calls never count', () => {
    const bob = session('Developer', 'bob@example.com', 'ASIAEXAMPLEBOB000002', 'AROAEXAMPLEDEVELOP01');
    const events = [
      ...aliceDayOne(),
      call(bob, 'DescribeInstances', 2, HOME, { region: 'us-west-2' }),
      call(bob, 'DescribeInstances', 3, HOME, { region: 'eu-west-1' }),
      // Day two: alice reads in a region bob used (low), then launches instances where nobody ever worked (medium).
      call(alice, 'DescribeInstances', 30, OFFICE, { region: 'eu-west-1' }),
      call(alice, 'ListBuckets', 30.5, OFFICE, { source: 's3.amazonaws.com', region: 'us-east-1' }),
      call(alice, 'GetCallerIdentity', 30.6, OFFICE, { source: 'sts.amazonaws.com', region: 'us-east-1' }),
      call(alice, 'CreateUser', 30.7, OFFICE, { source: 'iam.amazonaws.com', region: 'us-east-1' }),
      call(alice, 'RunInstances', 31, OFFICE, { region: 'ap-southeast-3', rp: { instanceType: 'p4d.24xlarge' } }),
      call(alice, 'RunInstances', 31.1, OFFICE, { region: 'ap-southeast-3', rp: { instanceType: 'p4d.24xlarge' } }),
    ];
    const alerts = run(events, id);
    expect(alerts.map((a) => `${a.rule.level} ${a.summary.match(/ in ([a-z0-9-]+)/)?.[1]}`)).toEqual(['low eu-west-1', 'medium ap-southeast-3']);
    // The triage text names who, the call and region, the usual regions, and the commands for that region.
    expect(alerts[1]!.triage).toContain(`role/PlatformAdmin (alice@example.com) called ec2.amazonaws.com:RunInstances in ap-southeast-3 from ${OFFICE}`);
    expect(alerts[1]!.triage).toContain(', a region it never used, nor did anyone in the account; its usual regions: ');
    expect(alerts[1]!.triage).toContain(`AttributeValue=${alice.key} --region ap-southeast-3`);
    expect(alerts[1]!.triage).toContain('aws ec2 describe-instances --region ap-southeast-3');
  });
  it('silent during learning', () => {
    expect(run([...aliceDayOne(), call(alice, 'RunInstances', 12, OFFICE, { region: 'ap-southeast-3' })], id)).toEqual([]);
  });
});

describe('impossible travel (against a location table)', () => {
  const id = 'seam-native-impossible-travel';
  const geoLocations = [
    { cidr: '62.226.0.0/16', lat: 50.11, lon: 8.68, label: 'Frankfurt' },
    { cidr: '91.64.0.0/16', lat: 52.52, lon: 13.4, label: 'Berlin' },
    { cidr: '139.130.0.0/16', lat: -33.87, lon: 151.21, label: 'Sydney' },
    { cidr: '185.220.101.0/24', lat: 59.33, lon: 18.07, label: 'Stockholm' },
    { cidr: '35.90.0.0/16', lat: 45.6, lon: -121.2, label: 'us-west-2' },
  ];
  it('fires (medium) on Frankfurt then Sydney 40 minutes later, after learning', () => {
    const events = [...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30 + 40 / 60, ABROAD)];
    const alerts = run(events, id, { geoLocations });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toMatch(/Frankfurt .* Sydney/);
    expect(alerts[0]!.events).toHaveLength(2);
    // The triage text names who, both places and addresses, the call, and the commands with its key and role.
    expect(alerts[0]!.triage).toContain(`role/PlatformAdmin (alice@example.com) acted from Frankfurt (${OFFICE}) at `);
    expect(alerts[0]!.triage).toContain(`then called ec2.amazonaws.com:DescribeInstances from Sydney from ${ABROAD}`);
    expect(alerts[0]!.triage).toContain(`Benign if one of ${OFFICE} and ${ABROAD} is a VPN or proxy egress`);
    expect(alerts[0]!.triage).toContain(`list what ${ABROAD} did (aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${alice.key}`);
  });
  it('silent: during learning, when the travel is possible, between networks both learned, from AWS, and without a table', () => {
    // Learning.
    expect(run([call(alice, 'DescribeInstances', 1, OFFICE), call(alice, 'DescribeInstances', 1.5, ABROAD)], id, { geoLocations })).toEqual([]);
    // Frankfurt → Sydney in 30 hours is a flight.
    expect(run([...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 60, ABROAD)], id, { geoLocations })).toEqual([]);
    // Frankfurt ↔ Berlin (~420 km) in 30 minutes: below travelMinKm; both learned anyway.
    expect(run([...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30.5, HOME)], id, { geoLocations })).toEqual([]);
    // Frankfurt ↔ Stockholm VPN egress both used on day one: a learned pattern.
    const vpn = [...aliceDayOne(), call(alice, 'DescribeInstances', 9, ATTACKER), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30.2, ATTACKER)];
    expect(run(vpn, id, { geoLocations })).toEqual([]);
    // An AWS address (CloudShell, a runner on EC2) is not a place a person is.
    expect(run([...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30.2, EC2_OTHER)], id, { geoLocations })).toEqual([]);
    // No table: nothing runs.
    expect(run([...aliceDayOne(), call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30 + 40 / 60, ABROAD)], id)).toEqual([]);
  });
});

describe('baseline state', () => {
  it('lives in identity facts: a graph rebuilt from the published facts keeps the baseline and the learning period', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: ['seam-native-new-network', 'seam-native-new-region'], onFacts: (fs) => published.push(...fs) });
    for (const e of aliceDayOne()) expect(first.process(e)).toEqual([]);
    const kinds = new Set(published.map((f) => f.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['baseline_start', 'seen_network', 'seen_region']));
    expect(published.filter((f) => f.kind === 'seen_network').map((f) => f.to).sort()).toEqual(['net:AS3209', 'net:AS3320']);
    for (const f of published) expect(f.valid_to).toBeDefined();

    // "Restart": a new engine whose graph is rebuilt from what was published (what seam.identity carries).
    const restarted = (): ReturnType<typeof createNativeEngine> => {
      const g = new IdentityGraph();
      g.applyFacts(published);
      return createNativeEngine({ only: ['seam-native-new-network', 'seam-native-new-region'], graph: g });
    };
    const day2 = [call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'DescribeInstances', 30.5, HOME), call(alice, 'DescribeInstances', 31, ABROAD)];
    const after = restarted();
    expect(day2.flatMap((e) => after.process(e)).map((a) => `${a.rule.id} ${a.rule.level}`)).toEqual(['seam-native-new-network low']);
    // Without the facts, the principal would be new again: learning, silent.
    const amnesiac = createNativeEngine({ only: ['seam-native-new-network'] });
    expect(day2.flatMap((e) => amnesiac.process(e))).toEqual([]);
  });
  it('forgets a network unused for baselineMemoryMs, and keeps one that is used', () => {
    const events = [...aliceDayOne(), call(alice, 'DescribeInstances', 24 * 20, OFFICE), call(alice, 'DescribeInstances', 24 * 45, OFFICE), call(alice, 'DescribeInstances', 24 * 45 + 1, HOME)];
    const alerts = run(events, 'seam-native-new-network');
    expect(alerts.map((a) => a.summary.includes('AS3209'))).toEqual([true]);
  });
});

describe('on the benign corpus (test/noise/benign-corpus.ts)', () => {
  it('the baselines raise nothing at medium or above over three days of an account’s routine traffic', async () => {
    const { generateBenignCorpus } = await import('../../../test/noise/benign-corpus.ts');
    const { normalizeLine } = await import('../../core/normalize/normalize.ts');
    const corpus = generateBenignCorpus();
    const only = ['seam-native-new-network', 'seam-native-new-region', 'seam-native-impossible-travel', 'seam-native-instance-creds-outside-aws'];
    const engine = createNativeEngine({ only });
    let events = 0;
    const alerts: Alert[] = [];
    // The baselines read CloudTrail only; the rest of the corpus is replayed by test:noise.
    for (const line of corpus.prod) {
      if (!line.includes('"eventSource"')) continue;
      const r = normalizeLine(line, { collector: 'test', receivedAt: '2026-11-05T00:00:00.000Z', cluster: 'prod-eks-01' });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      events++;
      alerts.push(...engine.process(r.value));
    }
    alerts.push(...engine.flush());
    expect(engine.stats().errors).toEqual({});
    expect(events).toBeGreaterThan(15_000);
    // The baselines did learn (every person, role and workload), so their silence is not for want of input.
    const end = Date.parse('2026-11-04T23:00:00Z');
    expect(engine.graph.store.ofKind('seen_network', end).length).toBeGreaterThan(10);
    expect(engine.graph.store.ofKind('seen_region', end).length).toBeGreaterThan(10);
    expect(engine.graph.store.ofKind('baseline_start', end).length).toBeGreaterThan(10);
    expect(alerts.filter((a) => a.rule.level !== 'low' && a.rule.level !== 'informational').map((a) => a.summary)).toEqual([]);
    // The limit only bounds a hang: three days of traffic took 69 s at load ~16 (CI beside helpers) and hit the old 60 s.
  }, 600_000);
});

describe('new terms: service, client, verb on secrets', () => {
  it('new service: low once for a service the person never called after learning; routine services and refused calls never count', () => {
    const events = [
      ...aliceDayOne(),
      call(alice, 'GetCallerIdentity', 30, OFFICE, { source: 'sts.amazonaws.com' }),
      call(alice, 'ListSecrets', 30.1, OFFICE, { source: 'secretsmanager.amazonaws.com', errorCode: 'AccessDenied' }),
      call(alice, 'ListSecrets', 30.2, OFFICE, { source: 'secretsmanager.amazonaws.com' }),
      call(alice, 'GetSecretValue', 30.3, OFFICE, { source: 'secretsmanager.amazonaws.com' }),
      call(alice, 'DescribeInstances', 30.4, OFFICE),
    ];
    const alerts = run(events, 'seam-native-new-service');
    expect(alerts.map((a) => a.rule.level)).toEqual(['low']);
    expect(alerts[0]!.summary).toContain('secretsmanager (ListSecrets)');
    expect(alerts[0]!.summary).toContain('usual: ec2');
    expect(alerts[0]!.events).toEqual([events[events.length - 3]!.seam.id]);
    expect(alerts[0]!.triage).toContain(`role/PlatformAdmin (alice@example.com) called secretsmanager (ListSecrets) from ${OFFICE}`);
    expect(alerts[0]!.triage).toContain('its usual services: ec2, lambda. Does its job plausibly need secretsmanager');
    expect(alerts[0]!.triage).toContain(`list its other calls around this one (aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${alice.key}`);
    expect(alerts[0]!.triage).toContain("Otherwise deny role PlatformAdmin's sessions issued before now");
  });
  it('new service: silent during learning', () => {
    expect(run([...aliceDayOne(), call(alice, 'ListSecrets', 5, OFFICE, { source: 'secretsmanager.amazonaws.com' })], 'seam-native-new-service')).toEqual([]);
  });
  it('new client: low once when a principal used by an SDK is used from the AWS CLI; unknown user agents say nothing', () => {
    const events: SeamEvent[] = [];
    for (let h = 0; h < 30; h++) events.push(call(ci, 'DescribeStacks', h, NAT, { source: 'cloudformation.amazonaws.com' }));
    events.push(call(ci, 'DescribeStacks', 30, NAT, { source: 'cloudformation.amazonaws.com', userAgent: 'some-internal-tool/1.0' }));
    events.push(call(ci, 'ListBuckets', 31, NAT, { source: 's3.amazonaws.com', userAgent: CLI_UA }));
    events.push(call(ci, 'ListBuckets', 31.1, NAT, { source: 's3.amazonaws.com', userAgent: CLI_UA }));
    const alerts = run(events, 'seam-native-new-client');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('low');
    expect(alerts[0]!.summary).toContain('a cli client');
    expect(alerts[0]!.summary).toContain('usual: sdk');
    expect(alerts[0]!.triage).toContain(`role/ci-deployer (botocore-session-1762070400) called s3.amazonaws.com:ListBuckets with a cli client from ${NAT} with “aws-cli/2.22.4`);
    expect(alerts[0]!.triage).toContain(`its usual clients: sdk. Who uses role/ci-deployer (botocore-session-1762070400), and with what?`);
    expect(alerts[0]!.triage).toContain('AttributeValue=ASIAEXAMPLECIDEPLOY1');
  });
  it('new verb on secrets: a service account that only ever got its secret starts listing them (low, once)', () => {
    const sa = saK8sUser('payments', 'api');
    const get = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'secrets', namespace: 'payments', name: 'api-db', ip: '10.0.3.4' }), 'prod-eks-01');
    const events = [...Array.from({ length: 30 }, (_, h) => get(h)), ev(audit({ verb: 'list', user: sa, time: at(30), resource: 'secrets', ip: '10.0.3.4' }), 'prod-eks-01'), ev(audit({ verb: 'list', user: sa, time: at(30.1), resource: 'secrets', ip: '10.0.3.4' }), 'prod-eks-01'), get(31)];
    const alerts = run(events, 'seam-native-new-secret-verb');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('used list on secrets across all namespaces');
    expect(alerts[0]!.summary).toContain('usual: get');
    expect(alerts[0]!.triage).toContain('sa payments/api used list on secrets across all namespaces from 10.0.3.4 with “kubectl/v1.30.2 (linux/amd64) kubernetes/3968350”, a verb it never used on secrets; its usual verbs: get.');
    expect(alerts[0]!.triage).toContain('kubectl auth can-i --list --as=system:serviceaccount:payments:api');
    expect(alerts[0]!.triage).toContain('seam hunt --who payments/api --cluster prod-eks-01');
  });
  it('an upgrade does not alert on what the older baselines already know: the new terms learn with a start of their own', () => {
    const published: IdentityFact[] = [];
    const old = createNativeEngine({ only: ['seam-native-new-network', 'seam-native-new-region'], onFacts: (fs) => published.push(...fs) });
    for (const e of aliceDayOne()) old.process(e);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const upgraded = createNativeEngine({ only: ['seam-native-new-service', 'seam-native-new-client'], graph: g });
    const day11 = [call(alice, 'DescribeInstances', 240, OFFICE), call(alice, 'ListBuckets', 240.1, OFFICE, { source: 's3.amazonaws.com' }), call(alice, 'ListFunctions', 240.2, OFFICE, { source: 'lambda.amazonaws.com' }), call(alice, 'DescribeLogGroups', 240.3, OFFICE, { source: 'logs.amazonaws.com', userAgent: CLI_UA })];
    expect(day11.flatMap((e) => upgraded.process(e))).toEqual([]);
    // A day later its learning is over: a service it never called is new again.
    expect(upgraded.process(call(alice, 'ListSecrets', 270, OFFICE, { source: 'secretsmanager.amazonaws.com' })).map((a) => a.rule.id)).toEqual(['seam-native-new-service']);
  });
  it('new service: the console calling services for a person says nothing', () => {
    const consoleUa = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const events = [...aliceDayOne(), call(alice, 'DescribeAlarms', 30, OFFICE, { source: 'monitoring.amazonaws.com', userAgent: consoleUa }), call(alice, 'GetCostAndUsage', 30.1, OFFICE, { source: 'ce.amazonaws.com' })];
    expect(run(events, 'seam-native-new-service')).toEqual([]);
  });
  it('new verb on secrets: a service account that never touched secrets and starts listing them (its first term); kube-system controllers never', () => {
    const sa = saK8sUser('payments', 'api');
    const pods = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'configmaps', namespace: 'payments', name: 'cfg', ip: '10.0.3.4' }), 'prod-eks-01');
    const list = (user: ReturnType<typeof saK8sUser>, h: number): SeamEvent => ev(audit({ verb: 'list', user, time: at(h), resource: 'secrets', ip: '10.0.3.4' }), 'prod-eks-01');
    const alerts = run([...Array.from({ length: 30 }, (_, h) => pods(h)), list(sa, 30)], 'seam-native-new-secret-verb');
    expect(alerts.map((a) => a.summary)).toEqual([expect.stringContaining('usual: none')]);
    const ns = saK8sUser('kube-system', 'namespace-controller');
    const ctrl = (verb: string, h: number): SeamEvent => ev(audit({ verb, user: ns, time: at(h), resource: 'secrets', namespace: 'gone', ip: '10.0.3.9' }), 'prod-eks-01');
    expect(run([...Array.from({ length: 30 }, (_, h) => ctrl('list', h)), ctrl('deletecollection', 40)], 'seam-native-new-secret-verb')).toEqual([]);
  });
  it('new Kubernetes action: a workload token that only read its secret execs, binds and checks its permissions (medium for the exec, low otherwise), once each', () => {
    const sa = saK8sUser('payments', 'api');
    const get = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'secrets', namespace: 'payments', name: 'api-db', ip: '10.0.3.4' }), 'prod-eks-01');
    const exec = (h: number, code = 101): SeamEvent => ev(audit({ verb: 'create', user: sa, time: at(h), resource: 'pods', namespace: 'orders', name: 'orders-0', subresource: 'exec', code, ip: '10.0.3.4' }), 'prod-eks-01');
    const review = ev(audit({ verb: 'create', user: sa, time: at(30.2), resource: 'selfsubjectaccessreviews', apiGroup: 'authorization.k8s.io', ip: '10.0.3.4', requestObject: { kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'orders' } } } }), 'prod-eks-01');
    const bind = ev(audit({ verb: 'create', user: sa, time: at(30.3), resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: 'orders', name: 'orders-admin', ip: '10.0.3.4' }), 'prod-eks-01');
    // A refused exec neither alerts nor teaches: the allowed one after it is still the first.
    const alerts = run([...Array.from({ length: 30 }, (_, h) => get(h)), exec(30, 403), review, exec(30.4), exec(30.5), bind], 'seam-native-new-k8s-action');
    expect(alerts.map((a) => [a.rule.level, a.summary.match(/made an? (\S+) request/)?.[1]])).toEqual([
      ['low', 'permission-check'],
      ['medium', 'exec'],
      ['low', 'binding-write'],
    ]);
    expect(alerts[0]!.summary).toContain('(create pods/exec in orders)');
    expect(alerts[1]!.summary).toContain('usual: permission-check');
    // The triage texts name the request, address, the object with the kubectl command that shows it, and the hunt.
    expect(alerts[1]!.triage).toContain('sa payments/api made an exec request (“create pods/exec orders/orders-0”) from 10.0.3.4 with “kubectl/v1.30.2 (linux/amd64) kubernetes/3968350”, a kind it never made; its usual kinds: permission-check.');
    expect(alerts[1]!.triage).toContain('kubectl get pods -n orders orders-0 -o yaml');
    expect(alerts[2]!.triage).toContain('Read what it made or touched (kubectl get rolebindings -n orders orders-admin -o yaml)');
    expect(alerts[2]!.triage).toContain('undo it (kubectl delete rolebindings -n orders orders-admin)');
    expect(alerts[2]!.triage).toContain('(seam hunt --who payments/api --cluster prod-eks-01)');
  });
  it('new Kubernetes action: a server-side dry run of a write neither alerts nor teaches; the write for real is still the first', () => {
    const sa = saK8sUser('payments', 'api');
    const get = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'secrets', namespace: 'payments', name: 'api-db', ip: '10.0.3.4' }), 'prod-eks-01');
    const bind = (h: number, dryRun: boolean): SeamEvent => {
      const raw = audit({ verb: 'create', user: sa, time: at(h), resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: 'orders', ip: '10.0.3.4' });
      if (dryRun) raw.requestURI = `${String(raw.requestURI)}?dryRun=All&fieldManager=kubectl-create`;
      return ev(raw, 'prod-eks-01');
    };
    expect(bind(30, true).seam.dry_run).toBe(true);
    const alerts = run([...Array.from({ length: 30 }, (_, h) => get(h)), bind(30, true), bind(30.5, false)], 'seam-native-new-k8s-action');
    expect(alerts.map((a) => [a.rule.level, a.summary.match(/made an? (\S+) request/)?.[1], a.dry_run])).toEqual([['low', 'binding-write', undefined]]);
  });
  it('new Kubernetes action learns with a start of its own: a service account the secret-verb baseline knew for ten days is learning again', () => {
    const sa = saK8sUser('argocd', 'argocd-application-controller');
    const get = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'secrets', namespace: 'argocd', name: 'repo-creds', ip: '10.0.3.4' }), 'prod-eks-01');
    const bind = (h: number): SeamEvent => ev(audit({ verb: 'create', user: sa, time: at(h), resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: 'tenant-a', ip: '10.0.3.4' }), 'prod-eks-01');
    const token = (h: number): SeamEvent => ev(audit({ verb: 'create', user: sa, time: at(h), resource: 'serviceaccounts', subresource: 'token', namespace: 'argocd', name: 'argocd-repo-server', code: 201, ip: '10.0.3.4' }), 'prod-eks-01');
    const exec = (h: number): SeamEvent => ev(audit({ verb: 'create', user: sa, time: at(h), resource: 'pods', namespace: 'orders', name: 'orders-0', subresource: 'exec', code: 101, ip: '10.0.3.4' }), 'prod-eks-01');
    // An earlier version ran the secret-verb baseline (the shared `terms|` start) for ten days.
    const published: IdentityFact[] = [];
    const old = createNativeEngine({ only: ['seam-native-new-secret-verb'], onFacts: (fs) => published.push(...fs) });
    for (let h = 0; h < 240; h += 6) old.process(get(h));
    const g = new IdentityGraph();
    g.applyFacts(published);
    const upgraded = createNativeEngine({ only: ['seam-native-new-k8s-action'], graph: g });
    // Its first day under the new detection: a binding, a token and an exec are learned, not raised.
    expect([get(240), bind(241), token(242), exec(243)].flatMap((e) => upgraded.process(e))).toEqual([]);
    // After learning, known kinds stay silent; a new kind is raised (a port-forward: medium for a service account).
    const pf = ev(audit({ verb: 'create', user: sa, time: at(270), resource: 'pods', namespace: 'orders', name: 'orders-0', subresource: 'portforward', code: 101, ip: '10.0.3.4' }), 'prod-eks-01');
    expect([bind(268), exec(269), pf].flatMap((e) => upgraded.process(e)).map((a) => [a.rule.level, a.summary.match(/made an? (\S+) request/)?.[1]])).toEqual([['medium', 'port-forward']]);
  });
  it('new Kubernetes action: a service account\'s first token request or binding after learning is low (GitOps, cert-manager, External Secrets)', () => {
    const sa = saK8sUser('external-secrets', 'external-secrets');
    const get = (h: number): SeamEvent => ev(audit({ verb: 'get', user: sa, time: at(h), resource: 'secrets', namespace: 'payments', name: 'api-db', ip: '10.0.3.4' }), 'prod-eks-01');
    const token = ev(audit({ verb: 'create', user: sa, time: at(30), resource: 'serviceaccounts', subresource: 'token', namespace: 'payments', name: 'vault-auth', code: 201, ip: '10.0.3.4' }), 'prod-eks-01');
    const bind = ev(audit({ verb: 'patch', user: sa, time: at(31), resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'eso-tenant', ip: '10.0.3.4' }), 'prod-eks-01');
    const alerts = run([...Array.from({ length: 30 }, (_, h) => get(h)), token, bind], 'seam-native-new-k8s-action');
    expect(alerts.map((a) => [a.rule.level, a.summary.match(/made an? (\S+) request/)?.[1]])).toEqual([
      ['low', 'token-request'],
      ['low', 'binding-write'],
    ]);
  });
  it('new Kubernetes action: a person\'s first exec is low; silent while learning, for known kinds, for kube-system controllers and for reads', () => {
    const person = iamK8sUser(alice);
    const deploy = (h: number): SeamEvent => ev(audit({ verb: 'patch', user: person, time: at(h), resource: 'deployments', apiGroup: 'apps', namespace: 'orders', name: 'api' }), 'prod-eks-01');
    const exec = (h: number): SeamEvent => ev(audit({ verb: 'create', user: person, time: at(h), resource: 'pods', namespace: 'orders', name: 'api-0', subresource: 'exec', code: 101 }), 'prod-eks-01');
    const read = (h: number): SeamEvent => ev(audit({ verb: 'list', user: person, time: at(h), resource: 'pods', namespace: 'orders' }), 'prod-eks-01');
    // Learning: the exec on day one is learned, not alerted; day two's deployments and pod lists are known or not sensitive.
    expect(run([exec(1), ...Array.from({ length: 30 }, (_, h) => deploy(h)), exec(40), read(41)], 'seam-native-new-k8s-action')).toEqual([]);
    const late = run([...Array.from({ length: 30 }, (_, h) => deploy(h)), exec(40)], 'seam-native-new-k8s-action');
    expect(late.map((a) => [a.rule.level, a.summary.match(/usual: (.*)$/)?.[1]])).toEqual([['low', 'workload-write']]);
    // kubectl 1.30 and later open the session with a WebSocket upgrade, logged as get: the same kind of request.
    const wsExec = (h: number): SeamEvent => ev(audit({ verb: 'get', user: person, time: at(h), resource: 'pods', namespace: 'orders', name: 'api-0', subresource: 'exec', code: 101 }), 'prod-eks-01');
    expect(run([...Array.from({ length: 30 }, (_, h) => deploy(h)), wsExec(40)], 'seam-native-new-k8s-action').map((a) => a.rule.level)).toEqual(['low']);
    expect(run([wsExec(1), ...Array.from({ length: 30 }, (_, h) => deploy(h)), exec(40)], 'seam-native-new-k8s-action')).toEqual([]);
    const rs = saK8sUser('kube-system', 'replicaset-controller');
    const pod = (h: number): SeamEvent => ev(audit({ verb: 'create', user: rs, time: at(h), resource: 'pods', namespace: 'orders', ip: '10.0.3.9' }), 'prod-eks-01');
    const bind = ev(audit({ verb: 'create', user: rs, time: at(40), resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: 'orders', ip: '10.0.3.9' }), 'prod-eks-01');
    expect(run([...Array.from({ length: 30 }, (_, h) => pod(h)), bind], 'seam-native-new-k8s-action')).toEqual([]);
  });
  it('instances of one instance profile are one subject: a new instance calling the fleet\'s services says nothing', () => {
    const other = session('web-app-instance-role', 'i-0fedcba9876543210', 'ASIAEXAMPLEINSTANCE2', 'AROAEXAMPLEWEBAPP0001');
    const ssm = { source: 'ssm.amazonaws.com', userAgent: SSM_UA };
    const fleet: SeamEvent[] = [];
    for (let h = 0; h < 30; h++) fleet.push(call(instance, 'UpdateInstanceInformation', h, EC2_IP, ssm), call(instance, 'GetObject', h + 0.5, EC2_IP, { source: 's3.amazonaws.com', userAgent: SSM_UA }));
    const alerts = run([...fleet, call(other, 'UpdateInstanceInformation', 31, EC2_OTHER, ssm), call(other, 'GetObject', 31.1, EC2_OTHER, { source: 's3.amazonaws.com', userAgent: SSM_UA }), call(other, 'ListUsers', 31.2, EC2_OTHER, { source: 'iam.amazonaws.com', userAgent: SSM_UA })], 'seam-native-new-service');
    expect(alerts.map((a) => a.summary.match(/called (\S+)/)?.[1])).toEqual(['iam']);
  });
  it('what the new-terms baselines learned survives a restart (a graph rebuilt from the published facts)', () => {
    const only = ['seam-native-new-service', 'seam-native-new-client'];
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only, onFacts: (fs) => published.push(...fs) });
    for (const e of aliceDayOne()) expect(first.process(e)).toEqual([]);
    expect(published.filter((f) => f.kind === 'seen_service').map((f) => f.to).sort()).toEqual(['svc:ec2', 'svc:lambda']);
    expect(published.some((f) => f.kind === 'seen_client')).toBe(true);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const after = createNativeEngine({ only, graph: g });
    const day2 = [call(alice, 'DescribeInstances', 30, OFFICE), call(alice, 'ListSecrets', 30.5, OFFICE, { source: 'secretsmanager.amazonaws.com' })];
    expect(day2.flatMap((e) => after.process(e)).map((a) => a.rule.id)).toEqual(['seam-native-new-service']);
    // Without the facts, alice would be new again: learning, silent.
    expect(day2.flatMap((e) => createNativeEngine({ only }).process(e))).toEqual([]);
  });
});
