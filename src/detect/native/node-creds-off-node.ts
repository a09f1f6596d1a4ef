/**
 * Node instance-role credentials used off the node. Kubelets and the VPC CNI call AWS from the node (through
 * the cluster's NAT or VPC endpoints); the same session from elsewhere means the instance-metadata credentials
 * were taken, typically from a pod that reached IMDS.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { roleOfSession, sessionNameOf } from '../../identity/keys.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { networkFor } from './networks.ts';
import { accessKeyOf, callerText, chainText, configuredCidrs, egressText, fromCluster, keyLookupCommand, nativeAlert, revokeSessionsCommand, timeOf } from './util.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

interface State {
  alerted: Lru<string, true>;
}

/** The alert's triage text: the node session and key, its call and address against the cluster's egress, the commands to look and to stop it. */
function nodeCredsTriage(event: SeamEvent, graph: IdentityGraph, arn: string, roleArn: string, clusters: readonly string[], ip: string): string {
  const role = shortIdentity(roleArn).replace(/^role\//, '');
  const session = sessionNameOf(arn);
  const instance = session !== undefined && /^i-[0-9a-f]{8,17}$/.test(session) ? session : undefined;
  const key = accessKeyOf(event);
  const cluster = clusters[0]!;
  return (
    `Node role session ${shortIdentity(arn)}${key === undefined ? '' : ` (key ${key})`}, used by the nodes of ${clusters.join(', ')}, called ${event.seam.action ?? 'AWS'} ${callerText(event)}; ${cluster} reaches AWS from ${egressText(graph, cluster, timeOf(event))}. ` +
    (instance === undefined
      ? 'The session name is usually the instance id: find the node, and the pods on it with hostNetwork or an IMDS hop limit above 1. '
      : `Which pods on ${instance} have hostNetwork or reach IMDS (aws ec2 describe-instances --instance-ids ${instance} --query 'Reservations[].Instances[].MetadataOptions': HttpTokens required, hop limit 1)? `) +
    `List what ${ip} did with the keys${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}. ` +
    `Benign if ${ip} is a new egress address of ${cluster} (a NAT gateway added): its pods' sessions use it too; list it in the cluster's egressCidrs. ` +
    `Otherwise deny ${role}'s older sessions (${revokeSessionsCommand(role)})${instance === undefined ? '' : ` and set aws ec2 modify-instance-metadata-options --instance-id ${instance} --http-tokens required --http-put-response-hop-limit 1`}.`
  );
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
        triage: nodeCredsTriage(event, graph, arn, role, clusters, ip),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: clusters[0],
      }),
    ];
  },
};
