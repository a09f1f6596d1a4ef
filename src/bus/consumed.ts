import type { IHeaders } from 'kafkajs';
import type { ConsumedMessage } from './types.ts';

/** A consumed message's headers as strings (the last value of a repeated header); both Kafka clients' shape. */
function headersOf(h: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) out[k] = one.toString();
  }
  return out;
}

/** A message as both Kafka clients fetch it (kafkajs, and @confluentinc/kafka-javascript's KafkaJS API). */
export interface FetchedMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers?: IHeaders;
}

/** A fetched message of `topic`/`partition` as the bus hands it on: the consumers', the range reads' and the history's. */
export function consumedOf(topic: string, partition: number, m: FetchedMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString(),
    value: m.value ?? Buffer.alloc(0),
    ...(m.headers ? { headers: headersOf(m.headers) } : {}),
    timestampMs: Number(m.timestamp),
  };
}
