import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage, HandleContext } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { SeamError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import { Alert } from '../../detect/alert.ts';
import { alertNotices, messageNotices, noticeKey } from '../../detect/finding.ts';
import type { Deliverer, Outcome } from '../../sinks/delivery/deliverer.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import type { History } from '../history.ts';
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
  /**
   * Where the alert ids earlier members already handled are read back from, per `seam.alerts` partition, when
   * this member starts reading one (start, rebalance, a failed batch): an early alert's final (ADR 0025) that
   * reaches a member other than the one that notified its provisional version is then not notified again.
   * Without it only the ids this member handled are remembered.
   */
  history?: History;
  /** How far back (produce time) that read goes, before the first batch (default 24 h, the correlate role's longest rebuild window). */
  rememberMs?: number;
  /** Alert ids remembered per partition (default 200,000; least recently seen forgotten first). */
  maxRemembered?: number;
}

const log = childLogger('deliver');

/**
 * `seam.alerts` → alert outputs (webhook, Slack, SNS, PagerDuty), in its own consumer group, so
 * what it does never changes what the index role indexes. An alert is committed only after its
 * notifications were sent or dead-lettered (the dead letter on `seam.dlq`, stage `deliver`, with
 * the output's last reason), and right after that, inside its batch (`progress`): a crash redelivers
 * from the alert in flight, not from the batch's start — at-least-once, and a receiver can drop
 * duplicates by the notification id.
 *
 * One notification per alert id (ADR 0025): an early (provisional) alert is notified when it arrives; its
 * final version, same id, is indexed but not notified again. A GuardDuty finding alert (ADR 0046) is notified
 * once per severity level it rises to: a later version at the same or a lower level is an update, not sent; the
 * level travels in a header, so the read-back below knows the levels notified before. Ids are remembered per partition (alerts are
 * keyed by id, so both versions share one), and read back from `seam.alerts` when a member starts reading a
 * partition, so a restart or a rebalance between the two versions does not notify twice.
 *
 * An early alert that leads its event's early fold is held by the deliverer until its final version arrives, at
 * most `fold.windowMs` (ADR 0052): the final, on the same partition, says whether a native or late rule's alert
 * of the same event leads it. The flush timer notifies the held alerts whose window passed; `stop` (SIGTERM)
 * notifies all still held, then commits. A held alert's partition is committed only up to it (`commitLimit`), so a
 * process killed while holding it (SIGKILL, OOM) leaves it to the next reader, which reads it again (the read-back
 * stops before it) and holds it itself: notified once, at-least-once for the alerts after it (sent again, same
 * notification id). A partition that moves to another member hands its held alerts over the same way.
 */
export function createDeliverRole(o: DeliverRoleOptions): Role {
  const counters = new Counters('role.deliver');
  const stats = { deadLetters: 0, laterVersions: 0, rememberedOnStart: 0, progressCommits: 0 };
  const maxRemembered = o.maxRemembered ?? 200_000;
  const rememberMs = o.rememberMs ?? 24 * 3600_000;
  /** Per `seam.alerts` partition: the next offset expected and the alert ids already handled there. */
  const partitions = new Map<number, { next: bigint; seen: Lru<string, true> }>();
  let producer: BusProducer | undefined;
  let consumer: BusConsumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /**
   * Where each early alert the deliverer holds was read (ADR 0052): its partition's commit stays at the oldest one
   * (`commitLimit`) until it is notified or folded, so a process killed while holding it (SIGKILL, OOM) leaves it
   * uncommitted and the next reader of the partition reads it again and holds it itself.
   */
  const heldAt = new Map<string, { partition: number; offset: bigint }>();

  /** The oldest offset of `partition` whose held alert is not yet settled, forgetting the settled ones. */
  const commitLimit = (_topic: string, partition: number): bigint | undefined => {
    let min: bigint | undefined;
    for (const [id, h] of heldAt) {
      if (!o.deliverer.holding(id)) heldAt.delete(id);
      else if (h.partition === partition && (min === undefined || h.offset < min)) min = h.offset;
    }
    return min;
  };

  /** Held alerts of partitions this member no longer owns: not committed, so their new owner holds them (a rebalance). */
  const handOverRevoked = (): void => {
    const owned = consumer?.assigned?.(o.topics.alerts);
    if (owned === undefined) return;
    const gone = [...heldAt].filter(([, h]) => !owned.includes(h.partition)).map(([id]) => id);
    for (const id of gone) heldAt.delete(id);
    if (gone.length > 0) o.deliverer.handOver(gone);
  };

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

  /**
   * The alert ids handled in a partition before `first`: what earlier members (or this one before a failed
   * batch) read there, from `seam.alerts` itself. A partition read on from where this member left it keeps its set.
   */
  const seenIn = async (first: ConsumedMessage): Promise<Lru<string, true>> => {
    const known = partitions.get(first.partition);
    if (known !== undefined && known.next === BigInt(first.offset)) return known.seen;
    const seen = boundedLru<string, true>(maxRemembered);
    if (o.history !== undefined && BigInt(first.offset) > 0n) {
      const from = (first.timestampMs ?? Date.now()) - rememberMs;
      stats.rememberedOnStart += await o.history.read(first.topic, first.partition, from, BigInt(first.offset), (m) => {
        if (m.key !== null) for (const n of messageNotices(m.key, m.headers)) seen.set(n, true);
      });
    }
    partitions.set(first.partition, { next: BigInt(first.offset), seen });
    return seen;
  };

  /**
   * After each alert it sent something for, the batch is committed up to that alert (`HandleContext.commitUpTo`, never
   * past a held alert), its dead letters produced first: a process killed mid-batch re-sends only the notification
   * in flight, not every one the batch had sent. A commit that fails is left to the next one (a rebalance: the
   * batch's own commit fails too, and the new owner reads from the last commit that went through).
   */
  const progress = async (ctx: HandleContext | undefined, m: ConsumedMessage, dlq: BusMessage[]): Promise<void> => {
    if (ctx?.commitUpTo === undefined) return;
    if (dlq.length > 0) await producer!.send(dlq.splice(0));
    try {
      await ctx.commitUpTo(BigInt(m.offset) + 1n);
      stats.progressCommits++;
    } catch (error) {
      log.warn({ error, partition: m.partition, offset: m.offset }, 'Committing the batch up to a notified alert failed; the next commit covers it.');
    }
  };

  const handle = async (batch: ConsumedMessage[], ctx?: HandleContext): Promise<void> => {
    const first = batch[0]!;
    const seen = await seenIn(first);
    try {
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
        // The later version of an alert already notified (an early alert's final, ADR 0025; a GuardDuty finding's
        // update whose severity level did not rise, ADR 0046): indexed, not sent again. Unless the deliverer holds the
        // early version for its final (ADR 0052): the final then says what is notified.
        if (seen.has(noticeKey(alert)) && !o.deliverer.holding(alert.id)) {
          stats.laterVersions++;
          continue;
        }
        for (const n of alertNotices(alert)) seen.set(n, true);
        const outcomes = await o.deliverer.deliver(alert);
        if (o.deliverer.holding(alert.id) && !heldAt.has(alert.id)) heldAt.set(alert.id, { partition: m.partition, offset: BigInt(m.offset) });
        counters.emitted += outcomes.filter((x) => x.result.ok).length;
        dlq.push(...deadLetters(outcomes, m));
        if (outcomes.length > 0) await progress(ctx, m, dlq);
      }
      if (dlq.length > 0) await producer!.send(dlq);
      partitions.get(first.partition)!.next = BigInt(batch[batch.length - 1]!.offset) + 1n;
    } catch (e) {
      // Redelivered from its first offset: what this batch added to the set must not hide its alerts then.
      partitions.delete(first.partition);
      throw e;
    }
  };

  const flush = (all: boolean): Promise<void> =>
    (flushing = flushing.then(async () => {
      if (!all) handOverRevoked();
      const outcomes = all ? await o.deliverer.flushAll() : await o.deliverer.flushDue();
      counters.emitted += outcomes.filter((x) => x.result.ok).length;
      const dlq = deadLetters(outcomes, undefined);
      if (dlq.length > 0) await producer!.send(dlq);
      // What the settled holds kept back, committed now: no batch may come to carry it.
      await consumer?.commitHandled?.();
    }).catch((error: unknown) => log.error({ error }, 'Sending held alerts or throttled repeat counts, or committing after them, failed.')));

  return {
    name: 'deliver',
    async start() {
      producer = await o.bus.producer();
      consumer = await o.bus.consumer({ groupId: o.groupId ?? defaultGroupId('deliver'), topics: [o.topics.alerts], fromBeginning: o.fromBeginning ?? true, handle, commitLimit });
      await consumer.run();
      timer = setInterval(() => void flush(false), o.flushEveryMs ?? 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      // Held alerts are notified and committed while this member still owns its partitions (ADR 0052).
      await flush(true);
      await consumer?.stop();
      // Held by a batch handled after that flush: uncommitted, so the next reader holds them; the windows' counts go now.
      o.deliverer.handOver();
      heldAt.clear();
      await flush(true);
      await producer?.close();
      await o.deliverer.close();
    },
    stats: () => ({ ...counters.snapshot(), ...stats, ...o.deliverer.stats, pendingRepeats: o.deliverer.pendingRepeats(), heldNow: o.deliverer.heldNow() }),
  };
}
