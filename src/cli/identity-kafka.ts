/**
 * `seam identity explain --from kafka`: the identity graph as the correlate role publishes it, read back from the
 * compacted `seam.identity` topic with the role's own restore (src/pipeline/identity-topic.ts), every partition from
 * its start to its end, into one graph.
 */
import { TOPICS } from '../bus/topics.ts';
import { fetchTopicOffsets } from '../bus/topic-offsets.ts';
import type { KafkaConfig } from '../core/config/schema.ts';
import { SeamError } from '../core/errors.ts';
import type { IdentityGraph } from '../identity/graph.ts';
import { IdentityRestore } from '../pipeline/identity-topic.ts';
import { describeKafkaAuth } from './run.ts';
import { kafkaUnreachable } from './unreachable.ts';

/** Past every offset: no record is "ahead" of a rebuild here (there is no batch being redelivered). */
const NO_LIMIT = 1n << 62n;

/**
 * How long one partition's read may take: readToEnd's default (60 s) is ~2.5M records at the 43k records/s measured
 * (bench/identity-explain.ts); a topic that large is slow to explain, not wrong.
 */
const READ_TIMEOUT_MS = 30 * 60_000;

export interface IdentityTopicRead {
  topic: string;
  records: number;
  partitions: number;
  /** Records that are not identity records (left alone, as the role's restore leaves them). */
  unreadable: number;
  ms: number;
}

/**
 * Reads `<kafka.topicPrefix>seam.identity` to its end into `graph` and says on `err` what it read. The partitions are
 * read one after the other; the records of each are applied in their topic order as they are read, as a rebuild
 * applies the records of signals older than its window (`IdentityRestore.before`); the signals partitions' graphs,
 * one per partition in the correlate role, become one graph. Returns undefined (having said why on `err`) when Kafka does not answer or the topic does not exist.
 */
export async function readIdentityTopic(graph: IdentityGraph, kafka: KafkaConfig, err: { write(s: string): unknown }, origin: string): Promise<IdentityTopicRead | undefined> {
  const topic = `${kafka.topicPrefix}${TOPICS.identity}`;
  const started = Date.now();
  const { KafkaBus } = await import('../bus/kafka.ts');
  const { kafkaBusOptions } = await import('../bus/kafka-config.ts');
  const bus = new KafkaBus(kafkaBusOptions(kafka, 'identity-explain'));
  try {
    try {
      await bus.connect();
    } catch (e) {
      await (await import('../core/logger.ts')).flushLogs();
      err.write(`seam identity explain: ${kafkaUnreachable(kafka.brokers, origin, describeKafkaAuth(kafka), e)}\n`);
      return undefined;
    }
    const admin = await bus.admin();
    if (!(await admin.listTopics()).includes(topic)) {
      const e = new SeamError('SEAM_ERR_BUS_TOPIC', `Kafka ${kafka.brokers.join(',')} has no topic ${topic}: no correlate role has published the identity graph with this topic prefix (kafka.topicPrefix '${kafka.topicPrefix}', SEAM_TOPIC_PREFIX); \`seam run\` creates it`);
      err.write(`seam identity explain: ${e.code}: ${e.message}\n`);
      return undefined;
    }
    // One partition after the other, in partition order (the merge keeps the first partition's copy of a fact two
    // partitions hold: the same result whatever order kafkajs fetches them in), each record applied as it is read
    // rather than every decoded record held until the end (300k records: peak RSS 716 -> 358 MB, bench/identity-explain.ts).
    const partitions = (await fetchTopicOffsets(admin, topic)).map((o) => o.partition).sort((a, b) => a - b);
    let records = 0;
    let unreadable = 0;
    for (const p of partitions) {
      const r = new IdentityRestore(graph, NO_LIMIT, { merged: true, fromTimeMs: Infinity });
      await bus.readToEnd(
        [topic],
        (m) => {
          records++;
          r.add(m);
        },
        READ_TIMEOUT_MS,
        { partitions: [p] },
      );
      r.before(Infinity);
      unreadable += r.finish().stats.unreadable;
    }
    const read: IdentityTopicRead = { topic, records, partitions: partitions.length, unreadable, ms: Date.now() - started };
    err.write(
      `read ${records} records from ${partitions.length} partition${partitions.length === 1 ? '' : 's'} of ${topic}${unreadable > 0 ? ` (${unreadable} not identity records, left out)` : ''} in ${read.ms} ms; graph: ${graph.stats().versions} edges\n`,
    );
    return read;
  } catch (e) {
    err.write(`seam identity explain: cannot read ${topic}: ${(e as Error).message}\n`);
    return undefined;
  } finally {
    await bus.close().catch(() => undefined);
  }
}
