import { existsSync } from 'node:fs';
import { runReplay, type ReplaySummary } from '../pipeline/replay.ts';
import { configFile } from '../core/config/load.ts';
import { loadCliConfig } from './config.ts';
import { fmtBytes, terminalProgress } from './progress.ts';

export interface ReplayCliOptions {
  out?: string;
  dlq: string;
  rules?: string;
  alertsOut?: string;
  cluster?: string;
  maxRecordBytes: number;
  placeholders?: string;
  /** seam.yml (default SEAM_CONFIG): with one, detection runs with its rules, placeholders and cluster unless flags say otherwise. */
  config?: string;
}

export async function replayCommand(paths: string[], o: ReplayCliOptions): Promise<number> {
  const file = configFile(o.config);
  const loaded = file === undefined ? undefined : await loadCliConfig(file);
  if (file !== undefined && loaded === undefined) return 2;
  const cfg = loaded?.config;
  // An explicit --rules folder must exist; seam.yml's missing folders are skipped (as seam run does), with a word.
  const missingFromConfig = o.rules ? [] : (cfg?.rules.paths ?? []).filter((r) => !existsSync(r));
  if (missingFromConfig.length > 0) process.stderr.write(`seam: skipping rule paths that do not exist: ${missingFromConfig.join(', ')}\n`);
  const fromConfig = cfg?.rules.paths.filter((r) => existsSync(r));
  const rules = o.rules ? [o.rules] : fromConfig && fromConfig.length > 0 ? fromConfig : undefined;
  const placeholdersFile = o.placeholders ?? cfg?.rules.placeholdersFile;
  const cluster = o.cluster ?? cfg?.cluster;
  const progress = terminalProgress('replay');
  let handler;
  if (rules) {
    const missing = rules.filter((r) => !existsSync(r));
    if (missing.length > 0) {
      process.stderr.write(`seam: rules folder ${missing.join(', ')} does not exist\n`);
      return 2;
    }
    const { buildDetector, DEFAULT_ALLOWED_LATENESS_MS } = await import('../detect/load.ts');
    const { createDetectStage } = await import('../pipeline/detect-stage.ts');
    const { OrderedStage } = await import('../pipeline/reorder.ts');
    const { IdentityGraph } = await import('../identity/graph.ts');
    // In event-time order, as the correlate role hands signals on (ADR 0009); the end of input flushes.
    const stage = createDetectStage({
      detector: await buildDetector(rules, {
        ...(placeholdersFile ? { placeholdersFile } : {}),
        ...(cfg?.rules.placeholders ? { placeholders: cfg.rules.placeholders } : {}),
        ...(cfg?.rules.allowedLatenessMs === undefined ? {} : { allowedLatenessMs: cfg.rules.allowedLatenessMs }),
      }),
      ...(cfg ? { native: { config: cfg.native, graph: new IdentityGraph(cfg.identity) } } : {}),
    });
    handler = new OrderedStage(stage, cfg?.rules.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS);
  }
  const summary = await runReplay({
    paths,
    dlqPath: o.dlq,
    maxRecordBytes: o.maxRecordBytes,
    ...(o.out ? { outPath: o.out } : {}),
    ...(cluster ? { cluster } : {}),
    ...(handler ? { handler, alertsPath: o.alertsOut ?? '-' } : {}),
    onProgress: progress.update,
  });
  progress.done();
  process.stderr.write(`${formatSummary(summary, o.dlq)}\n`);
  return 0;
}

export function formatSummary(s: ReplaySummary, dlqPath: string): string {
  const secs = s.elapsedMs / 1000;
  const sources = Object.entries(s.bySource)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const codes = Object.entries(s.rejectedByCode)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [
    `replay: files=${s.files} bytes=${fmtBytes(s.bytes)} records=${s.records} normalized=${s.normalized} rejected=${s.rejected} alerts=${s.alerts} in ${secs.toFixed(1)}s (${Math.round(s.records / Math.max(secs, 0.001))} records/s)`,
    `  by source: ${sources || 'none'}`,
  ];
  if (s.rejected > 0) lines.push(`  rejected: ${codes} -> ${dlqPath}`);
  return lines.join('\n');
}
