/**
 * What an incident page shows, gathered in one place: the incident (alerts grouped by who really acted,
 * src/pipeline/incident.ts), the events behind its alerts and its identity chain, the AWS calls the chain's
 * credentials made, and each rule's triage note. Built from `seam run`'s output folder or from OpenSearch
 * (incident-source.ts); rendered by incident-html.ts.
 */
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import type { Incident } from '../pipeline/incident.ts';
import { incidentKey } from '../pipeline/incident-topic.ts';
import { podKey, saKey, userKey } from '../identity/keys.ts';
import type { BeforeSection } from './incident-before.ts';

export interface RuleNote {
  description?: string;
  /** The rule's "Triage:" paragraph (Sigma) or `triage` (native detections). */
  triage?: string;
}

export interface IncidentPage {
  /** The incident's id in the incidents index (`Incident.id`): stable, so a re-run writes the same file name. */
  id: string;
  incident: Incident;
  /** Events by `seam.id`: every alert's contributing and related events and every chain hop's evidence. */
  events: ReadonlyMap<string, SeamEvent>;
  /** CloudTrail calls signed by an identity of the chain (or the incident's actors) during the incident. */
  awsCalls: readonly SeamEvent[];
  /** Triage notes by rule id. */
  notes: ReadonlyMap<string, RuleNote>;
  /** Where the data came from, for the page footer: `out/`, `OpenSearch http://…`. */
  source: string;
  /** What the incident's identity and the other identities of its evidence (a granter) did in the hour before its first alert (incident-before.ts). */
  before?: BeforeSection;
}

/**
 * Every event the page read, each once (by `seam.id`), and where each came from: the alerts and the chain name
 * `named` (`page.events`); the chain's AWS calls during the incident add `calls` that none of them names; the hour
 * before the first alert adds `before` more (what the identities did then, shown or left out, e.g. the workload's
 * routine calls).
 * `--evidence` writes them all; the command's summary line counts them the same way.
 */
export function eventsRead(page: IncidentPage): { events: Map<string, SeamEvent>; named: number; calls: number; before: number } {
  const events = new Map(page.events);
  for (const e of page.awsCalls) events.set(e.seam.id, e);
  const calls = events.size - page.events.size;
  for (const s of page.before?.subjects ?? []) for (const e of s.read) events.set(e.seam.id, e);
  return { events, named: page.events.size, calls, before: events.size - page.events.size - calls };
}

/** Every `seam.id` the page needs: the alerts' evidence, their related events (context, white on the timeline) and the chain's. */
export function neededEventIds(inc: Incident): Set<string> {
  const ids = new Set<string>();
  for (const a of inc.alerts) {
    for (const e of a.events) ids.add(e);
    for (const e of a.related_events ?? []) ids.add(e);
  }
  for (const s of inc.chain) if (s.via !== undefined) ids.add(s.via);
  return ids;
}

/** IAM identities (ARNs, access keys) whose CloudTrail calls belong on the page: the chain's, the actors', the origin. */
export function callerKeys(inc: Incident): Set<string> {
  const keys = new Set<string>();
  const add = (v: string | undefined): void => {
    if (v === undefined) return;
    if (/^arn:aws[a-z-]*:sts::/.test(v) || /^arn:aws[a-z-]*:iam::\d*:user\//.test(v)) keys.add(v);
    const akid = /^(?:akid:)?((?:AKIA|ASIA)[A-Z0-9]{12,})$/.exec(v);
    if (akid) keys.add(akid[1]!);
  };
  add(inc.who?.arn);
  add(inc.who?.access_key_id);
  for (const a of inc.actors) add(a);
  for (const s of inc.chain) {
    add(s.from);
    add(s.to);
  }
  for (const a of inc.alerts) {
    add(a.principal?.arn);
    add(a.principal?.access_key_id);
  }
  return keys;
}

/** Whether a CloudTrail event was signed by one of `keys` within the incident's span (a minute of slack each side). */
export function isCallOf(e: SeamEvent, keys: ReadonlySet<string>, inc: Incident): boolean {
  if (e.seam.source !== 'cloudtrail') return false;
  const p = e.seam.principal;
  if (p === undefined) return false;
  if (!((p.arn !== undefined && keys.has(p.arn)) || (p.access_key_id !== undefined && keys.has(p.access_key_id)))) return false;
  const t = Date.parse(e['@timestamp']);
  return t >= Date.parse(inc.start) - 60_000 && t <= Date.parse(inc.end) + 60_000;
}

/**
 * Names of the incident's identity and its chain, as the identity graph names its nodes: the incident key, who
 * acted (ARN, access key), its actors, every alert's principal and origin (all keyed to this incident), and both
 * ends of every step of every alert's chain (ARNs, access keys, `k8s:<cluster>:user|sa|pod:…`).
 */
export function incidentNames(inc: Incident): Set<string> {
  const names = new Set<string>([inc.key, ...inc.actors]);
  const add = (v: string | undefined): void => {
    if (v !== undefined && v !== '') names.add(v);
  };
  add(inc.who?.arn);
  add(inc.who?.access_key_id);
  for (const a of inc.alerts) {
    for (const p of [a.principal, a.origin]) {
      add(p?.arn);
      add(p?.access_key_id);
    }
    for (const s of a.chain ?? []) {
      add(s.from);
      add(s.to);
    }
  }
  return names;
}

/** An event's credentials and the identity behind them, named as `incidentNames` names them (bare Kubernetes names scoped by the event's cluster). */
export function eventNames(e: SeamEvent): string[] {
  const out: string[] = [];
  const c = e.seam.cluster;
  for (const p of [e.seam.principal, e.seam.origin]) {
    if (p === undefined) continue;
    if (p.arn !== undefined) out.push(p.arn);
    if (p.access_key_id !== undefined) out.push(p.access_key_id);
    if (p.id.startsWith('arn:')) out.push(p.id);
    if (c === undefined) continue;
    if (p.k8s_user !== undefined) out.push(userKey(c, p.k8s_user));
    if (p.service_account !== undefined) out.push(saKey(c, p.service_account));
    if (p.pod !== undefined) out.push(podKey(c, p.pod));
  }
  return out;
}

/**
 * Whether an event was made by the incident's identity or its chain (SOC review L3: the page's "From" listed the
 * address of every event behind the incident's alerts, another person's among them, e.g. who granted the access a
 * workload then used): its principal or origin is one of `names` (`incidentNames`), or the event, keyed as an alert
 * of it would be (`incidentKey`), belongs to this incident's key. An event with no principal is the incident's only
 * when the incident is about no identity either (a GuardDuty finding's resource, a cluster).
 */
export function isByIncident(e: SeamEvent, names: ReadonlySet<string>, inc: Incident): boolean {
  if (e.seam.principal === undefined && e.seam.origin === undefined) return inc.who === undefined;
  if (eventNames(e).some((n) => names.has(n))) return true;
  const s = e.seam;
  return incidentKey({ principal: s.principal, origin: s.origin, chain: s.chain, account: s.account, cluster: s.cluster }) === inc.key;
}

/** Sorts alerts the way the page lists them: worst level first, then time. */
export const LEVEL_ORDER: Alert['rule']['level'][] = ['critical', 'high', 'medium', 'low', 'informational'];
