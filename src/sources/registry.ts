import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { awsClientOptions } from './aws/client.ts';
import { KafkaBus } from '../bus/kafka.ts';
import { TOPICS } from '../bus/topics.ts';
import type { Bus, BusMessage, BusProducer } from '../bus/types.ts';
import { deadLetter } from '../core/dead-letter.ts';
import { SeamError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import { BatchCounts } from '../core/normalize/batch.ts';
import { FileCheckpointStore } from './checkpoint/file-store.ts';
import { CHECKPOINT_TOPIC, KafkaCheckpointStore, LEASE_TOPIC } from './checkpoint/kafka-store.ts';
import type { CollectConfig, SourceConfig } from './collect-config.ts';
import { KafkaLeaseMembership } from './checkpoint/lease.ts';
import { rawHeaders } from './checkpoint/raw-record.ts';
import type { DelayHistogram } from './checkpoint/stats.ts';
import { sequentialWriter, type CheckpointedWriter, type CheckpointStore, type WriterFaults } from './checkpoint/store.ts';
import { cloudWatchLogsClients } from './cloudwatch-logs/clients.ts';
import { CloudWatchLogsSourceConfig } from './cloudwatch-logs/config.ts';
import { detectSource } from './cloudwatch-logs/parse.ts';
import { CloudWatchLogsSource, type FilterLogEventsApi } from './cloudwatch-logs/source.ts';
import { FileSourceConfig } from './file/config.ts';
import { readFiles } from './file/source.ts';
import { GuardDutySourceConfig } from './guardduty/config.ts';
import { GuardDutySource, type GuardDutyApi } from './guardduty/source.ts';
import { SidecarSourceConfig } from './sidecar/config.ts';
import { SidecarSource } from './sidecar/source.ts';
import { GuardDuty } from '@aws-sdk/client-guardduty';

/**
 * The explicit list of collector types (type id → { schema, build }) and `runCollectors`, which
 * `seam collect` calls. No registration by import side effect: adding a source means adding a line.
 */

/** A built collector: runs until the signal aborts; reports its stats. */
export interface Collector {
  readonly name: string;
  run(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  stats(): Record<string, unknown>;
  /** CloudWatch Logs: each log group's ingestion delays (seam_collector_ingest_delay_seconds). */
  ingestDelays?(): ReadonlyMap<string, DelayHistogram>;
}

/** What every collector is built with: where records and checkpoints go. */
export interface CollectorContext {
  bus: Bus;
  /** Where checkpoints live (Kafka compacted topic when the bus is Kafka, else a local file). */
  checkpoints: CheckpointStore;
  /** One writer per checkpoint key: transactional on Kafka, produce-then-save otherwise. */
  writerFor(key: string): Promise<CheckpointedWriter>;
  refreshCheckpoints(): Promise<void>;
  /** A plain producer (file replays, the sidecar endpoint); writes to the prefixed topics like the writers. */
  producer(): Promise<BusProducer>;
  /** seam.yml kafka.topicPrefix, before every topic the collectors write or read ('' for none). */
  topicPrefix: string;
  /** Client overrides for tests (a client pointed at moto or a stub). */
  clients?: { logs?: FilterLogEventsApi; guardduty?: GuardDutyApi };
}

export const SOURCES = {
  file: {
    schema: FileSourceConfig,
    build: (name: string, config: FileSourceConfig, ctx: CollectorContext): Collector => buildFileCollector(name, config, ctx),
  },
  'cloudwatch-logs': {
    schema: CloudWatchLogsSourceConfig,
    build: (name: string, config: CloudWatchLogsSourceConfig, ctx: CollectorContext): Collector => {
      // A client per role (`roleArn` groups read in other accounts), the pod's own credentials for the rest.
      const logs = ctx.clients?.logs ?? new CloudWatchLogs(awsClientOptions(config));
      const logsFor = ctx.clients?.logs === undefined ? cloudWatchLogsClients(config, { own: logs }) : undefined;
      const lease = config.ownership?.lease;
      if (lease !== undefined && !(ctx.bus instanceof KafkaBus)) {
        throw new SeamError('SEAM_ERR_CONFIG_INVALID', `collector ${name}: ownership.lease needs the Kafka bus (SEAM_KAFKA_BROKERS)`);
      }
      const membership =
        lease !== undefined && ctx.bus instanceof KafkaBus
          ? new KafkaLeaseMembership(ctx.bus, { topic: lease.topic ?? ctx.topicPrefix + LEASE_TOPIC, collector: config.name, replicaId: config.ownership!.replicaId, ttlMs: lease.ttlMs, heartbeatMs: lease.heartbeatMs })
          : undefined;
      const src = new CloudWatchLogsSource(config, {
        logs,
        ...(logsFor === undefined ? {} : { logsFor }),
        store: ctx.checkpoints,
        writerFor: (key) => ctx.writerFor(key),
        refresh: () => ctx.refreshCheckpoints(),
        ...(membership === undefined ? {} : { membership }),
        settingsPath: `collect.sources.${name}`,
      });
      return { name, run: (s) => src.run(s), close: () => src.close(), stats: () => src.stats.snapshot(), ingestDelays: () => src.stats.ingestDelay };
    },
  },
  guardduty: {
    schema: GuardDutySourceConfig,
    build: (name: string, config: GuardDutySourceConfig, ctx: CollectorContext): Collector => {
      const gd =
        ctx.clients?.guardduty ??
        new GuardDuty(awsClientOptions(config));
      const src = new GuardDutySource(config, {
        guardduty: gd,
        store: ctx.checkpoints,
        writerFor: (key) => ctx.writerFor(key),
        refresh: () => ctx.refreshCheckpoints(),
        settingsPath: `collect.sources.${name}`,
      });
      return { name, run: (s) => src.run(s), close: () => src.close(), stats: () => src.stats.snapshot() };
    },
  },
  sidecar: {
    schema: SidecarSourceConfig,
    build: (name: string, config: SidecarSourceConfig, ctx: CollectorContext): Collector => {
      let src: SidecarSource | undefined;
      return {
        name,
        run: async (signal) => {
          src = new SidecarSource(config, { producer: await ctx.producer() });
          await src.listen();
          await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
          await src.close();
        },
        close: async () => src?.close(),
        stats: () => src?.snapshot() ?? {},
      };
    },
  },
} as const;

export type SourceTypeId = keyof typeof SOURCES;

export { CollectConfig, SourceConfig } from './collect-config.ts';

export interface RunningCollectors {
  collectors: Collector[];
  /** Resolves when every collector has stopped. */
  done: Promise<void>;
  /** Stops gracefully: current polls finish and save their checkpoints, then clients close. */
  stop(): Promise<void>;
  stats(): Record<string, Record<string, unknown>>;
}

const log = childLogger('collect');

/**
 * Builds every configured collector over `bus` and starts them. Checkpoints go to a compacted Kafka
 * topic when the bus is Kafka (records and checkpoint commit in one transaction), else to the local
 * state file. `seam collect <config>` = parse the file, `CollectConfig.parse`, `runCollectors`.
 */
export interface CollectorOptions {
  clients?: CollectorContext['clients'];
  faults?: WriterFaults;
  transactionalIdPrefix?: string;
  /**
   * seam.yml kafka.topicPrefix: records go to <prefix>seam.raw.<source> and <prefix>seam.dlq, where the roles read;
   * checkpoints and lease heartbeats to <prefix>seam.checkpoints and <prefix>seam.collect.leases unless the config names them.
   */
  topicPrefix?: string;
  /** Partitions of the raw topics the collectors create when missing (kafka.partitions.raw; default 6). */
  rawPartitions?: number;
  /** Partitions of the dead-letter topic when the collectors create it (kafka.partitions.dlq, as the roles; default 1). */
  dlqPartitions?: number;
}

export async function runCollectors(config: CollectConfig, bus: Bus, opts: CollectorOptions = {}): Promise<RunningCollectors> {
  const ctx = await collectorContext(config, bus, opts);
  const prefix = opts.topicPrefix ?? '';
  await bus.ensureTopics(
    [
      ...(['k8s_audit', 'cloudtrail', 'guardduty', 'runtime'] as const).map((s) => ({ topic: prefix + TOPICS.raw(s), partitions: opts.rawPartitions ?? config.rawTopicPartitions ?? 6 })),
      { topic: prefix + TOPICS.dlq, partitions: opts.dlqPartitions ?? 1 },
    ],
  );
  const collectors = Object.entries(config.sources).map(([name, sc]) => buildCollector(name, sc, ctx));
  const ac = new AbortController();
  const done = Promise.all(
    collectors.map((c) =>
      c.run(ac.signal).catch((error: unknown) => {
        log.error({ collector: c.name, error }, 'A collector stopped on an error.');
      }),
    ),
  ).then(() => undefined);
  return {
    collectors,
    done,
    stop: async () => {
      ac.abort();
      await done;
      for (const c of collectors) await c.close().catch(() => undefined);
      await ctx.checkpoints.close();
    },
    stats: () => Object.fromEntries(collectors.map((c) => [c.name, c.stats()])),
  };
}

export function buildCollector(name: string, sc: SourceConfig, ctx: CollectorContext): Collector {
  switch (sc.type) {
    case 'file':
      return SOURCES.file.build(name, sc, ctx);
    case 'cloudwatch-logs':
      return SOURCES['cloudwatch-logs'].build(name, sc, ctx);
    case 'guardduty':
      return SOURCES.guardduty.build(name, sc, ctx);
    case 'sidecar':
      return SOURCES.sidecar.build(name, sc, ctx);
  }
}

/** Records with `prefix` put before their topic (seam.yml kafka.topicPrefix). */
function prefixed(messages: BusMessage[], prefix: string): BusMessage[] {
  return prefix === '' ? messages : messages.map((m) => ({ ...m, topic: prefix + m.topic }));
}

function prefixedWriter(w: CheckpointedWriter, prefix: string): CheckpointedWriter {
  if (prefix === '') return w;
  return {
    write: (records, key, cp) => w.write(prefixed(records, prefix), key, cp),
    ...(w.size ? { size: (key, cp) => w.size!(key, cp) } : {}),
    ...(w.reset ? { reset: () => w.reset!() } : {}),
    close: () => w.close(),
  };
}

async function prefixedProducer(bus: Bus, prefix: string): Promise<BusProducer> {
  const p = await bus.producer();
  return prefix === '' ? p : { send: (messages) => p.send(prefixed(messages, prefix)), close: () => p.close() };
}

/** Picks the checkpoint store and writers that suit the bus. */
export async function collectorContext(config: CollectConfig, bus: Bus, opts: CollectorOptions = {}): Promise<CollectorContext> {
  const clients = opts.clients === undefined ? {} : { clients: opts.clients };
  const topicPrefix = opts.topicPrefix ?? '';
  if (bus instanceof KafkaBus) {
    const store = new KafkaCheckpointStore(bus, { topic: config.checkpoint.topic ?? topicPrefix + CHECKPOINT_TOPIC });
    const prefix = opts.transactionalIdPrefix ?? 'seam-collect';
    return {
      bus,
      checkpoints: store,
      writerFor: async (key) => prefixedWriter(await store.writer(`${prefix}:${key}`, opts.faults), topicPrefix),
      refreshCheckpoints: () => store.refresh(),
      producer: () => prefixedProducer(bus, topicPrefix),
      topicPrefix,
      ...clients,
    };
  }
  const store = new FileCheckpointStore(config.checkpoint.path);
  return {
    bus,
    checkpoints: store,
    writerFor: async () => prefixedWriter(sequentialWriter(await bus.producer(), store, opts.faults), topicPrefix),
    refreshCheckpoints: async () => undefined,
    producer: () => prefixedProducer(bus, topicPrefix),
    topicPrefix,
    ...clients,
  };
}

/** The file source as a collector: reads once, then stops (replays have no checkpoint). */
function buildFileCollector(name: string, config: FileSourceConfig, ctx: CollectorContext): Collector {
  let emitted = 0;
  let received = 0;
  const batches = new BatchCounts();
  return {
    name,
    run: async (signal) => {
      const producer = await ctx.producer();
      let batch: BusMessage[] = [];
      const flush = async (): Promise<void> => {
        await producer.send(batch);
        emitted += batch.length;
        batch = [];
      };
      for await (const item of readFiles(config.paths, { maxRecordBytes: config.maxRecordBytes, readChunkBytes: config.readChunkBytes, batches, ...(config.cluster ? { cluster: config.cluster } : {}), ...(config.account ? { account: config.account } : {}) })) {
        if (signal.aborted) break;
        received++;
        const key = item.meta.origin ?? null;
        if (item.kind === 'error') {
          batch.push({ topic: TOPICS.dlq, key, value: Buffer.from(JSON.stringify(deadLetter('read', item.error, item.raw, { collector: 'file', ...(item.meta.origin ? { origin: item.meta.origin } : {}) }))), headers: rawHeaders(item.meta) });
        } else {
          const source = item.meta.source ?? detectSource(item.text);
          if (source === undefined) {
            const error = new SeamError('SEAM_ERR_INPUT_UNKNOWN_FORMAT', 'record matches no known source format', { details: { origin: item.meta.origin } });
            batch.push({ topic: TOPICS.dlq, key, value: Buffer.from(JSON.stringify(deadLetter('read', error, item.text, { collector: 'file', ...(item.meta.origin ? { origin: item.meta.origin } : {}) }))), headers: rawHeaders(item.meta) });
          } else {
            batch.push({ topic: TOPICS.raw(source), key, value: Buffer.from(item.text), headers: rawHeaders({ ...item.meta, source }) });
          }
        }
        if (batch.length >= 500) await flush();
      }
      await flush();
      await producer.close();
    },
    close: async () => undefined,
    stats: () => ({ component: `file:${name}`, received, emitted, batches: batches.snapshot() }),
  };
}
