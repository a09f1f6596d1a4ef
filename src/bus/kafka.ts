// Must come before kafkajs: replaces its aborted-transaction filter (see the file for why).
import './kafkajs-aborted-filter.ts';
// Must come before kafkajs too: faster CRC-32C and encoder growth on kafkajs 2.2.4 only (ADR 0019).
import './kafkajs-speed.ts';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Admin, ConfigResourceTypes, Consumer, IHeaders, KafkaConfig, Message, Producer, TopicMessages } from 'kafkajs';
import { SeamError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import type { Logger } from 'pino';
import { consumedOf } from './consumed.ts';
import { fetchTopicOffsets } from './topic-offsets.ts';
import { throwawayGroupId } from './groups.ts';
import { kafkaPartition } from './partition.ts';
import { StallWatch, type PartitionView } from './stall.ts';
import type { Bus, BusConsumer, BusConsumerOptions, BusMessage, BusProducer, ConsumedMessage } from './types.ts';

/** One topic partition to read with KafkaBus.readRanges: [start, end); no start: from the log start. */
export interface ReadRange {
  topic: string;
  partition: number;
  start?: bigint;
  end: bigint;
}

/**
 * The Kafka bus, on kafkajs. Produce is idempotent with acks=all and resolves only when the broker
 * has every message in all in-sync replicas; consumers never auto-commit: a batch's offsets are
 * committed after the handler's promise resolves, so a crash re-delivers rather than loses.
 * kafkajs must talk to the broker listener (the controller listener answers "unsupported version"),
 * and topics are created with explicit partitions and replication factor (Kafka 4 wants both).
 */

const log = childLogger('bus.kafka');
const kafkajsLog = childLogger('kafkajs');

/**
 * kafkajs's own log lines, at warn and above, as Seam log lines (component `kafkajs`): rebalances,
 * coordinator moves, lost connections and retries are what an operator needs when a group stops
 * moving. `SEAM_KAFKAJS_LOG_LEVEL` (error, warn, info, debug, nothing) overrides the level.
 */
function kafkajsLogLevel(): logLevel {
  switch ((process.env.SEAM_KAFKAJS_LOG_LEVEL ?? 'warn').toLowerCase()) {
    case 'nothing':
      return logLevel.NOTHING;
    case 'error':
      return logLevel.ERROR;
    case 'info':
      return logLevel.INFO;
    case 'debug':
      return logLevel.DEBUG;
    default:
      return logLevel.WARN;
  }
}
/** The same kafkajs line (namespace and message) at most once per this many ms; the next one says how many were held back. */
const KAFKAJS_REPEAT_MS = 10_000;
const kafkajsLogCreator = (muted: () => boolean) => (): ((entry: { level: logLevel; namespace: string; log: { message: string; [k: string]: unknown } }) => void) => {
  // While a broker is away every client logs each failed connection attempt: keep one line per kind.
  const recent = new Map<string, { at: number; held: number }>();
  return ({ level, namespace, log: { message, timestamp: _t, logger: _l, ...fields } }) => {
    // A bus whose connect failed has said what went wrong, once: its clients' last retries after that are noise.
    if (muted()) return;
    const key = `${namespace}|${message}`;
    const now = Date.now();
    const r = recent.get(key);
    if (r !== undefined && now - r.at < KAFKAJS_REPEAT_MS) {
      r.held++;
      return;
    }
    if (recent.size > 1000) recent.clear();
    recent.set(key, { at: now, held: 0 });
    const f = { namespace, ...fields, ...(r !== undefined && r.held > 0 ? { repeatedSinceLast: r.held } : {}) };
    kafkajsLog[kafkajsLineLevel(level, namespace, message)](f, message);
  };
};

/** The level Seam logs one kafkajs line at. */
export function kafkajsLineLevel(level: logLevel, namespace: string, message: string): 'debug' | 'info' | 'warn' | 'error' {
  // Normal operation is quiet: an error response to one request (kafkajs logs each as an error, e.g. a
  // heartbeat answered "rebalancing") is handled a layer up, and a rebalance is routine.
  if (namespace === 'Connection' && message.startsWith('Response ')) return 'debug';
  if (namespace === 'Runner' && message.startsWith('The group is rebalancing')) return 'info';
  // CONCURRENT_TRANSACTIONS: a transactional writer's first send after its fence (ADR 0004) meets the coordinator
  // still writing the previous transaction's markers, as every collector does on its first start. kafkajs logs it
  // as an error and retries; if the retries run out, the write fails and the collector reports that itself.
  if (namespace === 'Producer' && message.includes('another concurrent operation on the same transaction')) return 'info';
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

/** A batch handler running longer than this is reported (once per batch, then every interval). */
const SLOW_HANDLER_MS = 60_000;
/** seam.yml kafka.consumer.stallMs's default: a partition with records and not fetched this long restarts its member. */
const DEFAULT_STALL_MS = 120_000;

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** Replication factor for topics Seam creates; 1 on a single local broker, 3 in production. */
  replicationFactor?: number;
  /** Extra kafkajs settings (ssl, sasl, retry); brokers/clientId above win. */
  kafka?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  /** Consumer fetch sizes (seam.yml kafka.consumer); kafkajs's defaults otherwise. */
  fetch?: { maxBytesPerPartition?: number; maxBytes?: number; minBytes?: number; maxWaitTimeMs?: number; stallMs?: number };
  /** seam.yml kafka.groupPrefix: the start of the throwaway groups this bus's readers join (src/bus/groups.ts). */
  groupPrefix?: string;
}

/** Offsets by `<topic>/<partition>`. */
export type TopicOffsets = Record<string, bigint>;

/** The part of kafkajs's (private) Cluster that highWatermarks() uses. */
interface UncommittedCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** One atomic write across topics: all of `messages` become visible together or not at all. */
export interface TransactionalProducer {
  sendAtomically(messages: BusMessage[]): Promise<void>;
  /** Test-only: produces inside a transaction that is left open, as a process killed before its commit would. */
  sendUncommitted(messages: BusMessage[]): Promise<void>;
  /** Ensures a live producer: after a failed send, initializes a new one under the same id (which settles the failed transaction). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function toKafkaMessage(m: BusMessage): Message {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = v;
  return {
    key: m.key,
    value: m.value,
    headers,
    ...(m.timestampMs === undefined ? {} : { timestamp: String(m.timestampMs) }),
    ...(m.partition === undefined ? {} : { partition: m.partition }),
  };
}

/** Bytes per produce call: kafkajs puts a call's messages for one partition into one record batch, and the broker refuses batches over message.max.bytes (1 MiB by default). */
const MAX_CALL_BYTES = 512 * 1024;

/** Cuts messages into runs of at most MAX_CALL_BYTES (a bigger single message goes alone), keeping their order. */
export function chunkBySize(messages: BusMessage[], maxBytes = MAX_CALL_BYTES): BusMessage[][] {
  const out: BusMessage[][] = [];
  let cur: BusMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = m.value.length + (m.key?.length ?? 0) + 64;
    for (const [k, v] of Object.entries(m.headers ?? {})) size += k.length + v.length;
    if (cur.length > 0 && bytes + size > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Groups messages by topic, keeping their order within each topic (and so within each key). */
export function byTopic(messages: BusMessage[]): TopicMessages[] {
  const out = new Map<string, Message[]>();
  for (const m of messages) {
    let list = out.get(m.topic);
    if (list === undefined) out.set(m.topic, (list = []));
    list.push(toKafkaMessage(m));
  }
  return [...out].map(([topic, msgs]) => ({ topic, messages: msgs }));
}

/**
 * A producer that is replaced after a failed send, over either Kafka client (`make` connects one, `sendOn` sends
 * on it). After a failed send the idempotent producer's sequence numbers may no longer match the broker's
 * (kafkajs 2.2.4 does not reset them; after a broker restart every later send then fails with
 * OUT_OF_ORDER_SEQUENCE_NUMBER). So a failed producer is replaced: the next send gets a new producer
 * id. The failed messages are the caller's to send again (consumers redeliver the batch). `onClose` runs first
 * when the handle is closed.
 */
export async function replacingProducer<P extends { disconnect(): Promise<void> }>(
  make: () => Promise<P>,
  sendOn: (p: P, messages: BusMessage[]) => Promise<void>,
  log: Logger,
  onClose?: () => void,
): Promise<BusProducer> {
  let current: Promise<P> | undefined = make();
  let closed = false;
  const discard = (failed: Promise<P>): void => {
    if (current === failed) current = undefined;
    void failed.then((p) => p.disconnect()).catch(() => undefined);
  };
  await current;
  return {
    send: async (messages: BusMessage[]): Promise<void> => {
      if (messages.length === 0) return;
      if (closed) throw new SeamError('SEAM_ERR_BUS_PRODUCE', `producing ${messages.length} messages failed: the producer is closed`);
      const mine = (current ??= make());
      try {
        await sendOn(await mine, messages);
      } catch (cause) {
        discard(mine);
        log.warn({ error: cause, messages: messages.length }, 'A produce failed; the producer is replaced and the messages are left for the caller to send again.');
        throw new SeamError('SEAM_ERR_BUS_PRODUCE', `producing ${messages.length} messages failed: ${(cause as Error).message}`, { cause });
      }
    },
    close: async (): Promise<void> => {
      closed = true;
      onClose?.();
      const last = current;
      current = undefined;
      if (last !== undefined) await (await last.catch(() => undefined))?.disconnect();
    },
  };
}

export interface ConsumerMember {
  groupId: string;
  topics: string[];
  /** Joined its group since its last rebalance (kafkajs GROUP_JOIN), and not crashed since. */
  joined: boolean;
  /** Partitions assigned at the last join (0 when the group has more members than partitions). */
  partitions: number;
  /** Times the stalled-partition watchdog restarted this member (ADR 0059). */
  stallRestarts: number;
}

/** A consumer of this process that kafkajs gave up on: it will not consume again until the process restarts. */
export interface ConsumerCrash {
  groupId: string;
  topics: string[];
  error: Error;
}

export class KafkaBus implements Bus {
  readonly kafka: Kafka;
  /**
   * A kafkajs client of its own for each group consumer. kafkajs keeps the committed offsets of a group in one object
   * per client and group id, shared by every consumer of that client in that group, and a member's new assignment
   * clears from it the topics that member was not given: another member of the same group in this process (the index
   * role runs 3) then stopped fetching a partition, or crashed for good in uncommittedOffsets() ("Cannot read
   * properties of undefined (reading '0')", seen in a cold CI after a SIGKILL restart). One client per consumer keeps
   * each member's offsets its own; each kafkajs consumer has its own connections already.
   */
  private readonly newClientForConsumer: () => Kafka;
  readonly replicationFactor: number;
  /** Prefix of every consumer group id (seam.yml kafka.groupPrefix); throwaway groups start with it too. */
  readonly groupPrefix: string;
  private readonly fetch: NonNullable<KafkaBusOptions['fetch']>;
  private adminClient: Admin | undefined;
  private uncommittedCluster: UncommittedCluster | undefined;
  private readonly open = new Set<{ close(): Promise<void> }>();
  /** This process's consumer group members, for readiness and lag (src/core/metrics.ts). */
  private readonly members = new Set<ConsumerMember>();
  private readonly brokers: string[];
  private muted = false;
  private crashResolve: (c: ConsumerCrash) => void = () => undefined;
  /**
   * Resolves with the first consumer of this bus that crashed for good (kafkajs CRASH with `restart: false` on a
   * non-retriable error: group authorization, an inconsistent group protocol, a handler error kafkajs does not
   * retry), never when it was being stopped. `seam run` exits non-zero on it (review-ops M4).
   */
  readonly crashedForGood: Promise<ConsumerCrash> = new Promise((resolve) => (this.crashResolve = resolve));

  constructor(opts: KafkaBusOptions) {
    this.brokers = opts.brokers;
    this.kafka = this.newClient(opts);
    this.newClientForConsumer = () => this.newClient(opts);
    this.replicationFactor = opts.replicationFactor ?? 1;
    this.groupPrefix = opts.groupPrefix ?? '';
    this.fetch = opts.fetch ?? {};
  }

  private newClient(opts: KafkaBusOptions): Kafka {
    return new Kafka({
      logLevel: kafkajsLogLevel(),
      logCreator: kafkajsLogCreator(() => this.muted),
      ...opts.kafka,
      brokers: opts.brokers,
      clientId: opts.clientId ?? 'seam',
    });
  }

  /**
   * Connects (and authenticates) the admin client: what a command does first on Kafka, so a broker that is down or
   * refuses the credentials stops it with one line. On failure the bus's kafkajs clients stop logging (the caller
   * says what failed, once, instead of their retries after it) and SEAM_ERR_BUS_CONNECT is thrown, with the cause.
   */
  async connect(): Promise<void> {
    try {
      await this.admin();
    } catch (e) {
      this.muted = true;
      throw new SeamError('SEAM_ERR_BUS_CONNECT', `cannot connect to Kafka ${this.brokers.join(',')}: ${(e as Error).message}`, { cause: e, details: { brokers: this.brokers } });
    }
  }

  async admin(): Promise<Admin> {
    if (this.adminClient === undefined) {
      const a = this.kafka.admin();
      await a.connect();
      this.adminClient = a;
    }
    return this.adminClient;
  }

  /**
   * Each partition's high watermark (`<topic>/<partition>` → offset): the end including records of transactions
   * still open, which the admin's offsets (read_committed: the last stable offset) stop before. kafkajs 2.2.4
   * has no public way to list offsets read_uncommitted, so this uses its cluster factory (a private symbol of
   * the Kafka instance, like the aborted-filter patch in ./kafkajs-aborted-filter.ts); if a kafkajs upgrade
   * moves it, this throws instead of silently reading less.
   */
  async highWatermarks(topics: string[]): Promise<TopicOffsets> {
    if (this.uncommittedCluster === undefined) {
      const k = this.kafka as unknown as Record<symbol, (o: { allowAutoTopicCreation: boolean; isolationLevel: number }) => UncommittedCluster>;
      const make = Object.getOwnPropertySymbols(this.kafka).find((s) => s.description === 'private:Kafka:createCluster');
      if (make === undefined || typeof k[make] !== 'function') {
        throw new SeamError('SEAM_ERR_BUS_CONSUME', 'kafkajs has no private:Kafka:createCluster (not 2.2.4?): cannot read high watermarks');
      }
      const c = k[make]({ allowAutoTopicCreation: false, isolationLevel: 0 /* READ_UNCOMMITTED */ });
      await c.connect();
      this.uncommittedCluster = c;
    }
    const c = this.uncommittedCluster;
    await c.addMultipleTargetTopics(topics);
    await c.refreshMetadata();
    const res = await c.fetchTopicsOffset(
      topics.map((topic) => ({ topic, fromBeginning: false, partitions: c.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })) })),
    );
    const out: TopicOffsets = {};
    for (const t of res) for (const p of t.partitions) out[`${t.topic}/${p.partition}`] = BigInt(p.offset);
    return out;
  }

  /** A topic's effective config values (its own, else the broker's default) for `names`; absent names are left out. */
  async topicConfig(topic: string, names: string[]): Promise<Record<string, string>> {
    const admin = await this.admin();
    // ConfigResourceTypes.TOPIC: Node's ESM import of kafkajs (CommonJS) does not see that export, so its value.
    const TOPIC = 2 as ConfigResourceTypes;
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: topic, configNames: names }] });
    const out: Record<string, string> = {};
    for (const r of res.resources) for (const e of r.configEntries) if (e.configValue !== null && e.configValue !== undefined) out[e.configName] = e.configValue;
    return out;
  }

  async ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void> {
    await this.createTopics(topics.map((t) => ({ topic: t.topic, partitions: t.partitions })));
  }

  /**
   * Existing topics are left as they are: one whose partition count is not the configured one (created by an older
   * config, or by a process started first with another; review-ops L4) is said once at start, at WARN.
   */
  private async warnPartitionDrift(topics: { topic: string; partitions: number }[]): Promise<void> {
    if (topics.length === 0) return;
    const admin = await this.admin();
    let meta: Awaited<ReturnType<typeof admin.fetchTopicMetadata>>;
    try {
      meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    } catch (error) {
      log.debug({ error }, 'Could not read the partition counts of existing topics.');
      return;
    }
    const want = new Map(topics.map((t) => [t.topic, t.partitions]));
    for (const t of meta.topics) {
      const configured = want.get(t.name);
      if (configured === undefined || t.partitions.length === configured) continue;
      log.warn(
        { topic: t.name, partitions: t.partitions.length, configured },
        `Topic ${t.name} exists with ${t.partitions.length} partitions, not the ${configured} configured: existing topics are left as they are (kafka.partitions in seam.yml; to change it, add partitions with kafka-topics --alter, or recreate the topic).`,
      );
    }
  }

  /** Creates missing topics with explicit partitions, replication factor and topic configs (e.g. compaction). */
  async createTopics(topics: { topic: string; partitions: number; config?: Record<string, string> }[]): Promise<void> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    await this.warnPartitionDrift(topics.filter((t) => existing.has(t.topic)));
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: this.replicationFactor,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (e) {
      // Another process may have created it between list and create; or the broker has just started and has
      // not loaded the new topics' metadata yet (KRaft: "This server does not host this topic-partition", which
      // kafkajs's wait for leaders does not retry — soak run D5 failed on it right after a broker start). Wait
      // for every topic to be listed with a leader for each partition; only if they never are is it an error.
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (await this.topicsLed(missing.map((t) => t.topic)).catch(() => false)) return;
        if (Date.now() > deadline) throw e;
        log.warn({ error: e, topics: missing.map((t) => t.topic) }, 'Creating topics failed or their leaders are not known yet; waiting for them.');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // A busy broker can list a new topic (and name its leaders) before its partitions answer offset requests
    // ("This server does not host this topic-partition"): the roles' first look at offsets then failed their
    // start when several pipelines created topics at once. Wait until every new topic answers.
    for (const t of missing) {
      for (let attempt = 0; ; attempt++) {
        try {
          await fetchTopicOffsets(admin, t.topic);
          break;
        } catch (e) {
          if (attempt >= 60) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  }

  /** True when every topic exists and each of its partitions has a leader. */
  private async topicsLed(topics: string[]): Promise<boolean> {
    const admin = await this.admin();
    const listed = new Set(await admin.listTopics());
    if (topics.some((t) => !listed.has(t))) return false;
    const md = await admin.fetchTopicMetadata({ topics });
    return topics.every((t) => {
      const parts = md.topics.find((x) => x.name === t)?.partitions ?? [];
      return parts.length > 0 && parts.every((p) => p.leader >= 0);
    });
  }

  async partitions(topic: string): Promise<number> {
    const admin = await this.admin();
    if (!(await admin.listTopics()).includes(topic)) return 0;
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  }

  partitionOf(key: string, partitions: number): number {
    return kafkaPartition(key, partitions);
  }

  async producer(): Promise<BusProducer> {
    const make = async (): Promise<Producer> => {
      const p = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await p.connect();
      return p;
    };
    const handle: BusProducer = await replacingProducer(
      make,
      async (p, messages) => {
        for (const chunk of chunkBySize(messages)) await p.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
      },
      log,
      () => {
        this.open.delete(handle);
      },
    );
    this.open.add(handle);
    return handle;
  }

  /**
   * A transactional producer: records and the checkpoint that covers them commit together. Starting
   * one fences (and aborts the open transaction of) any earlier producer with the same id, which is
   * how a restarted or duplicated collector cannot emit what a zombie already wrote.
   */
  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    // Fence now, not at the first write. kafkajs's connect() only asks for an idempotent producer id (no
    // transactional id, so no fencing); the transactional InitProducerId — which bumps the epoch, aborts a
    // zombie's open transaction and waits for a zombie's commit to be fully written — happens lazily at the
    // first transaction(). The collectors load their checkpoints after creating their writers: had the
    // fence waited for the first write, a zombie could still commit a page after the new owner read the
    // checkpoint, and the new owner would emit that page again (the duplicates of issue 16). An empty
    // transaction aborted at once sends no EndTxn.
    const init = async (): Promise<Producer> => {
      const p: Producer = this.kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await p.connect();
        const fence = await p.transaction();
        await fence.abort();
      } catch (cause) {
        await p.disconnect().catch(() => undefined);
        throw new SeamError('SEAM_ERR_BUS_PRODUCE', `cannot initialize transactional producer ${transactionalId}: ${(cause as Error).message}`, { cause, details: { transactionalId } });
      }
      return p;
    };
    // After a failed (not fenced) send the producer is not reused: kafkajs 2.2.4 keeps its transaction state
    // and sequence numbers, so after a broker restart every later transaction of it fails (or, worse, its
    // half-done transaction stays open). It is dropped, and a new producer with the same id is initialized
    // — by reset(), or lazily by the next send — which aborts the failed transaction or, if its commit was
    // in flight, waits until that commit is fully written. Only after that may the caller re-read its
    // checkpoint (the page may have committed after all: an ambiguous timeout).
    let current: Producer | undefined = await init();
    let closed = false;
    const drop = (): void => {
      const old = current;
      current = undefined;
      void old?.disconnect().catch(() => undefined);
    };
    const ensure = async (): Promise<Producer> => {
      if (closed) throw new SeamError('SEAM_ERR_BUS_PRODUCE', `transactional producer ${transactionalId} is closed`, { details: { transactionalId } });
      current ??= await init();
      return current;
    };
    const isFenced = (cause: unknown): boolean =>
      /fenced|ProducerFenced|INVALID_PRODUCER_EPOCH/i.test(String((cause as Error).name) + String((cause as Error).message) + String((cause as { type?: string }).type));
    const handle = {
      sendAtomically: async (messages: BusMessage[]): Promise<void> => {
        if (messages.length === 0) return;
        const p = await ensure();
        let tx: Awaited<ReturnType<Producer['transaction']>> | undefined;
        try {
          tx = await p.transaction();
          for (const chunk of chunkBySize(messages)) await tx.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
          await tx.commit();
        } catch (cause) {
          const fenced = isFenced(cause);
          if (!fenced) {
            // Not reused (see above); the next reset() or send initializes a new one under the same id.
            drop();
          } else {
            await tx?.abort().catch(() => undefined);
          }
          throw new SeamError(
            fenced ? 'SEAM_ERR_CHECKPOINT_FENCED' : 'SEAM_ERR_BUS_PRODUCE',
            fenced
              ? `transactional producer ${transactionalId} was fenced by a newer instance`
              : `transactional produce of ${messages.length} messages failed: ${(cause as Error).message}`,
            { cause, details: { transactionalId } },
          );
        }
      },
      sendUncommitted: async (messages: BusMessage[]): Promise<void> => {
        const tx = await (await ensure()).transaction();
        for (const chunk of chunkBySize(messages)) await tx.sendBatch({ acks: -1, topicMessages: byTopic(chunk) });
      },
      reset: async (): Promise<void> => {
        await ensure();
      },
      close: async (): Promise<void> => {
        if (closed) return;
        closed = true;
        this.open.delete(handle);
        const last = current;
        current = undefined;
        await last?.disconnect();
      },
    };
    this.open.add(handle);
    return handle;
  }

  async consumer(opts: BusConsumerOptions): Promise<BusConsumer> {
    let stopped = false;
    const c: Consumer = this.newClientForConsumer().consumer({
      groupId: opts.groupId,
      allowAutoTopicCreation: false,
      ...(this.fetch.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: this.fetch.maxBytesPerPartition }),
      ...(this.fetch.maxBytes === undefined ? {} : { maxBytes: this.fetch.maxBytes }),
      ...(this.fetch.minBytes === undefined ? {} : { minBytes: this.fetch.minBytes }),
      ...(this.fetch.maxWaitTimeMs === undefined ? {} : { maxWaitTimeInMs: this.fetch.maxWaitTimeMs }),
      // kafkajs decides to restart a crashed consumer after its own disconnect; a stop() that lands in
      // between would otherwise be undone 300 ms later by a restart, leaving a member nobody owns in
      // the group (it rejoins, takes partitions, and the group rebalances around it).
      retry: { retries: 5, restartOnFailure: async () => !stopped },
    });
    // Say when a consumer crashes, and whether kafkajs restarts it, so a consumer that dies for good
    // (and a group that stops moving) is visible.
    c.on(c.events.CRASH, (e) => {
      const { error, restart } = e.payload as { error: Error; restart: boolean };
      if (restart) log.warn({ error, groupId: opts.groupId, restart }, 'Kafka consumer crashed; kafkajs restarts it');
      else if (stopped) log.info({ error, groupId: opts.groupId, restart }, 'Kafka consumer crashed while stopping; not restarted');
      else {
        // Nothing in this process would consume its partitions again: whoever waits on crashedForGood ends the process.
        log.error({ error, groupId: opts.groupId, topics: opts.topics, restart }, 'Kafka consumer crashed on an error kafkajs does not retry and will not restart; its partitions are not consumed by this process any more.');
        this.crashResolve({ groupId: opts.groupId, topics: [...opts.topics], error });
      }
    });
    // A fetch of only control or aborted records never reaches the handler: kafkajs resolves it
    // itself. Committed here, so a partition that ends with one (an aborted collector transaction)
    // does not show lag for ever; otherwise the next handled batch commits it.
    // With a commit limit (ADR 0052's held alerts): the offset a partition may be committed up to after reading to `end`,
    // and, per `topic/partition`, how far this member has handled (what `commitHandled` commits, up to the limit).
    const allowed = (topic: string, partition: number, end: bigint): bigint => {
      const limit = opts.commitLimit?.(topic, partition);
      return limit === undefined || limit > end ? end : limit;
    };
    const handledTo = new Map<string, { topic: string; partition: number; end: bigint; committed: bigint }>();
    // Commits of handled batches on their way: `recommit` waits for them, so it never writes its metadata before them.
    const committing = new Set<Promise<unknown>>();
    const tracked = <T>(p: Promise<T>): Promise<T> => {
      committing.add(p);
      p.then(
        () => committing.delete(p),
        () => committing.delete(p),
      );
      return p;
    };
    // The caller's metadata for each partition committed (the correlate role's output mark), in the same OffsetCommit.
    const meta = (topic: string, partition: number, offset: string): { metadata?: string } => {
      const m = opts.commitMetadata?.(topic, partition, BigInt(offset));
      return m === undefined ? {} : { metadata: m };
    };
    c.on(c.events.END_BATCH_PROCESS, (e) => {
      const { topic, partition, batchSize, lastOffset } = e.payload;
      if (batchSize !== 0) return;
      const end = BigInt(lastOffset) + 1n;
      const h = handledTo.get(`${topic}/${partition}`);
      if (h !== undefined && end > h.end) h.end = end;
      const offset = allowed(topic, partition, end).toString();
      c.commitOffsets([{ topic, partition, offset, ...meta(topic, partition, offset) }]).catch((error: unknown) => {
        log.warn({ error, groupId: opts.groupId, topic, partition }, 'Committing past a batch of only control or aborted records failed; the next batch commits it.');
      });
    });
    // Membership for /readyz and the lag metric: joined since the last rebalance, and how many partitions.
    const member: ConsumerMember = { groupId: opts.groupId, topics: [...opts.topics], joined: false, partitions: 0, stallRestarts: 0 };
    this.members.add(member);
    let assignment: Record<string, number[]> | undefined;
    // The stalled-partition watchdog's view (ADR 0059): since the last join, when each partition was last handed
    // to this member and up to where; and how many batch handlers run now.
    let joinedAt = 0;
    const fetched = new Map<string, { to: bigint; at: number }>();
    let inFlight = 0;
    const stallMs = this.fetch.stallMs ?? DEFAULT_STALL_MS;
    const watch = new StallWatch(stallMs);
    c.on(c.events.GROUP_JOIN, (e) => {
      member.joined = true;
      member.partitions = Object.values(e.payload.memberAssignment).reduce((n, ps) => n + ps.length, 0);
      assignment = e.payload.memberAssignment;
      joinedAt = Date.now();
      fetched.clear();
      watch.reset();
    });
    c.on(c.events.REBALANCING, () => {
      member.joined = false;
      assignment = undefined;
      // Partitions may move: the next owner reads from the commit, and what this member handled past it is void.
      handledTo.clear();
    });
    c.on(c.events.CRASH, () => {
      member.joined = false;
      assignment = undefined;
    });
    c.on(c.events.START_BATCH_PROCESS, (e) => {
      const { topic, partition, lastOffset } = e.payload;
      fetched.set(`${topic}/${partition}`, { to: BigInt(lastOffset) + 1n, at: Date.now() });
    });
    await c.connect();
    await c.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? false });
    let running = false;
    let restarting = false;
    let watchdog: NodeJS.Timeout | undefined;
    /**
     * One watchdog check: reads the group's commits and the partitions' ends from the broker, and restarts the
     * member (it leaves and rejoins its group: kafkajs builds its fetch state anew) when one of its partitions is
     * stalled. Skipped while a handler runs, while the member is between joins, and while a check or restart runs.
     */
    const checkStalls = async (): Promise<void> => {
      if (stopped || !running || restarting || assignment === undefined || inFlight > 0) return;
      restarting = true;
      try {
        const owned = assignment;
        const admin = await this.admin();
        const topics = Object.keys(owned).filter((t) => (owned[t] ?? []).length > 0);
        if (topics.length === 0) return;
        const commits = new Map<string, bigint>();
        for (const t of await admin.fetchOffsets({ groupId: opts.groupId, topics })) {
          for (const q of t.partitions) if (BigInt(q.offset) >= 0n) commits.set(`${t.topic}/${q.partition}`, BigInt(q.offset));
        }
        const parts: PartitionView[] = [];
        for (const t of topics) {
          const ends = new Map((await fetchTopicOffsets(admin, t)).map((e) => [e.partition, BigInt(e.high)]));
          for (const partition of owned[t] ?? []) {
            const key = `${t}/${partition}`;
            const end = ends.get(partition);
            const f = fetched.get(key);
            if (end !== undefined) parts.push({ key, end, committed: commits.get(key), fetchedTo: f?.to, lastFetchAt: f?.at });
          }
        }
        // What was read may be stale by now: a rebalance or a handler started meanwhile decides nothing.
        if (stopped || assignment !== owned || inFlight > 0) return;
        const stalled = watch.check(Date.now(), joinedAt, parts);
        if (stalled.length === 0) return;
        member.stallRestarts++;
        log.error(
          {
            groupId: opts.groupId,
            stalled: stalled.map((p) => ({ partition: p.key, end: p.end.toString(), committed: p.committed?.toString(), fetchedTo: p.fetchedTo?.toString(), idleMs: Date.now() - (p.lastFetchAt ?? joinedAt) })),
            stallMs,
          },
          'A partition this member owns has records to read and the Kafka client has not fetched it for a while (kafkajs can hold a partition without fetching it); restarting the member, which rejoins its group',
        );
        await c.stop();
        fetched.clear();
        watch.reset();
        if (stopped) return;
        running = false;
        await handle.run();
      } catch (error) {
        log.warn({ error, groupId: opts.groupId }, 'The stalled-partition check failed; the next one tries again.');
      } finally {
        restarting = false;
      }
    };
    const handle = {
      run: async (): Promise<void> => {
        if (running) return;
        running = true;
        if (stallMs > 0 && watchdog === undefined) {
          watchdog = setInterval(() => void checkStalls(), Math.max(250, Math.min(30_000, Math.floor(stallMs / 4))));
          watchdog.unref();
        }
        await c.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: Math.max(1, opts.partitionsAtOnce ?? 1),
          eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, heartbeat, isRunning, isStale }) => {
            if (batch.messages.length === 0 || !isRunning() || isStale()) return;
            const msgs: ConsumedMessage[] = batch.messages.map((m) => consumedOf(batch.topic, batch.partition, m));
            // A throw here leaves the offsets uncommitted; kafkajs restarts the consumer and re-delivers.
            // A handler that never settles would stall its partitions silently: say so while it runs.
            const started = Date.now();
            const slow = setInterval(() => {
              log.warn(
                { groupId: opts.groupId, topic: batch.topic, partition: batch.partition, firstOffset: msgs[0]!.offset, messages: msgs.length, runningMs: Date.now() - started },
                'A batch handler has been running for over a minute; its partition makes no progress until it settles.',
              );
            }, SLOW_HANDLER_MS);
            slow.unref();
            // What the handler committed of the batch itself (`commitUpTo`): the batch's commit below never goes back.
            const k = `${batch.topic}/${batch.partition}`;
            let done = BigInt(msgs[0]!.offset);
            const commitUpTo = async (next: bigint): Promise<void> => {
              const upTo = allowed(batch.topic, batch.partition, next);
              if (upTo <= done) return;
              const offset = upTo.toString();
              await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset, ...meta(batch.topic, batch.partition, offset) }]);
              done = upTo;
              // Resolved as far as committed (never further, see below): a handler that throws later in this batch is
              // retried by kafkajs inside the process from its resolved offset, and must not be handed what it committed.
              resolveOffset((upTo - 1n).toString());
              if (opts.commitLimit !== undefined) {
                const h = handledTo.get(k);
                handledTo.set(k, { topic: batch.topic, partition: batch.partition, end: h === undefined || next > h.end ? next : h.end, committed: h === undefined || upTo > h.committed ? upTo : h.committed });
              }
            };
            inFlight++;
            try {
              await opts.handle(msgs, { heartbeat, commitUpTo });
            } finally {
              inFlight--;
              clearInterval(slow);
            }
            // Commit, then resolve. kafkajs fetches from its *resolved* offset and, on a retriable error
            // (a lost connection while committing, a coordinator that is loading after a broker restart),
            // fetches again without rejoining the group: a batch resolved before a failed commit would
            // never be committed, and the group would stay behind for good. Unresolved, it is fetched and
            // handled again, which the roles' outputs tolerate (keyed writes, deduplicated signals).
            // The commit covers the batch's trailing control and aborted records too (batch.lastOffset()),
            // and offsets kafkajs resolved itself for batches of only such records.
            // With a commit limit, no partition is committed past it (the resolved offsets of other partitions included).
            const end = BigInt(batch.lastOffset()) + 1n;
            const upTo = allowed(batch.topic, batch.partition, end).toString();
            if (opts.commitLimit !== undefined) {
              const h = handledTo.get(k);
              handledTo.set(k, { topic: batch.topic, partition: batch.partition, end, committed: h === undefined || BigInt(upTo) > h.committed ? BigInt(upTo) : h.committed });
            }
            const topics = uncommittedOffsets().topics.map((t) => ({
              topic: t.topic,
              partitions: t.partitions
                .filter((q) => !(t.topic === batch.topic && q.partition === batch.partition))
                .map((q) => (opts.commitLimit === undefined ? q : { ...q, offset: allowed(t.topic, q.partition, BigInt(q.offset)).toString() }))
                .map((q) => ({ ...q, ...meta(t.topic, q.partition, q.offset) })),
            }));
            const mine = topics.find((t) => t.topic === batch.topic);
            const own = { partition: batch.partition, offset: upTo, ...meta(batch.topic, batch.partition, upTo) };
            if (mine) mine.partitions.push(own);
            else topics.push({ topic: batch.topic, partitions: [own] });
            await tracked(commitOffsetsIfNecessary({ topics: topics.filter((t) => t.partitions.length > 0) }));
            resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
            await heartbeat();
          },
        });
      },
      assigned: (topic: string): number[] | undefined => (stopped || assignment === undefined ? undefined : [...(assignment[topic] ?? [])]),
      commitHandled: async (): Promise<void> => {
        if (stopped || assignment === undefined || opts.commitLimit === undefined) return;
        const owned = assignment;
        const due = [...handledTo.values()].flatMap((h) => {
          const upTo = allowed(h.topic, h.partition, h.end);
          return upTo > h.committed && (owned[h.topic] ?? []).includes(h.partition) ? [{ h, upTo }] : [];
        });
        if (due.length === 0) return;
        await c.commitOffsets(due.map(({ h, upTo }) => ({ topic: h.topic, partition: h.partition, offset: upTo.toString(), ...meta(h.topic, h.partition, upTo.toString()) })));
        for (const { h, upTo } of due) if (upTo > h.committed) h.committed = upTo;
      },
      recommit: async (): Promise<void> => {
        const metadata = opts.commitMetadata;
        if (metadata === undefined) return;
        await Promise.allSettled([...committing]);
        const owned = assignment;
        if (stopped || owned === undefined) return;
        const again: { topic: string; partition: number; offset: string; metadata: string }[] = [];
        for (const [topic, partitions] of Object.entries(owned)) {
          if (partitions.length === 0) continue;
          const committed = await this.committedOffsets(opts.groupId, topic);
          for (const partition of partitions) {
            const offset = committed.get(partition);
            const m = offset === undefined ? undefined : metadata(topic, partition, offset);
            if (m !== undefined) again.push({ topic, partition, offset: offset!.toString(), metadata: m });
          }
        }
        // A rebalance meanwhile: the partitions may be another member's by now.
        if (stopped || assignment !== owned || again.length === 0) return;
        await c.commitOffsets(again);
      },
      stop: async (): Promise<void> => {
        stopped = true;
        clearInterval(watchdog);
        assignment = undefined;
        this.open.delete(handle);
        this.members.delete(member);
        await c.disconnect();
      },
      close: async (): Promise<void> => handle.stop(),
      /** Test-only: stops fetching a partition while keeping it assigned, as kafkajs#1456 does (the watchdog's test). */
      pauseForTest: (topic: string, partition: number): void => c.pause([{ topic, partitions: [partition] }]),
    };
    this.open.add(handle);
    return handle;
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const admin = await this.admin();
    const out = new Map<number, bigint>();
    for (const t of await admin.fetchOffsets({ groupId, topics: [topic] })) {
      for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.set(p.partition, BigInt(p.offset));
    }
    return out;
  }

  async committedWithMetadata(groupId: string, topic: string): Promise<Map<number, { offset: bigint; metadata: string | undefined }>> {
    const admin = await this.admin();
    const out = new Map<number, { offset: bigint; metadata: string | undefined }>();
    for (const t of await admin.fetchOffsets({ groupId, topics: [topic] })) {
      for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.set(p.partition, { offset: BigInt(p.offset), metadata: p.metadata ?? undefined });
    }
    return out;
  }

  /** The consumer group members this process runs: whether each has joined its group since its last rebalance, and its partitions. */
  consumerMembers(): ConsumerMember[] {
    return [...this.members].map((m) => ({ ...m, topics: [...m.topics] }));
  }

  /**
   * Consumer lag of every group this process consumes in, per topic partition, from the broker: the
   * partition's end offset minus the group's committed offset (the log start when the group has
   * committed nothing). What any member of the group sees, not only this process's partitions.
   */
  async consumerLag(): Promise<{ groupId: string; topic: string; partition: number; end: bigint; committed: bigint | undefined; lag: bigint }[]> {
    const groups = new Map<string, Set<string>>();
    for (const m of this.members) {
      const ts = groups.get(m.groupId) ?? new Set<string>();
      for (const t of m.topics) ts.add(t);
      groups.set(m.groupId, ts);
    }
    if (groups.size === 0) return [];
    const admin = await this.admin();
    const ends = new Map<string, { high: bigint; low: bigint }>();
    const fetched = new Set<string>();
    const out: { groupId: string; topic: string; partition: number; end: bigint; committed: bigint | undefined; lag: bigint }[] = [];
    for (const [groupId, topics] of groups) {
      for (const topic of topics) {
        if (!fetched.has(topic)) {
          fetched.add(topic);
          for (const o of await fetchTopicOffsets(admin, topic)) ends.set(`${topic}/${o.partition}`, { high: BigInt(o.high), low: BigInt(o.low) });
        }
      }
      for (const t of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
        for (const p of t.partitions) {
          const e = ends.get(`${t.topic}/${p.partition}`);
          if (e === undefined) continue;
          const committed = BigInt(p.offset) >= 0n ? BigInt(p.offset) : undefined;
          const from = committed === undefined || committed < e.low ? e.low : committed;
          out.push({ groupId, topic: t.topic, partition: p.partition, end: e.high, committed, lag: e.high > from ? e.high - from : 0n });
        }
      }
    }
    return out;
  }

  /**
   * Reads topics from the beginning up to their end offsets at the time of the call, committed
   * records only (read_committed: aborted transactions never show). Used to load checkpoints and by
   * tests; not a streaming consumer. A throwaway group is used and deleted after. Returns where each
   * partition was read to: pass it as the next call's `from` to read only what came after.
   */
  async readToEnd(
    topics: string[],
    each: (m: ConsumedMessage) => void,
    timeoutMs = 60_000,
    opts: { untilStable?: boolean; from?: TopicOffsets; partitions?: readonly number[] } = {},
  ): Promise<TopicOffsets> {
    const admin = await this.admin();
    const ranges: ReadRange[] = [];
    // Where each partition has been read to, to read on from there next time (readToEnd's `from`).
    const readTo: TopicOffsets = {};
    // The end: the last stable offset (what the admin lists, read_committed); with untilStable the high
    // watermark, which includes records committed behind another producer's still-open transaction. A
    // read_committed reader passes it only once every transaction before it is decided (at the latest the
    // broker's transaction timeout). Reading the last stable offset first and raising it later is not
    // enough: a partition whose stable end has not moved past the start (an open transaction began before
    // anything after it was committed) would not be read at all.
    const hw = opts.untilStable === true ? await this.highWatermarks(topics) : undefined;
    for (const topic of topics) {
      for (const o of await fetchTopicOffsets(admin, topic)) {
        // `partitions`: only these partitions of every topic (one partition after the other: seam identity explain).
        if (opts.partitions !== undefined && !opts.partitions.includes(o.partition)) continue;
        const k = `${topic}/${o.partition}`;
        const from = opts.from?.[k];
        const first = from !== undefined && from > BigInt(o.low) ? from : BigInt(o.low);
        const end = hw?.[k] !== undefined && hw[k] > BigInt(o.offset) ? hw[k] : BigInt(o.offset);
        // Without `from`, from the log start as the group's first fetch finds it (fromBeginning).
        if (end > first) ranges.push({ topic, partition: o.partition, ...(from === undefined ? {} : { start: first }), end });
        readTo[k] = end > first ? end : first;
      }
    }
    if (ranges.length === 0) return readTo;
    await this.readRanges(throwawayGroupId('reader', this.groupPrefix), ranges, each, { timeoutMs, timeoutMessage: `reading ${topics.join(', ')} to the end took over ${timeoutMs} ms` });
    return readTo;
  }

  /**
   * Reads each range [start, end) of one topic partition with one throwaway consumer group (`groupId`, deleted
   * after), committed records only (read_committed). The group seeks to the starts as it joins, before its first
   * fetch (committing them for the group beforehand, admin.setOffsets, cost ~5 s a read: it runs a consumer of its
   * own until its first fetch returns); a range without a start reads from the log start. Nothing is handed to
   * `each` twice, also when the group is joined again (nothing is committed, so a rejoin starts over). Used by
   * readToEnd and the correlate role's rebuild (src/pipeline/history.ts); `keepAlive` is called every 2 s and after
   * each batch while it reads. An aborted `signal` ends the read at once: it rejects with the signal's reason, hands
   * nothing more to `each`, and disconnects its consumer and deletes its group as any read does.
   */
  async readRanges(
    groupId: string,
    ranges: readonly ReadRange[],
    each: (m: ConsumedMessage) => void,
    opts: { timeoutMs: number; timeoutMessage: string; keepAlive?: () => void; signal?: AbortSignal },
  ): Promise<void> {
    opts.signal?.throwIfAborted();
    const endOf = new Map<string, bigint>();
    const nextOf = new Map<string, bigint>();
    for (const r of ranges) {
      const k = `${r.topic}/${r.partition}`;
      if (r.start !== undefined && r.start >= r.end) continue;
      endOf.set(k, r.end);
      if (r.start !== undefined) nextOf.set(k, r.start);
    }
    if (endOf.size === 0) return;
    const pending = new Set(endOf.keys());
    const topics = [...new Set(ranges.map((r) => r.topic))];
    const admin = await this.admin();
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytes: 64 * 1024 * 1024 });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [k, offset] of nextOf) {
        const i = k.lastIndexOf('/');
        consumer.seek({ topic: k.slice(0, i), partition: Number(k.slice(i + 1)), offset: offset.toString() });
      }
    });
    const alive = opts.keepAlive === undefined ? undefined : setInterval(opts.keepAlive, 2_000);
    let onAbort: (() => void) | undefined;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SeamError('SEAM_ERR_BUS_CONSUME', opts.timeoutMessage)), opts.timeoutMs);
        if (opts.signal !== undefined) {
          const signal = opts.signal;
          onAbort = (): void => {
            clearTimeout(timer);
            reject(signal.reason);
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
        // Progress comes from batch-end events: they fire for batches of only aborted or control records too.
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          const k = `${e.payload.topic}/${e.payload.partition}`;
          const end = endOf.get(k);
          if (end !== undefined && BigInt(e.payload.lastOffset) + 1n >= end) pending.delete(k);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const k = `${batch.topic}/${batch.partition}`;
              const end = endOf.get(k);
              if (end === undefined) return;
              for (const m of batch.messages) {
                if (opts.signal?.aborted === true) return;
                const offset = BigInt(m.offset);
                if (offset >= end) continue;
                const next = nextOf.get(k);
                if (next !== undefined && offset < next) continue;
                nextOf.set(k, offset + 1n);
                each(consumedOf(batch.topic, batch.partition, m));
              }
              opts.keepAlive?.();
            },
          })
          .catch(reject);
      });
    } finally {
      if (alive !== undefined) clearInterval(alive);
      if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort);
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  /** Where each partition of `topics` ends now (last stable offsets), to read later from there with readToEnd's `from`. */
  async endOffsets(topics: string[]): Promise<TopicOffsets> {
    const admin = await this.admin();
    const out: TopicOffsets = {};
    for (const topic of topics) for (const o of await fetchTopicOffsets(admin, topic)) out[`${topic}/${o.partition}`] = BigInt(o.offset);
    return out;
  }

  async close(): Promise<void> {
    for (const h of [...this.open]) {
      await h.close().catch((error: unknown) => log.warn({ error }, 'Closing a Kafka client failed.'));
    }
    this.open.clear();
    await this.adminClient?.disconnect();
    this.adminClient = undefined;
    await this.uncommittedCluster?.disconnect().catch(() => undefined);
    this.uncommittedCluster = undefined;
  }
}
