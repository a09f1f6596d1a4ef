/** Small helpers shared by native detections: addresses, alert building, chain text. */
import { shortChain } from '../../identity/chain-text.ts';
import type { ChainStep, Principal, SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { buildAlert, contributionOf, type Alert, type AlertLevel, type Contribution } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import type { NativeDetection } from './types.ts';
import { isoMs } from '../../core/time.ts';

export { inCidr, isPrivateIp } from '../../core/ip.ts';
import { inCidr, isPrivateIp, parseAddress } from '../../core/ip.ts';
import { obj, str } from '../../core/values.ts';

export function configuredCidrs(graph: IdentityGraph, cluster: string): string[] {
  return graph.config.clusters.find((c) => c.name === cluster)?.egressCidrs ?? [];
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
  return typeof last === 'string' && parseAddress(last) !== undefined ? last : event.seam.source_ip;
}

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
  if (configuredCidrs(graph, cluster).some((c) => inCidr(ip, c))) return true;
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
}

function isEvent(x: SeamEvent | Contribution): x is SeamEvent {
  return (x as SeamEvent).seam !== undefined;
}

export function nativeAlert(d: NativeDetection<unknown>, input: NativeAlertInput): Alert {
  return buildAlert({
    rule: { id: d.id, title: d.title, level: input.level ?? d.level, tags: [...d.tags], type: 'native' },
    contributions: input.events.map((e) => (isEvent(e) ? contributionOf(e) : e)),
    summary: input.summary,
    ...(input.principal === undefined ? {} : { principal: input.principal }),
    ...(input.account === undefined ? {} : { account: input.account }),
    ...(input.cluster === undefined ? {} : { cluster: input.cluster }),
  });
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
