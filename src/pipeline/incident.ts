import { shortChain } from '../identity/chain-text.ts';
import type { Principal } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { closesAt, DEFAULT_CLOSE_AFTER_MS, episodeId, identityKey, incidentUpdate, opensIncident, placeAlert } from './incident-topic.ts';

/**
 * Groups alerts into incidents exactly as the incidents index does (ADR 0015, lifecycle ADR 0020): by who
 * acted, really (the alert's origin, the identity graph's answer, else its principal; `incidentUpdate`),
 * split into incidents where the identity went quiet for longer than the window (`placeAlert`); low and
 * informational alerts only join an incident a medium+ alert opened (ADR 0051). So the
 * console, the incident pages and `<prefix>-incidents` name the same incidents with the same ids. (The
 * printout once also folded an identity's incident into the one whose identity it acted for: it then
 * showed alice's and the stolen IRSA session's incidents as one, where the index had two.)
 */
export interface Incident {
  /** The incidents index's id: the series id `inc-…` for an identity's first incident, then `-2`, `-3`. */
  id: string;
  key: string;
  who: Principal | undefined;
  level: Alert['rule']['level'];
  start: string;
  end: string;
  alerts: Alert[];
  /** Principals that acted on this identity's behalf (sessions, service accounts, mapped users). */
  actors: string[];
  /** The longest identity chain seen among the alerts. */
  chain: NonNullable<Alert['chain']>;
  /** `closed` once a later alert of the identity shows it went quiet for the window (event time). */
  status: 'open' | 'closed';
  /** When it closes if no alert comes (end + window). */
  closesAt: string;
  /** Set when closed (= closesAt). */
  closedAt?: string;
}

const LEVELS: Alert['rule']['level'][] = ['informational', 'low', 'medium', 'high', 'critical'];

const byTime = (x: Alert, y: Alert): number => (x['@timestamp'] < y['@timestamp'] ? -1 : x['@timestamp'] > y['@timestamp'] ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

export function incidentsFrom(alerts: readonly Alert[], closeAfterMs: number = DEFAULT_CLOSE_AFTER_MS): Incident[] {
  const series = new Map<string, Incident[]>();
  // An alert opens (and spans) an incident when its highest version is medium+; low and informational alerts only
  // join one whose span widened by the window holds them, after every medium+ alert is placed (ADR 0051).
  const top = new Map<string, Alert['rule']['level']>();
  for (const a of alerts) {
    const l = top.get(a.id);
    if (l === undefined || LEVELS.indexOf(a.rule.level) > LEVELS.indexOf(l)) top.set(a.id, a.rule.level);
  }
  const sorted = [...alerts].sort(byTime);
  /**
   * Alert id → the incident it went to: a later version (a GuardDuty finding's, ADR 0046) raises its level and,
   * within the incident's lifetime, stands for the alert and moves the incident's end (a medium+ version's only).
   */
  const seen = new Map<string, Incident>();
  const version = (a: Alert): void => {
    const known = seen.get(a.id);
    if (known === undefined) return;
    if (LEVELS.indexOf(a.rule.level) > LEVELS.indexOf(known.level)) known.level = a.rule.level;
    // A later version within the incident's lifetime stands for the alert and moves the end (as `mergeSeries` does).
    if (a.finding !== undefined && Date.parse(a['@timestamp']) <= Date.parse(known.end) + closeAfterMs) {
      const i = known.alerts.findIndex((x) => x.id === a.id);
      if (i >= 0 && a['@timestamp'] > known.alerts[i]!['@timestamp']) known.alerts[i] = a;
      if (opensIncident(a.rule.level) && a['@timestamp'] > known.end) known.end = a['@timestamp'];
    }
  };
  const add = (a: Alert, opening: boolean): void => {
    const u = incidentUpdate(a);
    const list = series.get(u.incident) ?? [];
    let inc = list[placeAlert(list, a['@timestamp'], closeAfterMs)];
    if (inc === undefined) {
      if (!opening) return;
      inc = { id: episodeId(u.incident, list.length + 1), key: u.key, who: u.who, level: 'informational', start: a['@timestamp'], end: a['@timestamp'], alerts: [], actors: [], chain: [], status: 'open', closesAt: '' };
      list.push(inc);
      series.set(u.incident, list);
    }
    inc.alerts.push(a);
    seen.set(a.id, inc);
    const level = top.get(a.id)!;
    if (LEVELS.indexOf(level) > LEVELS.indexOf(inc.level)) inc.level = level;
    if (opening) {
      if (a['@timestamp'] < inc.start) inc.start = a['@timestamp'];
      if (a['@timestamp'] > inc.end) inc.end = a['@timestamp'];
    }
    const actor = u.alert.principal;
    if (actor !== undefined && actor !== u.key && actor !== identityKey(u.who) && !inc.actors.includes(actor)) inc.actors.push(actor);
    if (opening && (a.chain?.length ?? 0) > inc.chain.length) inc.chain = a.chain!;
  };
  // Time order: medium+ alerts and the versions of those placed; then the context; then the context's versions.
  const ids = new Set<string>();
  const later = new Set<Alert>();
  for (const a of sorted) {
    if (ids.has(a.id)) {
      if (seen.has(a.id)) version(a);
      else later.add(a);
      continue;
    }
    ids.add(a.id);
    if (opensIncident(top.get(a.id)!)) add(a, true);
  }
  for (const a of sorted) if (!opensIncident(top.get(a.id)!) && !seen.has(a.id) && !later.has(a)) add(a, false);
  for (const a of later) version(a);
  const out: Incident[] = [];
  for (const list of series.values()) {
    const newest = Math.max(...list.map((i) => Date.parse(i.end)));
    for (const inc of list) {
      inc.alerts.sort(byTime);
      inc.actors.sort();
      inc.closesAt = closesAt(inc.end, closeAfterMs);
      if (newest > Date.parse(inc.closesAt)) {
        inc.status = 'closed';
        inc.closedAt = inc.closesAt;
      }
      out.push(inc);
    }
  }
  return out.sort((x, y) => LEVELS.indexOf(y.level) - LEVELS.indexOf(x.level) || y.alerts.length - x.alerts.length || (x.id < y.id ? -1 : 1));
}

/** A few lines per incident, for the console. */
export function formatIncident(inc: Incident): string {
  const lines = [
    `INCIDENT ${inc.id} [${inc.level}] ${inc.key} — ${inc.alerts.length} alert${inc.alerts.length === 1 ? '' : 's'} from ${inc.start} to ${inc.end}`,
    inc.status === 'closed' ? `  closed at ${inc.closedAt} (quiet since ${inc.end})` : `  open; closes at ${inc.closesAt} if no further alert`,
  ];
  if (inc.actors.length > 0) lines.push(`  acting as: ${inc.actors.join(', ')}`);
  if (inc.chain.length > 0) lines.push(`  identity chain: ${shortChain(inc.chain)}`);
  // An alert folded into another of the incident (ADR 0050) is listed under it, not on its own line.
  const ids = new Set(inc.alerts.map((a) => a.id));
  const under = (a: Alert): boolean => a.folded_into !== undefined && ids.has(a.folded_into);
  for (const a of inc.alerts) {
    if (under(a)) continue;
    lines.push(`  ${a['@timestamp']} [${a.rule.level}] ${a.rule.title}`);
    for (const f of inc.alerts) if (f.folded_into === a.id) lines.push(`      also matched: [${f.rule.level}] ${f.rule.title}`);
  }
  return lines.join('\n');
}
