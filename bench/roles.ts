/**
 * Each pipeline role's own CPU per event, one role at a time, in this process over the memory bus (ADR 0024):
 * the part of `bench:pipeline`'s roles_us_per_event that is Seam's code, without the Kafka client and without
 * the other roles and services competing for the same cores. On a shared machine `bench:pipeline`'s role CPU
 * moves by 10–20% with the load; this one repeats within a few percent, so a change to one role shows here.
 *
 *   1. normalize: the records of `bench:pipeline` (the demo dataset and the JSONL fixtures, copied with varied
 *      ids, an hour apart per copy) pre-loaded on `seam.raw.*`, read to the end;
 *   2. correlate: the signals stage 1 wrote, in event-time order as embedded mode runs it, then end of input;
 *   3. index: every `seam.events` message of 1 and 2 (and the alerts), written to the real OpenSearch at
 *      SEAM_OPENSEARCH_URL (default http://127.0.0.1:9200) under a prefix of this run, deleted at the end.
 *      The sink's client is in this process, so its CPU counts; OpenSearch's does not.
 * Each phase's CPU is this process's (`process.cpuUsage`, all threads) from the role's start until it has
 * committed everything, divided by the events of the run.
 *
 *   node bin/tsx-run.mjs bench/roles.ts [events=60000]
 *
 * With SEAM_BENCH_CPU_PROF=<dir>, each phase also writes a V8 CPU profile of exactly its working time
 * (`<dir>/<phase>.cpuprofile`, main thread; open it in Chrome's DevTools), which adds a little CPU to every phase.
 *
 * Last line: `roles: normalize_us=<n> correlate_us=<n> index_us=<n> total_us=<n> signals=<n> alerts=<n> load=<n>`
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pipelineRecords } from './lib/pipeline-records.ts';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { MemoryBus } from '../src/bus/memory.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { memoryHistory } from '../src/pipeline/history.ts';
import { memoryUpstream } from '../src/pipeline/progress.ts';
import { createCorrelateRole } from '../src/pipeline/roles/correlate.ts';
import { createIndexRole } from '../src/pipeline/roles/indexer.ts';
import { createNormalizeRole } from '../src/pipeline/roles/normalize.ts';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../src/sources/cloudwatch-logs/parse.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { setupOpenSearch } from '../src/sinks/opensearch/setup.ts';
import type { BusMessage } from '../src/bus/types.ts';

const N = Number(process.argv[2] ?? 60_000);
const OS_URL = process.env.SEAM_OPENSEARCH_URL ?? 'http://127.0.0.1:9200';
const ROOT = join(import.meta.dirname, '..');
const RUN = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;

// The records of bench:pipeline, copy after copy (bench/lib/pipeline-records.ts).
const RECORDS = pipelineRecords(ROOT, RUN);
const record = (i: number): string => RECORDS.record(i);

/**
 * Resolves once `group` has committed every message of `topics`. Looked at every 50 ms: the memory bus's own
 * `waitCommitted` looks every 2 ms, which cost ~15% of the index phase's CPU.
 */
async function drained(bus: MemoryBus, group: string, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const committed = bus.committed(group);
    let behind = 0;
    for (const t of topics) bus.ends(t).forEach((end, p) => (behind += Math.max(0, end - (committed[`${t}/${p}`] ?? 0))));
    if (behind === 0) return;
    if (Date.now() > deadline) throw new Error(`${group} is still ${behind} messages behind on ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const PROF = process.env.SEAM_BENCH_CPU_PROF;
let session: Session | undefined;

/** CPU of this process while `run` works, in µs per event of the run (and its profile, with SEAM_BENCH_CPU_PROF). */
async function cpuPerEvent(phase: string, run: () => Promise<void>): Promise<number> {
  if (PROF !== undefined && session === undefined) {
    mkdirSync(PROF, { recursive: true });
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
  }
  if (session !== undefined) await session.post('Profiler.start');
  const c0 = process.cpuUsage();
  await run();
  const c = process.cpuUsage(c0);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(PROF!, `${phase}.cpuprofile`), JSON.stringify(profile));
  }
  return (c.user + c.system) / N;
}

async function main(): Promise<void> {
  process.stdout.write(`roles in process: ${N} events, memory bus, OpenSearch ${OS_URL}, load=${load()}\n`);
  const detection = await loadDetection({ rules: [join(ROOT, 'detections')] });
  const topics = pipelineTopics(`${RUN}.`);
  // What every group has read is dropped, as in embedded mode (the correlate role's rebuild window of signals
  // kept): a bus holding every record of every topic makes each phase's GC work on all of them.
  const trim = Object.fromEntries([...topics.rawAll.map((t) => [t, 0]), [topics.events, 0], [topics.incidents, 0], [topics.signals, detection.rebuildWindowMs]]);
  const bus = new MemoryBus({ maxBatch: 1000, trim });
  await bus.ensureTopics(topicPlan(topics, { raw: 6, events: 6, signals: 3, alerts: 3, dlq: 1 }));
  const producer = await bus.producer();
  const received = new Date().toISOString();
  for (let i = 0; i < N; i += 5000) {
    const batch: BusMessage[] = [];
    for (let j = i; j < Math.min(N, i + 5000); j++) {
      const text = record(j);
      const source = detectSource(text);
      if (source === undefined) throw new Error(`record ${j} has no source`);
      batch.push({ topic: topics.raw(source), key: `k${j % 97}`, value: Buffer.from(text), headers: rawHeaders({ collector: 'bench', receivedAt: received, source }) });
    }
    await producer.send(batch);
  }
  await producer.close();

  const os = new Client({ node: OS_URL });
  const prefix = `seamr_${RUN}`;
  const sink = new OpenSearchSink(os, { nodeUrls: [OS_URL], indexPrefix: prefix, replicas: 0, refreshIntervalMs: 5000, flushIntervalMs: 50 });
  try {
    await setupOpenSearch(os, { templates: sink.config, ism: 'skip' });

    const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    const normalizeUs = await cpuPerEvent('normalize', async () => {
      await normalize.start();
      await drained(bus, 'n', topics.rawAll);
      await normalize.stop();
    });
    const ns = normalize.stats() as { signals: number; eventsOut: number };
    process.stdout.write(`normalize:    ${normalizeUs.toFixed(1)} us/event (${ns.signals} signals, ${ns.eventsOut} events straight to seam.events) load=${load()}\n`);

    const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 };
    const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), order, early: false, groupId: 'c' });
    const correlateUs = await cpuPerEvent('correlate', async () => {
      await correlate.start();
      await drained(bus, 'c', [topics.signals]);
      await correlate.flush();
      await correlate.stop();
    });
    const alerts = bus.read(topics.alerts).flat().length;
    process.stdout.write(`correlate:    ${correlateUs.toFixed(1)} us/event (${alerts} alerts) load=${load()}\n`);

    const index = createIndexRole({ bus, topics, sink, groupId: 'i' });
    const indexUs = await cpuPerEvent('index', async () => {
      await index.start();
      await drained(bus, 'i', [topics.events, topics.alerts, topics.identity, topics.incidents]);
      await index.stop();
      await sink.flush();
    });
    const is = index.stats() as { events: number; alerts: number; deadLetters: number };
    process.stdout.write(`index:        ${indexUs.toFixed(1)} us/event (${is.events} events, ${is.alerts} alerts, ${is.deadLetters} dead letters) load=${load()}\n`);
    if (is.events !== N) throw new Error(`the index role indexed ${is.events} events of ${N}`);

    process.stdout.write(
      `roles: normalize_us=${normalizeUs.toFixed(1)} correlate_us=${correlateUs.toFixed(1)} index_us=${indexUs.toFixed(1)} total_us=${(normalizeUs + correlateUs + indexUs).toFixed(1)} signals=${ns.signals} alerts=${alerts} load=${load()}\n`,
    );
  } finally {
    await sink.close().catch(() => undefined);
    await os.indices.delete({ index: `${prefix}-*`, expand_wildcards: 'all' }, { ignore: [404] }).catch(() => undefined);
    await os.transport.request({ method: 'DELETE', path: `/_index_template/${prefix}-*` }, { ignore: [404] }).catch(() => undefined);
    await os.transport.request({ method: 'DELETE', path: `/_component_template/${prefix}-*` }, { ignore: [404] }).catch(() => undefined);
    await os.close();
    await bus.close();
  }
}

await main();
