import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { REPLAY_DLQ_FILE, replayCommand } from './replay.ts';
import { logProcessWarnings } from '../core/logger.ts';
import { rulesLintCommand, rulesTestCommand } from './rules.ts';
import { defineSensorCommand } from './sensor.ts';

/** A repeatable option: `--rules a --rules b` gives ['a', 'b']. */
function repeated(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

const SEED_HELP =
  'identity snapshot the graph starts from, repeatable, after seam.yml identity.seeds: aws-auth ConfigMap (YAML/JSON), aws eks describe-access-entry / describe-pod-identity-association JSON, kubectl get … -A -o json; =CLUSTER names its cluster (default --cluster / seam.yml cluster). docs/identity.md, Seeding from snapshots';

/** Seam's version, from the package.json above this file (src/cli/ in a checkout, dist/cli/ in a build). */
function seamVersion(): string {
  for (const up of ['../..', '../../..', '..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, up, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'seam' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next folder up
    }
  }
  return 'unknown';
}

/** Builds the CLI. Kept thin: each action calls a function that tests can call directly. */
export function buildCli(): Command {
  const program = new Command('seam')
    .description('Seam finds attacks on Amazon EKS by joining what the AWS and Kubernetes planes each see.')
    .version(seamVersion(), '-V, --version', 'print Seam\'s version')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run')
    .description('Run Seam. Without Kafka configured (seam.yml kafka.brokers or SEAM_KAFKA_BROKERS), runs embedded over the bundled demo dataset.')
    .option('--role <role>', 'run one role against Kafka: normalize, correlate, index or deliver')
    .option('--delivery <file>', 'alert delivery config (YAML: outputs, routes, throttle, suppressions; docs/alert-delivery.md); needed by --role deliver, and turns delivery on in embedded and all-roles runs')
    .option('--input <path...>', 'embedded mode: files or folders to replay instead of the demo dataset')
    .option('--rules <path>', 'rule file or folder, repeatable (default: seam.yml rules.paths, `detections`); a path that yields no rules is an error', repeated)
    .option('--state-dir <dir>', 'where embedded mode writes events, alerts and dead letters', 'out')
    .option(
      '--resume',
      'embedded mode: continue from <state-dir>/identity-state.jsonl (what earlier --resume runs learned: behavioural baselines and their learning periods, identity mappings) and save it again at the end; events, alerts, incidents and dead letters are appended to. Correlation windows do not span runs. Without it (the default) every run starts empty and rewrites the files',
    )
    .option('--placeholders <file>', 'YAML map of rule placeholder values (default for the demo: deploy/config/placeholders.yml)')
    .option('--cluster <name>', 'embedded mode: EKS cluster to attribute records to when they do not say, in inputs that name none (a seam.yml file source\'s own cluster wins; demo: prod-eks-01)')
    .option('--seed <file[=cluster]>', SEED_HELP, repeated)
    .option('--metrics-addr <host:port>', 'on Kafka: serve /metrics, /healthz and /readyz here (default SEAM_METRICS_ADDR; off when neither is set)')
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .action(async (o: { role?: string; input?: string[]; rules?: string[]; stateDir: string; resume?: boolean; placeholders?: string; cluster?: string; delivery?: string; metricsAddr?: string; config?: string; seed?: string[] }) => {
      // Loaded when asked for: `seam run` brings the config schema (every source's, sink's and sensor's section), which `seam replay` does not need.
      const { runCommand } = await import('./run.ts');
      process.exitCode = await runCommand(o);
    });

  program
    .command('replay')
    .summary('Read exported CloudTrail, EKS audit, GuardDuty and runtime records through normalization and, with --rules, detection (seam replay --help lists the shapes)')
    .description('Replay files and folders (JSONL or JSON arrays, gzipped or not; several merged by event time) through normalization, and detection with --rules: CloudTrail (S3 objects, lookup-events output, EventBridge events, Security Lake OCSF), EKS audit (CloudWatch Logs S3 exports, filter-log-events / get-log-events output, Logs Insights results, subscription payloads, EventLists), GuardDuty findings (get-findings output), Fargate sensor runtime events and Falco alerts, and SIEM exports that kept the original record (Splunk _raw, Sumo Logic map._raw, Elastic event.original, OpenSearch _source). docs/inputs.md')
    .argument('<paths...>', 'files or folders')
    .option('--out <file>', 'write normalized events as JSONL, one line per event (a record read twice, same seam.id, is written once; - for stdout; with rules, alerts then need --alerts-out FILE)')
    .option('--dlq <file>', 'dead-letter file for rejected records, appended to (an earlier replay\'s dead letters stay; seam dlq list reads it when it is the newer default)', REPLAY_DLQ_FILE)
    .option('--rules <path>', 'run the Sigma rules and correlations in this file or folder (repeatable: --rules a --rules b); a path that yields no rules is an error', repeated)
    .option('--alerts-out <file>', 'write alerts as JSONL to this file (default stdout when --rules is given)')
    .addOption(new Option('--format <format>', 'alerts on stdout: text (the ALERT lines seam run prints) or json (JSONL); default text on a terminal, json when stdout is a pipe or file').choices(['text', 'json']))
    .option('--placeholders <file>', 'YAML map of rule placeholder values (see deploy/config/placeholders.yml)')
    .option('--cluster <name>', 'EKS cluster to attribute records to when they do not say; PATH=NAME for the records under one input path (repeatable: two clusters\' exports replayed together)', repeated)
    .option('--seed <file[=cluster]>', SEED_HELP, repeated)
    .option('--max-record-bytes <n>', 'records larger than this are dead-lettered', positiveInt, 1024 * 1024)
    .option('--workers <n>', 'run detection on this many worker threads, records split by AWS account (ADR 0018)', positiveInt, 1)
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .option('--strict', 'exit 1 when any record was rejected (default: exit 0 once the replay ran to its end, dead letters or not)')
    .action(async (paths: string[], o: { out?: string; dlq: string; rules?: string[]; alertsOut?: string; cluster?: string[]; seed?: string[]; maxRecordBytes: number; placeholders?: string; workers: number; config?: string; strict?: boolean; format?: 'text' | 'json' }) => {
      process.exitCode = await replayCommand(paths, o);
    });

  const dlq = program.command('dlq').description('Dead letters: records Seam could not carry through, with the reason');
  dlq
    .command('list')
    .description('Print dead letters (time, stage, code, origin, reason) from seam.dlq (with SEAM_KAFKA_BROKERS) or a file')
    .option('--topic <topic>', 'dead-letter topic (default seam.dlq)')
    .option('--file <file>', `dead-letter file (default without Kafka: the newer of seam run's out/dlq.jsonl and seam replay's ${REPLAY_DLQ_FILE}; it says which it read)`)
    .option('--state-dir <dir>', 'embedded mode state directory: read <dir>/dlq.jsonl (only)')
    .option('--code <code>', 'only this error code')
    .option('--limit <n>', 'print at most this many', positiveInt, 50)
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .action(async (o: { topic?: string; file?: string; stateDir?: string; code?: string; limit: number; config?: string }) => {
      const { dlqListCommand } = await import('./dlq.ts');
      process.exitCode = await dlqListCommand(o);
    });
  dlq
    .command('replay')
    .summary('Read exported CloudTrail, EKS audit, GuardDuty and runtime records through normalization and, with --rules, detection (seam replay --help lists the shapes)')
    .description('After a fix, send dead letters\' original bytes back to the topic they came from (Kafka), or re-run them through the roles embedded')
    .option('--topic <topic>', 'dead-letter topic (default seam.dlq)')
    .option('--file <file>', `dead-letter file (default without Kafka: the newer of seam run's out/dlq.jsonl and seam replay's ${REPLAY_DLQ_FILE}; it says which it read)`)
    .option('--state-dir <dir>', 'embedded mode state directory: read <dir>/dlq.jsonl (only); the re-run writes under <dir>/dlq-replay (default out)')
    .option('--code <code>', 'only this error code')
    .option('--limit <n>', 'replay at most this many', positiveInt)
    .option('--rules <path>', 'embedded mode: rule file or folder, repeatable (default seam.yml rules.paths, `detections`)', repeated)
    .option('--placeholders <file>', "embedded mode: YAML map of rule placeholder values, as run, replay and hunt take it (default: seam.yml rules.placeholdersFile; seam.yml rules.placeholders over it)")
    .option('--since <time>', 'only dead letters written since an ISO time or a duration back from now (90m, 12h, 2d)')
    .option('--from-offset <n>', 'Kafka: only dead letters at or after this offset of each dead-letter partition', nonNegativeInt)
    .option('--include-replayed', 'also replay records whose earlier replay was dead-lettered again (once more each); default: skip them')
    .option('--dry-run', 'say what would be replayed (the same selection)')
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .action(async (o: { topic?: string; file?: string; stateDir?: string; code?: string; limit?: number; rules?: string[]; placeholders?: string; dryRun?: boolean; config?: string; since?: string; fromOffset?: number; includeReplayed?: boolean }) => {
      const { dlqReplayCommand } = await import('./dlq.ts');
      process.exitCode = await dlqReplayCommand(o);
    });

  program
    .command('collect')
    .description('Run the collectors of seam.yml (collect section) on its Kafka until SIGTERM/SIGINT; SEAM_REPLICA_ID sets ownership.replicaId')
    .option('--config <file>', 'seam.yml with a collect section, or a collectors file (top-level sources; Kafka then from SEAM_* variables); default SEAM_CONFIG')
    .option('--metrics-addr <host:port>', 'serve /metrics, /healthz and /readyz here (default SEAM_METRICS_ADDR; off when neither is set)')
    .action(async (o: { config?: string; metricsAddr?: string }) => {
      const { collectCommand } = await import('./collect.ts');
      process.exitCode = await collectCommand(o);
    });

  const setup = program.command('setup').description('Prepare external services for Seam');
  setup
    .command('opensearch')
    .description('Install index templates (per source, alerts, identity) and, where the ISM plugin exists, the retention policy; with --dashboards, import the dashboards')
    .option('--url <url...>', 'OpenSearch node URLs (default seam.yml opensearch.nodeUrls, SEAM_OPENSEARCH_URL, or http://127.0.0.1:9200)')
    .option('--username <user>', 'basic auth user; the password is read from --password-env')
    .option('--password-env <var>', 'environment variable holding the password', 'SEAM_OPENSEARCH_PASSWORD')
    .option('--aws-region <region>', 'sign requests with AWS SigV4 (Amazon OpenSearch Service) in this region')
    .option('--aws-service <service>', 'SigV4 service: es (managed domains) or aoss (Serverless)', 'es')
    .option('--ca-file <pem>', 'CA bundle for https nodes')
    .option('--insecure', 'accept certificates that do not chain to a trusted CA')
    .option('--index-prefix <prefix>', 'prefix of every index and template (default: seam.yml opensearch.indexPrefix, `seam`)')
    .option('--shards <n>', 'primary shards per index', positiveInt)
    .option('--replicas <n>', 'replicas per index (0 for a single local node)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
      return n;
    })
    .option('--refresh-interval-ms <n>', 'index refresh interval', positiveInt)
    .option('--retention-days <n>', 'days before the ISM policy deletes event indices', positiveInt)
    .option('--no-ism', 'manage no retention: no ISM policies, no age-out of the identity and incidents indices')
    .option('--dry-run', 'show what would change without changing anything')
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .option('--dashboards <url>', 'also import the dashboards (deploy/opensearch/dashboards/*.ndjson) into OpenSearch Dashboards at this URL; basic auth (--username/--password-env or seam.yml) applies to it too')
    .action(async (o: Record<string, unknown>) => {
      const { setupOpenSearchCommand } = await import('./setup.ts');
      process.exitCode = await setupOpenSearchCommand(o as never);
    });

  program
    .command('hunt')
    .description('Run Sigma rules over history in OpenSearch (the same rules the stream runs, compiled to query DSL), or find every event one identity is behind (--who), or print the events an alert names (--alert). Correlations are hunted by feeding their rules\' events, in event-time order, to the stream\'s correlation engine. Exit 0: searched (matches or none); 1: a search failed, OpenSearch did not answer, or the --alert is not in the alerts index; 2: usage; 3: nothing searched (no index, no event in the window); 4: partial (a correlation hunt was cut at --max-events, or some of an alert\'s events are no longer indexed)')
    .option('--rules <paths...>', 'rule files or folders (default: seam.yml rules.paths)')
    .option('--who <identity>', 'every event attributed to an IAM ARN, an access key id (AKIA…, ASIA…), a Kubernetes user, namespace/serviceaccount or pod:namespace/name, across the planes and through the roles and service accounts it reached')
    .option('--alert <id>', 'every event an alert names (its events; a correlation\'s are those behind its members), from the alerts and events indices, in event-time order; exit 4 when some are no longer indexed')
    .option('--raw', 'with --alert or --who: print the stored event documents (raw fields and seam.*) as stored, one JSON line each, instead of hunt lines')
    .option('--cluster <name>', 'with --who: only this cluster\'s Kubernetes identities and events')
    .option('--url <url>', 'OpenSearch URL (default seam.yml opensearch.nodeUrls, SEAM_OPENSEARCH_URL, or http://127.0.0.1:9200)')
    .option('--from <time>', 'earliest @timestamp: ISO 8601 or date math such as now-7d')
    .option('--to <time>', 'latest @timestamp')
    .option('--size <n>', 'most matches printed per rule (with --who: most events)', positiveInt, 10_000)
    .option('--max-events <n>', 'most events read per correlation hunted; a hunt cut there says so and exits 4', positiveInt, 1_000_000)
    .option('--print-dsl', 'print each rule\'s index and query as JSONL (with --who: the query a dashboard can use) instead of searching')
    .option('--index-prefix <prefix>', 'index prefix (default: seam.yml opensearch.indexPrefix, `seam`)')
    .option('--placeholders <file>', "YAML map of rule placeholder values, as run and replay take it (default: seam.yml rules.placeholdersFile; seam.yml rules.placeholders over it)")
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .action(async (o: { rules?: string[]; who?: string; alert?: string; raw?: boolean; cluster?: string; url?: string; from?: string; to?: string; size: number; maxEvents: number; printDsl?: boolean; indexPrefix?: string; placeholders?: string; config?: string }) => {
      const { huntCommand } = await import('./hunt.ts');
      process.exitCode = await huntCommand(o);
    });

  const identity = program.command('identity').description('Ask the identity graph who acted across the AWS and Kubernetes planes');
  identity
    .command('explain')
    .description("Print the chain and the effective Kubernetes permissions of an IAM ARN, a Kubernetes user or namespace/serviceaccount, from files replayed into the identity graph (--input) or from the live graph the correlate role keeps on Kafka (--from kafka: the seam.identity topic, every partition start to end; stderr says how many records). Exit 0: explained; 1: the target is not in the graph; 2: usage; 3: the graph could not be read (Kafka unreachable, no seam.identity topic)")
    .argument('<target>', 'arn:aws:iam::… / arn:aws:sts::… , a Kubernetes user name, or namespace/serviceaccount')
    .option('--input <paths...>', 'files or folders of EKS audit, CloudTrail, GuardDuty and runtime records to replay')
    .option('--from <source>', "'kafka': read the graph from <kafka.topicPrefix>seam.identity (Kafka from seam.yml / SEAM_KAFKA_*, SEAM_TOPIC_PREFIX, as seam run takes it) instead of --input; it holds facts, not events, so the lines about the target's own calls and requests are not printed")
    .option('--seed <files...>', `${SEED_HELP.replace('repeatable,', 'repeatable or several after one flag,')} (seam.yml's apply with --input and --from kafka alike, as the correlate role applies them: they are not on the topic)`)
    .option('--cluster <name>', 'EKS cluster the input and seeds belong to when records do not say')
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG; docs/config-reference.md)')
    .action(async (target: string, o: { input?: string[]; from?: string; seed?: string[]; cluster?: string; config?: string }) => {
      const { identityExplainCommand } = await import('./identity.ts');
      const { loadCliConfig } = await import('./config.ts');
      const loaded = await loadCliConfig(o.config);
      if (loaded === undefined) {
        process.exitCode = 2;
        return;
      }
      const { settingOrigin } = await import('./unreachable.ts');
      const { seedsOf } = await import('./detection-options.ts');
      const cluster = o.cluster ?? loaded.config.cluster;
      const kafka = loaded.config.kafka;
      process.exitCode = await identityExplainCommand(
        target,
        {
          graph: loaded.config.identity,
          ...(o.input ? { input: o.input } : {}),
          ...(o.from !== undefined ? { from: o.from } : {}),
          ...(kafka ? { kafka, kafkaOrigin: settingOrigin(loaded, 'kafka.brokers') } : {}),
          // seam.yml's identity.seeds, then --seed's, on either path: the graph seam run's correlate role has (ADR 0054).
          seeds: seedsOf(loaded.config, o.seed),
          ...(cluster ? { cluster } : {}),
        },
        process.stdout,
      );
    });

  const config = program.command('config').description('Configuration helpers');
  config
    .command('check')
    .description('Validate seam.yml (errors with file:line:col and the field path) and print the effective configuration, defaults filled in and secrets masked')
    .argument('[file]', 'seam.yml (default SEAM_CONFIG; without either: defaults and SEAM_* variables)')
    .action(async (file: string | undefined) => {
      const { configCheckCommand } = await import('./config.ts');
      process.exitCode = await configCheckCommand(file);
    });
  config
    .command('reference')
    .description('Print the configuration reference (Markdown), generated from the configuration schemas')
    .action(async () => {
      const { configReference } = await import('./config-reference.ts');
      process.stdout.write(configReference());
    });

  const report = program.command('report').description('Pages a person reads: incidents as self-contained HTML');
  report
    .command('incident')
    .description('Write one self-contained HTML page for an incident: the attack chain as a graph, a timeline across planes, the alerts with triage notes and the affected resources')
    .argument('[id]', 'incident id (inc-…, as `seam run` prints it, or a unique prefix) or the key it groups by (the identity ARN; eks:<account>:<cluster>/<name> for a Kubernetes identity without one)')
    .option('--latest', 'open incidents first (as of the newest alert), then the highest level, then the highest risk, then the one that ended last; the line on stderr says why')
    .option('--input <dir>', 'a `seam run` output folder with alerts.jsonl and events.jsonl', 'out')
    .option('--from <source>', "'opensearch': read the alerts and event indices instead of --input")
    .option('--config <file>', 'seam.yml: OpenSearch nodes, credentials, TLS, SigV4 and index prefix, rule paths (default SEAM_CONFIG)')
    .option('--url <url>', "with --from opensearch: node URL (default: the config's opensearch.nodeUrls)")
    .option('--index-prefix <prefix>', "with --from opensearch: index prefix (default: the config's opensearch.indexPrefix, seam)")
    .option('--rules <path>', "rule file or folder the triage notes come from, repeatable (default: the config's rules.paths, detections)", repeated)
    .option('--out <file>', 'output file (default <input>/incident-<id>.html)')
    .option('--evidence <dir>', "also write the incident's alerts and every event the page read (the stored records, raw and seam.*) as alerts.jsonl and events.jsonl in <dir>, with their sha256 on stderr; --input <dir> draws the page from them again")
    .action(async (id: string | undefined, o: { latest?: boolean; input: string; from?: string; url?: string; indexPrefix?: string; rules?: string[]; config?: string; out?: string; evidence?: string }) => {
      const { reportIncidentCommand } = await import('./report.ts');
      process.exitCode = await reportIncidentCommand({ ...o, ...(id !== undefined ? { id } : {}) });
    });

  program
    .command('coverage')
    .description("ATT&CK coverage of the rules (techniques × detections × levels, from the rules' tags) and the Stratus Red Team table, as Markdown and a self-contained HTML page")
    .option('--rules <paths...>', 'rule files or folders', ['detections'])
    .option('--out <dir>', 'where coverage.md and coverage.html go', 'out/coverage')
    .option('--doc <file>', "also rewrite the generated blocks of this page (<!-- seam coverage: NAME --> markers), e.g. docs/coverage.md")
    .option('--check', 'write nothing (neither --out files nor the --doc page); with --doc, exit 1 if the page is out of date')
    .option('--config <file>', "a site's seam.yml: its rules.overrides apply (disabled rules leave the coverage, levels change; each override is said)")
    .action(async (o: { rules: string[]; out: string; doc?: string; check?: boolean; config?: string }) => {
      const { coverageCommand } = await import('./coverage.ts');
      process.exitCode = await coverageCommand(o);
    });

  const networks = program.command('networks').description('Where addresses are: AWS’s published IP ranges, offline');
  networks
    .command('import-aws-ranges')
    .description(
      "Check an ip-ranges.json you downloaded (curl -fsSL -o ip-ranges.json https://ip-ranges.amazonaws.com/ip-ranges.json; Seam downloads nothing), print what it holds (prefix counts, createDate, syncToken; a warning when older than 30 days) and, with --out, write the gzipped copy seam.yml's native.awsIpRangesFile reads (small enough for a ConfigMap). With it, 'inside AWS' is answered from AWS's exact ranges and AWS addresses are placed in their region (docs/identity.md, Outside AWS)",
    )
    .argument('<file>', 'ip-ranges.json as downloaded, or gzipped')
    .option('--out <file>', 'write the compact gzipped copy here (e.g. ip-ranges.json.gz)')
    .action(async (file: string, o: { out?: string }) => {
      const { importAwsRangesCommand } = await import('./networks.ts');
      process.exitCode = await importAwsRangesCommand(file, o);
    });

  defineSensorCommand(program.command('sensor'));

  const rules = program.command('rules').description('Work with Sigma rules');
  rules
    .command('lint')
    .description('Load rules and correlations and print every problem with file, line and column')
    .argument('[paths...]', 'rule files or folders (default: seam.yml rules.paths, `detections`)')
    .option('--placeholders <file>', "YAML map of rule placeholder values, as replay's (default: seam.yml rules.placeholdersFile); placeholders it sets are not reported unset")
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG): its rules.paths and placeholders (rules.placeholdersFile, rules.placeholders)')
    .option('-v, --verbose', 'every diagnostic: each use of an unset placeholder, not one line per placeholder with its count')
    .action(async (paths: string[], o: { placeholders?: string; config?: string; verbose?: boolean }) => {
      process.exitCode = await rulesLintCommand(paths, o);
    });
  rules
    .command('test')
    .description("Run each rule's sibling *.test.yml cases")
    .argument('[paths...]', 'rule files or folders (default: seam.yml rules.paths, `detections`)')
    .option('--placeholders <file>', "YAML map of site placeholder values, as replay's, under each test file's and case's own `placeholders:`. Without it tests are hermetic: only the test files' values (seam.yml's are never read here)")
    .option('--config <file>', 'seam.yml (default SEAM_CONFIG: its rules.paths only). Given explicitly, also its rules.overrides: each case runs as shipped and as the site overrides it; cases of disabled rules are SKIPPED-BY-OVERRIDE, cases an override makes fail are OVERRIDDEN (neither fails the run). Never its placeholders')
    .action(async (paths: string[], o: { placeholders?: string; config?: string }) => {
      process.exitCode = await rulesTestCommand(paths, o);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  logProcessWarnings();
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // Commander's parse errors (unknown option, missing or invalid argument, a command without its subcommand) are
    // usage mistakes: exit 2, as Seam's own usage errors and `seam hunt`'s documented codes say; --help stays 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const err = e as Error & { code?: string };
    // Node's own errors already start with their code ("ENOENT: no such file or directory, open 'x'"): say it once.
    const coded = err.code !== undefined && err.code !== '' && !err.message.startsWith(`${err.code}:`);
    process.stderr.write(`seam: ${coded ? `${err.code}: ` : ''}${err.message}\n`);
    // A rules path that gives nothing is a usage error, as the checks made before loading say (exit 2), and so is a
    // seam.yml or placeholders file that does not load (the commands that check it themselves exit 2 too).
    return err.code === 'SEAM_ERR_RULES_EMPTY' || err.code === 'SEAM_ERR_CONFIG_INVALID' ? 2 : 1;
  }
}
