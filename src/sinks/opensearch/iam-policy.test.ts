import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenSearchClient } from './client.ts';
import { OpenSearchSinkConfig } from './config.ts';
import { setupOpenSearch } from './setup.ts';
import { OpenSearchSink } from './sink.ts';
import { alertsIndexName, incidentsIndexName } from './templates.ts';

/**
 * deploy/iam/opensearch-index-policy.json and opensearch-setup-policy.json against the HTTP requests Seam's
 * own code makes (the real OpenSearch client, to a stub server that records method and path and answers as an
 * empty domain would): what the index role does at start and while indexing is allowed by the index policy,
 * `seam setup opensearch` by the setup policy, and the index policy allows no other index prefix, no cluster
 * or plugin API and no DELETE. Amazon OpenSearch authorizes `es:ESHttp<Method>` on `domain/<name>` + the path.
 */
type Statement = { Effect: string; Action: string | string[]; Resource: string | string[] };
const list = (x: string | string[]): string[] => (typeof x === 'string' ? [x] : x);
const policy = (file: string): Statement[] => (JSON.parse(readFileSync(join(import.meta.dirname, '../../../deploy/iam', file), 'utf8')) as { Statement: Statement[] }).Statement;
const iamMatch = (pattern: string, value: string): boolean => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test(value);

const PREFIX = 'blue_seam';
const DOMAIN = 'arn:aws:es:us-west-2:111122223333:domain/seam-prod';
const fill = (r: string): string => r.replace('arn:aws:es:REGION:ACCOUNT_ID:domain/DOMAIN_NAME', DOMAIN).replaceAll('INDEX_PREFIX', PREFIX);
const action = (method: string): string => `es:ESHttp${method[0]}${method.slice(1).toLowerCase()}`;
function allowed(statements: Statement[], method: string, path: string): boolean {
  const resource = DOMAIN + decodeURIComponent(path.split('?')[0]!);
  return statements.some((st) => st.Effect === 'Allow' && list(st.Action).includes(action(method)) && list(st.Resource).some((r) => iamMatch(fill(r), resource)));
}

let server: Server;
let url: string;
const seen: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push(`${req.method} ${path}`);
    req.resume();
    req.on('end', () => {
      const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (path.startsWith('/_bulk')) return json(200, { took: 1, errors: false, items: [{ index: { _index: 'x', _id: 'a', status: 201, result: 'created' } }] });
      if (path.includes('/_mget')) return json(200, { docs: [] });
      // The age-out's series search: one quiet series (no after_key: one page).
      if (path.includes('/_search')) return json(200, { aggregations: { s: { buckets: [{ key: { series: 'inc-1' }, newest: { value: 0 } }] } } });
      if (path.startsWith('/_cat/plugins')) return json(200, [{ component: 'opensearch-index-management' }]);
      if (req.method === 'GET' || req.method === 'HEAD') return json(req.method === 'HEAD' && path === '/' ? 200 : 404, {});
      return json(200, { acknowledged: true });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const take = (): string[] => seen.splice(0);

describe('OpenSearch IAM policies (deploy/iam) against the requests Seam makes', () => {
  it('the index role (start: templates and indices, ism skipped; readiness ping; bulk; incidents mget) is allowed by opensearch-index-policy.json', async () => {
    const config = OpenSearchSinkConfig.parse({ nodeUrls: [url], indexPrefix: PREFIX });
    const client = await createOpenSearchClient(config);
    take();
    await setupOpenSearch(client, { templates: config, ism: 'skip' });
    await client.ping();
    await client.mget({ index: incidentsIndexName(PREFIX), body: { ids: ['i-1'] } } as never, { ignore: [404] });
    const sink = new OpenSearchSink(client, config);
    const ack = sink.index({ '@timestamp': '2024-11-05T10:00:00Z', id: 'a' }, { id: 'a', index: alertsIndexName(PREFIX, '2024-11-05T10:00:00Z', true) });
    await sink.flush();
    await ack;
    const requests = take();
    expect(requests.some((r) => r.startsWith('POST /_bulk'))).toBe(true);
    expect(requests.some((r) => r.startsWith('PUT /_index_template/'))).toBe(true);
    const index = policy('opensearch-index-policy.json');
    expect(requests.filter((r) => !allowed(index, r.split(' ')[0]!, r.split(' ')[1]!))).toEqual([]);
    await client.close();
  });

  it('seam setup opensearch (ISM too) is allowed by opensearch-setup-policy.json; the ISM calls are not by the index policy', async () => {
    const config = OpenSearchSinkConfig.parse({ nodeUrls: [url], indexPrefix: PREFIX });
    const client = await createOpenSearchClient(config);
    take();
    const ageOut = { identityDays: 400, incidentsDays: 400 };
    await setupOpenSearch(client, { templates: config, ism: 'auto', ageOut });
    await setupOpenSearch(client, { templates: config, ism: 'auto', ageOut, dryRun: true });
    const requests = take();
    const ism = requests.filter((r) => r.includes('/_plugins/_ism/'));
    expect(ism.length).toBeGreaterThan(0);
    // The age-out of the two single indices (retention.ts): a refresh, search, delete-by-query, and counts in a dry run.
    for (const path of [`/${PREFIX}-identity/_refresh`, `/${PREFIX}-incidents/_refresh`, `/${PREFIX}-identity/_delete_by_query`, `/${PREFIX}-incidents/_search`, `/${PREFIX}-incidents/_delete_by_query`, `/${PREFIX}-identity/_count`]) {
      expect(requests.some((r) => r.startsWith(`POST ${path}`)), path).toBe(true);
    }
    const setup = policy('opensearch-setup-policy.json');
    expect(requests.filter((r) => !allowed(setup, r.split(' ')[0]!, r.split(' ')[1]!))).toEqual([]);
    const index = policy('opensearch-index-policy.json');
    expect(ism.filter((r) => allowed(index, r.split(' ')[0]!, r.split(' ')[1]!))).toEqual([]);
    await client.close();
  });

  it('the index policy allows no other prefix, no cluster, security or plugin API, and no DELETE', () => {
    const index = policy('opensearch-index-policy.json');
    for (const [method, path] of [
      ['PUT', '/green_seam-alerts-2024.11.05/_doc/x'],
      ['POST', '/.kibana/_doc/x'],
      ['PUT', '/_cluster/settings'],
      ['PUT', '/_plugins/_security/api/internalusers/admin'],
      ['PUT', '/_plugins/_ism/policies/x'],
      ['PUT', '/_index_template/zzz'],
      ['POST', '/_reindex'],
      ['GET', '/_search'],
      ['DELETE', `/${PREFIX}-alerts-2024.11.05`],
      ['DELETE', `/${PREFIX}-identity`],
    ] as const) {
      expect(allowed(index, method, path), `${method} ${path}`).toBe(false);
    }
    expect(allowed(index, 'POST', `/${PREFIX}-alerts-2024.11.05/_doc`)).toBe(true);
  });
});
