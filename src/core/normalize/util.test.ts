import { describe, expect, it } from 'vitest';
import { arnAccount, canonicalJson, EPOCH_MS_MIN, isoTime } from './util.ts';

describe('isoTime', () => {
  it('keeps millisecond UTC times and cuts finer fractions', () => {
    expect(isoTime('2024-11-05T14:09:12Z')).toBe('2024-11-05T14:09:12Z');
    expect(isoTime('2024-11-05T14:09:12.5Z')).toBe('2024-11-05T14:09:12.5Z');
    expect(isoTime('2024-11-05T14:09:12.123Z')).toBe('2024-11-05T14:09:12.123Z');
    expect(isoTime('2024-11-05T14:09:12.123456Z')).toBe('2024-11-05T14:09:12.123Z');
    expect(isoTime('2024-11-05T14:09:12.123456789Z')).toBe('2024-11-05T14:09:12.123Z');
  });
  it('converts offsets and epoch milliseconds to UTC', () => {
    expect(isoTime('2024-11-05T16:09:12+02:00')).toBe('2024-11-05T14:09:12.000Z');
    expect(isoTime(1730815752000)).toBe('2024-11-05T14:09:12.000Z');
  });
  it('reads a time without a zone as UTC, whatever the host time zone', () => {
    expect(isoTime('2024-11-05 14:09:12')).toBe('2024-11-05T14:09:12.000Z');
    expect(isoTime('2024-11-05 14:09:12.000000000')).toBe('2024-11-05T14:09:12.000Z');
    expect(isoTime('2024-11-05T14:09:12.5')).toBe('2024-11-05T14:09:12.500Z');
    expect(isoTime('2024-11-05 14:09')).toBe('2024-11-05T14:09:00.000Z');
  });
  it('reads a number as epoch milliseconds and refuses one below 1e11 (epoch seconds, most likely)', () => {
    expect(isoTime(1796490229000)).toBe('2026-12-05T17:03:49.000Z');
    expect(isoTime(EPOCH_MS_MIN)).toBe('1973-03-03T09:46:40.000Z');
    expect(isoTime(EPOCH_MS_MIN - 1)).toBeUndefined();
    expect(isoTime(1796490229)).toBeUndefined();
    expect(isoTime(0)).toBeUndefined();
    expect(isoTime(-1)).toBeUndefined();
  });
  it('rejects what is not a time', () => {
    for (const v of ['yesterday', '', '2024-11-05T14:09:12.Z', 'x024-11-05T14:09:12Z', null, undefined, {}, Number.NaN]) expect(isoTime(v)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('reads the account from an ARN', () => {
    expect(arnAccount('arn:aws:sts::111122223333:assumed-role/R/s')).toBe('111122223333');
    expect(arnAccount('arn:aws:eks::aws:cluster-access-policy/X')).toBeUndefined();
    expect(arnAccount('not-an-arn')).toBeUndefined();
  });
  it('sorts keys in canonical JSON', () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x', u: undefined })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  });
});
