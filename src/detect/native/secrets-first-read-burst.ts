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
 * GetParametersByPath; names, ARNs, versions and labels are one parameter). A GetParametersByPath path counts as
 * one secret, RECURSIVE_PATH_WEIGHT when recursive (its pages: once); a root-path dump is
 * ct_ssm_all_parameters_read_recursively's. BatchGetSecretValue with Filters names no secret and counts nothing
 * (ct_secrets_manager_batch_read_by_filter). Who read what is learned as `read_secret` facts per baseline subject
 * (ADR 0011: they survive restarts; forgotten after baselineMemoryMs unread). After the subject's learning period,
 * MIN_NEW secrets new to it within WINDOW_MS alert, or LONG_MIN_NEW within LONG_WINDOW_MS (a slow harvest, one
 * read a minute). A secret the principal wrote (CreateSecret, PutSecretValue, UpdateSecret, PutParameter) counts
 * as read: Terraform reads back what it creates. Failed reads and AWS services (invokedBy, a service name for an
 * address) are left out; calls through VPC interface endpoints count. Code running in Lambda (Secrets Manager
 * rotation functions walk many secrets on their schedule) teaches its baseline but makes no burst when the call
 * carries the runtime's user agent, comes from a session known as a function's for a learning period (or from
 * CreateFunction naming the role), and not from outside Amazon's networks (lambdaCode).
 *
 * Level: medium for people, IAM users and other keys. A workload (a service account, a role baselined as a whole:
 * CI runs and SDK default sessions, an EC2 instance's session, a session known as a Lambda function's) reads many new secrets in routine ways: External
 * Secrets Operator or the Secrets Store CSI driver syncing a newly onboarded namespace, a new task definition, a
 * `terraform plan` of a new module reading data sources another pipeline created. Those sit under one or two name
 * prefixes (prefixOf: the first two path segments); a dump spans more. A workload's burst under fewer than
 * WORKLOAD_MEDIUM_PREFIXES prefixes is low. The trade-off: stolen workload credentials that read one
 * application's secrets only are low. `read_secret` facts are kept READ_MEMORY_MS unread (monthly jobs).
 *
 * A role's session with a stable name (a person's, or `aws sts assume-role --role-session-name anything`) is its
 * own baseline subject and starts learning at its first call; per-run names (SDK defaults, CI) are baselined per
 * role already (baseline.ts). A new session of a role whose sessions read secrets before is not learning: its
 * learning starts when the role's first did (`secrets-role:<role>`). Novelty is still judged per session.
 *
 * Timing: a window that reaches MIN_NEW waits GRACE_MS on the detection's own CloudTrail clock (a write of the
 * same second may arrive after the read), then alerts if any window ending at or after it still holds MIN_NEW;
 * reads that followed within the grace are shown too (the first and the last calls of a long harvest). Reads are
 * kept per subject relative to its newest read, so a late record (an older trail file, another region of an
 * organization trail) counts without pushing newer reads out. After an alert the subject is quiet for a window.
 */
import type { Principal, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Edge } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { canonicalIamArn, roleOfSession, sessionNameOf } from '../../identity/keys.ts';
import { baselineSubject, eventNetwork, learning, learningStart, liveFact, remember } from './baseline.ts';
import { lambdaSessionKey } from './lambda-creds-outside-aws.ts';
import type { NativeConfig } from './config.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert, remembered, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** Secrets new to the principal, within WINDOW_MS, that alert. */
export const MIN_NEW = 10;
export const WINDOW_MS = 10 * 60_000;
/** The slow harvest's tier (one read a minute or so): LONG_MIN_NEW new secrets within LONG_WINDOW_MS, same level. */
export const LONG_MIN_NEW = 25;
export const LONG_WINDOW_MS = 60 * 60_000;

/** What a recursive GetParametersByPath (a path and everything under it, with decryption) counts as. */
export const RECURSIVE_PATH_WEIGHT = MIN_NEW / 2;

const LAMBDA_RUNTIME = /exec-env\/AWS_Lambda_/i;
const ASSUMED = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/;

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
export const MAX_READS = 4 * LONG_MIN_NEW;

/**
 * How long a `read_secret` fact holds unread: at least 400 days, so monthly, quarterly and yearly jobs (DR drills,
 * audits, certificate renewals) read what they read last time, not new secrets (facts are small; baselineMemoryMs
 * when longer).
 */
export const READ_MEMORY_MS = 400 * 24 * 3600_000;

/** A workload's burst whose new secrets sit under fewer name prefixes than this is low (see prefixOf). */
export const WORKLOAD_MEDIUM_PREFIXES = 3;

/** An alert shows the first and the last this many calls of its burst. */
const SHOWN_EACH_END = 25;

interface Read {
  t: number;
  secret: string;
  id: string;
  /** How many secrets it counts as (RECURSIVE_PATH_WEIGHT for a recursive path read, else 1). */
  weight: number;
  /** Where the call came from and with what (callerText), for the triage text. */
  from: string;
}

interface Burst {
  /** First reads (event time), with the secret and the event, in arrival order. */
  reads: Read[];
  /** The newest read's time: reads are kept relative to it, never to a late record's. */
  maxT: number;
  /** No new alert for this subject before this event time; reads up to shownUntil were in an alert and count no more. */
  quietUntil: number;
  shownUntil: number;
  /** A window that reached MIN_NEW, waiting for GRACE_MS: when it is due, where it ends, whose it is. */
  pending?: { dueMs: number; atMs: number; label: string; principal: Principal | undefined; account: string | undefined; workload: boolean };
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

/**
 * `name` from a Secrets Manager id: a name, an ARN `arn:…:secret:<name>-<6 random chars>`, or a partial ARN (no
 * suffix). The suffix is told from a name's own last word by its letters: AWS's six random characters hold a digit
 * or a capital (all six lower-case letters: about 1 in 200 suffixes, then read as part of the name, so that secret
 * read by ARN and by name counts twice); `…:secret:prod/db-secret` stays `prod/db-secret`.
 */
export function secretName(id: string): string {
  const m = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(id);
  if (m === null) return id;
  const n = m[1]!;
  const suffix = /-([A-Za-z0-9]{6})$/.exec(n);
  return suffix !== null && /[A-Z0-9]/.test(suffix[1]!) ? n.slice(0, -7) : n;
}

/**
 * A parameter's name from a name or ARN (`arn:aws:ssm:<region>:<account>:parameter/<name without its leading
 * slash>`), without a version or label selector (`/p/x:3`, `/p/x:prod`: names hold no colon).
 */
export function parameterName(ref: string): string {
  const m = /^arn:[^:]+:ssm:[^:]*:\d*:parameter\/(.+)$/.exec(ref);
  const n = m === null ? ref : m[1]!.includes('/') ? '/' + m[1]! : m[1]!;
  const c = n.indexOf(':');
  return c < 0 ? n : n.slice(0, c);
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
  return n === undefined ? [] : ['ssm:' + parameterName(n)];
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
    return n === undefined ? [] : ['ssm:' + parameterName(n)];
  }
  if (name === 'GetParameters') return [...new Set(list(rp.names ?? rp.Names).map((n) => 'ssm:' + parameterName(n)))];
  if (name === 'GetParametersByPath') {
    const p = str(rp.path) ?? str(rp.Path);
    return p === undefined ? [] : ['ssm:' + p];
  }
  return [];
}

/** Is a read a recursive GetParametersByPath (the path and every parameter under it)? */
function recursivePath(event: SeamEvent): boolean {
  const rp = obj(event.requestParameters);
  return str(event.eventName) === 'GetParametersByPath' && truthy(rp?.recursive ?? rp?.Recursive);
}

/**
 * The call's session's `lambda_execution_session` fact, if the session is known as a function's and its name can
 * be a function's (letters, digits, - and _, up to 64: a person's e-mail session that sent the mark is not).
 */
function functionSession(event: SeamEvent, graph: IdentityGraph, t: number): Edge | undefined {
  const arn = str(obj(event.userIdentity)?.arn) ?? event.seam.principal?.arn ?? '';
  const m = ASSUMED.exec(arn);
  if (m === null) return undefined;
  const name = sessionNameOf(arn) ?? m[3]!;
  return FUNCTION_NAME.test(name) ? liveFact(graph, lambdaSessionKey(m[1]!, m[2]!, name), t) : undefined;
}

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Code running in Lambda: the runtime's user agent, from a session known as a function's execution session
 * (`lambda_execution_session` facts, learned by seam-native-lambda-creds-outside-aws: that detection must run),
 * not from an address the ASN table places outside Amazon. The mark alone is not enough: it sits in the environment
 * a thief copies, and anyone can write it into a user agent. And since that detection learns a session from the
 * mark itself, a session learned so counts only once it was known for a learning period (a function's session is
 * its name, the same at every cold start; a person's session that first sent the mark during its harvest is not);
 * one learned from CreateFunction / UpdateFunctionConfiguration naming the role counts at once.
 */
function lambdaCode(event: SeamEvent, known: Edge | undefined, ctx: EvalContext, t: number): boolean {
  if (known === undefined || !LAMBDA_RUNTIME.test(str(event.userAgent) ?? '')) return false;
  const a = known.fact.attributes;
  const since = Date.parse(String(a.first_seen ?? known.fact.valid_from));
  if (a.learned_from === 'runtime user agent' && !(t - since >= ctx.config.baselineLearningMs)) return false;
  return typeof event.vpcEndpointId === 'string' || eventNetwork(event, ctx.config)?.aws !== false;
}

export const secretsFirstReadBurst: NativeDetection<State> = {
  id: 'seam-native-secrets-first-read-burst',
  title: 'Many secrets read for the first time by one principal within minutes',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1555.006', 'attack.t1552'],
  description: `${MIN_NEW} or more Secrets Manager secrets or decrypted SSM parameters that the principal (the baselines’ subject: a person’s session, a role for CI and SDK sessions, a service account) had never read, read within ${WINDOW_MS / 60_000} minutes (or ${LONG_MIN_NEW} within ${LONG_WINDOW_MS / 60_000} minutes) after its learning period: secrets harvested with its credentials, whatever user agent, call shape or network path (VPC endpoints count) the reads use. A new session name of a role whose sessions read secrets before is past learning.`,
  triage:
    'Which secrets (the alert names them) and who read them (principal, source address, user agent: does a Terraform or SDK user agent match where the calls came from?). Is there a change that explains a new set of secrets (a new Terraform module, a new application release)? If not: revoke the credentials, rotate every secret read, and look for ListSecrets / DescribeParameters and other reads by the same principal.',
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
  quiet(t: number, _graph: IdentityGraph, state: State): Alert[] {
    // Bursts due by the wall clock settle, but the engine's clock stays on event time: a burst in records produced
    // later (the next chunk of a backlog, event times far behind `t`) still waits its grace on the trail's clock.
    const clock = Math.max(state.ctNowMs, t - TRAIL_LAG_MS);
    return clock >= state.dueAfterMs ? settle(this, state, clock) : [];
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
  if (secrets.length === 0 || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return;
  // AWS services (a service name for an address, invokedBy) are left out; calls through a VPC endpoint count (a pod
  // in a private cluster reads through them), so not the network baselines' filter (`baselinable`).
  if (event.seam.source_ip === undefined || str(obj(event.userIdentity)?.invokedBy) !== undefined) return;
  const subject = baselineSubject(event, ctx.resolution.cluster);
  if (subject === undefined) return;
  const memoryMs = Math.max(ctx.config.baselineMemoryMs, READ_MEMORY_MS);
  // The shared start (the principal's first call of any kind) lasts the baselines' memory; a start of this
  // detection's own lasts as long as the reads it remembers, so a principal back after months is not learning.
  let start = Math.min(learningStart(event, ctx, graph, subject.key), learningStart(event, ctx, graph, 'secrets-subject:' + subject.key, memoryMs));
  // A role's session with a name of its own (a person's, or `--role-session-name anything`) is its own subject,
  // learning from its first call; its role's secret reads started earlier: a new session of an old role is not learning.
  const p = event.seam.principal;
  const role = p?.type === 'assumed_role' ? roleOfSession(p.arn ?? p.id) : undefined;
  if (role !== undefined) start = Math.min(start, learningStart(event, ctx, graph, 'secrets-role:' + canonicalIamArn(role), memoryMs));
  const account = event.seam.account ?? str(event.recipientAccountId) ?? 'unknown';
  const region = str(event.awsRegion) ?? 'unknown';
  const fresh: string[] = [];
  for (const s of secrets) {
    const target = `secret:${account}:${region}:${s}`;
    const seen = remember(event, ctx, graph, {
      kind: 'read_secret',
      key: `read_secret|${subject.key}|${target}`,
      from: subject.key,
      to: target,
      memoryMs,
    });
    if (seen.before === undefined) fresh.push(s);
  }
  if (read.length === 0) {
    // A write: a read of the same secret waiting in a burst was not a first read after all.
    const b = state.bursts.get(subject.key);
    if (b !== undefined) b.reads = b.reads.filter((r) => !secrets.includes(r.secret) || Math.abs(r.t - t) > GRACE_MS);
    return;
  }
  // A function's own reads teach its baseline (its keys read elsewhere are judged against it) but make no burst.
  if (fresh.length === 0 || learning(event, ctx.config, start)) return;
  const fn = functionSession(event, graph, t);
  if (lambdaCode(event, fn, ctx, t)) return;
  let b = state.bursts.get(subject.key);
  if (b === undefined) state.bursts.set(subject.key, (b = { reads: [], maxT: t, quietUntil: Number.NEGATIVE_INFINITY, shownUntil: Number.NEGATIVE_INFINITY }));
  if (t > b.maxT) b.maxT = t;
  const weight = recursivePath(event) ? RECURSIVE_PATH_WEIGHT : 1;
  const from = callerText(event);
  for (const s of fresh) b.reads.push({ t, secret: s, id: event.seam.id, weight, from });
  // Kept relative to the subject's newest read (a late record is one read, not the clock): a pending burst ends
  // after clock − GRACE_MS ≥ maxT − GRACE_MS, so its window is still whole.
  const horizon = b.maxT - LONG_WINDOW_MS - GRACE_MS;
  if (b.reads.some((r) => r.t <= horizon)) b.reads = b.reads.filter((r) => r.t > horizon);
  // A harvest of thousands: the window holds MIN_NEW many times over; keep the first reads (shown) and the newest.
  if (b.reads.length > MAX_READS) b.reads.splice(SHOWN_EACH_END, b.reads.length - MAX_READS);
  if (b.pending !== undefined || t < b.quietUntil) return;
  // Any window this read belongs to (it may complete a window ending at a later read that came in earlier).
  const hit = burstEnd(b, t);
  if (hit === undefined) return;
  pend(state, b, subject.key, hit.end, {
    label: subject.label,
    principal: ctx.resolution.principal ?? event.seam.principal,
    account: event.seam.account,
    // A function's session is a workload too (a new function of an old role rotating secrets on its first day).
    workload: fn !== undefined || workloadSubject(subject.key),
  });
}

/** Whose reads are a workload's: a service account, a role baselined as a whole (CI runs, SDK default sessions), an EC2 instance's session. */
function workloadSubject(key: string): boolean {
  return key.startsWith('k8s:') || /^arn:aws[a-z-]*:iam::\d{12}:role\//.test(key) || /:assumed-role\/[^/]+\/i-[0-9a-f]{8,17}$/.test(key);
}

/**
 * A secret's name prefix: its first two path segments (`/prod/payments/db` → `prod/payments`), the first of two,
 * else the name's first word (`prod-db-password` → `prod`).
 */
export function prefixOf(secret: string): string {
  const name = secret.slice(secret.indexOf(':') + 1).replace(/^\/+/, '');
  const parts = name.split('/').filter((x) => x !== '');
  if (parts.length >= 3) return parts[0] + '/' + parts[1];
  if (parts.length === 2) return parts[0]!;
  return name.split(/[-_.]/)[0]!;
}

function pend(state: State, b: Burst, key: string, atMs: number, who: { label: string; principal: Principal | undefined; account: string | undefined; workload: boolean }): void {
  b.pending = { dueMs: atMs + GRACE_MS, atMs, ...who };
  state.pending.add(key);
  if (!(b.pending.dueMs >= state.dueAfterMs)) state.dueAfterMs = b.pending.dueMs;
}

/** How many secrets were first read within the `window` that ends at `t` (distinct; a recursive path counts more), after `after`. */
function countNew(reads: readonly Read[], t: number, window: number, after: number): number {
  const w = new Map<string, number>();
  for (const r of reads) if (r.t > t - window && r.t > after && r.t <= t) w.set(r.secret, Math.max(w.get(r.secret) ?? 0, r.weight));
  let n = 0;
  for (const x of w.values()) n += x;
  return n;
}

/**
 * The earliest time ≥ `from` (a read's) at which a window ending there holds enough first reads not shown in an
 * earlier alert: MIN_NEW within WINDOW_MS, or LONG_MIN_NEW within LONG_WINDOW_MS (which window, for the summary).
 */
function burstEnd(b: Burst, from: number): { end: number; window: number } | undefined {
  const ends = [...new Set(b.reads.filter((r) => r.t >= from).map((r) => r.t))].sort((x, y) => x - y);
  for (const e of ends) {
    if (countNew(b.reads, e, WINDOW_MS, b.shownUntil) >= MIN_NEW) return { end: e, window: WINDOW_MS };
    if (countNew(b.reads, e, LONG_WINDOW_MS, b.shownUntil) >= LONG_MIN_NEW) return { end: e, window: LONG_WINDOW_MS };
  }
  return undefined;
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
    const hit = burstEnd(b, p.atMs);
    if (hit === undefined) continue;
    const { end, window } = hit;
    if (end + GRACE_MS > clockMs) {
      // A later window reached MIN_NEW (writes emptied the first): it gets its own grace.
      b.pending = { ...p, dueMs: end + GRACE_MS, atMs: end };
      state.pending.add(key);
      if (!(b.pending.dueMs >= next)) next = b.pending.dueMs;
      continue;
    }
    // The window, and the reads that followed it within the grace (context: the harvest went on).
    const shown = b.reads.filter((r) => r.t > end - window && r.t > b.shownUntil && r.t <= end + GRACE_MS).sort((x, y) => x.t - y.t);
    const distinct = [...new Set(shown.map((r) => r.secret))];
    let last = end;
    for (const r of shown) if (r.t > last) last = r.t;
    b.quietUntil = last + WINDOW_MS;
    b.shownUntil = last;
    const paths = shown.some((r) => r.weight > 1) ? `; a recursive path read counts as ${RECURSIVE_PATH_WEIGHT}` : '';
    // A workload onboarding an application or a module reads a set under one or two prefixes; a dump spans more.
    const prefixes = new Set(distinct.map(prefixOf)).size;
    const low = p.workload && prefixes < WORKLOAD_MEDIUM_PREFIXES;
    const scope = p.workload ? `; ${prefixes} name prefix${prefixes === 1 ? '' : 'es'}` : '';
    const calls = new Map<string, number>();
    for (const r of shown) if (!calls.has(r.id)) calls.set(r.id, r.t);
    const all = [...calls];
    // The first and the last calls of a long harvest (the summary says how many there were).
    const events = all.length <= 2 * SHOWN_EACH_END ? all : [...all.slice(0, SHOWN_EACH_END), ...all.slice(-SHOWN_EACH_END)];
    const names = distinct.slice(0, 5).map((s) => s.replace(/^(sm|ssm):/, '')).join(', ');
    const froms = [...new Set(shown.map((r) => r.from))];
    const more = distinct.length > 5 ? `, and ${distinct.length - 5} more` : '';
    out.push(
      nativeAlert(d, {
        events: events.map(([id, ms]) => remembered(id, ms)),
        summary: `${p.label} read ${distinct.length} secrets it had never read within ${window / 60_000} minutes (${names}${distinct.length > 5 ? ', …' : ''}; ${calls.size} calls${paths}${scope})`,
        triage:
          `${shortIdentity(p.label)} read ${distinct.length} secrets it had never read within ${window / 60_000} minutes, ${froms.slice(0, 2).join(' and ')}${froms.length > 2 ? ` (and ${froms.length - 2} more places)` : ''}: ${names}${more}. ` +
          'Is there a change that explains a new set of secrets (a new Terraform module, an application release), and does the user agent fit where the calls came from? ' +
          `If not: revoke ${shortIdentity(p.label)}’s credentials, rotate every secret it read, and look for ListSecrets / DescribeParameters and other reads by it.`,
        ...(low ? { level: 'low' as const } : {}),
        principal: p.principal,
        account: p.account,
      }),
    );
  }
  state.dueAfterMs = next;
  return out;
}
