import { describe, expect, it } from 'vitest';
import type { Alert } from '../detect/alert.ts';
import { incidentsFrom } from './incident.ts';
import { applyIncidentUpdates, contextId, incidentId, incidentKey, incidentRisk, incidentUpdate, mergeIncident, RISK_HALF_LIFE_MS, type IncidentDoc, type IncidentStore, type IncidentUpdate } from './incident-topic.ts';

const up = (id: string, t: string, level: IncidentUpdate['alert']['level'], principal = 'arn:aws:sts::1:assumed-role/app/s'): IncidentUpdate => ({
  v: 1,
  incident: incidentId('alice'),
  key: 'alice',
  alert: { id, '@timestamp': t, level, rule: `r-${id}`, title: id, principal },
});

const seamFields = (d: IncidentDoc | undefined): unknown => (d === undefined ? undefined : { ...d, updated_at: undefined });

describe('incident merge (ADR 0015)', () => {
  const ups = [up('a', '2024-01-01T00:00:00Z', 'high'), up('b', '2024-01-02T00:00:00Z', 'medium'), up('c', '2024-01-01T12:00:00Z', 'critical', 'alice')];

  it('gives the same incident whatever the order, with the documented risk', () => {
    const forward = mergeIncident(undefined, ups)!;
    const backward = mergeIncident(undefined, [...ups].reverse())!;
    const oneByOne = ups.reduce<IncidentDoc | undefined>((d, u) => mergeIncident(d, [u]) ?? d, undefined)!;
    expect(seamFields(backward)).toEqual(seamFields(forward));
    expect(seamFields(oneByOne)).toEqual(seamFields(forward));
    // risk at the newest alert (day 2): 20 × 0.5^(24h/24h) + 50 × 0.5^(12h/24h) + 5
    expect(forward.risk).toBeCloseTo(20 * 0.5 + 50 * Math.pow(0.5, (12 * 3600_000) / RISK_HALF_LIFE_MS) + 5, 5);
    expect(forward.risk_at).toBe('2024-01-02T00:00:00Z');
    // The same risk from the alerts alone (`seam report incident --latest` ranks incidents of one level by it).
    expect(incidentRisk(ups.map((u) => ({ '@timestamp': u.alert['@timestamp'], rule: { level: u.alert.level } })))).toBe(forward.risk);
    expect(forward).toMatchObject({ id: incidentId('alice'), level: 'critical', alert_count: 3, start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z', actors: ['arn:aws:sts::1:assumed-role/app/s'], status: 'open', assignee: null, notes: [] });
  });

  it('changes nothing on redelivery and never writes the analysts’ fields', () => {
    const d = mergeIncident(undefined, ups)!;
    expect(mergeIncident(d, ups)).toBeUndefined();
    const triaged: IncidentDoc = { ...d, status: 'investigating', assignee: 'bob', notes: [{ by: 'bob', text: 'looking' }] };
    const next = mergeIncident(triaged, [...ups, up('d', '2024-01-03T00:00:00Z', 'low')])!;
    expect(next).toMatchObject({ status: 'investigating', assignee: 'bob', notes: [{ by: 'bob', text: 'looking' }], alert_count: 4 });
    expect(next.risk).toBeCloseTo(d.risk * 0.5 + 1, 5);
  });
});

/** An incident store in memory with versions, as OpenSearch keeps them; `conflictOnce` makes the next write of those ids conflict (an analyst wrote meanwhile). */
function memoryStore(): IncidentStore & { docs: Map<string, { doc: IncidentDoc; version: number }>; conflictOnce: Set<string> } {
  const docs = new Map<string, { doc: IncidentDoc; version: number }>();
  const conflictOnce = new Set<string>();
  return {
    docs,
    conflictOnce,
    read: async (ids) => new Map(ids.flatMap((id) => (docs.has(id) ? [[id, { doc: structuredClone(docs.get(id)!.doc), version: docs.get(id)!.version }] as const] : []))),
    write: async (ws) => {
      const conflicts = new Set<string>();
      for (const w of ws) {
        const cur = docs.get(w.id);
        if (conflictOnce.delete(w.id) || (cur === undefined ? w.version !== undefined : cur.version !== w.version)) {
          conflicts.add(w.id);
          continue;
        }
        docs.set(w.id, { doc: structuredClone(w.doc), version: (cur?.version ?? 0) + 1 });
      }
      return conflicts;
    },
  };
}

const H = 3600_000;
const at = (h: number): string => new Date(Date.parse('2024-01-01T00:00:00Z') + h * H).toISOString();
const docsOf = (s: ReturnType<typeof memoryStore>): Record<string, unknown> => Object.fromEntries([...s.docs].sort().map(([id, d]) => [id, seamFields(d.doc)]));

describe('incident lifecycle (ADR 0020)', () => {
  const series = incidentId('alice');
  // A burst, 30 h of quiet (more than the 24 h window), another burst; `late` belongs to the first burst by event time.
  const first = [up('a1', at(0), 'high'), up('a2', at(2), 'medium')];
  const second = [up('b1', at(32), 'medium'), up('b2', at(33), 'critical')];
  const late = up('a3', at(5), 'medium');

  it('closes an incident that went quiet for the window and opens a new one for the next alert', async () => {
    const s = memoryStore();
    expect(await applyIncidentUpdates(s, first)).toBe(1);
    expect(s.docs.get(series)!.doc).toMatchObject({ status: 'open', closed_at: null, closes_at: at(26), episode: 1, episodes: 1 });
    await applyIncidentUpdates(s, second);
    expect(s.docs.get(series)!.doc).toMatchObject({ status: 'closed', closed_at: at(26), alert_count: 2, end: at(2), episodes: 2 });
    expect(s.docs.get(`${series}-2`)!.doc).toMatchObject({ id: `${series}-2`, series, episode: 2, status: 'open', closed_at: null, alert_count: 2, start: at(32), level: 'critical', closes_at: at(57) });
    // A late alert of the first burst joins the closed incident; it does not reopen it or open a third.
    await applyIncidentUpdates(s, [late]);
    expect(s.docs.get(series)!.doc).toMatchObject({ status: 'closed', alert_count: 3, end: at(5), closed_at: at(29) });
    expect(s.docs.size).toBe(2);
    // Redelivery of everything changes nothing.
    expect(await applyIncidentUpdates(s, [...first, ...second, late])).toBe(0);
  });

  it('gives the same incidents in any order within a window, one by one or in one batch, and after a conflict', async () => {
    // Incidents are numbered in the order they open: bursts further apart than the window arrive in event-time
    // order unless a source lags by more than the window (ADR 0020); alerts within it may come in any order.
    const all = [...first, ...second, late];
    const batch = memoryStore();
    await applyIncidentUpdates(batch, all);
    const orders = [all, [first[1]!, first[0]!, second[1]!, late, second[0]!], [late, first[1]!, first[0]!, second[0]!, second[1]!]];
    for (const order of orders) {
      const s = memoryStore();
      for (const u of order) await applyIncidentUpdates(s, [u]);
      expect(docsOf(s)).toEqual(docsOf(batch));
    }
    const c = memoryStore();
    await applyIncidentUpdates(c, first);
    c.conflictOnce.add(series);
    c.conflictOnce.add(`${series}-2`);
    await applyIncidentUpdates(c, [...second, late]);
    expect(docsOf(c)).toEqual(docsOf(batch));
  });

  it('leaves status to analysts once they moved it, and closes only once', async () => {
    const s = memoryStore();
    await applyIncidentUpdates(s, first);
    s.docs.get(series)!.doc.status = 'investigating';
    await applyIncidentUpdates(s, second);
    expect(s.docs.get(series)!.doc).toMatchObject({ status: 'investigating', closed_at: at(26) });
    // An analyst reopens it: Seam does not close it again.
    s.docs.get(series)!.doc.status = 'open';
    await applyIncidentUpdates(s, [up('b3', at(40), 'low')]);
    expect(s.docs.get(series)!.doc.status).toBe('open');
  });

  it('takes the window from the updates (close_after_ms)', async () => {
    const s = memoryStore();
    await applyIncidentUpdates(s, [...first, ...second].map((u) => ({ ...u, close_after_ms: 48 * H })));
    expect(s.docs.size).toBe(1);
    expect(s.docs.get(series)!.doc).toMatchObject({ alert_count: 4, status: 'open', closes_at: at(33 + 48) });
  });
});

describe('console incidents (incidentsFrom) match the index', () => {
  const alert = (id: string, t: string, principal: string, origin?: string): Alert =>
    ({
      id,
      '@timestamp': t,
      rule: { id: `r-${id}`, title: id, level: 'high', tags: [], type: 'sigma' },
      principal: { id: principal, arn: principal, type: 'assumed_role' },
      ...(origin ? { origin: { id: origin, arn: origin, type: 'assumed_role' } } : {}),
      events: [],
    }) as unknown as Alert;
  const alice = 'arn:aws:sts::1:assumed-role/Admin/alice';
  const stolen = 'arn:aws:sts::1:assumed-role/app-irsa/botocore-session-1';
  // alice acts through the stolen session (origin resolved); one alert on the session has no origin.
  const alerts = [alert('x1', at(0), stolen, alice), alert('x2', at(1), alice), alert('x3', at(2), stolen), alert('x4', at(40), alice)];

  it('names the same incidents, ids, alerts and status as the merged index, without folding the session into alice', async () => {
    const s = memoryStore();
    await applyIncidentUpdates(s, alerts.map((a) => incidentUpdate(a)));
    const printed = incidentsFrom(alerts);
    const fromIndex = [...s.docs.values()].map(({ doc }) => ({ id: doc.id, alerts: doc.alert_ids, status: doc.status, closed_at: doc.closed_at ?? undefined })).sort((a, b) => a.id.localeCompare(b.id));
    const fromConsole = printed.map((i) => ({ id: i.id, alerts: i.alerts.map((a) => a.id).sort(), status: i.status, closed_at: i.closedAt })).sort((a, b) => a.id.localeCompare(b.id));
    expect(fromConsole).toEqual(fromIndex);
    expect(fromConsole.map((i) => i.alerts)).toEqual(expect.arrayContaining([['x1', 'x2'], ['x3'], ['x4']]));
    expect(printed.find((i) => i.alerts.some((a) => a.id === 'x1'))).toMatchObject({ id: incidentId(alice), status: 'closed', closedAt: at(25) });
  });
});

describe('incident keys are scoped where a name is not global (ADR 0048)', () => {
  const alert = (id: string, over: Partial<Alert>): Alert =>
    ({ id, '@timestamp': at(0), rule: { id: `r-${id}`, title: id, level: 'high', tags: [], type: 'sigma' }, events: [], native_ids: [], summary: id, ...over }) as Alert;
  const anonymous = { id: 'system:anonymous', type: 'anonymous', k8s_user: 'system:anonymous' } as const;
  const role = 'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice';

  /** The incidents of `alerts` as the console groups them, checked against the merged index: alert ids per incident. */
  async function grouped(alerts: Alert[]): Promise<string[][]> {
    const s = memoryStore();
    await applyIncidentUpdates(s, alerts.map((a) => incidentUpdate(a)));
    const fromIndex = [...s.docs.values()].filter(({ doc }) => doc.status !== 'context').map(({ doc }) => doc.alert_ids).sort();
    const fromConsole = incidentsFrom(alerts).map((i) => i.alerts.map((a) => a.id).sort()).sort();
    expect(fromConsole).toEqual(fromIndex);
    return fromConsole;
  }

  it('system:anonymous in two clusters is two incidents, and in two accounts with the same cluster name too', async () => {
    const a = alert('a', { principal: anonymous, account: '111122223333', cluster: 'prod-a' });
    const b = alert('b', { principal: anonymous, account: '111122223333', cluster: 'prod-b' });
    const c = alert('c', { principal: anonymous, account: '444455556666', cluster: 'prod-a' });
    const a2 = alert('a2', { principal: anonymous, account: '111122223333', cluster: 'prod-a', '@timestamp': at(1) });
    expect(await grouped([a, b, c, a2])).toEqual([['a', 'a2'], ['b'], ['c']]);
    expect(incidentKey(a)).toBe('eks:111122223333:prod-a/system:anonymous');
    expect(incidentKey(alert('n', { principal: anonymous, cluster: 'prod-a' }))).toBe('eks::prod-a/system:anonymous');
    // The console names the identity once: it is not an actor of its own incident.
    expect(incidentsFrom([a, a2])[0]).toMatchObject({ key: 'eks:111122223333:prod-a/system:anonymous', actors: [] });
  });

  it('kubernetes-admin, a service account and a node user are per cluster; an AWS service principal per account', () => {
    const admin = { id: 'kubernetes-admin', type: 'k8s_user', k8s_user: 'kubernetes-admin' } as const;
    const sa = { id: 'system:serviceaccount:default:app', type: 'service_account', service_account: 'default/app', k8s_user: 'system:serviceaccount:default:app' } as const;
    const node = { id: 'system:node:ip-10-0-1-5.ec2.internal', type: 'node', k8s_user: 'system:node:ip-10-0-1-5.ec2.internal' } as const;
    for (const p of [admin, sa, node]) {
      const keys = ['prod-a', 'prod-b'].map((cluster) => incidentKey(alert('x', { principal: p, account: '111122223333', cluster })));
      expect(keys).toEqual([`eks:111122223333:prod-a/${p.id}`, `eks:111122223333:prod-b/${p.id}`]);
    }
    const svc = { id: 'eks.amazonaws.com', type: 'aws_service' } as const;
    expect(incidentKey(alert('s', { principal: svc, account: '111122223333', cluster: 'prod-a' }))).toBe('aws:111122223333/eks.amazonaws.com');
    // A person behind an exec, reached through the chain, is in the exec's cluster even when the alert names none (a CloudTrail call).
    const chain = [{ kind: 'exec', from: 'k8s:prod-b:pod:default/app-1', to: 'k8s:prod-b:user:kubernetes-admin' }];
    expect(incidentKey(alert('e', { principal: { id: role, arn: role, type: 'assumed_role' }, origin: admin, chain, account: '111122223333' }))).toBe('eks:111122223333:prod-b/kubernetes-admin');
  });

  it('the same ARN-resolved role acting in two clusters is one incident, keyed by the ARN as before', async () => {
    // An IAM-authenticated Kubernetes user (EKS names the session in user.extra.arn), and a service account whose
    // exec the graph traced to the same session: both resolve to the role session's ARN.
    const asUser = alert('u', { principal: { id: 'alice', type: 'k8s_user', k8s_user: 'alice', arn: role }, account: '111122223333', cluster: 'prod-a' });
    const viaExec = alert('v', {
      principal: { id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api' },
      origin: { id: role, arn: role, type: 'assumed_role' },
      account: '111122223333',
      cluster: 'prod-b',
      '@timestamp': at(1),
    });
    expect(await grouped([asUser, viaExec])).toEqual([['u', 'v']]);
    expect(incidentKey(asUser)).toBe(role);
    expect(incidentUpdate(viaExec).incident).toBe(incidentId(role));
    // Access key ids and IAM unique ids name one identity across AWS, like an ARN.
    expect(incidentKey(alert('k', { principal: { id: 'AROAEXAMPLEROLEID0001:alice', type: 'unknown', access_key_id: 'ASIAEXAMPLE000000001' }, account: '111122223333' }))).toBe('AROAEXAMPLEROLEID0001:alice');
  });

  it('alerts with no principal are keyed by their cluster, else their account, not one global incident', async () => {
    const inA = alert('a', { account: '111122223333', cluster: 'prod-a' });
    const inB = alert('b', { account: '111122223333', cluster: 'prod-b' });
    const acct1 = alert('c', { account: '111122223333' });
    const acct2 = alert('d', { account: '444455556666' });
    expect(await grouped([inA, inB, acct1, acct2])).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect([inA, acct1].map(incidentKey)).toEqual(['eks:111122223333:prod-a', 'aws:111122223333']);
    expect(incidentKey(alert('e', {}))).toBe('unknown');
  });
});

describe('later versions of an alert (GuardDuty finding updates, ADR 0046)', () => {
  it('count once; a version at a higher level raises the incident\'s level, one at the same or a lower level changes nothing', async () => {
    const s = memoryStore();
    const series = incidentId('alice');
    expect(await applyIncidentUpdates(s, [up('f', at(0), 'medium'), up('g', at(1), 'medium')])).toBe(1);
    const before = s.docs.get(series)!;
    // Same alert id at counts 5 and 12: nothing to write.
    expect(await applyIncidentUpdates(s, [up('f', at(2), 'medium'), up('f', at(3), 'low')])).toBe(0);
    expect(s.docs.get(series)!.version).toBe(before.version);
    // Its severity rose: the incident is high now, still two alerts, the same span and risk.
    expect(await applyIncidentUpdates(s, [up('f', at(4), 'high')])).toBe(1);
    expect(s.docs.get(series)!.doc).toMatchObject({ level: 'high', alert_count: 2, alert_ids: ['f', 'g'], start: at(0), end: at(1), risk: before.doc.risk });
    // In one batch with the first version, and in the console's incidents, the same.
    const t = memoryStore();
    await applyIncidentUpdates(t, [up('f', at(0), 'medium'), up('f', at(4), 'high')]);
    expect(t.docs.get(series)!.doc).toMatchObject({ level: 'high', alert_count: 1 });
    const alert = (level: Alert['rule']['level'], ts: string): Alert => ({ id: 'f', '@timestamp': ts, rule: { id: 'r', title: 'r', level, tags: [], type: 'native' }, events: [ts], native_ids: ['f'], summary: 's', principal: { id: 'alice', type: 'iam_user' } });
    const [inc] = incidentsFrom([alert('medium', at(0)), alert('high', at(4))]);
    expect(inc).toMatchObject({ level: 'high' });
    expect(inc!.alerts).toHaveLength(1);
  });
});

describe('an alert with versions moves its incident (GuardDuty finding updates, ADR 0046 amendment 2026-12-05)', () => {
  const v = (id: string, h: number, level: IncidentUpdate['alert']['level']): IncidentUpdate => ({ ...up(id, at(h), level), alert: { ...up(id, at(h), level).alert, versioned: true } });
  // f: a finding alert at medium from hour 0, updated at hours 2 and 6 (high at 6); g: another alert at hour 1.
  const updates = [v('f', 0, 'medium'), up('g', at(1), 'low'), v('f', 2, 'medium'), v('f', 6, 'high')];
  const decayH = (h: number): number => Math.pow(0.5, (h * H) / RISK_HALF_LIFE_MS);

  it('end, closes_at and risk follow the newest version; the alert counts once, at its newest time and level', async () => {
    const s = memoryStore();
    const series = incidentId('alice');
    await applyIncidentUpdates(s, updates.slice(0, 2));
    // g is low: context, in the incident but not its span (ADR 0051), so the end is f's.
    expect(s.docs.get(series)!.doc).toMatchObject({ end: at(0), alert_ids: ['f', 'g'], versions: [{ id: 'f', at: at(0), level: 'medium' }] });
    expect(s.docs.get(series)!.doc.risk).toBeCloseTo(5 * decayH(1) + 1, 5);
    await applyIncidentUpdates(s, [updates[2]!]);
    expect(s.docs.get(series)!.doc).toMatchObject({ alert_count: 2, end: at(2), risk_at: at(2), versions: [{ id: 'f', at: at(2), level: 'medium' }] });
    expect(s.docs.get(series)!.doc.risk).toBeCloseTo(5 + 1 * decayH(1), 5);
    await applyIncidentUpdates(s, [updates[3]!]);
    const d = s.docs.get(series)!.doc;
    // f counts at hour 6 as high (20), g at hour 1 as low (1), decayed to hour 6.
    expect(d).toMatchObject({ level: 'high', alert_count: 2, alert_ids: ['f', 'g'], start: at(0), end: at(6), risk_at: at(6), closes_at: at(30), versions: [{ id: 'f', at: at(6), level: 'high' }] });
    expect(d.risk).toBeCloseTo(20 + 1 * decayH(5), 5);
    // A redelivery of any version changes nothing.
    expect(await applyIncidentUpdates(s, updates)).toBe(0);
  });

  it('gives the same incident whatever the order or the batches', async () => {
    const seam = (d: IncidentDoc): unknown => ({ ...d, updated_at: undefined, risk: Math.round(d.risk * 1e4) / 1e4 });
    const docs: unknown[] = [];
    for (const batches of [[updates], [[...updates].reverse()], updates.map((u) => [u]), [...updates].reverse().map((u) => [u]), [[updates[3]!, updates[1]!], [updates[0]!, updates[2]!]]]) {
      const s = memoryStore();
      for (const b of batches) await applyIncidentUpdates(s, b);
      docs.push(seam(s.docs.get(incidentId('alice'))!.doc));
    }
    for (const d of docs.slice(1)) expect(d).toEqual(docs[0]);
    expect(docs[0]).toMatchObject({ end: at(6), level: 'high', alert_count: 2 });
  });

  it('a version later than its incident\'s lifetime does not reopen it: it only raises the level', async () => {
    const s = memoryStore();
    const series = incidentId('alice');
    await applyIncidentUpdates(s, [v('f', 0, 'medium')]);
    // The finding resumes two days later (the incident would have closed at hour 24).
    await applyIncidentUpdates(s, [v('f', 48, 'high')]);
    expect(s.docs.get(series)!.doc).toMatchObject({ level: 'high', end: at(0), closes_at: at(24), risk: 5, versions: [{ id: 'f', at: at(0), level: 'medium' }] });
  });

  it('the console\'s incidents show the newest version and end at it', () => {
    const alert = (h: number, level: Alert['rule']['level']): Alert => ({
      id: 'f',
      '@timestamp': at(h),
      rule: { id: 'r', title: 'r', level, tags: [], type: 'native' },
      events: [`f:${h}`],
      native_ids: ['f'],
      summary: 's',
      principal: { id: 'alice', type: 'iam_user' },
      finding: { id: 'f', updated_at: at(h) },
    });
    const [inc] = incidentsFrom([alert(0, 'medium'), alert(2, 'medium'), alert(6, 'high'), alert(48, 'high')]);
    expect(inc).toMatchObject({ level: 'high', start: at(0), end: at(6), closesAt: at(30) });
    expect(inc!.alerts.map((a) => a['@timestamp'])).toEqual([at(6)]);
  });
});

describe('workload sessions and context alerts (ADR 0051)', () => {
  const acct = '111122223333';
  const alert = (id: string, t: string, level: Alert['rule']['level'], over: Partial<Alert>): Alert =>
    ({ id, '@timestamp': t, rule: { id: `r-${id}`, title: id, level, tags: [], type: 'sigma' }, events: [], native_ids: [], summary: id, account: acct, ...over }) as Alert;
  const session = (role: string, name: string) => {
    const arn = `arn:aws:sts::${acct}:assumed-role/${role}/${name}`;
    return { id: arn, arn, type: 'assumed_role' as const, session: name };
  };
  /** What the identity graph puts on a CloudTrail alert of an IRSA session (credential → session → role, session → service account). */
  const irsaChain = (arn: string, kind = 'web_identity_session') => [
    { kind: 'credential', from: 'ASIAEXAMPLE000000001', to: arn },
    { kind: 'session_of', from: arn, to: `arn:aws:iam::${acct}:role/payments-api-irsa` },
    { kind, from: arn, to: 'k8s:prod-eks-01:sa:payments/api' },
  ];
  const saKey = `eks:${acct}:prod-eks-01/system:serviceaccount:payments:api`;

  /** Incidents (not context documents) after merging `alerts` one by one in `order`, and the console's grouping of them. */
  async function merged(alerts: Alert[]): Promise<{ index: [string, string[]][]; store: ReturnType<typeof memoryStore> }> {
    const s = memoryStore();
    for (const a of alerts) await applyIncidentUpdates(s, [incidentUpdate(a)]);
    const index = [...s.docs.values()].filter(({ doc }) => doc.status !== 'context').map(({ doc }) => [doc.key, doc.alert_ids] as [string, string[]]).sort();
    const printed = incidentsFrom(alerts).map((i) => [i.key, i.alerts.map((a) => a.id).sort()] as [string, string[]]).sort();
    expect(printed).toEqual(index);
    return { index, store: s };
  }

  it('an IRSA session\'s alert and its service account\'s audit alert are one incident, keyed as the Kubernetes side is', async () => {
    const stolen = session('payments-api-irsa', 'botocore-session-1730815835');
    const aws = alert('ct', at(1), 'high', { principal: stolen, chain: irsaChain(stolen.arn) });
    const k8s = alert('audit', at(0), 'high', { principal: { id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api', k8s_user: 'system:serviceaccount:payments:api' }, cluster: 'prod-eks-01' });
    expect(incidentKey(aws)).toBe(saKey);
    expect(incidentKey(k8s)).toBe(saKey);
    // EKS Pod Identity the same; the alert's own cluster does not matter, the chain's does.
    const pis = alert('pis', at(2), 'medium', { principal: stolen, chain: irsaChain(stolen.arn, 'pod_identity_session'), cluster: 'other' });
    expect(incidentKey(pis)).toBe(saKey);
    const { index, store } = await merged([aws, k8s, pis]);
    expect(index).toEqual([[saKey, ['audit', 'ct', 'pis']]]);
    const doc = store.docs.get(incidentId(saKey))!.doc;
    expect(doc.who).toMatchObject({ id: 'system:serviceaccount:payments:api', type: 'service_account' });
    expect(doc.actors).toEqual([stolen.arn]);
    // With an origin beyond the service account (an exec the graph traced to a person), the person's incident as before.
    const alice = session('PlatformAdmin', 'alice@example.com');
    const exec = [...irsaChain(stolen.arn), { kind: 'pod_service_account', from: 'k8s:prod-eks-01:sa:payments/api', to: 'k8s:prod-eks-01:pod:payments/api-1' }, { kind: 'exec', from: 'k8s:prod-eks-01:pod:payments/api-1', to: alice.arn }];
    expect(incidentKey({ ...aws, origin: alice, chain: exec })).toBe(alice.arn);
    // The stolen session acting in the cluster as an IAM-authenticated user (an access entry): its origin is the
    // session itself, on the way to the service account, so the service account's incident.
    const asUser = [{ kind: 'authenticates_as', from: `k8s:prod-eks-01:user:${stolen.arn}`, to: stolen.arn }, ...irsaChain(stolen.arn)];
    expect(incidentKey(alert('k', at(3), 'high', { principal: { id: stolen.arn, type: 'k8s_user', k8s_user: stolen.arn, arn: stolen.arn }, origin: stolen, chain: asUser, cluster: 'prod-eks-01' }))).toBe(saKey);
  });

  it('two hourly sessions of one workload role with no person are one incident, keyed by the role; a person\'s session keeps its own', async () => {
    const a = alert('s1', at(0), 'medium', { principal: session('ci-deployer', 'gha-run-4711') });
    const b = alert('s2', at(1), 'high', { principal: session('ci-deployer', 'gha-run-4712') });
    const role = `arn:aws:iam::${acct}:role/ci-deployer`;
    expect((await merged([a, b])).index).toEqual([[role, ['s1', 's2']]]);
    for (const name of ['external-secrets-1793577600', 'i-0abcdef1234567890', '5f0c7b1e-8d2a-4c51-9f36-1b2c3d4e5f60']) expect(incidentKey(alert('x', at(0), 'high', { principal: session('app', name) }))).toBe(`arn:aws:iam::${acct}:role/app`);
    // People (and fixed names) keep the session key: alice and bob on one role are two incidents.
    for (const [r, name] of [['PlatformAdmin', 'alice'], ['PlatformAdmin', 'alice@example.com'], ['AWSReservedSSO_Admin_0123456789abcdef', 'bob1234'], ['my-lambda-role', 'my-function']] as const) {
      const p = session(r, name);
      expect(incidentKey(alert('x', at(0), 'high', { principal: p }))).toBe(p.arn);
    }
  });

  it('informational and low alerts alone open no incident', async () => {
    const info = alert('i1', at(0), 'informational', { principal: session('external-secrets', 'external-secrets-1793577600') });
    const low = alert('l1', at(1), 'low', { principal: session('external-secrets', 'external-secrets-1793581200') });
    const { index, store } = await merged([info, low]);
    expect(index).toEqual([]);
    expect(incidentsFrom([info, low])).toEqual([]);
    // They are held on the identity's context document, which is not an incident.
    const series = incidentId(`arn:aws:iam::${acct}:role/external-secrets`);
    expect(store.docs.get(contextId(series))!.doc).toMatchObject({ status: 'context', episode: 0, alert_ids: ['i1', 'l1'], level: 'low' });
  });

  it('info then medium within the window is one incident, in any order and batching; context further away stays out and keeps nothing open', async () => {
    const p = { principal: { id: 'arn:aws:iam::111122223333:user/ops', arn: 'arn:aws:iam::111122223333:user/ops', type: 'iam_user' as const } };
    const early = alert('i-early', at(-25), 'informational', p); // further than the 24 h window before the medium: not its context
    const info = alert('i1', at(0), 'informational', p);
    const med = alert('m1', at(5), 'medium', p);
    const low = alert('l-after', at(20), 'low', p);
    const all = [early, info, med, low];
    const orders = [all, [med, low, info, early], [low, early, med, info], [info, early, low, med]];
    const results: unknown[] = [];
    for (const order of orders) {
      const { index, store } = await merged(order);
      expect(index).toEqual([['arn:aws:iam::111122223333:user/ops', ['i1', 'l-after', 'm1']]]);
      const series = incidentId('arn:aws:iam::111122223333:user/ops');
      const doc = store.docs.get(series)!.doc;
      // The span (and so when it closes) is the medium alert's: context neither opens nor keeps an incident open.
      expect(doc).toMatchObject({ level: 'medium', start: at(5), end: at(5), closes_at: at(29), alert_count: 3 });
      expect(store.docs.get(contextId(series))!.doc.alert_ids).toEqual(['i-early']);
      results.push(Object.fromEntries([...store.docs].map(([id, d]) => [id, seamFields(d.doc)])));
    }
    for (const r of results) expect(r).toEqual(results[0]);
    // In one batch, the same documents.
    const batch = memoryStore();
    await applyIncidentUpdates(batch, all.map((a) => incidentUpdate(a)));
    expect(Object.fromEntries([...batch.docs].map(([id, d]) => [id, seamFields(d.doc)]))).toEqual(results[0]);
  });

  it('a held alert whose later version rises to medium opens the incident; held context is forgotten two windows behind the newest alert', async () => {
    const s = memoryStore();
    const series = incidentId('alice');
    await applyIncidentUpdates(s, [up('f', at(0), 'low')]);
    expect(s.docs.has(series)).toBe(false);
    await applyIncidentUpdates(s, [up('f', at(1), 'high')]);
    expect(s.docs.get(series)!.doc).toMatchObject({ level: 'high', alert_ids: ['f'], start: at(0) });
    expect(s.docs.get(contextId(series))!.doc.alert_ids).toEqual([]);
    await applyIncidentUpdates(s, [up('old', at(100), 'low'), up('new', at(147), 'informational')]);
    expect(s.docs.get(contextId(series))!.doc.alert_ids).toEqual(['new', 'old']);
    await applyIncidentUpdates(s, [up('newest', at(160), 'informational')]);
    expect(s.docs.get(contextId(series))!.doc.alert_ids).toEqual(['new', 'newest']);
  });
});

describe('context alerts across a restart (ADR 0051)', () => {
  it('an informational alert of one run and a medium one of the next (--resume) are one incident in incidents.jsonl', async () => {
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { FileIndexSink } = await import('./file-sink.ts');
    const dir = await mkdtemp(join(tmpdir(), 'seam-context-'));
    const first = await FileIndexSink.open(dir);
    await first.mergeIncidents([up('i1', at(0), 'informational')]);
    await first.close();
    const second = await FileIndexSink.open(dir, { append: true });
    await second.mergeIncidents([up('m1', at(3), 'medium')]);
    await second.close();
    const docs = new Map<string, IncidentDoc>();
    for (const line of (await readFile(join(dir, 'incidents.jsonl'), 'utf8')).split('\n')) if (line.trim()) docs.set((JSON.parse(line) as IncidentDoc).id, JSON.parse(line) as IncidentDoc);
    const series = incidentId('alice');
    expect(docs.get(series)).toMatchObject({ alert_ids: ['i1', 'm1'], start: at(3), level: 'medium', status: 'open' });
    expect(docs.get(contextId(series))).toMatchObject({ status: 'context', alert_ids: [] });
  });
});
