// Redaction round 4, end to end: records of every plane carrying secrets the fourth round redacts (a Secret patched
// with no response, a ConfigMap of credentials, env values under secret names, password flags of ldapsearch, sqlcmd
// and htpasswd in runtime and exec command lines, Glue / CodeBuild / Lambda request parameters, a GuardDuty finding's
// request parameters) go through `seam replay` with the shipped rules: no event (what the index gets), alert or dead
// letter holds a secret, and the rules that read the redacted fields still fire.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { readJsonl as jsonl } from '../../test/helpers/jsonl.ts';
import { buildReplayHandler, runReplay } from './replay.ts';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const first = (p: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, p), 'utf8').split('\n')[0] as string) as Record<string, unknown>;

const audit = first('k8s-audit/eks-audit.jsonl');
const trail = first('cloudtrail/redaction-cases.jsonl');
const runtime = first('runtime/native.jsonl');
const finding = first('guardduty/findings-rest.jsonl');

let n = 0;
const auditEvent = (resource: string, verb: string, body: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...audit,
  auditID: `4e2e0000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  level: 'RequestResponse',
  stage: 'ResponseComplete',
  verb,
  requestURI: `/api/v1/namespaces/payments/${resource}/db`,
  objectRef: { resource, namespace: 'payments', name: 'db', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestObject: body,
  ...extra,
});
const ct = (eventSource: string, eventName: string, requestParameters: Record<string, unknown>): Record<string, unknown> => ({
  ...trail,
  eventID: `4e2e0000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  eventSource,
  eventName,
  readOnly: false,
  requestParameters,
  responseElements: null,
});
const proc = (cmdline: string): Record<string, unknown> => ({ ...runtime, id: `01JBXR4E2E${String(++n).padStart(16, '0')}`, process: { ...(runtime.process as Record<string, unknown>), cmdline } });
const exec = (argv: string[]): Record<string, unknown> =>
  auditEvent('pods', 'create', undefined, {
    level: 'Metadata',
    stage: 'ResponseStarted',
    requestURI: `/api/v1/namespaces/payments/pods/tools-0/exec?${argv.map((a) => 'command=' + encodeURIComponent(a)).join('&')}&container=tools&stdout=true`,
    objectRef: { resource: 'pods', namespace: 'payments', name: 'tools-0', subresource: 'exec', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 101 },
    requestObject: undefined,
  });

const SECRETS = ['UjRFMmVTZWMwMQ==', 'R4E2eCm002', 'R4E2eEnv03', 'R4E2eEnv04', 'R4E2eLdap5', 'R4E2eSql06', 'R4E2eHtp07', 'R4E2eGlue8', 'R4E2eCb009', 'R4E2eLam10', 'R4E2eGd011', 'R4E2eExHt12'];
const RECORDS = [
  // A Secret's data patched, the audit record without a response.
  auditEvent('secrets', 'patch', [{ op: 'replace', path: '/data/password', value: 'UjRFMmVTZWMwMQ==' }]),
  // A ConfigMap of credentials (the ConfigMap rule reads the key; its value goes).
  auditEvent('configmaps', 'patch', { data: { DB_PASSWORD: 'R4E2eCm002', LOG_LEVEL: 'debug' } }),
  // A pod created with literal secrets in its environment (the plaintext-credential rule reads name and value).
  auditEvent('pods', 'create', { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'db' }, spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'DB_PASS', value: 'R4E2eEnv03' }, { name: 'JWT_SIGNING_KEY', value: 'R4E2eEnv04' }] }] } }),
  exec(['htpasswd', '-b', '/etc/nginx/.htpasswd', 'admin', 'R4E2eExHt12']),
  proc('ldapsearch -x -D cn=admin,dc=corp -w R4E2eLdap5 -b dc=corp'),
  proc('sqlcmd -S db -U sa -P R4E2eSql06 -Q "select 1"; htpasswd -b /etc/.htpasswd ops R4E2eHtp07'),
  ct('glue.amazonaws.com', 'CreateConnection', { connectionInput: { name: 'orders', connectionType: 'JDBC', connectionProperties: { USERNAME: 'app', PASSWORD: 'R4E2eGlue8', SECRET_ID: 'prod/glue' } } }),
  ct('codebuild.amazonaws.com', 'CreateProject', { name: 'ci', environment: { type: 'LINUX_CONTAINER', privilegedMode: true, imagePullCredentialsType: 'CODEBUILD', environmentVariables: [{ name: 'DB_PASSWORD', value: 'R4E2eCb009', type: 'PLAINTEXT' }, { name: 'NPM_TOKEN', value: '/ci/npm', type: 'PARAMETER_STORE' }] } }),
  ct('lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', { functionName: 'orders', environment: { variables: { API_TOKEN: 'R4E2eLam10', LOG_LEVEL: 'debug' } } }),
  {
    ...finding,
    id: 'r4e2e0000000000000000000000000001',
    service: {
      ...(finding.service as Record<string, unknown>),
      action: { actionType: 'KUBERNETES_API_CALL', kubernetesApiCallAction: { requestUri: '/api/v1/namespaces/payments/pods', verb: 'create', parameters: '{"kind":"Pod","spec":{"containers":[{"name":"app","env":[{"name":"DB_PASSWORD","value":"R4E2eGd011"}]}]}}' } },
    },
  },
];

/**
 * Replays `records` through `seam replay` with the shipped rules and checks what every round checks: the input holds
 * each secret (else the test proves nothing), nothing is rejected, every record was redacted, and no secret (nor its
 * URL-encoded form: exec values) is in the events, the alerts or the dead letters. Returns the events' text and the
 * alerts' titles for the round's own checks.
 */
async function replayRound(name: string, records: readonly Record<string, unknown>[], secrets: readonly string[]): Promise<{ text: string; titles: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), `seam-${name}-`));
  const input = join(dir, 'in.jsonl');
  await writeFile(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const raw = await readFile(input, 'utf8');
  for (const s of secrets) expect(raw).toContain(s);
  const out = join(dir, 'events.jsonl');
  const alerts = join(dir, 'alerts.jsonl');
  const dlq = join(dir, 'dlq.jsonl');
  const handler = await buildReplayHandler({ rules: [join(ROOT, 'detections')], placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') });
  const summary = await runReplay({ paths: [input], outPath: out, dlqPath: dlq, alertsPath: alerts, maxRecordBytes: 1 << 20, handler });
  expect(summary.rejected).toBe(0);
  expect(summary.normalized).toBe(records.length);
  for (const f of [out, alerts, dlq]) {
    const text = await readFile(f, 'utf8').catch(() => '');
    for (const s of secrets) expect(text.includes(s) || text.includes(encodeURIComponent(s)), `${f}: ${s}`).toBe(false);
  }
  const events = await jsonl<SeamEvent>(out);
  expect(events.filter((e) => e.seam.ingest.redacted.length > 0)).toHaveLength(records.length);
  return { text: await readFile(out, 'utf8'), titles: (await jsonl<Alert>(alerts)).map((a) => a.rule.title) };
}

describe('round-4 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the rules on the redacted fields still fire', async () => {
    const { text, titles } = await replayRound('redact4', RECORDS, SECRETS);
    // What is not a secret stays: references, switches, the names the rules match.
    for (const keep of ['prod/glue', '"imagePullCredentialsType":"CODEBUILD"', '/ci/npm', '"LOG_LEVEL":"debug"', 'JWT_SIGNING_KEY', '-b dc=corp', 'command=admin&']) expect(text).toContain(keep);
    expect(titles).toContain('Workload With Plaintext Credential In Its Environment');
    expect(titles).toContain('ConfigMap With Credentials Created Or Modified');
    expect(titles).toContain('Exec or Attach Into Pod');
  }, 120_000);
});

// Round 6, end to end: what a red-teamer types on a pod (Impacket targets and hashes, nxc / evil-winrm -p, net use,
// SQL CONNECT piped to sqlplus, openssl -macopt) as runtime command lines, exec command= values and a ConfigMap's
// SQL script, through `seam replay` with the shipped rules.
const NT6 = '8846f7eaee8fb117ad06bdd830b7586c';
const SECRETS6 = ['R6E2eImp01', NT6, 'R6E2eNxc02', 'R6E2eEwr03', 'R6E2eNet04', 'R6E2eOra05', 'R6E2eSsl06', 'R6E2eExN07', 'R6E2eCm008'];
const RECORDS6 = [
  proc(`secretsdump.py CORP/admin:R6E2eImp01@10.0.0.5; wmiexec.py -hashes :${NT6} CORP/admin@10.0.0.6`),
  proc('nxc smb 10.0.0.0/24 -u admin -p R6E2eNxc02 --shares; evil-winrm -i 10.0.0.5 -u admin -p R6E2eEwr03'),
  proc('cmd.exe /c net use \\\\fs01\\c$ /user:CORP\\admin R6E2eNet04'),
  proc('echo "CONNECT scott/R6E2eOra05@orcl" | sqlplus -s /nolog; openssl dgst -sha256 -mac HMAC -macopt key:R6E2eSsl06 body'),
  exec(['net', 'user', 'backdoor', 'R6E2eExN07', '/add']),
  auditEvent('configmaps', 'patch', { data: { 'init.sql': 'CONNECT sys/R6E2eCm008@orcl AS SYSDBA;\n@tables.sql\n' } }),
];

describe('round-6 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the exec rule still fires', async () => {
    const { text, titles } = await replayRound('redact6', RECORDS6, SECRETS6);
    for (const keep of ['secretsdump.py CORP/admin:', '@10.0.0.5', 'nxc smb 10.0.0.0/24 -u admin -p ', 'net use \\\\\\\\fs01\\\\c$ /user:CORP\\\\admin', 'sqlplus -s /nolog', 'command=backdoor&', '@tables.sql']) expect(text).toContain(keep);
    expect(titles).toContain('Exec or Attach Into Pod');
  }, 120_000);
});

// Round 7, end to end: what an operator or an attacker types on a pod or a node (rabbitmqctl add_user, SNMPv3
// passphrases, a secret echoed into docker login --password-stdin, vault login <token>, etcdctl --user u:pw against the
// control plane's etcd) as runtime command lines and exec command= values, through `seam replay` with the shipped rules.
const SECRETS7 = ['R7E2eRmq01', 'R7E2eSnm02', 'R7E2eSnm03', 'R7E2eStd04', 'R7E2eVlt05', 'R7E2eEtc06', 'R7E2eExV07', 'R7E2eExL08'];
const RECORDS7 = [
  proc('rabbitmqctl add_user ops R7E2eRmq01 && rabbitmqctl set_user_tags ops administrator'),
  proc('snmpwalk -v3 -u monitor -l authPriv -a SHA -A R7E2eSnm02 -x AES -X R7E2eSnm03 10.0.0.1'),
  proc('echo R7E2eStd04 | docker login -u ci --password-stdin registry.example.com; vault login R7E2eVlt05'),
  proc('ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.10:2379 --user root:R7E2eEtc06 get /registry/secrets --prefix'),
  exec(['vault', 'login', 'R7E2eExV07']),
  exec(['lftp', '-u', 'backup,R7E2eExL08', 'sftp://files.internal']),
];

describe('round-7 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the exec rule still fires', async () => {
    const { text, titles } = await replayRound('redact7', RECORDS7, SECRETS7);
    for (const keep of ['rabbitmqctl add_user ops ', 'set_user_tags ops administrator', '-u monitor -l authPriv -a SHA -A ', 'docker login -u ci --password-stdin registry.example.com', '--user root:', 'get /registry/secrets --prefix', 'command=login&', 'command=backup%2C', 'sftp%3A%2F%2Ffiles.internal'])
      expect(text).toContain(keep);
    expect(titles).toContain('Exec or Attach Into Pod');
  }, 120_000);
});

// Round 8, end to end: chpasswd fed by echo, rabbitmqadmin -p, snmpusm passwd, doctl -t, Samba's net -U before the
// subcommand, a MySQL password after and inside a quoted -e script holding a `;`, a runtime argv that is a command line
// split into words, and doctl -t as exec command= values, through `seam replay` with the shipped rules.
const SECRETS8 = ['R8E2eChp01', 'R8E2eRad02', 'R8E2eSnu03', 'R8E2eSnu04', 'R8E2eDoc05', 'R8E2eNet06', 'R8E2eSql07', 'R8E2eSql08', 'R8E2eArg09', 'R8E2eArg10', 'R8E2eExD11'];
const procArgs8 = (args: string[]): Record<string, unknown> => ({ ...runtime, id: `01JBXR8E2E${String(++n).padStart(16, '0')}`, process: { ...(runtime.process as Record<string, unknown>), cmdline: undefined, args } });
const RECORDS8 = [
  proc("echo 'ops:R8E2eChp01' | chpasswd && rabbitmqadmin -H mq -P 15672 -u admin -p R8E2eRad02 list users"),
  proc('snmpusm -v3 -u admin -l authNoPriv -a SHA 10.0.0.1 passwd R8E2eSnu03 R8E2eSnu04; doctl auth init -t R8E2eDoc05'),
  proc('net -U CORP\\\\admin%R8E2eNet06 rpc user add backdoor -S dc01'),
  proc("mysql -h db -u root -e \"use orders; ALTER USER 'app'@'%' IDENTIFIED BY 'R8E2eSql07'\" -pR8E2eSql08"),
  procArgs8(['echo', 'R8E2eArg09', '|', 'docker', 'login', '-u', 'ci', '--password-stdin', 'registry.example.com', '&&', 'echo', 'bob:R8E2eArg10', '|', 'chpasswd']),
  exec(['doctl', 'auth', 'init', '-t', 'R8E2eExD11']),
];

describe('round-8 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the exec rule still fires', async () => {
    const { text, titles } = await replayRound('redact8', RECORDS8, SECRETS8);
    for (const keep of [
      "echo 'ops:[REDACTED]' | chpasswd",
      'rabbitmqadmin -H mq -P 15672 -u admin -p [REDACTED] list users',
      '10.0.0.1 passwd [REDACTED] [REDACTED]',
      'doctl auth init -t [REDACTED]',
      'net -U CORP\\\\admin%[REDACTED] rpc user add backdoor -S dc01',
      "ALTER USER 'app'@'%' IDENTIFIED BY '[REDACTED]'",
      '-p[REDACTED]',
      'command=init&',
    ])
      expect(text).toContain(JSON.stringify(keep).slice(1, -1));
    // The split argv: each word where it was, the secrets' words redacted.
    for (const keep of ['"echo","[REDACTED]","|","docker","login","-u","ci","--password-stdin","registry.example.com","&&","echo","bob:[REDACTED]","|","chpasswd"']) expect(text).toContain(keep);
    expect(titles).toContain('Exec or Attach Into Pod');
  }, 120_000);
});

// Round 9, end to end: printf's format building chpasswd's pairs, a password on kinit's / passwd's / cryptsetup's stdin, a
// quoted `;` before sqlcmd's -P and ldapsearch's -w, ipmitool / mosquitto / PsExec / schtasks / winrs password flags, a
// probe's Authorization header, an API Gateway key's value, a password hashed by openssl passwd, an ingress-nginx snippet's proxy_set_header, a password echoed twice by a subshell, and a
// CodeBuild build started with a buildspec override and a plaintext environment override, as runtime command lines, exec
// command= values, audit bodies and CloudTrail request parameters, through `seam replay` with the shipped rules.
const SECRETS9 = ['R9E2eChp01', 'R9E2eKin02', 'R9E2ePwd03', 'R9E2eSql04', 'R9E2eLdp05', 'R9E2eIpm06', 'R9E2eMqt07', 'R9E2ePsx08', 'R9E2eSch09', 'R9E2eExW10', 'R9E2eCbE11', 'R9E2eCbB12', 'UjlFMmVQcmIxMw==', 'R9E2eNgx14', 'R9E2eGrp15', 'R9E2eApiGwKeyValue16', 'R9E2eHash17'];
const RECORDS9 = [
  proc("printf '%s:%s\\n' ops R9E2eChp01 | chpasswd && kinit svc@CORP.EXAMPLE <<< R9E2eKin02; echo -e 'R9E2ePwd03\\nR9E2ePwd03' | passwd backup"),
  proc('sqlcmd -S db -Q "select 1; select 2" -U sa -P R9E2eSql04; ldapsearch -x -b "o=a|b" -D cn=admin -w R9E2eLdp05 uid=bob'),
  proc('ipmitool -I lanplus -H 10.0.0.9 -U admin -P R9E2eIpm06 chassis power off; mosquitto_pub -h mq -u dev -P R9E2eMqt07 -t plant/valve -m open'),
  proc('PsExec64.exe \\\\fs01 -u CORP\\admin -p R9E2ePsx08 cmd /c whoami; schtasks /create /s fs01 /ru SYSTEM /u CORP\\admin /p R9E2eSch09 /tn upd /tr c:\\x.exe'),
  exec(['winrs', '-r:fs01', '-u:CORP\\admin', '-p:R9E2eExW10', 'ipconfig']),
  auditEvent('pods', 'create', {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'api' },
    spec: { containers: [{ name: 'api', image: 'api:1', livenessProbe: { httpGet: { path: '/healthz', port: 8080, httpHeaders: [{ name: 'Authorization', value: 'Basic UjlFMmVQcmIxMw==' }, { name: 'Accept', value: 'application/json' }] } } }] },
  }),
  auditEvent('ingresses', 'update', {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    metadata: { name: 'api', annotations: { 'nginx.ingress.kubernetes.io/configuration-snippet': 'proxy_set_header X-Api-Key R9E2eNgx14;\nproxy_set_header Host $host;\n' } },
  }),
  proc('(echo R9E2eGrp15; echo R9E2eGrp15) | passwd deploy; useradd -m -p "$(openssl passwd -6 R9E2eHash17)" svc'),
  ct('apigateway.amazonaws.com', 'CreateApiKey', { name: 'partner-a', enabled: true, value: 'R9E2eApiGwKeyValue16' }),
  ct('codebuild.amazonaws.com', 'StartBuild', {
    projectName: 'ci',
    buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands:\n      - kinit deploy@CORP.EXAMPLE <<< R9E2eCbB12\n      - make deploy\n',
    environmentVariablesOverride: [
      { name: 'DB_PASSWORD', value: 'R9E2eCbE11', type: 'PLAINTEXT' },
      { name: 'STAGE', value: 'prod', type: 'PLAINTEXT' },
    ],
  }),
];

describe('round-9 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the exec and CodeBuild rules still fire', async () => {
    const { text, titles } = await replayRound('redact9', RECORDS9, SECRETS9);
    for (const keep of [
      "printf '%s:%s\\n' ops [REDACTED] | chpasswd",
      'kinit svc@CORP.EXAMPLE <<< [REDACTED]',
      "echo -e [REDACTED] | passwd backup",
      '-Q "select 1; select 2" -U sa -P [REDACTED]',
      '-b "o=a|b" -D cn=admin -w [REDACTED] uid=bob',
      '-U admin -P [REDACTED] chassis power off',
      '-t plant/valve -m open',
      '-u CORP\\admin -p [REDACTED] cmd /c whoami',
      '/u CORP\\admin /p [REDACTED] /tn upd',
      '- kinit deploy@CORP.EXAMPLE <<< [REDACTED]',
      '- make deploy',
      'proxy_set_header X-Api-Key [REDACTED];\nproxy_set_header Host $host;',
      '(echo [REDACTED]; echo [REDACTED]) | passwd deploy; useradd -m -p "$(openssl passwd -6 [REDACTED])" svc',
    ])
      expect(text).toContain(JSON.stringify(keep).slice(1, -1));
    for (const keep of ['command=-p%3A[REDACTED]&command=ipconfig', '"name":"STAGE","value":"prod"', '"name":"DB_PASSWORD","value":"[REDACTED]"', '"name":"Authorization","value":"[REDACTED]"', '"name":"Accept","value":"application/json"', '"name":"partner-a"']) expect(text).toContain(keep);
    expect(titles).toContain('Exec or Attach Into Pod');
    expect(titles).toContain('CodeBuild Build Started With Buildspec Override');
  }, 120_000);
});

// Round 10, end to end: a script fed to ftp, influx v2's -p / -t, isql's password by its position, Docker's X-Registry-Auth
// header, a subshell that sleeps before it echoes into passwd, a quoted `;` before openssl's -k and redis-cli's -a and inside
// the echoed text, and an exec whose secret only shows when its command= values are read as one line, through `seam replay`
// with the shipped rules.
const SECRETS10 = ['R10E2eFtp01', 'R10E2eInf02', 'R10E2eInf03', 'R10E2eIsq04', 'eyJSMTBFMmVSZWcwNSI6MX0', 'R10E2eSub06', 'R10E2eOsl07', 'R10E2eRed08', 'R10;E2eEch09', 'R10E2eExe10'];
const RECORDS10 = [
  proc('ftp -n ftp.corp <<< "user backup R10E2eFtp01"; influx setup -u admin -p R10E2eInf02 -t R10E2eInf03 -o org -b m -f'),
  proc('isql PRODDSN sa R10E2eIsq04 -b < /tmp/dump.sql; curl --unix-socket /var/run/docker.sock -H "X-Registry-Auth: eyJSMTBFMmVSZWcwNSI6MX0" -X POST http://d/images/create'),
  proc('(sleep 1; echo R10E2eSub06; sleep 1; echo R10E2eSub06) | passwd deploy; openssl enc -aes-256-cbc -md "sha256;x" -k R10E2eOsl07 -in f; openssl enc -d -pass stdin -in g'),
  proc('redis-cli -h "a;b" -a R10E2eRed08 ping; echo "R10;E2eEch09" | passwd --stdin ops'),
  exec(['isql', 'PRODDSN', 'sa', 'R10E2eExe10']),
];

describe('round-10 secrets through seam replay', () => {
  it('reach no event, alert or dead letter, and the exec rule still fires', async () => {
    const { text, titles } = await replayRound('redact10', RECORDS10, [...SECRETS10, 'E2eEch09']);
    for (const keep of [
      'ftp -n ftp.corp <<< "user backup [REDACTED]"',
      'influx setup -u admin -p [REDACTED] -t [REDACTED] -o org -b m -f',
      'isql PRODDSN sa [REDACTED] -b < /tmp/dump.sql',
      '-H "X-Registry-Auth: [REDACTED]" -X POST http://d/images/create',
      '(sleep 1; echo [REDACTED]; sleep 1; echo [REDACTED]) | passwd deploy',
      '-md "sha256;x" -k [REDACTED] -in f; openssl enc -d -pass stdin -in g',
      'redis-cli -h "a;b" -a [REDACTED] ping',
      '| passwd --stdin ops',
    ])
      expect(text).toContain(JSON.stringify(keep).slice(1, -1));
    expect(text).toContain('command=isql&command=PRODDSN&command=sa&command=[REDACTED]');
    expect(titles).toContain('Exec or Attach Into Pod');
  }, 120_000);
});
