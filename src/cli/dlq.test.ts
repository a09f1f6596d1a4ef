import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dlqMessage, REPLAY_OF_HEADER } from '../pipeline/roles/role.ts';
import { pipelineTopics } from '../pipeline/topics.ts';
import { type Entry, parseSince, selectForReplay } from './dlq.ts';

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
    // A --file or --state-dir that holds no dead-letter file: one line naming it and who writes one, exit 1.
    for (const args of [['--file', 'nothere.jsonl'], ['--state-dir', 'nodir']]) {
      const missing = seam(['dlq', 'list', ...args], cwd);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toBe(
        `seam: SEAM_ERR_INPUT_FILE: cannot read the dead-letter file ${args[0] === '--file' ? 'nothere.jsonl' : join('nodir', 'dlq.jsonl')}: it does not exist (seam replay writes seam-dlq.jsonl or its --dlq FILE, seam run <state-dir>/dlq.jsonl)\n`,
      );
    }
  });
});

// `dlq replay`'s selection (review-ops H1): a record goes back at most once per run, a failed replay is recognised by
// the header replay stamps (and the role copies into its new dead letter), and a second run does not send it again.
describe('dlq replay selection', () => {
  const T = 'p.seam.dlq';
  let off = 0;
  const letter = (code: string, at: string, headers: Record<string, string> = {}, partition = 0): Entry => ({
    dl: { at, stage: 'normalize', code, reason: 'r', retriable: false, raw: `raw-${off}` } as Entry['dl'],
    headers,
    self: { topic: T, partition, offset: String(off++) },
  });

  it('skips records replayed before, never sends a dead letter of a replay itself, and sends the rest once', () => {
    off = 0;
    const a = letter('SEAM_ERR_INPUT_JSON', '2026-12-05T10:00:00Z');
    const b = letter('SEAM_ERR_INPUT_UNKNOWN_FORMAT', '2026-12-05T10:00:01Z');
    // First run: both go, each stamped with its own coordinates.
    const first = selectForReplay([a, b]);
    expect(first.picks.map((p) => [p.entry.dl.raw, p.root])).toEqual([
      ['raw-0', `${T}/0/0`],
      ['raw-1', `${T}/0/1`],
    ]);
    // b's replay failed again: the role's new dead letter carries the header (dlqMessage copies the record's headers).
    const bAgain = dlqMessage(pipelineTopics('p.'), { ...b.dl, at: '2026-12-05T11:00:00Z' }, { topic: 'p.seam.raw.cloudtrail', partition: 0, offset: '9', key: null, value: Buffer.from(b.dl.raw), headers: { [REPLAY_OF_HEADER]: `${T}/0/1` } });
    expect(bAgain.headers?.[REPLAY_OF_HEADER]).toBe(`${T}/0/1`);
    const b2 = letter('SEAM_ERR_INPUT_UNKNOWN_FORMAT', '2026-12-05T11:00:00Z', bAgain.headers);
    // Second run (the review's sequence with --code): nothing for b, not twice.
    const second = selectForReplay([a, b, b2], { code: 'SEAM_ERR_INPUT_UNKNOWN_FORMAT' });
    expect(second.picks).toEqual([]);
    expect(second).toMatchObject({ alreadyReplayed: 1, replayCopies: 1, filteredOut: 1 });
    // --include-replayed: b once more, with its first dead letter's bytes and coordinates; never the copy as well.
    const again = selectForReplay([a, b, b2], { code: 'SEAM_ERR_INPUT_UNKNOWN_FORMAT', includeReplayed: true });
    expect(again.picks.map((p) => [p.entry.dl.raw, p.root])).toEqual([['raw-1', `${T}/0/1`]]);
    // Retention took b's first dead letter: the copy stands for it, under the first's coordinates.
    const kept = selectForReplay([b2], { includeReplayed: true });
    expect(kept.picks.map((p) => [p.entry.dl.raw, p.root])).toEqual([['raw-2', `${T}/0/1`]]);
    // --code looks at the latest failure: a record that now fails with another code is that code's.
    const fixedHalf = letter('SEAM_ERR_NORMALIZE_SCHEMA', '2026-12-05T12:00:00Z', { [REPLAY_OF_HEADER]: `${T}/0/0` });
    expect(selectForReplay([a, fixedHalf], { code: 'SEAM_ERR_INPUT_JSON', includeReplayed: true }).picks).toEqual([]);
    expect(selectForReplay([a, fixedHalf], { code: 'SEAM_ERR_NORMALIZE_SCHEMA', includeReplayed: true }).picks.map((p) => p.entry.dl.raw)).toEqual(['raw-0']);
  });

  it('--since and --from-offset select by the latest dead letter; file entries (no coordinates) each stand alone', () => {
    off = 0;
    const old = letter('SEAM_ERR_INPUT_JSON', '2026-12-04T10:00:00Z');
    const recent = letter('SEAM_ERR_INPUT_JSON', '2026-12-05T10:00:00Z');
    const other = letter('SEAM_ERR_INPUT_JSON', '2026-12-05T10:00:00Z', {}, 1);
    const since = parseSince('2026-12-05T00:00:00Z');
    expect(selectForReplay([old, recent], { since }).picks.map((p) => p.entry.dl.raw)).toEqual(['raw-1']);
    expect(selectForReplay([old, recent, other], { fromOffset: 1 }).picks.map((p) => p.entry.dl.raw)).toEqual(['raw-1', 'raw-2']);
    expect(parseSince('12h', Date.parse('2026-12-05T12:00:00Z'))).toBe(Date.parse('2026-12-05T00:00:00Z'));
    expect(() => parseSince('yesterday')).toThrow(/not an ISO time nor a duration/);
    const file: Entry[] = [0, 1].map((i) => ({ dl: { at: '2026-12-05T10:00:00Z', stage: 'normalize', code: 'X', reason: 'r', retriable: false, raw: `f${i}` } as Entry['dl'], headers: {} }));
    expect(selectForReplay(file).picks.map((p) => [p.entry.dl.raw, p.root])).toEqual([
      ['f0', undefined],
      ['f1', undefined],
    ]);
  });
});

// `dlq replay` re-runs dead letters with the site's placeholder values, as run, replay and hunt load them
// (review-soc follow-up): --placeholders FILE, else seam.yml's rules.placeholdersFile with rules.placeholders over it.
describe('seam dlq replay (embedded) with the site placeholders', () => {
  it('applies --placeholders and seam.yml rules.placeholdersFile to the rules it re-runs, and says when they are unset', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'seam-dlq-ph-'));
    mkdirSync(join(cwd, 'rules'));
    // A rule that fires only on the users its placeholder lists: unset, the list matches nothing.
    writeFileSync(
      join(cwd, 'rules/watched_user_lists_pods.yml'),
      [
        'title: Watched User Lists Pods',
        'id: 0b6f5a52-7f7e-4f0e-9c1e-2d3a4b5c6d7e',
        'status: experimental',
        'description: A user on the watch list listed pods.',
        'logsource:',
        '  product: kubernetes',
        '  service: audit',
        'detection:',
        '  selection:',
        '    verb: list',
        '    objectRef.resource: pods',
        "    user.username|expand: '%test_dlq_watched%'",
        '  condition: selection',
        'level: low',
        '',
      ].join('\n'),
    );
    const raw = readFileSync(join(ROOT, 'test/fixtures/k8s-audit/eks-audit.jsonl'), 'utf8').split('\n')[0]!;
    const letter = { at: '2026-12-05T10:00:00.000Z', stage: 'normalize', code: 'SEAM_ERR_NORMALIZE_SCHEMA', reason: 'fixed since', retriable: false, raw, origin: 'eks-audit.jsonl:1' };
    writeFileSync(join(cwd, 'dlq.jsonl'), `${JSON.stringify(letter)}\n`);
    writeFileSync(join(cwd, 'placeholders.yml'), 'test_dlq_watched:\n  - arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com\n');
    mkdirSync(join(cwd, 'site'));
    writeFileSync(join(cwd, 'site/placeholders.yml'), readFileSync(join(cwd, 'placeholders.yml')));
    writeFileSync(join(cwd, 'site/seam.yml'), 'rules:\n  placeholdersFile: placeholders.yml\n');
    const replay = (extra: string[]): SpawnSyncReturns<string> => seam(['dlq', 'replay', '--file', 'dlq.jsonl', '--state-dir', 'st', '--rules', 'rules', ...extra], cwd);

    const unset = replay([]);
    expect(unset.status).toBe(0);
    expect(unset.stdout).toContain('normalized=1 still rejected=0 alerts=0');
    expect(unset.stderr).toContain('SEAM_ERR_RULE_PLACEHOLDER');
    expect(unset.stderr).toContain('%test_dlq_watched%');

    const flag = replay(['--placeholders', 'placeholders.yml']);
    expect(flag.status).toBe(0);
    expect(flag.stdout).toContain('normalized=1 still rejected=0 alerts=1');
    expect(flag.stderr).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');

    const config = replay(['--config', 'site/seam.yml']);
    expect(config.status).toBe(0);
    expect(config.stdout).toContain('normalized=1 still rejected=0 alerts=1');

    // A file that cannot be read stops the command, naming it, before anything runs.
    const missing = replay(['--placeholders', 'nope.yml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read placeholders file nope.yml');
  });
});

describe('seam dlq replay (embedded) attributes records as the live path does', () => {
  it("gives a replayed audit record its file source's cluster and account, or seam.yml's cluster and that cluster's identity.clusters account", () => {
    const cwd = mkdtempSync(join(tmpdir(), 'seam-dlq-attr-'));
    // Two exec requests whose records name no account (no IAM ARN in user.extra) and no cluster.
    const [first, , second] = readFileSync(join(ROOT, 'test/data/review-de/audit-stages/events.jsonl'), 'utf8').split('\n');
    mkdirSync(join(cwd, 'staging'));
    writeFileSync(join(cwd, 'staging/audit.jsonl'), `${first}\n`);
    writeFileSync(
      join(cwd, 'seam.yml'),
      [
        'cluster: prod',
        'identity:',
        '  clusters:',
        '    - name: prod',
        "      account: '111122223333'",
        'collect:',
        '  sources:',
        '    staging-export:',
        '      type: file',
        '      paths: [staging]',
        '      cluster: staging',
        "      account: '444455556666'",
        '',
      ].join('\n'),
    );
    const letter = (raw: string, origin: string): string => JSON.stringify({ at: '2026-12-05T10:00:00.000Z', stage: 'normalize', code: 'SEAM_ERR_NORMALIZE_SCHEMA', reason: 'fixed since', retriable: false, raw, origin, collector: 'file' });
    writeFileSync(join(cwd, 'dlq.jsonl'), `${letter(first!, 'staging/audit.jsonl:1')}\n${letter(second!, 'elsewhere.jsonl:3')}\n`);
    const attribution = (file: string): Record<string, { cluster?: string; account?: string }> =>
      Object.fromEntries(
        readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { seam: { id: string; cluster?: string; account?: string } })
          .map((e) => [e.seam.id, { cluster: e.seam.cluster, account: e.seam.account }]),
      );

    // The live path: seam run reads the file source with its cluster and account.
    const rules = join(ROOT, 'test/data/review-de/audit-stages');
    const live = seam(['run', '--config', 'seam.yml', '--state-dir', 'live', '--rules', rules], cwd);
    expect(live.status, live.stderr).toBe(0);
    expect(attribution(join(cwd, 'live/events.jsonl'))).toEqual({ 'aud-0001:ResponseStarted': { cluster: 'staging', account: '444455556666' } });

    const replay = seam(['dlq', 'replay', '--config', 'seam.yml', '--file', 'dlq.jsonl', '--state-dir', 'st', '--rules', rules], cwd);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain('normalized=2 still rejected=0');
    // Before: both without cluster or account (the dead letter keeps only its origin).
    expect(attribution(join(cwd, 'st/dlq-replay/events.jsonl'))).toEqual({
      'aud-0001:ResponseStarted': { cluster: 'staging', account: '444455556666' },
      'aud-0002:ResponseStarted': { cluster: 'prod', account: '111122223333' },
    });
  });
});
