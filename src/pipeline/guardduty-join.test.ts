import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { buildDetector } from '../detect/load.ts';
import { ev, fixtureEvents } from '../../test/identity/records.ts';
import { readFileSync } from 'node:fs';
import { createDetectStage } from './detect-stage.ts';
import { notifiedLevel, type Alert } from '../detect/alert.ts';
import { startReceiver } from '../../test/helpers/http-receiver.ts';
import { Deliverer } from '../sinks/delivery/deliverer.ts';
import { buildOutputs, DeliveryConfig } from '../sinks/registry.ts';

const ROOT = join(import.meta.dirname, '../..');
const JOIN = 'seam-native-guardduty-incident';

async function alertsOf(events: SeamEvent[]): Promise<Alert[]> {
  const stage = createDetectStage({ detector: await buildDetector([join(ROOT, 'detections/guardduty')]) });
  const out: Alert[] = [];
  for (const e of [...events].sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : 1))) out.push(...stage.process(e));
  out.push(...stage.flush());
  return out;
}

describe('GuardDuty join level (docs/alerts.md: the higher of the severity band and the Sigma rule level)', () => {
  it('raises the join to the level of the type rule that matched the same finding, never below its band', async () => {
    const alerts = await alertsOf([...fixtureEvents('guardduty/get-findings-sdk.json'), ...fixtureEvents('guardduty/findings-rest.jsonl')]);
    const levels = (type: string): { sigma: string[]; join: string[] } => {
      const of = alerts.filter((a) => a.summary.includes(type));
      return { sigma: of.filter((a) => a.rule.type === 'sigma').map((a) => a.rule.level), join: of.filter((a) => a.rule.id === JOIN).map((a) => a.rule.level) };
    };
    // Severity 5 (band medium), the anonymous-access type rule is high: both high.
    expect(levels('SuccessfulAnonymousAccess').join).toEqual(['high']);
    expect(levels('SuccessfulAnonymousAccess').sigma).toContain('high');
    // Severity 3 (band low) under a medium type rule: medium, not low.
    const admin = levels('AdminAccessToDefaultServiceAccount');
    expect(admin.sigma).toEqual(['medium']);
    expect(admin.join).toEqual(['medium']);
    // Each join is at least its finding's band.
    for (const a of alerts.filter((x) => x.rule.id === JOIN)) expect(['medium', 'high', 'critical']).toContain(a.rule.level);
  });

  it('folds the join (raised when its window closes) into its finding\'s notified alert, unless the join\'s level is higher (ADR 0050)', async () => {
    const alerts = await alertsOf([...fixtureEvents('guardduty/get-findings-sdk.json'), ...fixtureEvents('guardduty/findings-rest.jsonl')]);
    // The leader at the level it is notified at (a finding alert's band when higher, ADR 0052).
    const rank = (a: Alert): number => ['informational', 'low', 'medium', 'high', 'critical'].indexOf(notifiedLevel(a));
    const seen = { folded: 0, told: 0 };
    for (const j of alerts.filter((a) => a.rule.id === JOIN)) {
      // The finding's own alerts of the same version: their leader is the one not folded.
      const own = alerts.filter((a) => a.rule.type === 'sigma' && a.events.length === 1 && a.events[0] === j.events[0]);
      const leader = own.find((a) => a.folded_into === undefined);
      if (leader === undefined) {
        expect(j.folded_into).toBeUndefined();
        seen.told++;
      } else if (rank(j) <= rank(leader)) {
        expect(j.folded_into).toBe(leader.id);
        seen.folded++;
      } else {
        expect(j.folded_into).toBeUndefined();
        seen.told++;
      }
    }
    expect(seen.folded).toBeGreaterThan(0);
    process.stdout.write(`guardduty join fold: folded=${seen.folded} notified=${seen.told}\n`);
  });

  it('folds the join into the leader when GuardDuty\'s band is above every rule that matched the finding: the leader is routed at the band (ADR 0052)', async () => {
    // A finding of the SDK fixture, made critical (9.5): the generic severity rule says high, the join critical.
    const doc = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/guardduty/get-findings-sdk.json'), 'utf8')) as { Findings: Record<string, unknown>[] };
    const finding = { ...doc.Findings[0]!, Id: 'f0ld0000000000000000000000000001', Severity: 9.5 };
    const alerts = await alertsOf([ev(finding)]);
    const j = alerts.find((a) => a.rule.id === JOIN)!;
    expect(j.rule.level).toBe('critical');
    const own = alerts.filter((a) => a.rule.type === 'sigma');
    expect(own.length).toBeGreaterThan(0);
    for (const a of own) expect(['low', 'medium', 'high']).toContain(a.rule.level);
    const leader = own.find((a) => a.folded_into === undefined)!;
    expect(notifiedLevel(leader)).toBe('critical');
    expect(j.folded_into).toBe(leader.id);
  });

  it('a later version that raises the band above every rule: the leader\'s escalation is the one notification at that level, the join is folded into it (ADR 0052)', async () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/guardduty/get-findings-sdk.json'), 'utf8')) as { Findings: Record<string, unknown>[] };
    const base: Record<string, unknown> = { ...doc.Findings[0]!, Id: 'f0ld0000000000000000000000000002' };
    const t0 = Date.parse(String(base['UpdatedAt'] ?? base['CreatedAt']));
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const v1 = { ...base, Severity: 5, UpdatedAt: at(0) };
    const v2 = { ...base, Severity: 9.5, UpdatedAt: at(600_000) };
    const alerts = await alertsOf([ev(v1), ev(v2)]);
    const joins = alerts.filter((a) => a.rule.id === JOIN);
    expect(joins.length).toBeGreaterThan(0);
    expect(joins.map((a) => a.rule.level)).toContain('critical');
    for (const a of joins) expect(a.folded_into).toBeDefined();
    // Delivered in the order raised: a route that takes only critical alerts is told once, by the leader's escalation.
    const rx = await startReceiver();
    try {
      const config = DeliveryConfig.parse({ outputs: { pager: { type: 'webhook', url: rx.url, retry: { timeoutMs: 60_000 } } }, throttle: { windowMs: 0 }, routes: [{ name: 'critical', outputs: ['pager'], minLevel: 'critical' }] });
      const d = new Deliverer(config, buildOutputs(config));
      for (const a of alerts) await d.deliver(a);
      const told = rx.requests.map((r) => (r.json as { alert: Alert }).alert);
      expect(told).toHaveLength(1);
      expect(told[0]!.rule.type).toBe('sigma');
      expect(told[0]!.finding?.severity_level).toBe('critical');
    } finally {
      await rx.close();
    }
  });
});
