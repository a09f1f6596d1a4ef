// Inputs carried in batch documents (ADR 0038, 0039), for the tests that hold them to the same records one per
// line: runs of consecutive audit events become Kubernetes audit EventLists, runs of consecutive CloudTrail
// records CloudTrail log files (`{"Records":[...]}`), in varied sizes and key orders; or, with `subscriptions`,
// both become CloudWatch Logs subscription payloads (an EKS audit log group's, a CloudTrail log group's); other
// records stay as they are. Bad elements can be slipped in to check that each is its own dead letter.
import type { BatchCountsSnapshot, BatchShape } from '../../src/core/normalize/batch.ts';

export type Shape = 'k8s_audit' | 'cloudtrail';

export interface BatchInput {
  /** One record or one batch document each (a JSONL line, a Kafka message). */
  texts: string[];
  /** Bad elements that were put into documents (each must come out as its own dead letter; in a subscription payload, the log event). */
  bad: string[];
  documents: Record<BatchShape, number>;
  /** Elements in the documents, bad ones included. */
  records: Record<BatchShape, number>;
  empty: Record<BatchShape, number>;
  /** Log events of payloads of an EKS group's non-audit stream (left out). */
  skipped: Record<BatchShape, number>;
}

/** The counts a BatchCounts must end with after reading `input`. */
export const countsOf = (input: BatchInput): BatchCountsSnapshot => ({ documents: input.documents, records: input.records, empty: input.empty, skipped: input.skipped });

export interface BatchOptions {
  /** Put a bad element into every n-th document (0: none). */
  badEvery?: number;
  /** Add an empty document of each shape at the end. */
  empty?: boolean;
  /** Largest run in one document (runs are cut at 1, 2, … up to this, in turn). */
  maxRun?: number;
  /** Pretty-print some documents over several lines (Kafka messages; not for a JSONL file). */
  pretty?: boolean;
  /** CloudWatch Logs subscription payloads instead of EventLists and CloudTrail files (with `empty`: a control message and an authenticator stream's payload too). */
  subscriptions?: boolean;
}

/** The account and EKS cluster the subscription payloads name: those of the fixtures' other planes (GuardDuty findings, CloudTrail), so every plane tells of one cluster. */
export const SUBSCRIPTION_OWNER = '111122223333';
export const SUBSCRIPTION_CLUSTER = 'prod-eks-01';
const CT_GROUP = `aws-cloudtrail-logs-${SUBSCRIPTION_OWNER}-0a1b2c3d`;

/** A log event of a subscription payload: `message` is the record's text. */
export const logEventOf = (n: number, message: string): string => JSON.stringify({ id: String(37_000_000_000_000_000_000_000_000_000_000_000n + BigInt(n)), timestamp: 1_730_815_200_000 + n, message });

/** A CloudWatch Logs DATA_MESSAGE of `events` (log event texts), its keys in CloudWatch's order or sorted. */
export function subscriptionOf(logGroup: string, logStream: string, events: string[], variant = 0, pretty = false): string {
  const filters = `["seam-${variant % 2}"]`;
  const nl = pretty ? '\n  ' : '';
  if (variant % 3 === 1) return `{"logEvents":[${events.join(',')}],"logGroup":${JSON.stringify(logGroup)},"logStream":${JSON.stringify(logStream)},"messageType":"DATA_MESSAGE","owner":"${SUBSCRIPTION_OWNER}","subscriptionFilters":${filters}}`;
  return `{${nl}"messageType":"DATA_MESSAGE",${nl}"owner":"${SUBSCRIPTION_OWNER}",${nl}"logGroup":${JSON.stringify(logGroup)},${nl}"logStream":${JSON.stringify(logStream)},${nl}"subscriptionFilters":${filters},${nl}"logEvents":[${events.join(',')}]${pretty ? '\n' : ''}}`;
}

/** What CloudWatch Logs sends when a subscription's destination is set up: no record. */
export const CONTROL_MESSAGE = JSON.stringify({ messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [{ id: '', timestamp: 1_730_815_200_000, message: 'CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.' }] });

function shapeOf(text: string): Shape | undefined {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (o.kind === 'Event' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('audit.k8s.io/')) return 'k8s_audit';
  if (typeof o.eventSource === 'string' && typeof o.eventName === 'string') return 'cloudtrail';
  return undefined;
}

/** A document of `shape` holding `elements` (texts as they are), its keys in one of three orders and spacings. */
export function documentOf(shape: Shape, elements: string[], variant = 0, pretty = false): string {
  const arr = `[${elements.join(',')}]`;
  if (shape === 'cloudtrail') {
    // A CloudTrail file; one variant carries another key beside Records (a forwarder's note of the S3 object).
    return variant % 3 === 2 ? `{"Records":${arr},"s3Key":"AWSLogs/111122223333/CloudTrail/us-east-1/2024/11/05/file-${variant}.json.gz"}` : `{"Records":${arr}}`;
  }
  if (variant % 3 === 1) return `{"apiVersion":"audit.k8s.io/v1","items":${arr},"kind":"EventList","metadata":{}}`;
  const nl = pretty ? '\n  ' : ' ';
  if (variant % 3 === 2) return `{${nl}"kind": "EventList",${nl}"apiVersion": "audit.k8s.io/v1",${nl}"metadata": {},${nl}"items": ${arr}${pretty ? '\n' : ' '}}`;
  return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":${arr}}`;
}

const BAD: Record<Shape, (n: number) => string> = {
  // An audit event without auditID, and a CloudTrail record whose eventTime is not a time: schema failures.
  k8s_audit: (n) => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete', verb: 'get', note: `bad-${n}` }),
  cloudtrail: (n) => JSON.stringify({ eventVersion: '1.09', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', eventTime: `not a time ${n}`, eventID: `bad-${n}` }),
};

/** `texts` with runs of audit events and CloudTrail records put into batch documents. */
export function intoBatches(texts: string[], o: BatchOptions = {}): BatchInput {
  const maxRun = o.maxRun ?? 6;
  const zero = (): Record<BatchShape, number> => ({ k8s_audit: 0, cloudtrail: 0, cloudwatch_logs: 0, cloudtrail_digest: 0 });
  const out: BatchInput = { texts: [], bad: [], documents: zero(), records: zero(), empty: zero(), skipped: zero() };
  let events = 0;
  let run: string[] = [];
  let runShape: Shape | undefined;
  let next = 1;
  const close = (): void => {
    if (runShape === undefined || run.length === 0) return;
    const shape: BatchShape = o.subscriptions === true ? 'cloudwatch_logs' : runShape;
    const d = out.documents[shape]++;
    let elements = [...run];
    const bad = o.badEvery !== undefined && o.badEvery > 0 && d % o.badEvery === 0 ? BAD[runShape](out.bad.length) : undefined;
    if (bad !== undefined) {
      elements.splice(Math.min(1, elements.length), 0, bad);
      if (o.subscriptions !== true) out.bad.push(bad);
    }
    out.records[shape] += elements.length;
    if (o.subscriptions === true) {
      elements = elements.map((m) => {
        const e = logEventOf(events++, m);
        if (m === bad) out.bad.push(e);
        return e;
      });
      const [group, stream] = runShape === 'k8s_audit' ? [`/aws/eks/${SUBSCRIPTION_CLUSTER}/cluster`, `kube-apiserver-audit-${d % 3}`] : [CT_GROUP, `${SUBSCRIPTION_OWNER}_CloudTrail_us-east-1_${d % 2}`];
      out.texts.push(subscriptionOf(group, stream, elements, d, o.pretty === true));
    } else {
      out.texts.push(documentOf(runShape, elements, d, o.pretty === true));
    }
    run = [];
    runShape = undefined;
    next = (next % maxRun) + 1;
  };
  for (const t of texts) {
    const s = shapeOf(t);
    if (s !== runShape || run.length >= next) close();
    if (s === undefined) {
      out.texts.push(t);
      continue;
    }
    runShape = s;
    run.push(t);
  }
  close();
  if (o.empty === true && o.subscriptions === true) {
    out.texts.push(CONTROL_MESSAGE);
    out.documents.cloudwatch_logs++;
    out.empty.cloudwatch_logs++;
    // An EKS group's authenticator stream: not the audit log, left out and counted.
    const authenticator = [0, 1].map((k) => logEventOf(events++, `time="2024-11-05T14:00:0${k}Z" level=info msg="access granted" arn="arn:aws:iam::${SUBSCRIPTION_OWNER}:role/dev" uid="aws-iam-authenticator:${SUBSCRIPTION_OWNER}:AROAEXAMPLE"`));
    out.texts.push(subscriptionOf(`/aws/eks/${SUBSCRIPTION_CLUSTER}/cluster`, 'authenticator-0123456789abcdef', authenticator));
    out.documents.cloudwatch_logs++;
    out.skipped.cloudwatch_logs += authenticator.length;
  } else if (o.empty === true) {
    for (const s of ['k8s_audit', 'cloudtrail'] as const) {
      out.texts.push(documentOf(s, [], 0));
      out.documents[s]++;
      out.empty[s]++;
    }
  }
  return out;
}
