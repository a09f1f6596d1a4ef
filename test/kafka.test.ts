// Real Kafka (KRaft, one node) through kafkajs, the client Seam's bus uses: topic creation with explicit
// partitions/replication, an idempotent acks=all producer, and per-key ordering on the way back.
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName, uniqueTopic } from './helpers/services.ts';

const KEYS = ['account-111', 'account-222', 'account-333', 'account-444', 'account-555'];
const PER_KEY = 40;

describe('kafka (local broker via kafkajs)', () => {
  const kafka = new Kafka({ clientId: 'seam-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const topic = uniqueTopic('seam-test-events');
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('creates a topic with the requested partitions and replication factor', async () => {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = meta.topics[0]?.partitions ?? [];
    expect(partitions).toHaveLength(3);
    for (const p of partitions) {
      expect(p.replicas).toHaveLength(1);
      expect(p.leader).toBeGreaterThanOrEqual(0);
    }
  });

  it('produces keyed messages idempotently with acks=all and reads them back in order per key', async () => {
    // Interleave keys so ordering per key is not an accident of batching one key at a time.
    const messages = [];
    for (let seq = 0; seq < PER_KEY; seq++) {
      for (const key of KEYS) messages.push({ key, value: JSON.stringify({ key, seq }) });
    }
    for (let i = 0; i < messages.length; i += 50) {
      const res = await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 50) });
      for (const r of res) expect(r.errorCode).toBe(0);
    }

    const offsets = await admin.fetchTopicOffsets(topic);
    const stored = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
    expect(stored).toBe(KEYS.length * PER_KEY);

    consumer = kafka.consumer({ groupId: uniqueName('seam-test-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, { seq: number; partition: number }[]>();
    let total = 0;
    const all = new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ partition, message }) => {
          const { key, seq } = JSON.parse(message.value!.toString()) as { key: string; seq: number };
          expect(message.key?.toString()).toBe(key);
          const list = seen.get(key) ?? [];
          list.push({ seq, partition });
          seen.set(key, list);
          total += 1;
          if (total === KEYS.length * PER_KEY) resolve();
        },
      });
    });
    await Promise.race([
      all,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`consumed only ${total} messages in 60s`)), 60_000)),
    ]);

    const partitionsUsed = new Set<number>();
    for (const key of KEYS) {
      const got = seen.get(key) ?? [];
      // Exactly once each, in the order produced, all on one partition.
      expect(got.map((m) => m.seq)).toEqual([...Array(PER_KEY).keys()]);
      expect(new Set(got.map((m) => m.partition)).size).toBe(1);
      partitionsUsed.add(got[0]!.partition);
    }
    // Five keys over three partitions: the default partitioner spreads them (murmur2 of these keys).
    expect(partitionsUsed.size).toBeGreaterThan(1);
  });
});
