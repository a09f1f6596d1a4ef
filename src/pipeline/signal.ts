import type { SeamEvent } from '../core/envelope.ts';
import { boundedLru, type Lru } from '../core/lru.ts';
import { first, obj, str } from '../core/values.ts';
import { arnAccount } from '../core/normalize/util.ts';
import { ByteRun } from './byte-run.ts';
import { EARLY_HINT_HEADER } from './early.ts';
import { writeEventJson, type EventJson } from './event-json.ts';

/**
 * What travels on `seam.signals` (ADR 0005): normalized events, unannotated, each with the ids of
 * the Sigma rules stage 1 matched and why it was forwarded. The correlate role re-runs the whole
 * detect stage on each (identity graph first, then Sigma on the annotated event), so `rules` is a
 * record of the stateless match, not an input the correlate role trusts blindly. The correlate role also
 * sends each signal's event, annotated, to `seam.events` (ADR 0014); stage 1 does not.
 */
export interface SignalItem {
  /**
   * Ids of the Sigma rules the event matched in stage 1 (before identity annotation). Stage 1 matches only
   * events the identity predicate does not forward (ADR 0019): for `why: ['identity']` it is empty.
   */
  rules: string[];
  /** Why stage 1 forwarded it: `rule` (a Sigma match) and/or `identity` (the identity graph or a native detection can use it). */
  why: ('rule' | 'identity')[];
  event: SeamEvent;
}

/** A message of version 1: one signal. Still read; stage 1 now writes version 2. */
export interface Signal extends SignalItem {
  v: 1;
}

/**
 * A message of version 2: consecutive signals of one key, in order (`{"v":2,"signals":[...]}`).
 * A Kafka message costs the producer far more than its bytes do, and 9 in 10 events are signals.
 */
export interface SignalBatch {
  v: 2;
  signals: SignalItem[];
  /** Stage 1's progress marks (ADR 0009); a message of marks alone has no signals. */
  progress?: ProgressMark[];
}

/**
 * Stage 1's progress on one raw partition (`src` = `topic/partition`): it has forwarded every signal
 * of the records it took from there, and the newest of those records has event time `t` (ms). Sent to
 * every signals partition after a batch, so each correlate state knows how far each input has come.
 */
export interface ProgressMark {
  src: string;
  t: number;
  /**
   * Event time of the oldest of those records, when older than `t` (ADR 0009, 5c): with the mark's send time it says
   * how late the partition delivers, which the correlate role assumes of it again while it is idle. Older readers skip it.
   */
  from?: number;
}

/** A version 2 message of progress marks only (an older reader sees a message with no signals). */
export function encodeProgress(marks: ProgressMark[]): Buffer {
  return Buffer.from(JSON.stringify({ v: 2, signals: [], progress: marks } satisfies SignalBatch));
}

export function encodeSignal(s: Signal): Buffer {
  return Buffer.from(JSON.stringify(s));
}

/** One signal of a version 2 message, around an event already serialized (stage 1 has it for seam.events). */
function signalHead(rules: string[], why: SignalItem['why']): string {
  return `{"rules":${JSON.stringify(rules)},"why":${JSON.stringify(why)},"event":`;
}

const OPEN = Buffer.from('{"v":2,"signals":[');
const CLOSE = Buffer.from(']}');

/**
 * Where each signal of a version 2 message lies in its bytes (ADR 0023), so the correlate role can hold a
 * signal's bytes for event-time order and parse its event only when it hands it on, instead of parsing
 * the whole message on arrival and holding the objects: one `[seam.id, @timestamp, received_at, start,
 * end]` per signal, as JSON (values as the event has them, null when absent). A reader that does not know
 * the header parses the message whole, as before; one that finds it inconsistent with the value does too.
 * An entry may have two more numbers (ADR 0026), `[…, end, eventAt, seamAt]`: where the event's JSON and its
 * top-level `seam` value start, in bytes from the signal's start, when `seam` is the event's last key; the
 * correlate role then writes the annotated event as those bytes and the annotated `seam` (`event-json.ts`).
 * A reader of ADR 0023 finds seven numbers inconsistent and parses such a message whole.
 */
export const SIGNAL_SPANS_HEADER = 'seam-signal-spans';

/** What a signal's span entry says about its event, without parsing it. */
export interface SignalSpanMeta {
  id: unknown;
  ts: unknown;
  received: unknown;
  /** Stage 1 matched its event against the early rules (ADR 0026): whether one matched. */
  early?: boolean;
}

/**
 * Builds version 2 messages from signals in stage-1 order: one message per run of consecutive
 * signals with the same key, cut at `maxBytes`, so every partition sees its signals in the same
 * order as one message per signal would give it. Each signal is written straight into its message's
 * bytes (ADR 0023); with `meta` for every signal of a message, the message gets the spans header.
 */
export class SignalBatcher {
  private key: string | undefined;
  /**
   * Every message of the batcher, one behind the other (ADR 0024): a message is handed out as a view and
   * the next one is written behind it, so runs of one key (often a few signals) cost no buffer each.
   */
  private run: ByteRun | undefined;
  /** A message is open in `run` (its `{"v":2,"signals":[` written). */
  private open = false;
  private bytes = 0;
  private count = 0;
  private spans: unknown[][] | undefined = [];
  /** Indexes of the open message's signals that matched an early rule; undefined once a signal came without the answer. */
  private hits: number[] | undefined = [];
  private readonly out: { key: string; value: Buffer; signals: number; headers?: Record<string, string> }[] = [];

  /** @param earlyFingerprint with it, messages whose every signal says whether it matched an early rule carry the early hint header (ADR 0026) */
  constructor(
    private readonly maxBytes = 256 * 1024,
    private readonly earlyFingerprint?: string,
  ) {}

  /** Adds a signal around its event's JSON, whole or in parts (a string is encoded once, into the message). */
  add(key: string, rules: string[], why: SignalItem['why'], eventJson: EventJson, meta?: SignalSpanMeta): void {
    if (this.key !== key) this.cut();
    this.key = key;
    const run = (this.run ??= new ByteRun(16 * 1024, this.maxBytes + 8192));
    if (!this.open) this.begin(run);
    const start = run.length;
    if (this.count > 0) run.byte(0x2c);
    const at = run.length;
    run.text(signalHead(rules, why));
    const eventAt = run.length - at;
    const seamAt = writeEventJson(run, eventJson);
    run.byte(0x7d);
    // The signal's bytes and its separator, as counted before (head, event, brace and comma).
    const size = run.length - at + 1;
    let from = at;
    if (this.count > 0 && this.bytes + size > this.maxBytes) {
      const signal = run.takeTail(run.length - at);
      run.takeTail(run.length - start);
      this.cut();
      this.key = key;
      this.begin(run);
      from = run.length;
      run.bytes(signal);
    }
    if (meta?.early === undefined) this.hits = undefined;
    else if (meta.early) this.hits?.push(this.count);
    if (meta === undefined) this.spans = undefined;
    else if (seamAt < 0) this.spans?.push([meta.id ?? null, meta.ts ?? null, meta.received ?? null, from, run.length]);
    else this.spans?.push([meta.id ?? null, meta.ts ?? null, meta.received ?? null, from, run.length, eventAt, eventAt + seamAt]);
    this.bytes += size;
    this.count++;
  }

  /** The messages so far, in order; the batcher starts empty again. */
  take(): { key: string; value: Buffer; signals: number; headers?: Record<string, string> }[] {
    this.cut();
    return this.out.splice(0);
  }

  private begin(run: ByteRun): void {
    run.bytes(OPEN);
    this.open = true;
  }

  private cut(): void {
    if (this.open && this.run !== undefined) {
      if (this.count > 0 && this.key !== undefined) {
        this.run.bytes(CLOSE);
        const spans = this.spans;
        const headers: Record<string, string> = {};
        if (spans !== undefined && spans.length === this.count) {
          headers[SIGNAL_SPANS_HEADER] = JSON.stringify(spans);
          if (this.earlyFingerprint !== undefined && this.hits !== undefined) headers[EARLY_HINT_HEADER] = JSON.stringify([this.earlyFingerprint, this.hits]);
        }
        this.out.push({ key: this.key, value: this.run.done(), signals: this.count, ...(headers[SIGNAL_SPANS_HEADER] !== undefined ? { headers } : {}) });
      } else {
        this.run.takeTail(this.run.length);
      }
    }
    this.open = false;
    this.bytes = 0;
    this.count = 0;
    this.spans = [];
    this.hits = [];
  }
}

/** One signal of a message with the spans header: what the header says, and its bytes, parsed on demand. */
export interface SignalSpan extends SignalSpanMeta {
  /** The signal's JSON (`{"rules":…,"why":…,"event":…}`), a view of the message's value. */
  bytes: Buffer;
  /**
   * Where the event's JSON and its top-level `seam` value start in `bytes` (ADR 0026), when the header says so
   * and the bytes agree (`{` there, `"seam":` before the value, the event's and the signal's closing braces at
   * the end).
   */
  eventAt?: number;
  seamAt?: number;
}

const SEAM_KEY = Buffer.from('"seam":');

/**
 * The signals of a version 2 message by its spans header, unparsed, or undefined when it has none or the
 * header does not describe the value exactly (`{"v":2,"signals":[` + the spans, comma-separated, each
 * `{…}` + `]}`): the caller then parses the message whole (and a message with progress marks is never
 * described by spans).
 */
export function signalSpans(value: Buffer, headers: Record<string, string> | undefined): SignalSpan[] | undefined {
  const h = headers?.[SIGNAL_SPANS_HEADER];
  if (h === undefined || value.length < OPEN.length + CLOSE.length || !value.subarray(0, OPEN.length).equals(OPEN)) return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(h);
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const out: SignalSpan[] = [];
  let next = OPEN.length;
  for (const e of entries as unknown[]) {
    if (!Array.isArray(e) || (e.length !== 5 && e.length !== 7)) return undefined;
    const [id, ts, received, start, end, eventAt, seamAt] = e as unknown[];
    if (typeof start !== 'number' || typeof end !== 'number' || start !== next || !(end > start + 1) || end > value.length) return undefined;
    if (value[start] !== 0x7b || value[end - 1] !== 0x7d) return undefined;
    const bytes = value.subarray(start, end);
    // The parts are a shortcut: a header whose offsets the bytes do not bear out is read as if it had none.
    if (Number.isInteger(eventAt) && Number.isInteger(seamAt) && seamParts(bytes, eventAt as number, seamAt as number)) out.push({ id, ts, received, bytes, eventAt: eventAt as number, seamAt: seamAt as number });
    else out.push({ id, ts, received, bytes });
    next = end + 1;
    if (value[end] !== (out.length === entries.length ? 0x5d : 0x2c)) return undefined;
  }
  if (next + 1 !== value.length || value[value.length - 1] !== 0x7d) return undefined;
  return out;
}

/** Whether a signal's bytes have an event at `eventAt` whose last member's value, `seam`, starts at `seamAt` and ends with the event. */
function seamParts(bytes: Buffer, eventAt: number, seamAt: number): boolean {
  return (
    eventAt > 0 &&
    seamAt >= eventAt + 1 + SEAM_KEY.length &&
    seamAt < bytes.length - 3 &&
    bytes[eventAt] === 0x7b &&
    bytes[seamAt] === 0x7b &&
    bytes[bytes.length - 2] === 0x7d &&
    bytes.subarray(seamAt - SEAM_KEY.length, seamAt).equals(SEAM_KEY)
  );
}

/** The signal a span holds, or undefined when its bytes are not one. */
export function parseSpan(bytes: Buffer): SignalItem | undefined {
  try {
    const s = JSON.parse(bytes.toString('utf8')) as unknown;
    return isItem(s) ? s : undefined;
  } catch {
    return undefined;
  }
}
const isItem = (x: unknown): x is SignalItem => {
  const e = (x as Partial<SignalItem> | null)?.event;
  return typeof e === 'object' && e !== null;
};

const isMark = (x: unknown): x is ProgressMark =>
  typeof (x as Partial<ProgressMark> | null)?.src === 'string' && Number.isFinite((x as ProgressMark).t) && ((x as ProgressMark).from === undefined || Number.isFinite((x as ProgressMark).from));

/** The signals and progress marks of a message of either version, in order, or undefined when it is not a Seam signal. */
export function decodeSignalMessage(value: Buffer): { signals: SignalItem[]; progress: ProgressMark[] } | undefined {
  try {
    const s = JSON.parse(value.toString('utf8')) as Partial<Signal> | Partial<SignalBatch> | null;
    if (s?.v === 1) return isItem(s) ? { signals: [s], progress: [] } : undefined;
    if (s?.v === 2 && Array.isArray(s.signals) && s.signals.every(isItem)) {
      const progress = (s as Partial<SignalBatch>).progress;
      if (progress !== undefined && !(Array.isArray(progress) && progress.every(isMark))) return undefined;
      return { signals: s.signals, progress: progress ?? [] };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The signals of a message of either version, in order, or undefined when it is not a Seam signal. */
export function decodeSignals(value: Buffer): SignalItem[] | undefined {
  return decodeSignalMessage(value)?.signals;
}

/**
 * Signals are keyed by AWS account: all cross-plane state for one account lives in one partition. CloudTrail
 * records and GuardDuty findings name their account. A cluster's audit and runtime events name one only when
 * their collector or record does (the collector's log group account, the sidecar token's binding, the ARN of an
 * IAM-authenticated user), so without it a cluster's service-account and node requests could be keyed apart
 * (ADR 0037 addendum): for those, the account the configuration gives the cluster (seam.yml
 * `identity.clusters[].account`) comes first. A cluster name configured in several accounts is taken from the
 * event when its account is one of them, and is not used otherwise (two clusters may share a name).
 */
export function signalKey(e: SeamEvent, clusterAccounts?: ClusterAccounts, accountGroups?: AccountGroups): string {
  const key = accountKey(e, clusterAccounts);
  // An account of a group (seam.yml identity.accountGroups, ADR 0056) is keyed by the group's first account.
  return accountGroups?.get(key) ?? key;
}

function accountKey(e: SeamEvent, clusterAccounts?: ClusterAccounts): string {
  const { cluster, account, source } = e.seam;
  if (cluster !== undefined && (source === 'k8s_audit' || source === 'runtime')) {
    const configured = clusterAccounts?.get(cluster);
    if (configured !== undefined) {
      if (account !== undefined && configured.has(account)) return account;
      if (configured.size === 1) return configured.values().next().value!;
    }
  }
  return account ?? cluster ?? 'unknown';
}

/**
 * The two accounts a CloudTrail role assumption chains, when they differ: the caller's and the role's (a successful
 * sts:AssumeRole of a role of another account). On Kafka the sessions it issues resolve through it only when both
 * accounts are keyed to one correlate partition (ADR 0056). AWS services' calls (no caller account) are not chains.
 */
export function chainedAccounts(e: SeamEvent): [caller: string, role: string] | undefined {
  if (e.seam.source !== 'cloudtrail' || e.eventName !== 'AssumeRole' || e.eventSource !== 'sts.amazonaws.com' || e.errorCode !== undefined) return undefined;
  const ui = obj(e.userIdentity);
  const caller = str(ui?.accountId) ?? arnAccount(str(ui?.arn));
  const role = arnAccount(str(obj(e.requestParameters)?.roleArn));
  return caller !== undefined && role !== undefined && caller !== role ? [caller, role] : undefined;
}

/** Account → the signal key of its group (the group's first account), from seam.yml `identity.accountGroups`. */
export type AccountGroups = ReadonlyMap<string, string>;

/** `AccountGroups` of the configured groups (an account listed twice keeps its first group). */
export function accountGroupsOf(groups: readonly (readonly string[])[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of groups ?? []) for (const a of g) if (!out.has(a)) out.set(a, g[0]!);
  return out;
}

/** Cluster name → the accounts the configuration names for a cluster of that name. */
export type ClusterAccounts = ReadonlyMap<string, ReadonlySet<string>>;

/** Cluster → accounts, from the clusters the configuration names with an account. */
export function clusterAccountsOf(clusters: readonly { name: string; account?: string | undefined }[] | undefined): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of clusters ?? []) if (c.account !== undefined) out.set(c.name, (out.get(c.name) ?? new Set()).add(c.account));
  return out;
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

/**
 * The cheap, stateless-but-for-a-memo predicate of stage 1: could the identity graph or a native
 * detection use this event? CloudTrail, GuardDuty and runtime events always (workload and node
 * credentials can sign any CloudTrail call; runtime events bind pods to service accounts; the
 * GuardDuty incident joins all activity of a principal). Audit events always, except reads
 * (get/list/watch) by system components (kubelets, controllers, EKS, kube-system service accounts),
 * which are most of an audit log: of those, only the first per (cluster, user, pod, connection address) in
 * `memoTtlMs` is forwarded, which is what the graph needs to learn node roles and pod bindings.
 */
export class IdentityRelevance {
  /** Key → event time of the read last forwarded; past `maxMemo` the least recently seen key goes (it used to be cleared whole). */
  private readonly seen: Lru<string, number>;

  constructor(private readonly opts: { memoTtlMs?: number; maxMemo?: number } = {}) {
    this.seen = boundedLru(opts.maxMemo ?? 100_000);
  }

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
    // The connection address is part of the key: a kube-system token read from a new address (stolen, replayed
    // elsewhere) must reach the detections that judge addresses even while its pod keeps reading from its own.
    const ips = e.sourceIPs;
    const address = Array.isArray(ips) && ips.length > 0 ? String(ips[ips.length - 1]) : '';
    const key = `${e.seam.cluster ?? ''}|${username}|${first(extra?.canonicalArn) ?? ''}|${first(extra?.['authentication.kubernetes.io/pod-name']) ?? ''}|${address}`;
    const t = Date.parse(e['@timestamp']);
    const last = this.seen.get(key);
    const ttl = this.opts.memoTtlMs ?? 10 * 60_000;
    if (last !== undefined && Number.isFinite(t) && t >= last && t - last < ttl) return false;
    this.seen.set(key, Number.isFinite(t) ? t : 0);
    return true;
  }
}
