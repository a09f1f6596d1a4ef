/**
 * IAM-to-RBAC drift: what an IAM principal can really do in a cluster exceeds what its mapping says it should.
 * Two shapes: a mapping (aws-auth or access entry) for a read-only-named role whose effective permissions
 * write, read secrets, exec or are cluster-admin; and an RBAC change (binding or role) that widens a group
 * IAM principals are mapped into.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { groupKey, roleNameOf } from '../../identity/keys.ts';
import { addedRules, isPowerfulRule, ruleText, type RbacRule } from '../../identity/rbac.ts';
import type { EffectivePermissions, IdentityFact } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { connectionAddress, nativeAlert, quoted, timeOf, whoText } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';

const READ_ONLY_NAME = /read[-_]?only|viewer|view|audit|observer|monitor|readers?\b/i;

function powerful(p: EffectivePermissions): RbacRule[] {
  return p.rules.filter((r) => isPowerfulRule(r));
}

function summaryOf(rules: RbacRule[]): string {
  return rules
    .slice(0, 3)
    .map((r) => ruleText(r))
    .join('; ');
}

/** Did the event assert any fact about a cluster? (A plain loop: no closure per event.) */
function anyClusterAssert(facts: EvalContext['facts']): boolean {
  for (let i = 0; i < facts.length; i++) if (facts[i]!.op === 'assert' && facts[i]!.cluster !== undefined) return true;
  return false;
}

/** The alert's triage text: whose access grew where and how, who changed what, the commands that show the path and the object. */
function driftTriage(event: SeamEvent, principal: string, cluster: string, readOnly: boolean, grew: string, why: string): string {
  const ref = obj(event.objectRef);
  const resource = str(ref?.resource);
  const name = str(ref?.name);
  const ns = str(ref?.namespace);
  const object = resource === undefined || name === undefined ? undefined : `${resource}${ns === undefined ? '' : ` -n ${ns}`} ${name}`;
  const ip = connectionAddress(event);
  const who = shortIdentity(principal);
  return (
    `${who} in ${cluster}${readOnly ? ' (read-only by name)' : ''} ${grew} ${why}; the change was made by ${whoText(event.seam.principal)}${ip === undefined ? '' : ` from ${ip}`}${event.seam.user_agent === undefined ? '' : ` with ${quoted(event.seam.user_agent)}`}. ` +
    `Read the path, mapping, group and binding (seam identity explain ${principal} --cluster ${cluster} --input <the logs>)${object === undefined ? '' : ` and the object changed (kubectl get ${object} -o yaml)`}, and decide whether the binding or the mapping is wrong. ` +
    `Benign if a reviewed change meant ${who} to have this access${readOnly ? ' (then its read-only name misleads: rename the role)' : ''}. ` +
    `Otherwise revert it${object === undefined ? '' : ` (kubectl delete ${object}, or restore its earlier version)`} and review what ${who} did in ${cluster} since (seam hunt --who ${principal} --cluster ${cluster}).`
  );
}

export const iamRbacDrift: NativeDetection<null> = {
  id: 'seam-native-iam-rbac-drift',
  title: 'IAM principal’s effective Kubernetes permissions exceed its mapping’s intent',
  level: 'high',
  tags: ['attack.privilege-escalation', 'attack.t1078.004', 'attack.t1098'],
  description:
    'A read-only-named IAM role is mapped into groups whose RBAC bindings grant writes, secrets, exec or cluster-admin; or an RBAC binding/role change widened a group that IAM principals are mapped into (so their access grew without any IAM or aws-auth change).',
  triage:
    'Read the `via` chain in `seam identity explain <role ARN>`: which mapping, which group, which binding. Decide whether the binding or the mapping is wrong; an unreviewed binding to a mapped group is a classic escalation path.',
  createState: () => null,
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    const out: Alert[] = [];
    // Most events change nothing here: return before building the closures below (tsx names each one).
    if (!anyClusterAssert(ctx.facts)) return out;
    const t = timeOf(event);
    const checked = new Set<string>();
    const flag = (principal: string, cluster: string, why: string, before?: EffectivePermissions): void => {
      if (checked.has(principal + '|' + cluster)) return;
      checked.add(principal + '|' + cluster);
      const now = graph.effectivePermissions(principal, cluster, t);
      const name = roleNameOf(principal) ?? principal;
      const readOnly = READ_ONLY_NAME.test(name);
      const gained = before === undefined ? powerful(now) : addedRules(before.rules, now.rules).filter(isPowerfulRule);
      const becameAdmin = now.isClusterAdmin && before?.isClusterAdmin !== true;
      // An access policy Seam does not know may grant anything: a read-only-named principal holding one is reported, and the text says why.
      const unknown = readOnly && before === undefined && now.unknownGrants.length > 0 ? now.unknownGrants : [];
      if (before === undefined ? !(readOnly && (gained.length > 0 || unknown.length > 0)) : !(becameAdmin || gained.length > 0)) return;
      const unknownText = unknown.map((u) => `access policy ${u.policy} (${u.namespaces.includes('*') ? 'cluster' : 'namespaces ' + u.namespaces.join(', ')}) with permissions unknown to Seam`).join('; ');
      const grew = now.isClusterAdmin ? 'is now cluster-admin' : gained.length > 0 ? 'gained ' + summaryOf(gained) + (unknownText === '' ? '' : ' and ' + unknownText) : `holds ${unknownText}${now.possiblyClusterAdmin ? ', so cluster-admin cannot be ruled out' : ''}`;
      out.push(
        nativeAlert(this, {
          level: readOnly && (now.isClusterAdmin || gained.length > 0 || unknown.length > 0) ? (now.isClusterAdmin ? 'critical' : 'high') : becameAdmin ? 'high' : 'medium',
          events: [event],
          summary: `${principal} in ${cluster}${readOnly ? ' (read-only by name)' : ''} ${grew} ${why}`,
          triage: driftTriage(event, principal, cluster, readOnly, grew, why),
          principal: ctx.resolution.principal,
          account: event.seam.account,
          cluster,
        }),
      );
    };
    const widenedGroups = (f: IdentityFact): { cluster: string; groups: string[] } | undefined => {
      if (f.cluster === undefined) return undefined;
      if (f.kind === 'rbac_binding') {
        const m = /^k8s:[^:]*:group:(.*)$/.exec(f.from);
        return m === null ? undefined : { cluster: f.cluster, groups: [m[1]!] };
      }
      if (f.kind === 'rbac_role') {
        const groups = graph.store
          .incoming(f.to, 'rbac_binding', t)
          .map((b) => /^k8s:[^:]*:group:(.*)$/.exec(b.fact.from)?.[1])
          .filter((g): g is string => g !== undefined);
        return { cluster: f.cluster, groups };
      }
      return undefined;
    };
    for (const f of ctx.facts) {
      if (f.op !== 'assert' || f.cluster === undefined) continue;
      if (f.kind === 'aws_auth_mapping' || f.kind === 'access_entry' || f.kind === 'access_policy') {
        flag(f.from, f.cluster, `through its ${f.kind.replace(/_/g, ' ')} (${(event.seam.action ?? '').trim()})`);
        continue;
      }
      const w = widenedGroups(f);
      if (w === undefined) continue;
      for (const g of w.groups) {
        for (const m of graph.principalsInGroup(w.cluster, g, t)) {
          const before = graph.effectivePermissions(m.principal, w.cluster, t - 1);
          flag(m.principal, w.cluster, `after ${event.seam.action ?? 'an RBAC change'} ${event.seam.resource ?? ''} widened group ${g} (${groupKey(w.cluster, g)}) it is mapped into`, before);
        }
      }
    }
    return out;
  },
};
