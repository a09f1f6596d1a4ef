/**
 * End-to-end pipeline throughput and alert latency on the real local Kafka and OpenSearch, measured
 * side by side in one run (these machines are noisy; the ratio is what counts):
 *   1. raw bulk: the same normalized documents indexed with plain `client.bulk` (2000 docs a request,
 *      2 in flight), the ceiling of what OpenSearch takes from one client;
 *   2. Seam: raw records pre-loaded on `seam.raw.*`, then normalize → correlate → index until every
 *      group has committed everything. By default each role runs in its own process, built by
 *      `startKafkaRoles` as `seam run --role <role>` builds it (that is how a deployment scales: one
 *      process per role and more processes per role); `SEAM_BENCH_ROLES=inline` runs the three in
 *      this process instead. The processes load their rules before the clock starts;
 *   3. alert latency: with the pipeline running, records are trickled in at a steady rate and each
 *      alert's latency is the produce time of its first version on `seam.alerts` (the early, provisional one
 *      when its rule qualifies, ADR 0025) minus the produce time of the latest raw record it was raised from;
 *      the final versions' latency (the watermark's wait, ADR 0009) is printed beside it.
 * Records are the demo dataset and the JSONL fixtures, copied with varied ids; the pre-loaded copies
 * follow each other in event time (an hour apart), the trickled records happen at the wall clock, so an
 * alert waits for the correlate role's watermark as on a live cluster (ADR 0009).
 *
 *   node bin/tsx-run.mjs bench/pipeline.ts [events=200000] [trickle=20000]
 *
 * Last line: `pipeline: ratio=<n> events_per_s=<n> alert_p50_ms=<n> alert_p99_ms=<n> roles_us_per_event=<n> load=<n>`
 * (roles_us_per_event: the three role processes' CPU over the events; NaN with inline roles; load: the 1-minute
 * load average, as the machine is shared). The `raw bulk:` line says what CPU the raw bulk cost (OpenSearch, the
 * client); the `cpu:` line how much CPU each role's process and the two services used while Seam ran. With
 * SEAM_METRICS_ADDR=127.0.0.1:0 each role process also serves /metrics, /healthz and /readyz as `seam run --role`
 * does (the URLs are printed; curl them during the run), the progress lines add what each role's /metrics says
 * (records in, consumer lag) and a `metrics:` line sums it up, and another one what the correlate role's
 * `seam_alert_ingest_latency_seconds` histogram saw over the trickle (bucket bounds of p50 and p99, beside the
 * bench's own measure); off by default, so the figures are taken without.
 * With SEAM_BENCH_BUS=rdkafka the role processes produce and consume through librdkafka (src/bus/rdkafka.ts,
 * ADR 0022: @confluentinc/kafka-javascript must be installed or on NODE_PATH; Seam does not depend on it).
 * With SEAM_BENCH_CPU_PROF=<dir> each role process writes `<role>.cpuprofile` (V8) there when it exits
 * (rule loading included; open it in Chrome DevTools or speedscope).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaBus } from '../src/bus/kafka.ts';
import { Client } from '@opensearch-project/opensearch';
import type { Bulk_RequestBody } from '@opensearch-project/opensearch/api/index.js';
import type { BusMessage } from '../src/bus/types.ts';
import type { SeamEvent, SourceType } from '../src/core/envelope.ts';
import { normalizeLine } from '../src/core/normalize/normalize.ts';
import type { Alert } from '../src/detect/alert.ts';
import { loadDetection, type Detection } from '../src/pipeline/detection.ts';
import { kafkaHistory } from '../src/pipeline/history.ts';
import { startKafkaRoles, type KafkaRolesOptions, type RunningRoles } from '../src/pipeline/kafka-roles.ts';
import { defaultGroupId, PIPELINE_ROLES, type RoleName } from '../src/pipeline/roles/role.ts';
import { metricsAddress } from '../src/core/listen-address.ts';
import type { MetricsServer } from '../src/core/metrics.ts';
import type { registerRoleMetrics } from '../src/pipeline/metrics.ts';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';
import { SIGNAL_SPANS_HEADER } from '../src/pipeline/signal.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { detectSource } from '../src/sources/cloudwatch-logs/parse.ts';
import { OpenSearchSink } from '../src/sinks/opensearch/sink.ts';
import { setupOpenSearch } from '../src/sinks/opensearch/setup.ts';
import { pipelineRecords } from './lib/pipeline-records.ts';

const ROLE_PROCESS = process.argv[2] === '--role-process';
const N = ROLE_PROCESS ? 0 : Number(process.argv[2] ?? 200_000);
const TRICKLE = ROLE_PROCESS ? 0 : Number(process.argv[3] ?? 20_000);
const INLINE = process.env.SEAM_BENCH_ROLES === 'inline';
const TRICKLE_PER_S = 2000;
const BROKERS = (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const OS_URL = process.env.SEAM_OPENSEARCH_URL ?? 'http://127.0.0.1:9200';
const ROOT = join(import.meta.dirname, '..');
const RUN = `b${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

/** What a role needs to be built the same way in this process or in a child. */
interface RoleSetup {
  run: string;
  indexPrefix: string;
}
const sinkConfig = (indexPrefix: string): ConstructorParameters<typeof OpenSearchSink>[1] => ({ nodeUrls: [OS_URL], indexPrefix, replicas: 0, refreshIntervalMs: 5000 });

/** Builds roles as `seam run --role` does (startKafkaRoles) and starts them. */
async function startRoles(
  names: RoleName[],
  setup: RoleSetup,
  bus: KafkaBus,
  os: Client,
  detection: Detection | undefined,
  onAlert?: KafkaRolesOptions['onAlert'],
): Promise<{ running: RunningRoles; sink: OpenSearchSink | undefined }> {
  // A short flush interval: each index member waits for its batch's acks before it fetches more.
  const sink = names.includes('index') ? new OpenSearchSink(os, { ...sinkConfig(setup.indexPrefix), flushIntervalMs: 50 }) : undefined;
  const running = await startKafkaRoles({
    bus,
    topics: pipelineTopics(`${setup.run}.`),
    roles: names,
    ...(detection ? { detection } : {}),
    ...(sink ? { sink } : {}),
    groupPrefix: `${setup.run}-`,
    ...(onAlert ? { onAlert } : {}),
  });
  return { running, sink };
}

type ToChild = { go: true } | { stats: true } | { stop: true };
type FromChild = { ready: true; metricsUrl?: string } | { stats: Record<string, unknown>; cpuMs: number } | { stopped: true };

/**
 * A child process running one role (`--role-process <role> <setup JSON>`): loads its rules, says
 * ready, starts the role on `go`, answers `stats`, drains and exits on `stop`.
 */
async function roleProcess(): Promise<void> {
  const role = process.argv[3] as RoleName;
  const setup = JSON.parse(process.argv[4]!) as RoleSetup;
  const send = (m: FromChild): void => void process.send!(m);
  const busOpts = { brokers: BROKERS, clientId: `seam-bench-${setup.run}-${role}` };
  // SEAM_BENCH_BUS=rdkafka: the roles produce and consume through librdkafka (ADR 0022; the package must be installed or on NODE_PATH).
  const bus = process.env.SEAM_BENCH_BUS === 'rdkafka' ? new (await import('../src/bus/rdkafka.ts')).RdKafkaBus(busOpts) : new KafkaBus(busOpts);
  const os = new Client({ node: OS_URL });
  let started: Promise<{ running: RunningRoles; sink: OpenSearchSink | undefined }> | undefined;
  let cpu0 = process.cpuUsage();
  // Rules are loaded before `go`, as a long-running process has them; the role starts on `go`.
  const detection = role === 'index' ? undefined : await loadDetection({ rules: [join(ROOT, 'detections')] });
  // With SEAM_METRICS_ADDR (e.g. 127.0.0.1:0), the role serves /metrics as `seam run --role` does (docs/metrics.md).
  const live: { roles: RunningRoles['roles'] } = { roles: [] };
  const metrics = await roleMetrics(role, bus, detection, () => live.roles);
  process.on('message', (m: ToChild) => {
    if ('go' in m) {
      cpu0 = process.cpuUsage();
      // With metrics on, each alert is timed into the latency histograms as `seam run` does.
      started = startRoles([role], setup, bus, os, detection, metrics ? (a, info) => metrics.hooks.observeAlert(a, { newestIngestMs: info.newestIngestMs, first: info.first }) : undefined);
      void started.then((r) => {
        live.roles = r.running.roles;
      });
    } else if ('stats' in m) {
      const c = process.cpuUsage(cpu0);
      void (started ?? Promise.resolve(undefined)).then((r) => send({ stats: r?.running.roles[0]?.stats() ?? {}, cpuMs: (c.user + c.system) / 1000 }));
    } else {
      void (async () => {
        const r = await started?.catch(() => undefined);
        await r?.running.stop();
        await r?.sink?.close();
        await bus.close();
        await os.close();
        await metrics?.server.close();
        send({ stopped: true });
        process.disconnect();
      })();
    }
  });
  send({ ready: true, ...(metrics ? { metricsUrl: metrics.url } : {}) });
}

/** The role's metrics listener when SEAM_METRICS_ADDR is set (off by default: the figures are taken without it). */
async function roleMetrics(
  role: RoleName,
  bus: KafkaBus,
  detection: Detection | undefined,
  roles: () => RunningRoles['roles'],
): Promise<{ server: MetricsServer; url: string; hooks: RoleMetricHooks } | undefined> {
  const addr = metricsAddress(undefined, process.env, undefined);
  if (addr === undefined) return undefined;
  const { MetricsServer } = await import('../src/core/metrics.ts');
  const { registerRoleMetrics } = await import('../src/pipeline/metrics.ts');
  const server = new MetricsServer();
  const hooks = registerRoleMetrics(server, { roleNames: [role], roles, bus, ...(detection ? { detection } : {}) });
  const bound = await server.listen(addr);
  return { server, url: `http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}`, hooks };
}

/** One scrape of a role's /metrics: records in and out, and the lag of its consumer groups (summed over partitions). */
async function scrape(url: string): Promise<{ in: number; out: number; lag: number } | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const total = (name: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return { in: total('seam_records_in_total'), out: total('seam_records_out_total'), lag: total('seam_consumer_lag') };
  } catch {
    return undefined;
  }
}

/** The cumulative buckets (`le` → count, +Inf included) of a histogram on a role's /metrics, summed over labels. */
async function histogram(url: string, name: string): Promise<Map<number, number> | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const out = new Map<number, number>();
    for (const l of text.split('\n')) {
      if (!l.startsWith(`${name}_bucket{`)) continue;
      const le = /le="([^"]+)"/.exec(l)?.[1];
      if (le === undefined) continue;
      const k = le === '+Inf' ? Infinity : Number(le);
      out.set(k, (out.get(k) ?? 0) + Number(l.slice(l.lastIndexOf(' ') + 1)));
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Observations between two scrapes of a histogram, and the bucket bound (seconds) under which `q` of them fall. */
function histogramDelta(before: Map<number, number>, after: Map<number, number>): { count: number; le(q: number): number } {
  const les = [...after.keys()].sort((a, b) => a - b);
  const cum = les.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = cum.at(-1) ?? 0;
  return { count, le: (q) => les[cum.findIndex((c) => c >= q * count)] ?? NaN };
}

type RoleMetricHooks = ReturnType<typeof registerRoleMetrics>;

/** A role in a child process, as the main process sees it. */
interface RoleHandle {
  metricsUrl: string | undefined;
  go(): void;
  stats(): Promise<{ stats: Record<string, unknown>; cpuMs: number }>;
  stop(): Promise<void>;
}

async function spawnRole(role: RoleName, setup: RoleSetup): Promise<RoleHandle> {
  // SEAM_BENCH_CPU_PROF=<dir>: each role process writes a V8 CPU profile there when it exits (where the µs go).
  const prof = process.env.SEAM_BENCH_CPU_PROF;
  const execArgv = prof ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${role}.cpuprofile`] : process.execArgv;
  const child: ChildProcess = fork(join(ROOT, 'bin/tsx-run.mjs'), [join(ROOT, 'bench/pipeline.ts'), '--role-process', role, JSON.stringify(setup)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const next = async <T extends FromChild>(pick: (m: FromChild) => m is T): Promise<T> => {
    for (;;) {
      const [m] = (await once(child, 'message')) as [FromChild];
      if (pick(m)) return m;
    }
  };
  const ready = await next((m): m is { ready: true; metricsUrl?: string } => 'ready' in m);
  if (ready.metricsUrl) process.stdout.write(`  ${role}: metrics on ${ready.metricsUrl}/metrics\n`);
  return {
    metricsUrl: ready.metricsUrl,
    go: () => void child.send({ go: true } satisfies ToChild),
    stats: async () => {
      const answer = next((m): m is { stats: Record<string, unknown>; cpuMs: number } => 'stats' in m);
      child.send({ stats: true } satisfies ToChild);
      return answer;
    },
    stop: async () => {
      if (!child.connected) return;
      const done = next((m): m is { stopped: true } => 'stopped' in m);
      child.send({ stop: true } satisfies ToChild);
      await done;
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** The processes' (or this process') CPU time in ms, from /proc: the services' share of a run. */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The pid listening on a local TCP port (the Kafka broker, the OpenSearch node), when /proc tells. */
function pidOnPort(port: number): number | undefined {
  try {
    const inodes = new Set<string>();
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const l of readFileSync(f, 'utf8').split('\n').slice(1)) {
        const c = l.trim().split(/\s+/);
        if (c[3] === '0A' && parseInt(c[1]?.split(':')[1] ?? '', 16) === port) inodes.add(c[9]!);
      }
    }
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        for (const fd of readdirSync(`/proc/${pid}/fd`)) {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          if (m && inodes.has(m[1]!)) return Number(pid);
        }
      } catch {
        // Not ours to read, or gone.
      }
    }
  } catch {
    // No /proc: the cpu line says NaN.
  }
  return undefined;
}

const RECORDS = pipelineRecords(ROOT, RUN);

interface Raw {
  text: string;
  source: SourceType | undefined;
}

/** Record `i` of the endless copy stream (bench/lib/pipeline-records.ts), with its source. */
function record(i: number, atMs?: number): Raw {
  const text = RECORDS.record(i, atMs);
  return { text, source: detectSource(text) };
}

const META = { collector: 'bench', receivedAt: new Date().toISOString() };
function normalized(r: Raw): SeamEvent | undefined {
  const n = normalizeLine(r.text, r.source ? { ...META, source: r.source } : META);
  return n.ok ? n.value : undefined;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `f` again (up to 20 times, 500 ms apart) while it fails with an error kafkajs marks retriable or a lost connection. */
async function retried<T>(what: string, f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const err = e as { retriable?: boolean; name?: string; message?: string };
      const retriable = err.retriable === true || /Connection|NumberOfRetriesExceeded|NOT_COORDINATOR|COORDINATOR_(NOT_AVAILABLE|LOAD)/i.test(`${err.name ?? ''} ${err.message ?? ''}`);
      if (!retriable || attempt >= 20) throw e;
      process.stdout.write(`  ${what}: ${err.name ?? 'error'}: ${err.message ?? ''}; retrying (${attempt})\n`);
      await sleep(500);
    }
  }
}

async function main(): Promise<void> {
  const os = new Client({ node: OS_URL });
  const bus = new KafkaBus({ brokers: BROKERS, clientId: `seam-bench-${RUN}` });
  const topics = pipelineTopics(`${RUN}.`);
  const rawPrefix = `seamb_${RUN}_raw`;
  const seamPrefix = `seamb_${RUN}_seam`;
  const sinkCfg = sinkConfig;
  const setup: RoleSetup = { run: RUN, indexPrefix: seamPrefix };
  let inline: { running: RunningRoles; sink: OpenSearchSink | undefined } | undefined;
  const children: RoleHandle[] = [];
  try {
    for (const p of [rawPrefix, seamPrefix]) await setupOpenSearch(os, { templates: new OpenSearchSink(os, sinkCfg(p)).config, ism: 'skip' });
    await bus.createTopics(topicPlan(topics, { raw: 6, events: 6, signals: 3, alerts: 3, dlq: 1 }));

    // ── 1. raw bulk of the same documents ──────────────────────────────────────────────────────────
    const records = Array.from({ length: N }, (_, i) => record(i));
    const docs = records.map(normalized).filter((e): e is SeamEvent => e !== undefined);
    const namer = new OpenSearchSink(os, sinkCfg(rawPrefix));
    const bodies: string[] = [];
    for (let i = 0; i < docs.length; i += 2000) {
      bodies.push(
        docs
          .slice(i, i + 2000)
          .map((d) => {
            const t = namer.eventTarget(d);
            return `${JSON.stringify({ index: { _index: t.index, _id: t.id } })}\n${JSON.stringify(d)}\n`;
          })
          .join(''),
      );
    }
    let next = 0;
    const kafkaPid = pidOnPort(Number(BROKERS[0]!.split(':')[1] ?? 9092));
    const osPid = pidOnPort(Number(new URL(OS_URL).port || 9200));
    const rawOs0 = cpuMsOf(osPid);
    const rawSelf0 = process.cpuUsage();
    const rawStart = performance.now();
    await Promise.all(
      [0, 1].map(async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const r = await os.bulk({ body: body as unknown as Bulk_RequestBody });
          if ((r.body as { errors?: boolean }).errors) throw new Error('raw bulk reported item errors');
        }
      }),
    );
    const rawMs = performance.now() - rawStart;
    const rawRate = docs.length / (rawMs / 1000);
    const rawSelf = process.cpuUsage(rawSelf0);
    // The CPU the raw bulk cost: OpenSearch's and this process' (the client), to compare with the cpu line below.
    process.stdout.write(
      `raw bulk:     ${docs.length} docs in ${(rawMs / 1000).toFixed(1)}s = ${Math.round(rawRate)} docs/s (cpu: client=${((rawSelf.user + rawSelf.system) / 1e6).toFixed(1)}s opensearch=${((cpuMsOf(osPid) - rawOs0) / 1000).toFixed(1)}s load=${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})\n`,
    );

    // ── 2. Seam end to end from pre-loaded raw topics ───────────────────────────────────────────────
    const producer = await bus.producer();
    const received = new Date().toISOString();
    // receivedAt: when a collector read the record (the pre-loaded ones all at once; each trickled chunk when it is sent).
    const toMsg = (r: Raw, i: number, receivedAt = received): BusMessage => ({
      topic: topics.raw(r.source ?? 'k8s_audit'),
      key: `stream-${i % 31}`,
      value: Buffer.from(r.text),
      headers: rawHeaders({ collector: 'bench', receivedAt, ...(r.source ? { source: r.source } : {}) }),
    });
    const loadStart = performance.now();
    for (let i = 0; i < records.length; i += 5000) await producer.send(records.slice(i, i + 5000).map((r, j) => toMsg(r, i + j)));
    process.stdout.write(`produce:      ${records.length} raw records in ${((performance.now() - loadStart) / 1000).toFixed(1)}s (not counted)\n`);

    const group = (r: RoleName): string => defaultGroupId(r, `${RUN}-`);
    // Roles are built (rules loaded, processes up) before the clock starts; they join their groups after.
    const inlineDetection = INLINE ? await loadDetection({ rules: [join(ROOT, 'detections')] }) : undefined;
    if (!INLINE) for (const r of PIPELINE_ROLES) children.push(await spawnRole(r, setup));
    const roleStats = async (): Promise<{ name: RoleName; stats: Record<string, unknown>; cpuMs: number }[]> =>
      INLINE
        ? (inline?.running.roles ?? []).map((r) => ({ name: r.name, stats: r.stats(), cpuMs: NaN }))
        : Promise.all(children.map(async (c, i) => ({ name: PIPELINE_ROLES[i]!, ...(await c.stats()) })));
    const admin = await bus.admin();
    // The bench's own look at the groups' offsets retries what Kafka says is retriable (a coordinator that
    // moved or is loading: NOT_COORDINATOR_FOR_GROUP crashed a run once) instead of failing the run.
    const behind = (): Promise<number> => retried('offset check', behindOnce);
    const behindOnce = async (): Promise<number> => {
      let lag = 0;
      for (const [g, ts] of [
        [group('normalize'), [...topics.rawAll]],
        [group('correlate'), [topics.signals]],
        [group('index'), [topics.events, topics.alerts]],
      ] as const) {
        for (const t of await admin.fetchOffsets({ groupId: g, topics: [...ts] })) {
          for (const e of await admin.fetchTopicOffsets(t.topic)) {
            const at = BigInt(t.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1');
            lag += Number(BigInt(e.high) - (at < 0n ? BigInt(e.low) : at));
          }
        }
      }
      return lag;
    };
    const services0 = { kafka: cpuMsOf(kafkaPid), os: cpuMsOf(osPid) };
    const self0 = process.cpuUsage();
    const seamStart = performance.now();
    if (INLINE) inline = await startRoles([...PIPELINE_ROLES], setup, bus, os, inlineDetection);
    else for (const c of children) c.go();
    let ticks = 0;
    // With SEAM_METRICS_ADDR: what each role's /metrics said at every progress line (records in, lag).
    const scraped = new Map<RoleName, { in: number; out: number; lag: number }[]>();
    while ((await behind()) > 0) {
      await sleep(200);
      // Progress every 2 s: which role is behind shows where the time goes (and what the correlate role holds for event-time order).
      if (++ticks % 10 === 0) {
        const st = await roleStats();
        let m = '';
        for (const [i, c] of children.entries()) {
          const x = c.metricsUrl ? await scrape(c.metricsUrl) : undefined;
          if (!x) continue;
          const name = PIPELINE_ROLES[i]!;
          scraped.set(name, [...(scraped.get(name) ?? []), x]);
          m += ` ${name}:in=${x.in},lag=${x.lag}`;
        }
        process.stdout.write(`  after ${((performance.now() - seamStart) / 1000).toFixed(0)}s: ${st.map((r) => `${r.name}=${String(r.stats.received)}${r.name === 'correlate' ? `(held=${String(r.stats.held)})` : ''}`).join(' ')}${m ? ` | /metrics${m}` : ''}\n`);
      }
    }
    for (const [i, c] of children.entries()) {
      const x = c.metricsUrl ? await scrape(c.metricsUrl) : undefined;
      if (x) scraped.set(PIPELINE_ROLES[i]!, [...(scraped.get(PIPELINE_ROLES[i]!) ?? []), x]);
    }
    if (scraped.size > 0) {
      // Moving = records_in rose between scrapes and the lag went from its peak down to 0.
      const line = [...scraped].map(([r, xs]) => `${r}:scrapes=${xs.length},in=${xs[0]!.in}->${xs.at(-1)!.in},lag_peak=${Math.max(...xs.map((x) => x.lag))},lag_end=${xs.at(-1)!.lag}`);
      process.stdout.write(`metrics:      ${line.join(' ')}\n`);
    }
    const seamMs = performance.now() - seamStart;
    const seamRate = docs.length / (seamMs / 1000);
    const st = await roleStats();
    const self = process.cpuUsage(self0);
    const cs = st.find((r) => r.name === 'correlate')!.stats as { alerts: number; received: number; lateSignals?: number; lateAlerts?: number; duplicateSignals?: number; earlyAlerts?: number };
    // Role CPU per event: the figure issue 15 asks ≤ 30 µs of (normalize + correlate + index).
    const roleUs = (st.reduce((a, r) => a + r.cpuMs, 0) * 1000) / docs.length;
    process.stdout.write(
      `seam:         ${docs.length} events (${cs.received} signals, ${cs.alerts} alerts) in ${(seamMs / 1000).toFixed(1)}s = ${Math.round(seamRate)} events/s (roles ${INLINE ? 'inline, in one process' : 'in one process each'}; includes consumer-group joins)\n`,
    );
    const sec = (ms: number): string => (ms / 1000).toFixed(1);
    process.stdout.write(`stats:        late_signals=${cs.lateSignals ?? 0} late_alerts=${cs.lateAlerts ?? 0} duplicate_signals=${cs.duplicateSignals ?? 0} early_alerts=${cs.earlyAlerts ?? 0}\n`);
    process.stdout.write(
      `cpu:          ${INLINE ? `roles=${sec((self.user + self.system) / 1000)}s (with the bench's polling)` : st.map((r) => `${r.name}=${sec(r.cpuMs)}s`).join(' ')} kafka=${sec(cpuMsOf(kafkaPid) - services0.kafka)}s opensearch=${sec(cpuMsOf(osPid) - services0.os)}s${INLINE ? '' : ` roles_us_per_event=${Math.round(roleUs)}`} load=${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}\n`,
    );

    // ── 3. alert latency under a steady trickle ─────────────────────────────────────────────────────
    const producedAt = new Map<string, number>();
    // With metrics on: the correlate role's own alert latency histogram (arrival of the newest event → alert
    // durable), read before and after the trickle, beside the bench's measure below.
    const correlateUrl = children[PIPELINE_ROLES.indexOf('correlate')]?.metricsUrl;
    const histBefore = correlateUrl ? await histogram(correlateUrl, 'seam_alert_ingest_latency_seconds') : undefined;
    const trickleStart = Date.now();
    const chunk = Math.max(1, Math.round(TRICKLE_PER_S / 10));
    for (let i = 0; i < TRICKLE; i += chunk) {
      const t0 = performance.now();
      const now = Date.now();
      const batch = Array.from({ length: Math.min(chunk, TRICKLE - i) }, (_, j) => record(N + i + j, now));
      for (const r of batch) {
        const e = normalized(r);
        if (e) producedAt.set(e.seam.id, now);
      }
      await producer.send(batch.map((r, j) => toMsg(r, i + j, new Date(now).toISOString())));
      const wait = 100 - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
    // Lag 0 is not the end: the correlate role hands held signals on once the watermark passes them (ADR 0009).
    const settled = async (): Promise<boolean> => {
      const st = await roleStats();
      return st.filter((r) => r.name === 'correlate').every((r) => r.stats.settled !== false);
    };
    while ((await behind()) > 0 || !(await settled())) await sleep(200);
    // Each alert once, at its first version on seam.alerts (an early alert's provisional one, ADR 0025: what a SOC
    // is notified of); the final versions are measured apart, beside it.
    // Where an early alert's time goes: raw record → its signal on seam.signals (normalize), signal → alert (correlate).
    const signalAt = await retried('signal read', async () => {
      const at = new Map<string, number>();
      await kafkaHistory(bus).read(topics.signals, 'all', trickleStart, undefined, (m) => {
        const spans = m.headers?.[SIGNAL_SPANS_HEADER];
        if (spans === undefined || m.timestampMs === undefined) return;
        for (const s of JSON.parse(spans) as unknown[][]) if (typeof s[0] === 'string') at.set(s[0], m.timestampMs);
      });
      return at;
    });
    const { latencies, finalLatencies, early, earlyLatencies, hops } = await retried('alert read', async () => {
      const first = new Map<string, { ms: number; provisional: boolean }>();
      const finals: number[] = [];
      const earlyMs: number[] = [];
      const hop = { normalize: [] as number[], correlate: [] as number[] };
      await kafkaHistory(bus).read(topics.alerts, 'all', trickleStart, undefined, (m) => {
        const a = JSON.parse(m.value.toString('utf8')) as Alert;
        let last = -Infinity;
        for (const id of a.events) last = Math.max(last, producedAt.get(id) ?? -Infinity);
        if (!Number.isFinite(last) || m.timestampMs === undefined) return;
        const ms = m.timestampMs - last;
        if (a.provisional !== true) finals.push(ms);
        else {
          earlyMs.push(ms);
          const id = a.events[a.events.length - 1]!;
          const s = signalAt.get(id);
          const r = producedAt.get(id);
          if (s !== undefined && r !== undefined) {
            hop.normalize.push(s - r);
            hop.correlate.push(m.timestampMs - s);
          }
        }
        const seen = first.get(a.id);
        if (seen === undefined || ms < seen.ms) first.set(a.id, { ms, provisional: a.provisional === true });
      });
      const l = [...first.values()];
      return { latencies: l.map((x) => x.ms), finalLatencies: finals, early: l.filter((x) => x.provisional).length, earlyLatencies: earlyMs, hops: hop };
    });
    const p50 = pct(latencies, 50);
    const p99 = pct(latencies, 99);
    process.stdout.write(`alerts:       ${latencies.length} alerts from ${TRICKLE} trickled records at ${TRICKLE_PER_S}/s: p50=${Math.round(p50)} ms p99=${Math.round(p99)} ms (first version; ${early} of them early, ADR 0025)\n`);
    const ms = (xs: number[], p: number): number => Math.round(pct(xs, p));
    process.stdout.write(
      `alerts:       early versions: ${earlyLatencies.length}, p50=${ms(earlyLatencies, 50)} ms p99=${ms(earlyLatencies, 99)} ms; raw → signal (normalize) p50=${ms(hops.normalize, 50)} p99=${ms(hops.normalize, 99)} ms, signal → early alert (correlate) p50=${ms(hops.correlate, 50)} p99=${ms(hops.correlate, 99)} ms\n`,
    );
    process.stdout.write(`alerts:       final versions: ${finalLatencies.length}, p50=${Math.round(pct(finalLatencies, 50))} ms p99=${Math.round(pct(finalLatencies, 99))} ms (the watermark's allowed lateness, ADR 0009)\n`);
    const histAfter = correlateUrl && histBefore ? await histogram(correlateUrl, 'seam_alert_ingest_latency_seconds') : undefined;
    if (histBefore && histAfter) {
      const h = histogramDelta(histBefore, histAfter);
      process.stdout.write(`metrics:      correlate seam_alert_ingest_latency_seconds over the trickle: count=${h.count} p50<=${h.le(0.5)}s p99<=${h.le(0.99)}s\n`);
    }
    await producer.close();
    const ratio = seamRate / rawRate;
    process.stdout.write(
      `pipeline: ratio=${ratio.toFixed(3)} events_per_s=${Math.round(seamRate)} alert_p50_ms=${Math.round(p50)} alert_p99_ms=${Math.round(p99)} roles_us_per_event=${Math.round(roleUs)} load=${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}\n`,
    );
  } finally {
    await inline?.running.stop().catch(() => undefined);
    await inline?.sink?.close().catch(() => undefined);
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    const admin = await bus.admin();
    await admin.deleteTopics({ topics: topicPlan(topics).map((t) => t.topic) }).catch(() => undefined);
    await admin.deleteGroups(PIPELINE_ROLES.map((r) => defaultGroupId(r, `${RUN}-`))).catch(() => undefined);
    for (const p of [rawPrefix, seamPrefix]) {
      await os.indices.delete({ index: `${p}-*`, expand_wildcards: 'all' }, { ignore: [404] }).catch(() => undefined);
      await os.transport.request({ method: 'DELETE', path: `/_index_template/${p}-*` }, { ignore: [404] }).catch(() => undefined);
      await os.transport.request({ method: 'DELETE', path: `/_component_template/${p}-*` }, { ignore: [404] }).catch(() => undefined);
    }
    await bus.close();
    await os.close();
  }
}

await (ROLE_PROCESS ? roleProcess() : main());
