import { z } from 'zod';
import { DeliveryRetryConfig, SecretRef } from '../delivery/output.ts';

export const PagerDutyOutputConfig = z
  .strictObject({
    type: z.literal('pagerduty').describe('A PagerDuty Events API v2 `trigger` event, POSTed over the webhook transport.'),
    url: z.string().url().default('https://events.pagerduty.com/v2/enqueue').describe('Events API v2 endpoint (or a relay that speaks it).'),
    routingKey: SecretRef.describe('The integration (routing) key of the PagerDuty service.'),
    secret: SecretRef.optional().describe('Optional shared secret: signs the body with `X-Seam-Signature` as the webhook output does (for relays).'),
    retry: DeliveryRetryConfig,
  })
  .describe('PagerDuty Events v2 output.');
export type PagerDutyOutputConfig = z.infer<typeof PagerDutyOutputConfig>;
