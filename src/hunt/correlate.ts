/**
 * Hunting correlations over history (ADR 0058): a correlation is a count or a sequence of its rules' matches per
 * group over a window, which no search says. So a correlation is hunted the honest way: the events its rules match
 * (each rule's query as `compileRulesetToDsl` compiles it, the rules of nested correlations included) are paged
 * out of OpenSearch in event-time order, every one of them (a point in time and `search_after`, up to `maxEvents`),
 * and fed to the stream's own detector (`createDetector`: Sigma matching, one match per Kubernetes request, GitOps
 * drift checks, the correlation engine) restricted to those rules and that correlation. The alerts it raises are
 * the stream's, with the stream's ids (rule id and the set of events); memory is the engine's windows, never the
 * hunt's length.
 */
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { ruleLookupFrom } from '../detect/correlate/compile.ts';
import { CorrelationEngine } from '../detect/correlate/engine.ts';
import type { CompiledCorrelation, CorrelationType } from '../detect/correlate/types.ts';
import { createDetector } from '../detect/detector.ts';
import type { CorrelationDoc, Ruleset } from '../detect/sigma/types.ts';
import type { RulesetHuntEntry, RulesetHuntResult } from './compile.ts';
import { PAGE_SORT, timedQuery } from './hunt.ts';
import type { HuntClient } from './hunt.ts';
import type { Dsl } from './query.ts';

/** How late a signal may come in the stream (load.ts DEFAULT_ALLOWED_LATENESS_MS): a hunt feeds in order, so it changes nothing but is the same. */
const LATENESS_MS = 60_000;

/** Events a correlation hunt reads at most, unless told (`--max-events`). */
export const DEFAULT_MAX_EVENTS = 1_000_000;

export type CorrelationPlan =
  | {
      ok: true;
      id: string;
      title: string;
      type: CorrelationType;
      /** The rules whose events are hunted (nested correlations' rules included), by id. */
      rules: string[];
      /** Nested correlations fed along (their alerts are the hunted correlation's signals). */
      nested: string[];
      index: string;
      query: Dsl;
      /** The loaded documents of the correlation and its nested ones. */
      docs: CorrelationDoc[];
      /**
       * How far before an alert's last event its first can lie: the correlation's timespan plus its nested ones'
       * (a nested alert's own events reach back its timespan). A hunt from `--from` reads that much earlier.
       */
      lookbackMs: number;
    }
  | { ok: false; id: string; title: string; reason: string };

/** What hunting one correlation did. */
export interface CorrelationHuntReport {
  id: string;
  title: string;
  type?: CorrelationType;
  hunted: boolean;
  reason?: string;
  /** Events read from OpenSearch and fed to the engine. */
  events: number;
  alerts: number;
  /** True when `maxEvents` stopped the hunt before the last event of the window (the windows open then were judged). */
  cut: boolean;
  /** `@timestamp` of the last event read. */
  last?: string;
  /**
   * Events read before `--from` (up to the plan's lookback before the first event at or after it), fed so that an
   * alert completed inside the window with earlier events is the stream's; alerts completed before it are not told.
   */
  before?: number;
  /** Whether the pages were read in one point in time (else plain `search_after`: the node or role offers none). */
  pit: boolean;
  error?: string;
}

export interface CorrelationHuntOptions {
  from?: string;
  to?: string;
  /** Events read per correlation at most (default DEFAULT_MAX_EVENTS); beyond, the hunt is cut and says so. */
  maxEvents?: number;
  /** Hits per page (default 1000). */
  pageSize?: number;
  /** False: read nothing before `from` (a burst straddling it is judged on its part inside). Default true. */
  lookback?: boolean;
  /** GitOps drift-check users (seam.yml `rules.driftCheckUsers`), as the stream is given them. */
  driftCheckUsers?: readonly string[];
  /** After each page: events read so far and the last one's time. */
  onProgress?: (p: { id: string; events: number; last: string | undefined }) => void;
}

/** The correlation among the engine's compiled ones that a hunt entry names. */
function compiledOf(entry: RulesetHuntEntry, all: readonly CompiledCorrelation[]): CompiledCorrelation | undefined {
  return all.find((c) => c.file === entry.file && (c.id === entry.id || `${c.file}:${c.line}` === entry.id));
}

/**
 * What hunting each correlation of a compiled rule set searches: the rules it uses (through nested correlations),
 * their indices and one query matching any of them; or why it cannot be hunted (disabled, rejected by the loader or
 * the engine, withheld by a correlation that uses it, a rule of it not huntable or not given).
 */
export function planCorrelations(compiled: RulesetHuntResult): CorrelationPlan[] {
  const { ruleset } = compiled;
  const engine = new CorrelationEngine(ruleset.correlations, { ruleLookup: ruleLookupFrom(ruleset.rules) });
  const byId = new Map(engine.correlations.map((c) => [c.id, c]));
  const rules = new Map(compiled.rules.map((r) => [r.id, r]));
  const docOf = (c: CompiledCorrelation): CorrelationDoc | undefined => ruleset.correlations.find((d) => d.file === c.file && d.line === c.line);
  return compiled.correlations.map((entry): CorrelationPlan => {
    const base = { id: entry.id, title: entry.title };
    if (!entry.result.ok && entry.result.reason.startsWith('disabled')) return { ...base, ok: false, reason: entry.result.reason };
    const c = compiledOf(entry, engine.correlations);
    if (c === undefined) {
      const errors = [...compiled.diagnostics, ...engine.diagnostics].filter((x) => x.severity === 'error' && x.file === entry.file);
      const d = errors.find((x) => x.rule === entry.id || x.rule === entry.title) ?? errors[0];
      return { ...base, ok: false, reason: `the streaming engine does not load this correlation${d ? `: ${d.message}` : ''}` };
    }
    if (engine.isSuppressed(c.id)) {
      const users = engine.correlations.filter((o) => o.rules.includes(c.id)).map((o) => o.id);
      return { ...base, ok: false, reason: `withheld: a correlation that uses it (${users.join(', ')}) has no 'generate', so the stream raises none of its alerts; hunt that one` };
    }
    // The rules, through nested correlations.
    const ruleIds: string[] = [];
    const nested: CompiledCorrelation[] = [];
    const walk = (x: CompiledCorrelation): void => {
      for (const ref of x.rules) {
        const n = byId.get(ref);
        if (n !== undefined) {
          if (!nested.includes(n) && n !== c) {
            nested.push(n);
            walk(n);
          }
        } else if (!ruleIds.includes(ref)) ruleIds.push(ref);
      }
    };
    walk(c);
    const entries: RulesetHuntEntry[] = [];
    for (const id of ruleIds) {
      const r = rules.get(id);
      if (r === undefined) return { ...base, ok: false, reason: `its rule ${id} is not among the rules given` };
      if (!r.result.ok) return { ...base, ok: false, reason: `its rule ${id} is not huntable: ${r.result.reason}` };
      entries.push(r);
    }
    const docs = [c, ...nested].map(docOf);
    if (docs.some((d) => d === undefined)) return { ...base, ok: false, reason: 'the streaming engine does not load this correlation' };
    const indices = [...new Set(entries.map((e) => (e.result.ok ? e.result.index : '')))].sort();
    const queries = entries.map((e) => (e.result.ok ? e.result.query : { match_none: {} }));
    return {
      ...base,
      ok: true,
      type: c.type,
      rules: ruleIds,
      nested: nested.map((n) => n.id),
      index: indices.join(','),
      query: queries.length === 1 ? queries[0]! : { bool: { should: queries, minimum_should_match: 1 } },
      docs: docs as CorrelationDoc[],
      lookbackMs: [c, ...nested].reduce((n, x) => n + x.timespanMs, 0),
    };
  });
}

/**
 * The `@timestamp` (ms) of the first event the plan's rules match at or after `--from` (and not after `--to`);
 * undefined when none; `{ error }` when the search failed.
 */
async function firstEventTime(client: HuntClient, plan: Extract<CorrelationPlan, { ok: true }>, opts: CorrelationHuntOptions): Promise<number | undefined | { error: string }> {
  const resp = await client.search(
    { index: plan.index, ignore_unavailable: true, allow_no_indices: true, body: { query: timedQuery(plan.query, opts), size: 1, sort: PAGE_SORT, _source: ['@timestamp'] } as never },
    { ignore: [404] },
  );
  const b = resp.body as unknown as PageBody;
  if (b.error || (b._shards?.failed ?? 0) > 0) return { error: (typeof b.error === 'string' ? b.error : b.error?.reason) ?? b._shards?.failures?.[0]?.reason?.reason ?? 'search failed on some shards' };
  const t = b.hits?.hits?.[0]?._source['@timestamp'];
  return t === undefined ? undefined : Date.parse(t);
}

type PageBody = { _shards?: { failed?: number; failures?: Array<{ reason?: { reason?: string } }> }; hits?: { hits?: Array<{ _source: SeamEvent; sort: unknown[] }> }; error?: { reason?: string } | string; pit_id?: string };

const PIT_KEEP_ALIVE = '5m';

/** A point in time over the indices, or undefined when the node or role does not offer one (then plain `search_after`). */
async function openPit(client: HuntClient, index: string): Promise<string | undefined> {
  if (client.createPit === undefined) return undefined;
  try {
    const r = await client.createPit({ index, keep_alive: PIT_KEEP_ALIVE, allow_partial_pit_creation: false } as never);
    return (r.body as { pit_id?: string }).pit_id;
  } catch {
    return undefined;
  }
}

/**
 * Hunts one planned correlation: pages through every event its rules match in the window, in `@timestamp` order,
 * feeding each to a detector of those rules and that correlation; calls `onAlert` with each alert of the
 * correlation, as the stream raises it. Stops at `maxEvents` (cut: the windows open then are judged, as at the
 * end of input).
 */
export async function huntCorrelation(client: HuntClient, plan: Extract<CorrelationPlan, { ok: true }>, ruleset: Ruleset, opts: CorrelationHuntOptions, onAlert: (a: Alert) => void): Promise<CorrelationHuntReport> {
  const rep: CorrelationHuntReport = { id: plan.id, title: plan.title, type: plan.type, hunted: true, events: 0, alerts: 0, cut: false, pit: false };
  const ids = new Set(plan.rules);
  const sub: Ruleset = {
    rules: ruleset.rules.filter((r) => ids.has(r.id)),
    correlations: plan.docs,
    match: (e) => ruleset.match(e).filter((m) => ids.has(m.rule.id)),
  };
  const detector = createDetector({ ruleset: sub, allowedLatenessMs: LATENESS_MS, ...(opts.driftCheckUsers ? { driftCheckUsers: opts.driftCheckUsers } : {}) });
  const emit = (alerts: Alert[]): void => {
    for (const a of alerts) {
      if (a.rule.type !== 'correlation' || a.rule.id !== plan.id) continue;
      // Completed before the window (by an event read only as lookback): the stream raised it before --from.
      if (firstMs !== undefined && Date.parse(a['@timestamp']) < firstMs) continue;
      rep.alerts++;
      onAlert(a);
    }
  };
  const max = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
  const size = opts.pageSize ?? 1000;
  // With --from, the stream had the events before it too: read back the lookback before the first event inside the
  // window (`--from` may be date math; the first event's time is absolute), and tell only alerts completed inside.
  let firstMs: number | undefined;
  let readFrom = opts.from;
  if (opts.from !== undefined && plan.lookbackMs > 0 && opts.lookback !== false) {
    const first = await firstEventTime(client, plan, opts);
    if (typeof first === 'object') {
      rep.error = first.error;
      return rep;
    }
    if (first !== undefined) {
      firstMs = first;
      readFrom = new Date(first - plan.lookbackMs).toISOString();
      rep.before = 0;
    }
  }
  const query = timedQuery(plan.query, { from: readFrom, to: opts.to });
  let pit = await openPit(client, plan.index);
  rep.pit = pit !== undefined;
  let after: unknown[] | undefined;
  try {
    for (;;) {
      const body = { query, size: Math.min(size, max - rep.events + 1), sort: PAGE_SORT, ...(after ? { search_after: after } : {}), ...(pit ? { pit: { id: pit, keep_alive: PIT_KEEP_ALIVE } } : {}) };
      const resp = pit
        ? await client.search({ body: body as never }, { ignore: [404] })
        : await client.search({ index: plan.index, ignore_unavailable: true, allow_no_indices: true, body: body as never }, { ignore: [404] });
      const b = resp.body as unknown as PageBody;
      if (b.error || (b._shards?.failed ?? 0) > 0) {
        rep.error = (typeof b.error === 'string' ? b.error : b.error?.reason) ?? b._shards?.failures?.[0]?.reason?.reason ?? 'search failed on some shards';
        return rep;
      }
      if (b.pit_id) pit = b.pit_id;
      const hits = b.hits?.hits ?? [];
      for (const h of hits) {
        if (rep.events >= max) {
          rep.cut = true;
          break;
        }
        rep.events++;
        rep.last = h._source['@timestamp'];
        if (firstMs !== undefined && Date.parse(h._source['@timestamp']) < firstMs) rep.before!++;
        emit(detector.process(h._source));
      }
      opts.onProgress?.({ id: plan.id, events: rep.events, last: rep.last });
      if (rep.cut || hits.length < body.size) break;
      after = hits[hits.length - 1]!.sort;
    }
    emit(detector.flush());
    return rep;
  } finally {
    if (pit) await client.deletePit?.({ body: { pit_id: [pit] } } as never, { ignore: [404] }).catch(() => undefined);
  }
}
