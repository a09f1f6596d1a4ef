/**
 * Over-permissioned workload roles: AdministratorAccess or iam:* given to a role a service account can assume,
 * and trust-policy changes that let more workloads (any service account, a wildcard subject, a foreign OIDC
 * provider) assume it.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { federatedTrusts, requestPolicy, statements } from '../../identity/extract-cloudtrail.ts';
import { roleArnFromName } from '../../identity/keys.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert, timeOf, whoText } from './util.ts';
import { allowsEveryone } from '../../core/normalize/policy.ts';
import { obj, str } from '../../core/values.ts';

const ADMIN_MANAGED = new Set(['AdministratorAccess', 'IAMFullAccess', 'PowerUserAccess', 'AWSCloudFormationFullAccess']);

function broadActions(doc: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  for (const st of statements(doc)) {
    if (st.Effect !== 'Allow') continue;
    const actions = typeof st.Action === 'string' ? [st.Action] : Array.isArray(st.Action) ? st.Action.filter((a): a is string => typeof a === 'string') : [];
    for (const a of actions) if (a === '*' || /^iam:\*$/i.test(a) || /^iam:(Attach|Put|Create|Pass|Update)/i.test(a) || /^sts:AssumeRole$/i.test(a) && st.Resource === '*') out.push(a);
  }
  return out;
}

/** The alert's triage text: who changed which workload role how, which service accounts hold it, the commands to read and revert it. */
function overTriage(event: SeamEvent, role: string, sas: string, did: string, revert: string): string {
  return (
    `${whoText(event.seam.principal)} ${did} workload role ${role} ${callerText(event)}${sas === '' ? '' : `; service accounts ${sas} (and so their pods) assume it`}. ` +
    `Was the change made by your infrastructure pipeline (its role, user agent and change record)? Read the role as it is now (aws iam list-attached-role-policies --role-name ${role}; aws iam get-role --role-name ${role}). ` +
    `Benign if a reviewed change gave ${role} these rights. Otherwise revert it (${revert}) and look at what ${role}'s sessions did since (seam hunt --who ${event.seam.account === undefined ? role : `arn:aws:iam::${event.seam.account}:role/${role}`}).`
  );
}

export const irsaOverpermission: NativeDetection<null> = {
  id: 'seam-native-workload-role-overpermission',
  title: 'Workload (IRSA / Pod Identity) role given admin rights or a wider trust policy',
  level: 'high',
  tags: ['attack.privilege-escalation', 'attack.persistence', 'attack.t1098.003', 'attack.t1484'],
  description:
    'iam:AttachRolePolicy / PutRolePolicy gave AdministratorAccess (or iam:*, `*`) to a role that a Kubernetes service account can assume; or iam:UpdateAssumeRolePolicy let any service account (StringLike `system:serviceaccount:*`, a missing `sub` condition) or a foreign OIDC provider assume a role.',
  triage:
    'Which service accounts (and so which pods) now hold these rights — the summary lists them. Was the change made by your IaC pipeline? Revert it, then look at what the role did since (the identity chain names the pods).',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.seam.outcome !== 'success' || event.eventSource !== 'iam.amazonaws.com') return [];
    const rp = obj(event.requestParameters);
    const roleName = str(rp?.roleName);
    const account = event.seam.account;
    if (roleName === undefined || account === undefined) return [];
    const role = roleArnFromName(account, roleName);
    const t = timeOf(event);
    const name = str(event.eventName);
    const sas = graph.serviceAccountsOfRole(role, t - 1);
    const who = [...new Set(sas.map((s) => `${s.cluster}/${s.serviceAccount}`))].join(', ');
    const base = { principal: ctx.resolution.principal, account, cluster: sas[0]?.cluster };
    if (name === 'AttachRolePolicy' || name === 'PutRolePolicy') {
      if (sas.length === 0) return [];
      const policyArn = str(rp?.policyArn);
      const managed = policyArn === undefined ? undefined : policyArn.slice(policyArn.lastIndexOf('/') + 1);
      const broad = name === 'PutRolePolicy' ? broadActions(requestPolicy(event, 'policyDocument')) : [];
      const admin = managed !== undefined && ADMIN_MANAGED.has(managed);
      if (!admin && broad.length === 0) return [];
      return [
        nativeAlert(this, {
          ...base,
          level: managed === 'AdministratorAccess' || broad.includes('*') ? 'critical' : 'high',
          events: [event],
          summary: `${event.seam.principal?.id ?? 'unknown'} gave ${admin ? managed : 'an inline policy allowing ' + broad.join(', ')} to workload role ${roleName}, assumable by ${who}`,
          triage: overTriage(
            event,
            roleName,
            who,
            `gave ${admin ? managed : 'an inline policy allowing ' + broad.join(', ')} to`,
            name === 'AttachRolePolicy' ? `aws iam detach-role-policy --role-name ${roleName} --policy-arn ${policyArn ?? '<policy arn>'}` : `aws iam delete-role-policy --role-name ${roleName} --policy-name ${str(rp?.policyName) ?? '<policy name>'}`,
          ),
        }),
      ];
    }
    if (name === 'UpdateAssumeRolePolicy') {
      const after = federatedTrusts(requestPolicy(event, 'policyDocument'));
      // Not a workload role before or after: the Sigma trust-policy rules judge it.
      if (sas.length === 0 && after.length === 0) return [];
      const before = graph.roleTrusts(role, t - 1);
      const known = graph.knownIssuers();
      const problems: string[] = [];
      for (const tr of after) {
        const prev = before.find((b) => b.issuer === tr.issuer);
        if (tr.wildcard && prev?.wildcard !== true) problems.push(`${tr.subjects.length === 0 ? 'no sub condition' : 'wildcard subject ' + tr.subjects.join(', ')} for ${tr.issuer}`);
        if (prev === undefined && known.size > 0 && !known.has(tr.issuer)) problems.push(`trust in a foreign OIDC provider ${tr.issuer}`);
      }
      // Everyone, unless the statement's own condition keeps it to an organisation, account or ARN (seam.policy, ADR 0042).
      const anyAws = (event.seam.policy?.Statement ?? []).some(allowsEveryone);
      if (anyAws) problems.push('Principal "*"');
      if (problems.length === 0) return [];
      return [
        nativeAlert(this, {
          ...base,
          level: anyAws ? 'critical' : 'high',
          events: [event],
          summary: `${event.seam.principal?.id ?? 'unknown'} widened the trust policy of role ${roleName}${who === '' ? '' : ` (assumable by ${who})`}: ${problems.join('; ')}`,
          triage: overTriage(event, roleName, who, `widened the trust policy (${problems.join('; ')}) of`, `put the earlier trust policy back: aws iam update-assume-role-policy --role-name ${roleName} --policy-document file://<the earlier policy>`),
        }),
      ];
    }
    return [];
  },
};
