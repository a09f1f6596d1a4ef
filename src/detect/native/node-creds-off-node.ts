/**
 * Node instance-role credentials used off the node. Kubelets and the VPC CNI call AWS from the node (through
 * the cluster's NAT or VPC endpoints); the same session from elsewhere means the instance-metadata credentials
 * were taken, typically from a pod that reached IMDS.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { roleOfSession } from '../../identity/keys.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { networkFor } from './networks.ts';
import { chainText, configuredCidrs, fromCluster, nativeAlert, timeOf } from './util.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

interface State {
  alerted: Lru<string, true>;
}

export const nodeCredsOffNode: NativeDetection<State> = {
  id: 'seam-native-node-creds-off-node',
  title: 'Node instance-role credentials used off the node',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1552.005', 'attack.t1078.004'],
  description:
    'A call signed by a session of an IAM role that the cluster’s nodes authenticate with (aws-auth system:nodes mapping, a node access entry, or kubelet audit events) came from an address outside the cluster’s egress addresses.',
  triage:
    'The session name is usually the instance id: find the node and the pods on it with hostNetwork or without IMDSv2 hop limit 1. Check what the address did with the keys; block the instance role sessions issued before now.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const arn = event.seam.principal?.arn;
    const role = arn === undefined ? undefined : roleOfSession(arn);
    if (arn === undefined || role === undefined) return [];
    const clusters = graph.nodeRoleClusters(role, timeOf(event));
    if (clusters.length === 0) return [];
    // Off-node = outside every cluster that uses the role.
    const inside = clusters.map((c) => fromCluster(event, graph, c, ctx.config));
    if (inside.some((x) => x !== false)) return [];
    const ip = event.seam.source_ip!;
    // A cluster whose egress Seam has not learned (no IRSA / Pod Identity exchanges seen, no egressCidrs
    // configured) gives no address to compare with: its nodes' own calls through the NAT would all look
    // "off node". Then only an address outside AWS's networks counts — a NAT gateway's address is AWS's.
    const egressKnown = clusters.some((c) => graph.egressOf(c, timeOf(event)).length > 0 || configuredCidrs(graph, c).length > 0);
    if (!egressKnown) {
      const net = networkFor(ip, ctx.config);
      if (net === undefined || net.aws !== false) return [];
    }
    if (state.alerted.has(arn + '|' + ip)) return [];
    state.alerted.set(arn + '|' + ip, true);
    return [
      nativeAlert(this, {
        events: [event],
        summary: `Node role session ${arn} (nodes of ${clusters.join(', ')}) called ${event.seam.action} from ${ip}, outside the cluster's egress addresses; chain: ${chainText(ctx.resolution.chain)}`,
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: clusters[0],
      }),
    ];
  },
};
