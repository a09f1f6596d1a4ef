// Inputs carried in batch documents (ADR 0038), for the tests that hold them to the same records one per
// line: runs of consecutive audit events become Kubernetes audit EventLists, runs of consecutive CloudTrail
// records CloudTrail log files (`{"Records":[...]}`), in varied sizes and key orders; other records stay as
// they are. Bad elements can be slipped in to check that each is its own dead letter.

export type Shape = 'k8s_audit' | 'cloudtrail';

export interface BatchInput {
  /** One record or one batch document each (a JSONL line, a Kafka message). */
  texts: string[];
  /** Bad elements that were put into documents (each must come out as its own dead letter). */
  bad: string[];
  documents: Record<Shape, number>;
  /** Elements in the documents, bad ones included. */
  records: Record<Shape, number>;
  empty: Record<Shape, number>;
}

export interface BatchOptions {
  /** Put a bad element into every n-th document (0: none). */
  badEvery?: number;
  /** Add an empty document of each shape at the end. */
  empty?: boolean;
  /** Largest run in one document (runs are cut at 1, 2, … up to this, in turn). */
  maxRun?: number;
  /** Pretty-print some documents over several lines (Kafka messages; not for a JSONL file). */
  pretty?: boolean;
}

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
  const out: BatchInput = { texts: [], bad: [], documents: { k8s_audit: 0, cloudtrail: 0 }, records: { k8s_audit: 0, cloudtrail: 0 }, empty: { k8s_audit: 0, cloudtrail: 0 } };
  let run: string[] = [];
  let runShape: Shape | undefined;
  let next = 1;
  const close = (): void => {
    if (runShape === undefined || run.length === 0) return;
    const d = out.documents[runShape]++;
    const elements = [...run];
    if (o.badEvery !== undefined && o.badEvery > 0 && d % o.badEvery === 0) {
      const b = BAD[runShape](out.bad.length);
      out.bad.push(b);
      elements.splice(Math.min(1, elements.length), 0, b);
    }
    out.records[runShape] += elements.length;
    out.texts.push(documentOf(runShape, elements, d, o.pretty === true));
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
  if (o.empty === true) {
    for (const s of ['k8s_audit', 'cloudtrail'] as const) {
      out.texts.push(documentOf(s, [], 0));
      out.documents[s]++;
      out.empty[s]++;
    }
  }
  return out;
}
