import { isSeamError } from '../core/errors.ts';
import { backoffCeilingMs, sleep, type BackoffConfig } from '../core/backoff.ts';
import { childLogger } from '../core/logger.ts';
import type { CollectorStats } from './checkpoint/stats.ts';

const log = childLogger('collect');

/** Waits between start attempts: 1 s, 2 s, 4 s … capped at one minute. */
export const START_BACKOFF: BackoffConfig = { initialBackoffMs: 1_000, maxBackoffMs: 60_000 };

/**
 * Runs a collector's `start` (list the detectors, create the checkpointed writers, read the checkpoints)
 * until it succeeds or `signal` aborts. A start that fails — credentials not mounted yet, a throttled
 * ListDetectors, a Kafka transaction coordinator still loading — is counted under its error code, logged
 * with the wait before the next attempt, and tried again; a collector never stays stopped because its
 * first start failed. Returns false when the signal aborted before a start succeeded.
 */
export async function startWithRetry(
  start: () => Promise<void>,
  o: { collector: string; stats: CollectorStats; signal: AbortSignal; backoff?: BackoffConfig },
): Promise<boolean> {
  const backoff = o.backoff ?? START_BACKOFF;
  for (let attempt = 1; !o.signal.aborted; attempt++) {
    try {
      await start();
      o.stats.started = true;
      if (attempt > 1) log.info({ collector: o.collector, attempts: attempt }, 'The collector started after earlier attempts failed.');
      return true;
    } catch (e) {
      const code = isSeamError(e) ? e.code : 'SEAM_ERR_SOURCE_START';
      o.stats.counters.error(code);
      o.stats.startFailures++;
      o.stats.lastStartError = `${code}: ${(e as Error).message}`;
      const waitMs = backoffCeilingMs(attempt, backoff);
      log.warn({ collector: o.collector, attempt, retryInMs: waitMs, error: e }, 'Starting the collector failed; it is tried again.');
      await sleep(waitMs, o.signal);
    }
  }
  return false;
}
