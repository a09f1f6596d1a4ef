import { access, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docs/coverage.md cites rule files by link, often with the rule's level in brackets after the link:
// `[name](../detections/<folder>/<name>.yml) (medium)`. Rules get renamed, deleted and re-levelled; this test
// makes such a change fail until the page is updated, so the coverage page cannot drift silently.
const ROOT = join(import.meta.dirname, '../..');
const DOC = join(ROOT, 'docs/coverage.md');
const LEVELS = 'informational|low|medium|high|critical';

interface Cite {
  text: string;
  target: string;
  level: string | undefined;
  line: number;
}

async function cites(): Promise<Cite[]> {
  const lines = (await readFile(DOC, 'utf8')).split('\n');
  const out: Cite[] = [];
  const link = new RegExp(`\\[([^\\]]+)\\]\\(([^)\\s]*detections/[^)\\s]*)\\)(?: \\((${LEVELS})\\))?`, 'g');
  lines.forEach((l, i) => {
    for (const m of l.matchAll(link)) out.push({ text: m[1]!, target: m[2]!, level: m[3], line: i + 1 });
  });
  return out;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('docs/coverage.md', () => {
  it('links only detections/ files that exist, named by their rule name', async () => {
    const all = await cites();
    // The page cites well over a hundred rules; finding only a handful means the pattern broke, not the page.
    expect(all.length).toBeGreaterThan(100);
    const problems: string[] = [];
    for (const c of all) {
      const file = resolve(dirname(DOC), c.target);
      const where = `docs/coverage.md:${c.line} ${c.target}`;
      if (!relative(ROOT, file).startsWith('detections/')) problems.push(`${where}: resolves outside detections/`);
      else if (!(await exists(file))) problems.push(`${where}: no such file`);
      else if (file.endsWith('.yml') && c.text !== basename(file, '.yml')) problems.push(`${where}: link text ${c.text} is not the rule's name`);
    }
    expect(problems).toEqual([]);
  });

  it('states each bracketed level as the rule file has it', async () => {
    const withLevel = (await cites()).filter((c) => c.level !== undefined);
    expect(withLevel.length).toBeGreaterThan(100);
    const problems: string[] = [];
    const levels = new Map<string, unknown>();
    for (const c of withLevel) {
      const file = resolve(dirname(DOC), c.target);
      if (!(await exists(file))) continue; // reported by the test above
      if (!levels.has(file)) levels.set(file, (parse(await readFile(file, 'utf8')) as { level?: unknown } | null)?.level);
      const level = levels.get(file);
      if (level !== c.level) problems.push(`docs/coverage.md:${c.line} ${c.text}: page says ${c.level}, rule file says ${String(level)}`);
    }
    expect(problems).toEqual([]);
  });
});
