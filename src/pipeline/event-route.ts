import type { BusMessage, ConsumedMessage } from '../bus/types.ts';
import { SOURCE_TYPES, type SeamEvent, type SourceType } from '../core/envelope.ts';
import type { EventRouting } from '../sinks/opensearch/sink.ts';
import { ByteRun } from './byte-run.ts';
import { eventJsonBytes, writeEventJson, type EventJson } from './event-json.ts';

/**
 * What the index role needs to place an event, carried next to it on `seam.events` so the event is
 * never parsed there: its bytes go to OpenSearch as the normalize role wrote them. The key is the
 * `_id` (`seam.id`); one header holds `[source, @timestamp, received_at]` as JSON. A message
 * without the header (an older producer, a hand-written record) is parsed as before.
 */
export const EVENT_ROUTE_HEADER = 'seam-route';

/**
 * A message carrying several events (ADR 0019): the value is the events' JSON, each followed by a
 * newline (JSON.stringify never writes one), and this header holds one `[seam.id, source, @timestamp,
 * received_at]` per event, in the same order. With kafkajs a produced message costs far more CPU than
 * its bytes, on both ends; events are batched per partition of `seam.events`, each event in the
 * partition its `seam.id` as a key would pick (the bus's `partitionOf`), so every copy of an event
 * (a redelivery, a rebuild) still lands in the same partition after the copies before it.
 */
export const EVENT_BATCH_HEADER = 'seam-events';

const SOURCES = new Set<string>(SOURCE_TYPES);

export function eventMessage(topic: string, ev: SeamEvent, json: Buffer): BusMessage {
  const route = JSON.stringify([ev.seam.source, ev['@timestamp'], ev.seam.ingest?.received_at ?? null]);
  return { topic, key: ev.seam.id, value: json, headers: { [EVENT_ROUTE_HEADER]: route } };
}

/**
 * Builds `seam.events` messages from a batch's events. With the topic's partition count and the bus's
 * key → partition mapping known, the events of each partition share messages of up to `maxBytes`
 * (ADR 0019), in the order they were added; without them (0: a memory bus whose topic does not exist
 * yet) each event is its own message, keyed by `seam.id`.
 */
export class EventBatcher {
  private readonly open = new Map<number, { routes: unknown[]; run: ByteRun }>();
  private readonly out: BusMessage[] = [];
  /** Events added since the last take. */
  count = 0;
  /** Size of the last message cut, by any batcher: a new message starts with about that much room (a trickle needs little, a backlog maxBytes). */
  private static lastBytes = 16 * 1024;

  constructor(
    private readonly topic: string,
    private readonly partitions: number,
    private readonly partitionOf: ((key: string, partitions: number) => number) | undefined,
    private readonly maxBytes = 256 * 1024,
  ) {}

  /** Adds an event and its JSON, whole or in parts (ADR 0026; a string is encoded once, straight into its message's bytes). */
  add(ev: SeamEvent, json: EventJson): void {
    this.count++;
    if (this.partitions <= 0 || this.partitionOf === undefined) {
      this.out.push(eventMessage(this.topic, ev, eventJsonBytes(json)));
      return;
    }
    const p = this.partitionOf(ev.seam.id, this.partitions);
    let b = this.open.get(p);
    if (b === undefined) this.open.set(p, (b = { routes: [], run: this.run() }));
    const start = b.run.length;
    writeEventJson(b.run, json);
    const n = b.run.length - start;
    b.run.byte(0x0a);
    // Past maxBytes with events before it: those go as one message, this one starts the next (the cut is a
    // target, not a limit: a single event larger than it goes alone).
    if (b.routes.length > 0 && b.run.length > this.maxBytes) {
      const tail = b.run.takeTail(n + 1);
      this.cut(p, b);
      this.open.set(p, (b = { routes: [], run: this.run() }));
      b.run.bytes(tail);
    }
    b.routes.push([ev.seam.id, ev.seam.source, ev['@timestamp'], ev.seam.ingest?.received_at ?? null]);
  }

  /** The messages so far; the batcher starts empty again. */
  take(): BusMessage[] {
    for (const [p, b] of this.open) this.cut(p, b);
    this.count = 0;
    return this.out.splice(0);
  }

  private run(): ByteRun {
    return new ByteRun(Math.min(this.maxBytes + 8192, Math.ceil(EventBatcher.lastBytes * 1.25)));
  }

  private cut(p: number, b: { routes: unknown[]; run: ByteRun }): void {
    this.open.delete(p);
    EventBatcher.lastBytes = Math.max(4096, b.run.length);
    this.out.push({ topic: this.topic, key: null, partition: p, value: b.run.done(), headers: { [EVENT_BATCH_HEADER]: JSON.stringify(b.routes) } });
  }
}

function routing(id: unknown, source: unknown, ts: unknown, received: unknown): EventRouting | undefined {
  if (typeof id !== 'string' || id === '' || typeof source !== 'string' || !SOURCES.has(source) || typeof ts !== 'string') return undefined;
  return { '@timestamp': ts, seam: { id, source: source as SourceType, ...(typeof received === 'string' ? { ingest: { received_at: received } } : {}) } };
}

/** The routing fields of a `seam.events` message from its key and header, or undefined when it has none (parse it). */
export function routeOf(m: ConsumedMessage): EventRouting | undefined {
  const h = m.headers?.[EVENT_ROUTE_HEADER];
  if (h === undefined || m.key === null || m.key === '') return undefined;
  try {
    const r = JSON.parse(h) as unknown;
    if (!Array.isArray(r) || r.length !== 3) return undefined;
    const [source, ts, received] = r as unknown[];
    return routing(m.key, source, ts, received);
  } catch {
    return undefined;
  }
}

/** One event of a batch message: where it goes, its bytes, and the message it would have been alone (for a dead letter). */
export interface BatchedEvent {
  /** `seam.id`, `seam.source`, `@timestamp` and `seam.ingest.received_at` from the header (the routing fields). */
  readonly id: string;
  readonly source: SourceType;
  readonly timestamp: string;
  readonly receivedAt: string | undefined;
  /** The routing fields as an event's shape (built when asked). */
  readonly route: EventRouting;
  json: Buffer;
  /** The single-event message (key `seam.id`, route header) this event would have been: what a dead letter of it carries. */
  alone(): ConsumedMessage;
}

/**
 * An event of a batch message as the index role reads it: four strings and a view of its bytes. No route
 * object or closure per event (the index role holds every event of a bulk request until OpenSearch answers,
 * so whatever is made per event is carried through scavenges); the route and the single message are made
 * only when asked (a dead letter, a test).
 */
class EventOfBatch implements BatchedEvent {
  constructor(
    private readonly m: ConsumedMessage,
    readonly id: string,
    readonly source: SourceType,
    readonly timestamp: string,
    readonly receivedAt: string | undefined,
    readonly json: Buffer,
  ) {}

  get route(): EventRouting {
    return { '@timestamp': this.timestamp, seam: { id: this.id, source: this.source, ...(this.receivedAt !== undefined ? { ingest: { received_at: this.receivedAt } } : {}) } };
  }

  alone(): ConsumedMessage {
    const { [EVENT_BATCH_HEADER]: _batch, ...headers } = this.m.headers ?? {};
    return { ...this.m, key: this.id, value: this.json, headers: { ...headers, [EVENT_ROUTE_HEADER]: JSON.stringify([this.source, this.timestamp, this.receivedAt ?? null]) } };
  }
}

/**
 * The events of a batch message (ADR 0019), or undefined when `m` is not one (no batch header), or a
 * string saying why it is unreadable (a header that does not match the value).
 */
export function batchedEvents(m: ConsumedMessage): BatchedEvent[] | string | undefined {
  const h = m.headers?.[EVENT_BATCH_HEADER];
  if (h === undefined) return undefined;
  let routes: unknown;
  try {
    routes = JSON.parse(h);
  } catch (e) {
    return `${EVENT_BATCH_HEADER} header is not JSON: ${(e as Error).message}`;
  }
  if (!Array.isArray(routes)) return `${EVENT_BATCH_HEADER} header is not an array`;
  const out: BatchedEvent[] = new Array<BatchedEvent>(routes.length);
  const value = m.value;
  let at = 0;
  for (let i = 0; i < routes.length; i++) {
    const r: unknown = routes[i];
    // The checks of `routing`, without its objects.
    if (!Array.isArray(r) || r.length !== 4) return `${EVENT_BATCH_HEADER} entry ${i} is not [seam.id, source, @timestamp, received_at]`;
    const [id, source, ts, received] = r as unknown[];
    if (typeof id !== 'string' || id === '' || typeof source !== 'string' || !SOURCES.has(source) || typeof ts !== 'string') {
      return `${EVENT_BATCH_HEADER} entry ${i} is not [seam.id, source, @timestamp, received_at]`;
    }
    const end = value.indexOf(0x0a, at);
    if (end < 0) return `${EVENT_BATCH_HEADER} names ${routes.length} events, the value holds ${i}`;
    out[i] = new EventOfBatch(m, id, source as SourceType, ts, typeof received === 'string' ? received : undefined, value.subarray(at, end));
    at = end + 1;
  }
  if (at !== value.length) return `${EVENT_BATCH_HEADER} names ${routes.length} events, the value holds more`;
  return out;
}

/** Every event JSON a `seam.events` message carries: one for a single-event message, each of a batch (tests, tools). */
export function eventJsons(m: ConsumedMessage): Buffer[] {
  const b = batchedEvents(m);
  if (typeof b === 'string') throw new Error(b);
  return b === undefined ? [m.value] : b.map((e) => e.json);
}
