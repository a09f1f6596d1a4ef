/**
 * How large a collector checkpoint gets (ADR 0061, amendment of session 37): the ids seen within the lookback, as the
 * previous format kept them (version 1: the full CloudWatch Logs eventIds, 56 digits) and as digests (version 2:
 * `digestId`, 16 characters), built by the collector's own ReadWindow and measured as the Kafka checkpoint store
 * measures a message (`KafkaCheckpointStore.size`: JSON value, key, record overhead). Events fall at random
 * milliseconds in the lookback (a fixed seed), so several share a millisecond key at high rates as on AWS. Then the
 * events/s per log group at which the checkpoint passes 80 % of the topic's max.message.bytes (the WARN) and the limit
 * itself (the write is refused: SEAM_ERR_CHECKPOINT_TOO_LARGE).
 *
 *   npm run bench:checkpoint-size [-- lookbackS=900 rate=10]
 *
 * Sizes only: no timing, no services.
 */
import { CHECKPOINT_MAX_MESSAGE_BYTES } from '../src/sources/checkpoint/kafka-store.ts';
import type { CheckpointV1 } from '../src/sources/checkpoint/store.ts';
import { ReadWindow } from '../src/sources/checkpoint/window.ts';
import { seededRandom } from '../test/helpers/random.ts';

const arg = (k: string, d: string): number => Number(process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d);
const LOOKBACK_MS = arg('lookbackS', '900') * 1000;
const RATE = arg('rate', '10');
const KEY = 'cloudtrail|/aws/cloudtrail/org-trail';
const END = Date.UTC(2026, 11, 7);

/** A version-1 checkpoint of `rate` events/s over the lookback (56-digit ids), and its size as a Kafka message, before and after. */
function sizes(rate: number): { ids: number; v1: number; v2: number } {
  const random = seededRandom(42);
  const n = Math.round((rate * LOOKBACK_MS) / 1000);
  const seen: Record<string, string[]> = {};
  for (let i = 0; i < n; i++) {
    const t = String(END - Math.floor(random() * LOOKBACK_MS));
    let id = '3';
    while (id.length < 56) id += String(Math.floor(random() * 1e14)).padStart(14, '0');
    id = id.slice(0, 56);
    (seen[t] ??= []).push(id);
  }
  const v1: CheckpointV1 = { v: 1, watermarkMs: END, seen, savedAt: new Date(END).toISOString() };
  const v2 = new ReadWindow(v1, { lookbackMs: LOOKBACK_MS, initialStartMs: 0, maxWindowMs: LOOKBACK_MS }).next([], END, new Date(END));
  const message = (v: unknown): number => Buffer.byteLength(JSON.stringify(v)) + Buffer.byteLength(KEY) + 128;
  return { ids: n, v1: message(v1), v2: message(v2) };
}

/**
 * The events/s at which `pick` of the sizes reaches `bytes`: the size grows almost linearly with the rate (a little
 * less, as more events share a millisecond key), so scaling the rate by bytes / size converges in a few rounds.
 */
function rateAt(bytes: number, pick: (s: { v1: number; v2: number }) => number): number {
  let rate = RATE;
  for (let i = 0; i < 6; i++) {
    const next = (rate * bytes) / pick(sizes(rate));
    if (Math.abs(next - rate) < 0.5) return Math.round(next);
    rate = next;
  }
  return Math.round(rate);
}

const s = sizes(RATE);
const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
process.stdout.write(`lookback ${LOOKBACK_MS / 1000} s, ${RATE} events/s: ${s.ids} ids\n`);
process.stdout.write(`  v1 (full ids): ${s.v1} B = ${kb(s.v1)}, ${(s.v1 / s.ids).toFixed(1)} B per id\n`);
process.stdout.write(`  v2 (digests):  ${s.v2} B = ${kb(s.v2)}, ${(s.v2 / s.ids).toFixed(1)} B per id (${(s.v1 / s.v2).toFixed(2)}x smaller)\n`);
const limit = CHECKPOINT_MAX_MESSAGE_BYTES;
for (const [name, pick] of [
  ['v1', (x: { v1: number }) => x.v1],
  ['v2', (x: { v2: number }) => x.v2],
] as const) {
  process.stdout.write(`  ${name}: WARN (80 % of ${limit} B) from ${rateAt(limit * 0.8, pick)} events/s per log group, limit from ${rateAt(limit, pick)} events/s\n`);
}
