import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { awsClientOptions } from '../../sources/aws/client.ts';
import { isTransientAwsError } from '../../sources/aws/client.ts';
import type { AlertOutput, Notification, SendResult } from '../delivery/output.ts';
import { webhookBody } from '../webhook/sink.ts';
import type { SnsOutputConfig } from './config.ts';

/**
 * Publishes each notification to an SNS topic. Retries are the AWS SDK's own (maxAttempts,
 * retryMode), never a second loop around it; a call that still fails is returned as failed and the
 * deliver role dead-letters it. Message attributes carry level, rule id and notification id, so SNS
 * subscription filter policies can route on them.
 */
export class SnsOutput implements AlertOutput {
  readonly type = 'sns';
  private readonly client: SNSClient;

  constructor(
    readonly name: string,
    private readonly config: SnsOutputConfig,
  ) {
    this.client = new SNSClient(awsClientOptions(config));
  }

  async send(n: Notification, signal?: AbortSignal): Promise<SendResult> {
    const a = n.alert;
    try {
      const out = await this.client.send(
        new PublishCommand({
          TopicArn: this.config.topicArn,
          Subject: `[${a.rule.level}] ${a.rule.title}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
          Message: JSON.stringify(webhookBody(n)),
          MessageAttributes: {
            level: { DataType: 'String', StringValue: a.rule.level },
            rule_id: { DataType: 'String', StringValue: a.rule.id },
            notification_id: { DataType: 'String', StringValue: n.id },
          },
        }),
        signal ? { abortSignal: signal } : {},
      );
      return { ok: true, attempts: out.$metadata.attempts ?? 1 };
    } catch (e) {
      const x = e as Error & { $metadata?: { attempts?: number; httpStatusCode?: number } };
      return {
        ok: false,
        attempts: x.$metadata?.attempts ?? 1,
        code: isTransientAwsError(e) ? 'SEAM_ERR_DELIVERY_FAILED' : 'SEAM_ERR_DELIVERY_REJECTED',
        reason: `SNS Publish failed: ${x.name}: ${x.message}`,
        ...(x.$metadata?.httpStatusCode ? { status: x.$metadata.httpStatusCode } : {}),
      };
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
