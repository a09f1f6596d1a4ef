import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { isSeamError } from '../core/errors.ts';
import { addressListStaleWarning, addressListSummary, readAddressList } from '../detect/native/address-lists.ts';
import { awsRangesStaleWarning, loadAwsRanges } from '../detect/native/aws-ranges.ts';
import { configFile, loadConfig, maskSecrets, type LoadConfigOptions, type LoadedConfig } from '../core/config/load.ts';
import { awsRangesSummary } from './networks.ts';

interface Out {
  write(s: string): unknown;
}

/**
 * seam.yml for a command: `--config`, else SEAM_CONFIG, else defaults plus SEAM_* variables. On an
 * invalid config, prints every problem (file:line:col path: message) and returns undefined (exit 2).
 */
export async function loadCliConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, err: Out = process.stderr, opts: LoadConfigOptions = {}): Promise<LoadedConfig | undefined> {
  try {
    const loaded = loadConfig(configFile(flag, env), env, opts);
    // AWS's ranges file: checked now, so a wrong file stops the command before it starts (a missing one is
    // reported with the other missing paths), and one left to age is said so.
    const ranges = loaded.config.native.awsIpRangesFile;
    if (ranges !== undefined && !loaded.missingPaths.some((p) => p.path === 'native.awsIpRangesFile')) {
      const stale = awsRangesStaleWarning(loadAwsRanges(ranges));
      if (stale !== undefined) err.write(`seam: warning: ${stale}\n`);
    }
    // The address lists too (native.addressLists): a file that is not one stops the command; an old one is said so.
    const lists = loaded.config.native.addressLists.filter((_, i) => !loaded.missingPaths.some((p) => p.path === `native.addressLists.${i}.path`));
    for (const spec of lists) {
      const list = readAddressList(spec);
      const stale = addressListStaleWarning(list);
      if (stale !== undefined) err.write(`seam: warning: ${stale}\n`);
      if (list.invalid > 0) err.write(`seam: warning: ${addressListSummary(list)}\n`);
    }
    return loaded;
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
 * The partitions of the raw topics the collectors create: kafka.partitions.raw, the one knob the roles read too
 * (review-ops L4); the deprecated collect.rawTopicPartitions only when the file sets it and not kafka.partitions.raw,
 * so a file that used it keeps its topics' shape. `warning`: what `seam config check` says about it.
 */
export function rawTopicPartitions(loaded: Pick<LoadedConfig, 'config' | 'input'>): { partitions: number; warning?: string } {
  const cfg = loaded.config;
  const raw = cfg.kafka?.partitions.raw ?? 6;
  const deprecated = cfg.collect?.rawTopicPartitions;
  if (deprecated === undefined) return { partitions: raw };
  const kafkaIn = loaded.input.kafka as { partitions?: { raw?: unknown } } | undefined;
  const rawSet = kafkaIn?.partitions?.raw !== undefined;
  if (!rawSet) {
    return { partitions: deprecated, warning: `collect.rawTopicPartitions is deprecated: set kafka.partitions.raw: ${deprecated} instead (the roles read it too; without it they would create the raw topics with ${raw} partitions if they start first)` };
  }
  if (deprecated === raw) return { partitions: raw, warning: 'collect.rawTopicPartitions is deprecated and repeats kafka.partitions.raw: remove it' };
  return {
    partitions: raw,
    warning: `collect.rawTopicPartitions (${deprecated}) differs from kafka.partitions.raw (${raw}): the collectors now create the raw topics with kafka.partitions.raw's ${raw}; collect.rawTopicPartitions is deprecated, remove it`,
  };
}

/** Where a cluster name is bound to an account in seam.yml. */
interface ClusterBinding {
  name: string;
  account: string | undefined;
  where: string;
}

function clusterBindings(config: LoadedConfig['config']): ClusterBinding[] {
  const out: ClusterBinding[] = config.identity.clusters.map((c, i) => ({ name: c.name, account: c.account, where: `identity.clusters[${i}]` }));
  for (const [name, src] of Object.entries(config.collect?.sources ?? {})) {
    if (src.type === 'file' && src.cluster !== undefined) out.push({ name: src.cluster, account: src.account, where: `collect.sources.${name}` });
    if (src.type === 'sidecar') src.tokens.forEach((t, i) => t.cluster !== undefined && out.push({ name: t.cluster, account: t.account, where: `collect.sources.${name}.tokens[${i}]` }));
    if (src.type === 'cloudwatch-logs') {
      src.logGroups.forEach((g, i) => {
        const cluster = g.cluster ?? /^\/aws\/eks\/([^/]+)\/cluster$/.exec(g.logGroupName)?.[1];
        if (cluster !== undefined) out.push({ name: cluster, account: g.account, where: `collect.sources.${name}.logGroups[${i}]` });
      });
    }
  }
  return out;
}

/**
 * Clusters with one name in two accounts (review-platsec H2). The identity graph keys a cluster's nodes and facts
 * (access entries, service accounts, egress addresses) by its name only, so two `prod`s are one cluster to it: one
 * account's DeleteAccessEntry erases the other's grant, and one's egress hides the other's stolen credentials.
 * `refuse`: identity.clusters itself names one cluster twice with different accounts (which oidcIssuer and
 * egressCidrs apply is ambiguous); `warn`: the name is bound to two accounts elsewhere (sources).
 */
export function sameNameClusters(config: LoadedConfig['config']): { refuse: string[]; warn: string[] } {
  const byName = new Map<string, ClusterBinding[]>();
  for (const b of clusterBindings(config)) byName.set(b.name, [...(byName.get(b.name) ?? []), b]);
  const refuse: string[] = [];
  const warn: string[] = [];
  for (const [name, bs] of byName) {
    const accounts = new Set(bs.flatMap((b) => (b.account === undefined ? [] : [b.account])));
    if (accounts.size < 2) continue;
    const inIdentity = new Set(bs.filter((b) => b.where.startsWith('identity.')).flatMap((b) => (b.account === undefined ? [] : [b.account])));
    const text =
      `cluster name ${name} is bound to ${accounts.size} accounts (${bs.filter((b) => b.account !== undefined).map((b) => `${b.where}: ${b.account}`).join(', ')}): ` +
      `the identity graph keys clusters by name only, so it would treat them as one cluster (access entries, service accounts, egress addresses mix: ` +
      `a DeleteAccessEntry in one account erases the other's grant, credentials used from the other cluster's address raise no off-cluster alert). ` +
      `Run a separate Seam per account (its own seam.yml, and on Kafka its own kafka.topicPrefix), or give the EKS clusters distinct names`;
    (inIdentity.size >= 2 ? refuse : warn).push(text);
  }
  return { refuse, warn };
}

/**
 * The AWS collectors (cloudwatch-logs, guardduty) with no `region` when the AWS SDK finds none here either (AWS_REGION,
 * the AWS config file's profile): `seam collect` would run and fail every call with "Region is missing", a warning a
 * poll, for ever (platform-security walkthrough). Asked of the SDK itself, so a region in ~/.aws/config counts.
 */
export async function awsRegionMissing(config: LoadedConfig['config']): Promise<string[]> {
  const names = Object.entries(config.collect?.sources ?? {}).flatMap(([name, src]) => ((src.type === 'cloudwatch-logs' || src.type === 'guardduty') && src.region === undefined ? [name] : []));
  if (names.length === 0) return [];
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  const client = new CloudWatchLogsClient({});
  try {
    if ((await client.config.region()) !== '') return [];
  } catch {
    // "Region is missing": reported below
  } finally {
    client.destroy();
  }
  return names.map((n) => `collect.sources.${n}.region: no AWS region here (not in seam.yml, not in AWS_REGION, not in the AWS config file's profile): its every AWS call would fail with "Region is missing"; set region: <the log groups' or detectors' region> on the collector, or AWS_REGION`);
}

/**
 * What the config refers to that this machine lacks: variables not set and files that cannot be read by its
 * `${env:}`/`${file:}` references, and files and folders it names. A command run here would stop on each
 * (`missing`), or skip it (`warning`: some of rules.paths missing, the rest still load; all of them missing stops
 * the commands that run rules).
 */
export function missingHere(loaded: LoadedConfig): { level: 'missing' | 'warning'; text: string }[] {
  const rulePaths = loaded.missingPaths.filter((p) => p.path.startsWith('rules.paths.'));
  const allRulesMissing = rulePaths.length > 0 && rulePaths.length === loaded.config.rules.paths.length;
  return [
    ...loaded.unresolvedRefs.map((p) => ({ level: 'missing' as const, text: `${p.where} ${p.path}: ${p.message} here (checked as written)` })),
    ...loaded.missingPaths.map((p) => ({
      level: p.path.startsWith('rules.paths.') && !allRulesMissing ? ('warning' as const) : ('missing' as const),
      text: `${p.where} ${p.path}: ${p.message}${p.path.startsWith('rules.paths.') ? (allRulesMissing ? ' (no rules path exists: the commands that run rules stop)' : ' (skipped, the other rules paths load)') : ''}`,
    })),
  ];
}

/**
 * `seam config check [FILE]`: validates, then prints the effective config (defaults filled in) with secrets masked.
 * Exit 2: invalid; 1: valid, but something it refers to is missing here (a variable, a file), so a command run here
 * with it would stop; 0: neither. A variable not set here does not make the file invalid: a deployment's secrets are
 * often only in its pods.
 */
export async function configCheckCommand(file: string | undefined, env: NodeJS.ProcessEnv = process.env, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const loaded = await loadCliConfig(file, env, err, { unresolvedRefs: 'report' });
  if (loaded === undefined) return 2;
  // The alert delivery file seam.yml names is validated too (`seam run` reads it before anything else).
  if (loaded.config.delivery !== undefined && existsSync(loaded.config.delivery)) {
    const { loadDeliveryConfig } = await import('../sinks/registry.ts');
    try {
      loadDeliveryConfig(loaded.config.delivery);
    } catch (e) {
      err.write(`seam: ${isSeamError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
      return 2;
    }
  }
  // One cluster name in two accounts in identity.clusters: which oidcIssuer and egressCidrs apply is ambiguous (review-platsec H2).
  const sameName = sameNameClusters(loaded.config);
  if (sameName.refuse.length > 0) {
    for (const r of sameName.refuse) err.write(`seam config check: refused: ${r}\n`);
    return 2;
  }
  out.write(`# ${loaded.file ?? '(no file: defaults)'} is valid\n`);
  // SEAM_* variables set here take precedence over the file (docs/config-reference.md): say which field each one sets.
  const fromEnv = [...loaded.fromEnv].map(([field, variable]) => `${variable} -> ${field}`);
  if (fromEnv.length > 0) out.write(`# set from the environment (over the file): ${fromEnv.join(', ')}\n`);
  out.write(`# mode: ${loaded.config.kafka ? `Kafka ${loaded.config.kafka.brokers.join(',')}` : 'embedded (no kafka section, no SEAM_KAFKA_BROKERS)'}\n`);
  // AWS's ranges file, read and checked by loadCliConfig (once per process): what it holds, as the import command says it.
  const ranges = loaded.config.native.awsIpRangesFile;
  if (ranges !== undefined && !loaded.missingPaths.some((p) => p.path === 'native.awsIpRangesFile')) out.write(`# ${awsRangesSummary(loadAwsRanges(ranges))}\n`);
  for (const [i, spec] of loaded.config.native.addressLists.entries()) {
    if (!loaded.missingPaths.some((p) => p.path === `native.addressLists.${i}.path`)) out.write(`# ${addressListSummary(readAddressList(spec))}\n`);
  }
  for (const p of loaded.literalSecrets) err.write(`seam config check: warning: ${p} is written in the file; prefer \${env:NAME} or \${file:PATH}\n`);
  for (const w of clusterAccountWarnings(loaded.config)) err.write(`seam config check: warning: ${w}\n`);
  const rawParts = rawTopicPartitions(loaded);
  if (rawParts.warning !== undefined) err.write(`seam config check: warning: ${rawParts.warning}\n`);
  for (const w of sameName.warn) err.write(`seam config check: warning: ${w}\n`);
  const findings = missingHere(loaded);
  // A placeholder key no rule names is a typo the commands that run rules would silently ignore (review-newuser2 M4).
  const rulesMissing = loaded.missingPaths.some((p) => p.path === 'rules.placeholdersFile');
  if (!rulesMissing) {
    const { sitePlaceholderWarnings } = await import('../detect/load.ts');
    const site = { placeholdersFile: loaded.config.rules.placeholdersFile, placeholders: loaded.config.rules.placeholders };
    try {
      for (const w of await sitePlaceholderWarnings(site, loaded.config.rules.paths)) err.write(`seam config check: warning: ${w}\n`);
    } catch (e) {
      err.write(`seam config check: warning: ${(e as Error).message}\n`);
    }
  }
  for (const text of await awsRegionMissing(loaded.config)) findings.push({ level: 'missing', text });
  for (const f of findings) err.write(`seam config check: ${f.level === 'missing' ? 'missing here' : 'warning'}: ${f.text}\n`);
  out.write(stringify(maskSecrets(loaded.config), { lineWidth: 0 }));
  const missing = findings.filter((f) => f.level === 'missing').length;
  if (missing === 0) return 0;
  err.write(
    `seam config check: ${loaded.file ?? 'the configuration'} is valid, but ${missing} thing${missing === 1 ? '' : 's'} it refers to ${missing === 1 ? 'is' : 'are'} missing here (above): a command run here with it would stop (relative paths in the file resolve against its folder)\n`,
  );
  return 1;
}
