// Batch documents on the raw topics (ADR 0038), against the real local Kafka and OpenSearch: a webhook-to-Kafka
// bridge putting audit EventLists on seam.raw.k8s_audit, a Lambda forwarding CloudTrail's S3 objects as
// {"Records":[...]} onto seam.raw.cloudtrail (some documents pretty-printed, some with a bad record in them).
// The normalize role must read each document as its records: every event of the records one per line indexed
// once, exactly the alerts embedded mode raises over the records one per line, and every bad record its own
// dead letter with the message's origin and its position.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_HEADERS } from '../../src/bus/topics.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { splitBatch, type BatchCountsSnapshot } from '../../src/core/normalize/batch.ts';
import { intoBatches } from '../helpers/batches.ts';
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
    const messages: RawRecord[] = input.texts.map((text) => bare.get(text) ?? { text, source: splitBatch(text)!.shape });
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

    expect(stats.batches).toEqual({ documents: input.documents, records: input.records, empty: input.empty });
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
