// A two-account role chain (review-platsec M7), as raw records the way collectors deliver them: alice execs into
// payments/api in prod-eks-01 (account A), the pod's IRSA session (A) assumes a role of account B, and the B
// session reads a secret in B. The AssumeRole is in both trails (A's copy and B's shared copy); the B call only in
// B's. Embedded mode resolves the B call down to the exec (seam-native-exec-then-aws); a correlate partition that
// holds B's signals without A's cannot.
import {
  ACCOUNT,
  CLUSTER,
  ct,
  execInto,
  iamK8sUser,
  podCreate,
  saWrite,
  session,
  t,
  alice,
  assumeWebIdentity,
  assumedRoleIdentity,
} from '../identity/records.ts';

export const ACCOUNT_A = ACCOUNT;
/** The role owner's account: chosen by the test so that its signals land on another partition than A's. */
export const ACCOUNT_B_CANDIDATES = ['444455556666', '210987654321', '777788889999', '123456789012', '999988887777'];

const controller = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
const POD = 'payments/api-7c9d8f6b5-x2k4q';
const irsa = session('payments-api-irsa', 'botocore-session-1730815740', 'ASIAEXAMPLEIRSA00001');
const CLI_UA = 'aws-cli/2.18.0 md/awscrt#0.22.0 ua/2.0 os/linux#5.10.226 md/arch#x86_64 lang/python#3.12.6 md/command#secretsmanager.get-secret-value';

/** A raw record and what its collector attaches (the audit log's cluster and account; CloudTrail names its own). */
export interface ChainRecord {
  raw: Record<string, unknown>;
  source: 'k8s_audit' | 'cloudtrail';
  cluster?: string;
  account?: string;
}

/** The chain's records in event-time order, with account B = `b`. */
export function crossAccountChain(b: string): ChainRecord[] {
  const a = ACCOUNT_A;
  const audit = (raw: Record<string, unknown>): ChainRecord => ({ raw, source: 'k8s_audit', cluster: CLUSTER, account: a });
  const trail = (raw: Record<string, unknown>): ChainRecord => ({ raw, source: 'cloudtrail' });
  const roleB = `arn:aws:iam::${b}:role/shared-secrets-reader`;
  const sessB = { role: 'shared-secrets-reader', session: 'payments-xacct', key: 'ASIAEXAMPLEXACCT0001', roleId: 'AROAEXAMPLEXACCTRD01', arn: `arn:aws:sts::${b}:assumed-role/shared-secrets-reader/payments-xacct`, roleArn: roleB };
  // The IRSA session (A) assumes B's role: one call, logged in A's trail and, as a shared event, in B's.
  const assume = (recipient: string, eventID: string): ChainRecord => {
    const r = ct({
      source: 'sts.amazonaws.com',
      name: 'AssumeRole',
      time: t('14:09:16'),
      identity: assumedRoleIdentity(irsa),
      rp: { roleArn: roleB, roleSessionName: sessB.session, durationSeconds: 3600 },
      re: {
        credentials: { accessKeyId: sessB.key, sessionToken: 'IQoJb3JpZ2luX2VjEFIXTUREfixtureSessionTokenNotReal', expiration: 'Nov 5, 2024, 3:09:16 PM' },
        assumedRoleUser: { assumedRoleId: `${sessB.roleId}:${sessB.session}`, arn: sessB.arn },
      },
      userAgent: CLI_UA.replace('secretsmanager.get-secret-value', 'sts.assume-role'),
    });
    r.recipientAccountId = recipient;
    r.eventID = eventID;
    r.sharedEventID = '5c1e7a2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d';
    r.resources = [{ accountId: b, type: 'AWS::IAM::Role', ARN: roleB }];
    return trail(r);
  };
  // The B session's call, in B's trail.
  const read = ct({
    source: 'secretsmanager.amazonaws.com',
    name: 'GetSecretValue',
    time: t('14:09:21'),
    identity: {
      type: 'AssumedRole',
      principalId: `${sessB.roleId}:${sessB.session}`,
      arn: sessB.arn,
      accountId: b,
      accessKeyId: sessB.key,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: sessB.roleId, arn: roleB, accountId: b, userName: sessB.role },
        attributes: { creationDate: '2024-11-05T14:09:16Z', mfaAuthenticated: 'false' },
      },
    },
    rp: { secretId: `arn:aws:secretsmanager:us-west-2:${b}:secret:payments/ledger-db-AbCdEf` },
    userAgent: CLI_UA,
  });
  read.recipientAccountId = b;
  return [
    audit(saWrite(iamK8sUser(alice), 'payments/api', irsa.roleArn, t('12:00:00'))),
    audit(podCreate(controller, POD, 'api', t('13:00:00'))),
    audit(execInto(iamK8sUser(alice), POD, t('14:09:08'), 'sh')),
    trail(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:09:12'))),
    assume(a, '7d2f1c3b-1a2b-4c3d-9e8f-0a1b2c3d4e01'),
    assume(b, '7d2f1c3b-1a2b-4c3d-9e8f-0a1b2c3d4e02'),
    trail(read),
  ];
}
