import { z } from 'zod';
import { AwsCallConfigFields } from '../../sources/aws/client.ts';

export const SnsOutputConfig = z
  .strictObject({
    type: z.literal('sns').describe('Amazon SNS: one Publish per notification (subject = level and rule, message = the webhook JSON).'),
    topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:/).describe('The SNS topic notifications are published to.'),
    region: z.string().min(1).optional().describe('AWS region (default: the SDK default chain, e.g. AWS_REGION).'),
    endpoint: z.string().url().optional().describe('Endpoint override (moto or a VPC endpoint).'),
    ...AwsCallConfigFields,
    maxAttempts: AwsCallConfigFields.maxAttempts.describe('HTTP attempts per Publish (the first one included) made by the SDK; after the last one the notification is dead-lettered with the reason.'),
  })
  .describe('Amazon SNS output.');
export type SnsOutputConfig = z.infer<typeof SnsOutputConfig>;
