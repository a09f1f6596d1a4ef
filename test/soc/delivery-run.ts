/**
 * The delivery figures of `npm run test:soc`: the real delivery path, end to end. The demo's alerts (and a
 * batch of distinct synthetic ones, so sends are in flight when the crash comes) go onto a unique `seam.alerts`
 * topic on the real local Kafka; a real `seam run --role deliver` process reads them in its consumer group and
 * POSTs signed webhooks to a real local HTTP receiver (test/helpers/http-receiver.ts) that answers every 9th
 * request with an injected 500. The process is killed with SIGKILL mid-stream and restarted. Counted from what
 * the receiver accepted: deliveries (2xx answers), lost (alerts not folded into another (ADR 0050) whose notification id was never
 * accepted), folded_notified (folded alerts that were notified: must be 0), duplicated (accepted more than
 * once: the at-least-once price of the crash).
 */
import type { ChildProcess } from 'node:child_process';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { notifiable } from '../../src/detect/fold.ts';
import { notificationId } from '../../src/sinks/delivery/deliverer.ts';
import { defaultGroupId } from '../../src/pipeline/roles/role.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { testAlert } from '../helpers/alerts.ts';
import { alertMessages, deliverGroupCaughtUp, seamDeliver, until, webhookDeliveryConfig, type DeliverProcess } from '../helpers/deliver.ts';
import { startReceiver } from '../helpers/http-receiver.ts';

const SECRET = 'soc-delivery-secret';

export interface DeliveryRun {
  alerts: number;
  deliveries: number;
  lost: number;
  /** Alerts folded into another of their event (ADR 0050), and how many of them were notified all the same (must be 0). */
  folded: number;
  foldedNotified: number;
  duplicated: number;
  /**
   * Each accepted request beyond the first of its notification id, by why it came again: `afterKill`, accepted by the
   * killed process and again by the restarted one (read again from the committed offset); `sameProcess`, accepted
   * twice by one process (a retry after a timeout the receiver had answered, or a batch read again after a rebalance
   * or a failed commit); `versions`, a different body under the same id (another version of the alert).
   */
  duplicates: { afterKill: number; sameProcess: number; versions: number };
  /** Records of the first half the deliver group had committed when the first process was killed (of `firstHalf`). */
  committedAtKill: number;
  firstHalf: number;
  injected500: number;
  badSignatures: number;
  firstProcess: number;
}

export async function runDelivery(brokers: string[], demoAlerts: readonly Alert[], synthetic = 120): Promise<DeliveryRun> {
  const rx = await startReceiver({ secret: SECRET, delayMs: 15, behaviour: (n) => (n % 9 === 0 ? 500 : 200) });
  const id = `soc${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const prefix = `${id}.`;
  const groupPrefix = `${id}-`;
  const topics = pipelineTopics(prefix);
  const bus = new KafkaBus({ brokers, clientId: 'seam-test-soc-deliver' });
  const running: ChildProcess[] = [];
  try {
    await bus.createTopics([{ topic: topics.alerts, partitions: 3 }, { topic: topics.dlq, partitions: 1 }]);
    const config = webhookDeliveryConfig({ url: rx.url, secretEnv: 'SEAM_SOC_HOOK_SECRET', maxAttempts: 6 });
    const alerts: Alert[] = [...demoAlerts, ...Array.from({ length: synthetic }, (_, i) => testAlert({ n: i + 1, ruleId: `soc-r-${i + 1}` }))];
    // Folded alerts (ADR 0050) are not notified: their leader speaks for them. Each of the others is expected once.
    const told = alerts.filter(notifiable);
    const producer = await bus.producer();
    const half = Math.floor(alerts.length / 2);
    await producer.send(alertMessages(topics.alerts, alerts.slice(0, half)));
    const accepted = (): typeof rx.requests => rx.requests.filter((r) => r.status === 200);

    const deliver = (): DeliverProcess => seamDeliver({ config, brokers, prefix, groupPrefix, env: { SEAM_SOC_HOOK_SECRET: SECRET } });
    const first = deliver();
    running.push(first.child);
    await until(() => accepted().length >= 40, 90_000, 'the first deliver process to deliver 40 notifications');
    first.child.kill('SIGKILL');
    await first.exited;
    const firstProcess = accepted().length;
    // Every request from here on is the second process's.
    const killedAt = rx.requests.length;
    const committedAtKill = await committedCount(bus, groupPrefix, topics.alerts);

    await producer.send(alertMessages(topics.alerts, alerts.slice(half)));
    await producer.close();
    const second = deliver();
    running.push(second.child);
    const distinct = (): Set<string> => new Set(accepted().map((r) => String(r.headers['x-seam-delivery'])));
    await until(() => distinct().size >= told.length, 120_000, `all ${told.length} notifications (have ${distinct().size})`);
    await deliverGroupCaughtUp(bus, groupPrefix, topics.alerts);
    second.child.kill('SIGTERM');
    const code = await second.exited;
    if (code !== 0) throw new Error(`seam run --role deliver exited ${code} on SIGTERM: ${second.stderr().slice(-1000)}`);
    const ids = distinct();
    const ok = accepted();
    const duplicates = { afterKill: 0, sameProcess: 0, versions: 0 };
    const firstOf = new Map<string, { i: number; body: string }>();
    rx.requests.forEach((r, i) => {
      if (r.status !== 200) return;
      const nid = String(r.headers['x-seam-delivery']);
      const before = firstOf.get(nid);
      if (before === undefined) firstOf.set(nid, { i, body: r.body });
      else if (before.body !== r.body) duplicates.versions++;
      else if (before.i < killedAt && i >= killedAt) duplicates.afterKill++;
      else duplicates.sameProcess++;
    });
    return {
      alerts: alerts.length,
      deliveries: ok.length,
      // A GuardDuty finding alert's notification is named `<alert id>:<level>` (ADR 0046: a rise is notified again).
      lost: told.filter((a) => !ids.has(notificationId(a))).length,
      folded: alerts.length - told.length,
      foldedNotified: alerts.filter((a) => !notifiable(a) && ids.has(notificationId(a))).length,
      duplicated: ok.length - ids.size,
      duplicates,
      committedAtKill,
      firstHalf: half,
      injected500: rx.requests.filter((r) => r.status === 500).length,
      badSignatures: rx.requests.filter((r) => !r.signatureOk).length,
      firstProcess,
    };
  } finally {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rx.close();
    try {
      await (await bus.admin()).deleteTopics({ topics: [topics.alerts, topics.dlq] });
    } catch {
      // Best effort: unique names never collide with the next run.
    }
    await bus.close();
  }
}

/** How many records of `topic` the deliver group has committed (the sum over its partitions of the committed offsets). */
async function committedCount(bus: KafkaBus, groupPrefix: string, topic: string): Promise<number> {
  const [c] = await (await bus.admin()).fetchOffsets({ groupId: defaultGroupId('deliver', groupPrefix), topics: [topic] });
  return (c?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}
