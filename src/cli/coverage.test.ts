import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coverageCommand } from './coverage.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function collect(): { stream: Writable; text: () => string } {
  let s = '';
  return { stream: new Writable({ write: (c: Buffer, _e, cb) => void ((s += c.toString()), cb()) }), text: () => s };
}

/** A one-rule pack and a page with the generated blocks' markers, in a fresh folder. */
async function pack(): Promise<{ dir: string; rules: string; doc: string; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'seam-coverage-cli-'));
  const rules = join(dir, 'pack/cloudtrail');
  await mkdir(rules, { recursive: true });
  const rule = ['title: Rule 1', 'id: 00000000-0000-4000-8000-000000000001', 'status: test', 'logsource:', '  product: aws', '  service: cloudtrail', 'detection:', '  sel:', '    eventName: Call1', '  condition: sel', 'level: medium', 'tags:', '  - attack.persistence', '  - attack.t1098', ''].join('\n');
  await writeFile(join(rules, 'a_rule.yml'), rule);
  const doc = join(dir, 'page.md');
  const blocks = ['glance', 'checks', 'tactics', 'techniques', 'stratus'].map((b) => `<!-- seam coverage: ${b} -->\nold\n<!-- /seam coverage: ${b} -->`);
  await writeFile(doc, `# Page\n\n${blocks.join('\n\n')}\n`);
  return { dir, rules: join(dir, 'pack'), doc, out: join(dir, 'out') };
}

describe('seam coverage (command)', () => {
  it('--check writes nothing: no report files, no page change; it says the page drifted and exits 1', async () => {
    const p = await pack();
    const before = await readFile(p.doc, 'utf8');
    const out = collect();
    const err = collect();
    const code = await coverageCommand({ rules: [p.rules], out: p.out, doc: p.doc, check: true, out_: out.stream, err: err.stream });
    expect(code).toBe(1);
    expect(existsSync(p.out)).toBe(false);
    expect(await readFile(p.doc, 'utf8')).toBe(before);
    expect(out.text()).toContain(' doc=drifted');
    expect(out.text()).not.toContain('markdown=');
    expect(err.text()).toContain('is out of date');
  });

  it('a --doc without the markers is not called current; a --doc that does not exist is one ENOENT line', async () => {
    const p = await pack();
    const plain = join(p.dir, 'plain.md');
    await writeFile(plain, '# Not the coverage page\n');
    const out = collect();
    const err = collect();
    expect(await coverageCommand({ rules: [p.rules], out: p.out, doc: plain, check: true, out_: out.stream, err: err.stream })).toBe(1);
    expect(err.text()).toContain('has no markers for glance, checks, tactics, techniques, stratus');
    expect(out.text()).toContain(' doc=no_markers');
    expect(out.text()).not.toContain(' doc=current');
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'coverage', '--rules', p.rules, '--doc', join(p.dir, 'missing.md'), '--check'], {
      encoding: 'utf8',
      env: { ...process.env, SEAM_LOG_LEVEL: 'error', SEAM_CACHE_DIR: 'off' },
    });
    expect(cli.status).toBe(1);
    // (the one-rule pack also has Stratus problems, one line each; the missing page is the last line, said once)
    expect(cli.stderr.trimEnd().split('\n').at(-1)).toBe(`seam: ENOENT: no such file or directory, open '${join(p.dir, 'missing.md')}'`);
  });

  it('without --check writes the report files and rewrites the page', async () => {
    const p = await pack();
    const out = collect();
    await coverageCommand({ rules: [p.rules], out: p.out, doc: p.doc, out_: out.stream, err: collect().stream });
    expect(existsSync(join(p.out, 'coverage.md'))).toBe(true);
    expect(existsSync(join(p.out, 'coverage.html'))).toBe(true);
    expect(await readFile(p.doc, 'utf8')).not.toContain('\nold\n');
    expect(out.text()).toContain(' doc=updated');
  });
});

// review-de M3: a site's coverage with its seam.yml rules.overrides: a disabled rule leaves, a level changes, each said.
describe('seam coverage --config (site overrides)', () => {
  it('applies rules.overrides: the disabled rule is not a detection, the re-levelled one counts at its new level, each override is a line and a report section', async () => {
    const p = await pack();
    // A second rule to disable.
    const second = (await readFile(join(p.rules, 'cloudtrail/a_rule.yml'), 'utf8')).replace('Rule 1', 'Rule 2').replace('000000000001', '000000000002').replace('Call1', 'Call2');
    await writeFile(join(p.rules, 'cloudtrail/b_rule.yml'), second);
    const yml = join(p.dir, 'seam.yml');
    await writeFile(yml, 'rules:\n  overrides:\n    - { rule: 00000000-0000-4000-8000-000000000002, disabled: true }\n    - { rule: 00000000-0000-4000-8000-000000000001, level: high }\n');
    const run = async (config?: string): Promise<string> => {
      const out = collect();
      const err = collect();
      await coverageCommand({ rules: [p.rules], out: p.out, ...(config ? { config } : {}), out_: out.stream, err: err.stream });
      return out.text();
    };
    const pack_ = await run();
    expect(pack_).toMatch(/^coverage: detections=\d+ /m);
    expect(pack_).not.toContain('override');
    const packMd = await readFile(join(p.out, 'coverage.md'), 'utf8');
    const site = await run(yml);
    expect(site.split('\n').filter((l) => l.startsWith('coverage: override'))).toEqual([
      "coverage: override: rule '00000000-0000-4000-8000-000000000002' disabled",
      "coverage: override: rule '00000000-0000-4000-8000-000000000001' level medium -> high",
    ]);
    const detections = (t: string): number => Number(/detections=(\d+)/.exec(t)?.[1]);
    expect(detections(site)).toBe(detections(pack_) - 1);
    const md = await readFile(join(p.out, 'coverage.md'), 'utf8');
    expect(md).toContain("## Site overrides (seam.yml rules.overrides)\n\n- rule '00000000-0000-4000-8000-000000000002' disabled\n- rule '00000000-0000-4000-8000-000000000001' level medium -> high\n");
    // The lint line and the levels are the site's: one rule left, at high.
    expect(packMd).toMatch(/lint: files=2 rules=2 /);
    expect(md).toMatch(/lint: files=2 rules=1 /);
    expect(packMd).toContain('critical 0, high 0, medium 2, low 0');
    expect(md).toContain('critical 0, high 1, medium 0, low 0');
  });
});
