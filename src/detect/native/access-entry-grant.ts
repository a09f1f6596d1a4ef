/**
 * EKS access entries: a new entry, Kubernetes groups added to an existing entry (eks:UpdateAccessEntry), an admin
 * access policy associated to a principal, and the first request the principal then makes. Access entries grant
 * cluster access from the AWS side, without touching the cluster, which is what makes them a quiet persistence
 * path: a group added to an entry gives the principal whatever RBAC binds to that group.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { fromSuffix, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { FIRST_USE, firstUseAlert, loadPending, remember, savePending, type Pending } from './first-use.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, timeOf, type NativeVariant } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { groupKey } from '../../identity/keys.ts';
import { accessPolicyMeaning, isPowerfulRule, ruleText, unknownPolicyReason } from '../../identity/rbac.ts';
import type { ChainStep } from '../../core/envelope.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { boundedLru } from '../../core/lru.ts';

const ADMIN_POLICIES = new Set(['AmazonEKSClusterAdminPolicy', 'AmazonEKSAdminPolicy']);

/** An access policy this detection alerts on: an admin one, or one whose permissions Seam does not know (possibly admin). */
function alertingPolicy(f: IdentityFact): boolean {
  if (f.kind !== 'access_policy') return false;
  const p = String(f.attributes.policy);
  return ADMIN_POLICIES.has(p) || accessPolicyMeaning(p) === undefined;
}

interface State {
  pending: Pending;
}

/** The four kinds of alert this detection raises, each with its own title (SOC review M5); the id stays the detection's. */
const VARIANTS = {
  created: { name: 'created', title: 'EKS access entry created' },
  groups_added: { name: 'groups_added', title: 'Kubernetes groups added to an EKS access entry' },
  admin_policy: { name: 'admin_policy', title: 'EKS admin access policy associated' },
  unknown_policy: { name: 'unknown_policy', title: 'EKS access policy with permissions unknown to Seam associated' },
  first_use: { name: FIRST_USE, title: 'First use of a new EKS access grant' },
} as const satisfies Record<string, NativeVariant>;

/** A grant alert's triage text: who made the change, to whom, and what to check. */
function grantTriage(change: string, grantee: string, cluster: string, by: string, workloads: string, undo: string, firstUseFollows = true): string {
  return (
    `The principal here is who made the change, ${shortIdentity(by)}: ${change} for ${shortIdentity(grantee)} in ${cluster}. ` +
    `Was it made through your infrastructure pipeline (its role, user agent and change record)? Who can assume ${shortIdentity(grantee)} (its trust policy)?${workloads === '' ? '' : ` As a workload role it is every pod of ${workloads}.`} ` +
    (firstUseFollows ? `A first-use alert is raised when ${shortIdentity(grantee)} first acts in ${cluster}. ` : '') +
    `${undo} if the change is unexpected.`
  );
}

export const accessEntryGrant: NativeDetection<State> = {
  id: 'seam-native-access-entry-grant',
  title: 'EKS access entry created or admin access policy associated, and its first use',
  level: 'medium',
  tags: ['attack.persistence', 'attack.privilege-escalation', 'attack.t1098', 'attack.t1098.006'],
  description:
    'eks:CreateAccessEntry gave an IAM principal access to a cluster, eks:UpdateAccessEntry added Kubernetes groups to its entry (high when a group it gained carries powerful RBAC), or eks:AssociateAccessPolicy gave it AmazonEKSClusterAdminPolicy / AmazonEKSAdminPolicy, or an access policy whose permissions Seam does not know (not in its table of EKS access policies: treated as possibly cluster-admin, and the alert says so). Critical when the principal is a role a workload can assume (IRSA or Pod Identity): any pod with that service account becomes cluster admin. A second alert marks the principal’s first request.',
  // Each alert carries its variant's triage text, naming its values; this is the detection's text for the docs.
  triage:
    'On the grant alerts the principal is who made the change; on the first-use alert it is the grantee, and the summary names who granted it and when. Was the change made through your infrastructure pipeline? Who can assume the grantee? For workload roles, look for the first-use alert and the pod behind it. Delete the entry (or disassociate the policy) if unexpected.',
  createState: (c: NativeConfig): State => ({ pending: boundedLru(c.maxStateEntries) }),
  // A grant's first use may come days later, in the next daily `run --resume` (ADR 0044).
  saveState: (state, nowMs, c) => savePending(state.pending, nowMs, c.firstUseWindowMs),
  loadState: (state, entries) => loadPending(state.pending, entries),
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const out: Alert[] = [];
    const t = timeOf(event);
    for (const f of ctx.facts) {
      if (f.op !== 'assert' || f.cluster === undefined) continue;
      // Only the two kinds below are about access; any other fact (most events have some) asks nothing of the graph.
      if (f.kind !== 'access_entry' && !alertingPolicy(f)) continue;
      const workloads = graph.serviceAccountsOfRole(f.from, t);
      const wl = workloads.length > 0 ? `; the role is assumable by service account${workloads.length > 1 ? 's' : ''} ${[...new Set(workloads.map((w) => w.serviceAccount))].join(', ')}` : '';
      if (f.kind === 'access_entry') {
        if (graph.nodeRoleClusters(f.from, t).includes(f.cluster)) continue;
        const history = graph.store.history(f.key);
        if (history.length > 1) {
          const grown = groupsAdded(this, graph, f, history[history.length - 2]!.fact, event, ctx, t, wl);
          if (grown !== undefined) out.push(grown);
          continue;
        }
        const by = event.seam.principal?.id ?? 'unknown';
        const sas = [...new Set(workloads.map((w) => w.serviceAccount))].join(', ');
        out.push(
          nativeAlert(this, {
            variant: VARIANTS.created,
            triage: grantTriage('an access entry created', f.from, f.cluster, by, sas, `Delete the access entry (aws eks delete-access-entry --cluster-name ${f.cluster} --principal-arn ${f.from})`),
            level: workloads.length > 0 ? 'high' : 'medium',
            events: [event],
            summary: `Access entry created in ${f.cluster} for ${f.from} (user ${String(f.attributes.username)}, groups ${((f.attributes.groups as string[]) ?? []).join(', ') || 'none'}) by ${event.seam.principal?.id ?? 'unknown'}${fromSuffix(event)}${wl}`,
            principal: ctx.resolution.principal,
            account: event.seam.account,
            cluster: f.cluster,
          }),
        );
        remember(state.pending, f.cluster, f.from, event.seam.id, t, 'access entry', false, event.seam.principal?.id);
      } else if (alertingPolicy(f)) {
        const clusterWide = f.attributes.scope !== 'namespace';
        const policy = String(f.attributes.policy);
        // A policy Seam does not know may be cluster-admin: treated as such at cluster scope, and said so.
        const unknown = accessPolicyMeaning(policy) === undefined;
        const admin = (policy === 'AmazonEKSClusterAdminPolicy' || unknown) && clusterWide;
        const unknownText = unknown ? `; its permissions are unknown to Seam (${unknownPolicyReason(policy)}), so it is treated as possibly cluster-admin` : '';
        const by = event.seam.principal?.id ?? 'unknown';
        const sas = [...new Set(workloads.map((w) => w.serviceAccount))].join(', ');
        out.push(
          nativeAlert(this, {
            variant: unknown ? VARIANTS.unknown_policy : VARIANTS.admin_policy,
            triage: grantTriage(`${policy} associated${unknown ? ' (permissions unknown to Seam: check them with aws eks list-access-policies and the EKS docs before ruling out cluster-admin)' : ''}`, f.from, f.cluster, by, sas, `Disassociate the policy (aws eks disassociate-access-policy --cluster-name ${f.cluster} --principal-arn ${f.from} --policy-arn arn:aws:eks::aws:cluster-access-policy/${String(f.attributes.policy)})`),
            level: admin && workloads.length > 0 ? 'critical' : 'high',
            events: [event],
            summary: `${policy} (${clusterWide ? 'cluster' : 'namespaces ' + ((f.attributes.namespaces as string[]) ?? []).join(', ')}) associated in ${f.cluster} to ${f.from} by ${event.seam.principal?.id ?? 'unknown'}${unknownText}${fromSuffix(event)}${wl}`,
            principal: ctx.resolution.principal,
            account: event.seam.account,
            cluster: f.cluster,
          }),
        );
        const prior = state.pending.get(f.cluster + '|' + f.from);
        remember(state.pending, f.cluster, f.from, event.seam.id, t, `${policy} grant${unknown ? ' (permissions unknown to Seam)' : ''}`, admin, event.seam.principal?.id);
        if (prior !== undefined) state.pending.get(f.cluster + '|' + f.from)!.grant = { ...prior.grant, ids: [...prior.grant.ids, event.seam.id], nativeIds: [...prior.grant.nativeIds, ...(typeof event.eventID === 'string' ? [event.eventID] : [])], startMs: prior.grant.timeMs, timeMs: t };
      }
    }
    const used = firstUseAlert(this, VARIANTS.first_use, state.pending, event, ctx);
    if (used !== undefined) out.push(used);
    return out;
  },
};

/**
 * Kubernetes groups an UpdateAccessEntry (or a re-sent CreateAccessEntry) added to an entry that already had a
 * version: medium, high when a group it gained carries powerful RBAC (cluster-admin, wildcards, secrets, escalate,
 * bind, impersonate, exec) through the bindings the graph knows. An entry deleted and created again is a new
 * entry for the creation alert's sake only when the previous version was retracted; here only groups count.
 */
function groupsAdded(
  d: NativeDetection<State>,
  graph: IdentityGraph,
  f: IdentityFact,
  prev: IdentityFact,
  event: SeamEvent,
  ctx: EvalContext,
  t: number,
  workloads: string,
): Alert | undefined {
  const before = new Set(prev.op === 'assert' ? ((prev.attributes.groups as string[] | undefined) ?? []) : []);
  const added = ((f.attributes.groups as string[] | undefined) ?? []).filter((g) => !before.has(g));
  if (added.length === 0 || f.cluster === undefined) return undefined;
  const keys = new Set(added.map((g) => groupKey(f.cluster!, g)));
  const viaAdded = (via: readonly ChainStep[] | undefined): boolean => via?.some((s) => keys.has(s.to) || keys.has(s.from)) ?? false;
  const perms = graph.effectivePermissions(f.from, f.cluster, t);
  const strong = perms.rules.filter((r) => viaAdded(r.via) && isPowerfulRule(r));
  const admin = perms.isClusterAdmin && viaAdded(perms.adminVia);
  const what = admin ? '; that makes it cluster admin' : strong.length > 0 ? `; they grant ${strong.slice(0, 3).map((r) => ruleText(r)).join('; ')}` : '';
  const by = event.seam.principal?.id ?? 'unknown';
  return nativeAlert(d, {
    variant: VARIANTS.groups_added,
    triage: grantTriage(
      `Kubernetes group${added.length > 1 ? 's' : ''} ${added.join(', ')} added to an access entry`,
      f.from,
      f.cluster,
      by,
      workloads.replace(/^; the role is assumable by service accounts? /, ''),
      `Remove the group${added.length > 1 ? 's' : ''} from the entry (aws eks update-access-entry)`,
      false,
    ),
    level: admin || strong.length > 0 ? 'high' : 'medium',
    events: [event],
    summary: `Kubernetes group${added.length > 1 ? 's' : ''} ${added.join(', ')} added to the access entry of ${f.from} in ${f.cluster} by ${event.seam.principal?.id ?? 'unknown'}${fromSuffix(event)} (groups before: ${[...before].join(', ') || 'none'})${what}${workloads}`,
    principal: ctx.resolution.principal,
    account: event.seam.account,
    cluster: f.cluster,
  });
}
