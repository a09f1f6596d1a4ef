// `seam hunt --alert ID` (review-hunter M4): from an alert to the events it names, on the demo story indexed through
// Seam's own sink into the real local OpenSearch (events as who-pivots.test.ts indexes them, alerts as the index role
// writes them: alertTarget, external version). A Sigma alert, a native alert and a correlation alert must print
// exactly the events the alert names, in event-time order; --raw the stored documents; an unknown id, a wrong
// prefix and an event gone from the index must say so with hunt's exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUNT_EXIT } from '../../src/cli/hunt.ts';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { whoHit, type WhoHit } from '../../src/hunt/who.ts';
import { dropDemo, huntCli, indexDemo } from '../helpers/hunt-demo.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';

describe('seam hunt --alert: from an alert to its events', () => {
  const prefix = `seamt_${RUN_ID}_alertp`.toLowerCase();
  const os = new Client({ node: opensearchUrl() });
  let events = new Map<string, SeamEvent>();
  /** The alerts as the index holds them: the last version written per id. */
  const alerts = new Map<string, Alert>();
  /** Every version of every alert, as the run raised them. */
  let raised: Alert[] = [];

  beforeAll(async () => {
    const demo = await indexDemo(os, prefix, { alerts: true });
    events = demo.byId;
    raised = demo.raised;
    // What the index holds per id, read back (a finding alert's later version replaces the earlier).
    const resp = await os.search({ index: `${prefix}-alerts-*`, body: { size: 1000, query: { match_all: {} } } as never });
    for (const h of resp.body.hits.hits as { _source: Alert }[]) alerts.set(h._source.id, h._source);
    expect(alerts.size).toBe(new Set(raised.map((a) => a.id)).size);
  }, 300_000);

  afterAll(() => dropDemo(os, prefix));

  /** The alert's events (and context), ordered as hunt orders them: event time, then seam.id. */
  const ordered = (a: Alert): string[] =>
    [...new Set([...a.events, ...(a.related_events ?? [])])]
      .map((id) => events.get(id)!)
      .sort((x, y) => Date.parse(x['@timestamp']) - Date.parse(y['@timestamp']) || (x.seam.id < y.seam.id ? -1 : 1))
      .map((e) => e.seam.id);

  /** The alert of this type with the most events (the most to get wrong). */
  const pick = (type: Alert['rule']['type'], p: (a: Alert) => boolean = () => true): Alert => {
    const of = [...alerts.values()].filter((a) => a.rule.type === type && p(a)).sort((x, y) => y.events.length - x.events.length || x.id.localeCompare(y.id));
    expect(of.length, `a ${type} alert in the demo`).toBeGreaterThan(0);
    return of[0]!;
  };

  const checkPrinted = async (a: Alert): Promise<WhoHit[]> => {
    const r = await huntCli({ alert: a.id, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(HUNT_EXIT.searched);
    const hits = r.lines as unknown as (WhoHit & { related?: true })[];
    // Exactly the alert's events, each once, in event-time order.
    expect(hits.map((h) => h['seam.id'])).toEqual(ordered(a));
    expect(new Set(hits.filter((h) => h.related !== true).map((h) => h['seam.id']))).toEqual(new Set(a.events));
    const times = hits.map((h) => Date.parse(h['@timestamp']));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // The line is the --who line of the stored event.
    for (const h of hits) {
      const { related, ...line } = h;
      expect(line).toEqual(JSON.parse(JSON.stringify(whoHit(events.get(h['seam.id'])!))));
      expect(related === true).toBe(!a.events.includes(h['seam.id']));
    }
    expect(r.err).toContain(`hunt --alert ${a.id}: rule=${a.rule.id} (${a.rule.title}) type=${a.rule.type}`);
    expect(r.err).toContain(`level=${a.rule.level} events=${new Set(a.events).size}/${new Set(a.events).size}`);
    return hits;
  };

  it('a Sigma alert prints its event', async () => {
    const a = pick('sigma');
    const hits = await checkPrinted(a);
    expect(hits.length).toBeGreaterThan(0);
  });

  it('a native alert prints the events it joined, across planes', async () => {
    const a = pick('native', (x) => new Set(x.events.map((id) => events.get(id)!.seam.source)).size > 1);
    const hits = await checkPrinted(a);
    expect(new Set(hits.map((h) => h.source)).size).toBeGreaterThan(1);
  });

  it('a native alert with context prints its related events, marked', async () => {
    const withContext = [...alerts.values()].filter((a) => (a.related_events?.length ?? 0) > 0);
    // The demo's GuardDuty incident alerts join the identity's activity around the finding as context.
    expect(withContext.length).toBeGreaterThan(0);
    for (const a of withContext) {
      const hits = await checkPrinted(a);
      expect(hits.filter((h) => (h as { related?: true }).related === true).length).toBeGreaterThan(0);
    }
  });

  it('a correlation alert prints the events behind its members', async () => {
    const a = pick('correlation');
    const hits = await checkPrinted(a);
    expect(hits.length).toBeGreaterThan(1);
    // Its window is the span of those events: the first and the last printed.
    expect([Date.parse(hits[0]!['@timestamp']), Date.parse(hits.at(-1)!['@timestamp'])]).toEqual([Date.parse(a.window!.start), Date.parse(a.window!.end)]);
    // The members' events: every alert of a rule the correlation names whose events are among the correlation's.
    const members = [...alerts.values()].filter((m) => m.id !== a.id && m.rule.type !== 'correlation' && m.events.every((id) => a.events.includes(id)));
    expect(members.length).toBeGreaterThan(0);
  });

  it('--raw prints the stored documents as stored', async () => {
    const a = pick('correlation');
    const r = await huntCli({ alert: a.id, raw: true, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(0);
    expect(r.lines).toEqual(ordered(a).map((id) => JSON.parse(JSON.stringify(events.get(id)!)) as unknown));
  });

  it('every alert id seam run prints under its ALERT line resolves with seam hunt --alert', async () => {
    // `seam run` on the demo as `npm start` runs it (embedded, its own state folder; no SEAM_* of this machine, so not
    // the Kafka path): what an analyst reads on the terminal. The index above holds the same demo's alerts.
    const root = join(import.meta.dirname, '../..');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SEAM_')));
    const run = spawnSync(process.execPath, [join(root, 'bin/seam.mjs'), 'run', '--state-dir', await mkdtemp(join(tmpdir(), 'seam-alertp-run-'))], { cwd: root, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    const at = lines.flatMap((l, i) => (l.startsWith('ALERT [') ? [i] : []));
    expect(at.length).toBeGreaterThan(10);
    const ids = at.map((i) => /^ {2}alert id: ([0-9a-f]{32})$/.exec(lines[i + 1] ?? '')?.[1]);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    for (const [k, id] of ids.entries()) {
      const line = lines[at[k]!]!;
      const a = alerts.get(id!);
      expect(a, `${line}: its id ${id} is not in the alerts index`).toBeDefined();
      expect(line).toContain(` ${a!.rule.title}`);
      const r = await huntCli({ alert: id!, indexPrefix: prefix, url: opensearchUrl() });
      expect(r.code, `${line}\n${r.err}`).toBe(HUNT_EXIT.searched);
      expect(r.err).toContain(`hunt --alert ${id}: rule=${a!.rule.id} (${a!.rule.title})`);
      expect((r.lines as WhoHit[]).map((h) => h['seam.id'])).toEqual(ordered(a!));
    }
    process.stdout.write(`alert-pivot: ${ids.length} ALERT lines of seam run, every id resolved by seam hunt --alert\n`);
  });

  it('an id that is not an alert, a wrong prefix and a misuse say so with hunt exit codes', async () => {
    const unknown = await huntCli({ alert: '0123456789abcdef0123456789abcdef', indexPrefix: prefix, url: opensearchUrl() });
    expect(unknown.code).toBe(HUNT_EXIT.error);
    expect(unknown.lines).toEqual([]);
    expect(unknown.err).toContain(`alert 0123456789abcdef0123456789abcdef is not in ${prefix}-alerts-*`);
    const noIndex = await huntCli({ alert: '0123456789abcdef0123456789abcdef', indexPrefix: `${prefix}none`, url: opensearchUrl() });
    expect(noIndex.code).toBe(HUNT_EXIT.nothingSearched);
    expect(noIndex.err).toContain(`no index matches ${prefix}none-alerts-*`);
    const incident = await huntCli({ alert: 'inc-9d260b075cad', indexPrefix: prefix, url: opensearchUrl() });
    expect(incident.code).toBe(HUNT_EXIT.usage);
    expect(incident.err).toContain('that is an incident id');
    expect((await huntCli({ alert: pick('sigma').id, who: 'alice', indexPrefix: prefix })).code).toBe(HUNT_EXIT.usage);
    expect((await huntCli({ rules: ['detections'], raw: true, indexPrefix: prefix })).code).toBe(HUNT_EXIT.usage);
  });

  it('an event no longer in the index is named and the answer is partial (exit 4)', async () => {
    const a = pick('native', (x) => x.events.length > 1);
    const gone = a.events[0]!;
    const e = events.get(gone)!;
    const found = await os.search({ index: `${prefix}-events-*`, body: { query: { ids: { values: [gone] } } } as never });
    const hit = (found.body.hits.hits as { _index: string }[])[0]!;
    await os.delete({ index: hit._index, id: gone, refresh: true });
    const r = await huntCli({ alert: a.id, indexPrefix: prefix, url: opensearchUrl() });
    expect(r.code, r.err).toBe(HUNT_EXIT.partial);
    expect((r.lines as unknown as WhoHit[]).map((h) => h['seam.id'])).toEqual(ordered(a).filter((id) => id !== gone));
    expect(r.err).toContain(`events=${new Set(a.events).size - 1}/${new Set(a.events).size}`);
    expect(r.err).toContain(`not in ${prefix}-events-* (aged out by retention, or never indexed): ${gone}`);
    expect(e.seam.id).toBe(gone);
  });
});
