import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `%name%` as a rule writes a placeholder (`|expand`); a description naming one counts as a use too. */
const PLACEHOLDER = /%([A-Za-z0-9_][A-Za-z0-9_.:-]*)%/g;

async function ruleFiles(path: string, out: string[], depth = 0): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    return; // a missing rules path is reported where the rules load
  }
  if (s.isFile()) {
    if (/\.ya?ml$/i.test(path)) out.push(path);
    return;
  }
  if (!s.isDirectory() || depth > 32) return;
  for (const e of await readdir(path)) await ruleFiles(join(path, e), out, depth + 1);
}

/**
 * The placeholder names the rule, correlation and filter files under `paths` name (`%name%`), read from the
 * files' text: cheap (no model is built, so a rule cache hit does not hide a name) and it errs towards "used".
 */
export async function placeholderNamesUsed(paths: readonly string[]): Promise<Set<string>> {
  const files: string[] = [];
  for (const p of paths) await ruleFiles(p, files);
  const names = new Set<string>();
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    if (!text.includes('%')) continue;
    for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1]!);
  }
  return names;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The used name closest to `name`, when it is close enough to be a typo of it. */
export function didYouMean(name: string, used: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const low = name.toLowerCase();
  for (const u of used) {
    const d = editDistance(low, u.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && u < best)) {
      best = u;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * One warning per key of a site's placeholder values that no rule or filter under `paths` uses: a misspelt key is
 * otherwise silently ignored while the rule it meant runs with an empty list (review-newuser2 M4).
 */
export function unusedPlaceholderWarnings(keys: Iterable<string>, used: ReadonlySet<string>, where: string): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (used.has(k)) continue;
    const near = didYouMean(k, used);
    out.push(`placeholder '${k}' in ${where} is used by no loaded rule or filter${near ? ` (did you mean '${near}'?)` : ''}`);
  }
  return out;
}
