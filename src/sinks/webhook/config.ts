import { z } from 'zod';
import { DeliveryRetryConfig, SecretRef } from '../delivery/output.ts';

export const WebhookOutputConfig = z
  .strictObject({
    type: z.literal('webhook').describe('A generic HTTP webhook: JSON body, HMAC-SHA256 signature header.'),
    url: z.string().url().describe('Where notifications are POSTed.'),
    secret: SecretRef.optional().describe('Shared secret of the `X-Seam-Signature: sha256=<hex HMAC-SHA256 of the body>` header; without it no signature is sent.'),
    retry: DeliveryRetryConfig,
  })
  .describe('Generic webhook output.');
export type WebhookOutputConfig = z.infer<typeof WebhookOutputConfig>;
