import { describe, expect, it } from 'vitest';
import { alice, callAs, ev, session, t } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';

const id = 'seam-native-ecs-task-creds-outside-aws';
const ATTACKER = '185.220.101.1'; // a hosting AS, not Amazon
const FARGATE = '44.230.10.1'; // AS16509
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/command#ecs.list-clusters';
const TASK_ID = '7a8b9c0d1e2f30415263748596a7b8c9';
const task = session('orders-api-task', TASK_ID, 'ASIAEXAMPLETASKROLE1', 'AROAEXAMPLETASKROLE01');

const call = (name: string, time: string, ip: string, source = 'ecs.amazonaws.com', extra: Record<string, unknown> = {}): SeamEvent =>
  ev({ ...callAs(task, source, name, time, ip, null, { userAgent: CLI }), ...extra }, undefined);

describe('ECS task credentials used from outside AWS', () => {
  it('fires (high) once per session and outside address, naming the task, the role and the address', () => {
    const theft = [call('ListClusters', t('14:20:00'), ATTACKER), call('ListTasks', t('14:20:30'), ATTACKER), call('DescribeServices', t('14:21:00'), ATTACKER)];
    const alerts = runNative(id, theft);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.summary).toContain(TASK_ID);
    expect(alerts[0]!.summary).toContain('orders-api-task');
    expect(alerts[0]!.summary).toContain(ATTACKER);
    expect(alerts[0]!.events).toEqual([theft[0]!.seam.id]);
    // The triage text names the task, role, key, call and address, and the commands to find the task and to stop it.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`ECS task ${TASK_ID}'s role session (role orders-api-task, key ASIAEXAMPLETASKROLE1) called ecs.amazonaws.com:ListClusters from ${ATTACKER} with “aws-cli/2.22.4`);
    expect(tr).toContain(`aws ecs describe-tasks --cluster <cluster> --tasks ${TASK_ID}`);
    expect(tr).toContain('aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ASIAEXAMPLETASKROLE1');
    expect(tr).toContain(`Benign only if no task of the account has id ${TASK_ID}`);
    expect(tr).toContain('aws iam put-role-policy --role-name orders-api-task --policy-name AWSRevokeOlderSessions');
  });

  it('stays quiet for the task’s own calls (an AWS address, a private one through a VPC endpoint) and for other sessions outside AWS', () => {
    const quiet = [
      call('GetObject', t('14:20:00'), FARGATE, 's3.amazonaws.com'),
      call('PutObject', t('14:20:10'), '10.0.4.17', 's3.amazonaws.com', { vpcEndpointId: 'vpce-0a1b2c3d' }),
      ev(callAs(alice, 'ecs.amazonaws.com', 'ListClusters', t('14:20:20'), ATTACKER, null, { userAgent: CLI }), undefined),
      // A person's session named by a timestamp or an e-mail is not a task id.
      ev(callAs(session('deployer', 'botocore-session-1762070400', 'ASIAEXAMPLEDEPLOYER1'), 'ecs.amazonaws.com', 'ListClusters', t('14:20:30'), ATTACKER), undefined),
    ];
    expect(runNative(id, quiet)).toEqual([]);
  });

  it('a long-term key is not a task session, and an address that cannot be placed (no ASN database) stays quiet', () => {
    const raw = callAs(task, 'ecs.amazonaws.com', 'ListClusters', t('14:20:00'), ATTACKER);
    (raw.userIdentity as Record<string, unknown>).accessKeyId = 'AKIAEXAMPLELONGTERM1';
    expect(runNative(id, [ev(raw, undefined)])).toEqual([]);
    expect(runNative(id, [call('ListClusters', t('14:20:00'), ATTACKER)], { config: { asnDatabase: false } })).toEqual([]);
  });
});
