import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/load.ts';
import { settingOrigin } from './unreachable.ts';

// Review item 9: when Kafka or OpenSearch does not answer, the commands say where they looked, which setting gave
// that address, and what to do; a Kafka that does not answer has its own code (not a config error), and kafkajs
// says nothing more once the command has. Each case connects to a local port nothing listens on.

const ROOT = resolve(import.meta.dirname, '../..');

/** A local port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function seam(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; err: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_CACHE_DIR: 'off', SEAM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((r) => child.on('close', (status) => r({ status, err })));
}

const lastLine = (s: string): string => s.trimEnd().split('\n').at(-1) ?? '';

describe('Kafka or OpenSearch not answering', () => {
  it('seam run and seam collect: SEAM_ERR_BUS_CONNECT naming the brokers and where they came from, what to do, and nothing logged after it', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), 'seam-unreachable-'));
    const yml = join(dir, 'seam.yml');
    writeFileSync(yml, `kafka:\n  brokers: ['127.0.0.1:${port}']\ncollect:\n  sources:\n    demo: { type: file, paths: ['${join(ROOT, 'deploy/demo')}'] }\n`);
    const [run, collect] = await Promise.all([
      seam(['run', '--state-dir', join(dir, 'out')], { SEAM_KAFKA_BROKERS: `127.0.0.1:${port}` }),
      seam(['collect', '--config', yml]),
    ]);
    expect(run.status).toBe(1);
    expect(lastLine(run.err)).toMatch(new RegExp(`^seam: SEAM_ERR_BUS_CONNECT: cannot connect to Kafka 127\\.0\\.0\\.1:${port} \\(from SEAM_KAFKA_BROKERS\\): .*ECONNREFUSED.*npm run services:up`));
    expect(collect.status).toBe(1);
    expect(lastLine(collect.err)).toMatch(new RegExp(`^seam collect: SEAM_ERR_BUS_CONNECT: cannot connect to Kafka 127\\.0\\.0\\.1:${port} \\(from kafka\\.brokers in ${yml.replaceAll('.', '\\.')}\\): .*npm run services:up`));
    for (const r of [run, collect]) expect(r.err).not.toContain('SEAM_ERR_CONFIG_INVALID');
  });

  it('hunt, setup opensearch and report incident name the URL and where it came from (--url, SEAM_OPENSEARCH_URL, seam.yml), and what to do', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'seam-unreachable-os-'));
    const yml = join(dir, 'seam.yml');
    writeFileSync(yml, `opensearch:\n  nodeUrls: ['${url}']\n`);
    const [flag, variable, file, setup, report] = await Promise.all([
      seam(['hunt', '--rules', 'detections/kubernetes', '--url', url]),
      seam(['hunt', '--who', 'alice'], { SEAM_OPENSEARCH_URL: url }),
      seam(['hunt', '--rules', 'detections/kubernetes', '--config', yml]),
      seam(['setup', 'opensearch', '--config', yml]),
      seam(['report', 'incident', '--latest', '--from', 'opensearch', '--url', url]),
    ]);
    const said = (origin: string): RegExp => new RegExp(`SEAM_ERR_SINK_UNAVAILABLE: cannot reach OpenSearch at ${url.replaceAll('.', '\\.')} \\(from ${origin.replaceAll('.', '\\.')}\\): .*ECONNREFUSED.*npm run services:up.*--url, SEAM_OPENSEARCH_URL or opensearch\\.nodeUrls`);
    expect(lastLine(flag.err)).toMatch(said('--url'));
    expect(lastLine(flag.err)).toContain('docs/hunting.md');
    expect(lastLine(variable.err)).toMatch(said('SEAM_OPENSEARCH_URL'));
    expect(lastLine(file.err)).toMatch(said(`opensearch.nodeUrls in ${yml}`));
    expect(lastLine(setup.err)).toMatch(said(`opensearch.nodeUrls in ${yml}`));
    expect(lastLine(report.err)).toMatch(said('--url'));
    for (const r of [flag, variable, file, setup, report]) expect(r.status).toBe(1);
  });

  it('a setting nobody wrote is named as the default', () => {
    expect(settingOrigin(loadConfig(undefined, {}), 'opensearch.nodeUrls')).toBe('the default opensearch.nodeUrls');
  });
});
