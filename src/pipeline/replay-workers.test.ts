import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { multiAccountLines, tenantAccount } from '../../bench/workers-input.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { Alert } from '../detect/alert.ts';
import { buildReplayHandler, runReplay, type ReplayDetectSpec } from './replay.ts';
import { runReplayWorkers } from './replay-workers.ts';
import { alertRuleAndEvents, readJsonl as jsonl } from '../../test/helpers/jsonl.ts';

const ROOT = join(import.meta.dirname, '../..');
const spec: ReplayDetectSpec = { rules: [join(ROOT, 'detections')], placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') };


let dir: string;
let input: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seam-replay-workers-'));
  // Three accounts: the demo story and a third of the generated events in 111122223333, the rest in two
  // other accounts (each with its own cluster), plus the bad fixtures: lines that never normalize.
  input = join(dir, 'input');
  await mkdir(input);
  await copyFile(join(ROOT, 'deploy/demo/eks-demo.jsonl'), join(input, '1-demo.jsonl'));
  await writeFile(join(input, '2-generated.jsonl'), multiAccountLines(6000, 3).join('\n') + '\n');
  for (const f of ['malformed.jsonl', 'schema-violations.jsonl', 'truncated.jsonl', 'unknown-format.jsonl']) await copyFile(join(ROOT, 'test/fixtures/bad', f), join(input, `3-${f}`));
});

describe('seam replay --workers', () => {
  it('raises the same alerts from the same events with 2 workers as with 1, on input of three accounts', async () => {
    const one = { alerts: join(dir, 'a1.jsonl'), dlq: join(dir, 'd1.jsonl') };
    const two = { alerts: join(dir, 'a2.jsonl'), dlq: join(dir, 'd2.jsonl') };
    const s1 = await runReplay({ paths: [input], dlqPath: one.dlq, alertsPath: one.alerts, maxRecordBytes: 1 << 20, handler: await buildReplayHandler(spec) });
    const s2 = await runReplayWorkers({ paths: [input], workers: 2, spec, dlqPath: two.dlq, alertsPath: two.alerts, maxRecordBytes: 1 << 20 });

    // The input really was split: three tenants, both workers busy.
    expect(s2.plan.tenants).toBe(3);
    expect(Math.min(...s2.plan.load)).toBeGreaterThan(1000);
    expect(s2.timing.mismatched).toBe(0);

    const a1 = await jsonl<Alert>(one.alerts);
    const a2 = await jsonl<Alert>(two.alerts);
    expect(a1.length).toBeGreaterThan(30);
    expect(a2.map(alertRuleAndEvents).sort()).toEqual(a1.map(alertRuleAndEvents).sort());
    expect(new Set(a2.map((a) => a.id)).size).toBe(a2.length);
    // Alerts of every account, so both workers' output is in the comparison.
    const accounts = new Set(a1.map((a) => a.account));
    for (let k = 0; k < 3; k++) expect(accounts).toContain(tenantAccount(k));
    // The demo story's incident is intact (its cross-plane alerts need the audit log and CloudTrail together).
    expect(a2.filter((a) => a.principal?.arn?.endsWith('PlatformAdmin/alice@example.com')).length).toBeGreaterThan(3);

    for (const k of ['records', 'normalized', 'rejected', 'alerts'] as const) expect(s2[k]).toBe(s1[k]);
    expect(s2.bySource).toEqual(s1.bySource);
    expect(s2.rejectedByCode).toEqual(s1.rejectedByCode);

    // Every bad line is a dead letter with its code and reason, once, as with one thread.
    expect(s1.rejected).toBeGreaterThan(5);
    const d1 = await jsonl<DeadLetter>(one.dlq);
    const d2 = await jsonl<DeadLetter>(two.dlq);
    expect(d2).toHaveLength(s2.rejected);
    for (const l of d2) {
      expect(l.code).toMatch(/^SEAM_ERR_/);
      expect(l.reason.length).toBeGreaterThan(10);
    }
    expect(d2.map((l) => `${l.origin} ${l.code} ${l.reason}`)).toEqual(d1.map((l) => `${l.origin} ${l.code} ${l.reason}`));
  });

  it('writes the same output twice from the same input', async () => {
    const run = async (n: number): Promise<string> => {
      const alerts = join(dir, `again-${n}.jsonl`);
      await runReplayWorkers({ paths: [input], workers: 2, spec, dlqPath: join(dir, `again-dlq-${n}.jsonl`), alertsPath: alerts, maxRecordBytes: 1 << 20 });
      return readFile(alerts, 'utf8');
    };
    expect(await run(2)).toBe(await run(1));
  });
});
