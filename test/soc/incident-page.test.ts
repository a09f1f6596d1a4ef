import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, findChromium } from '../helpers/chromium.ts';
import { checkIncidentPage, ROOT, runDemo } from './incident-pages.ts';

const SHOTS = join(ROOT, 'out', 'test', 'soc');

/**
 * `npm start`'s incident pages, rendered in headless Chromium (Debian's package): no console errors, nothing
 * fetched, and the parts a SOC lead reads are there. The demo's main incident must draw alice's whole path:
 * her IAM session, her Kubernetes user, the pod she exec'd into, its service account, the IRSA role session
 * and the AWS calls made with it.
 */
describe('incident pages', () => {
  let dir: string;
  let pages: string[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'seam-soc-pages-'));
    pages = runDemo(dir);
  });

  it('renders every page npm start writes, with the chain graph, the timeline and the alerts', async () => {
    if (findChromium() === undefined) throw new Error(CHROMIUM_MISSING);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    for (const file of pages) {
      const c = await checkIncidentPage(file, SHOTS);
      process.stdout.write(`incident page ${file}: ${JSON.stringify(c.counts)} screenshot ${c.png}\n`);
      expect(c.browserErrors).toEqual([]);
      expect(c.problems).toEqual([]);
    }
    // The main incident: alice's path across the planes, each identity once.
    const main = pages.map((f) => ({ f, html: readFileSync(f, 'utf8') })).find((p) => p.html.includes('data-level="critical"') && p.html.includes('payments/api-7c9d8f6b5-x2k4q'));
    expect(main, 'the page of alice\'s incident').toBeDefined();
    const c = await checkIncidentPage(main!.f, SHOTS);
    expect(new Set(c.counts.planes)).toEqual(new Set(['node-iam', 'node-k8s', 'node-pod', 'node-sa', 'node-calls']));
    const ids = [...main!.html.matchAll(/<g class="node[^"]*" data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com',
      'k8s:prod-eks-01:user:arn:aws:sts::111122223333:assumed-role/PlatformAdmin/alice@example.com',
      'k8s:prod-eks-01:pod:payments/api-7c9d8f6b5-x2k4q',
      'k8s:prod-eks-01:sa:payments/api',
      'arn:aws:sts::111122223333:assumed-role/payments-api-irsa/botocore-session-1730815835',
    ]) {
      expect(ids).toContain(id);
    }
    expect(main!.html).toContain('secretsmanager:GetSecretValue');
  });

  it('seam report incident --latest redraws a page from the run\'s output folder, and names a missing one clearly', () => {
    const out = join(dir, 'latest.html');
    const p = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'report', 'incident', '--latest', '--input', dir, '--out', out], { cwd: ROOT, encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim()).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('<svg class="chain"');
    const bad = spawnSync(process.execPath, [join(ROOT, 'bin/seam.mjs'), 'report', 'incident', 'inc-000000000000', '--input', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no incident 'inc-000000000000'; incidents: inc-[0-9a-f]{12} \(arn:aws:sts::/);
  });
});
