/**
 * The counters every component reports: received, emitted, errors by code, dropped by reason.
 * Plain numbers in a map; the pipeline prints or exports them.
 */
export class Counters {
  received = 0;
  emitted = 0;
  readonly errors = new Map<string, number>();
  readonly dropped = new Map<string, number>();

  constructor(readonly component: string) {}

  error(code: string, n = 1): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + n);
  }

  drop(reason: string, n = 1): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + n);
  }

  get errorTotal(): number {
    let t = 0;
    for (const v of this.errors.values()) t += v;
    return t;
  }

  snapshot(): { component: string; received: number; emitted: number; errors: Record<string, number>; dropped: Record<string, number> } {
    return {
      component: this.component,
      received: this.received,
      emitted: this.emitted,
      errors: Object.fromEntries(this.errors),
      dropped: Object.fromEntries(this.dropped),
    };
  }
}
