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

/**
 * Files and folders the config names that a command run here would stop on (`error`), or skip (`warning`: some of
 * rules.paths missing, the rest still load; all of them missing is an error, as for the commands).
 */
export function pathFindings(loaded: LoadedConfig): { level: 'error' | 'warning'; text: string }[] {
  const rulePaths = loaded.missingPaths.filter((p) => p.path.startsWith('rules.paths.'));
  const allRulesMissing = rulePaths.length > 0 && rulePaths.length === loaded.config.rules.paths.length;
  return loaded.missingPaths.map((p) => ({
    level: p.path.startsWith('rules.paths.') && !allRulesMissing ? 'warning' : 'error',
    text: `${p.where} ${p.path}: ${p.message}${p.path.startsWith('rules.paths.') ? (allRulesMissing ? ' (no rules path exists: the commands that run rules stop)' : ' (skipped, the other rules paths load)') : ''}`,
  }));
}

/**
 * `seam config check [FILE]`: validates, then prints the effective config (defaults filled in) with secrets masked.
 * Exit 2: invalid; 1: valid, but a file or folder it names is missing here, so a command run here with it would
 * stop; 0: neither.
 */
export async function configCheckCommand(file: string | undefined, env: NodeJS.ProcessEnv = process.env, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const loaded = await loadCliConfig(file, env, err);
  if (loaded === undefined) return 2;
  const overrides = envOverridesSet(env);
  out.write(`# ${loaded.file ?? '(no file: defaults)'} is valid${overrides.length > 0 ? `; overridden by ${overrides.join(', ')}` : ''}\n`);
  out.write(`# mode: ${loaded.config.kafka ? `Kafka ${loaded.config.kafka.brokers.join(',')}` : 'embedded (no kafka section, no SEAM_KAFKA_BROKERS)'}\n`);
  for (const p of loaded.literalSecrets) err.write(`seam config check: warning: ${p} is written in the file; prefer \${env:NAME} or \${file:PATH}\n`);
  for (const w of clusterAccountWarnings(loaded.config)) err.write(`seam config check: warning: ${w}\n`);
  const paths = pathFindings(loaded);
  for (const p of paths) err.write(`seam config check: ${p.level}: ${p.text}\n`);
  out.write(stringify(maskSecrets(loaded.config), { lineWidth: 0 }));
  const missing = paths.filter((p) => p.level === 'error').length;
  if (missing === 0) return 0;
  err.write(`seam config check: ${loaded.file ?? 'the configuration'} is valid, but ${missing} file${missing === 1 ? '' : 's'} or folder${missing === 1 ? '' : 's'} it names ${missing === 1 ? 'is' : 'are'} missing here (above): a command run here with it would stop (relative paths in the file resolve against its folder)\n`);
  return 1;
}
