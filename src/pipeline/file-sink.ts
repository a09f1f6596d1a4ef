import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeFileAtomically } from '../core/atomic-file.ts';
import { SeamError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import type { IdentityDoc } from '../identity/types.ts';
import { applyIncidentUpdates, type IncidentDoc, type IncidentUpdate } from './incident-topic.ts';
import { JsonlSink } from '../sinks/jsonl/sink.ts';
import type { EventRouting, PerDocResult, SinkDoc } from '../sinks/opensearch/sink.ts';
import type { IndexSink } from './roles/indexer.ts';

const log = childLogger('pipeline.file-sink');

/**
 * Embedded mode's index: events, alerts, identity graph versions and incidents as JSONL files under the state
 * directory (a version re-sent when it closes is appended again: the last line of an id wins). Every write
 * is acked once it is handed to the file stream; nothing is deduplicated (a MemoryBus does not
 * redeliver after a crash: there is no after).
 */
/** How often changed incidents are appended to incidents.jsonl (and at close). */
const INCIDENT_WRITE_INTERVAL_MS = 1000;

export class FileIndexSink implements IndexSink {
  private constructor(
    private readonly events: JsonlSink,
    private readonly alerts: JsonlSink,
    private readonly identity: JsonlSink,
    private readonly incidents: JsonlSink,
    readonly paths: { events: string; alerts: string; identity: string; incidents: string },
  ) {}

  /** The incidents as merged so far (ADR 0015), by id. */
  private readonly incidentDocs = new Map<string, IncidentDoc>();
  /** Incidents changed since they were last appended to incidents.jsonl. */
  private readonly dirtyIncidents = new Set<string>();
  private incidentsWrittenAt = 0;

  /**
   * `append` (`seam run --resume`, ADR 0044): the files of earlier runs are kept and appended to, and the
   * incidents they hold are read back first (the last line of an id wins), so an alert of this run joins its
   * identity's open incident (or opens the next episode, ADR 0020) as it would in the incidents index.
   * Without it the files are started afresh.
   */
  static async open(dir: string, opts: { append?: boolean } = {}): Promise<FileIndexSink> {
    const paths = { events: join(dir, 'events.jsonl'), alerts: join(dir, 'alerts.jsonl'), identity: join(dir, 'identity.jsonl'), incidents: join(dir, 'incidents.jsonl') };
    const earlier = opts.append === true ? await readIncidents(paths.incidents) : { docs: [], lines: 0 };
    // Compacted to the last line of each id before this run appends: an incident that grows each day would
    // otherwise be appended whole every run, and the file would grow with the square of the runs.
    if (earlier.lines > earlier.docs.length) {
      try {
        await writeFileAtomically(paths.incidents, earlier.docs.map((d) => JSON.stringify(d) + '\n'));
      } catch (e) {
        throw new SeamError('SEAM_ERR_STATE_SAVE', `cannot compact incidents file ${paths.incidents}: ${(e as Error).message}`, { cause: e, details: { path: paths.incidents } });
      }
    }
    const mode = { append: opts.append === true };
    const sink = new FileIndexSink(await JsonlSink.open(paths.events, mode), await JsonlSink.open(paths.alerts, mode), await JsonlSink.open(paths.identity, mode), await JsonlSink.open(paths.incidents, mode), paths);
    for (const d of earlier.docs) sink.incidentDocs.set(d.id, d);
    return sink;
  }

  /**
   * Merges incident updates as the OpenSearch sink does (`applyIncidentUpdates`, ADR 0015/0020). Changed incidents
   * are appended (the last line of an id wins) at most once a second and at close, each in its latest state:
   * appending every version would write a large incident's alert ids again for every batch.
   */
  async mergeIncidents(updates: readonly IncidentUpdate[]): Promise<number> {
    const docs = this.incidentDocs;
    const changed = await applyIncidentUpdates(
      {
        read: async (ids) => new Map(ids.flatMap((id) => (docs.has(id) ? [[id, { doc: docs.get(id)!, version: docs.get(id) }] as const] : []))),
        // One writer: the version read is the document itself, so a conflict cannot happen here.
        write: async (ws) => {
          for (const w of ws) {
            docs.set(w.id, w.doc);
            this.dirtyIncidents.add(w.id);
          }
          return new Set();
        },
      },
      updates,
    );
    if (Date.now() - this.incidentsWrittenAt >= INCIDENT_WRITE_INTERVAL_MS) await this.writeIncidents();
    return changed;
  }

  /**
   * Appends the changed incidents. Context documents (ADR 0051: a key's held low/informational alerts, not incidents)
   * only at close: a noisy workload's changes with every alert, and appending it each second made the file tens of MB.
   */
  private async writeIncidents(final = false): Promise<void> {
    this.incidentsWrittenAt = Date.now();
    const ids = [...this.dirtyIncidents].filter((id) => final || this.incidentDocs.get(id)?.status !== 'context');
    for (const id of ids) this.dirtyIncidents.delete(id);
    for (const id of ids) await this.incidents.write(this.incidentDocs.get(id));
  }

  eventTarget(e: EventRouting): { index: string; id: string } {
    return { index: 'events', id: e.seam.id };
  }

  alertTarget(a: { id: string }): { index: string; id: string } {
    return { index: 'alerts', id: a.id };
  }

  identityTarget(d: IdentityDoc): { index: string; id: string } {
    return { index: 'identity', id: d.id };
  }

  async write(docs: readonly SinkDoc[]): Promise<PerDocResult[]> {
    const out: PerDocResult[] = [];
    for (const d of docs) {
      const sink = d.index === 'alerts' ? this.alerts : d.index === 'identity' ? this.identity : this.events;
      if (d.json === undefined) await sink.write(d.doc);
      else {
        // Already serialized (JSON.stringify writes no newline): the line as it is, not parsed and written again.
        const line = d.json.toString('utf8');
        await (line.includes('\n') ? sink.write(JSON.parse(line)) : sink.writeLine(line));
      }
      out.push({ status: 'acked', id: d.id, index: d.index, result: 'created' });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.writeIncidents(true);
    await Promise.all([this.events.close(), this.alerts.close(), this.identity.close(), this.incidents.close()]);
  }
}

/**
 * The incidents an earlier run appended (the last line of an id wins), read line by line, and how many
 * non-empty lines the file had. A line that is not JSON is what a run killed mid-write leaves (the next append
 * ends it, `JsonlSink.open`): skipped, with a warning; that incident's previous line stands. JSON that is not
 * an incident means this is not Seam's incidents file: an error naming it, since merging on top of a guess
 * would lose alerts.
 */
async function readIncidents(path: string): Promise<{ docs: IncidentDoc[]; lines: number }> {
  const docs = new Map<string, IncidentDoc>();
  let torn = 0;
  let lines = 0;
  let i = 0;
  try {
    for await (const line of createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })) {
      i++;
      if (line.trim() === '') continue;
      lines++;
      let d: Partial<IncidentDoc> | null;
      try {
        d = JSON.parse(line) as Partial<IncidentDoc> | null;
      } catch {
        torn++;
        continue;
      }
      if (typeof d?.id !== 'string' || !Array.isArray(d.alert_ids)) {
        throw new SeamError('SEAM_ERR_STATE_LOAD', `incidents file ${path} line ${i} is not an incident; fix or move the file away to resume`, { details: { path, line: i } });
      }
      // Deleted first: the file keeps the order of each id's last line, as the compacted file is written.
      docs.delete(d.id);
      docs.set(d.id, d as IncidentDoc);
    }
  } catch (e) {
    if (e instanceof SeamError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { docs: [], lines: 0 };
    throw new SeamError('SEAM_ERR_STATE_LOAD', `cannot read incidents file ${path} to resume: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  if (torn > 0) log.warn({ path, lines: torn }, 'Skipped lines of the incidents file that are not JSON (an earlier run stopped mid-write).');
  return { docs: [...docs.values()], lines };
}
