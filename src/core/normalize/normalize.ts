import type { ZodType } from 'zod';
import type { RawMeta, SeamEvent, SourceType } from '../envelope.ts';
import { err, ok, SeamError, type Result } from '../errors.ts';
import { CloudTrailRecord } from '../schemas/cloudtrail.ts';
import { GuardDutyEventBridge, GuardDutyFinding, GuardDutyFindingSdk } from '../schemas/guardduty.ts';
import { K8sAuditEvent } from '../schemas/k8s-audit.ts';
import { FalcoAlert, RuntimeEvent } from '../schemas/runtime.ts';
import { canonicalCloudTrail, mapCloudTrail } from './cloudtrail.ts';
import { detectFormat, FORMAT_SOURCE, siemInner, type RecordFormat, type WrapperFormat } from './detect.ts';
import { canonicalGuardDuty, mapGuardDuty } from './guardduty.ts';
import { mapK8sAudit } from './k8s-audit.ts';
import { cloudTrailFromOcsf } from './ocsf.ts';
import { readPolicy } from './policy.ts';
import { mayHoldToken, REDACTED, redact, redactInPlace } from './redact.ts';
import { mapFalco, mapNativeRuntime } from './runtime.ts';
import type { MapOut, Mapper } from './types.ts';
import { isRec, obj, str, type Rec } from '../values.ts';
import { isoMs } from '../time.ts';
import { closingQuote } from '../json-text.ts';

/**
 * Raw record → SeamEvent. The public API of normalization:
 * - `normalizeLine(line, meta)`: one line of text (JSONL, a CloudWatch export line) → event or error.
 * - `normalizeRecord(raw, meta)`: an already parsed value → event or error; never mutates `raw`.
 * Both never throw: every failure is a SeamError with a code from src/core/errors.ts, a message that
 * names the problem and `details` (source, field, issues, position) a user can act on.
 *
 * The hot path reads fields by hand; the zod schemas in src/core/schemas/ are the documentation, and
 * they run only to explain a failure (or on every record with `validate: true`), because a full zod
 * parse costs several times JSON.parse.
 */

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
/** Deep enough for any real record (a CRD's openAPIV3Schema in an audit event nests ~40 levels). */
export const DEFAULT_MAX_RECORD_DEPTH = 128;
/** An event time this far ahead of its receive time is flagged (`seam.time_skew`). */
export const DEFAULT_MAX_AHEAD_MS = 15 * 60_000;

export interface NormalizeOptions {
  /** Records larger than this (UTF-8 bytes) are rejected with SEAM_ERR_INPUT_OVERSIZED. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Records nesting objects/arrays deeper than this are rejected with SEAM_ERR_INPUT_DEPTH before anything walks them. Default 128. */
  maxRecordDepth?: number;
  /** Event times more than this ahead of the receive time get `seam.time_skew`. Default 15 min. */
  maxAheadMs?: number;
  /** Event times more than this behind the receive time get `seam.time_skew`. Default: no limit (replays of old exports are normal). */
  maxBehindMs?: number;
  /** Also validate each record against its full zod schema (slow; for tests and debugging). */
  validate?: boolean;
}

const NO_OPTIONS: NormalizeOptions = Object.freeze({});

type Format = Exclude<RecordFormat, WrapperFormat>;

const MAPPERS: Record<Format, Mapper> = {
  k8s_audit: mapK8sAudit,
  cloudtrail: mapCloudTrail,
  guardduty_api: mapGuardDuty,
  guardduty_sdk: mapGuardDuty,
  guardduty_eventbridge: mapGuardDuty,
  runtime_native: mapNativeRuntime,
  runtime_falco: mapFalco,
};

/** The schema that documents (and explains failures of) each format. */
export const FORMAT_SCHEMAS: Record<Format, ZodType> = {
  k8s_audit: K8sAuditEvent,
  cloudtrail: CloudTrailRecord,
  guardduty_api: GuardDutyFinding,
  guardduty_sdk: GuardDutyFindingSdk,
  guardduty_eventbridge: GuardDutyEventBridge,
  runtime_native: RuntimeEvent,
  runtime_falco: FalcoAlert,
};

const SOURCE_DEFAULT_FORMAT: Record<SourceType, Format> = {
  k8s_audit: 'k8s_audit',
  cloudtrail: 'cloudtrail',
  guardduty: 'guardduty_api',
  runtime: 'runtime_native',
};

const MAX_ISSUES = 5;

// Mappers write the event time here; normalization is synchronous, so one object serves every call.
const out: MapOut = { timestamp: '' };

/** The first few zod issues of a record against a format's schema, as `{ path, message }`. */
export function schemaIssues(format: Format, raw: unknown): { path: string; message: string }[] {
  const r = FORMAT_SCHEMAS[format].safeParse(raw);
  if (r.success) return [];
  return r.error.issues.slice(0, MAX_ISSUES).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function issueText(issues: { path: string; message: string }[]): string {
  return issues.map((i) => `${i.path === '' ? '(root)' : i.path}: ${i.message}`).join('; ');
}

/** `2024-05-01T12:00:00.000Z ` — the prefix CloudWatch Logs puts on each line of an S3 export. */
const CW_EXPORT_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;
/** What the CloudWatch agent appends to a log event it cut at the 256 KiB limit. */
const CW_TRUNCATED_SUFFIX = '[Truncated...]';

function utf8Bytes(s: string): number {
  // s.length (UTF-16 units) <= UTF-8 bytes <= 3 * s.length: count exactly only when it matters.
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Deepest nesting of `{`/`[` in JSON text (outside strings), stopping as soon as it passes `limit`:
 * one pass over the characters, so a hostile record is refused before JSON.parse, redaction or rule
 * matching recurse into it.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  // Depth never exceeds the number of '{' and '[' in the text, strings included: counted with indexOf (a
  // memchr) this settles nearly every record at a fifth of the cost of the walk below.
  let brackets = 0;
  for (let i = text.indexOf('{'); i >= 0 && brackets <= limit; i = text.indexOf('{', i + 1)) brackets++;
  for (let i = text.indexOf('['); i >= 0 && brackets <= limit; i = text.indexOf('[', i + 1)) brackets++;
  if (brackets <= limit) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const j = closingQuote(text, i);
      if (j < 0) return false;
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Depth check of an already parsed value (iterative: the value may be deeper than the stack). */
export function valueDepthExceeds(v: unknown, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (d > limit) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x as Rec)) if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
  return false;
}

function tooDeep(limit: number, meta: RawMeta): SeamError {
  return new SeamError('SEAM_ERR_INPUT_DEPTH', `record nests objects or arrays more than ${limit} levels deep`, { details: { maxRecordDepth: limit, origin: meta.origin } });
}

/** Whatever throws inside normalization (it should not) becomes this record's error, never the caller's. */
function threw(e: unknown, meta: RawMeta): SeamError {
  const msg = e instanceof Error ? e.message : String(e);
  return new SeamError('SEAM_ERR_STAGE_THREW', `normalization threw on this record: ${msg}`, { cause: e, details: { stage: 'normalize', origin: meta.origin } });
}

/** Normalizes one line of text. The parsed record is owned here, so redaction happens in place (no copy). */
export function normalizeLine(line: string, meta: RawMeta, opts: NormalizeOptions = NO_OPTIONS): Result<SeamEvent, SeamError> {
  try {
    return normalizeText(line, meta, opts);
  } catch (e) {
    return err(threw(e, meta));
  }
}

function normalizeText(line: string, meta: RawMeta, opts: NormalizeOptions): Result<SeamEvent, SeamError> {
  const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (line.length > max || (line.length * 3 > max && utf8Bytes(line) > max)) {
    const bytes = utf8Bytes(line);
    return err(
      new SeamError('SEAM_ERR_INPUT_OVERSIZED', `record is ${bytes} bytes, over the ${max}-byte limit`, {
        details: { bytes, maxRecordBytes: max, head: line.slice(0, 200), origin: meta.origin },
      }),
    );
  }
  let text = line;
  let c0 = text.charCodeAt(0);
  if (c0 === 0xfeff) {
    // A byte-order mark some Windows tools write at the start of a file.
    text = text.slice(1);
    c0 = text.charCodeAt(0);
  }
  if (c0 >= 0x30 && c0 <= 0x39) {
    const m = CW_EXPORT_PREFIX.exec(text);
    if (m !== null) text = text.slice(m[0].length);
  }
  if (text.endsWith(CW_TRUNCATED_SUFFIX)) {
    return err(
      new SeamError('SEAM_ERR_INPUT_TRUNCATED', 'record was truncated by CloudWatch Logs (ends with "[Truncated...]")', {
        details: { bytes: utf8Bytes(line), origin: meta.origin },
      }),
    );
  }
  const maxDepth = opts.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH;
  if (jsonDepthExceeds(text, maxDepth)) return err(tooDeep(maxDepth, meta));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return err(parseError(text, e, meta));
  }
  if (!isRec(parsed)) return err(notObject(parsed, meta));
  return normalizeObject(parsed, meta, opts, true, mayHoldToken(text));
}

/** Normalizes an already parsed record. Does not mutate `raw`: the result shares unredacted subtrees with it. */
export function normalizeRecord(raw: unknown, meta: RawMeta, opts: NormalizeOptions = NO_OPTIONS): Result<SeamEvent, SeamError> {
  if (!isRec(raw)) return err(notObject(raw, meta));
  try {
    const maxDepth = opts.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH;
    if (valueDepthExceeds(raw, maxDepth)) return err(tooDeep(maxDepth, meta));
    return normalizeObject(raw, meta, opts, false, true);
  } catch (e) {
    return err(threw(e, meta));
  }
}

function parseError(text: string, e: unknown, meta: RawMeta): SeamError {
  const msg = e instanceof Error ? e.message : String(e);
  const pos = /position (\d+)/.exec(msg);
  const at = pos?.[1] === undefined ? undefined : Number(pos[1]);
  const trimmed = text.trimEnd();
  // A record cut short: the parser ran out of input (rather than meeting a bad character) in what began as an object.
  const atEnd = /end of JSON input|Unterminated/.test(msg) || (at !== undefined && at >= trimmed.length);
  if (trimmed.startsWith('{') && atEnd) {
    return new SeamError('SEAM_ERR_INPUT_TRUNCATED', `record ends before its JSON is complete (${msg})`, {
      cause: e,
      details: { bytes: utf8Bytes(text), origin: meta.origin, tail: trimmed.slice(-80) },
    });
  }
  return new SeamError('SEAM_ERR_INPUT_JSON', `record is not valid JSON: ${msg}`, {
    cause: e,
    details: { position: at, origin: meta.origin, head: text.slice(0, 120) },
  });
}

function notObject(v: unknown, meta: RawMeta): SeamError {
  const type = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  return new SeamError('SEAM_ERR_INPUT_NOT_OBJECT', `record is a JSON ${type}, not an object`, { details: { type, origin: meta.origin } });
}

function normalizeObject(r: Rec, meta: RawMeta, opts: NormalizeOptions, owned: boolean, scan: boolean): Result<SeamEvent, SeamError> {
  const format = detectFormat(r);
  if (format === 'cloudwatch_event') {
    // filter-log-events / subscription payload element: the record is the message.
    // Each level is a shorter string, so the recursion ends.
    const stream = str(r.logStreamName);
    const inner: RawMeta = stream === undefined || meta.origin !== undefined ? meta : { ...meta, origin: stream };
    return normalizeText(r.message as string, inner, opts);
  }
  if (format === 'siem_export') {
    // The record a SIEM kept: its text (a shorter string) or a hit's `_source` (a smaller object), so the
    // recursion ends. The export's own fields (index, host, sourcetype, ECS copies) are not kept.
    const inner = siemInner(r) as string | Rec;
    const res = typeof inner === 'string' ? normalizeText(inner, meta, opts) : normalizeObject(inner, meta, opts, owned, scan);
    // A dead letter says its reason came from the record inside the export (its keys are the inner record's).
    if (!res.ok && res.error.details.wrapper === undefined) res.error.details.wrapper = 'siem_export';
    return res;
  }
  if (format === 'cloudtrail_eventbridge') {
    // The record is `detail` (one level down, and a CloudTrail record is never itself a wrapper).
    const res = normalizeObject(eventBridgeDetail(r), meta, opts, owned, scan);
    if (res.ok) res.value.seam.format = 'eventbridge';
    return res;
  }
  if (format === 'cloudtrail_ocsf') {
    // Security Lake's OCSF event: the CloudTrail record rebuilt from it, the event kept under `ocsf`. The rebuilt
    // record shares its bodies with `r`, so it is owned only when `r` is.
    const rebuilt = cloudTrailFromOcsf(r);
    // Bodies that were JSON text were parsed here, past the check of the record's depth: checked again.
    const maxDepth = opts.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH;
    if (valueDepthExceeds(rebuilt, maxDepth)) return err(tooDeep(maxDepth, meta));
    const res = normalizeObject(rebuilt, meta, opts, owned, scan);
    if (res.ok) res.value.seam.format = 'ocsf';
    return res;
  }
  if (format === undefined) {
    if (meta.source !== undefined) {
      const f = SOURCE_DEFAULT_FORMAT[meta.source];
      const issues = schemaIssues(f, r);
      return err(
        new SeamError('SEAM_ERR_NORMALIZE_SCHEMA', `${meta.source} record fails its schema: ${issueText(issues)}`, {
          details: { source: meta.source, issues, origin: meta.origin },
        }),
      );
    }
    return err(unknownFormat(r, meta));
  }
  if (format === 'cloudtrail' && r.eventSource === undefined) {
    // Lower-cased keys: restore CloudTrail's names first (a copy; the shared subtrees are not changed).
    r = canonicalCloudTrail(r);
  }
  if (format === 'cloudtrail' && (blank(r.errorCode) || blank(r.errorMessage))) r = withoutBlankErrors(r);
  const seam = MAPPERS[format](r, meta, out);
  if (seam instanceof SeamError) {
    seam.details.format = format;
    seam.details.origin = meta.origin;
    seam.details.issues = schemaIssues(format, r);
    return err(seam);
  }
  const timestamp = out.timestamp;
  const skew = timeSkew(timestamp, meta.receivedAt, opts);
  if (skew !== undefined) seam.time_skew = skew;
  if (opts.validate === true) {
    const issues = schemaIssues(format, r);
    if (issues.length > 0) {
      const source = FORMAT_SOURCE[format];
      return err(
        new SeamError('SEAM_ERR_NORMALIZE_SCHEMA', `${source} record fails its schema: ${issueText(issues)}`, {
          details: { source, format, issues, origin: meta.origin },
        }),
      );
    }
  }
  if (seam.source === 'guardduty') {
    const c = canonicalGuardDuty(r, seam.format, owned);
    if (c !== r) {
      // A deep copy: redaction may now change it in place without touching the caller's record.
      r = c;
      owned = true;
    }
  }
  let ev: Rec;
  if (owned) {
    seam.ingest.redacted = redactInPlace(seam.source, r, scan) ?? [];
    ev = r;
    ev['@timestamp'] = timestamp;
    ev.seam = seam;
  } else {
    const red = redact(seam.source, r, { copy: true, scanStrings: scan });
    seam.ingest.redacted = red.paths ?? [];
    ev = { '@timestamp': timestamp, ...red.record, seam };
    // A raw `@timestamp` must not win over the event time.
    ev['@timestamp'] = timestamp;
  }
  if (format === 'cloudtrail') {
    // From the record as redacted (ADR 0042): what rules read here is what the index keeps.
    const maxDepth = opts.maxRecordDepth ?? DEFAULT_MAX_RECORD_DEPTH;
    const policy = readPolicy(ev, (text) => jsonDepthExceeds(text, maxDepth));
    if (policy !== undefined) {
      seam.policy = policy.view;
      // A URL-encoded document hid a secret from the text scan: the raw field goes too (copied on the way
      // down: the record's objects may be the caller's).
      if (policy.secretInEncoded) {
        setCopied(ev, policy.path, REDACTED);
        seam.ingest.redacted.push(policy.path.join('.'));
      }
    }
  }
  return ok(ev as SeamEvent);
}

/** Sets `path` in `r` to `value`, copying each object on the way so no object `r` shares with a caller changes. */
function setCopied(r: Rec, path: string[], value: unknown): void {
  let o = r;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = obj(o[k]);
    if (next === undefined) return;
    const copy = { ...next };
    o[k] = copy;
    o = copy;
  }
  o[path[path.length - 1]!] = value;
}

let lastReceivedAt: string | undefined;
let lastReceivedMs = NaN;

/** Event time minus receive time (ms) when it lies outside the allowed window; undefined inside it. */
function timeSkew(timestamp: string, receivedAt: string, opts: NormalizeOptions): number | undefined {
  // isoMs remembers the event time for the next stage (the reorder buffer asks for it next); the receive
  // time is one string for a whole read chunk, remembered here.
  const t = isoMs(timestamp);
  if (receivedAt !== lastReceivedAt) {
    lastReceivedAt = receivedAt;
    lastReceivedMs = Date.parse(receivedAt);
  }
  const r = lastReceivedMs;
  if (Number.isNaN(r) || Number.isNaN(t)) return undefined;
  const d = t - r;
  if (d > (opts.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS)) return d;
  if (opts.maxBehindMs !== undefined && -d > opts.maxBehindMs) return d;
  return undefined;
}

/** A field a data-lake export or a test suite wrote for "absent": present, but null or empty. */
const blank = (v: unknown): boolean => v === '' || v === null;

/**
 * A copy without a null or empty `errorCode` / `errorMessage`. CloudTrail writes them only for a failed call;
 * exports from Athena or Snowflake and some test suites write `"errorCode": ""` on every record, which rules
 * (`errorCode|exists`) and the outcome would read as a failure.
 */
function withoutBlankErrors(r: Rec): Rec {
  const c: Rec = { ...r };
  if (blank(c.errorCode)) delete c.errorCode;
  if (blank(c.errorMessage)) delete c.errorMessage;
  return c;
}

/**
 * The CloudTrail record inside an EventBridge event, in a shallow copy: rules see the record as CloudTrail
 * writes it, and the envelope is kept under `eventBridge` (as for GuardDuty findings). EventBridge copies the
 * whole record into `detail`; where a forwarder trimmed it of the event time, region or account, the
 * envelope's `time`, `region` and `account` (the same values, by EventBridge's definition) fill them in.
 */
function eventBridgeDetail(r: Rec): Rec {
  const { detail, ...envelope } = r;
  const c: Rec = { ...(detail as Rec) };
  if (c.eventTime === undefined && str(r.time) !== undefined) c.eventTime = r.time;
  if (c.awsRegion === undefined && str(r.region) !== undefined) c.awsRegion = r.region;
  if (c.recipientAccountId === undefined && str(r.account) !== undefined) c.recipientAccountId = r.account;
  c.eventBridge = envelope;
  return c;
}

function unknownFormat(r: Rec, meta: RawMeta): SeamError {
  const keys = Object.keys(r).slice(0, 12);
  if (typeof r.eventSource === 'string' && r.eventSource.startsWith('aws:') && r.eventName !== undefined) {
    return new SeamError(
      'SEAM_ERR_INPUT_UNKNOWN_FORMAT',
      `record is an AWS event notification (eventSource ${r.eventSource}, eventName ${String(r.eventName)}: a Lambda trigger's S3, SQS, SNS, DynamoDB or Kinesis record), not a CloudTrail record; CloudTrail logs the API calls behind it (its data events); keys: ${keys.join(', ')}`,
      { details: { keys, eventSource: r.eventSource, origin: meta.origin } },
    );
  }
  // A CloudTrail record cut down to its event name (detection test suites, some exports): say what is missing.
  const half = (r.eventName !== undefined) !== (r.eventSource !== undefined) && (r.userIdentity !== undefined || r.eventTime !== undefined || r.awsRegion !== undefined);
  if (half) {
    const missing = r.eventSource === undefined ? 'eventSource' : 'eventName';
    return new SeamError(
      'SEAM_ERR_INPUT_UNKNOWN_FORMAT',
      `record looks like a CloudTrail record but has no ${missing}: Seam needs both eventSource (the service, e.g. iam.amazonaws.com) and eventName to read it (an event name alone does not say which service: CreateUser is IAM's, Transfer Family's, Amazon MQ's…); keys: ${keys.join(', ')}`,
      { details: { keys, missing, origin: meta.origin } },
    );
  }
  return new SeamError(
    'SEAM_ERR_INPUT_UNKNOWN_FORMAT',
    `record matches no known format (k8s audit Event, CloudTrail record, its EventBridge event or Security Lake OCSF event, GuardDuty finding, Falco alert, seam.runtime/v1); keys: ${keys.join(', ')}`,
    { details: { keys, origin: meta.origin } },
  );
}

/**
 * Records inside a wrapper document: CloudTrail `{"Records":[...]}`, GetFindings `{"Findings":[...]}`
 * or `{"findings":[...]}`, `filter-log-events` `{"events":[...]}`, a subscription's `logEvents`, a
 * Kubernetes audit `{"kind":"EventList","items":[...]}`, a Splunk search's `{"results":[...]}`, or a bare array. (Files are unwrapped by their
 * splitter, src/sources/file/split.ts, with the same keys, when the file is a document rather than JSONL; a line
 * of JSONL or a Kafka message holding a CloudTrail file or an audit EventList is cut into its records before
 * normalization, src/core/normalize/batch.ts, ADR 0038.) Undefined when `doc` is a single record.
 */
export function unwrapRecords(doc: unknown): unknown[] | undefined {
  if (Array.isArray(doc)) return doc;
  const o = obj(doc);
  if (o === undefined) return undefined;
  for (const k of ['Records', 'Findings', 'findings', 'events', 'logEvents', 'items', 'results']) {
    const v = o[k];
    if (Array.isArray(v)) return v;
  }
  return undefined;
}

export { detectFormat, type RecordFormat } from './detect.ts';
export { REDACTED } from './redact.ts';
