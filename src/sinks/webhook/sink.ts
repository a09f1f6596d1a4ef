import { createHmac } from 'node:crypto';
import { notificationLevel, postJson, readSecret, type AlertOutput, type Notification, type SendResult } from '../delivery/output.ts';
import type { WebhookOutputConfig } from './config.ts';

export const SIGNATURE_HEADER = 'x-seam-signature';
export const DELIVERY_HEADER = 'x-seam-delivery';

/** `sha256=<hex HMAC-SHA256 of body>`: what a receiver recomputes with the shared secret and compares in constant time. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * The JSON a generic webhook (and SNS) receives: the notification's envelope and the whole alert. The envelope's
 * `level` is the level the alert was routed at, `rule_level` the rule's own when it differs (ADR 0052).
 */
export function webhookBody(n: Notification): Record<string, unknown> {
  const routed = notificationLevel(n.alert);
  return {
    notification: { id: n.id, kind: n.kind, count: n.count, level: routed.level, ...(routed.ruleLevel === undefined ? {} : { rule_level: routed.ruleLevel }), ...(n.window ? { window: n.window } : {}), ...(n.link ? { link: n.link } : {}) },
    alert: n.alert,
  };
}

/**
 * POSTs a JSON body to a URL with the shared transport's retries; the body is signed when a secret
 * is configured, and `X-Seam-Delivery` carries the notification id so a receiver can drop the
 * duplicates that at-least-once delivery may produce.
 */
export class WebhookOutput implements AlertOutput {
  readonly type: string = 'webhook';
  private readonly secret: string | undefined;

  constructor(
    readonly name: string,
    private readonly config: Pick<WebhookOutputConfig, 'url' | 'retry'> & { secret?: WebhookOutputConfig['secret'] },
    private readonly body: (n: Notification) => unknown = webhookBody,
  ) {
    this.secret = config.secret ? readSecret(config.secret, `output ${name}`) : undefined;
  }

  send(n: Notification, signal?: AbortSignal): Promise<SendResult> {
    const body = JSON.stringify(this.body(n));
    const secret = this.secret;
    return postJson(this.config.url, body, {
      retry: this.config.retry,
      headers: (b) => ({ [DELIVERY_HEADER]: n.id, ...(secret ? { [SIGNATURE_HEADER]: signBody(secret, b) } : {}) }),
      ...(signal ? { signal } : {}),
    });
  }

  async close(): Promise<void> {}
}
