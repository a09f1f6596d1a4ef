/**
 * `Date.parse` of an event time, remembered for the last string asked: the detect stage asks for the same
 * event's `@timestamp` a dozen times (reorder buffer, identity graph, each native detection), one event at a
 * time, so a one-entry memo answers nearly every call without parsing.
 */
let lastIso: string | undefined;
let lastMs = NaN;

/** Milliseconds since the epoch of an ISO 8601 time, NaN when it does not parse (exactly `Date.parse`). */
export function isoMs(iso: string): number {
  if (iso === lastIso) return lastMs;
  lastMs = Date.parse(iso);
  lastIso = iso;
  return lastMs;
}
