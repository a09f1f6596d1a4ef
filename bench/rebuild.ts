/**
 * What a correlate restart costs on Kafka (review-ops H3): every member that takes a `seam.signals` partition
 * rebuilds its state by re-reading the partition's rebuild window (24 h with the shipped rules) before it handles
 * the partition's next batch. This bench fills a signals topic of the local Kafka with that window and times it.
 *
 *   1. signals: the benign noise corpus (test/noise/benign-corpus.ts, 24 h of an account with two EKS clusters),
 *      moved so its event times are the last 24 h, copy after copy (ids suffixed by the copy, each record's copies
 *      one after the other, so event time never goes back) through the normalize role on the memory bus, as
 *      `seam run --role normalize` encodes them (signal batches with spans and early hints, progress marks), until
 *      there are `signals` of them;
 *   2. the signals messages go to `<run>.seam.signals` on Kafka (3 partitions, the partition normalize chose), with
 *      produce times spread evenly over the last 24 h in order; a correlate member runs through them to the end of
 *      each partition, as a live one would have (its commits carry how far its output to `seam.events` reached,
 *      src/pipeline/sent-mark.ts), and stops; one more message per partition is produced now (a live pipeline's
 *      next signals: copies of the last message, so their signals are duplicates the role skips);
 *   3. the correlate role is started as `seam run --role correlate` starts it (startKafkaRoles, the shipped rules)
 *      and timed from its start until it has caught up: rebuilt the state of all 3 partitions (re-read identity,
 *      signals, alerts), handed the re-read signals on to its detections (their alerts suppressed: already out)
 *      and committed the batch each rebuild was for. That is the alert blackout of a restart. `rebuilt_s`: when the
 *      last partition's state was re-read (the part the rebuild's own timeout covers).
 * One copy of the 24 h corpus gives ~65k signals, so `signals` below that still gives one copy.
 * Topics and groups are this run's (`<run>.` / `<run>-`) and deleted at the end.
 *
 *   npm run bench:rebuild [-- signals=60000]
 *
 * Last line: `rebuild: signals=<n> partitions=3 seconds=<start to caught up> signals_per_s=<n> rebuilt_s=<n> rebuilds=<n> events_sent=<n> event_messages=<n> load=<1-min avg>`
 * (`events_sent`: events the restarted member produced to `seam.events` until caught up; `event_messages`: the messages
 * that held them)
 * (the machine is shared: compare runs at a similar load).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaBus } from '../src/bus/kafka.ts';
import { normalizeLine } from '../src/core/normalize/normalize.ts';
import { MemoryBus } from '../src/bus/memory.ts';
import type { BusMessage } from '../src/bus/types.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { startKafkaRoles } from '../src/pipeline/kafka-roles.ts';
import { createNormalizeRole } from '../src/pipeline/roles/normalize.ts';
import { defaultGroupId } from '../src/pipeline/roles/role.ts';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../src/sources/cloudwatch-logs/parse.ts';
import { generateBenignCorpus } from '../test/noise/benign-corpus.ts';
import { shiftTimes } from '../test/helpers/shift-times.ts';

const arg = (k: string, d: string): string => process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d;
const N = Number(arg('signals', '60000'));
const PARTITIONS = 3;
const ROOT = join(import.meta.dirname, '..');
const BROKERS = (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const RUN = `bench-rebuild-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const DAY = 86_400_000;
const load = (): string => loadavg()[0]!.toFixed(2);
const say = (s: string): boolean => process.stdout.write(`${s}\n`);

/** The corpus's records of the last 24 h, in event-time order, each with its cluster. */
function corpus(now: number): { text: string; cluster: string }[] {
  const c = generateBenignCorpus({ hours: 24 });
  const time = (text: string, cluster: string): number => {
    const n = normalizeLine(text, { collector: 'bench', receivedAt: new Date(now).toISOString(), cluster });
    return n.ok ? Date.parse(n.value['@timestamp']) : NaN;
  };
  const all = [...c.prod.map((text) => ({ text, cluster: 'prod-eks-01' })), ...c.staging.map((text) => ({ text, cluster: 'staging-eks-01' }))]
    .map((r, i) => ({ ...r, i, t: time(r.text, r.cluster) }))
    .filter((r) => Number.isFinite(r.t))
    .sort((a, b) => a.t - b.t || a.i - b.i);
  // The newest record a minute before now, the oldest about 24 h before.
  const shift = now - 60_000 - all[all.length - 1]!.t;
  return all.map((r) => ({ text: shiftTimes(r.text, shift), cluster: r.cluster }));
}

/** A copy of a record with its source ids suffixed, so its signal is a different event. */
function copyOf(text: string, k: number): string {
  if (k === 0) return text;
  const o = JSON.parse(text) as Record<string, unknown>;
  for (const f of ['eventID', 'auditID', 'uuid', 'id', 'Id', 'event_id']) if (typeof o[f] === 'string') o[f] = `${o[f] as string}-c${k}`;
  if (o.detail && typeof o.detail === 'object') {
    const d = { ...(o.detail as Record<string, unknown>) };
    for (const f of ['id', 'Id']) if (typeof d[f] === 'string') d[f] = `${d[f] as string}-c${k}`;
    o.detail = d;
  }
  return JSON.stringify(o);
}

/** Signals messages per partition, encoded by the normalize role over the memory bus. */
async function normalizedSignals(now: number, detection: Awaited<ReturnType<typeof loadDetection>>): Promise<{ byPartition: BusMessage[][]; signals: number; records: number }> {
  const base = corpus(now);
  const topics = pipelineTopics('m.');
  const trim = Object.fromEntries(topics.rawAll.map((t) => [t, 0]));
  const bus = new MemoryBus({ maxBatch: 1000, trim });
  await bus.ensureTopics(topicPlan(topics, { raw: 3, events: 1, signals: PARTITIONS, alerts: 1, dlq: 1 }));
  const normalize = createNormalizeRole({ bus, topics, groupId: 'n', ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), clusterAccounts: detection.clusterAccounts, accountGroups: detection.accountGroups, earlyHints: true });
  await normalize.start();
  const producer = await bus.producer();
  const signals = (): number => (normalize.stats() as { signals: number }).signals;
  // Copies per round: a first round of one copy says how many signals a copy gives.
  let copies = 0;
  let records = 0;
  const round = async (k0: number, k1: number): Promise<void> => {
    const received = new Date(now).toISOString();
    for (let i = 0; i < base.length; i += 2000) {
      const batch: BusMessage[] = [];
      for (const r of base.slice(i, i + 2000)) {
        for (let k = k0; k < k1; k++) {
          const text = copyOf(r.text, k);
          const source = detectSource(text);
          if (source === undefined) throw new Error(`a corpus record has no source: ${text.slice(0, 200)}`);
          batch.push({ topic: topics.raw(source), key: r.cluster, value: Buffer.from(text), headers: rawHeaders({ collector: 'bench', receivedAt: received, source, cluster: r.cluster }) });
        }
      }
      records += batch.length;
      await producer.send(batch);
      for (const t of new Set(batch.map((m) => m.topic))) await bus.waitCommitted('n', t, 120_000);
    }
    copies = k1;
  };
  await round(0, 1);
  const perCopy = Math.max(1, signals());
  if (signals() < N) await round(1, Math.ceil(N / perCopy));
  await normalize.stop();
  await producer.close();
  const byPartition = bus.read(topics.signals).map((log) => log.map((m) => ({ topic: m.topic, key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) })));
  say(`normalized ${records} records (${copies} copies of ${base.length}): ${signals()} signals in ${byPartition.map((l) => l.length).join('/')} messages, ${(byPartition.flat().reduce((n, m) => n + m.value.length, 0) / 1e6).toFixed(0)} MB`);
  await bus.close();
  return { byPartition, signals: signals(), records };
}

async function main(): Promise<void> {
  say(`rebuild bench: ${N} signals over 24 h, ${PARTITIONS} partitions, Kafka ${BROKERS.join(',')}, run ${RUN}, load=${load()}`);
  const detection = await loadDetection({ rules: [join(ROOT, 'detections')] });
  say(`rebuild window ${(detection.rebuildWindowMs / 3600_000).toFixed(2)} h`);
  const now = Date.now();
  const { byPartition, signals } = await normalizedSignals(now, detection);

  const topics = pipelineTopics(`${RUN}.`);
  const groupPrefix = `${RUN}-`;
  const bus = new KafkaBus({ brokers: BROKERS, clientId: `seam-bench-${RUN}`, groupPrefix });
  const partitions = { raw: 1, events: 1, signals: PARTITIONS, alerts: 1, incidents: 1, dlq: 1 };
  const admin = await bus.admin();
  let running: Awaited<ReturnType<typeof startKafkaRoles>> | undefined;
  try {
    await bus.createTopics(topicPlan(topics, partitions));
    // Produce times spread over the last 24 h, in order within each partition (the time index the rebuild starts from).
    const producer = await bus.producer();
    const t0 = performance.now();
    for (let p = 0; p < PARTITIONS; p++) {
      const log = byPartition[p]!;
      for (let i = 0; i < log.length; i += 500) {
        await producer.send(log.slice(i, i + 500).map((m, j) => ({ ...m, topic: topics.signals, partition: p, timestampMs: now - DAY + Math.floor(((i + j + 1) / (log.length + 1)) * (DAY - 120_000)) })));
      }
    }
    say(`produced to ${topics.signals} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const ends = new Map((await admin.fetchTopicOffsets(topics.signals)).map((e) => [e.partition, BigInt(e.offset)]));
    const group = defaultGroupId('correlate', groupPrefix);
    // The member that ran before the restart: through every partition to its end, then stopped.
    const t1 = performance.now();
    const before = await startKafkaRoles({ bus, topics, roles: ['correlate'], detection, groupPrefix, partitions });
    for (const deadline = Date.now() + 1_800_000; ; ) {
      const committed = await bus.committedOffsets(group, topics.signals).catch(() => new Map<number, bigint>());
      if ([...ends].every(([p, o]) => committed.get(p) === o)) break;
      if (Date.now() > deadline) throw new Error('the first member did not get through the window in 30 min');
      await new Promise((r) => setTimeout(r, 200));
    }
    await before.stop();
    const eventMessagesBefore = (await admin.fetchTopicOffsets(topics.events)).reduce((n, e) => n + Number(e.offset), 0);
    say(`a first member handled the window and stopped after ${((performance.now() - t1) / 1000).toFixed(1)} s (${(before.roles[0]!.stats() as { events: number }).events} events sent)`);
    // The next signals of a live pipeline, produced now.
    await producer.send(byPartition.map((log, p) => ({ ...log[log.length - 1]!, topic: topics.signals, partition: p, timestampMs: Date.now() })));
    await producer.close();

    const started = performance.now();
    running = await startKafkaRoles({ bus, topics, roles: ['correlate'], detection, groupPrefix, partitions });
    const role = running.roles[0]!;
    const stats = (): { rebuilds: number; rebuiltSignals: number; partitions: number; events: number } => role.stats() as { rebuilds: number; rebuiltSignals: number; partitions: number; events: number };
    const deadline = Date.now() + 1_800_000;
    const end = new Map((await admin.fetchTopicOffsets(topics.signals)).map((e) => [e.partition, BigInt(e.offset)]));
    let rebuiltS: number | undefined;
    for (;;) {
      if (rebuiltS === undefined && stats().rebuilds >= PARTITIONS) rebuiltS = (performance.now() - started) / 1000;
      // Caught up: the batch each partition's rebuild was for handled (the re-read signals handed on) and committed.
      // A look that fails (the coordinator moves while the group rebalances) is taken again.
      const committed = await bus.committedOffsets(group, topics.signals).catch(() => new Map<number, bigint>());
      if (rebuiltS !== undefined && [...end].every(([p, o]) => committed.get(p) === o)) break;
      if (Date.now() > deadline) throw new Error(`not caught up after 30 min: ${JSON.stringify(stats())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const s = stats();
    // What the restart sent to seam.events (empty before it): the index role's load of a restart.
    const eventMessages = (await admin.fetchTopicOffsets(topics.events)).reduce((n, e) => n + Number(e.offset), 0) - eventMessagesBefore;
    say(`rebuilt ${s.partitions} partitions ${rebuiltS!.toFixed(1)} s after the role's start (${s.rebuilds} rebuilds, ${s.rebuiltSignals} signals re-read of ${signals} produced); caught up (re-read signals handed on, batches committed) after ${seconds.toFixed(1)} s`);
    say(`rebuild: signals=${signals} partitions=${PARTITIONS} seconds=${seconds.toFixed(1)} signals_per_s=${Math.round(signals / seconds)} rebuilt_s=${rebuiltS!.toFixed(1)} rebuilds=${s.rebuilds} events_sent=${s.events} event_messages=${eventMessages} load=${load()}`);
  } finally {
    await running?.stop().catch(() => undefined);
    await admin.deleteTopics({ topics: topicPlan(topics).map((t) => t.topic) }).catch(() => undefined);
    const groups = (await admin.listGroups().catch(() => ({ groups: [] as { groupId: string }[] }))).groups.map((g) => g.groupId).filter((g) => g.startsWith(groupPrefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    await bus.close();
  }
}

await main();
