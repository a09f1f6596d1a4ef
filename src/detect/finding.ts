/**
 * GuardDuty finding versions (ADR 0046). GuardDuty folds repeats of one activity into one finding: it keeps the
 * finding id and bumps `service.count`, `service.eventLastSeen`, `updatedAt` and sometimes `severity`. Seam
 * collects every version (its `seam.id` is id + updatedAt), so an alert resting only on findings is named by
 * the rule and the finding ids, not the version's `seam.id`: one alert per (rule, finding), kept current by
 * each later version. Three keys say what a version is worth downstream:
 * - the alert id: the document in `seam-alerts-*` and the `seam.alerts` message key (one partition per alert);
 * - the revision (`revisionKey`): alert id + updatedAt, what makes a version a new `seam.alerts` message;
 * - the notice (`noticeKey`): alert id + severity level, what makes a version worth a notification again
 *   (its level rose above every level notified before).
 */
import type { SeamEvent } from '../core/envelope.ts';
import { num, obj, str, strOrNumber, type Rec } from '../core/values.ts';

/** GuardDuty's severity levels, lowest first. */
export const FINDING_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type FindingLevel = (typeof FINDING_LEVELS)[number];

/**
 * GuardDuty's severity bands (guardduty_findings-severity.html): low below 4.0, medium 4.0–6.9, high 7.0–8.9,
 * critical 9.0 and above (attack sequences).
 */
export function findingLevel(severity: number): FindingLevel {
  return severity >= 9 ? 'critical' : severity >= 7 ? 'high' : severity >= 4 ? 'medium' : 'low';
}

/** What an alert says about the one GuardDuty finding it rests on, from its newest version (`Alert.finding`). */
export interface FindingVersion {
  id: string;
  updated_at: string;
  created_at?: string;
  first_seen?: string;
  last_seen?: string;
  count?: number;
  severity?: number;
  severity_level?: FindingLevel;
}

function pick(o: Rec | undefined, camel: string): unknown {
  if (o === undefined) return undefined;
  const v = o[camel];
  return v !== undefined ? v : o[camel.charAt(0).toUpperCase() + camel.slice(1)];
}

/**
 * The finding version a GuardDuty event is, or undefined for another source or a finding without id or
 * updatedAt (its alert is then named by `seam.id`, as before). Reads the normalized (camelCase) finding, the
 * SDK's PascalCase and an EventBridge envelope's `detail` alike.
 */
export function findingVersionOf(event: SeamEvent): FindingVersion | undefined {
  if (event.seam.source !== 'guardduty') return undefined;
  const r = event as unknown as Rec;
  const detail = obj(r['detail']);
  const f = detail !== undefined && (detail['id'] !== undefined || detail['Id'] !== undefined) ? detail : r;
  const id = strOrNumber(pick(f, 'id'));
  const updatedAt = str(pick(f, 'updatedAt'));
  if (id === undefined || updatedAt === undefined) return undefined;
  const v: FindingVersion = { id, updated_at: updatedAt };
  const service = obj(pick(f, 'service'));
  const createdAt = str(pick(f, 'createdAt'));
  const firstSeen = str(pick(service, 'eventFirstSeen'));
  const lastSeen = str(pick(service, 'eventLastSeen'));
  const count = num(pick(service, 'count'));
  const severity = num(pick(f, 'severity'));
  if (createdAt !== undefined) v.created_at = createdAt;
  if (firstSeen !== undefined) v.first_seen = firstSeen;
  if (lastSeen !== undefined) v.last_seen = lastSeen;
  if (count !== undefined) v.count = count;
  if (severity !== undefined) {
    v.severity = severity;
    v.severity_level = findingLevel(severity);
  }
  return v;
}

/** What the keys below read of an alert. */
export interface FindingAlertRef {
  id: string;
  finding?: Pick<FindingVersion, 'updated_at' | 'severity_level'> | undefined;
  /** The alert raised again with more context (a GuardDuty join completed after a quiet advance): its revision number. */
  revision?: number | undefined;
}

/** Header on a `seam.alerts` message of a finding alert: its finding's `updatedAt` (the revision). */
export const FINDING_UPDATED_HEADER = 'seam-finding-updated';
/** Header on a `seam.alerts` message of a finding alert: its finding's severity level (the notice). */
export const FINDING_LEVEL_HEADER = 'seam-finding-level';

/** Header on a `seam.alerts` message of an alert raised again with more context (`revision`): its revision number. */
export const ALERT_REVISION_HEADER = 'seam-alert-revision';

/** The headers a finding alert's `seam.alerts` message carries, and a revised alert's (none for other alerts). */
export function findingHeaders(a: FindingAlertRef): Record<string, string> | undefined {
  const rev: Record<string, string> = a.revision === undefined ? {} : { [ALERT_REVISION_HEADER]: String(a.revision) };
  if (a.finding === undefined) return a.revision === undefined ? undefined : rev;
  return { [FINDING_UPDATED_HEADER]: a.finding.updated_at, ...(a.finding.severity_level ? { [FINDING_LEVEL_HEADER]: a.finding.severity_level } : {}), ...rev };
}

/**
 * An alert's revision: its id, for a finding alert the version's updatedAt (a later version is a new message), and the
 * revision number of an alert raised again with more context.
 */
export function revisionKey(a: FindingAlertRef): string {
  const base = a.finding === undefined ? a.id : `${a.id}@${a.finding.updated_at}`;
  return a.revision === undefined ? base : `${base}~r${a.revision}`;
}

/** The revision a `seam.alerts` message carries, from its key and headers. */
export function messageRevisionKey(key: string, headers: Record<string, string | undefined> | undefined): string {
  const u = headers?.[FINDING_UPDATED_HEADER];
  const r = headers?.[ALERT_REVISION_HEADER];
  const base = u === undefined ? key : `${key}@${u}`;
  return r === undefined ? base : `${base}~r${r}`;
}

/**
 * The notice an alert would be notified as: its id, and for a finding alert its severity level. A version whose
 * notice is already known (`noticesCovered` of an earlier notified version) is an update, not a new alert.
 */
export function noticeKey(a: FindingAlertRef): string {
  return a.finding === undefined ? a.id : `${a.id}#${a.finding.severity_level ?? 'low'}`;
}

/** The notices a notified version covers: for a finding alert at level L, every level up to L (a fall is no news). */
export function noticesCovered(id: string, level: string | undefined): string[] {
  if (level === undefined) return [id];
  const i = (FINDING_LEVELS as readonly string[]).indexOf(level);
  return FINDING_LEVELS.slice(0, i < 0 ? 1 : i + 1).map((l) => `${id}#${l}`);
}

/** The notices of an alert (`noticesCovered` of its id and level). */
export function alertNotices(a: FindingAlertRef): string[] {
  return a.finding === undefined ? [a.id] : noticesCovered(a.id, a.finding.severity_level ?? 'low');
}

/** The notices a `seam.alerts` message covers, from its key and headers (a finding alert carries its level). */
export function messageNotices(key: string, headers: Record<string, string | undefined> | undefined): string[] {
  if (headers?.[FINDING_UPDATED_HEADER] === undefined) return [key];
  return noticesCovered(key, headers[FINDING_LEVEL_HEADER] ?? 'low');
}
