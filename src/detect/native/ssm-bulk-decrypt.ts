/**
 * Many SecureString parameters decrypted in one call. SSM GetParameters takes up to ten names; with
 * WithDecryption=true it returns their plaintext. Harvesting the Parameter Store (Stratus Red Team
 * aws.credential-access.ssm-retrieve-securestring-parameters, and tools that dump it with stolen keys) reads
 * parameters in such batches; a person or a leaked key reading five or more secrets at once is the signal.
 * Applications also batch their parameters at start, so calls made with workload credentials are left out:
 * IRSA/web-identity sessions, EC2 instance sessions, Lambda and ECS/Fargate runtimes (their user agent says
 * so), and AWS services. Sigma cannot count a list's entries, hence a native check: one event, no state.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { obj, str } from '../../core/values.ts';

/** Fewest distinct names decrypted in one call that alert (the API's maximum is ten). */
export const MIN_NAMES = 5;

const WORKLOAD_AGENT = /exec-env\/AWS_(Lambda|ECS)|AWS_Lambda_|amazon-ssm-agent/i;

/** Distinct parameter names of a GetParameters request (either list shape CloudTrail uses). */
function names(rp: Record<string, unknown>): string[] {
  const raw = rp.names ?? rp.Names;
  const list = Array.isArray(raw) ? raw : Array.isArray(obj(raw)?.items) ? (obj(raw)!.items as unknown[]) : [];
  return [...new Set(list.map((x) => str(x) ?? str(obj(x)?.name)).filter((x): x is string => x !== undefined))];
}

const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

/** Is the call signed with credentials that a workload (not a person) holds? */
function workloadCall(event: SeamEvent): boolean {
  const ui = obj(event.userIdentity);
  const sc = obj(ui?.sessionContext);
  if (str(ui?.invokedBy) !== undefined) return true;
  if (str(obj(sc?.webIdFederationData)?.federatedProvider) !== undefined) return true;
  if (str(sc?.ec2RoleDelivery) !== undefined) return true;
  // EC2 instance sessions are named after the instance.
  if (/^i-[0-9a-f]{8,17}$/.test(event.seam.principal?.session ?? '')) return true;
  return WORKLOAD_AGENT.test(str(event.userAgent) ?? '');
}

export const ssmBulkDecrypt: NativeDetection<null> = {
  id: 'seam-native-ssm-bulk-decrypt',
  title: 'Many SSM SecureString parameters decrypted in one call',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1552', 'attack.t1555.006'],
  description: `SSM GetParameters with WithDecryption=true for ${MIN_NAMES} or more distinct parameters in one call, by a principal that is not a workload (IRSA, instance, Lambda/ECS runtime) or an AWS service: secrets read in bulk, as Parameter Store harvesting does.`,
  triage:
    'Which parameters (the summary lists the first) and who read them (principal, source address, user agent)? Is this person or key known to run such reads (a migration, a secrets audit)? If not: revoke the credentials, rotate every parameter read, and look for GetParametersByPath, DescribeParameters and Secrets Manager reads by the same principal.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.seam.action !== 'ssm.amazonaws.com:GetParameters' || event.seam.outcome !== 'success') return [];
    const rp = obj(event.requestParameters);
    if (rp === undefined || !truthy(rp.withDecryption ?? rp.WithDecryption)) return [];
    const p = event.seam.principal;
    if (p !== undefined && (p.type === 'aws_service' || p.type === 'anonymous')) return [];
    const read = names(rp);
    if (read.length < MIN_NAMES || workloadCall(event)) return [];
    return [
      nativeAlert(this, {
        events: [event],
        triage:
          `${describePrincipal(ctx.resolution.principal ?? p)} decrypted ${read.length} parameters ${callerText(event)}: ${read.slice(0, 10).join(', ')}${read.length > 10 ? `, and ${read.length - 10} more` : ''}. ` +
          'Is this person or key known to run such reads (a migration, a secrets audit)? If not: revoke the credentials, rotate every parameter read, and look for GetParametersByPath, DescribeParameters and Secrets Manager reads by the same principal.',
        summary: `${describePrincipal(ctx.resolution.principal ?? p)} decrypted ${read.length} SSM parameters in one call (${read.slice(0, 3).join(', ')}${read.length > 3 ? ', …' : ''})`,
        principal: ctx.resolution.principal,
        account: event.seam.account,
      }),
    ];
  },
};
