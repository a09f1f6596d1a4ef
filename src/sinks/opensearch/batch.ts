
/**
 * The pure parts of the bulk batcher: cutting batches by bytes and count, back-off with full
 * jitter, and sorting OpenSearch's answers into acknowledged, retry and reject. No I/O here, so the
 * bounds are unit-tested without a server.
 */

export interface Sized {
  bytes: number;
}

/** Collects items and hands back batches of at most `maxBytes` (unless one item alone is larger) and `maxDocs`. */
export class BatchBuilder<T extends Sized> {
  private items: T[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxDocs: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Adds one item and returns the batches it completed: none, one, or two (the old one did not fit the item, and the item alone fills a batch). */
  add(item: T): T[][] {
    const done: T[][] = [];
    if (this.items.length > 0 && this.bytes + item.bytes > this.maxBytes) done.push(this.take());
    this.items.push(item);
    this.bytes += item.bytes;
    if (this.items.length >= this.maxDocs || this.bytes >= this.maxBytes) done.push(this.take());
    return done;
  }

  /** Takes whatever is pending, possibly nothing. */
  take(): T[] {
    const batch = this.items;
    this.items = [];
    this.bytes = 0;
    return batch;
  }
}


export type ItemVerdict = 'ok' | 'retry' | 'reject';

/**
 * What to do with one bulk item. 429, 5xx and a full write queue (`es_rejected_execution_exception`,
 * spelled `rejected_execution_exception` by some OpenSearch versions) are transient; anything else
 * that failed (mapper_parsing_exception, illegal_argument_exception...) will fail again, so it is
 * dead-lettered.
 */
export function classifyItem(status: number, errorType: string | undefined): ItemVerdict {
  if (status >= 200 && status < 300 && errorType === undefined) return 'ok';
  if (status === 429 || status >= 500) return 'retry';
  if (errorType !== undefined && /rejected_execution_exception$/.test(errorType)) return 'retry';
  return 'reject';
}

export interface RequestErrorVerdict {
  verdict: 'retry' | 'split' | 'fail';
  status?: number;
  /** Short, stable label for counters and logs: http_429, ConnectionError... */
  label: string;
  reason: string;
}

/**
 * What to do when a whole bulk request failed. Connection errors, timeouts, 429 and 5xx are retried
 * (every document has a fixed `_id`, so a request that did land is overwritten, not duplicated); 413
 * means the body is too large, so the batch is split; other statuses (401, 403, 400) will not get
 * better by retrying.
 */
export function classifyRequestError(e: unknown): RequestErrorVerdict {
  const err = e as { name?: unknown; message?: unknown; meta?: { statusCode?: unknown; body?: unknown } } | undefined;
  const name = typeof err?.name === 'string' ? err.name : 'Error';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const status = typeof err?.meta?.statusCode === 'number' ? err.meta.statusCode : undefined;
  if (name === 'ResponseError' && status !== undefined) {
    const reason = describeError((err?.meta?.body as { error?: unknown } | undefined)?.error) ?? message;
    if (status === 413) return { verdict: 'split', status, label: 'http_413', reason };
    if (status === 429 || status >= 500) return { verdict: 'retry', status, label: `http_${status}`, reason };
    return { verdict: 'fail', status, label: `http_${status}`, reason };
  }
  if (name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError') {
    return { verdict: 'retry', label: name, reason: message };
  }
  return { verdict: 'fail', label: name, reason: message };
}

/** `type: reason (caused by type: reason)` from an OpenSearch error object, or undefined if it is not one. */
export function describeError(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (error === null || typeof error !== 'object') return undefined;
  const o = error as { type?: unknown; reason?: unknown; caused_by?: unknown };
  const head = [o.type, o.reason].filter((x) => typeof x === 'string').join(': ');
  if (!head) return undefined;
  const cause = describeError(o.caused_by);
  return cause ? `${head} (caused by ${cause})` : head;
}
