import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { SeamEventSchema } from '../envelope.ts';
import { normalizeLine } from './normalize.ts';

const meta: RawMeta = { collector: 'file', receivedAt: '2026-12-04T10:00:00.000Z' };

function ct(eventSource: string, eventName: string, requestParameters: unknown): string {
  return JSON.stringify({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ops', accountId: '111122223333' },
    eventTime: '2026-12-04T09:59:00Z',
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    requestParameters,
    eventID: `${eventName}-1`,
    recipientAccountId: '111122223333',
  });
}

function norm(line: string): SeamEvent {
  const r = normalizeLine(line, meta);
  if (!r.ok) throw new Error(r.error.message);
  expect(SeamEventSchema.safeParse(r.value).success).toBe(true);
  return r.value;
}

const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::111122223333:root', '444455556666'] }, Action: 'sts:AssumeRole' }] };

describe('seam.policy: the request\'s policy document as an object (ADR 0042)', () => {
  it('parses IAM policy text, keeping the field it came from and the raw text as logged', () => {
    const e = norm(ct('iam.amazonaws.com', 'UpdateAssumeRolePolicy', { roleName: 'r', policyDocument: JSON.stringify(trust, null, 2) }));
    expect(e.seam.policy).toEqual({ field: 'requestParameters.policyDocument', Version: '2012-10-17', Statement: trust.Statement.map((x) => ({ ...x, seam_conditions: [], seam_condition_values: [] })) });
    expect(typeof (e.requestParameters as { policyDocument: unknown }).policyDocument).toBe('string');
    const c = norm(ct('iam.amazonaws.com', 'CreateRole', { roleName: 'r', assumeRolePolicyDocument: JSON.stringify(trust) }));
    expect(c.seam.policy?.field).toBe('requestParameters.assumeRolePolicyDocument');
  });

  it('reads URL-encoded text, an object (S3), a single statement, and the SNS / SQS / Glacier shapes', () => {
    const enc = norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyName: 'p', policyDocument: encodeURIComponent(JSON.stringify(trust)) }));
    expect(enc.seam.policy?.Statement).toEqual(trust.Statement.map((x) => ({ ...x, seam_conditions: [], seam_condition_values: [] })));
    const single = { Version: '2012-10-17', Statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' } };
    const s3 = norm(ct('s3.amazonaws.com', 'PutBucketPolicy', { bucketName: 'b', bucketPolicy: single }));
    expect(s3.seam.policy).toEqual({ field: 'requestParameters.bucketPolicy', Version: '2012-10-17', Statement: [{ ...single.Statement, seam_conditions: [], seam_condition_values: [] }] });
    // The record's own statement object is not changed.
    expect(JSON.stringify(s3.requestParameters)).not.toContain('seam_conditions');
    const sns = norm(ct('sns.amazonaws.com', 'SetTopicAttributes', { topicArn: 'arn:aws:sns:us-east-1:111122223333:t', attributeName: 'Policy', attributeValue: JSON.stringify(single) }));
    expect(sns.seam.policy?.field).toBe('requestParameters.attributeValue');
    const sqs = norm(ct('sqs.amazonaws.com', 'SetQueueAttributes', { queueUrl: 'https://sqs/q', attributes: { Policy: JSON.stringify(single) } }));
    expect(sqs.seam.policy?.field).toBe('requestParameters.attributes.Policy');
    const glacier = norm(ct('glacier.amazonaws.com', 'SetVaultAccessPolicy', { vaultName: 'v', policy: { policy: JSON.stringify(single) } }));
    expect(glacier.seam.policy?.Statement).toHaveLength(1);
  });

  it('lists each statement\'s condition operator and key pairs, lower-cased', () => {
    const doc = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Condition: { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': ['o-1/*'] }, StringEqualsIfExists: { 'AWS:PrincipalOrgID': 'o-1', 'aws:SourceIp': '10.0.0.0/8' } } }] };
    const e = norm(ct('iam.amazonaws.com', 'UpdateAssumeRolePolicy', { roleName: 'r', policyDocument: JSON.stringify(doc) }));
    expect(e.seam.policy?.Statement[0]?.seam_conditions).toEqual(['foranyvalue:stringlike aws:principalorgpaths', 'stringequalsifexists aws:principalorgid', 'stringequalsifexists aws:sourceip']);
  });

  it('leaves seam.policy out for requests without a document, text that is no policy, and documents nested too deep', () => {
    expect(norm(ct('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'r', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })).seam.policy).toBeUndefined();
    expect(norm(ct('kms.amazonaws.com', 'PutKeyPolicy', { keyId: 'k', policyName: 'default', policy: '{"Version": "2012-10-17", "Statement": [' })).seam.policy).toBeUndefined();
    expect(norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyDocument: 'not json' })).seam.policy).toBeUndefined();
    expect(norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyDocument: '{"Version":"2012-10-17"}' })).seam.policy).toBeUndefined();
    const deep = `{"Statement":[{"Effect":"Allow","Condition":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}]}`;
    expect(norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyDocument: deep })).seam.policy).toBeUndefined();
  });

  it('redacts a URL-encoded document after decoding it, the view and the raw field both', () => {
    const leaky = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: '*', Sid: 'ASIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', Condition: { StringEquals: { 'aws:Referer': 'Authorization: Bearer abcdefghijklmnopqrstu' } } }] };
    const e = norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyName: 'p', policyDocument: encodeURIComponent(JSON.stringify(leaky)) }));
    const text = JSON.stringify(e);
    expect(text).not.toContain('wJalrXUtnFEMI');
    expect(text).not.toContain('abcdefghijklmnopqrstu');
    expect(text).not.toContain('wJalrXUtnFEMI%2FK7MDENG');
    expect(e.seam.ingest.redacted).toContain('requestParameters.policyDocument');
    expect(e.seam.policy?.Statement[0]?.Effect).toBe('Allow');
    // Nothing to hide: the encoded raw field is kept as logged.
    const clean = norm(ct('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'r', policyName: 'p', policyDocument: encodeURIComponent(JSON.stringify(trust)) }));
    expect((clean.requestParameters as { policyDocument: string }).policyDocument).toMatch(/^%7B/);
  });

  it('reads keys written with JSON escapes, and lists each condition value', () => {
    const escaped = '{"\\u0053tatement":[{"Effect":"Allow","\\u0050rincipal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"AWS:PrincipalAccount":["444455556666",111122223333]}}}]}';
    const e = norm(ct('kms.amazonaws.com', 'PutKeyPolicy', { keyId: 'k', policyName: 'default', policy: escaped }));
    expect(e.seam.policy?.Statement[0]?.Principal).toBe('*');
    expect(e.seam.policy?.Statement[0]?.seam_condition_values).toEqual([
      { op: 'stringequals', key: 'aws:principalaccount', value: '444455556666' },
      { op: 'stringequals', key: 'aws:principalaccount', value: '111122223333' },
    ]);
  });

  it('is built from the redacted record: a secret in the document never reaches seam.policy', () => {
    const leaky = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Sid: 'ASIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }] };
    const e = norm(ct('secretsmanager.amazonaws.com', 'PutResourcePolicy', { secretId: 's', resourcePolicy: JSON.stringify(leaky) }));
    expect(JSON.stringify(e)).not.toContain('wJalrXUtnFEMI');
  });
});
