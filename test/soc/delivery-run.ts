/**
 * The delivery figures of `npm run test:soc`: the real delivery path, end to end. The demo's alerts (and a
 * batch of distinct synthetic ones, so sends are in flight when the crash comes) go onto a unique `seam.alerts`
 * topic on the real local Kafka; a real `seam run --role deliver` process reads them in its consumer group and
 * POSTs signed webhooks to a real local HTTP receiver (test/helpers/http-receiver.ts) that answers every 9th
 * request with an injected 500. The process is killed with SIGKILL mid-stream and restarted. Counted from what
 * the receiver accepted: deliveries (2xx answers), lost (alerts never accepted), duplicated (accepted more than
 * once: the at-least-once price of the crash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { testAlert } from '../helpers/alerts.ts';
import { startReceiver } from '../helpers/http-receiver.ts';
import { ROOT } from './incident-pages.ts';

const SECRET = 'soc-delivery-secret';

export interface DeliveryRun {
  alerts: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  injected500: number;
  badSignatures: number;
  firstProcess: number;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function seamDeliver(config: string, brokers: string[], prefix: string, groupPrefix: string): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--role', 'deliver', '--delivery', config], {
    cwd: ROOT,
    env: { ...process.env, SEAM_KAFKA_BROKERS: brokers.join(','), SEAM_TOPIC_PREFIX: prefix, SEAM_GROUP_PREFIX: groupPrefix, SEAM_LOG_LEVEL: 'warn', SEAM_SOC_HOOK_SECRET: SECRET },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

export async function runDelivery(brokers: string[], demoAlerts: readonly Alert[], synthetic = 120): Promise<DeliveryRun> {
  const rx = await startReceiver({ secret: SECRET, delayMs: 15, behaviour: (n) => (n % 9 === 0 ? 500 : 200) });
  const id = `soc${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const prefix = `${id}.`;
  const groupPrefix = `${id}-`;
  const topics = pipelineTopics(prefix);
  const bus = new KafkaBus({ brokers, clientId: 'seam-test-soc-deliver' });
  const running: ChildProcess[] = [];
  try {
    await bus.createTopics([{ topic: topics.alerts, partitions: 3 }, { topic: topics.dlq, partitions: 1 }]);
    const dir = mkdtempSync(join(tmpdir(), 'seam-soc-deliver-'));
    const config = join(dir, 'delivery.yml');
    writeFileSync(
      config,
      [
        'outputs:',
        '  soc:',
        '    type: webhook',
        `    url: ${rx.url}`,
        '    secret: { env: SEAM_SOC_HOOK_SECRET }',
        '    retry: { maxAttempts: 6, initialBackoffMs: 50, maxBackoffMs: 500, timeoutMs: 2000 }',
        'routes:',
        '  - { name: everything, outputs: [soc], minLevel: informational }',
        'throttle: { windowMs: 0 }',
      ].join('\n'),
    );
    const alerts: Alert[] = [...demoAlerts, ...Array.from({ length: synthetic }, (_, i) => testAlert({ n: i + 1, ruleId: `soc-r-${i + 1}` }))];
    const producer = await bus.producer();
    const half = Math.floor(alerts.length / 2);
    await producer.send(alerts.slice(0, half).map((a) => ({ topic: topics.alerts, key: a.rule.id, value: Buffer.from(JSON.stringify(a)) })));
    const accepted = (): typeof rx.requests => rx.requests.filter((r) => r.status === 200);

    const first = seamDeliver(config, brokers, prefix, groupPrefix);
    running.push(first.child);
    await until(() => accepted().length >= 40, 90_000, 'the first deliver process to deliver 40 notifications');
    first.child.kill('SIGKILL');
    await first.exited;
    const firstProcess = accepted().length;

    await producer.send(alerts.slice(half).map((a) => ({ topic: topics.alerts, key: a.rule.id, value: Buffer.from(JSON.stringify(a)) })));
    await producer.close();
    const second = seamDeliver(config, brokers, prefix, groupPrefix);
    running.push(second.child);
    const distinct = (): Set<string> => new Set(accepted().map((r) => String(r.headers['x-seam-delivery'])));
    await until(() => distinct().size >= alerts.length, 120_000, `all ${alerts.length} notifications (have ${distinct().size})`);
    const admin = await bus.admin();
    await until(
      async () => {
        const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topics.alerts), admin.fetchOffsets({ groupId: `${groupPrefix}seam-deliver`, topics: [topics.alerts] })]);
        return ends.every((e) => committed[0]!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
      },
      60_000,
      'the deliver group to commit everything',
    );
    second.child.kill('SIGTERM');
    const code = await second.exited;
    if (code !== 0) throw new Error(`seam run --role deliver exited ${code} on SIGTERM: ${second.stderr().slice(-1000)}`);
    const ids = distinct();
    const ok = accepted();
    return {
      alerts: alerts.length,
      deliveries: ok.length,
      lost: alerts.filter((a) => !ids.has(a.id)).length,
      duplicated: ok.length - ids.size,
      injected500: rx.requests.filter((r) => r.status === 500).length,
      badSignatures: rx.requests.filter((r) => !r.signatureOk).length,
      firstProcess,
    };
  } finally {
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rx.close();
    try {
      await (await bus.admin()).deleteTopics({ topics: [topics.alerts, topics.dlq] });
    } catch {
      // Best effort: unique names never collide with the next run.
    }
    await bus.close();
  }
}
