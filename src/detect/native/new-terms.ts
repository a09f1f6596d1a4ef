/**
 * First-seen ("new terms") baselines beyond networks and regions, per resolved principal (the identity graph's:
 * the person behind a session, the service account behind IRSA credentials), learned as identity facts so they
 * survive restarts (ADR 0011):
 * - a principal calling an AWS service (API family, `eventSource`) it never called before;
 * - a principal calling AWS with a kind of client (user-agent family: console, cli, sdk, script, ...) it never used;
 * - a principal (person or service account) using a Kubernetes verb on secrets it never used (a workload that only
 *   ever got its own secret starts listing or watching them);
 * - a principal making a kind of sensitive Kubernetes request it never made: exec or attach, port-forward, a debug
 *   container, a token for a service account, a Role or binding written, a workload written, its own permissions
 *   checked (GuardDuty's AnomalousBehavior.ExecInPod / WorkloadDeployed / RoleCreated / RoleBindingCreated /
 *   PermissionChecked, as first-seen terms rather than a model).
 * Each is context, not an incident on its own (people start using a new service; a pipeline changes its SDK):
 * low, silent during the principal's learning period, once per principal and term for the baseline memory. They
 * feed incidents and hunting ("what did this principal do for the first time around the alert?").
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { FactKind } from '../../identity/types.ts';
import { describePrincipal, type Alert } from '../alert.ts';
import { baselinable, baselineSubject, known, learning, learningStart, liveFact, remember, type BaselineSubject } from './baseline.ts';
import { userAgentFamily } from './networks.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import type { AnyNativeDetection, EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, connectionAddress, consoleSessionCall, keyLookupCommand, nativeAlert, quoted, servedRequest, stopCredentialsText, timeOf, whoText } from './util.ts';
import { obj, str } from '../../core/values.ts';

/** Services every principal touches as a matter of course (the console's home and account pages call most of them): a first call says nothing. */
const ROUTINE_SERVICES = new Set([
  'sts', 'signin', 'sso', 'sso-oauth', 'health', 'notifications', 'tagging', 'resource-groups', 'resource-explorer-2', 'servicequotas',
  'ce', 'cost-optimization-hub', 'trustedadvisor', 'freetier', 'account', 'billingconsole', 'billing', 'uxc', 'servicecatalog-appregistry', 'cloudshell',
]);

/**
 * A call the AWS console made for a person (its pages call many services at once, from the person's address): the
 * console's session (`sessionCredentialFromConsole`), or the console's or an AWS service's user agent.
 */
function fromConsole(event: SeamEvent): boolean {
  if (consoleSessionCall(event)) return true;
  const family = familyOf(str(event.userAgent));
  return family === 'console' || family === 'aws-service';
}

/** Client families worth a first-seen: `none`/`other` say nothing, `aws-service` is AWS acting, `attack-tool` is its own high rule. */
const CLIENTS = new Set(['console', 'ec2-agent', 'cli', 'sdk', 'script']);

/** Keys built once per subject and term (the graph is asked on every call of a principal). Bounded. */
let termKeys = new Map<string, string>();
function termKey(kind: FactKind, subject: string, term: string): string {
  const id = kind + '|' + subject + '|' + term;
  let k = termKeys.get(id);
  if (k === undefined) {
    if (termKeys.size >= 16_384) termKeys = new Map();
    k = id;
    termKeys.set(id, k);
  }
  return k;
}

/**
 * The event's baseline subject, with when its new-terms learning started (learned on every call of the subject these
 * baselines look at). The new-terms baselines keep a start of their own (`baseline_start|terms|…`), not the one the
 * network and region baselines share: a principal those already know, met by a version of Seam that has these,
 * learns its services, clients and verbs first instead of alerting on each (and a principal first seen by kubectl
 * still learns its AWS calls).
 */
function subjectOf(event: SeamEvent, graph: IdentityGraph, ctx: EvalContext, startPrefix: 'terms|' | 'k8saction|' = 'terms|'): (BaselineSubject & { start: number }) | undefined {
  // Two baselines ask the same of a CloudTrail call (services, clients) in one EvalContext: the answer depends on the
  // event, its resolution and the start `learningStart` keeps per context, so the second gets the first's (read only).
  if (subjectCtx === ctx && subjectEvent === event && subjectPrefix === startPrefix) return subjectMemo;
  const s = subjectOfUncached(event, graph, ctx, startPrefix);
  subjectCtx = ctx;
  subjectEvent = event;
  subjectPrefix = startPrefix;
  subjectMemo = s;
  return s;
}
let subjectCtx: EvalContext | undefined;
let subjectEvent: SeamEvent | undefined;
let subjectPrefix: string | undefined;
let subjectMemo: (BaselineSubject & { start: number }) | undefined;

function subjectOfUncached(event: SeamEvent, graph: IdentityGraph, ctx: EvalContext, startPrefix: 'terms|' | 'k8saction|'): (BaselineSubject & { start: number }) | undefined {
  let subject = baselineSubject(event, ctx.resolution.cluster);
  if (subject === undefined) return undefined;
  // An instance-profile session (`…/i-0abc…`) is learned under its role: a fleet's instances share their services
  // and clients, and a subject per instance would add ~10 facts per instance for the baseline memory (node churn).
  const role = INSTANCE_SESSION.test(subject.key) ? roleOfSession(subject.key) : undefined;
  if (role !== undefined) subject = { ...subject, key: canonicalIamArn(role) };
  return { ...subject, start: learningStart(event, ctx, graph, startPrefix + subject.key) };
}

const INSTANCE_SESSION = /:assumed-role\/[^/]+\/i-[0-9a-f]{8,17}$/;

/**
 * Learns `term` for the subject; when the term is new to a subject past its learning period (its first term of a
 * kind too: a service account that never read secrets and now lists them), the detection's one alert, whose summary
 * `says` writes from who acted and the terms the subject had.
 */
function firstSeen(
  d: AnyNativeDetection,
  event: SeamEvent,
  graph: IdentityGraph,
  ctx: EvalContext,
  subject: BaselineSubject & { start: number },
  kind: FactKind,
  term: string,
  says: (who: string, usual: string) => string,
  advice: (who: string, usual: string) => string,
  level?: 'medium',
): Alert[] {
  const t = timeOf(event);
  const key = termKey(kind, subject.key, term);
  const live = liveFact(graph, key, t);
  // Nearly every call: a known term learned recently enough that `remember` would not refresh it. Nothing to do.
  if (live !== undefined && t >= live.fromMs && t - live.fromMs <= ctx.config.baselineMemoryMs / 2) return [];
  const before = live === undefined ? known(graph, subject.key, kind, t) : undefined;
  const had = remember(event, ctx, graph, { kind, key, from: subject.key, to: term }).before;
  if (had !== undefined || before === undefined || learning(event, ctx.config, subject.start)) return [];
  const usual = before.slice(0, 6).map((e) => e.fact.to.slice(e.fact.to.indexOf(':') + 1));
  return [
    nativeAlert(d, {
      ...(level !== undefined ? { level } : {}),
      events: [event],
      summary: says(describePrincipal(ctx.resolution.principal ?? subject.principal), list(usual)),
      triage: advice(whoText(ctx.resolution.principal ?? subject.principal), list(usual)),
      principal: ctx.resolution.principal,
      account: event.seam.account,
      cluster: ctx.resolution.cluster ?? event.seam.cluster,
    }),
  ];
}

/** A CloudTrail call's closing advice: list what the key did, and stop the credentials by name. */
function awsAfter(event: SeamEvent, lead: string): string {
  const key = accessKeyOf(event);
  return `${lead}${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}. `;
}

/** Where a Kubernetes request came from and with what: `from 203.0.113.7 with “kubectl/v1.30.2 …”`. */
function k8sFrom(event: SeamEvent): string {
  const ip = connectionAddress(event);
  const ua = event.seam.user_agent;
  return `${ip === undefined ? '' : `from ${ip}`}${ua === undefined ? '' : ` with ${quoted(ua)}`}`.trim();
}

/** `seam hunt --who … --cluster …` for a Kubernetes request's principal (a service account by namespace/name). */
function k8sHunt(event: SeamEvent, ctx: EvalContext): string {
  const p = ctx.resolution.principal ?? event.seam.principal;
  const who = p?.service_account ?? p?.arn ?? p?.k8s_user ?? str(obj(event.user)?.username) ?? '<principal>';
  const cluster = ctx.resolution.cluster ?? event.seam.cluster;
  return `seam hunt --who ${who}${cluster === undefined ? '' : ` --cluster ${cluster}`}`;
}

/** The object a Kubernetes request touched, as the kubectl command that shows it now: `kubectl get rolebindings -n payments ops -o yaml`. */
function kubectlGet(event: SeamEvent): string | undefined {
  const ref = obj(event.objectRef);
  const resource = str(ref?.resource);
  const name = str(ref?.name);
  if (resource === undefined || name === undefined) return undefined;
  const ns = str(ref?.namespace);
  return `kubectl get ${resource}${ns === undefined ? '' : ` -n ${ns}`} ${name} -o yaml`;
}

const list = (xs: string[]): string => (xs.length === 0 ? 'none' : xs.join(', ') + (xs.length >= 6 ? ', …' : ''));

export const newService: NativeDetection<null> = {
  id: 'seam-native-new-service',
  title: 'Principal calling an AWS service it never used',
  level: 'low',
  tags: ['attack.discovery', 'attack.t1526', 'attack.execution', 'attack.t1059.009'],
  description:
    'A successful CloudTrail call by a principal (the identity graph’s resolved principal) to an AWS service (eventSource) it had not called during its learning period (baselineLearningMs) or within its baseline memory. Routine services (STS, sign-in, IAM Identity Center, tagging, health) and AWS services acting on the principal’s behalf are left out. Context: a workload or a person stepping outside the services it uses.',
  triage:
    'Is the service one the principal’s job plausibly needs (a new feature, a new team member)? A workload role suddenly calling IAM, Secrets Manager, Bedrock or EC2 is the pattern of stolen credentials exploring; list its other first-time calls around this one.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || !baselinable(event)) return [];
    const subject = subjectOf(event, graph, ctx);
    if (subject === undefined || event.seam.outcome === 'failure' || fromConsole(event)) return [];
    const source = str(event.eventSource);
    const service = source?.endsWith('.amazonaws.com') ? source.slice(0, -'.amazonaws.com'.length) : undefined;
    if (service === undefined || ROUTINE_SERVICES.has(service)) return [];
    return firstSeen(this, event, graph, ctx, subject, 'seen_service', 'svc:' + service, (who, usual) => `${who} called ${service} (${str(event.eventName) ?? ''}), a service it never used; usual: ${usual}`, (who, usual) =>
        `${who} called ${service} (${str(event.eventName) ?? ''}) ${callerText(event)}, a service it never used; its usual services: ${usual}. ` +
        `Does its job plausibly need ${service} (a new feature, a new team member)? A workload role suddenly calling IAM, Secrets Manager, Bedrock or EC2 is stolen credentials exploring: ` +
        awsAfter(event, 'list its other calls around this one') +
        `Benign if a release or a new task of its owner brought ${service} in (it is learned from now on). Otherwise ${stopCredentialsText(event) ?? 'revoke its credentials'}.`);
  },
};

/** User-agent family by user agent: a principal's calls repeat a handful of user agents. Bounded. */
let families = new Map<string, string>();
function familyOf(ua: string | undefined): string {
  if (ua === undefined) return 'none';
  let f = families.get(ua);
  if (f === undefined) {
    if (families.size >= 4096) families = new Map();
    f = userAgentFamily(ua);
    families.set(ua, f);
  }
  return f;
}

export const newClient: NativeDetection<null> = {
  id: 'seam-native-new-client',
  title: 'Principal calling AWS with a kind of client it never used',
  level: 'low',
  tags: ['attack.initial-access', 'attack.t1078.004', 'attack.defense-evasion', 'attack.t1550.001'],
  description:
    'A CloudTrail call by a principal with a user-agent family (console, AWS CLI, SDK, script/HTTP library, EC2 agent) it had not used during its learning period or within its baseline memory. Attack tools have their own high rule. Context: a pipeline’s role used from a CLI, a console user’s session driven by curl.',
  triage:
    'Who uses this principal, and with what? A role only ever used by an SDK in a workload, now used from the AWS CLI or a script, suggests its credentials were copied; compare the address with the principal’s usual networks.',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || !baselinable(event)) return [];
    const subject = subjectOf(event, graph, ctx);
    const family = familyOf(str(event.userAgent));
    if (subject === undefined || !CLIENTS.has(family)) return [];
    return firstSeen(this, event, graph, ctx, subject, 'seen_client', 'ua:' + family, (who, usual) => `${who} called ${event.seam.action ?? ''} with a ${family} client (${str(event.userAgent) ?? ''}), a kind it never used; usual: ${usual}`, (who, usual) =>
        `${who} called ${event.seam.action ?? 'AWS'} with a ${family} client ${callerText(event)}, a kind it never used; its usual clients: ${usual}. ` +
        `Who uses ${who}, and with what? A role only ever used by an SDK in a workload, now used from a CLI or a script, suggests its credentials were copied: compare ${event.seam.source_ip ?? 'the address'} with its usual networks and ` +
        awsAfter(event, 'list what it did') +
        `Benign if its owner started using a ${family} client (a person trying the CLI, a new script in the pipeline). Otherwise ${stopCredentialsText(event) ?? 'revoke its credentials'}.`);
  },
};

export const newSecretVerb: NativeDetection<null> = {
  id: 'seam-native-new-secret-verb',
  title: 'Principal using a Kubernetes verb on secrets it never used',
  level: 'low',
  tags: ['attack.credential-access', 'attack.t1552.007', 'attack.discovery', 'attack.t1613'],
  description:
    'A Kubernetes request on secrets (get, list, watch, create, update, patch, delete) by a person (IAM-authenticated) or a service account with a verb it had not used on secrets during its learning period or within its baseline memory, whatever the API server answered. Context: a workload that only ever read its own secret starts listing or watching them.',
  triage:
    'Which secrets (namespace, name), and does the principal’s job need this verb? A service account that lists or watches secrets it used to get one by one is the pattern of a stolen token harvesting; check where the request came from and what followed.',
  createState: () => null,
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit' || !baselinable(event)) return [];
    // kube-system's service accounts are the control plane's controllers (namespace deletion, garbage collection,
    // token cleanup): their verbs on secrets follow the cluster's life, not a person's intent.
    if ((str(obj(event.user)?.username) ?? '').startsWith('system:serviceaccount:kube-system:')) return [];
    const subject = subjectOf(event, graph, ctx);
    const ref = obj(event.objectRef);
    if (subject === undefined || str(ref?.resource) !== 'secrets' || str(ref?.subresource) !== undefined) return [];
    // One stage per request: the one that ends it.
    if (event.stage !== undefined && event.stage !== 'ResponseComplete') return [];
    const verb = str(event.verb);
    if (verb === undefined) return [];
    const where = str(ref?.namespace) === undefined ? 'across all namespaces' : `in ${str(ref?.namespace)}`;
    const name = str(ref?.name);
    return firstSeen(this, event, graph, ctx, subject, 'seen_secret_verb', 'verb:' + verb, (who, usual) => `${who} used ${verb} on secrets ${where}${name ? ` (${name})` : ''}, a verb it never used on secrets; usual: ${usual}`, (who, usual) => {
      const ns = str(ref?.namespace);
      const user = str(obj(event.user)?.username);
      return (
        `${who} used ${verb} on secrets ${where}${name ? ` (${name})` : ''} ${k8sFrom(event)}, a verb it never used on secrets; its usual verbs: ${usual}. ` +
        `Does its job need ${verb}? A service account that lists or watches secrets it used to get one by one is a stolen token harvesting. ` +
        `What may it read${user === undefined ? '' : ` (kubectl auth can-i --list --as=${user}${ns === undefined ? '' : ` -n ${ns}`})`}, and what else did it do (${k8sHunt(event, ctx)})? ` +
        `Benign if a release changed how it reads secrets (an operator or client library upgrade). Otherwise rotate the secrets it could read, and its token or credentials.`
      );
    });
  },
};

/** Verbs that write an object. */
const WRITES = new Set(['create', 'update', 'patch']);
/** Objects that run containers (a pod written by hand, or a controller's template). */
const WORKLOADS = new Set(['pods', 'deployments', 'daemonsets', 'statefulsets', 'replicasets', 'replicationcontrollers', 'jobs', 'cronjobs']);

/**
 * The kind of sensitive Kubernetes request an audit record is (undefined: none of them). One term per kind, not per
 * namespace or object: a principal that execs daily into ten namespaces is one known term, and the baseline memory
 * holds at most seven facts per principal.
 */
export function k8sAction(verb: string | undefined, resource: string | undefined, subresource: string | undefined): string | undefined {
  if (verb === undefined || resource === undefined) return undefined;
  if (resource === 'pods' && subresource !== undefined) {
    // A session opened by POST (SPDY) is logged as create, by a WebSocket upgrade (kubectl 1.30 and later) as get.
    const opens = verb === 'create' || verb === 'get';
    if (opens && (subresource === 'exec' || subresource === 'attach')) return 'exec';
    if (opens && subresource === 'portforward') return 'port-forward';
    if ((verb === 'patch' || verb === 'update') && subresource === 'ephemeralcontainers') return 'debug-container';
    return undefined;
  }
  if (subresource !== undefined) return resource === 'serviceaccounts' && subresource === 'token' && verb === 'create' ? 'token-request' : undefined;
  if (WRITES.has(verb)) {
    if (resource === 'roles' || resource === 'clusterroles') return 'role-write';
    if (resource === 'rolebindings' || resource === 'clusterrolebindings') return 'binding-write';
    if (WORKLOADS.has(resource)) return 'workload-write';
  }
  if (verb === 'create' && (resource === 'selfsubjectaccessreviews' || resource === 'selfsubjectrulesreviews')) return 'permission-check';
  return undefined;
}

/**
 * Kinds a workload's service account has no business starting on its own: an interactive session into another pod,
 * a tunnel, a debug container. Its first one, after a history without it, is medium; a person's first of any kind,
 * and a service account's first token request, workload, Role, binding or permission check, stay low: GitOps
 * controllers (Argo CD, Flux), cert-manager and External Secrets mint tokens and write bindings routinely but rarely,
 * so their first one often falls after learning (an operator's new release, a new tenant).
 */
const SA_MEDIUM = new Set(['exec', 'port-forward', 'debug-container']);

/** What a permission check asked (`create pods/exec in prod`), from the review's spec when the record has it. */
function reviewAsked(event: SeamEvent): string | undefined {
  const attrs = obj(obj(obj(event.requestObject)?.spec)?.resourceAttributes);
  if (attrs === undefined) return undefined;
  const sub = str(attrs.subresource);
  const ns = str(attrs.namespace);
  return `${str(attrs.verb) ?? '*'} ${str(attrs.resource) ?? '*'}${sub ? '/' + sub : ''}${ns ? ' in ' + ns : ''}`;
}

export const newK8sAction: NativeDetection<null> = {
  id: 'seam-native-new-k8s-action',
  title: 'Principal making a kind of sensitive Kubernetes request it never made',
  level: 'low',
  tags: ['attack.execution', 'attack.t1609', 'attack.t1610', 'attack.persistence', 'attack.t1098.006', 'attack.discovery', 'attack.t1613'],
  description:
    'A Kubernetes request allowed for a person (IAM-authenticated) or a service account (not kube-system’s controllers) of a kind it had not made during its learning period or within its baseline memory: exec or attach into a pod, port-forward, an ephemeral debug container, a token minted for a service account, a Role or ClusterRole written, a RoleBinding or ClusterRoleBinding written, a workload (pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob) written, or its own permissions checked (SelfSubjectAccessReview / SelfSubjectRulesReview, `kubectl auth can-i`). Refused requests and server-side dry runs (kubectl diff, GitOps drift checks) neither alert nor teach. Medium when a service account’s first is an exec or attach, a port-forward or a debug container (what a workload’s token does once stolen, and what controllers do not do); its first token request or binding stays low (GitOps controllers, cert-manager and External Secrets make them, rarely). Learning starts at the principal’s first Kubernetes request seen by this detection, not at the other baselines’ start, so an upgrade or audit logs switched on after CloudTrail learn first. Otherwise context, like GuardDuty’s AnomalousBehavior findings: the rules for the risky shapes (privileged, host mounts, cluster-admin, shells, tokens) raise the alerts to look at.',
  triage:
    'Does the principal’s job include this kind of request (an engineer on call for the first time, a pipeline deploying a new kind of object)? A workload’s service account that starts exec-ing, binding roles or checking what it may do is the pattern of a stolen token; look at its address and the requests around this one.',
  createState: () => null,
  sources: ['k8s_audit'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'k8s_audit' || !baselinable(event)) return [];
    // Streaming requests (exec, attach, port-forward) are logged at ResponseStarted and again at ResponseComplete:
    // the first to arrive counts, the second finds the term known.
    if (event.stage !== undefined && event.stage !== 'ResponseComplete' && event.stage !== 'ResponseStarted') return [];
    if ((str(obj(event.user)?.username) ?? '').startsWith('system:serviceaccount:kube-system:')) return [];
    // Asked on every request of the subject, so that its learning starts with its first request, not its first
    // sensitive one (which would then always fall in the learning period). A start of its own (`k8saction|…`), not
    // the `terms|` one: on an install that already ran the other new-terms baselines, or where audit logs are
    // switched on after CloudTrail, every principal would be past learning and its first request of each kind alert.
    const subject = subjectOf(event, graph, ctx, 'k8saction|');
    const ref = obj(event.objectRef);
    const action = k8sAction(str(event.verb), str(ref?.resource), str(ref?.subresource));
    if (subject === undefined || action === undefined) return [];
    // A refused request did nothing and must not teach the baseline what an attacker tried; nor did a server-side dry
    // run of a write (kubectl diff, GitOps drift checks: ADR 0045), which a Sigma rule still sees, marked.
    if (!servedRequest(event) || event.seam.dry_run === true) return [];
    const ns = str(ref?.namespace);
    const name = str(ref?.name);
    const what = action === 'permission-check' ? (reviewAsked(event) ?? str(ref?.resource) ?? '') : `${str(event.verb) ?? ''} ${str(ref?.resource) ?? ''}${str(ref?.subresource) ? '/' + str(ref?.subresource) : ''} ${ns ? ns + '/' : ''}${name ?? ''}`.trim();
    const level = event.seam.principal?.type === 'service_account' && SA_MEDIUM.has(action) ? 'medium' : undefined;
    return firstSeen(this, event, graph, ctx, subject, 'seen_k8s_action', 'k8s:' + action, (who, usual) => `${who} made ${/^[aeiou]/.test(action) ? 'an' : 'a'} ${action} request (${what}), a kind of sensitive Kubernetes request it never made; usual: ${usual}`,
      (who, usual) => {
        const get = action === 'permission-check' ? undefined : kubectlGet(event);
        const sa = event.seam.principal?.type === 'service_account';
        return (
          `${who} made ${/^[aeiou]/.test(action) ? 'an' : 'a'} ${action} request (${quoted(what, 120)}) ${k8sFrom(event)}, a kind it never made; its usual kinds: ${usual}. ` +
          (sa
            ? 'A workload’s service account that starts exec-ing, binding roles or checking what it may do is a stolen token’s pattern: is the address one of the cluster’s pods or nodes? '
            : `Does ${who}’s job include ${action} requests (on call for the first time, a pipeline deploying a new kind of object)? `) +
          `${get === undefined ? '' : `Read what it made or touched (${get}), and `}look at the requests around this one (${k8sHunt(event, ctx)}). ` +
          `Benign if a change its owner can name explains it (it is learned from now on). Otherwise ${get !== undefined && action.endsWith('-write') ? `undo it (kubectl delete ${get.slice('kubectl get '.length, -' -o yaml'.length)}) and ` : ''}revoke ${who}’s credentials.`
        );
      },
      level,
    );
  },
};
