import { describe, expect, it } from 'vitest';
import { incidentId, mergeIncident, RISK_HALF_LIFE_MS, type IncidentDoc, type IncidentUpdate } from './incident-topic.ts';

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
