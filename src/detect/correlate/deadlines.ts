/**
 * A binary min-heap of (deadline, seq, item). The engine schedules each group at the event time
 * when its oldest signal leaves the window, so advancing the watermark touches only the groups that
 * are due, never all of them. Entries may go stale (the group was rescheduled); callers re-check.
 */
interface Slot<T> {
  at: number;
  seq: number;
  item: T;
}

export class Deadlines<T> {
  private readonly heap: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** The earliest deadline, or Infinity when empty. */
  peek(): number {
    return this.heap[0]?.at ?? Infinity;
  }

  pop(): { at: number; item: T } | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return { at: top.at, item: top.item };
  }

  clear(): void {
    this.heap.length = 0;
  }

  private less(a: Slot<T>, b: Slot<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}
