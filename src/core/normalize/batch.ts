import { EKS_AUDIT_STREAM_PREFIX, eksClusterOfLogGroup } from '../eks-log-group.ts';
import { isJsonWs, topLevel, valueEnd, type TopLevel } from '../json-text.ts';
import type { RawMeta } from '../envelope.ts';
import { SeamError } from '../errors.ts';
import { DEFAULT_MAX_RECORD_BYTES } from './normalize.ts';

/**
 * Batch documents that arrive as ONE record: a JSONL line or a Kafka message holding a CloudTrail log file
 * (`{"Records":[...]}`: a Firehose export that wrote one S3 object per line, a Lambda forwarding S3 objects)
 * or a Kubernetes audit `EventList` (what the audit webhook backend POSTs, appended per line by a receiver
 * or bridged to the raw topic). `splitBatch` cuts such a record into the texts of its elements, each then
 * normalized as if it had arrived alone (same `seam.id`, its own dead letter when it fails), ADR 0038. A
 * whole file that is one document is cut by the file source's splitter instead (src/sources/file/split.ts).
 *
 * The check costs a few character reads on an ordinary record: only a record whose first key is `Records`
 * or `kind: "EventList"` (or, keys in another order, `apiVersion`, `metadata` or `items` with "EventList"
 * somewhere in the text) is looked at further. The elements are cut from the text (no JSON.parse of the
 * document), so each element's text is exactly its bytes in the document.
 */

/** `cloudtrail_digest`: a CloudTrail digest file, which holds no record (see `isCloudTrailDigest`): counted and skipped. */
export type BatchShape = 'cloudtrail' | 'k8s_audit' | 'cloudwatch_logs' | 'cloudtrail_digest';
export const BATCH_SHAPES: readonly BatchShape[] = ['cloudtrail', 'k8s_audit', 'cloudwatch_logs', 'cloudtrail_digest'];

/** One element of a batch: its text and its position in the document's array (from 0, as jq's `.Records[i]`). */
export interface BatchRecord {
  text: string;
  index: number;
  /** A CloudWatch Logs event's `id` (cloudwatch_logs), when the element starts with it. */
  id?: string;
}

/** Where a CloudWatch Logs subscription payload's events come from (ADR 0039). */
export interface BatchSource {
  logGroup: string;
  logStream: string;
  /** `owner`: the log group's account, when it is an account id. */
  account?: string;
  /** The EKS cluster of an /aws/eks/<cluster>/cluster group. */
  cluster?: string;
}

export interface Batch {
  shape: BatchShape;
  /** In array order, except a CloudTrail file's records: oldest first (as the file source hands on a whole file), when every one has an eventTime. */
  records: BatchRecord[];
  /** cloudwatch_logs: the payload's log group, stream and owner. */
  from?: BatchSource;
  /** cloudwatch_logs: log events left out, not normalized (those of an EKS group's streams other than the audit log). */
  skipped?: number;
  /**
   * Why the document is not cut although it is one (more elements than `MAX_BATCH_RECORDS`): the caller
   * dead-letters it whole as oversized. `records` is then empty.
   */
  refused?: string;
}

/**
 * Elements one batch document may hold: a subscription payload's log events number at most 10,000 (CloudWatch
 * Logs' batch limit); an EventList or a CloudTrail file is given more room. A document of a million tiny
 * elements (`{"Records":[{},{},…]}`, a few MB gzipped) would otherwise become a million dead letters held at once.
 */
export const MAX_BATCH_RECORDS: Record<BatchShape, number> = { cloudwatch_logs: 10_000, cloudtrail: 50_000, k8s_audit: 50_000, cloudtrail_digest: 0 };
const ARRAY_SHAPE = new Map<string, BatchShape>([
  ['items', 'k8s_audit'],
  ['Records', 'cloudtrail'],
  ['logEvents', 'cloudwatch_logs'],
]);

/**
 * A CloudWatch Logs subscription payload (in a file, or inflated from a gzipped message) may be a document this
 * many times `maxRecordBytes`: a payload holds up to 10,000 log events, and CloudWatch compresses it to fit one
 * Kinesis record (1 MiB). Each of its records still meets `maxRecordBytes` alone (ADR 0039).
 */
export const MAX_DOCUMENT_FACTOR = 16;

/** The error that dead-letters a batch document whole because it holds too many records (`Batch.refused`). */
export function refusedBatch(reason: string, text: string): SeamError {
  return new SeamError('SEAM_ERR_INPUT_OVERSIZED', reason, { details: { bytes: Buffer.byteLength(text, 'utf8'), whole: true } });
}

/** The origin of a batch's element: the batch's origin plus `#index` (`FILE:LINE#3`). */
export const batchOrigin = (origin: string, index: number): string => `${origin}#${index}`;

/**
 * The metadata one element of a batch is normalized with: the record's own (`meta`, from Seam's headers or the
 * file source), its origin, and for a CloudWatch Logs subscription payload the account and cluster the payload
 * names where `meta` has none (a configured or collector-given value wins). Its origin is then
 * `<group>/<stream>#<event id>`, as the CloudWatch Logs collector names the same event.
 */
export function elementMeta(meta: RawMeta, origin: string, b: Batch, r: BatchRecord): RawMeta {
  return withBatchSource({ ...meta, origin: b.from !== undefined && r.id !== undefined ? `${b.from.logGroup}/${b.from.logStream}#${r.id}` : batchOrigin(origin, r.index) }, b.from);
}

/** `meta` (changed in place) with the account and cluster a subscription payload names, where it has none. */
export function withBatchSource(meta: RawMeta, from: BatchSource | undefined): RawMeta {
  if (from?.account !== undefined && meta.account === undefined) meta.account = from.account;
  if (from?.cluster !== undefined && meta.cluster === undefined) meta.cluster = from.cluster;
  return meta;
}

const BOM = 0xfeff;
const LBRACE = 0x7b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Index of the opening brace (after a byte-order mark and blanks), or -1: not an object. */
function openBrace(text: string): number {
  let i = text.charCodeAt(0) === BOM ? 1 : 0;
  while (isJsonWs(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === LBRACE ? i : -1;
}

/**
 * Whether the record may be a batch document, from its first key: the cheap test every record takes.
 * An audit Event (`{"kind":"Event",...`) and a CloudTrail record (`{"eventVersion":...`) are answered after
 * reading a dozen characters.
 */
export function mayBeBatch(text: string): boolean {
  // Character reads, not startsWith: this runs on every record, and most are decided by the key's first letter.
  let i = text.charCodeAt(0) === BOM ? 1 : 0;
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  if (c !== LBRACE) return false;
  c = text.charCodeAt(++i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  if (c !== QUOTE) return false;
  switch (text.charCodeAt(i + 1)) {
    case 0x52 /* R */:
      return text.startsWith('Records"', i + 1);
    case 0x6b /* k */: {
      // `"kind"`, read a character at a time (startsWith costs more than the rest of this check).
      if (text.charCodeAt(i + 2) !== 0x69 || text.charCodeAt(i + 3) !== 0x6e || text.charCodeAt(i + 4) !== 0x64 || text.charCodeAt(i + 5) !== QUOTE) return false;
      i += 6;
      c = text.charCodeAt(i);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      if (c !== COLON) return false;
      c = text.charCodeAt(++i);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      // `"Event"` (an audit event, the usual record) differs from `"EventList"` at its seventh character.
      return text.charCodeAt(i + 6) === 0x4c /* L */ && text.startsWith('"EventList"', i);
    }
    case 0x6d /* m */:
      // A CloudWatch Logs subscription payload (`{"messageType":"DATA_MESSAGE",...`) starts so.
      if (text.startsWith('messageType"', i + 1)) return true;
      return text.startsWith('metadata"', i + 1) && text.includes('"EventList"');
    case 0x61 /* a */:
      // A CloudTrail digest file starts with its account, in CloudTrail's key order and sorted alike.
      if (text.startsWith('awsAccountId"', i + 1)) return text.includes('"digestStartTime"');
      return text.startsWith('apiVersion"', i + 1) && text.includes('"EventList"');
    case 0x69 /* i */:
      // Keys sorted or in another order (a bridge that re-serialized the list): one search of the text.
      return (text.startsWith('apiVersion"', i + 1) || text.startsWith('items"', i + 1)) && text.includes('"EventList"');
    case 0x6c /* l */:
    case 0x6f /* o */:
    case 0x73 /* s */:
      // A subscription payload whose keys a bridge re-ordered (sorted: `logEvents` first).
      return (
        (text.startsWith('logEvents"', i + 1) || text.startsWith('logGroup"', i + 1) || text.startsWith('logStream"', i + 1) || text.startsWith('owner"', i + 1) || text.startsWith('subscriptionFilters"', i + 1)) &&
        text.includes('"messageType"')
      );
    default:
      return false;
  }
}

/**
 * The elements of the array opening at `start` in `text` and the index after its `]`, or undefined when it
 * is not a well-formed array. No depth limit while cutting (the walk does not recurse): each element meets
 * normalization's limit alone.
 */
function elements(text: string, start: number, max: number): { records: BatchRecord[]; end: number } | 'too many' | undefined {
  const records: BatchRecord[] = [];
  let i = start + 1;
  while (isJsonWs(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === RBRACKET) return { records, end: i + 1 };
  for (;;) {
    const e = valueEnd(text, i, Infinity);
    if (e < 0) return undefined;
    if (records.length === max) return 'too many';
    records.push({ text: text.slice(i, e), index: records.length });
    i = e;
    while (isJsonWs(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === RBRACKET) return { records, end: i + 1 };
    if (c !== COMMA) return undefined;
    i++;
    while (isJsonWs(text.charCodeAt(i))) i++;
  }
}

/** A string value of the document (parsed only when the text holds a string there), else undefined. */
function stringOf(top: TopLevel, text: string, key: string): string | undefined {
  const s = top.span(key);
  if (s === undefined || text.charCodeAt(s[0]) !== QUOTE) return undefined;
  const v = top.get(key);
  return typeof v === 'string' ? v : undefined;
}

const AWS_TRIGGER = /"eventSource"\s*:\s*"aws:/i;
const ACCOUNT_ID = /^\d{12}$/;
const EVENT_ID = /^\{\s*"id"\s*:\s*"([^"\\]{1,128})"/;

/**
 * A CloudWatch Logs subscription payload (what a subscription filter delivers to Kinesis, Firehose or Lambda,
 * once gunzipped): `{"messageType":"DATA_MESSAGE","owner":"<account>","logGroup":...,"logStream":...,
 * "subscriptionFilters":[...],"logEvents":[{"id","timestamp","message"}...]}`. Its elements are the log events,
 * each normalized as a CloudWatch Logs event (its message is the record). A CONTROL_MESSAGE (the health check
 * CloudWatch sends when a destination is set up) holds no record: an empty batch. An EKS group's streams other
 * than the API server's audit log (authenticator, API server, controller manager, scheduler logs: a
 * subscription filter takes a whole group, never chosen streams) are skipped and counted, as the CloudWatch
 * Logs collector does not read them either.
 */
function subscriptionBatch(top: TopLevel, doc: string, events: BatchRecord[] | undefined): Batch | undefined {
  const c = classifySubscription(stringOf(top, doc, 'messageType'), stringOf(top, doc, 'logGroup'), stringOf(top, doc, 'logStream'), stringOf(top, doc, 'owner'));
  // A control message holds CloudWatch's one health-check event; one holding more is not taken for one (its
  // events would be dropped unread).
  if (c === 'control') return events === undefined || events.length <= 1 ? { shape: 'cloudwatch_logs', records: [] } : undefined;
  if (c === undefined || events === undefined) return undefined;
  if (c.skip) return { shape: 'cloudwatch_logs', records: [], from: c.from, skipped: events.length };
  for (const e of events) {
    const m = EVENT_ID.exec(e.text);
    if (m !== null) e.id = m[1]!;
  }
  return { shape: 'cloudwatch_logs', records: events, from: c.from };
}

/**
 * What a CloudWatch Logs subscription payload is, from its top-level fields: a control message, a data message
 * (where its records come from, and whether they are skipped: an EKS group's stream other than the audit log),
 * or not a payload (undefined). Shared by the batch check and the file scanner, which reads the fields as it
 * passes them (src/sources/file/split.ts).
 */
export function classifySubscription(
  messageType: string | undefined,
  logGroup: string | undefined,
  logStream: string | undefined,
  owner: string | undefined,
): 'control' | { from: BatchSource; skip: boolean } | undefined {
  if (messageType === 'CONTROL_MESSAGE') return 'control';
  if (messageType !== 'DATA_MESSAGE' || logGroup === undefined || logStream === undefined) return undefined;
  const from: BatchSource = { logGroup, logStream };
  if (owner !== undefined && ACCOUNT_ID.test(owner)) from.account = owner;
  const cluster = eksClusterOfLogGroup(logGroup);
  if (cluster !== undefined) from.cluster = cluster;
  return { from, skip: cluster !== undefined && !logStream.startsWith(EKS_AUDIT_STREAM_PREFIX) };
}

/**
 * A CloudTrail digest file (`AWSLogs/<account>/CloudTrail-Digest/<region>/…/*_CloudTrail-Digest_*.json.gz`),
 * which CloudTrail writes beside the log files when log file validation is on: once an hour, the hashes of
 * the log files it delivered and a signature (`awsAccountId`, `digestStartTime`, `digestEndTime`,
 * `digestS3Bucket`, `digestS3Object`, `logFiles`, `previousDigest…`). It holds no event: a copy of a trail
 * bucket (`aws s3 sync`) has one per region and hour, and dead-lettering each would bury the dead letters
 * that mean something. So it is recognised, counted (`cloudtrail_digest`) and skipped. `awsAccountId` comes
 * first in CloudTrail's key order and in sorted order alike; this reads the start of a text (a digest too
 * large to be read whole is known from its first bytes).
 */
export function isCloudTrailDigest(head: string): boolean {
  return DIGEST_START.test(head) && (head.includes('"digestStartTime"') || head.includes('"digestEndTime"'));
}

const DIGEST_START = /^\uFEFF?\s*\{\s*"awsAccountId"\s*:/;

/** An element that is a CloudTrail record by its top-level keys (either case, as detectFormat reads them). */
function looksCloudTrail(text: string): boolean {
  if (text.charCodeAt(0) !== LBRACE || !(text.includes('"eventSource"') || text.includes('"eventsource"'))) return false;
  const t = topLevel(text, Infinity);
  return t !== undefined && ((t.has('eventSource') && t.has('eventName')) || (t.has('eventsource') && t.has('eventname')));
}

const EVENT_TIME = /"eventTime"\s*:\s*"([^"]+)"/;

/** `eventTime` of a CloudTrail record's text, or NaN (not CloudTrail, or no readable time). */
export function cloudTrailTimeMs(text: string): number {
  if (!text.includes('"eventSource"')) return NaN;
  const m = EVENT_TIME.exec(text);
  return m ? Date.parse(m[1]!) : NaN;
}

/** Oldest first (stable), when every record has a time; else as they are. */
function byEventTime(records: BatchRecord[]): BatchRecord[] {
  const times = records.map((r) => cloudTrailTimeMs(r.text));
  if (times.some((t) => Number.isNaN(t))) return records;
  let sorted = true;
  for (let i = 1; i < times.length && sorted; i++) if (times[i]! < times[i - 1]!) sorted = false;
  if (sorted) return records;
  return records.map((r, i) => ({ r, t: times[i]! })).sort((a, b) => a.t - b.t || a.r.index - b.r.index).map((x) => x.r);
}

/**
 * The elements of a batch document, or undefined when `text` is not one (then it is normalized as one
 * record, and a document that could not be cut, e.g. one cut short, is dead-lettered whole with the reason
 * normalization gives). A batch is:
 *  - a Kubernetes audit EventList: `kind` "EventList", `apiVersion` audit.k8s.io/*, an `items` array;
 *  - a CloudTrail log file: a `Records` array, when the document has no other key or one of its elements
 *    is a CloudTrail record (eventSource and eventName), so another service's `Records` (an S3 or SNS
 *    notification beside other keys) is not taken for one;
 *  - a CloudTrail digest file, an empty batch of its own shape (see `isCloudTrailDigest`).
 * Other keys of the document (an EventList's `metadata`) are not carried. A text over `maxRecordBytes` is
 * never cut: normalization dead-letters it whole as oversized, as any record.
 */
export function splitBatch(text: string, maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES, maxDocumentBytes: number = maxRecordBytes): Batch | undefined {
  if (!mayBeBatch(text)) return undefined;
  if (text.length > maxDocumentBytes || (text.length * 3 > maxDocumentBytes && Buffer.byteLength(text, 'utf8') > maxDocumentBytes)) return undefined;
  try {
    const brace = openBrace(text);
    const doc = brace === 0 ? text : text.slice(brace);
    // One walk of the document: the `items` and `Records` arrays are cut into their elements on the way.
    const arrays = new Map<string, BatchRecord[]>();
    let tooMany: BatchShape | undefined;
    const top = topLevel(doc, Infinity, (key, i) => {
      const shape = ARRAY_SHAPE.get(key);
      if (shape === undefined || doc.charCodeAt(i) !== LBRACKET) return valueEnd(doc, i, Infinity);
      // The same array twice: which one a reader takes is the reader's choice; not cut, dead-lettered whole.
      if (arrays.has(key)) return -1;
      const a = elements(doc, i, MAX_BATCH_RECORDS[shape]);
      if (a === 'too many') tooMany = shape;
      if (a === undefined || a === 'too many') return -1;
      arrays.set(key, a.records);
      return a.end;
    });
    if (tooMany !== undefined) {
      return { shape: tooMany, records: [], refused: `batch document holds more than ${MAX_BATCH_RECORDS[tooMany]} records (${tooMany}), the most Seam cuts from one document` };
    }
    if (top === undefined) return undefined;
    if (top.has('messageType')) return subscriptionBatch(top, doc, arrays.get('logEvents'));
    if (stringOf(top, doc, 'awsAccountId') !== undefined && stringOf(top, doc, 'digestStartTime') !== undefined && stringOf(top, doc, 'digestEndTime') !== undefined) {
      return { shape: 'cloudtrail_digest', records: [] };
    }
    const items = arrays.get('items');
    if (items !== undefined && stringOf(top, doc, 'kind') === 'EventList' && stringOf(top, doc, 'apiVersion')?.startsWith('audit.k8s.io/') === true) {
      return { shape: 'k8s_audit', records: items };
    }
    const records = arrays.get('Records');
    // Lambda's S3, SQS, SNS, Kinesis and DynamoDB trigger payloads are `Records` arrays too, of notifications
    // (eventSource `aws:s3`, `aws:sqs`…): not CloudTrail, not cut.
    if (records !== undefined && !records.some((r) => AWS_TRIGGER.test(r.text)) && (top.size === 1 || records.some((r) => looksCloudTrail(r.text)))) {
      return { shape: 'cloudtrail', records: byEventTime(records) };
    }
    return undefined;
  } catch {
    // A value that would not parse (an escape in `kind`): not cut; normalization says what is wrong with the record.
    return undefined;
  }
}

/**
 * Batches expanded, per shape: documents, the records they held, and the empty ones (a document with no
 * records is counted, not an error: nothing was lost). The normalize role reports these in its stats
 * (`seam_batch_*` metrics), the file source in `seam replay`'s summary.
 */
const zero = (): Record<BatchShape, number> => ({ cloudtrail: 0, k8s_audit: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 });

export class BatchCounts {
  readonly documents = zero();
  readonly records = zero();
  readonly empty = zero();
  readonly skipped = zero();
  /** Whole files left out by the file source: a CloudWatch Logs S3 export's non-audit EKS stream objects, its write-test object. */
  readonly files = { nonAuditStreams: 0, writeTest: 0 };

  /** One more of `what` (a file scanner's count, which meets a document's elements one by one). */
  note(what: 'documents' | 'records' | 'empty' | 'skipped', shape: BatchShape): void {
    this[what][shape]++;
  }

  add(b: Batch): void {
    this.documents[b.shape]++;
    this.records[b.shape] += b.records.length;
    if (b.skipped !== undefined) this.skipped[b.shape] += b.skipped;
    // A digest file is no batch of records that happened to be empty: its count is its documents'.
    else if (b.records.length === 0 && b.shape !== 'cloudtrail_digest') this.empty[b.shape]++;
  }

  /** Adds another count's figures (embedded mode: the file source's and the normalize role's). */
  merge(o: BatchCountsSnapshot): void {
    for (const s of BATCH_SHAPES) {
      this.documents[s] += o.documents[s];
      this.records[s] += o.records[s];
      this.empty[s] += o.empty[s];
      this.skipped[s] += o.skipped[s];
    }
    if (o.files !== undefined) {
      this.files.nonAuditStreams += o.files.nonAuditStreams;
      this.files.writeTest += o.files.writeTest;
    }
  }

  get total(): number {
    return this.documents.cloudtrail + this.documents.k8s_audit + this.documents.cloudwatch_logs + this.documents.cloudtrail_digest;
  }

  snapshot(): BatchCountsSnapshot {
    const snap: BatchCountsSnapshot = { documents: { ...this.documents }, records: { ...this.records }, empty: { ...this.empty }, skipped: { ...this.skipped } };
    if (this.files.nonAuditStreams + this.files.writeTest > 0) snap.files = { ...this.files };
    return snap;
  }
}

export interface BatchCountsSnapshot {
  documents: Record<BatchShape, number>;
  records: Record<BatchShape, number>;
  /** Documents that held no record: an empty list, a CloudWatch Logs control message. */
  empty: Record<BatchShape, number>;
  /** Elements left out on purpose (cloudwatch_logs: log events of an EKS group's non-audit streams). */
  skipped: Record<BatchShape, number>;
  /** Whole files the file source left out (see `BatchCounts.files`); absent where no file source ran. */
  files?: { nonAuditStreams: number; writeTest: number };
}
