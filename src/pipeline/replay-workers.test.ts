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
import { logEventOf, SUBSCRIPTION_CLUSTER, SUBSCRIPTION_OWNER, subscriptionOf } from '../../test/helpers/batches.ts';
import type { SeamEvent } from '../core/envelope.ts';

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

// Each test replays ~6,500 records through the whole rule pack once or twice (workers are threads that load it again):
// 26-49 s each at load ~16 and one over vitest's 60 s unit limit. The limit only bounds a hang; speed is bench:workers'.
describe('seam replay --workers', { timeout: 600_000 }, () => {
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

  it('keeps the account and cluster a CloudWatch Logs subscription payload names, as one thread does (ADR 0039)', async () => {
    // The demo's audit events (which name no cluster) in payloads of its EKS group, each run between CloudTrail
    // records as one payload, keys in CloudWatch's order (ADR 0039: the file scanner reads the payload's fields on its
    // way to logEvents); the CloudTrail records stay one per line.
    const lines = (await readFile(join(ROOT, 'deploy/demo/eks-demo.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const out: string[] = [];
    let run: string[] = [];
    let n = 0;
    const flush = (): void => {
      if (run.length > 0) out.push(subscriptionOf(`/aws/eks/${SUBSCRIPTION_CLUSTER}/cluster`, 'kube-apiserver-audit-0a1b2c3d', run.map((m) => logEventOf(n++, m)), 0));
      run = [];
    };
    for (const l of lines) {
      if (l.includes('"audit.k8s.io/')) run.push(l);
      else {
        flush();
        out.push(l);
      }
    }
    flush();
    const sub = join(dir, 'subscription');
    await mkdir(sub);
    await writeFile(join(sub, 'payloads.jsonl'), out.join('\n') + '\n');
    const one = { alerts: join(dir, 's1.jsonl'), dlq: join(dir, 'sd1.jsonl'), out: join(dir, 'se1.jsonl') };
    const two = { alerts: join(dir, 's2.jsonl'), dlq: join(dir, 'sd2.jsonl'), out: join(dir, 'se2.jsonl') };
    await runReplay({ paths: [sub], dlqPath: one.dlq, alertsPath: one.alerts, outPath: one.out, maxRecordBytes: 1 << 20, handler: await buildReplayHandler(spec) });
    const s2 = await runReplayWorkers({ paths: [sub], workers: 2, spec, dlqPath: two.dlq, alertsPath: two.alerts, outPath: two.out, maxRecordBytes: 1 << 20 });

    const where = async (file: string): Promise<Map<string, string>> => new Map((await jsonl<SeamEvent>(file)).map((e) => [e.seam.id, `${e.seam.source} ${e.seam.account ?? '-'} ${e.seam.cluster ?? '-'}`]));
    const e1 = await where(one.out);
    const e2 = await where(two.out);
    const audit = [...e1.values()].filter((v) => v.startsWith('k8s_audit '));
    expect(audit.length).toBeGreaterThan(300);
    expect(new Set(audit)).toEqual(new Set([`k8s_audit ${SUBSCRIPTION_OWNER} ${SUBSCRIPTION_CLUSTER}`]));
    expect(e2).toEqual(e1);
    // The workers read each record as the first pass did (it saw the payload's account and cluster).
    expect(s2.timing.mismatched).toBe(0);
    expect((await jsonl<Alert>(two.alerts)).map(alertRuleAndEvents).sort()).toEqual((await jsonl<Alert>(one.alerts)).map(alertRuleAndEvents).sort());
  });
});
