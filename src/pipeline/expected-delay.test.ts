import { describe, expect, it } from 'vitest';
import { CollectConfig } from '../sources/collect-config.ts';
import { DEFAULT_CLOUDTRAIL_DELAY_MS, expectedSourceDelays } from './expected-delay.ts';

const collect = (logGroups: Record<string, unknown>[]): CollectConfig =>
  CollectConfig.parse({ sources: { cwl: { type: 'cloudwatch-logs', region: 'eu-west-1', logGroups } } });

describe('expectedSourceDelays (correlate.sourceDelayMs, ADR 0009 5c)', () => {
  it('expects CloudTrail up to 15 minutes late only where seam.yml collects it; a configured map is used as given', () => {
    // A CloudTrail group, told by its name or by its source: CloudTrail is expected.
    expect(expectedSourceDelays(undefined, collect([{ logGroupName: '/aws/eks/prod/cluster' }, { logGroupName: 'aws-cloudtrail-logs-111122223333' }]))).toEqual({ cloudtrail: DEFAULT_CLOUDTRAIL_DELAY_MS });
    expect(expectedSourceDelays(undefined, collect([{ logGroupName: 'org-trail', source: 'cloudtrail' }]))).toEqual({ cloudtrail: 900_000 });
    // Only the audit log, no collectors here, or a group whose source is detected per record: nothing expected.
    expect(expectedSourceDelays(undefined, collect([{ logGroupName: '/aws/eks/prod/cluster' }]))).toEqual({});
    expect(expectedSourceDelays(undefined, undefined)).toEqual({});
    expect(expectedSourceDelays(undefined, collect([{ logGroupName: 'mixed' }]))).toEqual({});
    // Configured: as given, {} turns the default off.
    expect(expectedSourceDelays({ cloudtrail: 300_000, k8s_audit: 60_000 }, undefined)).toEqual({ cloudtrail: 300_000, k8s_audit: 60_000 });
    expect(expectedSourceDelays({}, collect([{ logGroupName: 'aws-cloudtrail-logs-111122223333' }]))).toEqual({});
  });
});
