/**
 * GuardDuty finding → incident: the finding enriched with the identity chain of its principal, joined with the
 * same principal's CloudTrail and audit activity from 15 minutes before the finding's first sighting to 15
 * minutes after its last. The alert waits until event time passes the window's end (or end of input).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert, type Contribution } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { chainText, nativeAlert, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import { nativeIdOf } from '../alert.ts';
import { findingLevel, findingVersionOf } from '../finding.ts';

interface Activity {
  id: string;
  nativeId?: string;
  timeMs: number;
  action: string;
}

interface Pending {
  finding: Contribution;
  keys: string[];
  fromMs: number;
  toMs: number;
  summary: string;
  level: Alert['rule']['level'];
  principal?: SeamEvent['seam']['principal'];
  account?: string;
  cluster?: string;
}

interface State {
  /** join key → recent activity (bounded by time and count). */
  activity: Lru<string, ActivityLog>;
  pending: Lru<string, Pending>;
  /**
   * No pending incident's window ends before this (a lower bound: eviction or a re-set finding may leave it
   * low, which only costs one scan). `advance` runs on every event; this spares it a walk over every
   * pending finding while none is due.
   */
  dueAfterMs: number;
  /**
   * The keys the last activity was recorded under, in order, with their logs: `activity` was last touched by
   * `get` of exactly these keys in this order, so an event with the same keys (the same principal acting again,
   * the usual case) finds the same logs, and getting them again would leave the LRU order as it is. Cleared by
   * anything else that touches `activity`.
   */
  lastKeys: string[];
  lastLogs: ActivityLog[];
}

const MAX_PER_KEY = 200;

/**
 * One key's recent activity, oldest first: `items` from `head` on. Dropping the oldest moves `head` (an
 * Array.shift per event on a full list cost more than the rest of this detection); the dropped slots are cut
 * off once there are MAX_PER_KEY of them.
 */
interface ActivityLog {
  items: Activity[];
  /** `items[i].timeMs`, side by side: trimming reads these, not the (long unvisited) activity objects. */
  times: number[];
  head: number;
}

/** Adds `k` once (first sighting keeps its place, as a Set would). */
function addKey(keys: string[], k: string | undefined): void {
  if (k !== undefined && k !== 'unknown' && !keys.includes(k)) keys.push(k);
}

function keysOf(event: SeamEvent, ctx: EvalContext): string[] {
  const p = ctx.resolution.principal;
  const o = ctx.resolution.origin;
  const keys: string[] = [];
  addKey(keys, p?.id);
  addKey(keys, p?.arn);
  addKey(keys, p?.access_key_id);
  addKey(keys, o?.arn);
  addKey(keys, o?.id);
  if (p?.service_account !== undefined) addKey(keys, 'sa:' + (ctx.resolution.cluster ?? event.seam.cluster ?? '') + ':' + p.service_account);
  return keys;
}

function levelOf(severity: number | undefined): Alert['rule']['level'] {
  return severity === undefined ? 'medium' : findingLevel(severity);
}

function pickCase(o: Record<string, unknown> | undefined, camel: string): unknown {
  if (o === undefined) return undefined;
  return o[camel] ?? o[camel.charAt(0).toUpperCase() + camel.slice(1)];
}

export const guardDutyIncident: NativeDetection<State> = {
  id: 'seam-native-guardduty-incident',
  title: 'GuardDuty finding with identity chain and surrounding activity',
  level: 'medium',
  tags: ['seam.incident'],
  description:
    'Every GuardDuty finding about an EKS cluster or an IAM principal becomes one incident: the finding, who the principal really is (identity chain), and what the same principal did in CloudTrail and the audit log from 15 minutes before to 15 minutes after.',
  triage: 'Start from the chain (who, through which mapping or pod), then read the joined events in time order; the finding’s own recommendation applies.',
  createState: (c: NativeConfig): State => ({ activity: boundedLru(c.maxStateEntries), pending: boundedLru(c.maxStateEntries), dueAfterMs: Infinity, lastKeys: [], lastLogs: [] }),
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const t = timeOf(event);
    const keys = keysOf(event, ctx);
    if (event.seam.source !== 'guardduty') {
      const nid = nativeIdOf(event);
      const a: Activity = { id: event.seam.id, timeMs: t, action: event.seam.action ?? event.seam.source };
      if (nid !== undefined) a.nativeId = nid;
      const horizon = t - 2 * ctx.config.guardDutyJoinMs - 3600_000;
      // (All of the last keys are still held unless the map holds fewer entries than there are keys.)
      const same = keys.length <= state.activity.maxSize && sameKeys(keys, state.lastKeys);
      if (!same) {
        state.lastKeys = keys;
        state.lastLogs = [];
      }
      for (let i = 0; i < keys.length; i++) {
        let log: ActivityLog | undefined;
        if (same) log = state.lastLogs[i]!;
        else {
          const k = keys[i]!;
          // `get` already makes the key the most recently used, as setting it again would.
          log = state.activity.get(k);
          if (log === undefined) state.activity.set(k, (log = { items: [], times: [], head: 0 }));
          state.lastLogs.push(log);
        }
        const times = log.times;
        log.items.push(a);
        times.push(t);
        while (times.length - log.head > MAX_PER_KEY || (times.length > log.head && times[log.head]! < horizon)) log.head++;
        if (log.head >= MAX_PER_KEY) {
          log.items = log.items.slice(log.head);
          log.times = times.slice(log.head);
          log.head = 0;
        }
      }
      return [];
    }
    if (keys.length === 0) return [];
    const f = obj(event.detail) ?? event;
    const service = obj(pickCase(f, 'service'));
    const first = Date.parse(String(pickCase(service, 'eventFirstSeen') ?? event['@timestamp']));
    const last = Date.parse(String(pickCase(service, 'eventLastSeen') ?? event['@timestamp']));
    const severity = pickCase(f, 'severity');
    const nid = nativeIdOf(event);
    const version = findingVersionOf(event);
    const chain = chainText(ctx.resolution.chain);
    const toMs = (Number.isNaN(last) ? t : last) + ctx.config.guardDutyJoinMs;
    if (!(toMs >= state.dueAfterMs)) state.dueAfterMs = toMs; // NaN too: the next advance scans
    state.pending.set(event.seam.id, {
      finding: { ids: [event.seam.id], nativeIds: nid === undefined ? [] : [nid], timeMs: t, ...(version === undefined ? {} : { finding: version }) },
      keys,
      fromMs: (Number.isNaN(first) ? t : first) - ctx.config.guardDutyJoinMs,
      toMs,
      summary: `GuardDuty ${event.seam.action ?? 'finding'}${str(pickCase(f, 'title')) === undefined ? '' : ` (${str(pickCase(f, 'title'))})`} by ${describePrincipal(ctx.resolution.principal)}${ctx.resolution.origin === undefined ? '' : `, really ${describePrincipal(ctx.resolution.origin)}`}${chain === '' ? '' : `; chain: ${chain}`}`,
      level: levelOf(typeof severity === 'number' ? severity : undefined),
      ...(ctx.resolution.principal === undefined ? {} : { principal: ctx.resolution.principal }),
      ...(event.seam.account === undefined ? {} : { account: event.seam.account }),
      ...(event.seam.cluster === undefined ? {} : { cluster: event.seam.cluster }),
    });
    return [];
  },
  advance(nowMs: number, _graph: IdentityGraph, state: State): Alert[] {
    const out: Alert[] = [];
    if (nowMs <= state.dueAfterMs) return out;
    let due = Infinity;
    // Oldest first (lru-cache iterates most recent first), from a copy: the loop deletes.
    for (const [id, p] of [...state.pending.entries()].reverse()) {
      if (nowMs <= p.toMs) {
        if (p.toMs < due) due = p.toMs;
        continue;
      }
      state.pending.delete(id);
      out.push(emit(this, state, p));
    }
    state.dueAfterMs = due;
    return out;
  },
  flush(_graph: IdentityGraph, state: State): Alert[] {
    const out = [...state.pending.values()].reverse().map((p) => emit(this, state, p));
    state.pending.clear();
    state.dueAfterMs = Infinity;
    return out;
  },
};

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function emit(d: NativeDetection<State>, state: State, p: Pending): Alert {
  // The gets below change the LRU order: the next event looks its logs up again.
  state.lastKeys = [];
  state.lastLogs = [];
  const joined = new Map<string, Activity>();
  for (const k of p.keys) {
    const log = state.activity.get(k);
    if (log === undefined) continue;
    for (let i = log.head; i < log.items.length; i++) {
      const a = log.items[i]!;
      if (a.timeMs >= p.fromMs && a.timeMs <= p.toMs) joined.set(a.id, a);
    }
  }
  const acts = [...joined.values()].sort((a, b) => a.timeMs - b.timeMs);
  const actions = [...new Set(acts.map((a) => a.action))].slice(0, 6);
  return nativeAlert(d, {
    level: p.level,
    events: [p.finding, ...acts.map((a) => ({ ids: [a.id], nativeIds: a.nativeId === undefined ? [] : [a.nativeId], timeMs: a.timeMs }))],
    summary: `${p.summary}; ${acts.length} related event${acts.length === 1 ? '' : 's'} within ±15 min${actions.length > 0 ? ': ' + actions.join(', ') : ''}`,
    principal: p.principal,
    account: p.account,
    cluster: p.cluster,
    // One incident alert per finding, kept current by its later versions (ADR 0046), whatever activity each joins.
    finding: p.finding.finding,
  });
}
