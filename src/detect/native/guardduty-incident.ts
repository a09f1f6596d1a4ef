/**
 * GuardDuty finding → incident: the finding enriched with the identity chain of its principal, joined with the
 * same principal's CloudTrail and audit activity from 15 minutes before the finding's first sighting to 15
 * minutes after its last. The alert waits until event time passes the window's end (or end of input, or a quiet
 * advance past it: then activity of the window handed on later raises it again, same id, `revision` n — ADR 0009).
 * The finding is the alert's evidence (`events`, its time the alert's); the joined activity is context
 * (`related_events`). Level: the higher of the finding version's severity band and the highest level a Sigma rule
 * gave the same finding (`noteAlerts`, called by the detect stage after the rules ran), so the two never disagree
 * downwards.
 */
import type { ChainStep, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { ALERT_LEVELS, describePrincipal, notifiedLevel, type Alert, type AlertLevel, type Contribution } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, chainText, keyLookupCommand, nativeAlert, quoted, timeOf } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import { nativeIdOf } from '../alert.ts';
import { findingLevel, findingVersionOf } from '../finding.ts';
import { foldOrder, foldsOn } from '../fold.ts';

interface Activity {
  id: string;
  nativeId?: string;
  timeMs: number;
  action: string;
  /** A read (CloudTrail readOnly or a Get/List/Describe call, an audit get/list/watch): listed after the rest. */
  read: boolean;
  /** A Sigma rule alerted on it (`noteAlerts`): listed first. */
  alerted?: boolean;
}

interface Pending {
  finding: Contribution;
  keys: string[];
  fromMs: number;
  toMs: number;
  summary: string;
  level: Alert['rule']['level'];
  /** The finding id (the same in every version): the Sigma rule levels noted for it raise `level`. */
  findingId?: string;
  tags: string[];
  principal?: SeamEvent['seam']['principal'];
  origin?: SeamEvent['seam']['origin'];
  chain?: ChainStep[];
  account?: string;
  cluster?: string;
  /**
   * The alert that led the fold of this finding version's detection step (ADR 0050), noted by `noteAlerts`, at the
   * level it is notified at (`notifiedLevel`: a finding alert's band when higher, ADR 0052): the join, raised
   * later, is folded into it unless the join's level is higher.
   */
  leader?: { id: string; level: AlertLevel };
  /** The triage text's values, read from the finding (the related activity is added when the join closes). */
  triage: FindingTriage;
}

/** What the triage text of a finding names: the finding, who it is about, and the commands with its ids. */
interface FindingTriage {
  head: string;
  getFindings: string;
  key?: string;
  hunt?: string;
  who: string;
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
  /** The activity recorded for the last event, so `noteAlerts` can mark it alerted. */
  lastActivity?: Activity;
  /** Finding id → the highest level a Sigma rule gave one of its versions (`noteAlerts`): the join's level is at least that. */
  ruleLevels: Lru<string, AlertLevel>;
  /**
   * Joins a quiet advance closed before event time reached their window's end (ADR 0009 decision 7): activity of that
   * window produced afterwards (the next chunk of a backlog) marks one `dirty`, and it is raised again, same id, with
   * that activity joined, once time passes the window's end (event time, or the next quiet advance). Forgotten once
   * event time passes the window's end.
   */
  closed: Lru<string, Closed>;
  /** No closed join's window ends before this (a lower bound, as `dueAfterMs`). */
  closedDueMs: number;
}

interface Closed {
  p: Pending;
  /** Activity of its window recorded since it was last raised. */
  dirty: boolean;
  /** How many times it was raised again (the alert's `revision`). */
  revisions: number;
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

function maxLevel(a: AlertLevel, b: AlertLevel | undefined): AlertLevel {
  return b !== undefined && ALERT_LEVELS.indexOf(b) > ALERT_LEVELS.indexOf(a) ? b : a;
}

/**
 * The ATT&CK tactic a GuardDuty finding type's threat purpose (`Purpose:Resource/Family`) names, where it maps
 * one to one. Backdoor, Behavior, Policy, Trojan, UnauthorizedAccess, Pentest and attack sequences say what
 * kind of finding it is, not a tactic: no tag.
 */
const TACTIC_OF_PURPOSE: Readonly<Record<string, string>> = {
  CredentialAccess: 'attack.credential-access',
  DefenseEvasion: 'attack.defense-evasion',
  Stealth: 'attack.defense-evasion',
  Discovery: 'attack.discovery',
  Recon: 'attack.reconnaissance',
  Execution: 'attack.execution',
  Exfiltration: 'attack.exfiltration',
  Impact: 'attack.impact',
  CryptoCurrency: 'attack.impact',
  InitialAccess: 'attack.initial-access',
  Persistence: 'attack.persistence',
  PrivilegeEscalation: 'attack.privilege-escalation',
};

/** ATT&CK tags for a finding type: its tactic, and T1496 (resource hijacking) for CryptoCurrency. */
export function findingTypeTags(type: string | undefined): string[] {
  const purpose = type?.split(':', 1)[0];
  const tactic = purpose === undefined ? undefined : TACTIC_OF_PURPOSE[purpose];
  if (tactic === undefined) return [];
  return purpose === 'CryptoCurrency' ? [tactic, 'attack.t1496'] : [tactic];
}

const READ_VERBS = new Set(['get', 'list', 'watch']);

/** A read, listed after the rest: CloudTrail `readOnly` (else a Get/List/Describe/Head/Lookup call), an audit get/list/watch. */
function isRead(event: SeamEvent): boolean {
  if (event.seam.source === 'cloudtrail') {
    if (typeof event.readOnly === 'boolean') return event.readOnly;
    const op = (event.seam.action ?? '').split(':').pop() ?? '';
    return /^(Get|List|Describe|Head|Lookup|BatchGet)/.test(op);
  }
  if (event.seam.source === 'k8s_audit') return READ_VERBS.has(String(event.verb));
  return false;
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
    'Every GuardDuty finding about an EKS cluster or an IAM principal becomes one incident: the finding, who the principal really is (identity chain, origin), and what the same principal did in CloudTrail and the audit log from 15 minutes before to 15 minutes after (related_events, context). Level: the higher of the finding version\'s severity band and the highest level a Sigma rule gave the same finding.',
  triage: 'Start from the chain (who, through which mapping or pod), then read the related events (`related_events`, context) in time order; the finding’s own recommendation applies.',
  createState: (c: NativeConfig): State => ({
    activity: boundedLru(c.maxStateEntries),
    pending: boundedLru(c.maxStateEntries),
    dueAfterMs: Infinity,
    lastKeys: [],
    lastLogs: [],
    ruleLevels: boundedLru(c.maxStateEntries),
    closed: boundedLru(c.maxStateEntries),
    closedDueMs: Infinity,
  }),
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const t = timeOf(event);
    const keys = keysOf(event, ctx);
    if (event.seam.source !== 'guardduty') {
      const nid = nativeIdOf(event);
      const a: Activity = { id: event.seam.id, timeMs: t, action: event.seam.action ?? event.seam.source, read: isRead(event) };
      if (nid !== undefined) a.nativeId = nid;
      state.lastActivity = a;
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
      if (state.closed.size > 0) markClosed(state, keys, t);
      return [];
    }
    state.lastActivity = undefined;
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
      // The finding type first: the rule title is the same for every finding.
      summary: `GuardDuty ${event.seam.action ?? 'finding'}${str(pickCase(f, 'title')) === undefined ? '' : ` (${str(pickCase(f, 'title'))})`} by ${describePrincipal(ctx.resolution.principal)}${ctx.resolution.origin === undefined ? '' : `, really ${describePrincipal(ctx.resolution.origin)}`}${chain === '' ? '' : `; chain: ${chain}`}`,
      level: levelOf(typeof severity === 'number' ? severity : undefined),
      ...(nid === undefined ? {} : { findingId: nid }),
      tags: findingTypeTags(event.seam.action),
      ...(ctx.resolution.principal === undefined ? {} : { principal: ctx.resolution.principal }),
      ...(ctx.resolution.origin === undefined ? {} : { origin: ctx.resolution.origin }),
      ...(ctx.resolution.chain.length === 0 ? {} : { chain: ctx.resolution.chain }),
      ...(event.seam.account === undefined ? {} : { account: event.seam.account }),
      ...(event.seam.cluster === undefined ? {} : { cluster: event.seam.cluster }),
      triage: findingTriage(event, f, ctx, nid, chain),
    });
    return [];
  },
  advance(nowMs: number, _graph: IdentityGraph, state: State): Alert[] {
    const out: Alert[] = [];
    // Event time passed a closed join's window: raised again if activity joined it since, then forgotten.
    if (nowMs > state.closedDueMs) reviseClosed(this, state, nowMs, out, false);
    closeDue(this, state, nowMs, out);
    return out;
  },
  quiet(t: number, _graph: IdentityGraph, state: State): Alert[] {
    const out: Alert[] = [];
    // A join closed by an earlier quiet advance that gained activity since (the next chunk): raised again, still kept.
    if (t > state.closedDueMs) reviseClosed(this, state, t, out, true);
    closeDue(this, state, t, out, true);
    return out;
  },
  flush(_graph: IdentityGraph, state: State): Alert[] {
    const out: Alert[] = [];
    for (const [, c] of [...state.closed.entries()].reverse()) if (c.dirty) out.push(emit(this, state, c.p, ++c.revisions));
    state.closed.clear();
    state.closedDueMs = Infinity;
    for (const p of [...state.pending.values()].reverse()) out.push(emit(this, state, p));
    state.pending.clear();
    state.dueAfterMs = Infinity;
    return out;
  },
  noteAlerts(event: SeamEvent, alerts: readonly Alert[], raised: Alert[], state: State): void {
    let level: AlertLevel | undefined;
    for (const a of alerts) if (a.rule.type === 'sigma' && a.events[a.events.length - 1] === event.seam.id) level = maxLevel(level ?? 'informational', a.rule.level);
    if (level === undefined) return;
    if (event.seam.source !== 'guardduty') {
      if (state.lastActivity?.id === event.seam.id) state.lastActivity.alerted = true;
      return;
    }
    const fid = nativeIdOf(event);
    if (fid === undefined) return;
    // The leader the detect stage's fold will pick among this event's own alerts (ADR 0050): already out when the join
    // comes, so the join folds into it unless the join's level is higher.
    const p = state.pending.get(event.seam.id);
    if (p !== undefined) {
      let leader: Alert | undefined;
      for (const a of [...alerts, ...raised]) if (foldsOn(a, event.seam.id) && (leader === undefined || foldOrder(a, leader) < 0)) leader = a;
      // At the level it is routed at: a finding alert's band when higher (ADR 0052), since a rise of the band is
      // notified by the leader itself (ADR 0046).
      if (leader !== undefined) p.leader = { id: leader.id, level: notifiedLevel(leader) };
    }
    const was = state.ruleLevels.get(fid);
    state.ruleLevels.set(fid, maxLevel(level, was));
    // The join may already have closed on this very event (a version seen after its window): raise it here.
    for (const a of raised) if (a.rule.id === this.id && a.finding?.id === fid) a.rule.level = maxLevel(a.rule.level, level);
  },
};

/** The finding's part of the triage text: type and id, who it is about (and who that really is), the workload, the caller, the chain. */
function findingTriage(event: SeamEvent, f: Record<string, unknown>, ctx: EvalContext, id: string | undefined, chain: string): FindingTriage {
  const type = event.seam.action ?? 'finding';
  const region = str(pickCase(f, 'region')) ?? event.seam.region;
  const detector = /:detector\/([^/]+)\//.exec(str(pickCase(f, 'arn')) ?? '')?.[1];
  const resource = obj(pickCase(f, 'resource'));
  const k8s = obj(pickCase(resource, 'kubernetesDetails'));
  const workload = obj(pickCase(k8s, 'kubernetesWorkloadDetails'));
  const wname = str(pickCase(workload, 'name'));
  const wns = str(pickCase(workload, 'namespace'));
  const wtype = str(pickCase(workload, 'type'));
  const key = str(pickCase(obj(pickCase(resource, 'accessKeyDetails')), 'accessKeyId')) ?? ctx.resolution.principal?.access_key_id;
  const p = ctx.resolution.principal;
  const o = ctx.resolution.origin;
  const about = p === undefined ? 'an unknown principal' : shortIdentity(p.arn ?? p.k8s_user ?? p.id);
  const really = o === undefined || (o.arn ?? o.id) === (p?.arn ?? p?.id) ? undefined : shortIdentity(o.arn ?? o.id);
  const cluster = event.seam.cluster;
  const title = str(pickCase(f, 'title'));
  // Every event the acting identity is behind, across the planes: a service account by namespace/name, else its ARN or Kubernetes user.
  const whoArg = p?.service_account ?? o?.arn ?? p?.arn ?? p?.k8s_user;
  const t: FindingTriage = {
    head:
      `GuardDuty ${type}${title === undefined ? '' : ` (${quoted(title, 120)})`}${id === undefined ? '' : `, finding ${id}`}${cluster === undefined ? '' : ` in ${cluster}`}, is about ${about}${really === undefined ? '' : `, really ${really}`}` +
      `${wname === undefined ? '' : `, on ${wtype ?? 'workload'} ${wns === undefined ? '' : wns + '/'}${wname}`}${event.seam.source_ip === undefined ? '' : `, ${callerText(event)}`}.` +
      // A chain of one node (the principal acting as itself) says nothing the sentence did not.
      (chain.includes('→') ? ` Start from the chain: ${chain}.` : ''),
    getFindings: `aws guardduty get-findings --detector-id ${detector ?? '<detector id>'} --finding-ids ${id ?? '<finding id>'}${region === undefined ? '' : ` --region ${region}`}`,
    who: really ?? about,
  };
  if (key !== undefined) t.key = keyLookupCommand(key, region);
  if (whoArg !== undefined) t.hunt = `seam hunt --who ${whoArg}${cluster === undefined ? '' : ` --cluster ${cluster}`}`;
  return t;
}

/** The whole triage text, once the related activity is known. */
function triageText(t: FindingTriage, related: number, actions: readonly string[], more: number): string {
  return (
    `${t.head} ` +
    (related === 0
      ? 'No activity of that identity was seen within ±15 min of the finding. '
      : `Read the ${related} related event${related === 1 ? '' : 's'} in time order, the changes first (${actions.join(', ')}${more > 0 ? `, and ${more} more` : ''}). `) +
    `Read the finding and GuardDuty's recommendation for its type (${t.getFindings})` +
    `${t.key === undefined ? '' : `, what the key did (${t.key})`}${t.hunt === undefined ? '' : `, and everything ${t.who} is behind (${t.hunt})`}. ` +
    `Benign if ${t.who} did this as a reviewed change or a test: archive the finding with a note. Otherwise contain ${t.who} first (revoke its sessions or credentials) and follow this incident's other alerts.`
  );
}

/** Closes the pending joins whose window ended before `nowMs` (oldest first); a quiet advance remembers them in `closed`. */
function closeDue(d: NativeDetection<State>, state: State, nowMs: number, out: Alert[], remember = false): void {
  if (nowMs <= state.dueAfterMs) return;
  let due = Infinity;
  // Oldest first (lru-cache iterates most recent first), from a copy: the loop deletes.
  for (const [id, p] of [...state.pending.entries()].reverse()) {
    if (nowMs <= p.toMs) {
      if (p.toMs < due) due = p.toMs;
      continue;
    }
    state.pending.delete(id);
    out.push(emit(d, state, p));
    if (remember) {
      state.closed.set(id, { p, dirty: false, revisions: 0 });
      if (p.toMs < state.closedDueMs) state.closedDueMs = p.toMs;
    }
  }
  state.dueAfterMs = due;
}

/**
 * The closed joins whose window ended before `nowMs`: each that gained activity is raised again (same id, the activity
 * joined); `keep` (a quiet advance) keeps them for the next chunk, else (event time passed the window) they are forgotten.
 */
function reviseClosed(d: NativeDetection<State>, state: State, nowMs: number, out: Alert[], keep: boolean): void {
  let due = Infinity;
  for (const [id, c] of [...state.closed.entries()].reverse()) {
    if (nowMs <= c.p.toMs) {
      if (c.p.toMs < due) due = c.p.toMs;
      continue;
    }
    if (c.dirty) {
      c.dirty = false;
      out.push(emit(d, state, c.p, ++c.revisions));
    }
    if (keep) {
      if (c.p.toMs < due) due = c.p.toMs;
    } else state.closed.delete(id);
  }
  state.closedDueMs = due;
}

/** Activity at `t` under `keys`: the closed joins whose window holds it and whose keys it shares are raised again later. */
function markClosed(state: State, keys: readonly string[], t: number): void {
  for (const [, c] of state.closed.entries()) {
    if (c.dirty || t < c.p.fromMs || t > c.p.toMs) continue;
    if (keys.some((k) => c.p.keys.includes(k))) c.dirty = true;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function emit(d: NativeDetection<State>, state: State, p: Pending, revision?: number): Alert {
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
  // What changed something or alerted first, then the reads, each in time order.
  const rank = (a: Activity): number => (a.alerted === true ? 0 : a.read ? 2 : 1);
  const ordered = [...acts].sort((a, b) => rank(a) - rank(b) || a.timeMs - b.timeMs);
  const distinct = [...new Set(ordered.map((a) => a.action))];
  const actions = distinct.slice(0, 8);
  const more = distinct.length - actions.length;
  const level = maxLevel(p.level, p.findingId === undefined ? undefined : state.ruleLevels.get(p.findingId));
  const alert = nativeAlert(d, {
    level,
    // The finding is the evidence; the activity around it is context (`related_events`): it neither sets the
    // alert's time nor colours an incident timeline.
    events: [p.finding],
    related: acts.map((a) => ({ ids: [a.id], nativeIds: a.nativeId === undefined ? [] : [a.nativeId], timeMs: a.timeMs })),
    summary: `${p.summary}; ${acts.length} related event${acts.length === 1 ? '' : 's'} within ±15 min${actions.length > 0 ? ': ' + actions.join(', ') + (more > 0 ? ` and ${more} more` : '') : ''}`,
    triage: triageText(p.triage, acts.length, actions.slice(0, 5), distinct.length - Math.min(5, actions.length)),
    principal: p.principal,
    origin: p.origin,
    chain: p.chain,
    account: p.account,
    cluster: p.cluster,
    extraTags: p.tags,
    // One incident alert per finding, kept current by its later versions (ADR 0046), whatever activity each joins.
    finding: p.finding.finding,
  });
  // Raised after the finding's own alerts went out (ADR 0050): folded into their leader unless it says more (a higher level).
  if (p.leader !== undefined && ALERT_LEVELS.indexOf(p.leader.level) >= ALERT_LEVELS.indexOf(level)) alert.folded_into = p.leader.id;
  if (revision !== undefined) alert.revision = revision;
  return alert;
}
