import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import {
  ACCOUNT,
  ATTACKER_IP,
  CLUSTER,
  NODE_MAPPING,
  alice,
  assumeWebIdentity,
  awsAuthUpdate,
  bindingWrite,
  bob,
  byTime,
  callAs,
  eksCall,
  ev,
  execInto,
  fixtureEvents,
  iamK8sUser,
  podCreate,
  podIdentityAssume,
  roleMapping,
  saK8sUser,
  session,
  t,
  audit,
  saWrite,
} from '../../test/identity/records.ts';
import { IdentityGraph } from './graph.ts';

const controller = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
const irsa = session('payments-api-irsa', 'botocore-session-1730815740', 'ASIAEXAMPLEIRSA00001');

function replay(g: IdentityGraph, events: SeamEvent[]): void {
  for (const e of events) g.observe(e);
}

describe('identity graph: resolve', () => {
  it('follows the fixture day from a secret read with IRSA keys back to the person who exec’d into the pod', () => {
    const events = byTime([...fixtureEvents('k8s-audit/eks-audit.jsonl'), ...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('runtime/native.jsonl')]);
    const g = new IdentityGraph();
    let secretRead: SeamEvent | undefined;
    let resolved;
    for (const e of events) {
      g.observe(e);
      if (e.eventName === 'GetSecretValue') {
        secretRead = e;
        resolved = g.resolve(e);
      }
    }
    expect(secretRead).toBeDefined();
    const kinds = resolved!.chain.map((s) => s.kind);
    expect(kinds).toEqual(['credential', 'session_of', 'web_identity_session', 'pod_service_account', 'exec', 'authenticates_as', 'session_of']);
    expect(resolved!.chain[0]).toMatchObject({ from: 'ASIAEXAMPLEIRSA00001', to: irsa.arn, via: '0f6c2a1e-5b7d-4e3f-9a8b-1c2d3e4f5a61' });
    expect(resolved!.chain[2]!.to).toBe('k8s:prod-eks-01:sa:payments/api');
    expect(resolved!.chain[4]).toMatchObject({ from: 'k8s:prod-eks-01:pod:payments/api-7c9d8f6b5-x2k4q', via: 'd1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e505:ResponseComplete' });
    expect(resolved!.principal).toMatchObject({ service_account: 'payments/api', pod: 'payments/api-7c9d8f6b5-x2k4q', k8s_user: 'system:serviceaccount:payments:api' });
    expect(resolved!.origin).toMatchObject({ arn: alice.arn, session: 'alice@example.com' });
    expect(resolved!.chain.at(-1)!.to).toBe(`arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`);
    expect(resolved!.cluster).toBe(CLUSTER);
  });

  function irsaTimeline(execAt: string, execPod = 'payments/api-7c9d8f6b5-x2k4q'): IdentityGraph {
    const g = new IdentityGraph();
    replay(g, [
      ev(podCreate(controller, 'payments/api-7c9d8f6b5-x2k4q', 'api', t('13:00:00'))),
      ev(podCreate(controller, 'payments/worker-5d6f7-abcde', 'worker', t('13:00:01'))),
      ev(execInto(iamK8sUser(alice), execPod, execAt, 'sh -c curl -s http://169.254.170.23/v1/credentials')),
      ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:09:12')), undefined),
    ]);
    return g;
  }

  it('links the credentials to the exec within the window, and not outside it or into another service account’s pod', () => {
    const call = ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:10:00'), ATTACKER_IP), undefined);
    const linked = irsaTimeline(t('14:09:08')).resolve(call);
    expect(linked.chain.map((s) => s.kind)).toContain('exec');
    expect(linked.origin?.arn).toBe(alice.arn);

    const tooOld = irsaTimeline(t('13:30:00')).resolve(call); // 40 minutes before: outside the 30-minute window
    expect(tooOld.chain.map((s) => s.kind)).not.toContain('exec');
    expect(tooOld.origin).toBeUndefined();
    expect(tooOld.principal?.service_account).toBe('payments/api');

    const otherSa = irsaTimeline(t('14:09:08'), 'payments/worker-5d6f7-abcde').resolve(call);
    expect(otherSa.chain.map((s) => s.kind)).not.toContain('exec');

    const afterUse = irsaTimeline(t('14:10:30')).resolve(call); // exec after the call cannot explain it
    expect(afterUse.chain.map((s) => s.kind)).not.toContain('exec');
  });

  it('resolves EKS Pod Identity credentials to the exact pod from the session tags', () => {
    const g = new IdentityGraph();
    const key = 'ASIAEXAMPLEPODID0001';
    for (const r of podIdentityAssume('payments/api', 'api-7c9d8f6b5-x2k4q', 'payments-api-podid', key, t('14:00:00'))) g.observe(ev(r, undefined));
    const s = session('payments-api-podid', `eks-${CLUSTER}-api-7c9d8f6b5-x2k4q-3f9a1c2e`, key);
    const r = g.resolve(ev(callAs(s, 's3.amazonaws.com', 'ListBuckets', t('14:05:00')), undefined));
    expect(r.chain.map((c) => c.kind)).toEqual(['credential', 'session_of', 'pod_identity_session', 'pod_service_account']);
    expect(r.principal).toMatchObject({ service_account: 'payments/api', pod: 'payments/api-7c9d8f6b5-x2k4q' });
    expect(r.cluster).toBe(CLUSTER);
  });

  it('explains an IAM-authenticated Kubernetes user through its aws-auth mapping, and through an access entry once one exists', () => {
    const g = new IdentityGraph();
    g.observe(ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']), t('10:00:00'))));
    const asBob = (time: string): SeamEvent => ev(audit({ verb: 'list', user: iamK8sUser(bob, 'readonly:bob-example.com'), time, resource: 'pods', namespace: 'payments' }));
    const before = g.resolve(asBob(t('11:00:00')));
    expect(before.chain.map((c) => c.kind)).toEqual(['authenticates_as', 'aws_auth_mapping', 'session_of']);
    expect(before.principal?.k8s_groups).toContain('viewers');
    g.observe(ev(eksCall(alice, 'CreateAccessEntry', t('12:00:00'), { name: CLUSTER, principalArn: bob.roleArn, kubernetesGroups: ['auditors'] })));
    const after = g.resolve(asBob(t('12:30:00')));
    expect(after.chain[1]).toMatchObject({ kind: 'access_entry', from: bob.roleArn });
    // The earlier event still resolves against the graph as it was then.
    expect(g.resolve(asBob(t('11:00:00'))).chain[1]!.kind).toBe('aws_auth_mapping');
  });

  it('follows role chaining: a session assumed by an IRSA session resolves back to the pod', () => {
    const g = irsaTimeline(t('14:09:08'));
    const pivot = session('prod-admin', 'pivot', 'ASIAEXAMPLEPIVOT0001');
    g.observe(
      ev(
        callAs(irsa, 'sts.amazonaws.com', 'AssumeRole', t('14:11:00'), ATTACKER_IP, { roleArn: pivot.roleArn, roleSessionName: 'pivot' }, {
          re: { credentials: { accessKeyId: pivot.key, expiration: 'x' }, assumedRoleUser: { arn: pivot.arn, assumedRoleId: 'AROAPIVOT:pivot' } },
        }),
        undefined,
      ),
    );
    const r = g.resolve(ev(callAs(pivot, 'iam.amazonaws.com', 'CreateUser', t('14:12:00'), ATTACKER_IP), undefined));
    expect(r.chain.map((c) => c.kind)).toEqual(['credential', 'session_of', 'assumed_by', 'credential', 'session_of', 'web_identity_session', 'pod_service_account', 'exec', 'authenticates_as', 'session_of'].filter((k, i) => i !== 3));
    expect(r.origin?.arn).toBe(alice.arn);
  });
});

describe('identity graph: effective permissions', () => {
  it('sees through a ReadOnly-named role mapped into a group bound to cluster-admin', () => {
    const g = new IdentityGraph();
    g.observe(ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']), t('10:00:00'), 'create')));
    expect(g.effectivePermissions(bob.roleArn, CLUSTER).isClusterAdmin).toBe(false);
    g.observe(ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:05:00'))));
    const p = g.effectivePermissions(bob.arn, CLUSTER);
    expect(p.isClusterAdmin).toBe(true);
    expect(p.usernames).toEqual(['readonly:bob-example.com']);
    expect(p.adminVia!.map((s) => s.kind)).toEqual(['aws_auth_mapping', 'member_of', 'rbac_binding']);
    // Before the binding existed, the role was not admin.
    expect(g.effectivePermissions(bob.roleArn, CLUSTER, t('10:01:00')).isClusterAdmin).toBe(false);
  });

  it('reads access policies by their documented meaning and honours scope and deletion', () => {
    const g = new IdentityGraph();
    const role = `arn:aws:iam::${ACCOUNT}:role/payments-api-irsa`;
    g.observe(ev(eksCall(alice, 'CreateAccessEntry', t('14:16:40'), { name: CLUSTER, principalArn: role, type: 'STANDARD' })));
    g.observe(ev(eksCall(alice, 'AssociateAccessPolicy', t('14:16:45'), { name: CLUSTER, principalArn: role, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', accessScope: { type: 'namespace', namespaces: ['payments'] } })));
    let p = g.effectivePermissions(role, CLUSTER);
    expect(p.isClusterAdmin).toBe(false);
    expect(p.rules.some((r) => r.namespaces.includes('payments') && r.verbs.includes('list'))).toBe(true);
    expect(p.rules.some((r) => r.resources.includes('secrets'))).toBe(false);
    g.observe(ev(eksCall(alice, 'AssociateAccessPolicy', t('14:16:55'), { name: CLUSTER, principalArn: role, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster', namespaces: [] } })));
    p = g.effectivePermissions(role, CLUSTER);
    expect(p.isClusterAdmin).toBe(true);
    expect(p.usernames[0]).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/payments-api-irsa/{{SessionName}}`);
    g.observe(ev(eksCall(alice, 'DeleteAccessEntry', t('15:00:00'), { name: CLUSTER, principalArn: role })));
    expect(g.effectivePermissions(role, CLUSTER).isClusterAdmin).toBe(false);
    expect(g.effectivePermissions(role, CLUSTER, t('14:30:00')).isClusterAdmin).toBe(true);
  });

  it('treats system:masters as cluster admin, and ignores aws-auth when the cluster is in API mode', () => {
    const g = new IdentityGraph();
    g.observe(ev(awsAuthUpdate(iamK8sUser(alice), roleMapping('ci-deployer', 'ci-deployer', ['system:masters']), t('09:00:00'), 'create')));
    expect(g.effectivePermissions(`arn:aws:iam::${ACCOUNT}:role/ci-deployer`, CLUSTER).isClusterAdmin).toBe(true);
    g.observe(ev(eksCall(alice, 'UpdateClusterConfig', t('09:30:00'), { name: CLUSTER, accessConfig: { authenticationMode: 'API' } })));
    expect(g.effectivePermissions(`arn:aws:iam::${ACCOUNT}:role/ci-deployer`, CLUSTER).isClusterAdmin).toBe(false);
  });

  it('gives a service account the rules of its bindings, including namespace-scoped ones', () => {
    const g = new IdentityGraph();
    g.observe(ev(bindingWrite(iamK8sUser(alice), 'RoleBinding', 'api-edit', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'ServiceAccount', name: 'api', namespace: 'payments' }], t('09:00:00'), 'payments')));
    const p = g.effectivePermissions('payments/api', CLUSTER);
    expect(p.isClusterAdmin).toBe(false);
    expect(p.rules.every((r) => r.namespaces.join() === 'payments')).toBe(true);
    expect(p.rules.some((r) => r.resources.includes('secrets') && r.verbs.includes('get'))).toBe(true);
    expect(g.effectivePermissions('system:serviceaccount:payments:api', CLUSTER).rules.length).toBe(p.rules.length);
  });
});

describe('identity graph: seeds, facts and bounds', () => {
  it('seeds from aws-auth YAML, access-entry CLI output and kubectl JSON', () => {
    const g = new IdentityGraph();
    g.seedFromAwsAuth(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:iam::${ACCOUNT}:role/ReadOnly\n      username: readonly:{{SessionName}}\n      groups:\n        - viewers\n`, { cluster: CLUSTER });
    g.seedFromAccessEntries(
      [
        { accessEntry: { clusterName: CLUSTER, principalArn: `arn:aws:iam::${ACCOUNT}:role/ops`, kubernetesGroups: [], username: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/{{SessionName}}`, type: 'STANDARD' } },
        { clusterName: CLUSTER, principalArn: `arn:aws:iam::${ACCOUNT}:role/ops`, associatedAccessPolicies: [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy', accessScope: { type: 'cluster', namespaces: [] } }] },
      ],
      { cluster: CLUSTER },
    );
    g.seedFromKubectl(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { kind: 'ClusterRole', metadata: { name: 'secret-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }] },
          { kind: 'ClusterRoleBinding', metadata: { name: 'viewers-secrets' }, roleRef: { kind: 'ClusterRole', name: 'secret-reader' }, subjects: [{ kind: 'Group', name: 'viewers' }] },
          { kind: 'ServiceAccount', metadata: { name: 'api', namespace: 'payments', annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/payments-api-irsa` } } },
          { kind: 'Pod', metadata: { name: 'api-7c9d8f6b5-x2k4q', namespace: 'payments' }, spec: { serviceAccountName: 'api', nodeName: 'ip-10-0-1-2' } },
        ],
      }),
      { cluster: CLUSTER },
    );
    const ro = g.effectivePermissions(bob.roleArn, CLUSTER);
    expect(ro.rules.some((r) => r.resources.includes('secrets'))).toBe(true);
    expect(g.effectivePermissions(`arn:aws:iam::${ACCOUNT}:role/ops`, CLUSTER).rules.some((r) => r.resources.includes('roles'))).toBe(true);
    expect(g.serviceAccountsOfRole(`arn:aws:iam::${ACCOUNT}:role/payments-api-irsa`)).toEqual([expect.objectContaining({ serviceAccount: 'payments/api', via: 'irsa', provenance: 'seed:kubectl' })]);
  });

  it('rebuilds from its own facts into a graph that answers the same', () => {
    const events = byTime([...fixtureEvents('k8s-audit/eks-audit.jsonl'), ...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('runtime/native.jsonl')]);
    const a = new IdentityGraph();
    const emitted = events.flatMap((e) => a.observe(e));
    const b = new IdentityGraph();
    b.applyFacts(emitted);
    const c = new IdentityGraph();
    c.applyFacts(a.facts());
    for (const e of events) {
      expect(b.resolve(e)).toEqual(a.resolve(e));
      expect(c.resolve(e)).toEqual(a.resolve(e));
    }
    expect(b.stats().versions).toBe(a.stats().versions);
    expect(b.toIdentityDocs()).toEqual(a.toIdentityDocs());
  });

  it('closes edges on deletion and update, with provenance on both ends', () => {
    const g = new IdentityGraph();
    const e1 = ev(awsAuthUpdate(iamK8sUser(alice), roleMapping('ReadOnly', 'ro', ['viewers']) + roleMapping('ci-deployer', 'ci', ['deployers']), t('10:00:00'), 'create'));
    const e2 = ev(awsAuthUpdate(iamK8sUser(alice), roleMapping('ReadOnly', 'ro', ['viewers', 'editors']), t('11:00:00')));
    g.observe(e1);
    const facts = g.observe(e2);
    expect(facts.map((f) => `${f.op} ${f.kind} ${f.from}`)).toEqual([`retract aws_auth_mapping arn:aws:iam::${ACCOUNT}:role/ci-deployer`, `assert aws_auth_mapping arn:aws:iam::${ACCOUNT}:role/ReadOnly`]);
    const docs = g.toIdentityDocs().filter((d) => d.kind === 'aws_auth_mapping');
    expect(docs).toHaveLength(3);
    const closed = docs.filter((d) => d.valid_to !== undefined);
    expect(closed.map((d) => d.valid_to)).toEqual([t('11:00:00'), t('11:00:00')]);
    expect(closed.every((d) => d.provenance === e1.seam.id)).toBe(true);
    expect(docs[0]).toMatchObject({ cluster: CLUSTER, account: ACCOUNT, id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('stays bounded: expired sessions and execs are pruned, history per key is capped', () => {
    const g = new IdentityGraph({ pruneEveryEvents: 1000 });
    g.observe(ev(saWrite(iamK8sUser(alice), 'payments/api', `arn:aws:iam::${ACCOUNT}:role/payments-api-irsa`, t('00:00:00'))));
    const base = Date.parse(t('00:00:00'));
    const n = 6000;
    for (let i = 0; i < n; i++) {
      const time = new Date(base + i * 30_000).toISOString(); // one new IRSA session every 30 s for 50 h
      g.observe(ev(assumeWebIdentity('payments/api', 'payments-api-irsa', `s-${i}`, `ASIAEXAMPLE${String(i).padStart(9, '0')}`, time), undefined));
      if (i % 20 === 0) g.observe(ev(execInto(iamK8sUser(alice), 'payments/api-1', time)));
    }
    g.prune();
    const s = g.stats();
    // Live: 1 h of sessions (120) × 3 facts, plus 1 h of closed ones kept for late events; never the 18 000 emitted.
    expect(s.factsEmitted).toBeGreaterThan(3 * n);
    expect(s.versions).toBeLessThan(3 * 2 * 130 + 100);
    for (let i = 0; i < 20; i++) g.observe(ev(eksCall(alice, 'UpdateAccessEntry', new Date(base + n * 30_000 + i * 1000).toISOString(), { name: CLUSTER, principalArn: bob.roleArn, kubernetesGroups: ['g' + i] })));
    expect(g.store.history(`access_entry|${CLUSTER}|${bob.roleArn}`).length).toBe(8);
  }, 60_000);

  it('resolves an audit event by a service account to its pod', () => {
    const g = new IdentityGraph();
    const e = ev(audit({ verb: 'list', user: saK8sUser('payments', 'api', 'api-7c9d8f6b5-x2k4q'), time: t('14:14:02'), resource: 'secrets', namespace: 'payments', ip: '10.0.142.21' }));
    g.observe(e);
    expect(g.resolve(e).chain).toEqual([{ kind: 'pod_service_account', from: 'k8s:prod-eks-01:sa:payments/api', to: 'k8s:prod-eks-01:pod:payments/api-7c9d8f6b5-x2k4q', via: e.seam.id }]);
  });
});

describe('identity graph: pods of a service account kept up to date', () => {
  it('answers as a graph built afresh while pods come, go, are exec’d into and come back under another service account', () => {
    const pod = (i: number): string => `payments/api-${i}`;
    const del = (nsPod: string, time: string): SeamEvent => ev(audit({ verb: 'delete', user: controller, time, resource: 'pods', namespace: 'payments', name: nsPod.split('/')[1]! }));
    // Minutes after 13:00; the exec link window is 30 minutes, so a pod gone at :06 no longer counts at :51.
    const at = (min: number): string => t('13:00:00', min * 60);
    const steps: [SeamEvent, number][] = [
      [ev(podCreate(controller, pod(1), 'api', at(0))), 0],
      [ev(execInto(iamK8sUser(alice), pod(1), at(1))), 1],
      [ev(podCreate(controller, pod(1), 'worker', at(2))), 2], // the same pod name now under another service account
      [ev(podCreate(controller, pod(2), 'api', at(4))), 4],
      [ev(podCreate(controller, pod(3), 'api', at(5))), 5],
      [del(pod(3), at(6)), 6],
      [ev(podCreate(controller, 'payments/other-1', 'worker', at(50))), 50],
      [ev(execInto(iamK8sUser(bob), pod(2), at(52))), 52],
      [del(pod(2), at(53)), 53],
      [ev(podCreate(controller, pod(1), 'api', at(54))), 54], // back under `api`, in its old place in the index
    ];
    // The service account's own call names no pod, so the graph looks at its pods (exactly one, or an exec'd one).
    const asSa = (min: number): SeamEvent => ev(audit({ verb: 'list', user: saK8sUser('payments', 'api'), time: t('13:00:30', min * 60), resource: 'secrets', namespace: 'payments', ip: '10.0.142.21' }));
    const kept = new IdentityGraph();
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < steps.length; i++) {
      const [e, min] = steps[i]!;
      kept.observe(e);
      const fresh = new IdentityGraph();
      replay(fresh, steps.slice(0, i + 1).map(([x]) => x));
      const r = kept.resolve(asSa(min));
      expect(r, `after step ${i}`).toEqual(fresh.resolve(asSa(min)));
      answers.push(r.principal?.pod);
    }
    // One pod; no pod once it moved away; one, then two (one gone but still in the window); one again once the
    // gone pod left the window; the exec'd pod, still after it was deleted.
    expect(answers).toEqual([pod(1), pod(1), undefined, pod(2), undefined, undefined, pod(2), pod(2), pod(2), pod(2)]);
  });
});

describe('identity graph: last exec per pod remembered', () => {
  it('answers as a graph asked afresh at times before, inside, across and after the exec windows, also going back', () => {
    const at = (min: number): string => t('13:00:00', min * 60);
    const facts: SeamEvent[] = [
      ev(podCreate(controller, 'payments/api-1', 'api', at(0))),
      ev(podCreate(controller, 'payments/api-2', 'api', at(0))),
      ev(execInto(iamK8sUser(alice), 'payments/api-1', at(1))),
      ev(execInto(iamK8sUser(bob), 'payments/api-2', at(10))),
      ev(execInto(iamK8sUser(alice), 'payments/api-2', at(10))), // same start as bob's: the first in the index wins
    ];
    const asSa = (min: number): SeamEvent => ev(audit({ verb: 'list', user: saK8sUser('payments', 'api'), time: at(min), resource: 'secrets', namespace: 'payments', ip: '10.0.142.21' }));
    const kept = new IdentityGraph();
    replay(kept, facts);
    const origins: (string | undefined)[] = [];
    // Minutes; the exec link window is 30 minutes: alice's first exec holds [1, 31), the two at :10 hold [10, 40).
    for (const min of [0.5, 1, 1.5, 5, 9.99, 10, 10.5, 20, 30.99, 31, 31.5, 5, 39.99, 40, 45, 1]) {
      const fresh = new IdentityGraph();
      replay(fresh, facts);
      const r = kept.resolve(asSa(min));
      expect(r, `at minute ${min}`).toEqual(fresh.resolve(asSa(min)));
      origins.push(r.origin?.k8s_user);
    }
    expect(origins.filter((o) => o !== undefined).length).toBeGreaterThan(5);
    // A new exec changes the answer at once, inside a span the pod's last answer was remembered for.
    const again = ev(execInto(iamK8sUser(alice), 'payments/api-1', at(20)));
    kept.observe(again);
    const fresh = new IdentityGraph();
    replay(fresh, [...facts, again]);
    for (const min of [20, 25]) expect(kept.resolve(asSa(min)), `after the new exec, minute ${min}`).toEqual(fresh.resolve(asSa(min)));
  });
});

describe('identity graph: order of facts', () => {
  it('keeps validity intervals right when an older version arrives after a newer one', () => {
    const versions = ['10:00:00', '11:00:00', '12:00:00'].map((at, i) => ({
      kind: 'aws_auth_mapping' as const,
      key: 'aws_auth|prod|arn:aws:iam::1:role/R',
      op: 'assert' as const,
      from: 'arn:aws:iam::1:role/R',
      to: `k8s:prod:user:u${i}`,
      attributes: { username: `u${i}`, groups: [] },
      provenance: `e${i}`,
      valid_from: t(at),
    }));
    const intervals = (g: IdentityGraph): string[] => g.store.history(versions[0]!.key).map((e) => `${e.fact.provenance} ${e.fromMs}-${e.toMs}`);
    const inOrder = new IdentityGraph();
    inOrder.applyFacts(versions);
    for (const order of [[2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1]]) {
      const g = new IdentityGraph();
      g.applyFacts(order.map((i) => versions[i]!));
      expect(intervals(g), `applied in order ${order.join(',')}`).toEqual(intervals(inOrder));
    }
  });
});
