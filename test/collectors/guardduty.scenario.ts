// GuardDuty collector against a stub of the GuardDuty API (moto has none) and the real Kafka: pagination,
// batches of 50, throttling, findings updated later emitted again, and a hard stop + restart.
import { GuardDuty } from '@aws-sdk/client-guardduty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import { RAW_HEADERS, TOPICS } from '../../src/bus/topics.ts';
import { HardStop } from '../../src/sources/checkpoint/store.ts';
import { awsClientOptions } from '../../src/sources/aws/client.ts';
import { GuardDutySourceConfig } from '../../src/sources/guardduty/config.ts';
import { GuardDutySource } from '../../src/sources/guardduty/source.ts';
import { CollectConfig, collectorContext } from '../../src/sources/registry.ts';
import { uniqueName } from '../helpers/services.ts';
import { GuardDutyStub, type StubFinding } from './guardduty-stub.ts';
import { newBus } from './helpers.ts';
import { account, tally } from './tally.ts';

describe('guardduty collector (stub GuardDuty + Kafka)', () => {
  let bus: KafkaBus;
  const stub = new GuardDutyStub();
  let endpoint: string;
  beforeAll(async () => {
    bus = newBus();
    await bus.ensureTopics([{ topic: TOPICS.raw('guardduty'), partitions: 6 }]);
    endpoint = await stub.start();
  });
  afterAll(async () => {
    await stub.stop();
    await bus.close();
  });

  async function collector(txPrefix: string, checkpointTopic: string, kill: { on: boolean }): Promise<GuardDutySource> {
    const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: checkpointTopic } }), bus, { transactionalIdPrefix: txPrefix, faults: { killAfterProduce: () => kill.on } });
    // The client is built as `seam collect` builds it (awsClientOptions): the SDK's adaptive retries ride out throttling.
    const config = GuardDutySourceConfig.parse({ type: 'guardduty', name: 'gd-test', endpoint, region: 'us-east-1', maxAttempts: 5 });
    const gd = new GuardDuty({ ...awsClientOptions(config), credentials: { accessKeyId: 'stub', secretAccessKey: 'stub' } });
    const src = new GuardDutySource(config, {
      guardduty: gd,
      store: ctx.checkpoints,
      writerFor: (k) => ctx.writerFor(k),
      refresh: () => ctx.refreshCheckpoints(),
    });
    await src.start();
    return src;
  }

  it('emits every finding version once, re-reads updated findings, and survives throttling and a hard stop', async () => {
    const from = await bus.endOffsets([TOPICS.raw('guardduty')]);
    const detector = uniqueName('detector');
    const findings: StubFinding[] = [];
    stub.detectors.clear();
    stub.detectors.set(detector, findings);
    const now = Date.now();
    for (let i = 0; i < 180; i++) findings.push({ id: `${detector}-f${i}`, createdAtMs: now - 3_600_000, updatedAtMs: now - 3_000_000 + i * 1000, type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess', cluster: i % 2 ? 'prod' : 'stage' });
    const expected = new Set(findings.map((f) => `${f.id}@${new Date(f.updatedAtMs).toISOString()}`));
    const txPrefix = uniqueName('seam-gd');
    const cpTopic = uniqueName('seam-checkpoints-gd');
    const kill = { on: false };

    const a = await collector(txPrefix, cpTopic, kill);
    // Three throttled answers in a row: the SDK retries them inside one poll, which then succeeds.
    stub.throttleNext = 3;
    await a.pollOnce();
    expect(stub.throttled).toBe(3);
    expect(a.stats.snapshot().errors).toEqual({});

    // Updates: 20 findings updated now (a new version each), plus 30 new findings.
    const later = Date.now();
    for (let i = 0; i < 20; i++) {
      findings[i]!.updatedAtMs = later + i;
      expected.add(`${findings[i]!.id}@${new Date(later + i).toISOString()}`);
    }
    for (let i = 180; i < 210; i++) {
      const f = { id: `${detector}-f${i}`, createdAtMs: later, updatedAtMs: later - 1000 + i, type: 'Execution:Kubernetes/ExecInKubeSystemPod', cluster: 'prod' };
      findings.push(f);
      expected.add(`${f.id}@${new Date(f.updatedAtMs).toISOString()}`);
    }
    kill.on = true;
    await expect(a.pollOnce()).rejects.toBeInstanceOf(HardStop);
    tally.restarts++;
    kill.on = false;
    const b = await collector(txPrefix, cpTopic, kill);
    await b.pollOnce();
    await b.pollOnce();

    const got: string[] = [];
    const clusters = new Set<string>();
    await bus.readToEnd([TOPICS.raw('guardduty')], (m) => {
      if (!m.headers?.[RAW_HEADERS.origin]?.startsWith(`guardduty:${detector}/`)) return;
      const f = JSON.parse(m.value.toString()) as { Id: string; UpdatedAt: string };
      got.push(`${f.Id}@${f.UpdatedAt}`);
      clusters.add(m.headers[RAW_HEADERS.cluster] ?? '');
    },
    120_000,
    { untilStable: true, from }, // also what was committed behind another run's open transaction; only since this test began
    );
    const { missing, duplicated } = account(expected, got);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect([...clusters].sort()).toEqual(['prod', 'stage']);
    await b.close();
  });

  it('a collector whose start fails (ListDetectors denied twice) is started again with back-off and then collects', async () => {
    const from = await bus.endOffsets([TOPICS.raw('guardduty')]);
    const detector = uniqueName('detector-late');
    const findings: StubFinding[] = [];
    stub.detectors.clear();
    stub.detectors.set(detector, findings);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 7; i++) findings.push({ id: `${detector}-f${i}`, createdAtMs: base, updatedAtMs: base + i * 100, type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess', cluster: 'prod' });
    const ctx = await collectorContext(CollectConfig.parse({ sources: {}, checkpoint: { topic: uniqueName('seam-checkpoints-gd-late') } }), bus, { transactionalIdPrefix: uniqueName('seam-gd-late') });
    // maxAttempts 1: the SDK does not retry a 403 anyway; the collector's own start retry is what is tested.
    const config = GuardDutySourceConfig.parse({ type: 'guardduty', name: 'gd-late', endpoint, region: 'us-east-1', maxAttempts: 1, pollIntervalMs: 200 });
    const gd = new GuardDuty({ ...awsClientOptions(config), credentials: { accessKeyId: 'stub', secretAccessKey: 'stub' } });
    const src = new GuardDutySource(config, { guardduty: gd, store: ctx.checkpoints, writerFor: (k) => ctx.writerFor(k), refresh: () => ctx.refreshCheckpoints() });
    stub.denyNext = 2;
    const ac = new AbortController();
    const running = src.run(ac.signal);
    // Backs off 1 s, then 2 s, then starts; until then the snapshot says why it has not started.
    // The deadlines below only bound a hang (a start never tried, or never succeeding): far above the 1 s + 2 s back-off
    // and a loaded machine's first SDK calls. The ordering checks need no clock: the poll and the back-off timers share
    // this event loop, so the first failure is seen before the 1 s back-off can start the source.
    await expect.poll(() => src.stats.snapshot().startFailures, { timeout: 120_000, message: 'the first (denied) start of the GuardDuty source' }).toBeGreaterThanOrEqual(1);
    expect(src.stats.snapshot()).toMatchObject({ started: false, lastStartError: expect.stringContaining('SEAM_ERR_SOURCE_API: ListDetectors failed') });
    await expect.poll(() => src.stats.snapshot().emitted, { timeout: 120_000, interval: 200, message: 'the GuardDuty source to start after its back-off and emit the 7 findings' }).toBe(7);
    ac.abort();
    await running;
    await src.close();
    const snap = src.stats.snapshot();
    expect(snap).toMatchObject({ started: true, startFailures: 2, errors: { SEAM_ERR_SOURCE_API: 2 } });
    expect(snap).not.toHaveProperty('lastStartError');
    const got: string[] = [];
    await bus.readToEnd(
      [TOPICS.raw('guardduty')],
      (m) => {
        if (!m.headers?.[RAW_HEADERS.origin]?.startsWith(`guardduty:${detector}/`)) return;
        got.push((JSON.parse(m.value.toString()) as { Id: string }).Id);
      },
      120_000,
      { untilStable: true, from },
    );
    expect(got.sort()).toEqual(findings.map((f) => f.id).sort());
  });

  it('two replicas that both claim the same detector (no ownership split) emit each finding version once: the later writer fences the earlier', async () => {
    // GuardDuty takes only a static replica list (no lease, ADR 0004): replicas that agree on it never share a
    // detector. The worst misconfiguration is two replicas that both own it; then the transactional fence alone
    // must keep every finding version to one copy while both poll at the same time.
    const from = await bus.endOffsets([TOPICS.raw('guardduty')]);
    const detector = uniqueName('detector-pair');
    const findings: StubFinding[] = [];
    stub.detectors.clear();
    stub.detectors.set(detector, findings);
    const expected = new Set<string>();
    let n = 0;
    const add = (count: number): void => {
      // Updated within the last minute (inside the lookback behind the watermark), 100 ms apart.
      const base = Date.now() - 60_000;
      for (let i = 0; i < count; i++, n++) {
        const f = { id: `${detector}-f${n}`, createdAtMs: base, updatedAtMs: base + i * 100, type: 'Discovery:Kubernetes/SuccessfulAnonymousAccess', cluster: 'prod' };
        findings.push(f);
        expected.add(`${f.id}@${new Date(f.updatedAtMs).toISOString()}`);
      }
    };
    const txPrefix = uniqueName('seam-gd-pair');
    const cpTopic = uniqueName('seam-checkpoints-gd-pair');
    const kill = { on: false };
    add(120);
    const a = await collector(txPrefix, cpTopic, kill);
    await a.pollOnce();
    add(80);
    const b = await collector(txPrefix, cpTopic, kill); // fences a
    tally.restarts++;
    await Promise.all([a.pollOnce(), b.pollOnce()]);
    add(60);
    await Promise.all([a.pollOnce(), b.pollOnce()]);
    await b.pollOnce();
    const got: string[] = [];
    await bus.readToEnd(
      [TOPICS.raw('guardduty')],
      (m) => {
        if (!m.headers?.[RAW_HEADERS.origin]?.startsWith(`guardduty:${detector}/`)) return;
        const f = JSON.parse(m.value.toString()) as { Id: string; UpdatedAt: string };
        got.push(`${f.Id}@${f.UpdatedAt}`);
      },
      120_000,
      { untilStable: true, from },
    );
    const { missing, duplicated } = account(expected, got);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(a.stats.snapshot().errors).toMatchObject({ SEAM_ERR_CHECKPOINT_FENCED: 1 }); // a stopped at its first write after b started
    for (const c of [a, b]) await c.close();
  });
});
