/**
 * GitOps drift checks (ADR 0047): a Kubernetes server-side dry run (`seam.dry_run`, ADR 0045) sent by one of the
 * identities listed in `rules.driftCheckUsers`. Flux's kustomize-controller and helm-controller, and Argo CD with
 * server-side diff, dry-run apply every object they manage on every reconcile, so a Sigma rule about any write to an
 * object they manage (aws-auth, a privileged DaemonSet, a cluster-admin binding) would match every few minutes a
 * change that never happens. Their single-rule Sigma alerts are reported informational (`Alert.drift_check` keeps
 * the rule's own level) and feed no correlation. The real apply is no dry run and alerts at the rule's level.
 */
import type { SeamEvent } from '../core/envelope.ts';

/**
 * The Kubernetes usernames of the GitOps controllers' service accounts in a default install: Flux (flux-system:
 * kustomize-controller, helm-controller), Argo CD (argocd: the application controller, which runs the server-side
 * diff; the API server, whose `argocd app diff --server-side-diff` runs one too) and the service account
 * `argocd cluster add` creates in a cluster that a central Argo CD manages (kube-system:argocd-manager).
 */
export const DEFAULT_DRIFT_CHECK_USERS: readonly string[] = [
  'system:serviceaccount:flux-system:kustomize-controller',
  'system:serviceaccount:flux-system:helm-controller',
  'system:serviceaccount:argocd:argocd-application-controller',
  'system:serviceaccount:argocd:argocd-server',
  'system:serviceaccount:kube-system:argocd-manager',
];

/** Decides drift checks for one list of usernames. */
export class DriftChecks {
  private readonly users: ReadonlySet<string>;

  constructor(users: readonly string[] = DEFAULT_DRIFT_CHECK_USERS) {
    this.users = new Set(users);
  }

  /**
   * The username when the event is a drift check: a dry run whose authenticated user (`user.username`, not an
   * impersonated one: only the controller's own credentials authenticate as it) is listed. Undefined otherwise.
   */
  by(event: SeamEvent): string | undefined {
    if (event.seam.dry_run !== true || this.users.size === 0) return undefined;
    const user = (event as { user?: unknown }).user;
    const name = user !== null && typeof user === 'object' ? (user as { username?: unknown }).username : undefined;
    return typeof name === 'string' && this.users.has(name) ? name : undefined;
  }
}
