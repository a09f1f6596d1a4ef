import type { KafkaBus } from '../bus/kafka.ts';
import type { SourceType } from '../core/envelope.ts';
import { roleKafkaAccess } from './access.ts';
import type { Alert } from '../detect/alert.ts';
import type { Detection } from './detection.ts';
import { kafkaHistory } from './history.ts';
import { kafkaUpstream } from './progress.ts';
import type { Deliverer } from '../sinks/delivery/deliverer.ts';
import { createCorrelateRole, type AlertTiming } from './roles/correlate.ts';
import { createDeliverRole } from './roles/deliver.ts';
import { createIndexRole, type IndexSink } from './roles/indexer.ts';
import { createNormalizeRole } from './roles/normalize.ts';
import { defaultGroupId, type Role, type RoleName } from './roles/role.ts';
import { topicPlan, type PipelineTopics } from './topics.ts';

export interface KafkaRolesOptions {
  bus: KafkaBus;
  topics: PipelineTopics;
  roles: readonly RoleName[];
  /** Needed by normalize (ruleset) and correlate (stages). */
  detection?: Detection;
  /** Needed by index. */
  sink?: IndexSink;
  /** Needed by deliver: routes, throttle, suppressions and outputs (src/sinks/registry.ts). */
  deliverer?: Deliverer;
  /** Prefix of consumer group ids (tests and side-by-side pipelines). */
  groupPrefix?: string;
  /** Partitions of topics Seam creates when they are missing. */
  partitions?: Parameters<typeof topicPlan>[1];
  onAlert?: (a: Alert, info: AlertTiming) => void;
  maxRecordBytes?: number;
  /** Index role group members in this process (default 3; see createIndexRole). */
  indexConsumers?: number;
  /** Correlate role: a raw partition caught up this long stops holding the watermark back (ADR 0009; default 10 s). */
  idleMs?: number;
  /** Correlate role: how often stage 1's progress is looked at (default 1 s). */
  pollMs?: number;
  /** Correlate role: longest delivery delay an idle raw partition still holds the watermark for (ADR 0009, 5c; default 15 min). */
  maxSourceDelayMs?: number;
  /** Correlate role: delivery delay to expect of a source that has not delivered since the start (ADR 0009, 5c; seam.yml correlate.sourceDelayMs). */
  sourceDelayMs?: Readonly<Partial<Record<SourceType, number>>>;
  /** Correlate role: cap of a rebuild's history read (seam.yml correlate.maxRebuildMs; default DEFAULT_MAX_REBUILD_MS). */
  maxRebuildMs?: number;
}

export interface RunningRoles {
  roles: Role[];
  /** Stops every role: in-flight batches finish and are committed, then clients close. */
  stop(): Promise<void>;
}

/** How long a stop waits for this process's downstream roles to read what the upstream ones produced last. */
const DRAIN_ON_STOP_MS = 15_000;

/** Resolves once this process's remaining consumer groups have no lag, or after `timeoutMs` (a sink that is down must not hold a stop). */
async function drained(bus: KafkaBus, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const lag = await bus.consumerLag().catch(() => undefined);
    if (lag !== undefined && lag.every((l) => l.lag === 0n)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Builds the requested roles on Kafka, creates the missing topics they open (roleKafkaAccess: only those, so that a
 * role whose MSK policy covers its own topics alone starts), and starts them.
 */
export async function startKafkaRoles(o: KafkaRolesOptions): Promise<RunningRoles> {
  const own = new Set(o.roles.flatMap((r) => roleKafkaAccess(r, o.topics, o.groupPrefix).create));
  await o.bus.createTopics(topicPlan(o.topics, o.partitions).filter((t) => own.has(t.topic)));
  const roles: Role[] = [];
  const group = (r: RoleName): string => defaultGroupId(r, o.groupPrefix);
  for (const name of o.roles) {
    if (name === 'normalize') {
      roles.push(
        createNormalizeRole({
          bus: o.bus,
          topics: o.topics,
          groupId: group('normalize'),
          ...(o.detection?.ruleset ? { ruleset: o.detection.ruleset } : {}),
          ...(o.detection ? { clusterAccounts: o.detection.clusterAccounts, accountGroups: o.detection.accountGroups } : {}),
          ...(o.maxRecordBytes ? { maxRecordBytes: o.maxRecordBytes } : {}),
          // The correlate role raises early alerts on Kafka (ADR 0025): tell it which signals can (ADR 0026).
          earlyHints: true,
        }),
      );
    } else if (name === 'correlate') {
      if (!o.detection) throw new Error('the correlate role needs the detection (rules and native detections)');
      roles.push(
        createCorrelateRole({
          bus: o.bus,
          topics: o.topics,
          detection: o.detection,
          history: kafkaHistory(o.bus, o.groupPrefix, o.maxRebuildMs),
          groupId: group('correlate'),
          order: { upstream: kafkaUpstream(o.bus, o.topics, group('normalize')), ...(o.idleMs === undefined ? {} : { idleMs: o.idleMs }), ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }), ...(o.maxSourceDelayMs === undefined ? {} : { maxSourceDelayMs: o.maxSourceDelayMs }), ...(o.sourceDelayMs === undefined ? {} : { sourceDelayMs: o.sourceDelayMs }) },
          ...(o.onAlert ? { onAlert: o.onAlert } : {}),
        }),
      );
    } else if (name === 'deliver') {
      if (!o.deliverer) throw new Error('the deliver role needs a delivery config (--delivery <file>)');
      roles.push(createDeliverRole({ bus: o.bus, topics: o.topics, deliverer: o.deliverer, groupId: group('deliver'), history: kafkaHistory(o.bus, o.groupPrefix) }));
    } else {
      if (!o.sink) throw new Error('the index role needs a sink');
      roles.push(createIndexRole({ bus: o.bus, topics: o.topics, sink: o.sink, groupId: group('index'), consumers: o.indexConsumers ?? 3 }));
    }
  }
  const started: Role[] = [];
  try {
    for (const r of roles) {
      await r.start();
      started.push(r);
    }
  } catch (e) {
    for (const r of started.reverse()) await r.stop().catch(() => undefined);
    throw e;
  }
  return {
    roles,
    stop: async () => {
      // Upstream first: the correlate role produces on its way out (the events of signals it still
      // held, ADR 0014), and a downstream consumer that left before them would leave them as lag
      // until it runs again. Then the index and deliver roles read up to the end, for a bounded time.
      const downstream = (r: Role): boolean => r.name === 'index' || r.name === 'deliver';
      const up = roles.filter((r) => !downstream(r));
      const down = roles.filter(downstream);
      await Promise.all(up.map((r) => r.stop()));
      if (up.length > 0 && down.length > 0) await drained(o.bus, DRAIN_ON_STOP_MS);
      await Promise.all(down.map((r) => r.stop()));
    },
  };
}
