import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import { fieldError, ipOrUndefined, joinPath, newSeam, timeError } from './common.ts';
import { isDryRunRequest } from './dry-run.ts';
import { extraAccount, k8sPrincipal } from './principal.ts';
import type { MapOut } from './types.ts';
import { isoTime } from './util.ts';
import { first, num, obj, str, strArray, type Rec } from '../values.ts';

/** Non-resource requests (/healthz, /version, /openapi/v2): the path without the query. */
function pathOf(uri: string | undefined): string {
  if (uri === undefined) return '/';
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

/** Maps an audit.k8s.io/v1 Event (EKS control-plane audit log). */
export function mapK8sAudit(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  const auditID = str(r.auditID);
  if (auditID === undefined) return fieldError('k8s_audit', 'auditID', 'is missing or not a string');
  const stage = str(r.stage);
  if (stage === undefined) return fieldError('k8s_audit', 'stage', 'is missing or not a string');
  const verb = str(r.verb);
  if (verb === undefined) return fieldError('k8s_audit', 'verb', 'is missing or not a string');
  const user = obj(r.user);
  if (user === undefined) return fieldError('k8s_audit', 'user', 'is missing or not an object');
  const timestamp = isoTime(r.stageTimestamp) ?? isoTime(r.requestReceivedTimestamp);
  if (timestamp === undefined) {
    const field = r.stageTimestamp !== undefined || r.requestReceivedTimestamp === undefined ? 'stageTimestamp' : 'requestReceivedTimestamp';
    return timeError('k8s_audit', field, r[field], 'and requestReceivedTimestamp are missing');
  }

  const seam = newSeam('k8s_audit', auditID + ':' + stage, meta);
  const extra = obj(user.extra);
  const username = str(user.username);
  if (username !== undefined) seam.principal = k8sPrincipal(username, strArray(user.groups), extra);
  if (seam.account === undefined) seam.account = extraAccount(extra);

  const ref = obj(r.objectRef);
  const resource = str(ref?.resource);
  const sub = str(ref?.subresource);
  if (resource !== undefined) {
    seam.action = verb + ' ' + (sub === undefined ? resource : resource + '/' + sub);
    seam.resource = joinPath(str(ref?.namespace), resource, str(ref?.name));
  } else {
    seam.action = verb + ' ' + pathOf(str(r.requestURI));
  }

  const code = num(obj(r.responseStatus)?.code);
  const decision = str(obj(r.annotations)?.['authorization.k8s.io/decision']);
  seam.outcome = decision === 'forbid' ? 'failure' : code === undefined ? 'unknown' : code < 400 ? 'success' : 'failure';
  if (isDryRunRequest(verb, r)) seam.dry_run = true;
  seam.source_ip = ipOrUndefined(first(r.sourceIPs));
  seam.user_agent = str(r.userAgent);
  out.timestamp = timestamp;
  return seam;
}
