import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver does with the n-th request (1-based): answer with a status, or never answer (a timeout). */
export type Behaviour = (n: number, body: string, req: IncomingMessage) => number | 'hang';

export interface Received {
  body: string;
  json: unknown;
  headers: IncomingMessage['headers'];
  /** The X-Seam-Signature header matched the HMAC of the body under the receiver's secret. */
  signatureOk: boolean;
  status: number | 'hang';
}

/**
 * A real local HTTP receiver (node:http on 127.0.0.1, a random port) that records every request,
 * verifies `X-Seam-Signature` against its secret in constant time, and answers as `behaviour` says:
 * a status (inject 500s), or 'hang' (the client's timeout fires).
 */
export async function startReceiver(opts: { secret?: string; behaviour?: Behaviour; /** Answer after this long (a slow receiver keeps sends in flight). */ delayMs?: number } = {}): Promise<{ url: string; requests: Received[]; close(): Promise<void> }> {
  const requests: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = requests.length + 1;
      const status = opts.behaviour?.(n, body, req) ?? 200;
      let signatureOk = false;
      const sig = req.headers['x-seam-signature'];
      if (opts.secret !== undefined && typeof sig === 'string') {
        const want = Buffer.from(`sha256=${createHmac('sha256', opts.secret).update(body).digest('hex')}`);
        const got = Buffer.from(sig);
        signatureOk = want.length === got.length && timingSafeEqual(want, got);
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      requests.push({ body, json, headers: req.headers, signatureOk, status });
      if (status === 'hang') {
        hanging.add(res);
        return;
      }
      const answer = (): void => void res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `injected ${status}` : 'ok');
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
