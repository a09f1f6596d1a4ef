import type { BusMessage, ConsumedMessage } from '../../bus/types.ts';
import type { DeadLetter } from '../../core/dead-letter.ts';
import type { PipelineTopics } from '../topics.ts';

/** A running role: a consumer group member with its own outputs. `stop` drains in-flight work and commits it. */
export interface Role {
  readonly name: RoleName;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): Record<string, unknown>;
}

export const ROLE_NAMES = ['normalize', 'correlate', 'index', 'deliver'] as const;
/** The roles every pipeline runs (deliver only runs when a delivery config is given). */
export const PIPELINE_ROLES = ['normalize', 'correlate', 'index'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Default consumer group of a role; tests pass their own so runs never share offsets. */
export const defaultGroupId = (role: RoleName, prefix = ''): string => `${prefix}seam-${role}`;

/** Header names a dead letter carries on `seam.dlq`, next to the original record's own headers. */
export const DLQ_HEADERS = {
  topic: 'seam-dlq-topic',
  partition: 'seam-dlq-partition',
  offset: 'seam-dlq-offset',
  stage: 'seam-dlq-stage',
  code: 'seam-dlq-code',
} as const;

/**
 * Header `seam dlq replay` stamps on each record it sends back: the dead letter it replays
 * (`<dlq topic>/<partition>/<offset>`, the first dead letter of that record). A role that dead-letters the record
 * again keeps it (dlqMessage copies the record's headers), so the next `dlq replay` knows the new dead letter
 * for a failed replay and the first one for already replayed.
 */
export const REPLAY_OF_HEADER = 'seam-replay-of';

/**
 * A dead letter as a message on `seam.dlq`: value = the DeadLetter JSON (reason, code, stage and the
 * original record as `raw`), headers = the original record's headers plus where it was read from,
 * so `seam dlq replay` can put the bytes back where they came from.
 */
export function dlqMessage(topics: PipelineTopics, dl: DeadLetter, from: ConsumedMessage | undefined): BusMessage {
  const headers: Record<string, string> = { ...(from?.headers ?? {}), [DLQ_HEADERS.stage]: dl.stage, [DLQ_HEADERS.code]: dl.code };
  if (from !== undefined) {
    headers[DLQ_HEADERS.topic] = from.topic;
    headers[DLQ_HEADERS.partition] = String(from.partition);
    headers[DLQ_HEADERS.offset] = from.offset;
  }
  return { topic: topics.dlq, key: from?.key ?? dl.origin ?? null, value: fittedDeadLetter(dl), headers };
}

/**
 * Bytes of a dead letter on the dead-letter topic at most: under the broker's default `message.max.bytes`
 * (1 MiB), which the dead-letter topic keeps even where a raw topic allows larger messages. A dead letter the
 * broker refuses would fail its batch again on every redelivery and stall the role.
 */
export const DLQ_MESSAGE_MAX_BYTES = 900 * 1024;

/**
 * The dead letter's JSON, its `raw` cut (and flagged `raw_partial`) until it fits `DLQ_MESSAGE_MAX_BYTES`. The
 * cut counts serialized bytes, not characters: a control character is six bytes once escaped, a letter of
 * another script up to three. `raw` was redacted whole before (deadLetter), so the cut cannot undo redaction.
 */
export function fittedDeadLetter(dl: DeadLetter, max: number = DLQ_MESSAGE_MAX_BYTES): Buffer {
  let b = Buffer.from(JSON.stringify(dl));
  if (b.length <= max) return b;
  let keep = dl.raw.length;
  for (let i = 0; i < 40 && b.length > max && keep > 0; i++) {
    keep = Math.floor(keep * Math.min(0.9, max / b.length));
    // Never between the two halves of a surrogate pair.
    if (keep > 0 && /[\ud800-\udbff]/.test(dl.raw[keep - 1]!)) keep--;
    b = Buffer.from(JSON.stringify({ ...dl, raw: dl.raw.slice(0, keep), raw_partial: true }));
  }
  return b;
}
