// Shared plumbing of the collector tests: the real Kafka bus, reading what collectors produced,
// and putting events into moto's CloudWatch Logs.
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { KafkaBus, type TopicOffsets } from '../../src/bus/kafka.ts';
import type { ConsumedMessage } from '../../src/bus/types.ts';
import { RAW_HEADERS } from '../../src/bus/topics.ts';
import { awsClientConfig, kafkaBrokers } from '../helpers/services.ts';

export const newBus = (): KafkaBus => new KafkaBus({ brokers: kafkaBrokers(), clientId: 'seam-collectors-test', replicationFactor: 1 });

/** Every committed record of `topics` whose origin header starts with one of `origins`. */
export async function produced(bus: KafkaBus, topics: string[], origins: string[], from?: TopicOffsets): Promise<ConsumedMessage[]> {
  return (await producedSince(bus, topics, origins, from)).messages;
}

/** As `produced`, and where the read ended: pass `to` as the next `from` to read only what came after. */
export async function producedSince(bus: KafkaBus, topics: string[], origins: string[], from?: TopicOffsets): Promise<{ messages: ConsumedMessage[]; to: TopicOffsets }> {
  const out: ConsumedMessage[] = [];
  // untilStable: records committed behind someone else's open transaction (the raw topics are shared by every
  // test run on this broker) count too; reading only to the last stable offset showed them as missing.
  const to = await bus.readToEnd(
    topics,
    (m) => {
      const o = m.headers?.[RAW_HEADERS.origin];
      if (o !== undefined && origins.some((p) => o.startsWith(p))) out.push(m);
    },
    120_000,
    // from: where the topics ended when the scenario began (the shared raw topics hold every earlier run's records).
    { untilStable: true, ...(from === undefined ? {} : { from }) },
  );
  return { messages: out, to };
}

export const logs = new CloudWatchLogsClient({ ...awsClientConfig(), maxAttempts: 5 });

export async function createStreams(logGroupName: string, streams: string[]): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName }));
  for (const logStreamName of streams) await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
}

/** Puts events in chronological batches (PutLogEvents wants them ordered, at most 10,000 and 1 MiB). */
export async function put(logGroupName: string, logStreamName: string, events: { timestamp: number; message: string }[]): Promise<void> {
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
  let batch: typeof sorted = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const r = await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: batch }));
    if (r.rejectedLogEventsInfo) throw new Error(`moto rejected events: ${JSON.stringify(r.rejectedLogEventsInfo)}`);
    batch = [];
    bytes = 0;
  };
  for (const e of sorted) {
    const size = Buffer.byteLength(e.message) + 26;
    if (batch.length >= 5000 || bytes + size > 900_000) await flush();
    batch.push(e);
    bytes += size;
  }
  await flush();
}

export function auditEvent(cluster: string, stream: string, seq: number, tsMs: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `${cluster}-${stream}-${seq}`,
    stage: 'ResponseComplete',
    verb: seq % 7 === 0 ? 'create' : 'get',
    requestURI: `/api/v1/namespaces/default/pods/p-${seq}`,
    user: { username: 'system:serviceaccount:default:app', groups: ['system:serviceaccounts'] },
    objectRef: { resource: 'pods', namespace: 'default', name: `p-${seq}` },
    requestReceivedTimestamp: new Date(tsMs).toISOString(),
    stageTimestamp: new Date(tsMs).toISOString(),
    seam_test: { cluster, stream, seq },
    ...extra,
  });
}

export function cloudTrailEvent(seq: number, tsMs: number): string {
  return JSON.stringify({
    eventVersion: '1.09',
    eventTime: new Date(tsMs).toISOString(),
    eventSource: 'sts.amazonaws.com',
    eventName: 'GetCallerIdentity',
    eventID: `ct-${seq}`,
    awsRegion: 'us-east-1',
    userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' },
    seam_test: { stream: 'ct', seq },
  });
}

export const seqOf = (m: ConsumedMessage): number | undefined => {
  try {
    return (JSON.parse(m.value.toString()) as { seam_test?: { seq?: number } }).seam_test?.seq;
  } catch {
    return undefined;
  }
};
