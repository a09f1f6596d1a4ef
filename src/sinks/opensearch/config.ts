import { z } from 'zod';

/**
 * Configuration of the OpenSearch sink and of `seam setup opensearch`. The schema is the
 * documentation: every field says what it does, defaults live here, units are in the names.
 */

const MiB = 1024 * 1024;

export const OpenSearchAuth = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none').describe('No authentication (the local node, or a private cluster behind a proxy).') }),
    z.strictObject({
      type: z.literal('basic').describe('HTTP basic authentication (OpenSearch security plugin internal users).'),
      username: z.string().min(1).describe('User name.'),
      password: z.string().min(1).describe('Password (secret: write ${env:NAME} or ${file:PATH} in seam.yml, or set SEAM_OPENSEARCH_PASSWORD).'),
    }),
    z.strictObject({
      type: z.literal('aws-sigv4').describe('AWS Signature V4 with credentials from the AWS SDK default provider chain.'),
      region: z.string().min(1).describe('AWS region of the domain or collection, e.g. eu-west-1.'),
      service: z.enum(['es', 'aoss']).default('es').describe("'es' for Amazon OpenSearch Service domains, 'aoss' for OpenSearch Serverless."),
    }),
  ])
  .describe('How Seam authenticates to OpenSearch.');
export type OpenSearchAuth = z.infer<typeof OpenSearchAuth>;

export const OpenSearchTls = z
  .strictObject({
    caFile: z.string().min(1).optional().describe('PEM file with the CA that signed the cluster certificate (self-signed clusters).'),
    rejectUnauthorized: z.boolean().default(true).describe('Refuse certificates that do not chain to a trusted CA. Turn off only for local experiments.'),
  })
  .describe('TLS options for https:// node URLs.');
export type OpenSearchTls = z.infer<typeof OpenSearchTls>;

export const RetryConfig = z
  .strictObject({
    initialBackoffMs: z.number().int().min(1).default(100).describe('Back-off ceiling of the first retry; it doubles per attempt (full jitter: the wait is uniform in [0, ceiling]).'),
    maxBackoffMs: z.number().int().min(1).default(30_000).describe('Upper bound of the back-off ceiling.'),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .default(10)
      .describe('Retries of a document after 429, 5xx, rejected execution or connection errors; then it is reported as failed (not durable, not dead-lettered).'),
  })
  .refine((r) => r.maxBackoffMs >= r.initialBackoffMs, { message: 'retry.maxBackoffMs must be at least retry.initialBackoffMs', path: ['maxBackoffMs'] })
  .describe('Exponential back-off with full jitter, at request and at item level.');
export type RetryConfig = z.infer<typeof RetryConfig>;

export const OpenSearchSinkConfig = z
  .strictObject({
    nodeUrls: z
      .array(z.url({ protocol: /^https?$/ }))
      .min(1)
      .default(['http://127.0.0.1:9200'])
      .describe('OpenSearch node URLs (http:// or https://); requests are spread over them.'),
    auth: OpenSearchAuth.prefault({ type: 'none' }),
    tls: OpenSearchTls.prefault({}),
    indexPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_]*$/, 'lowercase letters, digits and underscores, starting with a letter or digit')
      .default('seam')
      .describe('Prefix of every index and template: <prefix>-events-<source>-YYYY.MM.DD, <prefix>-alerts-YYYY.MM.DD, <prefix>-identity. Lowercase letters, digits and underscores, starting with a letter or digit (`^[a-z0-9][a-z0-9_]*$`): no hyphens, dots or capitals, unlike kafka.topicPrefix (`seam_prod`, not `seam-prod`); another value is refused when the file is read.'),
    shards: z.number().int().min(1).default(1).describe('number_of_shards of new indices. Daily indices of one shard suit most clusters.'),
    replicas: z.number().int().min(0).default(1).describe('number_of_replicas of new indices; 0 for a single node (the local one) or the cluster stays yellow.'),
    refreshIntervalMs: z.number().int().min(-1).default(5_000).describe('index.refresh_interval of new indices; how soon indexed documents become searchable. -1 disables refresh.'),
    dailyIndices: z
      .boolean()
      .default(true)
      .describe('Write to one index per day (…-YYYY.MM.DD, from @timestamp in UTC) so retention is deleting old indices, with or without ISM. When false, one index per kind (…-all).'),
    maxBatchBytes: z.number().int().min(1024).default(5 * MiB).describe('Upper bound of one bulk request body in bytes; a single larger document is sent alone.'),
    maxBatchDocs: z.number().int().min(1).default(2000).describe('Upper bound of documents in one bulk request.'),
    flushIntervalMs: z.number().int().min(0).default(200).describe('How long a partly filled batch waits for more documents before it is sent.'),
    maxConcurrentRequests: z.number().int().min(1).default(2).describe('Bulk requests in flight at once.'),
    maxBufferedBytes: z
      .number()
      .int()
      .min(1024)
      .default(20 * MiB)
      .describe('Backpressure: bytes of documents accepted but not yet acknowledged; write() waits while more than this is buffered.'),
    requestTimeoutMs: z.number().int().min(1).default(60_000).describe('Timeout of one HTTP request; a timed-out bulk request is retried (documents have fixed ids, so a retry overwrites).'),
    retry: RetryConfig.prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.maxBufferedBytes < c.maxBatchBytes) {
      ctx.addIssue({ code: 'custom', path: ['maxBufferedBytes'], message: `maxBufferedBytes (${c.maxBufferedBytes}) must be at least maxBatchBytes (${c.maxBatchBytes}), or no full batch can ever be buffered` });
    }
    const https = c.nodeUrls.some((u) => u.startsWith('https:'));
    if (c.tls.caFile && !https) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'caFile'], message: 'tls.caFile is set but no node URL uses https://' });
    }
    if (c.auth.type === 'aws-sigv4' && !https) {
      ctx.addIssue({ code: 'custom', path: ['nodeUrls'], message: 'aws-sigv4 auth needs https:// node URLs (Amazon OpenSearch endpoints are HTTPS only)' });
    }
  })
  .describe('OpenSearch sink: where and how Seam indexes events, alerts and the identity graph.');
export type OpenSearchSinkConfig = z.infer<typeof OpenSearchSinkConfig>;
/** What a user writes: every field with a default may be left out. */
export type OpenSearchSinkConfigInput = z.input<typeof OpenSearchSinkConfig>;

/** The node URL when none is configured: SEAM_OPENSEARCH_URL, else the local node (seam.yml's loader applies the same variable). */
export function defaultNodeUrls(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env.SEAM_OPENSEARCH_URL?.split(',').map((s) => s.trim()).filter(Boolean);
  return fromEnv && fromEnv.length > 0 ? fromEnv : ['http://127.0.0.1:9200'];
}
