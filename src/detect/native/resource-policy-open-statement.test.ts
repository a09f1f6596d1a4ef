import { describe, expect, it } from 'vitest';
import { ATTACKER_IP, alice, callAs, ev, t } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';

const id = 'seam-native-resource-policy-open-statement';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const vpceScoped = {
  Sid: 'VpceOnly',
  Effect: 'Allow',
  Principal: '*',
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::crm-exports-prod/*',
  Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0f3e2d1c4b5a69788' } },
};
const openRead = { Sid: 'Sync', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::crm-exports-prod', 'arn:aws:s3:::crm-exports-prod/*'] };
const denyInsecure = { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::crm-exports-prod/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };

/** PutBucketPolicy as CloudTrail logs it: the policy as an object under requestParameters.bucketPolicy. */
function putBucketPolicy(statements: unknown[], extra: { errorCode?: string } = {}): SeamEvent {
  return ev(
    callAs(alice, 's3.amazonaws.com', 'PutBucketPolicy', t('16:00:00'), ATTACKER_IP, {
      bucketName: 'crm-exports-prod',
      Host: 'crm-exports-prod.s3.us-west-2.amazonaws.com',
      policy: '',
      bucketPolicy: { Version: '2012-10-17', Statement: statements },
    }, extra),
    undefined,
  );
}

function setQueuePolicy(statements: unknown[]): SeamEvent {
  return ev(
    callAs(alice, 'sqs.amazonaws.com', 'SetQueueAttributes', t('16:05:00'), ATTACKER_IP, {
      queueUrl: 'https://sqs.us-west-2.amazonaws.com/111122223333/orders',
      attributes: { Policy: { Version: '2012-10-17', Statement: statements } },
    }),
    undefined,
  );
}

describe('resource policy with an open statement beside scoped ones', () => {
  it('is high for a bucket policy that adds an unconditioned Allow for * beside a VPC-endpoint-scoped statement', () => {
    const alerts = run([putBucketPolicy([vpceScoped, openRead])]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.summary).toContain('bucket crm-exports-prod whose Sync allows everyone (s3:GetObject, s3:ListBucket)');
    // The triage text names the bucket, the statement quoted, and the commands with the bucket's name.
    expect(alerts[0]!.triage).toContain('whose “Sync” allows everyone (“s3:GetObject, s3:ListBucket”) without a condition');
    expect(alerts[0]!.triage).toContain('aws s3api get-bucket-policy --bucket crm-exports-prod');
    expect(alerts[0]!.triage).toContain('aws s3api put-bucket-policy --bucket crm-exports-prod --policy file://<fixed policy>');
    expect(alerts[0]!.rule.tags).toContain('attack.t1537');
  });
  it('is medium for a queue policy (object shape) with an org-scoped statement and an open one; a statement on transport alone still counts as open', () => {
    const orgScoped = { Effect: 'Allow', Principal: '*', Action: 'sqs:*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-exampleorgid' } } };
    const openSend = { Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } };
    const alerts = run([setQueuePolicy([orgScoped, openSend])]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
    expect(alerts[0]!.summary).toContain('statement 2 of 2 allows everyone (sqs:SendMessage)');
    expect(alerts[0]!.triage).toContain('aws sqs get-queue-attributes --queue-url ');
  });
  it('stays quiet where every Allow for * is scoped, where no statement is scoped (the Sigma rules alert there), for failed calls and Deny statements', () => {
    const orgScopedRead = { ...vpceScoped, Sid: 'Org', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-exampleorgid' } } };
    const denyAll = { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::crm-exports-prod/*' };
    expect(
      run([
        putBucketPolicy([vpceScoped, orgScopedRead]),
        putBucketPolicy([openRead]),
        putBucketPolicy([denyInsecure, openRead]),
        putBucketPolicy([vpceScoped, openRead], { errorCode: 'AccessDenied' }),
        putBucketPolicy([vpceScoped, denyAll]),
        setQueuePolicy([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/orders' }, Action: 'sqs:*', Resource: '*' }]),
      ]),
    ).toEqual([]);
  });
});
