// Real faults under the CloudWatch Logs collector (issue 16), each checked exactly-once over the records'
// audit ids and counted into the suite's `collectors:` line:
//   1. a `seam collect` process (the real CLI, a child process) killed with SIGKILL mid-page — stalled
//      with its page produced in an open transaction — then at a random moment, and restarted each time;
//   2. a private Kafka broker killed with SIGKILL and started again under a running collector;
//   3. a private moto killed and started again while a collector polls (the test puts its state back);
//   4. two `seam collect` replicas with a lease (ADR 0004): one is killed with SIGKILL and the other takes
//      its log groups over (the take-over time is reported as takeoverMs, and by the soak as max_takeover_ms).
// The private services run on their own ports (test/helpers/private-services.ts), never the shared ones.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus, type TopicOffsets } from '../../src/bus/kafka.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { ownerOf } from '../../src/sources/checkpoint/ownership.ts';
import { resolveGroup } from '../../src/sources/cloudwatch-logs/parse.ts';
import { unitOf } from '../../src/sources/cloudwatch-logs/source.ts';
import { exitText, watchChild, type ChildExit } from '../helpers/child.ts';
import { firstOf } from '../helpers/first-of.ts';
import { startPrivate, type PrivateService } from '../helpers/private-services.ts';
import { awsClientConfig, awsEndpoint, kafkaBrokers, uniqueName } from '../helpers/services.ts';
import { cloudWatchCollector } from './cloudwatch.scenario.ts';
import { auditEvent, createStreams, newBus, produced, producedSince, put } from './helpers.ts';
import { account, tally } from './tally.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const STREAMS = ['kube-apiserver-audit-0a', 'kube-apiserver-audit-1b'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[collector faults +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
};
const privates: PrivateService[] = [];
const children = new Set<ChildProcess>();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seam-collect-faults-'));

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const p of privates) await p.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

/** Log groups with audit streams, and a writer of events into them that records what is expected. */
async function clusters(
  n: number,
  prefix: string,
  logs?: CloudWatchLogs,
  splitOver?: string[],
): Promise<{ groups: string[]; expected: Set<string>; putAll: (count: number, atMs?: number) => Promise<void>; recreate: () => Promise<void> }> {
  let names = Array.from({ length: n }, (_, i) => uniqueName(`${prefix}${i}`));
  // Names are random, so rendezvous hashing may give every group to one replica (1 in 8 for 4 groups over 2):
  // with splitOver, draw until each replica owns at least one.
  const owners = (ns: string[]): Set<string> => new Set(ns.map((c) => ownerOf(unitOf(resolveGroup({ logGroupName: `/aws/eks/${c}/cluster` })), splitOver!)));
  while (splitOver !== undefined && owners(names).size < splitOver.length) names = Array.from({ length: n }, (_, i) => uniqueName(`${prefix}${i}`));
  const groups = names.map((c) => `/aws/eks/${c}/cluster`);
  const client = logs;
  const create = async (): Promise<void> => {
    for (const g of groups) {
      if (client === undefined) await createStreams(g, STREAMS);
      else {
        await client.createLogGroup({ logGroupName: g });
        for (const s of STREAMS) await client.createLogStream({ logGroupName: g, logStreamName: s });
      }
    }
  };
  await create();
  const expected = new Set<string>();
  const history: { g: string; s: string; events: { timestamp: number; message: string }[] }[] = [];
  let seq = 0;
  const send = async (g: string, s: string, events: { timestamp: number; message: string }[]): Promise<void> => {
    if (client === undefined) await put(g, s, events);
    else for (let i = 0; i < events.length; i += 5000) await client.putLogEvents({ logGroupName: g, logStreamName: s, logEvents: events.slice(i, i + 5000) });
  };
  const putAll = async (count: number, atMs = Date.now() - 60_000): Promise<void> => {
    for (const [gi, g] of groups.entries()) {
      for (const s of STREAMS) {
        const events = Array.from({ length: count }, (_, i) => {
          const k = seq++;
          expected.add(`${names[gi]}-${s}-${k}`);
          return { timestamp: atMs + i, message: auditEvent(names[gi]!, s, k, atMs + i) };
        });
        history.push({ g, s, events });
        await send(g, s, events);
      }
    }
  };
  // After the emulator lost everything: the same groups, streams and events again.
  const recreate = async (): Promise<void> => {
    await create();
    for (const h of history) await send(h.g, h.s, h.events);
  };
  return { groups, expected, putAll, recreate };
}

/** Audit ids of every committed record from `groups`. */
async function ids(bus: KafkaBus, groups: string[], from?: TopicOffsets): Promise<string[]> {
  return (await produced(bus, [TOPICS.raw('k8s_audit')], groups, from)).map((m) => (JSON.parse(m.value.toString()) as { auditID: string }).auditID);
}

/**
 * Waits until every expected id is committed (or the timeout), then returns every committed id since `from`.
 * Each read goes on from where the previous one ended (a read sees every record committed before its end,
 * also behind transactions that were open: readToEnd's untilStable), so the ids add up to one full read
 * without reading the scenario's records again every 1.5 s.
 */
async function settle(bus: KafkaBus, groups: string[], expected: Set<string>, timeoutMs: number, from?: TopicOffsets): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const got: string[] = [];
  const present = new Set<string>();
  let cursor = from;
  for (;;) {
    let failed = false;
    try {
      const r = await producedSince(bus, [TOPICS.raw('k8s_audit')], groups, cursor);
      for (const m of r.messages) {
        const id = (JSON.parse(m.value.toString()) as { auditID: string }).auditID;
        got.push(id);
        if (expected.has(id)) present.add(id);
      }
      cursor = r.to;
    } catch (e) {
      // Reading right after a broker restart can meet "not the leader" until its partitions are loaded; a failed
      // read adds nothing (its records are read again from the same cursor).
      if (Date.now() > deadline) throw e;
      failed = true;
    }
    log(`settle: ${present.size}/${expected.size} expected records committed${failed ? ' (read failed)' : ''}`);
    if (!failed && (present.size === expected.size || Date.now() > deadline)) return got;
    await sleep(1500);
  }
}

function verdict(name: string, expected: Set<string>, got: string[], extra = ''): void {
  const { missing, duplicated } = account(expected, got);
  process.stdout.write(`collector fault ${name}: events=${expected.size} missing=${missing.length} duplicated=${duplicated.length}${extra}\n`);
  const unexpected = [...new Set(got.filter((g) => !expected.has(g)))];
  const times = new Map<string, number>();
  for (const g of got) times.set(g, (times.get(g) ?? 0) + 1);
  // Missing ids by log group and stream (<cluster>-<stream>-<seq>): one stream's tail missing reads differently from scattered holes.
  const byStream = new Map<string, number[]>();
  for (const m of missing) {
    const at = m.lastIndexOf('-');
    const k = m.slice(0, at);
    byStream.set(k, [...(byStream.get(k) ?? []), Number(m.slice(at + 1))]);
  }
  const why =
    `collector fault ${name}: ${got.length} records read for ${expected.size} expected ids${extra}\n` +
    `  missing: ${missing.length}${[...byStream].map(([k, seqs]) => `; ${k}: ${seqs.length} (seq ${Math.min(...seqs)}..${Math.max(...seqs)})`).join('')}${missing.length ? `; first: ${firstOf(missing)}` : ''}\n` +
    `  duplicated: ${duplicated.length}${duplicated.length ? `; first: ${firstOf(duplicated.map((d) => `${d} x${times.get(d)}`))}` : ''}\n` +
    `  not expected: ${unexpected.length}${unexpected.length ? `; first: ${firstOf(unexpected)}` : ''}`;
  expect(missing.length, why).toBe(0);
  expect(duplicated.length, why).toBe(0);
  expect(got.length, why).toBe(expected.size);
}

interface Child {
  proc: ChildProcess;
  /** Its stderr lines so far (the same array, growing). */
  lines: string[];
  /** Resolves with the first stderr line (from now on or already seen) matching `re`; rejects, explained, if it exits first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  exit: Promise<ChildExit>;
  /** Its exit code or signal and the tail of its stderr, for a failure message. */
  explain(): string;
}

/** `node bin/seam.mjs collect --config <file>`, the real CLI, as a child process. */
function seamCollect(config: unknown, env: NodeJS.ProcessEnv, label: string): Child {
  const file = path.join(tmp, `${uniqueName('collect')}.json`);
  log(`${label}: seam collect starting`);
  fs.writeFileSync(file, JSON.stringify(config));
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'seam.mjs'), 'collect', '--config', file], {
    cwd: ROOT,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: awsClientConfig().region, SEAM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(proc);
  // Into the run's log (the soak keeps it): what each child said, to read a failure or a slow step.
  const w = watchChild(proc, `seam collect ${label}`, { onLine: (line) => log(`${label}: ${line.length > 600 ? `${line.slice(0, 600)}…` : line}`) });
  void w.exited.then(() => children.delete(proc));
  // The tail of an info-level collector is mostly its periodic lines: 4000 characters keep the last few dozen.
  return { proc, lines: w.lines(), exit: w.exited, waitFor: (re, timeoutMs) => w.waitFor(re, timeoutMs), explain: () => w.explain(4000) };
}

async function sigkill(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exit;
  tally.restarts++;
}

/** A `seam collect` config with one CloudWatch Logs collector over `groups` on the shared moto. */
function collectConfig(name: string, groups: string[], checkpointTopic: string, extra: Record<string, unknown> = {}): unknown {
  return {
    sources: {
      [name]: {
        type: 'cloudwatch-logs',
        name,
        endpoint: awsEndpoint(),
        region: awsClientConfig().region,
        logGroups: groups.map((logGroupName) => ({ logGroupName })),
        pageLimit: 200,
        pollIntervalMs: 500,
        lookbackMs: 60_000,
        initialLookbackMs: 30 * 60_000,
        ...extra,
      },
    },
    checkpoint: { topic: checkpointTopic },
  };
}

describe('cloudwatch-logs collector under real faults', () => {
  it('a `seam collect` process killed with SIGKILL mid-page, and again at a random moment, restarted each time, emits each event once', async () => {
    const bus = newBus();
    try {
      const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
      const { groups, expected, putAll } = await clusters(2, 'kill');
      await putAll(1500, Date.now() - 10 * 60_000);
      const name = uniqueName('cwl-kill');
      const config = collectConfig(name, groups, uniqueName('seam-checkpoints-kill'));
      const env = { SEAM_KAFKA_BROKERS: kafkaBrokers().join(',') };

      // 1. Stalled after three pages, with the fourth page's records produced in an open transaction: SIGKILL.
      const first = seamCollect(config, { ...env, SEAM_COLLECT_FAULT_STALL_AFTER_WRITES: '3' }, 'kill#1');
      const stalled = await first.waitFor(/fault: stalled mid-page after producing (\d+) records/, 120_000);
      expect(Number(/producing (\d+)/.exec(stalled)![1]), stalled).toBeGreaterThan(0);
      await sigkill(first);

      // 2. Restarted, more events, killed at a random moment while it catches up.
      await putAll(1500, Date.now() - 20_000);
      const second = seamCollect(config, env, 'kill#2');
      await second.waitFor(/owns its log groups/, 120_000);
      await sleep(500 + Math.floor(Math.random() * 2500));
      await sigkill(second);

      // 3. Restarted once more; new events while it runs; stopped gracefully once everything is there.
      const third = seamCollect(config, env, 'kill#3');
      await third.waitFor(/owns its log groups/, 120_000);
      await putAll(300, Date.now() - 2000);
      const got = await settle(bus, groups, expected, 120_000, from);
      third.proc.kill('SIGTERM');
      expect(exitText(await third.exit), `the third seam collect stopped with SIGTERM\n${third.explain()}`).toBe('exit code 0');
      verdict('process-sigkill', expected, got, ` stalledWith=${/producing (\d+)/.exec(stalled)![1]}`);
    } finally {
      await bus.close();
    }
  }, 400_000);

  it('a Kafka broker killed with SIGKILL and started again under a running collector: the collector resumes by itself', async () => {
    const kafka = await startPrivate('kafka', 29192, log);
    privates.push(kafka);
    const bus = new KafkaBus({ brokers: [kafka.url], clientId: 'seam-collectors-broker-kill', replicationFactor: 1 });
    const ac = new AbortController();
    try {
      await bus.ensureTopics([TOPICS.raw('k8s_audit'), TOPICS.dlq].map((topic) => ({ topic, partitions: 3 })));
      const { groups, expected, putAll } = await clusters(2, 'brokerkill');
      await putAll(1000, Date.now() - 10 * 60_000);
      const h = await cloudWatchCollector(bus, { checkpointTopic: uniqueName('seam-checkpoints-bk'), txPrefix: uniqueName('seam-collect-bk'), groups: groups.map((logGroupName) => ({ logGroupName })), pageLimit: 200, pollIntervalMs: 300 });
      const running = h.source.run(ac.signal);
      // Kill mid-stream: after the first pages are in, while more keep arriving.
      const deadline = Date.now() + 120_000;
      while (h.source.stats.counters.emitted < 400 && Date.now() < deadline) await sleep(100);
      const emittedAtKill = h.source.stats.counters.emitted;
      expect(emittedAtKill, `records the collector emitted before the broker kill (waited up to 120 s for 400): ${JSON.stringify(h.source.stats.snapshot())}`).toBeGreaterThan(0);
      await kafka.kill();
      tally.restarts++;
      await putAll(500, Date.now() - 2000);
      await sleep(3000);
      await kafka.start();
      await putAll(300, Date.now() - 2000);
      const got = await settle(bus, groups, expected, 180_000);
      ac.abort();
      await running;
      await h.source.close();
      const errors = JSON.stringify(h.source.stats.snapshot());
      verdict('broker-sigkill', expected, got, ` emittedAtKill=${emittedAtKill}/${4 * 1000}`);
      expect(emittedAtKill, `records emitted when the broker was killed, of ${expected.size}`).toBeLessThan(expected.size); // it died mid-stream
      expect(errors, 'the collector to count an error while the broker was down').toMatch(/SEAM_ERR_/); // the collector saw the broker go
    } finally {
      ac.abort();
      await bus.close();
    }
  }, 400_000);

  it('moto killed and started again while a collector polls (the test puts its state back): nothing lost, nothing re-emitted', async () => {
    const moto = await startPrivate('moto', 24600, log);
    privates.push(moto);
    const logs = new CloudWatchLogs({ ...awsClientConfig(), endpoint: moto.url, maxAttempts: 5 });
    const bus = newBus();
    const ac = new AbortController();
    try {
      const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
      const { groups, expected, putAll, recreate } = await clusters(2, 'motokill', logs);
      await putAll(400, Date.now() - 20 * 60_000);
      const h = await cloudWatchCollector(bus, { checkpointTopic: uniqueName('seam-checkpoints-moto'), txPrefix: uniqueName('seam-collect-moto'), groups: groups.map((logGroupName) => ({ logGroupName })), pageLimit: 500, pollIntervalMs: 300, lookbackMs: 20_000, logs });
      const running = h.source.run(ac.signal);
      const deadline = Date.now() + 120_000;
      while (h.source.stats.counters.emitted < expected.size && Date.now() < deadline) await sleep(100);
      expect(h.source.stats.counters.emitted, `records the collector emitted before moto was killed (waited up to 120 s): ${JSON.stringify(h.source.stats.snapshot())}`).toBe(expected.size);
      await moto.kill();
      tally.restarts++;
      await sleep(2000); // polls fail meanwhile
      await moto.start();
      // moto kept nothing: the same groups, streams and events again (new event ids, behind the watermark), then new events.
      await recreate();
      await putAll(200, Date.now() - 1000);
      const got = await settle(bus, groups, expected, 120_000, from);
      await sleep(1500); // a few more polls over the re-put window: still nothing twice
      ac.abort();
      await running;
      await h.source.close();
      const final = await ids(bus, groups, from);
      const snap = h.source.stats.snapshot() as { errors?: Record<string, number> };
      verdict('moto-restart', expected, final, ` pollErrorsWhileDown=${JSON.stringify(snap.errors ?? {})}`);
      expect(final.length, `a full read after the stop (${final.length}) against the read at settle (${got.length})`).toBeGreaterThanOrEqual(got.length);
    } finally {
      ac.abort();
      await bus.close();
    }
  }, 400_000);

  it('two replicas on a lease: one killed with SIGKILL, the other takes its log groups over (take-over time reported, not asserted)', async () => {
    const bus = newBus();
    try {
      const from = await bus.endOffsets([TOPICS.raw('k8s_audit')]);
      const { groups, expected, putAll } = await clusters(4, 'lease', undefined, ['seam-collect-a', 'seam-collect-b']);
      await putAll(300, Date.now() - 10 * 60_000);
      const name = uniqueName('cwl-lease');
      const lease = { topic: uniqueName('seam-collect-leases'), ttlMs: 6000, heartbeatMs: 1000 };
      const config = collectConfig(name, groups, uniqueName('seam-checkpoints-lease'), { ownership: { replicaId: 'set-by-env', lease } });
      const env = { SEAM_KAFKA_BROKERS: kafkaBrokers().join(',') };
      const owned = (c: Child): string[] => {
        const last = [...c.lines].reverse().find((l) => l.includes('owns its log groups'));
        return last === undefined ? [] : ((JSON.parse(last) as { owned?: string[] }).owned ?? []);
      };
      const a = seamCollect(config, { ...env, SEAM_REPLICA_ID: 'seam-collect-a' }, 'lease-a');
      await a.waitFor(/owns its log groups/, 120_000);
      const b = seamCollect(config, { ...env, SEAM_REPLICA_ID: 'seam-collect-b' }, 'lease-b');
      await b.waitFor(/owns its log groups/, 120_000);
      // Both work: the groups are split (each view settles within a heartbeat or two).
      const splitBy = Date.now() + 60_000;
      while (Date.now() < splitBy && !(owned(b).length > 0 && owned(b).length < groups.length)) await sleep(200);
      const split = (): string => `b owns ${JSON.stringify(owned(b))}, a owns ${JSON.stringify(owned(a))} of ${groups.length} groups\nreplica a's last lines:\n${a.lines.slice(-5).join('\n')}\nreplica b's last lines:\n${b.lines.slice(-5).join('\n')}`;
      expect(owned(b).length, `the groups split over both replicas within 60 s: ${split()}`).toBeGreaterThan(0);
      expect(owned(b).length, `the groups split over both replicas within 60 s: ${split()}`).toBeLessThan(groups.length);
      await putAll(300, Date.now() - 2000);
      await sleep(2000);

      const killedAt = Date.now();
      await sigkill(a);
      await putAll(300, Date.now() - 2000);
      // Awaited: b owning every group. The deadline only bounds a take-over that never comes; how long it took is
      // reported (takeoverMs, and the soak's max_takeover_ms), not asserted: a wall-clock bound (it was ttl + 20 s)
      // fails on a loaded CI machine without saying anything about the lease (speed belongs in bench/).
      const takeoverDeadline = killedAt + lease.ttlMs + 180_000;
      while (Date.now() < takeoverDeadline && owned(b).length < groups.length) await sleep(200);
      const tookOverMs = Date.now() - killedAt;
      expect(owned(b).sort(), `replica b to own every log group after a was killed (waited ${tookOverMs} ms; b owns ${JSON.stringify(owned(b))}; b's last lines:\n${b.lines.slice(-5).join('\n')})`).toEqual([...groups].sort());
      const got = await settle(bus, groups, expected, 120_000, from);
      b.proc.kill('SIGTERM');
      expect(exitText(await b.exit), `replica b stopped with SIGTERM\n${b.explain()}`).toBe('exit code 0');
      verdict('lease-failover', expected, got, ` takeoverMs=${tookOverMs} ttlMs=${lease.ttlMs}`);
    } finally {
      await bus.close();
    }
  }, 400_000);
});
