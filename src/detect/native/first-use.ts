/** Shared by the aws-auth and access-entry detections: remember a new grant, alert when the grantee first acts in the cluster. */
import type { SeamEvent } from '../../core/envelope.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import { alertId, fromSuffix, type Contribution } from '../alert.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import type { Lru } from '../../core/lru.ts';
import { remembered } from './util.ts';
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

export function remember(pending: Pending, cluster: string, principal: string, id: string, timeMs: number, what: string, admin: boolean, by?: string): void {
  pending.set(cluster + '|' + principal, { cluster, principal, grant: remembered(id, timeMs), what, admin, ...(by === undefined ? {} : { by }) });
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
    `If it was not reviewed: remove the grant, revoke the grantee's sessions issued before now, and review everything ${grantee} did in ${g.cluster} since the grant.`
  );
}

/** The first-use alert's summary: what the grantee did, and the grant it used (what, who granted it, when), then ` from <address>` (SOC review L2). */
export function firstUseSummary(g: Grant, event: SeamEvent): string {
  const who = event.seam.principal?.arn ?? event.seam.principal?.id;
  const granted = `granted by ${g.by ?? 'unknown'} at ${new Date(g.grant.timeMs).toISOString()}`;
  return `${`First use of a new ${g.what} in ${g.cluster} (${granted}): ${who} ${event.seam.action ?? ''} ${event.seam.resource ?? ''}`.trim()}${fromSuffix(event)}`;
}

/** The grant this event is the first use of, if any (and forgets it). */
export function firstUse(pending: Pending, event: SeamEvent, windowMs: number): Grant | undefined {
  // Nearly always nothing waits: no principal to work out, no key to build.
  if (pending.size === 0) return undefined;
  const principal = iamPrincipalOfAudit(event);
  if (principal === undefined) return undefined;
  const key = (event.seam.cluster ?? 'unknown') + '|' + principal;
  const g = pending.get(key);
  if (g === undefined) return undefined;
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
    pending.set(g.cluster + '|' + g.principal, g as Grant);
  }
}
