// Real OpenSearch 2.19 through @opensearch-project/opensearch: the index features Seam's mappings rely on
// (flat_object for open-ended objects, explicit _id for redelivery without duplicates, case-insensitive
// term/wildcard queries for hunting).
import { Client } from '@opensearch-project/opensearch';
import type { Bulk_RequestBody } from '@opensearch-project/opensearch/api/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensearchUrl, uniqueIndex } from './helpers/services.ts';

interface Doc {
  '@timestamp': string;
  eventName: string;
  userAgent: string;
  requestParameters: Record<string, unknown>;
  seam: { id: string; source: string };
}

const docs: Doc[] = [
  {
    '@timestamp': '2026-01-01T00:00:00Z',
    eventName: 'GetObject',
    userAgent: 'aws-cli/2.15.0 Python/3.11',
    requestParameters: { bucketName: 'Prod-Secrets', key: 'db/password.txt', nested: { deep: { value: 'x' } } },
    seam: { id: 'evt-1', source: 'cloudtrail' },
  },
  {
    '@timestamp': '2026-01-01T00:00:01Z',
    eventName: 'AssumeRoleWithWebIdentity',
    userAgent: 'Boto3/1.34.0',
    requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/irsa-app', roleSessionName: 'botocore-session-1' },
    seam: { id: 'evt-2', source: 'cloudtrail' },
  },
  {
    '@timestamp': '2026-01-01T00:00:02Z',
    eventName: 'CreateAccessEntry',
    userAgent: 'AWS-Console',
    requestParameters: { principalArn: 'arn:aws:iam::111122223333:user/mallory', kubernetesGroups: ['system:masters'] },
    seam: { id: 'evt-3', source: 'cloudtrail' },
  },
];

function bulkBody(items: Doc[], index: string): Bulk_RequestBody {
  return items.flatMap((d) => [{ index: { _index: index, _id: d.seam.id } }, d as unknown as Record<string, unknown>]);
}

describe('opensearch (local node via @opensearch-project/opensearch)', () => {
  const client = new Client({ node: opensearchUrl() });
  const index = uniqueIndex('seam-test-events');

  beforeAll(async () => {
    await client.indices.create({
      index,
      body: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: {
          dynamic: 'strict',
          properties: {
            '@timestamp': { type: 'date' },
            eventName: { type: 'keyword' },
            userAgent: { type: 'keyword' },
            requestParameters: { type: 'flat_object' },
            seam: { properties: { id: { type: 'keyword' }, source: { type: 'keyword' } } },
          },
        },
      },
    });
  });

  afterAll(async () => {
    await client.indices.delete({ index }).catch(() => undefined);
    await client.close();
  });

  it('creates a one-node index that is green (no replicas to wait for)', async () => {
    const health = await client.cluster.health({ index, wait_for_status: 'green', timeout: '30s' });
    expect(health.body.status).toBe('green');
    const mapping = await client.indices.getMapping({ index });
    const props = mapping.body[index]?.mappings?.properties as Record<string, { type?: string }>;
    expect(props.requestParameters?.type).toBe('flat_object');
  });

  it('bulk indexes with explicit _id, and re-indexing the same ids does not duplicate', async () => {
    const first = await client.bulk({ body: bulkBody(docs, index), refresh: true });
    expect(first.body.errors).toBe(false);
    expect(first.body.items.map((i) => i.index?.result)).toEqual(['created', 'created', 'created']);

    // Redelivery: same ids, one field changed on one document.
    const again = docs.map((d) => (d.seam.id === 'evt-2' ? { ...d, userAgent: 'Boto3/1.35.0' } : d));
    const second = await client.bulk({ body: bulkBody(again, index), refresh: true });
    expect(second.body.errors).toBe(false);
    expect(second.body.items.map((i) => i.index?.result)).toEqual(['updated', 'updated', 'updated']);
    expect(second.body.items.map((i) => i.index?._version)).toEqual([2, 2, 2]);

    const count = await client.count({ index });
    expect(count.body.count).toBe(docs.length);
    const evt2 = await client.get({ index, id: 'evt-2' });
    expect((evt2.body._source as Doc).userAgent).toBe('Boto3/1.35.0');
  });

  it('rejects a field outside the strict mapping but accepts any shape under a flat_object field', async () => {
    const res = await client.bulk({
      body: [
        { index: { _index: index, _id: 'evt-bad' } },
        { ...docs[0], seam: { id: 'evt-bad', source: 'cloudtrail' }, unexpected: 1 },
        { index: { _index: index, _id: 'evt-wide' } },
        {
          ...docs[0],
          seam: { id: 'evt-wide', source: 'cloudtrail' },
          requestParameters: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`field${i}`, { v: i }])),
        },
      ],
      refresh: true,
    });
    expect(res.body.errors).toBe(true);
    expect(res.body.items[0]?.index?.error?.type).toBe('strict_dynamic_mapping_exception');
    expect(res.body.items[1]?.index?.result).toBe('created');
    await client.delete({ index, id: 'evt-wide', refresh: true });
  });

  it('searches flat_object leaves and keywords with term and wildcard, case-insensitively', async () => {
    const ids = async (query: Record<string, unknown>): Promise<string[]> => {
      const res = await client.search({ index, body: { query, sort: [{ 'seam.id': 'asc' }] } });
      return res.body.hits.hits.map((h) => String(h._id));
    };

    // flat_object: a dotted path reaches a leaf, however deep.
    expect(await ids({ term: { 'requestParameters.bucketName': 'Prod-Secrets' } })).toEqual(['evt-1']);
    expect(await ids({ term: { 'requestParameters.nested.deep.value': 'x' } })).toEqual(['evt-1']);
    expect(await ids({ term: { 'requestParameters.kubernetesGroups': 'system:masters' } })).toEqual(['evt-3']);
    // Keyword term: exact by default, case-insensitive on request.
    expect(await ids({ term: { eventName: 'createaccessentry' } })).toEqual([]);
    expect(await ids({ term: { eventName: { value: 'createaccessentry', case_insensitive: true } } })).toEqual(['evt-3']);
    // Wildcard, as Sigma's contains/startswith/endswith compile to.
    expect(await ids({ wildcard: { userAgent: { value: 'boto3/*', case_insensitive: true } } })).toEqual(['evt-2']);
    expect(await ids({ wildcard: { userAgent: { value: '*CLI*', case_insensitive: true } } })).toEqual(['evt-1']);
    expect(await ids({ wildcard: { userAgent: { value: '*CLI*' } } })).toEqual([]);
    expect(
      await ids({ wildcard: { 'requestParameters.roleArn': { value: '*:ROLE/IRSA-*', case_insensitive: true } } }),
    ).toEqual(['evt-2']);
  });
});
