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
 */
export const GRACE_MS = 5 * 60_000;

interface Read {
  t: number;
  secret: string;
  id: string;
}

interface Burst {
  /** First reads in the window (event time), with the secret and the event. */
  reads: Read[];
  /** No new alert for this subject before this event time. */
  quietUntil: number;
  /** A burst that reached MIN_NEW, waiting for GRACE_MS: when it is due, whose it is, and the alert's context. */
  pending?: { dueMs: number; atMs: number; label: string; principal: Principal | undefined; account: string | undefined };
}

interface State {
  bursts: Lru<string, Burst>;
  /** Subjects with a pending burst, and the earliest due time among them (NaN: none). */
  pending: Set<string>;
  dueAfterMs: number;
}

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
  createState: (c: NativeConfig): State => ({ bursts: boundedLru(c.maxStateEntries), pending: new Set(), dueAfterMs: Number.NaN }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail') return [];
    if (event.eventSource !== 'secretsmanager.amazonaws.com' && event.eventSource !== 'ssm.amazonaws.com') return [];
    const read = secretsRead(event);
    const secrets = read.length > 0 ? read : secretsWritten(event);
    if (secrets.length === 0 || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined || !baselinable(event)) return [];
    if (str(obj(event.userIdentity)?.invokedBy) !== undefined || LAMBDA_RUNTIME.test(str(event.userAgent) ?? '')) return [];
    const subject = baselineSubject(event, ctx.resolution.cluster);
    if (subject === undefined) return [];
    const start = learningStart(event, ctx, graph, subject.key);
    const account = event.seam.account ?? str(event.recipientAccountId) ?? 'unknown';
    const region = str(event.awsRegion) ?? 'unknown';
    const fresh: string[] = [];
    for (const s of secrets) {
      const target = `secret:${account}:${region}:${s}`;
      const seen = remember(event, ctx, graph, { kind: 'read_secret', key: `read_secret|${subject.key}|${target}`, from: subject.key, to: target });
      if (seen.before === undefined) fresh.push(s);
    }
    const t = timeOf(event);
    if (read.length === 0) {
      // A write: a read of the same secret waiting in a burst was not a first read after all.
      const b = state.bursts.get(subject.key);
      if (b !== undefined) b.reads = b.reads.filter((r) => !secrets.includes(r.secret) || Math.abs(r.t - t) > GRACE_MS);
      return [];
    }
    if (fresh.length === 0 || learning(event, ctx.config, start)) return [];
    let b = state.bursts.get(subject.key);
    if (b === undefined) state.bursts.set(subject.key, (b = { reads: [], quietUntil: 0 }));
    for (const s of fresh) b.reads.push({ t, secret: s, id: event.seam.id });
    // Out-of-order events keep their own times: reads more than a window away from this one are dropped.
    b.reads = b.reads.filter((r) => r.t > t - WINDOW_MS - GRACE_MS && r.t <= t + WINDOW_MS);
    if (b.pending !== undefined || t < b.quietUntil || distinctNew(b.reads, t).length < MIN_NEW) return [];
    b.pending = { dueMs: t + GRACE_MS, atMs: t, label: subject.label, principal: ctx.resolution.principal ?? event.seam.principal, account: event.seam.account };
    state.pending.add(subject.key);
    if (!(b.pending.dueMs >= state.dueAfterMs)) state.dueAfterMs = b.pending.dueMs;
    return [];
  },
  advance(nowMs: number, _graph: IdentityGraph, state: State): Alert[] {
    if (!(nowMs >= state.dueAfterMs)) return [];
    return settle(this, state, nowMs);
  },
  flush(_graph: IdentityGraph, state: State): Alert[] {
    return settle(this, state, Number.POSITIVE_INFINITY);
  },
};

/** The distinct secrets first read within the WINDOW_MS that ends at `t`. */
function distinctNew(reads: readonly Read[], t: number): string[] {
  return [...new Set(reads.filter((r) => r.t > t - WINDOW_MS && r.t <= t).map((r) => r.secret))];
}

/** Alerts for the pending bursts due by `nowMs` that still hold MIN_NEW first reads (writes may have removed some). */
function settle(d: NativeDetection<State>, state: State, nowMs: number): Alert[] {
  const out: Alert[] = [];
  let next = Number.NaN;
  for (const key of [...state.pending]) {
    const b = state.bursts.get(key);
    const p = b?.pending;
    if (b === undefined || p === undefined) {
      state.pending.delete(key);
      continue;
    }
    if (p.dueMs > nowMs) {
      if (!(p.dueMs >= next)) next = p.dueMs;
      continue;
    }
    state.pending.delete(key);
    b.pending = undefined;
    // The window that ends at the burst's last first read (reads that came in late count too).
    const end = Math.max(p.atMs, ...b.reads.filter((r) => r.t <= p.atMs + GRACE_MS).map((r) => r.t));
    const inWindow = b.reads.filter((r) => r.t > end - WINDOW_MS && r.t <= end);
    const distinct = distinctNew(b.reads, end);
    if (distinct.length < MIN_NEW) continue;
    b.quietUntil = end + WINDOW_MS;
    const calls = new Map<string, number>();
    for (const r of inWindow.sort((x, y) => x.t - y.t)) if (!calls.has(r.id)) calls.set(r.id, r.t);
    const shown = distinct.slice(0, 5).map((s) => s.replace(/^(sm|ssm):/, '')).join(', ');
    out.push(
      nativeAlert(d, {
        // The reads that made the burst, in time order; at most 50 (the summary says how many).
        events: [...calls].slice(-50).map(([id, ms]) => remembered(id, ms)),
        summary: `${p.label} read ${distinct.length} secrets it had never read within ${WINDOW_MS / 60_000} minutes (${shown}${distinct.length > 5 ? ', …' : ''}; ${calls.size} calls)`,
        principal: p.principal,
        account: p.account,
      }),
    );
  }
  state.dueAfterMs = next;
  return out;
}
