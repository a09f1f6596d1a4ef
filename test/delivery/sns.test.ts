// The SNS output on moto: create a topic, subscribe an SQS queue, publish notifications through
// SnsOutput, read the delivered messages back from the queue — every call goes to moto.
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { testAlert } from '../helpers/alerts.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { SnsOutputConfig } from '../../src/sinks/sns/config.ts';
import { SnsOutput } from '../../src/sinks/sns/sink.ts';

// The SDK default chain (what SnsOutput uses) reads these; moto accepts any static credentials.
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

const cfg = awsClientConfig();
const sns = new SNSClient(cfg);
const cleanup: (() => Promise<unknown>)[] = [];

/**
 * SQS through its query API on moto (no SQS client in Seam's dependencies). moto picks the service
 * from the credential scope of the Authorization header and does not check the signature.
 */
async function sqs(action: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(cfg.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${cfg.region}/sqs/aws4_request, SignedHeaders=host, Signature=unsigned`,
    },
    body: new URLSearchParams({ Action: action, Version: '2012-11-05', ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`SQS ${action}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}
const tag = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
const unxml = (s: string): string => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x27;|&apos;/g, "'").replace(/&amp;/g, '&');

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  sns.destroy();
});

describe('SNS output (moto)', () => {
  it('publishes each notification to the topic; an SQS subscriber receives level, rule, notification id and the alert', async () => {
    const name = uniqueName('seam-alerts');
    const topic = await sns.send(new CreateTopicCommand({ Name: name }));
    const topicArn = topic.TopicArn!;
    cleanup.push(() => sns.send(new DeleteTopicCommand({ TopicArn: topicArn })));
    const queueUrl = tag(await sqs('CreateQueue', { QueueName: name }), 'QueueUrl')[0]!;
    cleanup.push(() => sqs('DeleteQueue', { QueueUrl: queueUrl }));
    const queueArn = tag(await sqs('GetQueueAttributes', { QueueUrl: queueUrl, 'AttributeName.1': 'QueueArn' }), 'Value')[0]!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));

    const out = new SnsOutput('sns', SnsOutputConfig.parse({ type: 'sns', topicArn, region: cfg.region, endpoint: cfg.endpoint, maxAttempts: 2 }));
    const alerts = [1, 2, 3].map((n) => testAlert({ n, level: n === 3 ? 'critical' : 'high' }));
    for (const a of alerts) expect(await out.send({ id: a.id, kind: 'alert', alert: a, count: 1, link: `https://dash.example/${a.id}` })).toMatchObject({ ok: true });

    const got: { Subject: string; Message: string; MessageAttributes: Record<string, { Value: string }> }[] = [];
    for (let i = 0; i < 20 && got.length < alerts.length; i++) {
      const xml = await sqs('ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: '10', WaitTimeSeconds: '1' });
      for (const b of tag(xml, 'Body')) got.push(JSON.parse(unxml(b)) as (typeof got)[number]);
      for (const h of tag(xml, 'ReceiptHandle')) await sqs('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: unxml(h) });
    }
    expect(got).toHaveLength(3);
    const byId = new Map(got.map((g) => [g.MessageAttributes.notification_id!.Value, g]));
    expect([...byId.keys()].sort()).toEqual(alerts.map((a) => a.id).sort());
    const third = byId.get(alerts[2]!.id)!;
    expect(third.Subject).toBe('[critical] IRSA token read from a pod and used from outside the cluster');
    expect(third.MessageAttributes.level!.Value).toBe('critical');
    expect(third.MessageAttributes.rule_id!.Value).toBe('r-irsa-token-theft');
    const body = JSON.parse(third.Message) as { notification: { id: string; link: string }; alert: { id: string; origin: { id: string } } };
    expect(body.notification).toMatchObject({ id: alerts[2]!.id, link: `https://dash.example/${alerts[2]!.id}` });
    expect(body.alert.origin.id).toBe('arn:aws:iam::111122223333:user/alice');
    await out.close();
  });

  it('a topic that does not exist is a final failure with the reason (dead-lettered by the role)', async () => {
    const out = new SnsOutput('sns', SnsOutputConfig.parse({ type: 'sns', topicArn: `arn:aws:sns:${cfg.region}:123456789012:${uniqueName('missing')}`, region: cfg.region, endpoint: cfg.endpoint, maxAttempts: 1 }));
    const a = testAlert({ n: 9 });
    const r = await out.send({ id: a.id, kind: 'alert', alert: a, count: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('SEAM_ERR_DELIVERY_REJECTED');
      expect(r.reason).toMatch(/^SNS Publish failed: NotFound/);
    }
    await out.close();
  });
});
