// The identity graph reaches OpenSearch: the correlate role publishes the versions its graph changed on
// seam.identity (compacted, co-partitioned with seam.signals) and the index role writes them to
// `<prefix>-identity` with `_id` = version id. A correlate role restarted later restores its graph from the
// topic and keeps the index equal to the graph. Real Kafka and OpenSearch (ADR 0008).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { IdentityDoc } from '../../src/identity/types.ts';
import { decodeSignals } from '../../src/pipeline/signal.ts';
import { identityIndexName } from '../../src/sinks/opensearch/templates.ts';
import { allIds, pipeline, validRecords, type Pipeline } from './harness.ts';

describe('identity graph → seam.identity → OpenSearch', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline('identity');
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  /**
   * The graph's versions: one fresh stage per signals partition, over that partition in event-time order
   * (ADR 0009), as the role keeps them.
   */
  const graphDocs = async (): Promise<Map<string, IdentityDoc>> => {
    const byPartition = new Map<number, SeamEvent[]>();
    await p.admin.readToEnd([p.topics.signals], (m) => {
      let list = byPartition.get(m.partition);
      if (list === undefined) byPartition.set(m.partition, (list = []));
      for (const sig of decodeSignals(m.value) ?? []) list.push(sig.event);
    });
    const out = new Map<string, IdentityDoc>();
    for (const events of byPartition.values()) {
      const stage = p.detection.newStage();
      events.sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']) || (a.seam.id < b.seam.id ? -1 : a.seam.id > b.seam.id ? 1 : 0));
      for (const e of events) stage.process(e);
      for (const d of stage.native.graph.toIdentityDocs()) out.set(d.id, d);
    }
    return out;
  };

  const indexed = async (): Promise<{ ids: string[]; docs: Map<string, IdentityDoc> }> => {
    const index = identityIndexName(p.indexPrefix);
    await p.os.indices.refresh({ index });
    const ids = await allIds(p.os, index);
    const r = await p.os.search({ index, size: 10_000, body: { query: { match_all: {} } } as never });
    const hits = (r.body as { hits: { hits: { _id: string; _source: IdentityDoc & { indexed_at?: string } }[] } }).hits.hits;
    // The sink stores each version with when it wrote it (retention counts from it): a time, then the version itself.
    for (const h of hits) expect(Number.isFinite(Date.parse(h._source.indexed_at ?? ''))).toBe(true);
    return { ids, docs: new Map(hits.map(({ _id, _source: { indexed_at: _written, ...doc } }) => [_id, doc])) };
  };

  it('indexes every version of the graph once, and a restarted correlate role restores the graph from the topic', async () => {
    const records = validRecords(2);
    const firstCopy = records.slice(0, records.length / 2);
    await p.produce(firstCopy);
    const normalize = p.normalize();
    const index = p.index();
    let correlate = p.correlate();
    for (const r of [normalize, correlate, index]) await r.start();
    await p.drain();

    let want = await graphDocs();
    let got = await indexed();
    process.stdout.write(`identity: graph versions=${want.size} indexed=${got.ids.length} unique=${new Set(got.ids).size}\n`);
    expect(want.size).toBeGreaterThan(30);
    expect(new Set(got.ids).size).toBe(got.ids.length);
    expect(got.ids.length).toBe(want.size);
    expect(got.docs).toEqual(want);

    // The correlate role goes away; more input arrives; a new instance rebuilds from seam.identity + seam.signals.
    await correlate.stop();
    await p.produce(records.slice(records.length / 2));
    correlate = p.correlate();
    await correlate.start();
    await p.drain();
    const s = correlate.stats() as { rebuilds: number; rebuiltSignals: number; restoredIdentity: number; restoredIdentityAfter: number; identityRecords: number };
    process.stdout.write(
      `identity rebuild: rebuilds=${s.rebuilds} rebuiltSignals=${s.rebuiltSignals} restoredBeforeWindow=${s.restoredIdentity} restoredAfterWindow=${s.restoredIdentityAfter} recordsProduced=${s.identityRecords}\n`,
    );
    expect(s.rebuilds).toBeGreaterThan(0);

    want = await graphDocs();
    got = await indexed();
    process.stdout.write(`identity after restart: graph versions=${want.size} indexed=${got.ids.length} unique=${new Set(got.ids).size}\n`);
    expect(new Set(got.ids).size).toBe(got.ids.length);
    expect(got.ids.length).toBe(want.size);
    expect(got.docs).toEqual(want);
    for (const r of [normalize, correlate, index]) await r.stop();
  });
});
