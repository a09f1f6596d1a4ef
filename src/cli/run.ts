import { existsSync } from 'node:fs';
import type { Alert } from '../detect/alert.ts';
import { notifiable } from '../detect/fold.ts';
import type { Deliverer } from '../sinks/delivery/deliverer.ts';
import type { OpenSearchSink as Sink } from '../sinks/opensearch/sink.ts';
import type { KafkaConfig } from '../core/config/schema.ts';
import type { LoadedConfig } from '../core/config/load.ts';
import type { InputPath } from '../sources/file/source.ts';
import type { AlertTiming } from '../pipeline/roles/correlate.ts';
import { flushLogs, logFormat, redactUrlCredentials } from '../core/logger.ts';
import { alertText } from './alert-line.ts';
import { unreadableInputs } from './input-check.ts';
import { loadCliConfig, sameNameClusters } from './config.ts';
import { formatSummary } from './replay.ts';
import { listenForStop, type StopSignal } from './stop-signal.ts';
import { detectionOptions, seedsOf } from './detection-options.ts';
import { isConnectionFailure, kafkaUnreachable, openSearchUnreachable, settingOrigin } from './unreachable.ts';
import { expectedSourceDelays } from '../pipeline/expected-delay.ts';

export interface RunCliOptions {
  role?: string;
  input?: string[];
  /** Rule files or folders (--rules, repeatable); default seam.yml's rules.paths (`detections`). */
  rules?: string[];
  stateDir: string;
  placeholders?: string;
  cluster?: string;
  /** Alert delivery config file (docs/alert-delivery.md). */
  delivery?: string;
  /** Metrics and health listener (host:port); default SEAM_METRICS_ADDR, else off. */
  metricsAddr?: string;
  /** seam.yml (default SEAM_CONFIG); SEAM_* variables apply with or without it. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  /** Embedded mode: continue from `<stateDir>/identity-state.jsonl` and save it again; append to the output files (ADR 0044). */
  resume?: boolean;
  /** `--seed FILE[=CLUSTER]`, repeatable: snapshots the identity graph starts from, after seam.yml's identity.seeds. */
  seed?: string[];
}

/** The bundled demo dataset: what `npm start` replays on a fresh machine. */
export const DEMO_DATASET = 'deploy/demo';
/** The demo's site configuration: its cluster, and the placeholder values its rules expect. */
export const DEMO_CLUSTER = 'prod-eks-01';
export const DEMO_PLACEHOLDERS = 'deploy/config/placeholders.yml';

/** " (TLS, SASL scram-sha-512 as seam)" for log lines: how Seam authenticates, never with what. */
export function describeKafkaAuth(k: KafkaConfig): string {
  const parts: string[] = [];
  if (k.tls?.enabled) parts.push(k.tls.certFile ? 'mutual TLS' : 'TLS');
  if (k.sasl) parts.push(k.sasl.mechanism === 'aws-msk-iam' ? `MSK IAM (${k.sasl.region})` : `SASL ${k.sasl.mechanism} as ${k.sasl.username}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

const ROLES = ['normalize', 'correlate', 'index', 'deliver'] as const;

/** The deliverer a delivery config file describes (outputs built, suppressions read), or undefined without one. */
async function delivererFrom(file: string | undefined): Promise<Deliverer | undefined> {
  if (file === undefined) return undefined;
  const { loadDeliveryConfig, buildOutputs } = await import('../sinks/registry.ts');
  const { Deliverer } = await import('../sinks/delivery/deliverer.ts');
  const config = loadDeliveryConfig(file);
  return new Deliverer(config, buildOutputs(config));
}

function printAlert(a: Alert): void {
  process.stdout.write(alertText(a));
}

/**
 * `seam run`. With SEAM_KAFKA_BROKERS: the roles (`--role`, or all three) run against Kafka until
 * SIGTERM/SIGINT. Without: embedded mode, the same roles over an in-memory bus, replaying files (the
 * demo dataset by default) and writing events, alerts and dead letters under `--state-dir`,
 * printing alerts as they fire.
 */
export async function runCommand(o: RunCliOptions): Promise<number> {
  if (o.role !== undefined && !(ROLES as readonly string[]).includes(o.role)) {
    process.stderr.write(`seam: unknown role '${o.role}' (expected one of ${ROLES.join(', ')})\n`);
    return 2;
  }
  const loaded = await loadCliConfig(o.config, o.env ?? process.env);
  if (loaded === undefined) return 2;
  // Two clusters of one name in two accounts would be one cluster to the identity graph (review-platsec H2).
  const sameName = sameNameClusters(loaded.config);
  for (const w of sameName.warn) process.stderr.write(`seam: warning: ${w}\n`);
  if (sameName.refuse.length > 0) {
    for (const r of sameName.refuse) process.stderr.write(`seam: refused: ${r}\n`);
    return 2;
  }
  const cfg = loaded.config;
  if (cfg.kafka && o.resume) {
    process.stderr.write('seam: --resume is for embedded mode; on Kafka the identity graph and the behavioural baselines are kept on seam.identity and restored at every start (ADR 0011)\n');
    return 2;
  }
  if (cfg.kafka) return runOnKafka(o, loaded);
  if (o.role) {
    process.stderr.write(`seam: --role ${o.role} runs against Kafka; set SEAM_KAFKA_BROKERS (e.g. 127.0.0.1:9092), or omit --role to run embedded.\n`);
    return 2;
  }
  // Without --input, seam.yml's file sources are the inputs (review newuser2 M7), each path with its source's cluster
  // and account (several clusters in one run, merged by event time); the demo only when there are none.
  const fileSources = o.input === undefined ? Object.entries(cfg.collect?.sources ?? {}).flatMap(([name, src]) => (src.type === 'file' ? [{ name, src }] : [])) : [];
  const demo = o.input === undefined && fileSources.length === 0;
  if (demo) process.stderr.write('seam: no --input and no file sources in seam.yml: replaying the bundled demo\n');
  const inputs: InputPath[] =
    o.input ??
    (demo
      ? [DEMO_DATASET]
      : fileSources.flatMap(({ src }) => src.paths.map((path) => ({ path, ...(src.cluster !== undefined ? { cluster: src.cluster } : {}), ...(src.account !== undefined ? { account: src.account } : {}) }))));
  const rulePaths = o.rules ?? cfg.rules.paths;
  const haveRules = rulePaths.some((p) => existsSync(p));
  const placeholdersFile = o.placeholders ?? cfg.rules.placeholdersFile ?? (demo && existsSync(DEMO_PLACEHOLDERS) ? DEMO_PLACEHOLDERS : undefined);
  // For records of inputs that name no cluster (a source's own `cluster` wins).
  const cluster = o.cluster ?? cfg.cluster ?? (demo ? DEMO_CLUSTER : undefined);
  const shown = inputs.map((p) => (typeof p === 'string' ? p : `${p.path}${p.cluster !== undefined || p.account !== undefined ? ` (${[p.cluster !== undefined ? `cluster ${p.cluster}` : '', p.account !== undefined ? `account ${p.account}` : ''].filter(Boolean).join(', ')})` : ''}`));
  // A missing input is said before the rules take their seconds to load, with the code and exit the replay gives.
  const inputProblem = await unreadableInputs(inputs);
  if (inputProblem !== undefined) {
    process.stderr.write(`seam: ${inputProblem}\n`);
    return 1;
  }
  process.stderr.write(
    `seam: embedded mode (no Kafka configured); replaying ${shown.join(', ')}${haveRules ? ` with the rules in ${rulePaths.join(', ')}` : ''}${o.resume ? `; resuming from ${o.stateDir}` : ''}\n`,
  );
  // The delivery file first: a mistake in it stops the command before the rules take their seconds to load.
  const deliverer = await delivererFrom(o.delivery ?? cfg.delivery);
  const { loadDetection } = await import('../pipeline/detection.ts');
  const { runEmbedded } = await import('../pipeline/embedded.ts');
  // Native cross-plane detections always run; Sigma rules when the folder exists.
  let detection: Awaited<ReturnType<typeof loadDetection>>;
  try {
    detection = await loadDetection(await detectionOptions(cfg, rulePaths, placeholdersFile, o.rules !== undefined, { seeds: seedsOf(cfg, o.seed), ...(cluster ? { cluster } : {}) }));
  } catch (e) {
    if ((e as { code?: string }).code !== 'SEAM_ERR_SEED') throw e;
    process.stderr.write(`seam: SEAM_ERR_SEED: ${(e as Error).message}\n`);
    return 2;
  }
  for (const f of detection.seeds.files) process.stderr.write(`seam: identity graph seeded from ${f.path}: ${f.facts} ${f.kind} facts${f.cluster === '' ? '' : ` (cluster ${f.cluster})`}\n`);
  const alerts: Alert[] = [];
  let result: Awaited<ReturnType<typeof runEmbedded>>;
  try {
    result = await runEmbedded({
      ...(deliverer ? { deliverer } : {}),
      ...(o.resume ? { resume: true } : {}),
      paths: inputs,
      stateDir: o.stateDir,
      detection,
      maxRecordBytes: 1024 * 1024,
      ...(cluster ? { cluster } : {}),
      onAlert: (a, info) => {
        alerts.push(a);
        // A GuardDuty finding's later version at a level already shown updates its alert (ADR 0046): not printed again.
        if (info.update !== true && notifiable(a)) printAlert(a);
      },
    });
  } catch (e) {
    // A state file that cannot be resumed from: one line naming it, nothing written (it is read first).
    const code = (e as { code?: string }).code;
    if (code === 'SEAM_ERR_STATE_LOAD' || code === 'SEAM_ERR_STATE_LOCKED') {
      process.stderr.write(`seam: ${code}: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
  const { summary, paths, identityState } = result;
  // Then the story: the incidents the index holds (who acted, really; split where they went quiet), worst first.
  const { incidentsFrom, formatIncident } = await import('../pipeline/incident.ts');
  const incidents = incidentsFrom(alerts, detection.incidentCloseAfterMs);
  const serious = incidents.filter((i) => i.level === 'critical' || i.level === 'high');
  const rest = incidents.length - serious.length;
  if (serious.length > 0) process.stdout.write(`\n${serious.map(formatIncident).join('\n\n')}\n${rest > 0 ? `\n${rest} more incident${rest === 1 ? '' : 's'} below high: ${incidents.filter((i) => !serious.includes(i)).map((i) => `${i.id} [${i.level}]`).join(', ')}\n` : ''}\n`);
  process.stdout.write(`${formatSummary(summary, { dlqPath: paths.dlq, detection: true })}\n`);
  process.stdout.write(`  ${o.resume ? 'appended to' : 'written'}: ${paths.events}, ${paths.alerts}, ${paths.identity}, ${paths.incidents}${placeholdersFile ? `; placeholders from ${placeholdersFile}` : ''}\n`);
  if (identityState) {
    const from = identityState.found ? `resumed from ${identityState.loaded} identity versions` : 'no identity state yet (first resumed run: baselines start learning)';
    process.stdout.write(`  identity state: ${from}; saved ${identityState.saved} to ${identityState.path} (${identityState.expired} expired left out)\n`);
  }
  // One page per serious incident, beside the events and alerts it is drawn from (`seam report incident` redraws one).
  if (serious.length > 0) {
    const { pagesForRun, writeIncidentPages } = await import('./report.ts');
    const pages = await writeIncidentPages(await pagesForRun(o.stateDir, serious, haveRules ? rulePaths : undefined), o.stateDir);
    for (const p of pages) process.stdout.write(`  incident page: ${p}\n`);
  }
  if (deliverer) process.stdout.write(`  delivery: ${JSON.stringify(deliverer.stats)}\n`);
  if (!haveRules) process.stdout.write(`  no rules folder at ${rulePaths.join(', ')}: only the native cross-plane detections ran\n`);
  return 0;
}

async function runOnKafka(o: RunCliOptions, loaded: LoadedConfig): Promise<number> {
  // From the first line: a SIGTERM while the roles start must stop them gracefully too (src/cli/stop-signal.ts).
  const stop = listenForStop('seam');
  // A long-running process: a WARN line per error code at most every 10 s (dead letters, failed batches; review-ops L1).
  (await import('../core/counters.ts')).logCountedErrors();
  try {
    return await runRolesOnKafka(o, loaded, stop);
  } finally {
    stop.dispose();
  }
}

async function runRolesOnKafka(o: RunCliOptions, loaded: LoadedConfig, stop: StopSignal): Promise<number> {
  const cfg = loaded.config;
  const kafka = cfg.kafka!;
  // kafka.ts first: it patches kafkajs before anything else loads it.
  const { KafkaBus } = await import('../bus/kafka.ts');
  const { kafkaBusOptions } = await import('../bus/kafka-config.ts');
  const { loadDetection } = await import('../pipeline/detection.ts');
  const { startKafkaRoles } = await import('../pipeline/kafka-roles.ts');
  const { pipelineTopics } = await import('../pipeline/topics.ts');
  const deliverer = await delivererFrom(o.delivery ?? cfg.delivery);
  if (o.role === 'deliver' && deliverer === undefined) {
    process.stderr.write('seam: --role deliver needs --delivery <file> (docs/alert-delivery.md)\n');
    return 2;
  }
  // Every role by default; deliver only when a delivery config is given.
  const roles = o.role ? [o.role as (typeof ROLES)[number]] : ROLES.filter((r) => r !== 'deliver' || deliverer !== undefined);
  const bus = new KafkaBus(kafkaBusOptions(kafka, roles.join('-')));
  const topics = pipelineTopics(kafka.topicPrefix);
  // The listener first, so /healthz answers and /readyz says 503 while the roles connect and join.
  const { metricsAddress } = await import('../core/listen-address.ts');
  const addr = metricsAddress(o.metricsAddr, {}, cfg.metrics.addr);
  const metrics = addr === undefined ? undefined : new (await import('../core/metrics.ts')).MetricsServer();
  // Filled once the roles run; the listener answers (not ready) before.
  const live: { running?: Awaited<ReturnType<typeof startKafkaRoles>> } = {};
  let sink: Sink | undefined;
  let closeProbe: (() => Promise<void>) | undefined;
  let alertHook: ((a: Alert, info: AlertTiming) => void) | undefined;
  if (metrics && addr) {
    metrics.addReadiness({ name: 'roles', check: () => (live.running === undefined ? `starting ${roles.join(', ')} (loading rules, creating topics, joining groups)` : undefined) });
    const bound = await metrics.listen(addr);
    say(`metrics and health on http://${bound.host}:${bound.port}/metrics, /healthz, /readyz`);
  }
  const stopEarly = async (code: number, message: string): Promise<number> => {
    process.stderr.write(`seam: ${message}\n`);
    await sink?.close().catch(() => undefined);
    await closeProbe?.();
    await bus.close().catch(() => undefined);
    await metrics?.close();
    return code;
  };
  // A stop asked for before the roles start: nothing was consumed, so nothing is left to drain or commit.
  const stoppedBeforeStart = (): Promise<number> => stopEarly(0, `${stop.signal} before the roles started: stopped (nothing consumed, nothing committed)`);
  // Connect (and authenticate) before anything else, so wrong credentials stop the command with one clear line.
  try {
    await bus.connect();
  } catch (e) {
    await flushLogs();
    return stopEarly(1, kafkaUnreachable(kafka.brokers, settingOrigin(loaded, 'kafka.brokers'), describeKafkaAuth(kafka), e));
  }
  if (stop.signal) return stoppedBeforeStart();
  // OpenSearch before the rules: a wrong credential or an unreachable node stops the command at once.
  if (roles.includes('index')) {
    const { OpenSearchSink } = await import('../sinks/opensearch/sink.ts');
    const { setupOpenSearch } = await import('../sinks/opensearch/setup.ts');
    const { createOpenSearchClient } = await import('../sinks/opensearch/client.ts');
    // A short flush interval unless configured: each index member waits for its batch's acks before fetching more (bench/pipeline.ts).
    const setFlush = (loaded.input.opensearch as { flushIntervalMs?: unknown } | undefined)?.flushIntervalMs !== undefined;
    sink = await OpenSearchSink.fromConfig({ ...cfg.opensearch, ...(setFlush ? {} : { flushIntervalMs: 50 }) });
    // Templates first, so the first document of a day creates its index with Seam's mappings (idempotent).
    const client = await createOpenSearchClient(sink.config);
    try {
      await setupOpenSearch(client, { templates: sink.config, ism: 'skip' });
    } catch (e) {
      if (isConnectionFailure(e)) return stopEarly(1, openSearchUnreachable(cfg.opensearch.nodeUrls, settingOrigin(loaded, 'opensearch.nodeUrls'), e));
      return stopEarly(1, `cannot prepare OpenSearch ${cfg.opensearch.nodeUrls.map(redactUrlCredentials).join(', ')} (auth ${cfg.opensearch.auth.type}): ${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${redactUrlCredentials((e as Error).message)}`);
    } finally {
      await client.close();
    }
  }
  const needsRules = roles.includes('normalize') || roles.includes('correlate');
  const rulePaths = o.rules ?? cfg.rules.paths;
  // The identity seeds are read where the graph lives, by every correlate member at its start (before any rebuild).
  const seeds = roles.includes('correlate') ? { seeds: seedsOf(cfg, o.seed), ...(cfg.cluster === undefined ? {} : { cluster: cfg.cluster }) } : { seeds: [] };
  let detection: Awaited<ReturnType<typeof loadDetection>> | undefined;
  try {
    detection = needsRules ? await loadDetection(await detectionOptions(cfg, rulePaths, o.placeholders ?? cfg.rules.placeholdersFile, o.rules !== undefined, seeds, (text) => sayWarning(text))) : undefined;
  } catch (e) {
    if ((e as { code?: string }).code !== 'SEAM_ERR_SEED') throw e;
    return stopEarly(2, `SEAM_ERR_SEED: ${(e as Error).message}`);
  }
  if (stop.signal) return stoppedBeforeStart();
  if (metrics) {
    let sinkReachable: (() => Promise<string | undefined>) | undefined;
    if (sink) {
      const { opensearchProbe } = await import('../sinks/opensearch/probe.ts');
      const probe = await opensearchProbe(sink.config);
      sinkReachable = probe.check;
      closeProbe = probe.close;
    }
    const { registerRoleMetrics } = await import('../pipeline/metrics.ts');
    const hooks = registerRoleMetrics(metrics, {
      roleNames: roles,
      roles: () => live.running?.roles ?? [],
      bus,
      ...(sink ? { sink } : {}),
      ...(sinkReachable ? { sinkReachable } : {}),
      ...(detection ? { detection } : {}),
    });
    alertHook = (a, info) => hooks.observeAlert(a, { newestIngestMs: info.newestIngestMs, first: info.first });
  }
  let running: Awaited<ReturnType<typeof startKafkaRoles>>;
  try {
    running = await startKafkaRoles({
      bus,
      topics,
      roles,
      ...(detection ? { detection } : {}),
      ...(sink ? { sink } : {}),
      ...(deliverer ? { deliverer } : {}),
      groupPrefix: kafka.groupPrefix,
      partitions: kafka.partitions,
      onAlert: (a, info) => {
        alertHook?.(a, info);
        if (info.update !== true && notifiable(a)) printAlert(a);
      },
      ...(cfg.normalize.maxRecordBytes === undefined ? {} : { maxRecordBytes: cfg.normalize.maxRecordBytes }),
      ...(cfg.correlate.idleMs === undefined ? {} : { idleMs: cfg.correlate.idleMs }),
      ...(cfg.correlate.pollMs === undefined ? {} : { pollMs: cfg.correlate.pollMs }),
      ...(cfg.correlate.maxSourceDelayMs === undefined ? {} : { maxSourceDelayMs: cfg.correlate.maxSourceDelayMs }),
      sourceDelayMs: expectedSourceDelays(cfg.correlate.sourceDelayMs, cfg.collect),
      ...(cfg.correlate.maxRebuildMs === undefined ? {} : { maxRebuildMs: cfg.correlate.maxRebuildMs }),
    });
  } catch (e) {
    (await import('../core/logger.ts')).childLogger('run').error({ error: e }, 'The roles could not start.');
    // stopEarly closes what is open, or the connections keep the process alive after the error.
    return stopEarly(1, `cannot start ${roles.join(', ')}: ${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${(e as Error).message}`);
  }
  live.running = running;
  say(`running ${roles.join(', ')} on Kafka ${kafka.brokers.join(',')}${describeKafkaAuth(kafka)}; SIGTERM or SIGINT drains and stops`);
  // A consumer kafkajs gave up on (review-ops M4) ends the process with status 1: a process that answers /healthz
  // but consumes nothing is a zombie no probe restarts, and a restart (with the orchestrator's back-off) often cures
  // what caused it (a coordinator that moved, credentials or ACLs fixed since). Exiting rather than failing /healthz
  // works under any supervisor, with or without the metrics listener, and shows as restarts (CrashLoopBackOff).
  const ended = await Promise.race([stop.requested.then((signal) => ({ signal }) as const), bus.crashedForGood.then((crash) => ({ crash }) as const)]);
  if ('crash' in ended) {
    const { groupId, topics: crashedTopics, error } = ended.crash;
    (await import('../core/logger.ts')).childLogger('run').error(
      { error, groupId, topics: crashedTopics },
      `A Kafka consumer of ${roles.join(', ')} stopped for good; stopping the roles and exiting with status 1 so that the process is restarted.`,
    );
    // Whatever is left open (a client that does not close) must not keep a process that consumes nothing alive.
    setTimeout(() => process.exit(1), CRASH_EXIT_GRACE_MS).unref();
  } else say(`${ended.signal}: stopping: finishing and committing in-flight batches`, { signal: ended.signal });
  await running.stop();
  await sink?.close();
  await bus.close();
  await closeProbe?.();
  await metrics?.close();
  for (const r of running.roles) {
    const stats = r.stats();
    say(`${r.name}: stopped; its counters at exit`, { role: r.name, stats }, `${r.name}: ${JSON.stringify(stats)}`);
  }
  if ('crash' in ended) {
    await flushLogs();
    return 1;
  }
  return 0;
}

/**
 * A line of `seam run` on Kafka on stderr, whatever SEAM_LOG_LEVEL says (these few lines say what the process is
 * doing), in the log's format (logFormat): a JSON line like the log's (review-ops L1: a log shipper's JSON parser
 * reads every line, the exit counters included), or `seam: <text>` for a person at a terminal.
 */
function say(msg: string, fields: Record<string, unknown> = {}, text: string = msg): void {
  if (logFormat() === 'text') process.stderr.write(`seam: ${text}\n`);
  else process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), name: 'seam', component: 'run', ...fields, msg })}\n`);
}

/** A warning line of `seam run` on Kafka, in the log's format like say()'s (level 40 in JSON). */
function sayWarning(text: string): void {
  if (logFormat() === 'text') process.stderr.write(`seam: ${text}\n`);
  else process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), name: 'seam', component: 'run', msg: text })}\n`);
}

/** After a consumer crashed for good: how long the roles get to stop and commit before the process exits anyway. */
const CRASH_EXIT_GRACE_MS = 30_000;
