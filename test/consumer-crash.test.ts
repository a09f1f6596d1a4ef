// A consumer kafkajs gives up on (CRASH with restart: false) must not leave a live process that consumes nothing
// (review-ops M4): the bus says so (crashedForGood), and `seam run` logs the cause at ERROR and exits with status 1.
// The non-retriable errors are real ones: a group whose members speak another assignment protocol
// (INCONSISTENT_GROUP_PROTOCOL, what a group-ACL denial also is to kafkajs: not retried), and a handler that
// throws an error kafkajs does not retry (a TypeError).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
// kafka.ts before kafkajs: it patches kafkajs as it loads.
import { KafkaBus } from '../src/bus/kafka.ts';
import { PartitionAssigners, type PartitionAssigner } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineTopics, topicPlan } from '../src/pipeline/topics.ts';
import { kafkaBrokers, uniqueName } from './helpers/services.ts';

const root = join(import.meta.dirname, '..');

/** kafkajs's round-robin assignment under another protocol name: a group of these refuses a Seam consumer. */
const otherProtocol: PartitionAssigner = (config) => {
  const rr = PartitionAssigners.roundRobin(config);
  return { ...rr, name: 'SeamTestOther', protocol: (subscription) => ({ ...rr.protocol(subscription), name: 'SeamTestOther' }) };
};

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

describe('a consumer that crashes for good', () => {
  it('`seam run --role normalize` whose group refuses it (INCONSISTENT_GROUP_PROTOCOL): ERROR line with the cause, exit 1', async () => {
    const id = uniqueName('crash');
    const topics = pipelineTopics(`${id}.`);
    const groupPrefix = `${id}-`;
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: `${id}-test` });
    cleanup.push(() => bus.close());
    await bus.createTopics(topicPlan(topics, { raw: 1, events: 1, signals: 1, alerts: 1, dlq: 1 }));
    cleanup.push(async () => (await bus.admin()).deleteTopics({ topics: topicPlan(topics).map((t) => t.topic) }));

    // The normalize role's group, already held by a member of another protocol.
    const squatter = bus.kafka.consumer({ groupId: `${groupPrefix}seam-normalize`, partitionAssigners: [otherProtocol] });
    cleanup.push(() => squatter.disconnect());
    const joined = new Promise<void>((resolve) => squatter.on(squatter.events.GROUP_JOIN, () => resolve()));
    await squatter.connect();
    await squatter.subscribe({ topics: [topics.raw('k8s_audit')] });
    await squatter.run({ eachMessage: async () => undefined });
    await joined;

    const t0 = Date.now();
    const { SEAM_CONFIG: _config, ...env } = process.env;
    const child = spawn(process.execPath, [join(root, 'bin/seam.mjs'), 'run', '--role', 'normalize', '--rules', join(root, 'detections'), '--metrics-addr', '127.0.0.1:0'], {
      cwd: root,
      env: { ...env, SEAM_KAFKA_BROKERS: kafkaBrokers().join(','), SEAM_TOPIC_PREFIX: `${id}.`, SEAM_GROUP_PREFIX: groupPrefix, SEAM_LOG_LEVEL: 'warn', SEAM_KAFKAJS_LOG_LEVEL: 'nothing' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // The exit is what is awaited; the deadline only bounds a process that never exits (the bug this test is about),
    // and is far above any shutdown time: how fast it exits is not asserted (a loaded CI machine took >10 s).
    const EXIT_DEADLINE_MS = 180_000;
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`seam run did not exit within ${EXIT_DEADLINE_MS} ms of its start (a consumer that crashed for good must end the process); its stderr so far:\n${err}`)), EXIT_DEADLINE_MS);
      child.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    const exitedAt = Date.now();
    expect(code, err).toBe(1);
    const errors = err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; time: number; msg: string; component?: string; groupId?: string; error?: { message?: string; type?: string } })
      .filter((l) => l.level === 50);
    // The bus's line (which consumer, why) and run's line (what it does about it), both at ERROR with the cause.
    const bySource = errors.find((l) => l.component === 'bus.kafka');
    const byRun = errors.find((l) => l.component === 'run');
    // How long it took is printed, not asserted (speed is bench/'s): a measurement, not a verdict.
    process.stdout.write(`consumer-crash: seam run exited ${code} ${exitedAt - t0} ms after its start, ${exitedAt - (bySource?.time ?? NaN)} ms after the crash\n`);
    expect(bySource, err).toBeDefined();
    expect(bySource?.groupId).toBe(`${groupPrefix}seam-normalize`);
    expect(JSON.stringify(bySource?.error)).toMatch(/protocol/i);
    expect(byRun?.msg, err).toMatch(/stopped for good.*exiting with status 1/);
    // The exit follows from the crash: run's line comes after the bus's, not on some other path.
    expect(byRun!.time).toBeGreaterThanOrEqual(bySource!.time);
  });

  it('the bus: a handler error kafkajs does not retry (TypeError) resolves crashedForGood with the group and the error; a stop does not', async () => {
    const id = uniqueName('crash-bus');
    const topic = `${id}.t`;
    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: `${id}-test` });
    cleanup.push(() => bus.close());
    await bus.createTopics([{ topic, partitions: 1 }]);
    cleanup.push(async () => (await bus.admin()).deleteTopics({ topics: [topic] }));
    const producer = await bus.producer();
    await producer.send([{ topic, key: 'k', value: Buffer.from('x') }]);
    await producer.close();

    // A consumer that is stopped (restart: false too) is not a crash for good.
    let crashed: unknown;
    void bus.crashedForGood.then((c) => (crashed = c));
    const quiet = await bus.consumer({ groupId: `${id}-quiet`, topics: [topic], fromBeginning: true, handle: async () => undefined });
    await quiet.run();
    await quiet.stop();

    const c = await bus.consumer({
      groupId: `${id}-g`,
      topics: [topic],
      fromBeginning: true,
      handle: async () => {
        throw new TypeError('a bug in the handler');
      },
    });
    await c.run();
    // Awaited: crashedForGood itself. The deadline only bounds a hang (a crash never reported), far above kafkajs's
    // own retries of the failed batch on a loaded machine.
    const CRASH_DEADLINE_MS = 180_000;
    const crash = await Promise.race([bus.crashedForGood, new Promise<undefined>((r) => setTimeout(() => r(undefined), CRASH_DEADLINE_MS).unref())]);
    expect(crash, `bus.crashedForGood did not resolve within ${CRASH_DEADLINE_MS} ms of a handler throwing a TypeError (group ${id}-g; members: ${JSON.stringify(bus.consumerMembers())})`).toBeDefined();
    expect(crash?.groupId).toBe(`${id}-g`);
    expect(crash?.topics).toEqual([topic]);
    expect(String(crash?.error.message)).toMatch(/a bug in the handler/);
    expect(crashed).toEqual(crash);
    // Not ready either: the member is not joined any more.
    expect(bus.consumerMembers().find((m) => m.groupId === `${id}-g`)?.joined).toBe(false);
    await c.stop();
  });
});
