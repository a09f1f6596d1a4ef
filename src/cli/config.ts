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

/** `seam config check [FILE]`: validates, then prints the effective config (defaults filled in) with secrets masked. */
export async function configCheckCommand(file: string | undefined, env: NodeJS.ProcessEnv = process.env, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const loaded = await loadCliConfig(file, env, err);
  if (loaded === undefined) return 2;
  const overrides = envOverridesSet(env);
  out.write(`# ${loaded.file ?? '(no file: defaults)'} is valid${overrides.length > 0 ? `; overridden by ${overrides.join(', ')}` : ''}\n`);
  out.write(`# mode: ${loaded.config.kafka ? `Kafka ${loaded.config.kafka.brokers.join(',')}` : 'embedded (no kafka section, no SEAM_KAFKA_BROKERS)'}\n`);
  for (const p of loaded.literalSecrets) err.write(`seam config check: warning: ${p} is written in the file; prefer \${env:NAME} or \${file:PATH}\n`);
  out.write(stringify(maskSecrets(loaded.config), { lineWidth: 0 }));
  return 0;
}
