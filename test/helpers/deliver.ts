// A real `seam run --role deliver` process against the local Kafka, for the delivery tests that kill and restart
// it (test/delivery/kafka-redelivery.test.ts, test/soc/delivery-run.ts): its webhook delivery config, the alerts
// it reads, the process itself, and the wait for its consumer group to commit everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaBus } from '../../src/bus/kafka.ts';
import type { BusMessage } from '../../src/bus/types.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { defaultGroupId } from '../../src/pipeline/roles/role.ts';

const ROOT = join(import.meta.dirname, '../..');

/** Polls `cond` until it holds; after `timeoutMs` (a bound on a hang, not a speed limit) throws naming what was awaited, and, when `what` is a function, what was seen at the last poll. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A delivery config file (in a fresh temp folder) sending every alert, unthrottled, to one signed webhook; the secret is read from `secretEnv`. */
export function webhookDeliveryConfig(o: { url: string; secretEnv: string; maxAttempts: number }): string {
  const config = join(mkdtempSync(join(tmpdir(), 'seam-deliver-')), 'delivery.yml');
  writeFileSync(
    config,
    [
      'outputs:',
      '  soc:',
      '    type: webhook',
      `    url: ${o.url}`,
      `    secret: { env: ${o.secretEnv} }`,
      // A per-attempt timeout a loaded machine cannot reach by accident: these receivers always answer, and an attempt
      // timed out after the answer is sent again (the first POST of a process loads undici: 0.7-2.2 s at load 10-18),
      // which kafka-redelivery.test counts as a second notification of the early alert.
      `    retry: { maxAttempts: ${o.maxAttempts}, initialBackoffMs: 50, maxBackoffMs: 500, timeoutMs: 60000 }`,
      'routes:',
      '  - { name: everything, outputs: [soc], minLevel: informational }',
      'throttle: { windowMs: 0 }',
    ].join('\n'),
  );
  return config;
}

/** Alerts as the correlate role puts them on `seam.alerts` (keyed by rule id). */
export function alertMessages(topic: string, alerts: readonly Alert[]): BusMessage[] {
  return alerts.map((a) => ({ topic, key: a.rule.id, value: Buffer.from(JSON.stringify(a)) }));
}

export interface DeliverProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Starts `seam run --role deliver --delivery <config>` on `brokers` with topic and group prefixes; `env` adds the secret. */
export function seamDeliver(o: { config: string; brokers: readonly string[]; prefix: string; groupPrefix: string; env: Record<string, string> }): DeliverProcess {
  const child = spawn(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--role', 'deliver', '--delivery', o.config], {
    cwd: ROOT,
    env: { ...process.env, SEAM_KAFKA_BROKERS: o.brokers.join(','), SEAM_TOPIC_PREFIX: o.prefix, SEAM_GROUP_PREFIX: o.groupPrefix, SEAM_LOG_LEVEL: 'warn', ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

/**
 * Waits until the deliver group has committed every partition of the alerts topic to its end. A partition that holds
 * no record (its high watermark is its log start) has nothing to read and never reaches a handler: no member commits
 * it, and the group's offset there stays unset (-1), which counts as at its end. Every partition with records must
 * be committed exactly to its high watermark.
 */
export async function deliverGroupCaughtUp(bus: KafkaBus, groupPrefix: string, alertsTopic: string, timeoutMs = 60_000): Promise<void> {
  const admin = await bus.admin();
  const groupId = defaultGroupId('deliver', groupPrefix);
  await until(
    async () => {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(alertsTopic), admin.fetchOffsets({ groupId, topics: [alertsTopic] })]);
      return ends.every((e) => {
        const at = committed[0]!.partitions.find((p) => p.partition === e.partition)?.offset;
        return at === e.high || (e.high === e.low && (at === undefined || BigInt(at) < 0n));
      });
    },
    timeoutMs,
    'the deliver group to commit everything',
  );
}
