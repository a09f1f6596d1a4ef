// At-least-once alert delivery on the real local Kafka: a real `seam run --role deliver` process reads
// seam.alerts in its own consumer group and POSTs to a real local HTTP receiver (signed, slow enough
// that sends are in flight); it is killed with SIGKILL mid-stream and restarted. Every alert must reach
// the receiver (lost=0); the ones in flight when it died come again (duplicated=<n>, same delivery id).
// The index role's group is untouched by delivery: a second group reads every alert too.
// An early alert held for its final fold (ADR 0052) when the process is killed is not lost: its offset was not
// committed, so the restarted process reads it again, holds it, and notifies its final once.
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.ts';
import { defaultGroupId } from '../../src/pipeline/roles/role.ts';
import { ALERT_VERSION_HEADER } from '../../src/pipeline/early.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { testAlert } from '../helpers/alerts.ts';
import { alertMessages, deliverGroupCaughtUp, seamDeliver, until, webhookDeliveryConfig, type DeliverProcess } from '../helpers/deliver.ts';
import { startReceiver } from '../helpers/http-receiver.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const SECRET = 'kafka-redelivery-secret';
const N = 300;
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

describe('alert delivery on Kafka', () => {
  it('`seam run --role deliver` killed with SIGKILL mid-stream and restarted loses no notification', async () => {
    const rx = await startReceiver({ secret: SECRET, delayMs: 15 });
    closers.push(rx.close);
    const id = uniqueName('dlv');
    const prefix = `${id}.`;
    const groupPrefix = `${id}-`;
    const topics = pipelineTopics(prefix);
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'seam-test-deliver' });
    closers.push(() => bus.close());
    await bus.createTopics([{ topic: topics.alerts, partitions: 3 }, { topic: topics.dlq, partitions: 1 }]);
    closers.push(async () => (await bus.admin()).deleteTopics({ topics: topics.rawAll.concat([topics.events, topics.signals, topics.alerts, topics.identity, topics.dlq]) }));

    const config = webhookDeliveryConfig({ url: rx.url, secretEnv: 'SEAM_TEST_HOOK_SECRET', maxAttempts: 5 });

    // Distinct rules: nothing is throttled, so every alert is one notification.
    const alerts = Array.from({ length: N }, (_, i) => testAlert({ n: i + 1, ruleId: `r-${i + 1}` }));
    const producer = await bus.producer();
    await producer.send(alertMessages(topics.alerts, alerts.slice(0, N / 2)));

    const deliver = (): DeliverProcess => seamDeliver({ config, brokers: kafkaBrokers(), prefix, groupPrefix, env: { SEAM_TEST_HOOK_SECRET: SECRET } });
    const first = deliver();
    await until(() => rx.requests.length >= 60, 90_000, 'the first deliver process to send 60 notifications');
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeRestart = rx.requests.length;
    expect(beforeRestart).toBeLessThan(N);

    await producer.send(alertMessages(topics.alerts, alerts.slice(N / 2)));
    await producer.close();
    const second = deliver();
    const distinct = (): Set<string> => new Set(rx.requests.map((r) => String(r.headers['x-seam-delivery'])));
    await until(() => distinct().size >= N, 120_000, () => `all ${N} notifications (have ${distinct().size})`);
    // Everything is committed: the group's offsets reach the end of every partition.
    await deliverGroupCaughtUp(bus, groupPrefix, topics.alerts);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // The exit counters, as a JSON line (review-ops L1).
    expect(second.stderr()).toMatch(/^\{.*"role":"deliver","stats":\{.*"sent":\d+.*"msg":"deliver: stopped; its counters at exit"\}$/m);

    const ids = distinct();
    const lost = alerts.filter((a) => !ids.has(a.id)).length;
    const duplicated = rx.requests.length - ids.size;
    process.stdout.write(`delivery (kafka, SIGKILL mid-stream + restart): deliveries=${rx.requests.length} distinct=${ids.size} lost=${lost} duplicated=${duplicated} first_process=${beforeRestart}\n`);
    expect(lost).toBe(0);
    expect(ids.size).toBe(N);
    expect(rx.requests.every((r) => r.signatureOk)).toBe(true);
    // Each notification's body names its own alert, whichever process sent it.
    for (const r of rx.requests) expect((r.json as { alert: { id: string } }).alert.id).toBe(r.headers['x-seam-delivery']);
  });

  it('an early alert held for its final when `seam run --role deliver` is killed with SIGKILL is notified once, as its final, after the restart (ADR 0052)', async () => {
    const rx = await startReceiver({ secret: SECRET });
    closers.push(rx.close);
    const id = uniqueName('dlvh');
    const prefix = `${id}.`;
    const groupPrefix = `${id}-`;
    const topics = pipelineTopics(prefix);
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: 'seam-test-deliver-held' });
    closers.push(() => bus.close());
    await bus.createTopics([{ topic: topics.alerts, partitions: 3 }, { topic: topics.dlq, partitions: 1 }]);
    closers.push(async () => (await bus.admin()).deleteTopics({ topics: topics.rawAll.concat([topics.events, topics.signals, topics.alerts, topics.identity, topics.dlq]) }));
    // Default fold: a low early alert is held up to 75 s; a high one is notified at once.
    const config = webhookDeliveryConfig({ url: rx.url, secretEnv: 'SEAM_TEST_HOOK_SECRET', maxAttempts: 5 });
    const early = testAlert({ n: 1, ruleId: 'r-held', level: 'low' });
    const after = testAlert({ n: 2, ruleId: 'r-after', level: 'high' });
    // As the correlate role writes them: keyed by alert id; here all on partition 0, the high alert after the early one.
    const msg = (a: Alert, provisional = false) => ({
      topic: topics.alerts,
      key: a.id,
      partition: 0,
      value: Buffer.from(JSON.stringify(provisional ? { ...a, provisional: true, origin: undefined, chain: undefined } : a)),
      ...(provisional ? { headers: { [ALERT_VERSION_HEADER]: 'provisional' } } : {}),
    });
    const producer = await bus.producer();
    await producer.send([msg(early, true), msg(after)]);
    const deliver = (): DeliverProcess => seamDeliver({ config, brokers: kafkaBrokers(), prefix, groupPrefix, env: { SEAM_TEST_HOOK_SECRET: SECRET } });
    const sentFor = (alertId: string) => rx.requests.filter((r) => r.headers['x-seam-delivery'] === alertId).map((r) => (r.json as { alert: Alert }).alert);

    const first = deliver();
    // The high alert after it is notified: the early one was read (and held) before it.
    await until(() => sentFor(after.id).length >= 1, 90_000, 'the first process to notify the high alert');
    // Its commit stays at the held alert (offset 0). Awaited, not slept for: the batch that held the early alert and
    // notified the high one is committed (kafka.ts commits every handled batch, limited by the held alert) once the
    // group has an offset for partition 0; what that offset is, is the assertion. (A sleep here let a loaded machine
    // assert before the commit had happened, which proved nothing.) The deadline only bounds a commit that never comes.
    const admin = await bus.admin();
    const committedAt0 = async (): Promise<string | undefined> =>
      (await admin.fetchOffsets({ groupId: defaultGroupId('deliver', groupPrefix), topics: [topics.alerts] }))[0]!.partitions.find((p) => p.partition === 0)?.offset;
    let committed: string | undefined;
    await until(async () => (committed = await committedAt0()) !== undefined && BigInt(committed) >= 0n, 90_000, () => `the deliver group to commit partition 0 after notifying the high alert (its offset there: ${String(committed)})`);
    expect(committed).toBe('0');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(sentFor(early.id)).toHaveLength(0);

    await producer.send([msg(early)]);
    await producer.close();
    const second = deliver();
    await until(() => sentFor(early.id).length >= 1, 90_000, 'the restarted process to notify the held alert');
    await deliverGroupCaughtUp(bus, groupPrefix, topics.alerts);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Once, and as its final (the identity graph's origin), not the provisional version.
    const told = sentFor(early.id);
    process.stdout.write(`delivery (kafka, SIGKILL while holding + restart): held alert notified ${told.length}x, high alert after it ${sentFor(after.id).length}x\n`);
    expect(told).toHaveLength(1);
    expect(told[0]!.provisional).toBeUndefined();
    expect(told[0]!.origin?.id).toBe(early.origin!.id);
    expect(sentFor(after.id).length).toBeGreaterThanOrEqual(1);
  });
});
