/**
 * The incident page's "Before" section: what the incident's identity, and the other identities its evidence names
 * (who made the grant a grantee then used: an access entry, an aws-auth mapping, an RBAC binding), did in the hour
 * before the first alert. Read from the same events the page reads (a `seam run` folder's events.jsonl, or the
 * event indices), bounded: a fixed window, a few rows per identity (the newest, nearest the alert), with counts of
 * what was left out; and said plainly when the events do not cover the window or cannot be read.
 */
import type { SeamEvent } from '../core/envelope.ts';
import type { Incident } from '../pipeline/incident.ts';
import { eventNames, incidentNames, isByIncident } from './incident-model.ts';

/** How far back before the first alert the section looks. */
export const BEFORE_WINDOW_MS = 60 * 60_000;
/** Rows shown per identity: the newest (nearest the alert); the rest are counted. */
export const BEFORE_ROWS = 15;

/** One identity whose events before the incident the page shows. */
export interface BeforeSubject {
  /** `incident`: the incident's identity and its chain; `evidence`: another identity behind an evidence event. */
  role: 'incident' | 'evidence';
  /** Its name on the page (an ARN, a Kubernetes user). */
  label: string;
  /** What ties an `evidence` identity to the incident: its events among the alerts' evidence (`<time> <action> <resource>`). */
  via: string[];
  /** The newest BEFORE_ROWS events in the window, oldest first. */
  events: SeamEvent[];
  /**
   * Every event of it in the window that was read, shown or left out (`--evidence` writes them all, so a page drawn
   * again from the evidence counts what this one counts).
   */
  read: SeamEvent[];
  /** Every event of it in the window (shown and left out). */
  total: number;
  /** Events in the window by plane (`k8s_audit`, `cloudtrail`, …). */
  bySource: Record<string, number>;
}

export interface BeforeSection {
  /** The window: [from, to), `to` the incident's first alert. */
  from: string;
  to: string;
  subjects: BeforeSubject[];
  /** The earliest event the source holds, when known: later than `from` means the window is only partly covered. */
  dataFrom?: string;
  /** Why no event could be read (an index that did not answer): the section says so instead of "nothing". */
  unavailable?: string;
  /** OpenSearch: events the query found past the most it reads, not shown nor counted per identity. */
  unread?: number;
}

/** Who the section is about, with how to recognise their events. */
export interface BeforeTarget {
  role: BeforeSubject['role'];
  label: string;
  via: string[];
  /** Names as incidentNames/eventNames give them: ARNs, access keys, `k8s:<cluster>:user|sa|pod:…`. */
  names: Set<string>;
}

export function beforeWindow(inc: Incident, ms: number = BEFORE_WINDOW_MS): { from: string; to: string } {
  const to = Date.parse(inc.start);
  return { from: new Date(to - ms).toISOString(), to: new Date(to).toISOString() };
}

const principalLabel = (e: SeamEvent): string | undefined => {
  const p = e.seam.origin ?? e.seam.principal;
  return p === undefined ? undefined : (p.arn ?? p.k8s_user ?? p.id);
};

/**
 * The incident's identity first, then each other identity behind an event of the alerts' evidence or related
 * events (the page's "Other identities from"): for a grant, who made it.
 */
export function beforeTargets(inc: Incident, events: ReadonlyMap<string, SeamEvent>): BeforeTarget[] {
  const names = incidentNames(inc);
  const who = inc.who?.arn ?? inc.who?.k8s_user ?? inc.who?.id ?? inc.key;
  const targets: BeforeTarget[] = [{ role: 'incident', label: who, via: [], names }];
  const others = new Map<string, BeforeTarget>();
  const ids = new Set(inc.alerts.flatMap((a) => [...a.events, ...(a.related_events ?? [])]));
  const byTime = [...events.values()].filter((e) => ids.has(e.seam.id)).sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : a['@timestamp'] > b['@timestamp'] ? 1 : 0));
  for (const e of byTime) {
    if (isByIncident(e, names, inc)) continue;
    const label = principalLabel(e);
    if (label === undefined) continue;
    const t = others.get(label) ?? { role: 'evidence' as const, label, via: [], names: new Set<string>() };
    for (const n of eventNames(e)) t.names.add(n);
    t.via.push(`${e['@timestamp'].slice(11, 19)} ${e.seam.action ?? ''}${e.seam.resource ? ` ${e.seam.resource}` : ''}`.trim());
    others.set(label, t);
  }
  return [...targets, ...others.values()];
}

/** Collects, from events in any order, each target's events in the window (an event goes to the first target it is by). */
export class BeforeCollector {
  private readonly from: number;
  private readonly to: number;
  private readonly kept: SeamEvent[][];
  private readonly all: SeamEvent[][];
  private readonly totals: number[];
  private readonly sources: Record<string, number>[];
  private earliest: string | undefined;

  constructor(
    readonly inc: Incident,
    readonly targets: readonly BeforeTarget[],
    readonly window: { from: string; to: string } = beforeWindow(inc),
    private readonly rows: number = BEFORE_ROWS,
  ) {
    this.from = Date.parse(window.from);
    this.to = Date.parse(window.to);
    this.kept = targets.map(() => []);
    this.all = targets.map(() => []);
    this.totals = targets.map(() => 0);
    this.sources = targets.map(() => ({}));
  }

  add(e: SeamEvent): void {
    const ts = e['@timestamp'];
    if (this.earliest === undefined || ts < this.earliest) this.earliest = ts;
    const t = Date.parse(ts);
    if (!(t >= this.from && t < this.to)) return;
    const i = this.targets.findIndex((x) => (x.role === 'incident' ? isByIncident(e, x.names, this.inc) : eventNames(e).some((n) => x.names.has(n))));
    if (i < 0) return;
    this.totals[i]!++;
    const s = this.sources[i]!;
    s[e.seam.source] = (s[e.seam.source] ?? 0) + 1;
    this.all[i]!.push(e);
    const k = this.kept[i]!;
    k.push(e);
    // Keep the newest rows only (nearest the alert); sort and trim now and then, not per event.
    if (k.length > this.rows * 4) this.trim(i);
  }

  private trim(i: number): void {
    const k = this.kept[i]!.sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : a['@timestamp'] > b['@timestamp'] ? 1 : 0));
    this.kept[i] = k.slice(Math.max(0, k.length - this.rows));
  }

  /** The section. `dataFrom`: the earliest event the source holds, when the caller knows it better than what was added. */
  result(o: { dataFrom?: string } = {}): BeforeSection {
    const subjects = this.targets.map((t, i): BeforeSubject => {
      this.trim(i);
      return { role: t.role, label: t.label, via: t.via, events: this.kept[i]!, read: this.all[i]!, total: this.totals[i]!, bySource: this.sources[i]! };
    });
    const dataFrom = o.dataFrom ?? this.earliest;
    return { ...this.window, subjects, ...(dataFrom !== undefined ? { dataFrom } : {}) };
  }
}

/**
 * The OpenSearch query for the targets' events in the window: keyword terms on the acting and originating
 * principal (ARN, id, access key, Kubernetes user, service account, pod); the caller checks each hit as the folder
 * does (BeforeCollector.add), so the query only has to find a superset.
 */
export function beforeQuery(targets: readonly BeforeTarget[], window: { from: string; to: string }): Record<string, unknown> {
  const ids = new Set<string>();
  const users = new Set<string>();
  const sas = new Set<string>();
  const pods = new Set<string>();
  for (const t of targets) {
    for (const n of t.names) {
      const k = /^k8s:[^:]*:(user|sa|pod):(.+)$/.exec(n);
      if (k) ({ user: users, sa: sas, pod: pods })[k[1] as 'user' | 'sa' | 'pod'].add(k[2]!);
      else ids.add(n.replace(/^akid:/, ''));
    }
  }
  const should: Record<string, unknown>[] = [];
  for (const side of ['principal', 'origin']) {
    if (ids.size > 0) for (const f of ['arn', 'id', 'access_key_id']) should.push({ terms: { [`seam.${side}.${f}`]: [...ids] } });
    if (users.size > 0) should.push({ terms: { [`seam.${side}.k8s_user`]: [...users] } }, { terms: { [`seam.${side}.id`]: [...users] } });
    if (sas.size > 0) should.push({ terms: { [`seam.${side}.service_account`]: [...sas] } });
    if (pods.size > 0) should.push({ terms: { [`seam.${side}.pod`]: [...pods] } });
  }
  return { bool: { filter: [{ range: { '@timestamp': { gte: window.from, lt: window.to } } }, { bool: { should, minimum_should_match: 1 } }] } };
}
