// Batch documents on the raw topics (ADR 0038), against the real local Kafka and OpenSearch: a webhook-to-Kafka
// bridge putting audit EventLists on seam.raw.k8s_audit, a Lambda forwarding CloudTrail's S3 objects as
// {"Records":[...]} onto seam.raw.cloudtrail (some documents pretty-printed, some with a bad record in them).
// The normalize role must read each document as its records: every event of the records one per line indexed
// once, exactly the alerts embedded mode raises over the records one per line, and every bad record its own
// dead letter with the message's origin and its position.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_HEADERS } from '../../src/bus/topics.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { splitBatch, type BatchCountsSnapshot } from '../../src/core/normalize/batch.ts';
import type { SourceType } from '../../src/core/envelope.ts';
import { countsOf, intoBatches, SUBSCRIPTION_CLUSTER, SUBSCRIPTION_OWNER } from '../helpers/batches.ts';
import { allIds, embeddedAlerts, expectedIds, pipeline, referenceSigmaAlerts, validRecords, type Pipeline, type RawRecord } from './harness.ts';

describe('pipeline with batch documents on the raw topics', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline('batches');
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('indexes the events and alerts of the records one per line, each once, and dead-letters each bad record alone', async () => {
    const valid = validRecords(2);
    const input = intoBatches(
      valid.map((r) => r.text),
      { badEvery: 4, empty: true, pretty: true },
    );
    // Documents go to their plane's raw topic, as a bridge would put them; the records left one per line keep theirs.
    const bare = new Map(valid.map((r) => [r.text, r]));
    const messages: RawRecord[] = input.texts.map((text) => bare.get(text) ?? { text, source: splitBatch(text)!.shape as SourceType });
    expect(input.documents.k8s_audit + input.documents.cloudtrail).toBeGreaterThan(150);
    expect(input.bad.length).toBeGreaterThan(30);

    const expected = expectedIds(valid);
    const sigma = referenceSigmaAlerts(p.detection, valid);
    const embedded = await embeddedAlerts(p.detection, valid);
    // Embedded mode fed the documents as raw records cuts them in its normalize role too: the same alerts.
    expect([...(await embeddedAlerts(p.detection, messages))].sort()).toEqual([...embedded].sort());

    await p.produce(messages);
    const normalize = p.normalize();
    const roles = [normalize, p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.drain();
    const v = await p.verdict(
      expected,
      input.bad.map((text) => ({ text })),
      sigma,
    );
    const indexed = new Set(await allIds(p.os, `${p.indexPrefix}-alerts-*`));
    const stats = normalize.stats() as { batches: BatchCountsSnapshot; events: number };
    for (const r of roles) await r.stop();
    process.stdout.write(`batches: documents=${input.documents.k8s_audit + input.documents.cloudtrail} events=${v.events} alerts=${v.alerts} lost=${v.lost} duplicated=${v.duplicated} dlq=${v.dlq}\n`);

    expect(stats.batches).toEqual(countsOf(input));
    expect(v.details).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.events).toBe(expected.size);
    expect(sigma.size).toBeGreaterThan(10);
    expect([...indexed].filter((id) => !embedded.has(id)), 'alerts embedded mode does not raise').toEqual([]);
    expect([...embedded].filter((id) => !indexed.has(id)), 'alerts of embedded mode missing').toEqual([]);
    expect(v.alerts).toBe(embedded.size);
    expect(v.dlqMissing).toBe(0);
    expect(v.dlqWithoutReason).toBe(0);
    expect(v.dlq).toBe(input.bad.length);
    // Each names the message and the record's position in it, in the dead letter and in the header `seam dlq replay` sends back.
    const dls: { origin: string | undefined; header: string | undefined }[] = [];
    await p.admin.readToEnd([p.topics.dlq], (m) => dls.push({ origin: (JSON.parse(m.value.toString('utf8')) as DeadLetter).origin, header: m.headers?.[RAW_HEADERS.origin] }));
    expect(dls).toHaveLength(input.bad.length);
    for (const d of dls) {
      expect(d.origin).toMatch(/^test:\d+#1$/);
      expect(d.header).toBe(d.origin);
    }
  });
});

// CloudWatch Logs subscription payloads (ADR 0039), as a Kinesis-to-Kafka connector puts them on a raw topic: every
// other one gzip-compressed as CloudWatch Logs delivers them to Kinesis, none with Seam's headers (so the payload's
// owner and log group are the only account and cluster the records get), plus a control message, an authenticator
// stream's payload (skipped) and a message that is gzip but cut short.
describe('pipeline with CloudWatch Logs subscription payloads on the raw topics', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline('subscriptions');
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('indexes every record of the payloads once, with the payload\'s account and cluster, and the alerts embedded mode raises over the same payloads', async () => {
    const valid = validRecords(2);
    const input = intoBatches(
      valid.map((r) => r.text),
      { badEvery: 4, empty: true, pretty: true, subscriptions: true },
    );
    const bare = new Map(valid.map((r) => [r.text, r]));
    let zipped = 0;
    const messages: RawRecord[] = input.texts.map((text, i) => {
      const r = bare.get(text);
      if (r !== undefined) return r;
      // Every other payload gzipped; none has Seam's headers. The audit payloads go to the audit raw topic, CloudTrail's to CloudTrail's.
      const source: SourceType = text.includes('"logGroup":"/aws/eks/') ? 'k8s_audit' : 'cloudtrail';
      if (i % 2 === 0) {
        zipped++;
        return { text, source, value: gzipSync(text), noHeaders: true };
      }
      return { text, source, noHeaders: true };
    });
    const cutText = input.texts.find((t) => t.includes('"DATA_MESSAGE"'))!;
    const cutShort = gzipSync(cutText);
    const broken: RawRecord = { text: cutText, source: 'k8s_audit', value: cutShort.subarray(0, cutShort.length - 12), noHeaders: true };
    expect(input.documents.cloudwatch_logs).toBeGreaterThan(150);
    expect(zipped).toBeGreaterThan(70);

    const expected = expectedIds(valid);
    const sigma = referenceSigmaAlerts(p.detection, valid);
    // Embedded mode fed the same payloads (inflated) as raw records: the reference.
    const embedded = await embeddedAlerts(p.detection, messages.map((m) => ({ text: m.text, ...(m.source ? { source: m.source } : {}) })));

    await p.produce([...messages, broken]);
    const normalize = p.normalize();
    const roles = [normalize, p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.drain();
    const v = await p.verdict(expected, input.bad.map((text) => ({ text })), sigma);
    const indexed = new Set(await allIds(p.os, `${p.indexPrefix}-alerts-*`));
    const stats = normalize.stats() as { batches: BatchCountsSnapshot; inflated: number };
    // Where the payload put them: the account and cluster of every event out of an audit payload.
    const clusters = await p.os.search({
      index: `${p.indexPrefix}-events-*`,
      body: { size: 0, query: { term: { 'seam.source': 'k8s_audit' } }, aggs: { c: { terms: { field: 'seam.cluster', missing: '(none)' } }, a: { terms: { field: 'seam.account', missing: '(none)' } } } } as never,
    });
    for (const r of roles) await r.stop();
    process.stdout.write(`subscriptions: payloads=${input.documents.cloudwatch_logs} gzipped=${zipped} events=${v.events} alerts=${v.alerts} lost=${v.lost} duplicated=${v.duplicated} dlq=${v.dlq} skipped=${stats.batches.skipped.cloudwatch_logs}\n`);

    expect(stats.batches).toEqual(countsOf(input));
    expect(stats.inflated).toBe(zipped);
    expect(v.details).toEqual([]);
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.events).toBe(expected.size);
    expect(sigma.size).toBeGreaterThan(10);
    expect([...indexed].filter((id) => !embedded.has(id)), 'alerts embedded mode does not raise').toEqual([]);
    expect([...embedded].filter((id) => !indexed.has(id)), 'alerts of embedded mode missing').toEqual([]);
    expect(v.dlqMissing).toBe(0);
    expect(v.dlq).toBe(input.bad.length + 1);
    const aggs = (clusters.body as { aggregations: Record<string, { buckets: { key: string; doc_count: number }[] }> }).aggregations;
    expect(aggs.c!.buckets.map((b) => b.key)).toEqual([SUBSCRIPTION_CLUSTER]);
    expect(aggs.a!.buckets.map((b) => b.key)).toEqual([SUBSCRIPTION_OWNER]);
    // A bad record names its log event, as the CloudWatch Logs collector would; the cut-short message is one dead letter, its bytes kept.
    const dls: { dl: DeadLetter; headers: Record<string, string> }[] = [];
    await p.admin.readToEnd([p.topics.dlq], (m) => dls.push({ dl: JSON.parse(m.value.toString('utf8')) as DeadLetter, headers: m.headers ?? {} }));
    expect(dls).toHaveLength(input.bad.length + 1);
    // The cut-short message: what inflated is kept (the start of the payload), partial, so `seam dlq replay` skips it.
    const gz = dls.filter((d) => d.dl.code === 'SEAM_ERR_INPUT_TRUNCATED');
    expect(gz).toHaveLength(1);
    expect(gz[0]!.dl.reason).toMatch(/gzip-compressed message of \d+ bytes ends before its stream does/);
    expect(gz[0]!.dl.raw_partial).toBe(true);
    expect(gz[0]!.dl.raw.length).toBeGreaterThan(100);
    expect(cutText.startsWith(gz[0]!.dl.raw)).toBe(true);
    // Each bad record names its log event, and its headers carry the payload's account and cluster (a replay sends it back as it was).
    for (const d of dls.filter((x) => x !== gz[0])) {
      expect(d.dl.origin).toMatch(/^(\/aws\/eks\/prod-eks-01\/cluster\/kube-apiserver-audit-\d|aws-cloudtrail-logs-111122223333-0a1b2c3d\/111122223333_CloudTrail_us-east-1_\d)#\d+$/);
      expect(d.headers[RAW_HEADERS.origin]).toBe(d.dl.origin);
      expect(d.headers[RAW_HEADERS.account]).toBe(SUBSCRIPTION_OWNER);
      if (d.dl.origin!.startsWith('/aws/eks/')) expect(d.headers[RAW_HEADERS.cluster]).toBe(SUBSCRIPTION_CLUSTER);
    }
  });
});
