import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { ATTACKER_IP, CLUSTER, NAT_IP, alice, audit, ev, iamK8sUser, t, type K8sUser } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';

const id = 'seam-native-k8s-sa-token-outside-aws';
const nodeId = 'seam-native-k8s-node-identity-outside-aws';
const sa: K8sUser = { username: 'system:serviceaccount:payments:api', groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'] };
const node: K8sUser = { username: 'system:node:ip-10-0-142-21.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };

/** A request by `user` at `time` whose `sourceIPs` are `ips` (X-Forwarded-For entries first, the connection's address last). */
function request(ips: string[], time = t('14:20:00'), user: K8sUser = sa, extra: Record<string, unknown> = {}): SeamEvent {
  const raw = audit({ verb: 'get', user, time, resource: 'secrets', namespace: 'payments', name: 'api-db', userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350' });
  return ev({ ...raw, sourceIPs: ips, ...extra });
}

describe('Kubernetes service-account token used from outside AWS', () => {
  it('fires for a token used from an address outside AWS, once per account and address per day', () => {
    const alerts = runNative(id, [request([ATTACKER_IP]), request([ATTACKER_IP], t('14:50:00')), request([ATTACKER_IP], t('14:20:00', 25 * 3600))]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('payments:api');
    expect(alerts[0]!.summary).toContain('get secrets');
    expect(alerts[0]!.summary).toContain(ATTACKER_IP);
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    // The triage text names the service account, cluster, request, address and client, and the kubectl commands with its names.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`Service account payments/api of ${CLUSTER} made “get secrets” from ${ATTACKER_IP} (`);
    expect(tr).toContain('with “kubectl/v1.30.2 (linux/amd64) kubernetes/3968350”, outside AWS.');
    expect(tr).toContain('kubectl auth can-i --list --as=system:serviceaccount:payments:api');
    expect(tr).toContain('kubectl get pods -n payments --field-selector spec.serviceAccountName=api');
    expect(tr).toContain(`seam hunt --who payments/api --cluster ${CLUSTER}`);
    expect(tr).toContain(`Benign if ${ATTACKER_IP} is a controller or CI runner that manages ${CLUSTER} from outside AWS on purpose`);
    // another account from the same address, or the same account from another outside address, is its own alert
    const other: K8sUser = { ...sa, username: 'system:serviceaccount:payments:worker' };
    expect(runNative(id, [request([ATTACKER_IP]), request([ATTACKER_IP], t('14:21:00'), other), request(['192.0.2.77'], t('14:22:00'))])).toHaveLength(3);
  });

  it('stays quiet for pods reaching a public endpoint from their NAT gateway (an AWS address) or the private endpoint, and for people', () => {
    expect(runNative(id, [request([NAT_IP])])).toEqual([]);
    expect(runNative(id, [request(['10.0.142.21'])])).toEqual([]);
    expect(runNative(id, [request([ATTACKER_IP], t('14:20:00'), iamK8sUser(alice))])).toEqual([]);
  });

  it('judges the connection’s address, not X-Forwarded-For entries the client wrote', () => {
    // a client outside AWS claiming to be a pod: the private entry is its own header, the last is where it is
    expect(runNative(id, [request(['10.0.0.5', ATTACKER_IP])])).toHaveLength(1);
    expect(runNative(nodeId, [request(['10.0.0.5', ATTACKER_IP], t('14:20:00'), node)])).toHaveLength(1);
    // a request relayed by something inside the VPC: the connection is private
    expect(runNative(id, [request([ATTACKER_IP, '10.0.3.4'])])).toEqual([]);
    // an unparseable last entry falls back to the first; no addresses at all is no question
    expect(runNative(id, [request([ATTACKER_IP, 'not-an-ip'])])).toHaveLength(1);
    expect(runNative(id, [request([])])).toEqual([]);
    expect(runNative(nodeId, [request([ATTACKER_IP, '10.0.3.4'], t('14:20:00'), node)])).toEqual([]);
  });

  it('stays quiet for configured egress, unplaceable addresses, and the RequestReceived stage', () => {
    expect(runNative(id, [request([ATTACKER_IP])], { graph: { clusters: [{ name: CLUSTER, egressCidrs: ['198.51.100.0/24'] }] } })).toEqual([]);
    expect(runNative(id, [request([ATTACKER_IP])], { config: { asnDatabase: false } })).toEqual([]);
    expect(runNative(id, [request(['2600:1f18:4a3:6f00::7'])])).toEqual([]); // Amazon's IPv6 (us-east-1)
    expect(runNative(id, [request(['2a01:4f8:1c1c::1'])], { config: { asnDatabase: false } })).toEqual([]); // IPv6 without the database
    expect(runNative(id, [request([ATTACKER_IP], t('14:20:00'), sa, { stage: 'RequestReceived' })])).toEqual([]);
  });

  it('judges an IPv6 connection address by the IPv6 table like an IPv4 one, once the cluster’s own IPv6 blocks are learned', () => {
    // An IPv6 cluster in Amazon's space (2600:1f14::/32): its nodes teach nothing the table does not already say.
    const own = [request(['2600:1f14:abc:101::10'], t('12:00:00'), node), request(['2600:1f14:abc:101:8f00::5'], t('12:01:00'))];
    const alerts = runNative(id, [...own, request(['2a01:4f8:1c1c::1'], t('14:20:00')), request(['2a01:4f8:1c1c::2'], t('14:21:00'))]);
    expect(alerts).toHaveLength(1); // one per /64
    expect(alerts[0]!.summary).toContain('AS24940');
    // The same address within the cluster's first hour of IPv6 traffic is learned, not judged.
    expect(runNative(id, [...own, request(['2a01:4f8:1c1c::1'], t('12:30:00'))])).toEqual([]);
  });

  it('an IPv6 cluster whose VPC block Amazon does not announce (BYOIPv6): its nodes and pods are learned, a stranger after the hour is not', () => {
    const byoip = '2001:470:1f0b:100'; // an /56 announced by another AS (Hurricane Electric's space)
    const own = [request([`${byoip}::10`], t('12:00:00'), node), request([`${byoip}:8f00::5`], t('12:10:00')), request([`${byoip}:9a00::7`], t('12:40:00'), node)];
    // After the hour, new pods in the same block (each its own address) stay quiet; nodes are the sibling detection's.
    expect(runNative(id, [...own, request([`${byoip}:7700::1`], t('14:20:00')), request([`${byoip}:7701::2`], t('15:20:00'))])).toEqual([]);
    expect(runNative(nodeId, [...own, request([`${byoip}:5500::1`], t('14:20:00'), node)])).toEqual([]);
    expect(runNative(id, [...own, request(['2a01:4f8:1c1c::1'], t('14:20:00'))])).toHaveLength(1);
    expect(runNative(nodeId, [...own, request(['2a01:4f8:1c1c::1'], t('14:20:00'), node)])).toHaveLength(1);
  });

  it('counts each request at one stage: a watch when it ends, an exec session when it opens', () => {
    const watch = { verb: 'watch', requestURI: '/api/v1/secrets?watch=true' };
    expect(runNative(id, [request([ATTACKER_IP], t('14:20:00'), sa, { ...watch, stage: 'ResponseStarted' })])).toEqual([]);
    expect(runNative(id, [request([ATTACKER_IP], t('14:25:00'), sa, { ...watch, stage: 'ResponseComplete' })])).toHaveLength(1);
    const exec = { verb: 'create', objectRef: { resource: 'pods', subresource: 'exec', namespace: 'payments', name: 'api-0', apiVersion: 'v1' }, responseStatus: { metadata: {}, code: 101 } };
    expect(runNative(id, [request([ATTACKER_IP], t('14:20:00'), sa, { ...exec, stage: 'ResponseStarted' })])).toHaveLength(1);
    expect(runNative(id, [request([ATTACKER_IP], t('14:30:00'), sa, { ...exec, stage: 'ResponseComplete' })])).toEqual([]);
    // refused: logged only at ResponseComplete
    expect(runNative(id, [request([ATTACKER_IP], t('14:20:00'), sa, { ...exec, responseStatus: { metadata: {}, code: 403 }, stage: 'ResponseComplete' })])).toHaveLength(1);
  });
});
