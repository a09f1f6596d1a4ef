import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { SeamEventSchema } from '../envelope.ts';
import { jsonDepthExceeds, normalizeLine, normalizeRecord, unwrapRecords } from './normalize.ts';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const text = (p: string): string => readFileSync(new URL(p, FIXTURES), 'utf8');
const lines = (p: string): string[] => text(p).split('\n').filter((l) => l.length > 0);
const meta: RawMeta = { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', region: 'us-west-2', origin: 'fixture' };
const opts = { validate: true };

function must(r: ReturnType<typeof normalizeLine>): SeamEvent {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  expect(SeamEventSchema.safeParse(r.value).success).toBe(true);
  return r.value;
}

describe('k8s audit (EKS CloudWatch)', () => {
  const evs = lines('k8s-audit/eks-audit.jsonl').map((l) => must(normalizeLine(l, meta, opts)));

  it('maps every event to the expected seam fields', () => {
    const view = evs.map((e) => [e.seam.id.split(':')[1], e.seam.action, e.seam.principal?.type, e.seam.resource ?? null, e.seam.outcome]);
    expect(view).toEqual([
      ['ResponseComplete', 'list pods', 'k8s_user', 'payments/pods', 'success'],
      ['ResponseComplete', 'create certificatesigningrequests/approval', 'k8s_user', 'certificatesigningrequests/csr-7xk2p', 'success'],
      ['ResponseComplete', 'patch daemonsets', 'k8s_user', 'kube-system/daemonsets/aws-node', 'success'],
      ['ResponseComplete', 'update configmaps', 'k8s_user', 'kube-system/configmaps/aws-auth', 'success'],
      ['ResponseComplete', 'create pods/exec', 'k8s_user', 'payments/pods/api-7c9d8f6b5-x2k4q', 'success'],
      ['ResponseComplete', 'create secrets', 'k8s_user', 'payments/secrets/db-credentials', 'success'],
      ['ResponseComplete', 'create serviceaccounts/token', 'node', 'payments/serviceaccounts/api', 'success'],
      ['ResponseComplete', 'list secrets', 'anonymous', 'secrets', 'failure'],
      ['ResponseComplete', 'list secrets', 'service_account', 'payments/secrets', 'success'],
      ['ResponseComplete', 'get pods', 'node', 'payments/pods/api-7c9d8f6b5-x2k4q', 'success'],
      ['ResponseComplete', 'get /version', 'anonymous', null, 'success'],
    ]);
  });

  it('takes the event time, source, cluster and account', () => {
    const e = evs[0] as SeamEvent;
    expect(e['@timestamp']).toBe('2024-11-05T14:02:11.118Z');
    expect(e.seam).toMatchObject({ id: '2f0c6a4e-9b1d-4a57-8a5e-0c1d2e3f4a01:ResponseComplete', source: 'k8s_audit', cluster: 'prod-eks-01', region: 'us-west-2', account: '111122223333', source_ip: '203.0.113.24' });
    expect(e.seam.ingest).toMatchObject({ collector: 'file', received_at: meta.receivedAt, truncated: false, origin: 'fixture' });
    // Raw fields stay as the source wrote them.
    expect(e.verb).toBe('list');
    expect((e.objectRef as { resource: string }).resource).toBe('pods');
  });

  it('reads the IAM identity EKS puts in user.extra', () => {
    expect(evs[0]?.seam.principal).toEqual({
      id: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com',
      type: 'k8s_user',
      k8s_user: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com',
      k8s_groups: ['system:authenticated'],
      arn: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com',
      session: 'alice@example.com',
      access_key_id: 'ASIAEXAMPLEALICE0001',
    });
  });

  it('turns system:serviceaccount users into service accounts with their pod', () => {
    expect(evs[8]?.seam.principal).toMatchObject({ id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api', pod: 'payments/api-7c9d8f6b5-x2k4q' });
  });

  it('keeps the exec command in the raw requestURI', () => {
    expect(evs[4]?.requestURI).toContain('?command=sh&command=-c&command=curl');
  });

  it('keeps the aws-auth mapRoles (a ConfigMap is not a secret)', () => {
    const e = evs[3] as SeamEvent;
    expect(JSON.stringify(e.requestObject)).toContain('system:masters');
    expect(e.seam.ingest.redacted).toEqual([]);
  });
});

describe('CloudTrail', () => {
  const doc: unknown = JSON.parse(text('cloudtrail/s3-export.json'));
  const records = unwrapRecords(doc) ?? [];
  const evs = records.map((r) => must(normalizeRecord(r, { ...meta, cluster: undefined }, opts)));
  const byName = (n: string): SeamEvent => evs.find((e) => e.eventName === n) as SeamEvent;

  it('maps every record', () => {
    expect(evs.map((e) => [e.seam.id, e.seam.action, e.seam.principal?.type, e.seam.outcome])).toEqual([
      ['0f6c2a1e-5b7d-4e3f-9a8b-1c2d3e4f5a61', 'sts.amazonaws.com:AssumeRoleWithWebIdentity', 'service_account', 'success'],
      ['1a7d3b2f-6c8e-4f40-8b9c-2d3e4f5a6b72', 'sts.amazonaws.com:GetCallerIdentity', 'assumed_role', 'success'],
      ['2b8e4c30-7d9f-4051-9cad-3e4f5a6b7c83', 'secretsmanager.amazonaws.com:GetSecretValue', 'assumed_role', 'success'],
      ['3c9f5d41-8ea0-4162-adbe-4f5a6b7c8d94', 'iam.amazonaws.com:ListUsers', 'assumed_role', 'failure'],
      ['4da06e52-9fb1-4273-becf-5a6b7c8d9ea5', 'eks.amazonaws.com:CreateAccessEntry', 'assumed_role', 'success'],
      ['5eb17f63-a0c2-4384-8fd0-6b7c8d9eafb6', 'eks.amazonaws.com:AssociateAccessPolicy', 'assumed_role', 'success'],
      ['6fc28074-b1d3-4495-90e1-7c8d9eafb0c7', 'iam.amazonaws.com:AttachRolePolicy', 'iam_user', 'success'],
      ['70d39185-c2e4-45a6-a1f2-8d9eafb0c1d8', 'sts.amazonaws.com:AssumeRole', 'aws_service', 'success'],
    ]);
    for (const e of evs) expect(e.seam).toMatchObject({ source: 'cloudtrail', account: '111122223333' });
  });

  it('sees the IRSA web identity as the service account', () => {
    const e = byName('AssumeRoleWithWebIdentity');
    expect(e['@timestamp']).toBe('2024-11-05T14:09:12Z');
    expect(e.seam.principal).toMatchObject({ id: 'system:serviceaccount:payments:api', service_account: 'payments/api' });
    expect(e.seam.resource).toBe('arn:aws:iam::111122223333:role/payments-api-irsa');
    expect(e.seam.ingest.redacted).toEqual(['responseElements.credentials.sessionToken']);
    // The new access key stays visible: it is how later calls join back to the service account.
    expect((e.responseElements as { credentials: { accessKeyId: string } }).credentials.accessKeyId).toBe('ASIAEXAMPLEIRSA00001');
  });

  it('reads the assumed-role session and its key', () => {
    expect(byName('GetCallerIdentity').seam.principal).toEqual({
      id: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815740',
      type: 'assumed_role',
      arn: 'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815740',
      session: 'botocore-session-1730815740',
      access_key_id: 'ASIAEXAMPLEIRSA00001',
    });
  });

  it('takes the cluster from EKS request parameters, region from awsRegion', () => {
    const e = byName('AssociateAccessPolicy');
    expect(e.seam).toMatchObject({ cluster: 'prod-eks-01', region: 'us-west-2', source_ip: '203.0.113.24', resource: 'arn:aws:iam::111122223333:role/payments-api-irsa' });
    expect(byName('ListUsers').seam.region).toBe('us-east-1');
    expect(byName('AttachRolePolicy').seam.resource).toBe('payments-api-irsa');
  });

  it('names what a call acted on, the most specific parameter first: images, snapshots, databases, instances, groups, trails', () => {
    const ct = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>): SeamEvent =>
      must(
        normalizeRecord(
          { eventVersion: '1.09', eventTime: '2024-11-05T14:00:00Z', eventSource, eventName, awsRegion: 'us-west-2', sourceIPAddress: '203.0.113.24', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333' }, requestParameters, eventID: `id-${eventName}` },
          meta,
        ),
      );
    const share = { items: [{ userId: '222233334444' }, { userId: '555566667777' }] };
    expect(ct('ec2.amazonaws.com', 'ModifyImageAttribute', { imageId: 'ami-0f2fd936f37ffa9d9', launchPermission: { add: share }, attributeType: 'launchPermission' }).seam.resource).toBe('ami-0f2fd936f37ffa9d9');
    expect(ct('ec2.amazonaws.com', 'ModifySnapshotAttribute', { snapshotId: 'snap-0a1b2c3d4e5f67890', createVolumePermission: { add: share } }).seam.resource).toBe('snap-0a1b2c3d4e5f67890');
    // A snapshot taken of a database names the snapshot; deleting the database names the database.
    expect(ct('rds.amazonaws.com', 'CreateDBSnapshot', { dBSnapshotIdentifier: 'orders-final', dBInstanceIdentifier: 'orders' }).seam.resource).toBe('orders-final');
    expect(ct('rds.amazonaws.com', 'DeleteDBInstance', { dBInstanceIdentifier: 'orders', skipFinalSnapshot: true }).seam.resource).toBe('orders');
    expect(ct('rds.amazonaws.com', 'DeleteDBCluster', { dBClusterIdentifier: 'orders-aurora' }).seam.resource).toBe('orders-aurora');
    expect(ct('ec2.amazonaws.com', 'ModifyInstanceAttribute', { instanceId: 'i-0abc', groupSet: { items: [{ groupId: 'sg-1' }] } }).seam.resource).toBe('i-0abc');
    const ids = (n: number): { items: { instanceId: string }[] } => ({ items: Array.from({ length: n }, (_, i) => ({ instanceId: `i-0${i}` })) });
    expect(ct('ec2.amazonaws.com', 'StopInstances', { instancesSet: ids(2), force: false }).seam.resource).toBe('i-00,i-01');
    expect(ct('ec2.amazonaws.com', 'TerminateInstances', { instancesSet: ids(7) }).seam.resource).toBe('i-00,i-01,i-02,i-03,i-04 +2 more');
    expect(ct('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { groupId: 'sg-0123', ipPermissions: {} }).seam.resource).toBe('sg-0123');
    expect(ct('cloudtrail.amazonaws.com', 'PutEventSelectors', { trailName: 'org-trail', eventSelectors: [] }).seam.resource).toBe('org-trail');
    // --cluster (meta.cluster) is not an account-wide call's cluster (SOC review M9); an EKS API call names its own.
    expect(meta.cluster).toBe('prod-eks-01');
    expect(ct('ec2.amazonaws.com', 'ModifyImageAttribute', { imageId: 'ami-1' }).seam.cluster).toBeUndefined();
    expect(ct('rds.amazonaws.com', 'DeleteDBInstance', { dBInstanceIdentifier: 'orders' }).seam.cluster).toBeUndefined();
    expect(ct('eks.amazonaws.com', 'DescribeCluster', { name: 'staging-eks-01' }).seam.cluster).toBe('staging-eks-01');
    expect(ct('eks.amazonaws.com', 'ListClusters', {}).seam.cluster).toBeUndefined();
    expect(ct('eks-auth.amazonaws.com', 'AssumeRoleForPodIdentity', { clusterName: 'prod-eks-01', token: 'x' }).seam.cluster).toBe('prod-eks-01');
    // The role is still what an IAM call names first.
    expect(ct('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'payments-api-irsa', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }).seam.resource).toBe('payments-api-irsa');
  });

  it('does not take service names for source IPs', () => {
    expect(byName('AssumeRole').seam.source_ip).toBeUndefined();
    expect(byName('AssumeRole').seam.principal).toMatchObject({ id: 'eks.amazonaws.com', type: 'aws_service' });
  });

  it('normalizes the gzipped S3 object the same way', () => {
    const gz = gzipSync(Buffer.from(text('cloudtrail/s3-export.json')));
    const again = (unwrapRecords(JSON.parse(gunzipSync(gz).toString('utf8'))) ?? []).map((r) => must(normalizeRecord(r, meta)));
    expect(again.map((e) => e.seam.id)).toEqual(evs.map((e) => e.seam.id));
  });
});

describe('CloudTrail records cut down by other tools', () => {
  // Detection test suites and hand-written samples drop what their rule does not read.
  const login = { eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', eventTime: '2024-11-05T14:00:00Z', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' }, responseElements: { ConsoleLogin: 'Success' } };

  it('accepts a record without eventID, eventVersion, requestID or recipientAccountId, with a stable id from its content', () => {
    const a = must(normalizeRecord(login, meta, opts));
    expect(a.seam).toMatchObject({ source: 'cloudtrail', action: 'signin.amazonaws.com:ConsoleLogin', account: '111122223333', outcome: 'success' });
    expect(a.seam.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(must(normalizeRecord({ ...login }, meta)).seam.id).toBe(a.seam.id);
    expect(must(normalizeRecord({ ...login, eventTime: '2024-11-05T14:00:01Z' }, meta)).seam.id).not.toBe(a.seam.id);
  });

  it('takes a refused sign-in step (no errorCode, the step answered Failure) as a failure', () => {
    const failed = { ...login, responseElements: { ConsoleLogin: 'Failure' }, errorMessage: 'Failed authentication' };
    expect(must(normalizeRecord(failed, meta, opts)).seam.outcome).toBe('failure');
    const mfa = { ...login, eventName: 'CheckMfa', responseElements: { CheckMfa: 'Failure' } };
    expect(must(normalizeRecord(mfa, meta, opts)).seam.outcome).toBe('failure');
    expect(must(normalizeRecord({ ...mfa, responseElements: { CheckMfa: 'Success' } }, meta, opts)).seam.outcome).toBe('success');
    const idc = { ...login, eventName: 'CredentialVerification', responseElements: null, serviceEventDetails: { CredentialVerification: 'Failure' } };
    expect(must(normalizeRecord(idc, meta, opts)).seam.outcome).toBe('failure');
    expect(must(normalizeRecord({ ...idc, serviceEventDetails: { CredentialVerification: 'Success' } }, meta, opts)).seam.outcome).toBe('success');
  });

  it('reads a null or empty errorCode / errorMessage (data-lake exports, test suites) as a successful call', () => {
    const raw = { ...login, errorCode: '', errorMessage: null };
    const e = must(normalizeRecord(raw, meta, opts));
    expect(e.seam.outcome).toBe('success');
    expect(Object.keys(e)).not.toContain('errorCode');
    expect(Object.keys(e)).not.toContain('errorMessage');
    expect(raw.errorCode).toBe('');
    expect(must(normalizeRecord({ ...login, errorCode: 'AccessDenied', errorMessage: '' }, meta, opts)).seam.outcome).toBe('failure');
    const lower = { eventsource: 's3.amazonaws.com', eventname: 'DeleteBucket', eventtime: '2024-11-05 14:00:00', errorcode: '', useridentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' } };
    expect(must(normalizeRecord(lower, meta, opts)).seam.outcome).toBe('success');
  });

  it('accepts a service name as sourceIPAddress and a record with only eventSource and eventName', () => {
    const a = must(normalizeRecord({ ...login, sourceIPAddress: 'AWS Internal' }, meta, opts));
    expect(a.seam.source_ip).toBeUndefined();
    const bare = must(normalizeRecord({ eventSource: 'secretsmanager.amazonaws.com', eventName: 'BatchGetSecretValue', recipientAccountId: '111122223333' }, meta, opts));
    expect(bare.seam).toMatchObject({ action: 'secretsmanager.amazonaws.com:BatchGetSecretValue', account: '111122223333' });
  });

  it('takes p_event_time, else the receive time, when eventTime is absent, and marks a record with no time of its own; rejects one that is unreadable', () => {
    const { eventTime: _t, ...noTime } = login;
    const received = must(normalizeRecord(noTime, meta));
    expect(received['@timestamp']).toBe(meta.receivedAt);
    expect(received.seam.time_missing).toBe(true);
    const panther = must(normalizeRecord({ ...noTime, p_event_time: '2024-11-05 13:59:58.000000000' }, meta));
    expect(panther['@timestamp']).toBe('2024-11-05T13:59:58.000Z');
    expect(panther.seam.time_missing).toBeUndefined();
    expect(must(normalizeRecord(login, meta)).seam.time_missing).toBeUndefined();
    // An unreadable stand-in is no time either.
    expect(must(normalizeRecord({ ...noTime, p_event_time: 'soon' }, meta)).seam.time_missing).toBe(true);
    const bad = normalizeRecord({ ...login, eventTime: 'redacted' }, meta);
    expect(!bad.ok && bad.error.code).toBe('SEAM_ERR_NORMALIZE_TIMESTAMP');
  });

  it("takes Logstash's @timestamp when its cloudtrail codec moved eventTime there", () => {
    const { eventTime: _t, ...noTime } = login;
    const viaLogstash = { ...noTime, '@timestamp': '2020-09-14T01:05:12.000Z', '@version': '1' };
    expect(must(normalizeRecord(viaLogstash, meta))['@timestamp']).toBe('2020-09-14T01:05:12.000Z');
    // eventTime, when the record still has it, is the event's own time.
    expect(must(normalizeRecord({ ...login, '@timestamp': '2020-09-14T01:05:12.000Z' }, meta))['@timestamp']).toBe(must(normalizeRecord(login, meta))['@timestamp']);
  });

  it('restores CloudTrail names on lower-cased keys (data-lake exports)', () => {
    const raw = { eventsource: 'iam.amazonaws.com', eventname: 'GetAccountPasswordPolicy', eventtime: '2023-01-10 23:10:06', awsregion: 'us-east-1', useridentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', sessioncontext: { attributes: { mfaauthenticated: 'false' } } }, additionaleventdata: { mfaused: 'No' } };
    const e = must(normalizeRecord(raw, meta, opts));
    expect(e).toMatchObject({ eventSource: 'iam.amazonaws.com', eventName: 'GetAccountPasswordPolicy', awsRegion: 'us-east-1', additionalEventData: { MFAUsed: 'No' }, userIdentity: { sessionContext: { attributes: { mfaAuthenticated: 'false' } } } });
    expect(e['@timestamp']).toBe('2023-01-10T23:10:06.000Z');
    expect(e.seam.principal).toMatchObject({ id: 'arn:aws:iam::111122223333:user/bob', type: 'iam_user' });
    expect(raw.eventsource).toBe('iam.amazonaws.com');
    expect(Object.keys(raw)).not.toContain('eventSource');
  });
});

describe('CloudTrail records delivered by EventBridge', () => {
  // What an EventBridge rule on CloudTrail (and a target such as Firehose, SQS or a Lambda) hands on.
  const records = unwrapRecords(JSON.parse(text('cloudtrail/s3-export.json'))) ?? [];
  const wrap = (d: Record<string, unknown>, detailType = 'AWS API Call via CloudTrail'): Record<string, unknown> => ({
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': detailType,
    source: 'aws.iam',
    account: '111122223333',
    time: '2024-11-05T14:12:40Z',
    region: 'us-east-1',
    resources: [],
    detail: d,
  });

  it('gives every record the same event as the bare record, the envelope kept under eventBridge', () => {
    for (const r of records) {
      const bare = must(normalizeRecord(r, meta, opts));
      const line = JSON.stringify(wrap(r as Record<string, unknown>));
      for (const e of [must(normalizeLine(line, meta, opts)), must(normalizeRecord(JSON.parse(line), meta, opts))]) {
        const { format, ...view } = e.seam;
        expect(format).toBe('eventbridge');
        expect(view).toEqual(bare.seam);
        expect(e.detail).toBeUndefined();
        expect(e.eventName).toBe(bare.eventName);
        expect(e.eventBridge).toMatchObject({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.iam', id: '7bf73129-1428-4cd3-a780-95db273d1602' });
      }
    }
  });

  it('reads console sign-ins and fills what a trimmed detail lacks from the envelope, without changing the input', () => {
    const detail = { eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' }, responseElements: { ConsoleLogin: 'Failure' }, errorMessage: 'Failed authentication' };
    const raw = wrap(detail, 'AWS Console Sign In via CloudTrail');
    const e = must(normalizeRecord(raw, { ...meta, region: undefined }, opts));
    expect(e['@timestamp']).toBe('2024-11-05T14:12:40Z');
    expect(e).toMatchObject({ eventTime: '2024-11-05T14:12:40Z', awsRegion: 'us-east-1', recipientAccountId: '111122223333' });
    expect(e.seam).toMatchObject({ source: 'cloudtrail', format: 'eventbridge', action: 'signin.amazonaws.com:ConsoleLogin', account: '111122223333', region: 'us-east-1', outcome: 'failure' });
    expect(Object.keys(detail)).toEqual(['eventSource', 'eventName', 'userIdentity', 'responseElements', 'errorMessage']);
    expect(raw.detail).toBe(detail);
  });

  it('reads a CloudTrail record of a GuardDuty call, which EventBridge sends with source aws.guardduty like a finding', () => {
    const detail = { eventSource: 'guardduty.amazonaws.com', eventName: 'DeleteDetector', eventTime: '2024-11-05T14:12:40Z', eventID: 'gd-delete-1', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' }, requestParameters: { detectorId: 'd1' } };
    const e = must(normalizeRecord({ ...wrap(detail), source: 'aws.guardduty' }, meta, opts));
    expect(e.seam).toMatchObject({ source: 'cloudtrail', format: 'eventbridge', action: 'guardduty.amazonaws.com:DeleteDetector' });
  });

  it('gives a record without eventID the same content id bare and wrapped', () => {
    const { eventID: _id, ...noId } = records[1] as Record<string, unknown>;
    expect(must(normalizeRecord(wrap(noId), meta, opts)).seam.id).toBe(must(normalizeRecord(noId, meta, opts)).seam.id);
  });

  it('refuses an EventBridge event whose detail is not a CloudTrail record', () => {
    const r = normalizeRecord(wrap({ state: 'running', 'instance-id': 'i-0abc' }, 'EC2 Instance State-change Notification'), meta);
    expect(!r.ok && r.error.code).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    expect(!r.ok && r.error.message).toContain('EventBridge');
  });
});

describe('GuardDuty', () => {
  const sdk = (unwrapRecords(JSON.parse(text('guardduty/get-findings-sdk.json'))) ?? []).map((r) => must(normalizeRecord(r, { ...meta, cluster: undefined }, opts)));
  const eb = must(normalizeLine(text('guardduty/eventbridge-finding.json'), meta, opts));
  const rest = must(normalizeLine(lines('guardduty/findings-rest.jsonl')[0] as string, meta, opts));

  it('maps SDK (PascalCase) findings', () => {
    expect(sdk.map((e) => [e.seam.action, e.seam.principal?.type, e.seam.resource, e.seam.source_ip, e.seam.outcome])).toEqual([
      ['PrivilegeEscalation:Kubernetes/PrivilegedContainer', 'k8s_user', 'payments/pods/debug-tools', '198.51.100.77', 'success'],
      ['Execution:Kubernetes/ExecInKubeSystemPod', 'k8s_user', 'kube-system/pods/coredns-5d8d8b9c7f-9qk2m', '203.0.113.24', 'success'],
      ['Policy:Kubernetes/AdminAccessToDefaultServiceAccount', 'k8s_user', 'clusterrolebindings/payments-default-admin', '198.51.100.77', 'success'],
      ['Discovery:Kubernetes/SuccessfulAnonymousAccess', 'anonymous', 'kube-system/configmaps', '192.0.2.201', 'success'],
    ]);
    const e = sdk[1] as SeamEvent;
    expect(e['@timestamp']).toBe('2024-11-05T14:31:02.377Z');
    expect(e.seam).toMatchObject({ id: 'b5d0c4a3f2e14f6a87c8d9e0f1a2b3c4:2024-11-05T14:31:02.377Z', source: 'guardduty', format: 'sdk', account: '111122223333', region: 'us-west-2', cluster: 'prod-eks-01' });
    expect(e.seam.principal).toMatchObject({ session: 'alice@example.com', k8s_user: 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com' });
  });

  it('maps the EventBridge envelope (camelCase) to the same seam view and id', () => {
    expect(eb.seam.format).toBe('eventbridge');
    // Rules see one shape: the finding at the top level, the envelope kept under eventBridge.
    expect((eb.eventBridge as Record<string, unknown>)['detail-type']).toBe('GuardDuty Finding');
    expect(eb.detail).toBeUndefined();
    const { format: _a, ingest: _b, ...ebView } = eb.seam;
    const { format: _c, ingest: _d, ...sdkView } = (sdk[1] as SeamEvent).seam;
    expect(ebView).toEqual(sdkView);
  });

  it('gives rules the same camelCase finding whichever shape it came in', () => {
    const s = sdk[1] as SeamEvent;
    expect(s.type).toBe(eb.type);
    expect(s.Type).toBeUndefined();
    expect((s.resource as { resourceType?: string }).resourceType).toBe((eb.resource as { resourceType?: string }).resourceType);
    expect(s.id).toBe(eb.id);
  });

  it('maps the REST (camelCase) shape', () => {
    expect(rest.seam).toMatchObject({ format: 'api', id: 'd7f2e6c5b4a3418ca9e0f1a2b3c4d5e6:2024-11-05T14:28:33.090Z', source_ip: '192.0.2.201', action: 'Discovery:Kubernetes/SuccessfulAnonymousAccess' });
  });
});

describe('runtime', () => {
  const falco = lines('runtime/falco.jsonl').map((l) => must(normalizeLine(l, meta, opts)));
  const native = lines('runtime/native.jsonl').map((l) => must(normalizeLine(l, meta, opts)));

  it('maps Falco alerts', () => {
    expect(falco.map((e) => [e.seam.id, e.seam.action, e.seam.resource, e['@timestamp']])).toEqual([
      ['3c2b1a09-8f7e-4d6c-b5a4-93827160f5e4', 'Terminal shell in container', '/bin/sh', '2024-11-05T14:09:05.331Z'],
      ['4d3c2b1a-9081-4e7d-86c5-a4b3c2d1e0f9', 'Read sensitive file untrusted', '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', '2024-11-05T14:09:07.902Z'],
      ['5e4d3c2b-a192-4f8e-97d6-b5c4d3e2f1a0', 'Contact K8S API Server From Container', '10.0.142.21:48122->172.20.0.1:443', '2024-11-05T14:09:20.117Z'],
    ]);
    expect(falco[0]?.seam).toMatchObject({ source: 'runtime', format: 'falco', cluster: 'prod-eks-01', principal: { type: 'unknown', pod: 'payments/api-7c9d8f6b5-x2k4q' } });
  });

  it('maps native sidecar events of each kind', () => {
    expect(native.map((e) => [e.seam.action, e.seam.resource])).toEqual([
      ['process', '/bin/sh'],
      ['network', '169.254.170.23:80'],
      ['file', '/var/run/secrets/eks.amazonaws.com/serviceaccount/token'],
      ['dns', 'sts.us-west-2.amazonaws.com'],
      ['process', '/usr/bin/curl'],
    ]);
    expect(native[1]?.seam).toMatchObject({
      id: '01JBX3K9R1N3U8W9X6A7B2C3D4',
      format: 'native',
      account: '111122223333',
      source_ip: '10.0.142.21',
      principal: { id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api', pod: 'payments/api-7c9d8f6b5-x2k4q' },
    });
  });
});

describe('CloudWatch Logs exports', () => {
  const audit = lines('k8s-audit/eks-audit.jsonl').map((l) => must(normalizeLine(l, meta)));

  it('strips the "<timestamp> " prefix of S3 export lines', () => {
    const evs = lines('cloudwatch-export/kube-apiserver-audit-000000.txt').map((l) => must(normalizeLine(l, meta)));
    expect(evs.map((e) => e.seam.id)).toEqual(audit.slice(0, 4).map((e) => e.seam.id));
  });

  it('unwraps filter-log-events messages and keeps the stream as origin', () => {
    const events = unwrapRecords(JSON.parse(text('cloudwatch-export/filter-log-events.json'))) ?? [];
    const evs = events.map((e) => must(normalizeRecord(e, { collector: 'cloudwatch-logs', receivedAt: meta.receivedAt })));
    expect(evs.map((e) => e.seam.id)).toEqual(audit.slice(4, 8).map((e) => e.seam.id));
    expect(evs[0]?.seam.ingest.origin).toBe('kube-apiserver-audit-5d3a1f0e8c7b6a594837261504f3e2d1');
  });
});

describe('SIEM exports (the original record kept inside)', () => {
  const ct = (unwrapRecords(JSON.parse(text('cloudtrail/s3-export.json'))) ?? [])[6] as Record<string, unknown>;
  const rawText = JSON.stringify(ct);
  const audit = lines('k8s-audit/eks-audit.jsonl')[0] as string;
  const direct = must(normalizeLine(rawText, meta));
  const directAudit = must(normalizeLine(audit, meta));
  const same = (e: SeamEvent, d: SeamEvent): void => {
    expect([e.seam.id, e.seam.source, e.seam.action, e['@timestamp']]).toEqual([d.seam.id, d.seam.source, d.seam.action, d['@timestamp']]);
  };

  it('reads Splunk events (_raw, also under a search export\'s result) and Sumo Logic messages (map._raw)', () => {
    same(must(normalizeLine(JSON.stringify({ _raw: rawText, sourcetype: 'aws:cloudtrail', _time: '2024-11-05T14:09:12Z' }), meta)), direct);
    same(must(normalizeLine(JSON.stringify({ preview: false, result: { _raw: audit, sourcetype: 'aws:eks', host: 'x' } }), meta)), directAudit);
    // Sumo Logic's Search Job API message.
    same(must(normalizeLine(JSON.stringify({ map: { _raw: rawText, _messagetime: '1730815752000', _sourcecategory: 'aws/cloudtrail' } }), meta)), direct);
  });

  it('reads ECS documents with event.original (nested or flattened) and Elasticsearch / OpenSearch hits', () => {
    const ecs = { '@timestamp': '2024-11-05T14:09:12Z', event: { original: rawText, dataset: 'aws.cloudtrail' }, aws: { cloudtrail: { event_version: '1.08' } } };
    same(must(normalizeLine(JSON.stringify(ecs), meta)), direct);
    same(must(normalizeLine(JSON.stringify({ 'event.original': rawText, 'event.dataset': 'aws.cloudtrail' }), meta)), direct);
    same(must(normalizeRecord({ _index: 'logs-aws.cloudtrail-default', _id: 'a1', _source: ecs }, meta)), direct);
    same(must(normalizeLine(JSON.stringify({ _index: 'audit', _id: 'b2', _source: JSON.parse(audit) }), meta)), directAudit);
  });

  it('reads CloudWatch Logs Insights results: @message holding the record (console JSON download, get-query-results row)', () => {
    same(must(normalizeLine(JSON.stringify({ '@timestamp': '2024-11-05 14:09:12.000', '@message': audit }), meta)), directAudit);
    same(must(normalizeLine(JSON.stringify({ '@timestamp': '2024-11-05 14:09:12.000', '@logStream': 'x', '@message': rawText }), meta)), direct);
    // A plain-text @message (an authenticator line) is no record Seam reads.
    expect(() => must(normalizeLine(JSON.stringify({ '@timestamp': '2024-11-05 14:09:12.000', '@message': 'time="2024" level=info msg="access granted"' }), meta))).toThrow();
  });

  it('prefers the original to the SIEM\'s own field extractions beside it', () => {
    const extracted = { _raw: rawText, sourcetype: 'aws:cloudtrail', eventSource: ct.eventSource, eventName: ct.eventName, 'userIdentity.arn': 'x' };
    const e = must(normalizeLine(JSON.stringify(extracted), meta));
    same(e, direct);
    expect(e.userIdentity).toEqual(ct.userIdentity);
    expect(e._raw).toBeUndefined();
  });

  it('still redacts what the original holds, and says what is wrong inside the export', () => {
    const withKey = { ...ct, responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLEKEY', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLE' } } };
    const e = must(normalizeLine(JSON.stringify({ _raw: JSON.stringify(withKey) }), meta));
    expect(JSON.stringify(e)).not.toContain('wJalrXUtnFEMI');
    const bad = normalizeLine(JSON.stringify({ _raw: '{"eventName": "StopLogging", "eventTime": "2024-11-05T14:09:12Z"' }), meta);
    expect(!bad.ok && bad.error.code).toBe('SEAM_ERR_INPUT_TRUNCATED');
    expect(!bad.ok && bad.error.details.wrapper).toBe('siem_export');
    const syslog = normalizeLine(JSON.stringify({ _raw: 'Nov  5 14:09:12 host sshd[1]: Accepted publickey', sourcetype: 'syslog' }), meta);
    expect(!syslog.ok && syslog.error.code).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    expect(!syslog.ok && syslog.error.details.keys).toEqual(['_raw', 'sourcetype']);
  });
});

describe('jsonDepthExceeds', () => {
  const nest = (n: number, open: string, close: string): string => open.repeat(n) + close.repeat(n);
  it('refuses nesting past the limit, of objects, arrays or both', () => {
    expect(jsonDepthExceeds(nest(4, '[', ']'), 4)).toBe(false);
    expect(jsonDepthExceeds(nest(5, '[', ']'), 4)).toBe(true);
    expect(jsonDepthExceeds('{"a":'.repeat(5) + '1' + '}'.repeat(5), 4)).toBe(true);
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[{"c":1}]}]}', 4)).toBe(true);
  });
  it('counts brackets inside strings as text: many of them, shallow record', () => {
    expect(jsonDepthExceeds(`{"a":"${'[{'.repeat(50)}","b":[1,2,{"c":"]]]"}]}`, 4)).toBe(false);
    // Many brackets side by side are not depth either.
    expect(jsonDepthExceeds(`[${Array.from({ length: 50 }, () => '{"x":[1]}').join(',')}]`, 4)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"\\"[[[[[[","b":${nest(5, '[', ']')}}`, 5)).toBe(true);
  });
});
