/**
 * Where incident pages get their data: `seam run`'s output folder (alerts.jsonl, events.jsonl) or the
 * OpenSearch indices the index role writes. Both build incidents with the same grouping as `seam run`
 * (src/pipeline/incident.ts), then gather the events each page needs.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments } from 'yaml';
import type { Client } from '@opensearch-project/opensearch';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { incidentsFrom, type Incident } from '../pipeline/incident.ts';
import { incidentRisk } from '../pipeline/incident-topic.ts';
import { splitDescription } from '../detect/triage.ts';
import { callerKeys, isCallOf, neededEventIds, type IncidentPage, type RuleNote } from './incident-model.ts';
import { BEFORE_ROWS, BeforeCollector, beforeQuery, beforeTargets, beforeWindow, type BeforeSection } from './incident-before.ts';

async function* jsonLines(file: string): AsyncGenerator<Record<string, unknown>> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}:${n}: not JSON (${(e as Error).message})`, { cause: e });
    }
  }
}

/** The triage notes of every rule in `rules` (Sigma YAML files or folders, by id and name; missing paths skipped) and of the native detections. */
export async function loadRuleNotes(rules: string | readonly string[] | undefined): Promise<Map<string, RuleNote>> {
  const notes = new Map<string, RuleNote>();
  const { NATIVE_DETECTIONS } = await import('../detect/native/registry.ts');
  for (const d of Object.values(NATIVE_DETECTIONS)) notes.set(d.id, { description: d.description, triage: d.triage });
  const read = (p: string): void => {
    for (const doc of parseAllDocuments(readFileSync(p, 'utf8'))) {
      const r = doc.toJS() as { id?: unknown; name?: unknown; description?: unknown } | null;
      if (r === null || typeof r !== 'object' || typeof r.description !== 'string') continue;
      const parts = splitDescription(r.description);
      const note: RuleNote = { description: parts.description };
      if (parts.triage !== undefined) note.triage = parts.triage;
      if (typeof r.id === 'string') notes.set(r.id, note);
      if (typeof r.name === 'string') notes.set(r.name, note);
    }
  };
  // The same files the rule loader reads (symlinked folders followed, tests and hidden files left out).
  const { ruleFilesUnder } = await import('../detect/sigma/ruleset.ts');
  const paths = (rules === undefined ? [] : typeof rules === 'string' ? [rules] : [...rules]).filter((p) => existsSync(p));
  for (const p of ruleFilesUnder(paths).files) read(p);
  return notes;
}

const LEVEL_ORDER: readonly Incident['level'][] = ['informational', 'low', 'medium', 'high', 'critical'];
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `--latest`: open incidents first, then the highest level among them, then the highest risk (the incidents index's
 * `risk`, ADR 0015: a critical incident of 33 alerts before a critical incident of one), then the one that ended last
 * (ties: the greater id). Open means open as of the newest alert in the data: no quiet window (`closesAt`) has passed
 * since its last alert, and no later incident of its identity closed it. So an old critical incident, closed or long
 * quiet, does not shadow today's open high one; only when none is open (never after `seam run`: the incident with
 * the newest alert is open) is the choice among the closed ones. `why` says so in a line.
 */
export function latestIncident(incidents: readonly Incident[]): { incident: Incident; why: string } {
  if (incidents.length === 0) throw new Error('no incidents: the alerts do not form any');
  const asOf = incidents.reduce((m, i) => (i.end > m ? i.end : m), incidents[0]!.end);
  const isOpen = (i: Incident): boolean => i.status === 'open' && Date.parse(i.closesAt) >= Date.parse(asOf);
  const open = incidents.filter(isOpen);
  const pool = open.length > 0 ? open : incidents;
  const top = Math.max(...pool.map((i) => LEVEL_ORDER.indexOf(i.level)));
  const worst = pool.filter((i) => LEVEL_ORDER.indexOf(i.level) === top);
  const risk = new Map(worst.map((i) => [i, incidentRisk(i.alerts)]));
  const ranked = [...worst].sort((a, b) => risk.get(b)! - risk.get(a)! || (a.end < b.end ? 1 : a.end > b.end ? -1 : a.id < b.id ? 1 : -1));
  const incident = ranked[0]!;
  const level = LEVEL_ORDER[top]!;
  const state = open.length > 0 ? 'open' : 'closed';
  const among =
    open.length > 0
      ? `the highest level among ${plural(open.length, 'open incident')} of ${incidents.length} as of ${asOf}`
      : `none of ${plural(incidents.length, 'incident')} is open as of ${asOf}; the highest level among them`;
  const r = (i: Incident): string => String(Math.round(risk.get(i)! * 10) / 10);
  const tied = worst.filter((i) => risk.get(i) === risk.get(incident)).length;
  const why =
    worst.length === 1
      ? `the only ${state} ${level} incident (${among})`
      : tied === 1
        ? `the highest risk (${r(incident)}; next ${r(ranked[1]!)}) of ${worst.length} ${state} ${level} incidents (${among})`
        : `the last to end of ${tied}${tied < worst.length ? ` of ${worst.length}` : ''} ${state} ${level} incidents at the highest risk, ${r(incident)} (${among})`;
  return { incident, why };
}

/** Picks one incident: by id (`inc-…`, or a unique prefix), by incident key (or an identity name its scoped key ends in), or `--latest` (open first, then the highest level, then the highest risk, then the last to end: `latestIncident`). */
export function pickIncident(incidents: readonly Incident[], want: { id?: string; latest?: boolean }): Incident {
  if (incidents.length === 0) throw new Error('no incidents: the alerts do not form any');
  if (want.latest || want.id === undefined) return latestIncident(incidents).incident;
  const id = want.id;
  const exact = incidents.filter((i) => i.id === id);
  if (exact.length === 1) return exact[0]!;
  // An identity key names its latest incident (ADR 0020: an identity can have several over time).
  const newestFirst = (a: Incident, b: Incident): number => (a.end < b.end ? 1 : a.end > b.end ? -1 : 0);
  const byKey = incidents.filter((i) => i.key === id).sort(newestFirst);
  if (byKey.length > 0) return byKey[0]!;
  // A name without its scope (`system:anonymous` for `eks:<account>:<cluster>/system:anonymous`, ADR 0048): its
  // latest incident when one cluster or account has it, else say which keys it could mean.
  const byName = incidents.filter((i) => i.key.endsWith('/' + id)).sort(newestFirst);
  const names = [...new Set(byName.map((i) => i.key))].sort();
  if (names.length === 1) return byName[0]!;
  if (names.length > 1) throw new Error(`'${id}' has incidents under ${names.length} keys (ADR 0048: one per cluster or account): ${names.join(', ')}; name one of them, or an incident id`);
  const hits = incidents.filter((i) => id.length >= 6 && i.id.startsWith(id));
  if (hits.length === 1) return hits[0]!;
  const known = incidents.map((i) => `${i.id} (${i.key}, ${plural(i.alerts.length, 'alert')}, ${i.status})`).join('; ');
  throw new Error(hits.length === 0 ? `no incident '${id}'; incidents: ${known}` : `'${id}' names ${hits.length} incidents; incidents: ${known}`);
}

/** Incidents from a `seam run` output folder (its alerts.jsonl). */
export async function incidentsFromFolder(dir: string): Promise<Incident[]> {
  const file = join(dir, 'alerts.jsonl');
  if (!existsSync(file)) throw new Error(`${file} not found: run \`seam run --state-dir ${dir}\` first, or pass --input <folder with alerts.jsonl and events.jsonl>`);
  const alerts: Alert[] = [];
  for await (const a of jsonLines(file)) alerts.push(a as unknown as Alert);
  return incidentsFrom(alerts);
}

/** The page data for incidents from a `seam run` output folder: one pass over events.jsonl for all of them. */
export async function pagesFromFolder(dir: string, incidents: readonly Incident[], notes: ReadonlyMap<string, RuleNote>): Promise<IncidentPage[]> {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) throw new Error(`${file} not found: the incident page needs the events behind the alerts`);
  const wanted = incidents.map((inc) => ({ inc, ids: neededEventIds(inc), keys: callerKeys(inc), events: new Map<string, SeamEvent>(), calls: [] as SeamEvent[] }));
  for await (const raw of jsonLines(file)) {
    const e = raw as SeamEvent;
    if (e.seam === undefined) continue;
    for (const w of wanted) {
      if (w.ids.has(e.seam.id)) w.events.set(e.seam.id, e);
      if (isCallOf(e, w.keys, w.inc)) w.calls.push(e);
    }
  }
  // A second pass for the hour before each incident: who else to look for (a granter) is known from its evidence,
  // found in the first. Memory stays bounded (a few rows per identity), whatever the file's size.
  const collectors = wanted.map((w) => new BeforeCollector(w.inc, beforeTargets(w.inc, w.events)));
  for await (const raw of jsonLines(file)) {
    const e = raw as SeamEvent;
    if (e.seam === undefined || typeof e['@timestamp'] !== 'string') continue;
    for (const c of collectors) c.add(e);
  }
  return wanted.map((w, i) => ({ id: w.inc.id, incident: w.inc, events: w.events, awsCalls: w.calls, notes, source: dir, before: collectors[i]!.result() }));
}

const SEARCH_CAP = 10_000;

/** Incidents from the alerts index (`<prefix>-alerts-*`): the same grouping `seam run` applies, over the newest alerts. */
export async function incidentsFromOpenSearch(client: Client, prefix: string, range: { from?: string; to?: string } = {}): Promise<Incident[]> {
  const ts: Record<string, string> = {};
  if (range.from) ts.gte = range.from;
  if (range.to) ts.lte = range.to;
  const res = await client.search({
    index: `${prefix}-alerts-*`,
    body: { size: SEARCH_CAP, sort: [{ '@timestamp': 'desc' }], query: Object.keys(ts).length ? { range: { '@timestamp': ts } } : { match_all: {} } },
    ignore_unavailable: true,
    allow_no_indices: true,
  } as never);
  const hits = (res.body as { hits: { hits: { _source: Alert }[] } }).hits.hits;
  return incidentsFrom(hits.map((h) => h._source));
}

/** The page data for one incident from the event indices (`<prefix>-events-*`). */
export async function pageFromOpenSearch(client: Client, prefix: string, inc: Incident, notes: ReadonlyMap<string, RuleNote>, source: string): Promise<IncidentPage> {
  const index = `${prefix}-events-*`;
  const ids = [...neededEventIds(inc)];
  const events = new Map<string, SeamEvent>();
  for (let i = 0; i < ids.length; i += 1000) {
    const res = await client.search({ index, body: { size: 1000, query: { terms: { 'seam.id': ids.slice(i, i + 1000) } } }, ignore_unavailable: true, allow_no_indices: true } as never);
    for (const h of (res.body as { hits: { hits: { _source: SeamEvent }[] } }).hits.hits) events.set(h._source.seam.id, h._source);
  }
  const keys = [...callerKeys(inc)];
  const awsCalls: SeamEvent[] = [];
  if (keys.length > 0) {
    const res = await client.search({
      index: `${prefix}-events-cloudtrail-*`,
      body: {
        size: 1000,
        sort: [{ '@timestamp': 'asc' }],
        query: {
          bool: {
            filter: [
              { bool: { should: [{ terms: { 'seam.principal.arn': keys } }, { terms: { 'seam.principal.access_key_id': keys } }], minimum_should_match: 1 } },
              { range: { '@timestamp': { gte: new Date(Date.parse(inc.start) - 60_000).toISOString(), lte: new Date(Date.parse(inc.end) + 60_000).toISOString() } } },
            ],
          },
        },
      },
      ignore_unavailable: true,
      allow_no_indices: true,
    } as never);
    const ks = new Set(keys);
    for (const h of (res.body as { hits: { hits: { _source: SeamEvent }[] } }).hits.hits) if (isCallOf(h._source, ks, inc)) awsCalls.push(h._source);
  }
  return { id: inc.id, incident: inc, events, awsCalls, notes, source, before: await beforeFromOpenSearch(client, index, inc, events) };
}

/** Most events of the window read from the index, newest first; the total comes from the count (what is not read is counted as left out). */
const BEFORE_READ = 1000;

/**
 * The "Before" section from the event indices: the targets' events in the hour before the first alert (newest
 * first, at most BEFORE_READ read, each checked as the folder checks it) and the earliest event the indices hold.
 * A search OpenSearch refuses is said on the page (`unavailable`), not shown as an empty hour.
 */
async function beforeFromOpenSearch(client: Client, index: string, inc: Incident, events: ReadonlyMap<string, SeamEvent>): Promise<BeforeSection> {
  const targets = beforeTargets(inc, events);
  const window = beforeWindow(inc);
  const c = new BeforeCollector(inc, targets, window, BEFORE_ROWS);
  try {
    const res = await client.search({
      index,
      body: { size: BEFORE_READ, sort: [{ '@timestamp': 'desc' }], track_total_hits: true, query: beforeQuery(targets, window) },
      ignore_unavailable: true,
      allow_no_indices: true,
    } as never);
    const body = res.body as { hits: { total?: { value: number } | number; hits: { _source: SeamEvent }[] } };
    for (const h of body.hits.hits) c.add(h._source);
    const first = await client.search({ index, body: { size: 0, aggs: { first: { min: { field: '@timestamp' } } } }, ignore_unavailable: true, allow_no_indices: true } as never);
    const min = (first.body as { aggregations?: { first?: { value_as_string?: string } } }).aggregations?.first?.value_as_string;
    const section = c.result(min !== undefined ? { dataFrom: min } : {});
    const total = typeof body.hits.total === 'number' ? body.hits.total : (body.hits.total?.value ?? 0);
    const read = body.hits.hits.length;
    // Hits past the first BEFORE_READ were not read: say they exist rather than show fewer than there are.
    return read < total ? { ...section, unread: total - read } : section;
  } catch (e) {
    return { ...window, subjects: [], unavailable: `the event indices did not answer the search (${(e as Error).message})` };
  }
}
