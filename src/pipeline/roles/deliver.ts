import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { SeamError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import { Alert } from '../../detect/alert.ts';
import type { Deliverer, Outcome } from '../../sinks/delivery/deliverer.ts';
import type { PipelineTopics } from '../topics.ts';
import { defaultGroupId, dlqMessage, type Role } from './role.ts';

export interface DeliverRoleOptions {
  bus: Bus;
  topics: PipelineTopics;
  deliverer: Deliverer;
  groupId?: string;
  fromBeginning?: boolean;
  /** How often closed throttle windows are looked for (default 1 s). */
  flushEveryMs?: number;
}

const log = childLogger('deliver');

/**
 * `seam.alerts` → alert outputs (webhook, Slack, SNS, PagerDuty), in its own consumer group, so
 * what it does never changes what the index role indexes. A batch is committed only after every
 * notification in it was sent or dead-lettered (the dead letter on `seam.dlq`, stage `deliver`, with
 * the output's last reason): a crash before that redelivers the batch — at-least-once, and a
 * receiver can drop duplicates by the notification id.
 */
export function createDeliverRole(o: DeliverRoleOptions): Role {
  const counters = new Counters('role.deliver');
  const stats = { deadLetters: 0 };
  let producer: BusProducer | undefined;
  let consumer: BusConsumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const deadLetters = (outcomes: Outcome[], from: ConsumedMessage | undefined): BusMessage[] =>
    outcomes.flatMap((x) => {
      if (x.result.ok) return [];
      counters.error(x.result.code);
      stats.deadLetters++;
      const error = new SeamError(x.result.code, `output ${x.output}: ${x.result.reason}`, {
        details: { output: x.output, notification: x.notification.id, kind: x.notification.kind, count: x.notification.count, attempts: x.result.attempts, ...(x.result.status ? { status: x.result.status } : {}) },
      });
      return [dlqMessage(o.topics, deadLetter('deliver', error, JSON.stringify(x.notification.alert)), from)];
    });

  const handle = async (batch: ConsumedMessage[]): Promise<void> => {
    const dlq: BusMessage[] = [];
    for (const m of batch) {
      counters.received++;
      let alert: Alert;
      try {
        alert = Alert.parse(JSON.parse(m.value.toString('utf8')));
      } catch (cause) {
        const error = new SeamError('SEAM_ERR_INPUT_JSON', `${m.topic} message is not an alert: ${(cause as Error).message.slice(0, 300)}`, { cause });
        counters.error(error.code);
        dlq.push(dlqMessage(o.topics, deadLetter('deliver', error, m.value.toString('utf8')), m));
        continue;
      }
      const outcomes = await o.deliverer.deliver(alert);
      counters.emitted += outcomes.filter((x) => x.result.ok).length;
      dlq.push(...deadLetters(outcomes, m));
    }
    if (dlq.length > 0) await producer!.send(dlq);
  };

  const flush = (all: boolean): Promise<void> =>
    (flushing = flushing.then(async () => {
      const outcomes = all ? await o.deliverer.flushAll() : await o.deliverer.flushDue();
      counters.emitted += outcomes.filter((x) => x.result.ok).length;
      const dlq = deadLetters(outcomes, undefined);
      if (dlq.length > 0) await producer!.send(dlq);
    }).catch((error: unknown) => log.error({ error }, 'Sending throttled repeat counts failed.')));

  return {
    name: 'deliver',
    async start() {
      producer = await o.bus.producer();
      consumer = await o.bus.consumer({ groupId: o.groupId ?? defaultGroupId('deliver'), topics: [o.topics.alerts], fromBeginning: o.fromBeginning ?? true, handle });
      await consumer.run();
      timer = setInterval(() => void flush(false), o.flushEveryMs ?? 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await consumer?.stop();
      await flush(true);
      await producer?.close();
      await o.deliverer.close();
    },
    stats: () => ({ ...counters.snapshot(), ...stats, ...o.deliverer.stats, pendingRepeats: o.deliverer.pendingRepeats() }),
  };
}
