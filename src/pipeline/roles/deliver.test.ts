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
});
