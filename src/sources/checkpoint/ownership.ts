import { createHash } from 'node:crypto';

/**
 * Which replica owns a unit of work (a log group, a detector): rendezvous (highest-random-weight)
 * hashing over the replica list. Every replica computes the same answer from the same list, and
 * adding or removing a replica moves only the units that replica gains or loses. ADR 0004.
 */
export function ownerOf(unit: string, replicas: readonly string[]): string {
  if (replicas.length === 0) throw new Error('ownership needs at least one replica');
  let best = replicas[0]!;
  let bestScore = -1n;
  for (const r of replicas) {
    const score = createHash('sha256').update(r).update('\0').update(unit).digest().readBigUInt64BE(0);
    if (score > bestScore || (score === bestScore && r < best)) {
      best = r;
      bestScore = score;
    }
  }
  return best;
}

export function owns(replicaId: string, unit: string, replicas: readonly string[]): boolean {
  return ownerOf(unit, replicas) === replicaId;
}
