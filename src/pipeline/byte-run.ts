/**
 * The bytes of one message being built from JSON strings, written straight into a Buffer as they come
 * (ADR 0023): no array of parts joined into one big string and encoded again at the end, and no Buffer per
 * part copied into a third. Room for the worst case of each string (3 bytes per UTF-16 unit) is made
 * before it is written.
 *
 * After `done()` the run starts its next message right behind the one it handed out, in the same buffer
 * (ADR 0024): a batcher that cuts many small messages (the signal batcher: one per run of one account)
 * fills a few large buffers instead of allocating one or two per message. A message is never moved or
 * written to once handed out; when the buffer is full, only the open message is copied to a new one.
 */
export class ByteRun {
  private buf: Buffer;
  /** Where the open message starts in `buf`. */
  private base = 0;
  /** Bytes of the open message. */
  length = 0;

  /**
   * @param capacity the first buffer's size
   * @param maxBuffer a buffer that fills is followed by one twice its size, up to this (or more for one
   *   message that needs more): a run that hands out a few small messages keeps a small buffer, one that
   *   hands out many fills a few large ones, and no buffer a message is a view of is mostly empty.
   */
  constructor(
    capacity: number,
    private readonly maxBuffer = capacity,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  private room(n: number): void {
    if (this.base + this.length + n <= this.buf.length) return;
    // A new buffer for the open message and what follows it: what was handed out stays where it is.
    const grown = Buffer.allocUnsafe(Math.max(Math.min(this.maxBuffer, 2 * this.buf.length), 2 * (this.length + n)));
    this.buf.copy(grown, 0, this.base, this.base + this.length);
    this.buf = grown;
    this.base = 0;
  }

  /** Appends a string as UTF-8; returns its byte length. */
  text(s: string): number {
    this.room(s.length * 3);
    const n = this.buf.write(s, this.base + this.length, 'utf8');
    this.length += n;
    return n;
  }

  bytes(b: Uint8Array): number {
    this.room(b.length);
    this.buf.set(b, this.base + this.length);
    this.length += b.length;
    return b.length;
  }

  byte(x: number): void {
    this.room(1);
    this.buf[this.base + this.length++] = x;
  }

  /** Removes the last `n` bytes written (an event's closing brace before its `seam`, ADR 0026). */
  drop(n: number): void {
    this.length = Math.max(0, this.length - n);
  }

  /** The last `n` bytes written, removed from this run (copied out), to start the next message with. */
  takeTail(n: number): Buffer {
    const end = this.base + this.length;
    const tail = Buffer.from(this.buf.subarray(end - n, end));
    this.length -= n;
    return tail;
  }

  /** The open message (a view of this run's buffer, never written to again); the next message starts empty behind it. */
  done(): Buffer {
    const out = this.buf.subarray(this.base, this.base + this.length);
    this.base += this.length;
    this.length = 0;
    return out;
  }
}
