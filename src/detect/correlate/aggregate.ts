/**
 * Running aggregates over the signals of one window. Each supports add and remove, so a window can
 * slide signal by signal in O(1) (value_percentile: O(distinct values) to evaluate).
 */
import { satisfies } from './compile.ts';
import type { Condition, CorrelationType } from './types.ts';

/** What a window holds per signal: the referenced rule's index and the `condition.field` value. */
export interface Item {
  r: number;
  v: string | number | undefined;
}

export interface Verdict {
  /** The value the condition was checked against. */
  value: number;
  /** value_percentile: the field value whose share satisfied the condition (its events contribute). */
  only?: string;
}

export interface Aggregate {
  add(x: Item): void;
  remove(x: Item): void;
  reset(): void;
  /** The aggregate (count, distinct count, rules seen, sum, average; percentile: share of the rarest value). */
  value(): number;
  /** The verdict when the condition holds, else undefined. */
  check(c: Condition): Verdict | undefined;
}

class Count implements Aggregate {
  private n = 0;
  add(): void {
    this.n++;
  }
  remove(): void {
    this.n--;
  }
  reset(): void {
    this.n = 0;
  }
  value(): number {
    return this.n;
  }
  check(c: Condition): Verdict | undefined {
    return this.n > 0 && satisfies(c, this.n) ? { value: this.n } : undefined;
  }
}

/** Counts per key; value_count counts keys (distinct field values), temporal counts rule indexes. */
class Distinct implements Aggregate {
  private readonly counts = new Map<string | number, number>();
  constructor(private readonly key: (x: Item) => string | number) {}
  add(x: Item): void {
    const k = this.key(x);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  remove(x: Item): void {
    const k = this.key(x);
    const n = (this.counts.get(k) ?? 0) - 1;
    if (n <= 0) this.counts.delete(k);
    else this.counts.set(k, n);
  }
  reset(): void {
    this.counts.clear();
  }
  value(): number {
    return this.counts.size;
  }
  check(c: Condition): Verdict | undefined {
    const n = this.counts.size;
    return n > 0 && satisfies(c, n) ? { value: n } : undefined;
  }
}

class Sum implements Aggregate {
  private s = 0;
  private n = 0;
  constructor(private readonly average: boolean) {}
  add(x: Item): void {
    this.s += x.v as number;
    this.n++;
  }
  remove(x: Item): void {
    this.s -= x.v as number;
    this.n--;
    if (this.n === 0) this.s = 0; // no drift carried into the next window
  }
  reset(): void {
    this.s = 0;
    this.n = 0;
  }
  value(): number {
    return this.average ? this.s / this.n : this.s;
  }
  check(c: Condition): Verdict | undefined {
    if (this.n === 0) return undefined;
    const v = this.value();
    return satisfies(c, v) ? { value: v } : undefined;
  }
}

/**
 * value_percentile, read as the spec's example reads it ("a process name seen in less than 1% of
 * all processes"): the share, in percent, of the window's events that carry a given field value.
 * The condition holds when some value's share satisfies it; the rarest such value is reported.
 */
class Share implements Aggregate {
  private readonly counts = new Map<string, number>();
  private n = 0;
  add(x: Item): void {
    const k = x.v as string;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.n++;
  }
  remove(x: Item): void {
    const k = x.v as string;
    const m = (this.counts.get(k) ?? 0) - 1;
    if (m <= 0) this.counts.delete(k);
    else this.counts.set(k, m);
    this.n--;
  }
  reset(): void {
    this.counts.clear();
    this.n = 0;
  }
  value(): number {
    let min = Infinity;
    for (const m of this.counts.values()) min = Math.min(min, m);
    return this.n === 0 ? NaN : (min / this.n) * 100;
  }
  check(c: Condition): Verdict | undefined {
    let best: Verdict | undefined;
    for (const [k, m] of this.counts) {
      const share = (m / this.n) * 100;
      if (!satisfies(c, share)) continue;
      if (best === undefined || share < best.value || (share === best.value && k < best.only!)) best = { value: share, only: k };
    }
    return best;
  }
}

export function createAggregate(type: CorrelationType): Aggregate {
  switch (type) {
    case 'event_count':
      return new Count();
    case 'value_count':
      return new Distinct((x) => x.v as string);
    case 'temporal':
    case 'temporal_ordered':
      return new Distinct((x) => x.r);
    case 'value_sum':
      return new Sum(false);
    case 'value_avg':
      return new Sum(true);
    case 'value_percentile':
      return new Share();
  }
}
