import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { writeFileAtomically } from '../core/atomic-file.ts';
import { SeamError } from '../core/errors.ts';
import type { BusMessage } from '../bus/types.ts';
import type { IdentityGraph } from '../identity/graph.ts';
import { expiryNowMs } from './identity-topic.ts';
import { decodeIdentityRecord, restoreRecord, versionId, type IdentityRecord } from '../identity/record.ts';

/**
 * Embedded mode's `seam.identity` between runs (ADR 0044): the topic's records, compacted by key as Kafka
 * compacts the topic, in a JSONL file under the state directory. `seam run --resume` puts them back on the
 * MemoryBus's identity topic before the roles start, so the correlate role restores them exactly as it does
 * on Kafka (`restoreIdentity`), and writes the file again when the run ends.
 *
 * The file: a header line `{"seam":"identity-state","v":2,"records":N,"native":M,"saved_at":…}`, then N records
 * (`IdentityRecord`, without `signal`: the offsets of an earlier run's `seam.signals` mean nothing to the next),
 * then M lines `{"seam":"native-state","detection":ID,"entry":…}`: native detection state that waits longer
 * than runs may be apart (the grants waiting for their first use, bounded by the first-use window and
 * maxStateEntries). A v1 file (no native lines) is still read.
 */
export const IDENTITY_STATE_FILE = 'identity-state.jsonl';

const HEADER = 'identity-state';

const NATIVE = 'native-state';

interface Header {
  seam: typeof HEADER;
  v: 1 | 2;
  records: number;
  /** v2: native state lines after the records. */
  native?: number;
  saved_at: string;
}

/** What a state file holds: identity records, and native detection state by detection id. */
export interface SavedState {
  records: IdentityRecord[];
  native: Record<string, unknown[]>;
}

const bad = (path: string, why: string, cause?: unknown): SeamError =>
  new SeamError('SEAM_ERR_STATE_LOAD', `identity state file ${path} ${why}; fix or move it away to start the baselines over (--resume then learns again, for baselineLearningMs of event time)`, {
    ...(cause === undefined ? {} : { cause }),
    details: { path },
  });

/**
 * The records of a state file, or undefined when there is none yet (the first `--resume` run). A file that
 * cannot be read, or is not whole (a header that does not say so, a line that is not a record, fewer or more
 * records than the header counts), is an error naming the file: a silent fresh start would restart every
 * learning period and hide it.
 */
export async function loadIdentityState(path: string): Promise<IdentityRecord[] | undefined> {
  return (await loadState(path))?.records;
}

/** The whole state file (identity records and native detection state), or undefined when there is none yet; errors as `loadIdentityState`. */
export async function loadState(path: string): Promise<SavedState | undefined> {
  const records: IdentityRecord[] = [];
  const native: Record<string, unknown[]> = {};
  let natives = 0;
  let header: Header | undefined;
  let line = 0;
  try {
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      if (line === 1) {
        let h: Partial<Header> | null = null;
        try {
          h = JSON.parse(text) as Partial<Header> | null;
        } catch {
          // said below
        }
        if (h?.seam !== HEADER || (h.v !== 1 && h.v !== 2) || typeof h.records !== 'number') throw bad(path, 'does not start with an identity state header (is it a file Seam wrote?)');
        header = h as Header;
        continue;
      }
      if (text.trim() === '') continue;
      if (header!.v === 2 && text.startsWith('{"seam":"' + NATIVE + '"')) {
        let n: { detection?: unknown; entry?: unknown } | undefined;
        try {
          n = JSON.parse(text) as { detection?: unknown; entry?: unknown };
        } catch {
          // said below
        }
        if (typeof n?.detection !== 'string' || n.entry === undefined) throw bad(path, `line ${line} is not a native state entry`);
        (native[n.detection] ??= []).push(n.entry);
        natives++;
        continue;
      }
      const r = decodeIdentityRecord(Buffer.from(text, 'utf8'));
      if (r === undefined) throw bad(path, `line ${line} is not an identity record`);
      records.push(r);
    }
  } catch (e) {
    if (e instanceof SeamError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw bad(path, `cannot be read (${(e as Error).message})`, e);
  }
  if (header === undefined) throw bad(path, 'is empty');
  if (records.length !== header.records) throw bad(path, `holds ${records.length} records where its header counts ${header.records} (cut short?)`);
  if (natives !== (header.native ?? 0)) throw bad(path, `holds ${natives} native state entries where its header counts ${header.native ?? 0} (cut short?)`);
  return { records, native };
}

/** The records as messages on the identity topic, partition 0 (embedded mode's bus has one partition per topic). */
export function identityStateMessages(topic: string, records: readonly IdentityRecord[]): BusMessage[] {
  return records.map((r) => ({ topic, key: r.doc.id, partition: 0, value: Buffer.from(JSON.stringify(r)) }));
}

export interface CompactedState {
  records: IdentityRecord[];
  /** Records replaced by a later record of the same version id (Kafka's compaction). */
  superseded: number;
  /** Versions a restore would drop at once: closed longer than the graph's retention before the newest fact, or past its versions per key. */
  expired: number;
  /** Messages that were not identity records (the index role dead-letters them; not kept). */
  unreadable: number;
}

/**
 * What the identity topic says at the end of a run, as the next run needs it: the latest record of each
 * version id, in the order they were last written (Kafka's compaction), without `signal`; then only the
 * versions a restore into `graph` (a fresh one, with the run's identity options) keeps once it prunes as
 * `restoreIdentity` does. Versions that closed long ago (expired credentials, forgotten networks) would only
 * be read and dropped again by every later run, so the file stays the size of what is alive, not of history
 * (`identity.jsonl` keeps the history). "Now" for expiry is the newest fact's event time, capped at `wallClockMs` plus
 * FUTURE_TOLERANCE_MS (`expiryNowMs`), so a future-dated outlier cannot expire everything.
 */
export function compactIdentityState(values: Iterable<Buffer>, graph: IdentityGraph, wallClockMs: number = Date.now()): CompactedState {
  const latest = new Map<string, IdentityRecord>();
  let superseded = 0;
  let unreadable = 0;
  for (const v of values) {
    const r = decodeIdentityRecord(v);
    if (r === undefined) {
      unreadable++;
      continue;
    }
    const { signal: _signal, ...rest } = r;
    if (latest.delete(r.doc.id)) superseded++;
    latest.set(r.doc.id, rest);
  }
  let newestMs = -Infinity;
  for (const r of latest.values()) {
    restoreRecord((f) => graph.applyFact(f), graph.store, r);
    const t = Date.parse(r.fact.valid_from);
    if (t > newestMs) newestMs = t;
  }
  // Expiry is measured from the newest fact's event time, but never from past the wall clock plus a day: one record
  // from a skewed clock (dated weeks ahead) would otherwise expire every baseline for good.
  graph.prune(expiryNowMs(newestMs, wallClockMs));
  const alive = new Set<string>();
  for (const e of graph.store.all()) alive.add(versionId(e.fact));
  const records = [...latest.values()].filter((r) => alive.has(r.doc.id));
  return { records, superseded, expired: latest.size - records.length, unreadable };
}

/** Replaces the state file atomically (a crash leaves the previous file or this one). */
export async function saveIdentityState(path: string, records: readonly IdentityRecord[], native: Readonly<Record<string, readonly unknown[]>> = {}): Promise<void> {
  const count = Object.values(native).reduce((n, e) => n + e.length, 0);
  const header: Header = { seam: HEADER, v: 2, records: records.length, native: count, saved_at: new Date().toISOString() };
  function* lines(): Iterable<string> {
    yield JSON.stringify(header) + '\n';
    for (const r of records) yield JSON.stringify(r) + '\n';
    for (const [detection, entries] of Object.entries(native)) for (const entry of entries) yield JSON.stringify({ seam: NATIVE, detection, entry }) + '\n';
  }
  try {
    await writeFileAtomically(path, lines());
  } catch (e) {
    throw new SeamError('SEAM_ERR_STATE_SAVE', `cannot save identity state file ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
}
