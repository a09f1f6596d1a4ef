import { describe, expect, it } from 'vitest';
import { invictusStratus, sumoPaste, type Obj, type Repo } from './proxy-sets.ts';

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
