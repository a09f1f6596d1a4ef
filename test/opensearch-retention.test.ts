// Retention of the two single indices (review platsec M8) on the real local OpenSearch, through `seam setup
// opensearch` with a seam.yml setting ism.identityRetentionDays and ism.incidentsRetentionDays: identity versions
// closed before the cutoff go and open ones stay however old; an identity's incidents go as a whole series once Seam
// wrote none of them within the retention, never part of one, so the next alert of a kept series still joins its
// open incident. The dry run counts and deletes nothing; a second run finds nothing. The local node has no ISM plugin:
// the age-out runs without it.
import { Client } from '@opensearch-project/opensearch';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupOpenSearchCommand } from '../src/cli/setup.ts';
import { versionId } from '../src/identity/record.ts';
import type { IdentityDoc } from '../src/identity/types.ts';
import { applyIncidentUpdates, incidentId, type IncidentDoc, type IncidentStore, type IncidentUpdate } from '../src/pipeline/incident-topic.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { dropPrefix } from './helpers/opensearch-cleanup.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const prefix = `seamt_${RUN_ID}_retention`;
const DAY = 86_400_000;
const H = 3_600_000;
const now = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
const E0 = Date.parse('2025-03-01T00:00:00Z');

let client: Client;
let sink: OpenSearchSink;
let config: string;

beforeAll(async () => {
  client = new Client({ node: opensearchUrl() });
  await dropPrefix(client, prefix);
  const dir = await mkdtemp(join(tmpdir(), 'seam-retention-'));
  config = join(dir, 'seam.yml');
  await writeFile(config, 'ism:\n  identityRetentionDays: 30\n  incidentsRetentionDays: 30\n');
  expect(await setup()).toMatchObject({ code: 0 });
  sink = await OpenSearchSink.fromConfig({ nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0 });
});

afterAll(async () => {
  await sink?.close();
  await dropPrefix(client, prefix);
  await client?.close();
});

async function setup(dryRun = false): Promise<{ code: number; retention: string[] }> {
  const lines: string[] = [];
  const code = await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 1000, config, dryRun, out: { write: (s: string) => lines.push(s) }, env: {} });
  return { code, retention: lines.filter((l) => l.includes(` retention ${prefix}-`)).map((l) => l.trim()) };
}

async function ids(index: string): Promise<string[]> {
  await client.indices.refresh({ index });
  const res = await client.search({ index, body: { size: 1000, _source: false, query: { match_all: {} } } } as never);
  return (res.body as { hits: { hits: { _id: string }[] } }).hits.hits.map((h) => h._id).sort();
}

/** An identity version as the index role writes it (src/identity/record.ts `identityDoc`). */
function version(key: string, from: number, to?: number): IdentityDoc {
  const d: IdentityDoc = { id: versionId({ key, valid_from: iso(from) }), kind: 'aws_auth_mapping', from: key, to: 'k8s:prod:user:x', cluster: 'prod', account: '111122223333', valid_from: iso(from), provenance: `ev-${key}` };
  if (to !== undefined) d.valid_to = iso(to);
  return d;
}

const upd = (who: string, id: string, h: number, level: IncidentUpdate['alert']['level']): IncidentUpdate => ({ v: 1, incident: incidentId(who), key: who, account: '111122223333', alert: { id, '@timestamp': iso(E0 + h * H), level, rule: `r-${id}`, title: id } });

/** Incidents merged (the production merge) as they were on the day `at`, then written into the real index. */
async function mergedOn(at: number, updates: IncidentUpdate[], seed: Map<string, IncidentDoc> = new Map()): Promise<Map<string, IncidentDoc>> {
  const docs = new Map(seed);
  const store: IncidentStore = {
    read: async (wanted) => new Map(wanted.filter((id) => docs.has(id)).map((id) => [id, { doc: docs.get(id)!, version: 1 }])),
    write: async (ws) => {
      for (const w of ws) docs.set(w.id, w.doc);
      return new Set();
    },
  };
  await applyIncidentUpdates(store, updates, new Date(at));
  for (const [id, doc] of docs) await client.index({ index: `${prefix}-incidents`, id, body: doc } as never);
  return docs;
}

describe('retention of the identity index counts from when Seam wrote a version', () => {
  it("keeps versions of old events written within the retention (a replay of last year's logs, the 2024 demo), ages out those written before it", async () => {
    // Closed 500 days ago in event time (the demo's story is from 2024-11-05), as the index role writes them now:
    // the sink stamps indexed_at. One written (indexed_at) 40 days ago and closed 500 days ago goes; one written
    // before indexed_at existed, closed 40 days ago, goes by valid_to as before.
    const replayedNow = version('replayed-now', now - 600 * DAY, now - 500 * DAY);
    const openReplayed = version('open-replayed', now - 600 * DAY);
    const writtenOld = version('written-old', now - 600 * DAY, now - 500 * DAY);
    const legacy = version('legacy', now - 100 * DAY, now - 40 * DAY);
    const stamped = sink.identityTarget(replayedNow);
    expect(stamped.doc.indexed_at >= iso(now)).toBe(true);
    const docs = [
      stamped,
      sink.identityTarget(openReplayed),
      sink.identityTarget(writtenOld, now - 40 * DAY),
      { ...sink.identityTarget(legacy), doc: legacy },
    ];
    const written = await sink.write(docs);
    expect(written.map((r) => r.status)).toEqual(['acked', 'acked', 'acked', 'acked']);
    await client.indices.refresh({ index: `${prefix}-identity` });
    // indexed_at is a date in the index (setup put it in the template and into the index made before it).
    const mapping = (await client.indices.getFieldMapping({ index: `${prefix}-identity`, fields: 'indexed_at' } as never)).body as Record<string, { mappings: Record<string, { mapping: Record<string, { type: string }> }> }>;
    expect(mapping[`${prefix}-identity`]!.mappings.indexed_at!.mapping.indexed_at!.type).toBe('date');

    const run = await setup();
    expect(run.code).toBe(0);
    expect(run.retention[0]).toMatch(new RegExp(`^deleted +retention ${prefix}-identity — 2 document\\(s\\): edge versions closed before \\S+ and not written since `));
    const left = await ids(`${prefix}-identity`);
    expect(left).toContain(replayedNow.id);
    expect(left).toContain(openReplayed.id);
    expect(left).not.toContain(writtenOld.id);
    expect(left).not.toContain(legacy.id);
    // Leave the index as the next test expects it: empty.
    for (const d of [replayedNow, openReplayed]) await client.delete({ index: `${prefix}-identity`, id: d.id, refresh: true } as never);
  });
});

describe('indexed_at in an identity index made before it existed', () => {
  it('setup maps it as a date there, before the index role writes it (the role runs setup at start)', async () => {
    const older = `${prefix}_older`;
    await dropPrefix(client, older);
    try {
      // As an identity index of an earlier release: no template of this prefix yet, the version fields only.
      await client.indices.create({ index: `${older}-identity`, body: { mappings: { properties: { valid_to: { type: 'date' } } } } } as never);
      const lines: string[] = [];
      expect(await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: older, replicas: 0, config, out: { write: (s: string) => lines.push(s) }, env: {} })).toBe(0);
      expect(lines.some((l) => new RegExp(`created +index mapping ${older}-identity\\.indexed_at`).test(l)), lines.join('')).toBe(true);
      const mapping = (await client.indices.getFieldMapping({ index: `${older}-identity`, fields: 'indexed_at' } as never)).body as Record<string, { mappings: Record<string, { mapping: Record<string, { type: string }> }> }>;
      expect(mapping[`${older}-identity`]!.mappings.indexed_at!.mapping.indexed_at!.type).toBe('date');
    } finally {
      await dropPrefix(client, older);
    }
  });
});

describe('retention of the identity and incidents indices (seam setup opensearch)', () => {
  it('ages out closed identity versions and whole quiet incident series, and leaves the rest working', async () => {
    // Identity: open for two years (a mapping still in force), closed 40 days ago, closed 10 days ago, expiring in an hour.
    const open = version('open', now - 700 * DAY);
    const closedOld = version('closed-old', now - 100 * DAY, now - 40 * DAY);
    const closedRecent = version('closed-recent', now - 100 * DAY, now - 10 * DAY);
    const expiring = version('expiring', now - H, now + H);
    const written = await sink.write([open, closedOld, closedRecent, expiring].map((d) => ({ ...sink.identityTarget(d), doc: d })));
    expect(written.map((r) => r.status)).toEqual(['acked', 'acked', 'acked', 'acked']);

    // Incidents. alice: three incidents (each burst 30 h after the last, window 24 h) merged 40 days ago, then a fourth
    // merged now: the merge rewrites the first (its count), closes the third and opens the fourth, and leaves the
    // second as it was 40 days ago. bob: an incident and a context document, all 40 days ago. carol: one, now.
    // Two documents from before series (ADR 0020): one written 40 days ago, one now.
    const alice = 'arn:aws:iam::111122223333:user/alice';
    const bob = 'arn:aws:iam::111122223333:user/bob';
    const carol = 'arn:aws:iam::111122223333:user/carol';
    const a = incidentId(alice);
    const b = incidentId(bob);
    const c = incidentId(carol);
    const aliceDocs = await mergedOn(now - 40 * DAY, [upd(alice, 'a1', 0, 'high'), upd(alice, 'a2', 30, 'medium'), upd(alice, 'a3', 60, 'medium')]);
    expect([...aliceDocs.keys()].sort()).toEqual([a, `${a}-2`, `${a}-3`]);
    await mergedOn(now - 40 * DAY, [upd(bob, 'b1', 0, 'high'), upd(bob, 'b0', 200, 'low')]);
    await client.index({ index: `${prefix}-incidents`, id: 'inc-legacyold', body: { id: 'inc-legacyold', key: 'old', status: 'open', updated_at: iso(now - 40 * DAY) } } as never);
    await client.index({ index: `${prefix}-incidents`, id: 'inc-legacynew', body: { id: 'inc-legacynew', key: 'new', status: 'open', updated_at: iso(now) } } as never);
    await client.indices.refresh({ index: `${prefix}-incidents` });
    expect(await sink.mergeIncidents([upd(alice, 'a4', 90, 'high'), upd(carol, 'c1', 0, 'medium')])).toBeGreaterThan(0);
    const before = await ids(`${prefix}-incidents`);
    expect(before).toEqual([a, `${a}-2`, `${a}-3`, `${a}-4`, b, `${b}-context`, c, 'inc-legacynew', 'inc-legacyold'].sort());
    const second = (await client.get({ index: `${prefix}-incidents`, id: `${a}-2` })).body._source as IncidentDoc;
    expect(Date.parse(second.updated_at)).toBeLessThan(now - 30 * DAY);

    // Dry run: counted, nothing deleted (on what is searchable: refreshed first, as a daily run long after the writes sees it).
    await client.indices.refresh({ index: `${prefix}-identity,${prefix}-incidents` });
    const dry = await setup(true);
    expect(dry.code).toBe(0);
    expect(dry.retention).toEqual([
      expect.stringMatching(new RegExp(`^would delete +retention ${prefix}-identity — 1 document\\(s\\): edge versions closed before `)),
      expect.stringMatching(new RegExp(`^would delete +retention ${prefix}-incidents — 3 document\\(s\\): 1 series with no incident written since `)),
    ]);
    expect(await ids(`${prefix}-identity`)).toHaveLength(4);
    expect(await ids(`${prefix}-incidents`)).toEqual(before);

    const run = await setup();
    expect(run.code).toBe(0);
    expect(run.retention.map((l) => l.split(' — ')[0]!.replace(/ +/g, ' '))).toEqual([`deleted retention ${prefix}-identity`, `deleted retention ${prefix}-incidents`]);
    expect(await ids(`${prefix}-identity`)).toEqual([open.id, closedRecent.id, expiring.id].sort());
    // bob's series and the old legacy document are gone; alice's series stays whole, its 40-day-old second incident too.
    expect(await ids(`${prefix}-incidents`)).toEqual([a, `${a}-2`, `${a}-3`, `${a}-4`, c, 'inc-legacynew'].sort());

    // alice's next alert joins her open fourth incident (her first one still counts the series).
    await sink.mergeIncidents([upd(alice, 'a5', 95, 'medium')]);
    const fourth = (await client.get({ index: `${prefix}-incidents`, id: `${a}-4` })).body._source as IncidentDoc;
    expect(fourth).toMatchObject({ alert_ids: ['a4', 'a5'], status: 'open' });
    expect(await ids(`${prefix}-incidents`)).toHaveLength(6);

    // Again: nothing left to delete.
    const again = await setup();
    expect(again.retention.map((l) => l.split(' — ')[0]!.replace(/ +/g, ' '))).toEqual([`unchanged retention ${prefix}-identity`, `unchanged retention ${prefix}-incidents`]);
  });
});
