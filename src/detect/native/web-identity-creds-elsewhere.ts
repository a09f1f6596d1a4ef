/**
 * Web-identity credentials of a CI pipeline or federated workload used from another network than the one that
 * obtained them. A GitHub Actions job, a GitLab or CircleCI pipeline, an HCP Terraform run or a workload of
 * another cloud trades its OIDC token for role credentials (sts:AssumeRoleWithWebIdentity) and uses them from
 * the same machine a moment later: the runner's address, one network for the job's life. A workflow that
 * prints or uploads its environment (a poisoned pull request, a compromised action such as tj-actions/
 * changed-files in 2025, a build script that posts `env`) hands the key to someone who uses it from their own
 * host, where the same key shows up on another network. CloudTrail gives both ends: the exchange names the key
 * (responseElements.credentials.accessKeyId) and the address it came from; every later call names its key.
 *
 * A job that chains into another role (sts:AssumeRole signed by its key: configure-aws-credentials'
 * role-chaining, Terraform's assume_role) gets a key as leakable as the first: it inherits the first key's origin
 * (`attributes.via` names the first key) until it expires (an hour at most).
 *
 * The exchange is recorded in the STS endpoint's region and the uses in each service's: different CloudTrail
 * files, delivered minutes apart, so a use can arrive first. The first sighting per network (at most two) of an
 * ASIA key with no known origin, from a public address, is kept (LRU, `maxStateEntries`); when the key's exchange
 * (or chain) is learned, a kept sighting from another network within 30 minutes of event time after it alerts
 * then, citing both events. Later than that, or once the LRU has dropped the key, it is not judged.
 *
 * Cross-account: a use recorded only in the resource owner's account (S3 data events, KMS calls on another
 * account's keys) lands in that account's partition (keyed by recipientAccountId), whose graph lacks the key's
 * origin: not judged there (the caller's own copy of a record, when CloudTrail delivers one, still is).
 *
 * The exchange is remembered per access key as a `web_identity_origin` fact until the credentials expire (ADR
 * 0011: it travels on seam.identity, so a restart keeps it): issuer, address and network (the ASN the bundled
 * table gives). A call signed by that key from a public address of another autonomous system alerts, once per
 * key and network. EKS service-account tokens (IRSA: workload-creds-off-cluster judges those against the
 * cluster's egress), Cognito identity pools and consumer sign-ins (Google, Facebook, Login with Amazon, Apple:
 * phones change networks mid-session) are left out. So are GCP workloads: Google-signed service-account tokens
 * carry the consumer sign-in issuer `accounts.google.com`, which this cannot tell apart. So are credential brokers
 * that make the exchange on their own hosts and hand the keys to users elsewhere (config `webIdentityBrokerIssuers`,
 * default Pulumi ESC's `api.pulumi.com/oidc`; any other token-vending service needs adding): every use would be on
 * another network. Also left out are exchanges from private or unplaceable addresses
 * (nothing to compare), VPC-endpoint calls, calls an AWS service makes with the session (invokedBy, a service
 * name as the address) and any comparison without the ASN database.
 *
 * S3 requests made with a presigned URL (AuthenticationMethod `QueryString`) are left out too: a job that posts a
 * presigned artifact or preview link (a pull-request comment, a chat message) signed it with its key, and CloudTrail
 * records the address of whoever opens it under that key. The trade-off: someone holding the leaked key who only
 * presigns S3 URLs is missed; any header-signed call they make from their network is judged as usual.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { accessKeyKey, roleOfSession } from '../../identity/keys.ts';
import type { Alert } from '../alert.ts';
import { eventNetwork, liveFact } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import type { NetworkInfo } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, presignedRequest, remembered, timeOf } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** Issuers whose web-identity sessions are not a pipeline's or a workload's (see the module comment). */
const NOT_WORKLOAD_ISSUER = /(^|\/)(oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/|cognito-identity\.amazonaws\.com|accounts\.google\.com|graph\.facebook\.com|www\.amazon\.com|appleid\.apple\.com)/;

/** A credential broker's issuer (config `webIdentityBrokerIssuers`): the issuer itself or a path under it. */
function brokerIssuer(issuer: string, brokers: readonly string[]): boolean {
  for (const b of brokers) if (issuerUnder(issuer, b)) return true;
  return false;
}

/**
 * The issuer of an AssumeRoleWithWebIdentity when it is a CI pipeline's or a federated workload's (see the module
 * comment): not an EKS cluster's, Cognito's, a consumer sign-in's, nor a credential broker's (config
 * `webIdentityBrokerIssuers`). Also read by web-identity-exchange-new-network.
 */
export function workloadIssuer(event: SeamEvent, config: NativeConfig): string | undefined {
  const issuer = issuerOf(event);
  if (issuer === undefined || NOT_WORKLOAD_ISSUER.test(issuer) || brokerIssuer(issuer, config.webIdentityBrokerIssuers)) return undefined;
  return issuer;
}

/** Does `issuer` name `entry` or a path under it (`token.actions.githubusercontent.com/<enterprise>`)? */
export function issuerUnder(issuer: string, entry: string): boolean {
  return issuer === entry || issuer.startsWith(entry.endsWith('/') ? entry : entry + '/');
}

/** Session lifetime when the exchange names none (the STS default for AssumeRoleWithWebIdentity). */
const DEFAULT_SECONDS = 3600;
/** The longest a role session can last. */
const MAX_SECONDS = 12 * 3600;

/** A call of a key not known yet, kept for when its exchange (recorded in another region's file) arrives late. */
interface Sighting {
  net: string;
  label: string;
  aws: boolean | undefined;
  ip: string;
  id: string;
  timeMs: number;
  what: string;
  ua: string | undefined;
}

interface Pending {
  /** The key's first sighting from a public address. */
  first: Sighting;
  /** The first one from another network than the first, if any. */
  other?: Sighting;
}

/** How long after its exchange a use recorded before the exchange arrived still counts. */
const PENDING_MS = 30 * 60_000;

interface State {
  /** access key | network already reported. */
  alerted: Lru<string, true>;
  /** ASIA keys used from a public address without a known origin (yet): the first sighting per network, at most two. */
  pending: Lru<string, Pending>;
}

export function webIdentityOriginKey(accessKeyId: string): string {
  return `web_identity_origin|${accessKeyId}`;
}

/** The issuer an AssumeRoleWithWebIdentity names: `token.actions.githubusercontent.com`, `gitlab.com`, … */
function issuerOf(event: SeamEvent): string | undefined {
  const re = obj(event.responseElements);
  const ui = obj(event.userIdentity);
  const provider = str(re?.provider) ?? str(ui?.identityProvider);
  if (provider === undefined) return undefined;
  // arn:aws:iam::<account>:oidc-provider/<issuer host and path>
  const i = provider.indexOf(':oidc-provider/');
  return i >= 0 ? provider.slice(i + ':oidc-provider/'.length) : provider.replace(/^https:\/\//, '');
}

export const webIdentityCredsElsewhere: NativeDetection<State> = {
  id: 'seam-native-web-identity-creds-elsewhere',
  title: 'CI pipeline or federated workload credentials used from another network than the one that obtained them',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.t1552.001', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004', 'attack.t1195.002'],
  description:
    'Credentials issued by sts:AssumeRoleWithWebIdentity to a CI pipeline or a federated workload (GitHub Actions, GitLab, CircleCI, HCP Terraform, Azure and other OIDC issuers; not EKS service accounts, Cognito, consumer sign-ins, GCP workloads (their issuer accounts.google.com is the consumer sign-in’s), or credential brokers that exchange on their own hosts and hand the keys out (native.webIdentityBrokerIssuers, default Pulumi ESC api.pulumi.com/oidc)) were used from a public address in another autonomous system than the address that made the exchange (also a key the job got by chaining into another role with sts:AssumeRole). A use recorded before its exchange arrived (another region’s CloudTrail file) is judged when the exchange arrives, if within 30 minutes of it. A use recorded only in another account (the resource owner’s: S3 data events, KMS) is judged in that account’s partition, which does not know the key: missed. A job uses its credentials from its runner; the key on another network was copied out of the job (a poisoned workflow or action that leaks its environment). S3 requests made with a presigned URL (AuthenticationMethod QueryString: the job’s signature, the address of whoever opened the link) are left out, so a thief who only presigns S3 URLs is missed; any header-signed call from that network still counts. Tune: a token-vending service or broker that exchanges on its own hosts and hands the keys to users: add its issuer to native.webIdentityBrokerIssuers.',
  triage:
    'Which repository, branch or pipeline got the credentials (the token’s subject, e.g. repo:org/name:ref:refs/heads/main) and which run (the time; the CI system’s logs for that run)? What did the other address do with the key? Deny the role’s sessions issued before now (aws:TokenIssueTime), check the workflow and the actions it pins for a change that prints or uploads the environment, and tighten the role’s trust policy (sub condition on a protected branch or environment). A runner whose traffic leaves through two providers (a self-hosted runner with split egress) looks the same: send the AWS calls through one.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries), pending: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || !ctx.config.asnDatabase) return [];
    const ip = event.seam.source_ip;
    if (ip === undefined) return [];
    if (event.eventName === 'AssumeRoleWithWebIdentity' && event.eventSource === 'sts.amazonaws.com') {
      const learned = learnOrigin(event, ip, ctx);
      return learned === undefined ? [] : judgePending(this, event, learned, state, ctx);
    }
    const ui = obj(event.userIdentity);
    const key = str(ui?.accessKeyId);
    if (key === undefined || !key.startsWith('ASIA') || str(ui?.type) !== 'AssumedRole' || str(ui?.invokedBy) !== undefined) return [];
    const origin = liveFact(graph, webIdentityOriginKey(key), timeOf(event));
    if (origin === undefined) {
      // Not known (yet): its exchange may be in a CloudTrail file that arrives later. Keep the first sighting per network.
      if (typeof event.vpcEndpointId === 'string' || presignedRequest(event)) return [];
      const net = eventNetwork(event, ctx.config);
      if (net === undefined || net.private || net.asn === undefined) return [];
      const p = state.pending.get(key);
      if (p === undefined) state.pending.set(key, { first: sightingOf(event, ip, net) });
      else if (p.other === undefined && p.first.net !== net.key) p.other = sightingOf(event, ip, net);
      return [];
    }
    // Role chaining: the job's key assuming another role hands the new key the same origin.
    const alerts: Alert[] = [];
    if (event.eventName === 'AssumeRole' && event.eventSource === 'sts.amazonaws.com') {
      const learned = learnChained(event, key, origin.fact.attributes, ctx);
      if (learned !== undefined) alerts.push(...judgePending(this, event, learned, state, ctx));
    }
    if (typeof event.vpcEndpointId === 'string' || presignedRequest(event)) return alerts;
    const net = eventNetwork(event, ctx.config);
    if (net === undefined || net.private || net.asn === undefined) return alerts;
    const a = origin.fact.attributes;
    if (net.key === a.network) return alerts;
    const alertKey = key + '|' + net.key;
    if (state.alerted.has(alertKey)) return alerts;
    state.alerted.set(alertKey, true);
    const sighting = sightingOf(event, ip, net);
    alerts.push(
      nativeAlert(this, {
        events: [event],
        summary: summaryOf(key, a, sighting),
        triage: triageOf(key, a, sighting, new Date(origin.fromMs).toISOString()),
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
      }),
    );
    return alerts;
  }
};

/** An origin just learned: the key's uses recorded before it arrived (within PENDING_MS of it), from other networks. */
function judgePending(d: NativeDetection<State>, event: SeamEvent, learned: Learned, state: State, ctx: EvalContext): Alert[] {
  const p = state.pending.get(learned.key);
  if (p === undefined) return [];
  state.pending.delete(learned.key);
  const out: Alert[] = [];
  for (const s of p.other === undefined ? [p.first] : [p.first, p.other]) {
    if (s.net === learned.attributes.network || s.timeMs < learned.fromMs || s.timeMs >= Math.min(learned.toMs, learned.fromMs + PENDING_MS)) continue;
    const alertKey = learned.key + '|' + s.net;
    if (state.alerted.has(alertKey)) continue;
    state.alerted.set(alertKey, true);
    out.push(
      nativeAlert(d, {
        events: [remembered(s.id, s.timeMs), event],
        summary: `${summaryOf(learned.key, learned.attributes, s)} (recorded before the exchange arrived)`,
        triage: triageOf(learned.key, learned.attributes, s, new Date(learned.fromMs).toISOString()),
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
      }),
    );
  }
  return out;
}

function sightingOf(event: SeamEvent, ip: string, net: NetworkInfo): Sighting {
  return { net: net.key, label: net.label, aws: net.aws, ip, id: event.seam.id, timeMs: timeOf(event), what: event.seam.action ?? str(event.eventName) ?? '', ua: str(event.userAgent) };
}

/**
 * The alert's triage text: which pipeline got the key, for which role, where it was used, and what to do, by name.
 * `exchangedAt` is the exchange's time (ISO): the run to find in the CI system's logs.
 */
function triageOf(key: string, a: Record<string, unknown>, s: Sighting, exchangedAt: string): string {
  const subject = a.subject === undefined ? 'the workload' : String(a.subject);
  const session = a.session === undefined ? undefined : String(a.session);
  const roleArn = session === undefined ? undefined : roleOfSession(session);
  const role = roleArn === undefined ? 'the role' : shortIdentity(roleArn);
  return (
    `${subject} got ${key}${roleArn === undefined ? '' : ` for ${role}`} from ${String(a.issuer)} at ${String(a.ip)} (${String(a.label)}) at ${exchangedAt}${a.via === undefined ? '' : ` (chained from ${String(a.via)})`}; ${s.ip} (${s.label}) then called ${s.what} with it. ` +
    `Find that run in the CI system’s logs and check its workflow and the actions it pins for a change that prints or uploads the environment; list what ${s.ip} did with ${key}. ` +
    `Deny ${role}’s sessions issued before now (aws:TokenIssueTime) and tighten its trust policy (sub on a protected branch or environment); a self-hosted runner with split egress looks the same.`
  );
}

function summaryOf(key: string, a: Record<string, unknown>, s: Sighting): string {
  return `Credentials ${key} that ${String(a.subject ?? 'a workload')} obtained from ${String(a.issuer)} at ${String(a.ip)} (${String(a.label)})${a.via === undefined ? '' : ` (chained from ${String(a.via)})`} called ${s.what} from ${s.ip} (${s.label}${s.aws === true ? ', AWS' : ''})${s.ua === undefined ? '' : `, user agent ${s.ua}`}`;
}

/** An origin just learned: the key, its attributes and its validity (ms). */
interface Learned {
  key: string;
  attributes: Record<string, unknown>;
  fromMs: number;
  toMs: number;
}

/** A role-chained session lasts at most an hour, whatever it asks. */
const CHAINED_MAX_SECONDS = 3600;

/** Remembers the origin of a key issued by sts:AssumeRole to a key with an origin (role chaining), until it expires. */
function learnChained(event: SeamEvent, parent: string, origin: Record<string, unknown>, ctx: EvalContext): Learned | undefined {
  if (event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return undefined;
  const re = obj(event.responseElements);
  const key = str(obj(re?.credentials)?.accessKeyId);
  if (key === undefined || key === parent) return undefined;
  const rp = obj(event.requestParameters);
  const seconds = typeof rp?.durationSeconds === 'number' && rp.durationSeconds > 0 ? Math.min(rp.durationSeconds, CHAINED_MAX_SECONDS) : CHAINED_MAX_SECONDS;
  const session = str(obj(re?.assumedRoleUser)?.arn);
  const attributes: Record<string, unknown> = { ...origin, via: parent };
  if (session === undefined) delete attributes.session;
  else attributes.session = session;
  ctx.learn({
    kind: 'web_identity_origin',
    key: webIdentityOriginKey(key),
    op: 'assert',
    from: accessKeyKey(key),
    to: 'net:' + String(origin.network),
    ...(event.seam.account === undefined ? {} : { account: event.seam.account }),
    attributes,
    provenance: event.seam.id,
    valid_from: event['@timestamp'],
    valid_to: new Date(timeOf(event) + seconds * 1000).toISOString(),
  });
  return { key, attributes, fromMs: timeOf(event), toMs: timeOf(event) + seconds * 1000 };
}

/** Remembers a successful exchange's key, issuer and network until the credentials expire. */
function learnOrigin(event: SeamEvent, ip: string, ctx: EvalContext): Learned | undefined {
  if (event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return undefined;
  const issuer = workloadIssuer(event, ctx.config);
  if (issuer === undefined) return undefined;
  const re = obj(event.responseElements);
  const key = str(obj(re?.credentials)?.accessKeyId);
  if (key === undefined) return undefined;
  const net = eventNetwork(event, ctx.config);
  if (net === undefined || net.private || net.asn === undefined) return undefined;
  const rp = obj(event.requestParameters);
  const seconds = typeof rp?.durationSeconds === 'number' && rp.durationSeconds > 0 ? Math.min(rp.durationSeconds, MAX_SECONDS) : DEFAULT_SECONDS;
  const t = timeOf(event);
  const subject = str(re?.subjectFromWebIdentityToken) ?? str(obj(event.userIdentity)?.userName);
  const session = str(obj(re?.assumedRoleUser)?.arn);
  const attributes = { issuer, ip, network: net.key, label: net.label, ...(subject === undefined ? {} : { subject }), ...(session === undefined ? {} : { session }) };
  ctx.learn({
    kind: 'web_identity_origin',
    key: webIdentityOriginKey(key),
    op: 'assert',
    from: accessKeyKey(key),
    to: 'net:' + net.key,
    ...(event.seam.account === undefined ? {} : { account: event.seam.account }),
    attributes,
    provenance: event.seam.id,
    valid_from: event['@timestamp'],
    valid_to: new Date(t + seconds * 1000).toISOString(),
  });
  return { key, attributes, fromMs: t, toMs: t + seconds * 1000 };
}
