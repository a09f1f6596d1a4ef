import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../core/config/load.ts';
import { SeamConfig } from '../core/config/schema.ts';
import { loadSuppressions, SuppressionsFile } from '../sinks/delivery/config.ts';
import { DeliveryConfig, loadDeliveryConfig } from '../sinks/registry.ts';

/**
 * The configuration snippets of README.md and docs/ are loaded by Seam's own loaders, so a renamed field or a new
 * check in a schema cannot leave a page telling users to write what Seam refuses.
 *
 * Which blocks: ```yaml (or ```yml) blocks. The fence may name the file the block is (```yaml seam.yml,
 * ```yaml delivery.yml, ```yaml suppressions.yml) or say it is none of them (```yaml other). Unnamed, a block is the
 * file whose top-level keys all its top-level keys are: a suppressions file ({ suppressions }), a delivery file
 * (outputs, routes, ...) or seam.yml (kafka, collect, rules, ...). A block whose top-level keys mix one of these
 * files' keys with others is ambiguous and fails until its fence says what it is; a block with none of them (Sigma
 * rules, rule tests, Kubernetes manifests) is not a Seam config.
 */
const ROOT = join(import.meta.dirname, '../..');
const KINDS = {
  'suppressions.yml': { keys: Object.keys(SuppressionsFile.shape), load: (f: string): unknown => loadSuppressions(f) },
  'delivery.yml': { keys: Object.keys(DeliveryConfig.shape), load: (f: string): unknown => loadDeliveryConfig(f) },
  // An empty environment: a SEAM_* variable of the machine running the test must not change what a snippet says.
  'seam.yml': { keys: Object.keys(SeamConfig.shape), load: (f: string): unknown => loadConfig(f, {}, { unresolvedRefs: 'report' }) },
} as const;
type Kind = keyof typeof KINDS;

interface Snippet {
  /** docs/inputs.md:102 (the fence's line). */
  where: string;
  info: string;
  text: string;
}

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name));
    }
  };
  walk(join(ROOT, 'docs'));
  return out;
}

function yamlSnippets(file: string): Snippet[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(yaml|yml)\b\s*(.*)$/i.exec(lines[i]!);
    if (!open) {
      // Skip any other fenced block whole, so a ``` inside it is not read as an opening.
      const other = /^\s*(`{3,}|~{3,})/.exec(lines[i]!);
      if (other) while (++i < lines.length && !lines[i]!.trim().startsWith(other[1]!));
      continue;
    }
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.trim().startsWith(open[2]!); j++) body.push(lines[j]!.slice(Math.min(indent, lines[j]!.length - lines[j]!.trimStart().length)));
    out.push({ where: `${relative(ROOT, file)}:${i + 1}`, info: open[4]!.trim(), text: `${body.join('\n')}\n` });
    i = j;
  }
  return out;
}

/** The Seam file a snippet is, `undefined` when none, or why it cannot be told. */
function kindOf(s: Snippet): Kind | undefined | { ambiguous: string } {
  const named = s.info.split(/\s+/)[0] ?? '';
  if (named === 'other') return undefined;
  if (named in KINDS) return named as Kind;
  if (named !== '') return { ambiguous: `its fence names '${named}': write seam.yml, delivery.yml, suppressions.yml or other` };
  const doc = parseDocument(s.text).toJS() as unknown;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const top = Object.keys(doc);
  if (top.length === 0) return undefined;
  for (const k of Object.keys(KINDS) as Kind[]) if (top.every((t) => (KINDS[k].keys as readonly string[]).includes(t))) return k;
  const seam = top.filter((t) => (Object.keys(KINDS) as Kind[]).some((k) => (KINDS[k].keys as readonly string[]).includes(t)));
  if (seam.length > 0) return { ambiguous: `top-level keys ${top.join(', ')} mix Seam's (${seam.join(', ')}) with others: name the file on the fence (\`\`\`yaml seam.yml, delivery.yml, suppressions.yml or other)` };
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'seam-doc-snippets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('configuration snippets in README.md and docs/', () => {
  const snippets = markdownFiles().flatMap(yamlSnippets);
  const checked = snippets.flatMap((s) => {
    const kind = kindOf(s);
    return kind === undefined ? [] : [{ s, kind }];
  });

  it('finds the snippets (a reader that finds none would pass everything)', () => {
    // Five when this test was written: seam.yml in docs/identity.md, docs/inputs.md and docs/writing-rules.md; the
    // delivery file and a suppressions file in docs/alert-delivery.md.
    const kinds = checked.flatMap((c) => (typeof c.kind === 'string' ? [c.kind] : []));
    expect(kinds.length).toBeGreaterThanOrEqual(5);
    expect(new Set(kinds)).toEqual(new Set(['seam.yml', 'delivery.yml', 'suppressions.yml']));
  });

  it('each loads with the loader of the file it is (seam config check, seam run --delivery, suppressionsFile)', () => {
    const problems: string[] = [];
    checked.forEach(({ s, kind }, i) => {
      if (typeof kind !== 'string') {
        problems.push(`${s.where}: ${kind.ambiguous}`);
        return;
      }
      const f = join(work, `snippet-${i}-${kind}`);
      writeFileSync(f, s.text);
      try {
        KINDS[kind].load(f);
      } catch (e) {
        // The loaders say file:line:col of the snippet: said as the page's line.
        const page = s.where.replace(/:\d+$/, '');
        const fence = Number(/:(\d+)$/.exec(s.where)![1]);
        const said = (e as Error).message
          .split(`${f}:`)
          .map((part, k) => (k === 0 ? part : part.replace(/^\d+/, (l) => `${page}:${fence + Number(l)}`)))
          .join('')
          .replaceAll(f, page);
        problems.push(`${s.where} (${kind}): ${said}`);
      }
    });
    expect(problems).toEqual([]);
  });
});
