import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SensorIngest } from './config.ts';
import { Shipper } from './ship.ts';

// A real HTTP server on a local port plays Seam's ingest endpoint (the full path, into Kafka, is test/sensor).
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function endpoint(answer: (req: IncomingMessage, body: string) => [number, unknown], port = 0): Promise<{ url: string; bodies: string[]; auth: string[] }> {
  const bodies: string[] = [];
  const auth: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      auth.push(String(req.headers.authorization));
      const [status, json] = answer(req, body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ingest`, bodies, auth };
}

const rec = (i: number): Record<string, unknown> => ({ schema: 'seam.runtime/v1', id: `r${i}`, pad: 'x'.repeat(80) });

describe('shipping to the ingest endpoint', () => {
  it('sends NDJSON batches with the bearer token and counts the lines the endpoint refused', async () => {
    const ep = await endpoint((_req, body) => [200, { accepted: body.trim().split('\n').length - 1, rejected: [{ line: 1, code: 'SEAM_ERR_INPUT_JSON', reason: 'x' }] }]);
    const s = new Shipper(SensorIngest.parse({ url: ep.url, batchMaxRecords: 3 }), undefined, { SEAM_INGEST_TOKEN: 'tok-1' });
    s.enqueue([rec(1), rec(2), rec(3), rec(4)]);
    await s.drain(Date.now() + 5000);
    expect(ep.bodies.map((b) => b.trim().split('\n').length)).toEqual([3, 1]);
    expect(JSON.parse(ep.bodies[0]!.split('\n')[0]!)).toMatchObject({ id: 'r1' });
    expect(ep.auth).toEqual(['Bearer tok-1', 'Bearer tok-1']);
    expect(s.counters).toMatchObject({ queued: 4, sent: 2, rejected: { SEAM_ERR_INPUT_JSON: 2 }, spoolRecords: 0, spoolBytes: 0, failures: 0 });
  });

  it('keeps a bounded spool while the endpoint is unreachable, counts drops, backs off, then delivers the newest', async () => {
    // A port nothing listens on: reserve one, then close it.
    const probe = await endpoint(() => [200, {}]);
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const s = new Shipper(SensorIngest.parse({ url: probe.url, spoolMaxBytes: 1000, initialBackoffMs: 300, maxBackoffMs: 300, flushIntervalMs: 1 }), undefined, {}, () => 1);
    s.enqueue(Array.from({ length: 30 }, (_, i) => rec(i)));
    expect(s.counters.spoolBytes).toBeLessThanOrEqual(1000);
    expect(s.counters.dropped).toBeGreaterThan(0);
    expect(s.counters.dropped + s.counters.spoolRecords).toBe(30);
    await s.tick(Date.now(), true);
    expect(s.counters.failures).toBe(1);
    expect(s.counters.lastError).toMatch(/ECONNREFUSED/);
    // Back-off: an immediate second tick does not post.
    await s.tick(Date.now(), true);
    expect(s.counters.failures).toBe(1);

    // The endpoint comes back on the same address: the same shipper delivers what it kept, newest included.
    const again = await endpoint((_req, body) => [200, { accepted: body.trim().split('\n').length, rejected: [] }], Number(new URL(probe.url).port));
    await s.drain(Date.now() + 5000);
    const ids = again.bodies.join('\n').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.at(-1)).toBe('r29');
    expect(ids).not.toContain('r0'); // the oldest were dropped
    expect(s.counters.sent + s.counters.dropped).toBe(30);
    expect(s.counters.spoolRecords).toBe(0);
  });

  it('halves the batch when the endpoint says the body is too large', async () => {
    const ep = await endpoint((_req, body) => (body.trim().split('\n').length > 2 ? [413, { error: 'SEAM_ERR_INGEST_BODY_TOO_LARGE' }] : [200, { accepted: 2, rejected: [] }]));
    const s = new Shipper(SensorIngest.parse({ url: ep.url, batchMaxRecords: 8 }), undefined, {});
    s.enqueue(Array.from({ length: 8 }, (_, i) => rec(i)));
    await s.drain(Date.now() + 5000);
    expect(s.counters.sent).toBe(8);
    expect(s.counters.failures).toBe(0);
  });

  it('speaks HTTPS trusting only the configured CA, with the token read from its file on every request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-ship-tls-'));
    try {
      // A CA and a server certificate for 127.0.0.1, made with the openssl CLI.
      const o = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=seam-test-ca']);
      o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
      writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
      o(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '1', '-extfile', 'ext']);
      const auth: string[] = [];
      const tls = createHttpsServer({ cert: readFileSync(join(dir, 'srv.crt')), key: readFileSync(join(dir, 'srv.key')) }, (req, res) => {
        auth.push(String(req.headers.authorization));
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1,"rejected":[]}'));
      });
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/v1/ingest`;
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'tok-a\n');
      try {
        const trusting = new Shipper(SensorIngest.parse({ url, caFile: join(dir, 'ca.crt'), tokenFile, requestTimeoutMs: 5000 }), undefined, {});
        trusting.enqueue([rec(1)]);
        await trusting.tick(Date.now(), true);
        writeFileSync(tokenFile, 'tok-b\n'); // rotated
        trusting.enqueue([rec(2)]);
        await trusting.tick(Date.now(), true);
        expect(trusting.counters).toMatchObject({ sent: 2, failures: 0 });
        expect(auth).toEqual(['Bearer tok-a', 'Bearer tok-b']);
        const untrusting = new Shipper(SensorIngest.parse({ url, tokenFile }), undefined, {});
        untrusting.enqueue([rec(3)]);
        await untrusting.tick(Date.now(), true);
        expect(untrusting.counters.failures).toBe(1);
        expect(untrusting.counters.lastError).toMatch(/certificate/i);
        expect(untrusting.counters.spoolRecords).toBe(1); // kept for the next try
      } finally {
        await new Promise<void>((r) => tls.close(() => r()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
