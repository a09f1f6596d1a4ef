import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { loadRules } from './ruleset.ts';
import type { LoadOptions } from './types.ts';

const ingest = { collector: 'test', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] };
const ct = (eventName: string): SeamEvent =>
  ({ '@timestamp': '2026-03-04T05:06:07Z', eventSource: 'iam.amazonaws.com', eventName, seam: { id: 'e1', source: 'cloudtrail', ingest } }) as SeamEvent;

const ctRule = (id: string, eventName: string): string => `title: Key made ${eventName}
id: ${id}
logsource:
    product: aws
    service: cloudtrail
detection:
    sel:
        eventName: ${eventName}
    condition: sel
level: high
`;
/** A rule whose logsource no Seam source feeds: with a warm cache it compiles on first use. */
const winRule = (id: string, needle: string): string => `title: Encoded PowerShell ${needle}
id: ${id}
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        CommandLine|contains: '${needle}'
    condition: sel
level: medium
`;
const CT = '11111111-2222-4333-8444-555555555551';
const WIN = '11111111-2222-4333-8444-555555555552';
const BAD = '11111111-2222-4333-8444-555555555553';

let dir: string;
let rules: string;
let cacheDir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seam-rule-cache-'));
  rules = join(dir, 'rules');
  cacheDir = join(dir, 'cache');
  mkdirSync(rules);
  // One mapped rule, one unmapped rule, one unmapped rule that does not compile.
  for (const [f, text] of [
    ['ct.yml', ctRule(CT, 'CreateAccessKey')],
    ['win.yml', winRule(WIN, ' -enc ')],
    ['bad.yml', winRule(BAD, 'x').replace('CommandLine|contains', 'CommandLine|nosuchmodifier')],
  ] as const) {
    writeFileSync(join(rules, f), text);
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function load(opts: LoadOptions = {}) {
  return loadRules([rules], { cacheDir, ...opts });
}

/** What a load produced that must not depend on the cache: diagnostics, counts, matches, test(). */
function observable(r: Awaited<ReturnType<typeof load>>) {
  const win = r.ruleset.rules.find((x) => x.id === WIN);
  return {
    diagnostics: r.diagnostics,
    stats: r.stats,
    ids: r.ruleset.rules.map((x) => x.id),
    create: r.ruleset.match(ct('CreateAccessKey')).map((m) => m.rule.id),
    update: r.ruleset.match(ct('UpdateAccessKey')).map((m) => m.rule.id),
    winHit: win?.test({ CommandLine: 'powershell.exe -enc SQBFAFgA' }),
    winMiss: win?.test({ CommandLine: 'powershell.exe -File a.ps1' }),
  };
}

describe('rule cache (stage 1 keyed by content hash)', () => {
  it('a second load parses nothing and gives the same diagnostics, counts, matches and rule tests', async () => {
    const none = observable(await loadRules([rules]));
    const cold = await load();
    expect(cold.cache).toMatchObject({ state: 'cold', hits: 0, misses: 3, warnings: [] });
    const warm = await load();
    expect(warm.cache).toMatchObject({ state: 'warm', hits: 3, misses: 0, warnings: [] });
    expect(observable(cold)).toEqual(none);
    expect(observable(warm)).toEqual(none);
    // The rule that does not compile is still refused, with the same diagnostic, without compiling it.
    expect(none.diagnostics.map((d) => [d.code, d.file.endsWith('bad.yml'), d.line])).toEqual([['SEAM_ERR_RULE_MODIFIER', true, 8]]);
    expect(none.stats).toMatchObject({ files: 3, rules: 2, rejected: 1 });
    expect(none).toMatchObject({ create: [CT], update: [], winHit: true, winMiss: false });
  });

  it("a rule the cache holds (no source feeds it) keeps where its name: key is, for lint's SEAM_ERR_RULE_NAME", async () => {
    const NAMED = '11111111-2222-4333-8444-555555555554';
    writeFileSync(join(rules, 'win_named.yml'), winRule(NAMED, 'x').replace(`id: ${NAMED}\n`, `id: ${NAMED}\n# kept from the old file\nname: win_old_name\n`));
    const at = (r: Awaited<ReturnType<typeof load>>): unknown => r.ruleset.rules.find((x) => x.id === NAMED)?.namePos;
    expect(at(await loadRules([rules]))).toEqual({ line: 4, column: 1 });
    expect(at(await load())).toEqual({ line: 4, column: 1 });
    const warm = await load();
    expect(warm.cache).toMatchObject({ state: 'warm', misses: 0 });
    expect(at(warm)).toEqual({ line: 4, column: 1 });
  });

  it('an edited rule is parsed and compiled again: the new text is what runs', async () => {
    await load();
    writeFileSync(join(rules, 'ct.yml'), ctRule(CT, 'UpdateAccessKey'));
    writeFileSync(join(rules, 'win.yml'), winRule(WIN, '-File'));
    const r = await load();
    expect(r.cache).toMatchObject({ state: 'warm', hits: 1, misses: 2 });
    expect(observable(r)).toMatchObject({ create: [], update: [CT], winHit: false, winMiss: true });
    expect(observable(r)).toEqual(observable(await loadRules([rules])));
  });

  it('a corrupt pack is ignored with a warning, the rules load as without a cache, and it is rewritten', async () => {
    await load();
    const [pack] = readdirSync(cacheDir);
    const file = join(cacheDir, pack!);
    const expected = observable(await loadRules([rules]));
    for (const junk of ['{"format":1,"entr', 'null', JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), entries: { x: 1 } })]) {
      writeFileSync(file, junk);
      const r = await load();
      expect(observable(r)).toEqual(expected);
      if (junk.includes('"x"')) {
        // Well-formed JSON under another hash: nothing to use, nothing wrong.
        expect(r.cache).toMatchObject({ state: 'warm', hits: 0, misses: 3 });
      } else {
        expect(r.cache!.state).toBe('corrupt');
        expect(r.cache!.warnings.join()).toMatch(/not a readable rule cache.*ignoring it/);
      }
      expect((await load()).cache).toMatchObject({ state: 'warm', hits: 3, misses: 0, warnings: [] });
    }
  });

  it('an entry with the wrong shape makes the whole pack untrusted, with a warning', async () => {
    await load();
    const [pack] = readdirSync(cacheDir);
    const file = join(cacheDir, pack!);
    const p = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, unknown> };
    for (const k of Object.keys(p.entries)) p.entries[k] = { docs: 'not a list', diags: [] };
    writeFileSync(file, JSON.stringify(p));
    const r = await load();
    expect(r.cache!.state).toBe('corrupt');
    expect(r.cache!.warnings.join()).toMatch(/entry .*wrong shape; ignoring the cache/);
    expect(observable(r)).toEqual(observable(await loadRules([rules])));
  });

  it('a warm load takes what validating a rule no source feeds said from the pack, and still evaluates the rule', async () => {
    // An unfed rule with validation warnings (an id that is not a UUID, a repeated tag), in a file of two documents.
    const warned = winRule('not-a-uuid', ' -nop ').replace('level: medium', 'level: medium\ntags:\n    - attack.execution\n    - attack.execution');
    writeFileSync(join(rules, 'warned.yml'), `${warned}---\n${winRule('11111111-2222-4333-8444-555555555554', ' -w hidden ')}`);
    const none = await loadRules([rules]);
    await load();
    const warm = await load();
    expect(warm.cache).toMatchObject({ state: 'warm', hits: 4, misses: 0, warnings: [] });
    expect(observable(warm)).toEqual(observable(none));
    expect(warm.diagnostics.filter((d) => d.file.endsWith('warned.yml')).map((d) => [d.severity, d.line])).toEqual([
      ['warning', 2],
      ['warning', 13],
    ]);
    const test = (r: typeof warm, id: string, cmd: string) => r.ruleset.rules.find((x) => x.id === id)!.test({ CommandLine: cmd });
    expect([test(warm, 'not-a-uuid', 'powershell -nop -c x'), test(warm, '11111111-2222-4333-8444-555555555554', 'powershell -w hidden -c x'), test(warm, 'not-a-uuid', 'powershell')]).toEqual([true, true, false]);
    expect(warm.ruleset.rules.find((x) => x.id === 'not-a-uuid')).toMatchObject({ title: expect.stringContaining('-nop'), level: 'medium', tags: ['attack.execution', 'attack.execution'] });
  });

  it('stored rule metadata of the wrong shape is not used: the file is read again', async () => {
    await load();
    const [pack] = readdirSync(cacheDir);
    const file = join(cacheDir, pack!);
    const p = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, { out?: { meta?: unknown }[] }> };
    let edited = 0;
    for (const e of Object.values(p.entries)) {
      for (const o of e.out ?? []) {
        if (o?.meta === undefined) continue;
        o.meta = { title: 42 };
        edited++;
      }
    }
    expect(edited).toBe(2);
    writeFileSync(file, JSON.stringify(p));
    const r = await load();
    expect(r.cache).toMatchObject({ state: 'warm', hits: 3, misses: 0, warnings: [] });
    expect(observable(r)).toEqual(observable(await loadRules([rules])));
  });

  it('placeholders are resolved under each load\'s own values, warm cache or cold', async () => {
    const rule = winRule(WIN, 'x').replace("CommandLine|contains: 'x'", "CommandLine|expand: '%tool%'");
    writeFileSync(join(rules, 'win.yml'), rule);
    const a = await load({ placeholders: { tool: ['mimikatz.exe'] } });
    const b = await load({ placeholders: { tool: ['rubeus.exe'] } });
    expect(b.cache).toMatchObject({ state: 'warm', hits: 3 });
    const t = (r: typeof a, cmd: string) => r.ruleset.rules.find((x) => x.id === WIN)!.test({ CommandLine: cmd });
    expect([t(a, 'mimikatz.exe'), t(a, 'rubeus.exe')]).toEqual([true, false]);
    expect([t(b, 'mimikatz.exe'), t(b, 'rubeus.exe')]).toEqual([false, true]);
    // A placeholder with no value is a warning from building the rule model: said again on a warm load.
    const c1 = await load({ placeholders: {} });
    const c2 = await load({ placeholders: {} });
    expect(c2.diagnostics).toEqual(c1.diagnostics);
    expect(c2.diagnostics.map((d) => d.code)).toContain('SEAM_ERR_RULE_PLACEHOLDER');
  });
});
