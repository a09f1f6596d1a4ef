import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { normalizeRecord } from '../core/normalize/normalize.ts';
import { Alert, alertFromMatch, alertId, buildAlert, nativeIdOf } from './alert.ts';
import { audit, cloudtrail, rule, runtime } from './correlate/test-fixtures.ts';

describe('alertFromMatch', () => {
  it('builds a valid single-rule alert with a readable summary', () => {
    const r = { ...rule('4c3e9b1a-0000-4000-8000-00000000e001', 'kubectl_exec', 'Exec into a kube-system pod'), level: 'high', tags: ['attack.t1609'] };
    const a = alertFromMatch({ rule: r, event: audit('e1', 0, 'create', 'pods', { subresource: 'exec' }) });
    expect(Alert.parse(a)).toEqual(a);
    expect(a).toMatchObject({
      '@timestamp': '2026-03-02T10:00:00.000Z',
      rule: { id: r.id, title: r.title, level: 'high', tags: ['attack.t1609'], type: 'sigma' },
      events: ['audit-e1-ResponseComplete'],
      native_ids: ['audit-e1'],
      account: '111122223333',
      cluster: 'prod-eks',
    });
    expect(a.summary).toBe(
      "Rule 'Exec into a kube-system pod' matched: alice (arn:aws:sts::111122223333:assumed-role/ci-deployer/alice) create pods/exec kube-system/coredns-5d78c9869d-abcde",
    );
    expect(a.window).toBeUndefined();
  });

  it('re-creates the same id on redelivery, and differs per rule', () => {
    const ev = cloudtrail('x', 0, 'GetCallerIdentity');
    const r1 = rule('r1');
    expect(alertFromMatch({ rule: r1, event: ev }).id).toBe(alertFromMatch({ rule: r1, event: structuredClone(ev) }).id);
    expect(alertFromMatch({ rule: rule('r2'), event: ev }).id).not.toBe(alertFromMatch({ rule: r1, event: ev }).id);
  });

  it('says where the event came from and whether it was refused or failed, in the alert and its summary', () => {
    const r = rule('r-where', undefined, 'Where');
    const ok = alertFromMatch({ rule: r, event: cloudtrail('ok', 0, 'GetSecretValue', { requestParameters: { secretId: 'prod/db' } }) });
    expect(ok).toMatchObject({ source_ip: '203.0.113.7', user_agent: 'aws-cli/2.15.0', region: 'eu-west-1', outcome: 'success' });
    expect(ok.summary).toBe("Rule 'Where' matched: alice (arn:aws:sts::111122223333:assumed-role/ci-deployer/alice) secretsmanager.amazonaws.com:GetSecretValue from 203.0.113.7");
    expect(Alert.parse(ok)).toEqual(ok);

    const denied = cloudtrail('denied', 0, 'GetSecretValue');
    denied.errorCode = 'AccessDenied';
    denied.seam.outcome = 'failure';
    expect(alertFromMatch({ rule: r, event: denied }).summary).toMatch(/GetSecretValue from 203\.0\.113\.7 \(denied\)$/);
    const dryRun = cloudtrail('dry', 0, 'RunInstances', { eventSource: 'ec2.amazonaws.com' });
    dryRun.errorCode = 'Client.DryRunOperation';
    dryRun.seam.outcome = 'failure';
    expect(alertFromMatch({ rule: r, event: dryRun }).summary).toMatch(/RunInstances from 203\.0\.113\.7 \(failed: Client\.DryRunOperation\)$/);

    // An AWS service's call: no address (`source_ip` absent), the service CloudTrail names instead.
    const service = cloudtrail('svc', 0, 'ModifyImageAttribute', { eventSource: 'ec2.amazonaws.com' });
    service.sourceIPAddress = 'imagebuilder.amazonaws.com';
    delete service.seam.source_ip;
    const svc = alertFromMatch({ rule: r, event: service });
    expect(svc.source_ip).toBeUndefined();
    expect(svc.summary).toMatch(/ec2\.amazonaws\.com:ModifyImageAttribute from imagebuilder\.amazonaws\.com$/);

    const forbidden = audit('forbidden', 0, 'list', 'secrets');
    forbidden.responseStatus = { code: 403 };
    forbidden.seam.outcome = 'failure';
    forbidden.seam.source_ip = '198.51.100.23';
    const f = alertFromMatch({ rule: r, event: forbidden });
    expect(f).toMatchObject({ source_ip: '198.51.100.23', outcome: 'failure' });
    expect(f.summary).toMatch(/list secrets kube-system\/coredns-5d78c9869d-abcde from 198\.51\.100\.23 \(denied\)$/);
    const conflict = audit('conflict', 0, 'create', 'configmaps');
    conflict.responseStatus = { code: 409 };
    conflict.seam.outcome = 'failure';
    expect(alertFromMatch({ rule: r, event: conflict }).summary).toMatch(/create configmaps kube-system\/coredns-5d78c9869d-abcde \(failed: 409\)$/);
  });

  it('names the accounts an image or snapshot was shared with', () => {
    const r = rule('r-share', undefined, 'Share');
    const ami = cloudtrail('ami', 0, 'ModifyImageAttribute', {
      eventSource: 'ec2.amazonaws.com',
      requestParameters: { imageId: 'ami-0f2fd936f37ffa9d9', launchPermission: { add: { items: [{ userId: '222233334444' }, { userId: '555566667777' }] } }, attributeType: 'launchPermission' },
    });
    ami.seam.resource = 'ami-0f2fd936f37ffa9d9';
    expect(alertFromMatch({ rule: r, event: ami }).summary).toMatch(/ec2\.amazonaws\.com:ModifyImageAttribute ami-0f2fd936f37ffa9d9 shared with 222233334444, 555566667777 from 203\.0\.113\.7$/);
    const pub = cloudtrail('pub', 0, 'ModifySnapshotAttribute', { eventSource: 'ec2.amazonaws.com', requestParameters: { snapshotId: 'snap-1', createVolumePermission: { add: { items: [{ group: 'all' }] } } } });
    expect(alertFromMatch({ rule: r, event: pub }).summary).toMatch(/ModifySnapshotAttribute shared with all from /);
    const rds = cloudtrail('rds', 0, 'ModifyDBSnapshotAttribute', { eventSource: 'rds.amazonaws.com', requestParameters: { dBSnapshotIdentifier: 'orders-final', attributeName: 'restore', valuesToAdd: ['444455556666'] } });
    expect(alertFromMatch({ rule: r, event: rds }).summary).toMatch(/ModifyDBSnapshotAttribute shared with 444455556666 from /);
    // Removing a share, or another attribute, adds no one.
    const removed = cloudtrail('rm', 0, 'ModifySnapshotAttribute', { eventSource: 'ec2.amazonaws.com', requestParameters: { snapshotId: 'snap-1', createVolumePermission: { remove: { items: [{ userId: '444455556666' }] } } } });
    expect(alertFromMatch({ rule: r, event: removed }).summary).not.toContain('shared with');
  });

  it('names a runtime event\'s pod and command line (scrubbed, then cut), or the process behind a file event', () => {
    const r = rule('r-rt', undefined, 'Runtime');
    const norm = (rec: Record<string, unknown>): SeamEvent => {
      const n = normalizeRecord(rec, { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', origin: 'test' });
      if (!n.ok) throw new Error(n.error.message);
      return n.value;
    };
    const base = { schema: 'seam.runtime/v1', time: '2024-11-05T14:09:00.650Z', cluster: 'prod-eks-01', namespace: 'payments', pod: 'api-7c9d8f6b5-x2k4q', service_account: 'api' };
    const curl = norm({ ...base, id: 'p1', kind: 'process', process: { pid: 7, exe: '/bin/sh', cmdline: 'sh -c curl -s http://169.254.170.23/v1/credentials' } });
    expect(alertFromMatch({ rule: r, event: curl }).summary).toBe(
      "Rule 'Runtime' matched: system:serviceaccount:payments:api in pod payments/api-7c9d8f6b5-x2k4q process /bin/sh (sh -c curl -s http://169.254.170.23/v1/credentials)",
    );
    const cat = norm({ ...base, id: 'f1', kind: 'file', process: { pid: 8, exe: '/bin/cat' }, file: { op: 'open', path: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' } });
    expect(alertFromMatch({ rule: r, event: cat }).summary).toMatch(/in pod payments\/api-7c9d8f6b5-x2k4q file \/var\/run\/secrets\/eks\.amazonaws\.com\/serviceaccount\/token by \/bin\/cat$/);
    // A secret in the command line never reaches the summary, even where the line is cut.
    const long = norm({ ...base, id: 'p2', kind: 'process', process: { pid: 9, exe: '/usr/bin/mysql', cmdline: `mysql --password=Hunter2Secret -e "${'x'.repeat(400)}"` } });
    const s = alertFromMatch({ rule: r, event: long }).summary;
    expect(s).not.toContain('Hunter2Secret');
    expect(s).toContain('(mysql --password=[REDACTED]');
    expect(s.length).toBeLessThan(400);
    expect(s.endsWith('…)')).toBe(true);
  });

  it('levels outside Sigma fall back to medium', () => {
    expect(alertFromMatch({ rule: { ...rule('r'), level: 'severe' }, event: cloudtrail('y', 0, 'GetCallerIdentity') }).rule.level).toBe('medium');
  });
});

describe('alertId and buildAlert', () => {
  it('does not depend on the order the events arrived in', () => {
    expect(alertId('c', ['b', 'a', 'c'])).toBe(alertId('c', ['a', 'c', 'b']));
    expect(alertId('c', ['a', 'b'])).not.toBe(alertId('c', ['a', 'b', 'c']));
  });
  it('orders contributions by time and spans the window', () => {
    const a = buildAlert({
      rule: { id: 'c', title: 'C', level: 'low', tags: [], type: 'correlation', correlation_type: 'temporal' },
      contributions: [
        { ids: ['e2'], nativeIds: ['n2'], timeMs: 2000 },
        { ids: ['e1', 'e0'], nativeIds: ['n1'], timeMs: 1000, startMs: 500 },
      ],
      summary: 's',
      windowed: true,
    });
    expect(a.events).toEqual(['e1', 'e0', 'e2']);
    expect(a.window).toEqual({ start: '1970-01-01T00:00:00.500Z', end: '1970-01-01T00:00:02.000Z' });
    expect(a['@timestamp']).toBe('1970-01-01T00:00:02.000Z');
  });
  it('scrubs secrets out of the summary and the group values, whatever built them (a native quoting a decoded command)', () => {
    const build = (summary: string, group?: Record<string, string>) =>
      buildAlert({ rule: { id: 'n', title: 'N', level: 'high', tags: [], type: 'native' }, contributions: [{ ids: ['e1'], nativeIds: ['n1'], timeMs: 1000 }], summary, ...(group ? { group } : {}) });
    const a = build(
      "alice exec'd into payments/api (sh -c mysql --password=Hunter2Secret -h db; PGPASSWORD=pgS3cretVal psql; aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY; app --token=MYSECRET)",
      { cmd: 'curl -H "Authorization: Bearer abcdefghijklmnop" x', user: 'alice' },
    );
    for (const s of ['Hunter2Secret', 'pgS3cretVal', 'wJalrXUtnFEMI', 'MYSECRET']) expect(a.summary).not.toContain(s);
    expect(a.summary).toBe("alice exec'd into payments/api (sh -c mysql --password=[REDACTED] -h db; PGPASSWORD=[REDACTED] psql; aws configure set aws_secret_access_key [REDACTED]; app --token=[REDACTED]"); // scrub takes a value up to whitespace or a quote: the closing parenthesis goes with it
    expect(a.group).toEqual({ cmd: 'curl -H "Authorization: Bearer [REDACTED]" x', user: 'alice' });
    // Summaries without secrets, including the words "secret" and "token", are kept as they are.
    const plain = "Rule 'Secret Listed' matched: alice list secrets payments/secrets; token read from /var/run/secrets/eks.amazonaws.com/serviceaccount/token";
    expect(build(plain, { user: 'alice' })).toMatchObject({ summary: plain, group: { user: 'alice' } });
  });
  it('scrubs the triage text as it does the summary: a native’s triage names the event’s values', () => {
    const build = (triage: string) => buildAlert({ rule: { id: 'n', title: 'N', level: 'high', tags: [], type: 'native' }, triage, contributions: [{ ids: ['e1'], nativeIds: ['n1'], timeMs: 1000 }], summary: 's' });
    expect(build('role/ci (run-7) called s3:ListBuckets from 203.0.113.7 with curl -H "Authorization: Bearer abcdefghijklmnop" x.').triage).toBe(
      'role/ci (run-7) called s3:ListBuckets from 203.0.113.7 with curl -H "Authorization: Bearer [REDACTED]" x.',
    );
    // A triage text without secrets, including the words "secret" and "token", is kept as it is.
    const plain = 'role/PlatformAdmin (alice@example.com) read 11 secrets it had never read: /prod/payments/key-01. Rotate every secret it read; the token stays valid for an hour.';
    expect(build(plain).triage).toBe(plain);
  });
  it('takes source_ip, user_agent, region and outcome together from the last contribution whose event was at hand', () => {
    const rule = { id: 'n', title: 'N', level: 'high' as const, tags: [], type: 'native' as const };
    const a = buildAlert({
      rule,
      contributions: [
        { ids: ['late'], nativeIds: [], timeMs: 3000, where: { source_ip: '198.51.100.23', region: 'us-west-2', outcome: 'failure' } },
        { ids: ['early'], nativeIds: [], timeMs: 1000, where: { source_ip: '10.0.0.5', user_agent: 'kubectl/v1.31', region: 'eu-west-1', outcome: 'success' } },
      ],
      summary: 's',
    });
    expect(a).toMatchObject({ source_ip: '198.51.100.23', region: 'us-west-2', outcome: 'failure' });
    expect(a.user_agent).toBeUndefined();
    // A remembered event (no record, so no where) after it: the last event held speaks.
    const b = buildAlert({ rule, contributions: [{ ids: ['held'], nativeIds: [], timeMs: 1000, where: { source_ip: '10.0.0.5' } }, { ids: ['remembered'], nativeIds: [], timeMs: 2000 }], summary: 's' });
    expect(b.source_ip).toBe('10.0.0.5');
    expect(buildAlert({ rule, contributions: [{ ids: ['x'], nativeIds: [], timeMs: 1 }], summary: 's' })).not.toHaveProperty('source_ip');
  });
});

describe('nativeIdOf', () => {
  const seam = (source: SeamEvent['seam']['source']): SeamEvent['seam'] => ({ id: 'x', source, ingest: { collector: 'file', received_at: '', truncated: false, redacted: [] } });
  it('reads the id each source system gives its records', () => {
    expect(nativeIdOf(cloudtrail('a', 0, 'GetCallerIdentity'))).toBe('ct-a');
    expect(nativeIdOf(audit('b', 0, 'get', 'pods'))).toBe('audit-b');
    expect(nativeIdOf(runtime('c', 0, 'web', 'sh'))).toBe('rt-c');
    expect(nativeIdOf({ '@timestamp': '', Id: 'gd-api', seam: seam('guardduty') })).toBe('gd-api');
    expect(nativeIdOf({ '@timestamp': '', id: 'gd-json', seam: seam('guardduty') })).toBe('gd-json');
    expect(nativeIdOf({ '@timestamp': '', id: 'eventbridge-envelope-id', 'detail-type': 'GuardDuty Finding', detail: { id: 'gd-eb' }, seam: seam('guardduty') })).toBe('gd-eb');
    expect(nativeIdOf({ '@timestamp': '', seam: seam('cloudtrail') })).toBeUndefined();
  });
});

describe('alertFromMatch: the Sigma fields: attribute', () => {
  it("carries the rule's fields of interest with the event's values, as the rule names them; a field the event lacks is left out", async () => {
    const { loadRulesFromText } = await import('./sigma/ruleset.ts');
    const { alertText } = await import('../cli/alert-line.ts');
    const text = [
      'title: Secret read',
      'id: 55555555-5555-4555-8555-555555555555',
      'logsource:',
      '  product: kubernetes',
      '  service: audit',
      'detection:',
      '  sel:',
      '    objectRef.resource: secrets',
      '  condition: sel',
      'fields:',
      '  - objectRef.name',
      '  - sourceIPs',
      '  - user.groups',
      '  - responseStatus.code',
      '  - requestObject.spec.nodeName',
      'level: low',
      '',
    ].join('\n');
    const { ruleset } = loadRulesFromText(text, 'r.yml');
    const r = normalizeRecord({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'aud-f1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/payments/secrets/db-pass',
      verb: 'get',
      user: { username: 'mallory', groups: ['system:authenticated', 'devs'] },
      sourceIPs: ['203.0.113.5'],
      objectRef: { resource: 'secrets', namespace: 'payments', name: 'db-pass', apiVersion: 'v1' },
      responseStatus: { code: 200 },
      requestReceivedTimestamp: '2026-12-01T10:00:00Z',
      stageTimestamp: '2026-12-01T10:00:00Z',
    }, { collector: 't', receivedAt: new Date(0).toISOString(), origin: 't' });
    if (!r.ok) throw new Error(r.error.message);
    const [m] = ruleset.match(r.value as SeamEvent);
    const a = alertFromMatch(m!);
    expect(a.fields).toEqual({ 'objectRef.name': 'db-pass', sourceIPs: '203.0.113.5', 'user.groups': ['system:authenticated', 'devs'], 'responseStatus.code': '200' });
    expect(Alert.parse(a)).toEqual(a);
    // The id under the ALERT line (what `seam hunt --alert` takes), then the fields.
    expect(alertText(a)).toMatch(new RegExp(`^ALERT \\[low\\] 2026-12-01T10:00:00.000Z Secret read[^\\n]*\\n  alert id: ${a.id}\\n  fields: `));
expect(alertText(a)).toContain('\n  fields: objectRef.name=db-pass sourceIPs=203.0.113.5 user.groups=system:authenticated,devs responseStatus.code=200\n');
    // A rule without fields: no key at all.
    const plain = loadRulesFromText(text.replace(/fields:[\s\S]*?level/, 'level'), 'r.yml').ruleset;
    expect(alertFromMatch(plain.match(r.value as SeamEvent)[0]!)).not.toHaveProperty('fields');
  });
});

describe('correlation alerts: the Sigma fields: attribute', () => {
  it("carries the correlation's fields with the distinct values of the events it rests on, in event-time order, capped and scrubbed as a rule's", async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { buildReplayHandler, runReplay } = await import('../pipeline/replay.ts');
    const dir = await mkdtemp(join(tmpdir(), 'seam-corr-fields-'));
    const rules = [
      'title: Secret Read',
      'id: 66666666-6666-4666-8666-000000000001',
      'name: t_fields_secret_get',
      'status: experimental',
      'description: A Secret was read.',
      'logsource:',
      '  product: kubernetes',
      '  service: audit',
      'detection:',
      '  selection:',
      '    objectRef.resource: secrets',
      '    verb: get',
      '  condition: selection',
      'level: informational',
      '---',
      'title: Secret Sweep',
      'id: 66666666-6666-4666-8666-000000000002',
      'status: experimental',
      'description: One user read 25 distinct secrets in 10 minutes.',
      'correlation:',
      '  type: value_count',
      '  rules:',
      '    - t_fields_secret_get',
      '  group-by:',
      '    - user.username',
      '  timespan: 10m',
      '  condition:',
      '    field: objectRef.name',
      '    gte: 25',
      'fields:',
      '  - objectRef.name',
      '  - userAgent',
      '  - requestURI',
      '  - requestObject.spec',
      'level: high',
      '',
    ].join('\n');
    await writeFile(join(dir, 'rules.yml'), rules);
    // mallory reads s01..s25, 10 s apart; one read from a long user agent, one with a password in its URI.
    const lines = Array.from({ length: 25 }, (_, i) => {
      const n = String(i + 1).padStart(2, '0');
      const t = new Date(Date.parse('2026-12-01T10:00:00Z') + i * 10_000).toISOString();
      return JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: `aud-cf-${n}`,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/payments/secrets/s${n}${i === 3 ? '?password=hunter2' : ''}`,
        verb: 'get',
        user: { username: 'mallory', groups: ['system:authenticated'] },
        sourceIPs: ['203.0.113.5'],
        userAgent: i === 7 ? 'x'.repeat(2000) : 'kubectl/v1.31.2',
        objectRef: { resource: 'secrets', namespace: 'payments', name: `s${n}`, apiVersion: 'v1' },
        responseStatus: { code: 200 },
        requestReceivedTimestamp: t,
        stageTimestamp: t,
      });
    });
    await writeFile(join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const alerts: Alert[] = [];
    await runReplay<Alert>({ paths: [join(dir, 'events.jsonl')], dlqPath: join(dir, 'dlq.jsonl'), maxRecordBytes: 1 << 20, handler: await buildReplayHandler({ rules: [dir] }), onAlert: (a) => alerts.push(a) });
    const sweep = alerts.filter((a) => a.rule.type === 'correlation');
    expect(sweep).toHaveLength(1);
    const f = sweep[0]!.fields!;
    // 25 distinct names: the first 20, then how many more.
    expect(f['objectRef.name']).toEqual([...Array.from({ length: 20 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`), '… 5 more']);
    // Two distinct agents, in event-time order, the long one cut at 1024 characters.
    expect(f.userAgent).toEqual(['kubectl/v1.31.2', `${'x'.repeat(1024)}…`]);
    // Scrubbed as a rule's fields are: the password never reaches the alert.
    expect(f.requestURI).toContain('/api/v1/namespaces/payments/secrets/s04?password=[REDACTED]');
    expect(JSON.stringify(sweep[0])).not.toContain('hunter2');
    // A field no event has is left out.
    expect(f).not.toHaveProperty(['requestObject.spec']);
    expect(Alert.parse(sweep[0])).toEqual(sweep[0]);
  });
});
