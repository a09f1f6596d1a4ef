// Hunting pages on the real OpenSearch: search_after must not skip a document that shares its event time and
// seam.id with the last one of the previous page. seam.id is the document id, unique within an index, not across
// the daily indices a hunt's pattern spans (an event indexed again under another day). With pages of one hit,
// every document is at a page boundary.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeRecord } from '../../src/core/normalize/normalize.ts';
import { runHunt } from '../../src/hunt/hunt.ts';
import { OpenSearchSink } from '../../src/sinks/opensearch/sink.ts';
import { setupOpenSearch } from '../../src/sinks/opensearch/setup.ts';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';

const prefix = `seampage_${RUN_ID}`;
let client: Client;
let rules: string;
let ids: string[] = [];

function record(id: string, time: string): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
    eventTime: time,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.22.4',
    requestParameters: { userName: 'bob' },
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  };
}

describe('hunt paging', () => {
  beforeAll(async () => {
    client = new Client({ node: opensearchUrl(), requestTimeout: 120_000 });
    await setupOpenSearch(client, { templates: { indexPrefix: prefix, shards: 1, replicas: 0, refreshIntervalMs: 1000 }, ism: 'skip' });
    // Three events a second apart, indexed as Seam indexes them; then the middle one's document again, as it is,
    // in the next day's index: the same event time and seam.id in two indices.
    const events = ['09:59:59', '10:00:00', '10:00:01'].map((t, i) => {
      const r = normalizeRecord(record(`e${i}`, `2026-12-01T${t}Z`), { collector: 'hunt-paging', receivedAt: '2026-12-01T10:05:00.000Z', origin: `paging#${i}` });
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    });
    const sink = new OpenSearchSink(client, { nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0 });
    const results = await sink.writeEvents(events);
    await sink.close();
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'acked']);
    await client.indices.refresh({ index: `${prefix}-events-*` });
    const middle = events[1]!.seam.id;
    const found = await client.search({ index: `${prefix}-events-*`, body: { query: { term: { _id: middle } } } as never });
    const hit = (found.body as unknown as { hits: { hits: { _index: string; _source: unknown }[] } }).hits.hits[0]!;
    await client.index({ index: `${prefix}-events-cloudtrail-2026.12.02`, id: middle, body: hit._source as never, refresh: true });
    ids = events.map((e) => e.seam.id);
    const dir = mkdtempSync(join(tmpdir(), 'seam-hunt-paging-'));
    rules = join(dir, 'create-access-key.yml');
    writeFileSync(
      rules,
      [
        'title: Access key created',
        'id: 5d0f5c1e-8a3b-4c55-9a43-0c3b7f1e2d10',
        'logsource: {product: aws, service: cloudtrail}',
        'detection:',
        '  selection: {eventSource: iam.amazonaws.com, eventName: CreateAccessKey}',
        '  condition: selection',
        'level: low',
        '',
      ].join('\n'),
    );
  }, 300_000);

  afterAll(async () => {
    if (client) await dropPrefix(client, prefix);
    await client?.close();
  });

  it('pages of one hit find every document, the same event in two daily indices included', { timeout: 300_000 }, async () => {
    const got: string[] = [];
    const s = await runHunt(client, { rules: [rules], indexPrefix: prefix, size: 100, pageSize: 1 }, (m) => got.push(m['seam.id']));
    expect(s.rules.map((r) => r.error)).toEqual([undefined]);
    expect(got).toEqual([ids[0], ids[1], ids[1], ids[2]]);
    // The same with one page for all: the paging changes nothing.
    const all: string[] = [];
    await runHunt(client, { rules: [rules], indexPrefix: prefix, size: 100, pageSize: 100 }, (m) => all.push(m['seam.id']));
    expect(all).toEqual(got);
  });
});
