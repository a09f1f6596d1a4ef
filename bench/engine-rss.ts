/**
 * Peak RSS of one process holding one loaded SigmaHQ ruleset (issue 15: ≤ 300 MB), run by bench/engine.ts
 * as a child so nothing else of that bench (its 200k lines held at once, its four rulesets side by side)
 * counts: load the rules from RULES (as `seam replay --rules` does, without the rule cache), then normalize
 * and match N generated events, made one at a time. Prints one JSON line:
 * `{"peak_rss_mb":…,"after_load_rss_mb":…,"heap_mb":…,"rules":…,"load_ms":…,"events":…,"matches":…}`.
 *
 *   node bin/tsx-run.mjs bench/engine-rss.ts RULES [N=200000]
 */
import { performance } from 'node:perf_hooks';
import type { RawMeta } from '../src/core/envelope.ts';
import { normalizeLine } from '../src/core/normalize/normalize.ts';
import { loadRules } from '../src/detect/sigma/ruleset.ts';
import { loadTemplates, pick, vary } from './lib/events.ts';

const RULES = process.argv[2];
const N = Number(process.argv[3] ?? 200_000);
if (RULES === undefined) throw new Error('usage: engine-rss.ts RULES [N]');
const meta: RawMeta = { collector: 'bench', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', region: 'us-west-2' };
const mb = (b: number): number => Math.round(b / 1048576);

const t = performance.now();
const { ruleset, stats } = await loadRules([RULES]);
const loadMs = Math.round(performance.now() - t);
const afterLoad = process.memoryUsage();
const templates = loadTemplates();
let matches = 0;
for (let i = 0; i < N; i++) {
  const r = normalizeLine(JSON.stringify(vary(pick(templates, i), i + 1)), meta);
  if (r.ok) matches += ruleset.match(r.value).length;
}
process.stdout.write(
  JSON.stringify({
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    after_load_rss_mb: mb(afterLoad.rss),
    heap_mb: mb(afterLoad.heapUsed),
    rules: stats.rules,
    load_ms: loadMs,
    events: N,
    matches,
  }) + '\n',
);
