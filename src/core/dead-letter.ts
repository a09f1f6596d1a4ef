import type { SeamError } from './errors.ts';
import { jsonDepthExceeds } from './normalize/normalize.ts';
import { redactAny, REDACTED, scrub } from './normalize/redact.ts';

/** JSON keys whose string value is a secret, in text that is not (or no longer) parseable JSON. */
const SECRET_JSON_KEY_RE = /("(?:session_?token|secret_?access_?key|secret_?key|password|passwd|private_?key|client_?secret|secret_?string|secret_?binary|x-amz-security-token|cookie|authorization|token)"\s*:\s*")((?:[^"\\]|\\.)*)("?)/gi;
const SECRET_MAP_RE = /("(?:data|stringData)"\s*:\s*\{)([^}]*)(\}?)/g;
const SECRETISH_RE = /"kind"\s*:\s*"secret"|"resource"\s*:\s*"secrets"/i;

/**
 * A record's text with its secrets redacted, as dead letters keep it: a JSON object goes through the
 * same redaction as events (every source's structured rules and the string scan); other text (cut
 * short, not JSON) through the free-text patterns and secret-named JSON keys.
 */
export function redactRaw(raw: string): string {
  const t = raw.trimStart();
  if (t.startsWith('{') && !jsonDepthExceeds(t, 256)) {
    try {
      const v = JSON.parse(raw) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        // Unchanged bytes when there is nothing to redact, so `dlq replay` sends the record as received.
        const r = redactAny(v as Record<string, unknown>);
        return r === v ? raw : JSON.stringify(r);
      }
    } catch {
      // not JSON after all: the text rules below
    }
  }
  let out = scrub(raw).replace(SECRET_JSON_KEY_RE, (m, k: string, v: string, q: string) => (v === REDACTED ? m : k + REDACTED + q));
  if (SECRETISH_RE.test(out)) out = out.replace(SECRET_MAP_RE, (_m, k: string, _v: string, close: string) => `${k}"${REDACTED}":"${REDACTED}"${close}`);
  return out;
}

/**
 * Details strings redacted; `head` and `tail` (excerpts of the record) are cut again from the
 * redacted record, since an excerpt can begin inside a secret's key and hide it from the patterns.
 */
function redactDetails(d: Record<string, unknown>, raw: string, redacted: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) {
    if (typeof v !== 'string') out[k] = v;
    else if (k === 'head' && raw.startsWith(v)) out[k] = redacted.slice(0, v.length);
    else if (k === 'tail' && raw.trimEnd().endsWith(v)) out[k] = redacted.trimEnd().slice(-v.length);
    else out[k] = redactRaw(v);
  }
  return out;
}

/**
 * What Seam writes to the dead-letter topic or file for a record it could not carry through: the
 * reason, the stage, a stable code, where it came from, and the record's bytes after redaction
 * (`redactRaw`: secrets never leave, dead letters included). `dlq replay` reads `raw` back (for an
 * oversized record, its head plus the byte range where the whole of it stays).
 */
export interface DeadLetter {
  at: string;
  stage: 'read' | 'parse' | 'normalize' | 'detect' | 'index' | 'produce' | 'deliver';
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
  const redacted = redactRaw(raw);
  // `raw` is the record's start only: an oversized record's head, or what a caller kept of bytes it could not read (`rawCut`).
  const partial = (error.code === 'SEAM_ERR_INPUT_OVERSIZED' && typeof error.details.bytes === 'number' && raw.length < (error.details.bytes as number)) || error.details.rawCut === true;
  return {
    at: ctx.at ?? new Date().toISOString(),
    stage,
    code: error.code,
    reason: error.message,
    retriable: error.retriable,
    ...(ctx.origin ? { origin: ctx.origin } : {}),
    ...(ctx.collector ? { collector: ctx.collector } : {}),
    ...(Object.keys(error.details).length ? { details: redactDetails(error.details, raw, redacted) } : {}),
    raw: redacted,
    ...(partial ? { raw_partial: true } : {}),
  };
}
