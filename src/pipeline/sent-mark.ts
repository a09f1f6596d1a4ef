/**
 * How far the correlate role's output to `seam.events` reaches, committed with each `seam.signals` offset (Kafka
 * offset commit metadata, `BusConsumerOptions.commitMetadata`), so a rebuild does not send the events of the
 * re-read window again (docs/rules-rollout.md, "What survives a correlate restart").
 *
 * A partition's signals are handed to the detections in (event time, `seam.id`) order (src/pipeline/reorder.ts):
 * every signal the state has read that sorts at or before the last one released has been handed on (released, or
 * refused as late and handed on at once). The mark is that last released (time, id), taken only once the send of
 * what it covers has resolved, so what the role commits with offset C says: every signal before C that sorts at or
 * before the mark has its event on `seam.events` already.
 */
export interface SentMark {
  /** Event time, ms. */
  t: number;
  /** `seam.id` ('' for a signal without one). */
  id: string;
}

const TAG = 'seam-events-sent';

/** Does a signal with event time `t` and id `id` sort at or before `m` (the reorder buffer's order)? */
export function atOrBefore(t: number, id: string, m: SentMark): boolean {
  return t < m.t || (t === m.t && id <= m.id);
}

/** The later of two marks (either may be absent). */
export function laterMark(a: SentMark | undefined, b: SentMark | undefined): SentMark | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return atOrBefore(a.t, a.id, b) ? b : a;
}

/** The commit metadata for a mark (well under Kafka's 4 KiB `offset.metadata.max.bytes`: ids are hashes). */
export function encodeMark(m: SentMark): string | undefined {
  if (!Number.isFinite(m.t) || m.id.length > 1024) return undefined;
  return JSON.stringify({ [TAG]: 1, t: m.t, id: m.id });
}

/** A mark read back from commit metadata; undefined for none, or for metadata that is not one (never a guess). */
export function decodeMark(s: string | undefined | null): SentMark | undefined {
  if (typeof s !== 'string' || !s.includes(TAG)) return undefined;
  try {
    const o = JSON.parse(s) as Record<string, unknown>;
    if (o[TAG] !== 1 || typeof o.t !== 'number' || !Number.isFinite(o.t) || typeof o.id !== 'string') return undefined;
    return { t: o.t, id: o.id };
  } catch {
    return undefined;
  }
}
