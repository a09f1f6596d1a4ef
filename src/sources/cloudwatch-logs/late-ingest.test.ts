import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { CollectorStats } from '../checkpoint/stats.ts';
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
    const late = new LateIngest({ lookbackMs: 5 * MIN, settingsPath: 'collect.sources.trail' }, stats, log);
    const fields = { collector: 'trail', logGroup: GROUP };
    // Up to 4 min late (80 % of 5 min): measured and counted as caught by the lookback, no warning.
    late.page(GROUP, fields, { delaysMs: [1_000, 3 * MIN, 4 * MIN], late: 2 }, 0);
    expect(lines).toEqual([]);
    expect(stats.snapshot()).toMatchObject({ lateIngested: { [GROUP]: 2 }, maxIngestDelayMs: { [GROUP]: 4 * MIN } });
    expect(stats.snapshot().nearLookback).toBeUndefined();
    // 4 min 30 s late: near the lookback, warned at once.
    late.page(GROUP, fields, { delaysMs: [4.5 * MIN], late: 1 }, 1 * MIN);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({ logGroup: GROUP, maxIngestDelayS: 270, lookbackMs: 300_000, setting: 'collect.sources.trail.lookbackMs', events: 1 });
    expect(lines[0]!.msg).toContain('up to 270 s after their own time, near the lookback of 300 s');
    expect(lines[0]!.msg).toContain('Raise collect.sources.trail.lookbackMs');
    // Within 10 min: counted, not warned again; the next warning names the largest delay since the last one.
    late.page(GROUP, fields, { delaysMs: [4.9 * MIN, 4.2 * MIN], late: 2 }, 5 * MIN);
    late.page(GROUP, fields, { delaysMs: [4.1 * MIN], late: 1 }, 10 * MIN);
    expect(lines).toHaveLength(1);
    late.page(GROUP, fields, { delaysMs: [4.3 * MIN], late: 1 }, 11 * MIN);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields).toMatchObject({ maxIngestDelayS: 294, events: 4 });
    // Another log group has its own 10 minutes.
    late.page('other', { ...fields, logGroup: 'other' }, { delaysMs: [4.5 * MIN], late: 1 }, 12 * MIN);
    expect(lines).toHaveLength(3);
    expect(stats.snapshot()).toMatchObject({ lateIngested: { [GROUP]: 7, other: 1 }, nearLookback: { [GROUP]: 5, other: 1 } });
    expect(stats.ingestDelay.get(GROUP)?.count).toBe(8);
    // Later than the lookback, read by a read behind now (a first start, a catch-up): said as such.
    late.page(GROUP, fields, { delaysMs: [40 * MIN], late: 0 }, 30 * MIN);
    expect(lines[3]!.msg).toContain('up to 2400 s after their own time, more than the lookback of 300 s (read only because this read was behind now');
  });
});
