/**
 * A Kubernetes request authenticated as a service account (`system:serviceaccount:*`) from a public address
 * outside AWS. Pods reach the API server from inside AWS: through the private endpoint from their VPC addresses,
 * or, when the cluster's endpoint is public only (the EKS API's default: `endpointPrivateAccess=false`), through
 * the public endpoint from their node's public address or their NAT gateway's Elastic IP, both Amazon's. A Sigma
 * rule on any public address (k8s_service_account_token_used_from_public_ip, medium until ADR 0037 removed it)
 * matched every in-cluster request of such a cluster. This detection raises medium only for an address the bundled
 * ASN table places outside Amazon's networks and outside the cluster's configured `egressCidrs`: a token taken out
 * of the cluster (read from a pod, a Secret, a CI log) and replayed from elsewhere.
 *
 * The address judged is the connection's, the last entry of `sourceIPs`: the API server lists the request's
 * X-Forwarded-For entries first, and a client writes those itself (`sourceIPs: ["10.0.0.5", "<its own address>"]`
 * must not pass for a pod). One alert per AWS account, cluster, service account and outside address, and again only
 * 24 h of event time after the last one:
 * a replayed token makes hundreds of requests. Each request counts at one stage (countedStage).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { addressPlace, networkFor } from './networks.ts';
import type { AnyNativeDetection, EvalContext, NativeDetection } from './types.ts';
import { auditRequestText, ClusterV6Blocks, connectionAddress, inEgressCidrs, nativeAlert, quoted, servedRequest, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

const SESSIONS = new Set(['exec', 'attach', 'portforward']);

/**
 * Each request counts at one stage: a long-running request (a watch, a followed log, a
 * proxied connection) is logged when its response starts and again when it ends, and counts at ResponseComplete;
 * an exec, attach or port-forward session counts at ResponseStarted, when it opens (its ResponseComplete repeats
 * the 101; a refused session is logged only at ResponseComplete and counts there). RequestReceived never counts.
 */
export function countedStage(event: SeamEvent): boolean {
  const sub = str(obj(event.objectRef)?.subresource);
  const session = sub !== undefined && SESSIONS.has(sub);
  if (event.stage === 'ResponseStarted') return session;
  if (event.stage === 'ResponseComplete') return !(session && obj(event.responseStatus)?.code === 101);
  return event.stage === undefined;
}

/** The user of a Kubernetes request made as a node or a service account (what both service-account address detections read), else undefined. */
export function nodeOrServiceAccount(event: SeamEvent): string | undefined {
  if (event.seam.source !== 'k8s_audit') return undefined;
  const username = str(obj(event.user)?.username);
  return username !== undefined && (username.startsWith('system:node:') || username.startsWith('system:serviceaccount:')) ? username : undefined;
}

/** The same account from the same outside address is reported again after this long of event time. */
const REPORT_EVERY_MS = 24 * 3600_000;

/** Whether `key` is due an alert at event time `t` (none within REPORT_EVERY_MS before); records it when it is. */
export function dueReport(reported: Lru<string, number>, key: string, t: number): boolean {
  const last = reported.get(key);
  if (last !== undefined && Math.abs(t - last) < REPORT_EVERY_MS) return false;
  reported.set(key, t);
  return true;
}

/**
 * The triage text of a service account's request from `ip`: which account, what it did, the kubectl commands that
 * show what it may do and which pods hold it, where its token may have leaked, how to rotate it, and `benign`.
 */
export function saTokenTriage(event: SeamEvent, username: string, cluster: string, ip: string, label: string, why: string, benign: string): string {
  const sa = username.slice('system:serviceaccount:'.length);
  const i = sa.indexOf(':');
  const ns = i < 0 ? 'default' : sa.slice(0, i);
  const name = i < 0 ? sa : sa.slice(i + 1);
  const code = obj(event.responseStatus)?.code;
  const ua = event.seam.user_agent;
  return (
    `Service account ${ns}/${name} of ${cluster} made ${quoted(auditRequestText(event), 120)}${typeof code === 'number' && code >= 400 ? ` (refused, ${String(code)})` : ''} from ${ip} (${label})${ua === undefined ? '' : ` with ${quoted(ua)}`}, ${why}. ` +
    `What may it do (kubectl auth can-i --list --as=${username}) and which pods run as it (kubectl get pods -n ${ns} --field-selector spec.serviceAccountName=${name})? ` +
    `List the address's other requests in both planes (seam hunt --who ${ns}/${name} --cluster ${cluster}) and find where the token leaked: a pod exec'd into, a Secret in ${ns} of type kubernetes.io/service-account-token, a CI log, a kubeconfig. ` +
    `${benign} Otherwise rotate it: delete its token Secret (kubectl get secrets -n ${ns} --field-selector type=kubernetes.io/service-account-token), or for bound tokens restart the pods that use it (or recreate ${ns}/${name}).`
  );
}

/** The alert of a service account's request from `ip` (its network `label`): what it did, where, and `why` the address is wrong. */
export function saTokenAlert(d: AnyNativeDetection, event: SeamEvent, ctx: EvalContext, username: string, cluster: string, ip: string, label: string, why: string, benign: string): Alert {
  const code = obj(event.responseStatus)?.code;
  return nativeAlert(d, {
    events: [event],
    triage: saTokenTriage(event, username, cluster, ip, label, why, benign),
    summary: `Service account ${username.slice('system:serviceaccount:'.length)} called the API server (${auditRequestText(event)}${typeof code === 'number' ? ', ' + String(code) : ''}) in ${cluster} from ${ip} (${label}), ${why}`,
    principal: ctx.resolution.principal,
    account: event.seam.account,
    cluster,
  });
}

interface State {
  /** AWS account | cluster | service account | address (IPv6: its /64) → event time of the last alert. */
  reported: Lru<string, number>;
  /** The cluster's own IPv6 blocks (an IPv6 cluster whose VPC block Amazon does not announce). */
  v6: ClusterV6Blocks;
}

export const k8sSaTokenOutsideAws: NativeDetection<State> = {
  id: 'seam-native-k8s-sa-token-outside-aws',
  title: 'Kubernetes service-account token used from outside AWS',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.initial-access', 'attack.t1078.004', 'attack.defense-evasion', 'attack.t1550.001'],
  description:
    'A Kubernetes API request authenticated as a service account (system:serviceaccount:*) came from a public IPv4 or IPv6 address that the bundled ASN table places outside Amazon’s networks and that is not a configured egress CIDR of the cluster. Pods reach the API server from their VPC or, through a public endpoint, from their node’s or NAT gateway’s AWS address; a token used from anywhere else was taken out of the cluster. Tune: controllers that run outside AWS on purpose (Argo CD managing a remote cluster, CI runners): list their egress as the cluster’s egressCidrs.',
  triage:
    'Which service account, from which address, and what it did (the request here; the address’s other requests in both planes). Find where the token leaked (a pod exec’d into, a Secret of type service-account-token, a CI log, a kubeconfig). Rotate: delete the token Secret, or for bound tokens delete the pods using it or recreate the service account.',
  createState: (c: NativeConfig): State => ({ reported: boundedLru(c.maxStateEntries), v6: new ClusterV6Blocks(c.maxStateEntries) }),
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const username = nodeOrServiceAccount(event);
    if (username === undefined) return [];
    const node = username.startsWith('system:node:');
    const ip = connectionAddress(event);
    if (ip === undefined) return [];
    const cluster = event.seam.cluster ?? 'unknown';
    // IPv6: nodes and pods served while the cluster's IPv6 traffic is first watched teach its own blocks.
    const own = state.v6.own(cluster, ip, timeOf(event), servedRequest(event));
    if (node || own === true || !countedStage(event)) return [];
    if (inEgressCidrs(graph, cluster, ip)) return [];
    const net = networkFor(ip, ctx.config);
    // Only an address Seam can place outside AWS counts (IPv4 or IPv6): private, Amazon's, or unknown without a database stay quiet.
    if (net === undefined || net.private || net.aws !== false) return [];
    const key = (event.seam.account ?? '') + '|' + cluster + '|' + username + '|' + (addressPlace(ip)?.place ?? ip);
    if (!dueReport(state.reported, key, timeOf(event))) return [];
    return [saTokenAlert(this, event, ctx, username, cluster, ip, net.label, 'outside AWS', `Benign if ${ip} is a controller or CI runner that manages ${cluster} from outside AWS on purpose (an Argo CD hub, a runner): list its egress in the cluster's egressCidrs.`)];
  },
};
