/**
 * A Kubernetes request authenticated as a node (`system:node:<name>`) from a public address outside AWS. On EKS a
 * node is an EC2 instance in the cluster's VPC: its kubelet reaches the API server from the instance's private
 * address, or, through a public endpoint, from the instance's public address or its NAT gateway (AWS addresses).
 * A node identity arriving from anywhere else means the node's credentials left the node: its instance-role
 * session (which aws-auth or a node access entry maps to `system:node:*`) or a kubelet client certificate, taken
 * by a pod that reached IMDS or the host's files. A NAT gateway's address is public too, so "public" is not
 * "outside" (a Sigma rule on any public address matched every kubelet request of a public-only endpoint and was
 * removed, ADR 0037); this detection places the address with the bundled ASN table (networks.ts) and counts only
 * those outside Amazon's networks. EKS Hybrid
 * Nodes run on premises: list their egress as the cluster's `egressCidrs`. The address judged is the connection's
 * (util.ts connectionAddress), not an X-Forwarded-For entry the client wrote.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { addressPlace, networkFor } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { auditRequestText, ClusterV6Blocks, connectionAddress, inEgressCidrs, keyLookupCommand, nativeAlert, quoted, revokeSessionsCommand, servedRequest, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

interface State {
  /** node username | address (IPv6: its /64) pairs already reported: one alert per node and outside address. */
  alerted: Lru<string, true>;
  /** The cluster's own IPv6 blocks (an IPv6 cluster whose VPC block Amazon does not announce). */
  v6: ClusterV6Blocks;
}

/** The first value of a Kubernetes user's `extra` entry (EKS puts the IAM identity there: `arn`, `canonicalArn`, `accessKeyId`). */
function extraOf(event: SeamEvent, name: string): string | undefined {
  const v = obj(obj(event.user)?.extra)?.[name];
  return Array.isArray(v) ? str(v[0]) : undefined;
}

/**
 * A node identity alert's triage text: the node, its request and address (`why` it is wrong), its IAM role and key,
 * the commands to look and to stop it, and what would make it `benign`.
 */
export function nodeTriage(event: SeamEvent, username: string, cluster: string, ip: string, label: string, why: string, benign: string): string {
  const node = username.slice('system:node:'.length);
  const role = /:role\/(?:.*\/)?([^/]+)$/.exec(extraOf(event, 'canonicalArn') ?? '')?.[1];
  const key = extraOf(event, 'accessKeyId');
  const ua = event.seam.user_agent;
  return (
    `Node identity ${username} made ${quoted(auditRequestText(event), 120)} in ${cluster} from ${ip} (${label})${ua === undefined ? '' : ` with ${quoted(ua)}`}, ${why}${role === undefined ? '' : `, signed by role ${role}${key === undefined ? '' : ` (key ${key})`}`}. ` +
    `A node identity reads the secrets and configmaps of the pods scheduled on ${node} and creates their tokens. ` +
    `Which pods there have hostNetwork, hostPath mounts or IMDSv1 within reach (kubectl get pods -A --field-selector spec.nodeName=${node} -o wide)? ` +
    `List what ${ip} did in both planes (seam hunt --who ${username} --cluster ${cluster}${key === undefined ? '' : `; ${keyLookupCommand(key, event.seam.region)}`}). ` +
    `${benign} ` +
    `Otherwise deny ${role === undefined ? 'the node role' : role}'s older sessions (${revokeSessionsCommand(role ?? '<node role>')}) and replace the node (kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data, then terminate its instance).`
  );
}

export const k8sNodeIdentityOutsideAws: NativeDetection<State> = {
  id: 'seam-native-k8s-node-identity-outside-aws',
  title: 'Kubernetes node identity used from outside AWS',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1552.005', 'attack.defense-evasion', 'attack.t1550.001', 'attack.lateral-movement'],
  description:
    'A Kubernetes API request authenticated as a node (system:node:*) came from a public IPv4 or IPv6 address that the bundled ASN table places outside Amazon’s networks (not the node’s own address, not a NAT gateway, not a configured egress CIDR). The node’s instance-role session or kubelet certificate is being used off the node. Tune: EKS Hybrid Nodes run outside AWS: add their egress to the cluster’s egressCidrs.',
  triage:
    'Which node (the username names it) and what the request did (node identities can read the secrets and configmaps of pods scheduled on them, and create pod-bound tokens). Find the pods on that node with hostNetwork, hostPath mounts or IMDSv1 reachable; revoke the node role’s sessions issued before now, rotate the node (drain and replace), and list what else the outside address did in both planes.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries), v6: new ClusterV6Blocks(c.maxStateEntries) }),
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit') return [];
    const username = str(obj(event.user)?.username) ?? '';
    if (!username.startsWith('system:node:')) return [];
    const ip = connectionAddress(event);
    if (ip === undefined) return [];
    const cluster = event.seam.cluster ?? 'unknown';
    // IPv6: the nodes served while the cluster's IPv6 traffic is first watched teach its own blocks.
    if (state.v6.own(cluster, ip, timeOf(event), servedRequest(event)) === true) return [];
    if (inEgressCidrs(graph, cluster, ip)) return [];
    const net = networkFor(ip, ctx.config);
    // Only an address Seam can place outside AWS counts (IPv4 or IPv6): private, Amazon's, or unknown without a database stay quiet.
    if (net === undefined || net.private || net.aws !== false) return [];
    const key = username + '|' + (addressPlace(ip)?.place ?? ip);
    if (state.alerted.has(key)) return [];
    state.alerted.set(key, true);
    return [
      nativeAlert(this, {
        events: [event],
        summary: `Node identity ${username} called the API server (${auditRequestText(event)}) in ${cluster} from ${ip} (${net.label}), outside AWS`,
        triage: nodeTriage(event, username, cluster, ip, net.label, 'outside AWS', `Benign if ${ip} is the egress of an EKS Hybrid Node of ${cluster}: list it in the cluster's egressCidrs.`),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster,
      }),
    ];
  },
};
