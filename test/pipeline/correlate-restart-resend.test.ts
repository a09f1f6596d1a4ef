// A graceful restart of the correlate role on the real local Kafka (ADR 0055): what the stopped member sent to
// seam.events is not sent again by the member that takes its partitions, and no signal's event is missing.
// The stopped member leaves three kinds of signals behind: handed on before its last commit (`old`, an hour old:
// its first batch hands them on), handed on by its ticker after its last commit (`soon`: produced at event time
// now once the first batches are committed, held by their batch for the allowed lateness, then released with no
// batch after to commit that), and still held for order when it stops (`ahead`, an hour ahead: its hand-over sends
// their events at stop). Signals produced after the stop (`next`, sorting after all of those) come to the second
// member in a batch, whose rebuild reads back the first member's last commit and its output mark. The line it prints
// says how many events went out twice (before the commit at stop: 120 of 180, the `soon` and `ahead` ones).
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { BusMessage } from '../../src/bus/types.ts';
import type { SeamEvent } from '../../src/core/envelope.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { eventJsons } from '../../src/pipeline/event-route.ts';
import { startKafkaRoles, type RunningRoles } from '../../src/pipeline/kafka-roles.ts';
import { defaultGroupId } from '../../src/pipeline/roles/role.ts';
import { SignalBatcher } from '../../src/pipeline/signal.ts';
import { pipelineTopics, topicPlan } from '../../src/pipeline/topics.ts';
import { kafkaBrokers, uniqueName } from '../helpers/services.ts';

const RULES = join(import.meta.dirname, '../../detections');
const PARTITIONS = 2;
const N = 30;
const LATENESS_MS = 2000;
const HOUR = 3600_000;

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await ok()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Signals messages of one partition: one CloudTrail event per id, at `atMs`. */
function signals(topic: string, partition: number, ids: string[], atMs: number): BusMessage[] {
  const b = new SignalBatcher();
  const ts = new Date(atMs).toISOString();
  for (const id of ids) {
    const ev = { '@timestamp': ts, eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id, source: 'cloudtrail', account: '111122223333' } } as unknown as SeamEvent;
    b.add('111122223333', [], ['identity'], JSON.stringify(ev), { id, ts, received: null });
  }
  return b.take().map((m) => ({ ...m, topic, partition }));
}

const ids = (kind: string, p: number): string[] => Array.from({ length: N }, (_, i) => `${kind}-p${p}-${String(i).padStart(3, '0')}`);

interface CorrelateStats {
  events: number;
  held: number;
  rebuilds: number;
  eventsNotResent: number;
  handedOverEvents: number;
}

describe('correlate graceful restart on Kafka (ADR 0055)', () => {
  it('the member that takes over sends again none of the events the stopped one sent, and every signal has its event on seam.events', async () => {
    const run = uniqueName('resend');
    const topics = pipelineTopics(`${run}.`);
    const groupPrefix = `${run}-`;
    const partitions = { raw: 1, events: 1, signals: PARTITIONS, alerts: 1, incidents: 1, dlq: 1 };
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: `${run}-test`, groupPrefix });
    closers.push(() => bus.close());
    await bus.createTopics(topicPlan(topics, partitions));
    const admin = await bus.admin();
    closers.push(() => admin.deleteTopics({ topics: topicPlan(topics).map((t) => t.topic) }));
    const detection = await loadDetection({ rules: [RULES], allowedLatenessMs: LATENESS_MS });
    const group = defaultGroupId('correlate', groupPrefix);
    const start = (): Promise<RunningRoles> => startKafkaRoles({ bus, topics, roles: ['correlate'], detection, groupPrefix, partitions, pollMs: 250 });
    const stats = (r: RunningRoles): CorrelateStats => r.roles[0]!.stats() as unknown as CorrelateStats;
    const committedAtEnd = async (): Promise<boolean> => {
      const ends = new Map((await admin.fetchTopicOffsets(topics.signals)).map((e) => [e.partition, BigInt(e.offset)]));
      const committed = await bus.committedOffsets(group, topics.signals).catch(() => new Map<number, bigint>());
      return [...ends].every(([p, o]) => committed.get(p) === o);
    };

    const now = Date.now();
    const producer = await bus.producer();
    closers.push(() => producer.close());
    const before: string[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send([...signals(topics.signals, p, ids('old', p), now - HOUR), ...signals(topics.signals, p, ids('ahead', p), now + HOUR)]);
      before.push(...ids('old', p), ...ids('ahead', p));
    }
    const a = await start();
    closers.push(() => a.stop());
    await until('the first member to commit both partitions', committedAtEnd);
    // Event time now: held by the batch that reads them (its watermark is the lateness behind), handed on by the
    // ticker once the wall clock passes them by the lateness, with no batch after it to commit that.
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send(signals(topics.signals, p, ids('soon', p), Date.now()));
      before.push(...ids('soon', p));
    }
    await until('the first member to commit both partitions and hand on all but the `ahead` signals', async () => (await committedAtEnd()) && stats(a).events === 2 * N * PARTITIONS && stats(a).held === N * PARTITIONS);
    await a.stop();
    const sa = stats(a);
    expect(sa.handedOverEvents).toBe(N * PARTITIONS);

    // The next signals of a live pipeline, after the restart: the second member gets a batch and rebuilds up to it.
    const after: string[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send(signals(topics.signals, p, ids('next', p), now + 2 * HOUR));
      after.push(...ids('next', p));
    }
    const b = await start();
    closers.push(() => b.stop());
    await until('the second member to rebuild both partitions and commit their batches', async () => stats(b).rebuilds >= PARTITIONS && (await committedAtEnd()));
    // Its ticker hands on the re-read signals its watermark passes (`old`, `soon`); the rest at its stop (hand-over).
    await until('the second member to hold only the `ahead` and `next` signals', () => stats(b).held === 2 * N * PARTITIONS);
    await b.stop();
    const sb = stats(b);

    const sent = new Map<string, number>();
    await bus.readToEnd([topics.events], (m) => {
      for (const json of eventJsons(m)) {
        const id = (JSON.parse(json.toString('utf8')) as SeamEvent).seam.id;
        sent.set(id, (sent.get(id) ?? 0) + 1);
      }
    });
    const twice = before.filter((id) => (sent.get(id) ?? 0) > 1);
    const missing = [...before, ...after].filter((id) => !sent.has(id));
    const kinds = (list: string[]): string => ['old', 'soon', 'ahead'].map((k) => `${k}=${list.filter((id) => id.startsWith(`${k}-`)).length}`).join(' ');
    process.stdout.write(
      `correlate graceful restart (kafka, ${PARTITIONS} partitions, ${before.length} signals before the stop, ${after.length} after): first member sent ${sa.events} (hand-over ${sa.handedOverEvents}); ` +
        `second member sent ${sb.events} (not resent ${sb.eventsNotResent}); sent twice ${twice.length} (${kinds(twice)}); missing ${missing.length}\n`,
    );
    // No event lost: every signal, before and after the restart, has its event on seam.events.
    expect(missing).toEqual([]);
    // None that went out before the stop goes out again; the second member sends only what came after.
    expect(twice).toEqual([]);
    expect(sb.eventsNotResent).toBe(before.length);
    expect(sb.events).toBe(after.length);
    for (const id of after) expect(sent.get(id)).toBe(1);
  });
});
