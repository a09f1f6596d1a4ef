/**
 * Exec into a pod, then that pod's role calls AWS: the shape of a person (or an attacker with kubectl) lifting
 * the pod's credentials and using them for reconnaissance or secrets. The identity graph supplies the link
 * (last exec into a pod of the service account before the call, within its window); this detection keeps the
 * calls that matter and the tighter window.
 *
 * A busy IRSA / Pod Identity workload keeps calling AWS whatever a person does in its pod: a call with a user agent
 * the workload (its service account's sessions, including the ones its SDK refreshed) already used before the exec
 * is the application's own routine work, not the person's (a shell user's `aws` CLI or curl shows a client the
 * workload never used). What it cannot see: someone who runs the application's own SDK, same version, in the pod.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, chainText, inEgressCidrs, nativeAlert, remembered, timeOf } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { roleOfSession } from '../../identity/keys.ts';
import type { Principal } from '../../core/envelope.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** Recon and secret access worth tying to an exec. */
export function isSensitiveCall(action: string | undefined): boolean {
  if (action === undefined) return false;
  // Asked of every CloudTrail call; a stream has few distinct actions: each answer is remembered (bounded).
  let yes = sensitiveMemo.get(action);
  if (yes === undefined) {
    if (sensitiveMemo.size >= 4096) sensitiveMemo.clear();
    yes = sensitive(action);
    sensitiveMemo.set(action, yes);
  }
  return yes;
}

const sensitiveMemo = new Map<string, boolean>();

function sensitive(action: string): boolean {
  const [svc, name = ''] = action.split(':') as [string, string | undefined];
  switch (svc) {
    case 'sts.amazonaws.com':
      return name === 'GetCallerIdentity' || name === 'AssumeRole' || name === 'GetSessionToken' || name === 'GetFederationToken';
    case 'secretsmanager.amazonaws.com':
      return /^(GetSecretValue|BatchGetSecretValue|ListSecrets|DescribeSecret)$/.test(name);
    case 'ssm.amazonaws.com':
      return /^(GetParameter|GetParameters|GetParametersByPath|DescribeParameters|StartSession|SendCommand)$/.test(name);
    case 'iam.amazonaws.com':
      return true;
    case 'kms.amazonaws.com':
      return name === 'Decrypt';
    case 'eks.amazonaws.com':
      return /^(ListClusters|DescribeCluster|ListAccessEntries|CreateAccessEntry|AssociateAccessPolicy)$/.test(name);
    case 's3.amazonaws.com':
      return name === 'ListBuckets';
    default:
      return false;
  }
}

interface State {
  alerted: Lru<string, true>;
  /** `<service account (or session)>|<user agent>` → earliest time the workload was seen calling with that user agent. */
  uaSeen: Lru<string, number>;
}

/** A principal as an analyst names it: `role/PlatformAdmin (alice@example.com)`, `k8s alice`. */
function nameOf(p: Principal | undefined): string {
  if (p === undefined) return 'unknown principal';
  return p.arn !== undefined ? shortIdentity(p.arn) : p.k8s_user ?? shortIdentity(p.id);
}

/** Where the role's call came from, judged against the cluster's egress: inside the pod, or the keys copied out. */
function whereText(event: SeamEvent, graph: IdentityGraph, cluster: string | undefined, t: number): string {
  const ip = event.seam.source_ip;
  if (typeof event.vpcEndpointId === 'string') return `through VPC endpoint ${event.vpcEndpointId}, so from inside the VPC`;
  if (ip === undefined || cluster === undefined) return 'compare the address with the cluster’s NAT gateways: anything else means the keys were copied out';
  if (graph.egressOf(cluster, t).includes(ip) || inEgressCidrs(graph, cluster, ip)) return `${ip} is one of ${cluster}’s egress addresses, so the keys were used from inside the cluster`;
  if (graph.egressOf(cluster, t).length > 0) return `${ip} is not an address ${cluster} is known to reach AWS from, so the keys were likely copied out of the pod`;
  return `compare ${ip} with ${cluster}’s NAT gateways: anything else means the keys were copied out`;
}

export const execThenAws: NativeDetection<State> = {
  id: 'seam-native-exec-then-aws',
  title: 'Exec into a pod followed by that pod’s role calling AWS',
  level: 'high',
  tags: ['attack.execution', 'attack.t1609', 'attack.credential-access', 'attack.t1552.001', 'attack.t1528', 'attack.discovery', 'attack.t1087.004'],
  description:
    'Someone exec’d or attached into a pod, and within minutes the pod’s IRSA or Pod Identity credentials made reconnaissance or secret-access calls (sts:GetCallerIdentity, secretsmanager and ssm reads, any iam call).',
  triage:
    'Ask the person at the end of the chain what they ran in the pod (the summary quotes the exec command). Check the calls’ source address: the cluster’s egress means from inside the pod, anything else means the keys were copied out. If unexpected, revoke the role’s sessions issued before now (aws:TokenIssueTime) and rotate what the calls touched.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries), uaSeen: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const chain = ctx.resolution.chain;
    const issued = chain.find((s) => s.kind === 'web_identity_session' || s.kind === 'pod_identity_session');
    const t = timeOf(event);
    const ua = event.seam.user_agent;
    // Keyed by the service account the session was issued to, so that the SDK's hourly session refresh keeps it.
    const uaKey = issued === undefined || ua === undefined ? undefined : issued.to + '|' + ua;
    if (uaKey !== undefined) {
      const first = state.uaSeen.get(uaKey);
      if (first === undefined || t < first) state.uaSeen.set(uaKey, t);
    }
    if (!isSensitiveCall(event.seam.action)) return [];
    const exec = chain.find((s) => s.kind === 'exec');
    if (exec?.via === undefined) return [];
    const execEdge = graph.store.latest('exec|' + exec.via);
    if (execEdge === undefined) return [];
    if (t - execEdge.fromMs > ctx.config.execToAwsWindowMs || t < execEdge.fromMs) return [];
    // The workload's own client, in use before the exec: its routine work.
    const uaFirst = uaKey === undefined ? undefined : state.uaSeen.get(uaKey);
    if (uaFirst !== undefined && uaFirst < execEdge.fromMs) return [];
    const session = event.seam.principal?.arn ?? event.seam.principal?.id ?? '';
    if (state.alerted.has(exec.via + '|' + session)) return [];
    state.alerted.set(exec.via + '|' + session, true);
    const issuedEdge = issued === undefined ? undefined : graph.store.at((issued.kind === 'web_identity_session' ? 'wis|' : 'pis|') + issued.from, t);
    const events = [remembered(exec.via, execEdge.fromMs), event];
    if (issuedEdge !== undefined) events.splice(1, 0, remembered(issuedEdge.fact.provenance, issuedEdge.fromMs));
    const mins = Math.round((t - execEdge.fromMs) / 1000);
    const a = execEdge.fact.attributes;
    const person = nameOf(ctx.resolution.origin);
    const pod = exec.from.replace(/^k8s:[^:]*:pod:/, '');
    const cluster = ctx.resolution.cluster ?? event.seam.cluster;
    const role = roleOfSession(session);
    const triage =
      `${person} exec’d into ${pod}${cluster === undefined ? '' : ` in ${cluster}`} at ${new Date(execEdge.fromMs).toISOString()}; ${mins}s later its role session ${shortIdentity(session)} called ${event.seam.action} ${callerText(event)}: ${whereText(event, graph, cluster, t)}. ` +
      `Ask ${person} what they ran (the command is in the summary) and why, and list the calls of ${shortIdentity(session)} since the exec. ` +
      `If it was not expected: revoke ${role === undefined ? 'the role' : shortIdentity(role)}’s sessions issued before now (aws:TokenIssueTime), rotate what the calls touched, and review who may exec into ${pod}.`;
    return [
      nativeAlert(this, {
        events,
        triage,
        summary: `${describePrincipal(ctx.resolution.origin)} exec'd into ${exec.from.replace(/^k8s:[^:]*:pod:/, '')}${typeof a.command === 'string' ? ` (${a.command})` : ''}; ${mins}s later its role called ${event.seam.action} from ${event.seam.source_ip ?? 'an AWS service'}; chain: ${chainText(chain)}`,
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster,
      }),
    ];
  },
};
