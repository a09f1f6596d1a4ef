import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonlSink } from './sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'seam-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonlSink', () => {
  it('writes every document as one line, in order: short and multi-byte lines across blocks, and lines longer than a block', async () => {
    const path = join(dir, 'out.jsonl');
    const sink = await JsonlSink.open(path);
    const docs: unknown[] = [];
    for (let i = 0; i < 3000; i++) docs.push({ i, text: i % 7 === 0 ? `Grüße ✓ 𝄞 ${'é'.repeat(i % 50)}` : 'x'.repeat(i % 300) });
    docs.splice(1500, 0, { big: 'y'.repeat(200_000) }, { big: '€'.repeat(70_000) });
    for (const d of docs) {
      const w = sink.write(d);
      if (w !== undefined) await w;
    }
    await sink.close();
    expect(sink.written).toBe(docs.length);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(docs);
  });

  it('resolves its back-pressure promise when a line longer than a block follows a block the stream could not take at once', async () => {
    // A slow stream with a tiny buffer: the block's write and the long line's both return false; one 'drain' covers both.
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        setTimeout(done, 5);
      },
    });
    const Ctor = JsonlSink as unknown as new (stream: NodeJS.WritableStream, owned: undefined) => JsonlSink;
    const sink = new Ctor(slow, undefined);
    expect(sink.write({ short: 'a'.repeat(100) })).toBeUndefined();
    const w = sink.write({ long: 'z'.repeat(30_000) });
    expect(w).toBeInstanceOf(Promise);
    await w;
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)).toEqual([{ short: 'a'.repeat(100) }, { long: 'z'.repeat(30_000) }]);
  });

  it('appends after what is there, ending a line a killed writer left without its newline first', async () => {
    const path = join(dir, 'append.jsonl');
    writeFileSync(path, '{"a":1}\n{"b":');
    const torn = await JsonlSink.open(path, { append: true });
    await torn.write({ c: 3 });
    await torn.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":\n{"c":3}\n');
    // A whole file gets no blank line.
    const whole = await JsonlSink.open(path, { append: true });
    await whole.write({ d: 4 });
    await whole.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":\n{"c":3}\n{"d":4}\n');
  });
});
