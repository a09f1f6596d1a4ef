// Early (provisional) alerts, ADR 0025, on the memory bus and the real local OpenSearch: an alert of a
// qualifying rule is on seam.alerts while the watermark still holds its signal; the final alert (same id)
// replaces it in the index whichever of the two writes comes last; a rule that reads a field the identity
// graph writes (or searches keywords, or is withheld by a correlation) is never early; the deliver role
// notifies each alert once, also across a restart between the two versions.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/bus/memory.ts';
import type { BusMessage } from '../src/bus/types.ts';
import { alertId, type Alert } from '../src/detect/alert.ts';
import { EarlyAlerts, isProvisionalMessage, messageVersion, notEarlyBecause, ALERT_VERSION_HEADER, EARLY_HINT_HEADER, type AlertVersion } from '../src/pipeline/early.ts';
import { detectSource } from '../src/sources/cloudwatch-logs/parse.ts';
import { loadDetection, type Detection } from '../src/pipeline/detection.ts';
import { memoryHistory } from '../src/pipeline/history.ts';
import { memoryUpstream } from '../src/pipeline/progress.ts';
import { createCorrelateRole } from '../src/pipeline/roles/correlate.ts';
import { createDeliverRole } from '../src/pipeline/roles/deliver.ts';
import { createIndexRole } from '../src/pipeline/roles/indexer.ts';
import { createNormalizeRole } from '../src/pipeline/roles/normalize.ts';
import { pipelineTopics, type PipelineTopics } from '../src/pipeline/topics.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { Deliverer } from '../src/sinks/delivery/deliverer.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { setupOpenSearch } from '../src/sinks/opensearch/setup.ts';
import { buildOutputs, DeliveryConfig } from '../src/sinks/registry.ts';
import { testAlert } from './helpers/alerts.ts';
import { startReceiver } from './helpers/http-receiver.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const ID = { plain: '5e0b3c1a-0000-4000-8000-00000000e001', graph: '5e0b3c1a-0000-4000-8000-00000000e002', keyword: '5e0b3c1a-0000-4000-8000-00000000e003', withheld: '5e0b3c1a-0000-4000-8000-00000000e004' };

// Four rules on the same call: one that qualifies, one on the graph's principal, one keyword search, one a correlation withholds.
const RULES: Record<string, string> = {
  'plain.yml': `title: Early test, access key created
id: ${ID.plain}
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventSource: iam.amazonaws.com, eventName: CreateAccessKey }
  condition: selection
level: medium
`,
  'graph.yml': `title: Early test, access key created by an IAM user as the graph resolves it
id: ${ID.graph}
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  selection:
    eventName: CreateAccessKey
    seam.principal.arn|contains: ':user/'
  condition: selection
level: medium
`,
  'keyword.yml': `title: Early test, keyword
id: ${ID.keyword}
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  keywords: [CreateAccessKey]
  condition: keywords
level: low
`,
  'withheld.yml': `title: Early test, withheld feeder
id: ${ID.withheld}
name: early_test_feeder
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventName: CreateAccessKey }
  condition: selection
level: low
---
title: Early test, two keys
id: 5e0b3c1a-0000-4000-8000-00000000e005
correlation:
  type: event_count
  rules: [early_test_feeder]
  group-by: [recipientAccountId]
  timespan: 10m
  condition: { gte: 2 }
level: high
`,
};

function createAccessKey(n: number, at: Date, account = '111122223333'): string {
  return JSON.stringify({
    eventVersion: '1.10',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEARLYTEST0000001', arn: `arn:aws:iam::${account}:user/build-legacy`, accountId: account, accessKeyId: 'AKIAEARLYTEST0000001', userName: 'build-legacy' },
    eventTime: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.200',
    userAgent: 'aws-cli/2.22.4',
    requestParameters: { userName: `svc-${n}` },
    responseElements: { accessKey: { userName: `svc-${n}`, status: 'Active', accessKeyId: `AKIAEARLYKEY${String(n).padStart(8, '0')}` } },
    requestID: `0e0b3c1a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    eventID: `1e0b3c1a-0000-4000-8000-${String(n).padStart(12, '0')}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  });
}

/**
 * Polls `ok` until it holds. The deadline only bounds a hang (it was 15 s, within reach of a loaded 2-core CI machine
 * running the roles in this process); the error names what was awaited and, with `seen`, what there was.
 */
const until = async (what: string, ok: () => boolean, seen?: () => unknown, timeoutMs = 180_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen === undefined ? '' : ` (seen: ${JSON.stringify(seen())})`}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const alertsOn = (bus: MemoryBus, topics: PipelineTopics): { alert: Alert; provisional: boolean; version: AlertVersion }[] =>
  bus
    .read(topics.alerts)
    .flat()
    .map((m) => ({ alert: JSON.parse(m.value.toString('utf8')) as Alert, provisional: isProvisionalMessage(m.headers), version: messageVersion(m.headers) }));

/** A CloudTrail record as the collector writes it to its raw topic, event time now. */
const rawAccessKey = (topics: PipelineTopics, n: number, account?: string): BusMessage => ({
  topic: topics.raw('cloudtrail'),
  key: null,
  value: Buffer.from(createAccessKey(n, new Date(), account)),
  headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: 'cloudtrail' }),
});

let detection: Detection;
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'seam-early-rules-'));
  for (const [f, text] of Object.entries(RULES)) await writeFile(join(dir, f), text);
  detection = await loadDetection({ rules: [dir], ruleCacheDir: false });
});

describe('which rules are raised early (ADR 0025)', () => {
  it('a single-event rule that reads only the record qualifies; one on a field the graph writes, a keyword search and a withheld feeder do not', () => {
    const early = new EarlyAlerts(detection.ruleset!);
    expect([...early.rules]).toEqual([ID.plain]);
    const rules = new Map(detection.ruleset!.rules.map((r) => [r.id, r]));
    const never = (): boolean => false;
    expect(notEarlyBecause(rules.get(ID.graph)!, never)).toBe('it reads seam.principal.arn, which the identity graph writes');
    expect(notEarlyBecause(rules.get(ID.keyword)!, never)).toMatch(/keywords/);
    expect(notEarlyBecause(rules.get(ID.plain)!, never)).toBeUndefined();
  });

  it('most shipped rules qualify, and none that reads seam.principal, seam.chain, seam.origin or seam.cluster', async () => {
    const shipped = await loadDetection({ rules: [join(import.meta.dirname, '..', 'detections')] });
    const early = new EarlyAlerts(shipped.ruleset!);
    expect(early.rules.size).toBeGreaterThan(shipped.ruleset!.rules.length / 2);
    for (const r of shipped.ruleset!.rules) {
      if (!early.rules.has(r.id)) continue;
      expect(r.reads, r.id).toBeDefined();
      expect(r.reads!.keyword, r.id).toBe(false);
      expect(r.reads!.paths.filter((p) => /^seam\.(principal|chain|origin|cluster)(\.|$)/.test(p)), r.id).toEqual([]);
    }
  });
});

/**
 * An OpenSearch sink under a prefix of its own for one describe block (templates set up before, indices and
 * templates removed after), and the alert document indexed under an id.
 */
function alertStore(name: string): { sink: () => OpenSearchSink; indexed: (id: string) => Promise<Alert | undefined> } {
  const os = new Client({ node: opensearchUrl() });
  const indexPrefix = `seamt_${RUN_ID}_${name}`.toLowerCase();
  let sink: OpenSearchSink;
  beforeAll(async () => {
    sink = new OpenSearchSink(os, { nodeUrls: [opensearchUrl()], indexPrefix, replicas: 0, refreshIntervalMs: 1000, flushIntervalMs: 20 });
    await setupOpenSearch(os, { templates: sink.config, ism: 'skip' });
  });
  afterAll(async () => {
    await sink.close().catch(() => undefined);
    await os.indices.delete({ index: `${indexPrefix}-*`, expand_wildcards: 'all' }, { ignore: [404] }).catch(() => undefined);
    await os.transport.request({ method: 'DELETE', path: `/_index_template/${indexPrefix}-*` }, { ignore: [404] }).catch(() => undefined);
    await os.transport.request({ method: 'DELETE', path: `/_component_template/${indexPrefix}-*` }, { ignore: [404] }).catch(() => undefined);
    await os.close();
  });
  const indexed = async (id: string): Promise<Alert | undefined> => {
    await os.indices.refresh({ index: `${indexPrefix}-alerts-*` });
    const r = await os.search({ index: `${indexPrefix}-alerts-*`, body: { query: { ids: { values: [id] } } } as never });
    const hits = (r.body as { hits: { hits: { _source: Alert }[] } }).hits.hits;
    expect(hits.length).toBeLessThanOrEqual(1);
    return hits[0]?._source;
  };
  return { sink: () => sink, indexed };
}

describe('early alerts through the roles', () => {
  const store = alertStore('early');
  const indexed = store.indexed;

  it('the alert is out before the watermark passes its signal, and the final one (same id) replaces it', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('early-1.');
    const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ruleset: detection.ruleset! });
    const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 } });
    await normalize.start();
    await correlate.start();
    const producer = await bus.producer();
    // Event time now: the watermark (newest mark − 60 s) stays behind it until the end of input.
    await producer.send([{ topic: topics.raw('cloudtrail'), key: null, value: Buffer.from(createAccessKey(1, new Date())), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: 'cloudtrail' }) }]);
    await until('the early alert', () => alertsOn(bus, topics).length > 0, () => alertsOn(bus, topics).map((x) => `${x.alert.rule.id}:${x.version}`));
    await bus.waitCommitted('c', topics.signals);
    const before = alertsOn(bus, topics);
    expect(before.map((x) => [x.alert.rule.id, x.provisional, x.alert.provisional])).toEqual([[ID.plain, true, true]]);
    expect(correlate.stats()).toMatchObject({ held: 1, earlyAlerts: 1, alerts: 0 });
    const early = before[0]!.alert;
    expect(early.origin).toBeUndefined();
    // Not an incident update: incidents come from final alerts (their origin is the graph's answer).
    expect(bus.read(topics.incidents).flat()).toHaveLength(0);

    // End of input: the watermark hands the signal on; the ordered path raises the final alerts.
    await correlate.flush();
    const after = alertsOn(bus, topics);
    const finals = after.filter((x) => !x.provisional).map((x) => x.alert);
    expect(finals.map((a) => a.rule.id).sort()).toEqual([ID.graph, ID.keyword, ID.plain].sort());
    const final = finals.find((a) => a.rule.id === ID.plain)!;
    expect(final.id).toBe(early.id);
    expect(final.provisional).toBeUndefined();
    expect(after.filter((x) => x.provisional)).toHaveLength(1);

    // The index role: the final document is what the index holds.
    const index = createIndexRole({ bus, topics, sink: store.sink(), groupId: 'i', incidents: false, identity: false });
    await index.start();
    await bus.waitCommitted('i', topics.alerts);
    await index.stop();
    expect(await indexed(final.id)).toEqual(JSON.parse(JSON.stringify(final)));
    await correlate.stop();
    await normalize.stop();
    await bus.close();
  });

  it('a provisional write that reaches OpenSearch after the final one changes nothing', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('early-2.');
    const ts = new Date().toISOString();
    const final: Alert = { ...testAlert({ n: 1 }), id: alertId(ID.plain, ['ev-late-early']), '@timestamp': ts, events: ['ev-late-early'] };
    const provisional: Alert = { ...final, provisional: true, summary: 'as the record says it' };
    delete provisional.origin;
    delete provisional.chain;
    const producer = await bus.producer();
    const msg = (a: Alert, p: boolean): BusMessage => ({ topic: topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)), ...(p ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}) });
    // Final first (a member that lost the partition produced its provisional version late), then the provisional one.
    await producer.send([msg(final, false)]);
    const first = createIndexRole({ bus, topics, sink: store.sink(), groupId: 'i1', incidents: false, identity: false });
    await first.start();
    await bus.waitCommitted('i1', topics.alerts);
    await producer.send([msg(provisional, true)]);
    await bus.waitCommitted('i1', topics.alerts);
    await first.stop();
    expect(await indexed(final.id)).toEqual(final);
    // And a full redelivery, in the topic's order (final, then provisional), by a second index group: still the final.
    const again = createIndexRole({ bus, topics, sink: store.sink(), groupId: 'i2', incidents: false, identity: false });
    await again.start();
    await bus.waitCommitted('i2', topics.alerts);
    await again.stop();
    expect(await indexed(final.id)).toEqual(final);
    expect(again.stats()).toMatchObject({ alerts: 2, deadLetters: 0 });
    await bus.close();
  });
});

describe('an early alert whose final the ordered path cannot produce (ADR 0027)', () => {
  const store = alertStore('early_close');
  const indexed = store.indexed;
  const indexAll = async (bus: MemoryBus, topics: PipelineTopics, groupId: string): Promise<void> => {
    const index = createIndexRole({ bus, topics, sink: store.sink(), groupId, incidents: false, identity: false });
    await index.start();
    await bus.waitCommitted(groupId, topics.alerts);
    await index.stop();
  };

  it('the detect stage throws on its event: the event is dead-lettered and the final version says enrichment_failed', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('early-throws.');
    // Fault injection: the detect stage throws on the event of key svc-2 (a bug, a record the graph cannot take).
    const throwing: Detection = {
      ...detection,
      newStage: (s) => {
        const stage = detection.newStage(s);
        return {
          ...stage,
          native: stage.native,
          process: (e) => {
            if (JSON.stringify(e).includes('"svc-2"')) throw new Error('injected: the detect stage cannot take this event');
            return stage.process(e);
          },
        };
      },
    };
    const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ruleset: detection.ruleset! });
    const correlate = createCorrelateRole({ bus, topics, detection: throwing, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 } });
    await normalize.start();
    await correlate.start();
    const producer = await bus.producer();
    await producer.send([rawAccessKey(topics, 1), rawAccessKey(topics, 2)]);
    await until('both early alerts', () => alertsOn(bus, topics).length === 2, () => alertsOn(bus, topics).map((x) => `${x.alert.rule.id}:${x.version}`));
    await bus.waitCommitted('c', topics.signals);
    const early = alertsOn(bus, topics).map((x) => x.alert);
    expect(early.every((a) => a.provisional === true && a.rule.id === ID.plain)).toBe(true);

    await correlate.flush();
    const all = alertsOn(bus, topics);
    const finals = all.filter((x) => x.version === 'final').map((x) => x.alert);
    // Every early alert has a final version; the one of the event the stage threw on is the early content, not provisional, unenriched.
    for (const e of early) expect(finals.filter((f) => f.id === e.id), e.id).toHaveLength(1);
    const failed = finals.filter((f) => f.unenriched !== undefined);
    expect(failed).toHaveLength(1);
    const { provisional: _p, ...content } = early.find((e) => e.id === failed[0]!.id)!;
    expect(failed[0]).toEqual({ ...content, unenriched: 'enrichment_failed' });
    expect(finals.filter((f) => f.unenriched === undefined).map((f) => f.rule.id).sort()).toEqual([ID.graph, ID.keyword, ID.plain].sort());
    expect(correlate.stats()).toMatchObject({ stageErrors: 1, unenriched: { enrichment_failed: 1, not_confirmed: 0, member_stopped: 0 } });
    expect(bus.read(topics.dlq).flat()).toHaveLength(1);
    // A final: it is an incident update (keyed by the principal the record names) like every final alert.
    const incidentAlerts = bus.read(topics.incidents).flat().map((m) => (JSON.parse(m.value.toString('utf8')) as { alert: { id: string } }).alert.id);
    expect(incidentAlerts).toContain(failed[0]!.id);
    // The index holds it as the final document (version 2 over the provisional 1).
    await indexAll(bus, topics, 'i');
    expect(await indexed(failed[0]!.id)).toEqual(failed[0]);
    await correlate.stop();
    await normalize.stop();
    await bus.close();
  });

  it('the member stops while the signal is held: a stopped version closes it, and the next owner\'s final replaces that', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('early-stops.');
    const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ruleset: detection.ruleset! });
    const member = () => createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 } });
    const first = member();
    await normalize.start();
    await first.start();
    const producer = await bus.producer();
    await producer.send([rawAccessKey(topics, 3)]);
    await until('the early alert', () => alertsOn(bus, topics).length === 1, () => alertsOn(bus, topics).map((x) => `${x.alert.rule.id}:${x.version}`));
    await bus.waitCommitted('c', topics.signals);
    const early = alertsOn(bus, topics)[0]!.alert;
    // The member stops with the signal held (a scale-down, the last member going away).
    await first.stop();
    const afterStop = alertsOn(bus, topics);
    expect(afterStop.map((x) => x.version)).toEqual(['provisional', 'stopped']);
    const { provisional: _p, ...content } = early;
    expect(afterStop[1]!.alert).toEqual({ ...content, unenriched: 'member_stopped' });
    expect(first.stats()).toMatchObject({ unenriched: { member_stopped: 1 } });
    // Not an incident update: the final, if it comes, is.
    expect(bus.read(topics.incidents).flat()).toHaveLength(0);
    // If no member takes the partition again, the index says so instead of "provisional" for ever.
    await indexAll(bus, topics, 'i1');
    expect(await indexed(early.id)).toEqual(afterStop[1]!.alert);

    // A member takes the partition (adoption at end of input): its rebuild re-reads the signal and produces the final.
    const second = member();
    await second.start();
    await second.flush();
    const finals = alertsOn(bus, topics).filter((x) => x.version === 'final').map((x) => x.alert);
    const final = finals.find((a) => a.id === early.id)!;
    expect(final).toBeDefined();
    expect(final.unenriched).toBeUndefined();
    expect(final.provisional).toBeUndefined();
    expect(second.stats()).toMatchObject({ adopted: 1, earlyAlerts: 0, unenriched: { member_stopped: 0 } });
    await indexAll(bus, topics, 'i1');
    expect(await indexed(early.id)).toEqual(JSON.parse(JSON.stringify(final)));
    // A full re-index in the topic's order (provisional, stopped, final): still the final.
    await indexAll(bus, topics, 'i2');
    expect(await indexed(early.id)).toEqual(JSON.parse(JSON.stringify(final)));
    // The finals (this rule's and the two that are never early) are the incident updates; the second member's stop has nothing left to close.
    const incidentAlerts = bus.read(topics.incidents).flat().map((m) => (JSON.parse(m.value.toString('utf8')) as { alert: { id: string } }).alert.id);
    expect(incidentAlerts.sort()).toEqual(finals.map((a) => a.id).sort());
    expect(finals.map((a) => a.rule.id).sort()).toEqual([ID.graph, ID.keyword, ID.plain].sort());
    await second.stop();
    expect(alertsOn(bus, topics).filter((x) => x.alert.id === early.id).map((x) => x.version)).toEqual(['provisional', 'stopped', 'final']);
    await normalize.stop();
    await bus.close();
  });

  it('a rebuild remembers only its own partition\'s early alerts: a stop closes each early alert once, by the state that holds its signal', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('early-partitions.');
    await bus.ensureTopics([{ topic: topics.signals, partitions: 2 }]);
    let kill: number | undefined;
    const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ruleset: detection.ruleset! });
    const correlate = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 },
      // Fault injection: one batch of partition `kill` fails after its produce (redelivered, its state rebuilt).
      afterProduce: async (batch) => {
        if (batch[0]!.partition === kill) {
          kill = undefined;
          throw new Error('killed between produce and commit');
        }
      },
    });
    await normalize.start();
    await correlate.start();
    const producer = await bus.producer();
    // Accounts key the signals partitions: four accounts, two on each partition (the memory bus's hash), one early alert each.
    const accounts = ['100000000000', '100111111111', '100222222222', '100333333333'];
    await producer.send(accounts.map((a, i) => rawAccessKey(topics, 10 + i, a)));
    await until('four early alerts', () => alertsOn(bus, topics).length === 4, () => alertsOn(bus, topics).map((x) => `${x.alert.rule.id}:${x.version}`));
    await bus.waitCommitted('c', topics.signals);
    const withSignals = bus.read(topics.signals).map((ms) => ms.filter((m) => !m.value.toString('utf8').includes('"signals":[]')).length);
    expect(withSignals).toEqual([2, 2]);
    // A batch of partition 0 fails after its produce: the redelivery rebuilds partition 0 from seam.signals and
    // seam.alerts, where the early alerts of partition 1's held signals are too.
    const account0 = accounts.find((a) => bus.read(topics.signals)[0]!.some((m) => m.value.toString('utf8').includes(a)))!;
    kill = 0;
    await producer.send([rawAccessKey(topics, 20, account0)]);
    await until('the fifth early alert', () => alertsOn(bus, topics).length === 5, () => alertsOn(bus, topics).map((x) => `${x.alert.rule.id}:${x.version}`));
    // Two rebuilds at the first batches, one after the failure.
    await until('the redelivered batch', () => kill === undefined && (correlate.stats() as { rebuilds: number }).rebuilds === 3, () => ({ killPending: kill !== undefined, rebuilds: (correlate.stats() as { rebuilds: number }).rebuilds }));
    await bus.waitCommitted('c', topics.signals);
    await correlate.stop();
    const all = alertsOn(bus, topics);
    const early = all.filter((x) => x.version === 'provisional').map((x) => x.alert.id);
    const stopped = all.filter((x) => x.version === 'stopped').map((x) => x.alert.id);
    expect(new Set(early).size).toBe(5);
    expect(stopped.sort()).toEqual([...new Set(early)].sort());
    await normalize.stop();
    await bus.close();
  });
});

describe("stage 1's early hints (ADR 0026)", () => {
  it('the correlate role parses and matches on arrival only the signals stage 1 names, and raises the same early alerts', async () => {
    const shipped = await loadDetection({ rules: [join(import.meta.dirname, '..', 'detections')] });
    const lines = (await readFile(join(import.meta.dirname, '..', 'deploy', 'demo', 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const bus = new MemoryBus({ defaultPartitions: 2, maxBatch: 40 });
    const producer = await bus.producer();
    const topics = pipelineTopics('hints.');
    const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ruleset: shipped.ruleset!, earlyHints: true });
    await normalize.start();
    // Event time a few minutes ahead, a second apart, in file order: the wall clock never releases a signal, and
    // every signal waits for the watermark (stage 1's marks) when it arrives.
    const t0 = Date.now() + 5 * 60_000;
    for (const [i, text] of lines.entries()) {
      const source = detectSource(text)!;
      const at = new Date(t0 + i * 1000).toISOString();
      const record = text.replace(/"(eventTime|requestReceivedTimestamp|stageTimestamp|time|updatedAt|createdAt)":"[^"]*"/g, `"$1":"${at}"`);
      await producer.send([{ topic: topics.raw(source), key: 'k', value: Buffer.from(record), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source }) }]);
    }
    for (const t of topics.rawAll) await bus.waitCommitted('n', t);
    await normalize.stop();
    const signals = bus.read(topics.signals);
    expect(signals.flat().filter((m) => m.headers?.[EARLY_HINT_HEADER] !== undefined).length).toBeGreaterThan(10);
    // The same signal messages with the hints (as stage 1 wrote them), without (an older stage 1), and for another set of early rules.
    const run = async (name: string, hint: (h: string) => string | undefined): Promise<{ early: string[]; final: string[]; stats: Record<string, unknown> }> => {
      const own = pipelineTopics(`hints-${name}.`);
      const t: PipelineTopics = { ...own, raw: topics.raw, rawAll: topics.rawAll, sourceOfRaw: topics.sourceOfRaw };
      for (const [p, ms] of signals.entries()) {
        await producer.send(
          ms.map((m) => {
            const headers = { ...m.headers };
            const h = headers[EARLY_HINT_HEADER];
            delete headers[EARLY_HINT_HEADER];
            const v = h === undefined ? undefined : hint(h);
            if (v !== undefined) headers[EARLY_HINT_HEADER] = v;
            return { topic: t.signals, key: m.key, partition: p, value: m.value, headers };
          }),
        );
      }
      const correlate = createCorrelateRole({ bus, topics: t, detection: shipped, history: memoryHistory(bus), groupId: 'c', order: { upstream: memoryUpstream(bus, t, 'n'), idleMs: Infinity, pollMs: 0 } });
      await correlate.start();
      await bus.waitCommitted('c', t.signals);
      const stats = correlate.stats();
      await correlate.flush();
      await correlate.stop();
      const all = alertsOn(bus, t);
      return { early: all.filter((x) => x.provisional).map((x) => x.alert.id).sort(), final: all.filter((x) => !x.provisional).map((x) => x.alert.id).sort(), stats };
    };
    const hinted = await run('on', (h) => h);
    const without = await run('off', () => undefined);
    const other = await run('other', () => JSON.stringify(['not-these-rules', []]));
    expect(without.early.length).toBeGreaterThan(3);
    expect(hinted.early).toEqual(without.early);
    expect(hinted.final).toEqual(without.final);
    expect(other.early).toEqual(without.early);
    expect(without.stats).toMatchObject({ earlySkipped: 0 });
    expect(other.stats).toMatchObject({ earlySkipped: 0 });
    // Most held signals match no early rule: stage 1 said so, and they were not parsed on arrival.
    expect(hinted.stats.earlySkipped as number).toBeGreaterThan(without.early.length);
    await bus.close();
  });
});

describe('the deliver role notifies each alert once (ADR 0025)', () => {
  it('the provisional version is notified; its final is not, also after a restart between the two', async () => {
    const rx = await startReceiver();
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('early-deliver.');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 2 }, { topic: topics.dlq, partitions: 1 }]);
    // Holding early alerts for their final fold (ADR 0052) off: what ADR 0025 promises on its own (src/sinks/delivery/deliverer.test.ts and src/pipeline/roles/deliver.test.ts test the hold).
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, fold: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }] });
    const role = () => createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'd', history: memoryHistory(bus) });
    const producer = await bus.producer();
    const alerts = Array.from({ length: 6 }, (_, i) => testAlert({ n: i + 1, ruleId: `r-${i + 1}` }));
    const msg = (a: Alert, p: boolean): BusMessage => ({ topic: topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(p ? { ...a, provisional: true } : a)), ...(p ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}) });
    try {
      // Member 1 reads the provisional versions of the first three, then stops (a restart, a rebalance).
      const first = role();
      await first.start();
      await producer.send(alerts.slice(0, 3).map((a) => msg(a, true)));
      await bus.waitCommitted('d', topics.alerts);
      await first.stop();
      // The finals arrive for a new member; also the other three alerts, provisional then final in one batch.
      await producer.send([...alerts.slice(0, 3).map((a) => msg(a, false)), ...alerts.slice(3).flatMap((a) => [msg(a, true), msg(a, false)])]);
      const second = role();
      await second.start();
      await bus.waitCommitted('d', topics.alerts);
      await second.stop();
      const notified = rx.requests.map((r) => (r.json as { alert: Alert }).alert);
      expect(notified.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
      expect(notified.every((a) => a.provisional === true)).toBe(true);
      expect(second.stats()).toMatchObject({ laterVersions: 6, rememberedOnStart: 3 });
    } finally {
      await rx.close();
      await bus.close();
    }
  });

  it('a rebalance between the two versions (a second member takes a partition) does not notify twice', async () => {
    const rx = await startReceiver();
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('early-rebalance.');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 2 }, { topic: topics.dlq, partitions: 1 }]);
    // Holding early alerts for their final fold (ADR 0052) off: what ADR 0025 promises on its own (src/sinks/delivery/deliverer.test.ts and src/pipeline/roles/deliver.test.ts test the hold).
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, fold: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }] });
    const role = () => createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'd', history: memoryHistory(bus) });
    const producer = await bus.producer();
    const alerts = Array.from({ length: 12 }, (_, i) => testAlert({ n: i + 1, ruleId: `r-${i + 1}` }));
    // Both partitions hold alerts (as keys by id spread them); both versions of one alert share a partition.
    const msg = (a: Alert, p: boolean, i: number): BusMessage => ({ topic: topics.alerts, key: a.id, partition: i % 2, value: Buffer.from(JSON.stringify(p ? { ...a, provisional: true } : a)), ...(p ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}) });
    const first = role();
    const second = role();
    try {
      // One member reads both partitions' provisional versions; a second joins and takes one partition.
      await first.start();
      await producer.send(alerts.map((a, i) => msg(a, true, i)));
      await bus.waitCommitted('d', topics.alerts);
      await second.start();
      await producer.send(alerts.map((a, i) => msg(a, false, i)));
      await bus.waitCommitted('d', topics.alerts);
      const notified = rx.requests.map((r) => (r.json as { alert: Alert }).alert.id);
      expect(notified.sort()).toEqual(alerts.map((a) => a.id).sort());
      // The second member read back what the first had handled on the partition it took over.
      expect((second.stats() as { rememberedOnStart: number; laterVersions: number }).rememberedOnStart).toBeGreaterThan(0);
      expect((first.stats() as { laterVersions: number }).laterVersions + (second.stats() as { laterVersions: number }).laterVersions).toBe(12);
    } finally {
      await first.stop();
      await second.stop();
      await rx.close();
      await bus.close();
    }
  });
});
