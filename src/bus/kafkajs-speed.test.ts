import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import '../bus/kafka.ts';
import { crc32c, kafkajsSpeed } from './kafkajs-speed.ts';

const require = createRequire(import.meta.url);

describe('kafkajs speed patches (ADR 0019, ADR 0022)', () => {
  it('are installed on kafkajs 2.2.4, and the CRC kafkajs now uses is ours', () => {
    expect(kafkajsSpeed).toEqual({ patched: true, crc: true, produce: true, version: '2.2.4' });
    expect(require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js')).toBe(crc32c);
  });

  it('CRC-32C matches the standard check value and a bytewise reference at every length and alignment', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    // The bytewise table algorithm kafkajs shipped, written out here as the reference.
    const table = Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      return c;
    });
    const reference = (b: Uint8Array): number => {
      let crc = -1;
      for (const x of b) crc = table[(crc ^ x) & 0xff]! ^ (crc >>> 8);
      return (crc ^ -1) >>> 0;
    };
    const data = randomBytes(5000);
    for (let len = 0; len < 70; len++) for (const start of [0, 1, 3]) expect(crc32c(data.subarray(start, start + len))).toBe(reference(data.subarray(start, start + len)));
    expect(crc32c(data)).toBe(reference(data));
  });

  it('the encoder still writes what it wrote, across growth', () => {
    const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeInt32(v: number): unknown; writeVarIntBytes(b: Buffer): unknown; buffer: Buffer };
    const e = new Encoder();
    const payload = randomBytes(70_000);
    e.writeInt32(7);
    e.writeVarIntBytes(payload);
    e.writeInt32(-1);
    const out = e.buffer;
    expect(out.readInt32BE(0)).toBe(7);
    expect(out.subarray(out.length - 4).readInt32BE(0)).toBe(-1);
    expect(out.subarray(out.length - 4 - payload.length, out.length - 4).equals(payload)).toBe(true);
  });

  it('a request queue arms no timer with nothing waiting, and still sends what waits behind the in-flight limit or a throttle', async () => {
    type Queue = {
      push(r: { entry: { correlationId: number; apiName: string; apiKey: number; apiVersion: number; resolve(): void; reject(): void }; expectResponse: boolean; sendRequest(): void }): void;
      fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
      maybeThrottle(ms: number): void;
      destroy(): void;
      throttleCheckTimeoutId: unknown;
      pending: unknown[];
    };
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => Queue;
    const noop = (): void => undefined;
    const logger = { debug: noop, info: noop, warn: noop, error: noop };
    const q = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b', logger });
    const sent: number[] = [];
    const request = (id: number) => ({ entry: { correlationId: id, apiName: 'Produce', apiKey: 0, apiVersion: 3, resolve: noop, reject: noop }, expectResponse: true, sendRequest: () => void sent.push(id) });
    q.push(request(1));
    q.push(request(2));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    // Nothing waits: the timer armed while request 2 waited fires once and is not armed again (kafkajs 2.2.4
    // re-armed a 1 ms timer here for ever).
    await new Promise((r) => setTimeout(r, 40));
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.maybeThrottle(30);
    q.push(request(3));
    expect(sent).toEqual([1, 2]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await new Promise((r) => setTimeout(r, 80));
    expect(sent).toEqual([1, 2, 3]);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });
});
