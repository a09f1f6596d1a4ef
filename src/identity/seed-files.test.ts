import { describe, expect, it } from 'vitest';
import { seedKindOf } from './seed-files.ts';
import { parseSeedFlag } from './seed-flag.ts';
import { IdentityGraph } from './graph.ts';

const kind = (v: unknown): string => seedKindOf(typeof v === 'string' ? v : JSON.stringify(v), typeof v === 'string' ? undefined : v);

describe('seed files: what a snapshot holds, read from its content', () => {
  it('tells the CLI outputs apart', () => {
    expect(kind('apiVersion: v1\nkind: ConfigMap\ndata:\n  mapRoles: |\n    - rolearn: x\n')).toBe('aws-auth');
    expect(kind({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth' }, data: { mapRoles: '- rolearn: x' } })).toBe('aws-auth');
    expect(kind({ accessEntry: { principalArn: 'arn:aws:iam::111122223333:role/x', clusterName: 'c' } })).toBe('access-entries');
    expect(kind([{ accessEntry: { principalArn: 'arn:aws:iam::111122223333:role/x' } }, { associatedAccessPolicies: [] }])).toBe('access-entries');
    expect(kind({ association: { clusterName: 'c', namespace: 'n', serviceAccount: 's', roleArn: 'arn:aws:iam::111122223333:role/r' } })).toBe('pod-identity');
    expect(kind([{ association: { serviceAccount: 's' } }])).toBe('pod-identity');
    expect(kind({ associations: [] })).toBe('pod-identity');
    // A List holding the aws-auth ConfigMap among others is a kubectl List (seedKubectl reads the ConfigMap in it); a pod's spec.serviceAccount is no association.
    expect(kind({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: '' } }] })).toBe('kubectl');
    expect(kind({ kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: { serviceAccount: 'default', serviceAccountName: 'default' } })).toBe('kubectl');
  });

  it('--seed FILE[=CLUSTER]', () => {
    expect(parseSeedFlag('aws-auth.yaml')).toEqual({ path: 'aws-auth.yaml' });
    expect(parseSeedFlag('seeds/aws-auth.yaml=prod-eks-01')).toEqual({ path: 'seeds/aws-auth.yaml', cluster: 'prod-eks-01' });
    expect(parseSeedFlag('/mnt/a=b/aws-auth.yaml')).toEqual({ path: '/mnt/a=b/aws-auth.yaml' });
  });

  it('Pod Identity associations: describe output gives the service account → role edge; list output (no roleArn) gives none', () => {
    const g = new IdentityGraph({});
    const facts = g.seedFromPodIdentity([{ association: { clusterName: 'prod', namespace: 'payments', serviceAccount: 'api', roleArn: 'arn:aws:iam::111122223333:role/path/payments-api', associationId: 'a-1' } }]);
    expect(facts.map((f) => [f.kind, f.from, f.to, f.cluster, f.account, f.provenance, f.valid_from])).toEqual([
      ['pod_identity_association', 'k8s:prod:sa:payments/api', 'arn:aws:iam::111122223333:role/payments-api', 'prod', '111122223333', 'seed:pod-identity', '1970-01-01T00:00:00.000Z'],
    ]);
    expect(g.serviceAccountsOfRole('arn:aws:iam::111122223333:role/payments-api').map((s) => `${s.cluster}/${s.serviceAccount} ${s.via}`)).toEqual(['prod/payments/api pod_identity_association']);
    expect(new IdentityGraph({}).seedFromPodIdentity({ associations: [{ clusterName: 'prod', namespace: 'payments', serviceAccount: 'api', associationId: 'a-1' }] })).toEqual([]);
  });
});
