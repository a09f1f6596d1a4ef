import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkaPartition, murmur2 } from './partition.ts';

// kafkajs's own murmur2 (Long arithmetic), the partitioner a keyed message gets: ours must agree bit for bit.
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

describe('Kafka key partitioning', () => {
  it('murmur2 equals kafkajs DefaultPartitioner on keys of every length, ASCII and not', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', '21', 'stream-7', 'Zürich-ß-日本', '\u00ff\u00fe\u0080'];
    for (let i = 0; i < 300; i++) keys.push(`${i.toString(36)}-${'x'.repeat(i % 11)}-ev${(i * 7919).toString(16)}`);
    for (const k of keys) {
      expect(murmur2(Buffer.from(k, 'utf8')), k).toBe(kafkajsMurmur2(k));
      for (const n of [1, 3, 6, 12]) expect(kafkaPartition(k, n)).toBe((kafkajsMurmur2(k) & 0x7fffffff) % n);
    }
  });
});
