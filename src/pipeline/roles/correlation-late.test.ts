// ADR 0009 (amendment 2026-12-07): while the input is quiet the correlate role moves its stage on to the wall clock, for
// what waits on time (GuardDuty joins, judged correlation windows). Old records produced afterwards into the running
// pipeline (a replay, a collector catching up, the next chunk of a backlog) used to be late for every Sigma correlation
// and dropped, counted since session 35 (`correlationLateDrops`). Now the quiet advance does not move the correlations'
// event time, so the demo produced in two chunks with a quiet advance between raises the same correlation alerts as
// produced at once, and none is dropped.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../detect/alert.ts';
import { MemoryBus } from '../../bus/memory.ts';
import { rawHeaders } from '../../sources/checkpoint/raw-record.ts';
import { detectSource } from '../../sources/cloudwatch-logs/parse.ts';
import { loadDetection } from '../detection.ts';
import { memoryHistory } from '../history.ts';
import { memoryUpstream } from '../progress.ts';
import { pipelineTopics } from '../topics.ts';
import { createCorrelateRole } from './correlate.ts';
import { createNormalizeRole } from './normalize.ts';

const DEMO = join(import.meta.dirname, '../../../deploy/demo/eks-demo.jsonl');
const RULES = join(import.meta.dirname, '../../../detections');

describe('old records produced after the input went quiet (ADR 0009)', () => {
  it('count in the correlations as when produced at once: same correlation alerts, none dropped', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const lines = (await readFile(DEMO, 'utf8')).split('\n').filter(Boolean);
    const run = async (name: string, chunks: string[][]): Promise<{ lateDrops: number; quietAdvances: number; correlations: string[]; alerts: number }> => {
      const alerts: Alert[] = [];
      const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 1000 });
      const topics = pipelineTopics(`${name}.`);
      const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', onAlert: (a) => alerts.push(a), order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: 0, pollMs: 20 } });
      const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
      await correlate.start();
      await normalize.start();
      const producer = await bus.producer();
      for (const chunk of chunks) {
        const advances = (correlate.stats() as { quietAdvances: number }).quietAdvances;
        await producer.send(chunk.map((text) => ({ topic: topics.raw(detectSource(text)!), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: detectSource(text)! }) })));
        for (const t of topics.rawAll) await bus.waitCommitted('n', t);
        await bus.waitCommitted('c', topics.signals);
        // The input goes quiet: the ticker moves the stage's clock on to the wall clock.
        const deadline = Date.now() + 30_000;
        while ((correlate.stats() as { quietAdvances: number }).quietAdvances === advances) {
          if (Date.now() > deadline) throw new Error(`${name}: no quiet advance within 30 s after a chunk`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const s = correlate.stats() as { correlationLateDrops: number; quietAdvances: number };
      await normalize.stop();
      await correlate.stop();
      const correlations = alerts.filter((a) => a.rule.type === 'correlation').map((a) => `${a.rule.id} ${a.id}`);
      return { lateDrops: s.correlationLateDrops, quietAdvances: s.quietAdvances, correlations: [...new Set(correlations)].sort(), alerts: new Set(alerts.map((a) => a.id)).size };
    };
    const once = await run('once', [lines]);
    expect(once.lateDrops).toBe(0);
    const half = Math.floor(lines.length / 2);
    const chunked = await run('chunked', [lines.slice(0, half), lines.slice(half)]);
    expect(chunked.quietAdvances).toBeGreaterThanOrEqual(2);
    expect(once.correlations.length).toBeGreaterThan(0);
    expect(chunked.correlations).toEqual(once.correlations);
    expect(chunked.lateDrops).toBe(0);
    process.stdout.write(`correlation-late: correlation alerts once=${once.correlations.length} chunked=${chunked.correlations.length}; alerts once=${once.alerts} chunked=${chunked.alerts}; dropped by correlations once=${once.lateDrops} chunked=${chunked.lateDrops}\n`);
  });
});
