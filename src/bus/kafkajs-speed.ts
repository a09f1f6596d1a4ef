import { createRequire, Module } from 'node:module';

/**
 * Two CPU patches of kafkajs 2.2.4's producer encoding (ADR 0019), installed before kafkajs loads, and
 * only on that version: on any other the originals stay (a kafkajs upgrade must re-check both).
 *
 * 1. CRC-32C of each record batch: kafkajs computes it in JavaScript one byte at a time
 *    (`protocol/recordBatch/crc32C/crc32C.js`); this one reads 8 bytes per step (slicing-by-8 tables),
 *    about 3.5× faster on the 256 KiB signal and event batches the roles produce. Same function, same
 *    result (checked against kafkajs's own in the test).
 * 2. `Encoder.ensureAvailable` grows its buffer with `Buffer.alloc` (zero-filled) by doubling, several
 *    times per produced message and per request; the encoder only ever writes contiguously from offset
 *    0 and exposes `buf.slice(0, offset)`, so the zeroing is never read: `Buffer.allocUnsafe` instead.
 * 3. `RequestQueue.scheduleCheckPendingRequests` (ADR 0022) arms a timer even when no request is waiting:
 *    after every response each connection re-arms a 1 ms timer that re-arms itself, for ever, so an idle
 *    client burns ~35 ms of CPU per second and a busy role pays it on every connection all the time. A
 *    waiting request is only ever held back by client-side throttling (which needs the timer) or by the
 *    in-flight limit (a response or a timeout checks the queue again), so the timer is armed only while
 *    something waits, as before for that case.
 */
export const KAFKAJS_SPEED_VERSION = '2.2.4';

const T = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let t = 1; t < 8; t++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

/** CRC-32C (Castagnoli), unsigned, as kafkajs's `crc32C.js` returns it. */
export function crc32c(buf: Uint8Array): number {
  let crc = -1;
  let i = 0;
  const n = buf.length;
  const end = n - (n & 7);
  for (; i < end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc;
    crc =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^
      T[512 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^
      T[buf[i + 7]!]!;
  }
  for (; i < n; i++) crc = T[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

interface EncoderClass {
  nextPowerOfTwo(n: number): number;
  prototype: { offset: number; buf: Buffer; ensureAvailable(length: number): void };
}

interface RequestQueueClass {
  prototype: {
    pending: unknown[];
    throttledUntil: number;
    throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
  };
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL: how soon a waiting request is looked at again when not throttled. */
const CHECK_PENDING_MS = 10;

/** What was installed: the patches on kafkajs 2.2.4 (`crc` false if kafkajs had loaded its own first), nothing on another version. */
export let kafkajsSpeed: { patched: boolean; crc: boolean; version: string } = { patched: false, crc: false, version: 'unknown' };

export function installKafkajsSpeed(): void {
  const require = createRequire(import.meta.url);
  const version = (require('kafkajs/package.json') as { version: string }).version;
  kafkajsSpeed = { patched: false, crc: false, version };
  if (version !== KAFKAJS_SPEED_VERSION) return;
  const crcPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js');
  // Already loaded (kafkajs imported before this file): leave it; the encoder patch below still applies.
  const crc = require.cache[crcPath] === undefined;
  if (crc) {
    const m = new Module(crcPath);
    m.filename = crcPath;
    m.loaded = true;
    m.exports = crc32c;
    require.cache[crcPath] = m;
  }
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
  Encoder.prototype.ensureAvailable = function ensureAvailable(this: EncoderClass['prototype'], length: number): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueClass['prototype']): void {
    if (this.pending.length === 0 || this.throttleCheckTimeoutId) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttled > 0 ? throttled : CHECK_PENDING_MS,
    );
  };
  kafkajsSpeed = { patched: true, crc, version };
}

installKafkajsSpeed();
