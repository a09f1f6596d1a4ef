import { createHash } from 'node:crypto';
import { SOURCE_TYPES, type SourceType } from '../../core/envelope.ts';

/**
 * Index templates for events (one per source), alerts and the identity graph, and the index names
 * the sink writes to. Both live here so that a name and the pattern that must match it never drift.
 *
 * Mapping policy, with the hunting compiler in mind:
 * - Strings are plain `keyword` (ignore_above keeps huge values out of the terms dictionary but in
 *   `_source`). Sigma's case-insensitive matching compiles to `term`/`wildcard`/`prefix`/`regexp`
 *   with `case_insensitive: true`, which keyword fields support, so no lowercase normalizer or text
 *   field is needed.
 * - Open-ended objects (CloudTrail `requestParameters`, audit `requestObject`, GuardDuty
 *   `Service.Evidence`, Falco `output_fields`...) are `flat_object`: one mapping entry however many
 *   keys they hold, and their leaves are still searchable by dotted path (also case-insensitively).
 * - IP-bearing fields that may hold names (`sourceIPAddress` can be `eks.amazonaws.com`) stay keyword
 *   with an `.ip` sub-field that ignores malformed values, so CIDR queries work where they can.
 * - `date_detection` is off: a string that looks like a date in one record and not in the next would
 *   otherwise fail documents at random. Time fields are mapped explicitly.
 */

export interface TemplateOptions {
  indexPrefix: string;
  shards: number;
  replicas: number;
  refreshIntervalMs: number;
}

export interface NamedBody {
  name: string;
  body: Record<string, unknown>;
}

export interface TemplateSet {
  /** Installed first: index templates are composed of them. */
  componentTemplates: NamedBody[];
  indexTemplates: NamedBody[];
}

/** Above this many characters a keyword value is kept in `_source` but not indexed. */
export const KEYWORD_IGNORE_ABOVE = 4096;
/** For fields that are long by nature (request URIs, command lines); Lucene's term limit is 32766 bytes. */
const LONG_KEYWORD_IGNORE_ABOVE = 8191;

/** Open-ended objects, matched by field name at any depth. */
export const FLAT_OBJECT_FIELD_NAMES = [
  'requestParameters',
  'responseElements',
  'additionalEventData',
  'serviceEventDetails',
  'insightDetails',
  'edgeDeviceDetails',
  'requestObject',
  'responseObject',
  'annotations',
  'Evidence',
  'evidence',
  'AdditionalInfo',
  'additionalInfo',
  'AffectedResources',
  'affectedResources',
  'output_fields',
] as const;

const kw = { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE };
const longKw = { type: 'keyword', ignore_above: LONG_KEYWORD_IGNORE_ABOVE };
const date = { type: 'date' };
/**
 * A time field of a raw record (CloudTrail `eventTime`, audit `stageTimestamp`, GuardDuty `CreatedAt`...).
 * Exporters write more than RFC 3339, and the normalizer accepts those spellings (core/normalize/util.ts
 * `isoTime`: a space separator, a `+00:00` offset, nanoseconds, no zone meaning UTC), so the index reads
 * them too. A value no format reads is left out of the index (kept in `_source`, named in `_ignored`)
 * instead of failing the whole document: the record's own time is `@timestamp`, which stays strict.
 */
const rawDate = {
  type: 'date',
  format: 'strict_date_optional_time||epoch_millis||yyyy-MM-dd HH:mm:ss[.SSSSSSSSS][.SSSSSS][.SSS][XXX]',
  ignore_malformed: true,
};
/**
 * A number of a raw record (audit `responseStatus.code`, GuardDuty `Severity`, `Service.Count`). A value that is
 * not a number (an exporter that quotes it as a word) is left out of the index, kept in `_source` and named in
 * `_ignored`, instead of failing the whole document, as for raw times. `coerce: false`: only a JSON number of
 * the field's kind is indexed; text (`"403"`, `"0403"`) and fractions in an integer field go to `_ignored` too,
 * so a term on the field finds exactly the records whose value is that number (the hunt compiler relies on it).
 */
const rawNumber = (type: 'integer' | 'long' | 'float') => ({ type, ignore_malformed: true, coerce: false });
const flat = { type: 'flat_object' };
const bool = { type: 'boolean' };
/** A keyword that also answers CIDR and range queries when its value is an address. */
const kwIp = { ...kw, fields: { ip: { type: 'ip', ignore_malformed: true } } };
const obj = (properties: Record<string, unknown>) => ({ properties });
const kws = (...names: string[]) => Object.fromEntries(names.map((n) => [n, kw]));

const dynamicTemplates = [
  {
    open_ended_objects: {
      match_mapping_type: 'object',
      match_pattern: 'regex',
      match: `^(${FLAT_OBJECT_FIELD_NAMES.join('|')})$`,
      mapping: flat,
    },
  },
  { strings_as_keywords: { match_mapping_type: 'string', mapping: kw } },
];

const principalMapping = obj(kws('id', 'type', 'arn', 'session', 'access_key_id', 'k8s_user', 'k8s_groups', 'service_account', 'pod'));
const chainMapping = obj(kws('kind', 'from', 'to', 'via'));

const seamMapping = obj({
  ...kws('id', 'source', 'format', 'account', 'region', 'cluster', 'action', 'outcome', 'resource'),
  // Who acted: the record's principal refined by the identity graph, the chain that resolved it and the
  // identity it reached (ADR 0014: signals are indexed after the graph annotated them).
  principal: principalMapping,
  chain: chainMapping,
  origin: principalMapping,
  // The normalizer sets this only for addresses; ignore_malformed keeps a stray name from failing the document.
  source_ip: { type: 'ip', ignore_malformed: true },
  user_agent: kw,
  // A Kubernetes write that was a server-side dry run (ADR 0045): set only when true.
  dry_run: bool,
  // A request's policy document as an object (ADR 0042): open-ended keys (condition operators and keys).
  policy: flat,
  ingest: obj({ collector: kw, received_at: date, truncated: bool, redacted: kw, origin: longKw }),
});

const userInfo = obj({ ...kws('username', 'uid', 'groups'), extra: { type: 'object', dynamic: true } });

/** Raw fields of each source that need more than the dynamic defaults. */
const SOURCE_PROPERTIES: Record<SourceType, Record<string, unknown>> = {
  cloudtrail: {
    eventTime: rawDate,
    ...kws('eventVersion', 'eventSource', 'eventName', 'awsRegion', 'errorCode', 'requestID', 'eventID', 'eventType', 'apiVersion', 'recipientAccountId', 'sharedEventID', 'vpcEndpointId', 'eventCategory'),
    sourceIPAddress: kwIp,
    userAgent: kw,
    errorMessage: longKw,
    readOnly: bool,
    managementEvent: bool,
    requestParameters: flat,
    responseElements: flat,
    additionalEventData: flat,
    serviceEventDetails: flat,
    insightDetails: flat,
    edgeDeviceDetails: flat,
    userIdentity: obj({
      ...kws('type', 'principalId', 'arn', 'accountId', 'accessKeyId', 'userName', 'invokedBy', 'identityProvider', 'credentialId'),
      sessionContext: obj({
        sourceIdentity: kw,
        sessionIssuer: obj(kws('type', 'principalId', 'arn', 'accountId', 'userName')),
        webIdFederationData: obj({ federatedProvider: kw, attributes: flat }),
        attributes: obj({ creationDate: rawDate, mfaAuthenticated: kw }),
      }),
    }),
    resources: obj(kws('ARN', 'accountId', 'type')),
    tlsDetails: obj(kws('tlsVersion', 'cipherSuite', 'clientProvidedHostHeader')),
    // The Security Lake OCSF event a record was rebuilt from (ADR 0041): its `unmapped` holds any keys, and a
    // string there where another record has an object would fail the document under dynamic mapping.
    ocsf: flat,
  },
  k8s_audit: {
    ...kws('kind', 'apiVersion', 'level', 'auditID', 'stage', 'verb'),
    requestURI: longKw,
    user: userInfo,
    impersonatedUser: userInfo,
    sourceIPs: kwIp,
    userAgent: kw,
    objectRef: obj(kws('resource', 'namespace', 'name', 'uid', 'apiGroup', 'apiVersion', 'resourceVersion', 'subresource')),
    responseStatus: obj({ ...kws('status', 'reason'), message: longKw, code: rawNumber('integer'), metadata: flat, details: flat }),
    requestObject: flat,
    responseObject: flat,
    annotations: flat,
    requestReceivedTimestamp: rawDate,
    stageTimestamp: rawDate,
  },
  // GuardDuty's API (GetFindings) writes PascalCase and EventBridge writes camelCase; map both.
  guardduty: {
    ...kws('AccountId', 'Arn', 'Id', 'Partition', 'Region', 'SchemaVersion', 'Type', 'Title'),
    ...kws('accountId', 'arn', 'id', 'partition', 'region', 'schemaVersion', 'type', 'title'),
    Description: longKw,
    description: longKw,
    CreatedAt: rawDate,
    UpdatedAt: rawDate,
    createdAt: rawDate,
    updatedAt: rawDate,
    Severity: rawNumber('float'),
    severity: rawNumber('float'),
    Service: obj({ Evidence: flat, AdditionalInfo: flat, Count: rawNumber('long'), EventFirstSeen: rawDate, EventLastSeen: rawDate, Archived: bool }),
    service: obj({ evidence: flat, additionalInfo: flat, count: rawNumber('long'), eventFirstSeen: rawDate, eventLastSeen: rawDate, archived: bool }),
  },
  // Falco's JSON output, plus whatever the native sidecar format adds (dynamic keywords).
  runtime: {
    time: rawDate,
    ...kws('rule', 'priority', 'source', 'tags', 'hostname', 'uuid'),
    output: longKw,
    output_fields: flat,
  },
};

const alertProperties = {
  ...kws('id', 'events', 'native_ids', 'related_events', 'account', 'cluster', 'resource', 'region', 'outcome'),
  // The key of the alert's incident (SOC review M7): what the triage dashboard groups by, as incidents are grouped.
  incident_key: kw,
  // Where the last contributing event came from, mapped as the events index maps seam.source_ip and seam.user_agent.
  source_ip: { type: 'ip', ignore_malformed: true },
  user_agent: kw,
  rule: obj({ ...kws('id', 'level', 'tags', 'type', 'correlation_type', 'variant'), title: { ...kw, fields: { text: { type: 'text' } } } }),
  group: flat,
  // A Sigma rule's `fields:` with the matching event's values: one mapping entry however many fields rules list.
  fields: flat,
  principal: principalMapping,
  origin: principalMapping,
  chain: chainMapping,
  summary: { ...longKw, fields: { text: { type: 'text' } } },
  // Read and searched as prose, never aggregated: text only (no keyword, no fielddata).
  triage: { type: 'text' },
  window: obj({ start: date, end: date }),
  aggregate: { type: 'double' },
  late: { type: 'boolean' },
  /** Every event behind the alert was a Kubernetes server-side dry run (ADR 0045). */
  dry_run: { type: 'boolean' },
  /** An early alert the final has not replaced yet (ADR 0025). */
  provisional: { type: 'boolean' },
  /** Why an early alert's closing version carries no graph enrichment (ADR 0027). */
  unenriched: { type: 'keyword' },
  /** The alert raised again, same id, with context read after it went out (a GuardDuty join completed, ADR 0009). */
  revision: { type: 'integer' },
  /** The GuardDuty finding an alert rests on, as its newest version says (ADR 0046). */
  finding: obj({ ...kws('id', 'severity_level'), updated_at: rawDate, created_at: rawDate, first_seen: rawDate, last_seen: rawDate, count: rawNumber('long'), severity: rawNumber('float') }),
  /** The alerts of the same event folded into this one (ADR 0050): what a notification said besides this alert. */
  also_matched: obj({ ...kws('rule_id', 'level', 'alert_id'), title: { ...kw, fields: { text: { type: 'text' } } } }),
  /** The alert of the same event this one is folded into (ADR 0050): indexed, not notified. */
  folded_into: kw,
};

// IdentityDoc (src/identity/types.ts): provenance is the `seam.id` of the event (or `seed:<name>`, `config`).
const identityProperties = {
  ...kws('id', 'doc_type', 'kind', 'label', 'from', 'to', 'cluster', 'account', 'provenance'),
  valid_from: date,
  valid_to: date,
  // When Seam wrote the version (the OpenSearch sink): retention counts from it (src/sinks/opensearch/retention.ts).
  indexed_at: date,
  attributes: flat,
};

// IncidentDoc (src/pipeline/incident-topic.ts, ADR 0015, 0020): Seam-owned fields and the analysts' status, assignee, notes.
const incidentProperties = {
  ...kws('id', 'key', 'series', 'accounts', 'clusters', 'level', 'alert_ids', 'rules', 'actors', 'status', 'assignee'),
  who: principalMapping,
  chain: chainMapping,
  start: date,
  end: date,
  // Lifecycle (ADR 0020): when it closes if quiet, when it was closed, its place among the identity's incidents.
  closes_at: date,
  closed_at: date,
  episode: { type: 'integer' },
  episodes: { type: 'integer' },
  risk_at: date,
  updated_at: date,
  alert_count: { type: 'integer' },
  risk: { type: 'double' },
  // Bookkeeping of alerts with versions (GuardDuty findings, ADR 0046): read back by Seam, never searched.
  versions: { type: 'object', enabled: false },
  notes: flat,
  // The context document's held low/informational alerts (ADR 0051): stored for the merge, never searched.
  held: { type: 'object', enabled: false },
};

/** Template bodies in install order. `_meta.seam_hash` lets setup tell "unchanged" from "updated". */
export function buildTemplates(o: TemplateOptions): TemplateSet {
  const p = o.indexPrefix;
  const settingsName = `${p}-settings`;
  const eventsMappingsName = `${p}-events-mappings`;
  const componentTemplates: NamedBody[] = [
    {
      name: settingsName,
      body: {
        template: {
          settings: {
            index: {
              number_of_shards: o.shards,
              number_of_replicas: o.replicas,
              refresh_interval: o.refreshIntervalMs < 0 ? '-1' : `${o.refreshIntervalMs}ms`,
              // flat_object keeps the field count low; this is headroom for dynamic keyword fields.
              'mapping.total_fields.limit': 2000,
            },
          },
        },
      },
    },
    {
      name: eventsMappingsName,
      body: {
        template: {
          mappings: {
            dynamic: true,
            date_detection: false,
            numeric_detection: false,
            dynamic_templates: dynamicTemplates,
            properties: { '@timestamp': date, seam: seamMapping },
          },
        },
      },
    },
  ];

  const indexTemplates: NamedBody[] = SOURCE_TYPES.map((source) => ({
    name: `${p}-events-${source}`,
    body: {
      index_patterns: [`${p}-events-${source}-*`],
      composed_of: [settingsName, eventsMappingsName],
      priority: 200,
      template: { mappings: { properties: SOURCE_PROPERTIES[source] }, aliases: { [`${p}-events`]: {} } },
    },
  }));
  indexTemplates.push({
    name: `${p}-alerts`,
    body: {
      index_patterns: [`${p}-alerts-*`],
      composed_of: [settingsName],
      priority: 200,
      template: {
        mappings: { dynamic: true, date_detection: false, dynamic_templates: dynamicTemplates, properties: { '@timestamp': date, ...alertProperties } },
        aliases: { [`${p}-alerts`]: {} },
      },
    },
  });
  // The identity graph and the incidents each live in one index (documents updated in place, no daily rollover).
  for (const [name, properties] of [
    ['identity', identityProperties],
    ['incidents', incidentProperties],
  ] as const) {
    indexTemplates.push({
      name: `${p}-${name}`,
      body: {
        index_patterns: [`${p}-${name}`],
        composed_of: [settingsName],
        priority: 200,
        template: {
          mappings: { dynamic: true, date_detection: false, dynamic_templates: dynamicTemplates, properties: { '@timestamp': date, ...properties } },
        },
      },
    });
  }

  for (const t of [...componentTemplates, ...indexTemplates]) t.body._meta = { managed_by: 'seam', seam_hash: bodyHash(t.body) };
  return { componentTemplates, indexTemplates };
}

export function bodyHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

/** `YYYY.MM.DD` in UTC, or undefined when `ts` is not a date. */
export function dayStamp(ts: string | number | Date): string | undefined {
  // Date.parse is what new Date(string) does; the stamp is formatted only when the day changes (the index
  // role names an index for every document, and a batch is mostly one day).
  const ms = typeof ts === 'string' ? Date.parse(ts) : (ts instanceof Date ? ts : new Date(ts)).getTime();
  if (!Number.isFinite(ms)) return undefined;
  const day = Math.floor(ms / DAY_MS);
  if (day !== lastDay) {
    lastStamp = new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '.');
    lastDay = day;
  }
  return lastStamp;
}
const DAY_MS = 86_400_000;
let lastDay = NaN;
let lastStamp = '';

/**
 * The index an event goes to: `<prefix>-events-<source>-YYYY.MM.DD` from `@timestamp`. An event
 * whose `@timestamp` is not a date goes to the day of `fallback` (its receive time), where
 * OpenSearch rejects it with the mapping error, which then reaches the dead-letter output.
 */
export function eventsIndexName(prefix: string, source: SourceType, timestamp: unknown, daily: boolean, fallback?: Date): string {
  if (!daily) return `${prefix}-events-${source}-all`;
  const day = (typeof timestamp === 'string' || typeof timestamp === 'number' ? dayStamp(timestamp) : undefined) ?? dayStamp(fallback ?? new Date());
  return `${prefix}-events-${source}-${day}`;
}

/**
 * The daily alerts index of an alert: by its `@timestamp`, but a GuardDuty finding alert (ADR 0046) by its
 * finding's creation, the same for every version, so later versions replace the one document.
 */
export function alertDay(a: { '@timestamp': string; finding?: { created_at?: string; first_seen?: string } | undefined }): string {
  return a.finding?.created_at ?? a.finding?.first_seen ?? a['@timestamp'];
}

export function alertsIndexName(prefix: string, timestamp: unknown, daily: boolean, fallback?: Date): string {
  if (!daily) return `${prefix}-alerts-all`;
  const day = (typeof timestamp === 'string' || typeof timestamp === 'number' ? dayStamp(timestamp) : undefined) ?? dayStamp(fallback ?? new Date());
  return `${prefix}-alerts-${day}`;
}

export function identityIndexName(prefix: string): string {
  return `${prefix}-identity`;
}

/** One index of incidents, `_id` = incident id (ADR 0015). */
export function incidentsIndexName(prefix: string): string {
  return `${prefix}-incidents`;
}
