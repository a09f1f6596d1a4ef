import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { ATTACKER_IP, CLUSTER, NAT_IP, alice, audit, ev, iamK8sUser, t, type K8sUser } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';

const id = 'seam-native-k8s-node-identity-outside-aws';
const node: K8sUser = { username: 'system:node:ip-10-0-142-21.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };
const KUBELET = 'kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46';

/** The node reads a secret of a pod scheduled on it, and lists pods, from `ip`. */
function nodeRequests(ip: string, user: K8sUser = node): SeamEvent[] {
  return [
    ev(audit({ verb: 'get', user, time: t('14:20:00'), resource: 'secrets', namespace: 'payments', name: 'api-db', ip, userAgent: KUBELET })),
    ev(audit({ verb: 'list', user, time: t('14:20:05'), resource: 'pods', ip, userAgent: KUBELET })),
  ];
}

describe('Kubernetes node identity used from outside AWS', () => {
  it('fires once per node and outside address, naming the node, the request and the address', () => {
    const alerts = runNative(id, nodeRequests(ATTACKER_IP));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('system:node:ip-10-0-142-21.us-west-2.compute.internal');
    expect(alerts[0]!.summary).toContain('get secrets');
    expect(alerts[0]!.summary).toContain(ATTACKER_IP);
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    // The triage text names the node, request, address and client, and the commands with the node's name.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`Node identity system:node:ip-10-0-142-21.us-west-2.compute.internal made “get secrets” in ${CLUSTER} from ${ATTACKER_IP} (`);
    expect(tr).toContain(`with “${KUBELET}”, outside AWS.`);
    expect(tr).toContain('kubectl get pods -A --field-selector spec.nodeName=ip-10-0-142-21.us-west-2.compute.internal -o wide');
    expect(tr).toContain(`seam hunt --who system:node:ip-10-0-142-21.us-west-2.compute.internal --cluster ${CLUSTER}`);
    expect(tr).toContain(`Benign if ${ATTACKER_IP} is the egress of an EKS Hybrid Node of ${CLUSTER}`);
    expect(tr).toContain('kubectl drain ip-10-0-142-21.us-west-2.compute.internal --ignore-daemonsets');
  });

  it('stays quiet for the node from its NAT gateway (an AWS address) or its private address, and for people outside AWS', () => {
    expect(runNative(id, nodeRequests(NAT_IP))).toEqual([]);
    expect(runNative(id, nodeRequests('10.0.142.21'))).toEqual([]);
    expect(runNative(id, nodeRequests(ATTACKER_IP, iamK8sUser(alice)))).toEqual([]);
  });

  it('stays quiet for hybrid nodes whose egress is configured, and when the address cannot be placed (no ASN database)', () => {
    expect(runNative(id, nodeRequests(ATTACKER_IP), { graph: { clusters: [{ name: CLUSTER, egressCidrs: ['198.51.100.0/24'] }] } })).toEqual([]);
    expect(runNative(id, nodeRequests(ATTACKER_IP), { config: { asnDatabase: false } })).toEqual([]);
  });
});
