// ADR 0057 on a real Kafka with several partitions: the two stages of one Kubernetes request (ResponseStarted,
// ResponseComplete; one auditID) arrive on different raw partitions, in either order, with early alerts on. A rule
// that reads no `stage` (the review's own exec rule and, when present, SigmaHQ's Kubernetes rules) raises one final
// alert per request, the embedded run's ids, and the index holds one document each; a correlation counts requests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaPartition } from '../../src/bus/partition.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { alertVersion } from '../../src/pipeline/early.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { SHARED, sharedPresent } from '../helpers/shared.ts';
import { allIds, embeddedAlertList, pipeline, type Pipeline, type RawRecord } from './harness.ts';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/data/review-de/audit-stages');
const SIGMAHQ_K8S = join(SHARED, 'sigma', 'rules', 'application', 'kubernetes');
const PARTITIONS = { raw: 3, events: 3, signals: 3, alerts: 2, dlq: 1 };
const ACCOUNTS = ['111122223331', '111122223332', '111122223333', '111122223334', '111122223335'];

/** Three clusters on at least two signals partitions, three exec sessions each by the cluster's user, both stages. */
function records(): RawRecord[] {
  const base = readFileSync(join(FIXTURES, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 2)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const accounts: string[] = [];
  for (const a of ACCOUNTS) if (accounts.length < 3 && (accounts.length < 2 ? !accounts.some((x) => kafkaPartition(x, PARTITIONS.signals) === kafkaPartition(a, PARTITIONS.signals)) : true)) accounts.push(a);
  const out: RawRecord[] = [];
  accounts.forEach((account, c) => {
    for (let s = 1; s <= 3; s++) {
      const minute = String(s * 2).padStart(2, '0');
      const stages = base.map((r) => ({
        ...r,
        auditID: `aud-c${c}-${s}`,
        user: { username: `alice-c${c}`, groups: ['system:authenticated'] },
        requestReceivedTimestamp: `2026-12-01T10:${minute}:00Z`,
        stageTimestamp: String(r.stageTimestamp).replace('10:01', `10:${minute}`),
      }));
      // Every other session arrives ResponseComplete first.
      if ((c + s) % 2 === 0) stages.reverse();
      for (const r of stages) out.push({ text: JSON.stringify(r), source: 'k8s_audit', cluster: `c${c}`, account });
    }
  });
  return out;
}

describe('one Kubernetes request, one match, on a multi-partition Kafka (ADR 0057)', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.cleanup();
    p = undefined;
  });

  it('stages on different raw partitions, in either order, early alerts on: one final and one index document per (rule, request)', async () => {
    const rules = sharedPresent(SIGMAHQ_K8S) ? [FIXTURES, SIGMAHQ_K8S] : [FIXTURES];
    const detection = await loadDetection({ rules, explicitRules: true });
    const recs = records();
    const embedded = await embeddedAlertList(detection, recs);
    p = await pipeline('reqonce', PARTITIONS, undefined, { detection });
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.produce(recs);
    await p.drain();
    const finals = new Map<string, Alert>();
    let finalMessages = 0;
    await p.admin.readToEnd([p.topics.alerts], (m) => {
      const a = JSON.parse(m.value.toString('utf8')) as Alert;
      if (alertVersion(a) !== 'final') return;
      finalMessages++;
      finals.set(a.id, a);
    });
    const kafka = [...finals.values()];
    const sigma = kafka.filter((a) => a.rule.type === 'sigma');
    const byRule = new Map<string, string[]>();
    for (const a of sigma) byRule.set(a.rule.id, [...(byRule.get(a.rule.id) ?? []), a.native_ids[0]!]);
    process.stdout.write(`request-once kafka: records=${recs.length} finals=${kafka.length} final_messages=${finalMessages} embedded=${embedded.length} rules=${[...byRule.entries()].map(([r, ids]) => `${r.slice(0, 8)}:${ids.length}`).join(',')}\n`);
    // Every stage-less rule that fired did so once per request: 9 requests, 9 alerts each, never a second stage.
    expect(byRule.size).toBeGreaterThan(0);
    for (const ids of byRule.values()) expect(new Set(ids).size).toBe(ids.length);
    for (const ids of byRule.values()) expect(ids).toHaveLength(9);
    expect(finalMessages).toBe(kafka.length);
    expect(kafka.filter((a) => a.unenriched !== undefined)).toEqual([]);
    // Sigma alerts are named by (rule, request): exactly the embedded run's.
    expect(new Set(sigma.map((a) => a.id))).toEqual(new Set(embedded.filter((a) => a.rule.type === 'sigma').map((a) => a.id)));
    // Correlations count requests: three per user.
    expect(kafka.filter((a) => a.rule.type === 'correlation').map((a) => a.aggregate)).toEqual([3, 3, 3]);
    // The index: one document per alert, and both stages of every request kept as events.
    await p.os.indices.refresh({ index: `${p.indexPrefix}-*` });
    const docs = await allIds(p.os, `${p.indexPrefix}-alerts-*`);
    expect(new Set(docs)).toEqual(new Set(kafka.map((a) => a.id)));
    expect(docs).toHaveLength(kafka.length);
    const events = await allIds(p.os, `${p.indexPrefix}-events-*`);
    expect(events.filter((id) => id.startsWith('aud-c'))).toHaveLength(recs.length);
  });
});
