// Shared by the pipeline e2e and fault tests: realistic raw records (the demo dataset and fixtures with
// varied ids, plus malformed ones), a private pipeline (topic prefix, group ids, index prefix), a bus
// wrapper that "kills" a role between its output and its commit, and the lost/duplicated verdict.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { Client } from '@opensearch-project/opensearch';
import { AssignerProtocol } from 'kafkajs';
import type { Bus, BusConsumer, BusConsumerOptions, BusMessage, BusProducer } from '../../src/bus/types.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import type { SeamEvent, SourceType } from '../../src/core/envelope.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadDetection, type Detection } from '../../src/pipeline/detection.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import type { FileItem } from '../../src/sources/file/source.ts';
import { kafkaHistory } from '../../src/pipeline/history.ts';
import { kafkaUpstream } from '../../src/pipeline/progress.ts';
import { createCorrelateRole } from '../../src/pipeline/roles/correlate.ts';
import { createIndexRole } from '../../src/pipeline/roles/indexer.ts';
import { createNormalizeRole } from '../../src/pipeline/roles/normalize.ts';
import { defaultGroupId, DLQ_HEADERS, type Role } from '../../src/pipeline/roles/role.ts';
import { pipelineTopics, topicPlan, type PipelineTopics } from '../../src/pipeline/topics.ts';
import { rawHeaders } from '../../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../../src/sources/cloudwatch-logs/parse.ts';
import { OpenSearchSink } from '../../src/sinks/opensearch/sink.ts';
import type { OpenSearchSinkConfigInput } from '../../src/sinks/opensearch/config.ts';
import { setupOpenSearch } from '../../src/sinks/opensearch/setup.ts';
import { alertVersion } from '../../src/pipeline/early.ts';
import { eventJsons } from '../../src/pipeline/event-route.ts';
import { decodeSignalMessage } from '../../src/pipeline/signal.ts';
import { firstOf } from '../helpers/first-of.ts';
import { kafkaBrokers, opensearchUrl, RUN_ID, uniqueName } from '../helpers/services.ts';
import { shiftTimes } from '../helpers/shift-times.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface RawRecord {
  text: string;
  source?: SourceType;
  /** The message's bytes when they are not `text` (a gzip-compressed payload); `text` is then what they inflate to. */
  value?: Buffer;
  /** Produced without Seam's headers, as something other than a Seam collector would (a Kinesis-to-Kafka connector). */
  noHeaders?: boolean;
  /** What the collector attaches: the cluster and account of an audit log (RawMeta). */
  cluster?: string;
  account?: string;
}

/** The collector's attribution of a record, as RawMeta fields. */
function attribution(r: RawRecord): { cluster?: string; account?: string } {
  return { ...(r.cluster === undefined ? {} : { cluster: r.cluster }), ...(r.account === undefined ? {} : { account: r.account }) };
}

function jsonLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim().length > 0);
}

/** Copies follow each other in time: every base record lies within one half hour (14:00–14:30). */
const COPY_SPACING_MS = 3600_000;

/** Copy k of a record: its source ids carry `-c<k>` (so `seam.id` differs per copy) and its times are k hours later. */
function vary(line: string, k: number): string {
  const text = shiftTimes(line, k * COPY_SPACING_MS);
  const o = JSON.parse(text) as Record<string, unknown>;
  for (const f of ['eventID', 'auditID', 'uuid', 'id', 'Id', 'event_id']) if (typeof o[f] === 'string') o[f] = `${o[f] as string}-c${k}`;
  const d = o.detail as Record<string, unknown> | undefined;
  if (d && typeof d === 'object') for (const f of ['id', 'Id']) if (typeof d[f] === 'string') d[f] = `${d[f] as string}-c${k}`;
  return JSON.stringify(o);
}

/**
 * Valid records: `copies` of the demo dataset and the JSONL fixtures, ids varied per copy, each copy in
 * event-time order and an hour after the one before: one story after another, as a collector would deliver
 * them (each raw partition in event-time order, so no evidence is later than the allowed lateness, ADR 0009).
 */
export function validRecords(copies: number): RawRecord[] {
  const meta = { collector: 'test', receivedAt: new Date().toISOString() };
  const timeOf = (line: string): number => {
    const n = normalizeLine(line, meta);
    return n.ok ? Date.parse(n.value['@timestamp']) : Number.NaN;
  };
  const base = [
    ...jsonLines(join(ROOT, 'deploy/demo/eks-demo.jsonl')),
    ...jsonLines(join(ROOT, 'test/fixtures/k8s-audit/eks-audit.jsonl')),
    ...jsonLines(join(ROOT, 'test/fixtures/runtime/falco.jsonl')),
    ...jsonLines(join(ROOT, 'test/fixtures/runtime/native.jsonl')),
    ...jsonLines(join(ROOT, 'test/fixtures/guardduty/findings-rest.jsonl')),
    ...jsonLines(join(ROOT, 'test/fixtures/cloudtrail/redaction-cases.jsonl')),
  ]
    .map((line, i) => ({ line, i, t: timeOf(line) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.line);
  const out: RawRecord[] = [];
  for (let k = 0; k < copies; k++) {
    for (const line of base) {
      // Odd copies carry their CloudTrail records as EventBridge delivers them, which must change nothing.
      const text = k % 2 === 1 ? viaEventBridge(vary(line, k)) : vary(line, k);
      const source = detectSource(text);
      out.push(source ? { text, source } : { text });
    }
  }
  return out;
}

/** A CloudTrail record in the EventBridge event that carries it (other records unchanged). */
function viaEventBridge(text: string): string {
  const o = JSON.parse(text) as Record<string, unknown>;
  if (typeof o.eventSource !== 'string' || typeof o.eventName !== 'string') return text;
  const service = o.eventSource.split('.')[0] ?? 'cloudtrail';
  return JSON.stringify({
    version: '0',
    id: `eb-${String(o.eventID)}`,
    'detail-type': o.eventSource === 'signin.amazonaws.com' ? 'AWS Console Sign In via CloudTrail' : 'AWS API Call via CloudTrail',
    source: `aws.${service}`,
    account: o.recipientAccountId,
    time: o.eventTime,
    region: o.awsRegion,
    resources: [],
    detail: o,
  });
}

/** Malformed records: the bad fixtures and generated garbage, `n` in all. */
export function badRecords(n: number): RawRecord[] {
  const dir = join(ROOT, 'test/fixtures/bad');
  const fixtures = readdirSync(dir).flatMap((f) => jsonLines(join(dir, f)));
  const meta = { collector: 'test', receivedAt: new Date().toISOString() };
  const bad = fixtures.filter((t) => !normalizeLine(t, meta).ok);
  const out: RawRecord[] = [];
  for (let i = 0; i < n; i++) {
    switch (i % 5) {
      case 0:
        out.push({ text: `not json at all #${i}` });
        break;
      case 1:
        out.push({ text: `{"eventVersion":"1.08","eventID":"trunc-${i}","eventName":"GetObj` });
        break;
      case 2:
        out.push({ text: `[${i}]` });
        break;
      case 3:
        out.push({ text: JSON.stringify({ hello: 'world', n: i }) });
        break;
      default: {
        const t = bad[i % bad.length]!;
        // Keep each record distinct so every one can be found in the dead letters.
        out.push({ text: t.startsWith('{') && t.endsWith('}') && t.length > 2 ? `${t.slice(0, -1)},"seamTestBad":${i}}` : `${t} #${i}` });
      }
    }
  }
  // Some of the variations above might normalize after all; keep only the ones that do not.
  return out.filter((r) => !normalizeLine(r.text, meta).ok);
}

/** Ids the index must hold: `seam.id` of every valid record. */
export function expectedIds(records: RawRecord[]): Set<string> {
  const ids = new Set<string>();
  const meta = { collector: 'test', receivedAt: new Date().toISOString() };
  for (const r of records) {
    const n = normalizeLine(r.text, r.source ? { ...meta, source: r.source } : meta);
    if (n.ok) ids.add(n.value.seam.id);
  }
  return ids;
}

/** Interleaves bad records among valid ones, deterministically. */
export function mix(valid: RawRecord[], bad: RawRecord[]): RawRecord[] {
  const out: RawRecord[] = [];
  const step = bad.length === 0 ? Infinity : Math.max(1, Math.floor(valid.length / bad.length));
  let b = 0;
  valid.forEach((v, i) => {
    out.push(v);
    while (b < bad.length && i % step === 0 && b < Math.ceil((i + 1) / step)) out.push(bad[b++]!);
  });
  while (b < bad.length) out.push(bad[b++]!);
  return out;
}

/** A bus whose consumers can be "killed": after the handler's outputs are produced, before the commit. */
export class KillableBus implements Bus {
  dead = false;
  /** Kill after this many more handled batches (undefined: never). */
  killAfterBatches: number | undefined;
  batches = 0;
  constructor(readonly inner: KafkaBus) {}
  producer(): Promise<BusProducer> {
    return this.inner.producer();
  }
  ensureTopics(t: { topic: string; partitions: number }[]): Promise<void> {
    return this.inner.ensureTopics(t);
  }
  partitions(topic: string): Promise<number> {
    return this.inner.partitions(topic);
  }
  partitionOf(key: string, partitions: number): number {
    return this.inner.partitionOf(key, partitions);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  async consumer(opts: BusConsumerOptions): Promise<BusConsumer> {
    return this.inner.consumer({
      ...opts,
      handle: async (batch) => {
        if (this.dead) throw new Error('killed');
        await opts.handle(batch);
        this.batches++;
        if (this.killAfterBatches !== undefined && this.batches >= this.killAfterBatches) {
          this.dead = true;
          throw new Error('killed between produce and commit');
        }
      },
    });
  }
}

export interface Pipeline {
  id: string;
  topics: PipelineTopics;
  groupPrefix: string;
  indexPrefix: string;
  detection: Detection;
  admin: KafkaBus;
  os: Client;
  sinkConfig(url?: string): OpenSearchSinkConfigInput;
  normalize(bus?: Bus): Role;
  /** A correlate member; `detection`: its own (another process's rules, seeds), else the pipeline's. */
  correlate(bus?: Bus, detection?: Detection): Role;
  index(bus?: Bus, sink?: OpenSearchSink): Role;
  newBus(clientId: string): KafkaBus;
  produce(records: RawRecord[]): Promise<void>;
  /** Waits until every role group has committed its input topics to the end. */
  drain(timeoutMs?: number): Promise<void>;
  /**
   * Alert documents in the index that are still provisional (ADR 0025) or a stopped member's stand-in (ADR 0027): their final comes when the correlate
   * role's watermark passes their signal. A `seam run` process's correlate is not visible to `drain`: waiting for
   * none tells that its held signals were handed on (the idle upstream releases them after `idleMs`).
   */
  provisionalLeft(): Promise<number>;
  /**
   * `referenceSigmaAlerts`: single-rule alert ids that must be indexed; `referenceCorrelationAlerts`: the correlation
   * alerts embedded mode raises (`referenceCorrelationAlerts()`), which must be the final correlation alerts on
   * `seam.alerts` exactly and be indexed (ADR 0009: records produced in chunks with quiet spells between count as at once).
   */
  verdict(expected: Set<string>, bad: RawRecord[], referenceSigmaAlerts?: Set<string>, referenceCorrelationAlerts?: Set<string>): Promise<Verdict>;
  cleanup(): Promise<void>;
}

export interface Verdict {
  events: number;
  alerts: number;
  lost: number;
  duplicated: number;
  dlq: number;
  dlqMissing: number;
  dlqWithoutReason: number;
  details: string[];
  /**
   * Everything a failing assertion on this verdict needs to say, a few lines: the counts against what was
   * expected, the first ids missing or twice (a missing event located: on seam.signals, on seam.events or on
   * neither, i.e. which role lost it), the first bad records without their dead letter.
   */
  explain: string;
}

/** Where a pipeline runs: the shared local services unless a test brings its own (test/faults/service-restart.test.ts). */
export interface PipelineServices {
  kafkaBrokers: string[];
  opensearchUrl: string;
}

/** A private pipeline: its own topics, groups and indices, on the shared local services (or on `at`). */
export async function pipeline(
  name: string,
  partitions = { raw: 3, events: 3, signals: 2, alerts: 2, dlq: 1 },
  at: PipelineServices = { kafkaBrokers: kafkaBrokers(), opensearchUrl: opensearchUrl() },
  /** `detection`: the rules, native and identity options of every role (default: the rule pack alone). */
  opts: { detection?: Detection } = {},
): Promise<Pipeline> {
  const id = uniqueName(name);
  const topics = pipelineTopics(`${id}.`);
  const groupPrefix = `${id}-`;
  const indexPrefix = `seamt_${RUN_ID}_${name.replace(/[^a-z0-9]/g, '')}_${id.slice(-2).replace(/[^0-9]/g, '')}`.toLowerCase();
  const admin = new KafkaBus({ brokers: at.kafkaBrokers, clientId: `${id}-admin` });
  await admin.createTopics(topicPlan(topics, partitions));
  const detection = opts.detection ?? (await loadDetection({ rules: [join(ROOT, 'detections')] }));
  const os = new Client({ node: at.opensearchUrl });
  const sinkConfig = (url = at.opensearchUrl): OpenSearchSinkConfigInput => ({
    nodeUrls: [url],
    indexPrefix,
    replicas: 0,
    refreshIntervalMs: 1000,
    flushIntervalMs: 50,
    retry: { initialBackoffMs: 50, maxBackoffMs: 500, maxRetries: 3 },
    requestTimeoutMs: 10_000,
  });
  {
    const s = await OpenSearchSink.fromConfig(sinkConfig());
    await setupOpenSearch(os, { templates: s.config, ism: 'skip' });
    await s.close();
  }
  const buses: KafkaBus[] = [admin];
  const sinks: OpenSearchSink[] = [];
  const roles: Role[] = [];
  const newBus = (clientId: string): KafkaBus => {
    const b = new KafkaBus({ brokers: at.kafkaBrokers, clientId: `${id}-${clientId}` });
    buses.push(b);
    return b;
  };
  // Correlate roles started and not stopped: drain waits until they hold nothing back (ADR 0009).
  const liveCorrelates = new Set<Role>();
  const track = <R extends Role>(r: R): R => {
    roles.push(r);
    if (r.name === 'correlate') {
      const start = r.start.bind(r);
      const stop = r.stop.bind(r);
      r.start = async () => {
        await start();
        liveCorrelates.add(r);
      };
      r.stop = async () => {
        liveCorrelates.delete(r);
        await stop();
      };
    }
    return r;
  };

  /** Where events the index lacks got to: on seam.signals (normalize's output to correlate), on seam.events (the index role's input), or neither. */
  const locateEvents = async (ids: string[]): Promise<string> => {
    const want = new Set(ids);
    const onSignals = new Set<string>();
    const onEvents = new Set<string>();
    try {
      await admin.readToEnd([topics.signals], (m) => {
        for (const s of decodeSignalMessage(m.value)?.signals ?? []) if (want.has(s.event.seam.id)) onSignals.add(s.event.seam.id);
      });
      await admin.readToEnd([topics.events], (m) => {
        for (const j of eventJsons(m)) {
          const eid = (JSON.parse(j.toString('utf8')) as { seam?: { id?: string } }).seam?.id;
          if (eid !== undefined && want.has(eid)) onEvents.add(eid);
        }
      });
    } catch (e) {
      return `(locating them failed: ${(e as Error).message})`;
    }
    const neither = ids.filter((i) => !onSignals.has(i) && !onEvents.has(i));
    const signalsOnly = ids.filter((i) => onSignals.has(i) && !onEvents.has(i));
    return (
      `of the first ${ids.length}: on ${topics.events} (not indexed by the index role) ${onEvents.size}, ` +
      `on ${topics.signals} only (not handed on by correlate) ${signalsOnly.length}${signalsOnly.length ? ` [${firstOf(signalsOnly, 5)}]` : ''}, ` +
      `on neither (not emitted by normalize) ${neither.length}${neither.length ? ` [${firstOf(neither, 5)}]` : ''}`
    );
  };

  return {
    id,
    topics,
    groupPrefix,
    indexPrefix,
    detection,
    admin,
    os,
    sinkConfig,
    newBus,
    normalize: (bus = newBus('normalize')) =>
      track(
        createNormalizeRole({
          bus,
          topics,
          groupId: defaultGroupId('normalize', groupPrefix),
          ...(detection.ruleset ? { ruleset: detection.ruleset } : {}),
          clusterAccounts: detection.clusterAccounts,
          accountGroups: detection.accountGroups,
        }),
      ),
    correlate: (bus = newBus('correlate'), own = detection) =>
      track(
        createCorrelateRole({
          bus,
          topics,
          detection: own,
          history: kafkaHistory(admin),
          groupId: defaultGroupId('correlate', groupPrefix),
          order: { upstream: kafkaUpstream(admin, topics, defaultGroupId('normalize', groupPrefix)), idleMs: 500, pollMs: 250 },
        }),
      ),
    index: (bus = newBus('index'), sink?: OpenSearchSink) => {
      let s = sink;
      if (s === undefined) {
        s = new OpenSearchSink(new Client({ node: at.opensearchUrl }), sinkConfig());
        sinks.push(s);
      }
      return track(createIndexRole({ bus, topics, sink: s, groupId: defaultGroupId('index', groupPrefix), consumers: 2 }));
    },
    async produce(records) {
      const p = await admin.producer();
      const received = new Date().toISOString();
      const msgs: BusMessage[] = records.map((r, i) => ({
        topic: topics.raw(r.source ?? 'k8s_audit'),
        key: `stream-${i % 7}`,
        value: r.value ?? Buffer.from(r.text),
        ...(r.noHeaders === true ? {} : { headers: rawHeaders({ collector: 'test', receivedAt: received, origin: `test:${i}`, ...(r.source ? { source: r.source } : {}), ...attribution(r) }) }),
      }));
      for (let i = 0; i < msgs.length; i += 2000) await p.send(msgs.slice(i, i + 2000));
      await p.close();
    },
    async drain(timeoutMs = 180_000) {
      const kadmin = await admin.admin();
      const groups: [string, string[]][] = [
        [defaultGroupId('normalize', groupPrefix), [...topics.rawAll]],
        [defaultGroupId('correlate', groupPrefix), [topics.signals]],
        [defaultGroupId('index', groupPrefix), [topics.events, topics.alerts, topics.identity]],
      ];
      const deadline = Date.now() + timeoutMs;
      let stableSince = 0;
      for (;;) {
        let behind = 0;
        const byGroup: string[] = [];
        const where: string[] = [];
        for (const [groupId, ts] of groups) {
          const before = behind;
          const committed = await kadmin.fetchOffsets({ groupId, topics: ts });
          for (const t of committed) {
            const ends = await kadmin.fetchTopicOffsets(t.topic);
            for (const e of ends) {
              const c = t.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
              const at = BigInt(c) < 0n ? BigInt(e.low) : BigInt(c);
              if (at < BigInt(e.high)) {
                behind += Number(BigInt(e.high) - at);
                where.push(`${t.topic}/${e.partition} lag=${BigInt(e.high) - at} (committed=${c} low=${e.low} high=${e.high})`);
              }
            }
          }
          if (behind > before) byGroup.push(`${groupId} ${behind - before}`);
        }
        // A correlate still holding signals (or not yet past its newest event) has alerts to come.
        const unsettled = [...liveCorrelates].filter((r) => (r.stats() as { settled?: boolean }).settled === false).length;
        if (unsettled > 0) byGroup.push(`correlate members holding signals: ${unsettled}`);
        if (behind === 0 && unsettled === 0) {
          if (stableSince === 0) stableSince = Date.now();
          if (Date.now() - stableSince > 1500) return;
        } else stableSince = 0;
        if (Date.now() > deadline) {
          // What a stalled group looks like from the broker: who is in it and what each member owns (a partition
          // behind and owned by nobody, or by a member that does not fetch it, are different faults).
          const members = await kadmin
            .describeGroups(groups.map(([g]) => g))
            .then((d) => d.groups.map((g) => `${g.groupId} state=${g.state} members=${g.members.map((m) => `${m.clientId}[${ownedBy(m.memberAssignment)}]`).join(' | ') || 'none'}`))
            .catch((e: unknown) => [`describeGroups failed: ${(e as Error).message}`]);
          const unsettledStats = [...liveCorrelates].filter((r) => (r.stats() as { settled?: boolean }).settled === false);
          throw new Error(
            `pipeline ${id} did not drain in ${timeoutMs} ms: ${behind} messages behind (${byGroup.join(', ')})\n` +
              `  lag per partition behind: ${where.join('; ') || 'none'}\n` +
              `  groups: ${members.join('; ')}` +
              (unsettledStats.length > 0 ? `\n  correlate members holding signals, their counters:\n${roleStats(unsettledStats)}` : ''),
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async provisionalLeft() {
      await os.indices.refresh({ index: `${indexPrefix}-alerts-*` }, { ignore: [404] });
      const r = await os.count({ index: `${indexPrefix}-alerts-*`, body: { query: { bool: { should: [{ term: { provisional: true } }, { term: { unenriched: 'member_stopped' } }] } } } as never }, { ignore: [404] });
      return (r.body as { count?: number }).count ?? 0;
    },
    async verdict(expected, bad, referenceSigmaAlerts, referenceCorrelationAlerts) {
      const details: string[] = [];
      await os.indices.refresh({ index: `${indexPrefix}-*` });
      const eventIds = await allIds(os, `${indexPrefix}-events-*`);
      const alertDocIds = await allIds(os, `${indexPrefix}-alerts-*`);
      const onTopic: string[] = [];
      const early: string[] = [];
      const earlyRule = new Map<string, string>();
      /** Final correlation alerts on the topic: id → rule and events, for the account. */
      const correlations = new Map<string, string>();
      const dls: { dl: DeadLetter; key: string }[] = [];
      // Early (provisional) alerts and a stopping member's stand-ins (ADR 0027) are versions, not alerts (ADR 0025):
      // the finals are counted; each early one needs its final.
      await admin.readToEnd([topics.alerts], (m) => {
        const a = JSON.parse(m.value.toString('utf8')) as Alert;
        const final = alertVersion(a) === 'final';
        (final ? onTopic : early).push(a.id);
        if (final && a.rule.type === 'correlation') correlations.set(a.id, `${a.rule.id} at ${a['@timestamp']}`);
        if (!final) earlyRule.set(a.id, `${a.rule.id} ${a.rule.title} events=${a.events.join(',')} at ${a['@timestamp']}`);
      });
      await admin.readToEnd([topics.dlq], (m) =>
        dls.push({ dl: JSON.parse(m.value.toString('utf8')) as DeadLetter, key: `${m.headers?.[DLQ_HEADERS.topic]}/${m.headers?.[DLQ_HEADERS.partition]}/${m.headers?.[DLQ_HEADERS.offset]}` }),
      );
      const count = (xs: string[]): Map<string, number> => {
        const m = new Map<string, number>();
        for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
        return m;
      };
      const ev = count(eventIds);
      const al = count(alertDocIds);
      const top = count(onTopic);
      let lost = 0;
      let duplicated = 0;
      for (const id of expected) if (!ev.has(id)) lost++;
      for (const [, n] of ev) if (n > 1) duplicated += n - 1;
      for (const id of ev.keys()) if (!expected.has(id)) details.push(`unexpected event ${id}`);
      for (const [, n] of al) if (n > 1) duplicated += n - 1;
      for (const [id, n] of top) {
        if (n > 1) {
          duplicated += n - 1;
          details.push(`alert ${id} produced ${n} times`);
        }
        if (!al.has(id)) lost++;
      }
      for (const id of new Set(early)) {
        if (!top.has(id)) {
          lost++;
          details.push(`early alert ${id} has no final: ${earlyRule.get(id)}`);
        }
      }
      // No index document stays provisional, or a stopped member's stand-in: the final replaced each, whatever the order of the writes.
      const stillEarly = await os.count({ index: `${indexPrefix}-alerts-*`, body: { query: { bool: { should: [{ term: { provisional: true } }, { term: { unenriched: 'member_stopped' } }] } } } as never }, { ignore: [404] });
      const left = (stillEarly.body as { count?: number }).count ?? 0;
      if (left > 0) {
        lost += left;
        details.push(`${left} alert documents still provisional or stopped versions`);
      }
      for (const id of referenceSigmaAlerts ?? []) {
        if (!al.has(id)) {
          lost++;
          details.push(`sigma alert ${id} missing`);
        }
      }
      if (referenceCorrelationAlerts !== undefined) {
        for (const id of referenceCorrelationAlerts) {
          if (!al.has(id)) {
            lost++;
            details.push(`correlation alert ${id} missing`);
          }
        }
        for (const [id, what] of correlations) if (!referenceCorrelationAlerts.has(id)) details.push(`correlation alert ${id} (${what}) not raised by embedded mode`);
      }
      if (lost > 0) details.push(`lost: ${[...expected].filter((i) => !ev.has(i)).length} events`);
      const byRaw = new Set(dls.map((d) => d.dl.raw));
      const missingDl = bad.filter((b) => !byRaw.has(b.text));
      const withoutReason = dls.filter((d) => !d.dl.reason || !d.dl.code || !d.dl.stage);
      const dlq = new Set(dls.map((d) => d.key)).size;
      // The account a failure prints (built whatever the outcome: it is a few lines).
      const why: string[] = [
        `verdict on ${id}: events=${ev.size} of ${expected.size} expected, alerts=${al.size} (finals on ${topics.alerts}: ${top.size}, early versions: ${new Set(early).size}), lost=${lost} duplicated=${duplicated} dlq=${dlq} (dead-letter records ${dls.length}) for ${bad.length} bad records`,
      ];
      const missingEvents = [...expected].filter((i) => !ev.has(i));
      if (missingEvents.length > 0) why.push(`  events not indexed: ${firstOf(missingEvents)}; ${await locateEvents(missingEvents.slice(0, 200))}`);
      const twiceEvents = [...ev].filter(([, n]) => n > 1).map(([i, n]) => `${i} x${n}`);
      if (twiceEvents.length > 0) why.push(`  events indexed more than once (across indices): ${firstOf(twiceEvents)}`);
      const twiceAlerts = [...al].filter(([, n]) => n > 1).map(([i, n]) => `${i} x${n}`);
      if (twiceAlerts.length > 0) why.push(`  alert documents indexed more than once (across indices): ${firstOf(twiceAlerts)}`);
      const notIndexed = [...top.keys()].filter((i) => !al.has(i));
      if (notIndexed.length > 0) why.push(`  final alerts on ${topics.alerts} not in the index: ${firstOf(notIndexed)}`);
      if (details.length > 0) why.push(`  details: ${firstOf(details, 20)}`);
      if (missingDl.length > 0) why.push(`  bad records without a dead letter: ${firstOf(missingDl.map((b) => JSON.stringify(b.text.slice(0, 100))), 5)}`);
      if (withoutReason.length > 0) why.push(`  dead letters without reason, code or stage: ${firstOf(withoutReason.map((d) => `${d.key} ${JSON.stringify({ stage: d.dl.stage, code: d.dl.code, reason: d.dl.reason })}`), 5)}`);
      return { events: ev.size, alerts: al.size, lost, duplicated, dlq, dlqMissing: missingDl.length, dlqWithoutReason: withoutReason.length, details: details.slice(0, 20), explain: why.join('\n') };
    },
    async cleanup() {
      for (const r of roles) await r.stop().catch(() => undefined);
      for (const s of sinks) await s.close().catch(() => undefined);
      const kadmin = await admin.admin();
      const all = topicPlan(topics).map((t) => t.topic);
      await kadmin.deleteTopics({ topics: all }).catch(() => undefined);
      await kadmin.deleteGroups([defaultGroupId('normalize', groupPrefix), defaultGroupId('correlate', groupPrefix), defaultGroupId('index', groupPrefix)]).catch(() => undefined);
      await os.indices.delete({ index: `${indexPrefix}-*`, expand_wildcards: 'all' }, { ignore: [404] }).catch(() => undefined);
      await os.transport.request({ method: 'DELETE', path: `/_index_template/${indexPrefix}-*` }, { ignore: [404] }).catch(() => undefined);
      await os.transport.request({ method: 'DELETE', path: `/_component_template/${indexPrefix}-*` }, { ignore: [404] }).catch(() => undefined);
      for (const b of buses) await b.close().catch(() => undefined);
      await os.close();
    },
  };
}

/** A group member's assignment as the broker holds it: "topic:0,2 topic2:1", or why it cannot be read. */
function ownedBy(assignment: Buffer): string {
  if (assignment.length === 0) return 'nothing assigned';
  try {
    const a = AssignerProtocol.MemberAssignment.decode(assignment);
    if (a === null) return 'nothing assigned';
    return Object.entries(a.assignment).map(([t, ps]) => `${t.split('.').slice(1).join('.')}:${ps.join(',')}`).join(' ') || 'nothing assigned';
  } catch (e) {
    return `assignment unreadable: ${(e as Error).message}`;
  }
}

/** Every `_id` in the indices matching `pattern` (scroll; duplicates across indices show up twice). */
export async function allIds(os: Client, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let r = await os.search({ index: pattern, scroll: '1m', size: 5000, body: { _source: false, query: { match_all: {} } } as never }, { ignore: [404] });
  for (;;) {
    const hits = (r.body as { hits?: { hits?: { _id: string }[] } }).hits?.hits ?? [];
    if (hits.length === 0) break;
    for (const h of hits) out.push(h._id);
    const scrollId = (r.body as { _scroll_id?: string })._scroll_id;
    if (!scrollId) break;
    r = await os.scroll({ scroll_id: scrollId, scroll: '1m' } as never);
  }
  return out;
}

/**
 * The alerts embedded mode raises over these records (the roles over the in-memory bus, in event-time
 * order, end of input flushed): what a Kafka run over the same records must index, exactly.
 */
export async function embeddedAlerts(detection: Detection, records: RawRecord[]): Promise<Set<string>> {
  return new Set((await embeddedAlertList(detection, records)).map((a) => a.id));
}

/** `embeddedAlerts`, the alerts themselves (the last version of each, in the order first raised). */
export async function embeddedAlertList(detection: Detection, records: RawRecord[]): Promise<Alert[]> {
  const out = new Map<string, Alert>();
  const receivedAt = new Date().toISOString();
  const items: FileItem[] = records.map((r, i) => ({ kind: 'record', text: r.text, meta: { collector: 'test', receivedAt, origin: `test:${i}`, ...(r.source ? { source: r.source } : {}), ...attribution(r) } }));
  await runEmbedded({ paths: [], items, stateDir: mkdtempSync(join(tmpdir(), 'seam-embedded-ref-')), detection, maxRecordBytes: 1 << 20, onAlert: (a) => out.set(a.id, a) });
  return [...out.values()];
}

/** Correlation alert ids embedded mode raises over these records (`embeddedAlertList`): what every scenario must raise. */
export async function referenceCorrelationAlerts(detection: Detection, records: RawRecord[]): Promise<Set<string>> {
  return new Set((await embeddedAlertList(detection, records)).filter((a) => a.rule.type === 'correlation').map((a) => a.id));
}

/** Single-rule Sigma alert ids the input must raise, whatever the order: a reference detect stage. */
export function referenceSigmaAlerts(detection: Detection, records: RawRecord[]): Set<string> {
  const stage = detection.newStage();
  const ids = new Set<string>();
  const meta = { collector: 'test', receivedAt: new Date().toISOString() };
  const take = (as: Alert[]): void => {
    for (const a of as) if (a.rule.type === 'sigma') ids.add(a.id);
  };
  for (const r of records) {
    const n = normalizeLine(r.text, r.source ? { ...meta, source: r.source } : meta);
    if (n.ok) take(stage.process(n.value as SeamEvent));
  }
  take(stage.flush());
  return ids;
}

/**
 * Polls `cond` every 50 ms; throws naming `what` after `timeoutMs`, with `context()` (what the test can tell of
 * the state it waited on: a child's stderr, a role's counters) appended.
 */
export async function until(cond: () => boolean, timeoutMs: number, what: string, context?: () => string | Promise<string>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) {
      const more = context === undefined ? '' : await Promise.resolve(context()).catch((e: unknown) => `(its context could not be read: ${(e as Error).message})`);
      throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)${more ? `\n${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The counters of each role, one line each: what a stalled or failed scenario's message carries. */
export function roleStats(roles: Role[]): string {
  return roles.map((r) => `  ${r.name}: ${JSON.stringify(r.stats())}`).join('\n');
}
