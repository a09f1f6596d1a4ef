import { createOpenSearchClient } from '../sinks/opensearch/client.ts';
import { OpenSearchSinkConfig } from '../sinks/opensearch/config.ts';
import { loadCliConfig } from './config.ts';
import { redactUrlCredentials } from '../core/logger.ts';
import type { HuntClient } from '../hunt/hunt.ts';
import type { RulesetHuntResult } from '../hunt/compile.ts';
import type { Alert } from '../detect/alert.ts';
import { isConnectionFailure, openSearchUnreachable, settingOrigin } from './unreachable.ts';

/** Options of `seam hunt`, as the CLI parses them. */
export interface HuntCommandOptions {
  /** Rule files and folders (as for `seam rules lint`); default seam.yml's rules.paths; not with `who`. */
  rules?: string[];
  /** Hunt by identity instead of rules: an IAM ARN, an access key id, a Kubernetes user, namespace/serviceaccount or pod:namespace/name (src/hunt/who.ts). */
  who?: string;
  /** From an alert to its events: the alert id (32 hex digits, the alerts index `_id`); not with `rules` or `who`. */
  alert?: string;
  /** With `alert` or `who`: print the stored event documents as stored instead of hunt lines. */
  raw?: boolean;
  /** With `who`: only this cluster's Kubernetes identities and events. */
  cluster?: string;
  /** seam.yml (default SEAM_CONFIG): OpenSearch nodes, auth, TLS and index prefix; the flags win. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** OpenSearch node URL; default SEAM_OPENSEARCH_URL or http://127.0.0.1:9200. */
  url?: string;
  /** Inclusive `@timestamp` bounds: ISO 8601 or OpenSearch date math (`now-7d`). */
  from?: string;
  to?: string;
  /** Most matches printed per rule (default 10000). */
  size?: number;
  /** Most events read per correlation hunted (default DEFAULT_MAX_EVENTS); a hunt cut there exits 4. */
  maxEvents?: number;
  /** Print each rule's compiled index and query (JSONL), or the `who` query, instead of searching. */
  printDsl?: boolean;
  /** Index prefix; default seam.yml's opensearch.indexPrefix (`seam`). */
  indexPrefix?: string;
  /** YAML map of placeholder values (as `seam run`/`replay --placeholders`); default seam.yml's rules.placeholdersFile, with its rules.placeholders over it. */
  placeholders?: string;
}

interface Out {
  write(s: string): unknown;
}

/**
 * `seam hunt`'s exit codes (docs/hunting.md, Exit codes). 0: the rules or the identity were searched, whether they
 * matched or not; 1: an error (a search failed, OpenSearch did not answer); 2: a usage or configuration mistake, as
 * every command exits (bad flags, seam.yml, rule paths, placeholders file); 3: nothing was searched (no index matches
 * the prefix, or the window holds no event), so an empty answer is not read as "nothing happened"; 4: partial, a
 * correlation hunt read --max-events events and stopped before the end of the window (ADR 0058).
 */
export const HUNT_EXIT = { searched: 0, error: 1, usage: 2, nothingSearched: 3, partial: 4 } as const;

/** Where the hunt searches, for the words said when it finds nothing there. */
interface Scope {
  pattern: string;
  prefix: string;
  /** Where the prefix came from: `--index-prefix`, a variable, seam.yml or the default. */
  prefixOrigin: string;
  urls: readonly string[];
  from?: string | undefined;
  to?: string | undefined;
}

/**
 * Before searching: false, with the reason on `err`, when no index matches the pattern (review-soc M5): a wrong
 * prefix would otherwise print 0 matches and exit 0, as if the events held nothing. Names the prefixes that do
 * hold Seam events on the node.
 */
async function indicesExist(client: HuntClient, s: Scope, err: Out): Promise<boolean> {
  const { resolveIndices, eventIndexPrefixes } = await import('../hunt/scope.ts');
  const names = await resolveIndices(client, s.pattern);
  if (names === undefined || names.length > 0) return true;
  const others = (await eventIndexPrefixes(client)).filter((p) => p !== s.prefix);
  err.write(
    `seam hunt: no index matches ${s.pattern} at ${s.urls.map(redactUrlCredentials).join(', ')} (prefix '${s.prefix}' from ${s.prefixOrigin}); nothing was searched. ` +
      (others.length > 0 ? `Seam event indices there have the prefix ${others.map((p) => `'${p}'`).join(', ')} (--index-prefix). ` : 'No Seam event index is there. ') +
      'How events get there: docs/hunting.md\n',
  );
  return false;
}

/**
 * After a search that found nothing: false, with the reason on `err`, when the window holds no event at all (a
 * wrong --from/--to, a pattern of empty indices), so "0" is not read as an answer; else true, with how many events
 * were searched.
 */
async function windowHeldEvents(client: HuntClient, s: Scope, err: Out): Promise<{ ok: boolean; events: number }> {
  const { eventSpan, windowText } = await import('../hunt/scope.ts');
  const span = await eventSpan(client, s.pattern, s.from, s.to);
  if (span.inWindow > 0) return { ok: true, events: span.inWindow };
  const held = span.total > 0 ? `; its ${span.total} events are from ${span.first ?? '?'} to ${span.last ?? '?'}` : '; its indices hold no event';
  err.write(`seam hunt: no event in ${s.pattern}${windowText(s.from, s.to)} at ${s.urls.map(redactUrlCredentials).join(', ')}${held}; nothing was searched\n`);
  return { ok: false, events: 0 };
}

/**
 * `seam hunt`: runs rules over the events in OpenSearch and prints one JSON line per match
 * (rule, @timestamp, seam.id, principal, action); a summary per rule goes to `err`. Returns the exit code (HUNT_EXIT):
 * 0 when every huntable rule ran, 1 when a search failed, 2 for a usage mistake, 3 when nothing was searched.
 */
export async function huntCommand(opts: HuntCommandOptions, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const loaded = await loadCliConfig(opts.config, opts.env ?? process.env, err);
  if (loaded === undefined) return HUNT_EXIT.usage;
  const prefix = opts.indexPrefix ?? loaded.config.opensearch.indexPrefix;
  if (opts.raw === true && opts.alert === undefined && opts.who === undefined) {
    err.write('seam hunt: --raw goes with --alert or --who\n');
    return HUNT_EXIT.usage;
  }
  if (opts.alert !== undefined) {
    const others = [opts.rules !== undefined && opts.rules.length > 0 ? '--rules' : '', opts.who !== undefined ? '--who' : '', opts.cluster !== undefined ? '--cluster' : '', opts.from !== undefined ? '--from' : '', opts.to !== undefined ? '--to' : '', opts.printDsl === true ? '--print-dsl' : ''].filter(Boolean);
    if (others.length > 0) {
      err.write(`seam hunt: --alert takes no ${others.join(', ')}: it prints every event the alert names, whenever it happened\n`);
      return HUNT_EXIT.usage;
    }
    const cfg = OpenSearchSinkConfig.parse({ ...loaded.config.opensearch, ...(opts.url ? { nodeUrls: [opts.url] } : {}), indexPrefix: prefix });
    return huntAlertCommand({ ...opts, alert: opts.alert }, cfg, settingOrigin(loaded, 'opensearch.nodeUrls', opts.url ? '--url' : undefined), prefixOrigin(loaded, opts), out, err);
  }
  if (opts.who !== undefined) {
    if (opts.rules !== undefined && opts.rules.length > 0) {
      err.write('seam hunt: give either --rules or --who, not both\n');
      return HUNT_EXIT.usage;
    }
    const cfg = OpenSearchSinkConfig.parse({ ...loaded.config.opensearch, ...(opts.url ? { nodeUrls: [opts.url] } : {}), indexPrefix: prefix });
    return huntWhoCommand({ ...opts, who: opts.who }, cfg, settingOrigin(loaded, 'opensearch.nodeUrls', opts.url ? '--url' : undefined), prefixOrigin(loaded, opts), out, err);
  }
  // seam.yml's missing rule paths are skipped with a word (as seam run and replay do), unless none exists; an
  // explicit --rules path must exist.
  let rules = opts.rules ?? loaded.config.rules.paths;
  if (opts.rules === undefined) {
    const { existingRulePaths } = await import('../detect/rule-paths.ts');
    try {
      const r = existingRulePaths(rules, false);
      if (r.skipped.length > 0) err.write(`seam: skipping rule paths that do not exist: ${r.skipped.join(', ')}\n`);
      rules = r.paths;
    } catch (e) {
      err.write(`seam hunt: ${(e as { code?: string }).code}: ${(e as Error).message}\n`);
      return HUNT_EXIT.usage;
    }
  }
  // The site's placeholder values, as run, replay and rules lint take them: an allow-list rule hunted without its
  // list hunts every user (review-soc H3).
  const { sitePlaceholders, sitePlaceholderWarnings } = await import('../detect/load.ts');
  const placeholdersFile = opts.placeholders ?? loaded.config.rules.placeholdersFile;
  const site = { ...(placeholdersFile ? { placeholdersFile } : {}), ...(loaded.config.rules.placeholders ? { placeholders: loaded.config.rules.placeholders } : {}) };
  let placeholders: Record<string, string[]> | undefined;
  try {
    placeholders = await sitePlaceholders(site);
    // A hunt of some rules with the site's full file: the keys the other rules use are expected (review-soc follow-up).
    for (const w of await sitePlaceholderWarnings(site, rules, opts.rules !== undefined ? loaded.config.rules.paths : undefined)) err.write(`seam: warning: ${w}\n`);
  } catch (e) {
    err.write(`seam hunt: ${(e as { code?: string }).code}: ${(e as Error).message}\n`);
    return HUNT_EXIT.usage;
  }
  // seam.yml rules.overrides, as every load applies them: a rule the site disabled is not hunted.
  const overrides = loaded.config.rules.overrides?.length ? loaded.config.rules.overrides : undefined;
  const { unsetPlaceholderSummary } = await import('../detect/sigma/unset-placeholders.ts');
  const { OVERRIDES_SOURCE } = await import('../detect/sigma/overrides.ts');
  const { formatDiagnostic } = await import('../detect/sigma/diagnostics.ts');
  const unsetLine = (r: { diagnostics: Parameters<typeof unsetPlaceholderSummary>[0]; overrides?: string[] }): void => {
    // The site overrides applied, and those naming no loaded rule, as every load says them.
    for (const l of r.overrides ?? []) err.write(`seam hunt: ${l}\n`);
    for (const d of r.diagnostics.filter((x) => x.file.startsWith(OVERRIDES_SOURCE))) err.write(`seam hunt: ${formatDiagnostic(d)}\n`);
    const line = unsetPlaceholderSummary(r.diagnostics);
    if (line !== undefined) err.write(`seam hunt: ${line}\n`);
  };
  if (opts.printDsl) {
    const { compileRulesetToDsl } = await import('../hunt/compile.ts');
    const r = await compileRulesetToDsl(rules, { indexPrefix: prefix, ...(placeholders ? { placeholders } : {}), ...(overrides ? { overrides } : {}) });
    unsetLine(r);
    for (const e of r.rules) {
      out.write(
        JSON.stringify(
          e.result.ok
            ? { rule: e.id, title: e.title, index: e.result.index, query: e.result.query, verify: e.result.verify, ...(e.result.notes.length ? { notes: e.result.notes } : {}) }
            : { rule: e.id, title: e.title, not_huntable: e.result.reason },
        ) + '\n',
      );
    }
    const { planCorrelations } = await import('../hunt/correlate.ts');
    const plans = planCorrelations(r);
    for (const p of plans) {
      out.write(
        JSON.stringify(
          p.ok
            ? { rule: p.id, title: p.title, correlation_type: p.type, rules: p.rules, ...(p.nested.length ? { nested: p.nested } : {}), index: p.index, query: p.query }
            : { rule: p.id, title: p.title, not_huntable: p.reason },
        ) + '\n',
      );
    }
    err.write(`hunt: rules=${r.counts.rules} huntable=${r.counts.huntable} exact=${r.counts.exact} verified=${r.counts.verified} not_huntable=${r.counts.notHuntable}\n`);
    if (plans.length > 0) err.write(`hunt: correlations=${plans.length} huntable=${plans.filter((p) => p.ok).length} not_huntable=${plans.filter((p) => !p.ok).length}\n`);
    return HUNT_EXIT.searched;
  }
  const cfg = OpenSearchSinkConfig.parse({ ...loaded.config.opensearch, ...(opts.url ? { nodeUrls: [opts.url] } : {}), indexPrefix: prefix });
  const client = await createOpenSearchClient(cfg);
  const scope: Scope = { pattern: `${prefix}-events-*`, prefix, prefixOrigin: prefixOrigin(loaded, opts), urls: cfg.nodeUrls, from: opts.from, to: opts.to };
  try {
    if (!(await indicesExist(client, scope, err))) return HUNT_EXIT.nothingSearched;
    const { runHunt } = await import('../hunt/hunt.ts');
    const s = await runHunt(client, { rules, indexPrefix: prefix, ...(placeholders ? { placeholders } : {}), ...(overrides ? { overrides } : {}), ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}), ...(opts.size !== undefined ? { size: opts.size } : {}) }, (m) => {
      out.write(JSON.stringify(m) + '\n');
    });
    unsetLine(s.compiled);
    let failed = 0;
    for (const r of s.rules) {
      if (!r.huntable) err.write(`hunt: ${r.id} (${r.title}) not huntable: ${r.reason}\n`);
      else if (r.error) {
        failed++;
        err.write(`hunt: ${r.id} (${r.title}) failed: ${r.error}\n`);
      } else if (r.truncated) err.write(`hunt: ${r.id} (${r.title}) cut at --size ${r.matches}: it has more matches than printed\n`);
    }
    const c = s.compiled.counts;
    err.write(`hunt: rules=${c.rules} huntable=${c.huntable} exact=${c.exact} verified=${c.verified} not_huntable=${c.notHuntable} matches=${s.matches} failed=${failed}\n`);
    // Correlations (ADR 0058): their rules' events, in event-time order, through the stream's correlation engine.
    const k = await huntCorrelations(client, s.compiled, { ...opts, driftCheckUsers: loaded.config.rules.driftCheckUsers }, out, err);
    if (c.huntable === 0 && k.hunted === 0) {
      err.write(`hunt: nothing given is huntable${c.correlations > 0 && c.rules === 0 ? ' (only correlations)' : ''}; nothing was searched\n`);
      return HUNT_EXIT.nothingSearched;
    }
    if (s.matches === 0 && k.alerts === 0) {
      const w = await windowHeldEvents(client, scope, err);
      if (!w.ok) return HUNT_EXIT.nothingSearched;
      err.write(`hunt: no ${c.huntable > 0 ? 'match' : ''}${c.huntable > 0 && k.hunted > 0 ? ' or ' : ''}${k.hunted > 0 ? 'correlation alert' : ''} among the ${w.events} events in ${scope.pattern}\n`);
    }
    return failed + k.failed > 0 ? HUNT_EXIT.error : k.cut > 0 ? HUNT_EXIT.partial : HUNT_EXIT.searched;
  } catch (e) {
    if (!isConnectionFailure(e)) throw e;
    err.write(`seam hunt: ${openSearchUnreachable(cfg.nodeUrls, settingOrigin(loaded, 'opensearch.nodeUrls', opts.url ? '--url' : undefined), e)}; how events get there: docs/hunting.md\n`);
    return HUNT_EXIT.error;
  } finally {
    await client.close();
  }
}

/**
 * `seam hunt --who`: one JSON line per event attributed to the identity (time, id, plane, action, the
 * acting principal, who acted really, the chain in short form), or with `--raw` the stored event documents as
 * stored (as `--alert --raw` prints them), then a summary on `err` with the count per plane and the principals it
 * acted through. `--print-dsl` prints the index pattern and query.
 */
async function huntWhoCommand(opts: HuntCommandOptions & { who: string }, cfg: OpenSearchSinkConfig, urlOrigin: string, prefixFrom: string, out: Out, err: Out): Promise<number> {
  const prefix = cfg.indexPrefix;
  const { parseWho, whoSearch, huntWho, closePrincipals } = await import('../hunt/who.ts');
  let who: ReturnType<typeof parseWho>;
  try {
    who = parseWho(opts.who);
  } catch (e) {
    err.write(`seam hunt: ${(e as Error).message}\n`);
    return HUNT_EXIT.usage;
  }
  const o = { who, indexPrefix: prefix, ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}), ...(opts.size !== undefined ? { size: opts.size } : {}) };
  if (opts.printDsl) {
    if (opts.raw === true) {
      err.write('seam hunt: --raw prints the events found; --print-dsl searches nothing: give one of them\n');
      return HUNT_EXIT.usage;
    }
    out.write(`${JSON.stringify({ who, ...whoSearch(o) })}\n`);
    return HUNT_EXIT.searched;
  }
  const client = await createOpenSearchClient(cfg);
  const scope: Scope = { pattern: `${prefix}-events-*`, prefix, prefixOrigin: prefixFrom, urls: cfg.nodeUrls, from: opts.from, to: opts.to };
  try {
    if (!(await indicesExist(client, scope, err))) return HUNT_EXIT.nothingSearched;
    const s = await huntWho(client, o, (h, e) => out.write(`${JSON.stringify(opts.raw === true ? e : h)}\n`));
    const planes = (['k8s_audit', 'cloudtrail', 'guardduty', 'runtime'] as const).map((p) => `${p}=${s.bySource[p] ?? 0}`).join(' ');
    err.write(`hunt --who ${who.value} (${who.kind}): events=${s.events} ${planes}${s.truncated ? ' (cut at --size)' : ''}\n`);
    // A pod is acted in and on (an exec, its credentials' calls): who did, not what it acted through.
    if (s.through.length > 0) err.write(`  ${who.kind === 'pod' ? 'acting principals' : 'acted through'}: ${s.through.join(', ')}\n`);
    if (s.events === 0) {
      const w = await windowHeldEvents(client, scope, err);
      if (!w.ok) return HUNT_EXIT.nothingSearched;
      // Nothing attributed among events that are there: say which identities look like the one asked for.
      const near = await closePrincipals(client, o);
      err.write(
        near.length > 0
          ? `  none among the ${w.events} events in ${scope.pattern}; identities like '${who.value}' there: ${near.join(', ')}${who.kind === 'k8s_user' ? " (on EKS an IAM-authenticated user's Kubernetes name is its session ARN)" : ''}\n`
          : `  none among the ${w.events} events in ${scope.pattern}, and no principal there looks like '${who.value}'\n`,
      );
    }
    return HUNT_EXIT.searched;
  } catch (e) {
    err.write(`seam hunt: ${isConnectionFailure(e) ? `${openSearchUnreachable(cfg.nodeUrls, urlOrigin, e)}; how events get there: docs/hunting.md` : (e as Error).message}\n`);
    return HUNT_EXIT.error;
  } finally {
    await client.close();
  }
}

/**
 * `seam hunt --alert ID`: the alert from `<prefix>-alerts-*`, then every event it names from `<prefix>-events-*`, in
 * event-time order: one `--who` line per event (context events of `related_events` with `"related":true`), or with
 * `--raw` the stored documents as stored; a summary on `err` (alert, rule, level, events found of those named, the
 * ones not found named). Exit 0 when every event was found, 4 when some were not (aged out, never indexed), 1 when
 * the alert is not in the alerts index (or a search failed), 2 for an id that is not an alert id, 3 when no alerts
 * or events index matches the prefix.
 */
async function huntAlertCommand(opts: HuntCommandOptions & { alert: string }, cfg: OpenSearchSinkConfig, urlOrigin: string, prefixFrom: string, out: Out, err: Out): Promise<number> {
  const id = opts.alert.trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(id)) {
    const hint = /^inc-[0-9a-f]{12}$/.test(opts.alert.trim()) ? ' (that is an incident id: `seam report incident <id> --evidence DIR` writes its alerts and events)' : '';
    err.write(`seam hunt: --alert takes an alert id, 32 hex digits (the alerts index _id, \`id\` in alerts.jsonl and notifications); got '${opts.alert}'${hint}\n`);
    return HUNT_EXIT.usage;
  }
  const prefix = cfg.indexPrefix;
  const { readAlert, fetchAlertEvents } = await import('../hunt/alert.ts');
  const { whoHit } = await import('../hunt/who.ts');
  const client = await createOpenSearchClient(cfg);
  const urls = cfg.nodeUrls.map(redactUrlCredentials).join(', ');
  const alerts: Scope = { pattern: `${prefix}-alerts-*`, prefix, prefixOrigin: prefixFrom, urls: cfg.nodeUrls };
  const events: Scope = { ...alerts, pattern: `${prefix}-events-*` };
  try {
    const { resolveIndices } = await import('../hunt/scope.ts');
    if ((await resolveIndices(client, alerts.pattern))?.length === 0) {
      err.write(`seam hunt: no index matches ${alerts.pattern} at ${urls} (prefix '${prefix}' from ${prefixFrom}); nothing was searched. How alerts get there: docs/hunting.md\n`);
      return HUNT_EXIT.nothingSearched;
    }
    const found = await readAlert(client, id, prefix);
    if (found === undefined) {
      err.write(`seam hunt: alert ${id} is not in ${alerts.pattern} at ${urls} (prefix '${prefix}' from ${prefixFrom}): a wrong id or prefix, or aged out by retention\n`);
      return HUNT_EXIT.error;
    }
    const a = found.alert;
    if (!(await indicesExist(client, events, err))) return HUNT_EXIT.nothingSearched;
    const r = await fetchAlertEvents(client, a, prefix);
    for (const { event, related } of r.events) out.write(`${JSON.stringify(opts.raw === true ? event : { ...whoHit(event), ...(related ? { related: true } : {}) })}\n`);
    const named = new Set(a.events).size;
    const ctx = new Set((a.related_events ?? []).filter((x) => !a.events.includes(x))).size;
    const evidence = r.events.filter((x) => !x.related).length;
    err.write(
      `hunt --alert ${a.id}: rule=${a.rule.id} (${a.rule.title}) type=${a.rule.type}${a.rule.correlation_type ? `/${a.rule.correlation_type}` : ''} level=${a.rule.level} events=${evidence}/${named}` +
        `${ctx > 0 ? ` related=${r.events.length - evidence}/${ctx}` : ''} index=${found.index}\n`,
    );
    const gone = [...r.missing, ...r.missingRelated];
    if (gone.length > 0) {
      const list = (ids: string[]): string => (ids.length > 20 ? `${ids.slice(0, 20).join(', ')} … ${ids.length - 20} more` : ids.join(', '));
      if (r.missing.length > 0) err.write(`  not in ${events.pattern} (aged out by retention, or never indexed): ${list(r.missing)}\n`);
      if (r.missingRelated.length > 0) err.write(`  related, not in ${events.pattern}: ${list(r.missingRelated)}\n`);
      return HUNT_EXIT.partial;
    }
    return HUNT_EXIT.searched;
  } catch (e) {
    err.write(`seam hunt: ${isConnectionFailure(e) ? `${openSearchUnreachable(cfg.nodeUrls, urlOrigin, e)}; how alerts get there: docs/hunting.md` : (e as Error).message}\n`);
    return HUNT_EXIT.error;
  } finally {
    await client.close();
  }
}

/** Events read between two progress lines of a correlation hunt. */
const PROGRESS_EVERY = 100_000;

/**
 * Hunts every correlation given (ADR 0058): one JSON line per alert on `out` (the alert as the stream raises it,
 * its id included), then per correlation a line on `err` with the events read and alerts raised, a word when it
 * was cut at --max-events, a progress line every PROGRESS_EVERY events, and the not huntable named (ten, then a count).
 */
async function huntCorrelations(
  client: HuntClient,
  compiled: RulesetHuntResult,
  opts: HuntCommandOptions & { driftCheckUsers?: readonly string[] | undefined },
  out: Out,
  err: Out,
): Promise<{ hunted: number; alerts: number; cut: number; failed: number }> {
  const done = { hunted: 0, alerts: 0, cut: 0, failed: 0 };
  if (compiled.correlations.length === 0) return done;
  const { planCorrelations, huntCorrelation, DEFAULT_MAX_EVENTS } = await import('../hunt/correlate.ts');
  const plans = planCorrelations(compiled);
  const skipped = plans.filter((p) => !p.ok);
  for (const p of skipped.slice(0, 10)) err.write(`hunt: ${p.id} (${p.title}) not huntable: ${p.ok ? '' : p.reason}\n`);
  if (skipped.length > 10) err.write(`hunt: ${skipped.length - 10} more correlations not huntable (--print-dsl lists them all)\n`);
  const max = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
  let events = 0;
  const started = performance.now();
  for (const p of plans) {
    if (!p.ok) continue;
    let shown = 0;
    const r = await huntCorrelation(
      client,
      p,
      compiled.ruleset,
      {
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        maxEvents: max,
        ...(opts.driftCheckUsers ? { driftCheckUsers: opts.driftCheckUsers } : {}),
        onProgress: (x) => {
          if (x.events - shown < PROGRESS_EVERY) return;
          shown = x.events;
          err.write(`hunt: ${p.id}: ${x.events} events read, up to ${x.last ?? '?'}\n`);
        },
      },
      (a) => out.write(JSON.stringify(correlationLine(a)) + '\n'),
    );
    done.hunted++;
    done.alerts += r.alerts;
    events += r.events;
    const cut = r.cut ? ` cut: --max-events ${max} read, events after ${r.last ?? '?'} not hunted (narrow --from/--to or raise --max-events)` : '';
    if (r.cut) done.cut++;
    if (r.error !== undefined) {
      done.failed++;
      err.write(`hunt: ${p.id} (${p.title}) failed after ${r.events} events: ${r.error}\n`);
    } else {
      const before = r.before === undefined ? '' : ` (${r.before} of them before --from: its ${durationText(p.lookbackMs)} lookback)`;
      err.write(`hunt: ${p.id} (${p.title}) ${p.type} over ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}: events=${r.events}${before} alerts=${r.alerts}${cut}\n`);
    }
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  err.write(`hunt: correlations=${plans.length} hunted=${done.hunted} not_huntable=${skipped.length} events=${events} alerts=${done.alerts} cut=${done.cut} failed=${done.failed} seconds=${secs}\n`);
  return done;
}

/**
 * A correlation alert as `seam hunt` prints it, keys in this order: which correlation (rule, title, type), the
 * alert's id (the stream's, for the same events), when, its level, window, group, aggregate and summary, where and
 * who, the rule's `fields:` values when it lists some, and the `seam.id`s of its events.
 */
function correlationLine(a: Alert): Record<string, unknown> {
  const p = a.principal as { id?: string; arn?: string } | undefined;
  const line: Record<string, unknown> = {
    rule: a.rule.id,
    title: a.rule.title,
    correlation_type: a.rule.correlation_type,
    alert_id: a.id,
    '@timestamp': a['@timestamp'],
    level: a.rule.level,
    window: a.window,
    group: a.group,
    aggregate: a.aggregate,
    summary: a.summary,
    cluster: a.cluster,
    account: a.account,
    principal: p?.id ?? p?.arn,
    fields: a.fields,
    events: a.events,
  };
  for (const k of Object.keys(line)) if (line[k] === undefined) delete line[k];
  return line;
}

/** Where the index prefix came from, as the errors say it. */
function prefixOrigin(loaded: Parameters<typeof settingOrigin>[0], opts: HuntCommandOptions): string {
  return settingOrigin(loaded, 'opensearch.indexPrefix', opts.indexPrefix !== undefined ? '--index-prefix' : undefined);
}

/** A lookback as a person says it: 90m, 2h, 1d 6h. */
function durationText(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  return h % 24 === 0 ? `${h / 24}d` : `${Math.floor(h / 24)}d ${h % 24}h`;
}
