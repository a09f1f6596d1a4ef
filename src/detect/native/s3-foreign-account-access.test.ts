import { describe, expect, it } from 'vitest';
import { ev } from '../../../test/identity/records.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import { createNativeEngine } from './engine.ts';

// S3 object-level data events as the bucket owner's trail receives them when a principal of another account calls
// (CloudTrail user guide, "Logging data events": the owner gets a copy, recipientAccountId = owner; the caller's
// account is userIdentity.accountId, type AWSAccount for a principal outside the owner's account).
const ID = 'seam-native-s3-foreign-account-access';
const OWNER = '111122223333';
const LOGGING = '222233334444'; // the organisation's logging account, writing every day
const STRANGER = '960312529846';
const H = 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString();
let n = 0;

function s3(account: string, eventName: string, hours: number, bucket: string, extra: Record<string, unknown> = {}): SeamEvent {
  n++;
  return ev(
    {
      eventVersion: '1.09',
      userIdentity: { type: 'AWSAccount', principalId: `AIDAEXAMPLE${account.slice(0, 6)}`, accountId: account },
      eventTime: at(hours),
      eventSource: 's3.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.23',
      userAgent: '[aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0]',
      requestParameters: { bucketName: bucket, key: 'hello.txt', Host: `${bucket}.s3.amazonaws.com` },
      responseElements: null,
      additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: 'AuthHeader', bytesTransferredIn: 12 },
      requestID: `REQ${String(n).padStart(12, '0')}`,
      eventID: `0f3a${String(n).padStart(4, '0')}-1b2c-4d5e-8f90-${String(n).padStart(12, '0')}`,
      readOnly: false,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/hello.txt` },
        { accountId: OWNER, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ],
      eventType: 'AwsApiCall',
      managementEvent: false,
      recipientAccountId: OWNER,
      eventCategory: 'Data',
      ...extra,
    },
    undefined,
  );
}

/** Two days of the owner account's learning period: the logging account writes its log bucket hourly. */
function learningDays(): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (let h = 0; h < 48; h += 1) out.push(s3(LOGGING, 'PutObject', h, 'org-central-logs'));
  return out;
}

const run = (events: SeamEvent[], graph?: IdentityGraph): Alert[] => runNative(ID, events, { config: { baselineLearningMs: 24 * H }, ...(graph ? { graph } : {}) });

describe('seam-native-s3-foreign-account-access', () => {
  it('raises a write by an account never seen on the bucket, after learning, once per account, bucket and direction', () => {
    const alerts = run([...learningDays(), s3(STRANGER, 'PutObject', 50, 'org-central-logs'), s3(STRANGER, 'PutObject', 50.1, 'org-central-logs'), s3(STRANGER, 'GetObject', 50.2, 'org-central-logs')]);
    expect(alerts.map((a) => [a.rule.id, a.rule.level])).toEqual([
      [ID, 'medium'],
      [ID, 'medium'],
    ]);
    expect(alerts[0]!.summary).toContain(`of account ${STRANGER} wrote to bucket org-central-logs of account ${OWNER} (PutObject hello.txt)`);
    expect(alerts[1]!.summary).toContain('read objects in bucket org-central-logs');
    // The triage text names the account, bucket, object, address and the command to read the grant, not field paths.
    expect(alerts[0]!.triage).toContain(`of account ${STRANGER} wrote to bucket org-central-logs (PutObject hello.txt) from 198.51.100.23 with “[aws-cli/2.22.4`);
    expect(alerts[0]!.triage).toContain(`Is ${STRANGER} one of your organisation’s accounts`);
    expect(alerts[0]!.triage).toContain('aws s3api get-bucket-policy --bucket org-central-logs');
    expect(alerts[0]!.triage).toContain(`List what account ${STRANGER} wrote to org-central-logs (key names, sizes)`);
    expect(alerts[1]!.triage).toContain(`List which objects of org-central-logs account ${STRANGER} read and how many`);
    for (const a of alerts) expect(a.triage).not.toMatch(/userIdentity|requestParameters|principalId/);
  });

  it('raises a learned account reaching a bucket it never touched', () => {
    const alerts = run([...learningDays(), s3(LOGGING, 'GetObject', 60, 'payroll-exports')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain(`account ${LOGGING} read objects in bucket payroll-exports`);
  });

  it('stays quiet for accounts learned on the bucket, the owner itself, AWS services, failures, and during learning', () => {
    const own = s3(OWNER, 'GetObject', 50, 'payroll-exports', { userIdentity: { type: 'IAMUser', principalId: 'AIDAOWNER', arn: `arn:aws:iam::${OWNER}:user/alice`, accountId: OWNER, userName: 'alice' } });
    const service = s3(STRANGER, 'PutObject', 51, 'payroll-exports', { userIdentity: { type: 'AWSService', invokedBy: 'delivery.logs.amazonaws.com' } });
    const onBehalf = s3(STRANGER, 'PutObject', 51, 'payroll-exports', { userIdentity: { type: 'AWSAccount', principalId: 'AIDAX', accountId: STRANGER, invokedBy: 'elasticloadbalancing.amazonaws.com' } });
    const denied = s3(STRANGER, 'PutObject', 52, 'payroll-exports', { errorCode: 'AccessDenied', errorMessage: 'Access Denied' });
    const callerCopy = s3(STRANGER, 'PutObject', 53, 'payroll-exports', { recipientAccountId: STRANGER });
    const duringLearning = s3(STRANGER, 'PutObject', 3, 'org-central-logs');
    expect(run([...learningDays(), duringLearning, s3(LOGGING, 'PutObject', 55, 'org-central-logs'), own, service, onBehalf, denied, callerCopy])).toEqual([]);
    // A bucket-level call (not object data) says nothing about the data.
    expect(run([...learningDays(), s3(STRANGER, 'GetBucketAcl', 50, 'org-central-logs')])).toEqual([]);
  });

  it('learns from the first data event even when the account itself is long known (data events switched on later)', () => {
    // The account's management events taught the other baselines its learning start ten days ago.
    const g = new IdentityGraph();
    const old = new Date(BASE - 10 * 24 * H).toISOString();
    g.applyFacts([{ kind: 'baseline_start', key: `baseline_start|account:${OWNER}`, op: 'assert', from: `account:${OWNER}`, to: `account:${OWNER}`, attributes: { first_seen: old }, provenance: 'seed:test', valid_from: old, valid_to: new Date(BASE + 100 * 24 * H).toISOString() }]);
    // Data events start now: the partners met in their first day are learned, not raised; a stranger after it is.
    expect(run([...learningDays(), s3(STRANGER, 'PutObject', 50, 'org-central-logs')], g).map((a) => a.summary)).toEqual([expect.stringContaining(`account ${STRANGER} wrote to`)]);
  });

  it('keeps what it learned across a restart (accessed_bucket facts)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [ID], config: { baselineLearningMs: 24 * H }, onFacts: (fs) => published.push(...fs) });
    for (const e of learningDays()) expect(first.process(e)).toEqual([]);
    expect([...new Set(published.filter((f) => f.kind === 'accessed_bucket').map((f) => `${f.from} ${f.to} ${String(f.attributes.access)}`))]).toEqual([
      `account:${LOGGING} s3:${OWNER}:org-central-logs write`,
    ]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    expect(run([s3(LOGGING, 'PutObject', 50, 'org-central-logs'), s3(STRANGER, 'PutObject', 50.5, 'org-central-logs')], g).map((a) => a.summary)).toEqual([
      expect.stringContaining(`account ${STRANGER} wrote to`),
    ]);
  });
});
