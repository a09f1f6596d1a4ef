// Security Lake's OCSF events of CloudTrail records (ADR 0041) replayed with the shipped rules give the alerts the
// CloudTrail records give: same rules, same events.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OCSF_NEAR_MISSES, OCSF_PAIRS } from '../../test/helpers/ocsf-pairs.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { SeamEvent } from '../core/envelope.ts';
import type { Alert } from '../detect/alert.ts';
import { alertRuleAndEvents, readJsonl as jsonl } from '../../test/helpers/jsonl.ts';
import { buildReplayHandler, runReplay, type ReplayDetectSpec } from './replay.ts';

const ROOT = join(import.meta.dirname, '../..');
const spec: ReplayDetectSpec = { rules: [join(ROOT, 'detections')], placeholdersFile: join(ROOT, 'deploy/config/placeholders.yml') };
const MAX = 1 << 20;

async function replay(dir: string, name: string, records: readonly unknown[]) {
  const input = join(dir, `${name}.jsonl`);
  await writeFile(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const paths = { out: join(dir, `${name}-events.jsonl`), alerts: join(dir, `${name}-alerts.jsonl`), dlq: join(dir, `${name}-dlq.jsonl`) };
  const summary = await runReplay({ paths: [input], outPath: paths.out, dlqPath: paths.dlq, alertsPath: paths.alerts, maxRecordBytes: MAX, handler: await buildReplayHandler(spec) });
  return { summary, events: await jsonl<SeamEvent>(paths.out), alerts: await jsonl<Alert>(paths.alerts), dlq: await jsonl<DeadLetter>(paths.dlq) };
}

describe('replay of Security Lake OCSF CloudTrail events', () => {
  it('gives the alerts of the CloudTrail records, and dead-letters the OCSF events of other products as unknown', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-ocsf-'));
    const ct = await replay(dir, 'cloudtrail', OCSF_PAIRS.map((p) => p.cloudtrail));
    const ocsf = await replay(dir, 'ocsf', [...OCSF_PAIRS.map((p) => p.ocsf), ...OCSF_NEAR_MISSES.map((m) => m.record)]);

    expect(ocsf.summary.normalized).toBe(OCSF_PAIRS.length);
    expect(ocsf.summary.bySource).toEqual({ cloudtrail: OCSF_PAIRS.length });
    expect(ocsf.events.map((e) => e.seam.format)).toEqual(OCSF_PAIRS.map(() => 'ocsf'));
    expect(ocsf.events.map((e) => e.seam.id)).toEqual(ct.events.map((e) => e.seam.id));

    // Access key for another user (and its informational twin), console sign-in without MFA, a batch delete in a
    // trail bucket: the five calls raise six alerts either way.
    expect(ct.alerts.length).toBe(6);
    expect(ocsf.alerts.map(alertRuleAndEvents).sort()).toEqual(ct.alerts.map(alertRuleAndEvents).sort());
    expect(ocsf.alerts.map((a) => a.id).sort()).toEqual(ct.alerts.map((a) => a.id).sort());

    expect(ocsf.dlq.map((d) => d.code)).toEqual(OCSF_NEAR_MISSES.map(() => 'SEAM_ERR_INPUT_UNKNOWN_FORMAT'));
  });
});
