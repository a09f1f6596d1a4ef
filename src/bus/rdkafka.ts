import { createRequire } from 'node:module';
import { SeamError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import { consumedOf, type FetchedMessage } from './consumed.ts';
import { byTopic, chunkBySize, KafkaBus, replacingProducer, type KafkaBusOptions } from './kafka.ts';
import { BatchRevoked } from './revoked.ts';
import type { BusConsumer, BusConsumerOptions, BusProducer, ConsumedMessage } from './types.ts';

/**
 * An optional Bus whose producers and consumers run on librdkafka through @confluentinc/kafka-javascript's
 * KafkaJS-shaped API (ADR 0022), measured against kafkajs on `bench:pipeline` (SEAM_BENCH_BUS=rdkafka).
 * Everything else (topics, offsets, history reads, transactional collectors) stays on kafkajs: this class
 * only overrides `producer()` and `consumer()`, the two halves the roles spend their CPU in.
 *
 * The package is NOT a dependency of Seam: it is loaded with `require` only when this bus is built, so
 * it must be installed (or on NODE_PATH). ADR 0022 says why kafkajs stays the default.
 *
 * Same contract as KafkaBus: produce is idempotent with acks=all and resolves once every message is
 * durable; consumers never auto-commit, a batch's offsets are committed after the handler resolves. Keyed
 * messages go where kafkajs sends them (librdkafka's murmur2_random, Kafka's Java partitioner).
 * Measurement grade: its consumers report no group membership (so /readyz and the lag metric do not see
 * them), and it has not been through test/faults.
 */

const log = childLogger('bus.rdkafka');

/** The few parts of @confluentinc/kafka-javascript's KafkaJS API this file uses. */
interface RdBatchPayload {
  batch: { topic: string; partition: number; messages: FetchedMessage[] };
  resolveOffset(offset: string): void;
  isRunning(): boolean;
  isStale(): boolean;
}
interface RdConsumer {
  connect(): Promise<void>;
  subscribe(o: { topics: string[] }): Promise<void>;
  run(o: { eachBatch(p: RdBatchPayload): Promise<void>; eachBatchAutoResolve: boolean; partitionsConsumedConcurrently?: number }): Promise<void>;
  commitOffsets(o: { topic: string; partition: number; offset: string; metadata?: string }[]): Promise<void>;
  disconnect(): Promise<void>;
}
interface RdProducer {
  connect(): Promise<void>;
  sendBatch(o: { topicMessages: ReturnType<typeof byTopic> }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface RdKafka {
  producer(config: Record<string, unknown>): RdProducer;
  consumer(config: Record<string, unknown>): RdConsumer;
}
interface RdModule {
  KafkaJS: { Kafka: new (config: Record<string, unknown>) => RdKafka; logLevel: Record<string, number> };
  librdkafkaVersion: string;
}

/** The package, or a clear error when it is not installed. */
export function loadRdKafka(): RdModule {
  try {
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdModule;
  } catch (cause) {
    throw new SeamError('SEAM_ERR_CONFIG_INVALID', `the librdkafka bus needs @confluentinc/kafka-javascript, which is not installed: ${(cause as Error).message}`, { cause });
  }
}

export interface RdKafkaBusOptions extends KafkaBusOptions {
  /** librdkafka producer linger.ms (default 0: a send is awaited whole, so waiting for more only adds latency). */
  lingerMs?: number;
  /** Most messages handed to one batch handler (default 5000). */
  maxBatchMessages?: number;
}

/**
 * The librdkafka bus's `HandleContext.heartbeat` for one batch: sends nothing (librdkafka heartbeats on its own
 * thread) and rejects with BatchRevoked once the client says the batch is stale or the consumer stopped.
 */
export function batchHeartbeat(topic: string, partition: number, isStale: () => boolean, isRunning: () => boolean): () => Promise<void> {
  return async (): Promise<void> => {
    if (isStale() || !isRunning()) throw new BatchRevoked(`the batch of ${topic} partition ${partition} is stale (rebalance, seek or poll interval exceeded) or the consumer stopped`);
  };
}

export class RdKafkaBus extends KafkaBus {
  private readonly rd: RdKafka;
  readonly librdkafkaVersion: string;
  private readonly rdOpts: RdKafkaBusOptions;

  constructor(opts: RdKafkaBusOptions) {
    super(opts);
    const m = loadRdKafka();
    this.librdkafkaVersion = m.librdkafkaVersion;
    this.rdOpts = opts;
    this.rd = new m.KafkaJS.Kafka({ kafkaJS: { brokers: opts.brokers, clientId: opts.clientId ?? 'seam', logLevel: m.KafkaJS.logLevel.WARN } });
  }

  override async producer(): Promise<BusProducer> {
    const make = async (): Promise<RdProducer> => {
      const p = this.rd.producer({ kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false }, 'linger.ms': this.rdOpts.lingerMs ?? 0, partitioner: 'murmur2_random' });
      await p.connect();
      return p;
    };
    // librdkafka batches per partition itself; the chunks only bound what one call holds.
    return replacingProducer(make, async (p, messages) => {
      await Promise.all(chunkBySize(messages, 8 * 1024 * 1024).map((chunk) => p.sendBatch({ topicMessages: byTopic(chunk) })));
    }, log);
  }

  override async consumer(opts: BusConsumerOptions): Promise<BusConsumer> {
    const fetch = this.rdOpts.fetch ?? {};
    const c = this.rd.consumer({
      kafkaJS: {
        groupId: opts.groupId,
        fromBeginning: opts.fromBeginning ?? false,
        autoCommit: false,
        allowAutoTopicCreation: false,
        ...(fetch.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: fetch.maxBytesPerPartition }),
        ...(fetch.maxBytes === undefined ? {} : { maxBytes: fetch.maxBytes }),
        ...(fetch.minBytes === undefined ? {} : { minBytes: fetch.minBytes }),
        ...(fetch.maxWaitTimeMs === undefined ? {} : { maxWaitTimeInMs: fetch.maxWaitTimeMs }),
      },
      'js.consumer.max.batch.size': this.rdOpts.maxBatchMessages ?? 5000,
    });
    await c.connect();
    await c.subscribe({ topics: opts.topics });
    let running = false;
    return {
      run: async (): Promise<void> => {
        if (running) return;
        running = true;
        await c.run({
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: Math.max(1, opts.partitionsAtOnce ?? 1),
          eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
            if (batch.messages.length === 0 || !isRunning() || isStale()) return;
            const msgs: ConsumedMessage[] = batch.messages.map((m) => consumedOf(batch.topic, batch.partition, m));
            // A throw leaves the batch unresolved: the client seeks back and hands it over again.
            // The same HandleContext as kafkajs's (src/bus/types.ts). librdkafka heartbeats on its own thread while
            // the handler runs (the client's payload heartbeat() is a no-op), so the session never lapses here; what
            // ends a long batch is the client's poll interval: a handler running past max.poll.interval.ms (300 s by
            // default; the client gives librdkafka twice that) gets its batch marked stale, and a seek on the
            // partition (a pending revoke of a cooperative rebalance, a user seek) marks it stale too. An eager
            // rebalance is only seen at the next poll, after the handler returns: the group waits for this member
            // up to librdkafka's rebalance timeout (twice max.poll.interval.ms). So `heartbeat` sends nothing and
            // rejects with BatchRevoked once the batch is stale or the consumer stops, which the correlate role
            // treats as kafkajs's rebalance errors: it stops its rebuild and lets the new assignment drive.
            // `commitUpTo`: what the handler commits of the batch itself, never past the limit nor back.
            let done = BigInt(msgs[0]!.offset);
            const commitUpTo = async (next: bigint): Promise<void> => {
              const limit = opts.commitLimit?.(batch.topic, batch.partition);
              const upTo = limit !== undefined && limit < next ? limit : next;
              if (upTo <= done) return;
              const metadata = opts.commitMetadata?.(batch.topic, batch.partition, upTo);
              await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: upTo.toString(), ...(metadata === undefined ? {} : { metadata }) }]);
              done = upTo;
              // As on kafkajs: a failure later in the batch is retried from what was resolved, never what was committed.
              resolveOffset((upTo - 1n).toString());
            };
            await opts.handle(msgs, { heartbeat: batchHeartbeat(batch.topic, batch.partition, isStale, isRunning), commitUpTo });
            const last = msgs[msgs.length - 1]!.offset;
            // Never past the caller's commit limit (ADR 0052); this measurement-grade consumer has no commitHandled,
            // so what a limit held back is committed by a later batch of the partition.
            const end = BigInt(last) + 1n;
            const limit = opts.commitLimit?.(batch.topic, batch.partition);
            const offset = (limit !== undefined && limit < end ? limit : end).toString();
            const metadata = opts.commitMetadata?.(batch.topic, batch.partition, BigInt(offset));
            await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset, ...(metadata === undefined ? {} : { metadata }) }]);
            resolveOffset(last);
          },
        });
      },
      stop: async (): Promise<void> => {
        await c.disconnect();
      },
    };
  }
}
