import { describe, expect, it } from 'vitest';
import { SOURCE_TYPES } from '../../core/envelope.ts';
import { alertsIndexName, buildTemplates, dayStamp, eventsIndexName, identityIndexName, incidentsIndexName } from './templates.ts';
import { Alert } from '../../detect/alert.ts';

const opts = { indexPrefix: 'seam', shards: 1, replicas: 0, refreshIntervalMs: 5000 };

/** OpenSearch index patterns use `*` only. */
const matches = (pattern: string, name: string): boolean => new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name);

describe('index names', () => {
  it('puts events in daily indices by @timestamp (UTC) and source', () => {
    expect(eventsIndexName('seam', 'cloudtrail', '2025-06-01T23:59:59-02:00', true)).toBe('seam-events-cloudtrail-2025.06.02');
    expect(eventsIndexName('seam', 'k8s_audit', '2025-06-01T00:00:00.123456Z', false)).toBe('seam-events-k8s_audit-all');
    expect(alertsIndexName('seam', '2025-01-31T10:00:00Z', true)).toBe('seam-alerts-2025.01.31');
    expect(identityIndexName('seam')).toBe('seam-identity');
  });

  it('stamps the UTC day of any date form, also when consecutive calls change day (the stamp is kept per day)', () => {
    const cases: [string | number | Date, string][] = [
      ['2025-06-01T23:59:59.999Z', '2025.06.01'],
      ['2025-06-02T00:00:00Z', '2025.06.02'],
      ['2025-06-01T23:59:59-02:00', '2025.06.02'],
      [Date.UTC(2025, 5, 1, 12), '2025.06.01'],
      [new Date('1969-12-31T23:59:59Z'), '1969.12.31'],
      ['1970-01-01T00:00:00Z', '1970.01.01'],
      [-1, '1969.12.31'],
      ['2025-06-02T10:00:00+14:00', '2025.06.01'],
    ];
    for (let round = 0; round < 2; round++) for (const [ts, day] of cases) expect(dayStamp(ts), String(ts)).toBe(day);
    for (const [ts] of cases) expect(dayStamp(ts)).toBe((ts instanceof Date ? ts : new Date(ts)).toISOString().slice(0, 10).replaceAll('-', '.'));
    expect(dayStamp(Number.NaN)).toBeUndefined();
    expect(dayStamp('2025-13-01T00:00:00Z')).toBeUndefined();
  });

  it('falls back to the receive day when @timestamp is not a date, so OpenSearch can say why', () => {
    expect(dayStamp('not a date')).toBeUndefined();
    expect(eventsIndexName('seam', 'runtime', 'not a date', true, new Date('2025-03-04T05:06:07Z'))).toBe('seam-events-runtime-2025.03.04');
  });

  it('every name the sink writes matches exactly one template', () => {
    const { indexTemplates } = buildTemplates(opts);
    const names = [
      ...SOURCE_TYPES.flatMap((s) => [eventsIndexName('seam', s, '2025-06-01T00:00:00Z', true), eventsIndexName('seam', s, 0, false)]),
      alertsIndexName('seam', '2025-06-01T00:00:00Z', true),
      identityIndexName('seam'),
      incidentsIndexName('seam'),
    ];
    for (const name of names) {
      const hits = indexTemplates.filter((t) => (t.body.index_patterns as string[]).some((p) => matches(p, name)));
      expect(hits.map((t) => t.name), name).toHaveLength(1);
    }
  });
});

describe('templates', () => {
  it('carry settings from the config and a hash that changes with them', () => {
    const a = buildTemplates(opts);
    const b = buildTemplates({ ...opts, replicas: 1 });
    const settings = a.componentTemplates[0]!.body.template as { settings: { index: Record<string, unknown> } };
    expect(settings.settings.index).toMatchObject({ number_of_replicas: 0, refresh_interval: '5000ms' });
    const hash = (t: typeof a) => (t.componentTemplates[0]!.body._meta as { seam_hash: string }).seam_hash;
    expect(hash(a)).not.toBe(hash(b));
    expect(hash(a)).toBe(hash(buildTemplates(opts)));
  });
});

describe('alerts template', () => {
  it('maps every field of the Alert schema (a new field, such as related_events, is not left to dynamic mapping)', () => {
    const t = buildTemplates(opts).indexTemplates.find((x) => x.name === 'seam-alerts')!;
    const props = ((t.body.template as Record<string, unknown>).mappings as { properties: Record<string, { type?: string }> }).properties;
    expect(Object.keys(props).sort()).toEqual(Object.keys(Alert.shape).sort());
    expect(props.related_events!.type).toBe('keyword');
    // What the triage dashboard aggregates on (SOC review M7).
    expect(props.incident_key!.type).toBe('keyword');
    // The triage text is prose to read: analysed text, not a keyword to aggregate on.
    expect(props.triage).toEqual({ type: 'text' });
    const rule = props.rule as unknown as { properties: Record<string, { type?: string }> };
    expect(rule.properties.variant!.type).toBe('keyword');
  });

  it('maps the fold (ADR 0050) with keyword ids: folded_into and also_matched rule_id and alert_id', () => {
    const t = buildTemplates(opts).indexTemplates.find((x) => x.name === 'seam-alerts')!;
    const props = ((t.body.template as Record<string, unknown>).mappings as { properties: Record<string, { type?: string; properties?: Record<string, { type?: string }> }> }).properties;
    expect(props.folded_into!.type).toBe('keyword');
    const also = props.also_matched!.properties!;
    expect([also.rule_id!.type, also.alert_id!.type, also.level!.type]).toEqual(['keyword', 'keyword', 'keyword']);
    expect(Object.keys(also).sort()).toEqual(['alert_id', 'level', 'rule_id', 'title']);
  });
});
