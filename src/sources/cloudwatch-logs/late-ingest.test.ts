import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { CollectorStats } from '../checkpoint/stats.ts';
import { CloudWatchLogsSourceConfig, lookbackOf } from './config.ts';
import { LateIngest } from './late-ingest.ts';

const MIN = 60_000;
const GROUP = 'aws-cloudtrail-logs-111122223333';

function recordingLogger(): { log: Logger; lines: { fields: Record<string, unknown>; msg: string }[] } {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  return { log: { warn: (fields: Record<string, unknown>, msg: string) => void lines.push({ fields, msg }) } as unknown as Logger, lines };
}

describe('late-ingested events (ADR 0061)', () => {
  it('counts the events the lookback caught and those near it, and warns at most every 10 min per log group with the largest delay and the setting', () => {
    const stats = new CollectorStats('cloudwatch-logs:trail');
    const { log, lines } = recordingLogger();
    const late = new LateIngest({}, stats, log);
    const setting = 'collect.sources.trail.lookbackMs';
    const lookbackMs = 5 * MIN;
    const fields = { collector: 'trail', logGroup: GROUP };
    // Up to 4 min late (80 % of 5 min): measured and counted as caught by the lookback, no warning.
    late.page(GROUP, fields, { delaysMs: [1_000, 3 * MIN, 4 * MIN], late: 2, lookbackMs, setting }, 0);
    expect(lines).toEqual([]);
    expect(stats.snapshot()).toMatchObject({ lateIngested: { [GROUP]: 2 }, maxIngestDelayMs: { [GROUP]: 4 * MIN } });
    expect(stats.snapshot().nearLookback).toBeUndefined();
    // 4 min 30 s late: near the lookback, warned at once.
    late.page(GROUP, fields, { delaysMs: [4.5 * MIN], late: 1, lookbackMs, setting }, 1 * MIN);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({ logGroup: GROUP, maxIngestDelayS: 270, lookbackMs: 300_000, setting: 'collect.sources.trail.lookbackMs', events: 1 });
    expect(lines[0]!.msg).toContain('up to 270 s after their own time, near the lookback of 300 s');
    expect(lines[0]!.msg).toContain('Raise collect.sources.trail.lookbackMs');
    // Within 10 min: counted, not warned again; the next warning names the largest delay since the last one.
    late.page(GROUP, fields, { delaysMs: [4.9 * MIN, 4.2 * MIN], late: 2, lookbackMs, setting }, 5 * MIN);
    late.page(GROUP, fields, { delaysMs: [4.1 * MIN], late: 1, lookbackMs, setting }, 10 * MIN);
    expect(lines).toHaveLength(1);
    late.page(GROUP, fields, { delaysMs: [4.3 * MIN], late: 1, lookbackMs, setting }, 11 * MIN);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).toMatchObject({ maxIngestDelayS: 294, events: 4 });
    // Another log group has its own 10 minutes.
    late.page('other', { ...fields, logGroup: 'other' }, { delaysMs: [4.5 * MIN], late: 1, lookbackMs, setting }, 12 * MIN);
    expect(lines).toHaveLength(3);
    expect(stats.snapshot()).toMatchObject({ lateIngested: { [GROUP]: 7, other: 1 }, nearLookback: { [GROUP]: 5, other: 1 } });
    expect(stats.ingestDelay.get(GROUP)?.count).toBe(8);
    // Later than the lookback, read by a read behind now (a first start, a catch-up): said as such.
    late.page(GROUP, fields, { delaysMs: [40 * MIN], late: 0, lookbackMs, setting }, 30 * MIN);
    expect(lines[3]!.msg).toContain('up to 2400 s after their own time, more than the lookback of 300 s (read only because this read was behind now');
  });
});

describe('lookback defaults (ADR 0061, decision 3)', () => {
  const parse = (o: Record<string, unknown>): CloudWatchLogsSourceConfig =>
    CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', logGroups: [{ logGroupName: '/aws/eks/prod/cluster' }, { logGroupName: 'aws-cloudtrail-logs-111122223333' }, { logGroupName: 'trail', source: 'cloudtrail' }], ...o });
  const lookbacks = (c: CloudWatchLogsSourceConfig): number[] => c.logGroups.map((g) => lookbackOf(c, g));

  it('CloudTrail groups (by source or name) re-read 15 min, the others 5 min; a collector lookbackMs applies to all, a group\'s own wins', () => {
    expect(lookbacks(parse({}))).toEqual([5 * MIN, 15 * MIN, 15 * MIN]);
    expect(lookbacks(parse({ lookbackMs: 10 * MIN }))).toEqual([10 * MIN, 10 * MIN, 10 * MIN]);
    const own = parse({ logGroups: [{ logGroupName: '/aws/eks/prod/cluster', lookbackMs: 2 * MIN }, { logGroupName: 'aws-cloudtrail-logs-111122223333', lookbackMs: 30 * MIN }] });
    expect(lookbacks(own)).toEqual([2 * MIN, 30 * MIN]);
  });

  it('maxCatchUpMs must cover every group\'s lookback, the CloudTrail default included', () => {
    expect(() => parse({ maxCatchUpMs: 10 * MIN })).toThrow(/maxCatchUpMs must be at least lookbackMs \(of every log group: 15 min for CloudTrail groups by default\)/);
    expect(() => CloudWatchLogsSourceConfig.parse({ type: 'cloudwatch-logs', logGroups: [{ logGroupName: '/aws/eks/prod/cluster' }], maxCatchUpMs: 10 * MIN })).not.toThrow();
  });
});
