/**
 * Errors that say a consumer group member is losing the partitions of the batch it handles: the group is
 * rebalancing, or the member was evicted or fenced. `HandleContext.heartbeat` rejects with one of them (kafkajs:
 * the heartbeat's protocol error, whose `type` is the Kafka error name; the librdkafka bus: BatchRevoked). A
 * handler that gets one stops and throws it: no commit, and the client rejoins (kafkajs rejoins at once on the
 * first three below) so the new assignment drives.
 */
const REVOKED_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID', 'BATCH_REVOKED']);

/** The batch's partition is no longer this member's to handle (the librdkafka bus's `heartbeat`, and a handler's own check). */
export class BatchRevoked extends Error {
  readonly type = 'BATCH_REVOKED';
  constructor(message: string) {
    super(message);
    this.name = 'BatchRevoked';
  }
}

/** Does this error (of `HandleContext.heartbeat`) say the member's partitions are being taken away? */
export function revokedBy(e: unknown): boolean {
  const t = (e as { type?: unknown } | null | undefined)?.type;
  return typeof t === 'string' && REVOKED_TYPES.has(t);
}
