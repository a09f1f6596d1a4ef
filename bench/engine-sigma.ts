/**
 * Micro-benchmark of the Sigma engine: load every SigmaHQ rule, synthesize CloudTrail and
 * Kubernetes audit events, and measure match throughput side by side with JSON.parse alone
 * (these machines are noisy; ratios measured in one run are what count).
 *
 *   node bin/tsx-run.mjs bench/engine-sigma.ts [rules-dir] [events]
 */
import { performance } from 'node:perf_hooks';
import type { SeamEvent } from '../src/core/envelope.ts';
import { loadRules } from '../src/detect/sigma/ruleset.ts';

const RULES = process.argv[2] ?? new URL('../../shared/sigma', import.meta.url).pathname;
const N = Number(process.argv[3] ?? 50_000);

const CT_EVENTS = ['GetObject', 'PutObject', 'AssumeRole', 'DescribeInstances', 'ListBuckets', 'CreateUser', 'ConsoleLogin', 'GetCallerIdentity', 'DeleteTrail', 'CreateAccessKey', 'UpdateLoginProfile', 'RunInstances', 'PutBucketPolicy', 'DescribeCluster', 'AttachUserPolicy'];
const SOURCES = ['s3.amazonaws.com', 'sts.amazonaws.com', 'ec2.amazonaws.com', 'iam.amazonaws.com', 'signin.amazonaws.com', 'cloudtrail.amazonaws.com', 'eks.amazonaws.com'];
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const RESOURCES = ['pods', 'secrets', 'configmaps', 'deployments', 'serviceaccounts', 'clusterrolebindings', 'pods/exec', 'cronjobs', 'events'];

function rnd<T>(xs: readonly T[], i: number): T {
  return xs[(i * 2654435761) % xs.length >>> 0]!;
}

function seam(source: 'cloudtrail' | 'k8s_audit', id: string): SeamEvent['seam'] {
  return { id, source, ingest: { collector: 'bench', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] } };
}

function cloudtrail(i: number): Record<string, unknown> {
  const eventName = rnd(CT_EVENTS, i);
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE:session-${i % 97}`,
      arn: `arn:aws:sts::123456789012:assumed-role/eks-node-role/i-0${i % 1000}`,
      accountId: '123456789012',
      accessKeyId: `ASIA${(i % 100000).toString().padStart(12, '0')}`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::123456789012:role/eks-node-role', userName: 'eks-node-role' }, attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'false' } },
    },
    eventTime: '2026-01-01T00:00:00Z',
    eventSource: rnd(SOURCES, i + 3),
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: `10.0.${i % 255}.${(i >> 8) % 255}`,
    userAgent: i % 3 === 0 ? 'aws-cli/2.15.0 Python/3.11' : 'aws-sdk-go/1.44.0',
    requestParameters: { bucketName: `bucket-${i % 50}`, key: `path/to/object-${i}.json`, roleArn: 'arn:aws:iam::123456789012:role/app' },
    responseElements: i % 7 === 0 ? null : { ok: true },
    errorCode: i % 11 === 0 ? 'AccessDenied' : undefined,
    requestID: `req-${i}`,
    eventID: `evt-${i}`,
    readOnly: i % 2 === 0,
    eventType: 'AwsApiCall',
    recipientAccountId: '123456789012',
  };
}

function audit(i: number): Record<string, unknown> {
  const resource = rnd(RESOURCES, i);
  const [res, sub] = resource.split('/');
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `a-${i}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/default/${res}/x-${i % 100}${sub ? '/' + sub : ''}`,
    verb: rnd(VERBS, i + 1),
    user: { username: i % 5 === 0 ? 'system:serviceaccount:default:app' : 'kubernetes-admin', groups: ['system:authenticated'], extra: { arn: ['arn:aws:iam::123456789012:role/admin'] } },
    sourceIPs: [`192.168.${i % 255}.7`],
    userAgent: 'kubectl/v1.29.0',
    objectRef: { resource: res, subresource: sub, namespace: i % 4 === 0 ? 'kube-system' : 'default', name: `x-${i % 100}`, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: i % 13 === 0 ? 403 : 200 },
    requestReceivedTimestamp: '2026-01-01T00:00:00.000000Z',
    stageTimestamp: '2026-01-01T00:00:00.001000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow' },
  };
}

const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const raw = i % 2 === 0 ? cloudtrail(i) : audit(i);
  const src = i % 2 === 0 ? 'cloudtrail' : 'k8s_audit';
  lines.push(JSON.stringify({ '@timestamp': '2026-01-01T00:00:00Z', ...raw, seam: seam(src, String(i)) }));
}

function timeParse(): number {
  const t = performance.now();
  let n = 0;
  for (const l of lines) n += (JSON.parse(l) as object) ? 1 : 0;
  return n / ((performance.now() - t) / 1000);
}

for (const matchUnmapped of [false, true]) {
  const t0 = performance.now();
  const { ruleset, stats, diagnostics } = await loadRules([RULES], { matchUnmapped });
  const loadMs = performance.now() - t0;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  // Warm up, then measure parse alone and parse + match alternately.
  for (let i = 0; i < Math.min(5000, N); i++) ruleset.match(JSON.parse(lines[i]!) as SeamEvent);
  let parseRate = 0;
  let engineRate = 0;
  let matches = 0;
  const lat: number[] = [];
  for (let round = 0; round < 3; round++) {
    parseRate = Math.max(parseRate, timeParse());
    const t = performance.now();
    matches = 0;
    for (const l of lines) matches += ruleset.match(JSON.parse(l) as SeamEvent).length;
    engineRate = Math.max(engineRate, N / ((performance.now() - t) / 1000));
  }
  for (const l of lines) {
    const s = performance.now();
    ruleset.match(JSON.parse(l) as SeamEvent);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  const p = (q: number): string => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(3);
  const idx = ruleset.indexStats().buckets;
  console.log(
    [
      `mode=${matchUnmapped ? 'all-rules-on-every-event' : 'logsource-mapped'}`,
      `files=${stats.files} rules=${stats.rules} rejected=${stats.rejected} errors=${errors} load_ms=${loadMs.toFixed(0)}`,
      `events=${N} matches=${matches}`,
      `json_parse=${parseRate.toFixed(0)}/s parse+match=${engineRate.toFixed(0)}/s ratio=${(engineRate / parseRate).toFixed(2)}`,
      `latency_ms p50=${p(0.5)} p99=${p(0.99)} max=${lat[lat.length - 1]!.toFixed(3)}`,
      `index=${JSON.stringify(Object.fromEntries(Object.entries(idx).map(([k, v]) => [k, `${v.indexed} by literal (${v.fields.slice(0, 3).join(',')}), ${v.byPresence} by field presence (${v.presenceFields} fields), ${v.always} always`])))}`,
    ].join('\n  '),
  );
}
