// Authenticated paths end to end, shared by test/auth/auth.test.ts (vitest) and test/deploy/auth-checks.ts
// (npm run test:deploy): real `seam collect` and `seam run` processes with a seam.yml, through
//   - Kafka SASL_SSL with SCRAM-SHA-512 (real broker listener, users created through the admin API),
//   - Kafka SSL with client certificates (real broker listener, test CA from openssl),
//   - OpenSearch TLS + basic auth and OpenSearch SigV4 (STUBS: test/auth/opensearch-auth-stub.ts, HTTPS fronts to
//     the real node),
// and the same commands with a wrong credential, which must exit non-zero with a clear message and commit
// nothing: no consumer group of theirs exists (so no offset was committed), no index of theirs exists, no topic
// of theirs was written.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CACHE, endpoints, ensureTestTls, ensureUp, KAFKA_TEST_USERS, stop, type TestTlsFiles } from '../../deploy/local/services-lib.mjs';
import { Client } from '@opensearch-project/opensearch';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { startAuthStub, type AuthStub } from './opensearch-auth-stub.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface AuthEnv {
  /** Plain listener (for looking at what the commands did), mutual-TLS listener, SASL_SSL listener. */
  kafka: { plain: string; tls: string; sasl: string; private: boolean };
  tls: TestTlsFiles;
  opensearchUrl: string;
  basic: AuthStub;
  sigv4: AuthStub;
  log: (line: string) => void;
  close(): Promise<void>;
}

export interface CheckResult {
  ok: boolean;
  details: string[];
}

const OS_USER = 'seam-indexer';
const OS_PASSWORD = 'seam-local-basic-password';
const AWS_KEY = 'AKIDSEAMLOCALTEST001';
const AWS_SECRET = 'seam-local-sigv4-secret-key';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

/**
 * The shared broker's authenticated listeners when it has them (a broker started by this services-lib),
 * else a private broker on free ports (p: plain, p+1: controller, p+2: mutual TLS, p+3: SASL_SSL), removed by close().
 */
export async function startAuthEnv(log: (line: string) => void = () => undefined): Promise<AuthEnv> {
  const tls = await ensureTestTls(log);
  const shared = endpoints(process.env).kafka;
  let kafka: AuthEnv['kafka'];
  let cleanup: () => Promise<void> = async () => undefined;
  if (shared.tlsPort !== undefined && shared.saslPort !== undefined && (await portOpen(shared.tlsPort)) && (await portOpen(shared.saslPort))) {
    kafka = { plain: `${shared.host}:${shared.port}`, tls: `${shared.host}:${shared.tlsPort}`, sasl: `${shared.host}:${shared.saslPort}`, private: false };
    // The users exist once per data directory; make sure (idempotent, a marker file after the first time).
    await ensureUp(['kafka'], { log });
  } else {
    let p = 39_292;
    while (!(await Promise.all([p, p + 1, p + 2, p + 3].map(async (x) => !(await portOpen(x))))).every(Boolean)) p += 4;
    const env = { ...process.env, SEAM_KAFKA_BROKERS: `127.0.0.1:${p}`, SEAM_KAFKA_CONTROLLER_PORT: String(p + 1), SEAM_KAFKA_TLS_PORT: String(p + 2), SEAM_KAFKA_SASL_PORT: String(p + 3) };
    // A dead run's state under these ports would hold another cluster id: start clean.
    for (const x of [path.join(CACHE, 'kafka', `data-${p}`), path.join(CACHE, 'kafka', `server-${p}.properties`), path.join(CACHE, 'run', `kafka-${p}.pid`)]) fs.rmSync(x, { recursive: true, force: true });
    log(`auth: the shared broker has no authenticated listeners yet (it predates them); starting a private one on ${p}..${p + 3}`);
    await ensureUp(['kafka'], { env, log });
    kafka = { plain: `127.0.0.1:${p}`, tls: `127.0.0.1:${p + 2}`, sasl: `127.0.0.1:${p + 3}`, private: true };
    cleanup = async () => {
      await stop(['kafka'], { env, log });
      for (const x of [path.join(CACHE, 'kafka', `data-${p}`), path.join(CACHE, 'kafka', `server-${p}.properties`)]) fs.rmSync(x, { recursive: true, force: true });
    };
  }
  const opensearchUrl = endpoints(process.env).opensearch.url;
  const basic = await startAuthStub({ upstream: opensearchUrl, tls: { cert: tls.serverCert, key: tls.serverKey }, auth: { type: 'basic', username: OS_USER, password: OS_PASSWORD } });
  const sigv4 = await startAuthStub({ upstream: opensearchUrl, tls: { cert: tls.serverCert, key: tls.serverKey }, auth: { type: 'sigv4', region: 'eu-west-1', service: 'es', keys: { [AWS_KEY]: AWS_SECRET } } });
  return {
    kafka,
    tls,
    opensearchUrl,
    basic,
    sigv4,
    log,
    close: async () => {
      await basic.close();
      await sigv4.close();
      await cleanup();
    },
  };
}

interface SeamRun {
  code: number | null;
  /** The signal that ended the process, when one did (code is then null). */
  signal: NodeJS.Signals | null;
  /** ms from spawn to SIGTERM sent by the harness, and to the 'seam: running' line (undefined: not seen). */
  termAtMs?: number;
  runningAtMs?: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment of a child `seam`: no SEAM_* variable of the test process (they would override seam.yml). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SEAM_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, SEAM_LOG_LEVEL: 'warn', SEAM_KAFKAJS_LOG_LEVEL: 'error', ...extra };
}

/** Runs `seam <args>`; with `until`, sends SIGTERM once it holds (or at the deadline). */
function runSeam(args: string[], env: Record<string, string>, o: { until?: () => Promise<boolean>; timeoutMs: number; onStderr?: (all: string) => void }): Promise<SeamRun> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'seam.mjs'), ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let runningAtMs: number | undefined;
  let termAtMs: number | undefined;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (runningAtMs === undefined && stderr.includes('seam: running ')) runningAtMs = Date.now() - t0;
    o.onStderr?.(stderr);
  });
  let exited = false;
  const done = new Promise<SeamRun>((resolve) => child.on('exit', (code, signal) => ((exited = true), resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, ...(termAtMs === undefined ? {} : { termAtMs }), ...(runningAtMs === undefined ? {} : { runningAtMs }) }))));
  const deadline = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
  void (async () => {
    if (o.until === undefined) return;
    while (!exited && Date.now() - t0 < o.timeoutMs - 15_000) {
      if (await o.until().catch(() => false)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (!exited) {
      termAtMs = Date.now() - t0;
      child.kill('SIGTERM');
    }
  })();
  return done.finally(() => clearTimeout(deadline));
}

async function count(url: string, index: string): Promise<number> {
  const r = await fetch(`${url}/${index}/_count`);
  if (!r.ok) return 0;
  return ((await r.json()) as { count?: number }).count ?? 0;
}

async function indicesWithPrefix(url: string, prefix: string): Promise<string[]> {
  const r = await fetch(`${url}/_cat/indices/${prefix}-*?format=json`);
  if (!r.ok) return [];
  return ((await r.json()) as { index: string }[]).map((i) => i.index);
}

/** What a run left on Kafka (through the plain listener): consumer groups and topics with these prefixes, and records in them. */
async function kafkaFootprint(broker: string, groupPrefix: string, topicPrefix: string): Promise<{ groups: string[]; topics: string[]; records: number }> {
  const bus = new KafkaBus({ brokers: [broker], clientId: 'seam-auth-check' });
  try {
    const admin = await bus.admin();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(groupPrefix));
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    let records = 0;
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) records += Number(p.high);
    return { groups, topics, records };
  } finally {
    await bus.close();
  }
}

function writeConfig(dir: string, name: string, doc: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, doc);
  return f;
}

const fmtMs = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)}s`);
const tail = (s: string, n = 400): string => s.trim().split('\n').filter((l) => !l.startsWith('{')).join(' | ').slice(-n);

export interface ScenarioResult {
  /** The collector and the three roles ran through the authenticated Kafka path and indexed through the OpenSearch one. */
  pipeline: CheckResult;
  /** Wrong Kafka credentials: collect and run fail loudly, nothing committed. */
  kafkaWrong: CheckResult;
  /** Wrong OpenSearch credentials: run fails loudly, nothing committed. */
  opensearchWrong: CheckResult;
}

/**
 * One authenticated pipeline: `seam collect` (the demo files) and `seam run` (normalize, correlate, index) with
 * one seam.yml, then the same with a wrong Kafka credential and with a wrong OpenSearch credential.
 * `kind` 'scram': SASL_SSL SCRAM-SHA-512 + OpenSearch TLS/basic (stub); 'tls': mutual TLS + OpenSearch SigV4 (stub).
 */
export async function runScenario(env: AuthEnv, kind: 'scram' | 'tls'): Promise<ScenarioResult> {
  return (await collectPhase(env, kind))().result;
}

/** The roles' phase of a scenario: `started` resolves once its good `seam run` is running (or has ended). */
export interface RunPhase {
  started: Promise<void>;
  result: Promise<ScenarioResult>;
}

/**
 * The scenario in two steps: the collector now (brokers create topics one request at a time; two collectors
 * creating theirs at once on a just-started broker have been refused with UNKNOWN_TOPIC_OR_PARTITION), the
 * roles and the wrong-credential commands when the returned function is called (those can overlap).
 */
export async function collectPhase(env: AuthEnv, kind: 'scram' | 'tls'): Promise<() => RunPhase> {
  const id = `${kind}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `seam-auth-${kind}-`));
  const topicPrefix = `auth.${id}.`;
  const T = env.tls;
  const kafkaYaml =
    kind === 'scram'
      ? [`  brokers: ['${env.kafka.sasl}']`, `  tls: { caFile: '${T.ca}' }`, `  sasl: { mechanism: scram-sha-512, username: ${KAFKA_TEST_USERS[0]!.name}, password: '\${env:TEST_KAFKA_PASSWORD}' }`]
      : [`  brokers: ['${env.kafka.tls}']`, `  tls: { caFile: '${T.ca}', certFile: '\${env:TEST_CLIENT_CERT}', keyFile: '\${env:TEST_CLIENT_KEY}' }`];
  const osYaml =
    kind === 'scram'
      ? [`  nodeUrls: ['${env.basic.url}']`, `  auth: { type: basic, username: ${OS_USER}, password: '\${env:TEST_OS_PASSWORD}' }`]
      : [`  nodeUrls: ['${env.sigv4.url}']`, '  auth: { type: aws-sigv4, region: eu-west-1, service: es }'];
  const config = (groupPrefix: string, indexPrefix: string): string =>
    writeConfig(
      dir,
      `${groupPrefix}.yml`,
      [
        'kafka:',
        ...kafkaYaml,
        `  topicPrefix: '${topicPrefix}'`,
        `  groupPrefix: '${groupPrefix}.'`,
        '  partitions: { raw: 2, events: 2, signals: 1, alerts: 1 }',
        '  authenticationTimeoutMs: 5000',
        'opensearch:',
        ...osYaml,
        `  tls: { caFile: '${T.ca}' }`,
        `  indexPrefix: ${indexPrefix}`,
        '  replicas: 0',
        '  refreshIntervalMs: 1000',
        // Absolute: relative paths in seam.yml resolve against its folder (this temporary one).
        `rules: { paths: ['${path.join(ROOT, 'detections')}'], placeholdersFile: '${path.join(ROOT, 'deploy/config/placeholders.yml')}' }`,
        'correlate: { idleMs: 1000, pollMs: 200 }',
        'collect:',
        '  sources:',
        `    demo: { type: file, paths: ['${path.join(ROOT, 'deploy/demo')}'], cluster: prod-eks-01 }`,
        '',
      ].join('\n'),
    );
  const good: Record<string, string> =
    kind === 'scram'
      ? { TEST_KAFKA_PASSWORD: KAFKA_TEST_USERS[0]!.password, TEST_OS_PASSWORD: OS_PASSWORD }
      : { TEST_CLIENT_CERT: T.clientCert, TEST_CLIENT_KEY: T.clientKey, AWS_ACCESS_KEY_ID: AWS_KEY, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_REGION: 'eu-west-1' };
  const wrongKafka: Record<string, string> = kind === 'scram' ? { ...good, TEST_KAFKA_PASSWORD: 'not-the-password' } : { ...good, TEST_CLIENT_CERT: T.rogueClientCert, TEST_CLIENT_KEY: T.rogueClientKey };
  const wrongOs: Record<string, string> = kind === 'scram' ? { ...good, TEST_OS_PASSWORD: 'not-the-password' } : { ...good, AWS_SECRET_ACCESS_KEY: 'not-the-secret-key' };
  const stub = kind === 'scram' ? env.basic : env.sigv4;
  const kafkaNeedle = kind === 'scram' ? /SASL SCRAM SHA512 authentication failed/ : /certificate|SSL|TLS|alert/i;
  const osNeedle = kind === 'scram' ? /401|Unauthorized|security_exception/ : /403|security_exception|signature/i;

  // 1. The collector through the authenticated path (the topics then hold what the roles consume).
  const pipeline: CheckResult = { ok: false, details: [] };
  const goodIndex = `auth_${id}`;
  const collect = await runSeam(['collect', '--config', config(`${id}-good`, goodIndex)], good, { timeoutMs: 120_000 });
  const raw = await kafkaFootprint(env.kafka.plain, '-none-', `${topicPrefix}seam.raw.`);
  pipeline.details.push(`${kind}: seam collect exit=${collect.code} raw_records=${raw.records} in ${(collect.ms / 1000).toFixed(1)}s${collect.code === 0 ? '' : ` stderr: ${tail(collect.stderr)}`}`);
  return () => {
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const result = (async (): Promise<ScenarioResult> => {
      try {
        return await rolesPhase();
      } finally {
        // Indices and the index and component templates setupOpenSearch installed under the three prefixes.
        const client = new Client({ node: env.opensearchUrl });
        for (const prefix of [goodIndex, `${goodIndex}_badkafka`, `${goodIndex}_bados`]) await dropPrefix(client, prefix).catch((e: unknown) => env.log(`${kind}: cleanup of ${prefix}-* failed: ${(e as Error).message}`));
        await client.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    })();
    return { started, result };
    async function rolesPhase(): Promise<ScenarioResult> {
      const before = { forwarded: stub.counts.forwarded, refused: stub.counts.refused };

      // 2. At once (they share nothing but the topics): the three roles with good credentials, and the commands with
      // wrong ones — collect (to other topics) and run (other groups and indices) with a wrong Kafka credential,
      // run with a wrong OpenSearch credential while records wait on the topics.
      const badCollectPrefix = `auth.${id}.badcollect.`;
      const [run, badCollect, badRun, badOs] = await Promise.all([
        runSeam(['run', '--config', config(`${id}-good`, goodIndex)], good, {
          timeoutMs: 180_000,
          until: async () => (await count(env.opensearchUrl, `${goodIndex}-alerts-*`)) > 0 && (await count(env.opensearchUrl, `${goodIndex}-events-*`)) >= raw.records,
          onStderr: (all) => {
            if (all.includes('seam: running ')) markStarted();
          },
        }).finally(() => markStarted()),
        runSeam(['collect', '--config', config(`${id}-badkafka`, `${goodIndex}_badkafka`)], { ...wrongKafka, SEAM_TOPIC_PREFIX: badCollectPrefix }, { timeoutMs: 120_000 }),
        runSeam(['run', '--config', config(`${id}-badkafka`, `${goodIndex}_badkafka`)], wrongKafka, { timeoutMs: 120_000 }),
        runSeam(['run', '--config', config(`${id}-bados`, `${goodIndex}_bados`)], wrongOs, { timeoutMs: 120_000 }),
      ]);
      const events = await count(env.opensearchUrl, `${goodIndex}-events-*`);
      const alerts = await count(env.opensearchUrl, `${goodIndex}-alerts-*`);
      const groups = await kafkaFootprint(env.kafka.plain, `${id}-good.`, topicPrefix);
      // A failed run's whole stderr (log lines with stacks) stays in a file for whoever reads the failure.
      const keep = (name: string, r: SeamRun): string => {
        const f = path.join(os.tmpdir(), `seam-auth-${id}-${name}.stderr`);
        fs.writeFileSync(f, r.stderr);
        return f;
      };
      if (run.code !== 0) pipeline.details.push(`${kind}: seam run stderr in ${keep('run', run)}`);
      if (collect.code !== 0) pipeline.details.push(`${kind}: seam collect stderr in ${keep('collect', collect)}`);
      pipeline.details.push(
        `${kind}: seam run (normalize, correlate, index) exit=${run.code}${run.signal ? ` signal=${run.signal}` : ''} (SIGTERM at ${fmtMs(run.termAtMs)}, 'seam: running' at ${fmtMs(run.runningAtMs)}) indexed events=${events} alerts=${alerts} via the ${kind === 'scram' ? 'basic' : 'sigv4'} stub groups=${groups.groups.length} in ${(run.ms / 1000).toFixed(1)}s${run.code === 0 ? '' : ` stderr: ${tail(run.stderr)}`}`,
      );
      pipeline.ok = collect.code === 0 && raw.records > 0 && run.code === 0 && events >= raw.records && alerts > 0 && stub.counts.forwarded > before.forwarded && groups.groups.length >= 3;

      const kafkaWrong: CheckResult = { ok: false, details: [] };
      const kfp = await kafkaFootprint(env.kafka.plain, `${id}-badkafka.`, badCollectPrefix);
      const kIdx = await indicesWithPrefix(env.opensearchUrl, `${goodIndex}_badkafka`);
      kafkaWrong.details.push(
        `${kind}: wrong Kafka credential: collect exit=${badCollect.code} (${(badCollect.ms / 1000).toFixed(1)}s) run exit=${badRun.code} (${(badRun.ms / 1000).toFixed(1)}s) groups=${kfp.groups.length} topics=${kfp.topics.length} indices=${kIdx.length}; says: ${tail(badRun.stderr, 300)}`,
      );
      kafkaWrong.ok =
        badCollect.code !== 0 && badCollect.code !== null && badRun.code !== 0 && badRun.code !== null && kafkaNeedle.test(badRun.stderr) && kafkaNeedle.test(badCollect.stderr) && kfp.groups.length === 0 && kfp.topics.length === 0 && kIdx.length === 0;

      const opensearchWrong: CheckResult = { ok: false, details: [] };
      const ofp = await kafkaFootprint(env.kafka.plain, `${id}-bados.`, topicPrefix);
      const oIdx = await indicesWithPrefix(env.opensearchUrl, `${goodIndex}_bados`);
      opensearchWrong.details.push(
        `${kind}: wrong OpenSearch credential: run exit=${badOs.code} (${(badOs.ms / 1000).toFixed(1)}s) refused=${stub.counts.refused - before.refused} groups=${ofp.groups.length} indices=${oIdx.length}; says: ${tail(badOs.stderr, 300)}`,
      );
      opensearchWrong.ok = badOs.code !== 0 && badOs.code !== null && osNeedle.test(badOs.stderr) && stub.counts.refused > before.refused && ofp.groups.length === 0 && oIdx.length === 0;

      return { pipeline, kafkaWrong, opensearchWrong };
    }
  };
}
