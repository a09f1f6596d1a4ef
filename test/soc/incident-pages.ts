/**
 * The incident-page check shared by test/soc/incident-page.test.ts and `npm run test:soc`: runs the demo the
 * way `npm start` does (`seam run`, embedded, in a child process), takes the incident pages it prints, and
 * renders each in headless Chromium. A page fails on a console error, an uncaught exception, a request that
 * leaves the file, or a missing part: the chain graph's nodes and edges (each edge naming its evidence event),
 * the timeline's entries and markers, the alert cards. Screenshots (full page, and the first screen a person
 * sees) go to `shots`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { renderPage } from '../helpers/chromium.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export interface PageCheck {
  file: string;
  png: string;
  firstScreenPng: string;
  problems: string[];
  browserErrors: string[];
  counts: PageCounts;
}

export interface PageCounts {
  nodes: number;
  edges: number;
  edgesWithoutEvidence: number;
  planes: string[];
  timelineEntries: number;
  timelineMarks: number;
  alertCards: number;
  resources: number;
  scripts: number;
}

const COUNT_EXPRESSION = `(() => {
  const q = (s) => document.querySelectorAll(s);
  const edges = [...q('svg.chain path.edge')];
  return {
    nodes: q('svg.chain g.node').length,
    edges: edges.length,
    edgesWithoutEvidence: edges.filter((e) => !e.classList.contains('edge-calls') && (e.getAttribute('data-evidence') || '') === '').length,
    planes: [...new Set([...q('svg.chain g.node')].map((n) => [...n.classList].find((c) => c.startsWith('node-') && c !== 'node-origin')))],
    timelineEntries: q('tr.timeline-entry').length,
    timelineMarks: q('svg.tl circle.tl-mark').length,
    alertCards: q('article.alert').length,
    resources: q('li.resource').length,
    scripts: q('script').length,
  };
})()`;

/** Runs the demo into `stateDir` like `npm start` and returns the incident pages it printed. */
export function runDemo(stateDir: string): string[] {
  const p = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'run', '--state-dir', stateDir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEAM_LOG_LEVEL: 'warn', SEAM_KAFKA_BROKERS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (p.status !== 0) throw new Error(`seam run exited ${p.status}: ${p.stderr.slice(-2000)}`);
  return [...p.stdout.matchAll(/^ {2}incident page: (.+)$/gm)].map((m) => m[1]!.trim());
}

/** What a page must contain, in the file itself (before a browser sees it). */
function staticProblems(html: string): string[] {
  const problems: string[] = [];
  if (/<script\b[^>]*\bsrc=/i.test(html)) problems.push('loads an external script');
  if (/<link\b/i.test(html)) problems.push('has a <link> (stylesheet or font)');
  if (/@import|@font-face|url\(\s*['"]?https?:/i.test(html)) problems.push('CSS fetches something (@import, @font-face or url(http…))');
  if (/\b(?:src|href)=["']?(?:https?:)?\/\//i.test(html)) problems.push('references a network URL');
  return problems;
}

export async function checkIncidentPage(file: string, shots: string): Promise<PageCheck> {
  mkdirSync(shots, { recursive: true });
  const name = basename(file, '.html');
  const png = join(shots, `${name}.png`);
  const firstScreenPng = join(shots, `${name}-first-screen.png`);
  const problems = staticProblems(readFileSync(file, 'utf8'));
  const r = await renderPage<PageCounts>(file, png, COUNT_EXPRESSION, { width: 1440, firstScreenPng, firstScreenHeight: 1000 });
  const c = r.value;
  if (c.nodes < 2) problems.push(`chain graph has ${c.nodes} nodes`);
  if (c.edges < 1) problems.push(`chain graph has ${c.edges} edges`);
  if (c.edgesWithoutEvidence > 0) problems.push(`${c.edgesWithoutEvidence} chain edges name no evidence event`);
  if (c.timelineEntries < 1) problems.push('timeline has no entries');
  if (c.timelineMarks !== c.timelineEntries && c.timelineMarks < 1) problems.push('timeline has no markers');
  if (c.alertCards < 1) problems.push('no alert cards');
  if (c.scripts > 0) problems.push(`${c.scripts} script elements (the page needs none)`);
  for (const u of r.externalRequests) problems.push(`requested ${u}`);
  return { file, png, firstScreenPng, problems, browserErrors: r.errors, counts: c };
}
