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
import { callerText, nativeAlert, timeOf } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';

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

/** The names of the layers an UpdateFunctionConfiguration sets (`metrics-extension:3`), the layer ARNs' tails. */
function layerNames(event: SeamEvent): string[] {
  const rp = obj(event.requestParameters);
  const layers = rp?.layers ?? rp?.Layers;
  const items = Array.isArray(layers) ? layers : Array.isArray(obj(layers)?.items) ? (obj(layers)!.items as unknown[]) : [];
  return items.flatMap((l) => {
    const arn = str(l) ?? str(obj(l)?.arn);
    return arn === undefined ? [] : [arn.replace(/^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:layer:/, '')];
  });
}

/** The alert's triage text: who changed which function, what it now runs or lets in, and how to undo it, by name. */
function changeTriage(event: SeamEvent, change: Exclude<Change, 'create'>, fn: string, deployer: string, by: string): string {
  const rp = obj(event.requestParameters);
  const re = obj(event.responseElements);
  const who = shortIdentity(event.seam.principal?.arn ?? deployer);
  const from = callerText(event);
  const role = str(re?.role);
  const reach = `what ${fn}’s execution role${role === undefined ? '' : ` ${shortIdentity(role)}`} can reach`;
  const undo = `find how ${shortIdentity(deployer)}’s credentials were obtained`;
  if (change === 'policy') {
    const principal = str(rp?.principal) ?? 'an unnamed principal';
    const source = str(rp?.sourceArn) ?? str(rp?.sourceAccount);
    const sid = str(rp?.statementId);
    return (
      `${who} added statement ${sid ?? '(no id)'} to ${fn}’s resource policy ${from}: ${principal}${source === undefined ? '' : ` (source ${source})`} may ${str(rp?.action) ?? 'call it'}; ${by}. ` +
      `Is ${principal} one of your accounts or services, and what can ${fn}’s execution role${role === undefined ? '' : ` ${shortIdentity(role)}`} reach? ` +
      `If it is not a release: aws lambda remove-permission --function-name ${fn} --statement-id ${sid ?? '<id>'}, and ${undo}.`
    );
  }
  if (change === 'layers') {
    const names = layerNames(event);
    return (
      `${who} set the layers of ${fn} to ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''} ${from}; ${by}. ` +
      `Are these layers your pipeline’s builds, and what can ${fn}’s execution role${role === undefined ? '' : ` ${shortIdentity(role)}`} reach? ` +
      `If it is not a release: put the function’s previous layers back, and ${undo}.`
    );
  }
  const sha = str(re?.codeSha256);
  return (
    `${who} replaced the code of ${fn} ${from}${sha === undefined ? '' : ` (codeSha256 ${sha})`}; ${by}. ` +
    `Compare it with the pipeline’s last build of ${fn} (aws lambda list-versions-by-function --function-name ${fn}), and check ${reach}. ` +
    `If it is not a release: deploy the last known version again, and ${undo}.`
  );
}

export const lambdaNewDeployer: NativeDetection<null> = {
  id: 'seam-native-lambda-new-deployer',
  title: 'Lambda function code, layers or resource policy changed by a principal that never changed it',
  level: 'medium',
  tags: ['attack.persistence', 'attack.t1525', 'attack.execution', 'attack.t1648', 'attack.privilege-escalation'],
  description:
    'UpdateFunctionCode, UpdateFunctionConfiguration adding layers, or AddPermission, by an IAM role or user (a session counts as its role) that had not changed or created this function since the account’s learning period: someone other than the function’s usual deployer replaced what it runs or who may invoke it.',
  triage:
    'Who changed the function (session name, source address, user agent) and what: the new code’s codeSha256, the layers set, or the statement added (its principal, source ARN and action). Compare it with the function’s deployment pipeline and check what its execution role can reach. If it is not a release: deploy the last known version, put the layers back or remove the permission, and find how the principal’s credentials were obtained.',
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
    const byShort = usual.length === 0 ? 'no deployer of it was seen since learning' : `it is usually changed by ${usual.slice(0, 3).map(shortIdentity).join(', ')}${usual.length > 3 ? ', …' : ''}`;
    return [
      nativeAlert(this, {
        events: [event],
        triage: changeTriage(event, change, fn.name, deployer, byShort),
        summary: `${describePrincipal(ctx.resolution.principal ?? event.seam.principal!)} (${deployer}) ${what} Lambda function ${fn.name}, which it never changed before (${by})`,
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
