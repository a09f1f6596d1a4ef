import { describe, expect, it } from 'vitest';
import { detectSource, isTruncated, resolveGroup } from './parse.ts';

describe('cloudwatch-logs parse', () => {
  it('reads cluster and source from the log group name', () => {
    expect(resolveGroup({ logGroupName: '/aws/eks/prod-eu/cluster' })).toMatchObject({ cluster: 'prod-eu', source: 'k8s_audit', logStreamNamePrefix: 'kube-apiserver-audit-' });
    expect(resolveGroup({ logGroupName: 'aws-cloudtrail-logs-111122223333' })).toMatchObject({ source: 'cloudtrail', cluster: undefined });
    expect(resolveGroup({ logGroupName: '/custom', source: 'guardduty', cluster: 'x' })).toMatchObject({ source: 'guardduty', cluster: 'x' });
  });

  it('flags cut messages at the size limit and the agent marker, not small bad JSON', () => {
    const big = JSON.stringify({ a: 'x'.repeat(300) });
    expect(isTruncated(big.slice(0, 200), 100)).toBe(true);
    expect(isTruncated(big, 100)).toBe(false);
    expect(isTruncated('{"a":', 100)).toBe(false);
    expect(isTruncated('{"a": "b" [Truncated...]', 100_000)).toBe(true);
  });

  it('detects the source of a record', () => {
    expect(detectSource('{"kind":"Event","apiVersion":"audit.k8s.io/v1"}')).toBe('k8s_audit');
    expect(detectSource('{"source":"aws.guardduty","detail":{}}')).toBe('guardduty');
    expect(detectSource('nope')).toBeUndefined();
  });
});
