import { join } from 'node:path';
import { MemoryBus } from '../bus/memory.ts';
import type { BusMessage } from '../bus/types.ts';
import { deadLetter, type DeadLetter } from '../core/dead-letter.ts';
import type { SourceType } from '../core/envelope.ts';
import { BatchCounts, type BatchCountsSnapshot } from '../core/normalize/batch.ts';
import type { Alert } from '../detect/alert.ts';
import { JsonlSink } from '../sinks/jsonl/sink.ts';
import { rawHeaders } from '../sources/checkpoint/raw-record.ts';
import { detectSource } from '../sources/cloudwatch-logs/parse.ts';
import { listInputFiles, readFiles, type FileItem, type InputPath } from '../sources/file/source.ts';
import { recordTimeOf } from './record-time.ts';
import type { Detection } from './detection.ts';
import { FileIndexSink } from './file-sink.ts';
import { memoryHistory } from './history.ts';
import { memoryUpstream } from './progress.ts';
import { emptySummary, type ReplaySummary } from './replay.ts';
import { addNotes, type EventNotes } from './event-notes.ts';
import type { Deliverer } from '../sinks/delivery/deliverer.ts';
import { createCorrelateRole } from './roles/correlate.ts';
import { createDeliverRole } from './roles/deliver.ts';
import { createIndexRole } from './roles/indexer.ts';
import { createNormalizeRole } from './roles/normalize.ts';
import { defaultGroupId } from './roles/role.ts';
import { compactIdentityState, IDENTITY_STATE_FILE, identityStateMessages, loadState, saveIdentityState } from './identity-state.ts';
import { lockStateDir } from './state-lock.ts';
import { pipelineTopics, type PipelineTopics } from './topics.ts';
import { childLogger } from '../core/logger.ts';


/**
 * The correlate role's "watermark held by <partition>" notice, at debug here: on a file replay a plane whose records
 * stop earlier than the others' (the demo's sensor, quiet for a minute) holds nothing that the end of input does not
 * release, and the line read as an operations problem on every `npm start`. On Kafka it stays at info (docs/metrics.md).
 */
const heldLog = childLogger('role.correlate');
const heldAtDebug = (fields: Record<string, unknown>, msg: string): void => heldLog.debug(fields, msg);

export interface EmbeddedOptions {
  /** Files and folders, each alone or with the cluster and account its records are attributed to (seam.yml's file sources). */
  paths: InputPath[];
  /** Records to feed instead of reading `paths` (e.g. dead letters being replayed). */
  items?: FileItem[];
  stateDir: string;
  detection: Detection;
  maxRecordBytes: number;
  /** The cluster of records that do not say, in paths that name none. */
  cluster?: string;
  /** Each alert as it fires; `info.update`: a GuardDuty finding alert's later version, not a new alert (ADR 0046). */
  onAlert?: (a: Alert, info: { update?: true }) => void;
  /** Alert delivery (`seam run --delivery`): a deliver role reads `seam.alerts` in its own group. */
  deliverer?: Deliverer;
  /**
   * `seam run --resume` (ADR 0044): `seam.identity` as the last resumed run left it (`<stateDir>/identity-state.jsonl`)
   * is put back on the bus before the roles start, and saved again when the run ends; the output files are
   * appended to. Without it every run starts with an empty identity graph and fresh files.
   */
  resume?: boolean;
}

/** What a resumed run read and saved of `<stateDir>/identity-state.jsonl`. */
export interface IdentityStateSummary {
  path: string;
  /** Records read at the start (0: there was no file yet). */
  loaded: number;
  /** Whether the file existed. */
  found: boolean;
  /** Records saved at the end, and what compaction left out. */
  saved: number;
  superseded: number;
  expired: number;
}

export interface EmbeddedResult {
  summary: ReplaySummary;
  paths: { events: string; alerts: string; identity: string; incidents: string; dlq: string };
  /** With `resume`. */
  identityState?: IdentityStateSummary;
}

/**
 * Embedded mode: the three roles of the Kafka deployment, same code, over a MemoryBus; files are fed
 * to `seam.raw.*` as the file collector would, and the index role writes JSONL files instead of
 * OpenSearch. When the input is exhausted and every group has caught up, open correlation windows
 * are judged (end of input) and the roles stop.
 */
export async function runEmbedded(o: EmbeddedOptions): Promise<EmbeddedResult> {
  if (o.resume !== true) return runUnlocked(o);
  // One resumed run per state directory (ADR 0044): taken before the state file is read, removed however the run ends.
  const lock = await lockStateDir(o.stateDir);
  try {
    return await runUnlocked(o);
  } finally {
    await lock.release();
  }
}

async function runUnlocked(o: EmbeddedOptions): Promise<EmbeddedResult> {
  const started = performance.now();
  const topics = pipelineTopics();
  // Records, signals, events and incident updates are dropped once every group has them (a long replay
  // stays flat), keeping the correlate role's rebuild window of signals (it re-reads them after a failed
  // batch). Kept whole: alerts (the rebuild reads them back by produce time), identity (restored from its
  // start) and dead letters (counted at the end).
  const trim = Object.fromEntries([...topics.rawAll.map((t) => [t, 0]), [topics.events, 0], [topics.incidents, 0], [topics.signals, o.detection.rebuildWindowMs]]);
  // The state file is read before any output file is opened: a bad one stops the run with nothing touched.
  const statePath = join(o.stateDir, IDENTITY_STATE_FILE);
  const saved = o.resume === true ? await loadState(statePath) : undefined;
  const earlier = saved?.records;
  const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 1000, trim });
  const sink = await FileIndexSink.open(o.stateDir, { append: o.resume === true });
  const dlqPath = join(o.stateDir, 'dlq.jsonl');
  // On the identity topic before any role starts: the correlate role's first batch rebuilds its partition from it
  // (restoreIdentity), as on Kafka. Without `signal` the records are older than any window: applied before the re-read.
  if (earlier !== undefined && earlier.length > 0) {
    const p = await bus.producer();
    await p.send(identityStateMessages(topics.identity, earlier));
    await p.close();
  }
  const normalize = createNormalizeRole({ bus, topics, ...(o.detection.ruleset ? { ruleset: o.detection.ruleset } : {}), maxRecordBytes: o.maxRecordBytes });
  // Event-time order with the watermark of stage 1's marks; the end of input hands on the rest (flush).
  // No early alerts (ADR 0025): a replay has no one waiting, and its files hold each alert once.
  const order = { upstream: memoryUpstream(bus, topics, defaultGroupId('normalize')), idleMs: Infinity, pollMs: 0 };
  const correlate = createCorrelateRole({ bus, topics, detection: o.detection, history: memoryHistory(bus), order, early: false, heldLog: heldAtDebug, ...(o.onAlert ? { onAlert: o.onAlert } : {}), ...(saved !== undefined ? { nativeState: saved.native } : {}) });
  // A new group starts at the end of what is there (as Kafka's auto.offset.reset=latest): past the records put back,
  // which an earlier run already wrote to identity.jsonl. Every other topic is still empty.
  const index = createIndexRole({ bus, topics, sink, ...(earlier !== undefined && earlier.length > 0 ? { fromBeginning: false } : {}) });
  // Dead letters end up in a file: an extra consumer group on seam.dlq.
  const dlqFile = await JsonlSink.open(dlqPath, { append: o.resume === true });
  const dlqConsumer = await bus.consumer({
    groupId: 'seam-dlq-file',
    topics: [topics.dlq],
    fromBeginning: true,
    handle: async (batch) => {
      for (const m of batch) await dlqFile.write(JSON.parse(m.value.toString('utf8')) as DeadLetter);
    },
  });
  const roles = [normalize, correlate, index, ...(o.deliverer ? [createDeliverRole({ bus, topics, deliverer: o.deliverer })] : [])];
  for (const r of roles) await r.start();
  await dlqConsumer.run();

  const files = o.items ? [] : await listInputFiles(o.paths);
  // Batch documents on a line are cut by the file source; fed items (dead letters replayed) by the normalize role.
  const batches = new BatchCounts();
  const summary = emptySummary(files.length, files.reduce((s, f) => s + f.bytes, 0), batches);
  let native: Record<string, unknown[]> = {};
  try {
    const producer = await bus.producer();
    // Records go in file order, in runs of one topic: normalize catches up before the next run, so
    // signals reach the correlate role in file (time) order across planes, as a replay did before
    // the roles existed. In Kafka, order across raw topics is only as good as the collectors' lag.
    const produced = new Map<string, number>();
    let run: BusMessage[] = [];
    const send = async (): Promise<void> => {
      if (run.length === 0) return;
      const topic = run[0]!.topic;
      await producer.send(run);
      produced.set(topic, (produced.get(topic) ?? 0) + run.length);
      run = [];
      const group = defaultGroupId('normalize');
      if (topic === topics.dlq) return;
      while ((bus.committed(group)[`${topic}/0`] ?? 0) < produced.get(topic)!) await new Promise((r) => setImmediate(r));
    };
    const items = o.items ?? readFiles(o.paths, { maxRecordBytes: o.maxRecordBytes, batches, eventTimeMs: recordTimeOf(o.maxRecordBytes), ...(o.cluster ? { cluster: o.cluster } : {}) });
    for await (const item of items) {
      summary.records++;
      const m = rawMessage(topics, item);
      if (run.length >= 1000 || (run.length > 0 && run[0]!.topic !== m.topic)) await send();
      run.push(m);
    }
    await send();
    await drained(bus, topics, o.deliverer !== undefined);
    await correlate.flush();
    await drained(bus, topics, o.deliverer !== undefined);
    // Before the roles stop (the correlate role drops its states then). A run without signals rebuilt no state: what it loaded stands.
    native = correlate.nativeState() ?? saved?.native ?? {};
  } finally {
    for (const r of roles) await r.stop();
    await dlqConsumer.stop();
    await Promise.all([sink.close(), dlqFile.close()]);
  }
  const n = normalize.stats() as { events: number; bySource: Partial<Record<SourceType, number>>; batches: BatchCountsSnapshot; notes: EventNotes };
  const c = correlate.stats() as { alerts: number; findingUpdates: number; findingEscalations: number; lateSignals: number };
  summary.late = { events: c.lateSignals, allowedLatenessMs: o.detection.allowedLatenessMs };
  summary.normalized = n.events;
  summary.bySource = n.bySource;
  addNotes(summary.notes, n.notes);
  batches.merge(n.batches);
  summary.batches = batches.snapshot();
  for (const p of bus.read(topics.dlq)) {
    for (const m of p) {
      const code = (JSON.parse(m.value.toString('utf8')) as DeadLetter).code;
      summary.rejected++;
      summary.rejectedByCode[code] = (summary.rejectedByCode[code] ?? 0) + 1;
    }
  }
  // Later versions of a GuardDuty finding alert update it (alerts.jsonl: the last line of an id wins, ADR 0046).
  summary.alerts = c.alerts - c.findingUpdates;
  if (c.findingUpdates > 0) summary.alertUpdates = { updates: c.findingUpdates, escalations: c.findingEscalations };
  // Only a run that went to its end saves: one that failed leaves the state file as the last whole run left it.
  let identityState: IdentityStateSummary | undefined;
  if (o.resume === true) {
    const compacted = compactIdentityState(
      bus.read(topics.identity).flatMap((p) => p.map((m) => m.value)),
      o.detection.newStage().native.graph,
    );
    // With the grants still waiting for their first use: grant and use may fall in two daily runs.
    await saveIdentityState(statePath, compacted.records, native);
    identityState = { path: statePath, found: earlier !== undefined, loaded: earlier?.length ?? 0, saved: compacted.records.length, superseded: compacted.superseded, expired: compacted.expired };
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  await bus.close();
  return { summary, paths: { ...sink.paths, dlq: dlqPath }, ...(identityState ? { identityState } : {}) };
}

/** A file record as the file collector puts it on the bus; unreadable ones go to the dead letters at once. */
function rawMessage(topics: PipelineTopics, item: FileItem): BusMessage {
  const key = item.meta.origin ?? null;
  if (item.kind === 'error') {
    const dl = deadLetter('read', item.error, item.raw, { collector: 'file', ...(item.meta.origin ? { origin: item.meta.origin } : {}) });
    return { topic: topics.dlq, key, value: Buffer.from(JSON.stringify(dl)), headers: rawHeaders(item.meta) };
  }
  const source = item.meta.source ?? detectSource(item.text);
  // A record of no known format still goes through normalize, which dead-letters it with the precise reason.
  return { topic: topics.raw(source ?? 'k8s_audit'), key, value: Buffer.from(item.text), headers: rawHeaders(source ? { ...item.meta, source } : item.meta) };
}

/** Waits until the three role groups have committed everything on their input topics. */
async function drained(bus: MemoryBus, topics: PipelineTopics, deliver = false): Promise<void> {
  const groups: [string, readonly string[]][] = [
    ...(deliver ? [[defaultGroupId('deliver'), [topics.alerts]] as [string, readonly string[]]] : []),
    [defaultGroupId('normalize'), topics.rawAll],
    [defaultGroupId('correlate'), [topics.signals]],
    [defaultGroupId('index'), [topics.events, topics.alerts, topics.identity, topics.incidents]],
    ['seam-dlq-file', [topics.dlq]],
  ];
  for (;;) {
    let behind = false;
    for (const [g, ts] of groups) {
      const committed = bus.committed(g);
      for (const t of ts) {
        bus.ends(t).forEach((end, i) => {
          if ((committed[`${t}/${i}`] ?? 0) < end) behind = true;
        });
      }
    }
    if (!behind) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}
