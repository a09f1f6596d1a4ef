import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERTS_RETENTION_DAYS, ismPolicy } from './setup.ts';

const templates = { indexPrefix: 'soc' } as Parameters<typeof ismPolicy>[0]['templates'];
/** ISM index_patterns are globs with `*`: the same reading here. */
const covers = (patterns: string[], index: string): boolean => patterns.some((p) => new RegExp(`^${p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(index));

describe('ISM retention per index family (review platsec M8)', () => {
  it('the alerts policy deletes daily alert indices after 400 days by default, and leaves events, -alerts-all, identity and incidents alone', async () => {
    const p = (await ismPolicy({ templates }, 'alerts')).policy;
    const patterns = p.ism_template!.flatMap((t) => t.index_patterns);
    expect(covers(patterns, 'soc-alerts-2026.12.05')).toBe(true);
    for (const other of ['soc-alerts-all', 'soc-events-cloudtrail-2026.12.05', 'soc-identity', 'soc-incidents', 'seam-alerts-2026.12.05']) expect(covers(patterns, other), other).toBe(false);
    expect(DEFAULT_ALERTS_RETENTION_DAYS).toBe(400);
    expect(p.states.flatMap((s) => s.transitions ?? []).map((t) => t.conditions?.min_index_age)).toEqual(['400d']);
    expect(p.description).toMatch(/^Seam: keep daily alert indices \(soc-alerts-YYYY\.MM\.DD\) for 400 days/);
  });

  it('each family takes its own retention; the events policy is unchanged by the alerts setting', async () => {
    const alerts = (await ismPolicy({ templates, retentionDays: 30, alertsRetentionDays: 730 }, 'alerts')).policy;
    const events = (await ismPolicy({ templates, retentionDays: 30, alertsRetentionDays: 730 }, 'events')).policy;
    expect(alerts.states.flatMap((s) => s.transitions ?? []).map((t) => t.conditions?.min_index_age)).toEqual(['730d']);
    expect(events.states.flatMap((s) => s.transitions ?? []).map((t) => t.conditions?.min_index_age)).toEqual(['30d']);
    expect(events).toEqual((await ismPolicy({ templates, retentionDays: 30 })).policy);
    expect(covers(events.ism_template!.flatMap((t) => t.index_patterns), 'soc-events-k8s_audit-2026.12.05')).toBe(true);
  });
});
