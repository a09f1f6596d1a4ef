import { z } from 'zod';
import { AwsCallConfigFields, AwsRegionName } from '../aws/client.ts';
import { eksClusterOfLogGroup } from '../../core/eks-log-group.ts';
import { SourceType } from '../../core/envelope.ts';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/** The account id of an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME). */
export function accountOfRoleArn(arn: string): string | undefined {
  return ROLE_ARN.exec(arn)?.[1];
}

/** What a log group is read as: the group in the pod's own account, or in a role's account (`<account>`). */
export function readingAccount(g: { roleArn?: string | undefined }): string {
  return g.roleArn === undefined ? '' : (accountOfRoleArn(g.roleArn) ?? g.roleArn);
}

/** The lookback of a log group whose source is not CloudTrail, and of CloudTrail's (ADR 0061). */
export const DEFAULT_LOOKBACK_MS = 5 * 60_000;
export const CLOUDTRAIL_LOOKBACK_MS = 15 * 60_000;

/** What a log group holds, from its `source` or its name: /aws/eks/<cluster>/cluster is a cluster's audit log; CloudTrail's and GuardDuty's groups name themselves. */
export function sourceOfGroup(g: { logGroupName: string; source?: SourceType | undefined }): SourceType | undefined {
  if (g.source !== undefined) return g.source;
  if (eksClusterOfLogGroup(g.logGroupName) !== undefined) return 'k8s_audit';
  if (/cloudtrail/i.test(g.logGroupName)) return 'cloudtrail';
  if (/guardduty/i.test(g.logGroupName)) return 'guardduty';
  return undefined;
}

/**
 * How far behind its watermark each poll of a group re-reads: the group's `lookbackMs`, else the collector's, else 15 min
 * for CloudTrail (delivered in about 5 min on average, not guaranteed) and 5 min for the rest (ADR 0061).
 */
export function lookbackOf(c: { lookbackMs?: number | undefined }, g: { logGroupName: string; source?: SourceType | undefined; lookbackMs?: number | undefined }): number {
  return g.lookbackMs ?? c.lookbackMs ?? (sourceOfGroup(g) === 'cloudtrail' ? CLOUDTRAIL_LOOKBACK_MS : DEFAULT_LOOKBACK_MS);
}

export const LogGroupConfig = z
  .strictObject({
    logGroupName: z.string().min(1).describe('Log group to read, e.g. /aws/eks/prod/cluster or aws-cloudtrail-logs-123456789012.'),
    logStreamNamePrefix: z
      .string()
      .optional()
      .describe('Only streams whose name starts with this; defaults to kube-apiserver-audit- for /aws/eks/<cluster>/cluster groups.'),
    source: SourceType.optional().describe('Source of every record in the group; when omitted it follows from the group name, else is detected per record.'),
    cluster: z.string().optional().describe('EKS cluster to attribute records to; defaults to <cluster> of /aws/eks/<cluster>/cluster.'),
    lookbackMs: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('This group\'s lookback (see the collector\'s `lookbackMs`), e.g. a longer one for a CloudTrail group read beside EKS audit logs.'),
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional()
      .describe(
        'AWS account id of the log group; with `roleArn` it defaults to the role\'s account (and must be that account), otherwise it is read once from the group\'s ARN (DescribeLogGroups). Every record carries it; a cluster\'s signals are keyed by it on Kafka.',
      ),
    roleArn: z
      .string()
      .regex(ROLE_ARN, 'roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)')
      .optional()
      .describe(
        'Read this group in another account (a security-account install): the collector calls sts:AssumeRole on this role with its own credentials (IRSA / Pod Identity) and reads the group in the role\'s account. One CloudWatch Logs client per role, credentials refreshed before they expire; Kafka and OpenSearch keep using the pod\'s own credentials. Trust and permission templates: deploy/iam/cloudwatch-logs-reader-role-*.json.',
      ),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, 'externalId: 2 to 1224 characters of [A-Za-z0-9+=,.@:/_-]')
      .optional()
      .describe('sts:ExternalId sent with AssumeRole, when the reader role\'s trust policy requires one (`sts:ExternalId` condition; see deploy/iam/README.md for when that is needed). Only with `roleArn`.'),
  })
  .refine((g) => g.externalId === undefined || g.roleArn !== undefined, { message: 'externalId needs roleArn', path: ['externalId'] })
  .refine((g) => g.roleArn === undefined || g.account === undefined || accountOfRoleArn(g.roleArn) === g.account, {
    message: 'account must be the account of roleArn: the group is read in the role\'s account',
    path: ['account'],
  })
  .describe('One log group the collector reads.');
export type LogGroupConfig = z.infer<typeof LogGroupConfig>;

export const LeaseConfig = z
  .strictObject({
    topic: z
      .string()
      .min(1)
      .optional()
      .describe('Compacted topic the replicas heartbeat on. Default `<kafka.topicPrefix>seam.collect.leases`; a name set here is used as written (no prefix).'),
    ttlMs: z.number().int().min(1000).default(15_000).describe('A replica not heard from for this long is dead: its log groups move to the live replicas.'),
    heartbeatMs: z.number().int().min(100).default(3_000).describe('How often a replica heartbeats; keep it well under ttlMs.'),
  })
  .refine((l) => l.heartbeatMs * 2 <= l.ttlMs, { message: 'lease.heartbeatMs must be at most half of lease.ttlMs' })
  .describe('Automatic failover: replicas heartbeat through Kafka and log groups are split over the live ones (ADR 0004).');
export type LeaseConfig = z.infer<typeof LeaseConfig>;

export const OwnershipConfig = z
  .strictObject({
    replicaId: z.string().min(1).describe('This replica\'s id, e.g. the StatefulSet pod name (seam-collect-0).'),
    replicas: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Every replica\'s id (a static list); each log group is owned by exactly one (rendezvous hashing, ADR 0004). Omit with `lease`.'),
    lease: LeaseConfig.optional().describe('Ownership over the replicas that are alive (heartbeats through Kafka) instead of a static list.'),
  })
  .refine((o) => o.lease !== undefined || o.replicas !== undefined, { message: 'ownership needs `replicas` (a static list) or `lease` (live replicas)' })
  .refine((o) => o.lease !== undefined || o.replicas === undefined || o.replicas.includes(o.replicaId), { message: 'ownership.replicas must include ownership.replicaId' })
  .refine((o) => o.lease === undefined || o.replicas === undefined, { message: 'ownership takes `replicas` or `lease`, not both' })
  .describe('Splits log groups between replicas so that two replicas never read the same group.');
export type OwnershipConfig = z.infer<typeof OwnershipConfig>;

export const CloudWatchLogsSourceConfig = z
  .strictObject({
    type: z.literal('cloudwatch-logs'),
    name: z.string().min(1).default('cloudwatch-logs').describe('Collector name; part of checkpoint keys and transactional ids, so keep it stable.'),
    region: AwsRegionName.optional().describe('AWS region of the log groups, a region name such as eu-west-1 (anything else is refused); defaults to the SDK\'s (AWS_REGION).'),
    endpoint: z.url().optional().describe('CloudWatch Logs endpoint override (moto, VPC endpoint).'),
    stsEndpoint: z.url().optional().describe('STS endpoint override for the log groups\' `roleArn` (moto, an STS VPC endpoint); default the SDK\'s regional STS endpoint.'),
    roleSessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/)
      .default('seam-collect')
      .describe('Session name of the AssumeRole calls for `roleArn` groups; it shows in the workload account\'s CloudTrail as assumed-role/<role>/<this>.'),
    logGroups: z.array(LogGroupConfig).min(1).describe('Log groups to read; several clusters and CloudTrail can share one collector.'),
    pollIntervalMs: z.number().int().positive().default(5_000).describe('Wait between polls of a log group.'),
    lookbackMs: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        'Each poll re-reads this far behind the watermark to catch late-ingested events; ids already emitted are skipped. An event CloudWatch Logs ingests later than this after its own time is never read (nor, surely, one later than the margin below; ADR 0061: seam_collector_ingest_delay_seconds shows the delays, seam_collector_near_lookback_total and a WARN line say when they come near it). Default: 900000 (15 min) for CloudTrail groups (CloudTrail delivers in about 5 min on average, not guaranteed), 300000 (5 min) for the others; a group\'s own `lookbackMs` wins. The whole lookback is re-read once every fullLookbackEveryMs (each poll re-reads recentLookbackMs): a longer one costs FilterLogEvents reads (about lookback / fullLookbackEveryMs reads of each event) and checkpoint bytes (the ids seen in the lookback), not records sent twice. An event is read for sure if ingested within lookbackMs − fullLookbackEveryMs − pollIntervalMs of its time.',
      ),
    recentLookbackMs: z
      .number()
      .int()
      .nonnegative()
      .default(60_000)
      .describe(
        'Two-tier re-read (ADR 0061): a poll re-reads only this far behind the watermark, and the whole lookback only every fullLookbackEveryMs. Most events are ingested within a minute; later ones are caught by the next full re-read. Cuts the FilterLogEvents reads of each event from about lookback / pollIntervalMs to about recentLookbackMs / pollIntervalMs + lookback / fullLookbackEveryMs (15 min CloudTrail lookback, 5 s polls: 181 -> 27). At or above a group\'s lookback: every poll re-reads the whole lookback.',
      ),
    fullLookbackEveryMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe(
        'How often a poll re-reads the whole lookback (see recentLookbackMs); the first poll after a start always does. An event is then caught if CloudWatch Logs ingests it within about lookbackMs − fullLookbackEveryMs − pollIntervalMs of its own time.',
      ),
    initialLookbackMs: z.number().int().nonnegative().default(60 * 60_000).describe('Without a checkpoint, start this far in the past.'),
    maxPollWindowMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000)
      .describe('Longest time span read in one poll; a long catch-up proceeds in chunks of this size.'),
    maxCatchUpMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 60 * 60_000)
      .describe(
        'How far back a collector resumes at most after downtime (or falling behind): it reads on from its checkpoint, in maxPollWindowMs chunks with a progress line, but not from before now − maxCatchUpMs. An older window is skipped, counted (seam_collector_gap_seconds_total, seam_collector_skipped_windows_total) and logged at WARN with the log group and the window start and end. Keep it within the log groups\' retention; at least lookbackMs.',
      ),
    pageLimit: z.number().int().min(1).max(10_000).default(10_000).describe('Events per FilterLogEvents page.'),
    ...AwsCallConfigFields,
    truncationThresholdBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 - 26 - 64)
      .describe('A message at least this large that is not valid JSON was cut by CloudWatch (256 KiB event limit) and is flagged truncated.'),
    ownership: OwnershipConfig.optional().describe('Replica ownership of log groups; omit when one replica runs.'),
  })
  .refine((c) => c.logGroups.every((g) => c.maxCatchUpMs >= lookbackOf(c, g)), { message: 'maxCatchUpMs must be at least lookbackMs (of every log group: 15 min for CloudTrail groups by default)', path: ['maxCatchUpMs'] })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.logGroups.forEach((g, i) => {
      // The same name in two accounts (read through two roles) is two groups; in one account it is one group read twice.
      const acct = readingAccount(g);
      const k = `${acct}|${g.logGroupName}|${g.logStreamNamePrefix ?? ''}`;
      if (seen.has(k)) {
        const where = acct === '' ? 'in the collector\'s own account (set roleArn to read another account\'s group)' : `in account ${acct}`;
        ctx.addIssue({ code: 'custom', path: ['logGroups', i], message: `log group ${g.logGroupName} is listed twice with the same stream prefix ${where}` });
      }
      seen.add(k);
    });
  })
  .describe('Reads EKS audit logs, CloudTrail and EventBridge-delivered GuardDuty findings from CloudWatch Logs, with durable checkpoints.');
export type CloudWatchLogsSourceConfig = z.infer<typeof CloudWatchLogsSourceConfig>;
