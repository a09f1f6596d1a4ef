/**
 * The identity graph: facts in (from the event stream and snapshots), answers out — "who is this, really?"
 * for an event at its own time (`resolve`), and "what can this principal do in this cluster?"
 * (`effectivePermissions`). All state is a bounded, versioned index over `IdentityFact`s, so the graph can be
 * rebuilt by re-applying the facts it emitted. See docs/identity.md.
 */
import { createHash } from 'node:crypto';
import { childLogger } from '../core/logger.ts';
import { isoMs } from '../core/time.ts';
import { isPrivateIp } from '../core/ip.ts';
import type { ChainStep, Principal, SeamEvent } from '../core/envelope.ts';
import { serviceAccountOf } from '../core/normalize/principal.ts';
import { templateMatches, expandTemplate } from './aws-auth.ts';
import { IdentityGraphConfig, type IdentityGraphOptions } from './config.ts';
import type { ExtractContext, FactDraft } from './context.ts';
import { extractAudit, extractRuntime } from './extract-audit.ts';
import { extractCloudTrail } from './extract-cloudtrail.ts';
import {

  canonicalIamArn,
  clusterKey,
  groupKey,
  ipKey,
  isAssumedRoleArn,
  issuerOf,
  oidcKey,
  podKey,
  rbacRoleKey,
  roleOfSession,
  saKey,
  sessionNameOf,
  UNKNOWN_CLUSTER,
  userKey,
  usernameOfSa,
  accountOfArn,
} from './keys.ts';
import { accessPolicyMeaning, BUILTIN_CLUSTER_ROLES, isWildcardRule, unknownPolicyReason, type RbacRule } from './rbac.ts';
import { seedAccessEntries, seedAwsAuth, seedKubectl, seedPodIdentity } from './seed.ts';
import { EdgeStore, timeMs } from './store.ts';
import type { Edge, EffectivePermissions, IdentityDoc, IdentityFact, PermissionRule, Resolution, UnknownGrant } from './types.ts';

export interface SeedOptions {
  cluster?: string;
  account?: string;
  /** When the snapshot was taken (ISO 8601). Default: the start of time, i.e. "before anything in the stream". */
  at?: string;
  /** Names the snapshot in provenance (`seed:<name>`). */
  name?: string;
}

export interface GraphStats {
  keys: number;
  versions: number;
  evicted: number;
  pruned: number;
  observed: number;
  factsEmitted: number;
  watermark?: string;
}

const EPOCH = '1970-01-01T00:00:00.000Z';
/** Service accounts whose pods are remembered at once (`podsOf`); past this the memo starts over. */
const MAX_SA_PODS_MEMO = 4096;

interface SaPod {
  pod: string;
  via: string;
  /** The link's end as the store had it when remembered (any change to it changes the store's stamp). */
  toMs: number;
  /** The pod's node in the service account's cluster (where its execs start). */
  key: string;
}

interface PodEntry extends SaPod {
  /** The key's latest version links the pod to this service account (else the key is only held for its place). */
  linked: boolean;
  /** Someone exec'd into the pod. */
  execd: boolean;
}

interface SaPods {
  cluster: string;
  stampTo: number;
  stampExec: number;
  /** Every pod, in index order: kept only when fewer than two are open. */
  all: SaPod[];
  /** Pods whose link never closed. */
  open: number;
  execd: SaPod[];
  /** Every key of the store's index of pod links to this service account, in its order. */
  entries: Map<string, PodEntry>;
  /** Keys the store changed since (see `EdgeStore.onTouch`). */
  pending: Set<string> | undefined;
}
const MAX_CHAIN_DEPTH = 6;
/** Pods whose last exec is remembered at once (`lastExec`); past this the memo starts over. */
const MAX_EXEC_MEMO = 4096;

/** Would `JSON.stringify` write these two values the same? (Plain JSON data compared in place, no string built.) */
export function sameJson(a: unknown, b: unknown): boolean {
  if (ownJson(a) || ownJson(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (typeof a === 'string' || typeof a === 'boolean') return a === b;
  if (typeof a === 'number' && Number.isFinite(a)) return typeof b === 'number' && a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      // In an array JSON writes undefined, functions and symbols as null.
      const x: unknown = a[i];
      const y: unknown = b[i];
      if (!sameJson(omitted(x) ? null : x, omitted(y) ? null : y)) return false;
    }
    return true;
  }
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    let i = 0;
    let j = 0;
    for (;;) {
      // Properties JSON leaves out (undefined, functions, symbols) are skipped on both sides.
      while (i < ka.length && omitted(a[ka[i]!])) i++;
      while (j < kb.length && omitted(b[kb[j]!])) j++;
      if (i === ka.length || j === kb.length) return i === ka.length && j === kb.length;
      if (ka[i] !== kb[j] || !sameJson(a[ka[i]!], b[kb[j]!])) return false;
      i++;
      j++;
    }
  }
  // null, non-finite numbers, Dates and anything else with its own JSON form: as JSON writes them.
  return JSON.stringify(a) === JSON.stringify(b);
}

/** An object JSON does not write as its own properties (a Date, anything with toJSON, a class instance). */
function ownJson(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isPlain(v);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** The stored version says what the draft says (same target, attributes equal as JSON). */
export function sameFact(e: Edge, f: FactDraft): boolean {
  return e.fact.to === f.to && sameJson(e.fact.attributes, f.attributes);
}

interface SessionKeys {
  sessionOf: string;
  wis: string;
  pis: string;
  assumedBy: string;
}

/**
 * The store keys `resolveAws` looks a session up under, built once per session ARN (the same sessions act
 * on event after event; a key built per lookup is a new string to flatten and hash each time). Bounded.
 */
let sessionKeyMemo = new Map<string, SessionKeys>();
function sessionKeys(session: string): SessionKeys {
  let k = sessionKeyMemo.get(session);
  if (k === undefined) {
    if (sessionKeyMemo.size >= 4096) sessionKeyMemo = new Map();
    k = { sessionOf: 'session_of|' + session, wis: 'wis|' + session, pis: 'pis|' + session, assumedBy: 'assumed_by|' + session };
    sessionKeyMemo.set(session, k);
  }
  return k;
}

function step(kind: string, from: string, to: string, via?: string): ChainStep {
  return via === undefined || via.startsWith('builtin') ? { kind, from, to } : { kind, from, to, via };
}

/** What an extraction context asks of the graph. */
interface ContextHost {
  apply(f: IdentityFact): boolean;
  clusterForIrsa(x: ExtractContext, issuer: string | undefined, account: string | undefined, roleArn: string | undefined, sa: string | undefined): string;
  clustersOf(account: string | undefined): string[];
  learnEgress(x: ExtractContext, cluster: string, ip: string | undefined, account: string | undefined, how: string): void;
  noteEksCluster(cluster: string, account: string): void;
}

/**
 * The context facts are extracted in, one per event. A class rather than an object of arrow
 * functions: under tsx (keepNames) every closure created per event also costs a defineProperty.
 */
class FactContext implements ExtractContext {
  readonly atMs: number;

  constructor(
    readonly store: EdgeStore,
    readonly config: IdentityGraphConfig,
    private readonly host: ContextHost,
    readonly provenance: string,
    readonly at: string,
    private readonly out: IdentityFact[],
  ) {
    this.atMs = timeMs(at, 0);
  }

  private emit(f: IdentityFact): void {
    if (this.host.apply(f)) this.out.push(f);
  }

  // Built field by field (no spread + delete): facts are hot and long-lived, keep them in fast mode.
  private full(d: FactDraft, op: 'assert' | 'retract' = 'assert'): IdentityFact {
    const f: IdentityFact = { kind: d.kind, key: d.key, op, from: d.from, to: d.to, attributes: d.attributes, provenance: this.provenance, valid_from: d.valid_from ?? this.at };
    if (d.account !== undefined) f.account = d.account;
    if (d.cluster !== undefined) f.cluster = d.cluster;
    if (d.group !== undefined) f.group = d.group;
    if (d.valid_to !== undefined) f.valid_to = d.valid_to;
    return f;
  }

  assert(d: FactDraft): void {
    const cur = this.store.at(d.key, this.atMs);
    if (cur !== undefined && sameFact(cur, d)) return;
    this.emit(this.full(d));
  }

  assertIfAbsent(d: FactDraft): void {
    if (this.store.latest(d.key) === undefined) this.emit(this.full(d));
  }

  retract(kind: IdentityFact['kind'], key: string, from: string, to: string, extra?: Partial<IdentityFact>): void {
    this.emit(this.full({ kind, key, from, to, attributes: {}, ...extra }, 'retract'));
  }

  replaceGroup(group: string, members: FactDraft[]): void {
    const keep = new Set(members.map((m) => m.key));
    for (const e of this.store.inGroup(group, this.atMs)) {
      if (!keep.has(e.fact.key)) this.emit(this.full({ kind: e.fact.kind, key: e.fact.key, from: e.fact.from, to: e.fact.to, cluster: e.fact.cluster, account: e.fact.account, group, attributes: {} }, 'retract'));
    }
    for (const m of members) this.assert(m);
  }

  clusterForIrsa(issuer: string | undefined, account: string | undefined, roleArn: string | undefined, sa: string | undefined): string {
    return this.host.clusterForIrsa(this, issuer, account, roleArn, sa);
  }

  clustersOf(account: string | undefined): string[] {
    return this.host.clustersOf(account);
  }

  learnEgress(cluster: string, ip: string | undefined, account: string | undefined, how: string): void {
    this.host.learnEgress(this, cluster, ip, account, how);
  }

  noteEksCluster(cluster: string, account: string): void {
    this.host.noteEksCluster(cluster, account);
  }
}

export class IdentityGraph {
  readonly config: IdentityGraphConfig;
  readonly store: EdgeStore;
  private readonly clusterAccounts = new Map<string, Set<string>>();
  /**
   * Accounts each cluster name is configured in (identity.clusters) or was named in by an EKS API call (CloudTrail
   * logs those in the cluster's own account). Nodes and facts are keyed by the cluster name only (review-platsec
   * H2): a name in two accounts is two clusters this graph cannot tell apart, so that is warned about, once per name.
   */
  private readonly eksAccounts = new Map<string, Set<string>>();
  /** Called with the warning text when a cluster name is first seen in a second account (default: a WARN log line). */
  onSameNameClusters: (text: string, cluster: string, accounts: string[]) => void = (text, cluster, accounts) => childLogger('identity').warn({ cluster, accounts }, text);
  private watermarkMs = -Infinity;
  private sincePrune = 0;
  private counters = { observed: 0, factsEmitted: 0, pruned: 0 };
  private readonly saPods = new Map<string, SaPods>();
  private readonly execMemo = new Map<string, { stamp: number; fromT: number; untilT: number; edge: Edge | undefined }>();

  constructor(options: IdentityGraphOptions = {}) {
    this.config = IdentityGraphConfig.parse(options);
    this.store = new EdgeStore({ maxVersionsPerKey: this.config.maxVersionsPerKey, retentionMs: this.config.retentionMs });
    this.store.onTouch = (to, key, dropped) => {
      const c = this.saPods.get(to);
      if (c === undefined) return;
      if (dropped) this.saPods.delete(to);
      else (c.pending ??= new Set()).add(key);
    };
    for (const c of this.config.clusters) {
      this.noteCluster(c.name, c.account);
      if (c.account !== undefined) this.noteEksCluster(c.name, c.account);
      if (c.oidcIssuer !== undefined) {
        this.applyFact({ kind: 'oidc_provider', op: 'assert', key: 'oidc|' + issuerOf(c.oidcIssuer), from: oidcKey(issuerOf(c.oidcIssuer)), to: clusterKey(c.name), cluster: c.name, account: c.account, attributes: {}, provenance: 'config', valid_from: EPOCH });
      }
    }
  }

  // ── facts in ────────────────────────────────────────────────────────────────────────────────────────────

  /** Applies one fact (from `observe`, a seed, or `seam.signals` on rebuild). Returns false when it changed nothing. */
  applyFact(f: IdentityFact): boolean {
    if (f.cluster !== undefined) this.noteCluster(f.cluster, f.account);
    return this.store.apply(f);
  }

  applyFacts(facts: Iterable<IdentityFact>): number {
    let n = 0;
    for (const f of facts) if (this.applyFact(f)) n++;
    return n;
  }

  private noteCluster(cluster: string, account: string | undefined): void {
    if (cluster === UNKNOWN_CLUSTER) return;
    let s = this.clusterAccounts.get(cluster);
    if (s === undefined) this.clusterAccounts.set(cluster, (s = new Set()));
    if (account !== undefined) s.add(account);
  }

  private noteEksCluster(cluster: string, account: string): void {
    let s = this.eksAccounts.get(cluster);
    if (s === undefined) this.eksAccounts.set(cluster, (s = new Set()));
    if (s.has(account)) return;
    s.add(account);
    if (s.size !== 2) return;
    const accounts = [...s].sort();
    this.onSameNameClusters(
      `cluster name ${cluster} is in accounts ${accounts.join(' and ')} (EKS API calls, identity.clusters): the identity graph keys clusters by name only, so it treats them as one cluster (access entries, service accounts, egress addresses mix: a DeleteAccessEntry in one account can erase the other's grant, credentials used from the other cluster's address raise no off-cluster alert). Run a separate Seam per account (on Kafka its own kafka.topicPrefix), or give the EKS clusters distinct names`,
      cluster,
      accounts,
    );
  }

  /** Cluster names configured in, or named by EKS API calls in, more than one account (review-platsec H2). */
  sameNameClusters(): { cluster: string; accounts: string[] }[] {
    return [...this.eksAccounts].filter(([, s]) => s.size > 1).map(([cluster, s]) => ({ cluster, accounts: [...s].sort() }));
  }

  /** The graph's side of an extraction context; bound once, so a context per event creates no closures. */
  private readonly host: ContextHost = {
    apply: (f) => this.applyFact(f),
    clusterForIrsa: (x, issuer, account, roleArn, sa) => this.clusterForIrsa(x, issuer, account, roleArn, sa),
    clustersOf: (account) => this.clustersOf(account),
    learnEgress: (x, cluster, ip, account, how) => this.learnEgress(x, cluster, ip, account, how),
    noteEksCluster: (cluster, account) => this.noteEksCluster(cluster, account),
  };

  private context(provenance: string, at: string, out: IdentityFact[]): ExtractContext {
    return new FactContext(this.store, this.config, this.host, provenance, at, out);
  }

  /** Derives facts from one event, applies them, and returns the ones that changed the graph. */
  observe(event: SeamEvent): IdentityFact[] {
    const out: IdentityFact[] = [];
    const t = isoMs(event['@timestamp']);
    if (Number.isNaN(t)) return out;
    this.counters.observed++;
    if (event.seam.cluster !== undefined) this.noteCluster(event.seam.cluster, event.seam.account);
    const x = this.context(event.seam.id, event['@timestamp'], out);
    switch (event.seam.source) {
      case 'cloudtrail':
        extractCloudTrail(event, x);
        break;
      case 'k8s_audit':
        extractAudit(event, x);
        break;
      case 'runtime':
        extractRuntime(event, x);
        break;
      default:
        break;
    }
    this.counters.factsEmitted += out.length;
    if (t > this.watermarkMs) this.watermarkMs = t;
    if (++this.sincePrune >= this.config.pruneEveryEvents) this.prune();
    return out;
  }

  /** Drops edges that closed more than `retentionMs` before the newest event time seen. */
  prune(nowMs: number = this.watermarkMs): number {
    this.sincePrune = 0;
    if (!Number.isFinite(nowMs)) return 0;
    const n = this.store.prune(nowMs);
    this.counters.pruned += n;
    return n;
  }

  private seed(opts: SeedOptions, run: (x: ExtractContext) => void): IdentityFact[] {
    const out: IdentityFact[] = [];
    run(this.context('seed:' + (opts.name ?? 'snapshot'), opts.at ?? EPOCH, out));
    this.counters.factsEmitted += out.length;
    return out;
  }

  /** `kubectl get configmap aws-auth -n kube-system -o yaml` (or -o json, or just the mapRoles/mapUsers data). */
  seedFromAwsAuth(yamlText: string, opts: SeedOptions = {}): IdentityFact[] {
    return this.seed({ name: 'aws-auth', ...opts }, (x) => seedAwsAuth(x, yamlText, opts.cluster ?? UNKNOWN_CLUSTER, opts.account));
  }

  /** `aws eks list-access-entries` / `describe-access-entry` / `list-associated-access-policies` output, alone or as an array. */
  seedFromAccessEntries(json: string | unknown, opts: SeedOptions = {}): IdentityFact[] {
    return this.seed({ name: 'access-entries', ...opts }, (x) => seedAccessEntries(x, json, opts.cluster));
  }

  /** `kubectl get clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,pods -A -o json`. */
  seedFromKubectl(json: string | unknown, opts: SeedOptions = {}): IdentityFact[] {
    return this.seed({ name: 'kubectl', ...opts }, (x) => seedKubectl(x, json, opts.cluster ?? UNKNOWN_CLUSTER, opts.account));
  }

  /** `aws eks describe-pod-identity-association` output, alone or as an array (`list-pod-identity-associations` names no role: no fact). */
  seedFromPodIdentity(json: string | unknown, opts: SeedOptions = {}): IdentityFact[] {
    return this.seed({ name: 'pod-identity', ...opts }, (x) => seedPodIdentity(x, json, opts.cluster, opts.account));
  }

  // ── learning helpers used by the extractors ─────────────────────────────────────────────────────────────

  clustersOf(account: string | undefined): string[] {
    const out: string[] = [];
    for (const [c, accts] of this.clusterAccounts) if (account === undefined || accts.size === 0 || accts.has(account)) out.push(c);
    return out.sort();
  }

  private clusterForIrsa(x: ExtractContext, issuer: string | undefined, account: string | undefined, roleArn: string | undefined, sa: string | undefined): string {
    if (issuer !== undefined) {
      const e = this.store.at('oidc|' + issuer, x.atMs) ?? this.store.latest('oidc|' + issuer);
      if (e !== undefined) return e.fact.cluster ?? UNKNOWN_CLUSTER;
    }
    let cluster: string | undefined;
    if (roleArn !== undefined && sa !== undefined) {
      const found = new Set<string>();
      const role = canonicalIamArn(roleArn);
      for (const e of [...this.store.incoming(role, 'irsa', x.atMs), ...this.store.incoming(role, 'pod_identity_association', x.atMs)]) {
        if (e.fact.cluster !== undefined && e.fact.from === saKey(e.fact.cluster, sa)) found.add(e.fact.cluster);
      }
      if (found.size === 1) cluster = [...found][0];
    }
    if (cluster === undefined) {
      const known = this.clustersOf(account);
      if (known.length === 1) cluster = known[0];
    }
    if (cluster === undefined) return UNKNOWN_CLUSTER;
    if (issuer !== undefined) x.assert({ kind: 'oidc_provider', key: 'oidc|' + issuer, from: oidcKey(issuer), to: clusterKey(cluster), cluster, account, attributes: { learned: true } });
    return cluster;
  }

  private learnEgress(x: ExtractContext, cluster: string, ip: string | undefined, account: string | undefined, how: string): void {
    if (ip === undefined || cluster === UNKNOWN_CLUSTER) return;
    const known = this.store.outgoing(clusterKey(cluster), 'egress_ip', x.atMs);
    const to = ipKey(ip);
    if (known.some((e) => e.fact.to === to)) return;
    const firstMs = known.reduce((m, e) => Math.min(m, e.fromMs), Infinity);
    if (known.length >= this.config.maxEgressPerCluster) return;
    if (Number.isFinite(firstMs) && x.atMs - firstMs > this.config.egressLearningMs) return;
    // Configured egress CIDRs replace learning. And a cluster seen reaching STS only from private
    // addresses (a VPC endpoint) has no public egress: a public caller of its tokens is outside it,
    // so it must not be learned as egress (that would hide a stolen web-identity token).
    if ((this.config.clusters.find((c) => c.name === cluster)?.egressCidrs.length ?? 0) > 0) return;
    if (!isPrivateIp(ip) && known.length > 0 && known.every((e) => isPrivateIp(e.fact.to.slice(3)))) return;
    x.assert({ kind: 'egress_ip', key: `egress_ip|${cluster}|${ip}`, from: clusterKey(cluster), to, cluster, account, attributes: { learned_from: how } });
  }

  // ── questions detections ask ─────────────────────────────────────────────────────────────────────────────

  /** Addresses the cluster is known to reach AWS from at `t` (learned; configured CIDRs are separate). */
  egressOf(cluster: string, t?: number): string[] {
    return this.store.outgoing(clusterKey(cluster), 'egress_ip', t).map((e) => e.fact.to.slice(3));
  }

  /** Clusters whose nodes authenticate with this IAM role. */
  nodeRoleClusters(roleArn: string, t?: number): string[] {
    return this.store.outgoing(canonicalIamArn(roleArn), 'node_role', t).map((e) => e.fact.cluster ?? UNKNOWN_CLUSTER);
  }

  /** Service accounts that can obtain this role's credentials (IRSA annotation, Pod Identity association or its target role, sessions seen, OIDC trust). */
  serviceAccountsOfRole(roleArn: string, t?: number): { cluster: string; serviceAccount: string; via: string; provenance: string }[] {
    const role = canonicalIamArn(roleArn);
    const out: { cluster: string; serviceAccount: string; via: string; provenance: string }[] = [];
    for (const e of [...this.store.incoming(role, 'irsa', t), ...this.store.incoming(role, 'pod_identity_association', t), ...this.store.incoming(role, 'pod_identity_target_role', t)]) {
      out.push({ cluster: e.fact.cluster ?? UNKNOWN_CLUSTER, serviceAccount: e.fact.from.replace(/^k8s:[^:]*:sa:/, ''), via: e.fact.kind, provenance: e.fact.provenance });
    }
    for (const e of this.store.outgoing(role, 'role_trust', t)) {
      const issuer = e.fact.to.slice(5);
      const c = this.store.latest('oidc|' + issuer)?.fact.cluster;
      const subs = Array.isArray(e.fact.attributes.subjects) ? (e.fact.attributes.subjects as string[]) : [];
      for (const s of subs.length === 0 ? ['*'] : subs) out.push({ cluster: c ?? UNKNOWN_CLUSTER, serviceAccount: serviceAccountOf(s) ?? s, via: 'role_trust', provenance: e.fact.provenance });
    }
    for (const e of this.store.ofKind('web_identity_session', t)) {
      if (e.fact.attributes.role === role) out.push({ cluster: e.fact.cluster ?? UNKNOWN_CLUSTER, serviceAccount: String(e.fact.attributes.service_account), via: 'web_identity_session', provenance: e.fact.provenance });
    }
    return out;
  }

  /** Trust-policy federations of a role (OIDC issuer + allowed subjects) valid at `t`. */
  roleTrusts(roleArn: string, t?: number): { issuer: string; subjects: string[]; wildcard: boolean }[] {
    return this.store.outgoing(canonicalIamArn(roleArn), 'role_trust', t).map((e) => ({
      issuer: e.fact.to.slice(5),
      subjects: (e.fact.attributes.subjects as string[] | undefined) ?? [],
      wildcard: e.fact.attributes.wildcard === true,
    }));
  }

  /** OIDC issuers known to belong to some cluster. */
  knownIssuers(): Map<string, string> {
    const m = new Map<string, string>();
    for (const e of this.store.ofKind('oidc_provider')) m.set(e.fact.from.slice(5), e.fact.cluster ?? UNKNOWN_CLUSTER);
    return m;
  }

  authenticationMode(cluster: string, t?: number): string | undefined {
    const e = this.store.at('cluster_config|' + cluster, t) ?? (t === undefined ? undefined : this.store.latest('cluster_config|' + cluster));
    const m = e?.fact.attributes.authenticationMode;
    return typeof m === 'string' ? m : undefined;
  }

  /** IAM principals whose mapping (aws-auth or access entry) puts them in `group` of `cluster`. */
  principalsInGroup(cluster: string, group: string, t?: number): { principal: string; via: Edge }[] {
    const out: { principal: string; via: Edge }[] = [];
    for (const kind of ['aws_auth_mapping', 'access_entry'] as const) {
      for (const e of this.store.ofKind(kind, t)) {
        if (e.fact.cluster !== cluster) continue;
        const gs = e.fact.attributes.groups;
        if (Array.isArray(gs) && gs.includes(group)) out.push({ principal: e.fact.from, via: e });
      }
    }
    return out;
  }

  // ── resolution ───────────────────────────────────────────────────────────────────────────────────────────

  /** "Who is this, really?" for one event, at its own time. */
  resolve(event: SeamEvent): Resolution {
    const p = event.seam.principal;
    const chain: ChainStep[] = [];
    if (p === undefined) return { principal: undefined, chain };
    const t = isoMs(event['@timestamp']);
    const principal: Principal = { ...p };
    const r: Resolution = { principal, chain };
    if (event.seam.cluster !== undefined) r.cluster = event.seam.cluster;
    const cluster = event.seam.cluster ?? UNKNOWN_CLUSTER;
    switch (event.seam.source) {
      case 'cloudtrail':
        this.resolveAws(r, principal.arn ?? principal.id, principal.access_key_id, t, 0);
        // A service-account token exchanged for a role (AssumeRoleWithWebIdentity) is the service account
        // acting: on to its pod and the exec behind it, so a token read in an exec and exchanged elsewhere
        // is the exec'ing person's (the cluster is the one the exchange's session was issued for).
        if (chain.length === 0 && principal.service_account !== undefined) {
          const issued = (event.responseElements as { assumedRoleUser?: { arn?: unknown } } | undefined)?.assumedRoleUser?.arn;
          const wis = typeof issued === 'string' ? this.store.at('wis|' + issued, t) : undefined;
          const c = wis?.fact.cluster ?? event.seam.cluster;
          if (c !== undefined) {
            r.cluster ??= c;
            this.resolveServiceAccount(r, c, principal.service_account, principal.pod, t, 0);
          }
        }
        break;
      case 'guardduty':
        if (principal.k8s_user !== undefined) {
          if (principal.arn === undefined && isAssumedRoleArn(principal.k8s_user)) principal.arn = principal.k8s_user;
          this.resolveK8s(r, cluster, t);
        } else this.resolveAws(r, principal.arn ?? principal.id, principal.access_key_id, t, 0);
        break;
      case 'k8s_audit':
        this.resolveK8s(r, cluster, t);
        break;
      case 'runtime':
        if (principal.service_account !== undefined) this.resolveServiceAccount(r, cluster, principal.service_account, principal.pod, t, 0);
        break;
    }
    return r;
  }

  /** From an access key / session ARN to the role, and on to the workload and the person behind it. */
  private resolveAws(r: Resolution, arnOrId: string, key: string | undefined, t: number, depth: number): void {
    if (depth > MAX_CHAIN_DEPTH) return;
    let session = isAssumedRoleArn(arnOrId) ? arnOrId : undefined;
    if (key !== undefined) {
      const cred = this.store.at('credential|' + key, t);
      if (cred !== undefined) {
        r.chain.push(step('credential', key, cred.fact.to, cred.fact.provenance));
        session ??= cred.fact.to;
        if (!isAssumedRoleArn(cred.fact.to)) return;
      }
    }
    if (session === undefined) return;
    const keys = sessionKeys(session);
    const of = this.store.at(keys.sessionOf, t);
    const role = of?.fact.to ?? roleOfSession(session);
    if (of !== undefined) r.chain.push(step('session_of', session, of.fact.to, of.fact.provenance));
    if (role !== undefined) {
      for (const e of this.store.outgoing(role, 'node_role', t)) {
        r.chain.push(step('node_role', role, e.fact.to, e.fact.provenance));
        r.cluster ??= e.fact.cluster;
        if (depth === 0 && r.principal !== undefined) r.principal.type = 'node';
      }
    }
    const wis = this.store.at(keys.wis, t);
    const pis = this.store.at(keys.pis, t);
    const ws = wis ?? pis;
    if (ws !== undefined) {
      const sa = String(ws.fact.attributes.service_account);
      const cluster = ws.fact.cluster ?? UNKNOWN_CLUSTER;
      const via = ws.fact.attributes.via_session;
      if (typeof via === 'string') {
        // A Pod Identity target role's session: EKS assumed it with the association role's session (SA → role → target role).
        r.chain.push(step('assumed_by', session, via, ws.fact.provenance));
        const viaRole = ws.fact.attributes.via_role;
        if (typeof viaRole === 'string') r.chain.push(step('session_of', via, viaRole, ws.fact.provenance));
        r.chain.push(step(ws.fact.kind, via, ws.fact.to, ws.fact.provenance));
      } else r.chain.push(step(ws.fact.kind, session, ws.fact.to, ws.fact.provenance));
      r.cluster = cluster;
      if (depth === 0 && r.principal !== undefined) {
        r.principal.service_account = sa;
        r.principal.k8s_user = usernameOfSa(sa);
      }
      const pod = typeof ws.fact.attributes.pod === 'string' ? ws.fact.attributes.pod : undefined;
      this.resolveServiceAccount(r, cluster, sa, pod, t, depth);
      return;
    }
    const by = this.store.at(keys.assumedBy, t);
    if (by !== undefined) {
      r.chain.push(step('assumed_by', session, by.fact.to, by.fact.provenance));
      r.origin = { id: by.fact.to, type: isAssumedRoleArn(by.fact.to) ? 'assumed_role' : by.fact.to.includes(':user/') ? 'iam_user' : 'unknown', arn: by.fact.to };
      if (isAssumedRoleArn(by.fact.to)) this.resolveAws(r, by.fact.to, undefined, t, depth + 1);
    }
  }

  /**
   * The pods of a service account (its pod_service_account keys whose latest version points at it), in index
   * order, with those someone exec'd into apart. Remembered per service account and brought up to date from
   * the keys the store says changed since (`onTouch`): a busy service account has hundreds of pods and most of
   * its events ask this, so a pod added or gone costs one key's update, not a walk over every pod. Only a
   * change to the set of exec'd pods anywhere walks the remembered pods (no store look-up per pod).
   */
  private podsOf(cluster: string, sak: string): SaPods {
    const stampTo = this.store.stampTo(sak);
    const stampExec = this.store.stampFromSet('exec');
    const hit = this.saPods.get(sak);
    if (hit !== undefined && hit.cluster === cluster) {
      if (hit.stampTo === stampTo && hit.stampExec === stampExec) return hit;
      if (this.updatePods(hit, sak, stampExec)) {
        hit.stampTo = stampTo;
        hit.stampExec = stampExec;
        return hit;
      }
    }
    const c: SaPods = { cluster, stampTo, stampExec, all: [], open: 0, execd: [], entries: new Map(), pending: undefined };
    const keys = this.store.incomingKeys(sak, 'pod_service_account');
    if (keys !== undefined) for (const k of keys) c.entries.set(k, this.podEntry(cluster, sak, k, undefined));
    for (const p of c.entries.values()) {
      if (p.linked && p.toMs === Infinity) c.open++;
      if (p.execd) c.execd.push(p);
    }
    if (c.open < 2) for (const p of c.entries.values()) if (p.linked) c.all.push(p);
    return this.rememberPods(sak, c);
  }

  /** One pod_service_account key as `podsOf` sees it (`into`: the remembered entry to update in place). */
  private podEntry(cluster: string, sak: string, k: string, into: PodEntry | undefined): PodEntry {
    const e = this.store.latest(k);
    const p = into ?? { pod: '', via: '', toMs: 0, key: '', linked: false, execd: false };
    if (e === undefined || e.fact.kind !== 'pod_service_account' || e.fact.to !== sak) {
      p.linked = false;
      p.execd = false;
      return p;
    }
    const prefix = podKey(cluster, '');
    const from = e.fact.from;
    // The pod's node in this cluster is its own key when it lies in this cluster (the usual case).
    const same = !cluster.includes(':') && from.startsWith(prefix);
    p.pod = same ? from.slice(prefix.length) : from.replace(/^k8s:[^:]*:pod:/, '');
    p.via = e.fact.provenance;
    p.toMs = e.toMs;
    p.key = same ? from : podKey(cluster, p.pod);
    p.linked = true;
    p.execd = this.store.hasOutgoing(p.key, 'exec');
    return p;
  }

  /** Applies the keys that changed since `c` was remembered; false when only a rebuild can tell. */
  private updatePods(c: SaPods, sak: string, stampExec: number): boolean {
    const keys = this.store.incomingKeys(sak, 'pod_service_account');
    if (keys === undefined) return false;
    let execdOrder = false;
    if (c.pending !== undefined) {
      for (const k of c.pending) {
        const had = c.entries.get(k);
        if (had === undefined) {
          // A key new to the index goes last, as in the store's index (keys leave it only on prune, which forgets `c`).
          if (!keys.has(k)) continue;
          const p = this.podEntry(c.cluster, sak, k, undefined);
          c.entries.set(k, p);
          if (p.linked && p.toMs === Infinity) c.open++;
          if (p.execd) c.execd.push(p);
          continue;
        }
        const wasOpen = had.linked && had.toMs === Infinity;
        const wasExecd = had.execd;
        this.podEntry(c.cluster, sak, k, had);
        if (wasOpen) c.open--;
        if (had.linked && had.toMs === Infinity) c.open++;
        if (wasExecd !== had.execd) execdOrder = true;
      }
      c.pending = undefined;
    }
    if (c.entries.size !== keys.size) return false;
    if (stampExec !== c.stampExec) {
      for (const p of c.entries.values()) {
        const x = p.linked && this.store.hasOutgoing(p.key, 'exec');
        if (x !== p.execd) {
          p.execd = x;
          execdOrder = true;
        }
      }
    }
    if (execdOrder) {
      c.execd = [];
      for (const p of c.entries.values()) if (p.execd) c.execd.push(p);
    }
    c.all = [];
    if (c.open < 2) for (const p of c.entries.values()) if (p.linked) c.all.push(p);
    return true;
  }

  private rememberPods(sak: string, c: SaPods): SaPods {
    if (this.saPods.size >= MAX_SA_PODS_MEMO) this.saPods.clear();
    this.saPods.set(sak, c);
    return c;
  }

  /**
   * The exec into the pod node `key` valid at `t` that started last (the first such in the store's index order
   * when several started at once), or undefined. Remembered per pod with the store's stamp for the pod's execs
   * and the span of time its answer holds (no exec of the pod starts or ends in it): a busy service account's
   * every event asks this of each exec'd pod, and the pod's execs change rarely.
   */
  private lastExec(key: string, t: number): Edge | undefined {
    const stamp = this.store.stampFrom(key, 'exec');
    const m = this.execMemo.get(key);
    if (m !== undefined && m.stamp === stamp && t >= m.fromT && t < m.untilT) return m.edge;
    let last: Edge | undefined;
    for (const e of this.store.outgoing(key, 'exec', t)) {
      if (e.fromMs <= t && (last === undefined || e.fromMs > last.fromMs)) last = e;
    }
    if (this.execMemo.size >= MAX_EXEC_MEMO) this.execMemo.clear();
    this.execMemo.set(key, { stamp, fromT: t, untilT: this.store.outgoingBoundAfter(key, 'exec', t), edge: last });
    return last;
  }

  /** Service account → pod → the last exec into one of its pods within the exec link window. */
  private resolveServiceAccount(r: Resolution, cluster: string, sa: string, pod: string | undefined, t: number, depth: number): void {
    const sak = saKey(cluster, sa);
    // The pods that count: the one named, else the service account's pods not gone before the window, in
    // index order. Only pods someone exec'd into can give `best`; the rest matter only for "exactly one pod".
    let nPods = 0;
    let firstPod: { pod: string; via?: string } | undefined;
    let best: { edge: Edge; pod: string; via?: string } | undefined;
    const execsOf = (p: string, via: string | undefined, key: string): void => {
      const e = this.lastExec(key, t);
      if (e !== undefined && (best === undefined || e.fromMs > best.edge.fromMs)) best = { edge: e, pod: p, ...(via === undefined ? {} : { via }) };
    };
    if (pod !== undefined) {
      nPods = 1;
      firstPod = { pod, via: this.store.latest(`pod|${cluster}|${pod}`)?.fact.provenance };
      execsOf(pod, firstPod.via, podKey(cluster, pod));
    } else {
      const c = this.podsOf(cluster, sak);
      const since = t - this.config.execLinkWindowMs;
      // A pod's service account never changes, so a link learned after `t` still holds, unless the pod was gone by then.
      if (c.open >= 2) nPods = 2;
      else {
        for (const p of c.all) {
          if (!(p.toMs > since)) continue;
          if (++nPods === 1) firstPod = { pod: p.pod, via: p.via };
        }
      }
      for (const p of c.execd) if (p.toMs > since) execsOf(p.pod, p.via, p.key);
    }
    if (best === undefined) {
      if (nPods === 1 && firstPod !== undefined && depth === 0 && r.principal !== undefined) {
        r.principal.pod = firstPod.pod;
        r.chain.push(step('pod_service_account', sak, podKey(cluster, firstPod.pod), firstPod.via));
      }
      return;
    }
    if (depth === 0 && r.principal !== undefined) r.principal.pod = best.pod;
    const pk = podKey(cluster, best.pod);
    r.chain.push(step('pod_service_account', sak, pk, best.via));
    const a = best.edge.fact.attributes;
    r.chain.push(step('exec', pk, best.edge.fact.to, best.edge.fact.provenance));
    const username = String(a.username);
    const arn = typeof a.arn === 'string' ? a.arn : undefined;
    const origin: Principal = { id: arn ?? username, type: arn !== undefined ? 'assumed_role' : serviceAccountOf(username) !== undefined ? 'service_account' : 'k8s_user', k8s_user: username };
    if (arn !== undefined) origin.arn = arn;
    if (typeof a.session === 'string') origin.session = a.session;
    if (typeof a.accessKeyId === 'string') origin.access_key_id = a.accessKeyId;
    r.origin = origin;
    if (arn !== undefined) {
      r.chain.push(step('authenticates_as', best.edge.fact.to, arn, best.edge.fact.provenance));
      const role = typeof a.canonicalArn === 'string' ? canonicalIamArn(a.canonicalArn) : roleOfSession(arn);
      if (role !== undefined) r.chain.push(step('session_of', arn, role, best.edge.fact.provenance));
    }
  }

  /** A Kubernetes user: service account → pod (and exec), or IAM session → mapping that made it this user. */
  private resolveK8s(r: Resolution, cluster: string, t: number): void {
    const p = r.principal!;
    if (p.service_account !== undefined) {
      this.resolveServiceAccount(r, cluster, p.service_account, p.pod, t, 0);
      return;
    }
    const username = p.k8s_user ?? p.id;
    const arn = p.arn;
    if (arn === undefined) return;
    const role = roleOfSession(arn) ?? canonicalIamArn(arn);
    const uk = userKey(cluster, username);
    r.chain.push(step('authenticates_as', uk, arn));
    const mapping = this.mappingOf(role, cluster, t);
    if (mapping !== undefined) {
      r.chain.push(step(mapping.fact.kind, role, mapping.fact.to, mapping.fact.provenance));
      const gs = mapping.fact.attributes.groups;
      if (Array.isArray(gs) && gs.length > 0) {
        const have = new Set(p.k8s_groups ?? []);
        for (const g of gs) if (typeof g === 'string') have.add(g);
        p.k8s_groups = [...have];
      }
    }
    r.origin = { id: arn, type: isAssumedRoleArn(arn) ? 'assumed_role' : arn.includes(':user/') ? 'iam_user' : 'iam_role', arn };
    const sn = sessionNameOf(arn);
    if (sn !== undefined) r.origin.session = sn;
    if (p.access_key_id !== undefined) r.origin.access_key_id = p.access_key_id;
    // The IAM session may itself be a workload's (IRSA credentials used against the Kubernetes API).
    const before = r.chain.length;
    const sub: Resolution = { principal: undefined, chain: r.chain };
    this.resolveAws(sub, arn, p.access_key_id, t, 1);
    if (sub.origin !== undefined) r.origin = sub.origin;
    if (r.chain.length === before && role !== arn) r.chain.push(step('session_of', arn, role));
  }

  /** The mapping the authenticator would use for `arn` in `cluster` at `t`, honouring the authentication mode. */
  mappingOf(arn: string, cluster: string, t?: number): Edge | undefined {
    const principal = canonicalIamArn(roleOfSession(arn) ?? arn);
    const mode = this.authenticationMode(cluster, t);
    const entry = mode === 'CONFIG_MAP' ? undefined : this.store.at(`access_entry|${cluster}|${principal}`, t);
    if (entry !== undefined) return entry;
    return mode === 'API' ? undefined : this.store.at(`aws_auth|${cluster}|${principal}`, t);
  }

  // ── permissions ──────────────────────────────────────────────────────────────────────────────────────────

  /**
   * What a principal can do in a cluster: an IAM ARN (role, user or session), a Kubernetes user name, or a
   * service account (`ns/name` or `system:serviceaccount:ns:name`). Follows aws-auth and access entries
   * (honouring the cluster's authentication mode), access policies, `system:masters`, and RBAC bindings to
   * the user, its groups and `system:authenticated`.
   */
  effectivePermissions(principalKey: string, cluster: string, at?: string | number): EffectivePermissions {
    const t = at === undefined ? undefined : typeof at === 'number' ? at : timeMs(at, Date.now());
    const out: EffectivePermissions = { principal: principalKey, cluster, usernames: [], groups: [], rules: [], isClusterAdmin: false, unknownGrants: [], possiblyClusterAdmin: false };
    const subjects: { key: string; via: ChainStep[] }[] = [];
    const addGroups = (gs: unknown, via: ChainStep[]): void => {
      if (!Array.isArray(gs)) return;
      for (const g of gs) {
        if (typeof g !== 'string') continue;
        if (!out.groups.includes(g)) out.groups.push(g);
        subjects.push({ key: groupKey(cluster, g), via: [...via, step('member_of', via[via.length - 1]?.to ?? principalKey, groupKey(cluster, g))] });
        if (g === 'system:masters') {
          out.isClusterAdmin = true;
          const v = [...via, step('member_of', via[via.length - 1]?.to ?? principalKey, groupKey(cluster, g))];
          out.adminVia ??= v;
          out.rules.push({ verbs: ['*'], resources: ['*'], apiGroups: ['*'], namespaces: ['*'], via: v });
        }
      }
    };
    const sa = principalKey.startsWith('system:serviceaccount:') ? serviceAccountOf(principalKey) : /^[a-z0-9.-]+\/[a-z0-9.-]+$/i.test(principalKey) && !principalKey.startsWith('arn:') ? principalKey : undefined;
    if (principalKey.startsWith('arn:')) {
      const session = isAssumedRoleArn(principalKey) ? sessionNameOf(principalKey) : undefined;
      const principal = canonicalIamArn(roleOfSession(principalKey) ?? principalKey);
      const mapping = this.mappingOf(principal, cluster, t);
      let via: ChainStep[] = [];
      if (mapping !== undefined) {
        const tmpl = String(mapping.fact.attributes.username);
        const username = expandTemplate(tmpl, { ...(session === undefined ? {} : { sessionName: session }), ...(accountOfArn(principal) === undefined ? {} : { accountId: accountOfArn(principal)! }) });
        out.usernames.push(username);
        via = [step(mapping.fact.kind, principal, userKey(cluster, username), mapping.fact.provenance)];
        subjects.push({ key: userKey(cluster, username), via });
        addGroups(mapping.fact.attributes.groups, via);
      } else {
        // No mapping known: fall back on what the authenticator was seen to report.
        for (const e of this.store.outgoing(principal, 'authenticates_as', t)) {
          if (e.fact.cluster !== cluster) continue;
          const v = [step('authenticates_as', principal, e.fact.to, e.fact.provenance)];
          out.usernames.push(String(e.fact.attributes.username));
          subjects.push({ key: e.fact.to, via: v });
          addGroups((e.fact.attributes.groups as string[]).filter((g) => g !== 'system:authenticated'), v);
          via = v;
        }
      }
      if (this.authenticationMode(cluster, t) !== 'CONFIG_MAP') {
        for (const e of this.store.outgoing(principal, 'access_policy', t)) {
          if (e.fact.cluster !== cluster) continue;
          const name = String(e.fact.attributes.policy);
          const pol = accessPolicyMeaning(name);
          const scopeNs = e.fact.attributes.scope === 'namespace' ? ((e.fact.attributes.namespaces as string[]) ?? []) : ['*'];
          const v = [step('access_policy', principal, e.fact.to, e.fact.provenance)];
          if (pol === undefined) {
            // Never dropped: a policy Seam does not know may grant anything, cluster-admin included.
            const u: UnknownGrant = { policy: name, namespaces: scopeNs, reason: unknownPolicyReason(name), via: v };
            if (typeof e.fact.attributes.policyArn === 'string') u.policyArn = e.fact.attributes.policyArn;
            out.unknownGrants.push(u);
            continue;
          }
          for (const rule of pol.rules) out.rules.push(toPermission(rule, scopeNs, v, pol.basis === 'description' ? 'description' : undefined));
          if (pol.clusterAdmin && scopeNs.includes('*')) {
            out.isClusterAdmin = true;
            out.adminVia ??= v;
          }
        }
      }
      if (out.usernames.length > 0 || out.rules.length > 0 || out.unknownGrants.length > 0) addGroups(['system:authenticated'], via);
    } else if (sa !== undefined) {
      const ns = sa.slice(0, sa.indexOf('/'));
      out.usernames.push(usernameOfSa(sa));
      const via = [step('service_account', usernameOfSa(sa), saKey(cluster, sa))];
      subjects.push({ key: saKey(cluster, sa), via });
      addGroups(['system:serviceaccounts', 'system:serviceaccounts:' + ns, 'system:authenticated'], via);
    } else {
      out.usernames.push(principalKey);
      const via: ChainStep[] = [];
      subjects.push({ key: userKey(cluster, principalKey), via });
      for (const e of this.store.incoming(userKey(cluster, principalKey), undefined, t)) {
        if (e.fact.kind === 'aws_auth_mapping' || e.fact.kind === 'access_entry' || e.fact.kind === 'authenticates_as') {
          addGroups((e.fact.attributes.groups as string[]).filter((g) => g !== 'system:authenticated'), [step(e.fact.kind, e.fact.from, e.fact.to, e.fact.provenance)]);
        }
      }
      addGroups(['system:authenticated'], via);
    }
    // Bindings that name a templated user (rare) are matched by template.
    const templated = out.usernames.filter((u) => u.includes('{{'));
    const seen = new Set<string>();
    for (const s of subjects) this.bindingsOf(s.key, s.via, cluster, t, out, seen);
    if (templated.length > 0) {
      for (const e of this.store.ofKind('rbac_binding', t)) {
        const m = /^k8s:[^:]*:user:(.*)$/.exec(e.fact.from);
        if (e.fact.cluster === cluster && m !== null && templated.some((u) => templateMatches(u, m[1]!))) this.bindingsOf(e.fact.from, [], cluster, t, out, seen);
      }
    }
    out.possiblyClusterAdmin = !out.isClusterAdmin && out.unknownGrants.some((u) => u.namespaces.includes('*'));
    return out;
  }

  private bindingsOf(subject: string, via: ChainStep[], cluster: string, t: number | undefined, out: EffectivePermissions, seen: Set<string>): void {
    for (const b of this.store.outgoing(subject, 'rbac_binding', t)) {
      if (seen.has(b.fact.key)) continue;
      seen.add(b.fact.key);
      const ns = typeof b.fact.attributes.namespace === 'string' ? [b.fact.attributes.namespace] : ['*'];
      const v = [...via, step('rbac_binding', subject, b.fact.to, b.fact.provenance)];
      for (const rule of this.rulesOf(b.fact.to, cluster, t)) {
        out.rules.push(toPermission(rule, ns, v));
        if (isWildcardRule(rule) && ns.includes('*')) {
          out.isClusterAdmin = true;
          out.adminVia ??= v;
        }
      }
    }
  }

  /** Rules of a Role/ClusterRole key: from facts, else the built-in default ClusterRoles. */
  rulesOf(roleKey: string, cluster: string, t?: number): RbacRule[] {
    const e = this.store.at('rbac_role|' + roleKey, t) ?? (t === undefined ? undefined : this.store.latest('rbac_role|' + roleKey));
    if (e !== undefined && e.toMs === Infinity) return (e.fact.attributes.rules as RbacRule[]) ?? [];
    const m = /^k8s:[^:]*:clusterrole:(.*)$/.exec(roleKey);
    if (m !== null && roleKey === rbacRoleKey(cluster, 'ClusterRole', m[1]!)) return BUILTIN_CLUSTER_ROLES[m[1]!] ?? [];
    return e === undefined ? [] : ((e.fact.attributes.rules as RbacRule[]) ?? []);
  }

  // ── out ──────────────────────────────────────────────────────────────────────────────────────────────────

  /** Every stored version as a fact, plus a retraction for each explicitly closed one: replaying them rebuilds the graph. */
  facts(): IdentityFact[] {
    const out: IdentityFact[] = [];
    for (const e of this.store.all()) {
      out.push(e.fact);
      if (e.closedBy !== undefined && Number.isFinite(e.toMs) && !this.store.history(e.fact.key).some((n) => n.fromMs === e.toMs && n !== e)) {
        const r: IdentityFact = { kind: e.fact.kind, key: e.fact.key, op: 'retract', from: e.fact.from, to: e.fact.to, attributes: {}, provenance: e.closedBy, valid_from: new Date(e.toMs).toISOString() };
        if (e.fact.cluster !== undefined) r.cluster = e.fact.cluster;
        if (e.fact.account !== undefined) r.account = e.fact.account;
        out.push(r);
      }
    }
    return out.sort((a, b) => Date.parse(a.valid_from) - Date.parse(b.valid_from));
  }

  /** Documents for OpenSearch `seam-identity`: one per edge version, id stable across rebuilds. */
  toIdentityDocs(): IdentityDoc[] {
    const out: IdentityDoc[] = [];
    for (const e of this.store.all()) {
      const f = e.fact;
      const doc: IdentityDoc = {
        id: createHash('sha256').update(f.key + '\n' + f.valid_from).digest('hex').slice(0, 32),
        kind: f.kind,
        from: f.from,
        to: f.to,
        valid_from: f.valid_from,
        provenance: f.provenance,
      };
      if (f.cluster !== undefined) doc.cluster = f.cluster;
      if (f.account !== undefined) doc.account = f.account;
      if (Number.isFinite(e.toMs)) doc.valid_to = new Date(e.toMs).toISOString();
      out.push(doc);
    }
    return out;
  }

  stats(): GraphStats {
    const s: GraphStats = { keys: this.store.keyCount, versions: this.store.versionCount, evicted: this.store.evicted, ...this.counters };
    if (Number.isFinite(this.watermarkMs)) s.watermark = new Date(this.watermarkMs).toISOString();
    return s;
  }
}

function toPermission(rule: RbacRule, namespaces: string[], via: ChainStep[], basis?: 'description'): PermissionRule {
  const p: PermissionRule = { verbs: rule.verbs, resources: rule.resources, apiGroups: rule.apiGroups, namespaces, via };
  if (rule.nonResourceURLs !== undefined) p.nonResourceURLs = rule.nonResourceURLs;
  if (rule.resourceNames !== undefined) p.resourceNames = rule.resourceNames;
  if (basis !== undefined) p.basis = basis;
  return p;
}

