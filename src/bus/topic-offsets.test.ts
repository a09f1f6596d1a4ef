import { describe, expect, it } from 'vitest';
import { SeamError } from '../core/errors.ts';
import { isTopicNotReady, topicNotReady } from './topic-offsets.ts';

/** The TypeError kafkajs 2.2.4's fetchTopicOffsets throws when a ListOffsets answer is empty (its own destructuring, run on an empty answer). */
function kafkajsCrash(): TypeError {
  const low: { partitions: { partition: number; offset: string }[] }[] = [];
  try {
    const { partitions } = low.pop() as { partitions: unknown[] };
    return new TypeError(`not thrown: ${partitions.length}`);
  } catch (e) {
    return e as TypeError;
  }
}

describe('a topic with no partitions yet (kafkajs fetchTopicOffsets)', () => {
  it("turns kafkajs's TypeError into a retriable SEAM_ERR_BUS_TOPIC_NOT_READY naming the topic, the TypeError as its cause", () => {
    const crash = kafkajsCrash();
    expect(crash.message).toContain("Cannot destructure property 'partitions'");
    const e = topicNotReady('seam.raw.k8s_audit', crash);
    expect(e).toBeInstanceOf(SeamError);
    expect(e?.code).toBe('SEAM_ERR_BUS_TOPIC_NOT_READY');
    expect(e?.retriable).toBe(true);
    expect(e?.message).toContain('seam.raw.k8s_audit');
    expect(e?.message).not.toContain('destructure');
    expect(e?.cause).toBe(crash);
    expect(isTopicNotReady(e)).toBe(true);
    // A partition whose low offset is missing: kafkajs reads `.offset` of undefined.
    let missing: unknown;
    try {
      const lows: { partition: number; offset: string }[] = [];
      missing = (lows.find((l) => l.partition === 0) as { offset: string }).offset;
    } catch (x) {
      missing = x;
    }
    expect(topicNotReady('t', missing)?.code).toBe('SEAM_ERR_BUS_TOPIC_NOT_READY');
  });

  it('leaves every other error as it is (a protocol error, another TypeError)', () => {
    expect(topicNotReady('t', new Error('This server does not host this topic-partition'))).toBeUndefined();
    expect(topicNotReady('t', new TypeError('x is not a function'))).toBeUndefined();
    expect(isTopicNotReady(new Error('x'))).toBe(false);
  });
});
