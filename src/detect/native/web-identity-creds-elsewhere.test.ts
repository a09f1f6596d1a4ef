import { describe, expect, it } from 'vitest';
import { ACCOUNT, ev, t } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { createNativeEngine } from './engine.ts';

// A GitHub Actions job trading its OIDC token for a deploy role's credentials (the exchange as CloudTrail records
// sts:AssumeRoleWithWebIdentity, the key in responseElements.credentials), its own calls from the runner, then
// the same key used from a host elsewhere after a workflow step leaked the job's environment.
const id = 'seam-native-web-identity-creds-elsewhere';
const RUNNER = '20.57.10.20'; // AS8075, where GitHub-hosted runners run
const RUNNER_2 = '40.84.170.5'; // AS8075 as well: another runner of the same provider
const ATTACKER = '185.220.101.1'; // AS60729
const EC2_ELSEWHERE = '52.94.133.131'; // AS16509
const ROLE = 'gha-deploy';
const GH = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const EKS = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
const TF = 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3 Terraform/1.9.5 terraform-provider-aws/5.62.0';
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard';
let n = 0;
const ids = (): string => `6c1f${String(++n).padStart(4, '0')}-0b7a-4d5e-9f10-${String(n).padStart(12, '0')}`;

function exchange(time: string, ip: string, key: string, o: { provider?: string; subject?: string; durationSeconds?: number; errorCode?: string } = {}): SeamEvent {
  const provider = o.provider ?? GH;
  const subject = o.subject ?? 'repo:acme/payments:ref:refs/heads/main';
  return ev(
    {
      eventVersion: '1.08',
      userIdentity: { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider },
      eventTime: time,
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRoleWithWebIdentity',
      awsRegion: 'us-east-1',
      sourceIPAddress: ip,
      userAgent: 'aws-sdk-nodejs/2.1692.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise',
      requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, roleSessionName: 'GitHubActions', ...(o.durationSeconds === undefined ? {} : { durationSeconds: o.durationSeconds }) },
      responseElements:
        o.errorCode !== undefined
          ? null
          : {
              credentials: { accessKeyId: key, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE', expiration: 'Nov 5, 2024, 3:20:00 PM' },
              subjectFromWebIdentityToken: subject,
              assumedRoleUser: { assumedRoleId: 'AROAEXAMPLEGHADEPLOY1:GitHubActions', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/GitHubActions` },
              provider,
              audience: 'sts.amazonaws.com',
            },
      ...(o.errorCode === undefined ? {} : { errorCode: o.errorCode, errorMessage: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' }),
      requestID: ids(),
      eventID: ids(),
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
    },
    undefined,
  );
}

function use(time: string, ip: string, key: string, name = 'GetObject', source = 's3.amazonaws.com', ua = TF, extra: Record<string, unknown> = {}): SeamEvent {
  return ev(
    {
      eventVersion: '1.10',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLEGHADEPLOY1:GitHubActions',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/GitHubActions`,
        accountId: ACCOUNT,
        accessKeyId: key,
        sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLEGHADEPLOY1', arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, accountId: ACCOUNT, userName: ROLE }, attributes: { creationDate: time, mfaAuthenticated: 'false' } },
      },
      eventTime: time,
      eventSource: source,
      eventName: name,
      awsRegion: 'us-west-2',
      sourceIPAddress: ip,
      userAgent: ua,
      requestParameters: null,
      responseElements: null,
      requestID: ids(),
      eventID: ids(),
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      ...extra,
    },
    undefined,
  );
}

describe('CI pipeline or federated workload credentials used from another network', () => {
  it('fires (high) when a GitHub Actions job’s key is used from another autonomous system, once per key and network', () => {
    const K = 'ASIAEXAMPLEGHAJOB0001';
    const leak = [use(t('14:06:00'), ATTACKER, K, 'GetCallerIdentity', 'sts.amazonaws.com', CLI), use(t('14:06:30'), ATTACKER, K, 'ListBuckets', 's3.amazonaws.com', CLI)];
    const alerts = runNative(id, [exchange(t('14:00:00'), RUNNER, K), use(t('14:00:20'), RUNNER, K), use(t('14:01:00'), RUNNER, K, 'DescribeCluster', 'eks.amazonaws.com'), ...leak, use(t('14:07:00'), EC2_ELSEWHERE, K, 'ListSecrets', 'secretsmanager.amazonaws.com', CLI)]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high', 'high']);
    expect(alerts[0]!.events).toEqual([leak[0]!.seam.id]);
    expect(alerts[0]!.summary).toContain('repo:acme/payments:ref:refs/heads/main');
    expect(alerts[0]!.summary).toContain('token.actions.githubusercontent.com');
    expect(alerts[0]!.summary).toContain(RUNNER);
    expect(alerts[0]!.summary).toContain(ATTACKER);
    expect(alerts[1]!.summary).toContain('AWS');
    // The triage text names the pipeline, role, key, both addresses and the exchange's time, not field paths.
    expect(alerts[0]!.triage).toContain(`repo:acme/payments:ref:refs/heads/main got ${K} for role/${ROLE} from token.actions.githubusercontent.com at ${RUNNER} (`);
    expect(alerts[0]!.triage).toContain(`at 2024-11-05T14:00:00.000Z; ${ATTACKER} (`);
    expect(alerts[0]!.triage).toContain(`then called sts.amazonaws.com:GetCallerIdentity with it.`);
    expect(alerts[0]!.triage).toContain(`list what ${ATTACKER} did with ${K}.`);
    expect(alerts[0]!.triage).toContain(`Deny role/${ROLE}’s sessions issued before now`);
    expect(alerts[1]!.triage).toContain(`${EC2_ELSEWHERE} (`);
    for (const a of alerts) expect(a.triage).not.toMatch(/subjectFromWebIdentityToken|responseElements|userIdentity/);
  });

  it('stays quiet: the runner’s own calls (another address of the same provider too), a VPC endpoint, an AWS service acting with the session, other keys', () => {
    const K = 'ASIAEXAMPLEGHAJOB0002';
    const quiet = [
      exchange(t('14:00:00'), RUNNER, K),
      use(t('14:00:20'), RUNNER, K),
      use(t('14:00:40'), RUNNER_2, K, 'PutObject'),
      use(t('14:01:00'), '10.0.4.17', K, 'GetObject', 's3.amazonaws.com', TF, { vpcEndpointId: 'vpce-0a1b2c3d' }),
      use(t('14:01:10'), 'cloudformation.amazonaws.com', K, 'CreateBucket', 's3.amazonaws.com', 'cloudformation.amazonaws.com'),
      // A key this detection never saw issued, from anywhere.
      use(t('14:02:00'), ATTACKER, 'ASIAEXAMPLEOTHERKEY01', 'ListBuckets', 's3.amazonaws.com', CLI),
    ];
    expect(runNative(id, quiet)).toEqual([]);
  });

  it('leaves out EKS service-account exchanges, refused exchanges, exchanges from private addresses, expired credentials and runs without the ASN database', () => {
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLEIRSA00001', { provider: EKS, subject: 'system:serviceaccount:payments:api' }), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEIRSA00001')])).toEqual([]);
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLEDENIED001', { errorCode: 'AccessDenied' }), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEDENIED001')])).toEqual([]);
    expect(runNative(id, [exchange(t('14:00:00'), '10.20.0.15', 'ASIAEXAMPLEPRIVATE01'), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEPRIVATE01')])).toEqual([]);
    // 900 s sessions: 20 minutes later the key is dead (AWS refuses it), and anything named so is not this job's (alive at the 3600 s default).
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLESHORT0001', { durationSeconds: 900 }), use(t('14:20:00'), ATTACKER, 'ASIAEXAMPLESHORT0001')])).toEqual([]);
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLESHORT0001'), use(t('14:20:00'), ATTACKER, 'ASIAEXAMPLESHORT0001')])).toHaveLength(1);
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLENODB00001'), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLENODB00001')], { config: { asnDatabase: false } })).toEqual([]);
    // Within its lifetime the same key alerts (the case above is not quiet for another reason).
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLESHORT0001', { durationSeconds: 900 }), use(t('14:10:00'), ATTACKER, 'ASIAEXAMPLESHORT0001')])).toHaveLength(1);
  });

  it('leaves out presigned-URL requests (a link the job posted, opened from home), not header-signed calls from the same network', () => {
    const K = 'ASIAEXAMPLEPRESIGN01';
    const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
    const data = (method: string): Record<string, unknown> => ({ eventCategory: 'Data', managementEvent: false, additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: method } });
    const opened = use(t('14:20:00'), ATTACKER, K, 'GetObject', 's3.amazonaws.com', BROWSER, data('QueryString'));
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, K), opened])).toEqual([]);
    // Near miss: the key itself signing a request from that network fires.
    const signed = use(t('14:21:00'), ATTACKER, K, 'GetObject', 's3.amazonaws.com', CLI, data('AuthHeader'));
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, K), opened, signed]).map((a) => a.events)).toEqual([[signed.seam.id]]);
  });

  it('follows role chaining: a key the job got with sts:AssumeRole inherits the exchange’s origin (until it expires)', () => {
    const K = 'ASIAEXAMPLECHAIN0001';
    const K2 = 'ASIAEXAMPLECHAIN0002';
    const chain = (time: string, signer: string, issued: string, ip = RUNNER): SeamEvent =>
      use(time, ip, signer, 'AssumeRole', 'sts.amazonaws.com', TF, {
        requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`, roleSessionName: 'deploy' },
        responseElements: { credentials: { accessKeyId: issued, expiration: 'x' }, assumedRoleUser: { assumedRoleId: 'AROAEXAMPLEDEPLOYER1:deploy', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/deploy` } },
      });
    const leaked = use(t('14:10:00'), ATTACKER, K2, 'ListBuckets', 's3.amazonaws.com', CLI);
    const alerts = runNative(id, [exchange(t('14:00:00'), RUNNER, K), chain(t('14:01:00'), K, K2), use(t('14:02:00'), RUNNER, K2), leaked]);
    expect(alerts.map((a) => a.events)).toEqual([[leaked.seam.id]]);
    expect(alerts[0]!.summary).toContain(K2);
    expect(alerts[0]!.summary).toContain(RUNNER);
    expect(alerts[0]!.triage).toContain(`repo:acme/payments:ref:refs/heads/main got ${K2} for role/deployer from token.actions.githubusercontent.com at ${RUNNER}`);
    expect(alerts[0]!.triage).toContain(`(chained from ${K}); ${ATTACKER}`);
    // Near misses: a chain signed by a key with no origin; the chained key after its hour.
    expect(runNative(id, [chain(t('14:01:00'), 'ASIAEXAMPLENOORIGIN1', 'ASIAEXAMPLECHAIN0003'), use(t('14:10:00'), ATTACKER, 'ASIAEXAMPLECHAIN0003', 'ListBuckets', 's3.amazonaws.com', CLI)])).toEqual([]);
    const engineFacts: IdentityFact[] = [];
    const e = createNativeEngine({ only: [id], onFacts: (fs) => engineFacts.push(...fs) });
    e.process(exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLECHAIN0004', { durationSeconds: 4 * 3600 }));
    e.process(chain(t('14:01:00'), 'ASIAEXAMPLECHAIN0004', 'ASIAEXAMPLECHAIN0005'));
    expect(e.process(use(t('15:01:00'), ATTACKER, 'ASIAEXAMPLECHAIN0005', 'ListBuckets', 's3.amazonaws.com', CLI))).toEqual([]);
    expect(engineFacts.filter((f) => f.kind === 'web_identity_origin').map((f) => [f.from, f.valid_to, f.attributes.via])).toEqual([
      ['akid:ASIAEXAMPLECHAIN0004', '2024-11-05T18:00:00.000Z', undefined],
      ['akid:ASIAEXAMPLECHAIN0005', '2024-11-05T15:01:00.000Z', 'ASIAEXAMPLECHAIN0004'],
    ]);
  });

  it('judges uses that arrive before their exchange (another region’s CloudTrail file) when the exchange is learned', () => {
    const K = 'ASIAEXAMPLELATE00001';
    const early = use(t('14:05:00'), ATTACKER, K, 'ListBuckets', 's3.amazonaws.com', CLI);
    const ex = exchange(t('14:00:00'), RUNNER, K);
    const alerts = runNative(id, [use(t('14:04:00'), RUNNER, K), early, use(t('14:05:30'), ATTACKER, K), ex]);
    expect(alerts.map((a) => a.events)).toEqual([[ex.seam.id, early.seam.id]]);
    expect(alerts[0]!.summary).toContain('before the exchange arrived');
    expect(alerts[0]!.summary).toContain(ATTACKER);
    expect(alerts[0]!.triage).toContain(`got ${K} for role/${ROLE} from token.actions.githubusercontent.com at ${RUNNER}`);
    expect(alerts[0]!.triage).toContain(`at 2024-11-05T14:00:00.000Z; ${ATTACKER}`);
    // Near misses: only the runner's own calls; a sighting more than 30 min after the exchange; one before it; a VPC endpoint.
    const K2 = 'ASIAEXAMPLELATE00002';
    expect(runNative(id, [use(t('14:05:00'), RUNNER_2, K2), exchange(t('14:00:00'), RUNNER, K2)])).toEqual([]);
    expect(runNative(id, [use(t('14:31:00'), ATTACKER, K2), exchange(t('14:00:00'), RUNNER, K2)])).toEqual([]);
    expect(runNative(id, [use(t('13:59:00'), ATTACKER, K2), exchange(t('14:00:00'), RUNNER, K2)])).toEqual([]);
    expect(runNative(id, [use(t('14:05:00'), '10.0.4.17', K2, 'GetObject', 's3.amazonaws.com', TF, { vpcEndpointId: 'vpce-0a1b2c3d' }), exchange(t('14:00:00'), RUNNER, K2)])).toEqual([]);
    // Once judged, later uses from that network do not alert again.
    expect(runNative(id, [early, ex, use(t('14:06:00'), ATTACKER, K)]).map((a) => a.events)).toEqual([[ex.seam.id, early.seam.id]]);
  });

  it('leaves out credential brokers (Pulumi ESC exchanges on Pulumi Cloud and hands the keys to a laptop) and, as stated, GCP workloads', () => {
    const ESC = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
    const PULUMI_CLOUD = '52.94.133.131'; // the broker's own hosts (here an AWS address)
    const laptop = use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEPULUMI001', 'ListBuckets', 's3.amazonaws.com', CLI);
    const esc = [exchange(t('14:00:00'), PULUMI_CLOUD, 'ASIAEXAMPLEPULUMI001', { provider: ESC, subject: 'pulumi:environments:org:acme:env:prod' }), laptop];
    expect(runNative(id, esc)).toEqual([]);
    // Near miss: with no broker configured the same exchange is judged like a pipeline's.
    expect(runNative(id, esc, { config: { webIdentityBrokerIssuers: [] } }).map((a) => a.events)).toEqual([[laptop.seam.id]]);
    // A configured broker prefix covers paths under it, not a longer host name.
    expect(runNative(id, [exchange(t('14:00:00'), PULUMI_CLOUD, 'ASIAEXAMPLEVENDOR01', { provider: `arn:aws:iam::${ACCOUNT}:oidc-provider/vault.example.com/v1/identity/oidc` }), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEVENDOR01')], { config: { webIdentityBrokerIssuers: ['vault.example.com/v1'] } })).toEqual([]);
    expect(runNative(id, [exchange(t('14:00:00'), PULUMI_CLOUD, 'ASIAEXAMPLEVENDOR02', { provider: `arn:aws:iam::${ACCOUNT}:oidc-provider/vault.example.com/v10` }), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEVENDOR02')], { config: { webIdentityBrokerIssuers: ['vault.example.com/v1'] } })).toHaveLength(1);
    // GCP service accounts federate with issuer accounts.google.com, the consumer sign-in issuer: not covered (description says so).
    expect(runNative(id, [exchange(t('14:00:00'), '35.231.1.1', 'ASIAEXAMPLEGCPWI0001', { provider: 'accounts.google.com', subject: '107318212415839463327' }), use(t('14:05:00'), ATTACKER, 'ASIAEXAMPLEGCPWI0001')])).toEqual([]);
  });

  it('guards: consumer and Cognito issuers, AWS services acting, long-term keys, non-role identities, VPC endpoints, unplaceable addresses, the 12 h cap', () => {
    const leak = (key: string, extra: Record<string, unknown> = {}, ip = ATTACKER): SeamEvent => use(t('14:05:00'), ip, key, 'ListBuckets', 's3.amazonaws.com', CLI, extra);
    // Issuers that are not pipelines or workloads.
    for (const provider of ['cognito-identity.amazonaws.com', 'graph.facebook.com', 'www.amazon.com', 'appleid.apple.com', 'accounts.google.com']) {
      expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'ASIAEXAMPLECONSUMER1', { provider }), leak('ASIAEXAMPLECONSUMER1')]), provider).toEqual([]);
    }
    const K = 'ASIAEXAMPLEGUARDS001';
    const ui = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...(use(t('14:05:00'), ATTACKER, K).userIdentity as Record<string, unknown>), ...extra }) as Record<string, unknown>;
    const quiet = [
      exchange(t('14:00:00'), RUNNER, K),
      // An AWS service acting with the session, from a public address.
      leak(K, { userIdentity: ui({ invokedBy: 'cloudformation.amazonaws.com' }) }),
      // Not a role session (the same key id named by another identity type).
      leak(K, { userIdentity: ui({ type: 'IAMUser' }) }),
      // A VPC endpoint, whatever address the record shows.
      leak(K, { vpcEndpointId: 'vpce-0a1b2c3d' }),
      // An address the table cannot place (documentation range).
      leak(K, {}, '203.0.113.24'),
    ];
    expect(runNative(id, quiet)).toEqual([]);
    expect(runNative(id, [...quiet, leak(K)])).toHaveLength(1);
    // A long-term key issued by nothing here: not judged even if an origin was somehow learned for it.
    expect(runNative(id, [exchange(t('14:00:00'), RUNNER, 'AKIAEXAMPLELONGTERM1'), leak('AKIAEXAMPLELONGTERM1')])).toEqual([]);
    // An exchange from an address the table cannot place: nothing to compare.
    expect(runNative(id, [exchange(t('14:00:00'), '203.0.113.24', 'ASIAEXAMPLEUNPLACED1'), leak('ASIAEXAMPLEUNPLACED1')])).toEqual([]);
    // 24 h asked, 12 h at most: dead after 12 h, alive before.
    const long = exchange(t('02:00:00'), RUNNER, 'ASIAEXAMPLELONG00001', { durationSeconds: 24 * 3600 });
    expect(runNative(id, [long, use(t('14:30:00'), ATTACKER, 'ASIAEXAMPLELONG00001')])).toEqual([]);
    expect(runNative(id, [long, use(t('13:30:00'), ATTACKER, 'ASIAEXAMPLELONG00001')])).toHaveLength(1);
  });

  it('keeps the exchange across a restart (identity facts rebuilt from seam.identity)', () => {
    const K = 'ASIAEXAMPLEGHAJOB0003';
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [id], onFacts: (fs) => published.push(...fs) });
    expect(first.process(exchange(t('14:00:00'), RUNNER, K))).toEqual([]);
    expect(published.filter((f) => f.kind === 'web_identity_origin').map((f) => `${f.from} ${f.to} ${f.valid_to}`)).toEqual([`akid:${K} net:AS8075 2024-11-05T15:00:00.000Z`]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    expect(runNative(id, [use(t('14:06:00'), ATTACKER, K, 'ListBuckets', 's3.amazonaws.com', CLI)], { graph: g })).toHaveLength(1);
    expect(runNative(id, [use(t('14:06:00'), ATTACKER, K, 'ListBuckets', 's3.amazonaws.com', CLI)])).toEqual([]);
  });
});
