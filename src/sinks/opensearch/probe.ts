import { createOpenSearchClient } from './client.ts';
import type { OpenSearchSinkConfig } from './config.ts';

/**
 * "Is the sink reachable?" for /readyz: a ping (HEAD /) on a client of its own, at most every
 * `everyMs` (a readiness probe every few seconds must not add load). The answer is undefined when the
 * cluster answered, else why not. Amazon OpenSearch Serverless does not serve HEAD / (it answers 404),
 * so there a 404 counts as reachable: the endpoint answered, signed.
 */
export async function opensearchProbe(
  cfg: Pick<OpenSearchSinkConfig, 'nodeUrls' | 'auth' | 'tls' | 'requestTimeoutMs'>,
  everyMs = 5_000,
): Promise<{ check(): Promise<string | undefined>; close(): Promise<void> }> {
  const client = await createOpenSearchClient({ ...cfg, requestTimeoutMs: Math.min(cfg.requestTimeoutMs, 5_000) });
  let last: { at: number; answer: Promise<string | undefined> } | undefined;
  const ask = async (): Promise<string | undefined> => {
    try {
      await client.ping();
      return undefined;
    } catch (e) {
      const status = (e as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (status === 404 && cfg.auth.type === 'aws-sigv4' && cfg.auth.service === 'aoss') return undefined;
      return `OpenSearch at ${cfg.nodeUrls.join(', ')} did not answer: ${status === undefined ? '' : `HTTP ${status}: `}${(e as Error).message}`;
    }
  };
  return {
    check: () => {
      const now = Date.now();
      if (last === undefined || now - last.at >= everyMs) last = { at: now, answer: ask() };
      return last.answer;
    },
    close: () => client.close(),
  };
}
