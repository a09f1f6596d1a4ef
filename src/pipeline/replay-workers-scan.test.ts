import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { multiAccountLines } from '../../bench/workers-input.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { isoMs } from '../core/time.ts';
import { readFilesBatches } from '../sources/file/source.ts';
import { tenantOfEvent } from './replay-workers-route.ts';
import { quickRecord } from './replay-workers-scan.ts';

const ROOT = join(import.meta.dirname, '../..');
const MAX = 1 << 20;

describe('the first pass of --workers reads a record as normalization does', () => {
  for (const cluster of [undefined, 'prod-eks-01']) {
    it(`agrees with normalizeLine on every fixture, the demo and the bench's events (cluster ${cluster ?? 'none'})`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'seam-scan-'));
      await writeFile(join(dir, 'generated.jsonl'), multiAccountLines(4000, 3).join('\n') + '\n');
      let records = 0;
      let quick = 0;
      for await (const batch of readFilesBatches([join(ROOT, 'test/fixtures'), join(ROOT, 'deploy/demo'), dir], { maxRecordBytes: MAX, ...(cluster ? { cluster } : {}) })) {
        for (const item of batch) {
          if (item.kind !== 'record') continue;
          records++;
          const q = quickRecord(item.text, item.meta, MAX);
          if (q === undefined) continue;
          quick++;
          const r = normalizeLine(item.text, item.meta, { maxRecordBytes: MAX });
          // What the quick read answers, normalization must give: the record normalizes, same id, time and tenant.
          expect(r.ok, item.meta.origin).toBe(true);
          if (!r.ok) continue;
          expect({ id: q.id, t: q.t, tenant: q.tenant }, item.meta.origin).toEqual({ id: r.value.seam.id, t: isoMs(r.value['@timestamp']), tenant: tenantOfEvent(r.value) });
        }
      }
      // The common shapes take the quick path (GuardDuty and unusual records do not).
      expect(records).toBeGreaterThan(4400);
      expect(quick / records).toBeGreaterThan(0.9);
    });
  }
});
