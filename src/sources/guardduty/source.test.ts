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

describe('guardduty collector: checkpoint age', () => {
  it('ages while every poll fails (credentials gone after start) and is back to 0 after a poll that saved, per detector', async () => {
    let t = Date.parse('2026-12-06T12:00:00Z');
    let denied = false;
    const store = new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'seam-gd-')), 'cp.json'));
    const ok = api([{ ...base, Id: 'f-1', UpdatedAt: '2026-12-06T11:30:00.000Z' } as Finding]);
    const src = new GuardDutySource(GuardDutySourceConfig.parse({ type: 'guardduty', region: 'us-east-1', detectorIds: ['det-1'] }), {
      guardduty: {
        ...ok,
        listFindings: (input) => (denied ? Promise.reject(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException', $metadata: { httpStatusCode: 403 } })) : ok.listFindings(input)),
      },
      store,
      writerFor: () => Promise.resolve({ write: (_r, key, cp) => store.save(key, cp), close: () => Promise.resolve() }),
      now: () => t,
    });
    await src.start();
    expect(src.stats.snapshot(t).checkpointAgeMs).toEqual({ 'det-1': 0 });
    await src.pollOnce();
    denied = true;
    for (let i = 0; i < 3; i++) {
      t += 60_000;
      await src.pollOnce();
    }
    expect(src.stats.snapshot(t)).toMatchObject({ checkpointAgeMs: { 'det-1': 180_000 }, errors: { SEAM_ERR_SOURCE_API: 3 } });
    denied = false;
    t += 60_000;
    await src.pollOnce();
    expect(src.stats.snapshot(t).checkpointAgeMs).toEqual({ 'det-1': 0 });
  });
});


describe('guardduty collector: ownership', () => {
  const parse = (ownership: unknown): ReturnType<typeof GuardDutySourceConfig.safeParse> => GuardDutySourceConfig.safeParse({ type: 'guardduty', ownership });

  it('takes a static replica list and refuses lease settings, which it does not read, with a message saying why', () => {
    expect(parse({ replicaId: 'seam-collect-1', replicas: ['seam-collect-0', 'seam-collect-1'] }).data?.ownership).toEqual({ replicaId: 'seam-collect-1', replicas: ['seam-collect-0', 'seam-collect-1'] });
    const lease = parse({ replicaId: 'seam-collect-0', lease: { ttlMs: 15_000 } });
    expect(lease.success).toBe(false);
    expect(lease.error?.issues.map((i) => i.message)).toContain('the GuardDuty collector takes a static `replicas` list; `lease` is for cloudwatch-logs only so far');
    expect(parse({ replicaId: 'seam-collect-0' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['ownership.replicas']);
    expect(parse({ replicaId: 'seam-collect-2', replicas: ['seam-collect-0', 'seam-collect-1'] }).error?.issues.map((i) => i.message)).toEqual(['ownership.replicas must include ownership.replicaId']);
  });

  it('two replicas of one static list read each detector exactly once', async () => {
    const detectors = Array.from({ length: 12 }, (_, i) => `det-${i}`);
    const readBy = new Map<string, string[]>();
    for (const replicaId of ['seam-collect-0', 'seam-collect-1']) {
      const store = new FileCheckpointStore(join(await mkdtemp(join(tmpdir(), 'seam-gd-own-')), 'cp.json'));
      const src = new GuardDutySource(GuardDutySourceConfig.parse({ type: 'guardduty', region: 'us-east-1', ownership: { replicaId, replicas: ['seam-collect-0', 'seam-collect-1'] } }), {
        guardduty: {
          listDetectors: () => Promise.resolve({ DetectorIds: detectors, $metadata: {} }),
          listFindings: (input) => {
            readBy.set(String(input.DetectorId), [...(readBy.get(String(input.DetectorId)) ?? []), replicaId]);
            return Promise.resolve({ FindingIds: [], $metadata: {} });
          },
          getFindings: () => Promise.resolve({ Findings: [], $metadata: {} }),
        },
        store,
        writerFor: () => Promise.resolve({ write: (_r, key, cp) => store.save(key, cp), close: () => Promise.resolve() }),
        now: () => Date.parse('2026-12-06T12:00:00Z'),
      });
      await src.start();
      await src.pollOnce();
      await src.close();
    }
    expect([...readBy.keys()].sort()).toEqual([...detectors].sort());
    expect([...readBy.values()].filter((r) => r.length !== 1)).toEqual([]);
    // Both replicas own some (rendezvous hashing over 12 detectors).
    expect(new Set([...readBy.values()].flat()).size).toBe(2);
  });
});
