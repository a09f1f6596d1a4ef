import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { ATTACKER_IP, CLUSTER, NAT_IP, audit, ev, t, type K8sUser } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';

const id = 'seam-native-k8s-node-identity-moved';
const nodeA: K8sUser = { username: 'system:node:ip-10-0-142-21.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };
const nodeB: K8sUser = { username: 'system:node:ip-10-0-77-9.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] };
/** The attacker's EC2 instance elsewhere (AS16509). */
const OTHER_EC2 = '3.120.10.20';

/** A request of `user` at `time` from `ip`, served with `code`. */
function req(user: K8sUser, ip: string, time: string, code = 200, verb = 'update', resource = 'leases'): SeamEvent {
  const raw = audit({ verb, user, time, resource, namespace: resource === 'leases' ? 'kube-node-lease' : 'payments', name: resource === 'leases' ? 'ip-10-0-142-21' : 'api-db', apiGroup: resource === 'leases' ? 'coordination.k8s.io' : undefined, userAgent: 'kubelet/v1.30.2 (linux/amd64) kubernetes/3968350' });
  return ev({ ...raw, sourceIPs: [ip], responseStatus: { metadata: {}, code } });
}

/** The node's lease renewals from `ip`, every 10 minutes from `from` for `minutes`. */
const beats = (user: K8sUser, ip: string, from: string, minutes: number): SeamEvent[] => Array.from({ length: Math.ceil(minutes / 10) }, (_, i) => req(user, ip, t(from, i * 600)));

describe('Kubernetes node identity used from another AWS address', () => {
  it('fires when a watched node is served from an Amazon address no node of the cluster uses, once per node and address', () => {
    const alerts = runNative(id, [...beats(nodeA, NAT_IP, '12:00:00', 60), req(nodeA, OTHER_EC2, t('13:10:00'), 200, 'get', 'secrets'), req(nodeA, OTHER_EC2, t('13:11:00'), 200, 'get', 'secrets')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain(OTHER_EC2);
    expect(alerts[0]!.summary).toContain(NAT_IP);
    expect(alerts[0]!.triage).toContain(`Node identity system:node:ip-10-0-142-21.us-west-2.compute.internal made “`);
    expect(alerts[0]!.triage).toContain(`in ${CLUSTER} from ${OTHER_EC2} (`);
    expect(alerts[0]!.triage).toContain(`an AWS address no node of the cluster uses; it had been served from ${NAT_IP}`);
    expect(alerts[0]!.triage).toContain('kubectl get pods -A --field-selector spec.nodeName=ip-10-0-142-21.us-west-2.compute.internal -o wide');
    expect(alerts[0]!.triage).toContain(`then all its requests move to ${OTHER_EC2} and stay there`);
    expect(alerts[0]!.cluster).toBe(CLUSTER);
    // a node behind the private endpoint, then the same name from a public Amazon address
    expect(runNative(id, [...beats(nodeA, '10.0.142.21', '12:00:00', 60), req(nodeA, OTHER_EC2, t('13:10:00'))])).toHaveLength(1);
  });

  it('stays quiet for the node’s own address, an address other nodes use (a NAT gateway replaced), private and outside-AWS addresses', () => {
    expect(runNative(id, [...beats(nodeA, NAT_IP, '12:00:00', 90)])).toEqual([]);
    // the NAT gateway replaced: node B moves first (one alert), node A follows to an address the cluster now uses
    const replaced = [...beats(nodeA, NAT_IP, '12:00:00', 60), ...beats(nodeB, NAT_IP, '12:00:00', 60), req(nodeB, OTHER_EC2, t('13:05:00')), req(nodeA, OTHER_EC2, t('13:06:00'))];
    expect(runNative(id, replaced)).toHaveLength(1);
    expect(runNative(id, [...beats(nodeA, NAT_IP, '12:00:00', 60), req(nodeA, '10.0.3.4', t('13:10:00')), req(nodeA, ATTACKER_IP, t('13:11:00'))])).toEqual([]);
  });

  it('judges IPv6 by the VPC block (/56): another address of the node’s VPC is not a move, another VPC is', () => {
    expect(runNative(id, [...beats(nodeA, '2600:1f14:abc:101::10', '12:00:00', 60), req(nodeA, '2600:1f14:abc:1a2::99', t('13:10:00'), 200, 'get', 'secrets')])).toEqual([]);
    expect(runNative(id, [...beats(nodeA, '2600:1f14:abc:101::10', '12:00:00', 60), req(nodeA, '2600:1f14:def:7700::99', t('13:10:00'), 200, 'get', 'secrets')])).toHaveLength(1);
  });

  it('judges nothing in the node’s first half hour, and learns nothing from refused requests', () => {
    expect(runNative(id, [req(nodeA, NAT_IP, t('12:00:00')), req(nodeA, OTHER_EC2, t('12:10:00'))])).toEqual([]);
    expect(runNative(id, [...beats(nodeA, NAT_IP, '12:00:00', 60), req(nodeA, OTHER_EC2, t('13:05:00'), 403), req(nodeA, OTHER_EC2, t('13:06:00'))])).toHaveLength(1);
    expect(runNative(id, [...beats(nodeA, NAT_IP, '12:00:00', 60), req(nodeA, OTHER_EC2, t('13:10:00'))], { graph: { clusters: [{ name: CLUSTER, egressCidrs: ['3.120.0.0/16'] }] } })).toEqual([]);
  });
});
