import { describe, expect, it } from 'vitest';
import { ACCOUNT, REGION, alice, audit, bob, callAs, ciDeployer, ev, iamK8sUser, session } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { createNativeEngine } from './engine.ts';
import { MIN_NEW, parameterName, prefixOf, secretName, secretsRead } from './secrets-first-read-burst.ts';

// Secrets Manager and Parameter Store reads as CloudTrail records them (GetSecretValue's secretId, GetParameter's
// name and withDecryption, GetParameters' names), over two days: the first is the principals' learning period
// (24 h), the second has the harvest.
const id = 'seam-native-secrets-first-read-burst';
const H = 3600_000;
const BASE = Date.parse('2024-11-05T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString().replace(/\.\d+Z$/, 'Z');
const TF = 'APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.62.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ssm#1.52.4';
const LAMBDA = 'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224 lang/python#3.12.5 exec-env/AWS_Lambda_python3.12';
const param = (s: typeof alice, name: string, hours: number, ua = TF, extra: Record<string, unknown> = {}): SeamEvent =>
  ev({ ...callAs(s, 'ssm.amazonaws.com', 'GetParameter', at(hours), undefined, { name, withDecryption: true }, { userAgent: ua }), ...extra }, undefined);
const secret = (s: typeof alice, secretId: string, hours: number): SeamEvent => ev(callAs(s, 'secretsmanager.amazonaws.com', 'GetSecretValue', at(hours), undefined, { secretId }), undefined);
const names = (n: number, prefix = '/prod/payments/'): string[] => Array.from({ length: n }, (_, i) => `${prefix}key-${String(i).padStart(2, '0')}`);

/** Day 1: Alice reads two secrets, the CI role reads its 15 parameters with Terraform (learning). */
const learningDay = (): SeamEvent[] => [
  secret(alice, 'prod/payments/stripe', 1),
  param(alice, '/prod/payments/key-00', 2, 'aws-cli/2.22.4'),
  ...names(15, '/prod/infra/').map((n, i) => param(ciDeployer, n, 3 + i / 600)),
];

describe('Many secrets read for the first time by one principal within minutes', () => {
  it('fires (medium) once when a person reads ten parameters it never read, one GetParameter each under a Terraform user agent', () => {
    const harvest = names(12).map((n, i) => param(alice, n, 30 + i / 120)); // one every 30 s
    const alerts = runNative(id, [...learningDay(), ...harvest]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    // key-00 was read on day 1: the eleven others are new, and all came within the alert's grace period.
    expect(alerts[0]!.events).toEqual(harvest.slice(1).map((e) => e.seam.id));
    expect(alerts[0]!.summary).toContain('read 11 secrets it had never read');
    // The triage text names the reader, where it read from and the secrets, not field paths.
    expect(alerts[0]!.triage).toContain(`role/PlatformAdmin (alice@example.com) read 11 secrets it had never read within 10 minutes, from ${harvest[0]!.seam.source_ip} with “APN/1.0 HashiCorp/1.0 Terraform/1.9.5`);
    expect(alerts[0]!.triage).toContain(': /prod/payments/key-01, /prod/payments/key-02, /prod/payments/key-03, /prod/payments/key-04, /prod/payments/key-05, and 6 more. ');
    expect(alerts[0]!.triage).toContain('If not: revoke role/PlatformAdmin (alice@example.com)’s credentials, rotate every secret it read');
    expect(alerts[0]!.triage).not.toContain('requestParameters');
    expect(MIN_NEW).toBe(10);
  });

  it('counts Secrets Manager by name (an ARN and its name are one secret) and GetParameters by each name', () => {
    const arn = (n: string): string => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-AbC123`;
    const mixed = [
      secret(alice, arn('prod/payments/stripe'), 30), // read on day 1 by name
      ...['a', 'b', 'c', 'd'].map((n, i) => secret(alice, arn(`prod/app/${n}`), 30 + i / 600)),
      ev(callAs(alice, 'ssm.amazonaws.com', 'GetParameters', at(30.01), undefined, { names: names(7, '/prod/web/'), withDecryption: true }), undefined),
    ];
    expect(runNative(id, [...learningDay(), ...mixed]).map((a) => a.rule.id)).toEqual([id]);
    expect(secretsRead(mixed[0]!)).toEqual(['sm:prod/payments/stripe']);
  });

  it('stays quiet: Terraform re-reading what it read before or reading back what it created, nine new secrets, new secrets spread over an hour, the learning day, failed or plain reads', () => {
    const quiet = [
      ...learningDay(),
      ...names(15, '/prod/infra/').map((n, i) => param(ciDeployer, n, 30 + i / 600)),
      ...names(9, '/prod/api/').map((n, i) => param(alice, n, 31 + i / 600)),
      // Terraform creating twelve parameters and secrets, then reading each back.
      ...names(12, '/prod/new-service/').flatMap((n, i) => [
        ev(callAs(ciDeployer, 'ssm.amazonaws.com', 'PutParameter', at(33 + i / 600), undefined, { name: n, type: 'SecureString', overwrite: false }, { userAgent: TF }), undefined),
        param(ciDeployer, n, 33.1 + i / 600),
      ]),
      // The same, with each read reaching Seam before its write (CloudTrail does not order calls of one second).
      ...names(12, '/prod/other-service/').flatMap((n, i) => [
        param(ciDeployer, n, 33.5 + i / 600),
        ev(callAs(ciDeployer, 'ssm.amazonaws.com', 'PutParameter', at(33.5 + i / 600), undefined, { name: n, type: 'SecureString', overwrite: false }, { userAgent: TF }), undefined),
      ]),
      ...['db', 'api', 'smtp', 'queue', 'cache', 'search', 'auth', 'pay', 'mail', 'sms', 'cdn', 'log'].flatMap((n, i) => [
        ev(callAs(ciDeployer, 'secretsmanager.amazonaws.com', 'CreateSecret', at(34 + i / 600), undefined, { name: `prod/new-service/${n}` }, { userAgent: TF }), undefined),
        secret(ciDeployer, `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/new-service/${n}-Xy12Ab`, 34.1 + i / 600),
      ]),
      ...names(12, '/prod/batch/').map((n, i) => param(alice, n, 32 + i / 10)), // one every 6 minutes
      ...names(12, '/prod/denied/').map((n, i) => param(alice, n, 41 + i / 600, TF, { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' })),
      ...names(12, '/prod/plain/').map((n, i) => ev(callAs(alice, 'ssm.amazonaws.com', 'GetParameter', at(42 + i / 600), undefined, { name: n }), undefined)),
    ];
    expect(runNative(id, quiet)).toEqual([]);
    // The same harvest inside the learning day.
    expect(runNative(id, names(12).map((n, i) => param(alice, n, 1 + i / 120)))).toEqual([]);
  });

  it('remembers who read what across a restart (identity facts rebuilt from seam.identity)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [id], onFacts: (fs) => published.push(...fs) });
    for (const e of [...learningDay(), ...names(12, '/prod/api/').map((n, i) => param(alice, n, 25 + i / 10))]) expect(first.process(e)).toEqual([]);
    expect(published.filter((f) => f.kind === 'read_secret')).toHaveLength(2 + 15 + 12);
    const g = new IdentityGraph();
    g.applyFacts(published);
    // Re-reading the twelve is not new after the restart; twelve others are.
    expect(runNative(id, names(12, '/prod/api/').map((n, i) => param(alice, n, 30 + i / 120)), { graph: g })).toEqual([]);
    expect(runNative(id, names(12, '/prod/other/').map((n, i) => param(alice, n, 31 + i / 120)), { graph: g })).toHaveLength(1);
  });
});

describe('secrets-first-read-burst: timing (review2 H1–H3)', () => {
  const m = (hours: number, minutes: number): number => hours + minutes / 60;
  it('settles on its own CloudTrail clock: Terraform reading back twelve parameters whose writes arrive after EKS audit events moved the engine ahead (H1, P6)', () => {
    const ns = names(12, '/prod/tf-module/');
    const kube = (minutes: number): SeamEvent =>
      ev(audit({ verb: 'get', user: iamK8sUser(bob), time: new Date(BASE + 33 * H + minutes * 60_000).toISOString(), resource: 'pods', namespace: 'default' }));
    const events = [
      ...learningDay(),
      ...ns.map((n) => param(ciDeployer, n, 33)),
      kube(2),
      kube(6),
      ...ns.map((n) => ev(callAs(ciDeployer, 'ssm.amazonaws.com', 'PutParameter', at(33), undefined, { name: n, type: 'SecureString' }, { userAgent: TF }), undefined)),
    ];
    expect(runNative(id, events)).toEqual([]);
    // Without the writes, the same reads alert, also when the trail then goes quiet and only audit events arrive.
    const alerts = runNative(id, [...learningDay(), ...ns.map((n) => param(ciDeployer, n, 33)), kube(2), kube(30)]);
    expect(alerts).toHaveLength(1);
  });

  it('a late first read inside the grace does not erase a burst; the calls shown start with the burst (H2, P1)', () => {
    const ns = names(11, '/prod/h2/');
    const burst = [...ns.slice(0, 5).map((n) => param(alice, n, 30)), ...ns.slice(5, 10).map((n) => param(alice, n, m(30, 9))), param(alice, ns[10]!, m(30, 13.5))];
    const alerts = runNative(id, [...learningDay(), ...burst]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toEqual(burst.map((e) => e.seam.id));
  });

  it('a record arriving late (an older CloudTrail file) does not throw away newer reads (H3, P2)', () => {
    const ns = names(10, '/prod/h3/');
    const newer = ns.map((n, i) => param(alice, n, m(30, 11 + i / 10)));
    const late = param(alice, '/prod/elsewhere/old', 30);
    expect(runNative(id, [...learningDay(), ...newer.slice(0, 9), late, newer[9]!])).toHaveLength(1);
  });

  it('a burst that writes emptied re-arms: a later window that reaches ten alerts after its own grace', () => {
    const ns = names(12, '/prod/rearm/');
    const events = [
      ...learningDay(),
      ...ns.slice(0, 10).map((n) => param(alice, n, 30)),
      // Two of the ten were Alice's own writes (reaching Seam after the reads), so the first window holds eight.
      ...ns.slice(0, 2).map((n) => ev(callAs(alice, 'ssm.amazonaws.com', 'PutParameter', at(30), undefined, { name: n, type: 'SecureString' }), undefined)),
      // Two more in one call, six minutes later: the window ending there holds ten.
      ev(callAs(alice, 'ssm.amazonaws.com', 'GetParameters', at(m(30, 6)), undefined, { names: ns.slice(10), withDecryption: true }), undefined),
    ];
    expect(runNative(id, events)).toHaveLength(1);
    expect(runNative(id, events.slice(0, -1))).toEqual([]);
  });

  it('a harvest of thousands: one alert that shows the first and the last calls', () => {
    const ns = names(3000, '/prod/big/').map((n) => n + '-x');
    const harvest = ns.map((n, i) => param(alice, n, 30 + i / 200_000));
    const alerts = runNative(id, [...learningDay(), ...harvest]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toHaveLength(50);
    expect(alerts[0]!.events[0]).toBe(harvest[0]!.seam.id);
    expect(alerts[0]!.events.at(-1)).toBe(harvest.at(-1)!.seam.id);
  });
});

describe('secrets-first-read-burst: evasions (review2 H4) and names (L3)', () => {
  const ATTACKER = '185.220.101.1'; // a hosting AS, not Amazon
  /** This detection with seam-native-lambda-creds-outside-aws, which learns Lambda execution sessions: its alerts. */
  const withLambda = (events: SeamEvent[]): string[] => {
    const engine = createNativeEngine({ only: ['seam-native-lambda-creds-outside-aws', id] });
    const alerts = [...events.flatMap((e) => engine.process(e)), ...engine.flush()];
    expect(engine.stats().errors).toEqual({});
    return alerts.filter((a) => a.rule.id === id).map((a) => a.rule.level);
  };
  const rotator = session('rds-rotator', 'SecretsManagerRotation-db', 'ASIAEXAMPLEROTATOR01');

  it('the Lambda runtime user agent clears only a known execution session calling from Amazon: not a person with a forged one, not the function’s keys elsewhere', () => {
    const day1 = [...learningDay(), param(rotator, '/prod/rotation/seed', 4, LAMBDA)];
    const rotation = names(12, '/prod/rotation/').map((n, i) => param(rotator, n, 40 + i / 600, LAMBDA));
    expect(withLambda([...day1, ...rotation])).toEqual([]);
    // Alice's session (no function's) with the runtime's mark in its user agent.
    expect(withLambda([...day1, ...names(12).map((n, i) => param(alice, n, 30 + i / 600, LAMBDA))])).toEqual(['medium']);
    // The function's keys, mark and all, from outside Amazon.
    // (A function's session is a workload: low, its new secrets under one prefix; the lambda detection's own alert is high.)
    expect(withLambda([...day1, ...names(12, '/prod/rotation/').map((n, i) => ev(callAs(rotator, 'ssm.amazonaws.com', 'GetParameter', at(40 + i / 600), ATTACKER, { name: n, withDecryption: true }, { userAgent: LAMBDA }), undefined))])).toEqual(['low']);
  });

  it('a new session name of a role whose sessions read secrets before is not learning (aws sts assume-role --role-session-name anything)', () => {
    const fresh = session('PlatformAdmin', 'anything', 'ASIAEXAMPLEFRESH0001', alice.roleId);
    expect(runNative(id, [...learningDay(), ...names(20, '/prod/fresh/').map((n, i) => param(fresh, n, 30 + i / 600, 'aws-cli/2.22.4'))])).toHaveLength(1);
    // A role never seen reading secrets: its new session is learning.
    const other = session('DataScience', 'carol@example.com', 'ASIAEXAMPLECAROL0001');
    expect(runNative(id, [...learningDay(), ...names(20, '/prod/fresh/').map((n, i) => param(other, n, 30 + i / 600, 'aws-cli/2.22.4'))])).toEqual([]);
  });

  it('reads through a VPC interface endpoint count', () => {
    const viaVpce = names(12).map((n, i) =>
      ev(callAs(alice, 'ssm.amazonaws.com', 'GetParameter', at(30 + i / 600), '10.0.17.42', { name: n, withDecryption: true }, { vpcEndpointId: 'vpce-0a1b2c3d4e5f60718' }), undefined),
    );
    expect(runNative(id, [...learningDay(), ...viaVpce])).toHaveLength(1);
  });

  it('a slow harvest: 25 new secrets within an hour (one every 70 s) alerts; 24 do not', () => {
    const slow = names(30, '/prod/slow/').map((n, i) => param(alice, n, 30 + (i * 70) / 3600, 'aws-cli/2.22.4'));
    const alerts = runNative(id, [...learningDay(), ...slow]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('within 60 minutes');
    expect(runNative(id, [...learningDay(), ...names(24, '/prod/slow/').map((n, i) => param(alice, n, 30 + (i * 150) / 3600, 'aws-cli/2.22.4'))])).toEqual([]);
  });

  it('a recursive GetParametersByPath counts as half a burst; its pages as one', () => {
    const byPath = (path: string, hours: number, recursive: boolean): SeamEvent =>
      ev(callAs(alice, 'ssm.amazonaws.com', 'GetParametersByPath', at(hours), undefined, { path, recursive, withDecryption: true }), undefined);
    expect(runNative(id, [...learningDay(), byPath('/prod/a', 30, true), byPath('/prod/b', 30.01, true)])).toHaveLength(1);
    expect(runNative(id, [...learningDay(), ...Array.from({ length: 30 }, (_, i) => byPath('/prod/a', 30 + i / 3600, true))])).toEqual([]);
    expect(runNative(id, [...learningDay(), byPath('/prod/a', 30, false), byPath('/prod/b', 30.01, false)])).toEqual([]);
  });

  it('one secret or parameter under its name, ARN, partial ARN, version or label is one', () => {
    const arn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter`;
    const forms = ['/prod/web/db', '/prod/web/db:3', '/prod/web/db:live', `${arn}/prod/web/db`, `${arn}/prod/web/db:2`];
    const reads = [...forms.map((n, i) => param(alice, n, 30 + i / 3600)), ...names(8, '/prod/web/k-').map((n, i) => param(alice, n, 30.01 + i / 3600))];
    expect(runNative(id, [...learningDay(), ...reads])).toEqual([]);
    expect(parameterName(`${arn}/prod/web/db:2`)).toBe('/prod/web/db');
    expect(parameterName(`${arn}/TopLevel`)).toBe('TopLevel');
    expect(secretName(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-secret`)).toBe('prod/db-secret');
    expect(secretName(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-secret-a1B2c3`)).toBe('prod/db-secret');
  });
});

describe('secrets-first-read-burst: level and memory (review2 M1, M2)', () => {
  it('a workload (a CI role) reading a new module’s secrets under one prefix is low; across four prefixes medium; a person stays medium', () => {
    const oneModule = names(12, '/prod/new-module/').map((n, i) => param(ciDeployer, n, 30 + i / 600));
    const low = runNative(id, [...learningDay(), ...oneModule]);
    expect(low.map((a) => a.rule.level)).toEqual(['low']);
    expect(low[0]!.summary).toContain('1 name prefix)');
    const spread = ['/prod/payments/', '/prod/identity/', '/staging/db/', '/shared/keys/'].flatMap((p, j) => names(3, p).map((n, i) => param(ciDeployer, n, 30 + (3 * j + i) / 600)));
    expect(runNative(id, [...learningDay(), ...spread]).map((a) => a.rule.level)).toEqual(['medium']);
    expect(runNative(id, [...learningDay(), ...oneModule.map((e, i) => param(alice, names(12, '/prod/new-module/')[i]!, 30 + i / 600))]).map((a) => a.rule.level)).toEqual(['medium']);
    expect([prefixOf('ssm:/prod/payments/db'), prefixOf('sm:prod/db'), prefixOf('sm:prod-db-password')]).toEqual(['prod/payments', 'prod', 'prod']);
  });

  it('a monthly job reading its twelve secrets again after 31 and 62 days raises one alert, the first time', () => {
    const D = 24;
    const daily = Array.from({ length: 70 }, (_, d) => secret(alice, 'prod/payments/stripe', 1 + d * D));
    const job = (day: number): SeamEvent[] => names(12, '/prod/monthly/').map((n, i) => param(alice, n, day * D + 10 + i / 600));
    const events = [...learningDay(), ...daily.slice(1), ...job(2), ...job(33), ...job(64)].sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']));
    expect(runNative(id, events)).toHaveLength(1);
  });

  it('a principal silent for six weeks does not start learning again: its harvest on return alerts', () => {
    // Dormant credentials are what a thief likes: the principal's shared learning start lasts the baselines'
    // memory (30 days), its secret reads 400 days; the detection keeps a start of its own as long as its reads.
    const back = 24 * 42;
    const harvest = names(12).map((n, i) => param(alice, n, back + i / 120));
    expect(runNative(id, [...learningDay(), ...harvest]).map((a) => a.rule.level)).toEqual(['medium']);
  });
});
