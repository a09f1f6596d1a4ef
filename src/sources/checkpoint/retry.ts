import { SeamError } from '../../core/errors.ts';

/**
 * Retries an AWS call on throttling and 5xx with exponential back-off and full jitter (so replicas
 * that were throttled together do not retry together). Anything else fails at once.
 */
export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal;
  /** Called before each wait, for counters and logs. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

const THROTTLE_NAMES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalServerErrorException',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/** True for errors worth waiting out: throttling, 5xx, and dropped connections. */
export function isRetriableAwsError(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const x = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (x.name !== undefined && THROTTLE_NAMES.has(x.name)) return true;
  if (x.code !== undefined && NETWORK_CODES.has(x.code)) return true;
  if (x.$retryable !== undefined && x.$retryable !== null) return true;
  const status = x.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

export function backoffDelayMs(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const cap = Math.min(max, base * 2 ** attempt);
  return Math.floor(random() * cap);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetriableAwsError(e)) {
        throw new SeamError('SEAM_ERR_SOURCE_API', `${what} failed: ${(e as Error).message}`, { cause: e, details: { call: what } });
      }
      if (attempt >= opts.maxRetries || opts.signal?.aborted) {
        throw new SeamError('SEAM_ERR_SOURCE_THROTTLED', `${what} still throttled or failing after ${attempt + 1} attempts: ${(e as Error).message}`, {
          cause: e,
          details: { call: what, attempts: attempt + 1 },
        });
      }
      const delay = backoffDelayMs(attempt, opts.baseDelayMs, opts.maxDelayMs, opts.random);
      opts.onRetry?.(e, attempt + 1, delay);
      await sleep(delay, opts.signal);
    }
  }
}
