import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, CLUSTER, NODE_MAPPING, alice, audit, awsAuthUpdate, bindingWrite, ct, iamK8sUser, roleMapping, t } from '../../test/identity/records.ts';
import type { Alert } from '../detect/alert.ts';
import type { SeedConfig } from '../identity/config.ts';
import { loadDetection } from './detection.ts';
import { runEmbedded } from './embedded.ts';

// Seam deployed into an account with history (review-platsec M5): the aws-auth mapping, the Pod Identity association
// and the bindings were made before Seam started, so no event teaches them. A snapshot seeds them; these runs show
// what a seeded embedded run fires that the same input without the seed cannot.

let root: string;
const DRIFT = 'seam-native-iam-rbac-drift';
const OVER = 'seam-native-workload-role-overpermission';

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

// `kubectl get configmap aws-auth -n kube-system -o yaml`, as an operator saves it before installing Seam.
const AWS_AUTH_YAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
${(NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']))
  .split('\n')
  .map((l) => (l === '' ? l : '    ' + l))
  .join('\n')}`;

// `aws eks describe-pod-identity-association` output for the association made before Seam started.
const POD_IDENTITY = {
  association: {
    clusterName: CLUSTER,
    namespace: 'payments',
    serviceAccount: 'api',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/payments-api-pod`,
    associationArn: `arn:aws:eks:us-west-2:${ACCOUNT}:podidentityassociation/${CLUSTER}/a-0123456789abcdef0`,
    associationId: 'a-0123456789abcdef0',
    tags: {},
    createdAt: '2024-06-01T10:00:00+00:00',
    modifiedAt: '2024-06-01T10:00:00+00:00',
  },
};

// The input: a binding that makes the viewers group cluster-admin, and AdministratorAccess attached to the workload role.
const legacy = { type: 'IAMUser', principalId: 'AIDAEXAMPLECIUSER001', arn: `arn:aws:iam::${ACCOUNT}:user/legacy-ci`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLELEGACY001', userName: 'legacy-ci' };
const records = [
  bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00')),
  ct({ source: 'iam.amazonaws.com', name: 'AttachRolePolicy', time: t('10:05:00'), identity: legacy, rp: { roleName: 'payments-api-pod', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, ip: '198.51.100.77', region: 'us-east-1' }),
];

let input: string;
let awsAuth: string;
let podIdentity: string;

async function run(name: string, seeds: SeedConfig[], extra: unknown[] = []): Promise<Alert[]> {
  const detection = await loadDetection({ rules: [], ruleCacheDir: false, identity: { clusters: [{ name: CLUSTER, account: ACCOUNT }], seeds }, seedCluster: CLUSTER });
  const alerts: Alert[] = [];
  const file = extra.length === 0 ? input : join(root, `${name}.jsonl`);
  if (extra.length > 0) await writeFile(file, jsonl([...extra, ...records]));
  await runEmbedded({ paths: [file], stateDir: join(root, name), detection, maxRecordBytes: 1024 * 1024, cluster: CLUSTER, onAlert: (a) => alerts.push(a) });
  return alerts;
}

const ids = (alerts: Alert[]): string[] => alerts.map((a) => a.rule.id).sort();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'seam-seed-'));
  input = join(root, 'input.jsonl');
  awsAuth = join(root, 'aws-auth.yaml');
  podIdentity = join(root, 'pod-identity.json');
  await writeFile(input, jsonl(records));
  await writeFile(awsAuth, AWS_AUTH_YAML);
  await writeFile(podIdentity, JSON.stringify([POD_IDENTITY], null, 2));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('embedded run seeded from snapshots (identity.seeds)', () => {
  it('without seeds the graph knows no mapping and no association: the same input raises nothing', async () => {
    expect(await run('bare', [])).toEqual([]);
  });

  it('seeded with aws-auth: the binding that widens a mapped group fires the IAM-to-RBAC drift, critical', async () => {
    const alerts = await run('aws-auth', [{ path: awsAuth }]);
    expect(ids(alerts)).toEqual([DRIFT]);
    expect(alerts[0]!.rule.level).toBe('critical');
    expect(alerts[0]!.summary).toContain(`arn:aws:iam::${ACCOUNT}:role/ReadOnly in ${CLUSTER} (read-only by name) is now cluster-admin`);
  });

  it('seeded with a Pod Identity association: AdministratorAccess on its role fires the workload-role over-permission, naming the service account', async () => {
    const alerts = await run('pod-identity', [{ path: podIdentity }]);
    expect(ids(alerts)).toEqual([OVER]);
    expect(alerts[0]!.rule.level).toBe('critical');
    expect(alerts[0]!.summary).toContain(`assumable by ${CLUSTER}/payments/api`);
  });

  it('events later than the snapshot override it: an aws-auth update that drops the ReadOnly mapping silences the drift', async () => {
    const both = await run('both', [{ path: awsAuth }, { path: podIdentity }]);
    expect(ids(both)).toEqual([DRIFT, OVER]);
    const dropped = await run('dropped', [{ path: awsAuth }], [awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING, t('09:00:00'))]);
    expect(ids(dropped)).toEqual([]);
  });

  it('a seed stamped after the input (`at`) does not hold for it', async () => {
    expect(await run('late', [{ path: awsAuth, at: '2030-01-01T00:00:00Z' }])).toEqual([]);
  });
});

describe('seed files that cannot seed stop the start, naming the file (SEAM_ERR_SEED)', () => {
  it('a missing file, an aws-auth snapshot with no cluster, a list of associations without roles', async () => {
    await expect(loadDetection({ rules: [], ruleCacheDir: false, identity: { seeds: [{ path: join(root, 'missing.json') }] } })).rejects.toMatchObject({ code: 'SEAM_ERR_SEED', message: expect.stringContaining('missing.json cannot be read') });
    await expect(loadDetection({ rules: [], ruleCacheDir: false, identity: { seeds: [{ path: awsAuth }] } })).rejects.toMatchObject({ code: 'SEAM_ERR_SEED', message: expect.stringContaining('names no cluster') });
    const listed = join(root, 'listed.json');
    await writeFile(listed, JSON.stringify({ associations: [{ clusterName: CLUSTER, namespace: 'payments', serviceAccount: 'api', associationId: 'a-0123456789abcdef0' }] }));
    await expect(loadDetection({ rules: [], ruleCacheDir: false, identity: { seeds: [{ path: listed }] } })).rejects.toMatchObject({ code: 'SEAM_ERR_SEED', message: expect.stringContaining('describe each association') });
    // An audit record is no snapshot: read as kubectl, it gives nothing.
    const wrong = join(root, 'wrong.json');
    await writeFile(wrong, JSON.stringify(audit({ verb: 'get', user: iamK8sUser(alice), time: t('10:00:00'), resource: 'pods' })));
    await expect(loadDetection({ rules: [], ruleCacheDir: false, identity: { seeds: [{ path: wrong, cluster: CLUSTER }] } })).rejects.toMatchObject({ code: 'SEAM_ERR_SEED' });
  });
});
