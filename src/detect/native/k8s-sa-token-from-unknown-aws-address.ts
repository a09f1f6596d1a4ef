/**
 * A Kubernetes request authenticated as a service account from a public AWS address the cluster itself does not
 * use. `seam-native-k8s-sa-token-outside-aws` raises a token replayed from outside Amazon's networks; a token
 * taken out of the cluster and replayed from an EC2 instance (the attacker's account, a rented instance) comes from
 * an Amazon address too, and the ASN table cannot tell it from the cluster's NAT gateway (ADR 0037).
 *
 * The cluster's own addresses are learned from its nodes: every kubelet renews its lease every few seconds, from
 * the address its pods use as well (a node's private address through the private endpoint; its public address or
 * its NAT gateway's Elastic IP through a public endpoint, which its pods share by source NAT). A service-account
 * request from a public AWS address that no node of the cluster has used, that is not the cluster's learned STS
 * egress (identity graph: IRSA and Pod Identity calls) and not a configured egress CIDR, came from somewhere the
 * cluster's pods are not. The detection judges only clusters whose nodes it has watched for `LEARN_MS` of event
 * time, so a replay or a restart starting in the middle of the day stays quiet rather than guessing; the addresses
 * service accounts use during that hour are learned with the nodes' (pods whose egress is not the kubelets').
 *
 * One alert per cluster, service account and address, and again only 24 h of event time after the last one; each
 * request counts at one stage (countedStage). The address is the connection's (util.ts connectionAddress). State is
 * keyed by cluster name alone (two clusters of one name in two accounts share what they learned: quieter, not
 * noisier). IPv6 addresses count by their /56, the block AWS gives a VPC: a VPC's IPv6 addresses are Amazon's
 * global ones and each node and pod of an IPv6 cluster has its own, all in that block. Not judged: private addresses (a peered VPC or a transit gateway
 * reaching the private endpoint looks like the cluster's own VPC), and an attacker's instance behind the cluster's
 * own NAT gateway. Pods that leave through an address no kubelet uses (custom networking with external SNAT to
 * other NAT gateways, an egress gateway with its own Elastic IP, a proxy set for pods only) need `egressCidrs`.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { countedStage, dueReport, nodeOrServiceAccount, saTokenAlert } from './k8s-sa-token-outside-aws.ts';
import { clusterPlace, networkFor } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { connectionAddress, inEgressCidrs, servedRequest, timeOf } from './util.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** How long the nodes of a cluster are watched before its service accounts' addresses are judged. */
export const LEARN_MS = 3600_000;

interface State {
  /** cluster → event time of the first node request seen. */
  watchedSince: Lru<string, number>;
  /** cluster | address → true: an address a node of the cluster was served from, or a service account used while learning. */
  nodeAddresses: Lru<string, true>;
  /** cluster | service account | address → event time of the last alert. */
  reported: Lru<string, number>;
}

export const k8sSaTokenFromUnknownAwsAddress: NativeDetection<State> = {
  id: 'seam-native-k8s-sa-token-from-unknown-aws-address',
  title: 'Kubernetes service-account token used from an AWS address the cluster does not use',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A Kubernetes API request authenticated as a service account (system:serviceaccount:*) came from a public address inside Amazon’s networks that none of the cluster’s nodes has connected from, that is not the cluster’s learned STS egress and not a configured egress CIDR. Pods reach the API server from their node’s address or their NAT gateway’s, which the nodes use too; a token used from another AWS address was taken out of the cluster and replayed from an EC2 instance or another AWS service. Tune: controllers that manage this cluster from another VPC or account on purpose (an Argo CD or Flux hub, CI runners on EC2, pods set to use the cluster’s public endpoint while nodes use the private one): list their egress as the cluster’s egressCidrs.',
  triage:
    'Which service account, from which address, and what it did (the request here; the address’s other requests in both planes: is it an instance of one of your accounts?). Find where the token leaked (a pod exec’d into, a Secret of type service-account-token, a CI log). Rotate: delete the token Secret, or for bound tokens delete the pods using it.',
  createState: (c: NativeConfig): State => ({ watchedSince: boundedLru(c.maxStateEntries), nodeAddresses: boundedLru(c.maxStateEntries), reported: boundedLru(c.maxStateEntries) }),
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const username = nodeOrServiceAccount(event);
    if (username === undefined) return [];
    const node = username.startsWith('system:node:');
    const ip = connectionAddress(event);
    if (ip === undefined) return [];
    // An IPv6 address counts by its /56 (the VPC's block: each pod of an IPv6 cluster has an address of its own in it).
    const place = clusterPlace(ip);
    if (place === undefined) return [];
    const cluster = event.seam.cluster ?? 'unknown';
    // Keyed by cluster, not account: a node's audit event takes its account from the node role's ARN
    // (user.extra.arn), a service account's has none unless the source is configured with one.
    const where = cluster;
    const t = timeOf(event);
    if (node) {
      // Only requests the API server served teach an address (a refused one proves nothing about where nodes are).
      if (!servedRequest(event)) return [];
      state.nodeAddresses.set(where + '|' + place, true);
      const since = state.watchedSince.get(where);
      if (since === undefined || t < since) state.watchedSince.set(where, t);
      return [];
    }
    if (!countedStage(event)) return [];
    const since = state.watchedSince.get(where);
    if (since === undefined) return [];
    if (t - since < LEARN_MS) {
      // While the nodes are watched, the addresses service accounts already use are the cluster's too: pods
      // whose egress differs from the kubelets' (custom networking, an egress gateway) are learned, not alerted on.
      state.nodeAddresses.set(where + '|' + place, true);
      return [];
    }
    if (state.nodeAddresses.has(where + '|' + place)) return [];
    const net = networkFor(ip, ctx.config);
    // Only a public address Seam places inside AWS: outside AWS is the sibling detection's, private is the VPC's.
    if (net === undefined || net.private || net.aws !== true) return [];
    if (inEgressCidrs(graph, cluster, ip)) return [];
    if (graph.egressOf(cluster, t).includes(ip)) return [];
    if (!dueReport(state.reported, where + '|' + username + '|' + place, t)) return [];
    return [
      saTokenAlert(this, event, ctx, username, cluster, ip, net.label, "an AWS address none of the cluster's nodes uses", `Benign if ${ip} is an instance of one of your accounts that manages ${cluster} on purpose (an Argo CD or Flux hub, a CI runner on EC2, pods that use the public endpoint while the nodes use the private one): list its egress in the cluster's egressCidrs.`),
    ];
  },
};
