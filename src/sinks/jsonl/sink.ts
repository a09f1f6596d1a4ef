import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes one JSON document per line to a file or to stdout (`-`), honouring backpressure: `write`
 * resolves at once while the stream has room and waits for `drain` when it has not, so a fast
 * producer never buffers a whole replay in memory.
 */
export class JsonlSink {
  private readonly stream: NodeJS.WritableStream;
  private readonly owned: WriteStream | undefined;
  written = 0;

  private constructor(stream: NodeJS.WritableStream, owned: WriteStream | undefined) {
    this.stream = stream;
    this.owned = owned;
  }

  static async open(path: string, opts: { append?: boolean } = {}): Promise<JsonlSink> {
    if (path === '-') return new JsonlSink(process.stdout, undefined);
    await mkdir(dirname(path), { recursive: true });
    const ws = createWriteStream(path, { flags: opts.append ? 'a' : 'w' });
    await once(ws, 'open');
    return new JsonlSink(ws, ws);
  }

  /** Serializes and writes; the promise resolves when the stream can take more. */
  write(doc: unknown): Promise<void> | undefined {
    this.written++;
    if (this.stream.write(`${JSON.stringify(doc)}\n`)) return undefined;
    return once(this.stream, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    this.owned.end();
    await once(this.owned, 'finish');
  }
}
