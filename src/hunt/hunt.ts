/**
 * Retrospective hunting: runs Sigma rules over the events already in OpenSearch. Each rule's query
 * is compiled against the live mapping of the indices it searches; hits of a rule whose query is a
 * superset (`verify`) are re-checked with the streaming engine on the stored event, so a hunt finds
 * what streaming would have alerted on.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { SeamEvent, SourceType } from '../core/envelope.ts';
import type { CompiledRule } from '../detect/sigma/types.ts';
import { compileRulesetToDsl } from './compile.ts';
import type { RulesetHuntEntry, RulesetHuntResult } from './compile.ts';
import { mappingFromResponse, resolverFor, templateResolver } from './fields.ts';
import type { FieldResolver } from './fields.ts';
import type { Dsl } from './query.ts';

/** The client calls a hunt makes; a real `Client` satisfies it. */
export type HuntClient = Pick<Client, 'search' | 'indices'>;

export interface HuntRunOptions {
  rules: string[];
  indexPrefix?: string;
  /** Inclusive bounds on `@timestamp` (anything OpenSearch date math accepts: ISO 8601, `now-7d`). */
  from?: string;
  to?: string;
  /** Most matches reported per rule; default 10000. */
  size?: number;
  placeholders?: Record<string, string[]>;
}

export interface HuntMatch {
  rule: string;
  title: string;
  '@timestamp': string | undefined;
  'seam.id': string;
  principal: string | undefined;
  action: string | undefined;
}

export interface HuntRuleReport {
  id: string;
  title: string;
  huntable: boolean;
  reason?: string;
  verify?: boolean;
  /** Documents the query returned, and how many the engine confirmed (equal unless `verify`). */
  hits: number;
  matches: number;
  error?: string;
}

export interface HuntSummary {
  compiled: RulesetHuntResult;
  rules: HuntRuleReport[];
  matches: number;
}

const PAGE = 1000;

/** Field resolvers from the live mapping of each source's indices (templates when none exist yet). */
export async function liveResolvers(client: HuntClient, prefix: string, sources: SourceType[]): Promise<(s: SourceType) => FieldResolver> {
  const out = new Map<SourceType, FieldResolver>();
  for (const s of sources) {
    const r = await client.indices.getMapping({ index: `${prefix}-events-${s}-*`, allow_no_indices: true, ignore_unavailable: true }, { ignore: [404] });
    const m = mappingFromResponse(r.body);
    out.set(s, m.size > 0 ? resolverFor(m) : templateResolver(s));
  }
  return (s) => out.get(s) ?? templateResolver(s);
}

function principalOf(e: SeamEvent): string | undefined {
  const p = e.seam?.principal as { id?: string; arn?: string } | undefined;
  return p?.id ?? p?.arn;
}

/** Runs one compiled rule; calls `onMatch` per confirmed match, in `@timestamp` order. */
export async function huntRule(
  client: HuntClient,
  entry: RulesetHuntEntry,
  rule: CompiledRule | undefined,
  opts: HuntRunOptions,
  onMatch: (m: HuntMatch, event: SeamEvent) => void,
  onHit?: (event: SeamEvent) => void,
): Promise<HuntRuleReport> {
  const rep: HuntRuleReport = { id: entry.id, title: entry.title, huntable: entry.result.ok, hits: 0, matches: 0 };
  if (!entry.result.ok) {
    rep.reason = entry.result.reason;
    return rep;
  }
  const r = entry.result;
  rep.verify = r.verify;
  const time: Dsl[] = opts.from || opts.to ? [{ range: { '@timestamp': { ...(opts.from ? { gte: opts.from } : {}), ...(opts.to ? { lte: opts.to } : {}) } } }] : [];
  const query: Dsl = time.length ? { bool: { filter: [r.query, ...time] } } : r.query;
  const limit = opts.size ?? 10_000;
  let after: unknown[] | undefined;
  for (;;) {
    const resp = await client.search(
      {
        index: r.index,
        ignore_unavailable: true,
        allow_no_indices: true,
        body: { query, size: PAGE, sort: [{ '@timestamp': 'asc' }, { 'seam.id': 'asc' }], ...(after ? { search_after: after } : {}) } as never,
      },
      { ignore: [404] },
    );
    const body = resp.body as unknown as { _shards?: { failed?: number; failures?: Array<{ reason?: { reason?: string } }> }; hits?: { hits?: Array<{ _source: SeamEvent; sort: unknown[] }> }; error?: { reason?: string } };
    if (body.error || (body._shards?.failed ?? 0) > 0) {
      rep.error = body.error?.reason ?? body._shards?.failures?.[0]?.reason?.reason ?? 'search failed on some shards';
      return rep;
    }
    const hits = body.hits?.hits ?? [];
    for (const h of hits) {
      rep.hits++;
      const e = h._source;
      onHit?.(e);
      if (r.verify && !(rule?.test(e as unknown as Record<string, unknown>) ?? false)) continue;
      rep.matches++;
      onMatch({ rule: entry.id, title: entry.title, '@timestamp': e['@timestamp'], 'seam.id': e.seam.id, principal: principalOf(e), action: e.seam.action }, e);
      if (rep.matches >= limit) return rep;
    }
    if (hits.length < PAGE) return rep;
    after = hits[hits.length - 1]!.sort;
  }
}

/** Compiles the rules against the live mapping and hunts each huntable one. */
export async function runHunt(client: HuntClient, opts: HuntRunOptions, onMatch: (m: HuntMatch, event: SeamEvent) => void): Promise<HuntSummary> {
  const prefix = opts.indexPrefix ?? 'seam';
  const fields = await liveResolvers(client, prefix, ['cloudtrail', 'k8s_audit', 'guardduty', 'runtime']);
  const compiled = await compileRulesetToDsl(opts.rules, { indexPrefix: prefix, fields, ...(opts.placeholders ? { placeholders: opts.placeholders } : {}) });
  const byId = new Map(compiled.ruleset.rules.map((r) => [r.id, r]));
  const rules: HuntRuleReport[] = [];
  let matches = 0;
  for (const entry of compiled.rules) {
    const rep = await huntRule(client, entry, byId.get(entry.id), opts, onMatch);
    matches += rep.matches;
    rules.push(rep);
  }
  return { compiled, rules, matches };
}
