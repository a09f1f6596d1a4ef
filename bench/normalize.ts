/**
 * Normalization throughput, measured side by side with JSON.parse alone in one run (these machines
 * are noisy; the ratio is what counts). Lines are generated from the hand-written fixtures in
 * test/fixtures/ with varied ids, times, principals and sizes, in a realistic mix (mostly audit
 * events, then CloudTrail, runtime, and a few GuardDuty findings; ~1% carry secrets to redact).
 *
 *   node bin/tsx-run.mjs bench/normalize.ts [lines=200000] [rounds=5]
 *
 * Beside them, in the same chunks: the batch-document check every record takes before normalization
 * (`splitBatch`, ADR 0038) on these ordinary records, as a share of normalization's time; and, once, up to
 * 25,000 CloudTrail and 25,000 audit records of the mix carried in batch documents of 50 (Records files,
 * EventLists) against the same records one per line.
 *
 * Last line: `normalize: ratio=<n> events_per_s=<n> parse_events_per_s=<n> batch_check_pct=<n> batch_ratio=<n>`
 * (batch_check_pct: the check's time per record, bytes in cache, as a percentage of normalization's;
 * batch_ratio: records/s in batch documents over records/s one per line).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { RawMeta } from '../src/core/envelope.ts';
import { normalizeLine, unwrapRecords } from '../src/core/normalize/normalize.ts';
import { splitBatch } from '../src/core/normalize/batch.ts';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);

type Rec = Record<string, unknown>;
const FIX = new URL('../test/fixtures/', import.meta.url);
const jsonl = (p: string): Rec[] =>
  readFileSync(new URL(p, FIX), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Rec);
const records = (p: string): Rec[] => (unwrapRecords(JSON.parse(readFileSync(new URL(p, FIX), 'utf8'))) ?? []) as Rec[];

const audit = jsonl('k8s-audit/eks-audit.jsonl');
const cloudtrail = [...records('cloudtrail/s3-export.json'), ...jsonl('cloudtrail/redaction-cases.jsonl')];
const guardduty = [...records('guardduty/get-findings-sdk.json'), JSON.parse(readFileSync(new URL('guardduty/eventbridge-finding.json', FIX), 'utf8')) as Rec];
const runtime = [...jsonl('runtime/falco.jsonl'), ...jsonl('runtime/native.jsonl')];
// Secret-bearing templates are the minority in real traffic: keep them at ~1% of lines.
const secretBearing = (r: Rec): boolean => /"(data|token|sessionToken|secretString|parameters)"|[Bb]earer/.test(JSON.stringify(r));
const split = (xs: Rec[]): [Rec[], Rec[]] => [xs.filter((x) => !secretBearing(x)), xs.filter(secretBearing)];
const [auditPlain, auditSecret] = split(audit);
const [ctPlain, ctSecret] = split(cloudtrail);
const [rtPlain, rtSecret] = split(runtime);

const USERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'gha-run-4711', 'gha-run-4712', 'argo-sync'];
const NAMESPACES = ['payments', 'checkout', 'search', 'kube-system', 'monitoring', 'default'];
let seq = 0;
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0').slice(-w);
const uuid = (i: number): string => `${hex(i * 2654435761, 8)}-${hex(i, 4)}-4${hex(i >> 4, 3)}-8${hex(i * 7, 3)}-${hex(i * 40503, 12)}`;
const time = (i: number): string => new Date(Date.UTC(2024, 10, 5, 14) + i * 9).toISOString();

function vary(t: Rec, i: number): Rec {
  const r = structuredClone(t);
  const u = USERS[i % USERS.length] as string;
  const ns = NAMESPACES[i % NAMESPACES.length] as string;
  if (r.auditID !== undefined) {
    r.auditID = uuid(i);
    r.stageTimestamp = time(i).replace('Z', '123Z');
    r.requestReceivedTimestamp = time(i);
    const user = r.user as Rec;
    if (typeof user.username === 'string' && user.username.includes('assumed-role')) user.username = user.username.replace(/[^/]+$/, u);
    const ref = r.objectRef as Rec | undefined;
    if (ref?.namespace !== undefined) ref.namespace = ns;
  } else if (r.eventID !== undefined) {
    r.eventID = uuid(i);
    r.eventTime = time(i).slice(0, 19) + 'Z';
    const ui = r.userIdentity as Rec;
    if (typeof ui.arn === 'string' && ui.arn.includes('assumed-role')) ui.arn = ui.arn.replace(/[^/]+$/, u);
  } else if (r.schema !== undefined) {
    r.id = uuid(i);
    r.time = time(i);
    r.namespace = ns;
  } else if (r.rule !== undefined) {
    r.uuid = uuid(i);
    r.time = time(i).replace('Z', '123456Z');
  } else if (r.detail !== undefined) {
    const d = r.detail as Rec;
    d.id = hex(i, 32);
    d.updatedAt = time(i);
  } else {
    r.Id = hex(i, 32);
    r.UpdatedAt = time(i);
  }
  return r;
}

const secrets = [...auditSecret, ...ctSecret, ...rtSecret];
function pickTemplate(i: number): Rec {
  const x = (i * 2654435761) >>> 0;
  const p = x % 1000;
  const from = (xs: Rec[]): Rec => xs[(x >>> 10) % xs.length] as Rec;
  if (p < 10) return from(secrets);
  if (p < 560) return from(auditPlain);
  if (p < 860) return from(ctPlain);
  if (p < 985) return from(rtPlain);
  return from(guardduty);
}

const t0 = performance.now();
const lines: string[] = new Array<string>(N);
for (let i = 0; i < N; i++) lines[i] = JSON.stringify(vary(pickTemplate(i), ++seq));
const bytes = lines.reduce((s, l) => s + l.length, 0);
console.log(`generated ${N} lines (${(bytes / 1e6).toFixed(1)} MB, avg ${Math.round(bytes / N)} B) in ${Math.round(performance.now() - t0)} ms`);

const meta: RawMeta = { collector: 'bench', receivedAt: '2024-11-05T15:00:00.000Z', cluster: 'prod-eks-01', region: 'us-west-2' };
let sink = 0;
let failed = 0;
let redacted = 0;

function parseChunk(from: number, to: number): number {
  const s = performance.now();
  for (let i = from; i < to; i++) {
    const v = JSON.parse(lines[i] as string) as Rec;
    if (v !== null) sink++;
  }
  return performance.now() - s;
}

function normalizeChunk(from: number, to: number): number {
  const s = performance.now();
  for (let i = from; i < to; i++) {
    const r = normalizeLine(lines[i] as string, meta);
    if (r.ok) {
      sink++;
      if (r.value.seam.ingest.redacted.length > 0) redacted++;
    } else failed++;
  }
  return performance.now() - s;
}

let takenForBatches = 0;
/** The batch check alone (each line's first bytes read cold from memory: an upper bound of its cost). */
function batchCheckChunk(from: number, to: number): number {
  const s = performance.now();
  for (let i = from; i < to; i++) if (splitBatch(lines[i] as string) !== undefined) takenForBatches++;
  return performance.now() - s;
}

// These machines are shared and noisy: run the two loops interleaved over the same chunk of lines
// (alternating which goes first), so both see the same load. The headline ratio is the throughput
// ratio from total times; the spread of per-chunk ratios is printed to show how noisy the run was.
const CHUNK = 10_000;
parseChunk(0, Math.min(N, 50_000));
normalizeChunk(0, Math.min(N, 50_000));
batchCheckChunk(0, Math.min(N, 50_000));
let parseMs = 0;
let normMs = 0;
let checkMs = 0;
const ratios: number[] = [];

for (let r = 0; r < ROUNDS; r++) {
  failed = 0;
  redacted = 0;
  for (let c = 0, k = 0; c < N; c += CHUNK, k++) {
    const end = Math.min(N, c + CHUNK);
    let p: number;
    let n: number;
    if ((k + r) % 2 === 0) {
      p = parseChunk(c, end);
      n = normalizeChunk(c, end);
    } else {
      n = normalizeChunk(c, end);
      p = parseChunk(c, end);
    }
    parseMs += p;
    normMs += n;
    ratios.push(p / n);
    checkMs += batchCheckChunk(c, end);
  }
}
ratios.sort((x, y) => x - y);

// The check again on the first 2,000 lines, 50 times over: their bytes in cache, as they are when normalization
// reads the record right after the check (the cold figure above pays the memory read that JSON.parse then saves).
let hotMs = 0;
for (let r = 0; r < 50; r++) hotMs += batchCheckChunk(0, Math.min(N, 2000));
const hotNs = (hotMs * 1e6) / (50 * Math.min(N, 2000));

// The CloudTrail and audit records of the mix, in batch documents of 50 (one per line), against the same records one per line.
const BATCH = 50;
// At most 25,000 of each (the copy as documents would otherwise double the bench's memory).
const ctLines = lines.filter((l) => l.startsWith('{"eventVersion"')).slice(0, 25_000);
const auditLines = lines.filter((l) => l.startsWith('{"kind":"Event"')).slice(0, 25_000);
const docs: string[] = [];
for (let i = 0; i < ctLines.length; i += BATCH) docs.push(`{"Records":[${ctLines.slice(i, i + BATCH).join(',')}]}`);
for (let i = 0; i < auditLines.length; i += BATCH) docs.push(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${auditLines.slice(i, i + BATCH).join(',')}]}`);
const bare = [...ctLines, ...auditLines];
const timeIt = (f: () => number): [number, number] => {
  const s = performance.now();
  const n = f();
  return [performance.now() - s, n];
};
const viaBatches = (): number => {
  let n = 0;
  for (const d of docs) for (const r of splitBatch(d)?.records ?? []) if (normalizeLine(r.text, meta).ok) n++;
  return n;
};
const viaLines = (): number => {
  let n = 0;
  for (const l of bare) if (splitBatch(l) === undefined && normalizeLine(l, meta).ok) n++;
  return n;
};
viaBatches();
viaLines();
let batchMs = 0;
let bareMs = 0;
let batchRecords = 0;
for (let r = 0; r < ROUNDS; r++) {
  const [a, n] = r % 2 === 0 ? timeIt(viaBatches) : timeIt(viaLines);
  const [b] = r % 2 === 0 ? timeIt(viaLines) : timeIt(viaBatches);
  batchMs += r % 2 === 0 ? a : b;
  bareMs += r % 2 === 0 ? b : a;
  if (r % 2 === 0) batchRecords = n;
}
if (batchRecords !== bare.length) console.log(`warning: ${bare.length - batchRecords} records of the batch documents failed to normalize`);
const median = ratios[Math.floor(ratios.length / 2)] as number;
const total = N * ROUNDS;
const parseRate = total / (parseMs / 1000);
const normRate = total / (normMs / 1000);
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(`JSON.parse alone:              ${Math.round(parseRate).toLocaleString('en-US')} events/s (${(((bytes / 1e6) * ROUNDS) / (parseMs / 1000)).toFixed(0)} MB/s)`);
console.log(`JSON.parse + normalize/redact: ${Math.round(normRate).toLocaleString('en-US')} events/s (${redacted} of ${N} redacted, ${failed} failed per round)`);
console.log(`ratio: median of ${ratios.length} paired chunks ${median.toFixed(2)} (p10 ${(ratios[Math.floor(ratios.length * 0.1)] as number).toFixed(2)}, p90 ${(ratios[Math.floor(ratios.length * 0.9)] as number).toFixed(2)}), from totals ${(normRate / parseRate).toFixed(2)}`);
const normNs = (normMs * 1e6) / total;
console.log(`batch check on these records:  ${hotNs.toFixed(0)} ns per record in cache (${((100 * hotNs) / normNs).toFixed(2)}% of normalize's ${normNs.toFixed(0)} ns), ${((checkMs * 1e6) / total).toFixed(0)} ns read cold from memory (${((100 * checkMs) / normMs).toFixed(2)}%)`);
console.log(`same ${bare.length} CloudTrail/audit records in ${docs.length} batch documents: ${Math.round((ROUNDS * bare.length) / (batchMs / 1000)).toLocaleString('en-US')} records/s, one per line ${Math.round((ROUNDS * bare.length) / (bareMs / 1000)).toLocaleString('en-US')} records/s (ratio ${(bareMs / batchMs).toFixed(2)})`);
console.log(`peak RSS: ${rssMb.toFixed(0)} MB (sink ${sink})`);
if (failed > 0) console.log(`warning: ${failed} generated lines failed to normalize`);
if (takenForBatches > 0) console.log(`warning: ${takenForBatches} ordinary records were taken for batch documents`);
console.log(`normalize: ratio=${(normRate / parseRate).toFixed(2)} events_per_s=${Math.round(normRate)} parse_events_per_s=${Math.round(parseRate)} batch_check_pct=${((100 * hotNs) / normNs).toFixed(2)} batch_ratio=${(bareMs / batchMs).toFixed(2)}`);
