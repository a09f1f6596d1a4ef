import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/memory.ts';
import type { Alert } from '../../detect/alert.ts';
import { rawHeaders } from '../../sources/checkpoint/raw-record.ts';
import { detectSource } from '../../sources/cloudwatch-logs/parse.ts';
import { createDetectStage } from '../detect-stage.ts';
import { loadDetection } from '../detection.ts';
import { runEmbedded } from '../embedded.ts';
import { memoryHistory } from '../history.ts';
import { memoryUpstream } from '../progress.ts';
import { runReplay } from '../replay.ts';
import { decodeSignals, SIGNAL_SPANS_HEADER, SignalBatcher, signalSpans } from '../signal.ts';
import { pipelineTopics } from '../topics.ts';
import type { PerDocResult, SinkDoc } from '../../sinks/opensearch/sink.ts';
import { createCorrelateRole } from './correlate.ts';
import { isProvisionalMessage, messageVersion } from '../early.ts';
import { createIndexRole, type IndexSink } from './indexer.ts';
import { EventBatcher, eventJsons } from '../event-route.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { deadLetter } from '../../core/dead-letter.ts';
import { SeamError } from '../../core/errors.ts';
import { createNormalizeRole } from './normalize.ts';
import { DLQ_MESSAGE_MAX_BYTES, REPLAY_OF_HEADER } from './role.ts';

const DEMO = join(import.meta.dirname, '../../../deploy/demo');
const RULES = join(import.meta.dirname, '../../../detections');

/** The final alerts of `seam.alerts` messages: not the provisional (early) ones, ADR 0025, nor a stopping member's stand-ins, ADR 0027. */
const finals = <M extends { headers?: Record<string, string> }>(ms: M[]): M[] => ms.filter((m) => messageVersion(m.headers) === 'final');

/** Each alert's fold (ADR 0050), by alert id: what it leads, or what it is folded into. */
const foldsOf = (alerts: readonly Alert[]): Map<string, string> => new Map(alerts.map((a) => [a.id, JSON.stringify([a.folded_into ?? null, a.also_matched ?? null])]));
const alertsOf = (ms: readonly { value: Buffer | null }[]): Alert[] => ms.map((m) => JSON.parse(m.value!.toString()) as Alert);

describe('roles over the memory bus', () => {
  it('embedded mode raises exactly the alerts of the single-stage replay on the demo dataset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seam-roles-'));
    const detection = await loadDetection({ rules: [RULES] });
    const { summary, paths } = await runEmbedded({ paths: [DEMO], stateDir: dir, detection, maxRecordBytes: 1 << 20 });
    const replayed: Alert[] = [];
    const stage = detection.newStage();
    await runReplay<Alert>({ paths: [DEMO], dlqPath: join(dir, 'old-dlq.jsonl'), maxRecordBytes: 1 << 20, handler: stage, onAlert: (a) => replayed.push(a) });
    const before = replayed.map((a) => a.id);
    const embedded = (await readFile(paths.alerts, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
    const after = embedded.map((a) => a.id);
    // The same folds (ADR 0050) on both paths: they depend on the event and the rules that fired on it only.
    expect(foldsOf(embedded)).toEqual(foldsOf(replayed));
    expect(embedded.filter((a) => a.folded_into !== undefined).length).toBeGreaterThan(5);
    expect(after.length).toBeGreaterThan(10);
    expect(new Set(after).size).toBe(after.length);
    expect(after.sort()).toEqual(before.sort());
    expect(summary.normalized).toBe(summary.records);
    const events = (await readFile(paths.events, 'utf8')).split('\n').filter(Boolean);
    expect(events).toHaveLength(summary.normalized);
    expect(createDetectStage).toBeTypeOf('function');
  });

  it('a restarted correlate role rebuilds its state from seam.signals and emits no alert twice', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 2, maxBatch: 37 });
    const topics = pipelineTopics('t.');
    const lines = (await readFile(join(DEMO, 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    await normalize.start();
    const producer = await bus.producer();
    // One record at a time, so signals keep file order (one raw partition per source).
    for (const text of lines) {
      const source = detectSource(text)!;
      await producer.send([{ topic: topics.raw(source), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source }) }]);
      await bus.waitCommitted('n', topics.raw(source));
    }
    await normalize.stop();
    const signals = bus.read(topics.signals).flat();
    const items = signals.reduce((n, m) => n + (decodeSignals(m.value)?.length ?? 0), 0);
    expect(items).toBeGreaterThan(0);
    expect(items).toBeLessThanOrEqual(lines.length);
    // In event-time order, as embedded mode; the end of input hands on what is held (flush).
    const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 };

    // Reference: one correlate instance over everything.
    const ref = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'ref', order });
    await ref.start();
    await bus.waitCommitted('ref', topics.signals);
    await ref.flush();
    await ref.stop();
    const refFinals = finals(bus.read(topics.alerts).flat());
    const refIds = new Set(refFinals.map((m) => m.key));
    expect(refIds.size).toBeGreaterThan(5);

    // A second pipeline on its own alerts topic: stopped half-way, restarted (rebuild), finished.
    const t2 = { ...topics, alerts: 't.alerts-2' };
    let handled = 0;
    // Killed after producing a batch's alerts and before committing it: the worst moment.
    const first = createCorrelateRole({
      bus,
      topics: t2,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order,
      afterProduce: async (b) => {
        handled += b.length;
        if (handled >= signals.length / 2) throw new Error('killed');
      },
    });
    await first.start();
    while (handled < signals.length / 2) await new Promise((r) => setTimeout(r, 1));
    await first.stop();
    const second = createCorrelateRole({ bus, topics: t2, detection, history: memoryHistory(bus), groupId: 'c', order });
    await second.start();
    await bus.waitCommitted('c', topics.signals);
    await second.flush();
    await second.stop();
    const all = bus.read(t2.alerts).flat();
    const got = finals(all).map((m) => m.key!);
    expect((second.stats() as { rebuilds: number }).rebuilds).toBeGreaterThan(0);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(refIds);
    // Folds (ADR 0050) do not depend on batches, partitions or the restart: the restarted pipeline folds as the reference.
    expect(foldsOf(alertsOf(finals(all)))).toEqual(foldsOf(alertsOf(refFinals)));
    expect(alertsOf(refFinals).filter((a) => a.folded_into !== undefined).length).toBeGreaterThan(5);
    // Early alerts (ADR 0025): none produced twice across the restart, each one replaced by its final.
    const early = all.filter((m) => isProvisionalMessage(m.headers)).map((m) => m.key!);
    expect(early.length).toBeGreaterThan(0);
    expect(new Set(early).size).toBe(early.length);
    expect(early.filter((id) => !refIds.has(id))).toEqual([]);
    // Early alerts fold among themselves (ADR 0050); one folded early stays folded in its final.
    const finalById = new Map(alertsOf(finals(all)).map((x) => [x.id, x]));
    const earlyFolded = alertsOf(all.filter((m) => isProvisionalMessage(m.headers))).filter((x) => x.folded_into !== undefined);
    expect(earlyFolded.length).toBeGreaterThan(0);
    for (const x of earlyFolded) expect(finalById.get(x.id)!.folded_into).toBeDefined();
  });

  it('a correlate role killed after producing its very first batch (offset 0) does not produce those alerts again', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 1000 });
    const topics = pipelineTopics('first.');
    const lines = (await readFile(join(DEMO, 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const normalize = createNormalizeRole({ bus, topics, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    await normalize.start();
    const producer = await bus.producer();
    await producer.send(lines.map((text) => ({ topic: topics.raw(detectSource(text)!), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: new Date().toISOString(), source: detectSource(text)! }) })));
    for (const t of topics.rawAll) await bus.waitCommitted('n', t);
    await normalize.stop();
    const order = { upstream: memoryUpstream(bus, topics, 'n'), idleMs: Infinity, pollMs: 0 };
    // One signals partition and one batch: the first batch is the whole partition, from offset 0.
    let killed = false;
    const first = createCorrelateRole({
      bus,
      topics,
      detection,
      history: memoryHistory(bus),
      groupId: 'c',
      order,
      afterProduce: async () => {
        killed = true;
        throw new Error('killed between produce and commit');
      },
    });
    await first.start();
    while (!killed) await new Promise((r) => setTimeout(r, 1));
    await first.stop();
    const before = finals(bus.read(topics.alerts).flat()).length;
    expect(before).toBeGreaterThan(5);
    const second = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c', order });
    await second.start();
    await bus.waitCommitted('c', topics.signals);
    await second.flush();
    await second.stop();
    const all = bus.read(topics.alerts).flat();
    const got = finals(all).map((m) => m.key!);
    // The second raises what the first held back (flush), and nothing the first already produced.
    expect(got.length).toBeGreaterThan(before);
    expect(new Set(got).size).toBe(got.length);
    const early = all.filter((m) => isProvisionalMessage(m.headers)).map((m) => m.key!);
    expect(new Set(early).size).toBe(early.length);
  });

  it('the correlate role reads signals by their spans (ADR 0023): every one is handed on, one that does not parse is dead-lettered alone', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const topics = pipelineTopics('sp.');
    const ev = (id: string): SeamEvent => ({ '@timestamp': '2024-11-05T14:00:00Z', eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', seam: { id, source: 'cloudtrail', account: '111122223333' } }) as unknown as SeamEvent;
    const b = new SignalBatcher();
    for (const id of ['s1', 's2', 's3']) b.add('111122223333', [], ['identity'], JSON.stringify(ev(id)), { id, ts: '2024-11-05T14:00:00Z', received: null });
    const [m] = b.take();
    // The second signal's bytes broken inside (a trailing comma), its span still well formed.
    const text = m!.value.toString('utf8').replace('"id":"s2"', '"id":"s2",');
    const spans = (JSON.parse(m!.headers![SIGNAL_SPANS_HEADER]!) as number[][]).map((e, i) => (i === 0 ? e : [e[0], e[1], e[2], e[3]! + (i === 1 ? 0 : 1), e[4]! + 1]));
    const producer = await bus.producer();
    await producer.send([{ topic: topics.signals, key: '111122223333', value: Buffer.from(text), headers: { [SIGNAL_SPANS_HEADER]: JSON.stringify(spans) } }]);
    const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: 'c' });
    await correlate.start();
    await bus.waitCommitted('c', topics.signals);
    await correlate.stop();
    const events = bus.read(topics.events).flat().flatMap((x) => eventJsons(x).map((j) => (JSON.parse(j.toString('utf8')) as SeamEvent).seam.id));
    expect(events.sort()).toEqual(['s1', 's3']);
    const dlq = bus.read(topics.dlq).flat().map((x) => JSON.parse(x.value.toString('utf8')) as { code: string; raw: string });
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.code).toBe('SEAM_ERR_INPUT_JSON');
    expect(dlq[0]!.raw).toContain('"id":"s2",');
    expect((correlate.stats() as { received: number }).received).toBe(3);
  });

  it('the correlate role writes each annotated event as stage 1 bytes up to seam and the annotated seam, byte for byte what JSON.stringify writes (ADR 0026)', async () => {
    const detection = await loadDetection({ rules: [RULES] });
    const bus = new MemoryBus({ defaultPartitions: 2, maxBatch: 50 });
    const a = pipelineTopics('sa.');
    const b = pipelineTopics('sb.');
    const fixtures = join(import.meta.dirname, '../../../test/fixtures');
    const files = [join(DEMO, 'eks-demo.jsonl'), ...['k8s-audit/eks-audit.jsonl', 'runtime/falco.jsonl', 'runtime/native.jsonl', 'guardduty/findings-rest.jsonl', 'cloudtrail/redaction-cases.jsonl'].map((f) => join(fixtures, f))];
    const lines = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).flatMap((t) => t.split('\n').filter(Boolean));
    // A record with a top-level `seam` of its own: the envelope takes its place, not the last, and the event is serialized whole.
    const own = JSON.parse(lines.find((l) => l.includes('"eventSource"'))!) as Record<string, unknown>;
    lines.push(JSON.stringify({ seam: { planted: true }, ...own, eventID: 'own-seam' }));
    const producer = await bus.producer();
    const normalize = createNormalizeRole({ bus, topics: a, ...(detection.ruleset ? { ruleset: detection.ruleset } : {}), groupId: 'n' });
    await normalize.start();
    for (const text of lines) {
      const source = detectSource(text)!;
      await producer.send([{ topic: a.raw(source), key: 'k', value: Buffer.from(text), headers: rawHeaders({ collector: 'test', receivedAt: '2024-11-05T14:00:00.000Z', source }) }]);
    }
    for (const t of a.rawAll) await bus.waitCommitted('n', t);
    await normalize.stop();
    // The same signals again with ADR 0023 headers (five numbers per signal): the correlate role serializes each event whole.
    let parts = 0;
    for (const [p, ms] of bus.read(a.signals).entries()) {
      const copies = ms.map((m) => {
        const h = m.headers?.[SIGNAL_SPANS_HEADER];
        if (h === undefined) return { topic: b.signals, key: m.key, partition: p, value: m.value };
        const entries = JSON.parse(h) as unknown[][];
        parts += signalSpans(m.value, m.headers)?.filter((sp) => sp.seamAt !== undefined).length ?? 0;
        return { topic: b.signals, key: m.key, partition: p, value: m.value, headers: { [SIGNAL_SPANS_HEADER]: JSON.stringify(entries.map((e) => e.slice(0, 5))) } };
      });
      await producer.send(copies);
    }
    const byId = async (topics: typeof a, group: string): Promise<Map<string, string>> => {
      const correlate = createCorrelateRole({ bus, topics, detection, history: memoryHistory(bus), groupId: group });
      await correlate.start();
      await bus.waitCommitted(group, topics.signals);
      await correlate.stop();
      return new Map(bus.read(topics.events).flat().flatMap((x) => eventJsons(x).map((j) => [(JSON.parse(j.toString('utf8')) as SeamEvent).seam.id, j.toString('utf8')] as const)));
    };
    const spliced = await byId(a, 'ca');
    const whole = await byId(b, 'cb');
    expect(parts).toBeGreaterThan(100);
    expect(whole.size).toBeGreaterThan(100);
    let annotated = 0;
    for (const [id, json] of whole) {
      expect(spliced.get(id)).toBe(json);
      if (/"seam":\{.*"(origin|chain)":/.test(json)) annotated++;
    }
    expect(annotated).toBeGreaterThan(10);
    expect(whole.get('own-seam')).toContain('"seam":{"id":"own-seam"');
    expect(Object.keys(JSON.parse(whole.get('own-seam')!) as object)[0]).toBe('seam');
  });

  it('the index role stops reading while the sink is slow, instead of buffering', async () => {
    const bus = new MemoryBus({ defaultPartitions: 4, maxBatch: 100 });
    const topics = pipelineTopics('bp.');
    let held = 0;
    let maxHeld = 0;
    const waiting: (() => void)[] = [];
    const release = (): void => {
      for (const r of waiting.splice(0)) r();
    };
    let written = 0;
    const slow: IndexSink = {
      eventTarget: (e) => ({ index: 'events', id: e.seam.id }),
      alertTarget: (a) => ({ index: 'alerts', id: a.id }),
      write: async (docs: readonly SinkDoc[]): Promise<PerDocResult[]> => {
        held += docs.length;
        maxHeld = Math.max(maxHeld, held);
        await new Promise<void>((r) => waiting.push(r));
        held -= docs.length;
        written += docs.length;
        return docs.map((d) => ({ status: 'acked', id: d.id, index: d.index, result: 'created' }));
      },
    };
    const producer = await bus.producer();
    const ev = (i: number): string => JSON.stringify({ '@timestamp': '2024-11-05T14:00:00Z', seam: { id: `e${i}`, source: 'runtime' } });
    await producer.send(Array.from({ length: 2000 }, (_, i) => ({ topic: topics.events, key: `k${i}`, value: Buffer.from(ev(i)) })));
    const role = createIndexRole({ bus, topics, sink: slow, groupId: 'bp', consumers: 2 });
    await role.start();
    for (let step = 0; step < 50 && written < 2000; step++) {
      await new Promise((r) => setTimeout(r, 5));
      // While the sink holds a batch, nothing more is read: at most one batch per member is in the sink.
      expect(held).toBeLessThanOrEqual(2 * 100);
      release();
    }
    while (written < 2000) {
      release();
      await new Promise((r) => setTimeout(r, 1));
    }
    await role.stop();
    expect(maxHeld).toBeLessThanOrEqual(2 * 100);
    expect(written).toBe(2000);
  });

  it('the index role indexes each event of a batch message unparsed, and dead-letters one alone (ADR 0019)', async () => {
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const topics = pipelineTopics('eb.');
    await bus.ensureTopics([{ topic: topics.events, partitions: 2 }]);
    const batcher = new EventBatcher(topics.events, 2, bus.partitionOf.bind(bus));
    const events = Array.from({ length: 50 }, (_, i) => ({ '@timestamp': '2024-11-05T14:00:00Z', seam: { id: `e${i}`, source: 'runtime' } }) as unknown as SeamEvent);
    for (const e of events) batcher.add(e, Buffer.from(JSON.stringify(e)));
    const producer = await bus.producer();
    const msgs = batcher.take();
    expect(msgs.length).toBeLessThanOrEqual(2);
    await producer.send(msgs);
    const got = new Map<string, string>();
    const sink: IndexSink = {
      eventTarget: (e) => ({ index: `events-${e.seam.source}`, id: e.seam.id }),
      alertTarget: (a) => ({ index: 'alerts', id: a.id }),
      write: async (docs: readonly SinkDoc[]): Promise<PerDocResult[]> =>
        docs.map((d) => {
          got.set(d.id, d.json!.toString('utf8'));
          if (d.id !== 'e7') return { status: 'acked', id: d.id, index: d.index, result: 'created' };
          return { status: 'dead_letter', id: d.id, index: d.index, deadLetter: deadLetter('index', new SeamError('SEAM_ERR_SINK_REJECTED', 'refused'), d.json!.toString('utf8')) };
        }),
    };
    const role = createIndexRole({ bus, topics, sink, groupId: 'eb' });
    await role.start();
    for (let i = 0; i < 200 && (bus.read(topics.dlq).flat().length === 0 || got.size < 50); i++) await new Promise((r) => setTimeout(r, 5));
    await role.stop();
    expect(got.size).toBe(50);
    for (const e of events) expect(JSON.parse(got.get(e.seam.id)!)).toEqual(e);
    const [dl] = bus.read(topics.dlq).flat();
    // The dead letter is the one event, with the headers a single-event message of it would carry, so `seam dlq replay` puts back just it.
    expect(dl!.key).toBe('e7');
    expect(dl!.headers?.['seam-route']).toBe(JSON.stringify(['runtime', '2024-11-05T14:00:00Z', null]));
    expect(dl!.headers?.['seam-events']).toBeUndefined();
    expect(JSON.parse((JSON.parse(dl!.value.toString('utf8')) as { raw: string }).raw)).toEqual(events[7]);
    expect((role.stats() as { events: number; deadLetters: number }).events).toBe(49);
  });

  it('the normalize role marks its progress with the oldest event time of the batch too: how late the partition delivers (ADR 0009, 5c)', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 100 });
    const topics = pipelineTopics('m.');
    const normalize = createNormalizeRole({ bus, topics, groupId: 'm' });
    await normalize.start();
    const lines = (await readFile(join(DEMO, 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const trail = lines.filter((l) => detectSource(l) === 'cloudtrail').slice(0, 3);
    // One CloudTrail file of five minutes of records, as S3 delivers it.
    const at = ['2026-12-06T12:00:00.000Z', '2026-12-06T12:05:00.000Z', '2026-12-06T12:02:00.000Z'];
    const records = trail.map((l, i) => ({ ...(JSON.parse(l) as Record<string, unknown>), eventTime: at[i] }));
    const producer = await bus.producer();
    await producer.send([{ topic: topics.raw('cloudtrail'), key: 'f', value: Buffer.from(JSON.stringify({ Records: records })) }]);
    await bus.waitCommitted('m', topics.raw('cloudtrail'));
    await normalize.stop();
    const marks = bus
      .read(topics.signals)
      .flat()
      .flatMap((m) => (JSON.parse(m.value.toString('utf8')) as { progress?: unknown[] }).progress ?? []);
    expect(marks).toEqual([{ src: `${topics.raw('cloudtrail')}/0`, t: Date.parse(at[1]!), from: Date.parse(at[0]!) }]);
  });

  it('the normalize role inflates gzipped messages (ADR 0039) and keeps every dead letter within a Kafka message, redacted before it is cut', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1, maxBatch: 100 });
    const topics = pipelineTopics('z.');
    const normalize = createNormalizeRole({ bus, topics, groupId: 'z', maxRecordBytes: 64 * 1024 });
    await normalize.start();
    const lines = (await readFile(join(DEMO, 'eks-demo.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const audit = lines.filter((l) => detectSource(l) === 'k8s_audit').slice(0, 5);
    const payload = JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '111122223333',
      logGroup: '/aws/eks/prod-eks-01/cluster',
      logStream: 'kube-apiserver-audit-1',
      subscriptionFilters: ['seam'],
      logEvents: audit.map((message, i) => ({ id: String(1000 + i), timestamp: 1730815200000 + i, message })),
    });
    // A secret being created, in a gzipped message cut short: what inflates is kept, redacted.
    const secret = JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'create', objectRef: { resource: 'secrets' }, requestObject: { kind: 'Secret', data: { password: 'aHVudGVyMi1zZWNyZXQtdmFsdWU=' } }, pad: 'y'.repeat(4000) });
    const secretZipped = gzipSync(secret);
    const big = JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', pad: 'x'.repeat(300 * 1024) });
    // Control characters: six bytes each once escaped in the dead letter's JSON.
    const control = JSON.stringify({ kind: 'Event', pad: '\u0001'.repeat(1100 * 1024) });
    const zipped = gzipSync(payload);
    const producer = await bus.producer();
    await producer.send([
      { topic: topics.raw('k8s_audit'), key: 'a', value: zipped },
      // An oversized record (the raw topic allows more than the dead-letter topic), a gzip bomb, a cut-short stream.
      { topic: topics.raw('k8s_audit'), key: 'b', value: Buffer.from(big) },
      { topic: topics.raw('k8s_audit'), key: 'c', value: gzipSync(Buffer.alloc(8 << 20)) },
      { topic: topics.raw('k8s_audit'), key: 'd', value: secretZipped.subarray(0, secretZipped.length - 8) },
      { topic: topics.raw('k8s_audit'), key: 'e', value: Buffer.from(control) },
      // A document of many tiny elements is one dead letter, not a hundred thousand.
      { topic: topics.raw('cloudtrail'), key: 'f', value: gzipSync(`{"Records":[${'{},'.repeat(99_999)}{}]}`) },
      // A null value (a tombstone, handed on as no bytes) and blank text: counted as empty, not dead letters (review-ops L5).
      { topic: topics.raw('cloudtrail'), key: 'g', value: Buffer.alloc(0) },
      { topic: topics.raw('cloudtrail'), key: 'h', value: Buffer.from(' \n') },
      // A record `seam dlq replay` sent back that fails again: its new dead letter names the first (review-ops H1).
      { topic: topics.raw('cloudtrail'), key: 'i', value: Buffer.from('not json'), headers: { [REPLAY_OF_HEADER]: 'z.seam.dlq/0/5' } },
    ]);
    await bus.waitCommitted('z', topics.raw('k8s_audit'));
    await bus.waitCommitted('z', topics.raw('cloudtrail'));
    await normalize.stop();
    const stats = normalize.stats() as { events: number; inflated: number; empty: number; bySource: Record<string, number>; batches: { records: Record<string, number> } };
    expect(stats.events).toBe(5);
    expect(stats.bySource).toEqual({ k8s_audit: 5 });
    expect(stats.inflated).toBe(2);
    expect(stats.empty).toBe(2);
    expect(stats.batches.records.cloudwatch_logs).toBe(5);
    const dls = bus.read(topics.dlq).flat().map((m) => ({ key: m.key, bytes: m.value.length, dl: JSON.parse(m.value.toString('utf8')) as ReturnType<typeof deadLetter> }));
    const by = new Map(dls.map((d) => [d.key, d]));
    expect(dls.map((d) => `${d.key} ${d.dl.code}`).sort()).toEqual(['b SEAM_ERR_INPUT_OVERSIZED', 'c SEAM_ERR_INPUT_OVERSIZED', 'd SEAM_ERR_INPUT_TRUNCATED', 'e SEAM_ERR_INPUT_OVERSIZED', 'f SEAM_ERR_INPUT_OVERSIZED', 'i SEAM_ERR_INPUT_JSON']);
    expect(bus.read(topics.dlq).flat().find((m) => m.key === 'i')!.headers?.[REPLAY_OF_HEADER]).toBe('z.seam.dlq/0/5');
    for (const d of dls) expect(d.bytes).toBeLessThanOrEqual(DLQ_MESSAGE_MAX_BYTES);
    // Whole when it fits; cut (and flagged) when it does not.
    expect(by.get('b')!.dl.raw).toBe(big);
    expect(by.get('b')!.dl.raw_partial).toBeUndefined();
    expect(by.get('e')!.dl.raw_partial).toBe(true);
    expect(control.startsWith(by.get('e')!.dl.raw)).toBe(true);
    expect(by.get('c')!.dl.reason).toMatch(/^gzip-compressed message of \d+ bytes inflates past 1048576 bytes$/);
    expect(by.get('c')!.dl.raw_partial).toBe(true);
    const cut = by.get('d')!.dl;
    expect(cut.raw_partial).toBe(true);
    expect(cut.raw.length).toBeGreaterThan(1000);
    expect(cut.raw).toContain('"kind":"Event"');
    expect(cut.raw).not.toContain('aHVudGVyMi1zZWNyZXQtdmFsdWU=');
    expect(by.get('f')!.dl.reason).toMatch(/^batch document holds more than 50000 records \(cloudtrail\)/);
  });

});
