import type { SourceType } from '../core/envelope.ts';
import type { CollectConfig } from '../sources/collect-config.ts';
import { resolveGroup } from '../sources/cloudwatch-logs/parse.ts';

/**
 * Delivery delay (ms) the correlate role expects of CloudTrail before it has delivered anything since the start
 * (ADR 0009, 5c): AWS documents CloudTrail's delivery (to S3 and to CloudWatch Logs) as within about 5 minutes of
 * the API call on average, not guaranteed, and Seam's collector polls the log group on top; 15 minutes is the upper
 * end of that and `correlate.maxSourceDelayMs`'s default. It costs only while CloudTrail has not delivered: from its
 * first records on, the delay they came with is used instead.
 */
export const DEFAULT_CLOUDTRAIL_DELAY_MS = 900_000;

/**
 * `correlate.sourceDelayMs` as the correlate role uses it: the configured map when seam.yml sets one (`{}`: none);
 * otherwise CloudTrail's default delay, only when this seam.yml's collectors read CloudTrail (a CloudWatch Logs group
 * of source cloudtrail, named or told by its name). A deployment that does not collect CloudTrail is not held back
 * for an empty CloudTrail topic. The Helm chart, whose roles read a seam.yml without `collect`, writes the same
 * default into it from its collect.sources (deploy/helm/seam/templates/_config.tpl; test:deploy compares the two).
 */
export function expectedSourceDelays(configured: Readonly<Partial<Record<SourceType, number>>> | undefined, collect: CollectConfig | undefined): Partial<Record<SourceType, number>> {
  if (configured !== undefined) return { ...configured };
  const collectsTrail = Object.values(collect?.sources ?? {}).some((s) => s.type === 'cloudwatch-logs' && s.logGroups.some((g) => resolveGroup(g).source === 'cloudtrail'));
  return collectsTrail ? { cloudtrail: DEFAULT_CLOUDTRAIL_DELAY_MS } : {};
}
