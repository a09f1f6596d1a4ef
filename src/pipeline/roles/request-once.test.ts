import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.ts';
import type { Alert } from '../../detect/alert.ts';
import { rawHeaders } from '../../sources/checkpoint/raw-record.ts';
import { loadDetection } from '../detection.ts';
import { memoryHistory } from '../history.ts';
import { memoryUpstream } from '../progress.ts';
import { decodeSignals } from '../signal.ts';
import { pipelineTopics } from '../topics.ts';
import { isProvisionalMessage, messageVersion } from '../early.ts';
import { createCorrelateRole } from './correlate.ts';
import { createNormalizeRole } from './normalize.ts';

// ADR 0057 on the production path: normalize and correlate roles over a bus with three partitions, early
// (provisional) alerts on, each request's two stages arriving in either order, and the correlate role killed half-way
// and restarted. A rule that reads no `stage` raises one final alert per request, the same ids as one replay of the
// records in order, and no early alert is closed as `not_confirmed` (which a second stage's own id would have been).
const FIXTURES = join(import.meta.dirname, '../../../test/data/review-de/audit-stages');

const finals = <M extends { headers?: Record<string, string> }>(ms: M[]): M[] => ms.filter((m) => messageVersion(m.headers) === 'final');
const alertsOf = (ms: readonly { value: Buffer | null }[]): Alert[] => ms.map((m) => JSON.parse(m.value!.toString()) as Alert);

/** Three clusters (three accounts: three signal keys), three exec sessions each by the cluster's own user, both stages. */
async function records(): Promise<{ text: string; cluster: string; account: string }[]> {
  const base = (await readFile(join(FIXTURES, 'events.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .slice(0, 2);
  const out: { text: string; cluster: string; account: string }[] = [];
  for (let c = 1; c <= 3; c++) {
    for (let s = 1; s <= 3; s++) {
      const minute = String(s * 2).padStart(2, '0');
      const stages = base.map((r) => ({
        ...r,
        auditID: `aud-c${c}-${s}`,
        user: { username: `alice-c${c}`, groups: ['system:authenticated'] },
        requestReceivedTimestamp: `2026-12-01T10:${minute}:00Z`,
        stageTimestamp: String(r.stageTimestamp).replace('10:01', `10:${minute}`),
      }));
      // Every other session arrives ResponseComplete first (another collector, another raw partition, a retry).
      if ((c + s) % 2 === 0) stages.reverse();
      for (const r of stages) out.push({ text: JSON.stringify(r), cluster: `c${c}`, account: `11112222333${c}` });
    }
  }
  return out;
}

describe('one Kubernetes request, one match, on the bus (ADR 0057)', () => {
  it('three partitions, stages out of order, early alerts and a restart: one final per (rule, request), as a replay', async () => {
    const detection = await loadDetection({ rules: [FIXTURES] });
    const recs = await records();
    // Reference: the detect stage over the records in event-time order.
    const refStage = detection.newStage();
    const ref: Alert[] = [];
    const sorted = [...recs].sort((a, b) => (JSON.parse(a.text) as { stageTimestamp: string }).stageTimestamp.localeCompare((JSON.parse(b.text) as { stageTimestamp: string }).stageTimestamp));
    const { normalizeLine } = await import('../../core/normalize/normalize.ts');
    for (const r of sorted) {
      const n = normalizeLine(r.text, { collector: 'test', receivedAt: '2026-12-01T11:00:00Z', cluster: r.cluster, account: r.account }, { maxRecordBytes: 1 << 20 });
      if (!n.ok) throw new Error(n.error.message);
      ref.push(...refStage.process(n.value));
    }
    ref.push(...refStage.flush());
    const refSigma = ref.filter((a) => a.rule.type === 'sigma');
    // One per request (9), each resting on one event; one correlation per cluster's user (3 execs each).
    expect(refSigma).toHaveLength(9);
    expect(new Set(refSigma.map((a) => a.native_ids[0])).size).toBe(9);
    expect(ref.filter((a) => a.rule.type === 'correlation').map((a) => a.aggregate)).toEqual([3, 3, 3]);

    const bus = new MemoryBus({ defaultPartitions: 3, maxBatch: 5 });
    const topics = pipelineTopics('once.');
    const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    await normalize.start();
    const producer = await bus.producer();
    const raw = topics.raw('k8s_audit');
    // Keyed by record: the two stages of a request land on different raw partitions.
    await producer.send(recs.map((r, i) => ({ topic: raw, key: `k${i}`, value: Buffer.from(r.text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: 'k8s_audit', cluster: r.cluster, account: r.account }) })));
    await bus.waitCommitted('n', raw);
    await normalize.stop();
    const signals = bus.read(topics.signals);
    // Both stages of a request share the signal key (the account): one partition, one correlate member.
    const partitionOf = new Map<string, Set<number>>();
    signals.forEach((ms, p) => {
      for (const m of ms) for (const s of decodeSignals(m.value) ?? []) {
        const id = String(s.event.auditID);
        partitionOf.set(id, (partitionOf.get(id) ?? new Set()).add(p));
      }
    });
    expect(partitionOf.size).toBe(9);
    for (const ps of partitionOf.values()) expect(ps.size).toBe(1);
    expect(new Set([...partitionOf.values()].map((ps) => [...ps][0])).size).toBeGreaterThan(1);

    const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 };
    const total = signals.flat().length;
    let handled = 0;
    const first = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order,
      afterProduce: async (b) => {
        handled += b.length;
        if (handled >= total / 2) throw new Error('killed');
      },
    });
    await first.start();
    while (handled < total / 2) await new Promise((r) => setTimeout(r, 1));
    await first.stop();
    const second = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order });
    await second.start();
    await bus.waitCommitted('c', topics.signals);
    await second.flush();
    await second.stop();

    const all = bus.read(topics.alerts).flat();
    const fin = alertsOf(finals(all));
    const ids = fin.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Sigma alerts are named by (rule, request): the same ids whichever stage the roles met first.
    const sigma = fin.filter((a) => a.rule.type === 'sigma');
    expect(new Set(sigma.map((a) => a.id))).toEqual(new Set(refSigma.map((a) => a.id)));
    // Correlations count requests: three per user, each request once. (Their id names the stage events they rest on: a
    // stage handed on out of event-time order, as the roles here did with one of them, can be the one named.)
    const corr = fin.filter((a) => a.rule.type === 'correlation');
    expect(corr.map((a) => a.aggregate)).toEqual([3, 3, 3]);
    for (const a of corr) expect(new Set(a.native_ids).size).toBe(3);
    expect(new Set(corr.flatMap((a) => a.native_ids))).toEqual(new Set(refSigma.map((a) => a.native_ids[0])));
    expect(fin.filter((a) => a.unenriched !== undefined)).toEqual([]);
    const early = all.filter((m) => isProvisionalMessage(m.headers)).map((m) => m.key!);
    expect(early.length).toBeGreaterThan(0);
    expect(early.filter((id) => !ids.includes(id))).toEqual([]);
    // Each request's early alert once, though both its stages arrived before the watermark.
    expect(new Set(early).size).toBe(early.length);
  });
});
