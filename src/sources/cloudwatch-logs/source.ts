import type { DescribeLogGroupsCommandInput, DescribeLogGroupsCommandOutput, FilterLogEventsCommandInput, FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { TOPICS } from '../../bus/topics.ts';
import type { BusMessage } from '../../bus/types.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import type { RawMeta } from '../../core/envelope.ts';
import { isSeamError, SeamError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import type { Logger } from 'pino';
import type { Membership } from '../checkpoint/lease.ts';
import { owns } from '../checkpoint/ownership.ts';
import { rawHeaders } from '../checkpoint/raw-record.ts';
import { sleep } from '../../core/backoff.ts';
import { startWithRetry } from '../start-retry.ts';
import { callAws } from '../aws/client.ts';
import { CatchUp } from '../checkpoint/catch-up.ts';
import { CheckpointSize } from '../checkpoint/checkpoint-size.ts';
import { CollectorStats } from '../checkpoint/stats.ts';
import { checkpointKey, HardStop, type CheckpointedWriter, type CheckpointStore } from '../checkpoint/store.ts';
import { ReadWindow } from '../checkpoint/window.ts';
import { digestId, type IdDigest } from '../checkpoint/digest.ts';
import { lookbackOf, readingAccount, type CloudWatchLogsSourceConfig } from './config.ts';
import { LateIngest } from './late-ingest.ts';
import { detectSource, eventOrigin, isTruncated, resolveGroup, streamKey, type ResolvedGroup } from './parse.ts';

/**
 * The CloudWatch Logs calls the collector makes (a real client, or one pointed at moto): FilterLogEvents to
 * read, and DescribeLogGroups once per group whose account the configuration does not name (optional: a
 * client without it leaves such groups without an account).
 */
export interface FilterLogEventsApi {
  filterLogEvents(input: FilterLogEventsCommandInput): Promise<FilterLogEventsCommandOutput>;
  describeLogGroups?(input: DescribeLogGroupsCommandInput): Promise<DescribeLogGroupsCommandOutput>;
}

/** The account id in a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]). */
export function accountOfLogGroupArn(arn: string | undefined): string | undefined {
  const m = /^arn:aws[a-z-]*:logs:[^:]*:(\d{12}):log-group:/.exec(arn ?? '');
  return m?.[1];
}

export interface CloudWatchLogsDeps {
  /** The client for groups read with the pod's own credentials (and for every group without `logsFor`). */
  logs: FilterLogEventsApi;
  /** The client per group: one per `roleArn` (cloudWatchLogsClients in clients.ts); `logs` when absent. */
  logsFor?(group: ResolvedGroup): FilterLogEventsApi;
  store: CheckpointStore;
  /** A writer per checkpoint key (Kafka: one transactional producer each, which fences zombies). */
  writerFor(checkpointKey: string): Promise<CheckpointedWriter>;
  /** Re-read checkpoints after writers are created (Kafka: sees what fenced zombies committed). */
  refresh?(): Promise<void>;
  /** Live replicas, when ownership follows a lease instead of a static list. */
  membership?: Membership;
  now?: () => number;
  /** Where this collector is configured, for the lines that name a setting (default `collect.sources.<config.name>`). */
  settingsPath?: string;
  /** The logger of the late-ingest warning (tests read it). */
  log?: Logger;
}

interface GroupState {
  group: ResolvedGroup;
  key: string;
  window: ReadWindow;
  writer: CheckpointedWriter;
  stopped: boolean;
  /** A write failed: before the next page, reset the writer (settles that write), then reload the checkpoint. */
  resume?: boolean;
  stoppedAtMs?: number;
}

const log = childLogger('source.cloudwatch-logs');

/** How long after a transient DescribeLogGroups failure a group's account is looked up again. */
const ACCOUNT_RETRY_MS = 5 * 60_000;

/**
 * Reads log groups with FilterLogEvents, each poll covering [watermark − lookback, now]; events whose
 * id is already in the checkpoint are skipped, so late arrivals are caught and nothing is emitted
 * twice. Each page's records and the checkpoint covering them are written together (after the
 * records are durable). Truncated messages are kept, flagged and counted. DESIGN.md lists what
 * Falco's reader gets wrong; each of those is a test in test/collectors/.
 */
export class CloudWatchLogsSource {
  readonly stats: CollectorStats;
  private readonly catchUp: CatchUp;
  private readonly lateIngest: LateIngest;
  private readonly checkpointSize: CheckpointSize;
  private groups: GroupState[] = [];
  private joined = false;
  private announced = false;
  /** Accounts learned from DescribeLogGroups, by group name (null: a definite none: not listed, or refused). */
  private readonly accounts = new Map<string, string | null>();
  /** Groups whose lookup failed transiently: when it may be tried again. */
  private readonly accountRetryAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    readonly config: CloudWatchLogsSourceConfig,
    private readonly deps: CloudWatchLogsDeps,
  ) {
    this.stats = new CollectorStats(`cloudwatch-logs:${config.name}`);
    this.now = deps.now ?? Date.now;
    // The progress lines' "behind" threshold: the longest lookback of the groups (each poll re-reads that much anyway).
    this.catchUp = new CatchUp({ ...config, lookbackMs: Math.max(...config.logGroups.map((g) => lookbackOf(config, g))) }, this.stats, log);
    this.lateIngest = new LateIngest({}, this.stats, deps.log ?? log);
    this.checkpointSize = new CheckpointSize({}, this.stats, deps.log ?? log);
  }

  /** Log groups this replica owns (all of them without an ownership config): over the static list, or the live replicas with a lease. */
  ownedGroups(): ResolvedGroup[] {
    const own = this.config.ownership;
    const replicas = own === undefined ? [] : (this.deps.membership?.live() ?? own.replicas ?? [own.replicaId]);
    return this.config.logGroups.map(resolveGroup).filter((g) => own === undefined || owns(own.replicaId, unitOf(g), replicas));
  }

  /** Topics this collector may write to, for creating them up front. */
  topics(): string[] {
    const fixed = this.config.logGroups.map(resolveGroup).map((g) => g.source);
    const all = fixed.some((s) => s === undefined) ? (['k8s_audit', 'cloudtrail', 'guardduty', 'runtime'] as const) : fixed;
    return [...new Set(all.filter((s) => s !== undefined).map((s) => TOPICS.raw(s)))];
  }

  async start(): Promise<void> {
    if (this.deps.membership !== undefined && !this.joined) {
      await this.deps.membership.start();
      this.joined = true;
    }
    await this.rebalance();
  }

  /**
   * Takes the log groups this replica owns now and lets go of the others (with a lease, ownership follows
   * the live replicas; with a static list it never changes after start). A group taken is fenced first —
   * its writer created, which aborts or settles the previous owner's transaction — and only then is its
   * checkpoint read. A group let go is closed; if its new owner fenced it first, its commit already failed.
   */
  async rebalance(): Promise<void> {
    const now = this.now();
    const owned = this.ownedGroups();
    const want = new Set(owned.map(unitOf));
    const keep: GroupState[] = [];
    const released: string[] = [];
    for (const g of this.groups) {
      const unit = unitOf(g.group);
      // A group fenced while this replica still thinks it owns it: another replica's view differs; retry after a ttl, not at once.
      const retake = g.stopped && want.has(unit) && this.deps.membership !== undefined && now - (g.stoppedAtMs ?? 0) >= (this.config.ownership?.lease?.ttlMs ?? 0);
      if (want.has(unit) && !retake) keep.push(g);
      else {
        await g.writer.close().catch(() => undefined);
        released.push(labelOf(g.group));
      }
    }
    for (const name of released) {
      this.stats.checkpointAtMs.delete(name);
      this.stats.checkpointBytes.delete(name);
      this.catchUp.forget(name);
      this.lateIngest.forget(name);
      this.checkpointSize.forget(name);
    }
    const have = new Set(keep.map((g) => unitOf(g.group)));
    const added = owned.filter((g) => !have.has(unitOf(g)));
    if (added.length > 0) {
      await this.learnAccounts(added);
      const keyed = added.map((group) => ({ group, key: groupCheckpointKey(this.config.name, group) }));
      // Writers first: on Kafka creating one fences a previous owner, and only then is its checkpoint final.
      const writers = await Promise.allSettled(keyed.map((k) => this.deps.writerFor(k.key)));
      const failed = writers.find((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed !== undefined) {
        for (const w of writers) if (w.status === 'fulfilled') await w.value.close().catch(() => undefined);
        this.groups = keep;
        throw failed.reason;
      }
      await this.deps.refresh?.();
      const start = this.now() - this.config.initialLookbackMs;
      const taken = await Promise.all(
        keyed.map(async ({ group, key }, i) => ({
          group,
          key,
          writer: (writers[i] as PromiseFulfilledResult<CheckpointedWriter>).value,
          stopped: false,
          window: new ReadWindow(await this.deps.store.load(key), {
            lookbackMs: lookbackOf(this.config, group),
            initialStartMs: start,
            maxWindowMs: this.config.maxPollWindowMs,
            recentLookbackMs: this.config.recentLookbackMs,
            fullLookbackEveryMs: this.config.fullLookbackEveryMs,
          }),
        })),
      );
      keep.push(...taken);
      for (const g of added) this.stats.checkpointed(labelOf(g), this.now());
    }
    this.groups = keep;
    if (added.length > 0 || released.length > 0 || !this.announced) {
      this.announced = true;
      log.info(
        { collector: this.config.name, owned: keep.map((g) => labelOf(g.group)), taken: added.map(labelOf), released, replicas: this.deps.membership?.live() },
        'CloudWatch Logs collector owns its log groups.',
      );
    }
  }

  /**
   * Fills the account of groups the configuration names none for, from the group's ARN (DescribeLogGroups).
   * Every record then carries its account, and the normalize role keys a cluster's signals by it: without
   * it a cluster's service-account requests (which name no account) and its nodes' and IAM users' requests
   * (whose ARNs do) were keyed apart and could reach different correlate instances (ADR 0037 addendum).
   * An answer is kept for the life of the process: the account, or a definite "none" (the group is not listed,
   * or the call is refused, e.g. no logs:DescribeLogGroups permission: warned about once). A transient failure
   * (throttling, network) is not kept: the lookup is tried again before a poll, at most every
   * ACCOUNT_RETRY_MS, and until then the group is read without an account, as before.
   */
  private async learnAccounts(groups: ResolvedGroup[]): Promise<void> {
    for (const g of groups) {
      if (g.account !== undefined) continue;
      const logs = this.logsOf(g);
      const describe = logs.describeLogGroups?.bind(logs);
      if (describe === undefined) continue;
      if (!this.accounts.has(g.logGroupName) && (this.accountRetryAt.get(g.logGroupName) ?? 0) <= this.now()) {
        try {
          const out = await callAws('DescribeLogGroups', () => describe({ logGroupNamePrefix: g.logGroupName, limit: 50 }));
          const found = (out.logGroups ?? []).find((x) => x.logGroupName === g.logGroupName);
          const account = accountOfLogGroupArn(found?.logGroupArn ?? found?.arn);
          this.accounts.set(g.logGroupName, account ?? null);
          if (account === undefined) {
            log.warn({ logGroup: g.logGroupName }, 'DescribeLogGroups does not list the group with an ARN: its records carry no account unless `account` is set on the group.');
          }
        } catch (error) {
          const code = isSeamError(error) ? error.code : 'SEAM_ERR_SOURCE_API';
          this.stats.counters.error(code);
          // Only a refusal is final (no permission, no such group); anything else (throttling, an expired or
          // not yet available web-identity token, the network) is tried again later.
          const cause = (isSeamError(error) ? error.cause : error) as { name?: string } | undefined;
          const refused = code !== 'SEAM_ERR_SOURCE_THROTTLED' && /AccessDenied|Unauthorized|NotAuthorized|ResourceNotFound/.test(cause?.name ?? '');
          if (!refused) {
            this.accountRetryAt.set(g.logGroupName, this.now() + ACCOUNT_RETRY_MS);
            log.warn({ logGroup: g.logGroupName, error }, 'DescribeLogGroups failed for now: the group is read without an account until a later lookup succeeds.');
          } else {
            this.accounts.set(g.logGroupName, null);
            log.warn({ logGroup: g.logGroupName, error }, 'DescribeLogGroups was refused: the group is read without an account. Set `account` on the log group, or allow logs:DescribeLogGroups.');
          }
        }
      }
      const account = this.accounts.get(g.logGroupName);
      if (account) g.account = account;
    }
  }

  /** One poll of every owned group; a group's failure is counted and retried next poll. */
  async pollOnce(signal?: AbortSignal): Promise<void> {
    // Groups whose account lookup failed transiently try again (learnAccounts keeps to ACCOUNT_RETRY_MS).
    const unknown = this.groups.filter((g) => !g.stopped && g.group.account === undefined && !this.accounts.has(g.group.logGroupName));
    if (unknown.length > 0) await this.learnAccounts(unknown.map((g) => g.group));
    await Promise.all(
      this.groups
        .filter((g) => !g.stopped)
        .map(async (g) => {
          try {
            await this.pollGroup(g, signal);
          } catch (e) {
            if (e instanceof HardStop) throw e;
            const error = isSeamError(e) ? e : new SeamError('SEAM_ERR_SOURCE_API', (e as Error).message, { cause: e });
            this.stats.counters.error(error.code);
            if (error.code === 'SEAM_ERR_CHECKPOINT_FENCED') {
              g.stopped = true;
              g.stoppedAtMs = this.now();
              log.warn({ logGroup: labelOf(g.group), error }, 'Another replica took this log group over; this one stops reading it.');
            } else {
              log.warn({ logGroup: labelOf(g.group), error }, 'Polling a log group failed; it is retried on the next poll.');
              // A failed commit may still land (an ambiguous timeout): the next poll first settles it, then resumes from what the store holds.
              g.resume = true;
            }
          }
        }),
    );
  }

  /** How late an event can be ingested and still be read for sure: the lookback, less a full re-read's period and a poll with the two-tier re-read. */
  private marginOf(group: ResolvedGroup): number {
    const lookbackMs = lookbackOf(this.config, group);
    if (this.config.recentLookbackMs >= lookbackMs) return lookbackMs;
    return Math.max(this.config.recentLookbackMs, lookbackMs - this.config.fullLookbackEveryMs - this.config.pollIntervalMs);
  }

  /** The setting that sets a group's lookback: its own `logGroups[i].lookbackMs`, else the collector's. */
  private lookbackSetting(group: ResolvedGroup): string {
    const at = this.deps.settingsPath ?? `collect.sources.${this.config.name}`;
    if (group.lookbackMs === undefined) return `${at}.lookbackMs`;
    const i = this.config.logGroups.findIndex((c) => unitOf(resolveGroup(c)) === unitOf(group));
    return `${at}.logGroups[${i}].lookbackMs`;
  }

  private logsOf(group: ResolvedGroup): FilterLogEventsApi {
    return this.deps.logsFor?.(group) ?? this.deps.logs;
  }

  private async reload(g: GroupState): Promise<void> {
    await this.deps.refresh?.();
    const cp = await this.deps.store.load(g.key);
    if (cp !== undefined) g.window.adopt(cp);
  }

  /** Polls until the signal aborts; with a lease, ownership is re-read before every poll. */
  async run(signal: AbortSignal): Promise<void> {
    if (!this.joined && this.groups.length === 0 && !(await startWithRetry(() => this.start(), { collector: this.config.name, stats: this.stats, signal }))) return;
    while (!signal.aborted) {
      if (this.deps.membership !== undefined) {
        await this.rebalance().catch((error: unknown) => {
          this.stats.counters.error('SEAM_ERR_CHECKPOINT_LOAD');
          log.warn({ error }, 'Taking over log groups failed; it is tried again before the next poll.');
        });
      }
      await this.pollOnce(signal);
      await sleep(this.config.pollIntervalMs, signal);
    }
  }

  async close(): Promise<void> {
    for (const g of this.groups) await g.writer.close().catch(() => undefined);
    this.groups = [];
    if (this.joined) await this.deps.membership?.stop();
    this.joined = false;
  }

  private async pollGroup(g: GroupState, signal?: AbortSignal): Promise<void> {
    if (g.resume === true) {
      await g.writer.reset?.();
      await this.reload(g);
      g.resume = false;
    }
    const label = labelOf(g.group);
    const fields = { collector: this.config.name, logGroup: label };
    this.catchUp.bound(label, fields, g.window, this.now());
    const polledAt = this.now();
    const range = g.window.range(polledAt);
    const { startMs, endMs } = range;
    this.catchUp.progress(label, fields, { startMs, endMs }, this.now());
    const { logGroupName, logStreamNamePrefix } = g.group;
    // The previous poll's end: an event at or before it that is emitted now was ingested after that poll read past it.
    const previousEndMs = g.window.isFresh ? undefined : g.window.watermarkMs;
    let nextToken: string | undefined;
    do {
      const input: FilterLogEventsCommandInput = {
        logGroupName,
        startTime: startMs,
        endTime: endMs,
        limit: this.config.pageLimit,
        ...(logStreamNamePrefix === undefined ? {} : { logStreamNamePrefix }),
        ...(nextToken === undefined ? {} : { nextToken }),
      };
      const logs = this.logsOf(g.group);
      const page = await callAws('FilterLogEvents', () => logs.filterLogEvents(input));
      nextToken = page.nextToken ?? undefined;
      const records: BusMessage[] = [];
      const ids: { id: IdDigest; tsMs: number }[] = [];
      // Ingestion delays of the events emitted, counted once the page is durable (a failed write reads them again).
      const delays: number[] = [];
      let late = 0;
      const pageIds = new Set<IdDigest>();
      const receivedAt = new Date(this.now()).toISOString();
      for (const e of page.events ?? []) {
        const stream = e.logStreamName ?? '';
        // Some emulators ignore logStreamNamePrefix; filtering here too costs nothing on AWS.
        if (logStreamNamePrefix !== undefined && !stream.startsWith(logStreamNamePrefix)) continue;
        if (e.eventId === undefined || e.timestamp === undefined || e.message === undefined) continue;
        this.stats.counters.received++;
        this.stats.sawEventAt(e.timestamp);
        // The window and the checkpoint keep digests of the ids (ADR 0061, amendment of session 37): compare digests.
        const id = digestId(e.eventId);
        if (g.window.has(id, e.timestamp) || pageIds.has(id)) {
          this.stats.duplicatesSkipped++;
          continue;
        }
        ids.push({ id, tsMs: e.timestamp });
        pageIds.add(id);
        if (e.ingestionTime !== undefined) delays.push(e.ingestionTime - e.timestamp);
        if (previousEndMs !== undefined && e.timestamp <= previousEndMs) late++;
        records.push(this.record(g.group, stream, e.eventId, e.timestamp, e.message, receivedAt));
      }
      // The watermark moves only with the last page: until then the ids carry the progress.
      const cp = g.window.next(ids, nextToken === undefined ? endMs : undefined, new Date(this.now()));
      if (records.length > 0 || nextToken === undefined) {
        // Near the checkpoint topic's message limit: counted and warned about; over it, refused before anything is written.
        const size = await g.writer.size?.(g.key, cp);
        if (size !== undefined) this.checkpointSize.check(label, fields, cp, size, { lookbackMs: lookbackOf(this.config, g.group), setting: this.lookbackSetting(g.group) }, this.now());
        await g.writer.write(records, g.key, cp);
        g.window.adopt(cp);
        if (nextToken === undefined) g.window.completed(range, polledAt);
        this.lateIngest.page(label, fields, { delaysMs: delays, late, lookbackMs: lookbackOf(this.config, g.group), marginMs: this.marginOf(g.group), setting: this.lookbackSetting(g.group) }, this.now());
        this.stats.checkpointed(labelOf(g.group), this.now());
        this.stats.emitted(records.length, this.now());
      }
    } while (nextToken !== undefined && !signal?.aborted);
  }

  private record(group: ResolvedGroup, stream: string, eventId: string, tsMs: number, message: string, receivedAt: string): BusMessage {
    const truncated = isTruncated(message, this.config.truncationThresholdBytes);
    if (truncated) {
      this.stats.truncated++;
      this.stats.counters.error('SEAM_ERR_INPUT_TRUNCATED');
    }
    const origin = eventOrigin(group.logGroupName, stream, eventId);
    const source = group.source ?? (truncated ? undefined : detectSource(message));
    const meta: RawMeta = {
      collector: 'cloudwatch-logs',
      receivedAt,
      ...(source === undefined ? {} : { source }),
      ...(group.cluster === undefined ? {} : { cluster: group.cluster }),
      ...(group.account === undefined ? {} : { account: group.account }),
      ...(this.config.region === undefined ? {} : { region: this.config.region }),
      origin,
      ...(truncated ? { truncated: true } : {}),
    };
    const key = streamKey(group.logGroupName, stream);
    if (source === undefined) {
      // Neither the group nor the record says which source it is: keep it, with the reason, in the DLQ.
      const code = truncated ? 'SEAM_ERR_INPUT_TRUNCATED' : 'SEAM_ERR_INPUT_UNKNOWN_FORMAT';
      this.stats.counters.error(code);
      const dl = deadLetter('read', new SeamError(code, truncated ? 'record was truncated by CloudWatch Logs and its group names no source' : 'record matches no known source format', { details: { origin } }), message, {
        origin,
        collector: 'cloudwatch-logs',
      });
      return { topic: TOPICS.dlq, key, value: Buffer.from(JSON.stringify(dl)), headers: rawHeaders(meta), timestampMs: tsMs };
    }
    return { topic: TOPICS.raw(source), key, value: Buffer.from(message, 'utf8'), headers: rawHeaders(meta), timestampMs: tsMs };
  }
}

/** The unit of ownership: a log group and stream prefix (and, for a group read through a role, the role's account). */
export function unitOf(g: ResolvedGroup): string {
  const unit = `${g.logGroupName}|${g.logStreamNamePrefix ?? ''}`;
  return g.roleArn === undefined ? unit : `${readingAccount(g)}|${unit}`;
}

/** A group's checkpoint key; a group read through a role adds the role's account, so two accounts' same-named groups keep apart (keys of other groups are unchanged). */
export function groupCheckpointKey(collector: string, g: ResolvedGroup): string {
  return checkpointKey(collector, g.logGroupName, g.logStreamNamePrefix, g.roleArn === undefined ? undefined : `account=${readingAccount(g)}`);
}

/** How logs and stats name a group: `<account>:<name>` when read through a role, else its name. */
export function labelOf(g: ResolvedGroup): string {
  return g.roleArn === undefined ? g.logGroupName : `${readingAccount(g)}:${g.logGroupName}`;
}
