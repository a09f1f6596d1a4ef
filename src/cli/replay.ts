import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildReplayHandler, runReplay, type ReplayDetectSpec, type ReplaySummary } from '../pipeline/replay.ts';
import { fmtBytes, terminalProgress } from './progress.ts';
import { BATCH_SHAPES } from '../core/normalize/batch.ts';
import { sessionsUnstarted } from '../pipeline/event-notes.ts';
import type { InputPath } from '../sources/file/source.ts';
import type { Alert } from '../detect/alert.ts';
import { notifiable } from '../detect/fold.ts';
import { alertText } from './alert-line.ts';
import { unreadableInputs } from './input-check.ts';
import { parseSeedFlag } from '../identity/seed-flag.ts';

export interface ReplayCliOptions {
  out?: string;
  dlq: string;
  rules?: string[];
  alertsOut?: string;
  /** `--cluster NAME` (every input) or `--cluster PATH=NAME` (the records under one of the input paths), repeatable. */
  cluster?: string[];
  maxRecordBytes: number;
  placeholders?: string;
  /** Worker threads for detection (ADR 0018); 1 = the single-thread replay. */
  workers?: number;
  /** seam.yml (default SEAM_CONFIG): with one, detection runs with its rules, placeholders and cluster unless flags say otherwise. */
  config?: string;
  /** Exit 1 when any record was rejected (for scripts); by default a replay that ran to the end exits 0. */
  strict?: boolean;
  /**
   * How alerts reach stdout: `text`, the ALERT lines `seam run` prints; `json`, one JSON line each. Default: `text` on a
   * terminal when no --alerts-out file is named, else `json` (a pipe or a file gets JSON, as scripts expect; review newuser2 L5).
   */
  format?: 'text' | 'json';
  /** `--seed FILE[=CLUSTER]`, repeatable: snapshots the identity graph starts from, after seam.yml's identity.seeds. */
  seed?: string[];
}

/** Where `seam replay` writes dead letters unless `--dlq` says; `seam dlq list|replay` look here too. */
export const REPLAY_DLQ_FILE = 'seam-dlq.jsonl';

const YAML_FILE = /\.ya?ml$/i;

/**
 * Whether an input path is rules rather than records: a YAML file, or a folder whose files (subfolders too,
 * hidden ones aside, as the replay reads them) are all YAML. `--rules a b` reads `b` as an input, and its
 * lines would each be a dead letter (the mistake README's "Rules as you keep them" warns of). A folder is
 * walked only until its first other file, so a trail bucket's copy costs one look.
 */
function ruleLike(path: string): 'file' | 'folder' | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined; // a missing input is reported when the replay opens it
  }
  if (st.isFile()) return YAML_FILE.test(path) ? 'file' : undefined;
  if (!st.isDirectory()) return undefined;
  let yaml = 0;
  const walk = (d: string): boolean => {
    for (const n of readdirSync(d).filter((x) => !x.startsWith('.')).sort()) {
      const p = join(d, n);
      const s = statSync(p, { throwIfNoEntry: false });
      if (s?.isDirectory()) {
        if (!walk(p)) return false;
      } else if (s?.isFile()) {
        if (!YAML_FILE.test(n)) return false;
        yaml++;
      }
    }
    return true;
  };
  return walk(path) && yaml > 0 ? 'folder' : undefined;
}

export async function replayCommand(paths: string[], o: ReplayCliOptions): Promise<number> {
  for (const p of paths) {
    const kind = ruleLike(p);
    if (kind === undefined) continue;
    process.stderr.write(
      `seam: input ${p} ${kind === 'file' ? 'is a YAML file' : 'holds only YAML files'}: it looks like a rule file, and seam replay reads records (JSON, JSONL, gzipped or not) from its inputs; use one --rules per path (${[...(o.rules ?? []), p].map((r) => `--rules ${r}`).join(' ')})\n`,
    );
    return 2;
  }
  // A missing input before the config and the rules load (exit 1, as when the replay meets it).
  const inputProblem = await unreadableInputs(paths);
  if (inputProblem !== undefined) {
    process.stderr.write(`seam: ${inputProblem}\n`);
    return 1;
  }
  // The config loader and its schema (every source's, sink's and sensor's section: ~0.1-0.3 s of module
  // loading, ADR 0031) load only when a config file may be named, by the flag or SEAM_CONFIG.
  const named = o.config !== undefined || process.env.SEAM_CONFIG !== undefined;
  const file = named ? (await import('../core/config/load.ts')).configFile(o.config) : undefined;
  const loaded = file === undefined ? undefined : await (await import('./config.ts')).loadCliConfig(file);
  if (file !== undefined && loaded === undefined) return 2;
  const cfg = loaded?.config;
  // An explicit --rules folder must exist; seam.yml's missing folders are skipped (as seam run does), with a word,
  // unless none of them exists (an error, src/detect/rule-paths.ts).
  let fromConfig: string[] | undefined;
  if (!o.rules && cfg) {
    const { existingRulePaths } = await import('../detect/rule-paths.ts');
    try {
      const r = existingRulePaths(cfg.rules.paths, false);
      if (r.skipped.length > 0) process.stderr.write(`seam: skipping rule paths that do not exist: ${r.skipped.join(', ')}\n`);
      fromConfig = r.paths;
    } catch (e) {
      process.stderr.write(`seam: ${(e as { code?: string }).code}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const rules = o.rules ?? fromConfig;
  const placeholdersFile = o.placeholders ?? cfg?.rules.placeholdersFile;
  const clusters = inputClusters(paths, o.cluster ?? []);
  if (typeof clusters === 'string') {
    process.stderr.write(`seam: ${clusters}\n`);
    return 2;
  }
  const cluster = clusters.all ?? cfg?.cluster;
  const inputs: InputPath[] = paths.map((p) => (clusters.byPath.has(p) ? { path: p, cluster: clusters.byPath.get(p)! } : p));
  if (clusters.byPath.size > 0 && (o.workers ?? 1) > 1) {
    process.stderr.write('seam: --cluster PATH=NAME reads each input path with its own cluster on one thread; --workers splits by tenant with one cluster for the whole input: drop --workers or run each cluster\'s input with --cluster NAME\n');
    return 2;
  }
  // Events and alerts on one stream cannot be told apart by what reads it: one of them needs a file.
  if (rules && o.out === '-' && (o.alertsOut ?? '-') === '-') {
    process.stderr.write(
      `seam: --out - and the alerts would both go to stdout (alerts go there unless --alerts-out names a file); give one of them a file: --alerts-out alerts.jsonl (events stay on stdout) or --out events.jsonl\n`,
    );
    return 2;
  }
  // Alerts to stdout as a person reads them on a terminal; JSON to a pipe, to a file, or with --format json.
  const alertsFile = o.alertsOut !== undefined && o.alertsOut !== '-' ? o.alertsOut : undefined;
  const format = o.format ?? (alertsFile === undefined && process.stdout.isTTY === true ? 'text' : 'json');
  const alertsPath = alertsFile ?? (format === 'json' ? '-' : undefined);
  const onAlert =
    format === 'text'
      ? (a: Alert): void => {
          // Folded alerts (ADR 0050) are printed under the alert they were folded into, as seam run does.
          if (notifiable(a)) process.stdout.write(alertText(a));
        }
      : undefined;
  // Snapshots the identity graph starts from: seam.yml's, then the flag's (docs/identity.md, Seeding from snapshots).
  const seeds = [...(cfg?.identity.seeds ?? []), ...(o.seed ?? []).map(parseSeedFlag)];
  if (seeds.length > 0 && !rules) process.stderr.write('seam: the identity seeds are for detection: without --rules (or seam.yml rules.paths) the replay only normalizes, and reads no seed\n');
  const progress = terminalProgress('replay');
  let spec: ReplayDetectSpec | undefined;
  if (rules) {
    const missing = rules.filter((r) => !existsSync(r));
    if (missing.length > 0) {
      process.stderr.write(`seam: rules path ${missing.join(', ')} does not exist\n`);
      return 2;
    }
    // A path with no rule file under it is a mistake, said before anything runs (one with files that give no
    // rule is found when they load: SEAM_ERR_RULES_EMPTY).
    const { problemsUnder, ruleFilesUnder } = await import('../detect/sigma/ruleset.ts');
    const under = ruleFilesUnder(rules);
    if (under.empty.length > 0) {
      const why = under.empty.flatMap((p) => problemsUnder(p, under.diagnostics)).map((x) => `\n  ${x}`).join('');
      process.stderr.write(`seam: SEAM_ERR_RULES_EMPTY: no rule files under ${under.empty.join(', ')} (Seam reads *.yml and *.yaml files, not *.test.yml, in a folder and its subfolders)${why}\n`);
      return 2;
    }
    spec = {
      rules,
      // Given with --rules: unused site placeholders are warned about only when they cover the configured rules.
      ...(o.rules ? { configuredRules: cfg?.rules.paths ?? ['detections'] } : {}),
      ...(placeholdersFile ? { placeholdersFile } : {}),
      ...(cfg?.rules.placeholders ? { placeholders: cfg.rules.placeholders } : {}),
      ...(cfg?.rules.overrides?.length ? { overrides: cfg.rules.overrides } : {}),
      reportUnsetPlaceholders: true,
      ...(cfg?.rules.allowedLatenessMs === undefined ? {} : { allowedLatenessMs: cfg.rules.allowedLatenessMs }),
      ...(cfg ? { driftCheckUsers: cfg.rules.driftCheckUsers } : {}),
      ...(cfg ? { native: cfg.native, identity: cfg.identity } : {}),
      ...(seeds.length > 0 ? { seeds, ...(cluster === undefined ? {} : { seedCluster: cluster }) } : {}),
    };
  }
  const workers = o.workers ?? 1;
  if (workers > 1 && spec === undefined) process.stderr.write('seam: --workers spreads detection over threads; without rules the replay runs on one thread\n');
  let summary: ReplaySummary;
  if (workers > 1 && spec !== undefined) {
    const { runReplayWorkers } = await import('../pipeline/replay-workers.ts');
    const s = await runReplayWorkers({
      paths,
      workers,
      spec,
      dlqPath: o.dlq,
      ...(alertsPath !== undefined ? { alertsPath } : {}),
      ...(onAlert ? { onAlert } : {}),
      maxRecordBytes: o.maxRecordBytes,
      ...(o.out ? { outPath: o.out } : {}),
      ...(cluster ? { cluster } : {}),
      onProgress: progress.update,
      onPlan: (line, tenants) =>
        process.stderr.write(
          `replay: ${workers} workers, ${line}\n` +
            (tenants <= 1 ? 'replay: one tenant (an account and the clusters tied to it): every record goes to one worker, so --workers cannot speed this input up (ADR 0018)\n' : ''),
        ),
    });
    const t = s.timing;
    const secs = (ms: number): string => (ms / 1000).toFixed(2);
    process.stderr.write(
      `replay: main thread pass 1 ${secs(t.pass1Ms)}s, pass 2 ${secs(t.pass2Ms)}s; workers ready after ${t.loadMs.map(secs).join('/')}s, busy ${t.busyMs.map(secs).join('/')}s\n`,
    );
    if (t.mismatched > 0) {
      process.stderr.write(`seam: warning: the first pass read ${t.mismatched} records otherwise than their worker normalized them; alerts may differ from --workers 1 (please report it)\n`);
    }
    summary = s;
  } else {
    const handler = spec ? await buildReplayHandler(spec) : undefined;
    summary = await runReplay({
      paths: inputs,
      dlqPath: o.dlq,
      maxRecordBytes: o.maxRecordBytes,
      ...(o.out ? { outPath: o.out } : {}),
      ...(cluster ? { cluster } : {}),
      ...(handler ? { handler, ...(alertsPath !== undefined ? { alertsPath } : {}), ...(onAlert ? { onAlert } : {}) } : {}),
      onProgress: progress.update,
    });
  }
  progress.done();
  process.stderr.write(`${formatSummary(summary, { dlqPath: o.dlq, detection: spec !== undefined, appended: true })}\n`);
  if (o.strict === true && summary.files === 0) {
    process.stderr.write('seam: --strict: no input files: exit 1\n');
    return 1;
  }
  if (o.strict === true && summary.rejected > 0) {
    process.stderr.write(`seam: --strict: ${summary.rejected} of ${summary.records} records rejected (dead letters in ${o.dlq}): exit 1\n`);
    return 1;
  }
  return 0;
}

/** An EKS cluster name: letters, digits, hyphens and underscores, starting with a letter or digit. */
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * `--cluster` values: `NAME` for every input path (at most one), `PATH=NAME` for the records under one of the input
 * paths as given on the command line (review newuser2 M7: two clusters' audit exports replayed together, merged by
 * event time). A cluster name holds no `=`, so the last one splits. A message when a value names no input path.
 */
export function inputClusters(paths: string[], values: string[]): { all?: string; byPath: Map<string, string> } | string {
  const byPath = new Map<string, string>();
  let all: string | undefined;
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    if (eq < 0) {
      if (all !== undefined && all !== v) return `--cluster ${all} and --cluster ${v}: one cluster for every input; for an input path's own, --cluster PATH=NAME`;
      all = v;
      continue;
    }
    const path = v.slice(0, eq);
    const name = v.slice(eq + 1);
    if (!CLUSTER_NAME.test(name)) return `--cluster ${v}: '${name}' is not an EKS cluster name (letters, digits, hyphens, underscores)`;
    if (!paths.includes(path)) return `--cluster ${v}: ${path} is not one of the input paths (${paths.join(', ')}); write it as given there`;
    byPath.set(path, name);
  }
  return { ...(all !== undefined ? { all } : {}), byPath };
}

/** A duration as a user would write it: 60s, 5m, 2h. */
function fmtMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 600_000) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

export interface SummaryContext {
  dlqPath: string;
  /** Whether rules ran: without them there is no alert count to give (`alerts=0` would read as "nothing found"). */
  detection: boolean;
  /** The dead-letter file is appended to (`seam replay`), so it may hold earlier runs' dead letters too. */
  appended?: boolean;
}

export function formatSummary(s: ReplaySummary, c: SummaryContext): string {
  const secs = s.elapsedMs / 1000;
  const sources = Object.entries(s.bySource)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const codes = Object.entries(s.rejectedByCode)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines = [
    `replay: files=${s.files} bytes=${fmtBytes(s.bytes)} records=${s.records} normalized=${s.normalized} rejected=${s.rejected} ${c.detection ? `alerts=${s.alerts}${s.alertUpdates ? ` (+${s.alertUpdates.updates} GuardDuty finding update${s.alertUpdates.updates === 1 ? '' : 's'}, ${s.alertUpdates.escalations} to a higher severity)` : ''}` : 'detection not run (no --rules)'} in ${secs.toFixed(1)}s (${Math.round(s.records / Math.max(secs, 0.001))} records/s)`,
    `  by source: ${sources || 'none'}`,
  ];
  const b = s.batches;
  const shapes = BATCH_SHAPES.filter((k) => k !== 'cloudtrail_digest' && b.documents[k] > 0);
  if (shapes.length > 0) {
    // Documents (a CloudTrail file, an audit EventList) that came as one record: their records are counted above (ADR 0038).
    lines.push(`  batch documents unwrapped: ${shapes.map((k) => `${k}=${b.documents[k]} (${b.records[k]} records${b.empty[k] > 0 ? `, ${b.empty[k]} empty` : ''})`).join(' ')}`);
  }
  if (b.documents.cloudtrail_digest > 0) {
    lines.push(`  skipped: ${b.documents.cloudtrail_digest} CloudTrail digest files (log file validation: hashes and signatures, no events)`);
  }
  const f = b.files;
  if (f !== undefined && f.nonAuditStreams + f.writeTest > 0) {
    const parts = [];
    if (f.nonAuditStreams > 0) parts.push(`${f.nonAuditStreams} CloudWatch Logs export ${f.nonAuditStreams === 1 ? 'object' : 'objects'} of non-audit EKS log streams (authenticator, kube-apiserver, controller managers, scheduler)`);
    if (f.writeTest > 0) parts.push(`${f.writeTest} export write-test ${f.writeTest === 1 ? 'object' : 'objects'} (aws-logs-write-test)`);
    lines.push(`  skipped: ${parts.join(', ')}`);
  }
  if (s.files === 0) lines.push('  warning: no input files under the given paths (an empty folder, an s3 sync that copied nothing?)');
  const n = s.notes;
  if (n.auditWithoutCluster > 0) {
    // Not guessed: a wrong cluster would join the wrong identities. One line, with the way to say it.
    lines.push(`  cluster: ${n.auditWithoutCluster} Kubernetes audit records name no EKS cluster, so cross-plane detections cannot tie them to AWS activity; give --cluster NAME (or cluster: in seam.yml)`);
  }
  if (n.timeMissing > 0) {
    lines.push(`  warning: ${n.timeMissing} records carry no event time (CloudTrail without eventTime): kept, with @timestamp = when Seam read them and seam.time_missing: true`);
  }
  const unstarted = sessionsUnstarted(n);
  if (unstarted > 0) {
    // The API server logs an exec, attach or port-forward at ResponseStarted and again at ResponseComplete; the rules
    // for them match the first (an interactive session may end hours later), which this input never has (SOC review L2).
    lines.push(
      `  warning: ${unstarted} exec/attach/port-forward ${unstarted === 1 ? 'session appears' : 'sessions appear'} only at stage ResponseComplete, none at ResponseStarted: the audit pipeline or policy drops ResponseStarted, where the rules for these sessions match, so they cannot fire on this input (the API server logs a session's 101 at both stages; EKS keeps both)`,
    );
  }
  if (s.late !== undefined && s.late.events > 0) {
    // Said once: alerts flagged late: true, or correlations and first-use detections that never fire (review newuser2 H1).
    const { events, allowedLatenessMs } = s.late;
    lines.push(
      `  warning: ${events} ${events === 1 ? 'event' : 'events'} reached detection more than ${fmtMs(allowedLatenessMs)} behind the newest event time (the allowed lateness): alerts ${events === 1 ? 'it completes are' : 'they complete are'} marked late: true or lost (cross-plane detections, correlations); sort or interleave the records by event time (input files are merged by time, each file read in its own order) or raise rules.allowedLatenessMs in seam.yml`,
    );
  }
  if (s.duplicates !== undefined && s.duplicates > 0) {
    // An organization trail and an account trail, S3 and EventBridge: the same event twice is detected once (review-de L6).
    lines.push(`  duplicates: ${s.duplicates} ${s.duplicates === 1 ? 'record repeated an event' : 'records repeated events'} already read (same seam.id): detected once, alerts written once`);
  }
  if (s.rejected > 0) lines.push(`  rejected: ${codes} -> ${c.dlqPath}${c.appended === true ? ' (appended to: earlier runs\' dead letters stay)' : ''}`);
  return lines.join('\n');
}
