import { existsSync } from 'node:fs';
import type { Alert } from '../detect/alert.ts';
import type { Deliverer } from '../sinks/delivery/deliverer.ts';
import type { OpenSearchSink as Sink } from '../sinks/opensearch/sink.ts';
import { formatSummary } from './replay.ts';

export interface RunCliOptions {
  role?: string;
  input?: string[];
  rules: string;
  stateDir: string;
  placeholders?: string;
  cluster?: string;
  /** Alert delivery config file (docs/alert-delivery.md). */
  delivery?: string;
  /** Metrics and health listener (host:port); default SEAM_METRICS_ADDR, else off. */
  metricsAddr?: string;
}

/** The bundled demo dataset: what `npm start` replays on a fresh machine. */
export const DEMO_DATASET = 'deploy/demo';
/** The demo's site configuration: its cluster, and the placeholder values its rules expect. */
export const DEMO_CLUSTER = 'prod-eks-01';
export const DEMO_PLACEHOLDERS = 'deploy/config/placeholders.yml';

async function placeholdersFrom(file: string | undefined): Promise<Record<string, string[]> | undefined> {
  if (file === undefined) return undefined;
  const { loadPlaceholdersFile } = await import('../detect/load.ts');
  return loadPlaceholdersFile(file);
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

/** A duration in ms from the environment (ADR 0009's knobs); a value that is not a non-negative number stops the command. */
function envMs(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a duration in milliseconds (got '${v}')`);
  return n;
}

function printAlert(a: Alert): void {
  process.stdout.write(`ALERT [${a.rule.level}] ${a['@timestamp']} ${a.rule.title}${a.summary ? ` — ${a.summary}` : ''}\n`);
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
  const brokers = process.env.SEAM_KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
  if (brokers.length > 0) return runOnKafka(o, brokers);
  if (o.role) {
    process.stderr.write(`seam: --role ${o.role} runs against Kafka; set SEAM_KAFKA_BROKERS (e.g. 127.0.0.1:9092), or omit --role to run embedded.\n`);
    return 2;
  }
  const demo = o.input === undefined;
  const inputs = o.input ?? [DEMO_DATASET];
  const haveRules = existsSync(o.rules);
  const placeholdersFile = o.placeholders ?? (demo && existsSync(DEMO_PLACEHOLDERS) ? DEMO_PLACEHOLDERS : undefined);
  const cluster = o.cluster ?? (demo ? DEMO_CLUSTER : undefined);
  process.stderr.write(
    `seam: embedded mode (no Kafka configured); replaying ${inputs.join(', ')}${haveRules ? ` with the rules in ${o.rules}` : ''}\n`,
  );
  const { loadDetection } = await import('../pipeline/detection.ts');
  const { runEmbedded } = await import('../pipeline/embedded.ts');
  // Native cross-plane detections always run; Sigma rules when the folder exists.
  const placeholders = await placeholdersFrom(placeholdersFile);
  const lateness = envMs('SEAM_ALLOWED_LATENESS_MS');
  const detection = await loadDetection({ rules: haveRules ? [o.rules] : [], ...(placeholders ? { placeholders } : {}), ...(lateness === undefined ? {} : { allowedLatenessMs: lateness }) });
  const alerts: Alert[] = [];
  const deliverer = await delivererFrom(o.delivery);
  const { summary, paths } = await runEmbedded({
    ...(deliverer ? { deliverer } : {}),
    paths: inputs,
    stateDir: o.stateDir,
    detection,
    maxRecordBytes: 1024 * 1024,
    ...(cluster ? { cluster } : {}),
    onAlert: (a) => {
      alerts.push(a);
      printAlert(a);
    },
  });
  // Then the story: alerts grouped by who acted, really (the identity graph's origin), worst first.
  const { incidentsFrom, formatIncident } = await import('../pipeline/incident.ts');
  const serious = incidentsFrom(alerts).filter((i) => i.level === 'critical' || i.level === 'high');
  if (serious.length > 0) process.stdout.write(`\n${serious.map(formatIncident).join('\n\n')}\n\n`);
  process.stdout.write(`${formatSummary(summary, paths.dlq)}\n`);
  process.stdout.write(`  written: ${paths.events}, ${paths.alerts}, ${paths.identity}${placeholdersFile ? `; placeholders from ${placeholdersFile}` : ''}\n`);
  // One page per serious incident, beside the events and alerts it is drawn from (`seam report incident` redraws one).
  if (serious.length > 0) {
    const { pagesForRun, writeIncidentPages } = await import('./report.ts');
    const pages = await writeIncidentPages(await pagesForRun(o.stateDir, serious, haveRules ? o.rules : undefined), o.stateDir);
    for (const p of pages) process.stdout.write(`  incident page: ${p}\n`);
  }
  if (deliverer) process.stdout.write(`  delivery: ${JSON.stringify(deliverer.stats)}\n`);
  if (!haveRules) process.stdout.write(`  no rules folder at ${o.rules}: only the native cross-plane detections ran\n`);
  return 0;
}

async function runOnKafka(o: RunCliOptions, brokers: string[]): Promise<number> {
  // kafka.ts first: it patches kafkajs before anything else loads it.
  const { KafkaBus } = await import('../bus/kafka.ts');
  const { loadDetection } = await import('../pipeline/detection.ts');
  const { startKafkaRoles } = await import('../pipeline/kafka-roles.ts');
  const { pipelineTopics } = await import('../pipeline/topics.ts');
  const deliverer = await delivererFrom(o.delivery);
  if (o.role === 'deliver' && deliverer === undefined) {
    process.stderr.write('seam: --role deliver needs --delivery <file> (docs/alert-delivery.md)\n');
    return 2;
  }
  // Every role by default; deliver only when a delivery config is given.
  const roles = o.role ? [o.role as (typeof ROLES)[number]] : ROLES.filter((r) => r !== 'deliver' || deliverer !== undefined);
  const env = process.env;
  const bus = new KafkaBus({ brokers, clientId: `seam-${roles.join('-')}`, replicationFactor: Number(env.SEAM_KAFKA_REPLICATION ?? 1) });
  const topics = pipelineTopics(env.SEAM_TOPIC_PREFIX ?? '');
  // The listener first, so /healthz answers and /readyz says 503 while the roles connect and join.
  const { metricsAddress } = await import('../core/listen-address.ts');
  const addr = metricsAddress(o.metricsAddr, env, undefined);
  const metrics = addr === undefined ? undefined : new (await import('../core/metrics.ts')).MetricsServer();
  // Filled once the roles run; the listener answers (not ready) before.
  const live: { running?: Awaited<ReturnType<typeof startKafkaRoles>> } = {};
  let sink: Sink | undefined;
  let closeProbe: (() => Promise<void>) | undefined;
  let alertHook: ((a: Alert) => void) | undefined;
  if (metrics && addr) {
    metrics.addReadiness({ name: 'roles', check: () => (live.running === undefined ? `starting ${roles.join(', ')} (loading rules, creating topics, joining groups)` : undefined) });
    const bound = await metrics.listen(addr);
    process.stderr.write(`seam: metrics and health on http://${bound.host}:${bound.port}/metrics, /healthz, /readyz\n`);
  }
  const needsRules = roles.includes('normalize') || roles.includes('correlate');
  const placeholders = await placeholdersFrom(o.placeholders);
  const lateness = envMs('SEAM_ALLOWED_LATENESS_MS');
  const detection = needsRules ? await loadDetection({ rules: existsSync(o.rules) ? [o.rules] : [], ...(placeholders ? { placeholders } : {}), ...(lateness === undefined ? {} : { allowedLatenessMs: lateness }) }) : undefined;
  const idleMs = envMs('SEAM_CORRELATE_IDLE_MS');
  const pollMs = envMs('SEAM_CORRELATE_POLL_MS');
  if (roles.includes('index')) {
    const { OpenSearchSink } = await import('../sinks/opensearch/sink.ts');
    const { defaultNodeUrls } = await import('../sinks/opensearch/config.ts');
    const { setupOpenSearch } = await import('../sinks/opensearch/setup.ts');
    const { createOpenSearchClient } = await import('../sinks/opensearch/client.ts');
    // A short flush interval: each index member waits for its batch's acks before fetching more (bench/pipeline.ts).
    const cfg = { nodeUrls: defaultNodeUrls(env), indexPrefix: env.SEAM_INDEX_PREFIX ?? 'seam', replicas: Number(env.SEAM_OPENSEARCH_REPLICAS ?? 1), flushIntervalMs: 50 };
    sink = await OpenSearchSink.fromConfig(cfg);
    // Templates first, so the first document of a day creates its index with Seam's mappings (idempotent).
    const client = await createOpenSearchClient(sink.config);
    try {
      await setupOpenSearch(client, { templates: sink.config, ism: 'skip' });
    } finally {
      await client.close();
    }
  }
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
    alertHook = (a) => hooks.observeAlert(a);
  }
  const running = await startKafkaRoles({
    bus,
    topics,
    roles,
    ...(detection ? { detection } : {}),
    ...(sink ? { sink } : {}),
    ...(deliverer ? { deliverer } : {}),
    groupPrefix: env.SEAM_GROUP_PREFIX ?? '',
    onAlert: (a) => {
      alertHook?.(a);
      printAlert(a);
    },
    ...(idleMs === undefined ? {} : { idleMs }),
    ...(pollMs === undefined ? {} : { pollMs }),
  });
  live.running = running;
  process.stderr.write(`seam: running ${roles.join(', ')} on Kafka ${brokers.join(',')}; SIGTERM or SIGINT drains and stops\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.stderr.write('seam: stopping: finishing and committing in-flight batches\n');
  await running.stop();
  await sink?.close();
  await bus.close();
  await closeProbe?.();
  await metrics?.close();
  for (const r of running.roles) process.stderr.write(`seam: ${r.name}: ${JSON.stringify(r.stats())}\n`);
  return 0;
}
