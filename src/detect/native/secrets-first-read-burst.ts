/**
 * Many secrets read for the first time by one principal within minutes. A principal's secret reads repeat: an
 * application loads the same parameters at every start, Terraform reads back the secrets and parameters it
 * manages on every plan, a person looks at the one secret they are debugging. Credentials in an attacker's hands
 * read what the principal never read (Stratus Red Team aws.credential-access.secretsmanager-retrieve-secrets and
 * ssm-retrieve-securestring-parameters, Parameter Store and Secrets Manager dumps with stolen keys). Counting the
 * secrets that are new to the principal does not depend on the user agent or the call shape, which an attacker
 * picks: a harvest sent one GetParameter per parameter under Terraform's user agent (which
 * corr_secrets_harvested_from_secrets_manager_and_parameter_store leaves to infrastructure code) is still a run of
 * first reads.
 *
 * A secret is a Secrets Manager secret (GetSecretValue, BatchGetSecretValue by id list; ARN suffixes dropped, so
 * a name and its ARN are one secret) or an SSM parameter read with decryption (GetParameter, GetParameters,
 * GetParametersByPath: the path counts as one). Who read what is learned as `read_secret` facts per baseline
 * subject (ADR 0011: they survive restarts; forgotten after baselineMemoryMs unread). After the subject's learning
 * period, MIN_NEW secrets new to it within WINDOW_MS alert once for that window. A secret the principal wrote
 * (CreateSecret, PutSecretValue, UpdateSecret, PutParameter) counts as read: Terraform reads back what it
 * creates. Failed reads, AWS services, and code running in Lambda (the runtime's user agent: Secrets Manager
 * rotation functions walk many secrets on their schedule) are left out.
 *
 * Timing: a window that reaches MIN_NEW waits GRACE_MS on the detection's own CloudTrail clock (a write of the
 * same second may arrive after the read), then alerts if any window ending at or after it still holds MIN_NEW;
 * reads that followed within the grace are shown too (the first and the last calls of a long harvest). Reads are
 * kept per subject relative to its newest read, so a late record (an older trail file, another region of an
 * organization trail) counts without pushing newer reads out. After an alert the subject is quiet for a window.
 */
import type { Principal, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import { baselinable, baselineSubject, learning, learningStart, remember } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, remembered, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** Secrets new to the principal, within WINDOW_MS, that alert. */
export const MIN_NEW = 10;
export const WINDOW_MS = 10 * 60_000;

const LAMBDA_RUNTIME = /exec-env\/AWS_Lambda_|AWS_Lambda_/i;

/**
 * How long (event time) a burst waits before it alerts: CloudTrail does not order calls made in the same second,
 * and Terraform creating a parameter and reading it back in that second may reach Seam read first, write second.
 * The wait runs on this detection's own CloudTrail clock (the newest CloudTrail event time it has seen), not the
 * engine's: EKS audit events usually run minutes ahead of CloudTrail, whose files come about every 5 minutes.
 */
export const GRACE_MS = 5 * 60_000;

/** How far CloudTrail may lag the engine's clock: a burst whose trail went quiet settles this long after it is due. */
export const TRAIL_LAG_MS = 15 * 60_000;

/** First reads kept per subject (reads older than the windows and the grace are dropped; past this, the oldest after the first SHOWN_EACH_END). */
export const MAX_READS = 4 * MIN_NEW + 60;

/** An alert shows the first and the last this many calls of its burst. */
const SHOWN_EACH_END = 25;

interface Read {
  t: number;
  secret: string;
  id: string;
}

interface Burst {
  /** First reads (event time), with the secret and the event, in arrival order. */
  reads: Read[];
  /** The newest read's time: reads are kept relative to it, never to a late record's. */
  maxT: number;
  /** No new alert for this subject before this event time. */
  quietUntil: number;
  /** A window that reached MIN_NEW, waiting for GRACE_MS: when it is due, where it ends, whose it is. */
  pending?: { dueMs: number; atMs: number; label: string; principal: Principal | undefined; account: string | undefined };
}

interface State {
  bursts: Lru<string, Burst>;
  /** Subjects with a pending burst, and the earliest due time among them (NaN: none). */
  pending: Set<string>;
  dueAfterMs: number;
  /** The newest CloudTrail event time seen, and the engine's clock (advance): the grace runs on the first. */
  ctNowMs: number;
  engineNowMs: number;
}

/** When pending bursts are due: the trail's own clock, or the engine's less TRAIL_LAG_MS when the trail went quiet. */
const clockOf = (s: State): number => Math.max(s.ctNowMs, s.engineNowMs - TRAIL_LAG_MS);

const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

/** `name` from a Secrets Manager id: a name, or an ARN `arn:…:secret:<name>-<6 chars>`. */
function secretName(id: string): string {
  const m = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(id);
  return m === null ? id : m[1]!.replace(/-[A-Za-z0-9]{6}$/, '');
}

function list(v: unknown): string[] {
  const items = Array.isArray(v) ? v : Array.isArray(obj(v)?.items) ? (obj(v)!.items as unknown[]) : [];
  return items.map((x) => str(x) ?? str(obj(x)?.name)).filter((x): x is string => x !== undefined);
}

/**
 * The secrets a successful call wrote (CreateSecret, PutSecretValue, UpdateSecret, PutParameter): whoever set a
 * value knows it, so reading it back (Terraform refreshes what it just created) is not a first read.
 */
export function secretsWritten(event: SeamEvent): string[] {
  const rp = obj(event.requestParameters);
  if (rp === undefined) return [];
  const name = str(event.eventName);
  if (event.eventSource === 'secretsmanager.amazonaws.com') {
    if (name !== 'CreateSecret' && name !== 'PutSecretValue' && name !== 'UpdateSecret') return [];
    const id = str(rp.name) ?? str(rp.Name) ?? str(rp.secretId) ?? str(rp.SecretId);
    return id === undefined ? [] : ['sm:' + secretName(id)];
  }
  if (event.eventSource !== 'ssm.amazonaws.com' || name !== 'PutParameter') return [];
  const n = str(rp.name) ?? str(rp.Name);
  return n === undefined ? [] : ['ssm:' + n];
}

/** The secrets a successful call read (`sm:<name>`, `ssm:<name or path>`), none for any other call. */
export function secretsRead(event: SeamEvent): string[] {
  const rp = obj(event.requestParameters);
  if (rp === undefined) return [];
  const name = str(event.eventName);
  if (event.eventSource === 'secretsmanager.amazonaws.com') {
    if (name === 'GetSecretValue') {
      const id = str(rp.secretId) ?? str(rp.SecretId);
      return id === undefined ? [] : ['sm:' + secretName(id)];
    }
    if (name === 'BatchGetSecretValue') return [...new Set(list(rp.secretIdList ?? rp.SecretIdList).map((id) => 'sm:' + secretName(id)))];
    return [];
  }
  if (event.eventSource !== 'ssm.amazonaws.com' || !truthy(rp.withDecryption ?? rp.WithDecryption)) return [];
  if (name === 'GetParameter') {
    const n = str(rp.name) ?? str(rp.Name);
    return n === undefined ? [] : ['ssm:' + n.replace(/:\d+$/, '')];
  }
  if (name === 'GetParameters') return [...new Set(list(rp.names ?? rp.Names).map((n) => 'ssm:' + n.replace(/:\d+$/, '')))];
  if (name === 'GetParametersByPath') {
    const p = str(rp.path) ?? str(rp.Path);
    return p === undefined ? [] : ['ssm:' + p];
  }
  return [];
}

export const secretsFirstReadBurst: NativeDetection<State> = {
  id: 'seam-native-secrets-first-read-burst',
  title: 'Many secrets read for the first time by one principal within minutes',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1555.006', 'attack.t1552'],
  description: `${MIN_NEW} or more Secrets Manager secrets or decrypted SSM parameters that the principal (the baselines’ subject: a person’s session, a role for CI and SDK sessions, a service account) had never read, read within ${WINDOW_MS / 60_000} minutes after its learning period: secrets harvested with its credentials, whatever user agent or call shape the reads use.`,
  triage:
    'Which secrets (the alert’s events; requestParameters.secretId / name / names) and who read them (principal, source address, user agent: does a Terraform or SDK user agent match where the calls came from?). Is there a change that explains a new set of secrets (a new Terraform module, a new application release)? If not: revoke the credentials, rotate every secret read, and look for ListSecrets / DescribeParameters and other reads by the same principal.',
  createState: (c: NativeConfig): State => ({
    bursts: boundedLru(c.maxStateEntries),
    pending: new Set(),
    dueAfterMs: Number.NaN,
    ctNowMs: Number.NEGATIVE_INFINITY,
    engineNowMs: Number.NEGATIVE_INFINITY,
  }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    const t = timeOf(event);
    observe(event, graph, state, ctx, t);
    // The trail's clock moved: bursts it makes due settle now (after this event's write, if any, removed reads).
    if (!(t > state.ctNowMs)) return [];
    state.ctNowMs = t;
    return clockOf(state) >= state.dueAfterMs ? settle(this, state, clockOf(state)) : [];
  },
  advance(nowMs: number, _graph: IdentityGraph, state: State): Alert[] {
    state.engineNowMs = nowMs;
    if (!(clockOf(state) >= state.dueAfterMs)) return [];
    return settle(this, state, clockOf(state));
  },
  flush(_graph: IdentityGraph, state: State): Alert[] {
    return settle(this, state, Number.POSITIVE_INFINITY);
  },
};

/** Learns what a secrets call read or wrote; a first read after the learning period may start a pending burst. */
function observe(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext, t: number): void {
  if (event.eventSource !== 'secretsmanager.amazonaws.com' && event.eventSource !== 'ssm.amazonaws.com') return;
  const read = secretsRead(event);
  const secrets = read.length > 0 ? read : secretsWritten(event);
  if (secrets.length === 0 || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined || !baselinable(event)) return;
  if (str(obj(event.userIdentity)?.invokedBy) !== undefined || LAMBDA_RUNTIME.test(str(event.userAgent) ?? '')) return;
  const subject = baselineSubject(event, ctx.resolution.cluster);
  if (subject === undefined) return;
  const start = learningStart(event, ctx, graph, subject.key);
  const account = event.seam.account ?? str(event.recipientAccountId) ?? 'unknown';
  const region = str(event.awsRegion) ?? 'unknown';
  const fresh: string[] = [];
  for (const s of secrets) {
    const target = `secret:${account}:${region}:${s}`;
    const seen = remember(event, ctx, graph, { kind: 'read_secret', key: `read_secret|${subject.key}|${target}`, from: subject.key, to: target });
    if (seen.before === undefined) fresh.push(s);
  }
  if (read.length === 0) {
    // A write: a read of the same secret waiting in a burst was not a first read after all.
    const b = state.bursts.get(subject.key);
    if (b !== undefined) b.reads = b.reads.filter((r) => !secrets.includes(r.secret) || Math.abs(r.t - t) > GRACE_MS);
    return;
  }
  if (fresh.length === 0 || learning(event, ctx.config, start)) return;
  let b = state.bursts.get(subject.key);
  if (b === undefined) state.bursts.set(subject.key, (b = { reads: [], maxT: t, quietUntil: Number.NEGATIVE_INFINITY }));
  if (t > b.maxT) b.maxT = t;
  for (const s of fresh) b.reads.push({ t, secret: s, id: event.seam.id });
  // Kept relative to the subject's newest read (a late record is one read, not the clock): a pending burst ends
  // after clock − GRACE_MS ≥ maxT − GRACE_MS, so its window is still whole.
  const horizon = b.maxT - WINDOW_MS - GRACE_MS;
  if (b.reads.some((r) => r.t <= horizon)) b.reads = b.reads.filter((r) => r.t > horizon);
  // A harvest of thousands: the window holds MIN_NEW many times over; keep the first reads (shown) and the newest.
  if (b.reads.length > MAX_READS) b.reads.splice(SHOWN_EACH_END, b.reads.length - MAX_READS);
  if (b.pending !== undefined || t < b.quietUntil) return;
  // Any window this read belongs to (it may complete a window ending at a later read that came in earlier).
  const end = burstEnd(b.reads, t);
  if (end === undefined) return;
  pend(state, b, subject.key, end, { label: subject.label, principal: ctx.resolution.principal ?? event.seam.principal, account: event.seam.account });
}

function pend(state: State, b: Burst, key: string, atMs: number, who: { label: string; principal: Principal | undefined; account: string | undefined }): void {
  b.pending = { dueMs: atMs + GRACE_MS, atMs, ...who };
  state.pending.add(key);
  if (!(b.pending.dueMs >= state.dueAfterMs)) state.dueAfterMs = b.pending.dueMs;
}

/** The distinct secrets first read within the WINDOW_MS that ends at `t`. */
function distinctNew(reads: readonly Read[], t: number): string[] {
  const out = new Set<string>();
  for (const r of reads) if (r.t > t - WINDOW_MS && r.t <= t) out.add(r.secret);
  return [...out];
}

/** The earliest time ≥ `from` (a read's) at which the window ending there holds MIN_NEW first reads. */
function burstEnd(reads: readonly Read[], from: number): number | undefined {
  const ends = [...new Set(reads.filter((r) => r.t >= from).map((r) => r.t))].sort((x, y) => x - y);
  return ends.find((e) => distinctNew(reads, e).length >= MIN_NEW);
}

/**
 * Alerts for the pending bursts due by `clockMs` (the trail's clock). A burst alerts when any window ending at or
 * after where it reached MIN_NEW still holds MIN_NEW once writes removed their reads; one ending later than the
 * grace allows waits again (re-armed), and reads after the window only add to what the alert shows.
 */
function settle(d: NativeDetection<State>, state: State, clockMs: number): Alert[] {
  const out: Alert[] = [];
  let next = Number.NaN;
  for (const key of [...state.pending]) {
    const b = state.bursts.get(key);
    const p = b?.pending;
    if (b === undefined || p === undefined) {
      state.pending.delete(key);
      continue;
    }
    if (p.dueMs > clockMs) {
      if (!(p.dueMs >= next)) next = p.dueMs;
      continue;
    }
    state.pending.delete(key);
    b.pending = undefined;
    const end = burstEnd(b.reads, p.atMs);
    if (end === undefined) continue;
    if (end + GRACE_MS > clockMs) {
      // A later window reached MIN_NEW (writes emptied the first): it gets its own grace.
      b.pending = { ...p, dueMs: end + GRACE_MS, atMs: end };
      state.pending.add(key);
      if (!(b.pending.dueMs >= next)) next = b.pending.dueMs;
      continue;
    }
    // The window, and the reads that followed it within the grace (context: the harvest went on).
    const shown = b.reads.filter((r) => r.t > end - WINDOW_MS && r.t <= end + GRACE_MS).sort((x, y) => x.t - y.t);
    const distinct = [...new Set(shown.map((r) => r.secret))];
    let last = end;
    for (const r of shown) if (r.t > last) last = r.t;
    b.quietUntil = last + WINDOW_MS;
    const calls = new Map<string, number>();
    for (const r of shown) if (!calls.has(r.id)) calls.set(r.id, r.t);
    const all = [...calls];
    // The first and the last calls of a long harvest (the summary says how many there were).
    const events = all.length <= 2 * SHOWN_EACH_END ? all : [...all.slice(0, SHOWN_EACH_END), ...all.slice(-SHOWN_EACH_END)];
    const names = distinct.slice(0, 5).map((s) => s.replace(/^(sm|ssm):/, '')).join(', ');
    out.push(
      nativeAlert(d, {
        events: events.map(([id, ms]) => remembered(id, ms)),
        summary: `${p.label} read ${distinct.length} secrets it had never read within ${WINDOW_MS / 60_000} minutes (${names}${distinct.length > 5 ? ', …' : ''}; ${calls.size} calls)`,
        principal: p.principal,
        account: p.account,
      }),
    );
  }
  state.dueAfterMs = next;
  return out;
}
