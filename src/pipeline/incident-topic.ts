import { createHash } from 'node:crypto';
import type { BusMessage } from '../bus/types.ts';
import type { Principal } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { roleOfSession, sessionNameOf } from '../identity/keys.ts';

/**
 * Incidents in Kafka mode (ADR 0015): every alert the correlate role produces is also an *incident
 * update* on `seam.incidents`, keyed by the incident id of who acted, really (the alert's origin, else its
 * principal; a name that is not global scoped by its cluster and account, ADR 0048: `incidentKey`). The index role merges updates into `<prefix>-incidents` (`mergeIncident`): alerts are a set
 * by id, so a redelivered update changes nothing, and the fields analysts own (status, assignee, notes)
 * are set once when the incident is created and never written by Seam again.
 *
 * Lifecycle (ADR 0020): an identity's alerts form one incident while they come less than `close_after_ms`
 * (event time, default 24 h) apart. An alert further than that from every incident of its identity opens a
 * new one (`<series id>-2`, `-3`, ...; the first keeps the series id `inc-…`), and an incident that a later
 * alert of its identity shows has gone quiet is closed once: `closed_at` = its end + the window, `status`
 * `closed` if analysts still had it `open`. Event time only, so a replay or a restart closes the same ones.
 */

export const INCIDENT_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
type Level = (typeof INCIDENT_LEVELS)[number];

/** Risk points per alert by level (ADR 0015). */
export const RISK_WEIGHTS: Readonly<Record<Level, number>> = { informational: 0, low: 1, medium: 5, high: 20, critical: 50 };
/** An alert's risk contribution halves every this many ms of event time (ADR 0015). */
export const RISK_HALF_LIFE_MS = 24 * 3600_000;
/** Event time without an alert after which an identity's incident is closed (ADR 0020). */
export const DEFAULT_CLOSE_AFTER_MS = 24 * 3600_000;

/** One alert's contribution to an incident: what travels on `seam.incidents`. */
export interface IncidentUpdate {
  v: 1;
  incident: string;
  key: string;
  who?: Principal;
  account?: string;
  cluster?: string;
  /** The inactivity window (ms of event time) after which the incident closes; absent: the default (ADR 0020). */
  close_after_ms?: number;
  alert: {
    id: string;
    '@timestamp': string;
    level: Level;
    rule: string;
    title: string;
    principal?: string;
    chain?: Alert['chain'];
    /**
     * A GuardDuty finding alert (ADR 0046): later versions come with the same id and a later `@timestamp`, and move
     * the incident's end and the alert's risk contribution to their own time and level (`IncidentDoc.versions`).
     */
    versioned?: true;
  };
}

/** Where an alert with versions stands in an incident: its newest version's time and level (what its risk counts). */
export interface AlertVersionRef {
  id: string;
  at: string;
  level: Level;
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
  /**
   * Σ weight(level) × 0.5^((risk_at − alert time) / half-life), at `risk_at` = the newest alert's time; an alert with
   * versions (a GuardDuty finding's) counts once, at its newest version's time and level.
   */
  risk: number;
  risk_at: string;
  /**
   * The alerts with versions (GuardDuty finding alerts, ADR 0046), sorted by id: each one's newest version merged, so
   * a later one can move the risk from the earlier one's contribution to its own. Absent while there are none.
   */
  versions?: AlertVersionRef[];
  /** The identity's first incident's id (`inc-…`), shared by all its incidents (ADR 0020). */
  series?: string;
  /** 1 for the series' first incident, then 2, 3, ... in the order they were opened. */
  episode?: number;
  /** On the series' first incident: how many incidents the identity has had. */
  episodes?: number;
  /** When the incident closes if no alert comes (its end + the window), event time. */
  closes_at?: string;
  /** Set when a later alert of the identity shows it went quiet (= `closes_at`); never unset. */
  closed_at?: string | null;
  /**
   * Only on an identity's context document (`<series>-context`, `status: context`, ADR 0051): its low and
   * informational alerts that no incident holds yet, kept so a medium+ alert within the window takes them in.
   */
  held?: IncidentUpdate[];
  /** Analysts' fields: created as below; Seam only ever moves `status` from `open` to `closed` (ADR 0020). */
  status: string;
  assignee: string | null;
  notes: unknown[];
  updated_at: string;
}

/** An identity's own name: its ARN, else its id (unscoped; `incidentKey` scopes it). */
export function identityKey(p: Principal | undefined): string | undefined {
  return p === undefined ? undefined : (p.arn ?? p.id);
}

/**
 * Names that mean one identity wherever it acts: ARNs (an IAM ARN includes its account), access key ids and
 * IAM unique ids (`AIDA…`, `AROA…:session`), unique across AWS. Incidents keep them as their key (ADR 0048).
 */
const GLOBAL_ID = /^(?:arn:|(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA)[A-Z0-9]{8,}(?::|$))/;

/** A Kubernetes identity (user, service account, node, anonymous, a pod): its name means something only in its cluster. */
function isKubernetes(p: Principal): boolean {
  return p.type === 'k8s_user' || p.type === 'service_account' || p.type === 'node' || p.type === 'anonymous' || p.k8s_user !== undefined || p.service_account !== undefined || p.pod !== undefined;
}

/** The cluster the chain's last Kubernetes node lies in (`k8s:<cluster>:user:…`, `…:pod:…`): where an origin reached through an exec acted. */
function chainCluster(chain: Alert['chain']): string | undefined {
  for (let i = (chain?.length ?? 0) - 1; i >= 0; i--) {
    const s = chain![i]!;
    const m = /^k8s:([^:]+):/.exec(s.to) ?? /^k8s:([^:]+):/.exec(s.from);
    if (m !== null) return m[1];
  }
  return undefined;
}

/** A chain node `k8s:<cluster>:sa:<ns>/<name>` → its cluster and `ns/name`. */
const SA_NODE = /^k8s:([^:]+):sa:([^/]+)\/(.+)$/;

/**
 * The service account a workload's STS session was issued to (IRSA, EKS Pod Identity): the last
 * `web_identity_session` or `pod_identity_session` step of the chain (a role chained from the session keeps it),
 * unless the alert's origin lies beyond it (a person who exec'd into the pod).
 */
function chainServiceAccount(chain: Alert['chain'], origin: Principal | undefined): { cluster: string; ns: string; name: string } | undefined {
  for (let i = (chain?.length ?? 0) - 1; i >= 0; i--) {
    const s = chain![i]!;
    if (s.kind !== 'web_identity_session' && s.kind !== 'pod_identity_session') continue;
    const m = SA_NODE.exec(s.to);
    if (m === null) return undefined;
    // An origin beyond the service account (an exec the graph traced to a person) is who acted; one on the way to
    // it (the session itself, an IAM-authenticated Kubernetes user that is the session) is the workload's.
    if (origin !== undefined) {
      const o = identityKey(origin)!;
      if (!chain!.slice(0, i + 1).some((x) => x.from === o || x.to === o || x.from === origin.id || x.to === origin.id)) return undefined;
    }
    return { cluster: m[1]!, ns: m[2]!, name: m[3]! };
  }
  return undefined;
}

/**
 * Is an assumed-role session a workload's, named anew for each session (ADR 0051)? Its name has a generated part:
 * a run of 4+ digits (`external-secrets-1793577600`, `botocore-session-1730815835`, `gha-run-4711`), an instance
 * id (`i-0abc…`) or 16+ hex digits / a UUID (an ECS task, a pod's session). A person's session (`alice`,
 * `alice@example.com`, any session of an IAM Identity Center role `AWSReservedSSO_…`) and a fixed workload name
 * (a Lambda function's) keep the session's own key; only generated names rotate, so only they split incidents.
 */
export function isWorkloadSession(role: string, session: string): boolean {
  if (/:role\/(?:.*\/)?AWSReservedSSO_/.test(role) || session.includes('@')) return false;
  return /\d{4,}|(?:^|[^a-z0-9])i-[0-9a-f]{8,}|[0-9a-f]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-/i.test(session);
}

/**
 * The identity an alert's incident is about (ADR 0015, scoped by ADR 0048, sessions by ADR 0051): who acted,
 * really (`origin`, else `principal`), with two workload identities put in place of a session:
 * - the chain reaches a `web_identity_session` / `pod_identity_session` (IRSA, EKS Pod Identity) and no origin
 *   beyond it (no origin, or the origin is the session itself, e.g. as an IAM-authenticated Kubernetes user):
 *   the service account the session was issued to, as the Kubernetes side names it, so what the stolen or
 *   rotated session did and what the service account did in the cluster are one incident;
 * - an assumed-role session with a generated name (`isWorkloadSession`): its role, so the hourly sessions of one
 *   workload role are one incident. A person's session keeps its own key.
 */
export function incidentIdentity(a: Pick<Alert, 'principal' | 'origin' | 'chain'>): { who: Principal | undefined; cluster?: string } {
  const sa = chainServiceAccount(a.chain, a.origin ?? undefined);
  if (sa !== undefined) {
    const user = `system:serviceaccount:${sa.ns}:${sa.name}`;
    return { who: { id: user, type: 'service_account', k8s_user: user, service_account: `${sa.ns}/${sa.name}` }, cluster: sa.cluster };
  }
  const who = a.origin ?? a.principal ?? undefined;
  const arn = who?.arn ?? who?.id;
  const role = arn === undefined ? undefined : roleOfSession(arn);
  if (who !== undefined && role !== undefined && isWorkloadSession(role, sessionNameOf(arn!)!)) return { who: { id: role, arn: role, type: 'iam_role' } };
  return { who };
}

/**
 * The incident key of an alert (ADR 0015, scoped by ADR 0048): the identity of `incidentIdentity` (ADR 0051).
 * - An ARN, access key id or IAM unique id is the key as it is: it names one identity in every account.
 * - A Kubernetes identity without one (`system:anonymous`, `kubernetes-admin`, a service account, a node, a
 *   pod) is named only within its cluster: `eks:<account>:<cluster>/<name>` (account empty when the alert does
 *   not know it), so the same name in two clusters or two accounts is two incidents. An IAM-authenticated
 *   Kubernetes user, or a service account the graph traced to an IAM session through an exec, has an ARN
 *   origin and keeps the ARN key. A workload session's service account is in the cluster its chain names.
 * - Any other identity without an ARN (an AWS service principal, `root` without its ARN): `aws:<account>/<name>`.
 * - No principal: what the alert is about: the GuardDuty finding's resource (`aws:<account>/ec2:i-…`, `…/s3:<bucket>`;
 *   `Alert.resource`), else its cluster `eks:<account>:<cluster>`, else `aws:<account>`, else `unknown`.
 * With nothing to scope by (no cluster, no account) a name stays as it is.
 */
export function incidentKey(a: Pick<Alert, 'principal' | 'origin' | 'account' | 'cluster' | 'chain' | 'resource'>): string {
  return keyOf(a, incidentIdentity(a));
}

/**
 * Writes `incident_key` on each alert (SOC review M7): the key its incident is grouped by, so dashboards over the
 * alerts index group them as incidents are, alerts without an `origin` included. Call once the alert's principal,
 * origin, chain, account, cluster and resource are final (the detect stage does, for every alert it hands on).
 */
export function keyAlerts<T extends Pick<Alert, 'principal' | 'origin' | 'account' | 'cluster' | 'chain' | 'resource' | 'incident_key'>>(alerts: T[]): T[] {
  for (const a of alerts) a.incident_key = incidentKey(a);
  return alerts;
}

function keyOf(a: Pick<Alert, 'account' | 'cluster' | 'chain' | 'resource'>, { who, cluster: own }: ReturnType<typeof incidentIdentity>): string {
  const account = a.account === undefined || a.account === '' ? undefined : a.account;
  const inAccount = account === undefined ? undefined : `aws:${account}`;
  if (who === undefined) {
    if (a.resource !== undefined && a.resource !== '') return inAccount === undefined ? a.resource : `${inAccount}/${a.resource}`;
    return a.cluster !== undefined && a.cluster !== '' ? `eks:${account ?? ''}:${a.cluster}` : (inAccount ?? 'unknown');
  }
  const id = identityKey(who)!;
  if (GLOBAL_ID.test(id)) return id;
  if (isKubernetes(who)) {
    const cluster = own ?? (a.cluster === '' ? undefined : a.cluster) ?? chainCluster(a.chain);
    if (cluster !== undefined) return `eks:${account ?? ''}:${cluster}/${id}`;
  }
  return inAccount === undefined ? id : `${inAccount}/${id}`;
}

/** `inc-` and 12 hex digits of sha256 of the incident key (the same ids `seam report incident` names). */
export function incidentId(key: string): string {
  return `inc-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** The id of an identity's `episode`-th incident: the series id, then `<series>-2`, `-3`, ... */
export function episodeId(series: string, episode: number): string {
  return episode <= 1 ? series : `${series}-${episode}`;
}

/** The id of an identity's context document: its low/informational alerts no incident holds (ADR 0051). */
export function contextId(series: string): string {
  return `${series}-context`;
}

/** Medium and above opens (and spans) an incident; low and informational alerts are its context only (ADR 0051). */
export function opensIncident(level: string): boolean {
  return level === 'medium' || level === 'high' || level === 'critical';
}

export function incidentUpdate(a: Alert, closeAfterMs?: number): IncidentUpdate {
  const identity = incidentIdentity(a);
  const who = identity.who;
  const key = keyOf(a, identity);
  const level = (INCIDENT_LEVELS as readonly string[]).includes(a.rule.level) ? (a.rule.level as Level) : 'medium';
  const principal = identityKey(a.principal);
  return {
    v: 1,
    incident: incidentId(key),
    key,
    ...(who ? { who } : {}),
    ...(a.account ? { account: a.account } : {}),
    ...(a.cluster ? { cluster: a.cluster } : {}),
    ...(closeAfterMs !== undefined && closeAfterMs !== DEFAULT_CLOSE_AFTER_MS ? { close_after_ms: closeAfterMs } : {}),
    alert: {
      id: a.id,
      '@timestamp': a['@timestamp'],
      level,
      rule: a.rule.id,
      title: a.rule.title,
      ...(principal ? { principal } : {}),
      ...(a.chain && a.chain.length > 0 ? { chain: a.chain } : {}),
      ...(a.finding !== undefined ? { versioned: true as const } : {}),
    },
  };
}

/** The `seam.incidents` messages of alerts (keyed by incident id: one incident's updates stay in order). */
export function incidentMessages(topic: string, alerts: readonly Alert[], closeAfterMs?: number): BusMessage[] {
  return alerts.map((a) => {
    const u = incidentUpdate(a, closeAfterMs);
    return { topic, key: u.incident, value: Buffer.from(JSON.stringify(u)) };
  });
}

export function decodeIncidentUpdate(value: Buffer): IncidentUpdate | undefined {
  try {
    const u = JSON.parse(value.toString('utf8')) as Partial<IncidentUpdate> | null;
    if (u?.v !== 1 || typeof u.incident !== 'string' || typeof u.key !== 'string' || typeof u.alert?.id !== 'string' || typeof u.alert['@timestamp'] !== 'string') return undefined;
    if (!Number.isFinite(Date.parse(u.alert['@timestamp']))) return undefined;
    if (u.close_after_ms !== undefined && !(typeof u.close_after_ms === 'number' && u.close_after_ms > 0)) return undefined;
    return u as IncidentUpdate;
  } catch {
    return undefined;
  }
}

const decay = (ms: number): number => Math.pow(0.5, ms / RISK_HALF_LIFE_MS);
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * An incident's risk from its alerts (one version each, as `incidentsFrom` keeps them), as the incidents index
 * computes it (ADR 0015): Σ weight(level) × 0.5^((newest alert's time − alert's time) / half-life).
 */
export function incidentRisk(alerts: readonly { '@timestamp': string; rule: { level: string } }[]): number {
  if (alerts.length === 0) return 0;
  const at = Math.max(...alerts.map((a) => Date.parse(a['@timestamp'])));
  let risk = 0;
  for (const a of alerts) risk += (RISK_WEIGHTS[a.rule.level as Level] ?? 0) * decay(at - Date.parse(a['@timestamp']));
  return round(risk);
}

/** Adds weight `w` at time `ts` to the incident's risk, kept at its newest contribution's time (`risk_at`). */
function addRisk(d: IncidentDoc, w: number, ts: string): void {
  const t = Date.parse(ts);
  const at = Date.parse(d.risk_at);
  if (t > at) {
    d.risk = round(d.risk * decay(t - at) + w);
    d.risk_at = ts;
  } else d.risk = round(d.risk + w * decay(at - t));
}

/** The version entry of alert `id` in a sorted list, or undefined. */
function findVersion(list: readonly AlertVersionRef[], id: string): AlertVersionRef | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid]!;
    if (v.id === id) return v;
    if (v.id < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * Applies updates to an incident document (undefined: a new incident) and returns the new document, or
 * undefined when nothing changed (every alert was already in it: a redelivery). Order-independent:
 * any order of the same updates gives the same Seam-owned fields (risk to 6 decimals). Analysts' fields are
 * copied from `doc` untouched.
 */
export function mergeIncident(doc: IncidentDoc | undefined, updates: readonly IncidentUpdate[], now: Date = new Date()): IncidentDoc | undefined {
  let d: IncidentDoc | undefined = doc === undefined ? undefined : { ...doc };
  // Sets while merging, sorted arrays once at the end: a batch costs O(size + updates), not O(size × updates).
  const ids = new Set<string>();
  const has = (id: string): boolean => ids.has(id) || (doc !== undefined && hasSorted(doc.alert_ids, id));
  const rules = new Set(doc?.rules);
  const accounts = new Set(doc?.accounts);
  const clusters = new Set(doc?.clusters);
  const actors = new Set(doc?.actors);
  const fresh: string[] = [];
  /** Alerts with versions: their newest version merged (`IncidentDoc.versions`); copied when one changes. */
  let versions: Map<string, AlertVersionRef> | undefined;
  const versionOf = (id: string): AlertVersionRef | undefined => (versions !== undefined ? versions.get(id) : doc?.versions === undefined ? undefined : findVersion(doc.versions, id));
  const setVersion = (v: AlertVersionRef): void => {
    versions ??= new Map((doc?.versions ?? []).map((x) => [x.id, x]));
    versions.set(v.id, v);
  };
  let chainText: string | undefined;
  let changed = false;
  // A new document takes its span from its first medium+ alert (a context alert's time only while it has none).
  let spanless = doc === undefined;
  const contextOnly = !updates.some((x) => opensIncident(x.alert.level));
  for (const u of updates) {
    const a = u.alert;
    if (d === undefined) {
      d = { id: u.incident, key: u.key, ...(u.who ? { who: u.who } : {}), accounts: [], clusters: [], level: 'informational', start: a['@timestamp'], end: a['@timestamp'], alert_count: 0, alert_ids: [], rules: [], actors: [], chain: [], risk: 0, risk_at: a['@timestamp'], status: 'open', assignee: null, notes: [], updated_at: '' };
    }
    if (has(a.id)) {
      // A redelivery, or a later version of an alert already in (a GuardDuty finding's, ADR 0046): the count stays.
      if (INCIDENT_LEVELS.indexOf(a.level) > INCIDENT_LEVELS.indexOf(d.level)) {
        d.level = a.level;
        changed = true;
      }
      const v = versionOf(a.id);
      if (v === undefined) continue;
      // An earlier version arriving after a later one: the span starts at the first sighting, whatever the order.
      // A context alert's versions leave the span alone (ADR 0051).
      const spans = opensIncident(a.level) || opensIncident(v.level);
      if (spans && a['@timestamp'] < d.start) {
        d.start = a['@timestamp'];
        changed = true;
      }
      if (!(a['@timestamp'] > v.at)) continue;
      // Its risk moves from the version merged before to this one (time and level); the span reaches it.
      changed = true;
      const at = Date.parse(d.risk_at);
      d.risk = round(Math.max(0, d.risk - (RISK_WEIGHTS[v.level] ?? 0) * decay(at - Date.parse(v.at))));
      addRisk(d, RISK_WEIGHTS[a.level] ?? 0, a['@timestamp']);
      if (spans && a['@timestamp'] > d.end) d.end = a['@timestamp'];
      setVersion({ id: a.id, at: a['@timestamp'], level: a.level });
      continue;
    }
    changed = true;
    if (a.versioned === true) setVersion({ id: a.id, at: a['@timestamp'], level: a.level });
    ids.add(a.id);
    fresh.push(a.id);
    rules.add(a.rule);
    if (u.account) accounts.add(u.account);
    if (u.cluster) clusters.add(u.cluster);
    if (a.principal !== undefined && a.principal !== d.key && a.principal !== identityKey(u.who)) actors.add(a.principal);
    if (INCIDENT_LEVELS.indexOf(a.level) > INCIDENT_LEVELS.indexOf(d.level)) d.level = a.level;
    // The span is the medium+ alerts' (ADR 0051): context alerts neither open an incident nor keep it open.
    if (opensIncident(a.level) || (spanless && contextOnly)) {
      if (spanless || a['@timestamp'] < d.start) d.start = a['@timestamp'];
      if (spanless || a['@timestamp'] > d.end) d.end = a['@timestamp'];
      spanless = false;
    }
    // Longest chain; on a tie the one that sorts first, so the order of updates does not matter. A context alert's
    // chain is not the incident's (ADR 0051: held context keeps none, so it cannot count in one order and not another).
    const c = (opensIncident(a.level) ? a.chain : undefined) ?? [];
    if (c.length > d.chain.length) {
      d.chain = c;
      chainText = undefined;
    } else if (c.length === d.chain.length && c.length > 0) {
      const text = JSON.stringify(c);
      chainText ??= JSON.stringify(d.chain);
      if (text < chainText) {
        d.chain = c;
        chainText = text;
      }
    }
    if (d.who === undefined && u.who !== undefined) d.who = u.who;
    // Risk at the newest alert's time: older contributions decay to it, a late one enters decayed.
    const w = RISK_WEIGHTS[a.level] ?? 0;
    if (ids.size === 1 && (doc === undefined || doc.alert_ids.length === 0)) {
      d.risk = w;
      d.risk_at = a['@timestamp'];
    } else addRisk(d, w, a['@timestamp']);
  }
  if (!changed || d === undefined) return undefined;
  if (versions !== undefined) d.versions = [...versions.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  d.alert_ids = doc === undefined ? fresh.sort() : mergeSorted(doc.alert_ids, fresh.sort());
  d.alert_count = d.alert_ids.length;
  d.rules = [...rules].sort();
  d.accounts = [...accounts].sort();
  d.clusters = [...clusters].sort();
  d.actors = [...actors].sort();
  d.updated_at = now.toISOString();
  return d;
}

/** Is `x` in the sorted list `a`? */
function hasSorted(a: readonly string[], x: string): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Two sorted lists of distinct strings as one sorted list (the incident's ids and a batch's new ones, without sorting all again). */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return [...a];
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Where an alert at `t` belongs among an identity's incidents: the first whose span widened by the window holds it, else a new one (-1). */
export function placeAlert(spans: readonly { start: string; end: string }[], t: string, closeAfterMs: number): number {
  const ms = Date.parse(t);
  return spans.findIndex((s) => ms >= Date.parse(s.start) - closeAfterMs && ms <= Date.parse(s.end) + closeAfterMs);
}

/** When an incident ending at `end` closes if quiet. */
export function closesAt(end: string, closeAfterMs: number): string {
  return new Date(Date.parse(end) + closeAfterMs).toISOString();
}

/** A stored incident document and its version (OpenSearch seq_no/primary_term; a counter in the file sink). */
export interface StoredIncident {
  doc: IncidentDoc;
  version: unknown;
}

/** What `applyIncidentUpdates` needs of an index: read by id, write conditionally (`version` undefined: create). */
export interface IncidentStore {
  read(ids: readonly string[]): Promise<Map<string, StoredIncident>>;
  /** Writes each document only if its stored version is still `version`; returns the ids that conflicted. */
  write(docs: readonly { id: string; doc: IncidentDoc; version: unknown }[]): Promise<Set<string>>;
}

const MAX_ROUNDS = 8;

/**
 * Merges incident updates into a store (both sinks' `mergeIncidents`), with the lifecycle of ADR 0020: per
 * identity (series), read its incidents, place each new alert (time order) in the incident whose span
 * widened by the window holds it or open the next one, close those a later alert shows went quiet, and write
 * what changed conditionally; a series that conflicted is read and merged again. Idempotent (an alert
 * already in one of the series' incidents changes nothing). Returns how many documents changed.
 */
export async function applyIncidentUpdates(store: IncidentStore, updates: readonly IncidentUpdate[], now: Date = new Date()): Promise<number> {
  const pending = new Map<string, IncidentUpdate[]>();
  for (const u of updates) {
    const list = pending.get(u.incident);
    if (list === undefined) pending.set(u.incident, [u]);
    else list.push(u);
  }
  let changed = 0;
  for (let round = 0; pending.size > 0; round++) {
    if (round >= MAX_ROUNDS) throw new Error(`${pending.size} incidents kept conflicting with concurrent updates`);
    const heads = await store.read([...pending.keys()].flatMap((series) => [series, contextId(series)]));
    // Every incident the head counts, and two more: a write that created one but not the head's count.
    const more: string[] = [];
    for (const series of pending.keys()) {
      const n = heads.get(series)?.doc.episodes ?? 1;
      for (let e = 2; e <= n + 2; e++) more.push(episodeId(series, e));
    }
    const rest = more.length > 0 ? await store.read(more) : new Map<string, StoredIncident>();
    const writes: { id: string; doc: IncidentDoc; version: unknown }[] = [];
    const bySeries = new Map<string, number>();
    for (const [series, us] of pending) {
      const stored: (StoredIncident | undefined)[] = [heads.get(series)];
      for (let e = 2; rest.has(episodeId(series, e)) || e <= (heads.get(series)?.doc.episodes ?? 1); e++) stored.push(rest.get(episodeId(series, e)));
      const out = mergeSeries(series, stored, heads.get(contextId(series)), us, now);
      bySeries.set(series, out.length);
      writes.push(...out);
    }
    for (const [series, n] of bySeries) if (n === 0) pending.delete(series);
    if (writes.length === 0) break;
    const conflicts = await store.write(writes);
    const failed = new Set<string>();
    for (const w of writes) {
      if (conflicts.has(w.id)) failed.add(w.doc.series ?? w.id);
      else changed++;
    }
    for (const series of [...pending.keys()]) if (!failed.has(series)) pending.delete(series);
  }
  return changed;
}

const LIFECYCLE_FIELDS = ['series', 'episode', 'closes_at', 'closed_at', 'status', 'episodes'] as const satisfies readonly (keyof IncidentDoc)[];

/** One identity's incidents after `updates`: the documents to write (changed or new), with the versions read. */
function mergeSeries(series: string, stored: readonly (StoredIncident | undefined)[], heldStored: StoredIncident | undefined, updates: readonly IncidentUpdate[], now: Date): { id: string; doc: IncidentDoc; version: unknown }[] {
  const window = updates.find((u) => u.close_after_ms !== undefined)?.close_after_ms ?? DEFAULT_CLOSE_AFTER_MS;
  const docs: (IncidentDoc | undefined)[] = stored.map((s) => s?.doc);
  const touched = new Set<number>();
  // Alert ids already in the series (each document's are sorted: a binary search, no set of them all per batch) or placed now.
  const known = new Set<string>();
  const isKnown = (id: string): boolean => known.has(id) || docs.some((d) => d !== undefined && hasSorted(d.alert_ids, id));
  const sorted = [...updates].sort(byTime);
  // Place every new alert in time order against the spans as they grow, then merge each incident's alerts at once.
  const spans = docs.map((d) => d ?? { start: '9999', end: '0000' });
  const placed = new Map<number, IncidentUpdate[]>();
  const place = (i: number, u: IncidentUpdate): void => {
    const list = placed.get(i);
    if (list === undefined) placed.set(i, [u]);
    else list.push(u);
  };
  /** Alert id → the incident it was placed in by this batch. */
  const where = new Map<string, number>();
  // A later version of an alert already placed (a GuardDuty finding's, ADR 0046) counts nothing again. Within its
  // incident's lifetime (before the incident would close) it moves the incident's end and the alert's risk to its own
  // time and level (`mergeIncident`); later than that (the finding resumed after the incident went quiet) it can only
  // raise the incident's level, as can any version of an alert merged before versions were kept.
  const raised = new Map<string, Level>();
  // Low and informational alerts held so far (ADR 0051): not in any incident, by alert id.
  const held = new Map<string, IncidentUpdate>((heldStored?.doc.held ?? []).map((u) => [u.alert.id, u]));
  let heldChanged = false;
  // A version's highest level decides whether an alert opens an incident; its earliest version is placed.
  const top = new Map<string, Level>();
  for (const u of updates) {
    const r = top.get(u.alert.id);
    if (r === undefined || INCIDENT_LEVELS.indexOf(u.alert.level) > INCIDENT_LEVELS.indexOf(r)) top.set(u.alert.id, u.alert.level);
  }
  /** Places a new alert: in the incident whose span widened by the window holds it, else (medium+) a new one, else (context) held. */
  const placeNew = (u: IncidentUpdate, opening: boolean): number => {
    const t = u.alert['@timestamp'];
    let i = placeAlert(spans, t, window);
    if (i < 0) {
      if (!opening) {
        // Context without an incident in reach: held until a medium+ alert of the identity comes within the window.
        if (!held.has(u.alert.id)) {
          held.set(u.alert.id, u);
          heldChanged = true;
        }
        return -1;
      }
      // The first missing slot (a head never written), else the next episode.
      i = docs.findIndex((d, k) => d === undefined && !placed.has(k));
      if (i < 0) i = Math.max(docs.length, spans.length);
    }
    if (held.delete(u.alert.id)) heldChanged = true;
    if (opening) {
      const span = spans[i];
      if (span === undefined || (!placed.has(i) && docs[i] === undefined)) spans[i] = { start: t, end: t };
      else spans[i] = { start: t < span.start ? t : span.start, end: t > span.end ? t : span.end };
    }
    place(i, u);
    where.set(u.alert.id, i);
    return i;
  };
  const context: IncidentUpdate[] = [];
  for (const u of sorted) {
    const t = u.alert['@timestamp'];
    const level = top.get(u.alert.id)!;
    if (isKnown(u.alert.id)) {
      const i = where.get(u.alert.id) ?? docs.findIndex((d) => d !== undefined && hasSorted(d.alert_ids, u.alert.id));
      const span = spans[i];
      if (u.alert.versioned === true && span !== undefined && Date.parse(t) <= Date.parse(span.end) + window) {
        // A context alert's version does not move the span (ADR 0051).
        if (opensIncident(u.alert.level)) spans[i] = { start: t < span.start ? t : span.start, end: t > span.end ? t : span.end };
        place(i, u);
        continue;
      }
      const r = raised.get(u.alert.id);
      if (r === undefined || INCIDENT_LEVELS.indexOf(u.alert.level) > INCIDENT_LEVELS.indexOf(r)) raised.set(u.alert.id, u.alert.level);
      continue;
    }
    known.add(u.alert.id);
    const h = held.get(u.alert.id);
    if (h !== undefined) {
      // A held alert's later version: it opens an incident if it rose to medium+ (at its first version's time; the
      // version follows as one, ADR 0046).
      if (opensIncident(level)) {
        const i = placeNew({ ...h, alert: { ...h.alert, level } }, true);
        if (u.alert.versioned === true && t > h.alert['@timestamp']) {
          const span = spans[i]!;
          spans[i] = { start: span.start, end: t > span.end ? t : span.end };
          place(i, u);
        }
      }
      continue;
    }
    if (opensIncident(level)) placeNew(level === u.alert.level ? u : { ...u, alert: { ...u.alert, level } }, true);
    else context.push(u);
  }
  // Context alerts after every medium+ alert is placed, held ones again: each joins the first incident whose
  // span widened by the window holds it, whatever order the alerts came in.
  for (const u of [...context, ...(placed.size > 0 ? [...held.values()] : [])].sort(byTime)) placeNew(u, false);
  for (const [i, us] of [...placed].sort((x, y) => x[0] - y[0])) {
    const id = episodeId(series, i + 1);
    const merged = mergeIncident(docs[i], us.map((u) => ({ ...u, incident: id })), now);
    if (merged === undefined) continue;
    merged.series = series;
    merged.episode = i + 1;
    docs[i] = merged;
    touched.add(i);
  }
  for (const [id, level] of raised) {
    const i = docs.findIndex((d) => d !== undefined && hasSorted(d.alert_ids, id));
    const d = docs[i];
    if (d === undefined || INCIDENT_LEVELS.indexOf(level) <= INCIDENT_LEVELS.indexOf(d.level)) continue;
    docs[i] = { ...d, level, updated_at: now.toISOString() };
    touched.add(i);
  }
  // Lifecycle fields: the head counts the series, each knows when it closes, and the quiet ones close once.
  const newestMs = Math.max(...docs.map((d) => (d ? Date.parse(d.end) : -Infinity)));
  docs.forEach((d, i) => {
    if (d === undefined) return;
    const next = { ...d };
    if (next.series === undefined) next.series = series;
    if (next.episode === undefined) next.episode = i + 1;
    next.closes_at = closesAt(d.end, window);
    if ((next.closed_at ?? null) === null) {
      if (newestMs > Date.parse(next.closes_at)) {
        next.closed_at = next.closes_at;
        if (next.status === 'open') next.status = 'closed';
      } else next.closed_at = null;
      // Closed stays closed; a late alert of its span moves its end, and so when it went quiet.
    } else next.closed_at = next.closes_at;
    if (i === 0) next.episodes = Math.max(next.episodes ?? 1, docs.length);
    // `next` differs from `d` only in the lifecycle fields set above.
    if (LIFECYCLE_FIELDS.some((f) => next[f] !== d[f])) {
      if (!touched.has(i)) next.updated_at = now.toISOString();
      docs[i] = next;
      touched.add(i);
    }
  });
  const out = [...touched].sort((a, b) => a - b).map((i) => ({ id: episodeId(series, i + 1), doc: docs[i]!, version: stored[i]?.version as unknown }));
  // Held context older than two windows before the identity's newest alert (any level: the newest `risk_at` of its
  // incidents, the context document's `end`) is forgotten: only a medium+ alert more than a window behind the newest (a source lagging more than
  // that, ADR 0020's limit too) could still take it.
  const times = [heldStored?.doc.end, ...docs.map((d) => d?.risk_at), ...updates.map((u) => u.alert['@timestamp']), ...[...held.values()].map((u) => u.alert['@timestamp'])].flatMap((t) => (t === undefined ? [] : [Date.parse(t)]));
  const newestSeen = Math.max(newestMs, ...times);
  for (const [id, u] of held) {
    if (Date.parse(u.alert['@timestamp']) < newestSeen - 2 * window) {
      held.delete(id);
      heldChanged = true;
    }
  }
  const seenAt = Number.isFinite(newestSeen) ? new Date(newestSeen).toISOString() : undefined;
  if (heldChanged || (heldStored !== undefined && seenAt !== undefined && seenAt !== heldStored.doc.end)) {
    out.push({ id: contextId(series), doc: contextDoc(series, heldStored?.doc, [...held.values()].sort(byTime), seenAt, now), version: heldStored?.version });
  }
  return out;
}

const byTime = (x: IncidentUpdate, y: IncidentUpdate): number => (x.alert['@timestamp'] < y.alert['@timestamp'] ? -1 : x.alert['@timestamp'] > y.alert['@timestamp'] ? 1 : x.alert.id < y.alert.id ? -1 : x.alert.id > y.alert.id ? 1 : 0);

/**
 * An identity's context document (ADR 0051): its held low/informational alerts, so that they join an incident a
 * later medium+ alert opens within the window, in any order and after a restart. Not an incident:
 * `status: context`, `episode: 0`; its alert ids are the held ones (an alert moves out when an incident takes it);
 * `start` is the oldest held alert's time, `end` the identity's newest alert's time at any level.
 */
function contextDoc(series: string, prev: IncidentDoc | undefined, held: IncidentUpdate[], newest: string | undefined, now: Date): IncidentDoc {
  const first = held[0] ?? prev?.held?.[0];
  const level = held.reduce<Level>((l, u) => (INCIDENT_LEVELS.indexOf(u.alert.level) > INCIDENT_LEVELS.indexOf(l) ? u.alert.level : l), 'informational');
  const at = (u: IncidentUpdate | undefined): string => u?.alert['@timestamp'] ?? prev?.start ?? now.toISOString();
  return {
    id: contextId(series),
    key: first?.key ?? prev?.key ?? '',
    ...((first?.who ?? prev?.who) ? { who: first?.who ?? prev?.who } : {}),
    accounts: [...new Set(held.flatMap((u) => (u.account ? [u.account] : [])))].sort(),
    clusters: [...new Set(held.flatMap((u) => (u.cluster ? [u.cluster] : [])))].sort(),
    level,
    start: at(held[0]),
    // The identity's newest alert seen (any level): what held context is kept behind.
    end: newest ?? at(held[held.length - 1]),
    alert_count: held.length,
    alert_ids: held.map((u) => u.alert.id).sort(),
    rules: [...new Set(held.map((u) => u.alert.rule))].sort(),
    actors: [],
    chain: [],
    risk: 0,
    risk_at: at(held[held.length - 1]),
    series,
    episode: 0,
    // Without chains: context does not give an incident its chain, and a chain per held alert made the document large.
    held: held.map(({ close_after_ms: _, alert: { chain: __, ...alert }, ...u }) => ({ ...u, alert })),
    status: 'context',
    assignee: null,
    notes: [],
    updated_at: now.toISOString(),
  };
}
