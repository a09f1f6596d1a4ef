/**
 * The one bounded map of Seam: a least-recently-used cache from `lru-cache`, for state that must not
 * grow without limit (per-partition dedup sets, native detection state, the relevance memo).
 *
 * Bounded by `maxSize` with every entry counting 1 rather than by `max`: with `max`, lru-cache allocates
 * all slots up front (about 28 bytes each), and a native engine alone holds a dozen maps of 50,000;
 * counted this way the storage grows with use and the bound is the same.
 *
 * No lru-cache TTL: the windows these maps serve are in event time (replays and late events), and
 * lru-cache's TTL runs on the process clock, so callers keep event times in the values and compare.
 */
import { LRUCache } from 'lru-cache';

/** Keys and values are never null or undefined (lru-cache's constraint). */
type Some = NonNullable<unknown>;

export type Lru<K extends Some, V extends Some> = LRUCache<K, V>;

const one = (): number => 1;

/** A map that forgets its least recently used (read or written) entries beyond `maxEntries`. */
export function boundedLru<K extends Some, V extends Some>(maxEntries: number): Lru<K, V> {
  return new LRUCache<K, V>({ maxSize: maxEntries, sizeCalculation: one });
}
