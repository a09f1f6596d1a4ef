/**
 * Versioned edge store: every key keeps a short, time-ordered history of versions with validity intervals,
 * indexed by source node, target node, set (`group`) and kind. Queries ask "which version was valid at t?",
 * so a late or replayed event resolves against the graph as it was at its own time.
 */
import { isoMs } from '../core/time.ts';
import type { Edge, FactKind, IdentityFact } from './types.ts';

export interface StoreLimits {
  /** Versions kept per key; the oldest go first. */
  maxVersionsPerKey: number;
  /** Closed versions are dropped this long after they closed (late events can still resolve against them). */
  retentionMs: number;
}

/**
 * A per-node index: node → the keys at it. Most nodes have one key (a pod's link, an exec, a session), so
 * a single key is held as itself and a Set is made only for the second: no Set per new node.
 */
type Index = Map<string, string | Set<string>>;

/** Adds to an index; true when `k` had no entry before. */
function addTo(index: Index, k: string, v: string): boolean {
  const s = index.get(k);
  if (s === undefined) {
    index.set(k, v);
    return true;
  }
  if (typeof s === 'string') {
    if (s !== v) index.set(k, new Set([s, v]));
  } else s.add(v);
  return false;
}

/** Removes from an index; true when `k` has no entry left. */
function removeFrom(index: Index, k: string, v: string): boolean {
  const s = index.get(k);
  if (s === undefined) return false;
  if (typeof s === 'string') {
    if (s !== v) return false;
  } else {
    s.delete(v);
    if (s.size > 0) return false;
  }
  index.delete(k);
  return true;
}

/** Adds to a set-valued index (few entries, large sets); true when `k` had no entry before. */
function addToSet(index: Map<string, Set<string>>, k: string, v: string): boolean {
  let s = index.get(k);
  const created = s === undefined;
  if (s === undefined) index.set(k, (s = new Set()));
  s.add(v);
  return created;
}

/** Removes from a set-valued index; true when `k` has no entry left. */
function removeFromSet(index: Map<string, Set<string>>, k: string, v: string): boolean {
  const s = index.get(k);
  if (s === undefined) return false;
  s.delete(v);
  if (s.size > 0) return false;
  index.delete(k);
  return true;
}

export function timeMs(iso: string | undefined, fallback: number): number {
  if (iso === undefined) return fallback;
  const t = isoMs(iso);
  return Number.isNaN(t) ? fallback : t;
}

export class EdgeStore {
  private readonly versions = new Map<string, Edge[]>();
  private readonly byFrom: Index = new Map();
  private readonly byTo: Index = new Map();
  private readonly byGroup: Index = new Map();
  private readonly byKind = new Map<string, Set<string>>();
  private nVersions = 0;
  evicted = 0;
  /**
   * Change stamps, for callers that memoize an answer derived from the store (the graph's pods per service
   * account): `to` node → stamp of the last change to any version pointing at it (added, closed, dropped, or
   * no longer its key's latest); kind → stamp of the last time a node gained its first, or lost its last, key
   * of that kind starting at it. Stamps come from one counter, so an unchanged stamp means nothing changed.
   */
  private clock = 0;
  private readonly toStamps = new Map<string, number>();
  private readonly fromSetStamps = new Map<string, number>();
  /**
   * `kind\0from` → stamp of the last change to a version of that kind starting at that node (added, closed,
   * retracted, evicted or dropped): while it holds, `outgoing(from, kind, t)` answers the same for the same `t`.
   */
  private readonly fromStamps = new Map<string, number>();
  /** kind → the nodes at least one key of that kind starts at (the kind-prefixed `byFrom` entries, without building the prefix). */
  private readonly fromNodes = new Map<string, Set<string>>();
  /**
   * Told of every change `stampTo` counts, with the key whose versions changed (`dropped`: prune removed
   * versions, and may have removed the key from the index), so a caller can update what it derived instead of
   * rebuilding it (the graph's pods per service account).
   */
  onTouch: ((to: string, key: string, dropped: boolean) => void) | undefined;

  constructor(private readonly limits: StoreLimits) {}

  get keyCount(): number {
    return this.versions.size;
  }

  get versionCount(): number {
    return this.nVersions;
  }

  /** Applies one fact. Idempotent: the same fact (key, op, valid_from, provenance) twice changes nothing. */
  apply(fact: IdentityFact): boolean {
    const at = timeMs(fact.valid_from, 0);
    let list = this.versions.get(fact.key);
    if (fact.op === 'retract') {
      if (list === undefined) return false;
      // Close the version valid at `at` (or the latest one that started before it).
      for (let i = list.length - 1; i >= 0; i--) {
        const e = list[i]!;
        if (e.fromMs <= at) {
          if (e.toMs <= at) return false;
          e.toMs = at;
          e.closedBy = fact.provenance;
          this.touch(e.fact.to, fact.key);
          this.touchFrom(e);
          return true;
        }
      }
      return false;
    }
    const until = fact.valid_to === undefined ? Infinity : timeMs(fact.valid_to, Infinity);
    if (list === undefined) {
      list = [];
      this.versions.set(fact.key, list);
      addToSet(this.byKind, fact.kind, fact.key);
    }
    for (const e of list) if (e.fromMs === at && e.fact.provenance === fact.provenance) return false;
    const edge: Edge = { fact, fromMs: at, toMs: until };
    const latest = list[list.length - 1];
    if (latest !== undefined) this.touch(latest.fact.to, fact.key);
    this.touch(fact.to, fact.key);
    // Insert in time order; the previous version closes where this one starts, this one where the next starts.
    let i = list.length;
    while (i > 0 && list[i - 1]!.fromMs > at) i--;
    const prev = list[i - 1];
    if (prev !== undefined && prev.toMs > at) {
      prev.toMs = at;
      prev.closedBy = fact.provenance;
      this.touch(prev.fact.to, fact.key);
      this.touchFrom(prev);
    }
    const next = list[i];
    if (next !== undefined && edge.toMs > next.fromMs) edge.toMs = next.fromMs;
    list.splice(i, 0, edge);
    this.touchFrom(edge);
    this.nVersions++;
    if (addTo(this.byFrom, fact.kind + '\0' + fact.from, fact.key)) {
      this.fromSetStamps.set(fact.kind, ++this.clock);
      addToSet(this.fromNodes, fact.kind, fact.from);
    }
    addTo(this.byTo, fact.kind + '\0' + fact.to, fact.key);
    addTo(this.byFrom, fact.from, fact.key);
    addTo(this.byTo, fact.to, fact.key);
    if (fact.group !== undefined) addTo(this.byGroup, fact.group, fact.key);
    while (list.length > this.limits.maxVersionsPerKey) {
      const gone = list.shift()!;
      this.touch(gone.fact.to, fact.key);
      this.touchFrom(gone);
      this.nVersions--;
      this.evicted++;
    }
    return true;
  }

  private touch(to: string, key: string, dropped = false): void {
    this.toStamps.set(to, ++this.clock);
    this.onTouch?.(to, key, dropped);
  }

  private touchFrom(e: Edge): void {
    this.fromStamps.set(e.fact.kind + '\0' + e.fact.from, ++this.clock);
  }

  /**
   * Stamp of the last change to the versions of `kind` starting at `from` (0: none ever changed). Unchanged, and
   * for a time no version of those keys starts or ends at (see `outgoingBounds`), `outgoing(from, kind, t)` is too.
   */
  stampFrom(from: string, kind: FactKind): number {
    return this.fromStamps.get(kind + '\0' + from) ?? 0;
  }

  /**
   * The first time after `t` at which a version of a key in `from`'s index for `kind` starts or ends (Infinity: none
   * does): `outgoing(from, kind, t')` gives the same edges for every `t'` from `t` up to, not including, it.
   */
  outgoingBoundAfter(from: string, kind: FactKind, t: number): number {
    const keys = this.byFrom.get(kind + '\0' + from);
    if (keys === undefined) return Infinity;
    let until = Infinity;
    const scan = (k: string): void => {
      const list = this.versions.get(k);
      if (list === undefined) return;
      for (const e of list) {
        if (e.fromMs > t && e.fromMs < until) until = e.fromMs;
        if (e.toMs > t && e.toMs < until) until = e.toMs;
      }
    };
    if (typeof keys === 'string') scan(keys);
    else for (const k of keys) scan(k);
    return until;
  }

  /** Stamp of the last change to the versions pointing at `to` (0: no key points at it, none ever did or all were dropped). */
  stampTo(to: string): number {
    return this.toStamps.get(to) ?? 0;
  }

  /** Stamp of the last change to the set of nodes that keys of `kind` start at. */
  stampFromSet(kind: FactKind): number {
    return this.fromSetStamps.get(kind) ?? 0;
  }

  /** The version of `key` valid at `t` (undefined t = the open version now). */
  at(key: string, t?: number): Edge | undefined {
    const list = this.versions.get(key);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (t === undefined ? e.toMs === Infinity : e.fromMs <= t && t < e.toMs) return e;
    }
    return undefined;
  }

  /** The latest version of `key`, open or not. */
  latest(key: string): Edge | undefined {
    const list = this.versions.get(key);
    return list === undefined ? undefined : list[list.length - 1];
  }

  history(key: string): readonly Edge[] {
    return this.versions.get(key) ?? [];
  }

  private select(keys: string | Set<string> | undefined, kind: FactKind | undefined, t: number | undefined, test: (e: Edge) => boolean): Edge[] {
    if (keys === undefined) return [];
    const out: Edge[] = [];
    if (typeof keys === 'string') {
      const e = this.at(keys, t);
      if (e !== undefined && (kind === undefined || e.fact.kind === kind) && test(e)) out.push(e);
      return out;
    }
    for (const k of keys) {
      const e = this.at(k, t);
      if (e !== undefined && (kind === undefined || e.fact.kind === kind) && test(e)) out.push(e);
    }
    return out;
  }

  outgoing(from: string, kind?: FactKind, t?: number): Edge[] {
    return this.select(this.byFrom.get(kind === undefined ? from : kind + '\0' + from), kind, t, (e) => e.fact.from === from);
  }

  incoming(to: string, kind?: FactKind, t?: number): Edge[] {
    return this.select(this.byTo.get(kind === undefined ? to : kind + '\0' + to), kind, t, (e) => e.fact.to === to);
  }

  inGroup(group: string, t?: number): Edge[] {
    return this.select(this.byGroup.get(group), undefined, t, (e) => e.fact.group === group);
  }

  /** Does any key of this kind start at `from` (valid now or not)? Nothing built. */
  hasOutgoing(from: string, kind: FactKind): boolean {
    return this.fromNodes.get(kind)?.has(from) ?? false;
  }

  /** The keys of this kind pointing at `to` (for callers that walk them without building edge lists). */
  incomingKeys(to: string, kind: FactKind): ReadonlySet<string> | undefined {
    const keys = this.byTo.get(kind + '\0' + to);
    return typeof keys === 'string' ? new Set([keys]) : keys;
  }

  /** Latest version of every key in `to`'s index whatever its time (for immutable links such as pod → service account). */
  incomingLatest(to: string, kind: FactKind): Edge[] {
    const keys = this.byTo.get(kind + '\0' + to);
    if (keys === undefined) return [];
    const out: Edge[] = [];
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      const e = this.latest(k);
      if (e !== undefined && e.fact.kind === kind && e.fact.to === to) out.push(e);
    }
    return out;
  }

  /** Has the set ever had a member (open or closed)? */
  groupSeen(group: string): boolean {
    const g = this.byGroup.get(group);
    return g !== undefined && (typeof g === 'string' || g.size > 0);
  }

  ofKind(kind: FactKind, t?: number): Edge[] {
    return this.select(this.byKind.get(kind), kind, t, () => true);
  }

  /** Every stored version (for snapshots and the `seam-identity` index). */
  *all(): IterableIterator<Edge> {
    for (const list of this.versions.values()) yield* list;
  }

  /** Drops versions that closed more than `retentionMs` before `nowMs`. Returns how many were dropped. */
  prune(nowMs: number): number {
    const cutoff = nowMs - this.limits.retentionMs;
    let dropped = 0;
    for (const [key, list] of this.versions) {
      let stale = false;
      for (const e of list) if (e.toMs < cutoff) stale = true;
      if (!stale) continue;
      for (const e of list) {
        this.touch(e.fact.to, key, true);
        this.touchFrom(e);
      }
      let keep = 0;
      for (const e of list) if (e.toMs >= cutoff) list[keep++] = e;
      const gone = list.splice(keep);
      dropped += gone.length;
      if (list.length === 0) this.forget(key, gone);
    }
    this.nVersions -= dropped;
    return dropped;
  }

  private forget(key: string, gone: Edge[]): void {
    this.versions.delete(key);
    for (const e of gone) {
      removeFrom(this.byFrom, e.fact.from, key);
      if (removeFrom(this.byTo, e.fact.to, key)) this.toStamps.delete(e.fact.to);
      if (removeFrom(this.byFrom, e.fact.kind + '\0' + e.fact.from, key)) {
        this.fromSetStamps.set(e.fact.kind, ++this.clock);
        removeFromSet(this.fromNodes, e.fact.kind, e.fact.from);
      }
      removeFrom(this.byTo, e.fact.kind + '\0' + e.fact.to, key);
      if (e.fact.group !== undefined) removeFrom(this.byGroup, e.fact.group, key);
      removeFromSet(this.byKind, e.fact.kind, key);
    }
  }
}
