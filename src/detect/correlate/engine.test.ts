import { describe, expect, it } from 'vitest';
import { Alert } from '../alert.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import type { CompiledRule } from '../sigma/types.ts';
import { audit, cloudtrail, engineFor, finding, rule, run, runtime, sec } from './test-fixtures.ts';

const getSecret = rule('5f1c2a9e-0000-4000-8000-000000000001', 'get_secret_value', 'Secrets Manager GetSecretValue');
const exec = rule('5f1c2a9e-0000-4000-8000-000000000002', 'kubectl_exec', 'Exec into a pod');
const whoami = rule('5f1c2a9e-0000-4000-8000-000000000003', 'get_caller_identity', 'STS GetCallerIdentity');
const s3get = rule('5f1c2a9e-0000-4000-8000-000000000004', 's3_get_object', 'S3 GetObject');
const spawn = rule('5f1c2a9e-0000-4000-8000-000000000005', 'process_spawned', 'Process spawned');
const loginFail = rule('5f1c2a9e-0000-4000-8000-000000000006', 'console_login_failed', 'Console login failed');
const loginOk = rule('5f1c2a9e-0000-4000-8000-000000000007', 'console_login_ok', 'Console login succeeded');
const RULES = [getSecret, exec, whoami, s3get, spawn, loginFail, loginOk];

const secretBurst = (gte: number, timespan = '5m', extra = ''): string => `
title: Many secrets read by one role
id: 0c7e1a64-1111-4c4e-9a7a-000000000001
level: high
tags: [attack.credential-access, attack.t1555.006]
correlation:
  type: event_count
  rules: [get_secret_value]
  group-by: [userIdentity.arn]
  timespan: ${timespan}
  condition:
    gte: ${gte}
${extra}`;

const secretsAt = (secs: number[], session = 'alice', prefix = 's'): [CompiledRule, SeamEvent][] =>
  secs.map((s, i) => [getSecret, cloudtrail(`${prefix}${session}${i}`, s, 'GetSecretValue', { session, requestParameters: { secretId: `prod/db-${i}` } })]);

function validAlerts(alerts: Alert[]): Alert[] {
  for (const a of alerts) Alert.parse(a);
  return alerts;
}

describe('event_count', () => {
  it('fires once when one role reads 10 secrets within 5 minutes', () => {
    const e = engineFor(secretBurst(10), RULES);
    const alerts = validAlerts(run(e, secretsAt([0, 20, 40, 60, 80, 100, 120, 140, 160, 180])));
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.rule).toMatchObject({ type: 'correlation', correlation_type: 'event_count', level: 'high' });
    expect(a.events).toHaveLength(10);
    expect(a.native_ids[0]).toBe('ct-salice0');
    expect(a.group).toEqual({ 'userIdentity.arn': 'arn:aws:sts::111122223333:assumed-role/ci-deployer/alice' });
    expect(a['@timestamp']).toBe('2026-03-02T10:03:00.000Z');
    expect(a.window).toEqual({ start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T10:03:00.000Z' });
    expect(a.principal?.session).toBe('alice');
    expect(a.summary).toMatch(/^Correlation 'Many secrets read by one role': 10 events by group userIdentity\.arn=arn:aws:sts::.*alice within 5m/);
  });

  it('counts two copies of one event once (the same seam.id: a trail read twice, or CloudTrail beside its Security Lake copy)', () => {
    const e = engineFor(secretBurst(5), RULES);
    const five = secretsAt([0, 20, 40, 60, 80]);
    // Three events, each arriving twice: not five.
    const twice = five.slice(0, 3).flatMap((x) => [x, x]);
    expect(run(e, twice)).toEqual([]);
    expect(e.stats().dropped.duplicate).toBe(3);
    // The five events, the first three twice, fire once, with five events.
    const f = engineFor(secretBurst(5), RULES);
    const alerts = run(f, [...twice, ...five.slice(3)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toHaveLength(5);
  });

  it('marks a correlation of dry runs only when every signal was one, and counts them when some were (ADR 0045)', () => {
    const execs = (dry: number[]): [CompiledRule, SeamEvent][] =>
      [0, 20, 40].map((s, i) => {
        const e = audit(`x${i}`, s, 'create', 'rolebindings');
        if (dry.includes(i)) e.seam.dry_run = true;
        return [exec, e];
      });
    const corr = `
title: Bindings written
id: 0c7e1a64-1111-4c4e-9a7a-000000000099
level: medium
correlation:
  type: event_count
  rules: [kubectl_exec]
  group-by: [seam.account]
  timespan: 5m
  condition:
    gte: 3
`;
    const all = validAlerts(run(engineFor(corr, RULES), execs([0, 1, 2])));
    expect(all.map((a) => [a.dry_run, a.summary.startsWith('Dry run')])).toEqual([[true, true]]);
    const some = validAlerts(run(engineFor(corr, RULES), execs([1])));
    expect(some.map((a) => [a.dry_run, a.summary.endsWith('(1 of its 3 contributing signals were dry runs)')])).toEqual([[undefined, true]]);
  });

  it('does not fire when the same reads are spread too far apart', () => {
    const e = engineFor(secretBurst(10), RULES);
    expect(run(e, secretsAt([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]))).toEqual([]);
  });

  it('fires on a burst straddling a clock boundary (sliding, not tumbling)', () => {
    // 5 reads from 10:00:57 to 10:01:02 — a 1-minute tumbling bucket would split them 3 + 2.
    const e = engineFor(secretBurst(5, '1m'), RULES);
    const alerts = run(e, secretsAt([40, 57, 58, 59, 61, 62]));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toHaveLength(5);
  });

  it('keeps groups apart', () => {
    const both = [...secretsAt([0, 10, 20, 30, 40], 'alice'), ...secretsAt([1, 11, 21, 31, 41], 'bob')].sort((a, b) => a[1]['@timestamp'].localeCompare(b[1]['@timestamp']));
    expect(run(engineFor(secretBurst(6), RULES), both)).toEqual([]);
    const alerts = run(engineFor(secretBurst(5), RULES), both);
    expect(alerts.map((a) => a.principal?.session).sort()).toEqual(['alice', 'bob']);
  });

  it('re-fires only on new events, and replay gives the same alert ids', () => {
    const timeline = secretsAt(Array.from({ length: 25 }, (_, i) => i * 5));
    const first = run(engineFor(secretBurst(10), RULES), timeline);
    expect(first).toHaveLength(2); // 25 reads: two disjoint alerts of 10, 5 left over
    expect(new Set([...first[0]!.events, ...first[1]!.events]).size).toBe(20);
    const again = run(engineFor(secretBurst(10), RULES), timeline);
    expect(again.map((a) => a.id)).toEqual(first.map((a) => a.id));
  });

  it('loses nothing to out-of-order arrival within the allowed lateness', () => {
    const inOrder = secretsAt([0, 10, 20, 30, 40, 50]);
    const shuffled = [inOrder[2]!, inOrder[0]!, inOrder[5]!, inOrder[1]!, inOrder[4]!, inOrder[3]!];
    const a = run(engineFor(secretBurst(6, '1m'), RULES, 60_000), inOrder);
    const b = run(engineFor(secretBurst(6, '1m'), RULES, 60_000), shuffled);
    expect(a).toHaveLength(1);
    expect(b.map((x) => x.id)).toEqual(a.map((x) => x.id));
  });

  it('drops and counts events later than the allowed lateness', () => {
    const e = engineFor(secretBurst(3, '10m'), RULES, 5_000);
    const [x, y, z] = secretsAt([0, 100, 101]);
    expect(run(e, [y!, z!, x!], { flush: false })).toEqual([]);
    expect(e.stats().dropped.late).toBe(1);
  });

  it('judges ranges when the window closes; an overshooting burst does not fire', () => {
    const range = secretBurst(3, '1m', '').replace('gte: 3', 'gte: 3\n    lte: 5');
    const e = engineFor(range, RULES);
    // 4 reads in a minute: fits 3..5, but only known once the minute is over.
    expect(run(e, secretsAt([0, 10, 20, 30]), { flush: false })).toEqual([]);
    const later = e.advanceTo(Date.parse('2026-03-02T10:01:01Z'));
    expect(later).toHaveLength(1);
    expect(later[0]!.aggregate).toBe(4);
    // 8 reads in a minute overshoot the range: no alert from any fragment of the burst.
    expect(run(engineFor(range, RULES), secretsAt([0, 5, 10, 15, 20, 25, 30, 35]))).toEqual([]);
  });

  it('supports neq and eq', () => {
    const neq = secretBurst(3, '1m').replace('gte: 3', 'neq: 2');
    expect(run(engineFor(neq, RULES), secretsAt([0, 10]))).toEqual([]);
    expect(run(engineFor(neq, RULES), secretsAt([0, 10, 20]))).toHaveLength(1);
    const eq = secretBurst(3, '1m').replace('gte: 3', 'eq: 2');
    expect(run(engineFor(eq, RULES), secretsAt([0, 10]))).toHaveLength(1);
  });
});

describe('value_count', () => {
  const yaml = `
title: One role reads many distinct secrets
id: 0c7e1a64-1111-4c4e-9a7a-000000000002
correlation:
  type: value_count
  rules: [get_secret_value]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition:
    field: requestParameters.secretId
    gte: 5
`;
  it('fires on 5 distinct secrets', () => {
    const alerts = run(engineFor(yaml, RULES), secretsAt([0, 60, 120, 180, 240]));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.aggregate).toBe(5);
    expect(alerts[0]!.summary).toContain('5 distinct requestParameters.secretId');
  });
  it('does not fire on the same secret read 20 times', () => {
    const same = Array.from({ length: 20 }, (_, i): [CompiledRule, SeamEvent] => [getSecret, cloudtrail(`same${i}`, i * 10, 'GetSecretValue', { requestParameters: { secretId: 'prod/db' } })]);
    expect(run(engineFor(yaml, RULES), same)).toEqual([]);
  });
});

const execThenWhoami = (type: 'temporal' | 'temporal_ordered', timespan = '10m'): string => `
title: Exec into a pod, then the same identity asks AWS who it is
id: 0c7e1a64-1111-4c4e-9a7a-000000000003
level: critical
correlation:
  type: ${type}
  rules: [kubectl_exec, get_caller_identity]
  group-by: [principal_arn]
  timespan: ${timespan}
  aliases:
    principal_arn:
      kubectl_exec: user.extra.arn
      get_caller_identity: userIdentity.arn
`;

const execAt = (s: number, who = 'alice'): [CompiledRule, SeamEvent] => [exec, audit(`x${s}${who}`, s, 'create', 'pods', { username: who, subresource: 'exec' })];
const whoamiAt = (s: number, who = 'alice'): [CompiledRule, SeamEvent] => [whoami, cloudtrail(`w${s}${who}`, s, 'GetCallerIdentity', { session: who })];

describe('temporal with aliases across two planes', () => {
  it('joins an audit exec and a CloudTrail call by the same IAM identity, in either order', () => {
    const a = run(engineFor(execThenWhoami('temporal'), RULES), [execAt(0), whoamiAt(120)]);
    expect(a).toHaveLength(1);
    expect(a[0]!.group).toEqual({ principal_arn: 'arn:aws:sts::111122223333:assumed-role/ci-deployer/alice' });
    expect(a[0]!.native_ids).toEqual(['audit-x0alice', 'ct-w120alice']);
    expect(run(engineFor(execThenWhoami('temporal'), RULES), [whoamiAt(0), execAt(120)])).toHaveLength(1);
  });
  it('does not join different identities or events too far apart', () => {
    expect(run(engineFor(execThenWhoami('temporal'), RULES), [execAt(0, 'alice'), whoamiAt(60, 'bob')])).toEqual([]);
    expect(run(engineFor(execThenWhoami('temporal'), RULES), [execAt(0), whoamiAt(601)])).toEqual([]);
  });
});

describe('temporal_ordered', () => {
  it('fires for exec then GetCallerIdentity', () => {
    const a = run(engineFor(execThenWhoami('temporal_ordered'), RULES), [execAt(0), whoamiAt(30)]);
    expect(a).toHaveLength(1);
    expect(a[0]!.rule.correlation_type).toBe('temporal_ordered');
    expect(a[0]!.principal?.session).toBe('alice');
  });
  it('does not fire for the right events in the wrong order', () => {
    expect(run(engineFor(execThenWhoami('temporal_ordered'), RULES), [whoamiAt(0), execAt(30)])).toEqual([]);
  });
  it('does not fire when too far apart', () => {
    expect(run(engineFor(execThenWhoami('temporal_ordered', '1m'), RULES), [execAt(0), whoamiAt(61)])).toEqual([]);
  });
  it('orders by event time, not arrival, within the lateness', () => {
    // The CloudTrail record is delivered before the (earlier) audit event.
    const e = engineFor(execThenWhoami('temporal_ordered'), RULES, 120_000);
    expect(run(e, [whoamiAt(30), execAt(0)])).toHaveLength(1);
    // ...but a late exec that happened after the call is still the wrong order.
    expect(run(engineFor(execThenWhoami('temporal_ordered'), RULES, 120_000), [execAt(30), whoamiAt(0)])).toHaveLength(0);
  });
  it('counts events with the same event time as in order, whichever arrives first', () => {
    // CloudTrail times are to the second; a script makes both calls in one.
    expect(run(engineFor(execThenWhoami('temporal_ordered'), RULES), [execAt(5), whoamiAt(5)])).toHaveLength(1);
    expect(run(engineFor(execThenWhoami('temporal_ordered'), RULES), [whoamiAt(5), execAt(5)])).toHaveLength(1);
    // Within the lateness too: the tie arrives after a later event moved time on.
    const late = engineFor(execThenWhoami('temporal_ordered'), RULES, 60_000);
    expect(run(late, [whoamiAt(5), execAt(20, 'bob'), execAt(5)])).toHaveLength(1);
    // A strictly earlier call is still the wrong order.
    expect(run(engineFor(execThenWhoami('temporal_ordered'), RULES), [whoamiAt(4), execAt(5)])).toEqual([]);
  });
  it('finds a three-step chain in one second in every arrival order, and the same chain whatever the order', () => {
    const yaml = `
title: Secret read, then exec, then whoami
id: 0c7e1a64-1111-4c4e-9a7a-000000000010
level: high
correlation:
  type: temporal_ordered
  rules: [get_secret_value, kubectl_exec, get_caller_identity]
  group-by: [principal_arn]
  timespan: 10m
  aliases:
    principal_arn:
      get_secret_value: userIdentity.arn
      kubectl_exec: user.extra.arn
      get_caller_identity: userIdentity.arn
`;
    const secret: [CompiledRule, SeamEvent] = [getSecret, cloudtrail('sec7', 7, 'GetSecretValue')];
    const three = [secret, execAt(7), whoamiAt(7)];
    const perms = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const p of perms) {
      const a = run(engineFor(yaml, RULES), p.map((i) => three[i]!));
      expect(a, `order ${p.join(',')}`).toHaveLength(1);
      expect([...a[0]!.native_ids].sort()).toEqual(['audit-x7alice', 'ct-sec7', 'ct-w7alice']);
    }
    // A tie with a strictly earlier last step is not a chain: secret and exec at 7, whoami at 6.
    expect(run(engineFor(yaml, RULES), [whoamiAt(6), execAt(7), secret])).toEqual([]);
    // Two steps tied and one later: any order of the tie.
    expect(run(engineFor(yaml, RULES), [execAt(7), secret, whoamiAt(8)])).toHaveLength(1);
  });
  it('does not hold more than the window: ties leave with their time', () => {
    const e = engineFor(execThenWhoami('temporal_ordered', '1m'), RULES);
    run(e, [whoamiAt(0), whoamiAt(0, 'bob'), execAt(0, 'carol')], { flush: false });
    e.advanceTo(sec(61));
    expect(e.stats().bufferedSignals).toBe(0);
    expect(e.stats().activeGroups).toBe(0);
  });
  it('pairs each exec with a later call once', () => {
    const a = run(engineFor(execThenWhoami('temporal_ordered'), RULES), [execAt(0), execAt(10), whoamiAt(20), whoamiAt(30)]);
    expect(a).toHaveLength(2);
    expect(new Set(a.flatMap((x) => x.events)).size).toBe(4);
  });
});

describe('value_sum and value_avg', () => {
  const s3 = (id: string, s: number, bytes: number, session = 'alice'): [CompiledRule, SeamEvent] => [
    s3get,
    cloudtrail(id, s, 'GetObject', { session, requestParameters: { bucketName: 'prod-exports', key: `dump-${id}.gz` }, additionalEventData: { bytesTransferredOut: bytes } }),
  ];
  const sumYaml = `
title: Large S3 download by one session
id: 0c7e1a64-1111-4c4e-9a7a-000000000004
correlation:
  type: value_sum
  rules: [s3_get_object]
  group-by: [userIdentity.arn]
  timespan: 1h
  condition:
    field: additionalEventData.bytesTransferredOut
    gt: 1000000000
`;
  it('value_sum fires as soon as the sum crosses the bound', () => {
    const e = engineFor(sumYaml, RULES);
    const alerts = run(e, [s3('a', 0, 400e6), s3('b', 600, 400e6), s3('c', 1200, 300e6), s3('d', 1300, 5e6)], { flush: false });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.aggregate).toBe(1.1e9);
    expect(alerts[0]!.events).toEqual(['ct-a', 'ct-b', 'ct-c']);
  });
  it('value_sum does not fire when the bytes are spread over more than the timespan', () => {
    expect(run(engineFor(sumYaml, RULES), [s3('a', 0, 400e6), s3('b', 2000, 400e6), s3('c', 4000, 300e6)])).toEqual([]);
  });
  it('value_avg is judged when the window closes', () => {
    const avgYaml = sumYaml.replace('value_sum', 'value_avg').replace('gt: 1000000000', 'gt: 100000000');
    const e = engineFor(avgYaml, RULES);
    // one huge object then small ones: the average over the hour is what counts, not the first value
    expect(run(e, [s3('a', 0, 900e6), s3('b', 60, 1e6), s3('c', 120, 1e6)], { flush: false })).toEqual([]);
    const closed = e.advanceTo(Date.parse('2026-03-02T11:00:01Z'));
    expect(closed).toHaveLength(1);
    expect(closed[0]!.aggregate).toBeCloseTo(300.67e6, -4);
    const low = engineFor(avgYaml, RULES);
    expect(run(low, [s3('a', 0, 200e6), s3('b', 60, 1e6), s3('c', 120, 1e6), s3('d', 180, 1e6)])).toEqual([]);
  });
  it('skips and counts events without a numeric value', () => {
    const e = engineFor(sumYaml, RULES);
    run(e, [[s3get, cloudtrail('n', 0, 'GetObject', { additionalEventData: { bytesTransferredOut: 'n/a' } })]]);
    expect(e.stats().dropped.missing_value).toBe(1);
  });
});

describe('value_percentile', () => {
  const yaml = `
title: Rare process in a pod
id: 0c7e1a64-1111-4c4e-9a7a-000000000005
correlation:
  type: value_percentile
  rules: [process_spawned]
  group-by: [output_fields.k8s.pod.name]
  timespan: 1h
  condition:
    field: output_fields.proc.name
    lte: 1
`;
  it('reports a process name seen in at most 1% of a pod\'s process events', () => {
    const tl: [CompiledRule, SeamEvent][] = [];
    for (let i = 0; i < 150; i++) tl.push([spawn, runtime(`n${i}`, i * 10, 'web-7d9f', i % 2 === 0 ? 'nginx' : 'sh')]);
    tl.splice(40, 0, [spawn, runtime('nc', 395, 'web-7d9f', 'nc')]);
    const alerts = run(engineFor(yaml, RULES), tl);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toEqual(['rt-nc']);
    expect(alerts[0]!.native_ids).toEqual(['rt-nc']);
    expect(alerts[0]!.summary).toContain('output_fields.proc.name=nc is 0.');
  });
  it('does not report when no value is that rare', () => {
    const tl: [CompiledRule, SeamEvent][] = [];
    for (let i = 0; i < 50; i++) tl.push([spawn, runtime(`m${i}`, i * 10, 'web-7d9f', i === 7 ? 'nc' : 'nginx')]);
    expect(run(engineFor(yaml, RULES), tl)).toEqual([]); // nc is 2% of 50
  });
});

describe('correlations of correlations', () => {
  const yaml = `
title: Brute force then success
id: 0c7e1a64-1111-4c4e-9a7a-000000000006
level: high
correlation:
  type: temporal_ordered
  rules: [many_failed_logins, console_login_ok]
  group-by: [userIdentity.arn]
  timespan: 10m
---
title: Many failed console logins
id: 0c7e1a64-1111-4c4e-9a7a-000000000007
name: many_failed_logins
correlation:
  type: event_count
  rules: [console_login_failed]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition:
    gte: 5
`;
  const fail = (s: number): [CompiledRule, SeamEvent] => [loginFail, cloudtrail(`f${s}`, s, 'ConsoleLogin', { eventSource: 'signin.amazonaws.com' })];
  const ok = (s: number): [CompiledRule, SeamEvent] => [loginOk, cloudtrail(`ok${s}`, s, 'ConsoleLogin', { eventSource: 'signin.amazonaws.com' })];

  it('fires the outer correlation with every base event, and withholds the inner one (generate unset)', () => {
    const alerts = run(engineFor(yaml, RULES), [fail(0), fail(10), fail(20), fail(30), fail(40), ok(100)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.id).toBe('0c7e1a64-1111-4c4e-9a7a-000000000006');
    expect(alerts[0]!.events).toEqual(['ct-f0', 'ct-f10', 'ct-f20', 'ct-f30', 'ct-f40', 'ct-ok100']);
    expect(alerts[0]!.window).toEqual({ start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T10:01:40.000Z' });
  });
  it('does not fire on success before the failures, nor on too few failures', () => {
    expect(run(engineFor(yaml, RULES), [ok(0), fail(10), fail(20), fail(30), fail(40), fail(50)])).toEqual([]);
    expect(run(engineFor(yaml, RULES), [fail(0), fail(10), fail(20), fail(30), ok(100)])).toEqual([]);
  });
  it('emits the inner correlation too when the outer one sets generate: true', () => {
    const alerts = run(engineFor(yaml.replace('level: high', 'level: high\ngenerate: true'), RULES), [fail(0), fail(10), fail(20), fail(30), fail(40), ok(100)]);
    expect(alerts.map((a) => a.rule.title)).toEqual(['Many failed console logins', 'Brute force then success']);
  });
});

describe('bounded state', () => {
  it('keeps state bounded by the window over 100k events in 1,000 groups', () => {
    const e = engineFor(secretBurst(50, '5m'), RULES, 10_000);
    const rulesOf = getSecret;
    let maxGroups = 0;
    let maxBuffered = 0;
    let alerts = 0;
    const started = performance.now();
    // 100,000 reads over ~28 hours: 1,000 sessions, each active in bursts.
    for (let i = 0; i < 100_000; i++) {
      const session = `s${(i * 7919) % 1000}`;
      const at = i; // one event per second of event time
      alerts += e.onMatch({ rule: rulesOf, event: cloudtrail(`b${i}`, at, 'GetSecretValue', { session }) }).length;
      if (i % 1000 === 0) {
        const st = e.stats();
        maxGroups = Math.max(maxGroups, st.activeGroups);
        maxBuffered = Math.max(maxBuffered, st.bufferedSignals);
      }
    }
    const ms = performance.now() - started;
    const st = e.stats();
    // A window of 5 minutes + 10 s lateness holds at most ~310 events at 1 event/s, whatever the history.
    expect(maxBuffered).toBeLessThanOrEqual(311);
    expect(maxGroups).toBeLessThanOrEqual(311);
    expect(st.evictedGroups).toBeGreaterThan(90_000);
    expect(alerts).toBe(0);
    e.flush();
    expect(e.stats().activeGroups).toBe(0);
    console.log(`correlate: 100k events in ${ms.toFixed(0)} ms (${Math.round(100_000 / (ms / 1000))} events/s incl. event construction), max groups ${maxGroups}, max buffered ${maxBuffered}`);
  });
});

describe('GuardDuty finding versions (ADR 0046): a finding is one signal, whatever its versions', () => {
  const gd = rule('5f1c2a9e-0000-4000-8000-0000000000f1', 'gd_eks_finding', 'GuardDuty EKS finding');
  const threeFindings = (condition = 'gte: 3', timespan = '1h'): string => `
title: Several GuardDuty findings in one account
id: 0c7e1a64-1111-4c4e-9a7a-0000000000f1
level: high
correlation:
  type: event_count
  rules: [gd_eks_finding]
  group-by: [accountId]
  timespan: ${timespan}
  condition:
    ${condition}
`;
  const at = (id: string, min: number, count = 1): [CompiledRule, SeamEvent] => [gd, finding(id, min * 60, { count, createdSec: 0 })];

  it('one finding updated three times in an hour is not three findings; three findings are', () => {
    const e = engineFor(threeFindings(), [gd]);
    expect(run(e, [at('f-a', 0, 1), at('f-a', 15, 4), at('f-a', 30, 9)])).toEqual([]);
    expect(e.stats()).toMatchObject({ replacedFindingVersions: 2, bufferedSignals: 0 });
    const f = engineFor(threeFindings(), [gd]);
    const alerts = validAlerts(run(f, [at('f-a', 0), at('f-b', 10), at('f-c', 20)]));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.native_ids).toEqual(['f-a', 'f-b', 'f-c']);
    expect(alerts[0]!.aggregate).toBe(3);
  });

  it('counts a finding at its newest version: the window holds the later sighting, with its seam.id', () => {
    const e = engineFor(threeFindings(), [gd]);
    // f-a first at 0, again at 55: with f-b at 50 and f-c at 70, the three lie within the hour 10..70.
    const alerts = run(e, [at('f-a', 0), at('f-b', 50), at('f-a', 55, 2), at('f-c', 70)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toEqual(['f-b:2026-03-02T10:50:00.000Z', 'f-a:2026-03-02T10:55:00.000Z', 'f-c:2026-03-02T11:10:00.000Z']);
    expect(alerts[0]!.window).toEqual({ start: '2026-03-02T10:50:00.000Z', end: '2026-03-02T11:10:00.000Z' });
  });

  it('a fired finding\'s later versions are not new signals while it keeps updating; after an hour\'s quiet it counts again', () => {
    const e = engineFor(threeFindings(), [gd]);
    // Three findings fire once; each then updates every 15 minutes for three hours, and a fourth appears: no new alert.
    const updates: [CompiledRule, SeamEvent][] = [];
    for (let m = 15; m <= 180; m += 15) updates.push(at('f-a', m, m), at('f-b', m + 1, m), at('f-c', m + 2, m));
    const alerts = run(e, [at('f-a', 0), at('f-b', 1), at('f-c', 2), ...updates, at('f-d', 185)], { flush: false });
    expect(alerts).toHaveLength(1);
    expect(e.stats().dropped.finding_version).toBe(36);
    // f-a, f-b and f-c go quiet for more than the hour, then update again with f-e: four findings, a new alert.
    const later = run(e, [at('f-a', 250, 200), at('f-b', 251, 200), at('f-e', 252)]);
    expect(later).toHaveLength(1);
    expect(later[0]!.native_ids).toEqual(['f-a', 'f-b', 'f-e']);
  });

  it('judged windows (a range) count a finding once too', () => {
    const e = engineFor(threeFindings('gte: 2\n    lte: 5'), [gd]);
    expect(run(e, [at('f-a', 0), at('f-a', 10, 2), at('f-a', 20, 3)])).toEqual([]);
    const f = engineFor(threeFindings('gte: 2\n    lte: 5'), [gd]);
    const alerts = run(f, [at('f-a', 0), at('f-a', 10, 2), at('f-b', 20), at('f-a', 30, 3)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.native_ids).toEqual(['f-b', 'f-a']);
    expect(alerts[0]!.aggregate).toBe(2);
  });

  it('gives the same alerts whatever the arrival order within the lateness', () => {
    const timeline = [at('f-a', 0), at('f-b', 5), at('f-a', 10, 2), at('f-a', 20, 3), at('f-c', 25), at('f-b', 30, 2)];
    const forward = run(engineFor(threeFindings(), [gd], 3600_000), timeline);
    const backward = run(engineFor(threeFindings(), [gd], 3600_000), [...timeline].reverse());
    expect(forward).toHaveLength(1);
    expect(backward.map((a) => a.native_ids.slice().sort())).toEqual(forward.map((a) => a.native_ids.slice().sort()));
    // Only versions: none of the arrival orders fires.
    const versions = [at('f-a', 0), at('f-a', 10, 2), at('f-a', 20, 3), at('f-a', 30, 4)];
    expect(run(engineFor(threeFindings(), [gd], 3600_000), [...versions].reverse())).toEqual([]);
    expect(run(engineFor(threeFindings(), [gd], 3600_000), [versions[2]!, versions[0]!, versions[3]!, versions[1]!])).toEqual([]);
  });

  it('temporal_ordered: a finding then a CloudTrail call chains through the finding\'s newest version', () => {
    const e = engineFor(
      `
title: GuardDuty finding then caller identity checked
id: 0c7e1a64-1111-4c4e-9a7a-0000000000f2
level: high
correlation:
  type: temporal_ordered
  rules: [gd_eks_finding, get_caller_identity]
  timespan: 1h
`,
      [gd, whoami],
    );
    // f-a at 0 and again at 30; the call at 80 is within the hour of the newer version only.
    const alerts = run(e, [at('f-a', 0), at('f-a', 30, 2), [whoami, cloudtrail('w1', 80 * 60, 'GetCallerIdentity')]]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toEqual(['f-a:2026-03-02T10:30:00.000Z', 'ct-w1']);
  });

  it('forgets a finding a timespan after its newest version (state stays bounded)', () => {
    const e = engineFor(threeFindings('gte: 3', '10m'), [gd]);
    for (let i = 0; i < 2000; i++) e.onMatch({ rule: gd, event: finding(`f-${i % 50}`, i * 60, { count: i }) });
    // 50 findings updated round-robin every 50 minutes, 10-minute windows: each version is a fresh signal, marks last a window.
    expect(e.stats().replacedFindingVersions + e.stats().dropped.finding_version).toBe(0);
    const internal = (e as unknown as { states: { findings: Map<string, unknown> }[] }).states[0]!.findings;
    expect(internal.size).toBeLessThanOrEqual(11);
  });
});

// Quiet input (the correlate role's wall clock, ADR 0009 amendment 2026-12-07): finals of judged windows come out, and
// nothing older becomes late for the correlations that fire as soon as satisfied.
describe('quietTo', () => {
  const wallClock = Date.parse('2026-12-07T01:30:00Z');
  it('leaves event time alone: an older signal after a quiet spell completes a chain and a count as without it', () => {
    const ordered = engineFor(execThenWhoami('temporal_ordered'), RULES, 60_000);
    expect(run(ordered, [execAt(0)], { flush: false })).toEqual([]);
    expect(ordered.quietTo(wallClock)).toEqual([]);
    const chain = run(ordered, [whoamiAt(30)], { flush: false });
    expect(chain.map((a) => a.native_ids)).toEqual([['audit-x0alice', 'ct-w30alice']]);
    expect(ordered.stats().dropped.late).toBe(0);
    expect(ordered.stats().watermarkMs).toBe(sec(30) - 60_000);

    const burst = engineFor(secretBurst(4), RULES, 60_000);
    const reads = secretsAt([0, 20, 40, 60]);
    expect(run(burst, reads.slice(0, 2), { flush: false })).toEqual([]);
    expect(burst.quietTo(wallClock)).toEqual([]);
    expect(burst.stats().bufferedSignals).toBe(2);
    const fired = run(burst, reads.slice(2), { flush: false });
    expect(fired.map((a) => a.events.length)).toEqual([4]);
    expect(burst.stats().dropped.late).toBe(0);
  });
  it('still drops and counts a signal older than the newest event time less the lateness', () => {
    const e = engineFor(execThenWhoami('temporal_ordered'), RULES, 60_000);
    run(e, [execAt(0), whoamiAt(600, 'bob')], { flush: false });
    e.quietTo(wallClock);
    expect(run(e, [whoamiAt(30)], { flush: false })).toEqual([]);
    expect(e.stats().dropped.late).toBe(1);
  });
  it('judges closed windows of judged correlations, whose older signals are then late for them', () => {
    const range = secretBurst(3, '1m', '').replace('gte: 3', 'gte: 3\n    lte: 5');
    const e = engineFor(range, RULES, 60_000);
    expect(run(e, secretsAt([0, 10, 20, 30]), { flush: false })).toEqual([]);
    const finals = e.quietTo(wallClock);
    expect(finals.map((a) => a.aggregate)).toEqual([4]);
    expect(e.stats().closedMs).toBe(wallClock - 60_000);
    // The same final again on a later quiet advance: no.
    expect(e.quietTo(wallClock + 1_000)).toEqual([]);
    // A read inside the judged minute, handed on after its final: late for this correlation, counted.
    expect(run(e, secretsAt([15], 'alice', 'late'), { flush: false })).toEqual([]);
    expect(e.stats().dropped.late).toBe(1);
  });
});
