import { describe, expect, it } from 'vitest';
import { ACCOUNT, ATTACKER_IP, alice, callAs, ev, t } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';

const id = 'seam-native-s3-copy-cross-account';
const OTHER = '444455556666';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

/** A CopyObject data event as CloudTrail logs it: both buckets and objects in resources, buckets with their owner. */
function copy(dest: string, destOwner: string, src: string, srcOwner: string, extra: { errorCode?: string; name?: string } = {}): SeamEvent {
  const raw = callAs(alice, 's3.amazonaws.com', extra.name ?? 'CopyObject', t('16:00:00'), ATTACKER_IP, {
    bucketName: dest,
    key: 'exports/customers.csv',
    'x-amz-copy-source': `${src}/exports/customers.csv`,
    Host: `${dest}.s3.us-west-2.amazonaws.com`,
  }, extra.errorCode === undefined ? {} : { errorCode: extra.errorCode });
  raw.resources = [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${src}/exports/customers.csv` },
    { accountId: srcOwner, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${src}` },
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${dest}/exports/customers.csv` },
    { accountId: destOwner, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${dest}` },
  ];
  raw.eventCategory = 'Data';
  raw.managementEvent = false;
  raw.recipientAccountId = ACCOUNT;
  return ev(raw, undefined);
}

describe('S3 object copied across accounts', () => {
  it('is high when the destination bucket belongs to another account', () => {
    const alerts = run([copy('drop-7731', OTHER, 'crm-exports-prod', ACCOUNT)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.summary).toContain(`into bucket drop-7731 of account ${OTHER}`);
    expect(alerts[0]!.rule.tags).toContain('attack.t1537');
    // The triage text names who copied what into which bucket of which account, from where.
    expect(alerts[0]!.triage).toContain(`role/PlatformAdmin (alice@example.com) copied into bucket drop-7731 of account ${OTHER} from ${ATTACKER_IP}`);
    expect(alerts[0]!.triage).toContain('(copy of crm-exports-prod/exports/customers.csv).');
    expect(alerts[0]!.triage).toContain(`check the policy of the source bucket for a grant to ${OTHER}`);
  });
  it('is medium when only the source bucket is foreign (data brought in), and for UploadPartCopy', () => {
    const alerts = run([copy('crm-imports', ACCOUNT, 'partner-feed', OTHER), copy('drop-7731', OTHER, 'crm-exports-prod', ACCOUNT, { name: 'UploadPartCopy' })]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'high']);
    expect(alerts[0]!.summary).toContain(`between bucket partner-feed of account ${OTHER}`);
  });
  it('stays quiet for copies between the account’s own buckets, failed copies and other calls', () => {
    const put = callAs(alice, 's3.amazonaws.com', 'PutObject', t('16:01:00'), ATTACKER_IP, { bucketName: 'drop-7731', key: 'x' });
    put.resources = [{ accountId: OTHER, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::drop-7731' }];
    expect(
      run([
        copy('crm-archive', ACCOUNT, 'crm-exports-prod', ACCOUNT),
        copy('drop-7731', OTHER, 'crm-exports-prod', ACCOUNT, { errorCode: 'AccessDenied' }),
        ev(put, undefined),
      ]),
    ).toEqual([]);
  });
});
