/**
 * `seam coverage`: the ATT&CK coverage of a rule pack, computed from the rules' tags — techniques × tactics ×
 * detections × levels — plus the Stratus Red Team technique table (src/report/stratus-techniques.ts), as
 * Markdown and as one self-contained HTML page. docs/coverage.md holds the same blocks between
 * `<!-- seam coverage: NAME -->` markers; `--doc FILE` rewrites them and `--check` fails when they drift.
 */
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ATTACK_TACTICS } from '../detect/attack-tags.ts';
import { NATIVE_DETECTIONS } from '../detect/native/registry.ts';
import { countRuleTests } from '../detect/rule-tests.ts';
import { lintRules } from '../detect/sigma/lint.ts';
import { throwIfEmpty } from '../detect/sigma/ruleset.ts';
import type { RuleOverride } from '../detect/sigma/types.ts';
import { DEFAULT_LEVEL } from '../detect/sigma/validate.ts';
import { STRATUS_TECHNIQUES, type StratusTechnique } from './stratus-techniques.ts';

export const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type Level = (typeof LEVELS)[number];
const MEDIUM_PLUS = new Set<string>(['medium', 'high', 'critical']);

export interface CoverageEntry {
  kind: 'rule' | 'correlation' | 'native';
  /** Rule file name without `.yml` (what docs link), or the native detection's id. */
  name: string;
  title: string;
  level: string;
  tags: string[];
  /** Repository-relative path (posix) of the rule file; none for natives. */
  file?: string;
  /** First folder under the rules path (`cloudtrail`, `correlations`, …), or `native`. */
  folder: string;
  /** That folder as the glance table names it (posix, relative to the root, absolute outside it): `detections/cloudtrail`, or the rules path itself for a rule at its top. */
  folderPath?: string;
  /** Repository-relative paths (posix) of the meta-filters that narrow this rule, if any. */
  filteredBy?: string[];
}

export interface TechniqueRow {
  id: string;
  tactics: string[];
  byLevel: Record<Level, number>;
  entries: CoverageEntry[];
}

export interface StratusRow extends StratusTechnique {
  resolved: (CoverageEntry | undefined)[];
  caught: boolean;
}

export interface Coverage {
  entries: CoverageEntry[];
  lintLine: string;
  /** Lint warnings by code (`seam rules lint` prints each; the pack loads with them). */
  lintWarnings: Record<string, number>;
  /** The pack's rule tests as `seam rules test` would run them (counted, not run). */
  ruleTests: { files: number; cases: number; missing: number; errors: number };
  files: number;
  tactics: { tactic: string; rules: number; mediumPlus: number; natives: number }[];
  techniques: TechniqueRow[];
  stratus: StratusRow[];
  /** Meta-filters loaded (`filter:` documents); the rules they narrow say so (`filteredBy`). */
  filters: number;
  /** What each site override applied changed (seam coverage --config: seam.yml rules.overrides); empty for the pack. */
  overrides: string[];
  /** Problems a pack must not have: a Stratus row naming an unknown detection, a technique none of whose detections is medium+. */
  problems: string[];
}

const TECHNIQUE = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;

/** Folder descriptions for the pack-at-a-glance table; other folders are listed without one. */
const FOLDER_TEXT: Readonly<Record<string, string>> = {
  cloudtrail: 'CloudTrail management (and, where noted, data) events',
  kubernetes: 'EKS Kubernetes audit log',
  correlations: 'Sigma correlations over rules of the other folders (event_count, value_count, temporal)',
  runtime: '`seam.runtime/v1` sensor events (Fargate sidecar, see [runtime-schema.md](runtime-schema.md))',
  guardduty: 'GuardDuty findings (GetFindings, SDK or EventBridge shape)',
};

function posix(p: string): string {
  return p.split(sep).join('/');
}

function folderOf(file: string, roots: string[], root: string): { folder: string; folderPath: string } {
  const shown = (dir: string): string => {
    const rel = relative(root, dir);
    return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? posix(dir) : posix(rel);
  };
  for (const r of roots) {
    const rel = relative(r, file);
    if (!rel.startsWith('..') && rel !== '') {
      const parts = posix(rel).split('/');
      return parts.length > 1 ? { folder: parts[0]!, folderPath: shown(join(r, parts[0]!)) } : { folder: basename(r), folderPath: shown(r) };
    }
  }
  return { folder: basename(dirname(file)), folderPath: shown(dirname(file)) };
}

export function tacticName(t: string): string {
  return t
    .split('-')
    .map((w) => (w === 'and' ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
}

/** Loads the pack at `paths` (as `seam rules lint` does) and the native registry, and computes the coverage. */
export async function computeCoverage(paths: string[], opts: { root?: string; overrides?: readonly RuleOverride[] } = {}): Promise<Coverage> {
  const root = resolve(opts.root ?? process.cwd());
  const roots = paths.map((p) => resolve(root, p));
  // As `seam rules lint` sees the pack, so the line shown is the one lint prints.
  const lint = await lintRules(roots, opts.overrides?.length ? { overrides: opts.overrides } : {});
  const loaded = lint.loaded;
  throwIfEmpty(loaded);
  const { ruleset, stats } = loaded;
  const lintWarnings: Record<string, number> = {};
  for (const d of lint.diagnostics) if (d.severity === 'warning') lintWarnings[d.code] = (lintWarnings[d.code] ?? 0) + 1;
  const ruleTests = await countRuleTests(roots);
  const entries: CoverageEntry[] = [];
  for (const r of ruleset.rules) {
    const filteredBy = r.filteredBy === undefined ? {} : { filteredBy: [...new Set(r.filteredBy)].map((f) => posix(relative(root, f))) };
    entries.push({ kind: 'rule', name: basename(r.file, '.yml'), title: r.title, level: r.level ?? DEFAULT_LEVEL, tags: r.tags, file: posix(relative(root, r.file)), ...folderOf(r.file, roots, root), ...filteredBy });
  }
  for (const c of ruleset.correlations) {
    const doc = (c.doc ?? {}) as { title?: unknown; level?: unknown; tags?: unknown };
    const tags = Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
    entries.push({ kind: 'correlation', name: basename(c.file, '.yml'), title: typeof doc.title === 'string' ? doc.title : (c.name ?? c.id ?? ''), level: typeof doc.level === 'string' ? doc.level : DEFAULT_LEVEL, tags, file: posix(relative(root, c.file)), ...folderOf(c.file, roots, root) });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const natives: CoverageEntry[] = Object.values(NATIVE_DETECTIONS)
    .map((d) => ({ kind: 'native' as const, name: d.id, title: d.title, level: d.level, tags: d.tags, folder: 'native' }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const all = [...entries, ...natives];

  const tactics = ATTACK_TACTICS.map((tactic) => {
    const tag = `attack.${tactic}`;
    const files = entries.filter((e) => e.tags.includes(tag));
    return { tactic, rules: files.length, mediumPlus: files.filter((e) => MEDIUM_PLUS.has(e.level)).length, natives: natives.filter((e) => e.tags.includes(tag)).length };
  }).filter((t) => t.rules > 0 || t.natives > 0);

  const byTechnique = new Map<string, TechniqueRow>();
  for (const e of all) {
    const own = e.tags.filter((t) => t.startsWith('attack.') && ATTACK_TACTICS.includes(t.slice(7))).map((t) => t.slice(7));
    for (const tag of e.tags) {
      const m = TECHNIQUE.exec(tag);
      if (!m) continue;
      const id = m[1]!.toUpperCase();
      let row = byTechnique.get(id);
      if (!row) {
        row = { id, tactics: [], byLevel: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 }, entries: [] };
        byTechnique.set(id, row);
      }
      if (row.entries.includes(e)) continue;
      row.entries.push(e);
      const lv = (LEVELS as readonly string[]).includes(e.level) ? (e.level as Level) : 'informational';
      row.byLevel[lv]++;
      for (const t of own) if (!row.tactics.includes(t)) row.tactics.push(t);
    }
  }
  const order = (t: string): number => ATTACK_TACTICS.indexOf(t);
  const techniques = [...byTechnique.values()]
    .map((r) => ({ ...r, tactics: r.tactics.sort((a, b) => order(a) - order(b)) }))
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));

  const byName = new Map(all.map((e) => [e.name, e]));
  const problems: string[] = [];
  const unknown: string[] = [];
  const uncaught: string[] = [];
  const stratus = STRATUS_TECHNIQUES.map((s) => {
    const resolved = s.detections.map((n) => byName.get(n));
    s.detections.forEach((n, i) => {
      if (resolved[i] === undefined) unknown.push(`stratus ${s.technique}: no detection named ${n} in ${paths.join(', ')} or the native registry`);
    });
    const caught = resolved.some((e) => e !== undefined && MEDIUM_PLUS.has(e.level));
    if (!caught) uncaught.push(s.technique);
    return { ...s, resolved, caught };
  });
  // The Stratus table names the pack's detections. A few unknown names are a renamed or deleted pack rule, each said;
  // many mean the pack is not among the paths (coverage of SigmaHQ's rules alone printed 155 lines): one line each.
  const FEW = 3;
  if (unknown.length <= FEW) problems.push(...unknown);
  else {
    const names = [...new Set(unknown.map((u) => u.replace(/^.*no detection named (\S+) in .*$/, '$1')))];
    problems.push(
      `stratus: no detection named ${names.slice(0, FEW).join(', ')} or ${names.length - FEW} more of the ${new Set(STRATUS_TECHNIQUES.flatMap((t) => t.detections)).size} the Stratus table names in ${paths.join(', ')} or the native registry: the table names Seam's pack detections, so add \`--rules detections\` (the pack) to check it; without it the Stratus figures count only what these rules catch`,
    );
  }
  if (uncaught.length <= FEW) problems.push(...uncaught.map((t) => `stratus ${t}: none of its detections is at medium or above`));
  else problems.push(`stratus: ${uncaught.length} of ${STRATUS_TECHNIQUES.length} techniques have no detection at medium or above among these rules (${uncaught.slice(0, FEW).join(', ')}, …; the report's Stratus table lists each)`);

  return { entries: all, lintLine: lint.line, lintWarnings, ruleTests, files: stats.files, tactics, techniques, stratus, filters: stats.filters, problems, overrides: loaded.overrides ?? [] };
}

// ---------------------------------------------------------------------------------------------- Markdown

/** `[name](../detections/…yml) (level)` as docs/coverage.md cites a rule; natives as `` native `id` (level) ``. */
function cite(e: CoverageEntry | undefined, name: string, docDir: string, root: string): string {
  if (e === undefined) return `\`${name}\` (missing)`;
  if (e.file === undefined) return `native \`${e.name}\` (${e.level})`;
  // A filter ANDs its condition to the rule: the row is only as good as the filter lets it be, so name it.
  const narrowed = (e.filteredBy ?? []).map((f) => `[${basename(f)}](${posix(relative(docDir, resolve(root, f)))})`);
  return `[${e.name}](${posix(relative(docDir, resolve(root, e.file)))}) (${e.level})${narrowed.length > 0 ? ` narrowed by ${narrowed.join(', ')}` : ''}`;
}

function levelCounts(c: Coverage, kinds: CoverageEntry['kind'][]): string {
  const n = new Map<string, number>();
  for (const e of c.entries) if (kinds.includes(e.kind)) n.set(e.level, (n.get(e.level) ?? 0) + 1);
  return LEVELS.map((l) => `${l} ${n.get(l) ?? 0}`).join(', ');
}

export interface RenderOptions {
  /** Folder of the Markdown file the links are relative to (docs/ for docs/coverage.md). */
  docDir: string;
  /** Repository root the entries' `file` paths are relative to. */
  root: string;
  /** The rules paths as the user gave them, for the lint command shown. */
  paths: string[];
}

export function glanceBlock(c: Coverage, o: RenderOptions): string {
  // By the folder's path, so two rules paths with a `cloudtrail/` each (or flat folders of the same name) keep their rows.
  const folders = new Map<string, { folder: string; rules: number; correlations: number }>();
  for (const e of c.entries) {
    if (e.kind === 'native') continue;
    const key = e.folderPath ?? e.folder;
    const f = folders.get(key) ?? { folder: e.folder, rules: 0, correlations: 0 };
    if (e.kind === 'rule') f.rules++;
    else f.correlations++;
    folders.set(key, f);
  }
  const rows = [...folders.entries()]
    .sort((a, b) => b[1].rules + b[1].correlations - (a[1].rules + a[1].correlations) || a[0].localeCompare(b[0]))
    .map(([folder, f]) => {
      const what = [f.rules > 0 ? `${f.rules} rules` : '', f.correlations > 0 ? `${f.correlations} correlations` : ''].filter(Boolean).join(', ');
      return `| \`${folder}/\` | ${FOLDER_TEXT[f.folder] ?? ''} | ${what} |`;
    });
  const natives = c.entries.filter((e) => e.kind === 'native').length;
  return [
    `\`node bin/seam.mjs rules lint ${o.paths.join(' ')}\`:`,
    '',
    '```',
    c.lintLine,
    '```',
    '',
    '| Folder | What it reads | Files |',
    '|---|---|---|',
    ...rows,
    `| \`src/detect/native/\` | identity graph and baselines (TypeScript, not Sigma) | ${natives} native detections |`,
    '',
    `Levels over the ${c.files} files: ${levelCounts(c, ['rule', 'correlation'])}. Native detections: ${levelCounts(c, ['native'])}.`,
  ].join('\n');
}

export function tacticsBlock(c: Coverage): string {
  return [
    '| Tactic | Rules | of which medium+ | Native detections |',
    '|---|---|---|---|',
    ...c.tactics.map((t) => `| ${tacticName(t.tactic)} | ${t.rules} | ${t.mediumPlus} | ${t.natives} |`),
  ].join('\n');
}

function attackUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

/** Techniques × levels (counts); with `names`, the detections of each technique too. */
export function techniquesBlock(c: Coverage, o: RenderOptions & { names?: boolean }): string {
  const head = o.names ? '| Technique | Tactics | critical | high | medium | low | info | Detections |' : '| Technique | Tactics | critical | high | medium | low | info |';
  const rule = o.names ? '|---|---|---|---|---|---|---|---|' : '|---|---|---|---|---|---|---|';
  const rows = c.techniques.map((t) => {
    const cells = [`[${t.id}](${attackUrl(t.id)})`, t.tactics.map(tacticName).join(', '), ...LEVELS.map((l) => String(t.byLevel[l] || ''))];
    if (o.names) cells.push(t.entries.map((e) => cite(e, e.name, o.docDir, o.root)).join('<br>'));
    return `| ${cells.join(' | ')} |`;
  });
  const mediumPlus = c.techniques.filter((t) => t.byLevel.critical + t.byLevel.high + t.byLevel.medium > 0).length;
  return [`${c.techniques.length} ATT&CK techniques and sub-techniques are tagged, ${mediumPlus} of them by at least one detection at medium or above.`, '', head, rule, ...rows].join('\n');
}

export function stratusBlock(c: Coverage, o: RenderOptions): string {
  return [
    '| Technique | Seam rule(s) and level | Events it keys on | How verified |',
    '|---|---|---|---|',
    ...c.stratus.map((s) => `| \`${s.technique}\`${s.note ? ` ${s.note}` : ''} | ${s.detections.map((n, i) => cite(s.resolved[i], n, o.docDir, o.root)).join('<br>')} | ${s.keysOn} | ${s.verified} |`),
    '',
    `${c.stratus.filter((s) => s.caught).length} / ${c.stratus.length} techniques have a detection at medium or above.`,
  ].join('\n');
}

/** What each lint warning code means, for the checks table. */
const WARNING_TEXT: Readonly<Record<string, string>> = {
  SEAM_ERR_RULE_PLACEHOLDER: 'placeholders with no site values (see "Configuration placeholders")',
};

/** The first rows of "How the pack was checked": lint and the rule tests, as the pack is now. */
export function checksBlock(c: Coverage, o: RenderOptions): string {
  const paths = o.paths.join(' ');
  const warnings = Object.entries(c.lintWarnings).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = warnings.reduce((n, [, k]) => n + k, 0);
  const warned = total === 0 ? 'no warnings' : `${total} warning${total === 1 ? '' : 's'}: ${warnings.map(([code, k]) => `${k} ${code}${WARNING_TEXT[code] ? `, ${WARNING_TEXT[code]}` : ''}`).join('; ')}`;
  const t = c.ruleTests;
  const tests = `\`files=${t.files} cases=${t.cases}\`${t.missing > 0 ? `, ${t.missing} rule files without a test file` : ''}${t.errors > 0 ? `, ${t.errors} test files that do not parse` : ''}`;
  return [
    '| Check | Command | Result | Source |',
    '|---|---|---|---|',
    `| Every rule loads | \`node bin/seam.mjs rules lint ${paths}\` | \`${c.lintLine}\` (${warned}) | \`seam coverage --doc\` (this block) |`,
    `| Rule tests (each rule's sibling \`*.test.yml\`: positives and near-miss negatives; correlations get timelines incl. "too far apart" / "below threshold") | \`node bin/seam.mjs rules test ${paths}\` | ${tests}; every case passes: \`src/detect/detections.test.ts\` (part of \`npm test\`) runs them all and fails on a \`FAIL\`, \`ERROR\` or \`MISSING\` line | counted by \`seam coverage --doc\` (this block) |`,
  ].join('\n');
}

export const BLOCKS = ['glance', 'checks', 'tactics', 'techniques', 'stratus'] as const;
export type BlockName = (typeof BLOCKS)[number];

export function renderBlocks(c: Coverage, o: RenderOptions): Record<BlockName, string> {
  return { glance: glanceBlock(c, o), checks: checksBlock(c, o), tactics: tacticsBlock(c), techniques: techniquesBlock(c, o), stratus: stratusBlock(c, o) };
}

/** The whole report as one Markdown page (written by `seam coverage` next to the HTML page). */
export function coverageMarkdown(c: Coverage, o: RenderOptions): string {
  return [
    '# Detection coverage (generated by `seam coverage`)',
    '',
    '## The pack at a glance',
    '',
    glanceBlock(c, o),
    '',
    ...(c.overrides.length > 0 ? ['## Site overrides (seam.yml rules.overrides)', '', ...c.overrides.map((l) => `- ${l.replace(/^override: /, '')}`), ''] : []),
    '## How the pack was checked',
    '',
    checksBlock(c, o),
    '',
    '## ATT&CK tactics',
    '',
    tacticsBlock(c),
    '',
    '## ATT&CK techniques',
    '',
    techniquesBlock(c, { ...o, names: true }),
    '',
    '## Stratus Red Team techniques',
    '',
    stratusBlock(c, o),
    '',
  ].join('\n');
}

const marker = (name: string): RegExp => new RegExp(`(<!-- seam coverage: ${name} [^\\n]*-->\\n)([\\s\\S]*?)(\\n<!-- /seam coverage: ${name} -->)`);

/** `doc` with each generated block replaced; `missing` names the blocks whose markers it lacks. */
export function updateDoc(doc: string, blocks: Record<BlockName, string>): { text: string; missing: BlockName[] } {
  let text = doc;
  const missing: BlockName[] = [];
  for (const name of BLOCKS) {
    const re = marker(name);
    if (!re.test(text)) missing.push(name);
    else text = text.replace(re, (_m, open: string, _old: string, close: string) => `${open}${blocks[name]}${close}`);
  }
  return { text, missing };
}

// ---------------------------------------------------------------------------------------------- HTML

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** Inline Markdown of the table cells (code spans and links) as HTML, escaped. */
function inline(md: string): string {
  return esc(md)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, t: string, href: string) => (href.startsWith('https://') ? `<a href="${href}">${t}</a>` : `<span title="${href}">${t}</span>`))
    .replace(/&lt;br&gt;/g, '<br>');
}

/** ` narrowed by filter_x.yml` (the path on hover), as the Markdown's cite names the filters that narrow a rule. */
function narrowedHtml(e: CoverageEntry | undefined): string {
  const fs = e?.filteredBy ?? [];
  return fs.length === 0 ? '' : ` <small class="narrowed">narrowed by ${fs.map((f) => `<span title="${esc(f)}">${esc(basename(f))}</span>`).join(', ')}</small>`;
}

function topLevel(t: TechniqueRow): Level | undefined {
  return LEVELS.find((l) => t.byLevel[l] > 0);
}

/** How many meta-filters loaded and which rules they narrow (the summary line's `filters=N`, with names). */
function filtersHtml(c: Coverage): string {
  const narrowed = c.entries.filter((e) => (e.filteredBy ?? []).length > 0);
  const head = `<code>filters=${c.filters}</code>: ${c.filters === 1 ? 'one meta-filter' : `${c.filters} meta-filters`} loaded`;
  if (narrowed.length === 0) return `${head}${c.filters === 0 ? '' : ', narrowing no rule'}.`;
  return `${head}, narrowing ${narrowed.map((e) => `${esc(e.name)}${narrowedHtml(e)}`).join('; ')}. A filter is ANDed to the rule: the rule catches only what it lets through.`;
}

/** One self-contained page (no script, no external asset): the matrix by tactic, the technique list, the Stratus table. */
export function coverageHtml(c: Coverage, o: RenderOptions & { generatedAt?: string }): string {
  const cols = c.tactics.map((t) => {
    const techs = c.techniques.filter((x) => x.tactics.includes(t.tactic));
    const cells = techs
      .map((x) => {
        const lv = topLevel(x) ?? 'informational';
        const n = x.entries.length;
        const list = x.entries.map((e) => `<li class="lv-${esc(e.level)}">${esc(e.name)} <small>(${esc(e.level)}${e.kind === 'native' ? ', native' : ''})</small>${narrowedHtml(e)}</li>`).join('');
        return `<details class="t lv-${lv}"><summary><a href="${attackUrl(x.id)}">${x.id}</a> <b>${n}</b></summary><ul>${list}</ul></details>`;
      })
      .join('');
    return `<section class="col"><h3>${esc(tacticName(t.tactic))}</h3><p class="sub">${t.rules} rules, ${t.mediumPlus} medium+, ${t.natives} native</p>${cells}</section>`;
  });
  const stratusRows = c.stratus
    .map((s) => `<tr class="${s.caught ? 'ok' : 'miss'}"><td><code>${esc(s.technique)}</code>${s.note ? ` ${inline(s.note)}` : ''}</td><td>${s.detections.map((n, i) => `${esc(n)} <small>(${esc(s.resolved[i]?.level ?? 'missing')})</small>${narrowedHtml(s.resolved[i])}`).join('<br>')}</td><td>${inline(s.keysOn)}</td><td>${inline(s.verified)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Seam detection coverage</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{margin-top:2rem}code{font-size:12px}
.legend span{display:inline-block;padding:2px 8px;margin-right:4px;border-radius:3px}
.matrix{display:flex;gap:6px;overflow-x:auto;align-items:flex-start}
.col{min-width:150px;max-width:180px}.col h3{font-size:13px;margin:0 0 2px}.sub{font-size:11px;color:#555;margin:0 0 6px}
details.t{border-radius:3px;margin:0 0 3px;padding:2px 5px;font-size:12px}
details.t ul{margin:4px 0 2px;padding-left:14px}details.t li{word-break:break-all}
.lv-critical{background:#b3261e;color:#fff}.lv-high{background:#e8710a;color:#fff}.lv-medium{background:#f9cb48}
.lv-low{background:#d2e3fc}.lv-informational{background:#eceff1}
details.t a{color:inherit}li.lv-critical,li.lv-high,li.lv-medium,li.lv-low,li.lv-informational{background:none;color:inherit}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
tr.miss td{background:#fde7e9}.narrowed{font-style:italic}
</style></head><body>
<h1>Seam detection coverage</h1>
<p><code>${esc(c.lintLine)}</code>${o.generatedAt ? ` &middot; generated ${esc(o.generatedAt)}` : ''}</p>
<p>${c.techniques.length} ATT&amp;CK techniques tagged by ${c.entries.length} detections (Sigma rules, correlations and native detections). A cell's colour is the highest level among the technique's detections; open it for the list.</p>
<p>${filtersHtml(c)}</p>
<p class="legend">${LEVELS.map((l) => `<span class="lv-${l}">${l}</span>`).join('')}</p>
<h2>ATT&amp;CK matrix</h2>
<div class="matrix">${cols.join('\n')}</div>
<h2>Stratus Red Team techniques</h2>
<p>${c.stratus.filter((s) => s.caught).length} / ${c.stratus.length} techniques have a detection at medium or above.</p>
<table><thead><tr><th>Technique</th><th>Detections (level)</th><th>Events it keys on</th><th>How verified</th></tr></thead><tbody>
${stratusRows}
</tbody></table>
</body></html>
`;
}
