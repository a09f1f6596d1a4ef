/**
 * What every alert output (webhook, Slack, SNS, PagerDuty) implements, and the one HTTP transport
 * the HTTP outputs share: POST JSON with a timeout, retried with the shared full-jitter back-off
 * (src/core/backoff.ts) on network errors, timeouts, 408, 429 and 5xx; any other 4xx is final.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fullJitterMs, sleep, type BackoffConfig } from '../../core/backoff.ts';
import { notifiedLevel, type Alert, type AlertLevel } from '../../detect/alert.ts';

/** One message to a human: an alert, or the count of repeats a throttle window collapsed. */
export interface Notification {
  /**
   * Stable across redelivery: `<alert id>` for an alert (`<alert id>:<severity level>` for a GuardDuty finding alert,
   * ADR 0046), `<alert id>:repeats:<count>` for a repeat summary.
   */
  id: string;
  kind: 'alert' | 'repeats';
  /**
   * The alert (for `repeats`, the one of the alerts the window collapsed at the highest level, the latest among
   * equals: all of one rule, variant and who, so its title is theirs).
   */
  alert: Alert;
  /** How many alerts of this rule (and variant) and principal the notification stands for (1 for a plain alert). */
  count: number;
  /** For `repeats`: event time of the first and last collapsed alert. */
  window?: { start: string; end: string };
  /** The dashboard link for this alert, from the delivery config's `dashboardUrl` template. */
  link?: string;
}

/**
 * The level a notification shows (ADR 0052): the one its routes were chosen at (`notifiedLevel`: the rule's level,
 * or a GuardDuty finding alert's severity band when higher), and the rule's own level only when it differs. Every
 * output shows these two the same way, so a page routed as critical never reads "medium".
 */
export interface NotificationLevel {
  /** The level the alert was routed at: the header, severity and `level` field of every output. */
  level: AlertLevel;
  /** The rule's level, only when it is not `level` (a finding alert routed at its band). */
  ruleLevel?: AlertLevel;
}

export function notificationLevel(a: Alert): NotificationLevel {
  const level = notifiedLevel(a);
  return level === a.rule.level ? { level } : { level, ruleLevel: a.rule.level };
}

/** For text: `CRITICAL`, or `CRITICAL (GuardDuty severity band; rule level MEDIUM)` when the two differ. */
export function levelText(l: NotificationLevel): string {
  return `${l.level.toUpperCase()}${l.ruleLevel === undefined ? '' : ` (GuardDuty severity band; rule level ${l.ruleLevel.toUpperCase()})`}`;
}

export type SendResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; code: 'SEAM_ERR_DELIVERY_FAILED' | 'SEAM_ERR_DELIVERY_REJECTED'; reason: string; status?: number };

export interface AlertOutput {
  readonly name: string;
  readonly type: string;
  /** Sends one notification, retrying by itself; never throws for a delivery failure (it returns it). */
  send(n: Notification, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

export const DeliveryRetryConfig = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(20).default(5).describe('Attempts per notification, the first included; after the last one the notification is dead-lettered with the reason.'),
    initialBackoffMs: z.number().int().min(0).default(200).describe('Back-off ceiling before the first retry; it doubles per retry (full jitter: the wait is uniform in [0, ceiling]).'),
    maxBackoffMs: z.number().int().min(0).default(10_000).describe('Upper bound of the back-off ceiling.'),
    timeoutMs: z.number().int().min(1).default(5_000).describe('Time allowed for one HTTP attempt (connect, send, answer); a timeout is retried.'),
  })
  .prefault({})
  .describe('Retries of one output.');
export type DeliveryRetryConfig = z.infer<typeof DeliveryRetryConfig>;

/** A secret given by environment variable or file (never inline, so configs can be committed). */
export const SecretRef = z
  .strictObject({
    env: z.string().min(1).optional().describe('Environment variable that holds the secret.'),
    file: z.string().min(1).optional().describe('File that holds the secret (surrounding whitespace is trimmed), e.g. a mounted Kubernetes secret.'),
  })
  .refine((s) => (s.env === undefined) !== (s.file === undefined), { message: 'give exactly one of env or file' })
  .describe('Where a secret comes from: `{ env: NAME }` or `{ file: /path }`.');
export type SecretRef = z.infer<typeof SecretRef>;

/**
 * What to write instead, when a secret field holds a string: seam.yml's `${env:NAME}` / `${file:PATH}` (the delivery
 * file takes `{ env: NAME }` / `{ file: PATH }`), or the secret itself (never inline).
 */
export function secretRefHint(issue: z.core.$ZodIssue, value: unknown): string | undefined {
  if (issue.code !== 'invalid_type' || typeof value !== 'string') return undefined;
  if (!['secret', 'webhookUrl', 'routingKey'].includes(String(issue.path.at(-1)))) return undefined;
  const ref = /^\$\{(env|file):([^}]+)\}$/.exec(value.trim());
  if (ref) return ` (the delivery file names a secret's source as an object: write { ${ref[1]}: ${ref[2]} }; \${${ref[1]}:…} is seam.yml's form)`;
  return ' (a secret is never written inline: give its source, { env: NAME } or { file: /path })';
}

export function readSecret(ref: SecretRef, what: string): string {
  const v = ref.env !== undefined ? process.env[ref.env] : readFileSync(ref.file!, 'utf8').trim();
  if (v === undefined || v === '') throw new Error(`${what}: the secret in ${ref.env !== undefined ? `$${ref.env}` : ref.file!} is empty or unset`);
  return v;
}

export interface PostOptions {
  retry: DeliveryRetryConfig;
  headers?: (body: string) => Record<string, string>;
  signal?: AbortSignal;
  random?: () => number;
}

/** POSTs `body` as JSON until a 2xx, a final refusal, or the last attempt. */
export async function postJson(url: string, body: string, o: PostOptions): Promise<SendResult> {
  const backoff: BackoffConfig = { initialBackoffMs: o.retry.initialBackoffMs, maxBackoffMs: o.retry.maxBackoffMs };
  let reason = '';
  let status: number | undefined;
  let attempt = 0;
  while (attempt < o.retry.maxAttempts) {
    attempt++;
    if (attempt > 1) await sleep(fullJitterMs(attempt - 1, backoff, o.random), o.signal);
    if (o.signal?.aborted) break;
    const signals = [AbortSignal.timeout(o.retry.timeoutMs), ...(o.signal ? [o.signal] : [])];
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.headers?.(body) ?? {}) },
        body,
        signal: AbortSignal.any(signals),
      });
      status = res.status;
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true, attempts: attempt };
      reason = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      if (res.status < 500 && res.status !== 408 && res.status !== 429) {
        return { ok: false, attempts: attempt, code: 'SEAM_ERR_DELIVERY_REJECTED', reason, status: res.status };
      }
    } catch (e) {
      status = undefined;
      const err = e as Error & { cause?: { code?: string } };
      reason = err.name === 'TimeoutError' ? `no answer within ${o.retry.timeoutMs} ms` : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`;
    }
  }
  return { ok: false, attempts: attempt, code: 'SEAM_ERR_DELIVERY_FAILED', reason: `${reason} after ${attempt} attempt(s)`, ...(status === undefined ? {} : { status }) };
}
