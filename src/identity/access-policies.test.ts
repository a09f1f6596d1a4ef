/**
 * EKS access policies: the documented ones mean what the EKS docs' tables (or prose) say, and one Seam does not know
 * is kept, shown as "unknown permissions", and treated as possibly cluster-admin, never as granting nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, CLUSTER, alice, eksCall, ev, t } from '../../test/identity/records.ts';
import { runNative } from '../../test/helpers/native.ts';
import { identityExplainCommand } from '../cli/identity.ts';
import { IdentityGraph } from './graph.ts';
import { ACCESS_POLICIES, accessPolicyMeaning, isPowerfulRule, UNPUBLISHED_ACCESS_POLICIES } from './rbac.ts';
import type { EffectivePermissions } from './types.ts';

const ARN = (name: string): string => `arn:aws:eks::aws:cluster-access-policy/${name}`;
const role = `arn:aws:iam::${ACCOUNT}:role/ops-observer`;

/** Does some rule of `p` allow `verb` on `resource` (core group unless given) in `ns`? */
function allows(p: EffectivePermissions, verb: string, resource: string, ns = 'default', group = ''): boolean {
  return p.rules.some(
    (r) =>
      (r.verbs.includes(verb) || r.verbs.includes('*')) &&
      (r.resources.includes(resource) || r.resources.includes('*')) &&
      (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
      (r.namespaces.includes(ns) || r.namespaces.includes('*')),
  );
}

/** CreateAccessEntry then AssociateAccessPolicy, as CloudTrail logs them (request and response as the EKS API reference gives them). */
function associate(g: IdentityGraph, policy: string, scope: { type: 'cluster' | 'namespace'; namespaces?: string[] }, at = '10:00:10'): void {
  g.observe(ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: CLUSTER, principalArn: role, type: 'STANDARD' }, { accessEntry: { clusterName: CLUSTER, principalArn: role, kubernetesGroups: [], username: `arn:aws:sts::${ACCOUNT}:assumed-role/ops-observer/{{SessionName}}`, type: 'STANDARD' } })));
  const accessScope = { type: scope.type, namespaces: scope.namespaces ?? [] };
  g.observe(
    ev(
      eksCall(alice, 'AssociateAccessPolicy', t(at), { clusterName: CLUSTER, principalArn: role, policyArn: ARN(policy), accessScope }, {
        clusterName: CLUSTER,
        principalArn: role,
        associatedAccessPolicy: { policyArn: ARN(policy), accessScope, associatedAt: t(at), modifiedAt: t(at) },
      }),
    ),
  );
}

describe('EKS access policies: the table', () => {
  it('has every policy of the EKS access-policy page, and AWS-named ones without published rules are apart', () => {
    for (const name of [
      'AmazonEKSClusterAdminPolicy',
      'AmazonEKSAdminPolicy',
      'AmazonEKSEditPolicy',
      'AmazonEKSViewPolicy',
      'AmazonEKSAdminViewPolicy',
      'AmazonEKSSecretReaderPolicy',
      'AmazonEKSHybridPolicy',
      'AmazonEKSClusterInsightsPolicy',
      'AmazonEKSBlockStoragePolicy',
      'AmazonEKSLoadBalancingPolicy',
      'AmazonEKSNetworkingPolicy',
      'AmazonEKSComputePolicy',
      'AmazonEKSBlockStorageClusterPolicy',
      'AmazonEKSComputeClusterPolicy',
      'AmazonEKSLoadBalancingClusterPolicy',
      'AmazonEKSNetworkingClusterPolicy',
      'AmazonARCRegionSwitchScalingPolicy',
    ]) {
      expect(accessPolicyMeaning(name), name).toBeDefined();
      expect(ACCESS_POLICIES[name]!.rules.length, name).toBeGreaterThan(0);
    }
    for (const name of Object.keys(UNPUBLISHED_ACCESS_POLICIES)) expect(accessPolicyMeaning(name), name).toBeUndefined();
    expect(accessPolicyMeaning('toString')).toBeUndefined();
    // Only ClusterAdmin is cluster-admin.
    expect(Object.entries(ACCESS_POLICIES).filter(([, m]) => m.clusterAdmin).map(([n]) => n)).toEqual(['AmazonEKSClusterAdminPolicy']);
  });
  it('reads the tables as the docs give them: view reads no secrets, edit execs and writes secrets, admin writes roles, secret reader only reads secrets', () => {
    const g = new IdentityGraph();
    const perms = (policy: string): EffectivePermissions => {
      const h = new IdentityGraph();
      associate(h, policy, { type: 'namespace', namespaces: ['payments'] });
      return h.effectivePermissions(role, CLUSTER);
    };
    const view = perms('AmazonEKSViewPolicy');
    expect(allows(view, 'list', 'pods', 'payments')).toBe(true);
    expect(allows(view, 'get', 'secrets', 'payments')).toBe(false);
    expect(allows(view, 'list', 'pods', 'default')).toBe(false); // namespace scope
    const edit = perms('AmazonEKSEditPolicy');
    expect(allows(edit, 'create', 'pods/exec', 'payments')).toBe(true);
    expect(allows(edit, 'update', 'secrets', 'payments')).toBe(true);
    expect(allows(edit, 'create', 'rolebindings', 'payments', 'rbac.authorization.k8s.io')).toBe(false);
    const admin = perms('AmazonEKSAdminPolicy');
    expect(allows(admin, 'create', 'rolebindings', 'payments', 'rbac.authorization.k8s.io')).toBe(true);
    const secrets = perms('AmazonEKSSecretReaderPolicy');
    expect(secrets.rules.map((r) => [r.resources, r.verbs])).toEqual([[['secrets'], ['get', 'list', 'watch']]]);
    expect(secrets.unknownGrants).toEqual([]);
    expect(g.effectivePermissions(role, CLUSTER).rules).toEqual([]);
  });
  it('marks the rules of a policy AWS describes only in prose, and judges them (Auto Mode compute deletes nodes, creates CRDs)', () => {
    const g = new IdentityGraph();
    associate(g, 'AmazonEKSComputeClusterPolicy', { type: 'cluster' });
    const p = g.effectivePermissions(role, CLUSTER);
    expect(p.rules.every((r) => r.basis === 'description')).toBe(true);
    expect(allows(p, 'delete', 'nodes')).toBe(true);
    expect(allows(p, 'create', 'customresourcedefinitions', 'default', 'apiextensions.k8s.io')).toBe(true);
    expect(p.rules.some(isPowerfulRule)).toBe(true);
    expect(p.isClusterAdmin).toBe(false);
    expect(p.possiblyClusterAdmin).toBe(false);
  });
});

describe('EKS access policies Seam does not know', () => {
  it('keeps the association (AssociateAccessPolicy in CloudTrail), shows it as unknown permissions, possibly cluster-admin at cluster scope', () => {
    const g = new IdentityGraph();
    associate(g, 'AmazonEKSFleetOperatorPolicy', { type: 'cluster' });
    const fact = g.store.latest(`access_policy|${CLUSTER}|${role}|AmazonEKSFleetOperatorPolicy`);
    expect(fact?.fact.to).toBe('eks-access-policy:AmazonEKSFleetOperatorPolicy');
    expect(fact?.fact.attributes.policyArn).toBe(ARN('AmazonEKSFleetOperatorPolicy'));
    const p = g.effectivePermissions(role, CLUSTER);
    expect(p.unknownGrants).toHaveLength(1);
    expect(p.unknownGrants[0]).toMatchObject({ policy: 'AmazonEKSFleetOperatorPolicy', policyArn: ARN('AmazonEKSFleetOperatorPolicy'), namespaces: ['*'] });
    expect(p.unknownGrants[0]!.reason).toContain('not an access policy Seam knows');
    expect(p.unknownGrants[0]!.via.map((s) => s.kind)).toEqual(['access_policy']);
    expect(p.isClusterAdmin).toBe(false);
    expect(p.possiblyClusterAdmin).toBe(true);
    // A namespace-scoped unknown grant is unknown too, but cannot make the principal cluster-admin.
    const h = new IdentityGraph();
    associate(h, 'AmazonAIOpsAssistantPolicy', { type: 'namespace', namespaces: ['payments'] });
    const q = h.effectivePermissions(role, CLUSTER);
    expect(q.unknownGrants.map((u) => [u.policy, u.namespaces])).toEqual([['AmazonAIOpsAssistantPolicy', ['payments']]]);
    expect(q.unknownGrants[0]!.reason).toContain('rules not published');
    expect(q.possiblyClusterAdmin).toBe(false);
  });
  it('keeps an unknown policy from a list-associated-access-policies seed alongside a known one', () => {
    const g = new IdentityGraph();
    g.seedFromAccessEntries({ accessEntry: { clusterName: CLUSTER, principalArn: role, kubernetesGroups: [], type: 'STANDARD' } });
    g.seedFromAccessEntries({
      clusterName: CLUSTER,
      principalArn: role,
      associatedAccessPolicies: [
        { policyArn: ARN('AmazonEKSAutoNodePolicy'), accessScope: { type: 'cluster', namespaces: [] }, associatedAt: '2025-01-10T09:00:00Z', modifiedAt: '2025-01-10T09:00:00Z' },
        { policyArn: ARN('AmazonEKSViewPolicy'), accessScope: { type: 'cluster', namespaces: [] }, associatedAt: '2025-01-10T09:00:00Z', modifiedAt: '2025-01-10T09:00:00Z' },
      ],
    });
    const p = g.effectivePermissions(role, CLUSTER);
    expect(p.unknownGrants.map((u) => u.policy)).toEqual(['AmazonEKSAutoNodePolicy']);
    expect(p.unknownGrants[0]!.reason).toContain('Auto Mode');
    expect(allows(p, 'list', 'pods')).toBe(true);
    expect(p.possiblyClusterAdmin).toBe(true);
  });
  it('seam identity explain prints the unknown grant and says cluster admin cannot be ruled out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-ap-'));
    const trail = join(dir, 'trail.json');
    const records = [
      eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: CLUSTER, principalArn: role, type: 'STANDARD' }),
      eksCall(alice, 'AssociateAccessPolicy', t('10:00:10'), { clusterName: CLUSTER, principalArn: role, policyArn: ARN('AmazonEKSFleetOperatorPolicy'), accessScope: { type: 'cluster', namespaces: [] } }),
    ];
    writeFileSync(trail, JSON.stringify({ Records: records }));
    let text = '';
    const code = await identityExplainCommand(role, { input: [trail], cluster: CLUSTER }, { write: (s: string) => (text += s) });
    expect(code).toBe(0);
    expect(text).toContain(`UNKNOWN PERMISSIONS: access policy ${ARN('AmazonEKSFleetOperatorPolicy')} in *`);
    expect(text).toContain('cluster admin cannot be ruled out');
    expect(text).not.toContain('CLUSTER ADMIN via');
  });
});

describe('detections treat an unknown access policy as possibly cluster-admin, and say so', () => {
  it('access-entry-grant: an unknown policy at cluster scope alerts (high) with its own variant', () => {
    const events = [
      ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: CLUSTER, principalArn: role })),
      ev(eksCall(alice, 'AssociateAccessPolicy', t('10:00:10'), { clusterName: CLUSTER, principalArn: role, policyArn: ARN('AmazonEKSFleetOperatorPolicy'), accessScope: { type: 'cluster', namespaces: [] } })),
      ev(eksCall(alice, 'AssociateAccessPolicy', t('10:00:20'), { clusterName: CLUSTER, principalArn: role, policyArn: ARN('AmazonEKSSecretReaderPolicy'), accessScope: { type: 'namespace', namespaces: ['payments'] } })),
    ];
    const alerts = runNative('seam-native-access-entry-grant', events);
    expect(alerts.map((a) => [a.rule.variant, a.rule.level])).toEqual([
      ['created', 'medium'],
      ['unknown_policy', 'high'],
    ]);
    expect(alerts[1]!.summary).toContain('its permissions are unknown to Seam');
    expect(alerts[1]!.summary).toContain('treated as possibly cluster-admin');
    expect(alerts[1]!.triage).toContain('permissions unknown to Seam');
  });
  it('iam-rbac-drift: a read-only-named role given an unknown policy is reported, naming the policy', () => {
    const events = [
      ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: CLUSTER, principalArn: role })),
      ev(eksCall(alice, 'AssociateAccessPolicy', t('10:00:10'), { clusterName: CLUSTER, principalArn: role, policyArn: ARN('AmazonEKSFleetOperatorPolicy'), accessScope: { type: 'cluster', namespaces: [] } })),
    ];
    const alerts = runNative('seam-native-iam-rbac-drift', events);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high']);
    expect(alerts[0]!.summary).toContain('access policy AmazonEKSFleetOperatorPolicy (cluster) with permissions unknown to Seam, so cluster-admin cannot be ruled out');
  });
});
