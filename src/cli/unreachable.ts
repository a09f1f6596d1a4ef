import type { LoadedConfig } from '../core/config/load.ts';
import { redactUrlCredentials } from '../core/logger.ts';

/**
 * What the commands say when Kafka or OpenSearch does not answer (review item 9): where they looked (the URL or
 * brokers, and which setting gave them: a flag, a SEAM_* variable, seam.yml, or the default) and what to do. A bare
 * `connect ECONNREFUSED 127.0.0.1:9200` names neither.
 */

/** Where a setting came from: the flag (when given), the SEAM_* variable that set it, the file, or the default. */
export function settingOrigin(loaded: LoadedConfig, field: string, flag?: string): string {
  if (flag !== undefined) return flag;
  const variable = loaded.fromEnv.get(field);
  if (variable !== undefined) return variable;
  const written = field.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), loaded.input);
  return written !== undefined && loaded.file !== undefined ? `${field} in ${loaded.file}` : `the default ${field}`;
}

/** A refused, unresolvable, reset or timed-out connection (not an answer such as 401 or 404). */
export function isConnectionFailure(e: unknown): boolean {
  const x = e as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | null;
  if (x === null || typeof x !== 'object') return false;
  if (x.name === 'ConnectionError' || x.name === 'TimeoutError' || x.name === 'KafkaJSConnectionError' || x.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  if (typeof x.code === 'string' && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET)$/.test(x.code)) return true;
  if (typeof x.message === 'string' && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT|Connection (error|timeout)/.test(x.message)) return true;
  return x.cause !== undefined && x.cause !== e && isConnectionFailure(x.cause);
}

const message = (e: unknown): string => redactUrlCredentials(e instanceof Error ? e.message : String(e));

/** `SEAM_ERR_SINK_UNAVAILABLE: cannot reach OpenSearch at <urls> (from <origin>): <why>. <what to do>` */
export function openSearchUnreachable(urls: readonly string[], origin: string, e: unknown): string {
  return (
    `SEAM_ERR_SINK_UNAVAILABLE: cannot reach OpenSearch at ${urls.map(redactUrlCredentials).join(', ')} (from ${origin}): ${message(e)}. ` +
    'Start it (here: `npm run services:up`, or `docker compose up -d opensearch`), or name yours with --url, SEAM_OPENSEARCH_URL or opensearch.nodeUrls in seam.yml'
  );
}

/**
 * `SEAM_ERR_BUS_CONNECT: cannot connect to Kafka <brokers> (from <origin>): <why>. <what to do>`; for a refused
 * connection, start Kafka or name it; for anything else (TLS, SASL), check the credentials.
 */
export function kafkaUnreachable(brokers: readonly string[], origin: string, auth: string, e: unknown): string {
  const cause = (e as { cause?: unknown } | null)?.cause ?? e;
  const down = isConnectionFailure(cause);
  return (
    `SEAM_ERR_BUS_CONNECT: cannot connect to Kafka ${brokers.join(',')}${auth} (from ${origin}): ${message(cause)}. ` +
    (down
      ? 'Start it (here: `npm run services:up`, or `docker compose up -d kafka`), or name yours with SEAM_KAFKA_BROKERS or kafka.brokers in seam.yml; without Kafka, `seam run` runs embedded'
      : 'Check the connection settings and credentials (kafka.tls, kafka.sasl in seam.yml; SEAM_KAFKA_SASL_*)')
  );
}
