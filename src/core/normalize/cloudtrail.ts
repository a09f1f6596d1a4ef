import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import { fieldError, ipOrUndefined, newSeam } from './common.ts';
import { cloudTrailPrincipal } from './principal.ts';
import type { MapOut } from './types.ts';
import { hashId, isoTime, obj, str, type Rec } from './util.ts';

/** Request parameters that name the thing acted on, in order of preference. */
const RESOURCE_PARAMS = [
  'roleArn',
  'principalArn',
  'roleName',
  'userName',
  'policyArn',
  'secretId',
  'bucketName',
  'clusterName',
  'name',
  'functionName',
  'keyId',
  'groupName',
] as const;

/** Maps one CloudTrail record. */
export function mapCloudTrail(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  const eventSource = str(r.eventSource);
  if (eventSource === undefined) return fieldError('cloudtrail', 'eventSource', 'is missing or not a string');
  const eventName = str(r.eventName);
  if (eventName === undefined) return fieldError('cloudtrail', 'eventName', 'is missing or not a string');
  const timestamp = isoTime(r.eventTime);
  if (timestamp === undefined) return fieldError('cloudtrail', 'eventTime', 'is missing or not ISO 8601', 'SEAM_ERR_NORMALIZE_TIMESTAMP');

  const seam = newSeam('cloudtrail', str(r.eventID) ?? hashId(r), meta);
  const ui = obj(r.userIdentity);
  seam.account = str(r.recipientAccountId) ?? str(ui?.accountId) ?? meta.account;
  seam.region = str(r.awsRegion) ?? meta.region;
  const params = obj(r.requestParameters);
  if (eventSource === 'eks.amazonaws.com' && params !== undefined) {
    seam.cluster = str(params.clusterName) ?? str(params.name) ?? meta.cluster;
  }
  if (ui !== undefined) seam.principal = cloudTrailPrincipal(ui);
  seam.source_ip = ipOrUndefined(str(r.sourceIPAddress));
  seam.user_agent = str(r.userAgent);
  seam.action = eventSource + ':' + eventName;
  seam.outcome = str(r.errorCode) === undefined ? 'success' : 'failure';

  const resources = r.resources;
  let resource: string | undefined;
  if (Array.isArray(resources) && resources.length > 0) resource = str(obj(resources[0])?.ARN);
  if (resource === undefined && params !== undefined) {
    for (const k of RESOURCE_PARAMS) {
      resource = str(params[k]);
      if (resource !== undefined) break;
    }
  }
  seam.resource = resource;
  out.timestamp = timestamp;
  return seam;
}
