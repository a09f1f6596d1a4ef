import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawMeta } from '../envelope.ts';
import { detectFormat } from './detect.ts';
import { normalizeLine, normalizeRecord } from './normalize.ts';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const text = (p: string): string => readFileSync(new URL(p, FIXTURES), 'utf8');
const lines = (p: string): string[] => text(p).split('\n').filter((l) => l.length > 0);
const meta: RawMeta = { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', origin: 'bad.jsonl:1' };

function code(r: ReturnType<typeof normalizeLine>): string {
  return r.ok ? 'ok' : r.error.code;
}

describe('bad input', () => {
  it('rejects malformed JSON', () => {
    expect(lines('bad/malformed.jsonl').map((l) => code(normalizeLine(l, meta)))).toEqual(['SEAM_ERR_INPUT_JSON', 'SEAM_ERR_INPUT_JSON', 'SEAM_ERR_INPUT_JSON']);
    const r = normalizeLine('{"a": tru}', meta);
    expect(!r.ok && r.error.details).toMatchObject({ origin: 'bad.jsonl:1', head: '{"a": tru}' });
  });

  it('tells a truncated record from a malformed one', () => {
    expect(lines('bad/truncated.jsonl').map((l) => code(normalizeLine(l, meta)))).toEqual(['SEAM_ERR_INPUT_TRUNCATED']);
    const full = lines('k8s-audit/eks-audit.jsonl')[3] as string;
    for (const cut of [1, 40, 300, full.length - 1]) expect(code(normalizeLine(full.slice(0, cut), meta))).toBe('SEAM_ERR_INPUT_TRUNCATED');
    expect(code(normalizeLine(full.slice(0, 2000) + '[Truncated...]', meta))).toBe('SEAM_ERR_INPUT_TRUNCATED');
  });

  it('rejects oversized records before parsing them', () => {
    const big = JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', pad: 'x'.repeat(1024 * 1024) });
    const r = normalizeLine(big, meta);
    expect(code(r)).toBe('SEAM_ERR_INPUT_OVERSIZED');
    expect(!r.ok && r.error.details).toMatchObject({ maxRecordBytes: 1024 * 1024, bytes: big.length });
    const small = lines('k8s-audit/eks-audit.jsonl')[0] as string;
    expect(code(normalizeLine(small, meta, { maxRecordBytes: 100 }))).toBe('SEAM_ERR_INPUT_OVERSIZED');
    // Multi-byte characters count as UTF-8 bytes, not UTF-16 units.
    const wide = JSON.stringify({ msg: '€'.repeat(400) });
    expect(code(normalizeLine(wide, meta, { maxRecordBytes: 1000 }))).toBe('SEAM_ERR_INPUT_OVERSIZED');
  });

  it('rejects JSON that is not an object', () => {
    expect(lines('bad/non-object.jsonl').map((l) => code(normalizeLine(l, meta)))).toEqual(Array(4).fill('SEAM_ERR_INPUT_NOT_OBJECT'));
    expect(code(normalizeRecord('str', meta))).toBe('SEAM_ERR_INPUT_NOT_OBJECT');
    expect(code(normalizeRecord(null, meta))).toBe('SEAM_ERR_INPUT_NOT_OBJECT');
  });

  it('rejects objects of no known format, naming their keys', () => {
    const r = normalizeLine(lines('bad/unknown-format.jsonl')[0] as string, meta);
    expect(code(r)).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    expect(!r.ok && r.error.details.keys).toEqual(['level', 'ts', 'msg', 'path', 'status']);
  });

  it('says which field a cut-down CloudTrail record lacks (a test suite record with eventName but no eventSource)', () => {
    const r = normalizeLine(JSON.stringify({ eventTime: '2024-05-01T10:00:00Z', eventName: 'PutBucketAcl', userIdentity: { arn: 'arn:aws:iam::111122223333:user/a' }, requestParameters: { bucketName: 'b' } }), meta);
    expect(code(r)).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    expect(!r.ok && r.error.details.missing).toBe('eventSource');
    expect(!r.ok && r.error.message).toContain('has no eventSource');
  });

  it('refuses an AWS event notification (an S3 trigger record), saying what it is', () => {
    const r = normalizeLine(JSON.stringify({ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: '2026-12-04T10:00:00.000Z', eventName: 'ObjectCreated:Put', userIdentity: { principalId: 'AWS:AIDAEXAMPLE' }, s3: { bucket: { name: 'b' } } }), meta);
    expect(code(r)).toBe('SEAM_ERR_INPUT_UNKNOWN_FORMAT');
    expect(!r.ok && r.error.message).toContain('AWS event notification');
  });

  it('explains schema failures with the failing field', () => {
    const rs = lines('bad/schema-violations.jsonl').map((l) => normalizeLine(l, meta));
    expect(rs.map(code)).toEqual(['SEAM_ERR_NORMALIZE_SCHEMA', 'SEAM_ERR_NORMALIZE_TIMESTAMP', 'SEAM_ERR_NORMALIZE_SCHEMA']);
    const [audit, ct, rt] = rs;
    expect(!audit?.ok && audit?.error.details).toMatchObject({ source: 'k8s_audit', field: 'auditID', format: 'k8s_audit' });
    expect(!audit?.ok && (audit?.error.details.issues as { path: string }[]).map((i) => i.path)).toContain('auditID');
    expect(!ct?.ok && ct?.error.message).toContain('eventTime');
    expect(!rt?.ok && rt?.error.details).toMatchObject({ source: 'runtime', field: 'network' });
  });

  it('quotes an unreadable time in the dead letter, and names epoch seconds as such', () => {
    const ct = (eventTime: unknown) => normalizeRecord({ eventVersion: '1.08', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', eventID: 'e1', eventTime }, meta);
    const bad = ct('2026-13-45T99:00:00Z');
    expect(!bad.ok && bad.error.message).toBe("cloudtrail record: eventTime '2026-13-45T99:00:00Z' is not ISO 8601");
    expect(!bad.ok && bad.error.details).toMatchObject({ source: 'cloudtrail', field: 'eventTime', value: '2026-13-45T99:00:00Z' });
    const secs = ct(1796490229);
    expect(!secs.ok && secs.error.code).toBe('SEAM_ERR_NORMALIZE_TIMESTAMP');
    expect(!secs.ok && secs.error.message).toContain('eventTime 1796490229 looks like epoch seconds');
    const ms = ct(1796490229000);
    expect(ms.ok && ms.value['@timestamp']).toBe('2026-12-05T17:03:49.000Z');
    const long = ct('x'.repeat(100));
    expect(!long.ok && long.error.details.value).toBe('x'.repeat(40) + '…');
    const audit = normalizeRecord({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'a', stage: 'ResponseComplete', verb: 'get', user: { username: 'u' }, stageTimestamp: 1796490229 }, meta);
    expect(!audit.ok && audit.error.message).toContain('stageTimestamp 1796490229 looks like epoch seconds');
  });

  it('uses the collector-declared source to explain an unrecognised record', () => {
    const r = normalizeRecord({ eventName: 'GetCallerIdentity' }, { ...meta, source: 'cloudtrail' });
    expect(code(r)).toBe('SEAM_ERR_NORMALIZE_SCHEMA');
    expect(!r.ok && r.error.message).toContain('eventSource');
  });

  it('accepts a leading byte-order mark', () => {
    expect(code(normalizeLine('\ufeff' + (lines('k8s-audit/eks-audit.jsonl')[0] as string), meta))).toBe('ok');
  });

  it('never throws, whatever it is given', () => {
    const inputs: unknown[] = [undefined, 0, [], {}, { kind: 'Event', apiVersion: 'audit.k8s.io/v1' }, { eventSource: 1, eventName: 2, eventTime: 3 }, { source: 'aws.guardduty', detail: 5 }, { rule: 1, output: 2, priority: 3 }, { schema: 'seam.runtime/v1' }];
    for (const i of inputs) expect(() => normalizeRecord(i, meta)).not.toThrow();
    for (const s of ['', ' ', '{', '}', '"', '\u0000', '2024-11-05T14:00:00.000Z ', '2024-11-05T14:00:00.000Z {"a":1}']) expect(() => normalizeLine(s, meta)).not.toThrow();
  });
});

describe('stable ids', () => {
  const all = ['k8s-audit/eks-audit.jsonl', 'runtime/falco.jsonl', 'runtime/native.jsonl', 'cloudtrail/redaction-cases.jsonl'].flatMap(lines);

  it('gives the same id for the same input, every time', () => {
    const ids = (): string[] => all.map((l) => { const r = normalizeLine(l, meta); return r.ok ? r.value.seam.id : r.error.code; });
    expect(ids()).toEqual(ids());
    expect(new Set(ids()).size).toBe(all.length);
  });

  it('falls back to a hash of the canonical record, independent of key order', () => {
    const a = { rule: 'Terminal shell in container', priority: 'Notice', output: 'x', time: '2024-11-05T14:09:05.331217804Z', output_fields: { 'k8s.ns.name': 'payments', 'k8s.pod.name': 'p' } };
    const b = { output_fields: { 'k8s.pod.name': 'p', 'k8s.ns.name': 'payments' }, time: a.time, output: 'x', priority: 'Notice', rule: a.rule };
    const ra = normalizeRecord(a, meta);
    const rb = normalizeRecord(b, meta);
    expect(ra.ok && ra.value.seam.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ra.ok && ra.value.seam.id).toBe(rb.ok && rb.value.seam.id);
    const rc = normalizeRecord({ ...a, output: 'y' }, meta);
    expect(rc.ok && rc.value.seam.id).not.toBe(ra.ok && ra.value.seam.id);
  });

  it('ids audit events by auditID and stage', () => {
    const l = JSON.parse(all[0] as string) as Record<string, unknown>;
    const started = normalizeRecord({ ...l, stage: 'RequestReceived', responseStatus: undefined }, meta);
    expect(started.ok && started.value.seam).toMatchObject({ id: '2f0c6a4e-9b1d-4a57-8a5e-0c1d2e3f4a01:RequestReceived', outcome: 'unknown' });
  });
});

describe('detectFormat', () => {
  it('detects each format from a few fields', () => {
    expect(detectFormat({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' })).toBe('k8s_audit');
    expect(detectFormat({ eventVersion: '1.09', eventSource: 's', eventName: 'n' })).toBe('cloudtrail');
    expect(detectFormat({ source: 'aws.guardduty', detail: {} })).toBe('guardduty_eventbridge');
    expect(detectFormat({ SchemaVersion: '2.0', Type: 't', Service: {} })).toBe('guardduty_sdk');
    expect(detectFormat({ schemaVersion: '2.0', type: 't', service: {} })).toBe('guardduty_api');
    expect(detectFormat({ rule: 'r', output: 'o', priority: 'Notice' })).toBe('runtime_falco');
    expect(detectFormat({ schema: 'seam.runtime/v1' })).toBe('runtime_native');
    expect(detectFormat({ message: '{}', timestamp: 1 })).toBe('cloudwatch_event');
    expect(detectFormat({ source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventSource: 's', eventName: 'n' } })).toBe('cloudtrail_eventbridge');
    // an application's own event (PutEvents cannot use an aws. source) is not trusted as a CloudTrail record
    expect(detectFormat({ source: 'my.app', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventSource: 'sts.amazonaws.com', eventName: 'AssumeRole' } })).toBeUndefined();
    expect(detectFormat({ source: 'aws.sts', 'detail-type': 'Order Placed', detail: { eventSource: 'sts.amazonaws.com', eventName: 'AssumeRole' } })).toBeUndefined();
    expect(detectFormat({ 'detail-type': 'Scheduled Event', detail: {} })).toBeUndefined();
    expect(detectFormat({ source: 'aws.guardduty', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventSource: 'guardduty.amazonaws.com', eventName: 'DeleteDetector' } })).toBe('cloudtrail_eventbridge');
    expect(detectFormat({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: { id: 'f', type: 't' } })).toBe('guardduty_eventbridge');
    expect(detectFormat({ kind: 'Event', apiVersion: 'v1' })).toBeUndefined();
  });
});
