import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
