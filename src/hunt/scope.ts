/**
 * What a hunt searches, checked before and after it (review-soc M5): a pattern no index matches (a wrong prefix, a
 * config naming another cluster, an indexer that never ran) or a time window without events must not read as
 * "0 matches", which an analyst writes into a ticket as "this identity did nothing".
 */
import type { HuntClient } from './hunt.ts';
import type { Dsl } from './query.ts';

const SOURCES = 'cloudtrail|k8s_audit|guardduty|runtime';

/**
 * The names of the open indices `pattern` matches (`GET _resolve/index/<pattern>`); undefined when the node does
 * not answer that (a role without the permission, a proxy refusing it): the hunt then goes on unchecked.
 */
export async function resolveIndices(client: HuntClient, pattern: string): Promise<string[] | undefined> {
  try {
    const r = await client.indices.resolveIndex({ name: pattern, expand_wildcards: 'open' }, { ignore: [404] });
    const body = r.body as unknown as { indices?: { name: string }[]; error?: unknown };
    if (r.statusCode === 404) return [];
    if (body.error !== undefined || !Array.isArray(body.indices)) return undefined;
    return body.indices.map((i) => i.name);
  } catch (e) {
    const status = (e as { meta?: { statusCode?: number } }).meta?.statusCode;
    if (status !== undefined) return undefined;
    throw e;
  }
}

/** The index prefixes that hold Seam event indices on the node (`<prefix>-events-<source>-…`), sorted. */
export async function eventIndexPrefixes(client: HuntClient): Promise<string[]> {
  const names = (await resolveIndices(client, '*-events-*')) ?? [];
  const re = new RegExp(`^(.+)-events-(?:${SOURCES})-`);
  return [...new Set(names.flatMap((n) => re.exec(n)?.[1] ?? []))].sort();
}

/** The time filter of a hunt's window, if it has bounds. */
export function timeFilter(from: string | undefined, to: string | undefined): Dsl[] {
  return from || to ? [{ range: { '@timestamp': { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } }] : [];
}

export interface EventSpan {
  /** Events in the window (all of them without bounds). */
  inWindow: number;
  /** Events in the pattern, and the first and last `@timestamp` among them. */
  total: number;
  first?: string;
  last?: string;
}

/** How many events the pattern holds in the window and overall, and when its events start and end. */
export async function eventSpan(client: HuntClient, pattern: string, from?: string, to?: string): Promise<EventSpan> {
  const time = timeFilter(from, to);
  const resp = await client.search(
    {
      index: pattern,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: {
        size: 0,
        track_total_hits: true,
        aggs: { first: { min: { field: '@timestamp' } }, last: { max: { field: '@timestamp' } }, ...(time.length > 0 ? { window: { filter: time[0] } } : {}) },
      } as never,
    },
    { ignore: [404] },
  );
  const body = resp.body as unknown as {
    hits?: { total?: { value?: number } | number };
    aggregations?: { first?: { value_as_string?: string }; last?: { value_as_string?: string }; window?: { doc_count?: number } };
  };
  const t = body.hits?.total;
  const total = typeof t === 'number' ? t : (t?.value ?? 0);
  const a = body.aggregations;
  return {
    total,
    inWindow: time.length > 0 ? (a?.window?.doc_count ?? 0) : total,
    ...(a?.first?.value_as_string ? { first: a.first.value_as_string } : {}),
    ...(a?.last?.value_as_string ? { last: a.last.value_as_string } : {}),
  };
}

/** `between X and Y`, `since X`, `until Y` or '' for a hunt's window. */
export function windowText(from: string | undefined, to: string | undefined): string {
  if (from && to) return ` between ${from} and ${to}`;
  if (from) return ` since ${from}`;
  if (to) return ` until ${to}`;
  return '';
}
