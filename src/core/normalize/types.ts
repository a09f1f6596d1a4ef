import type { RawMeta, SeamMeta } from '../envelope.ts';
import type { Result, SeamError } from '../errors.ts';
import type { Rec } from './util.ts';

/** What a source mapper produces: the event time and the `seam` namespace (ingest is filled by normalize). */
export interface Mapped {
  timestamp: string;
  seam: SeamMeta;
}

/** One mapper per source: reads the record, never mutates it, never throws. */
export type Mapper = (record: Rec, meta: RawMeta) => Result<Mapped, SeamError>;
