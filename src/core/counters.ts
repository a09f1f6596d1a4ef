import { childLogger } from './logger.ts';

/** How often at most one WARN line per error code and component is written, while error logging is on. */
export const ERROR_LOG_INTERVAL_MS = 10_000;
type ErrorLine = (component: string, fields: { code: string; count_since_last: number; origin?: string }, msg: string) => void;
let errorLog: ErrorLine | undefined;

/**
 * Turns on the WARN lines of `Counters.error` for this process: long-running commands (`seam run` on Kafka, `seam
 * collect`) turn it on; one-shot commands (`seam replay`, embedded `seam run`) report their errors in their summary.
 */
export function logCountedErrors(on = true, line: ErrorLine = (component, fields, msg) => childLogger(component).warn(fields, msg)): void {
  errorLog = on ? line : undefined;
}

/**
 * The counters every component reports: received, emitted, errors by code, dropped by reason.
 * Plain numbers in a map; the pipeline prints or exports them.
 */
export class Counters {
  received = 0;
  emitted = 0;
  readonly errors = new Map<string, number>();
  readonly dropped = new Map<string, number>();

  /** Per code: errors since the last WARN line, the last one's origin, and when that line was written. */
  private readonly logged = new Map<string, { since: number; origin?: string; at: number }>();

  constructor(readonly component: string) {}

  /**
   * Counts `n` errors of `code` (a dead letter, a failed batch). With logCountedErrors on, also a WARN line per code
   * at most every ERROR_LOG_INTERVAL_MS: `{component, code, count_since_last, origin}`, where count_since_last counts
   * this error and those held back since the previous line (the first error of a code is logged at once).
   */
  error(code: string, n = 1, origin?: string, now: number = Date.now()): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + n);
    if (errorLog === undefined) return;
    const l = this.logged.get(code) ?? { since: 0, at: -Infinity };
    l.since += n;
    if (origin !== undefined) l.origin = origin;
    this.logged.set(code, l);
    if (now - l.at < ERROR_LOG_INTERVAL_MS) return;
    errorLog(this.component, { code, count_since_last: l.since, ...(l.origin !== undefined ? { origin: l.origin } : {}) }, `${code}: ${l.since} since the last line`);
    l.since = 0;
    l.at = now;
  }

  drop(reason: string, n = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
  }

  get errorTotal(): number {
    let t = 0;
    for (const v of this.errors.values()) t += v;
    return t;
  }

  snapshot(): { component: string; received: number; emitted: number; errors: Record<string, number>; dropped: Record<string, number> } {
    return {
      component: this.component,
      received: this.received,
      emitted: this.emitted,
      errors: Object.fromEntries(this.errors),
      dropped: Object.fromEntries(this.dropped),
    };
  }
}
