/** The one back-off Seam uses where it retries by itself (the OpenSearch sink), and an abortable wait. */

export interface BackoffConfig {
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** The back-off ceiling before retry number `attempt` (1-based): initial × 2^(attempt−1), capped. */
export function backoffCeilingMs(attempt: number, r: BackoffConfig): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(r.maxBackoffMs, r.initialBackoffMs * 2 ** exp);
}

/** Full jitter: a uniform wait in [0, ceiling], so clients that failed together do not retry together. */
export function fullJitterMs(attempt: number, r: BackoffConfig, random: () => number = Math.random): number {
  return Math.floor(random() * (backoffCeilingMs(attempt, r) + 1));
}

/** Waits `ms`, or less if the signal aborts first (never rejects). */
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
