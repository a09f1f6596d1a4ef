import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fullJitterMs } from '../core/backoff.ts';
import type { SensorIngest } from './config.ts';

/**
 * Sends events to Seam's sidecar ingest endpoint as batched NDJSON with the bearer token, trusting the
 * configured CA. While Seam is unreachable the events wait in a bounded in-memory spool; past the bound
 * the oldest are dropped and counted (a sidecar must never grow until the pod is OOM-killed).
 * A 2xx means durable (the endpoint answers after Kafka has the records); lines it refuses are counted,
 * never resent; anything else is resent after a jittered back-off.
 */

export interface ShipCounters {
  queued: number;
  sent: number;
  /** Lines the endpoint refused (bad record), by error code. */
  rejected: Record<string, number>;
  /** Dropped because the spool was full (oldest first). */
  dropped: number;
  /** Failed POSTs (network error, timeout, 5xx, 401/403...). */
  failures: number;
  spoolBytes: number;
  spoolRecords: number;
  lastError?: string;
}

export interface PostResult {
  status: number;
  body: string;
}

export type Poster = (body: string, headers: Record<string, string>) => Promise<PostResult>;

export class Shipper {
  readonly counters: ShipCounters = { queued: 0, sent: 0, rejected: {}, dropped: 0, failures: 0, spoolBytes: 0, spoolRecords: 0 };
  private spool: string[] = [];
  private head = 0;
  private attempt = 0;
  private nextTryAt = 0;
  private batchMax: number;
  private inFlight: Promise<void> | undefined;
  private oldestQueuedAt: number | undefined;

  constructor(
    private readonly config: SensorIngest,
    private readonly post: Poster = httpPoster(config),
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly random: () => number = Math.random,
  ) {
    this.batchMax = config.batchMaxRecords;
  }

  enqueue(records: readonly object[]): void {
    for (const r of records) {
      const line = JSON.stringify(r);
      this.spool.push(line);
      this.counters.spoolBytes += line.length + 1;
      this.counters.queued++;
    }
    if (records.length > 0) this.oldestQueuedAt ??= Date.now();
    while (this.counters.spoolBytes > this.config.spoolMaxBytes && this.head < this.spool.length) {
      this.counters.spoolBytes -= this.spool[this.head]!.length + 1;
      this.head++;
      this.counters.dropped++;
    }
    this.compact();
    this.counters.spoolRecords = this.spool.length - this.head;
  }

  /** Sends one batch if one is due (enough records, or the oldest waited flushIntervalMs) and no back-off is pending. */
  tick(now = Date.now(), force = false): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const pending = this.spool.length - this.head;
    if (pending === 0 || now < this.nextTryAt) return Promise.resolve();
    const due = force || pending >= this.batchMax || (this.oldestQueuedAt !== undefined && now - this.oldestQueuedAt >= this.config.flushIntervalMs);
    if (!due) return Promise.resolve();
    this.inFlight = this.sendBatch().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Sends until the spool is empty or `deadline` passes (used at shutdown). */
  async drain(deadline: number): Promise<void> {
    while (this.spool.length - this.head > 0 && Date.now() < deadline) {
      if (Date.now() < this.nextTryAt) await new Promise((r) => setTimeout(r, Math.min(this.nextTryAt, deadline) - Date.now()));
      else await this.tick(Date.now(), true);
    }
  }

  private async sendBatch(): Promise<void> {
    const n = Math.min(this.batchMax, this.spool.length - this.head);
    const start = this.head;
    const body = this.spool.slice(start, start + n).join('\n') + '\n';
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson', 'user-agent': 'seam-sensor/0.1.0' };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.config.cluster) headers['x-seam-cluster'] = this.config.cluster;
    let res: PostResult;
    try {
      res = await this.post(body, headers);
    } catch (error) {
      return this.failed(`POST failed: ${(error as Error).message}`);
    }
    if (res.status === 413 && n > 1) {
      // The endpoint's body limit is lower than our batch: halve and try again at once.
      this.batchMax = Math.max(1, Math.floor(n / 2));
      return;
    }
    if (res.status >= 200 && res.status < 300) this.settle(start, n, res.body);
    else if (res.status === 400) {
      // Every line was refused (the answer lists why): resending cannot help.
      this.settle(start, n, res.body);
    } else return this.failed(`ingest answered ${res.status}: ${res.body.slice(0, 200)}`);
  }

  private settle(start: number, n: number, body: string): void {
    let rejected = 0;
    try {
      const parsed = JSON.parse(body) as { rejected?: { code?: string }[] };
      for (const r of parsed.rejected ?? []) {
        const code = r.code ?? 'unknown';
        this.counters.rejected[code] = (this.counters.rejected[code] ?? 0) + 1;
        rejected++;
      }
    } catch {
      // A 2xx without a JSON answer still means the records were taken.
    }
    // The spool may have dropped from the head while the request was in flight.
    const from = Math.max(start, this.head);
    const end = start + n;
    for (let i = from; i < end; i++) this.counters.spoolBytes -= this.spool[i]!.length + 1;
    this.counters.sent += Math.max(0, end - from - rejected);
    this.head = Math.max(this.head, end);
    this.attempt = 0;
    this.nextTryAt = 0;
    this.oldestQueuedAt = this.spool.length > this.head ? Date.now() : undefined;
    this.compact();
    this.counters.spoolRecords = this.spool.length - this.head;
  }

  private failed(reason: string): void {
    this.counters.failures++;
    this.counters.lastError = reason;
    this.attempt++;
    this.nextTryAt = Date.now() + Math.max(1, fullJitterMs(this.attempt, { initialBackoffMs: this.config.initialBackoffMs, maxBackoffMs: this.config.maxBackoffMs }, this.random));
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.spool.length) {
      this.spool = this.spool.slice(this.head);
      this.head = 0;
    }
  }

  private token(): string | undefined {
    if (this.config.tokenFile) {
      try {
        return readFileSync(this.config.tokenFile, 'utf8').trim();
      } catch (error) {
        this.counters.lastError = `token file ${this.config.tokenFile} cannot be read: ${(error as Error).message}`;
        return undefined;
      }
    }
    return this.env[this.config.tokenEnv];
  }
}

/** POST over node:http(s) (no fetch: undici would cost the sidecar several MB of memory). */
export function httpPoster(config: SensorIngest): Poster {
  const url = new URL(config.url);
  const ca = config.caFile ? readFileSync(config.caFile) : undefined;
  const https = url.protocol === 'https:';
  return (body, headers) =>
    new Promise<PostResult>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: config.requestTimeoutMs, ...(https && ca ? { ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${config.requestTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}
