/**
 * How Seam's collectors call AWS, configured once: the SDK's own retry strategy retries throttling, 5xx and
 * dropped connections (adaptive mode by default: it also rate-limits the client after throttling, which is
 * what a poller that shares an account's API quota wants). Seam never wraps a second retry loop around an
 * SDK call — that multiplied the attempts (8 Seam retries × 3 SDK attempts = 27 HTTP calls per page). When the
 * SDK gives up, the call fails with a SeamError and the collector's poll loop decides: count it, keep the
 * checkpoint, try again at the next poll.
 */
import { z } from 'zod';
import { SeamError } from '../../core/errors.ts';

/**
 * An AWS region name (eu-west-1, us-gov-west-1, cn-northwest-1, eu-isoe-west-1). A typo such as eu-west-l can never
 * work: the SDK would call guardduty.eu-west-l.amazonaws.com, which does not resolve, on every poll.
 */
export const AwsRegionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, { message: 'is not an AWS region name (such as eu-west-1)' });

/** Config fields every AWS-reading collector shares (spread into its strict schema). */
export const AwsCallConfigFields = {
  maxAttempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe('HTTP attempts per AWS call (the first one included) made by the SDK before the poll fails; the poll is tried again at the next interval.'),
  retryMode: z
    .enum(['adaptive', 'standard'])
    .default('adaptive')
    .describe("The SDK's retry strategy: `adaptive` (default) also slows the client down after throttling; `standard` retries with back-off only."),
} as const;

export interface AwsCallConfig {
  region?: string | undefined;
  endpoint?: string | undefined;
  maxAttempts: number;
  retryMode: 'adaptive' | 'standard';
}

/** Constructor options for an SDK v3 client (CloudWatchLogs, GuardDuty, ...). */
export function awsClientOptions(c: AwsCallConfig): { region?: string; endpoint?: string; maxAttempts: number; retryMode: 'adaptive' | 'standard' } {
  return {
    ...(c.region ? { region: c.region } : {}),
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    maxAttempts: c.maxAttempts,
    retryMode: c.retryMode,
  };
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

/** True for failures that time may cure: throttling, 5xx, dropped connections. */
export function isTransientAwsError(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const x = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (x.name !== undefined && THROTTLE_NAMES.has(x.name)) return true;
  if (x.code !== undefined && NETWORK_CODES.has(x.code)) return true;
  if (x.$retryable !== undefined && x.$retryable !== null) return true;
  const status = x.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/** HTTP attempts the SDK made for a failed call (from the error's metadata), 1 when it does not say. */
export function attemptsOf(e: unknown): number {
  const n = (e as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
  return typeof n === 'number' && n > 0 ? n : 1;
}

/** The host name of a failed DNS lookup (getaddrinfo ENOTFOUND), else undefined. */
export function unresolvedHost(e: unknown): string | undefined {
  const x = e as { code?: unknown; hostname?: unknown; message?: unknown } | null;
  if (x === null || typeof x !== 'object' || x.code !== 'ENOTFOUND') return undefined;
  if (typeof x.hostname === 'string' && x.hostname !== '') return x.hostname;
  return typeof x.message === 'string' ? (/ENOTFOUND (\S+)/.exec(x.message)?.[1] ?? 'the endpoint') : 'the endpoint';
}

/** Runs one SDK call; a failure becomes SEAM_ERR_SOURCE_THROTTLED (transient, after the SDK's attempts) or SEAM_ERR_SOURCE_API (an endpoint name that does not resolve included). */
export async function callAws<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const attempts = attemptsOf(e);
    // A name that does not resolve is almost always a typo'd region or endpoint (guardduty.eu-west-l.amazonaws.com),
    // not throttling: say so, so the operator looks at the config rather than at API quotas.
    const host = unresolvedHost(e);
    if (host !== undefined) {
      throw new SeamError('SEAM_ERR_SOURCE_API', `${what} failed: ${host} does not resolve (ENOTFOUND): check the collector's region and endpoint`, {
        cause: e,
        details: { call: what, attempts, host },
      });
    }
    if (isTransientAwsError(e)) {
      throw new SeamError('SEAM_ERR_SOURCE_THROTTLED', `${what} still throttled or failing after ${attempts} attempt(s): ${(e as Error).message}`, {
        cause: e,
        details: { call: what, attempts },
      });
    }
    throw new SeamError('SEAM_ERR_SOURCE_API', `${what} failed: ${(e as Error).message}`, { cause: e, details: { call: what, attempts } });
  }
}
