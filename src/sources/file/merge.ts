/**
 * The records of several input files in event-time order across files (review newuser2 H1). Read one after
 * another, one folder per plane (`audit/` with an hour of EKS audit, `cloudtrail/` with the same hour's S3
 * objects) hands the second plane's records on an hour behind the watermark: late, and the cross-plane
 * detections lose them. The Kafka path holds the watermark at the slowest partition (ADR 0009); here each file
 * is a partition: a k-way merge by event time of the files' records, each file read as `readFileBatches`
 * reads it alone (its own disorder, within a JSONL file, is what the allowed lateness is for).
 *
 * Bounded memory and open files: each file's first records are looked at once (`firstTimeMs`) and the file is
 * closed; it is opened again when the merge reaches that time and closed at its end, so the files open at once
 * are those whose time spans overlap (planes x regions x accounts), each holding one read chunk (a CloudTrail
 * document's sorted run, `SORT_HOLD`, for that kind of file), whatever the number of files.
 */
import type { EventTimeOf, FileItem, FileReadOptions, InputFile } from './source.ts';
import { normalizeLine } from '../../core/normalize/normalize.ts';

/** Files' records read alone (`readFileBatches`); passed in, as the reader of one file lives beside the reader of many. */
export type ReadFile = (path: string, opts: FileReadOptions) => AsyncGenerator<FileItem[]>;

/** The look at a file's beginning reads in chunks of this size, and at most this many of them. */
const PROBE_CHUNK_BYTES = 8 * 1024;
const PROBE_CHUNKS = 16;
/** Merged records are handed on in arrays of about this many (the consumer's per-chunk hop). */
const OUT_BATCH = 2048;

/** The read options for one file: its input path's cluster and account over the options' own. */
export function fileReadOptions(opts: FileReadOptions, f: { cluster?: string; account?: string }): FileReadOptions {
  if (f.cluster === undefined && f.account === undefined) return opts;
  return { ...opts, ...(f.cluster !== undefined ? { cluster: f.cluster } : {}), ...(f.account !== undefined ? { account: f.account } : {}) };
}

/** `@timestamp` as normalization gives it; NaN for what it rejects or a record with no time of its own. */
export const normalizedTimeMs: EventTimeOf = (item) => {
  if (item.kind !== 'record') return NaN;
  const r = normalizeLine(item.text, item.meta);
  return r.ok && r.value.seam.time_missing !== true ? Date.parse(r.value['@timestamp']) : NaN;
};

/**
 * The event time of the first timed record a file hands on, or NaN when its first chunks hold none: what the merge
 * will compare first when it opens the file. A JSONL file: its first timed line (the probe reads 8 KiB chunks and tells
 * the file's shape from the first). A CloudTrail document, which the reader hands on sorted: the earliest of its first
 * chunk's records (the probe hands each chunk on sorted); the reader sorts runs of `SORT_HOLD` records, so a larger
 * document's first run may start earlier, and the merge then takes it when it opens the file (that file's head is
 * compared with the others' again; only what the merge handed on in between can come late). Nothing is parsed
 * whole to be timed; a file whose first 128 KiB hold no timed record goes first (as if it started at -Infinity).
 */
async function firstTimeMs(read: ReadFile, path: string, opts: FileReadOptions, timeOf: EventTimeOf): Promise<number> {
  const probe: FileReadOptions = { maxRecordBytes: opts.maxRecordBytes, readChunkBytes: PROBE_CHUNK_BYTES, probe: true };
  if (opts.cluster !== undefined) probe.cluster = opts.cluster;
  if (opts.account !== undefined) probe.account = opts.account;
  let chunks = 0;
  // Leaving the loop early closes the file (the generator's `return`).
  for await (const batch of read(path, probe)) {
    for (const item of batch) {
      const t = timeOf(item);
      if (!Number.isNaN(t)) return t;
    }
    if (++chunks >= PROBE_CHUNKS) return NaN;
  }
  return NaN;
}

interface Cursor {
  index: number;
  path: string;
  bytes: number;
  /** The read options of this file (its input path's cluster and account). */
  opts: FileReadOptions;
  /** Merge key: the event time of the next record (−Infinity: one with no time, or a buffer to refill). */
  key: number;
  gen?: AsyncGenerator<FileItem[]>;
  buf: FileItem[];
  times: number[];
  pos: number;
  /** Bytes of the file consumed so far (progress). */
  read: number;
}

/** Smaller key first; between equal keys the file named first (the merge is the same on every run). */
const before = (a: Cursor, b: Cursor): boolean => a.key < b.key || (a.key === b.key && a.index < b.index);

class CursorHeap {
  private readonly a: Cursor[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Cursor | undefined {
    return this.a[0];
  }
  push(c: Cursor): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Cursor | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The records of `files` merged by event time: the next record handed on is the earliest of each file's next
 * record, so records stay in file order within a file. A record with no time (an error item, a record that is
 * dead-lettered or flagged `time_missing` downstream) goes on as soon as its file's turn comes: it never holds
 * the merge. Equal times: the file named first. `onProgress` gets the bytes consumed over all files.
 */
export async function* mergeByEventTime(files: InputFile[], opts: FileReadOptions, read: ReadFile): AsyncGenerator<FileItem[]> {
  const timeOf = opts.eventTimeMs ?? normalizedTimeMs;
  const heap = new CursorHeap();
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const fileOpts = fileReadOptions(opts, f);
    const t = await firstTimeMs(read, f.path, fileOpts, timeOf);
    heap.push({ index: i, path: f.path, bytes: f.bytes, opts: fileOpts, key: Number.isNaN(t) ? -Infinity : t, buf: [], times: [], pos: 0, read: 0 });
  }
  let total = 0;
  const progress = (c: Cursor, n: number): void => {
    total += n - c.read;
    c.read = n;
    opts.onProgress?.(total);
  };
  let out: FileItem[] = [];
  try {
    for (;;) {
      const c = heap.pop();
      if (c === undefined) break;
      if (c.pos === c.buf.length) {
        // Opened when the merge reaches its first record's time; refilled when its chunk is used up.
        c.gen ??= read(c.path, { ...c.opts, onProgress: (n) => progress(c, n) });
        const next = await c.gen.next();
        if (next.done === true) {
          progress(c, Math.max(c.read, c.bytes));
          c.gen = undefined;
          continue;
        }
        c.buf = next.value;
        c.times = c.buf.map(timeOf);
        c.pos = 0;
      }
      // Hand on this file's records while they sort before every other file's next one.
      const rival = heap.peek();
      while (c.pos < c.buf.length) {
        const t = c.times[c.pos]!;
        const key = Number.isNaN(t) ? -Infinity : t;
        if (rival !== undefined && (key > rival.key || (key === rival.key && c.index > rival.index))) {
          c.key = key;
          break;
        }
        out.push(c.buf[c.pos++]!);
      }
      // A used-up chunk: refilled on its next turn, which comes at once (its next record's time is not known yet).
      if (c.pos === c.buf.length) {
        c.buf = [];
        c.times = [];
        c.pos = 0;
        c.key = -Infinity;
      }
      heap.push(c);
      if (out.length >= OUT_BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    // Stopped early (the consumer returned): close what is open.
    for (let c = heap.pop(); c !== undefined; c = heap.pop()) await c.gen?.return(undefined);
  }
}
