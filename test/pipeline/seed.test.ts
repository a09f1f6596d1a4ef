// Identity seeds on Kafka (review-platsec M5): every correlate member reads seam.yml's identity.seeds at its start
// and each partition's graph starts from them, before its rebuild restores seam.identity. The aws-auth mapping and
// the Pod Identity association here were made before Seam started (no event shows them): the seeded members fire the
// detections that need them, also after a member leaves and the other takes its partitions over (a rebuild); the
// same records through members without seeds raise nothing. Real Kafka and OpenSearch.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/bus/types.ts';
import type { Alert } from '../../src/detect/alert.ts';
import type { SeedConfig } from '../../src/identity/config.ts';
import { loadDetection, type Detection } from '../../src/pipeline/detection.ts';
import { alertVersion } from '../../src/pipeline/early.ts';
import { rawHeaders } from '../../src/sources/checkpoint/raw-record.ts';
import { ACCOUNT, CLUSTER, NODE_MAPPING, alice, bindingWrite, ct, iamK8sUser, roleMapping, t } from '../identity/records.ts';
import { pipeline, type Pipeline } from './harness.ts';

const DRIFT = 'seam-native-iam-rbac-drift';
const OVER = 'seam-native-workload-role-overpermission';
const PARTITIONS = { raw: 1, events: 1, signals: 2, alerts: 1, dlq: 1 };

let dir: string;
let seeds: SeedConfig[];

const binding = bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00'));
const legacy = { type: 'IAMUser', principalId: 'AIDAEXAMPLECIUSER001', arn: `arn:aws:iam::${ACCOUNT}:user/legacy-ci`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLELEGACY001', userName: 'legacy-ci' };
const attach = ct({ source: 'iam.amazonaws.com', name: 'AttachRolePolicy', time: t('10:05:00'), identity: legacy, rp: { roleName: 'payments-api-pod', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, ip: '198.51.100.77', region: 'us-east-1' });

/** One member's detection, as a `seam run --role correlate` process loads it from seam.yml (its own read of the seed files). */
const member = (withSeeds: boolean): Promise<Detection> =>
  loadDetection({ rules: [], ruleCacheDir: false, identity: { clusters: [{ name: CLUSTER, account: ACCOUNT }], seeds: withSeeds ? seeds : [] }, seedCluster: CLUSTER });

/** Records as the collectors put them on the raw topics: the audit one attributed to its cluster. */
async function produce(p: Pipeline, records: { raw: Record<string, unknown>; source: 'k8s_audit' | 'cloudtrail' }[]): Promise<void> {
  const producer = await p.admin.producer();
  const receivedAt = new Date().toISOString();
  const msgs: BusMessage[] = records.map((r, i) => ({
    topic: p.topics.raw(r.source),
    key: `seed-${i}`,
    value: Buffer.from(JSON.stringify(r.raw)),
    headers: rawHeaders({ collector: 'test', receivedAt, origin: `seed:${i}`, source: r.source, ...(r.source === 'k8s_audit' ? { cluster: CLUSTER, account: ACCOUNT } : {}) }),
  }));
  await producer.send(msgs);
  await producer.close();
}

async function finals(p: Pipeline): Promise<Alert[]> {
  const out: Alert[] = [];
  await p.admin.readToEnd([p.topics.alerts], (m) => {
    const a = JSON.parse(m.value.toString('utf8')) as Alert;
    if (alertVersion(a) === 'final') out.push(a);
  });
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seam-seed-kafka-'));
  const awsAuth = join(dir, 'aws-auth.yaml');
  const podIdentity = join(dir, 'pod-identity.json');
  const mapRoles = (NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']))
    .split('\n')
    .map((l) => (l === '' ? l : '    ' + l))
    .join('\n');
  await writeFile(awsAuth, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n${mapRoles}`);
  await writeFile(
    podIdentity,
    JSON.stringify([{ association: { clusterName: CLUSTER, namespace: 'payments', serviceAccount: 'api', roleArn: `arn:aws:iam::${ACCOUNT}:role/payments-api-pod`, associationId: 'a-0123456789abcdef0' } }]),
  );
  seeds = [{ path: awsAuth }, { path: podIdentity }];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identity seeds on Kafka: each correlate member starts its graphs from the snapshots', () => {
  let p: Pipeline | undefined;
  afterAll(async () => {
    await p?.cleanup();
  });

  it('two seeded members fire what needs the seeded mapping and association, also after one leaves and the other rebuilds its partitions', async () => {
    p = await pipeline('seed', PARTITIONS);
    await produce(p, [{ raw: binding, source: 'k8s_audit' }]);
    const normalize = p.normalize();
    const index = p.index();
    const a = p.correlate(undefined, await member(true));
    const b = p.correlate(undefined, await member(true));
    for (const r of [normalize, index, a, b]) await r.start();
    await p.drain();
    const first = await finals(p);
    expect(first.map((x) => x.rule.id)).toEqual([DRIFT]);
    expect(first[0]!.rule.level).toBe('critical');
    expect(first[0]!.summary).toContain(`role/ReadOnly in ${CLUSTER} (read-only by name) is now cluster-admin`);

    // Member a leaves: b owns both signals partitions and rebuilds each (seam.identity, then the signals window) on a
    // graph that starts from its own read of the seeds. The association was never on seam.identity: only the seed has it.
    await a.stop();
    await produce(p, [{ raw: attach, source: 'cloudtrail' }]);
    await p.drain();
    const all = await finals(p);
    const s = b.stats() as { rebuilds: number; rebuiltSignals: number; suppressedOnRebuild: number };
    process.stdout.write(`seeds on kafka: alerts=${all.map((x) => x.rule.id).join(',')} member b rebuilds=${s.rebuilds} rebuiltSignals=${s.rebuiltSignals} suppressedOnRebuild=${s.suppressedOnRebuild}\n`);
    expect(all.map((x) => x.rule.id).sort()).toEqual([DRIFT, OVER]);
    const over = all.find((x) => x.rule.id === OVER)!;
    expect(over.summary).toContain(`assumable by ${CLUSTER}/payments/api`);
    expect(s.rebuilds).toBeGreaterThan(0);
    for (const r of [b, normalize, index]) await r.stop();
  });

  it('the same records through members without seeds raise nothing', async () => {
    await p?.cleanup();
    p = await pipeline('noseed', PARTITIONS);
    await produce(p, [
      { raw: binding, source: 'k8s_audit' },
      { raw: attach, source: 'cloudtrail' },
    ]);
    const roles = [p.normalize(), p.index(), p.correlate(undefined, await member(false)), p.correlate(undefined, await member(false))];
    for (const r of roles) await r.start();
    await p.drain();
    // Both records were read and handed on: the index holds their events.
    await p.os.indices.refresh({ index: `${p.indexPrefix}-events-*` });
    const events = await p.os.count({ index: `${p.indexPrefix}-events-*` });
    expect((events.body as { count: number }).count).toBe(2);
    expect(await finals(p)).toEqual([]);
    for (const r of roles) await r.stop();
  });
});
