/**
 * From an alert to its events (`seam hunt --alert ID`, review-hunter M4): the alert document from
 * `<prefix>-alerts-*` (its `_id` is the alert id), then every event it names from `<prefix>-events-*` (an event's
 * `_id` is its `seam.id`), in event-time order. An alert names its evidence in `events` — for a correlation, the
 * events of every member alert or event it rests on, flattened when it was raised (src/detect/correlate/engine.ts),
 * so following `events` prints the events behind a correlation too — and, for a GuardDuty finding alert of
 * `seam-native-guardduty-incident`, the context it joined in `related_events`. Both are fetched with `ids`
 * queries; an id the index does not hold (aged out by retention, never indexed) is named, not skipped silently.
 */
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import type { HuntClient } from './hunt.ts';
import type { Dsl } from './query.ts';

/** Ids per `ids` query: OpenSearch's default `index.max_result_window` is 10,000; a page of 1000 stays far below. */
const CHUNK = 1000;

/** The alerts index pattern and the query `hunt --alert` reads the alert with. */
export function alertSearch(alertId: string, indexPrefix = 'seam'): { index: string; query: Dsl } {
  return { index: `${indexPrefix}-alerts-*`, query: { ids: { values: [alertId] } } };
}

/** The events index pattern and the query that fetches events by `seam.id` (one chunk of them). */
export function eventsByIdSearch(ids: readonly string[], indexPrefix = 'seam'): { index: string; query: Dsl } {
  return { index: `${indexPrefix}-events-*`, query: { ids: { values: [...ids] } } };
}

interface SearchBody<T> {
  _shards?: { failed?: number; failures?: { reason?: { reason?: string } }[] };
  hits?: { hits?: { _index: string; _id: string; _version?: number; _source: T }[] };
  error?: { reason?: string } | string;
}

function failure(what: string, b: SearchBody<unknown>): Error | undefined {
  if (b.error === undefined && (b._shards?.failed ?? 0) === 0) return undefined;
  const reason = typeof b.error === 'string' ? b.error : (b.error?.reason ?? b._shards?.failures?.[0]?.reason?.reason ?? 'on some shards');
  return new Error(`hunt --alert: ${what} failed: ${reason}`);
}

/**
 * The alert document with that id, or undefined when no alerts index holds it. An alert written early and then
 * final (ADR 0025) is one document (same id, external version); should two daily indices hold the id, the final
 * one (no `provisional`) with the highest version is read.
 */
export async function readAlert(client: HuntClient, alertId: string, indexPrefix?: string): Promise<{ alert: Alert; index: string } | undefined> {
  const { index, query } = alertSearch(alertId, indexPrefix);
  const resp = await client.search({ index, ignore_unavailable: true, allow_no_indices: true, version: true, body: { query, size: 10 } as never }, { ignore: [404] });
  const body = resp.body as unknown as SearchBody<Alert>;
  const err = failure('reading the alert', body);
  if (err !== undefined) throw err;
  const hits = [...(body.hits?.hits ?? [])].sort(
    (a, b) => Number(a._source.provisional === true) - Number(b._source.provisional === true) || (b._version ?? 0) - (a._version ?? 0) || a._index.localeCompare(b._index),
  );
  const h = hits[0];
  return h === undefined ? undefined : { alert: h._source, index: h._index };
}

export interface AlertEvents {
  /** The events found, evidence and context, each once, in event-time order (ties: `seam.id`). */
  events: { event: SeamEvent; related: boolean }[];
  /** `events` of the alert the index does not hold, in the alert's order. */
  missing: string[];
  /** `related_events` of the alert the index does not hold. */
  missingRelated: string[];
}

/** Fetches the events the alert names (`events`, then `related_events`) by `seam.id`. */
export async function fetchAlertEvents(client: HuntClient, alert: Pick<Alert, 'events' | 'related_events'>, indexPrefix?: string): Promise<AlertEvents> {
  const evidence = [...new Set(alert.events)];
  const evidenceSet = new Set(evidence);
  const related = [...new Set(alert.related_events ?? [])].filter((id) => !evidenceSet.has(id));
  const wanted = [...evidence, ...related];
  const found = new Map<string, SeamEvent>();
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const chunk = wanted.slice(i, i + CHUNK);
    const { index, query } = eventsByIdSearch(chunk, indexPrefix);
    const resp = await client.search({ index, ignore_unavailable: true, allow_no_indices: true, body: { query, size: chunk.length * 2 } as never }, { ignore: [404] });
    const body = resp.body as unknown as SearchBody<SeamEvent>;
    const err = failure('fetching its events', body);
    if (err !== undefined) throw err;
    // The same seam.id in two indices (a record re-indexed under another day) is one event: the first kept.
    for (const h of body.hits?.hits ?? []) if (!found.has(h._id)) found.set(h._id, h._source);
  }
  const relatedSet = new Set(related);
  const events = [...found.entries()]
    .map(([id, event]) => ({ event, related: relatedSet.has(id) }))
    .sort((a, b) => {
      const ta = Date.parse(a.event['@timestamp']);
      const tb = Date.parse(b.event['@timestamp']);
      return ta - tb || (a.event.seam.id < b.event.seam.id ? -1 : a.event.seam.id > b.event.seam.id ? 1 : 0);
    });
  return { events, missing: evidence.filter((id) => !found.has(id)), missingRelated: related.filter((id) => !found.has(id)) };
}
