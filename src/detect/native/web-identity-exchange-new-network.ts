/**
 * A CI pipeline's OIDC token exchanged for a role's credentials from a network that never made that exchange. A
 * GitHub Actions job (or a GitLab CI job, an HCP Terraform run, a Buildkite or CircleCI step) asks its CI service for
 * a signed JWT and trades it for role credentials (sts:AssumeRoleWithWebIdentity) from its runner. Whoever reads
 * the JWT out of the job (a poisoned workflow or action that prints or uploads its environment or the runner's
 * token-request URL and bearer, GitLab's CI_JOB_JWT or id_tokens variables, a build script posting `env`) can make
 * the exchange from their own host while the token is valid. web-identity-creds-elsewhere cannot see that: the
 * exchange and every use of its key then share the thief's network. What is left is the exchange's own address.
 *
 * So this learns, per role and OIDC issuer (the IAM OIDC provider the exchange names), which networks exchange tokens
 * for it: `seen_network` facts hung off `oidc_role:<issuer>|<role ARN>` (the ARN lower-cased: IAM role names are
 * unique regardless of case and a role ARN in another case names the same role, so a thief cannot start a new
 * baseline by changing its case), with the learning period's start (`baseline_start`), through the baselines' shared
 * code (baseline.ts: identity facts on seam.identity, so a restart keeps both). Both are kept
 * `webIdentityNetworkMemoryMs` unseen (400 days; baselineMemoryMs when longer): jobs that exchange from their own
 * runner are often monthly or quarterly. After `baselineLearningMs` from the first exchange seen for the role and
 * issuer, a successful exchange from a network none of its exchanges came from alerts, once per network (the network
 * is learned with the alert). Why per role and issuer, not per subject (`repo:org/name:…`): the role's trust policy
 * decides which subjects may exchange, and one with a wildcard (`repo:org/*`) would hand a thief a subject never
 * seen, still learning; per role, any new repository of the org on the runners already seen is known. The subject is
 * in the alert.
 *
 * A network is an autonomous system, with two exceptions. Inside Amazon's networks it is the address's /16 (IPv6:
 * /48): one network for all of AWS would let a thief exchange from an instance of their own, in any account and
 * region, for every role whose runners run on EC2. Without AWS's ip-ranges.json (native.awsIpRangesFile; Seam ships no copy), a /16
 * cannot be placed in a region, and one region's public addresses span dozens of /16s (a fleet of runners with
 * public addresses draws new ones every day): a /16 new to a role that already exchanged from AWS is reported low,
 * not medium (an exchange from AWS for a role that never did is medium), and once a role's exchanges came from
 * MAX_AWS_PREFIXES of them Amazon's networks count as one for it. With AWS's ranges (native.awsIpRangesFile) the
 * network inside AWS is the address's region instead: a region new to a role is medium (a thief's instance in a
 * region the role's runners never used), a thief in the runners' own region is missed; the first region after the
 * ranges were given to a role learned by /16s is learned, not reported. The other: an issuer's hosted-runner networks
 * (`webIdentityHostedRunners`: GitHub-hosted runners in Azure, AS8075, from hundreds of /16s; GitLab.com's in Google
 * Cloud, AS396982) count as known for a role whose exchanges already came from one of them; for a role whose
 * exchanges never did (its jobs ran on self-hosted runners), an exchange from there is reported medium, with the hint
 * that its workflows may have moved: a thief can exchange a stolen token from a hosted runner of their own repository,
 * a Codespace or a VM in that cloud. An exchange from an address a cluster of the account reaches AWS from (its
 * learned egress, its configured egressCidrs: runners in the cluster) is learned, never reported.
 *
 * Left out: EKS service-account tokens (IRSA: workload-creds-off-cluster judges their exchanges against the
 * cluster's egress), Cognito, consumer sign-ins and GCP workloads, credential brokers that exchange on their own
 * hosts (`webIdentityBrokerIssuers`), failed exchanges, exchanges from unplaceable addresses, runs without the ASN
 * database, and roles whose exchanges came from more than `maxNetworksPerPrincipal` networks (Amazon's counted as
 * one; no useful baseline; nothing more is learned for them). Missed: a thief exchanging from the hosted runners of
 * an issuer whose runners the role already uses, and from an AWS /16 the role's runners already used. A private
 * address (an exchange through an STS VPC endpoint, from self-hosted runners in a VPC) is learned as one network and
 * never reported: a role whose exchanges all came through the endpoint reports its first one from the Internet.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import type { Edge } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { eventNetwork, firstRegionOverAsBaseline, known, knownNetwork, learningStart, rememberNetwork } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import { networkPrefix, type NetworkInfo } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { inEgressCidrs, nativeAlert, timeOf } from './util.ts';
import { issuerUnder, workloadIssuer } from './web-identity-creds-elsewhere.ts';
import { obj, str } from '../../core/values.ts';

/** How many AWS /16s (IPv6 /48s) of one role's exchanges are told apart; beyond, Amazon's networks count as one for it. */
export const MAX_AWS_PREFIXES = 16;

const DAY_MS = 24 * 3600_000;

/** The node a role's exchanges with one issuer hang their baseline off (`role`: the role's ARN, any case). */
export function exchangeSubjectKey(issuer: string, role: string): string {
  return `oidc_role:${issuer}|${role.toLowerCase()}`;
}

/** Is `asn` one of the issuer's hosted runners' networks (config `webIdentityHostedRunners`)? */
function hostedRunners(issuer: string, asn: number | undefined, config: NativeConfig): boolean {
  if (asn === undefined) return false;
  for (const h of config.webIdentityHostedRunners) if (issuerUnder(issuer, h.issuer) && h.asns.includes(asn)) return true;
  return false;
}

/** The AS of a learned network (its `asn` attribute; facts learned before it was kept name it in their target, `net:AS<n>`). */
function asnOf(e: Edge): number | undefined {
  const a = e.fact.attributes.asn;
  if (typeof a === 'number') return a;
  const m = /^net:AS(\d+)$/.exec(e.fact.to);
  return m === null ? undefined : Number(m[1]);
}

/** The network an exchange is judged by: its AS; inside Amazon's, its /16 (IPv6 /48); with AWS's ranges, its AWS region. */
function exchangeNetwork(ip: string, net: NetworkInfo): NetworkInfo {
  if (net.aws !== true || net.region !== undefined) return net;
  const p = networkPrefix(ip);
  return { ...net, key: `aws:${p}`, label: `${p} in ${net.label}` };
}

/** A cluster of the account whose egress `ip` is (learned, or in its configured egressCidrs), if any. */
function clusterEgress(graph: IdentityGraph, account: string | undefined, ip: string, t: number): string | undefined {
  for (const c of graph.clustersOf(account)) if (inEgressCidrs(graph, c, ip) || graph.egressOf(c, t).includes(ip)) return c;
  return undefined;
}

/** The role an exchange asked for (requestParameters.roleArn, else the issued session's), canonical. */
function roleOf(event: SeamEvent): string | undefined {
  const arn = str(obj(event.requestParameters)?.roleArn);
  if (arn !== undefined) return canonicalIamArn(arn);
  const session = str(obj(obj(event.responseElements)?.assumedRoleUser)?.arn);
  const role = session === undefined ? undefined : roleOfSession(session);
  return role === undefined ? undefined : canonicalIamArn(role);
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * How new the network is, truthfully. A fact is refreshed when seen again with less than half its memory left
 * (baseline.ts remember), so a network seen for the role in the last half memory is still known: one unknown now was
 * not seen for at least that long, and never since the role's learning start when that is more recent.
 */
function novelty(t: number, startMs: number, memoryMs: number): string {
  if (t - startMs <= memoryMs / 2) return `a network no exchange for this role and issuer came from since the first one seen (${day(startMs)})`;
  return `a network no exchange for this role and issuer came from in the last ${Math.floor(memoryMs / 2 / DAY_MS)} days`;
}

export const webIdentityExchangeNewNetwork: NativeDetection<null> = {
  id: 'seam-native-web-identity-exchange-new-network',
  title: 'CI pipeline OIDC token exchanged for a role from a network no recent exchange for that role came from',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A successful sts:AssumeRoleWithWebIdentity with a CI pipeline’s or federated workload’s OIDC token (GitHub Actions, GitLab CI, HCP Terraform, Buildkite, CircleCI and other issuers; not EKS service accounts, Cognito, consumer sign-ins, GCP workloads, or credential brokers in native.webIdentityBrokerIssuers) came from a network that no exchange for this role (its ARN in any case) with this issuer came from since its learning period (baselineLearningMs after the first exchange seen for them; networks forgotten after native.webIdentityNetworkMemoryMs unseen, 400 days; the baseline survives restarts). A network is an autonomous system; inside Amazon’s, a /16. A token read out of a job and exchanged by the thief from their own host looks like this, and nothing else sees it: the key is then used from the same network. Medium, not high: a new self-hosted runner pool, a runner whose egress moved, or a repository newly allowed to assume the role from other infrastructure looks the same, and the exchange alone cannot tell them apart. An exchange from the issuer’s hosted-runner networks (native.webIdentityHostedRunners: GitHub-hosted runners in Azure, GitLab.com’s in Google Cloud) is medium only for a role whose exchanges never came from them (moved to hosted runners, or a thief on a hosted runner or VM of their own); for a role that uses hosted runners it is known, so a thief there is missed. An AWS /16 new to a role that already exchanged from AWS is low (a runner fleet’s public addresses span many /16s of a region; without AWS’s ranges Seam cannot place a /16 in a region), and after 16 of them AWS counts as one network for the role. With AWS’s ranges (native.awsIpRangesFile) a network inside AWS is its region: a region new to the role is medium, the runners’ own region is known. Exchanges from an address a cluster of the account reaches AWS from (learned egress, configured egressCidrs) and from private addresses (an STS VPC endpoint) are learned, never reported; failed exchanges, unplaceable addresses and runs without the ASN database are left out. Tune: runners in an EKS cluster whose egress Seam does not know: list it as the cluster’s egressCidrs.',
  triage:
    'Which repository, branch or pipeline the token was issued to (the subject, e.g. repo:org/name:ref:refs/heads/main) and which run (the CI system’s job logs at that time: did a job of that pipeline run then, on which runner?). A runner you operate on that network explains it (for an issuer’s hosted-runner network: did this workflow move to hosted runners, runs-on changed?); otherwise treat the token as stolen: what the issued key did (its access key id, all from that network), deny the role’s sessions issued before now (aws:TokenIssueTime), look for a workflow or action change that prints or uploads the environment (the variables a job asks its CI service for an ID token with), and tighten the role’s trust policy (sub on a protected branch or environment).',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.eventName !== 'AssumeRoleWithWebIdentity' || event.eventSource !== 'sts.amazonaws.com') return [];
    if (!ctx.config.asnDatabase || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const issuer = workloadIssuer(event, ctx.config);
    const role = roleOf(event);
    const ip = event.seam.source_ip;
    if (issuer === undefined || role === undefined || ip === undefined) return [];
    const placed = eventNetwork(event, ctx.config);
    // A private address (through an STS VPC endpoint) is learned as a network of its own, never reported.
    if (placed === undefined || (!placed.private && placed.asn === undefined)) return [];
    const net = exchangeNetwork(ip, placed);
    const subjectKey = exchangeSubjectKey(issuer, role);
    const memory = Math.max(ctx.config.baselineMemoryMs, ctx.config.webIdentityNetworkMemoryMs);
    const t = timeOf(event);
    const re = obj(event.responseElements);
    const subject = str(re?.subjectFromWebIdentityToken) ?? str(obj(event.userIdentity)?.userName);
    const extra = { ...(subject === undefined ? {} : { subject }), ...(net.asn === undefined ? {} : { asn: net.asn }) };
    const start = learningStart(event, ctx, graph, subjectKey, memory);
    if (knownNetwork(graph, subjectKey, net, t) !== undefined) {
      rememberNetwork(event, ctx, graph, subjectKey, net, extra, memory);
      return [];
    }
    const before = known(graph, subjectKey, 'seen_network', t);
    let awsPrefixes = 0;
    for (const e of before) if (e.fact.attributes.aws === true) awsPrefixes++;
    // Bounded: a role whose exchanges came from this many networks (Amazon's as one) has no baseline worth keeping;
    // one whose exchanges came from this many AWS /16s has runners all over AWS's addresses (AWS is one network for it).
    const networks = before.length - awsPrefixes + (awsPrefixes > 0 ? 1 : 0);
    if (net.aws === true && awsPrefixes >= MAX_AWS_PREFIXES) return [];
    if (networks >= ctx.config.maxNetworksPerPrincipal && !(net.aws === true && awsPrefixes > 0)) return [];
    rememberNetwork(event, ctx, graph, subjectKey, net, extra, memory);
    if (net.private || t - start < ctx.config.baselineLearningMs || before.length === 0) return [];
    if (firstRegionOverAsBaseline(before, net)) return [];
    // Runners in a cluster of the account (actions-runner-controller, GitLab's Kubernetes executor) leave through its egress.
    if (clusterEgress(graph, event.seam.account, ip, t) !== undefined) return [];
    const hosted = hostedRunners(issuer, net.asn, ctx.config);
    if (hosted && before.some((e) => hostedRunners(issuer, asnOf(e), ctx.config))) return [];
    // An AWS /16 new to a role already seen in AWS is low (its runners' addresses span many /16s of their region);
    // a region new to it (AWS's ranges given) is not: its runners do not move regions by themselves.
    const low = net.aws === true && awsPrefixes > 0 && net.region === undefined;
    const was = before
      .slice(0, 5)
      .map((e) => `${String(e.fact.attributes.label ?? e.fact.to)}${e.fact.attributes.subject === undefined ? '' : ` (${String(e.fact.attributes.subject)})`}`)
      .join(', ');
    const why = hosted
      ? `; one of ${issuer}’s hosted-runner networks, and no exchange for this role came from one: moved to hosted runners? (a thief can exchange from a hosted runner or VM of their own there)`
      : low
        ? '; an AWS /16 new to the role, whose exchanges already came from AWS (any AWS account’s instance looks the same)'
        : '';
    const key = str(obj(re?.credentials)?.accessKeyId);
    const r = shortIdentity(role);
    const who = subject ?? 'a workload';
    const knownShort = before.slice(0, 3).map((e) => String(e.fact.attributes.label ?? e.fact.to)).join(', ') + (before.length > 3 ? ', …' : '');
    const triage =
      `${who} exchanged its ${issuer} token for ${r} from ${ip} (${net.label}) at ${event['@timestamp']}; that role’s exchanges came from ${knownShort}. ` +
      `Did a job of ${who} run then, and on which runner (the CI system’s logs)? ${hosted ? `Did its workflow move to ${issuer}’s hosted runners (runs-on changed)? ` : `A runner you operate on ${net.label} explains it. `}` +
      `Otherwise treat the token as stolen: list what ${key ?? 'the issued key'} did, deny ${r}’s sessions issued before now (aws:TokenIssueTime), look for a workflow or action change that prints or uploads the environment, and tighten ${r}’s trust policy (sub on a protected branch or environment).`;
    return [
      nativeAlert(this, {
        events: [event],
        level: low ? 'low' : 'medium',
        triage,
        summary: `${subject ?? 'A workload'} exchanged its ${issuer} token for ${role} from ${ip} (${net.label}), ${novelty(t, start, memory)}${why}; known: ${was}${before.length > 5 ? ', …' : ''}${key === undefined ? '' : `; issued key ${key}`}`,
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
      }),
    ];
  },
};
