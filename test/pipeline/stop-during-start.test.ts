// A SIGTERM that comes while `seam run` and `seam collect` are still starting (loading rules, creating topics,
// joining groups) stops them gracefully with exit 0, as one that comes later does. Before, the listener was
// installed only once everything ran, so Node's default ended the process by the signal (exit=null to its
// parent, nothing on stderr): test/auth's good-credential run did so whenever its index role's members were
// still joining after the first member had indexed everything (issue 13).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPrefix } from '../helpers/opensearch-cleanup.ts';
import { kafkaBrokers, opensearchUrl, uniqueName } from '../helpers/services.ts';

const root = join(import.meta.dirname, '..', '..');
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Spawns `seam <args>` and sends SIGTERM as soon as its metrics listener is up (it starts before anything else). */
function termWhileStarting(args: string[], env: Record<string, string>): Promise<Ended> {
  const child = spawn(process.execPath, [join(root, 'bin/seam.mjs'), ...args, '--metrics-addr', '127.0.0.1:0'], {
    cwd: root,
    env: { ...process.env, SEAM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && /metrics and health on/.test(stderr)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

describe('SIGTERM while starting', () => {
  it('`seam run` (normalize, correlate, index): exits 0 by itself, not by the signal', async () => {
    const id = uniqueName('stopstart').replaceAll('-', '_');
    const client = new Client({ node: opensearchUrl() });
    cleanup.push(() => client.close());
    cleanup.push(() => dropPrefix(client, id));
    const r = await termWhileStarting(['run', '--rules', join(root, 'detections')], {
      SEAM_KAFKA_BROKERS: kafkaBrokers().join(','),
      SEAM_TOPIC_PREFIX: `${id}.`,
      SEAM_GROUP_PREFIX: `${id}-`,
      SEAM_OPENSEARCH_URL: opensearchUrl(),
      SEAM_INDEX_PREFIX: id,
    });
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null });
    expect(r.stderr).toMatch(/seam: SIGTERM before the roles started: stopped|"msg":"SIGTERM: stopping: finishing and committing/);
  });

  it('`seam collect`: exits 0 by itself, not by the signal', async () => {
    const id = uniqueName('stopstart');
    const dir = mkdtempSync(join(tmpdir(), 'seam-stopstart-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'seam.yml');
    writeFileSync(
      config,
      [`kafka: { brokers: ['${kafkaBrokers()[0]}'], topicPrefix: '${id}.', groupPrefix: '${id}-' }`, 'collect:', '  sources:', `    demo: { type: file, paths: ['${join(root, 'deploy/demo')}'], cluster: prod-eks-01 }`, ''].join('\n'),
    );
    const r = await termWhileStarting(['collect', '--config', config], {});
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null });
    expect(r.stderr).toMatch(/seam collect: SIGTERM(:| before the collectors started)/);
  });
});
