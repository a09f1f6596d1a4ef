import type {
  Finding,
  GetFindingsCommandInput,
  GetFindingsCommandOutput,
  ListDetectorsCommandInput,
  ListDetectorsCommandOutput,
  ListFindingsCommandInput,
  ListFindingsCommandOutput,
} from '@aws-sdk/client-guardduty';
import { TOPICS } from '../../bus/topics.ts';
import type { BusMessage } from '../../bus/types.ts';
import type { RawMeta } from '../../core/envelope.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { isSeamError, SeamError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import type { Logger } from 'pino';
import { startWithRetry } from '../start-retry.ts';
import { owns } from '../checkpoint/ownership.ts';
import { rawHeaders } from '../checkpoint/raw-record.ts';
import { sleep } from '../../core/backoff.ts';
import { callAws } from '../aws/client.ts';
import { CatchUp } from '../checkpoint/catch-up.ts';
import { CheckpointSize } from '../checkpoint/checkpoint-size.ts';
import { CollectorStats } from '../checkpoint/stats.ts';
import { checkpointKey, HardStop, type CheckpointedWriter, type CheckpointStore } from '../checkpoint/store.ts';
import { ReadWindow } from '../checkpoint/window.ts';
import { digestId, type IdDigest } from '../checkpoint/digest.ts';
import type { GuardDutySourceConfig } from './config.ts';

/** The three GuardDuty calls the collector makes. */
export interface GuardDutyApi {
  listDetectors(input: ListDetectorsCommandInput): Promise<ListDetectorsCommandOutput>;
  listFindings(input: ListFindingsCommandInput): Promise<ListFindingsCommandOutput>;
  getFindings(input: GetFindingsCommandInput): Promise<GetFindingsCommandOutput>;
}

export interface GuardDutyDeps {
  guardduty: GuardDutyApi;
  store: CheckpointStore;
  writerFor(checkpointKey: string): Promise<CheckpointedWriter>;
  refresh?(): Promise<void>;
  now?: () => number;
  /** Where this collector is configured, for the lines that name a setting (default `collect.sources.<config.name>`). */
  settingsPath?: string;
  /** The logger of the checkpoint-size warning (tests read it). */
  log?: Logger;
}

/** GetFindings takes at most 50 ids. */
export const GET_FINDINGS_BATCH = 50;

interface DetectorState {
  detectorId: string;
  key: string;
  window: ReadWindow;
  writer: CheckpointedWriter;
  stopped: boolean;
  /** A write failed: before the next page, reset the writer (settles that write), then reload the checkpoint. */
  resume?: boolean;
}

const log = childLogger('source.guardduty');

/**
 * A finding's event time, as the normalizer reads it: updatedAt, else service.eventLastSeen, else createdAt
 * (src/core/normalize/guardduty.ts). Undefined when none parses.
 */
export function findingTimeMs(f: Finding): number | undefined {
  for (const t of [f.UpdatedAt, f.Service?.EventLastSeen, f.CreatedAt]) {
    const ms = t === undefined ? NaN : Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** Dedup id of one version of a finding: an update is a new version, emitted again. */
export const findingVersion = (f: Finding, tsMs?: number): string => `${f.Id ?? ''}@${f.UpdatedAt ?? (tsMs === undefined ? '' : new Date(tsMs).toISOString())}`;

/**
 * Polls GuardDuty: ListFindings with updatedAt in [watermark − lookback, now], sorted by updatedAt
 * ascending and paginated; GetFindings for each page of ids (50 at most). Each finding version
 * (id + updatedAt) is emitted once; a later update of the same finding is a new version and is
 * emitted again (the normalizer's dedup id includes updatedAt).
 */
export class GuardDutySource {
  readonly stats: CollectorStats;
  private readonly catchUp: CatchUp;
  private readonly checkpointSize: CheckpointSize;
  private detectors: DetectorState[] = [];
  private readonly now: () => number;

  constructor(
    readonly config: GuardDutySourceConfig,
    private readonly deps: GuardDutyDeps,
  ) {
    this.stats = new CollectorStats(`guardduty:${config.name}`);
    this.now = deps.now ?? Date.now;
    this.catchUp = new CatchUp(config, this.stats, log);
    this.checkpointSize = new CheckpointSize({}, this.stats, deps.log ?? log);
  }

  async start(): Promise<void> {
    let ids = this.config.detectorIds;
    if (ids === undefined) {
      ids = [];
      let nextToken: string | undefined;
      do {
        const page = await callAws('ListDetectors', () => this.deps.guardduty.listDetectors(nextToken === undefined ? {} : { NextToken: nextToken }));
        ids.push(...(page.DetectorIds ?? []));
        nextToken = page.NextToken || undefined;
      } while (nextToken !== undefined);
    }
    const own = this.config.ownership;
    const owned = ids.filter((id) => own === undefined || owns(own.replicaId, id, own.replicas));
    const keyed = owned.map((detectorId) => ({ detectorId, key: checkpointKey(this.config.name, detectorId) }));
    const created = await Promise.allSettled(keyed.map((k) => this.deps.writerFor(k.key)));
    const writers = created.flatMap((w) => (w.status === 'fulfilled' ? [w.value] : []));
    try {
      const failed = created.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      await this.deps.refresh?.();
      const initialStartMs = this.now() - this.config.initialLookbackMs;
      this.detectors = await Promise.all(
        keyed.map(async ({ detectorId, key }, i) => ({
          detectorId,
          key,
          writer: writers[i]!,
          stopped: false,
          window: new ReadWindow(await this.deps.store.load(key), { lookbackMs: this.config.lookbackMs, initialStartMs, maxWindowMs: this.config.maxPollWindowMs }),
        })),
      );
    } catch (e) {
      // A start that failed half-way leaves no writer open: the next attempt creates them again (and fences these).
      for (const w of writers) await w.close().catch(() => undefined);
      throw e;
    }
    // seam_collector_checkpoint_age_seconds (label log_group: the detector id) starts when the detector is taken.
    for (const id of owned) this.stats.checkpointed(id, this.now());
    log.info({ collector: this.config.name, detectors: owned }, 'GuardDuty collector owns its detectors.');
  }

  async pollOnce(signal?: AbortSignal): Promise<void> {
    for (const d of this.detectors) {
      if (d.stopped) continue;
      try {
        await this.pollDetector(d, signal);
      } catch (e) {
        if (e instanceof HardStop) throw e;
        const error = isSeamError(e) ? e : new SeamError('SEAM_ERR_SOURCE_API', (e as Error).message, { cause: e });
        this.stats.counters.error(error.code);
        if (error.code === 'SEAM_ERR_CHECKPOINT_FENCED') {
          // Another replica holds the detector now: its checkpoint is that replica's to age (no SeamCheckpointStale here).
          d.stopped = true;
          this.stats.checkpointAtMs.delete(d.detectorId);
        }
        // A failed commit may still land (an ambiguous timeout): the next poll first settles it, then resumes from the store.
        else d.resume = true;
        log.warn({ detectorId: d.detectorId, error }, 'Polling GuardDuty failed; it is retried on the next poll.');
      }
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.detectors.length === 0 && !(await startWithRetry(() => this.start(), { collector: this.config.name, stats: this.stats, signal }))) return;
    while (!signal.aborted) {
      await this.pollOnce(signal);
      await sleep(this.config.pollIntervalMs, signal);
    }
  }

  async close(): Promise<void> {
    for (const d of this.detectors) await d.writer.close().catch(() => undefined);
    this.detectors = [];
  }

  private async pollDetector(d: DetectorState, signal?: AbortSignal): Promise<void> {
    if (d.resume === true) {
      await d.writer.reset?.();
      await this.deps.refresh?.();
      const cp = await this.deps.store.load(d.key);
      if (cp !== undefined) d.window.adopt(cp);
      d.resume = false;
    }
    const fields = { collector: this.config.name, detectorId: d.detectorId };
    this.catchUp.bound(d.detectorId, fields, d.window, this.now());
    const { startMs, endMs } = d.window.range(this.now());
    this.catchUp.progress(d.detectorId, fields, { startMs, endMs }, this.now());
    let nextToken: string | undefined;
    do {
      const input: ListFindingsCommandInput = {
        DetectorId: d.detectorId,
        FindingCriteria: { Criterion: { updatedAt: { GreaterThanOrEqual: startMs, LessThanOrEqual: endMs } } },
        SortCriteria: { AttributeName: 'updatedAt', OrderBy: 'ASC' },
        MaxResults: GET_FINDINGS_BATCH,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      };
      const page = await callAws('ListFindings', () => this.deps.guardduty.listFindings(input));
      nextToken = page.NextToken || undefined;
      const findingIds = page.FindingIds ?? [];
      const findings: Finding[] = [];
      for (let i = 0; i < findingIds.length; i += GET_FINDINGS_BATCH) {
        const FindingIds = findingIds.slice(i, i + GET_FINDINGS_BATCH);
        const got = await callAws('GetFindings', () =>
          this.deps.guardduty.getFindings({ DetectorId: d.detectorId, FindingIds, SortCriteria: { AttributeName: 'updatedAt', OrderBy: 'ASC' } }),
        );
        findings.push(...(got.Findings ?? []));
      }
      findings.sort((a, b) => Date.parse(a.UpdatedAt ?? '') - Date.parse(b.UpdatedAt ?? ''));
      const records: BusMessage[] = [];
      const ids: { id: IdDigest; tsMs: number }[] = [];
      const receivedAt = new Date(this.now()).toISOString();
      for (const f of findings) {
        const tsMs = findingTimeMs(f);
        if (f.Id === undefined || tsMs === undefined) {
          // Nothing to key or place it by: the dead-letter topic keeps it with the reason (it is dead-lettered again
          // if a later poll's lookback reads it again: it has no version to skip it by).
          records.push(this.deadLetter(d.detectorId, f, receivedAt));
          continue;
        }
        this.stats.counters.received++;
        this.stats.sawEventAt(tsMs);
        // The window and the checkpoint keep digests of the versions (ADR 0061, amendment of session 37): compare digests.
        const version = digestId(findingVersion(f, tsMs));
        if (d.window.has(version, tsMs) || ids.some((x) => x.id === version)) {
          this.stats.duplicatesSkipped++;
          continue;
        }
        ids.push({ id: version, tsMs });
        records.push(this.record(d.detectorId, f, receivedAt, tsMs));
      }
      const cp = d.window.next(ids, nextToken === undefined ? endMs : undefined, new Date(this.now()));
      if (records.length > 0 || nextToken === undefined) {
        // Near the checkpoint topic's message limit: counted and warned about; over it, refused before anything is written.
        const size = await d.writer.size?.(d.key, cp);
        const setting = `${this.deps.settingsPath ?? `collect.sources.${this.config.name}`}.lookbackMs`;
        if (size !== undefined) this.checkpointSize.check(d.detectorId, fields, cp, size, { lookbackMs: this.config.lookbackMs, setting }, this.now());
        await d.writer.write(records, d.key, cp);
        d.window.adopt(cp);
        this.stats.checkpointed(d.detectorId, this.now());
        this.stats.emitted(ids.length, this.now());
      }
    } while (nextToken !== undefined && !signal?.aborted);
  }

  /** A finding with no id or no usable time (updatedAt, eventLastSeen, createdAt), for the dead-letter topic. */
  private deadLetter(detectorId: string, f: Finding, receivedAt: string): BusMessage {
    const missing = f.Id === undefined ? 'id' : 'updatedAt';
    const code = f.Id === undefined ? 'SEAM_ERR_NORMALIZE_SCHEMA' : 'SEAM_ERR_NORMALIZE_TIMESTAMP';
    this.stats.counters.error(code);
    const origin = `guardduty:${detectorId}/${f.Id ?? '(no id)'}`;
    const reason =
      f.Id === undefined
        ? 'GetFindings returned a finding without an id'
        : `GetFindings returned finding ${f.Id} without a usable updatedAt (${JSON.stringify(f.UpdatedAt ?? null)}), eventLastSeen or createdAt`;
    const dl = deadLetter('read', new SeamError(code, reason, { details: { origin, missing } }), JSON.stringify(f), { origin, collector: 'guardduty', at: receivedAt });
    const meta: RawMeta = { collector: 'guardduty', receivedAt, source: 'guardduty', ...(f.AccountId ? { account: f.AccountId } : {}), ...(f.Region ? { region: f.Region } : {}), origin };
    return { topic: TOPICS.dlq, key: `${detectorId}/${f.Id ?? ''}`, value: Buffer.from(JSON.stringify(dl)), headers: rawHeaders(meta) };
  }

  private record(detectorId: string, f: Finding, receivedAt: string, tsMs: number): BusMessage {
    const cluster = f.Resource?.EksClusterDetails?.Name;
    const meta: RawMeta = {
      collector: 'guardduty',
      receivedAt,
      source: 'guardduty',
      ...(cluster ? { cluster } : {}),
      ...(f.AccountId ? { account: f.AccountId } : {}),
      ...(f.Region ? { region: f.Region } : {}),
      origin: `guardduty:${detectorId}/${findingVersion(f, tsMs)}`,
    };
    // Keyed by finding, so the versions of one finding stay in order.
    return { topic: TOPICS.raw('guardduty'), key: `${detectorId}/${f.Id}`, value: Buffer.from(JSON.stringify(f)), headers: rawHeaders(meta), timestampMs: tsMs };
  }
}
