import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { ACCOUNT, CLUSTER, NODE_MAPPING, alice, audit, awsAuthUpdate, bindingWrite, ev, iamK8sUser, podCreate, roleMapping, saWrite, t } from '../../test/identity/records.ts';
import { IdentityGraph } from './graph.ts';
import { rbacRoleKey, userKey } from './keys.ts';

const BACKDOOR = `arn:aws:iam::${ACCOUNT}:role/backdoor`;
const admin = iamK8sUser(alice);

/** The same request as a server-side dry run (`kubectl apply --dry-run=server` adds these parameters). */
function dry(raw: Record<string, unknown>): Record<string, unknown> {
  const uri = String(raw.requestURI);
  return { ...raw, auditID: `${String(raw.auditID)}-dry`, requestURI: `${uri}${uri.includes('?') ? '&' : '?'}dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict` };
}

/** A graph that knows aws-auth (nodes and a read-only role), and has seen alice authenticate, so her requests add nothing about her. */
function known(): IdentityGraph {
  const g = new IdentityGraph();
  g.observe(ev(awsAuthUpdate(admin, NODE_MAPPING + roleMapping('ReadOnly', 'readonly', ['viewers']), t('09:00:00'), 'create')));
  g.observe(ev(audit({ verb: 'get', user: admin, time: t('09:30:00'), resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth' })));
  return g;
}

const backdoored = (): Record<string, unknown> => awsAuthUpdate(admin, NODE_MAPPING + roleMapping('ReadOnly', 'readonly', ['viewers']) + roleMapping('backdoor', 'backdoor', ['system:masters']), t('10:00:00'));

describe('identity graph: server-side dry runs teach nothing', () => {
  it('a dry-run aws-auth update leaves the graph as it was; the same update for real maps the role to system:masters', () => {
    const g = known();
    const before = g.stats();
    const event = ev(dry(backdoored()));
    expect(event.seam.dry_run).toBe(true);
    expect(g.observe(event)).toEqual([]);
    expect(g.stats()).toMatchObject({ keys: before.keys, versions: before.versions, factsEmitted: before.factsEmitted });
    expect(g.mappingOf(BACKDOOR, CLUSTER, Date.parse(t('10:05:00')))).toBeUndefined();
    expect(g.effectivePermissions(BACKDOOR, CLUSTER, t('10:05:00')).isClusterAdmin).toBe(false);

    const real = ev(backdoored());
    expect(real.seam.dry_run).toBeUndefined();
    const facts = g.observe(real);
    expect(facts.map((f) => [f.kind, f.op, f.from])).toContainEqual(['aws_auth_mapping', 'assert', BACKDOOR]);
    expect(g.mappingOf(BACKDOOR, CLUSTER, Date.parse(t('10:05:00')))?.fact.to).toBe(userKey(CLUSTER, 'backdoor'));
    expect(g.effectivePermissions(BACKDOOR, CLUSTER, t('10:05:00')).isClusterAdmin).toBe(true);
  });

  it('a dry-run aws-auth delete (DeleteOptions in the body, as kubectl sends it) keeps the mappings', () => {
    const g = known();
    const del = (dryRun: boolean): SeamEvent =>
      ev(audit({ verb: 'delete', user: admin, time: t('10:00:00'), resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(dryRun ? { dryRun: ['All'] } : {}) } }));
    const readOnly = `arn:aws:iam::${ACCOUNT}:role/ReadOnly`;
    expect(g.observe(del(true))).toEqual([]);
    expect(g.mappingOf(readOnly, CLUSTER, Date.parse(t('10:05:00')))).toBeDefined();
    expect(g.observe(del(false)).map((f) => [f.kind, f.op, f.from])).toContainEqual(['aws_auth_mapping', 'retract', readOnly]);
    expect(g.mappingOf(readOnly, CLUSTER, Date.parse(t('10:05:00')))).toBeUndefined();
  });

  it('dry-run RBAC, IRSA and pod writes assert and retract nothing; the same writes for real do', () => {
    const writes = [
      bindingWrite(admin, 'ClusterRoleBinding', 'ci-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00')),
      saWrite(admin, 'payments/api', `arn:aws:iam::${ACCOUNT}:role/payments-admin`, t('10:00:01')),
      podCreate(admin, 'payments/debug', 'api', t('10:00:02')),
    ];
    const g = known();
    const before = g.stats();
    for (const w of writes) expect(g.observe(ev(dry(w)))).toEqual([]);
    expect(g.stats().versions).toBe(before.versions);
    expect(g.effectivePermissions(`arn:aws:iam::${ACCOUNT}:role/ReadOnly`, CLUSTER, t('10:05:00')).isClusterAdmin).toBe(false);

    const kinds = writes.flatMap((w) => g.observe(ev(w)).map((f) => f.kind));
    expect(kinds).toEqual(expect.arrayContaining(['rbac_binding', 'irsa', 'pod_service_account']));
    expect(g.effectivePermissions(`arn:aws:iam::${ACCOUNT}:role/ReadOnly`, CLUSTER, t('10:05:00')).isClusterAdmin).toBe(true);

    // And a dry-run delete of the binding leaves it bound.
    const del = audit({ verb: 'delete', user: admin, time: t('10:10:00'), resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'ci-admin', requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] } });
    expect(g.observe(ev(del))).toEqual([]);
    expect(g.store.incoming(rbacRoleKey(CLUSTER, 'ClusterRole', 'cluster-admin'), 'rbac_binding', Date.parse(t('10:15:00')))).toHaveLength(1);
  });

  it('still learns who the requester is from a dry run: authentication is real', () => {
    const g = new IdentityGraph();
    const facts = g.observe(ev(dry(backdoored())));
    expect(facts.map((f) => f.kind)).toEqual(['authenticates_as']);
  });
});
