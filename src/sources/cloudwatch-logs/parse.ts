import type { SourceType } from '../../core/envelope.ts';
import { EKS_AUDIT_STREAM_PREFIX, eksClusterOfLogGroup } from '../../core/eks-log-group.ts';
import { detectFormat, FORMAT_SOURCE } from '../../core/normalize/detect.ts';
import { accountOfRoleArn, sourceOfGroup, type LogGroupConfig } from './config.ts';

export { EKS_AUDIT_STREAM_PREFIX };

/** Pure helpers of the CloudWatch Logs collector: what a log group is, and what one event becomes. */

const CW_TRUNCATED_SUFFIX = '[Truncated...]';

export interface ResolvedGroup {
  logGroupName: string;
  logStreamNamePrefix: string | undefined;
  source: SourceType | undefined;
  cluster: string | undefined;
  account: string | undefined;
  /** Role the group is read through (another account), with its external id. */
  roleArn?: string | undefined;
  externalId?: string | undefined;
  /** The group's own lookback, when configured (lookbackOf in config.ts gives the one it reads with). */
  lookbackMs?: number | undefined;
}

/** Fills what the group name says: /aws/eks/<cluster>/cluster is the cluster's audit log; CloudTrail's groups name themselves. */
export function resolveGroup(g: LogGroupConfig): ResolvedGroup {
  const eks = eksClusterOfLogGroup(g.logGroupName);
  const source = sourceOfGroup(g);
  return {
    logGroupName: g.logGroupName,
    logStreamNamePrefix: g.logStreamNamePrefix ?? (eks !== undefined ? EKS_AUDIT_STREAM_PREFIX : undefined),
    source,
    cluster: g.cluster ?? eks,
    account: g.account ?? (g.roleArn === undefined ? undefined : accountOfRoleArn(g.roleArn)),
    ...(g.roleArn === undefined ? {} : { roleArn: g.roleArn }),
    ...(g.externalId === undefined ? {} : { externalId: g.externalId }),
    ...(g.lookbackMs === undefined ? {} : { lookbackMs: g.lookbackMs }),
  };
}

/**
 * True when CloudWatch cut the message: the agent's marker, or a message at the size limit that is
 * not valid JSON. (Only big messages are parsed here, so the common path costs no JSON.parse.)
 */
export function isTruncated(message: string, thresholdBytes: number): boolean {
  if (message.endsWith(CW_TRUNCATED_SUFFIX)) return true;
  if (message.length * 3 < thresholdBytes || Buffer.byteLength(message, 'utf8') < thresholdBytes) return false;
  try {
    JSON.parse(message);
    return false;
  } catch {
    return true;
  }
}

/** The source of one record when its group does not fix it; undefined when nothing matches. */
export function detectSource(message: string): SourceType | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const f = detectFormat(parsed as Record<string, unknown>);
  return f === undefined || f === 'cloudwatch_event' || f === 'siem_export' ? undefined : FORMAT_SOURCE[f];
}

/** Kafka key of an event: its stream, so each stream keeps its order on one partition. */
export const streamKey = (logGroupName: string, logStreamName: string): string => `${logGroupName}/${logStreamName}`;

/** Where an event came from, unique per event: `<group>/<stream>#<eventId>`. */
export const eventOrigin = (logGroupName: string, logStreamName: string, eventId: string): string => `${logGroupName}/${logStreamName}#${eventId}`;
