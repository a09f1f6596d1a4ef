// The SNS Publish call a notification becomes (the round trip through an SNS topic to SQS is test/delivery/sns.test.ts).
import { describe, expect, it } from 'vitest';
import { testAlert } from '../../../test/helpers/alerts.ts';
import { snsPublishInput } from './sink.ts';

const TOPIC = 'arn:aws:sns:us-west-2:123456789012:seam-alerts';

describe('sns output message', () => {
  it('subject and level attribute are the rule\'s level when nothing raised it', () => {
    const alert = testAlert({ n: 1, level: 'high' });
    const input = snsPublishInput({ id: alert.id, kind: 'alert', alert, count: 1 }, TOPIC);
    expect(input.Subject).toBe('[high] IRSA token read from a pod and used from outside the cluster');
    expect(input.MessageAttributes).toEqual({
      level: { DataType: 'String', StringValue: 'high' },
      rule_id: { DataType: 'String', StringValue: 'r-irsa-token-theft' },
      notification_id: { DataType: 'String', StringValue: alert.id },
    });
    expect(JSON.parse(input.Message!).notification).toMatchObject({ id: alert.id, level: 'high' });
  });

  it('a GuardDuty finding alert routed at its band: subject, level attribute and body say the band, rule_level the rule\'s (ADR 0052)', () => {
    const alert = testAlert({ n: 1, level: 'medium', finding: { id: 'f-1', updated_at: '2026-12-01T10:00:00.000Z', severity: 9.2, severity_level: 'critical' } });
    const input = snsPublishInput({ id: `${alert.id}:critical`, kind: 'alert', alert, count: 1 }, TOPIC);
    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe('[critical; GuardDuty band, rule medium] IRSA token read from a pod and used from outside the cluster'.slice(0, 100));
    expect(input.MessageAttributes!.level).toEqual({ DataType: 'String', StringValue: 'critical' });
    expect(input.MessageAttributes!.rule_level).toEqual({ DataType: 'String', StringValue: 'medium' });
    expect(JSON.parse(input.Message!).notification).toMatchObject({ id: `${alert.id}:critical`, level: 'critical', rule_level: 'medium' });
  });
});
