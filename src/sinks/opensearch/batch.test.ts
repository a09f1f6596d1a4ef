import { describe, expect, it } from 'vitest';
import { BatchBuilder, classifyItem, classifyRequestError, describeError } from './batch.ts';
import { backoffCeilingMs, fullJitterMs } from '../../core/backoff.ts';

const sized = (bytes: number, tag = 0) => ({ bytes, tag });

describe('BatchBuilder', () => {
  it('cuts a batch at the document count', () => {
    const b = new BatchBuilder<{ bytes: number; tag: number }>(1_000_000, 3);
    const out = [1, 2, 3, 4, 5, 6, 7].flatMap((i) => b.add(sized(10, i)));
    expect(out.map((batch) => batch.map((x) => x.tag))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(b.take().map((x) => x.tag)).toEqual([7]);
  });

  it('never lets a batch exceed the byte bound unless one document alone does', () => {
    const b = new BatchBuilder<{ bytes: number; tag: number }>(100, 1000);
    const sizes = [30, 30, 30, 30, 250, 10, 99, 1, 60, 60];
    const batches = sizes.flatMap((s, i) => b.add(sized(s, i)));
    batches.push(b.take());
    for (const batch of batches) {
      const total = batch.reduce((n, x) => n + x.bytes, 0);
      if (batch.length > 1) expect(total).toBeLessThanOrEqual(100);
    }
    // Order is kept and nothing is lost or duplicated.
    expect(batches.flat().map((x) => x.tag)).toEqual(sizes.map((_, i) => i));
    // The oversized document travels alone.
    expect(batches.find((batch) => batch.some((x) => x.bytes === 250))).toHaveLength(1);
  });

  it('reports pending size and bytes', () => {
    const b = new BatchBuilder<{ bytes: number }>(100, 10);
    b.add({ bytes: 40 });
    expect([b.size, b.pendingBytes]).toEqual([1, 40]);
    b.take();
    expect([b.size, b.pendingBytes]).toEqual([0, 0]);
  });
});

describe('back-off', () => {
  const r = { initialBackoffMs: 100, maxBackoffMs: 5_000 };

  it('doubles the ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((a) => backoffCeilingMs(a, r))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('draws the wait uniformly between 0 and the ceiling (full jitter)', () => {
    expect(fullJitterMs(3, r, () => 0)).toBe(0);
    expect(fullJitterMs(3, r, () => 0.5)).toBe(200);
    expect(fullJitterMs(3, r, () => 0.999999)).toBe(400);
    expect(fullJitterMs(50, r, () => 0.999999)).toBe(5000);
  });
});

describe('classifyItem', () => {
  it('acknowledges 2xx answers', () => {
    expect(classifyItem(201, undefined)).toBe('ok');
    expect(classifyItem(200, undefined)).toBe('ok');
  });
  it('retries overload and server errors', () => {
    expect(classifyItem(429, 'es_rejected_execution_exception')).toBe('retry');
    expect(classifyItem(429, 'circuit_breaking_exception')).toBe('retry');
    expect(classifyItem(503, 'unavailable_shards_exception')).toBe('retry');
    expect(classifyItem(500, undefined)).toBe('retry');
    expect(classifyItem(400, 'rejected_execution_exception')).toBe('retry');
  });
  it('rejects documents that will fail again', () => {
    expect(classifyItem(400, 'mapper_parsing_exception')).toBe('reject');
    expect(classifyItem(400, 'illegal_argument_exception')).toBe('reject');
    expect(classifyItem(400, 'invalid_index_name_exception')).toBe('reject');
  });
});

describe('classifyRequestError', () => {
  const responseError = (statusCode: number, body?: unknown) => Object.assign(new Error('Response Error'), { name: 'ResponseError', meta: { statusCode, body } });

  it('retries 429, 5xx, connection errors and timeouts', () => {
    expect(classifyRequestError(responseError(429)).verdict).toBe('retry');
    expect(classifyRequestError(responseError(502)).verdict).toBe('retry');
    expect(classifyRequestError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' }))).toMatchObject({ verdict: 'retry', label: 'ConnectionError' });
    expect(classifyRequestError(Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })).verdict).toBe('retry');
  });
  it('splits on 413 and gives up on other client errors', () => {
    expect(classifyRequestError(responseError(413)).verdict).toBe('split');
    const denied = classifyRequestError(responseError(403, { error: { type: 'security_exception', reason: 'no permissions for [indices:data/write/bulk]' } }));
    expect(denied).toMatchObject({ verdict: 'fail', label: 'http_403', reason: 'security_exception: no permissions for [indices:data/write/bulk]' });
    expect(classifyRequestError(new TypeError('boom')).verdict).toBe('fail');
  });
});

describe('describeError', () => {
  it('joins type, reason and cause', () => {
    expect(
      describeError({ type: 'mapper_parsing_exception', reason: 'failed to parse field [@timestamp]', caused_by: { type: 'illegal_argument_exception', reason: 'bad date' } }),
    ).toBe('mapper_parsing_exception: failed to parse field [@timestamp] (caused by illegal_argument_exception: bad date)');
    expect(describeError(undefined)).toBeUndefined();
  });
});
