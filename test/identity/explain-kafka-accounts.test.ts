// `seam identity explain --from kafka` merges every signals partition's graph into one. Here the records of three
// AWS accounts run through the Kafka pipeline with 3 signals partitions: A and B in one identity.accountGroups entry
// (ADR 0056: the chain of ../pipeline/cross-account-chain.ts — alice execs into an IRSA pod of A, its session assumes
// a role of B, the B session reads a secret — stays on A's partition), and C, alone on another partition (bob assumes
// an ops role of C twice: the role's first session closes when the second opens, and a CreateAccessEntry maps it into
// a cluster). For targets in every account, including the B session at the end of the cross-account chain, explain
// --from kafka must print what explaining the same records as a file replay prints, less the lines about the target's
// own calls and requests (the topic holds facts, not events). Without the group (B on its own partition) too: the
// correlate role then cannot resolve B's calls (ADR 0056), but explain reads all partitions into one graph. Real Kafka.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaPartition } from '../../src/bus/partition.ts';
import type { IdentityExplainOptions } from '../../src/cli/identity.ts';
import type { KafkaConfig } from '../../src/core/config/schema.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { kafkaBrokers } from '../helpers/services.ts';
import { EVENT_LINE, explainIn, kafkaOf } from './explain-run.ts';
import { ACCOUNT_A, crossAccountChain, type ChainRecord } from '../pipeline/cross-account-chain.ts';
import { pipeline, type Pipeline } from '../pipeline/harness.ts';
import { CLUSTER, ct, t } from './records.ts';

const ROOT = join(import.meta.dirname, '../..');
const PARTITIONS = { raw: 3, events: 3, signals: 3, alerts: 2, dlq: 1 };
const SIGNALS = PARTITIONS.signals;

// B and C: each on another signals partition than A's, and than each other's (checked below).
const B = '210987654321';
const C = '777788889999';
const C_CLUSTER = 'ops-eks-02';

/** Account C's trail: an IAM user assumes an ops role twice (two sessions, two keys), the ops session maps the role into a cluster. */
function accountC(): ChainRecord[] {
  const user = { type: 'IAMUser', principalId: 'AIDAEXAMPLEBOBOPS001', arn: `arn:aws:iam::${C}:user/bob`, accountId: C, accessKeyId: 'AKIAEXAMPLEBOBOPS001', userName: 'bob' };
  const roleArn = `arn:aws:iam::${C}:role/ops-admin`;
  const sessionOf = (name: string, key: string, at: string): Record<string, unknown> => ({
    type: 'AssumedRole',
    principalId: `AROAEXAMPLEOPSADMIN1:${name}`,
    arn: `arn:aws:sts::${C}:assumed-role/ops-admin/${name}`,
    accountId: C,
    accessKeyId: key,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEOPSADMIN1', arn: roleArn, accountId: C, userName: 'ops-admin' }, attributes: { creationDate: at, mfaAuthenticated: 'true' } },
  });
  const inC = (r: Record<string, unknown>, eventID: string): ChainRecord => {
    r.recipientAccountId = C;
    r.eventID = eventID;
    return { raw: r, source: 'cloudtrail' };
  };
  const assume = (name: string, key: string, at: string, eventID: string): ChainRecord =>
    inC(
      ct({
        source: 'sts.amazonaws.com',
        name: 'AssumeRole',
        time: at,
        ip: '203.0.113.77',
        identity: user,
        rp: { roleArn, roleSessionName: name, durationSeconds: 3600 },
        re: { credentials: { accessKeyId: key, sessionToken: 'IQoJb3JpZ2luX2VjEFIXTUREfixtureSessionTokenNotReal', expiration: 'Nov 5, 2024, 6:00:00 PM' }, assumedRoleUser: { assumedRoleId: `AROAEXAMPLEOPSADMIN1:${name}`, arn: `arn:aws:sts::${C}:assumed-role/ops-admin/${name}` } },
        userAgent: 'aws-cli/2.18.0 md/command#sts.assume-role',
      }),
      eventID,
    );
  return [
    assume('bob-ops', 'ASIAEXAMPLECOPS00001', t('13:30:00'), 'c0c0c0c0-0000-4000-8000-000000000001'),
    inC(
      ct({
        source: 'eks.amazonaws.com',
        name: 'CreateAccessEntry',
        time: t('13:31:00'),
        ip: '203.0.113.77',
        identity: sessionOf('bob-ops', 'ASIAEXAMPLECOPS00001', t('13:30:00')),
        rp: { clusterName: C_CLUSTER, principalArn: roleArn, kubernetesGroups: ['ops-admins'], type: 'STANDARD' },
        re: { accessEntry: { clusterName: C_CLUSTER, principalArn: roleArn, kubernetesGroups: ['ops-admins'], type: 'STANDARD', username: `arn:aws:sts::${C}:assumed-role/ops-admin/{{SessionName}}`, accessEntryArn: `arn:aws:eks:us-west-2:${C}:access-entry/${C_CLUSTER}/role/${C}/ops-admin/x` } },
        userAgent: 'aws-cli/2.18.0 md/command#eks.create-access-entry',
      }),
      'c0c0c0c0-0000-4000-8000-000000000002',
    ),
    inC(
      ct({ source: 'ec2.amazonaws.com', name: 'DescribeInstances', time: t('13:32:00'), ip: '203.0.113.77', identity: sessionOf('bob-ops', 'ASIAEXAMPLECOPS00001', t('13:30:00')), userAgent: 'aws-cli/2.18.0 md/command#ec2.describe-instances' }),
      'c0c0c0c0-0000-4000-8000-000000000003',
    ),
    assume('bob-ops', 'ASIAEXAMPLECOPS00002', t('14:40:00'), 'c0c0c0c0-0000-4000-8000-000000000004'),
    inC(
      ct({ source: 'ec2.amazonaws.com', name: 'DescribeInstances', time: t('14:41:00'), ip: '203.0.113.77', identity: sessionOf('bob-ops', 'ASIAEXAMPLECOPS00002', t('14:40:00')), userAgent: 'aws-cli/2.18.0 md/command#ec2.describe-instances' }),
      'c0c0c0c0-0000-4000-8000-000000000005',
    ),
  ];
}

const explain = (target: string, o: IdentityExplainOptions): ReturnType<typeof explainIn> => explainIn(CLUSTER, target, o);

// Built once: the record builders number their ids from a counter; the file and Kafka must hold the same records.
const records: ChainRecord[] = [...crossAccountChain(B), ...accountC()].sort((x, y) => Date.parse(timeOf(x)) - Date.parse(timeOf(y)));
function timeOf(r: ChainRecord): string {
  return String(r.raw.eventTime ?? r.raw.requestReceivedTimestamp ?? r.raw.stageTimestamp);
}

const TARGETS: [string, string][] = [
  ['A: the IRSA role the pod assumes', `arn:aws:iam::${ACCOUNT_A}:role/payments-api-irsa`],
  ['A: the service account alice execs into a pod of', 'payments/api'],
  ['B: the end of the cross-account chain (the B session that reads the secret)', `arn:aws:sts::${B}:assumed-role/shared-secrets-reader/payments-xacct`],
  ['B: the role of B the IRSA session assumes', `arn:aws:iam::${B}:role/shared-secrets-reader`],
  ['C: the ops role, assumed twice and mapped into a cluster of C', `arn:aws:iam::${C}:role/ops-admin`],
  ['C: the ops role session', `arn:aws:sts::${C}:assumed-role/ops-admin/bob-ops`],
];

describe.each([
  ['A and B in one account group', [[ACCOUNT_A, B]]],
  ['no account group (B on its own partition)', []],
])('seam identity explain --from kafka over three accounts on three signals partitions: %s', (name, accountGroups) => {
  let p: Pipeline;
  let kafka: KafkaConfig;
  let file: string;
  let byPartition: Map<number, number>;
  beforeAll(async () => {
    expect(new Set([ACCOUNT_A, B, C].map((a) => kafkaPartition(a, SIGNALS))).size).toBe(3);
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], identity: { accountGroups }, native: {} });
    p = await pipeline(accountGroups.length > 0 ? 'explain-xacct-grouped' : 'explain-xacct-split', PARTITIONS, undefined, { detection });
    kafka = kafkaOf({ SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${p.id}.` });
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.produce(records.map((r) => ({ text: JSON.stringify(r.raw), source: r.source, ...(r.cluster ? { cluster: r.cluster } : {}), ...(r.account ? { account: r.account } : {}) })));
    await p.drain();
    for (const r of roles) await r.stop();
    byPartition = new Map();
    await p.admin.readToEnd([p.topics.identity], (m) => byPartition.set(m.partition, (byPartition.get(m.partition) ?? 0) + 1));
    const dir = mkdtempSync(join(tmpdir(), 'seam-explain-xacct-'));
    file = join(dir, 'records.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r.raw)).join('\n') + '\n');
  }, 120_000);
  afterAll(async () => {
    await p?.cleanup();
  });

  it('the identity records are on the partitions of their accounts (group: A and B together)', () => {
    process.stdout.write(`${name}: identity records by partition ${JSON.stringify([...byPartition].sort((x, y) => x[0] - y[0]))}\n`);
    const group = accountGroups.length > 0;
    const expected = new Set([kafkaPartition(ACCOUNT_A, SIGNALS), kafkaPartition(C, SIGNALS), ...(group ? [] : [kafkaPartition(B, SIGNALS)])]);
    expect(new Set(byPartition.keys())).toEqual(expected);
  });

  it.each(TARGETS)('%s: the same as explaining the file replay, less the lines of its own events', async (_what, target) => {
    const fromFile = await explain(target, { input: [file] });
    const live = await explain(target, { from: 'kafka', kafka });
    expect(fromFile.code, fromFile.out).toBe(0);
    expect(live.code, live.err + live.out).toBe(0);
    expect(live.err).toMatch(/^read \d+ records from 3 partitions of \S+ in \d+ ms; graph: \d+ edges$/m);
    const body = fromFile.out.split('\n').slice(2);
    const same = body.filter((l) => !EVENT_LINE.test(l));
    expect(live.out.split('\n').slice(1)).toEqual(same);
    process.stdout.write(`${name}: ${target}: ${same.length} lines the same, ${body.length - same.length} event lines only in the file replay\n`);
  });
});
