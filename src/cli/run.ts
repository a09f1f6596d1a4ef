import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runReplay } from '../pipeline/replay.ts';
import { formatSummary } from './replay.ts';

export interface RunCliOptions {
  role?: string;
  input?: string[];
  rules: string;
  stateDir: string;
}

/** The bundled demo dataset: what `npm start` replays on a fresh machine. */
export const DEMO_DATASET = 'deploy/demo';

interface PrintableAlert {
  '@timestamp'?: string;
  rule: { id: string; title: string; level?: string };
  summary?: string;
}

/**
 * `seam run`. Embedded mode (no SEAM_KAFKA_BROKERS): every role in one process, reading files and
 * writing events, alerts and dead letters under `--state-dir`, printing alerts as they fire.
 */
export async function runCommand(o: RunCliOptions): Promise<number> {
  if (o.role || process.env.SEAM_KAFKA_BROKERS) {
    process.stderr.write(
      'seam: running roles on Kafka is not built yet (tracked in issue 5). Unset SEAM_KAFKA_BROKERS and omit --role to run embedded.\n',
    );
    return 2;
  }
  const inputs = o.input ?? [DEMO_DATASET];
  const haveRules = existsSync(o.rules);
  process.stderr.write(
    `seam: embedded mode (no Kafka configured); replaying ${inputs.join(', ')}${haveRules ? ` with the rules in ${o.rules}` : ''}\n`,
  );
  const { buildDetector } = await import('../detect/load.ts');
  const { createDetectStage } = await import('../pipeline/detect-stage.ts');
  // Native cross-plane detections always run; Sigma rules when the folder exists.
  const handler = createDetectStage(haveRules ? { detector: await buildDetector([o.rules]) } : {});
  const dlqPath = join(o.stateDir, 'dlq.jsonl');
  const summary = await runReplay<PrintableAlert>({
    paths: inputs,
    outPath: join(o.stateDir, 'events.jsonl'),
    dlqPath,
    maxRecordBytes: 1024 * 1024,
    handler,
    alertsPath: join(o.stateDir, 'alerts.jsonl'),
    onAlert: (a) => {
      process.stdout.write(`ALERT [${a.rule.level ?? 'info'}] ${a['@timestamp'] ?? ''} ${a.rule.title}${a.summary ? ` — ${a.summary}` : ''}\n`);
    },
  });
  process.stdout.write(`${formatSummary(summary, dlqPath)}\n`);
  process.stdout.write(`  written: ${join(o.stateDir, 'events.jsonl')}, ${join(o.stateDir, 'alerts.jsonl')}\n`);
  if (!haveRules) process.stdout.write(`  no rules folder at ${o.rules}: only the native cross-plane detections ran\n`);
  return 0;
}
