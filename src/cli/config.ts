import { stringify } from 'yaml';
import { isSeamError } from '../core/errors.ts';
import { configFile, envOverridesSet, loadConfig, maskSecrets, type LoadedConfig } from '../core/config/load.ts';

interface Out {
  write(s: string): unknown;
}

/**
 * seam.yml for a command: `--config`, else SEAM_CONFIG, else defaults plus SEAM_* variables. On an
 * invalid config, prints every problem (file:line:col path: message) and returns undefined (exit 2).
 */
export async function loadCliConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, err: Out = process.stderr): Promise<LoadedConfig | undefined> {
  try {
    return loadConfig(configFile(flag, env), env);
  } catch (e) {
    if (isSeamError(e)) {
      err.write(`seam: ${e.code}: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}

/**
 * Clusters a collector attributes records to whose account nothing names: on Kafka their service-account and
 * node requests may be keyed apart (ADR 0037 addendum). The CloudWatch Logs collector reads its groups' accounts
 * itself; a file source or a sidecar token naming a cluster needs `account`, or `identity.clusters[].account`.
 */
export function clusterAccountWarnings(config: LoadedConfig['config']): string[] {
  if (config.kafka === undefined) return [];
  const configured = new Set(config.identity.clusters.filter((c) => c.account !== undefined).map((c) => c.name));
  const out: string[] = [];
  for (const [name, src] of Object.entries(config.collect?.sources ?? {})) {
    const bound: { cluster?: string | undefined; account?: string | undefined; where: string }[] =
      src.type === 'file' ? [{ cluster: src.cluster, account: src.account, where: `collect.sources.${name}` }] : src.type === 'sidecar' ? src.tokens.map((t, i) => ({ cluster: t.cluster, account: t.account, where: `collect.sources.${name}.tokens[${i}]` })) : [];
    for (const b of bound) {
      if (b.cluster === undefined || b.account !== undefined || configured.has(b.cluster)) continue;
      out.push(`${b.where} attributes records to cluster ${b.cluster} but no account: on Kafka its service-account and node events may reach different correlate instances; set account there, or identity.clusters[].account for ${b.cluster}`);
    }
  }
  return out;
}

/** `seam config check [FILE]`: validates, then prints the effective config (defaults filled in) with secrets masked. */
export async function configCheckCommand(file: string | undefined, env: NodeJS.ProcessEnv = process.env, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const loaded = await loadCliConfig(file, env, err);
  if (loaded === undefined) return 2;
  const overrides = envOverridesSet(env);
  out.write(`# ${loaded.file ?? '(no file: defaults)'} is valid${overrides.length > 0 ? `; overridden by ${overrides.join(', ')}` : ''}\n`);
  out.write(`# mode: ${loaded.config.kafka ? `Kafka ${loaded.config.kafka.brokers.join(',')}` : 'embedded (no kafka section, no SEAM_KAFKA_BROKERS)'}\n`);
  for (const p of loaded.literalSecrets) err.write(`seam config check: warning: ${p} is written in the file; prefer \${env:NAME} or \${file:PATH}\n`);
  for (const w of clusterAccountWarnings(loaded.config)) err.write(`seam config check: warning: ${w}\n`);
  out.write(stringify(maskSecrets(loaded.config), { lineWidth: 0 }));
  return 0;
}
