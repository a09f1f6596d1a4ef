/**
 * Raw records for the correlate latency bench (bench/correlate-latency.ts), built with the identity tests' record
 * builders (test/identity/records.ts): one "attack" is alice exec'ing into a pod whose IRSA role then reads a secret
 * (exec → AssumeRoleWithWebIdentity → secretsmanager:GetSecretValue with the AWS CLI), which raises a single-event
 * Sigma alert on each plane (the exec: Shell Started In A Pod Through Exec; the read: Secrets Manager Secret Value
 * Read) and seam-native-exec-then-aws on the read (needs the exec handed to the graph first: the ordered path); alice's
 * fifth exec within 10 minutes raises the Sigma correlation corr_exec_into_many_pods_by_one_identity.
 * Every attack has its own service account, pod, role and session, so each raises its own alerts. Noise is the
 * chatter that keeps a plane busy: control-plane gets on the audit log, DescribeInstances on the trail.
 */
import { ACCOUNT, alice, assumeWebIdentity, audit, callAs, CLUSTER, execInto, iamK8sUser, podCreate, saK8sUser, saWrite, session } from '../../test/identity/records.ts';

export type Plane = 'k8s' | 'aws';
export interface BenchRecord {
  raw: Record<string, unknown>;
  source: 'k8s_audit' | 'cloudtrail';
  plane: Plane;
  /** What the audit log's collector attaches (CloudTrail names its own account). */
  cluster?: string;
  account?: string;
}

const CONTROLLER = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
const CLI_UA = 'aws-cli/2.18.0 md/awscrt#0.22.0 ua/2.0 os/linux#5.10.226 md/arch#x86_64 lang/python#3.12.6 md/command#secretsmanager.get-secret-value';
const iso = (ms: number): string => new Date(ms).toISOString();
const k8s = (raw: Record<string, unknown>): BenchRecord => ({ raw, source: 'k8s_audit', plane: 'k8s', cluster: CLUSTER, account: ACCOUNT });
/**
 * CloudTrail's eventTime is to the second, as AWS writes it; BENCH_CT_MILLIS=1 keeps the milliseconds (`time`), to
 * tell what the truncation costs (ADR 0009, 5c: the exec's final after its place in event order).
 */
const CT_MILLIS = process.env.BENCH_CT_MILLIS === '1';
const aws = (raw: Record<string, unknown>, time?: string): BenchRecord => ({ raw: CT_MILLIS && time !== undefined ? { ...raw, eventTime: time } : raw, source: 'cloudtrail', plane: 'aws' });

/** Rule ids of the alerts an attack raises that the bench times. */
export const SIGMA_K8S_RULE = '7a67f058-b1bc-4f56-8330-b399e71c64af';
export const SIGMA_AWS_RULE = 'cd1a4f89-fc99-4a25-aba6-18739136b43e';
export const EXEC_THEN_AWS_RULE = 'seam-native-exec-then-aws';
/** corr_exec_into_many_pods_by_one_identity: alice's execs into 5 or more pods within 10 minutes (a Sigma value_count). */
export const SIGMA_CORR_RULE = 'b483b3e3-4b98-4b96-8dbc-eba18a4f80d1';

export interface Attack {
  name: string;
  /** The service account and its pod, at `setupMs` and 30 s after (event time): produced once, before any attack. */
  setup: (setupMs: number) => BenchRecord[];
  /** The exec, the role's web-identity session and the secret read, a second apart (event time), the read at `atMs`. */
  records: (atMs: number) => BenchRecord[];
}

export function attack(name: string, n: number): Attack {
  const sa = name;
  const pod = `bench/${name}-7c9d8f6b5-x2k4q`;
  const role = `${name}-irsa`;
  const irsa = session(role, `botocore-session-${name}`, `ASIABENCH${String(n).padStart(11, '0')}`);
  return {
    name,
    setup: (ms) => [k8s(saWrite(iamK8sUser(alice), `bench/${sa}`, irsa.roleArn, iso(ms))), k8s(podCreate(CONTROLLER, pod, sa, iso(ms + 30_000)))],
    records: (ms) => [
      // The exec as the API server logs a session's upgrade (101 at ResponseStarted), which k8s_exec_or_attach_into_pod reads.
      k8s({ ...execInto(iamK8sUser(alice), pod, iso(ms - 2000), 'sh'), stage: 'ResponseStarted' }),
      aws(assumeWebIdentity(`bench/${sa}`, role, irsa.session, irsa.key, iso(ms - 1000)), iso(ms - 1000)),
      aws(callAs(irsa, 'secretsmanager.amazonaws.com', 'GetSecretValue', iso(ms), undefined, { secretId: 'prod/ledger-db' }, { userAgent: CLI_UA }), iso(ms)),
    ],
  };
}

const COREDNS = saK8sUser('kube-system', 'coredns');
const NODE_READER = session('eks-node-role', 'i-0abc1234def567890', 'ASIABENCHNODE0000001');

/** One record of a plane's routine chatter at `ms` (event time). */
export function noise(plane: Plane, ms: number, i: number): BenchRecord {
  return plane === 'k8s'
    ? k8s(audit({ verb: 'get', user: COREDNS, time: iso(ms), resource: 'endpoints', namespace: 'kube-system', name: `svc-${i % 50}`, ip: '10.0.101.17', userAgent: 'coredns/v1.11.1' }))
    : aws(callAs(NODE_READER, 'ec2.amazonaws.com', 'DescribeInstances', iso(ms)), iso(ms));
}
