/** Small helpers shared by native detections: addresses, alert building, chain text. */
import { shortChain } from '../../identity/chain-text.ts';
import type { ChainStep, Principal, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { buildAlert, contributionOf, type Alert, type AlertLevel, type Contribution } from '../alert.ts';
import type { FindingVersion } from '../finding.ts';
import type { NativeConfig } from './config.ts';
import type { NativeDetection } from './types.ts';
import { isoMs } from '../../core/time.ts';

export { inCidr, isPrivateIp } from '../../core/ip.ts';
import { inCidr, isAddress, isPrivateIp } from '../../core/ip.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';
import { clusterPlace } from './networks.ts';
import { roleOfSession } from '../../identity/keys.ts';
import { shortIdentity } from '../../identity/chain-text.ts';

export function configuredCidrs(graph: IdentityGraph, cluster: string): string[] {
  return graph.config.clusters.find((c) => c.name === cluster)?.egressCidrs ?? [];
}

/** `52.94.133.131, 52.94.133.132` (up to three) of the cluster's known egress, for a triage text. */
export function egressText(graph: IdentityGraph, cluster: string, t: number): string {
  const known = graph.egressOf(cluster, t);
  return known.length === 0 ? 'none learned yet' : known.slice(0, 3).join(', ') + (known.length > 3 ? ', …' : '');
}

/** Is `ip` in one of the cluster's configured `egressCidrs`? */
export function inEgressCidrs(graph: IdentityGraph, cluster: string, ip: string): boolean {
  return configuredCidrs(graph, cluster).some((c) => inCidr(ip, c));
}

/** Did the API server serve the Kubernetes request (no 4xx or 5xx status)? A refused request did nothing and proves nothing. */
export function servedRequest(event: SeamEvent): boolean {
  const code = obj(event.responseStatus)?.code;
  return !(typeof code === 'number' && code >= 400);
}

/**
 * The address of the connection a Kubernetes request came in on: the last of `sourceIPs`. The API server lists the
 * request's X-Forwarded-For entries (and X-Real-Ip) first and the remote address last, so a client that sends
 * `X-Forwarded-For: 10.0.0.5` shows a private address first (`seam.source_ip`), and only the last entry is not
 * its own word (kubernetes/kubernetes#87167). On EKS no proxy sits in front of the API server (its load balancer
 * passes connections through); a proxy the customer runs in front of it (Rancher, Teleport, kube-oidc-proxy) is
 * the connection then, so its users all share its address here.
 * Other sources: `seam.source_ip`.
 */
export function connectionAddress(event: SeamEvent): string | undefined {
  const ips = event.sourceIPs;
  if (event.seam.source !== 'k8s_audit' || !Array.isArray(ips) || ips.length === 0) return event.seam.source_ip;
  const last = ips[ips.length - 1];
  if (typeof last !== 'string') return event.seam.source_ip;
  // Up to six detections ask this of every audit event, and a cluster's requests come from few addresses:
  // the answer for the last text asked is kept (a pure function of the text).
  if (last !== lastText) {
    lastText = last;
    lastValid = isAddress(last);
  }
  return lastValid ? last : event.seam.source_ip;
}
let lastText: string | undefined;
let lastValid = false;

/**
 * Is this call from where the cluster's workloads reach AWS? True for configured CIDRs, learned egress
 * addresses, VPC endpoint calls, and (by default) private addresses. Undefined source = an AWS service
 * acting (sourceIPAddress was a service name): not an address question.
 */
export function fromCluster(event: SeamEvent, graph: IdentityGraph, cluster: string, config: NativeConfig, extra: readonly string[] = []): boolean | undefined {
  const ip = event.seam.source_ip;
  if (ip === undefined) return undefined;
  if (typeof event.vpcEndpointId === 'string') return true;
  if (config.treatPrivateAsInternal && isPrivateIp(ip)) return true;
  if (inEgressCidrs(graph, cluster, ip)) return true;
  if (extra.includes(ip)) return true;
  return graph.egressOf(cluster, isoMs(event['@timestamp'])).includes(ip);
}

/** The chain in its short, deduplicated form (src/identity/chain-text.ts), e.g. `role/payments-api-irsa (botocore…) → ASIA… → sa payments/api → pod payments/api-7f… → role/PlatformAdmin (alice@example.com)`. */
export function chainText(chain: readonly ChainStep[]): string {
  return shortChain(chain, { maxNodes: 8 });
}

/** `seam.id` → the id the source gave it (audit ids carry `:<stage>`). */
export function nativeIdFromSeamId(id: string): string {
  const i = id.indexOf(':');
  return i > 0 && /^[0-9a-f-]{36}:/.test(id) ? id.slice(0, i) : id;
}

/** A contribution from a remembered event (seam.id + time) when the event itself is gone. */
export function remembered(id: string, timeMs: number): Contribution {
  return { ids: [id], nativeIds: [nativeIdFromSeamId(id)], timeMs };
}

export interface NativeAlertInput {
  level?: AlertLevel;
  events: readonly (SeamEvent | Contribution)[];
  summary: string;
  principal?: Principal | undefined;
  account?: string | undefined;
  cluster?: string | undefined;
  /** Name the alert by this GuardDuty finding, whatever else joined it (ADR 0046). */
  finding?: FindingVersion | undefined;
  /** Who acted, really, and the path there, when the alert is raised after its event's turn (the detect stage copies them from the closing event otherwise). */
  origin?: Principal | undefined;
  chain?: readonly ChainStep[] | undefined;
  /** Events joined as context, not evidence (`Alert.related_events`). */
  related?: readonly Contribution[] | undefined;
  /** Tags beyond the detection's own (ATT&CK tactic of a GuardDuty finding type). */
  extraTags?: readonly string[] | undefined;
  /** Which of the detection's variants this alert is (`Alert.rule.variant`): its title replaces the detection's. */
  variant?: NativeVariant | undefined;
  /** This alert's triage text, naming the event's values, instead of the detection's generic `triage`. */
  triage?: string | undefined;
}

/** One kind of alert a native detection raises under its id (SOC review M5). */
export interface NativeVariant {
  /** Stable name: `created`, `admin_policy`, `first_use`. */
  name: string;
  /** The alert title for this variant (Slack header, console, incident card). */
  title: string;
}

function isEvent(x: SeamEvent | Contribution): x is SeamEvent {
  return (x as SeamEvent).seam !== undefined;
}

export function nativeAlert(d: NativeDetection<unknown>, input: NativeAlertInput): Alert {
  const tags = [...d.tags];
  for (const t of input.extraTags ?? []) if (!tags.includes(t)) tags.push(t);
  const rule: Alert['rule'] = { id: d.id, title: input.variant?.title ?? d.title, level: input.level ?? d.level, tags, type: 'native' };
  if (input.variant !== undefined) rule.variant = input.variant.name;
  const alert = buildAlert({
    rule,
    triage: input.triage ?? d.triage,
    contributions: input.events.map((e) => (isEvent(e) ? contributionOf(e) : e)),
    summary: input.summary,
    ...(input.principal === undefined ? {} : { principal: input.principal }),
    ...(input.account === undefined ? {} : { account: input.account }),
    ...(input.cluster === undefined ? {} : { cluster: input.cluster }),
    ...(input.finding === undefined ? {} : { finding: input.finding }),
  });
  if (input.origin !== undefined) alert.origin = input.origin;
  if (input.chain !== undefined && input.chain.length > 0) alert.chain = [...input.chain];
  if (input.related !== undefined && input.related.length > 0) {
    const ids: string[] = [];
    const seen = new Set(alert.events);
    for (const c of [...input.related].sort((a, b) => a.timeMs - b.timeMs)) {
      for (const id of c.ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        ids.push(id);
      }
    }
    if (ids.length > 0) alert.related_events = ids;
  }
  return alert;
}

/**
 * An S3 request made with a presigned URL (`additionalEventData.AuthenticationMethod` `QueryString`): CloudTrail
 * names the URL's signer (userIdentity, its access key) but the address and user agent of whoever opened the link.
 */
export function presignedRequest(event: SeamEvent): boolean {
  const d = event.additionalEventData;
  return typeof d === 'object' && d !== null && (d as Record<string, unknown>).AuthenticationMethod === 'QueryString';
}

export function timeOf(event: SeamEvent): number {
  return isoMs(event['@timestamp']);
}

/** What a Kubernetes audit request did, for a summary: `get secrets`, `create pods exec`, else its URI. */
export function auditRequestText(event: SeamEvent): string {
  const ref = obj(event.objectRef);
  const what = [str(event.verb), str(ref?.resource), str(ref?.subresource)].filter((x) => x !== undefined).join(' ');
  return what || str(event.requestURI) || 'request';
}

/** How long after Seam first sees a cluster's IPv6 traffic the IPv6 blocks it comes from are learned as the cluster's own. */
export const CLUSTER_V6_LEARN_MS = 3600_000;

/**
 * The IPv6 blocks (/56, a VPC's) a cluster's own nodes and pods reach the API server from, learned from the requests
 * the API server served during the first CLUSTER_V6_LEARN_MS of event time after the cluster's first IPv6 request.
 * An IPv6 cluster whose VPC block is not announced by Amazon (BYOIPv6 with the customer's own AS, or not advertised)
 * gives each node and pod a public-looking address outside Amazon's networks; these are the cluster's own. A block
 * first used after the learning window is not learned (a stolen token replayed from an attacker's IPv6 host).
 */
export class ClusterV6Blocks {
  private readonly since: Lru<string, number>;
  private readonly blocks: Lru<string, true>;

  constructor(maxEntries: number) {
    this.since = boundedLru(maxEntries);
    this.blocks = boundedLru(maxEntries);
  }

  /** Undefined for an IPv4 address; else whether its block is the cluster's own (teaching it while learning, when `served`). */
  own(cluster: string, ip: string, t: number, served: boolean): boolean | undefined {
    if (!ip.includes(':')) return undefined;
    const block = clusterPlace(ip);
    if (block === undefined || !block.includes(':')) return undefined;
    let since = this.since.get(cluster);
    if (since === undefined || t < since) this.since.set(cluster, (since = t));
    const key = cluster + '|' + block;
    if (served && t - since < CLUSTER_V6_LEARN_MS) {
      this.blocks.set(key, true);
      return true;
    }
    return this.blocks.has(key);
  }
}

/**
 * Where a call came from and with what, for a triage text: `from 203.0.113.7 with aws-cli/2.15.0 …` (the user agent
 * cut at 80 characters), `from an AWS service` when the record names no address.
 */
export function callerText(event: SeamEvent): string {
  const ua = str(event.seam.user_agent);
  const from = event.seam.source_ip === undefined ? 'from an AWS service' : `from ${event.seam.source_ip}`;
  return ua === undefined ? from : `${from} with ${quoted(ua)}`;
}

/**
 * Text the caller chose (a user agent, a command line, an object or session name), quoted for a triage text:
 * `“aws-cli/2.15.0 …”`. Control and format characters (newlines, bidi overrides, zero-width marks) become spaces and
 * backticks and double quotes become `'`, so the value cannot end its quotes, open a code span in Slack, or hide
 * text; cut at `max` characters. The sinks escape `<`, `>` and `&` for Slack and HTML themselves.
 */
export function quoted(value: string, max = 80): string {
  const clean = value.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ').replace(/[`"“”]/g, "'").trim();
  return `“${clean.length > max ? clean.slice(0, max) + '…' : clean}”`;
}

/** The access key a CloudTrail call was signed with (`ASIA…` temporary, `AKIA…` long-term), if the record names it. */
export function accessKeyOf(event: SeamEvent): string | undefined {
  return str(obj(event.userIdentity)?.accessKeyId);
}

/** The command that lists the calls made with an access key (CloudTrail's 90 days of management events, in the call's region). */
export function keyLookupCommand(key: string, region?: string): string {
  return `aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=${key}${region === undefined ? '' : ` --region ${region}`}`;
}

/**
 * How to deny every session of a role issued before now (what the console's "Revoke active sessions" writes), by
 * name: stolen role credentials stay valid until they expire, up to 12 hours.
 */
export function revokeSessionsCommand(role: string): string {
  return `aws iam put-role-policy --role-name ${role} --policy-name AWSRevokeOlderSessions --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"<now>"}}}]}'`;
}

/** A CloudTrail call made with a console session's credentials (`sessionCredentialFromConsole`, a top-level field). */
export function consoleSessionCall(event: SeamEvent): boolean {
  const flag = event.sessionCredentialFromConsole;
  return flag === 'true' || flag === true;
}

/** A principal as a triage text names it: `role/PlatformAdmin (alice@example.com)`, `sa payments/api`, `user/bob`. */
export function whoText(p: Principal | undefined): string {
  return p === undefined ? 'an unknown principal' : shortIdentity(p.arn ?? p.k8s_user ?? p.id);
}

/**
 * How to stop the credentials a CloudTrail call was signed with, by name: a role session's role gets the
 * revoke-older-sessions policy, an IAM user's long-term key is deactivated. Undefined when the record says neither.
 * (`update-access-key,` keeps a comma: the scrub reads `…-access-key <word>` as a key and its value.)
 */
export function stopCredentialsText(event: SeamEvent): string | undefined {
  const arn = str(obj(event.userIdentity)?.arn) ?? event.seam.principal?.arn;
  const key = accessKeyOf(event);
  const role = arn === undefined ? undefined : roleOfSession(arn);
  if (role !== undefined) return `deny role ${role.replace(/^.*\//, '')}'s sessions issued before now (${revokeSessionsCommand(role.replace(/^.*\//, ''))})`;
  const user = arn === undefined ? undefined : /:user\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1];
  if (user !== undefined && key !== undefined && key.startsWith('AKIA')) return `deactivate ${user}'s key ${key} (aws iam update-access-key, with --user-name ${user} --access-key-id ${key} --status Inactive)`;
  return undefined;
}
