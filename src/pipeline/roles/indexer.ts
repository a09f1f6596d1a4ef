import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import { SeamError } from '../../core/errors.ts';
import type { IdentityDoc } from '../../identity/types.ts';
import type { Alert } from '../../detect/alert.ts';
import type { EventRouting, PerDocResult, SinkDoc } from '../../sinks/opensearch/sink.ts';
import { batchedEvents, routeOf, type BatchedEvent } from '../event-route.ts';
import type { PipelineTopics } from '../topics.ts';
import { decodeIdentityRecord } from '../../identity/record.ts';
import { decodeIncidentUpdate, type IncidentUpdate } from '../incident-topic.ts';
import { alertDocVersion } from '../early.ts';
import { defaultGroupId, dlqMessage, type Role } from './role.ts';

/** What the index role writes to: OpenSearchSink, or files in embedded mode. */
export interface IndexSink {
  eventTarget(e: EventRouting): { index: string; id: string };
  /** The index `eventTarget` names for these routing fields (`_id` is `seam.id`), without building an object per event. */
  eventIndex?(source: SourceType, timestamp: string, receivedAt: string | undefined): string;
  alertTarget(a: { id: string; '@timestamp': string; finding?: Alert['finding'] }): { index: string; id: string };
  /**
   * Where an identity graph version goes (`_id` = the version id), and, when it stores more than the version, the
   * document it stores (OpenSearch: the version with `indexed_at`, which its retention reads); a sink without it does
   * not read `seam.identity`.
   */
  identityTarget?(d: IdentityDoc): { index: string; id: string; doc?: unknown };
  /**
   * Merges incident updates into the incidents index (ADR 0015: alerts as a set, analysts' fields never
   * written); resolves with how many incidents changed, throws when they are not durable (the batch is
   * redelivered). A sink without it does not read `seam.incidents`.
   */
  mergeIncidents?(updates: readonly IncidentUpdate[]): Promise<number>;
  /** One result per document, in order: acked, dead_letter (refused for good) or failed (not durable). */
  write(docs: readonly SinkDoc[]): Promise<PerDocResult[]>;
}

export interface IndexRoleOptions {
  bus: Bus;
  topics: PipelineTopics;
  sink: IndexSink;
  groupId?: string;
  fromBeginning?: boolean;
  /** Index `seam.alerts` too (default true). */
  alerts?: boolean;
  /** Index `seam.identity` too (default true, when the sink has `identityTarget`). */
  identity?: boolean;
  /** Merge `seam.incidents` into the incidents index too (default true, when the sink has `mergeIncidents`). */
  incidents?: boolean;
  /**
   * Group members in this process (default 1). A member handles one batch at a time, so with one
   * member OpenSearch sees one bulk request at a time; several members' batches share the sink's
   * bulk requests and keep `maxConcurrentRequests` busy.
   */
  consumers?: number;
  /**
   * Partitions whose batches a member hands to the sink at once (default 4). kafkajs fetches the next
   * batches only when every batch of the last fetch is handled: one at a time, each waits for its own bulk
   * request, and OpenSearch idles between them (ADR 0022). Together they fill the sink's bulk requests.
   */
  partitionsAtOnce?: number;
}

/**
 * `seam.events` + `seam.alerts` → the index, `_id` = `seam.id` / alert id, so a redelivered batch
 * overwrites rather than duplicates. A batch is committed only when every document in it is acked
 * or dead-lettered (and the dead letter is on `seam.dlq`); a document that stays `failed` after
 * the sink's retries fails the batch, which is then redelivered. Backpressure: the handler awaits
 * the sink, and the sink's `write` waits while `maxBufferedBytes` are unacknowledged, so a slow
 * cluster stops consumption instead of growing a buffer.
 */
export function createIndexRole(o: IndexRoleOptions): Role {
  const counters = new Counters('role.index');
  const stats = { events: 0, alerts: 0, identity: 0, incidentUpdates: 0, incidentsChanged: 0, deadLetters: 0, failedBatches: 0 };
  const identityTarget = o.identity === false ? undefined : o.sink.identityTarget?.bind(o.sink);
  const mergeIncidents = o.incidents === false ? undefined : o.sink.mergeIncidents?.bind(o.sink);
  const eventIndex = o.sink.eventIndex?.bind(o.sink);

  /** A `seam.incidents` batch: updates merged per incident; an unreadable one is a dead letter. */
  const handleIncidents = async (batch: ConsumedMessage[]): Promise<void> => {
    const updates: IncidentUpdate[] = [];
    const dlq: BusMessage[] = [];
    for (const m of batch) {
      counters.received++;
      const u = decodeIncidentUpdate(m.value);
      if (u === undefined) {
        const error = new SeamError('SEAM_ERR_INPUT_JSON', `${m.topic} message is not an incident update (v1 JSON with incident, key and alert)`);
        counters.error(error.code, 1, `${m.topic}/${m.partition}/${m.offset}`);
        dlq.push(dlqMessage(o.topics, deadLetter('index', error, m.value.toString('utf8')), m));
      } else updates.push(u);
    }
    if (updates.length > 0) {
      try {
        stats.incidentsChanged += await mergeIncidents!(updates);
      } catch (e) {
        stats.failedBatches++;
        counters.error('SEAM_ERR_SINK_UNAVAILABLE');
        throw new SeamError('SEAM_ERR_SINK_UNAVAILABLE', `incident updates are not durable; the batch will be redelivered: ${(e as Error).message}`, { cause: e });
      }
    }
    if (dlq.length > 0) await producer!.send(dlq);
    stats.incidentUpdates += updates.length;
    counters.emitted += updates.length;
  };
  let producer: BusProducer | undefined;
  const consumers: BusConsumer[] = [];

  const handle = async (batch: ConsumedMessage[]): Promise<void> => {
    if (mergeIncidents !== undefined && batch[0]!.topic === o.topics.incidents) return handleIncidents(batch);
    const docs: SinkDoc[] = [];
    /** Where each document came from: its message, or its place in a batch message (ADR 0019). */
    const from: (ConsumedMessage | BatchedEvent)[] = [];
    const dlq: BusMessage[] = [];
    const isAlerts = batch[0]!.topic === o.topics.alerts;
    const isIdentity = batch[0]!.topic === o.topics.identity;
    for (const m of batch) {
      // Several events in one message: each indexed unparsed, as a single-event message's bytes are.
      const many = isAlerts || isIdentity ? undefined : batchedEvents(m);
      if (typeof many === 'string') {
        counters.received++;
        const error = new SeamError('SEAM_ERR_INPUT_JSON', `${m.topic} message is not a readable batch of events: ${many}`);
        counters.error(error.code, 1, `${m.topic}/${m.partition}/${m.offset}`);
        dlq.push(dlqMessage(o.topics, deadLetter('index', error, m.value.toString('utf8')), m));
        continue;
      }
      if (many !== undefined) {
        counters.received += many.length;
        for (const e of many) {
          // The index from the header's strings when the sink names it so (no route object per event).
          docs.push(eventIndex !== undefined ? { index: eventIndex(e.source, e.timestamp, e.receivedAt), id: e.id, doc: undefined, json: e.json } : { ...o.sink.eventTarget(e.route), doc: undefined, json: e.json });
          from.push(e);
        }
        continue;
      }
      counters.received++;
      if (isIdentity && identityTarget !== undefined) {
        const d = identityDocument(m, identityTarget);
        if (d instanceof SeamError) {
          counters.error(d.code);
          dlq.push(dlqMessage(o.topics, deadLetter('index', d, m.value.toString('utf8')), m));
        } else {
          docs.push(d);
          from.push(m);
        }
        continue;
      }
      // Events from the normalize role carry their routing: their bytes are indexed unparsed.
      const route = isAlerts || isIdentity ? undefined : routeOf(m);
      if (route !== undefined) {
        docs.push({ ...o.sink.eventTarget(route), doc: undefined, json: m.value });
        from.push(m);
        continue;
      }
      try {
        const doc = JSON.parse(m.value.toString('utf8')) as SeamEvent & { id: string };
        const target = isAlerts ? o.sink.alertTarget(doc) : o.sink.eventTarget(doc);
        if (typeof target.id !== 'string' || target.id === '') throw new Error(isAlerts ? 'alert has no id' : 'event has no seam.id');
        const origin = isAlerts ? undefined : doc.seam?.ingest?.origin;
        const collector = isAlerts ? undefined : doc.seam?.ingest?.collector;
        docs.push({ ...target, doc, ...(origin ? { origin } : {}), ...(collector ? { collector } : {}), ...(isAlerts ? { version: alertDocVersion(doc as unknown as Alert) } : {}) });
        from.push(m);
      } catch (cause) {
        const error = new SeamError('SEAM_ERR_INPUT_JSON', `${m.topic} message is not an indexable document: ${(cause as Error).message}`, { cause });
        counters.error(error.code, 1, `${m.topic}/${m.partition}/${m.offset}`);
        dlq.push(dlqMessage(o.topics, deadLetter('index', error, m.value.toString('utf8')), m));
      }
    }
    const results = await o.sink.write(docs);
    let failed = 0;
    results.forEach((r, i) => {
      if (r.status === 'dead_letter') {
        const f = from[i];
        counters.error(r.deadLetter.code, 1, r.deadLetter.origin ?? (f !== undefined && 'offset' in f ? `${f.topic}/${f.partition}/${f.offset}` : undefined));
        stats.deadLetters++;
        dlq.push(dlqMessage(o.topics, r.deadLetter, f === undefined || 'offset' in f ? f : f.alone()));
      } else if (r.status === 'failed') failed++;
    });
    if (failed > 0) {
      stats.failedBatches++;
      // docs/metrics.md: for index, seam_errors_total also counts a bulk batch that failed as a whole (review-ops M2).
      counters.error('SEAM_ERR_SINK_UNAVAILABLE');
      const first = results.find((r) => r.status === 'failed');
      throw new SeamError('SEAM_ERR_SINK_UNAVAILABLE', `${failed} of ${docs.length} documents are not durable; the batch will be redelivered`, {
        ...(first?.status === 'failed' ? { cause: first.error } : {}),
      });
    }
    if (dlq.length > 0) await producer!.send(dlq);
    const acked = results.filter((r) => r.status === 'acked').length;
    counters.emitted += acked;
    if (isAlerts) stats.alerts += acked;
    else if (isIdentity) stats.identity += acked;
    else stats.events += acked;
  };

  return {
    name: 'index',
    async start() {
      producer = await o.bus.producer();
      for (let i = 0; i < Math.max(1, o.consumers ?? 1); i++) {
        const c = await o.bus.consumer({
          groupId: o.groupId ?? defaultGroupId('index'),
          topics: [o.topics.events, ...(o.alerts === false ? [] : [o.topics.alerts]), ...(identityTarget === undefined ? [] : [o.topics.identity]), ...(mergeIncidents === undefined ? [] : [o.topics.incidents])],
          fromBeginning: o.fromBeginning ?? true,
          handle,
          partitionsAtOnce: o.partitionsAtOnce ?? 4,
        });
        consumers.push(c);
        await c.run();
      }
    },
    async stop() {
      await Promise.all(consumers.map((c) => c.stop()));
      await producer?.close();
    },
    stats: () => ({ ...counters.snapshot(), ...stats }),
  };
}

/** The index document of a `seam.identity` record (its `doc`: no attributes), or why it is not one. */
function identityDocument(m: ConsumedMessage, target: (d: IdentityDoc) => { index: string; id: string; doc?: unknown }): SinkDoc | SeamError {
  const r = decodeIdentityRecord(m.value);
  if (r === undefined) return new SeamError('SEAM_ERR_INPUT_JSON', `${m.topic} message is not an identity record (v1 JSON with fact and doc)`);
  const t = target(r.doc);
  return { index: t.index, id: t.id, doc: t.doc ?? r.doc };
}
