/**
 * One worker thread of `seam replay --workers N` (ADR 0018): normalizes the records the main thread
 * routes to it and runs them through the same detect stack as a single-thread replay (its own rule
 * load, from the rule cache), in the order received. What it finds goes back tagged with each record's
 * input position, so the main thread can write every worker's output in one deterministic order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { deadLetter } from '../core/dead-letter.ts';
import type { RawMeta } from '../core/envelope.ts';
import { stageThrew } from '../core/errors.ts';
import { normalizeLine } from '../core/normalize/normalize.ts';
import type { Alert } from '../detect/alert.ts';
import { buildReplayHandler } from './replay.ts';
import { noNotes, noteEvent } from './event-notes.ts';
import { DUPLICATE, FollowedOrder } from './replay-workers-order.ts';
import { eventViewHash } from './replay-workers-route.ts';
import { findingKey, ITEM, type FromWorker, type ToWorker, type WorkerInit, type WorkerOut } from './replay-workers-protocol.ts';

const init = workerData as WorkerInit;
const port = parentPort!;

function newOut(round: number): WorkerOut {
  return { t: 'out', round, idx: [], kind: [], lines: [], keys: [], normalized: 0, bySource: {}, notes: noNotes(), busyMs: 0, mismatched: 0 };
}

try {
  const started = performance.now();
  const handler = new FollowedOrder((await buildReplayHandler(init.spec)).stage);
  const normalizeOpts = { maxRecordBytes: init.maxRecordBytes };
  const emit = (out: WorkerOut, at: number, alerts: Alert[]): void => {
    for (const a of alerts) {
      out.idx.push(at);
      out.kind.push(ITEM.alert);
      out.lines.push(JSON.stringify(a));
      out.keys.push(findingKey(a));
    }
  };
  port.postMessage({ t: 'ready', loadMs: Math.round(performance.now() - started) } satisfies FromWorker);
  port.on('message', (m: ToWorker) => {
    const began = performance.now();
    try {
      if (m.t === 'end') {
        const out = newOut(-1);
        emit(out, Number.MAX_SAFE_INTEGER, handler.flush());
        out.busyMs = performance.now() - began;
        port.postMessage({ ...out, t: 'done' } satisfies FromWorker);
        return;
      }
      const out = newOut(m.round);
      for (let i = 0; i < m.texts.length; i++) {
        const text = m.texts[i]!;
        const at = m.idx[i]!;
        const meta: RawMeta = { collector: 'file', receivedAt: m.receivedAt, origin: m.origins[i]! };
        // As the first pass read it (and a single-thread replay normalizes it): the file source's account and cluster.
        const account = m.accounts[i]!;
        const cluster = m.clusters[i]! || init.cluster;
        if (account !== '') meta.account = account;
        if (cluster !== undefined && cluster !== '') meta.cluster = cluster;
        const dead = (stage: 'normalize' | 'detect', e: Parameters<typeof deadLetter>[1]): void => {
          out.idx.push(at);
          out.kind.push(ITEM.deadLetter);
          out.lines.push(JSON.stringify(deadLetter(stage, e, text, { origin: meta.origin ?? '', collector: meta.collector })));
          out.keys.push(e.code);
        };
        const r = normalizeLine(text, meta, normalizeOpts);
        if (!r.ok) {
          if (m.expect[i] !== 0) out.mismatched++;
          dead('normalize', r.error);
          continue;
        }
        const ev = r.value;
        if (m.expect[i] !== eventViewHash(ev)) out.mismatched++;
        let alerts: Alert[];
        let line: string | undefined;
        try {
          alerts = handler.process(ev, m.late[i] === 1, m.wmBefore[i]!, m.clockBefore[i]!, m.wmAfter[i]!, m.late[i] === DUPLICATE);
          // After the handler, as the single-thread replay writes it (ADR 0014).
          // A copy of an event already read (DUPLICATE, decided in pass 1) is not written again: one line per event.
          if (init.writeEvents && m.late[i] !== DUPLICATE) line = JSON.stringify(ev);
        } catch (e) {
          dead('detect', stageThrew('detect', e, { id: ev.seam.id }));
          continue;
        }
        out.normalized++;
        out.bySource[ev.seam.source] = (out.bySource[ev.seam.source] ?? 0) + 1;
        noteEvent(out.notes, ev);
        if (line !== undefined) {
          out.idx.push(at);
          out.kind.push(ITEM.event);
          out.lines.push(line);
          out.keys.push('');
        }
        if (alerts.length > 0) emit(out, at, alerts);
      }
      out.busyMs = performance.now() - began;
      port.postMessage(out satisfies FromWorker);
    } catch (e) {
      port.postMessage(workerError(e) satisfies FromWorker);
    }
  });
} catch (e) {
  port.postMessage(workerError(e) satisfies FromWorker);
}

/** A Seam error (a rules path that yields no rule, say) keeps its code and says only its message; anything else brings its stack. */
function workerError(e: unknown): FromWorker {
  const code = (e as { code?: unknown }).code;
  if (e instanceof Error && typeof code === 'string' && code.startsWith('SEAM_ERR_')) return { t: 'error', message: e.message, code };
  return { t: 'error', message: (e as Error).stack ?? String(e) };
}
