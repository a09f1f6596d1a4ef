/**
 * OpenSearch Dashboards saved objects as code: index patterns for events, alerts, incidents and the identity
 * graph; a SOC overview, an incident triage view, an identity explorer, a hunting view with a saved search per
 * plane, and an ATT&CK coverage view. Written here as a compact spec and rendered to the NDJSON files in
 * deploy/opensearch/dashboards/ (what `seam setup opensearch --dashboards URL` imports, and what a person can
 * import by hand); a unit test keeps the files and this spec in step, and test/soc checks every field they name
 * against the index templates and runs every panel's query over indexed demo data.
 *
 * Queries are Lucene syntax (`language: lucene`), which Dashboards sends as a `query_string` query, so the test
 * runs exactly what a panel asks.
 */

export type PatternKey = 'events' | 'alerts' | 'incidents' | 'identity';

export interface IndexPatternSpec {
  key: PatternKey;
  /** Index pattern title without the prefix, e.g. `events-*`. */
  suffix: string;
  timeField: string;
}

export const INDEX_PATTERNS: readonly IndexPatternSpec[] = [
  { key: 'events', suffix: 'events-*', timeField: '@timestamp' },
  { key: 'alerts', suffix: 'alerts-*', timeField: '@timestamp' },
  // The incidents index (ADR 0015): an incident document has no @timestamp; its time is its last medium+ alert (`end`).
  { key: 'incidents', suffix: 'incidents*', timeField: 'end' },
  // Identity graph versions carry no @timestamp: they are valid from a time.
  { key: 'identity', suffix: 'identity', timeField: 'valid_from' },
];

export interface AggSpec {
  type: 'count' | 'max' | 'min' | 'cardinality' | 'terms' | 'date_histogram';
  schema: 'metric' | 'segment' | 'group' | 'bucket';
  field?: string;
  size?: number;
  /** terms: Lucene-regex include/exclude (as Dashboards' advanced options take them). */
  include?: string;
  exclude?: string;
  label?: string;
}

export type VisType = 'histogram' | 'pie' | 'table' | 'metric' | 'heatmap';

export interface VisSpec {
  id: string;
  title: string;
  description: string;
  pattern: PatternKey;
  type: VisType;
  query?: string;
  aggs: AggSpec[];
  /** Series colours by term (alert levels). */
  colours?: Record<string, string>;
}

export interface SearchSpec {
  id: string;
  title: string;
  description: string;
  pattern: PatternKey;
  query: string;
  columns: string[];
}

export interface DashboardSpec {
  id: string;
  /** NDJSON file name in deploy/opensearch/dashboards/. */
  file: string;
  title: string;
  description: string;
  /** Panels in reading order: [id, width in 48ths, height]. */
  panels: [string, number, number][];
}

export const LEVEL_COLOURS: Record<string, string> = { critical: '#BF1B00', high: '#E7664C', medium: '#D6BF57', low: '#6092C0', informational: '#A0A0A0' };
const MEDIUM_PLUS = 'rule.level:(medium OR high OR critical)';
const HIGH_PLUS = 'rule.level:(high OR critical)';
/**
 * Incidents, not an identity's context document (`status: context`, ADR 0051: its held low/informational alerts, no
 * incident): every visualization and saved search on the incidents index asks this (a unit test checks).
 */
export const INCIDENTS_ONLY = 'NOT status:context';
const count: AggSpec = { type: 'count', schema: 'metric' };
const overTime: AggSpec = { type: 'date_histogram', schema: 'segment', field: '@timestamp' };

export const VISUALIZATIONS: readonly VisSpec[] = [
  // SOC overview
  { id: 'seam-alerts-over-time-by-level', title: 'Seam · Alerts over time by level', description: 'Alerts per interval, stacked by level.', pattern: 'alerts', type: 'histogram', aggs: [count, overTime, { type: 'terms', schema: 'group', field: 'rule.level', size: 5 }], colours: LEVEL_COLOURS },
  { id: 'seam-alerts-medium-plus', title: 'Seam · Alerts a person should look at', description: 'Alerts of level medium, high or critical.', pattern: 'alerts', type: 'metric', query: MEDIUM_PLUS, aggs: [{ ...count, label: 'medium+ alerts' }] },
  { id: 'seam-alerts-high-plus', title: 'Seam · High and critical alerts', description: 'Alerts of level high or critical.', pattern: 'alerts', type: 'metric', query: HIGH_PLUS, aggs: [{ ...count, label: 'high+ alerts' }] },
  { id: 'seam-top-rules', title: 'Seam · Top rules', description: 'Rules that raised the most alerts, with their level and when they last fired.', pattern: 'alerts', type: 'table', aggs: [count, { type: 'max', schema: 'metric', field: '@timestamp', label: 'last seen' }, { type: 'terms', schema: 'bucket', field: 'rule.title', size: 20 }, { type: 'terms', schema: 'bucket', field: 'rule.level', size: 5 }] },
  { id: 'seam-top-origins', title: 'Seam · Who really acted (top identities)', description: 'Alerts by the identity the identity graph resolved behind the credentials (`origin`).', pattern: 'alerts', type: 'table', aggs: [count, { type: 'cardinality', schema: 'metric', field: 'rule.id', label: 'rules' }, { type: 'terms', schema: 'bucket', field: 'origin.id', size: 15 }] },
  { id: 'seam-top-principals', title: 'Seam · Top acting principals', description: 'Alerts by the credentials that made the call (`principal`).', pattern: 'alerts', type: 'table', aggs: [count, { type: 'terms', schema: 'bucket', field: 'principal.id', size: 15 }, { type: 'terms', schema: 'bucket', field: 'principal.type', size: 5 }] },
  { id: 'seam-alerts-by-cluster', title: 'Seam · Alerts by cluster', description: 'Medium+ alerts per EKS cluster.', pattern: 'alerts', type: 'pie', query: MEDIUM_PLUS, aggs: [count, { type: 'terms', schema: 'segment', field: 'cluster', size: 10 }] },
  { id: 'seam-alerts-by-account', title: 'Seam · Alerts by account', description: 'Medium+ alerts per AWS account.', pattern: 'alerts', type: 'pie', query: MEDIUM_PLUS, aggs: [count, { type: 'terms', schema: 'segment', field: 'account', size: 10 }] },
  { id: 'seam-alerts-by-detection-type', title: 'Seam · Alerts by detection type', description: 'Single Sigma rules, correlations, native cross-plane detections.', pattern: 'alerts', type: 'pie', aggs: [count, { type: 'terms', schema: 'segment', field: 'rule.type', size: 3 }] },
  { id: 'seam-events-by-plane', title: 'Seam · Events by plane', description: 'Events indexed per plane: CloudTrail, Kubernetes audit, runtime, GuardDuty.', pattern: 'events', type: 'histogram', aggs: [count, overTime, { type: 'terms', schema: 'group', field: 'seam.source', size: 4 }] },
  // Incident triage
  // Grouped by `incident_key`, the key incidents are grouped by (SOC review M7): by `origin.id`, the alerts without an
  // origin (a person's own CloudTrail calls, correlations) were in no bucket.
  { id: 'seam-triage-identities', title: 'Seam · Incidents by identity', description: 'High and critical alerts grouped the way incidents are (`incident_key`: who really acted, scoped by cluster and account where a name is not global; a workload\u2019s sessions under its service account or role), with first and last alert and how many rules fired.', pattern: 'alerts', type: 'table', query: HIGH_PLUS, aggs: [count, { type: 'min', schema: 'metric', field: '@timestamp', label: 'first' }, { type: 'max', schema: 'metric', field: '@timestamp', label: 'last' }, { type: 'cardinality', schema: 'metric', field: 'rule.id', label: 'rules' }, { type: 'terms', schema: 'bucket', field: 'incident_key', size: 25 }] },
  { id: 'seam-triage-levels-by-identity', title: 'Seam · Alert levels by identity', description: 'Which identities (as incidents group them, `incident_key`) collect the worst alerts.', pattern: 'alerts', type: 'heatmap', query: MEDIUM_PLUS, aggs: [count, { type: 'terms', schema: 'segment', field: 'rule.level', size: 5 }, { type: 'terms', schema: 'group', field: 'incident_key', size: 15 }] },
  { id: 'seam-triage-timeline', title: 'Seam · High and critical alerts over time by identity', description: 'When each identity\u2019s serious alerts fired (by `incident_key`, as incidents group them).', pattern: 'alerts', type: 'histogram', query: HIGH_PLUS, aggs: [count, overTime, { type: 'terms', schema: 'group', field: 'incident_key', size: 10 }] },
  { id: 'seam-incidents-by-level', title: 'Seam · Incidents by level and status', description: 'Incidents in the incidents index by level and status, with their highest risk; identities\u2019 context documents (`status: context`, ADR 0051) are not incidents and are left out.', pattern: 'incidents', type: 'table', query: INCIDENTS_ONLY, aggs: [count, { type: 'max', schema: 'metric', field: 'risk', label: 'highest risk' }, { type: 'terms', schema: 'bucket', field: 'level', size: 5 }, { type: 'terms', schema: 'bucket', field: 'status', size: 10 }] },
  // Identity explorer
  { id: 'seam-identity-by-kind', title: 'Seam · Identity graph by kind of link', description: 'Versions of identity links by kind: mappings, sessions, IRSA, exec, RBAC bindings…', pattern: 'identity', type: 'pie', aggs: [count, { type: 'terms', schema: 'segment', field: 'kind', size: 25 }] },
  { id: 'seam-identity-cross-plane', title: 'Seam · Who can become whom across the planes', description: 'Links that cross between AWS and Kubernetes: IAM → Kubernetes user (authenticator, aws-auth, access entries), service account → role (IRSA, Pod Identity), pod → user (exec).', pattern: 'identity', type: 'table', query: 'kind:(authenticates_as OR aws_auth_mapping OR access_entry OR web_identity_session OR pod_identity_session OR irsa OR pod_identity_association OR exec OR credential OR session_of)', aggs: [count, { type: 'max', schema: 'metric', field: 'valid_from', label: 'latest' }, { type: 'terms', schema: 'bucket', field: 'from', size: 50 }, { type: 'terms', schema: 'bucket', field: 'kind', size: 10 }, { type: 'terms', schema: 'bucket', field: 'to', size: 10 }] },
  { id: 'seam-identity-permissions', title: 'Seam · Who can do what (RBAC and access policies)', description: 'Subjects bound to Roles/ClusterRoles and IAM identities with EKS access policies.', pattern: 'identity', type: 'table', query: 'kind:(rbac_binding OR access_policy OR aws_auth_mapping OR access_entry)', aggs: [count, { type: 'terms', schema: 'bucket', field: 'from', size: 50 }, { type: 'terms', schema: 'bucket', field: 'to', size: 10 }] },
  { id: 'seam-identity-chains', title: 'Seam · Alert chains: who acted through which credentials', description: 'For alerts whose credentials the identity graph traced back: the identity behind them and the credentials used.', pattern: 'alerts', type: 'table', aggs: [count, { type: 'terms', schema: 'bucket', field: 'origin.id', size: 20 }, { type: 'terms', schema: 'bucket', field: 'principal.id', size: 10 }, { type: 'terms', schema: 'bucket', field: 'chain.kind', size: 10 }] },
  // Hunting
  { id: 'seam-hunt-actions-by-plane', title: 'Seam · Top actions per plane', description: 'The most frequent actions in each plane: a baseline to hunt against.', pattern: 'events', type: 'table', aggs: [count, { type: 'terms', schema: 'bucket', field: 'seam.source', size: 4 }, { type: 'terms', schema: 'bucket', field: 'seam.action', size: 15 }] },
  { id: 'seam-hunt-failures', title: 'Seam · Failed and denied actions by principal', description: 'Denied AWS calls and Kubernetes requests, by who made them: enumeration shows up here.', pattern: 'events', type: 'table', query: 'seam.outcome:failure', aggs: [count, { type: 'terms', schema: 'bucket', field: 'seam.principal.id', size: 20 }, { type: 'terms', schema: 'bucket', field: 'seam.source', size: 4 }] },
  { id: 'seam-hunt-source-ips', title: 'Seam · Source addresses by principal', description: 'Where each principal acted from.', pattern: 'events', type: 'table', query: '_exists_:seam.source_ip', aggs: [count, { type: 'terms', schema: 'bucket', field: 'seam.source_ip', size: 20 }, { type: 'terms', schema: 'bucket', field: 'seam.principal.id', size: 5 }] },
  { id: 'seam-hunt-by-origin', title: 'Seam · Who really acted, across the planes', description: 'Events by the identity the identity graph resolved behind them (`seam.origin`, ADR 0014) and the plane: one person\u2019s exec, the stolen role\u2019s AWS calls and the pod\u2019s runtime events line up under that person.', pattern: 'events', type: 'table', query: '_exists_:seam.origin.id', aggs: [count, { type: 'min', schema: 'metric', field: '@timestamp', label: 'first' }, { type: 'max', schema: 'metric', field: '@timestamp', label: 'last' }, { type: 'terms', schema: 'bucket', field: 'seam.origin.id', size: 20 }, { type: 'terms', schema: 'bucket', field: 'seam.source', size: 4 }] },
  // ATT&CK
  { id: 'seam-attack-technique-heat', title: 'Seam · ATT&CK techniques by level', description: 'Alerts per ATT&CK technique (rule tags attack.tNNNN) and level.', pattern: 'alerts', type: 'heatmap', aggs: [count, { type: 'terms', schema: 'segment', field: 'rule.tags', size: 40, include: 'attack\\.t[0-9]+(\\.[0-9]+)?' }, { type: 'terms', schema: 'group', field: 'rule.level', size: 5 }] },
  { id: 'seam-attack-tactics', title: 'Seam · ATT&CK tactics', description: 'Alerts per ATT&CK tactic.', pattern: 'alerts', type: 'histogram', aggs: [count, { type: 'terms', schema: 'segment', field: 'rule.tags', size: 20, include: 'attack\\.[a-z]+(-[a-z]+)*' }, { type: 'terms', schema: 'group', field: 'rule.level', size: 5 }], colours: LEVEL_COLOURS },
  { id: 'seam-attack-techniques-table', title: 'Seam · ATT&CK technique coverage seen', description: 'Techniques alerts were raised for, how many distinct rules raised them, and the identities involved.', pattern: 'alerts', type: 'table', aggs: [count, { type: 'cardinality', schema: 'metric', field: 'rule.id', label: 'rules' }, { type: 'cardinality', schema: 'metric', field: 'principal.id', label: 'principals' }, { type: 'terms', schema: 'bucket', field: 'rule.tags', size: 60, include: 'attack\\.t[0-9]+(\\.[0-9]+)?' }] },
];

export const SEARCHES: readonly SearchSpec[] = [
  { id: 'seam-search-high-critical-alerts', title: 'Seam · High and critical alerts', description: 'Every high or critical alert, newest first, with the key of its incident.', pattern: 'alerts', query: HIGH_PLUS, columns: ['rule.level', 'rule.title', 'incident_key', 'origin.id', 'principal.id', 'source_ip', 'cluster', 'summary'] },
  { id: 'seam-search-incidents', title: 'Seam · Incidents', description: 'Every incident, latest activity first; identities\u2019 context documents (`status: context`, ADR 0051) left out. `seam report incident <id>` draws one as a page.', pattern: 'incidents', query: INCIDENTS_ONLY, columns: ['level', 'key', 'alert_count', 'risk', 'status', 'assignee', 'start', 'closes_at'] },
  { id: 'seam-search-identity-links', title: 'Seam · Identity graph links', description: 'Every version of every identity link, with the event that established it.', pattern: 'identity', query: '*', columns: ['kind', 'from', 'to', 'cluster', 'valid_to', 'provenance'] },
  { id: 'seam-search-by-origin', title: 'Seam · Hunt: everything an identity did', description: 'Events the identity graph attributed to someone behind the credentials; add seam.origin.id:"<arn>" to the query for one person, across roles and service accounts they reached (what `seam hunt --who` asks).', pattern: 'events', query: '_exists_:seam.origin.id', columns: ['seam.origin.id', 'seam.principal.id', 'seam.source', 'seam.action', 'seam.resource', 'seam.source_ip'] },
  { id: 'seam-search-cloudtrail', title: 'Seam · Hunt: AWS (CloudTrail)', description: 'CloudTrail events with who, what and from where.', pattern: 'events', query: 'seam.source:cloudtrail', columns: ['seam.principal.arn', 'seam.action', 'seam.outcome', 'errorCode', 'sourceIPAddress', 'awsRegion', 'seam.resource'] },
  { id: 'seam-search-k8s-audit', title: 'Seam · Hunt: Kubernetes audit', description: 'EKS audit events: user, verb, object, status, address.', pattern: 'events', query: 'seam.source:k8s_audit', columns: ['seam.principal.id', 'verb', 'objectRef.resource', 'objectRef.subresource', 'objectRef.namespace', 'objectRef.name', 'responseStatus.code', 'seam.source_ip'] },
  { id: 'seam-search-runtime', title: 'Seam · Hunt: runtime (sensor, Falco)', description: 'Process, file and network activity inside pods.', pattern: 'events', query: 'seam.source:runtime', columns: ['seam.principal.pod', 'seam.principal.service_account', 'seam.action', 'seam.resource'] },
  { id: 'seam-search-guardduty', title: 'Seam · Hunt: GuardDuty', description: 'GuardDuty findings.', pattern: 'events', query: 'seam.source:guardduty', columns: ['seam.action', 'seam.resource', 'seam.principal.id', 'seam.account', 'seam.region'] },
  { id: 'seam-search-k8s-exec', title: 'Seam · Hunt: exec and attach into pods', description: 'Every exec/attach/port-forward into a pod: the start of most workload credential thefts.', pattern: 'events', query: 'seam.source:k8s_audit AND objectRef.subresource:(exec OR attach OR portforward)', columns: ['seam.principal.id', 'objectRef.namespace', 'objectRef.name', 'objectRef.subresource', 'requestURI', 'seam.source_ip'] },
  { id: 'seam-search-aws-denied', title: 'Seam · Hunt: denied AWS calls', description: 'CloudTrail calls that failed with an error code: enumeration with stolen credentials.', pattern: 'events', query: 'seam.source:cloudtrail AND _exists_:errorCode', columns: ['seam.principal.arn', 'seam.action', 'errorCode', 'sourceIPAddress'] },
];

export const DASHBOARDS: readonly DashboardSpec[] = [
  {
    id: 'seam-soc-overview',
    file: 'soc-overview.ndjson',
    title: 'Seam · SOC overview',
    description: 'Alerts over time by level, the rules and identities behind them, by cluster, account and plane.',
    panels: [['seam-alerts-medium-plus', 12, 8], ['seam-alerts-high-plus', 12, 8], ['seam-alerts-by-detection-type', 24, 8], ['seam-alerts-over-time-by-level', 48, 14], ['seam-top-rules', 24, 16], ['seam-top-origins', 24, 16], ['seam-top-principals', 24, 14], ['seam-alerts-by-cluster', 12, 14], ['seam-alerts-by-account', 12, 14], ['seam-events-by-plane', 48, 12]],
  },
  {
    id: 'seam-incident-triage',
    file: 'incident-triage.ndjson',
    title: 'Seam · Incident triage',
    description: 'The incidents, serious alerts grouped by the key of their incident (who really acted), when, and the alerts themselves. `seam report incident` draws one incident as a page.',
    panels: [['seam-incidents-by-level', 16, 14], ['seam-search-incidents', 32, 14], ['seam-triage-identities', 48, 14], ['seam-triage-timeline', 24, 14], ['seam-triage-levels-by-identity', 24, 14], ['seam-search-high-critical-alerts', 48, 18]],
  },
  {
    id: 'seam-identity-explorer',
    file: 'identity-explorer.ndjson',
    title: 'Seam · Identity explorer',
    description: 'Who can become whom across AWS and Kubernetes, who can do what, and the chains behind alerts.',
    panels: [['seam-identity-by-kind', 16, 14], ['seam-identity-chains', 32, 14], ['seam-identity-cross-plane', 48, 16], ['seam-identity-permissions', 24, 16], ['seam-search-identity-links', 24, 16]],
  },
  {
    id: 'seam-hunting',
    file: 'hunting.ndjson',
    title: 'Seam · Hunting',
    description: 'A saved search per plane and the usual first hunts; open one in Discover to pivot.',
    panels: [['seam-hunt-by-origin', 48, 14], ['seam-search-by-origin', 48, 14], ['seam-hunt-actions-by-plane', 24, 16], ['seam-hunt-failures', 24, 16], ['seam-hunt-source-ips', 48, 14], ['seam-search-k8s-exec', 48, 14], ['seam-search-aws-denied', 48, 12], ['seam-search-cloudtrail', 48, 14], ['seam-search-k8s-audit', 48, 14], ['seam-search-runtime', 24, 14], ['seam-search-guardduty', 24, 14]],
  },
  {
    id: 'seam-attack-coverage',
    file: 'attack-coverage.ndjson',
    title: 'Seam · ATT&CK coverage',
    description: 'Which ATT&CK techniques and tactics alerts were raised for, by level. Rule coverage by technique: docs/coverage.md.',
    panels: [['seam-attack-technique-heat', 48, 18], ['seam-attack-tactics', 24, 14], ['seam-attack-techniques-table', 24, 14]],
  },
];

export interface SavedObject {
  type: 'index-pattern' | 'visualization' | 'search' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
  migrationVersion: Record<string, string>;
}

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

export function patternId(key: PatternKey): string {
  return `seam-${key}`;
}

function searchSource(query: string | undefined): Record<string, unknown> {
  return { kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: query ?? '', language: 'lucene' }, filter: [], indexRefName: INDEX_REF }) } };
}

const AXES = {
  grid: { categoryLines: false },
  categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: 'bottom', show: true, style: {}, scale: { type: 'linear' }, labels: { show: true, filter: true, truncate: 100 }, title: {} }],
  valueAxes: [{ id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: 'left', show: true, style: {}, scale: { type: 'linear', mode: 'normal' }, labels: { show: true, rotate: 0, filter: false, truncate: 100 }, title: { text: 'Count' } }],
  seriesParams: [{ show: true, type: 'histogram', mode: 'stacked', data: { label: 'Count', id: '1' }, valueAxis: 'ValueAxis-1', drawLinesBetweenPoints: true, lineWidth: 2, showCircles: true }],
  addTooltip: true,
  addLegend: true,
  legendPosition: 'right',
  times: [],
  addTimeMarker: false,
  labels: { show: false },
  thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
};

function visParams(v: VisSpec): Record<string, unknown> {
  switch (v.type) {
    case 'histogram':
      return { type: 'histogram', ...AXES };
    case 'pie':
      return { type: 'pie', addTooltip: true, addLegend: true, legendPosition: 'right', isDonut: true, labels: { show: false, values: true, last_level: true, truncate: 100 } };
    case 'table':
      return { perPage: 10, showPartialRows: false, showMetricsAtAllLevels: false, sort: { columnIndex: null, direction: null }, showTotal: false, totalFunc: 'sum', percentageCol: '' };
    case 'metric':
      return {
        addTooltip: true,
        addLegend: false,
        type: 'metric',
        metric: { percentageMode: false, useRanges: false, colorSchema: 'Green to Red', metricColorMode: 'None', colorsRange: [{ from: 0, to: 10000 }], labels: { show: true }, invertColors: false, style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 60 } },
      };
    case 'heatmap':
      return {
        type: 'heatmap',
        addTooltip: true,
        addLegend: true,
        enableHover: false,
        legendPosition: 'right',
        times: [],
        colorsNumber: 4,
        colorSchema: 'Reds',
        setColorRange: false,
        colorsRange: [],
        invertColors: false,
        percentageMode: false,
        valueAxes: [{ show: false, id: 'ValueAxis-1', type: 'value', scale: { type: 'linear', defaultYExtents: false }, labels: { show: false, rotate: 0, overwriteColor: false, color: 'black' } }],
      };
  }
}

function aggState(a: AggSpec, i: number): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (a.field !== undefined) params.field = a.field;
  if (a.label !== undefined) params.customLabel = a.label;
  if (a.type === 'terms') Object.assign(params, { size: a.size ?? 10, order: 'desc', orderBy: '1', otherBucket: false, missingBucket: false, ...(a.include ? { include: a.include } : {}), ...(a.exclude ? { exclude: a.exclude } : {}) });
  if (a.type === 'date_histogram') Object.assign(params, { interval: 'auto', min_doc_count: 1, extended_bounds: {}, drop_partials: false, useNormalizedOpenSearchInterval: true });
  return { id: String(i + 1), enabled: true, type: a.type, schema: a.schema, params };
}

function indexPatternObject(p: IndexPatternSpec, prefix: string): SavedObject {
  return { type: 'index-pattern', id: patternId(p.key), attributes: { title: `${prefix}-${p.suffix}`, timeFieldName: p.timeField }, references: [], migrationVersion: { 'index-pattern': '7.6.0' } };
}

function visObject(v: VisSpec): SavedObject {
  const visState = { title: v.title, type: v.type, params: visParams(v), aggs: v.aggs.map(aggState) };
  return {
    type: 'visualization',
    id: v.id,
    attributes: { title: v.title, description: v.description, version: 1, visState: JSON.stringify(visState), uiStateJSON: JSON.stringify(v.colours ? { vis: { colors: v.colours } } : {}), ...searchSource(v.query) },
    references: [{ name: INDEX_REF, type: 'index-pattern', id: patternId(v.pattern) }],
    migrationVersion: { visualization: '7.10.0' },
  };
}

function searchObject(s: SearchSpec): SavedObject {
  return {
    type: 'search',
    id: s.id,
    attributes: { title: s.title, description: s.description, hits: 0, columns: s.columns, sort: [[INDEX_PATTERNS.find((p) => p.key === s.pattern)!.timeField, 'desc']], version: 1, ...searchSource(s.query) },
    references: [{ name: INDEX_REF, type: 'index-pattern', id: patternId(s.pattern) }],
    migrationVersion: { search: '7.9.3' },
  };
}

function dashboardObject(d: DashboardSpec): SavedObject {
  const panels: Record<string, unknown>[] = [];
  const references: SavedObject['references'] = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  d.panels.forEach(([id, w, h], i) => {
    if (x + w > 48) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const type = SEARCHES.some((s) => s.id === id) ? 'search' : 'visualization';
    panels.push({ version: '2.11.0', gridData: { x, y, w, h, i: String(i + 1) }, panelIndex: String(i + 1), embeddableConfig: {}, panelRefName: `panel_${i}` });
    references.push({ name: `panel_${i}`, type, id });
    x += w;
    rowH = Math.max(rowH, h);
  });
  return {
    type: 'dashboard',
    id: d.id,
    attributes: {
      title: d.title,
      description: d.description,
      hits: 0,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      version: 1,
      timeRestore: true,
      timeFrom: 'now-7d',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 60_000 },
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'lucene' }, filter: [] }) },
    },
    references,
    migrationVersion: { dashboard: '7.9.3' },
  };
}

/** The NDJSON files, in import order (index patterns first: every other object refers to them). */
export function buildDashboardFiles(prefix = 'seam'): { file: string; objects: SavedObject[] }[] {
  const files: { file: string; objects: SavedObject[] }[] = [{ file: 'index-patterns.ndjson', objects: INDEX_PATTERNS.map((p) => indexPatternObject(p, prefix)) }];
  for (const d of DASHBOARDS) {
    const objects: SavedObject[] = [];
    for (const [id] of d.panels) {
      const v = VISUALIZATIONS.find((x) => x.id === id);
      const s = SEARCHES.find((x) => x.id === id);
      if (v) objects.push(visObject(v));
      else if (s) objects.push(searchObject(s));
      else throw new Error(`dashboard ${d.id}: no visualization or search '${id}'`);
    }
    objects.push(dashboardObject(d));
    files.push({ file: d.file, objects });
  }
  return files;
}

export function toNdjson(objects: readonly SavedObject[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
}
