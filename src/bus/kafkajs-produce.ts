/**
 * kafkajs 2.2.4's Produce request (v3, which v4–v7 reuse) and request framing, encoded in one pass into
 * buffers of the exact size (ADR 0023). kafkajs builds each record in an Encoder, copies the records into
 * a batch body, the body into a batch, the batch into a record set, that into a partition, a topic, the
 * request body, the request with its header and finally the size-prefixed frame: every byte of every
 * value is copied about ten times, in buffers grown by doubling. Here sizes are computed first and each
 * value is copied once into the request body and once into the frame. The bytes are the same as
 * kafkajs's (the test compares them with kafkajs's own encoder); a request this does not cover
 * (compression, or keys, values or headers of another type than string, Buffer or a null key/value) is
 * left to kafkajs's encoder. Installed by ./kafkajs-speed.ts on kafkajs 2.2.4 only.
 */
import { crc32c } from './crc32c.ts';

/** kafkajs's Encoder as far as this file uses it: a buffer and how much of it is written. */
export interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}
type EncoderClass = new (initialSize?: number) => KafkajsEncoder;

/** kafkajs's Long (utils/long.js) as far as writeInt64 uses it. */
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
export interface LongClass {
  fromValue(v: unknown): LongLike;
}

interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: PartitionData[] }[];
}

const TRANSACTIONAL = 16;
const MAGIC = 2;

const zigzag32 = (v: number): number => (v << 1) ^ (v >> 31);
function uvarint32Size(u: number): number {
  let n = 1;
  while ((u & 0xffffff80) !== 0) {
    n++;
    u >>>= 7;
  }
  return n;
}
const varintSize = (v: number): number => uvarint32Size(zigzag32(v));
function writeUVarint32(b: Buffer, at: number, u: number): number {
  while ((u & 0xffffff80) !== 0) {
    b[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  b[at++] = u & 0x7f;
  return at;
}
const writeVarint = (b: Buffer, at: number, v: number): number => writeUVarint32(b, at, zigzag32(v));

/** Zigzag varlong of a safe integer (a timestamp delta), as kafkajs's writeVarLong writes it. */
function varlongBytes(v: number): number[] {
  let u = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

/** Size of a varint-length-prefixed string or Buffer (null: length -1), and the byte length of its content. */
function bytesSize(v: unknown): { size: number; len: number } | undefined {
  if (v === null || v === undefined) return { size: varintSize(-1), len: -1 };
  const len = Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : -2;
  if (len === -2) return undefined;
  return { size: varintSize(len) + len, len };
}
function writeBytes(b: Buffer, at: number, v: unknown, len: number): number {
  at = writeVarint(b, at, len);
  if (len < 0) return at;
  if (Buffer.isBuffer(v)) v.copy(b, at);
  else b.write(v as string, at, len, 'utf8');
  return at + len;
}

function writeInt64(b: Buffer, at: number, Long: LongClass, v: unknown): number {
  const l = Long.fromValue(v);
  b.writeInt32BE(l.getHighBits(), at);
  b.writeInt32BE(l.getLowBits(), at + 4);
  return at + 8;
}

interface PlannedRecord {
  size: number;
  body: number;
  tsDelta: number[];
  offsetDelta: number;
  key: unknown;
  keyLen: number;
  value: unknown;
  valueLen: number;
  headers: { key: string; keyLen: number; value: unknown; valueLen: number }[];
}
interface PlannedPartition {
  partition: number;
  firstSequence: number;
  records: PlannedRecord[];
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  bodySize: number;
}

/**
 * The Produce v3 request body kafkajs's `encode()` would build, or undefined when this encoder does not cover
 * the request (the caller then uses kafkajs's). `now` is kafkajs's `Date.now()` for messages with no timestamp.
 */
export function encodeProduce(a: ProduceArgs, Long: LongClass, Encoder: EncoderClass, now = Date.now()): KafkajsEncoder | undefined {
  // kafkajs's defaults (parameters left undefined).
  if ((a.compression === undefined ? 0 : a.compression) !== 0) return undefined;
  const transactionalId = a.transactionalId === undefined ? null : a.transactionalId;
  const producerId = a.producerId === undefined ? Long.fromValue(-1) : a.producerId;
  const producerEpoch = a.producerEpoch === undefined ? 0 : a.producerEpoch;
  const tidLen = transactionalId === null ? -1 : Buffer.byteLength(transactionalId, 'utf8');
  let total = 2 + Math.max(0, tidLen) + 2 + 4 + 4;
  const topics: { topic: string; topicLen: number; partitions: PlannedPartition[] }[] = [];
  for (const t of a.topicData) {
    const topicLen = Buffer.byteLength(t.topic, 'utf8');
    total += 2 + topicLen + 4;
    const partitions: PlannedPartition[] = [];
    for (const p of t.partitions) {
      // As kafkajs: the first and last of the messages' timestamps in (default, string) sort order, else now.
      const stamps = p.messages.map((m) => m.timestamp).filter((x) => x !== null && x !== undefined);
      for (const s of stamps) if (!(typeof s === 'string' ? /^-?\d{1,15}$/.test(s) : Number.isSafeInteger(s))) return undefined;
      stamps.sort();
      const firstTimestamp = stamps.length === 0 ? now : stamps[0];
      const maxTimestamp = stamps.length === 0 ? now : stamps[stamps.length - 1];
      const records: PlannedRecord[] = [];
      let bodySize = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
      for (const [i, m] of p.messages.entries()) {
        const tsDelta = varlongBytes(Number(m.timestamp || now) - Number(firstTimestamp));
        const key = bytesSize(m.key);
        const value = bytesSize(m.value);
        if (key === undefined || value === undefined) return undefined;
        const headers: PlannedRecord['headers'] = [];
        let headersSize = 0;
        for (const hk of Object.keys(m.headers ?? {})) {
          const hv = m.headers![hk];
          for (const v of Array.isArray(hv) ? (hv as unknown[]) : [hv]) {
            // kafkajs cannot encode a null header value (it measures it first); leave anything unusual to it.
            if (typeof v !== 'string' && !Buffer.isBuffer(v)) return undefined;
            const keyLen = Buffer.byteLength(hk, 'utf8');
            const valueLen = Buffer.isBuffer(v) ? v.length : Buffer.byteLength(v, 'utf8');
            headers.push({ key: hk, keyLen, value: v, valueLen });
            headersSize += varintSize(keyLen) + keyLen + varintSize(valueLen) + valueLen;
          }
        }
        const body = 1 + tsDelta.length + varintSize(i) + key.size + value.size + varintSize(headers.length) + headersSize;
        const size = varintSize(body) + body;
        records.push({ size, body, tsDelta, offsetDelta: i, key: m.key ?? null, keyLen: key.len, value: m.value ?? null, valueLen: value.len, headers });
        bodySize += size;
      }
      // partition, record set size, first offset, batch length, leader epoch, magic, crc, body
      total += 4 + 4 + 8 + 4 + 4 + 1 + 4 + bodySize;
      partitions.push({ partition: p.partition, firstSequence: p.firstSequence === undefined ? 0 : p.firstSequence, records, firstTimestamp, maxTimestamp, bodySize });
    }
    topics.push({ topic: t.topic, topicLen, partitions });
  }

  const b = Buffer.allocUnsafe(total);
  let at = b.writeInt16BE(tidLen, 0);
  if (transactionalId !== null) at += b.write(transactionalId, at, tidLen, 'utf8');
  at = b.writeInt16BE(a.acks, at);
  at = b.writeInt32BE(a.timeout, at);
  at = b.writeInt32BE(topics.length, at);
  for (const t of topics) {
    at = b.writeInt16BE(t.topicLen, at);
    at += b.write(t.topic, at, t.topicLen, 'utf8');
    at = b.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      const batchLen = 4 + 1 + 4 + p.bodySize;
      at = b.writeInt32BE(p.partition, at);
      at = b.writeInt32BE(8 + 4 + batchLen, at);
      at = writeInt64(b, at, Long, 0);
      at = b.writeInt32BE(batchLen, at);
      at = b.writeInt32BE(0, at); // partition leader epoch
      at = b.writeInt8(MAGIC, at);
      const crcAt = at;
      at += 4;
      const bodyAt = at;
      at = b.writeInt16BE(transactionalId ? TRANSACTIONAL : 0, at);
      at = b.writeInt32BE(p.records.length - 1, at);
      at = writeInt64(b, at, Long, p.firstTimestamp);
      at = writeInt64(b, at, Long, p.maxTimestamp);
      at = writeInt64(b, at, Long, producerId);
      at = b.writeInt16BE(producerEpoch, at);
      at = b.writeInt32BE(p.firstSequence, at);
      at = b.writeInt32BE(p.records.length, at);
      for (const r of p.records) {
        at = writeVarint(b, at, r.body);
        b[at++] = 0;
        for (const x of r.tsDelta) b[at++] = x;
        at = writeVarint(b, at, r.offsetDelta);
        at = writeBytes(b, at, r.key, r.keyLen);
        at = writeBytes(b, at, r.value, r.valueLen);
        at = writeVarint(b, at, r.headers.length);
        for (const h of r.headers) {
          at = writeBytes(b, at, h.key, h.keyLen);
          at = writeBytes(b, at, h.value, h.valueLen);
        }
      }
      b.writeUInt32BE(crc32c(b.subarray(bodyAt, at)), crcAt);
    }
  }
  if (at !== total) throw new Error(`produce request encoded ${at} bytes, planned ${total}`);
  const e = new Encoder(0);
  e.buf = b;
  e.offset = total;
  return e;
}

/** kafkajs's protocol/request.js (size, api key, version, correlation id, client id, body), with the body copied once. */
export function frameRequest(
  o: { correlationId: number; clientId: string | null | undefined; request: { apiKey: number; apiVersion: number } },
  payload: KafkajsEncoder,
  Encoder: EncoderClass,
): KafkajsEncoder {
  const clientId = o.clientId ?? null;
  const idLen = clientId === null ? -1 : Buffer.byteLength(clientId, 'utf8');
  const size = 2 + 2 + 4 + 2 + Math.max(0, idLen) + payload.offset;
  const b = Buffer.allocUnsafe(4 + size);
  let at = b.writeInt32BE(size, 0);
  at = b.writeInt16BE(o.request.apiKey, at);
  at = b.writeInt16BE(o.request.apiVersion, at);
  at = b.writeInt32BE(o.correlationId, at);
  at = b.writeInt16BE(idLen, at);
  if (clientId !== null) at += b.write(clientId, at, idLen, 'utf8');
  payload.buf.copy(b, at, 0, payload.offset);
  const e = new Encoder(0);
  e.buf = b;
  e.offset = b.length;
  return e;
}
