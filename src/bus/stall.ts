/**
 * The stalled-partition watchdog's decision (ADR 0059). kafkajs 2.2.4 can keep a partition assigned to a member
 * and never fetch it again (tulios/kafkajs#1456): the member heartbeats, the group is Stable, and the partition's
 * lag grows for ever without an error. What the watchdog sees of one assigned partition at a check:
 */
export interface PartitionView {
  /** `<topic>/<partition>`. */
  key: string;
  /** The last stable offset: what a read_committed member can fetch up to. */
  end: bigint;
  /** The group's committed offset, when it has one. */
  committed: bigint | undefined;
  /** One past the last offset this member has been handed, since its last join. */
  fetchedTo: bigint | undefined;
  /** When this member was last handed a batch of it, since its last join. */
  lastFetchAt: number | undefined;
}

/**
 * A partition is stalled when it has records past what the member holds (`max(committed, fetchedTo)`) at two checks
 * in a row, nothing of it was handed to the member between them, and nothing for `stallMs` (since the join when
 * nothing yet). The two checks keep a record produced just before a check from counting: kafkajs's next fetch takes
 * it within its wait time. A partition whose position is unknown (no commit, nothing fetched) is never stalled.
 * The caller checks only while no batch handler runs: kafkajs fetches nothing for a member while one does, and a
 * slow handler is reported on its own.
 */
export class StallWatch {
  private readonly behindSince = new Map<string, number>();

  constructor(private readonly stallMs: number) {}

  /** After a rebalance (the assignment and what was fetched start over) or a restart. */
  reset(): void {
    this.behindSince.clear();
  }

  /** The partitions stalled at `now`, of those the member owns. */
  check(now: number, joinedAt: number, parts: readonly PartitionView[]): PartitionView[] {
    const stalled: PartitionView[] = [];
    const seen = new Set<string>();
    for (const p of parts) {
      seen.add(p.key);
      const c = p.committed ?? -1n;
      const f = p.fetchedTo ?? -1n;
      const position = c > f ? c : f;
      if (position < 0n || p.end <= position) {
        this.behindSince.delete(p.key);
        continue;
      }
      const last = p.lastFetchAt ?? joinedAt;
      const since = this.behindSince.get(p.key);
      if (since === undefined || last >= since) {
        this.behindSince.set(p.key, now);
        continue;
      }
      if (now - last >= this.stallMs) stalled.push(p);
    }
    for (const k of [...this.behindSince.keys()]) if (!seen.has(k)) this.behindSince.delete(k);
    return stalled;
  }
}
