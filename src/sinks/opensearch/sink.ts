import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@opensearch-project/opensearch';
import type { Logger } from 'pino';
import { Counters } from '../../core/counters.ts';
import { deadLetter, type DeadLetter } from '../../core/dead-letter.ts';
import type { SeamEvent, SourceType } from '../../core/envelope.ts';
import { SeamError, type ErrorCode } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import { BatchBuilder, classifyItem, classifyRequestError, describeError } from './batch.ts';
import { fullJitterMs } from '../../core/backoff.ts';
import { createOpenSearchClient } from './client.ts';
import { OpenSearchSinkConfig, type OpenSearchSinkConfigInput } from './config.ts';
import type { IdentityDoc } from '../../identity/types.ts';
import { alertDay, alertsIndexName, dayStamp, eventsIndexName, identityIndexName, incidentsIndexName } from './templates.ts';
import { applyIncidentUpdates, type IncidentDoc, type IncidentUpdate, type StoredIncident } from '../../pipeline/incident-topic.ts';

/**
 * Seam's bulk batcher on `client.bulk` (docs/adr/0003-own-bulk-batcher.md). A caller hands it
 * documents with their target index and `_id`, and gets back, per document and in input order,
 * whether it is durable in OpenSearch (`acked`), permanently refused (`dead_letter`, to be written
 * to the dead-letter output), or still not written after every retry (`failed`). A Kafka consumer
 * commits an offset only once every document up to it is acked or dead-lettered (`durablePrefix`).
 *
 * - Batches are cut at `maxBatchBytes` / `maxBatchDocs`, or after `flushIntervalMs`.
 * - At most `maxConcurrentRequests` bulk requests are in flight; a request keeps its slot while it
 *   backs off, so an overloaded cluster sees fewer requests, not the same number later.
 * - 429, 5xx and connection errors (whole request) and 429/5xx/rejected-execution (single items)
 *   are retried with exponential back-off and full jitter; only the failed items are re-sent.
 * - `write` waits while more than `maxBufferedBytes` of documents are accepted but unacknowledged.
 * - Every action is `index` with a fixed `_id`, so redelivery overwrites instead of duplicating.
 */

/** The one client call the sink makes; a real `Client` satisfies it. */
export interface BulkApi {
  bulk: Client['bulk'];
}

export interface SinkDoc {
  /** Target index, e.g. from `eventTarget`. */
  index: string;
  /** Document `_id`: `seam.id` for events, the alert id for alerts. */
  id: string;
  doc: unknown;
  /**
   * The document already serialized as a UTF-8 JSON object (e.g. a `seam.events` message value):
   * sent as is instead of serializing `doc`, which saves a parse and a serialization per document.
   */
  json?: Buffer;
  /** Copied into a dead letter; taken from `doc.seam.ingest` when absent. */
  origin?: string;
  collector?: string;
  /**
   * An external version (`version_type: external_gte`, ADR 0025: alerts, provisional 1 and final 2): the write
   * replaces a document of the same or a lower version only; one that finds a higher version is acked
   * (`result: superseded`) and changes nothing.
   */
  version?: number;
}

/** The fields of an event its index and `_id` are derived from (the whole event has them too). */
export interface EventRouting {
  '@timestamp': string;
  seam: { id: string; source: SourceType; ingest?: { received_at?: string } };
}

export type PerDocResult =
  | { status: 'acked'; id: string; index: string; result: string }
  | { status: 'dead_letter'; id: string; index: string; deadLetter: DeadLetter }
  | { status: 'failed'; id: string; index: string; error: SeamError };
export type Ack = PerDocResult;

/** How many results, from the start, are settled for good (acked or dead-lettered): what may be committed. */
export function durablePrefix(results: readonly PerDocResult[]): number {
  let n = 0;
  while (n < results.length && results[n]!.status !== 'failed') n++;
  return n;
}

export interface OpenSearchSinkStats {
  component: string;
  received: number;
  emitted: number;
  errors: Record<string, number>;
  dropped: Record<string, number>;
  /** Documents re-sent after a transient failure, and why. */
  retries: number;
  retriesByReason: Record<string, number>;
  requests: number;
  requestBytes: number;
  bufferedBytes: number;
  inFlightRequests: number;
}

export interface SinkDeps {
  /** For tests: the source of jitter and the way to wait. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
  /** Closed by `close()` when the sink created it. */
  ownsClient?: boolean;
}

interface Item {
  id: string;
  index: string;
  /** The bulk action line, newline included. */
  action: string;
  /** The document's JSON; a Buffer is copied into the request body as is. */
  json: Buffer | string;
  /** Bytes of action line + document + newline. */
  bytes: number;
  origin: string | undefined;
  collector: string | undefined;
  lastError: string;
  /** The `write` call this document came in, and its place there (one promise per call, not per document). */
  call: WriteCall | undefined;
  slot: number;
  /** Written with an external version: a version conflict means a newer version is there (ADR 0025). */
  versioned?: true;
}

/** One `write` call: its results by input order, how many are still unsettled, and how to wake the caller. */
interface WriteCall {
  results: PerDocResult[];
  left: number;
  done: () => void;
}
const noop = (): void => undefined;
const utf8 = (json: Buffer | string): string => (typeof json === 'string' ? json : json.toString('utf8'));

/** `seam.ingest.origin` / `collector` of a serialized document, for a dead letter (only read when one is written). */
function ingestOf(json: Buffer | string): { origin?: unknown; collector?: unknown } | undefined {
  try {
    return (JSON.parse(utf8(json)) as { seam?: { ingest?: { origin?: unknown; collector?: unknown } } } | null)?.seam?.ingest;
  } catch {
    return undefined;
  }
}

/** Only what the sink reads from a bulk answer: OpenSearch then neither builds nor sends the rest. */
const BULK_FILTER_PATH = ['items.*.status', 'items.*.result', 'items.*.error'];

/** An `index` action with an external version (ADR 0025): replaces the same or a lower version only. */
function versionedAction(index: string, id: string, version: number): string {
  return `{"index":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)},"version":${Math.trunc(version)},"version_type":"external_gte"}}\n`;
}

/** Lucene refuses ids over 512 bytes, and OpenSearch does so for the whole bulk request: catch it first. */
const MAX_ID_BYTES = 512;

export class OpenSearchSink {
  readonly config: OpenSearchSinkConfig;
  readonly counters = new Counters('sink.opensearch');
  private readonly builder: BatchBuilder<Item>;
  private readonly random: () => number;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly log: Logger;
  private readonly ownsClient: boolean;
  private timer: NodeJS.Timeout | undefined;
  private bufferedBytes = 0;
  private readonly spaceWaiters: Array<() => void> = [];
  private activeRequests = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private retries = 0;
  private readonly retriesByReason = new Map<string, number>();
  private requests = 0;
  /** Told the duration of every bulk request and whether OpenSearch answered it (the metrics listener's histogram). */
  onBulk: ((seconds: number, outcome: 'ok' | 'error') => void) | undefined;
  private requestBytes = 0;
  private closed = false;
  /** The last index an action line was built for, and that line's head up to the `_id` value. */
  private actionIndex: string | undefined;
  private actionHead = '';
  private actionHeadBytes = 0;
  private readonly eventIndexNames = new Map<string, { day: string; name: string }>();

  constructor(
    private readonly client: BulkApi,
    config: OpenSearchSinkConfigInput | OpenSearchSinkConfig,
    deps: SinkDeps = {},
  ) {
    this.config = OpenSearchSinkConfig.parse(config);
    this.builder = new BatchBuilder(this.config.maxBatchBytes, this.config.maxBatchDocs);
    this.random = deps.random ?? Math.random;
    this.wait = deps.sleep ?? ((ms) => sleep(ms));
    this.log = deps.logger ?? childLogger('sink.opensearch');
    this.ownsClient = deps.ownsClient ?? false;
  }

  /** Parses the config, builds the client (basic auth, TLS or SigV4) and a sink that closes it. */
  static async fromConfig(input: OpenSearchSinkConfigInput, deps: Omit<SinkDeps, 'ownsClient'> = {}): Promise<OpenSearchSink> {
    const config = OpenSearchSinkConfig.parse(input);
    const client = await createOpenSearchClient(config);
    return new OpenSearchSink(client, config, { ...deps, ownsClient: true });
  }

  /** Where an event goes: `<prefix>-events-<source>-YYYY.MM.DD`, `_id` = `seam.id`. */
  eventTarget(e: EventRouting): { index: string; id: string } {
    return { index: this.eventIndex(e.seam.source, e['@timestamp'], e.seam.ingest?.received_at), id: e.seam.id };
  }

  /** The index of an event from its routing fields (what `eventTarget` names, without an object per event). */
  eventIndex(source: SourceType, timestamp: unknown, receivedAt: string | undefined): string {
    if (!this.config.dailyIndices) return eventsIndexName(this.config.indexPrefix, source, timestamp, false);
    let day = typeof timestamp === 'string' || typeof timestamp === 'number' ? dayStamp(timestamp) : undefined;
    if (day === undefined) {
      // The receive day only for an @timestamp that is not a date (no Date per document otherwise).
      const received = new Date(receivedAt ?? Date.now());
      day = dayStamp(Number.isFinite(received.getTime()) ? received : new Date())!;
    }
    // One name per source and day, reused while the day lasts (eventsIndexName's `<prefix>-events-<source>-<day>`).
    const last = this.eventIndexNames.get(source);
    if (last !== undefined && last.day === day) return last.name;
    const name = `${this.config.indexPrefix}-events-${source}-${day}`;
    this.eventIndexNames.set(source, { day, name });
    return name;
  }

  /** Where an alert goes: `<prefix>-alerts-YYYY.MM.DD` (a finding alert's by its finding's creation, ADR 0046), `_id` = the alert id. */
  alertTarget(a: { id: string; '@timestamp': string; finding?: { created_at?: string; first_seen?: string } | undefined }): { index: string; id: string } {
    return { index: alertsIndexName(this.config.indexPrefix, alertDay(a), this.config.dailyIndices), id: a.id };
  }

  /**
   * Where an identity graph version goes: `<prefix>-identity`, `_id` = the version id (a re-sent version overwrites),
   * stored with `indexed_at`, when Seam wrote it: `seam setup opensearch` ages closed versions out from that time, not
   * from their event time, so a replay of last year's logs keeps its versions as long as the alerts they explain
   * (src/sinks/opensearch/retention.ts).
   */
  identityTarget(d: IdentityDoc, nowMs: number = Date.now()): { index: string; id: string; doc: IdentityDoc & { indexed_at: string } } {
    return { index: identityIndexName(this.config.indexPrefix), id: d.id, doc: { ...d, indexed_at: new Date(nowMs).toISOString() } };
  }

  /**
   * Merges incident updates into `<prefix>-incidents` (ADR 0015, lifecycle ADR 0020) through
   * `applyIncidentUpdates`: documents are read with `mget` and written back only if nobody changed them
   * since (`if_seq_no`/`if_primary_term`; `create` for a new one); a conflict (an analyst's update, another
   * index member) makes that identity's incidents be read and merged again. Returns how many incidents
   * changed; throws when they could not be written (the batch is redelivered; the merge is idempotent).
   */
  async mergeIncidents(updates: readonly IncidentUpdate[]): Promise<number> {
    const client = this.client as Partial<Pick<Client, 'mget'>> & BulkApi;
    const mget = client.mget?.bind(client);
    if (mget === undefined) throw new SeamError('SEAM_ERR_SINK_WRITE', 'incidents need a client that can read (mget)');
    const index = incidentsIndexName(this.config.indexPrefix);
    type Got = { _id: string; found?: boolean; _source?: IncidentDoc; _seq_no?: number; _primary_term?: number; error?: { type?: string } };
    try {
      return await applyIncidentUpdates(
        {
          read: async (ids) => {
            const got = await mget({ index, body: { ids } } as never, { ignore: [404] });
            const out = new Map<string, StoredIncident>();
            for (const d of ((got.body as { docs?: Got[] }).docs ?? []) as Got[]) {
              if (d.error !== undefined && d.error.type !== 'index_not_found_exception') throw new SeamError('SEAM_ERR_SINK_UNAVAILABLE', `reading incident ${d._id}: ${d.error.type ?? 'error'}`);
              if (d.found === true && d._source !== undefined) out.set(d._id, { doc: d._source, version: { if_seq_no: d._seq_no, if_primary_term: d._primary_term } });
            }
            return out;
          },
          write: async (ws) => {
            const body: unknown[] = [];
            for (const w of ws) body.push(w.version === undefined ? { create: { _index: index, _id: w.id } } : { index: { _index: index, _id: w.id, ...(w.version as object) } }, w.doc);
            const resp = await client.bulk({ body } as never);
            const items = (resp.body as { items: Record<string, { status: number; error?: { type?: string; reason?: string } }>[] }).items;
            const conflicts = new Set<string>();
            items.forEach((item, i) => {
              const r = Object.values(item)[0]!;
              const id = ws[i]!.id;
              if (r.status === 409) conflicts.add(id);
              else if (r.status < 200 || r.status >= 300) throw new SeamError('SEAM_ERR_SINK_UNAVAILABLE', `writing incident ${id}: ${r.error?.type ?? r.status} ${r.error?.reason ?? ''}`);
            });
            return conflicts;
          },
        },
        updates,
      );
    } catch (e) {
      if (e instanceof SeamError) throw e;
      throw new SeamError('SEAM_ERR_SINK_UNAVAILABLE', (e as Error).message, { cause: e });
    }
  }

  writeEvents(events: readonly SeamEvent[]): Promise<PerDocResult[]> {
    return this.write(events.map((e) => ({ ...this.eventTarget(e), doc: e })));
  }

  /** Indexes one document; resolves once it is acked, dead-lettered or failed. */
  async index(doc: unknown, meta: { id: string; index: string }): Promise<Ack> {
    const [r] = await this.write([{ ...meta, doc }]);
    return r!;
  }

  /**
   * Indexes documents and resolves, in input order, with what became of each. Waits before
   * accepting a document while more than `maxBufferedBytes` are unacknowledged. Documents from
   * concurrent calls share batches.
   */
  async write(docs: readonly SinkDoc[]): Promise<PerDocResult[]> {
    if (this.closed) throw new SeamError('SEAM_ERR_SINK_WRITE', 'the OpenSearch sink is closed');
    this.counters.received += docs.length;
    // One promise for the call: a document's result goes into its slot and the last one settled wakes the
    // caller (a promise, a resolver and a Promise.all element per document were most of the index role's garbage).
    const call: WriteCall = { results: new Array<PerDocResult>(docs.length), left: docs.length, done: noop };
    const settled = new Promise<void>((resolve) => {
      call.done = resolve;
    });
    for (let i = 0; i < docs.length; i++) {
      const item = this.prepare(docs[i]!);
      if ('status' in item) {
        call.results[i] = item;
        call.left--;
        continue;
      }
      if (this.bufferedBytes > 0 && this.bufferedBytes + item.bytes > this.config.maxBufferedBytes) await this.waitForSpace(item.bytes);
      this.bufferedBytes += item.bytes;
      item.call = call;
      item.slot = i;
      this.enqueue(item);
    }
    if (call.left > 0) await settled;
    return call.results;
  }

  /** Sends the partial batch now and waits until everything accepted so far is settled. */
  async flush(): Promise<void> {
    this.cutPending();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.ownsClient) await (this.client as Client).close();
  }

  stats(): OpenSearchSinkStats {
    return {
      ...this.counters.snapshot(),
      retries: this.retries,
      retriesByReason: Object.fromEntries(this.retriesByReason),
      requests: this.requests,
      requestBytes: this.requestBytes,
      bufferedBytes: this.bufferedBytes,
      inFlightRequests: this.activeRequests,
    };
  }

  private prepare(d: SinkDoc): Item | PerDocResult {
    let origin = d.origin;
    let collector = d.collector;
    if (d.json === undefined || origin === undefined || collector === undefined) {
      const ingest = d.json === undefined ? (d.doc as { seam?: { ingest?: { origin?: unknown; collector?: unknown } } } | null)?.seam?.ingest : undefined;
      origin ??= typeof ingest?.origin === 'string' ? ingest.origin : undefined;
      collector ??= typeof ingest?.collector === 'string' ? ingest.collector : undefined;
    }
    let json: Buffer | string | undefined = d.json;
    if (json === undefined) {
      try {
        json = JSON.stringify(d.doc);
      } catch (e) {
        return this.reject(d, 'SEAM_ERR_SINK_SERIALIZE', 'serialize', `document cannot be serialized to JSON: ${(e as Error).message}`, '', origin, collector, e);
      }
    }
    if (json === undefined || (typeof json === 'string' ? json[0] !== '{' : json[0] !== 0x7b)) {
      return this.reject(d, 'SEAM_ERR_SINK_SERIALIZE', 'serialize', 'document is not a JSON object', json === undefined ? '' : utf8(json), origin, collector);
    }
    // The action line's head is the same for every document of an index: built once per index in a row.
    if (d.index !== this.actionIndex) {
      this.actionIndex = d.index;
      this.actionHead = `{"index":{"_index":${JSON.stringify(d.index)},"_id":`;
      this.actionHeadBytes = Buffer.byteLength(this.actionHead);
    }
    const idJson = JSON.stringify(d.id);
    const idBytes = Buffer.byteLength(d.id);
    // An id JSON needs no escape for is its bytes and two quotes.
    const idJsonBytes = idJson.length === d.id.length + 2 ? idBytes + 2 : Buffer.byteLength(idJson);
    let action: string;
    let bytes: number;
    if (d.version === undefined) {
      action = `${this.actionHead}${idJson}}}\n`;
      bytes = this.actionHeadBytes + idJsonBytes + 3 + (typeof json === 'string' ? Buffer.byteLength(json) : json.length) + 1;
    } else {
      // An alert with its version (ADR 0025): few, so the whole line is built.
      action = versionedAction(d.index, d.id, d.version);
      bytes = Buffer.byteLength(action) + (typeof json === 'string' ? Buffer.byteLength(json) : json.length) + 1;
    }
    const item: Item = { id: d.id, index: d.index, action, json, bytes, origin, collector, lastError: '', call: undefined, slot: 0, ...(d.version === undefined ? {} : { versioned: true as const }) };
    if (idBytes === 0 || idBytes > MAX_ID_BYTES) {
      return this.rejectItem(item, 'SEAM_ERR_SINK_REJECTED', 'invalid_id', `document _id must be 1 to ${MAX_ID_BYTES} bytes, got ${idBytes}`);
    }
    return item;
  }

  /** A dead letter for a prepared document: its JSON as the raw record, its ingest fields read only now. */
  private rejectItem(item: Item, code: ErrorCode, dropReason: string, message: string, cause?: unknown, details: Record<string, unknown> = {}): PerDocResult {
    const ingest = item.origin === undefined || item.collector === undefined ? ingestOf(item.json) : undefined;
    const origin = item.origin ?? (typeof ingest?.origin === 'string' ? ingest.origin : undefined);
    const collector = item.collector ?? (typeof ingest?.collector === 'string' ? ingest.collector : undefined);
    return this.reject(item, code, dropReason, message, utf8(item.json), origin, collector, cause, details);
  }

  private reject(
    d: { id: string; index: string },
    code: ErrorCode,
    dropReason: string,
    message: string,
    raw: string,
    origin: string | undefined,
    collector: string | undefined,
    cause?: unknown,
    details: Record<string, unknown> = {},
  ): PerDocResult {
    const error = new SeamError(code, message, { cause, details: { index: d.index, id: d.id, ...details } });
    this.counters.error(code);
    this.counters.drop(dropReason);
    return {
      status: 'dead_letter',
      id: d.id,
      index: d.index,
      deadLetter: deadLetter('index', error, raw, { ...(origin ? { origin } : {}), ...(collector ? { collector } : {}) }),
    };
  }

  private enqueue(item: Item): void {
    for (const batch of this.builder.add(item)) this.dispatch(batch);
    if (this.builder.size === 0) {
      this.clearTimer();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cutPending();
      }, this.config.flushIntervalMs);
    }
  }

  private cutPending(): void {
    this.clearTimer();
    const batch = this.builder.take();
    if (batch.length > 0) this.dispatch(batch);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async waitForSpace(bytes: number): Promise<void> {
    // Whatever is pending must go out, or the space we wait for would never be freed.
    this.cutPending();
    while (this.bufferedBytes > 0 && this.bufferedBytes + bytes > this.config.maxBufferedBytes) {
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
  }

  private dispatch(batch: Item[]): void {
    const run = async (): Promise<void> => {
      await this.acquireSlot();
      try {
        await this.sendWithRetry(batch);
      } finally {
        this.releaseSlot();
      }
    };
    const p = run().catch((e: unknown) => {
      // A bug, not an OpenSearch answer: never leave a caller waiting.
      this.log.error({ error: e }, 'The OpenSearch batcher failed unexpectedly; reporting the batch as failed.');
      for (const item of batch) this.fail(item, 'SEAM_ERR_SINK_WRITE', `batcher failed: ${(e as Error).message}`);
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async acquireSlot(): Promise<void> {
    while (this.activeRequests >= this.config.maxConcurrentRequests) await new Promise<void>((r) => this.slotWaiters.push(r));
    this.activeRequests++;
  }

  private releaseSlot(): void {
    this.activeRequests--;
    this.slotWaiters.shift()?.();
  }

  private async sendWithRetry(batch: Item[]): Promise<void> {
    let pending = batch;
    let attempt = 0;
    while (pending.length > 0) {
      const outcome = await this.sendOnce(pending);
      if (outcome === 'split') {
        const mid = Math.ceil(pending.length / 2);
        await this.sendWithRetry(pending.slice(0, mid));
        await this.sendWithRetry(pending.slice(mid));
        return;
      }
      pending = outcome;
      if (pending.length === 0) return;
      attempt++;
      if (attempt > this.config.retry.maxRetries) {
        for (const item of pending) this.fail(item, 'SEAM_ERR_SINK_UNAVAILABLE', `not indexed after ${this.config.retry.maxRetries} retries: ${item.lastError}`);
        return;
      }
      this.retries += pending.length;
      await this.wait(fullJitterMs(attempt, this.config.retry, this.random));
    }
  }

  /** One bulk request; settles what it can and returns the items to retry, or 'split' on 413. */
  private async sendOnce(items: Item[]): Promise<Item[] | 'split'> {
    // One buffer, each document copied once: documents that came as bytes are never decoded.
    let size = 0;
    for (const item of items) size += item.bytes;
    const body = Buffer.allocUnsafe(size);
    let at = 0;
    for (const item of items) {
      at += body.write(item.action, at);
      at += typeof item.json === 'string' ? body.write(item.json, at) : item.json.copy(body, at);
      at = body.writeUInt8(0x0a, at);
    }
    this.requests++;
    this.requestBytes += size;
    let response;
    const started = performance.now();
    try {
      // A pre-serialized NDJSON body goes out as is; the typings only know the array form.
      response = await this.client.bulk({ body: body as unknown as never[], filter_path: BULK_FILTER_PATH });
      this.onBulk?.((performance.now() - started) / 1000, 'ok');
    } catch (e) {
      this.onBulk?.((performance.now() - started) / 1000, 'error');
      const v = classifyRequestError(e);
      if (v.verdict === 'retry') {
        this.noteRetry(v.label, items.length);
        this.log.warn({ status: v.status, reason: v.reason, docs: items.length }, 'OpenSearch bulk request failed; retrying with back-off.');
        for (const item of items) item.lastError = `${v.label}: ${v.reason}`;
        return items;
      }
      if (v.verdict === 'split') {
        if (items.length > 1) return 'split';
        const item = items[0]!;
        this.settle(item, this.rejectItem(item, 'SEAM_ERR_SINK_TOO_LARGE', 'too_large', `document of ${item.bytes} bytes is larger than OpenSearch accepts (413: ${v.reason})`, e));
        return [];
      }
      this.log.error({ status: v.status, reason: v.reason, docs: items.length }, 'OpenSearch refused the bulk request; the documents are reported as failed.');
      for (const item of items) this.fail(item, 'SEAM_ERR_SINK_REQUEST', `${v.label}: ${v.reason}`, e);
      return [];
    }

    const answers = response.body.items;
    const retry: Item[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const a = answers[i];
      const r = a?.index ?? a?.create ?? a?.update ?? a?.delete;
      if (r === undefined) {
        item.lastError = 'bulk response has no answer for this document';
        this.noteRetry('missing_item', 1);
        retry.push(item);
        continue;
      }
      const type = r.error?.type;
      const verdict = classifyItem(r.status, type ?? undefined);
      if (item.versioned === true && r.status === 409) {
        // A newer version of the document is there (an early alert's final, ADR 0025): this one is not needed.
        this.counters.emitted++;
        this.settle(item, { status: 'acked', id: item.id, index: item.index, result: 'superseded' });
      } else if (verdict === 'ok') {
        this.counters.emitted++;
        this.settle(item, { status: 'acked', id: item.id, index: item.index, result: r.result ?? 'created' });
      } else if (verdict === 'retry') {
        item.lastError = `${r.status} ${describeError(r.error) ?? ''}`.trim();
        this.noteRetry(type ?? `http_${r.status}`, 1);
        retry.push(item);
      } else {
        const reason = describeError(r.error) ?? `status ${r.status}`;
        this.settle(item, this.rejectItem(item, 'SEAM_ERR_SINK_REJECTED', type ?? `http_${r.status}`, reason, undefined, { status: r.status, error_type: type }));
      }
    }
    if (retry.length > 0) this.log.debug({ docs: retry.length }, 'Some documents were not indexed for transient reasons; retrying them.');
    return retry;
  }

  private noteRetry(reason: string, n: number): void {
    this.retriesByReason.set(reason, (this.retriesByReason.get(reason) ?? 0) + n);
  }

  private fail(item: Item, code: ErrorCode, message: string, cause?: unknown): void {
    this.counters.error(code);
    const error = new SeamError(code, message, { cause, details: { index: item.index, id: item.id } });
    this.settle(item, { status: 'failed', id: item.id, index: item.index, error });
  }

  private settle(item: Item, result: PerDocResult): void {
    this.bufferedBytes -= item.bytes;
    const call = item.call;
    if (call !== undefined) {
      // Settled once: a batcher failure that reports a batch as failed cannot count a document twice.
      item.call = undefined;
      call.results[item.slot] = result;
      if (--call.left === 0) call.done();
    }
    // Wake every waiter; each re-checks whether its document fits now.
    const waiters = this.spaceWaiters.splice(0);
    for (const w of waiters) w();
  }
}
