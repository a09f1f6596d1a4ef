import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

const BLOCK_BYTES = 64 * 1024;
const STREAM_BYTES = 1024 * 1024;

/**
 * Writes one JSON document per line to a file or to stdout (`-`), honouring backpressure: `write`
 * resolves at once while the stream has room and waits for `drain` when it has not, so a fast
 * producer never buffers a whole replay in memory.
 */
export class JsonlSink {
  private readonly stream: NodeJS.WritableStream;
  private readonly owned: WriteStream | undefined;
  written = 0;
  /** The block being filled: lines are encoded straight into it (no joined string, no re-encoding by the stream). */
  private block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;

  private constructor(stream: NodeJS.WritableStream, owned: WriteStream | undefined) {
    this.stream = stream;
    this.owned = owned;
  }

  static async open(path: string, opts: { append?: boolean } = {}): Promise<JsonlSink> {
    if (path === '-') return new JsonlSink(process.stdout, undefined);
    await mkdir(dirname(path), { recursive: true });
    // Room for several blocks: `write` then returns true while the previous block is still being written, and
    // the producer waits (for `drain`) only when the disk really falls behind, not after every block.
    const torn = opts.append === true && (await endsMidLine(path));
    const ws = createWriteStream(path, { flags: opts.append ? 'a' : 'w', highWaterMark: STREAM_BYTES });
    await once(ws, 'open');
    // A file an earlier writer left mid-line (killed): the torn line is ended, so the first new line is whole.
    if (torn) ws.write('\n');
    return new JsonlSink(ws, ws);
  }

  /**
   * Serializes and buffers; lines go to the stream in blocks of ~64 KiB (one syscall per block, not per
   * line). The promise, when there is one, resolves when the stream can take more.
   */
  write(doc: unknown): Promise<void> | undefined {
    return this.writeLine(JSON.stringify(doc));
  }

  /** Like `write`, for a document the caller already serialized (one line of JSON, no newline). */
  writeLine(json: string): Promise<void> | undefined {
    this.written++;
    // A UTF-16 unit is at most 3 UTF-8 bytes: a line that may not fit goes after what is buffered.
    if (json.length * 3 + 1 > BLOCK_BYTES - this.used) {
      const w = this.flush();
      if (json.length * 3 + 1 > BLOCK_BYTES) {
        // Longer than a block: written on its own.
        const ok = this.stream.write(json + '\n');
        // A 'drain' already awaited for the block comes once everything written so far, this line included, is
        // out: waiting for a second one would wait for a write that never comes.
        if (w !== undefined) return w;
        return ok ? undefined : this.drained();
      }
      this.used += this.block.write(json, this.used, 'utf8');
      this.block[this.used++] = 0x0a;
      return w;
    }
    this.used += this.block.write(json, this.used, 'utf8');
    this.block[this.used++] = 0x0a;
    if (this.used < BLOCK_BYTES - 1024) return undefined;
    return this.flush();
  }

  /** Writes what is buffered. */
  flush(): Promise<void> | undefined {
    if (this.used === 0) return undefined;
    // The stream keeps the block until it is written: the next lines go to a new one.
    const full = this.block.subarray(0, this.used);
    this.block = Buffer.allocUnsafe(BLOCK_BYTES);
    this.used = 0;
    if (this.stream.write(full)) return undefined;
    return this.drained();
  }

  private drained(): Promise<void> {
    return once(this.stream, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    await this.flush();
    if (!this.owned) return;
    this.owned.end();
    await once(this.owned, 'finish');
  }
}

/** Whether a file exists, is not empty and does not end with a newline. */
async function endsMidLine(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}
