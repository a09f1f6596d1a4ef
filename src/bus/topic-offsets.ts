import type { Admin } from 'kafkajs';
import { SeamError } from '../core/errors.ts';

/** What admin.fetchTopicOffsets answers: each partition's offset (high), high and low, as decimal strings. */
export type PartitionOffsets = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/**
 * kafkajs 2.2.4's fetchTopicOffsets destructures the first answer of its two ListOffsets calls (`high.pop()`, `low.pop()`),
 * which is empty when the brokers' metadata names the topic with no partitions yet (a topic created a moment ago by another
 * process): a TypeError, "Cannot destructure property 'partitions' of 'low.pop(...)' as it is undefined", or "Cannot read
 * properties of undefined (reading 'offset')" when a partition's low offset is missing. Both say nothing of the topic.
 */
const NO_PARTITIONS_RE = /Cannot destructure property 'partitions'|reading 'offset'|reading 'partitions'/;

/** The retriable SEAM_ERR_BUS_TOPIC_NOT_READY that kafkajs's TypeError on a topic with no partitions yet stands for, or undefined for any other error. */
export function topicNotReady(topic: string, e: unknown): SeamError | undefined {
  if (!(e instanceof TypeError) || !NO_PARTITIONS_RE.test(e.message)) return undefined;
  return new SeamError('SEAM_ERR_BUS_TOPIC_NOT_READY', `Kafka topic ${topic} has no partitions in the brokers' metadata yet (created a moment ago?): look again later`, {
    cause: e,
    details: { topic },
  });
}

export function isTopicNotReady(e: unknown): boolean {
  return e instanceof SeamError && e.code === 'SEAM_ERR_BUS_TOPIC_NOT_READY';
}

/** admin.fetchTopicOffsets, with kafkajs's TypeError on a topic that has no partitions yet turned into SEAM_ERR_BUS_TOPIC_NOT_READY (retriable). */
export async function fetchTopicOffsets(admin: Pick<Admin, 'fetchTopicOffsets'>, topic: string): Promise<PartitionOffsets> {
  try {
    return await admin.fetchTopicOffsets(topic);
  } catch (e) {
    throw topicNotReady(topic, e) ?? e;
  }
}
