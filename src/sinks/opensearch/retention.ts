/**
 * Retention of the two single indices (review platsec M8): `<prefix>-identity` and `<prefix>-incidents` are updated
 * in place, with no daily rollover, so an ISM delete (index age) would drop the whole index, current state included.
 * They age out document by document instead, with a delete-by-query that `seam setup opensearch` runs under the setup
 * role (the index role may not delete anything: deploy/opensearch/fgac-roles.json):
 *
 * - identity: one document per edge version (src/identity/record.ts); a version is written when it opens and again
 *   when it closes, never on use (steady traffic emits no facts), so the index holds no last-seen time. A version
 *   whose `valid_to` is older than the cutoff and that Seam wrote (`indexed_at`) before the cutoff is history and
 *   goes; an open version (no `valid_to`: a mapping, a binding, an IRSA annotation still in force, however old) is
 *   current state and stays. Written time, not event time alone: the demo's 2024 story, or last year's CloudTrail
 *   replayed for an investigation, would otherwise lose its closed versions at the next setup run while the alerts
 *   and events they explain (daily indices, aged from their creation) stay 400 days (fresh-user walkthrough).
 * - incidents: an identity's incidents are one series (ADR 0020) that the merge reads through its first document
 *   (`episodes`); deleting some of them would make the next alert of that identity open episode 1 again beside an
 *   incident still open. So a whole series goes, once none of its documents (context document included) was written
 *   by Seam (`updated_at`: an alert joined, it closed, its level rose) within the retention.
 */
import { identityIndexName, incidentsIndexName } from './templates.ts';

export interface AgeOutOptions {
  /** Days after a version's `valid_to` before it is deleted from `<prefix>-identity`. */
  identityDays: number;
  /** Days without a Seam write to any incident of a series before the series is deleted from `<prefix>-incidents`. */
  incidentsDays: number;
}

export interface AgeOutAction {
  kind: 'retention';
  name: string;
  action: 'deleted' | 'would delete' | 'unchanged';
  note: string;
}

type Call = (method: string, path: string, body?: unknown, querystring?: Record<string, unknown>) => Promise<{ statusCode: number | null; body: unknown }>;

const DAY_MS = 86_400_000;
/** Series ids per delete-by-query (a terms query; well under the index's max_terms_count of 65 536). */
const SERIES_PER_DELETE = 1000;

/** Deletes (or, dry, counts) what is past retention in the identity and incidents indices. */
export async function ageOutSingleIndices(call: Call, prefix: string, o: AgeOutOptions & { dryRun?: boolean; nowMs?: number }, report: (a: AgeOutAction) => void): Promise<void> {
  const nowMs = o.nowMs ?? Date.now();
  const identity = identityIndexName(prefix);
  const identityCutoff = new Date(nowMs - o.identityDays * DAY_MS).toISOString();
  // Closed before the cutoff and not written by Seam since: a version of last year's logs replayed today is kept as
  // long as the alerts it explains (their daily indices age from their creation). One written before indexed_at
  // existed (no field) ages by valid_to alone, as it did.
  const closed = { bool: { filter: [{ range: { valid_to: { lt: identityCutoff } } }], must_not: [{ range: { indexed_at: { gte: identityCutoff } } }] } };
  const n = await remove(call, identity, closed, o.dryRun);
  report(action(identity, n, o.dryRun, `edge versions closed before ${identityCutoff} and not written since (ism.identityRetentionDays ${o.identityDays}); open versions stay`));

  const incidents = incidentsIndexName(prefix);
  const incidentsCutoff = new Date(nowMs - o.incidentsDays * DAY_MS).toISOString();
  const quiet = await quietSeries(call, incidents, incidentsCutoff);
  const old = { range: { updated_at: { lt: incidentsCutoff } } };
  let m = 0;
  // A document written since the series was found quiet (a new alert) is left: `old` holds on each one deleted.
  for (let i = 0; i < quiet.series.length; i += SERIES_PER_DELETE) {
    m += await remove(call, incidents, { bool: { filter: [{ terms: { series: quiet.series.slice(i, i + SERIES_PER_DELETE) } }, old] } }, o.dryRun);
  }
  // Documents from before series existed (ADR 0020): each is its own series.
  if (quiet.unseriesed) m += await remove(call, incidents, { bool: { filter: [old], must_not: [{ exists: { field: 'series' } }] } }, o.dryRun);
  report(action(incidents, m, o.dryRun, `${quiet.series.length} series with no incident written since ${incidentsCutoff} (ism.incidentsRetentionDays ${o.incidentsDays})`));
}

function action(name: string, n: number, dryRun: boolean | undefined, what: string): AgeOutAction {
  if (n === 0) return { kind: 'retention', name, action: 'unchanged', note: `nothing to delete: ${what}` };
  return { kind: 'retention', name, action: dryRun ? 'would delete' : 'deleted', note: `${n} document(s): ${what}` };
}

/**
 * Deletes the documents `query` matches (dry: counts them); a missing index has none. The index is refreshed first:
 * a search sees only what the last refresh made visible (index.refresh_interval, 5 s by default), so without it a
 * version the index role wrote seconds before the run would be left for the next run, and two runs in a row would
 * not agree (npm run test:deploy runs the setup CronJob's command twice, the second must change nothing).
 */
async function remove(call: Call, index: string, query: unknown, dryRun: boolean | undefined): Promise<number> {
  const refreshed = await call('POST', `/${encodeURIComponent(index)}/_refresh`);
  if (refreshed.statusCode === 404) return 0;
  if (dryRun) {
    const r = await call('POST', `/${encodeURIComponent(index)}/_count`, { query });
    return r.statusCode === 404 ? 0 : ((r.body as { count?: number }).count ?? 0);
  }
  // conflicts=proceed: a document an analyst or the index role changed meanwhile is skipped, not a failed run.
  const r = await call('POST', `/${encodeURIComponent(index)}/_delete_by_query`, { query }, { conflicts: 'proceed', refresh: 'true' });
  if (r.statusCode === 404) return 0;
  const b = r.body as { deleted?: number; failures?: unknown[] };
  if ((b.failures?.length ?? 0) > 0) throw new Error(`delete-by-query on ${index} failed for some documents: ${JSON.stringify(b.failures).slice(0, 500)}`);
  return b.deleted ?? 0;
}

/** The incident series whose newest `updated_at` is before `cutoff`, and whether documents without a series exist. */
async function quietSeries(call: Call, index: string, cutoff: string): Promise<{ series: string[]; unseriesed: boolean }> {
  const series: string[] = [];
  let unseriesed = false;
  const cutoffMs = Date.parse(cutoff);
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const composite = { size: 1000, sources: [{ series: { terms: { field: 'series', missing_bucket: true } } }], ...(after ? { after } : {}) };
    const r = await call('POST', `/${encodeURIComponent(index)}/_search`, { size: 0, aggs: { s: { composite, aggs: { newest: { max: { field: 'updated_at' } } } } } });
    if (r.statusCode === 404) break;
    const agg = (r.body as { aggregations?: { s?: { buckets?: { key: { series: string | null }; newest: { value: number | null } }[]; after_key?: Record<string, unknown> } } }).aggregations?.s;
    const buckets = agg?.buckets ?? [];
    for (const b of buckets) {
      if (b.key.series === null) unseriesed = true;
      else if (b.newest.value !== null && b.newest.value < cutoffMs) series.push(b.key.series);
    }
    if (buckets.length === 0 || agg?.after_key === undefined) break;
    after = agg.after_key;
  }
  return { series, unseriesed };
}
