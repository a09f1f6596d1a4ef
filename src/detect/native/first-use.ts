/** Shared by the aws-auth and access-entry detections: remember a new grant, alert when the grantee first acts in the cluster. */
import type { SeamEvent } from '../../core/envelope.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import { alertId, fromSuffix, type Contribution } from '../alert.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import type { Lru } from '../../core/lru.ts';
import { nativeAlert, remembered } from './util.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { obj, str } from '../../core/values.ts';
import { isoMs } from '../../core/time.ts';

export interface Grant {
  cluster: string;
  principal: string;
  grant: Contribution;
  what: string;
  admin: boolean;
  /** Who made the grant (the grant event's principal), named on the first-use alert, whose principal is the grantee. */
  by?: string;
  /**
   * Kubernetes groups a request must carry in `user.groups` to be a use of the grant (an aws-auth mapping's new groups;
   * the EKS authenticator lists the groups it mapped the request to). A request of the grantee whose groups lack one
   * was not authorised by the grant (not reloaded yet, or an access entry for the principal takes precedence): it is
   * not the grant's first use, which is still awaited. Absent or empty: any request of the grantee is.
   */
  groups?: string[];
  /** How the graph saw the grantee before the grant ("seen at … as ci-deployer in deployers"), for the triage. */
  before?: string;
}

export type Pending = Lru<string, Grant>;

/** The IAM principal (role or user ARN, canonical) behind an audit event's authenticated user. */
export function iamPrincipalOfAudit(event: SeamEvent): string | undefined {
  if (event.seam.source !== 'k8s_audit') return undefined;
  const extra = obj(obj(event.user)?.extra);
  const canon = extra?.canonicalArn;
  const c = Array.isArray(canon) ? str(canon[0]) : str(canon);
  if (c !== undefined) return canonicalIamArn(c);
  const arn = event.seam.principal?.arn;
  return arn === undefined ? undefined : canonicalIamArn(roleOfSession(arn) ?? arn);
}

export function remember(
  pending: Pending,
  cluster: string,
  principal: string,
  id: string,
  timeMs: number,
  what: string,
  admin: boolean,
  by?: string,
  more: Pick<Grant, 'groups' | 'before'> = {},
): void {
  pending.set(cluster + '|' + principal, {
    cluster,
    principal,
    grant: remembered(id, timeMs),
    what,
    admin,
    ...(by === undefined ? {} : { by }),
    ...(more.groups === undefined || more.groups.length === 0 ? {} : { groups: more.groups }),
    ...(more.before === undefined ? {} : { before: more.before }),
  });
}

/** The groups an audit event's `user.groups` lists (undefined when it lists none or is not an array). */
export function requestGroups(event: SeamEvent): string[] | undefined {
  const g = obj(event.user)?.groups;
  if (!Array.isArray(g)) return undefined;
  const out = g.filter((x): x is string => typeof x === 'string');
  return out.length === 0 ? undefined : out;
}

/** The first-use variant (`Alert.rule.variant`) of the aws-auth and access-entry detections. */
export const FIRST_USE = 'first_use';

/**
 * The first-use alert's triage text: its principal is the grantee, so it names who granted what and when, and the
 * grant's own alert ids (each grant event raised one under the same detection id: `alertId(detection, [event])`).
 */
export function firstUseTriage(detectionId: string, g: Grant, event: SeamEvent): string {
  const grantee = shortIdentity(event.seam.principal?.arn ?? event.seam.principal?.id ?? g.principal);
  const by = g.by === undefined ? undefined : shortIdentity(g.by);
  const alerts = g.grant.ids.map((id) => alertId(detectionId, [id])).join(', ');
  return (
    `The principal here is the grantee, ${grantee}, acting in ${g.cluster} for the first time since ${by ?? 'an unknown principal'} gave it a new ${g.what} at ${new Date(g.grant.timeMs).toISOString()} (grant alert${g.grant.ids.length > 1 ? 's' : ''} ${alerts}). ` +
    `Ask ${by ?? 'whoever made the grant'} whether the grant was a reviewed change; find who can assume ${shortIdentity(g.principal)} (its trust policy; for a workload role, the pods of its service accounts). ` +
    (g.before === undefined ? '' : `Before the grant ${shortIdentity(g.principal)} was ${g.before}: compare this request with what it did then (seam hunt --who ${g.principal}). `) +
    `If it was not reviewed: remove the grant, revoke the grantee's sessions issued before now, and review everything ${grantee} did in ${g.cluster} since the grant.`
  );
}

/** The first-use alert's summary: what the grantee did, and the grant it used (what, who granted it, when), then ` from <address>` (SOC review L2). */
export function firstUseSummary(g: Grant, event: SeamEvent): string {
  const who = event.seam.principal?.arn ?? event.seam.principal?.id;
  const granted = `granted by ${g.by ?? 'unknown'} at ${new Date(g.grant.timeMs).toISOString()}`;
  const groups = g.groups === undefined ? undefined : requestGroups(event);
  const carried = groups === undefined ? '' : `; the request's groups: ${groups.join(', ')}`;
  return `${`First use of a new ${g.what} in ${g.cluster} (${granted}${carried}): ${who} ${event.seam.action ?? ''} ${event.seam.resource ?? ''}`.trim()}${fromSuffix(event)}`;
}

/**
 * The alert for the first use of a grant `event` uses, if one waits (critical when the grant made the identity
 * cluster admin, high otherwise): the same for every kind of grant (an access entry's policy, an aws-auth mapping).
 */
export function firstUseAlert(detection: NativeDetection<unknown>, variant: { name: string; title: string }, pending: Pending, event: SeamEvent, ctx: EvalContext): Alert | undefined {
  const used = firstUse(pending, event, ctx.config.firstUseWindowMs);
  if (used === undefined) return undefined;
  return nativeAlert(detection, {
    variant,
    triage: firstUseTriage(detection.id, used, event),
    level: used.admin ? 'critical' : 'high',
    events: [used.grant, event],
    summary: firstUseSummary(used, event),
    principal: ctx.resolution.principal,
    account: event.seam.account,
    cluster: used.cluster,
  });
}

/** The grant this event is the first use of, if any (and forgets it). */
export function firstUse(pending: Pending, event: SeamEvent, windowMs: number): Grant | undefined {
  // Nearly always nothing waits: no principal to work out, no key to build.
  if (pending.size === 0) return undefined;
  const principal = iamPrincipalOfAudit(event);
  if (principal === undefined) return undefined;
  const key = (event.seam.cluster ?? 'unknown') + '|' + principal;
  const g = pending.peek(key);
  if (g === undefined) return undefined;
  // A request the grant did not authorise (its groups lack the granted ones) is not its use: keep waiting.
  if (g.groups !== undefined && g.groups.length > 0) {
    const has = requestGroups(event);
    if (has !== undefined && !g.groups.every((x) => has.includes(x))) return undefined;
  }
  pending.delete(key);
  const t = isoMs(event['@timestamp']);
  return t - g.grant.timeMs <= windowMs && t >= g.grant.timeMs ? g : undefined;
}

/**
 * The grants still waiting for their first use, oldest first, for `seam run --resume` (ADR 0044): a grant and its
 * first use a day apart fall in two daily runs. Grants older than the window at `nowMs` can no longer be used
 * (`firstUse` would not alert) and are left out; the LRU's bound (maxStateEntries) bounds the rest.
 */
export function savePending(pending: Pending, nowMs: number, windowMs: number): Grant[] {
  const out: Grant[] = [];
  for (const key of pending.rkeys()) {
    const g = pending.peek(key);
    if (g !== undefined && !(nowMs - g.grant.timeMs > windowMs)) out.push(g);
  }
  return out;
}

/** Puts saved grants back (oldest first, so the LRU forgets in the same order); a value that is not a grant is skipped. */
export function loadPending(pending: Pending, entries: readonly unknown[]): void {
  for (const e of entries) {
    const g = e as Partial<Grant> | null;
    const c = g?.grant;
    if (typeof g?.cluster !== 'string' || typeof g.principal !== 'string' || typeof g.what !== 'string' || typeof g.admin !== 'boolean') continue;
    if (c === undefined || !Array.isArray(c.ids) || !Array.isArray(c.nativeIds) || typeof c.timeMs !== 'number') continue;
    if (g.groups !== undefined && !(Array.isArray(g.groups) && g.groups.every((x) => typeof x === 'string'))) continue;
    if (g.before !== undefined && typeof g.before !== 'string') continue;
    pending.set(g.cluster + '|' + g.principal, g as Grant);
  }
}
