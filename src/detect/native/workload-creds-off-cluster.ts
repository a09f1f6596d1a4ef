/**
 * IRSA or Pod Identity credentials used from outside the cluster. A workload's session should only ever call
 * AWS from where its pods egress (learned from the cluster's own AssumeRoleWithWebIdentity /
 * AssumeRoleForPodIdentity calls, plus configured CIDRs). A call from anywhere else means the keys (or the
 * projected token) left the pod. A session seen from many addresses is flagged too.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, chainText, egressText, fromCluster, inEgressCidrs, nativeAlert, remembered, timeOf } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { roleOfSession } from '../../identity/keys.ts';
import { str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

interface State {
  alerted: Lru<string, true>;
  /** session ARN → distinct source addresses outside configured CIDRs, with the first event from each. */
  addresses: Lru<string, Map<string, { id: string; timeMs: number }>>;
}

/** The close of every variant's triage text: revoke the role's sessions, by name. */
function revokeText(role: string | undefined, sa: string): string {
  return `Revoke ${role === undefined ? 'the role' : shortIdentity(role)}’s sessions issued before now (aws:TokenIssueTime), rotate whatever the calls touched, and restart the pods of service account ${sa} so their tokens are replaced.`;
}

export const workloadCredsOffCluster: NativeDetection<State> = {
  id: 'seam-native-workload-creds-off-cluster',
  title: 'IRSA or Pod Identity credentials used from outside the cluster',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1552.001', 'attack.t1528', 'attack.defense-evasion', 'attack.t1550.001', 'attack.t1078.004'],
  description:
    'An AWS call signed with credentials the identity graph ties to a Kubernetes service account (IRSA web-identity session or EKS Pod Identity session) came from an address that is not one of the cluster’s egress addresses, or one session was used from many addresses.',
  triage:
    'Which service account and pod (the chain), and whether someone exec’d into it shortly before; compare the address with the cluster’s egress (the alert lists it) and check what else it did. Revoke the role’s sessions issued before now (aws:TokenIssueTime), rotate whatever the calls touched, and restart the service account’s pods so their tokens are replaced.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries), addresses: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const p = event.seam.principal;
    const t = timeOf(event);
    const out: Alert[] = [];
    // A service-account token exchanged for role credentials from outside (after the egress learning period).
    if (str(event.eventName) === 'AssumeRoleWithWebIdentity' && event.seam.outcome === 'success') {
      const sess = str((event.responseElements as { assumedRoleUser?: { arn?: unknown } } | null)?.assumedRoleUser?.arn);
      const wis = sess === undefined ? undefined : graph.store.at('wis|' + sess, t);
      const cluster = wis?.fact.cluster;
      if (wis !== undefined && cluster !== undefined && fromCluster(event, graph, cluster, ctx.config) === false && graph.egressOf(cluster, t).length > 0) {
        const sa = String(wis.fact.attributes.service_account);
        const role = typeof wis.fact.attributes.role === 'string' ? wis.fact.attributes.role : undefined;
        out.push(
          nativeAlert(this, {
            events: [event],
            triage:
              `Service account ${sa} of ${cluster} exchanged its token for ${role === undefined ? 'its role' : shortIdentity(role)} ${callerText(event)}; ${cluster} reaches AWS from ${egressText(graph, cluster, t)}. ` +
              `Find where the token left (someone exec’ing into a pod of ${sa}, a node with hostPath access, a CI log) and what ${event.seam.source_ip} did with the issued credentials. ` +
              revokeText(role, sa),
            summary: `Service account ${String(wis.fact.attributes.service_account)} of ${cluster} exchanged its token for ${String(wis.fact.attributes.role)} from ${event.seam.source_ip}, outside the cluster's egress addresses`,
            principal: ctx.resolution.principal,
            account: event.seam.account,
            cluster,
          }),
        );
      }
      return out;
    }
    if (p?.arn === undefined) return out;
    const edge = graph.store.at('wis|' + p.arn, t) ?? graph.store.at('pis|' + p.arn, t);
    if (edge === undefined) return out;
    const cluster = edge.fact.cluster ?? 'unknown';
    const origin = typeof edge.fact.attributes.source_ip === 'string' ? [edge.fact.attributes.source_ip] : [];
    const inside = fromCluster(event, graph, cluster, ctx.config, origin);
    if (inside === undefined) return out;
    const ip = event.seam.source_ip!;
    // Who and the chain, as text, only for an alert: most calls raise none.
    const who = (): string => `${describePrincipal(ctx.resolution.principal)}`;
    const chain = (): string => chainText(ctx.resolution.chain);
    const sa = String(edge.fact.attributes.service_account);
    const role = roleOfSession(p.arn);
    // Who the chain leads to (a person who exec'd into the pod), when it goes past the service account.
    const behind = ctx.resolution.origin !== undefined && ctx.resolution.origin.id !== ctx.resolution.principal?.id ? ctx.resolution.origin : undefined;
    if (!inside && !state.alerted.has(p.arn + '|' + ip)) {
      state.alerted.set(p.arn + '|' + ip, true);
      out.push(
        nativeAlert(this, {
          events: [remembered(edge.fact.provenance, edge.fromMs), event],
          triage:
            `${shortIdentity(p.arn)}, the session of service account ${sa} of ${cluster}, called ${event.seam.action} ${callerText(event)}; ${cluster} reaches AWS from ${egressText(graph, cluster, t)}. ` +
            `Did ${behind === undefined ? 'someone' : shortIdentity(behind.arn ?? behind.id)} exec into a pod of ${sa} shortly before, and what else did ${ip} do? ` +
            revokeText(role, sa),
          summary: `${who()} of ${cluster} called ${event.seam.action} from ${ip}, outside the cluster's egress addresses; chain: ${chain()}`,
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster,
        }),
      );
    }
    if (typeof event.vpcEndpointId === 'string' || inEgressCidrs(graph, cluster, ip)) return out;
    let seen = state.addresses.get(p.arn);
    if (seen === undefined) state.addresses.set(p.arn, (seen = new Map()));
    if (!seen.has(ip)) {
      seen.set(ip, { id: event.seam.id, timeMs: t });
      if (seen.size === ctx.config.manyAddresses && !state.alerted.has(p.arn + '|many')) {
        state.alerted.set(p.arn + '|many', true);
        out.push(
          nativeAlert(this, {
            level: 'medium',
            events: [...seen.values()].map((s) => remembered(s.id, s.timeMs)),
            triage:
              `${shortIdentity(p.arn)}, the session of service account ${sa} of ${cluster}, was used from ${seen.size} addresses: ${[...seen.keys()].slice(0, 5).join(', ')}${seen.size > 5 ? ', …' : ''}; ${cluster} reaches AWS from ${egressText(graph, cluster, t)}. ` +
              `Which of them are the cluster’s NAT gateways or egress, and what did the others do? If any is not yours: ${revokeText(role, sa).replace(/^R/, 'r')}`,
            summary: `${who()} of ${cluster} was used from ${seen.size} addresses (${[...seen.keys()].join(', ')}); chain: ${chain()}`,
            principal: ctx.resolution.principal,
            account: event.seam.account,
            cluster,
          }),
        );
      }
    }
    return out;
  },
};
