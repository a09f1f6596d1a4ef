import { createRequire, Module } from 'node:module';
import { crc32c } from './crc32c.ts';
import { encodeProduce, frameRequest, type KafkajsEncoder, type LongClass, type ProduceArgs } from './kafkajs-produce.ts';

export { crc32c };

/**
 * CPU patches of kafkajs 2.2.4's producer encoding and request queue (ADR 0019, 0022, 0023), installed before
 * kafkajs loads, and only on that version: on any other the originals stay (a kafkajs upgrade must re-check them).
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
 * 4. The Produce request (v3, reused by v4–v7) and the request frame are encoded in one pass into buffers of
 *    the exact size (./kafkajs-produce.ts, ADR 0023): each value is copied twice instead of about ten times.
 *    Same bytes (the test compares them with kafkajs's encoder); requests it does not cover (compression)
 *    go to kafkajs's own.
 */
export const KAFKAJS_SPEED_VERSION = '2.2.4';

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

/** What was installed: the patches on kafkajs 2.2.4 (`crc`, `produce` false if kafkajs had loaded its own first), nothing on another version. */
export let kafkajsSpeed: { patched: boolean; crc: boolean; produce: boolean; version: string } = { patched: false, crc: false, produce: false, version: 'unknown' };

/** Puts `exports` in the module cache as the module at `path`, unless kafkajs already loaded it (then false). */
function preload(require: NodeJS.Require, path: string, exports: unknown): boolean {
  if (require.cache[path] !== undefined) return false;
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
  return true;
}

type ProduceRequest = (a: ProduceArgs) => { encode(): Promise<KafkajsEncoder> } & Record<string, unknown>;
type RequestFramer = (o: { correlationId: number; clientId: string; request: { apiKey: number; apiVersion: number; encode(): Promise<KafkajsEncoder> } }) => Promise<KafkajsEncoder>;

export function installKafkajsSpeed(): void {
  const require = createRequire(import.meta.url);
  const version = (require('kafkajs/package.json') as { version: string }).version;
  kafkajsSpeed = { patched: false, crc: false, produce: false, version };
  if (version !== KAFKAJS_SPEED_VERSION) return;
  // Already loaded (kafkajs imported before this file): left alone; the encoder patch below still applies.
  const crc = preload(require, require.resolve('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js'), crc32c);
  // kafkajs's produce request is loaded first and kept for what ours does not cover; then ours takes its place
  // in the module cache, and the frame's (request.js, which only the connection loads).
  const producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  const framePath = require.resolve('kafkajs/src/protocol/request.js');
  let produce = false;
  if (require.cache[producePath] === undefined && require.cache[framePath] === undefined) {
    const kafkajsProduce = require(producePath) as ProduceRequest;
    const Long = require('kafkajs/src/utils/long.js') as LongClass;
    const Enc = require('kafkajs/src/protocol/encoder.js') as new (n?: number) => KafkajsEncoder;
    const ours: ProduceRequest = (a) => {
      const r = kafkajsProduce(a);
      return { ...r, encode: async () => encodeProduce(a, Long, Enc) ?? r.encode() };
    };
    const frame: RequestFramer = async (o) => frameRequest(o, await o.request.encode(), Enc);
    delete require.cache[producePath];
    delete require.cache[framePath];
    produce = preload(require, producePath, ours) && preload(require, framePath, frame);
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
  kafkajsSpeed = { patched: true, crc, produce, version };
}

installKafkajsSpeed();
