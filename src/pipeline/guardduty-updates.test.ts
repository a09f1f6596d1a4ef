// GuardDuty finding updates (ADR 0046) through the roles over the in-memory bus (embedded mode, the shipped
// GuardDuty rules): GuardDuty keeps a finding's id and bumps service.count, eventLastSeen, updatedAt and sometimes
// severity. One alert per (rule, finding), kept current in the index; a later version is delivered again only when
// its severity level rose.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../../test/helpers/http-receiver.ts';
import { MemoryBus } from '../bus/memory.ts';
import type { Alert } from '../detect/alert.ts';
import { findingHeaders } from '../detect/finding.ts';
import { Deliverer } from '../sinks/delivery/deliverer.ts';
import { buildOutputs, DeliveryConfig } from '../sinks/registry.ts';
import { loadDetection } from './detection.ts';
import { runEmbedded } from './embedded.ts';
import { buildReplayHandler, runReplay, type ReplaySummary } from './replay.ts';
import { runReplayWorkers } from './replay-workers.ts';
import { formatSummary } from '../cli/replay.ts';
import { memoryHistory } from './history.ts';
import type { IncidentDoc } from './incident-topic.ts';
import { createDeliverRole } from './roles/deliver.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { createNormalizeRole } from './roles/normalize.ts';
import { memoryUpstream } from './progress.ts';
import { messageVersion } from './early.ts';
import { rawHeaders } from '../sources/checkpoint/raw-record.ts';
import { pipelineTopics } from './topics.ts';

const RULES = join(import.meta.dirname, '../../detections/guardduty');
/** gd_eks_runtime_escape_or_evasion_finding: level medium whatever the severity, so a rise keeps its rule. */
const RUNTIME_RULE = '488f8650-4e7c-4884-9604-10742749df00';
/** gd_high_severity_eks_finding: severity 7 and above, for finding types without a rule of their own (ReverseShell has one). */
const HIGH_RULE = '73997a65-79e4-4d6d-b726-411a027545e7';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** One version of a GuardDuty Runtime Monitoring finding, as GetFindings returns it (REST camelCase). */
function finding(id: string, minute: number, count: number, severity: number, account = '111122223333', cluster = 'prod-eks-01'): string {
  const at = `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return JSON.stringify({
    accountId: account,
    arn: `arn:aws:guardduty:us-west-2:${account}:detector/d1/finding/${id}`,
    createdAt: '2026-12-01T10:00:00.000Z',
    id,
    partition: 'aws',
    region: 'us-west-2',
    resource: {
      resourceType: 'EKSCluster',
      eksClusterDetails: { name: cluster, arn: `arn:aws:eks:us-west-2:${account}:cluster/${cluster}` },
      kubernetesDetails: { kubernetesWorkloadDetails: { name: 'api-7c9d8f6b5-x2k4q', namespace: 'payments', type: 'pods' } },
    },
    schemaVersion: '2.0',
    service: { archived: false, count, detectorId: 'd1', eventFirstSeen: '2026-12-01T09:59:30.000Z', eventLastSeen: at, serviceName: 'guardduty', featureName: 'RuntimeMonitoring' },
    severity,
    title: 'A reverse shell was opened in a container.',
    type: 'Execution:Runtime/ReverseShell',
    updatedAt: at,
  });
}

/** A correlation counting GuardDuty findings (none of the pack's does): three Runtime Monitoring findings of one account within an hour. */
const THREE_FINDINGS_ID = '5b1e0c9a-7d2f-4e61-9a3b-0c4d5e6f7a80';
const THREE_FINDINGS = [
  'title: Three GuardDuty Runtime Findings In One Account',
  `id: ${THREE_FINDINGS_ID}`,
  'name: corr_three_runtime_findings',
  'level: high',
  'correlation:',
  '  type: event_count',
  '  rules: [gd_eks_runtime_escape_or_evasion_finding]',
  '  group-by: [accountId]',
  '  timespan: 1h',
  '  condition:',
  '    gte: 3',
  '',
].join('\n');

const lines = async <T>(path: string): Promise<T[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

describe('GuardDuty finding updates (ADR 0046)', () => {
  it('a finding seen 3 times is one alert, delivered once, kept current; its rise from 5.0 to 8.0 is delivered again; two findings are two alerts', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const dir = await mkdtemp(join(tmpdir(), 'seam-gd-updates-'));
    const input = join(dir, 'findings.jsonl');
    await writeFile(input, [finding('f-a', 1, 1, 5), finding('f-a', 2, 5, 5), finding('f-a', 3, 12, 5), finding('f-b', 4, 1, 5), finding('f-a', 5, 13, 8)].join('\n') + '\n');
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }] });
    const detection = await loadDetection({ rules: [RULES], ruleCacheDir: false });
    const printed: Alert[] = [];
    const { summary, paths } = await runEmbedded({
      paths: [input],
      stateDir: dir,
      detection,
      maxRecordBytes: 1 << 20,
      deliverer: new Deliverer(config, buildOutputs(config)),
      onAlert: (a, info) => {
        if (info.update !== true) printed.push(a);
      },
    });

    const written = await lines<Alert>(paths.alerts);
    const runtime = written.filter((a) => a.rule.id === RUNTIME_RULE);
    const a = runtime.filter((x) => x.finding?.id === 'f-a');
    const b = runtime.filter((x) => x.finding?.id === 'f-b');
    // One alert id per finding; every version of f-a updates it (the file index: the last line of an id wins).
    expect(new Set(a.map((x) => x.id)).size).toBe(1);
    expect(new Set(b.map((x) => x.id)).size).toBe(1);
    expect(a[0]!.id).not.toBe(b[0]!.id);
    expect(a.map((x) => x.finding!.count)).toEqual([1, 5, 12, 13]);
    // After the third sighting the document says 12, first seen where GuardDuty first saw it.
    expect(a[2]!.finding).toMatchObject({ count: 12, severity: 5, severity_level: 'medium', first_seen: '2026-12-01T09:59:30.000Z', last_seen: '2026-12-01T10:03:00.000Z' });
    expect(a[3]!.finding).toMatchObject({ count: 13, severity: 8, severity_level: 'high', first_seen: '2026-12-01T09:59:30.000Z', updated_at: '2026-12-01T10:05:00.000Z' });
    // At 8.0 the generic high-severity rule stays out: the finding's type has its own rule (one Sigma alert per finding).
    const high = written.filter((x) => x.rule.id === HIGH_RULE);
    expect(high).toHaveLength(0);

    // Delivery: f-a at medium once (not at counts 5 and 12), then again at high; f-b once.
    const sent = rx.requests.map((r) => r.json as { notification: { id: string }; alert: Alert });
    const forA = sent.filter((n) => n.alert.id === a[0]!.id);
    expect(forA.map((n) => [n.notification.id, n.alert.finding!.count, n.alert.finding!.severity_level])).toEqual([
      [`${a[0]!.id}:medium`, 1, 'medium'],
      [`${a[0]!.id}:high`, 13, 'high'],
    ]);
    expect(sent.filter((n) => n.alert.id === b[0]!.id)).toHaveLength(1);
    expect(sent).toHaveLength(3);
    // The console prints the same: updates are not new alerts.
    expect(printed.filter((x) => x.id === a[0]!.id).map((x) => x.finding!.count)).toEqual([1, 13]);
    // Two alerts (f-a, f-b), three later versions of f-a, one of them to a higher level.
    expect(summary.alerts).toBe(2);
    expect(summary.alertUpdates).toEqual({ updates: 3, escalations: 1 });

    // Incidents count f-a's alert once, whatever its versions.
    const incidents = new Map((await lines<IncidentDoc>(paths.incidents)).map((d) => [d.id, d]));
    const ids = [...incidents.values()].flatMap((d) => d.alert_ids);
    expect(ids.sort()).toEqual([a[0]!.id, b[0]!.id].sort());
    expect([...incidents.values()].reduce((n, d) => n + d.alert_count, 0)).toBe(2);
    // ...and at its newest version: f-a's alert counts (span, risk) at 10:05, where its last version is.
    const versions = [...incidents.values()].flatMap((d) => d.versions ?? []);
    expect(versions.find((v) => v.id === a[0]!.id)).toEqual({ id: a[0]!.id, at: '2026-12-01T10:05:00.000Z', level: 'medium' });
    expect(versions.find((v) => v.id === b[0]!.id)).toEqual({ id: b[0]!.id, at: '2026-12-01T10:04:00.000Z', level: 'medium' });

    // `seam replay` (one thread, the detect stage alone) counts and hands on the same.
    const handed: Alert[] = [];
    const replayed = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'replay-dlq.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (x) => handed.push(x) });
    expect(replayed.alerts).toBe(2);
    expect(replayed.alertUpdates).toEqual({ updates: 3, escalations: 1 });
    expect(handed.filter((x) => x.id === a[0]!.id).map((x) => x.finding!.count)).toEqual([1, 13]);
  });

  it('seam replay --workers 2 counts, reports and writes a finding\'s versions as one thread does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-gd-workers-'));
    const input = join(dir, 'findings.jsonl');
    // f-a seen 3 times at 5.0 then raised to 8.0 in one account; f-c in another account (and cluster), so both workers work.
    const other = (minute: number, count: number, severity: number): string => finding('f-c', minute, count, severity, '444455556666', 'prod-eks-02');
    await writeFile(input, [finding('f-a', 1, 1, 5), other(1, 1, 5), finding('f-a', 2, 5, 5), finding('f-a', 3, 12, 5), other(4, 2, 5), finding('f-b', 4, 1, 5), finding('f-a', 5, 13, 8)].join('\n') + '\n');
    const spec = { rules: [RULES] };
    const one = join(dir, 'alerts-1.jsonl');
    const two = join(dir, 'alerts-2.jsonl');
    const s1 = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'dlq-1.jsonl'), alertsPath: one, maxRecordBytes: 1 << 20, handler: await buildReplayHandler(spec) });
    const s2 = await runReplayWorkers({ paths: [input], workers: 2, spec, dlqPath: join(dir, 'dlq-2.jsonl'), alertsPath: two, maxRecordBytes: 1 << 20 });
    expect(s2.plan.tenants).toBe(2);
    expect(s2.plan.load.every((n) => n > 0)).toBe(true);
    // f-a, f-b, f-c; 4 later versions (f-a's 3, f-c's 1), f-a's last to a higher level.
    expect(s1.alerts).toBe(3);
    expect(s1.alertUpdates).toEqual({ updates: 4, escalations: 1 });
    const line = (s: ReplaySummary): string => formatSummary({ ...s, elapsedMs: 1000 }, { dlqPath: 'dlq.jsonl', detection: true });
    expect(line(s1)).toContain('alerts=3 (+4 GuardDuty finding updates, 1 to a higher severity)');
    expect(line(s2)).toBe(line(s1));
    // Every version's line, as one thread writes it: the same lines, and each alert's versions in the same order (the
    // last line of an id wins). Across tenants the order of lines may differ (ADR 0018 writes by input position).
    const w1 = (await readFile(one, 'utf8')).split('\n').filter(Boolean);
    const w2 = (await readFile(two, 'utf8')).split('\n').filter(Boolean);
    expect(w1).toHaveLength(s1.alerts + 4);
    expect([...w2].sort()).toEqual([...w1].sort());
    const versions = (w: string[]): Record<string, number[]> => {
      const by: Record<string, number[]> = {};
      for (const a of w.map((l) => JSON.parse(l) as Alert)) (by[a.id] ??= []).push(a.finding!.count!);
      return by;
    };
    expect(versions(w2)).toEqual(versions(w1));
    expect(Object.values(versions(w1)).sort()).toEqual([[1, 2], [1, 5, 12, 13], [1]].sort());
  });

  it('a correlation counting findings counts a finding once, whatever its versions: embedded and seam replay alike', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-gd-corr-'));
    const corr = join(dir, 'corr_three_runtime_findings.yml');
    await writeFile(corr, THREE_FINDINGS);
    const CORR = THREE_FINDINGS_ID;
    const detection = await loadDetection({ rules: [RULES, corr], ruleCacheDir: false });
    const correlated = async (name: string, versions: string[]): Promise<{ embedded: Alert[]; replayed: Alert[] }> => {
      const input = join(dir, `${name}.jsonl`);
      await writeFile(input, versions.join('\n') + '\n');
      const state = await mkdtemp(join(dir, `${name}-`));
      const { paths } = await runEmbedded({ paths: [input], stateDir: state, detection, maxRecordBytes: 1 << 20 });
      const handed: Alert[] = [];
      await runReplay<Alert>({ paths: [input], dlqPath: join(state, 'replay-dlq.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (x) => handed.push(x) });
      return { embedded: (await lines<Alert>(paths.alerts)).filter((a) => a.rule.id === CORR), replayed: handed.filter((a) => a.rule.id === CORR) };
    };
    // One finding seen three times (counts 1, 5, 12): one finding, no alert.
    const one = await correlated('one', [finding('f-a', 1, 1, 5), finding('f-a', 2, 5, 5), finding('f-a', 3, 12, 5)]);
    expect(one).toEqual({ embedded: [], replayed: [] });
    // Three findings, one of them seen twice: one alert, on the three.
    const three = await correlated('three', [finding('f-a', 1, 1, 5), finding('f-b', 2, 1, 5), finding('f-a', 3, 5, 5), finding('f-c', 4, 1, 5)]);
    expect(three.embedded).toHaveLength(1);
    expect(three.replayed.map((a) => a.id)).toEqual(three.embedded.map((a) => a.id));
    expect([...three.embedded[0]!.native_ids].sort()).toEqual(['f-a', 'f-b', 'f-c']);
  });

  it('on Kafka (3 partitions) a correlate role killed half-way and restarted raises the correlation alerts of embedded mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-gd-corr-kafka-'));
    const corr = join(dir, 'corr_three_runtime_findings.yml');
    await writeFile(corr, THREE_FINDINGS);
    const detection = await loadDetection({ rules: [RULES, corr], ruleCacheDir: false });
    const acct = (n: number): string => `${n}`.repeat(12);
    const records: string[] = [];
    // Account 1: f-a updated every minute, with f-b and f-c: one alert. Account 2: one finding, ten versions: none.
    // Account 3: three findings that fire, then keep updating: one alert.
    for (let m = 1; m <= 10; m++) {
      records.push(finding('f-a', m, m, 5, acct(1)), finding('f-x', m, m, 5, acct(2)));
      if (m === 4) records.push(finding('f-b', m, 1, 5, acct(1)));
      if (m === 9) records.push(finding('f-c', m, 1, 5, acct(1)));
      records.push(finding('f-p', m, m, 5, acct(3)), finding('f-q', m, m, 5, acct(3)), finding('f-r', m, m, 5, acct(3)));
    }
    const input = join(dir, 'findings.jsonl');
    await writeFile(input, records.join('\n') + '\n');
    const { paths } = await runEmbedded({ paths: [input], stateDir: dir, detection, maxRecordBytes: 1 << 20 });
    const embedded = (await lines<Alert>(paths.alerts)).filter((a) => a.rule.id === THREE_FINDINGS_ID);
    expect(embedded.map((a) => a.account).sort()).toEqual([acct(1), acct(3)]);

    const bus = new MemoryBus({ defaultPartitions: 3, maxBatch: 7 });
    closers.push(() => bus.close());
    const topics = pipelineTopics('gd.');
    const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    await normalize.start();
    const producer = await bus.producer();
    for (const text of records) {
      const id = (JSON.parse(text) as { id: string }).id;
      // As the GuardDuty collector keys them: every version of a finding on one raw partition, in order.
      await producer.send([{ topic: topics.raw('guardduty'), key: `d1/${id}`, value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: 'guardduty' }) }]);
    }
    await producer.close();
    await bus.waitCommitted('n', topics.raw('guardduty'));
    await normalize.stop();
    const signals = bus.read(topics.signals).flat().length;
    const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 };
    let handled = 0;
    const first = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order,
      afterProduce: async (batch) => {
        handled += batch.length;
        if (handled >= signals / 2) throw new Error('killed');
      },
    });
    await first.start();
    while (handled < signals / 2) await new Promise((r) => setTimeout(r, 1));
    await first.stop();
    const second = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order });
    await second.start();
    await bus.waitCommitted('c', topics.signals);
    await second.flush();
    await second.stop();
    expect((second.stats() as { rebuilds: number }).rebuilds).toBeGreaterThan(0);
    const onKafka = bus
      .read(topics.alerts)
      .flat()
      .filter((m) => messageVersion(m.headers) === 'final' && (JSON.parse(m.value.toString('utf8')) as Alert).rule.id === THREE_FINDINGS_ID)
      .map((m) => m.key);
    expect(onKafka.sort()).toEqual(embedded.map((a) => a.id).sort());
  });

  it('the deliver role remembers the levels notified across a restart: a same-level update is not sent, a rise is', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 3 });
    const topics = pipelineTopics('t-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 3 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }] });
    const base: Alert = { id: 'alert-f-a', '@timestamp': '2026-12-01T10:01:00.000Z', rule: { id: RUNTIME_RULE, title: 't', level: 'medium', tags: [], type: 'sigma' }, events: ['f-a:1'], native_ids: ['f-a'], summary: 's' };
    const v = (minute: number, count: number, severity: number, level: 'medium' | 'high'): Alert => ({
      ...base,
      '@timestamp': `2026-12-01T10:0${minute}:00.000Z`,
      events: [`f-a:${minute}`],
      finding: { id: 'f-a', updated_at: `2026-12-01T10:0${minute}:00.000Z`, count, severity, severity_level: level },
    });
    const send = async (a: Alert): Promise<void> => {
      const p = await bus.producer();
      // As the correlate role produces it: keyed by alert id, the finding's revision and level in headers.
      await p.send([{ topic: topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)), headers: findingHeaders(a)! }]);
      await p.close();
    };
    const member = () => createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'g-deliver', history: memoryHistory(bus) });

    await send(v(1, 1, 5, 'medium'));
    const first = member();
    await first.start();
    await bus.waitCommitted('g-deliver', topics.alerts);
    await first.stop();
    // A new member (fresh process state): what it knows of earlier notifications it reads back from seam.alerts.
    await send(v(2, 5, 5, 'medium'));
    await send(v(3, 12, 5, 'medium'));
    await send(v(4, 13, 8, 'high'));
    const second = member();
    await second.start();
    await bus.waitCommitted('g-deliver', topics.alerts);
    await second.stop();
    await bus.close();

    const sent = rx.requests.map((r) => (r.json as { notification: { id: string } }).notification.id);
    expect(sent).toEqual(['alert-f-a:medium', 'alert-f-a:high']);
    expect(second.stats()).toMatchObject({ laterVersions: 2, rememberedOnStart: 1 });
  });
});
