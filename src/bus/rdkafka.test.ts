import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { batchHeartbeat, loadRdKafka, RdKafkaBus } from './rdkafka.ts';
import { revokedBy } from './revoked.ts';

// @confluentinc/kafka-javascript is not a dependency (ADR 0022): the adapter loads it only when it is installed.
const installed = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('@confluentinc/kafka-javascript');
    return true;
  } catch {
    return false;
  }
})();

describe('librdkafka bus (optional, ADR 0022)', () => {
  it(installed ? 'loads the installed package' : 'says clearly that the package is not installed', () => {
    if (installed) {
      expect(loadRdKafka().librdkafkaVersion).toMatch(/^\d+\.\d+\.\d+/);
    } else {
      expect(() => loadRdKafka()).toThrow(/SEAM_ERR_CONFIG_INVALID|needs @confluentinc\/kafka-javascript, which is not installed/);
      expect(() => new RdKafkaBus({ brokers: ['127.0.0.1:9092'] })).toThrow(/@confluentinc\/kafka-javascript/);
    }
  });
});

describe('librdkafka bus heartbeat (HandleContext, as kafkajs passes it)', () => {
  it('resolves while the batch is current and rejects with a revoked error once it is stale or the consumer stopped', async () => {
    let stale = false;
    let running = true;
    const hb = batchHeartbeat('s', 2, () => stale, () => running);
    await expect(hb()).resolves.toBeUndefined();
    stale = true;
    const e1 = await hb().then(() => undefined, (e: unknown) => e);
    expect(revokedBy(e1)).toBe(true);
    expect(String(e1)).toMatch(/s partition 2 is stale/);
    stale = false;
    running = false;
    expect(revokedBy(await hb().then(() => undefined, (e: unknown) => e))).toBe(true);
  });

  it('revokedBy knows kafkajs rebalance errors by their Kafka type, and nothing else', () => {
    expect(revokedBy({ type: 'REBALANCE_IN_PROGRESS' })).toBe(true);
    expect(revokedBy({ type: 'UNKNOWN_MEMBER_ID' })).toBe(true);
    expect(revokedBy({ type: 'ILLEGAL_GENERATION' })).toBe(true);
    expect(revokedBy({ type: 'NOT_COORDINATOR_FOR_GROUP' })).toBe(false);
    expect(revokedBy(new Error('Connection timeout'))).toBe(false);
    expect(revokedBy(undefined)).toBe(false);
  });
});
