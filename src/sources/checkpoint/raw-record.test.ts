import { describe, expect, it } from 'vitest';
import { metaFromHeaders, rawHeaders } from './raw-record.ts';

describe('raw record headers', () => {
  it('read back what a collector wrote', () => {
    const meta = { collector: 'cloudwatch-logs', receivedAt: '2026-12-04T10:00:00.000Z', source: 'k8s_audit' as const, cluster: 'prod', account: '111122223333', origin: 'g/s#1' };
    expect(metaFromHeaders(rawHeaders(meta), 1_700_000_000_000)).toEqual(meta);
  });

  it("a message some other producer wrote (no Seam headers) was received at the message's own timestamp, not in 1970", () => {
    expect(metaFromHeaders(undefined, Date.parse('2026-12-04T10:00:05Z'))).toEqual({ collector: 'unknown', receivedAt: '2026-12-04T10:00:05.000Z' });
    const before = Date.now();
    const now = Date.parse(metaFromHeaders({}).receivedAt);
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
