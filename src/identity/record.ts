/**
 * The identity graph as a changelog, for the `seam.identity` topic (ADR 0008): one record per version of an
 * edge, keyed by the version's stable id, re-sent whenever the version changes (it closes), so a compacted
 * topic keeps the latest state of every version. Applying the records again rebuilds the versions, however
 * old, without the events that made them.
 */
import { createHash } from 'node:crypto';
import type { EdgeStore } from './store.ts';
import { timeMs } from './store.ts';
import type { Edge, IdentityDoc, IdentityFact } from './types.ts';

/** The signal whose processing last changed the version: where it sits on `seam.signals`. */
export interface SignalRef {
  offset: string;
  /** The signal's Kafka (produce) timestamp. */
  ms: number;
}

export interface IdentityRecord {
  v: 1;
  /** The fact that opened the version (the same object whatever happened to the version later). */
  fact: IdentityFact;
  /** The version as the index shows it: `valid_to` once it is closed. */
  doc: IdentityDoc;
  /** Provenance of the retraction or superseding fact that closed the version, if one did. */
  closed_by?: string;
  signal?: SignalRef;
}

/** The version id `IdentityGraph.toIdentityDocs` uses: the same key and start give the same id across rebuilds. */
export function versionId(f: Pick<IdentityFact, 'key' | 'valid_from'>): string {
  return createHash('sha256')
    .update(f.key + '\n' + f.valid_from)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The index document of one stored version. Field by field, on purpose: attributes stay out of the index
 * (they are the graph's working data — rules, groups, exec commands — and only ever hold what the
 * redacted events held).
 */
export function identityDoc(e: Edge): IdentityDoc {
  const f = e.fact;
  const doc: IdentityDoc = { id: versionId(f), kind: f.kind, from: f.from, to: f.to, valid_from: f.valid_from, provenance: f.provenance };
  if (f.cluster !== undefined) doc.cluster = f.cluster;
  if (f.account !== undefined) doc.account = f.account;
  if (Number.isFinite(e.toMs)) doc.valid_to = new Date(e.toMs).toISOString();
  return doc;
}

export function identityRecord(e: Edge, signal?: SignalRef): IdentityRecord {
  const r: IdentityRecord = { v: 1, fact: e.fact, doc: identityDoc(e) };
  if (e.closedBy !== undefined && Number.isFinite(e.toMs)) r.closed_by = e.closedBy;
  if (signal !== undefined) r.signal = signal;
  return r;
}

/**
 * The stored versions an applied fact opened or closed: an assert opens its own version and may close the
 * one before it; a retraction closes the version it ends. Versions already evicted or pruned are not found
 * (nothing is left to publish about them).
 */
export function versionsChangedBy(store: EdgeStore, f: IdentityFact): Edge[] {
  const list = store.history(f.key);
  const at = timeMs(f.valid_from, 0);
  if (f.op === 'retract') {
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.fromMs <= at && e.toMs === at) return [e];
    }
    return [];
  }
  // Matched as the store deduplicates: same start, same provenance.
  const i = list.findIndex((e) => e.fromMs === at && e.fact.provenance === f.provenance);
  if (i < 0) return [];
  const prev = list[i - 1];
  return prev !== undefined && prev.toMs === at ? [prev, list[i]!] : [list[i]!];
}

/**
 * Puts one record's version back: its opening fact, then, when something explicitly closed it, the closing.
 * A version that the next version's start closes needs no retraction (inserting the next one closes it,
 * whichever comes first), and a retraction must not be applied when such a next version is already there:
 * the store would close that one instead. Re-applying a record changes nothing. Returns whether it did.
 */
export function restoreRecord(apply: (f: IdentityFact) => boolean, store: EdgeStore, r: IdentityRecord): boolean {
  let changed = apply(r.fact);
  const to = r.doc.valid_to;
  if (r.closed_by !== undefined && to !== undefined && to !== r.fact.valid_to) {
    const toMs = timeMs(to, NaN);
    if (Number.isFinite(toMs) && !store.history(r.fact.key).some((e) => e.fromMs === toMs)) {
      const x: IdentityFact = { kind: r.fact.kind, key: r.fact.key, op: 'retract', from: r.fact.from, to: r.fact.to, attributes: {}, provenance: r.closed_by, valid_from: to };
      if (r.fact.cluster !== undefined) x.cluster = r.fact.cluster;
      if (r.fact.account !== undefined) x.account = r.fact.account;
      if (apply(x)) changed = true;
    }
  }
  return changed;
}

/** A record from its JSON bytes, or undefined when it is not one (it then goes to the dead letters). */
export function decodeIdentityRecord(value: Buffer): IdentityRecord | undefined {
  let o: unknown;
  try {
    o = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const r = o as Partial<IdentityRecord> | null;
  if (r === null || typeof r !== 'object' || r.v !== 1) return undefined;
  const f = r.fact;
  const d = r.doc;
  if (f === undefined || d === undefined || typeof f.key !== 'string' || typeof f.valid_from !== 'string' || typeof f.kind !== 'string' || typeof d.id !== 'string' || d.id === '') return undefined;
  return r as IdentityRecord;
}
