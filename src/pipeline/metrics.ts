import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import type { ConsumerMember } from '../bus/kafka.ts';
import type { MetricsServer } from '../core/metrics.ts';
import { BATCH_SHAPES, type BatchCountsSnapshot } from '../core/normalize/batch.ts';
import type { Alert } from '../detect/alert.ts';
import { INGEST_DELAY_BUCKETS_S, type DelayHistogram } from '../sources/checkpoint/stats.ts';
import type { Detection } from './detection.ts';

/**
 * Seam's metrics on a MetricsServer (docs/metrics.md). Nothing is counted twice: at each scrape the
 * values are read from the counters the components already keep (Counters, role stats,
 * CollectorStats, the sink's stats) and from the broker (lag). Only two things are observed as they
 * happen, because no component keeps a distribution: bulk request durations and alert latency (from
 * event time and from arrival).
 */

/** The role stats this reads (src/pipeline/roles/*.ts `stats()`); every field optional. */
interface RoleStatsView {
  received?: number;
  emitted?: number;
  errors?: Record<string, number>;
  bySource?: Record<string, number>;
  identityGraphKeys?: number;
  held?: number;
  /** correlate: each rebuilt partition's rebuild time (s), the newest 10,000. */
  rebuildSeconds?: number[];
  unenriched?: Record<string, number>;
  batches?: BatchCountsSnapshot;
  /** normalize: raw messages that came gzip-compressed and were inflated (ADR 0039). */
  inflated?: number;
  /** normalize: raw messages with no record in them (a null value, a tombstone, or blank text), skipped. */
  empty?: number;
  /** normalize: cross-account sts:AssumeRole records whose two accounts go to different signals partitions (ADR 0056). */
  splitChains?: number;
  /** correlate: owned `seam.signals` partitions whose state is being rebuilt now. */
  rebuilding?: number[];
  /** correlate: owned partitions with signals whose rebuild has not started yet (a batch or the next look starts it). */
  unbuilt?: number[];
  /** correlate: each owned `seam.signals` partition's watermark (event time, ms). */
  watermarks?: Record<string, number>;
  /** correlate: stage 1's progress (event time, ms) per raw partition `<topic>/<partition>`, the furthest any owned partition heard of. */
  stage1?: Record<string, number>;
  /** correlate: signals the Sigma correlations dropped as older than their clock (ADR 0009, known gap). */
  correlationLateDrops?: number;
  /** correlate: alerts produced as a later version of one already out (a finding's update, a completed join's revision). */
  findingUpdates?: number;
}

/** What the bus tells about this process's consumers (KafkaBus). */
export interface ConsumerView {
  consumerMembers(): ConsumerMember[];
  consumerLag(): Promise<{ groupId: string; topic: string; partition: number; lag: bigint }[]>;
}

/** The sink's side (OpenSearchSink). */
export interface SinkView {
  stats(): { errors: Record<string, number>; dropped: Record<string, number>; retriesByReason: Record<string, number>; requests: number; bufferedBytes: number };
  onBulk: ((seconds: number, outcome: 'ok' | 'error') => void) | undefined;
}

const LAG_TIMEOUT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Counters shared by roles and collectors: records in and out, errors by code. */
function recordCounters(server: MetricsServer, read: () => { role: string; source: string; stats: RoleStatsView }[]): void {
  const r = server.registry;
  new Counter({
    name: 'seam_records_in_total',
    help: 'Records a role or collector received (its Counters.received).',
    labelNames: ['role', 'source'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) this.inc({ role: x.role, source: x.source }, x.stats.received ?? 0);
    },
  });
  new Counter({
    name: 'seam_records_out_total',
    help: 'Records a role or collector emitted: normalize by event source, others as a whole (source="all") or by collector.',
    labelNames: ['role', 'source'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) {
        if (x.stats.bySource !== undefined) for (const [source, n] of Object.entries(x.stats.bySource)) this.inc({ role: x.role, source }, n);
        else this.inc({ role: x.role, source: x.source }, x.stats.emitted ?? 0);
      }
    },
  });
  new Counter({
    name: 'seam_errors_total',
    help: 'Records a role or collector could not carry through, by error code (its Counters.errors): dead letters, and index batches that failed and are redelivered.',
    labelNames: ['role', 'source', 'code'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) for (const [code, n] of Object.entries(x.stats.errors ?? {})) this.inc({ role: x.role, source: x.source, code }, n);
    },
  });
}

/**
 * Batch documents that came as one record (a CloudTrail file or an audit EventList on a JSONL line or a Kafka
 * message) and were read as their records (ADR 0038): the normalize role's and the file collector's `batches`.
 */
function batchCounters(server: MetricsServer, read: () => { role: string; source: string; stats: RoleStatsView }[]): void {
  const r = server.registry;
  const counter = (name: string, help: string, pick: (b: BatchCountsSnapshot) => Record<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: ['role', 'source', 'shape'],
      registers: [r],
      collect() {
        this.reset();
        for (const x of read()) {
          const b = x.stats.batches;
          if (b !== undefined) for (const shape of BATCH_SHAPES) this.inc({ role: x.role, source: x.source, shape }, pick(b)[shape] ?? 0);
        }
      },
    });
  };
  counter('seam_batch_documents_total', 'Records that were batch documents (shape="cloudtrail": a Records file; shape="k8s_audit": an audit EventList; shape="cloudwatch_logs": a CloudWatch Logs subscription payload), read as the records they hold; shape="cloudtrail_digest": CloudTrail digest files, which hold no record, skipped.', (b) => b.documents);
  counter('seam_batch_records_total', 'Records taken out of batch documents, each normalized as if it had arrived alone.', (b) => b.records);
  counter('seam_batch_empty_total', 'Batch documents that held no record (counted, not an error; shape="cloudwatch_logs": also CloudWatch Logs control messages).', (b) => b.empty);
  counter('seam_batch_skipped_total', 'Elements of batch documents left out on purpose: log events of an EKS log group\'s streams other than the audit log, in CloudWatch Logs subscription payloads (ADR 0039).', (b) => b.skipped);
  new Counter({
    name: 'seam_raw_inflated_total',
    help: 'Raw messages that arrived gzip-compressed (a CloudWatch Logs subscription payload from Kinesis, a forwarded .json.gz) and were inflated before normalization (ADR 0039).',
    labelNames: ['role', 'source'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) if (x.stats.inflated !== undefined) this.inc({ role: x.role, source: x.source }, x.stats.inflated);
    },
  });
  new Counter({
    name: 'seam_raw_empty_total',
    help: 'Raw messages with no record in them (a null value such as a tombstone, or blank text), skipped by the normalize role rather than dead-lettered.',
    labelNames: ['role', 'source'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) if (x.stats.empty !== undefined) this.inc({ role: x.role, source: x.source }, x.stats.empty);
    },
  });
  new Counter({
    name: 'seam_split_role_chains_total',
    help: 'Successful sts:AssumeRole records from one account into a role of another whose two accounts go to different seam.signals partitions: the sessions they issue do not resolve to the workload or person behind them on Kafka. List the accounts (named by the WARN line) in one identity.accountGroups entry (ADR 0056).',
    labelNames: ['role', 'source'],
    registers: [r],
    collect() {
      this.reset();
      for (const x of read()) if (x.stats.splitChains !== undefined) this.inc({ role: x.role, source: x.source }, x.stats.splitChains);
    },
  });
}

export interface RoleMetricsOptions {
  /** The roles this process runs (known before they start, so the listener can answer while they do). */
  roleNames: readonly string[];
  /** The running roles (empty until they have started). */
  roles: () => { name: string; stats(): Record<string, unknown> }[];
  bus?: ConsumerView;
  sink?: SinkView;
  /** Answers undefined when the sink's cluster answers, else why not (the index role's readiness). */
  sinkReachable?: () => Promise<string | undefined>;
  detection?: Detection;
}

/** When an alert was produced and when its newest event arrived (the correlate role's `onAlert`). */
export interface AlertObservation {
  /** Wall time the alert was durable on `seam.alerts` (default: now). */
  nowMs?: number;
  /** Arrival of its newest event (`seam.ingest.received_at`), when the correlate role knows it. */
  newestIngestMs?: number | undefined;
  /**
   * False for a later version of an alert this member already made durable (the final of an early alert,
   * ADR 0025): the histograms time each alert once, at its first version.
   */
  first?: boolean;
}

/** Registers the roles' metrics and readiness; returns the hook that times alerts. */
export function registerRoleMetrics(server: MetricsServer, o: RoleMetricsOptions): { observeAlert(a: Alert, at?: AlertObservation): void } {
  const r = server.registry;
  const roleStats = (): { role: string; source: string; stats: RoleStatsView }[] => o.roles().map((role) => ({ role: role.name, source: 'all', stats: role.stats() as RoleStatsView }));
  recordCounters(server, roleStats);
  if (o.roleNames.includes('normalize')) batchCounters(server, () => roleStats().filter((x) => x.role === 'normalize'));

  if (o.bus) {
    const bus = o.bus;
    new Gauge({
      name: 'seam_consumer_lag',
      help: 'Records not yet committed by the consumer group, per topic partition: end offset minus committed offset, read from the broker at scrape time.',
      labelNames: ['group', 'topic', 'partition'],
      registers: [r],
      async collect() {
        this.reset();
        for (const l of await withTimeout(bus.consumerLag(), LAG_TIMEOUT_MS, 'reading consumer lag')) {
          this.set({ group: l.groupId, topic: l.topic, partition: String(l.partition) }, Number(l.lag));
        }
      },
    });
    new Gauge({
      name: 'seam_consumer_assigned_partitions',
      help: "Partitions assigned to this process's members of the consumer group at their last join.",
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.reset();
        for (const m of bus.consumerMembers()) this.inc({ group: m.groupId }, m.joined ? m.partitions : 0);
      },
    });
    new Counter({
      name: 'seam_consumer_stall_restarts_total',
      help: "Times the stalled-partition watchdog restarted this process's members of the consumer group (kafka.consumer.stallMs, ADR 0059): a partition with records to read was not fetched.",
      labelNames: ['group'],
      registers: [r],
      collect() {
        this.reset();
        for (const m of bus.consumerMembers()) this.inc({ group: m.groupId }, m.stallRestarts);
      },
    });
    server.addReadiness({
      name: 'kafka',
      check: () => {
        const members = bus.consumerMembers();
        if (members.length === 0) return 'no consumer is running';
        const waiting = members.filter((m) => !m.joined);
        return waiting.length === 0 ? undefined : `${waiting.length} of ${members.length} consumers have not joined their group (${[...new Set(waiting.map((m) => m.groupId))].join(', ')})`;
      },
    });
  }

  if (o.sink) {
    const sink = o.sink;
    const bulk = new Histogram({
      name: 'seam_sink_bulk_duration_seconds',
      help: 'Duration of each OpenSearch bulk request; outcome="error" when the request itself failed (retried or refused).',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    sink.onBulk = (s, outcome) => bulk.observe({ outcome }, s);
    new Counter({
      name: 'seam_sink_rejected_total',
      help: 'Documents OpenSearch (or the sink before sending) rejected for good, by reason (mapper_parsing_exception, too_large, …); each is a dead letter.',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(sink.stats().dropped)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'seam_sink_retries_total',
      help: 'Documents the sink sent again after a transient failure, by reason (http_429, rejected_execution, connection, …).',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(sink.stats().retriesByReason)) this.inc({ reason }, n);
      },
    });
    new Gauge({
      name: 'seam_sink_buffered_bytes',
      help: 'Bytes of documents waiting in the sink for a bulk request.',
      registers: [r],
      collect() {
        this.set(sink.stats().bufferedBytes);
      },
    });
  }
  if (o.sinkReachable) {
    const reach = o.sinkReachable;
    server.addReadiness({ name: 'opensearch', check: () => reach() });
  }

  const latency = new Histogram({
    name: 'seam_alert_latency_seconds',
    help: "Wall-clock time from an alert's event time (@timestamp, its last event) to the moment the correlate role raised it.",
    labelNames: ['level'],
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
    registers: [r],
  });

  // What issue 15 item 5 and bench:pipeline measure: how long after its last record arrived an alert is out.
  const ingestLatency = new Histogram({
    name: 'seam_alert_ingest_latency_seconds',
    help: "Wall-clock time from the arrival of an alert's newest event (seam.ingest.received_at, stamped by the collector that read it) to the moment the correlate role had the alert durable on seam.alerts: Kafka, normalize, the watermark wait (ADR 0009) and detection. Each alert once, at its first version (an early, provisional alert skips the watermark wait, ADR 0025). Alerts whose events the role no longer remembers, or that carry no arrival time, are not observed.",
    labelNames: ['level'],
    buckets: [0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [r],
  });

  if (o.detection) {
    const rs = o.detection.ruleset;
    const rules = new Gauge({ name: 'seam_rules_loaded', help: 'Sigma rules and correlations loaded.', labelNames: ['kind'], registers: [r] });
    rules.set({ kind: 'sigma' }, rs?.rules.length ?? 0);
    rules.set({ kind: 'correlation' }, rs?.correlations.length ?? 0);
  }

  const correlates = (): RoleStatsView[] => o.roles().filter((x) => x.name === 'correlate').map((x) => x.stats() as RoleStatsView);
  if (o.roleNames.includes('correlate')) {
    new Gauge({
      name: 'seam_identity_graph_keys',
      help: "Keys (principals, roles, service accounts, …) in the identity graphs of this process's correlate partitions.",
      registers: [r],
      collect() {
        this.set(correlates().reduce((n, s) => n + (s.identityGraphKeys ?? 0), 0));
      },
    });
    // Joined is not processing: a correlate member is ready once every partition it owns has its state (review-ops M1),
    // so a rolling update waits for the rebuild instead of moving on and causing the next rebalance.
    server.addReadiness({
      name: 'correlate',
      check: () => {
        const why: string[] = [];
        for (const s of correlates()) {
          for (const p of s.rebuilding ?? []) why.push(`rebuilding partition ${p}`);
          for (const p of s.unbuilt ?? []) why.push(`partition ${p} not rebuilt yet`);
        }
        return why.length === 0 ? undefined : why.join(', ');
      },
    });
    new Counter({
      name: 'seam_correlation_late_dropped_total',
      help: 'Signals no Sigma correlation counted because they were late: older than the newest event time the correlations saw less the allowed lateness, or (judged correlations: lt, lte, eq, neq, averages) than the final a quiet advance produced. Single-event rules still ran on them. Non-zero after history older than what the pipeline had seen was produced into it (ADR 0009).',
      registers: [r],
      collect() {
        this.reset();
        this.inc(correlates().reduce((n, s) => n + (s.correlationLateDrops ?? 0), 0));
      },
    });
    new Counter({
      name: 'seam_alert_later_versions_total',
      help: 'Alerts produced (counted in seam_records_out_total) that are a later version of an alert already out, same id: a GuardDuty finding alert\'s update (ADR 0046) or a GuardDuty join completed after a quiet advance (revision, ADR 0009). The latency histograms time each alert once, at its first version: their count plus this is the alerts produced.',
      registers: [r],
      collect() {
        this.reset();
        this.inc(correlates().reduce((n, s) => n + (s.findingUpdates ?? 0), 0));
      },
    });
    new Gauge({
      name: 'seam_correlate_watermark_seconds',
      help: 'Event time (Unix seconds) up to which the correlate role has handed signals on, per seam.signals partition it owns (ADR 0009): the slowest raw partition\'s progress minus the allowed lateness, or the wall clock minus the lateness while the input is quiet.',
      labelNames: ['partition'],
      registers: [r],
      collect() {
        this.reset();
        for (const s of correlates()) for (const [p, ms] of Object.entries(s.watermarks ?? {})) this.set({ partition: p }, ms / 1000);
      },
    });
    new Gauge({
      name: 'seam_stage1_progress_seconds',
      help: 'Event time (Unix seconds) stage 1 (normalize) has reached on each raw partition, from the progress marks it writes to seam.signals (ADR 0009): the minimum is the partition holding the watermark back.',
      labelNames: ['topic', 'partition'],
      registers: [r],
      collect() {
        this.reset();
        const best = new Map<string, number>();
        for (const s of correlates()) for (const [src, ms] of Object.entries(s.stage1 ?? {})) if (!(ms <= (best.get(src) ?? -Infinity))) best.set(src, ms);
        for (const [src, ms] of best) {
          const i = src.lastIndexOf('/');
          this.set({ topic: src.slice(0, i), partition: src.slice(i + 1) }, ms / 1000);
        }
      },
    });
    new Gauge({
      name: 'seam_correlate_held_signals',
      help: 'Signals the correlate role holds back until the watermark passes them (ADR 0009).',
      registers: [r],
      collect() {
        this.set(correlates().reduce((n, s) => n + (s.held ?? 0), 0));
      },
    });
    new Gauge({
      name: 'seam_correlate_rebuilding',
      help: "Signals partitions whose correlation state the correlate role is rebuilding now (re-reading seam.identity, the rebuild window of seam.signals and seam.alerts; after a start or a rebalance). Non-zero: alerts of those partitions wait until it is done.",
      registers: [r],
      collect() {
        this.set(correlates().reduce((n, s) => n + (s.rebuilding?.length ?? 0), 0));
      },
    });
    new Histogram({
      name: 'seam_correlate_rebuild_seconds',
      help: "Time the correlate role took to rebuild a signals partition's state (partitions rebuilt together each count the whole rebuild), from the role's own record of its newest 10,000 rebuilds.",
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [r],
      collect() {
        this.reset();
        for (const s of correlates()) for (const v of s.rebuildSeconds ?? []) this.observe(v);
      },
    });
    new Counter({
      name: 'seam_alerts_unenriched_total',
      help: "Early (provisional) alerts closed without their enriched final (ADR 0027), by reason: enrichment_failed (the detect stage threw on the event), not_confirmed (the ordered path did not raise it), member_stopped (the member stopped while the event was held; the next owner's final replaces it).",
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        const by: Record<string, number> = { enrichment_failed: 0, not_confirmed: 0, member_stopped: 0 };
        for (const s of correlates()) for (const [k, n] of Object.entries(s.unenriched ?? {})) by[k] = (by[k] ?? 0) + n;
        for (const [reason, n] of Object.entries(by)) this.inc({ reason }, n);
      },
    });
  }

  return {
    observeAlert(a, at = {}) {
      if (at.first === false) return;
      const nowMs = at.nowMs ?? Date.now();
      const t = Date.parse(a['@timestamp']);
      if (Number.isFinite(t)) latency.observe({ level: a.rule.level }, Math.max(0, (nowMs - t) / 1000));
      const ingest = at.newestIngestMs;
      if (ingest !== undefined && Number.isFinite(ingest)) ingestLatency.observe({ level: a.rule.level }, Math.max(0, (nowMs - ingest) / 1000));
    },
  };
}

/** A collector as `seam collect` runs it. */
export interface CollectorView {
  name: string;
  stats(): Record<string, unknown>;
  /** CloudWatch Logs: each log group's ingestion delays, as the collector counts them. */
  ingestDelays?(): ReadonlyMap<string, DelayHistogram>;
}

/**
 * A histogram served from counts a component already keeps (prom-client's Histogram only takes observations one by
 * one, and replaying every event read at each scrape would cost as much as the reads).
 */
function keptHistogram(server: MetricsServer, o: { name: string; help: string; bounds: readonly number[]; read: () => { labels: Record<string, string>; h: DelayHistogram }[] }): void {
  const get = async (): Promise<unknown> => {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const { labels, h } of o.read()) {
      let acc = 0;
      o.bounds.forEach((le, i) => {
        acc += h.counts[i] ?? 0;
        values.push({ labels: { ...labels, le }, value: acc, metricName: `${o.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${o.name}_bucket` });
      values.push({ labels, value: h.sumS, metricName: `${o.name}_sum` });
      values.push({ labels, value: h.count, metricName: `${o.name}_count` });
    }
    return { name: o.name, help: o.help, type: 'histogram', aggregator: 'sum', values };
  };
  const metric = { name: o.name, help: o.help, type: 'histogram', aggregator: 'sum', get, reset: () => undefined };
  server.registry.registerMetric(metric as unknown as Metric);
}

/** Registers the collectors' metrics and readiness (started, not all stopped). */
export function registerCollectorMetrics(server: MetricsServer, o: { collectors: () => CollectorView[]; running: () => boolean }): void {
  const r = server.registry;
  const collectorStats = (): { role: string; source: string; stats: RoleStatsView }[] => o.collectors().map((c) => ({ role: 'collect', source: c.name, stats: c.stats() as RoleStatsView }));
  recordCounters(server, collectorStats);
  batchCounters(server, collectorStats);
  new Gauge({
    name: 'seam_collector_checkpoint_age_seconds',
    help: 'Seconds since the collector last saved its checkpoint for the log group (since it took the group over, before the first save).',
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        const ages = (c.stats() as { checkpointAgeMs?: Record<string, number> }).checkpointAgeMs ?? {};
        for (const [group, ms] of Object.entries(ages)) this.set({ collector: c.name, log_group: group }, ms / 1000);
      }
    },
  });
  // Event time a collector skipped unread (it resumed further behind than maxCatchUpMs, ADR 0060), and how often.
  new Counter({
    name: 'seam_collector_gap_seconds_total',
    help: 'Seconds of event time the collector skipped unread for the log group (the detector id for GuardDuty): it resumed, or fell, further behind than maxCatchUpMs. Each skip is also a WARN line with the window start and end.',
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, ms] of Object.entries((c.stats() as { gapMs?: Record<string, number> }).gapMs ?? {})) this.inc({ collector: c.name, log_group: group }, ms / 1000);
      }
    },
  });
  new Counter({
    name: 'seam_collector_skipped_windows_total',
    help: 'Windows of event time the collector skipped unread for the log group (the detector id for GuardDuty) because they were older than maxCatchUpMs.',
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, n] of Object.entries((c.stats() as { skippedWindows?: Record<string, number> }).skippedWindows ?? {})) this.inc({ collector: c.name, log_group: group }, n);
      }
    },
  });
  new Gauge({
    name: 'seam_collector_behind_seconds',
    help: 'How far behind now the last read of the log group (the detector id for GuardDuty) ended: 0 while the collector reads up to now, the catch-up still to do after downtime.',
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, ms] of Object.entries((c.stats() as { behindMs?: Record<string, number> }).behindMs ?? {})) this.set({ collector: c.name, log_group: group }, ms / 1000);
      }
    },
  });
  keptHistogram(server, {
    name: 'seam_collector_ingest_delay_seconds',
    help: "How long after its own time CloudWatch Logs ingested each event the collector emitted (ingestionTime - timestamp), by log group: each event once. An event ingested later than the collector's read margin (lookbackMs, less fullLookbackEveryMs and pollIntervalMs with the two-tier re-read) is never read (ADR 0061).",
    bounds: INGEST_DELAY_BUCKETS_S,
    read: () => o.collectors().flatMap((c) => [...(c.ingestDelays?.() ?? new Map<string, DelayHistogram>())].map(([group, h]) => ({ labels: { collector: c.name, log_group: group }, h }))),
  });
  // Events CloudWatch Logs ingested late (ADR 0061): caught only thanks to the lookback, and near it (a loss is near).
  new Counter({
    name: 'seam_collector_late_ingested_total',
    help: "Events the collector emitted that were older than its previous read's end of the log group: ingested after that read, caught only thanks to lookbackMs.",
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, n] of Object.entries((c.stats() as { lateIngested?: Record<string, number> }).lateIngested ?? {})) this.inc({ collector: c.name, log_group: group }, n);
      }
    },
  });
  new Counter({
    name: 'seam_collector_near_lookback_total',
    help: 'Events the collector emitted that CloudWatch Logs ingested more than 80 % of the read margin (lookbackMs less fullLookbackEveryMs and pollIntervalMs with the two-tier re-read, ADR 0061) after their own time: an event a little later may never be read. Each is also in a WARN line (at most every 10 min per log group) naming the setting to raise.',
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, n] of Object.entries((c.stats() as { nearLookback?: Record<string, number> }).nearLookback ?? {})) this.inc({ collector: c.name, log_group: group }, n);
      }
    },
  });
  // A checkpoint holds every id seen in the lookback; on Kafka it is one message under the topic's max.message.bytes (ADR 0061, amendment of session 37).
  new Gauge({
    name: 'seam_collector_checkpoint_bytes',
    help: "Bytes of the last checkpoint the collector wrote for the log group (the detector id for GuardDuty), as a message of the Kafka checkpoint topic: grows with the group's events per second times its lookbackMs. Over the topic's max.message.bytes the write is refused (SEAM_ERR_CHECKPOINT_TOO_LARGE).",
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, b] of Object.entries((c.stats() as { checkpointBytes?: Record<string, number> }).checkpointBytes ?? {})) this.set({ collector: c.name, log_group: group }, b);
      }
    },
  });
  new Counter({
    name: 'seam_collector_checkpoint_near_limit_total',
    help: "Checkpoints the collector wrote for the log group (the detector id for GuardDuty) above 80 % of the Kafka checkpoint topic's max.message.bytes: over it the group stops moving on. Each group is also a WARN line at most every 10 min naming the lookbackMs setting to lower.",
    labelNames: ['collector', 'log_group'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        for (const [group, n] of Object.entries((c.stats() as { checkpointNearLimit?: Record<string, number> }).checkpointNearLimit ?? {})) this.inc({ collector: c.name, log_group: group }, n);
      }
    },
  });
  new Gauge({
    name: 'seam_collector_event_lag_seconds',
    help: 'Now minus the newest event time the collector has read (CollectorStats lagMs); absent before the first event.',
    labelNames: ['collector'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        const lag = (c.stats() as { lagMs?: number | null }).lagMs;
        if (typeof lag === 'number') this.set({ collector: c.name }, lag / 1000);
      }
    },
  });
  new Gauge({
    name: 'seam_sidecar_last_seen_seconds',
    help: 'Seconds since the pod\'s runtime sensor last sent a heartbeat to this ingest endpoint (kind heartbeat, every heartbeatIntervalMs, 60 s by default): growing past a few intervals while the pod runs means a stopped or killed sensor (review-ops M7). Several ingest replicas: take min by (cluster, namespace, pod). A pod unheard for lastSeenForgetMs, or whose sensor said it is stopping, leaves.',
    labelNames: ['collector', 'cluster', 'namespace', 'pod'],
    registers: [r],
    collect() {
      this.reset();
      for (const c of o.collectors()) {
        const seen = (c.stats() as { sensorsLastSeen?: { cluster: string; namespace: string; pod: string; ageMs: number }[] }).sensorsLastSeen ?? [];
        for (const p of seen) this.set({ collector: c.name, cluster: p.cluster, namespace: p.namespace, pod: p.pod }, p.ageMs / 1000);
      }
    },
  });
  server.addReadiness({
    name: 'collectors',
    check: () => {
      if (!o.running()) return 'the collectors are not running';
      // A collector whose start keeps failing is retried with back-off (src/sources/start-retry.ts); until it starts, not ready.
      const waiting = o.collectors().filter((c) => (c.stats() as { started?: boolean }).started === false);
      if (waiting.length === 0) return undefined;
      return `not started yet: ${waiting.map((c) => `${c.name} (${String((c.stats() as { lastStartError?: string }).lastStartError ?? 'starting')})`).join(', ')}`;
    },
  });
}
