/**
 * Alert latency through the correlate role on the real Kafka (ADR 0009 §3 and §5c): how long after its raw records
 * are produced an alert is durable on `seam.alerts`, for traffic shapes that move stage 1's progress differently.
 * Two pipelines side by side in this process, one per `idleMs` (default 10 000 ms, the product default, and
 * 1 000 ms), each its own topics and groups (normalize and correlate roles built as `seam run --role` builds them,
 * `startKafkaRoles`), fed the same records in the same sends, so both see the same load and the same timing.
 *
 * An attack (bench/lib/attack-records.ts) is three records a second apart in event time: alice's exec into a pod
 * (audit log), the pod's IRSA session (CloudTrail) and its secret read (CloudTrail), each produced at its event time
 * plus its plane's delay (equal delays: in one send). Each alert is timed from the send of the record it is raised on:
 *   - sigma-k8s / sigma-aws: the single-event Sigma alert on the exec / on the read: first version (the early,
 *     provisional alert, ADR 0025) and final version (the ordered path's);
 *   - exec-then-aws: seam-native-exec-then-aws on the read (ordered path only: it needs the exec in the graph);
 *   - sigma-corr: corr_exec_into_many_pods_by_one_identity (alice's fifth exec in 10 minutes), from the send of the
 *     newest exec it counts; how many fire depends on the windows, so it has no expected count.
 * Scenarios, one after the other (noise: NOISE records/s on a busy plane, on random keys over every raw partition):
 *   - trickle: both planes busy, an attack every GAP ms;
 *   - burst: nothing produced for max(idleMs) + 5 s (every raw partition idle), then ATTACKS attacks in one send,
 *     then nothing;
 *   - aws-quiet: the audit log busy, CloudTrail carrying only the attacks (every GAP ms);
 *   - k8s-quiet: CloudTrail busy, the audit log carrying only the attacks (every GAP ms).
 * Each scenario waits until every final of its attacks is out on both pipelines, or TIMEOUT ms after its last
 * attack (an alert still held then is counted as not released, its latency not in the percentiles).
 * SOURCE_DELAY_AWS: correlate.sourceDelayMs for cloudtrail (ADR 0009, 5c: the delay expected of CloudTrail before it
 * first delivers; default 900000, as `seam run` with a CloudTrail collector; 0: none, as before 5c's second part).
 * BENCH_CT_MILLIS=1 (environment): CloudTrail event times keep their milliseconds (AWS writes whole seconds).
 * Event time = produce time − DELAY ms on both planes (0: a live in-order stream; > LATENESS: sources delivered
 * later than the allowed lateness), or per plane with DELAY_K8S / DELAY_AWS (CloudTrail minutes late, the audit log
 * seconds: the planes' progress apart).
 *
 *   npm run bench:correlate-latency [-- IDLE=10000,1000 LATENESS=60000 DELAY=0 DELAY_K8S=… DELAY_AWS=… SOURCE_DELAY_AWS=900000 POLL=1000 PARTITIONS=3 ATTACKS=10 GAP=3000 NOISE=20 SCENARIOS=aws-quiet,burst]
 *
 * Brokers: SEAM_KAFKA_BROKERS (default 127.0.0.1:9092), as the other Kafka benches and the integration tests.
 * Last line: `correlate-latency: delay_k8s_ms=… delay_aws_ms=… lateness_ms=… <scenario>.<alert>.<version>.i<idle>=p50/p95/max(n) … load=…`
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaBus } from '../src/bus/kafka.ts';
import type { BusMessage } from '../src/bus/types.ts';
import { normalizeRecord } from '../src/core/normalize/normalize.ts';
import type { Alert } from '../src/detect/alert.ts';
import { DEFAULT_ALLOWED_LATENESS_MS } from '../src/detect/load.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { DEFAULT_CLOUDTRAIL_DELAY_MS } from '../src/pipeline/expected-delay.ts';
import { startKafkaRoles, type RunningRoles } from '../src/pipeline/kafka-roles.ts';
import type { AlertTiming } from '../src/pipeline/roles/correlate.ts';
import { defaultGroupId, PIPELINE_ROLES } from '../src/pipeline/roles/role.ts';
import { pipelineTopics, topicPlan, type PipelineTopics } from '../src/pipeline/topics.ts';
import { rawHeaders } from '../src/sources/checkpoint/raw-record.ts';
import { attack, EXEC_THEN_AWS_RULE, noise, SIGMA_AWS_RULE, SIGMA_CORR_RULE, SIGMA_K8S_RULE, type Attack, type BenchRecord, type Plane } from './lib/attack-records.ts';

const arg = (k: string, d: string): string => process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d;
const IDLES = arg('IDLE', '10000,1000').split(',').map(Number);
const LATENESS = Number(arg('LATENESS', String(DEFAULT_ALLOWED_LATENESS_MS)));
const DELAY = Number(arg('DELAY', '0'));
/** Per plane: how far behind the produce time a record's event time is (defaults: DELAY). */
const DELAYS: Record<Plane, number> = { k8s: Number(arg('DELAY_K8S', String(DELAY))), aws: Number(arg('DELAY_AWS', String(DELAY))) };
const POLL = Number(arg('POLL', '1000'));
const SOURCE_DELAY_AWS = Number(arg('SOURCE_DELAY_AWS', String(DEFAULT_CLOUDTRAIL_DELAY_MS)));
const PARTITIONS = Number(arg('PARTITIONS', '3'));
const ATTACKS = Number(arg('ATTACKS', '10'));
const GAP = Number(arg('GAP', '3000'));
const NOISE = Number(arg('NOISE', '20'));
const TIMEOUT = Number(arg('TIMEOUT', String(LATENESS + Math.abs(DELAYS.k8s - DELAYS.aws) + 2 * Math.max(...IDLES) + 30_000)));
const BROKERS = (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const ROOT = join(import.meta.dirname, '..');
const RUN = `cl${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Kind = 'sigma-k8s' | 'sigma-aws' | 'exec-then-aws' | 'sigma-corr';
const KIND_OF: Record<string, Kind> = { [SIGMA_K8S_RULE]: 'sigma-k8s', [SIGMA_AWS_RULE]: 'sigma-aws', [EXEC_THEN_AWS_RULE]: 'exec-then-aws' };
/** Which record of an attack each alert is raised on (the exec: 0; the read: 2). */
const RAISED_ON: Record<Kind, number> = { 'sigma-k8s': 0, 'sigma-aws': 2, 'exec-then-aws': 2, 'sigma-corr': 0 };
const ALL_SCENARIOS = ['trickle', 'burst', 'aws-quiet', 'k8s-quiet'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
/** `SCENARIOS=aws-quiet,burst` runs only those (default all four). */
const SCENARIOS: readonly Scenario[] = arg('SCENARIOS', ALL_SCENARIOS.join(','))
  .split(',')
  .filter((x): x is Scenario => (ALL_SCENARIOS as readonly string[]).includes(x));

/** An alert of an attack as one pipeline saw it: wall times (ms) of its first version and of its final. */
interface Seen {
  firstMs?: number;
  finalMs?: number;
}
interface Pipeline {
  idleMs: number;
  topics: PipelineTopics;
  bus: KafkaBus;
  running: RunningRoles;
  /** `<attack>|<kind>` → what was seen. */
  seen: Map<string, Seen>;
  /** Sigma correlation alerts (by alert id) and the attack whose exec completed each. */
  corr: Map<string, Seen & { attack: string }>;
  lateAlerts: number;
}
/** `seam.id` of each attack record → `<attack>|<record index>`. */
const ids = new Map<string, string>();
/** Wall time (ms) the send of each attack record started, by `<attack>|<record index>`. */
const sentAt = new Map<string, number>();
const scenarioOf = new Map<string, Scenario>();

const received = (): string => new Date().toISOString();
function message(topics: PipelineTopics, r: BenchRecord, key: string, receivedAt: string): BusMessage {
  const meta = { collector: 'bench', receivedAt, source: r.source, ...(r.cluster ? { cluster: r.cluster } : {}), ...(r.account ? { account: r.account } : {}) };
  return { topic: topics.raw(r.source), key, value: Buffer.from(JSON.stringify(r.raw)), headers: rawHeaders(meta) };
}
function seamId(r: BenchRecord, receivedAt: string): string {
  const meta = { collector: 'bench', receivedAt, source: r.source, ...(r.cluster ? { cluster: r.cluster } : {}), ...(r.account ? { account: r.account } : {}) };
  const n = normalizeRecord(r.raw, meta);
  if (!n.ok) throw new Error(`bench record does not normalize: ${n.error.message}`);
  return n.value.seam.id;
}

function onAlert(p: () => Pipeline) {
  return (a: Alert, info: AlertTiming): void => {
    const now = Date.now();
    if (a.late === true) p().lateAlerts++;
    if (a.rule.id === SIGMA_CORR_RULE) {
      // It counts the execs of several attacks: timed from the send of the newest (the exec that completed the count).
      const execs = a.events.map((e) => ids.get(e)).filter((x): x is string => x?.endsWith('|0') === true).map((x) => x.split('|')[0]!);
      const newest = execs.sort((x, y) => sentAt.get(`${y}|0`)! - sentAt.get(`${x}|0`)!)[0];
      if (newest === undefined) return;
      const c = p().corr.get(a.id) ?? { attack: newest };
      c.firstMs ??= now;
      if (info.version === 'final') c.finalMs ??= now;
      p().corr.set(a.id, c);
      return;
    }
    const kind = KIND_OF[a.rule.id];
    if (kind === undefined) return;
    const ref = a.events.map((e) => ids.get(e)).find((x) => x !== undefined && Number(x.split('|')[1]) === RAISED_ON[kind]);
    if (ref === undefined) return; // raised on a setup or noise record
    const key = `${ref.split('|')[0]}|${kind}`;
    const s = p().seen.get(key) ?? {};
    s.firstMs ??= now;
    if (info.version === 'final') s.finalMs ??= now;
    p().seen.set(key, s);
  };
}

const pct = (xs: number[], q: number): number => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]!);
const s1 = (ms: number): string => (Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(1));

async function main(): Promise<void> {
  process.stdout.write(
    `correlate latency on Kafka ${BROKERS.join(',')}: idleMs ${IDLES.join(' / ')}, lateness ${LATENESS} ms, delay k8s ${DELAYS.k8s} ms aws ${DELAYS.aws} ms, poll ${POLL} ms, cloudtrail expected ${SOURCE_DELAY_AWS} ms, ${PARTITIONS} partitions per topic, ${ATTACKS} attacks per scenario, noise ${NOISE}/s per busy plane, load=${load()}\n`,
  );
  const detection = await loadDetection({ rules: [join(ROOT, 'detections')], allowedLatenessMs: LATENESS });
  const plan = { raw: PARTITIONS, events: PARTITIONS, signals: PARTITIONS, alerts: PARTITIONS, dlq: 1 };
  const pipelines: Pipeline[] = [];
  const feeder = new KafkaBus({ brokers: BROKERS, clientId: `${RUN}-feeder` });
  try {
    for (const idleMs of IDLES) {
      const topics = pipelineTopics(`${RUN}-i${idleMs}.`);
      const bus = new KafkaBus({ brokers: BROKERS, clientId: `${RUN}-i${idleMs}` });
      await bus.createTopics(topicPlan(topics, plan));
      const p = { idleMs, topics, bus, seen: new Map(), corr: new Map(), lateAlerts: 0 } as unknown as Pipeline;
      p.running = await startKafkaRoles({ bus, topics, roles: ['normalize', 'correlate'], detection, groupPrefix: `${RUN}-i${idleMs}-`, partitions: plan, idleMs, pollMs: POLL, sourceDelayMs: SOURCE_DELAY_AWS > 0 ? { cloudtrail: SOURCE_DELAY_AWS } : {}, onAlert: onAlert(() => p) });
      pipelines.push(p);
    }
    const producer = await feeder.producer();
    /** Sends the records to every pipeline in one send; returns when Kafka has them. */
    const send = async (rs: { r: BenchRecord; key: string }[], at = received()): Promise<void> => {
      await producer.send(pipelines.flatMap((p) => rs.map(({ r, key }) => message(p.topics, r, key, at))));
    };

    // Setup: every attack's service account and pod, well before any attack in event time.
    const attacks = new Map<Scenario, Attack[]>();
    let n = 0;
    for (const s of SCENARIOS) attacks.set(s, Array.from({ length: ATTACKS }, (_, i) => attack(`${s}-${i}`, n++)));
    const setupMs = Date.now() - DELAY - 300_000;
    await send([...attacks.values()].flat().flatMap((a, i) => a.setup(setupMs + i * 10).map((r) => ({ r, key: a.name }))));

    // Noise: NOISE records/s on each busy plane, on random keys (every raw partition gets some).
    const busy: Record<Plane, boolean> = { k8s: false, aws: false };
    let noiseN = 0;
    let noiseErr: unknown;
    const noiseTimer = setInterval(() => {
      const rs: { r: BenchRecord; key: string }[] = [];
      for (const plane of ['k8s', 'aws'] as const) if (busy[plane]) for (let i = 0; i < NOISE / 10; i++) rs.push({ r: noise(plane, Date.now() - DELAYS[plane], noiseN++), key: randomBytes(4).toString('hex') });
      if (rs.length > 0) send(rs).catch((e: unknown) => (noiseErr = e));
    }, 100);

    /**
     * Produces attacks as their collectors would deliver them: each record at its event time plus its plane's delay
     * (the first at once; with equal delays, the three in one send). Resolves once every record is sent.
     */
    const fire = async (s: Scenario, as: Attack[]): Promise<void> => {
      const offsets = [-2000, -1000, 0];
      const planes = as[0]!.records(0).map((r) => r.plane);
      const lead = Math.min(...planes.map((pl, i) => offsets[i]! + DELAYS[pl]));
      const t = Date.now() - lead; // event time of the read
      const at = received();
      const byWhen = new Map<number, { r: BenchRecord; key: string; ref: string }[]>();
      for (const a of as) {
        scenarioOf.set(a.name, s);
        a.records(t).forEach((r, i) => {
          ids.set(seamId(r, at), `${a.name}|${i}`);
          const when = offsets[i]! + DELAYS[r.plane] - lead;
          byWhen.set(when, [...(byWhen.get(when) ?? []), { r, key: a.name, ref: `${a.name}|${i}` }]);
        });
      }
      await Promise.all(
        [...byWhen].map(async ([when, rs]) => {
          await sleep(when);
          for (const x of rs) sentAt.set(x.ref, Date.now());
          await send(rs, at);
        }),
      );
    };
    const done = (s: Scenario): boolean =>
      pipelines.every((p) => attacks.get(s)!.every((a) => (['sigma-k8s', 'sigma-aws', 'exec-then-aws'] as const).every((k) => p.seen.get(`${a.name}|${k}`)?.finalMs !== undefined)));

    const stats0 = new Map<Pipeline, { late: number; stale: number }>();
    const roleStats = (p: Pipeline): { lateSignals: number; staleLooks: number } => p.running.roles.find((r) => r.name === 'correlate')!.stats() as never;
    const perScenario = new Map<Scenario, Map<Pipeline, { late: number; stale: number }>>();
    for (const s of SCENARIOS) {
      for (const p of pipelines) stats0.set(p, { late: roleStats(p).lateSignals, stale: roleStats(p).staleLooks });
      const as = attacks.get(s)!;
      busy.k8s = s === 'trickle' || s === 'aws-quiet';
      busy.aws = s === 'trickle' || s === 'k8s-quiet';
      process.stdout.write(`${s}: k8s ${busy.k8s ? 'busy' : 'quiet'}, aws ${busy.aws ? 'busy' : 'quiet'}, load=${load()}\n`);
      if (s === 'burst') {
        await sleep(Math.max(...IDLES) + 5000);
        await fire(s, as);
      } else {
        await sleep(Math.max(...IDLES) + 5000); // the busy plane's partitions busy, the quiet one's idle, before the first attack
        const sends: Promise<void>[] = [];
        for (const a of as) {
          sends.push(fire(s, [a]));
          await sleep(GAP);
        }
        await Promise.all(sends);
      }
      const until = Date.now() + TIMEOUT;
      while (!done(s) && Date.now() < until) await sleep(200);
      busy.k8s = busy.aws = false;
      perScenario.set(s, new Map(pipelines.map((p) => [p, { late: roleStats(p).lateSignals - stats0.get(p)!.late, stale: roleStats(p).staleLooks - stats0.get(p)!.stale }])));
      process.stdout.write(`${s}: ${done(s) ? 'all released' : 'timed out'}, load=${load()}\n`);
      if (noiseErr !== undefined) throw noiseErr;
    }
    clearInterval(noiseTimer);

    // The table: per scenario and alert, each pipeline's p50/p95/max (s) from the attack's send, released/expected.
    const rows: [Scenario, Kind, 'first' | 'final'][] = [];
    for (const s of SCENARIOS) for (const k of ['sigma-k8s', 'sigma-aws'] as const) for (const v of ['first', 'final'] as const) rows.push([s, k, v]);
    for (const s of SCENARIOS) rows.push([s, 'exec-then-aws', 'final'], [s, 'sigma-corr', 'final']);
    rows.sort((a, b) => SCENARIOS.indexOf(a[0]) - SCENARIOS.indexOf(b[0]));
    const summary: string[] = [];
    const head = ['scenario', 'alert', 'version', ...pipelines.map((p) => `idle ${p.idleMs} ms: p50/p95/max s (n)`), ...pipelines.slice(1).map((p) => `p50 ratio ${p.idleMs}/${pipelines[0]!.idleMs}`), ...pipelines.slice(1).map((p) => `max ratio ${p.idleMs}/${pipelines[0]!.idleMs}`)];
    process.stdout.write(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n`);
    for (const [s, k, v] of rows) {
      const cells: string[] = [];
      const p50s: number[] = [];
      const maxes: number[] = [];
      for (const p of pipelines) {
        const of = (name: string, seen: Seen | undefined): number | undefined => {
          const at = v === 'first' ? seen?.firstMs : seen?.finalMs;
          return at === undefined ? undefined : at - sentAt.get(`${name}|${RAISED_ON[k]}`)!;
        };
        const lat = (k === 'sigma-corr' ? [...p.corr.values()].filter((c) => scenarioOf.get(c.attack) === s).map((c) => of(c.attack, c)) : attacks.get(s)!.map((a) => of(a.name, p.seen.get(`${a.name}|${k}`)))).filter(
          (x): x is number => x !== undefined,
        );
        const expected = k === 'sigma-corr' ? '' : `/${ATTACKS}`;
        const [a, b, c] = [pct(lat, 0.5), pct(lat, 0.95), lat.length === 0 ? NaN : Math.max(...lat)];
        p50s.push(a);
        maxes.push(c);
        cells.push(`${s1(a)} / ${s1(b)} / ${s1(c)} (${lat.length}${expected})`);
        summary.push(`${s}.${k}.${v}.i${p.idleMs}=${s1(a)}/${s1(b)}/${s1(c)}(${lat.length}${expected})`);
      }
      const ratio = (x: number, y: number): string => (Number.isNaN(x) || Number.isNaN(y) || y === 0 ? '-' : (x / y).toFixed(2));
      process.stdout.write(`| ${s} | ${k} | ${v} | ${cells.join(' | ')} | ${p50s.slice(1).map((x) => ratio(x, p50s[0]!)).join(' | ')} | ${maxes.slice(1).map((x) => ratio(x, maxes[0]!)).join(' | ')} |\n`);
    }
    process.stdout.write('\nlate signals / stale looks per scenario: ');
    process.stdout.write(SCENARIOS.map((s) => `${s} ${pipelines.map((p) => `i${p.idleMs}=${perScenario.get(s)!.get(p)!.late}/${perScenario.get(s)!.get(p)!.stale}`).join(' ')}`).join('; ') + '\n');
    process.stdout.write(`alerts flagged late: ${pipelines.map((p) => `i${p.idleMs}=${p.lateAlerts}`).join(' ')}\n`);
    process.stdout.write(`correlate-latency: delay_k8s_ms=${DELAYS.k8s} delay_aws_ms=${DELAYS.aws} lateness_ms=${LATENESS} source_delay_aws_ms=${SOURCE_DELAY_AWS} poll_ms=${POLL} partitions=${PARTITIONS} ${summary.join(' ')} load=${load()}\n`);
  } finally {
    for (const p of pipelines) await p.running.stop().catch(() => undefined);
    const admin = await feeder.admin();
    for (const p of pipelines) {
      await admin.deleteTopics({ topics: topicPlan(p.topics).map((t) => t.topic) }).catch(() => undefined);
      await admin.deleteGroups(PIPELINE_ROLES.map((r) => defaultGroupId(r, `${RUN}-i${p.idleMs}-`))).catch(() => undefined);
      await p.bus.close().catch(() => undefined);
    }
    await feeder.close().catch(() => undefined);
  }
}

await main();
process.exit(0);
