import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TOPICS } from '../../bus/topics.ts';
import type { BusMessage, BusProducer } from '../../bus/types.ts';
import type { RawMeta } from '../../core/envelope.ts';
import { childLogger } from '../../core/logger.ts';
import { rawHeaders } from '../checkpoint/raw-record.ts';
import { CollectorStats } from '../checkpoint/stats.ts';
import type { SidecarSourceConfig } from './config.ts';
import { LastSeen, type SeenPod } from './last-seen.ts';
import { authenticate, parseBodyChunked, runtimeKey, type RejectedLine } from './parse.ts';

export interface SidecarDeps {
  producer: BusProducer;
}

/**
 * The answer to a batch: how many records were taken, and why the others were not: the first
 * `maxReasons` rejected lines with their reasons, and counts of all of them by code (an answer's size
 * does not grow with the body).
 */
export interface IngestResult {
  accepted: number;
  rejected: RejectedLine[];
  rejected_total: number;
  rejected_by_code: Record<string, number>;
}

const log = childLogger('source.sidecar');

/**
 * The ingest endpoint for runtime telemetry from sidecars (EKS on Fargate has no GuardDuty Runtime
 * Monitoring). POST NDJSON (or one JSON object/array) with `Authorization: Bearer <token>`; the
 * answer comes only after the accepted records are durable on the bus, so a 2xx means "kept" and
 * anything else means "send again".
 */
export class SidecarSource {
  readonly stats: CollectorStats;
  /** Each pod's last heartbeat (seam_sidecar_last_seen_seconds). */
  readonly lastSeen: LastSeen;
  private server: Server | undefined;

  constructor(
    readonly config: SidecarSourceConfig,
    private readonly deps: SidecarDeps,
  ) {
    this.stats = new CollectorStats(`sidecar:${config.name}`);
    this.lastSeen = new LastSeen({ forgetMs: config.lastSeenForgetMs, maxPods: config.lastSeenMaxPods });
  }

  /** The collector's counters, and each tracked pod's seconds since its sensor's last heartbeat. */
  snapshot(nowMs = Date.now()): ReturnType<CollectorStats['snapshot']> & { sensorsLastSeen: (Omit<SeenPod, 'atMs' | 'seq' | 'intervalMs'> & { ageMs: number })[] } {
    return {
      ...this.stats.snapshot(nowMs),
      sensorsLastSeen: this.lastSeen.snapshot(nowMs).map((p) => ({ cluster: p.cluster, namespace: p.namespace, pod: p.pod, ageMs: Math.max(0, nowMs - p.atMs) })),
    };
  }

  /** Starts listening; resolves with the bound URL (useful with port 0). */
  async listen(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((error: unknown) => {
        // The message only: no request body, no stack in the answer.
        log.error({ error: { message: (error as Error)?.message ?? String(error) } }, 'Ingest request failed unexpectedly.');
        if (!res.headersSent) reply(res, 500, { error: 'SEAM_ERR_INTERNAL', reason: 'internal error' });
      });
    };
    const tls = this.config.tls;
    const server: Server = tls
      ? (createHttpsServer(
          {
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
            requestCert: tls.requireClientCert,
            rejectUnauthorized: tls.requireClientCert,
          },
          handler,
        ) as unknown as Server)
      : createHttpServer(handler);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `${tls ? 'https' : 'http'}://${host}:${addr.port}${this.config.path}`;
    log.info({ url }, 'Sidecar ingest endpoint is listening.');
    if (!tls && !isLoopback(addr.address)) {
      log.warn({ url }, 'Sidecar ingest endpoint listens in PLAIN HTTP on a non-loopback address: bearer tokens and records cross the network unencrypted. Configure tls (certFile, keyFile) or put it behind a TLS proxy on loopback.');
    }
    return url;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeIdleConnections?.();
    });
    await this.deps.producer.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The path as sent, without parsing it as a URL (`//` or `//host` would throw or change meaning).
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const pathname = q < 0 ? raw : raw.slice(0, q);
    if (pathname !== this.config.path) {
      req.resume();
      return reply(res, 404, { error: 'not_found', reason: `POST batches to ${this.config.path}` });
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(res, 405, { error: 'method_not_allowed', reason: 'use POST' });
    }
    const who = authenticate(req.headers.authorization, this.config.tokens);
    if (who === 'missing' || who === 'invalid') {
      this.stats.counters.error('SEAM_ERR_INGEST_UNAUTHENTICATED');
      res.setHeader('www-authenticate', 'Bearer realm="seam-ingest"');
      req.resume();
      return reply(res, 401, { error: 'SEAM_ERR_INGEST_UNAUTHENTICATED', reason: who === 'missing' ? 'send Authorization: Bearer <token>' : 'token not recognised' });
    }
    const claimed = req.headers['x-seam-cluster'];
    if (who.cluster !== undefined && typeof claimed === 'string' && claimed !== who.cluster) {
      this.stats.counters.error('SEAM_ERR_INGEST_FORBIDDEN');
      req.resume();
      return reply(res, 403, { error: 'SEAM_ERR_INGEST_FORBIDDEN', reason: `token ${who.id} is for cluster ${who.cluster}, not ${claimed}` });
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > this.config.maxBodyBytes) {
      return this.tooLarge(req, res, declared);
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let over = false;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > this.config.maxBodyBytes) {
        over = true;
        break;
      }
      chunks.push(chunk);
    }
    if (over) return this.tooLarge(req, res, bytes);

    const body = Buffer.concat(chunks).toString('utf8');
    const cluster = who.cluster;
    const { accepted, rejected } = await parseBodyChunked(body, { maxLineBytes: this.config.maxLineBytes, maxRecordDepth: this.config.maxRecordDepth, token: who });
    this.stats.counters.received += accepted.length + rejected.length;
    const byCode: Record<string, number> = {};
    for (const r of rejected) {
      this.stats.counters.error(r.code);
      byCode[r.code] = (byCode[r.code] ?? 0) + 1;
    }
    const answer = (n: number): IngestResult => ({ accepted: n, rejected: rejected.slice(0, this.config.maxReasons), rejected_total: rejected.length, rejected_by_code: byCode });
    if (accepted.length === 0) {
      // Every line refused because the token may not speak for it: 403, the reasons line by line.
      const forbidden = rejected.length > 0 && rejected.every((r) => r.code === 'SEAM_ERR_INGEST_FORBIDDEN');
      if (forbidden) log.warn({ token: who.id, lines: rejected.length, first: rejected[0]?.reason }, 'Sidecar token sent records for an identity it is not bound to; refused.');
      return reply(res, forbidden ? 403 : 400, answer(0));
    }
    if (byCode.SEAM_ERR_INGEST_FORBIDDEN !== undefined) log.warn({ token: who.id, lines: byCode.SEAM_ERR_INGEST_FORBIDDEN, first: rejected.find((r) => r.code === 'SEAM_ERR_INGEST_FORBIDDEN')?.reason }, 'Sidecar token sent records for an identity it is not bound to; those lines were refused.');
    const receivedAt = new Date().toISOString();
    const messages: BusMessage[] = accepted.map(({ line, text, record }) => {
      const recCluster = typeof record.cluster === 'string' ? record.cluster : cluster;
      const meta: RawMeta = {
        collector: 'sidecar',
        receivedAt,
        source: 'runtime',
        ...(recCluster === undefined ? {} : { cluster: recCluster }),
        ...(who.account === undefined ? {} : { account: who.account }),
        origin: `sidecar:${who.id}${who.workload ? `:${who.workload}` : ''}#${line}`,
      };
      return { topic: TOPICS.raw('runtime'), key: runtimeKey(record, recCluster, who.id), value: Buffer.from(text, 'utf8'), headers: rawHeaders(meta), timestampMs: Date.now() };
    });
    try {
      // The answer waits for durability: a 2xx promises the records are kept.
      await this.deps.producer.send(messages);
    } catch (error) {
      this.stats.counters.error('SEAM_ERR_BUS_PRODUCE');
      log.warn({ error, records: messages.length }, 'Ingest could not write to the bus; the sidecar is told to retry.');
      res.setHeader('retry-after', '5');
      return reply(res, 503, { error: 'SEAM_ERR_BUS_PRODUCE', reason: 'records could not be made durable; send the batch again' });
    }
    this.stats.emitted(messages.length);
    const now = Date.now();
    for (const a of accepted) this.lastSeen.note(a.record, cluster, now);
    reply(res, 200, answer(accepted.length));
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse, bytes: number): void {
    this.stats.counters.error('SEAM_ERR_INGEST_BODY_TOO_LARGE');
    res.setHeader('connection', 'close');
    reply(res, 413, { error: 'SEAM_ERR_INGEST_BODY_TOO_LARGE', reason: `body is ${bytes}+ bytes, over the ${this.config.maxBodyBytes}-byte limit; send smaller batches` });
    // Stop reading the rest; the connection closes after the answer.
    res.on('finish', () => req.destroy());
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1' || address === 'localhost';
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
