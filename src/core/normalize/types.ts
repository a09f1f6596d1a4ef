import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { SeamError } from '../errors.ts';
import type { Rec } from '../values.ts';

/** Where a mapper writes the event time (a reused object: no allocation per record on the hot path). */
export interface MapOut {
  timestamp: string;
}

/**
 * One mapper per source: reads the record, never mutates it, never throws. Returns the `seam`
 * namespace (ingest.redacted is filled by normalize) and writes the event time to `out`, or returns
 * the SeamError that says which field is wrong.
 */
export type Mapper = (record: Rec, meta: RawMeta, out: MapOut) => SeamMeta | SeamError;
