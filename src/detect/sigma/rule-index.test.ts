/**
 * The index and its shortcuts (literal buckets, presence buckets, runtime kind buckets) must never
 * hide a match: for many events, indexed matching equals evaluating every rule of the event's source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SeamEvent } from '../../core/envelope.ts';
import { loadRules, loadRulesFromText } from './ruleset.ts';
import type { SigmaRuleset } from './ruleset.ts';
import type { InternalRule } from './rule-index.ts';

const CORPUS = '/work/shared/sigma';
const PACK = new URL('../../../detections/', import.meta.url).pathname;
const FIX = new URL('../../../test/fixtures/', import.meta.url);
const ingest = { collector: 'test', received_at: '2026-01-01T00:00:00Z', truncated: false, redacted: [] };

type Rec = Record<string, unknown>;
const jsonl = (p: string): Rec[] =>
  readFileSync(new URL(p, FIX), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Rec);

function templates(): [SeamEvent['seam']['source'], Rec][] {
  const ct = (JSON.parse(readFileSync(new URL('cloudtrail/s3-export.json', FIX), 'utf8')) as { Records: Rec[] }).Records;
  return [
    ...ct.map((r) => ['cloudtrail', r] as const),
    ...jsonl('k8s-audit/eks-audit.jsonl').map((r) => ['k8s_audit', r] as const),
    ...jsonl('runtime/native.jsonl').map((r) => ['runtime', r] as const),
    ...jsonl('runtime/falco.jsonl').map((r) => ['runtime', r] as const),
  ] as [SeamEvent['seam']['source'], Rec][];
}

function setPath(rec: Rec, path: string, v: unknown): void {
  const parts = path.split('.');
  let o = rec;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Rec;
  }
  o[parts[parts.length - 1]!] = v;
}

/** Events from the fixtures with indexed fields set to literals the rules ask for (so many rules fire). */
function* events(ruleset: SigmaRuleset, n: number): Generator<SeamEvent> {
  const pool = new Map<string, [string, string][]>();
  // Basenames go in under assorted directories (or none), so `endswith: '/curl'` rules see
  // `/usr/bin/curl`, `curl` and `/tmp/x/curl`; `libcurl`-style near misses come from the prefixes too.
  const dirs = ['', '/usr/bin/', '/bin/', '/tmp/x/', 'lib', '/opt/lib', './'];
  for (const r of ruleset.rules as InternalRule[]) {
    const src = r.source ?? '';
    let l = pool.get(src);
    if (!l) pool.set(src, (l = []));
    for (const [f, vals] of r.req) for (const v of vals) l.push([f, v]);
    for (const [f, vals] of r.base) for (const v of vals) for (const d of dirs) l.push([f, d + v]);
  }
  const ts = templates();
  let seed = 7;
  const rnd = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % k;
  };
  const kinds = ['process', 'network', 'file', 'dns'];
  for (let i = 0; i < n; i++) {
    const [source, t] = ts[rnd(ts.length)]!;
    const ev = structuredClone(t);
    const lits = pool.get(source) ?? [];
    for (let k = rnd(4); k > 0 && lits.length > 0; k--) {
      const [f, v] = lits[rnd(lits.length)]!;
      // Original case varies: matching is case-insensitive unless a rule says |cased.
      setPath(ev, f, rnd(2) === 0 ? v : v.toUpperCase());
    }
    if (source === 'runtime' && ev.schema !== undefined && rnd(3) === 0) ev.kind = kinds[rnd(kinds.length)];
    yield { ...ev, '@timestamp': '2026-01-01T00:00:00Z', seam: { id: String(i), source, ingest } } as SeamEvent;
  }
}

function check(ruleset: SigmaRuleset, n: number): number {
  let hits = 0;
  for (const ev of events(ruleset, n)) {
    const indexed = ruleset.match(ev).map((m) => m.rule.id);
    const brute = (ruleset.rules as InternalRule[]).filter((r) => r.source === ev.seam.source && r.test(ev)).map((r) => r.id);
    expect(indexed, JSON.stringify(ev)).toEqual(brute);
    hits += brute.length;
  }
  return hits;
}

describe('rule index', () => {
  it("matches exactly what evaluating every rule of the source matches (Seam's pack)", async () => {
    const { ruleset } = await loadRules([PACK]);
    expect(check(ruleset, 3000)).toBeGreaterThan(100);
  });

  it.skipIf(!existsSync(CORPUS))('matches exactly what evaluating every rule of the source matches (SigmaHQ)', async () => {
    const { ruleset } = await loadRules([CORPUS]);
    expect(check(ruleset, 1500)).toBeGreaterThan(100);
  }, 120_000);
});

describe('basename index', () => {
  const rule = (id: string, sel: string): string =>
    `title: ${id}\nid: ${id}\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel:\n${sel}\n  condition: sel\n`;
  const text = [
    rule('slash', "    Image|endswith: '/curl'"),
    rule('deep', "    Image|endswith: '/usr/bin/wget'"),
    rule('bare', "    Image|endswith: 'curl'"),
    rule('mixed', "    - Image|endswith: '/nc'\n    - Image: '/usr/bin/ncat'"),
    rule('cased', "    Image|endswith|cased: '/Curl'"),
  ].join('---\n');
  const ev = (exe: string): SeamEvent =>
    ({ kind: 'process', process: { pid: 1, exe }, seam: { id: exe, source: 'runtime', ingest } }) as unknown as SeamEvent;

  it('narrows by the basename without losing a match', () => {
    const { ruleset, diagnostics } = loadRulesFromText(text, 'basename.yml');
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ids = (exe: string): string[] => ruleset.match(ev(exe)).map((m) => m.rule.id);
    expect(ids('/usr/bin/curl')).toEqual(['slash', 'bare']);
    expect(ids('/USR/BIN/CURL')).toEqual(['slash', 'bare']);
    expect(ids('/usr/lib/libcurl')).toEqual(['bare']);
    expect(ids('curl')).toEqual(['bare']);
    expect(ids('/opt/usr/bin/wget')).toEqual(['deep']);
    expect(ids('/bin/wget')).toEqual([]);
    expect(ids('/bin/nc')).toEqual(['mixed']);
    expect(ids('/usr/bin/ncat')).toEqual(['mixed']);
    expect(ids('/bin/ncat')).toEqual([]);
    expect(ids('/x/Curl')).toEqual(['slash', 'bare', 'cased']);
    expect(ruleset.indexStats().buckets['runtime:process']).toMatchObject({ byBase: 4, byPresence: 1 });
  });
});
