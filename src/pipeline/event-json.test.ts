import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { ByteRun } from './byte-run.ts';
import { eventJson, eventJsonBytes, eventJsonText, writeEventJson } from './event-json.ts';

const ev = (x: Record<string, unknown>): SeamEvent => x as unknown as SeamEvent;

describe('event JSON in parts around seam (ADR 0026)', () => {
  const cases: Record<string, unknown>[] = [
    { '@timestamp': '2024-11-05T14:00:00Z', verb: 'get', user: { username: 'ünïcödé ✓ \u2028 "q" \\' }, n: [1, -0, 1e21, 0.1], seam: { id: 'a', source: 'k8s_audit', principal: undefined, ingest: { redacted: [] } } },
    { 2: 'integer keys go first', b: 1, 1: 'x', seam: { id: 'b', nested: { seam: { id: 'not the top' } } } },
    { seam: { id: 'only seam' } },
    { lone: '\ud800', seam: { id: 'c' } },
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i}: the parts write what JSON.stringify writes, and say where seam's value starts`, () => {
      const j = eventJson(ev(c));
      expect(typeof j).toBe('object');
      expect(eventJsonText(j)).toBe(JSON.stringify(c));
      expect(eventJsonBytes(j).equals(Buffer.from(JSON.stringify(c)))).toBe(true);
      const run = new ByteRun(8);
      run.text('xx');
      const at = writeEventJson(run, j);
      const bytes = run.done().subarray(2);
      expect(bytes.toString('utf8')).toBe(JSON.stringify(c));
      expect(bytes.subarray(at, bytes.length - 1).toString('utf8')).toBe(JSON.stringify(c.seam));
      expect(bytes.subarray(at - 7, at).toString('utf8')).toBe('"seam":');
      // The correlate role's form: the bytes up to seam, then a changed seam.
      const changed = { ...c, seam: { ...(c.seam as object), origin: { id: 'arn:aws:iam::1:role/r', type: 'iam_role' } } };
      const spliced = { head: bytes.subarray(0, at), seam: JSON.stringify(changed.seam) };
      expect(eventJsonText(spliced)).toBe(JSON.stringify(changed));
      const run2 = new ByteRun(8);
      expect(writeEventJson(run2, spliced)).toBe(at);
      expect(run2.done().toString('utf8')).toBe(JSON.stringify(changed));
      // The event is left as it was.
      expect(Object.keys(c).at(-1)).toBe('seam');
      expect((c as { seam: unknown }).seam).toBeTypeOf('object');
    });
  }

  it('an event whose seam is not its last key, or not an object, is serialized whole', () => {
    const c = { seam: { id: 'a' }, verb: 'get' };
    expect(eventJson(ev(c))).toBe(JSON.stringify(c));
    const d = { verb: 'get', seam: 'text' };
    expect(eventJson(ev(d))).toBe(JSON.stringify(d));
    const run = new ByteRun(8);
    expect(writeEventJson(run, JSON.stringify(c))).toBe(-1);
    expect(writeEventJson(run, Buffer.from('{}'))).toBe(-1);
  });

  it('throws where JSON.stringify throws, and leaves seam in place', () => {
    const c: Record<string, unknown> = { n: 10n, seam: { id: 'a' } };
    expect(() => eventJson(ev(c))).toThrow();
    expect(c.seam).toEqual({ id: 'a' });
  });
});
