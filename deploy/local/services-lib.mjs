// Local real services for development and Seam's integration tests: Kafka (KRaft, one node), OpenSearch 2.19
// (one node) and moto server (AWS APIs), all on 127.0.0.1, built from Maven Central / PyPI into the git-ignored
// .cache/ folder. No Docker. Plain ESM JavaScript on purpose: it runs before anything is compiled and uses only
// Node's standard library, so `node bin/services.mjs up` works even before `npm ci`.
//
// Public API (used by bin/services.mjs and test/global-setup.ts):
//   endpoints(env)            → where each service is expected
//   probe(name, env)          → true when something healthy answers at that endpoint
//   status(names, env)        → [{ name, url, up, pid }]
//   ensureUp(names, options)  → { started: [names we started], results: [{ name, url, started, ms }] }
//   stop(names, options)      → [names we stopped]  (only processes recorded in .cache/run/<name>.pid)
//   ensureTestTls(log)        → the test CA and certificates under .cache/tls (openssl; made once)
//   KAFKA_TEST_USERS          → the SCRAM users created on the authenticated listener
//
// Kafka's authenticated listeners (beside the plain one): SSL with client certificates required (mutual TLS)
// on SEAM_KAFKA_TLS_PORT and SASL_SSL with SCRAM-SHA-256/512 on SEAM_KAFKA_SASL_PORT, both with a broker
// certificate signed by a test CA generated at setup. The default instance (9092) has them on 9094 and 9095;
// another instance only when the variables are set. The SCRAM users are created after start through the
// broker's admin API (Kafka's own kafka-configs tool class, kafka.admin.ConfigCommand).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const CACHE = path.resolve(process.env.SEAM_CACHE_DIR ?? path.join(ROOT, '.cache'));
export const SERVICE_NAMES = Object.freeze(['kafka', 'opensearch', 'moto']);

const RUN_DIR = path.join(CACHE, 'run');
const LOG_DIR = path.join(CACHE, 'logs');
const M2_REPO = path.join(CACHE, 'm2');
const MOTO_VERSION = '5.2.5';
// Generous: on a busy 2-core machine a cold JVM start can take a minute.
const START_TIMEOUT_MS = { kafka: 180_000, opensearch: 300_000, moto: 120_000 };
const DEFAULT_PORT = { kafka: 9092, opensearch: 9200, moto: 4566 };
const ENV_VAR = { kafka: 'SEAM_KAFKA_BROKERS', opensearch: 'SEAM_OPENSEARCH_URL', moto: 'SEAM_AWS_ENDPOINT' };
// What a live process of ours has on its command line; guards against killing an unrelated process that
// reused a pid recorded in a stale pid file.
const CMDLINE_MARKER = { kafka: 'kafka.Kafka', opensearch: 'SeamOpenSearchNode', moto: 'moto_server' };

/** @param {NodeJS.ProcessEnv} [env] */
export function endpoints(env = process.env) {
  const brokers = (env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
  const kafka = hostPort(brokers[0] ?? '127.0.0.1:9092', 9092);
  const osUrl = stripSlash(env.SEAM_OPENSEARCH_URL ?? 'http://127.0.0.1:9200');
  const awsUrl = stripSlash(env.SEAM_AWS_ENDPOINT ?? 'http://127.0.0.1:4566');
  return {
    kafka: {
      url: brokers.join(','),
      brokers,
      host: kafka.host,
      port: kafka.port,
      controllerPort: Number(env.SEAM_KAFKA_CONTROLLER_PORT ?? kafka.port + 1),
      // Authenticated listeners: on by default only for the default instance (other instances pick free ports).
      tlsPort: optionalPort(env.SEAM_KAFKA_TLS_PORT, kafka.port === DEFAULT_PORT.kafka ? DEFAULT_PORT.kafka + 2 : undefined),
      saslPort: optionalPort(env.SEAM_KAFKA_SASL_PORT, kafka.port === DEFAULT_PORT.kafka ? DEFAULT_PORT.kafka + 3 : undefined),
    },
    opensearch: {
      url: osUrl,
      ...urlHostPort(osUrl, 9200),
      // Transport port follows the HTTP port (9200 → 9300), so a second node on another HTTP port does not collide.
      transportPort: Number(env.SEAM_OPENSEARCH_TRANSPORT_PORT ?? urlHostPort(osUrl, 9200).port + 100),
    },
    moto: { url: awsUrl, ...urlHostPort(awsUrl, 4566) },
  };
}

/** True when a healthy service answers at its endpoint (ours or anyone's). */
export async function probe(name, env = process.env) {
  const ep = endpoints(env)[name];
  try {
    if (name === 'kafka') return await kafkaAnswers(ep.host, ep.port);
    if (name === 'opensearch') {
      const res = await fetch(`${ep.url}/_cluster/health`, { signal: AbortSignal.timeout(2_000) });
      if (!res.ok) return false;
      const body = await res.json();
      return body.status === 'green' || body.status === 'yellow';
    }
    if (name === 'moto') {
      // Any HTTP answer means the emulator is serving; moto answers /moto-api/ with its dashboard.
      const res = await fetch(`${ep.url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return true;
    }
  } catch {
    return false;
  }
  throw new Error(`unknown service "${name}" (known: ${SERVICE_NAMES.join(', ')})`);
}

export async function status(names = SERVICE_NAMES, env = process.env) {
  const eps = endpoints(env);
  return Promise.all(
    checkNames(names).map(async (name) => ({
      name,
      url: eps[name].url,
      up: await probe(name, env),
      pid: livePid(name, env),
    })),
  );
}

/**
 * Starts every named service that is not already answering, provisioning it first if needed (first run:
 * downloads). Resolves when all are healthy; rejects with the tail of the service's log when one fails.
 * @param {readonly string[]} [names]
 * @param {{ env?: NodeJS.ProcessEnv, log?: (line: string) => void }} [options]
 */
export async function ensureUp(names = SERVICE_NAMES, options = {}) {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  checkNames(names);
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const settled = await Promise.allSettled(names.map((name) => ensureOne(name, env, log)));
  const results = [];
  const errors = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') results.push(s.value);
    else errors.push(s.reason);
  }
  if (errors.length > 0) {
    // Missing tools fail several services with the same message: say it once.
    const messages = [...new Set(errors.map((e) => (e instanceof Error ? e.message : String(e))))];
    const err = new Error(messages.join('\n\n'));
    err.results = results;
    // Leave nothing behind: stop what this call started before the failure is reported.
    const startedNames = results.filter((r) => r.started).map((r) => r.name);
    if (startedNames.length > 0 && !options.keepOnFailure) {
      log(`stopping ${startedNames.join(', ')}: another service failed to start`);
      await stop(startedNames, { env, log }).catch(() => undefined);
    }
    throw err;
  }
  return { started: results.filter((r) => r.started).map((r) => r.name), results };
}

/**
 * Stops the named services, but only processes this script started (recorded in .cache/run/<name>.pid).
 * @param {readonly string[]} [names]
 * @param {{ env?: NodeJS.ProcessEnv, log?: (line: string) => void }} [options]
 */
export async function stop(names = SERVICE_NAMES, options = {}) {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const stopped = [];
  await Promise.all(
    checkNames(names).map(async (name) => {
      const pid = livePid(name, env);
      if (pid == null) {
        log(`${name}: not started by seam's scripts; leaving it alone`);
        return;
      }
      const t0 = Date.now();
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (isAlive(pid) && Date.now() < deadline) await sleep(200);
      if (isAlive(pid)) {
        log(`${name}: still running after 30s; sending SIGKILL`);
        signalGroup(pid, 'SIGKILL');
        while (isAlive(pid)) await sleep(100);
      }
      fs.rmSync(pidFile(instanceKey(name, env)), { force: true });
      log(`${name}: stopped (pid ${pid}) in ${secs(Date.now() - t0)}`);
      stopped.push(name);
    }),
  );
  return stopped;
}

// ---------------------------------------------------------------------------------------------------------
// One service

async function ensureOne(name, env, log) {
  const url = endpoints(env)[name].url;
  const key = instanceKey(name, env);
  if (await probe(name, env)) {
    const pid = livePid(name, env);
    log(`${name}: already up at ${url}${pid == null ? ' (not started by seam; using it)' : ` (pid ${pid})`}`);
    // Ours, and started before its post-start step finished (or by an older services-lib): finish it.
    if (pid != null) await POST_START[name]?.(env, log);
    return { name, url, started: false, ms: 0 };
  }
  const release = await acquireLock(key, name, log);
  try {
    // Another process may have started it while we waited for the lock.
    if (await probe(name, env)) {
      log(`${name}: up at ${url} (started by another seam process)`);
      return { name, url, started: false, ms: 0 };
    }
    const stale = livePid(name, env);
    if (stale != null) {
      // Our process is alive but not healthy: maybe still starting from an interrupted run. Give it a chance.
      log(`${name}: pid ${stale} is running but not answering yet; waiting for it`);
      const t0 = Date.now();
      await waitHealthy(name, env, stale, logSize(key), START_TIMEOUT_MS[name]);
      log(`${name}: up in ${secs(Date.now() - t0)}`);
      return { name, url, started: false, ms: Date.now() - t0 };
    }
    const { host, port } = endpoints(env)[name];
    if (await portInUse(host, port)) {
      throw new Error(`${name}: ${host}:${port} is in use by something that does not answer as ${name}; stop it or point ${ENV_VAR[name]} elsewhere`);
    }
    const t0 = Date.now();
    await PROVISION[name](env, log);
    const tStart = Date.now();
    const pid = await START[name](env, log);
    await waitHealthy(name, env, pid, logSize(key), START_TIMEOUT_MS[name]);
    await POST_START[name]?.(env, log);
    const ms = Date.now() - t0;
    const provisionNote = tStart - t0 > 1_000 ? ` (provisioning ${secs(tStart - t0)}, start ${secs(Date.now() - tStart)})` : '';
    log(`${name}: up in ${secs(ms)} at ${url}${provisionNote}`);
    return { name, url, started: true, ms };
  } finally {
    release();
  }
}

async function waitHealthy(name, env, pid, logOffset, timeoutMs) {
  const key = instanceKey(name, env);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe(name, env)) return;
    if (!isAlive(pid)) {
      fs.rmSync(pidFile(key), { force: true });
      throw new Error(`${name}: process ${pid} exited before it was healthy. Last lines of ${logFile(key)}:\n${tailLog(key, logOffset)}`);
    }
    await sleep(250);
  }
  throw new Error(`${name}: not healthy after ${secs(timeoutMs)} (pid ${pid} left running; \`npm run services:down\` stops it). Last lines of ${logFile(key)}:\n${tailLog(key, logOffset)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Provisioning (idempotent; a stamp file records the hash of the inputs that produced the cache)

const mavenLock = { tail: Promise.resolve() };

const PROVISION = {
  async kafka(_env, log) {
    requireTool('java', ['-version'], 'java not found: install a Java 17+ JDK (Debian: apt-get install openjdk-17-jdk-headless)');
    const dir = path.join(CACHE, 'kafka');
    const pom = path.join(HERE, 'kafka', 'pom.xml');
    const stamp = hashFiles([pom]);
    if (readStamp(dir) === stamp) return;
    requireTool('mvn', ['-v'], 'mvn not found: install Apache Maven 3.8+ (Debian: apt-get install maven)');
    log('kafka: downloading jars from Maven Central (first run, ~30 s)…');
    await serialMaven(() =>
      runLogged('kafka', 'mvn', [
        '-q', '-B', `-Dmaven.repo.local=${M2_REPO}`, '-f', pom,
        'dependency:copy-dependencies', `-DoutputDirectory=${path.join(dir, 'lib.new')}`, '-DincludeScope=runtime',
      ]),
    );
    swapDir(path.join(dir, 'lib.new'), path.join(dir, 'lib'));
    writeStamp(dir, stamp);
  },

  async opensearch(_env, log) {
    requireTool('java', ['-version'], 'java not found: install a Java 17+ JDK (Debian: apt-get install openjdk-17-jdk-headless)');
    const dir = path.join(CACHE, 'opensearch');
    const pom = path.join(HERE, 'opensearch', 'pom.xml');
    const stamp = hashFiles([pom, ...listFiles(path.join(HERE, 'opensearch', 'src'))]);
    if (readStamp(dir) === stamp) return;
    requireTool('mvn', ['-v'], 'mvn not found: install Apache Maven 3.8+ (Debian: apt-get install maven)');
    log('opensearch: downloading jars from Maven Central and compiling the launcher (first run, ~1 min)…');
    await serialMaven(() =>
      runLogged('opensearch', 'mvn', [
        '-q', '-B', `-Dmaven.repo.local=${M2_REPO}`, `-Dseam.cache=${CACHE}`, '-f', pom,
        'compile', 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(dir, 'lib.new')}`, '-DincludeScope=runtime',
      ]),
    );
    swapDir(path.join(dir, 'lib.new'), path.join(dir, 'lib'));
    writeStamp(dir, stamp);
  },

  async moto(_env, log) {
    const dir = path.join(CACHE, 'moto');
    const venv = path.join(dir, 'venv');
    const stamp = `moto[server]==${MOTO_VERSION}`;
    if (readStamp(dir) === stamp && fs.existsSync(path.join(venv, 'bin', 'moto_server'))) return;
    requireTool('python3', ['--version'], 'python3 not found: install Python 3.9+ (Debian: apt-get install python3 python3-venv)');
    log(`moto: installing moto[server]==${MOTO_VERSION} into a virtualenv (first run, ~1 min)…`);
    fs.rmSync(venv, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    try {
      await runLogged('moto', 'python3', ['-m', 'venv', venv]);
    } catch (e) {
      throw new Error(`${e.message}\nmoto: python3 could not create a virtualenv: install the venv module (Debian: apt-get install python3-venv)`);
    }
    await runLogged('moto', path.join(venv, 'bin', 'python'), [
      // --no-compile: byte-compiling every installed module (botocore alone has thousands) costs ~30% of the
      // install; Python compiles the few modules moto imports on first use instead.
      '-m', 'pip', 'install', '--quiet', '--no-compile', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`,
    ]);
    writeStamp(dir, stamp);
  },
};

// ---------------------------------------------------------------------------------------------------------
// Starting (detached, stdio to .cache/logs/<name>.log, pid to .cache/run/<name>.pid)

const START = {
  async kafka(env, log) {
    const ep = endpoints(env).kafka;
    const dir = path.join(CACHE, 'kafka');
    const key = instanceKey('kafka', env);
    // One data directory per broker port, so a second instance (other SEAM_KAFKA_BROKERS) never shares it.
    const dataDir = path.join(dir, key === 'kafka' ? 'data' : `data-${ep.port}`);
    const props = path.join(dir, key === 'kafka' ? 'server.properties' : `server-${ep.port}.properties`);
    const tls = ep.tlsPort !== undefined || ep.saslPort !== undefined ? await ensureTestTls(log) : undefined;
    fs.writeFileSync(props, kafkaProperties(ep, dataDir, tls));
    const cp = `${path.join(dir, 'lib')}${path.sep}*`;
    const log4j = `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.properties')}`;
    if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
      log('kafka: formatting KRaft storage');
      await runLogged(key, 'java', [
        log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '--standalone', '--ignore-formatted',
        '-t', kafkaClusterId(), '-c', props,
      ]);
    }
    log(`kafka: starting broker on ${ep.host}:${ep.port} (controller on ${ep.host}:${ep.controllerPort})`);
    const heap = (env.SEAM_KAFKA_JAVA_OPTS ?? '-Xms256m -Xmx512m').split(/\s+/).filter(Boolean);
    return spawnDetached(key, 'java', [...heap, log4j, '-cp', cp, 'kafka.Kafka', props], dir);
  },

  async opensearch(env, log) {
    const ep = endpoints(env).opensearch;
    const dir = path.join(CACHE, 'opensearch');
    const key = instanceKey('opensearch', env);
    const home = path.join(dir, key === 'opensearch' ? 'home' : `home-${ep.port}`);
    fs.mkdirSync(path.join(home, 'config'), { recursive: true });
    fs.copyFileSync(path.join(HERE, 'opensearch', 'log4j2.properties'), path.join(home, 'config', 'log4j2.properties'));
    const cp = [path.join(dir, 'target', 'classes'), `${path.join(dir, 'lib')}${path.sep}*`].join(path.delimiter);
    log(`opensearch: starting node on ${ep.host}:${ep.port}`);
    const heap = (env.SEAM_OPENSEARCH_JAVA_OPTS ?? '-Xms512m -Xmx1g').split(/\s+/).filter(Boolean);
    return spawnDetached(
      key,
      'java',
      [...heap, '-Dfile.encoding=UTF-8', '-Djava.awt.headless=true', '-cp', cp, 'dev.seam.local.SeamOpenSearchNode',
        home, ep.host, String(ep.port), String(ep.transportPort)],
      dir,
    );
  },

  async moto(env, log) {
    const ep = endpoints(env).moto;
    const dir = path.join(CACHE, 'moto');
    log(`moto: starting server on ${ep.host}:${ep.port}`);
    return spawnDetached(instanceKey('moto', env), path.join(dir, 'venv', 'bin', 'moto_server'), ['-H', ep.host, '-p', String(ep.port)], dir);
  },
};

function kafkaProperties(ep, dataDir, tls) {
  const auth = [];
  if (ep.tlsPort !== undefined) auth.push(['SSL', ep.tlsPort]);
  if (ep.saslPort !== undefined) auth.push(['SASL_SSL', ep.saslPort]);
  const extra = auth.map(([n, p]) => `,${n}://${ep.host}:${p}`).join('');
  return [
    '# Written by deploy/local/services-lib.mjs on every start; edit that file, not this one.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${ep.host}:${ep.controllerPort}`,
    `listeners=PLAINTEXT://${ep.host}:${ep.port},CONTROLLER://${ep.host}:${ep.controllerPort}${extra}`,
    `advertised.listeners=PLAINTEXT://${ep.host}:${ep.port}${extra}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${auth.map(([n]) => `,${n}:${n}`).join('')}`,
    ...(tls
      ? [
          // PEM stores: the broker's key and certificate (signed by the test CA), and that CA as the trust store.
          'ssl.keystore.type=PEM',
          `ssl.keystore.location=${tls.serverPem}`,
          'ssl.truststore.type=PEM',
          `ssl.truststore.location=${tls.ca}`,
          // The SSL listener authenticates clients by certificate; SASL_SSL by SCRAM password.
          'listener.name.ssl.ssl.client.auth=required',
          'sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
          'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
          'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        ]
      : []),
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    // One node: every internal topic has one replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join and leave consumer groups often; do not wait 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** SCRAM users of the SASL_SSL listener (local test credentials, not secrets). */
export const KAFKA_TEST_USERS = Object.freeze([{ name: 'seam', password: 'seam-local-scram-password' }]);

const POST_START = {
  async kafka(env, log) {
    const ep = endpoints(env).kafka;
    if (ep.saslPort === undefined) return;
    // Through the running broker's admin API (AlterUserScramCredentials), as an operator would with kafka-configs.sh.
    const cp = `${path.join(CACHE, 'kafka', 'lib')}${path.sep}*`;
    const log4j = `-Dlog4j2.configurationFile=${path.join(HERE, 'kafka', 'log4j2.properties')}`;
    // The credentials live in the cluster metadata (the data directory): a marker there says they were made.
    const key = instanceKey('kafka', env);
    const marker = path.join(CACHE, 'kafka', key === 'kafka' ? 'data' : `data-${ep.port}`, 'seam-scram-users');
    const want = JSON.stringify(KAFKA_TEST_USERS);
    if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === want) return;
    for (const u of KAFKA_TEST_USERS) {
      // One mechanism per request: the broker refuses two changes of one user in one request.
      for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        await runLogged(key, 'java', [
          log4j, '-cp', cp, 'kafka.admin.ConfigCommand', '--bootstrap-server', `${ep.host}:${ep.port}`,
          '--alter', '--add-config', `${mech}=[password=${u.password}]`, '--entity-type', 'users', '--entity-name', u.name,
        ]);
      }
    }
    fs.writeFileSync(marker, want);
    log(`kafka: SCRAM users ${KAFKA_TEST_USERS.map((u) => u.name).join(', ')} on SASL_SSL ${ep.host}:${ep.saslPort}; mutual TLS on ${ep.host}:${ep.tlsPort ?? '(off)'}`);
  },
};

/**
 * The test CA and certificates (openssl), made once under .cache/tls: the CA, a server certificate for
 * 127.0.0.1/localhost (Kafka's listeners, the OpenSearch TLS front), a client certificate signed by the CA
 * (mutual TLS), and a second, unrelated CA with its own client certificate (what a wrong certificate looks like).
 * @param {(line: string) => void} [log]
 */
export async function ensureTestTls(log = () => undefined) {
  const dir = path.join(CACHE, 'tls');
  const f = (n) => path.join(dir, n);
  const files = {
    dir,
    ca: f('ca.pem'),
    serverPem: f('server.pem'),
    serverKey: f('server.key'),
    serverCert: f('server.crt'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueCa: f('rogue-ca.pem'),
    rogueClientCert: f('rogue-client.crt'),
    rogueClientKey: f('rogue-client.key'),
  };
  if (fs.existsSync(f('done'))) return files;
  requireTool('openssl', ['version'], 'openssl not found: install it (Debian: apt-get install openssl)');
  log('tls: generating the test CA and certificates (openssl)');
  // Made in a private folder and renamed into place, so two processes starting at once never see half a set.
  const work = `${dir}.tmp-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const w = (n) => path.join(work, n);
  const ossl = (...args) => {
    const r = spawnSync('openssl', args, { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  const ca = (name, cn) => ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', `/CN=${cn}`);
  const leaf = (name, cn, caName, ext) => {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    fs.writeFileSync(w(`${name}.ext`), ext);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '3650', '-extfile', `${name}.ext`);
  };
  ca('ca', 'Seam local test CA');
  leaf('server', '127.0.0.1', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'seam', 'ca', 'extendedKeyUsage=clientAuth\n');
  ca('rogue-ca', 'Not the Seam test CA');
  leaf('rogue-client', 'seam', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  fs.writeFileSync(w('server.pem'), fs.readFileSync(w('server.key'), 'utf8') + fs.readFileSync(w('server.crt'), 'utf8'));
  fs.writeFileSync(w('done'), new Date().toISOString());
  try {
    fs.renameSync(work, dir);
  } catch {
    // Another process got there first: use its set.
    fs.rmSync(work, { recursive: true, force: true });
  }
  return files;
}

/**
 * Kafka cluster ids are 16 random bytes, URL-safe base64 without padding (what `StorageTool random-uuid` prints).
 * Never one that starts with '-': `kafka-storage format -t -2zn…` reads it as an option and fails ("argument
 * --cluster-id/-t: expected one argument") — 1 format in 64 (Kafka's own Uuid.randomUuid skips those too).
 */
function kafkaClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Kafka answers an ApiVersions (v0) request on its broker listener and lists Produce; a controller does not. */
function kafkaAnswers(host, port) {
  return new Promise((resolve) => {
    const clientId = Buffer.from('seam-services');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    body.writeInt16BE(18, 0); // ApiVersions
    body.writeInt16BE(0, 2); // version 0
    body.writeInt32BE(7, 4); // correlation id
    body.writeInt16BE(clientId.length, 8);
    clientId.copy(body, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    let buf = Buffer.alloc(0);
    const sock = net.connect({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
    sock.on('connect', () => sock.write(Buffer.concat([size, body])));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      if (buf.readInt32BE(4) !== 7 || buf.readInt16BE(8) !== 0) return done(false);
      const count = buf.readInt32BE(10);
      for (let i = 0; i < count; i++) if (buf.readInt16BE(14 + i * 6) === 0) return done(true);
      done(false);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Processes, pid files, logs, locks

function portInUse(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (used) => {
      sock.destroy();
      resolve(used);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('connect', () => done(true));
    sock.on('error', () => done(false));
  });
}

function spawnDetached(name, cmd, args, cwd) {
  const out = fs.openSync(logFile(name), 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} seam services: ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', out, out], env: process.env });
  fs.closeSync(out);
  if (child.pid == null) throw new Error(`${name}: could not start ${cmd}`);
  child.on('error', () => {}); // surfaced by the exit check in waitHealthy
  child.unref();
  fs.writeFileSync(pidFile(name), `${child.pid}\n`);
  return child.pid;
}

/** Runs a provisioning command with output to the service's log; rejects with the log tail on failure. */
function runLogged(name, cmd, args) {
  return new Promise((resolve, reject) => {
    const offset = logSize(name);
    const out = fs.openSync(logFile(name), 'a');
    fs.writeSync(out, `\n===== ${new Date().toISOString()} seam services: ${cmd} ${args.join(' ')}\n`);
    const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.on('error', (e) => reject(new Error(`${name}: could not run ${cmd}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name}: \`${cmd} ${args.slice(0, 3).join(' ')} …\` failed (${signal ?? `exit ${code}`}). Last lines of ${logFile(name)}:\n${tailLog(name, offset)}`));
    });
  });
}

function serialMaven(fn) {
  // Two Maven runs sharing one local repository can corrupt downloads; run them one after the other.
  const next = mavenLock.tail.then(fn, fn);
  mavenLock.tail = next.catch(() => {});
  return next;
}

function requireTool(cmd, args, message) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.error || r.status !== 0) throw new Error(message);
}

async function acquireLock(key, name, log) {
  const lock = path.join(RUN_DIR, `${key}.lock`);
  let waited = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (!waited) log(`${name}: another process (pid ${owner}) is starting it; waiting`);
      waited = true;
      await sleep(500);
    }
  }
}

/**
 * Run-state files are per service *instance*: `kafka` for the default port, `kafka-19092` for another, so a
 * second set of services (e.g. a CI run beside a developer's) never touches the first one's pid, log or data.
 */
function instanceKey(name, env) {
  const port = endpoints(env)[name].port;
  return port === DEFAULT_PORT[name] ? name : `${name}-${port}`;
}

function pidFile(key) {
  return path.join(RUN_DIR, `${key}.pid`);
}

function logFile(key) {
  return path.join(LOG_DIR, `${key}.log`);
}

/** The pid recorded for a service if that process is alive and is still ours; cleans up stale pid files. */
function livePid(name, env) {
  const key = instanceKey(name, env);
  let pid;
  try {
    pid = Number(fs.readFileSync(pidFile(key), 'utf8').trim());
  } catch {
    return null;
  }
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    cmdline = isAlive(pid) ? CMDLINE_MARKER[name] : ''; // no /proc (macOS): trust a live pid
  }
  if (Number.isInteger(pid) && pid > 0 && cmdline.includes(CMDLINE_MARKER[name])) return pid;
  fs.rmSync(pidFile(key), { force: true });
  return null;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) is not alive for our purposes.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function signalGroup(pid, signal) {
  // Each service is a process-group leader (spawned detached); signal the group so children go too.
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function logSize(key) {
  try {
    return fs.statSync(logFile(key)).size;
  } catch {
    return 0;
  }
}

function tailLog(key, offset = 0, lines = 40) {
  try {
    const text = fs.readFileSync(logFile(key), 'utf8').slice(offset);
    return text.trimEnd().split('\n').slice(-lines).map((l) => `  | ${l}`).join('\n');
  } catch {
    return '  | (no log)';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function readStamp(dir) {
  try {
    return fs.readFileSync(path.join(dir, '.provisioned'), 'utf8').trim();
  } catch {
    return null;
  }
}

function writeStamp(dir, stamp) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '.provisioned'), `${stamp}\n`);
}

function swapDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.renameSync(from, to);
}

function hashFiles(files) {
  const h = createHash('sha256');
  for (const f of [...files].sort()) h.update(f.slice(HERE.length)).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? d.path, d.name));
}

function checkNames(names) {
  for (const n of names) {
    if (!SERVICE_NAMES.includes(n)) throw new Error(`unknown service "${n}" (known: ${SERVICE_NAMES.join(', ')})`);
  }
  return [...names];
}

function hostPort(s, defaultPort) {
  const i = s.lastIndexOf(':');
  if (i < 0) return { host: s, port: defaultPort };
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

function urlHostPort(url, defaultPort) {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : defaultPort };
}

function optionalPort(v, fallback) {
  if (v === undefined || v === '') return fallback;
  if (v === 'off') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`expected a port number or off (got '${v}')`);
  return n;
}

function stripSlash(s) {
  return s.replace(/\/+$/, '');
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function secs(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}
