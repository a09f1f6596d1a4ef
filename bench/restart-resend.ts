/**
 * What a graceful correlate restart sends to `seam.events` twice (ADR 0055 and its amendment), on the local Kafka,
 * with a live stream: one signal every 333 ms (3 a second) on 3 `seam.signals` partitions, event time now less a
 * random delivery delay up to `jitterMs`, allowed lateness 60 s, no stage-1 progress (the watermark follows the wall
 * clock less the lateness). A correlate member (`seam run --role correlate`, startKafkaRoles) runs `aS` seconds and
 * stops gracefully (what SIGTERM does); `gapS` seconds later a second one starts, runs `bS` seconds while the stream
 * goes on, and stops. Then every event on `seam.events` is counted by `seam.id`.
 *
 *   npm run bench:restart-resend [-- aS=80 gapS=5 bS=35 jitterMs=5000]
 *
 * Last line: `restart-resend: signals=<n> first_sent=<n> first_handover=<n> second_sent=<n> second_not_resent=<n> sent_twice=<n> missing=<n> load=<1-min avg>`
 * (`first_handover`: events of signals the first member still held at its stop, sent then; `second_not_resent`:
 * re-read signals whose events the second member did not send again; `missing`: signals with no event at all).
 * Topics and groups are this run's and deleted at the end. Not a speed figure: the counts depend on the timing only
 * through how many signals the stream produced.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../src/bus/kafka.ts';
import type { SeamEvent } from '../src/core/envelope.ts';
import { loadDetection } from '../src/pipeline/detection.ts';
import { eventJsons } from '../src/pipeline/event-route.ts';
import { startKafkaRoles } from '../src/pipeline/kafka-roles.ts';
import { SignalBatcher } from '../src/pipeline/signal.ts';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';

const arg = (k: string, d: string): number => Number(process.argv.slice(2).find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1) ?? d);
const A_S = arg('aS', '80');
const GAP_S = arg('gapS', '5');
const B_S = arg('bS', '35');
const JITTER_MS = arg('jitterMs', '5000');
const ROOT = join(import.meta.dirname, '..');
const BROKERS = (process.env.SEAM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const RUN = `bench-resend-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (s: string): boolean => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  say(`restart-resend bench: first member ${A_S} s, gap ${GAP_S} s, second ${B_S} s, delivery jitter up to ${JITTER_MS} ms, Kafka ${BROKERS.join(',')}, run ${RUN}`);
  const topics = pipelineTopics(`${RUN}.`);
  const groupPrefix = `${RUN}-`;
  const partitions = { raw: 1, events: 1, signals: 3, alerts: 1, incidents: 1, dlq: 1 };
  const bus = new KafkaBus({ brokers: BROKERS, clientId: RUN, groupPrefix });
  const admin = await bus.admin();
  try {
    await bus.createTopics(topicPlan(topics, partitions));
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')], allowedLatenessMs: 60_000 });
    const producer = await bus.producer();
    const ids: string[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let i = 0; streaming; i++) {
        const id = `live-${String(i).padStart(6, '0')}`;
        const ts = new Date(Date.now() - Math.floor(Math.random() * JITTER_MS)).toISOString();
        const ev = { '@timestamp': ts, eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id, source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
        const b = new SignalBatcher();
        b.add('111122223333', [], ['identity'], JSON.stringify(ev), { id, ts, received: null });
        await producer.send(b.take().map((m) => ({ ...m, topic: topics.signals, partition: i % 3 })));
        ids.push(id);
        await sleep(333);
      }
    })();
    const start = () => startKafkaRoles({ bus, topics, roles: ['correlate'], detection, groupPrefix, partitions, pollMs: 1000 });
    const a = await start();
    await sleep(A_S * 1000);
    await a.stop();
    const sa = a.roles[0]!.stats() as { events: number; handedOverEvents: number };
    await sleep(GAP_S * 1000);
    const b = await start();
    await sleep(B_S * 1000);
    streaming = false;
    await stream;
    await b.stop();
    await producer.close();
    const sb = b.roles[0]!.stats() as { events: number; eventsNotResent: number };
    const sent = new Map<string, number>();
    await bus.readToEnd([topics.events], (m) => {
      for (const j of eventJsons(m)) {
        const id = (JSON.parse(j.toString('utf8')) as SeamEvent).seam.id;
        sent.set(id, (sent.get(id) ?? 0) + 1);
      }
    });
    const twice = [...sent.values()].filter((n) => n > 1).length;
    const missing = ids.filter((id) => !sent.has(id)).length;
    say(`restart-resend: signals=${ids.length} first_sent=${sa.events} first_handover=${sa.handedOverEvents} second_sent=${sb.events} second_not_resent=${sb.eventsNotResent} sent_twice=${twice} missing=${missing} load=${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await admin.deleteTopics({ topics: topicPlan(topics).map((t) => t.topic) }).catch(() => undefined);
    const groups = (await admin.listGroups().catch(() => ({ groups: [] as { groupId: string }[] }))).groups.map((g) => g.groupId).filter((g) => g.startsWith(groupPrefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    await bus.close();
  }
}

await main();
