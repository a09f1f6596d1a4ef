import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { isSeamError } from '../../core/errors.ts';
import { CheckpointSize } from './checkpoint-size.ts';
import { digestId } from './digest.ts';
import { CollectorStats } from './stats.ts';
import type { Checkpoint } from './store.ts';

const MIN = 60_000;
const GROUP = '/aws/cloudtrail/org';
const SETTING = 'collect.sources.trail.lookbackMs';
const cp: Checkpoint = { v: 2, watermarkMs: 0, seen: { '1': [digestId('a'), digestId('b')], '2': [digestId('c')] }, savedAt: '' };
const limitBytes = 1000;

function recordingLogger(): { log: Logger; warnings: { fields: Record<string, unknown>; msg: string }[] } {
  const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
  return { log: { warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ fields, msg }) } as unknown as Logger, warnings };
}

describe('checkpoint size guard', () => {
  it('keeps the size; above 80 % of the limit counts every write and warns at most every 10 min per unit, naming the setting', () => {
    const stats = new CollectorStats('cloudwatch-logs:trail');
    const { log, warnings } = recordingLogger();
    const guard = new CheckpointSize({}, stats, log);
    const o = { lookbackMs: 15 * MIN, setting: SETTING };
    guard.check(GROUP, { logGroup: GROUP }, cp, { bytes: 800, limitBytes }, o, 0);
    expect(stats.snapshot()).toMatchObject({ checkpointBytes: { [GROUP]: 800 } });
    expect(stats.snapshot().checkpointNearLimit).toBeUndefined();
    expect(warnings).toHaveLength(0);

    guard.check(GROUP, { logGroup: GROUP }, cp, { bytes: 801, limitBytes }, o, 1 * MIN);
    guard.check(GROUP, { logGroup: GROUP }, cp, { bytes: 900, limitBytes }, o, 5 * MIN);
    expect(stats.snapshot()).toMatchObject({ checkpointBytes: { [GROUP]: 900 }, checkpointNearLimit: { [GROUP]: 2 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(
      `The checkpoint of ${GROUP} takes 801 bytes (3 ids seen in the 900 s lookback), 80 % of the checkpoint topic's max.message.bytes (1000): over it the collector stops reading ${GROUP}. Lower ${SETTING} (counted in seam_collector_checkpoint_near_limit_total).`,
    );
    expect(warnings[0]!.fields).toMatchObject({ logGroup: GROUP, checkpointBytes: 801, limitBytes, seen: 3, setting: SETTING });
    // Another unit warns on its own; the first again only 10 min after its last line.
    guard.check('other', { logGroup: 'other' }, cp, { bytes: 999, limitBytes }, o, 6 * MIN);
    guard.check(GROUP, { logGroup: GROUP }, cp, { bytes: 950, limitBytes }, o, 11 * MIN);
    expect(warnings.map((w) => w.fields.logGroup)).toEqual([GROUP, 'other', GROUP]);
  });

  it('refuses a checkpoint over the limit with SEAM_ERR_CHECKPOINT_TOO_LARGE naming the unit and the setting', () => {
    const stats = new CollectorStats('guardduty:gd');
    const guard = new CheckpointSize({}, stats, recordingLogger().log);
    let thrown: unknown;
    try {
      guard.check('d1', { detectorId: 'd1' }, cp, { bytes: 1001, limitBytes }, { lookbackMs: 5 * MIN, setting: 'collect.sources.gd.lookbackMs' }, 0);
    } catch (e) {
      thrown = e;
    }
    expect(isSeamError(thrown)).toBe(true);
    if (!isSeamError(thrown)) return;
    expect(thrown.code).toBe('SEAM_ERR_CHECKPOINT_TOO_LARGE');
    expect(thrown.retriable).toBe(false);
    expect(thrown.message).toContain("takes 1001 bytes (3 ids seen in the 300 s lookback), over the checkpoint topic's max.message.bytes of 1000");
    expect(thrown.message).toContain('Lower collect.sources.gd.lookbackMs.');
    expect(thrown.details).toMatchObject({ detectorId: 'd1', bytes: 1001, limitBytes, setting: 'collect.sources.gd.lookbackMs' });
    expect(stats.snapshot().checkpointNearLimit).toBeUndefined();
  });
});
