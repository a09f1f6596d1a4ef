import { pino, type Logger } from 'pino';

/**
 * The process-wide logger. Logs go to stderr so that stdout stays free for data (JSONL alerts,
 * `--out -`). Level comes from SEAM_LOG_LEVEL (default `info`). The error field is named `error`.
 */
export const logger: Logger = pino(
  {
    name: 'seam',
    level: process.env.SEAM_LOG_LEVEL ?? 'info',
    errorKey: 'error',
    base: undefined,
  },
  pino.destination({ fd: 2, sync: false }),
);

export function childLogger(component: string): Logger {
  return logger.child({ component });
}
