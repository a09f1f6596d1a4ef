// Incident lifecycle (ADR 0020) in the real incidents index: the OpenSearch sink merges `seam.incidents`
// updates of one identity that went quiet for more than the window into two incidents, closes the first in
// event time, keeps an analyst's concurrent update, and gives the same documents as embedded mode's file sink.
// Then the demo, embedded as `npm start` runs it, with a 2-minute window from the detection options (seam.yml
// `incidents.closeAfterMs`): the console's incidents (`incidentsFrom`) are the file index's, id for id.
import { Client } from '@opensearch-project/opensearch';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupOpenSearchCommand } from '../src/cli/setup.ts';
import type { Alert } from '../src/detect/alert.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { runEmbedded } from '../src/pipeline/embedded.ts';
import { FileIndexSink } from '../src/pipeline/file-sink.ts';
import { incidentsFrom } from '../src/pipeline/incident.ts';
import { incidentId, type IncidentDoc, type IncidentUpdate } from '../src/pipeline/incident-topic.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { loadPlaceholdersFile } from '../src/detect/load.ts';
import { dropPrefix } from './helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const prefix = `seamt_${RUN_ID}_lifecycle`;
const H = 3600_000;
const at = (h: number): string => new Date(Date.parse('2025-03-01T00:00:00Z') + h * H).toISOString();
const key = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com';
const series = incidentId(key);
const up = (id: string, h: number, level: IncidentUpdate['alert']['level']): IncidentUpdate => ({ v: 1, incident: series, key, account: '111122223333', alert: { id, '@timestamp': at(h), level, rule: `r-${id}`, title: id } });
// Two bursts 30 h apart (window 24 h), and a late alert of the first burst arriving last (medium+: a low alert
// would be context, not part of the span, ADR 0051).
const updates = [up('a1', 0, 'high'), up('a2', 1, 'medium'), up('b1', 31, 'critical'), up('b2', 32, 'medium'), up('a3', 3, 'medium')];
const seamFields = (d: IncidentDoc): unknown => ({ ...d, updated_at: undefined, status: undefined });

let client: Client;
let sink: OpenSearchSink;

beforeAll(async () => {
  client = new Client({ node: opensearchUrl() });
  await dropPrefix(client, prefix);
  expect(await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 1000, out: { write: () => undefined } })).toBe(0);
  sink = await OpenSearchSink.fromConfig({ nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0 });
});

afterAll(async () => {
  await sink?.close();
  await dropPrefix(client, prefix);
  await client?.close();
});

async function docs(): Promise<Map<string, IncidentDoc>> {
  await client.indices.refresh({ index: `${prefix}-incidents` });
  const res = await client.search({ index: `${prefix}-incidents`, body: { size: 100, query: { term: { series } } } } as never);
  return new Map((res.body as { hits: { hits: { _id: string; _source: IncidentDoc }[] } }).hits.hits.map((h) => [h._id, h._source]));
}

describe('incident lifecycle in <prefix>-incidents (ADR 0020)', () => {
  it('opens a second incident after the quiet window, closes the first in event time, and keeps the analyst’s status', async () => {
    await sink.mergeIncidents(updates.slice(0, 2));
    // An analyst triages the first incident before the second burst.
    await client.update({ index: `${prefix}-incidents`, id: series, body: { doc: { status: 'investigating', assignee: 'bob' } }, refresh: true } as never);
    await sink.mergeIncidents(updates.slice(2));
    const got = await docs();
    expect([...got.keys()].sort()).toEqual([series, `${series}-2`]);
    expect(got.get(series)).toMatchObject({ alert_ids: ['a1', 'a2', 'a3'], end: at(3), closes_at: at(27), closed_at: at(27), status: 'investigating', assignee: 'bob', episode: 1, episodes: 2 });
    expect(got.get(`${series}-2`)).toMatchObject({ alert_ids: ['b1', 'b2'], level: 'critical', closed_at: null, closes_at: at(56), status: 'open', series, episode: 2 });
    // The index's closes_at / closed_at are dates: a range query finds the closed incident.
    const closed = await client.search({ index: `${prefix}-incidents`, body: { query: { range: { closed_at: { lte: at(30) } } } } } as never);
    expect((closed.body as { hits: { total: { value: number } } }).hits.total.value).toBe(1);
    // Redelivery changes nothing.
    expect(await sink.mergeIncidents(updates)).toBe(0);

    // Embedded mode's file sink, fed the same updates in one batch, gives the same Seam-owned fields.
    const dir = await mkdtemp(join(tmpdir(), 'seam-lifecycle-'));
    const file = await FileIndexSink.open(dir);
    await file.mergeIncidents(updates);
    await file.close();
    const embedded = new Map<string, IncidentDoc>();
    for (const line of (await readFile(join(dir, 'incidents.jsonl'), 'utf8')).split('\n')) if (line.trim()) embedded.set((JSON.parse(line) as IncidentDoc).id, JSON.parse(line) as IncidentDoc);
    expect(new Map([...embedded].map(([id, d]) => [id, seamFields(d)]))).toEqual(new Map([...got].map(([id, d]) => [id, seamFields({ ...d, assignee: null })])));
    expect(embedded.get(series)!.status).toBe('closed');
  });
});

describe('incident lifecycle embedded, console against index (ADR 0020)', () => {
  it('splits the demo where an identity went quiet for the configured window, the same in the console as in incidents.jsonl', async () => {
    const root = join(import.meta.dirname, '..');
    const W = 120_000;
    const detection = await loadDetection({ rules: [join(root, 'detections')], placeholders: await loadPlaceholdersFile(join(root, 'deploy/config/placeholders.yml')), incidentCloseAfterMs: W });
    const alerts: Alert[] = [];
    const r = await runEmbedded({ paths: [join(root, 'deploy/demo')], stateDir: await mkdtemp(join(tmpdir(), 'seam-lifecycle-demo-')), detection, maxRecordBytes: 1 << 20, cluster: 'prod-eks-01', onAlert: (a) => alerts.push(a) });
    const index = new Map<string, IncidentDoc>();
    for (const line of (await readFile(r.paths.incidents, 'utf8')).split('\n')) if (line.trim()) index.set((JSON.parse(line) as IncidentDoc).id, JSON.parse(line) as IncidentDoc);
    const printed = incidentsFrom(alerts, W);
    const view = (id: string, alertIds: string[], status: string, closedAt: string | null | undefined, level: string): unknown => ({ id, alertIds: [...alertIds].sort(), status, closedAt: closedAt ?? null, level });
    const byId = (x: { id: string }, y: { id: string }): number => x.id.localeCompare(y.id);
    const fromConsole = [...printed].sort(byId).map((i) => view(i.id, i.alerts.map((a) => a.id), i.status, i.closedAt, i.level));
    const fromIndex = [...index.values()].filter((d) => d.status !== 'context').sort(byId).map((d) => view(d.id, d.alert_ids, d.status, d.closed_at, d.level));
    expect(fromConsole).toEqual(fromIndex);
    // 5 on the demo (2026-12-05): low and informational alerts open none (ADR 0051).
    expect(fromIndex.length).toBeGreaterThan(2);
    // With a 2-minute window alice's ~11 minutes of alerts are more than one incident, and the earlier ones are closed.
    const alice = printed.filter((i) => i.key.endsWith('PlatformAdmin/alice@example.com'));
    expect(alice.length).toBeGreaterThan(1);
    expect(alice.filter((i) => i.status === 'closed').length).toBeGreaterThan(0);
    expect(new Set(alice.map((i) => i.id)).size).toBe(alice.length);
    for (const i of alice.filter((x) => x.status === 'closed')) expect(i.closedAt).toBe(new Date(Date.parse(i.end) + W).toISOString());
  }, 120_000);
});
