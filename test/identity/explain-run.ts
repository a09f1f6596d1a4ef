// What the `seam identity explain --from kafka` tests share: Kafka as `seam run` reads it from SEAM_* variables, the
// command run in-process with its output captured, and the lines only replayed events give.
import { identityExplainCommand, type IdentityExplainOptions } from '../../src/cli/identity.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import type { KafkaConfig } from '../../src/core/config/schema.ts';

/** Kafka as `seam run` takes it from SEAM_* variables (no seam.yml). */
export const kafkaOf = (env: Record<string, string>): KafkaConfig => {
  const k = loadConfig(undefined, env).config.kafka;
  if (k === undefined) throw new Error('no kafka section from SEAM_KAFKA_BROKERS');
  return k;
};

/** `seam identity explain TARGET` on `cluster` (unless `o` names one), with what it printed on stdout and stderr. */
export async function explainIn(cluster: string, target: string, o: IdentityExplainOptions): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await identityExplainCommand(target, { cluster, ...o, err: { write: (s: string) => (err += s) } }, { write: (s: string) => (out += s) });
  return { code, out, err };
}

/**
 * The lines only replayed events give: the target's calls (`last call …`), its requests (`acted in …`) and the
 * sessions seen only on the Kubernetes plane (a count of its requests, with the last one).
 */
export const EVENT_LINE = /^( {4}last call | {2}acted in \d+ events? | {2}session \S+ — \d+ Kubernetes requests?)/;
