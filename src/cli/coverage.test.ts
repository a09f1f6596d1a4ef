import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coverageCommand } from './coverage.ts';

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
