// GuardDuty finding versions (ADR 0046): an alert resting only on findings is named by the rule and the finding
// ids, so a finding's later versions (count, last seen, updatedAt, severity) update one alert.
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { alertDocVersion } from '../pipeline/early.ts';
import { OpenSearchSink } from '../sinks/opensearch/sink.ts';
import { alertId, buildAlert, contributionOf, type AlertRule } from './alert.ts';
import { alertNotices, findingHeaders, findingLevel, findingVersionOf, messageRevisionKey, noticeKey, revisionKey } from './finding.ts';

const RULE: AlertRule = { id: 'r-gd', title: 'GD', level: 'medium', tags: [], type: 'sigma' };

/** One version of a finding as the normalizer leaves it (camelCase; `seam.id` is id:updatedAt). */
function version(id: string, updatedAt: string, count: number, severity: number): SeamEvent {
  return {
    '@timestamp': updatedAt,
    id,
    type: 'Execution:Runtime/ReverseShell',
    severity,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt,
    service: { count, eventFirstSeen: '2026-12-01T09:59:00.000Z', eventLastSeen: updatedAt },
    seam: { id: `${id}:${updatedAt}`, source: 'guardduty', ingest: { collector: 'test', received_at: updatedAt, truncated: false, redacted: [] } },
  } as unknown as SeamEvent;
}

const alertOf = (...events: SeamEvent[]) => buildAlert({ rule: RULE, contributions: events.map(contributionOf), summary: 's' });

describe('GuardDuty finding alerts', () => {
  it('severity levels are GuardDuty\'s bands: low < 4, medium 4–6.9, high 7–8.9, critical ≥ 9', () => {
    expect([1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(findingLevel)).toEqual(['low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical']);
  });

  it('every version of a finding gives the same alert id, carrying that version\'s count, last sighting and severity, and the first sighting', () => {
    const v = [version('f1', '2026-12-01T10:00:00.000Z', 1, 5), version('f1', '2026-12-01T11:00:00.000Z', 5, 5), version('f1', '2026-12-01T12:00:00.000Z', 12, 5)];
    const alerts = v.map((e) => alertOf(e));
    expect(new Set(alerts.map((a) => a.id))).toEqual(new Set([alertId('r-gd', ['f1'])]));
    expect(alerts.map((a) => a.events)).toEqual(v.map((e) => [e.seam.id]));
    expect(alerts[2]!.finding).toEqual({
      id: 'f1',
      updated_at: '2026-12-01T12:00:00.000Z',
      created_at: '2026-12-01T10:00:00.000Z',
      first_seen: '2026-12-01T09:59:00.000Z',
      last_seen: '2026-12-01T12:00:00.000Z',
      count: 12,
      severity: 5,
      severity_level: 'medium',
    });
    // Three revisions (three seam.alerts messages), one notice (one notification).
    expect(new Set(alerts.map(revisionKey)).size).toBe(3);
    expect(new Set(alerts.map(noticeKey)).size).toBe(1);
    // A later version at a higher level is a new notice; one that falls back is covered by the higher one.
    const high = alertOf(version('f1', '2026-12-01T13:00:00.000Z', 13, 8));
    expect(high.id).toBe(alerts[0]!.id);
    expect(alertNotices(alerts[0]!)).not.toContain(noticeKey(high));
    expect(alertNotices(high)).toContain(noticeKey(alerts[0]!));
  });

  it('two findings are two alerts; a finding joined with another source\'s event is named by the events, as before', () => {
    expect(alertOf(version('f1', '2026-12-01T10:00:00.000Z', 1, 5)).id).not.toBe(alertOf(version('f2', '2026-12-01T10:00:00.000Z', 1, 5)).id);
    const trail = { '@timestamp': '2026-12-01T10:00:01.000Z', eventID: 'ct-1', seam: { id: 'ct-1', source: 'cloudtrail' } } as unknown as SeamEvent;
    const mixed = alertOf(version('f1', '2026-12-01T10:00:00.000Z', 1, 5), trail);
    expect(mixed.id).toBe(alertId('r-gd', ['f1:2026-12-01T10:00:00.000Z', 'ct-1']));
    expect(mixed.finding).toBeUndefined();
    // A correlation over the versions of one finding is that finding's alert.
    expect(alertOf(version('f1', '2026-12-01T10:00:00.000Z', 1, 5), version('f1', '2026-12-01T11:00:00.000Z', 5, 5)).finding?.count).toBe(5);
  });

  it('reads an EventBridge envelope\'s detail and the SDK\'s PascalCase alike', () => {
    const eb = { '@timestamp': 'x', source: 'aws.guardduty', detail: { id: 'f9', updatedAt: '2026-12-01T10:00:00Z', severity: 9.5, service: { count: 2 } }, seam: { id: 'a', source: 'guardduty' } } as unknown as SeamEvent;
    expect(findingVersionOf(eb)).toEqual({ id: 'f9', updated_at: '2026-12-01T10:00:00Z', count: 2, severity: 9.5, severity_level: 'critical' });
    const sdk = { '@timestamp': 'x', Id: 'f8', UpdatedAt: '2026-12-01T10:00:00Z', Severity: 2, Service: { Count: 3 }, seam: { id: 'b', source: 'guardduty' } } as unknown as SeamEvent;
    expect(findingVersionOf(sdk)).toMatchObject({ id: 'f8', count: 3, severity_level: 'low' });
  });

  it('the index keeps the newest version: a later version outranks the document, an older one arriving last does not (external versions)', () => {
    const older = alertOf(version('f1', '2026-12-01T10:00:00.000Z', 1, 5));
    const newer = alertOf(version('f1', '2026-12-01T11:00:00.000Z', 5, 5));
    expect(alertDocVersion(newer)).toBeGreaterThan(alertDocVersion(older));
    // An early (provisional) alert of the newer version replaces the older final; the newer final replaces it.
    expect(alertDocVersion({ ...newer, provisional: true })).toBeGreaterThan(alertDocVersion(older));
    expect(alertDocVersion(newer)).toBeGreaterThan(alertDocVersion({ ...newer, provisional: true }));
    // One daily index for every version: the finding's creation day, not the version's.
    const sink = new OpenSearchSink({ bulk: async () => ({ body: { items: [] } }) } as never, { nodeUrls: ['http://127.0.0.1:1'] });
    const later = alertOf(version('f1', '2026-12-03T08:00:00.000Z', 40, 5));
    expect(sink.alertTarget(later)).toEqual(sink.alertTarget(older));
    expect(sink.alertTarget(later).index).toBe('seam-alerts-2026.12.01');
    // Alerts of other sources keep ADR 0025's versions.
    expect(alertDocVersion({})).toBe(2);
    expect(alertDocVersion({ provisional: true })).toBe(1);
  });
});

describe('an alert raised again with more context (revision, ADR 0009 decision 7)', () => {
  const final = { id: 'a1', finding: { id: 'f1', updated_at: '2024-11-05T14:20:00.000Z', severity_level: 'high' as const } };
  const revised = { ...final, revision: 1 };
  it('is a revision of its own on seam.alerts (the exactly-once bookkeeping keeps both), with the notice of the final', () => {
    expect(revisionKey(revised)).not.toBe(revisionKey(final));
    expect(revisionKey({ ...final, revision: 2 })).not.toBe(revisionKey(revised));
    // What the correlate role rebuilds from a seam.alerts message is what it noted when it produced it.
    expect(messageRevisionKey('a1', findingHeaders(revised))).toBe(revisionKey(revised));
    expect(messageRevisionKey('a1', findingHeaders(final))).toBe(revisionKey(final));
    expect(messageRevisionKey('x', findingHeaders({ id: 'x', revision: 3 }))).toBe(revisionKey({ id: 'x', revision: 3 }));
    // Not notified again: its notice is the final's.
    expect(noticeKey(revised)).toBe(noticeKey(final));
  });
  it('replaces the final it completes in the index, and a late write of that final changes nothing', () => {
    expect(alertDocVersion(revised)).toBeGreaterThan(alertDocVersion(final));
    // Still below the next version of the finding.
    expect(alertDocVersion(revised)).toBeLessThan(alertDocVersion({ ...final, finding: { id: 'f1', updated_at: '2024-11-05T14:20:00.001Z' } }));
  });
});
