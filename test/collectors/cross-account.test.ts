// A security-account install (finding H1 of the platform-security review): one collector reads two workload
// accounts' EKS audit log groups, both named /aws/eks/prod/cluster, through a reader role in each account
// (sts:AssumeRole chained from the collector's own credentials), into the real Kafka. moto keeps accounts apart:
// credentials from AssumeRole into arn:aws:iam::<B>:role/... act in account B, and the group the collector's own
// account would see by that name is a different one.
import { CloudWatchLogs, ResourceAlreadyExistsException } from '@aws-sdk/client-cloudwatch-logs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { RAW_HEADERS, TOPICS } from '../../src/bus/topics.ts';
import { cloudWatchLogsClients } from '../../src/sources/cloudwatch-logs/clients.ts';
import { CloudWatchLogsSourceConfig } from '../../src/sources/cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../../src/sources/cloudwatch-logs/source.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { awsClientConfig, uniqueName } from '../helpers/services.ts';
import { auditEvent, newBus, producedSince } from './helpers.ts';

const GROUP = '/aws/eks/prod/cluster';
const aws = awsClientConfig();
// Fresh account ids per run: moto's state outlives a run, and these groups then hold only this run's events.
const accountId = (): string => String(100_000_000_000 + Math.floor(Math.random() * 800_000_000_000));
const readerRole = (account: string): string => `arn:aws:iam::${account}:role/seam-cloudwatch-logs-reader`;

/** A CloudWatch Logs client acting in `account` (what the workload account's own tooling would use to write). */
function logsIn(account: string): CloudWatchLogs {
  const credentials = fromTemporaryCredentials({
    params: { RoleArn: `arn:aws:iam::${account}:role/eks-writer`, RoleSessionName: 'test-writer' },
    masterCredentials: aws.credentials,
    clientConfig: { endpoint: aws.endpoint, region: aws.region },
  });
  return new CloudWatchLogs({ endpoint: aws.endpoint, region: aws.region, credentials });
}

describe('cloudwatch-logs collector across accounts (moto + Kafka)', () => {
  let bus: KafkaBus;
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([TOPICS.raw('k8s_audit'), TOPICS.dlq].map((topic) => ({ topic, partitions: 6 })));
  });
  afterAll(async () => {
    await bus.close();
  });

  it('reads two accounts\' /aws/eks/prod/cluster through two roleArns; each record carries its own account', async () => {
    const topics = [TOPICS.raw('k8s_audit'), TOPICS.dlq];
    const from = await bus.endOffsets(topics);
    const accounts = [accountId(), accountId()];
    const stream = `kube-apiserver-audit-${uniqueName('x')}`;
    const perAccount = [120, 75];
    const t0 = Date.now() - 10 * 60_000;
    for (const [i, account] of accounts.entries()) {
      const cw = logsIn(account);
      await cw.createLogGroup({ logGroupName: GROUP }).catch((e: unknown) => {
        if (!(e instanceof ResourceAlreadyExistsException)) throw e;
      });
      await cw.createLogStream({ logGroupName: GROUP, logStreamName: stream });
      // The payload names the account it was written in, so a record read through the wrong role would show.
      const events = Array.from({ length: perAccount[i]! }, (_, n) => ({ timestamp: t0 + n * 1000, message: auditEvent(`prod-${account}`, stream, n, t0 + n * 1000) }));
      await cw.putLogEvents({ logGroupName: GROUP, logStreamName: stream, logEvents: events });
      // The groups are the account's own: its ARN names it.
      const described = await cw.describeLogGroups({ logGroupNamePrefix: GROUP });
      expect(described.logGroups?.find((g) => g.logGroupName === GROUP)?.arn).toBe(`arn:aws:logs:${aws.region}:${account}:log-group:${GROUP}:*`);
    }

    const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: uniqueName('seam-checkpoints-xacct') } }), bus, {
      transactionalIdPrefix: uniqueName('seam-collect-xacct'),
    });
    const config = CloudWatchLogsSourceConfig.parse({
      type: 'cloudwatch-logs',
      name: 'cwl-xacct',
      region: aws.region,
      endpoint: aws.endpoint,
      stsEndpoint: aws.endpoint,
      logGroups: [
        { logGroupName: GROUP, roleArn: readerRole(accounts[0]!) },
        { logGroupName: GROUP, roleArn: readerRole(accounts[1]!), externalId: 'seam-xacct-test' },
      ],
      initialLookbackMs: 60 * 60_000,
    });
    // The collector's own credentials (moto's default account 123456789012) only sign the AssumeRole calls.
    const logsFor = cloudWatchLogsClients(config, { credentials: aws.credentials });
    const source = new CloudWatchLogsSource(config, {
      logs: new CloudWatchLogs({ ...aws }),
      logsFor,
      store: ctx.checkpoints,
      writerFor: (k) => ctx.writerFor(k),
      refresh: () => ctx.refreshCheckpoints(),
    });
    await source.start();
    await source.pollOnce();
    await source.pollOnce();
    const { messages, to } = await producedSince(bus, topics, [`${GROUP}/${stream}#`], from);
    await source.close();

    const raw = messages.filter((m) => m.topic === TOPICS.raw('k8s_audit'));
    expect(messages.length - raw.length).toBe(0);
    const byAccount = new Map<string, { seqs: Set<number>; payloadAccounts: Set<string>; clusters: Set<string> }>();
    for (const m of raw) {
      const account = m.headers?.[RAW_HEADERS.account] ?? '(none)';
      const e = byAccount.get(account) ?? { seqs: new Set(), payloadAccounts: new Set(), clusters: new Set() };
      const body = JSON.parse(m.value!.toString()) as { seam_test: { cluster: string; seq: number } };
      e.seqs.add(body.seam_test.seq);
      e.payloadAccounts.add(body.seam_test.cluster.replace(/^prod-/, ''));
      e.clusters.add(m.headers?.[RAW_HEADERS.cluster] ?? '(none)');
      byAccount.set(account, e);
    }
    process.stdout.write(
      `cross-account: ${raw.length} records on ${TOPICS.raw('k8s_audit')}; ${[...byAccount].map(([a, e]) => `account ${a}: ${e.seqs.size} (payload from ${[...e.payloadAccounts].join(',')})`).join('; ')}\n`,
    );
    expect([...byAccount.keys()].sort()).toEqual([...accounts].sort());
    for (const [i, account] of accounts.entries()) {
      const e = byAccount.get(account)!;
      expect(e.seqs.size).toBe(perAccount[i]);
      expect([...e.payloadAccounts]).toEqual([account]);
      expect([...e.clusters]).toEqual(['prod']);
    }
    // Exactly once: the second poll and the per-account checkpoints emitted nothing again.
    expect(raw.length).toBe(perAccount[0]! + perAccount[1]!);
    expect(source.stats.snapshot()).toMatchObject({ checkpointAgeMs: { [`${accounts[0]}:${GROUP}`]: expect.any(Number), [`${accounts[1]}:${GROUP}`]: expect.any(Number) } });

    // A restart resumes from each account's own checkpoint: nothing is read again.
    const again = new CloudWatchLogsSource(config, { logs: new CloudWatchLogs({ ...aws }), logsFor, store: ctx.checkpoints, writerFor: (k) => ctx.writerFor(k), refresh: () => ctx.refreshCheckpoints() });
    await again.start();
    await again.pollOnce();
    await again.close();
    const after = await producedSince(bus, topics, [`${GROUP}/${stream}#`], to);
    expect(after.messages).toHaveLength(0);
    await ctx.checkpoints.close();
  });
});
