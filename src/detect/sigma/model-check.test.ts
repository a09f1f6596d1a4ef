import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';
import type { Diagnostic } from './types.ts';
import { readYaml } from './read.ts';
import { validateDoc } from './validate.ts';
import { buildRuleModel, checkRuleModel } from './model.ts';

const CORPUS = join(SHARED, 'sigma');
const DETECTIONS = join(import.meta.dirname, '..', '..', '..', 'detections');
const OPTS = { placeholders: { admins: ['alice', 'bob'] }, maxPlaceholderExpansion: 4 };

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files(p, out);
    else if (/\.ya?ml$/i.test(e.name) && !/\.test\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out;
}

/** checkRuleModel against buildRuleModel on every document of a text: same outcome, same diagnostics in the same order. */
function compare(text: string, file: string): { docs: number; failed: number } {
  let docs = 0;
  let failed = 0;
  for (const doc of readYaml(text, file).docs) {
    const meta = validateDoc(doc, file, []);
    if (!meta) continue;
    const built: Diagnostic[] = [];
    const checked: Diagnostic[] = [];
    const ok = buildRuleModel(meta, file, OPTS, built).detection !== undefined;
    expect({ file, ok: checkRuleModel(meta, file, OPTS, checked), diags: checked }).toEqual({ file, ok, diags: built });
    docs++;
    if (!ok) failed++;
  }
  return { docs, failed };
}

describe('checkRuleModel', () => {
  it('finds what buildRuleModel finds where the patterns raise problems (placeholders, base64 of a wildcard)', () => {
    const text = [
      'title: t',
      'logsource: { product: windows, category: process_creation }',
      'detection:',
      '  a: { User|expand: "%admins%-%admins%-%admins%" }',
      '  b: { User|expand: "%nobody%" }',
      '  c: { CommandLine|base64: "a*b" }',
      '  d: { CommandLine|re: "(a+)+$" }',
      '  condition: a or b or c or d or e',
    ].join('\n');
    const r = compare(text, 'x.yml');
    expect(r).toEqual({ docs: 1, failed: 1 });
    const diags: Diagnostic[] = [];
    checkRuleModel(validateDoc(readYaml(text, 'x.yml').docs[0]!, 'x.yml', [])!, 'x.yml', OPTS, diags);
    expect(diags.map((d) => d.code)).toEqual(['SEAM_ERR_RULE_PLACEHOLDER', 'SEAM_ERR_RULE_PLACEHOLDER', 'SEAM_ERR_RULE_VALUE', 'SEAM_ERR_RULE_REGEX', 'SEAM_ERR_RULE_REFERENCE']);
  });

  it("agrees with buildRuleModel on every document of detections/", () => {
    let docs = 0;
    for (const f of files(DETECTIONS)) docs += compare(readFileSync(f, 'utf8'), f).docs;
    expect(docs).toBeGreaterThan(300);
  });

  it.skipIf(!sharedPresent(CORPUS))('agrees with buildRuleModel on every document of SigmaHQ', () => {
    let docs = 0;
    let failed = 0;
    for (const f of files(CORPUS)) {
      const r = compare(readFileSync(f, 'utf8'), f);
      docs += r.docs;
      failed += r.failed;
    }
    expect({ docs, failed }).toEqual({ docs: 3779, failed: 3 });
  }, 120_000);
});
