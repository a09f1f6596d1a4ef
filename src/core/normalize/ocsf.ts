import { isRec, obj, str, type Rec } from '../values.ts';
import { isoTime } from './util.ts';

/**
 * CloudTrail records as Amazon Security Lake stores them: OCSF events (API Activity, class 6003 in OCSF 1.1.0;
 * 3005 API Activity, 3001 Account Change and 3002 Authentication in 1.0.0-rc.2, and 3001/3002 in 1.1.0 for the
 * calls those classes describe) with `metadata.product.name` "CloudTrail". Seam reads such a record as the
 * CloudTrail record it was made from, so every CloudTrail rule runs on it unchanged (ADR 0041). The mapping is
 * AWS's published one for its CloudTrail source, read backwards; what OCSF does not carry stays absent.
 */

/** The OCSF classes Security Lake writes CloudTrail records in (see above). */
const CLOUDTRAIL_CLASSES = new Set([6003, 3005, 3001, 3002]);

/**
 * An OCSF event that Security Lake made from a CloudTrail record: a CloudTrail class, the product CloudTrail
 * (vendor AWS where named) and the two fields every CloudTrail record has, the operation and the service.
 * An API Activity of another product (a SaaS audit log) or an Authentication of an identity provider is not one.
 */
export function isCloudTrailOcsf(r: Rec): boolean {
  const cls = typeof r.class_uid === 'string' ? Number(r.class_uid) : r.class_uid;
  if (typeof cls !== 'number' || !CLOUDTRAIL_CLASSES.has(cls)) return false;
  const product = obj(obj(r.metadata)?.product);
  if (product === undefined || str(product.name)?.toLowerCase() !== 'cloudtrail') return false;
  const vendor = str(product.vendor_name);
  if (vendor !== undefined && vendor.toUpperCase() !== 'AWS' && vendor !== 'Amazon Web Services') return false;
  const api = obj(r.api);
  return str(api?.operation) !== undefined && str(obj(api?.service)?.name) !== undefined;
}

/** Parquet's `map<string,string>` and some exports write objects as JSON text: read them back. */
function objOrJson(v: unknown): Rec | undefined {
  if (isRec(v)) return v;
  if (typeof v !== 'string') return undefined;
  const t = v.trimStart();
  if (t.charCodeAt(0) !== 0x7b /* { */) return undefined;
  try {
    const p: unknown = JSON.parse(t);
    return isRec(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Keys that would set an object's prototype if assigned (an `unmapped` key is the record's word). */
const UNSAFE_KEY = /(?:^|\.)(?:__proto__|prototype|constructor)(?:\.|$)/;

/** CloudTrail's booleans (readOnly, managementEvent) from a boolean or the text a string map holds. */
function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/** `2024-05-01T12:00:00Z`: CloudTrail's own format (whole seconds) when the time has no milliseconds. */
function cloudTrailTime(v: unknown): string | undefined {
  const iso = isoTime(v);
  if (iso === undefined) return undefined;
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

/**
 * A value kept in `unmapped`: under its own key (as an object or JSON text), or flattened into dotted keys
 * (`additionalEventData.MFAUsed`), as exports of the Parquet map write it.
 */
function unmappedObject(unmapped: Rec | undefined, key: string): Rec | undefined {
  if (unmapped === undefined) return undefined;
  const whole = objOrJson(unmapped[key]);
  if (whole !== undefined) return whole;
  let out: Rec | undefined;
  const prefix = key + '.';
  for (const k of Object.keys(unmapped)) {
    if (k.startsWith(prefix) && !UNSAFE_KEY.test(k)) (out ??= {})[k.slice(prefix.length)] = unmapped[k];
  }
  return out;
}

/** The keys of `unmapped` that this module moves into the CloudTrail record (dotted forms included). */
const MOVED_UNMAPPED = ['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails'];

/** `arn:aws:iam::111122223333:role/path/Name` → its account and name; undefined for any other ARN. */
function roleArnParts(arn: string): { accountId: string; userName: string } | undefined {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m === null ? undefined : { accountId: m[1] as string, userName: m[2] as string };
}

/** The identity types CloudTrail writes a userName for. */
const USER_NAME_TYPES = new Set(['IAMUser', 'Unknown', 'WebIdentityUser', 'SAMLUser']);

/** userIdentity from OCSF's actor (1.1.0 and rc.2 names both read). */
function userIdentity(actor: Rec | undefined, rc2: boolean): Rec | undefined {
  if (actor === undefined) return undefined;
  const user = obj(actor.user);
  const ui: Rec = {};
  const type = str(user?.type);
  if (type !== undefined) ui.type = type;
  // 1.1.0: uid is the ARN and uid_alt the principal id; rc.2: uid is the principal id and uuid the ARN. Told by
  // the event's OCSF version, not by the value (a web identity's principal id is itself an ARN-like string).
  const uid = str(user?.uid);
  const arn = rc2 ? str(user?.uuid) : uid;
  const principalId = rc2 ? uid : str(user?.uid_alt);
  if (principalId !== undefined) ui.principalId = principalId;
  if (arn !== undefined) ui.arn = arn;
  const accountId = str(obj(user?.account)?.uid) ?? str(user?.account_uid);
  if (accountId !== undefined) ui.accountId = accountId;
  const keyId = str(user?.credential_uid);
  if (keyId !== undefined) ui.accessKeyId = keyId;
  // CloudTrail writes userName for these identity types only; Security Lake may fill actor.user.name from
  // elsewhere (additionalEventData.UserName), which rules comparing userName with the request would misread.
  const name = str(user?.name);
  if (name !== undefined && type !== undefined && USER_NAME_TYPES.has(type)) ui.userName = name;

  const session = obj(actor.session);
  const sessionContext: Rec = {};
  const issuerArn = str(session?.issuer);
  if (issuerArn !== undefined) {
    // OCSF keeps the issuer's ARN only; a role ARN names its account and the role (CloudTrail's userName).
    const parts = roleArnParts(issuerArn);
    sessionContext.sessionIssuer = parts === undefined ? { arn: issuerArn } : { type: 'Role', arn: issuerArn, accountId: parts.accountId, userName: parts.userName };
  }
  const attributes: Rec = {};
  const created = cloudTrailTime(session?.created_time_dt) ?? cloudTrailTime(session?.created_time);
  if (created !== undefined) attributes.creationDate = created;
  const mfa = bool(session?.is_mfa ?? session?.mfa);
  // CloudTrail writes mfaAuthenticated as text.
  if (mfa !== undefined) attributes.mfaAuthenticated = String(mfa);
  if (Object.keys(attributes).length > 0) sessionContext.attributes = attributes;
  if (Object.keys(sessionContext).length > 0) ui.sessionContext = sessionContext;

  const invokedBy = str(actor.invoked_by);
  if (invokedBy !== undefined) ui.invokedBy = invokedBy;
  const idp = str(obj(actor.idp)?.name);
  if (idp !== undefined) {
    // A role session's provider (an IRSA pod's EKS OIDC provider) is CloudTrail's
    // sessionContext.webIdFederationData.federatedProvider, which the workload rules read; a web identity or SAML
    // user's is userIdentity.identityProvider.
    if (type === 'AssumedRole' || issuerArn !== undefined) {
      const sc = (ui.sessionContext ?? {}) as Rec;
      sc.webIdFederationData = { federatedProvider: idp };
      ui.sessionContext = sc;
    } else ui.identityProvider = idp;
  }
  return Object.keys(ui).length > 0 ? ui : undefined;
}

/**
 * The CloudTrail record an OCSF CloudTrail event was made from, rebuilt: a new object, `r` is not changed.
 * The OCSF event is kept under `ocsf`, without the request and response bodies moved into requestParameters,
 * responseElements and additionalEventData (there redaction reaches them, and they are not stored twice).
 */
export function cloudTrailFromOcsf(r: Rec): Rec {
  const api = obj(r.api) ?? {};
  const request = obj(api.request);
  const response = obj(api.response);
  const metadata = obj(r.metadata);
  const cloud = obj(r.cloud);
  const src = obj(r.src_endpoint);
  const unmapped = objOrJson(r.unmapped);
  const eventName = str(api.operation) as string;
  const eventSource = str(obj(api.service)?.name) as string;

  const c: Rec = {};
  const version = str(obj(metadata?.product)?.version);
  if (version !== undefined) c.eventVersion = version;
  const ui = userIdentity(obj(r.actor), isRc2(r, metadata));
  if (ui !== undefined) c.userIdentity = ui;
  const eventTime = cloudTrailTime(r.time_dt) ?? cloudTrailTime(r.time);
  if (eventTime !== undefined) c.eventTime = eventTime;
  c.eventSource = eventSource;
  c.eventName = eventName;
  const region = str(cloud?.region);
  if (region !== undefined) c.awsRegion = region;
  // sourceIPAddress is an address, or a service's name (`ec2.amazonaws.com`, `AWS Internal`) OCSF keeps as a domain.
  const source = str(src?.ip) ?? str(src?.domain);
  if (source !== undefined) c.sourceIPAddress = source;
  const agent = str(obj(r.http_request)?.user_agent);
  if (agent !== undefined) c.userAgent = agent;
  const errorCode = str(response?.error);
  if (errorCode !== undefined) c.errorCode = errorCode;
  const errorMessage = str(response?.message) ?? str(response?.error_message);
  if (errorMessage !== undefined) c.errorMessage = errorMessage;

  const params = objOrJson(request?.data) ?? unmappedObject(unmapped, 'requestParameters');
  if (params !== undefined) c.requestParameters = params;
  let elements = objOrJson(response?.data) ?? unmappedObject(unmapped, 'responseElements');
  // A console sign-in's outcome is OCSF's status (mapped from responseElements.ConsoleLogin): put it back where rules read it.
  if (elements === undefined && eventSource === 'signin.amazonaws.com' && eventName === 'ConsoleLogin') {
    const status = str(r.status);
    if (status === 'Success' || status === 'Failure') elements = { ConsoleLogin: status };
  }
  if (elements !== undefined) c.responseElements = elements;
  let additional = unmappedObject(unmapped, 'additionalEventData');
  const loginTo = str(obj(r.dst_endpoint)?.svc_name);
  if (loginTo !== undefined && additional?.LoginTo === undefined) additional = { ...additional, LoginTo: loginTo };
  if (eventName === 'ConsoleLogin' && additional?.MFAUsed === undefined) {
    // Authentication's is_mfa is additionalEventData.MFAUsed ("Yes"/"No").
    const mfa = bool(r.is_mfa);
    if (mfa !== undefined) additional = { ...additional, MFAUsed: mfa ? 'Yes' : 'No' };
  }
  if (additional !== undefined) c.additionalEventData = additional;
  const serviceEventDetails = unmappedObject(unmapped, 'serviceEventDetails');
  if (serviceEventDetails !== undefined) c.serviceEventDetails = serviceEventDetails;

  const requestId = str(request?.uid);
  if (requestId !== undefined) c.requestID = requestId;
  const eventId = str(metadata?.uid);
  if (eventId !== undefined) c.eventID = eventId;
  const eventType = str(metadata?.event_code) ?? str(unmapped?.eventType);
  if (eventType !== undefined) c.eventType = eventType;
  const apiVersion = str(api.version);
  if (apiVersion !== undefined) c.apiVersion = apiVersion;
  const readOnly = bool(unmapped?.readOnly);
  if (readOnly !== undefined) c.readOnly = readOnly;
  const resources = cloudTrailResources(r.resources);
  if (resources !== undefined) c.resources = resources;
  const recipient = str(obj(cloud?.account)?.uid) ?? str(cloud?.account_uid) ?? str(unmapped?.recipientAccountId);
  if (recipient !== undefined) c.recipientAccountId = recipient;
  const sharedEventId = str(unmapped?.sharedEventID);
  if (sharedEventId !== undefined) c.sharedEventID = sharedEventId;
  const vpcEndpointId = str(src?.uid);
  if (vpcEndpointId !== undefined) c.vpcEndpointId = vpcEndpointId;
  const vpcEndpointAccountId = str(unmapped?.vpcEndpointAccountId);
  if (vpcEndpointAccountId !== undefined) c.vpcEndpointAccountId = vpcEndpointAccountId;
  // Kept in unmapped by Security Lake: an instance profile session's credential delivery (IMDS version).
  const roleDelivery = str(unmapped?.['userIdentity.sessionContext.ec2RoleDelivery']) ?? str(obj(obj(unmappedObject(unmapped, 'userIdentity')?.sessionContext))?.ec2RoleDelivery);
  if (roleDelivery !== undefined && ui !== undefined) {
    const sc = (ui.sessionContext ?? {}) as Rec;
    sc.ec2RoleDelivery = roleDelivery;
    ui.sessionContext = sc;
  }
  const category = str(obj(obj(metadata?.product)?.feature)?.name);
  // Security Lake writes eventCategory here; rc.2 records hold a fixed "Management, Data, and Insights" instead.
  if (category === 'Management' || category === 'Data' || category === 'Insight' || category === 'NetworkActivity') c.eventCategory = category;
  const management = bool(unmapped?.managementEvent);
  if (management !== undefined) c.managementEvent = management;
  const fromConsole = bool(unmapped?.sessionCredentialFromConsole);
  if (fromConsole !== undefined) c.sessionCredentialFromConsole = String(fromConsole);

  c.ocsf = withoutBodies(r, api, request, response, unmapped);
  return c;
}

/** Whether the event is OCSF 1.0.0-rc.2 (Security Lake source version 1): its version, else its class (3005 is rc.2's API Activity). */
function isRc2(r: Rec, metadata: Rec | undefined): boolean {
  const v = str(metadata?.version);
  if (v !== undefined) return v.startsWith('1.0.0-rc');
  const cls = typeof r.class_uid === 'string' ? Number(r.class_uid) : r.class_uid;
  return cls === 3005;
}

/** OCSF resources[] (uid, type, owner.account.uid) → CloudTrail's (ARN, type, accountId). */
function cloudTrailResources(v: unknown): Rec[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: Rec[] = [];
  for (const x of v) {
    const o = obj(x);
    if (o === undefined) continue;
    const res: Rec = {};
    const owner = obj(o.owner);
    const account = str(obj(owner?.account)?.uid) ?? str(owner?.account_uid) ?? str(o.account_uid);
    if (account !== undefined) res.accountId = account;
    const type = str(o.type);
    if (type !== undefined) res.type = type;
    const arn = str(o.uid);
    if (arn !== undefined) res.ARN = arn;
    if (Object.keys(res).length > 0) out.push(res);
  }
  return out.length > 0 ? out : undefined;
}

/** The OCSF event without what was moved into the CloudTrail record's bodies (shallow copies on that path). */
function withoutBodies(r: Rec, api: Rec, request: Rec | undefined, response: Rec | undefined, unmapped: Rec | undefined): Rec {
  const o: Rec = { ...r };
  // The original record as text (OCSF's raw_data, filled by some producers) would keep what redaction removes from
  // the rebuilt record's bodies; an `unmapped` that is text Seam cannot read, likewise. Neither is kept.
  delete o.raw_data;
  if (unmapped === undefined) delete o.unmapped;
  if (request?.data !== undefined || response?.data !== undefined) {
    const a: Rec = { ...api };
    if (request?.data !== undefined) {
      const { data: _d, ...rest } = request;
      a.request = rest;
    }
    if (response?.data !== undefined) {
      const { data: _d, ...rest } = response;
      a.response = rest;
    }
    o.api = a;
  }
  if (unmapped !== undefined) {
    const u: Rec = {};
    for (const [k, v] of Object.entries(unmapped)) {
      if (!UNSAFE_KEY.test(k) && !MOVED_UNMAPPED.some((m) => k === m || k.startsWith(m + '.'))) u[k] = v;
    }
    o.unmapped = u;
  }
  return o;
}
