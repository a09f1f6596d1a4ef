/**
 * aws-auth backdoor: a new or changed mapping in kube-system/aws-auth — above all one into system:masters or a
 * group bound to cluster-admin — and the first request the newly mapped principal makes.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { isNodeMapping } from '../../identity/aws-auth.ts';
import { fromSuffix, type Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { firstUse, firstUseSummary, remember, type Pending, FIRST_USE, firstUseTriage, loadPending, savePending } from './first-use.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, timeOf, type NativeVariant } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { boundedLru } from '../../core/lru.ts';

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
    'kube-system/aws-auth gained a mapping (or an existing one changed) for an IAM role or user. Critical when it lands in system:masters or a group bound to cluster-admin. A second alert ties the grant to the first request the mapped principal makes in the cluster.',
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
      if (baselineUnknown && !perms.isClusterAdmin) continue;
      const level = baselineUnknown ? 'high' : perms.isClusterAdmin ? 'critical' : 'medium';
      const change = before === undefined ? 'added' : 'changed';
      const grant = masters ? 'system:masters' : perms.isClusterAdmin ? `groups ${groups.join(', ')} (bound to cluster-admin)` : `groups ${groups.join(', ') || 'none'}`;
      const by = event.seam.principal?.id ?? 'unknown';
      out.push(
        nativeAlert(this, {
          variant: VARIANTS.mapping,
          triage:
            `The principal here is who edited aws-auth, ${shortIdentity(by)}: ${f.from} now maps to Kubernetes user ${username} with ${grant} in ${f.cluster}. ` +
            `Was the edit made through your change process? Is ${shortIdentity(f.from)} one your team owns, and who can assume it (its trust policy)? ` +
            `A first-use alert is raised when ${shortIdentity(f.from)} first acts in ${f.cluster}. If the edit is unexpected, revert the mapping (kubectl -n kube-system edit configmap aws-auth) and find how ${shortIdentity(by)} got the right to edit it.`,
          level,
          events: [event],
          summary: `aws-auth mapping ${change} in ${f.cluster}${baselineUnknown ? ' (no earlier aws-auth seen, so it may be old)' : ''}: ${f.from} → user ${username}, ${grant}; by ${event.seam.principal?.id ?? 'unknown'}${fromSuffix(event)}`,
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster: f.cluster,
        }),
      );
      remember(state.pending, f.cluster, f.from, event.seam.id, t, `aws-auth mapping to ${grant}`, perms.isClusterAdmin, event.seam.principal?.id);
    }
    const used = firstUse(state.pending, event, ctx.config.firstUseWindowMs);
    if (used !== undefined) {
      out.push(
        nativeAlert(this, {
          variant: VARIANTS.first_use,
          triage: firstUseTriage(this.id, used, event),
          level: used.admin ? 'critical' : 'high',
          events: [used.grant, event],
          summary: firstUseSummary(used, event),
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster: used.cluster,
        }),
      );
    }
    return out;
  },
};
