import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadRdKafka, RdKafkaBus } from './rdkafka.ts';

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
