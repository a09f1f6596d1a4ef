// The deliver role on the in-memory bus (embedded mode): reads seam.alerts in its own group, sends,
// dead-letters what still fails after the last retry (with the reason) and what is not an alert,
// and commits only then.
import { afterEach, describe, expect, it } from 'vitest';
import { testAlert } from '../../../test/helpers/alerts.ts';
import { startReceiver } from '../../../test/helpers/http-receiver.ts';
import { MemoryBus } from '../../bus/memory.ts';
import type { DeadLetter } from '../../core/dead-letter.ts';
import { Deliverer } from '../../sinks/delivery/deliverer.ts';
import { buildOutputs, DeliveryConfig } from '../../sinks/registry.ts';
import { pipelineTopics } from '../topics.ts';
import { createDeliverRole } from './deliver.ts';
import { DLQ_HEADERS } from './role.ts';
import type { Alert } from '../../detect/alert.ts';
import { foldAlerts } from '../../detect/fold.ts';
import { memoryHistory } from '../history.ts';
import { ALERT_VERSION_HEADER } from '../early.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('deliver role (memory bus)', () => {
  it('delivers every alert once, dead-letters the ones the receiver keeps refusing and the ones that are not alerts', async () => {
    // alert 5 gets a 500 on every attempt; everything else is accepted.
    const rx = await startReceiver({ behaviour: (_n, body) => (body.includes('"alert-r-5-5"') ? 500 : 200) });
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('t-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 2 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({
      outputs: { hook: { type: 'webhook', url: rx.url, retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 5 } } },
      routes: [{ name: 'all', outputs: ['hook'], minLevel: 'informational' }],
    });
    const role = createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'g-deliver' });
    const producer = await bus.producer();
    const alerts = Array.from({ length: 20 }, (_, i) => testAlert({ n: i + 1, ruleId: `r-${i + 1}` }));
    await producer.send([
      ...alerts.map((a) => ({ topic: topics.alerts, key: a.rule.id, value: Buffer.from(JSON.stringify(a)) })),
      { topic: topics.alerts, key: 'x', value: Buffer.from('{"not":"an alert"}') },
    ]);
    await role.start();
    await bus.waitCommitted('g-deliver', topics.alerts, 10_000);
    await role.stop();

    const delivered = rx.requests.filter((r) => r.status === 200).map((r) => (r.json as { alert: { id: string } }).alert.id);
    expect(delivered.sort()).toEqual(alerts.filter((a) => a.rule.id !== 'r-5').map((a) => a.id).sort());
    expect(rx.requests.filter((r) => r.status === 500)).toHaveLength(3);
    const dlq = bus.read(topics.dlq).flat();
    expect(dlq).toHaveLength(2);
    const letters = dlq.map((m) => JSON.parse(m.value.toString('utf8')) as DeadLetter);
    const failed = letters.find((l) => l.code === 'SEAM_ERR_DELIVERY_FAILED')!;
    expect(failed).toMatchObject({ stage: 'deliver', reason: 'output hook: HTTP 500: injected 500 after 3 attempt(s)', details: { output: 'hook', notification: 'alert-r-5-5', attempts: 3, status: 500 } });
    expect(JSON.parse(failed.raw)).toMatchObject({ id: 'alert-r-5-5' });
    expect(letters.find((l) => l.code === 'SEAM_ERR_INPUT_JSON')).toMatchObject({ stage: 'deliver', raw: '{"not":"an alert"}' });
    expect(dlq.every((m) => m.headers?.[DLQ_HEADERS.topic] === topics.alerts)).toBe(true);
    expect(role.stats()).toMatchObject({ received: 21, emitted: 19, deadLetters: 1, alerts: 20, sent: 19, failed: 1 });
    await bus.close();
  });

  it('an early alert is held for its final fold (ADR 0052): the native leader of its event, on another partition, is the one notification; stop notifies what is still held', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('t-fold-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 2 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url } }, throttle: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'low' }] });
    const role = createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'g-fold', history: memoryHistory(bus) });
    const producer = await bus.producer();
    const ev = { events: ['ev-pod'], native_ids: ['nat-pod'] };
    const sigma = testAlert({ n: 1, ruleId: 'kube-system-pod', ...ev, rule: { id: 'kube-system-pod', title: 'Pod Created In Kube System Namespace', level: 'low', tags: [], type: 'sigma' } });
    const native = testAlert({ n: 2, ruleId: 'seam-native-privileged-pod', ...ev, rule: { id: 'seam-native-privileged-pod', title: 'Privileged pod by a human', level: 'high', tags: [], type: 'native' } });
    const lone = testAlert({ n: 3, ruleId: 'r-lone', level: 'medium' });
    const msg = (a: Alert, partition: number, provisional = false) => ({
      topic: topics.alerts,
      key: a.id,
      partition,
      value: Buffer.from(JSON.stringify(provisional ? { ...a, provisional: true } : a)),
      ...(provisional ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}),
    });
    await role.start();
    // The early versions: the pod's Sigma alert and an alert whose final will not come before the stop.
    await producer.send([msg(sigma, 0, true), msg(lone, 1, true)]);
    await bus.waitCommitted('g-fold', topics.alerts, 10_000);
    expect(rx.requests).toHaveLength(0);
    // The ordered path's finals: the native leads, the Sigma alert is folded into it; on two partitions.
    const finals = [structuredClone(sigma), native];
    foldAlerts('ev-pod', finals);
    await producer.send([msg(finals[1]!, 1), msg(finals[0]!, 0)]);
    await bus.waitCommitted('g-fold', topics.alerts, 10_000);
    expect(rx.requests.map((r) => (r.json as { alert: Alert }).alert.id)).toEqual([native.id]);
    expect((rx.requests[0]!.json as { alert: Alert }).alert.also_matched?.map((m) => m.alert_id)).toEqual([sigma.id]);
    await role.stop();
    // Stopping (SIGTERM) notified the one still held, as it was.
    const notified = rx.requests.map((r) => (r.json as { alert: Alert }).alert);
    expect(notified.map((a) => `${a.id}${a.provisional ? ' (provisional)' : ''}`)).toEqual([native.id, `${lone.id} (provisional)`]);
    expect(role.stats()).toMatchObject({ received: 4, held: 2, heldExpired: 1, folded: 1, heldNow: 0, laterVersions: 0 });
    await bus.close();
  });
});
