import { randomBytes } from 'node:crypto';

/**
 * Names of the consumer groups Seam joins besides each role's own (`<groupPrefix>seam-<role>`,
 * src/pipeline/roles/role.ts): short-lived groups a process creates to read a topic once and deletes after.
 * Every one starts with the configured `kafka.groupPrefix`, as the roles' groups do, so that one IAM grant
 * (or ACL) per kind covers them and pipelines sharing a cluster never share them (deploy/iam, docs/kafka-iam.md).
 *
 * - `rebuild`: re-reading history (src/pipeline/history.ts): the correlate role's rebuild and the deliver role's start;
 * - `reader`: reading topics to their end (KafkaBus.readToEnd): collector checkpoints and leases, `seam dlq`;
 * - `lease`: a collector replica's heartbeat consumer (src/sources/checkpoint/lease.ts).
 */
export const THROWAWAY_GROUP_KINDS = ['rebuild', 'reader', 'lease'] as const;
export type ThrowawayGroupKind = (typeof THROWAWAY_GROUP_KINDS)[number];

/** What every group of that kind starts with: the IAM resource pattern is this followed by `*`. */
export const throwawayGroupStem = (kind: ThrowawayGroupKind, groupPrefix = ''): string => `${groupPrefix}seam-${kind}-`;

/** A fresh group id of that kind; `tag` (a replica id) goes before the random part. */
export function throwawayGroupId(kind: ThrowawayGroupKind, groupPrefix = '', tag?: string): string {
  return `${throwawayGroupStem(kind, groupPrefix)}${tag === undefined ? '' : `${tag}-`}${randomBytes(6).toString('hex')}`;
}
