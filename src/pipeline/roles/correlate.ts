import type { Bus, BusConsumer, BusMessage, BusProducer, ConsumedMessage } from '../../bus/types.ts';
import { Counters } from '../../core/counters.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { SeamError, stageThrew } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import type { Alert } from '../../detect/alert.ts';
import type { DetectStage } from '../detect-stage.ts';
import type { Detection } from '../detection.ts';
import type { History } from '../history.ts';
import { IdentityPublisher, restoreIdentity } from '../identity-topic.ts';
import { decodeSignals } from '../signal.ts';
import type { PipelineTopics } from '../topics.ts';
import { defaultGroupId, dlqMessage, type Role } from './role.ts';

const log = childLogger('role.correlate');

export interface CorrelateRoleOptions {
  bus: Bus;
  topics: PipelineTopics;
  detection: Detection;
  history: History;
  groupId?: string;
  fromBeginning?: boolean;
  /** Called for each alert once it is durable on `seam.alerts` (the console prints them). */
  onAlert?: (alert: Alert) => void;
  /** Bound of the per-partition sets of seen event ids and emitted alert ids. */
  maxRemembered?: number;
  /** Test hook, called after a batch's alerts are produced and before its offset is committed. */
  afterProduce?: (batch: ConsumedMessage[]) => Promise<void>;
}

/** An event as a dead letter's `raw` (already normalized and redacted); never throws. */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

/** Insertion-ordered set that forgets its oldest entries past `max`. */
class BoundedSet {
  private readonly s = new Set<string>();
  constructor(private readonly max: number) {}
  has(k: string): boolean {
    return this.s.has(k);
  }
  add(k: string): void {
    this.s.add(k);
    if (this.s.size > this.max) this.s.delete(this.s.values().next().value!);
  }
}

/** State of one `seam.signals` partition: all cross-plane state of the accounts keyed to it. */
interface PartitionState {
  stage: DetectStage;
  /** Next offset this state expects; anything else means the partition moved or a batch failed. */
  next: bigint;
  seenEvents: BoundedSet;
  emitted: BoundedSet;
  /** Identity versions the stage changed, for `seam.identity` (ADR 0008). */
  identity: IdentityPublisher;
  /** After a rebuild: what `seam.identity` already says, so the first batch does not repeat it. */
  identityKnown?: Map<string, string>;
}

/**
 * Stage 2: `seam.signals` → identity graph, native detections, Sigma rules and correlations →
 * `seam.alerts` keyed by alert id. State is kept per signals partition, so it moves with the
 * partition: when a batch arrives for a partition this instance has no state for (start, or a
 * rebalance gave it the partition), or that does not follow on from the last batch (the partition
 * went away and came back, or a batch failed), the state is rebuilt by re-reading the partition from
 * `rebuildWindowMs` before the batch up to the batch, with alerts remembered but not produced: they
 * were produced before that offset was committed. Event ids already seen are skipped, so a
 * redelivered signal is not counted twice by a correlation.
 */
export function createCorrelateRole(o: CorrelateRoleOptions): Role & { flush(): Promise<void> } {
  const counters = new Counters('role.correlate');
  const states = new Map<number, PartitionState>();
  const stats = { messages: 0, alerts: 0, rebuilds: 0, rebuiltSignals: 0, suppressedOnRebuild: 0, duplicateSignals: 0, duplicateAlerts: 0, stageErrors: 0, identityRecords: 0, restoredIdentity: 0, restoredIdentityAfter: 0 };
  const max = o.maxRemembered ?? 200_000;
  let producer: BusProducer | undefined;
  let consumer: BusConsumer | undefined;

  const fresh = (partition: number, next: bigint): PartitionState => {
    const stage = o.detection.newStage({ collectFacts: true });
    return { stage, next, seenEvents: new BoundedSet(max), emitted: new BoundedSet(max), identity: new IdentityPublisher(stage.native.graph, o.topics.identity, partition) };
  };

  /** Feeds one message's signals; returns their alerts not emitted before, or a dead letter for an unreadable message. */
  const feed = (st: PartitionState, m: ConsumedMessage): { alerts: Alert[]; signals: number; dlq?: BusMessage[] } => {
    let sigs: ReturnType<typeof decodeSignals>;
    try {
      sigs = decodeSignals(m.value);
    } catch {
      sigs = undefined;
    }
    if (sigs === undefined) {
      const error = new SeamError('SEAM_ERR_INPUT_JSON', 'message is not a Seam signal (v1 or v2 JSON with events)', { details: { topic: m.topic, partition: m.partition, offset: m.offset } });
      return { alerts: [], signals: 0, dlq: [dlqMessage(o.topics, deadLetter('detect', error, m.value.toString('utf8')), m)] };
    }
    const alerts: Alert[] = [];
    let dlq: BusMessage[] | undefined;
    for (const sig of sigs) {
      const id = sig.event.seam?.id;
      if (typeof id === 'string') {
        if (st.seenEvents.has(id)) {
          stats.duplicateSignals++;
          continue;
        }
        st.seenEvents.add(id);
      }
      let produced: Alert[];
      try {
        produced = st.stage.process(sig.event);
      } catch (e) {
        // A record's content never stalls the partition: this event is dead-lettered, the batch goes on.
        const error = stageThrew('detect', e, { id, topic: m.topic, partition: m.partition, offset: m.offset });
        counters.error(error.code);
        stats.stageErrors++;
        (dlq ??= []).push(dlqMessage(o.topics, deadLetter('detect', error, safeJson(sig.event)), m));
        produced = [];
      }
      for (const a of novel(st, produced)) alerts.push(a);
      st.identity.note(st.stage.drainFacts(), m);
    }
    return { alerts, signals: sigs.length, ...(dlq ? { dlq } : {}) };
  };
  const novel = (st: PartitionState, alerts: Alert[]): Alert[] => {
    const out: Alert[] = [];
    for (const a of alerts) {
      if (st.emitted.has(a.id)) {
        stats.duplicateAlerts++;
        continue;
      }
      st.emitted.add(a.id);
      out.push(a);
    }
    return out;
  };

  /**
   * Alert ids on `seam.alerts` since `fromTimeMs`: what earlier owners already produced, including
   * alerts of a batch they produced but did not get to commit. Read once per rebuild.
   */
  const producedSince = async (fromTimeMs: number): Promise<Set<string>> => {
    const ids = new Set<string>();
    await o.history.read(o.topics.alerts, 'all', fromTimeMs, undefined, (m) => {
      if (m.key !== null) ids.add(m.key);
    });
    return ids;
  };

  const rebuild = async (partition: number, first: ConsumedMessage): Promise<PartitionState> => {
    const upTo = BigInt(first.offset);
    const st = fresh(partition, upTo);
    const from = (first.timestampMs ?? Date.now()) - o.detection.rebuildWindowMs;
    const started = performance.now();
    // Identity facts older than the window come back from seam.identity, around the re-read (ADR 0008).
    const restored = await restoreIdentity(o.history, o.topics.identity, partition, st.stage.native.graph, { fromTimeMs: from, upTo }, async () => {
      let signals = 0;
      await o.history.read(o.topics.signals, partition, from, upTo, (m) => {
        const r = feed(st, m);
        stats.suppressedOnRebuild += r.alerts.length;
        signals += r.signals;
      });
      return signals;
    });
    const n = restored.signals;
    st.identityKnown = restored.known;
    stats.restoredIdentity += restored.stats.before;
    stats.restoredIdentityAfter += restored.stats.after;
    if (upTo > 0n) for (const id of await producedSince(from)) st.emitted.add(id);
    stats.rebuilds++;
    stats.rebuiltSignals += n;
    if (n > 0 || restored.stats.records > 0) log.info({ partition, signals: n, identity: restored.stats, ms: Math.round(performance.now() - started) }, 'Rebuilt correlation state from seam.identity and seam.signals.');
    return st;
  };

  const emit = async (alerts: Alert[], extra: BusMessage[]): Promise<void> => {
    const msgs: BusMessage[] = alerts.map((a) => ({ topic: o.topics.alerts, key: a.id, value: Buffer.from(JSON.stringify(a)) }));
    msgs.push(...extra);
    await producer!.send(msgs);
    stats.alerts += alerts.length;
    counters.emitted += alerts.length;
    for (const a of alerts) o.onAlert?.(a);
  };

  const handle = async (batch: ConsumedMessage[]): Promise<void> => {
    const partition = batch[0]!.partition;
    let st = states.get(partition);
    if (st === undefined || st.next !== BigInt(batch[0]!.offset)) {
      states.delete(partition);
      st = await rebuild(partition, batch[0]!);
    }
    try {
      const alerts: Alert[] = [];
      const dlq: BusMessage[] = [];
      for (const m of batch) {
        const r = feed(st, m);
        counters.received += r.signals;
        stats.messages++;
        for (const a of r.alerts) alerts.push(a);
        if (r.dlq) {
          if (r.signals === 0) {
            counters.received++;
            counters.error('SEAM_ERR_INPUT_JSON');
          }
          dlq.push(...r.dlq);
        }
      }
      const identity = st.identity.messages(st.identityKnown);
      delete st.identityKnown;
      stats.identityRecords += identity.length;
      await emit(alerts, [...identity, ...dlq]);
      await o.afterProduce?.(batch);
      st.next = BigInt(batch[batch.length - 1]!.offset) + 1n;
      states.set(partition, st);
    } catch (e) {
      // The state has seen part of an uncommitted batch: drop it; the redelivery rebuilds it.
      states.delete(partition);
      throw e;
    }
  };

  return {
    name: 'correlate',
    async start() {
      producer = await o.bus.producer();
      consumer = await o.bus.consumer({
        groupId: o.groupId ?? defaultGroupId('correlate'),
        topics: [o.topics.signals],
        fromBeginning: o.fromBeginning ?? true,
        handle,
      });
      await consumer.run();
    },
    /** End of input (embedded replay only): judges open windows everywhere and produces their alerts. */
    async flush() {
      const alerts: Alert[] = [];
      for (const st of states.values()) alerts.push(...novel(st, st.stage.flush()));
      await emit(alerts, []);
    },
    async stop() {
      await consumer?.stop();
      await producer?.close();
    },
    stats: () => {
      const byStage = [...states.values()].map((s) => s.stage.stats());
      return { ...counters.snapshot(), ...stats, partitions: states.size, ...(byStage.length === 1 ? { detect: byStage[0] } : {}) };
    },
  };
}
