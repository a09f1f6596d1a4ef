import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import { shiftTimes } from '../../test/helpers/shift-times.ts';

/**
 * The endless record stream of bench:pipeline and bench:roles: the demo story and the fixtures, in event-time
 * order (ADR 0009: each raw partition in order within the allowed lateness), copy after copy. Record `i` is a
 * base record with its source ids suffixed by the run and copy number and, unless `atMs` is given, its times
 * moved by the copy number in hours (the base spans half an hour). With `atMs`, the record happens then (the
 * trickle: event time is the wall clock, as on a live cluster).
 */
export function pipelineRecords(root: string, run: string): { size: number; record(i: number, atMs?: number): string } {
  const lines = (p: string): string[] => readFileSync(join(root, p), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const base = [
    ...lines('deploy/demo/eks-demo.jsonl'),
    ...lines('test/fixtures/k8s-audit/eks-audit.jsonl'),
    ...lines('test/fixtures/runtime/falco.jsonl'),
    ...lines('test/fixtures/runtime/native.jsonl'),
    ...lines('test/fixtures/guardduty/findings-rest.jsonl'),
    ...lines('test/fixtures/cloudtrail/redaction-cases.jsonl'),
  ]
    .map((text, i) => {
      const n = normalizeLine(text, { collector: 'bench', receivedAt: new Date().toISOString() });
      return { text, i, t: n.ok ? Date.parse(n.value['@timestamp']) : 0 };
    })
    .sort((a, b) => a.t - b.t || a.i - b.i);
  return {
    size: base.length,
    record(i, atMs) {
      const k = Math.floor(i / base.length);
      const b = base[i % base.length]!;
      const o = { ...(JSON.parse(shiftTimes(b.text, atMs === undefined ? k * 3600_000 : atMs - b.t)) as Record<string, unknown>) };
      for (const f of ['eventID', 'auditID', 'uuid', 'id', 'Id', 'event_id']) if (typeof o[f] === 'string') o[f] = `${o[f] as string}-${run}-${k}`;
      if (o.detail && typeof o.detail === 'object') {
        const d = { ...(o.detail as Record<string, unknown>) };
        for (const f of ['id', 'Id']) if (typeof d[f] === 'string') d[f] = `${d[f] as string}-${run}-${k}`;
        o.detail = d;
      }
      return JSON.stringify(o);
    },
  };
}
