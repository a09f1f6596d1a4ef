import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { normalizeLine, normalizeRecord } from './normalize.ts';
import { scrub } from './redact.ts';

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
];

describe('adversarial redaction corpus', () => {
  for (const c of [...K8S, ...CLOUDTRAIL, ...RUNTIME, ...GUARDDUTY]) {
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
