// A topic created and looked at at once (the correlate role's first look at stage 1's progress while another process creates
// the raw topics): Seam's fetchTopicOffsets answers the topic's offsets or a retriable error, never kafkajs's TypeError.
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTopicOffsets } from '../src/bus/topic-offsets.ts';
import { kafkaBrokers, uniqueTopic } from './helpers/services.ts';

describe('fetchTopicOffsets on topics created a moment ago (real Kafka)', () => {
  const kafka = new Kafka({ clientId: 'seam-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const topics: string[] = [];
  let creator: Admin;
  let looker: Admin;

  beforeAll(async () => {
    creator = kafka.admin();
    looker = kafka.admin();
    await creator.connect();
    await looker.connect();
  });

  afterAll(async () => {
    await creator?.deleteTopics({ topics }).catch(() => undefined);
    await creator?.disconnect();
    await looker?.disconnect();
  });

  it('answers offsets or a retriable error while the topic is being created, then every partition at offset 0', async () => {
    const failures: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const topic = uniqueTopic(`seam-test-offsets-${i}`);
      topics.push(topic);
      await creator.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: false });
      // At once, from another client (as the correlate role looks at what normalize's producer created).
      try {
        const offsets = await fetchTopicOffsets(looker, topic);
        for (const o of offsets) expect(o.high).toBe('0');
      } catch (e) {
        failures.push(e);
      }
    }
    for (const e of failures) {
      expect(e, String(e)).not.toBeInstanceOf(TypeError);
      expect((e as { retriable?: unknown }).retriable, String(e)).toBe(true);
    }
    // Once the leaders are known, every partition answers.
    await creator.fetchTopicMetadata({ topics });
    for (const topic of topics) {
      let offsets = await fetchTopicOffsets(looker, topic).catch(() => undefined);
      for (let attempt = 0; offsets === undefined && attempt < 50; attempt++) {
        await new Promise((r) => setTimeout(r, 100));
        offsets = await fetchTopicOffsets(looker, topic).catch(() => undefined);
      }
      expect(offsets?.map((o) => o.partition).sort()).toEqual([0, 1, 2]);
      expect(offsets?.every((o) => o.high === '0' && o.low === '0')).toBe(true);
    }
  });
});
