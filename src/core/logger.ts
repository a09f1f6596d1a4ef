import { pino, type Logger } from 'pino';

/**
 * The process-wide logger. Logs go to stderr so that stdout stays free for data (JSONL alerts,
 * `--out -`). Level comes from SEAM_LOG_LEVEL (default `info`). The error field is named `error`.
 */
/** `https://user:pass@host` → `https://[REDACTED]@host`: logs never print credentials in URLs. */
export function redactUrlCredentials(s: string): string {
  return s.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[REDACTED]@');
}

/**
 * What a log line keeps of an error: type, code, message and stack (credentials in URLs removed),
 * and the same of its cause. Never the client's request or response (an OpenSearch error carries the
 * bulk body, which holds events).
 */
export function safeError(e: unknown, depth = 0): unknown {
  if (!(e instanceof Error)) return typeof e === 'string' ? redactUrlCredentials(e) : e;
  const x = e as Error & { code?: unknown; retriable?: unknown; statusCode?: unknown };
  const out: Record<string, unknown> = { type: x.name, message: redactUrlCredentials(x.message) };
  if (typeof x.code === 'string' || typeof x.code === 'number') out.code = x.code;
  if (typeof x.retriable === 'boolean') out.retriable = x.retriable;
  if (typeof x.statusCode === 'number') out.statusCode = x.statusCode;
  if (x.stack !== undefined) out.stack = redactUrlCredentials(x.stack);
  if (x.cause !== undefined && depth < 3) out.cause = safeError(x.cause, depth + 1);
  return out;
}

export const logger: Logger = pino(
  {
    name: 'seam',
    level: process.env.SEAM_LOG_LEVEL ?? 'info',
    errorKey: 'error',
    base: undefined,
    serializers: { error: (e: unknown) => safeError(e), url: (u: unknown) => (typeof u === 'string' ? redactUrlCredentials(u) : u) },
  },
  pino.destination({ fd: 2, sync: false }),
);

export function childLogger(component: string): Logger {
  return logger.child({ component });
}

/** Writes out what the logger holds (its destination is asynchronous), so a line printed next comes after it. */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
