import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { normalizeLine, normalizeRecord } from './normalize.ts';
import { redact, scrub } from './redact.ts';

// An adversarial corpus: secrets in the places the structured rules and the string scan used to miss
// (argument pairs of pod command/args, `mysql -p<secret>`, secret-bearing query parameters of any request,
// presigned URLs and user data in CloudTrail). Each case names its secrets (none may survive either entry
// point) and the strings rules still need (they must).

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const firstLine = (p: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(p, FIXTURES), 'utf8').split('\n')[0] as string) as Record<string, unknown>;
const meta: RawMeta = { collector: 'file', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01' };

function must(r: ReturnType<typeof normalizeLine>): SeamEvent {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** Both entry points (a line, redacted in place; a parsed record, copy-on-write) give the same event. */
function both(rec: Record<string, unknown>): SeamEvent {
  const a = must(normalizeLine(JSON.stringify(rec), meta));
  const b = must(normalizeRecord(rec, meta));
  expect(b).toEqual(a);
  return a;
}

const audit = firstLine('k8s-audit/eks-audit.jsonl');
const trail = firstLine('cloudtrail/redaction-cases.jsonl');
const runtime = firstLine('runtime/native.jsonl');
const finding = (JSON.parse(readFileSync(new URL('guardduty/get-findings-sdk.json', FIXTURES), 'utf8')) as { Findings: Record<string, unknown>[] }).Findings[0] as Record<string, unknown>;

type Case = { name: string; rec: Record<string, unknown>; secrets: string[]; keep: string[] };

const podCreate = (resource: string, body: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...audit,
  level: 'RequestResponse',
  verb: 'create',
  requestURI: `/api/v1/namespaces/payments/${resource}`,
  objectRef: { resource, namespace: 'payments', apiVersion: 'v1' },
  requestObject: body,
  ...extra,
});
const container = (c: Record<string, unknown>): Record<string, unknown> => ({ name: 'app', image: 'mysql:8', ...c });
const podSpec = (c: Record<string, unknown>): Record<string, unknown> => ({ containers: [container(c)] });

const K8S: Case[] = [
  { name: 'pod args --password <value>', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ args: ['--password', 'hunter2pw'] }) }), secrets: ['hunter2pw'], keep: ['--password'] },
  { name: 'pod command --token <value>', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['app', '--token', 'tok3nValue9'] }) }), secrets: ['tok3nValue9'], keep: ['app', '--token'] },
  { name: 'pod args --db-password <value>', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ args: ['--db-password', 'dbpwValue1'] }) }), secrets: ['dbpwValue1'], keep: ['--db-password'] },
  { name: 'pod command mysql -p<secret>', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['mysql', '-u', 'root', '-pMyS3cretPw', 'orders'] }) }), secrets: ['MyS3cretPw'], keep: ['mysql', 'orders', 'root'] },
  { name: 'pod mysql in command, -p<secret> in args', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['/usr/bin/mysql'], args: ['-h', 'db', '-pMyS3cretPw4'] }) }), secrets: ['MyS3cretPw4'], keep: ['/usr/bin/mysql', 'db'] },
  { name: 'pod command mysql -p <value> (mysql prompts; often meant as the password)', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['mysql', '-u', 'root', '-p', 'MyS3cretPw2'] }) }), secrets: ['MyS3cretPw2'], keep: ['mysql', 'root'] },
  { name: 'pod command sh -c "mysql -p<secret>"', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['sh', '-c', 'mysql -uroot -pMyS3cretPw3 -h db'] }) }), secrets: ['MyS3cretPw3'], keep: ['mysql -uroot -p'] },
  {
    name: 'deployment env and args',
    rec: podCreate('deployments', {
      kind: 'Deployment',
      spec: { template: { spec: { initContainers: [container({ args: ['--api-key', 'initApiKey77'] })], containers: [container({ env: [{ name: 'DB_PASSWORD', value: 'envS3cretPw' }, { name: 'LOG_LEVEL', value: 'debug' }] })] } } },
    }),
    secrets: ['initApiKey77', 'envS3cretPw'],
    keep: ['debug', '--api-key'],
  },
  {
    name: 'cronjob job template args',
    rec: podCreate('cronjobs', { kind: 'CronJob', spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: podSpec({ command: ['mysqldump', '-pDumpPw55', '--all-databases'] }) } } } } }),
    secrets: ['DumpPw55'],
    keep: ['mysqldump', '--all-databases'],
  },
  {
    name: 'statefulset response object',
    rec: podCreate('statefulsets', { kind: 'StatefulSet', spec: { template: { spec: podSpec({}) } } }, { responseObject: { kind: 'StatefulSet', spec: { template: { spec: podSpec({ args: ['--client-secret', 'respClientSec'] }) } } } }),
    secrets: ['respClientSec'],
    keep: ['--client-secret'],
  },
  {
    name: 'JSON patch replacing a container args array',
    rec: podCreate('deployments', [{ op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--password', 'patchPw111'] }], { verb: 'patch' }),
    secrets: ['patchPw111'],
    keep: ['--password'],
  },
  {
    name: 'last-applied annotation of a deployment with args',
    rec: podCreate('deployments', {
      kind: 'Deployment',
      metadata: { name: 'x', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ kind: 'Deployment', spec: { template: { spec: podSpec({ args: ['--password', 'lastAppliedPw'] }) } } }) } },
      spec: { template: { spec: podSpec({}) } },
    }),
    secrets: ['lastAppliedPw'],
    keep: [],
  },
  {
    name: 'last-applied annotation of a pod running mysql -p<secret>',
    rec: podCreate('pods', {
      kind: 'Pod',
      metadata: { name: 'x', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ kind: 'Pod', spec: podSpec({ command: ['mysql', '-pLastMysqlPw'] }) }) } },
      spec: podSpec({}),
    }),
    secrets: ['LastMysqlPw'],
    keep: [],
  },
  {
    name: 'user data of a Karpenter EC2NodeClass',
    rec: podCreate('ec2nodeclasses', { kind: 'EC2NodeClass', spec: { amiFamily: 'AL2023', userData: '#!/bin/bash\necho nodeUserDataPw > /etc/x' } }),
    secrets: ['nodeUserDataPw'],
    keep: ['AL2023'],
  },
  {
    name: 'list query ?token=',
    rec: { ...audit, requestURI: '/api/v1/namespaces/payments/pods?limit=500&token=uriTok3nValue' },
    secrets: ['uriTok3nValue'],
    keep: ['/api/v1/namespaces/payments/pods?limit=500&token='],
  },
  {
    name: 'query password= and access_token=',
    rec: { ...audit, requestURI: '/api/v1/namespaces/payments/services/db:3306/proxy/login?password=uriPw%21234&access_token=uriAccTok' },
    secrets: ['uriPw', 'uriAccTok'],
    keep: ['/proxy/login?password='],
  },
  {
    name: 'presigned URL parameters in a proxied request',
    rec: {
      ...audit,
      requestURI:
        '/api/v1/namespaces/payments/services/s3-gw/proxy/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20241105%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20241105T140000Z&X-Amz-Expires=3600&X-Amz-Security-Token=IQoJuriSessTok&X-Amz-SignedHeaders=host&X-Amz-Signature=f00dbabe0123456789abcdef',
    },
    secrets: ['AKIAIOSFODNN7EXAMPLE', 'IQoJuriSessTok', 'f00dbabe0123456789abcdef'],
    keep: ['X-Amz-Date=20241105T140000Z', 'X-Amz-Expires=3600'],
  },
];

const ctEvent = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>): Record<string, unknown> => ({
  ...trail,
  eventSource,
  eventName,
  readOnly: false,
  requestParameters,
  responseElements: null,
});
const PRESIGNED =
  'https://payments-exports.s3.us-west-2.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAI44QH8DHBEXAMPLE%2F20241105%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20241105T140000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=aabbccddeeff00112233445566778899';
const USERDATA = Buffer.from('#!/bin/bash\nexport DB_PASSWORD=userDataPw\n/etc/eks/bootstrap.sh prod').toString('base64');

const CLOUDTRAIL: Case[] = [
  { name: 'presigned URL in a request parameter', rec: ctEvent('transfer.amazonaws.com', 'StartFileTransfer', { sourceUrl: PRESIGNED }), secrets: ['AKIAI44QH8DHBEXAMPLE', 'aabbccddeeff00112233445566778899'], keep: ['X-Amz-Expires=900', 'report.csv'] },
  {
    name: 'SigV2 presigned URL',
    rec: ctEvent('transfer.amazonaws.com', 'StartFileTransfer', { sourceUrl: 'https://b.s3.amazonaws.com/o?AWSAccessKeyId=AKIAI44QH8DHBEXAMPLE&Expires=1730818800&Signature=v2SigValue%2Babc%3D' }),
    secrets: ['v2SigValue'],
    keep: ['Expires=1730818800'],
  },
  { name: 'RunInstances userData (base64)', rec: ctEvent('ec2.amazonaws.com', 'RunInstances', { instanceType: 't3.micro', userData: USERDATA }), secrets: [USERDATA], keep: ['userData', 't3.micro'] },
  { name: 'ModifyInstanceAttribute userData.value', rec: ctEvent('ec2.amazonaws.com', 'ModifyInstanceAttribute', { instanceId: 'i-0abc', userData: { value: USERDATA } }), secrets: [USERDATA], keep: ['i-0abc'] },
  {
    name: 'CreateLaunchTemplate LaunchTemplateData.UserData',
    rec: ctEvent('ec2.amazonaws.com', 'CreateLaunchTemplate', { CreateLaunchTemplateRequest: { LaunchTemplateName: 'nodes', LaunchTemplateData: { UserData: USERDATA } } }),
    secrets: [USERDATA],
    keep: ['nodes', 'UserData'],
  },
  { name: 'userData as CloudTrail logs it stays as it is', rec: ctEvent('ec2.amazonaws.com', 'RunInstances', { userData: '<sensitiveDataRemoved>' }), secrets: [], keep: ['<sensitiveDataRemoved>'] },
];

const proc = (cmdline: string): Record<string, unknown> => ({ ...runtime, process: { ...(runtime.process as Record<string, unknown>), cmdline } });
const RUNTIME: Case[] = [
  { name: 'mysql -p<secret>', rec: proc('mysql -h db -u root -pRunS3cret1 orders'), secrets: ['RunS3cret1'], keep: ['mysql -h db -u root -p', 'orders'] },
  { name: 'mariadb-dump -p<secret>', rec: proc('mariadb-dump -pRunS3cret2 --all-databases'), secrets: ['RunS3cret2'], keep: ['mariadb-dump -p', '--all-databases'] },
  { name: 'mysql -p "<quoted secret>"', rec: proc('sh -c mysql -p"Run S3cret3" -e "select 1"'), secrets: ['S3cret3'], keep: ['select 1'] },
  { name: 'MYSQL_PWD=', rec: proc('MYSQL_PWD=RunS3cret4 mysql -u root'), secrets: ['RunS3cret4'], keep: ['mysql -u root'] },
  { name: '--db-password <value>', rec: proc('migrate --db-password RunS3cret5 up'), secrets: ['RunS3cret5'], keep: ['up'] },
  { name: 'db_password=', rec: proc('app db_password=RunS3cret6 access_token=RunS3cret7'), secrets: ['RunS3cret6', 'RunS3cret7'], keep: ['app'] },
  { name: 'a password in a URL', rec: proc('psql postgres://app:UrlPw0001@db:5432/orders'), secrets: ['UrlPw0001'], keep: ['postgres://app:', '@db:5432/orders'] },
  { name: 'a token in a git URL', rec: proc('git clone https://x-access-token:ghs_UrlTok0002@github.com/o/r.git'), secrets: ['ghs_UrlTok0002'], keep: ['@github.com/o/r.git'] },
  { name: 'a password with @ in a URL', rec: proc('redis-cli -u redis://default:p@ssUrl3@cache:6379'), secrets: ['ssUrl3', 'p@ss'], keep: ['@cache:6379'] },
  { name: 'sshpass -p <secret>', rec: proc('sshpass -p SshPw0004 ssh -p 2222 admin@10.0.0.5'), secrets: ['SshPw0004'], keep: ['ssh -p 2222 admin@10.0.0.5'] },
  { name: 'curl to a presigned URL', rec: proc(`curl -s "${PRESIGNED}" -o /tmp/r.csv`), secrets: ['aabbccddeeff00112233445566778899'], keep: ['-o /tmp/r.csv', 'X-Amz-Expires=900'] },
];

const GUARDDUTY: Case[] = [
  {
    name: 'GuardDuty Kubernetes API call with an exec command line in its request URI',
    rec: {
      ...finding,
      Service: {
        ...(finding.Service as Record<string, unknown>),
        Action: {
          ActionType: 'KUBERNETES_API_CALL',
          KubernetesApiCallAction: { RequestUri: '/api/v1/namespaces/payments/pods/api-0/exec?command=mysql&command=-pGdExecPw1&command=--token%3DGdTok2&container=api', Verb: 'create', StatusCode: 101 },
        },
      },
    },
    secrets: ['GdExecPw1', 'GdTok2'],
    keep: ['/api/v1/namespaces/payments/pods/api-0/exec?command=mysql&command=-p', '&container=api'],
  },
];

// Round 3: provider tokens with nothing around them, per-program password flags, and JSON patches that add an
// argument after a `--password` already in the object. Token-shaped values are built here from their documented
// formats (prefix, length, charset) so that no token-shaped literal sits in the source.
const alnum = (n: number, seed = 'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0hL'): string => seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
const TOK = {
  ghp: 'ghp_' + alnum(36),
  gho: 'gho_' + alnum(36, 'Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe'),
  ghu: 'ghu_' + alnum(36, 'Qw3Er4Ty5Ui6Op7As8Df9Gh0Jk1Lz2Xc'),
  ghs: 'ghs_' + alnum(36, 'Mn8Bv7Cx6Za5Sd4Fg3Hj2Kl1Qw0Er9Ty'),
  ghr: 'ghr_' + alnum(36, 'Pl0Ok9Ij8Uh7Yg6Tf5Rd4Es3Wa2Qz1Xs'),
  githubPat: 'github_pat_' + alnum(22) + '_' + alnum(59, 'Hh7Gg6Ff5Ee4Dd3Cc2Bb1Aa0Zz9Yy8Xx'),
  glpat: 'glpat-' + alnum(20, 'xY1-zW2_vU3tS4rQ5pO6'),
  xoxb: 'xoxb-' + '123456789012-1234567890123-' + alnum(24),
  xoxp: 'xoxp-' + '123456789012-123456789012-1234567890123-' + alnum(32, 'f00dbabe1234567890abcdef98765432'),
  xoxa: 'xoxa-2-' + '123456789012-1234567890123-' + alnum(24, 'Kq2Wm4Zp6Xr8Ts0Vb1Nc3Dl5'),
  xapp: 'xapp-1-A0123456789-1234567890123-' + alnum(64, 'a1b2c3d4e5f60718'),
  skLive: 'sk_live_' + alnum(24, 'Rt5Yu6Io7Pa8Sd9Fg0Hj1Kl2'),
  rkLive: 'rk_live_' + alnum(24, 'Zx1Cv2Bn3Mq4We5Rt6Yu7Io8'),
  npm: 'npm_' + alnum(36, 'Np1Mp2Lo3Ki4Ju5Hy6Gt7Fr8De9Sw0Aq'),
  openai: 'sk-' + alnum(20, 'Ab1Cd2Ef3Gh4Ij5Kl6Mn') + 'T3BlbkFJ' + alnum(20, 'Op7Qr8St9Uv0Wx1Yz2Ab'),
  openaiProj: 'sk-proj-' + alnum(64, 'Ab1_Cd2-Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv'),
  google: 'AIza' + alnum(35, 'Sy0_Bc1-De2Fg3Hi4Jk5Lm6No7Pq8Rs9Tu'),
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QiLCJpYXQiOjE3MzA4MTg4MDB9.' + alnum(43, 'Sf1Kx2Lw3Mv4Nu5Ot6Ps7Qr8Rq9Sp0To1Un2Vm3Wl4'),
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + alnum(10, 'EXAMPLEKEY'),
  slackHook: 'https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/' + alnum(24, 'Wh7Kq2Zp9Lm4Xr1Vt6Bn3Cs8'),
  huggingface: 'hf_' + alnum(34, 'QpWoEiRuTyAlSkDjFhGzXmCnVb'),
  sendgrid: 'SG.' + alnum(22, 'Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op') + '.' + alnum(43, 'Qr8St9Uv0Wx1Yz2_Ab3-Cd4Ef5Gh6Ij7Kl8Mn9Op0Qr'),
  shopify: 'shpat_' + alnum(32, '0123456789abcdef'),
  digitalocean: 'dop_v1_' + alnum(64, 'fedcba9876543210'),
  pypi: 'pypi-AgEIcHlwaS5vcmc' + alnum(60, 'CJGQ0ZTQ2LWE5ZDItNDk3_Yi1hNjE4LTk-'),
  grafana: 'glsa_' + alnum(32) + '_' + 'a1b2c3d4',
};

const TOKENS: Case[] = [
  ...(['ghp', 'gho', 'ghu', 'ghs', 'ghr', 'githubPat', 'glpat', 'xoxb', 'xoxp', 'xoxa', 'xapp', 'skLive', 'rkLive', 'npm', 'openai', 'openaiProj', 'google', 'huggingface', 'sendgrid', 'shopify', 'digitalocean', 'pypi', 'grafana'] as const).map(
    (k): Case => ({ name: `bare ${k} token in a command line`, rec: proc(`deploy-tool --verbose ${TOK[k]} run`), secrets: [TOK[k]], keep: ['deploy-tool --verbose ', ' run'] }),
  ),
  { name: 'bare GitHub token as its own pod argument', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ args: ['--gh', TOK.ghp, '--repo', 'org/app'] }) }), secrets: [TOK.ghp], keep: ['--gh', 'org/app'] },
  { name: 'bare npm token in a plain-named env value', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ env: [{ name: 'NPMRC', value: `//registry.npmjs.org/:_authToken=${TOK.npm}` }] }) }), secrets: [TOK.npm], keep: ['NPMRC', '//registry.npmjs.org/:_authToken='] },
  { name: 'Slack token in a ConfigMap under a plain key', rec: podCreate('configmaps', { kind: 'ConfigMap', data: { 'notify.yaml': `channel: ops\nbot: ${TOK.xoxb}\n` } }), secrets: [TOK.xoxb], keep: ['channel: ops'] },
  { name: 'Slack webhook URL', rec: proc(`curl -X POST -d @msg.json ${TOK.slackHook}`), secrets: [TOK.slackHook.slice(-24)], keep: ['https://hooks.slack.com/services/', 'curl -X POST -d @msg.json'] },
  { name: 'JWT as a bare argument', rec: proc(`grpcurl -rpc-header x:${TOK.jwt} api:443 list`), secrets: [TOK.jwt.split('.')[2] as string], keep: ['grpcurl', 'api:443 list'] },
  { name: 'curl -H "Authorization: Basic ..."', rec: proc('curl -H "Authorization: Basic YWxpY2U6aHVudGVyMg==" https://api.example.com/v1'), secrets: ['YWxpY2U6aHVudGVyMg'], keep: ['https://api.example.com/v1'] },
  { name: 'curl -H "X-Api-Key: ..."', rec: proc("curl -H 'X-Api-Key: HdrApiKey0001' -H 'Accept: */*' https://api.example.com/v1"), secrets: ['HdrApiKey0001'], keep: ['X-Api-Key: ', 'Accept: */*'] },
  { name: 'curl -H "PRIVATE-TOKEN: ..." (GitLab)', rec: proc('curl --header "PRIVATE-TOKEN: HdrPrivTok0002" https://gitlab.example.com/api/v4/projects'), secrets: ['HdrPrivTok0002'], keep: ['PRIVATE-TOKEN: '] },
  { name: 'curl -H "X-Vault-Token: ..."', rec: proc('curl -H "X-Vault-Token: HdrVault0003" http://vault:8200/v1/secret/data/db'), secrets: ['HdrVault0003'], keep: ['X-Vault-Token: '] },
  {
    name: 'aws_secret_access_key / dbPassword keys of a custom resource',
    rec: podCreate('helmreleases', { kind: 'HelmRelease', spec: { values: { AWS_SECRET_ACCESS_KEY: TOK.awsSecret, AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', db: { masterPassword: 'CrdDbPw0001' } } } }),
    secrets: [TOK.awsSecret, 'CrdDbPw0001'],
    keep: ['AKIAIOSFODNN7EXAMPLE'],
  },
];

const PROGRAMS: Case[] = [
  { name: 'curl -u user:password', rec: proc('curl -s -u admin:CurlPw0001 https://nexus.example.com/repo'), secrets: ['CurlPw0001'], keep: ['curl -s -u admin:', 'https://nexus.example.com/repo'] },
  { name: 'curl --user user:password', rec: proc('curl --user ci-bot:CurlPw0002 -X PUT https://x.example.com'), secrets: ['CurlPw0002'], keep: ['--user ci-bot:', '-X PUT'] },
  { name: 'curl --user=user:password and -uuser:password', rec: proc('curl --user=ci:CurlPw0003 https://a; curl -uci:CurlPw0004 https://b'), secrets: ['CurlPw0003', 'CurlPw0004'], keep: ['https://a', 'https://b'] },
  { name: 'curl -u in a pod argv', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['curl', '-u', 'admin:CurlPw0005', 'https://x.example.com'] }) }), secrets: ['CurlPw0005'], keep: ['https://x.example.com'] },
  { name: 'wget --http-password= / --password', rec: proc('wget --http-user=bob --http-password=WgetPw0001 https://a && wget --password WgetPw0002 ftp://b'), secrets: ['WgetPw0001', 'WgetPw0002'], keep: ['--http-user=bob', 'ftp://b'] },
  { name: 'docker login -p', rec: proc('docker login -u AWS -p DockerPw0001 111122223333.dkr.ecr.us-west-2.amazonaws.com'), secrets: ['DockerPw0001'], keep: ['docker login -u AWS -p', '111122223333.dkr.ecr.us-west-2.amazonaws.com'] },
  { name: 'docker login -p in a pod argv', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['docker', 'login', '-u', 'AWS', '-p', 'DockerPw0002', 'reg.example.com'] }) }), secrets: ['DockerPw0002'], keep: ['reg.example.com'] },
  { name: 'helm repo add --password', rec: proc('helm repo add --username bob --password HelmPw0001 charts https://charts.example.com'), secrets: ['HelmPw0001'], keep: ['charts https://charts.example.com'] },
  { name: 'helm registry login -p', rec: proc('helm registry login reg.example.com -u bob -p HelmPw0002'), secrets: ['HelmPw0002'], keep: ['helm registry login reg.example.com -u bob -p'] },
  {
    name: 'kubectl create secret --from-literal',
    rec: proc('kubectl create secret generic db --from-literal=dsn=KubeLit0001 --from-literal user=KubeLit0002 -n payments'),
    secrets: ['KubeLit0001', 'KubeLit0002'],
    keep: ['kubectl create secret generic db --from-literal=dsn=', '-n payments'],
  },
  {
    name: 'kubectl create secret --from-literal through exec',
    rec: { ...audit, requestURI: '/api/v1/namespaces/payments/pods/tools-0/exec?command=kubectl&command=create&command=secret&command=generic&command=x&command=--from-literal%3Dconn%3DKubeLit0003&container=tools' },
    secrets: ['KubeLit0003'],
    keep: ['command=--from-literal%3Dconn%3D', '&container=tools'],
  },
  { name: 'redis-cli -a', rec: proc('redis-cli -h cache -a RedisPw0001 --no-auth-warning info'), secrets: ['RedisPw0001'], keep: ['redis-cli -h cache -a', 'info'] },
  { name: 'mongosh -p', rec: proc('mongosh --host db -u admin -p MongoPw0001 --authenticationDatabase admin'), secrets: ['MongoPw0001'], keep: ['--authenticationDatabase admin'] },
  { name: 'openssl -passin pass: / keytool -storepass', rec: proc('openssl pkcs12 -in a.p12 -passin pass:SslPw0001 -nokeys; keytool -list -keystore k.jks -storepass KeyStorePw2'), secrets: ['SslPw0001', 'KeyStorePw2'], keep: ['-nokeys', '-keystore k.jks'] },
  { name: 'az login -p', rec: proc('az login --service-principal -u app-id -p AzSpPw0001 --tenant t'), secrets: ['AzSpPw0001'], keep: ['--tenant t'] },
];

const patchAudit = (resource: string, ops: unknown[], response?: unknown): Record<string, unknown> =>
  podCreate(resource, ops, { verb: 'patch', ...(response === undefined ? { level: 'Request' } : { responseObject: response }) });
const PATCHES: Case[] = [
  {
    name: 'JSON patch appending the value after a --password in the object (response)',
    rec: patchAudit('deployments', [{ op: 'add', path: '/spec/template/spec/containers/0/args/-', value: 'PatchPw0001' }], {
      kind: 'Deployment',
      spec: { template: { spec: podSpec({ args: ['--log-level', 'info', '--password', 'PatchPw0001'] }) } },
    }),
    secrets: ['PatchPw0001'],
    keep: ['/spec/template/spec/containers/0/args/-', '--log-level'],
  },
  {
    name: 'JSON patch splitting --password and its value across two operations',
    rec: patchAudit('pods', [
      { op: 'add', path: '/spec/containers/0/args/-', value: '--password' },
      { op: 'add', path: '/spec/containers/0/args/-', value: 'PatchPw0002' },
    ]),
    secrets: ['PatchPw0002'],
    keep: ['--password'],
  },
  {
    name: 'JSON patch replacing the argument after --password by index',
    rec: patchAudit('pods', [{ op: 'replace', path: '/spec/containers/0/args/3', value: 'PatchPw0003' }], { kind: 'Pod', spec: podSpec({ args: ['--user', 'app', '--password', 'PatchPw0003'] }) }),
    secrets: ['PatchPw0003'],
    keep: ['/spec/containers/0/args/3'],
  },
  {
    name: 'JSON patch adding the first argument after a command ending in --token',
    rec: patchAudit('pods', [{ op: 'add', path: '/spec/containers/0/args/0', value: 'PatchTok0004' }], { kind: 'Pod', spec: podSpec({ command: ['app', '--token'], args: ['PatchTok0004'] }) }),
    secrets: ['PatchTok0004'],
    keep: ['app'],
  },
  {
    name: 'JSON patch appending -p<secret> to a mysql container',
    rec: patchAudit('pods', [{ op: 'add', path: '/spec/containers/0/args/-', value: '-pPatchMy0005' }], { kind: 'Pod', spec: podSpec({ command: ['mysql'], args: ['-h', 'db', '-pPatchMy0005'] }) }),
    secrets: ['PatchMy0005'],
    keep: ['mysql'],
  },
  {
    name: 'strategic merge patch of a container args list',
    rec: patchAudit('deployments', [], undefined),
    secrets: ['SmpPw0006'],
    keep: ['--password'],
  },
];
// A strategic merge patch is an object (the object form already covers it): built here as the request body.
(PATCHES[5] as Case).rec = podCreate('deployments', { spec: { template: { spec: { containers: [{ name: 'app', args: ['--password', 'SmpPw0006'] }] } } } }, { verb: 'patch', level: 'Request' });

// Round 4: patches whose request carries the secret and whose response is absent (a Secret's or a credential
// ConfigMap's data as JSON, merge or strategic-merge patch, or as an apply patch's YAML text); password flags of
// more programs, in runtime command lines and in an exec's `command=` values; and values under secret-named keys
// with no format to know them by, in any nested object of any plane.
const noResponse = (resource: string, body: unknown): Record<string, unknown> => {
  const r = podCreate(resource, body, { verb: 'patch' });
  delete r.responseObject;
  return r;
};
const execUri = (argv: string[]): Record<string, unknown> => ({
  ...audit,
  verb: 'create',
  requestURI: `/api/v1/namespaces/payments/pods/tools-0/exec?${argv.map((a) => 'command=' + encodeURIComponent(a)).join('&')}&container=tools&stderr=true&stdout=true`,
  objectRef: { resource: 'pods', namespace: 'payments', name: 'tools-0', subresource: 'exec', apiVersion: 'v1' },
});
const gdBase = JSON.parse(readFileSync(new URL('guardduty/findings-rest.jsonl', FIXTURES), 'utf8').split('\n')[0] as string) as Record<string, unknown>;
const gdService = (extra: Record<string, unknown>): Record<string, unknown> => ({ ...gdBase, service: { ...(gdBase.service as Record<string, unknown>), ...extra } });

const ROUND4_PATCHES: Case[] = [
  { name: 'JSON patch of a Secret /data/password, no response', rec: noResponse('secrets', [{ op: 'replace', path: '/data/password', value: 'UjRQYXRjaDAwMQ==' }]), secrets: ['UjRQYXRjaDAwMQ=='], keep: ['/data/password'] },
  { name: 'JSON patch replacing a Secret\'s whole /data, no response', rec: noResponse('secrets', [{ op: 'replace', path: '/data', value: { 'tls.key': 'UjRUbHNLZXkwMDI=' } }]), secrets: ['UjRUbHNLZXkwMDI='], keep: ['tls.key'] },
  { name: 'merge patch of a Secret\'s stringData, no response', rec: noResponse('secrets', { stringData: { 'db-url': 'R4Merge0003' } }), secrets: ['R4Merge0003'], keep: ['db-url'] },
  {
    name: 'strategic-merge patch of a Secret with its last-applied annotation, no response',
    rec: noResponse('secrets', { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ kind: 'Secret', data: { k: 'UjRTbXAwMDA0' } }) } }, data: { k: 'UjRTbXAwMDA0' } }),
    secrets: ['UjRTbXAwMDA0'],
    keep: [],
  },
  { name: 'JSON patch test operation on a Secret\'s data', rec: noResponse('secrets', [{ op: 'test', path: '/data/password', value: 'UjRUZXN0MDAwNQ==' }]), secrets: ['UjRUZXN0MDAwNQ=='], keep: ['test'] },
  { name: 'JSON patch of a ConfigMap /data/DB_PASSWORD, no response', rec: noResponse('configmaps', [{ op: 'add', path: '/data/DB_PASSWORD', value: 'R4CmPw0006' }]), secrets: ['R4CmPw0006'], keep: ['/data/DB_PASSWORD'] },
  { name: 'merge patch of a ConfigMap .env file (DB_PASS=, REDIS_PASS=)', rec: noResponse('configmaps', { data: { 'app.env': 'LOG_LEVEL=debug\nDB_PASS=R4CmEnv007\nREDIS_PASS=R4CmEnv008\n' } }), secrets: ['R4CmEnv007', 'R4CmEnv008'], keep: ['LOG_LEVEL=debug', 'DB_PASS='] },
  { name: 'merge patch of a ConfigMap YAML file with pass:', rec: noResponse('configmaps', { data: { 'config.yaml': 'db:\n  host: db\n  user: app\n  pass: R4CmYml009\n' } }), secrets: ['R4CmYml009'], keep: ['host: db', 'user: app'] },
  { name: 'merge patch of a ConfigMap JSON file with "pass" and "webhookSecret"', rec: noResponse('configmaps', { data: { 'settings.json': '{"db":{"host":"db","pass":"R4CmJs0010"},"webhookSecret":"R4CmJs0011"}' } }), secrets: ['R4CmJs0010', 'R4CmJs0011'], keep: ['"host":"db"'] },
  { name: 'JSON patch of a ConfigMap holding registry auths', rec: noResponse('configmaps', [{ op: 'add', path: '/data/registry.json', value: '{"auths":{"reg.example.com":{"auth":"UjRBdXRoMDAxMg=="}}}' }]), secrets: ['UjRBdXRoMDAxMg=='], keep: ['reg.example.com'] },
  {
    name: 'apply patch logged as the YAML text of a Secret',
    rec: noResponse('secrets', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  tls.key: R4Yaml0013\n  dsn: R4Yaml0014\n'),
    secrets: ['R4Yaml0013', 'R4Yaml0014'],
    keep: [],
  },
  {
    name: 'strategic-merge patch of a Deployment adding env DB_PASS and JWT_SIGNING_KEY, no response',
    rec: noResponse('deployments', { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'DB_PASS', value: 'R4Env00015' }, { name: 'JWT_SIGNING_KEY', value: 'R4Env00016' }, { name: 'LOG_LEVEL', value: 'debug' }] }] } } } }),
    secrets: ['R4Env00015', 'R4Env00016'],
    keep: ['DB_PASS', 'debug'],
  },
];

const ROUND4_COMMANDS: Case[] = [
  { name: 'ldapsearch -w <password>', rec: proc('ldapsearch -x -H ldap://dc -p 389 -D cn=admin,dc=corp -w R4Ldap001 -b dc=corp'), secrets: ['R4Ldap001'], keep: ['-p 389', '-b dc=corp', '-w '] },
  { name: 'ldapmodify -w<password> glued', rec: proc('ldapmodify -x -D cn=admin -wR4Ldap002 -f add.ldif'), secrets: ['R4Ldap002'], keep: ['-f add.ldif'] },
  { name: 'sqlcmd -P <password> / -P<password>', rec: proc('sqlcmd -S db,1433 -U sa -P R4Sql0003 -Q "select 1"; sqlcmd -S db -U sa -PR4Sql0004'), secrets: ['R4Sql0003', 'R4Sql0004'], keep: ['-S db,1433 -U sa -P ', 'select 1'] },
  { name: 'bcp -P <password>', rec: proc('bcp orders out o.dat -S db -U sa -P R4Bcp0005 -c'), secrets: ['R4Bcp0005'], keep: ['out o.dat'] },
  { name: 'mysql --password=... / -p<password>', rec: proc('mysql --password=R4My00006 -h db; mysqldump -uroot -pR4My00007 orders'), secrets: ['R4My00006', 'R4My00007'], keep: ['orders'] },
  { name: 'psql connection URI', rec: proc('psql "postgresql://app:R4Pg00008@db:5432/orders?sslmode=require"'), secrets: ['R4Pg00008'], keep: ['@db:5432/orders?sslmode=require'] },
  { name: 'mongo --password <value>', rec: proc('mongo --username admin --password R4Mongo09 --host db'), secrets: ['R4Mongo09'], keep: ['--host db'] },
  { name: 'htpasswd -b file user password', rec: proc('htpasswd -b /etc/nginx/.htpasswd admin R4Htp0010 && nginx -s reload'), secrets: ['R4Htp0010'], keep: ['htpasswd -b /etc/nginx/.htpasswd admin ', 'nginx -s reload'] },
  { name: 'htpasswd -nbB user password', rec: proc('htpasswd -nbB -C 10 admin R4Htp0011'), secrets: ['R4Htp0011'], keep: ['htpasswd -nbB -C 10 admin '] },
  { name: 'rclone --s3-secret-access-key <value>', rec: proc('rclone copy --s3-access-key-id AKIAIOSFODNN7EXAMPLE --s3-secret-access-key R4Aws0012 src s3:dst'), secrets: ['R4Aws0012'], keep: ['AKIAIOSFODNN7EXAMPLE', 'src s3:dst'] },
  { name: 's3cmd --secret_key= and --aws-session-token', rec: proc('s3cmd --access_key=AKIAIOSFODNN7EXAMPLE --secret_key=R4Aws0013 ls; tool --aws-session-token R4Aws0014 run'), secrets: ['R4Aws0013', 'R4Aws0014'], keep: ['AKIAIOSFODNN7EXAMPLE', ' run'] },
  { name: 'aws rds --master-user-password <value>', rec: proc('aws rds create-db-instance --db-instance-identifier orders --master-username admin --master-user-password R4Rds0015 --engine postgres'), secrets: ['R4Rds0015'], keep: ['--engine postgres', '--master-username admin'] },
  { name: 'aws secretsmanager --secret-string <value>', rec: proc('aws secretsmanager put-secret-value --secret-id prod/db --secret-string R4Sm00016'), secrets: ['R4Sm00016'], keep: ['--secret-id prod/db'] },
  { name: 'aws ssm put-parameter --type SecureString --value <value>', rec: proc('aws ssm put-parameter --name /prod/db --type SecureString --value R4Ssm0017 --overwrite'), secrets: ['R4Ssm0017'], keep: ['--name /prod/db', '--overwrite'] },
  { name: 'curl --oauth2-bearer <token>', rec: proc('curl --oauth2-bearer R4Bear018 https://api.example.com/v1'), secrets: ['R4Bear018'], keep: ['https://api.example.com/v1'] },
  { name: 'exec: ldapsearch -w <password>', rec: execUri(['ldapsearch', '-x', '-D', 'cn=admin,dc=corp', '-w', 'R4ExLdap19', '-b', 'dc=corp']), secrets: ['R4ExLdap19'], keep: ['command=-b&command=dc%3Dcorp'] },
  { name: 'exec: sqlcmd -P <password>', rec: execUri(['/opt/mssql-tools/bin/sqlcmd', '-S', 'db', '-U', 'sa', '-P', 'R4ExSql020']), secrets: ['R4ExSql020'], keep: ['command=-U&command=sa'] },
  { name: 'exec: mysql -p<password>', rec: execUri(['mysql', '-uroot', '-pR4ExMy021', 'orders']), secrets: ['R4ExMy021'], keep: ['command=orders'] },
  { name: 'exec: psql connection URI', rec: execUri(['psql', 'postgresql://app:R4ExPg022@db/orders']), secrets: ['R4ExPg022'], keep: ['command=psql'] },
  { name: 'exec: curl -u user:password', rec: execUri(['curl', '-u', 'admin:R4ExCurl23', 'https://x.example.com']), secrets: ['R4ExCurl23'], keep: ['command=curl'] },
  { name: 'exec: sshpass -p <password>', rec: execUri(['sshpass', '-p', 'R4ExSsh024', 'ssh', '-p', '2222', 'admin@10.0.0.5']), secrets: ['R4ExSsh024'], keep: ['command=2222'] },
  { name: 'exec: redis-cli -a <password>', rec: execUri(['redis-cli', '-h', 'cache', '-a', 'R4ExRed025', 'info']), secrets: ['R4ExRed025'], keep: ['command=info'] },
  { name: 'exec: mongosh --password <value>', rec: execUri(['mongosh', '--username', 'admin', '--password', 'R4ExMgo026']), secrets: ['R4ExMgo026'], keep: ['command=--password'] },
  { name: 'exec: htpasswd -b file user password', rec: execUri(['htpasswd', '-b', '/etc/nginx/.htpasswd', 'admin', 'R4ExHtp027']), secrets: ['R4ExHtp027'], keep: ['command=admin'] },
  { name: 'exec: openssl -passin pass:<password>', rec: execUri(['openssl', 'pkcs12', '-in', 'a.p12', '-passin', 'pass:R4ExSsl028', '-nokeys']), secrets: ['R4ExSsl028'], keep: ['command=-nokeys'] },
  { name: 'exec: az login -p <password>', rec: execUri(['az', 'login', '--service-principal', '-u', 'app-id', '-p', 'R4ExAz0029', '--tenant', 't']), secrets: ['R4ExAz0029'], keep: ['command=--tenant'] },
  { name: 'exec: aws --secret-access-key style flags', rec: execUri(['rclone', 'lsd', '--s3-secret-access-key', 'R4ExAws030', 's3:']), secrets: ['R4ExAws030'], keep: ['command=s3%3A'] },
  { name: 'pod args: sqlcmd -P and ldapsearch -w', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['sqlcmd'], args: ['-S', 'db', '-U', 'sa', '-P', 'R4PodSq31'] }) }), secrets: ['R4PodSq31'], keep: ['sqlcmd', 'sa'] },
];

const ROUND4_KEYS: Case[] = [
  {
    name: 'custom resource with token, secret, apiToken, webhookSecret, passphrase, pass keys',
    rec: podCreate('alertmanagerconfigs', { kind: 'Notifier', spec: { slack: { token: 'R4Key0001' }, hook: { secret: 'R4Key0002', webhookSecret: 'R4Key0003' }, apiToken: 'R4Key0004', tls: { passphrase: 'R4Key0005' }, smtp: { user: 'ops', pass: 'R4Key0006' }, s3: { awsSecretKey: 'R4Key0007' } } }),
    secrets: ['R4Key0001', 'R4Key0002', 'R4Key0003', 'R4Key0004', 'R4Key0005', 'R4Key0006', 'R4Key0007'],
    keep: ['ops'],
  },
  { name: 'pod env MYSQL_ROOT_PW and JWT_SIGNING_KEY', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ env: [{ name: 'MYSQL_ROOT_PW', value: 'R4PodEnv08' }, { name: 'JWT_SIGNING_KEY', value: 'R4PodEnv09' }] }) }), secrets: ['R4PodEnv08', 'R4PodEnv09'], keep: ['MYSQL_ROOT_PW'] },
  {
    name: 'GuardDuty Kubernetes API call parameters (a pod spec with env DB_PASSWORD)',
    rec: gdService({ action: { actionType: 'KUBERNETES_API_CALL', kubernetesApiCallAction: { requestUri: '/api/v1/namespaces/payments/pods', verb: 'create', parameters: '{"kind":"Pod","spec":{"containers":[{"name":"app","env":[{"name":"DB_PASSWORD","value":"R4GdPar010"},{"name":"API_TOKEN","value":"R4GdPar011"}]}]}}' } } }),
    secrets: ['R4GdPar010', 'R4GdPar011'],
    keep: ['DB_PASSWORD'],
  },
  {
    name: 'GuardDuty runtime context command line with ldapsearch -w',
    rec: gdService({ runtimeDetails: { process: { name: 'ldapsearch', pwd: '/app' }, context: { commandLineExample: 'ldapsearch -x -D cn=admin -w R4GdCmd012 -b dc=corp' } } }),
    secrets: ['R4GdCmd012'],
    keep: ['/app', '-b dc=corp'],
  },
  {
    name: 'Lambda CreateFunction environment variables',
    rec: ctEvent('lambda.amazonaws.com', 'CreateFunction20150331', { functionName: 'orders', environment: { variables: { DB_PASSWORD: 'R4Lam0013', STRIPE_KEY: 'R4Lam0014', LOG_LEVEL: 'debug' } } }),
    secrets: ['R4Lam0013', 'R4Lam0014'],
    keep: ['debug', 'orders'],
  },
  { name: 'SSM PutParameter SecureString', rec: ctEvent('ssm.amazonaws.com', 'PutParameter', { name: '/prod/db', type: 'SecureString', value: 'R4Ssm0015', keyId: 'alias/aws/ssm', overwrite: true }), secrets: ['R4Ssm0015'], keep: ['/prod/db', 'alias/aws/ssm'] },
  {
    name: 'Secrets Manager PutSecretValue / CreateSecret SecretString',
    rec: ctEvent('secretsmanager.amazonaws.com', 'CreateSecret', { name: 'prod/db', secretString: '{"password":"R4Sm00016"}', kmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', clientRequestToken: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' }),
    secrets: ['R4Sm00016'],
    keep: ['prod/db', '1234abcd-12ab-34cd-56ef-1234567890ab', 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111'],
  },
  {
    name: 'Glue CreateConnection connection properties',
    rec: ctEvent('glue.amazonaws.com', 'CreateConnection', { connectionInput: { name: 'orders-jdbc', connectionType: 'JDBC', connectionProperties: { USERNAME: 'app', PASSWORD: 'R4Glue017', JDBC_CONNECTION_URL: 'jdbc:postgresql://db:5432/orders', KAFKA_SASL_SCRAM_PASSWORD: 'R4Glue018', SECRET_ID: 'prod/glue' } } }),
    secrets: ['R4Glue017', 'R4Glue018'],
    keep: ['prod/glue', 'jdbc:postgresql://db:5432/orders', '"USERNAME":"app"', '"SECRET_ID":"prod/glue"'],
  },
  { name: 'RDS MasterUserPassword', rec: ctEvent('rds.amazonaws.com', 'ModifyDBCluster', { dBClusterIdentifier: 'orders', masterUserPassword: 'R4Rds0019', applyImmediately: true }), secrets: ['R4Rds0019'], keep: ['orders'] },
  {
    name: 'DMS CreateEndpoint passwords',
    rec: ctEvent('dms.amazonaws.com', 'CreateEndpoint', { endpointIdentifier: 'src', engineName: 'mongodb', username: 'dms', password: 'R4Dms0020', mongoDbSettings: { password: 'R4Dms0021', authMechanism: 'scram_sha_1' }, redisSettings: { authPassword: 'R4Dms0022' } }),
    secrets: ['R4Dms0020', 'R4Dms0021', 'R4Dms0022'],
    keep: ['scram_sha_1', 'dms'],
  },
  {
    name: 'CodeBuild CreateProject PLAINTEXT env vars',
    rec: ctEvent('codebuild.amazonaws.com', 'CreateProject', {
      name: 'ci',
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        privilegedMode: true,
        imagePullCredentialsType: 'CODEBUILD',
        environmentVariables: [
          { name: 'DB_PASSWORD', value: 'R4Cb00023', type: 'PLAINTEXT' },
          { name: 'GITHUB_TOKEN', value: '/ci/github-token', type: 'PARAMETER_STORE' },
          { name: 'NPM_TOKEN', value: 'prod/npm:token', type: 'SECRETS_MANAGER' },
        ],
      },
    }),
    secrets: ['R4Cb00023'],
    keep: ['CODEBUILD', '/ci/github-token', 'prod/npm:token'],
  },
  { name: 'ElastiCache CreateReplicationGroup authToken', rec: ctEvent('elasticache.amazonaws.com', 'CreateReplicationGroup', { replicationGroupId: 'cache', authToken: 'R4Ec00024', transitEncryptionEnabled: true }), secrets: ['R4Ec00024'], keep: ['cache'] },
  {
    name: 'Amplify CreateApp oauthToken / basicAuthCredentials, EventBridge CreateConnection apiKeyValue',
    rec: ctEvent('amplify.amazonaws.com', 'CreateApp', { name: 'web', oauthToken: 'R4Amp0025', basicAuthCredentials: 'UjRBbXAwMDI2', authParameters: { apiKeyAuthParameters: { apiKeyName: 'x-api-key', apiKeyValue: 'R4Evb0027' } } }),
    secrets: ['R4Amp0025', 'UjRBbXAwMDI2', 'R4Evb0027'],
    keep: ['web', 'x-api-key'],
  },
  { name: 'runtime record: environment list with DB_PASS= and a token key', rec: { ...runtime, process: { ...(runtime.process as Record<string, unknown>), env: ['HOME=/root', 'DB_PASS=R4RtEnv28'] }, labels: { token: 'R4RtTok29' } }, secrets: ['R4RtEnv28', 'R4RtTok29'], keep: ['HOME=/root'] },
];

const ROUND4 = [...ROUND4_PATCHES, ...ROUND4_COMMANDS, ...ROUND4_KEYS];

/**
 * Round 4 look-alikes: port flags, timestamps, expiries, references to a secret by name or id, KMS key ids,
 * pagination and idempotency tokens. Each is redacted nowhere.
 */
const ROUND4_KEPT: Case[] = [
  { name: 'port and prompt flags', rec: proc('docker run -p 8080:80 nginx; ldapsearch -W -x -p 389 -b dc=corp; htpasswd -c /etc/.htpasswd admin; sqlcmd -S db -U sa -C; kubectl port-forward svc/db 5432 --address 0.0.0.0'), secrets: [], keep: ['-p 8080:80', '-p 389', 'htpasswd -c /etc/.htpasswd admin'] },
  { name: 'AWS CLI references', rec: proc('aws secretsmanager get-secret-value --secret-id prod/db; aws kms encrypt --key-id alias/app --plaintext fileb://x; kubeadm token create --ttl 24h; psql --no-password -h db'), secrets: [], keep: ['--secret-id prod/db', '--key-id alias/app', '--no-password -h db'] },
  {
    name: 'a custom resource with references, expiries and timestamps',
    rec: podCreate('certificates', { kind: 'Certificate', spec: { secretName: 'web-tls', tokenExpiry: '2024-11-06T00:00:00Z', password_last_changed: '2024-10-01', passwordLastChanged: '2024-10-01', keyId: 'alias/app', kmsKeyId: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', secretRef: { name: 'db' }, tokenSecretRef: { name: 'tok', key: 'token' }, passwordSecretKeyRef: { name: 'db', key: 'password' } } }),
    secrets: [],
    keep: ['web-tls', '2024-11-06T00:00:00Z', '2024-10-01', 'alias/app', '"key":"token"', '"key":"password"'],
  },
  {
    name: 'CloudTrail pagination and idempotency tokens, secret ids',
    rec: ctEvent('secretsmanager.amazonaws.com', 'ListSecrets', { maxResults: 100, nextToken: 'AAEAAZ3nextTok', clientToken: 'idem-1', clientRequestToken: 'a1b2c3d4-5678', secretId: 'prod/db', SecretId: 'prod/api', paginationToken: 'pg-2', passwordLastUsed: '2024-10-01T00:00:00Z', passwordResetRequired: false }),
    secrets: [],
    keep: ['AAEAAZ3nextTok', 'idem-1', 'a1b2c3d4-5678', 'prod/db', 'prod/api', 'pg-2', '2024-10-01T00:00:00Z'],
  },
  { name: 'SSM PutParameter of a String keeps its value', rec: ctEvent('ssm.amazonaws.com', 'PutParameter', { name: '/prod/feature', type: 'String', value: 'enabled-v2' }), secrets: [], keep: ['enabled-v2'] },
  { name: 'GuardDuty process working directory', rec: gdService({ runtimeDetails: { process: { name: 'sh', pwd: '/srv/app', executablePath: '/bin/sh' } } }), secrets: [], keep: ['/srv/app'] },
];

/**
 * Round 5: secrets that reached the index before this round (each case failed before the fix): names ending in
 * `_KEY`, archive passwords (zip -P, 7z/rar -p<pw>, unzip -P), Samba's user%password, openssl enc's -k / -K and a
 * quoted -pass, Oracle connect strings (user/password@db) after an Oracle client, DMS's TDE password.
 */
const ROUND5: Case[] = [
  { name: 'env assignment STRIPE_KEY= in a command line', rec: proc('env STRIPE_KEY=R5Key0001 LICENSE_KEY=R5Key0002 node server.js'), secrets: ['R5Key0001', 'R5Key0002'], keep: ['STRIPE_KEY=', 'node server.js'] },
  { name: 'docker run -e ENCRYPTION_KEY=', rec: proc('docker run -e ENCRYPTION_KEY="R5Key0003" -e LOG_LEVEL=debug app:1'), secrets: ['R5Key0003'], keep: ['LOG_LEVEL=debug', 'app:1'] },
  { name: 'runtime environment list with APP_KEY=', rec: { ...runtime, process: { ...(runtime.process as Record<string, unknown>), env: ['HOME=/root', 'APP_KEY=R5Key0004', 'SSH_PUBLIC_KEY=ssh-ed25519 AAAAC3Nza'] } }, secrets: ['R5Key0004'], keep: ['HOME=/root', 'SSH_PUBLIC_KEY=ssh-ed25519 AAAAC3Nza'] },
  { name: 'pod env STRIPE_KEY, MASTER_KEY (structured)', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ env: [{ name: 'STRIPE_KEY', value: 'R5Key0005' }, { name: 'PUBLIC_KEY', value: 'pk-public-1' }, { name: 'KMS_KEY', value: 'alias/app' }] }) }), secrets: ['R5Key0005'], keep: ['pk-public-1', 'alias/app'] },
  { name: 'ConfigMap .env file and YAML with _KEY names', rec: noResponse('configmaps', { data: { 'app.env': 'SIGNING_KEY=R5Key0006\nPARTITION_KEY=tenant\n', 'app.yaml': 'ENCRYPTION_KEY: R5Key0007\nKEY_ID: k-123\n' } }), secrets: ['R5Key0006', 'R5Key0007'], keep: ['PARTITION_KEY=tenant', 'KEY_ID: k-123'] },
  { name: 'GuardDuty API call parameters: env entry STRIPE_KEY as JSON text', rec: gdService({ action: { actionType: 'KUBERNETES_API_CALL', kubernetesApiCallAction: { requestUri: '/api/v1/namespaces/payments/pods', verb: 'create', parameters: '{"kind":"Pod","spec":{"containers":[{"name":"app","env":[{"name":"STRIPE_KEY","value":"R5Key0008"}]}]}}' } } }), secrets: ['R5Key0008'], keep: ['STRIPE_KEY'] },
  { name: 'custom resource with an UPPER_SNAKE _KEY key', rec: podCreate('helmreleases', { kind: 'HelmRelease', spec: { values: { SENDGRID_KEY: 'R5Key0009', CACHE_KEY: 'v2' } } }), secrets: ['R5Key0009'], keep: ['"CACHE_KEY":"v2"'] },
  { name: 'zip -P <password>', rec: proc('zip -r -P R5Zip0010 /tmp/out.zip /data'), secrets: ['R5Zip0010'], keep: ['/tmp/out.zip /data', 'zip -r -P '] },
  { name: 'unzip -P <password>', rec: proc('unzip -o -P R5Zip0011 loot.zip -d /tmp/x'), secrets: ['R5Zip0011'], keep: ['loot.zip -d /tmp/x'] },
  { name: '7z a -p<password>, rar a -p<password>', rec: proc('7z a -pR5Sev0012 -mhe=on out.7z /data && rar a -pR5Rar0013 out.rar /data'), secrets: ['R5Sev0012', 'R5Rar0013'], keep: ['-mhe=on out.7z /data', 'out.rar /data'] },
  { name: 'smbclient -U user%password', rec: proc('smbclient //fs01/share -U CORP\\admin%R5Smb0014 -c ls'), secrets: ['R5Smb0014'], keep: ['//fs01/share', 'CORP\\admin%', '-c ls'] },
  { name: 'smbclient --user=user%password, rpcclient -U', rec: proc('smbclient -L fs01 --user=admin%R5Smb0015; rpcclient -U "admin%R5Smb0016" fs01'), secrets: ['R5Smb0015', 'R5Smb0016'], keep: ['--user=admin%', 'fs01'] },
  { name: 'openssl enc -k <password>, -K <hex key>', rec: proc('openssl enc -aes-256-cbc -salt -k R5Ssl0017 -in db.sql -out db.enc; openssl enc -d -aes-128-cbc -K 00112233R5Ssl0018 -iv 0a0b -in x'), secrets: ['R5Ssl0017', 'R5Ssl0018'], keep: ['-in db.sql -out db.enc', '-iv 0a0b'] },
  { name: 'openssl -pass "pass:<password>" quoted', rec: proc('openssl enc -aes-256-cbc -pass "pass:R5Ssl0019" -in a; openssl pkcs12 -export -passout \'pass:R5Ssl0020\' -out k.p12'), secrets: ['R5Ssl0019', 'R5Ssl0020'], keep: ['-out k.p12'] },
  { name: 'sqlplus user/password@db', rec: proc('sqlplus -s scott/R5Ora0021@orcl @report.sql'), secrets: ['R5Ora0021'], keep: ['scott/', '@orcl @report.sql'] },
  { name: 'sqlplus user/password@//host:port/service, expdp, rman', rec: proc('sqlplus system/R5Ora0022@//db.internal:1521/ORCLPDB1; expdp system/R5Ora0023@prod schemas=hr; rman target sys/R5Ora0024@prod catalog rcat/R5Ora0025@catdb'), secrets: ['R5Ora0022', 'R5Ora0023', 'R5Ora0024', 'R5Ora0025'], keep: ['@//db.internal:1521/ORCLPDB1', 'schemas=hr'] },
  { name: 'sqlplus user/password (local), sqlldr userid=', rec: proc('sqlplus -L scott/R5Ora0026; sqlldr userid=scott/R5Ora0027 control=load/x.ctl'), secrets: ['R5Ora0026', 'R5Ora0027'], keep: ['control=load/x.ctl'] },
  { name: 'Oracle JDBC thin URL with a logon', rec: proc('java -Ddb.url=jdbc:oracle:thin:app/R5Jdbc042@//db.internal:1521/ORCLPDB1 -jar app.jar'), secrets: ['R5Jdbc042'], keep: ['jdbc:oracle:thin:app/', '@//db.internal:1521/ORCLPDB1 -jar app.jar'] },
  { name: 'exec: zip -P <password>', rec: execUri(['zip', '-P', 'R5ExZip28', 'out.zip', 'f']), secrets: ['R5ExZip28'], keep: ['command=out.zip'] },
  { name: 'exec: 7z -p<password>', rec: execUri(['7z', 'x', '-pR5Ex7z029', 'a.7z']), secrets: ['R5Ex7z029'], keep: ['command=a.7z'] },
  { name: 'exec: smbclient -U user%password', rec: execUri(['smbclient', '//fs/s', '-U', 'admin%R5ExSmb30']), secrets: ['R5ExSmb30'], keep: ['admin%25'] },
  { name: 'exec: openssl enc -k <password>', rec: execUri(['openssl', 'enc', '-aes-256-cbc', '-k', 'R5ExSsl31', '-in', 'a']), secrets: ['R5ExSsl31'], keep: ['command=-in'] },
  { name: 'exec: sqlplus user/password@db', rec: execUri(['sqlplus', '-s', 'scott/R5ExOra32@orcl']), secrets: ['R5ExOra32'], keep: ['command=-s'] },
  { name: 'pod command: sqlplus and unzip in args', rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['sqlplus'], args: ['-s', 'app/R5PodOra33@db'] }) }), secrets: ['R5PodOra33'], keep: ['sqlplus'] },
  {
    name: 'DMS CreateEndpoint Oracle TDE password (securityDbEncryption) and ASM password',
    rec: ctEvent('dms.amazonaws.com', 'CreateEndpoint', { endpointIdentifier: 'ora-src', engineName: 'oracle', username: 'dms', oracleSettings: { asmServer: 'asm:1521/+ASM', asmUser: 'asmuser', asmPassword: 'R5Dms0034', securityDbEncryption: 'R5Dms0035', securityDbEncryptionName: 'ORACLE.SECURITY.DB.ENCRYPTION.Adg8m2dhkU', useLogminerReader: false }, kafkaSettings: { saslPassword: 'R5Dms0036', sslClientKeyPassword: 'R5Dms0037', saslUsername: 'dms' } }),
    secrets: ['R5Dms0034', 'R5Dms0035', 'R5Dms0036', 'R5Dms0037'],
    keep: ['ORACLE.SECURITY.DB.ENCRYPTION.Adg8m2dhkU', 'asmuser', 'asm:1521/+ASM'],
  },
  {
    name: 'DMS ModifyEndpoint: the password of every endpoint settings type',
    rec: ctEvent('dms.amazonaws.com', 'ModifyEndpoint', {
      endpointArn: 'arn:aws:dms:us-west-2:111122223333:endpoint:X',
      password: 'R5Dms0050,R5Dms0051',
      redisSettings: { authType: 'auth-token', authPassword: 'R5Dms0052' },
      docDbSettings: { password: 'R5Dms0053' },
      redshiftSettings: { password: 'R5Dms0054' },
      microsoftSQLServerSettings: { password: 'R5Dms0055' },
      postgreSQLSettings: { password: 'R5Dms0056' },
      mySQLSettings: { password: 'R5Dms0057' },
      sybaseSettings: { password: 'R5Dms0058' },
      iBMDb2Settings: { password: 'R5Dms0059' },
      gcpMySQLSettings: { password: 'R5Dms0060' },
      mongoDbSettings: { password: 'R5Dms0061', authMechanism: 'scram_sha_1' },
    }),
    secrets: ['R5Dms0050', 'R5Dms0051', 'R5Dms0052', 'R5Dms0053', 'R5Dms0054', 'R5Dms0055', 'R5Dms0056', 'R5Dms0057', 'R5Dms0058', 'R5Dms0059', 'R5Dms0060', 'R5Dms0061'],
    keep: ['auth-token', 'scram_sha_1'],
  },
  {
    name: 'aws dms modify-endpoint --oracle-settings SecurityDbEncryption=<pw> (shorthand and JSON)',
    rec: proc('aws dms modify-endpoint --endpoint-arn arn:aws:dms:x --oracle-settings SecurityDbEncryption=R5Dms0038,SecurityDbEncryptionName=TDEKEY1; aws dms modify-endpoint --oracle-settings \'{"SecurityDbEncryption":"R5Dms0039"}\''),
    secrets: ['R5Dms0038', 'R5Dms0039'],
    keep: ['SecurityDbEncryptionName=TDEKEY1'],
  },
  {
    name: 'last-applied annotation of a Deployment with env STRIPE_KEY and a sqlplus logon (no other secret word in the text)',
    rec: podCreate('deployments', {
      kind: 'Deployment',
      metadata: { name: 'report', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'r', env: [{ name: 'STRIPE_KEY', value: 'R5La00040' }], command: ['sqlplus', '-s', 'rpt/R5La00041@orcl'] }] } } } }) } },
    }),
    secrets: ['R5La00040', 'R5La00041'],
    keep: ['STRIPE_KEY', 'rpt/'],
  },
];

/** Round 5 look-alikes: public and structural `_KEY` names, other programs' -P / -p / -U / -k, paths with `/` and `@`. */
const ROUND5_KEPT: Case[] = [
  { name: '_KEY names that are public or structural, _KEY_ID ids', rec: proc('env PUBLIC_KEY=ssh-rsa STRIPE_PUBLISHABLE_KEY=pk_live_1 RECAPTCHA_SITE_KEY=6Lc PARTITION_KEY=tenant KMS_KEY=alias/app AWS_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE KEY_ID=k1 AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE app'), secrets: [], keep: ['PUBLIC_KEY=ssh-rsa', 'pk_live_1', 'RECAPTCHA_SITE_KEY=6Lc', 'PARTITION_KEY=tenant', 'KMS_KEY=alias/app', 'AWS_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE', 'KEY_ID=k1'] },
  { name: 'lower-case keys ending in key in text', rec: proc('aws dynamodb query --key-condition-expression "pk = :v" --sort_key=ts; s3key=logs/a.gz'), secrets: [], keep: ['--sort_key=ts', 's3key=logs/a.gz'] },
  { name: 'other programs\' -P / -p / -U / -k', rec: proc('gzip -k big.log; tar -P -czf a.tgz /etc; rsync -P a b; sort -k 2 f; curl -k https://x; ssh -p 22 h; sudo -u app id; psql -U app -p 5432; 7z l a.7z; zip -r a.zip dir; unzip -l a.zip; 7z a -p a.7z'), secrets: [], keep: ['gzip -k big.log', 'tar -P -czf', 'sort -k 2 f', 'curl -k https://x', 'psql -U app -p 5432', '7z a -p a.7z'] },
  { name: 'smbclient without a password, openssl -kfile / -pass file:', rec: proc('smbclient //fs/s -U admin -c ls; smbclient -N -L fs; openssl enc -aes-256-cbc -kfile /run/k -in a; openssl rsa -passin file:/run/p -in k; openssl s_client -connect h:443 -servername h'), secrets: [], keep: ['-U admin -c ls', '-kfile /run/k', '-passin file:/run/p', 'openssl s_client -connect h:443'] },
  { name: 'paths with / and @ outside an Oracle client, Oracle OS authentication', rec: proc('cp a/b@c /tmp; git log main/x@{1}; npm i @scope/pkg@1.2.3; sqlplus / as sysdba; sqlplus -s /@wallet_tns @scripts/run.sql; rman target /; impdp directory=dp dumpfile=exp/x.dmp'), secrets: [], keep: ['cp a/b@c /tmp', 'main/x@{1}', '@scope/pkg@1.2.3', 'sqlplus / as sysdba', '/@wallet_tns @scripts/run.sql', 'rman target /', 'dumpfile=exp/x.dmp'] },
  { name: 'DMS endpoint without secrets: the TDE key name, Secrets Manager ids', rec: ctEvent('dms.amazonaws.com', 'ModifyEndpoint', { endpointArn: 'arn:aws:dms:us-west-2:111122223333:endpoint:X', oracleSettings: { securityDbEncryptionName: 'ORACLE.SECURITY.DB.ENCRYPTION.Adg8m2dhkU', secretsManagerSecurityDbEncryptionSecretId: 'prod/tde', secretsManagerOracleAsmSecretId: 'prod/asm' } }), secrets: [], keep: ['ORACLE.SECURITY.DB.ENCRYPTION.Adg8m2dhkU', 'prod/tde', 'prod/asm'] },
];

/**
 * Round 6: what a red-teamer types on a pod that reached the index before this round (each case failed before the
 * fix): Oracle `CONNECT user/pw` in SQL text piped to a client, Impacket's `domain/user:password@host` and
 * `-hashes LM:NT`, NetExec / CrackMapExec / evil-winrm / hydra `-p` and `-H`, Windows `net use` / `net user`
 * passwords, openssl `-macopt key:`, xfreerdp `/p:` and `/pth:`, mysqladmin's `password <new>`.
 */
const NT = '8846f7eaee8fb117ad06bdd830b7586c';
const ROUND6: Case[] = [
  { name: 'echo "CONNECT user/pw@db" | sqlplus /nolog', rec: proc('echo "CONNECT scott/R6Ora0001@orcl" | sqlplus /nolog'), secrets: ['R6Ora0001'], keep: ['CONNECT scott/', '@orcl', 'sqlplus /nolog'] },
  { name: 'printf conn user/pw@//host/svc, echo connect user/pw (local) piped to sqlplus', rec: proc("printf 'conn system/R6Ora0002@//db.internal:1521/ORCLPDB1\\nselect 1 from dual;\\n' | sqlplus -s /nolog; echo \"connect app/R6Ora0003\" | sqlplus /nolog"), secrets: ['R6Ora0002', 'R6Ora0003'], keep: ['@//db.internal:1521/ORCLPDB1', 'select 1 from dual;'] },
  { name: 'ConfigMap SQL script with CONNECT user/pw@db AS SYSDBA (no client word)', rec: noResponse('configmaps', { data: { 'init.sql': 'WHENEVER SQLERROR EXIT 1\nCONNECT sys/R6Ora0004@orcl AS SYSDBA;\nCONN app/R6Ora0005;\n@create_tables.sql\n' } }), secrets: ['R6Ora0004', 'R6Ora0005'], keep: ['CONNECT sys/', '@create_tables.sql'] },
  { name: 'Impacket domain/user:password@host (secretsdump.py, impacket-psexec, wmiexec.py)', rec: proc("python3 secretsdump.py CORP/admin:R6Imp0006@10.0.0.5; impacket-psexec corp.local/Administrator:'R6Imp0007'@dc01.corp.local cmd.exe; /opt/impacket/examples/wmiexec.py 'svc_sql:R6Imp@X008@10.0.0.9' whoami"), secrets: ['R6Imp', 'X008'], keep: ['CORP/admin:', '@10.0.0.5', '@dc01.corp.local cmd.exe', 'whoami'] },
  { name: 'Impacket domain/user:password without a host (getTGT.py, GetUserSPNs.py)', rec: proc('getTGT.py -dc-ip 10.0.0.1 corp.local/svc_web:R6Imp0009; GetUserSPNs.py -request -dc-ip 10.0.0.1 CORP/jdoe:R6Imp0010 -outputfile spns.txt'), secrets: ['R6Imp0009', 'R6Imp0010'], keep: ['-dc-ip 10.0.0.1 corp.local/svc_web:', '-outputfile spns.txt'] },
  { name: 'Impacket -hashes LM:NT and -aesKey', rec: proc(`smbexec.py -hashes aad3b435b51404eeaad3b435b51404ee:${NT} CORP/admin@10.0.0.5; getST.py -spn cifs/dc01 -aesKey 4d2c9e00R6Aes0011 CORP/svc`), secrets: [NT, 'aad3b435b51404eeaad3b435b51404ee', 'R6Aes0011'], keep: ['CORP/admin@10.0.0.5', '-spn cifs/dc01', 'CORP/svc'] },
  { name: 'NetExec / CrackMapExec -p <password>, -H <hash>', rec: proc(`nxc smb 10.0.0.0/24 -u admin -p R6Nxc0012 --shares; crackmapexec winrm 10.0.0.5 -u admin -H ${NT} -x whoami; netexec ldap dc01 -u jdoe -p 'R6 Nxc0013' --kerberoasting out.txt`), secrets: ['R6Nxc0012', NT, 'R6 Nxc0013', 'Nxc0013'], keep: ['10.0.0.0/24 -u admin -p ', '--shares', '-x whoami', '--kerberoasting out.txt'] },
  { name: 'evil-winrm -p / -H, hydra -p, smbmap -p, rdesktop -p', rec: proc(`evil-winrm -i 10.0.0.5 -u admin -p R6Ewr0014 -P 5985; evil-winrm -i 10.0.0.6 -u admin -H ${NT}; hydra -l admin -p R6Hyd0015 ssh://10.0.0.7; smbmap -H 10.0.0.5 -u admin -p R6Smm0016 -P 445; rdesktop -u admin -p R6Rdt0017 10.0.0.8`), secrets: ['R6Ewr0014', NT, 'R6Hyd0015', 'R6Smm0016', 'R6Rdt0017'], keep: ['-P 5985', 'ssh://10.0.0.7', 'smbmap -H 10.0.0.5', '-P 445', '10.0.0.8'] },
  { name: 'xfreerdp /p:<password>, /pth:<hash>', rec: proc(`xfreerdp /v:10.0.0.5 /u:admin /p:R6Rdp0018 /cert:ignore; xfreerdp3 /v:10.0.0.6 /u:CORP\\admin /pth:${NT}`), secrets: ['R6Rdp0018', NT], keep: ['/v:10.0.0.5 /u:admin /p:', '/cert:ignore'] },
  { name: 'net use \\\\host\\share /user:dom\\u <pw>, net use Z: \\\\host\\share <pw> /user:u, net user u <pw> /add', rec: proc('cmd.exe /c net use \\\\fs01\\c$ /user:CORP\\admin R6Net0019 && net use Z: \\\\fs01\\share "R6Net0020" /user:admin /persistent:no && NET USER backdoor R6Net0021 /add /domain'), secrets: ['R6Net0019', 'R6Net0020', 'R6Net0021'], keep: ['\\\\fs01\\c$ /user:CORP\\admin', '/persistent:no', 'NET USER backdoor', '/add /domain'] },
  { name: 'openssl -macopt key: / hexkey:, -kdfopt key:', rec: proc('openssl dgst -sha256 -mac HMAC -macopt key:R6Ssl0022 body.json; openssl mac -digest SHA256 -macopt hexkey:00ffR6Ssl0023 -in f HMAC; openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt key:R6Ssl0024 HKDF'), secrets: ['R6Ssl0022', 'R6Ssl0023', 'R6Ssl0024'], keep: ['-macopt key:', 'body.json', '-kdfopt digest:SHA256'] },
  { name: 'mysqladmin password <new>', rec: proc('mysqladmin -u root password R6Mya0025; mysqladmin -u root -pR6Mya0026 password "R6Mya0027"'), secrets: ['R6Mya0025', 'R6Mya0026', 'R6Mya0027'], keep: ['mysqladmin -u root password '] },
  { name: 'exec: secretsdump.py domain/user:pw@host', rec: execUri(['secretsdump.py', 'CORP/admin:R6ExImp28@10.0.0.5']), secrets: ['R6ExImp28'], keep: ['CORP%2Fadmin%3A'] },
  { name: 'exec: nxc -p, -H', rec: execUri(['nxc', 'smb', '10.0.0.5', '-u', 'admin', '-p', 'R6ExNxc29', '-H', NT]), secrets: ['R6ExNxc29', NT], keep: ['command=admin'] },
  { name: 'exec: net use \\\\h\\s <pw> /user:u', rec: execUri(['net', 'use', '\\\\fs01\\share', 'R6ExNet30', '/user:admin']), secrets: ['R6ExNet30'], keep: ['%2Fuser%3Aadmin'] },
  { name: 'exec: impacket -hashes <LM:NT>, openssl -macopt key:<k>', rec: execUri(['wmiexec.py', '-hashes', `:${NT}`, 'CORP/admin@10.0.0.5', ';', 'openssl', 'dgst', '-macopt', 'key:R6ExSsl31']), secrets: [NT, 'R6ExSsl31'], keep: ['command=-hashes', 'key%3A'] },
  { name: 'pod: sh -c echo CONNECT | sqlplus; xfreerdp args /p:', rec: podCreate('pods', { kind: 'Pod', spec: { containers: [container({ command: ['sh', '-c', 'echo "CONNECT app/R6PodOra32@db" | sqlplus -s /nolog'] }), container({ name: 'rdp', command: ['xfreerdp'], args: ['/v:10.0.0.5', '/u:admin', '/p:R6PodRdp33'] })] } }), secrets: ['R6PodOra32', 'R6PodRdp33'], keep: ['/u:admin', '/p:'] },
  { name: 'pod: net user u <pw> /add, hydra -p, mysqladmin password as argv', rec: podCreate('pods', { kind: 'Pod', spec: { containers: [container({ command: ['net', 'user', 'backdoor', 'R6PodNet34', '/add'] }), container({ name: 'h', command: ['hydra', '-l', 'admin', '-p', 'R6PodHyd35', 'ssh://h'] }), container({ name: 'm', command: ['mysqladmin', '-u', 'root', 'password', 'R6PodMya36'] }), container({ name: 'i', command: ['getTGT.py'], args: ['corp/svc:R6PodImp37'] })] } }), secrets: ['R6PodNet34', 'R6PodHyd35', 'R6PodMya36', 'R6PodImp37'], keep: ['backdoor', '/add', 'ssh://h', 'corp/svc:'] },
];

/**
 * Round 6 look-alikes: the same programs without a password, ports after -P, `connect` in prose and proxy logs,
 * paths with `/`, `:` and `@` outside an Impacket script.
 */
const ROUND6_KEPT: Case[] = [
  { name: 'connect look-alikes: prose, HTTP CONNECT', rec: proc('echo connect db/primary first; curl -v -p -x http://proxy:3128 https://h; CONNECT api.github.com:443 HTTP/1.1'), secrets: [], keep: ['echo connect db/primary first', 'CONNECT api.github.com:443 HTTP/1.1'] },
  { name: 'connect without a password piped to sqlplus (OS authentication, a wallet)', rec: proc('echo "connect / as sysdba" | sqlplus /nolog; printf "conn /@wallet_tns\\n@run.sql" | sqlplus -s /nolog'), secrets: [], keep: ['connect / as sysdba', 'conn /@wallet_tns'] },
  { name: 'Impacket without a password (Kerberos, hashes file, offline), paths with / : @ elsewhere', rec: proc('secretsdump.py -k -no-pass CORP/admin@dc01.corp.local; GetNPUsers.py CORP/ -usersfile users.txt -no-pass -dc-ip 10.0.0.1; secretsdump.py -sam sam.save -system system.save LOCAL; python3 app.py config/dev:prod@eu; cp a/b:c@d /tmp; git clone git@github.com:org/repo.git'), secrets: [], keep: ['CORP/admin@dc01.corp.local', 'CORP/ -usersfile users.txt', 'app.py config/dev:prod@eu', 'cp a/b:c@d /tmp', 'git@github.com:org/repo.git'] },
  { name: 'NetExec and friends without a password, ports after -P', rec: proc('nxc smb 10.0.0.0/24 --gen-relay-list relay.txt; nxc smb dc01 -u jdoe --use-kcache -k; evil-winrm -i 10.0.0.5 -u admin -P 5986 -S; hydra -L users.txt -P rockyou.txt -s 2222 ssh://h; smbmap -H 10.0.0.5 -P 445; rdesktop -p - 10.0.0.8; ssh -p 2222 h; docker run -p 8080:80 nginx'), secrets: [], keep: ['--gen-relay-list relay.txt', '-u jdoe --use-kcache -k', '-P 5986 -S', '-P rockyou.txt -s 2222', 'smbmap -H 10.0.0.5 -P 445', 'rdesktop -p - 10.0.0.8', 'ssh -p 2222 h', '-p 8080:80'] },
  { name: 'net use / net user without a password', rec: proc('net use; net use Z: \\\\fs01\\share /persistent:yes; net use Z: /delete; net use \\\\fs01\\ipc$ * /user:admin; net user; net user admin /active:yes; net user admin * /domain; net localgroup administrators; net view \\\\fs01; echo the net user count grew by 5 percent'), secrets: [], keep: ['net use Z: \\\\fs01\\share /persistent:yes', 'net use \\\\fs01\\ipc$ * /user:admin', 'net user admin /active:yes', 'net user admin * /domain', 'net view \\\\fs01', 'the net user count grew by 5 percent'] },
  { name: 'xfreerdp and openssl without secrets', rec: proc('xfreerdp /v:10.0.0.5 /u:admin /cert:ignore +clipboard; openssl dgst -sha256 -mac HMAC -macopt digest:SHA256 f; openssl kdf -kdfopt salt:abc -kdfopt info:label HKDF'), secrets: [], keep: ['/v:10.0.0.5 /u:admin /cert:ignore +clipboard', '-macopt digest:SHA256', '-kdfopt salt:abc -kdfopt info:label'] },
  {
    name: 'camelCase …Key names: only the secret-named ones are redacted (apiKey, privateKey, secretKey, signingKey); accessKey, encryptionKey (a KMS ARN), objectKey stay',
    rec: ctEvent('codebuild.amazonaws.com', 'CreateProject', { name: 'ci', encryptionKey: 'arn:aws:kms:us-west-2:111122223333:alias/aws/s3', accessKey: 'AKIAIOSFODNN7EXAMPLE', objectKey: 'builds/ci.zip', partitionKey: 'tenant' }),
    secrets: [],
    keep: ['arn:aws:kms:us-west-2:111122223333:alias/aws/s3', 'AKIAIOSFODNN7EXAMPLE', 'builds/ci.zip', 'tenant'],
  },
];

/**
 * Round 6, found already handled (pinned here): the usual red-team and admin spellings of the earlier rounds' rules.
 */
const ROUND6_HANDLED: Case[] = [
  {
    name: 'curl -u / Authorization header, mysql -p, PGPASSWORD=, sshpass, redis-cli -a, mongosh URL, ldapsearch -w, wget --password',
    rec: proc("curl -su admin:R6Hd0001 https://x; curl --header 'Authorization: Basic UjZIZDAwMDI=' https://x; mysql -uroot -pR6Hd0003 db; PGPASSWORD=R6Hd0004 psql -h db; sshpass -p R6Hd0005 ssh u@h; redis-cli -h r -a R6Hd0006 ping; mongosh mongodb://u:R6Hd0007@h/db; ldapsearch -x -D cn=admin -w R6Hd0008 -b dc=x; wget --http-password=R6Hd0009 --user=u http://x"),
    secrets: ['R6Hd0001', 'UjZIZDAwMDI=', 'R6Hd0003', 'R6Hd0004', 'R6Hd0005', 'R6Hd0006', 'R6Hd0007', 'R6Hd0008', 'R6Hd0009'],
    keep: ['https://x', 'psql -h db', 'ssh u@h', 'ping', '@h/db', '-b dc=x'],
  },
  {
    name: 'az login -p, docker login -p, helm repo add --password, kubectl --token, openssl -passin / -passout pass:',
    rec: proc('az login --service-principal -u app -p R6Hd0010 --tenant t; docker login -u u -p R6Hd0011 r.example.com; helm repo add r https://charts --username u --password R6Hd0012; kubectl --token=R6Hd0013 get pods; kubectl --token R6Hd0014 get secrets; openssl rsa -passin pass:R6Hd0015 -in k -passout pass:R6Hd0016 -out k2; openssl pkcs12 -passin env:P12_PASS -in k'),
    secrets: ['R6Hd0010', 'R6Hd0011', 'R6Hd0012', 'R6Hd0013', 'R6Hd0014', 'R6Hd0015', 'R6Hd0016'],
    keep: ['--tenant t', 'r.example.com', 'get pods', '-passin env:P12_PASS'],
  },
  {
    name: 'camelCase apiKey, privateKey, secretKey, signingKey, masterKey, hmacKey',
    rec: ctEvent('events.amazonaws.com', 'CreateConnection', { name: 'c', apiKey: 'R6Hd0017', privateKey: 'R6Hd0018', secretKey: 'R6Hd0019', signingKey: 'R6Hd0020', masterKey: 'R6Hd0021', hmacKey: 'R6Hd0022' }),
    secrets: ['R6Hd0017', 'R6Hd0018', 'R6Hd0019', 'R6Hd0020', 'R6Hd0021', 'R6Hd0022'],
    keep: [],
  },
];

/**
 * Round 7: the known gaps of round 6 (rabbitmqctl, lftp, SNMP communities and SNMPv3 passphrases, Samba's net -U,
 * vault login <token>, a secret echoed into --password-stdin, FreeRDP's legacy -p) and three more forms of Kubernetes
 * ops and attack tooling (etcdctl --user u:pw against a control plane's etcd, MinIO's mc alias set with a secret key,
 * ssh-keygen -N/-P passphrases). Each case failed before the fix.
 */
const ROUND7: Case[] = [
  { name: 'rabbitmqctl add_user / change_password / authenticate_user', rec: proc('rabbitmqctl add_user alice R7Rmq0001 && rabbitmqctl -n rabbit@mq-0 change_password "alice" \'R7Rmq 0002\'; rabbitmqctl authenticate_user alice R7Rmq0003'), secrets: ['R7Rmq0001', 'R7Rmq 0002', 'R7Rmq0003'], keep: ['rabbitmqctl add_user alice ', '-n rabbit@mq-0 change_password "alice"', 'authenticate_user alice'] },
  { name: 'lftp -u user,password (unquoted, quoted, open -u in -e)', rec: proc('lftp -u backup,R7Lft0004 sftp://files.internal; lftp -u "ops,R7Lft 0005" ftp://h; lftp -e "open -u bob,R7Lft0006 ftp://h2"'), secrets: ['R7Lft0004', 'R7Lft 0005', 'R7Lft0006'], keep: ['lftp -u backup,', 'sftp://files.internal', '"ops,', 'ftp://h2'] },
  { name: 'snmpwalk -c community, SNMPv3 -A / -X, snmpget -c glued', rec: proc('snmpwalk -v2c -c R7Snm0007 10.0.0.1 system; snmpwalk -v3 -u monitor -l authPriv -a SHA -A R7Snm0008 -x AES -X R7Snm0009 10.0.0.2; snmpget -v1 -cR7Snm0010 h sysDescr.0'), secrets: ['R7Snm0007', 'R7Snm0008', 'R7Snm0009', 'R7Snm0010'], keep: ['10.0.0.1 system', '-u monitor -l authPriv -a SHA -A ', '-x AES -X ', 'sysDescr.0'] },
  { name: 'Samba net -U user%password, smbtree, winexe, samba-tool', rec: proc('net rpc password bob -U CORP\\\\admin%R7Smb0011 -S dc01; net ads join -Uadmin%R7Smb0012; winexe -U CORP/admin%R7Smb0013 //10.0.0.5 cmd.exe; samba-tool user add eve -U admin%R7Smb0014'), secrets: ['R7Smb0011', 'R7Smb0012', 'R7Smb0013', 'R7Smb0014'], keep: ['net rpc password bob -U CORP\\\\admin%', '-S dc01', '//10.0.0.5 cmd.exe', 'samba-tool user add eve -U admin%'] },
  { name: 'vault login <token>, -no-store <token>, -method=userpass password=', rec: proc('vault login R7Vlt0015; vault login -no-store -address=https://vault:8200 R7Vlt0016; vault login -method=userpass username=bob password=R7Vlt0017'), secrets: ['R7Vlt0015', 'R7Vlt0016', 'R7Vlt0017'], keep: ['vault login ', '-address=https://vault:8200', 'username=bob'] },
  { name: 'echo / printf / here-string into --password-stdin, --with-token, passwd --stdin, sudo -S', rec: proc("echo R7Std0018 | docker login -u ci --password-stdin registry.example.com; printf '%s' 'R7Std0019' | helm registry login r.example.com --password-stdin; echo -n R7Std0020 | base64 -d | nerdctl login --password-stdin r; echo R7Std0021 | gh auth login --with-token; echo R7Std0022 | passwd --stdin bob; echo R7Std0023 | sudo -S -u root id; oras login r --password-stdin <<< R7Std0024"), secrets: ['R7Std0018', 'R7Std0019', 'R7Std0020', 'R7Std0021', 'R7Std0022', 'R7Std0023', 'R7Std0024'], keep: ['docker login -u ci --password-stdin registry.example.com', "printf '%s' ", 'passwd --stdin bob', 'sudo -S -u root id'] },
  { name: 'FreeRDP legacy -p, wlfreerdp /p:', rec: proc('xfreerdp -u admin -p R7Rdp0025 10.0.0.5; wlfreerdp /v:10.0.0.6 /u:admin /p:R7Rdp0026'), secrets: ['R7Rdp0025', 'R7Rdp0026'], keep: ['xfreerdp -u admin -p ', '10.0.0.5', '/v:10.0.0.6 /u:admin /p:'] },
  { name: 'etcdctl --user root:password against the control plane etcd', rec: proc('ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.10:2379 --user root:R7Etc0027 get /registry/secrets --prefix; etcdctl --user=admin:R7Etc0028 member list'), secrets: ['R7Etc0027', 'R7Etc0028'], keep: ['--endpoints=https://10.0.0.10:2379 --user root:', 'get /registry/secrets --prefix', 'member list'] },
  { name: 'MinIO mc alias set / config host add <access key> <secret key>', rec: proc('mc alias set s3 https://s3.amazonaws.com AKIAIOSFODNN7EXAMPLE R7Mnc0029 --api S3v4; mc config host add minio http://minio:9000 minioadmin R7Mnc0030'), secrets: ['R7Mnc0029', 'R7Mnc0030'], keep: ['mc alias set s3 https://s3.amazonaws.com AKIAIOSFODNN7EXAMPLE', '--api S3v4', 'http://minio:9000 minioadmin'] },
  { name: 'ssh-keygen -N <new passphrase>, -P <old passphrase>', rec: proc('ssh-keygen -t ed25519 -N R7Ssh0031 -f /tmp/k; ssh-keygen -p -P "R7Ssh0032" -N R7Ssh0033 -f /tmp/k'), secrets: ['R7Ssh0031', 'R7Ssh0032', 'R7Ssh0033'], keep: ['ssh-keygen -t ed25519 -N ', '-f /tmp/k'] },
  { name: 'exec: rabbitmqctl add_user u <pw>', rec: execUri(['rabbitmqctl', 'add_user', 'alice', 'R7ExRmq34']), secrets: ['R7ExRmq34'], keep: ['command=alice'] },
  { name: 'exec: vault login <token>', rec: execUri(['vault', 'login', 'R7ExVlt35']), secrets: ['R7ExVlt35'], keep: ['command=login'] },
  { name: 'exec: snmpwalk -c / -A / -X', rec: execUri(['snmpwalk', '-v3', '-u', 'mon', '-A', 'R7ExSnm36', '-X', 'R7ExSnm37', '-c', 'R7ExSnm38', '10.0.0.1']), secrets: ['R7ExSnm36', 'R7ExSnm37', 'R7ExSnm38'], keep: ['command=mon', 'command=10.0.0.1'] },
  {
    name: 'pod argv: lftp -u, net -U, xfreerdp -p, etcdctl --user, mc alias set, ssh-keygen -N, rabbitmqctl in command with args',
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['lftp', '-u', 'backup,R7PodLft39', 'sftp://h'] }),
          container({ name: 'n', command: ['net', 'ads', 'join', '-U', 'admin%R7PodSmb40'] }),
          container({ name: 'r', command: ['xfreerdp', '-u', 'admin', '-p', 'R7PodRdp41', '10.0.0.5'] }),
          container({ name: 'e', command: ['etcdctl', '--user', 'root:R7PodEtc42', 'get', '/'] }),
          container({ name: 'm', command: ['mc', 'alias', 'set', 's3', 'https://s3', 'AKIAIOSFODNN7EXAMPLE', 'R7PodMnc43'] }),
          container({ name: 'k', command: ['ssh-keygen', '-t', 'ed25519', '-N', 'R7PodSsh44', '-f', 'k'] }),
          container({ name: 'q', command: ['rabbitmqctl'], args: ['change_password', 'alice', 'R7PodRmq45'] }),
        ],
      },
    }),
    secrets: ['R7PodLft39', 'R7PodSmb40', 'R7PodRdp41', 'R7PodEtc42', 'R7PodMnc43', 'R7PodSsh44', 'R7PodRmq45'],
    keep: ['backup,', 'admin%', 'sftp://h', '10.0.0.5', 'root:', 'AKIAIOSFODNN7EXAMPLE', 'change_password', 'alice'],
  },
];

/** Round 7 look-alikes: the same programs without a secret, and what they print or read that is not one. */
const ROUND7_KEPT: Case[] = [
  { name: 'rabbitmqctl and lftp without a password', rec: proc('rabbitmqctl list_users; rabbitmqctl add_user alice; rabbitmqctl delete_user alice; rabbitmqctl set_permissions -p / alice ".*" ".*" ".*"; lftp -u bob sftp://h; lftp -e "mirror -R dir" ftp://h'), secrets: [], keep: ['rabbitmqctl add_user alice;', 'set_permissions -p / alice', 'lftp -u bob sftp://h', 'mirror -R dir'] },
  { name: 'snmpd / snmptrapd -c <config file>, SNMPv3 without passphrases', rec: proc('snmpd -c /etc/snmp/snmpd.conf; snmptrapd -c /etc/snmp/snmptrapd.conf; snmpwalk -v3 -u mon -l noAuthNoPriv 10.0.0.1 -Cc'), secrets: [], keep: ['snmpd -c /etc/snmp/snmpd.conf', 'snmptrapd -c /etc/snmp/snmptrapd.conf', '-l noAuthNoPriv 10.0.0.1 -Cc'] },
  { name: 'net and smbtree without a password, % in date formats', rec: proc('net rpc user -U admin -S dc; net ads info; smbtree -N; date +%Y%m%d; printf "%s\\n" x'), secrets: [], keep: ['net rpc user -U admin -S dc', 'smbtree -N', 'date +%Y%m%d'] },
  { name: 'vault login that prompts, reads stdin or uses an auth method; vault reads', rec: proc('vault login; vault login -method=aws role=dev; vault login -method userpass username=bob; vault login -; vault kv get -field=password secret/db; aws-vault login prod-admin; aws-vault exec dev -- kubectl get pods'), secrets: [], keep: ['aws-vault login prod-admin', 'vault login -method=aws role=dev', 'vault login -method userpass username=bob', 'vault login -;', '-field=password secret/db'] },
  {
    name: 'piped variables, command substitutions and files into --password-stdin; echo into other programs',
    rec: proc('echo "$CI_REGISTRY_PASSWORD" | docker login -u u --password-stdin r; aws ecr get-login-password | docker login --username AWS --password-stdin x; echo $(aws ecr get-login-password) | docker login --password-stdin r; cat pw.txt | docker login --password-stdin r; echo y | sudo apt-get install -y jq; echo ok | sudo tee /etc/x; gh auth login --with-token < token.txt'),
    secrets: [],
    keep: ['echo "$CI_REGISTRY_PASSWORD" | docker login', 'echo $(aws ecr get-login-password) |', 'cat pw.txt |', 'echo y | sudo apt-get install -y jq', 'echo ok | sudo tee', '--with-token < token.txt'],
  },
  { name: 'FreeRDP switches, etcdctl without a password, mc without keys, ssh-keygen without a passphrase', rec: proc('xfreerdp /v:10.0.0.5 /u:admin -wallpaper -themes +clipboard; xfreerdp -printer /v:h; etcdctl --cacert=/etc/kubernetes/pki/etcd/ca.crt --user root get /; etcdctl member list -w table; mc alias set local http://minio:9000; mc cp a local/b; ssh-keygen -t ed25519 -N "" -f key; ssh-keygen -t rsa -N \'\' -C me; ssh-keygen -p -f key'), secrets: [], keep: ['-wallpaper -themes +clipboard', 'xfreerdp -printer /v:h', '--user root get /', 'member list -w table', 'mc alias set local http://minio:9000', '-N "" -f key', "-N '' -C me"] },
];

/** Round 7, found already handled (pinned here): Kubernetes ops spellings the earlier rounds' rules cover. */
const ROUND7_HANDLED: Case[] = [
  {
    name: 'kubectl config set-credentials --token / --password, argocd login --password, helm --set auth.password=, kubeadm join --token, aws configure set, mysql -p, PGPASSWORD',
    rec: proc('kubectl config set-credentials admin --token=R7Hd0001; kubectl config set-credentials u --username=u --password=R7Hd0002; argocd login argocd.example.com --username admin --password R7Hd0003; helm upgrade db bitnami/postgresql --set auth.password=R7Hd0004; kubeadm join 10.0.0.1:6443 --token R7Hd0005 --discovery-token-ca-cert-hash sha256:ab; aws configure set aws_secret_access_key R7Hd0006; mysql -uroot -pR7Hd0007 db; PGPASSWORD=R7Hd0008 psql -h db'),
    secrets: ['R7Hd0001', 'R7Hd0002', 'R7Hd0003', 'R7Hd0004', 'R7Hd0005', 'R7Hd0006', 'R7Hd0007', 'R7Hd0008'],
    keep: ['set-credentials admin --token=', '--username=u', 'argocd.example.com --username admin', '--discovery-token-ca-cert-hash sha256:ab', 'psql -h db'],
  },
];

/**
 * Round 8: round 7's known gaps (chpasswd's input, rabbitmqadmin -p, snmpusm passwd, doctl -t, Samba's net -U before the
 * subcommand), a program's secret after a quoted -e / -c script holding a `;` (and SQL password clauses inside such scripts),
 * and an argv that is a command line split into words (a sensor that tokenizes it). Each case failed before the fix.
 */
const procArgs = (args: string[]): Record<string, unknown> => ({ ...runtime, process: { ...(runtime.process as Record<string, unknown>), args } });
const ROUND8: Case[] = [
  {
    name: 'echo / printf / here-string / here-document into chpasswd (names kept)',
    rec: proc("echo 'alice:R8Chp0001' | chpasswd; echo bob:R8Chp0002 | sudo chpasswd; printf 'carol:R8Chp0003\\ndave:R8Chp0004\\n' | chpasswd; chpasswd <<< 'eve:R8Chp0005'; echo 'root:$6$salt$R8Chp0006' | chpasswd -e"),
    secrets: ['R8Chp0001', 'R8Chp0002', 'R8Chp0003', 'R8Chp0004', 'R8Chp0005', 'R8Chp0006'],
    keep: ["echo 'alice:", 'echo bob:', '| sudo chpasswd', "printf 'carol:", '\\ndave:', "chpasswd <<< 'eve:", "echo 'root:", 'chpasswd -e'],
  },
  { name: 'chpasswd here-document in a ConfigMap script', rec: podCreate('configmaps', { kind: 'ConfigMap', data: { 'init.sh': '#!/bin/sh\nchpasswd <<EOF\nops:R8Chp0007\nbackup:R8Chp0008\nEOF\nexec sshd -D\n' } }), secrets: ['R8Chp0007', 'R8Chp0008'], keep: ['chpasswd <<EOF\nops:', '\nbackup:', 'exec sshd -D'] },
  { name: 'rabbitmqadmin -p / -p<glued> / --password=', rec: proc('rabbitmqadmin -H mq -P 15672 -u admin -p R8Rad0009 list queues; rabbitmqadmin -u admin -pR8Rad0010 list users; rabbitmqadmin --username=admin --password=R8Rad0011 list vhosts'), secrets: ['R8Rad0009', 'R8Rad0010', 'R8Rad0011'], keep: ['rabbitmqadmin -H mq -P 15672 -u admin -p ', 'list queues', '--username=admin'] },
  { name: 'snmpusm passwd <old> <new> (and -A / -X)', rec: proc('snmpusm -v3 -u admin -l authPriv -a SHA -A R8Snu0012 -x AES -X R8Snu0013 10.0.0.1 passwd R8Snu0014 R8Snu0015; snmpusm -v3 -u admin -A R8Snu0016 h passwd -Ca "R8Snu0017" R8Snu0018 bob'), secrets: ['R8Snu0012', 'R8Snu0013', 'R8Snu0014', 'R8Snu0015', 'R8Snu0016', 'R8Snu0017', 'R8Snu0018'], keep: ['snmpusm -v3 -u admin -l authPriv -a SHA -A ', '10.0.0.1 passwd ', 'passwd -Ca ', ' bob'] },
  { name: 'doctl auth init -t / --access-token, doctl -t= on any command', rec: proc('doctl auth init -t R8Doc0019; doctl auth init --access-token R8Doc0020 --context work; doctl -t=R8Doc0021 compute droplet list; doctl -tR8Doc0022 account get'), secrets: ['R8Doc0019', 'R8Doc0020', 'R8Doc0021', 'R8Doc0022'], keep: ['doctl auth init -t ', '--context work', 'compute droplet list', 'account get'] },
  { name: 'Samba net -U user%password before the subcommand', rec: proc('net -U CORP\\\\admin%R8Net0023 rpc user add bob -S dc01; net -Uadmin%R8Net0024 -S dc01 rpc shutdown'), secrets: ['R8Net0023', 'R8Net0024'], keep: ['net -U CORP\\\\admin%', 'rpc user add bob -S dc01', 'rpc shutdown'] },
  {
    name: 'a secret after a quoted -e / -c script holding a ;, and SQL password clauses inside it',
    rec: proc(
      "mysql -e \"use db; select 1\" -uroot -pR8Sql0025; curl -H 'Cookie: a=1; b=2' -u ops:R8Crl0026 https://h; lftp -e \"set ssl:verify-certificate no; open -u bob,R8Lft0027 ftp://h; mirror\"; mysql -e \"use db; ALTER USER 'app'@'%' IDENTIFIED BY 'R8Sql0028'; GRANT ALL ON db.* TO 'rep'@'%' IDENTIFIED WITH mysql_native_password BY 'R8Sql0029'\"; mysql -e \"SET PASSWORD FOR 'app'@'%' = PASSWORD('R8Sql0030'); SET PASSWORD FOR bob = 'R8Sql0031'\"; psql -c \"BEGIN; CREATE ROLE app LOGIN ENCRYPTED PASSWORD 'R8Pgs0032'; COMMIT\"; sqlplus / as sysdba <<< 'ALTER USER scott IDENTIFIED BY R8Ora0033;'",
    ),
    secrets: ['R8Sql0025', 'R8Crl0026', 'R8Lft0027', 'R8Sql0028', 'R8Sql0029', 'R8Sql0030', 'R8Sql0031', 'R8Pgs0032', 'R8Ora0033'],
    keep: ['mysql -e "use db; select 1" -uroot -p', '-u ops:', 'https://h', 'open -u bob,', "ALTER USER 'app'@'%' IDENTIFIED BY '", "TO 'rep'@'%' IDENTIFIED WITH mysql_native_password BY '", "SET PASSWORD FOR 'app'@'%' = PASSWORD('", 'CREATE ROLE app LOGIN ENCRYPTED PASSWORD', 'ALTER USER scott IDENTIFIED BY '],
  },
  { name: 'exec: rabbitmqadmin -p', rec: execUri(['rabbitmqadmin', '-u', 'admin', '-p', 'R8ExRad34', 'list', 'queues']), secrets: ['R8ExRad34'], keep: ['command=admin', 'command=queues'] },
  { name: 'exec: doctl auth init -t', rec: execUri(['doctl', 'auth', 'init', '-t', 'R8ExDoc35']), secrets: ['R8ExDoc35'], keep: ['command=init'] },
  { name: 'exec: snmpusm passwd <old> <new>', rec: execUri(['snmpusm', '-v3', '-u', 'admin', 'h', 'passwd', 'R8ExSnu36', 'R8ExSnu37', 'bob']), secrets: ['R8ExSnu36', 'R8ExSnu37'], keep: ['command=passwd', 'command=bob'] },
  {
    name: 'pod argv: rabbitmqadmin -p, doctl -t=, snmpusm passwd, net -U before the subcommand',
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['rabbitmqadmin', '-u', 'admin', '-p', 'R8PodRad38', 'list', 'queues'] }),
          container({ name: 'd', command: ['doctl'], args: ['-t=R8PodDoc39', 'account', 'get'] }),
          container({ name: 's', command: ['/usr/bin/snmpusm', '-v3', '-u', 'admin', 'h', 'passwd', '-Ca', 'R8PodSnu40', 'R8PodSnu41', 'bob'] }),
          container({ name: 'n', command: ['net', '-U', 'admin%R8PodNet42', 'rpc', 'user', 'add', 'bob'] }),
        ],
      },
    }),
    secrets: ['R8PodRad38', 'R8PodDoc39', 'R8PodSnu40', 'R8PodSnu41', 'R8PodNet42'],
    keep: ['rabbitmqadmin', '-t=', 'passwd', '-Ca', 'bob', 'admin%', 'rpc'],
  },
  {
    name: 'runtime argv split into words: echo pw | docker login --password-stdin, echo u:pw | chpasswd, "echo pw |" as one word',
    rec: procArgs(['echo', 'R8ArgStd43', '|', 'docker', 'login', '-u', 'ci', '--password-stdin', 'registry.example.com', ';', 'echo', 'alice:R8ArgChp44', '|', 'chpasswd', '&&', 'sh', '-c', 'echo R8ArgStd45 |', 'gh auth login --with-token']),
    secrets: ['R8ArgStd43', 'R8ArgChp44', 'R8ArgStd45'],
    keep: ['"docker","login","-u","ci","--password-stdin","registry.example.com"', '"alice:[REDACTED]","|","chpasswd"', '"echo [REDACTED] |","gh auth login --with-token"'],
  },
  {
    name: 'runtime argv split into words: a flag and its value apart (rabbitmqadmin -p, doctl -t, snmpusm passwd)',
    rec: procArgs(['rabbitmqadmin', '-p', 'R8ArgRad46', 'list', 'users', '&&', 'doctl', '-t', 'R8ArgDoc47', 'account', 'get', '&&', 'snmpusm', 'h', 'passwd', 'R8ArgSnu48', 'R8ArgSnu49']),
    secrets: ['R8ArgRad46', 'R8ArgDoc47', 'R8ArgSnu48', 'R8ArgSnu49'],
    keep: ['"rabbitmqadmin","-p","[REDACTED]","list","users"', '"doctl","-t","[REDACTED]","account","get"', '"passwd","[REDACTED]","[REDACTED]"'],
  },
];

/** Round 8 look-alikes: the same programs and words without a secret. */
const ROUND8_KEPT: Case[] = [
  { name: 'chpasswd fed from a file or variables; echo into other programs', rec: proc('echo "$USER:$PASS" | chpasswd; echo "ops:$(pwgen 16 1)" | chpasswd; cat users.txt | chpasswd; chpasswd < /tmp/users; echo x:y | cut -d: -f1; getent passwd bob; passwd --expire bob'), secrets: [], keep: ['echo "$USER:$PASS" | chpasswd', 'echo "ops:$(pwgen 16 1)" | chpasswd', 'echo x:y | cut -d: -f1', 'passwd --expire bob'] },
  { name: 'rabbitmqadmin port and vhost, rabbitmqctl -p vhost', rec: proc('rabbitmqadmin -H mq -P 15672 -V / list exchanges; rabbitmqctl set_permissions -p / alice ".*" ".*" ".*"; rabbitmqctl list_queues -p staging'), secrets: [], keep: ['-P 15672 -V / list exchanges', 'set_permissions -p / alice', 'list_queues -p staging'] },
  { name: 'snmpusm without passwd, passwd the program', rec: proc('snmpusm -v3 -u admin -l authNoPriv h create bob; snmpusm -v3 h delete bob; snmpusm -v3 h cloneFrom bob admin; passwd bob; sudo passwd -l bob'), secrets: [], keep: ['h create bob', 'h delete bob', 'cloneFrom bob admin', 'passwd bob', 'passwd -l bob'] },
  { name: 'doctl without a token, -t of other programs', rec: proc('doctl auth init --context work; doctl auth list; doctl compute droplet list --format ID,Name; docker run -t -i alpine sh; kubectl exec -t pod -- ls; sort -t: -k2 f'), secrets: [], keep: ['doctl auth init --context work', '--format ID,Name', 'docker run -t -i alpine sh', 'exec -t pod', 'sort -t: -k2 f'] },
  { name: 'Samba net without a password before the subcommand', rec: proc('net -U admin rpc user -S dc01; net -S dc01 -U CORP\\\\admin ads info; net ads testjoin'), secrets: [], keep: ['net -U admin rpc user -S dc01', 'net ads testjoin'] },
  {
    name: 'quoted scripts with ; and no secret; SQL without a password value; prose',
    rec: proc("sh -c \"mysql -h db\" && sh -c \"nc -p 4444 h\"; mysql -u'root' -h db -e \"select 1; select 2\"; psql -c \"ALTER ROLE app PASSWORD NULL; ALTER ROLE app VALID UNTIL 'infinity'\"; mysql -e \"CREATE USER bob IDENTIFIED WITH auth_socket; ALTER USER a IDENTIFIED BY RANDOM PASSWORD; select password('')\"; echo Pods are identified by their labels"),
    secrets: [],
    keep: ['sh -c "nc -p 4444 h"', "mysql -u'root' -h db -e", 'PASSWORD NULL', "VALID UNTIL 'infinity'", 'IDENTIFIED WITH auth_socket', 'IDENTIFIED BY RANDOM PASSWORD', 'identified by their labels'],
  },
  { name: 'runtime argv pipelines without a secret', rec: procArgs(['cat', 'users.txt', '|', 'chpasswd', ';', 'echo', '"$PW"', '|', 'docker', 'login', '--password-stdin', 'r', '&&', 'echo', 'hello', '|', 'grep', 'h', ';', 'snmpusm', 'h', 'create', 'bob', '&&', 'passwd', 'alice', ';', 'mysql', '-h', 'db', '|', 'nc', '-p', '4444', 'h']), secrets: [], keep: ['"cat","users.txt","|","chpasswd"', '"echo","\\"$PW\\"","|","docker"', '"snmpusm","h","create","bob","&&","passwd","alice"', '"nc","-p","4444","h"'] },
];

/**
 * Round 9: round 8's known gaps (printf's format building chpasswd's pairs, `kinit <<< pw`, a quoted `;` before sqlcmd's
 * `-P` or ldapsearch's `-w`), more programs that read a password on their standard input (kinit, passwd, smbpasswd -s,
 * cryptsetup, gpg --passphrase-fd 0), password flags of programs no round listed (ipmitool, mosquitto, sqsh / tsql, vsql,
 * valkey-cli / keydb-cli, PsExec, cqlsh, usermod / useradd -p, winrs, schtasks, gpg --passphrase), and CloudTrail request
 * bodies whose environment the env rules did not know (CodeBuild StartBuild's override, Elastic Beanstalk option settings,
 * App Runner's runtime environment). Each case failed before the fix.
 */
const ROUND9: Case[] = [
  {
    name: "printf's format builds chpasswd's pairs: the arguments in a password's place go, the names and the format stay",
    rec: proc("printf '%s:%s\\n' ops R9Chp0001 | chpasswd; printf 'bob:%s\\n' R9Chp0002 | sudo chpasswd; printf '%s:%s\\n' alice R9Chp0003 carol R9Chp0004 | chpasswd; printf \"%s:%s\" \"$U\" R9Chp0005 | chpasswd -c SHA512"),
    secrets: ['R9Chp0001', 'R9Chp0002', 'R9Chp0003', 'R9Chp0004', 'R9Chp0005'],
    keep: ["printf '%s:%s\\n' ops ", "printf 'bob:%s\\n' ", ' alice ', ' carol ', '"$U" ', 'chpasswd -c SHA512'],
  },
  {
    name: 'a password on stdin: kinit, passwd, smbpasswd -s, cryptsetup, gpg --passphrase-fd 0 (here-strings, echo, printf, yes)',
    rec: proc(
      "kinit admin@CORP.EXAMPLE <<< R9Std0006; kinit -l 10h svc@CORP <<< 'R9Std0007'; echo R9Std0008 | kinit ops@CORP; echo -e \"R9Std0009\\nR9Std0009\" | passwd bob; printf '%s\\n%s\\n' R9Std0010 R9Std0010 | sudo passwd alice; echo -e \"R9Std0011\\nR9Std0011\" | smbpasswd -s -a bob; yes R9Std0012 | passwd carol; echo -n R9Std0013 | cryptsetup luksOpen /dev/nvme1n1 data -; cryptsetup open /dev/sdb vault <<< R9Std0014; echo R9Std0015 | gpg --batch --passphrase-fd 0 -d backup.gpg",
    ),
    secrets: ['R9Std0006', 'R9Std0007', 'R9Std0008', 'R9Std0009', 'R9Std0010', 'R9Std0011', 'R9Std0012', 'R9Std0013', 'R9Std0014', 'R9Std0015'],
    keep: ['kinit admin@CORP.EXAMPLE <<< ', 'kinit -l 10h svc@CORP <<< ', '| kinit ops@CORP', '| passwd bob', "printf '%s\\n%s\\n' ", '| sudo passwd alice', '| smbpasswd -s -a bob', '| passwd carol', 'cryptsetup luksOpen /dev/nvme1n1 data -', 'cryptsetup open /dev/sdb vault <<< ', 'gpg --batch --passphrase-fd 0 -d backup.gpg'],
  },
  {
    name: 'a quoted ; or | before sqlcmd -P, ldapsearch -w, zip -P, nxc -p',
    rec: proc('sqlcmd -S db -Q "select 1; select 2" -U sa -P R9Qte0016; ldapsearch -x -b "o=a|b" -D cn=admin -w R9Qte0017; zip -r -z "a;b" out.zip dir -P R9Qte0018; nxc smb h -u admin -x "whoami; hostname" -p R9Qte0019'),
    secrets: ['R9Qte0016', 'R9Qte0017', 'R9Qte0018', 'R9Qte0019'],
    keep: ['-Q "select 1; select 2" -U sa -P ', '-b "o=a|b" -D cn=admin -w ', '-z "a;b" out.zip dir -P ', '-x "whoami; hostname" -p '],
  },
  {
    name: 'password flags of ipmitool, mosquitto, sqsh, tsql, vsql, valkey-cli, keydb-cli, PsExec, cqlsh, usermod / useradd, gpg',
    rec: proc(
      "ipmitool -I lanplus -H 10.0.0.9 -U admin -P R9Flg0020 chassis power status; mosquitto_pub -h mq -u dev -P R9Flg0021 -t t -m on; sqsh -S db -U sa -P R9Flg0022; tsql -S db -U sa -P R9Flg0023; vsql -h v -U dbadmin -w R9Flg0024; valkey-cli -h c -a R9Flg0025 ping; keydb-cli -a R9Flg0026 info; PsExec64.exe \\\\fs01 -u CORP\\admin -p R9Flg0027 cmd; cqlsh -u cassandra -p R9Flg0028 10.0.0.3; usermod -p 'R9Flg0029' bob; useradd -m -p R9Flg0030 eve; gpg --batch --passphrase R9Flg0031 -d f.gpg",
    ),
    secrets: ['R9Flg0020', 'R9Flg0021', 'R9Flg0022', 'R9Flg0023', 'R9Flg0024', 'R9Flg0025', 'R9Flg0026', 'R9Flg0027', 'R9Flg0028', 'R9Flg0029', 'R9Flg0030', 'R9Flg0031'],
    keep: ['-U admin -P ', 'chassis power status', '-u dev -P ', '-t t -m on', '-U dbadmin -w ', 'valkey-cli -h c -a ', ' ping', '-u CORP\\\\admin -p ', ' cmd', 'cqlsh -u cassandra -p ', ' 10.0.0.3', 'usermod -p ', ' bob', 'useradd -m -p ', 'gpg --batch --passphrase ', '-d f.gpg'],
  },
  {
    name: 'Windows: winrs -p: / -password:, schtasks /p and /rp',
    rec: proc('winrs -r:fs01 -u:CORP\\admin -p:R9Win0032 ipconfig; winrs.exe -r:h -username:admin -password:R9Win0033 cmd; schtasks /create /s fs01 /u CORP\\admin /p R9Win0034 /tn upd /tr c:\\x.exe; SCHTASKS /Create /TN t /TR x /RU svc /RP R9Win0035'),
    secrets: ['R9Win0032', 'R9Win0033', 'R9Win0034', 'R9Win0035'],
    keep: ['winrs -r:fs01 -u:CORP\\\\admin -p:', ' ipconfig', '-username:admin -password:', '/u CORP\\\\admin /p ', ' /tn upd', '/RU svc /RP '],
  },
  { name: 'exec: ipmitool -P, kinit here-string as split words, schtasks /rp', rec: execUri(['ipmitool', '-H', 'bmc', '-U', 'admin', '-P', 'R9ExIpm36', 'sel', 'list']), secrets: ['R9ExIpm36'], keep: ['command=sel', 'command=admin'] },
  {
    name: 'pod argv: sqsh -P, cqlsh -p, valkey-cli -a, schtasks /rp, winrs -p:',
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['sqsh', '-S', 'db', '-U', 'sa', '-P', 'R9PodSqs37'] }),
          container({ name: 'c', command: ['cqlsh'], args: ['-u', 'cassandra', '-p', 'R9PodCql38', 'h'] }),
          container({ name: 'v', command: ['valkey-cli', '-a', 'R9PodVal39', 'ping'] }),
          container({ name: 'w', command: ['schtasks', '/create', '/ru', 'svc', '/rp', 'R9PodSch40', '/tn', 't'] }),
          container({ name: 'r', command: ['winrs', '-r:h', '-p:R9PodWin41', 'cmd'] }),
        ],
      },
    }),
    secrets: ['R9PodSqs37', 'R9PodCql38', 'R9PodVal39', 'R9PodSch40', 'R9PodWin41'],
    keep: ['sqsh', 'cassandra', 'ping', '/rp', '/tn', '-p:[REDACTED]'],
  },
  {
    name: 'runtime argv split into words: kinit <<< pw, echo -e "pw\\npw" | passwd',
    rec: procArgs(['kinit', 'admin@CORP', '<<<', 'R9ArgKin42', '&&', 'echo', '-e', 'R9ArgPwd43\\nR9ArgPwd43', '|', 'passwd', 'bob']),
    secrets: ['R9ArgKin42', 'R9ArgPwd43'],
    keep: ['"kinit","admin@CORP","<<<","[REDACTED]"', '"|","passwd","bob"'],
  },
  {
    name: 'CloudTrail CodeBuild StartBuild environmentVariablesOverride (PLAINTEXT goes, PARAMETER_STORE stays)',
    rec: ctEvent('codebuild.amazonaws.com', 'StartBuild', { projectName: 'ci', environmentVariablesOverride: [{ name: 'DB_PASSWORD', value: 'R9CbOvr44', type: 'PLAINTEXT' }, { name: 'NPM_TOKEN', value: '/ci/npm', type: 'PARAMETER_STORE' }, { name: 'STAGE', value: 'prod', type: 'PLAINTEXT' }] }),
    secrets: ['R9CbOvr44'],
    keep: ['/ci/npm', '"value":"prod"', 'DB_PASSWORD'],
  },
  {
    name: 'CloudTrail Elastic Beanstalk option settings (optionName / value) and App Runner runtime environment',
    rec: ctEvent('elasticbeanstalk.amazonaws.com', 'UpdateEnvironment', {
      environmentName: 'web-prod',
      optionSettings: [
        { namespace: 'aws:elasticbeanstalk:application:environment', optionName: 'DB_PASSWORD', value: 'R9EbOpt45' },
        { namespace: 'aws:rds:dbinstance', optionName: 'DBPassword', value: 'R9EbOpt46' },
        { namespace: 'aws:autoscaling:launchconfiguration', optionName: 'InstanceType', value: 't3.micro' },
      ],
      runtimeEnvironmentVariables: { API_TOKEN: 'R9ArnEnv47', LOG_LEVEL: 'info' },
    }),
    secrets: ['R9EbOpt45', 'R9EbOpt46', 'R9ArnEnv47'],
    keep: ['"optionName":"DB_PASSWORD"', '"value":"t3.micro"', '"LOG_LEVEL":"info"'],
  },
];

/**
 * Round 9, second part: Kubernetes probe headers (`httpGet.httpHeaders: [{ name: Authorization, value }]`), a header an
 * nginx directive sets in an ingress snippet (`proxy_set_header Authorization "Basic ..."`), a password written twice by a
 * group (`(echo pw; echo pw) | passwd`). Each case failed before the fix.
 */
const ROUND9B: Case[] = [
  {
    name: 'pod probe httpHeaders: Authorization, X-Api-Key, Cookie values go; other headers stay',
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: podSpec({
        livenessProbe: { httpGet: { path: '/healthz', port: 8080, httpHeaders: [{ name: 'Authorization', value: 'Basic UjlQcmJBdXRoMDE=' }, { name: 'Accept', value: 'application/json' }] } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080, httpHeaders: [{ name: 'X-Api-Key', value: 'R9PrbKey02' }, { name: 'Cookie', value: 'sid=R9PrbCk03' }] } },
      }),
    }),
    secrets: ['UjlQcmJBdXRoMDE=', 'R9PrbKey02', 'R9PrbCk03'],
    keep: ['"name":"Authorization"', '"value":"application/json"', '"name":"X-Api-Key"', '/healthz'],
  },
  {
    name: 'ingress-nginx snippet: proxy_set_header / grpc_set_header / more_set_input_headers of a secret header',
    rec: podCreate('ingresses', {
      kind: 'Ingress',
      metadata: {
        name: 'api',
        annotations: {
          'nginx.ingress.kubernetes.io/configuration-snippet': 'proxy_set_header Authorization "Basic UjlOZ3hBdXRoMDQ=";\nproxy_set_header X-Api-Key R9NgxKey05;\nproxy_set_header Host $host;\nmore_set_input_headers "Authorization: Basic UjlOZ3hNb3JlMDY=";\ngrpc_set_header x-api-key "R9NgxGrpc07";',
        },
      },
      spec: { rules: [{ host: 'api.example.com' }] },
    }),
    secrets: ['UjlOZ3hBdXRoMDQ=', 'R9NgxKey05', 'UjlOZ3hNb3JlMDY=', 'R9NgxGrpc07'],
    keep: ['proxy_set_header Authorization "', 'proxy_set_header X-Api-Key ', 'proxy_set_header Host $host;', 'grpc_set_header x-api-key "', 'api.example.com'],
  },
  {
    name: 'a password written twice by a group or a subshell into passwd / smbpasswd -s',
    rec: proc('(echo R9Grp0008; echo R9Grp0008) | passwd bob; { echo R9Grp0009; echo R9Grp0009; } | smbpasswd -s -a alice; (printf \'%s\\n\' R9Grp0010; echo R9Grp0010) | sudo passwd carol'),
    secrets: ['R9Grp0008', 'R9Grp0009', 'R9Grp0010'],
    keep: ['| passwd bob', '| smbpasswd -s -a alice', '| sudo passwd carol', "(printf '%s\\n' "],
  },
];

/** Round 9, third part: API keys CloudTrail carries by value (API Gateway's `value`, AppSync's key `id`). Each failed before. */
const ROUND9C: Case[] = [
  {
    name: 'API Gateway CreateApiKey / GetApiKeys: the key value (request and response) goes, its id and name stay',
    rec: { ...ctEvent('apigateway.amazonaws.com', 'CreateApiKey', { name: 'partner-a', enabled: true, value: 'R9ApigwKeyValue0000000001' }), responseElements: { id: 'k7a1b2c3d4', name: 'partner-a', value: 'R9ApigwKeyValue0000000002', enabled: true } },
    secrets: ['R9ApigwKeyValue0000000001', 'R9ApigwKeyValue0000000002'],
    keep: ['"id":"k7a1b2c3d4"', '"name":"partner-a"'],
  },
  {
    name: 'API Gateway GetApiKeys with includeValue: each item\'s value',
    rec: { ...ctEvent('apigateway.amazonaws.com', 'GetApiKeys', { includeValues: true }), responseElements: { items: [{ id: 'k1', name: 'a', value: 'R9ApigwKeyValue0000000003' }, { id: 'k2', name: 'b', value: 'R9ApigwKeyValue0000000004' }] } },
    secrets: ['R9ApigwKeyValue0000000003', 'R9ApigwKeyValue0000000004'],
    keep: ['"id":"k1"', '"name":"b"'],
  },
  {
    name: 'AppSync CreateApiKey / UpdateApiKey / ListApiKeys: the key is its id',
    rec: { ...ctEvent('appsync.amazonaws.com', 'UpdateApiKey', { apiId: 'q7x2apiid', id: 'da2-r9appsynckey00000000000001', expires: 1767225600 }), responseElements: { apiKey: { id: 'da2-r9appsynckey00000000000002', expires: 1767225600 }, apiKeys: [{ id: 'da2-r9appsynckey00000000000003' }] } },
    secrets: ['da2-r9appsynckey00000000000001', 'da2-r9appsynckey00000000000002', 'da2-r9appsynckey00000000000003'],
    keep: ['"apiId":"q7x2apiid"', '"expires":1767225600'],
  },
];

/** Round 9, fourth part: a password handed to a hashing command (`openssl passwd`, `mkpasswd`), often inside `useradd -p "$(...)"`. */
const ROUND9D: Case[] = [
  {
    name: 'openssl passwd / mkpasswd: the password (flags and their values, the salt, stay)',
    rec: proc("useradd -m -p \"$(openssl passwd -6 -salt s4lt R9Hash0001)\" bob; openssl passwd -1 'R9Hash0002'; echo \"alice:$(mkpasswd -m sha-512 R9Hash0003 s4lt)\" | chpasswd -e; mkpasswd --method=yescrypt R9Hash0004; openssl passwd -apr1 -salt xyz R9Hash0005 R9Hash0006"),
    secrets: ['R9Hash0001', 'R9Hash0002', 'R9Hash0003', 'R9Hash0004', 'R9Hash0005', 'R9Hash0006'],
    keep: ['openssl passwd -6 -salt s4lt ', 'useradd -m -p ', ' bob', "openssl passwd -1 '", 'mkpasswd -m sha-512 ', ' s4lt)', '| chpasswd -e', 'mkpasswd --method=yescrypt ', 'openssl passwd -apr1 -salt xyz '],
  },
  {
    name: 'exec and pod argv: openssl passwd -6 <pw>, mkpasswd <pw>',
    rec: podCreate('pods', { kind: 'Pod', spec: { containers: [container({ command: ['openssl', 'passwd', '-6', 'R9HashPod07'] }), container({ name: 'm', command: ['mkpasswd', '-m', 'sha-512', 'R9HashPod08'] })] } }),
    secrets: ['R9HashPod07', 'R9HashPod08'],
    keep: ['"openssl","passwd","-6","[REDACTED]"', '"mkpasswd","-m","sha-512","[REDACTED]"'],
  },  {
    name: "Samba clients' -U user%pw after a quoted -c script holding a ; (smbclient's documented way to run several commands)",
    rec: proc('smbclient //fs01/share -c "cd backups; get db.bak" -U CORP/admin%R9Smb0010; rpcclient -c "enumdomusers; enumdomgroups" -U admin%R9Smb0011 10.0.0.5; smbclient //fs01/share -c "ls" -U admin'),
    secrets: ['R9Smb0010', 'R9Smb0011'],
    keep: ['-c "cd backups; get db.bak" -U CORP/admin%', '-c "enumdomusers; enumdomgroups" -U admin%', ' 10.0.0.5', '-c "ls" -U admin'],
  },
  { name: 'exec: openssl passwd -6 <pw>', rec: execUri(['openssl', 'passwd', '-6', 'R9HashEx09']), secrets: ['R9HashEx09'], keep: ['command=passwd&command=-6&command=[REDACTED]'] },
];

/** Round 9 look-alikes: the same programs and words with no secret, which rules read. */
const ROUND9_KEPT: Case[] = [
  {
    name: 'stdin takers fed from files, variables or other programs; passwd, kinit and gpg as words',
    rec: proc("kinit -kt /etc/krb5.keytab svc@CORP; kinit admin@CORP <<< \"$KPW\"; echo hello | grep passwd /etc/passwd; echo root | cat - /etc/passwd; cat /etc/passwd | cut -d: -f1; echo \"$PW\" | passwd --stdin bob; passwd -l bob; cryptsetup luksOpen /dev/sdb data --key-file /root/k; gpg --batch --passphrase-file /run/pw -d f; echo y | apt-get install jq; printf '%s\\n' \"$P\" | kinit u@CORP"),
    secrets: [],
    keep: ['kinit -kt /etc/krb5.keytab svc@CORP', 'kinit admin@CORP <<< "$KPW"', 'echo hello | grep passwd /etc/passwd', 'echo root | cat - /etc/passwd', 'passwd -l bob', '--key-file /root/k', '--passphrase-file /run/pw', 'echo y | apt-get install jq'],
  },
  {
    name: "printf's format with variables into chpasswd",
    rec: proc("printf '%s:%s\\n' \"$U\" \"$PW\" | chpasswd; printf '%s\\n' \"$USER:$PASS\" | chpasswd"),
    secrets: [],
    keep: ["printf '%s:%s\\n' \"$U\" \"$PW\" | chpasswd"],
  },
  {
    name: '-P, -p, -a, -w, /p of other programs and of these without a value',
    rec: proc('ipmitool -I lanplus -H 10.0.0.9 -U admin -E chassis status; mosquitto_sub -h mq -p 1883 -t t; cqlsh 10.0.0.3 9042; usermod -aG docker bob; useradd -m -s /bin/bash eve; psexec \\\\h -s cmd; schtasks /query /fo LIST /v; winrs -r:h ipconfig; vsql -h v -U dbadmin -W; valkey-cli -p 6380 ping; rsync -a -P src dst; cp -p a b; netstat -w 5'),
    secrets: [],
    keep: ['-U admin -E chassis status', '-p 1883 -t t', 'usermod -aG docker bob', 'schtasks /query /fo LIST /v', 'vsql -h v -U dbadmin -W', 'valkey-cli -p 6380 ping', 'rsync -a -P src dst', 'cp -p a b', 'netstat -w 5'],
  },
  {
    name: 'openssl passwd / mkpasswd reading stdin or a file, or with no password',
    rec: proc('openssl passwd -6 -stdin < pw.txt; openssl passwd -in list.txt; mkpasswd -m help; mkpasswd -s < pw; openssl passwd -6 "$PW"; openssl dgst -sha256 f'),
    secrets: [],
    keep: ['openssl passwd -6 -stdin < pw.txt', 'openssl passwd -in list.txt', 'mkpasswd -m help', 'mkpasswd -s < pw', 'openssl passwd -6 "$PW"', 'openssl dgst -sha256 f'],
  },
  {
    name: 'probe headers, nginx headers and groups with no secret',
    rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ livenessProbe: { httpGet: { path: '/healthz', port: 8080, httpHeaders: [{ name: 'Host', value: 'api.internal' }, { name: 'X-Request-Source', value: 'kubelet' }] } }, args: ['sh', '-c', 'proxy_set_header Host $host; (echo a; echo b) | sort; { echo x; } | grep passwd /etc/passwd'] }) }),
    secrets: [],
    keep: ['"value":"api.internal"', '"value":"kubelet"', 'proxy_set_header Host $host; (echo a; echo b) | sort; { echo x; } | grep passwd /etc/passwd'],
  },
];

/**
 * Round 10: forms rounds 1 to 9 left in clear (docs/redaction.md's "still open" list of round 9). A script fed to ftp, influx
 * v2's `-p` / `-t`, unixODBC isql's password by its position (Sybase isql's `-P`), Docker's `X-Registry-Auth` header, a
 * subshell that does more than echo piped to passwd, a quoted `;` before the secret of the programs whose command still ended
 * there, a netrc line, and an exec whose secret only shows when its `command=` values are read as one line. Each failed before.
 */
const ROUND10: Case[] = [
  {
    name: "a script fed to ftp: the password of its `user <name> <password>` line (here-string, echo / printf pipe, heredoc)",
    rec: proc("ftp -n ftp.corp <<< \"user bob R10Ftp0001\"; ftp -inv 10.0.0.7 <<< $'user ops R10Ftp0002\\nbinary\\nget db.bak'; echo \"user alice R10Ftp0003\" | ftp -n h; printf 'open h\\nuser carol R10Ftp0004\\nput x\\nbye\\n' | ftp -n; ftp -n h <<EOF\nuser dave R10Ftp0005\nquote PASS R10Ftp0006\nget f\nEOF"),
    secrets: ['R10Ftp0001', 'R10Ftp0002', 'R10Ftp0003', 'R10Ftp0004', 'R10Ftp0005', 'R10Ftp0006'],
    keep: ['ftp -n ftp.corp <<< "user bob ', "ftp -inv 10.0.0.7 <<< $'user ops ", '\\nbinary\\nget db.bak', 'echo "user alice ', '| ftp -n h', "printf 'open h\\nuser carol ", '\\nput x\\nbye\\n', 'ftp -n h <<EOF\nuser dave ', '\nquote PASS ', '\nget f\nEOF'],
  },
  {
    name: "influx v2's -p (password) and -t (token), spaced or with =",
    rec: proc('influx setup -u admin -p R10Inf0007 -t R10Inf0008 -o org -b metrics -f; influx query -t=R10Inf0009 "from(bucket: \\"a;b\\")"; influx bucket list --org o -t R10Inf0010'),
    secrets: ['R10Inf0007', 'R10Inf0008', 'R10Inf0009', 'R10Inf0010'],
    keep: ['influx setup -u admin -p ', ' -o org -b metrics -f', 'influx query -t=', 'influx bucket list --org o -t '],
  },
  {
    name: "unixODBC isql's password by its position (isql DSN user password), Sybase isql's -P",
    rec: proc('isql PRODDSN sa R10Isq0011 -v -b < /tmp/q.sql; iusql -v REPORTS ro R10Isq0012; /usr/bin/isql DWH etl "R10Isq0013"; isql -S SYB1 -U sa -P R10Isq0014 -D master'),
    secrets: ['R10Isq0011', 'R10Isq0012', 'R10Isq0013', 'R10Isq0014'],
    keep: ['isql PRODDSN sa ', ' -v -b < /tmp/q.sql', 'iusql -v REPORTS ro ', '/usr/bin/isql DWH etl ', 'isql -S SYB1 -U sa -P ', ' -D master'],
  },
  {
    name: "Docker's X-Registry-Auth / X-Registry-Config headers (base64 JSON of a registry login) sent to the socket",
    rec: proc('curl --unix-socket /var/run/docker.sock -H "X-Registry-Auth: eyJ1c2VybmFtZSI6ImJvYiIsInBhc3N3b3JkIjoiUjEwUmVnMDAxNSJ9" -X POST "http://d/images/create?fromImage=r.corp/app"; curl -s -H \'X-Registry-Config: eyJyLmNvcnAiOnsicGFzc3dvcmQiOiJSMTBSZWcwMDE2In19\' --unix-socket /run/docker.sock -X POST http://d/build'),
    secrets: ['eyJ1c2VybmFtZSI6ImJvYiIsInBhc3N3b3JkIjoiUjEwUmVnMDAxNSJ9', 'eyJyLmNvcnAiOnsicGFzc3dvcmQiOiJSMTBSZWcwMDE2In19'],
    keep: ['-H "X-Registry-Auth: ', '-X POST "http://d/images/create?fromImage=r.corp/app"', "-H 'X-Registry-Config: ", '--unix-socket /run/docker.sock -X POST http://d/build'],
  },
  {
    name: 'a subshell or group that sleeps, reads or tests before it echoes, piped to passwd / kinit / --password-stdin',
    rec: proc('(sleep 1; echo R10Sub0017; sleep 1; echo R10Sub0017) | passwd bob; { sleep 2 && echo R10Sub0018; } | kinit ops@CORP; (cd /tmp; printf \'%s\\n\' R10Sub0019) | docker login -u u --password-stdin r.corp; (echo R10Sub0020) | passwd --stdin eve'),
    secrets: ['R10Sub0017', 'R10Sub0018', 'R10Sub0019', 'R10Sub0020'],
    keep: ['(sleep 1; echo ', '; sleep 1; echo ', ') | passwd bob', '{ sleep 2 && echo ', '; } | kinit ops@CORP', "(cd /tmp; printf '%s\\n' ", ') | docker login -u u --password-stdin r.corp', ') | passwd --stdin eve'],
  },
  {
    name: 'a quoted ; before the secret of openssl -k, Samba net -U, 7z -p, an Oracle logon, redis-cli -a, SNMP, etcdctl',
    rec: proc('openssl enc -aes-256-cbc -md "sha256;x" -k R10Qte0021 -in f; net -S dc -c "a;b" -U admin%R10Qte0022 rpc shutdown; 7z a "-xr!*.tmp;*.log" backup d -pR10Qte0023; sqlplus -s -m "CSV ON;" scott/R10Qte0024@db; redis-cli -h "a;b" -a R10Qte0025 ping; snmpwalk -On -Ob "x;y" -v2c -c R10Qte0026 h; etcdctl --endpoints "a;b" --user root:R10Qte0027 get /'),
    secrets: ['R10Qte0021', 'R10Qte0022', 'R10Qte0023', 'R10Qte0024', 'R10Qte0025', 'R10Qte0026', 'R10Qte0027'],
    keep: ['-md "sha256;x" -k ', '-c "a;b" -U admin%', '"-xr!*.tmp;*.log" backup d -p', '-m "CSV ON;" scott/', '@db', 'redis-cli -h "a;b" -a ', '"x;y" -v2c -c ', '--user root:'],
  },
  {
    name: 'a quoted ; before the secret of FreeRDP /p: and -p, ssh-keygen -N, mysqladmin password, an Impacket target',
    rec: proc('xfreerdp /v:h -T "a;b" /u:a /p:R10Qt2e01; xfreerdp -T "a;b" -u a -p R10Qt2e02 h; ssh-keygen -C "ops;key" -N R10Qt2e03 -f k; mysqladmin -S "/tmp/a;b" -u root password R10Qt2e04; secretsdump.py -outputfile "a;b" CORP/admin:R10Qt2e05@10.0.0.5; ssh-keygen -C "a;b" -N "" -f k2'),
    secrets: ['R10Qt2e01', 'R10Qt2e02', 'R10Qt2e03', 'R10Qt2e04', 'R10Qt2e05'],
    keep: ['-T "a;b" /u:a /p:', '-T "a;b" -u a -p ', '-C "ops;key" -N ', '-S "/tmp/a;b" -u root password ', '-outputfile "a;b" CORP/admin:', '@10.0.0.5', 'ssh-keygen -C "a;b" -N "" -f k2'],
  },
  {
    name: 'a quoted ; or | inside the text echoed to a stdin taker',
    rec: proc('echo "R10;Ech0028" | passwd --stdin bob; echo \'R10|Ech0029\' | kinit ops@CORP; echo "alice:R10;Ech0030" | chpasswd'),
    secrets: ['R10;Ech0028', 'Ech0028', 'R10|Ech0029', 'Ech0029', 'R10;Ech0030', 'Ech0030'],
    keep: ['| passwd --stdin bob', '| kinit ops@CORP', '| chpasswd'],
  },
  {
    name: 'a netrc line written by a script: machine <h> login <u> password <pw>',
    rec: proc("echo 'machine ftp.corp login bob password R10Net0031' > ~/.netrc; printf 'machine h\\nlogin u\\npassword R10Net0032\\n' >> .netrc"),
    secrets: ['R10Net0031', 'R10Net0032'],
    keep: ['machine ftp.corp login bob password ', "printf 'machine h\\nlogin u\\npassword "],
  },
  {
    name: "exec: command= values read as one line (isql's position, influx -p, a split echo | passwd)",
    rec: execUri(['isql', 'PRODDSN', 'sa', 'R10Exe0033']),
    secrets: ['R10Exe0033'],
    keep: ['command=isql&command=PRODDSN&command=sa&command=[REDACTED]'],
  },
  { name: 'exec: influx -p split across values', rec: execUri(['influx', 'setup', '-u', 'a', '-p', 'R10Exe0034', '-f']), secrets: ['R10Exe0034'], keep: ['command=-p&command=[REDACTED]&command=-f'] },
  { name: 'exec: a secret echoed into passwd, the words split', rec: execUri(['sh', '-c', 'echo', 'R10Exe0035', '|', 'passwd', '--stdin', 'bob']), secrets: ['R10Exe0035'], keep: ['command=echo&command=[REDACTED]&command=%7C&command=passwd'] },
  {
    name: 'pod argv: influx -p / -t and isql by position',
    rec: podCreate('pods', { kind: 'Pod', spec: { containers: [container({ command: ['influx', 'setup', '-p', 'R10Pod0036', '-t', 'R10Pod0037'] }), container({ name: 'q', command: ['isql', 'DSN', 'u', 'R10Pod0038', '-b'] })] } }),
    secrets: ['R10Pod0036', 'R10Pod0037', 'R10Pod0038'],
    keep: ['"influx","setup","-p","[REDACTED]","-t","[REDACTED]"', '"isql","DSN","u","[REDACTED]","-b"'],
  },
];

/** Round 10 look-alikes: the same programs with nothing secret, which rules read (and openssl's -pass sources, kept since round 10). */
const ROUND10_KEPT: Case[] = [
  {
    name: "openssl's -pass / -passin / -passout naming where the secret is (stdin, file:, env:, fd:) stay",
    rec: proc('openssl enc -aes-256-cbc -pass stdin -in f -out g; openssl enc -d -pass file:/run/k -in g; openssl rsa -passin env:KEYPW -in k.pem; openssl pkcs12 -export -passout fd:3 -in c; openssl enc -pass "file:/etc/k"'),
    secrets: [],
    keep: ['-pass stdin -in f', '-pass file:/run/k', '-passin env:KEYPW', '-passout fd:3', '-pass "file:/etc/k"'],
  },
  {
    name: 'ftp, influx, isql, registry headers and groups with no secret',
    rec: proc('ftp -n h <<< "user bob"; ftp -n h <<< "$FTP_SCRIPT"; echo "ls" | ftp h; sftp -b - u@h <<< "put f"; influx -port 8086 -precision rfc3339 -type flux; influx -t; isql -v PRODDSN; isql PRODDSN sa; isql DSN -b < q.sql; the isql tool is fine; curl -H "X-Registry-Auth: $AUTH" http://d; (sleep 1; cat pw.txt) | passwd bob; (sleep 1; echo "$PW") | passwd bob; (sleep 1; echo hi) | tee log; echo "a;b" | grep a'),
    secrets: [],
    keep: ['ftp -n h <<< "user bob"', 'ftp -n h <<< "$FTP_SCRIPT"', 'echo "ls" | ftp h', 'influx -port 8086 -precision rfc3339 -type flux', 'isql -v PRODDSN; isql PRODDSN sa; isql DSN -b < q.sql; the isql tool is fine', 'X-Registry-Auth: $AUTH', '(sleep 1; cat pw.txt) | passwd bob', '(sleep 1; echo "$PW") | passwd bob', '(sleep 1; echo hi) | tee log', 'echo "a;b" | grep a'],
  },
  {
    name: 'quoted ; before flags of these programs that are not secrets',
    rec: proc('openssl enc -md "a;b" -kfile /run/k -in f; redis-cli -h "a;b" -p 6380 ping; snmpwalk -On "x;y" -v3 -a SHA -l authPriv -u m h; etcdctl --endpoints "a;b" --user root get /; 7z a "-xr!a;b" o d -p; netrc=login'),
    secrets: [],
    keep: ['-md "a;b" -kfile /run/k -in f', 'redis-cli -h "a;b" -p 6380 ping', '-v3 -a SHA -l authPriv -u m h', '--user root get /', '"-xr!a;b" o d -p'],
  },
  { name: 'exec: command= values with no secret read as one line stay', rec: execUri(['isql', '-v', 'PRODDSN']), secrets: [], keep: ['command=isql&command=-v&command=PRODDSN'] },
  { name: 'exec: a split pipe with nothing secret', rec: execUri(['sh', '-c', 'echo', 'hello', '|', 'grep', 'passwd', '/etc/passwd']), secrets: [], keep: ['command=echo&command=hello&command=%7C&command=grep&command=passwd'] },
];

/**
 * Round 11: round 10's known gaps (a quoted `;` before a positional rule's password, a secret on stdin of a program that prompts,
 * heredocs piped to stdin takers, a pod's argv read as one command line with or without a shell operator) and credential-bearing
 * command forms not covered before. Each positive case leaked before the fix.
 */
const ROUND11: Case[] = [
  {
    name: "a quoted ; before a positional password: htpasswd, rabbitmqctl, isql, mc (and mysql / psql's URL inside sh -c)",
    rec: proc('sh -c \'htpasswd -b f "u;x" R11Pos0001\'; rabbitmqctl add_user "a;b" R11Pos0002; isql DSN "u;x" R11Pos0003 -v; mc alias set s3 "https://h;x" AKIAIOSFODNN7EXAMPLE R11Pos0004; sh -c "mysql -u root -pR11Pos0005; echo done"; psql \'postgres://u:R11Pos0006@h/db;x\'; net user bob "R11;Pos0007" /add; useradd -p "$(openssl passwd -6 \'R11;Pos0008\')" u; mkpasswd -m sha-512 \'R11;Pos0009\''),
    secrets: ['R11Pos0001', 'R11Pos0002', 'R11Pos0003', 'R11Pos0004', 'R11Pos0005', 'R11Pos0006', 'Pos0007', 'Pos0008', 'Pos0009'],
    keep: ['htpasswd -b f "u;x" ', 'net user bob ', ' /add', 'useradd -p "$(openssl passwd -6 ', 'mkpasswd -m sha-512 ', 'rabbitmqctl add_user "a;b" ', 'isql DSN "u;x" ', ' -v;', 'mc alias set s3 "https://h;x" AKIAIOSFODNN7EXAMPLE ', 'mysql -u root -p', '; echo done', "psql 'postgres://u:", '@h/db;x'],
  },
  {
    name: "a here-string or echo into a program's prompt: mysql -p, psql -W / --password, htpasswd -i, docker secret create -",
    rec: proc("mysql -u root -p <<< 'R11Std0001'; echo R11Std0002 | mariadb -u root -p; psql -h db -U app -W <<< R11Std0003; psql --password <<< R11Std0004; htpasswd -i /etc/nginx/.htpasswd admin <<< R11Std0005; echo R11Std0006 | htpasswd -ci f bob; printf R11Std0007 | docker secret create db_pw -"),
    secrets: ['R11Std0001', 'R11Std0002', 'R11Std0003', 'R11Std0004', 'R11Std0005', 'R11Std0006', 'R11Std0007'],
    keep: ['mysql -u root -p <<< ', '| mariadb -u root -p', 'psql -h db -U app -W <<< ', 'psql --password <<< ', 'htpasswd -i /etc/nginx/.htpasswd admin <<< ', '| htpasswd -ci f bob', '| docker secret create db_pw -'],
  },
  {
    name: 'a heredoc piped or fed to a stdin taker: cat <<EOF | chpasswd / ftp / docker login --password-stdin, passwd <<EOF, sudo -S',
    rec: podCreate('configmaps', {
      kind: 'ConfigMap',
      data: {
        'init.sh': "#!/bin/sh\ncat <<EOF | chpasswd\nops:R11Hd0001\nEOF\ncat <<'EOF' | docker login --password-stdin reg.corp\nR11Hd0002\nEOF\npasswd app <<EOF\nR11Hd0003\nR11Hd0003\nEOF\ncat <<EOF | ftp -n h\nuser bob R11Hd0004\nget f\nEOF\nsudo -S bash <<EOF\nR11Hd0005\napt-get update\nEOF\n",
      },
    }),
    secrets: ['R11Hd0001', 'R11Hd0002', 'R11Hd0003', 'R11Hd0004', 'R11Hd0005'],
    keep: ['cat <<EOF | chpasswd\nops:', "cat <<'EOF' | docker login --password-stdin reg.corp\n", 'passwd app <<EOF\n', 'cat <<EOF | ftp -n h\nuser bob ', '\nget f\nEOF', 'sudo -S bash <<EOF\n', '\napt-get update\nEOF'],
  },
  {
    name: "redis-cli's AUTH [user] <password> and CONFIG SET requirepass / masterauth (arguments, echo piped, here-string)",
    rec: proc("redis-cli -h cache AUTH R11Rds0001 && redis-cli AUTH default R11Rds0002; redis-cli CONFIG SET requirepass R11Rds0003; echo -e 'AUTH R11Rds0004\\nKEYS *' | redis-cli -h cache; valkey-cli <<< 'auth R11Rds0005'; keydb-cli config set masterauth R11Rds0006"),
    secrets: ['R11Rds0001', 'R11Rds0002', 'R11Rds0003', 'R11Rds0004', 'R11Rds0005', 'R11Rds0006'],
    keep: ['redis-cli -h cache AUTH ', 'redis-cli AUTH default ', 'redis-cli CONFIG SET requirepass ', "echo -e 'AUTH ", '\\nKEYS *', "valkey-cli <<< 'auth ", 'keydb-cli config set masterauth '],
  },
  {
    name: "curl's -b / --cookie data, skopeo / podman --creds, --src-creds, --dest-creds",
    rec: proc("curl -b 'session=R11Ck0001; theme=dark' https://app/api; curl --cookie \"sid=R11Ck0002\" https://app; skopeo copy --src-creds ci:R11Crd0003 --dest-creds=ci:R11Crd0004 docker://a docker://b; podman pull --creds bot:R11Crd0005 reg/img"),
    secrets: ['R11Ck0001', 'R11Ck0002', 'R11Crd0003', 'R11Crd0004', 'R11Crd0005'],
    keep: ["curl -b '", "' https://app/api", 'curl --cookie "', 'skopeo copy --src-creds ci:', ' --dest-creds=ci:', ' docker://a docker://b', 'podman pull --creds bot:', ' reg/img'],
  },
  {
    name: 'npm / yarn config set of an auth key, twine -p, crane auth login -p, mongosh / sshpass -p quoted',
    rec: proc("npm config set //registry.corp/:_authToken R11Npm0001; npm config set _auth R11Npm0002; yarn config set npmAuthToken R11Npm0003; twine upload -r corp -u ci -p R11Twn0004 dist/*; crane auth login reg.corp -u ci -p R11Crn0005; mongosh -u app -p 'R11Mgo0006' db; sshpass -p \"R11Ssh 0007\" ssh ops@h"),
    secrets: ['R11Npm0001', 'R11Npm0002', 'R11Npm0003', 'R11Twn0004', 'R11Crn0005', 'R11Mgo0006', 'R11Ssh 0007'],
    keep: ['npm config set //registry.corp/:_authToken ', 'npm config set _auth ', 'yarn config set npmAuthToken ', 'twine upload -r corp -u ci -p ', ' dist/*', 'crane auth login reg.corp -u ci -p ', 'mongosh -u app -p ', ' db;', ' ssh ops@h'],
  },
  {
    name: 'Wi-Fi passphrases: wpa_passphrase <ssid> <passphrase>, nmcli wifi-sec.psk / password; SSHPASS=, PGPASS=, REDISCLI_AUTH=',
    rec: proc("wpa_passphrase 'Corp Net' R11Wpa0001 > /etc/wpa.conf; nmcli con add type wifi ssid s wifi-sec.key-mgmt wpa-psk wifi-sec.psk R11Nm0002; nmcli dev wifi connect Corp password 'R11Nm0003'; SSHPASS=R11Env0004 sshpass -e ssh h; PGPASS=R11Env0005 psql -h db; REDISCLI_AUTH=R11Env0006 redis-cli ping"),
    secrets: ['R11Wpa0001', 'R11Nm0002', 'R11Nm0003', 'R11Env0004', 'R11Env0005', 'R11Env0006'],
    keep: ["wpa_passphrase 'Corp Net' ", ' > /etc/wpa.conf', 'wifi-sec.key-mgmt wpa-psk wifi-sec.psk ', 'nmcli dev wifi connect Corp password ', 'SSHPASS=', ' sshpass -e ssh h', 'PGPASS=', 'REDISCLI_AUTH=', ' redis-cli ping'],
  },
  {
    name: "a pod's argv without a shell operator, read as one command line (the split secret in argument words of their own)",
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['redis-cli', '-h', 'cache', 'AUTH', 'R11Argv0001'] }),
          container({ name: 'b', command: ['crane', 'auth'], args: ['login', 'reg.corp', '-u', 'ci', '-p', 'R11Argv0002'] }),
          container({ name: 'c', command: ['twine', 'upload', '-u', 'ci', '-p', 'R11Argv0003', 'dist/x.whl'] }),
          container({ name: 'd', command: ['skopeo', 'copy', '--creds', 'ci:R11Argv0004', 'docker://a', 'docker://b'] }),
          container({ name: 'e', command: ['wpa_passphrase', 'corp', 'R11Argv0005'] }),
          container({ name: 'f', command: ['mysql', '-u', 'root', '-p', 'R11Argv0006'], args: ['--password', 'R11Argv0007'] }),
          container({ name: 'g', command: ['curl', '-u', 'user:R11Argv0008', 'https://h'] }),
        ],
      },
    }),
    secrets: ['R11Argv0001', 'R11Argv0002', 'R11Argv0003', 'R11Argv0004', 'R11Argv0005', 'R11Argv0006', 'R11Argv0007', 'R11Argv0008'],
    keep: ['"redis-cli","-h","cache","AUTH","[REDACTED]"', '"login","reg.corp","-u","ci","-p","[REDACTED]"', '"twine","upload","-u","ci","-p","[REDACTED]","dist/x.whl"', '"skopeo","copy","--creds","ci:[REDACTED]","docker://a"', '"wpa_passphrase","corp","[REDACTED]"', '"mysql","-u","root","-p","[REDACTED]"', '"--password","[REDACTED]"', '"curl","-u","user:[REDACTED]","https://h"'],
  },
  {
    name: "a runtime record's argv and an exec's command= values with the round-11 forms",
    rec: procArgs(['redis-cli', 'AUTH', 'default', 'R11Argv0009']),
    secrets: ['R11Argv0009'],
    keep: ['"redis-cli","AUTH","default","[REDACTED]"'],
  },
  { name: 'exec: nmcli password in command= values', rec: execUri(['nmcli', 'dev', 'wifi', 'connect', 'Corp', 'password', 'R11Argv0010']), secrets: ['R11Argv0010'], keep: ['command=nmcli&command=dev&command=wifi&command=connect&command=Corp&command=password&command='] },
];

/** Round 11 near misses: the same programs with nothing secret (a port, a file, a prompt, SQL on stdin), which must stay byte for byte. */
const ROUND11_KEPT: Case[] = [
  {
    name: 'stdin look-alikes: SQL fed to mysql -p / psql -W, redirects after -p / --password, a file, a variable',
    rec: proc("mysql -u root -p <<< 'select 1'; echo 'show databases' | mysql -u root -p; mysql -p < dump.sql; mysql -p <<EOF\nselect 1;\nEOF\npsql -W <<< \"$PGPW\"; psql -p 5432 -h db <<< 'select 1'; ftp < script.txt; htpasswd -c f u; docker secret create db ./pw.txt; cat <<EOF > notes.txt\nhello\nEOF\n"),
    secrets: [],
    keep: ["mysql -u root -p <<< 'select 1'", "echo 'show databases' | mysql -u root -p", 'mysql -p < dump.sql', 'mysql -p <<EOF\nselect 1;\nEOF', 'psql -W <<< \\"$PGPW\\"', "psql -p 5432 -h db <<< 'select 1'", 'ftp < script.txt', 'docker secret create db ./pw.txt', 'hello'],
  },
  {
    name: 'flag look-alikes: redis-cli -p / CONFIG GET, curl -b file, --creds user, npm config set registry, gh auth login -p, twine -r, nmcli show, PGPASSFILE',
    rec: proc('redis-cli -p 6380 ping; redis-cli config get requirepass; redis-cli -h h auth $REDIS_PW; curl -b cookies.txt -c cookies.txt https://h; podman pull --creds bot reg/img; npm config set registry https://r; gh auth login -p https -h github.com; twine upload -r pypi dist/*; nmcli con show; wpa_passphrase corp; PGPASSFILE=/run/pgpass psql; ssh -p 2222 h; crane auth logout reg'),
    secrets: [],
    keep: ['redis-cli -p 6380 ping; redis-cli config get requirepass; redis-cli -h h auth $REDIS_PW; curl -b cookies.txt -c cookies.txt https://h; podman pull --creds bot reg/img; npm config set registry https://r; gh auth login -p https -h github.com; twine upload -r pypi dist/*; nmcli con show; wpa_passphrase corp; PGPASSFILE=/run/pgpass psql; ssh -p 2222 h; crane auth logout reg'],
  },
  {
    name: "a pod's argv read joined: ports, a password file, a database name stay",
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['psql', '--password-file', '/run/pw', '-p', '5432', '-h', 'db'] }),
          container({ name: 'b', command: ['redis-server'], args: ['--port', '6380', '-p', '7000'] }),
          container({ name: 'c', command: ['nginx', '-g', 'daemon off;'] }),
          container({ name: 'd', command: ['twine', 'check', 'dist/x.whl'] }),
        ],
      },
    }),
    secrets: [],
    keep: ['"psql","--password-file","/run/pw","-p","5432","-h","db"', '"--port","6380","-p","7000"', '"nginx","-g","daemon off;"', '"twine","check","dist/x.whl"'],
  },
];

/**
 * Round 12: the last review's leftovers (a password on the first line of what a MySQL client's or psql's prompt reads from a
 * heredoc, a here-string or an echo; SQL password clauses the key rules cut short; curl's `--cookie=` eating the command line;
 * an argv word holding a space after a secret flag or name) and credential forms of EKS exec / pod specs and CloudTrail request
 * parameters not covered before. Each positive case leaked (or over-redacted, for the _KEPT ones) before the fix.
 */
const ROUND12: Case[] = [
  {
    name: 'SQL in a heredoc fed to mysql -p: the first line a password, then ALTER / CREATE USER ... IDENTIFIED BY, SET PASSWORD = PASSWORD()',
    rec: podCreate('configmaps', {
      kind: 'ConfigMap',
      data: {
        'init.sh':
          "#!/bin/sh\nmysql -uroot -p <<EOF\nR12Sql0001\nALTER USER 'root'@'localhost' IDENTIFIED BY 'R12Sql0002';\nCREATE USER app IDENTIFIED BY 'R12Sql0003';\nSET PASSWORD = PASSWORD('R12Sql0004');\nUPDATE mysql.user SET Password=PASSWORD(\"R12Sql0005\") WHERE User='root';\nEOF\npsql -U postgres -W <<'SQL'\nR12Sql0006\nALTER ROLE app WITH PASSWORD 'R12Sql0007';\nSQL\n",
      },
    }),
    secrets: ['R12Sql0001', 'R12Sql0002', 'R12Sql0003', 'R12Sql0004', 'R12Sql0005', 'R12Sql0006', 'R12Sql0007'],
    keep: ['mysql -uroot -p <<EOF\n', "\nALTER USER 'root'@'localhost' IDENTIFIED BY '", "CREATE USER app IDENTIFIED BY '", 'SET PASSWORD = PASSWORD(', "WHERE User='root';\nEOF", "psql -U postgres -W <<'SQL'\n", "ALTER ROLE app WITH PASSWORD '"],
  },
  {
    name: "the password on the first line of a here-string or echo into mysql -p / psql -W, then SQL; Oracle's REPLACE old password; MongoDB shell passwords",
    rec: proc(
      "mysql -uroot -p <<< $'R12Nl0001\\nselect 1'; printf 'R12Nl0002\\nshow databases;\\n' | mysql -u root -p; echo -e \"R12Nl0003\\nselect 1;\" | psql -W; sqlplus / as sysdba <<< 'ALTER USER scott IDENTIFIED BY \"R12Ora0004\" REPLACE \"R12Ora0005\";'; mongosh --eval 'db.createUser({user:\"u\", pwd:\"R12Mgo0006\", roles:[]}); db.changeUserPassword(\"u\", \"R12Mgo0007\"); db.auth(\"u\", \"R12Mgo0008\")'",
    ),
    secrets: ['R12Nl0001', 'R12Nl0002', 'R12Nl0003', 'R12Ora0004', 'R12Ora0005', 'R12Mgo0006', 'R12Mgo0007', 'R12Mgo0008'],
    keep: ['mysql -uroot -p <<< ', '\\nselect 1', '\\nshow databases;\\n', '| mysql -u root -p', 'ALTER USER scott IDENTIFIED BY ', ' REPLACE ', 'db.createUser({user:', 'roles:[]})', 'db.changeUserPassword(', 'db.auth('],
  },
  {
    name: "curl --cookie=<data> takes the cookie only, not the rest of the command line",
    rec: proc("curl --cookie=sid=R12Ck0001 -H 'Accept: application/json' https://app/api -o out.json; curl --cookie sid=R12Ck0002 -sS https://app/x"),
    secrets: ['R12Ck0001', 'R12Ck0002'],
    keep: ["-H 'Accept: application/json' https://app/api -o out.json", ' -sS https://app/x'],
  },
  {
    name: "an argv word holding a space: the whole value after a secret flag, NAME= or --flag=, and the rest of the argv kept",
    rec: podCreate('pods', {
      kind: 'Pod',
      spec: {
        containers: [
          container({ command: ['sh', '-c', 'export TOKEN=R12Av0001 def; run'] }),
          container({ name: 'b', command: ['sh', '-c', 'export TOKEN="R12Av0002 x"; run --verbose', 'arg0'] }),
          container({ name: 'c', command: ['env', 'API_TOKEN=R12Av0003 R12Av0004', 'app', '--serve'] }),
          container({ name: 'd', command: ['app', '--password', 'R12Av0005 R12Av0006', '--port', '8080'] }),
          container({ name: 'e', command: ['java', '-Ddb.password=R12Av0007 R12Av0008', '-jar', 'app.jar'] }),
          container({ name: 'f', command: ['curl', '-H', 'Cookie: sid=R12Av0009', '-o', 'out.json', 'https://app/x'] }),
          container({ name: 'g', command: ['curl', '--cookie=sid=R12Av0010', '-o', 'out.json', 'https://app/y'] }),
          container({ name: 'h', command: ['curl', '-b', 'theme=dark; sid=R12Av0011', '--cookie=a=1; sid=R12Av0012', 'https://app/z'] }),
        ],
      },
    }),
    secrets: ['R12Av0001', 'R12Av0002', 'R12Av0003', 'R12Av0004', 'R12Av0005', 'R12Av0006', 'R12Av0007', 'R12Av0008', 'R12Av0009', 'R12Av0010', 'R12Av0011', 'R12Av0012'],
    keep: ['"https://app/z"', ' def; run', '; run --verbose","arg0"', '"app","--serve"', '"--port","8080"', '"-jar","app.jar"', '"-o","out.json","https://app/x"', '"-o","out.json","https://app/y"'],
  },
  {
    name: 'registry and runtime clients: az acr login -p, regctl registry login -p, crictl --auth, ctr --user u:x / -u u:x, mysql "-px" quoted whole',
    rec: proc('az acr login -n reg -u u -p R12Reg0001; regctl registry login reg.corp -u ci -p R12Reg0002; crictl pull --auth R12Reg0003 reg/img:1; ctr -n k8s.io images pull --user ci:R12Reg0004 reg/img:1; ctr i pull -u ci:R12Reg0005 reg/img:2; mysql "-pR12Reg0006" -h db'),
    secrets: ['R12Reg0001', 'R12Reg0002', 'R12Reg0003', 'R12Reg0004', 'R12Reg0005', 'R12Reg0006'],
    keep: ['az acr login -n reg -u u -p ', 'regctl registry login reg.corp -u ci -p ', 'crictl pull --auth ', ' reg/img:1', 'ctr -n k8s.io images pull --user ci:', 'ctr i pull -u ci:', ' reg/img:2', ' -h db'],
  },
  {
    name: 'gh secret set --body / -b, Azure storage --account-key and connection strings (AccountKey=, SharedAccessKey=), TF_TOKEN_<host>=, subscription and auth key headers',
    rec: proc(
      "gh secret set DB_PASSWORD --body R12Az0001 --repo o/r; gh secret set API_KEY -b\"R12Az0002\"; az storage blob upload --account-name a --account-key R12Az0003 -f x -c y; az storage blob list --connection-string 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=R12Az0004;EndpointSuffix=core.windows.net'; export SB='Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=R12Az0005'; TF_TOKEN_app_terraform_io=R12Az0006 terraform init; curl -H 'Ocp-Apim-Subscription-Key: R12Az0007' -H 'X-Auth-Key: R12Az0008' https://h",
    ),
    secrets: ['R12Az0001', 'R12Az0002', 'R12Az0003', 'R12Az0004', 'R12Az0005', 'R12Az0006', 'R12Az0007', 'R12Az0008'],
    keep: ['gh secret set DB_PASSWORD --body ', ' --repo o/r', 'gh secret set API_KEY -b', '--account-name a --account-key ', ' -f x -c y', 'AccountName=a;AccountKey=', ';EndpointSuffix=core.windows.net', 'SharedAccessKeyName=Root;SharedAccessKey=', 'TF_TOKEN_app_terraform_io=', ' terraform init', "-H 'Ocp-Apim-Subscription-Key: "],
  },
  {
    name: 'CloudTrail: CloudFormation stack parameters by name, ElastiCache / MemoryDB user passwords, VPN pre-shared keys, Direct Connect BGP auth keys',
    rec: ctEvent('cloudformation.amazonaws.com', 'CreateStack', {
        stackName: 'db',
        parameters: [{ parameterKey: 'DBPassword', parameterValue: 'R12Ct0001' }, { parameterKey: 'Env', parameterValue: 'prod' }, { parameterKey: 'ApiToken', usePreviousValue: true }],
        user: { userId: 'u', passwords: ['R12Ct0002'], authenticationMode: { type: 'password', passwords: ['R12Ct0003'] } },
        options: { tunnelOptions: [{ preSharedKey: 'R12Ct0004', outsideIpAddress: '203.0.113.9' }] },
        newBGPPeer: { authKey: 'R12Ct0005', asn: 65000 },
    }),
    secrets: ['R12Ct0001', 'R12Ct0002', 'R12Ct0003', 'R12Ct0004', 'R12Ct0005'],
    keep: ['"parameterKey":"DBPassword"', '"parameterValue":"prod"', '"usePreviousValue":true', '"outsideIpAddress":"203.0.113.9"', '"asn":65000'],
  },
  {
    name: 'a token as the whole user info of a URL (git clone https://<token>@github.com), vault kv put / patch values, kubectl config set of a user credential',
    rec: proc(
      'git clone https://0123456789abcdef0123456789abcdef0123R12b@github.com/o/r.git; vault kv put -mount=secret app db=R12Vk0002 user=R12Vk0003 cert=@cert.pem; vault kv patch secret/app value=R12Vk0004; kubectl config set users.ci.token R12Kc0005; kubectl config set users.ci.client-key-data R12Kc0006; kubectl config set users.ci.auth-provider.config.client-secret R12Kc0007',
    ),
    secrets: ['0123456789abcdef0123456789abcdef0123R12b', 'R12Vk0002', 'R12Vk0003', 'R12Vk0004', 'R12Kc0005', 'R12Kc0006', 'R12Kc0007'],
    keep: ['git clone https://', '@github.com/o/r.git', 'vault kv put -mount=secret app db=', ' user=', ' cert=@cert.pem', 'vault kv patch secret/app value=', 'kubectl config set users.ci.token ', 'kubectl config set users.ci.client-key-data ', 'users.ci.auth-provider.config.client-secret '],
  },
];

/** Round 12 near misses, which must stay byte for byte. */
const ROUND12_KEPT: Case[] = [
  {
    name: 'SQL fed to mysql -p / psql -W whose first line is SQL or a client command; cookies from a file; gh secret set from a file',
    rec: proc(
      "mysql -uroot -p <<EOF\nshow databases;\nEOF\nmysql -p <<EOF\nstatus\nEOF\npsql -W <<EOF\n\\\\dt\nEOF\nmysql -uroot -p <<< $'select 1;\\nselect 2'; printf 'use db;\\nselect 1\\n' | mysql -p; curl --cookie=cookies.txt -o out.json https://h; gh secret set DB_PASSWORD < pw.txt; gh secret list; ctr images pull --user ci reg/img; git clone https://build-bot-2024@h/x https://x-access-token@github.com/o/r https://deploy@h/y; vault kv get secret/app; kubectl config set clusters.prod.server https://h; az acr login -n reg; SET PASSWORD = PASSWORD($NEWPW)",
    ),
    secrets: [],
    keep: ['https://build-bot-2024@h/x https://x-access-token@github.com/o/r https://deploy@h/y', 'vault kv get secret/app', 'kubectl config set clusters.prod.server https://h', 'mysql -uroot -p <<EOF\nshow databases;\nEOF', 'mysql -p <<EOF\nstatus\nEOF', "printf 'use db;\\nselect 1\\n' | mysql -p", 'curl --cookie=cookies.txt -o out.json https://h', 'gh secret set DB_PASSWORD < pw.txt', 'ctr images pull --user ci reg/img', 'az acr login -n reg'],
  },
  {
    name: 'CloudTrail look-alikes: a parameter named like a reference, public keys, key ids',
    rec: ctEvent('cloudformation.amazonaws.com', 'CreateStack', { stackName: 'db', parameters: [{ parameterKey: 'DBPasswordSecretArn', parameterValue: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:db' }, { parameterKey: 'KeyName', parameterValue: 'ops' }], authKeyId: 'k-1', accountKeyName: 'primary' }),
    secrets: [],
    keep: ['"parameterValue":"arn:aws:secretsmanager:us-west-2:111122223333:secret:db"', '"parameterValue":"ops"', '"authKeyId":"k-1"', '"accountKeyName":"primary"'],
  },
];

/**
 * Round 13: the leftovers round 12 listed (a token as a URL's user holding `-` or `_`, an `expect` script's `send` after a password
 * prompt, MSSQL's sp_addlogin / sp_password / a login's N'...' password, mysqladmin's `password` word after a lone `-p`, Azure's
 * ARM_ACCESS_KEY). Each positive case leaked (or, for mysqladmin, lost its `password` word) before the fix.
 */
const ROUND13: Case[] = [
  {
    name: "a token as a URL's user with - or _: a known prefix of any length, or a mixed-case, mixed-digit token; a token user before a password",
    rec: proc(
      'git clone https://ghp_R13Url01AbCdEf1234@github.com/o/r.git; git clone https://R13Url02-Ab3dE_fGh1-jK2lMn0pQ_rS4tUv@git.corp/o/r; twine upload --repository-url https://pypi-R13Url03AgEIcHlwaS5vcmc@upload.pypi.org/legacy/ dist/*; git clone https://glpat-R13Url04xYz_ab@gitlab.corp/g/p.git; npm i https://npm_R13Url05AbCdEf012345@registry.corp/pkg.tgz; git clone https://0123456789abcdef0123456789abcdefR13Url06:x-oauth-basic@github.com/o/s.git; curl https://xoxb-R13Url07-AbCd12@h/x',
    ),
    secrets: ['R13Url01AbCdEf1234', 'R13Url02-Ab3dE_fGh1-jK2lMn0pQ_rS4tUv', 'R13Url03AgEIcHlwaS5vcmc', 'R13Url04xYz_ab', 'R13Url05AbCdEf012345', '0123456789abcdef0123456789abcdefR13Url06', 'R13Url07-AbCd12'],
    keep: ['git clone https://ghp_', '@github.com/o/r.git', 'git clone https://', '@git.corp/o/r', 'twine upload --repository-url https://pypi-', '@upload.pypi.org/legacy/ dist/*', 'https://glpat-', '@gitlab.corp/g/p.git', 'npm i https://npm_', '@registry.corp/pkg.tgz', '@github.com/o/s.git', 'curl https://xoxb-', '@h/x'],
  },
  {
    name: "an expect script: what send answers to a password or passphrase prompt (next command, an action body, a pattern list, -c's script), the other sends kept",
    rec: podCreate('configmaps', {
      kind: 'ConfigMap',
      data: {
        'login.exp':
          '#!/usr/bin/expect -f\nspawn ssh admin@10.0.0.5\nexpect "*assword*"\nsend "R13Exp0001\\r"\nexpect "$ "\nsend "sudo -i\\r"\nexpect "password for admin:"\nsend -- "R13Exp0002\\r"\nexpect {\n  "*yes/no*" { send "yes\\r"; exp_continue }\n  "Enter passphrase for key" { send "R13Exp0003\\r" }\n}\nexpect "login:"\nsend "admin\\r"\nexpect "Password:" { send -- "R13Exp0004\\r" }\nexpect -exact "PASSWORD: "\nexp_send {R13Exp0005}\ninteract\n',
      },
    }),
    secrets: ['R13Exp0001', 'R13Exp0002', 'R13Exp0003', 'R13Exp0004', 'R13Exp0005'],
    keep: ['spawn ssh admin@10.0.0.5\nexpect "*assword*"\nsend "', '\\r"\nexpect "$ "\nsend "sudo -i\\r"\nexpect "password for admin:"\nsend -- "', '"*yes/no*" { send "yes\\r"; exp_continue }', '"Enter passphrase for key" { send "', 'expect "login:"\nsend "admin\\r"\nexpect "Password:" { send -- "', 'expect -exact "PASSWORD: "\nexp_send {', '}\ninteract'],
  },
  {
    name: 'expect -c on a command line (single- and double-quoted scripts): passwd prompts answered twice',
    rec: proc(
      'expect -c \'spawn passwd app; expect "New password:"; send "R13Exp0011\\r"; expect "Retype new password:"; send "R13Exp0012\\r"; expect eof\'; expect -c "spawn ssh u@h; expect \\"*assword*\\"; send \\"R13Exp0013\\\\r\\"; expect \\"$ \\"; send \\"uptime\\\\r\\"; interact"',
    ),
    secrets: ['R13Exp0011', 'R13Exp0012', 'R13Exp0013'],
    keep: ['spawn passwd app; expect "New password:"; send "', '\\r"; expect "Retype new password:"; send "', '\\r"; expect eof', 'spawn ssh u@h; expect \\"*assword*\\"; send \\"', '\\\\r\\"; expect \\"$ \\"; send \\"uptime\\\\r\\"; interact'],
  },
  {
    name: "MSSQL: sp_addlogin's and sp_password's passwords by position or by name, CREATE / ALTER LOGIN ... PASSWORD = N'x', OLD_PASSWORD",
    rec: podCreate('configmaps', {
      kind: 'ConfigMap',
      data: {
        'logins.sql':
          "EXEC sp_addlogin 'app', 'R13Ms0001', 'orders';\nEXEC master..sp_addlogin @loginame = N'app2', @passwd = N'R13Ms0002';\nEXEC sp_password 'R13Ms0003', 'R13Ms0004', 'app';\nEXEC sp_password NULL, N'R13Ms0005', N'sa';\nEXEC sys.sp_password @old = 'R13Ms0006', @new = 'R13Ms0007', @loginame = 'app';\nCREATE LOGIN app3 WITH PASSWORD = N'R13Ms0008', CHECK_POLICY = OFF;\nALTER LOGIN sa WITH PASSWORD = 'R13Ms0009' OLD_PASSWORD = 'R13Ms0010';\nALTER LOGIN app3 WITH PASSWORD = N'R13Ms0011' MUST_CHANGE, CHECK_EXPIRATION = ON;\n",
      },
    }),
    secrets: ['R13Ms0001', 'R13Ms0002', 'R13Ms0003', 'R13Ms0004', 'R13Ms0005', 'R13Ms0006', 'R13Ms0007', 'R13Ms0008', 'R13Ms0009', 'R13Ms0010', 'R13Ms0011'],
    keep: ["EXEC sp_addlogin 'app', '", "', 'orders';", "EXEC master..sp_addlogin @loginame = N'app2', @passwd = N'", "EXEC sp_password '", "', 'app';", "EXEC sp_password NULL, N'", "', N'sa';", "EXEC sys.sp_password @old = '", "', @new = '", "', @loginame = 'app';", "CREATE LOGIN app3 WITH PASSWORD = N'", "', CHECK_POLICY = OFF;", "ALTER LOGIN sa WITH PASSWORD = '", "' OLD_PASSWORD = '", "ALTER LOGIN app3 WITH PASSWORD = N'", "' MUST_CHANGE, CHECK_EXPIRATION = ON;"],
  },
  {
    name: 'sqlcmd -Q running sp_addlogin / sp_password on a command line',
    rec: proc("sqlcmd -S db -U sa -Q \"EXEC sp_addlogin 'app', 'R13Ms0021'\"; sqlcmd -S db -Q \"EXEC sp_password NULL, 'R13Ms0022', 'app'\""),
    secrets: ['R13Ms0021', 'R13Ms0022'],
    keep: ["sqlcmd -S db -U sa -Q \"EXEC sp_addlogin 'app', '", "sqlcmd -S db -Q \"EXEC sp_password NULL, '", "', 'app'\""],
  },
  {
    name: "mysqladmin: the new password after the word password goes, the word and a lone -p's command word stay; mariadb-admin too",
    rec: proc('mysqladmin -u root -p password R13My0001; mysqladmin -pR13My0002 password R13My0003; mysqladmin -u root -p status; mariadb-admin -u root password R13My0004 && mysqladmin -p old-password R13My0006'),
    secrets: ['R13My0001', 'R13My0002', 'R13My0003', 'R13My0004', 'R13My0006'],
    keep: ['mysqladmin -u root -p password ', 'mysqladmin -p', ' password ', '; mysqladmin -u root -p status; mariadb-admin -u root password ', ' && mysqladmin -p old-password '],
  },
  {
    name: 'mysqladmin as an argv: -p then password then the new one',
    rec: podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['mysqladmin', '-u', 'root', '-p', 'password', 'R13My0005'] }) }),
    secrets: ['R13My0005'],
    keep: ['"mysqladmin","-u","root","-p","password"'],
  },
  {
    name: "Azure's ARM_ACCESS_KEY (the azurerm backend's storage account key) and AZURE_STORAGE_ACCESS_KEY are secrets; AWS_ACCESS_KEY_ID stays",
    rec: proc('ARM_ACCESS_KEY=R13Arm0001 ARM_CLIENT_SECRET=R13Arm0002 terraform init; export ARM_ACCESS_KEY="R13Arm0003"; AZURE_STORAGE_ACCESS_KEY=R13Arm0004 node up.js; AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws s3 ls'),
    secrets: ['R13Arm0001', 'R13Arm0002', 'R13Arm0003', 'R13Arm0004'],
    keep: ['ARM_ACCESS_KEY=', ' ARM_CLIENT_SECRET=', ' terraform init; export ARM_ACCESS_KEY=', 'AZURE_STORAGE_ACCESS_KEY=', ' node up.js', 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws s3 ls'],
  },
  {
    name: 'ARM_ACCESS_KEY as a key of JSON and YAML text (a tfvars-like ConfigMap file)',
    rec: podCreate('configmaps', { kind: 'ConfigMap', data: { 'backend.json': '{"ARM_ACCESS_KEY": "R13Arm0011", "ARM_CLIENT_ID": "00000000-0000-0000-0000-000000000000"}', 'env.yaml': 'ARM_ACCESS_KEY: R13Arm0012\nAWS_ACCESS_KEY: AKIAIOSFODNN7EXAMPLE\n' } }),
    secrets: ['R13Arm0011', 'R13Arm0012'],
    keep: ['"ARM_CLIENT_ID": "00000000-0000-0000-0000-000000000000"', 'AWS_ACCESS_KEY: AKIAIOSFODNN7EXAMPLE'],
  },
];

/** Round 13 near misses, which must stay byte for byte. */
const ROUND13_KEPT: Case[] = [
  {
    name: 'URL users that are names, expect sends after other prompts or of a variable, mysqladmin commands, SQL logins without a password',
    rec: proc(
      "git clone https://deploy-bot@host/x https://john_doe@host/y git@github.com:o/r.git https://x-access-token@github.com/o https://gitlab-ci-token@gitlab.corp/g https://ci-runner-us-west-2-prod@h/z https://svc_jenkins_build_agent_42@h/a https://runner-7d9f8b6c5-x2k4p@h/b https://ghp_short@h/c https://First.Last-2024@h/d; expect -c 'spawn ssh u@h; expect \"login:\"; send \"admin\\r\"; expect \"*assword*\"; send \"$env(PW)\\r\"; expect \"$ \"; send -- \"ls -la\\r\"'; mysqladmin -u root -p status; mysqladmin -u root -p processlist extended-status; sqlcmd -Q \"EXEC sp_helplogins 'app'; CREATE LOGIN [corp\\\\app] FROM WINDOWS\"; AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws s3 ls",
    ),
    secrets: [],
    keep: [
      'https://deploy-bot@host/x https://john_doe@host/y git@github.com:o/r.git https://x-access-token@github.com/o https://gitlab-ci-token@gitlab.corp/g https://ci-runner-us-west-2-prod@h/z https://svc_jenkins_build_agent_42@h/a https://runner-7d9f8b6c5-x2k4p@h/b https://ghp_short@h/c https://First.Last-2024@h/d',
      'expect "login:"; send "admin\\r"; expect "*assword*"; send "$env(PW)\\r"; expect "$ "; send -- "ls -la\\r"',
      'mysqladmin -u root -p status; mysqladmin -u root -p processlist extended-status',
      "EXEC sp_helplogins 'app'",
    ],
  },
];

/** What `redact` itself gives (copy-on-write, body scan only), and that the caller's record is left as it was. */
function direct(rec: Record<string, unknown>, source: 'k8s_audit' | 'cloudtrail' | 'runtime' | 'guardduty'): string {
  const before = JSON.stringify(rec);
  const r = redact(source, rec, { copy: true, scanStrings: false });
  expect(JSON.stringify(rec)).toBe(before);
  return JSON.stringify(r.record);
}
const sourceOf = (rec: Record<string, unknown>): 'k8s_audit' | 'cloudtrail' | 'runtime' | 'guardduty' =>
  rec.auditID !== undefined ? 'k8s_audit' : rec.eventVersion !== undefined ? 'cloudtrail' : rec.schema !== undefined ? 'runtime' : 'guardduty';

/** Strings that only look like secrets: a rule reading them must see them unchanged. */
const KEPT = [
  'ssh -p2222 admin@10.0.0.5',
  'python3 -m http.server -p8080',
  'kubectl port-forward svc/web 8080:80 -p8080',
  'nc -lvp 4444',
  'mysql -P3306 -h db -u root -p',
  'mysql -u root -p -h db',
  'cat /var/run/secrets/kubernetes.io/serviceaccount/token',
  '/api/v1/namespaces/payments/secrets?fieldSelector=metadata.name%3Ddb-password&limit=500',
  'https://example.com/search?q=token+rotation',
  'curl http://[::1]:8080/health https://user@host/x http://host:8080/a@b',
  'git clone git@github.com:org/repo.git',
  // Round 3: words that share a token's prefix but not its format; commands whose -u/-p/-a are not secrets.
  'df -h; du -sh /var/lib/disk-usage-report-for-cluster-prod-us-west-2-nodes',
  'aws ecs describe-task-definition --task-definition sk-prod-account-readonly-role-xyz1',
  'npm_config_cache=/tmp/.npm npm ci --prefer-offline',
  'git push origin gh-pages; ghp_short; xoxo-kisses; AIzaShort',
  'aws sts get-access-key-info --access-key-id AKIAIOSFODNN7EXAMPLE',
  'curl -u admin https://x.example.com; ps -u root; sort -u list.txt',
  'aws ecr get-login-password | docker login --username AWS --password-stdin 111122223333.dkr.ecr.us-west-2.amazonaws.com',
  'redis-server --port 6379 -a; tar -a -cf x.tgz dir',
  'kubectl create configmap cfg --from-file=app.yaml',
];

describe('adversarial redaction corpus', () => {
  for (const c of [...K8S, ...CLOUDTRAIL, ...RUNTIME, ...GUARDDUTY, ...TOKENS, ...PROGRAMS, ...PATCHES]) {
    it(c.name, () => {
      const ev = both(c.rec);
      const out = JSON.stringify(ev);
      for (const s of c.secrets) expect(out, s).not.toContain(s);
      // Query values are checked decoded too (a %-encoded secret is still a secret).
      if (typeof ev.requestURI === 'string') for (const s of c.secrets) expect(decodeURIComponent(ev.requestURI), s).not.toContain(s);
      for (const k of c.keep) expect(out, k).toContain(JSON.stringify(k).slice(1, -1));
      if (c.secrets.length > 0) expect(ev.seam.ingest.redacted.length).toBeGreaterThan(0);
      else expect(ev.seam.ingest.redacted).toEqual([]);
    });
  }

  it('keeps strings that only look like secrets', () => {
    for (const s of KEPT) expect(scrub(s), s).toBe(s);
    for (const s of KEPT) {
      const ev = both(proc(s));
      expect((ev.process as { cmdline: string }).cmdline).toBe(s);
    }
    const uri = '/api/v1/namespaces/payments/secrets?fieldSelector=metadata.name%3Ddb-password&labelSelector=app%3Dtoken-rotator&limit=500';
    const ev = both({ ...audit, requestURI: uri });
    expect(ev.requestURI).toBe(uri);
    expect(ev.seam.ingest.redacted).toEqual([]);
    // An argument after --password-file is a path, not a password; a port after -p of anything but a MySQL client stays.
    const pod = both(podCreate('pods', { kind: 'Pod', spec: podSpec({ command: ['psql', '--password-file', '/run/pw', '-p', '5432'], args: ['redis-server', '-p6379'] }) }));
    expect(pod.seam.ingest.redacted).toEqual([]);
  });
});

describe('adversarial redaction corpus, rounds 4 to 13', () => {
  for (const c of [...ROUND4, ...ROUND4_KEPT, ...ROUND5, ...ROUND5_KEPT, ...ROUND6, ...ROUND6_KEPT, ...ROUND6_HANDLED, ...ROUND7, ...ROUND7_KEPT, ...ROUND7_HANDLED, ...ROUND8, ...ROUND8_KEPT, ...ROUND9, ...ROUND9B, ...ROUND9C, ...ROUND9D, ...ROUND9_KEPT, ...ROUND10, ...ROUND10_KEPT, ...ROUND11, ...ROUND11_KEPT, ...ROUND12, ...ROUND12_KEPT, ...ROUND13, ...ROUND13_KEPT]) {
    it(c.name, () => {
      const ev = both(c.rec);
      const outs = [JSON.stringify(ev), direct(c.rec, sourceOf(c.rec))];
      for (const out of outs) {
        for (const s of c.secrets) expect(out, s).not.toContain(s);
        // A kept string is a value's text (escaped as JSON writes it) or a key and its value (`"USERNAME":"app"`).
        for (const k of c.keep) expect(out.includes(JSON.stringify(k).slice(1, -1)) || out.includes(k), k).toBe(true);
      }
      if (typeof ev.requestURI === 'string') for (const s of c.secrets) expect(decodeURIComponent(ev.requestURI), s).not.toContain(s);
      if (c.secrets.length > 0) expect(ev.seam.ingest.redacted.length).toBeGreaterThan(0);
      else expect(ev.seam.ingest.redacted).toEqual([]);
    });
  }
});
