import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuntimeEvent } from '../core/schemas/runtime.ts';

const SEAM = join(import.meta.dirname, '../../bin/seam.mjs');
const ENV = { ...process.env, SEAM_POD_NAMESPACE: 'shop', SEAM_POD_NAME: 'checkout-1', SEAM_LOG_LEVEL: 'warn' };

describe('seam sensor (the CLI, as a user runs it)', () => {
  it('writes seam.runtime/v1 NDJSON with --stdout, stops on SIGTERM and prints its counters', async () => {
    const child = spawn(process.execPath, [SEAM, 'sensor', '--stdout', '--interval-ms', '100'], { env: ENV });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    for (let i = 0; i < 200 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(RuntimeEvent.safeParse(e).success).toBe(true);
    expect(events[0]).toMatchObject({ namespace: 'shop', pod: 'checkout-1', sensor: { name: 'seam-sensor' } });
    expect(err).toMatch(/^sensor: scans=\d+ processes=\d+ .* unseen_pids=\d+/m);
  }, 30_000);

  it('refuses to start without the pod identity, saying which variables to set', () => {
    const r = spawnSync(process.execPath, [SEAM, 'sensor', '--stdout'], { env: { ...process.env, SEAM_POD_NAMESPACE: '', SEAM_POD_NAME: '' }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/SEAM_POD_NAMESPACE/);
  }, 30_000);

  it('--config reads seam.yml\'s sensor section, and a wrong field there stops it with the file position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'seam-sensor-cli-'));
    try {
      const file = join(dir, 'seam.yml');
      writeFileSync(file, 'sensor:\n  intervalMs: 5\n');
      const r = spawnSync(process.execPath, [SEAM, 'sensor', '--stdout', '--config', file], { env: ENV, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`seam sensor: ${file}:2:15: sensor.intervalMs:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('--probe prints what it may read of a process', () => {
    const r = spawnSync(process.execPath, [SEAM, 'sensor', '--probe', String(process.pid)], { env: ENV, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${process.pid} stat=ok status=ok cmdline=ok .*fd/0=ok`));
  }, 30_000);
});
