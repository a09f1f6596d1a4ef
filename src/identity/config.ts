import { z } from 'zod';

/** Options of the identity graph. The schema is the documentation (docs/identity.md repeats the why). */
export const ClusterConfig = z.strictObject({
  name: z.string().min(1).describe('EKS cluster name as events name it (seam.cluster).'),
  account: z.string().optional().describe('AWS account id that owns the cluster.'),
  oidcIssuer: z
    .string()
    .optional()
    .describe('OIDC issuer (https://oidc.eks.<region>.amazonaws.com/id/<ID> or the provider ARN): ties IRSA sessions to this cluster.'),
  egressCidrs: z
    .array(z.string())
    .default([])
    .describe('Addresses (CIDR or single IP) the cluster reaches AWS from: NAT gateways, node subnets. Credentials of the cluster used elsewhere are suspect.'),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const IdentityGraphConfig = z.strictObject({
  clusters: z.array(ClusterConfig).default([]).describe('Clusters known up front. Others are learned from events.'),
  execLinkWindowMs: z
    .number()
    .int()
    .positive()
    .default(30 * 60_000)
    .describe('How long after an exec into a pod the pod service account’s AWS calls are attributed to the person who exec’d.'),
  retentionMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60_000)
    .describe('Closed edges (expired credentials, deleted objects) are kept this long after closing, for late events.'),
  maxVersionsPerKey: z.number().int().positive().default(8).describe('History kept per edge key.'),
  pruneEveryEvents: z.number().int().positive().default(4096).describe('Pruning runs after this many observed events.'),
  webIdentitySessionSeconds: z.number().int().positive().default(3600).describe('Lifetime of IRSA credentials when the request does not say.'),
  podIdentitySessionSeconds: z.number().int().positive().default(6 * 3600).describe('Lifetime of EKS Pod Identity credentials.'),
  observedSessionSeconds: z
    .number()
    .int()
    .positive()
    .default(12 * 3600)
    .describe('Lifetime assumed for session credentials first seen in use (their issuance was not observed): the STS maximum.'),
  egressLearningMs: z
    .number()
    .int()
    .positive()
    .default(6 * 3600_000)
    .describe('For this long after a cluster’s first web-identity or Pod Identity AssumeRole, their source addresses are learned as its egress; afterwards only configured CIDRs add addresses, so an attacker replaying a stolen token cannot teach the graph its address.'),
  maxEgressPerCluster: z.number().int().positive().default(64).describe('Cap on learned egress addresses per cluster.'),
});
export type IdentityGraphConfig = z.infer<typeof IdentityGraphConfig>;
export type IdentityGraphOptions = z.input<typeof IdentityGraphConfig>;
