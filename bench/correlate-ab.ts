/**
 * A/B of the correlate phase in one process (ADR 0026): the same signal messages with ADR 0026 spans (annotated events
 * spliced from stage 1's bytes) and with ADR 0023 spans (serialized whole), interleaved, so both see the same load.
 *
 *   node bin/tsx-run.mjs bench/correlate-ab.ts [events=30000]
 */
import { join } from 'node:path';
import { pipelineRecords } from './lib/pipeline-records.ts';
import { MemoryBus } from '../src/bus/memory.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { memoryHistory } from '../src/pipeline/history.ts';
import { memoryUpstream } from '../src/pipeline/progress.ts';
import { createCorrelateRole } from '../src/pipeline/roles/correlate.ts';
import { createNormalizeRole } from '../src/pipeline/roles/normalize.ts';
import { SIGNAL_SPANS_HEADER } from '../src/pipeline/signal.ts';
import { pipelineTopics, topicPlan, type PipelineTopics } from '../src/pipeline/topics.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../src/sources/cloudwatch-logs/parse.ts';
import type { BusMessage } from '../src/bus/types.ts';
const N = Number(process.argv[2] ?? 30000);
const ROOT = join(import.meta.dirname, '..');
const R = pipelineRecords(ROOT, 'ab');
const detection = await loadDetection({ rules: [join(ROOT, 'detections')] });
const topics = pipelineTopics('ab.');
const bus = new MemoryBus({ maxBatch: 1000 });
await bus.ensureTopics(topicPlan(topics, { raw: 6, events: 6, signals: 3, alerts: 3, dlq: 1 }));
const producer = await bus.producer();
const received = new Date().toISOString();
for (let i = 0; i < N; i += 5000) {
  const batch: BusMessage[] = [];
  for (let j = i; j < Math.min(N, i + 5000); j++) { const text = R.record(j); const source = detectSource(text)!; batch.push({ topic: topics.raw(source), key: `k${j % 97}`, value: Buffer.from(text), headers: rawHeaders({ collector: 'bench', receivedAt: received, source }) }); }
  await producer.send(batch);
}
const normalize = createNormalizeRole({ bus, topics, ruleset: detection.ruleset!, groupId: 'n' });
await normalize.start();
for (const t of topics.rawAll) await bus.waitCommitted('n', t);
await normalize.stop();
const signals = bus.read(topics.signals);
const res: Record<string, number[]> = { splice: [], whole: [] };
let k = 0;
for (let round = 0; round < 4; round++) {
  for (const mode of round % 2 === 0 ? ['splice', 'whole'] : ['whole', 'splice']) {
    const own = pipelineTopics(`ab${k++}.`);
    const t: PipelineTopics = { ...own, raw: topics.raw, rawAll: topics.rawAll, sourceOfRaw: topics.sourceOfRaw };
    await bus.ensureTopics(topicPlan(t, { raw: 6, events: 6, signals: 3, alerts: 3, dlq: 1 }));
    for (const [p, ms] of signals.entries()) {
      await producer.send(ms.map((m) => {
        const headers = { ...m.headers };
        const h = headers[SIGNAL_SPANS_HEADER];
        if (h !== undefined && mode === 'whole') headers[SIGNAL_SPANS_HEADER] = JSON.stringify((JSON.parse(h) as unknown[][]).map((e) => e.slice(0, 5)));
        return { topic: t.signals, key: m.key, partition: p, value: m.value, headers };
      }));
    }

    const c = createCorrelateRole({ bus, topics: t, detection, history: memoryHistory(bus), order: { upstream: memoryUpstream(bus, t, 'n'), idleMs: Infinity, pollMs: 0 }, early: false, groupId: 'c' });
    const c0 = process.cpuUsage();
    await c.start();
    await bus.waitCommitted('c', t.signals);
    await c.flush();
    await c.stop();
    const u = process.cpuUsage(c0);
    res[mode]!.push((u.user + u.system) / N);
    console.log(mode, ((u.user + u.system) / N).toFixed(1), 'us/event', 'alerts', bus.read(t.alerts).flat().length, 'load', (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  }
}
for (const [m, v] of Object.entries(res)) console.log('AB', m, v.map((x) => x.toFixed(1)).join(' '), 'median', [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(1));
await bus.close();
