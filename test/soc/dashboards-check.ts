/**
 * What can be proven about the dashboards without OpenSearch Dashboards running:
 * 1. every field a saved object names (time fields, aggregation fields, query fields, search columns and sort)
 *    exists in Seam's index templates (src/sinks/opensearch/templates.ts) for the index pattern it is read
 *    from, with a type the use needs (a date for a date histogram, an aggregatable type for terms...);
 * 2. every visualization's query and aggregations, and every saved search's query, executed against the real
 *    OpenSearch node over the demo's events, alerts, identity graph and incidents indexed under a unique prefix, return
 *    something (a bucket with documents, or hits).
 * The files checked are the shipped NDJSON files (deploy/opensearch/dashboards/), not the spec they come from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@opensearch-project/opensearch';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import type { IdentityDoc } from '../../src/identity/types.ts';
import { incidentUpdate } from '../../src/pipeline/incident-topic.ts';
import { INDEX_PATTERNS, type PatternKey } from '../../src/sinks/opensearch/dashboards.ts';
import { DASHBOARDS_DIR, dashboardPayloads } from '../../src/sinks/opensearch/dashboards-import.ts';
import { setupOpenSearch } from '../../src/sinks/opensearch/setup.ts';
import { OpenSearchSink } from '../../src/sinks/opensearch/sink.ts';
import { buildTemplates } from '../../src/sinks/opensearch/templates.ts';

interface Obj {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
}

interface Agg {
  id: string;
  type: string;
  schema: string;
  params: { field?: string; size?: number; include?: string; exclude?: string };
}

export interface DashboardsCheck {
  dashboards: number;
  visualizations: number;
  searches: number;
  fieldsChecked: number;
  fieldsMissing: string[];
  emptyPanels: string[];
  /** Index patterns whose index template is not in Seam yet (their fields cannot be checked). */
  pendingPatterns: string[];
  panels: { id: string; result: string }[];
}

type Use = 'time' | 'date_histogram' | 'terms' | 'minmax' | 'cardinality' | 'column' | 'sort' | 'query';
const AGGREGATABLE = new Set(['keyword', 'ip', 'boolean', 'date', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float']);
const NUMERIC_OR_DATE = new Set(['date', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float']);

function compatible(type: string, use: Use): boolean {
  switch (use) {
    case 'time':
    case 'date_histogram':
      return type === 'date';
    case 'terms':
    case 'cardinality':
    case 'sort':
      return AGGREGATABLE.has(type);
    case 'minmax':
      return NUMERIC_OR_DATE.has(type);
    case 'column':
    case 'query':
      return true;
  }
}

/** Field → type for every index pattern, flattened from the templates (object leaves, multi-fields). */
export function templateFields(prefix: string): Map<PatternKey, Map<string, string>> {
  const { componentTemplates, indexTemplates } = buildTemplates({ indexPrefix: prefix, shards: 1, replicas: 0, refreshIntervalMs: 1000 });
  const walk = (props: Record<string, unknown>, path: string, out: Map<string, string>): void => {
    for (const [name, raw] of Object.entries(props)) {
      const m = raw as { type?: string; properties?: Record<string, unknown>; fields?: Record<string, { type: string }> };
      const full = path ? `${path}.${name}` : name;
      if (m.properties) walk(m.properties, full, out);
      if (m.type) out.set(full, m.type);
      for (const [sub, f] of Object.entries(m.fields ?? {})) out.set(`${full}.${sub}`, f.type);
    }
  };
  const byPattern = new Map<PatternKey, Map<string, string>>();
  const eventsBase = componentTemplates.find((c) => c.name === `${prefix}-events-mappings`)!;
  for (const p of INDEX_PATTERNS) {
    const matching = indexTemplates.filter((t) => ((t.body.index_patterns as string[]) ?? []).some((ip) => ip.startsWith(`${prefix}-${p.suffix.replace(/\*$/, '')}`)));
    if (matching.length === 0) continue;
    const out = new Map<string, string>();
    for (const t of matching) {
      const composed = (t.body.composed_of as string[] | undefined) ?? [];
      if (composed.includes(eventsBase.name)) walk(((eventsBase.body.template as { mappings: { properties: Record<string, unknown> } }).mappings.properties), '', out);
      const props = (t.body.template as { mappings?: { properties?: Record<string, unknown> } }).mappings?.properties;
      if (props) walk(props, '', out);
    }
    byPattern.set(p.key, out);
  }
  return byPattern;
}

/** Field names a Lucene query string names (`field:value`, `_exists_:field`). */
export function queryFields(q: string): string[] {
  const out = new Set<string>();
  for (const m of q.matchAll(/(?:^|[\s(])(_exists_:)?([A-Za-z@_][\w.@-]*)\s*:/g)) {
    if (m[1] || m[2] === '_exists_') continue;
    out.add(m[2]!);
  }
  for (const m of q.matchAll(/_exists_:([\w.@-]+)/g)) out.add(m[1]!);
  return [...out];
}

function parseFiles(dir: string): Obj[] {
  const objs: Obj[] = [];
  for (const { file } of dashboardPayloads(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) if (line.trim() !== '') objs.push(JSON.parse(line) as Obj);
  }
  return objs;
}

function searchSourceOf(o: Obj): { query: string; pattern: string | undefined } {
  const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string } | undefined;
  const ss = JSON.parse(meta?.searchSourceJSON ?? '{}') as { query?: { query?: string; language?: string }; indexRefName?: string };
  const ref = o.references.find((r) => r.name === ss.indexRefName);
  if (ss.query?.language !== undefined && ss.query.language !== 'lucene') throw new Error(`${o.type} ${o.id}: query language ${ss.query.language}; the check runs Lucene queries only`);
  return { query: ss.query?.query ?? '', pattern: ref?.id };
}

/** Field checks for the shipped files. */
export function checkFields(prefix: string, dir: string = DASHBOARDS_DIR): Pick<DashboardsCheck, 'dashboards' | 'visualizations' | 'searches' | 'fieldsChecked' | 'fieldsMissing' | 'pendingPatterns'> & { objects: Obj[] } {
  const fields = templateFields(prefix);
  const objects = parseFiles(dir);
  const patternOf = new Map<string, PatternKey>();
  for (const o of objects.filter((x) => x.type === 'index-pattern')) {
    const p = INDEX_PATTERNS.find((ip) => o.attributes.title === `seam-${ip.suffix}`);
    if (!p) throw new Error(`index pattern ${o.id} has title ${String(o.attributes.title)}, which no Seam index pattern has`);
    patternOf.set(o.id, p.key);
  }
  const missing: string[] = [];
  const pending = new Set<string>();
  let checked = 0;
  const check = (o: Obj, patternId: string | undefined, field: string, use: Use): void => {
    const key = patternId === undefined ? undefined : patternOf.get(patternId);
    if (key === undefined) {
      missing.push(`${o.type} ${o.id}: refers to index pattern ${patternId}, which the files do not define`);
      return;
    }
    const f = fields.get(key);
    if (f === undefined) {
      pending.add(`${prefix}-${INDEX_PATTERNS.find((p) => p.key === key)!.suffix}`);
      missing.push(`${o.type} ${o.id}: ${field} on ${key}, which has no index template`);
      return;
    }
    checked++;
    const type = f.get(field);
    if (type === undefined) missing.push(`${o.type} ${o.id}: ${field} is not in the ${key} templates`);
    else if (!compatible(type, use)) missing.push(`${o.type} ${o.id}: ${field} is ${type}, which a ${use} cannot use`);
  };
  for (const o of objects) {
    if (o.type === 'index-pattern') {
      const key = patternOf.get(o.id)!;
      if (fields.has(key)) check(o, o.id, String(o.attributes.timeFieldName), 'time');
      else pending.add(String(o.attributes.title));
    } else if (o.type === 'visualization') {
      const { query, pattern } = searchSourceOf(o);
      const vis = JSON.parse(String(o.attributes.visState)) as { aggs: Agg[] };
      for (const a of vis.aggs) {
        if (a.params.field === undefined) continue;
        check(o, pattern, a.params.field, a.type === 'date_histogram' ? 'date_histogram' : a.type === 'terms' ? 'terms' : a.type === 'cardinality' ? 'cardinality' : 'minmax');
      }
      for (const f of queryFields(query)) check(o, pattern, f, 'query');
    } else if (o.type === 'search') {
      const { query, pattern } = searchSourceOf(o);
      for (const c of o.attributes.columns as string[]) check(o, pattern, c, 'column');
      for (const [f] of o.attributes.sort as [string, string][]) check(o, pattern, f, 'sort');
      for (const f of queryFields(query)) check(o, pattern, f, 'query');
    }
  }
  return {
    objects,
    dashboards: objects.filter((o) => o.type === 'dashboard').length,
    visualizations: new Set(objects.filter((o) => o.type === 'visualization').map((o) => o.id)).size,
    searches: new Set(objects.filter((o) => o.type === 'search').map((o) => o.id)).size,
    fieldsChecked: checked,
    fieldsMissing: [...new Set(missing)],
    pendingPatterns: [...pending],
  };
}

/**
 * The demo's output folder (`seam run --state-dir dir`) indexed under `prefix` through the real sink; its alerts'
 * incident updates merged into `<prefix>-incidents` as the index role merges `seam.incidents` (incidents and context
 * documents, ADR 0051).
 */
export async function indexDemo(client: Client, url: string, prefix: string, dir: string): Promise<{ events: number; alerts: number; identity: number; incidents: number }> {
  const read = <T>(f: string): T[] =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as T);
  await setupOpenSearch(client as never, { templates: { indexPrefix: prefix, shards: 1, replicas: 0, refreshIntervalMs: 1000 }, ism: 'skip' });
  const sink = await OpenSearchSink.fromConfig({ nodeUrls: [url], indexPrefix: prefix, replicas: 0 });
  const events = read<SeamEvent>('events.jsonl');
  const alerts = read<Alert>('alerts.jsonl');
  const identity = read<IdentityDoc>('identity.jsonl');
  let incidents = 0;
  try {
    const results = await sink.write([
      ...events.map((e) => ({ ...sink.eventTarget(e), doc: e })),
      ...alerts.map((a) => ({ ...sink.alertTarget(a), doc: a })),
      ...identity.map((d) => ({ ...sink.identityTarget(d), doc: d })),
    ]);
    const bad = results.filter((r) => r.status !== 'acked');
    if (bad.length > 0) throw new Error(`indexing the demo: ${bad.length} documents not acked, e.g. ${JSON.stringify(bad[0])}`);
    incidents = await sink.mergeIncidents(alerts.map((a) => incidentUpdate(a)));
  } finally {
    await sink.close();
  }
  await client.indices.refresh({ index: `${prefix}-*` });
  return { events: events.length, alerts: alerts.length, identity: identity.length, incidents };
}

/** Dashboards' aggregation tree for a visualization: bucket aggregations nested in order, metrics at every level. */
export function visToDsl(aggs: Agg[]): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  for (const a of aggs.filter((x) => x.schema === 'metric' && x.type !== 'count')) metrics[a.id] = { [a.type]: { field: a.params.field } };
  const buckets = aggs.filter((x) => x.schema !== 'metric');
  let inner: Record<string, unknown> | undefined;
  for (const b of [...buckets].reverse()) {
    const body: Record<string, unknown> =
      b.type === 'date_histogram'
        ? { date_histogram: { field: b.params.field, fixed_interval: '1m', min_doc_count: 1 } }
        : { terms: { field: b.params.field, size: b.params.size ?? 10, order: { _count: 'desc' }, ...(b.params.include ? { include: b.params.include } : {}), ...(b.params.exclude ? { exclude: b.params.exclude } : {}) } };
    body.aggs = { ...metrics, ...(inner ?? {}) };
    inner = { [b.id]: body };
  }
  return inner ?? metrics;
}

/** Runs every visualization and saved search over `prefix`'s indices; a panel with nothing to show is empty. */
export async function runPanels(client: Client, prefix: string, objects: Obj[]): Promise<{ emptyPanels: string[]; panels: { id: string; result: string }[] }> {
  const titles = new Map(INDEX_PATTERNS.map((p) => [`seam-${p.key}`, `${prefix}-${p.suffix}`]));
  const emptyPanels: string[] = [];
  const panels: { id: string; result: string }[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    if ((o.type !== 'visualization' && o.type !== 'search') || seen.has(o.id)) continue;
    seen.add(o.id);
    const { query, pattern } = searchSourceOf(o);
    const index = titles.get(pattern ?? '') ?? 'missing-pattern';
    const q = query.trim() === '' ? { match_all: {} } : { query_string: { query, analyze_wildcard: true } };
    let result: string;
    let empty: boolean;
    try {
      if (o.type === 'search') {
        const r = await client.search({ index, body: { size: 1, query: q, track_total_hits: true }, allow_no_indices: false } as never);
        const total = (r.body as { hits: { total: { value: number } } }).hits.total.value;
        result = `${total} hits`;
        empty = total === 0;
      } else {
        const vis = JSON.parse(String(o.attributes.visState)) as { aggs: Agg[] };
        const aggs = visToDsl(vis.aggs);
        const r = await client.search({ index, body: { size: 0, query: q, aggs, track_total_hits: true }, allow_no_indices: false } as never);
        const body = r.body as { hits: { total: { value: number } }; aggregations?: Record<string, { buckets?: { doc_count: number }[] }> };
        const top = vis.aggs.find((a) => a.schema !== 'metric');
        if (top === undefined) {
          result = `${body.hits.total.value} documents`;
          empty = body.hits.total.value === 0;
        } else {
          const buckets = (body.aggregations?.[top.id]?.buckets ?? []).filter((b) => b.doc_count > 0);
          result = `${buckets.length} buckets over ${body.hits.total.value} documents`;
          empty = buckets.length === 0;
        }
      }
    } catch (e) {
      result = `failed: ${(e as Error).message.slice(0, 300)}`;
      empty = true;
    }
    panels.push({ id: o.id, result });
    if (empty) emptyPanels.push(`${o.type} ${o.id}: ${result}`);
  }
  return { emptyPanels, panels };
}
