/**
 * `seam replay --workers N` (ADR 0018): the replay of `runReplay`, with detection spread over N worker
 * threads by tenant (replay-workers-route.ts). The main thread reads the input twice: a first pass finds
 * each record's tenant (while the workers load their rules), the second hands each read chunk's records
 * to their workers and writes what comes back (alerts, dead letters, `--out` events) in input order: the
 * items of record i before those of record i+1, workers in index order for one record, then what each
 * worker's end of input flushes. The same input gives the same output, whatever the threads' timing.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { deadLetter, type DeadLetter } from '../core/dead-letter.ts';
import { JsonlSink } from '../sinks/jsonl/sink.ts';
import { listInputFiles, readFilesBatches, type FileItem } from '../sources/file/source.ts';
import { countAlert, type ReplayDetectSpec, type ReplayProgress, type ReplaySummary } from './replay.ts';
import type { Alert } from '../detect/alert.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import { BatchCounts } from '../core/normalize/batch.ts';
import { DEFAULT_ALLOWED_LATENESS_MS } from '../detect/load.ts';
import { TenantPlanner, tenantOfEvent, viewHash, type TenantPlan } from './replay-workers-route.ts';
import { quickRecord } from './replay-workers-scan.ts';
import { recordTimeOf } from './record-time.ts';
import { isoMs } from '../core/time.ts';
import { DUPLICATE, OneThreadOrder } from './replay-workers-order.ts';
import { addNotes, noNotes } from './event-notes.ts';
import { findingOfKey, ITEM, type FromWorker, type ToWorker, type WorkerBatch, type WorkerInit, type WorkerOut } from './replay-workers-protocol.ts';

export interface ReplayWorkersOptions {
  paths: string[];
  workers: number;
  spec: ReplayDetectSpec;
  dlqPath: string;
  /** Alerts as JSONL (`-` for stdout); omitted = not written (`onAlert` only). */
  alertsPath?: string;
  /** Each alert that is news, as `runReplay` hands it on (not a GuardDuty finding's later version at a level already seen). */
  onAlert?: (alert: Alert) => void;
  outPath?: string;
  maxRecordBytes: number;
  cluster?: string;
  onProgress?: (p: ReplayProgress) => void;
  /** One line on how the input was split (tenants, records per worker), and the number of tenants. */
  onPlan?: (line: string, tenants: number) => void;
}

/** Read chunks handed out and not yet written back; past this the reader waits (memory stays bounded). */
const MAX_ROUNDS_IN_FLIGHT = 16;

interface Round {
  no: number;
  waiting: number;
  parts: WorkerOut[];
  /** Dead letters of records the reader could not cut out (main thread), by input position. */
  readErrors: { idx: number; dl: DeadLetter }[];
  done: Promise<void>;
  resolve: () => void;
}

function workerEntry(): { code: string; eval: true } | { url: URL } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./replay-workers-thread.js', here) };
  // Running the sources: the worker registers tsx's loader before it imports its TypeScript entry.
  const tsx = createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  const entry = new URL('./replay-workers-thread.ts', here).href;
  return { code: `import(${JSON.stringify(new URL(`file://${tsx}`).href)}).then((m) => m.register()).then(() => import(${JSON.stringify(entry)}))`, eval: true };
}

function grow<T extends Int32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Where a `--workers` replay's time went (ADR 0018's measurement). */
export interface WorkersTiming {
  /** Main thread: the first pass (read; tenant, time and id of each record; the one-thread order). */
  pass1Ms: number;
  /** Main thread: the second pass and the writing, until the last worker finished. */
  pass2Ms: number;
  /** Per worker: from start to rules loaded. */
  loadMs: number[];
  /** Per worker: time spent on records (normalize, detect, serialize). */
  busyMs: number[];
  /**
   * Records the first pass read otherwise than their worker normalized them (id, tenant or time): 0 unless
   * the quick reading and the normalizer drifted apart; then the order or the split may differ from one thread's.
   */
  mismatched: number;
}

export async function runReplayWorkers(opts: ReplayWorkersOptions): Promise<ReplaySummary & { plan: TenantPlan; timing: WorkersTiming }> {
  const started = performance.now();
  const n = opts.workers;
  const init: WorkerInit = { spec: opts.spec, maxRecordBytes: opts.maxRecordBytes, writeEvents: opts.outPath !== undefined, ...(opts.cluster ? { cluster: opts.cluster } : {}) };
  const entry = workerEntry();
  /** Started as needed: worker 0 at once (its rule load overlaps the first pass), the others once the split gives them records. */
  const workers: (Worker | undefined)[] = new Array(n).fill(undefined);
  let failure: Error | undefined;
  let onFailure: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    onFailure = (e) => {
      failure ??= e;
      reject(failure);
    };
  });
  failed.catch(() => {});
  const rounds = new Map<number, Round>();
  const finals: (WorkerOut | undefined)[] = new Array(n).fill(undefined);
  let finalsLeft = n;
  let finalsDone: () => void = () => {};
  const allFinal = new Promise<void>((r) => (finalsDone = r));
  // Counted in the second pass (the first reads the same records).
  const batches = new BatchCounts();
  const summary: ReplaySummary = { files: 0, bytes: 0, records: 0, normalized: 0, bySource: {}, rejected: 0, rejectedByCode: {}, alerts: 0, elapsedMs: 0, batches: batches.snapshot(), notes: noNotes() };
  const timing: WorkersTiming = { pass1Ms: 0, pass2Ms: 0, loadMs: new Array<number>(n).fill(0), busyMs: new Array<number>(n).fill(0), mismatched: 0 };
  const addCounts = (o: WorkerOut, w: number): void => {
    timing.busyMs[w]! += o.busyMs;
    timing.mismatched += o.mismatched;
    summary.normalized += o.normalized;
    addNotes(summary.notes, o.notes);
    for (const [k, v] of Object.entries(o.bySource)) summary.bySource[k as keyof ReplaySummary['bySource']] = (summary.bySource[k as keyof ReplaySummary['bySource']] ?? 0) + v;
  };

  const start = (w: number): void => {
    // Every worker loads the same rules: what the load says once for the run (unset placeholders, the overrides applied) is said by worker 0 only.
    const data: WorkerInit = w === 0 ? init : { ...init, spec: { ...init.spec, reportUnsetPlaceholders: false, reportOverrides: false } };
    const worker = 'url' in entry ? new Worker(entry.url, { workerData: data }) : new Worker(entry.code, { eval: true, workerData: data });
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'error') onFailure(m.code !== undefined ? Object.assign(new Error(m.message), { code: m.code }) : new Error(`replay worker ${w}: ${m.message}`));
      else if (m.t === 'ready') timing.loadMs[w] = m.loadMs;
      else if (m.t === 'out') {
        addCounts(m, w);
        const r = rounds.get(m.round);
        if (r === undefined) return onFailure(new Error(`replay worker ${w} answered round ${m.round}, which is not open`));
        r.parts[w] = m;
        if (--r.waiting === 0) r.resolve();
      } else if (m.t === 'done') {
        addCounts({ ...m, t: 'out' }, w);
        finals[w] = { ...m, t: 'out' };
        if (--finalsLeft === 0) finalsDone();
      }
    });
    worker.on('error', (e) => onFailure(new Error(`replay worker ${w} failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      if (finalsLeft > 0 && finals[w] === undefined) onFailure(new Error(`replay worker ${w} exited (code ${code}) before the end of input`));
    });
    workers[w] = worker;
  };

  const out = opts.outPath ? await JsonlSink.open(opts.outPath) : undefined;
  // Appended to, never truncated: a later replay must not erase an earlier one's dead letters (nothing is lost).
  const dlq = await JsonlSink.open(opts.dlqPath, { append: true });
  const alertsOut = opts.alertsPath === undefined ? undefined : await JsonlSink.open(opts.alertsPath);
  const writeLine = (sink: JsonlSink | undefined, line: string): Promise<void> | undefined => sink?.writeLine(line);
  /** GuardDuty finding alerts counted so far (`countAlert`): every version of one finding comes from one worker, in its order. */
  const notices = new Set<string>();
  /** Writes one round's items: by input position, then worker index (the parts are in that order already). */
  const writeRound = async (r: Round): Promise<void> => {
    const items: { idx: number; w: number; k: number; line: string; key: string }[] = [];
    for (const e of r.readErrors) items.push({ idx: e.idx, w: -1, k: ITEM.deadLetter, line: JSON.stringify(e.dl), key: e.dl.code });
    r.parts.forEach((p, w) => {
      if (p !== undefined) for (let i = 0; i < p.idx.length; i++) items.push({ idx: p.idx[i]!, w, k: p.kind[i]!, line: p.lines[i]!, key: p.keys[i]! });
    });
    // Stable: a worker's items for one record keep their order.
    items.sort((a, b) => a.idx - b.idx || a.w - b.w);
    for (const it of items) {
      let wait: Promise<void> | undefined;
      if (it.k === ITEM.deadLetter) {
        summary.rejected++;
        summary.rejectedByCode[it.key] = (summary.rejectedByCode[it.key] ?? 0) + 1;
        wait = writeLine(dlq, it.line);
      } else if (it.k === ITEM.event) {
        wait = writeLine(out, it.line);
      } else {
        // Every version is written, a GuardDuty finding's later ones counted as updates, as one thread does (ADR 0046).
        const f = findingOfKey(it.key);
        let news = true;
        if (f === undefined) summary.alerts++;
        else news = countAlert(summary, notices, f);
        if (news && opts.onAlert !== undefined) opts.onAlert(JSON.parse(it.line) as Alert);
        wait = writeLine(alertsOut, it.line);
      }
      if (wait !== undefined) await wait;
    }
  };

  const readOpts = { maxRecordBytes: opts.maxRecordBytes, eventTimeMs: recordTimeOf(opts.maxRecordBytes), ...(opts.cluster ? { cluster: opts.cluster } : {}) };
  try {
    start(0);
    const files = await listInputFiles(opts.paths);
    summary.files = files.length;
    summary.bytes = files.reduce((s, f) => s + f.bytes, 0);

    // ---- pass 1: each record's tenant, and the one-thread event-time order (the workers load their rules meanwhile) ----
    const planner = new TenantPlanner();
    for (const c of opts.spec.identity?.clusters ?? []) if (c.account !== undefined) planner.link(c.account, c.name);
    // --cluster says the input is that cluster's: every account in it meets the cluster's audit and runtime records in
    // one worker, as when its CloudTrail records carried the cluster (they no longer do: SOC review M9).
    const order = new OneThreadOrder(opts.spec.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS);
    const normalizeOpts = { maxRecordBytes: opts.maxRecordBytes };
    let keys = new Int32Array(1 << 16);
    let late = new Uint8Array(1 << 16);
    let wm = new Float64Array(1 << 16);
    let clock = new Float64Array(1 << 16);
    let count = 0;
    let lateEvents = 0;
    let duplicates = 0;
    // The first pass's reading of each record, which its worker checks against its own normalization.
    let views = new Int32Array(1 << 16);
    for await (const batch of readFilesBatches(opts.paths, readOpts)) {
      for (const item of batch) {
        if (count === keys.length) {
          keys = grow(keys, new Int32Array(keys.length * 2));
          late = grow(late, new Uint8Array(late.length * 2));
          wm = grow(wm, new Float64Array(wm.length * 2));
          clock = grow(clock, new Float64Array(clock.length * 2));
          views = grow(views, new Int32Array(views.length * 2));
        }
        let key = -1;
        let view = 0;
        if (item.kind === 'record') {
          // The quick read of the common shapes; the rest is normalized in full.
          const q = quickRecord(item.text, item.meta, opts.maxRecordBytes);
          if (q !== undefined) {
            key = planner.keyOf(q.tenant);
            if (opts.cluster !== undefined && q.tenant.account !== undefined) planner.link(q.tenant.account, opts.cluster);
            if (order.repeat(q.id)) {
              late[count] = DUPLICATE;
              duplicates++;
            } else if (order.push(q.t, q.id)) {
              late[count] = 1;
              lateEvents++;
            }
            view = viewHash(q.id, q.tenant, q.t);
          } else {
            const r = normalizeLine(item.text, item.meta, normalizeOpts);
            if (r.ok) {
              const tenant = tenantOfEvent(r.value);
              key = planner.keyOf(tenant);
              if (opts.cluster !== undefined && tenant.account !== undefined) planner.link(tenant.account, opts.cluster);
              if (order.repeat(r.value.seam.id)) {
                late[count] = DUPLICATE;
                duplicates++;
              } else if (order.push(isoMs(r.value['@timestamp']), r.value.seam.id)) {
                late[count] = 1;
                lateEvents++;
              }
              view = viewHash(r.value.seam.id, tenant, isoMs(r.value['@timestamp']));
            }
          }
        }
        views[count] = view;
        keys[count] = key;
        clock[count] = order.clock;
        wm[count++] = order.watermark;
      }
    }
    timing.pass1Ms = Math.round(performance.now() - started);
    summary.late = { events: lateEvents, allowedLatenessMs: opts.spec.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS };
    if (duplicates > 0) summary.duplicates = duplicates;
    const plan: TenantPlan = planner.plan(n);
    opts.onPlan?.(plan.describe(), plan.tenants);
    for (let w = 1; w < n; w++) {
      if (plan.load[w]! > 0) start(w);
      else {
        // Nothing to do: not started, and its end-of-input output is empty.
        finals[w] = { t: 'out', round: -1, idx: [], kind: [], lines: [], keys: [], normalized: 0, bySource: {}, notes: noNotes(), busyMs: 0, mismatched: 0 };
        if (--finalsLeft === 0) finalsDone();
      }
    }

    // ---- pass 2: records to their workers; output back in input order ----
    let bytesRead = 0;
    const report = (): void => opts.onProgress?.({ bytesRead, bytesTotal: summary.bytes, records: summary.records, rejected: summary.rejected });
    const chunks = readFilesBatches(opts.paths, {
      ...readOpts,
      batches,
      onProgress: (b) => {
        bytesRead = b;
      },
    });
    let roundNo = 0;
    const queue: Round[] = [];
    const flushOldest = async (): Promise<void> => {
      const r = queue.shift()!;
      await Promise.race([r.done, failed]);
      await writeRound(r);
      rounds.delete(r.no);
    };
    for await (const batch of chunks) {
      const round = roundNo++;
      const per: (WorkerBatch | undefined)[] = new Array(n).fill(undefined);
      const readErrors: Round['readErrors'] = [];
      const receivedAt = batch[0]?.meta.receivedAt ?? new Date().toISOString();
      const to = (w: number, idx: number, item: Extract<FileItem, { kind: 'record' }>): void => {
        let b = per[w];
        if (b === undefined) per[w] = b = { t: 'batch', round, idx: [], texts: [], origins: [], accounts: [], clusters: [], receivedAt, late: [], wmBefore: [], wmAfter: [], clockBefore: [], expect: [] };
        b.idx.push(idx);
        b.texts.push(item.text);
        b.origins.push(item.meta.origin ?? '');
        b.accounts.push(item.meta.account ?? '');
        b.clusters.push(item.meta.cluster ?? '');
        b.late.push(late[idx]!);
        b.wmBefore.push(idx === 0 ? -Infinity : wm[idx - 1]!);
        b.wmAfter.push(wm[idx]!);
        b.clockBefore.push(idx === 0 ? -Infinity : clock[idx - 1]!);
        b.expect.push(views[idx]!);
      };
      for (const item of batch) {
        const idx = summary.records++;
        if (item.kind === 'error') {
          readErrors.push({ idx, dl: deadLetter('read', item.error, item.raw, { origin: item.meta.origin ?? '', collector: item.meta.collector }) });
          continue;
        }
        // The input must read the same twice: a file that grew in between is cut at what pass 1 saw.
        if (idx >= count) throw new Error(`the input changed while it was replayed: more records than the first pass read (${count})`);
        to(plan.workerOfKey(keys[idx]!), idx, item);
      }
      let resolve: () => void = () => {};
      const done = new Promise<void>((r) => (resolve = r));
      const r: Round = { no: round, waiting: 0, parts: [], readErrors, done, resolve };
      for (let w = 0; w < n; w++) if (per[w] !== undefined) r.waiting++;
      rounds.set(round, r);
      queue.push(r);
      if (r.waiting === 0) r.resolve();
      for (let w = 0; w < n; w++) if (per[w] !== undefined) workers[w]!.postMessage(per[w]! satisfies WorkerBatch);
      if (failure) throw failure;
      while (queue.length > MAX_ROUNDS_IN_FLIGHT) await flushOldest();
      if (round % 16 === 0) report();
    }
    while (queue.length > 0) await flushOldest();
    for (const w of workers) w?.postMessage({ t: 'end' } satisfies ToWorker);
    await Promise.race([allFinal, failed]);
    // The end of input: what each worker's reorder buffer and windows still held, worker by worker.
    const last: Round = { no: -1, waiting: 0, parts: finals.map((f) => f!), readErrors: [], done: Promise.resolve(), resolve: () => {} };
    await writeRound(last);
    report();
    summary.batches = batches.snapshot();
    summary.elapsedMs = Math.round(performance.now() - started);
    timing.pass2Ms = summary.elapsedMs - timing.pass1Ms;
    timing.busyMs = timing.busyMs.map((x) => Math.round(x));
    return { ...summary, plan, timing };
  } finally {
    await Promise.all([out?.close(), dlq.close(), alertsOut?.close()]);
    await Promise.all(workers.map((w) => w?.terminate()));
  }
}
