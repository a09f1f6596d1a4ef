import { describe, expect, it } from 'vitest';
import { ACCOUNT, alice, eksCall, ev, t } from '../../test/identity/records.ts';
import { IdentityGraph } from './graph.ts';

// Review platsec H2: nodes and facts are keyed by cluster name only, so `prod` in two accounts is one cluster to the
// graph. Until they are keyed by account too, the graph says so when it sees one name in a second account.

const OTHER = '222222222222';
const CI = 'arn:aws:iam::999999999999:role/platform-ci';

function graph(options: ConstructorParameters<typeof IdentityGraph>[0] = {}): { g: IdentityGraph; warnings: string[] } {
  const g = new IdentityGraph(options);
  const warnings: string[] = [];
  g.onSameNameClusters = (text) => warnings.push(text);
  return { g, warnings };
}

const inAccount = (record: Record<string, unknown>, account: string): Record<string, unknown> => ({ ...record, recipientAccountId: account });

describe('identity graph: one cluster name in two accounts', () => {
  it('an access entry on prod in one account, then DeleteAccessEntry on prod in another: warned about once, naming both accounts', () => {
    const { g, warnings } = graph();
    g.observe(ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: 'prod', principalArn: CI }), undefined));
    g.observe(ev(inAccount(eksCall(alice, 'DeleteAccessEntry', t('10:05:00'), { clusterName: 'prod', principalArn: CI }), OTHER), undefined));
    g.observe(ev(inAccount(eksCall(alice, 'DescribeCluster', t('10:06:00'), { name: 'prod' }), OTHER), undefined));
    expect(g.sameNameClusters()).toEqual([{ cluster: 'prod', accounts: [ACCOUNT, OTHER].sort() }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`cluster name prod is in accounts ${[ACCOUNT, OTHER].sort().join(' and ')}`);
    expect(warnings[0]).toContain('Run a separate Seam per account');
  });

  it('identity.clusters naming prod in one account and an EKS call on prod in another: warned about', () => {
    const { g, warnings } = graph({ clusters: [{ name: 'prod', account: OTHER }] });
    expect(warnings).toEqual([]);
    g.observe(ev(eksCall(alice, 'DescribeCluster', t('10:00:00'), { name: 'prod' }), undefined));
    expect(warnings).toHaveLength(1);
  });

  it('near misses: prod named again in its own account, stage in the other, a failed call on prod in the other: no warning', () => {
    const { g, warnings } = graph({ clusters: [{ name: 'prod', account: ACCOUNT }] });
    g.observe(ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: 'prod', principalArn: CI }), undefined));
    g.observe(ev(inAccount(eksCall(alice, 'DescribeCluster', t('10:01:00'), { name: 'stage' }), OTHER), undefined));
    g.observe(ev({ ...inAccount(eksCall(alice, 'DescribeCluster', t('10:02:00'), { name: 'prod' }), OTHER), errorCode: 'ResourceNotFoundException', errorMessage: 'No cluster found for name: prod.' }, undefined));
    expect(g.sameNameClusters()).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
