#!/usr/bin/env node
// Bundles `seam sensor` (src/cli/sensor-main.ts) into one minified ESM file for the sidecar image:
// plain node runs it without tsx, which keeps the sidecar inside its 64 MB memory budget (ADR 0012).
//   node bin/build-sensor.mjs [OUTFILE]      (default dist/seam-sensor.mjs)
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const outfile = resolve(process.argv[2] ?? resolve(root, 'dist/seam-sensor.mjs'));

// Node's built-in modules are taken with process.getBuiltinModule (their CommonJS exports), never `import`ed: an ESM
// import of a built-in builds its ESM facade, which reads every export, lazy getters included. On Node 22 and 24,
// node:http's WebSocket, CloseEvent and MessageEvent getters then load undici, and with it tls, http2, zlib, assert,
// worker_threads and perf_hooks: ~15 MB of peak RSS the sensor never uses (ADR 0012, "Footprint").
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// commander requires node:child_process at load (for executable subcommands, which seam-sensor has none of), and with
// it net, dgram and the stdio wraps: that one is loaded at its first use instead (~1 MB).
const LOADED_AT_FIRST_USE = new Set(['node:child_process']);
const builtinModule = (id) =>
  LOADED_AT_FIRST_USE.has(id)
    ? `let m; const load = () => (m ??= process.getBuiltinModule(${JSON.stringify(id)}));\n` +
      `module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => ({ ...Reflect.getOwnPropertyDescriptor(load(), k), configurable: true }) });`
    : `module.exports = process.getBuiltinModule(${JSON.stringify(id)});`;
const builtinsByRequire = {
  name: 'node-builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      const id = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // The bundled CommonJS dependencies' own require() calls stay require() calls (the banner's require).
      if (args.kind === 'require-call' && !LOADED_AT_FIRST_USE.has(id)) return { path: args.path, external: true };
      return { path: id.slice('node:'.length), namespace: 'node-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: builtinModule(`node:${args.path}`), loader: 'js' }));
  },
};

// zod's `z` namespace re-exports every locale (`z.locales`, ~40 languages, 265 KB of the 719 KB bundle); the sensor's
// messages are English, which zod sets up from its en.js itself. Only `en` stays in the namespace.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: resolve(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: dirname(args.path), loader: 'js' }));
  },
};

await build({
  entryPoints: [resolve(root, 'src/cli/sensor-main.ts')],
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile,
  plugins: [builtinsByRequire, zodEnglishOnly],
  // Bundled CommonJS dependencies (pino) call require(); give the ESM bundle one (node:module taken as above).
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  logLevel: 'warning',
});
process.stdout.write(`${outfile}\n`);
