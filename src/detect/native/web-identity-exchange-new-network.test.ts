import { describe, expect, it } from 'vitest';
import { ACCOUNT } from '../../../test/identity/records.ts';
import { cloudTrailEvent, eventIds, runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { createNativeEngine } from './engine.ts';

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
    expect(s).toContain('AS8075 Microsoft Corporation');
    expect(s).toContain('AS3320 Deutsche Telekom AG (repo:acme/payments:environment:production)');
    expect(s).toContain(`arn:aws:iam::${ACCOUNT}:role/gha-deploy`);
    expect(s).toContain(GH);
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

  it('stays quiet: runners of the same networks (other Azure addresses, another Amazon AS), the learning day, another role’s own baseline', () => {
    const ec2 = { role: 'ec2-runners' };
    const quiet = [
      ...learningDay(),
      // GitHub-hosted runners from Azure addresses in /16s never seen: one AS.
      exchange(29, AZURE[3]!),
      exchange(30, AZURE[4]!, { subject: 'repo:acme/ledger:ref:refs/heads/main' }),
      exchange(31, OFFICE),
      // Self-hosted runners on EC2 in two regions: Amazon's networks count as one.
      exchange(1, EC2_WEST, ec2),
      exchange(30, EC2_EAST, ec2),
      // A role first seen on day 2 is learning then, from anywhere.
      exchange(30, OFFICE, { role: 'gha-docs' }),
      exchange(31, THIEF, { role: 'gha-docs' }),
    ];
    expect(runNative(ID, quiet)).toEqual([]);
    // Within the learning day a new network is learned, not reported.
    expect(runNative(ID, [exchange(1, AZURE[0]!), exchange(20, THIEF), exchange(30, THIEF)])).toEqual([]);
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

  it('does not report the issuer’s hosted-runner networks (webIdentityHostedRunners), unless told to', () => {
    // A workflow that ran on the office runner moves to GitHub-hosted runners; a GitLab.com job lands on Google Cloud.
    const moved = [exchange(1, OFFICE), exchange(30, AZURE[0]!)];
    const gl = { issuer: 'gitlab.com', role: 'gitlab-deploy', subject: 'project_path:acme/infra:ref_type:branch:ref:main' };
    const toGcp = [exchange(1, OFFICE, gl), exchange(30, GCP, gl)];
    expect(runNative(ID, [...moved, ...toGcp])).toEqual([]);
    const told = runNative(ID, [...moved, ...toGcp], { config: { webIdentityHostedRunners: [] } });
    expect(told.map((a) => a.events)).toEqual([[moved[1]!.seam.id], [toGcp[1]!.seam.id]]);
    expect(told[1]!.summary).toContain('AS396982 Google LLC');
    // Only the issuer's own entry counts: GitLab.com's networks are not GitHub's.
    expect(runNative(ID, [exchange(1, OFFICE), exchange(30, GCP)], { config: { webIdentityHostedRunners: [{ issuer: 'gitlab.com', asns: [396982] }] } })).toHaveLength(1);
    // Another issuer's runners: not GitHub's, so Azure is a new network for it.
    const tfc = { issuer: 'app.terraform.io', role: 'tfc-apply', subject: 'organization:acme:project:infra:workspace:prod:run_phase:apply' };
    expect(runNative(ID, [exchange(1, EC2_WEST, tfc), exchange(30, AZURE[0]!, tfc)])).toHaveLength(1);
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
