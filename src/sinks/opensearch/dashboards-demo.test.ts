import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../detect/alert.ts';
import { incidentUpdate, opensIncident, type IncidentDoc } from '../../pipeline/incident-topic.ts';
import { INCIDENTS_ONLY } from './dashboards.ts';
import { DASHBOARDS_DIR, dashboardPayloads } from './dashboards-import.ts';
import { KEYWORD_IGNORE_ABOVE } from './templates.ts';

// SOC review M7: the triage dashboard's "Incidents by identity" and its timeline bucketed high+ alerts on `origin.id`,
// so the alerts without an origin (alice's own CloudTrail calls and the correlations on them) were in no bucket.
// Without OpenSearch (test/soc runs the panels on a real node), the closest honest check: the demo as `npm start`
// runs it, its alerts.jsonl as the index holds it (one document per alert id, the last version), and the shipped
// saved objects' own query and terms field applied to those documents. A terms aggregation over a keyword field
// buckets exactly the documents that have a value (indexed: not over ignore_above), `size` buckets at most.

const ROOT = resolve(import.meta.dirname, '../../..');

interface SavedObject {
  type: string;
  id: string;
  attributes: { visState?: string; columns?: string[]; kibanaSavedObjectMeta?: { searchSourceJSON: string } };
  references: { name: string; id: string }[];
}

let dir: string;
let alerts: Alert[];
let incidentDocs: IncidentDoc[];
let objects: Map<string, SavedObject>;

const jsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
/** What an index holds of documents written by id: the last write of each. */
const lastById = <T extends { id: string }>(docs: T[]): T[] => [...new Map(docs.map((d) => [d.id, d])).values()];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-dash-demo-'));
  // `npm start`: the embedded run over the bundled demo (no Kafka, no OpenSearch, no seam.yml).
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--state-dir', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: 'off' },
  });
  expect(r.status, r.stderr).toBe(0);
  alerts = lastById(jsonl<Alert>(join(dir, 'alerts.jsonl')));
  incidentDocs = lastById(jsonl<IncidentDoc>(join(dir, 'incidents.jsonl')));
  objects = new Map();
  for (const { ndjson } of dashboardPayloads(DASHBOARDS_DIR)) {
    for (const line of ndjson.split('\n')) {
      if (line.trim() === '') continue;
      const o = JSON.parse(line) as SavedObject;
      objects.set(o.id, o);
    }
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A dotted field of a document (`rule.level`, `origin.id`). */
function valueOf(doc: unknown, field: string): unknown {
  let v: unknown = doc;
  for (const k of field.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * The Lucene queries the saved objects use, evaluated on a document: `field:value`, `field:(a OR b …)` and
 * `NOT <one of those>`. Anything else throws: the test must not guess what OpenSearch would do.
 */
function matches(query: string, doc: unknown): boolean {
  const m = /^(NOT\s+)?([\w.@-]+):(?:\(([^()]+)\)|([^\s()]+))$/.exec(query.trim());
  if (m === null) throw new Error(`query not understood by this test: ${query}`);
  const values = m[3] !== undefined ? m[3].split(/\s+OR\s+/).map((s) => s.trim()) : [m[4]!];
  const v = valueOf(doc, m[2]!);
  const hit = (Array.isArray(v) ? v : [v]).some((x) => values.includes(String(x)));
  return m[1] === undefined ? hit : !hit;
}

function queryOf(o: SavedObject): string {
  return (JSON.parse(o.attributes.kibanaSavedObjectMeta!.searchSourceJSON) as { query: { query: string } }).query.query;
}

function termsOf(o: SavedObject): { field: string; size: number }[] {
  const vis = JSON.parse(o.attributes.visState!) as { aggs: { type: string; params: { field?: string; size?: number } }[] };
  return vis.aggs.filter((a) => a.type === 'terms').map((a) => ({ field: a.params.field!, size: a.params.size! }));
}

/** What a terms aggregation on `field` (at most `size` buckets) over `docs` returns: bucket key → documents. */
function termsBuckets(docs: readonly unknown[], field: string, size: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of docs) {
    const v = valueOf(d, field);
    if (typeof v !== 'string' || v.length > KEYWORD_IGNORE_ABOVE) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return new Map([...counts].sort((x, y) => y[1] - x[1]).slice(0, size));
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

describe('the triage dashboard over the demo (npm start), as the alerts index holds it', () => {
  it('"Incidents by identity" and its timeline bucket every high+ alert: the bucket sum is the high+ count', () => {
    for (const id of ['seam-triage-identities', 'seam-triage-timeline']) {
      const o = objects.get(id)!;
      expect(o.references[0]!.id).toBe('seam-alerts');
      const high = alerts.filter((a) => matches(queryOf(o), a));
      expect(high.map((a) => a.rule.level).every((l) => l === 'high' || l === 'critical')).toBe(true);
      expect(high.length).toBeGreaterThan(0);
      const [terms] = termsOf(o);
      expect(terms!.field).toBe('incident_key');
      const buckets = termsBuckets(high, terms!.field, terms!.size);
      expect(sum(buckets), `${id}: ${JSON.stringify([...buckets])}`).toBe(high.length);
      // One bucket per high or critical incident, as incidents.jsonl has them (alice's and ci-deployer's).
      const serious = incidentDocs.filter((d) => d.status !== 'context' && (d.level === 'high' || d.level === 'critical'));
      expect([...buckets.keys()].sort()).toEqual([...new Set(serious.map((d) => d.key))].sort());
      expect(buckets.size).toBeGreaterThanOrEqual(2);
      // What the panels did before (origin.id): the high+ alerts of alice's own calls, which have no origin, had no bucket
      // (4 of 13 at the review; 4 of 15 on 2026-12-05 after the fold, ADR 0050).
      const byOrigin = sum(termsBuckets(high, 'origin.id', terms!.size));
      expect(byOrigin).toBeLessThan(high.length);
      expect(high.filter((a) => a.origin === undefined).length).toBe(high.length - byOrigin);
    }
  });

  it('every alert carries the key its incident is grouped by (incidentUpdate), and the medium+ keys are the incidents\'', () => {
    for (const a of alerts) expect(a.incident_key, a.id).toBe(incidentUpdate(a).key);
    const incidents = incidentDocs.filter((d) => d.status !== 'context');
    expect(new Set(alerts.filter((a) => opensIncident(a.rule.level)).map((a) => a.incident_key))).toEqual(new Set(incidents.map((d) => d.key)));
  });

  it('the high+ alert list shows incident_key', () => {
    expect(objects.get('seam-search-high-critical-alerts')!.attributes.columns).toContain('incident_key');
  });

  it('visualizations and searches on the incidents index leave out context documents (ADR 0051)', () => {
    const onIncidents = [...objects.values()].filter((o) => (o.type === 'visualization' || o.type === 'search') && o.references.some((r) => r.id === 'seam-incidents'));
    expect(onIncidents.map((o) => o.id).sort()).toEqual(['seam-incidents-by-level', 'seam-search-incidents']);
    const context = incidentDocs.filter((d) => d.status === 'context');
    expect(context.length).toBeGreaterThan(0);
    for (const o of onIncidents) {
      expect(queryOf(o)).toBe(INCIDENTS_ONLY);
      const shown = incidentDocs.filter((d) => matches(queryOf(o), d));
      expect(shown.length).toBe(incidentDocs.length - context.length);
      expect(shown.map((d) => d.id).sort()).toEqual(['inc-847b26ca750c', 'inc-9d260b075cad']);
    }
  });
});
