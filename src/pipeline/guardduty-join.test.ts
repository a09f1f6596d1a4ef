import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { buildDetector } from '../detect/load.ts';
import { fixtureEvents } from '../../test/identity/records.ts';
import { createDetectStage } from './detect-stage.ts';
import type { Alert } from '../detect/alert.ts';

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
});
