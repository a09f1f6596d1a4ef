import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED, sharedPresent } from '../../test/helpers/shared.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { normalizeRecord } from '../core/normalize/normalize.ts';
import type { Alert } from './alert.ts';
import { createDetector } from './detector.ts';
import { RequestsMatched } from './request-once.ts';
import { loadRules } from './sigma/ruleset.ts';

// ADR 0057: a Kubernetes request the API server logs at two stages (ResponseStarted, ResponseComplete; one auditID)
// is matched once by a rule that reads no `stage`. The records are the detection-engineer review's (H2): two
// `kubectl exec` sessions by alice, each at both stages, as EKS writes them.
const FIXTURES = join(import.meta.dirname, '../../test/data/review-de/audit-stages');
const SIGMAHQ_K8S = join(SHARED, 'sigma', 'rules', 'application', 'kubernetes');
const RECORDS = readFileSync(join(FIXTURES, 'events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Record<string, unknown>);

function event(r: Record<string, unknown>): SeamEvent {
  const res = normalizeRecord(r, { collector: 'test', receivedAt: '2026-12-01T11:00:00Z', cluster: 'c1' });
  if (!res.ok) throw new Error(res.error.message);
  return res.value;
}
/** A third session: the first one's records under another auditID, a minute later. */
function thirdSession(): Record<string, unknown>[] {
  return RECORDS.slice(0, 2).map((r) => ({
    ...r,
    auditID: 'aud-0003',
    requestReceivedTimestamp: '2026-12-01T10:03:00Z',
    stageTimestamp: String(r.stageTimestamp).replace('10:01', '10:03'),
  }));
}
async function run(dir: string | string[], records: Record<string, unknown>[], extra: string[] = []): Promise<Alert[]> {
  const { ruleset } = await loadRules([...(Array.isArray(dir) ? dir : [dir]), ...extra]);
  const d = createDetector({ ruleset });
  const out: Alert[] = [];
  for (const r of records) out.push(...d.process(event(r)));
  out.push(...d.flush());
  return out;
}

describe('one Kubernetes request, one match (ADR 0057)', () => {
  const has = sharedPresent(SIGMAHQ_K8S);
  beforeAll(() => {
    if (!has) console.warn('skipping the SigmaHQ cases: ../shared/sigma is not present');
  });

  it.runIf(has)("SigmaHQ's exec rule raises one alert per exec session, at its first stage", async () => {
    const alerts = await run(SIGMAHQ_K8S, RECORDS);
    const exec = alerts.filter((a) => a.rule.title === 'Potential Remote Command Execution In Pod Container');
    // Before: 4 (each session's two stages).
    expect(exec.map((a) => a.events)).toEqual([['aud-0001:ResponseStarted'], ['aud-0002:ResponseStarted']]);
    expect(new Set(exec.map((a) => a.id)).size).toBe(2);
  });

  it('a correlation counts requests, not stages: two sessions do not make three execs, three do', async () => {
    const two = await run(FIXTURES, RECORDS);
    expect(two.filter((a) => a.rule.type === 'sigma').map((a) => a.native_ids)).toEqual([['aud-0001'], ['aud-0002']]);
    // Before: "Three Shell Execs By One User" fired on aud-0001 (both stages) and aud-0002.
    expect(two.filter((a) => a.rule.type === 'correlation')).toEqual([]);
    const three = await run(FIXTURES, [...RECORDS, ...thirdSession()]);
    const corr = three.filter((a) => a.rule.type === 'correlation');
    expect(corr).toHaveLength(1);
    expect(corr[0]!.native_ids).toEqual(['aud-0001', 'aud-0002', 'aud-0003']);
    expect(corr[0]!.aggregate).toBe(3);
  });

  it('the alert is named by the request: whichever stage comes first, the same id; a copy of a record adds nothing', async () => {
    const inOrder = await run(FIXTURES, RECORDS);
    const reversed = await run(FIXTURES, [RECORDS[1]!, RECORDS[0]!, RECORDS[3]!, RECORDS[2]!, RECORDS[3]!]);
    const sigma = (as: Alert[]): Alert[] => as.filter((a) => a.rule.type === 'sigma');
    expect(sigma(reversed).map((a) => a.id)).toEqual(sigma(inOrder).map((a) => a.id));
    // Processed first, the ResponseComplete record is the evidence this time.
    expect(sigma(reversed).map((a) => a.events)).toEqual([['aud-0001:ResponseComplete'], ['aud-0002:ResponseComplete']]);
  });

  it('a rule that reads `stage` keeps its alerts per event, with the ids it always had', async () => {
    const dir = join(FIXTURES, '..', 'audit-stages-pinned');
    const alerts = await run(dir, RECORDS);
    // One rule pins ResponseComplete (one alert per session), one names both stages (an alert per stage, as before).
    const pinned = alerts.filter((a) => a.rule.id === '5b1f6c1e-0057-4a57-9c10-00000000000a');
    const both = alerts.filter((a) => a.rule.id === '5b1f6c1e-0057-4a57-9c10-00000000000b');
    expect(pinned.map((a) => a.events)).toEqual([['aud-0001:ResponseComplete'], ['aud-0002:ResponseComplete']]);
    expect(both).toHaveLength(4);
    const { alertId } = await import('./alert.ts');
    for (const a of [...pinned, ...both]) expect(a.id).toBe(alertId(a.rule.id, a.events));
  });

  it('remembers a bounded number of requests, forgetting the oldest', () => {
    const m = new RequestsMatched(2);
    expect(m.first('r', 'a')).toBe(true);
    expect(m.first('r', 'a')).toBe(false);
    expect(m.first('r2', 'a')).toBe(true);
    expect(m.first('r', 'b')).toBe(true);
    // (r, a) was the least recently used of three: forgotten.
    expect(m.first('r', 'a')).toBe(true);
  });
});
