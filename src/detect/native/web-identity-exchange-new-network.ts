/**
 * A CI pipeline's OIDC token exchanged for a role's credentials from a network that never made that exchange. A
 * GitHub Actions job (or a GitLab CI job, an HCP Terraform run, a Buildkite or CircleCI step) asks its CI service for
 * a signed JWT and trades it for role credentials (sts:AssumeRoleWithWebIdentity) from its runner. Whoever reads
 * the JWT out of the job (a poisoned workflow or action that prints or uploads its environment or the runner's
 * token-request URL and bearer, GitLab's CI_JOB_JWT or id_tokens variables, a build script posting `env`) can make
 * the exchange from their own host while the token is valid. web-identity-creds-elsewhere cannot see that: the
 * exchange and every use of its key then share the thief's network. What is left is the exchange's own address.
 *
 * So this learns, per role and OIDC issuer (the IAM OIDC provider the exchange names), which autonomous systems
 * exchange tokens for it: `seen_network` facts hung off `oidc_role:<issuer>|<role ARN>`, with the learning period's
 * start (`baseline_start`), through the baselines' shared code (baseline.ts: identity facts on seam.identity, so a
 * restart keeps both). After `baselineLearningMs` from the first exchange seen for the role and issuer, a successful
 * exchange from a network none of its exchanges came from (in the last `baselineMemoryMs`) alerts, once per network
 * (the network is learned with the alert). Why per role and issuer, not per subject (`repo:org/name:…`): the role's
 * trust policy decides which subjects may exchange, and one with a wildcard (`repo:org/*`) would hand a thief a
 * subject never seen, still learning; per role, any new repository of the org on the runners already seen is known.
 * The subject is in the alert.
 *
 * Left out: EKS service-account tokens (IRSA: workload-creds-off-cluster judges their exchanges against the
 * cluster's egress), Cognito, consumer sign-ins and GCP workloads, credential brokers that exchange on their own
 * hosts (`webIdentityBrokerIssuers`), failed exchanges, exchanges from unplaceable addresses, runs without the ASN
 * database, and roles whose exchanges came from more than
 * `maxNetworksPerPrincipal` networks (no useful baseline; nothing more is learned for them). Amazon's autonomous
 * systems count as one network here (self-hosted runners on EC2 in several regions show several of them), and so
 * do the hosted runners' own networks of an issuer (`webIdentityHostedRunners`: GitHub-hosted runners run in Azure,
 * AS8075, from hundreds of addresses; GitLab.com's in Google Cloud): a thief exchanging from a VM in that cloud, or
 * on a hosted runner of their own, is missed. A private address (an exchange through an STS VPC endpoint, from
 * self-hosted runners in a VPC) is learned as one network and never reported: a role whose exchanges all came through
 * the endpoint reports its first one from the Internet.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import { canonicalIamArn, roleOfSession } from '../../identity/keys.ts';
import type { Alert } from '../alert.ts';
import { eventNetwork, known, knownNetwork, learningStart, rememberNetwork } from './baseline.ts';
import type { NativeConfig } from './config.ts';
import type { NetworkInfo } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { nativeAlert, timeOf } from './util.ts';
import { issuerUnder, workloadIssuer } from './web-identity-creds-elsewhere.ts';
import { obj, str } from '../../core/values.ts';

/** The node a role's exchanges with one issuer hang their baseline off. */
export function exchangeSubjectKey(issuer: string, role: string): string {
  return `oidc_role:${issuer}|${role}`;
}

/** Is `net` one of the issuer's hosted runners' networks (config `webIdentityHostedRunners`)? */
function hostedRunners(issuer: string, net: NetworkInfo, config: NativeConfig): boolean {
  if (net.asn === undefined) return false;
  for (const h of config.webIdentityHostedRunners) if (issuerUnder(issuer, h.issuer) && h.asns.includes(net.asn)) return true;
  return false;
}

/** The role an exchange asked for (requestParameters.roleArn, else the issued session's), canonical. */
function roleOf(event: SeamEvent): string | undefined {
  const arn = str(obj(event.requestParameters)?.roleArn);
  if (arn !== undefined) return canonicalIamArn(arn);
  const session = str(obj(obj(event.responseElements)?.assumedRoleUser)?.arn);
  const role = session === undefined ? undefined : roleOfSession(session);
  return role === undefined ? undefined : canonicalIamArn(role);
}

export const webIdentityExchangeNewNetwork: NativeDetection<null> = {
  id: 'seam-native-web-identity-exchange-new-network',
  title: 'CI pipeline OIDC token exchanged for a role from a network no exchange for that role came from',
  level: 'medium',
  tags: ['attack.credential-access', 'attack.t1528', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A successful sts:AssumeRoleWithWebIdentity with a CI pipeline’s or federated workload’s OIDC token (GitHub Actions, GitLab CI, HCP Terraform, Buildkite, CircleCI and other issuers; not EKS service accounts, Cognito, consumer sign-ins, GCP workloads, or credential brokers in native.webIdentityBrokerIssuers) came from an autonomous system that no exchange for this role with this issuer came from since its learning period (baselineLearningMs after the first exchange seen for them; networks forgotten after baselineMemoryMs unseen; the baseline survives restarts). A token read out of a job and exchanged by the thief from their own host looks like this, and nothing else sees it: the key is then used from the same network. Medium, not high: a new self-hosted runner pool, a runner whose egress moved, or a repository newly allowed to assume the role from other infrastructure looks the same, and the exchange alone cannot tell them apart. Amazon’s networks count as one, and the issuer’s hosted-runner networks (native.webIdentityHostedRunners: GitHub-hosted runners in Azure, GitLab.com’s in Google Cloud) are never reported, so a thief exchanging from a VM in those clouds is missed. Exchanges from private addresses (an STS VPC endpoint) are learned as one network and never reported; failed exchanges, unplaceable addresses and runs without the ASN database are left out.',
  triage:
    'Which repository, branch or pipeline the token was issued to (the subject, e.g. repo:org/name:ref:refs/heads/main) and which run (the CI system’s job logs at that time: did a job of that pipeline run then, on which runner?). A runner you operate on that network explains it; otherwise treat the token as stolen: what the issued key did (its access key id, all from that network), deny the role’s sessions issued before now (aws:TokenIssueTime), look for a workflow or action change that prints or uploads the environment or the ID-token request variables, and tighten the role’s trust policy (sub on a protected branch or environment).',
  createState: () => null,
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || event.eventName !== 'AssumeRoleWithWebIdentity' || event.eventSource !== 'sts.amazonaws.com') return [];
    if (!ctx.config.asnDatabase || event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const issuer = workloadIssuer(event, ctx.config);
    const role = roleOf(event);
    const ip = event.seam.source_ip;
    if (issuer === undefined || role === undefined || ip === undefined) return [];
    const net = eventNetwork(event, ctx.config);
    // A private address (through an STS VPC endpoint) is learned as a network of its own, never reported.
    if (net === undefined || (!net.private && net.asn === undefined)) return [];
    const subjectKey = exchangeSubjectKey(issuer, role);
    const t = timeOf(event);
    const re = obj(event.responseElements);
    const subject = str(re?.subjectFromWebIdentityToken) ?? str(obj(event.userIdentity)?.userName);
    const start = learningStart(event, ctx, graph, subjectKey);
    if (knownNetwork(graph, subjectKey, net, t) !== undefined) {
      rememberNetwork(event, ctx, graph, subjectKey, net, subject === undefined ? undefined : { subject });
      return [];
    }
    const before = known(graph, subjectKey, 'seen_network', t);
    // Bounded: a role whose exchanges came from this many networks has no baseline worth keeping.
    if (before.length >= ctx.config.maxNetworksPerPrincipal) return [];
    rememberNetwork(event, ctx, graph, subjectKey, net, subject === undefined ? undefined : { subject });
    if (net.private || t - start < ctx.config.baselineLearningMs || before.length === 0) return [];
    if (net.aws === true && before.some((e) => e.fact.attributes.aws === true)) return [];
    if (hostedRunners(issuer, net, ctx.config)) return [];
    const was = before
      .slice(0, 5)
      .map((e) => `${String(e.fact.attributes.label ?? e.fact.to)}${e.fact.attributes.subject === undefined ? '' : ` (${String(e.fact.attributes.subject)})`}`)
      .join(', ');
    const key = str(obj(re?.credentials)?.accessKeyId);
    return [
      nativeAlert(this, {
        events: [event],
        summary: `${subject ?? 'A workload'} exchanged its ${issuer} token for ${role} from ${ip} (${net.label}${net.aws === true ? ', AWS' : ''}), a network no exchange for this role and issuer came from; known: ${was}${before.length > 5 ? ', …' : ''}${key === undefined ? '' : `; issued key ${key}`}`,
        principal: ctx.resolution.principal ?? event.seam.principal,
        account: event.seam.account,
      }),
    ];
  },
};
