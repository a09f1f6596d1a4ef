import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Networks from '../../src/detect/native/networks.ts';

// `npm run build` and bin/seam.mjs choosing between dist/ and the sources (ADR 0013). The build goes to
// its own folder inside dist/ (compiled files must sit in the repository to find node_modules), so
// other tests that run bin/seam.mjs meanwhile keep running whatever they ran before.
const ROOT = resolve(import.meta.dirname, '../..');
const SEAM = join(ROOT, 'bin/seam.mjs');
const OUT = join(ROOT, 'dist', `.test-build-${process.pid}`);
const TMP = mkdtempSync(join(tmpdir(), 'seam-build-'));

function seam(runtime: 'tsx' | 'dist' | 'auto', args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, SEAM_RUNTIME: runtime, SEAM_DIST_DIR: OUT, SEAM_LOG_LEVEL: 'warn' };
  const r = spawnSync(process.execPath, [SEAM, ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('compiled build (npm run build)', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/build.mjs'), '--out-dir', OUT], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr + r.stdout).toMatch(/build: .* in \d+ ms/);
    expect(r.status).toBe(0);
  }, 300_000);
  afterAll(() => {
    rmSync(OUT, { recursive: true, force: true });
    rmSync(TMP, { recursive: true, force: true });
  });

  it('`seam rules lint detections` says the same compiled as through tsx', () => {
    const compiled = seam('dist', ['rules', 'lint', 'detections']);
    const sources = seam('tsx', ['rules', 'lint', 'detections']);
    expect(compiled.stderr).not.toMatch(/SEAM_RUNTIME=dist but/);
    expect(compiled.status).toBe(0);
    expect(compiled.stdout.length).toBeGreaterThan(0);
    expect(compiled).toEqual(sources);
  }, 120_000);

  it('a replay with the rules writes byte-identical alerts compiled and through tsx', () => {
    const run = (runtime: 'tsx' | 'dist'): string => {
      const alerts = join(TMP, `alerts-${runtime}.jsonl`);
      const r = seam(runtime, ['replay', 'deploy/demo/eks-demo.jsonl', '--rules', 'detections', '--placeholders', 'deploy/config/placeholders.yml', '--dlq', join(TMP, `dlq-${runtime}.jsonl`), '--alerts-out', alerts]);
      expect(r.stderr).toMatch(/replay: files=1 .* records=465 normalized=465 rejected=0 alerts=\d+/);
      expect(r.status).toBe(0);
      return readFileSync(alerts, 'utf8');
    };
    const compiled = run('dist');
    expect(compiled.trim().split('\n').length).toBeGreaterThan(5);
    expect(compiled).toBe(run('tsx'));
  }, 120_000);

  it("ships the ASN table's parsed copy, made from the installed CSV, where the compiled loader reads it", async () => {
    const networks = (await import(pathToFileURL(join(OUT, 'detect/native/networks.js')).href)) as typeof Networks;
    expect(networks.SHIPPED_ASN_TABLE).toBe(join(OUT, 'data/asn-ipv4.bin'));
    const csv = networks.bundledAsnCsv();
    const copy = networks.decodeAsnTable(readFileSync(networks.SHIPPED_ASN_TABLE), networks.asnCsvKey(csv));
    expect(copy).toBeDefined();
    const parsed = networks.parseAsnCsv(readFileSync(csv, 'utf8'));
    for (const ip of ['52.95.110.1', '8.8.8.8', '198.51.100.7']) expect(networks.lookupAsn(copy!, ip)).toEqual(networks.lookupAsn(parsed, ip));
  });

  it('a build older than the sources never runs: auto falls back to tsx and says so, dist refuses', () => {
    const stamp = join(OUT, 'build-stamp.json');
    const good = readFileSync(stamp, 'utf8');
    try {
      writeFileSync(stamp, JSON.stringify({ builtAtMs: 0 }));
      const auto = seam('auto', ['rules', 'lint', 'detections']);
      expect(auto.status).toBe(0);
      expect(auto.stderr).toMatch(/src\/.*\.ts is newer than the build .*running the sources through tsx/);
      const strict = seam('dist', ['rules', 'lint', 'detections']);
      expect(strict.status).toBe(2);
      expect(strict.stderr).toMatch(/SEAM_RUNTIME=dist but src\/.*\.ts is newer than the build/);
    } finally {
      writeFileSync(stamp, good);
    }
  }, 120_000);
});
