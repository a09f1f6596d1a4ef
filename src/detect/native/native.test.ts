import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraphOptions } from '../../identity/config.ts';
import { nativeIdOf, type Alert } from '../alert.ts';
import {
  ACCOUNT,
  ATTACKER_IP,
  CLUSTER,
  NAT_IP,
  NODE_MAPPING,
  alice,
  assumeWebIdentity,
  audit,
  awsAuthUpdate,
  bindingWrite,
  bob,
  byTime,
  callAs,
  ct,
  eksCall,
  ev,
  execInto,
  fixtureEvents,
  iamK8sUser,
  podCreate,
  podIdentityAssume,
  roleMapping,
  saK8sUser,
  saWrite,
  session,
  t,
  tokenRequest,
  roleWrite,
  assumedRoleIdentity,
} from '../../../test/identity/records.ts';
import { createNativeEngine } from './engine.ts';
import { NATIVE_DETECTION_LIST, NATIVE_DETECTIONS } from './registry.ts';
import { ALERT_LEVELS } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';

const controller = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] };
const irsa = session('payments-api-irsa', 'botocore-session-1730815740', 'ASIAEXAMPLEIRSA00001');
const POD = 'payments/api-7c9d8f6b5-x2k4q';

const run = (events: SeamEvent[], only: string, graph: IdentityGraphOptions = {}): Alert[] => runNative(only, events, { graph });

/** Pod of payments/api, alice execs into it, the pod exchanges its token (from the NAT) for IRSA keys. */
function irsaStory(execAt = '14:09:08'): SeamEvent[] {
  return [
    ev(saWrite(iamK8sUser(alice), 'payments/api', irsa.roleArn, t('12:00:00'))),
    ev(podCreate(controller, POD, 'api', t('13:00:00'))),
    ev(execInto(iamK8sUser(alice), POD, t(execAt), 'sh -c curl -s http://169.254.170.23/v1/credentials')),
    ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:09:12')), undefined),
  ];
}

describe('registry', () => {
  // No count of detections here: what every registered one must have, whatever their number.
  const here = import.meta.dirname;
  const coverage = readFileSync(join(here, '..', '..', '..', 'docs', 'coverage.md'), 'utf8');
  /** Ids with a row in docs/coverage.md's table of native detections (`| \`seam-native-…\` | level | what |`). */
  const documented = new Map([...coverage.matchAll(/^\| `(seam-native-[a-z0-9-]+)` \| ([a-z]+)/gm)].map((m) => [m[1]!, m[2]!]));
  /** Test files of this folder that build an engine, directly or with the shared helper. */
  const tests = readdirSync(here)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => ({ f, text: readFileSync(join(here, f), 'utf8') }))
    .filter((x) => x.text.includes('createNativeEngine') || x.text.includes('test/helpers/native.ts'));

  it('registers each detection once, under its own id', () => {
    expect(NATIVE_DETECTION_LIST.length).toBeGreaterThan(0);
    const ids = NATIVE_DETECTION_LIST.map((d) => d.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(Object.keys(NATIVE_DETECTIONS).sort()).toEqual([...ids].sort());
  });

  /** A raw CloudTrail or Kubernetes audit field an analyst would have to look up in the record. */
  const RAW_FIELD_PATH = /\b(requestParameters|responseElements|userIdentity|sessionContext|additionalEventData|sourceIPAddress|subjectFromWebIdentityToken|objectRef|requestURI|requestObject|responseObject)\b/;

  it.each(NATIVE_DETECTION_LIST.map((d) => [d.id, d] as const))('%s has an id, a level, ATT&CK tags, a title, a triage note, a row in docs/coverage.md and a test', (id, d) => {
    expect(id).toMatch(/^seam-native-[a-z0-9-]+$/);
    expect(ALERT_LEVELS).toContain(d.level);
    expect(d.title.length).toBeGreaterThan(10);
    expect(d.description.length).toBeGreaterThan(20);
    expect(d.triage.length).toBeGreaterThan(20);
    // The analyst reads values, not where to dig them out of a raw record (SOC review M4).
    expect(d.triage).not.toMatch(RAW_FIELD_PATH);
    // Every tag Sigma style (ATT&CK) or Seam's own; at least one ATT&CK technique, except the GuardDuty join
    // (`seam.incident`: a finding and what surrounds it, whose technique is the finding's).
    for (const t of d.tags) expect(t).toMatch(/^(attack\.(t\d{4}(\.\d{3})?|[a-z]+(-[a-z]+)*)|seam\.[a-z-]+)$/);
    if (!d.tags.includes('seam.incident')) expect(d.tags.some((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t)), d.tags.join()).toBe(true);
    // Documented with its default level.
    expect(documented.get(id), 'row in docs/coverage.md').toBe(d.level);
    // Exercised: a test of this folder names it and builds an engine.
    expect(tests.filter((x) => x.text.includes(`'${id}'`)).map((x) => x.f).length, 'test file').toBeGreaterThan(0);
  });

  it('docs/coverage.md documents no native detection that is not registered', () => {
    expect(documented.size).toBeGreaterThan(0);
    expect([...documented.keys()].filter((id) => NATIVE_DETECTIONS[id] === undefined)).toEqual([]);
  });
});

describe('IRSA / Pod Identity credentials used outside the cluster', () => {
  const id = 'seam-native-workload-creds-off-cluster';
  it('fires when the pod’s keys are used from an address the cluster never egressed from, naming the exec’ing person', () => {
    const alerts = run([...irsaStory(), ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:15:00'), ATTACKER_IP), undefined)], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain(ATTACKER_IP);
    expect(alerts[0]!.summary).toContain('role/PlatformAdmin (alice@example.com)');
    // The triage text names the session, service account, cluster, call, address, the cluster's egress and who the chain leads to.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`role/payments-api-irsa (botocore-session-1730815740), the session of service account payments/api of ${CLUSTER}, called sts.amazonaws.com:GetCallerIdentity from ${ATTACKER_IP} with “Boto3/`);
    expect(tr).toContain(`${CLUSTER} reaches AWS from ${NAT_IP}.`);
    expect(tr).toContain(`Did role/PlatformAdmin (alice@example.com) exec into a pod of payments/api shortly before, and what else did ${ATTACKER_IP} do?`);
    expect(tr).toContain('Revoke role/payments-api-irsa’s sessions issued before now');
    expect(alerts[0]!.principal?.service_account).toBe('payments/api');
    expect(alerts[0]!.events).toHaveLength(2);
  });
  it('names the addresses of a session used from many (medium), in the summary and the triage text', () => {
    const addrs = ['198.51.100.201', '198.51.100.202', '198.51.100.203'];
    const alerts = run([...irsaStory(), ...addrs.map((ip, i) => ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t(`14:1${i}:00`), ip), undefined))], id);
    const many = alerts.filter((a) => a.rule.level === 'medium');
    expect(many).toHaveLength(1);
    expect(many[0]!.triage).toContain(`the session of service account payments/api of ${CLUSTER}, was used from 3 addresses: ${addrs.join(', ')}; ${CLUSTER} reaches AWS from ${NAT_IP}.`);
    expect(many[0]!.triage).toContain('If any is not yours: revoke role/payments-api-irsa’s sessions issued before now');
  });

  it('stays quiet for calls from the NAT, via a VPC endpoint, or from a configured CIDR', () => {
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), NAT_IP), undefined)], id)).toEqual([]);
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '10.0.12.7', null, { vpcEndpointId: 'vpce-0abc' }), undefined)], id)).toEqual([]);
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '52.94.140.9'), undefined)], id, { clusters: [{ name: CLUSTER, egressCidrs: ['52.94.140.0/24'] }] })).toEqual([]);
  });
  it('reads configured IPv6 egress ranges by their bits: compressed callers inside stay quiet, a /36 trusts no more than /36', () => {
    const v6 = { clusters: [{ name: CLUSTER, egressCidrs: ['2600:1f14:0abc:1000::/52'] }] };
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '2600:1f14:abc:1fff::7'), undefined)], id, v6)).toEqual([]);
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '2600:1f14:abc:2000::7'), undefined)], id, v6)).toHaveLength(1);
    const odd = { clusters: [{ name: CLUSTER, egressCidrs: ['2600:1f14:1000::/36'] }] };
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '2600:1f14:1fff:ffff::1'), undefined)], id, odd)).toEqual([]);
    // Same first 32 bits, outside the /36: the old text comparison (whole 16-bit groups) trusted it.
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '2600:1f14:2000::1'), undefined)], id, odd)).toHaveLength(1);
  });
  it('reads IPv4-mapped IPv6 callers as their IPv4 address against configured ranges', () => {
    const v4 = { clusters: [{ name: CLUSTER, egressCidrs: ['52.94.140.0/24'] }] };
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '::ffff:52.94.140.9'), undefined)], id, v4)).toEqual([]);
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:15:00'), '::ffff:52.94.141.9'), undefined)], id, v4)).toHaveLength(1);
  });
  it('identity graph egress learning reads mapped and compressed IPv6: pods behind a VPC endpoint, a thief on public IPv6', () => {
    // The pods' addresses are private only when read as addresses (::ffff:10.x, fd00::/8); read as text
    // the graph would call them public, learn the thief's address as egress and stay quiet.
    const stolen = session('payments-api-irsa', 'botocore-session-stolen6', 'ASIAEXAMPLESTOLEN006');
    const thief = '2a05:d018:abc::66';
    const alerts = run(
      [
        ev(saWrite(iamK8sUser(alice), 'payments/api', irsa.roleArn, t('12:00:00'))),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:00:00'), '::ffff:10.0.151.8'), undefined),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:01:00'), 'fd00:ec2::23'), undefined),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', stolen.session, stolen.key, t('14:10:35'), thief), undefined),
        ev(callAs(stolen, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:10:44'), thief), undefined),
      ],
      id,
    );
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts[0]!.summary).toContain(thief);
  });
  it('does not learn a public caller as egress of a cluster that reaches STS only through a VPC endpoint', () => {
    // The pods assume their role from private addresses; a stolen token is then exchanged from outside.
    const stolen = session('payments-api-irsa', 'botocore-session-stolen', 'ASIAEXAMPLESTOLEN001');
    const alerts = run(
      [
        ev(saWrite(iamK8sUser(alice), 'payments/api', irsa.roleArn, t('12:00:00'))),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:00:00'), '10.0.151.8'), undefined),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', stolen.session, stolen.key, t('14:10:35'), ATTACKER_IP), undefined),
        ev(callAs(stolen, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:10:44'), ATTACKER_IP), undefined),
      ],
      id,
    );
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts[0]!.summary).toContain(ATTACKER_IP);
  });
  it('fires for Pod Identity keys too, and when one session shows up from many addresses', () => {
    const key = 'ASIAEXAMPLEPODID0001';
    const s = session('payments-api-podid', `eks-${CLUSTER}-api-7c9d8f6b5-x2k4q-3f9a1c2e`, key);
    const assume = podIdentityAssume('payments/api', 'api-7c9d8f6b5-x2k4q', 'payments-api-podid', key, t('14:00:00')).map((r) => ev(r, undefined));
    const off = run([...assume, ev(callAs(s, 'secretsmanager.amazonaws.com', 'GetSecretValue', t('14:05:00'), ATTACKER_IP), undefined)], id);
    expect(off).toHaveLength(1);
    expect(off[0]!.summary).toContain('payments/api');
    const many = run([...assume, ...['52.94.140.1', '52.94.140.2', '52.94.140.3'].map((ip, i) => ev(callAs(s, 's3.amazonaws.com', 'GetObject', t('14:05:00', i), ip), undefined))], id, { clusters: [{ name: CLUSTER, egressCidrs: [] }] });
    expect(many.filter((a) => a.summary.includes('3 addresses'))).toHaveLength(1);
  });
});

describe('node instance-role credentials used off the node', () => {
  const id = 'seam-native-node-creds-off-node';
  const node = session('eks-node-role', 'i-0abc123def4567890', 'ASIAEXAMPLENODE00001');
  const base = (): SeamEvent[] => [ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING, t('09:00:00'), 'create')), ...irsaStory()];
  it('fires when the node role is used from outside the cluster', () => {
    const alerts = run([...base(), ev(callAs(node, 'ec2.amazonaws.com', 'DescribeInstances', t('14:20:00'), ATTACKER_IP), undefined)], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('i-0abc123def4567890');
    // The triage text names the session, key, call and address, the cluster's egress, and the commands with the instance and role.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`Node role session role/eks-node-role (i-0abc123def4567890) (key ASIAEXAMPLENODE00001), used by the nodes of ${CLUSTER}, called ec2.amazonaws.com:DescribeInstances from ${ATTACKER_IP}`);
    expect(tr).toContain(`${CLUSTER} reaches AWS from ${NAT_IP}`);
    expect(tr).toContain('aws ec2 describe-instances --instance-ids i-0abc123def4567890');
    expect(tr).toContain('AttributeValue=ASIAEXAMPLENODE00001');
    expect(tr).toContain('aws iam put-role-policy --role-name eks-node-role --policy-name AWSRevokeOlderSessions');
    expect(tr).toContain(`Benign if ${ATTACKER_IP} is a new egress address of ${CLUSTER}`);
  });
  it('stays quiet from the NAT, from private addresses, and for roles that are not node roles', () => {
    expect(run([...base(), ev(callAs(node, 'ec2.amazonaws.com', 'DescribeInstances', t('14:20:00'), NAT_IP), undefined)], id)).toEqual([]);
    expect(run([...base(), ev(callAs(node, 'ecr.amazonaws.com', 'GetAuthorizationToken', t('14:20:00'), '10.0.142.21'), undefined)], id)).toEqual([]);
    expect(run([...base(), ev(callAs(bob, 'ec2.amazonaws.com', 'DescribeInstances', t('14:20:00'), ATTACKER_IP), undefined)], id)).toEqual([]);
  });
  it('in a cluster whose egress is unknown (no workload identities seen), judges by whose network the address is', () => {
    // Only the node mapping: no IRSA exchange ever taught the graph the cluster's NAT address.
    const nodesOnly = (): SeamEvent[] => [ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING, t('09:00:00'), 'create'))];
    // The nodes' own calls through a NAT gateway (an AWS address): quiet.
    expect(run([...nodesOnly(), ev(callAs(node, 'ec2.amazonaws.com', 'DescribeNetworkInterfaces', t('14:20:00'), NAT_IP), undefined)], id)).toEqual([]);
    // The same keys from an address outside AWS: still high.
    expect(run([...nodesOnly(), ev(callAs(node, 'ec2.amazonaws.com', 'DescribeInstances', t('14:20:00'), ATTACKER_IP), undefined)], id)).toHaveLength(1);
  });
});

describe('exec into a pod, then its role calls AWS', () => {
  const id = 'seam-native-exec-then-aws';
  it('ties alice’s exec to the pod role’s GetCallerIdentity and secret read (one alert per exec and session)', () => {
    const alerts = run(
      [
        ...irsaStory(),
        ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:09:14')), undefined),
        ev(callAs(irsa, 'secretsmanager.amazonaws.com', 'GetSecretValue', t('14:09:31')), undefined),
      ],
      id,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events).toHaveLength(3); // exec, AssumeRoleWithWebIdentity, the call
    expect(alerts[0]!.summary).toMatch(/alice@example.com.* exec'd into payments\/api-7c9d8f6b5-x2k4q \(sh -c curl/);
    expect(alerts[0]!.rule.tags).toContain('attack.t1609');
    // The triage text names the person, pod, cluster, session, call and address, and judges the address (SOC review M4).
    const tr = alerts[0]!.triage!;
    expect(tr).toContain('role/PlatformAdmin (alice@example.com) exec’d into payments/api-7c9d8f6b5-x2k4q in prod-eks-01 at 2024-11-05T14:09:08.000Z; 6s later its role session role/payments-api-irsa (');
    expect(tr).toContain(`called sts.amazonaws.com:GetCallerIdentity from ${NAT_IP} with “Boto3/`);
    expect(tr).toContain(`${NAT_IP} is one of prod-eks-01’s egress addresses, so the keys were used from inside the cluster.`);
    expect(tr).toContain('revoke role/payments-api-irsa’s sessions issued before now');
    expect(tr).not.toMatch(/requestURI|objectRef|userIdentity/);
    // The same call from an address the cluster never reached AWS from: the keys left the pod.
    const out = run([...irsaStory(), ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:09:14'), ATTACKER_IP), undefined)], id);
    expect(out[0]!.triage).toContain(`from ${ATTACKER_IP}`);
    expect(out[0]!.triage).toContain(`${ATTACKER_IP} is not an address prod-eks-01 is known to reach AWS from, so the keys were likely copied out of the pod.`);
  });
  it('works on the fixture day as recorded', () => {
    const events = byTime([...fixtureEvents('k8s-audit/eks-audit.jsonl'), ...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('runtime/native.jsonl')]);
    const alerts = run(events, id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.native_ids).toEqual(['d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e505', '0f6c2a1e-5b7d-4e3f-9a8b-1c2d3e4f5a61', '1a7d3b2f-6c8e-4f40-8b9c-2d3e4f5a6b72']);
  });
  it('stays quiet for routine calls, an exec too long before, or an exec into another workload', () => {
    expect(run([...irsaStory(), ev(callAs(irsa, 's3.amazonaws.com', 'GetObject', t('14:09:30')), undefined)], id)).toEqual([]);
    expect(run([...irsaStory('13:55:00'), ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:09:30')), undefined)], id)).toEqual([]);
    const other = irsaStory();
    other[2] = ev(execInto(iamK8sUser(alice), 'payments/worker-1', t('14:09:08')));
    expect(run([...other, ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:09:30')), undefined)], id)).toEqual([]);
  });
});

describe('exec into a busy IRSA pod: the application’s own calls are not the person’s', () => {
  const id = 'seam-native-exec-then-aws';
  const APP_UA = 'aws-sdk-java/2.28.11 Linux/5.10.227 OpenJDK_64-Bit_Server_VM/17.0.13 Java/17.0.13 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2';
  /** The pod exchanged its token at 13:30 and has been decrypting with KMS since; alice opens a shell at 14:09:08. */
  function busyPod(): SeamEvent[] {
    return [
      ev(saWrite(iamK8sUser(alice), 'payments/api', irsa.roleArn, t('12:00:00'))),
      ev(podCreate(controller, POD, 'api', t('13:00:00'))),
      ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('13:30:00')), undefined),
      ev(callAs(irsa, 'kms.amazonaws.com', 'Decrypt', t('13:31:10'), NAT_IP, null, { userAgent: APP_UA }), undefined),
      ev(callAs(irsa, 'secretsmanager.amazonaws.com', 'GetSecretValue', t('13:58:00'), NAT_IP, null, { userAgent: APP_UA }), undefined),
      ev(execInto(iamK8sUser(alice), POD, t('14:09:08'), 'sh')),
    ];
  }
  it('stays quiet when the session the pod already held calls with the user agent it already used', () => {
    const alerts = run(
      [
        ...busyPod(),
        ev(callAs(irsa, 'kms.amazonaws.com', 'Decrypt', t('14:09:36'), NAT_IP, null, { userAgent: APP_UA }), undefined),
        ev(callAs(irsa, 'secretsmanager.amazonaws.com', 'GetSecretValue', t('14:12:00'), NAT_IP, null, { userAgent: APP_UA }), undefined),
      ],
      id,
    );
    expect(alerts).toEqual([]);
  });
  it('stays quiet when the app’s SDK refreshes its session after the exec and goes on with the same client', () => {
    const refreshed = session('payments-api-irsa', 'botocore-session-1730816100', 'ASIAEXAMPLEIRSA00002');
    const alerts = run(
      [
        ...busyPod(),
        ev(assumeWebIdentity('payments/api', 'payments-api-irsa', refreshed.session, refreshed.key, t('14:10:30')), undefined),
        ev(callAs(refreshed, 'kms.amazonaws.com', 'Decrypt', t('14:10:31'), NAT_IP, null, { userAgent: APP_UA }), undefined),
      ],
      id,
    );
    expect(alerts).toEqual([]);
  });
  it('still fires when that same session shows a client it never used before the exec (the person’s aws CLI)', () => {
    const alerts = run([...busyPod(), ev(callAs(irsa, 'sts.amazonaws.com', 'GetCallerIdentity', t('14:10:02'), NAT_IP, null, { userAgent: 'aws-cli/2.18.0 md/command#sts.get-caller-identity' }), undefined)], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatch(/exec'd into payments\/api-7c9d8f6b5-x2k4q \(sh\).*sts.amazonaws.com:GetCallerIdentity/);
    expect(alerts[0]!.triage).toContain('54s later its role session role/payments-api-irsa (botocore-session-1730815740) called sts.amazonaws.com:GetCallerIdentity');
    expect(alerts[0]!.triage).toContain('with “aws-cli/2.18.0');
  });
  it('still fires when the app’s client is first seen on the session only after the exec (a session issued after it)', () => {
    const late = [...busyPod().slice(0, 2), ev(execInto(iamK8sUser(alice), POD, t('14:09:08'), 'sh'))];
    late.push(ev(assumeWebIdentity('payments/api', 'payments-api-irsa', irsa.session, irsa.key, t('14:09:12')), undefined));
    late.push(ev(callAs(irsa, 'kms.amazonaws.com', 'Decrypt', t('14:09:20'), NAT_IP, null, { userAgent: APP_UA }), undefined));
    expect(run(late, id)).toHaveLength(1);
  });
});

describe('aws-auth backdoor', () => {
  const id = 'seam-native-aws-auth-backdoor';
  const ci = session('ci-deployer', 'gha-run-4711', 'ASIAEXAMPLECIDEPLOY1', 'AROAEXAMPLECIDEPLOY1');
  it('fires critical for a new system:masters mapping against a known baseline, then on its first use', () => {
    const alerts = run(
      [
        ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING, t('09:00:00'), 'create')),
        ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ci-deployer', 'ci-deployer', ['system:masters']), t('14:05:42'))),
        ev(audit({ verb: 'list', user: iamK8sUser(ci, 'ci-deployer', ['system:masters', 'system:authenticated']), time: t('14:11:20'), resource: 'secrets', namespace: 'payments' })),
        ev(audit({ verb: 'list', user: iamK8sUser(ci, 'ci-deployer', ['system:masters', 'system:authenticated']), time: t('14:12:20'), resource: 'pods', namespace: 'payments' })),
      ],
      id,
    );
    expect(alerts.map((a) => a.rule.level)).toEqual(['critical', 'critical']);
    expect(alerts[0]!.summary).toContain('system:masters');
    expect(alerts[1]!.summary).toContain('First use');
    // The first-use alert's principal is the mapped identity: the summary names who made the grant, and when.
    expect(alerts[1]!.summary).toContain(`granted by ${alice.arn} at 2024-11-05T14:05:42`);
    expect(alerts[1]!.events).toHaveLength(2);
    // Where each request came from ends its summary, as a Sigma summary's does (SOC review L2).
    for (const a of alerts) expect(a.source_ip).toBeDefined();
    expect(alerts[0]!.summary.endsWith(`; by ${alice.arn} from ${alerts[0]!.source_ip}`)).toBe(true);
    expect(alerts[1]!.summary).toMatch(new RegExp(`list secrets \\S+ from ${alerts[1]!.source_ip!.replaceAll('.', '\\.')}$`));
    // One detection id, two variants with their own titles (SOC review M5).
    expect(alerts.map((a) => [a.rule.id, a.rule.variant, a.rule.title])).toEqual([
      [id, 'mapping', 'aws-auth mapping added or widened'],
      [id, 'first_use', 'First use of a new aws-auth mapping'],
    ]);
    // Each variant's triage names this alert's values: the editor on the mapping alert; the grantee, the editor,
    // the time and the mapping alert's id on the first-use alert.
    expect(alerts[0]!.triage).toMatch(/^The principal here is who edited aws-auth, role\/PlatformAdmin \(alice@example\.com\): arn:aws:iam::\d+:role\/ci-deployer now maps to Kubernetes user ci-deployer with system:masters/);
    expect(alerts[1]!.triage).toContain(`The principal here is the grantee, role/ci-deployer (gha-run-4711), acting in ${CLUSTER} for the first time since role/PlatformAdmin (alice@example.com)`);
    expect(alerts[1]!.triage).toContain(`at 2024-11-05T14:05:42.000Z (grant alert ${alerts[0]!.id})`);
  });
  it('flags the fixture’s aws-auth edit (no baseline) and the mapped principal’s first request', () => {
    const alerts = run(fixtureEvents('k8s-audit/eks-audit.jsonl'), id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high', 'critical']);
    expect(alerts[0]!.summary).toContain('may be old');
  });
  it('without an earlier aws-auth, names the widening the graph saw, and waits for a request that carries the new group (SOC review M4)', () => {
    const deployers = iamK8sUser(ci, 'ci-deployer', ['system:authenticated', 'deployers']);
    const masters = iamK8sUser(ci, 'ci-deployer', ['system:masters', 'system:authenticated']);
    const used = ev(audit({ verb: 'patch', user: masters, time: t('14:23:00'), resource: 'deployments', namespace: 'checkout' }));
    const alerts = run(
      [
        ev(audit({ verb: 'patch', user: deployers, time: t('14:04:00'), resource: 'deployments', namespace: 'checkout' })),
        ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ci-deployer', 'ci-deployer', ['system:masters']), t('14:15:35'))),
        // The same CI session, its request still in deployers: the mapping did not authorise it, not its first use.
        ev(audit({ verb: 'patch', user: deployers, time: t('14:17:00'), resource: 'deployments', namespace: 'checkout' })),
        used,
      ],
      id,
    );
    expect(alerts.map((a) => [a.rule.variant, a.rule.level])).toEqual([
      ['mapping', 'high'],
      ['first_use', 'critical'],
    ]);
    expect(alerts[0]!.summary).toContain('aws-auth mapping widened in');
    expect(alerts[0]!.summary).toContain('role/ci-deployer was seen at 2024-11-05T14:04:00.000Z as ci-deployer in deployers');
    expect(alerts[0]!.summary).not.toContain('may be old');
    expect(alerts[0]!.triage).toContain('the mapping now gives it system:masters');
    expect(alerts[1]!.events[1]).toBe(used.seam.id);
    expect(alerts[1]!.summary).toContain("; the request's groups: system:masters, system:authenticated): ");
    expect(alerts[1]!.triage).toContain('Before the grant role/ci-deployer was seen at 2024-11-05T14:04:00.000Z as ci-deployer in deployers');
    // Without the 14:23 request the grant is never used: the mapping's alert only.
    const unused = run(
      [
        ev(audit({ verb: 'patch', user: deployers, time: t('14:04:00'), resource: 'deployments', namespace: 'checkout' })),
        ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ci-deployer', 'ci-deployer', ['system:masters']), t('14:15:35'))),
        ev(audit({ verb: 'patch', user: deployers, time: t('14:23:00'), resource: 'deployments', namespace: 'checkout' })),
      ],
      id,
    );
    expect(unused.map((a) => a.rule.variant)).toEqual(['mapping']);
  });
  it('stays quiet on a first-seen aws-auth whose admin mapping the principal was already seen using', () => {
    const masters = iamK8sUser(ci, 'ci-deployer', ['system:masters', 'system:authenticated']);
    const alerts = run(
      [
        ev(audit({ verb: 'get', user: masters, time: t('14:04:00'), resource: 'pods', namespace: 'checkout' })),
        ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ci-deployer', 'ci-deployer', ['system:masters']), t('14:15:35'))),
        ev(audit({ verb: 'get', user: masters, time: t('14:23:00'), resource: 'pods', namespace: 'checkout' })),
      ],
      id,
    );
    expect(alerts).toEqual([]);
  });
  it('stays quiet when aws-auth is re-applied unchanged or only node mappings change', () => {
    const m = NODE_MAPPING + roleMapping('ci-deployer', 'ci-deployer', ['system:masters']);
    expect(run([ev(awsAuthUpdate(iamK8sUser(alice), m, t('09:00:00'), 'create')), ev(awsAuthUpdate(iamK8sUser(alice), m, t('10:00:00')))], id)).toHaveLength(1);
    const nodes2 = NODE_MAPPING + `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-node-role-2\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n`;
    expect(run([ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING, t('09:00:00'), 'create')), ev(awsAuthUpdate(iamK8sUser(alice), nodes2, t('10:00:00')))], id)).toEqual([]);
  });
});

describe('access entry created or admin policy associated', () => {
  const id = 'seam-native-access-entry-grant';
  it('fires on the fixture: an IRSA role given an access entry and cluster admin, critical, then its first use', () => {
    const events = byTime([...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('k8s-audit/eks-audit.jsonl')]);
    events.push(ev(audit({ verb: 'list', user: iamK8sUser(irsa), time: t('14:20:00'), resource: 'secrets', ip: ATTACKER_IP })));
    const alerts = run(events, id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high', 'critical', 'critical']);
    expect(alerts[1]!.summary).toContain('AmazonEKSClusterAdminPolicy');
    expect(alerts[1]!.summary).toContain('service account payments/api');
    expect(alerts[2]!.events).toHaveLength(3);
    // Where each request came from: the grants' callers, and the grantee's first request from the attacker's address (SOC review L2).
    for (const a of alerts.slice(0, 2)) expect(a.summary).toContain(` from ${a.source_ip!};`);
    expect(alerts[2]!.summary.endsWith(` from ${ATTACKER_IP}`)).toBe(true);
    // One detection id, a title per variant: which of the three happened (SOC review M5).
    expect(alerts.map((a) => [a.rule.id, a.rule.variant, a.rule.title])).toEqual([
      [id, 'created', 'EKS access entry created'],
      [id, 'admin_policy', 'EKS admin access policy associated'],
      [id, 'first_use', 'First use of a new EKS access grant'],
    ]);
    expect(alerts[1]!.triage).toContain('AmazonEKSClusterAdminPolicy associated for role/payments-api-irsa in');
    expect(alerts[1]!.triage).toContain('As a workload role it is every pod of payments/api.');
    expect(alerts[2]!.triage).toContain(`(grant alerts ${alerts[0]!.id}, ${alerts[1]!.id})`);
  });
  it('stays quiet for a namespace view policy and for node access entries', () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/dashboards`;
    const alerts = run(
      [
        ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { name: CLUSTER, principalArn: role })),
        ev(eksCall(alice, 'AssociateAccessPolicy', t('10:00:10'), { name: CLUSTER, principalArn: role, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', accessScope: { type: 'namespace', namespaces: ['web'] } })),
        ev(eksCall(alice, 'CreateAccessEntry', t('10:01:00'), { name: CLUSTER, principalArn: `arn:aws:iam::${ACCOUNT}:role/eks-node-role-2`, type: 'EC2_LINUX' })),
      ],
      id,
    );
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium']);
  });
});

describe('access entry groups added by UpdateAccessEntry', () => {
  const id = 'seam-native-access-entry-grant';
  const role = `arn:aws:iam::${ACCOUNT}:role/reporting`;
  const create = (): SeamEvent => ev(eksCall(alice, 'CreateAccessEntry', t('10:00:00'), { clusterName: CLUSTER, principalArn: role, kubernetesGroups: ['report-readers'] }));
  const update = (groups: string[], time = t('11:00:00'), extra: Record<string, unknown> = {}): SeamEvent =>
    ev(eksCall(alice, 'UpdateAccessEntry', time, { clusterName: CLUSTER, principalArn: role, kubernetesGroups: groups, ...extra }));
  it('fires (high) when a group bound to cluster-admin is added, (medium) for a group without powerful RBAC', () => {
    const adminBinding = ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'platform-admins', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'platform-admins' }], t('09:00:00')));
    const alerts = run([adminBinding, create(), update(['report-readers', 'platform-admins'])], id);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'high']);
    expect(alerts[1]!.summary).toContain('platform-admins added to the access entry');
    expect(alerts[1]!.summary).toContain('groups before: report-readers');
    const plain = run([create(), update(['report-readers', 'dashboards'])], id);
    expect(plain.map((a) => a.rule.level)).toEqual(['medium', 'medium']);
    expect(plain[1]!.summary).toContain('dashboards added');
    expect(plain.map((a) => a.rule.variant)).toEqual(['created', 'groups_added']);
    expect(plain[1]!.rule.title).toBe('Kubernetes groups added to an EKS access entry');
    // No first use is awaited for a group added: the triage text does not promise one.
    expect(plain[1]!.triage).not.toContain('first-use');
  });
  it('stays quiet for an update that keeps or removes groups (a new username only)', () => {
    expect(run([create(), update(['report-readers'], t('11:00:00'), { username: 'reporting-bot' }), update([], t('12:00:00'))], id).map((a) => a.rule.level)).toEqual(['medium']);
  });
});

describe('IAM-to-RBAC drift', () => {
  const id = 'seam-native-iam-rbac-drift';
  const mapRo = (): SeamEvent => ev(awsAuthUpdate(iamK8sUser(alice), NODE_MAPPING + roleMapping('ReadOnly', 'readonly:{{SessionName}}', ['viewers']), t('09:00:00'), 'create'));
  it('fires when a binding makes the group a ReadOnly role is mapped into cluster-admin', () => {
    const alerts = run([mapRo(), ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00')))], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('critical');
    expect(alerts[0]!.summary).toContain(`arn:aws:iam::${ACCOUNT}:role/ReadOnly`);
    // The triage text names whose access grew, who changed which binding, and the commands with their names.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`role/ReadOnly in ${CLUSTER} (read-only by name) is now cluster-admin after `);
    expect(tr).toContain('the change was made by role/PlatformAdmin (alice@example.com)');
    expect(tr).toContain(`seam identity explain arn:aws:iam::${ACCOUNT}:role/ReadOnly --cluster ${CLUSTER}`);
    expect(tr).toContain('kubectl get clusterrolebindings viewers-admin -o yaml');
    expect(tr).toContain('kubectl delete clusterrolebindings viewers-admin');
  });
  it('fires when a ReadOnly role is mapped into a group that can already write, and when a bound role is widened', () => {
    const bindFirst = run([ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-edit', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'Group', name: 'viewers' }], t('08:00:00'))), mapRo()], id);
    expect(bindFirst).toHaveLength(1);
    const widened = run(
      [
        ev(roleWrite(iamK8sUser(alice), 'ClusterRole', 'ops-read', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }], t('08:00:00'))),
        ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'ops-read', { kind: 'ClusterRole', name: 'ops-read' }, [{ kind: 'Group', name: 'ops' }], t('08:00:01'))),
        ev(awsAuthUpdate(iamK8sUser(alice), roleMapping('ops', 'ops:{{SessionName}}', ['ops']), t('09:00:00'), 'create')),
        ev(roleWrite(iamK8sUser(alice), 'ClusterRole', 'ops-read', [{ apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get', 'list', 'create'] }], t('10:00:00'), undefined, 'update')),
      ],
      id,
    );
    expect(widened).toHaveLength(1);
    expect(widened[0]!.summary).toContain('widened group ops');
  });
  it('stays quiet for a view binding, a binding to an unmapped group, and a ReadOnly role that only reads', () => {
    expect(run([mapRo(), ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'viewers-view', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'Group', name: 'viewers' }], t('10:00:00')))], id)).toEqual([]);
    expect(run([mapRo(), ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'x-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'Group', name: 'platform' }], t('10:00:00')))], id)).toEqual([]);
  });
});

describe('over-permissioned workload roles', () => {
  const id = 'seam-native-workload-role-overpermission';
  const legacy = { type: 'IAMUser', principalId: 'AIDAEXAMPLECIUSER001', arn: `arn:aws:iam::${ACCOUNT}:user/legacy-ci`, accountId: ACCOUNT, accessKeyId: 'AKIAEXAMPLELEGACY001', userName: 'legacy-ci' };
  const iam = (name: string, rp: Record<string, unknown>, time = t('14:18:03')): SeamEvent => ev(ct({ source: 'iam.amazonaws.com', name, time, identity: legacy, rp, ip: '198.51.100.77', region: 'us-east-1' }), undefined);
  it('fires on the fixture: AdministratorAccess attached to the IRSA role', () => {
    const alerts = run(fixtureEvents('cloudtrail/s3-export.json', undefined), id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('critical');
    expect(alerts[0]!.summary).toContain('payments/api');
    // The triage text names who changed which role, the service accounts holding it, and the commands to read and revert it.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain('gave AdministratorAccess to workload role payments-api-irsa from ');
    expect(tr).toContain('payments/api (and so their pods) assume it');
    expect(tr).toContain('aws iam list-attached-role-policies --role-name payments-api-irsa');
    expect(tr).toContain('aws iam detach-role-policy --role-name payments-api-irsa --policy-arn arn:aws:iam::aws:policy/AdministratorAccess');
  });
  it('fires on iam:* inline policies and on trust policies widened to any service account or a foreign provider', () => {
    const inline = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:*'], Resource: '*' }] });
    expect(run([...irsaStory(), iam('PutRolePolicy', { roleName: 'payments-api-irsa', policyName: 'x', policyDocument: inline })], id)).toHaveLength(1);
    const trust = (sub: string, op = 'StringEquals', issuer = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'): string =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { [op]: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: 'sts.amazonaws.com' } } }] });
    const created = iam('CreateRole', { roleName: 'payments-api-irsa', assumeRolePolicyDocument: trust('system:serviceaccount:payments:api') }, t('08:00:00'));
    const wild = run([created, ...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: trust('system:serviceaccount:*', 'StringLike') })], id);
    expect(wild).toHaveLength(1);
    expect(wild[0]!.summary).toContain('wildcard subject');
    expect(wild[0]!.triage).toContain('widened the trust policy (wildcard subject');
    expect(wild[0]!.triage).toContain('aws iam update-assume-role-policy --role-name payments-api-irsa');
    const foreign = run([created, ...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: trust('system:serviceaccount:payments:api', 'StringEquals', 'oidc.eks.eu-west-1.amazonaws.com/id/FOREIGN0000') })], id);
    expect(foreign[0]!.summary).toContain('foreign OIDC provider');
    // URL-encoded, as IAM sometimes logs a document: read once by the normalizer (seam.policy), the same verdict.
    const encoded = run([created, ...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: encodeURIComponent(trust('system:serviceaccount:*', 'StringLike')) })], id);
    expect(encoded.map((a) => a.summary)).toEqual(wild.map((a) => a.summary));
  });
  it('stays quiet for admin on a non-workload role, read-only policies on a workload role, and exact-subject trust edits', () => {
    expect(run([...irsaStory(), iam('AttachRolePolicy', { roleName: 'breakglass', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })], id)).toEqual([]);
    expect(run([...irsaStory(), iam('AttachRolePolicy', { roleName: 'payments-api-irsa', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })], id)).toEqual([]);
    const exact = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub': 'system:serviceaccount:payments:api2' } } }] });
    expect(run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: exact })], id)).toEqual([]);
  });
  it('reads Principal "*" with its statement\'s condition (seam.policy, ADR 0042), and only for workload roles', () => {
    const oidc = { Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub': 'system:serviceaccount:payments:api' } } };
    const doc = (star: Record<string, unknown>): string => JSON.stringify({ Version: '2012-10-17', Statement: [oidc, { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', ...star }] });
    const open = run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: doc({}) })], id);
    expect(open.map((a) => a.rule.level)).toEqual(['critical']);
    expect(open[0]!.summary).toContain('Principal "*"');
    const org = doc({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } });
    expect(run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: org })], id)).toEqual([]);
    // A wildcard organisation, or a condition that holds when the key is missing, narrows nothing.
    const anyOrg = doc({ Condition: { StringLike: { 'aws:PrincipalOrgID': 'o-*' } } });
    expect(run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: anyOrg })], id)).toHaveLength(1);
    const ifExists = doc({ Condition: { StringEqualsIfExists: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } });
    expect(run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'payments-api-irsa', policyDocument: ifExists })], id)).toHaveLength(1);
    // A role no service account assumes and with no OIDC trust: the Sigma trust-policy rules judge it.
    const plain = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] });
    expect(run([...irsaStory(), iam('UpdateAssumeRolePolicy', { roleName: 'breakglass', policyDocument: plain })], id)).toEqual([]);
  });
});

describe('privileged service-account token minted and used outside', () => {
  const id = 'seam-native-sa-token-off-cluster';
  const bindAdmin = (): SeamEvent => ev(bindingWrite(iamK8sUser(alice), 'ClusterRoleBinding', 'ops-bot-admin', { kind: 'ClusterRole', name: 'cluster-admin' }, [{ kind: 'ServiceAccount', name: 'ops-bot', namespace: 'kube-system' }], t('08:00:00')));
  const useFrom = (ip: string, time = t('14:30:00')): SeamEvent => ev(audit({ verb: 'list', user: saK8sUser('kube-system', 'ops-bot'), time, resource: 'secrets', ip, userAgent: 'kubectl/v1.30.2' }));
  it('fires when alice mints a cluster-admin SA token and it is used from the internet', () => {
    const alerts = run([bindAdmin(), ev(tokenRequest(iamK8sUser(alice), 'kube-system/ops-bot', t('14:20:00'))), useFrom('10.0.3.4', t('14:25:00')), useFrom(ATTACKER_IP)], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('minted by ' + alice.arn);
    expect(alerts[0]!.events).toHaveLength(2);
    // The triage text names who minted the token, the service account and its power, the use and its address, and the commands.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`${alice.arn} minted a token for service account kube-system/ops-bot (cluster-admin) in ${CLUSTER} at 2024-11-05T14:20:00.000Z; 10 min later it made “`);
    expect(tr).toContain(`from ${ATTACKER_IP} with “kubectl/v1.30.2”, outside the cluster.`);
    expect(tr).toContain('kubectl auth can-i --list --as=system:serviceaccount:kube-system:ops-bot');
    expect(tr).toContain('kubectl delete serviceaccount -n kube-system ops-bot');
    expect(tr).toContain(`seam hunt --who kube-system/ops-bot --cluster ${CLUSTER}`);
  });
  it('stays quiet for kubelet-minted pod tokens, weak service accounts, and uses after expiry', () => {
    const node = { username: 'system:node:ip-10-0-1-2.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };
    expect(run([bindAdmin(), ev(tokenRequest(node, 'kube-system/ops-bot', t('14:20:00'), 'ops-bot-1')), useFrom(ATTACKER_IP)], id)).toEqual([]);
    expect(run([ev(tokenRequest(iamK8sUser(alice), 'kube-system/ops-bot', t('14:20:00'))), useFrom(ATTACKER_IP)], id)).toEqual([]);
    expect(run([bindAdmin(), ev(tokenRequest(iamK8sUser(alice), 'kube-system/ops-bot', t('14:20:00'), undefined, 600)), useFrom(ATTACKER_IP, t('14:45:00'))], id)).toEqual([]);
  });
});

describe('control-plane audit logging disabled', () => {
  const id = 'seam-native-audit-logging-disabled';
  const update = (entries: unknown[]): SeamEvent => ev(eksCall(alice, 'UpdateClusterConfig', t('15:00:00'), { name: CLUSTER, logging: { clusterLogging: entries } }), undefined);
  it('fires when audit logs are switched off', () => {
    const alerts = run([update([{ types: ['audit', 'authenticator'], enabled: false }])], id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    expect(alerts[0]!.rule.tags).toContain('attack.t1562.008');
    // The triage text names who, which cluster and log types, from where, and the command that turns them back on.
    expect(alerts[0]!.triage).toContain(`role/PlatformAdmin (alice@example.com) turned off the audit and authenticator logs of ${CLUSTER} from `);
    expect(alerts[0]!.triage).toContain(`aws eks update-cluster-config --name ${CLUSTER} --logging '{"clusterLogging":[{"types":["audit","authenticator"],"enabled":true}]}'`);
  });
  it('stays quiet when logs are enabled or only noisy types are disabled', () => {
    expect(run([update([{ types: ['audit'], enabled: true }]), update([{ types: ['scheduler', 'controllerManager'], enabled: false }])], id)).toEqual([]);
  });
});

describe('GuardDuty incident', () => {
  const id = 'seam-native-guardduty-incident';
  it('joins the fixture’s exec-in-kube-system finding with alice’s CloudTrail activity within ±15 minutes', () => {
    const events = byTime([...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('k8s-audit/eks-audit.jsonl'), ...fixtureEvents('guardduty/get-findings-sdk.json')]);
    const alerts = run(events, id);
    const exec = alerts.find((a) => a.summary.includes('ExecInKubeSystemPod'))!;
    expect(exec).toBeDefined();
    // CreateAccessEntry (14:16:40) and AssociateAccessPolicy (14:16:55) fall in [14:11:40, 14:46:02]; alice's 14:02–14:09 audit
    // events do not. payments/api listing secrets at 14:14:02 joins too: the graph resolves it to alice (her exec 5 minutes earlier).
    // The finding is the evidence; the joined activity is context (related_events), in time order.
    const nativeOf = new Map(events.map((e) => [e.seam.id, nativeIdOf(e)]));
    expect(exec.native_ids).toEqual(['b5d0c4a3f2e14f6a87c8d9e0f1a2b3c4']);
    expect(exec.events).toHaveLength(1);
    expect(exec.related_events!.map((e) => nativeOf.get(e))).toEqual(['1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d09', '4da06e52-9fb1-4273-becf-5a6b7c8d9ea5', '5eb17f63-a0c2-4384-8fd0-6b7c8d9eafb6']);
    // Its time is the finding version's (updatedAt 14:31:02), not the last joined event's.
    const finding = events.find((e) => nativeIdOf(e) === 'b5d0c4a3f2e14f6a87c8d9e0f1a2b3c4')!;
    expect(exec['@timestamp']).toBe(new Date(Date.parse(finding['@timestamp'])).toISOString());
    // The type heads the summary; the writes (the access entry and its policy) come before the read (list secrets).
    expect(exec.summary).toMatch(/^GuardDuty Execution:Kubernetes\/ExecInKubeSystemPod /);
    expect(exec.summary).toContain('3 related events');
    expect(exec.summary.indexOf('CreateAccessEntry')).toBeLessThan(exec.summary.indexOf('list secrets'));
    expect(exec.summary.indexOf('AssociateAccessPolicy')).toBeLessThan(exec.summary.indexOf('list secrets'));
    expect(exec.rule.level).toBe('medium');
    expect(exec.rule.tags).toEqual(['seam.incident', 'attack.execution']);
    // The triage text names the finding, who it is about, the workload, the caller, the related activity and the commands with its ids.
    expect(exec.triage).toContain('GuardDuty Execution:Kubernetes/ExecInKubeSystemPod (“Command executed inside a pod in kube-system namespace on EKS Cluster.”), finding b5d0c4a3f2e14f6a87c8d9e0f1a2b3c4 in prod-eks-01, is about role/PlatformAdmin (alice@example.com), on pods kube-system/coredns-5d8d8b9c7f-9qk2m, from 203.0.113.24');
    expect(exec.triage).toContain('Read the 3 related events in time order, the changes first (');
    expect(exec.triage).toContain('aws guardduty get-findings --detector-id 12abc34d567e8fa901bc2d34eexample --finding-ids b5d0c4a3f2e14f6a87c8d9e0f1a2b3c4 --region us-west-2');
    expect(exec.triage).toContain(`and everything role/PlatformAdmin (alice@example.com) is behind (seam hunt --who ${alice.arn} --cluster prod-eks-01)`);
    expect(exec.triage).toContain('Benign if role/PlatformAdmin (alice@example.com) did this as a reviewed change or a test');
    const anon = alerts.find((a) => a.summary.includes('SuccessfulAnonymousAccess'))!;
    // system:anonymous's forbidden list at 14:13:44 is the same principal, but 14:28:33 − 15 min = 14:13:33: inside.
    expect(anon.related_events!.map((e) => nativeOf.get(e))).toContain('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c08');
    expect(anon.rule.tags).toEqual(['seam.incident', 'attack.discovery']);
    // A Policy: finding names no tactic.
    expect(alerts.find((a) => a.summary.includes('AdminAccessToDefaultServiceAccount'))!.rule.tags).toEqual(['seam.incident']);
  });
  it('carries the origin and chain the graph resolved for the finding’s principal', () => {
    const finding = ev({
        schemaVersion: '2.0',
        partition: 'aws',
        arn: 'arn:aws:guardduty:us-west-2:111122223333:detector/d1/finding/f00dfeedf00dfeedf00dfeedf00dfeed',
        id: 'f00dfeedf00dfeedf00dfeedf00dfeed',
        type: 'PrivilegeEscalation:Kubernetes/PrivilegedContainer',
        severity: 5,
        createdAt: '2024-11-05T14:20:00.000Z',
        updatedAt: '2024-11-05T14:20:00.000Z',
        accountId: '111122223333',
        region: 'us-west-2',
        title: 'Privileged container launched.',
        resource: { resourceType: 'EKSCluster', eksClusterDetails: { name: CLUSTER }, kubernetesDetails: { kubernetesUserDetails: { username: 'system:serviceaccount:payments:api' } } },
        service: { serviceName: 'guardduty', eventFirstSeen: '2024-11-05T14:20:00.000Z', eventLastSeen: '2024-11-05T14:20:00.000Z', count: 1 },
    });
    const alerts = run([...irsaStory(), finding], id);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.origin?.arn).toBe(alice.arn);
    expect(a.chain!.length).toBeGreaterThan(0);
    expect(a.summary).toContain('really ');
    expect(a['@timestamp']).toBe('2024-11-05T14:20:00.000Z');
    // The finding's subject is the service account; the triage names who is really behind it and the chain.
    expect(a.triage).toContain(`, finding f00dfeedf00dfeedf00dfeedf00dfeed in ${CLUSTER}, is about sa payments/api, really role/PlatformAdmin (alice@example.com).`);
    expect(a.triage).toContain('Start from the chain: ');
    expect(a.triage).toContain('aws guardduty get-findings --detector-id d1 --finding-ids f00dfeedf00dfeedf00dfeedf00dfeed --region us-west-2');
    expect(a.triage).toContain(`(seam hunt --who payments/api --cluster ${CLUSTER})`);
    expect(a.rule.tags).toContain('attack.privilege-escalation');
  });
  it('waits for the window to close before emitting, unless input ends', () => {
    const engine = createNativeEngine({ only: [id] });
    const [finding] = fixtureEvents('guardduty/findings-rest.jsonl');
    expect(engine.process(finding!)).toEqual([]);
    const late = ev(audit({ verb: 'get', user: { username: 'system:anonymous', groups: ['system:unauthenticated'] }, time: t('14:40:00'), resource: 'configmaps', namespace: 'kube-system', ip: '192.0.2.201', code: 200 }));
    expect(engine.process(late)).toEqual([]);
    const after = ev(callAs(bob, 's3.amazonaws.com', 'ListBuckets', t('14:50:00')), undefined);
    const out = engine.process(after);
    expect(out).toHaveLength(1);
    expect(out[0]!.events).toEqual([finding!.seam.id]);
    expect(out[0]!.related_events).toEqual([late.seam.id]);
    expect(engine.flush()).toEqual([]);
  });
});

describe('engine', () => {
  it('gives the same alert ids when the same input is replayed', () => {
    const events = byTime([...fixtureEvents('k8s-audit/eks-audit.jsonl'), ...fixtureEvents('cloudtrail/s3-export.json', undefined), ...fixtureEvents('runtime/native.jsonl'), ...fixtureEvents('guardduty/get-findings-sdk.json')]);
    const once = (): string[] => {
      const e = createNativeEngine();
      return [...events.flatMap((x) => e.process(x)), ...e.flush()].map((a) => a.id).sort();
    };
    const a = once();
    expect(a.length).toBeGreaterThan(5);
    expect(once()).toEqual(a);
  });
  it('publishes the facts each event produced', () => {
    const seen: string[] = [];
    const e = createNativeEngine({ onFacts: (facts) => seen.push(...facts.map((f) => f.kind)) });
    for (const x of irsaStory()) e.process(x);
    expect(seen).toEqual(expect.arrayContaining(['irsa', 'pod_service_account', 'exec', 'credential', 'web_identity_session', 'egress_ip']));
    void assumedRoleIdentity;
  });
});
