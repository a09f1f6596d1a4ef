import { describe, expect, it } from 'vitest';
import { authenticate, parseBody, sha256Hex } from './parse.ts';

const tokens = [{ id: 'a', sha256: sha256Hex('secret-a'), cluster: 'prod' }];
const opts = (maxLineBytes: number, cluster: string | undefined) => ({ maxLineBytes, maxRecordDepth: 128, token: cluster === undefined ? { id: 't', trust: 'any' as const } : { id: 't', cluster } });
const rt = (id: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ schema: 'seam.runtime/v1', id, time: '2026-01-01T00:00:00Z', kind: 'dns', namespace: 'n', pod: 'p', dns: { query: 'x' }, ...extra });

describe('sidecar parse', () => {
  it('authenticates by SHA-256 of the bearer token', () => {
    expect(authenticate('Bearer secret-a', tokens)).toMatchObject({ id: 'a' });
    expect(authenticate('Bearer nope', tokens)).toBe('invalid');
    expect(authenticate(undefined, tokens)).toBe('missing');
    expect(authenticate('Basic abc', tokens)).toBe('missing');
  });

  it('cuts NDJSON, a JSON array, or one pretty-printed object, and says why each bad line is refused', () => {
    const r = parseBody(`${rt('1')}\n\n{bad\n${rt('2', { cluster: 'stage' })}\r\n${'9'.repeat(50)}\n`, opts(40_000, 'prod'));
    expect(r.accepted.map((a) => a.line)).toEqual([1]);
    expect(r.rejected.map((x) => [x.line, x.code])).toEqual([
      [3, 'SEAM_ERR_INPUT_JSON'],
      [4, 'SEAM_ERR_INGEST_FORBIDDEN'],
      [5, 'SEAM_ERR_INPUT_NOT_OBJECT'],
    ]);
    expect(parseBody(`[${rt('1')},${rt('2')}]`, opts(40_000, undefined)).accepted).toHaveLength(2);
    expect(parseBody(JSON.stringify(JSON.parse(rt('1')), null, 2), opts(40_000, undefined)).accepted).toHaveLength(1);
    expect(parseBody(rt('1'), opts(10, undefined)).rejected[0]!.code).toBe('SEAM_ERR_INPUT_OVERSIZED');
  });
});
