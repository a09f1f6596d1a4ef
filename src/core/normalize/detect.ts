import type { SourceType } from '../envelope.ts';
import { isRec, type Rec } from '../values.ts';
import { isCloudTrailOcsf } from './ocsf.ts';

/**
 * Which format a record is, decided per record from a few cheap property reads (collectors may mix
 * sources in one stream: a replayed S3 prefix, a shared log group, the demo file).
 */
export type RecordFormat =
  | 'k8s_audit'
  | 'cloudtrail'
  | 'guardduty_api'
  | 'guardduty_sdk'
  | 'guardduty_eventbridge'
  | 'runtime_native'
  | 'runtime_falco'
  /** A CloudWatch Logs event (`filter-log-events` / `get-log-events` / subscription) whose `message` holds the record. */
  | 'cloudwatch_event'
  /**
   * A CloudTrail record as EventBridge delivers it (`{"detail-type":"AWS API Call via CloudTrail", "detail":
   * {...}}`; also Console Sign In, Service Event, Console Action): the record is `detail`.
   */
  | 'cloudtrail_eventbridge'
  /** A CloudTrail record as Amazon Security Lake stores it: an OCSF event of product CloudTrail (ADR 0041). */
  | 'cloudtrail_ocsf'
  /** A record as a SIEM exports it, the original kept inside (`siemInner`): Splunk, Elastic, OpenSearch. */
  | 'siem_export';

/** Formats that wrap a record of another format; normalization unwraps them. */
export type WrapperFormat = 'cloudwatch_event' | 'cloudtrail_eventbridge' | 'cloudtrail_ocsf' | 'siem_export';

export const FORMAT_SOURCE: Record<Exclude<RecordFormat, 'cloudwatch_event' | 'siem_export'>, SourceType> = {
  cloudtrail_eventbridge: 'cloudtrail',
  cloudtrail_ocsf: 'cloudtrail',
  k8s_audit: 'k8s_audit',
  cloudtrail: 'cloudtrail',
  guardduty_api: 'guardduty',
  guardduty_sdk: 'guardduty',
  guardduty_eventbridge: 'guardduty',
  runtime_native: 'runtime',
  runtime_falco: 'runtime',
};

export function detectFormat(r: Rec): RecordFormat | undefined {
  // First: a SIEM's export may carry its own field extractions beside the original (Splunk's JSON extraction of
  // `aws:cloudtrail` puts eventSource and eventName at the top, flattened), which would read as a cut-down record.
  // No record of the formats below has these keys, so ordinary records pay a few property reads.
  if (siemInner(r) !== undefined) return 'siem_export';
  const apiVersion = r.apiVersion;
  if (r.kind === 'Event' && typeof apiVersion === 'string' && apiVersion.startsWith('audit.k8s.io/')) return 'k8s_audit';
  // eventSource and eventName are enough: no other format has both, and records cut down by other
  // tools may have nothing else (no eventVersion, eventTime or userIdentity).
  // (An AWS event notification, a Lambda trigger's S3/SQS/DynamoDB record, has both too, with an `aws:` source: not CloudTrail.)
  if (r.eventSource !== undefined && r.eventName !== undefined) return isNotification(r.eventSource) ? undefined : 'cloudtrail';
  // Data-lake exports (Athena, Snowflake) lower-case CloudTrail's column names.
  if (r.eventsource !== undefined && r.eventname !== undefined) return 'cloudtrail';
  if (r.schema === 'seam.runtime/v1') return 'runtime_native';
  // Before GuardDuty's: a CloudTrail record of a GuardDuty call (DeleteDetector) comes with source aws.guardduty too.
  if (isCloudTrailEnvelope(r)) return 'cloudtrail_eventbridge';
  if (r.source === 'aws.guardduty' && r.detail !== undefined) return 'guardduty_eventbridge';
  if (r.rule !== undefined && r.output !== undefined && r.priority !== undefined) return 'runtime_falco';
  if (r.Type !== undefined && r.Service !== undefined && (r.SchemaVersion !== undefined || r.Resource !== undefined)) return 'guardduty_sdk';
  if (r.type !== undefined && r.service !== undefined && (r.schemaVersion !== undefined || r.resource !== undefined)) return 'guardduty_api';
  if (r.auditID !== undefined && r.verb !== undefined && r.stage !== undefined) return 'k8s_audit';
  if (typeof r.message === 'string' && typeof r.timestamp === 'number') return 'cloudwatch_event';
  if (r.class_uid !== undefined && isCloudTrailOcsf(r)) return 'cloudtrail_ocsf';
  return undefined;
}

/**
 * The original record inside a SIEM's export of it, when the export kept it: Splunk's `_raw` (an event as
 * `| table _raw` or the REST / CLI export writes it, or under `result` in the export's JSON lines), Sumo Logic's
 * `map._raw` (a Search Job API message, e.g. `jq -c '.messages[]'` of its pages), ECS's
 * `event.original` (Elastic Agent's AWS and Kubernetes integrations keep it when told to preserve the original
 * event; also as a flattened key), CloudWatch Logs Insights' `@message` (a query's results as the console downloads them
 * or `aws logs get-query-results` rows), and an Elasticsearch / OpenSearch hit's `_source` (elasticdump, a `_search`
 * answer's hits, OpenSearch Dashboards' raw export), which may in turn hold one of the others. A string is
 * taken only when it is a JSON object (Splunk's `_raw` of a syslog line is not a record Seam reads). Undefined
 * when `r` is none of these.
 */
export function siemInner(r: Rec): string | Rec | undefined {
  const raw = r._raw;
  if (typeof raw === 'string') return jsonObjectText(raw);
  const result = r.result;
  if (isRec(result) && typeof result._raw === 'string') return jsonObjectText(result._raw);
  // Sumo Logic's Search Job API: each of a page's `messages` is `{"map": {"_raw": ..., "_messagetime": ...}}`.
  const map = r.map;
  if (isRec(map) && typeof map._raw === 'string') return jsonObjectText(map._raw);
  const event = r.event;
  if (isRec(event) && typeof event.original === 'string') return jsonObjectText(event.original);
  const flat = r['event.original'];
  if (typeof flat === 'string') return jsonObjectText(flat);
  // CloudWatch Logs Insights results (the console's JSON download, a get-query-results row): `@message` is the log event.
  const message = r['@message'];
  if (typeof message === 'string') return jsonObjectText(message);
  const source = r._source;
  if (isRec(source) && (typeof r._index === 'string' || typeof r._id === 'string')) return source;
  return undefined;
}

function jsonObjectText(s: string): string | undefined {
  return /^\s*\{/.test(s) ? s : undefined;
}

/** `aws:s3`, `aws:sqs`, `aws:dynamodb`, `aws:kinesis`…: the eventSource of an AWS event notification. */
function isNotification(eventSource: unknown): boolean {
  return typeof eventSource === 'string' && eventSource.startsWith('aws:');
}

/**
 * An EventBridge event AWS sent for a CloudTrail record: source `aws.*` (EventBridge refuses PutEvents with an
 * `aws.` source, so an application cannot forge one) and a detail-type `... via CloudTrail`.
 */
function isCloudTrailEnvelope(r: Rec): boolean {
  const type = r['detail-type'];
  const source = r.source;
  return typeof type === 'string' && type.endsWith('via CloudTrail') && typeof source === 'string' && source.startsWith('aws.') && isCloudTrailDetail(r.detail);
}

function isCloudTrailDetail(d: unknown): boolean {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return false;
  const r = d as Rec;
  return r.eventSource !== undefined && r.eventName !== undefined;
}
