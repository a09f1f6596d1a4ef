// CloudWatch Logs through @aws-sdk/client-cloudwatch-logs against moto server, the calls Seam's
// cloudwatch-logs source makes; and EventBridge delivering events to a log group (GuardDuty findings arrive
// that way in production).
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { awsClientConfig, uniqueLogGroup, uniqueName } from './helpers/services.ts';

const logs = new CloudWatchLogsClient(awsClientConfig());
const groups: string[] = [];

async function filterAll(input: { logGroupName: string; filterPattern?: string; limit: number }): Promise<{
  events: FilteredLogEvent[];
  pages: number;
}> {
  const events: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ ...input, nextToken }));
    pages += 1;
    events.push(...(page.events ?? []));
    nextToken = page.nextToken ?? undefined;
  } while (nextToken && pages < 100);
  return { events, pages };
}

afterAll(async () => {
  for (const logGroupName of groups) await logs.send(new DeleteLogGroupCommand({ logGroupName })).catch(() => undefined);
  logs.destroy();
});

describe('cloudwatch logs (moto)', () => {
  it('stores events put now and returns them all through paginated FilterLogEvents', async () => {
    const logGroupName = uniqueLogGroup('eks-audit');
    const logStreamName = 'kube-apiserver-audit-0123456789abcdef';
    groups.push(logGroupName);
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));

    // Current timestamps: moto (like AWS) silently drops events older than 14 days or >2h in the future.
    const base = Date.now() - 60_000;
    const logEvents = Array.from({ length: 25 }, (_, i) => ({
      timestamp: base + i * 1000,
      message: JSON.stringify({ kind: 'Event', auditID: `audit-${i}`, verb: i % 5 === 0 ? 'create' : 'get' }),
    }));
    const put = await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents }));
    expect(put.rejectedLogEventsInfo).toBeUndefined();

    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName }));
    expect(streams.logStreams?.map((s) => s.logStreamName)).toEqual([logStreamName]);

    const { events, pages } = await filterAll({ logGroupName, limit: 10 });
    expect(pages).toBe(3);
    expect(events.map((e) => JSON.parse(e.message!).auditID)).toEqual(logEvents.map((_, i) => `audit-${i}`));
    expect(events.map((e) => e.timestamp)).toEqual(logEvents.map((e) => e.timestamp));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(25);
    expect(events.every((e) => e.logStreamName === logStreamName)).toBe(true);

    // A plain-term filter pattern (the only kind moto supports) narrows the result.
    const creates = await filterAll({ logGroupName, filterPattern: 'create', limit: 2 });
    expect(creates.events.map((e) => JSON.parse(e.message!).auditID)).toEqual([
      'audit-0',
      'audit-5',
      'audit-10',
      'audit-15',
      'audit-20',
    ]);
    expect(creates.pages).toBe(3);
  });
});

// @aws-sdk/client-eventbridge is not a dependency of Seam (it only needs to *read* what EventBridge delivered
// to CloudWatch Logs), so the test sets the rule up with EventBridge's JSON wire protocol directly. moto does
// not check signatures; the Authorization header only tells it which service the request is for.
async function events(target: string, body: unknown): Promise<Record<string, unknown>> {
  const { endpoint, region } = awsClientConfig();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSEvents.${target}`,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/events/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EventBridge ${target}: HTTP ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

describe('eventbridge → cloudwatch logs (moto)', () => {
  it('delivers an event matching a rule to the log group it targets, and not one that does not match', async () => {
    const { region } = awsClientConfig();
    const logGroupName = `/aws/events/${uniqueName('guardduty')}`;
    const rule = uniqueName('seam-guardduty');
    groups.push(logGroupName);
    await logs.send(new CreateLogGroupCommand({ logGroupName }));

    await events('PutRule', { Name: rule, EventPattern: JSON.stringify({ source: ['aws.guardduty'] }) });
    await events('PutTargets', {
      Rule: rule,
      Targets: [{ Id: 'logs', Arn: `arn:aws:logs:${region}:123456789012:log-group:${logGroupName}` }],
    });
    try {
      const findingId = uniqueName('finding');
      const put = await events('PutEvents', {
        Entries: [
          {
            Source: 'aws.guardduty',
            DetailType: 'GuardDuty Finding',
            Detail: JSON.stringify({ id: findingId, type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess', severity: 5 }),
          },
          { Source: 'aws.ec2', DetailType: 'EC2 Instance State-change Notification', Detail: '{"state":"running"}' },
        ],
      });
      expect(put.FailedEntryCount).toBe(0);

      const { events: delivered } = await filterAll({ logGroupName, limit: 50 });
      expect(delivered).toHaveLength(1);
      const envelope = JSON.parse(delivered[0]!.message!) as Record<string, unknown>;
      expect(envelope.source).toBe('aws.guardduty');
      expect(envelope['detail-type']).toBe('GuardDuty Finding');
      expect(envelope.detail).toEqual({ id: findingId, type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess', severity: 5 });
    } finally {
      await events('RemoveTargets', { Rule: rule, Ids: ['logs'] }).catch(() => undefined);
      await events('DeleteRule', { Name: rule }).catch(() => undefined);
    }
  });
});
