/** What the extractors (events and snapshots → facts) need from the graph, kept narrow to avoid import cycles. */
import type { IdentityGraphConfig } from './config.ts';
import type { EdgeStore } from './store.ts';
import type { IdentityFact } from './types.ts';

export type FactDraft = Omit<IdentityFact, 'op' | 'provenance' | 'valid_from'> & { valid_from?: string };

export interface ExtractContext {
  readonly store: EdgeStore;
  readonly config: IdentityGraphConfig;
  /** Provenance and time of what is being extracted. */
  readonly provenance: string;
  readonly at: string;
  readonly atMs: number;
  /** Asserts the fact unless the edge valid now already says the same. */
  assert(f: FactDraft): void;
  /** Asserts only when the key has never been seen (immutable or first-sight links). */
  assertIfAbsent(f: FactDraft): void;
  retract(kind: IdentityFact['kind'], key: string, from: string, to: string, extra?: Partial<IdentityFact>): void;
  /** Makes `members` the whole of `group`: retracts members no longer present, asserts new or changed ones. */
  replaceGroup(group: string, members: FactDraft[]): void;
  /** Cluster an OIDC issuer / IRSA role / service account belongs to, learning the issuer mapping when it can. */
  clusterForIrsa(issuer: string | undefined, account: string | undefined, roleArn: string | undefined, sa: string | undefined): string;
  /** Clusters known in an account (configured, named by events, or in facts). */
  clustersOf(account: string | undefined): string[];
  learnEgress(cluster: string, ip: string | undefined, account: string | undefined, how: string): void;
  /** An EKS API call on `cluster` logged in `account` (the cluster's own account): one name in two accounts is warned about. */
  noteEksCluster(cluster: string, account: string): void;
}
