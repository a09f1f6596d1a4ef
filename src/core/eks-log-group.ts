/**
 * EKS control-plane logs in CloudWatch Logs: one group per cluster, `/aws/eks/<cluster>/cluster`, the API
 * server's audit log in its `kube-apiserver-audit-*` streams (the other streams hold the authenticator's, the
 * API server's, the controller manager's and the scheduler's logs). Read by the CloudWatch Logs collector and by
 * the batch check of subscription payloads (src/core/normalize/batch.ts).
 */
const EKS_GROUP = /^\/aws\/eks\/([^/]+)\/cluster$/;
export const EKS_AUDIT_STREAM_PREFIX = 'kube-apiserver-audit-';

/** The cluster whose control-plane log group this is, or undefined. */
export function eksClusterOfLogGroup(logGroupName: string): string | undefined {
  return EKS_GROUP.exec(logGroupName)?.[1];
}
