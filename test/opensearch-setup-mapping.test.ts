// Fields a template gained after its day indices were made (ADR 0041's `ocsf`), on the real local OpenSearch:
// setup puts them into the cloudtrail indices that already exist, so a backfill of Security Lake events into past
// days is not refused by dynamic mapping there, and reports an index where the field was mapped otherwise.
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRecord } from '../src/core/normalize/normalize.ts';
import { setupOpenSearch, type SetupAction } from '../src/sinks/opensearch/setup.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { OCSF_PAIRS } from './helpers/ocsf-pairs.ts';
import { dropPrefix } from './helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const prefix = `seamt_${RUN_ID}_added`;
let client: Client;

describe('setup puts fields added to a template into existing indices', () => {
  beforeAll(async () => {
    client = new Client({ node: opensearchUrl() });
  });
  afterAll(async () => {
    if (client) {
      await dropPrefix(client, prefix);
      await client.close();
    }
  });

  it('maps ocsf as a flat object in a cloudtrail day index made before, and reports one where it was mapped otherwise', async () => {
    // Two day indices made before the template knew `ocsf`: one never saw it, one mapped it dynamically as an object.
    const before = `${prefix}-events-cloudtrail-2026.11.01`;
    const dynamic = `${prefix}-events-cloudtrail-2026.11.02`;
    await client.indices.create({ index: before, body: { settings: { number_of_replicas: 0 }, mappings: { properties: { eventName: { type: 'keyword' } } } } });
    await client.indices.create({ index: dynamic, body: { settings: { number_of_replicas: 0 } } });
    await client.index({ index: dynamic, body: { eventName: 'x', ocsf: { unmapped: { eventType: { a: 1 } } } }, refresh: true });

    const actions: SetupAction[] = [];
    await setupOpenSearch(client, { templates: { indexPrefix: prefix, replicas: 0, shards: 1, refreshIntervalMs: 1000 }, ism: 'skip', onAction: (a) => actions.push(a) });
    // The ocsf lines (setup also reports the identity index's indexed_at, ac84663: opensearch-retention.test.ts).
    const ocsf = (a: SetupAction): boolean => a.kind === 'index_mapping' && a.name.endsWith('.ocsf');
    const mapping = actions.filter(ocsf).map((a) => `${a.name} ${a.action}`).sort();
    expect(mapping).toEqual([`${before}.ocsf created`, `${dynamic}.ocsf conflict`]);
    const m = await client.indices.getFieldMapping({ index: before, fields: 'ocsf' });
    expect(JSON.stringify(m.body)).toContain('"flat_object"');
    // Again: nothing to do.
    const again: SetupAction[] = [];
    await setupOpenSearch(client, { templates: { indexPrefix: prefix, replicas: 0, shards: 1, refreshIntervalMs: 1000 }, ism: 'skip', onAction: (a) => again.push(a) });
    expect(again.filter(ocsf).map((a) => `${a.name} ${a.action}`).sort()).toEqual([`${before}.ocsf unchanged`, `${dynamic}.ocsf conflict`]);

    // The day index made before now takes OCSF events whatever their unmapped holds (an object, then text).
    const sink = await OpenSearchSink.fromConfig({ nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0 });
    try {
      const events = OCSF_PAIRS.map((p, i) => {
        const raw = { ...p.ocsf, time: Date.parse('2026-11-01T10:00:00Z') + i, time_dt: undefined, unmapped: i % 2 === 0 ? { eventType: 'AwsApiCall' } : 'notjson' };
        const r = normalizeRecord(raw, { collector: 'file', receivedAt: '2026-11-01T15:00:00.000Z' });
        if (!r.ok) throw r.error;
        return r.value;
      });
      const results = await sink.writeEvents(events);
      expect(results.map((r) => r.status)).toEqual(events.map(() => 'acked'));
    } finally {
      await sink.close();
    }
  });
});
