// kafka.topicPrefix covers every topic `seam collect` writes (issue 13): raw records, and also the collectors'
// checkpoints and lease heartbeats (<prefix>seam.checkpoints, <prefix>seam.collect.leases), which until then went
// to the unprefixed names whatever the prefix. A real `seam collect` on the local Kafka reads a CloudWatch Logs
// group on moto with lease ownership, and is stopped with SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaBus } from '../src/bus/kafka.ts';
import { auditEvent, createStreams, put } from './collectors/helpers.ts';
import { awsClientConfig, kafkaBrokers, uniqueName } from './helpers/services.ts';

const root = join(import.meta.dirname, '..');
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

describe('seam collect with kafka.topicPrefix', () => {
  it('writes raw records, checkpoints and lease heartbeats to prefixed topics', async () => {
    const id = uniqueName('collectprefix');
    const prefix = `${id}.`;
    const group = `/aws/eks/${id}/cluster`;
    await createStreams(group, ['kube-apiserver-audit-a']);
    const now = Date.now();
    await put(group, 'kube-apiserver-audit-a', Array.from({ length: 5 }, (_, i) => ({ timestamp: now - 60_000 + i, message: auditEvent(id, 'a', i, now - 60_000 + i) })));

    const dir = mkdtempSync(join(tmpdir(), 'seam-collectprefix-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const aws = awsClientConfig();
    const config = join(dir, 'seam.yml');
    writeFileSync(
      config,
      [
        `kafka: { brokers: ['${kafkaBrokers()[0]}'], topicPrefix: '${prefix}', groupPrefix: '${id}-', replicationFactor: 1 }`,
        'collect:',
        '  sources:',
        '    audit:',
        `      type: cloudwatch-logs`,
        `      name: ${id}`,
        `      endpoint: '${aws.endpoint}'`,
        `      region: ${aws.region}`,
        `      logGroups: [{ logGroupName: '${group}' }]`,
        '      pollIntervalMs: 500',
        '      ownership: { replicaId: r0, lease: { ttlMs: 4000, heartbeatMs: 1000 } }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [join(root, 'bin/seam.mjs'), 'collect', '--config', config], {
      cwd: root,
      env: { ...process.env, SEAM_LOG_LEVEL: 'warn', AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: `${id}-test` });
    cleanup.push(() => bus.close());
    const admin = await bus.admin();
    // A topic just created may answer NOT_LEADER for a moment: counted as 0, asked again.
    const records = async (topic: string): Promise<number> => {
      if (!(await admin.listTopics()).includes(topic)) return 0;
      return (await admin.fetchTopicOffsets(topic).catch(() => [])).reduce((n, p) => n + Number(p.high), 0);
    };
    const want = { raw: `${prefix}seam.raw.k8s_audit`, checkpoints: `${prefix}seam.checkpoints`, leases: `${prefix}seam.collect.leases` };
    const counts = { raw: 0, checkpoints: 0, leases: 0 };
    // Wait for the condition itself (all three topics written), bounded generously: on the loaded 2-core CI, `seam
    // collect` starting (tsx, the AWS SDK, kafkajs, the lease) and its first poll can take most of the old 60 s. The
    // bound only catches a hang (the test's own timeout is 300 s), and says what was awaited and what it saw.
    const done = (): boolean => counts.raw >= 5 && counts.checkpoints > 0 && counts.leases > 0;
    const deadline = Date.now() + 200_000;
    while (Date.now() < deadline && child.exitCode === null) {
      for (const k of ['raw', 'checkpoints', 'leases'] as const) counts[k] = await records(want[k]);
      if (done()) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const waited = done()
      ? ''
      : `waited ${child.exitCode === null ? '200 s' : `until seam collect exited (${child.exitCode})`} for >= 5 raw records, a checkpoint and a lease heartbeat on ${JSON.stringify(want)}; saw ${JSON.stringify(counts)}`;
    child.kill('SIGTERM');
    expect(await exited, stderr).toEqual({ code: 0, signal: null });
    // Raw records of the 5 events (transactional: the commit markers count in the high watermark too).
    expect(counts.raw, `${waited} ${JSON.stringify(counts)} ${stderr}`).toBeGreaterThanOrEqual(5);
    expect(counts.checkpoints, `${waited} ${stderr}`).toBeGreaterThan(0);
    expect(counts.leases, `${waited} ${stderr}`).toBeGreaterThan(0);
  });
});
