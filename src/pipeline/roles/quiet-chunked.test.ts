// ADR 0009 decision 7: while the input is quiet the correlate role moves its stage on to the wall clock (DetectStage.quiet):
// what is due then goes out (GuardDuty joins, judged correlation windows, silent sensors, secret-read bursts past their
// grace), but neither the correlations' nor the native detections' event time moves, so a backlog produced in chunks
// with quiet spells between (a collector catching up, a replay in parts) raises the alerts it raises produced at once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../detect/alert.ts';
import { MemoryBus } from '../../bus/memory.ts';
import { rawHeaders } from '../../sources/checkpoint/raw-record.ts';
import { validRecords, type RawRecord } from '../../../test/pipeline/harness.ts';
import { loadDetection, type Detection } from '../detection.ts';
import { memoryHistory } from '../history.ts';
import { memoryUpstream } from '../progress.ts';
import { pipelineTopics } from '../topics.ts';
import { createCorrelateRole } from './correlate.ts';
import { createNormalizeRole } from './normalize.ts';

const RULES = join(import.meta.dirname, '../../../detections');

interface Run {
  quietAdvances: number;
  /** The last version of each alert, by id. */
  alerts: Map<string, Alert>;
  /** Alerts raised again with more context (`revision`): GuardDuty joins completed after a quiet advance. */
  revised: number;
}

async function run(detection: Detection, name: string, chunks: RawRecord[][]): Promise<Run> {
  const alerts = new Map<string, Alert>();
  let revised = 0;
  const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 1000 });
  const topics = pipelineTopics(`${name}.`);
  const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', onAlert: (a) => {
    if (a.revision !== undefined) revised++;
    alerts.set(a.id, a);
  }, order: { upstream: memoryUpstream(bus, topics, 'n'), idleMs: 0, pollMs: 20 } });
  const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
  await correlate.start();
  await normalize.start();
  const producer = await bus.producer();
  for (const chunk of chunks) {
    const advances = (correlate.stats() as { quietAdvances: number }).quietAdvances;
    await producer.send(chunk.map((r) => ({ topic: topics.raw(r.source!), key: 'k', value: Buffer.from(r.text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: r.source! }) })));
    for (const t of topics.rawAll) await bus.waitCommitted('n', t);
    await bus.waitCommitted('c', topics.signals);
    const deadline = Date.now() + 30_000;
    while ((correlate.stats() as { quietAdvances: number }).quietAdvances === advances) {
      if (Date.now() > deadline) throw new Error(`${name}: no quiet advance within 30 s after a chunk`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const s = correlate.stats() as { quietAdvances: number };
  await normalize.stop();
  await correlate.stop();
  return { quietAdvances: s.quietAdvances, alerts, revised };
}

const GUARDDUTY_JOIN = 'seam-native-guardduty-incident';

describe('all alerts of records produced in chunks with quiet advances between (ADR 0009 decision 7)', () => {
  it('are those of the records produced at once: every rule (native detections included), id, level and evidence', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    // Four copies of the demo story and the fixtures (GuardDuty findings, audit, runtime, CloudTrail), an hour apart.
    const records = validRecords(4).filter((r) => r.source !== undefined);
    const once = await run(detection, 'once', [records]);
    const rules = new Set([...once.alerts.values()].map((a) => a.rule.id));
    const native = [...rules].filter((r) => r.startsWith('seam-native-'));
    expect(native.length).toBeGreaterThan(0);
    expect(rules.has(GUARDDUTY_JOIN)).toBe(true);
    // Cuts anywhere in the backlog: halves, thirds, fifths, and one cut at each tenth.
    const plans = [[0.5], [1 / 3, 2 / 3], [0.2, 0.4, 0.6, 0.8], ...[0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9].map((f) => [f])];
    const figures: string[] = [];
    for (const cuts of plans) {
      const at = [0, ...cuts.map((f) => Math.floor(f * records.length)), records.length];
      const chunks: RawRecord[][] = [];
      for (let i = 0; i + 1 < at.length; i++) chunks.push(records.slice(at[i], at[i + 1]));
      const chunked = await run(detection, `chunked${figures.length}`, chunks);
      expect(chunked.quietAdvances).toBeGreaterThanOrEqual(chunks.length);
      expect(idsByRule(chunked)).toEqual(idsByRule(once));
      for (const [id, a] of once.alerts) {
        const b = chunked.alerts.get(id)!;
        expect([b.rule.level, b.events], `${a.rule.id} ${id}`).toEqual([a.rule.level, a.events]);
        // A GuardDuty join a quiet advance closed is raised again, same id, with the activity of its window produced
        // afterwards: its last version joins what the join made at once joins.
        expect([b.related_events, b.summary], `${a.rule.id} ${id}`).toEqual([a.related_events, a.summary]);
      }
      figures.push(`${cuts.map((f) => f.toFixed(2)).join('/')}: ${chunked.alerts.size} alerts, ${chunked.revised} raised again`);
    }
    process.stdout.write(`quiet-chunked: once ${once.alerts.size} alerts of ${rules.size} rules (${native.length} native: ${native.join(', ')}); chunked ${figures.join('; ')}\n`);
  });
});

function idsByRule(r: Run): Record<string, string[]> {
  const m: Record<string, string[]> = {};
  for (const a of r.alerts.values()) (m[a.rule.id] ??= []).push(a.id);
  for (const ids of Object.values(m)) ids.sort();
  return m;
}
