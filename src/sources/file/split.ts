/**
 * Splits a byte stream of JSON into record texts without holding more than one record in memory.
 *
 * Two modes, chosen from the first line of the file (see `sniff`):
 *  - `lines`: JSONL or a CloudWatch Logs export (`<ISO timestamp> <message>` per line). A bad line
 *    costs one record, never the rest of the file. A line holding a CloudTrail file or an audit EventList
 *    is one record here; the file source hands on its records (src/core/normalize/batch.ts, ADR 0038).
 *  - `scan`: a JSON array of records, a wrapper object whose `Records` (CloudTrail S3 export),
 *    `events` (filter-log-events output), `logEvents`, `Events` (CloudTrail LookupEvents output), `items`
 *    (a Kubernetes audit EventList) or `results` (a Splunk search's JSON results) array holds them, or pretty-printed
 *    concatenated objects. A byte-level scanner tracks strings and depth and cuts each element.
 *
 * Records larger than `maxRecordBytes` are not accumulated: the splitter skips to their end and
 * reports their byte range, so memory stays bounded on any input.
 */

import { splitBatch } from '../../core/normalize/batch.ts';

/**
 * The top-level fields of the CloudWatch Logs subscription payload whose `logEvents` a scanned record came from
 * (read as the scanner passes them: in CloudWatch's order they come before `logEvents`), ADR 0039.
 */
export interface ScanDoc {
  messageType: string;
  owner?: string;
  logGroup?: string;
  logStream?: string;
}

export type Piece =
  | { kind: 'record'; text: string; line: number; offset: number; doc?: ScanDoc }
  | { kind: 'oversized'; line: number; offset: number; bytes: number; head: string }
  | { kind: 'truncated'; line: number; offset: number; text: string };

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const HEAD_BYTES = 512;
/** recordDepth while inside a wrapper object whose record array has closed. */
const WRAPPER_DONE = -2;

/**
 * Keys whose array holds the records: CloudTrail S3 files, filter-log-events / GetLogEvents output, GetFindings
 * output, CloudTrail LookupEvents output, a Kubernetes audit EventList (what the audit webhook backend posts),
 * a Splunk search's JSON results (`output_mode=json`: each result's `_raw` is the record).
 */
const WRAPPER_KEYS = new Set(['Records', 'events', 'logEvents', 'Findings', 'findings', 'Events', 'items', 'results']);
/** A wrapper whose array opens on the first line: `{"Records": [`. */
const WRAPPER_OPENING = /^\s*\{\s*"(?:Records|events|logEvents|Findings|findings|Events|items|results)"\s*:\s*\[/;
/** Top-level string fields of a CloudWatch Logs subscription payload the scanner keeps for its records (ADR 0039). */
const DOC_FIELDS = ['messageType', 'owner', 'logGroup', 'logStream'] as const;
/** `2024-05-01T12:00:00.000Z ` — the prefix CloudWatch Logs puts on each line of an S3 export. */
const CW_EXPORT_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;

function isWs(b: number): boolean {
  return b === 0x20 || b === NL || b === CR || b === 0x09;
}

/** Line splitter for JSONL and CloudWatch exports. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;
  private line = 1;
  private lineStart = 0;
  private offset = 0;
  private stripPrefix: boolean | undefined;

  constructor(private readonly maxRecordBytes: number) {}

  push(chunk: Buffer, out: Piece[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) {
        this.accumulate(chunk.subarray(start));
        this.offset += chunk.length - start;
        return;
      }
      if (this.partBytes === 0 && !this.skipping && nl - start <= this.maxRecordBytes) {
        // The whole line is in this chunk (the usual case): decoded from it directly, no slice or parts list.
        this.offset += nl - start + 1;
        this.endLine(out, nl > start ? chunk.toString('utf8', start, nl) : undefined, nl - start);
      } else {
        this.accumulate(chunk.subarray(start, nl));
        this.offset += nl - start + 1;
        this.endLine(out);
      }
      start = nl + 1;
    }
  }

  end(out: Piece[]): void {
    if (this.partBytes > 0 || this.skipping) this.endLine(out);
  }

  private accumulate(b: Buffer): void {
    if (b.length === 0) return;
    if (this.skipping) {
      this.partBytes += b.length;
      return;
    }
    this.parts.push(b);
    this.partBytes += b.length;
    if (this.partBytes > this.maxRecordBytes) {
      // Keep only the head for the dead-letter preview; count the rest.
      const head = Buffer.concat(this.parts).subarray(0, HEAD_BYTES);
      this.parts = [head];
      this.skipping = true;
    }
  }

  /** Ends the current line: its bytes are `parts`, or `direct` (`directBytes` long) when push decoded it whole. */
  private endLine(out: Piece[], direct?: string, directBytes = 0): void {
    const line = this.line++;
    const offset = this.lineStart;
    this.lineStart = this.offset;
    const bytes = direct === undefined ? this.partBytes : directBytes;
    if (this.skipping) {
      out.push({ kind: 'oversized', line, offset, bytes, head: this.parts[0]!.toString('utf8') });
    } else if (bytes > 0) {
      let text = direct ?? (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)).toString('utf8');
      if (text.charCodeAt(text.length - 1) === CR) text = text.slice(0, -1);
      if (this.stripPrefix === undefined) this.stripPrefix = CW_EXPORT_PREFIX.test(text);
      if (this.stripPrefix) {
        const m = CW_EXPORT_PREFIX.exec(text);
        if (m) text = text.slice(m[0].length);
      }
      if (text.trim().length > 0) out.push({ kind: 'record', text, line, offset });
    }
    if (this.parts.length > 0) this.parts = [];
    this.partBytes = 0;
    this.skipping = false;
  }
}

/**
 * Scanner for JSON arrays, wrapper objects and concatenated pretty-printed values.
 * `depth` counts open brackets/braces. A record is an element of the top-level array, an element of
 * a wrapper array at depth 2, or a whole top-level value when the file is a sequence of values.
 */
export class ScanSplitter {
  private inString = false;
  private escape = false;
  private depth = 0;
  private recordDepth = -1; // depth at which record elements start; decided from the first bytes
  private topIsArray = false;
  private inRecord = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private skipping = false;
  private recordLine = 1;
  private recordOffset = 0;
  private line = 1;
  private offset = 0;
  // Wrapper detection: remember the last depth-1 key of a top-level object.
  private keyBuf: number[] | null = null;
  private lastKey = '';
  private expectingValueForKey = false;
  /** A top-level object being held until we know whether it is a wrapper. */
  private pendingTop = false;
  /** A string value of the held top-level object being read (a subscription payload's field, `DOC_FIELDS`). */
  private valBuf: number[] | null = null;
  /** Fields of the held top-level object read so far (`DOC_FIELDS`). */
  private fields: Partial<Record<(typeof DOC_FIELDS)[number], string>> = {};
  /** The subscription payload whose `logEvents` are being cut, if the wrapper is one. */
  private doc: ScanDoc | undefined;

  constructor(private readonly maxRecordBytes: number) {}

  push(chunk: Buffer, out: Piece[]): void {
    let segStart = this.inRecord ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === NL) this.line++;
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          // A payload field's escaped character (`\"`, `\\`, `\/`) as itself; `\uXXXX` is kept as its letters.
          if (this.valBuf && this.valBuf.length < 1024) this.valBuf.push(b);
        } else if (b === BACKSLASH) this.escape = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.keyBuf) {
            this.lastKey = Buffer.from(this.keyBuf).toString('utf8');
            this.keyBuf = null;
          } else if (this.valBuf) {
            this.fields[this.lastKey as (typeof DOC_FIELDS)[number]] = Buffer.from(this.valBuf).toString('utf8');
            this.valBuf = null;
          }
        } else if (this.keyBuf && this.keyBuf.length < 64) this.keyBuf.push(b);
        else if (this.valBuf && this.valBuf.length < 1024) this.valBuf.push(b);
        continue;
      }
      if (isWs(b)) continue;
      // Start of a record?
      if (!this.inRecord && this.depth === this.recordDepth && b !== COMMA && b !== RBRACKET && b !== RBRACE) {
        this.inRecord = true;
        this.recordLine = this.line;
        this.recordOffset = this.offset + i;
        segStart = i;
      }
      if (b === QUOTE) {
        this.inString = true;
        // A key of a top-level object (depth 1, not inside an array) while deciding wrapper-ness.
        if (this.depth === 1 && !this.topIsArray && !this.expectingValueForKey) this.keyBuf = [];
        // A subscription payload's fields, read on the way to its `logEvents` (ADR 0039).
        else if (this.depth === 1 && !this.topIsArray && this.pendingTop && (DOC_FIELDS as readonly string[]).includes(this.lastKey)) this.valBuf = [];
        continue;
      }
      if (b === COLON && this.depth === 1 && !this.topIsArray) {
        this.expectingValueForKey = true;
        continue;
      }
      if (b === COMMA && this.depth === 1 && !this.topIsArray) {
        this.expectingValueForKey = false;
        continue;
      }
      if (b === LBRACE || b === LBRACKET) {
        if (this.depth === 0) {
          this.topIsArray = b === LBRACKET;
          if (this.recordDepth === -1) {
            if (this.topIsArray) this.recordDepth = 1;
            else {
              // Unknown yet: treat the top-level object as a record candidate until a wrapper key shows.
              this.recordDepth = 0;
              this.pendingTop = true;
              this.fields = {};
              this.doc = undefined;
              this.inRecord = true;
              this.recordLine = this.line;
              this.recordOffset = this.offset + i;
              segStart = i;
            }
          }
        } else if (this.depth === 1 && !this.topIsArray && b === LBRACKET && this.expectingValueForKey && WRAPPER_KEYS.has(this.lastKey) && this.pendingTop) {
          // It is a wrapper: drop the held top-level bytes and cut elements of this array instead.
          const t = this.fields.messageType;
          this.doc = this.lastKey === 'logEvents' && t !== undefined ? { ...this.fields, messageType: t } : undefined;
          this.pendingTop = false;
          this.inRecord = false;
          this.parts = [];
          this.partBytes = 0;
          this.skipping = false;
          this.recordDepth = 2;
          segStart = -1;
        }
        this.depth++;
        continue;
      }
      if (b === RBRACE || b === RBRACKET) {
        this.depth--;
        // Back at a top-level object's keys, or at the end of a top-level value (whose last key's "value
        // expected" must not make the next value's first key unreadable: a wrapper after a plain record).
        if (this.depth <= 1 && !this.topIsArray) this.expectingValueForKey = false;
        if (this.inRecord && this.depth === this.recordDepth) {
          this.appendSeg(chunk, segStart, i + 1);
          this.finishRecord(out);
          segStart = -1;
        }
        // The wrapper's array closed: later keys of the wrapper (nextToken, searchedLogStreams) are not records.
        if (this.depth === 1 && this.recordDepth === 2 && b === RBRACKET) this.recordDepth = WRAPPER_DONE;
        if (this.depth === 0 && (this.recordDepth === 2 || this.recordDepth === WRAPPER_DONE)) {
          // End of a wrapper object: the next top-level value decides its own mode again.
          this.recordDepth = -1;
          this.doc = undefined;
        }
        if (this.depth === 0 && this.recordDepth === 1 && this.topIsArray) this.recordDepth = -1;
        continue;
      }
      // Scalars at record depth (e.g. numbers in an array) are cut at the next comma/bracket; rare, and
      // they will fail normalization as non-objects, which is the right outcome.
      if (this.inRecord && this.depth === this.recordDepth && b === COMMA) {
        this.appendSeg(chunk, segStart, i);
        this.finishRecord(out);
        segStart = -1;
      }
    }
    if (this.inRecord && segStart !== -1) this.appendSeg(chunk, segStart, chunk.length);
    this.offset += chunk.length;
  }

  end(out: Piece[]): void {
    if (this.inRecord) {
      const text = this.skipping ? this.parts[0]?.toString('utf8') ?? '' : Buffer.concat(this.parts).toString('utf8');
      out.push({ kind: 'truncated', line: this.recordLine, offset: this.recordOffset, text });
      this.inRecord = false;
    }
  }

  private appendSeg(chunk: Buffer, from: number, to: number): void {
    if (from < 0 || to <= from) return;
    const len = to - from;
    if (this.skipping) {
      this.partBytes += len;
      return;
    }
    // Copy: the chunk buffer is reused by the stream after we return.
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.partBytes += len;
    if (this.partBytes > this.maxRecordBytes) {
      this.parts = [Buffer.concat(this.parts).subarray(0, HEAD_BYTES)];
      this.skipping = true;
    }
  }

  private finishRecord(out: Piece[]): void {
    if (this.skipping) {
      out.push({ kind: 'oversized', line: this.recordLine, offset: this.recordOffset, bytes: this.partBytes, head: this.parts[0]!.toString('utf8') });
    } else {
      const text = (this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)).toString('utf8');
      out.push(this.doc !== undefined && this.recordDepth === 2 ? { kind: 'record', text, line: this.recordLine, offset: this.recordOffset, doc: this.doc } : { kind: 'record', text, line: this.recordLine, offset: this.recordOffset });
    }
    if (this.pendingTop) {
      this.pendingTop = false;
      this.recordDepth = -1;
    }
    this.inRecord = false;
    this.parts = [];
    this.partBytes = 0;
    this.skipping = false;
  }
}

export type SplitMode = 'lines' | 'scan';

/**
 * Chooses the mode from the first line of a file. JSONL's first line is a complete object without a
 * wrapper key; a CloudWatch export starts with an ISO timestamp; everything else that starts with
 * `[` or `{` (a wrapper, an array, pretty-printed JSON) is scanned.
 */
export function sniff(head: string): SplitMode {
  const t = head.trimStart();
  const nl = t.indexOf('\n');
  if (t.startsWith('[')) {
    // A whole array on the first line followed by more lines is JSONL with an array line in it.
    return nl !== -1 && tryParse(t.slice(0, nl)) !== undefined && t.slice(nl + 1).trim().length > 0 ? 'lines' : 'scan';
  }
  if (!t.startsWith('{')) return 'lines';
  if (nl === -1) {
    // One line (or more than the head holds): a wrapper or a lone value; the scanner handles both,
    // and cuts a oversized single JSONL line just the same.
    return 'scan';
  }
  const first = t.slice(0, nl);
  // A file that starts with a wrapper document (one document, or JSONL of documents: a CloudTrail file or an
  // audit EventList a line) is scanned: the scanner cuts every record of every document whatever a document's
  // size, where a line over maxRecordBytes would be one oversized dead letter (review of ADR 0038). A batch
  // line after plain JSONL lines is cut by the batch check instead.
  if (WRAPPER_OPENING.test(first) || splitBatch(first) !== undefined) return 'scan';
  const parsed = tryParse(first);
  if (parsed !== undefined) {
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const k of WRAPPER_KEYS) if (Array.isArray((parsed as Record<string, unknown>)[k])) return 'scan';
    }
    return 'lines';
  }
  // The first line is not a whole value: pretty-printed JSON, unless the next line is a whole object
  // (then it is JSONL whose first line is broken, and a line splitter loses only that line).
  const rest = t.slice(nl + 1);
  const nl2 = rest.indexOf('\n');
  const second = (nl2 === -1 ? rest : rest.slice(0, nl2)).trim();
  if (second.startsWith('{') && tryParse(second) !== undefined) return 'lines';
  return 'scan';
}

/** `s` parsed, or undefined when it is not JSON. */
export function tryParse(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}
