/**
 * Folding (ADR 0050, SOC review M1): one action often matches several rules — a privileged pod in kube-system
 * is "Privileged Pod Created", "Host PID or IPC Pod Created", "Pod Created In Kube System Namespace"… — and a
 * person should be told once. Among the alerts one detection step raised on exactly one event (every
 * single-event alert whose only contributing event is that event; correlations never), the highest level
 * leads: it carries `also_matched` (the others, in the same order) and each other alert `folded_into` the
 * leader's id. Every alert is still written (index, `seam.alerts`, JSONL); notification sinks send the leader
 * only.
 *
 * The order depends only on the alerts themselves (level, then native before Sigma, then rule id, then alert
 * id), never on the order they were raised in, so the same event and the same rules firing give the same fold
 * on every path: embedded, Kafka with any partitioning, a restart.
 */
import { ALERT_LEVELS, type Alert } from './alert.ts';

const TYPE_RANK: Record<Alert['rule']['type'], number> = { native: 0, sigma: 1, correlation: 2 };

/** Leader first: higher level, then native before Sigma, then rule id, then alert id (ascending, code-unit order). */
export function foldOrder(a: Alert, b: Alert): number {
  const l = ALERT_LEVELS.indexOf(b.rule.level) - ALERT_LEVELS.indexOf(a.rule.level);
  if (l !== 0) return l;
  const t = TYPE_RANK[a.rule.type] - TYPE_RANK[b.rule.type];
  if (t !== 0) return t;
  if (a.rule.id !== b.rule.id) return a.rule.id < b.rule.id ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Whether `a` rests on `eventId` alone and may fold: a single-event Sigma or native alert (no correlation). */
export function foldsOn(a: Alert, eventId: string): boolean {
  return a.rule.type !== 'correlation' && a.events.length === 1 && a.events[0] === eventId;
}

/**
 * Folds, in place, the alerts of `alerts` that rest on `eventId` alone (see the module comment). Alerts on other
 * events (a window this event closed) and correlations are left as they are. Any `also_matched`/`folded_into`
 * an alert carried before is replaced, so folding the same step twice gives the same result.
 */
export function foldAlerts(eventId: string, alerts: readonly Alert[]): void {
  let group: Alert[] | undefined;
  for (const a of alerts) {
    if (!foldsOn(a, eventId)) continue;
    delete a.also_matched;
    delete a.folded_into;
    (group ??= []).push(a);
  }
  if (group === undefined || group.length < 2) return;
  group.sort(foldOrder);
  const leader = group[0]!;
  leader.also_matched = [];
  for (let i = 1; i < group.length; i++) {
    const a = group[i]!;
    a.folded_into = leader.id;
    leader.also_matched.push({ rule_id: a.rule.id, title: a.rule.title, level: a.rule.level, alert_id: a.id });
  }
}

/** Whether a person is told about `a`: every alert that is not folded into another. */
export function notifiable(a: Pick<Alert, 'folded_into'>): boolean {
  return a.folded_into === undefined;
}

/**
 * "high Host PID or IPC Pod Created; medium Pod Created In Kube System Namespace": the rules an alert's event also
 * matched (`also_matched`, ADR 0050), folded into it and not notified themselves; undefined when there are none.
 */
export function alsoMatchedText(a: Pick<Alert, 'also_matched'>): string | undefined {
  if (a.also_matched === undefined || a.also_matched.length === 0) return undefined;
  return a.also_matched.map((m) => `${m.level} ${m.title}`).join('; ');
}
