// An existing topic whose partition count is not the configured one (review-ops L4) on the real broker: a raw topic
// made with 2 partitions before `seam run --role normalize` starts with kafka.partitions.raw: 4. The role leaves the
// topic as it is and says so once at start, at WARN, naming the topic and both counts; the raw topics it creates
// itself get the configured 4 and no warning.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName } from './helpers/services.ts';

const root = join(import.meta.dirname, '..');
const id = uniqueName('drift');
const drifted = `${id}.seam.raw.cloudtrail`;
const fresh = `${id}.seam.raw.k8s_audit`;
const admin = new Kafka({ clientId: 'seam-test-drift', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
let dir: string;

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: drifted, numPartitions: 2, replicationFactor: 1 }] });
  dir = mkdtempSync(join(tmpdir(), 'seam-drift-'));
});

afterAll(async () => {
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${id}.`));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `seam run --role normalize` until it says it runs, then SIGTERM; its stderr (JSON log lines). */
function runUntilStarted(config: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin/seam.mjs'), 'run', '--role', 'normalize', '--config', config, '--rules', join(root, 'detections'), '--metrics-addr', '127.0.0.1:0'], {
    cwd: root,
    env: { ...process.env, SEAM_LOG_FORMAT: 'json', SEAM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && /"msg":"running normalize on Kafka/.test(stderr)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('an existing topic with another partition count than kafka.partitions', () => {
  it('is left as it is and named once at WARN with both counts; a topic the role creates gets kafka.partitions.raw', async () => {
    const config = join(dir, 'seam.yml');
    writeFileSync(config, `kafka: { brokers: ['${kafkaBrokers()[0]}'], topicPrefix: '${id}.', groupPrefix: '${id}-', partitions: { raw: 4 } }\n`);
    const r = await runUntilStarted(config);
    expect(r.code, r.stderr).toBe(0);

    const lines = r.stderr.split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as { level: number; component?: string; topic?: string; partitions?: number; configured?: number; msg: string }];
      } catch {
        return [];
      }
    });
    const drift = lines.filter((l) => l.level === 40 && l.configured !== undefined);
    expect(drift.map((l) => ({ component: l.component, topic: l.topic, partitions: l.partitions, configured: l.configured }))).toEqual([{ component: 'bus.kafka', topic: drifted, partitions: 2, configured: 4 }]);
    expect(drift[0]!.msg).toBe(
      `Topic ${drifted} exists with 2 partitions, not the 4 configured: existing topics are left as they are (kafka.partitions in seam.yml; to change it, add partitions with kafka-topics --alter, or recreate the topic).`,
    );

    const meta = await admin.fetchTopicMetadata({ topics: [drifted, fresh] });
    expect(Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]))).toEqual({ [drifted]: 2, [fresh]: 4 });
  });
});
