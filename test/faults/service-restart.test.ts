// Fault scenarios that restart a real service, which faults.test.ts cannot do on the shared local services
// (other test files use them): this file starts its own *private* Kafka broker and OpenSearch node through
// deploy/local/services-lib.mjs on free ports (from 29092 / 29200), runs the three roles against them with
// the same harness as faults.test.ts, and
//   1. kills the broker with SIGKILL mid-stream, starts it again, keeps producing;
//   2. stops the OpenSearch node (SIGTERM) while the index role writes to it, ~15 s later starts it again.
// After each: lost=0 and duplicated=0 over documents (by seam.id) and alerts, every bad record dead-lettered,
// exactly the correlation alerts embedded mode raises (ADR 0009).
// The roles are never restarted: they must reconnect by themselves. What made the broker restart stall
// before (a batch resolved before its commit failed; a producer left with stale sequence numbers) is in
// docs/adr/0006-delivery.md. Scenarios count into the run's `faults:` line (tally.ts); this file also
// prints its own: `faults (service-restart.test.ts): lost=<n> duplicated=<n> dlq=<n> scenarios=<n>`.
// The private instances are stopped and their data deleted in afterAll, whatever happened. If they cannot
// start (no java/jars, ports taken), the file fails with the reason; it never skips.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CACHE, ensureUp, status, stop, type ServiceName } from '../../deploy/local/services-lib.mjs';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { defaultGroupId, type Role } from '../../src/pipeline/roles/role.ts';
import { badRecords, expectedIds, mix, pipeline, referenceCorrelationAlerts, referenceSigmaAlerts, roleStats, until, validRecords, type Pipeline, type PipelineServices, type RawRecord, type Verdict } from '../pipeline/harness.ts';
import { freePorts } from '../helpers/private-services.ts';
import { formatTally, recordScenario, type FaultTally } from './tally.ts';

// Before the imports run (vi.hoisted): the sink logs a warning per failed bulk attempt, hundreds during the outage.
vi.hoisted(() => {
  process.env.SEAM_LOG_LEVEL ??= 'error';
});

const tally: FaultTally = { lost: 0, duplicated: 0, dlq: 0, scenarios: 0 };
const pipelines: Pipeline[] = [];
const PRIVATE: ServiceName[] = ['kafka', 'opensearch'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => {
  process.stderr.write(`[private services] ${line}\n`);
};

let env: NodeJS.ProcessEnv = {};
let at: PipelineServices;
let kafkaPort = 0;
let osPort = 0;
let failed = true; // until beforeAll has the private services up

// Where services-lib keeps a non-default-port instance's state (deploy/local/services-lib.mjs, instanceKey and START).
const privatePaths = (): string[] => [
  path.join(CACHE, 'kafka', `data-${kafkaPort}`),
  path.join(CACHE, 'kafka', `server-${kafkaPort}.properties`),
  path.join(CACHE, 'opensearch', `home-${osPort}`),
  path.join(CACHE, 'run', `kafka-${kafkaPort}.pid`),
  path.join(CACHE, 'run', `opensearch-${osPort}.pid`),
];
const privateLogs = (): string[] => [path.join(CACHE, 'logs', `kafka-${kafkaPort}.log`), path.join(CACHE, 'logs', `opensearch-${osPort}.log`)];

beforeAll(async () => {
  kafkaPort = await freePorts(29092, 2, (p) => [p + 1]);
  osPort = await freePorts(29200, 1, (p) => [p + 100]);
  env = {
    ...process.env,
    SEAM_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    SEAM_KAFKA_CONTROLLER_PORT: String(kafkaPort + 1),
    SEAM_OPENSEARCH_URL: `http://127.0.0.1:${osPort}`,
    SEAM_OPENSEARCH_TRANSPORT_PORT: String(osPort + 100),
  };
  at = { kafkaBrokers: [`127.0.0.1:${kafkaPort}`], opensearchUrl: `http://127.0.0.1:${osPort}` };
  // The ports are free, so any state left under them is a dead run's: start clean.
  for (const p of privatePaths()) fs.rmSync(p, { recursive: true, force: true });
  let started: ServiceName[];
  try {
    ({ started } = await ensureUp(PRIVATE, { env, log }));
  } catch (e) {
    throw new Error(
      `the broker/node restart scenarios need a private Kafka (127.0.0.1:${kafkaPort}) and OpenSearch (127.0.0.1:${osPort}) ` +
        `started by deploy/local/services-lib.mjs (java, and the jars under ${CACHE}, provisioned by \`npm run services:up\` on this machine); ` +
        `they could not start:\n${(e as Error).message}`,
    );
  }
  const mine = await status(PRIVATE, env);
  const notOurs = mine.filter((s) => !started.includes(s.name) || s.pid === null);
  if (notOurs.length > 0) {
    throw new Error(`private ${notOurs.map((s) => `${s.name} at ${s.url}`).join(', ')} answered but was not started by this test, so it cannot be restarted`);
  }
  failed = false;
}, 300_000);

afterAll(async () => {
  // Always: the pipelines (bounded, a dead service must not hang the teardown), then the private instances and their data.
  for (const p of pipelines) await Promise.race([p.cleanup().catch(() => undefined), sleep(30_000)]);
  if (kafkaPort !== 0) {
    await stop(PRIVATE, { env, log }).catch((e: unknown) => log(`stopping failed: ${(e as Error).message}`));
    for (const p of privatePaths()) fs.rmSync(p, { recursive: true, force: true });
    if (failed) log(`logs kept: ${privateLogs().join(' ')}`);
    else for (const p of privateLogs()) fs.rmSync(p, { force: true });
  }
  process.stdout.write(`${formatTally('faults (service-restart.test.ts)', tally)}\n`);
}, 120_000);

/** Produces `records` in `chunks` with pauses, retrying a chunk while the broker is away. Retries may write a chunk twice. */
/**
 * Produces the records in `chunks` chunks, `pauseMs` apart. With `holdAfter`, it stops after that many chunks
 * until release() is called, so a fault injected then is mid-stream however slow the machine is (a loaded CI
 * machine once sent all 24 chunks before the index role wrote its first event, and the kill came after the end).
 */
function stream(
  p: Pipeline,
  records: RawRecord[],
  chunks: number,
  pauseMs: number,
  holdAfter?: number,
): { done: Promise<void>; sent: () => number; retries: () => number; release: () => void } {
  let sent = 0;
  let retries = 0;
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const size = Math.ceil(records.length / chunks);
  const done = (async () => {
    for (let i = 0; i < records.length; i += size) {
      if (holdAfter !== undefined && sent === holdAfter) await held;
      for (let attempt = 1; ; attempt++) {
        try {
          await p.produce(records.slice(i, i + size));
          break;
        } catch (e) {
          if (attempt >= 60) throw new Error(`producing raw records kept failing: ${(e as Error).message}`);
          retries++;
          await sleep(500);
        }
      }
      sent++;
      await sleep(pauseMs);
    }
  })();
  return { done, sent: () => sent, retries: () => retries, release: () => release() };
}

/** Dead letters expected: bad records as they are on the raw topics (a retried produce can write one twice, each dead-lettered once by offset). */
async function badOnRaw(p: Pipeline, bad: RawRecord[]): Promise<number> {
  const texts = new Set(bad.map((b) => b.text));
  let n = 0;
  await p.admin.readToEnd([...p.topics.rawAll], (m) => {
    if (texts.has(m.value.toString('utf8'))) n++;
  });
  return n;
}

async function settle(name: string, p: Pipeline, valid: RawRecord[], bad: RawRecord[], roles: Role[], extra: string): Promise<Verdict> {
  try {
    await p.drain(180_000);
  } catch (e) {
    process.stdout.write(`fault ${name}: roles at the drain timeout: ${JSON.stringify(roles.map((r) => ({ role: r.name, ...r.stats() })))}\n`);
    throw new Error(`fault ${name} (${extra}): ${(e as Error).message}\nroles at the drain timeout:\n${roleStats(roles)}`);
  }
  const expectedDlq = await badOnRaw(p, bad);
  const v = await p.verdict(expectedIds(valid), bad, referenceSigmaAlerts(p.detection, valid), await referenceCorrelationAlerts(p.detection, valid));
  const atEnd = roleStats(roles);
  for (const r of roles) await r.stop();
  recordScenario(tally, name, v);
  process.stdout.write(`fault ${name}: events=${v.events} alerts=${v.alerts} lost=${v.lost} duplicated=${v.duplicated} dlq=${v.dlq} ${extra}${v.details.length ? ` details=${JSON.stringify(v.details)}` : ''}\n`);
  const why = `fault ${name} (${extra}), ${expectedDlq} bad records on the raw topics\n${v.explain}\nroles before their stop:\n${atEnd}`;
  expect(v.details, why).toEqual([]);
  expect(v.lost, why).toBe(0);
  expect(v.duplicated, why).toBe(0);
  expect(v.dlqMissing, why).toBe(0);
  expect(v.dlqWithoutReason, why).toBe(0);
  expect(v.dlq, why).toBe(expectedDlq);
  expect(v.alerts, why).toBeGreaterThan(0);
  return v;
}

/** Messages on the index group's inputs not yet committed by it, in all and per partition. */
async function indexLag(p: Pipeline): Promise<{ behind: number; where: string }> {
  const kadmin = await p.admin.admin();
  let behind = 0;
  const where: string[] = [];
  for (const t of await kadmin.fetchOffsets({ groupId: defaultGroupId('index', p.groupPrefix), topics: [p.topics.events, p.topics.alerts] })) {
    for (const e of await kadmin.fetchTopicOffsets(t.topic)) {
      const c = BigInt(t.partitions.find((q) => q.partition === e.partition)?.offset ?? '-1');
      const n = Number(BigInt(e.high) - (c < 0n ? BigInt(e.low) : c));
      behind += n;
      where.push(`${t.topic}/${e.partition} lag=${n} (committed=${c} high=${e.high})`);
    }
  }
  return { behind, where: where.join('; ') };
}

describe('faults: private services restarted', () => {
  it('Kafka broker killed with SIGKILL mid-stream and started again; roles reconnect by themselves', async () => {
    const p = await pipeline('brokerrestart', undefined, at);
    pipelines.push(p);
    const valid = validRecords(3);
    const bad = badRecords(100);
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    const idx = roles[2]!;
    // SEAM_FAULTS_KILL_AFTER_CHUNKS moves the kill to another point of the stream (1–20) when hunting a flaky window.
    const killAfter = Math.min(20, Math.max(1, Number(process.env.SEAM_FAULTS_KILL_AFTER_CHUNKS ?? 8) || 8));
    const s = stream(p, mix(valid, bad), 24, 250, killAfter);
    try {
      await until(() => s.sent() >= killAfter && (idx.stats() as { events: number }).events > 0, 90_000, 'the pipeline to be indexing mid-stream', () => `chunks sent ${s.sent()}/24 (the kill after ${killAfter}), produce retries ${s.retries()}\n${roleStats(roles)}`);
      const sentAtKill = s.sent();
      const pid = Number(fs.readFileSync(path.join(CACHE, 'run', `kafka-${kafkaPort}.pid`), 'utf8').trim());
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), `pid ${pid} from the broker's pid file`).toContain('kafka.Kafka'); // ours, not a reused pid
      process.kill(-pid, 'SIGKILL'); // the broker is a process-group leader (spawned detached)
      s.release(); // the rest of the stream is produced while the broker is down and restarting (retried)
      await until(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 30_000, 'the broker to die');
      await sleep(5000);
      const { started } = await ensureUp(['kafka'], { env, log });
      expect(started, `services-lib started again (kafka expected) on 127.0.0.1:${kafkaPort}`).toEqual(['kafka']);
      await s.done;
      expect(sentAtKill, 'chunks of 24 produced when the broker was killed (it died mid-stream)').toBeLessThan(24); // it died mid-stream
      await settle('broker-restart', p, valid, bad, roles, `produceRetries=${s.retries()} killedAfterChunks=${sentAtKill}/24`);
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 240_000);

  it('OpenSearch node stopped while the index role writes, started ~15 s later; the index role waits', async () => {
    const p = await pipeline('osrestart', undefined, at);
    pipelines.push(p);
    const valid = validRecords(3);
    const bad = badRecords(100);
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    const idx = roles[2]!;
    const idxStats = (): { events: number; alerts: number; deadLetters: number; failedBatches: number } =>
      idx.stats() as { events: number; alerts: number; deadLetters: number; failedBatches: number };
    const s = stream(p, mix(valid, bad), 24, 300);
    try {
      await until(() => s.sent() >= 6 && idxStats().events > 0, 90_000, 'the index role to be writing', () => `chunks sent ${s.sent()}/24\n${roleStats(roles)}`);
      expect(await stop(['opensearch'], { env, log }), `services-lib stopped (opensearch expected) on 127.0.0.1:${osPort}`).toEqual(['opensearch']);
      const atStop = idxStats();
      await sleep(15_000);
      const later = idxStats();
      const lag = await indexLag(p);
      const { started } = await ensureUp(['opensearch'], { env, log });
      expect(started, `services-lib started again (opensearch expected) on 127.0.0.1:${osPort}`).toEqual(['opensearch']);
      await s.done;
      const v = await settle(
        'opensearch-restart',
        p,
        valid,
        bad,
        roles,
        `whileDown: indexed=${later.events + later.alerts - atStop.events - atStop.alerts} indexLag=${lag.behind} failedBatches=${later.failedBatches - atStop.failedBatches}`,
      );
      // Paused, not dropped: nothing acked or dead-lettered while the node was down, and its input piled up uncommitted.
      const down = `index role at the stop ${JSON.stringify(atStop)}, 15 s later ${JSON.stringify(later)}; its lag then: ${lag.where}`;
      expect(later.events + later.alerts, `documents indexed while OpenSearch was down: ${down}`).toBe(atStop.events + atStop.alerts);
      expect(later.deadLetters, `dead letters while OpenSearch was down: ${down}`).toBe(0);
      expect(lag.behind, `the index role's input to pile up uncommitted while OpenSearch was down: ${down}`).toBeGreaterThan(0);
      expect(idxStats().deadLetters, `the index role's dead letters at the end: ${JSON.stringify(idxStats())}`).toBe(0);
      const stages: { stage: string; code: string; reason: string }[] = [];
      await p.admin.readToEnd([p.topics.dlq], (m) => stages.push(JSON.parse(m.value.toString('utf8')) as DeadLetter));
      expect(stages.filter((st) => st.stage === 'index').map((d) => `${d.code}: ${d.reason}`)).toEqual([]);
      expect(v.events, v.explain).toBe(expectedIds(valid).size);
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 240_000);
});
