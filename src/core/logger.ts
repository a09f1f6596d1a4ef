import { pino, type Logger } from 'pino';

/**
 * The process-wide logger. Logs go to stderr so that stdout stays free for data (JSONL alerts,
 * `--out -`). Level comes from SEAM_LOG_LEVEL (default `info`), the format from SEAM_LOG_FORMAT (`logFormat`). The
 * error field is named `error`.
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

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * One JSON log line as a person reads it on a terminal: `seam: message` at info and below (the sentence says it; the
 * fields are for machines), `seam: WARN [component] message key=value ...` at warn and above, an error as its code
 * and message. The JSON line is what every part comes from.
 */
export function humanLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time: _time, msg, component, name: _name, ...rest } = o;
  const text = typeof msg === 'string' ? msg : '';
  if (typeof level === 'number' && level < 40) return `seam: ${text}\n`;
  const lvl = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : '';
  const fields = Object.entries(rest).map(([k, v]) => {
    if (k === 'error' && v !== null && typeof v === 'object') {
      const e = v as { code?: unknown; message?: unknown };
      return `error=${JSON.stringify(`${e.code !== undefined ? `${String(e.code)}: ` : ''}${String(e.message ?? '')}`)}`;
    }
    return `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`;
  });
  return `seam: ${lvl} ${typeof component === 'string' ? `[${component}] ` : ''}${text}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

/**
 * JSON lines (for log collectors) or human lines (`text`, for a person at a terminal): SEAM_LOG_FORMAT, else text
 * when stderr is a terminal and JSON otherwise (review newuser2 L5).
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, stderrIsTty: boolean = process.stderr.isTTY === true): 'json' | 'text' {
  const f = env.SEAM_LOG_FORMAT;
  if (f === 'json' || f === 'text') return f;
  return stderrIsTty ? 'text' : 'json';
}

/** Human lines, written at once (a terminal is not a log pipeline: no batching to lose on exit). */
const textStderr = {
  write(line: string): void {
    process.stderr.write(humanLogLine(line));
  },
};

export const logger: Logger = pino(
  {
    name: 'seam',
    level: process.env.SEAM_LOG_LEVEL ?? 'info',
    errorKey: 'error',
    base: undefined,
    serializers: { error: (e: unknown) => safeError(e), url: (u: unknown) => (typeof u === 'string' ? redactUrlCredentials(u) : u) },
  },
  logFormat() === 'text' ? textStderr : pino.destination({ fd: 2, sync: false }),
);

export function childLogger(component: string): Logger {
  return logger.child({ component });
}

/**
 * Node's process warnings (the AWS SDK's multi-line NodeVersionSupportWarning on Node 20, deprecations) as one Seam
 * log line each, at warn, instead of Node's own lines on stderr: a JSON log pipeline got nine lines that are not JSON
 * at every `seam collect` start. The warning's text is kept, on one line; `--no-warnings` still silences them.
 */
export function logProcessWarnings(): void {
  if (process.listenerCount('warning') === 0) return; // --no-warnings: Node installed no printer, keep it that way
  process.removeAllListeners('warning');
  const log = childLogger('node');
  process.on('warning', (w: Error & { code?: string }) => {
    log.warn({ warning: w.name, ...(w.code === undefined ? {} : { code: w.code }) }, w.message.replace(/\s*\n\s*/g, ' ').trim());
  });
}

/** Writes out what the logger holds (its destination is asynchronous), so a line printed next comes after it. */
export function flushLogs(): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
