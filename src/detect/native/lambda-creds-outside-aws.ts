/**
 * Lambda execution-role credentials used from outside AWS. Lambda hands a function its execution role's
 * credentials as environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), and the
 * role session is named after the function (`…:assumed-role/<execution role>/<function name>`, key `ASIA…`).
 * Code that can read its own environment (/proc/self/environ through a path traversal or an SSRF with file://,
 * command injection, a dependency that posts `env`) hands them to whoever asked; they work anywhere until they
 * expire, for hours. The function's own calls leave from Lambda's AWS addresses, a VPC's NAT gateway or a VPC
 * endpoint, and AWS SDKs running in Lambda say so in their user agent (`exec-env/AWS_Lambda_<runtime>`, from
 * AWS_EXECUTION_ENV). GuardDuty's InstanceCredentialExfiltration findings cover EC2 instance credentials only;
 * this is their Lambda twin (Hacking the Cloud: "Steal credentials from Lambda environment variables").
 *
 * A session is known to be a function's when a call of it carried the Lambda runtime's user agent from where
 * functions run (Amazon's networks, a private address, a VPC endpoint, or a known egress network, below), or when
 * CreateFunction / UpdateFunctionConfiguration named the role as the function's execution role. Both are learned
 * as `lambda_execution_session` facts (ADR 0011: they travel on seam.identity and survive restarts). Then a call
 * signed by that session from a public address that the ASN table places outside Amazon's networks (or with an
 * attack tool's user agent, from anywhere) is the credentials in someone else's hands. An address Seam cannot place
 * (no ASN database) is left alone. One alert per session and address.
 *
 * The runtime's user-agent mark is no alibi outside AWS: it comes from AWS_EXECUTION_ENV, which sits in the very
 * environment that is stolen, and the CLI and SDKs add it wherever that environment is sourced. So outside
 * Amazon's networks a CLI or a desktop (macOS, Windows) user agent alerts with or without the mark (Lambda runs
 * Linux and ships no CLI). Any other call from outside is the function's only from a known egress network of the
 * account's functions: one configured (`lambdaEgressCidrs`), or one that calls carrying the mark came from during
 * the account's learning period (`baselineLearningMs` after its functions' first marked call; `seen_network`
 * facts of `lambda:<account>`, kept `baselineMemoryMs` after the last such call). A network first used after
 * the learning period is not learned: a function whose egress moves off AWS later alerts until it is configured.
 *
 * Medium: from an AWS address, a CLI or script user agent without the mark (or a desktop's) using a session learned
 * from marked calls. A CLI run inside Lambda inherits AWS_EXECUTION_ENV and carries the mark, so this is another
 * machine in AWS (the thief's EC2 instance, Lambda or CloudShell). Not for sessions known only from CreateFunction
 * (provided.* runtimes and non-SDK signers lack the mark).
 *
 * Cross-account: a call recorded only in the resource owner's account (S3 data events, KMS calls on another
 * account's keys) lands in that account's partition (keyed by recipientAccountId), whose graph lacks the function's
 * fact: not judged there (the caller's own copy of a record, when CloudTrail delivers one, still is).
 *
 * A function that chains into another role (sts:AssumeRole to a cross-account reader, a tenant role) calls with
 * the runtime's mark under that role's session, named whatever the code chose (`inventory`, `audit`): not the
 * function's execution session. A session the identity graph saw issued by sts:AssumeRole to a caller other than
 * an AWS service (`assumed_by`; Lambda's own AssumeRole of the execution role is the service's) is not learned.
 * A chained session whose AssumeRole arrives after its calls is learned and stays so (a false positive possible
 * if another holder of that role uses the same session name outside AWS).
 *
 * S3 requests made with a presigned URL (AuthenticationMethod `QueryString`) are left out: a function that hands
 * a browser an upload or download link signs it with its own session, and CloudTrail records the browser's address
 * and user agent under that session (one alert per end user otherwise). The trade-off: someone holding the stolen
 * keys who only ever presigns S3 URLs and opens them is missed; any header-signed call they make from that network
 * (ListBuckets, GetCallerIdentity, a CLI) is judged as usual.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { roleOfSession, sessionNameOf } from '../../identity/keys.ts';
import type { Alert, AlertLevel } from '../alert.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { eventNetwork, knownNetwork, learning, learningStart, liveFact, remember, rememberNetwork } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import { addressPlace, desktopUserAgent, userAgentFamily } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, inCidr, keyLookupCommand, nativeAlert, presignedRequest, revokeSessionsCommand, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** The AWS SDKs' user-agent mark of the Lambda runtime (`exec-env/AWS_Lambda_python3.12`, `…nodejs20.x`, `…java21`). */
const LAMBDA_RUNTIME_UA = /exec-env\/AWS_Lambda_/i;

/** `learned_from` of a session learned from the runtime's user-agent mark. */
const RUNTIME_UA = 'runtime user agent';

/** A workstation's user agent: Lambda runs Linux. */
const WINDOWS_UA = /os\/windows|md\/os#windows/i;

const ASSUMED = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;
const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

interface State {
  /** session ARN | address (IPv6: its /64) already reported. */
  alerted: Lru<string, true>;
  /** account → event time its learning start was last asserted or refreshed (asked again a day later, not per call). */
  started: Lru<string, number>;
}

/** How often a marked call re-asserts its account's learning start (the fact itself lives baselineMemoryMs). */
const START_REFRESH_MS = 24 * 3600_000;

/** Graph key of "this role's session named after this function is the function's execution session". */
export function lambdaSessionKey(account: string, role: string, functionName: string): string {
  return `lambda_execution_session|${account}|${role}|${functionName}`;
}

/** The node the account's Lambda functions' egress networks (`seen_network`) and learning period hang off. */
const egressSubjects = new Map<string, string>();
function egressSubject(account: string): string {
  let k = egressSubjects.get(account);
  if (k === undefined) {
    if (egressSubjects.size >= 4096) egressSubjects.clear();
    k = `lambda:${account}`;
    egressSubjects.set(account, k);
  }
  return k;
}

/** A call's role session: account, role name, session name; only for temporary (ASIA) credentials. */
function sessionOf(event: SeamEvent): { arn: string; account: string; role: string; name: string } | undefined {
  const ui = obj(event.userIdentity);
  if (str(ui?.type) !== 'AssumedRole' || str(ui?.invokedBy) !== undefined) return undefined;
  const arn = str(ui?.arn) ?? event.seam.principal?.arn;
  if (arn === undefined) return undefined;
  const m = ASSUMED.exec(arn);
  if (m === null) return undefined;
  const key = str(ui?.accessKeyId);
  if (key !== undefined && !key.startsWith('ASIA')) return undefined;
  return { arn, account: m[1]!, role: m[2]!, name: sessionNameOf(arn) ?? m[3]! };
}

/** Learns that the session is a function's, from a call with the runtime's mark. */
function learnSession(event: SeamEvent, ctx: EvalContext, graph: IdentityGraph, s: { arn: string; account: string; role: string; name: string }, key: string): void {
  const t = timeOf(event);
  const live = liveFact(graph, key, t);
  // Known to send the mark and fresh (the usual case): nothing to do.
  if (live !== undefined && marked(live.fact.attributes) && t - live.fromMs <= ctx.config.baselineMemoryMs / 2) return;
  // Not learned yet: not when the session was chained into by a principal.
  if (live === undefined && chained(graph, s.arn)) return;
  const d = { kind: 'lambda_execution_session' as const, key, from: s.arn, to: roleOfSession(s.arn) ?? s.arn, attributes: { learned_from: RUNTIME_UA } as Record<string, unknown> };
  if (live === undefined) return void remember(event, ctx, graph, d);
  // Known from CreateFunction: keep how and since when it was learned (secrets-first-read-burst reads both), and say
  // that its calls carry the mark (the medium tier rests on it). Learned now, or refreshed after half its memory.
  const { first_seen: _first, ...kept } = live.fact.attributes;
  d.attributes = { ...kept, runtime_mark: true };
  if (!marked(live.fact.attributes)) {
    const f: IdentityFact = { ...d, op: 'assert', attributes: { ...live.fact.attributes, runtime_mark: true }, provenance: event.seam.id, valid_from: event['@timestamp'], valid_to: new Date(t + ctx.config.baselineMemoryMs).toISOString() };
    if (event.seam.account !== undefined) f.account = event.seam.account;
    ctx.learn(f);
  } else remember(event, ctx, graph, d);
}

/** Does a session's fact say its calls carry the runtime's mark (learned from it, or seen with it since)? */
function marked(a: Record<string, unknown>): boolean {
  return a.learned_from === RUNTIME_UA || a.runtime_mark === true;
}

/** Was this session issued by sts:AssumeRole to a principal (role chaining), not to an AWS service? */
function chained(graph: IdentityGraph, sessionArn: string): boolean {
  const by = graph.store.latest('assumed_by|' + sessionArn);
  return by !== undefined && by.fact.op === 'assert' && by.fact.attributes.caller_type !== 'AWSService';
}

/** The function a CreateFunction / UpdateFunctionConfiguration call gives an execution role: its name and the role's. */
function executionRoleSet(event: SeamEvent): { partition: string; account: string; role: string; roleArn: string; fn: string } | undefined {
  if (event.eventSource !== 'lambda.amazonaws.com') return undefined;
  const name = str(event.eventName) ?? '';
  if (!name.startsWith('CreateFunction') && !name.startsWith('UpdateFunctionConfiguration')) return undefined;
  if (event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return undefined;
  const rp = obj(event.requestParameters);
  const role = ROLE.exec(str(rp?.role) ?? str(rp?.Role) ?? '');
  const ref = str(rp?.functionName) ?? str(rp?.FunctionName);
  if (role === null || ref === undefined) return undefined;
  // A name, a partial ARN (<account>:function:<name>) or an ARN (…:function:<name>[:<qualifier>]): the session is the name.
  const parts = ref.split(':');
  const i = parts.indexOf('function');
  const fn = i >= 0 ? parts[i + 1] : parts[0];
  return fn === undefined || fn === '' ? undefined : { partition: role[1]!, account: role[2]!, role: role[3]!, roleArn: `arn:${role[1]!}:iam::${role[2]!}:role/${role[3]!}`, fn };
}

/** The alert's triage text: the function, its role and key, the call and address, the commands to look and to stop it. */
function lambdaTriage(event: SeamEvent, s: { role: string; name: string }, ip: string, what: string, where: string): string {
  const key = accessKeyOf(event);
  return (
    `Lambda function ${s.name}'s execution-role session (role ${s.role}${key === undefined ? '' : `, key ${key}`}) called ${what} ${callerText(event)}: ${where}. ` +
    `Read what ${s.name} runs (aws lambda get-function --function-name ${s.name}): code that fetches URLs or file paths it is given (SSRF, /proc/self/environ), command injection, a new dependency. ` +
    `List what ${ip} did with the key${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}: GetCallerIdentity, List*, GetObject, secrets. ` +
    `A developer who copied ${s.name}'s credentials to test from a laptop looks the same, and is worth stopping too. ` +
    `Deny ${s.role}'s older sessions (${revokeSessionsCommand(s.role)}), then update ${s.name} so it gets new ones.`
  );
}

export const lambdaCredsOutsideAws: NativeDetection<State> = {
  id: 'seam-native-lambda-creds-outside-aws',
  title: 'Lambda execution-role credentials used from outside AWS',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1552.001', 'attack.t1552.005', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A call signed by a Lambda function’s execution-role session (session name = the function name, ASIA key; known as the function’s from an earlier call with the Lambda runtime’s user agent, unless sts:AssumeRole issued that session to another principal (role chaining), or from CreateFunction / UpdateFunctionConfiguration naming the role) came from a public address that the bundled ASN table places outside Amazon’s networks, or with an attack tool’s user agent. Functions call AWS from Lambda’s own addresses, a NAT gateway or a VPC endpoint; the credentials were read out of the function’s environment and are used elsewhere. The runtime’s user-agent mark (exec-env/AWS_Lambda_, from AWS_EXECUTION_ENV, which is stolen with the keys) clears nothing outside AWS: a CLI or macOS/Windows user agent there alerts with it, and any other call from outside is the function’s only from a known egress network of the account’s functions (native.lambdaEgressCidrs, or a network their marked calls used during the account’s learning period); a function whose calls lack the mark (provided.* runtimes, non-SDK signers) behind such egress needs it configured. S3 requests made with a presigned URL (AuthenticationMethod QueryString: the function’s signature, the browser’s address) are left out, so a thief who only presigns S3 URLs is missed; any header-signed call from that network still counts. Medium: from an AWS address, a CLI or script without the mark, or a desktop user agent, using a session whose own calls carry the mark (a CLI inside Lambda inherits it): the keys on another machine in AWS. A call recorded only in another account (the resource owner’s: S3 data events, KMS) is judged in that account’s partition, which does not know the function: missed.',
  triage:
    'Which function (the session name) and what it runs: code that fetches URLs or file paths it is given (SSRF, file:// or /proc/self/environ path traversal), command injection, a new dependency. Its credentials stay valid for hours: deny the role’s sessions issued before now (an inline policy with aws:TokenIssueTime), update the function so it gets new ones, and list what the outside address did with them (GetCallerIdentity, List*, GetObject, secrets). A developer who copied a function’s credentials to test from a laptop looks the same: that is worth stopping too.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries), started: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const set = executionRoleSet(event);
    if (set !== undefined) {
      const key = lambdaSessionKey(set.account, set.role, set.fn);
      remember(event, ctx, graph, { kind: 'lambda_execution_session', key, from: `arn:${set.partition}:sts::${set.account}:assumed-role/${set.role}/${set.fn}`, to: set.roleArn, attributes: { learned_from: str(event.eventName) } });
    }
    // A presigned URL's request: the signer is the function, the caller whoever got the link (see the module comment).
    if (presignedRequest(event)) return [];
    const s = sessionOf(event);
    if (s === undefined) return [];
    const ip = event.seam.source_ip;
    if (ip === undefined) return [];
    const ua = str(event.userAgent);
    const family = userAgentFamily(ua);
    if (family === 'aws-service') return [];
    const mark = ua !== undefined && LAMBDA_RUNTIME_UA.test(ua);
    const key = lambdaSessionKey(s.account, s.role, s.name);
    const vpce = typeof event.vpcEndpointId === 'string';
    const net = vpce ? undefined : eventNetwork(event, ctx.config);
    // The function's own calls: the runtime's mark from where functions run (a VPC endpoint, a private address, Amazon).
    const workstation = family === 'cli' || desktopUserAgent(ua) || (ua !== undefined && WINDOWS_UA.test(ua));
    const desktop = workstation && family !== 'cli';
    if (mark && family !== 'attack-tool' && !desktop && (vpce || net?.private === true || net?.aws === true)) {
      learnSession(event, ctx, graph, s, key);
      const t = timeOf(event);
      const last = state.started.get(s.account);
      if (last === undefined || t - last > START_REFRESH_MS || t < last) {
        learningStart(event, ctx, graph, egressSubject(s.account));
        state.started.set(s.account, t);
      }
      return [];
    }
    if (net === undefined || net.private || net.aws === undefined) return [];
    const outside = net.aws === false;
    const t = timeOf(event);
    let level: AlertLevel = 'high';
    if (!outside && family !== 'attack-tool') {
      // From AWS: a CLI or script without the runtime's mark, or a desktop, using a session whose calls carry the mark
      // (a CLI run inside Lambda inherits AWS_EXECUTION_ENV) is another machine: the keys on someone's EC2 or CloudShell.
      if (!(desktop || (!mark && (family === 'cli' || family === 'script')))) return [];
      const f = liveFact(graph, key, t);
      if (f === undefined || !marked(f.fact.attributes)) return [];
      level = 'medium';
    }
    if (outside && family !== 'attack-tool' && !workstation) {
      // Unmarked and not a function's session: nothing to judge (the common case for other roles' sessions).
      if (!mark && liveFact(graph, key, t) === undefined) return [];
      // A known egress network of the account's functions (configured, or learned from their marked calls while learning).
      const subject = egressSubject(s.account);
      if (ctx.config.lambdaEgressCidrs.some((c) => inCidr(ip, c))) return [];
      if (knownNetwork(graph, subject, net, t) !== undefined) {
        if (mark) {
          rememberNetwork(event, ctx, graph, subject, net);
          learnSession(event, ctx, graph, s, key);
        }
        return [];
      }
      if (mark && learning(event, ctx.config, learningStart(event, ctx, graph, subject))) {
        rememberNetwork(event, ctx, graph, subject, net);
        learnSession(event, ctx, graph, s, key);
        return [];
      }
    }
    if (liveFact(graph, key, t) === undefined) return [];
    const alertKey = s.arn + '|' + (addressPlace(ip)?.place ?? ip);
    if (state.alerted.has(alertKey)) return [];
    state.alerted.set(alertKey, true);
    const what = event.seam.action ?? str(event.eventName) ?? '';
    const where = level === 'medium'
      ? `from ${ip} (${net.label}), an AWS address, with a client the function's runtime does not use (its own calls carry exec-env/AWS_Lambda_)`
      : !outside
      ? `from ${ip} (${net.label}) with an attack tool`
      : mark && workstation
        ? `from ${ip} (${net.label}), outside AWS, with a CLI or workstation that carries the Lambda runtime's mark (the stolen environment's AWS_EXECUTION_ENV)`
        : mark
          ? `from ${ip} (${net.label}), outside AWS, a network the account's functions were not seen using while learning`
          : `from ${ip} (${net.label}), outside AWS`;
    return [
      nativeAlert(this, {
        level,
        events: [event],
        summary: `Lambda function ${s.name}'s execution-role credentials (role ${s.role}) called ${what} ${where}${ua === undefined ? '' : `, user agent ${ua}`}`,
        triage: lambdaTriage(event, s, ip, what, level === 'medium' ? 'another machine in AWS (an EC2 host, CloudShell)' : outside ? 'outside AWS' : 'an attack tool'),
        principal: ctx.resolution.principal,
        account: event.seam.account ?? s.account,
      }),
    ];
  },
};
