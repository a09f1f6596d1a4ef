/**
 * The alert: what detection hands to `seam.alerts`, OpenSearch `seam-alerts-*`, webhooks and the
 * console. One shape for single-rule Sigma matches, Sigma correlations and native detections.
 * The id is derived from the rule and the contributing events, so a redelivered or replayed input
 * re-creates the same alert id and the index never holds duplicates. See docs/alerts.md.
 */
import { hash } from 'node:crypto';
import { z } from 'zod';
import { ChainStep, Principal } from '../core/envelope.ts';
import type { SeamEvent } from '../core/envelope.ts';
import type { RuleMatch } from './sigma/types.ts';
import { DEFAULT_LEVEL } from './sigma/validate.ts';
import { CORRELATION_TYPES } from './correlate/types.ts';
import { strOrNumber } from '../core/values.ts';
import { isoMs } from '../core/time.ts';
import { scrub } from '../core/normalize/redact.ts';
import { FINDING_LEVELS, findingVersionOf, type FindingVersion } from './finding.ts';
import { sharedWith } from '../core/normalize/cloudtrail.ts';
import { requestOf } from './request-once.ts';
import { mapLogsource } from './sigma/logsource.ts';
import { resolveField } from './sigma/fields.ts';

export const ALERT_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type AlertLevel = (typeof ALERT_LEVELS)[number];

export const AlertRule = z
  .strictObject({
    id: z.string().describe('Rule id (Sigma `id`; for correlations without one, their `name` or a hash of the title).'),
    title: z.string(),
    level: z.enum(ALERT_LEVELS).describe('Severity; Sigma `level`, `medium` when the rule states none.'),
    tags: z.array(z.string()).describe('Sigma tags, e.g. attack.t1611.'),
    type: z.enum(['sigma', 'correlation', 'native']).describe('Which kind of detection raised the alert.'),
    correlation_type: z.enum(CORRELATION_TYPES).optional().describe('For correlations: the Sigma correlation type.'),
    variant: z
      .string()
      .optional()
      .describe(
        'For a native detection that raises several kinds of alert under one id (`seam-native-access-entry-grant`: `created`, `groups_added`, `admin_policy`, `first_use`): which one this is. `title` is then the variant\'s own title; `id` stays the detection\'s.',
      ),
  })
  .describe('The detection that raised the alert.');
export type AlertRule = z.infer<typeof AlertRule>;

export const Alert = z
  .strictObject({
    id: z
      .string()
      .describe(
        'Deterministic: sha256 of the rule id and the sorted contributing `seam.id`s (first 32 hex digits); when every contributing event is a GuardDuty finding, of the rule id and the sorted finding ids instead, so later versions of a finding update the same alert (ADR 0046); for a Sigma rule that reads no `stage` on a Kubernetes audit event, of the rule id and the request\'s auditID, so both stages of one request name one alert (ADR 0057).',
      ),
    '@timestamp': z.string().describe('Event time of the last contributing event, ISO 8601.'),
    rule: AlertRule,
    events: z.array(z.string()).describe('`seam.id` of every contributing event, in event-time order.'),
    native_ids: z
      .array(z.string())
      .describe('Ids the source systems gave those events: CloudTrail eventID, audit auditID, GuardDuty finding id, runtime event id/uuid.'),
    related_events: z
      .array(z.string())
      .optional()
      .describe(
        '`seam.id` of events joined to the alert as context, not evidence, in event-time order: the same identity\'s CloudTrail and audit activity around a GuardDuty finding (`seam-native-guardduty-incident`). They do not name the alert, set its time or colour an incident timeline.',
      ),
    group: z
      .record(z.string(), z.string())
      .optional()
      .describe('For correlations: the group-by field (or alias) → the value shared by the contributing events.'),
    fields: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .optional()
      .describe(
        "For a Sigma rule or correlation with `fields:` (the fields of interest for the analyst): each listed field, as the rule names it, → its value in the matching event, as text (a list for several values; objects as JSON; each value cut at 1024 characters and scrubbed as the summary is). A correlation's are the distinct values of every event it rests on, in event-time order (one value as text, several as a list of at most 20, then a `… N more` entry), read as its group-by is (aliases applied). A field the event lacks is left out; absent when the rule lists none or the events have none of them.",
      ),
    principal: Principal.optional().describe('`seam.principal` of the last contributing event.'),
    origin: Principal.optional().describe('Who acted, really, as the identity graph resolved the principal (`seam.origin`).'),
    chain: z.array(ChainStep).optional().describe('The identity path from the acting credentials to the origin (`seam.chain`).'),
    account: z.string().optional().describe('AWS account of the last contributing event.'),
    cluster: z.string().optional().describe('EKS cluster of the last contributing event.'),
    source_ip: z.string().optional().describe('`seam.source_ip` of the last contributing event: the address the request came from.'),
    user_agent: z.string().optional().describe('`seam.user_agent` of the last contributing event.'),
    region: z.string().optional().describe('`seam.region` of the last contributing event.'),
    outcome: z.enum(['success', 'failure', 'unknown']).optional().describe('`seam.outcome` of the last contributing event: whether the request succeeded.'),
    resource: z
      .string()
      .optional()
      .describe(
        'What the alert is about when its last contributing event is a GuardDuty finding about a resource other than an EKS cluster: `ec2:<instance id>`, `s3:<bucket>`, `akid:<access key id>`, `ecs:<cluster>`, `container:<id>`, `lambda:<function>`, `rds:<database>`. An alert with no principal is grouped into incidents by it (ADR 0048).',
      ),
    incident_key: z
      .string()
      .optional()
      .describe(
        'The key of the incident the alert belongs to (`incidentKey`, src/pipeline/incident-topic.ts: who acted, really, scoped as ADR 0048 and 0051 scope it), the same key incidents are grouped by: an incident\'s id is `inc-` + 12 hex digits of its sha256. Dashboards group alerts by it. Set on every alert the detect stage raises; an early (`provisional`) alert\'s is its principal\'s (its final may name another).',
      ),
    summary: z.string().describe('One line a person can read in a pager.'),
    triage: z
      .string()
      .optional()
      .describe(
        'What to check first: the `Triage:` paragraph of a Sigma rule\'s or correlation\'s description (notes on tuning the rule left out), or a native detection\'s triage text for this alert (naming the event\'s values where it can). Absent when the rule has none.',
      ),
    window: z
      .strictObject({ start: z.string(), end: z.string() })
      .optional()
      .describe('For correlations: event time of the first and last contributing event, ISO 8601.'),
    aggregate: z
      .number()
      .optional()
      .describe('For correlations: the value the condition was checked against (count, distinct values, rules seen, sum, average or share in percent).'),
    dry_run: z
      .literal(true)
      .optional()
      .describe(
        'Every event the alert rests on was a Kubernetes server-side dry run (`seam.dry_run`, ADR 0045): the API server admitted and validated the request and wrote nothing. The request is real (who sent it, from where, with which credentials); its change is not. The summary starts with "Dry run". Absent when any contributing event was not a dry run (a correlation mixing both says so in its summary).',
      ),
    late: z
      .literal(true)
      .optional()
      .describe('Raised by evidence that reached the correlate stage after its watermark had passed it (ADR 0009): evaluated out of event-time order, so a cross-plane join may be incomplete.'),
    provisional: z
      .literal(true)
      .optional()
      .describe('Raised early, when its event arrived, before the identity graph annotated it (ADR 0025): no origin or chain yet, principal as the record says it. The final alert (same id, without this field) replaces it once the event-time watermark passes the event.'),
    revision: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'The alert raised again, same id, with context that arrived after it went out: a GuardDuty join (seam-native-guardduty-incident) a quiet advance closed before event time reached its window\'s end (ADR 0009 decision 7), completed with the activity of its window read afterwards (the next chunk of a backlog). 1 for the first revision, and so on. Replaces the earlier version (index document, `seam.alerts` message); not notified again.',
      ),
    finding: z
      .strictObject({
        id: z.string().describe('The finding id (`id`): the same in every version.'),
        updated_at: z.string().describe('`updatedAt` of the newest version the alert was raised on.'),
        created_at: z.string().optional().describe('`createdAt`: when GuardDuty created the finding (the same in every version).'),
        first_seen: z.string().optional().describe('`service.eventFirstSeen`: the first sighting of the activity (the same in every version).'),
        last_seen: z.string().optional().describe('`service.eventLastSeen` of that version: the latest sighting.'),
        count: z.number().optional().describe('`service.count` of that version: how many times GuardDuty saw the activity.'),
        severity: z.number().optional().describe('`severity` of that version.'),
        severity_level: z.enum(FINDING_LEVELS).optional().describe('GuardDuty\'s band for `severity`: low < 4, medium 4–6.9, high 7–8.9, critical ≥ 9.'),
      })
      .optional()
      .describe(
        'For an alert resting on the versions of one GuardDuty finding (ADR 0046): that finding as its newest version says. The alert id is named by the finding, so each later version replaces this alert (index document, `seam.alerts` message) instead of raising a new one; it is notified again only when `severity_level` rose above every level notified before.',
      ),
    also_matched: z
      .array(
        z.strictObject({
          rule_id: z.string().describe('The folded alert\'s rule id.'),
          title: z.string().describe('Its rule title.'),
          level: z.enum(ALERT_LEVELS).describe('Its level (never above this alert\'s).'),
          alert_id: z.string().describe('Its alert id (that alert carries `folded_into` this one).'),
        }),
      )
      .optional()
      .describe(
        'The other alerts the same detection step raised on exactly this alert\'s one event (ADR 0050), leader first order: level, native before Sigma, rule id. This alert leads them (highest level; ties: native before Sigma, then rule id) and is the one notified. Absent when no other rule fired on the event.',
      ),
    folded_into: z
      .string()
      .optional()
      .describe(
        'The id of the alert this one is folded into (ADR 0050): the same event raised it and an alert that leads (higher level; ties: native before Sigma, then rule id), which lists this one in `also_matched`. Indexed and written like any alert; not notified.',
      ),
    unenriched: z
      .enum(['enrichment_failed', 'not_confirmed', 'member_stopped'])
      .optional()
      .describe(
        'An early alert closed without the identity graph (ADR 0027), its content the provisional version (principal as the record says it, no origin or chain): enrichment_failed, the detect stage threw on its event (dead-lettered) — final; not_confirmed, the ordered path ran on the annotated event and did not raise it — final; member_stopped, the correlate member stopped while the event was held — the next owner\'s final replaces it, if one takes the partition within the rebuild window.',
      ),
  })
  .describe('An alert raised by a Sigma rule, a Sigma correlation or a native detection.');
export type Alert = z.infer<typeof Alert>;

/** What the builder needs to know about one contributing event. */
export interface Contribution {
  /** `seam.id`s (a single event, or all events behind a nested correlation alert). */
  ids: readonly string[];
  nativeIds: readonly string[];
  /** Event time of the (last) event. */
  timeMs: number;
  /** Event time of the first event, when the contribution is itself a window (nested correlation). */
  startMs?: number;
  /** Every event of the contribution was a server-side dry run (`seam.dry_run`; a nested alert's `dry_run`). */
  dryRun?: boolean;
  /** The contribution is one version of a GuardDuty finding (ADR 0046). */
  finding?: FindingVersion;
  /** Where the (last) event came from and how it ended, when the event itself was at hand. */
  where?: EventWhere;
}

/** Where an event came from and how it ended: `seam.source_ip`, `seam.user_agent`, `seam.region`, `seam.outcome`. */
export interface EventWhere {
  source_ip?: string;
  user_agent?: string;
  region?: string;
  outcome?: 'success' | 'failure' | 'unknown';
}

/** The `where` of an event, or undefined when it has none of the four. */
export function whereOf(event: SeamEvent): EventWhere | undefined {
  const s = event.seam;
  if (s.source_ip === undefined && s.user_agent === undefined && s.region === undefined && s.outcome === undefined) return undefined;
  const w: EventWhere = {};
  if (s.source_ip !== undefined) w.source_ip = s.source_ip;
  if (s.user_agent !== undefined) w.user_agent = s.user_agent;
  if (s.region !== undefined) w.region = s.region;
  if (s.outcome !== undefined) w.outcome = s.outcome;
  return w;
}

export interface AlertInput {
  rule: AlertRule;
  contributions: readonly Contribution[];
  principal?: Principal;
  account?: string;
  cluster?: string;
  summary: string;
  /** What to check first (`Alert.triage`). */
  triage?: string | undefined;
  group?: Record<string, string>;
  /** Set for correlations: the window is the span of the contributions. */
  windowed?: boolean;
  aggregate?: number;
  /**
   * The GuardDuty finding version the alert is about, when other events joined to it (a native detection's
   * surrounding activity) should not name it: the alert is then named by the rule and the finding id (ADR 0046).
   */
  finding?: FindingVersion;
}

/** Deterministic alert id: same rule + same set of events → same id, whatever the arrival order. */
export function alertId(ruleId: string, eventIds: readonly string[]): string {
  // One-shot hash of the same bytes the streaming form hashed (rule id, then "\n" + each id).
  const text = eventIds.length === 1 ? ruleId + '\n' + eventIds[0]! : ruleId + [...new Set(eventIds)].sort().map((id) => '\n' + id).join('');
  return hash('sha256', text, 'hex').slice(0, 32);
}

/**
 * The level an alert is routed at (delivery `routes[].minLevel`): its rule's level, or, for an alert on a GuardDuty
 * finding (ADR 0046), the finding's severity band when that is higher. A finding alert is notified again when its
 * band rises; the rise reaches the routes of its band, so the finding's later join need not say it again (ADR 0052).
 */
export function notifiedLevel(a: { rule: { level: AlertLevel }; finding?: { severity_level?: string | undefined } | undefined }): AlertLevel {
  const band = a.finding?.severity_level;
  if (band === undefined) return a.rule.level;
  const b = ALERT_LEVELS.indexOf(band as AlertLevel);
  return b > ALERT_LEVELS.indexOf(a.rule.level) ? (band as AlertLevel) : a.rule.level;
}

export function toLevel(level: unknown): AlertLevel {
  return (ALERT_LEVELS as readonly unknown[]).includes(level) ? (level as AlertLevel) : DEFAULT_LEVEL;
}

/** `new Date(ms).toISOString()`, remembered for the last time asked (an event's alerts come one after another). */
let lastIsoMs = NaN;
let lastIso = '';
function isoOf(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/** How an alert whose every event was a server-side dry run starts its summary (ADR 0045). */
export const DRY_RUN_PREFIX = 'Dry run (the API server wrote nothing): ';

/** A correlation's group-by values are event field values (a command line, a request URI): scrubbed like the summary. */
function scrubbedGroup(group: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const k in group) {
    const v = group[k] as string;
    const s = scrub(v);
    if (s !== v) (out ??= { ...group })[k] = s;
  }
  return out ?? group;
}

/** Builds and returns an alert; used by single-rule matches, correlations and native detections. */
export function buildAlert(input: AlertInput): Alert {
  const sorted = input.contributions.length === 1 ? input.contributions : [...input.contributions].sort((a, b) => a.timeMs - b.timeMs);
  let events: string[];
  let nativeIds: string[];
  const only = sorted.length === 1 ? sorted[0]! : undefined;
  if (only !== undefined && only.ids.length <= 1 && only.nativeIds.length <= 1) {
    // One event (a single-rule match, most native detections): nothing to order or deduplicate.
    events = [...only.ids];
    nativeIds = [...only.nativeIds];
  } else {
    events = [];
    nativeIds = [];
    const seen = new Set<string>();
    const seenNative = new Set<string>();
    for (const c of sorted) {
      for (const id of c.ids) {
        if (!seen.has(id)) events.push(id);
        seen.add(id);
      }
      for (const id of c.nativeIds) {
        if (!seenNative.has(id)) nativeIds.push(id);
        seenNative.add(id);
      }
    }
  }
  let first = Infinity;
  for (const c of sorted) first = Math.min(first, c.startMs ?? c.timeMs);
  const last = sorted[sorted.length - 1]?.timeMs ?? 0;
  let dry = 0;
  for (const c of sorted) if (c.dryRun === true) dry++;
  // Versions of GuardDuty findings only: named by the findings, so a later version is the same alert (ADR 0046).
  let findings: FindingVersion[] | undefined = [];
  for (const c of sorted) {
    if (c.finding === undefined) {
      findings = undefined;
      break;
    }
    findings.push(c.finding);
  }
  if (input.finding !== undefined) findings = [input.finding];
  const findingIds = findings === undefined || findings.length === 0 ? undefined : [...new Set(findings.map((f) => f.id))];
  const alert: Alert = {
    id: alertId(input.rule.id, findingIds ?? events),
    '@timestamp': isoOf(last),
    rule: input.rule,
    events,
    native_ids: nativeIds,
    // scrub: a safety net under normalization's redaction (SOC review H1). Summaries quote event text (a decoded
    // exec command, a process command line): a secret normalization missed must not ride out in one.
    summary: scrub(dry === 0 ? input.summary : dry === sorted.length ? DRY_RUN_PREFIX + input.summary : `${input.summary} (${dry} of its ${sorted.length} contributing signals were dry runs)`),
  };
  // The same safety net: a native's triage text names the event's values (a resource, an address, a user agent).
  if (input.triage !== undefined) alert.triage = scrub(input.triage);
  if (findingIds?.length === 1) {
    // The newest version speaks for the finding (its first sighting and creation are the same in every version).
    let newest = findings![0]!;
    for (const f of findings!) if (f.updated_at > newest.updated_at) newest = f;
    alert.finding = { ...newest };
  }
  if (dry > 0 && dry === sorted.length) alert.dry_run = true;
  if (input.group !== undefined) alert.group = scrubbedGroup(input.group);
  if (input.principal !== undefined) alert.principal = input.principal;
  if (input.account !== undefined) alert.account = input.account;
  if (input.cluster !== undefined) alert.cluster = input.cluster;
  // Where and how: from the last contribution whose event was at hand (all four from that one event).
  let where: EventWhere | undefined;
  for (let i = sorted.length - 1; i >= 0 && where === undefined; i--) where = sorted[i]!.where;
  if (where !== undefined) {
    if (where.source_ip !== undefined) alert.source_ip = where.source_ip;
    if (where.user_agent !== undefined) alert.user_agent = where.user_agent;
    if (where.region !== undefined) alert.region = where.region;
    if (where.outcome !== undefined) alert.outcome = where.outcome;
  }
  if (input.windowed) alert.window = { start: new Date(first).toISOString(), end: new Date(last).toISOString() };
  if (input.aggregate !== undefined) alert.aggregate = input.aggregate;
  return alert;
}

/**
 * The id the source system gave the record, read from the raw fields by `seam.source`:
 * CloudTrail `eventID`, audit `auditID`, GuardDuty finding `Id`/`id` (also inside an EventBridge
 * `detail`), runtime `uuid`/`id`.
 */
export function nativeIdOf(event: SeamEvent): string | undefined {
  switch (event.seam.source) {
    case 'cloudtrail':
      return strOrNumber(event['eventID']);
    case 'k8s_audit':
      return strOrNumber(event['auditID']);
    case 'guardduty': {
      const detail = event['detail'];
      const inner = detail !== null && typeof detail === 'object' ? (detail as Record<string, unknown>) : undefined;
      // An EventBridge envelope has its own top-level `id`; the finding's id is in `detail`.
      return strOrNumber(inner?.['id']) ?? strOrNumber(inner?.['Id']) ?? strOrNumber(event['Id']) ?? strOrNumber(event['id']);
    }
    case 'runtime':
      return strOrNumber(event['uuid']) ?? strOrNumber(event['id']) ?? strOrNumber(event['event_id']);
    default:
      return undefined;
  }
}

/** Event time in ms since the epoch, or NaN when `@timestamp` is unusable. */
export function eventTimeMs(event: SeamEvent): number {
  return isoMs(event['@timestamp']);
}

/** One event as a contribution to an alert. */
export function contributionOf(event: SeamEvent): Contribution {
  const nid = nativeIdOf(event);
  const c: Contribution = { ids: [event.seam.id], nativeIds: nid === undefined ? [] : [nid], timeMs: eventTimeMs(event) };
  if (event.seam.dry_run === true) c.dryRun = true;
  const finding = findingVersionOf(event);
  if (finding !== undefined) c.finding = finding;
  const where = whereOf(event);
  if (where !== undefined) c.where = where;
  return c;
}

/** "alice (arn:aws:iam::1:role/x)" — who acted, as a person reads it. */
export function describePrincipal(p: Principal | undefined): string {
  if (p === undefined) return 'unknown principal';
  const name = p.k8s_user ?? p.session ?? p.id;
  const arn = p.arn ?? (p.id.startsWith('arn:') ? p.id : undefined);
  return arn !== undefined && arn !== name ? `${name} (${arn})` : name;
}

/**
 * "alice (arn:…) create pods/exec kube-system/coredns-… from 203.0.113.7": principal, action and resource of one
 * event (for a runtime event, its pod and command line; for a CloudTrail call that shares an image or snapshot,
 * `shared with <accounts>`), where it came from (`seam.source_ip`; for CloudTrail, the AWS service that made the call when
 * `sourceIPAddress` names one), and ` (denied)` or ` (failed: <code>)` when it did not succeed.
 */
export function describeEvent(event: SeamEvent): string {
  const parts = [describePrincipal(event.seam.principal)];
  const runtime = event.seam.source === 'runtime';
  const pod = event.seam.principal?.pod;
  if (runtime && pod !== undefined && !event.seam.principal!.id.includes(pod)) parts.push('in pod', pod);
  if (event.seam.action !== undefined) parts.push(event.seam.action);
  if (event.seam.resource !== undefined) parts.push(event.seam.resource);
  // The process: for a process event its command line; for a file, network or DNS event the process behind it.
  const cmd = runtime ? commandLine(event) : undefined;
  if (cmd !== undefined && cmd !== event.seam.resource) parts.push(event.seam.action === 'process' || event.seam.format === 'falco' ? `(${cmd})` : `by ${cmd}`);
  const shared = event.seam.source === 'cloudtrail' ? sharedWith(event) : undefined;
  if (shared !== undefined) parts.push('shared with', shared);
  const from = fromText(event);
  if (from !== undefined) parts.push('from', from);
  if (event.seam.outcome === 'failure') parts.push(failureText(event));
  return parts.join(' ');
}

/** At most this many characters of a command line go into a summary. */
const MAX_CMDLINE = 200;

/**
 * A runtime event's command line: the process's `cmdline` (else its `args`, space-joined, else its `exe`) in
 * Seam's runtime schema, Falco's `proc.cmdline`. Scrubbed before it is cut to MAX_CMDLINE (a cut could leave a secret its
 * pattern no longer finds; buildAlert scrubs the whole summary again).
 */
function commandLine(event: SeamEvent): string | undefined {
  let cmd: string | undefined;
  const proc = event.process;
  if (proc !== null && typeof proc === 'object') {
    const p = proc as { cmdline?: unknown; args?: unknown };
    if (typeof p.cmdline === 'string') cmd = p.cmdline;
    else if (Array.isArray(p.args) && p.args.length > 0 && p.args.every((a) => typeof a === 'string')) cmd = p.args.join(' ');
    else if (typeof (p as { exe?: unknown }).exe === 'string') cmd = (p as { exe: string }).exe;
  }
  if (cmd === undefined) {
    const fields = event.output_fields;
    const c = fields !== null && typeof fields === 'object' ? (fields as Record<string, unknown>)['proc.cmdline'] : undefined;
    if (typeof c === 'string') cmd = c;
  }
  cmd = cmd?.trim();
  if (cmd === undefined || cmd === '') return undefined;
  cmd = scrub(cmd);
  return cmd.length > MAX_CMDLINE ? cmd.slice(0, MAX_CMDLINE) + '…' : cmd;
}

/** The event's address, else a CloudTrail call's `sourceIPAddress` when it names a service (`ec2.amazonaws.com`, `AWS Internal`). */
function fromText(event: SeamEvent): string | undefined {
  if (event.seam.source_ip !== undefined) return event.seam.source_ip;
  if (event.seam.source !== 'cloudtrail') return undefined;
  const named = event.sourceIPAddress;
  return typeof named === 'string' && named !== '' && named.length <= 100 ? named : undefined;
}

/** ` from <address>` as a Sigma summary ends (`fromText`), for the summaries native detections write; '' when unknown. */
export function fromSuffix(event: SeamEvent): string {
  const from = fromText(event);
  return from === undefined ? '' : ` from ${from}`;
}

/** Error codes that mean the caller was not allowed (CloudTrail `errorCode`). */
const DENIED_CODE_RE = /AccessDenied|Unauthorized|Forbidden|NotAuthorized|AuthFailure|InvalidClientTokenId|ExpiredToken/i;

/** ` (denied)` when the caller was refused (CloudTrail access errors, HTTP 401/403, an RBAC forbid), else ` (failed: <code>)`. */
function failureText(event: SeamEvent): string {
  let code: string | undefined;
  if (event.seam.source === 'cloudtrail') {
    code = typeof event.errorCode === 'string' ? event.errorCode : undefined;
    if (code !== undefined && DENIED_CODE_RE.test(code)) return '(denied)';
  } else if (event.seam.source === 'k8s_audit') {
    const status = event.responseStatus as { code?: unknown } | undefined;
    const n = typeof status?.code === 'number' ? status.code : undefined;
    const decision = (event.annotations as Record<string, unknown> | undefined)?.['authorization.k8s.io/decision'];
    if (n === 401 || n === 403 || decision === 'forbid') return '(denied)';
    if (n !== undefined) code = String(n);
  }
  return code === undefined ? '(failed)' : `(failed: ${code.length > 60 ? code.slice(0, 60) + '…' : code})`;
}

const FIELD_VALUE_MAX = 1024;

/** One value of a field of interest (Alert.fields) as the alert holds it: text (objects as JSON), cut at 1024 characters, scrubbed. */
export function fieldValueText(v: unknown): string {
  const t = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return scrub(t.length > FIELD_VALUE_MAX ? `${t.slice(0, FIELD_VALUE_MAX)}…` : t);
}

/** A rule's `fields:` read from the event it matched (see Alert.fields); undefined when none has a value. */
function fieldsOfInterest(rule: RuleMatch['rule'], event: SeamEvent): Record<string, string | string[]> | undefined {
  if (rule.fields === undefined || rule.fields.length === 0) return undefined;
  const { mapField } = mapLogsource(rule.logsource);
  const out: Record<string, string | string[]> = {};
  for (const name of rule.fields) {
    const values = resolveField(event, mapField(name))
      .map((c) => c.v)
      .filter((v) => v !== null && v !== undefined)
      .map(fieldValueText);
    if (values.length > 0) out[name] = values.length === 1 ? values[0]! : values;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A single-rule alert for one Sigma match. */
export function alertFromMatch(match: RuleMatch): Alert {
  const { rule, event } = match;
  const input: AlertInput = {
    rule: { id: rule.id, title: rule.title, level: toLevel(rule.level), tags: [...rule.tags], type: 'sigma' },
    contributions: [contributionOf(event)],
    summary: `Rule '${rule.title}' matched: ${describeEvent(event)}`,
    triage: rule.triage,
  };
  if (event.seam.principal !== undefined) input.principal = event.seam.principal;
  if (event.seam.account !== undefined) input.account = event.seam.account;
  if (event.seam.cluster !== undefined) input.cluster = event.seam.cluster;
  const alert = buildAlert(input);
  const fields = fieldsOfInterest(rule, event);
  if (fields !== undefined) alert.fields = fields;
  // A rule that matches a Kubernetes request once (ADR 0057): named by the request, whichever stage it matched at.
  const request = requestOf(rule, event);
  if (request !== undefined) alert.id = alertId(rule.id, [request]);
  return alert;
}
