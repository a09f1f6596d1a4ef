import { deadLetter, type DeadLetter } from '../core/dead-letter.ts';
import type { SeamEvent, SourceType } from '../core/envelope.ts';
import { stageThrew } from '../core/errors.ts';
import { BatchCounts, type BatchCountsSnapshot } from '../core/normalize/batch.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { JsonlSink } from '../sinks/jsonl/sink.ts';
import { listInputFiles, readFilesBatches, type InputPath } from '../sources/file/source.ts';
import { SeenIds, type OrderedStage } from './reorder.ts';
import { recordTimeOf } from './record-time.ts';
import type { NativeConfig } from '../detect/native/config.ts';
import type { RuleOverride } from '../detect/sigma/types.ts';
import type { IdentityGraphConfig, SeedConfig } from '../identity/config.ts';
import { noNotes, noteEvent, type EventNotes } from './event-notes.ts';
import { alertNotices, noticeKey, type FindingAlertRef } from '../detect/finding.ts';

/**
 * Counts one alert in a replay's summary (ADR 0046), the same in every mode (`runReplay`, `--workers N`): a GuardDuty
 * finding alert's later version is an update, not an alert (`alertUpdates`, with the rises of its severity level).
 * `notices` holds what the replay has counted so far. True when the alert is news: not a finding alert, its first
 * version, or a rise (what a replay hands to `onAlert`).
 */
export function countAlert(summary: ReplaySummary, notices: Set<string>, f: FindingAlertRef): boolean {
  if (typeof f.id !== 'string' || f.finding === undefined) {
    summary.alerts++;
    return true;
  }
  const later = notices.has(`${f.id}#low`);
  const update = notices.has(noticeKey(f));
  for (const n of alertNotices(f)) notices.add(n);
  if (later) {
    const u = (summary.alertUpdates ??= { updates: 0, escalations: 0 });
    u.updates++;
    if (!update) u.escalations++;
  } else summary.alerts++;
  return !update;
}

/** What a replay can hand each normalized event to (the detector, when rules are loaded). */
export interface EventHandler<A> {
  process(event: SeamEvent): A[];
  flush(): A[];
  /** Events that reached detection behind the watermark (ADR 0009), and the allowed lateness that set it. */
  readonly late?: number;
  readonly latenessMs?: number;
  /** Events dropped as copies of one already handed in (same `seam.id`): detected once. */
  readonly duplicates?: number;
}

/**
 * What `seam replay --rules` runs on each event, as plain data: the CLI builds its handler from it, and
 * so does each worker thread of `--workers N` (ADR 0018), so both run the same detection stack.
 */
export interface ReplayDetectSpec {
  rules: string[];
  /** The configured rules paths when `rules` came from `--rules`: unused site placeholders are warned about only when `rules` cover them (sitePlaceholderWarnings). */
  configuredRules?: string[];
  placeholdersFile?: string;
  placeholders?: Record<string, string[]>;
  /** seam.yml `rules.overrides` (src/detect/sigma/overrides.ts). */
  overrides?: RuleOverride[];
  /** Print on stderr the one-line summary of the placeholders the rules use without values (`seam replay`; one worker of `--workers N`). */
  reportUnsetPlaceholders?: boolean;
  /** False: do not log the seam.yml rules.overrides applied (every worker of `--workers N` but the first: one line each per run). */
  reportOverrides?: boolean;
  allowedLatenessMs?: number;
  /** seam.yml `rules.driftCheckUsers` (ADR 0047); absent: the default list. */
  driftCheckUsers?: string[];
  /** From seam.yml: native detections and the identity graph run with these (defaults without a config). */
  native?: NativeConfig;
  identity?: IdentityGraphConfig;
  /** Snapshot files the identity graph starts from (seam.yml `identity.seeds` and `--seed`; docs/identity.md, Seeding). */
  seeds?: SeedConfig[];
  /** The cluster of seeds that name none (`--cluster`, seam.yml `cluster`). */
  seedCluster?: string;
}

/** The detect stage in event-time order, as the correlate role hands signals on (ADR 0009); the end of input flushes. */
export async function buildReplayHandler(spec: ReplayDetectSpec): Promise<OrderedStage> {
  const { buildDetector, DEFAULT_ALLOWED_LATENESS_MS } = await import('../detect/load.ts');
  const { createDetectStage } = await import('./detect-stage.ts');
  const { OrderedStage } = await import('./reorder.ts');
  const { IdentityGraph } = await import('../identity/graph.ts');
  const { loadSeeds } = await import('../identity/seed-files.ts');
  const seeds = await loadSeeds(spec.seeds ?? [], { ...(spec.seedCluster === undefined ? {} : { cluster: spec.seedCluster }), clusters: spec.identity?.clusters ?? [] });
  const graph = spec.identity !== undefined || seeds.facts.length > 0 ? new IdentityGraph(spec.identity ?? {}) : undefined;
  graph?.applyFacts(seeds.facts);
  const stage = createDetectStage({
    detector: await buildDetector(spec.rules, {
      ...(spec.placeholdersFile ? { placeholdersFile: spec.placeholdersFile } : {}),
      ...(spec.placeholders ? { placeholders: spec.placeholders } : {}),
      ...(spec.configuredRules ? { configuredRules: spec.configuredRules } : {}),
      ...(spec.overrides?.length ? { overrides: spec.overrides } : {}),
      ...(spec.reportUnsetPlaceholders ? { onUnsetPlaceholders: (line: string) => process.stderr.write(`seam: ${line}\n`) } : {}),
      ...(spec.reportOverrides === false ? { sayOverrides: false } : {}),
      ...(spec.allowedLatenessMs === undefined ? {} : { allowedLatenessMs: spec.allowedLatenessMs }),
      ...(spec.driftCheckUsers === undefined ? {} : { driftCheckUsers: spec.driftCheckUsers }),
    }),
    ...(spec.native !== undefined || graph !== undefined ? { native: { ...(spec.native === undefined ? {} : { config: spec.native }), ...(graph === undefined ? {} : { graph }) } } : {}),
  });
  return new OrderedStage(stage, spec.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS);
}

export interface ReplayOptions<A = unknown> {
  /** Files and folders, each alone or with the cluster its records are attributed to (`--cluster PATH=NAME`). */
  paths: InputPath[];
  /** Normalized events as JSONL (`-` for stdout); omitted = not written. */
  outPath?: string;
  /** Dead-letter file; every rejected record lands here with its reason. */
  dlqPath: string;
  /** Alerts as JSONL (`-` for stdout); used only with a handler. */
  alertsPath?: string;
  maxRecordBytes: number;
  cluster?: string;
  handler?: EventHandler<A>;
  onAlert?: (alert: A) => void;
  onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayProgress {
  bytesRead: number;
  bytesTotal: number;
  records: number;
  rejected: number;
}

export interface ReplaySummary {
  files: number;
  bytes: number;
  records: number;
  normalized: number;
  bySource: Partial<Record<SourceType, number>>;
  rejected: number;
  rejectedByCode: Record<string, number>;
  alerts: number;
  /**
   * Later versions of GuardDuty finding alerts already counted in `alerts` (ADR 0046), not new alerts: `updates`
   * all of them, `escalations` those whose severity level rose (printed and delivered again).
   */
  alertUpdates?: { updates: number; escalations: number };
  elapsedMs: number;
  /** Batch documents read as one record (a JSONL line holding a CloudTrail file or an audit EventList) and handed on as their records (ADR 0038). */
  batches: BatchCountsSnapshot;
  /** Normalized events the summary warns about (audit events with no cluster...). */
  notes: EventNotes;
  /**
   * Events that reached detection more than the allowed lateness behind the newest event time before them: what
   * they complete is raised late (`late: true`) or not at all (correlations, first-use detections). With rules only.
   */
  late?: { events: number; allowedLatenessMs: number };
  /**
   * Records that repeated an event already read (same `seam.id`: an organization trail and an account trail, S3 and
   * EventBridge): detection saw the event once, so its alerts are written once (review-de L6). With rules only; absent when none.
   */
  duplicates?: number;
}

/** A summary with nothing counted yet, for `files` of `bytes` in all; its batch counts are `batches`' (updated at the end). */
export function emptySummary(files: number, bytes: number, batches: BatchCounts): ReplaySummary {
  return { files, bytes, records: 0, normalized: 0, bySource: {}, rejected: 0, rejectedByCode: {}, alerts: 0, elapsedMs: 0, batches: batches.snapshot(), notes: noNotes() };
}

/**
 * Replays files through normalization (and detection when a handler is given): the embedded
 * default's input path. Never throws on bad records; they go to the dead-letter file.
 */
export async function runReplay<A>(opts: ReplayOptions<A>): Promise<ReplaySummary> {
  const started = performance.now();
  const files = await listInputFiles(opts.paths);
  const bytesTotal = files.reduce((s, f) => s + f.bytes, 0);
  const out = opts.outPath ? await JsonlSink.open(opts.outPath) : undefined;
  // Appended to, never truncated: a later replay must not erase an earlier one's dead letters (nothing is lost).
  const dlq = await JsonlSink.open(opts.dlqPath, { append: true });
  const alertsOut = opts.handler && opts.alertsPath ? await JsonlSink.open(opts.alertsPath) : undefined;
  // --out holds one line per event: a record delivered twice (same seam.id: an organization trail and the account's,
  // an audit log shipped twice) is written once, as detection sees it once (OrderedStage); with or without rules.
  const written = out ? new SeenIds() : undefined;
  const batches = new BatchCounts();
  const summary = emptySummary(files.length, bytesTotal, batches);
  let bytesRead = 0;
  const report = (): void => opts.onProgress?.({ bytesRead, bytesTotal, records: summary.records, rejected: summary.rejected });
  // Writes wait only when a sink asks to (its buffer is full): most records cost no promise at all.
  const reject = (dl: DeadLetter): Promise<void> | undefined => {
    summary.rejected++;
    summary.rejectedByCode[dl.code] = (summary.rejectedByCode[dl.code] ?? 0) + 1;
    return dlq.write(dl);
  };
  // Synchronous while the alert sink has room: a promise only when it asks the replay to wait.
  // GuardDuty finding alerts (ADR 0046): a later version is written (the last line of an id wins) and counted as an
  // update; only a rise of its severity level is handed to `onAlert` again.
  const notices = new Set<string>();
  const emitAlerts = (alerts: A[]): Promise<void> | undefined => {
    for (let i = 0; i < alerts.length; i++) {
      const a = alerts[i]!;
      if (countAlert(summary, notices, a as unknown as FindingAlertRef)) opts.onAlert?.(a);
      const w = alertsOut?.write(a);
      if (w !== undefined) return w.then(() => emitAlerts(alerts.slice(i + 1)));
    }
    return undefined;
  };

  try {
    // One array of records per read chunk: the loop below handles each record synchronously.
    const chunks = readFilesBatches(opts.paths, {
      maxRecordBytes: opts.maxRecordBytes,
      batches,
      eventTimeMs: recordTimeOf(opts.maxRecordBytes),
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      onProgress: (n) => {
        bytesRead = n;
      },
    });
    let sinceReport = 0;
    const normalizeOpts = { maxRecordBytes: opts.maxRecordBytes };
    for await (const chunk of chunks) {
      for (const item of chunk) {
        summary.records++;
        let wait: Promise<void> | undefined;
        if (item.kind === 'error') {
          wait = reject(deadLetter('read', item.error, item.raw, { origin: item.meta.origin ?? '', collector: item.meta.collector }));
        } else {
          const r = normalizeLine(item.text, item.meta, normalizeOpts);
          if (!r.ok) {
            wait = reject(deadLetter('normalize', r.error, item.text, { origin: item.meta.origin ?? '', collector: item.meta.collector }));
          } else {
            const ev = r.value;
            // A record whose content makes detection (or serialization) throw is a dead letter; the replay goes on.
            let alerts: A[] | undefined;
            let line: string | undefined;
            let failed = false;
            try {
              if (opts.handler) alerts = opts.handler.process(ev);
              // After the handler: the detect stage writes who acted onto the event (ADR 0014).
              if (out) line = JSON.stringify(ev);
            } catch (e) {
              failed = true;
              wait = reject(deadLetter('detect', stageThrew(opts.handler ? 'detect' : 'serialize', e, { id: ev.seam.id }), item.text, { origin: item.meta.origin ?? '', collector: item.meta.collector }));
            }
            if (!failed) {
              summary.normalized++;
              summary.bySource[ev.seam.source] = (summary.bySource[ev.seam.source] ?? 0) + 1;
              noteEvent(summary.notes, ev);
              if (out && line !== undefined && !written!.repeat(ev.seam.id)) {
                const w = out.writeLine(line);
                if (w !== undefined) await w;
              }
              if (alerts !== undefined && alerts.length > 0) {
                const w = emitAlerts(alerts);
                if (w !== undefined) await w;
              }
            }
          }
        }
        if (wait !== undefined) await wait;
        if (++sinceReport === 2048) {
          sinceReport = 0;
          report();
        }
      }
    }
    if (opts.handler) await emitAlerts(opts.handler.flush());
    if (opts.handler?.late !== undefined && opts.handler.latenessMs !== undefined) summary.late = { events: opts.handler.late, allowedLatenessMs: opts.handler.latenessMs };
    if (opts.handler?.duplicates !== undefined && opts.handler.duplicates > 0) summary.duplicates = opts.handler.duplicates;
    report();
  } finally {
    await Promise.all([out?.close(), dlq.close(), alertsOut?.close()]);
  }
  summary.batches = batches.snapshot();
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}
