#!/usr/bin/env node
// Bundles `seam sensor` (src/cli/sensor-main.ts) into one minified ESM file for the sidecar image:
// plain node runs it without tsx, which keeps the sidecar inside its 64 MB memory budget (ADR 0012).
//   node bin/build-sensor.mjs [OUTFILE]      (default dist/seam-sensor.mjs)
import { build } from 'esbuild';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outfile = resolve(process.argv[2] ?? resolve(root, 'dist/seam-sensor.mjs'));
await build({
  entryPoints: [resolve(root, 'src/cli/sensor-main.ts')],
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile,
  // Bundled CommonJS dependencies (pino) call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __seamRequire } from 'node:module'; const require = __seamRequire(import.meta.url);" },
  logLevel: 'warning',
});
process.stdout.write(`${outfile}\n`);
