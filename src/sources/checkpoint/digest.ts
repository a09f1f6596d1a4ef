import { createHash } from 'node:crypto';

/**
 * What a checkpoint keeps of a record id (ADR 0061, amendment of session 37): the first 12 bytes of its SHA-256, as
 * base64url (16 characters), whatever the id's length. A CloudWatch Logs eventId is a ~56-digit string (~80 B per id in
 * the JSON checkpoint); a digest takes ~40 B with its share of the time key. Branded so a raw id cannot be passed where
 * a digest is compared.
 *
 * Collisions: 96 bits, compared only among ids of the same event millisecond of one unit. Even over a whole window of
 * n = 400,000 ids (past the checkpoint topic's limit) the chance that any two collide is about n² / 2⁹⁷ ≈ 10⁻¹⁸;
 * a collision would skip one record as already emitted.
 */
export type IdDigest = string & { readonly __idDigest: unique symbol };

export const DIGEST_BYTES = 12;

export function digestId(id: string): IdDigest {
  return createHash('sha256').update(id, 'utf8').digest().subarray(0, DIGEST_BYTES).toString('base64url') as IdDigest;
}
