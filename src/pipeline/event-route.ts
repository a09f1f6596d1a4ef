import type { BusMessage, ConsumedMessage } from '../bus/types.ts';
import { SOURCE_TYPES, type SeamEvent, type SourceType } from '../core/envelope.ts';
import type { EventRouting } from '../sinks/opensearch/sink.ts';

/**
 * What the index role needs to place an event, carried next to it on `seam.events` so the event is
 * never parsed there: its bytes go to OpenSearch as the normalize role wrote them. The key is the
 * `_id` (`seam.id`); one header holds `[source, @timestamp, received_at]` as JSON. A message
 * without the header (an older producer, a hand-written record) is parsed as before.
 */
export const EVENT_ROUTE_HEADER = 'seam-route';

const SOURCES = new Set<string>(SOURCE_TYPES);

export function eventMessage(topic: string, ev: SeamEvent, json: Buffer): BusMessage {
  const route = JSON.stringify([ev.seam.source, ev['@timestamp'], ev.seam.ingest?.received_at ?? null]);
  return { topic, key: ev.seam.id, value: json, headers: { [EVENT_ROUTE_HEADER]: route } };
}

/** The routing fields of a `seam.events` message from its key and header, or undefined when it has none (parse it). */
export function routeOf(m: ConsumedMessage): EventRouting | undefined {
  const h = m.headers?.[EVENT_ROUTE_HEADER];
  if (h === undefined || m.key === null || m.key === '') return undefined;
  try {
    const r = JSON.parse(h) as unknown;
    if (!Array.isArray(r) || r.length !== 3) return undefined;
    const [source, ts, received] = r as unknown[];
    if (typeof source !== 'string' || !SOURCES.has(source) || typeof ts !== 'string') return undefined;
    return {
      '@timestamp': ts,
      seam: { id: m.key, source: source as SourceType, ...(typeof received === 'string' ? { ingest: { received_at: received } } : {}) },
    };
  } catch {
    return undefined;
  }
}
