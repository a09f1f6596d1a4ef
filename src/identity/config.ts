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

export const SEED_KINDS = ['aws-auth', 'access-entries', 'pod-identity', 'kubectl'] as const;
export type SeedKind = (typeof SEED_KINDS)[number];

/** A snapshot file the graph starts from (docs/identity.md, Seeding from snapshots). */
export const SeedConfig = z.strictObject({
  path: z
    .string()
    .min(1)
    .describe(
      'Snapshot file: `kubectl get configmap aws-auth -n kube-system -o yaml` (or -o json), `aws eks describe-access-entry` / `list-associated-access-policies` output (JSON, alone or as an array), `aws eks describe-pod-identity-association` output (JSON, alone or as an array), or a `kubectl get … -A -o json` List of clusterroles, clusterrolebindings, roles, rolebindings, serviceaccounts, pods. Relative to seam.yml\'s folder.',
    ),
  cluster: z.string().min(1).optional().describe('Cluster the snapshot is of (default: seam.yml `cluster`). aws-auth and kubectl snapshots do not name one; access-entry and Pod Identity records that carry `clusterName` keep theirs.'),
  account: z.string().optional().describe('Account of the cluster (default: its identity.clusters[].account).'),
  kind: z.enum(SEED_KINDS).optional().describe('What the file holds; default: read from its content.'),
  at: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('When the snapshot was taken (ISO 8601). Default: the start of time, so the seeded facts hold for every event until an event changes them. Set it only when replaying history from before the snapshot must not see them.'),
});
export type SeedConfig = z.infer<typeof SeedConfig>;

/** Accounts whose role chains cross between them: on Kafka their signals share one correlate partition (ADR 0056). */
export const AccountGroup = z.array(z.string().regex(/^\d{12}$/, 'an AWS account id (12 digits)')).min(2);

export const IdentityGraphConfig = z.strictObject({
  clusters: z.array(ClusterConfig).default([]).describe('Clusters known up front. Others are learned from events.'),
  accountGroups: z
    .array(AccountGroup)
    .default([])
    .superRefine((groups, ctx) => {
      const seen = new Map<string, number>();
      groups.forEach((g, i) => {
        for (const a of g) {
          const before = seen.get(a);
          if (before !== undefined && before !== i) ctx.addIssue({ code: 'custom', path: [i], message: `account ${a} is in groups ${before} and ${i}: an account belongs to one group (merge them)` });
          seen.set(a, i);
        }
      });
    })
    .describe(
      'Accounts whose sessions chain into each other (a role of one assumed with a session of another: a workload in one account reading a shared-services or data account). On Kafka the signals of a group share one correlate partition, keyed by the group’s first account, so a call in one resolves through the AssumeRole to the workload, pod and exec in another (ADR 0056); without it such a chain resolves only when the accounts happen to share a partition, and the normalize role counts and warns about each pair it sees split. List the account that has the most state first (its partition stays where it was). No effect in embedded mode or `seam replay` (one graph, or workers that group chained accounts themselves).',
    ),
  seeds: z
    .array(SeedConfig)
    .default([])
    .describe(
      'Snapshots of the access entries, aws-auth mappings, RBAC and Pod Identity associations that existed before Seam started (the graph otherwise learns only what it sees change). Read at every start by `seam run` (embedded, and each correlate member on Kafka), `seam replay --rules`; `--seed FILE[=CLUSTER]` adds more. Facts learned from events override them by event time.',
    ),
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
