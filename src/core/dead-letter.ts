import type { SeamError } from './errors.ts';

/**
 * What Seam writes to the dead-letter topic or file for a record it could not carry through: the
 * reason, the stage, a stable code, where it came from, and the original bytes. `dlq replay` reads
 * `raw` back, so `raw` is the record exactly as received (or, for an oversized record, its head
 * plus the byte range where the whole of it stays).
 */
export interface DeadLetter {
  at: string;
  stage: 'read' | 'parse' | 'normalize' | 'detect' | 'index' | 'produce';
  code: string;
  reason: string;
  retriable: boolean;
  origin?: string;
  collector?: string;
  details?: Record<string, unknown>;
  raw: string;
  /** True when `raw` is not the whole record (oversized records are not held in memory). */
  raw_partial?: boolean;
}

export function deadLetter(
  stage: DeadLetter['stage'],
  error: SeamError,
  raw: string,
  ctx: { origin?: string; collector?: string; at?: string } = {},
): DeadLetter {
  const partial = error.code === 'SEAM_ERR_INPUT_OVERSIZED' && typeof error.details.bytes === 'number' && raw.length < (error.details.bytes as number);
  return {
    at: ctx.at ?? new Date().toISOString(),
    stage,
    code: error.code,
    reason: error.message,
    retriable: error.retriable,
    ...(ctx.origin ? { origin: ctx.origin } : {}),
    ...(ctx.collector ? { collector: ctx.collector } : {}),
    ...(Object.keys(error.details).length ? { details: error.details } : {}),
    raw,
    ...(partial ? { raw_partial: true } : {}),
  };
}
