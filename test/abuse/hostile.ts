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
