import type { Finding } from '@aws-sdk/client-guardduty';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../bus/topics.ts';
import type { BusMessage } from '../../bus/types.ts';
import { FileCheckpointStore } from '../checkpoint/file-store.ts';
import { GuardDutySourceConfig } from './config.ts';
import { GuardDutySource, type GuardDutyApi } from './source.ts';

// The collector's narrow edge (ListDetectors, ListFindings, GetFindings) answered from a list, and a file checkpoint
// store; the wire protocol and Kafka are test/collectors/guardduty.scenario.ts's (the GuardDuty stub).
function api(findings: Finding[]): GuardDutyApi {
  return {
    listDetectors: () => Promise.resolve({ DetectorIds: ['det-1'], $metadata: {} }),
    listFindings: () => Promise.resolve({ FindingIds: findings.map((f, i) => f.Id ?? `no-id-${i}`), $metadata: {} }),
    getFindings: () => Promise.resolve({ Findings: findings, $metadata: {} }),
  };
}

async function pollOnce(findings: Finding[]): Promise<{ written: BusMessage[]; src: GuardDutySource }> {
  const written: BusMessage[] = [];
  const store = new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'seam-gd-')), 'cp.json'));
  const src = new GuardDutySource(GuardDutySourceConfig.parse({ type: 'guardduty', region: 'us-east-1' }), {
    guardduty: api(findings),
    store,
    writerFor: () =>
      Promise.resolve({
        write: async (records, key, cp) => {
          written.push(...records);
          await store.save(key, cp);
        },
        close: () => Promise.resolve(),
      }),
    now: () => Date.parse('2026-12-06T12:00:00Z'),
  });
  await src.start();
  await src.pollOnce();
  return { written, src };
}

const base = { AccountId: '111122223333', Region: 'us-east-1', Arn: 'arn', CreatedAt: '2026-12-06T11:00:00.000Z', SchemaVersion: '2.0', Severity: 5, Type: 'Execution:Kubernetes/ExecInKubeSystemPod' };

describe('guardduty collector: findings it cannot key or place in time', () => {
  it('a finding without updatedAt is read by its eventLastSeen or createdAt (as the normalizer reads it), not dropped', async () => {
    const { written, src } = await pollOnce([
      { ...base, Id: 'f-ok', UpdatedAt: '2026-12-06T11:30:00.000Z' },
      { ...base, Id: 'f-no-updated', Service: { EventLastSeen: '2026-12-06T11:40:00.000Z' } },
    ] as Finding[]);
    expect(written.map((m) => [m.topic, m.key])).toEqual([
      [TOPICS.raw('guardduty'), 'det-1/f-ok'],
      [TOPICS.raw('guardduty'), 'det-1/f-no-updated'],
    ]);
    expect(written[1]!.timestampMs).toBe(Date.parse('2026-12-06T11:40:00.000Z'));
    expect(src.stats.snapshot()).toMatchObject({ received: 2, emitted: 2, errors: {} });
  });

  it('a finding with no id, or no usable time at all, is a dead letter with its reason, never silently dropped', async () => {
    const { written, src } = await pollOnce([
      { ...base, Id: 'f-ok', UpdatedAt: '2026-12-06T11:30:00.000Z' },
      { ...base, UpdatedAt: '2026-12-06T11:31:00.000Z' },
      { ...base, Id: 'f-no-time', CreatedAt: 'yesterday', UpdatedAt: 'not a time' },
    ] as Finding[]);
    expect(written.map((m) => m.topic)).toEqual([TOPICS.raw('guardduty'), TOPICS.dlq, TOPICS.dlq]);
    const [noId, noTime] = written.slice(1).map((m) => JSON.parse(m.value.toString()) as { stage: string; code: string; reason: string; origin: string; raw: string });
    expect(noId).toMatchObject({ stage: 'read', code: 'SEAM_ERR_NORMALIZE_SCHEMA', reason: 'GetFindings returned a finding without an id', origin: 'guardduty:det-1/(no id)' });
    expect(noTime).toMatchObject({
      stage: 'read',
      code: 'SEAM_ERR_NORMALIZE_TIMESTAMP',
      reason: 'GetFindings returned finding f-no-time without a usable updatedAt ("not a time"), eventLastSeen or createdAt',
      origin: 'guardduty:det-1/f-no-time',
    });
    expect(JSON.parse(noTime!.raw)).toMatchObject({ Id: 'f-no-time', UpdatedAt: 'not a time' });
    expect(src.stats.snapshot()).toMatchObject({ received: 1, emitted: 1, errors: { SEAM_ERR_NORMALIZE_SCHEMA: 1, SEAM_ERR_NORMALIZE_TIMESTAMP: 1 } });
  });
});
