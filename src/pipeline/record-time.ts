/**
 * The event time by which the file source merges several inputs (src/sources/file/merge.ts): the quick read of
 * `seam replay --workers`' first pass for the common shapes (what normalization gives, held to it by
 * replay-workers-scan.test.ts), full normalization for the rest.
 */
import { normalizedTimeMs } from '../sources/file/merge.ts';
import type { EventTimeOf } from '../sources/file/source.ts';
import { quickRecord } from './replay-workers-scan.ts';

export function recordTimeOf(maxRecordBytes: number): EventTimeOf {
  return (item) => {
    if (item.kind !== 'record') return NaN;
    const q = quickRecord(item.text, item.meta, maxRecordBytes);
    return q !== undefined ? q.t : normalizedTimeMs(item);
  };
}
