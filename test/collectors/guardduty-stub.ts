// A STUB of the GuardDuty API for tests (moto has no ListFindings/GetFindings). It speaks the REST-JSON
// wire protocol as @aws-sdk/client-guardduty sends it (paths and camelCase JSON names taken from the
// SDK's schema in node_modules/@aws-sdk/client-guardduty/dist-cjs/index.js):
//   GET  /detector?maxResults&nextToken            → { detectorIds, nextToken }
//   POST /detector/{id}/findings        { findingCriteria: { criterion: { updatedAt: { greaterThanOrEqual, lessThanOrEqual } } },
//                                         sortCriteria: { attributeName, orderBy }, maxResults, nextToken } → { findingIds, nextToken }
//   POST /detector/{id}/findings/get    { findingIds, sortCriteria } → { findings }
// It is not GuardDuty: only the updatedAt criterion and sort are honoured, and it can throttle on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubFinding {
  id: string;
  updatedAtMs: number;
  createdAtMs: number;
  type: string;
  cluster?: string;
}

export class GuardDutyStub {
  readonly detectors = new Map<string, StubFinding[]>();
  /** Answer this many of the next requests with 429 ThrottlingException. */
  throttleNext = 0;
  /** Answer this many of the next requests with 403 AccessDeniedException (a pod whose credentials are not usable yet). */
  denyNext = 0;
  requests = 0;
  throttled = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (this.throttleNext > 0) {
          this.throttleNext--;
          this.throttled++;
          return send(429, { message: 'Rate exceeded (stub)' }, { 'x-amzn-errortype': 'TooManyRequestsException' });
        }
        if (this.denyNext > 0) {
          this.denyNext--;
          return send(403, { message: 'User is not authorized to perform: guardduty:ListDetectors (stub)' }, { 'x-amzn-errortype': 'AccessDeniedException' });
        }
        const url = new URL(req.url ?? '/', 'http://stub');
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
        const m = /^\/detector\/([^/]+)\/findings(\/get)?$/.exec(url.pathname);
        if (req.method === 'GET' && url.pathname === '/detector') return send(200, { detectorIds: [...this.detectors.keys()] });
        if (req.method === 'POST' && m) {
          const list = this.detectors.get(decodeURIComponent(m[1]!));
          if (list === undefined) return send(400, { message: 'The request is rejected because the input detectorId is not owned by the current account.' }, { 'x-amzn-errortype': 'BadRequestException' });
          if (m[2]) {
            const ids = new Set(body.findingIds as string[]);
            return send(200, { findings: list.filter((f) => ids.has(f.id)).map(toWire) });
          }
          const crit = ((body.findingCriteria as { criterion?: Record<string, { greaterThanOrEqual?: number; lessThanOrEqual?: number }> })?.criterion ?? {}).updatedAt ?? {};
          const sorted = list
            .filter((f) => (crit.greaterThanOrEqual === undefined || f.updatedAtMs >= crit.greaterThanOrEqual) && (crit.lessThanOrEqual === undefined || f.updatedAtMs <= crit.lessThanOrEqual))
            .sort((a, b) => a.updatedAtMs - b.updatedAtMs || a.id.localeCompare(b.id));
          const start = body.nextToken ? Number(body.nextToken) : 0;
          const max = (body.maxResults as number | undefined) ?? 50;
          const page = sorted.slice(start, start + max);
          const next = start + max < sorted.length ? String(start + max) : undefined;
          return send(200, { findingIds: page.map((f) => f.id), ...(next ? { nextToken: next } : {}) });
        }
        send(404, { message: `stub has no ${req.method} ${url.pathname}` }, { 'x-amzn-errortype': 'NotFoundException' });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

function toWire(f: StubFinding): Record<string, unknown> {
  return {
    accountId: '111122223333',
    arn: `arn:aws:guardduty:us-east-1:111122223333:detector/stub/finding/${f.id}`,
    createdAt: new Date(f.createdAtMs).toISOString(),
    updatedAt: new Date(f.updatedAtMs).toISOString(),
    id: f.id,
    partition: 'aws',
    region: 'us-east-1',
    schemaVersion: '2.0',
    severity: 5,
    type: f.type,
    title: 'stub finding',
    description: 'stub finding',
    resource: { resourceType: 'EKSCluster', ...(f.cluster ? { eksClusterDetails: { name: f.cluster } } : {}) },
    service: { serviceName: 'guardduty', detectorId: 'stub', count: 1, archived: false },
  };
}
