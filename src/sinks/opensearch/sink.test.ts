import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpenSearchClient } from './client.ts';
import { OpenSearchSinkConfig, type OpenSearchSinkConfigInput } from './config.ts';
import type { SourceType } from '../../core/envelope.ts';
import { durablePrefix, OpenSearchSink, type SinkDoc } from './sink.ts';

/**
 * Error paths a real single node cannot produce on demand (429, 503, rejected execution, 413,
 * refused connections), against a stub that answers `POST /_bulk` the way OpenSearch does.
 * The happy path and mapping rejections run against the real node in test/opensearch-sink.test.ts.
 */

interface BulkOp {
  index: string;
  id: string;
  doc: Record<string, unknown>;
}
type ItemAnswer = { status: number; error?: { type: string; reason: string } };
interface StubReply {
  status?: number;
  body?: unknown;
  /** Per document; default 201 created. */
  item?: (op: BulkOp, requestNo: number) => ItemAnswer;
}

class OpenSearchStub {
  readonly requests: BulkOp[][] = [];
  readonly bodyBytes: number[] = [];
  active = 0;
  maxActive = 0;
  private server: Server | undefined;

  constructor(
    private readonly reply: (ops: BulkOp[], requestNo: number) => StubReply | Promise<StubReply>,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks);
          const lines = raw.toString('utf8').split('\n').filter(Boolean);
          const ops: BulkOp[] = [];
          for (let i = 0; i < lines.length; i += 2) {
            const action = JSON.parse(lines[i]!) as { index: { _index: string; _id: string } };
            ops.push({ index: action.index._index, id: action.index._id, doc: JSON.parse(lines[i + 1]!) as Record<string, unknown> });
          }
          const n = this.requests.push(ops);
          this.bodyBytes.push(raw.length);
          this.active++;
          this.maxActive = Math.max(this.maxActive, this.active);
          const r = await this.reply(ops, n);
          this.active--;
          const status = r.status ?? 200;
          const body =
            r.body ??
            (() => {
              const items = ops.map((op) => {
                const a = r.item?.(op, n) ?? { status: 201 };
                return { index: { _index: op.index, _id: op.id, status: a.status, ...(a.error ? { error: a.error } : { result: 'created' }) } };
              });
              return { took: 1, errors: items.some((i) => i.index.status >= 300), items };
            })();
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

const stubs: OpenSearchStub[] = [];
const sinks: OpenSearchSink[] = [];
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close().catch(() => undefined);
  for (const s of stubs.splice(0)) await s.stop();
});

const waits: number[] = [];
async function sinkFor(url: string, cfg: Partial<OpenSearchSinkConfigInput> = {}): Promise<OpenSearchSink> {
  const config = OpenSearchSinkConfig.parse({ nodeUrls: [url], flushIntervalMs: 5, ...cfg });
  const sink = new OpenSearchSink(await createOpenSearchClient(config), config, {
    ownsClient: true,
    logger: pino({ level: 'silent' }),
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  sinks.push(sink);
  return sink;
}

async function stub(reply: ConstructorParameters<typeof OpenSearchStub>[0]): Promise<[OpenSearchStub, string]> {
  const s = new OpenSearchStub(reply);
  stubs.push(s);
  return [s, await s.start()];
}

const docs = (n: number, pad = 0): SinkDoc[] =>
  Array.from({ length: n }, (_, i) => ({ index: 'seam-events-cloudtrail-2025.01.02', id: `e${i}`, doc: { '@timestamp': '2025-01-02T03:04:05Z', eventName: 'GetObject', n: i, pad: 'x'.repeat(pad) } }));

describe('OpenSearchSink against a stub answering like OpenSearch', () => {
  it('retries a whole request on 429 and 503 with growing back-off, then acknowledges every document', async () => {
    waits.length = 0;
    const [s, url] = await stub((_, n) => (n === 1 ? { status: 429, body: { error: { type: 'too_many_requests' }, status: 429 } } : n === 2 ? { status: 503, body: { error: 'unavailable' } } : {}));
    const sink = await sinkFor(url, { retry: { initialBackoffMs: 100, maxBackoffMs: 10_000 } });
    const results = await sink.write(docs(5));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('acked'));
    expect(s.requests.map((r) => r.length)).toEqual([5, 5, 5]);
    expect(waits).toEqual([50, 100]); // half of the 100 ms and 200 ms ceilings (random() = 0.5)
    const st = sink.stats();
    expect(st).toMatchObject({ received: 5, emitted: 5, retries: 10, retriesByReason: { http_429: 5, http_503: 5 } });
  });

  it('re-sends only the items that failed transiently and dead-letters the ones OpenSearch refuses', async () => {
    const [s, url] = await stub((_, n) => ({
      item: (op) => {
        if (op.id === 'e1' && n === 1) return { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } };
        if (op.id === 'e3' && n === 1) return { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } };
        if (op.id === 'e2') return { status: 400, error: { type: 'mapper_parsing_exception', reason: "failed to parse field [@timestamp] of type [date] in document with id 'e2'" } };
        return { status: 201 };
      },
    }));
    const sink = await sinkFor(url);
    const results = await sink.write(docs(5));
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'dead_letter', 'acked', 'acked']);
    expect(s.requests.map((r) => r.map((op) => op.id))).toEqual([['e0', 'e1', 'e2', 'e3', 'e4'], ['e1', 'e3']]);
    const dl = results[2]!;
    if (dl.status !== 'dead_letter') throw new Error('expected a dead letter');
    expect(dl.deadLetter).toMatchObject({ stage: 'index', code: 'SEAM_ERR_SINK_REJECTED', retriable: false });
    expect(dl.deadLetter.reason).toContain('mapper_parsing_exception: failed to parse field [@timestamp]');
    expect(JSON.parse(dl.deadLetter.raw)).toMatchObject({ n: 2 });
    expect(sink.stats()).toMatchObject({ emitted: 4, errors: { SEAM_ERR_SINK_REJECTED: 1 }, dropped: { mapper_parsing_exception: 1 }, retries: 2 });
  });

  it('reports documents as failed (not durable, not dead-lettered) when retries run out', async () => {
    const [s, url] = await stub(() => ({ item: (op) => (op.id === 'e2' ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : { status: 201 }) }));
    const sink = await sinkFor(url, { retry: { maxRetries: 3 } });
    const results = await sink.write(docs(4));
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'failed', 'acked']);
    expect(durablePrefix(results)).toBe(2);
    const failed = results[2]!;
    if (failed.status !== 'failed') throw new Error('expected failed');
    expect(failed.error.code).toBe('SEAM_ERR_SINK_UNAVAILABLE');
    expect(failed.error.retriable).toBe(true);
    expect(failed.error.message).toContain('es_rejected_execution_exception');
    expect(s.requests).toHaveLength(4);
  });

  it('retries refused connections, then fails the documents', async () => {
    const [s, url] = await stub(() => ({}));
    await s.stop();
    const sink = await sinkFor(url, { retry: { maxRetries: 2 } });
    const results = await sink.write(docs(3));
    expect(results.every((r) => r.status === 'failed')).toBe(true);
    expect(sink.stats().retriesByReason).toEqual({ ConnectionError: 9 });
  });

  it('does not retry a request OpenSearch refuses for good (403)', async () => {
    const [s, url] = await stub(() => ({ status: 403, body: { error: { type: 'security_exception', reason: 'no permissions for [indices:data/write/bulk]' }, status: 403 } }));
    const sink = await sinkFor(url);
    const results = await sink.write(docs(2));
    expect(results.map((r) => (r.status === 'failed' ? r.error.code : r.status))).toEqual(['SEAM_ERR_SINK_REQUEST', 'SEAM_ERR_SINK_REQUEST']);
    expect(s.requests).toHaveLength(1);
  });

  it('splits a batch answered with 413 and dead-letters a single document that is still too large', async () => {
    const [, url] = await stub((ops) => (ops.some((op) => op.id === 'e3') && ops.length >= 1 && ops.some((op) => (op.doc.pad as string).length > 100) ? { status: 413, body: '' } : {}));
    const sink = await sinkFor(url);
    const input = docs(6);
    (input[3]!.doc as { pad: string }).pad = 'y'.repeat(1000);
    const results = await sink.write(input);
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'acked', 'dead_letter', 'acked', 'acked']);
    const dl = results[3]!;
    expect(dl.status === 'dead_letter' && dl.deadLetter.code).toBe('SEAM_ERR_SINK_TOO_LARGE');
  });

  it('bounds batches by documents and bytes', async () => {
    const [s, url] = await stub(() => ({}));
    const byCount = await sinkFor(url, { maxBatchDocs: 10 });
    await byCount.write(docs(35));
    expect(s.requests.map((r) => r.length)).toEqual([10, 10, 10, 5]);

    s.requests.length = 0;
    s.bodyBytes.length = 0;
    const byBytes = await sinkFor(url, { maxBatchBytes: 4096, maxBufferedBytes: 16384 });
    await byBytes.write(docs(60, 200));
    expect(s.requests.flat()).toHaveLength(60);
    expect(Math.max(...s.bodyBytes)).toBeLessThanOrEqual(4096);
    expect(s.requests.length).toBeGreaterThan(3);
  });

  it('keeps at most maxConcurrentRequests in flight and waits instead of buffering without limit', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const seenBuffered: number[] = [];
    const ref: { sink?: OpenSearchSink } = {};
    const [s, url] = await stub(async () => {
      seenBuffered.push(ref.sink!.stats().bufferedBytes);
      await gate;
      return {};
    });
    const sink = await sinkFor(url, { maxBatchDocs: 5, maxBatchBytes: 2048, maxBufferedBytes: 4096, maxConcurrentRequests: 2 });
    ref.sink = sink;
    let accepted = false;
    const pending = sink.write(docs(200, 100)).then((r) => {
      accepted = true;
      return r;
    });
    // Waited for, not slept on: at load ~30 the two requests may take longer than any fixed pause to arrive.
    while (s.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    // Then a pause in which a sink that did not wait would send a third (flushIntervalMs is 5 ms).
    await new Promise((r) => setTimeout(r, 100));
    // Stuck behind two unanswered requests: only what fits in the buffer was accepted.
    expect(s.requests).toHaveLength(2);
    expect(accepted).toBe(false);
    expect(sink.stats().bufferedBytes).toBeLessThanOrEqual(4096);
    release();
    const results = await pending;
    expect(results.every((r) => r.status === 'acked')).toBe(true);
    expect(s.maxActive).toBeLessThanOrEqual(2);
    expect(Math.max(...seenBuffered)).toBeLessThanOrEqual(4096);
    expect(s.requests.flat().map((op) => op.id)).toEqual(docs(200).map((d) => d.id));
  });

  it('sends documents given as bytes unchanged, and a refused one dead-letters with its text and ingest fields', async () => {
    const [s, url] = await stub(() => ({
      item: (op) => (op.id === 'b1' ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } } : { status: 201 }),
    }));
    const sink = await sinkFor(url);
    const event = (id: string): Buffer => Buffer.from(JSON.stringify({ seam: { id, ingest: { origin: `group/${id}`, collector: 'cw' } }, msg: 'é ✓' }));
    const results = await sink.write([
      { index: 'i', id: 'b0', doc: undefined, json: event('b0') },
      { index: 'i', id: 'b1', doc: undefined, json: event('b1') },
      { index: 'i', id: 'd2', doc: { n: 2 } },
      { index: 'i', id: 'b3', doc: undefined, json: Buffer.from('[1]') },
    ]);
    expect(results.map((r) => (r.status === 'dead_letter' ? r.deadLetter.code : r.status))).toEqual(['acked', 'SEAM_ERR_SINK_REJECTED', 'acked', 'SEAM_ERR_SINK_SERIALIZE']);
    expect(s.requests.flat().map((op) => [op.id, op.doc])).toEqual([
      ['b0', JSON.parse(event('b0').toString())],
      ['b1', JSON.parse(event('b1').toString())],
      ['d2', { n: 2 }],
    ]);
    const dl = results[1]!;
    if (dl.status !== 'dead_letter') throw new Error('expected a dead letter');
    expect(dl.deadLetter).toMatchObject({ origin: 'group/b1', collector: 'cw', raw: event('b1').toString() });
  });

  it('writes action lines with escaped ids and index changes between documents, each counted to the byte', async () => {
    const [s, url] = await stub(() => ({}));
    const sink = await sinkFor(url);
    const want = [
      ['i1', 'plain'],
      ['i1', 'quote"and\\backslash'],
      ['i2', 'é✓ non-ascii'],
      ['i2', 'control\u0001\n'],
      ['i1', 'lone\ud800surrogate'],
      ['i-é', 'x'],
    ] as const;
    const results = await sink.write(want.map(([index, id], n) => ({ index, id, doc: undefined, json: Buffer.from(JSON.stringify({ n })) })));
    expect(results.map((r) => r.status)).toEqual(want.map(() => 'acked'));
    expect(s.requests.flat().map((op) => [op.index, op.id, op.doc.n])).toEqual(want.map(([index, id], n) => [index, JSON.parse(JSON.stringify(id)) as string, n]));
    const ndjson = want.map(([index, id], n) => `${JSON.stringify({ index: { _index: index, _id: id } })}\n${JSON.stringify({ n })}\n`).join('');
    expect(s.bodyBytes).toEqual([Buffer.byteLength(ndjson)]);
  });

  it('names event indices per source and day, with the receive day for an @timestamp that is not a date', async () => {
    for (const dailyIndices of [true, false]) {
      const sink = await sinkFor('http://127.0.0.1:1', { indexPrefix: 'p', dailyIndices });
      const cases: [SourceType, string, string | undefined, string | RegExp][] = [
        ['cloudtrail', '2025-01-02T03:04:05Z', undefined, 'cloudtrail-2025.01.02'],
        ['cloudtrail', '2025-01-02T23:59:59.999Z', '2025-01-05T00:00:00Z', 'cloudtrail-2025.01.02'],
        ['k8s_audit', '2025-01-02T00:00:00Z', undefined, 'k8s_audit-2025.01.02'],
        ['cloudtrail', '2025-01-03T00:00:00+00:00', undefined, 'cloudtrail-2025.01.03'],
        ['runtime', 'not a date', '2025-02-03T04:05:06Z', 'runtime-2025.02.03'],
        ['guardduty', '', 'also not a date', /^guardduty-\d{4}\.\d{2}\.\d{2}$/],
        ['cloudtrail', '2025-01-02T03:04:05Z', undefined, 'cloudtrail-2025.01.02'],
      ];
      for (const [source, ts, received, want] of cases) {
        const route = { '@timestamp': ts, seam: { id: 'x', source, ...(received !== undefined ? { ingest: { received_at: received } } : {}) } };
        const name = sink.eventIndex(source, ts, received);
        expect(sink.eventTarget(route)).toEqual({ index: name, id: 'x' });
        if (!dailyIndices) expect(name).toBe(`p-events-${source}-all`);
        else if (typeof want === 'string') expect(name).toBe(`p-events-${want}`);
        else expect(name.slice('p-events-'.length)).toMatch(want);
      }
    }
  });

  it('dead-letters what cannot be serialized or has an unusable _id without sending it', async () => {
    const [s, url] = await stub(() => ({}));
    const sink = await sinkFor(url);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const results = await sink.write([
      { index: 'i', id: 'ok', doc: { a: 1 } },
      { index: 'i', id: 'cyclic', doc: cyclic },
      { index: 'i', id: '', doc: { a: 1 } },
      { index: 'i', id: 'x'.repeat(513), doc: { a: 1 } },
    ]);
    expect(results.map((r) => (r.status === 'dead_letter' ? r.deadLetter.code : r.status))).toEqual(['acked', 'SEAM_ERR_SINK_SERIALIZE', 'SEAM_ERR_SINK_REJECTED', 'SEAM_ERR_SINK_REJECTED']);
    expect(s.requests.flat().map((op) => op.id)).toEqual(['ok']);
  });
});

describe('OpenSearchSinkConfig', () => {
  it('fills defaults', () => {
    expect(OpenSearchSinkConfig.parse({})).toMatchObject({
      nodeUrls: ['http://127.0.0.1:9200'],
      auth: { type: 'none' },
      indexPrefix: 'seam',
      replicas: 1,
      maxBatchBytes: 5 * 1024 * 1024,
      maxBatchDocs: 2000,
      maxConcurrentRequests: 2,
      retry: { initialBackoffMs: 100, maxBackoffMs: 30_000, maxRetries: 10 },
    });
  });
  it('refuses unknown keys and contradictions with messages a user can act on', () => {
    expect(OpenSearchSinkConfig.safeParse({ batchSize: 10 }).success).toBe(false);
    const small = OpenSearchSinkConfig.safeParse({ maxBatchBytes: 1_000_000, maxBufferedBytes: 10_000 });
    expect(small.error?.issues[0]?.message).toMatch(/maxBufferedBytes .* must be at least maxBatchBytes/);
    const sigv4 = OpenSearchSinkConfig.safeParse({ auth: { type: 'aws-sigv4', region: 'eu-west-1' } });
    expect(sigv4.error?.issues[0]?.message).toMatch(/https/);
    expect(OpenSearchSinkConfig.parse({ nodeUrls: ['https://search.example.com'], auth: { type: 'aws-sigv4', region: 'eu-west-1' } }).auth).toEqual({
      type: 'aws-sigv4',
      region: 'eu-west-1',
      service: 'es',
    });
  });
});
