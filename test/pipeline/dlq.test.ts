// `seam dlq list` and `seam dlq replay` against the real Kafka: dead letters written by the normalize
// role are listed with code, stage, origin and reason, and replay sends the original bytes back to the
// raw topics they were read from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dlqListCommand, dlqReplayCommand } from '../../src/cli/dlq.ts';
import { kafkaBrokers } from '../helpers/services.ts';
import { badRecords, pipeline, validRecords, type Pipeline } from './harness.ts';

describe('seam dlq on Kafka', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await pipeline('dlq');
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('lists dead letters and replays their original bytes to the raw topics', async () => {
    const bad = badRecords(40);
    await p.produce([...validRecords(1).slice(0, 50), ...bad]);
    const n = p.normalize();
    await n.start();
    const env = { SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${p.id}.` };
    let text = '';
    const out = { write: (s: string) => (text += s) };
    // Wait for the condition itself (every bad record dead-lettered), not a count of polls: on the loaded 2-core CI
    // the normalize role can take longer than the 30 s the old 60 x 500 ms loop gave it. The bound only catches a hang
    // and says what it saw.
    const want = `dlq: ${bad.length} dead letters`;
    const deadline = Date.now() + 180_000;
    for (;;) {
      text = '';
      await dlqListCommand({ env, out, limit: 5 });
      if (text.includes(want)) break;
      if (Date.now() > deadline) {
        await n.stop();
        throw new Error(`waited 180 s for '${want}' from seam dlq list; last output: ${text.slice(0, 500)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await n.stop();
    expect(text).toContain(`dlq: ${bad.length} dead letters in ${p.topics.dlq}`);
    expect(text).toMatch(/ normalize SEAM_ERR_INPUT_JSON test:\d+ — record is not valid JSON/);

    const kadmin = await p.admin.admin();
    const total = async (): Promise<number> => {
      let s = 0;
      for (const t of p.topics.rawAll) for (const o of await kadmin.fetchTopicOffsets(t)) s += Number(o.high);
      return s;
    };
    const before = await total();
    let replayed = '';
    await dlqReplayCommand({ env, out: { write: (s: string) => (replayed += s) } });
    expect(replayed).toContain(`dlq replay: sent ${bad.length} of ${bad.length} dead letters`);
    expect((await total()) - before).toBe(bad.length);
  });
});
