import { describe, expect, it } from 'vitest';
import {
  alpha0490,
  cloudgoatSumoComplete,
  hhieonScenarios,
  invictusStratus,
  moussaFaragRollback,
  raajheshkannaaLake,
  streamalertCloudTrail,
  sumoPaste,
  trailAlerts,
  trailDiscover,
  unzip,
  type Obj,
  type Repo,
} from './proxy-sets.ts';

/** A repository of one folder of files, in memory. */
function repoOf(files: Record<string, string>): Repo {
  return {
    label: 'test',
    list: (d) => Object.keys(files).filter((p) => p.startsWith(d + '/')),
    read: (p) => files[p]!,
    readBytes: (p) => Buffer.from(files[p]!),
  };
}

const call = (time: string, name: string, ua: string, requestParameters: Obj = {}): Obj => ({
  eventTime: time,
  eventSource: 'ec2.amazonaws.com',
  eventName: name,
  userAgent: ua,
  requestParameters,
});
const uuid = (n: number): string => `0000000${n}-aaaa-bbbb-cccc-dddddddddddd`;
const stratus = (n: number): string => `stratus-red-team_${uuid(n)}`;
const terraform = (n: number): string => `APN/1.0 HashiCorp/1.0 Terraform/1.1.2 terraform-provider-aws/4.67.0 ${stratus(n)}`;

describe('invictusStratus', () => {
  it('makes a sample per Stratus run: detonations positive, reverts and Terraform set-up negative', () => {
    const records = [
      call('2023-07-10T12:00:00Z', 'CreateSnapshot', terraform(1)),
      call('2023-07-10T12:01:00Z', 'ModifySnapshotAttribute', stratus(1), { createVolumePermission: { add: { items: [{ userId: '1' }] } } }),
      call('2023-07-10T12:02:00Z', 'ModifySnapshotAttribute', stratus(2), { createVolumePermission: { remove: { items: [{ userId: '1' }] } } }),
      call('2023-07-10T12:03:00Z', 'UpdateAssumeRolePolicy', stratus(3), { roleName: 'r' }),
      call('2023-07-10T12:04:00Z', 'UpdateAssumeRolePolicy', stratus(4), { roleName: 'r' }),
      call('2023-07-10T12:05:00Z', 'StartLogging', stratus(5)),
      call('2023-07-10T12:06:00Z', 'DescribeAccountAttributes', stratus(6)),
      call('2023-07-10T12:07:00Z', 'DescribeInstances', 'aws-cli/2.0'),
    ];
    const set = invictusStratus(repoOf({ 'invictus-ir/a.json': JSON.stringify({ Records: records }) }));
    const got = set.samples.map((s) => [s.records[0]!.eventName, s.positive, s.sourceRule]);
    expect(got).toEqual([
      ['ModifySnapshotAttribute', true, 'stratus detonation'],
      ['ModifySnapshotAttribute', false, 'stratus revert'],
      ['UpdateAssumeRolePolicy', true, 'stratus detonation'],
      ['UpdateAssumeRolePolicy', false, 'stratus revert'],
      ['StartLogging', false, 'stratus revert'],
      ['CreateSnapshot', false, 'stratus warm-up/clean-up (Terraform)'],
    ]);
    expect(Object.fromEntries(set.skipped)).toEqual({
      'pre-flight check (DescribeAccountAttributes only)': 1,
      'background record (not Stratus, not Terraform)': 1,
    });
  });
});

describe('sumoPaste', () => {
  it('reads the records of a Sumo Logic result page copied as text', () => {
    const page = [
      '',
      '1',
      '&sumocbchar;',
      '{',
      '',
      '    eventName:"CreateAccessKey",',
      '    userIdentity:',
      '    ▼{',
      '        type:"IAMUser",',
      '        userName:"alice"',
      '    },',
      '    responseElements:null,',
      '    readOnly:false',
      '',
      '}',
      '',
      '      Host',
      '      Sumo Cloud',
    ].join('\n');
    expect(sumoPaste(page)).toEqual([{ eventName: 'CreateAccessKey', userIdentity: { type: 'IAMUser', userName: 'alice' }, responseElements: null, readOnly: false }]);
  });
});

describe('cloudgoatSumoComplete', () => {
  const sumoPage = (fields: string[]): string => ['', '1', '&sumocbchar;', '{', '', ...fields.map((f) => `    ${f},`), '    readOnly:false', '', '}', ''].join('\n');
  const runInstances = JSON.stringify({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', eventTime: '2025-09-18T20:00:00Z' });
  it('takes the copy whose evidence files hold whole records', () => {
    const full = repoOf({
      'iam_privesc_by_attachment/logs/cloudtrail.json': sumoPage(['eventSource:"iam.amazonaws.com"', 'eventName:"CreateAccessKey"']),
      'rce_web_app/logs/cloudtrail_run_instances.json': runInstances,
    });
    expect(cloudgoatSumoComplete(full)).toBe(true);
  });
  it('refuses the cut-down copy: a privesc file the page reader finds no record in, or records without eventSource', () => {
    // As the repository's HEAD has it: a JSON array of a few fields each, no eventSource.
    const cut = JSON.stringify([{ eventTime: '2025-09-18T21:20:29Z', eventName: 'CreateAccessKey', userIdentity: { userName: 'kerrigan' } }], null, 2);
    expect(cloudgoatSumoComplete(repoOf({ 'iam_privesc_by_attachment/logs/cloudtrail.json': cut, 'rce_web_app/logs/cloudtrail_run_instances.json': runInstances }))).toBe(false);
    expect(cloudgoatSumoComplete(repoOf({ 'iam_privesc_by_attachment/logs/cloudtrail.json': sumoPage(['eventName:"CreateAccessKey"']) }))).toBe(false);
    expect(cloudgoatSumoComplete(repoOf({}))).toBe(false);
  });
});

describe('unzip', () => {
  it('reads the stored and deflated members of an archive', async () => {
    const { deflateRawSync } = await import('node:zlib');
    // A zip written by hand: each member's local header and data, then the central directory and its end record.
    const members = [
      { name: 'a.json', method: 8, body: Buffer.from('{"eventName":"ListBuckets"}\n') },
      { name: 'b.txt', method: 0, body: Buffer.from('stored') },
    ];
    const parts: Buffer[] = [];
    const central: Buffer[] = [];
    let offset = 0;
    for (const m of members) {
      const data = m.method === 8 ? deflateRawSync(m.body) : m.body;
      const name = Buffer.from(m.name);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(m.method, 8);
      local.writeUInt32LE(data.length, 18);
      local.writeUInt32LE(m.body.length, 22);
      local.writeUInt16LE(name.length, 26);
      const dir = Buffer.alloc(46);
      dir.writeUInt32LE(0x02014b50, 0);
      dir.writeUInt16LE(m.method, 10);
      dir.writeUInt32LE(data.length, 20);
      dir.writeUInt32LE(m.body.length, 24);
      dir.writeUInt16LE(name.length, 28);
      dir.writeUInt32LE(offset, 42);
      parts.push(local, name, data);
      central.push(dir, name);
      offset += local.length + name.length + data.length;
    }
    const dir = Buffer.concat(central);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(members.length, 10);
    eocd.writeUInt32LE(dir.length, 12);
    eocd.writeUInt32LE(offset, 16);
    const got = unzip(Buffer.concat([...parts, dir, eocd]));
    expect(got.map((m) => [m.name, m.data.toString()])).toEqual([
      ['a.json', '{"eventName":"ListBuckets"}\n'],
      ['b.txt', 'stored'],
    ]);
  });
});

describe('alpha0490', () => {
  it('makes a positive and a negative sample of each rule case, named by the rule file', () => {
    const yaml = [
      '- rule: rules/defense-evasion/cloudtrail-stop-logging.yml',
      '  positive:',
      '    note: CloudTrail logging stopped',
      '    event: { eventSource: cloudtrail.amazonaws.com, eventName: StopLogging }',
      '  negative:',
      '    note: Logging started',
      '    event: { eventSource: cloudtrail.amazonaws.com, eventName: StartLogging }',
      '- rule: rules/x.yml',
      '  positive: { note: no event }',
    ].join('\n');
    const set = alpha0490(repoOf({ 'tests/test_cases.yaml': yaml }));
    expect(set.samples.map((s) => [s.sourceRule, s.name, s.positive, s.records[0]!.eventName])).toEqual([
      ['cloudtrail-stop-logging', 'CloudTrail logging stopped', true, 'StopLogging'],
      ['cloudtrail-stop-logging', 'Logging started', false, 'StartLogging'],
    ]);
    expect(Object.fromEntries(set.skipped)).toEqual({ 'case without a positive event': 1, 'case without a negative event': 1 });
  });
});

describe('raajheshkannaaLake', () => {
  it('labels the benign_ key negative and every other key positive', () => {
    const doc = { cloudtrail_stopped: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'DeleteTrail' }, benign_put_bucket_policy: { eventSource: 's3.amazonaws.com', eventName: 'PutBucketPolicy' } };
    const set = raajheshkannaaLake(repoOf({ 'tests/fixtures/sample_events.json': JSON.stringify(doc) }));
    expect(set.samples.map((s) => [s.sourceRule, s.positive])).toEqual([
      ['cloudtrail_stopped', true],
      ['put_bucket_policy', false],
    ]);
  });
});

describe('hhieonScenarios', () => {
  it('makes one positive sample of each scenario folder\'s records', () => {
    const lines = [JSON.stringify({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin' }), '', JSON.stringify({ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser' })].join('\n');
    const set = hhieonScenarios(repoOf({ 'evidence/scenario-01-root-misuse/cloudtrail_samples.jsonl': lines, 'evidence/README.md': '# Evidence' }));
    expect(set.samples.map((s) => [s.name, s.positive, s.records.map((r) => r.eventName)])).toEqual([['scenario-01-root-misuse', true, ['ConsoleLogin', 'CreateUser']]]);
  });
  it('skips a line that is not JSON and keeps the rest of the scenario', () => {
    const lines = [JSON.stringify({ eventName: 'ConsoleLogin' }), '{"eventName": "CreateUser", "requestParam', '[1]', JSON.stringify({ eventName: 'CreateAccessKey' })].join('\n');
    const set = hhieonScenarios(repoOf({ 'evidence/scenario-01-root-misuse/cloudtrail_samples.jsonl': lines }));
    expect(set.samples.map((s) => s.records.map((r) => r.eventName))).toEqual([['ConsoleLogin', 'CreateAccessKey']]);
    expect(Object.fromEntries(set.skipped)).toEqual({ 'line that is not JSON': 1, 'line that is not a JSON object': 1 });
  });
});

describe('moussaFaragRollback', () => {
  it('makes one positive sample of every record of the session file, in file order', () => {
    const rec = (name: string): string => JSON.stringify({ eventSource: 'iam.amazonaws.com', eventName: name, userIdentity: { type: 'IAMUser', userName: 'raynor' } });
    const text = [rec('GetPolicy'), rec('SetDefaultPolicyVersion'), '', rec('ListPolicyVersions'), ''].join('\n');
    const set = moussaFaragRollback(repoOf({ 'evidence/07-cloudtrail-events.ndjson': text }));
    expect(set.name).toBe('moussa-farag-rollback');
    expect(set.samples.map((s) => [s.sourceRule, s.positive, s.kind, s.records.map((r) => r.eventName)])).toEqual([
      ['iam_privesc_by_rollback', true, 'cloudtrail', ['GetPolicy', 'SetDefaultPolicyVersion', 'ListPolicyVersions']],
    ]);
  });
  it('makes no sample of a file with no record', () => {
    const set = moussaFaragRollback(repoOf({ 'evidence/07-cloudtrail-events.ndjson': '\n[1]\n' }));
    expect(set.samples).toEqual([]);
    expect(Object.fromEntries(set.skipped)).toEqual({ 'line that is not a JSON object': 1 });
  });
});

describe('streamalertCloudTrail', () => {
  it('labels a test by its trigger_rules, takes the CloudTrail record out of a CloudWatch Events envelope and skips other logs', () => {
    const ct = (name: string): Obj => ({ eventSource: 'ec2.amazonaws.com', eventName: name });
    const set = streamalertCloudTrail(
      repoOf({
        'rules/community/cloudtrail/a.json': JSON.stringify([
          { data: { Records: [ct('DeleteVpc')] }, log: 'cloudtrail:events', description: 'alert', trigger_rules: ['critical'] },
          { data: { Records: [ct('DescribeVpcs')] }, log: 'cloudtrail:events', description: 'quiet', trigger_rules: [] },
        ]),
        'rules/community/cloudwatch_events/b.json': JSON.stringify([
          { data: { 'detail-type': '...', detail: ct('CreateNetworkAclEntry') }, log: 'cloudwatch:events', description: 'wrapped', trigger_rules: ['acl'] },
          { data: { foo: 1 }, log: 'osquery:differential', description: 'other', trigger_rules: ['x'] },
        ]),
      }),
    );
    expect(set.samples.map((s) => [s.records[0]!.eventName, s.positive, s.sourceRule])).toEqual([
      ['DeleteVpc', true, 'critical'],
      ['DescribeVpcs', false, 'a'],
      ['CreateNetworkAclEntry', true, 'acl'],
    ]);
    expect(Object.fromEntries(set.skipped)).toEqual({ 'osquery:differential test (not CloudTrail)': 1 });
  });
});

describe('trailDiscover', () => {
  it('keeps the events the catalog marks as used in the wild and names an alerting rule for, as positives', () => {
    const entry = (name: string, usedInWild: boolean, alerting: Obj[]): string => JSON.stringify({ eventName: name, usedInWild, alerting });
    const rec = (name: string): string => JSON.stringify([{ eventSource: 'iam.amazonaws.com', eventName: name, eventTime: '2024-08-18T11:06:36Z' }]);
    const set = trailDiscover(
      repoOf({
        'events/IAM/CreateUser.json': entry('CreateUser', true, [{ type: 'sigma', value: 'x' }]),
        'events/IAM/CreateUser.json.cloudtrail': rec('CreateUser'),
        'events/IAM/ListUsers.json': entry('ListUsers', true, []),
        'events/IAM/ListUsers.json.cloudtrail': rec('ListUsers'),
        'events/IAM/GetUser.json': entry('GetUser', false, [{ type: 'sigma', value: 'y' }]),
        'events/IAM/GetUser.json.cloudtrail': rec('GetUser'),
        'events/IAM/DeleteUser.json': entry('DeleteUser', true, [{ type: 'sigma', value: 'z' }]),
      }),
    );
    expect(set.samples.map((s) => [s.name, s.positive])).toEqual([['IAM/CreateUser', true]]);
    expect(Object.fromEntries(set.skipped)).toEqual({
      'used in the wild, no alerting rule named': 1,
      'not marked as used in the wild': 1,
      'event without a record': 1,
    });
  });
});

describe('trailAlerts', () => {
  it('makes a positive sample of each should_match record and a negative of each should_not_match, with the Sigma level', () => {
    const rec = (source: string): Obj => ({ eventSource: source, eventName: 'GetPasswordData' });
    const set = trailAlerts(
      repoOf({
        'rules/sigma_rules/aws_ec2_getpassworddate.yml': 'title: x\nlevel: medium\n',
        'rules/sigma_rules/aws_ec2_getpassworddate_tests.json': JSON.stringify({
          should_match: [rec('ec2.amazonaws.com')],
          should_not_match: [rec('cloudtrail.amazonaws.com'), { note: 'no record' }],
        }),
      }),
    );
    expect(set.samples.map((s) => [s.sourceRule, s.name, s.positive, s.suiteLevel])).toEqual([
      ['aws_ec2_getpassworddate', 'should_match[0]', true, 'Medium'],
      ['aws_ec2_getpassworddate', 'should_not_match[0]', false, 'Medium'],
    ]);
    expect(Object.fromEntries(set.skipped)).toEqual({ 'case that is not a CloudTrail record': 1 });
  });
});
