import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNT } from '../../../test/identity/records.ts';
import { cloudTrailEvent, eventIds, runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import type { IdentityGraphOptions } from '../../identity/config.ts';
import { createNativeEngine } from './engine.ts';
import { MAX_AWS_PREFIXES } from './web-identity-exchange-new-network.ts';

// sts:AssumeRoleWithWebIdentity as CloudTrail records it (a WebIdentityUser named by the token's subject; the role in
// requestParameters; provider, audience, subjectFromWebIdentityToken and the issued key in responseElements), over two
// days: the first is the role's learning period (24 h from its first exchange).
const ID = 'seam-native-web-identity-exchange-new-network';
const H = 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString().replace(/\.\d+Z$/, 'Z');
const ids = eventIds('5e0d');
const GH = 'token.actions.githubusercontent.com';
const GITLAB_SELF = 'gitlab.acme.example';
const EKS = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const PULUMI = 'api.pulumi.com/oidc';
const AZURE = ['20.57.10.20', '40.84.170.5', '4.148.0.5', '172.183.10.1', '52.154.10.1']; // AS8075, five /16s: GitHub-hosted runners
const OFFICE = '62.226.10.1'; // AS3320: a self-hosted runner's egress
const THIEF = '185.220.101.1'; // AS60729
const EC2_WEST = '54.210.1.1'; // AS16509
const EC2_EAST = '3.80.0.1'; // AS14618, Amazon too
const GCP = '34.74.90.64'; // AS396982
const GOOGLE = '64.233.160.5'; // AS15169
const DAY = 24;
/** Hand-written made-up AWS ranges (aws-ranges.test.ts): 3.5.0.0/16 and 3.80.0.0/16 us-east-1, 3.121.0.0/16 eu-central-1. */
const RANGES = join(import.meta.dirname, '../../../test/data/aws-ip-ranges/ip-ranges.json');
const MAIN = 'repo:acme/payments:ref:refs/heads/main';
let k = 0;

function exchange(hours: number, ip: string, o: { issuer?: string; role?: string; subject?: string; errorCode?: string } = {}): SeamEvent {
  const issuer = o.issuer ?? GH;
  const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`;
  const subject = o.subject ?? MAIN;
  const role = o.role ?? 'gha-deploy';
  const key = `ASIAEXAMPLEOIDC${String(++k).padStart(5, '0')}`;
  return cloudTrailEvent(
    {
      userIdentity: { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider },
      eventTime: at(hours),
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRoleWithWebIdentity',
      awsRegion: 'us-east-1',
      sourceIPAddress: ip,
      userAgent: 'aws-sdk-nodejs/2.1692.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise',
      readOnly: true,
      recipientAccountId: ACCOUNT,
      requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/ci/${role}`, roleSessionName: 'GitHubActions', durationSeconds: 3600 },
      ...(o.errorCode === undefined
        ? {
            responseElements: {
              credentials: { accessKeyId: key, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE', expiration: 'Nov 2, 2026, 3:20:00 PM' },
              subjectFromWebIdentityToken: subject,
              assumedRoleUser: { assumedRoleId: 'AROAEXAMPLEGHADEPLOY1:GitHubActions', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/GitHubActions` },
              provider,
              audience: 'sts.amazonaws.com',
            },
          }
        : { errorCode: o.errorCode, errorMessage: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' }),
    },
    ids,
  );
}

/** Day 1: a GitHub Actions role's jobs on GitHub-hosted runners (many Azure addresses) and one from the office runner. */
const learningDay = (): SeamEvent[] => [
  exchange(1, AZURE[0]!),
  exchange(2, AZURE[1]!, { subject: 'repo:acme/payments:pull_request' }),
  exchange(3, OFFICE, { subject: 'repo:acme/payments:environment:production' }),
  exchange(5, AZURE[2]!),
];

describe('CI pipeline OIDC token exchanged from a network new to the role', () => {
  it('fires (medium) for an exchange from another network after learning, naming the subject and both networks', () => {
    const theft = exchange(30, THIEF, { subject: 'repo:acme/payments:ref:refs/heads/feature-x' });
    const alerts = runNative(ID, [...learningDay(), exchange(29, AZURE[3]!), theft]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.events).toEqual([theft.seam.id]);
    const s = alerts[0]!.summary;
    expect(s).toContain('repo:acme/payments:ref:refs/heads/feature-x');
    expect(s).toContain(`${THIEF} (AS60729`);
    expect(s).toContain('a network no exchange for this role and issuer came from since the first one seen (2026-11-02)');
    expect(s).toContain('AS8075 Microsoft Corporation');
    expect(s).toContain('AS3320 Deutsche Telekom AG (repo:acme/payments:environment:production)');
    expect(s).toContain(`arn:aws:iam::${ACCOUNT}:role/gha-deploy`);
    expect(s).toContain(GH);
    expect(s).not.toContain('hosted runners?');
    // The triage text names the subject, role, address, the known networks and the issued key, not field paths.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`repo:acme/payments:ref:refs/heads/feature-x exchanged its token.actions.githubusercontent.com token for role/gha-deploy from ${THIEF} (AS60729`);
    expect(tr).toContain('that role’s exchanges came from AS8075 Microsoft Corporation, AS3320 Deutsche Telekom AG');
    expect(tr).toContain('Did a job of repo:acme/payments:ref:refs/heads/feature-x run then');
    expect(tr).toMatch(/list what ASIA\w+ did, deny role\/gha-deploy’s sessions issued before now/);
    expect(tr).not.toMatch(/subjectFromWebIdentityToken|responseElements|requestParameters/);
    // Once per network: the thief's next exchanges from there are known.
    expect(runNative(ID, [...learningDay(), theft, exchange(31, '185.220.101.9'), exchange(32, THIEF)])).toHaveLength(1);
  });

  it('fires for a self-hosted GitLab runner’s role exchanged from elsewhere, and for the first exchange from the Internet of a role that only came through a VPC endpoint', () => {
    const gl = { issuer: GITLAB_SELF, role: 'gitlab-deploy', subject: 'project_path:platform/infra:ref_type:branch:ref:main' };
    expect(runNative(ID, [exchange(1, OFFICE, gl), exchange(20, OFFICE, gl), exchange(30, THIEF, gl)]).map((a) => a.rule.id)).toEqual([ID]);
    const vpc = { role: 'runner-in-vpc' };
    const alerts = runNative(ID, [exchange(1, '10.20.0.15', vpc), exchange(2, '10.20.3.9', vpc), exchange(30, '10.20.0.15', vpc), exchange(31, THIEF, vpc)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('known: private address');
  });

  it('keys the role regardless of case: a role ARN in another case is the same role, not a new one still learning', () => {
    // IAM role names are unique regardless of case ("you cannot create resources named both MyResource and myresource").
    const recased = exchange(30, THIEF, { role: 'GHA-Deploy' });
    const alerts = runNative(ID, [...learningDay(), recased]);
    expect(alerts.map((a) => a.events)).toEqual([[recased.seam.id]]);
    expect(alerts[0]!.summary).toContain(`arn:aws:iam::${ACCOUNT}:role/GHA-Deploy`);
    // Its known networks are the role's: another case from the office is quiet.
    expect(runNative(ID, [...learningDay(), exchange(30, OFFICE, { role: 'Gha-Deploy' }), exchange(31, AZURE[4]!, { role: 'GHA-DEPLOY' })])).toEqual([]);
  });

  it('stays quiet: runners of the same networks (other Azure addresses, another address of an AWS /16), the learning day, another role’s own baseline', () => {
    const ec2 = { role: 'ec2-runners' };
    const quiet = [
      ...learningDay(),
      // GitHub-hosted runners from Azure addresses in /16s never seen: one AS.
      exchange(29, AZURE[3]!),
      exchange(30, AZURE[4]!, { subject: 'repo:acme/ledger:ref:refs/heads/main' }),
      exchange(31, OFFICE),
      // Self-hosted runners on EC2: another address of the same /16.
      exchange(1, EC2_WEST, ec2),
      exchange(30, '54.210.200.7', ec2),
      // A role first seen on day 2 is learning then, from anywhere.
      exchange(30, OFFICE, { role: 'gha-docs' }),
      exchange(31, THIEF, { role: 'gha-docs' }),
    ];
    expect(runNative(ID, quiet)).toEqual([]);
    // Within the learning day a new network is learned, not reported.
    expect(runNative(ID, [exchange(1, AZURE[0]!), exchange(20, THIEF), exchange(30, THIEF)])).toEqual([]);
  });

  it('AWS by /16: a /16 new to a role whose runners are on EC2 is low; an exchange from AWS for a role that never exchanged from AWS is medium', () => {
    const ec2 = { role: 'ec2-runners' };
    const other = exchange(30, EC2_EAST, ec2);
    const low = runNative(ID, [exchange(1, EC2_WEST, ec2), exchange(5, EC2_WEST, ec2), exchange(28, EC2_WEST, ec2), other]);
    expect(low.map((a) => [a.events, a.rule.level])).toEqual([[[other.seam.id], 'low']]);
    expect(low[0]!.summary).toContain('from 3.80.0.1 (3.80.0.0/16 in AS14618 Amazon.com, Inc.)');
    expect(low[0]!.summary).toContain('an AWS /16 new to the role');
    expect(low[0]!.summary).toContain('known: 54.210.0.0/16 in AS16509 Amazon.com, Inc.');
    // A role whose runners are in the office: an exchange from any AWS address is a new network, medium.
    const fromAws = runNative(ID, [exchange(1, OFFICE, ec2), exchange(28, OFFICE, ec2), exchange(30, EC2_WEST, ec2)]);
    expect(fromAws.map((a) => a.rule.level)).toEqual(['medium']);
  });

  it('AWS by region with AWS’s ranges (native.awsIpRangesFile): another /16 of the runners’ region is known; a region new to the role is medium', () => {
    const ec2 = { role: 'ec2-runners' };
    const config = { awsIpRangesFile: RANGES };
    const sameRegion = exchange(30, '3.80.0.1', ec2); // us-east-1 in the fixture, another /16
    const otherRegion = exchange(31, '3.121.0.9', ec2); // eu-central-1
    const learned = [exchange(1, '3.5.1.1', ec2), exchange(5, '3.5.40.2', ec2), exchange(28, '3.5.1.1', ec2)];
    const alerts = runNative(ID, [...learned, sameRegion, otherRegion], { config });
    expect(alerts.map((a) => [a.events, a.rule.level])).toEqual([[[otherRegion.seam.id], 'medium']]);
    expect(alerts[0]!.summary).toContain('from 3.121.0.9 (AWS eu-central-1 (EC2))');
    expect(alerts[0]!.summary).toContain('known: AWS us-east-1 (EC2)');
    // Without the file the same exchanges are judged by /16: the other /16 is low, as before.
    expect(runNative(ID, [...learned, sameRegion]).map((a) => a.rule.level)).toEqual(['low']);
    // A role learned by /16s before the file was given: its first region is learned, the next one reported.
    const g = new IdentityGraph();
    expect(runNative(ID, learned, { graph: g })).toEqual([]);
    const after = runNative(ID, [sameRegion, otherRegion], { config, graph: g });
    expect(after.map((a) => [a.events, a.rule.level])).toEqual([[[otherRegion.seam.id], 'medium']]);
  });

  it('AWS: an exchange from a cluster’s egress (runners in the cluster) is learned, not reported; its neighbour in the /16 is', () => {
    const ec2 = { role: 'ec2-runners' };
    const NAT = '44.230.10.1';
    const irsa = exchange(2, NAT, { issuer: EKS, role: 'payments-api-irsa', subject: 'system:serviceaccount:payments:api' });
    const graph = (): IdentityGraphOptions => ({ clusters: [{ name: 'prod', account: ACCOUNT, oidcIssuer: `https://${EKS}` }] });
    const day1 = [exchange(1, EC2_WEST, ec2), irsa, exchange(20, EC2_WEST, ec2)];
    // Learned egress: the cluster's IRSA exchanges came from its NAT gateway.
    expect(runNative(ID, [...day1, exchange(30, NAT, ec2)], { graph: graph() })).toEqual([]);
    expect(runNative(ID, [...day1, exchange(30, '44.230.10.2', ec2)], { graph: graph() }).map((a) => a.rule.level)).toEqual(['low']);
    // Configured egress (egressCidrs), and outside AWS: a runner pool behind the cluster's own on-premises proxy.
    const configured: IdentityGraphOptions = { clusters: [{ name: 'prod', account: ACCOUNT, egressCidrs: ['3.80.0.0/24', '185.220.101.0/28'] }] };
    expect(runNative(ID, [exchange(1, EC2_WEST, ec2), exchange(20, EC2_WEST, ec2), exchange(30, EC2_EAST, ec2), exchange(31, THIEF, ec2)], { graph: configured })).toEqual([]);
    // Another account's cluster is not this role's: its egress counts for its own account only.
    const elsewhere: IdentityGraphOptions = { clusters: [{ name: 'prod', account: '999988887777', egressCidrs: ['3.80.0.0/24'] }] };
    expect(runNative(ID, [exchange(1, EC2_WEST, ec2), exchange(20, EC2_WEST, ec2), exchange(30, EC2_EAST, ec2)], { graph: elsewhere })).toHaveLength(1);
  });

  it(`AWS: after ${MAX_AWS_PREFIXES} /16s of a role’s exchanges, Amazon’s networks count as one for it; for the network cap they always count as one`, () => {
    const fleet = { role: 'spot-runners' };
    const prefixes = (n: number): SeamEvent[] => Array.from({ length: n }, (_, i) => exchange(1 + i / 10, `3.${80 + i}.7.7`, fleet));
    expect(runNative(ID, [...prefixes(MAX_AWS_PREFIXES), exchange(30, '18.204.1.1', fleet)])).toEqual([]);
    expect(runNative(ID, [...prefixes(MAX_AWS_PREFIXES - 1), exchange(30, '18.204.1.1', fleet)]).map((a) => a.rule.level)).toEqual(['low']);
    // Two AWS /16s and the office are two networks: with a cap of three, a third is still judged.
    const events = [exchange(1, EC2_WEST, fleet), exchange(2, EC2_EAST, fleet), exchange(3, OFFICE, fleet), exchange(30, THIEF, fleet)];
    expect(runNative(ID, events, { config: { maxNetworksPerPrincipal: 3 } }).map((a) => a.rule.level)).toEqual(['medium']);
    expect(runNative(ID, events, { config: { maxNetworksPerPrincipal: 2 } })).toEqual([]);
  });

  it('remembers a role’s networks for webIdentityNetworkMemoryMs: a monthly release from the office runner beside daily hosted-runner jobs is known', () => {
    const evs: SeamEvent[] = [];
    for (let d = 0; d < 100; d++) evs.push(exchange(d * DAY + 1, AZURE[d % 5]!));
    const release = (d: number, tag: string): SeamEvent => exchange(d * DAY + 2, OFFICE, { subject: `repo:acme/payments:ref:refs/tags/${tag}` });
    const timeline = [...evs, release(0, 'v1'), release(35, 'v2'), release(70, 'v3')].sort((a, b) => Date.parse(String(a['@timestamp'])) - Date.parse(String(b['@timestamp'])));
    expect(runNative(ID, timeline)).toEqual([]);
    // Kept only 30 days (the shared baselineMemoryMs), each release is new again, and the text says what is known.
    const short = runNative(ID, timeline, { config: { webIdentityNetworkMemoryMs: 30 * DAY * H } });
    expect(short.map((a) => a.events)).toEqual([[timeline.find((e) => e.seam.source_ip === OFFICE && e['@timestamp'] > at(35 * DAY))!.seam.id], [timeline.find((e) => e.seam.source_ip === OFFICE && e['@timestamp'] > at(70 * DAY))!.seam.id]]);
    expect(short[0]!.summary).toContain('a network no exchange for this role and issuer came from in the last 15 days');
    expect(short[0]!.summary).not.toContain('since the first one seen');
  });

  it('leaves out EKS service-account tokens, credential brokers, failed exchanges and runs without the ASN database', () => {
    const irsa = { issuer: EKS, role: 'payments-api-irsa', subject: 'system:serviceaccount:payments:api' };
    expect(runNative(ID, [exchange(1, '44.230.10.1', irsa), exchange(30, THIEF, irsa)])).toEqual([]);
    const broker = { issuer: PULUMI, role: 'pulumi-esc', subject: 'pulumi:environments:org:acme:env:prod' };
    expect(runNative(ID, [exchange(1, '44.230.10.1', broker), exchange(30, THIEF, broker)])).toEqual([]);
    const refused = exchange(30, THIEF, { errorCode: 'AccessDenied' });
    expect(runNative(ID, [...learningDay(), refused])).toEqual([]);
    // The refused exchange taught nothing: a successful one from that network after it still alerts.
    expect(runNative(ID, [...learningDay(), refused, exchange(30.5, THIEF)])).toHaveLength(1);
    expect(runNative(ID, [...learningDay(), exchange(30, THIEF)], { config: { asnDatabase: false } })).toEqual([]);
  });

  it('knows the issuer’s hosted-runner networks (webIdentityHostedRunners) for a role that uses them; for one that never did they are medium, with a hint', () => {
    // A role only ever exchanged from the office runner: a thief exchanging from their own GitHub-hosted runner or a
    // Codespace (Azure, AS8075) is reported, and so is a workflow moved to GitHub-hosted runners (once: then known).
    const selfHosted = [exchange(1, OFFICE), exchange(5, OFFICE), exchange(20, OFFICE), exchange(28, OFFICE)];
    const moved = exchange(30, AZURE[0]!);
    const alerts = runNative(ID, [...selfHosted, moved, exchange(31, AZURE[2]!), exchange(32, AZURE[4]!)]);
    expect(alerts.map((a) => [a.events, a.rule.level])).toEqual([[[moved.seam.id], 'medium']]);
    expect(alerts[0]!.summary).toContain('one of token.actions.githubusercontent.com’s hosted-runner networks, and no exchange for this role came from one: moved to hosted runners?');
    expect(alerts[0]!.triage).toContain('Did its workflow move to token.actions.githubusercontent.com’s hosted runners (runs-on changed)?');
    // GitLab.com: a project moved from the office runner to GitLab's hosted runners (Google Cloud, AS396982).
    const gl = { issuer: 'gitlab.com', role: 'gitlab-deploy', subject: 'project_path:acme/infra:ref_type:branch:ref:main' };
    const toGcp = [exchange(1, OFFICE, gl), exchange(30, GCP, gl)];
    expect(runNative(ID, toGcp).map((a) => a.summary.includes('moved to hosted runners?'))).toEqual([true]);
    // A role on GitLab's hosted runners: another Google Cloud address is known; Google's own AS15169 (Apps Script's
    // fetches, not Compute Engine) is not one of them by default.
    expect(runNative(ID, [exchange(1, GCP, gl), exchange(30, '35.231.4.4', gl)])).toEqual([]);
    expect(runNative(ID, [exchange(1, GCP, gl), exchange(30, GOOGLE, gl)]).map((a) => [a.rule.level, a.summary.includes('hosted runners?')])).toEqual([['medium', false]]);
    // [] judges them like any network: no hint.
    const told = runNative(ID, [...selfHosted, moved], { config: { webIdentityHostedRunners: [] } });
    expect(told.map((a) => a.summary.includes('hosted runners?'))).toEqual([false]);
    // Only the issuer's own entry counts: Google Cloud is not GitHub's hosted runners' network.
    expect(runNative(ID, [exchange(1, AZURE[0]!), exchange(2, OFFICE), exchange(30, GCP)], { config: { webIdentityHostedRunners: [{ issuer: 'gitlab.com', asns: [396982, 8075] }] } })).toHaveLength(1);
    // Another issuer's runners: not GitHub's, so Azure is a new network for it, without the hint.
    const tfc = { issuer: 'app.terraform.io', role: 'tfc-apply', subject: 'organization:acme:project:infra:workspace:prod:run_phase:apply' };
    expect(runNative(ID, [exchange(1, OFFICE, tfc), exchange(30, AZURE[0]!, tfc)]).map((a) => a.summary.includes('hosted runners?'))).toEqual([false]);
  });

  it('stops judging (and learning for) a role whose exchanges came from maxNetworksPerPrincipal networks', () => {
    const events = [exchange(1, AZURE[0]!), exchange(2, OFFICE), exchange(30, THIEF), exchange(31, GCP)];
    expect(runNative(ID, events, { config: { maxNetworksPerPrincipal: 2 } })).toEqual([]);
    expect(runNative(ID, events, { config: { maxNetworksPerPrincipal: 3 } })).toHaveLength(1);
  });

  it('keeps the role’s networks and learning period across a restart (identity facts rebuilt from seam.identity)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    for (const e of learningDay()) expect(first.process(e)).toEqual([]);
    const role = `oidc_role:${GH}|arn:aws:iam::${ACCOUNT}:role/gha-deploy`;
    expect(published.filter((f) => f.kind === 'seen_network').map((f) => `${f.from} ${f.to}`).sort()).toEqual([`${role} net:AS3320`, `${role} net:AS8075`]);
    expect(published.filter((f) => f.kind === 'baseline_start').map((f) => f.from)).toEqual([role]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const day2 = [exchange(30, AZURE[4]!), exchange(31, OFFICE), exchange(32, THIEF)];
    expect(runNative(ID, day2, { graph: g }).map((a) => a.events)).toEqual([[day2[2]!.seam.id]]);
    // Without the facts the role would be new again: learning, silent.
    expect(runNative(ID, day2)).toEqual([]);
  });
});
