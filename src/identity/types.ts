/**
 * The identity graph's vocabulary. Every piece of state is an `IdentityFact`: an edge between two node keys
 * (see keys.ts), asserted or retracted at an event time, with the `seam.id` of the event (or snapshot) that
 * said so. The graph is nothing but an index over facts, so it can be rebuilt from them (`seam.signals`).
 */
import type { ChainStep, Principal } from '../core/envelope.ts';

export const FACT_KINDS = [
  'credential', // access key → session (or IAM user) it signs as; valid until the credentials expire
  'session_of', // STS session → IAM role it is a session of
  'assumed_by', // STS session → the principal that called sts:AssumeRole (role chaining)
  'web_identity_session', // STS session → service account (IRSA, sts:AssumeRoleWithWebIdentity)
  'pod_identity_session', // STS session → service account (EKS Pod Identity); attributes.pod names the pod
  'authenticates_as', // IAM role/user → Kubernetes user, as the EKS authenticator reported it in an audit event
  'aws_auth_mapping', // IAM role/user → Kubernetes user (+ groups) through kube-system/aws-auth
  'access_entry', // IAM role/user → Kubernetes user (+ groups) through an EKS access entry
  'access_policy', // IAM role/user → EKS access policy (cluster or namespace scope)
  'rbac_role', // Role/ClusterRole → itself; attributes.rules
  'rbac_binding', // subject (user, group, service account) → Role/ClusterRole, one fact per subject of a binding
  'irsa', // service account → IAM role (eks.amazonaws.com/role-arn annotation)
  'pod_identity_association', // service account → IAM role (eks:CreatePodIdentityAssociation); attributes.targetRoleArn when it chains to a target role
  'pod_identity_target_role', // service account → the target IAM role its Pod Identity association chains to (EKS assumes the association's role, then this one)
  'pod_service_account', // pod → service account it runs as
  'exec', // pod → Kubernetes user who exec'd/attached into it; short-lived (the exec link window)
  'node_role', // IAM role → cluster whose nodes authenticate with it
  'oidc_provider', // OIDC issuer → cluster it belongs to
  'role_trust', // IAM role → OIDC issuer its trust policy federates (attributes.subjects)
  'cluster_config', // cluster → itself; attributes.authenticationMode
  'cluster_logging', // cluster → itself; attributes.enabled (control-plane log types on)
  'egress_ip', // cluster → address its workloads reach AWS from
  'baseline_start', // principal → itself (or account → itself, or `oidc_role:<issuer>|<role>` → itself): when the behavioural baselines first saw it
  'seen_network', // principal → network (`net:AS16509`, `net:198.51.0.0/16`) it acted from (`oidc_role:<issuer>|<role, lower-cased>`: a network that exchanged that issuer's tokens for the role; `net:aws:<prefix>` inside Amazon's); learned by the baselines
  'seen_region', // principal (or account) → AWS region it acted in; learned by the baselines
  'seen_service', // principal → AWS service (`svc:ec2`) whose API it called; learned by the baselines
  'seen_client', // principal → user-agent family (`ua:cli`, `ua:sdk`, …) it called AWS with; learned by the baselines
  'seen_secret_verb', // principal → Kubernetes verb (`verb:list`) it used on secrets; learned by the baselines
  'seen_k8s_action', // principal → kind of sensitive Kubernetes request (`k8s:exec`, `k8s:binding-write`, …) it made; learned by the baselines
  'changed_function', // IAM role/user → Lambda function (`lambda:<account>:<region>:<name>`) whose code or layers it changed (or that it created)
  'lambda_execution_session', // STS session named after a Lambda function (`arn:aws:sts::<account>:assumed-role/<role>/<function>`) → its execution role (IAM role ARN); learned from the Lambda runtime's user agent or CreateFunction/UpdateFunctionConfiguration
  'web_identity_origin', // access key issued by sts:AssumeRoleWithWebIdentity to a CI pipeline or federated workload → the network (`net:AS<n>`) that made the exchange (attributes: issuer, ip, subject); until the credentials expire
  'read_secret', // principal (baseline subject) → secret it read (`secret:<account>:<region>:sm:<name>` or `…:ssm:<parameter>`); learned by the baselines
  'pushed_image', // IAM role/user → ECR repository (`ecr:<registry account>:<region>:<name>`) it pushed an image to (or created); learned by the baselines
  'accessed_bucket', // another AWS account (`account:<id>`) → bucket (`s3:<owner>:<bucket>`) whose objects it read or wrote (attributes.access); learned by the baselines
  'workload_containers', // workload (`k8s:<cluster>:<kind>:<ns>/<name>`) → itself; attributes: its pod template's container, init and ephemeral container names (WorkloadContainersAttributes); learned by seam-native-container-added-to-workload from full objects, retracted on delete (ADR 0043)
] as const;
export type FactKind = (typeof FACT_KINDS)[number];

export interface IdentityFact {
  kind: FactKind;
  /** Identity of the edge: a later assert with the same key supersedes (closes) the earlier one. */
  key: string;
  op: 'assert' | 'retract';
  from: string;
  to: string;
  account?: string;
  cluster?: string;
  /**
   * A set the fact belongs to (the mappings of one aws-auth ConfigMap, the subjects of one binding): a new
   * version of the set retracts its members that are no longer in it.
   */
  group?: string;
  attributes: Record<string, unknown>;
  /** `seam.id` of the event that established (or retracted) the edge, or `seed:<name>` for snapshots. */
  provenance: string;
  /** ISO 8601. For a retraction: when the edge stopped being valid. */
  valid_from: string;
  /** ISO 8601, when known in advance (credential expiry, the exec link window). */
  valid_to?: string;
}

/** An edge as stored: one version of one key. */
export interface Edge {
  fact: IdentityFact;
  fromMs: number;
  /** Infinity while open. */
  toMs: number;
  /** Provenance of the retraction or superseding fact that closed the edge, if any. */
  closedBy?: string;
}

export interface Resolution {
  /** The event's principal, refined with what the graph knows (service account, pod, k8s user, groups). */
  principal: Principal | undefined;
  /** The path from the acting credentials to where they came from, in that order. */
  chain: ChainStep[];
  /**
   * The furthest identity the chain reached: for IRSA credentials used after an exec, the IAM session of the
   * person who exec'd; for an IAM-authenticated Kubernetes user, the IAM role session. Undefined when the
   * chain did not leave the event's own principal.
   */
  origin?: Principal;
  /** Cluster the principal was resolved into (an IRSA session's cluster, the audit event's cluster). */
  cluster?: string;
}

export interface PermissionRule {
  verbs: string[];
  resources: string[];
  apiGroups: string[];
  /** `*` = every namespace (cluster-scoped grant). */
  namespaces: string[];
  nonResourceURLs?: string[];
  resourceNames?: string[];
  via: ChainStep[];
  /** `description`: an EKS access policy AWS describes only in prose; the rule is Seam's reading of it (rbac.ts). */
  basis?: 'description';
}

/** A grant whose permissions Seam does not know: an EKS access policy not in its table (rbac.ts `ACCESS_POLICIES`). */
export interface UnknownGrant {
  /** The access policy's name (the last part of its ARN). */
  policy: string;
  /** The ARN as associated, when the fact recorded it. */
  policyArn?: string;
  /** `*` = cluster scope. */
  namespaces: string[];
  /** Why its permissions are unknown. */
  reason: string;
  via: ChainStep[];
}

export interface EffectivePermissions {
  principal: string;
  cluster: string;
  /** Kubernetes user names the principal authenticates as (templates kept, e.g. `...{{SessionName}}`). */
  usernames: string[];
  groups: string[];
  rules: PermissionRule[];
  isClusterAdmin: boolean;
  /** Why the principal is cluster admin, when it is (system:masters, an access policy, a binding). */
  adminVia?: ChainStep[];
  /** Grants whose permissions are unknown (never dropped: an access policy Seam does not know may grant anything). */
  unknownGrants: UnknownGrant[];
  /**
   * Cluster admin cannot be ruled out: not `isClusterAdmin`, but an unknown grant at cluster scope. Detections that
   * reason about admin-ness treat this as possibly admin and say so.
   */
  possiblyClusterAdmin: boolean;
}

/** A document for the OpenSearch `seam-identity` index: one version of one edge. */
export interface IdentityDoc {
  id: string;
  kind: FactKind;
  from: string;
  to: string;
  cluster?: string;
  account?: string;
  valid_from: string;
  valid_to?: string;
  provenance: string;
}
