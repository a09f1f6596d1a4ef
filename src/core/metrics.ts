import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { parseListenAddress } from './listen-address.ts';

/**
 * The metrics and health listener of a long-running process (docs/metrics.md): `/metrics` in the
 * Prometheus text format (prom-client; the process's default metrics plus whatever the caller
 * registers on `registry`), `/healthz` (the process answers: live) and `/readyz` (200 when every
 * readiness check passes, else 503 with the reasons, one a line).
 */
export interface ReadinessCheck {
  name: string;
  /** undefined when ready; otherwise why not. A throw counts as not ready, with its message. */
  check(): Promise<string | undefined> | string | undefined;
}

export class MetricsServer {
  readonly registry = new Registry();
  private readonly checks: ReadinessCheck[] = [];
  private server: Server | undefined;

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    // What /readyz answers, as a series Prometheus can alert on without a blackbox probe (review-ops M3).
    const notReady = (): Promise<string[]> => this.notReady();
    new Gauge({
      name: 'seam_ready',
      help: '1 when every readiness check passes (what /readyz answers with 200), else 0',
      registers: [this.registry],
      async collect() {
        this.set((await notReady()).length === 0 ? 1 : 0);
      },
    });
  }

  addReadiness(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** The reasons the process is not ready (empty when it is). */
  async notReady(): Promise<string[]> {
    const out: string[] = [];
    for (const c of this.checks) {
      try {
        const why = await c.check();
        if (why !== undefined) out.push(`${c.name}: ${why}`);
      } catch (e) {
        out.push(`${c.name}: ${(e as Error).message}`);
      }
    }
    return out;
  }

  /** Starts listening; resolves with the bound address (the port when 0 was asked). */
  async listen(addr: string): Promise<{ host: string; port: number }> {
    const { host, port } = parseListenAddress(addr);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
      if (path === '/healthz') return reply(200, 'ok\n');
      if (path === '/readyz') {
        this.notReady().then(
          (why) => (why.length === 0 ? reply(200, 'ready\n') : reply(503, `not ready\n${why.join('\n')}\n`)),
          (e: unknown) => reply(503, `not ready\n${(e as Error).message}\n`),
        );
        return;
      }
      if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => reply(200, text, this.registry.contentType),
          (e: unknown) => reply(500, `metrics failed: ${(e as Error).message}\n`),
        );
        return;
      }
      reply(404, 'not found: /metrics, /healthz, /readyz\n');
    });
    // Idle keep-alive connections are kept longer than a scraper's (Prometheus, undici: a few seconds): with Node's
    // 5 s default, a scrape that reuses a connection the server is closing at that moment gets ECONNRESET, which
    // happens when the process is busy (loading rules, rebuilding) and its idle timer fires late.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // Nor does an idle scraper's connection keep a finished process alive.
    server.on('connection', (socket) => socket.unref());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Never what keeps a process alive: one that fails while starting exits as it did without a listener.
    server.unref();
    this.server = server;
    const a = server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
