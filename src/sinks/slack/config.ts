import { z } from 'zod';
import { DeliveryRetryConfig, SecretRef } from '../delivery/output.ts';

export const SlackOutputConfig = z
  .strictObject({
    type: z.literal('slack').describe('A Slack incoming webhook: one Block Kit message per notification.'),
    webhookUrl: SecretRef.describe('The incoming-webhook URL (it is a credential: from an environment variable or a file).'),
    retry: DeliveryRetryConfig,
  })
  .describe('Slack incoming-webhook output.');
export type SlackOutputConfig = z.infer<typeof SlackOutputConfig>;
