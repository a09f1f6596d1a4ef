// The abuse suite (issue 11, `npm run test:abuse`): at least 100k hostile records (the classes of
// test/abuse/generate.ts and mutations of the fixtures), hostile rule files and hostile HTTP requests,
// run embedded, on the real local Kafka and OpenSearch, and through the sidecar endpoint. It counts
// - crashes: a run, a load or a request that threw or answered 5xx;
// - stalls: a run or a partition that stopped moving (valid records after a hostile one that never
//   came out, a pipeline that did not drain);
// - leaks: a planted secret found in any output file, topic or index;
// - impersonations: a sidecar record accepted for an identity its token is not bound to;
// and the test worker's peak RSS. The run's last line (test/global-setup.ts) sums every file's tally:
//   abuse: records=<n> rules=<n> requests=<n> crashes=0 stalls=0 leaks=0 impersonations=0 max_rss_mb=<n>
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import { lintCommand } from '../../src/detect/sigma/lint.ts';
import { loadRules } from '../../src/detect/sigma/ruleset.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import { SidecarSourceConfig } from '../../src/sources/sidecar/config.ts';
import { sha256Hex } from '../../src/sources/sidecar/parse.ts';
import { SidecarSource } from '../../src/sources/sidecar/source.ts';
import { allIds, pipeline, type Pipeline, type RawRecord } from '../pipeline/harness.ts';
import { opensearchUrl } from '../helpers/services.ts';
import { detectSource } from '../../src/sources/cloudwatch-logs/parse.ts';
import { hostileRecords, hostileRules, plantedSecrets, rng } from './generate.ts';
import { formatAbuse, recordAbuse, type AbuseTally } from './tally.ts';

const ROOT = join(import.meta.dirname, '../..');
const META = { collector: 'test', receivedAt: new Date().toISOString() };
const tally: AbuseTally = { records: 0, rules: 0, requests: 0, crashes: 0, stalls: 0, leaks: 0, impersonations: 0, max_rss_mb: 0 };
const pipelines: Pipeline[] = [];
const rssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

afterAll(async () => {
  for (const p of pipelines) await p.cleanup().catch(() => undefined);
  tally.max_rss_mb = rssMb();
  recordAbuse('abuse.test.ts', tally);
  process.stdout.write(`${formatAbuse('abuse (abuse.test.ts)', tally)}\n`);
});

/** Resolves with `p`, or rejects when it has not settled after `ms` (a stall, not a speed check). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: ${what} did not finish in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function leaksIn(text: string, secrets: readonly string[], where: string, found: string[]): void {
  for (const s of secrets) if (text.includes(s)) found.push(`${s} in ${where}`);
}

describe('abuse suite', () => {
  it('embedded: 100k+ hostile records, in sixteen runs: no crash, no stall, no leak, every valid record comes out', async () => {
    const detection = await loadDetection({ rules: [join(ROOT, 'detections')] });
    const { records: secretLines, secrets } = plantedSecrets();
    const dir = await mkdtemp(join(tmpdir(), 'seam-abuse-'));
    const leaks: string[] = [];
    // Sixteen runs of 6.5k, each generated when its turn comes: the embedded bus keeps a run's messages.
    const runs = 16;
    for (let k = 0; k < runs; k++) {
      const chunk = hostileRecords(6_500, 1000 + k);
      const texts = [...chunk.map((r) => r.text), ...secretLines];
      const expected = new Set<string>();
      for (const t of texts) {
        const n = normalizeLine(t, META);
        if (n.ok) expected.add(n.value.seam.id);
      }
      const input = join(dir, `in-${k}.jsonl`);
      await writeFile(input, texts.map((t) => t.replace(/\n/g, ' ')).join('\n') + '\n');
      const stateDir = join(dir, `run-${k}`);
      try {
        const res = await within(runEmbedded({ paths: [input], stateDir, detection, maxRecordBytes: 1 << 20 }), 240_000, `embedded run ${k}`);
        tally.records += res.summary.records;
        // Nothing lost: every record that normalizes on its own is an event; every other one a dead letter.
        const events = (await readFile(res.paths.events, 'utf8')).split('\n').filter(Boolean);
        const ids = new Set(events.map((l) => (JSON.parse(l) as { seam: { id: string } }).seam.id));
        const missing = [...expected].filter((id) => !ids.has(id));
        // (A record can be both an event and a dead letter: one whose content made detection throw.)
        if (missing.length > 0 || res.summary.normalized > res.summary.records) {
          tally.stalls++;
          process.stdout.write(`abuse: run ${k} lost ${missing.length} events (e.g. ${missing.slice(0, 3).join(', ')}); records=${res.summary.records} normalized=${res.summary.normalized} rejected=${res.summary.rejected}\n`);
        }
        for (const f of Object.values(res.paths)) leaksIn(await readFile(f, 'utf8'), secrets, f, leaks);
      } catch (e) {
        if (String(e).includes('stalled')) tally.stalls++;
        else tally.crashes++;
        process.stdout.write(`abuse: embedded run ${k} failed: ${String(e)}\n`);
      }
      tally.max_rss_mb = Math.max(tally.max_rss_mb, rssMb());
      global.gc?.();
    }
    tally.leaks += leaks.length;
    expect(leaks).toEqual([]);
    expect(tally.records).toBeGreaterThanOrEqual(100_000);
    expect({ crashes: tally.crashes, stalls: tally.stalls }).toEqual({ crashes: 0, stalls: 0 });
    expect(tally.max_rss_mb).toBeLessThan(512);
  });

  it('Kafka + OpenSearch: hostile records on every partition, the pipeline drains, nothing planted reaches a topic or the index', async () => {
    const p = await pipeline('abuse', { raw: 2, events: 2, signals: 2, alerts: 1, dlq: 1 });
    pipelines.push(p);
    const { records: secretLines, secrets } = plantedSecrets();
    const hostile = hostileRecords(6_000, 29).map((r) => r.text.replace(/\n/g, ' '));
    const texts = [...hostile, ...secretLines];
    const raw: RawRecord[] = texts.map((text) => {
      const source = detectSource(text);
      return source ? { text, source } : { text };
    });
    const expected = new Set<string>();
    for (const r of raw) {
      const n = normalizeLine(r.text, r.source ? { ...META, source: r.source } : META);
      // As the index stores it: an id with a lone surrogate (a mutated field) comes back with U+FFFD.
      if (n.ok) expected.add(Buffer.from(n.value.seam.id, 'utf8').toString('utf8'));
    }
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.produce(raw);
    tally.records += raw.length;
    try {
      await p.drain(240_000);
    } catch (e) {
      tally.stalls++;
      process.stdout.write(`abuse: Kafka pipeline stalled: ${String(e).slice(0, 500)}\n`);
    }
    await p.os.indices.refresh({ index: `${p.indexPrefix}-*` });
    const indexed = new Set(await allIds(p.os, `${p.indexPrefix}-events-*`));
    // An event OpenSearch refused (a mutated field against the mapping) is a dead letter of the index stage, not a loss.
    const refused = new Set<string>();
    await p.admin.readToEnd([p.topics.dlq], (m) => {
      const dl = JSON.parse(m.value.toString('utf8')) as { stage: string; raw: string };
      if (dl.stage !== 'index') return;
      try {
        const id = (JSON.parse(dl.raw) as { seam?: { id?: string } }).seam?.id;
        if (id !== undefined) refused.add(Buffer.from(id, 'utf8').toString('utf8'));
      } catch {
        // not an event
      }
    });
    const lost = [...expected].filter((id) => !indexed.has(id) && !refused.has(id));
    if (lost.length > 0) {
      tally.stalls++;
      process.stdout.write(`abuse: Kafka pipeline lost ${lost.length} events (e.g. ${lost.slice(0, 3).join(', ')})\n`);
    }
    const leaks: string[] = [];
    for (const topic of [p.topics.events, p.topics.signals, p.topics.alerts, p.topics.dlq, p.topics.identity]) {
      const parts: string[] = [];
      await p.admin.readToEnd([topic], (m) => parts.push(m.value.toString('utf8')));
      leaksIn(parts.join('\n'), secrets, topic, leaks);
    }
    // Read as text: the client refuses to parse documents with `__proto__` keys, which hostile records have.
    const res = await fetch(`${opensearchUrl()}/${p.indexPrefix}-*/_search?size=10000`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: { match_all: {} } }) });
    const docs = await res.text();
    expect(res.status).toBe(200);
    expect(docs.length).toBeGreaterThan(1000);
    leaksIn(docs, secrets, 'index', leaks);
    tally.leaks += leaks.length;
    for (const r of roles) await r.stop();
    tally.max_rss_mb = Math.max(tally.max_rss_mb, rssMb());
    expect(leaks).toEqual([]);
    expect(lost).toEqual([]);
  });

  it('hostile rule files: each costs its own file, the good rule always loads, lint finishes', async () => {
    const { files, goodId } = hostileRules(200);
    const dir = await mkdtemp(join(tmpdir(), 'seam-abuse-rules-'));
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    tally.rules += Object.keys(files).length;
    try {
      const placeholders = { many: Array.from({ length: 12 }, (_, i) => `v${i}`) };
      const { ruleset, diagnostics } = await within(loadRules([dir], { placeholders }), 120_000, 'rule load');
      // The good rule's id is also claimed by impostors: neither loads, and both files are named.
      expect(ruleset.rules.some((r) => r.id === goodId)).toBe(false);
      expect(diagnostics.some((d) => d.code === 'SEAM_ERR_RULE_DUPLICATE' && d.file.endsWith('zz-good.yml'))).toBe(true);
      expect(diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_REGEX').length).toBeGreaterThanOrEqual(20);
      let out = '';
      const sink = new Writable({
        write(c: Buffer, _e, cb) {
          out += c.toString('utf8');
          cb();
        },
      });
      const code = await within(lintCommand([dir], sink), 120_000, 'rule lint');
      expect(code).toBe(1);
      expect(out).toMatch(/^lint: files=\d+/m);
      expect(out).toMatch(/SEAM_ERR_RULE_LIMIT/);
    } catch (e) {
      if (String(e).includes('stalled')) tally.stalls++;
      else if (!(e instanceof Error && e.name === 'AssertionError')) tally.crashes++;
      throw e;
    } finally {
      tally.max_rss_mb = Math.max(tally.max_rss_mb, rssMb());
    }
  });

  it('sidecar endpoint: hostile requests get 4xx with reasons, never a 5xx, and no record speaks for an identity its token is not bound to', async () => {
    const TOKEN = 'tok-abuse-' + 'a'.repeat(40);
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const config = SidecarSourceConfig.parse({
      type: 'sidecar',
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 4 * 1024 * 1024,
      tokens: [{ id: 'payments-api', sha256: sha256Hex(TOKEN), cluster: 'prod-eks-01', account: '111122223333', workload: 'payments/api', serviceAccount: 'api' }],
    });
    const src = new SidecarSource(config, { producer: await bus.producer() });
    const url = await src.listen();
    const r = rng(5);
    const rt = (over: Record<string, unknown>): string =>
      JSON.stringify({ schema: 'seam.runtime/v1', id: `s-${Math.floor(r() * 1e9)}`, time: new Date().toISOString(), kind: 'process', namespace: 'payments', pod: 'api-1', service_account: 'api', process: { pid: 1, exe: '/bin/sh' }, ...over });
    const claims = [
      { namespace: 'kube-system', pod: 'aws-node-1', service_account: 'aws-node' },
      { account: '999988887777' },
      { cluster: 'other' },
      { pod: 'billing-1' },
      { service_account: 'default' },
      { output_fields: { 'k8smeta.cluster.name': 'other' } },
      {},
    ];
    const bodies: { body: string | Buffer; path?: string; auth?: string }[] = [];
    for (let i = 0; i < 600; i++) {
      switch (i % 12) {
        case 0:
          bodies.push({ body: Array.from({ length: 20 }, (_, k) => rt(claims[(i + k) % claims.length]!)).join('\n') });
          break;
        case 1:
          bodies.push({ body: 'x\n'.repeat(1 + Math.floor(r() * 200_000)) });
          break;
        case 2:
          bodies.push({ body: '{}', path: ['//', '//evil/x', '/%00', '/v1/ingest/..', '/v1/ingest?x=1&y=//'][i % 5]! });
          break;
        case 3:
          bodies.push({ body: `[${'['.repeat(6000)}${']'.repeat(6000)}]` });
          break;
        case 4:
          bodies.push({ body: Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256))) });
          break;
        case 5:
          bodies.push({ body: rt({}), auth: ['Bearer nope', 'Basic x', '', 'Bearer ' + 'A'.repeat(10_000)][i % 4]! });
          break;
        case 6:
          bodies.push({ body: `{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}` });
          break;
        case 7:
          bodies.push({ body: JSON.stringify(Array.from({ length: 50 }, () => JSON.parse(rt(claims[Math.floor(r() * claims.length)]!)) as unknown)) });
          break;
        case 8:
          bodies.push({ body: `${rt({ __proto__: { polluted: true } })}\n${rt({ constructor: { prototype: { x: 1 } } })}` });
          break;
        case 9:
          bodies.push({ body: hostileRecords(30, i).map((h) => h.text.replace(/\n/g, ' ')).join('\n') });
          break;
        case 10:
          bodies.push({ body: rt({ time: '2024-13-45T99:99:99Z' }) });
          break;
        default:
          bodies.push({ body: JSON.stringify(JSON.parse(rt({})), null, 2) });
      }
    }
    let fiveHundreds = 0;
    try {
      for (const b of bodies) {
        const target = b.path === undefined ? url : url.replace('/v1/ingest', b.path);
        const res = await within(
          fetch(target, { method: 'POST', body: b.body, headers: { authorization: b.auth ?? `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' } }),
          60_000,
          'sidecar request',
        );
        const text = await res.text();
        tally.requests++;
        if (res.status >= 500) {
          fiveHundreds++;
          process.stdout.write(`abuse: sidecar answered ${res.status}: ${text.slice(0, 200)}\n`);
        }
        expect(text.length).toBeLessThan(64 * 1024);
      }
    } catch (e) {
      if (String(e).includes('stalled')) tally.stalls++;
      else tally.crashes++;
      throw e;
    } finally {
      await src.close();
    }
    tally.crashes += fiveHundreds;
    // Every record the endpoint took is one its token may send.
    let impersonations = 0;
    for (const m of bus.read(TOPICS.raw('runtime')).flat()) {
      // Checked here on its own terms, not with the endpoint's function.
      const rec = JSON.parse(m.value.toString('utf8')) as Record<string, unknown>;
      const f = (rec.output_fields ?? {}) as Record<string, unknown>;
      const claim = (v: unknown, ok: (s: string) => boolean): boolean => v !== undefined && v !== null && !(typeof v === 'string' && ok(v));
      if (
        claim(rec.cluster ?? f['k8smeta.cluster.name'], (s) => s === 'prod-eks-01') ||
        claim(rec.account, (s) => s === '111122223333') ||
        claim(rec.namespace ?? f['k8s.ns.name'], (s) => s === 'payments') ||
        claim(rec.pod ?? f['k8s.pod.name'], (s) => s === 'api' || s.startsWith('api-')) ||
        claim(rec.service_account ?? f['k8smeta.pod.sa'], (s) => s === 'api')
      ) {
        impersonations++;
      }
    }
    tally.impersonations += impersonations;
    tally.max_rss_mb = Math.max(tally.max_rss_mb, rssMb());
    expect({ fiveHundreds, impersonations }).toEqual({ fiveHundreds: 0, impersonations: 0 });
    expect(bus.read(TOPICS.raw('runtime')).flat().length).toBeGreaterThan(0);
  });
});
