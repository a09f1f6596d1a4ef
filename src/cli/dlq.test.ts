import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `seam dlq list` without Kafka finds the dead letters the last command wrote, whether `seam replay` (seam-dlq.jsonl)
// or an embedded `seam run` (out/dlq.jsonl), and says which file it read (new-user review item 3).

const ROOT = resolve(import.meta.dirname, '../..');
const BAD = join(ROOT, 'test/fixtures/bad/malformed.jsonl');

function seam(args: string[], cwd: string): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, SEAM_CONFIG: '', SEAM_KAFKA_BROKERS: '', SEAM_OPENSEARCH_URL: '', SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: 'off' };
  delete env.SEAM_KAFKA_BROKERS;
  delete env.SEAM_CONFIG;
  return spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd, encoding: 'utf8', env });
}

describe('seam dlq list without Kafka', () => {
  it("reads what `seam replay` just wrote, the newer of the two default files when both exist, and says when there is none", () => {
    const cwd = mkdtempSync(join(tmpdir(), 'seam-dlq-cli-'));
    const none = seam(['dlq', 'list'], cwd);
    expect(none.status).toBe(0);
    expect(none.stdout).toContain("dlq: 0 dead letters: no dead-letter file here: neither seam run's out/dlq.jsonl nor seam replay's seam-dlq.jsonl");

    const replay = seam(['replay', BAD], cwd);
    expect(replay.status).toBe(0);
    const rejected = Number(/rejected=(\d+)/.exec(replay.stderr)?.[1]);
    expect(rejected).toBeGreaterThan(0);
    expect(replay.stderr).toContain('-> seam-dlq.jsonl');
    const list = seam(['dlq', 'list'], cwd);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(`dlq: ${rejected} dead letters in seam-dlq.jsonl (SEAM_ERR_INPUT_JSON=${rejected})`);

    // An older dead-letter file of an embedded run beside it: the replay's, the newer, is read, and the other named.
    mkdirSync(join(cwd, 'out'));
    const runLetter = { at: '2024-01-01T00:00:00.000Z', stage: 'normalize', code: 'SEAM_ERR_NORMALIZE_SCHEMA', reason: 'cloudtrail record: eventName is missing', raw: '{}', origin: 'demo:1' };
    writeFileSync(join(cwd, 'out/dlq.jsonl'), `${JSON.stringify(runLetter)}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(cwd, 'out/dlq.jsonl'), past, past);
    const both = seam(['dlq', 'list'], cwd);
    expect(both.stdout).toContain(`dlq: ${rejected} dead letters in seam-dlq.jsonl`);
    expect(both.stdout).toContain("out/dlq.jsonl (seam run's) is older: --file out/dlq.jsonl reads it");
    // The run's file once it is the newer; --state-dir and --file name one.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(cwd, 'out/dlq.jsonl'), later, later);
    const run = seam(['dlq', 'list'], cwd);
    expect(run.stdout).toContain('dlq: 1 dead letters in out/dlq.jsonl (SEAM_ERR_NORMALIZE_SCHEMA=1)');
    expect(run.stdout).toContain("seam-dlq.jsonl (seam replay's) is older: --file seam-dlq.jsonl reads it");
    expect(seam(['dlq', 'list', '--state-dir', 'out'], cwd).stdout).toMatch(/^dlq: 1 dead letters in out\/dlq\.jsonl \(SEAM_ERR_NORMALIZE_SCHEMA=1\)\n$/m);
    expect(seam(['dlq', 'list', '--file', 'seam-dlq.jsonl'], cwd).stdout).toContain(`dlq: ${rejected} dead letters in seam-dlq.jsonl`);
    // dlq replay reads the same default.
    const dry = seam(['dlq', 'replay', '--dry-run'], cwd);
    expect(dry.stdout).toContain('dlq replay: would re-run 1 of 1 dead letters from out/dlq.jsonl');
  });
});
