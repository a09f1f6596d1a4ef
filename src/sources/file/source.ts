import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { SeamError } from '../../core/errors.ts';
import type { RawMeta } from '../../core/envelope.ts';
import { obj } from '../../core/values.ts';
import { batchOrigin, classifySubscription, cloudTrailTimeMs, isCloudTrailDigest, refusedBatch, splitBatch, withBatchSource, type BatchCounts, type BatchSource } from '../../core/normalize/batch.ts';
import { LineSplitter, ScanSplitter, sniff, tryParse, type Piece, type ScanDoc } from './split.ts';
import { fileReadOptions, mergeByEventTime } from './merge.ts';

/** One unit out of the file source: a record's text, or a record that could not be cut out. */
export type FileItem =
  | { kind: 'record'; text: string; meta: RawMeta }
  | { kind: 'error'; error: SeamError; raw: string; meta: RawMeta };

export interface FileReadOptions {
  maxRecordBytes: number;
  readChunkBytes?: number;
  cluster?: string;
  /** AWS account id the records are attributed to when they do not say (a cluster's audit export). */
  account?: string;
  /** Called after every chunk with bytes consumed so far (compressed bytes for gzip files). */
  onProgress?: (bytesRead: number) => void;
  now?: () => string;
  /**
   * Counts the batch documents read as one record (a JSONL line holding a CloudTrail file or an audit
   * EventList), which are handed on as their records (ADR 0038).
   */
  batches?: BatchCounts;
  /**
   * Event time of a record (ms; NaN when it has none or cannot be read), by which the records of several files
   * are merged (`readFilesBatches`). Default: the `@timestamp` normalization gives it.
   */
  eventTimeMs?: EventTimeOf;
  /** Internal (the merge's look at a file's first records): each chunk's held records are handed on with it. */
  probe?: boolean;
}

/** Event time (ms) of a record as normalization reads it; NaN for an error item, a record that does not normalize or has no time of its own. */
export type EventTimeOf = (item: FileItem) => number;

/**
 * A file or folder to read, alone or with the EKS cluster and AWS account its records are attributed to when they do
 * not say, over the read options' own (a seam.yml file source's `cluster` and `account`; `seam replay --cluster
 * PATH=NAME`): one run can read two clusters' audit exports, each file's records carrying its own (review newuser2 M7).
 */
export type InputPath = string | { path: string; cluster?: string; account?: string };

/** A file found under an input path, with its size and the attribution of the path it was found under. */
export interface InputFile {
  path: string;
  bytes: number;
  cluster?: string;
  account?: string;
}

/** An input path that cannot be looked at (missing, not allowed). */
function unreadableInput(p: string, cause: unknown): SeamError {
  return new SeamError('SEAM_ERR_INPUT_FILE', `cannot read ${p}: ${(cause as Error).message}`, { cause, details: { path: p } });
}

/**
 * Looks at each input path itself (not what a folder holds) and throws the SEAM_ERR_INPUT_FILE `listInputFiles` would
 * for one that is missing, so a command can say so before it spends seconds loading the rules (fresh-user
 * walkthrough: `seam run --input nope/` loaded 512 rules first).
 */
export async function checkInputPaths(paths: InputPath[]): Promise<void> {
  for (const p of paths) {
    const path = typeof p === 'string' ? p : p.path;
    try {
      await stat(path);
    } catch (cause) {
      throw unreadableInput(path, cause);
    }
  }
}

/** Expands folders (recursively, name order) and returns files with their sizes (and their input path's cluster and account). */
export async function listInputFiles(paths: InputPath[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  let attrib: { cluster?: string; account?: string } = {};
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (cause) {
      throw unreadableInput(p, cause);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => !n.startsWith('.')).sort();
      for (const n of names) await walk(join(p, n));
    } else if (st.isFile()) {
      out.push({ path: p, bytes: st.size, ...attrib });
    }
  };
  for (const p of paths) {
    if (typeof p === 'string') {
      attrib = {};
      await walk(p);
    } else {
      attrib = { ...(p.cluster !== undefined ? { cluster: p.cluster } : {}), ...(p.account !== undefined ? { account: p.account } : {}) };
      await walk(p.path);
    }
  }
  return out;
}

/** The first bytes of a file: gzip, or a format Seam does not read (named, with what to do), or neither. */
async function magic(path: string): Promise<'gzip' | { format: string; todo: string } | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    const b = buf.subarray(0, bytesRead);
    if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
    if (b.length === 4 && b.readUInt32BE(0) === 0x504b0304) return { format: 'a ZIP archive', todo: 'unzip it and replay the files it holds' };
    if (b.length === 4 && b.toString('latin1') === 'PAR1') return { format: 'Parquet', todo: 'export it as JSON first (Security Lake: an Athena query UNLOAD ... WITH (format = \'JSON\'), or a DuckDB COPY ... TO (FORMAT JSON))' };
    if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return { format: 'bzip2-compressed', todo: 'decompress it (bunzip2) or gzip it instead' };
    if (b.length === 4 && b.readUInt32LE(0) === 0xfd2fb528) return { format: 'zstd-compressed', todo: 'decompress it (zstd -d) or gzip it instead' };
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * What `aws logs create-export-task` of an EKS cluster's log group (`/aws/eks/<cluster>/cluster`) writes beside the
 * audit log: `<prefix>/aws-logs-write-test` ("Permission Check Successful") and `<prefix>/<task>/<stream>/000000.gz`
 * objects of the other control-plane streams (authenticator, kube-apiserver, kube-controller-manager,
 * kube-scheduler, cloud-controller-manager), none of them audit events: skipped whole and counted, as a
 * subscription payload's non-audit streams are (ADR 0039).
 */
function exportSkip(path: string): 'writeTest' | 'nonAuditStreams' | undefined {
  const name = basename(path);
  if (name === 'aws-logs-write-test') return 'writeTest';
  if (!/^\d{6}(?:\.gz)?$/.test(name)) return undefined;
  const stream = basename(dirname(path));
  if (stream.startsWith('kube-apiserver-audit-')) return undefined;
  return /^(?:authenticator|kube-apiserver|kube-controller-manager|kube-scheduler|cloud-controller-manager)-/.test(stream) ? 'nonAuditStreams' : undefined;
}

/** A key one of the wrappers below needs (`"CloudTrailEvent"`, `"message"`, `"field"`): without one the text is no wrapper. */
const MAY_BE_WRAPPED = /"(?:CloudTrailEvent|message|field)"/;

/**
 * A row of an `aws logs get-query-results` document (`{"results": [[{"field": "@timestamp", "value": ...},
 * {"field": "@message", "value": "{...}"}], ...], "status": "Complete"}`, whose `results` the scanner cuts into
 * rows) as a `{field: value}` object's text, the shape of the Insights console's JSON download; its `@message` is
 * unwrapped by normalization (`siemInner`). Undefined for any other text.
 */
function queryResultRow(text: string): string | undefined {
  if (!/^\s*\[/.test(text) || !text.includes('"field"')) return undefined;
  const row = tryParse(text);
  if (!Array.isArray(row) || row.length === 0) return undefined;
  const m: Record<string, unknown> = {};
  for (const cell of row) {
    const c = obj(cell);
    if (c === undefined || typeof c.field !== 'string') return undefined;
    m[c.field] = c.value;
  }
  return JSON.stringify(m);
}

/** Unwraps a filter-log-events / GetLogEvents item (`{timestamp, message, eventId...}`) to its message. */
function unwrapCloudWatchEvent(text: string): { text: string; stream?: string; eventId?: string } | undefined {
  if (!text.includes('"message"') || !(text.includes('"ingestionTime"') || text.includes('"eventId"'))) return undefined;
  const o = obj(tryParse(text));
  if (o === undefined || typeof o.message !== 'string' || typeof o.timestamp !== 'number') return undefined;
  return {
    text: o.message,
    ...(typeof o.logStreamName === 'string' ? { stream: o.logStreamName } : {}),
    ...(typeof o.eventId === 'string' ? { eventId: o.eventId } : {}),
  };
}

/**
 * Unwraps a CloudTrail LookupEvents item (`aws cloudtrail lookup-events` output: `{EventId, EventName,
 * EventTime, ..., CloudTrailEvent: "<the record as a JSON string>"}`) to its record, with its event time.
 */
function unwrapLookupEvent(text: string): { text: string; eventId?: string; timeMs: number } | undefined {
  if (!text.includes('"CloudTrailEvent"')) return undefined;
  const o = obj(tryParse(text));
  if (o === undefined || typeof o.CloudTrailEvent !== 'string') return undefined;
  // EventTime: ISO text (CLI v2) or epoch seconds (SDK JSON, CLI v1); else the record's own eventTime.
  let timeMs = typeof o.EventTime === 'number' ? o.EventTime * 1000 : typeof o.EventTime === 'string' ? Date.parse(o.EventTime) : NaN;
  if (Number.isNaN(timeMs)) {
    const m = /"eventTime"\s*:\s*"([^"]+)"/.exec(o.CloudTrailEvent);
    timeMs = m ? Date.parse(m[1]!) : NaN;
  }
  return { text: o.CloudTrailEvent, ...(typeof o.EventId === 'string' ? { eventId: o.EventId } : {}), timeMs };
}

/**
 * Records handed on oldest first, per file: LookupEvents items (the API returns the newest first) and
 * the CloudTrail records of a JSON document (`{"Records": [...]}` as the console's event history
 * download writes it, newest first, or an S3 file in delivery order). The correlate stage and the raw
 * topics assume each input is in event-time order within the allowed lateness; a reversed recording
 * otherwise loses its correlations. At most this many are held at once: a larger file is handed on in
 * sorted runs of this size. JSONL and CloudWatch exports stream in file order.
 */
const SORT_HOLD = 50_000;

/**
 * Streams the records of one file. Memory is bounded by the read chunk plus one record
 * (`maxRecordBytes`), whatever the file size.
 */
export async function* readFile(path: string, opts: FileReadOptions): AsyncGenerator<FileItem> {
  for await (const batch of readFileBatches(path, opts)) yield* batch;
}

/**
 * The records of one file, one array per read chunk: a consumer that handles records synchronously
 * (`seam replay`) pays the async-iteration hop once per chunk rather than once per record.
 */
export async function* readFileBatches(path: string, opts: FileReadOptions): AsyncGenerator<FileItem[]> {
  const now = opts.now ?? (() => new Date().toISOString());
  const skip = exportSkip(path);
  if (skip !== undefined) {
    if (opts.batches !== undefined) opts.batches.files[skip]++;
    return;
  }
  const kind = await magic(path);
  if (kind !== undefined && kind !== 'gzip') {
    // One dead letter for the file, not one "not valid JSON" per line of binary.
    const error = new SeamError('SEAM_ERR_INPUT_UNSUPPORTED', `${path} is ${kind.format}, which Seam does not read: ${kind.todo}`, { details: { path, format: kind.format } });
    const meta: RawMeta = { collector: 'file', receivedAt: now(), origin: path };
    if (opts.cluster) meta.cluster = opts.cluster;
    if (opts.account) meta.account = opts.account;
    // Said at once on stderr too: the summary gives only the count by code.
    if (opts.probe !== true) process.stderr.write(`seam: ${error.message} (refused whole, one dead letter SEAM_ERR_INPUT_UNSUPPORTED)\n`);
    yield [{ kind: 'error', error, raw: '', meta }];
    return;
  }
  const gz = kind === 'gzip';
  const file = createReadStream(path, { highWaterMark: opts.readChunkBytes ?? 256 * 1024 });
  const stream = gz ? file.pipe(createGunzip()) : file;
  let splitter: LineSplitter | ScanSplitter | undefined;
  let head: Buffer[] = [];
  // The file's shape is told from its first 64 KiB; the merge's probe, which wants only a first record, from its first chunk.
  const headNeeded = opts.probe === true ? Math.min(64 * 1024, opts.readChunkBytes ?? 64 * 1024) : 64 * 1024;
  let headBytes = 0;
  const pieces: Piece[] = [];
  /** Records of this file held to be handed on sorted by event time (`SORT_HOLD`). */
  let held: { item: FileItem; timeMs: number }[] = [];
  let scanMode = false;
  const releaseHeld = (): FileItem[] => {
    // Sorted only when every held record has a time (stable: equal times keep file order); a run
    // with a record of another kind is handed on as it came.
    const timed = held.every((h) => !Number.isNaN(h.timeMs));
    const run = timed ? held.map((h, i) => ({ ...h, i })).sort((a, b) => a.timeMs - b.timeMs || a.i - b.i) : held;
    held = [];
    return run.map((h) => h.item);
  };
  // One receive time per chunk: a clock read per record costs more than it tells.
  let receivedAt = now();
  // Built field by field: a spread of a conditional object per record costs two objects more.
  const baseMeta = (origin: string): RawMeta => {
    const m: RawMeta = { collector: 'file', receivedAt, origin };
    if (opts.cluster) m.cluster = opts.cluster;
    if (opts.account) m.account = opts.account;
    return m;
  };

  /** The scanner's subscription payloads, each classified (and counted) once. */
  let lastDoc: ScanDoc | undefined;
  let lastClass: ReturnType<typeof classifySubscription>;
  const scanned = (doc: ScanDoc): ReturnType<typeof classifySubscription> => {
    if (doc === lastDoc) return lastClass;
    lastDoc = doc;
    lastClass = classifySubscription(doc.messageType, doc.logGroup, doc.logStream, doc.owner);
    if (lastClass !== undefined) {
      opts.batches?.note('documents', 'cloudwatch_logs');
      if (lastClass === 'control') opts.batches?.note('empty', 'cloudwatch_logs');
    }
    return lastClass;
  };
  // A subscription payload's elements take its account and cluster where the file source was given none (ADR 0039).
  const metaOf = (origin: string, from: BatchSource | undefined): RawMeta => (from === undefined ? baseMeta(origin) : withBatchSource(baseMeta(origin), from));

  let lastRecordLine = 0;
  let lineOrdinal = 0;
  function drain(): FileItem[] {
    const out: FileItem[] = [];
    /** One record's text on its way out: unwrapped (LookupEvents, CloudWatch event), held to be sorted, or handed on. */
    const take = (text: string, origin: string, from?: BatchSource): void => {
      // One scan for both wrappers' keys; most records are neither, and each `includes` is a pass of its own.
      const wrapped = MAY_BE_WRAPPED.test(text);
      const ct = wrapped ? unwrapLookupEvent(text) : undefined;
      const cw = wrapped && ct === undefined ? unwrapCloudWatchEvent(text) : undefined;
      const row = wrapped && ct === undefined && cw === undefined ? queryResultRow(text) : undefined;
      if (row !== undefined) {
        out.push({ kind: 'record', text: row, meta: metaOf(origin, from) });
      } else if (ct) {
        held.push({ item: { kind: 'record', text: ct.text, meta: metaOf(ct.eventId ? `${origin} (${ct.eventId})` : origin, from) }, timeMs: ct.timeMs });
        if (held.length >= SORT_HOLD) out.push(...releaseHeld());
      } else if (cw) {
        const at = cw.stream ? `${origin} (${cw.stream}${cw.eventId ? ` ${cw.eventId}` : ''})` : origin;
        // A log event whose message is a whole batch document (a CloudTrail file or an EventList forwarded to a log
        // group): its records, as the normalize role cuts the same message on Kafka (ADR 0038).
        const batch = splitBatch(cw.text, opts.maxRecordBytes);
        if (batch === undefined) out.push({ kind: 'record', text: cw.text, meta: metaOf(at, from) });
        else if (batch.refused !== undefined) out.push({ kind: 'error', error: refusedBatch(batch.refused, cw.text), raw: cw.text, meta: metaOf(at, from) });
        else {
          opts.batches?.add(batch);
          for (const r of batch.records) out.push({ kind: 'record', text: r.text, meta: metaOf(batchOrigin(at, r.index), from) });
        }
      } else if (scanMode) {
        held.push({ item: { kind: 'record', text, meta: metaOf(origin, from) }, timeMs: cloudTrailTimeMs(text) });
        if (held.length >= SORT_HOLD) out.push(...releaseHeld());
      } else {
        out.push({ kind: 'record', text, meta: metaOf(origin, from) });
      }
    };
    for (const p of pieces) {
      // Several records on one line (a one-line JSON array or document): the second and later are told apart by their index there.
      let origin = `${path}:${p.line}`;
      if (p.kind === 'record') {
        lineOrdinal = p.line === lastRecordLine ? lineOrdinal + 1 : 0;
        lastRecordLine = p.line;
        if (lineOrdinal > 0) origin = batchOrigin(origin, lineOrdinal);
      }
      if (p.kind === 'record' && p.doc !== undefined) {
        // A log event the scanner cut out of a subscription payload: read with the payload's account and cluster,
        // or left out as the batch check would leave it (ADR 0039).
        const c = scanned(p.doc);
        if (c === 'control' && p.text.includes('"CWL CONTROL MESSAGE')) continue;
        if (c !== undefined && c !== 'control') {
          if (c.skip) {
            opts.batches?.note('skipped', 'cloudwatch_logs');
            continue;
          }
          opts.batches?.note('records', 'cloudwatch_logs');
          take(p.text, origin, c.from);
          continue;
        }
      }
      if (p.kind === 'record') {
        // A line (or array element) holding a whole batch document: its records, each with the batch's origin and its index.
        const batch = splitBatch(p.text, opts.maxRecordBytes);
        if (batch === undefined) take(p.text, origin);
        else if (batch.refused !== undefined) out.push({ kind: 'error', error: refusedBatch(batch.refused, p.text), raw: p.text, meta: baseMeta(origin) });
        else {
          opts.batches?.add(batch);
          for (const r of batch.records) take(r.text, batchOrigin(origin, r.index), batch.from);
        }
      } else if (held.length > 0) {
        // A record that could not be cut out ends the sorted run: it stays where the file has it.
        out.push(...releaseHeld());
      }
      if (p.kind === 'record') continue;
      if (p.kind === 'oversized') {
        // A digest file of a busy trail may be larger than a record may be: still a digest, skipped (its records' files are read).
        if (isCloudTrailDigest(p.head)) {
          opts.batches?.note('documents', 'cloudtrail_digest');
          continue;
        }
        const error = new SeamError(
          'SEAM_ERR_INPUT_OVERSIZED',
          `record of ${p.bytes} bytes exceeds maxRecordBytes=${opts.maxRecordBytes}; it stays in ${path} at byte ${p.offset}`,
          { details: { path, line: p.line, offset: p.offset, bytes: p.bytes, limit: opts.maxRecordBytes } },
        );
        out.push({ kind: 'error', error, raw: p.head, meta: baseMeta(origin) });
      } else {
        const error = new SeamError('SEAM_ERR_INPUT_TRUNCATED', `input ends inside a record that started at line ${p.line}`, {
          details: { path, line: p.line, offset: p.offset },
        });
        out.push({ kind: 'error', error, raw: p.text, meta: baseMeta(origin) });
      }
    }
    pieces.length = 0;
    return out;
  }

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!splitter) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes < headNeeded) continue;
        const h = Buffer.concat(head);
        head = [];
        splitter = sniff(h.subarray(0, headNeeded).toString('utf8')) === 'lines' ? new LineSplitter(opts.maxRecordBytes) : new ScanSplitter(opts.maxRecordBytes);
        scanMode = splitter instanceof ScanSplitter;
        splitter.push(h, pieces);
      } else {
        splitter.push(chunk, pieces);
      }
      const batch = drain();
      if (opts.probe === true && held.length > 0) batch.push(...releaseHeld());
      if (batch.length > 0) yield batch;
      opts.onProgress?.(file.bytesRead);
      receivedAt = now();
    }
  } catch (cause) {
    const error = new SeamError('SEAM_ERR_INPUT_FILE', `cannot read ${path}: ${(cause as Error).message}`, { cause, details: { path } });
    // What was read before the failure still goes on, LookupEvents items included.
    yield [...drain(), ...releaseHeld(), { kind: 'error', error, raw: '', meta: baseMeta(path) }];
    return;
  }
  if (!splitter) {
    const h = Buffer.concat(head);
    splitter = sniff(h.toString('utf8')) === 'lines' ? new LineSplitter(opts.maxRecordBytes) : new ScanSplitter(opts.maxRecordBytes);
    scanMode = splitter instanceof ScanSplitter;
    splitter.push(h, pieces);
  }
  splitter.end(pieces);
  const batch = drain();
  if (held.length > 0) batch.push(...releaseHeld());
  if (batch.length > 0) yield batch;
  opts.onProgress?.(file.bytesRead);
}

/**
 * Streams the records of many files and folders: one file as it is; several merged by event time across files
 * (`mergeByEventTime`), so that one folder per plane reads as the planes' records interleaved.
 */
export async function* readFiles(paths: InputPath[], opts: FileReadOptions): AsyncGenerator<FileItem> {
  for await (const batch of readFilesBatches(paths, opts)) yield* batch;
}

/** `readFiles`, one array of records per read chunk (see `readFileBatches`). */
export async function* readFilesBatches(paths: InputPath[], opts: FileReadOptions): AsyncGenerator<FileItem[]> {
  const files = await listInputFiles(paths);
  if (files.length === 1) yield* readFileBatches(files[0]!.path, fileReadOptions(opts, files[0]!));
  else if (files.length > 1) yield* mergeByEventTime(files, opts, readFileBatches);
}
