import { SNSClient, PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { awsClientOptions } from '../../sources/aws/client.ts';
import { isTransientAwsError } from '../../sources/aws/client.ts';
import { notificationLevel, type AlertOutput, type Notification, type SendResult } from '../delivery/output.ts';
import { webhookBody } from '../webhook/sink.ts';
import type { SnsOutputConfig } from './config.ts';

/**
 * The Publish call of one notification: the subject (an email subscription's subject line) leads with the level
 * the alert was routed at, and the rule's own where it differs (ADR 0052); the message is the webhook body; the
 * `level` attribute is the routed level, `rule_level` the rule's own when it differs.
 */
export function snsPublishInput(n: Notification, topicArn: string): PublishCommandInput {
  const a = n.alert;
  const routed = notificationLevel(a);
  return {
    TopicArn: topicArn,
    Subject: `[${routed.level}${routed.ruleLevel === undefined ? '' : `; GuardDuty band, rule ${routed.ruleLevel}`}] ${a.rule.title}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100),
    Message: JSON.stringify(webhookBody(n)),
    MessageAttributes: {
      level: { DataType: 'String', StringValue: routed.level },
      ...(routed.ruleLevel === undefined ? {} : { rule_level: { DataType: 'String', StringValue: routed.ruleLevel } }),
      rule_id: { DataType: 'String', StringValue: a.rule.id },
      notification_id: { DataType: 'String', StringValue: n.id },
    },
  };
}

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
    try {
      const out = await this.client.send(new PublishCommand(snsPublishInput(n, this.config.topicArn)), signal ? { abortSignal: signal } : {});
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
