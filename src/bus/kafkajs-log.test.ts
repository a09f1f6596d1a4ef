// kafka.ts first: it patches kafkajs before anything loads it (kafkajs-aborted-filter.ts).
import { kafkajsLineLevel } from './kafka.ts';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';

describe('kafkajs log lines as Seam logs them', () => {
  it("a transactional writer's first send meeting CONCURRENT_TRANSACTIONS (retried by kafkajs) is info, not an error", () => {
    // The line a fresh `seam collect` printed at level 50 on its first page (platform-security walkthrough, session 34).
    const line = 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    expect(kafkajsLineLevel(logLevel.ERROR, 'Producer', line)).toBe('info');
  });

  it('other producer failures stay errors; routine lines stay quiet', () => {
    expect(kafkajsLineLevel(logLevel.ERROR, 'Producer', 'Failed to send messages: This server is not the leader for that topic-partition')).toBe('error');
    expect(kafkajsLineLevel(logLevel.ERROR, 'Connection', 'Response Heartbeat(key: 12, version: 3)')).toBe('debug');
    expect(kafkajsLineLevel(logLevel.ERROR, 'Runner', 'The group is rebalancing, re-joining')).toBe('info');
    expect(kafkajsLineLevel(logLevel.WARN, 'Cluster', 'anything else')).toBe('warn');
  });
});
