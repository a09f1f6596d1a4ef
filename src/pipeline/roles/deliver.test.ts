// The deliver role on the in-memory bus (embedded mode): reads seam.alerts in its own group, sends,
// dead-letters what still fails after the last retry (with the reason) and what is not an alert,
// and commits only then.
import { afterEach, describe, expect, it } from 'vitest';
import { testAlert } from '../../../test/helpers/alerts.ts';
import { startReceiver } from '../../../test/helpers/http-receiver.ts';
import { MemoryBus } from '../../bus/memory.ts';
import type { Bus, BusConsumer } from '../../bus/types.ts';
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
import { until } from '../../../test/helpers/deliver.ts';

// Waits on a condition end at this deadline only when the condition never comes: at load ~30 a role's sends and
// commits can take seconds, and 10 s deadlines were within reach.
const WAIT_MS = 60_000;
// No test here is about a timeout: the per-attempt one (5 s by default) is set where a loaded machine cannot reach it,
// since an attempt timed out after the receiver had answered is sent again and counted twice (the first POST of a
// worker loads undici, 0.7-2.2 s at load 10-18 in webhook/sink.test).
const RETRY = { timeoutMs: 60_000 };

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
      outputs: { hook: { type: 'webhook', url: rx.url, retry: { ...RETRY, maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 5 } } },
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
    await bus.waitCommitted('g-deliver', topics.alerts, WAIT_MS);
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
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: RETRY } }, throttle: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'low' }] });
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
    await until(() => role.stats().heldNow === 2, WAIT_MS, 'both early alerts held');
    expect(rx.requests).toHaveLength(0);
    // Read, not committed: a process killed now leaves them for the next reader (ADR 0052).
    expect(bus.committed('g-fold')).toEqual({ [`${topics.alerts}/0`]: 0, [`${topics.alerts}/1`]: 0 });
    // The ordered path's finals: the native leads, the Sigma alert is folded into it; on two partitions.
    const finals = [structuredClone(sigma), native];
    foldAlerts('ev-pod', finals);
    await producer.send([msg(finals[1]!, 1), msg(finals[0]!, 0)]);
    // Read, notified and committed: three steps that follow one another, each awaited (not timed: a loaded machine
    // can be between any two when the read count is reached).
    await until(() => role.stats().received === 4 && rx.requests.length >= 1 && bus.committed('g-fold')[`${topics.alerts}/0`] === 2, WAIT_MS, 'the finals read, the leader notified and partition 0 committed');
    expect(rx.requests.map((r) => (r.json as { alert: Alert }).alert.id)).toEqual([native.id]);
    expect((rx.requests[0]!.json as { alert: Alert }).alert.also_matched?.map((m) => m.alert_id)).toEqual([sigma.id]);
    // Partition 0's hold is settled (folded): committed to its end; partition 1 stays at the alert still held.
    expect(bus.committed('g-fold')).toEqual({ [`${topics.alerts}/0`]: 2, [`${topics.alerts}/1`]: 0 });
    await role.stop();
    expect(bus.committed('g-fold')).toEqual({ [`${topics.alerts}/0`]: 2, [`${topics.alerts}/1`]: 2 });
    // Stopping (SIGTERM) notified the one still held, as it was.
    const notified = rx.requests.map((r) => (r.json as { alert: Alert }).alert);
    expect(notified.map((a) => `${a.id}${a.provisional ? ' (provisional)' : ''}`)).toEqual([native.id, `${lone.id} (provisional)`]);
    expect(role.stats()).toMatchObject({ received: 4, held: 2, heldExpired: 1, folded: 1, heldNow: 0, laterVersions: 0 });
    await bus.close();
  });

  it('a deliver process killed while holding an early alert (SIGKILL) leaves it uncommitted: the next process reads it again and notifies it once, as its final (ADR 0052)', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('t-kill-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: RETRY } }, throttle: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'low' }] });
    // A clock that never moves: no hold expires, so only the final (or a stop) settles one.
    const clock = (): number => Date.UTC(2026, 11, 1, 10, 5);
    // The bus as a process sees it, with the consumers it opened at hand: stopping one without the role's stop is the
    // process killed (its member leaves the group; nothing it held is notified, nothing more is committed).
    const processBus = (): { bus: Bus; consumers: BusConsumer[] } => {
      const consumers: BusConsumer[] = [];
      return {
        consumers,
        bus: {
          producer: () => bus.producer(),
          consumer: async (opts) => {
            const c = await bus.consumer(opts);
            consumers.push(c);
            return c;
          },
          ensureTopics: (t) => bus.ensureTopics(t),
          partitions: (t) => bus.partitions(t),
          close: async () => undefined,
        },
      };
    };
    const deliverProcess = (b: Bus) =>
      createDeliverRole({ bus: b, topics, deliverer: new Deliverer(config, buildOutputs(config), clock), groupId: 'g-kill', history: memoryHistory(bus), flushEveryMs: 3_600_000 });
    const msg = (a: Alert, provisional = false) => ({
      topic: topics.alerts,
      key: a.id,
      value: Buffer.from(JSON.stringify(provisional ? { ...a, provisional: true, origin: undefined, chain: undefined } : a)),
      ...(provisional ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}),
    });
    const before = testAlert({ n: 1, ruleId: 'r-before', level: 'high' });
    const early = testAlert({ n: 2, ruleId: 'r-early', level: 'low' });
    const after = testAlert({ n: 3, ruleId: 'r-after', level: 'high' });
    const producer = await bus.producer();
    const notified = (): string[] => rx.requests.map((r) => `${String(r.headers['x-seam-delivery'])}${(r.json as { alert: Alert }).alert.provisional ? ' (provisional)' : ''}`);

    const first = processBus();
    const a = deliverProcess(first.bus);
    await a.start();
    await producer.send([msg(before), msg(early, true), msg(after)]);
    await until(() => a.stats().received === 3 && rx.requests.length === 2, WAIT_MS, 'the first process to read all three');
    expect(notified()).toEqual([before.id, after.id]);
    expect(a.stats()).toMatchObject({ held: 1, heldNow: 1 });
    // The held alert's offset (1) is where the commit stops; before ADR 0052's fix it was 3 and the alert was lost.
    expect(bus.committed('g-kill')).toEqual({ [`${topics.alerts}/0`]: 1 });
    // SIGKILL: the member is gone, its held alert with it.
    await first.consumers[0]!.stop();

    const second = processBus();
    const b = deliverProcess(second.bus);
    await b.start();
    await until(() => b.stats().received === 2 && rx.requests.length >= 3, WAIT_MS, 'the second process to read from the held alert on and notify the one after it');
    // It holds the early alert again; the alert after it comes twice, with the same notification id (at-least-once).
    expect(b.stats()).toMatchObject({ held: 1, heldNow: 1 });
    expect(notified()).toEqual([before.id, after.id, after.id]);
    // The early alert's final: notified once, in the early alert's place.
    await producer.send([msg(early)]);
    await bus.waitCommitted('g-kill', topics.alerts, WAIT_MS);
    expect(notified()).toEqual([before.id, after.id, after.id, early.id]);
    expect(b.stats()).toMatchObject({ received: 3, heldNow: 0, laterVersions: 0 });
    await b.stop();
    expect(notified()).toHaveLength(4);
    await bus.close();
  });

  it('a deliver process killed mid-batch (SIGKILL) leaves committed every alert it notified: the next process re-sends only the one in flight', async () => {
    // One batch of eight alerts on one partition. The first process is killed while its 4th notification is in flight
    // (the receiver takes the request and never answers; the process's member leaves the group there and then).
    const consumers: BusConsumer[] = [];
    let killed = false;
    const rx = await startReceiver({
      behaviour: (n) => {
        if (n !== 4 || killed) return 200;
        killed = true;
        void consumers[0]!.stop();
        return 'hang';
      },
    });
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('t-midbatch-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: { ...RETRY, maxAttempts: 1 } } }, throttle: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'low' }] });
    const processBus: Bus = {
      producer: () => bus.producer(),
      consumer: async (opts) => {
        const c = await bus.consumer(opts);
        consumers.push(c);
        return c;
      },
      ensureTopics: (t) => bus.ensureTopics(t),
      partitions: (t) => bus.partitions(t),
      close: async () => undefined,
    };
    const alerts = Array.from({ length: 8 }, (_, i) => testAlert({ n: i + 1, ruleId: `r-mid-${i + 1}` }));
    const producer = await bus.producer();
    await producer.send(alerts.map((a) => ({ topic: topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)) })));
    const deliverProcess = (b: Bus) => createDeliverRole({ bus: b, topics, deliverer: new Deliverer(config, buildOutputs(config)), groupId: 'g-midbatch', history: memoryHistory(bus) });
    const a = deliverProcess(processBus);
    await a.start();
    await until(() => killed, WAIT_MS, 'the first process to send its 4th notification');
    // Committed up to the 3rd alert, each after its notification; before, nothing of the batch was (0) and the next
    // process sent the first three again.
    expect(bus.committed('g-midbatch')).toEqual({ [`${topics.alerts}/0`]: 3 });
    expect(a.stats()).toMatchObject({ progressCommits: 3 });

    const b = deliverProcess(bus);
    await b.start();
    await bus.waitCommitted('g-midbatch', topics.alerts, WAIT_MS);
    await b.stop();
    const accepted = rx.requests.filter((r) => r.status === 200).map((r) => String(r.headers['x-seam-delivery']));
    // Every alert once; the 4th, in flight at the kill, is the only one sent twice (the killed attempt never answered).
    expect(accepted).toEqual(alerts.map((x) => x.id));
    expect(rx.requests.map((r) => String(r.headers['x-seam-delivery']))).toEqual([...alerts.slice(0, 4), ...alerts.slice(3)].map((x) => x.id));
    expect(b.stats()).toMatchObject({ received: 5, progressCommits: 5 });
    await bus.close();
  });

  it('a deliver process stopped while holding an early alert (SIGTERM) notifies it and commits past it: the next process notifies it no more', async () => {
    const rx = await startReceiver();
    closers.push(rx.close);
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('t-term-');
    await bus.ensureTopics([{ topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    const config = DeliveryConfig.parse({ outputs: { hook: { type: 'webhook', url: rx.url, retry: RETRY } }, throttle: { windowMs: 0 }, routes: [{ name: 'all', outputs: ['hook'], minLevel: 'low' }] });
    const clock = (): number => Date.UTC(2026, 11, 1, 10, 5);
    const deliverProcess = () => createDeliverRole({ bus, topics, deliverer: new Deliverer(config, buildOutputs(config), clock), groupId: 'g-term', history: memoryHistory(bus) });
    const early = testAlert({ n: 2, ruleId: 'r-early', level: 'low' });
    const producer = await bus.producer();
    const a = deliverProcess();
    await a.start();
    await producer.send([{ topic: topics.alerts, key: early.id, value: Buffer.from(JSON.stringify({ ...early, provisional: true })), headers: { [ALERT_VERSION_HEADER]: 'provisional' } }]);
    await until(() => a.stats().heldNow === 1, WAIT_MS, 'the early alert held');
    expect(bus.committed('g-term')).toEqual({ [`${topics.alerts}/0`]: 0 });
    await a.stop();
    expect(rx.requests).toHaveLength(1);
    expect(bus.committed('g-term')).toEqual({ [`${topics.alerts}/0`]: 1 });
    const b = deliverProcess();
    await b.start();
    await producer.send([{ topic: topics.alerts, key: early.id, value: Buffer.from(JSON.stringify(early)) }]);
    await bus.waitCommitted('g-term', topics.alerts, WAIT_MS);
    await b.stop();
    // The final is a later version of an alert notified before (read back from seam.alerts): not sent again.
    expect(b.stats()).toMatchObject({ received: 1, laterVersions: 1, held: 0 });
    expect(rx.requests).toHaveLength(1);
    await bus.close();
  });
});
