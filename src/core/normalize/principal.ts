import type { Principal } from '../envelope.ts';
import { arnAccount } from './util.ts';
import { first, str, strArray, type Rec } from '../values.ts';

/**
 * First-pass principals, straight from one record. The identity graph refines them later
 * (aws-auth / access entries, IRSA sessions); here we only say what the record itself says.
 *
 * Canonical ids (`principal.id`):
 * - IAM user / role / root: the IAM ARN.
 * - Assumed-role session: the STS assumed-role ARN (arn:aws:sts::<acct>:assumed-role/<role>/<session>),
 *   which is also what EKS writes to the audit log's `user.extra.arn`, so both planes share the key.
 * - Kubernetes users: the Kubernetes user name (system:serviceaccount:<ns>:<name> for service accounts).
 * - AWS services: the service principal (e.g. eks.amazonaws.com).
 */

const SA_PREFIX = 'system:serviceaccount:';
const NODE_PREFIX = 'system:node:';

/** `system:serviceaccount:ns:name` → `ns/name`. */
export function serviceAccountOf(username: string): string | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const rest = username.slice(SA_PREFIX.length);
  const i = rest.indexOf(':');
  return i <= 0 ? undefined : rest.slice(0, i) + '/' + rest.slice(i + 1);
}

/** A Kubernetes user (audit `user`, GuardDuty KubernetesUserDetails) as a principal. */
export function k8sPrincipal(username: string, groups: string[] | undefined, extra: Rec | undefined): Principal {
  const p: Principal = { id: username, type: 'k8s_user', k8s_user: username };
  if (groups !== undefined && groups.length > 0) p.k8s_groups = groups;
  const sa = serviceAccountOf(username);
  if (sa !== undefined) {
    p.type = 'service_account';
    p.service_account = sa;
    const pod = first(extra?.['authentication.kubernetes.io/pod-name']);
    if (pod !== undefined) p.pod = sa.slice(0, sa.indexOf('/')) + '/' + pod;
    return p;
  }
  if (username.startsWith(NODE_PREFIX)) p.type = 'node';
  else if (username === 'system:anonymous') p.type = 'anonymous';
  if (extra !== undefined) {
    const arn = first(extra.arn);
    if (arn !== undefined) p.arn = arn;
    const session = first(extra.sessionName);
    if (session !== undefined) p.session = session;
    const key = first(extra.accessKeyId);
    if (key !== undefined) p.access_key_id = key;
  }
  return p;
}

/** Session name from an assumed-role ARN (last path segment). */
function sessionOf(arn: string): string | undefined {
  const i = arn.indexOf(':assumed-role/');
  if (i < 0) return undefined;
  const j = arn.lastIndexOf('/');
  return j > i + 14 ? arn.slice(j + 1) : undefined;
}

/** CloudTrail `userIdentity` as a principal. */
export function cloudTrailPrincipal(ui: Rec): Principal | undefined {
  const type = str(ui.type);
  const arn = str(ui.arn);
  const key = str(ui.accessKeyId);
  let p: Principal | undefined;
  switch (type) {
    case 'IAMUser':
      p = { id: arn ?? str(ui.principalId) ?? 'unknown', type: 'iam_user' };
      break;
    case 'AssumedRole': {
      p = { id: arn ?? str(ui.principalId) ?? 'unknown', type: 'assumed_role' };
      const session = arn === undefined ? undefined : sessionOf(arn);
      if (session !== undefined) p.session = session;
      break;
    }
    case 'Role':
      p = { id: arn ?? str(ui.principalId) ?? 'unknown', type: 'iam_role' };
      break;
    case 'Root':
      p = { id: arn ?? 'root', type: 'root' };
      break;
    case 'AWSService': {
      const svc = str(ui.invokedBy) ?? 'unknown';
      p = { id: svc, type: 'aws_service' };
      break;
    }
    case 'WebIdentityUser': {
      // AssumeRoleWithWebIdentity: the token subject. For EKS IRSA it is system:serviceaccount:<ns>:<sa>.
      const user = str(ui.userName) ?? str(ui.principalId) ?? 'unknown';
      const sa = serviceAccountOf(user);
      p = sa === undefined ? { id: user, type: 'unknown' } : { id: user, type: 'service_account', service_account: sa, k8s_user: user };
      break;
    }
    default: {
      const id = arn ?? str(ui.principalId);
      if (id === undefined) return undefined;
      p = { id, type: 'unknown' };
    }
  }
  if (arn !== undefined) p.arn = arn;
  if (key !== undefined) p.access_key_id = key;
  return p;
}

/** GuardDuty KubernetesUserDetails / AccessKeyDetails as a principal (either casing). */
export function guardDutyPrincipal(k8sUser: Rec | undefined, accessKey: Rec | undefined, account: string | undefined): Principal | undefined {
  const username = str(k8sUser?.username ?? k8sUser?.Username);
  if (username !== undefined && k8sUser !== undefined) {
    const p = k8sPrincipal(username, strArray(k8sUser.groups ?? k8sUser.Groups), undefined);
    const session = first(k8sUser.sessionName ?? k8sUser.SessionName);
    if (session !== undefined) p.session = session;
    return p;
  }
  if (accessKey === undefined) return undefined;
  const userType = str(accessKey.userType ?? accessKey.UserType);
  const userName = str(accessKey.userName ?? accessKey.UserName);
  const principalId = str(accessKey.principalId ?? accessKey.PrincipalId);
  const key = str(accessKey.accessKeyId ?? accessKey.AccessKeyId);
  const acct = account ?? '';
  let p: Principal;
  if (userType === 'IAMUser' && userName !== undefined) p = { id: `arn:aws:iam::${acct}:user/${userName}`, type: 'iam_user' };
  else if (userType === 'AssumedRole' && userName !== undefined) p = { id: `arn:aws:iam::${acct}:role/${userName}`, type: 'iam_role' };
  else if (userType === 'Root') p = { id: `arn:aws:iam::${acct}:root`, type: 'root' };
  else p = { id: principalId ?? userName ?? key ?? 'unknown', type: 'unknown' };
  if (key !== undefined) p.access_key_id = key;
  return p;
}

/** Account id from an audit `user.extra` (arn, else canonicalArn). */
export function extraAccount(extra: Rec | undefined): string | undefined {
  if (extra === undefined) return undefined;
  return arnAccount(first(extra.arn)) ?? arnAccount(first(extra.canonicalArn));
}

