import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { SeamEvent } from '../core/envelope.ts';
import { runReplay } from './replay.ts';
import { readJsonl as jsonl } from '../../test/helpers/jsonl.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures');


let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seam-replay-'));
});

describe('replay', () => {
  it('normalizes every good fixture format, and nothing from them is rejected', async () => {
    const good = (await readdir(FIXTURES)).filter((d) => d !== 'bad').map((d) => join(FIXTURES, d));
    const out = join(dir, 'good.jsonl');
    const dlq = join(dir, 'good-dlq.jsonl');
    const s = await runReplay({ paths: good, outPath: out, dlqPath: dlq, maxRecordBytes: 1 << 20 });
    expect(s.rejected).toBe(0);
    expect(s.normalized).toBe(s.records);
    // All four planes are represented in the fixtures.
    expect(Object.keys(s.bySource).sort()).toEqual(['cloudtrail', 'guardduty', 'k8s_audit', 'runtime']);
    const events = await jsonl<SeamEvent>(out);
    // --out holds one line per event: an event exported in two shapes (the same seam.id in two files, e.g. an audit
    // event in JSONL and in a CloudWatch export) is written once.
    const written = events.map((e) => e.seam.id);
    expect(new Set(written).size).toBe(written.length);
    // File by file: ids are unique within a file (each file's output has a line per record it normalized), and the
    // same id in two files is the same event, so it carries the same source.
    const files = (await Promise.all(good.map(async (d) => (await readdir(d)).map((f) => join(d, f))))).flat();
    const sourceById = new Map<string, string>();
    let repeated = 0;
    for (const [i, f] of files.entries()) {
      const o = join(dir, `good-${i}.jsonl`);
      const one = await runReplay({ paths: [f], outPath: o, dlqPath: join(dir, `good-${i}-dlq.jsonl`), maxRecordBytes: 1 << 20 });
      const evs = await jsonl<SeamEvent>(o);
      expect(evs, f).toHaveLength(one.normalized);
      for (const e of evs) {
        if (sourceById.has(e.seam.id)) repeated++;
        expect(sourceById.get(e.seam.id) ?? e.seam.source).toBe(e.seam.source);
        sourceById.set(e.seam.id, e.seam.source);
      }
    }
    // The whole run wrote each of those events once: the files' ids, without the copies.
    expect(new Set(written)).toEqual(new Set(sourceById.keys()));
    expect(written).toHaveLength(s.normalized - repeated);
    expect(repeated).toBeGreaterThan(0);
  });

  it('sends every bad record to the dead-letter file with a code and a reason', async () => {
    const bad = join(FIXTURES, 'bad');
    const oversized = join(dir, 'oversized.jsonl');
    await writeFile(oversized, `${JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', pad: 'x'.repeat(4096) })}\n`);
    const out = join(dir, 'bad.jsonl');
    const dlq = join(dir, 'bad-dlq.jsonl');
    const s = await runReplay({ paths: [bad, oversized], outPath: out, dlqPath: dlq, maxRecordBytes: 2048 });
    expect(s.normalized).toBe(0);
    expect(s.rejected).toBe(s.records);
    const letters = await jsonl<DeadLetter>(dlq);
    expect(letters).toHaveLength(s.rejected);
    for (const l of letters) {
      expect(l.code).toMatch(/^SEAM_ERR_/);
      expect(l.reason.length).toBeGreaterThan(10);
      expect(l.origin).toMatch(/:\d+$/);
    }
    const codes = new Set(letters.map((l) => l.code));
    for (const c of ['SEAM_ERR_INPUT_JSON', 'SEAM_ERR_INPUT_NOT_OBJECT', 'SEAM_ERR_INPUT_TRUNCATED', 'SEAM_ERR_INPUT_OVERSIZED', 'SEAM_ERR_INPUT_UNKNOWN_FORMAT', 'SEAM_ERR_NORMALIZE_SCHEMA']) {
      expect(codes).toContain(c);
    }
    const over = letters.find((l) => l.code === 'SEAM_ERR_INPUT_OVERSIZED')!;
    expect(over.raw_partial).toBe(true);
    expect(over.details).toMatchObject({ bytes: expect.any(Number), offset: 0 });
  });


  it('appends to the dead-letter file: a later replay, even one that rejects nothing, keeps an earlier one\'s dead letters', async () => {
    const bad = join(dir, 'one-bad.jsonl');
    await writeFile(bad, 'not json at all\n');
    const good = join(FIXTURES, (await readdir(FIXTURES)).find((d) => d !== 'bad')!);
    const dlq = join(dir, 'shared-dlq.jsonl');
    const first = await runReplay({ paths: [bad], dlqPath: dlq, maxRecordBytes: 1 << 20 });
    expect(first.rejected).toBe(1);
    const clean = await runReplay({ paths: [good], dlqPath: dlq, maxRecordBytes: 1 << 20 });
    expect([clean.rejected, clean.normalized > 0]).toEqual([0, true]);
    expect((await jsonl<DeadLetter>(dlq)).map((l) => l.code)).toEqual(['SEAM_ERR_INPUT_JSON']);
    // The same bad file again: its record is listed twice, once per run that rejected it.
    await runReplay({ paths: [bad], dlqPath: dlq, maxRecordBytes: 1 << 20 });
    const letters = await jsonl<DeadLetter>(dlq);
    expect(letters.map((l) => [l.code, l.origin])).toEqual([
      ['SEAM_ERR_INPUT_JSON', `${bad}:1`],
      ['SEAM_ERR_INPUT_JSON', `${bad}:1`],
    ]);
  });
  it('reads gzipped CloudTrail exports and keeps secrets out of the output', async () => {
    const src = await readFile(join(FIXTURES, 'cloudtrail', 's3-export.json'));
    const gz = join(dir, 'ct.json.gz');
    await writeFile(gz, gzipSync(src));
    const out = join(dir, 'ct.jsonl');
    const plain = await runReplay({ paths: [join(FIXTURES, 'cloudtrail', 's3-export.json')], dlqPath: join(dir, 'x.jsonl'), maxRecordBytes: 1 << 20 });
    const s = await runReplay({ paths: [gz], outPath: out, dlqPath: join(dir, 'ct-dlq.jsonl'), maxRecordBytes: 1 << 20 });
    expect(s.normalized).toBe(plain.normalized);
    expect(s.normalized).toBeGreaterThan(0);
    const text = await readFile(out, 'utf8');
    // Session tokens in AssumeRole* responses are redacted.
    const raw = JSON.parse(src.toString('utf8')) as { Records: { responseElements?: { credentials?: { sessionToken?: string } } }[] };
    const tokens = raw.Records.map((r) => r.responseElements?.credentials?.sessionToken).filter((t): t is string => !!t);
    expect(tokens.length).toBeGreaterThan(0);
    for (const t of tokens) expect(text).not.toContain(t);
  });
});
