import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import { fieldError, ipOrUndefined, newSeam, timeError } from './common.ts';
import { cloudTrailPrincipal } from './principal.ts';
import type { MapOut } from './types.ts';
import { arnAccount, hashId, isoTime } from './util.ts';
import { isRec, obj, str, type Rec } from '../values.ts';

/**
 * Request parameters that name the thing acted on, most specific first: the role, user, key, secret, image or
 * snapshot a call changes before the database, instance or group it sits in, and those before the cluster or
 * other container a call names and the generic `name`. `resources[0].ARN`, when CloudTrail writes one, comes
 * before all of them; `instancesSet` (EC2's list of instances) is read separately.
 */
const RESOURCE_PARAMS = [
  'roleArn',
  'principalArn',
  'roleName',
  'userName',
  'policyArn',
  'secretId',
  'bucketName',
  'imageId',
  'snapshotId',
  'dBSnapshotIdentifier',
  'dBClusterSnapshotIdentifier',
  'dBInstanceIdentifier',
  'dBClusterIdentifier',
  'instanceId',
  'volumeId',
  'groupId',
  'trailName',
  'clusterName',
  'name',
  'functionName',
  'keyId',
  'groupName',
  'logGroupName',
  'detectorId',
  'repositoryName',
] as const;

/** Where `instancesSet` stands in RESOURCE_PARAMS' order: after the single-instance `instanceId`. */
const INSTANCES_AT = RESOURCE_PARAMS.indexOf('instanceId') + 1;
/** At most this many instance ids of an `instancesSet` are named, then `+N more`. */
const MAX_INSTANCES = 5;

/** `instancesSet.items[].instanceId` (StopInstances, TerminateInstances, ...) joined by ',', or undefined. */
function instancesOf(params: Rec): string | undefined {
  const items = obj(params.instancesSet)?.items;
  if (!Array.isArray(items)) return undefined;
  const ids: string[] = [];
  for (const it of items) {
    const id = str(obj(it)?.instanceId);
    if (id !== undefined) ids.push(id);
  }
  if (ids.length === 0) return undefined;
  return ids.length <= MAX_INSTANCES ? ids.join(',') : `${ids.slice(0, MAX_INSTANCES).join(',')} +${ids.length - MAX_INSTANCES} more`;
}

/** The thing a CloudTrail call acted on, from its request parameters (RESOURCE_PARAMS' order). */
function resourceFromParams(params: Rec): string | undefined {
  for (let i = 0; i < RESOURCE_PARAMS.length; i++) {
    if (i === INSTANCES_AT) {
      const instances = instancesOf(params);
      if (instances !== undefined) return instances;
    }
    const v = str(params[RESOURCE_PARAMS[i]!]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** At most this many accounts a sharing call adds are named, then `+N more`. */
const MAX_SHARED = 5;

/**
 * Whom a permission-sharing call gave access to, for an alert's summary: the accounts (and `all`, public;
 * organization and OU ARNs) that ModifyImageAttribute's `launchPermission.add`, ModifySnapshotAttribute's
 * `createVolumePermission.add` and ModifyDBSnapshotAttribute's / ModifyDBClusterSnapshotAttribute's
 * `valuesToAdd` name. Undefined for any other call, or one that adds no one.
 */
export function sharedWith(r: Rec): string | undefined {
  const params = obj(r.requestParameters);
  if (params === undefined) return undefined;
  const out: string[] = [];
  switch (str(r.eventName)) {
    case 'ModifyImageAttribute':
    case 'ModifySnapshotAttribute': {
      const perm = obj(params.launchPermission) ?? obj(params.createVolumePermission);
      const items = obj(perm?.add)?.items;
      if (!Array.isArray(items)) return undefined;
      for (const it of items) {
        const o = obj(it);
        const who = str(o?.userId) ?? str(o?.group) ?? str(o?.organizationArn) ?? str(o?.organizationalUnitArn);
        if (who !== undefined && who !== 'none') out.push(who);
      }
      break;
    }
    case 'ModifyDBSnapshotAttribute':
    case 'ModifyDBClusterSnapshotAttribute': {
      const values = params.valuesToAdd;
      if (!Array.isArray(values)) return undefined;
      for (const v of values) if (typeof v === 'string' || typeof v === 'number') out.push(String(v));
      break;
    }
    default:
      return undefined;
  }
  if (out.length === 0) return undefined;
  return out.length <= MAX_SHARED ? out.join(', ') : `${out.slice(0, MAX_SHARED).join(', ')} +${out.length - MAX_SHARED} more`;
}

/** The cluster an EKS API call names: eks:* `clusterName` or `name`, eks-auth:AssumeRoleForPodIdentity `clusterName`. */
export function eksClusterParam(eventSource: string | undefined, params: Rec): string | undefined {
  if (eventSource === 'eks.amazonaws.com') return str(params.clusterName) ?? str(params.name);
  if (eventSource === 'eks-auth.amazonaws.com') return str(params.clusterName);
  return undefined;
}

/** Maps one CloudTrail record. */
export function mapCloudTrail(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  const eventSource = str(r.eventSource);
  if (eventSource === undefined) return fieldError('cloudtrail', 'eventSource', 'is missing or not a string');
  const eventName = str(r.eventName);
  if (eventName === undefined) return fieldError('cloudtrail', 'eventName', 'is missing or not a string');
  // Records cut down by hand or by another tool (detection test suites, data-lake exports) may lack
  // eventTime: Panther's p_event_time, or `@timestamp` (Logstash's cloudtrail codec moves eventTime there, so
  // records that went through Logstash to Elasticsearch or Kafka have no eventTime), else the time Seam
  // received the record, stands in. The record is kept (third-party samples often omit the time), but one
  // with no time of its own says so (`seam.time_missing`, counted by the replay summary): the receive
  // time is not when it happened. A time that is there but unreadable is still an error.
  const own = r.eventTime === undefined ? (isoTime(r.p_event_time) ?? isoTime(r['@timestamp'])) : isoTime(r.eventTime);
  if (own === undefined && r.eventTime !== undefined) return timeError('cloudtrail', 'eventTime', r.eventTime);
  const timestamp = own ?? meta.receivedAt;

  // Without an eventID the id is a hash of the record's content: the same record dedups to one event.
  // The EventBridge envelope (kept under eventBridge) is not part of the record: bare or wrapped, one id.
  const seam = newSeam('cloudtrail', str(r.eventID) ?? hashId(r.eventBridge === undefined ? r : withoutKey(r, 'eventBridge')), meta);
  if (own === undefined) seam.time_missing = true;
  const ui = obj(r.userIdentity);
  seam.account = str(r.recipientAccountId) ?? str(ui?.accountId) ?? arnAccount(str(ui?.arn)) ?? meta.account;
  seam.region = str(r.awsRegion) ?? meta.region;
  const params = obj(r.requestParameters);
  // The EKS API's own cluster parameter; a collector's cluster is not this account-wide record's (common.ts).
  if (params !== undefined) seam.cluster = eksClusterParam(eventSource, params);
  if (ui !== undefined) seam.principal = cloudTrailPrincipal(ui);
  seam.source_ip = ipOrUndefined(str(r.sourceIPAddress));
  seam.user_agent = str(r.userAgent);
  seam.action = eventSource + ':' + eventName;
  seam.outcome = str(r.errorCode) === undefined && !signInFailed(r, eventSource, eventName) ? 'success' : 'failure';

  const resources = r.resources;
  let resource: string | undefined;
  if (Array.isArray(resources) && resources.length > 0) resource = str(obj(resources[0])?.ARN);
  if (resource === undefined && params !== undefined) resource = resourceFromParams(params);
  seam.resource = resource;
  out.timestamp = timestamp;
  return seam;
}

/** Lower-cased CloudTrail keys (data-lake exports) → the names CloudTrail writes, per object level. */
const TOP_KEYS = [
  'eventVersion', 'userIdentity', 'eventTime', 'eventSource', 'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent',
  'errorCode', 'errorMessage', 'requestParameters', 'responseElements', 'additionalEventData', 'requestID', 'eventID',
  'eventType', 'apiVersion', 'readOnly', 'resources', 'recipientAccountId', 'serviceEventDetails', 'sharedEventID',
  'vpcEndpointId', 'vpcEndpointAccountId', 'eventCategory', 'managementEvent', 'tlsDetails', 'sessionCredentialFromConsole',
  'insightDetails', 'edgeDeviceDetails', 'addendum',
];
const IDENTITY_KEYS = [
  'type', 'principalId', 'arn', 'accountId', 'accessKeyId', 'userName', 'sessionContext', 'invokedBy', 'identityProvider',
  'onBehalfOf', 'credentialId', 'inScopeOf',
];
const SESSION_KEYS = ['sessionIssuer', 'webIdFederationData', 'attributes', 'sourceIdentity', 'ec2RoleDelivery', 'assumedRoot'];
const ISSUER_KEYS = ['type', 'principalId', 'arn', 'accountId', 'userName'];
const ATTRIBUTE_KEYS = ['creationDate', 'mfaAuthenticated'];
const ADDITIONAL_KEYS = ['MFAUsed', 'LoginTo', 'MobileVersion', 'MfaType', 'CredentialType', 'SamlProviderArn'];

const byLower = (keys: string[]): Map<string, string> => new Map(keys.map((k) => [k.toLowerCase(), k]));
const TOP = byLower(TOP_KEYS);
const IDENTITY = byLower(IDENTITY_KEYS);
const SESSION = byLower(SESSION_KEYS);
const ISSUER = byLower(ISSUER_KEYS);
const ATTRIBUTES = byLower(ATTRIBUTE_KEYS);
const ADDITIONAL = byLower(ADDITIONAL_KEYS);

function renameKeys(o: Rec, names: Map<string, string>, nested?: (key: string, v: unknown) => unknown): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(o)) {
    const key = names.get(k) ?? k;
    out[key] = nested === undefined ? v : nested(key, v);
  }
  return out;
}

/**
 * A CloudTrail record whose keys were lower-cased by a data-lake export (`eventsource`,
 * `useridentity.principalid`), with CloudTrail's names restored where they are known, so rules written
 * against CloudTrail's fields match it. A shallow copy: the caller's record is not changed. The keys
 * of requestParameters and responseElements cannot be restored (their names are the API's) and stay.
 */
export function canonicalCloudTrail(r: Rec): Rec {
  if (r.eventSource !== undefined) return r;
  return renameKeys(r, TOP, (key, v) => {
    if (!isRec(v)) return v;
    if (key === 'additionalEventData') return renameKeys(v, ADDITIONAL);
    if (key !== 'userIdentity') return v;
    return renameKeys(v, IDENTITY, (k2, v2) => {
      if (k2 !== 'sessionContext' || !isRec(v2)) return v2;
      return renameKeys(v2, SESSION, (k3, v3) => {
        if (!isRec(v3)) return v3;
        if (k3 === 'sessionIssuer') return renameKeys(v3, ISSUER);
        if (k3 === 'attributes') return renameKeys(v3, ATTRIBUTES);
        return v3;
      });
    });
  });
}

/**
 * A refused sign-in step: AWS sign-in writes no errorCode, only `"responseElements": {"ConsoleLogin":
 * "Failure"}` (the step's own name: ConsoleLogin, CheckMfa, SwitchRole...) and an errorMessage; IAM Identity
 * Center's steps write `"serviceEventDetails": {"CredentialVerification": "Failure"}`.
 */
function signInFailed(r: Rec, eventSource: string, eventName: string): boolean {
  if (eventSource !== 'signin.amazonaws.com') return false;
  // IAM Identity Center's sign-in steps (CredentialChallenge, CredentialVerification...) answer in serviceEventDetails.
  return str(obj(r.responseElements)?.[eventName]) === 'Failure' || str(obj(r.serviceEventDetails)?.[eventName]) === 'Failure';
}

function withoutKey(r: Rec, key: string): Rec {
  const { [key]: _dropped, ...rest } = r;
  return rest;
}
