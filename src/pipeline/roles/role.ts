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
  return { topic: topics.dlq, key: from?.key ?? dl.origin ?? null, value: Buffer.from(JSON.stringify(dl)), headers };
}
