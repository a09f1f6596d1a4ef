import { z } from 'zod';

/** Options of the native detections. Cluster egress CIDRs live in the identity graph's config (`clusters[].egressCidrs`). */
export const NativeConfig = z.strictObject({
  execToAwsWindowMs: z.number().int().positive().default(10 * 60_000).describe('An exec into a pod and that pod’s role calling AWS this soon after it are one story.'),
  manyAddresses: z
    .number()
    .int()
    .min(2)
    .default(3)
    .describe('A workload or node session used from this many distinct addresses outside the configured CIDRs is suspect, even if each was once learned as egress.'),
  firstUseWindowMs: z.number().int().positive().default(7 * 24 * 3600_000).describe('How long a new mapping or access entry waits for its first use.'),
  tokenUseWindowMs: z.number().int().positive().default(24 * 3600_000).describe('Cap on how long a minted service-account token is watched (its own expiry applies when shorter).'),
  guardDutyJoinMs: z.number().int().positive().default(15 * 60_000).describe('Activity by the same principal this long before and after a GuardDuty finding joins its incident.'),
  treatPrivateAsInternal: z
    .boolean()
    .default(true)
    .describe('RFC 1918 / unique-local addresses count as inside the cluster’s VPC (calls through VPC endpoints show them).'),
  maxStateEntries: z.number().int().positive().default(50_000).describe('Cap on entries any one detection keeps; the oldest go first.'),
});
export type NativeConfig = z.infer<typeof NativeConfig>;
export type NativeOptions = z.input<typeof NativeConfig>;
