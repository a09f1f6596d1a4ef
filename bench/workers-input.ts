/**
 * Input that spans several AWS accounts, for `seam replay --workers N` (ADR 0018): the generated bench
 * events (bench/lib/events.ts, unchanged) are all of one account (111122223333) and one cluster
 * (prod-eks-01). Here the CloudTrail line i belongs to tenant i mod `tenants` (at most 7): for k > 0 its
 * account and cluster names are rewritten everywhere in the line (account 222233334444 for k = 1,
 * 333344445555 for k = 2..., cluster prod-eks-01-t<k>), and event times still interleave as several
 * accounts' trails do. Everything else (the audit log, runtime events, GuardDuty findings) stays in
 * tenant 0: one cluster's evidence beside an organization trail of several accounts, the shape of a
 * multi-account replay. Why not move the audit log too: a replay cannot say which cluster an audit
 * record is from except by --cluster, which names one cluster for every record, so the audit logs of
 * several accounts would share one cluster in the identity graph, and be one tenant (ADR 0018); and
 * Kubernetes user names (system:anonymous) and service accounts, which a GuardDuty incident joins on, are
 * the same names in every cluster.
 */
import { generateLines } from './lib/events.ts';

const ACCOUNT = '111122223333';
const CLUSTER = 'prod-eks-01';

/** Tenant k's account id (k = 0 keeps the generated one). */
export function tenantAccount(k: number): string {
  return k === 0 ? ACCOUNT : String(k + 1).repeat(4) + String(k + 2).repeat(4) + String(k + 3).repeat(4);
}

const isCloudTrail = (line: string): boolean => (JSON.parse(line) as Record<string, unknown>).eventSource !== undefined;

/**
 * A CloudTrail line moved to tenant k's account (and cluster, for EKS calls), with its access key ids and
 * OIDC issuer made the tenant's own (in AWS they are unique; left shared, they would tie the tenants'
 * sessions together). Other lines stay as they are.
 */
export function retenant(line: string, k: number): string {
  if (k === 0 || !isCloudTrail(line)) return line;
  return line.replaceAll(ACCOUNT, tenantAccount(k)).replaceAll(CLUSTER, `${CLUSTER}-t${k}`).replaceAll('EXAMPLE', `EXAMPL${k}`);
}

/** `n` generated lines, line i moved to tenant i mod `tenants`. */
export function multiAccountLines(n: number, tenants: number): string[] {
  if (tenants < 1 || tenants > 7) throw new Error(`tenants must be 1..7, not ${tenants}`);
  return generateLines(n).map((l, i) => retenant(l, i % tenants));
}
