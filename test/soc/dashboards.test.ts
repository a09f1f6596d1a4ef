import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, describe, expect, it } from 'vitest';
import { setupOpenSearchCommand } from '../../src/cli/setup.ts';
import { DASHBOARDS_DIR } from '../../src/sinks/opensearch/dashboards-import.ts';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';
import { checkFields } from './dashboards-check.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A STUB of OpenSearch Dashboards' Saved Objects import endpoint (Dashboards cannot run here): records each
 * request and answers the way Dashboards does, `{ success, successCount }`, or with an error list.
 */
async function startImportStub(answer: (n: number, objects: number) => { status: number; body: unknown }): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const objects = (body.match(/^\{"type":/gm) ?? []).length;
      const a = answer(seen.length, objects);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/base`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const prefix = `seamt_${RUN_ID}_dash`;
const client = new Client({ node: opensearchUrl() });
afterAll(async () => {
  await dropPrefix(client, prefix);
  await client.close();
});

describe('dashboards', () => {
  it('every field the saved objects name is in the index templates with a type its use needs', () => {
    const r = checkFields('seam');
    expect(r.dashboards).toBe(5);
    expect(r.fieldsChecked).toBeGreaterThan(100);
    expect(r.fieldsMissing).toEqual([]);
  });

  it('seam setup opensearch --dashboards imports every file through the Saved Objects API (against a stub of the endpoint)', async () => {
    const stub = await startImportStub((_n, objects) => ({ status: 200, body: { success: true, successCount: objects } }));
    const out: string[] = [];
    const code = await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: prefix, replicas: 0, ism: false, dashboards: stub.url, out: { write: (s) => out.push(s) }, err: { write: (s) => out.push(s) } });
    await stub.close();
    expect(code, out.join('')).toBe(0);
    const files = ['index-patterns.ndjson', 'soc-overview.ndjson', 'incident-triage.ndjson', 'identity-explorer.ndjson', 'hunting.ndjson', 'attack-coverage.ndjson'];
    expect(stub.seen).toHaveLength(files.length);
    stub.seen.forEach((req, i) => {
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/base/api/saved_objects/_import?overwrite=true');
      expect(req.headers['osd-xsrf']).toBe('true');
      const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(String(req.headers['content-type']))?.[1];
      expect(boundary, String(req.headers['content-type'])).toBeDefined();
      // One part, the `file` field, carrying the shipped file byte for byte (with the prefix in the index patterns' titles).
      const parts = req.body.split(`--${boundary}`).filter((p) => p.trim() !== '' && p.trim() !== '--');
      expect(parts).toHaveLength(1);
      const [head, ...rest] = parts[0]!.split('\r\n\r\n');
      expect(head).toContain(`Content-Disposition: form-data; name="file"; filename="${files[i]}"`);
      const content = rest.join('\r\n\r\n').replace(/\r\n$/, '');
      const shipped = readFileSync(join(DASHBOARDS_DIR, files[i]!), 'utf8');
      if (i === 0) expect(content).toBe(shipped.replaceAll('"title":"seam-', `"title":"${prefix}-`));
      else expect(content).toBe(shipped);
    });
    expect(out.join('')).toMatch(/imported {5}saved objects soc-overview\.ndjson \(11 of 11\)/);
  });

  it('a refused import stops setup with the file and Dashboards\' reasons', async () => {
    const stub = await startImportStub((n) =>
      n === 2 ? { status: 200, body: { success: false, successCount: 0, errors: [{ id: 'seam-top-rules', type: 'visualization', error: { type: 'missing_references' } }] } } : { status: 200, body: { success: true, successCount: 1 } },
    );
    const out: string[] = [];
    const code = await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: prefix, replicas: 0, ism: false, dashboards: stub.url, out: { write: (s) => out.push(s) }, err: { write: (s) => out.push(s) } });
    await stub.close();
    expect(code).toBe(1);
    expect(out.join('')).toContain('SEAM_ERR_SINK_SETUP: Dashboards refused soc-overview.ndjson (HTTP 200): visualization seam-top-rules: missing_references');
    expect(stub.seen).toHaveLength(2);
  });
});
