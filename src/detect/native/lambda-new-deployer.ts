/**
 * First-seen Lambda deployer: a principal changes a function's code or layers (UpdateFunctionCode*,
 * UpdateFunctionConfiguration* with Layers) or adds a statement to its resource policy (AddPermission*) for a
 * function it never changed before. CI pipelines deploy code
 * all day, so "who changed Lambda code" is noise; "someone other than the function's usual deployer changed
 * its code" is the persistence/backdoor move (Stratus aws.persistence.lambda-overwrite-code,
 * aws.persistence.lambda-layer-extension) whatever kind of identity made it. A permission added by someone
 * other than the function's deployer is the quieter variant (aws.persistence.lambda-backdoor-function): the
 * deployer's pipeline wires its own triggers; a grant from elsewhere lets a new principal or service invoke a
 * function whose execution role it does not hold (the foreign-account and `*` grants are Sigma rules of their own).
 *
 * The deployer is the session's issuing role (or the IAM user), never the session name: CI sessions are per
 * run. Who changed which function is learned as `changed_function` facts (ADR 0011: they travel on
 * seam.identity and survive restarts); CreateFunction teaches its creator too, so a pipeline's new functions
 * are its own. Silent while the account is in its learning period (`baselineLearningMs` after the baselines
 * first saw it), for failed calls, and for AWS services acting themselves (CloudFormation, no source address).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { baselinable, learning, learningStart, remember } from './baseline.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { obj, str } from '../../core/values.ts';
import { nativeAlert, timeOf } from './util.ts';

type Change = 'code' | 'layers' | 'policy' | 'create';

/** What the call does to a function, if it is one of the calls this baseline reads. */
function changeOf(event: SeamEvent): Change | undefined {
  const name = str(event.eventName) ?? '';
  if (name.startsWith('UpdateFunctionCode')) return 'code';
  if (name.startsWith('CreateFunction')) return 'create';
  if (name.startsWith('AddPermission')) return 'policy';
  if (!name.startsWith('UpdateFunctionConfiguration')) return undefined;
  const rp = obj(event.requestParameters);
  const layers = rp?.layers ?? rp?.Layers;
  const items = Array.isArray(layers) ? layers : Array.isArray(obj(layers)?.items) ? (obj(layers)!.items as unknown[]) : [];
  return items.length > 0 ? 'layers' : undefined;
}

/** The IAM role (for a session) or user that made the call, canonical; undefined for services and the anonymous. */
export function deployerOf(event: SeamEvent): string | undefined {
  const p = event.seam.principal;
  if (p === undefined || p.type === 'aws_service' || p.type === 'anonymous' || p.type === 'unknown') return undefined;
  const arn = p.arn ?? p.id;
  if (!arn.startsWith('arn:')) return undefined;
  const role = arn.includes(':assumed-role/') ? roleOfSession(arn) : undefined;
  return canonicalIamArn(role ?? arn);
}

/** `lambda:<account>:<region>:<name>` from a function name, partial ARN or ARN (a version or alias qualifier dropped). */
export function functionKey(event: SeamEvent): { key: string; name: string } | undefined {
  const rp = obj(event.requestParameters);
  const ref = str(rp?.functionName) ?? str(rp?.FunctionName);
  if (ref === undefined) return undefined;
  const parts = ref.split(':');
  let account = event.seam.account ?? str(event.recipientAccountId) ?? 'unknown';
  let region = str(event.awsRegion) ?? 'unknown';
  let name = ref;
  if (ref.startsWith('arn:')) {
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    region = parts[3] || region;
    account = parts[4] || account;
    name = parts[6] ?? ref;
  } else if (parts.length >= 3 && parts[1] === 'function') {
    // <account>:function:<name>[:<qualifier>]
    account = parts[0] || account;
    name = parts[2]!;
  } else if (parts.length === 2) {
    name = parts[0]!; // <name>:<qualifier>
  }
  return { key: `lambda:${account}:${region}:${name}`, name };
}

export const lambdaNewDeployer: NativeDetection<null> = {
  id: 'seam-native-lambda-new-deployer',
  title: 'Lambda function code, layers or resource policy changed by a principal that never changed it',
  level: 'medium',
  tags: ['attack.persistence', 'attack.t1525', 'attack.execution', 'attack.t1648', 'attack.privilege-escalation'],
  description:
    'UpdateFunctionCode, UpdateFunctionConfiguration adding layers, or AddPermission, by an IAM role or user (a session counts as its role) that had not changed or created this function since the account’s learning period: someone other than the function’s usual deployer replaced what it runs or who may invoke it.',
  triage:
    'Compare the new codeSha256 and layers with the function’s deployment pipeline; for a permission, read the statement (requestParameters.principal, sourceArn, action) and GetPolicy of the function; check who holds the role (the session name, source address, user agent) and what the function’s execution role can reach. Revert with the last known version, or RemovePermission, if the change is not a release.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.eventSource !== 'lambda.amazonaws.com') return [];
    const change = changeOf(event);
    if (change === undefined || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined || !baselinable(event)) return [];
    const deployer = deployerOf(event);
    const fn = functionKey(event);
    if (deployer === undefined || fn === undefined) return [];
    const accountKey = `account:${event.seam.account ?? 'unknown'}`;
    const start = learningStart(event, ctx, graph, accountKey);
    const t = timeOf(event);
    const usual = graph.store
      .incoming(fn.key, 'changed_function', t)
      .map((e) => e.fact.from)
      .filter((f) => f !== deployer);
    const mine = remember(event, ctx, graph, { kind: 'changed_function', key: `changed_function|${deployer}|${fn.key}`, from: deployer, to: fn.key, attributes: { function: fn.name } });
    if (change === 'create' || mine.before !== undefined || learning(event, ctx.config, start)) return [];
    const what = change === 'code' ? 'replaced the code of' : change === 'layers' ? 'attached layers to' : 'added a resource-policy permission to';
    const by = usual.length === 0 ? 'no deployer of it seen since learning' : `usually changed by ${usual.slice(0, 3).join(', ')}${usual.length > 3 ? ', …' : ''}`;
    return [
      nativeAlert(this, {
        events: [event],
        summary: `${describePrincipal(ctx.resolution.principal ?? event.seam.principal!)} (${deployer}) ${what} Lambda function ${fn.name}, which it never changed before (${by})`,
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
