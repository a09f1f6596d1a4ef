import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { listInputFiles, readFileBatches, readFiles, type FileItem, type FileReadOptions } from './source.ts';
import { mergeByEventTime, normalizedTimeMs } from './merge.ts';

// Several input files are read as one stream in event-time order across files (review newuser2 H1): one folder
// per plane must give what one interleaved file gives.

const at = (min: number, sec = 0): string => `2026-11-26T10:${String(min).padStart(2, '0')}:${String(sec).padStart(2, '0')}Z`;
const ct = (id: string, time: string): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: time,
  eventSource: 'eks.amazonaws.com',
  eventName: 'CreateAccessEntry',
  eventID: id,
  userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Dev/alice' },
});
const audit = (id: string, time: string): Record<string, unknown> => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: id,
  stage: 'ResponseComplete',
  verb: 'get',
  requestURI: '/api/v1/namespaces/shop/pods',
  user: { username: 'alice' },
  requestReceivedTimestamp: time,
  stageTimestamp: time,
});

const OPTS: FileReadOptions = { maxRecordBytes: 64 * 1024, now: () => '2026-11-27T00:00:00.000Z' };

async function collect(paths: string[]): Promise<FileItem[]> {
  const out: FileItem[] = [];
  for await (const it of readFiles(paths, OPTS)) out.push(it);
  return out;
}

/** id (eventID / auditID) of a record, or the error code. */
const idOf = (i: FileItem): string => {
  if (i.kind === 'error') return i.error.code;
  try {
    const o = JSON.parse(i.text) as { eventID?: string; auditID?: string };
    return o.eventID ?? o.auditID ?? '?';
  } catch {
    return 'bad';
  }
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seam-merge-'));
});

describe('several input files, merged by event time', () => {
  it('interleaves one folder per plane by event time whatever the folder names, each file in its own order, origins as read alone', async () => {
    for (const [a, c] of [
      ['audit', 'cloudtrail'],
      ['z-audit', 'a-cloudtrail'],
    ] as const) {
      const root = join(dir, `planes-${a}`);
      await mkdir(join(root, a), { recursive: true });
      await mkdir(join(root, c), { recursive: true });
      // Audit: every 10 s from 10:00 to 10:10, with 10:02:05 written before 10:02:00 (a file's own disorder stays).
      const au = Array.from({ length: 61 }, (_, i) => audit(`k${i}`, at(Math.floor(i / 6), (i % 6) * 10)));
      au[12] = audit('k12', at(2, 5));
      au[13] = audit('k13', at(2, 0));
      await writeFile(join(root, a, 'hour.jsonl'), au.map((r) => JSON.stringify(r)).join('\n') + '\n');
      // CloudTrail S3 objects: gzipped documents, records newest first (the reader sorts them per file).
      await writeFile(join(root, c, '1.json.gz'), gzipSync(JSON.stringify({ Records: [ct('c2', at(1, 35)), ct('c1', at(0, 5))] })));
      await writeFile(join(root, c, '2.json.gz'), gzipSync(JSON.stringify({ Records: [ct('c4', at(9, 1)), ct('c3', at(5, 15))] })));
      const items = await collect([root]);
      const ids = items.map(idOf);
      expect(ids.slice(0, 12)).toEqual(['k0', 'c1', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'c2']);
      expect(ids.indexOf('c3')).toBe(ids.indexOf('k31') + 1);
      expect(ids.indexOf('c4')).toBe(ids.indexOf('k54') + 1);
      // The audit file's own order, k13 (10:02:00) after k12 (10:02:05), is its own.
      expect(ids.indexOf('k13')).toBe(ids.indexOf('k12') + 1);
      // Each file's records in the order and with the origins that file gives alone.
      for (const f of await listInputFiles([root])) {
        const alone = await collect([f.path]);
        expect(items.filter((i) => i.meta.origin?.startsWith(f.path + ':')).map((i) => [idOf(i), i.meta.origin])).toEqual(alone.map((i) => [idOf(i), i.meta.origin]));
      }
      expect(items).toHaveLength(65);
    }
  });

  it('hands on records with no time (bad lines, a record cut short) at their place in their file: they hold nothing up', async () => {
    const root = join(dir, 'untimed');
    await mkdir(root);
    // a: starts with a line that is not JSON and has one in the middle; b: timed, then cut short.
    await writeFile(join(root, 'a.jsonl'), ['not json', JSON.stringify(audit('a1', at(1))), 'still not json', JSON.stringify(audit('a2', at(3)))].join('\n') + '\n');
    await writeFile(join(root, 'b.json'), `[${JSON.stringify(ct('b1', at(2)))}, ${JSON.stringify(ct('b2', at(4))).slice(0, 30)}`);
    await writeFile(join(root, 'c.jsonl'), 'nothing here has a time\n');
    const items = await collect([root]);
    expect(items.map(idOf)).toEqual(['bad', 'bad', 'a1', 'bad', 'b1', 'SEAM_ERR_INPUT_TRUNCATED', 'a2']);
    // The first two are c's only line (a file with no timed record goes first, not last) and a's first line.
    expect(items.slice(0, 2).map((i) => i.meta.origin)).toEqual([`${join(root, 'c.jsonl')}:1`, `${join(root, 'a.jsonl')}:1`]);
    expect(items[3]!.meta.origin).toBe(`${join(root, 'a.jsonl')}:3`);
  });

  it('opens a file when the merge reaches its first record and closes it at its end: open files are those whose spans overlap', async () => {
    const root = join(dir, 'many');
    await mkdir(root);
    // 40 audit files of one minute each, one after another, and one CloudTrail file spanning them all.
    for (let f = 0; f < 40; f++) {
      const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify(audit(`k${f}-${i}`, new Date(Date.parse(at(0)) + f * 60_000 + i * 10_000).toISOString())));
      await writeFile(join(root, `audit-${String(f).padStart(2, '0')}.jsonl`), lines.join('\n') + '\n');
    }
    await writeFile(join(root, 'trail.jsonl'), Array.from({ length: 40 }, (_, i) => JSON.stringify(ct(`c${i}`, new Date(Date.parse(at(0)) + i * 60_000 + 30_000).toISOString()))).join('\n') + '\n');
    let open = 0;
    let most = 0;
    const counted = async function* (path: string, o: FileReadOptions): AsyncGenerator<FileItem[]> {
      if (o.probe === true) return yield* readFileBatches(path, o);
      most = Math.max(most, ++open);
      try {
        yield* readFileBatches(path, o);
      } finally {
        open--;
      }
    };
    const files = await listInputFiles([root]);
    let bytes = 0;
    const times: number[] = [];
    for await (const batch of mergeByEventTime(files, { ...OPTS, onProgress: (n) => (bytes = n) }, counted)) for (const i of batch) times.push(normalizedTimeMs(i));
    expect(times).toHaveLength(280);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(most).toBe(2);
    expect(open).toBe(0);
    expect(bytes).toBe(files.reduce((s, f) => s + f.bytes, 0));
  });
});
