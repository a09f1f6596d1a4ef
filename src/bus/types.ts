/**
 * The bus as the roles and collectors see it: Kafka in production, an in-memory bus in embedded
 * mode. Only what Seam needs: durable keyed produce, and consumer groups whose offsets are committed
 * by the caller once its output is durable.
 */
export interface BusMessage {
  topic: string;
  /** Partitioning key: order is kept per key (a log stream, an account). */
  key: string | null;
  value: Buffer;
  headers?: Record<string, string>;
  /** Event or produce time in ms, when known. */
  timestampMs?: number;
  /** Explicit partition, instead of the key's: co-partitioned topics (`seam.identity` follows `seam.signals`). */
  partition?: number;
}

export interface ConsumedMessage extends BusMessage {
  partition: number;
  offset: string;
}

export interface BusProducer {
  /** Resolves only when every message is durable (acks from all in-sync replicas for Kafka). */
  send(messages: BusMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface BusConsumerOptions {
  groupId: string;
  topics: string[];
  /** Start from the earliest offset when the group has none. */
  fromBeginning?: boolean;
  /**
   * Handles a batch from one partition. Offsets up to and including the last message are
   * committed after the promise resolves, never before (and never past `commitLimit`), unless the handler commits
   * part of the batch itself (`HandleContext.commitUpTo`).
   */
  handle(batch: ConsumedMessage[], ctx?: HandleContext): Promise<void>;
  /**
   * The offset a partition may be committed up to at most (the next offset to read after a restart), or undefined
   * for no limit: a handler that keeps work past its batch (the deliver role's held early alerts, ADR 0052) holds
   * the commit back at its oldest unfinished message, so a process killed with that work still pending re-reads it.
   * Reading goes on past it. Asked for every partition a commit covers; it must never go below an offset it
   * allowed before.
   */
  commitLimit?(topic: string, partition: number): bigint | undefined;
  /**
   * A string committed with a partition's offset (Kafka's offset commit metadata, in the same OffsetCommit request,
   * so the two are written together or not at all), or undefined for none; asked at every commit of the partition,
   * with the offset being committed. It may only describe output that is already durable: the correlate role says
   * how far its output of everything before `offset` reaches (what a rebuild need not send again).
   * `Bus.committedWithMetadata` reads it back.
   */
  commitMetadata?(topic: string, partition: number, offset: bigint): string | undefined;
  /**
   * Batches of different partitions handled at once (default 1). Each partition's batches still come one
   * after the other, in order; a handler shared by partitions must then tolerate overlapping calls. The
   * memory bus ignores it.
   */
  partitionsAtOnce?: number;
}

/** What a bus tells a handler about the batch it handles (Kafka only). */
export interface HandleContext {
  /**
   * Keeps this member's group session alive and says whether the batch's partition is still this member's: a
   * handler that may run longer than the session timeout (the correlate role's rebuild) calls it every few seconds.
   * Resolves while the member keeps its partitions; rejects with an error `revokedBy` (./revoked.ts) recognizes
   * when they are being taken away (the group rebalances, the member was evicted): the handler should then stop and
   * throw that error, so nothing is committed and the new assignment drives. Other rejections (a broker briefly
   * away) say nothing about ownership. Both Kafka buses pass it: kafkajs sends the batch's heartbeat (kafkajs's
   * `heartbeat()`, at most every heartbeat interval); librdkafka heartbeats on its own thread, so there nothing is
   * sent and it rejects once the client has marked the batch stale (src/bus/rdkafka.ts says when). The memory bus
   * passes none (no group session to keep).
   */
  heartbeat?(): Promise<void>;
  /**
   * Commits the batch's partition up to `next` (the next offset to read: every message before it is done) while the
   * batch is still being handled, never past `commitLimit` and never back. For a handler whose work on each message
   * reaches outside Kafka and cannot be taken back (the deliver role's notifications): a process killed mid-batch
   * (SIGKILL, OOM) then re-reads only what it had not finished, not the whole batch (a fetch: up to
   * `kafka.fetch.maxBytesPerPartition` of records). Rejects when the commit fails (a rebalance, the coordinator away);
   * the batch's own commit still comes after it. All three buses pass it; the memory bus commits nothing for a member
   * that left the group (a process killed, in tests).
   */
  commitUpTo?(next: bigint): Promise<void>;
}

export interface BusConsumer {
  run(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Commits, for every partition this member owns and has handled batches of, what it handled, up to `commitLimit`
   * now: what a caller with a `commitLimit` calls once its pending work is done (the deliver role's timer and stop),
   * since no batch may come to carry the commit. Without a `commitLimit` every handled batch is committed already.
   */
  commitHandled?(): Promise<void>;
  /**
   * Commits again, for every partition this member owns now, the group's committed offset as it stands (never moving
   * it), with what `commitMetadata` says for it now; a partition it says nothing for is left as it is. For a handler
   * whose output reached further after the last commit with no batch to come and carry that (the correlate role's
   * stop: its output mark). Waits for the commits of batches already handled; does nothing while the member is not
   * settled in its group (rebalancing, stopped, crashed), and the broker refuses a commit of an older generation.
   */
  recommit?(): Promise<void>;
  /**
   * The partitions of `topic` this member owns now, or undefined while it is not a settled member of
   * its group (joining, rebalancing, stopped). A partition can be owned with nothing left to read: no
   * batch will say so, and a role that keeps state per partition (the correlate) adopts it from here.
   */
  assigned?(topic: string): number[] | undefined;
}

export interface Bus {
  producer(): Promise<BusProducer>;
  consumer(opts: BusConsumerOptions): Promise<BusConsumer>;
  ensureTopics(topics: { topic: string; partitions: number }[]): Promise<void>;
  /** How many partitions `topic` has (0 when it does not exist): stage 1 marks its progress on every signals partition. */
  partitions(topic: string): Promise<number>;
  /**
   * The partition a message with this key goes to when the topic has `partitions` partitions: a producer
   * that puts several keyed records into one message sends it there explicitly (ADR 0019). A bus
   * without it gets one message per record.
   */
  partitionOf?(key: string, partitions: number): number;
  /** The group's committed next offset of each partition of `topic` (a partition with none is absent). */
  committedOffsets?(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** The same, each with the metadata committed with it (`BusConsumerOptions.commitMetadata`; undefined: none). */
  committedWithMetadata?(groupId: string, topic: string): Promise<Map<number, { offset: bigint; metadata: string | undefined }>>;
  close(): Promise<void>;
}
