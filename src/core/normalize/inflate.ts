import { constants, gunzipSync } from 'node:zlib';
import { SeamError } from '../errors.ts';

/**
 * Raw messages that arrive gzip-compressed: a CloudWatch Logs subscription delivers its payloads to Kinesis
 * gzipped, and a Kinesis-to-Kafka connector or a Lambda forwarding CloudTrail's `.json.gz` objects passes the
 * bytes on as they are (ADR 0039). The normalize role inflates such a message before anything else reads it.
 */

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Bytes of what a message that does not inflate fully inflates to, kept for its dead letter (redacted there). */
export const INFLATED_HEAD_BYTES = 256 * 1024;
/** Compressed bytes read for that head: deflate expands at most ~1,032:1, so the head costs at most ~17 MB once. */
const HEAD_INPUT_BYTES = 16 * 1024;

export type Inflated =
  | { ok: true; text: string }
  /**
   * `head`: the start of what the bytes inflate to, as text (for the dead letter, where it is redacted like any
   * record), or undefined when nothing inflates (a corrupt header): the dead letter then keeps the bytes in base64.
   */
  | { ok: false; error: SeamError; head: string | undefined };

/** The start of what `b` inflates to, read from its first bytes only, or undefined when nothing does. */
function inflatedHead(b: Uint8Array): string | undefined {
  try {
    const out = gunzipSync(b.subarray(0, HEAD_INPUT_BYTES), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_INPUT_BYTES * 1100 });
    return out.length === 0 ? undefined : out.subarray(0, INFLATED_HEAD_BYTES).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The text of a gzip-compressed message, or the error that dead-letters it: inflating past `maxBytes` (a
 * compression bomb, or a document larger than Seam reads at once) is oversized, a stream cut short is
 * truncated, anything else does not inflate. Never throws.
 */
export function inflateMessage(b: Uint8Array, maxBytes: number): Inflated {
  try {
    return { ok: true, text: gunzipSync(b, { maxOutputLength: maxBytes }).toString('utf8') };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    const head = inflatedHead(b);
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      return {
        ok: false,
        head,
        error: new SeamError('SEAM_ERR_INPUT_OVERSIZED', `gzip-compressed message of ${b.length} bytes inflates past ${maxBytes} bytes`, {
          cause: e,
          details: { compressedBytes: b.length, limit: maxBytes },
        }),
      };
    }
    if (/unexpected end of file/i.test(msg)) {
      return { ok: false, head, error: new SeamError('SEAM_ERR_INPUT_TRUNCATED', `gzip-compressed message of ${b.length} bytes ends before its stream does`, { cause: e, details: { compressedBytes: b.length } }) };
    }
    return { ok: false, head, error: new SeamError('SEAM_ERR_INPUT_COMPRESSION', `gzip-compressed message of ${b.length} bytes does not inflate: ${msg}`, { cause: e, details: { compressedBytes: b.length } }) };
  }
}
