import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { cloudWatchLogsClients } from './clients.ts';
import { CloudWatchLogsSourceConfig } from './config.ts';
import { resolveGroup } from './parse.ts';
import { groupCheckpointKey, labelOf, unitOf } from './source.ts';

// Security-account installs (finding H1): log groups read in other accounts through sts:AssumeRole.
const ROLE_A = 'arn:aws:iam::111111111111:role/seam-cloudwatch-logs-reader';
const ROLE_B = 'arn:aws:iam::222222222222:role/seam-cloudwatch-logs-reader';
const EKS = '/aws/eks/prod/cluster';
const parse = (logGroups: unknown[], extra: Record<string, unknown> = {}) => CloudWatchLogsSourceConfig.safeParse({ type: 'cloudwatch-logs', region: 'us-east-1', logGroups, ...extra });
const issues = (r: ReturnType<typeof parse>): string[] => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

describe('cloudwatch-logs cross-account config', () => {
  it('accepts the same group name in two accounts read through two roles, and each group carries its role\'s account', () => {
    const r = parse([
      { logGroupName: EKS, roleArn: ROLE_A },
      { logGroupName: EKS, roleArn: ROLE_B, externalId: 'seam-7f3a' },
    ]);
    expect(issues(r)).toEqual([]);
    const groups = r.data!.logGroups.map(resolveGroup);
    expect(groups.map((g) => [g.account, g.cluster, g.roleArn, g.externalId])).toEqual([
      ['111111111111', 'prod', ROLE_A, undefined],
      ['222222222222', 'prod', ROLE_B, 'seam-7f3a'],
    ]);
    expect(r.data!.roleSessionName).toBe('seam-collect');
    // Checkpoints, ownership units and stats keep the two apart.
    expect(groups.map((g) => groupCheckpointKey('cwl', g))).toEqual([
      'cwl|/aws/eks/prod/cluster|kube-apiserver-audit-|account=111111111111',
      'cwl|/aws/eks/prod/cluster|kube-apiserver-audit-|account=222222222222',
    ]);
    expect(new Set(groups.map(unitOf)).size).toBe(2);
    expect(groups.map(labelOf)).toEqual(['111111111111:/aws/eks/prod/cluster', '222222222222:/aws/eks/prod/cluster']);
  });

  it('keeps the checkpoint key and unit of a group read with the pod\'s own credentials as they were', () => {
    const g = resolveGroup(parse([{ logGroupName: EKS, account: '333333333333' }]).data!.logGroups[0]!);
    expect(groupCheckpointKey('cwl', g)).toBe('cwl|/aws/eks/prod/cluster|kube-apiserver-audit-');
    expect(unitOf(g)).toBe('/aws/eks/prod/cluster|kube-apiserver-audit-');
    expect(labelOf(g)).toBe(EKS);
  });

  it('refuses one account\'s group listed twice: without roles (an `account` label reads nothing elsewhere), or through two roles of one account', () => {
    expect(issues(parse([{ logGroupName: EKS, account: '111111111111' }, { logGroupName: EKS, account: '222222222222' }]))).toEqual([
      "logGroups.1: log group /aws/eks/prod/cluster is listed twice with the same stream prefix in the collector's own account (set roleArn to read another account's group)",
    ]);
    expect(issues(parse([{ logGroupName: EKS, roleArn: ROLE_A }, { logGroupName: EKS, roleArn: 'arn:aws:iam::111111111111:role/other' }]))).toEqual([
      'logGroups.1: log group /aws/eks/prod/cluster is listed twice with the same stream prefix in account 111111111111',
    ]);
  });

  it('refuses an account other than the role\'s, an external id without a role, and a role that is not an IAM role ARN', () => {
    expect(issues(parse([{ logGroupName: EKS, roleArn: ROLE_A, account: '222222222222' }]))).toEqual(["logGroups.0.account: account must be the account of roleArn: the group is read in the role's account"]);
    expect(issues(parse([{ logGroupName: EKS, externalId: 'seam-7f3a' }]))).toEqual(['logGroups.0.externalId: externalId needs roleArn']);
    expect(issues(parse([{ logGroupName: EKS, roleArn: 'arn:aws:iam::111111111111:user/alice' }]))).toEqual(['logGroups.0.roleArn: roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)']);
  });
});

describe('cloudWatchLogsClients', () => {
  it('gives one client per distinct role and external id, and the own client to groups without a role', async () => {
    const config = parse(
      [
        { logGroupName: EKS, roleArn: ROLE_A },
        { logGroupName: '/aws/eks/stage/cluster', roleArn: ROLE_A },
        { logGroupName: EKS, roleArn: ROLE_B },
        { logGroupName: '/aws/eks/dev/cluster', roleArn: ROLE_B, externalId: 'seam-7f3a' },
        { logGroupName: '/aws/eks/own/cluster' },
      ],
      { roleSessionName: 'seam-sec' },
    ).data!;
    const own = new CloudWatchLogs({ region: 'us-east-1' });
    const logsFor = cloudWatchLogsClients(config, { own });
    const clients = config.logGroups.map(resolveGroup).map(logsFor);
    expect(clients[0]).toBe(clients[1]);
    expect(new Set(clients).size).toBe(4);
    expect(clients[4]).toBe(own);
    // The role clients' credentials are a provider (AssumeRole on first use), not the pod's own.
    const credentials = (clients[0] as CloudWatchLogs).config.credentials;
    expect(typeof credentials).toBe('function');
  });
});
