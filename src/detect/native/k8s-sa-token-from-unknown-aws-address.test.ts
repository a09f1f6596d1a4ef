import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { ATTACKER_IP, CLUSTER, NAT_IP, alice, assumeWebIdentity, audit, ev, iamK8sUser, t, type K8sUser } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';

const id = 'seam-native-k8s-sa-token-from-unknown-aws-address';
const sa: K8sUser = { username: 'system:serviceaccount:payments:api', groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'] };
const node: K8sUser = { username: 'system:node:ip-10-0-142-21.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };
/** An EC2 address (AS16509) that is not the cluster's NAT gateway: the attacker's instance. */
const OTHER_EC2 = '3.120.10.20';
/** A second NAT gateway of the cluster (another availability zone). */
const NAT_B = '18.196.4.7';

/** A request by `user` at `time` whose connection address is `ip`. */
function request(ip: string, time: string, user: K8sUser = sa, extra: Record<string, unknown> = {}): SeamEvent {
  const raw = audit({ verb: 'get', user, time, resource: 'secrets', namespace: 'payments', name: 'api-db', userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350' });
  return ev({ ...raw, sourceIPs: [ip], ...extra });
}

/** Lease renewals of the node from `ip`, every 10 minutes from `from` for `minutes`. */
function nodeBeats(ip: string, from: string, minutes: number): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (let m = 0; m < minutes; m += 10) {
    const raw = audit({ verb: 'update', user: node, time: t(from, m * 60), resource: 'leases', namespace: 'kube-node-lease', name: 'ip-10-0-142-21.us-west-2.compute.internal', apiGroup: 'coordination.k8s.io', userAgent: 'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350' });
    out.push(ev({ ...raw, sourceIPs: [ip] }));
  }
  return out;
}

describe('Kubernetes service-account token used from an AWS address the cluster does not use', () => {
  it('fires for a token replayed from another EC2 address once the nodes have been watched, once per account and address per day', () => {
    const alerts = runNative(id, [...nodeBeats(NAT_IP, '12:00:00', 120), request(NAT_IP, t('14:10:00')), request(OTHER_EC2, t('14:20:00')), request(OTHER_EC2, t('14:50:00')), request(OTHER_EC2, t('14:20:00', 25 * 3600))]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('payments:api');
    expect(alerts[0]!.summary).toContain(OTHER_EC2);
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    expect(alerts[0]!.triage).toContain(`Service account payments/api of ${CLUSTER} made “get secrets” from ${OTHER_EC2} (`);
    expect(alerts[0]!.triage).toContain("an AWS address none of the cluster's nodes uses.");
    expect(alerts[0]!.triage).toContain(`Benign if ${OTHER_EC2} is an instance of one of your accounts that manages ${CLUSTER} on purpose`);
    expect(alerts[0]!.triage).toContain('kubectl get pods -n payments --field-selector spec.serviceAccountName=api');
  });

  it('stays quiet for every address a node of the cluster uses, private addresses, and addresses outside AWS (the sibling detection’s)', () => {
    const beats = [...nodeBeats(NAT_IP, '12:00:00', 120), ...nodeBeats(NAT_B, '12:05:00', 120)];
    expect(runNative(id, [...beats, request(NAT_IP, t('14:20:00')), request(NAT_B, t('14:21:00')), request('10.0.3.4', t('14:22:00')), request(ATTACKER_IP, t('14:23:00'))])).toEqual([]);
    // nodes behind the private endpoint: the public AWS address is off the cluster
    expect(runNative(id, [...nodeBeats('10.0.142.21', '12:00:00', 120), request(OTHER_EC2, t('14:20:00'))])).toHaveLength(1);
  });

  it('learns nodes whose audit events carry the node role’s account while the service account’s carry none', () => {
    const withArn: K8sUser = { ...node, extra: { arn: ['arn:aws:sts::111122223333:assumed-role/eks-node-role/i-0abc'], canonicalArn: ['arn:aws:iam::111122223333:role/eks-node-role'] } };
    const beats = nodeBeats(NAT_IP, '12:00:00', 120).map((e) => ({ ...e, user: withArn, seam: { ...e.seam, account: '111122223333' } }) as SeamEvent);
    const stolen = request(OTHER_EC2, t('14:20:00'));
    const { account: _a, ...noAccount } = stolen.seam;
    expect(runNative(id, [...beats, { ...stolen, seam: noAccount } as SeamEvent])).toHaveLength(1);
  });

  it('judges IPv6 by the VPC block (/56): pods of an IPv6 cluster each have an address of their own in it; another VPC is another block', () => {
    // 2600:1f14::/32 is Amazon's (us-west-2). The nodes' /56 is 2600:1f14:abc:100::/56.
    const beats = nodeBeats('2600:1f14:abc:101::10', '12:00:00', 120);
    expect(runNative(id, [...beats, request('2600:1f14:abc:101:8f00::5', t('14:20:00')), request('2600:1f14:abc:1a2:9a00::7', t('14:21:00'))])).toEqual([]);
    const alerts = runNative(id, [...beats, request('2600:1f14:def:7700::20', t('14:20:00')), request('2600:1f14:def:7700::21', t('14:22:00'))]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('2600:1f14:def:7700::20');
  });

  it('does not learn an address from a node request the API server refused', () => {
    const refused = nodeBeats(OTHER_EC2, '13:00:00', 20).map((e) => ({ ...e, responseStatus: { metadata: {}, code: 403 } }) as SeamEvent);
    expect(runNative(id, [...nodeBeats('10.0.142.21', '12:00:00', 120), ...refused, request(OTHER_EC2, t('14:20:00'))])).toHaveLength(1);
  });

  it('learns the addresses service accounts use while the nodes are watched (pods egressing where no kubelet does)', () => {
    const podsOnNatB = [request(NAT_B, t('12:10:00')), request(NAT_B, t('12:40:00'))];
    expect(runNative(id, [...nodeBeats(NAT_IP, '12:00:00', 180), ...podsOnNatB, request(NAT_B, t('14:20:00'))])).toEqual([]);
    // an address first used after the learning hour is judged
    expect(runNative(id, [...nodeBeats(NAT_IP, '12:00:00', 180), ...podsOnNatB, request(OTHER_EC2, t('14:20:00'))])).toHaveLength(1);
  });

  it('judges nothing before it has watched the cluster’s nodes for an hour, nor clusters whose nodes it has not seen', () => {
    expect(runNative(id, [request(OTHER_EC2, t('14:20:00'))])).toEqual([]);
    expect(runNative(id, [...nodeBeats(NAT_IP, '14:00:00', 30), request(OTHER_EC2, t('14:30:00'))])).toEqual([]);
    // another cluster's nodes teach nothing about this one
    const elsewhere = nodeBeats(NAT_IP, '12:00:00', 120).map((e) => ({ ...e, seam: { ...e.seam, cluster: 'staging' } }) as SeamEvent);
    expect(runNative(id, [...elsewhere, request(OTHER_EC2, t('14:20:00'))])).toEqual([]);
  });

  it('stays quiet for the cluster’s learned STS egress, configured egress, people, and the RequestReceived stage', () => {
    const beats = nodeBeats('10.0.142.21', '12:00:00', 120);
    const irsa = ev(assumeWebIdentity('payments/api', 'payments-api-irsa', 'botocore-session-1', 'ASIAIRSA000000000001', t('13:00:00'), OTHER_EC2));
    // In event-time order: the exchange's CloudTrail record names no cluster (SOC review M9); the graph ties it to the
    // one cluster of the account whose audit records it has seen by then.
    const inOrder = [irsa, ...beats].sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']));
    expect(runNative(id, [...inOrder, request(OTHER_EC2, t('14:20:00'))])).toEqual([]);
    expect(runNative(id, [...beats, request(OTHER_EC2, t('14:20:00'))], { graph: { clusters: [{ name: CLUSTER, egressCidrs: ['3.120.0.0/16'] }] } })).toEqual([]);
    expect(runNative(id, [...beats, request(OTHER_EC2, t('14:20:00'), iamK8sUser(alice))])).toEqual([]);
    expect(runNative(id, [...beats, request(OTHER_EC2, t('14:20:00'), sa, { stage: 'RequestReceived' })])).toEqual([]);
  });
});
