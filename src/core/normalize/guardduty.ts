import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import { fieldError, ipOrUndefined, joinPath, newSeam, timeError } from './common.ts';
import { guardDutyPrincipal } from './principal.ts';
import type { MapOut } from './types.ts';
import { isoTime, pick } from './util.ts';
import { first, num, obj, str, type Rec } from '../values.ts';

/**
 * Maps a GuardDuty finding in any of its shapes (REST camelCase, SDK PascalCase, EventBridge envelope).
 * The raw record is kept as received; `seam.*` is the one casing-free view. `seam.format` says which.
 */
export function mapGuardDuty(r: Rec, meta: RawMeta, out: MapOut): SeamMeta | SeamError {
  let f: Rec = r;
  let format = 'api';
  const detail = obj(r.detail);
  if (detail !== undefined && r.source === 'aws.guardduty') {
    f = detail;
    format = 'eventbridge';
  } else if (r.Id !== undefined || r.Type !== undefined) {
    format = 'sdk';
  }
  const id = str(pick(f, 'id'));
  if (id === undefined) return fieldError('guardduty', format === 'eventbridge' ? 'detail.id' : 'id', 'is missing or not a string');
  const type = str(pick(f, 'type'));
  if (type === undefined) return fieldError('guardduty', format === 'eventbridge' ? 'detail.type' : 'type', 'is missing or not a string');
  const service = obj(pick(f, 'service'));
  const updatedAt = str(pick(f, 'updatedAt'));
  const timestamp =
    isoTime(updatedAt) ?? isoTime(pick(service, 'eventLastSeen')) ?? isoTime(pick(f, 'createdAt')) ?? (format === 'eventbridge' ? isoTime(r.time) : undefined);
  if (timestamp === undefined) return timeError('guardduty', 'updatedAt', pick(f, 'updatedAt'), 'is missing and no eventLastSeen or createdAt is usable');

  const seam = newSeam('guardduty', id + ':' + (updatedAt ?? timestamp), meta);
  seam.format = format;
  seam.account = str(pick(f, 'accountId')) ?? (format === 'eventbridge' ? str(r.account) : undefined) ?? meta.account;
  seam.region = str(pick(f, 'region')) ?? (format === 'eventbridge' ? str(r.region) : undefined) ?? meta.region;
  seam.action = type;

  const resource = obj(pick(f, 'resource'));
  const eks = obj(pick(resource, 'eksClusterDetails'));
  // The finding's own EKS cluster only: a finding about an instance, a bucket or an access key is no cluster's (M9).
  seam.cluster = str(pick(eks, 'name'));
  const kd = obj(pick(resource, 'kubernetesDetails'));
  const workload = obj(pick(kd, 'kubernetesWorkloadDetails'));
  seam.principal = guardDutyPrincipal(obj(pick(kd, 'kubernetesUserDetails')), obj(pick(resource, 'accessKeyDetails')), seam.account);

  const action = obj(pick(service, 'action'));
  const kapi = obj(pick(action, 'kubernetesApiCallAction'));
  const aapi = obj(pick(action, 'awsApiCallAction'));
  const call = kapi ?? aapi;
  if (call !== undefined) {
    const remote = obj(pick(call, 'remoteIpDetails'));
    seam.source_ip = ipOrUndefined(
      str(pick(remote, 'ipAddressV4')) ?? str(pick(remote, 'ipAddressV6')) ?? first(call.sourceIPs ?? call.sourceIps ?? call.SourceIps ?? call.SourceIPs),
    );
    seam.user_agent = str(pick(call, 'userAgent'));
  }
  const status = num(pick(kapi, 'statusCode'));
  seam.outcome =
    status !== undefined ? (status < 400 ? 'success' : 'failure') : aapi !== undefined ? (str(pick(aapi, 'errorCode')) === undefined ? 'success' : 'failure') : 'unknown';

  seam.resource =
    (kapi === undefined ? undefined : joinPath(str(pick(kapi, 'namespace')), str(pick(kapi, 'resource')), str(pick(kapi, 'resourceName')))) ??
    (workload === undefined ? undefined : joinPath(str(pick(workload, 'namespace')), str(pick(workload, 'type')), str(pick(workload, 'name')))) ??
    str(pick(eks, 'arn')) ??
    str(pick(resource, 'resourceType'));
  out.timestamp = timestamp;
  return seam;
}

/**
 * What a GuardDuty finding is about, as `<kind>:<id>`, read from its `resource` (camelCase, as normalized): the EC2
 * instance (`ec2:i-…`), the S3 bucket(s) (`s3:<name>`, sorted and joined by `,` when several), the access key
 * (`akid:<id>`), the ECS cluster, the container, the Lambda function or the RDS database. Undefined for an EKS
 * cluster (the alert's `cluster` says it) and for a resource this does not know: then the resource type alone
 * would not tell two resources apart. Incidents of alerts with no principal are keyed by it (ADR 0048).
 */
export function findingResource(f: Rec): string | undefined {
  const resource = obj(pick(f, 'resource'));
  if (resource === undefined) return undefined;
  const instance = str(pick(obj(pick(resource, 'instanceDetails')), 'instanceId'));
  if (instance !== undefined) return `ec2:${instance}`;
  const buckets = pick(resource, 's3BucketDetails');
  if (Array.isArray(buckets)) {
    const names = [...new Set(buckets.map((b) => str(pick(obj(b), 'name')) ?? str(pick(obj(b), 'arn'))).filter((n): n is string => n !== undefined))].sort();
    if (names.length > 0) return `s3:${names.join(',')}`;
  }
  const key = str(pick(obj(pick(resource, 'accessKeyDetails')), 'accessKeyId'));
  if (key !== undefined) return `akid:${key}`;
  const ecs = obj(pick(resource, 'ecsClusterDetails'));
  const ecsName = str(pick(ecs, 'arn')) ?? str(pick(ecs, 'name'));
  if (ecsName !== undefined) return `ecs:${ecsName}`;
  const container = str(pick(obj(pick(resource, 'containerDetails')), 'id'));
  if (container !== undefined) return `container:${container}`;
  const lambda = obj(pick(resource, 'lambdaDetails'));
  const fn = str(pick(lambda, 'functionArn')) ?? str(pick(lambda, 'functionName'));
  if (fn !== undefined) return `lambda:${fn}`;
  const rds = obj(pick(resource, 'rdsDbInstanceDetails'));
  const db = str(pick(rds, 'dbInstanceArn')) ?? str(pick(rds, 'dbClusterIdentifier')) ?? str(pick(rds, 'dbInstanceIdentifier'));
  if (db !== undefined) return `rds:${db}`;
  return undefined;
}

/**
 * One shape for rules: a GuardDuty finding as the REST API and EventBridge's `detail` write it
 * (camelCase). The SDK's PascalCase is an artefact of the JavaScript client, and the EventBridge
 * envelope is delivery metadata, so both are settled here (STYLE: rules never special-case a
 * collector). The envelope is kept under `eventBridge`. Returns a new object; `r` is not changed,
 * though with `owned` (the caller parsed `r` and may change it) the EventBridge case reuses its
 * subtrees instead of copying them.
 */
export function canonicalGuardDuty(r: Rec, format: string | undefined, owned = false): Rec {
  if (format === 'eventbridge') {
    const { detail, ...envelope } = r;
    if (owned) return { ...(obj(detail) ?? {}), eventBridge: envelope };
    return { ...(copyKeys(obj(detail) ?? {}, false) as Rec), eventBridge: copyKeys(envelope, false) };
  }
  if (format === 'sdk') return copyKeys(r, true) as Rec;
  return r;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Deep copy, lower-casing the first letter of every key when `camel` (SDK PascalCase → wire camelCase). */
function copyKeys(v: unknown, camel: boolean): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copyKeys(v[i], camel);
    return a;
  }
  const src = v as Rec;
  const out: Rec = {};
  for (const k in src) {
    if (!hasOwn.call(src, k)) continue;
    const c = k.charCodeAt(0);
    // ASCII first letters by hand (the SDK's keys are ASCII); others through toLowerCase as before.
    const key = !camel || k.length === 0 || (c < 0x41 || (c > 0x5a && c < 0x80)) ? k : c <= 0x5a ? String.fromCharCode(c + 32) + k.slice(1) : k[0]!.toLowerCase() + k.slice(1);
    out[key] = copyKeys(src[k], camel);
  }
  return out;
}
