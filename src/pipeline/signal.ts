import type { SeamEvent } from '../core/envelope.ts';

/**
 * What travels on `seam.signals` (ADR 0005): the normalized event, unannotated, with the ids of the
 * Sigma rules stage 1 matched and why it was forwarded. The correlate role re-runs the whole detect
 * stage on it (identity graph first, then Sigma on the annotated event), so `rules` is a record of
 * the stateless match, not an input the correlate role trusts blindly.
 */
export interface Signal {
  v: 1;
  /** Ids of the Sigma rules the event matched in stage 1 (before identity annotation). */
  rules: string[];
  /** Why stage 1 forwarded it: `rule` (a Sigma match) and/or `identity` (the identity graph or a native detection can use it). */
  why: ('rule' | 'identity')[];
  event: SeamEvent;
}

export function encodeSignal(s: Signal): Buffer {
  return Buffer.from(JSON.stringify(s));
}

/** The same bytes as `encodeSignal`, around an event already serialized (stage 1 has it for seam.events). */
export function encodeSignalWithEventJson(rules: string[], why: Signal['why'], eventJson: string): Buffer {
  return Buffer.from(`{"v":1,"rules":${JSON.stringify(rules)},"why":${JSON.stringify(why)},"event":${eventJson}}`);
}

export function decodeSignal(value: Buffer): Signal | undefined {
  try {
    const s = JSON.parse(value.toString('utf8')) as Partial<Signal>;
    if (s.v !== 1 || s.event === undefined || typeof s.event !== 'object' || s.event === null) return undefined;
    return s as Signal;
  } catch {
    return undefined;
  }
}

/** Signals are keyed by AWS account: all cross-plane state for one account lives in one partition. */
export function signalKey(e: SeamEvent): string {
  return e.seam.account ?? e.seam.cluster ?? 'unknown';
}

const READS = new Set(['get', 'list', 'watch']);

/** Kubernetes users whose reads are the bulk of an audit log and tell the graph nothing new after the first. */
function isSystemReader(username: string): boolean {
  return (
    username.startsWith('system:node:') ||
    username.startsWith('system:kube-') ||
    username === 'system:apiserver' ||
    username.startsWith('eks:') ||
    username.startsWith('system:serviceaccount:kube-system:')
  );
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function first(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/**
 * The cheap, stateless-but-for-a-memo predicate of stage 1: could the identity graph or a native
 * detection use this event? CloudTrail, GuardDuty and runtime events always (workload and node
 * credentials can sign any CloudTrail call; runtime events bind pods to service accounts; the
 * GuardDuty incident joins all activity of a principal). Audit events always, except reads
 * (get/list/watch) by system components (kubelets, controllers, EKS, kube-system service accounts),
 * which are most of an audit log: of those, only the first per (cluster, user, pod) in
 * `memoTtlMs` is forwarded, which is what the graph needs to learn node roles and pod bindings.
 */
export class IdentityRelevance {
  private readonly seen = new Map<string, number>();

  constructor(private readonly opts: { memoTtlMs?: number; maxMemo?: number } = {}) {}

  test(e: SeamEvent): boolean {
    if (e.seam.source !== 'k8s_audit') return true;
    const verb = typeof e.verb === 'string' ? e.verb : '';
    if (!READS.has(verb)) return true;
    const ref = obj(e.objectRef);
    const sub = ref?.subresource;
    if (sub === 'exec' || sub === 'attach') return true;
    const user = obj(e.user);
    const username = typeof user?.username === 'string' ? user.username : '';
    if (!isSystemReader(username)) return true;
    const extra = obj(user?.extra);
    const key = `${e.seam.cluster ?? ''}|${username}|${first(extra?.canonicalArn) ?? ''}|${first(extra?.['authentication.kubernetes.io/pod-name']) ?? ''}`;
    const t = Date.parse(e['@timestamp']);
    const last = this.seen.get(key);
    const ttl = this.opts.memoTtlMs ?? 10 * 60_000;
    if (last !== undefined && Number.isFinite(t) && t >= last && t - last < ttl) return false;
    if (this.seen.size >= (this.opts.maxMemo ?? 100_000)) this.seen.clear();
    this.seen.set(key, Number.isFinite(t) ? t : 0);
    return true;
  }
}
