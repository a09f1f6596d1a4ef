/**
 * A Kubernetes node identity (`system:node:<name>`) used from a public Amazon address other than the node's own. A
 * kubelet reaches the API server from one place for its whole life: its private address through the private
 * endpoint, or, through a public endpoint, its public address or its subnet's NAT gateway. The node instance role's
 * credentials taken from IMDS by a pod and used on another EC2 instance (`aws eks get-token` there maps to the same
 * `system:node:<name>` through aws-auth or the node access entry) come from that instance's address, which the ASN
 * table also places inside AWS, so `seam-native-k8s-node-identity-outside-aws` stays quiet.
 *
 * The detection remembers the addresses each node was served from and alerts when a node it has watched for
 * `LEARN_MS` of event time is served from a public Amazon address that neither it nor any other node of the cluster
 * has used (a NAT gateway replaced under all nodes at once is one alert, for the first node that moves, not one per
 * node). Private addresses and refused requests teach and judge nothing; an IPv6 address counts by its /56 (the VPC's
 * block, in which each node of an IPv6 cluster has its own address). One alert per node and address.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { clusterPlace, networkFor } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nodeTriage } from './k8s-node-identity-outside-aws.ts';
import { auditRequestText, connectionAddress, inEgressCidrs, nativeAlert, servedRequest, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** How long a node is watched before a new address of it is judged. */
export const NODE_LEARN_MS = 30 * 60_000;
/** Addresses remembered per node (a node has one; a few more leave room for a NAT gateway replaced). */
const MAX_PER_NODE = 4;

interface State {
  /** cluster | node username → first served request's event time and the addresses it was served from. */
  nodes: Lru<string, { sinceMs: number; addresses: string[] }>;
  /** cluster | address → true: an address some node of the cluster was served from. */
  clusterAddresses: Lru<string, true>;
  /** cluster | node username | address → true: already reported. */
  alerted: Lru<string, true>;
}

export const k8sNodeIdentityMoved: NativeDetection<State> = {
  id: 'seam-native-k8s-node-identity-moved',
  title: 'Kubernetes node identity used from another AWS address',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1552.005', 'attack.defense-evasion', 'attack.t1550.001', 'attack.lateral-movement'],
  description:
    'A Kubernetes API request authenticated as a node (system:node:*) was served from a public address inside Amazon’s networks that this node has not used before and no other node of the cluster uses, after the node had been seen for half an hour from its own address. A kubelet connects from one place for its whole life; the node role’s credentials taken from the instance metadata service and used on another EC2 instance arrive as the same node name from that instance’s address.',
  triage:
    'Which node (the username names it), its usual address and the new one; what the request did (node identities can read the secrets of pods scheduled on them and create pod-bound tokens). Find the pods on that node with hostNetwork or IMDS reachable (hop limit, IMDSv1); revoke the node role’s sessions issued before now and replace the node. A NAT gateway or Elastic IP replaced under the node explains one such alert.',
  createState: (c: NativeConfig): State => ({ nodes: boundedLru(c.maxStateEntries), clusterAddresses: boundedLru(c.maxStateEntries), alerted: boundedLru(c.maxStateEntries) }),
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit') return [];
    const username = str(obj(event.user)?.username) ?? '';
    if (!username.startsWith('system:node:')) return [];
    if (!servedRequest(event)) return [];
    const ip = connectionAddress(event);
    if (ip === undefined) return [];
    // An IPv6 address counts by its /56, the VPC's block (a VPC's IPv6 addresses are Amazon's global ones, seen from inside the VPC too).
    const place = clusterPlace(ip);
    if (place === undefined) return [];
    // Keyed by cluster, not account (see k8s-sa-token-from-unknown-aws-address.ts).
    const cluster = event.seam.cluster ?? 'unknown';
    const t = timeOf(event);
    const nodeKey = cluster + '|' + username;
    const node = state.nodes.get(nodeKey);
    const knownByCluster = state.clusterAddresses.has(cluster + '|' + place);
    state.clusterAddresses.set(cluster + '|' + place, true);
    if (node === undefined) {
      state.nodes.set(nodeKey, { sinceMs: t, addresses: [place] });
      return [];
    }
    if (node.addresses.includes(place)) return [];
    if (node.addresses.length < MAX_PER_NODE) node.addresses.push(place);
    if (t - node.sinceMs < NODE_LEARN_MS || knownByCluster) return [];
    const net = networkFor(ip, ctx.config);
    // Only a public address Seam places inside AWS: outside AWS is the sibling detection's, private is the VPC's.
    if (net === undefined || net.private || net.aws !== true) return [];
    if (inEgressCidrs(graph, cluster, ip)) return [];
    const key = nodeKey + '|' + place;
    if (state.alerted.has(key)) return [];
    state.alerted.set(key, true);
    const usual = node.addresses.filter((a) => a !== place).join(', ');
    return [
      nativeAlert(this, {
        events: [event],
        summary: `Node identity ${username} called the API server (${auditRequestText(event)}) in ${cluster} from ${ip} (${net.label}); it had been served from ${usual}`,
        triage: nodeTriage(
          event,
          username,
          cluster,
          ip,
          net.label,
          `an AWS address no node of the cluster uses; it had been served from ${usual}`,
          `Benign if the NAT gateway or Elastic IP in front of it was replaced: then all its requests move to ${ip} and stay there.`,
        ),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster,
      }),
    ];
  },
};
