import { createHash } from 'node:crypto';
import type { BusMessage } from '../bus/types.ts';
import type { Principal } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';

/**
 * Incidents in Kafka mode (ADR 0015): every alert the correlate role produces is also an *incident
 * update* on `seam.incidents`, keyed by the incident id of who acted, really (the alert's origin, else its
 * principal). The index role merges updates into `<prefix>-incidents` (`mergeIncident`): alerts are a set
 * by id, so a redelivered update changes nothing, and the fields analysts own (status, assignee, notes)
 * are set once when the incident is created and never written by Seam again.
 */

export const INCIDENT_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
type Level = (typeof INCIDENT_LEVELS)[number];

/** Risk points per alert by level (ADR 0015). */
export const RISK_WEIGHTS: Readonly<Record<Level, number>> = { informational: 0, low: 1, medium: 5, high: 20, critical: 50 };
/** An alert's risk contribution halves every this many ms of event time (ADR 0015). */
export const RISK_HALF_LIFE_MS = 24 * 3600_000;

/** One alert's contribution to an incident: what travels on `seam.incidents`. */
export interface IncidentUpdate {
  v: 1;
  incident: string;
  key: string;
  who?: Principal;
  account?: string;
  cluster?: string;
  alert: { id: string; '@timestamp': string; level: Level; rule: string; title: string; principal?: string; chain?: Alert['chain'] };
}

/** The index document of an incident. Seam owns every field but `status`, `assignee` and `notes`. */
export interface IncidentDoc {
  id: string;
  key: string;
  who?: Principal;
  accounts: string[];
  clusters: string[];
  level: Level;
  start: string;
  end: string;
  alert_count: number;
  alert_ids: string[];
  rules: string[];
  /** Principals that acted on this identity's behalf (sessions, service accounts, mapped users). */
  actors: string[];
  /** The longest identity chain among its alerts. */
  chain: NonNullable<Alert['chain']>;
  /** Σ weight(level) × 0.5^((risk_at − alert time) / half-life), at `risk_at` = the newest alert's time. */
  risk: number;
  risk_at: string;
  /** Analysts' fields: created as below, never written by Seam afterwards. */
  status: string;
  assignee: string | null;
  notes: unknown[];
  updated_at: string;
}

function identityKey(p: Principal | undefined): string | undefined {
  return p === undefined ? undefined : (p.arn ?? p.id);
}

/** `inc-` and 12 hex digits of sha256 of the incident key (the same ids `seam report incident` names). */
export function incidentId(key: string): string {
  return `inc-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

export function incidentUpdate(a: Alert): IncidentUpdate {
  const who = a.origin ?? a.principal;
  const key = identityKey(who) ?? 'unknown';
  const level = (INCIDENT_LEVELS as readonly string[]).includes(a.rule.level) ? (a.rule.level as Level) : 'medium';
  const principal = identityKey(a.principal);
  return {
    v: 1,
    incident: incidentId(key),
    key,
    ...(who ? { who } : {}),
    ...(a.account ? { account: a.account } : {}),
    ...(a.cluster ? { cluster: a.cluster } : {}),
    alert: { id: a.id, '@timestamp': a['@timestamp'], level, rule: a.rule.id, title: a.rule.title, ...(principal ? { principal } : {}), ...(a.chain && a.chain.length > 0 ? { chain: a.chain } : {}) },
  };
}

/** The `seam.incidents` messages of alerts (keyed by incident id: one incident's updates stay in order). */
export function incidentMessages(topic: string, alerts: readonly Alert[]): BusMessage[] {
  return alerts.map((a) => {
    const u = incidentUpdate(a);
    return { topic, key: u.incident, value: Buffer.from(JSON.stringify(u)) };
  });
}

export function decodeIncidentUpdate(value: Buffer): IncidentUpdate | undefined {
  try {
    const u = JSON.parse(value.toString('utf8')) as Partial<IncidentUpdate> | null;
    if (u?.v !== 1 || typeof u.incident !== 'string' || typeof u.key !== 'string' || typeof u.alert?.id !== 'string' || typeof u.alert['@timestamp'] !== 'string') return undefined;
    if (!Number.isFinite(Date.parse(u.alert['@timestamp']))) return undefined;
    return u as IncidentUpdate;
  } catch {
    return undefined;
  }
}

const decay = (ms: number): number => Math.pow(0.5, ms / RISK_HALF_LIFE_MS);
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Applies updates to an incident document (undefined: a new incident) and returns the new document, or
 * undefined when nothing changed (every alert was already in it: a redelivery). Order-independent:
 * any order of the same updates gives the same Seam-owned fields (risk to 6 decimals). Analysts' fields are
 * copied from `doc` untouched.
 */
export function mergeIncident(doc: IncidentDoc | undefined, updates: readonly IncidentUpdate[], now: Date = new Date()): IncidentDoc | undefined {
  let d: IncidentDoc | undefined = doc === undefined ? undefined : { ...doc, alert_ids: [...doc.alert_ids], rules: [...doc.rules], actors: [...doc.actors], accounts: [...doc.accounts], clusters: [...doc.clusters] };
  let changed = false;
  for (const u of updates) {
    const a = u.alert;
    if (d === undefined) {
      d = { id: u.incident, key: u.key, ...(u.who ? { who: u.who } : {}), accounts: [], clusters: [], level: 'informational', start: a['@timestamp'], end: a['@timestamp'], alert_count: 0, alert_ids: [], rules: [], actors: [], chain: [], risk: 0, risk_at: a['@timestamp'], status: 'open', assignee: null, notes: [], updated_at: '' };
    }
    if (d.alert_ids.includes(a.id)) continue;
    changed = true;
    d.alert_ids.push(a.id);
    d.alert_ids.sort();
    d.alert_count = d.alert_ids.length;
    if (!d.rules.includes(a.rule)) d.rules = [...d.rules, a.rule].sort();
    if (u.account && !d.accounts.includes(u.account)) d.accounts = [...d.accounts, u.account].sort();
    if (u.cluster && !d.clusters.includes(u.cluster)) d.clusters = [...d.clusters, u.cluster].sort();
    if (a.principal !== undefined && a.principal !== d.key && !d.actors.includes(a.principal)) d.actors = [...d.actors, a.principal].sort();
    if (INCIDENT_LEVELS.indexOf(a.level) > INCIDENT_LEVELS.indexOf(d.level)) d.level = a.level;
    if (a['@timestamp'] < d.start) d.start = a['@timestamp'];
    if (a['@timestamp'] > d.end) d.end = a['@timestamp'];
    // Longest chain; on a tie the one that sorts first, so the order of updates does not matter.
    const c = a.chain ?? [];
    if (c.length > d.chain.length || (c.length === d.chain.length && c.length > 0 && JSON.stringify(c) < JSON.stringify(d.chain))) d.chain = c;
    if (d.who === undefined && u.who !== undefined) d.who = u.who;
    // Risk at the newest alert's time: older contributions decay to it, a late one enters decayed.
    const w = RISK_WEIGHTS[a.level] ?? 0;
    const t = Date.parse(a['@timestamp']);
    const at = Date.parse(d.risk_at);
    if (d.alert_count === 1) {
      d.risk = w;
      d.risk_at = a['@timestamp'];
    } else if (t > at) {
      d.risk = round(d.risk * decay(t - at) + w);
      d.risk_at = a['@timestamp'];
    } else d.risk = round(d.risk + w * decay(at - t));
  }
  if (!changed || d === undefined) return undefined;
  d.updated_at = now.toISOString();
  return d;
}
