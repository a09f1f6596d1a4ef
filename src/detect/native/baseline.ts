/**
 * Shared by the behavioural baselines (new network, new region, impossible travel): who a CloudTrail call
 * is baselined under, when that principal was first seen (the learning period), and what it has been seen
 * doing. Everything a baseline learns is an identity fact (`baseline_start`, `seen_network`, `seen_region`)
 * learned through `ctx.learn`: it lands in the graph, goes out on `seam.identity` with the graph's other
 * versions and comes back on a rebuild (ADR 0008), so a restart neither forgets the baseline nor starts a
 * new learning period. Each fact expires `baselineMemoryMs` (or a detection's own longer memory) after it was
 * last refreshed (refreshed when seen again with less than half that left), so the graph holds only what was seen
 * recently.
 */
import type { Principal, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import type { IdentityFact } from '../../identity/types.ts';
import type { Edge } from '../../identity/types.ts';
import type { NativeConfig } from './config.ts';
import { networkFor, type NetworkInfo } from './networks.ts';
import type { EvalContext } from './types.ts';
import { isoMs } from '../../core/time.ts';
import { connectionAddress } from './util.ts';

/** Session names that are per process or per run, not per person or machine: baseline the role instead. */
const EPHEMERAL_SESSION =
  /^(botocore-session-|aws-go-sdk-|aws-sdk-java-|aws-sdk-js-|aws-sdk-ruby|awscli-session|terraform|pulumi|cdk-|githubactions|gha-|gitlab|circleci|jenkins|atlantis|eks-|aws-lambda|lambda|ssm-|\d{6,}$|[0-9a-f-]{24,}$)/i;

export interface BaselineSubject {
  /** The graph node the baseline facts hang off (an IAM ARN, a session ARN, a service-account node). */
  key: string;
  /** What alerts say. */
  label: string;
  principal: Principal;
}

/**
 * Who a call is baselined under: the resolved principal (`seam.principal`, refined by the identity graph).
 * A service account's IRSA / Pod Identity calls are baselined per service account; an assumed-role session
 * per session when its name is stable (a person's e-mail, an instance id), else per role (CI runs, SDK
 * default session names); IAM users and roots per ARN. AWS services acting themselves are not baselined.
 */
export function baselineSubject(event: SeamEvent, resolvedCluster?: string): BaselineSubject | undefined {
  // Asked by each baseline of the same event: the last answer is kept for the same event, principal and clusters.
  const m = subjectMemo;
  if (m.event === event && m.principal === event.seam.principal && m.resolvedCluster === resolvedCluster && m.cluster === event.seam.cluster) return m.subject;
  const subject = subjectOf(event, resolvedCluster);
  m.event = event;
  m.principal = event.seam.principal;
  m.resolvedCluster = resolvedCluster;
  m.cluster = event.seam.cluster;
  m.subject = subject;
  return subject;
}

const subjectMemo: { event: SeamEvent | undefined; principal: Principal | undefined; resolvedCluster: string | undefined; cluster: string | undefined; subject: BaselineSubject | undefined } = {
  event: undefined,
  principal: undefined,
  resolvedCluster: undefined,
  cluster: undefined,
  subject: undefined,
};

function subjectOf(event: SeamEvent, resolvedCluster: string | undefined): BaselineSubject | undefined {
  const p = event.seam.principal;
  if (p === undefined || p.type === 'aws_service' || p.type === 'anonymous' || p.type === 'unknown') return undefined;
  if (p.service_account !== undefined) {
    const cluster = resolvedCluster ?? event.seam.cluster ?? 'unknown';
    const n = saSubjectNames(cluster, p.service_account);
    return { key: n.key, label: n.label, principal: p };
  }
  const arn = p.arn ?? p.id;
  // An IAM-authenticated Kubernetes user (kubectl with an IAM session) is the same subject as the session's CloudTrail calls.
  if (p.type === 'assumed_role' || (p.type === 'k8s_user' && arn.includes(':assumed-role/'))) {
    const role = roleOfSession(arn);
    const session = p.session ?? arn.slice(arn.lastIndexOf('/') + 1);
    if (role !== undefined && (session === '' || EPHEMERAL_SESSION.test(session))) return { key: canonicalIamArn(role), label: roleLabel(canonicalIamArn(role)), principal: p };
    return { key: arn, label: arn, principal: p };
  }
  if (!arn.startsWith('arn:')) return undefined;
  return { key: arn, label: arn, principal: p };
}

/**
 * A service account's subject key and label, built once per cluster and service account (its every call asks,
 * and the key is then looked up again and again: a string built once is hashed once). Bounded.
 */
let saNames = new Map<string, Map<string, { key: string; label: string }>>();
let saNameCount = 0;
function saSubjectNames(cluster: string, sa: string): { key: string; label: string } {
  let bySa = saNames.get(cluster);
  if (bySa === undefined) saNames.set(cluster, (bySa = new Map()));
  let n = bySa.get(sa);
  if (n === undefined) {
    if (++saNameCount > 4096) {
      saNames = new Map([[cluster, (bySa = new Map())]]);
      saNameCount = 1;
    }
    n = { key: `k8s:${cluster}:sa:${sa}`, label: `service account ${sa} (${cluster})` };
    bySa.set(sa, n);
  }
  return n;
}

let roleLabels = new Map<string, string>();
function roleLabel(role: string): string {
  let l = roleLabels.get(role);
  if (l === undefined) {
    if (roleLabels.size >= 4096) roleLabels = new Map();
    l = `role ${role}`;
    roleLabels.set(role, l);
  }
  return l;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The latest version of a baseline fact if it still holds at `t` (late events count what was learned after them). */
function live(graph: IdentityGraph, key: string, t: number): Edge | undefined {
  const e = graph.store.latest(key);
  return e !== undefined && t < e.toMs ? e : undefined;
}

/**
 * Learns (or refreshes) one baseline fact; returns the version in force before this event (undefined =
 * it was new). `firstSeen` carries the first sighting across refreshes. `memoryMs`: how long it holds unseen
 * (default baselineMemoryMs).
 */
export function remember(
  event: SeamEvent,
  ctx: EvalContext,
  graph: IdentityGraph,
  d: { kind: IdentityFact['kind']; key: string; from: string; to: string; attributes?: Record<string, unknown>; memoryMs?: number },
): { before: Edge | undefined; firstSeenMs: number } {
  const t = isoMs(event['@timestamp']);
  const before = live(graph, d.key, t);
  // A detection may keep its facts longer than the shared memory (read_secret: monthly and quarterly jobs).
  const memory = d.memoryMs ?? ctx.config.baselineMemoryMs;
  const firstSeenMs = before === undefined ? t : Math.min(firstSeenOf(before), t);
  // Refreshed when it would otherwise be forgotten within half its memory (for a version learned with this memory:
  // seen again more than half of it after; one learned with a shorter memory, before the detection kept it longer, is
  // refreshed at its next sighting).
  if (before === undefined || before.toMs - t < memory / 2) {
    const f: IdentityFact = {
      kind: d.kind,
      key: d.key,
      op: 'assert',
      from: d.from,
      to: d.to,
      attributes: { ...d.attributes, first_seen: iso(firstSeenMs) },
      provenance: event.seam.id,
      valid_from: event['@timestamp'],
      valid_to: iso(t + memory),
    };
    if (event.seam.account !== undefined) f.account = event.seam.account;
    ctx.learn(f);
  }
  return { before, firstSeenMs };
}

/**
 * `Date.parse` of a baseline version's first sighting, remembered per text (every call of a known principal
 * asks it of the same few versions; the texts are the facts' own strings, so a look-up hashes nothing new). Bounded.
 */
function firstSeenOf(e: Edge): number {
  const text = String(e.fact.attributes.first_seen ?? e.fact.valid_from);
  let ms = firstSeenMemo.get(text);
  if (ms === undefined) {
    if (firstSeenMemo.size >= 4096) firstSeenMemo.clear();
    ms = Date.parse(text);
    firstSeenMemo.set(text, ms);
  }
  return ms;
}

const firstSeenMemo = new Map<string, number>();

/**
 * When the subject's learning started (ms); learns it on first sight. `memoryMs`: how long the start holds unseen
 * (default baselineMemoryMs; a detection that keeps its facts longer keeps the start as long, or a subject quiet for
 * longer than the shared memory would start learning again while its facts are still known).
 */
export function learningStart(event: SeamEvent, ctx: EvalContext, graph: IdentityGraph, subjectKey: string, memoryMs?: number): number {
  // Several baselines ask for the same subject while evaluating one event (one EvalContext): the first call
  // learns (or refreshes) the fact, and a repeat would find that version and give the same answer, learning nothing.
  // (A few subjects per event: the principal, its account, the new-terms starts: a short list, no map to clear per event.)
  if (startsCtx !== ctx) {
    startsCtx = ctx;
    startKeys.length = 0;
    startMs.length = 0;
  }
  const i = startKeys.indexOf(subjectKey);
  if (i >= 0) return startMs[i]!;
  const ms = remember(event, ctx, graph, { kind: 'baseline_start', key: keysOf(subjectKey).start, from: subjectKey, to: subjectKey, ...(memoryMs === undefined ? {} : { memoryMs }) }).firstSeenMs;
  startKeys.push(subjectKey);
  startMs.push(ms);
  return ms;
}

let startsCtx: EvalContext | undefined;
const startKeys: string[] = [];
const startMs: number[] = [];

/** Still learning at the event's time? */
export function learning(event: SeamEvent, config: NativeConfig, startMs: number): boolean {
  return isoMs(event['@timestamp']) - startMs < config.baselineLearningMs;
}

/**
 * The event's source network (undefined: no address, e.g. an AWS service acting). For a Kubernetes request, the
 * connection's address (the last of `sourceIPs`: util.ts connectionAddress), not an X-Forwarded-For entry the client
 * wrote, which would let it pick a network its subject already used.
 */
export function eventNetwork(event: SeamEvent, config: NativeConfig): NetworkInfo | undefined {
  const ip = connectionAddress(event);
  if (ip === undefined) return undefined;
  // The answer depends only on the address and the config: remembered per config for recent addresses
  // (the same few addresses call again and again; each lookup parses the address and searches the table).
  // (The last config's memo is held apart: one engine runs with one config, and a WeakMap look-up per event costs.)
  let memo = lastNetworks;
  if (lastConfig !== config) {
    memo = networks.get(config);
    if (memo === undefined) networks.set(config, (memo = new Map()));
    lastConfig = config;
    lastNetworks = memo;
  }
  const hit = memo!.get(ip);
  if (hit !== undefined) return hit === NO_NETWORK ? undefined : hit;
  const net = networkFor(ip, config);
  if (memo!.size >= MAX_NETWORK_MEMO) memo!.clear();
  memo!.set(ip, net === undefined ? NO_NETWORK : Object.freeze(net));
  return net;
}

const MAX_NETWORK_MEMO = 4096;
/** What the memo holds for an address with no network (one look-up tells it from an address not asked yet). */
const NO_NETWORK: Readonly<NetworkInfo> = Object.freeze({ key: '', label: '', aws: undefined, private: false });
const networks = new WeakMap<NativeConfig, Map<string, Readonly<NetworkInfo>>>();
let lastConfig: NativeConfig | undefined;
let lastNetworks: Map<string, Readonly<NetworkInfo>> | undefined;

/** Baseline facts of one kind the subject holds at `t`. */
export function known(graph: IdentityGraph, subjectKey: string, kind: IdentityFact['kind'], t: number): Edge[] {
  return graph.store.outgoing(subjectKey, kind, t);
}

/**
 * Calls a baseline should look at: a principal's own CloudTrail call from an address (not an AWS service on its
 * behalf, not through a VPC endpoint), and Kubernetes API requests by IAM-authenticated users and service
 * accounts (the network baselines; audit events have no region).
 */
export function baselinable(event: SeamEvent): boolean {
  if (connectionAddress(event) === undefined) return false;
  if (event.seam.source === 'cloudtrail') return typeof event.vpcEndpointId !== 'string';
  if (event.seam.source !== 'k8s_audit') return false;
  // Audit: people and pipelines (IAM-authenticated users) and service accounts; not kubelets, controllers, EKS.
  const p = event.seam.principal;
  if (p === undefined || p.type === 'node') return false;
  if (p.type === 'service_account') return true;
  const arn = p.arn ?? '';
  return p.type === 'k8s_user' && (arn.includes(':assumed-role/') || arn.includes(':user/'));
}

/**
 * The first AWS region a subject is seen in after AWS's ranges were given (native.awsIpRangesFile) to a baseline that
 * learned its AWS networks without them (as Amazon's AS, or an AWS /16): those networks were somewhere in AWS, so the
 * first region is learned, not reported as new; the regions after it are judged like any network. `before`: the
 * subject's live `seen_network` facts.
 */
export function firstRegionOverAsBaseline(before: readonly Edge[], net: NetworkInfo): boolean {
  if (net.region === undefined) return false;
  let regionless = false;
  for (const e of before) {
    if (e.fact.attributes.aws !== true) continue;
    if (e.fact.attributes.region !== undefined) return false;
    regionless = true;
  }
  return regionless;
}

/** The subject's live `seen_network` version for this network (what `rememberNetwork` returns, without learning). */
export function knownNetwork(graph: IdentityGraph, subjectKey: string, net: NetworkInfo, t: number): Edge | undefined {
  return live(graph, networkKey(subjectKey, net.key), t);
}

interface SubjectKeys {
  start: string;
  networks: Map<string, string>;
  regions: Map<string, string>;
}

/**
 * The store keys of a subject's baseline facts, built once per subject (the graph looks them up on every call
 * of a principal; a key built per lookup is a new string to flatten and hash each time). Bounded.
 */
let subjectKeys = new Map<string, SubjectKeys>();
function keysOf(subjectKey: string): SubjectKeys {
  let k = subjectKeys.get(subjectKey);
  if (k === undefined) {
    if (subjectKeys.size >= 4096) subjectKeys = new Map();
    k = { start: `baseline_start|${subjectKey}`, networks: new Map(), regions: new Map() };
    subjectKeys.set(subjectKey, k);
  }
  return k;
}

/** `<kind>|<subject>|<value>` from a subject's `cache` (its regions' or networks'), built once per value. Bounded. */
function seenKey(cache: Map<string, string>, kind: 'seen_region' | 'seen_network', subjectKey: string, value: string): string {
  let k = cache.get(value);
  if (k === undefined) {
    if (cache.size >= 256) cache.clear();
    k = `${kind}|${subjectKey}|${value}`;
    cache.set(value, k);
  }
  return k;
}

/** `seen_region|<subject>|<region>`, built once per subject and region. */
export function regionKey(subjectKey: string, region: string): string {
  return seenKey(keysOf(subjectKey).regions, 'seen_region', subjectKey, region);
}

let accountKeys = new Map<string, string>();
/** `account:<id>` (the subject an account's own baselines hang off), built once per account. */
export function accountSubjectKey(account: string | undefined): string {
  const a = account ?? 'unknown';
  let k = accountKeys.get(a);
  if (k === undefined) {
    if (accountKeys.size >= 4096) accountKeys = new Map();
    k = `account:${a}`;
    accountKeys.set(a, k);
  }
  return k;
}

/** The latest version of a baseline fact if it still holds at `t` (what `remember` finds before it learns). */
export function liveFact(graph: IdentityGraph, key: string, t: number): Edge | undefined {
  return live(graph, key, t);
}

function networkKey(subjectKey: string, netKey: string): string {
  return seenKey(keysOf(subjectKey).networks, 'seen_network', subjectKey, netKey);
}

/**
 * Learns the subject's network (shared by the network baselines); `extra`: attributes a baseline keeps beside the
 * label (what it shows of the network later).
 */
export function rememberNetwork(event: SeamEvent, ctx: EvalContext, graph: IdentityGraph, subjectKey: string, net: NetworkInfo, extra?: Record<string, unknown>, memoryMs?: number): Edge | undefined {
  return remember(event, ctx, graph, {
    kind: 'seen_network',
    key: networkKey(subjectKey, net.key),
    from: subjectKey,
    to: 'net:' + net.key,
    attributes: { ...extra, label: net.label, aws: net.aws ?? null, ...(net.region === undefined ? {} : { region: net.region }) },
    ...(memoryMs === undefined ? {} : { memoryMs }),
  }).before;
}
