import { describe, expect, it } from 'vitest';
import { alice, callAs, ev } from '../../test/identity/records.ts';
import { MemoryBus } from '../bus/memory.ts';
import type { BusMessage } from '../bus/types.ts';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { decodeIdentityRecord } from '../identity/record.ts';
import { loadDetection, type Detection } from './detection.ts';
import { memoryHistory } from './history.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { encodeSignal, signalKey } from './signal.ts';
import { pipelineTopics, type PipelineTopics } from './topics.ts';

const OFFICE = '62.226.10.1'; // AS3320
const HOME = '91.64.10.1'; // AS3209
const ABROAD = '139.130.4.5'; // AS1221
const DAY_MS = 24 * 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * 3600_000).toISOString();
const call = (hours: number, ip: string, name = 'DescribeInstances'): SeamEvent => ev(callAs(alice, 'ec2.amazonaws.com', name, at(hours), ip), undefined);

function signal(topics: PipelineTopics, event: SeamEvent, timestampMs: number): BusMessage {
  return { topic: topics.signals, key: signalKey(event), value: encodeSignal({ v: 1, rules: [], why: ['identity'], event }), timestampMs };
}

async function runCorrelate(bus: MemoryBus, topics: PipelineTopics, detection: Detection): Promise<{ rebuilds: number; restoredIdentity: number }> {
  const role = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c' });
  await role.start();
  await bus.waitCommitted('c', topics.signals);
  await role.stop();
  return role.stats() as { rebuilds: number; restoredIdentity: number };
}

describe('behavioural baselines across a correlate restart', () => {
  it('a restarted role keeps the baseline and the learning period (from seam.identity), and without it would start learning again', async () => {
    // A one-hour rebuild window: the learning day is three days older than the restart, far outside it.
    const detection = await loadDetection({ maxRebuildMs: 3600_000 });
    const run = async (withIdentityTopic: boolean): Promise<{ alerts: Alert[]; restored: number; learned: string[] }> => {
      const bus = new MemoryBus({ defaultPartitions: 1 });
      const topics = pipelineTopics('b.');
      const producer = await bus.producer();
      const now = Date.now();
      const day1: SeamEvent[] = [];
      for (let h = 0; h < 10; h += 0.5) day1.push(call(h, h < 8 ? OFFICE : HOME));
      await producer.send(day1.map((e) => signal(topics, e, now - 3 * DAY_MS)));
      await runCorrelate(bus, topics, detection);
      const learned = bus
        .read(topics.identity)
        .flat()
        .map((m) => decodeIdentityRecord(m.value)!)
        .filter((r) => r.fact.kind === 'seen_network')
        .map((r) => r.doc.to)
        .sort();
      // Day four, a new process: the usual office, home, then a network alice never used.
      await producer.send([call(72, OFFICE), call(73, HOME), call(74, ABROAD)].map((e) => signal(topics, e, now)));
      const restarted = await runCorrelate(bus, withIdentityTopic ? topics : { ...topics, identity: 'b.elsewhere' }, detection);
      expect(restarted.rebuilds).toBe(1);
      const alerts = bus
        .read(topics.alerts)
        .flat()
        .map((m) => JSON.parse(m.value.toString('utf8')) as Alert)
        .filter((a) => a.rule.id.startsWith('seam-native-new-'));
      return { alerts, restored: restarted.restoredIdentity, learned };
    };

    const kept = await run(true);
    expect(kept.learned).toEqual(['net:AS3209', 'net:AS3320']);
    expect(kept.restored).toBeGreaterThan(0);
    expect(kept.alerts.map((a) => `${a.rule.id} ${a.rule.level}`)).toEqual(['seam-native-new-network low']);
    expect(kept.alerts[0]!.summary).toContain(ABROAD);

    // Without seam.identity the restarted role has forgotten alice: she is learning again and nothing fires.
    const lost = await run(false);
    expect(lost.restored).toBe(0);
    expect(lost.alerts).toEqual([]);
  });
});
