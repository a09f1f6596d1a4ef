// Hunting correlations over history (ADR 0058) on the real local OpenSearch, against embedded replay: the same
// records replayed as `seam replay` runs them (runEmbedded), their events indexed as the index role writes them,
// then hunted. A correlation hunt must raise the alerts embedded mode raised, with the same ids and events:
// - hand-written rules and one correlation of each Sigma type (event_count early and judged, value_count,
//   temporal, temporal_ordered) over synthetic CloudTrail records, through the CLI;
// - every correlation of the pack over the demo story;
// - and the rule parity noted as missing: `|expand` text with the rule's own wildcards, and `|cidr|expand`.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../src/core/envelope.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { compileRulesetToDsl } from '../../src/hunt/compile.ts';
import { huntCorrelation, planCorrelations } from '../../src/hunt/correlate.ts';
import { liveResolvers } from '../../src/hunt/hunt.ts';
import { loadPlaceholdersFile } from '../../src/detect/load.ts';
import { loadDetection, type Detection } from '../../src/pipeline/detection.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import { setupOpenSearch } from '../../src/sinks/opensearch/setup.ts';
import { OpenSearchSink } from '../../src/sinks/opensearch/sink.ts';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { huntCli } from '../helpers/hunt-demo.ts';
import { opensearchUrl, RUN_ID } from '../helpers/services.ts';
import { DEMO_CLUSTER, DEMO_FILE } from '../order/demo.ts';

const ROOT = join(import.meta.dirname, '../..');

/** `seam hunt` in-process (test/helpers/hunt-demo.ts), its JSON lines as records. */
async function cli(args: Parameters<typeof huntCli>[0]): Promise<{ code: number; lines: Record<string, unknown>[]; err: string }> {
  const r = await huntCli(args);
  return { code: r.code, lines: r.lines as Record<string, unknown>[], err: r.err };
}

/** Embedded replay of the files: its alerts (the last version of each id) and its events. */
async function embedded(paths: string[], detection: Detection, cluster?: string): Promise<{ alerts: Map<string, Alert>; events: SeamEvent[] }> {
  const alerts = new Map<string, Alert>();
  const r = await runEmbedded({ paths, stateDir: await mkdtemp(join(tmpdir(), 'seam-huntcorr-')), detection, maxRecordBytes: 1 << 20, ...(cluster ? { cluster } : {}), onAlert: (a) => alerts.set(a.id, a) });
  const events = (await readFile(r.paths.events, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SeamEvent);
  return { alerts, events };
}

async function indexEvents(os: Client, prefix: string, events: SeamEvent[]): Promise<void> {
  const sink = new OpenSearchSink(os, { nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 1000, flushIntervalMs: 20 });
  await setupOpenSearch(os, { templates: sink.config, ism: 'skip' });
  const results = await sink.writeEvents(events);
  expect(results.filter((x) => x.status !== 'acked')).toEqual([]);
  await sink.close();
  await os.indices.refresh({ index: `${prefix}-events-*` });
}

const correlationAlerts = (m: Map<string, Alert>): Alert[] => [...m.values()].filter((a) => a.rule.type === 'correlation');
const key = (id: string, events: readonly string[]): string => `${id} ${[...events].sort().join(',')}`;

// ---- hand-written rules and correlations -----------------------------------------------------------------------

const RULES = `title: HC Secret Read
id: 6a1e0c00-0000-4000-8000-0000000000a1
name: hc_secret_get
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventSource: secretsmanager.amazonaws.com, eventName: GetSecretValue}
  condition: sel
level: low
---
title: HC Secrets Listed
id: 6a1e0c00-0000-4000-8000-0000000000a2
name: hc_secret_list
logsource: {product: aws, service: cloudtrail}
detection:
  sel: {eventSource: secretsmanager.amazonaws.com, eventName: ListSecrets}
  condition: sel
level: low
---
title: HC Dev Role Session Outside The Corporate Networks
id: 6a1e0c00-0000-4000-8000-0000000000a3
name: hc_dev_outside
logsource: {product: aws, service: cloudtrail}
detection:
  sel:
    eventName: GetCallerIdentity
    userIdentity.arn|expand: 'arn:aws:sts::%hc_accounts%:assumed-role/dev-*/*'
  corp:
    sourceIPAddress|cidr|expand: '%hc_corp_nets%'
  condition: sel and not corp
level: low
---
title: HC Many Secret Reads
id: 6a1e0c00-0000-4000-8000-0000000000c1
correlation:
  type: event_count
  rules: [hc_secret_get]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3}
generate: true
level: medium
---
title: HC A Few Secret Reads (judged)
id: 6a1e0c00-0000-4000-8000-0000000000c2
correlation:
  type: event_count
  rules: [hc_secret_get]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 2, lte: 3}
generate: true
level: medium
---
title: HC Many Different Secrets Read
id: 6a1e0c00-0000-4000-8000-0000000000c3
correlation:
  type: value_count
  rules: [hc_secret_get]
  group-by: [userIdentity.arn]
  timespan: 10m
  condition: {gte: 3, field: requestParameters.secretId}
generate: true
level: medium
---
title: HC Secrets Listed And Read
id: 6a1e0c00-0000-4000-8000-0000000000c4
correlation:
  type: temporal
  rules: [hc_secret_get, hc_secret_list]
  group-by: [userIdentity.arn]
  timespan: 5m
generate: true
level: medium
---
title: HC Secrets Listed Then Read
id: 6a1e0c00-0000-4000-8000-0000000000c5
correlation:
  type: temporal_ordered
  rules: [hc_secret_list, hc_secret_get]
  group-by: [userIdentity.arn]
  timespan: 5m
generate: true
level: medium
---
title: HC Dev Sessions Outside Twice
id: 6a1e0c00-0000-4000-8000-0000000000c6
correlation:
  type: event_count
  rules: [hc_dev_outside]
  group-by: [userIdentity.arn]
  timespan: 1h
  condition: {gte: 2}
generate: true
level: medium
`;

const PLACEHOLDERS = "hc_accounts: ['111122223333', '444455556666']\nhc_corp_nets: ['10.1.0.0/16', '192.0.2.0/24']\n";

/** A small deterministic generator (mulberry32), so the records are the same every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CloudTrail records over six hours: a handful of identities reading and listing secrets and asking who they are. */
function records(n: number): string[] {
  const r = rng(58);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const arns = [
    'arn:aws:sts::111122223333:assumed-role/dev-team/alice',
    'arn:aws:sts::111122223333:assumed-role/dev-ops/bob',
    'arn:aws:sts::444455556666:assumed-role/dev-team/carol',
    'arn:aws:sts::999988887777:assumed-role/dev-team/dave',
    'arn:aws:sts::111122223333:assumed-role/prod/erin',
    'arn:aws:iam::111122223333:user/frank',
  ];
  const ips = ['10.1.4.20', '10.1.200.3', '192.0.2.17', '198.51.100.23', '203.0.113.9', '010.001.4.20'];
  const start = Date.parse('2026-11-20T00:00:00Z');
  let t = start;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Bursts: most gaps are seconds, some are many minutes, so windows fill and empty.
    t += r() < 0.85 ? Math.floor(r() * 40_000) : Math.floor(r() * 1_800_000);
    const arn = pick(arns);
    const name = pick(['GetSecretValue', 'GetSecretValue', 'ListSecrets', 'GetCallerIdentity', 'GetCallerIdentity', 'DescribeInstances']);
    const source = name === 'GetCallerIdentity' ? 'sts.amazonaws.com' : name === 'DescribeInstances' ? 'ec2.amazonaws.com' : 'secretsmanager.amazonaws.com';
    const account = arn.split(':')[4]!;
    out.push(
      JSON.stringify({
        eventVersion: '1.09',
        userIdentity: { type: arn.includes(':user/') ? 'IAMUser' : 'AssumedRole', arn, accountId: account, principalId: `AROA${i}` },
        eventTime: new Date(t).toISOString().replace('.000Z', 'Z'),
        eventSource: source,
        eventName: name,
        awsRegion: 'us-east-1',
        sourceIPAddress: pick(ips),
        userAgent: 'aws-cli/2.22.4',
        requestParameters: name === 'GetSecretValue' ? { secretId: `prod/db-${Math.floor(r() * 5)}` } : null,
        eventID: `hc-${i.toString().padStart(5, '0')}`,
        eventType: 'AwsApiCall',
        recipientAccountId: account,
      }),
    );
  }
  return out;
}

describe('seam hunt correlations against embedded replay', () => {
  const os = new Client({ node: opensearchUrl(), requestTimeout: 120_000 });
  const prefix = `seamt_${RUN_ID}_hc`.toLowerCase();
  const demoPrefix = `seamt_${RUN_ID}_hcdemo`.toLowerCase();
  let dir = '';
  let ref: { alerts: Map<string, Alert>; events: SeamEvent[] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-huntcorr-rules-'));
    await writeFile(join(dir, 'rules.yml'), RULES);
    await writeFile(join(dir, 'placeholders.yml'), PLACEHOLDERS);
    await writeFile(join(dir, 'cloudtrail.jsonl'), records(1500).join('\n') + '\n');
    const detection = await loadDetection({ rules: [join(dir, 'rules.yml')], placeholders: await loadPlaceholdersFile(join(dir, 'placeholders.yml')), ruleCacheDir: false });
    ref = await embedded([join(dir, 'cloudtrail.jsonl')], detection, 'hc-cluster');
    expect(ref.events).toHaveLength(1500);
    await indexEvents(os, prefix, ref.events);
  }, 300_000);

  afterAll(async () => {
    await dropPrefix(os, prefix).catch(() => undefined);
    await dropPrefix(os, demoPrefix).catch(() => undefined);
    await os.close();
  });

  it('raises, for a correlation of each type, the alerts embedded replay raises, with the same ids and events', { timeout: 300_000 }, async () => {
    const started = performance.now();
    const r = await cli({ rules: [join(dir, 'rules.yml')], placeholders: join(dir, 'placeholders.yml'), indexPrefix: prefix, url: opensearchUrl(), env: {} });
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    expect(r.code, r.err).toBe(0);
    const got = r.lines.filter((l) => l['correlation_type'] !== undefined);
    const want = correlationAlerts(ref.alerts);
    // Every hand-written correlation fired in embedded mode, so the comparison is not of two empty sets.
    const fired = new Set(want.map((a) => a.rule.id));
    expect([...fired].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((c) => `6a1e0c00-0000-4000-8000-0000000000${c}`));
    expect(got.map((l) => key(String(l['rule']), l['events'] as string[])).sort()).toEqual(want.map((a) => key(a.rule.id, a.events)).sort());
    expect(got.map((l) => l['alert_id']).sort()).toEqual(want.map((a) => a.id).sort());
    const byType = (t: string): number => got.filter((l) => l['correlation_type'] === t).length;
    expect(r.err).toMatch(/^hunt: correlations=6 hunted=6 not_huntable=0 events=\d+ alerts=\d+ cut=0 failed=0 seconds=/m);
    const events = Number(/^hunt: correlations=.* events=(\d+)/m.exec(r.err)?.[1]);
    // Pages of 7 hits (every correlation's events cross many page boundaries of one point in time): the same alerts.
    const fields = await liveResolvers(os, prefix, ['cloudtrail', 'k8s_audit', 'guardduty', 'runtime']);
    const compiled = await compileRulesetToDsl([join(dir, 'rules.yml')], { indexPrefix: prefix, fields, placeholders: await loadPlaceholdersFile(join(dir, 'placeholders.yml')) });
    const paged: string[] = [];
    for (const p of planCorrelations(compiled)) {
      if (!p.ok) continue;
      const rep = await huntCorrelation(os, p, compiled.ruleset, { pageSize: 7 }, (a) => paged.push(a.id));
      expect([rep.pit, rep.cut, rep.error]).toEqual([true, false, undefined]);
    }
    expect(paged.sort()).toEqual(want.map((a) => a.id).sort());
    process.stdout.write(
      `hunt-correlations: events_indexed=${ref.events.length} events_hunted=${events} seconds=${secs} alerts_equal_to_embedded=${got.length}/${want.length} ` +
        `event_count=${byType('event_count')} value_count=${byType('value_count')} temporal=${byType('temporal')} temporal_ordered=${byType('temporal_ordered')}\n`,
    );
  });

  it('hunts |expand with the rule\'s own wildcards and |cidr|expand as the stream matches them', { timeout: 300_000 }, async () => {
    const r = await cli({ rules: [join(dir, 'rules.yml')], placeholders: join(dir, 'placeholders.yml'), indexPrefix: prefix, url: opensearchUrl(), env: {} });
    expect(r.code, r.err).toBe(0);
    const matches = r.lines.filter((l) => l['correlation_type'] === undefined);
    for (const rule of ['a1', 'a2', 'a3'].map((x) => `6a1e0c00-0000-4000-8000-0000000000${x}`)) {
      const hunted = matches.filter((m) => m['rule'] === rule).map((m) => String(m['seam.id'])).sort();
      const stream = [...ref.alerts.values()].filter((a) => a.rule.id === rule).flatMap((a) => a.events).sort();
      expect(stream.length, rule).toBeGreaterThan(0);
      expect(hunted, rule).toEqual(stream);
    }
    // The expand rule: dev-* sessions of the listed accounts only, outside both listed networks (010.001.4.20 is in 10.1/16).
    const a3 = matches.filter((m) => m['rule'] === '6a1e0c00-0000-4000-8000-0000000000a3');
    expect(new Set(a3.map((m) => String(m['source_ip'])))).toEqual(new Set(['198.51.100.23', '203.0.113.9']));
    expect(a3.every((m) => /^arn:aws:sts::(111122223333|444455556666):assumed-role\/dev-/.test(String(m['principal'])))).toBe(true);
    process.stdout.write(`hunt-expand-parity: expand_wildcard_cidr_matches=${a3.length} equal_to_stream=true\n`);
  });

  it('with --from, raises the alerts the stream raised from then on, those whose events began before --from included (the lookback)', { timeout: 300_000 }, async () => {
    // A --from in the middle of the records' span, half a second after the first event of an alert whose events span
    // at least a minute (the first such alert after the midpoint): some alert then straddles it.
    const timeOf = (id: string): number => Date.parse(ref.events.find((e) => e.seam.id === id)!['@timestamp']);
    const times = ref.events.map((e) => Date.parse(e['@timestamp'])).sort((a, b) => a - b);
    const mid = (times[0]! + times[times.length - 1]!) / 2;
    const spans = correlationAlerts(ref.alerts)
      .map((a) => ({ first: Math.min(...a.events.map(timeOf)), last: Date.parse(a['@timestamp']) }))
      .filter((x) => x.first >= mid && x.last - x.first >= 60_000)
      .sort((a, b) => a.first - b.first);
    expect(spans.length).toBeGreaterThan(0);
    const fromMs = spans[0]!.first + 500;
    const from = new Date(fromMs).toISOString();
    const want = correlationAlerts(ref.alerts).filter((a) => Date.parse(a['@timestamp']) >= fromMs);
    // The case this is about: alerts completed after --from with events before it. Without them the test says nothing.
    const straddling = want.filter((a) => a.events.some((id) => timeOf(id) < fromMs));
    expect(straddling.length).toBeGreaterThan(0);
    const r = await cli({ rules: [join(dir, 'rules.yml')], placeholders: join(dir, 'placeholders.yml'), indexPrefix: prefix, url: opensearchUrl(), env: {}, from });
    expect(r.code, r.err).toBe(0);
    const got = r.lines.filter((l) => l['correlation_type'] !== undefined);
    expect(got.map((l) => l['alert_id']).sort()).toEqual(want.map((a) => a.id).sort());
    // Each correlation's line says how many events it read before --from, for its lookback (10m, 5m or 1h here).
    expect(r.err).toMatch(/^hunt: 6a1e0c00-0000-4000-8000-0000000000c6 \(HC Dev Sessions Outside Twice\) event_count over 1 rule: events=\d+ \(\d+ of them before --from: its 60m lookback\) alerts=\d+$/m);
    // Read from --from only (the old behaviour, lookback: false), the straddling alerts are missed or judged on their part inside.
    const fields = await liveResolvers(os, prefix, ['cloudtrail', 'k8s_audit', 'guardduty', 'runtime']);
    const compiled = await compileRulesetToDsl([join(dir, 'rules.yml')], { indexPrefix: prefix, fields, placeholders: await loadPlaceholdersFile(join(dir, 'placeholders.yml')) });
    const inside: string[] = [];
    for (const p of planCorrelations(compiled)) if (p.ok) await huntCorrelation(os, p, compiled.ruleset, { from, lookback: false }, (a) => inside.push(a.id));
    const missedInside = straddling.filter((a) => !inside.includes(a.id)).length;
    expect(missedInside).toBeGreaterThan(0);
    process.stdout.write(`hunt-correlations-from: from=${from} alerts_after_from=${want.length} straddling=${straddling.length} found_with_lookback=${got.length} straddling_missed_without=${missedInside}\n`);
  });

  it('cuts a hunt at --max-events, says so and exits 4; a window with no event searches nothing (3)', { timeout: 300_000 }, async () => {
    const cut = await cli({ rules: [join(dir, 'rules.yml')], placeholders: join(dir, 'placeholders.yml'), indexPrefix: prefix, url: opensearchUrl(), env: {}, maxEvents: 50 });
    expect(cut.code, cut.err).toBe(4);
    expect(cut.err).toMatch(/^hunt: 6a1e0c00-0000-4000-8000-0000000000c1 \(HC Many Secret Reads\) event_count over 1 rule: events=50 alerts=\d+ cut: --max-events 50 read, events after 2026-11-20T\S+ not hunted/m);
    expect(cut.err).toMatch(/cut=6 failed=0/);
    const empty = await cli({ rules: [join(dir, 'rules.yml')], placeholders: join(dir, 'placeholders.yml'), indexPrefix: prefix, url: opensearchUrl(), env: {}, from: '2025-01-01', to: '2025-01-02' });
    expect(empty.code, empty.err).toBe(3);
    expect(empty.lines).toEqual([]);
  });

  it('raises, for every correlation of the pack over the demo story, the alerts embedded replay raises', { timeout: 600_000 }, async () => {
    const placeholders = await loadPlaceholdersFile(join(ROOT, 'deploy/config/placeholders.yml'));
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], placeholders });
    const demo = await embedded([DEMO_FILE], detection, DEMO_CLUSTER);
    await indexEvents(os, demoPrefix, demo.events);
    const started = performance.now();
    const fields = await liveResolvers(os, demoPrefix, ['cloudtrail', 'k8s_audit', 'guardduty', 'runtime']);
    const compiled = await compileRulesetToDsl([join(ROOT, 'detections')], { indexPrefix: demoPrefix, fields, placeholders });
    const plans = planCorrelations(compiled);
    const got: Alert[] = [];
    let events = 0;
    for (const p of plans) {
      if (!p.ok) continue;
      const rep = await huntCorrelation(os, p, compiled.ruleset, {}, (a) => got.push(a));
      expect(rep.error, p.id).toBeUndefined();
      expect(rep.cut).toBe(false);
      expect(rep.pit).toBe(true);
      events += rep.events;
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const hunted = new Set(plans.filter((p) => p.ok).map((p) => p.id));
    const want = correlationAlerts(demo.alerts);
    // Correlations the hunt leaves out (withheld by another) raise nothing in the stream either.
    expect(want.filter((a) => !hunted.has(a.rule.id))).toEqual([]);
    expect(want.length).toBeGreaterThan(0);
    expect(got.map((a) => `${a.id} ${key(a.rule.id, a.events)}`).sort()).toEqual(want.map((a) => `${a.id} ${key(a.rule.id, a.events)}`).sort());
    process.stdout.write(
      `hunt-correlations-pack: correlations=${plans.length} hunted=${hunted.size} demo_events=${demo.events.length} events_hunted=${events} seconds=${secs} alerts_equal_to_embedded=${got.length}/${want.length} (${[...new Set(want.map((a) => a.rule.title))].join('; ')})\n`,
    );
  });
});
