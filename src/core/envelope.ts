import { z } from 'zod';

/**
 * The normalized event of DESIGN.md: the raw record as its source wrote it (so Sigma rules that use
 * `eventName`, `verb`, `objectRef.resource`... work unmodified), plus `@timestamp` and one `seam`
 * namespace. This file is the contract between normalization, detection, identity and the sinks.
 */

export const SOURCE_TYPES = ['k8s_audit', 'cloudtrail', 'guardduty', 'runtime'] as const;
export const SourceType = z.enum(SOURCE_TYPES).describe('Which plane of evidence a record comes from.');
export type SourceType = z.infer<typeof SourceType>;

export const PRINCIPAL_TYPES = [
  'iam_user',
  'iam_role',
  'assumed_role',
  'k8s_user',
  'service_account',
  'node',
  'anonymous',
  'aws_service',
  'root',
  'unknown',
] as const;

export const Principal = z
  .object({
    id: z.string().describe('Canonical key: an IAM ARN (sessions collapsed to their role ARN + session), k8s user name, or system:serviceaccount:<ns>:<name>.'),
    type: z.enum(PRINCIPAL_TYPES),
    arn: z.string().optional().describe('IAM ARN as the record states it (assumed-role ARN for sessions).'),
    session: z.string().optional().describe('Role session name.'),
    access_key_id: z.string().optional(),
    k8s_user: z.string().optional(),
    k8s_groups: z.array(z.string()).optional(),
    service_account: z.string().optional().describe('<namespace>/<name>.'),
    pod: z.string().optional().describe('<namespace>/<name>.'),
  })
  .describe('Who acted, as far as the record alone says (the identity graph refines it).');
export type Principal = z.infer<typeof Principal>;

export const ChainStep = z.object({
  kind: z.string().describe('Edge kind, e.g. aws_auth_mapping, access_entry, web_identity_session, exec.'),
  from: z.string(),
  to: z.string(),
  via: z.string().optional().describe('The event id that established this edge.'),
});
export type ChainStep = z.infer<typeof ChainStep>;

export const Ingest = z.object({
  collector: z.string().describe('Which collector produced the raw record (file, cloudwatch-logs, guardduty, sidecar).'),
  received_at: z.string().describe('When Seam received the raw record, ISO 8601.'),
  truncated: z.boolean().describe('True when the source truncated the record (e.g. CloudWatch Logs 256 KiB limit).'),
  redacted: z.array(z.string()).describe('Dotted paths whose values were replaced by "[REDACTED]".'),
  origin: z.string().optional().describe('Where the raw record came from: file:line, logGroup/logStream, endpoint.'),
});
export type Ingest = z.infer<typeof Ingest>;

export const SeamMeta = z.object({
  id: z.string().describe('Stable dedup id: CloudTrail eventID, auditID+stage, finding id+updatedAt, runtime event id.'),
  source: SourceType,
  format: z.string().optional().describe('Sub-format within a source, e.g. falco, native, eventbridge.'),
  account: z.string().optional(),
  region: z.string().optional(),
  cluster: z.string().optional(),
  principal: Principal.optional(),
  chain: z.array(ChainStep).optional().describe('The identity path that resolved the principal, acting credentials first.'),
  origin: Principal.optional().describe('Who acted, really: the identity the chain reached (e.g. the IAM session that exec\'d into the pod whose IRSA credentials made this call).'),
  source_ip: z.string().optional(),
  user_agent: z.string().optional(),
  action: z.string().optional().describe('eventSource:eventName for CloudTrail, verb + resource for audit, finding type, runtime kind.'),
  outcome: z.enum(['success', 'failure', 'unknown']).optional(),
  resource: z.string().optional(),
  policy: z
    .object({ field: z.string(), Version: z.string().optional(), Id: z.string().optional(), Statement: z.array(z.record(z.string(), z.unknown())) })
    .optional()
    .describe('The policy document a CloudTrail request sets, as an object whatever form it was logged in (JSON text, URL-encoded text, an object), Statement always a list, each statement with seam_conditions (its condition operator and key pairs, lower-cased); field names where it came from (ADR 0042).'),
  dry_run: z
    .literal(true)
    .optional()
    .describe(
      'Set on a Kubernetes audit event whose request was a server-side dry run (`kubectl apply --dry-run=server`, `kubectl diff`, GitOps drift checks): the dryRun query parameter of a create, update or patch, DeleteOptions.dryRun (body, else query) of a delete. The API server admitted and validated it and stored nothing. The request itself (who, from where, with which credentials) is real; what it would have written is not, so the identity graph learns nothing from its object (ADR 0045). Absent otherwise.',
    ),
  time_skew: z
    .number()
    .optional()
    .describe('Set when the event time lies outside the allowed window around `ingest.received_at`: event time minus receive time, in ms. The time is kept as the source wrote it, but should not be trusted for watermarks.'),
  time_missing: z
    .boolean()
    .optional()
    .describe('True when the record carries no event time (a CloudTrail record cut down without eventTime, p_event_time or a Logstash @timestamp): `@timestamp` is then `ingest.received_at`, when Seam read the record, not when it happened. Absent otherwise.'),
  ingest: Ingest,
});
export type SeamMeta = z.infer<typeof SeamMeta>;

/** A normalized event: arbitrary raw fields plus `@timestamp` and `seam`. */
export type SeamEvent = Record<string, unknown> & { '@timestamp': string; seam: SeamMeta };

export const SeamEventSchema = z.looseObject({ '@timestamp': z.string(), seam: SeamMeta });

/** Metadata a collector attaches to a raw record before normalization. */
export interface RawMeta {
  collector: string;
  receivedAt: string;
  /** Source type when the collector knows it (a CloudTrail log group); otherwise detected per record. */
  source?: SourceType;
  cluster?: string;
  account?: string;
  region?: string;
  origin?: string;
  truncated?: boolean;
}
