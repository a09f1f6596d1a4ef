import { describe, expect, it } from 'vitest';
import { ev, t } from '../../../test/identity/records.ts';
import { cloudTrailEvent, eventIds, runNative } from '../../../test/helpers/native.ts';
import type { Alert } from '../alert.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { hiddenFindingIds } from './finding-hidden-by-its-subject.ts';

const id = 'seam-native-finding-hidden-by-its-subject';
const ACCOUNT = '111122223333';
const DETECTOR = '12abc34d567e8fa901bc2d34eexample';
const FINDING = 'a4c6e8f0b2d44f1e9a7c5e3b1d9f7a5c';
const OTHER_FINDING = 'b5d7f9a1c3e54a2f8b6d4c2a0e8f6b4d';
const LEAKED = { type: 'IAMUser', principalId: 'AIDAEXAMPLEDEPLOY0001', arn: `arn:aws:iam::${ACCOUNT}:user/legacy-deploy`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLEDEPLOY001', userName: 'legacy-deploy' };
const ANALYST = {
  type: 'AssumedRole',
  principalId: 'AROAEXAMPLESECOPS0001:dana@example.com',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_SecurityAudit_0f1e2d3c4b5a6978/dana@example.com`,
  accountId: ACCOUNT,
  accessKeyId: 'ASIAEXAMPLESECOPS001',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLESECOPS0001', arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_SecurityAudit_0f1e2d3c4b5a6978`, accountId: ACCOUNT, userName: 'AWSReservedSSO_SecurityAudit_0f1e2d3c4b5a6978' },
    attributes: { creationDate: '2024-11-05T13:55:00Z', mfaAuthenticated: 'false' },
  },
};
const BOTO = 'Boto3/1.35.64 md/Botocore#1.35.64 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.64';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

/** A GuardDuty finding about an IAM user's access key, as GetFindings returns it. */
function finding(findingId: string, time: string): SeamEvent {
  return ev(
    {
      accountId: ACCOUNT,
      arn: `arn:aws:guardduty:us-west-2:${ACCOUNT}:detector/${DETECTOR}/finding/${findingId}`,
      createdAt: time,
      description: 'APIs commonly used in Discovery tactics were invoked by user IAMUser : legacy-deploy under unusual circumstances.',
      id: findingId,
      partition: 'aws',
      region: 'us-west-2',
      resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: LEAKED.accessKeyId, principalId: LEAKED.principalId, userName: LEAKED.userName, userType: 'IAMUser' } },
      schemaVersion: '2.0',
      service: {
        action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'ListBuckets', serviceName: 's3.amazonaws.com', callerType: 'Remote IP', remoteIpDetails: { ipAddressV4: '198.51.100.23', organization: { asn: '64500', asnOrg: 'EXAMPLE-VPS' }, country: { countryName: 'Netherlands' } } } },
        archived: false,
        count: 1,
        detectorId: DETECTOR,
        eventFirstSeen: time,
        eventLastSeen: time,
        resourceRole: 'TARGET',
        serviceName: 'guardduty',
      },
      severity: 5,
      title: 'User legacy-deploy is anomalously invoking APIs commonly used in Discovery tactics.',
      type: 'Discovery:IAMUser/AnomalousBehavior',
      updatedAt: time,
    },
    undefined,
  );
}

const eventId = eventIds('6d2e', '7a1b-4c3d-9e8f');

function call(who: Record<string, unknown>, source: string, name: string, time: string, rp: Record<string, unknown>, error?: string): SeamEvent {
  return cloudTrailEvent({ userIdentity: who, eventTime: time, eventSource: source, eventName: name, sourceIPAddress: '198.51.100.23', userAgent: BOTO, requestParameters: rp, recipientAccountId: ACCOUNT, ...(error === undefined ? {} : { errorCode: error }) }, eventId);
}

const archive = (who: Record<string, unknown>, ids: string[], time: string, error?: string): SeamEvent => call(who, 'guardduty.amazonaws.com', 'ArchiveFindings', time, { detectorId: DETECTOR, findingIds: ids }, error);
const suppress = (who: Record<string, unknown>, ids: string[], status: string, time: string): SeamEvent =>
  call(who, 'securityhub.amazonaws.com', 'BatchUpdateFindings', time, {
    FindingIdentifiers: ids.map((f) => ({ Id: `arn:aws:guardduty:us-west-2:${ACCOUNT}:detector/${DETECTOR}/finding/${f}`, ProductArn: 'arn:aws:securityhub:us-west-2::product/aws/guardduty' })),
    Workflow: { Status: status },
    Note: { Text: 'ok', UpdatedBy: 'x' },
  });

describe('GuardDuty finding archived or suppressed by the principal it is about', () => {
  it('alerts (medium) when the leaked key archives the finding about itself', () => {
    const alerts = run([finding(FINDING, t('14:00:00')), archive(LEAKED, [FINDING], t('14:20:00'))]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('archived a GuardDuty finding about itself (Discovery:IAMUser/AnomalousBehavior)');
    expect(alerts[0]!.events).toHaveLength(2);
    // The triage text names who hid which finding, the command that brings it back, and the key to deactivate.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`user/legacy-deploy archived the GuardDuty finding ${FINDING} (Discovery:IAMUser/AnomalousBehavior) about itself from `);
    expect(tr).toContain(`aws guardduty unarchive-findings --detector-id ${DETECTOR} --finding-ids ${FINDING}`);
    expect(tr).toContain("deactivate legacy-deploy's key AKIAEXAMPLEDEPLOY001 (aws iam update-access-key, with --user-name legacy-deploy --access-key-id AKIAEXAMPLEDEPLOY001 --status Inactive)");
    expect(tr).not.toContain('[REDACTED]');
  });

  it('alerts when it suppresses the finding through Security Hub', () => {
    expect(run([finding(FINDING, t('14:00:00')), suppress(LEAKED, [FINDING, OTHER_FINDING], 'SUPPRESSED', t('15:00:00'))])).toHaveLength(1);
  });

  it('stays quiet for an analyst triaging it, a refused archive, another finding, a finding never seen, or a workflow set to NOTIFIED', () => {
    expect(run([finding(FINDING, t('14:00:00')), archive(ANALYST, [FINDING], t('14:30:00'))])).toEqual([]);
    expect(run([finding(FINDING, t('14:00:00')), archive(LEAKED, [FINDING], t('14:20:00'), 'AccessDeniedException')])).toEqual([]);
    expect(run([finding(FINDING, t('14:00:00')), archive(LEAKED, [OTHER_FINDING], t('14:20:00'))])).toEqual([]);
    expect(run([archive(LEAKED, [FINDING], t('14:20:00'))])).toEqual([]);
    expect(run([finding(FINDING, t('14:00:00')), suppress(LEAKED, [FINDING], 'NOTIFIED', t('15:00:00'))])).toEqual([]);
  });

  it('reads finding ids from both calls (list or items shape; the id is the last part of a Security Hub finding ARN)', () => {
    expect(hiddenFindingIds(archive(LEAKED, [FINDING, OTHER_FINDING], t('14:20:00')))).toEqual([FINDING, OTHER_FINDING]);
    expect(hiddenFindingIds(call(LEAKED, 'guardduty.amazonaws.com', 'ArchiveFindings', t('14:20:00'), { detectorId: DETECTOR, findingIds: { items: [FINDING] } }))).toEqual([FINDING]);
    expect(hiddenFindingIds(suppress(LEAKED, [FINDING], 'resolved', t('15:00:00')))).toEqual([FINDING]);
  });
});
