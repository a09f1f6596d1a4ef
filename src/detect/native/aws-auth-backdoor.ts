/**
 * aws-auth backdoor: a new or changed mapping in kube-system/aws-auth — above all one into system:masters or a
 * group bound to cluster-admin — and the first request the newly mapped principal makes.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { isNodeMapping } from '../../identity/aws-auth.ts';
import { fromSuffix, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { firstUseAlert, remember, type Pending, FIRST_USE, loadPending, savePending } from './first-use.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, timeOf, type NativeVariant } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { boundedLru } from '../../core/lru.ts';

/** The group every authenticated request carries: no grant. */
const AUTHENTICATED = 'system:authenticated';

interface Sighting {
  atMs: number;
  username: string;
  groups: string[];
}

/**
 * How the graph last saw `arn` authenticate in `cluster` before `t` (the `authenticates_as` version valid then: user
 * name and groups as the EKS authenticator gave them, and since when it had them), if it did.
 */
function sightingBefore(graph: IdentityGraph, arn: string, cluster: string, t: number): Sighting | undefined {
  let best: Sighting | undefined;
  for (const e of graph.store.outgoing(arn, 'authenticates_as', t - 1)) {
    if (e.fact.cluster !== cluster || (best !== undefined && e.fromMs <= best.atMs)) continue;
    const a = e.fact.attributes;
    best = { atMs: e.fromMs, username: String(a.username), groups: Array.isArray(a.groups) ? a.groups.filter((g): g is string => typeof g === 'string') : [] };
  }
  return best;
}

const groupsText = (groups: readonly string[]): string => {
  const own = groups.filter((g) => g !== AUTHENTICATED);
  return own.length === 0 ? 'no group but system:authenticated' : own.join(', ');
};

interface State {
  pending: Pending;
}

/** The two kinds of alert this detection raises, each with its own title (SOC review M5); the id stays the detection's. */
const VARIANTS = {
  mapping: { name: 'mapping', title: 'aws-auth mapping added or widened' },
  first_use: { name: FIRST_USE, title: 'First use of a new aws-auth mapping' },
} as const satisfies Record<string, NativeVariant>;

export const awsAuthBackdoor: NativeDetection<State> = {
  id: 'seam-native-aws-auth-backdoor',
  title: 'aws-auth mapping added or widened, and its first use',
  level: 'high',
  tags: ['attack.persistence', 'attack.privilege-escalation', 'attack.t1098', 'attack.t1078.004'],
  description:
    'kube-system/aws-auth gained a mapping (or an existing one changed) for an IAM role or user. Critical when it lands in system:masters or a group bound to cluster-admin; high when Seam saw no earlier aws-auth of the cluster, then naming how the principal was seen authenticating before (its groups then) or, when it was seen with every group the mapping gives, staying quiet. A second alert ties the grant to the first request the mapped principal makes in the cluster with the groups the mapping added (the EKS authenticator lists them in user.groups; a request without them was not authorised by the mapping).',
  triage:
    'On the mapping alert the principal is who edited aws-auth; on the first-use alert it is the newly mapped identity, and the summary names who granted it and when. Was the edit made through your change process? Is the mapped role one your team owns, and who can assume it (its trust policy)? Revert the mapping; if the first-use alert fired, review everything the mapped identity did since.',
  createState: (c: NativeConfig): State => ({ pending: boundedLru(c.maxStateEntries) }),
  // A grant's first use may come days later, in the next daily `run --resume` (ADR 0044).
  saveState: (state, nowMs, c) => savePending(state.pending, nowMs, c.firstUseWindowMs),
  loadState: (state, entries) => loadPending(state.pending, entries),
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const out: Alert[] = [];
    const t = timeOf(event);
    for (const f of ctx.facts) {
      if (f.kind !== 'aws_auth_mapping' || f.op !== 'assert' || f.cluster === undefined) continue;
      const groups = (f.attributes.groups as string[]) ?? [];
      const username = String(f.attributes.username);
      if (isNodeMapping({ username, groups })) continue;
      const before = graph.store.at(f.key, t - 1);
      const perms = graph.effectivePermissions(f.from, f.cluster, t);
      const masters = groups.includes('system:masters');
      const baselineUnknown = f.attributes.first_sight === true;
      // An access policy Seam does not know (at cluster scope) may make the principal cluster-admin: treated as possibly admin.
      if (baselineUnknown && !perms.isClusterAdmin && !perms.possiblyClusterAdmin) continue;
      // No earlier aws-auth, but the principal was seen authenticating here: its requests then carried what its
      // mapping (or access entry) gave it. The groups this mapping adds to those are the change; none: it is old.
      const seen = baselineUnknown ? sightingBefore(graph, f.from, f.cluster, t) : undefined;
      const added = groups.filter((g) => g !== AUTHENTICATED && !(seen?.groups ?? []).includes(g));
      if (seen !== undefined && added.length === 0 && seen.username === username) continue;
      const level = baselineUnknown ? 'high' : perms.isClusterAdmin ? 'critical' : perms.possiblyClusterAdmin ? 'high' : 'medium';
      const change = seen !== undefined ? 'widened' : before === undefined ? 'added' : 'changed';
      const seenText = seen === undefined ? undefined : `seen at ${new Date(seen.atMs).toISOString()} as ${seen.username} in ${groupsText(seen.groups)}`;
      const note = seenText !== undefined ? ` (no earlier aws-auth seen; ${shortIdentity(f.from)} was ${seenText})` : baselineUnknown ? ' (no earlier aws-auth seen, so it may be old)' : '';
      const unknownText = perms.possiblyClusterAdmin ? ` (and access policy ${perms.unknownGrants.map((u) => u.policy).join(', ')} with permissions unknown to Seam: possibly cluster-admin)` : '';
      const grant = (masters ? 'system:masters' : perms.isClusterAdmin ? `groups ${groups.join(', ')} (bound to cluster-admin)` : `groups ${groups.join(', ') || 'none'}`) + unknownText;
      const by = event.seam.principal?.id ?? 'unknown';
      out.push(
        nativeAlert(this, {
          variant: VARIANTS.mapping,
          triage:
            `The principal here is who edited aws-auth, ${shortIdentity(by)}: ${f.from} now maps to Kubernetes user ${username} with ${grant} in ${f.cluster}. ` +
            `Was the edit made through your change process? Is ${shortIdentity(f.from)} one your team owns, and who can assume it (its trust policy)? ` +
            (seenText === undefined ? '' : `Before the edit it was ${seenText}: the mapping now gives it ${groupsText(added)}. `) +
            `A first-use alert is raised when ${shortIdentity(f.from)} first acts in ${f.cluster} with ${groupsText(added)}. If the edit is unexpected, revert the mapping (kubectl -n kube-system edit configmap aws-auth) and find how ${shortIdentity(by)} got the right to edit it.`,
          level,
          events: [event],
          summary: `aws-auth mapping ${change} in ${f.cluster}${note}: ${f.from} → user ${username}, ${grant}; by ${event.seam.principal?.id ?? 'unknown'}${fromSuffix(event)}`,
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster: f.cluster,
        }),
      );
      // Its first use is a request that carries the groups the mapping added (the authenticator lists them in user.groups).
      remember(state.pending, f.cluster, f.from, event.seam.id, t, `aws-auth mapping to ${grant}`, perms.isClusterAdmin, event.seam.principal?.id, {
        groups: added,
        ...(seenText === undefined ? {} : { before: seenText }),
      });
    }
    const used = firstUseAlert(this, VARIANTS.first_use, state.pending, event, ctx);
    if (used !== undefined) out.push(used);
    return out;
  },
};
