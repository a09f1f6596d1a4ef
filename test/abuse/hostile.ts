// Hostile inputs for the issue 11 regression tests and the abuse suite (npm run test:abuse): records an
// attacker or a careless sender would write, each built here (no third-party data).

/** A CloudTrail CreateAccessKey call (a rule in detections/ alerts on it), with the given time and id. */
export function createAccessKey(eventTime: string, id: string, account = '111122223333'): string {
  return JSON.stringify({
    eventVersion: '1.08',
    eventTime,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    eventID: id,
    recipientAccountId: account,
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${account}:user/bob`, accountId: account },
    requestParameters: { userName: 'alice' },
  });
}

/** A CloudTrail record whose requestParameters nest `depth` objects deep. */
export function deepRecord(depth: number, id: string, eventTime = '2024-05-01T12:00:00Z'): string {
  const open = '{"a":'.repeat(depth);
  const close = '}'.repeat(depth);
  return `{"eventVersion":"1.08","eventTime":"${eventTime}","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","eventID":"${id}","recipientAccountId":"111122223333","requestParameters":${open}1${close}}`;
}

/** Timestamps with the right shape that are no date (each once made alert building throw). */
export const IMPOSSIBLE_TIMES = ['2024-13-45T99:99:99Z', '2024-02-30T10:00:00Z', '2023-02-29T00:00:00Z', '2024-00-10T10:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T12:60:00Z', '0000-00-00T00:00:00Z'];

/** A small Sigma rule of our own (`level` medium), for hostile-rule tests. */
export function plainRule(id: string, name: string, extra = ''): string {
  return `title: Test rule ${name}
id: ${id}
name: ${name}
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: iam.amazonaws.com
    eventName: CreateAccessKey
  condition: selection
level: medium
${extra}`;
}

/** A YAML alias bomb: `levels` levels of `width` aliases to the level below (width^levels nodes once expanded). */
export function aliasBomb(levels: number, width = 9): string {
  const lines = ['title: bomb', `a0: &a0 [${Array.from({ length: width }, () => '"lol"').join(',')}]`];
  for (let l = 1; l <= levels; l++) lines.push(`a${l}: &a${l} [${Array.from({ length: width }, () => `*a${l - 1}`).join(',')}]`);
  lines.push(`detection: { selection: { eventName: *a${levels} }, condition: selection }`);
  return lines.join('\n') + '\n';
}

/** A rule whose regex backtracks exponentially (`(a+)+$`, the example). */
export function redosRule(id: string): string {
  return `title: ReDoS
id: ${id}
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    userAgent|re: '(a+)+$'
  condition: selection
level: medium
`;
}

/** A planted secret: unique, easy to search for, shaped like the real thing where the shape matters. */
export function plant(i: number, kind: 'token' | 'aws40' = 'token'): string {
  if (kind === 'aws40') return `Pl4nted${String(i).padStart(3, '0')}SecretKeyAbCdEfGhIjKlMnOpQrSt`.slice(0, 40).padEnd(40, 'Z');
  return `pl4nted-secret-${String(i).padStart(3, '0')}-xQ9z`;
}

const audit = (id: string, over: Record<string, unknown>): string =>
  JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/payments/secrets',
    verb: 'get',
    user: { username: 'alice', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.7'],
    objectRef: { resource: 'secrets', namespace: 'payments', apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: '2024-05-01T12:00:00.000000Z',
    stageTimestamp: '2024-05-01T12:00:00.100000Z',
    ...over,
  });
const trail = (id: string, over: Record<string, unknown>): string =>
  JSON.stringify({
    eventVersion: '1.08',
    eventTime: '2024-05-01T12:00:00Z',
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: 'us-east-1',
    eventID: id,
    recipientAccountId: '111122223333',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333' },
    ...over,
  });
const runtime = (id: string, cmdline: string, over: Record<string, unknown> = {}): string =>
  JSON.stringify({ schema: 'seam.runtime/v1', id, time: '2024-05-01T12:00:00Z', kind: 'process', namespace: 'payments', pod: 'api-1', process: { pid: 1, exe: '/bin/sh', cmdline }, ...over });

/**
 * Records carrying planted secrets in every shape issue 11 found leaking (finding 4): valid ones that
 * normalize, and rejects that become dead letters. `secrets` is every planted value.
 */
export function secretRecords(): { valid: string[]; rejects: string[]; secrets: string[] } {
  const s: string[] = [];
  const p = (kind: 'token' | 'aws40' = 'token'): string => {
    const v = plant(s.length, kind);
    s.push(v);
    return v;
  };
  const valid = [
    audit('sec-table', { responseObject: { kind: 'Table', apiVersion: 'meta.k8s.io/v1', rows: [{ cells: ['db'], object: { kind: 'Secret', metadata: { name: 'db' }, data: { password: p() } } }] } }),
    audit('sec-patch', { verb: 'patch', requestObject: [{ op: 'replace', path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', value: JSON.stringify({ kind: 'Secret', data: { p: p() } }) }] }),
    trail('sec-sts', { responseElements: { Credentials: { AccessKeyId: 'ASIAEXAMPLE000000001', SessionToken: p(), SecretAccessKey: p(), Expiration: 'x' } } }),
    trail('sec-cak', { eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', responseElements: { accessKey: { accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: p(), status: 'Active' } } }),
    audit('sec-lower', { objectRef: { resource: 'configmaps', namespace: 'payments' }, verb: 'create', requestObject: { kind: 'secret', data: { k: p() } } }),
    runtime('sec-mixed', `curl -H "AuThOrIzAtIoN: Bearer ${p()}" https://api`),
    runtime('sec-escaped', 'x', { note: JSON.stringify({ Authorization: `Bearer ${p()}` }) }),
    audit('sec-pod', { objectRef: { resource: 'pods', namespace: 'payments' }, verb: 'create', requestObject: { kind: 'Pod', spec: { containers: [{ name: 'c', env: [{ name: 'DB_PASSWORD', value: p() }, { name: 'MODE', value: 'prod' }] }] } } }),
    audit('sec-deploy', { objectRef: { resource: 'deployments', namespace: 'payments', apiGroup: 'apps' }, verb: 'create', requestObject: { kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'c', env: [{ name: 'API_KEY', value: p() }] }] } } } } }),
    runtime('sec-pkey', `sh -c 'printf "-----BEGIN RSA PRIVATE KEY-----\\n${p()}\\n-----END RSA PRIVATE KEY-----" > /tmp/k'`),
    runtime('sec-pwarg', `mysql -u root --password=${p()} -h db`),
    runtime('sec-pwarg2', `psql --password ${p()} -h db`),
    JSON.stringify({ uuid: 'sec-falco', time: '2024-05-01T12:00:00Z', rule: 'Shell', priority: 'Notice', output: `mysql --password=${p()} run`, output_fields: { 'proc.cmdline': `PGPASSWORD=${p()} psql`, 'k8s.ns.name': 'payments', 'k8s.pod.name': 'api-1' } }),
    trail('sec-headers', { eventSource: 'apigateway.amazonaws.com', eventName: 'TestInvokeMethod', requestParameters: { headers: { Cookie: `session=${p()}`, 'X-Amz-Security-Token': p() } } }),
    trail('sec-lambda', { eventSource: 'lambda.amazonaws.com', eventName: 'CreateFunction20150331', requestParameters: { functionName: 'f', environment: { variables: { DB_PASS: p(), STAGE: 'prod' } } } }),
    trail('sec-ecs', { eventSource: 'ecs.amazonaws.com', eventName: 'RegisterTaskDefinition', requestParameters: { containerDefinitions: [{ name: 'c', environment: [{ name: 'SECRET_TOKEN', value: p() }] }] } }),
    runtime('sec-awskey', `aws configure set aws_access_key_id AKIAABCDEFGHIJKLMNOP && echo AKIAABCDEFGHIJKLMNOP ${p('aws40')}`),
  ];
  const rejects = [
    `{"eventVersion":"1.08","eventID":"trunc-sec","responseElements":{"credentials":{"sessionToken":"${p()}","secretAccessKey":"${p()}`,
    `not json at all; Authorization: Bearer ${p()}`,
    JSON.stringify({ hello: 'world', password: p() }),
    trail('sec-badtime', { eventTime: '2024-13-45T99:99:99Z', responseElements: { credentials: { sessionToken: p() } } }),
    `{"password":"${p()}","a":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`,
    audit('sec-schema', { kind: 'Event', verb: 42, requestObject: { kind: 'Secret', data: { x: p() } }, stageTimestamp: 'never' }),
    `[{"kind":"Secret","data":{"x":"${p()}"}}]`,
  ];
  return { valid, rejects, secrets: s };
}
