import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';
import { createDetector } from '../detector.ts';
import { normalizeRecord } from '../../core/normalize/normalize.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { formatDiagnostic, loadRules, ruleFilesUnder, throwIfEmpty } from './ruleset.ts';

// Rules as users keep them (issue 12, item 6): several paths, symlinked folders followed, and a path that yields
// no rule is an error, not a quiet run with fewer rules than the user thinks.

const ROOT = resolve(import.meta.dirname, '../../..');

const rule = (id: string, name: string): string => `title: ${name}
id: ${id}
status: test
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: ${name}
    condition: selection
level: low
`;

function packs(): { base: string; a: string; b: string; tests: string; empty: string } {
  const base = mkdtempSync(join(tmpdir(), 'seam-rule-paths-'));
  const a = join(base, 'a');
  const b = join(base, 'b');
  const tests = join(base, 'tests-only');
  const empty = join(base, 'empty');
  for (const d of [a, join(b, 'nested'), tests, empty]) mkdirSync(d, { recursive: true });
  writeFileSync(join(a, 'one.yml'), rule('11111111-1111-4111-8111-111111111111', 'StopLogging'));
  writeFileSync(join(b, 'nested', 'two.yaml'), rule('22222222-2222-4222-8222-222222222222', 'DeleteTrail'));
  writeFileSync(join(tests, 'one.test.yml'), 'cases: []\n');
  writeFileSync(join(tests, '.hidden.yml'), rule('33333333-3333-4333-8333-333333333333', 'X'));
  return { base, a, b, tests, empty };
}

describe('rule paths', () => {
  it('several paths load together', async () => {
    const p = packs();
    const r = await loadRules([p.a, p.b]);
    expect(r.ruleset.rules.map((x) => x.title).sort()).toEqual(['DeleteTrail', 'StopLogging']);
    expect(r.emptyPaths).toBeUndefined();
    expect(() => throwIfEmpty(r)).not.toThrow();
  });

  it('follows a symlinked folder inside a rules folder, reads a file reached twice once, and survives a link loop', async () => {
    const p = packs();
    const linked = join(p.base, 'linked');
    mkdirSync(linked);
    symlinkSync(p.b, join(linked, 'vendor-pack'));
    symlinkSync(join(p.a, 'one.yml'), join(linked, 'one-again.yml'));
    symlinkSync(p.a, join(p.a, 'loop'));
    const r = await loadRules([p.a, linked]);
    expect(r.ruleset.rules.map((x) => x.title).sort()).toEqual(['DeleteTrail', 'StopLogging']);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ruleFilesUnder([linked]).files).toHaveLength(2);
  });

  it('a path with no rule file, only test files or hidden ones, or only rejected files, is an error naming it and why; one that repeats an earlier path is a warning', async () => {
    const p = packs();
    for (const [path, why] of [
      [p.empty, 'no rule files here'],
      [p.tests, 'no rule files here'],
    ] as const) {
      const r = await loadRules([p.a, path]);
      expect(r.emptyPaths, path).toEqual([path]);
      const d = r.diagnostics.find((x) => x.code === 'SEAM_ERR_RULES_EMPTY');
      expect(d?.severity).toBe('error');
      expect(d?.file).toBe(path);
      expect(d?.message).toContain(why);
      expect(() => throwIfEmpty(r)).toThrow(expect.objectContaining({ code: 'SEAM_ERR_RULES_EMPTY', message: expect.stringContaining(path) }));
    }
    // Overlapping paths load the same rules in either order: the path that adds nothing only gets a warning.
    for (const order of [[p.a, join(p.a, 'one.yml')], [p.base, p.b], [p.b, join(p.b, 'nested')]]) {
      const r = await loadRules(order);
      expect(r.emptyPaths, order.join(' ')).toBeUndefined();
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    }
    const over = await loadRules([p.a, join(p.a, 'one.yml')]);
    expect(over.diagnostics.find((d) => d.code === 'SEAM_ERR_RULES_EMPTY')).toMatchObject({ severity: 'warning', file: join(p.a, 'one.yml') });
    // A folder that only links to itself is empty, not 'already read'; a link to nowhere is named as the reason.
    const loop = join(p.base, 'loop');
    mkdirSync(loop);
    symlinkSync('.', join(loop, 'self'));
    expect((await loadRules([loop])).emptyPaths).toEqual([loop]);
    const dangling = join(p.base, 'dangling');
    mkdirSync(dangling);
    symlinkSync(join(p.base, 'gone'), join(dangling, 'pack'));
    const d = await loadRules([dangling]);
    expect(() => throwIfEmpty(d)).toThrow(/cannot follow the symlink/);
    // Something that is neither a file nor a folder is a diagnostic, not a crash.
    expect((await loadRules(['/dev/null'])).diagnostics.map((x) => x.message)).toContain('not a file or a folder');
    // Files that are there but give no rule (all rejected) are an error too, naming their problems.
    const broken = join(p.base, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'bad.yml'), 'title: [unclosed\n');
    const r = await loadRules([broken]);
    expect(r.emptyPaths).toEqual([broken]);
    expect(r.diagnostics.find((x) => x.code === 'SEAM_ERR_RULES_EMPTY')?.message).toContain('1 rule file here, and none gave a rule');
    expect(() => throwIfEmpty(r)).toThrow(/bad\.yml:\d+:\d+: SEAM_ERR_RULE_YAML/);
    // A missing path is reported once, as unreadable, and is empty.
    const missing = await loadRules([join(p.base, 'nope')]);
    expect(missing.emptyPaths).toEqual([join(p.base, 'nope')]);
    expect(missing.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([['SEAM_ERR_RULE_FILE', 0, 'no rules found (it does not exist)']]);
    expect(formatDiagnostic(missing.diagnostics[0]!)).toBe(`${join(p.base, 'nope')}: SEAM_ERR_RULE_FILE no rules found (it does not exist)`);
  });

  it('the commands say so and fail: lint, rules test, replay (which also takes --rules twice)', () => {
    const p = packs();
    const seam = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAM_LOG_LEVEL: 'error' } });
    const lint = seam('rules', 'lint', p.a, p.tests);
    expect(lint.status).toBe(1);
    // A folder has no line and column: `path: CODE message`, never a made-up `path:0:0`, as lint says a file it cannot read.
    expect(lint.stdout).toContain(`${p.tests}: SEAM_ERR_RULES_EMPTY no rules found (no rule files here: Seam reads *.yml and *.yaml files, not *.test.yml`);
    expect(lint.stdout).not.toContain(':0:0');
    const gone = seam('rules', 'lint', join(p.base, 'nope'));
    expect(gone.stdout).toContain(`${join(p.base, 'nope')}: SEAM_ERR_RULE_FILE no rules found (it does not exist)\n`);
    const test = seam('rules', 'test', p.empty, join(p.base, 'nope'));
    expect(test.status).toBe(1);
    expect(test.stdout).toContain(`ERROR ${p.empty}: SEAM_ERR_RULES_EMPTY no rules found (no rule files here`);
    expect(test.stdout).toContain(`ERROR ${join(p.base, 'nope')}: SEAM_ERR_RULES_EMPTY no rules found (it does not exist)`);
    // A test file named on its own stands for its rule; an upper-case .YML is a rule file as for the loader.
    const upper = join(p.base, 'upper');
    mkdirSync(upper);
    writeFileSync(join(upper, 'R.YML'), rule('44444444-4444-4444-8444-444444444444', 'StopLogging'));
    writeFileSync(join(upper, 'R.test.YML'), 'cases:\n  - name: fires\n    alerts: 1\n    events:\n      - {eventVersion: "1.08", eventSource: cloudtrail.amazonaws.com, eventName: StopLogging, eventTime: "2026-01-01T00:00:00Z", awsRegion: us-east-1, eventID: e1, recipientAccountId: "111122223333", userIdentity: {type: IAMUser, arn: "arn:aws:iam::111122223333:user/a", accountId: "111122223333"}}\n');
    for (const arg of [upper, join(upper, 'R.test.YML')]) {
      const r = seam('rules', 'test', arg);
      expect(r.stdout, arg).toContain('rules-test: files=1 cases=1 passed=1');
      expect(r.status, arg).toBe(0);
    }
    const input = join(p.base, 'in.jsonl');
    const record = (name: string, id: string) =>
      JSON.stringify({ eventVersion: '1.08', eventSource: 'cloudtrail.amazonaws.com', eventName: name, eventTime: '2026-01-01T00:00:00Z', awsRegion: 'us-east-1', eventID: id, recipientAccountId: '111122223333', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a', accountId: '111122223333' } });
    writeFileSync(input, record('StopLogging', 'e1') + '\n' + record('DeleteTrail', 'e2') + '\n');
    const both = seam('replay', input, '--rules', p.a, '--rules', p.b, '--dlq', join(p.base, 'dlq.jsonl'));
    expect(both.status).toBe(0);
    const alerts = both.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rule: { title: string } });
    expect(alerts.map((x) => x.rule.title).sort()).toEqual(['DeleteTrail', 'StopLogging']);
    const empty = seam('replay', input, '--rules', p.a, '--rules', p.empty, '--dlq', join(p.base, 'dlq.jsonl'));
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain(`SEAM_ERR_RULES_EMPTY: no rule files under ${p.empty}`);
    // Overlapping paths run, in either order.
    for (const order of [[p.a, p.base], [p.base, p.a]]) {
      const r = seam('replay', input, '--rules', order[0]!, '--rules', order[1]!, '--dlq', join(p.base, 'dlq.jsonl'));
      expect(r.status, order.join(' ')).toBe(0);
    }
    // Files that give no rule: the worker threads say so with the code and the file's problem, no stack.
    const broken = join(p.base, 'broken-cli');
    mkdirSync(broken);
    writeFileSync(join(broken, 'x.yml'), 'title: x\n');
    const workers = seam('replay', input, '--rules', broken, '--workers', '2', '--dlq', join(p.base, 'dlq.jsonl'));
    expect(workers.status).toBe(2);
    expect(workers.stderr).toContain(`SEAM_ERR_RULES_EMPTY: ${broken}: no rules found (1 rule file here, and none gave a rule, filter or correlation)`);
    expect(workers.stderr).toContain("missing required 'detection'");
    expect(workers.stderr).not.toContain('    at ');
    // A hang guard, not a speed check: nine `seam` processes, each a node start and a rules load (two of them worker
    // threads). It took 15 s at load ~8 beside a whole unit run; at the CI's load 15-20 that nears the old 60 s.
  }, 600_000);

  const AWS = join(SHARED, 'sigma', 'rules', 'cloud', 'aws');
  const K8S = join(SHARED, 'sigma', 'rules', 'application', 'kubernetes');
  it.skipIf(!sharedPresent(AWS) || !sharedPresent(K8S))("SigmaHQ's AWS and Kubernetes rules load beside Seam's pack, unmapped, and fire on raw records (README, Rules)", async () => {
    const pack = await loadRules([join(ROOT, 'detections')]);
    const sigmahq = await loadRules([AWS, K8S]);
    const both = await loadRules([join(ROOT, 'detections'), AWS, K8S]);
    expect(both.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(sigmahq.ruleset.rules.length).toBeGreaterThan(60);
    expect(both.ruleset.rules.length).toBe(pack.ruleset.rules.length + sigmahq.ruleset.rules.length);
    // CloudTrail and audit fields keep their raw names, so SigmaHQ's rules need no field mapping.
    const detector = createDetector({ ruleset: both.ruleset, allowedLatenessMs: 0 });
    const raw = { eventVersion: '1.08', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventTime: '2026-01-01T00:00:00Z', awsRegion: 'us-east-1', eventID: 'e1', recipientAccountId: '111122223333', sourceIPAddress: '198.51.100.7', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a', accountId: '111122223333' } };
    const n = normalizeRecord(raw, { collector: 'test', receivedAt: '2026-01-01T00:00:01Z' });
    expect(n.ok).toBe(true);
    const alerts = n.ok ? [...detector.process(n.value as SeamEvent), ...detector.flush()] : [];
    const ids = new Set(alerts.map((a) => a.rule.id));
    expect(ids.has('4db60cc0-36fb-42b7-9b58-a5b53019fb74')).toBe(true); // SigmaHQ: AWS CloudTrail Important Change
    expect(pack.ruleset.rules.some((r) => ids.has(r.id))).toBe(true); // and Seam's own rules on the same record
  });
});
