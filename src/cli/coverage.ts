import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RuleOverride } from '../detect/sigma/types.ts';

export interface CoverageCliOptions {
  rules: string[];
  out: string;
  doc?: string;
  check?: boolean;
  /** A site's seam.yml: its rules.overrides apply (the site's coverage, not the pack's). */
  config?: string;
  out_?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/**
 * `seam coverage`: writes <out>/coverage.md and <out>/coverage.html from the rules' ATT&CK tags and the
 * Stratus table; with --doc FILE rewrites the generated blocks of that page. With --check it writes nothing
 * (no report files, no page) and only says whether the page is current. Exit 1 on a Stratus technique without a medium+ detection, an unknown
 * detection name, missing markers or (with --check) a page that drifted.
 */
export async function coverageCommand(o: CoverageCliOptions): Promise<number> {
  const out = o.out_ ?? process.stdout;
  const err = o.err ?? process.stderr;
  const { computeCoverage, coverageHtml, coverageMarkdown, renderBlocks, updateDoc } = await import('../report/coverage.ts');
  const root = process.cwd();
  let overrides: RuleOverride[] | undefined;
  if (o.config !== undefined) {
    const { loadCliConfig } = await import('./config.ts');
    const loaded = await loadCliConfig(o.config, process.env, err);
    if (loaded === undefined) return 2;
    overrides = loaded.config.rules.overrides;
  }
  const c = await computeCoverage(o.rules, { root, ...(overrides?.length ? { overrides } : {}) });
  // A site's overrides change what the report shows: each one said.
  for (const line of c.overrides) out.write(`coverage: ${line}\n`);
  // --check writes nothing: neither the page nor the report files (CI runs it in a read-only checkout).
  let written = '';
  if (!o.check) {
    const outDir = resolve(o.out);
    await mkdir(outDir, { recursive: true });
    const md = join(outDir, 'coverage.md');
    const html = join(outDir, 'coverage.html');
    await writeFile(md, coverageMarkdown(c, { docDir: outDir, root, paths: o.rules }));
    await writeFile(html, coverageHtml(c, { docDir: outDir, root, paths: o.rules, generatedAt: new Date().toISOString() }));
    written = ` markdown=${md} html=${html}`;
  }
  let code = 0;
  for (const p of c.problems) {
    err.write(`seam coverage: ${p}\n`);
    code = 1;
  }
  let docState = '';
  if (o.doc !== undefined) {
    const docPath = resolve(o.doc);
    const before = await readFile(docPath, 'utf8');
    const { text, missing } = updateDoc(before, renderBlocks(c, { docDir: dirname(docPath), root, paths: o.rules }));
    if (missing.length > 0) {
      err.write(`seam coverage: ${o.doc} has no markers for ${missing.join(', ')} (<!-- seam coverage: NAME ... --> … <!-- /seam coverage: NAME -->)\n`);
      code = 1;
    }
    if (missing.length > 0 && text === before) {
      // No block of the page could be checked or written: not "current" (a wrong --doc, README.md for docs/coverage.md).
      docState = ' doc=no_markers';
    } else if (o.check) {
      docState = text === before ? ' doc=current' : ' doc=drifted';
      if (text !== before) {
        err.write(`seam coverage: ${o.doc} is out of date: run \`seam coverage --doc ${o.doc}\`\n`);
        code = 1;
      }
    } else if (text !== before) {
      await writeFile(docPath, text);
      docState = ' doc=updated';
    } else docState = ' doc=current';
  }
  const mediumPlus = c.techniques.filter((t) => t.byLevel.critical + t.byLevel.high + t.byLevel.medium > 0).length;
  out.write(
    `coverage: detections=${c.entries.length} techniques=${c.techniques.length} techniques_medium_plus=${mediumPlus} tactics=${c.tactics.length} stratus=${c.stratus.filter((s) => s.caught).length}/${c.stratus.length} filters=${c.filters}${docState}${written}\n`,
  );
  return code;
}
