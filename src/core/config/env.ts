/**
 * SEAM_* environment variables that override single fields of seam.yml (after `${env:}`/`${file:}`
 * references are resolved, before validation). A flag on the command line wins over both. The table is
 * the documentation: docs/config-reference.md lists it, and a test sets every variable.
 */

type Kind = 'string' | 'list' | 'int';

export interface EnvOverride {
  name: string;
  /** Field path in seam.yml. */
  path: string[];
  kind: Kind;
  secret?: boolean;
  /** Sets these fields too when the variable is set and they are not (the variant a field belongs to). */
  implies?: { path: string[]; value: unknown }[];
  doc: string;
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: 'SEAM_KAFKA_BROKERS', path: ['kafka', 'brokers'], kind: 'list', doc: 'Comma-separated brokers; setting it turns on Kafka mode.' },
  { name: 'SEAM_KAFKA_CLIENT_ID', path: ['kafka', 'clientId'], kind: 'string', doc: 'Kafka client id prefix.' },
  { name: 'SEAM_KAFKA_REPLICATION', path: ['kafka', 'replicationFactor'], kind: 'int', doc: 'Replication factor of created topics.' },
  { name: 'SEAM_TOPIC_PREFIX', path: ['kafka', 'topicPrefix'], kind: 'string', doc: 'Prefix of every topic.' },
  { name: 'SEAM_GROUP_PREFIX', path: ['kafka', 'groupPrefix'], kind: 'string', doc: 'Prefix of every consumer group (the roles\' and the short-lived ones).' },
  { name: 'SEAM_KAFKA_TLS_CA_FILE', path: ['kafka', 'tls', 'caFile'], kind: 'string', doc: 'CA of the brokers (turns TLS on).' },
  { name: 'SEAM_KAFKA_SASL_MECHANISM', path: ['kafka', 'sasl', 'mechanism'], kind: 'string', doc: 'plain, scram-sha-256, scram-sha-512 or aws-msk-iam.' },
  { name: 'SEAM_KAFKA_SASL_USERNAME', path: ['kafka', 'sasl', 'username'], kind: 'string', doc: 'SASL user.' },
  { name: 'SEAM_KAFKA_SASL_PASSWORD', path: ['kafka', 'sasl', 'password'], kind: 'string', secret: true, doc: 'SASL password (secret).' },
  { name: 'SEAM_KAFKA_AWS_REGION', path: ['kafka', 'sasl', 'region'], kind: 'string', implies: [{ path: ['kafka', 'sasl', 'mechanism'], value: 'aws-msk-iam' }], doc: 'Region for MSK IAM auth (implies sasl.mechanism aws-msk-iam).' },
  { name: 'SEAM_OPENSEARCH_URL', path: ['opensearch', 'nodeUrls'], kind: 'list', doc: 'Comma-separated OpenSearch node URLs.' },
  { name: 'SEAM_OPENSEARCH_USERNAME', path: ['opensearch', 'auth', 'username'], kind: 'string', implies: [{ path: ['opensearch', 'auth', 'type'], value: 'basic' }], doc: 'Basic auth user (implies auth.type basic).' },
  { name: 'SEAM_OPENSEARCH_PASSWORD', path: ['opensearch', 'auth', 'password'], kind: 'string', secret: true, doc: 'Basic auth password (secret).' },
  { name: 'SEAM_OPENSEARCH_AWS_REGION', path: ['opensearch', 'auth', 'region'], kind: 'string', implies: [{ path: ['opensearch', 'auth', 'type'], value: 'aws-sigv4' }], doc: 'SigV4 region (implies auth.type aws-sigv4).' },
  { name: 'SEAM_OPENSEARCH_AWS_SERVICE', path: ['opensearch', 'auth', 'service'], kind: 'string', doc: 'SigV4 service: es or aoss.' },
  { name: 'SEAM_OPENSEARCH_CA_FILE', path: ['opensearch', 'tls', 'caFile'], kind: 'string', doc: 'CA of the OpenSearch nodes.' },
  { name: 'SEAM_INDEX_PREFIX', path: ['opensearch', 'indexPrefix'], kind: 'string', doc: 'Prefix of every index (lowercase letters, digits and underscores; see opensearch.indexPrefix).' },
  { name: 'SEAM_OPENSEARCH_REPLICAS', path: ['opensearch', 'replicas'], kind: 'int', doc: 'Replicas of new indices.' },
  { name: 'SEAM_RULES', path: ['rules', 'paths'], kind: 'list', doc: 'Comma-separated rule files or folders.' },
  { name: 'SEAM_PLACEHOLDERS_FILE', path: ['rules', 'placeholdersFile'], kind: 'string', doc: 'Placeholder values file.' },
  { name: 'SEAM_ALLOWED_LATENESS_MS', path: ['rules', 'allowedLatenessMs'], kind: 'int', doc: 'Allowed lateness (ms).' },
  { name: 'SEAM_AWS_IP_RANGES', path: ['native', 'awsIpRangesFile'], kind: 'string', doc: 'AWS IP ranges file (ip-ranges.json, or gzipped).' },
  { name: 'SEAM_CORRELATE_IDLE_MS', path: ['correlate', 'idleMs'], kind: 'int', doc: 'Correlate idle advance (ms).' },
  { name: 'SEAM_CORRELATE_POLL_MS', path: ['correlate', 'pollMs'], kind: 'int', doc: 'Correlate poll interval (ms).' },
  { name: 'SEAM_CORRELATE_MAX_SOURCE_DELAY_MS', path: ['correlate', 'maxSourceDelayMs'], kind: 'int', doc: 'Longest delivery delay an idle raw partition holds the correlate watermark for (ms).' },
  { name: 'SEAM_METRICS_ADDR', path: ['metrics', 'addr'], kind: 'string', doc: 'Metrics and health listener (host:port; off/none turns it off).' },
];

/**
 * SEAM_* variables that set no field of seam.yml: they are read by the process itself (logging, the rule cache,
 * which build runs, the collector's replica). Listed so that docs/config-reference.md documents them beside the
 * overrides; each name here is read where its `doc` says.
 */
export const PROCESS_ENV: readonly { name: string; doc: string }[] = [
  { name: 'SEAM_LOG_LEVEL', doc: 'Level of Seam\'s log lines on stderr: trace, debug, info (default), warn, error, fatal or silent (src/core/logger.ts).' },
  { name: 'SEAM_LOG_FORMAT', doc: '`json` (one JSON object per line, for log collectors) or `text` (for a person: `seam: message`; from warn up `seam: WARN [component] message key=value`). Default: `text` when stderr is a terminal, else `json` (src/core/logger.ts). Node’s own warnings (a deprecation; the AWS SDK’s NodeVersionSupportWarning on Node 20, which asks for Node 22 from January 2027) come as one such line at warn, component `node`; `NODE_OPTIONS=--no-warnings` silences them.' },
  { name: 'SEAM_KAFKAJS_LOG_LEVEL', doc: 'Level of the Kafka client\'s own log lines: error, warn (default), info, debug or nothing (src/bus/kafka.ts).' },
  { name: 'SEAM_CACHE_DIR', doc: 'Folder of the rule cache and the parsed ASN table (default `.cache/seam` in the working folder; `off` for none). `seam rules lint` and `seam rules test` never use it (src/core/cache-dir.ts).' },
  { name: 'SEAM_RUNTIME', doc: '`auto` (default: run dist/ when it is built and not older than the sources, else the sources through tsx), `tsx` (always the sources) or `dist` (always dist/; a missing or stale build is an error, for images; bin/seam.mjs, ADR 0013).' },
  { name: 'SEAM_REPLICA_ID', doc: '`seam collect` only: this replica\'s id (a StatefulSet pod name, as the Helm chart sets it), put into the `ownership.replicaId` of every `collect.sources.<name>` that has an `ownership` section, and into the Kafka client id, so one file serves every replica (src/cli/collect.ts, ADR 0004).' },
];

export class EnvValueError extends Error {
  constructor(
    readonly variable: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function value(o: EnvOverride, raw: string): unknown {
  switch (o.kind) {
    case 'string':
      return raw.trim();
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'int': {
      const n = Number(raw.trim());
      if (!Number.isInteger(n)) throw new EnvValueError(o.name, o.path.join('.'), `must be an integer (got '${raw}')`);
      return n;
    }
  }
}

function setIn(root: Record<string, unknown>, path: string[], v: unknown, onlyIfMissing = false): void {
  let cur = root;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (onlyIfMissing && cur[last] !== undefined) return;
  cur[last] = v;
}

/**
 * Applies the set SEAM_* variables to a plain config object (mutates it) and returns, per field path
 * (dotted), the variable that set it, so errors can name the variable instead of a file position.
 */
export function applyEnvOverrides(root: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const from = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.name];
    if (raw === undefined || raw.trim() === '') continue;
    setIn(root, o.path, value(o, raw));
    from.set(o.path.join('.'), o.name);
    for (const i of o.implies ?? []) setIn(root, i.path, i.value, true);
  }
  return from;
}
