import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Bus } from '../bus/types.ts';
import { CollectConfig, type RunningCollectors } from '../sources/registry.ts';
import type { WriterFaults } from '../sources/checkpoint/store.ts';
import { configFile } from '../core/config/load.ts';
import { loadCliConfig, rawTopicPartitions } from './config.ts';
import { describeKafkaAuth } from './run.ts';
import { listenForStop, type StopSignal } from './stop-signal.ts';
import { kafkaUnreachable, settingOrigin } from './unreachable.ts';

export interface CollectCliOptions {
  /** seam.yml with a `collect` section, or a collectors file (top-level `sources`); default SEAM_CONFIG. */
  config?: string;
  env?: NodeJS.ProcessEnv;
  err?: { write(s: string): unknown };
  /** Metrics and health listener (host:port); default SEAM_METRICS_ADDR, else off. */
  metricsAddr?: string;
}

/**
 * The config as written, with SEAM_REPLICA_ID (a StatefulSet pod name) put into every
 * `ownership.replicaId`, so one file serves every replica (ADR 0004).
 */
export function applyReplicaId(raw: unknown, replicaId: string | undefined): unknown {
  if (replicaId === undefined || replicaId === '' || raw === null || typeof raw !== 'object') return raw;
  const sources = (raw as { sources?: unknown }).sources;
  if (sources === null || typeof sources !== 'object') return raw;
  const out: Record<string, unknown> = {};
  for (const [name, sc] of Object.entries(sources as Record<string, unknown>)) {
    const own = sc !== null && typeof sc === 'object' ? (sc as { ownership?: unknown }).ownership : undefined;
    out[name] = own !== null && typeof own === 'object' ? { ...(sc as object), ownership: { ...(own as object), replicaId } } : sc;
  }
  return { ...(raw as object), sources: out };
}

/**
 * Fault injection for the kill tests (test/collectors/process-kill.scenario.ts), off unless
 * SEAM_COLLECT_FAULT_STALL_AFTER_WRITES=<n> is set: after n page writes with records, the next page's records are
 * produced in a transaction left open, a line says so, and the process waits to be killed.
 */
function stallFault(env: NodeJS.ProcessEnv, err: { write(s: string): unknown }): WriterFaults {
  const n = Number(env.SEAM_COLLECT_FAULT_STALL_AFTER_WRITES);
  if (!Number.isInteger(n) || n < 0 || env.SEAM_COLLECT_FAULT_STALL_AFTER_WRITES === '') return {};
  let writes = 0;
  return {
    stallAfterProduce: (records) => records > 0 && writes++ === n,
    onStall: (records) => err.write(`seam collect: fault: stalled mid-page after producing ${records} records (transaction open)\n`),
  };
}

/** `seam collect --config FILE`: runs the configured collectors until SIGTERM/SIGINT, then stops them gracefully. */
export async function collectCommand(o: CollectCliOptions): Promise<number> {
  const err = o.err ?? process.stderr;
  // From the first line: a SIGTERM while the collectors start must stop them gracefully too (src/cli/stop-signal.ts).
  const stop = listenForStop('seam collect', err);
  // A long-running process: a WARN line per error code at most every 10 s (review-ops L1).
  (await import('../core/counters.ts')).logCountedErrors();
  try {
    return await collectUntilStopped(o, err, stop);
  } finally {
    stop.dispose();
  }
}

async function collectUntilStopped(o: CollectCliOptions, err: { write(s: string): unknown }, stop: StopSignal): Promise<number> {
  const env = o.env ?? process.env;
  const file = configFile(o.config, env);
  if (file === undefined) {
    err.write('seam collect: needs --config FILE (seam.yml with a collect section, or a collectors file) or SEAM_CONFIG\n');
    return 2;
  }
  let raw: unknown;
  try {
    const text = await readFile(file, 'utf8');
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    err.write(`seam collect: cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  // A collectors file (top-level `sources`, the older form) takes Kafka and the rest from SEAM_* variables alone.
  const legacy = raw !== null && typeof raw === 'object' && 'sources' in raw;
  const loaded = await loadCliConfig(legacy ? undefined : file, env, err);
  if (loaded === undefined) return 2;
  const cfg = loaded.config;
  let collect: CollectConfig;
  if (legacy) {
    // Relative paths in it resolve against its folder, as in seam.yml (src/core/config/paths.ts).
    const { COLLECTORS_FILE_PATH_FIELDS, resolveRelativePaths } = await import('../core/config/paths.ts');
    resolveRelativePaths(raw, COLLECTORS_FILE_PATH_FIELDS, dirname(file));
    const parsed = CollectConfig.safeParse(applyReplicaId(raw, env.SEAM_REPLICA_ID));
    if (!parsed.success) {
      err.write(`seam collect: SEAM_ERR_CONFIG_INVALID in ${file}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}\n`);
      return 2;
    }
    collect = parsed.data;
  } else {
    if (cfg.collect === undefined) {
      err.write(`seam collect: ${file} has no collect section (collect.sources: the collectors to run)\n`);
      return 2;
    }
    collect = CollectConfig.parse(applyReplicaId(cfg.collect, env.SEAM_REPLICA_ID));
  }
  let bus: Bus;
  const kafka = cfg.kafka;
  if (kafka) {
    const { KafkaBus } = await import('../bus/kafka.ts');
    const { kafkaBusOptions } = await import('../bus/kafka-config.ts');
    bus = new KafkaBus(kafkaBusOptions(kafka, `collect${env.SEAM_REPLICA_ID ? `-${env.SEAM_REPLICA_ID}` : ''}`));
    try {
      await (bus as InstanceType<typeof KafkaBus>).connect();
    } catch (e) {
      await (await import('../core/logger.ts')).flushLogs();
      err.write(`seam collect: ${kafkaUnreachable(kafka.brokers, settingOrigin(loaded, 'kafka.brokers'), describeKafkaAuth(kafka), e)}\n`);
      await bus.close().catch(() => undefined);
      return 1;
    }
  } else {
    err.write(
      'seam collect: warning: no Kafka configured (kafka.brokers or SEAM_KAFKA_BROKERS), so records go to an in-memory bus that nothing in this process reads and that is lost on exit. Configure Kafka, or use `seam run --input` to process files embedded.\n',
    );
    const { MemoryBus } = await import('../bus/memory.ts');
    bus = new MemoryBus();
  }
  const { metricsAddress } = await import('../core/listen-address.ts');
  const addr = metricsAddress(o.metricsAddr, {}, cfg.metrics.addr);
  const metrics = addr === undefined ? undefined : new (await import('../core/metrics.ts')).MetricsServer();
  // Filled once the collectors run; the listener answers (not ready) before.
  const live: { running?: RunningCollectors } = {};
  let stopping = false;
  if (metrics && addr) {
    const { registerCollectorMetrics } = await import('../pipeline/metrics.ts');
    registerCollectorMetrics(metrics, { collectors: () => live.running?.collectors ?? [], running: () => live.running !== undefined && !stopping });
    const bound = await metrics.listen(addr);
    err.write(`seam collect: metrics and health on http://${bound.host}:${bound.port}/metrics, /healthz, /readyz\n`);
  }
  if (stop.signal) {
    err.write(`seam collect: ${stop.signal} before the collectors started: stopped (nothing collected)\n`);
    await bus.close().catch(() => undefined);
    await metrics?.close();
    return 0;
  }
  const { runCollectors } = await import('../sources/registry.ts');
  let running: RunningCollectors;
  try {
    running = await runCollectors(collect, bus, { faults: stallFault(env, err), topicPrefix: kafka?.topicPrefix ?? '', rawPartitions: rawTopicPartitions({ config: { ...cfg, collect }, input: loaded.input }).partitions, dlqPartitions: kafka?.partitions.dlq ?? 1 });
  } catch (e) {
    // Nothing was written; close the connections, or they keep the process alive after the error.
    err.write(`seam collect: cannot start the collectors: ${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${(e as Error).message}\n`);
    await bus.close().catch(() => undefined);
    await metrics?.close();
    return 1;
  }
  live.running = running;
  err.write(`seam collect: running ${running.collectors.map((c) => c.name).join(', ')}; SIGTERM or SIGINT stops after the current polls\n`);
  const stopped = await Promise.race([running.done.then(() => 'done' as const), stop.requested]);
  if (stopped !== 'done') err.write(`seam collect: ${stopped}: stopping\n`);
  stopping = true;
  await running.stop();
  err.write(`seam collect: ${JSON.stringify(running.stats())}\n`);
  await bus.close();
  await metrics?.close();
  return 0;
}
