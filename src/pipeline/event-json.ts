import type { SeamEvent } from '../core/envelope.ts';
import type { ByteRun } from './byte-run.ts';

/**
 * An event's JSON in parts around its top-level `seam` value (ADR 0026), so the correlate role can write an
 * annotated event as the bytes stage 1 wrote up to that value, followed by the annotated `seam`, instead of
 * serializing the whole event again: the identity graph writes onto `event.seam` only (`DetectStage`), and
 * `JSON.stringify` of a parsed `JSON.stringify` output is that output again (same key order, escapes and
 * numbers), so the bytes are those `JSON.stringify` of the annotated event gives.
 *
 * - a string or bytes: the event's JSON, whole;
 * - `SplitJson` (stage 1): the event's JSON without `seam`, and `seam`'s JSON;
 * - `SplicedJson` (the correlate role): the bytes of the event's JSON up to its `seam` value (`{…,"seam":`),
 *   and `seam`'s JSON.
 */
export type EventJson = string | Buffer | SplitJson | SplicedJson;

export interface SplitJson {
  /** `JSON.stringify` of the event with `seam` set aside: `{…}`. */
  rest: string;
  seam: string;
}

export interface SplicedJson {
  head: Uint8Array;
  seam: string;
}

const SEAM_KEY = Buffer.from('"seam":');
const COMMA_SEAM_KEY = Buffer.from(',"seam":');

/**
 * The JSON of a normalized event, in two parts when `seam` is its last key (always, but for a raw record
 * that has a top-level `seam` of its own, whose place the envelope takes): the same text as
 * `JSON.stringify(ev)` either way. Throws where `JSON.stringify` would.
 */
export function eventJson(ev: SeamEvent): string | SplitJson {
  const seam = (ev as { seam?: unknown }).seam;
  if (typeof seam !== 'object' || seam === null) return JSON.stringify(ev);
  const keys = Object.keys(ev);
  if (keys[keys.length - 1] !== 'seam') return JSON.stringify(ev);
  // JSON.stringify leaves out a key whose value is undefined: the rest of the event, in its order.
  (ev as { seam?: unknown }).seam = undefined;
  let rest: string;
  try {
    rest = JSON.stringify(ev);
  } finally {
    (ev as { seam?: unknown }).seam = seam;
  }
  return { rest, seam: JSON.stringify(seam) };
}

/**
 * Writes an event's JSON into `run`; returns where its `seam` value starts, in bytes from the event's first
 * byte, or -1 when the parts do not say.
 */
export function writeEventJson(run: ByteRun, json: EventJson): number {
  if (typeof json === 'string') {
    run.text(json);
    return -1;
  }
  if (json instanceof Uint8Array) {
    run.bytes(json);
    return -1;
  }
  const start = run.length;
  if ('rest' in json) {
    run.text(json.rest);
    run.drop(1); // its closing brace
    run.bytes(json.rest === '{}' ? SEAM_KEY : COMMA_SEAM_KEY);
  } else run.bytes(json.head);
  const at = run.length - start;
  run.text(json.seam);
  run.byte(0x7d);
  return at;
}

/** An event's JSON as one string (tests, the single-event messages of a batcher without partitions). */
export function eventJsonText(json: EventJson): string {
  if (typeof json === 'string') return json;
  if (json instanceof Uint8Array) return Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
  if ('rest' in json) return `${json.rest.slice(0, -1)}${json.rest === '{}' ? '' : ','}"seam":${json.seam}}`;
  return `${Buffer.from(json.head.buffer, json.head.byteOffset, json.head.byteLength).toString('utf8')}${json.seam}}`;
}

/** An event's JSON as bytes. */
export function eventJsonBytes(json: EventJson): Buffer {
  return json instanceof Buffer ? json : Buffer.from(eventJsonText(json));
}
