// `seam hunt` takes the site's placeholder values as run, replay and rules lint do (review-soc H3): an allow-list
// rule compiled without its list hunts every user. `--print-dsl` shows the compiled query without OpenSearch.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huntCommand } from './hunt.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const RULE = join(ROOT, 'detections/kubernetes/k8s_request_by_user_outside_allowed_list.yml');
const SITE = join(ROOT, 'deploy/config/placeholders.yml');

async function printDsl(o: Parameters<typeof huntCommand>[0]): Promise<{ code: number; query: string; err: string }> {
  let out = '';
  let err = '';
  const code = await huntCommand({ printDsl: true, env: {}, ...o }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  const line = out.split('\n').find(Boolean);
  return { code, query: line === undefined ? '' : JSON.stringify((JSON.parse(line) as { query?: unknown }).query), err };
}

describe('seam hunt placeholders', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-hunt-ph-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without values, the allowed list compiles to nothing and stderr says which placeholder is unset', async () => {
    const r = await printDsl({ rules: [RULE] });
    expect(r.code).toBe(0);
    expect(r.query).not.toContain('PlatformAdmin');
    expect(r.err).toMatch(/^seam hunt: SEAM_ERR_RULE_PLACEHOLDER: 1 placeholder has no configured values.*%seam_allowed_k8s_users% \(1 rule\)/m);
  });

  it('--placeholders FILE puts the allowed users in the query', async () => {
    const r = await printDsl({ rules: [RULE], placeholders: SITE });
    expect(r.code).toBe(0);
    expect(r.query).toContain('arn:aws:sts::111122223333:assumed-role/PlatformAdmin/');
    expect(r.query).toContain('ci-deployer');
    expect(r.err).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
    // One rule with the site's full file: the keys the other rules use are not warned about (review-soc follow-up).
    expect(r.err).not.toContain('used by no loaded rule');
  });

  it("seam.yml's rules.placeholdersFile (relative to seam.yml) and rules.placeholders (over the file's) are used", async () => {
    await writeFile(join(dir, 'site.yml'), "seam_allowed_k8s_users: ['file-user']\n");
    await writeFile(join(dir, 'seam.yml'), 'rules:\n  placeholdersFile: site.yml\n');
    const fromFile = await printDsl({ rules: [RULE], config: join(dir, 'seam.yml') });
    expect(fromFile.code).toBe(0);
    expect(fromFile.query).toContain('file-user');
    expect(fromFile.err).not.toContain('SEAM_ERR_RULE_PLACEHOLDER');
    await writeFile(join(dir, 'inline.yml'), "rules:\n  placeholdersFile: site.yml\n  placeholders:\n    seam_allowed_k8s_users: ['inline-user']\n");
    const inline = await printDsl({ rules: [RULE], config: join(dir, 'inline.yml') });
    expect(inline.query).toContain('inline-user');
    expect(inline.query).not.toContain('file-user');
    // The flag wins over seam.yml's file.
    const flag = await printDsl({ rules: [RULE], config: join(dir, 'seam.yml'), placeholders: SITE });
    expect(flag.query).toContain('ci-deployer');
    expect(flag.query).not.toContain('file-user');
  });

  it('an unreadable placeholders file is an error, not a hunt without values', async () => {
    const r = await printDsl({ rules: [RULE], placeholders: join(dir, 'missing.yml') });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SEAM_ERR_CONFIG_INVALID');
  });
});

// The exit codes scripts read (docs/hunting.md, Exit codes): 0 searched (matches or none), 1 an error (a search
// failed, OpenSearch unreachable), 2 a usage or configuration mistake, 3 nothing searched (test/hunt/who.test.ts,
// on a real OpenSearch).
describe('seam hunt exit codes', () => {
  const run = async (o: Parameters<typeof huntCommand>[0]): Promise<{ code: number; err: string }> => {
    let err = '';
    const code = await huntCommand({ env: {}, ...o }, { write: () => undefined }, { write: (s: string) => (err += s) });
    return { code, err };
  };

  it('1 when OpenSearch does not answer, for rules and --who alike', async () => {
    for (const o of [{ rules: [RULE] }, { who: 'alice' }]) {
      const r = await run({ ...o, url: 'http://127.0.0.1:1' });
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain('SEAM_ERR_SINK_UNAVAILABLE');
    }
  });

  it('2 for a usage mistake', async () => {
    const both = await run({ rules: [RULE], who: 'alice' });
    expect(both.code).toBe(2);
    expect(both.err).toContain('give either --rules or --who, not both');
    expect((await run({ who: ' ' })).code).toBe(2);
    // --raw prints the events --alert or --who found: with rules alone, or with --print-dsl (nothing found), it is a mistake.
    const rawRules = await run({ rules: [RULE], raw: true });
    expect(rawRules.code).toBe(2);
    expect(rawRules.err).toContain('--raw goes with --alert or --who');
    const rawDsl = await run({ who: 'alice', raw: true, printDsl: true });
    expect(rawDsl.code).toBe(2);
    expect(rawDsl.err).toContain('--print-dsl searches nothing');
  });
});

// ADR 0058: a correlation is hunted through its rules; --print-dsl prints, per correlation, the rules whose events
// are fed to the engine, their indices and the query matching any of them, and counts correlations on their own line.
describe('seam hunt --print-dsl with correlations', () => {
  it('prints the rules, index and query a correlation is hunted with, and a line counting correlations', async () => {
    let out = '';
    let err = '';
    const fixture = join(ROOT, 'test/data/overrides-rules');
    const code = await huntCommand({ printDsl: true, rules: [fixture], env: {} }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
    expect(code).toBe(0);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule: string; not_huntable?: string; correlation_type?: string; rules?: string[]; index?: string; query?: unknown });
    expect(lines.map((l) => l.rule)).toEqual(['0c7e5a10-0000-4000-8000-000000000001', '0c7e5a10-0000-4000-8000-000000000003', '0c7e5a10-0000-4000-8000-000000000004', '0c7e5a10-0000-4000-8000-000000000002']);
    const corr = lines[3]!;
    expect([corr.correlation_type, corr.rules, corr.index, corr.not_huntable]).toEqual(['value_count', ['0c7e5a10-0000-4000-8000-000000000001'], 'seam-events-k8s_audit-*', undefined]);
    // The correlation's query is its rule's query.
    expect(corr.query).toEqual((lines[0] as { query?: unknown }).query);
    expect(err).toMatch(/^hunt: rules=3 huntable=3 exact=\d+ verified=\d+ not_huntable=0$/m);
    expect(err).toMatch(/^hunt: correlations=1 huntable=1 not_huntable=0$/m);
  });

  it('names a correlation whose rules are not given, or that the site disabled, as not huntable', async () => {
    let out = '';
    let err = '';
    const dir = await mkdtemp(join(tmpdir(), 'seam-hunt-corr-'));
    await writeFile(join(dir, 'seam.yml'), 'rules:\n  overrides:\n    - { rule: 0c7e5a10-0000-4000-8000-000000000002, disabled: true }\n');
    const code = await huntCommand({ printDsl: true, rules: [join(ROOT, 'detections/correlations')], env: {} }, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
    expect(code).toBe(0);
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { not_huntable?: string });
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => /^the streaming engine does not load this correlation: .*refers to/.test(l.not_huntable ?? ''))).toBe(true);
    expect(err).toMatch(new RegExp(`^hunt: correlations=${lines.length} huntable=0 not_huntable=${lines.length}$`, 'm'));
    out = '';
    const off = await huntCommand({ printDsl: true, config: join(dir, 'seam.yml'), rules: [join(ROOT, 'test/data/overrides-rules')], env: {} }, { write: (s: string) => (out += s) }, { write: () => undefined });
    expect(off).toBe(0);
    expect(out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule: string; not_huntable?: string }).at(-1)).toEqual({ rule: '0c7e5a10-0000-4000-8000-000000000002', title: 'Test Many Secrets Read By One User', not_huntable: 'disabled by seam.yml rules.overrides' });
  });
});

