import { shortChain } from '../identity/chain-text.ts';
import type { Principal } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { closesAt, DEFAULT_CLOSE_AFTER_MS, episodeId, identityKey, incidentUpdate, placeAlert } from './incident-topic.ts';

/**
 * Groups alerts into incidents exactly as the incidents index does (ADR 0015, lifecycle ADR 0020): by who
 * acted, really (the alert's origin, the identity graph's answer, else its principal; `incidentUpdate`),
 * split into incidents where the identity went quiet for longer than the window (`placeAlert`). So the
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
  /**
   * Alert id → the incident it went to: a later version (a GuardDuty finding's, ADR 0046) raises its level and,
   * within the incident's lifetime, stands for the alert and moves the incident's end.
   */
  const seen = new Map<string, Incident>();
  for (const a of [...alerts].sort(byTime)) {
    const known = seen.get(a.id);
    if (known !== undefined) {
      if (LEVELS.indexOf(a.rule.level) > LEVELS.indexOf(known.level)) known.level = a.rule.level;
      // A later version within the incident's lifetime stands for the alert and moves the end (as `mergeSeries` does).
      if (a.finding !== undefined && Date.parse(a['@timestamp']) <= Date.parse(known.end) + closeAfterMs) {
        const i = known.alerts.findIndex((x) => x.id === a.id);
        if (i >= 0 && a['@timestamp'] > known.alerts[i]!['@timestamp']) known.alerts[i] = a;
        if (a['@timestamp'] > known.end) known.end = a['@timestamp'];
      }
      continue;
    }
    const u = incidentUpdate(a);
    const list = series.get(u.incident) ?? [];
    series.set(u.incident, list);
    let inc = list[placeAlert(list, a['@timestamp'], closeAfterMs)];
    if (inc === undefined) {
      inc = { id: episodeId(u.incident, list.length + 1), key: u.key, who: a.origin ?? a.principal, level: 'informational', start: a['@timestamp'], end: a['@timestamp'], alerts: [], actors: [], chain: [], status: 'open', closesAt: '' };
      list.push(inc);
    }
    inc.alerts.push(a);
    seen.set(a.id, inc);
    if (LEVELS.indexOf(a.rule.level) > LEVELS.indexOf(inc.level)) inc.level = a.rule.level;
    if (a['@timestamp'] < inc.start) inc.start = a['@timestamp'];
    if (a['@timestamp'] > inc.end) inc.end = a['@timestamp'];
    const actor = u.alert.principal;
    if (actor !== undefined && actor !== u.key && actor !== identityKey(u.who) && !inc.actors.includes(actor)) inc.actors.push(actor);
    if ((a.chain?.length ?? 0) > inc.chain.length) inc.chain = a.chain!;
  }
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
  for (const a of inc.alerts) lines.push(`  ${a['@timestamp']} [${a.rule.level}] ${a.rule.title}`);
  return lines.join('\n');
}
