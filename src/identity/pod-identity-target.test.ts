/**
 * EKS Pod Identity target roles (cross-account role chaining): an association may name `targetRoleArn`; EKS then
 * assumes the association's role and, with that session's credentials, the target role, and hands the pod the target's
 * credentials. The records below follow the EKS API reference (Create/Update/DeletePodIdentityAssociation request and
 * `association` response, `externalId`) and the EKS user guide (session tags, transitive; with tags disabled EKS sets
 * sts:ExternalId), in CloudTrail's shape.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, CLUSTER, NAT_IP, REGION, alice, ct, eksCall, ev, t } from '../../test/identity/records.ts';
import { identityExplainCommand } from '../cli/identity.ts';
import { shortChain } from './chain-text.ts';
import { IdentityGraph } from './graph.ts';

const TARGET_ACCOUNT = '444455556666';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-pod-identity-primary-role`;
const TARGET = `arn:aws:iam::${TARGET_ACCOUNT}:role/orders-s3-writer`;
const OTHER = `arn:aws:iam::${TARGET_ACCOUNT}:role/reporting-reader`;
const ASSOC_ID = 'a-q1w2e3r4t5y6u7i8o';
const EXTERNAL_ID = `${REGION}/${ACCOUNT}/${CLUSTER}/orders/api`;
const POD = 'api-6f7d9c8b4-k2m9x';
const SESSION = `eks-${CLUSTER}-${POD}-0c4f1a2b`;
const FIRST = `arn:aws:sts::${ACCOUNT}:assumed-role/eks-pod-identity-primary-role/${SESSION}`;
const SECOND = `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/orders-s3-writer/${SESSION}`;
const FIRST_KEY = 'ASIAEXAMPLEPODFIRST1';
const TARGET_KEY = 'ASIAEXAMPLEPODTARGET';

const TAGS = [
  { key: 'eks-cluster-arn', value: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${CLUSTER}` },
  { key: 'eks-cluster-name', value: CLUSTER },
  { key: 'kubernetes-namespace', value: 'orders' },
  { key: 'kubernetes-service-account', value: 'api' },
  { key: 'kubernetes-pod-name', value: POD },
  { key: 'kubernetes-pod-uid', value: '8e1d2c3b-4a5f-4e6d-9c8b-7a6f5e4d3c2b' },
];

/** The association as the EKS API returns it (`association` of Create/Update/Describe). */
function association(o: { target?: string; disableSessionTags?: boolean } = {}): Record<string, unknown> {
  const a: Record<string, unknown> = {
    clusterName: CLUSTER,
    namespace: 'orders',
    serviceAccount: 'api',
    roleArn: ROLE,
    associationArn: `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${CLUSTER}/${ASSOC_ID}`,
    associationId: ASSOC_ID,
    tags: {},
    createdAt: t('09:00:00'),
    modifiedAt: t('09:00:00'),
    disableSessionTags: o.disableSessionTags ?? false,
  };
  if (o.target !== undefined) Object.assign(a, { targetRoleArn: o.target, externalId: EXTERNAL_ID });
  return a;
}

function create(o: { target?: string; disableSessionTags?: boolean } = {}, at = '09:00:00'): Record<string, unknown> {
  const rp: Record<string, unknown> = { name: CLUSTER, namespace: 'orders', serviceAccount: 'api', roleArn: ROLE, disableSessionTags: o.disableSessionTags ?? false, clientRequestToken: '3b7e2f9a-1c4d-4e8f-a6b5-0d9c8e7f6a5b' };
  if (o.target !== undefined) rp.targetRoleArn = o.target;
  return eksCall(alice, 'CreatePodIdentityAssociation', t(at), rp, { association: association(o) });
}

/** EKS's first AssumeRole: the service, with the six session tags, in the cluster's account. */
function firstHop(at: string): Record<string, unknown> {
  return ct({
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    time: t(at),
    ip: 'pods.eks.amazonaws.com',
    identity: { type: 'AWSService', invokedBy: 'pods.eks.amazonaws.com' },
    rp: { roleArn: ROLE, roleSessionName: SESSION, durationSeconds: 3600, tags: TAGS, transitiveTagKeys: TAGS.map((x) => x.key) },
    re: { credentials: { accessKeyId: FIRST_KEY, sessionToken: 'x', expiration: 'Nov 5, 2024, 11:00:00 AM' }, assumedRoleUser: { assumedRoleId: `AROAPRIMARYEXAMPLE01:${SESSION}`, arn: FIRST } },
    userAgent: 'pods.eks.amazonaws.com',
  });
}

/** The first session's identity, as the target account's trail shows the caller of the second AssumeRole. */
const firstIdentity = {
  type: 'AssumedRole',
  principalId: `AROAPRIMARYEXAMPLE01:${SESSION}`,
  arn: FIRST,
  accountId: ACCOUNT,
  accessKeyId: FIRST_KEY,
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROAPRIMARYEXAMPLE01', arn: ROLE, accountId: ACCOUNT, userName: 'eks-pod-identity-primary-role' },
    attributes: { creationDate: t('10:00:00').replace(/\.\d+Z$/, 'Z'), mfaAuthenticated: 'false' },
  },
};

/** EKS's second AssumeRole: the target role, with the first session's credentials; session tags, or (disabled) sts:ExternalId. */
function secondHop(at: string, o: { tags?: boolean; externalId?: string; role?: string } = {}): Record<string, unknown> {
  const role = o.role ?? TARGET;
  const rp: Record<string, unknown> = { roleArn: role, roleSessionName: SESSION, durationSeconds: 3600 };
  if (o.tags !== false) Object.assign(rp, { tags: TAGS, transitiveTagKeys: TAGS.map((x) => x.key) });
  if (o.externalId !== undefined) rp.externalId = o.externalId;
  const r = ct({
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    time: t(at),
    ip: 'pods.eks.amazonaws.com',
    identity: firstIdentity,
    rp,
    re: { credentials: { accessKeyId: TARGET_KEY, sessionToken: 'x', expiration: 'Nov 5, 2024, 11:00:00 AM' }, assumedRoleUser: { assumedRoleId: `AROATARGETEXAMPLE001:${SESSION}`, arn: `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/${role.slice(role.lastIndexOf('/') + 1)}/${SESSION}` } },
    userAgent: 'pods.eks.amazonaws.com',
  });
  return { ...r, recipientAccountId: TARGET_ACCOUNT };
}

/** The pod's call with the target role's credentials, in the target account. */
function targetCall(at: string): Record<string, unknown> {
  const r = ct({
    source: 's3.amazonaws.com',
    name: 'PutObject',
    time: t(at),
    ip: NAT_IP,
    identity: {
      type: 'AssumedRole',
      principalId: `AROATARGETEXAMPLE001:${SESSION}`,
      arn: SECOND,
      accountId: TARGET_ACCOUNT,
      accessKeyId: TARGET_KEY,
      sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROATARGETEXAMPLE001', arn: TARGET, accountId: TARGET_ACCOUNT, userName: 'orders-s3-writer' }, attributes: { creationDate: t('10:00:01').replace(/\.\d+Z$/, 'Z'), mfaAuthenticated: 'false' } },
    },
    rp: { bucketName: 'orders-archive', key: '2024/11/05/batch-17.json', Host: 'orders-archive.s3.us-west-2.amazonaws.com' },
  });
  return { ...r, recipientAccountId: TARGET_ACCOUNT, eventCategory: 'Data', managementEvent: false };
}

function replay(records: Record<string, unknown>[]): IdentityGraph {
  const g = new IdentityGraph();
  for (const r of records) g.observe(ev(r));
  return g;
}

describe('Pod Identity association with a target role', () => {
  it('records targetRoleArn (CreatePodIdentityAssociation) and the service accounts that can obtain the target role', () => {
    const g = replay([create({ target: TARGET })]);
    const a = g.store.latest(`pod_identity_association|${CLUSTER}|orders/api`)!;
    expect(a.fact.to).toBe(ROLE);
    expect(a.fact.attributes).toMatchObject({ targetRoleArn: TARGET, externalId: EXTERNAL_ID, associationId: ASSOC_ID, disableSessionTags: false });
    const target = g.store.latest(`pod_identity_target|${CLUSTER}|orders/api`)!;
    expect(target.fact).toMatchObject({ kind: 'pod_identity_target_role', from: `k8s:${CLUSTER}:sa:orders/api`, to: TARGET });
    expect(g.serviceAccountsOfRole(TARGET).map((s) => [s.serviceAccount, s.via])).toEqual([['orders/api', 'pod_identity_target_role']]);
    expect(g.serviceAccountsOfRole(ROLE).map((s) => [s.serviceAccount, s.via])).toEqual([['orders/api', 'pod_identity_association']]);
  });
  it('follows UpdatePodIdentityAssociation by id (a request naming only the association) and Delete', () => {
    const update = (target: string, at: string, withResponse: boolean): Record<string, unknown> =>
      eksCall(alice, 'UpdatePodIdentityAssociation', t(at), { name: CLUSTER, associationId: ASSOC_ID, targetRoleArn: target }, withResponse ? { association: association(target === '' ? {} : { target }) } : null);
    const g = replay([create(), update(OTHER, '09:10:00', false)]);
    expect(g.store.latest(`pod_identity_target|${CLUSTER}|orders/api`)?.fact.to).toBe(OTHER);
    expect(g.store.latest(`pod_identity_association|${CLUSTER}|orders/api`)?.fact.to).toBe(ROLE);
    g.observe(ev(update(TARGET, '09:20:00', true)));
    expect(g.store.at(`pod_identity_target|${CLUSTER}|orders/api`, Date.parse(t('09:20:01')))?.fact.to).toBe(TARGET);
    // The target removed ('' in the request, none in the response): the service account no longer reaches it.
    g.observe(ev(update('', '09:30:00', true)));
    expect(g.store.at(`pod_identity_target|${CLUSTER}|orders/api`, Date.parse(t('09:30:01')))).toBeUndefined();
    expect(g.serviceAccountsOfRole(TARGET, Date.parse(t('09:30:01')))).toEqual([]);
    g.observe(ev(update(TARGET, '09:40:00', true)));
    g.observe(ev(eksCall(alice, 'DeletePodIdentityAssociation', t('09:50:00'), { name: CLUSTER, associationId: ASSOC_ID }, { association: association({ target: TARGET }) })));
    const after = Date.parse(t('09:50:01'));
    expect(g.store.at(`pod_identity_association|${CLUSTER}|orders/api`, after)).toBeUndefined();
    expect(g.store.at(`pod_identity_target|${CLUSTER}|orders/api`, after)).toBeUndefined();
  });
  it('seeds the target role from describe-pod-identity-association output', () => {
    const g = new IdentityGraph();
    const facts = g.seedFromPodIdentity({ association: association({ target: TARGET }) });
    expect(facts.map((f) => f.kind)).toEqual(['pod_identity_association', 'pod_identity_target_role']);
    expect(facts[1]).toMatchObject({ from: `k8s:${CLUSTER}:sa:orders/api`, to: TARGET, account: ACCOUNT, attributes: { role: ROLE, externalId: EXTERNAL_ID } });
  });
});

describe('a target role session resolves to the service account: SA → role → target role', () => {
  it('with session tags on the second AssumeRole', () => {
    const g = replay([create({ target: TARGET }), firstHop('10:00:00'), secondHop('10:00:01')]);
    const r = g.resolve(ev(targetCall('10:05:00')));
    expect(r.principal).toMatchObject({ service_account: 'orders/api', k8s_user: 'system:serviceaccount:orders:api', pod: `orders/${POD}` });
    expect(r.cluster).toBe(CLUSTER);
    expect(r.chain.map((s) => [s.kind, s.from, s.to])).toEqual([
      ['credential', TARGET_KEY, SECOND],
      ['session_of', SECOND, TARGET],
      ['assumed_by', SECOND, FIRST],
      ['session_of', FIRST, ROLE],
      ['pod_identity_session', FIRST, `k8s:${CLUSTER}:sa:orders/api`],
      ['pod_service_account', `k8s:${CLUSTER}:sa:orders/api`, `k8s:${CLUSTER}:pod:orders/${POD}`],
    ]);
    expect(shortChain(r.chain, { maxNodes: 10 })).toBe(`${TARGET_KEY} → role/orders-s3-writer (${SESSION}) → role/eks-pod-identity-primary-role (${SESSION}) → sa orders/api → pod orders/${POD}`);
    // The target session's credentials last an hour (role chaining), not Pod Identity's six.
    expect(g.store.latest('pis|' + SECOND)?.fact.valid_to).toBe(t('11:00:01'));
  });
  it('with session tags disabled: by the association naming the target role, or by sts:ExternalId', () => {
    for (const [name, records] of [
      ['association', [create({ target: TARGET, disableSessionTags: true }), firstHop('10:00:00'), secondHop('10:00:01', { tags: false })]],
      ['externalId alone', [firstHop('10:00:00'), secondHop('10:00:01', { tags: false, externalId: EXTERNAL_ID })]],
    ] as const) {
      const g = replay([...records]);
      const r = g.resolve(ev(targetCall('10:05:00')));
      expect(r.principal?.service_account, name).toBe('orders/api');
      expect(r.chain.map((s) => s.kind), name).toEqual(['credential', 'session_of', 'assumed_by', 'session_of', 'pod_identity_session', 'pod_service_account']);
    }
  });
  it('leaves the workload’s own role chaining to another role as role chaining (assumed_by, not the pod’s session)', () => {
    const g = replay([create({ target: TARGET, disableSessionTags: true }), firstHop('10:00:00'), secondHop('10:00:01', { tags: false, role: OTHER })]);
    const other = `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/reporting-reader/${SESSION}`;
    expect(g.store.latest('pis|' + other)).toBeUndefined();
    expect(g.store.latest('assumed_by|' + other)?.fact.to).toBe(FIRST);
  });
  it('seam identity explain shows the chain for the service account and for the target role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-pit-'));
    const trail = join(dir, 'trail.json');
    writeFileSync(trail, JSON.stringify({ Records: [create({ target: TARGET }), firstHop('10:00:00'), secondHop('10:00:01'), targetCall('10:05:00')] }));
    let sa = '';
    expect(await identityExplainCommand('orders/api', { input: [trail], cluster: CLUSTER }, { write: (s: string) => (sa += s) })).toBe(0);
    expect(sa).toContain(`pod identity association → ${ROLE} → target role ${TARGET}`);
    expect(sa).toContain(`pod identity session ${SECOND} at 2024-11-05T10:00:01Z (target role, assumed with ${FIRST})`);
    let role = '';
    expect(await identityExplainCommand(TARGET, { input: [trail], cluster: CLUSTER }, { write: (s: string) => (role += s) })).toBe(0);
    expect(role).toContain(`target role of the Pod Identity association of orders/api (${CLUSTER}): orders/api → ${ROLE} → ${TARGET}`);
    expect(role).toContain(`session ${SECOND} from 2024-11-05T10:00:01Z — pod identity session of orders/api (${CLUSTER}), assumed with ${FIRST}`);
    expect(role).toContain(`last call s3.amazonaws.com:PutObject at 2024-11-05T10:05:00Z: credential: ${TARGET_KEY}`);
  });
});
