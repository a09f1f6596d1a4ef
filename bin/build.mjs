#!/usr/bin/env node
// `npm run build`: compiles src/ (tests aside) to JavaScript in dist/ with tsc and tsconfig.build.json, then
// writes the ASN table's parsed copy (dist/data/asn-ipv4.bin, keyed by the CSV package's version and size, so the
// first start does not parse the 21 MB CSV) and dist/build-stamp.json, which bin/seam.mjs compares with the
// sources' times (ADR 0013).
//   node bin/build.mjs [--out-dir DIR]     (default dist/; DIR must sit inside the repository so that
//                                           the compiled files find node_modules)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const i = process.argv.indexOf('--out-dir');
const outDir = resolve(i > 0 ? process.argv[i + 1] : join(root, 'dist'));
const startedAt = Date.now();

// Remove what an earlier build left (a deleted source must not linger as JavaScript), but keep other
// files in dist/ such as the sensor bundle (npm run build:sensor).
const tops = readdirSync(join(root, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
for (const t of [...tops, 'build-stamp.json']) rmSync(join(outDir, t), { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit', cwd: root });
} catch {
  process.stderr.write('build: tsc failed; dist/ has no build stamp, so bin/seam.mjs keeps running the sources\n');
  process.exit(1);
}
if (!existsSync(join(outDir, 'cli/main.js'))) {
  process.stderr.write(`build: ${outDir}/cli/main.js was not written\n`);
  process.exit(1);
}
// Written by the compiled loader's own encoder, at the path it reads from (dist/detect/native/ → dist/data/).
const networks = await import(pathToFileURL(join(outDir, 'detect/native/networks.js')).href);
const copy = join(outDir, 'data/asn-ipv4.bin');
try {
  networks.writeAsnTableCopy(networks.bundledAsnCsv(), copy);
} catch (e) {
  process.stderr.write(`build: cannot write the ASN table's parsed copy ${copy}: ${e.message}\n`);
  process.exit(1);
}
if (networks.SHIPPED_ASN_TABLE !== copy) {
  process.stderr.write(`build: the compiled loader reads ${networks.SHIPPED_ASN_TABLE}, not ${copy}\n`);
  process.exit(1);
}
// The stamp carries the time the build started: a source saved while tsc ran counts as newer.
writeFileSync(join(outDir, 'build-stamp.json'), JSON.stringify({ builtAtMs: startedAt, node: process.version }) + '\n');
process.stdout.write(`build: ${outDir} in ${Date.now() - startedAt} ms\n`);
