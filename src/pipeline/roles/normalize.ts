import { coalescingProducer } from '../../bus/coalesce.ts';
import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { stageThrew, type SeamError } from '../../core/errors.ts';
import { RAW_HEADERS } from '../../bus/topics.ts';
import { DEFAULT_MAX_RECORD_BYTES, normalizeLine } from '../../core/normalize/normalize.ts';
import { BatchCounts, elementMeta, MAX_DOCUMENT_FACTOR, refusedBatch, splitBatch } from '../../core/normalize/batch.ts';
import { inflateMessage, isGzip } from '../../core/normalize/inflate.ts';
import type { RawMeta, SeamEvent } from '../../core/envelope.ts';
import type { Ruleset } from '../../detect/sigma/types.ts';
import { metaFromHeaders } from '../../sources/checkpoint/raw-record.ts';
import { eventJson, type EventJson } from '../event-json.ts';
import { EarlyAlerts } from '../early.ts';
import { EventBatcher } from '../event-route.ts';
import { chainedAccounts, encodeProgress, IdentityRelevance, SignalBatcher, signalKey, type AccountGroups, type ClusterAccounts, type SignalItem } from '../signal.ts';
import type { PipelineTopics } from '../topics.ts';
import { defaultGroupId, dlqMessage, type Role } from './role.ts';
import { noNotes, noteEvent } from '../event-notes.ts';
import { childLogger } from '../../core/logger.ts';

const log = childLogger('role.normalize');

/** Account pairs whose split chains were warned about, per process (one line each; the count goes on). */
const MAX_SPLIT_PAIRS_WARNED = 1000;

/** Bytes of a gzipped message that does not inflate kept (in base64) in its dead letter. */
const GZIP_RAW_KEPT_BYTES = 192 * 1024;

/**
 * Headers of the dead letter of an element of a batch document: the message's, with the element's origin, and
 * the account and cluster the document named (a subscription payload's) where the message had none, so
 * `seam dlq replay` sends the element back as the record it was (ADR 0039).
 */
function elementHeaders(h: Record<string, string> | undefined, meta: RawMeta): Record<string, string> {
  const out: Record<string, string> = { ...h, [RAW_HEADERS.origin]: meta.origin! };
  if (meta.account !== undefined && out[RAW_HEADERS.account] === undefined) out[RAW_HEADERS.account] = meta.account;
  if (meta.cluster !== undefined && out[RAW_HEADERS.cluster] === undefined) out[RAW_HEADERS.cluster] = meta.cluster;
  return out;
}

export interface NormalizeRoleOptions {
  bus: Bus;
  topics: PipelineTopics;
  groupId?: string;
  /** Stage 1 Sigma matching; without it only identity-relevant events become signals. */
  ruleset?: Ruleset;
  maxRecordBytes?: number;
  fromBeginning?: boolean;
  /**
   * Early hints (ADR 0026): match every signal's event against the Sigma rules the correlate role raises early
   * (ADR 0025) and say on each signal message which signals matched one, so the correlate role parses and
   * matches only those on arrival. Costs a Sigma match per signal the identity predicate forwards (otherwise
   * not matched here, ADR 0019); worth it only where the correlate role raises early alerts (Kafka roles, not
   * embedded mode).
   */
  earlyHints?: boolean;
  /**
   * Raw partitions whose batches are handled at once (default 1). One fetch brings a batch per raw partition
   * with records; one at a time, each waits for its own produce and offset commit before the next begins
   * (issue 15 item 5). 24 (every raw partition) was measured in ADR 0025: no settled latency gain, and more
   * role CPU and less throughput in the bench's backlog, so it is not the default.
   */
  partitionsAtOnce?: number;
  /** Cluster → account (seam.yml `identity.clusters`): a cluster's signals are keyed by its account (`signalKey`). */
  clusterAccounts?: ClusterAccounts;
  /** Account → its group's key (seam.yml `identity.accountGroups`): chained accounts' signals share a key (ADR 0056). */
  accountGroups?: AccountGroups;
  /** Test hook, called after a batch's outputs are built and before they are produced. */
  beforeProduce?: (batch: ConsumedMessage[]) => Promise<void>;
}

/**
 * Stage 1: `seam.raw.*` → normalize → events a Sigma rule matched or the identity graph can use →
 * `seam.signals` (keyed by account; a batch's consecutive signals of one key share a message, ADR
 * 0005), every other event → `seam.events` (keyed by `seam.id`); signals reach `seam.events` from the
 * correlate role once the identity graph has annotated them (ADR 0014); records that fail →
 * `seam.dlq`. Stateless apart from the relevance memo, so any instance can take any partition. A
 * batch's outputs are produced with acks before the handler returns, and only then is the batch's
 * offset committed (src/bus).
 */
export function createNormalizeRole(o: NormalizeRoleOptions): Role {
  const counters = new Counters('role.normalize');
  const relevance = new IdentityRelevance();
  const maxRecordBytes = o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  /** A message may be a batch document this large (inflated, if it came gzipped); its records meet `maxRecordBytes` one by one. */
  const maxDocumentBytes = maxRecordBytes * MAX_DOCUMENT_FACTOR;
  /** Account pairs already warned about as a chain split across correlate partitions (ADR 0056). */
  const splitWarned = new Set<string>();
  const stats = { splitChains: 0, events: 0, signals: 0, eventsOut: 0, marks: 0, inflated: 0, empty: 0, bySource: {} as Record<string, number>, rejectedByCode: {} as Record<string, number>, notes: noNotes() };
  /** Raw records that were batch documents (a CloudTrail file, an audit EventList), normalized as their records (ADR 0038). */
  const batches = new BatchCounts();
  let producer: BusProducer | undefined;
  let consumer: BusConsumer | undefined;
  /** Signals partitions, each told this instance's progress (ADR 0009); 0 until the topic exists. */
  let signalPartitions = 0;
  /** Partitions of `seam.events`: events are batched per partition (ADR 0019); 0 until the topic exists (one message per event). */
  let eventPartitions = 0;
  let partitionsLookedAt = 0;
  const earlyRules = o.earlyHints === true && o.ruleset !== undefined ? new EarlyAlerts(o.ruleset) : undefined;
  const early = earlyRules !== undefined && earlyRules.rules.size > 0 ? earlyRules : undefined;
  /** Progress last marked per raw partition, so a batch that moved nothing forward sends no marks. */
  const marked = new Map<string, number>();

  /** One message per signals partition: stage 1 has forwarded everything of `src` up to event time `t`. */
  const marks = (src: string, t: number, from: number): BusMessage[] => {
    if (!(t > (marked.get(src) ?? -Infinity)) || signalPartitions === 0) return [];
    const value = encodeProgress([{ src, t, ...(from < t ? { from } : {}) }]);
    return Array.from({ length: signalPartitions }, (_, p) => ({ topic: o.topics.signals, key: null, partition: p, value }));
  };

  /**
   * A role assumed from another account whose signals go to another correlate partition: the sessions it issues
   * resolve there without the caller's side of the chain (its workload, pod, exec). Counted, and warned about once
   * per account pair with the seam.yml key that keeps them together (identity.accountGroups, ADR 0056).
   */
  const splitChain = (ev: SeamEvent): void => {
    const pair = chainedAccounts(ev);
    if (pair === undefined || o.bus.partitionOf === undefined) return;
    const [caller, role] = pair.map((a) => o.accountGroups?.get(a) ?? a) as [string, string];
    if (caller === role || o.bus.partitionOf(caller, signalPartitions) === o.bus.partitionOf(role, signalPartitions)) return;
    stats.splitChains++;
    const k = `${pair[0]}>${pair[1]}`;
    if (splitWarned.has(k) || splitWarned.size >= MAX_SPLIT_PAIRS_WARNED) return;
    splitWarned.add(k);
    log.warn(
      { caller_account: pair[0], role_account: pair[1], signal_partitions: signalPartitions },
      `a session of account ${pair[0]} assumed a role of account ${pair[1]}, whose signals go to another correlate partition: the calls of that role's sessions will not resolve to the workload or person behind them in ${pair[0]}. List both accounts in one seam.yml identity.accountGroups entry (ADR 0056)`,
    );
  };

  const handle = async (batch: ConsumedMessage[]): Promise<void> => {
    const out: BusMessage[] = [];
    const signals = new SignalBatcher(undefined, early?.fingerprint);
    // `seam.events` may not exist yet (the memory bus creates topics on first use): look again, at most every second.
    if (eventPartitions === 0 && Date.now() - partitionsLookedAt >= 1000) {
      partitionsLookedAt = Date.now();
      eventPartitions = await o.bus.partitions(o.topics.events);
    }
    const events = new EventBatcher(o.topics.events, eventPartitions, o.bus.partitionOf?.bind(o.bus));
    let newestMs = -Infinity;
    /** Event time of the batch's oldest record: its mark says how late the partition delivers (ADR 0009, 5c). */
    let oldestMs = Infinity;
    /** Events of this batch, each sent as an event or in a signal: `emitted` once the send succeeds. */
    let normalized = 0;
    /**
     * One record (a raw message, or one element of a batch document in it) → a signal, an event or a dead letter.
     * An element's dead letter carries the message's headers with the element's origin, so `seam dlq replay`
     * sends it back as the record it is.
     */
    const dead = (m: ConsumedMessage, text: string, meta: RawMeta, element: boolean, error: SeamError): void => {
      counters.error(error.code, 1, meta.origin ?? `${m.topic}/${m.partition}/${m.offset}`);
      stats.rejectedByCode[error.code] = (stats.rejectedByCode[error.code] ?? 0) + 1;
      // Redacted whole, then cut to fit a Kafka message (dlqMessage): the raw topic may allow larger messages than
      // the dead-letter topic, and a message inflated from gzip may be larger still.
      const dl = deadLetter('normalize', error, text, { ...(meta.origin ? { origin: meta.origin } : {}), collector: meta.collector });
      out.push(dlqMessage(o.topics, dl, element ? { ...m, headers: elementHeaders(m.headers, meta) } : m));
    };
    const one = (m: ConsumedMessage, text: string, meta: RawMeta, element: boolean): void => {
      const r = normalizeLine(text, meta, { maxRecordBytes });
      if (!r.ok) {
        dead(m, text, meta, element, r.error);
        return;
      }
      const ev = r.value;
      let json: EventJson;
      try {
        // In two parts around `seam` (ADR 0026): a signal's header then says where its `seam` is, and the
        // correlate role writes the annotated event from these bytes and its annotated `seam`.
        json = eventJson(ev);
      } catch (e) {
        // The record's content made this stage throw: a dead letter, never a batch to retry.
        dead(m, text, meta, element, stageThrew('normalize', e));
        return;
      }
      const t = Date.parse(ev['@timestamp']);
      if (t > newestMs) newestMs = t;
      if (t < oldestMs) oldestMs = t;
      stats.events++;
      normalized++;
      stats.bySource[ev.seam.source] = (stats.bySource[ev.seam.source] ?? 0) + 1;
      noteEvent(stats.notes, ev);
      // The cheap predicate first: an event it forwards is a signal whatever the rules say, and the
      // correlate role matches every signal again on the annotated event (ADR 0005), so stage 1 runs
      // Sigma only on the events the predicate drops (ADR 0019: `rules` is then empty, `why` identity).
      let identity = false;
      try {
        identity = relevance.test(ev);
      } catch {
        counters.error('SEAM_ERR_STAGE_THREW');
      }
      let rules: string[] = [];
      // Whether an early rule matched (ADR 0026); a match that throws leaves it to the correlate role (true).
      let earlyHit: boolean | undefined;
      if (!identity || early !== undefined) {
        try {
          const matches = o.ruleset ? o.ruleset.match(ev) : [];
          if (!identity) rules = matches.map((x) => x.rule.id);
          earlyHit = early?.hit(matches);
        } catch {
          // A rule that throws must not lose the event: forward it, the correlate role matches again.
          counters.error('SEAM_ERR_RULE_EVAL');
          rules = [];
          if (early !== undefined) earlyHit = true;
        }
      }
      const why: SignalItem['why'] = [];
      if (rules.length > 0) why.push('rule');
      if (identity) why.push('identity');
      if (why.length > 0) {
        // A signal reaches `seam.events` from the correlate role, annotated with who acted (ADR 0014).
        stats.signals++;
        if (signalPartitions > 1) splitChain(ev);
        signals.add(signalKey(ev, o.clusterAccounts, o.accountGroups), rules, why, json, { id: ev.seam.id, ts: ev['@timestamp'], received: ev.seam.ingest?.received_at, ...(earlyHit === undefined ? {} : { early: earlyHit }) });
      } else {
        stats.eventsOut++;
        events.add(ev, json);
      }
    };
    for (const m of batch) {
      counters.received++;
      // The topic only routes: without a source header, normalizeLine tells the format per record.
      const meta = metaFromHeaders(m.headers, m.timestampMs);
      let text: string;
      if (isGzip(m.value)) {
        // Gzipped as CloudWatch Logs delivers subscription payloads to Kinesis (ADR 0039): inflated first, up to a
        // document several records large (its records meet the record limit one by one).
        const inflated = inflateMessage(m.value, maxDocumentBytes);
        if (!inflated.ok) {
          // The dead letter keeps what the bytes inflate to, as far as they do (redacted as any record), else the
          // bytes themselves in base64 (nothing readable in them). Either way not the message whole: not replayed
          // by `seam dlq replay` (raw_partial); the message stays at the topic, partition and offset its headers name.
          inflated.error.details.rawCut = true;
          if (inflated.head === undefined) inflated.error.details.encoding = 'gzip+base64';
          dead(m, inflated.head ?? m.value.subarray(0, GZIP_RAW_KEPT_BYTES).toString('base64'), meta, false, inflated.error);
          continue;
        }
        text = inflated.text;
        stats.inflated++;
      } else {
        text = m.value.toString('utf8');
      }
      // A null value (a tombstone: the bus hands it on as no bytes) or blank text holds no record: counted, not a dead letter.
      if (text.trim() === '') {
        stats.empty++;
        continue;
      }
      // A message holding a batch document (a webhook-to-Kafka bridge, a Lambda forwarding CloudTrail's S3
      // objects, a CloudWatch Logs subscription payload) is its records, each normalized alone, as the file
      // source hands them on (ADR 0038, 0039).
      const b = splitBatch(text, maxRecordBytes, maxDocumentBytes);
      if (b === undefined) {
        one(m, text, meta, false);
        continue;
      }
      if (b.refused !== undefined) {
        dead(m, text, meta, false, refusedBatch(b.refused, text));
        continue;
      }
      batches.add(b);
      const origin = meta.origin ?? `${m.topic}/${m.partition}@${m.offset}`;
      for (const r of b.records) one(m, r.text, elementMeta(meta, origin, b, r), true);
    }
    const eventMessages = events.take();
    out.push(...eventMessages);
    for (const s of signals.take()) out.push({ topic: o.topics.signals, key: s.key, value: s.value, ...(s.headers ? { headers: s.headers } : {}) });
    // Marks go after the batch's signals, in the same send: a signals partition that reads a mark has
    // every signal of the records it covers (order holds per partition and producer).
    const src = `${batch[0]!.topic}/${batch[0]!.partition}`;
    const created = signalPartitions === 0;
    if (created) signalPartitions = await o.bus.partitions(o.topics.signals);
    const progress = Number.isFinite(newestMs) ? marks(src, newestMs, oldestMs) : [];
    await o.beforeProduce?.(batch);
    await producer!.send([...out, ...progress]);
    // The memory bus creates the signals topic on its first message: mark right after.
    if (created && signalPartitions === 0 && Number.isFinite(newestMs)) {
      signalPartitions = await o.bus.partitions(o.topics.signals);
      progress.push(...marks(src, newestMs, oldestMs));
      if (progress.length > 0) await producer!.send(progress);
    }
    // Remembered once durable: a batch that failed marks again when it is redelivered.
    if (progress.length > 0) marked.set(src, newestMs);
    stats.marks += progress.length;
    // Records out: the events produced, to seam.events or in a signal to seam.signals (however many messages carry
    // them): what seam_records_out_total counts by source (review-ops L1); dead letters are in errors.
    counters.emitted += normalized;
  };

  return {
    name: 'normalize',
    async start() {
      // Batches of several raw partitions are handled at once: their sends share produce requests.
      producer = coalescingProducer(await o.bus.producer());
      signalPartitions = await o.bus.partitions(o.topics.signals);
      consumer = await o.bus.consumer({
        groupId: o.groupId ?? defaultGroupId('normalize'),
        topics: [...o.topics.rawAll],
        fromBeginning: o.fromBeginning ?? true,
        handle,
        partitionsAtOnce: o.partitionsAtOnce ?? 1,
      });
      await consumer.run();
    },
    async stop() {
      await consumer?.stop();
      await producer?.close();
    },
    stats: () => ({ ...counters.snapshot(), ...stats, batches: batches.snapshot() }),
  };
}
