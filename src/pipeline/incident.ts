import { shortChain } from '../identity/chain-text.ts';
import type { Principal } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';

/**
 * Groups alerts into incidents by who acted, really: the origin the identity graph resolved (the IAM
 * session behind an IRSA key used after an exec, say), else the principal. One person's exec, the
 * stolen workload credentials' AWS calls and the backdoor they planted end up in one incident.
 */
export interface Incident {
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
}

const LEVELS: Alert['rule']['level'][] = ['informational', 'low', 'medium', 'high', 'critical'];

function identityKey(p: Principal | undefined): string | undefined {
  if (p === undefined) return undefined;
  return p.arn ?? p.id;
}

export function incidentsFrom(alerts: readonly Alert[]): Incident[] {
  const byKey = new Map<string, Incident>();
  for (const a of alerts) {
    const who = a.origin ?? a.principal;
    const key = identityKey(who) ?? 'unknown';
    let inc = byKey.get(key);
    if (!inc) {
      inc = { key, who, level: 'informational', start: a['@timestamp'], end: a['@timestamp'], alerts: [], actors: [], chain: [] };
      byKey.set(key, inc);
    }
    inc.alerts.push(a);
    if (LEVELS.indexOf(a.rule.level) > LEVELS.indexOf(inc.level)) inc.level = a.rule.level;
    if (a['@timestamp'] < inc.start) inc.start = a['@timestamp'];
    if (a['@timestamp'] > inc.end) inc.end = a['@timestamp'];
    const actor = identityKey(a.principal);
    if (actor !== undefined && actor !== key && !inc.actors.includes(actor)) inc.actors.push(actor);
    if ((a.chain?.length ?? 0) > inc.chain.length) inc.chain = a.chain!;
  }
  // An incident whose identity acted as another incident's identity (alice → the service account whose
  // token she took) absorbs that incident: it is the same story seen from the credentials' side.
  for (const inc of [...byKey.values()].sort((x, y) => y.alerts.length - x.alerts.length)) {
    if (!byKey.has(inc.key)) continue;
    for (const actor of [...inc.actors]) {
      const other = byKey.get(actor);
      if (other === undefined || other === inc) continue;
      byKey.delete(actor);
      inc.alerts.push(...other.alerts);
      if (LEVELS.indexOf(other.level) > LEVELS.indexOf(inc.level)) inc.level = other.level;
      if (other.start < inc.start) inc.start = other.start;
      if (other.end > inc.end) inc.end = other.end;
      for (const a of other.actors) if (a !== inc.key && !inc.actors.includes(a)) inc.actors.push(a);
      if (other.chain.length > inc.chain.length) inc.chain = other.chain;
    }
  }
  for (const inc of byKey.values()) inc.alerts.sort((x, y) => (x['@timestamp'] < y['@timestamp'] ? -1 : x['@timestamp'] > y['@timestamp'] ? 1 : 0));
  return [...byKey.values()].sort((x, y) => LEVELS.indexOf(y.level) - LEVELS.indexOf(x.level) || y.alerts.length - x.alerts.length);
}

/** A few lines per incident, for the console. */
export function formatIncident(inc: Incident): string {
  const lines = [
    `INCIDENT [${inc.level}] ${inc.key} — ${inc.alerts.length} alerts from ${inc.start} to ${inc.end}`,
  ];
  if (inc.actors.length > 0) lines.push(`  acting as: ${inc.actors.join(', ')}`);
  if (inc.chain.length > 0) lines.push(`  identity chain: ${shortChain(inc.chain)}`);
  for (const a of inc.alerts) lines.push(`  ${a['@timestamp']} [${a.rule.level}] ${a.rule.title}`);
  return lines.join('\n');
}
