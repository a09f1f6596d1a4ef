import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../core/envelope.ts';
import { normalizeRecord } from '../core/normalize/normalize.ts';
import { checkExpectations, runRuleTests, type AlertExpectation, type RuleNames } from './rule-tests.ts';

const meta = { collector: 'rule-test', receivedAt: new Date(0).toISOString(), origin: 'rule-tests.test' };

/** A raw CloudTrail CreateAccessKey record (eventID `id`; none when undefined) for `userName`. */
function ctRaw(id: string | undefined, userName: string, second = 0): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    ...(id === undefined ? {} : { eventID: id }),
    eventTime: `2026-12-01T10:00:0${second}Z`,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
    requestParameters: { userName },
    recipientAccountId: '111122223333',
  };
}

/** A raw audit record of an exec into a pod, at `stage`. */
function auditRaw(auditID: string, stage: string): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage,
    verb: 'create',
    requestURI: '/api/v1/namespaces/default/pods/web/exec',
    user: { username: 'alice' },
    objectRef: { resource: 'pods', namespace: 'default', name: 'web', subresource: 'exec' },
    responseStatus: { code: 101 },
    requestReceivedTimestamp: '2026-12-01T10:00:00.000000Z',
    stageTimestamp: '2026-12-01T10:00:00.100000Z',
  };
}

function normalized(raw: Record<string, unknown>): SeamEvent {
  const r = normalizeRecord(raw, meta);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as SeamEvent;
}

const RULES: RuleNames = new Map([
  ['11111111-1111-4111-8111-111111111111', { label: 'key_for_bob', names: ['11111111-1111-4111-8111-111111111111', 'key_for_bob', 'Access key created for bob'] }],
  ['22222222-2222-4222-8222-222222222222', { label: 'Keys created in a burst', names: ['22222222-2222-4222-8222-222222222222', 'Keys created in a burst'] }],
]);
const [BOB, BURST] = [...RULES.keys()] as [string, string];
const alert = (rule: string, events: string[]): { rule: { id: string; title: string; level: 'low'; tags: string[]; type: 'sigma' }; events: string[] } => ({
  rule: { id: rule, title: '', level: 'low', tags: [], type: 'sigma' },
  events,
});

describe('checkExpectations (rule tests: which events an alert covers)', () => {
  const near = normalized(ctRaw('ev-near', 'automation'));
  const hit = normalized(ctRaw('ev-hit', 'bob', 1));
  const timeline = [near, hit];
  const check = (ex: AlertExpectation[], alerts: ReturnType<typeof alert>[], events: SeamEvent[] = timeline): ReturnType<typeof checkExpectations> => checkExpectations(ex, alerts, events, RULES);

  it('passes an alert that covers exactly the events named, of the rule named by id, name or title', () => {
    const got = [alert(BOB, ['ev-hit'])];
    expect(check([{ events: ['ev-hit'] }], got)).toEqual({});
    for (const rule of [BOB, 'key_for_bob', 'Access key created for bob']) expect(check([{ rule, events: ['ev-hit'] }], got), rule).toEqual({});
  });

  it('fails an expectation naming the near-miss record, saying which alert covered which events', () => {
    expect(check([{ events: ['ev-near'] }], [alert(BOB, ['ev-hit'])])).toEqual({ fail: 'expect 1: expected an alert covering ev-near; got key_for_bob covered ev-hit' });
    expect(check([{ events: ['ev-hit'] }], [])).toEqual({ fail: 'expect 1: expected an alert covering ev-hit; got no alert of this file' });
  });

  it('wants the events exactly: an alert covering more, or fewer, does not meet it', () => {
    expect(check([{ events: ['ev-hit'] }], [alert(BURST, ['ev-near', 'ev-hit'])])).toEqual({ fail: 'expect 1: expected an alert covering ev-hit; got Keys created in a burst covered ev-near, ev-hit' });
    expect(check([{ events: ['ev-near', 'ev-hit'] }], [alert(BURST, ['ev-hit'])]).fail).toMatch(/^expect 1: expected an alert covering ev-near, ev-hit; got Keys created in a burst covered ev-hit$/);
    expect(check([{ events: ['ev-hit', 'ev-near'] }], [alert(BURST, ['ev-near', 'ev-hit'])])).toEqual({});
  });

  it('fails an alert of another rule than the one named', () => {
    expect(check([{ rule: 'key_for_bob', events: ['ev-hit'] }], [alert(BURST, ['ev-hit'])])).toEqual({ fail: 'expect 1: expected an alert of key_for_bob covering ev-hit; got Keys created in a burst covered ev-hit' });
  });

  it('gives each expectation an alert of its own, searching past a first choice that leaves another unmet', () => {
    const both = [alert(BOB, ['ev-hit']), alert(BURST, ['ev-hit'])];
    // Taken in order, the first expectation would take key_for_bob's alert, which the second needs.
    expect(check([{ events: ['ev-hit'] }, { rule: 'key_for_bob', events: ['ev-hit'] }], both)).toEqual({});
    expect(check([{ events: ['ev-hit'] }, { events: ['ev-hit'] }], [alert(BOB, ['ev-hit'])])).toEqual({
      fail: 'expect 1, 2: each needs an alert of its own (an alert covering ev-hit; an alert covering ev-hit); got key_for_bob covered ev-hit',
    });
  });

  it('is an error, not a failure, to name an event or a rule the case does not have', () => {
    expect(check([{ events: ['ev-hitt'] }], [alert(BOB, ['ev-hit'])])).toEqual({ error: 'expect 1 names "ev-hitt", which no event of the case has (its events: ev-near, ev-hit)' });
    expect(check([{ rule: 'key_for_alice', events: ['ev-hit'] }], [alert(BOB, ['ev-hit'])])).toEqual({
      error: 'expect 1 names rule "key_for_alice", which is not a rule or correlation this file\'s alerts can come from (key_for_bob, Keys created in a burst)',
    });
  });

  it('takes an audit record by its bare auditID (any stage) or by auditID:stage', () => {
    const started = normalized(auditRaw('a-1', 'ResponseStarted'));
    const complete = normalized(auditRaw('a-1', 'ResponseComplete'));
    expect([started.seam.id, complete.seam.id]).toEqual(['a-1:ResponseStarted', 'a-1:ResponseComplete']);
    const got = [alert(BOB, ['a-1:ResponseComplete'])];
    expect(check([{ events: ['a-1'] }], got, [started, complete])).toEqual({});
    expect(check([{ events: ['a-1:ResponseComplete'] }], got, [started, complete])).toEqual({});
    expect(check([{ events: ['a-1:ResponseStarted'] }], got, [started, complete])).toEqual({ fail: 'expect 1: expected an alert covering a-1:ResponseStarted; got key_for_bob covered a-1:ResponseComplete' });
  });

  it('names an event its source gave no id by its place in the case', () => {
    const anon = normalized(ctRaw(undefined, 'bob', 2));
    expect(check([{ events: ['ev-hit'] }], [alert(BOB, [anon.seam.id])], [near, hit, anon])).toEqual({ fail: 'expect 1: expected an alert covering ev-hit; got key_for_bob covered event 3' });
  });
});

/** Collects what the runner prints. */
function sink(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c.toString());
        cb();
      },
    }),
    lines: () => chunks.join('').split('\n').filter(Boolean),
  };
}

describe('seam rules test: expect', () => {
  let dir: string;
  const RULE = [
    'title: Access key created for bob',
    'id: 11111111-1111-4111-8111-111111111111',
    'name: key_for_bob',
    'status: test',
    'description: An access key was created for bob.',
    'logsource:',
    '  product: aws',
    '  service: cloudtrail',
    'detection:',
    '  sel:',
    '    eventName: CreateAccessKey',
    '    requestParameters.userName: bob',
    '  condition: sel',
    'falsepositives:',
    '  - none',
    'level: low',
    '',
  ].join('\n');
  const write = async (name: string, cases: unknown[]): Promise<string> => {
    const rule = join(dir, `${name}.yml`);
    await writeFile(rule, RULE);
    await writeFile(join(dir, `${name}.test.yml`), JSON.stringify({ cases }));
    return rule;
  };
  const timeline = [ctRaw('ev-near', 'automation'), ctRaw('ev-hit', 'bob', 1)];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('passes a case whose alert covers the record named, fails one naming the near-miss record with what the alert covered', async () => {
    const rule = await write('expect_cases', [
      { name: 'the hit', alerts: 1, expect: [{ rule: 'key_for_bob', events: ['ev-hit'] }], events: timeline },
      { name: 'names the near miss', alerts: 1, expect: [{ events: ['ev-near'] }], events: timeline },
      { name: 'names no event of the case', alerts: 1, expect: [{ events: ['ev-hitt'] }], events: timeline },
    ]);
    const out = sink();
    const s = await runRuleTests([rule], out.stream);
    const test = join(dir, 'expect_cases.test.yml');
    expect(out.lines()).toEqual([
      `FAIL ${test}: names the near miss: expect 1: expected an alert covering ev-near; got key_for_bob covered ev-hit`,
      `ERROR ${test}: names no event of the case: expect 1 names "ev-hitt", which no event of the case has (its events: ev-near, ev-hit)`,
      'rules-test: files=1 cases=3 passed=1 failed=1 missing=0 errors=1',
    ]);
    expect(s).toMatchObject({ cases: 3, passed: 1, failed: 1, errors: 1 });
  });

  it('a wrong count with expect says what the case raised', async () => {
    const rule = await write('expect_count', [{ name: 'two keys?', alerts: 2, expect: [{ events: ['ev-hit'] }], events: timeline }]);
    const out = sink();
    await runRuleTests([rule], out.stream);
    expect(out.lines()[0]).toBe(`FAIL ${join(dir, 'expect_count.test.yml')}: two keys?: expected 2 alert(s), got 1: key_for_bob covered ev-hit`);
  });

  it("a test file with no rule file beside it is an ERROR in a folder given, not when a neighbour rule file is named alone", async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-orphan-'));
    try {
      await writeFile(join(d, 'kept.yml'), RULE);
      await writeFile(join(d, 'kept.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      // The rule renamed without its test, and a test spelt .yaml beside a .yml rule: neither would ever run.
      await writeFile(join(d, 'renamed.test.yml'), JSON.stringify({ cases: [{ name: 'x', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      await writeFile(join(d, 'kept.test.yaml'), 'cases: []\n');
      const out = sink();
      const s = await runRuleTests([d], out.stream);
      expect(out.lines()).toEqual([
        `ERROR ${join(d, 'kept.test.yaml')}: no rule file kept.yaml beside it, so its cases never run (X.test.yml tests X.yml, X.test.yaml tests X.yaml)`,
        `ERROR ${join(d, 'renamed.test.yml')}: no rule file renamed.yml beside it, so its cases never run (X.test.yml tests X.yml, X.test.yaml tests X.yaml)`,
        'rules-test: files=1 cases=1 passed=1 failed=0 missing=0 errors=2',
      ]);
      expect(s).toMatchObject({ errors: 2, passed: 1 });
      const alone = sink();
      expect(await runRuleTests([join(d, 'kept.yml')], alone.stream)).toMatchObject({ errors: 0, passed: 1 });
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a rule copied into another file: each file names the other by file:line:col and what to do, the test file says why its cases did not run, a correlation naming it says why', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-dup-'));
    try {
      await mkdir(join(d, 'pack'));
      await mkdir(join(d, 'mine'));
      await writeFile(join(d, 'pack/key_for_bob.yml'), RULE);
      await writeFile(join(d, 'pack/key_for_bob.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      // The copy a detection engineer starts a new rule from, saved before its id and name were changed.
      await writeFile(join(d, 'mine/key_for_carol.yml'), `# my version\n${RULE}`);
      const corr = ['title: Bob keys', 'id: 33333333-3333-4333-8333-333333333333', 'correlation:', '  type: event_count', '  rules: [key_for_bob]', '  group-by: [userIdentity.arn]', '  timespan: 10m', '  condition: {gte: 2}', 'level: low', ''].join('\n');
      await writeFile(join(d, 'mine/corr_bob_keys.yml'), corr);
      await writeFile(join(d, 'mine/corr_bob_keys.test.yml'), JSON.stringify({ cases: [{ name: 'two', alerts: 1, events: [ctRaw('e1', 'bob'), ctRaw('e2', 'bob', 1)] }] }));
      const out = sink();
      const s = await runRuleTests([join(d, 'pack'), join(d, 'mine')], out.stream);
      const [pack, copy] = [join(d, 'pack/key_for_bob.yml'), join(d, 'mine/key_for_carol.yml')];
      const what = "neither rule loads until each has its own; if one is a copy, give it a new id (a fresh UUID, e.g. from uuidgen) and a name of its own (its file name without .yml), or delete it";
      const lines = out.lines();
      expect(lines).toContain(`ERROR ${copy}:2:1: SEAM_ERR_RULE_DUPLICATE id '11111111-1111-4111-8111-111111111111' and name 'key_for_bob' are also used at ${pack}:1:1: ${what}`);
      expect(lines).toContain(`ERROR ${pack}:1:1: SEAM_ERR_RULE_DUPLICATE id '11111111-1111-4111-8111-111111111111' and name 'key_for_bob' are also used at ${copy}:2:1: ${what}`);
      // Before: "... defines no rule or correlation that loaded, nor a filter applied to a loaded rule (name the rules it filters too)".
      expect(lines).toContain(`ERROR ${join(d, 'pack/key_for_bob.test.yml')}: its 1 case(s) did not run: ${pack} did not load (SEAM_ERR_RULE_DUPLICATE at ${pack}:1:1, above)`);
      // Before: "which is neither a loaded rule nor a correlation".
      expect(lines).toContain(`ERROR ${join(d, 'mine/corr_bob_keys.yml')}:5:11: SEAM_ERR_RULE_REFERENCE correlation 'Bob keys' refers to rule 'key_for_bob', which did not load: its name 'key_for_bob' is used at ${pack}:1:1 and ${copy}:2:1 (SEAM_ERR_RULE_DUPLICATE)`);
      // The correlation's case fails, saying why rather than a bare "got 0".
      expect(lines).toContain(`FAIL ${join(d, 'mine/corr_bob_keys.test.yml')}: two: expected 1 alert(s), got 0 (a correlation of corr_bob_keys.yml cannot be used: SEAM_ERR_RULE_REFERENCE at ${join(d, 'mine/corr_bob_keys.yml')}:5:11, above)`);
      expect(s).toMatchObject({ passed: 0 });
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a test file whose rule does not exist is an ERROR in a folder that holds no rule, at any depth, and when named on its own', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-orphan-deep-'));
    try {
      await mkdir(join(d, 'rules/moved'), { recursive: true });
      await mkdir(join(d, 'only-tests/deeper'), { recursive: true });
      await writeFile(join(d, 'rules/kept.yml'), RULE);
      await writeFile(join(d, 'rules/kept.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      const orphan = JSON.stringify({ cases: [{ name: 'x', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] });
      // Left behind in a subfolder of rules that has no rule (the rule moved), and in a folder of tests only.
      await writeFile(join(d, 'rules/moved/gone.test.yml'), orphan);
      await writeFile(join(d, 'only-tests/deeper/lost.test.yml'), orphan);
      const line = (t: string, rule: string): string => `ERROR ${t}: no rule file ${rule} beside it, so its cases never run (X.test.yml tests X.yml, X.test.yaml tests X.yaml)`;
      const out = sink();
      // Before: the rules folder passed (exit 0) with moved/gone.test.yml never run and never named.
      expect(await runRuleTests([join(d, 'rules')], out.stream)).toMatchObject({ passed: 1, errors: 1 });
      expect(out.lines()).toEqual([line(join(d, 'rules/moved/gone.test.yml'), 'gone.yml'), 'rules-test: files=1 cases=1 passed=1 failed=0 missing=0 errors=1']);
      const tests = sink();
      await runRuleTests([join(d, 'only-tests')], tests.stream);
      expect(tests.lines()).toContain(line(join(d, 'only-tests/deeper/lost.test.yml'), 'lost.yml'));
      // Named on its own: the test file is the orphan (before: "ERROR .../lost.yml: ... does not exist", a file never named).
      const alone = sink();
      expect(await runRuleTests([join(d, 'only-tests/deeper/lost.test.yml')], alone.stream)).toMatchObject({ errors: 1 });
      expect(alone.lines()[0]).toBe(line(join(d, 'only-tests/deeper/lost.test.yml'), 'lost.yml'));
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a folder of rule files none of which has a test (a vendor pack) is one MISSING line with its count; a lone untested rule keeps its own', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-vendor-'));
    try {
      await mkdir(join(d, 'vendor'));
      await mkdir(join(d, 'mine'));
      for (const n of ['a', 'b', 'c']) await writeFile(join(d, `vendor/${n}.yml`), RULE.replace('11111111-1111-4111-8111-111111111111', `11111111-1111-4111-8111-11111111111${n}`).replace('name: key_for_bob', `name: ${n}`));
      await writeFile(join(d, 'mine/key_for_bob.yml'), RULE);
      await writeFile(join(d, 'mine/key_for_bob.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      await writeFile(join(d, 'mine/untested.yml'), RULE.replace('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111112').replace('name: key_for_bob', 'name: untested'));
      const out = sink();
      const s = await runRuleTests([join(d, 'vendor'), join(d, 'mine')], out.stream);
      expect(out.lines()).toEqual([
        `MISSING ${join(d, 'vendor')}: none of its 3 rule files has a sibling X.test.yml (a rule pack that ships no Seam tests, as SigmaHQ's; seam rules lint checks that it loads)`,
        `MISSING ${join(d, 'mine/untested.yml')}: no sibling untested.test.yml`,
        'rules-test: files=5 cases=1 passed=1 failed=0 missing=4 errors=0',
      ]);
      expect(s.missing).toBe(4);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a rule file reached through a symlink runs the test file beside the file the link leads to', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-link-'));
    try {
      await mkdir(join(d, 'pack'));
      await mkdir(join(d, 'chosen'));
      await writeFile(join(d, 'pack/key.yml'), RULE);
      await writeFile(join(d, 'pack/key.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      await symlink(join(d, 'pack/key.yml'), join(d, 'chosen/picked.yml'));
      const out = sink();
      // Before: MISSING chosen/picked.yml: no sibling picked.test.yml.
      expect(await runRuleTests([join(d, 'chosen')], out.stream)).toMatchObject({ files: 1, cases: 1, passed: 1, missing: 0, errors: 0 });
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a file under the paths that cannot be read (a broken symlink) is an ERROR, as lint says it is', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-rule-tests-broken-'));
    try {
      await writeFile(join(d, 'key.yml'), RULE);
      await writeFile(join(d, 'key.test.yml'), JSON.stringify({ cases: [{ name: 'hit', alerts: 1, events: [ctRaw('ev-hit', 'bob', 1)] }] }));
      await symlink(join(d, 'gone.yml'), join(d, 'link.yml'));
      const out = sink();
      const s = await runRuleTests([d], out.stream);
      expect(out.lines()[0]).toMatch(new RegExp(`^ERROR ${join(d, 'link.yml')}: SEAM_ERR_RULE_FILE cannot follow the symlink: ENOENT`));
      expect(s).toMatchObject({ passed: 1, errors: 1 });
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('a test file that is not valid YAML is an ERROR naming the file, line and column, on one line', async () => {
    const rule = await write('bad_yaml', []);
    await writeFile(join(dir, 'bad_yaml.test.yml'), 'cases:\n  - name: x\n    alerts: 1\n   events: []\n');
    const out = sink();
    const s = await runRuleTests([rule], out.stream);
    expect(out.lines()).toEqual([`ERROR ${join(dir, 'bad_yaml.test.yml')}:4:1: invalid YAML: Sequence item without - indicator`, 'rules-test: files=1 cases=0 passed=0 failed=0 missing=0 errors=1']);
    expect(s).toMatchObject({ errors: 1 });
  });

  it('a wrong count without expect names the alerts raised, so a near miss that fires says which rule and record', async () => {
    const rule = await write('count_only', [
      { name: 'near miss fires', alerts: 0, events: timeline },
      { name: 'silent, one expected', alerts: 1, events: [ctRaw('ev-near', 'automation')] },
    ]);
    const out = sink();
    await runRuleTests([rule], out.stream);
    const test = join(dir, 'count_only.test.yml');
    expect(out.lines().slice(0, 2)).toEqual([`FAIL ${test}: near miss fires: expected 0 alert(s), got 1: key_for_bob covered ev-hit`, `FAIL ${test}: silent, one expected: expected 1 alert(s), got 0`]);
  });

  it('rejects unknown keys in an expectation and in a case with a did-you-mean, and more expectations than alerts', async () => {
    const misspelt = await write('expect_keys', [{ name: 'typo', alerts: 1, expect: [{ evnets: ['ev-hit'] }], events: timeline }]);
    const caseKey = await write('expect_case_key', [{ name: 'typo', alerts: 1, expct: [{ events: ['ev-hit'] }], events: timeline }]);
    const tooMany = await write('expect_many', [{ name: 'one alert, two expectations', alerts: 1, expect: [{ events: ['ev-hit'] }, { events: ['ev-near'] }], events: timeline }]);
    // One at a time: the three rule files share an id.
    const run = async (rule: string): Promise<string[]> => {
      const out = sink();
      expect(await runRuleTests([rule], out.stream)).toMatchObject({ cases: 0, errors: 1 });
      return out.lines();
    };
    expect(await run(misspelt)).toContain(`ERROR ${join(dir, 'expect_keys.test.yml')}: case 1 (typo): expect 1: unknown key "evnets" (did you mean "events"?); keys here: rule, events`);
    expect(await run(caseKey)).toContain(`ERROR ${join(dir, 'expect_case_key.test.yml')}: case 1 (typo): unknown key "expct" (did you mean "expect"?); keys here: name, alerts, events, placeholders, expect`);
    expect(await run(tooMany)).toContain(`ERROR ${join(dir, 'expect_many.test.yml')}: case 1 (one alert, two expectations): "expect" lists 2 alert(s), more than "alerts: 1"`);
  });
});

describe('seam rules test: |expand around a placeholder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-expand-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the rule's own '*' a wildcard: a dev session in a listed account alerts, one in another account does not", async () => {
    const rule = join(dir, 'dev_session.yml');
    await writeFile(rule, [
      'title: Key created by a dev session in one of our accounts',
      'id: 33333333-3333-4333-8333-333333333333',
      'name: dev_session_key',
      'status: test',
      'description: A dev role session created an access key.',
      'logsource:',
      '  product: aws',
      '  service: cloudtrail',
      'detection:',
      '  sel:',
      '    eventName: CreateAccessKey',
      "    userIdentity.arn|expand: 'arn:aws:sts::%org_accounts%:assumed-role/dev/*'",
      '  condition: sel',
      'falsepositives:',
      '  - none',
      'level: low',
      '',
    ].join('\n'));
    const dev = (id: string, account: string): Record<string, unknown> => ({
      ...ctRaw(id, 'bob'),
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${account}:assumed-role/dev/bob`, accountId: account },
    });
    await writeFile(join(dir, 'dev_session.test.yml'), JSON.stringify({
      placeholders: { org_accounts: ['111122223333'] },
      cases: [
        { name: "bob's dev session in our account", alerts: 1, events: [dev('ev-ours', '111122223333')] },
        { name: 'the same role in an account not listed', alerts: 0, events: [dev('ev-theirs', '999988887777')] },
      ],
    }));
    const out = sink();
    const s = await runRuleTests([rule], out.stream);
    expect(out.lines()).toEqual(['rules-test: files=1 cases=2 passed=2 failed=0 missing=0 errors=0']);
    expect(s).toMatchObject({ cases: 2, passed: 2 });
  });
});

describe('seam rules test: a correlation in one file with its feeder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-rule-tests-feeder-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const FEEDER = [
    'title: Secret read',
    'id: 44444444-4444-4444-8444-444444444441',
    'name: secret_get',
    'status: test',
    'description: A Secret was read.',
    'logsource:',
    '  product: kubernetes',
    '  service: audit',
    'detection:',
    '  sel:',
    '    objectRef.resource: secrets',
    '    verb: get',
    '  condition: sel',
    'falsepositives:',
    '  - controllers',
    'level: informational',
  ];
  const CORRELATION = [
    'title: Many distinct secrets read by one user',
    'id: 44444444-4444-4444-8444-444444444442',
    'name: secret_sweep',
    'status: test',
    'description: One user read three or more distinct secrets in 10 minutes.',
    'correlation:',
    '  type: value_count',
    '  rules: [secret_get]',
    '  group-by: [user.username]',
    '  timespan: 10m',
    '  condition:',
    '    field: objectRef.name',
    '    gte: 3',
    'falsepositives:',
    '  - backup tools',
    'level: medium',
  ];
  const get = (id: string, user: string, name: string, minute: number): Record<string, unknown> => ({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/payments/secrets/${name}`,
    verb: 'get',
    user: { username: user },
    objectRef: { resource: 'secrets', namespace: 'payments', name, apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: `2026-12-01T10:0${minute}:00Z`,
    stageTimestamp: `2026-12-01T10:0${minute}:00Z`,
  });
  const sweep = [get('aud-1', 'mallory', 'a', 0), get('aud-2', 'mallory', 'b', 1), get('aud-3', 'mallory', 'c', 2)];
  const same = [get('aud-1', 'mallory', 'a', 0), get('aud-2', 'mallory', 'a', 1), get('aud-3', 'mallory', 'a', 2)];

  it("counts the correlation's alerts only, as the stream emits them: a near miss with alerts: 0 passes", async () => {
    const rule = join(dir, 'sweep.yml');
    await writeFile(rule, [...FEEDER, '---', ...CORRELATION, ''].join('\n'));
    await writeFile(join(dir, 'sweep.test.yml'), JSON.stringify({
      cases: [
        { name: 'three distinct secrets', alerts: 1, expect: [{ rule: 'secret_sweep', events: ['aud-1', 'aud-2', 'aud-3'] }], events: sweep },
        { name: 'near miss: the same secret three times', alerts: 0, events: same },
        // A case that names the feeder counts the feeder's alerts too (as if generated): its own positive case.
        { name: 'the feeder, named', alerts: 2, expect: [{ rule: 'secret_get', events: ['aud-1'] }, { rule: 'secret_get', events: ['aud-2'] }], events: same.slice(0, 2) },
      ],
    }));
    const out = sink();
    const s = await runRuleTests([rule], out.stream);
    expect(out.lines()).toEqual(['rules-test: files=1 cases=3 passed=3 failed=0 missing=0 errors=0']);
    expect(s).toMatchObject({ cases: 3, passed: 3 });
  });

  it('still counts a feeder in a file of its own as if it alerted, so it keeps its own cases', async () => {
    const sub = await mkdtemp(join(dir, 'split-'));
    const feeder = join(sub, 'secret_get.yml');
    await writeFile(feeder, [...FEEDER, ''].join('\n'));
    await writeFile(join(sub, 'secret_get.test.yml'), JSON.stringify({ cases: [{ name: 'a read', alerts: 1, events: same.slice(0, 1) }, { name: 'a list', alerts: 0, events: [{ ...same[0], verb: 'list' }] }] }));
    await writeFile(join(sub, 'secret_sweep.yml'), [...CORRELATION, ''].join('\n'));
    await writeFile(join(sub, 'secret_sweep.test.yml'), JSON.stringify({ cases: [{ name: 'sweep', alerts: 1, events: sweep }, { name: 'same', alerts: 0, events: same }] }));
    const out = sink();
    expect(await runRuleTests([sub], out.stream)).toMatchObject({ cases: 4, passed: 4, failed: 0 });
  });
});
