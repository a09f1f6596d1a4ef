// The OpenSearch sink against the real local OpenSearch 2.19: templates installed by setup, 10k events
// of the four sources indexed and acknowledged, redelivery without duplicates, a mapping failure that
// comes back as a dead letter while the rest of its batch is acked, case-insensitive hunting queries,
// and the batcher's throughput next to a plain client.bulk loop (printed, not asserted).
import { Client } from '@opensearch-project/opensearch';
import type { Bulk_RequestBody } from '@opensearch-project/opensearch/api/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupOpenSearchCommand } from '../src/cli/setup.ts';
import type { SeamEvent, SourceType } from '../src/core/envelope.ts';
import { OpenSearchSink, type PerDocResult } from '../src/sinks/opensearch/sink.ts';
import { loadRulesFromText } from '../src/detect/sigma/ruleset.ts';
import { compileRuleTextToDsl } from '../src/hunt/compile.ts';
import { dropPrefix } from './helpers/opensearch-cleanup.ts';
import { OCSF_PAIRS } from './helpers/ocsf-pairs.ts';
import { normalizeRecord } from '../src/core/normalize/normalize.ts';
import { opensearchUrl, RUN_ID } from './helpers/services.ts';

const prefix = `seamt_${RUN_ID}`;
const perfPrefix = `${prefix}_perf`;
const plainPrefix = `${prefix}_plain`;
const PER_SOURCE = 2500;
const DAYS = ['2025-06-01', '2025-06-02', '2025-06-03'];
const ACCOUNT = '111122223333';
const CLUSTER = 'prod-eks-01';

let client: Client;
/** What the index holds after each step, for expected query counts. */
const indexed: SeamEvent[] = [];

function ingest(i: number, collector: string): SeamEvent['seam']['ingest'] {
  return { collector, received_at: '2025-06-04T00:00:00.000Z', truncated: false, redacted: [], origin: `fixture:${i + 1}` };
}
const at = (i: number, ms = 0): string => `${DAYS[i % DAYS.length]}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07.${String(ms).padStart(3, '0')}Z`;
/** Drawn from a pool of 3000 names, so the index sees thousands of distinct keys inside flat objects. */
const odd = (i: number, k: number): string => `filter${(i * 7 + k * 131) % 3000}`;

function cloudtrail(i: number): SeamEvent {
  const irsa = i % 3 === 0;
  const service = i % 5 === 0;
  const eventName = irsa ? 'AssumeRoleWithWebIdentity' : ['GetObject', 'ListBuckets', 'DescribeInstances', 'CreateAccessEntry'][i % 4]!;
  const sourceIPAddress = service ? 'eks.amazonaws.com' : `198.51.100.${i % 250}`;
  const requestParameters: Record<string, unknown> = irsa
    ? { roleArn: `arn:aws:iam::${ACCOUNT}:role/irsa-payments`, roleSessionName: `botocore-session-${i}`, durationSeconds: 3600 }
    : { bucketName: 'prod-artifacts', key: `builds/${i}.tar.gz`, [odd(i, 1)]: `v${i}`, [odd(i, 2)]: { nested: { [odd(i, 3)]: i } }, instancesSet: { items: [{ instanceId: `i-${i}` }] } };
  return {
    '@timestamp': at(i),
    eventVersion: '1.09',
    userIdentity: irsa
      ? { type: 'WebIdentityUser', principalId: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC:system:serviceaccount:payments:api`, userName: 'system:serviceaccount:payments:api', identityProvider: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC` }
      : {
          type: 'AssumedRole',
          principalId: `AROAEXAMPLE:session-${i % 7}`,
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/eks-node-role/session-${i % 7}`,
          accountId: ACCOUNT,
          accessKeyId: `ASIAEXAMPLE${i % 97}`,
          sessionContext: {
            sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/eks-node-role`, accountId: ACCOUNT, userName: 'eks-node-role' },
            attributes: { creationDate: at(i), mfaAuthenticated: 'false' },
          },
        },
    eventTime: at(i).replace(/\.\d{3}Z$/, 'Z'),
    eventSource: irsa ? 'sts.amazonaws.com' : 's3.amazonaws.com',
    eventName,
    awsRegion: 'us-west-2',
    sourceIPAddress,
    userAgent: 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5',
    requestParameters,
    responseElements: irsa ? { credentials: { accessKeyId: `ASIAIRSA${i}`, sessionToken: '[REDACTED]', expiration: 'Jun 1, 2025, 1:00:00 PM' }, [odd(i, 4)]: 'x' } : null,
    additionalEventData: { SignatureVersion: 'SigV4', CipherSuite: 'TLS_AES_128_GCM_SHA256', bytesTransferredIn: 0, [odd(i, 5)]: true },
    requestID: `req-${i}`,
    eventID: `ct-${RUN_ID}-${i}`,
    readOnly: eventName !== 'CreateAccessEntry',
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 's3.us-west-2.amazonaws.com' },
    seam: {
      id: `ct-${RUN_ID}-${i}`,
      source: 'cloudtrail',
      account: ACCOUNT,
      region: 'us-west-2',
      principal: irsa
        ? { id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api' }
        : { id: `arn:aws:iam::${ACCOUNT}:role/eks-node-role`, type: 'assumed_role', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/eks-node-role/session-${i % 7}`, session: `session-${i % 7}`, access_key_id: `ASIAEXAMPLE${i % 97}` },
      ...(service ? {} : { source_ip: sourceIPAddress }),
      user_agent: 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5',
      action: `${irsa ? 'sts' : 's3'}.amazonaws.com:${eventName}`,
      outcome: 'success',
      ingest: ingest(i, 'cloudwatch-logs'),
    },
  };
}

function audit(i: number): SeamEvent {
  const create = i % 4 === 0;
  const data = Object.fromEntries(Array.from({ length: 6 }, (_, k) => [odd(i, k + 10), `value-${k}`]));
  return {
    '@timestamp': at(i, 331),
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `a-${RUN_ID}-${i}`,
    stage: 'ResponseComplete',
    requestURI: create ? '/api/v1/namespaces/payments/configmaps' : `/api/v1/namespaces/payments/pods/api-${i % 9}/exec?command=sh&container=api&stdin=true&tty=true`,
    verb: create ? 'create' : 'create',
    user: {
      username: i % 2 ? `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice` : 'system:serviceaccount:payments:api',
      uid: 'aws-iam-authenticator:111122223333:AROAEXAMPLE',
      groups: ['system:authenticated', 'system:masters'],
      extra: { accessKeyId: [`ASIA${i % 13}`], arn: [`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`], canonicalArn: [`arn:aws:iam::${ACCOUNT}:role/Admin`], sessionName: ['alice'] },
    },
    sourceIPs: [`10.0.${i % 200}.${i % 250}`],
    userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
    objectRef: create ? { resource: 'configmaps', namespace: 'payments', name: `cm-${i}`, apiVersion: 'v1' } : { resource: 'pods', namespace: 'payments', name: `api-${i % 9}`, apiVersion: 'v1', subresource: 'exec' },
    responseStatus: { metadata: {}, code: create ? 201 : 101 },
    requestObject: create ? { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: `cm-${i}`, namespace: 'payments', labels: { [odd(i, 20)]: 'true' } }, data } : undefined,
    responseObject: create ? { kind: 'ConfigMap', metadata: { uid: `uid-${i}`, resourceVersion: String(1000 + i), creationTimestamp: at(i).replace(/\.\d{3}Z$/, 'Z') }, data } : undefined,
    requestReceivedTimestamp: at(i, 331).replace('Z', '217Z'),
    stageTimestamp: at(i, 342).replace('Z', '901Z'),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'EKS Access Policy: allowed by ClusterRoleBinding "cluster-admin"' },
    seam: {
      id: `a-${RUN_ID}-${i}/ResponseComplete`,
      source: 'k8s_audit',
      account: ACCOUNT,
      cluster: CLUSTER,
      principal: { id: `arn:aws:iam::${ACCOUNT}:role/Admin`, type: 'k8s_user', k8s_user: 'alice', k8s_groups: ['system:masters'] },
      source_ip: `10.0.${i % 200}.${i % 250}`,
      action: create ? 'create configmaps' : 'create pods/exec',
      outcome: 'success',
      resource: create ? `payments/configmaps/cm-${i}` : `payments/pods/api-${i % 9}`,
      ingest: ingest(i, 'cloudwatch-logs'),
    },
  };
}

function guardduty(i: number): SeamEvent {
  return {
    '@timestamp': at(i, 90),
    accountId: ACCOUNT,
    arn: `arn:aws:guardduty:us-west-2:${ACCOUNT}:detector/det/finding/f${i}`,
    createdAt: at(i, 90),
    updatedAt: at(i, 90),
    description: 'An API commonly used to discover resources in a Kubernetes cluster was successfully invoked by system:anonymous.',
    id: `f-${RUN_ID}-${i}`,
    partition: 'aws',
    region: 'us-west-2',
    resource: { resourceType: 'EKSCluster', eksClusterDetails: { name: CLUSTER, arn: `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/${CLUSTER}`, tags: [{ key: 'env', value: 'prod' }] } },
    schemaVersion: '2.0',
    service: {
      action: {
        actionType: 'KUBERNETES_API_CALL',
        kubernetesApiCallAction: { requestUri: '/api/v1/namespaces/kube-system/configmaps', verb: 'list', remoteIpDetails: { ipAddressV4: '192.0.2.201', geoLocation: { lat: 52.37, lon: 4.89 } }, statusCode: 200 },
      },
      archived: false,
      count: 1 + (i % 4),
      eventFirstSeen: at(i, 90),
      eventLastSeen: at(i, 90),
      evidence: { threatIntelligenceDetails: [{ threatListName: 'ProofPoint', threatNames: [`name-${i % 11}`] }], [odd(i, 30)]: i },
      additionalInfo: { value: '{}', type: 'default', [odd(i, 31)]: 'x' },
    },
    severity: [2, 5, 8][i % 3],
    title: 'Anonymous user system:anonymous was able to successfully invoke a Kubernetes API on EKS Cluster.',
    type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess',
    seam: {
      id: `f-${RUN_ID}-${i}@${at(i, 90)}`,
      source: 'guardduty',
      format: 'sdk',
      account: ACCOUNT,
      region: 'us-west-2',
      cluster: CLUSTER,
      principal: { id: 'system:anonymous', type: 'anonymous' },
      source_ip: '192.0.2.201',
      action: 'Discovery:Kubernetes/SuccessfulAnonymousAccess',
      ingest: ingest(i, 'guardduty'),
    },
  };
}

function runtime(i: number): SeamEvent {
  const falco = i % 2 === 0;
  const raw = falco
    ? {
        uuid: `u-${RUN_ID}-${i}`,
        output: '14:09:05.331217804: Notice A shell was spawned in a container with an attached terminal (user=root process=sh command=sh -c curl -s http://169.254.170.23/v1/credentials)',
        priority: 'Notice',
        rule: 'Terminal shell in container',
        source: 'syscall',
        tags: ['T1059', 'container', 'mitre_execution', 'shell'],
        time: at(i, 331).replace('Z', '217804Z'),
        hostname: 'fargate-ip-10-0-142-21.us-west-2.compute.internal',
        output_fields: { 'container.id': '0f1e2d3c4b5a', 'evt.time': 1730815745331217, 'evt.time.s': '14:09:05', 'proc.cmdline': 'sh -c curl -s http://169.254.170.23/v1/credentials', 'k8s.pod.name': `api-${i % 9}`, [odd(i, 40)]: 'x' },
      }
    : {
        schema: 'seam.runtime/v1',
        cluster: CLUSTER,
        namespace: 'payments',
        pod: `api-${i % 9}`,
        container: 'api',
        id: `r-${RUN_ID}-${i}`,
        time: at(i, 402),
        kind: 'network',
        process: { pid: 413, ppid: 412, exe: '/usr/bin/curl', uid: 0 },
        network: { direction: 'egress', protocol: 'tcp', src_ip: '10.0.142.21', src_port: 51544, dst_ip: '169.254.170.23', dst_port: 80, bytes_out: 148, bytes_in: 1422 },
      };
  return {
    '@timestamp': at(i, falco ? 331 : 402),
    ...raw,
    seam: {
      id: falco ? `u-${RUN_ID}-${i}` : `r-${RUN_ID}-${i}`,
      source: 'runtime',
      format: falco ? 'falco' : 'native',
      account: ACCOUNT,
      cluster: CLUSTER,
      principal: { id: 'system:serviceaccount:payments:api', type: 'service_account', service_account: 'payments/api', pod: `payments/api-${i % 9}` },
      action: falco ? 'Terminal shell in container' : 'network',
      ingest: ingest(i, 'sidecar'),
    },
  };
}

const BUILDERS: Record<SourceType, (i: number) => SeamEvent> = { cloudtrail, k8s_audit: audit, guardduty, runtime };
function events(): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (let i = 0; i < PER_SOURCE; i++) for (const b of Object.values(BUILDERS)) out.push(b(i));
  return out;
}

async function count(index: string): Promise<number> {
  await client.indices.refresh({ index });
  const r = await client.count({ index });
  return r.body.count;
}

function tally(results: PerDocResult[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of results) t[r.status] = (t[r.status] ?? 0) + 1;
  return t;
}

async function setup(p: string): Promise<string[]> {
  const lines: string[] = [];
  const code = await setupOpenSearchCommand({ url: [opensearchUrl()], indexPrefix: p, replicas: 0, refreshIntervalMs: 1000, out: { write: (s: string) => lines.push(s) } });
  expect(code).toBe(0);
  return lines.join('').split('\n').filter(Boolean);
}

async function cleanup(): Promise<void> {
  for (const p of [prefix, perfPrefix, plainPrefix]) await dropPrefix(client, p);
}

describe('OpenSearch sink on a real OpenSearch node', () => {
  const all = events();
  let sink: OpenSearchSink;

  beforeAll(async () => {
    client = new Client({ node: opensearchUrl() });
    sink = await OpenSearchSink.fromConfig({ nodeUrls: [opensearchUrl()], indexPrefix: prefix, replicas: 0 });
  });

  afterAll(async () => {
    await sink?.close();
    if (client) {
      await cleanup();
      await client.close();
    }
  });

  it('setup installs the templates, then finds them unchanged', async () => {
    const first = await setup(prefix);
    expect(first).toContain(`  created      index template ${prefix}-events-cloudtrail`);
    expect(first.filter((l) => l.includes(' created '))).toHaveLength(11); // 2 component + 7 index templates + identity and incidents indices
    expect(first).toContain(`  created      index template ${prefix}-incidents`);
    expect(first.some((l) => l.includes('ism policy') && l.includes('skipped'))).toBe(true); // the local node has no ISM plugin
    const second = await setup(prefix);
    // The 11 templates and indices unchanged, the identity index's indexed_at mapping (added to identity indices made
    // before it, ac84663) found in place, and the identity and incidents age-out (cd89e7e) with nothing to delete.
    expect(second.filter((l) => l.includes(' unchanged ') && !l.includes(' retention ') && !l.includes('index mapping'))).toHaveLength(11);
    expect(second.filter((l) => l.includes(' unchanged ') && l.includes('index mapping'))).toEqual([expect.stringContaining(`${prefix}-identity`)]);
    expect(second.filter((l) => l.includes(' unchanged ') && l.includes(' retention ') && l.includes('nothing to delete'))).toHaveLength(2);
    const t = await client.indices.getIndexTemplate({ name: `${prefix}-events-*` });
    expect(t.body.index_templates.map((x) => x.name).sort()).toEqual(['cloudtrail', 'guardduty', 'k8s_audit', 'runtime'].map((s) => `${prefix}-events-${s}`));
  });

  it('indexes 10k events of the four sources into daily indices, every one acknowledged', { timeout: 300_000 }, async () => {
    const t0 = performance.now();
    const results = await sink.writeEvents(all);
    const secs = (performance.now() - t0) / 1000;
    expect(tally(results)).toEqual({ acked: all.length });
    indexed.push(...all);
    expect(await count(`${prefix}-events`)).toBe(all.length);
    const indices = (await client.cat.indices({ index: `${prefix}-events-*`, format: 'json' })).body as Array<{ index: string }>;
    expect(indices.map((x) => x.index).sort()).toEqual(
      ['cloudtrail', 'guardduty', 'k8s_audit', 'runtime'].flatMap((s) => DAYS.map((d) => `${prefix}-events-${s}-${d.replaceAll('-', '.')}`)).sort(),
    );
    const st = sink.stats();
    process.stdout.write(`[opensearch-sink] first write: ${all.length} docs in ${secs.toFixed(2)}s, ${st.requests} bulk requests, ${(st.requestBytes / st.requests / 1024).toFixed(0)} KiB/request\n`);
  });

  it('keeps the mapping small: open-ended objects are flat_object, strings keyword, times date, addresses ip', async () => {
    const m = (await client.indices.getMapping({ index: `${prefix}-events-cloudtrail-2025.06.01` })).body;
    const props = (Object.values(m)[0] as { mappings: { properties: Record<string, { type?: string; properties?: unknown; fields?: Record<string, { type: string }> }> } }).mappings.properties;
    expect(props.requestParameters?.type).toBe('flat_object');
    expect(props.responseElements?.type).toBe('flat_object');
    expect(props.additionalEventData?.type).toBe('flat_object');
    expect(props.eventTime?.type).toBe('date');
    expect(props.eventName?.type).toBe('keyword');
    expect(props.sourceIPAddress?.fields?.ip?.type).toBe('ip');
    const leaves = JSON.stringify(m).match(/"type":/g)?.length ?? 0;
    // Thousands of distinct request-parameter keys went in; the mapping stays at a few dozen fields.
    expect(leaves).toBeLessThan(150);
    const auditMapping = JSON.stringify((await client.indices.getMapping({ index: `${prefix}-events-k8s_audit-2025.06.01` })).body);
    expect(auditMapping).toContain('"requestObject":{"type":"flat_object"}');
    expect(auditMapping).not.toContain('filter');
    const gd = JSON.stringify((await client.indices.getMapping({ index: `${prefix}-events-guardduty-2025.06.01` })).body);
    expect(gd).toContain('"evidence":{"type":"flat_object"}');
  });

  it('redelivery overwrites instead of duplicating', async () => {
    const again = await sink.writeEvents(all.slice(0, 3000));
    expect(again.every((r) => r.status === 'acked' && r.result === 'updated')).toBe(true);
    expect(await count(`${prefix}-events`)).toBe(all.length);
  });

  it('returns a document OpenSearch cannot map as a dead letter while the rest of its batch is acked', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => cloudtrail(PER_SOURCE + i));
    const bad = batch[17]!;
    bad['@timestamp'] = 'not a date';
    const results = await sink.writeEvents(batch);
    expect(tally(results)).toEqual({ acked: 49, dead_letter: 1 });
    indexed.push(...batch.filter((e) => e !== bad));
    const dl = results[17]!;
    if (dl.status !== 'dead_letter') throw new Error('expected a dead letter');
    expect(dl.deadLetter).toMatchObject({ stage: 'index', code: 'SEAM_ERR_SINK_REJECTED', retriable: false, origin: `fixture:${PER_SOURCE + 18}`, collector: 'cloudwatch-logs' });
    expect(dl.deadLetter.reason).toMatch(/^mapper_parsing_exception: failed to parse field \[@timestamp\] of type \[date\]/);
    expect(JSON.parse(dl.deadLetter.raw)).toMatchObject({ '@timestamp': 'not a date', eventID: bad.eventID });
    expect(sink.stats().dropped).toMatchObject({ mapper_parsing_exception: 1 });
    expect(await count(`${prefix}-events`)).toBe(all.length + 49);
  });

  it('answers case-insensitive term, wildcard and regexp queries on keyword and flat_object fields, and CIDR on addresses', async () => {
    const hits = async (query: Record<string, unknown>): Promise<number> => {
      const r = await client.count({ index: `${prefix}-events`, body: { query } });
      return r.body.count;
    };
    // Expected counts come from the documents that were acknowledged, including the 49 of the dead-letter test.
    const where = (pred: (e: Record<string, unknown>) => boolean): number => indexed.filter(pred).length;
    const irsa = where((e) => e.eventName === 'AssumeRoleWithWebIdentity');
    expect(irsa).toBeGreaterThan(800);
    expect(await hits({ term: { eventName: { value: 'assumerolewithwebidentity', case_insensitive: true } } })).toBe(irsa);
    expect(await hits({ term: { eventName: { value: 'assumerolewithwebidentity' } } })).toBe(0);
    expect(await hits({ term: { 'requestParameters.roleArn': { value: `ARN:AWS:IAM::${ACCOUNT}:ROLE/IRSA-PAYMENTS`, case_insensitive: true } } })).toBe(irsa);
    expect(await hits({ wildcard: { 'user.username': { value: '*ASSUMED-ROLE/ADMIN/*', case_insensitive: true } } })).toBe(
      where((e) => String((e.user as { username?: string } | undefined)?.username).includes('assumed-role/Admin/')),
    );
    expect(await hits({ regexp: { 'objectRef.subresource': { value: 'EX[a-z]+', case_insensitive: true } } })).toBe(
      where((e) => (e.objectRef as { subresource?: string } | undefined)?.subresource === 'exec'),
    );
    expect(await hits({ term: { 'annotations.authorization.k8s.io/decision': 'allow' } })).toBe(where((e) => e.kind === 'Event'));
    expect(await hits({ term: { 'sourceIPAddress.ip': '198.51.100.0/24' } })).toBe(where((e) => String(e.sourceIPAddress).startsWith('198.51.100.')));
    expect(await hits({ term: { sourceIPAddress: 'eks.amazonaws.com' } })).toBe(where((e) => e.sourceIPAddress === 'eks.amazonaws.com'));
    expect(await hits({ term: { 'seam.source_ip': '10.0.0.0/8' } })).toBe(where((e) => (e.seam as { source_ip?: string }).source_ip?.startsWith('10.') === true));
    expect(await hits({ range: { stageTimestamp: { gte: '2025-06-02T00:00:00Z', lt: '2025-06-03T00:00:00Z' } } })).toBe(
      where((e) => typeof e.stageTimestamp === 'string' && e.stageTimestamp.startsWith('2025-06-02')),
    );
  });

  it('indexes raw times in the spellings the normalizer accepts, and keeps a document whose raw time no format reads', async () => {
    // Data-lake exports write `2025-06-02 09:15:00+00:00` or nanoseconds without a zone; normalize accepts them
    // (isoTime), so the index must not refuse the document for its raw copy of the time.
    const spaced = audit(PER_SOURCE + 1000);
    spaced.requestReceivedTimestamp = '2025-06-02 09:15:00+00:00';
    spaced.stageTimestamp = '2025-06-02 09:15:00.123456789';
    const unreadable = cloudtrail(PER_SOURCE + 1001);
    unreadable.eventTime = 'Tuesday, around nine';
    const results = await sink.writeEvents([spaced, unreadable]);
    expect(tally(results)).toEqual({ acked: 2 });
    await client.indices.refresh({ index: `${prefix}-events-*` });
    const ids = async (query: Record<string, unknown>): Promise<string[]> => {
      const r = await client.search({ index: `${prefix}-events`, body: { query, _source: ['seam.id', 'eventTime'] } });
      return (r.body.hits.hits as { _source: { seam: { id: string } } }[]).map((h) => h._source.seam.id);
    };
    expect(await ids({ range: { requestReceivedTimestamp: { gte: '2025-06-02T09:15:00Z', lte: '2025-06-02T09:15:00Z' } } })).toEqual([spaced.seam.id]);
    expect(await ids({ range: { stageTimestamp: { gte: '2025-06-02T09:15:00.123Z', lt: '2025-06-02T09:15:00.124Z' } } })).toEqual([spaced.seam.id]);
    // The unreadable value stays in _source and is named in _ignored; the document is searchable by everything else.
    const r = await client.search({ index: `${prefix}-events`, body: { query: { term: { eventID: unreadable.eventID as string } } } });
    const hit = r.body.hits.hits[0] as { _source: { eventTime: string }; _ignored?: string[] };
    expect(hit._source.eventTime).toBe('Tuesday, around nine');
    expect(hit._ignored).toEqual(['eventTime']);
  });

  it('indexes CloudTrail events rebuilt from Security Lake OCSF events whatever their unmapped holds (ADR 0041)', async () => {
    // `ocsf` is a flat object: Security Lake's `unmapped` is an object in one export and text in another, which
    // dynamic mapping would refuse for whichever comes second.
    const events = OCSF_PAIRS.map((p, i) => {
      const raw = i % 2 === 0 ? p.ocsf : { ...p.ocsf, unmapped: 'notjsonstring' };
      const r = normalizeRecord(raw, { collector: 'file', receivedAt: '2026-11-02T15:00:00.000Z' });
      if (!r.ok) throw r.error;
      return r.value;
    });
    expect(tally(await sink.writeEvents(events))).toEqual({ acked: OCSF_PAIRS.length });
    await client.indices.refresh({ index: `${prefix}-events-*` });
    const r = await client.search({ index: `${prefix}-events`, body: { query: { term: { 'seam.format': 'ocsf' } } } });
    expect(r.body.hits.hits).toHaveLength(OCSF_PAIRS.length);
  });

  it('keeps a document whose raw number is written as a word, the word left out of the index and named in _ignored', async () => {
    // A number the normalizer does not read (an exporter quoting the status as `"OK"`, a severity as `"High"`)
    // must not send the whole record to the dead letters: the index leaves the value out, as for raw times.
    const quoted = audit(PER_SOURCE + 1100);
    quoted.responseStatus = { metadata: {}, code: 'OK' };
    const worded = guardduty(PER_SOURCE + 1101);
    const sev = 'Severity' in worded ? 'Severity' : 'severity';
    worded[sev] = 'High';
    const results = await sink.writeEvents([quoted, worded]);
    expect(tally(results)).toEqual({ acked: 2 });
    await client.indices.refresh({ index: `${prefix}-events-*` });
    const one = async (id: string): Promise<{ _source: Record<string, unknown>; _ignored?: string[] }> => {
      const r = await client.search({ index: `${prefix}-events`, body: { query: { term: { 'seam.id': id } } } });
      expect(r.body.hits.hits).toHaveLength(1);
      return r.body.hits.hits[0] as { _source: Record<string, unknown>; _ignored?: string[] };
    };
    const a = await one(quoted.seam.id);
    expect(a._source.responseStatus).toEqual({ metadata: {}, code: 'OK' });
    expect(a._ignored).toEqual(['responseStatus.code']);
    const g = await one(worded.seam.id);
    expect(g._source[sev]).toBe('High');
    expect(g._ignored).toEqual([sev]);
    // Range queries on the field still answer for the documents whose value is a number, and skip the word.
    const inRange = async (id: string): Promise<number> => {
      const query = { bool: { filter: [{ term: { 'seam.id': id } }, { range: { 'responseStatus.code': { gte: 100, lt: 600 } } }] } };
      return (await client.count({ index: `${prefix}-events`, body: { query } })).body.count;
    };
    const numbered = indexed.find((e) => typeof (e.responseStatus as { code?: unknown } | undefined)?.code === 'number')!;
    expect(await inRange(numbered.seam.id)).toBe(1);
    expect(await inRange(quoted.seam.id)).toBe(0);
  });

  it('hunts a number field as the engine matches it, whatever kind of value a record holds there', async () => {
    // The engine reads "0403" and "0x193" as 403 and 403 as the text '403'; the index keeps only JSON numbers
    // (coerce: false) and names the rest in _ignored. A hunt's query must find every record the engine matches
    // (the engine then confirms the hits when the query says verify), never fewer, and no more when it is exact.
    const codes: unknown[] = [403, '403', '0403', '0x193', 403.5, true, 'true', 404, ' 403', 'Forbidden'];
    const docs = codes.map((code, k) => {
      const e = audit(PER_SOURCE + 1200 + k);
      e.responseStatus = { metadata: {}, code };
      return e;
    });
    expect(tally(await sink.writeEvents(docs))).toEqual({ acked: codes.length });
    await client.indices.refresh({ index: `${prefix}-events-*` });
    const ids = docs.map((d) => d.seam.id);
    const detections = ['responseStatus.code: 403', "responseStatus.code: '403'", "responseStatus.code: '0403'", 'responseStatus.code: true', 'responseStatus.code|gte: 403'];
    for (const det of detections) {
      for (const negated of [false, true]) {
        const text = `title: t\nid: 00000000-0000-4000-8000-00000000000${negated ? 2 : 1}\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    verb: create\n  f:\n    ${det}\n  condition: sel and ${negated ? 'not ' : ''}f\nlevel: low\n`;
        const { ruleset } = loadRulesFromText(text, 'r.yml', { placeholders: {} });
        const engine = docs.filter((d) => ruleset.match(d).length === 1).map((d) => d.seam.id).sort();
        expect(engine.length, `${negated ? 'not ' : ''}${det}: the engine matches some of the records`).toBeGreaterThan(0);
        const [r] = compileRuleTextToDsl(text, 'r.yml', { indexPrefix: prefix });
        if (!r?.ok) throw new Error(`${det}: not huntable: ${r?.reason}`);
        const res = await client.search({ index: `${prefix}-events`, size: 100, body: { query: { bool: { filter: [{ terms: { 'seam.id': ids } }, r.query] } } } });
        const hunted = (res.body.hits.hits as { _source: { seam: { id: string } } }[]).map((h) => h._source.seam.id).sort();
        const label = `${negated ? 'not ' : ''}${det}`;
        expect(engine.filter((id) => !hunted.includes(id)), `${label}: engine matches the hunt misses`).toEqual([]);
        if (!r.verify) expect(hunted, `${label}: an exact query finds what the engine finds`).toEqual(engine);
      }
    }
  });

  it('measures bulk throughput of the batcher next to a plain client.bulk loop (printed, not asserted)', { timeout: 600_000 }, async () => {
    await setup(perfPrefix);
    await setup(plainPrefix);
    const docs = events();

    // Plain loop: one request of 2000 docs at a time, the client serializing the body.
    const plainTargets = new OpenSearchSink(client, { indexPrefix: plainPrefix });
    const t0 = performance.now();
    let plainErrors = 0;
    for (let i = 0; i < docs.length; i += 2000) {
      const body: Bulk_RequestBody = [];
      for (const e of docs.slice(i, i + 2000)) body.push({ index: { _index: plainTargets.eventTarget(e).index, _id: e.seam.id } }, e);
      const r = await client.bulk({ body });
      if (r.body.errors) plainErrors++;
    }
    const plainSecs = (performance.now() - t0) / 1000;
    expect(plainErrors).toBe(0);

    const perf = await OpenSearchSink.fromConfig({ nodeUrls: [opensearchUrl()], indexPrefix: perfPrefix, replicas: 0 });
    const t1 = performance.now();
    const results = await perf.writeEvents(docs);
    const sinkSecs = (performance.now() - t1) / 1000;
    const st = perf.stats();
    await perf.close();
    expect(tally(results)).toEqual({ acked: docs.length });
    expect(await count(`${perfPrefix}-events`)).toBe(docs.length);
    expect(await count(`${plainPrefix}-events`)).toBe(docs.length);

    const rate = (s: number): number => Math.round(docs.length / s);
    process.stdout.write(
      `[opensearch-sink] throughput over ${docs.length} docs (${(st.requestBytes / 1024 / 1024).toFixed(1)} MiB): ` +
        `batcher ${rate(sinkSecs)} docs/s (${st.requests} requests, ${Math.round(docs.length / st.requests)} docs/request, ${Math.round(st.requestBytes / st.requests / 1024)} KiB/request, ` +
        `${perf.config.maxConcurrentRequests} concurrent) vs plain client.bulk loop ${rate(plainSecs)} docs/s (2000 docs/request, sequential): ratio ${(plainSecs / sinkSecs).toFixed(2)}x\n`,
    );
  });
});
