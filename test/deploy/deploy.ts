/**
 * `npm run test:deploy` (issue 13 parts 5+6): is Seam deployable as shipped?
 *   1. helm (built from the Go module proxy into .cache/ when absent, test/deploy/tools.ts) renders
 *      deploy/helm/seam with several value sets (`helm lint --strict` too); a value set that must be refused is
 *      refused with its message;
 *   2. every rendered object is validated against the Kubernetes OpenAPI schema of k8s.io/kubernetes (and the
 *      ServiceMonitor against its CRD), strictly (test/deploy/openapi.ts), then for cross-object mistakes
 *      (test/deploy/semantics.ts); the collectors' and the ingest endpoint's rendered config files are parsed
 *      by Seam's own schema, once per replica id. A self-test first proves the validator rejects deliberately
 *      broken objects (an invalid= of 0 means nothing if nothing can fail);
 *   3. metrics: real `seam run --role normalize|correlate|index` processes, as the chart runs them, on the local
 *      Kafka and OpenSearch: /healthz, /readyz (503 while starting, 200 once joined), records produced to the raw
 *      topic counted in /metrics through to OpenSearch, consumer lag reported per partition, seen above 0 and
 *      drained to 0, SIGTERM exits 0;
 *   4. the authentication checks of test/deploy/auth-checks.ts (issue 13 part 2) when that file exists.
 * Ends with
 *   deploy: kafka_tls=ok kafka_scram=ok opensearch_basic=ok opensearch_sigv4=ok metrics=ok chart_objects=<n> invalid=0
 * (`fail` for a check that failed or is missing; then the exit code is 1). DEPLOY_VERBOSE=1 prints what each broken
 * config of the self-test was rejected for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@opensearch-project/opensearch';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ensureUp, endpoints, stop } from '../../deploy/local/services-lib.mjs';
import { throwawayGroupStem } from '../../src/bus/groups.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { applyReplicaId } from '../../src/cli/collect.ts';
import { expectedSourceDelays } from '../../src/pipeline/expected-delay.ts';
import { defaultGroupId } from '../../src/pipeline/roles/role.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { rawHeaders } from '../../src/sources/checkpoint/raw-record.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { DeliveryConfig } from '../../src/sinks/registry.ts';
import { pathValues, SEAM_YML_PATH_FIELDS } from '../../src/core/config/paths.ts';
import { CollectConfig } from '../../src/sources/registry.ts';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { OpenApiValidator, type Swagger, type Violation } from './openapi.ts';
import { checkSemantics, type K8sObject } from './semantics.ts';
import { ensureHelm, ensureKubernetesSchema, ensureServiceMonitorCrd, KUBERNETES_VERSION, ROOT } from './tools.ts';

const CHART = join(ROOT, 'deploy/helm/seam');
const EXAMPLES = join(ROOT, 'deploy/helm/examples');
const log = (s: string): void => void process.stdout.write(`${s}\n`);
const failures: string[] = [];

// ── 1. helm ────────────────────────────────────────────────────────────────────────────────────────────────
const t0 = Date.now();
const helm = ensureHelm((s) => log(`tools: ${s}`));
const schemaFile = ensureKubernetesSchema((s) => log(`tools: ${s}`));
const smCrdFile = ensureServiceMonitorCrd((s) => log(`tools: ${s}`));
log(`tools: helm ${helm.installSeconds > 0 ? `built in ${helm.installSeconds.toFixed(1)} s` : 'from .cache'}, Kubernetes ${KUBERNETES_VERSION} OpenAPI schema and ServiceMonitor CRD ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const helmVersion = spawnSync(helm.path, ['version', '--short'], { encoding: 'utf8' }).stdout.trim();

function runHelm(args: string[]): { status: number; stdout: string; stderr: string } {
  const p = spawnSync(helm.path, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // helm keeps its caches and config under these; keep them out of $HOME and the repository.
    env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'seam-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'seam-helm-config'), HELM_DATA_HOME: join(tmpdir(), 'seam-helm-data') },
  });
  return { status: p.status ?? 1, stdout: p.stdout ?? '', stderr: p.stderr ?? '' };
}

const work = mkdtempSync(join(tmpdir(), 'seam-deploy-'));
/** Values files of a set: examples from the repository, and inline overrides written to the work folder. */
function valuesFile(name: string, values: unknown): string {
  const f = join(work, `${name}.json`);
  writeFileSync(f, JSON.stringify(values));
  return f;
}

interface ValueSet {
  name: string;
  files: string[];
  release?: string;
  namespace?: string;
  /** ConfigMaps its values name that the operator creates (awsIpRanges.configMap). */
  externalConfigMaps?: string[];
}
const variants = {
  // Self-managed Kafka with TLS (own CA) + SCRAM and OpenSearch with basic auth over TLS, their secrets from
  // Secrets (an environment variable and a mounted file); static ownership over three collectors, mutual TLS on the
  // ingest endpoint, minAvailable PDBs, no index role, a ServiceMonitor: what a cautious operator might turn (over
  // the local values).
  config: {
    kafka: {
      brokers: ['kafka-0.kafka.kafka.svc:9096', 'kafka-1.kafka.kafka.svc:9096'],
      tls: { caFile: '/etc/seam/kafka-ca/ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'seam', password: '${env:SEAM_KAFKA_PASSWORD}' },
    },
    opensearch: {
      nodeUrls: ['https://opensearch.opensearch.svc:9200'],
      auth: { type: 'basic', username: 'seam', password: '${file:/etc/seam/opensearch/password}' },
      tls: { caFile: '/etc/seam/opensearch/ca.pem' },
    },
  },
  // A security-account install: two workload accounts' same-named audit groups, each through its reader role (H1).
  collect: {
    replicas: 3,
    ownership: 'static',
    pdb: { enabled: true, minAvailable: 2 },
    sources: {
      cloudwatch: {
        logGroups: [
          { logGroupName: '/aws/eks/prod/cluster', roleArn: 'arn:aws:iam::111111111111:role/seam-cloudwatch-logs-reader' },
          { logGroupName: '/aws/eks/prod/cluster', roleArn: 'arn:aws:iam::222222222222:role/seam-cloudwatch-logs-reader', externalId: 'seam-deploy-test' },
        ],
      },
    },
  },
  ingest: { tls: { requireClientCert: true }, extra: { maxBodyBytes: 1048576 } },
  roles: {
    index: { enabled: false },
    normalize: { replicas: 5, pdb: { enabled: true, minAvailable: '60%' } },
    correlate: { replicas: 2 },
    // Alert delivery with secrets from both kinds of Secret reference, two replicas (a PDB), inline suppressions.
    deliver: {
      enabled: true,
      replicas: 2,
      // The delivery secrets in this role's own secretEnv/secretFiles: no other pod may get them.
      secretEnv: [{ name: 'SEAM_WEBHOOK_SECRET', secretName: 'seam-delivery', key: 'webhook-secret' }],
      secretFiles: [{ name: 'delivery', secretName: 'seam-delivery-files', mountPath: '/etc/seam/delivery' }],
      delivery: {
        outputs: {
          soc: { type: 'webhook', url: 'https://soar.example/hooks/seam', secret: { env: 'SEAM_WEBHOOK_SECRET' } },
          pager: { type: 'pagerduty', routingKey: { file: '/etc/seam/delivery/pagerduty-routing-key' } },
        },
        routes: [
          { name: 'all', outputs: ['soc'], minLevel: 'medium' },
          { name: 'page', outputs: ['pager'], minLevel: 'high', tags: ['attack.credential-access'] },
        ],
        suppressions: [{ rule: '*', entity: 'arn:aws:iam::111122223333:role/red-team', expires: '2027-01-31T00:00:00Z', reason: 'CHG-2041 red-team exercise' }],
      },
    },
  },
  serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
  // The retention job with basic auth: its own OpenSearch user (FGAC seam_setup), in its pod only, over seam.yml's
  // opensearch.auth (SEAM_* overrides), on a custom schedule, NetworkPolicies on (the job's egress to OpenSearch).
  setup: {
    cronJob: { enabled: true, schedule: '45 4 * * 0', timeZone: 'Europe/Paris', ttlSecondsAfterFinished: 86400 },
    env: [{ name: 'SEAM_OPENSEARCH_USERNAME', value: 'seam-setup' }],
    secretEnv: [{ name: 'SEAM_OPENSEARCH_PASSWORD', secretName: 'seam-opensearch-setup', key: 'password' }],
  },
  networkPolicy: { enabled: true, egress: { kafka: { ports: [9096] }, opensearch: { ports: [9200] } } },
  // AWS's ranges from a ConfigMap the operator created (ADR 0049): mounted in every pod, named in seam.yml.
  awsIpRanges: { configMap: 'seam-aws-ip-ranges', key: 'ip-ranges.json.gz' },
  // Identity seeds from a ConfigMap the operator created (docs/identity.md, Seeding): mounted in every pod, appended to identity.seeds.
  identitySeeds: { configMap: 'seam-identity-seeds', files: [{ key: 'aws-auth.yaml', cluster: 'prod' }, { key: 'pod-identity.json', cluster: 'prod', account: '111111111111' }] },
  secretEnv: [
    { name: 'SEAM_KAFKA_PASSWORD', secretName: 'seam-kafka', key: 'password' },
  ],
  secretFiles: [
    { name: 'kafka-ca', secretName: 'seam-kafka-ca', mountPath: '/etc/seam/kafka-ca' },
    { name: 'opensearch', secretName: 'seam-opensearch', mountPath: '/etc/seam/opensearch' },
  ],
};
const sets: ValueSet[] = [
  { name: 'local', files: [join(EXAMPLES, 'values-local.yaml')], namespace: 'seam-dev' },
  { name: 'production', files: [join(EXAMPLES, 'values-production.yaml')] },
  { name: 'variants', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('variants', variants)], release: 'soc-seam-prod', namespace: 'security', externalConfigMaps: ['seam-aws-ip-ranges', 'seam-identity-seeds'] },
  {
    name: 'ingest-only',
    files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('ingest-only', { collect: { enabled: false }, setup: { cronJob: { enabled: false } }, roles: { normalize: { enabled: false }, correlate: { enabled: false }, index: { enabled: false } }, serviceMonitor: { enabled: true } })],
    release: 'edge',
  },
];
/** Value sets the chart must refuse, with (part of) the message it must give. */
const refused = [
  { name: 'defaults (no collectors, no ingest certificate)', files: [] as string[], message: 'collect.sources is empty' },
  { name: 'ingest without TLS', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('no-tls', { ingest: { tls: { secretName: '' } } })], message: 'ingest.tls.secretName is required' },
  { name: 'collectors in config', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('cfg-collect', { config: { collect: { sources: {} } } })], message: 'config.collect: leave it out' },
  { name: 'deliver without a delivery config', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('deliver-empty', { roles: { deliver: { enabled: true } } })], message: 'roles.deliver.delivery is empty' },
  { name: 'deliver without routes', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('deliver-no-routes', { roles: { deliver: { enabled: true, delivery: { outputs: { hook: { type: 'webhook', url: 'https://x.example/h' } } } } } })], message: 'roles.deliver.delivery.routes is empty' },
  { name: 'NetworkPolicy with no metrics peers', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('np-open', { networkPolicy: { enabled: true, metrics: { from: [] } } })], message: 'networkPolicy.metrics.from is empty' },
  {
    name: "one account's log group listed twice (review platsec H1: the collect pods would crash-loop)",
    files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('cwl-twice', { collect: { sources: { cloudwatch: { logGroups: [{ logGroupName: '/aws/eks/prod/cluster', account: '111111111111' }, { logGroupName: '/aws/eks/prod/cluster', account: '222222222222' }] } } } })],
    message: 'is listed twice with the same stream prefix',
  },
  { name: 'identity seed files without their ConfigMap or Secret', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('seeds-nowhere', { identitySeeds: { files: [{ key: 'aws-auth.yaml', cluster: 'prod' }] } })], message: 'identitySeeds.files needs identitySeeds.configMap or identitySeeds.secret' },
  { name: 'setup job with retention off', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('setup-no-ism', { setup: { cronJob: { enabled: true } }, config: { ism: { enabled: false } } })], message: 'setup.cronJob.enabled with config.ism.enabled false' },
  {
    name: "setup job signed with the index role's IAM role (it may not delete)",
    files: [join(EXAMPLES, 'values-production.yaml'), valuesFile('setup-index-role', { setup: { serviceAccount: { roleArn: 'arn:aws:iam::111122223333:role/seam-index' } } })],
    message: "setup.serviceAccount.roleArn is the index role's",
  },
  { name: 'ownership set by hand', files: [join(EXAMPLES, 'values-local.yaml'), valuesFile('own', { collect: { sources: { cloudwatch: { ownership: { replicaId: 'x', replicas: ['x'] } } } } })], message: 'leave it out' },
];

// ── 2. the validator, and its self-test ─────────────────────────────────────────────────────────────────
const validator = new OpenApiValidator(JSON.parse(readFileSync(schemaFile.path, 'utf8')) as Swagger);
validator.addCrdObject(parseYaml(readFileSync(smCrdFile.path, 'utf8')));
log(`schema: Kubernetes ${KUBERNETES_VERSION} swagger.json (${validator.kinds} kinds) + ServiceMonitor CRD; ${helmVersion}`);

function parseRender(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
    const o = doc.toJS({ maxAliasCount: 100 }) as K8sObject | null;
    if (o !== null && o !== undefined) out.push(o);
  }
  return out;
}

/** The workloads of a render (the CronJob's pods too) and their pod templates. */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'CronJob']);
function podTemplateOf(o: K8sObject): { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } {
  const spec = o.kind === 'CronJob' ? (o.spec?.jobTemplate as { spec: Record<string, unknown> }).spec : o.spec;
  return spec?.template as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
}

// helm built by `go install` does not know a cluster version (it assumes 1.20): render for the schema's release.
const KUBE = ['--kube-version', KUBERNETES_VERSION.replace(/^v/, '')];
const rendered: { set: string; objects: K8sObject[] }[] = [];
let chartObjects = 0;
let invalid = 0;
for (const s of sets) {
  const args = ['template', s.release ?? 'seam', CHART, ...KUBE, '--namespace', s.namespace ?? 'seam', ...s.files.flatMap((f) => ['-f', f])];
  const r = runHelm(args);
  if (r.status !== 0) {
    failures.push(`helm template (${s.name}) exited ${r.status}: ${r.stderr.trim()}`);
    invalid++;
    continue;
  }
  const lint = runHelm(['lint', '--strict', CHART, ...KUBE, '--namespace', s.namespace ?? 'seam', ...s.files.flatMap((f) => ['-f', f])]);
  if (lint.status !== 0) failures.push(`helm lint --strict (${s.name}): ${(lint.stdout + lint.stderr).trim().split('\n').slice(-6).join(' | ')}`);
  const objects = parseRender(r.stdout);
  rendered.push({ set: s.name, objects });
  chartObjects += objects.length;
  const kinds = new Map<string, number>();
  const bad = new Set<string>();
  for (const o of objects) {
    kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    const v = validator.validate(o);
    if (v.length > 0) {
      bad.add(`${o.kind}/${o.metadata?.name}`);
      for (const x of v.slice(0, 10)) failures.push(`${s.name}: ${o.kind}/${o.metadata?.name}: ${x.path}: ${x.message}`);
    }
  }
  const sem = checkSemantics(objects, s.externalConfigMaps);
  for (const x of sem) failures.push(`${s.name}: ${x.object}: ${x.path}: ${x.message}`);
  // Seam's own config files, as each replica will read them (a problem there makes the ConfigMap invalid).
  const cfgProblems = checkSeamConfigs(objects);
  for (const p of cfgProblems) failures.push(`${s.name}: ${p}`);
  const badObjects = new Set([...bad, ...sem.map((x) => x.object), ...(cfgProblems.length > 0 ? ['ConfigMap/config'] : [])]);
  invalid += badObjects.size;
  log(`render ${s.name}: ${objects.length} objects (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); invalid ${badObjects.size} (schema ${bad.size}, cross-object ${new Set(sem.map((x) => x.object)).size}, config files ${cfgProblems.length}); helm lint --strict ${lint.status === 0 ? 'ok' : 'FAILED'}`);
}
/**
 * NetworkPolicies (review platsec M4), where the set enables them (the production set must): every workload is
 * selected by exactly one policy, of its own component; ingress is only the metrics port, from the configured peers,
 * and on ingest the ingest port; egress allows DNS, the Kafka brokers' ports from seam.yml, on the index role the
 * OpenSearch URLs' port, and 443; no rule allows every port to everywhere.
 */
function checkNetworkPolicies(set: string, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  type Port = { protocol?: string; port?: number | string };
  type Rule = { ports?: Port[]; from?: unknown[]; to?: unknown[] };
  const nps = objects.filter((o) => o.kind === 'NetworkPolicy');
  if (set === 'production' && nps.length === 0) return ['production: no NetworkPolicy rendered (values-production.yaml turns them on)'];
  if (nps.length === 0) return [];
  const cm = objects.find((o) => o.kind === 'ConfigMap');
  const seamYml = parseYaml(((cm as { data?: Record<string, string> } | undefined)?.data ?? {})['seam.yml'] ?? '{}') as { kafka?: { brokers?: string[] }; opensearch?: { nodeUrls?: string[] }; metrics?: { addr?: string } };
  const kafkaPorts = (seamYml.kafka?.brokers ?? []).map((b) => Number(b.split(':').pop()));
  const osPorts = (seamYml.opensearch?.nodeUrls ?? []).map((u) => { const x = new URL(u); return Number(x.port || (x.protocol === 'https:' ? 443 : 80)); });
  const metricsPort = Number((seamYml.metrics?.addr ?? ':9464').split(':').pop());
  const matches = (sel: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(sel).every(([k, v]) => labels[k] === v);
  for (const w of objects.filter((o) => WORKLOAD_KINDS.has(o.kind))) {
    const tpl = podTemplateOf(w) as unknown as { metadata: { labels: Record<string, string> }; spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] } };
    const labels = tpl.metadata.labels;
    const component = labels['app.kubernetes.io/component']!;
    const sel = nps.filter((np) => matches(((np.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels), labels));
    if (sel.length !== 1) {
      problems.push(`${set}: ${w.kind}/${w.metadata.name} is selected by ${sel.length} NetworkPolicies, not 1`);
      continue;
    }
    const np = sel[0]!;
    const spec = np.spec as { policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
    const where = `${set}: NetworkPolicy/${np.metadata.name}`;
    if (!(spec.policyTypes ?? []).includes('Ingress') || !(spec.policyTypes ?? []).includes('Egress')) problems.push(`${where}: policyTypes must be Ingress and Egress`);
    if (component === 'setup') {
      // The setup CronJob (seam setup opensearch) serves nothing and reads no Kafka: no ingress, egress to DNS,
      // OpenSearch and 443 (STS for its role, SigV4 endpoints) only.
      if ((spec.ingress ?? []).length > 0) problems.push(`${where}: the setup job's pods serve nothing, yet an ingress rule admits traffic`);
      const ports = new Set((spec.egress ?? []).flatMap((r) => (r.ports ?? []).map((p) => Number(p.port))));
      for (const r of spec.egress ?? []) if (!r.ports || r.ports.length === 0) problems.push(`${where}: an egress rule allows every port`);
      for (const p of [53, 443, ...osPorts]) if (!ports.has(p)) problems.push(`${where}: no egress to port ${p} (${p === 53 ? 'DNS' : osPorts.includes(p) ? 'OpenSearch: retention never runs' : 'AWS APIs'})`);
      for (const p of kafkaPorts) if (ports.has(p) && !osPorts.includes(p) && p !== 443) problems.push(`${where}: egress to Kafka's port ${p} from the setup job, which does not use Kafka`);
      continue;
    }
    const ingestPort = component === 'ingest' ? tpl.spec.containers[0]!.ports?.find((p) => p.name === 'https')?.containerPort : undefined;
    const allowedIn = new Set([metricsPort, ...(ingestPort !== undefined ? [ingestPort] : [])]);
    const seenIn = new Set<number>();
    for (const r of spec.ingress ?? []) {
      if (!r.ports || r.ports.length === 0) problems.push(`${where}: an ingress rule allows every port`);
      for (const p of r.ports ?? []) {
        if (!allowedIn.has(Number(p.port))) problems.push(`${where}: ingress to port ${p.port}, neither metrics (${metricsPort}) nor ingest`);
        seenIn.add(Number(p.port));
        if (Number(p.port) === metricsPort && (!r.from || r.from.length === 0)) problems.push(`${where}: the metrics port is open to every source`);
      }
    }
    for (const p of allowedIn) if (!seenIn.has(p)) problems.push(`${where}: no ingress to port ${p} (${p === metricsPort ? 'metrics: Prometheus cannot scrape' : 'ingest: sensors cannot send'})`);
    const egressPorts = new Set<number>();
    for (const r of spec.egress ?? []) {
      if (!r.ports || r.ports.length === 0) problems.push(`${where}: an egress rule allows every port`);
      for (const p of r.ports ?? []) egressPorts.add(Number(p.port));
    }
    const need = [53, 443, ...kafkaPorts, ...(component === 'index' ? osPorts : [])];
    for (const p of need) if (!egressPorts.has(p)) problems.push(`${where}: no egress to port ${p} (${p === 53 ? 'DNS' : kafkaPorts.includes(p) ? 'Kafka' : osPorts.includes(p) ? 'OpenSearch' : 'AWS APIs'})`);
    if (component !== 'index' && osPorts.some((p) => p !== 443 && egressPorts.has(p))) problems.push(`${where}: egress to OpenSearch's port from a component that does not write to it`);
  }
  return problems;
}
/**
 * NOTES.txt, which `helm template` does not render but `helm install` does (a mistake there fails the install after
 * the objects are applied): rendered for each set from a copy of the chart where it is a named template inside a
 * ConfigMap. Each set's notes must say whether retention runs: the setup CronJob's name, or that nothing is deleted.
 */
{
  const copy = join(work, 'chart-notes');
  cpSync(CHART, copy, { recursive: true });
  writeFileSync(join(copy, 'templates/_notes-test.tpl'), `{{- define "seam.notesTest" -}}\n${readFileSync(join(CHART, 'templates/NOTES.txt'), 'utf8')}\n{{- end -}}\n`);
  writeFileSync(join(copy, 'templates/zz-notes-test.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: notes-test }\ndata:\n  notes: {{ include "seam.notesTest" . | toJson }}\n');
  for (const s of sets) {
    const r = runHelm(['template', s.release ?? 'seam', copy, ...KUBE, '--namespace', s.namespace ?? 'seam', ...s.files.flatMap((f) => ['-f', f]), '--show-only', 'templates/zz-notes-test.yaml']);
    const notes = r.status === 0 ? String((parseRender(r.stdout)[0]?.data as { notes?: string } | undefined)?.notes ?? '') : '';
    const cron = rendered.find((x) => x.set === s.name)?.objects.find((o) => o.kind === 'CronJob');
    const says = cron !== undefined ? notes.includes(`cronjob/${cron.metadata.name}`) : notes.includes('Retention is not applied');
    if (r.status !== 0) failures.push(`NOTES.txt (${s.name}) does not render: ${r.stderr.trim().slice(0, 300)}`);
    else if (!says) failures.push(`NOTES.txt (${s.name}): says nothing of retention (${cron ? `the CronJob ${cron.metadata.name}` : 'that it is not applied'})`);
    if (r.status !== 0 || !says) invalid++;
    log(`notes ${s.name}: renders, ${cron ? 'names the setup CronJob' : 'says retention is not applied'}: ${r.status === 0 && says ? 'yes' : 'NO'}`);
  }
}
for (const r of rendered) {
  const np = checkNetworkPolicies(r.set, r.objects);
  for (const p of np) failures.push(p);
  if (np.length > 0) invalid++;
  const n = r.objects.filter((o) => o.kind === 'NetworkPolicy').length;
  if (n > 0) log(`networkpolicy ${r.set}: ${n} policies, one per workload, ingress only metrics/ingest ports from the configured peers, egress DNS/Kafka/OpenSearch/443: ${np.length === 0 ? 'yes' : `NO (${np.length} problems)`}`);
}
/**
 * correlate.sourceDelayMs (ADR 0009, 5c): what the chart's correlate role expects of a source that has not delivered
 * is what `seam run` takes from one seam.yml holding both the roles' config and the chart's collectors
 * (expectedSourceDelays, src/pipeline/expected-delay.ts): { cloudtrail: 900000 } when collect.sources read a
 * CloudTrail group (by `source:` or by its name), none when they read none or the collectors are off, and what
 * config.correlate sets when it sets it. The roles' seam.yml has no `collect`, so the chart must write the default.
 */
{
  const local = join(EXAMPLES, 'values-local.yaml');
  const production = join(EXAMPLES, 'values-production.yaml');
  const trailByName = { collect: { sources: { cloudwatch: { logGroups: [{ logGroupName: '/aws/eks/dev-eks/cluster', account: '123456789012' }, { logGroupName: 'aws-cloudtrail-logs-123456789012', account: '123456789012' }] } } } };
  const cases: { name: string; files: string[]; configured?: Partial<Record<string, number>>; expect: Partial<Record<string, number>> }[] = [
    { name: 'production (a group of source cloudtrail)', files: [production], expect: { cloudtrail: 900_000 } },
    { name: 'local (EKS audit only)', files: [local], expect: {} },
    { name: 'a CloudTrail group told by its name', files: [local, valuesFile('trail-by-name', trailByName)], expect: { cloudtrail: 900_000 } },
    { name: 'production with config.correlate.sourceDelayMs {}', files: [production, valuesFile('trail-off', { config: { correlate: { sourceDelayMs: {} } } })], configured: {}, expect: {} },
    { name: 'production with config.correlate.sourceDelayMs set', files: [production, valuesFile('trail-own', { config: { correlate: { sourceDelayMs: { cloudtrail: 300_000, guardduty: 600_000 } } } })], configured: { cloudtrail: 300_000, guardduty: 600_000 }, expect: { cloudtrail: 300_000, guardduty: 600_000 } },
    { name: 'production with the collectors off', files: [production, valuesFile('trail-no-collect', { collect: { enabled: false } })], expect: {} },
  ];
  let wrong = 0;
  for (const c of cases) {
    const r = runHelm(['template', 'seam', CHART, ...KUBE, '--namespace', 'seam', ...c.files.flatMap((f) => ['-f', f]), '--show-only', 'templates/configmap.yaml']);
    const data = r.status === 0 ? ((parseRender(r.stdout)[0]?.data ?? {}) as Record<string, string>) : {};
    const load = (key: string): ReturnType<typeof loadConfig>['config'] | undefined => {
      if (data[key] === undefined) return undefined;
      const f = join(work, `delay-${key}`);
      writeFileSync(f, data[key]);
      return loadConfig(f, {}, { baseDir: '/etc/seam' }).config;
    };
    let problem: string | undefined;
    let roles: Partial<Record<string, number>> = {};
    try {
      const rolesCfg = load('seam.yml');
      const collectCfg = load('collect.yml');
      if (r.status !== 0 || rolesCfg === undefined) throw new Error(`does not render: ${r.stderr.trim().slice(0, 300)}`);
      // The correlate role's config has no collect section: it uses its own map, or nothing.
      roles = expectedSourceDelays(rolesCfg.correlate.sourceDelayMs, rolesCfg.collect);
      const collect = collectCfg?.collect === undefined ? undefined : CollectConfig.parse(applyReplicaId(collectCfg.collect, 'seam-collect-0'));
      const seamRun = expectedSourceDelays(c.configured, collect);
      if (JSON.stringify(roles) !== JSON.stringify(seamRun)) problem = `the correlate role expects ${JSON.stringify(roles)}, seam run with these collectors ${JSON.stringify(seamRun)}`;
      else if (JSON.stringify(roles) !== JSON.stringify(c.expect)) problem = `the correlate role expects ${JSON.stringify(roles)}, not ${JSON.stringify(c.expect)}`;
    } catch (e) {
      problem = (e as Error).message;
    }
    if (problem !== undefined) {
      failures.push(`correlate.sourceDelayMs (${c.name}): ${problem}`);
      wrong++;
    }
    log(`source delay ${c.name}: correlate role expects ${JSON.stringify(roles)}, as seam run would: ${problem === undefined ? 'yes' : 'NO'}`);
  }
  if (wrong > 0) invalid++;
}
/**
 * The service-account names deploy/iam/README.md tells operators to put in the trust policies (review platsec L1):
 * `<fullname>-<component>`, fullname = the release when it contains "seam", else `<release>-seam`, cut to 40.
 * Each rendered ServiceAccount must be that name, so the filled-in irsa-trust-policy.json subject matches it.
 */
function checkServiceAccountNames(set: string, release: string, namespace: string, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const fullname = (release.includes('seam') ? release : `${release}-seam`).slice(0, 40).replace(/-+$/, '');
  const trust = readFileSync(join(ROOT, 'deploy/iam/irsa-trust-policy.json'), 'utf8');
  for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) {
    const component = sa.metadata.labels?.['app.kubernetes.io/component'];
    const documented = `${fullname}-${component}`;
    const filled = trust.replace('system:serviceaccount:seam:seam-collect', `system:serviceaccount:${namespace}:${documented}`);
    if (sa.metadata.name !== documented || !filled.includes(`system:serviceaccount:${namespace}:${sa.metadata.name}"`)) problems.push(`${set}: ServiceAccount ${sa.metadata.name} is not the documented <fullname>-<component> = ${documented} (deploy/iam/README.md)`);
  }
  return problems;
}
for (const s of sets) {
  const r = rendered.find((x) => x.set === s.name);
  if (r === undefined) continue;
  const p = checkServiceAccountNames(s.name, s.release ?? 'seam', s.namespace ?? 'seam', r.objects);
  for (const x of p) failures.push(x);
  if (p.length > 0) invalid++;
  log(`service accounts ${s.name} (release ${s.release ?? 'seam'}): named <fullname>-<component> as deploy/iam/README.md says: ${p.length === 0 ? 'yes' : `NO (${p.length})`}`);
}
/**
 * The example manifests (review platsec L2/L3): no image without a tag or with :latest; every Namespace enforces
 * Pod Security Admission `restricted`; every pod template meets it (runAsNonRoot, RuntimeDefault/Localhost seccomp,
 * no privilege escalation, all capabilities dropped, no privileged/host namespaces, only allowed volume types).
 */
function checkExampleManifest(file: string, o: K8sObject, origin = `deploy/k8s/${file}`): string[] {
  const problems: string[] = [];
  const where = `${origin}: ${o.kind}/${o.metadata.name}`;
  if (o.kind === 'Namespace' && o.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') problems.push(`${where}: no pod-security.kubernetes.io/enforce: restricted label`);
  type Ctr = { name: string; image?: string; securityContext?: { allowPrivilegeEscalation?: boolean; privileged?: boolean; runAsNonRoot?: boolean; seccompProfile?: { type?: string }; capabilities?: { drop?: string[]; add?: string[] } } };
  type PodSpec = { securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } }; hostNetwork?: boolean; hostPID?: boolean; hostIPC?: boolean; containers?: Ctr[]; initContainers?: Ctr[]; volumes?: Record<string, unknown>[] };
  const pod = o.kind === 'Pod' ? (o.spec as PodSpec) : o.kind === 'CronJob' ? (podTemplateOf(o).spec as PodSpec) : ((o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec);
  if (pod === undefined) return problems;
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
  const okVolume = new Set(['name', 'configMap', 'secret', 'emptyDir', 'projected', 'downwardAPI', 'persistentVolumeClaim', 'csi', 'ephemeral']);
  for (const v of pod.volumes ?? []) for (const k of Object.keys(v)) if (!okVolume.has(k)) problems.push(`${where}: volume ${String(v.name)} of type ${k} is not allowed under restricted`);
  for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    const sc = c.securityContext ?? {};
    const image = c.image ?? '';
    const tag = image.includes('@sha256:') ? 'digest' : /:[^/]+$/.exec(image)?.[0].slice(1);
    if (tag === undefined || tag === 'latest') problems.push(`${where}: container ${c.name} image ${image} is ${tag === undefined ? 'untagged' : ':latest'}`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: container ${c.name}: allowPrivilegeEscalation is not false`);
    if (sc.privileged) problems.push(`${where}: container ${c.name} is privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: container ${c.name} does not drop ALL capabilities`);
    if ((sc.capabilities?.add ?? []).some((x) => x !== 'NET_BIND_SERVICE')) problems.push(`${where}: container ${c.name} adds capabilities`);
    if (!(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot)) problems.push(`${where}: container ${c.name}: runAsNonRoot is not true`);
    const sp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
    if (sp !== 'RuntimeDefault' && sp !== 'Localhost') problems.push(`${where}: container ${c.name}: seccompProfile is not RuntimeDefault or Localhost`);
  }
  return problems;
}
// The hand-written manifests in deploy/k8s (examples users copy) against the same schema.
{
  let n = 0;
  let bad = 0;
  for (const f of readdirSync(join(ROOT, 'deploy/k8s')).filter((x) => /\.ya?ml$/.test(x))) {
    for (const o of parseRender(readFileSync(join(ROOT, 'deploy/k8s', f), 'utf8'))) {
      n++;
      const v = validator.validate(o);
      const psa = checkExampleManifest(f, o);
      if (v.length > 0 || psa.length > 0) bad++;
      for (const x of v.slice(0, 10)) failures.push(`deploy/k8s/${f}: ${o.kind}/${o.metadata?.name}: ${x.path}: ${x.message}`);
      for (const x of psa) failures.push(x);
    }
  }
  invalid += bad;
  // The chart's pods too (the setup CronJob's among them): the same Pod Security Admission `restricted` checks.
  for (const r of rendered) {
    const psa = r.objects.filter((o) => WORKLOAD_KINDS.has(o.kind)).flatMap((o) => checkExampleManifest('', o, `chart ${r.set}`));
    for (const x of psa) failures.push(x);
    if (psa.length > 0) invalid++;
    log(`psa ${r.set}: ${r.objects.filter((o) => WORKLOAD_KINDS.has(o.kind)).length} workloads meet Pod Security Admission restricted: ${psa.length === 0 ? 'yes' : `NO (${psa.length} problems)`}`);
  }
  log(`deploy/k8s examples: ${n} objects, invalid ${bad} (schema; no :latest or untagged image; Namespaces enforce PSA restricted and pods meet it)`);
}
for (const r of refused) {
  const out = runHelm(['template', 'seam', CHART, ...KUBE, ...r.files.flatMap((f) => ['-f', f])]);
  const ok = out.status !== 0 && out.stderr.includes(r.message);
  log(`refuse ${r.name}: ${ok ? 'refused' : 'NOT REFUSED as expected'}${out.status !== 0 ? ` (${(out.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? '').replace(/^Error: /, '').slice(0, 200)})` : ''}`);
  if (!ok) {
    failures.push(`values '${r.name}' should be refused with '${r.message}': exit ${out.status} ${out.stderr.trim().slice(0, 300)}`);
    invalid++;
  }
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface PodContainer {
  env?: EnvVar[];
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodVolume {
  name: string;
  secret?: unknown;
  configMap?: unknown;
}

/**
 * Loads every config file a rendered pod reads (SEAM_CONFIG / --config from the ConfigMap) with Seam's own loader
 * (src/core/config/load.ts: `${env:}`/`${file:}` references, SEAM_* overrides, the zod schema), with the
 * environment the pod would have: plain values as they are, Secret keys as placeholders. So a `${env:NAME}`
 * that no secretEnv provides, a `${file:PATH}` or a `…File` path outside the pod's mounted Secrets, an unknown
 * or mistyped field, or a collector config that a replica would refuse (ADR 0004 ownership) is a problem.
 */
function checkSeamConfigs(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-config'));
  if (!cm) return ['no <fullname>-config ConfigMap rendered'];
  const data = (cm.data ?? {}) as Record<string, string>;
  const dir = mkdtempSync(join(work, 'cfg-'));
  for (const o of objects) {
    if (!WORKLOAD_KINDS.has(o.kind)) continue;
    const pod = podTemplateOf(o).spec as unknown as { containers: PodContainer[]; volumes?: PodVolume[] };
    const c = pod.containers[0]!;
    const args = c.args ?? [];
    const flag = args.indexOf('--config');
    const file = flag >= 0 ? args[flag + 1] : c.env?.find((e) => e.name === 'SEAM_CONFIG')?.value;
    if (file === undefined) {
      problems.push(`${o.kind}/${o.metadata.name}: reads no config file`);
      continue;
    }
    const key = file.replace(/^\/etc\/seam\//, '');
    if (data[key] === undefined) {
      problems.push(`${o.kind}/${o.metadata.name}: reads ${file}, which the ConfigMap does not hold`);
      continue;
    }
    const secretVolumes = new Set((pod.volumes ?? []).filter((v) => v.secret !== undefined).map((v) => v.name));
    const secretMounts = (c.volumeMounts ?? []).filter((m) => secretVolumes.has(m.name)).map((m) => m.mountPath);
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
    const under = (p: string, roots: string[]): boolean => roots.some((r) => p === r || p.startsWith(`${r.replace(/\/$/, '')}/`));
    const replicas = o.kind === 'StatefulSet' ? Number(o.spec?.replicas ?? 1) : 1;
    for (let i = 0; i < replicas; i++) {
      const podName = o.kind === 'StatefulSet' ? `${o.metadata.name}-${i}` : `${o.metadata.name}-7d9f8c6b5-x2x4z`;
      const env: NodeJS.ProcessEnv = {};
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.secretKeyRef) env[e.name] = `secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`;
        else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
        else if (e.valueFrom?.fieldRef) env[e.name] = `field:${e.valueFrom.fieldRef.fieldPath}`;
      }
      // ${file:PATH} under a mounted Secret reads the Secret's file in the pod: a stand-in file here (still a reference).
      let text = data[key];
      text = text.replace(/\$\{file:([^}]+)\}/g, (m, p: string) => {
        if (!under(p, secretMounts)) return m;
        const stand = join(dir, `secret-${p.replace(/[^A-Za-z0-9]/g, '_')}`);
        writeFileSync(stand, `secret-file:${p}\n`);
        return `\${file:${stand}}`;
      });
      const f = join(dir, `${o.metadata.name}-${i}-${key}`);
      writeFileSync(f, text);
      const where = `${o.kind}/${o.metadata.name}${replicas > 1 ? ` (${podName})` : ''}: ${key}`;
      let loaded: ReturnType<typeof loadConfig>;
      try {
        // Relative paths in it resolve against the folder the pod reads it from (/etc/seam), not this copy's.
        loaded = loadConfig(f, env, { baseDir: dirname(file) });
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message.replaceAll(f, key).replaceAll('\n', ' ')}`);
        continue;
      }
      // Files and folders the config names (rule paths too) must be in the pod: under a mounted volume, or in the
      // image (/app, the repository's files; a relative value from a SEAM_* variable is relative to /app too).
      for (const p of pathValues(loaded.config, SEAM_YML_PATH_FIELDS)) {
        if (!p.field.mustExist) continue;
        const x = p.value;
        const inImage = x.startsWith('/app/') ? relative('/app', x) : x.startsWith('/') ? undefined : x;
        const ok = under(x, mounts) || (inImage !== undefined && existsSync(join(ROOT, inImage)));
        if (!ok) problems.push(`${where}: ${p.at.join('.')} = ${x} is neither under a volume the pod mounts nor in the image (/app)`);
      }
      if (loaded.literalSecrets.length > 0) problems.push(`${where}: secrets written in the ConfigMap (${loaded.literalSecrets.join(', ')}): use \${env:NAME} or \${file:PATH}`);
      const collect = loaded.config.collect;
      if (args[0] === 'collect') {
        if (collect === undefined) {
          problems.push(`${where}: seam collect reads it but it has no collect section`);
          continue;
        }
        const parsed = CollectConfig.safeParse(applyReplicaId(collect, env.SEAM_REPLICA_ID));
        if (!parsed.success) {
          problems.push(`${where}: as ${env.SEAM_REPLICA_ID ?? 'this replica'} reads it: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
          continue;
        }
        for (const [name, src] of Object.entries(parsed.data.sources)) {
          const own = (src as { ownership?: { replicas?: string[] } }).ownership;
          if (replicas > 1 && own === undefined && (src as { type: string }).type !== 'sidecar') problems.push(`${where}: ${name} has no ownership with ${replicas} replicas (each would read every log group)`);
          if (own?.replicas && (own.replicas.length !== replicas || !own.replicas.includes(podName))) problems.push(`${where}: ${name}.ownership.replicas ${JSON.stringify(own.replicas)} is not the StatefulSet's pods`);
        }
      } else if (collect !== undefined) problems.push(`${where}: a role's config carries a collect section`);
      if (args[0] === 'setup') {
        // seam setup opensearch (the CronJob): what it reads is seam.yml's opensearch and ism sections.
        if (args[1] !== 'opensearch') problems.push(`${where}: seam ${args.slice(0, 2).join(' ')} is not a setup command`);
        if (!loaded.config.ism.enabled) problems.push(`${where}: ism.enabled is false: the setup job would age nothing out`);
      }
      if (args[0] === 'run' && loaded.config.kafka === undefined) problems.push(`${where}: no kafka section: seam run would run embedded, not as a role`);
      const role = args[args.indexOf('--role') + 1];
      const delivery = args.indexOf('--delivery') >= 0 ? args[args.indexOf('--delivery') + 1] : undefined;
      if (role === 'deliver' && delivery === undefined) problems.push(`${where}: --role deliver without --delivery (the role exits at start)`);
      if (delivery !== undefined) problems.push(...checkDeliveryFile(delivery, data, mounts, secretMounts, env, `${o.kind}/${o.metadata.name}`));
      if (loaded.config.metrics.addr === undefined) problems.push(`${where}: no metrics.addr: the probes would find nothing`);
    }
  }
  problems.push(...checkDeliverySecretsConfined(objects, data));
  return problems;
}

/**
 * The deliver role's secrets (webhook signing secret, Slack URL, PagerDuty key: every { env } / { file } in
 * delivery.yml's outputs) reach the deliver pods only. Any other pod (normalize, correlate, index, collect, the
 * sensor-facing ingest endpoint) holding one could sign or send messages the SOC trusts: a variable of the same
 * name or taken from the same Secret key, or a mount of the Secret a { file } reference reads, is a problem.
 */
function checkDeliverySecretsConfined(objects: K8sObject[], data: Record<string, string>): string[] {
  const problems: string[] = [];
  const pods = objects
    .filter((o) => WORKLOAD_KINDS.has(o.kind))
    .map((o) => {
      const spec = podTemplateOf(o).spec as unknown as { containers: PodContainer[]; volumes?: PodVolume[] };
      const c = spec.containers[0]!;
      const args = c.args ?? [];
      return { o, c, volumes: spec.volumes ?? [], deliver: args[0] === 'run' && args[args.indexOf('--role') + 1] === 'deliver' };
    });
  const deliverPods = pods.filter((p) => p.deliver);
  if (deliverPods.length === 0 || data['delivery.yml'] === undefined) return problems;
  const refs: { env: string[]; file: string[] } = { env: [], file: [] };
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    const r = v as { env?: unknown; file?: unknown };
    if (typeof r.env === 'string') refs.env.push(r.env);
    if (typeof r.file === 'string') refs.file.push(r.file);
    for (const x of Object.values(v)) walk(x);
  };
  walk((parseYaml(data['delivery.yml']) as { outputs?: unknown } | null)?.outputs);
  // What provides them in the deliver pods: Secret keys (by variable) and Secrets (by mount).
  const secretKeys = new Set<string>();
  const secretNames = new Set<string>();
  for (const p of deliverPods) {
    for (const e of p.c.env ?? []) if (refs.env.includes(e.name) && e.valueFrom?.secretKeyRef) secretKeys.add(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
    for (const m of p.c.volumeMounts ?? []) {
      const vol = p.volumes.find((v) => v.name === m.name);
      const secretName = (vol?.secret as { secretName?: string } | undefined)?.secretName;
      if (secretName !== undefined && refs.file.some((f) => f.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))) secretNames.add(secretName);
    }
  }
  for (const p of pods.filter((x) => !x.deliver)) {
    const where = `${p.o.kind}/${p.o.metadata.name}`;
    for (const e of p.c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (refs.env.includes(e.name)) problems.push(`${where}: gets ${e.name}, a delivery secret (delivery.yml), which only the deliver role may have: put it in roles.deliver.secretEnv, not the global secretEnv`);
      else if (ref && secretKeys.has(`${ref.name}/${ref.key}`)) problems.push(`${where}: ${e.name} reads Secret ${ref.name} key ${ref.key}, the deliver role's delivery secret`);
    }
    for (const v of p.volumes) {
      const secretName = (v.secret as { secretName?: string } | undefined)?.secretName;
      if (secretName !== undefined && secretNames.has(secretName)) problems.push(`${where}: mounts Secret ${secretName}, which holds a delivery secret (delivery.yml { file }): put it in roles.deliver.secretFiles, not the global secretFiles`);
    }
  }
  return problems;
}

/**
 * The deliver role's delivery file as the pod reads it (`--delivery`): mounted from the ConfigMap, valid for Seam's
 * own schema (which takes secrets only as { env } / { file } references), every such reference provided by the pod's
 * environment or a mounted Secret, a suppressionsFile mounted or in the image (and, checkDeliverySecretsConfined, no
 * other pod given those secrets).
 */
function checkDeliveryFile(file: string, data: Record<string, string>, mounts: string[], secretMounts: string[], env: NodeJS.ProcessEnv, where: string): string[] {
  const problems: string[] = [];
  const key = file.replace(/^\/etc\/seam\//, '');
  if (!mounts.includes(file)) problems.push(`${where}: reads --delivery ${file}, which no volume mounts`);
  const text = data[key];
  if (text === undefined) return [...problems, `${where}: reads --delivery ${file}, which the ConfigMap does not hold`];
  const parsed = DeliveryConfig.safeParse(parseYaml(text));
  if (!parsed.success) return [...problems, `${where}: ${key}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`];
  const under = (p: string, roots: string[]): boolean => roots.some((r) => p.startsWith(`${r.replace(/\/$/, '')}/`));
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    const ref = v as { env?: unknown; file?: unknown };
    if (typeof ref.env === 'string' && env[ref.env] === undefined) problems.push(`${where}: ${key}: ${path}.env = ${ref.env}, which no secretEnv or env gives the pod`);
    if (typeof ref.file === 'string' && !under(ref.file, secretMounts)) problems.push(`${where}: ${key}: ${path}.file = ${ref.file} is not under a mounted Secret`);
    for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(parsed.data.outputs, 'outputs');
  // A relative suppressionsFile resolves against the delivery file's folder in the pod (/etc/seam), as Seam reads it.
  const sf = parsed.data.suppressionsFile === undefined ? undefined : posix.resolve(posix.dirname(file), parsed.data.suppressionsFile);
  if (sf !== undefined && !(under(sf, mounts) || (sf.startsWith('/app/') && existsSync(join(ROOT, relative('/app', sf)))))) problems.push(`${where}: ${key}: suppressionsFile ${sf} is neither mounted nor in the image`);
  return problems;
}

/** Broken objects the validator must reject: each must give at least one violation. */
function selfTest(): { caught: number; total: number; missed: string[] } {
  const base = rendered.flatMap((r) => r.objects);
  const dep = base.find((o) => o.kind === 'Deployment');
  const sm = base.find((o) => o.kind === 'ServiceMonitor');
  const pdb = base.find((o) => o.kind === 'PodDisruptionBudget');
  if (!dep || !sm || !pdb) return { caught: 0, total: 1, missed: ['no Deployment, ServiceMonitor and PodDisruptionBudget rendered to break'] };
  const copy = <T>(o: T): T => structuredClone(o);
  type Pod = { containers: Record<string, unknown>[] };
  const pod = (o: K8sObject): Pod => (o.spec as { template: { spec: Pod } }).template.spec;
  const cases: [string, () => K8sObject, 'schema' | 'semantics'][] = [
    ['misspelt field (readinessProbe.httpGett)', () => { const o = copy(dep); const c = pod(o).containers[0]!; c.readinessProbe = { httpGett: { path: '/readyz', port: 'metrics' } }; return o; }, 'schema'],
    ['replicas as a string', () => { const o = copy(dep); o.spec!.replicas = 'two'; return o; }, 'schema'],
    ['container without a name', () => { const o = copy(dep); delete pod(o).containers[0]!.name; return o; }, 'schema'],
    ['cpu request that is not a quantity', () => { const o = copy(dep); pod(o).containers[0]!.resources = { requests: { cpu: 'a lot' } }; return o; }, 'schema'],
    ['duplicate container port', () => { const o = copy(dep); const c = pod(o).containers[0]!; c.ports = [...(c.ports as object[]), ...(c.ports as object[])]; return o; }, 'schema'],
    ['misspelt kind', () => ({ ...copy(dep), kind: 'Deploymnet' }), 'schema'],
    ['PDB selector as a string', () => { const o = copy(pdb); o.spec!.selector = 'app=seam'; return o; }, 'schema'],
    ['ServiceMonitor endpoint with an unknown field', () => { const o = copy(sm); (o.spec!.endpoints as Record<string, unknown>[])[0]!.scrapeIntervall = '30s'; return o; }, 'schema'],
    ['port number above int32 (ServiceMonitor CRD int-or-string)', () => { const o = copy(sm); (o.spec!.endpoints as Record<string, unknown>[])[0]!.targetPort = 2 ** 40; return o; }, 'schema'],
    ['selector that misses the pod labels', () => { const o = copy(dep); (o.spec!.selector as { matchLabels: Record<string, string> }).matchLabels = { app: 'other' }; return o; }, 'semantics'],
    ['probe on an undeclared port', () => { const o = copy(dep); pod(o).containers[0]!.livenessProbe = { httpGet: { path: '/healthz', port: 'metricz' } }; return o; }, 'semantics'],
  ];
  const missed: string[] = [];
  let caught = 0;
  for (const [name, make, kind] of cases) {
    const o = make();
    const v: Violation[] = kind === 'schema' ? validator.validate(o) : checkSemantics([...base.filter((b) => b !== dep), o]).filter((x) => x.object === `${o.kind}/${o.metadata.name}`);
    if (v.length > 0) caught++;
    else missed.push(name);
  }
  // Config files the pods could not start with: each must give a problem (the production render is the base).
  const prod = rendered.find((r) => r.set === 'production')?.objects ?? [];
  const configCases: [string, (seamYml: string) => string][] = [
    ['a field seam.yml does not have (kafka.replication)', (t) => t.replace('replicationFactor: 3', 'replication: 3')],
    ['${env:NAME} that no Secret provides', (t) => `${t}cluster: \${env:SEAM_CLUSTER_NOT_PROVIDED}\n`],
    ['a CA file the pod does not mount', (t) => t.replace('tls: {}', 'tls: { caFile: /etc/seam/kafka-ca/ca.pem }')],
    ['a delivery secret from a variable no Secret provides', (t) => t.replace(/^outputs:\n/m, 'outputs:\n  hook: { type: webhook, url: https://x.example/h, secret: { env: SEAM_DELIVERY_NOT_PROVIDED } }\n')],
    ['a relative rules path (resolves against /etc/seam, not /app)', (t) => t.replace('- /app/detections', '- detections')],
    ['a password written in the ConfigMap', (t) => t.replace(/ {4}type: aws-sigv4\n/, '    type: basic\n    username: seam\n    password: hunter2\n').replace(/ {4}region: us-west-2\n {4}service: es\n/, '')],
  ];
  for (const [name, edit] of configCases) {
    const objs = structuredClone(prod);
    const cm = objs.find((o) => o.kind === 'ConfigMap');
    if (!cm) {
      missed.push(`${name} (no production render)`);
      continue;
    }
    const d = cm.data as Record<string, string>;
    for (const k of Object.keys(d)) d[k] = edit(d[k]!);
    const found = checkSeamConfigs(objs);
    if (found.length > 0) caught++;
    else missed.push(name);
    if (process.env.DEPLOY_VERBOSE) log(`self-test: ${name}: ${found[0] ?? 'not caught'}`);
  }
  // Delivery secrets given to every component (the global secretEnv/secretFiles, as deploy/helm/README.md once
  // showed): the chart renders them, the confinement check must refuse them.
  const leaks: [string, Record<string, unknown>][] = [
    ['the webhook secret in the global secretEnv', { secretEnv: [...variants.secretEnv, ...variants.roles.deliver.secretEnv], roles: { deliver: { secretEnv: [] } } }],
    ['the PagerDuty key file in the global secretFiles', { secretFiles: [...variants.secretFiles, ...variants.roles.deliver.secretFiles], roles: { deliver: { secretFiles: [] } } }],
  ];
  for (const [name, over] of leaks) {
    const r = runHelm(['template', 'soc-seam-prod', CHART, ...KUBE, '--namespace', 'security', '-f', join(EXAMPLES, 'values-local.yaml'), '-f', valuesFile('variants', variants), '-f', valuesFile(`leak-${leaks.findIndex((l) => l[0] === name)}`, over)]);
    const found = r.status === 0 ? checkSeamConfigs(parseRender(r.stdout)).filter((x) => /delivery secret/.test(x)) : [];
    if (found.length > 0) caught++;
    else missed.push(`${name}${r.status !== 0 ? ` (helm template exited ${r.status}: ${r.stderr.trim().slice(0, 200)})` : ''}`);
    if (process.env.DEPLOY_VERBOSE) log(`self-test: ${name}: ${found.length} pods flagged, e.g. ${found[0] ?? 'not caught'}`);
  }
  // The setup CronJob (retention): its NetworkPolicy and its pods' security context, broken in the production render.
  type NpRule = { ports?: { port?: number | string }[] };
  const setupNp = (objs: K8sObject[]): { egress: NpRule[]; ingress?: unknown[] } => objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.labels?.['app.kubernetes.io/component'] === 'setup')!.spec as { egress: NpRule[]; ingress?: unknown[] };
  const setupPod = (objs: K8sObject[]): { securityContext: Record<string, unknown> } => podTemplateOf(objs.find((o) => o.kind === 'CronJob')!).spec as { securityContext: Record<string, unknown> };
  const setupCases: [string, (objs: K8sObject[]) => void, (objs: K8sObject[]) => string[]][] = [
    ['setup NetworkPolicy without egress to OpenSearch (retention would never run)', (objs) => { const np = setupNp(objs); np.egress = np.egress.filter((r) => !(r.ports ?? []).some((p) => Number(p.port) === 443)); }, (objs) => checkNetworkPolicies('production', objs)],
    ['setup NetworkPolicy with egress to Kafka', (objs) => { setupNp(objs).egress.push({ ports: [{ port: 9098 }] }); }, (objs) => checkNetworkPolicies('production', objs)],
    ['setup NetworkPolicy admitting ingress', (objs) => { setupNp(objs).ingress = [{ ports: [{ protocol: 'TCP', port: 9464 }] }]; }, (objs) => checkNetworkPolicies('production', objs)],
    ['setup CronJob pod without runAsNonRoot (PSA restricted)', (objs) => { delete setupPod(objs).securityContext.runAsNonRoot; }, (objs) => objs.filter((o) => o.kind === 'CronJob').flatMap((o) => checkExampleManifest('', o, 'self-test'))],
  ];
  for (const [name, breakIt, check] of setupCases) {
    const objs = structuredClone(prod);
    if (!objs.some((o) => o.kind === 'CronJob')) {
      missed.push(`${name} (no setup CronJob in the production render)`);
      continue;
    }
    if (check(objs).length > 0) {
      missed.push(`${name} (the unbroken production render already fails: ${check(objs)[0]})`);
      continue;
    }
    breakIt(objs);
    const found = check(objs);
    if (found.length > 0) caught++;
    else missed.push(name);
    if (process.env.DEPLOY_VERBOSE) log(`self-test: ${name}: ${found[0] ?? 'not caught'}`);
  }
  return { caught, total: cases.length + configCases.length + leaks.length + setupCases.length, missed };
}
const self = selfTest();
log(`self-test: ${self.caught}/${self.total} deliberately broken objects rejected${self.missed.length ? ` (missed: ${self.missed.join('; ')})` : ''}`);
if (self.caught !== self.total) {
  failures.push(`validator self-test: ${self.missed.join('; ')} not rejected`);
  invalid++;
}

// ── 2b. Docker: no engine here, so only what can be checked without one ──────────────────────────────────
/**
 * deploy/docker/Dockerfile and docker-compose.yml are not built or run here (no Docker engine). What is checked:
 * every file the Dockerfile copies from the repository and compose mounts exists, compose's Seam services run
 * commands the CLI has with the config file compose mounts, and that file loads with Seam's own loader.
 */
function dockerChecks(): string[] {
  const problems: string[] = [];
  const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)) {
    const parts = m[1]!.trim().split(/\s+/);
    for (const src of parts.slice(0, -1)) if (!existsSync(join(ROOT, src))) problems.push(`Dockerfile copies ${src}, which the repository does not have`);
  }
  for (const m of dockerfile.matchAll(/node (bin\/[\w.-]+\.mjs)/g)) if (!existsSync(join(ROOT, m[1]!))) problems.push(`Dockerfile runs ${m[1]}, which does not exist`);
  if (!/SEAM_RUNTIME=dist/.test(dockerfile) || !/bin\/build\.mjs/.test(dockerfile)) problems.push('Dockerfile does not build dist/ and run it (SEAM_RUNTIME=dist, ADR 0013)');
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { image?: string; build?: { dockerfile?: string }; command?: string[]; volumes?: string[]; environment?: Record<string, string> }> };
  // Compose's Kafka, OpenSearch and Dashboards images are the versions the tests run (deploy/local's jars from Maven
  // Central): a compose user gets what was tested. The tag is the default of `${OPENSEARCH_VERSION:-x}` where given.
  const pomVersion = (pom: string, prop: string): string | undefined => new RegExp(`<${prop}>([^<]+)</${prop}>`).exec(readFileSync(join(ROOT, pom), 'utf8'))?.[1];
  const tested: [string, string, string | undefined][] = [
    ['kafka', 'apache/kafka', pomVersion('deploy/local/kafka/pom.xml', 'kafka.version')],
    ['opensearch', 'opensearchproject/opensearch', pomVersion('deploy/local/opensearch/pom.xml', 'opensearch.version')],
    ['opensearch-dashboards', 'opensearchproject/opensearch-dashboards', pomVersion('deploy/local/opensearch/pom.xml', 'opensearch.version')],
  ];
  for (const [svc, repo, version] of tested) {
    const image = compose.services[svc]?.image ?? '';
    const tag = /^[^:]+:(?:\$\{[A-Z_]+:-([^}]+)\}|(.+))$/.exec(image);
    const got = tag?.[1] ?? tag?.[2];
    if (version === undefined) problems.push(`deploy/local has no ${svc === 'kafka' ? 'kafka' : 'opensearch'}.version to compare compose's ${svc} with`);
    else if (!image.startsWith(`${repo}:`) || got !== version) problems.push(`compose ${svc}: image ${image || '(none)'}, but the tests run ${repo.split('/')[1]} ${version} (deploy/local): use ${repo}:${version}`);
  }
  for (const [name, svc] of Object.entries(compose.services)) {
    if (svc.build?.dockerfile && !existsSync(join(ROOT, svc.build.dockerfile))) problems.push(`compose ${name}: no ${svc.build.dockerfile}`);
    for (const v of svc.volumes ?? []) {
      const host = v.split(':')[0]!;
      if (host.startsWith('./') && !existsSync(join(ROOT, host))) problems.push(`compose ${name} mounts ${host}, which does not exist`);
    }
    const cmd = svc.command ?? [];
    if (cmd[1] !== 'bin/seam.mjs') continue;
    const mounted = (svc.volumes ?? []).find((v) => v.split(':')[1] === svc.environment?.SEAM_CONFIG);
    if (!mounted) {
      problems.push(`compose ${name}: SEAM_CONFIG ${svc.environment?.SEAM_CONFIG} is not a mounted file`);
      continue;
    }
    try {
      // Relative paths resolve against the folder the container reads it from; what it names must be in the image.
      const cfg = loadConfig(join(ROOT, mounted.split(':')[0]!), {}, { baseDir: dirname(svc.environment!.SEAM_CONFIG!) }).config;
      for (const p of pathValues(cfg, SEAM_YML_PATH_FIELDS)) {
        if (p.field.mustExist && !(p.value.startsWith('/app/') && existsSync(join(ROOT, relative('/app', p.value))))) problems.push(`compose ${name}: ${p.at.join('.')} = ${p.value} is not in the image (/app)`);
      }
      if (cmd[2] === 'run' && cfg.kafka === undefined) problems.push(`compose ${name}: its seam.yml has no kafka section (the role would run embedded)`);
      if (cmd[2] === 'collect' && cfg.collect === undefined) problems.push(`compose ${name}: its seam.yml has no collect section`);
      if (cmd[2] === 'run' && !['normalize', 'correlate', 'index', 'deliver'].includes(cmd[cmd.indexOf('--role') + 1] ?? '')) problems.push(`compose ${name}: unknown role in ${cmd.join(' ')}`);
    } catch (e) {
      problems.push(`compose ${name}: ${(e as Error).message.replaceAll('\n', ' ')}`);
    }
  }
  return problems;
}
const docker = dockerChecks();
for (const p of docker) failures.push(`docker: ${p}`);
log(`docker: Dockerfile and docker-compose.yml consistent with the repository, the compiled build, seam.compose.yml and the Kafka/OpenSearch versions the tests run: ${docker.length === 0 ? 'yes' : `NO (${docker.length} problems)`} (static checks: no Docker engine here, nothing is built or run)`);

// ── 2c. IAM policies (deploy/iam): static, no AWS account here ────────────────────────────────────────────
/**
 * Every policy in deploy/iam parses as an IAM policy document (Version, Statements with Effect, Action, Resource),
 * every policy file the docs name exists, and the deliver role's MSK policy is least privilege: no CreateTopic,
 * data read only from seam.alerts and written only to seam.dlq (the topics src/pipeline/roles/deliver.ts uses),
 * groups only its own (seam-deliver) and the history re-reads' (seam-rebuild-*, src/bus/groups.ts).
 */
function iamChecks(): string[] {
  const problems: string[] = [];
  const dir = join(ROOT, 'deploy/iam');
  type Statement = { Effect?: string; Action?: string | string[]; Resource?: string | string[]; Principal?: unknown };
  const policies = new Map<string, Statement[]>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { Version?: string; Statement?: Statement[] };
      if (doc.Version !== '2012-10-17' || !Array.isArray(doc.Statement) || doc.Statement.length === 0) problems.push(`${f}: not an IAM policy document (Version 2012-10-17, Statement[])`);
      for (const [i, st] of (doc.Statement ?? []).entries()) {
        if (st.Effect === undefined || st.Action === undefined || (st.Resource === undefined && st.Principal === undefined)) problems.push(`${f}: Statement ${i} lacks Effect, Action or Resource`);
      }
      policies.set(f, doc.Statement ?? []);
    } catch (e) {
      problems.push(`${f}: ${(e as Error).message}`);
    }
  }
  for (const doc of ['deploy/iam/README.md', 'deploy/helm/README.md', 'README.md', 'deploy/helm/seam/values.yaml', 'deploy/helm/examples/values-production.yaml']) {
    for (const m of readFileSync(join(ROOT, doc), 'utf8').matchAll(/([a-z0-9-]+-policy\.json)/g)) if (!policies.has(m[1]!)) problems.push(`${doc} names ${m[1]}, which deploy/iam does not have`);
  }
  const deliver = policies.get('msk-deliver-policy.json');
  if (deliver === undefined) return [...problems, 'deploy/iam/msk-deliver-policy.json is missing'];
  const topics = pipelineTopics();
  const list = (x: string | string[] | undefined): string[] => (x === undefined ? [] : typeof x === 'string' ? [x] : x);
  const grants = (action: string): string[] => deliver.filter((st) => st.Effect === 'Allow' && list(st.Action).includes(action)).flatMap((st) => list(st.Resource));
  const last = (arn: string): string => arn.split('/').pop()!.replace(/^(TOPIC|GROUP)_PREFIX/, '');
  const same = (a: string[], b: string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  if (deliver.some((st) => list(st.Action).some((a) => a.includes('*') || /CreateTopic|DeleteTopic|AlterTopic|AlterCluster/.test(a)))) problems.push('msk-deliver-policy.json: grants a wildcard action, or creates, deletes or alters topics or the cluster');
  const read = grants('kafka-cluster:ReadData').map(last);
  const write = grants('kafka-cluster:WriteData').map(last);
  const groups = grants('kafka-cluster:AlterGroup').map(last);
  if (!same(read, [topics.alerts])) problems.push(`msk-deliver-policy.json: ReadData on ${read.join(', ') || 'nothing'}, not ${topics.alerts} alone`);
  if (!same(write, [topics.dlq])) problems.push(`msk-deliver-policy.json: WriteData on ${write.join(', ') || 'nothing'}, not ${topics.dlq} alone`);
  const rebuild = `${throwawayGroupStem('rebuild')}*`;
  if (!same(groups, [defaultGroupId('deliver'), rebuild])) problems.push(`msk-deliver-policy.json: AlterGroup on ${groups.join(', ') || 'nothing'}, not ${defaultGroupId('deliver')} and ${rebuild} alone`);
  return problems;
}
/**
 * deploy/opensearch/fgac-roles.json: the FGAC role of the index component grants no delete, by-query, close,
 * settings, alias, reindex or other index admin beyond creating indices and putting mappings (review platsec M2);
 * every role has a mapping to an IAM role ARN; the setup role is a separate role.
 */
function fgacChecks(): string[] {
  const problems: string[] = [];
  type Role = { cluster_permissions?: string[]; index_permissions?: { index_patterns?: string[]; allowed_actions?: string[] }[] };
  let doc: { roles?: Record<string, Role>; roles_mapping?: Record<string, { backend_roles?: string[] }> };
  try {
    doc = JSON.parse(readFileSync(join(ROOT, 'deploy/opensearch/fgac-roles.json'), 'utf8')) as typeof doc;
  } catch (e) {
    return [`deploy/opensearch/fgac-roles.json: ${(e as Error).message}`];
  }
  const index = doc.roles?.seam_index;
  if (index === undefined) return ['fgac-roles.json: no seam_index role'];
  if (doc.roles?.seam_setup === undefined) problems.push('fgac-roles.json: no seam_setup role');
  const indexAllowed = new Set(['indices:data/write/index', 'indices:data/write/bulk*', 'indices:data/read/mget*', 'indices:data/read/get', 'indices:admin/create', 'indices:admin/get', 'indices:admin/mapping/put', 'indices:admin/mappings/get', 'indices:admin/mappings/fields/get']);
  const forbidden = /delete|byquery|reindex|close|open|settings|aliases|rollover|shrink|block|_all|\*\*|^indices:admin\/\*|^indices:\*|^\*$|crud|write$|manage|all_access|index$/;
  for (const ip of index.index_permissions ?? []) {
    for (const p of ip.index_patterns ?? []) if (p !== 'INDEX_PREFIX-*') problems.push(`fgac seam_index: index pattern ${p}, not INDEX_PREFIX-* alone`);
    for (const a of ip.allowed_actions ?? []) {
      if (!indexAllowed.has(a)) problems.push(`fgac seam_index: index action ${a} is not one the index role needs`);
      else if (a !== 'indices:data/write/index' && forbidden.test(a)) problems.push(`fgac seam_index: index action ${a} can delete or administer`);
    }
  }
  for (const a of index.cluster_permissions ?? []) {
    if (/delete|byquery|reindex|settings|security|ism|cluster:admin\/(?!component_template)|\*|all|manage/.test(a)) problems.push(`fgac seam_index: cluster permission ${a} can delete or administer`);
  }
  for (const [name] of Object.entries(doc.roles ?? {})) {
    const m = doc.roles_mapping?.[name]?.backend_roles ?? [];
    if (!m.some((r) => /^arn:aws:iam::ACCOUNT_ID:role\/SEAM_[A-Z]+_ROLE$/.test(r))) problems.push(`fgac-roles.json: role ${name} is mapped to no IAM role ARN placeholder`);
  }
  return problems;
}
const fgac = fgacChecks();
for (const p of fgac) failures.push(`fgac: ${p}`);
if (fgac.length > 0) invalid++;
log(`fgac: deploy/opensearch/fgac-roles.json seam_index has no delete/by-query/close/settings/admin action, both roles mapped: ${fgac.length === 0 ? 'yes' : `NO (${fgac.length} problems)`}`);
const iam = iamChecks();
for (const p of iam) failures.push(`iam: ${p}`);
if (iam.length > 0) invalid++;
log(`iam: deploy/iam policies parse, the ones the docs name exist, msk-deliver-policy.json least privilege: ${iam.length === 0 ? 'yes' : `NO (${iam.length} problems)`}`);

// ── 3. metrics and health of real role processes ────────────────────────────────────────────────────────
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}
const sum = (s: Sample[], name: string, f: (l: Record<string, string>) => boolean = () => true): number => s.filter((x) => x.name === name && f(x.labels)).reduce((a, x) => a + x.value, 0);

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.text() };
  } catch (e) {
    return { status: 0, body: (e as Error).message };
  }
}

interface RoleProcess {
  role: string;
  url: string;
  stop(): Promise<number | null>;
  stderr(): string;
}
async function startRole(role: string, env: NodeJS.ProcessEnv): Promise<RoleProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--role', role, '--metrics-addr', '127.0.0.1:0', '--rules', join(ROOT, 'detections')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role}: no metrics address within 120 s: ${err.slice(-2000)}`)), 120_000);
    child.stderr.on('data', (d: string) => {
      err += d;
      const m = /metrics and health on (http:\/\/[^/\s]+)\/metrics/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`${role} exited ${code} before serving metrics: ${err.slice(-2000)}`)));
  });
  return {
    role,
    url,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function metricsCheck(): Promise<{ ok: boolean; details: string[] }> {
  const details: string[] = [];
  let ok = true;
  const problem = (s: string): void => {
    ok = false;
    details.push(`FAIL ${s}`);
  };
  await ensureUp(['kafka', 'opensearch'], { log: () => {} });
  const ep = endpoints();
  const run = `deploy${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const env = {
    ...process.env,
    SEAM_KAFKA_BROKERS: ep.kafka.brokers.join(','),
    SEAM_OPENSEARCH_URL: ep.opensearch.url,
    SEAM_TOPIC_PREFIX: `${run}.`,
    SEAM_GROUP_PREFIX: `${run}-`,
    SEAM_INDEX_PREFIX: run,
    SEAM_OPENSEARCH_REPLICAS: '0',
    SEAM_CORRELATE_IDLE_MS: '2000',
    SEAM_LOG_LEVEL: 'warn',
  };
  const topics = pipelineTopics(`${run}.`);
  const procs: RoleProcess[] = [];
  const bus = new KafkaBus({ brokers: ep.kafka.brokers, clientId: `seam-deploy-${run}` });
  try {
    // The three roles as the chart runs them, one process each (signals reach seam.events through correlate, ADR 0014).
    for (const role of ['normalize', 'correlate', 'index']) procs.push(await startRole(role, env));
    for (const p of procs) {
      const live = await get(`${p.url}/healthz`);
      if (live.status !== 200) problem(`${p.role} /healthz answered ${live.status} ${live.body.trim()}`);
      const t = Date.now();
      let ready = await get(`${p.url}/readyz`);
      const first = ready.status;
      while (ready.status !== 200 && Date.now() - t < 180_000) {
        await new Promise((r) => setTimeout(r, 500));
        ready = await get(`${p.url}/readyz`);
      }
      details.push(`${p.role}: /healthz ${live.status}; /readyz ${first} at first, ${ready.status} after ${((Date.now() - t) / 1000).toFixed(1)} s`);
      if (ready.status !== 200) problem(`${p.role} never became ready: ${ready.body.trim()}`);
    }
    // Records as a collector writes them: the EKS audit fixture, each copy with its own auditID.
    const lines = readFileSync(join(ROOT, 'test/fixtures/k8s-audit/eks-audit.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    const COPIES = 20;
    const received = new Date().toISOString();
    const messages = Array.from({ length: COPIES }, (_, i) =>
      lines.map((l, j) => {
        const rec = JSON.parse(l) as Record<string, unknown>;
        rec.auditID = `${String(rec.auditID ?? 'a')}-${run}-${i}`;
        return { topic: topics.raw('k8s_audit'), key: `stream-${j % 7}`, value: Buffer.from(JSON.stringify(rec)), headers: rawHeaders({ collector: 'test-deploy', receivedAt: received, source: 'k8s_audit', cluster: 'prod-eks-01' }) };
      }),
    ).flat();
    const producer = await bus.producer();
    await producer.send(messages);
    const [norm, corr, index] = procs as [RoleProcess, RoleProcess, RoleProcess];
    const t = Date.now();
    let s: Sample[] = [];
    let sc: Sample[] = [];
    let si: Sample[] = [];
    let maxLag = 0;
    const lagOf = (x: Sample[]): number => sum(x, 'seam_consumer_lag');
    for (;;) {
      s = parseProm((await get(`${norm.url}/metrics`)).body);
      sc = parseProm((await get(`${corr.url}/metrics`)).body);
      si = parseProm((await get(`${index.url}/metrics`)).body);
      maxLag = Math.max(maxLag, lagOf(s));
      const done =
        sum(s, 'seam_records_in_total', (l) => l.role === 'normalize') >= messages.length &&
        lagOf(s) === 0 &&
        lagOf(sc) === 0 &&
        sum(sc, 'seam_correlate_held_signals') === 0 &&
        lagOf(si) === 0 &&
        sum(si, 'seam_records_in_total', (l) => l.role === 'index') >= messages.length;
      if (done || Date.now() - t > 180_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const nIn = sum(s, 'seam_records_in_total', (l) => l.role === 'normalize');
    const nOut = sum(s, 'seam_records_out_total', (l) => l.role === 'normalize');
    const nErr = sum(s, 'seam_errors_total', (l) => l.role === 'normalize');
    const rawLag = s.filter((x) => x.name === 'seam_consumer_lag' && x.labels.topic === topics.raw('k8s_audit'));
    const cIn = sum(sc, 'seam_records_in_total', (l) => l.role === 'correlate');
    const cAlerts = sum(sc, 'seam_records_out_total', (l) => l.role === 'correlate');
    const iIn = sum(si, 'seam_records_in_total', (l) => l.role === 'index');
    const iOut = sum(si, 'seam_records_out_total', (l) => l.role === 'index');
    const rules = sum(s, 'seam_rules_loaded', (l) => l.kind === 'sigma');
    const bulk = sum(si, 'seam_sink_bulk_duration_seconds_count');
    details.push(`normalize /metrics: records_in=${nIn} records_out=${nOut} errors=${nErr} lag=${lagOf(s)} over ${rawLag.length} raw partitions (peak seen ${maxLag}) rules_loaded=${rules}`);
    details.push(`correlate /metrics: records_in=${cIn} alerts=${cAlerts} lag=${lagOf(sc)} held_signals=${sum(sc, 'seam_correlate_held_signals')} alert_latency_observed=${sum(sc, 'seam_alert_latency_seconds_count')} identity_graph_keys=${sum(sc, 'seam_identity_graph_keys')}`);
    details.push(`index /metrics: records_in=${iIn} records_out=${iOut} lag=${lagOf(si)} bulk_requests=${bulk} resident_memory_mb=${(sum(si, 'process_resident_memory_bytes') / 1048576).toFixed(0)}`);
    if (nIn !== messages.length) problem(`normalize counted ${nIn} records in, ${messages.length} were produced`);
    if (nOut + nErr !== nIn) problem(`normalize: records_out ${nOut} + errors ${nErr} != records_in ${nIn}`);
    if (rawLag.length !== 6) problem(`seam_consumer_lag should cover the raw topic's 6 partitions, covers ${rawLag.length}`);
    if (lagOf(s) + lagOf(sc) + lagOf(si) !== 0) problem(`consumer lag did not drain to 0 (normalize ${lagOf(s)}, correlate ${lagOf(sc)}, index ${lagOf(si)})`);
    if (iIn < nOut || iOut < nOut) problem(`index took ${iIn} documents and OpenSearch acknowledged ${iOut}, fewer than the ${nOut} events normalize emitted`);
    if (rules <= 0) problem('seam_rules_loaded{kind="sigma"} is 0');
    if (bulk <= 0) problem('no bulk request observed by the index role');
    // The setup CronJob's command as the local render runs it (its args, its seam.yml; the node URL and prefix are
    // this run's): twice, the second must change nothing (idempotent, as a daily job must be).
    const local = rendered.find((r) => r.set === 'local')?.objects ?? [];
    const cron = local.find((o) => o.kind === 'CronJob');
    const seamYml = (local.find((o) => o.kind === 'ConfigMap')?.data as Record<string, string> | undefined)?.['seam.yml'];
    if (cron === undefined || seamYml === undefined) problem('the local render has no setup CronJob (values-local.yaml turns it on) or no seam.yml');
    else {
      const c = (podTemplateOf(cron).spec as { containers: PodContainer[] }).containers[0]!;
      const cfg = join(work, 'setup-seam.yml');
      writeFileSync(cfg, seamYml);
      const args = (c.args ?? []).map((a) => (a === '/etc/seam/seam.yml' ? cfg : a));
      const runs = [1, 2].map(() => spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 }));
      const [first, second] = runs as [ReturnType<typeof spawnSync>, ReturnType<typeof spawnSync>];
      const lines = (r: ReturnType<typeof spawnSync>): string[] => String(r.stdout ?? '').split('\n').filter((l) => /^\s{2}\S/.test(l));
      const changed = lines(second).filter((l) => /^\s+(created|updated|deleted)\s/.test(l));
      details.push(`setup CronJob (${['seam', ...(c.args ?? [])].join(' ')}): first run exit ${first.status}, ${lines(first).length} actions (${lines(first).filter((l) => /created/.test(l)).length} created); second run exit ${second.status}, ${changed.length} changed`);
      if (first.status !== 0 || second.status !== 0) problem(`setup as the CronJob runs it exited ${first.status}/${second.status}: ${String(first.stderr ?? '').slice(-800)} ${String(second.stderr ?? '').slice(-800)}`);
      if (!lines(first).some((l) => l.includes(`${run}-identity`)) || !lines(first).some((l) => l.includes(`${run}-incidents`))) problem(`setup as the CronJob runs it did not handle ${run}-identity and ${run}-incidents: ${lines(first).join(' | ').slice(0, 800)}`);
      if (changed.length > 0) problem(`the setup CronJob's second run changed something: ${changed.join(' | ')}`);
    }
  } catch (e) {
    problem((e as Error).message);
  } finally {
    for (const p of procs) {
      const code = await p.stop();
      details.push(`${p.role}: SIGTERM -> exit ${code}`);
      if (code !== 0) problem(`${p.role} exited ${code} on SIGTERM: ${p.stderr().slice(-1500)}`);
    }
    await bus.close().catch(() => {});
    // The run's topics stay (the broker is shared; other runs leave theirs too); its indices and templates go.
    const client = new Client({ node: ep.opensearch.url });
    await dropPrefix(client, run).catch((e: unknown) => details.push(`cleanup of ${run}-* failed: ${(e as Error).message}`));
    await client.close();
  }
  return { ok, details };
}

// The services the metrics and authentication checks use. In `npm test` this runs after vitest stopped the ones
// it started: what this run starts it stops at the end (SEAM_KEEP_SERVICES=1 keeps them), as test/soc does.
let startedServices: Awaited<ReturnType<typeof ensureUp>>['started'] = [];
try {
  startedServices = (await ensureUp(['kafka', 'opensearch'], { log: (l: string) => log(`services: ${l}`) })).started;
} catch (e) {
  failures.push(`cannot start Kafka and OpenSearch: ${(e as Error).message}`);
}
const metrics = await metricsCheck();
for (const d of metrics.details) log(`metrics: ${d}`);

// ── 4. authentication (issue 13 part 2, test/deploy/auth-checks.ts) ─────────────────────────────────────
type AuthResult = { kafka_tls: boolean; kafka_scram: boolean; opensearch_basic: boolean; opensearch_sigv4: boolean; details: string[] };
let auth: AuthResult | undefined;
const authFile = join(import.meta.dirname, 'auth-checks.ts');
if (existsSync(authFile)) {
  try {
    const mod = (await import(pathToFileURL(authFile).href)) as { runAuthChecks?: () => Promise<AuthResult> };
    if (typeof mod.runAuthChecks !== 'function') log('auth: test/deploy/auth-checks.ts exports no runAuthChecks(): every auth check fails');
    else auth = await mod.runAuthChecks();
  } catch (e) {
    log(`auth: runAuthChecks() threw: ${(e as Error).stack ?? String(e)}`);
  }
  for (const d of auth?.details ?? []) log(`auth: ${d}`);
} else {
  log('auth: test/deploy/auth-checks.ts is not there yet (issue 13 part 2): the four authentication checks fail');
}

rmSync(work, { recursive: true, force: true });
if (startedServices.length > 0 && !process.env.SEAM_KEEP_SERVICES) await stop(startedServices, { log: (l: string) => log(`services: ${l}`) }).catch((e: unknown) => log(`services: stopping failed: ${(e as Error).message}`));
for (const f of failures) log(`FAIL ${f}`);
const okf = (b: boolean | undefined): string => (b === true ? 'ok' : 'fail');
const checks = {
  kafka_tls: auth?.kafka_tls,
  kafka_scram: auth?.kafka_scram,
  opensearch_basic: auth?.opensearch_basic,
  opensearch_sigv4: auth?.opensearch_sigv4,
  metrics: metrics.ok,
};
log(`deploy: ${Object.entries(checks).map(([k, v]) => `${k}=${okf(v)}`).join(' ')} chart_objects=${chartObjects} invalid=${invalid}`);
process.exitCode = Object.values(checks).every((v) => v === true) && invalid === 0 && failures.length === 0 ? 0 : 1;
// Kafka clients and fetch keep-alive sockets must not hold the process.
setTimeout(() => process.exit(), 1000).unref();
