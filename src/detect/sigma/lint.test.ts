import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintCommand } from './lint.ts';

const rule = (n: number, logsource: string): string => `title: Lint Count ${n}
id: 00000000-0000-4000-8000-00000000000${n}
logsource:
${logsource}
detection:
  selection:
    eventName: X${n}
  condition: selection
level: low
`;

async function lint(paths: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  const code = await lintCommand(paths, out);
  return { code, text };
}

describe('seam rules lint', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seam-lint-'));
    await writeFile(join(dir, 'a.yml'), rule(1, '  product: aws\n  service: cloudtrail'));
    await writeFile(join(dir, 'b.yml'), rule(2, '  product: aws\n  service: cloudtrail'));
    await writeFile(join(dir, 'c.yml'), rule(3, '  product: kubernetes\n  service: audit'));
    await writeFile(join(dir, 'd.yml'), rule(4, '  product: windows\n  category: process_creation'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ends with a summary that counts rules per product', async () => {
    const { code, text } = await lint([dir]);
    expect(code).toBe(0);
    const last = text.trimEnd().split('\n').at(-1);
    expect(last).toBe('lint: files=4 rules=4 correlations=0 rejected=0 cloudtrail=2 kubernetes=1 guardduty=0 runtime=0 other=1');
  });

  it('leaves other= out when every rule maps to a Seam source', async () => {
    const { text } = await lint([join(dir, 'a.yml'), join(dir, 'c.yml')]);
    expect(text.trimEnd().split('\n').at(-1)).toBe('lint: files=2 rules=2 correlations=0 rejected=0 cloudtrail=1 kubernetes=1 guardduty=0 runtime=0');
  });

  it('reports a correlation naming a rule that is not loaded once, as an error at the reference, and counts it rejected', async () => {
    const file = join(dir, 'corr.yml');
    await writeFile(
      file,
      ['title: Two things', 'id: 6c1f9a3e-2b4d-4f8a-9e7c-1a2b3c4d5e6f', 'name: corr_two_things', 'correlation:', '    type: event_count', '    rules:', '        - lint_count_1', '        - no_such_rule', '    group-by:', '        - seam.principal.id', '    timespan: 10m', '    condition:', '        gte: 2', 'level: medium', ''].join('\n'),
    );
    const first = rule(1, '  product: aws\n  service: cloudtrail').replace('title: Lint Count 1', 'title: Lint Count 1\nname: lint_count_1');
    const a = join(dir, 'named.yml');
    await writeFile(a, first.replace('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000009'));
    const { code, text } = await lint([a, file]);
    const problems = text.split('\n').filter((l) => l.includes('no_such_rule'));
    expect(problems).toEqual([`${file}:8:11: SEAM_ERR_RULE_REFERENCE correlation 'Two things' refers to rule 'no_such_rule', which is neither a loaded rule nor a correlation`]);
    expect(code).toBe(1);
    expect(text.trimEnd().split('\n').at(-1)).toBe('lint: files=2 rules=1 correlations=0 rejected=1 cloudtrail=1 kubernetes=0 guardduty=0 runtime=0');
    await rm(file);
    await rm(a);
  });

  it('warns, naming the file, when a rule meant for Seam can never fire: a logsource that maps to no Seam source, a field in the wrong case', async () => {
    const d = await mkdtemp(join(tmpdir(), 'seam-lint-never-'));
    try {
      await writeFile(join(d, 'typo.yml'), rule(5, '  product: aws\n  service: cloudtrial'));
      await writeFile(join(d, 'noproduct.yml'), rule(6, '  service: cloudtrail'));
      await writeFile(join(d, 'windows.yml'), rule(7, '  product: windows\n  category: process_creation'));
      await writeFile(join(d, 'case.yml'), rule(8, '  product: aws\n  service: cloudtrail').replace('eventName: X8', 'EventName: X8'));
      const { code, text } = await lint([d]);
      expect(code).toBe(0);
      const lines = text.trimEnd().split('\n');
      expect(lines).toContain(`${join(d, 'typo.yml')}:1:1: SEAM_ERR_RULE_LOGSOURCE (warning) logsource {product: aws, service: cloudtrial} maps to no source Seam collects, so this rule loads but never runs (did you mean service: cloudtrail?)`);
      expect(lines).toContain(`${join(d, 'noproduct.yml')}:1:1: SEAM_ERR_RULE_LOGSOURCE (warning) logsource {service: cloudtrail} maps to no source Seam collects, so this rule loads but never runs (did you mean product: aws?)`);
      expect(lines).toContain(`${join(d, 'case.yml')}:1:1: SEAM_ERR_RULE_FIELD (warning) field EventName: Seam's cloudtrail events carry eventName (field names are case-sensitive), so as written it never matches`);
      // A rule for a product Seam does not collect is only counted.
      expect(text).not.toContain('windows.yml');
      expect(lines.at(-1)).toBe('lint: files=4 rules=4 correlations=0 rejected=0 cloudtrail=1 kubernetes=0 guardduty=0 runtime=0 other=3');
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});


describe("Seam's pack lints clean", () => {
  it('has no problem but the placeholders a site fills in (a falsepositives entry YAML reads as a mapping is a schema warning)', async () => {
    const { lintRules } = await import('./lint.ts');
    const { diagnostics } = await lintRules([new URL('../../../detections/', import.meta.url).pathname]);
    const other = diagnostics.filter((d) => d.code !== 'SEAM_ERR_RULE_PLACEHOLDER').map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`);
    expect(other).toEqual([]);
  }, 120_000);
});

