// The webhook output against a real local HTTP receiver (node:http): signatures, retries on 500s and
// a timeout, dead-letter reasons after the last retry, no retry on a 4xx refusal.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Behaviour } from '../../../test/helpers/http-receiver.ts';
import { testAlert } from '../../../test/helpers/alerts.ts';
import type { Notification } from '../delivery/output.ts';
import { WebhookOutputConfig } from './config.ts';
import { signBody, WebhookOutput } from './sink.ts';

const SECRET = 'test-shared-secret-7f3a';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function note(n = 1): Notification {
  const alert = testAlert({ n });
  return { id: alert.id, kind: 'alert', alert, count: 1, link: `https://dash.example/alert/${alert.id}` };
}

// The per-attempt timeout of a test that expects every answer to come: one a loaded machine cannot reach by accident.
// At 300 ms the first POST of the process (undici loads on it) timed out at load ~10-18 and was sent again, so a
// test saw `attempts: 2` for a receiver that had answered 200 (6 of 8 runs under load).
const NEVER_MS = 60_000;
// The per-attempt timeout of the tests where attempts hang: it has to elapse on each hang (the test waits it out), and
// must not elapse before a request has reached the receiver (which records it) or before an answer comes back. At
// 150 ms an attempt was aborted under load before the receiver had seen it (1 request of 2 recorded); a local
// round trip of a warmed-up client is far below 5 s even at load ~35.
const HANG_MS = 5_000;

// The first fetch of a worker loads undici (hundreds of ms when the cores are shared): pay it here, not inside a
// test's per-attempt timeout.
beforeAll(async () => {
  const rx = await startReceiver();
  try {
    await (await fetch(rx.url, { method: 'POST', body: '{}' })).text();
  } finally {
    await rx.close();
  }
});

async function setup(behaviour?: Behaviour, retry: Record<string, number> = {}) {
  const rx = await startReceiver({ secret: SECRET, ...(behaviour ? { behaviour } : {}) });
  closers.push(rx.close);
  process.env.SEAM_TEST_WEBHOOK_SECRET = SECRET;
  const cfg = WebhookOutputConfig.parse({ type: 'webhook', url: rx.url, secret: { env: 'SEAM_TEST_WEBHOOK_SECRET' }, retry: { initialBackoffMs: 5, maxBackoffMs: 20, timeoutMs: NEVER_MS, ...retry } });
  return { rx, out: new WebhookOutput('hook', cfg) };
}

describe('webhook output', () => {
  it('POSTs the JSON body with a valid HMAC-SHA256 signature and the notification id', async () => {
    const { rx, out } = await setup();
    const r = await out.send(note(1));
    expect(r).toEqual({ ok: true, attempts: 1 });
    expect(rx.requests).toHaveLength(1);
    const got = rx.requests[0]!;
    expect(got.signatureOk).toBe(true);
    expect(got.headers['x-seam-signature']).toBe(signBody(SECRET, got.body));
    expect(got.headers['x-seam-delivery']).toBe('alert-r-irsa-token-theft-1');
    expect(got.headers['content-type']).toBe('application/json');
    const body = got.json as { notification: { id: string; count: number; link: string }; alert: { id: string; rule: { level: string } } };
    expect(body.notification).toMatchObject({ id: 'alert-r-irsa-token-theft-1', count: 1, link: 'https://dash.example/alert/alert-r-irsa-token-theft-1' });
    expect(body.alert.rule.level).toBe('high');
    expect(body.notification).toMatchObject({ level: 'high' });
    expect(body.notification).not.toHaveProperty('rule_level');
  });

  it('the envelope says the level the alert was routed at, and the rule\'s own where it differs (a GuardDuty band, ADR 0052)', async () => {
    const { rx, out } = await setup();
    const alert = testAlert({ n: 1, level: 'low', finding: { id: 'f-1', updated_at: '2026-12-01T10:00:00.000Z', severity: 7.5, severity_level: 'high' } });
    expect((await out.send({ id: `${alert.id}:high`, kind: 'alert', alert, count: 1 })).ok).toBe(true);
    const body = rx.requests[0]!.json as { notification: Record<string, unknown>; alert: { rule: { level: string } } };
    expect(body.notification).toMatchObject({ id: `${alert.id}:high`, level: 'high', rule_level: 'low' });
    expect(body.alert.rule.level).toBe('low');
  });

  it('a signature made with another secret does not verify', async () => {
    const { rx } = await setup();
    process.env.SEAM_TEST_WEBHOOK_SECRET_OTHER = 'not-the-secret';
    const other = new WebhookOutput('other', WebhookOutputConfig.parse({ type: 'webhook', url: rx.url, secret: { env: 'SEAM_TEST_WEBHOOK_SECRET_OTHER' } }));
    expect((await other.send(note(2))).ok).toBe(true);
    expect(rx.requests[0]!.signatureOk).toBe(false);
  });

  it('retries injected 500s and a timeout, then succeeds', async () => {
    const { rx, out } = await setup((n) => (n === 1 ? 500 : n === 2 ? 'hang' : n === 3 ? 503 : 200), { timeoutMs: HANG_MS });
    const r = await out.send(note(3));
    expect(r).toEqual({ ok: true, attempts: 4 });
    expect(rx.requests.map((q) => q.status)).toEqual([500, 'hang', 503, 200]);
    expect(rx.requests.every((q) => q.signatureOk)).toBe(true);
    // Every attempt carries the same delivery id: a receiver can drop duplicates.
    expect(new Set(rx.requests.map((q) => q.headers['x-seam-delivery'])).size).toBe(1);
  });

  it('after the last retry the failure carries the reason for the dead letter', async () => {
    const { rx, out } = await setup(() => 500, { maxAttempts: 3 });
    const r = await out.send(note(4));
    expect(rx.requests).toHaveLength(3);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('SEAM_ERR_DELIVERY_FAILED');
      expect(r.attempts).toBe(3);
      expect(r.status).toBe(500);
      expect(r.reason).toMatch(/^HTTP 500: injected 500 after 3 attempt\(s\)$/);
    }
  });

  it('a timeout on every attempt is reported as such', async () => {
    const { rx, out } = await setup(() => 'hang', { maxAttempts: 2, timeoutMs: HANG_MS });
    const r = await out.send(note(5));
    expect(rx.requests).toHaveLength(2);
    expect(r).toMatchObject({ ok: false, code: 'SEAM_ERR_DELIVERY_FAILED', attempts: 2, reason: `no answer within ${HANG_MS} ms after 2 attempt(s)` });
  });

  it('a 4xx refusal is final: no retry', async () => {
    const { rx, out } = await setup(() => 403);
    const r = await out.send(note(6));
    expect(rx.requests).toHaveLength(1);
    expect(r).toMatchObject({ ok: false, code: 'SEAM_ERR_DELIVERY_REJECTED', attempts: 1, status: 403 });
  });

  it('reads the secret from a file, and refuses an unset one', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'seam-hook-'));
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
    const rx = await startReceiver({ secret: SECRET });
    closers.push(rx.close);
    const out = new WebhookOutput('f', WebhookOutputConfig.parse({ type: 'webhook', url: rx.url, secret: { file: join(dir, 'secret') } }));
    await out.send(note(7));
    expect(rx.requests[0]!.signatureOk).toBe(true);
    delete process.env.SEAM_TEST_UNSET_SECRET;
    expect(() => new WebhookOutput('u', WebhookOutputConfig.parse({ type: 'webhook', url: rx.url, secret: { env: 'SEAM_TEST_UNSET_SECRET' } }))).toThrow(/SEAM_TEST_UNSET_SECRET is empty or unset/);
  });
});
