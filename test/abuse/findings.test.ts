// Regression tests for the findings of issue 11 ("Why" 1-5), one or more per finding, named after it.
// Finding 1 on Kafka runs on the shared local broker and OpenSearch node through test/pipeline/harness.ts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/memory.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { normalizeLine } from '../../src/core/normalize/normalize.ts';
import type { Alert } from '../../src/detect/alert.ts';
import { loadDetection } from '../../src/pipeline/detection.ts';
import { memoryHistory } from '../../src/pipeline/history.ts';
import { runReplay } from '../../src/pipeline/replay.ts';
import { createCorrelateRole } from '../../src/pipeline/roles/correlate.ts';
import { pipelineTopics } from '../../src/pipeline/topics.ts';
import { encodeSignal } from '../../src/pipeline/signal.ts';
import { runEmbedded } from '../../src/pipeline/embedded.ts';
import { expectedIds, pipeline, referenceSigmaAlerts, type Pipeline, type RawRecord } from '../pipeline/harness.ts';
import { secretRecords } from './hostile.ts';
import { readFile } from 'node:fs/promises';
import { deadLetter } from '../../src/core/dead-letter.ts';
import { SeamError } from '../../src/core/errors.ts';
import { redactUrlCredentials, safeError } from '../../src/core/logger.ts';
import { aliasBomb, createAccessKey, deepRecord, IMPOSSIBLE_TIMES, plainRule, redosRule } from './hostile.ts';
import { loadRules } from '../../src/detect/sigma/ruleset.ts';
import { lintCommand } from '../../src/detect/sigma/lint.ts';
import { createDetector } from '../../src/detect/detector.ts';
import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { SidecarSourceConfig } from '../../src/sources/sidecar/config.ts';
import { sha256Hex } from '../../src/sources/sidecar/parse.ts';
import { SidecarSource, type IngestResult } from '../../src/sources/sidecar/source.ts';
import { TOPICS } from '../../src/bus/topics.ts';
import { metaFromHeaders } from '../../src/sources/checkpoint/raw-record.ts';

const RULES = join(import.meta.dirname, '../../detections');
const META = { collector: 'test', receivedAt: '2024-05-01T12:30:00.000Z' };
const pipelines: Pipeline[] = [];
afterAll(async () => {
  for (const p of pipelines) await p.cleanup().catch(() => undefined);
});

describe('finding 1: one record stops detection for good', () => {
  it('finding 1: an impossible timestamp is dead-lettered, later records still alert', async () => {
    for (const t of IMPOSSIBLE_TIMES) {
      const r = normalizeLine(createAccessKey(t, `bad-${t}`), META);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SEAM_ERR_NORMALIZE_TIMESTAMP');
    }
    expect(normalizeLine(createAccessKey('2024-02-29T23:59:59Z', 'leap'), META).ok).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'seam-f1-'));
    const input = join(dir, 'in.jsonl');
    const good = [0, 1, 2, 3, 4].map((i) => createAccessKey(`2024-05-01T12:0${i}:00Z`, `good-${i}`));
    await writeFile(input, [createAccessKey('2024-13-45T99:99:99Z', 'poison'), ...good].join('\n') + '\n');
    const detection = await loadDetection({ rules: [RULES] });
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'dlq.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (a) => alerts.push(a) });
    expect(s.records).toBe(6);
    expect(s.rejectedByCode).toEqual({ SEAM_ERR_NORMALIZE_TIMESTAMP: 1 });
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(good.map((_, i) => `good-${i}`)));
    // Embedded `seam run --input` (the roles over the memory bus) finishes with the same outcome.
    const run = await runEmbedded({ paths: [input], stateDir: join(dir, 'run'), detection, maxRecordBytes: 1 << 20 });
    expect(run.summary.rejectedByCode).toEqual({ SEAM_ERR_NORMALIZE_TIMESTAMP: 1 });
    expect(run.summary.alerts).toBe(alerts.length);
  });

  it('finding 1: a record nested thousands of levels deep is dead-lettered by normalizeLine, which never throws', async () => {
    for (const depth of [200, 5_000, 100_000]) {
      const r = normalizeLine(deepRecord(depth, `deep-${depth}`), META);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('SEAM_ERR_INPUT_DEPTH');
    }
    // Brackets inside strings do not count; a CRD-deep record (60 levels) is fine.
    expect(normalizeLine(deepRecord(60, 'ok-60'), META).ok).toBe(true);
    const inString = JSON.parse(createAccessKey('2024-05-01T12:00:00Z', 'str')) as Record<string, unknown>;
    inString.requestParameters = { userName: '['.repeat(10_000) + '{"\\"'.repeat(1000) };
    expect(normalizeLine(JSON.stringify(inString), META).ok).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'seam-f1d-'));
    const input = join(dir, 'in.jsonl');
    await writeFile(input, [deepRecord(20_000, 'deep'), createAccessKey('2024-05-01T12:00:00Z', 'after-deep')].join('\n') + '\n');
    const detection = await loadDetection({ rules: [RULES] });
    const alerts: Alert[] = [];
    const s = await runReplay<Alert>({ paths: [input], dlqPath: join(dir, 'dlq.jsonl'), outPath: join(dir, 'ev.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage(), onAlert: (a) => alerts.push(a) });
    expect(s.rejectedByCode).toEqual({ SEAM_ERR_INPUT_DEPTH: 1 });
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(['after-deep']));
  });

  it('finding 1: an event that makes detection throw is dead-lettered, and the signals partition keeps moving', async () => {
    // A signal normalize would never write (stage 1 validates times), as a buggy or hostile producer could.
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 10 });
    const topics = pipelineTopics('f1.');
    const event = (time: string, id: string): Record<string, unknown> => {
      const r = normalizeLine(createAccessKey('2024-05-01T12:00:00Z', id), META);
      if (!r.ok) throw r.error;
      return { ...r.value, '@timestamp': time };
    };
    const producer = await bus.producer();
    const sig = (e: Record<string, unknown>) => ({ topic: topics.signals, key: '111122223333', value: encodeSignal({ v: 1, rules: [], why: ['rule'], event: e as never }) });
    await producer.send([sig(event('2024-13-45T99:99:99Z', 'poison')), sig(event('2024-05-01T12:01:00Z', 'later-1')), sig(event('2024-05-01T12:02:00Z', 'later-2'))]);
    const role = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'f1' });
    await role.start();
    await bus.waitCommitted('f1', topics.signals, 5_000);
    await role.stop();
    const alerts = bus.read(topics.alerts).flat().map((m) => JSON.parse(m.value.toString('utf8')) as Alert);
    expect(new Set(alerts.map((a) => a.events[0]))).toEqual(new Set(['later-1', 'later-2']));
    const dls = bus.read(topics.dlq).flat().map((m) => JSON.parse(m.value.toString('utf8')) as DeadLetter);
    expect(dls).toHaveLength(1);
    expect(dls[0]).toMatchObject({ stage: 'detect', code: 'SEAM_ERR_STAGE_THREW', retriable: false });
    expect(dls[0]!.reason).toMatch(/Invalid time value/);
  });

  it('finding 1: on Kafka, poison records are dead-lettered and nothing later on their partition is held up', async () => {
    const p = await pipeline('f1kafka', { raw: 1, events: 1, signals: 1, alerts: 1, dlq: 1 });
    pipelines.push(p);
    const now = Date.now();
    const t = (i: number): string => new Date(now - 60_000 + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const poison: RawRecord[] = [
      { text: createAccessKey('2024-13-45T99:99:99Z', 'k-poison-time'), source: 'cloudtrail' },
      { text: deepRecord(20_000, 'k-poison-deep'), source: 'cloudtrail' },
    ];
    const good: RawRecord[] = Array.from({ length: 20 }, (_, i) => ({ text: createAccessKey(t(i), `k-good-${i}`), source: 'cloudtrail' as const }));
    const roles = [p.normalize(), p.correlate(), p.index()];
    for (const r of roles) await r.start();
    await p.produce([poison[0]!, ...good.slice(0, 10), poison[1]!, ...good.slice(10)]);
    await p.drain(60_000);
    // Every alert the good records raise on their own (referenceSigmaAlerts) must be in the index.
    const v = await p.verdict(expectedIds(good), poison, referenceSigmaAlerts(p.detection, good));
    expect(v.lost).toBe(0);
    expect(v.duplicated).toBe(0);
    expect(v.dlqMissing).toBe(0);
    expect(v.alerts).toBeGreaterThanOrEqual(good.length);
  });
});

/** Writes `files` (name → text) into a fresh folder and returns it. */
async function ruleDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'seam-f3-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

async function lint(dir: string): Promise<{ code: number; text: string }> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  const code = await lintCommand([dir], out);
  return { code, text };
}

const GOOD_ID = '5c1d0a5e-0000-4000-8000-000000000001';

describe('finding 3: a shared rule file can take detection down or blind it', () => {
  it('finding 3: a catastrophic-backtracking regex is refused at load with file:line:col, and the other rules still load', async () => {
    const dir = await ruleDir({ 'good.yml': plainRule(GOOD_ID, 'good_rule'), 'redos.yml': redosRule('5c1d0a5e-0000-4000-8000-000000000002') });
    const { ruleset, diagnostics } = await loadRules([dir]);
    expect(ruleset.rules.map((r) => r.id)).toEqual([GOOD_ID]);
    const d = diagnostics.find((x) => x.code === 'SEAM_ERR_RULE_REGEX')!;
    expect(d.file).toBe(join(dir, 'redos.yml'));
    expect(d.line).toBe(8);
    expect(d.column).toBeGreaterThan(0);
    expect(d.message).toMatch(/refused at character 2 of \/\(a\+\)\+\$\//);
    const l = await lint(dir);
    expect(l.code).toBe(1);
    expect(l.text).toMatch(new RegExp(`redos\\.yml:8:\\d+: SEAM_ERR_RULE_REGEX`));
  });

  it('finding 3: a YAML alias bomb costs its own file, never the ruleset (load and lint)', async () => {
    const dir = await ruleDir({ 'a-bomb.yml': aliasBomb(9), 'b-bomb.yml': aliasBomb(12, 12), 'good.yml': plainRule(GOOD_ID, 'good_rule') });
    const { ruleset, diagnostics, stats } = await loadRules([dir]);
    expect(ruleset.rules.map((r) => r.id)).toEqual([GOOD_ID]);
    expect(stats.rejected).toBe(2);
    expect(diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_YAML').map((d) => d.file.split('/').pop())).toEqual(['a-bomb.yml', 'b-bomb.yml']);
    expect((await lint(dir)).text).toMatch(/a-bomb\.yml:\d+:\d+: SEAM_ERR_RULE_YAML document refused/);
    // A rule file over the size bound is refused unread.
    const big = await ruleDir({ 'big.yml': plainRule('5c1d0a5e-0000-4000-8000-000000000003', 'big', `description: ${'x'.repeat(2 << 20)}\n`), 'good.yml': plainRule(GOOD_ID, 'good_rule') });
    const b = await loadRules([big]);
    expect(b.ruleset.rules.map((r) => r.id)).toEqual([GOOD_ID]);
    expect(b.diagnostics.map((d) => d.code)).toEqual(['SEAM_ERR_RULE_FILE']);
  });

  it('finding 3: placeholder expansion over the bound is a load error of that rule only', async () => {
    const seven = Array.from({ length: 7 }, () => '%ten%').join('-');
    const dir = await ruleDir({
      'expand.yml': plainRule('5c1d0a5e-0000-4000-8000-000000000004', 'expand').replace('eventName: CreateAccessKey', `userAgent|expand: '${seven}'`),
      'good.yml': plainRule(GOOD_ID, 'good_rule'),
    });
    const placeholders = { ten: Array.from({ length: 10 }, (_, i) => `v${i}`) };
    const { ruleset, diagnostics } = await loadRules([dir], { placeholders });
    expect(ruleset.rules.map((r) => r.id)).toEqual([GOOD_ID]);
    expect(diagnostics.find((d) => d.code === 'SEAM_ERR_RULE_PLACEHOLDER' && d.severity === 'error')?.message).toMatch(/expand to 10000000 values, over the limit of 4096/);
  });

  it('finding 3: a duplicate id is a load error naming both files, and no file silently replaces the real rule', async () => {
    const dir = await ruleDir({ '0-impostor.yml': plainRule(GOOD_ID, 'impostor').replace('eventName: CreateAccessKey', 'eventName: NeverHappens'), 'real.yml': plainRule(GOOD_ID, 'real_rule') });
    const { ruleset, diagnostics } = await loadRules([dir]);
    expect(ruleset.rules).toEqual([]);
    const dups = diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_DUPLICATE' && d.severity === 'error');
    expect(dups.map((d) => d.file.split('/').pop()).sort()).toEqual(['0-impostor.yml', 'real.yml']);
    for (const d of dups) expect(d.message).toMatch(/0-impostor\.yml|real\.yml/);
    expect((await lint(dir)).code).toBe(1);
  });

  it('finding 3: lint reports a correlation or a filter that suppresses a rule', async () => {
    const corr = `title: Silencer
id: 5c1d0a5e-0000-4000-8000-000000000005
correlation:
  type: event_count
  rules:
    - good_rule
  group-by:
    - recipientAccountId
  timespan: 5m
  condition:
    gte: 1000
level: low
`;
    const filter = `title: Narrower
id: 5c1d0a5e-0000-4000-8000-000000000006
logsource:
  product: aws
  service: cloudtrail
filter:
  rules:
    - other_rule
  selection:
    eventSource: iam.amazonaws.com
  condition: not selection
`;
    const dir = await ruleDir({ 'good.yml': plainRule(GOOD_ID, 'good_rule'), 'other.yml': plainRule('5c1d0a5e-0000-4000-8000-000000000007', 'other_rule'), 'silencer.yml': corr, 'narrower.yml': filter });
    const l = await lint(dir);
    expect(l.text).toMatch(/silencer\.yml:\d+:\d+: SEAM_ERR_RULE_SUPPRESSED \(warning\) correlation suppresses the alerts of rule 'good_rule'/);
    expect(l.text).toMatch(/narrower\.yml:\d+:\d+: SEAM_ERR_RULE_SUPPRESSED \(warning\) filter narrows rule 'other_rule'/);
  });

  it('finding 3: a correlation window over the bound or a 400-digit timespan is a lint error, and group cardinality is bounded', async () => {
    const corr = (id: string, timespan: string): string => `title: Long ${id}
id: ${id}
correlation:
  type: event_count
  rules:
    - good_rule
  group-by:
    - eventID
  timespan: ${timespan}
  condition:
    gte: 2
level: high
generate: true
`;
    const dir = await ruleDir({
      'good.yml': plainRule(GOOD_ID, 'good_rule'),
      'weeks.yml': corr('5c1d0a5e-0000-4000-8000-000000000008', '99999w'),
      'digits.yml': corr('5c1d0a5e-0000-4000-8000-000000000009', `${'9'.repeat(400)}s`),
    });
    const l = await lint(dir);
    expect(l.code).toBe(1);
    expect(l.text).toMatch(/weeks\.yml:\d+:\d+: SEAM_ERR_RULE_LIMIT timespan '99999w' is over the 30-day limit/);
    expect(l.text).toMatch(/digits\.yml:\d+:\d+: SEAM_ERR_RULE_SCHEMA bad timespan/);
    // Grouped by a field unique per event: open groups stop at the bound, and the rest is counted.
    const ok = await ruleDir({ 'good.yml': plainRule(GOOD_ID, 'good_rule'), 'c.yml': corr('5c1d0a5e-0000-4000-8000-00000000000a', '1h') });
    const { ruleset } = await loadRules([ok]);
    const detector = createDetector({ ruleset, allowedLatenessMs: 0, maxGroupsPerCorrelation: 1000 });
    for (let i = 0; i < 3000; i++) {
      const r = normalizeLine(createAccessKey('2024-05-01T12:00:00Z', `uniq-${i}`), META);
      if (r.ok) detector.process(r.value);
    }
    const st = detector.stats() as unknown as { correlation: { activeGroups: number; dropped: { group_limit: number } } };
    expect(st.correlation.activeGroups).toBe(1000);
    expect(st.correlation.dropped.group_limit).toBe(2000);
  });
});

const TOKEN = 'tok-payments-' + 'p'.repeat(40);
const LOOSE = 'tok-loose-' + 'l'.repeat(40);

/** A sidecar endpoint on a free loopback port, writing to a memory bus; `post` sends a body. */
async function sidecar(extra: Record<string, unknown> = {}) {
  const bus = new MemoryBus({ defaultPartitions: 1 });
  const config = SidecarSourceConfig.parse({
    type: 'sidecar',
    host: '127.0.0.1',
    port: 0,
    tokens: [
      { id: 'payments-api', sha256: sha256Hex(TOKEN), cluster: 'prod-eks-01', account: '111122223333', workload: 'payments/api', serviceAccount: 'api' },
      { id: 'loose', sha256: sha256Hex(LOOSE), trust: 'any' },
    ],
    ...extra,
  });
  const src = new SidecarSource(config, { producer: await bus.producer() });
  const url = await src.listen();
  const post = async (body: string | Buffer, token = TOKEN, path = ''): Promise<{ status: number; text: string; json: IngestResult & Record<string, unknown> }> => {
    const u = path === '' ? url : url.replace('/v1/ingest', path);
    const res = await fetch(u, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' } });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as IngestResult & Record<string, unknown> };
  };
  return { bus, src, url, post };
}

const nativeRt = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schema: 'seam.runtime/v1',
  id,
  time: new Date().toISOString(),
  kind: 'process',
  namespace: 'payments',
  pod: 'api-7c9d8f6b5-x2k4q',
  service_account: 'api',
  process: { pid: 7, exe: '/bin/sh', cmdline: 'sh -c id' },
  ...over,
});
const falcoRt = (uuid: string, fields: Record<string, unknown>): Record<string, unknown> => ({
  uuid,
  time: new Date().toISOString(),
  rule: 'Terminal shell in container',
  priority: 'Notice',
  output: 'A shell was spawned',
  source: 'syscall',
  output_fields: { 'k8s.ns.name': 'payments', 'k8s.pod.name': 'api-7c9d8f6b5-x2k4q', 'proc.name': 'sh', ...fields },
});

describe('finding 2: a sidecar token can speak for anyone', () => {
  it('finding 2: a record claiming another workload, account or cluster is refused line by line (403) and counted; the bound one is taken', async () => {
    const { bus, src, post } = await sidecar();
    try {
      const claims = [
        nativeRt('imp-1', { namespace: 'kube-system', pod: 'aws-node-abcde', service_account: 'aws-node' }),
        nativeRt('imp-2', { account: '999988887777' }),
        nativeRt('imp-3', { cluster: 'other-cluster' }),
        nativeRt('imp-4', { pod: 'billing-5d6f7-abc12' }),
        nativeRt('imp-5', { service_account: 'admin' }),
        falcoRt('imp-6', { 'k8smeta.cluster.name': 'other-cluster' }),
        falcoRt('imp-7', { 'k8s.ns.name': 'kube-system', 'k8s.pod.name': 'aws-node-x' }),
      ];
      const refused = await post(claims.map((c) => JSON.stringify(c)).join('\n'));
      expect(refused.status).toBe(403);
      expect(refused.json.accepted).toBe(0);
      expect(refused.json.rejected.map((r) => [r.line, r.code])).toEqual(claims.map((_, i) => [i + 1, 'SEAM_ERR_INGEST_FORBIDDEN']));
      expect(refused.json.rejected[0]!.reason).toMatch(/namespace kube-system .* workload payments\/api/);
      expect(refused.json.rejected[1]!.reason).toMatch(/account 999988887777 .* 111122223333/);
      const mixed = await post([JSON.stringify(nativeRt('own-1')), JSON.stringify(claims[0]), JSON.stringify(falcoRt('own-2', { 'k8smeta.cluster.name': 'prod-eks-01' }))].join('\n'));
      expect(mixed.status).toBe(200);
      expect(mixed.json.accepted).toBe(2);
      expect(mixed.json.rejected.map((r) => r.line)).toEqual([2]);
      expect(src.stats.counters.snapshot()).toMatchObject({ errors: { SEAM_ERR_INGEST_FORBIDDEN: claims.length + 1 } });
      // What was taken carries the token's cluster and account, whatever else it says.
      const taken = bus.read(TOPICS.raw('runtime')).flat();
      expect(taken).toHaveLength(2);
      for (const m of taken) expect(metaFromHeaders(m.headers)).toMatchObject({ cluster: 'prod-eks-01', account: '111122223333' });
    } finally {
      await src.close();
    }
  });

  it('finding 2: a token without a cluster is a configuration error unless it says trust: any', () => {
    const r = SidecarSourceConfig.safeParse({ type: 'sidecar', tokens: [{ id: 'nobody', sha256: sha256Hex('x') }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/names no cluster/);
    expect(SidecarSourceConfig.safeParse({ type: 'sidecar', tokens: [{ id: 'any', sha256: sha256Hex('x'), trust: 'any' }] }).success).toBe(true);
  });
});

describe('finding 5: resource abuse', () => {
  it('finding 5: a gzip of brackets is one dead letter in constant memory (the worker heap is capped at 320 MB)', async () => {
    const { gzipSync } = await import('node:zlib');
    const dir = await mkdtemp(join(tmpdir(), 'seam-f5-'));
    const input = join(dir, 'brackets.json.gz');
    // 64 MiB of `[` (64 KiB gzipped): the splitter once kept a stack entry per bracket (2.2 GB for 1 MB of gzip).
    await writeFile(input, gzipSync(Buffer.alloc(64 << 20, '[')));
    const s = await runReplay({ paths: [input], dlqPath: join(dir, 'dlq.jsonl'), maxRecordBytes: 1 << 20 });
    expect(s.normalized).toBe(0);
    expect(s.rejected).toBe(1);
    expect(Object.keys(s.rejectedByCode)).toEqual(['SEAM_ERR_INPUT_TRUNCATED']);
  });

  it('finding 5: a 4 MiB body of junk lines gets a bounded answer, and odd paths and deep arrays get 4xx without a stack', async () => {
    const { src, post } = await sidecar({ maxBodyBytes: 8 * 1024 * 1024 });
    try {
      const junk = await post('x\n'.repeat(2 * 1024 * 1024));
      expect(junk.status).toBe(400);
      expect(junk.json.rejected_total).toBe(2 * 1024 * 1024);
      expect(junk.json.rejected).toHaveLength(20);
      expect(junk.text.length).toBeLessThan(8 * 1024);
      for (const path of ['//', '//evil.example/x', '/%2e%2e/', '/v1/ingest/../../etc']) {
        const r = await post('{}', TOKEN, path);
        expect(r.status, path).toBe(404);
        expect(r.text).not.toMatch(/at .*\.ts:\d+/);
      }
      const deep = await post(`[${'['.repeat(6000)}${']'.repeat(6000)}]`);
      expect(deep.status).toBe(400);
      expect(deep.json.rejected[0]!.code).toBe('SEAM_ERR_INPUT_DEPTH');
      const deepLine = await post(`{"a":${'{"a":'.repeat(6000)}1${'}'.repeat(6001)}`);
      expect(deepLine.status).toBe(400);
      expect(deepLine.json.rejected[0]!.code).toBe('SEAM_ERR_INPUT_DEPTH');
    } finally {
      await src.close();
    }
  });
});

describe('finding 4: secrets reach outputs', () => {
  it('finding 4: no planted secret reaches the events, the alerts or the dead letters', async () => {
    const { valid, rejects, secrets } = secretRecords();
    const dir = await mkdtemp(join(tmpdir(), 'seam-f4-'));
    const input = join(dir, 'in.jsonl');
    const text = [...valid, ...rejects].join('\n') + '\n';
    for (const x of secrets) expect(text).toContain(x); // planted, or the test proves nothing
    await writeFile(input, text);
    const detection = await loadDetection({ rules: [RULES] });
    const s = await runReplay<Alert>({ paths: [input], outPath: join(dir, 'events.jsonl'), dlqPath: join(dir, 'dlq.jsonl'), alertsPath: join(dir, 'alerts.jsonl'), maxRecordBytes: 1 << 20, handler: detection.newStage() });
    expect(s.normalized).toBe(valid.length);
    expect(s.rejected).toBe(rejects.length);
    const embedded = await runEmbedded({ paths: [input], stateDir: join(dir, 'run'), detection, maxRecordBytes: 1 << 20 });
    expect(embedded.summary.rejected).toBe(rejects.length);
    const outputs = ['events.jsonl', 'dlq.jsonl', 'alerts.jsonl', 'run/events.jsonl', 'run/dlq.jsonl', 'run/alerts.jsonl', 'run/identity.jsonl'];
    const leaks: string[] = [];
    for (const f of outputs) {
      const out = await readFile(join(dir, f), 'utf8');
      for (const x of secrets) if (out.includes(x)) leaks.push(`${x} in ${f}`);
    }
    expect(leaks).toEqual([]);
    // Redaction keeps what rules and people need: the keys, the command around the secret.
    const events = (await readFile(join(dir, 'events.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seam: { id: string }; process?: { cmdline: string } });
    expect(events.find((e) => e.seam.id === 'sec-pwarg')?.process?.cmdline).toBe('mysql -u root --password=[REDACTED] -h db');
    // A dead letter with nothing to redact keeps the bytes as received, so `dlq replay` sends them unchanged.
    const plain = deadLetter('normalize', new SeamError('SEAM_ERR_INPUT_JSON', 'x'), '{"a": 1.50, "b": "\\u0041"}');
    expect(plain.raw).toBe('{"a": 1.50, "b": "\\u0041"}');
  });

  it('finding 4: logs and setup output never print a URL with credentials or a request body', () => {
    expect(redactUrlCredentials('connect ECONNREFUSED https://admin:S3cr3t-pw@search.example:9200/_bulk')).toBe('connect ECONNREFUSED https://[REDACTED]@search.example:9200/_bulk');
    const e = Object.assign(new Error('Response Error at https://admin:S3cr3t-pw@h:9200'), { meta: { body: '{"index":{}}\n{"password":"x"}', meta: { request: { params: { body: 'bulk' } } } } });
    const logged = JSON.stringify(safeError(e));
    expect(logged).not.toContain('S3cr3t-pw');
    expect(logged).not.toContain('bulk');
    expect(logged).not.toContain('password');
  });
});
