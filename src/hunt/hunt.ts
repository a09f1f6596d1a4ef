/**
 * Retrospective hunting: runs Sigma rules over the events already in OpenSearch. Each rule's query
 * is compiled against the live mapping of the indices it searches; hits of a rule whose query is a
 * superset (`verify`) are re-checked with the streaming engine on the stored event, so a hunt finds
 * what streaming would have alerted on.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { SeamEvent, SourceType } from '../core/envelope.ts';
import type { CompiledRule } from '../detect/sigma/types.ts';
import { shortChain } from '../identity/chain-text.ts';
import { compileRulesetToDsl } from './compile.ts';
import type { RuleOverride } from '../detect/sigma/types.ts';
import type { RulesetHuntEntry, RulesetHuntResult } from './compile.ts';
import { mappingFromResponse, resolverFor, templateResolver } from './fields.ts';
import type { FieldResolver } from './fields.ts';
import type { Dsl } from './query.ts';

/** The client calls a hunt makes; a real `Client` satisfies it. */
export type HuntClient = Pick<Client, 'search' | 'msearch' | 'indices'> & Partial<Pick<Client, 'createPit' | 'deletePit'>>;

export interface HuntRunOptions {
  rules: string[];
  indexPrefix?: string;
  /** Inclusive bounds on `@timestamp` (anything OpenSearch date math accepts: ISO 8601, `now-7d`). */
  from?: string;
  to?: string;
  /** Most matches reported per rule; default 10000. */
  size?: number;
  placeholders?: Record<string, string[]>;
  /** seam.yml `rules.overrides`: a disabled rule is not hunted. */
  overrides?: readonly RuleOverride[];
  /** Hits asked for per search (default 1000); a rule with more continues with `search_after`. */
  pageSize?: number;
}

/**
 * One match, as `seam hunt` prints it, keys in this order (docs/hunting.md): which rule at which level, when, which
 * event, where (cluster, account), who (principal, service account) from where (source_ip), did what (action) to what
 * (resource), with what outcome, and who acted really (origin, chain: as `--who` lines give them). A key whose value
 * the event lacks is left out of the printed line.
 */
export interface HuntMatch {
  rule: string;
  title: string;
  /** The rule's level, as the stream alerts at it (seam.yml `rules.overrides` applied). */
  level: string | undefined;
  '@timestamp': string | undefined;
  'seam.id': string;
  cluster: string | undefined;
  account: string | undefined;
  principal: string | undefined;
  service_account: string | undefined;
  source_ip: string | undefined;
  action: string | undefined;
  resource: string | undefined;
  outcome: string | undefined;
  /** Who acted, really, when the identity graph found someone behind the acting principal (`seam.origin`). */
  origin: string | undefined;
  /** The chain from the acting credentials to the origin, in short form. */
  chain: string | undefined;
}

/** The match line of a rule's hit on an event. */
export function huntMatch(rule: { id: string; title: string; level?: string | undefined }, e: SeamEvent): HuntMatch {
  const s = e.seam;
  return {
    rule: rule.id,
    title: rule.title,
    level: rule.level,
    '@timestamp': e['@timestamp'],
    'seam.id': s.id,
    cluster: s.cluster,
    account: s.account,
    principal: principalOf(e),
    service_account: s.principal?.service_account,
    source_ip: s.source_ip,
    action: s.action,
    resource: s.resource,
    outcome: s.outcome,
    origin: s.origin?.arn ?? s.origin?.id,
    chain: s.chain && s.chain.length > 0 ? shortChain(s.chain) : undefined,
  };
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
  /** True when the rule had more matches than `size`: the first `size` were reported (review-hunter L2). */
  truncated?: boolean;
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

type SearchBody = { _shards?: { failed?: number; failures?: Array<{ reason?: { reason?: string } }> }; hits?: { hits?: Array<{ _source: SeamEvent; sort: unknown[] }> }; error?: { reason?: string } | string; status?: number };

/**
 * The order hunting pages in, for `search_after`: event time, then the event's id, then the index. `seam.id` is
 * the document id, unique within an index but not across the daily indices a pattern spans (an event indexed
 * again under another day); without `_index` two documents with the same time and id on either side of a page
 * boundary would be one sort position, and the second would be skipped.
 */
export const PAGE_SORT: ReadonlyArray<Record<string, 'asc'>> = [{ '@timestamp': 'asc' }, { 'seam.id': 'asc' }, { _index: 'asc' }];

/** The search body of a rule's page: its query within the time bounds, sorted for `search_after`. */
function pageBody(query: Dsl, after: unknown[] | undefined, size: number): Record<string, unknown> {
  return { query, size, sort: PAGE_SORT, ...(after ? { search_after: after } : {}) };
}

/** The query within the inclusive `@timestamp` bounds. */
export function timedQuery(q: Dsl, opts: { from?: string | undefined; to?: string | undefined }): Dsl {
  const time: Dsl[] = opts.from || opts.to ? [{ range: { '@timestamp': { ...(opts.from ? { gte: opts.from } : {}), ...(opts.to ? { lte: opts.to } : {}) } } }] : [];
  return time.length ? { bool: { filter: [q, ...time] } } : q;
}

const errorText = (e: SearchBody['error']): string | undefined => (e === undefined ? undefined : typeof e === 'string' ? e : (e.reason ?? 'search failed'));

/**
 * Runs one compiled rule; calls `onMatch` per confirmed match, in `@timestamp` order. `firstPage`: the answer to
 * its first page when the caller already has it (`runHunt` asks for many rules' first pages in one `_msearch`).
 */
export async function huntRule(
  client: HuntClient,
  entry: RulesetHuntEntry,
  rule: CompiledRule | undefined,
  opts: HuntRunOptions,
  onMatch: (m: HuntMatch, event: SeamEvent) => void,
  onHit?: (event: SeamEvent) => void,
  firstPage?: SearchBody,
): Promise<HuntRuleReport> {
  const rep: HuntRuleReport = { id: entry.id, title: entry.title, huntable: entry.result.ok, hits: 0, matches: 0 };
  if (!entry.result.ok) {
    rep.reason = entry.result.reason;
    return rep;
  }
  const r = entry.result;
  rep.verify = r.verify;
  const query = timedQuery(r.query, opts);
  const limit = opts.size ?? 10_000;
  const page = opts.pageSize ?? PAGE;
  let after: unknown[] | undefined;
  let pending = firstPage;
  for (;;) {
    let body: SearchBody;
    if (pending !== undefined) {
      body = pending;
      pending = undefined;
    } else {
      const resp = await client.search({ index: r.index, ignore_unavailable: true, allow_no_indices: true, body: pageBody(query, after, page) as never }, { ignore: [404] });
      body = resp.body as unknown as SearchBody;
    }
    if (body.error || (body._shards?.failed ?? 0) > 0) {
      rep.error = errorText(body.error) ?? body._shards?.failures?.[0]?.reason?.reason ?? 'search failed on some shards';
      return rep;
    }
    const hits = body.hits?.hits ?? [];
    for (const h of hits) {
      rep.hits++;
      const e = h._source;
      onHit?.(e);
      if (r.verify && !(rule?.test(e as unknown as Record<string, unknown>) ?? false)) continue;
      // A match past `size` is not reported: it only says the output was cut.
      if (rep.matches >= limit) {
        rep.truncated = true;
        return rep;
      }
      rep.matches++;
      onMatch(huntMatch({ id: entry.id, title: entry.title, level: rule?.level }, e), e);
    }
    if (hits.length < page) return rep;
    after = hits[hits.length - 1]!.sort;
  }
}

/** Rules whose first pages go to OpenSearch in one `_msearch` (it runs them concurrently on the node). */
const MSEARCH_RULES = 20;

/**
 * Compiles the rules against the live mapping and hunts each huntable one. The first page of up to
 * MSEARCH_RULES rules is asked for in one `_msearch` request (a hunt of the whole pack is 25 round trips, not
 * 500); a rule with more than a page of hits continues on its own with `search_after`. Matches come out per
 * rule, in rule order, as with one search per rule.
 */
export async function runHunt(client: HuntClient, opts: HuntRunOptions, onMatch: (m: HuntMatch, event: SeamEvent) => void): Promise<HuntSummary> {
  const prefix = opts.indexPrefix ?? 'seam';
  const fields = await liveResolvers(client, prefix, ['cloudtrail', 'k8s_audit', 'guardduty', 'runtime']);
  const compiled = await compileRulesetToDsl(opts.rules, { indexPrefix: prefix, fields, ...(opts.placeholders ? { placeholders: opts.placeholders } : {}), ...(opts.overrides?.length ? { overrides: opts.overrides } : {}) });
  const byId = new Map(compiled.ruleset.rules.map((r) => [r.id, r]));
  const rules: HuntRuleReport[] = [];
  let matches = 0;
  for (let i = 0; i < compiled.rules.length; i += MSEARCH_RULES) {
    const batch = compiled.rules.slice(i, i + MSEARCH_RULES);
    const lines: Record<string, unknown>[] = [];
    for (const entry of batch) {
      if (!entry.result.ok) continue;
      lines.push({ index: entry.result.index, ignore_unavailable: true, allow_no_indices: true }, pageBody(timedQuery(entry.result.query, opts), undefined, opts.pageSize ?? PAGE));
    }
    // One round trip for the batch's first pages. If the request as a whole fails (a timeout under load, a
    // proxy refusing _msearch, an answer missing searches), each rule of the batch is searched on its own.
    let answers: (SearchBody | undefined)[] = [];
    if (lines.length > 0) {
      try {
        const resp = await client.msearch({ body: lines as never }, { ignore: [404] });
        const body = resp.body as unknown as { responses?: SearchBody[] };
        if (body.responses?.length === lines.length / 2) answers = body.responses;
      } catch {
        answers = [];
      }
    }
    let k = 0;
    for (const entry of batch) {
      const answer = entry.result.ok ? answers[k++] : undefined;
      // A search the batch could not run (rejected while the node ran the others, a shard failure) is asked
      // again on its own, so a hunt by _msearch reports only what one search per rule would.
      const first = answer !== undefined && answer.error === undefined && (answer._shards?.failed ?? 0) === 0 ? answer : undefined;
      const rep = await huntRule(client, entry, byId.get(entry.id), opts, onMatch, undefined, first);
      matches += rep.matches;
      rules.push(rep);
    }
  }
  return { compiled, rules, matches };
}
