import { describe, expect, it } from 'vitest';
import { alice, audit, callAs, ciDeployer, ev, iamK8sUser } from '../../test/identity/records.ts';
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

describe('workload container names across a correlate restart', () => {
  it('a restarted role still knows a Deployment’s containers (workload_containers facts from seam.identity): an added one alerts, an image change does not', async () => {
    const detection = await loadDetection({ maxRebuildMs: 3600_000 });
    const deployment = (containers: { name: string; image: string }[]): Record<string, unknown> => ({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'payments-api', namespace: 'payments' },
      spec: { template: { spec: { containers } } },
    });
    const app = { name: 'api', image: '111122223333.dkr.ecr.us-west-2.amazonaws.com/payments-api:1.40.2' };
    const write = (verb: string, who: typeof alice, time: string, request: unknown, response?: unknown): SeamEvent =>
      ev(audit({ verb, user: iamK8sUser(who), time, resource: 'deployments', apiGroup: 'apps', namespace: 'payments', ...(verb === 'create' ? {} : { name: 'payments-api' }), requestObject: request, ...(response === undefined ? {} : { responseObject: response }) }));
    const smp = (containers: unknown[]): Record<string, unknown> => ({ spec: { template: { spec: { containers } } } });
    const run = async (withIdentityTopic: boolean): Promise<{ alerts: Alert[]; restored: number; learned: number }> => {
      const bus = new MemoryBus({ defaultPartitions: 1 });
      const topics = pipelineTopics('w.');
      const producer = await bus.producer();
      const now = Date.now();
      const created = deployment([app, { name: 'envoy', image: 'docker.io/envoyproxy/envoy:v1.31.2' }]);
      await producer.send([signal(topics, write('create', ciDeployer, '2026-11-02T09:00:00Z', created, created), now - 3 * DAY_MS)]);
      await runCorrelate(bus, topics, detection);
      const learned = bus
        .read(topics.identity)
        .flat()
        .filter((m) => decodeIdentityRecord(m.value)!.fact.kind === 'workload_containers').length;
      // Three days later, a new process; Request-level audit (no response): an image change, then a container that was not there.
      const later = [write('patch', ciDeployer, '2026-11-05T10:00:00Z', smp([{ name: 'envoy', image: 'docker.io/envoyproxy/envoy:v1.32.0' }])), write('patch', alice, '2026-11-05T10:05:00Z', smp([{ name: 'log-helper', image: 'docker.io/evil/helper:1' }]))];
      await producer.send(later.map((e) => signal(topics, e, now)));
      const restarted = await runCorrelate(bus, withIdentityTopic ? topics : { ...topics, identity: 'w.elsewhere' }, detection);
      expect(restarted.rebuilds).toBe(1);
      const alerts = bus
        .read(topics.alerts)
        .flat()
        .map((m) => JSON.parse(m.value.toString('utf8')) as Alert)
        .filter((a) => a.rule.id === 'seam-native-container-added-to-workload');
      return { alerts, restored: restarted.restoredIdentity, learned };
    };

    const kept = await run(true);
    expect(kept.learned).toBe(1);
    expect(kept.restored).toBeGreaterThan(0);
    expect(kept.alerts.map((a) => a.rule.level)).toEqual(['medium']);
    expect(kept.alerts[0]!.summary).toContain('container log-helper (docker.io/evil/helper:1) added to deployment payments/payments-api');
    expect(kept.alerts[0]!.summary).toContain('it had api, envoy');

    // Without seam.identity the restarted role does not know the Deployment: neither patch can be judged.
    const lost = await run(false);
    expect(lost.alerts).toEqual([]);
  });
});
