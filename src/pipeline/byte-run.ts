/**
 * The bytes of one message being built from JSON strings, written straight into a Buffer as they come
 * (ADR 0023): no array of parts joined into one big string and encoded again at the end, and no Buffer per
 * part copied into a third. Room for the worst case of each string (3 bytes per UTF-16 unit) is made
 * before it is written; the run grows by doubling when needed.
 */
export class ByteRun {
  private buf: Buffer;
  /** Bytes written. */
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  /** Appends a string as UTF-8; returns its byte length. */
  text(s: string): number {
    this.room(s.length * 3);
    const n = this.buf.write(s, this.length, 'utf8');
    this.length += n;
    return n;
  }

  bytes(b: Uint8Array): number {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return b.length;
  }

  byte(x: number): void {
    this.room(1);
    this.buf[this.length++] = x;
  }

  /** The last `n` bytes written, removed from this run (copied out), to start the next message with. */
  takeTail(n: number): Buffer {
    const tail = Buffer.from(this.buf.subarray(this.length - n, this.length));
    this.length -= n;
    return tail;
  }

  /** What was written (a view of this run's buffer, which must not be written to after). */
  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
