/**
 * A privileged service account's token minted by a person (`kubectl create token`, serviceaccounts/token) and
 * then used against the API server from outside the cluster. Kubelet-minted pod tokens are normal and skipped.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { isPowerfulRule } from '../../identity/rbac.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { fromCluster, nativeAlert, quoted, remembered, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

interface Minted {
  id: string;
  timeMs: number;
  untilMs: number;
  by: string;
  power: string;
}

interface State {
  minted: Lru<string, Minted>;
}

/** The alert's triage text: who minted the token of which service account, where it was used and for what, and how to end it. */
function mintedTriage(event: SeamEvent, m: Minted, sa: string, cluster: string, t: number): string {
  const [ns, name] = sa.split('/') as [string, string];
  const ua = event.seam.user_agent;
  const what = `${event.seam.action ?? ''} ${event.seam.resource ?? ''}`.trim() || 'a request';
  return (
    `${m.by} minted a token for service account ${sa} (${m.power}) in ${cluster} at ${new Date(m.timeMs).toISOString()}; ${Math.round((t - m.timeMs) / 60_000)} min later it made ${quoted(what, 120)} from ${event.seam.source_ip ?? 'an unknown address'}${ua === undefined ? '' : ` with ${quoted(ua)}`}, outside the cluster. ` +
    `Ask ${m.by} why they minted it and where the token went. What may it do (kubectl auth can-i --list --as=system:serviceaccount:${ns}:${name}), and which bindings grant it that (kubectl get clusterrolebindings,rolebindings -A -o wide | grep ${name})? ` +
    `Benign only if ${m.by} used it from their own machine for a reviewed task: it is still a powerful credential outside the cluster until it expires. ` +
    `A token cannot be revoked alone: delete and recreate the service account (kubectl delete serviceaccount -n ${ns} ${name}) or rotate the signing key, and review what the token did (seam hunt --who ${sa} --cluster ${cluster}).`
  );
}

export const saTokenOffCluster: NativeDetection<State> = {
  id: 'seam-native-sa-token-off-cluster',
  title: 'Privileged service-account token minted, then used from outside the cluster',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.defense-evasion', 'attack.t1550.001'],
  description:
    'A person created a token for a service account whose RBAC is powerful (cluster-admin, secrets, exec, escalation verbs), and a request authenticated as that service account then came from an address outside the cluster (not a pod-bound token, not a private or egress address).',
  triage:
    'Who minted the token and why? Tokens cannot be revoked one by one: delete and recreate the service account (or rotate the signing key) and review what the token did.',
  createState: (c: NativeConfig): State => ({ minted: boundedLru(c.maxStateEntries) }),
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit') return [];
    const cluster = event.seam.cluster ?? 'unknown';
    const t = timeOf(event);
    const ref = obj(event.objectRef);
    const p = event.seam.principal;
    if (ref?.resource === 'serviceaccounts' && ref.subresource === 'token' && event.verb === 'create' && event.seam.outcome === 'success') {
      const username = p?.k8s_user ?? p?.id ?? '';
      if (username.startsWith('system:node:') || p?.type === 'node') return [];
      const sa = `${str(ref.namespace) ?? 'default'}/${str(ref.name) ?? ''}`;
      const perms = graph.effectivePermissions(sa, cluster, t);
      const strong = perms.rules.filter(isPowerfulRule);
      if (!perms.isClusterAdmin && strong.length === 0) return [];
      const exp = obj(obj(event.requestObject)?.spec)?.expirationSeconds;
      const life = typeof exp === 'number' ? exp * 1000 : 3600_000;
      state.minted.set(cluster + '|' + sa, { id: event.seam.id, timeMs: t, untilMs: t + Math.min(life, ctx.config.tokenUseWindowMs), by: username, power: perms.isClusterAdmin ? 'cluster-admin' : 'powerful RBAC' });
      return [];
    }
    const sa = p?.service_account;
    if (sa === undefined || p?.pod !== undefined) return [];
    const m = state.minted.get(cluster + '|' + sa);
    if (m === undefined || t > m.untilMs || t < m.timeMs) return [];
    if (fromCluster(event, graph, cluster, ctx.config) !== false) return [];
    state.minted.delete(cluster + '|' + sa);
    return [
      nativeAlert(this, {
        events: [remembered(m.id, m.timeMs), event],
        summary: `Token for ${sa} (${m.power}) minted by ${m.by} was used from ${event.seam.source_ip} (${event.seam.action ?? ''} ${event.seam.resource ?? ''}), outside the cluster`,
        triage: mintedTriage(event, m, sa, cluster, t),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster,
      }),
    ];
  },
};
