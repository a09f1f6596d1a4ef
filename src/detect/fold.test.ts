import { describe, expect, it } from 'vitest';
import { Alert, buildAlert, contributionOf, type AlertLevel } from './alert.ts';
import { audit } from './correlate/test-fixtures.ts';
import { alsoMatchedText, foldAlerts, notifiable } from './fold.ts';

const pod = audit('p1', 0, 'create', 'pods', { namespace: 'kube-system', name: 'node-debugger' });
const other = audit('p2', 5, 'create', 'pods', { namespace: 'kube-system', name: 'other' });

function alertOn(ruleId: string, level: AlertLevel, type: 'sigma' | 'native' | 'correlation' = 'sigma', events = [pod]): Alert {
  return buildAlert({
    rule: { id: ruleId, title: `Title ${ruleId}`, level, tags: [], type },
    contributions: events.map(contributionOf),
    summary: `${ruleId} matched`,
  });
}

/** What the fold decided, by rule id: `lead` with the rule ids it lists, or `-> <rule id>` it is folded into, or `-`. */
function outcome(alerts: readonly Alert[]): Record<string, string> {
  const ruleOf = new Map(alerts.map((a) => [a.id, a.rule.id]));
  const out: Record<string, string> = {};
  for (const a of alerts) {
    if (a.also_matched !== undefined) out[a.rule.id] = `lead ${a.also_matched.map((m) => m.rule_id).join(',')}`;
    else if (a.folded_into !== undefined) out[a.rule.id] = `-> ${ruleOf.get(a.folded_into)}`;
    else out[a.rule.id] = '-';
  }
  return out;
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('foldAlerts (ADR 0050)', () => {
  it('leads with the highest level; the others are listed in fold order and point at the leader', () => {
    const alerts = [alertOn('kube-system-pod', 'medium'), alertOn('privileged-pod', 'critical'), alertOn('host-pid', 'high'), alertOn('direct-pod', 'low')];
    foldAlerts(pod.seam.id, alerts);
    const lead = alerts[1]!;
    expect(lead.folded_into).toBeUndefined();
    expect(lead.also_matched).toEqual([
      { rule_id: 'host-pid', title: 'Title host-pid', level: 'high', alert_id: alerts[2]!.id },
      { rule_id: 'kube-system-pod', title: 'Title kube-system-pod', level: 'medium', alert_id: alerts[0]!.id },
      { rule_id: 'direct-pod', title: 'Title direct-pod', level: 'low', alert_id: alerts[3]!.id },
    ]);
    for (const i of [0, 2, 3]) expect(alerts[i]!.folded_into).toBe(lead.id);
    expect(alerts.filter(notifiable).map((a) => a.rule.id)).toEqual(['privileged-pod']);
    expect(alsoMatchedText(lead)).toBe('high Title host-pid; medium Title kube-system-pod; low Title direct-pod');
    // The fields are part of the alert's schema: a folded alert and its leader are valid alerts as they are.
    for (const a of alerts) expect(Alert.parse(a)).toEqual(a);
  });

  it('breaks a tie of levels native before Sigma, then by rule id', () => {
    const alerts = [alertOn('b-sigma', 'high'), alertOn('z-native', 'high', 'native'), alertOn('a-sigma', 'high')];
    foldAlerts(pod.seam.id, alerts);
    expect(outcome(alerts)).toEqual({ 'z-native': 'lead a-sigma,b-sigma', 'a-sigma': '-> z-native', 'b-sigma': '-> z-native' });

    const sigmaOnly = [alertOn('host-pid', 'high'), alertOn('privileged', 'high'), alertOn('kube-system', 'medium')];
    foldAlerts(pod.seam.id, sigmaOnly);
    expect(outcome(sigmaOnly)).toEqual({ 'host-pid': 'lead privileged,kube-system', privileged: '-> host-pid', 'kube-system': '-> host-pid' });
  });

  it('folds only single-event alerts on the event itself: never a correlation, a several-event alert or another event', () => {
    const alerts = [
      alertOn('sigma-a', 'medium'),
      alertOn('sigma-b', 'low'),
      alertOn('correlation', 'critical', 'correlation', [other, pod]),
      alertOn('native-two-events', 'critical', 'native', [other, pod]),
      alertOn('correlation-one-event', 'critical', 'correlation'),
      alertOn('on-other-event', 'critical', 'sigma', [other]),
    ];
    foldAlerts(pod.seam.id, alerts);
    expect(outcome(alerts)).toEqual({
      'sigma-a': 'lead sigma-b',
      'sigma-b': '-> sigma-a',
      correlation: '-',
      'native-two-events': '-',
      'correlation-one-event': '-',
      'on-other-event': '-',
    });
  });

  it('leaves a lone alert as it is', () => {
    const alone = [alertOn('only', 'high'), alertOn('elsewhere', 'high', 'sigma', [other])];
    foldAlerts(pod.seam.id, alone);
    expect(alone.map((a) => [a.also_matched, a.folded_into])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('gives the same fold whatever order the alerts were raised in, and folding again changes nothing', () => {
    const make = () => [alertOn('n-high', 'high', 'native'), alertOn('s-high', 'high'), alertOn('s-critical', 'critical'), alertOn('s-medium', 'medium'), alertOn('s-low', 'low')];
    const reference = make();
    foldAlerts(pod.seam.id, reference);
    const expected = Object.fromEntries(reference.map((a) => [a.id, JSON.stringify([a.also_matched, a.folded_into])]));
    expect(outcome(reference)['s-critical']).toBe('lead n-high,s-high,s-medium,s-low');
    let runs = 0;
    for (const order of permutations(make())) {
      foldAlerts(pod.seam.id, order);
      foldAlerts(pod.seam.id, order);
      expect(Object.fromEntries(order.map((a) => [a.id, JSON.stringify([a.also_matched, a.folded_into])]))).toEqual(expected);
      runs++;
    }
    expect(runs).toBe(120);
  });
});
