import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import type { OpenSearchSinkConfig } from './config.ts';

/**
 * Builds an OpenSearch client from the sink config. The client's own retries are off
 * (`maxRetries: 0`): it retries 502/503/504 and connection errors at once and without back-off,
 * which would hide overload from Seam's batcher. The batcher does its own back-off instead.
 *
 * SigV4: the signer ships with the client (`@opensearch-project/opensearch/aws-v3`, signing with
 * `aws4`), and loads `@aws-sdk/credential-provider-node` for the default credential chain when
 * the first request is signed. That package is not a direct dependency of Seam; it is present
 * because the `@aws-sdk/client-*` packages depend on it.
 */
export async function createOpenSearchClient(
  cfg: Pick<OpenSearchSinkConfig, 'nodeUrls' | 'auth' | 'tls' | 'requestTimeoutMs'>,
): Promise<Client> {
  const opts: ClientOptions = {
    nodes: cfg.nodeUrls,
    maxRetries: 0,
    requestTimeout: cfg.requestTimeoutMs,
    // One node answering the bulk API is enough; do not let a dead mark stop requests to a single node.
    resurrectStrategy: 'optimistic',
  };
  if (cfg.nodeUrls.some((u) => u.startsWith('https:'))) {
    opts.ssl = {
      rejectUnauthorized: cfg.tls.rejectUnauthorized,
      ...(cfg.tls.caFile ? { ca: readFileSync(cfg.tls.caFile) } : {}),
    };
  }
  switch (cfg.auth.type) {
    case 'none':
      break;
    case 'basic':
      opts.auth = { username: cfg.auth.username, password: cfg.auth.password };
      break;
    case 'aws-sigv4': {
      const { AwsSigv4Signer } = await import('@opensearch-project/opensearch/aws-v3');
      Object.assign(opts, AwsSigv4Signer({ region: cfg.auth.region, service: cfg.auth.service }));
      break;
    }
  }
  return new Client(opts);
}
