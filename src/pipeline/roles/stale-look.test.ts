// ADR 0009 addendum (cold CI, session 30): a correlate role looks at stage 1's progress at most every `pollMs`. A
// look taken before the first records of a fresh pipeline (or before a burst after a quiet spell) says every raw
// partition is empty or idle: the input is quiet, and the watermark follows the wall clock. Signals that arrive
// before the next look used to be released on it at once, so one plane's signals went ahead of the other's and the
// other's came late (CI: no exec-then-aws on the Kafka run, correlations counting nothing). A mark from a partition
// the look left out now makes the role look again before it releases.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.ts';
import type { Alert } from '../../detect/alert.ts';
import { rawHeaders } from '../../sources/checkpoint/raw-record.ts';
import { detectSource } from '../../sources/cloudwatch-logs/parse.ts';
import { messageVersion } from '../early.ts';
import { loadDetection } from '../detection.ts';
import { memoryHistory } from '../history.ts';
import { memoryUpstream, UpstreamWatch, type Upstream, type UpstreamSnapshot } from '../progress.ts';
import { pipelineTopics } from '../topics.ts';
import { createCorrelateRole } from './correlate.ts';
import { createNormalizeRole } from './normalize.ts';

const DEMO = join(import.meta.dirname, '../../../deploy/demo/eks-demo.jsonl');
const RULES = join(import.meta.dirname, '../../../detections');

describe('a correlate role whose last look at stage 1 predates the records it reads (ADR 0009)', () => {
  it('looks again before releasing: the planes normalized one after the other give the alerts of one ordered run', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const lines = (await readFile(DEMO, 'utf8')).split('\n').filter(Boolean);
    const k8sSeen = lines.filter((l) => detectSource(l) === 'k8s_audit').length;
    expect(k8sSeen).toBeGreaterThan(10);

    /** One pipeline: the correlate role starts (and looks) before any record exists; the CloudTrail side is normalized first. */
    const run = async (name: string, pollMs: number): Promise<{ ids: string[]; late: number; staleLooks: number }> => {
      const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 1000 });
      const topics = pipelineTopics(`${name}.`);
      const k8s = topics.raw('k8s_audit');
      // `idleMs: 0`: a caught-up partition is idle at the look that sees it so, the worst case for the race.
      const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: 0, pollMs };
      const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order });
      await correlate.start();
      const producer = await bus.producer();
      await producer.send(lines.map((text) => ({ topic: topics.raw(detectSource(text)!), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: detectSource(text)! }) })));
      // Stage 1 in two members of one group: the one reading the other planes finishes before the audit log's starts.
      const others = createNormalizeRole({ bus, topics: { ...topics, rawAll: topics.rawAll.filter((t) => t !== k8s) }, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
      await others.start();
      for (const t of topics.rawAll) if (t !== k8s) await bus.waitCommitted('n', t);
      await others.stop();
      await bus.waitCommitted('c', topics.signals);
      const audit = createNormalizeRole({ bus, topics: { ...topics, rawAll: [k8s] }, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
      await audit.start();
      await bus.waitCommitted('n', k8s);
      await audit.stop();
      await bus.waitCommitted('c', topics.signals);
      await correlate.flush();
      const s = correlate.stats() as { lateSignals: number; staleLooks: number };
      await correlate.stop();
      const ids = bus
        .read(topics.alerts)
        .flat()
        .filter((m) => messageVersion(m.headers) === 'final')
        .map((m) => (JSON.parse(m.value!.toString()) as Alert).id)
        .sort();
      return { ids, late: s.lateSignals, staleLooks: s.staleLooks };
    };

    // Reference: a look at every batch (pollMs 0) cannot be stale.
    const ref = await run('ref', 0);
    expect(ref.ids.length).toBeGreaterThan(10);
    expect(ref.late).toBe(0);
    // A look every hour: only the first look (at start, no records) exists when the CloudTrail signals arrive.
    const slow = await run('slow', 3_600_000);
    expect(slow.staleLooks).toBeGreaterThan(0);
    expect(slow.late).toBe(0);
    expect(slow.ids).toEqual(ref.ids);
  });
});

describe('UpstreamWatch idleness', () => {
  /** A scripted upstream: each snapshot is the next entry. */
  const scripted = (looks: UpstreamSnapshot['raw'][]): Upstream => {
    let i = 0;
    return { snapshot: async () => ({ raw: looks[Math.min(i++, looks.length - 1)]!, signalsEnd: new Map([[0, 0n]]) }) };
  };
  const look = (end: bigint, caughtUp = true): UpstreamSnapshot['raw'] => [{ src: 'raw/0', hasData: end > 0n, caughtUp, end }];

  it('a partition is idle after idleMs without new records, and active again at the look that sees new ones, caught up or not', async () => {
    const w = new UpstreamWatch(scripted([look(0n), look(0n), look(5n), look(5n), look(5n)]), 100);
    let now = 0;
    const at = async (t: number): Promise<boolean> => {
      now = t;
      await w.refresh(() => now);
      return w.view!.raw[0]!.idle;
    };
    expect(await at(0)).toBe(false);
    expect(await at(150)).toBe(true); // empty and caught up for 150 ms
    expect(await at(200)).toBe(false); // five records arrived and stage 1 already committed them: active all the same
    expect(await at(250)).toBe(false);
    expect(await at(350)).toBe(true); // no new record for 150 ms
  });
});
