import { gunzipSync } from 'node:zlib';
import { SeamError } from '../errors.ts';

/**
 * Raw messages that arrive gzip-compressed: a CloudWatch Logs subscription delivers its payloads to Kinesis
 * gzipped, and a Kinesis-to-Kafka connector or a Lambda forwarding CloudTrail's `.json.gz` objects passes the
 * bytes on as they are (ADR 0039). The normalize role inflates such a message before anything else reads it.
 */

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The text of a gzip-compressed message, or the error that dead-letters it: inflating past `maxBytes` (a
 * compression bomb, or a document larger than Seam reads at once) is oversized, a stream cut short is
 * truncated, anything else does not inflate. Never throws.
 */
export function inflateMessage(b: Uint8Array, maxBytes: number): { ok: true; text: string } | { ok: false; error: SeamError } {
  try {
    return { ok: true, text: gunzipSync(b, { maxOutputLength: maxBytes }).toString('utf8') };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      return {
        ok: false,
        error: new SeamError('SEAM_ERR_INPUT_OVERSIZED', `gzip-compressed message of ${b.length} bytes inflates past ${maxBytes} bytes`, {
          cause: e,
          details: { compressedBytes: b.length, limit: maxBytes },
        }),
      };
    }
    if (/unexpected end of file/i.test(msg)) {
      return { ok: false, error: new SeamError('SEAM_ERR_INPUT_TRUNCATED', `gzip-compressed message of ${b.length} bytes ends before its stream does`, { cause: e, details: { compressedBytes: b.length } }) };
    }
    return { ok: false, error: new SeamError('SEAM_ERR_INPUT_COMPRESSION', `gzip-compressed message of ${b.length} bytes does not inflate: ${msg}`, { cause: e, details: { compressedBytes: b.length } }) };
  }
}
