import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RAW_HEADERS, TOPICS } from '../bus/topics.ts';
import type { BusMessage } from '../bus/types.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import { SOURCE_TYPES, type SourceType } from '../core/envelope.ts';
import { DLQ_HEADERS, REPLAY_OF_HEADER } from '../pipeline/roles/role.ts';
import { configFile, loadConfig } from '../core/config/load.ts';
import { SeamError } from '../core/errors.ts';
import type { KafkaConfig, SeamConfig } from '../core/config/schema.ts';
import { detectSource } from '../sources/cloudwatch-logs/parse.ts';
import type { FileItem } from '../sources/file/source.ts';
import { REPLAY_DLQ_FILE } from './replay.ts';

export interface DlqCliOptions {
  /** Kafka topic (default seam.dlq, prefixed by SEAM_TOPIC_PREFIX) when SEAM_KAFKA_BROKERS is set. */
  topic?: string;
  /** A dead-letter file (embedded mode, `seam replay --dlq`); the default without Kafka: see `defaultFile`. */
  file?: string;
  /** Embedded mode's state directory: its dlq.jsonl is the one read (when no --file), and `dlq replay` writes under it (default out). */
  stateDir?: string;
  limit?: number;
  /** Only dead letters with this code. */
  code?: string;
  dryRun?: boolean;
  /** Replay also dead letters replayed before (whose replay failed again); still once per original record. */
  includeReplayed?: boolean;
  /** Only dead letters written at or after this time: ISO time or a duration back from now (`90m`, `12h`, `2d`). */
  since?: string;
  /** Kafka: only dead letters at or after this offset (on each partition of the dead-letter topic). */
  fromOffset?: number;
  /** Embedded re-run: rule files and folders; default seam.yml's rules.paths (`detections`) where one exists, else the native detections only. */
  rules?: string[];
  /** Embedded re-run: YAML map of rule placeholder values, as run, replay and hunt take it; default seam.yml's rules.placeholdersFile, with its rules.placeholders over it. */
  placeholders?: string;
  /** seam.yml (default SEAM_CONFIG): Kafka connection, auth and topic prefix; for the embedded re-run its rules, placeholders, native and identity sections. */
  config?: string;
  out?: { write(s: string): unknown };
  err?: { write(s: string): unknown };
  env?: NodeJS.ProcessEnv;
}

export interface Entry {
  dl: DeadLetter;
  headers: Record<string, string>;
  /** Where the record was read from (topic/partition/offset), when it came off Kafka; dedups redeliveries. */
  from?: string;
  /** The dead letter itself on the dead-letter topic (topic/partition/offset), when read from Kafka. */
  self?: { topic: string; partition: number; offset: string };
}

/** `--since`: an ISO time, or a duration back from `now` (`30s`, `90m`, `12h`, `2d`). */
export function parseSince(s: string, now: number = Date.now()): number {
  const d = /^(\d+)\s*(s|m|h|d)$/.exec(s.trim());
  if (d) return now - Number(d[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`--since ${s}: not an ISO time nor a duration like 90m, 12h, 2d`);
  return t;
}

const keyOf = (self: NonNullable<Entry['self']>): string => `${self.topic}/${self.partition}/${self.offset}`;

/** One record to send back: the dead letter whose bytes and headers go, and the first dead letter of the record (REPLAY_OF_HEADER). */
export interface ReplayPick {
  entry: Entry;
  root?: string;
}

export interface ReplaySelection {
  picks: ReplayPick[];
  /** Records whose dead letter was replayed before and failed again (skipped without --include-replayed). */
  alreadyReplayed: number;
  /** Dead letters of a replay that are not sent themselves: the record goes at most once per run (its first dead letter's bytes). */
  replayCopies: number;
  /** Dead letters left out by --code, --since or --from-offset. */
  filteredOut: number;
}

/**
 * Which dead letters `dlq replay` sends (and `--dry-run` reports). Dead letters are grouped by record: a dead letter
 * with REPLAY_OF_HEADER is a failed replay of the dead letter it names, so it joins that one's group. A group with a
 * failed replay in it was replayed before: skipped unless `includeReplayed`. Otherwise one message per group, the
 * first dead letter's bytes (the newest of the group when retention took the first), stamped with the first's
 * coordinates, so replaying never multiplies a record. The filters (`code`, `since`, `fromOffset`) look at the newest
 * dead letter of a group: its latest failure. Dead letters read from a file (no coordinates) are each their own group.
 */
export function selectForReplay(entries: Entry[], o: { code?: string; since?: number; fromOffset?: number; includeReplayed?: boolean } = {}): ReplaySelection {
  const groups = new Map<string, { root?: string; members: Entry[] }>();
  let anon = 0;
  for (const e of entries) {
    const root = e.headers[REPLAY_OF_HEADER] ?? (e.self ? keyOf(e.self) : undefined);
    const k = root ?? `#${anon++}`;
    const g = groups.get(k) ?? { ...(root !== undefined ? { root } : {}), members: [] };
    g.members.push(e);
    groups.set(k, g);
  }
  const sel: ReplaySelection = { picks: [], alreadyReplayed: 0, replayCopies: 0, filteredOut: 0 };
  for (const g of groups.values()) {
    const latest = g.members[g.members.length - 1]!;
    const copies = g.members.filter((e) => e.headers[REPLAY_OF_HEADER] !== undefined);
    const keep =
      (o.code === undefined || latest.dl.code === o.code) &&
      (o.since === undefined || Date.parse(latest.dl.at) >= o.since) &&
      (o.fromOffset === undefined || latest.self === undefined || BigInt(latest.self.offset) >= BigInt(o.fromOffset));
    if (!keep) {
      sel.filteredOut += g.members.length;
      continue;
    }
    if (copies.length > 0 && o.includeReplayed !== true) {
      sel.alreadyReplayed++;
      sel.replayCopies += copies.length;
      continue;
    }
    const first = g.members.find((e) => e.headers[REPLAY_OF_HEADER] === undefined) ?? latest;
    sel.replayCopies += g.members.length - 1;
    sel.picks.push({ entry: first, ...(g.root !== undefined ? { root: g.root } : {}) });
  }
  return sel;
}

/** seam.yml (with SEAM_* overrides). */
function configOf(o: DlqCliOptions): SeamConfig {
  return loadConfig(configFile(o.config, o.env ?? process.env), o.env ?? process.env).config;
}

/** Reads dead letters from the topic or file, oldest first, one per original record. */
async function load(o: DlqCliOptions, all = false): Promise<{ entries: Entry[]; where: string; kafka?: KafkaConfig; none?: true; note?: string }> {
  const kafkaCfg = configOf(o).kafka;
  const brokers = kafkaCfg?.brokers ?? [];
  const useKafka = o.file === undefined && (o.topic !== undefined || brokers.length > 0);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const add = (e: Entry): void => {
    if (!all && o.code !== undefined && e.dl.code !== o.code) return;
    if (e.from !== undefined) {
      if (seen.has(e.from)) return;
      seen.add(e.from);
    }
    entries.push(e);
  };
  if (useKafka) {
    if (kafkaCfg === undefined) throw new Error('--topic needs Kafka (kafka.brokers in seam.yml or SEAM_KAFKA_BROKERS)');
    const topic = o.topic ?? `${kafkaCfg.topicPrefix}${TOPICS.dlq}`;
    const { KafkaBus } = await import('../bus/kafka.ts');
    const { kafkaBusOptions } = await import('../bus/kafka-config.ts');
    const bus = new KafkaBus(kafkaBusOptions(kafkaCfg, 'dlq'));
    try {
      await bus.readToEnd([topic], (m) => {
        const h = m.headers ?? {};
        let dl: DeadLetter;
        try {
          dl = JSON.parse(m.value.toString('utf8')) as DeadLetter;
        } catch {
          return;
        }
        const from = h[DLQ_HEADERS.topic] !== undefined ? `${h[DLQ_HEADERS.topic]}/${h[DLQ_HEADERS.partition]}/${h[DLQ_HEADERS.offset]}` : undefined;
        add({ dl, headers: h, ...(from ? { from } : {}), self: { topic: m.topic, partition: m.partition, offset: m.offset } });
      });
    } finally {
      await bus.close();
    }
    return { entries, where: topic, kafka: kafkaCfg };
  }
  const chosen = o.file !== undefined ? { file: o.file } : defaultFile(o.stateDir);
  if (chosen === undefined) return { entries, where: `no dead-letter file here: neither seam run's out/dlq.jsonl nor seam replay's ${REPLAY_DLQ_FILE} (--file names another)`, none: true };
  const { file, note } = chosen;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    // Named by --file or --state-dir: say which file and who writes one, not the bare "ENOENT: ENOENT: ..." of fs.
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SeamError(
      'SEAM_ERR_INPUT_FILE',
      `cannot read the dead-letter file ${file}: ${missing ? 'it does not exist' : (cause as Error).message} (seam replay writes ${REPLAY_DLQ_FILE} or its --dlq FILE, seam run <state-dir>/dlq.jsonl)`,
      { cause, details: { path: file } },
    );
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      add({ dl: JSON.parse(line) as DeadLetter, headers: {} });
    } catch {
      // A torn last line of a file being written: skip it.
    }
  }
  return { entries, where: file, ...(note ? { note } : {}) };
}

/**
 * The dead-letter file read when none is named and there is no Kafka. `seam run` (embedded) writes
 * <state-dir>/dlq.jsonl and `seam replay` seam-dlq.jsonl (its --dlq default): the newer of the two that
 * exist, i.e. the last run's, said with the other's name so the user can ask for it. `--state-dir` names one.
 */
function defaultFile(stateDir: string | undefined): { file: string; note?: string } | undefined {
  if (stateDir !== undefined) return { file: join(stateDir, 'dlq.jsonl') };
  const run = join('out', 'dlq.jsonl');
  const has = { run: existsSync(run), replay: existsSync(REPLAY_DLQ_FILE) };
  if (!has.run && !has.replay) return undefined;
  if (!has.run || !has.replay) return { file: has.run ? run : REPLAY_DLQ_FILE };
  const runNewer = statSync(run).mtimeMs >= statSync(REPLAY_DLQ_FILE).mtimeMs;
  const [older, whose] = runNewer ? [REPLAY_DLQ_FILE, 'seam replay'] : [run, 'seam run'];
  return { file: runNewer ? run : REPLAY_DLQ_FILE, note: `the newer of two dead-letter files; ${older} (${whose}'s) is older: --file ${older} reads it` };
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** `seam dlq list`: one line per dead letter (time, stage, code, origin, reason), then counts by code. */
export async function dlqListCommand(o: DlqCliOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const { entries, where, none, note } = await load(o);
  if (none) {
    out.write(`dlq: 0 dead letters: ${where}\n`);
    return 0;
  }
  const limit = o.limit ?? 50;
  const byCode = new Map<string, number>();
  for (const e of entries) byCode.set(e.dl.code, (byCode.get(e.dl.code) ?? 0) + 1);
  for (const e of entries.slice(0, limit)) {
    const origin = e.dl.origin ?? e.headers[RAW_HEADERS.origin] ?? e.from ?? '-';
    out.write(`${e.dl.at} ${e.dl.stage} ${e.dl.code} ${origin} — ${oneLine(e.dl.reason, 200)}\n`);
  }
  if (entries.length > limit) out.write(`… ${entries.length - limit} more (--limit)\n`);
  out.write(`dlq: ${entries.length} dead letters in ${where}${byCode.size ? ` (${[...byCode].map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}\n`);
  if (note) out.write(`  ${note}\n`);
  return 0;
}

/** Where a dead letter's bytes go back to: the topic it was read from, else the raw topic of its format. */
function target(e: Entry, prefix: string): string | undefined {
  const from = e.headers[DLQ_HEADERS.topic];
  if (from !== undefined) return from;
  const header = e.headers[RAW_HEADERS.source];
  const source = (SOURCE_TYPES as readonly string[]).includes(header ?? '') ? (header as SourceType) : detectSource(e.dl.raw);
  return `${prefix}${TOPICS.raw(source ?? 'k8s_audit')}`;
}

/**
 * `seam dlq replay`: after a fix (a parser, a mapping), sends the dead letters' original bytes back.
 * On Kafka to the topic each was read from (`seam.raw.<source>` for normalize failures, `seam.events`
 * or `seam.alerts` for documents the index refused), with the original headers; the fixed ids make a
 * second success harmless. Embedded: re-runs them through the roles over the memory bus, writing under
 * <state-dir>/dlq-replay/. Partial records (oversized) cannot be replayed and are counted.
 */
export async function dlqReplayCommand(o: DlqCliOptions): Promise<number> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  const { entries, where, kafka, none, note } = await load(o, true);
  if (none) {
    out.write(`dlq replay: nothing to replay: ${where}\n`);
    return 0;
  }
  if (note) out.write(`dlq replay: reading ${where}: ${note}\n`);
  const limit = o.limit ?? Infinity;
  const sel = selectForReplay(entries, {
    ...(o.code !== undefined ? { code: o.code } : {}),
    ...(o.since !== undefined ? { since: parseSince(o.since) } : {}),
    ...(o.fromOffset !== undefined ? { fromOffset: o.fromOffset } : {}),
    ...(o.includeReplayed === true ? { includeReplayed: true } : {}),
  });
  const considered = entries.length - sel.filteredOut;
  const picks = sel.picks.filter((p) => !p.entry.dl.raw_partial).slice(0, limit);
  const partial = sel.picks.filter((p) => p.entry.dl.raw_partial).length;
  const skipped = [
    ...(sel.alreadyReplayed ? [`${sel.alreadyReplayed} already replayed and dead-lettered again (--include-replayed sends them once more)`] : []),
    ...(sel.replayCopies ? [`${sel.replayCopies} dead letters of replays not sent themselves`] : []),
    ...(sel.filteredOut ? [`${sel.filteredOut} left out by --code/--since/--from-offset`] : []),
  ];
  if (kafka) {
    const prefix = kafka.topicPrefix;
    const msgs: BusMessage[] = picks.map(({ entry: e, root }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.headers)) if (!(Object.values(DLQ_HEADERS) as string[]).includes(k)) headers[k] = v;
      if (root !== undefined) headers[REPLAY_OF_HEADER] = root;
      return { topic: target(e, prefix)!, key: e.dl.origin ?? null, value: Buffer.from(e.dl.raw, 'utf8'), headers };
    });
    const byTopic = new Map<string, number>();
    for (const m of msgs) byTopic.set(m.topic, (byTopic.get(m.topic) ?? 0) + 1);
    if (!o.dryRun && msgs.length > 0) {
      const { KafkaBus } = await import('../bus/kafka.ts');
      const { kafkaBusOptions } = await import('../bus/kafka-config.ts');
      const bus = new KafkaBus(kafkaBusOptions(kafka, 'dlq-replay'));
      try {
        const p = await bus.producer();
        await p.send(msgs);
        await p.close();
      } finally {
        await bus.close();
      }
    }
    out.write(
      `dlq replay: ${o.dryRun ? 'would send' : 'sent'} ${msgs.length} of ${considered} dead letters from ${where}${byTopic.size ? ` (${[...byTopic].map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}${partial ? `; ${partial} partial records skipped` : ''}${skipped.length ? `; ${skipped.join('; ')}` : ''}\n`,
    );
    return 0;
  }
  const whole = picks.map((p) => p.entry);
  const dir = join(o.stateDir ?? 'out', 'dlq-replay');
  if (o.dryRun) {
    out.write(`dlq replay: would re-run ${whole.length} of ${considered} dead letters from ${where} through the roles, writing under ${dir}${skipped.length ? `; ${skipped.join('; ')}` : ''}\n`);
    return 0;
  }
  await mkdir(dir, { recursive: true });
  const { loadDetection } = await import('../pipeline/detection.ts');
  const { runEmbedded } = await import('../pipeline/embedded.ts');
  const { detectionOptions, recordAttribution, seedsOf } = await import('./detection-options.ts');
  // The rules and the site's placeholder values as `seam run` loads them (src/cli/detection-options.ts): an
  // allow-list rule re-run without its list would alert on everyone. Explicit paths must give rules (loadDetection
  // says so); seam.yml's (default `detections`) are optional: none here, the native detections alone run.
  const cfg = configOf(o);
  // Each record with the cluster and account the live path gave it (its file source's, seam.yml's cluster, the
  // cluster's account in identity.clusters): a dead letter keeps only its origin.
  const attribute = recordAttribution(cfg);
  const receivedAt = new Date().toISOString();
  const items: FileItem[] = whole.map((e) => ({
    kind: 'record',
    text: e.dl.raw,
    meta: { collector: e.dl.collector ?? 'dlq-replay', receivedAt, ...(e.dl.origin ? { origin: e.dl.origin } : {}), ...attribute(e.dl.origin) },
  }));
  const rules = o.rules ?? (cfg.rules.paths.some((p) => existsSync(p)) ? cfg.rules.paths : []);
  let detection: Awaited<ReturnType<typeof loadDetection>>;
  try {
    detection = await loadDetection(
      await detectionOptions(cfg, rules, o.placeholders ?? cfg.rules.placeholdersFile, o.rules !== undefined, { seeds: seedsOf(cfg, undefined), ...(cfg.cluster ? { cluster: cfg.cluster } : {}) }, (text) =>
        err.write(`seam: ${text}\n`),
      ),
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'SEAM_ERR_CONFIG_INVALID' && code !== 'SEAM_ERR_RULES_EMPTY' && code !== 'SEAM_ERR_SEED') throw e;
    err.write(`seam dlq replay: ${code}: ${(e as Error).message}\n`);
    return 2;
  }
  const { summary, paths } = await runEmbedded({ paths: [], items, stateDir: dir, detection, maxRecordBytes: 1024 * 1024 });
  out.write(
    `dlq replay: re-ran ${whole.length} of ${considered} dead letters from ${where}: normalized=${summary.normalized} still rejected=${summary.rejected} alerts=${summary.alerts}${partial ? `; ${partial} partial records skipped` : ''}\n`,
  );
  out.write(`  written: ${paths.events}, ${paths.alerts}, ${paths.dlq}\n`);
  return 0;
}
