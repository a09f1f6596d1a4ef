import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Client } from '@opensearch-project/opensearch';
import type { Incident } from '../pipeline/incident.ts';
import { eventsRead, type IncidentPage } from '../report/incident-model.ts';

/** Options of `seam report incident`, as the CLI parses them. */
export interface ReportIncidentOptions {
  /** Incident id (`inc-…` or a unique prefix) or identity key (ARN); omitted with `latest`. */
  id?: string;
  latest?: boolean;
  /** `opensearch` reads the alerts and event indices; otherwise `input` (a `seam run` output folder). */
  from?: string;
  input?: string;
  url?: string;
  indexPrefix?: string;
  /** Rule files or folders the triage notes come from; default the config's `rules.paths`. */
  rules?: string[];
  /** seam.yml (else SEAM_CONFIG, else defaults): OpenSearch nodes, auth, TLS, SigV4 and index prefix, rule paths. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** Output file; default `<input>/incident-<id>.html` (or `out/` when reading OpenSearch). */
  out?: string;
  /**
   * Evidence folder: the incident's alerts (`alerts.jsonl`) and every event the page read (`events.jsonl`: the stored
   * documents, raw record and `seam.*`, in time order), a `seam run` output folder the page can be drawn from again.
   */
  evidence?: string;
}

interface Out {
  write(s: string): unknown;
}

/** Writes one page per incident into `dir` as `incident-<id>.html`; returns the paths. */
export async function writeIncidentPages(pages: readonly IncidentPage[], dir: string): Promise<string[]> {
  const { renderIncidentHtml } = await import('../report/incident-html.ts');
  mkdirSync(dir, { recursive: true });
  return pages.map((p) => {
    const file = join(dir, `incident-${p.id}.html`);
    writeFileSync(file, renderIncidentHtml(p));
    return file;
  });
}

/** The pages of the given incidents from a `seam run` output folder (used by `seam run` itself). */
export async function pagesForRun(dir: string, incidents: readonly Incident[], rules: string[] | undefined): Promise<IncidentPage[]> {
  const { loadRuleNotes, pagesFromFolder } = await import('../report/incident-source.ts');
  return pagesFromFolder(dir, incidents, await loadRuleNotes(rules));
}

/**
 * `seam report incident <id|--latest>`: one self-contained HTML page for one incident, from a `seam run`
 * output folder (default `out/`) or from OpenSearch (`--from opensearch`: the alerts index, grouped the way
 * `seam run` groups them, and the event indices). Prints the file's path.
 */
export async function reportIncidentCommand(o: ReportIncidentOptions, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  if (o.id === undefined && !o.latest) {
    err.write('seam report incident: name an incident id (inc-…, or its key: the identity ARN) or pass --latest\n');
    return 2;
  }
  const { loadCliConfig } = await import('./config.ts');
  const loaded = await loadCliConfig(o.config, o.env ?? process.env, err);
  if (loaded === undefined) return 2;
  const src = await import('../report/incident-source.ts');
  if (o.rules !== undefined) {
    // The triage notes come from these rules: a typo or an empty folder must not quietly drop them.
    const { existsSync } = await import('node:fs');
    const { ruleFilesUnder } = await import('../detect/sigma/ruleset.ts');
    const missing = o.rules.filter((r) => !existsSync(r));
    const empty = ruleFilesUnder(o.rules.filter((r) => existsSync(r))).empty;
    if (missing.length > 0 || empty.length > 0) {
      err.write(`seam report incident: SEAM_ERR_RULES_EMPTY: ${[...missing.map((m) => `${m} does not exist`), ...empty.map((e) => `no rule files under ${e}`)].join('; ')}\n`);
      return 2;
    }
  }
  const notes = await src.loadRuleNotes(o.rules !== undefined ? o.rules : loaded.config.rules.paths);
  const from = (o.from ?? 'input').toLowerCase();
  let page: IncidentPage;
  let defaultDir: string;
  /** With --latest: why this incident (`latestIncident`). */
  let chosen: string | undefined;
  try {
    if (from === 'opensearch') {
      const { createOpenSearchClient } = await import('../sinks/opensearch/client.ts');
      const { OpenSearchSinkConfig } = await import('../sinks/opensearch/config.ts');
      // The config's nodes, credentials, TLS and SigV4 settings; --url and --index-prefix override it.
      const prefix = o.indexPrefix ?? loaded.config.opensearch.indexPrefix;
      const cfg = OpenSearchSinkConfig.parse({ ...loaded.config.opensearch, ...(o.url ? { nodeUrls: [o.url] } : {}), indexPrefix: prefix });
      const client = await createOpenSearchClient(cfg);
      try {
        const incidents = await src.incidentsFromOpenSearch(client, prefix);
        if (incidents.length === 0) {
          const empty = await noAlertsIndexed(client, prefix);
          if (empty !== undefined) {
            const { settingOrigin } = await import('./unreachable.ts');
            const origin = settingOrigin(loaded, 'opensearch.indexPrefix', o.indexPrefix !== undefined ? '--index-prefix' : undefined);
            err.write(`seam report incident: no alert in ${prefix}-alerts-* at ${cfg.nodeUrls.join(',')} (prefix '${prefix}' from ${origin}), so no incident to draw.${empty.length > 0 ? ` Seam alert indices there have the prefix ${empty.map((p) => `'${p}'`).join(', ')} (--index-prefix).` : ''} How alerts get there: docs/hunting.md, "First: events in OpenSearch"\n`);
            return 1;
          }
        }
        const inc = src.pickIncident(incidents, { ...(o.id !== undefined ? { id: o.id } : {}), ...(o.latest ? { latest: true } : {}) });
        if (o.id === undefined) chosen = src.latestIncident(incidents).why;
        page = await src.pageFromOpenSearch(client, prefix, inc, notes, `OpenSearch ${cfg.nodeUrls.join(',')} (${prefix}-alerts-*, ${prefix}-events-*)`);
      } finally {
        await client.close();
      }
      defaultDir = o.input ?? 'out';
    } else if (from === 'input') {
      const dir = o.input ?? 'out';
      const incidents = await src.incidentsFromFolder(dir);
      const inc = src.pickIncident(incidents, { ...(o.id !== undefined ? { id: o.id } : {}), ...(o.latest ? { latest: true } : {}) });
      if (o.id === undefined) chosen = src.latestIncident(incidents).why;
      [page] = (await src.pagesFromFolder(dir, [inc], notes)) as [IncidentPage];
      defaultDir = dir;
    } else {
      err.write(`seam report incident: --from takes 'opensearch' (or leave it out and pass --input <folder>); got '${o.from}'\n`);
      return 2;
    }
  } catch (e) {
    const { isConnectionFailure, openSearchUnreachable, settingOrigin } = await import('./unreachable.ts');
    if (from === 'opensearch' && isConnectionFailure(e)) {
      const urls = o.url ? [o.url] : loaded.config.opensearch.nodeUrls;
      err.write(`seam report incident: ${openSearchUnreachable(urls, settingOrigin(loaded, 'opensearch.nodeUrls', o.url ? '--url' : undefined), e)}\n`);
    } else err.write(`seam report incident: ${(e as Error).message}\n`);
    return 1;
  }
  const { renderIncidentHtml } = await import('../report/incident-html.ts');
  const file = o.out ?? join(defaultDir, `incident-${page.id}.html`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderIncidentHtml(page));
  out.write(`${file}\n`);
  const n = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;
  // Every event the page read, as --evidence writes them: where more than the alerts and the chain name, say from where.
  const read = eventsRead(page);
  const more = [read.calls > 0 ? `${read.calls} more AWS calls of the chain` : '', read.before > 0 ? `${read.before} more from the hour before the first alert` : ''].filter(Boolean);
  const eventsText = `${n(read.events.size, 'event')}${more.length > 0 ? ` read (${read.named} the alerts and the chain name, ${more.join(', ')})` : ''}`;
  err.write(`seam report incident: ${page.id} [${page.incident.level}] ${page.incident.key}: ${n(page.incident.alerts.length, 'alert')}, ${eventsText}, ${n(page.awsCalls.length, 'AWS call')}${chosen === undefined ? '' : `; --latest: ${chosen}`}\n`);
  if (o.evidence !== undefined) {
    const written = writeEvidence(page, o.evidence);
    for (const w of written) err.write(`seam report incident: evidence: ${w.file} (${n(w.lines, w.what)}) sha256 ${w.sha256}\n`);
  }
  return 0;
}

/**
 * Writes an incident's evidence as a `seam run` output folder: `alerts.jsonl` (its alerts as stored, in time order) and
 * `events.jsonl` (every event its page read: the alerts' evidence and context, the chain's, the chain's AWS calls and
 * the hour before; each the stored document, raw record and `seam.*`, once, in time order). `seam report incident
 * <id> --input DIR` draws the page from it again. Returns each file with its line count and sha256, for a case file.
 */
export function writeEvidence(page: IncidentPage, dir: string): { file: string; what: string; lines: number; sha256: string }[] {
  const byTime = <T extends { '@timestamp'?: string | undefined }>(a: T, b: T, id: (x: T) => string): number =>
    (a['@timestamp'] ?? '') < (b['@timestamp'] ?? '') ? -1 : (a['@timestamp'] ?? '') > (b['@timestamp'] ?? '') ? 1 : id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0;
  const { events } = eventsRead(page);
  const alerts = [...page.incident.alerts].sort((a, b) => byTime(a, b, (x) => x.id));
  const evs = [...events.values()].sort((a, b) => byTime(a, b, (x) => x.seam.id));
  mkdirSync(dir, { recursive: true });
  const write = (name: string, what: string, rows: readonly unknown[]): { file: string; what: string; lines: number; sha256: string } => {
    const file = join(dir, name);
    const text = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    writeFileSync(file, text);
    return { file, what, lines: rows.length, sha256: createHash('sha256').update(text).digest('hex') };
  };
  return [write('alerts.jsonl', 'alert', alerts), write('events.jsonl', 'event', evs)];
}

/**
 * When `<prefix>-alerts-*` holds no alert (a wrong prefix, an index role that never ran): the prefixes of the alert
 * indices the node does have, so the message can name them; undefined when there are alerts (they form no incident).
 */
async function noAlertsIndexed(client: Client, prefix: string): Promise<string[] | undefined> {
  const counted = await client.count({ index: `${prefix}-alerts-*`, ignore_unavailable: true, allow_no_indices: true } as never);
  if (((counted.body as { count?: number }).count ?? 0) > 0) return undefined;
  try {
    const rows = (await client.cat.indices({ index: '*-alerts-*', format: 'json', h: 'index' } as never)).body as { index?: string }[];
    const prefixes = new Set<string>();
    for (const r of rows) {
      const m = /^(.+)-alerts-\d{4}\.\d{2}\.\d{2}$/.exec(r.index ?? '');
      if (m !== null && m[1] !== prefix) prefixes.add(m[1]!);
    }
    return [...prefixes].sort();
  } catch {
    return []; // a role without cat permission: say what is missing without the others
  }
}
