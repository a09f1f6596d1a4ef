import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { CONTROL_MESSAGE, documentOf, logEventOf, SUBSCRIPTION_OWNER, subscriptionOf } from '../../../test/helpers/batches.ts';
import type { RawMeta } from '../envelope.ts';
import { BatchCounts, batchOrigin, elementMeta, isCloudTrailDigest, mayBeBatch, splitBatch } from './batch.ts';
import { inflateMessage, isGzip } from './inflate.ts';
import { normalizeLine, unwrapRecords } from './normalize.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');
const text = (p: string): string => readFileSync(join(FIXTURES, p), 'utf8');
const lines = (p: string): string[] => text(p).split('\n').filter((l) => l.length > 0);
const meta: RawMeta = { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', origin: 'in.jsonl:7' };

const audit = lines('k8s-audit/eks-audit.jsonl');
const cloudtrail = (unwrapRecords(JSON.parse(text('cloudtrail/s3-export.json'))) ?? []).map((r) => JSON.stringify(r));

/** What normalization makes of each text: the event's id, or the error code. */
const outcome = (texts: string[]): string[] =>
  texts.map((t) => {
    const r = normalizeLine(t, meta);
    return r.ok ? r.value.seam.id : r.error.code;
  });

describe('batch documents read as one record (ADR 0038)', () => {
  it('cuts an audit EventList and a CloudTrail file into their records, whose ids are the bare records\' ids', () => {
    const list = splitBatch(documentOf('k8s_audit', audit));
    expect(list?.shape).toBe('k8s_audit');
    expect(list?.records.map((r) => r.text)).toEqual(audit);
    expect(list?.records.map((r) => r.index)).toEqual(audit.map((_, i) => i));
    expect(outcome(list!.records.map((r) => r.text))).toEqual(outcome(audit));

    const file = splitBatch(documentOf('cloudtrail', cloudtrail));
    expect(file?.shape).toBe('cloudtrail');
    expect(new Set(outcome(file!.records.map((r) => r.text)))).toEqual(new Set(outcome(cloudtrail)));
    expect(outcome(cloudtrail).every((id) => !id.startsWith('SEAM_ERR'))).toBe(true);
  });

  it('gives a record without eventID (a content id) the same id in a batch as alone', () => {
    const bare = JSON.stringify({ eventVersion: '1.09', eventTime: '2024-11-05T14:00:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', recipientAccountId: '111122223333', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob' } });
    const [alone] = outcome([bare]);
    expect(alone).toMatch(/^sha256:/);
    for (const doc of [`{"Records":[${bare}]}`, `{ "Records" : [\n  ${bare}\n] }`, documentOf('cloudtrail', [bare], 2)]) {
      expect(outcome(splitBatch(doc)!.records.map((r) => r.text))).toEqual([alone]);
    }
  });

  it('reads EventLists in any key order, pretty-printed, after a byte-order mark or blanks', () => {
    for (const v of [0, 1, 2]) expect(splitBatch(documentOf('k8s_audit', audit.slice(0, 3), v))?.records.map((r) => r.text)).toEqual(audit.slice(0, 3));
    expect(splitBatch(`\ufeff  ${documentOf('k8s_audit', audit.slice(0, 2))}\r`)?.records).toHaveLength(2);
    const sorted = JSON.stringify({ apiVersion: 'audit.k8s.io/v1beta1', items: [JSON.parse(audit[0]!)], kind: 'EventList', metadata: { resourceVersion: '1' } });
    expect(splitBatch(sorted)?.shape).toBe('k8s_audit');
  });

  it('keeps every element, good or bad: each normalizes (or fails) alone', () => {
    const bad = ['{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get"}', '42', '"text"', 'null', '{"a":tru}', '[1,2]'];
    const doc = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${audit[0]},${bad.join(',')},${audit[1]}]}`;
    const b = splitBatch(doc)!;
    expect(b.records.map((r) => r.text)).toEqual([audit[0], ...bad, audit[1]]);
    expect(outcome(b.records.map((r) => r.text))).toEqual([
      ...outcome([audit[0]!]),
      'SEAM_ERR_NORMALIZE_SCHEMA',
      'SEAM_ERR_INPUT_NOT_OBJECT',
      'SEAM_ERR_INPUT_NOT_OBJECT',
      'SEAM_ERR_INPUT_NOT_OBJECT',
      'SEAM_ERR_INPUT_JSON',
      'SEAM_ERR_INPUT_NOT_OBJECT',
      ...outcome([audit[1]!]),
    ]);
    // An element nested past normalize's depth limit is refused alone; the batch itself may be deeper than one record.
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    const d = splitBatch(`{"Records":[${cloudtrail[0]},{"eventSource":"s3.amazonaws.com","eventName":"PutObject","x":${deep}}]}`)!;
    expect(outcome(d.records.map((r) => r.text))).toEqual([...outcome([cloudtrail[0]!]), 'SEAM_ERR_INPUT_DEPTH']);
    expect(batchOrigin('in.jsonl:7', 3)).toBe('in.jsonl:7#3');
  });

  it('hands a CloudTrail file\'s records on oldest first (as the file source does with a whole file), keeping their positions', () => {
    const at = (id: string, t: string): string => JSON.stringify({ eventTime: t, eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', eventID: id });
    const b = splitBatch(`{"Records":[${at('c', '2024-11-05T14:03:00Z')},${at('a', '2024-11-05T14:01:00Z')},${at('b', '2024-11-05T14:02:00Z')}]}`)!;
    expect(b.records.map((r) => [(JSON.parse(r.text) as { eventID: string }).eventID, r.index])).toEqual([['a', 1], ['b', 2], ['c', 0]]);
    // An EventList stays in the order the API server wrote it.
    const list = splitBatch(documentOf('k8s_audit', [audit[3]!, audit[0]!]))!;
    expect(list.records.map((r) => r.index)).toEqual([0, 1]);
  });

  it('recognises a CloudTrail digest file, in CloudTrail\'s key order or sorted, as a document of no record; not a look-alike', () => {
    // The fields of AWS's digest file structure (values made up here).
    const digest = {
      awsAccountId: '111122223333',
      digestStartTime: '2024-11-05T13:00:00Z',
      digestEndTime: '2024-11-05T14:00:00Z',
      digestS3Bucket: 'trail-bucket',
      digestS3Object: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/11/05/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20241105T140000Z.json.gz',
      digestPublicKeyFingerprint: '0123456789abcdef0123456789abcdef',
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: '2024-11-05T13:58:00Z',
      oldestEventTime: '2024-11-05T13:01:00Z',
      previousDigestS3Bucket: null,
      previousDigestS3Object: null,
      previousDigestHashValue: null,
      previousDigestHashAlgorithm: null,
      previousDigestSignature: null,
      logFiles: [{ s3Bucket: 'trail-bucket', s3Object: 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/11/05/a.json.gz', hashValue: 'ab', hashAlgorithm: 'SHA-256', newestEventTime: '2024-11-05T13:58:00Z', oldestEventTime: '2024-11-05T13:01:00Z' }],
    };
    const sorted = Object.fromEntries(Object.entries(digest).sort(([a], [b]) => a.localeCompare(b)));
    const counts = new BatchCounts();
    for (const text of [JSON.stringify(digest), JSON.stringify(sorted), JSON.stringify({ ...digest, logFiles: [] }, null, 2)]) {
      expect(mayBeBatch(text)).toBe(true);
      const b = splitBatch(text);
      expect(b).toEqual({ shape: 'cloudtrail_digest', records: [] });
      expect(isCloudTrailDigest(text.slice(0, 512))).toBe(true);
      counts.add(b!);
    }
    expect(counts.snapshot().documents.cloudtrail_digest).toBe(3);
    expect(counts.snapshot().empty.cloudtrail_digest).toBe(0);
    // An account id alone, or a digest's times without it, is something else: normalized (and dead-lettered) as a record.
    for (const text of ['{"awsAccountId":"111122223333","eventName":"x"}', JSON.stringify({ digestStartTime: digest.digestStartTime, digestEndTime: digest.digestEndTime })]) {
      expect(splitBatch(text)).toBeUndefined();
      expect(isCloudTrailDigest(text)).toBe(false);
    }
  });

  it('counts empty documents as batches of nothing', () => {
    const counts = new BatchCounts();
    for (const doc of ['{"Records":[]}', '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[ ]}', documentOf('cloudtrail', cloudtrail.slice(0, 2))]) counts.add(splitBatch(doc)!);
    expect(counts.snapshot()).toEqual({
      documents: { cloudtrail: 2, k8s_audit: 1, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      records: { cloudtrail: 2, k8s_audit: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      empty: { cloudtrail: 1, k8s_audit: 1, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      skipped: { cloudtrail: 0, k8s_audit: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 },
    });
  });

  it('leaves alone what is not a CloudTrail file or an audit EventList', () => {
    const not = [
      // Another service's Records beside other keys (its elements are not CloudTrail records).
      '{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"x"}}],"note":"forwarded"}',
      // A core/v1 EventList (Kubernetes Events, not audit events).
      '{"kind":"EventList","apiVersion":"v1","items":[{"kind":"Event","reason":"BackOff"}]}',
      // An audit EventList without its items array, or with items that are not an array.
      '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{}}',
      '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":{}}',
      '{"Records":{"a":1}}',
      // Cut short, or not well formed: normalization dead-letters it whole with its reason.
      `{"Records":[${cloudtrail[0]},${cloudtrail[1]!.slice(0, 40)}`,
      '{"Records":[1,,2]}',
      '{"Records":[1] x}',
      '{"Rec\\u006frds":[1]}',
      '[{"Records":[]}]',
      // A Lambda trigger payload (S3 notifications): its elements name an aws: source, not a service endpoint.
      '{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-12-04T10:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AIDAEXAMPLE"},"s3":{"bucket":{"name":"b"}}}]}',
      // The same array twice: not cut (which copy counts is not Seam's to pick).
      `{"Records":[${cloudtrail[0]}],"Records":[${cloudtrail[1]}]}`,
    ];
    for (const t of not) expect(splitBatch(t), t).toBeUndefined();
    // A document over the size limit is not cut: normalization refuses it whole, as any record.
    const doc = documentOf('k8s_audit', audit);
    expect(splitBatch(doc, doc.length - 1)).toBeUndefined();
    expect(normalizeLine(doc, meta, { maxRecordBytes: doc.length - 1 }).ok).toBe(false);
    expect(splitBatch(doc, doc.length)).toBeDefined();
  });

  it('takes no ordinary record for a batch, deciding from its first key', () => {
    let n = 0;
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.jsonl')) {
          for (const l of readFileSync(p, 'utf8').split('\n').filter((x) => x.length > 0)) {
            n++;
            expect(splitBatch(l), l.slice(0, 80)).toBeUndefined();
          }
        }
      }
    };
    walk(FIXTURES);
    walk(join(FIXTURES, '../../deploy/demo'));
    expect(n).toBeGreaterThan(500);
    // Decided from the first key: an audit Event, a CloudTrail record, GuardDuty and runtime records.
    for (const l of [audit[0]!, cloudtrail[0]!, ...lines('runtime/falco.jsonl'), ...lines('runtime/native.jsonl'), ...lines('guardduty/findings-rest.jsonl')]) expect(mayBeBatch(l)).toBe(false);
    // Keys in another order need a search of the text, and an audit Event with sorted keys is still not a batch.
    const sortedEvent = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(audit[0]!) as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))));
    expect(sortedEvent.startsWith('{"annotations"') || sortedEvent.startsWith('{"apiVersion"')).toBe(true);
    expect(splitBatch(sortedEvent)).toBeUndefined();
  });
});

describe('CloudWatch Logs subscription payloads (ADR 0039)', () => {
  const events = audit.slice(0, 3).map((m, i) => logEventOf(i, m));
  const rawMeta: RawMeta = { collector: 'unknown', receivedAt: '2024-11-05T15:00:00.000Z' };

  it('cuts a DATA_MESSAGE into its log events, whose records get the ids of the bare records and the payload\'s account and cluster', () => {
    for (const v of [0, 1]) {
      for (const pretty of [false, true]) {
        const doc = subscriptionOf('/aws/eks/prod/cluster', 'kube-apiserver-audit-0a1b', events, v, pretty);
        expect(mayBeBatch(doc)).toBe(true);
        const b = splitBatch(doc)!;
        expect(b.shape).toBe('cloudwatch_logs');
        expect(b.from).toEqual({ logGroup: '/aws/eks/prod/cluster', logStream: 'kube-apiserver-audit-0a1b', account: SUBSCRIPTION_OWNER, cluster: 'prod' });
        expect(b.records.map((r) => r.text)).toEqual(events);
        expect(b.records.map((r) => r.id)).toEqual(events.map((e) => (JSON.parse(e) as { id: string }).id));
        const evs = b.records.map((r) => normalizeLine(r.text, elementMeta(rawMeta, 'topic/0@5', b, r)));
        expect(evs.map((e) => (e.ok ? e.value.seam.id : e.error.code))).toEqual(outcome(audit.slice(0, 3)));
        for (const e of evs) {
          if (!e.ok) throw e.error;
          expect(e.value.seam.cluster).toBe('prod');
          expect(e.value.seam.account).toBe(SUBSCRIPTION_OWNER);
          expect(e.value.seam.ingest.origin).toMatch(/^\/aws\/eks\/prod\/cluster\/kube-apiserver-audit-0a1b#\d+$/);
        }
      }
    }
  });

  it('keeps the account and cluster the record already has (a configured or collector-given value wins)', () => {
    const b = splitBatch(subscriptionOf('/aws/eks/prod/cluster', 'kube-apiserver-audit-0', events))!;
    const m = elementMeta({ ...rawMeta, cluster: 'configured', account: '111122223333' }, 'o', b, b.records[0]!);
    expect([m.cluster, m.account]).toEqual(['configured', '111122223333']);
    // Without an event id, the element is named by the message's origin and its position.
    const noId = splitBatch(subscriptionOf('cloudtrail-logs', 's', [JSON.stringify({ timestamp: 1, message: cloudtrail[0] })]))!;
    expect(elementMeta(rawMeta, 'topic/0@5', noId, noId.records[0]!).origin).toBe(batchOrigin('topic/0@5', 0));
    expect(noId.from?.cluster).toBeUndefined();
  });

  it('skips and counts the log events of an EKS group\'s other streams; a control message is an empty batch', () => {
    const counts = new BatchCounts();
    const auth = splitBatch(subscriptionOf('/aws/eks/prod/cluster', 'authenticator-0a1b', [logEventOf(9, 'time="x" level=info msg="access granted"'), logEventOf(10, 'y')]))!;
    expect(auth.records).toEqual([]);
    expect(auth.skipped).toBe(2);
    const control = splitBatch(CONTROL_MESSAGE)!;
    expect(control.records).toEqual([]);
    counts.add(auth);
    counts.add(control);
    // A CloudTrail log group's payload: every stream is read.
    counts.add(splitBatch(subscriptionOf('aws-cloudtrail-logs-444455556666', '444455556666_CloudTrail_us-east-1', cloudtrail.slice(0, 2).map((m, i) => logEventOf(i, m))))!);
    const s = counts.snapshot();
    expect([s.documents.cloudwatch_logs, s.records.cloudwatch_logs, s.empty.cloudwatch_logs, s.skipped.cloudwatch_logs]).toEqual([3, 2, 1, 2]);
  });

  it('leaves alone what is not a subscription payload', () => {
    for (const t of [
      '{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s"}',
      '{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":{}}',
      '{"messageType":"OTHER","logGroup":"g","logStream":"s","logEvents":[]}',
      '{"messageType":"DATA_MESSAGE","logGroup":1,"logStream":"s","logEvents":[]}',
      '{"message":"x","timestamp":1}',
    ])
      expect(splitBatch(t), t).toBeUndefined();
    // A foreign owner value is not taken for an account.
    expect(splitBatch('{"messageType":"DATA_MESSAGE","owner":"CloudwatchLogs","logGroup":"g","logStream":"s","logEvents":[]}')!.from?.account).toBeUndefined();
  });

  it('inflates a gzip-compressed message within its limit, and says why when it cannot', () => {
    const doc = subscriptionOf('/aws/eks/prod/cluster', 'kube-apiserver-audit-0', events);
    const z = gzipSync(doc);
    expect(isGzip(z)).toBe(true);
    expect(isGzip(Buffer.from(doc))).toBe(false);
    expect(inflateMessage(z, doc.length)).toEqual({ ok: true, text: doc });
    const big = inflateMessage(z, doc.length - 1);
    expect(big.ok ? '' : `${big.error.code} ${big.error.message}`).toMatch(/^SEAM_ERR_INPUT_OVERSIZED gzip-compressed message of \d+ bytes inflates past/);
    // A compression bomb stops at the limit.
    const bomb = inflateMessage(gzipSync(Buffer.alloc(64 << 20)), 1 << 20);
    expect(bomb.ok ? '' : bomb.error.code).toBe('SEAM_ERR_INPUT_OVERSIZED');
    const cut = inflateMessage(z.subarray(0, z.length - 10), 1 << 20);
    expect(cut.ok ? '' : cut.error.code).toBe('SEAM_ERR_INPUT_TRUNCATED');
    const bad = Buffer.from(z);
    bad[12] = bad[12]! ^ 0xff;
    bad[13] = bad[13]! ^ 0xff;
    const r = inflateMessage(bad, 1 << 20);
    expect(r.ok ? '' : r.error.code).toMatch(/^SEAM_ERR_INPUT_(COMPRESSION|TRUNCATED)$/);
  });
});
