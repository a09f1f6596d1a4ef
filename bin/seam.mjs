#!/usr/bin/env node
// Entry point for the `seam` command (ADR 0013). It runs the compiled JavaScript in dist/ (`npm run build`)
// when that build is present and not older than the sources, and the TypeScript sources through tsx's
// loader otherwise, so `npm ci && npm start` works on a fresh clone with no build step.
//
// A stale dist/ never runs silently: when any src/**/*.ts (tests aside) is newer than the build stamp,
// Seam says so on stderr and runs the sources. An image without src/ runs dist/ as it is.
//   SEAM_RUNTIME=tsx    always run the sources
//   SEAM_RUNTIME=dist   always run dist/, and fail when it is missing or stale
//   SEAM_DIST_DIR=DIR   where the build is (default dist/; tests build elsewhere)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const distDir = resolve(root, process.env.SEAM_DIST_DIR ?? 'dist');
const mode = process.env.SEAM_RUNTIME ?? 'auto';
if (!['auto', 'tsx', 'dist'].includes(mode)) {
  process.stderr.write(`seam: SEAM_RUNTIME must be auto, tsx or dist, not ${mode}\n`);
  process.exit(2);
}

/** Why dist/ cannot run (missing or stale), or undefined when it can. */
function distProblem() {
  const stampFile = join(distDir, 'build-stamp.json');
  if (!existsSync(stampFile)) return `no build in ${relative(root, distDir) || distDir} (npm run build)`;
  let builtAt;
  try {
    builtAt = JSON.parse(readFileSync(stampFile, 'utf8')).builtAtMs;
  } catch {
    return `${stampFile} is unreadable (npm run build)`;
  }
  const src = join(root, 'src');
  if (!existsSync(src)) return undefined;
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
    const file = join(e.parentPath, e.name);
    if (statSync(file).mtimeMs > builtAt) return `${relative(root, file)} is newer than the build in ${relative(root, distDir)} (npm run build)`;
  }
  return undefined;
}

let entry = join(root, 'src/cli/main.ts');
if (mode !== 'tsx') {
  const problem = distProblem();
  if (problem === undefined) entry = join(distDir, 'cli/main.js');
  else if (mode === 'dist') {
    process.stderr.write(`seam: SEAM_RUNTIME=dist but ${problem}\n`);
    process.exit(2);
  } else if (existsSync(distDir) && existsSync(join(distDir, 'build-stamp.json'))) {
    // A build that exists but is stale is worth a word; no build at all is the normal fresh-clone case.
    process.stderr.write(`seam: ${problem}; running the sources through tsx\n`);
  }
}
if (entry.endsWith('.ts')) (await import('tsx/esm/api')).register();

// `seam … | head` closes stdout early: stop quietly, as other Unix tools do, instead of crashing on EPIPE.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
