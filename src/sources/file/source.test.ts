import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchCounts } from '../../core/normalize/batch.ts';
import { readFiles, type FileItem } from './source.ts';

const ct = (id: string): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: '2026-11-26T10:00:00Z',
  eventSource: 'sts.amazonaws.com',
  eventName: 'GetCallerIdentity',
  eventID: id,
  userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' },
});

async function collect(paths: string[], maxRecordBytes = 4096): Promise<FileItem[]> {
  const out: FileItem[] = [];
  for await (const it of readFiles(paths, { maxRecordBytes, now: () => '2026-11-26T00:00:00.000Z' })) out.push(it);
  return out;
}

const eventIds = (items: FileItem[]): (string | undefined)[] =>
  items.map((i) => (i.kind === 'record' ? (JSON.parse(i.text) as { eventID?: string }).eventID : i.error.code));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seam-file-'));
});

describe('file source', () => {
  it('attributes every record to the configured cluster and account (an audit export names neither)', async () => {
    await writeFile(join(dir, 'attributed.jsonl'), JSON.stringify(ct('a')) + '\n' + JSON.stringify(ct('b')) + '\n');
    const out: FileItem[] = [];
    for await (const it of readFiles([join(dir, 'attributed.jsonl')], { maxRecordBytes: 4096, cluster: 'prod', account: '111122223333' })) out.push(it);
    expect(out.map((i) => [i.meta.cluster, i.meta.account])).toEqual([
      ['prod', '111122223333'],
      ['prod', '111122223333'],
    ]);
  });

  it('reads a gzipped CloudTrail S3 export the same as the plain one', async () => {
    const doc = JSON.stringify({ Records: [ct('a'), ct('b'), ct('c')] });
    await writeFile(join(dir, 'plain.json'), doc);
    await writeFile(join(dir, 'packed.json.gz'), gzipSync(doc));
    expect(eventIds(await collect([join(dir, 'plain.json')]))).toEqual(['a', 'b', 'c']);
    expect(eventIds(await collect([join(dir, 'packed.json.gz')]))).toEqual(['a', 'b', 'c']);
  });

  it('reads a Kubernetes audit EventList (what the audit webhook backend posts), on one line or pretty-printed', async () => {
    const ev = (id: string): Record<string, unknown> => ({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/namespaces/a/pods/p', user: { username: 'alice' }, requestReceivedTimestamp: '2026-11-26T10:00:00Z', stageTimestamp: '2026-11-26T10:00:00Z' });
    const doc = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [ev('a'), ev('b'), ev('c')] };
    const ids = (items: FileItem[]): (string | undefined)[] => items.map((i) => (i.kind === 'record' ? (JSON.parse(i.text) as { auditID?: string }).auditID : i.error.code));
    await writeFile(join(dir, 'eventlist.json'), JSON.stringify(doc));
    await writeFile(join(dir, 'eventlist-pretty.json'), JSON.stringify(doc, null, 2));
    expect(ids(await collect([join(dir, 'eventlist.json')]))).toEqual(['a', 'b', 'c']);
    expect(ids(await collect([join(dir, 'eventlist-pretty.json')]))).toEqual(['a', 'b', 'c']);
  });

  it('hands on the records of a batch document on a JSONL line, each with the line and its position (ADR 0038)', async () => {
    const ev = (id: string): string => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', verb: 'get', user: { username: 'alice' }, stageTimestamp: '2026-11-26T10:00:00Z' });
    const list = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${ev('e1')},${ev('e2')}]}`;
    const trail = JSON.stringify({ Records: [ct('b'), { eventSource: 'sts.amazonaws.com' }, ct('a')] });
    const view = (items: FileItem[]): string[] =>
      items.map((i) => `${i.meta.origin!.replace(/^.*\//, '')} ${i.kind === 'record' ? ((JSON.parse(i.text) as { eventID?: string; auditID?: string }).eventID ?? (JSON.parse(i.text) as { auditID?: string }).auditID ?? '-') : i.error.code}`);
    // After an ordinary first line, and as the first line (the file is JSONL all the same).
    await writeFile(join(dir, 'batch-lines.jsonl'), [JSON.stringify(ct('x')), list, trail, '{"Records":[]}', ''].join('\n'));
    await writeFile(join(dir, 'batch-first.jsonl'), [list, trail, ''].join('\n'));
    const counts = new BatchCounts();
    const items: FileItem[] = [];
    for await (const it of readFiles([join(dir, 'batch-lines.jsonl')], { maxRecordBytes: 4096, batches: counts })) items.push(it);
    expect(view(items)).toEqual(['batch-lines.jsonl:1 x', 'batch-lines.jsonl:2#0 e1', 'batch-lines.jsonl:2#1 e2', 'batch-lines.jsonl:3#0 b', 'batch-lines.jsonl:3#1 -', 'batch-lines.jsonl:3#2 a']);
    expect(counts.snapshot()).toEqual({
      documents: { cloudtrail: 2, k8s_audit: 1, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      records: { cloudtrail: 3, k8s_audit: 2, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      empty: { cloudtrail: 1, k8s_audit: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 },
      skipped: { cloudtrail: 0, k8s_audit: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 },
    });
    // A file that starts with a document is scanned (documents of any size are cut): the same records, by position.
    expect(view(await collect([join(dir, 'batch-first.jsonl')])).map((v) => v.split(' ')[1])).toEqual(['e1', 'e2', 'b', 'SEAM_ERR_INPUT_NOT_OBJECT', 'a'].map((x) => (x === 'SEAM_ERR_INPUT_NOT_OBJECT' ? '-' : x)));
    // ...also when a later document is bigger than maxRecordBytes (zcat of CloudTrail files, one a line).
    const big = JSON.stringify({ Records: Array.from({ length: 12 }, (_, i) => ct(`big-${i}`)) });
    await writeFile(join(dir, 'batch-big.jsonl'), [trail, big, ''].join('\n'));
    expect(big.length).toBeGreaterThan(2000);
    expect(view(await collect([join(dir, 'batch-big.jsonl')], 2000)).map((v) => v.split(' ')[1])).toEqual(['b', '-', 'a', ...Array.from({ length: 12 }, (_, i) => `big-${i}`)]);
    // A document over maxRecordBytes on a line is one oversized record, as any line.
    expect(view(await collect([join(dir, 'batch-lines.jsonl')], 300)).slice(1, 3)).toEqual(['batch-lines.jsonl:2 SEAM_ERR_INPUT_OVERSIZED', 'batch-lines.jsonl:3 SEAM_ERR_INPUT_OVERSIZED']);
  });

  it('cuts a batch document that is the message of a CloudWatch Logs event (filter-log-events output), as the normalize role does', async () => {
    const doc = JSON.stringify({ Records: [ct('m2'), ct('m1')] });
    const line = JSON.stringify({ logStreamName: '111122223333_CloudTrail_us-east-1', timestamp: 1764151200000, message: doc, ingestionTime: 1764151201000, eventId: 'ev1' });
    await writeFile(join(dir, 'cw-batch.jsonl'), [JSON.stringify(ct('plain')), line, ''].join('\n'));
    const items = await collect([join(dir, 'cw-batch.jsonl')]);
    expect(eventIds(items)).toEqual(['plain', 'm2', 'm1']);
    expect(items[2]!.meta.origin).toMatch(/cw-batch\.jsonl:2 \(111122223333_CloudTrail_us-east-1 ev1\)#1$/);
  });

  it('unwraps `aws cloudtrail lookup-events` output (newest first) to its records, handed on oldest first', async () => {
    const at = (id: string, time: string): Record<string, unknown> => ({ ...ct(id), eventTime: time });
    const item = (r: Record<string, unknown>, eventTime: unknown): Record<string, unknown> => ({
      EventId: r.eventID,
      EventName: r.eventName,
      ReadOnly: 'true',
      EventTime: eventTime,
      EventSource: r.eventSource,
      Resources: [],
      CloudTrailEvent: JSON.stringify(r),
    });
    const a = at('a', '2026-11-26T10:00:00Z');
    const b = at('b', '2026-11-26T10:05:00Z');
    const c = at('c', '2026-11-26T10:09:00Z');
    // As the CLI writes it (pretty-printed, newest first, a NextToken after the array) …
    const doc = JSON.stringify({ Events: [item(c, '2026-11-26T10:09:00+00:00'), item(b, '2026-11-26T10:05:00+00:00'), item(a, '2026-11-26T10:00:00+00:00')], NextToken: 'x' }, null, 4);
    await writeFile(join(dir, 'lookup.json'), doc);
    const got = await collect([join(dir, 'lookup.json')]);
    expect(eventIds(got)).toEqual(['a', 'b', 'c']);
    expect(got[0]!.meta.origin).toMatch(/lookup\.json:\d+ \(a\)$/);
    // … as JSONL items (`jq -c '.Events[]'`), with epoch-second times (SDK output) or none (the record's own time).
    await writeFile(join(dir, 'lookup.jsonl'), [item(c, Date.parse('2026-11-26T10:09:00Z') / 1000), item(b, undefined), item(a, Date.parse('2026-11-26T10:00:00Z') / 1000)].map((i) => JSON.stringify(i)).join('\n') + '\n');
    expect(eventIds(await collect([join(dir, 'lookup.jsonl')]))).toEqual(['a', 'b', 'c']);
  });

  it("hands on a JSON document's CloudTrail records oldest first (the console's event history download is newest first)", async () => {
    const at = (id: string, minute: number): Record<string, unknown> => ({ ...ct(id), eventTime: `2026-11-26T10:${String(minute).padStart(2, '0')}:00Z` });
    await writeFile(join(dir, 'history.json'), JSON.stringify({ Records: [at('c', 9), at('b', 5), at('a', 0)] }, null, 2));
    expect(eventIds(await collect([join(dir, 'history.json')]))).toEqual(['a', 'b', 'c']);
    // A run holding a record of another kind (here a Kubernetes audit event) is handed on as the file has it.
    const audit = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'k', stage: 'ResponseComplete', requestReceivedTimestamp: '2026-11-26T10:01:00Z' };
    await writeFile(join(dir, 'mixed.json'), JSON.stringify([at('c', 9), audit, at('a', 0)]));
    expect(eventIds(await collect([join(dir, 'mixed.json')]))).toEqual(['c', undefined, 'a']);
    // JSONL streams in file order.
    await writeFile(join(dir, 'lines.jsonl'), [at('c', 9), at('a', 0)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    expect(eventIds(await collect([join(dir, 'lines.jsonl')]))).toEqual(['c', 'a']);
  });

  it('unwraps filter-log-events output to the log messages, keeping the stream as origin', async () => {
    const out = {
      events: [
        { logStreamName: 'kube-apiserver-audit-0a1b', timestamp: 1764151200000, message: JSON.stringify(ct('m1')), ingestionTime: 1764151201000, eventId: '3801' },
        { logStreamName: 'kube-apiserver-audit-0a1b', timestamp: 1764151200001, message: JSON.stringify(ct('m2')), ingestionTime: 1764151201000, eventId: '3802' },
      ],
      searchedLogStreams: [],
    };
    await writeFile(join(dir, 'filter.json'), JSON.stringify(out, null, 2));
    const items = await collect([join(dir, 'filter.json')]);
    expect(eventIds(items)).toEqual(['m1', 'm2']);
    expect(items[0]!.meta.origin).toContain('kube-apiserver-audit-0a1b 3801');
  });

  it('reads CloudWatch Logs Insights results: the console JSON download (one line) and get-query-results rows, each record with its own origin', async () => {
    const m = (id: string): string => JSON.stringify(ct(id));
    await writeFile(join(dir, 'insights.json'), JSON.stringify([{ '@timestamp': '2026-11-26 10:00:00.000', '@message': m('i1') }, { '@timestamp': '2026-11-26 10:00:00.000', '@message': m('i2') }]));
    const rows = ['q1', 'q2'].map((id) => [{ field: '@timestamp', value: '2026-11-26 10:00:00.000' }, { field: '@message', value: m(id) }, { field: '@ptr', value: 'CmAK' }]);
    const doc = { results: rows, statistics: { recordsMatched: 2, recordsScanned: 9, bytesScanned: 900 }, status: 'Complete' };
    await writeFile(join(dir, 'gqr.json'), JSON.stringify(doc, null, 4));
    await writeFile(join(dir, 'gqr-compact.json'), JSON.stringify(doc));
    for (const [file, ids] of [['insights.json', ['i1', 'i2']], ['gqr.json', ['q1', 'q2']], ['gqr-compact.json', ['q1', 'q2']]] as const) {
      const out = await collect([join(dir, file)]);
      expect(out.map((i) => (i.kind === 'record' ? (JSON.parse((JSON.parse(i.text) as Record<string, string>)['@message']!) as { eventID: string }).eventID : i.error.code))).toEqual(ids);
      expect(new Set(out.map((i) => i.meta.origin)).size).toBe(2);
    }
    const compact = await collect([join(dir, 'gqr-compact.json')]);
    expect(compact.map((i) => i.meta.origin)).toEqual([`${join(dir, 'gqr-compact.json')}:1`, `${join(dir, 'gqr-compact.json')}:1#1`]);
  });

  it('walks folders in name order and keeps reading past bad records', async () => {
    const sub = join(dir, 'tree');
    await mkdir(join(sub, 'b'), { recursive: true });
    await writeFile(join(sub, 'a.jsonl'), `${JSON.stringify(ct('1'))}\n${JSON.stringify({ x: 'y'.repeat(10_000) })}\n${JSON.stringify(ct('2'))}\n`);
    await writeFile(join(sub, 'b', 'c.json'), `[${JSON.stringify(ct('3'))}, ${JSON.stringify(ct('4')).slice(0, 40)}`);
    const items = await collect([sub]);
    expect(eventIds(items)).toEqual(['1', 'SEAM_ERR_INPUT_OVERSIZED', '2', '3', 'SEAM_ERR_INPUT_TRUNCATED']);
    const over = items[1]!;
    expect(over.kind === 'error' && over.error.details).toMatchObject({ line: 2, bytes: 10_008 });
  });

  it('strips CloudWatch Logs export timestamps', async () => {
    const lines = [ct('x1'), ct('x2')].map((r, i) => `2026-11-26T10:00:0${i}.000Z ${JSON.stringify(r)}`).join('\n');
    await writeFile(join(dir, 'export.log.gz'), gzipSync(lines));
    expect(eventIds(await collect([join(dir, 'export.log.gz')]))).toEqual(['x1', 'x2']);
  });

  it('reports a missing path as a clear error', async () => {
    await expect(collect([join(dir, 'nope')])).rejects.toMatchObject({ code: 'SEAM_ERR_INPUT_FILE' });
  });

  it('reads a Firehose S3 object of CloudWatch Logs subscription payloads (gzip members one after another, cut short at the end) with each payload\'s account and cluster (ADR 0039)', async () => {
    const ev = (id: string): string => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', verb: 'get', user: { username: 'alice' }, stageTimestamp: '2026-11-26T10:00:00Z' });
    const payload = (group: string, stream: string, messages: string[]): string =>
      JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '444455556666', logGroup: group, logStream: stream, subscriptionFilters: ['f'], logEvents: messages.map((message, i) => ({ id: `${stream}-${i}`, timestamp: i, message })) });
    const control = JSON.stringify({ messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [{ id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }] });
    const audit = payload('/aws/eks/prod/cluster', 'kube-apiserver-audit-1', [ev('k1'), ev('k2')]);
    const auth = payload('/aws/eks/prod/cluster', 'authenticator-1', ['time="x" level=info msg="access granted"', 'y', 'z']);
    const trail = payload('aws-cloudtrail-logs', '444455556666_CloudTrail_us-east-1', [JSON.stringify(ct('t1')), JSON.stringify(ct('t2'))]);
    const last = payload('/aws/eks/prod/cluster', 'kube-apiserver-audit-2', [ev('k3'), ev('k4')]);
    const gz = Buffer.concat([control, audit, auth, trail, last.slice(0, last.length - 40)].map((t) => gzipSync(t)));
    await writeFile(join(dir, 'firehose-object.gz'), gz);
    const counts = new BatchCounts();
    const items: FileItem[] = [];
    // A file source given a cluster keeps it over the payload's (an operator's setting wins); without, the payload's.
    for await (const it of readFiles([join(dir, 'firehose-object.gz')], { maxRecordBytes: 4096, batches: counts })) items.push(it);
    const view = items.map((i) => {
      if (i.kind !== 'record') return `${i.error.code}`;
      const r = JSON.parse(i.text) as { message: string };
      const inner = JSON.parse(r.message) as { auditID?: string; eventID?: string };
      return `${inner.auditID ?? inner.eventID} ${i.meta.account ?? '-'} ${i.meta.cluster ?? '-'}`;
    });
    expect(view).toEqual(['k1 444455556666 prod', 'k2 444455556666 prod', 't1 444455556666 -', 't2 444455556666 -', 'k3 444455556666 prod', 'SEAM_ERR_INPUT_TRUNCATED']);
    expect(counts.snapshot()).toMatchObject({ documents: { cloudwatch_logs: 5 }, records: { cloudwatch_logs: 5 }, empty: { cloudwatch_logs: 1 }, skipped: { cloudwatch_logs: 3 } });
    const configured: FileItem[] = [];
    for await (const it of readFiles([join(dir, 'firehose-object.gz')], { maxRecordBytes: 4096, cluster: 'configured' })) configured.push(it);
    expect(configured.filter((i) => i.kind === 'record').map((i) => i.meta.cluster)).toEqual(['configured', 'configured', 'configured', 'configured', 'configured']);
  });
});
