import type { FilterLogEventsCommandInput, FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import type { Finding, ListFindingsCommandInput } from '@aws-sdk/client-guardduty';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudWatchLogsSourceConfig } from '../cloudwatch-logs/config.ts';
import { CloudWatchLogsSource } from '../cloudwatch-logs/source.ts';
import { GuardDutySourceConfig } from '../guardduty/config.ts';
import { GuardDutySource } from '../guardduty/source.ts';
import { CatchUp } from './catch-up.ts';
import { CollectorStats } from './stats.ts';
import type { Checkpoint, CheckpointedWriter, CheckpointStore } from './store.ts';
import { ReadWindow } from './window.ts';

const HOUR = 3_600_000;
const MIN = 60_000;

/** A checkpoint store and writer in memory: what a writer wrote is what the store loads. */
function memoryStore(): { store: CheckpointStore; writerFor: () => Promise<CheckpointedWriter>; written: string[] } {
  const cps = new Map<string, Checkpoint>();
  const written: string[] = [];
  return {
    written,
    store: { load: (k) => Promise.resolve(cps.get(k)), save: (k, cp) => Promise.resolve(void cps.set(k, cp)), close: () => Promise.resolve() },
    writerFor: () =>
      Promise.resolve({
        write: (records, key, cp) => {
          for (const r of records) written.push(r.value.toString());
          cps.set(key, cp);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      }),
  };
}

/** FilterLogEvents over a fixed list of events, honouring startTime and endTime (both inclusive). */
function fakeLogs(events: { ts: number; id: string }[]): { filterLogEvents(i: FilterLogEventsCommandInput): Promise<FilterLogEventsCommandOutput> } {
  return {
    filterLogEvents: (i) =>
      Promise.resolve({
        $metadata: {},
        events: events
          .filter((e) => e.ts >= (i.startTime ?? 0) && e.ts <= (i.endTime ?? Infinity))
          .map((e) => ({ eventId: e.id, timestamp: e.ts, logStreamName: 'kube-apiserver-audit-0', message: JSON.stringify({ kind: 'Event', auditID: e.id }) })),
      }),
  };
}

function recordingLogger(): { log: Logger; lines: { level: string; fields: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
  return { log: { warn: at('warn'), info: at('info') } as unknown as Logger, lines };
}

describe('read window: skipBefore', () => {
  const opts = { lookbackMs: 5 * MIN, initialStartMs: 0, maxWindowMs: HOUR };
  it('moves a checkpointed window that is older than the floor so its next read starts at the floor, and says what it skipped', () => {
    const w = new ReadWindow({ v: 2, watermarkMs: 10 * HOUR, seen: { [String(10 * HOUR - MIN)]: ['old'] }, savedAt: '' }, opts);
    expect(w.skipBefore(12 * HOUR)).toEqual({ fromMs: 10 * HOUR, toMs: 12 * HOUR });
    expect(w.range(13 * HOUR)).toEqual({ startMs: 12 * HOUR, endMs: 13 * HOUR, full: true });
    expect(w.seenCount).toBe(0);
    // Within the bound: unchanged.
    expect(w.skipBefore(11 * HOUR)).toBeUndefined();
  });
  it('never moves a fresh window (no checkpoint): it starts where initialLookbackMs says', () => {
    const w = new ReadWindow(undefined, { ...opts, initialStartMs: HOUR });
    expect(w.skipBefore(5 * HOUR)).toBeUndefined();
    expect(w.range(6 * HOUR).startMs).toBe(HOUR);
  });
});

describe('catch-up after downtime', () => {
  // Events every minute over 4 hours; the collector's last checkpoint is 3 hours old.
  const now = 10 * HOUR;
  const events = Array.from({ length: 4 * 60 + 1 }, (_, i) => ({ ts: now - 4 * HOUR + i * MIN, id: `e${i}` }));
  const config = (extra: Record<string, unknown> = {}): CloudWatchLogsSourceConfig =>
    CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', name: 'audit', logGroups: [{ logGroupName: '/aws/eks/prod/cluster' }], ...extra });

  async function resume(cfg: CloudWatchLogsSourceConfig): Promise<{ source: CloudWatchLogsSource; emitted: Set<string>; polls: number }> {
    const m = memoryStore();
    const key = 'audit|/aws/eks/prod/cluster|kube-apiserver-audit-';
    await m.store.save(key, { v: 2, watermarkMs: now - 3 * HOUR, seen: {}, savedAt: '' });
    const source = new CloudWatchLogsSource(cfg, { logs: fakeLogs(events), store: m.store, writerFor: m.writerFor, now: () => now });
    await source.start();
    let polls = 0;
    do {
      await source.pollOnce();
      polls++;
    } while ((source.stats.behindMs.get('/aws/eks/prod/cluster') ?? 0) > 0 && polls < 10);
    const emitted = new Set(m.written.map((v) => (JSON.parse(v) as { auditID: string }).auditID));
    return { source, emitted, polls };
  }

  it('resumes from the checkpoint and reads all of the downtime (within maxCatchUpMs), in maxPollWindowMs chunks', async () => {
    const { source, emitted, polls } = await resume(config());
    // Everything from the checkpoint's lookback on: 3 h 5 min of events, none skipped, nothing counted as a gap.
    expect(emitted.size).toBe(events.filter((e) => e.ts >= now - 3 * HOUR - 5 * MIN).length);
    expect(polls).toBe(4);
    expect(source.stats.snapshot().gapMs).toBeUndefined();
  });

  it('skips what is older than maxCatchUpMs, counts it per log group, and reads the rest', async () => {
    const { source, emitted, polls } = await resume(config({ maxCatchUpMs: HOUR }));
    expect(emitted.size).toBe(events.filter((e) => e.ts >= now - HOUR).length);
    expect(events.filter((e) => e.ts > now - 3 * HOUR && e.ts < now - HOUR).some((e) => emitted.has(e.id))).toBe(false);
    expect(polls).toBe(1);
    const s = source.stats.snapshot();
    expect(s.gapMs).toEqual({ '/aws/eks/prod/cluster': 2 * HOUR });
    expect(s.skippedWindows).toEqual({ '/aws/eks/prod/cluster': 1 });
  });

  it('a write that fails after the skip does not count the same window twice (the reloaded checkpoint is still old)', async () => {
    const m = memoryStore();
    const key = 'audit|/aws/eks/prod/cluster|kube-apiserver-audit-';
    await m.store.save(key, { v: 2, watermarkMs: now - 3 * HOUR, seen: {}, savedAt: '' });
    let fail = true;
    const source = new CloudWatchLogsSource(config({ maxCatchUpMs: HOUR }), {
      logs: fakeLogs(events),
      store: m.store,
      writerFor: async () => {
        const w = await m.writerFor();
        return { ...w, write: (r, k, cp) => (fail ? Promise.reject(new Error('broker gone')) : w.write(r, k, cp)), reset: () => Promise.resolve() };
      },
      now: () => now,
    });
    await source.start();
    await source.pollOnce();
    fail = false;
    await source.pollOnce();
    expect(source.stats.snapshot().gapMs).toEqual({ '/aws/eks/prod/cluster': 2 * HOUR });
    expect(source.stats.snapshot().skippedWindows).toEqual({ '/aws/eks/prod/cluster': 1 });
    expect(m.written.length).toBe(events.filter((e) => e.ts >= now - HOUR).length);
  });

  it('maxCatchUpMs shorter than the lookback is refused', () => {
    expect(() => config({ maxCatchUpMs: MIN })).toThrow(/maxCatchUpMs must be at least lookbackMs/);
  });
});

describe('CatchUp log lines', () => {
  it('warns with the log group and the skipped window, reports progress while behind, and says when it caught up', () => {
    const stats = new CollectorStats('cloudwatch-logs:audit');
    const { log, lines } = recordingLogger();
    const c = new CatchUp({ maxCatchUpMs: HOUR, lookbackMs: 5 * MIN, pollIntervalMs: 5000, progressEveryMs: 30_000 }, stats, log);
    const w = new ReadWindow({ v: 2, watermarkMs: 0, seen: {}, savedAt: '' }, { lookbackMs: 5 * MIN, initialStartMs: 0, maxWindowMs: 20 * MIN });
    const fields = { logGroup: '/aws/eks/prod/cluster' };
    let t = 2 * HOUR;
    c.bound('g', fields, w, t);
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { logGroup: '/aws/eks/prod/cluster', windowStart: '1970-01-01T00:00:00.000Z', windowEnd: '1970-01-01T01:00:00.000Z', gapS: 3600 } });
    // 20-minute chunks, 10 s apart: a progress line at the first and again 30 s later (not more often), one when caught up.
    for (let i = 0; i < 5; i++) {
      const r = w.range(t);
      c.progress('g', fields, r, t);
      w.adopt(w.next([], r.endMs));
      t += 10_000;
    }
    const info = lines.filter((l) => l.level === 'info');
    expect(info.map((l) => l.msg.split(':')[0])).toEqual(['Catching up', 'Catching up', 'Caught up']);
    expect(info[0]!.fields).toMatchObject({ logGroup: '/aws/eks/prod/cluster', readFrom: '1970-01-01T01:00:00.000Z', readTo: '1970-01-01T01:20:00.000Z', behindS: 2400 });
    expect(stats.behindMs.get('g')).toBe(0);
  });
});

describe('GuardDuty catch-up', () => {
  it('resumes from the checkpoint, skips and counts what is older than maxCatchUpMs per detector', async () => {
    const now = 100 * HOUR;
    const findings: Finding[] = Array.from({ length: 48 }, (_, i) => ({ Id: `f${i}`, UpdatedAt: new Date(now - 48 * HOUR + i * HOUR).toISOString() }) as Finding);
    const m = memoryStore();
    await m.store.save('guardduty|d1', { v: 2, watermarkMs: now - 47.5 * HOUR, seen: {}, savedAt: '' });
    const gd = {
      listDetectors: () => Promise.resolve({ $metadata: {}, DetectorIds: ['d1'] }),
      listFindings: (i: ListFindingsCommandInput) => {
        const c = i.FindingCriteria?.Criterion?.updatedAt;
        const ids = findings.filter((f) => Date.parse(f.UpdatedAt!) >= Number(c?.GreaterThanOrEqual) && Date.parse(f.UpdatedAt!) <= Number(c?.LessThanOrEqual)).map((f) => f.Id!);
        return Promise.resolve({ $metadata: {}, FindingIds: ids });
      },
      getFindings: (i: { FindingIds: string[] }) => Promise.resolve({ $metadata: {}, Findings: findings.filter((f) => i.FindingIds.includes(f.Id!)) }),
    };
    const config = GuardDutySourceConfig.parse({ type: 'guardduty', maxCatchUpMs: 24 * HOUR });
    const source = new GuardDutySource(config, { guardduty: gd as never, store: m.store, writerFor: m.writerFor, now: () => now });
    await source.start();
    await source.pollOnce();
    const got = m.written.map((v) => (JSON.parse(v) as { Id: string }).Id);
    expect(got).toEqual(findings.filter((f) => Date.parse(f.UpdatedAt!) >= now - 24 * HOUR).map((f) => f.Id));
    expect(source.stats.snapshot().gapMs).toEqual({ d1: 23.5 * HOUR });
    // Its checkpoint age is exported too (SeamCheckpointStale covers GuardDuty): saved at `now`.
    expect(source.stats.snapshot(now + 5000).checkpointAgeMs).toEqual({ d1: 5000 });
  });
});
