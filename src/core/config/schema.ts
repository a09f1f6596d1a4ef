import { z } from 'zod';
import { DEFAULT_DRIFT_CHECK_USERS } from '../../detect/drift-check.ts';
import { NativeConfig } from '../../detect/native/config.ts';
import { IdentityGraphConfig } from '../../identity/config.ts';
import { OpenSearchSinkConfig } from '../../sinks/opensearch/config.ts';
import { CollectConfig } from '../../sources/collect-config.ts';
import { SensorFileConfig } from '../../sensor/config.ts';
import { SourceType } from '../envelope.ts';
import { listenAddressProblem } from '../listen-address.ts';

/**
 * `seam.yml`: the one configuration file the commands read (`--config FILE` or SEAM_CONFIG; docs/config-reference.md says which). The
 * schema is the documentation (docs/config-reference.md is generated from it). Any string may be
 * `${env:NAME}` or `${file:PATH}` (resolved at load, src/core/config/load.ts), which is how secrets
 * stay out of the file; SEAM_* variables override single fields (src/core/config/env.ts).
 */

const KafkaTls = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Connect with TLS. Set with any other tls field; false turns TLS off while keeping the fields.'),
    caFile: z.string().min(1).optional().describe('PEM file of the CA that signed the brokers\' certificates (else the system CAs: right for Amazon MSK).'),
    certFile: z.string().min(1).optional().describe('Client certificate (PEM) for mutual TLS; needs keyFile.'),
    keyFile: z.string().min(1).optional().describe('Client private key (PEM) for mutual TLS.'),
    keyPassword: z.string().min(1).optional().describe('Passphrase of an encrypted keyFile (secret: use ${env:NAME} or ${file:PATH}).'),
    rejectUnauthorized: z.boolean().default(true).describe('Refuse broker certificates that do not chain to a trusted CA or do not name the broker. Turn off only for local experiments.'),
    servername: z.string().min(1).optional().describe('TLS server name to verify instead of the broker host (SNI).'),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { message: 'tls.certFile and tls.keyFile go together (mutual TLS needs both)', path: ['certFile'] })
  .describe('TLS to the brokers. Amazon MSK: `tls: {}` (the public CAs sign MSK certificates).');

const SaslPassword = z.string().min(1).describe('Password (secret: use ${env:NAME} or ${file:PATH}, or SEAM_KAFKA_SASL_PASSWORD).');
const KafkaSasl = z
  .discriminatedUnion('mechanism', [
    z.strictObject({ mechanism: z.literal('plain').describe('SASL/PLAIN (only over TLS).'), username: z.string().min(1).describe('User name.'), password: SaslPassword }),
    z.strictObject({ mechanism: z.literal('scram-sha-256').describe('SASL/SCRAM-SHA-256.'), username: z.string().min(1).describe('User name.'), password: SaslPassword }),
    z.strictObject({ mechanism: z.literal('scram-sha-512').describe('SASL/SCRAM-SHA-512 (Amazon MSK SCRAM auth).'), username: z.string().min(1).describe('User name.'), password: SaslPassword }),
    z.strictObject({
      mechanism: z.literal('aws-msk-iam').describe('Amazon MSK IAM auth: SASL/OAUTHBEARER with a token signed by the MSK IAM signer (aws-msk-iam-sasl-signer-js) from the default AWS credential chain (IRSA in a pod).'),
      region: z.string().min(1).describe('AWS region of the MSK cluster, e.g. eu-west-1.'),
    }),
  ])
  .describe('SASL authentication to the brokers.');
export type KafkaSasl = z.infer<typeof KafkaSasl>;

export const KafkaConfig = z
  .strictObject({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port')).min(1).describe('Bootstrap brokers (host:port). With Kafka configured, `seam run` runs the roles on it; without, embedded.'),
    clientId: z.string().min(1).default('seam').describe('Kafka client id prefix (the role or collector is appended).'),
    tls: KafkaTls.optional(),
    sasl: KafkaSasl.optional(),
    connectionTimeoutMs: z.number().int().positive().default(10_000).describe('Timeout of a TCP/TLS connection to a broker.'),
    authenticationTimeoutMs: z.number().int().positive().default(10_000).describe('Timeout of the SASL handshake.'),
    topicPrefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, underscores and hyphens').default('').describe(
        'Prefix of every topic (roles and collectors alike): <prefix>seam.raw.<source>, <prefix>seam.events, …, and the collectors\' <prefix>seam.checkpoints and <prefix>seam.collect.leases. Until issue 13 the checkpoint and lease topics were not prefixed: a deployment with a prefix keeps its collectors\' positions across the upgrade by naming the old topics (collect.checkpoint.topic: seam.checkpoints; ownership.lease.topic: seam.collect.leases), ADR 0016.',
      ),
    groupPrefix: z.string().default('').describe('Prefix of every consumer group id: the roles\' own (<prefix>seam-<role>) and the short-lived groups Seam reads topics once with (<prefix>seam-rebuild-*, <prefix>seam-reader-*, <prefix>seam-lease-*; deploy/iam/README.md).'),
    replicationFactor: z.number().int().min(1).default(1).describe('Replication factor of topics Seam creates: 1 on a single local broker, 3 in production (MSK).'),
    partitions: z
      .strictObject({
        raw: z.number().int().positive().default(6).describe('Partitions of seam.raw.<source>, read by the roles and the collectors alike (whichever starts first creates the topics; collect.rawTopicPartitions is its deprecated twin).'),
        events: z.number().int().positive().default(6).describe('Partitions of seam.events.'),
        signals: z.number().int().positive().default(3).describe('Partitions of seam.signals (and seam.identity, which must match).'),
        alerts: z.number().int().positive().default(3).describe('Partitions of seam.alerts.'),
        dlq: z.number().int().positive().default(1).describe('Partitions of seam.dlq (roles and collectors).'),
      })
      .prefault({})
      .describe('Partitions of the topics Seam creates when they are missing (existing topics are left as they are).'),
    consumer: z
      .strictObject({
        maxBytesPerPartition: z.number().int().positive().default(1024 * 1024).describe('Most bytes one fetch returns per partition.'),
        maxBytes: z.number().int().positive().default(10 * 1024 * 1024).describe('Most bytes one fetch returns.'),
        minBytes: z.number().int().min(1).default(1).describe('The broker waits for this many bytes (or maxWaitTimeMs) before answering a fetch.'),
        maxWaitTimeMs: z.number().int().positive().default(5_000).describe('Longest a fetch waits for minBytes.'),
        stallMs: z
          .number()
          .int()
          .min(0)
          .default(120_000)
          .describe(
            'A partition a member owns that has records to read and is not fetched for this long (kafkajs can hold a partition without fetching it) restarts the member, which rejoins its group; logged as an error and counted in seam_consumer_stall_restarts_total. 0 turns the check off. kafkajs bus only.',
          ),
      })
      .prefault({})
      .describe('Consumer fetch sizes of the roles.'),
  })
  .superRefine((k, ctx) => {
    if (k.sasl?.mechanism === 'aws-msk-iam' && (k.tls === undefined || !k.tls.enabled)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'aws-msk-iam auth needs TLS (MSK IAM listeners are TLS only): add `tls: {}`' });
    }
    if (k.sasl?.mechanism === 'plain' && (k.tls === undefined || !k.tls.enabled)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'SASL/PLAIN sends the password in clear: it needs TLS (`tls: {}`)' });
    }
  })
  .describe('Kafka: where the roles and collectors meet.');
export type KafkaConfig = z.infer<typeof KafkaConfig>;

export const RulesConfig = z
  .strictObject({
    paths: z.array(z.string().min(1)).min(1).default(['detections']).describe('Rule files or folders (Sigma rules and correlations; symlinked folders are followed). Relative to the folder of seam.yml. Missing ones are skipped with a warning, unless none exists; one that exists but yields no rule is an error (SEAM_ERR_RULES_EMPTY).'),
    placeholdersFile: z.string().min(1).optional().describe('YAML map of rule placeholder values (%name% → list), e.g. deploy/config/placeholders.yml; relative to the folder of seam.yml.'),
    placeholders: z.record(z.string(), z.array(z.string())).optional().describe('Placeholder values inline; merged over placeholdersFile.'),
    overrides: z
      .array(
        z
          .strictObject({
            rule: z.string().min(1).describe('The id or name of a loaded Sigma rule or correlation.'),
            disabled: z.boolean().optional().describe('true: the rule raises no alert and feeds no correlation (a correlation that uses it is disabled too, and said so); a disabled correlation no longer withholds its rules\' alerts.'),
            level: z.enum(['informational', 'low', 'medium', 'high', 'critical']).optional().describe('The level its alerts carry at this site.'),
            condition: z
              .strictObject({ gt: z.number().optional(), gte: z.number().optional(), lt: z.number().optional(), lte: z.number().optional(), eq: z.number().optional(), neq: z.number().optional() })
              .refine((c) => Object.keys(c).length > 0, 'give at least one of gt, gte, lt, lte, eq, neq')
              .optional()
              .describe('A correlation\'s threshold, e.g. { gte: 10 }: replaces the comparisons of its condition (condition.field is kept). Not for Sigma rules.'),
          })
          .refine((o) => o.disabled !== undefined || o.level !== undefined || o.condition !== undefined, 'an override needs disabled, level or condition'),
      )
      .optional()
      .superRefine((xs, ctx) => {
        const seen = new Set<string>();
        for (const [i, o] of (xs ?? []).entries()) {
          if (seen.has(o.rule)) ctx.addIssue({ code: 'custom', path: [i, 'rule'], message: `a second override of '${o.rule}': give one entry per rule` });
          seen.add(o.rule);
        }
      })
      .describe('Site overrides of pack rules and correlations, applied at every load (replay, run and the roles, hunt, dlq replay, rules lint, coverage; rules test only with an explicit --config, where it reports the cases an override changes) and each said in one line: `[{ rule: ID_OR_NAME, disabled: true }, { rule: X, level: low }, { rule: CORRELATION, condition: { gte: 10 } }]`. One naming no loaded rule is a SEAM_ERR_RULE_REFERENCE warning. Leaves the rule files as shipped, so a pack update keeps them (docs/writing-rules.md, Tuning a rule you do not own).'),
    allowedLatenessMs: z.number().int().min(0).optional().describe('How late evidence may reach the correlate stage and still be handled in event-time order (ADR 0009; default 60000).'),
    driftCheckUsers: z
      .array(z.string().min(1))
      .default([...DEFAULT_DRIFT_CHECK_USERS])
      .describe(
        'Kubernetes usernames (`user.username` in the audit log) whose server-side dry runs are GitOps drift checks (ADR 0047): Flux and Argo CD dry-run apply every object they manage on every reconcile. A Sigma rule matching such a dry run raises no alert and feeds no correlation (the event is kept and indexed, `seam.dry_run: true`); their real writes, and everyone else\'s dry runs, alert at the rule\'s level. The default names Flux\'s and Argo CD\'s service accounts in their default namespaces (flux-system, argocd; kube-system:argocd-manager for a cluster a central Argo CD manages): installed elsewhere, list yours (system:serviceaccount:NAMESPACE:NAME, or the username an access entry or aws-auth gives a remote Argo CD\'s IAM role; native.gitOpsUsers names the controllers for another purpose). [] alerts on every dry run at its rule\'s level.',
      ),
  })
  .describe('Detection rules.');

export const MetricsConfig = z
  .strictObject({
    addr: z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        const problem = listenAddressProblem(v);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('host:port, :port or a port (0: a free one) of the /metrics, /healthz and /readyz listener of `seam run` on Kafka and `seam collect`; off when unset or `off` (docs/metrics.md). Checked when the file is read (`seam config check` reports a wrong one).'),
  })
  .describe('Metrics and health listener.');

export const SeamConfig = z
  .strictObject({
    kafka: KafkaConfig.optional(),
    opensearch: OpenSearchSinkConfig.prefault({}),
    ism: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Install the retention policies in `seam setup opensearch` when the ISM plugin exists (Amazon OpenSearch Service has it; Serverless does not), and age out the identity and incidents indices. false: Seam deletes nothing.'),
        retentionDays: z.number().int().positive().optional().describe('Days before the ISM policy deletes event indices (default: the policy file\'s).'),
        alertsRetentionDays: z
          .number()
          .int()
          .positive()
          .default(400)
          .describe('Days before the ISM policy `<prefix>-alerts-retention` deletes daily alert indices (`<prefix>-alerts-YYYY.MM.DD`; not `-alerts-all`). 400: a year of alerts for the yearly review and for incidents found late, plus a month of slack.'),
        incidentsRetentionDays: z
          .number()
          .int()
          .positive()
          .default(400)
          .describe('Days after which `seam setup opensearch` deletes an identity\'s incidents from `<prefix>-incidents` (a single index ISM would delete whole: a delete-by-query instead, with or without ISM): the whole series (its episodes and context document) once Seam wrote none of them (`updated_at`) for this long; part of a series is never deleted, or the next alert would open its first incident again. 400, as the alerts they point to. Runs each time setup runs: schedule it (e.g. daily; the Helm chart\'s `setup.cronJob`) for retention to keep up.'),
        identityRetentionDays: z
          .number()
          .int()
          .positive()
          .default(400)
          .describe('Days after a version of an identity edge closed (`valid_to`: an expired credential, a replaced mapping, a deleted binding) and was last written by Seam (`indexed_at`) before `seam setup opensearch` deletes it from `<prefix>-identity` (a delete-by-query, with or without ISM; each run, so schedule it: the Helm chart\'s `setup.cronJob`). Counted from the later of the two, so versions of old logs replayed today (the 2024 demo, last year\'s CloudTrail for an investigation) stay as long as the alerts and events written with them; a version written before `indexed_at` existed ages by `valid_to` alone. Open versions (no `valid_to`) are the graph\'s current state and are never aged out: the index has no last-seen time (a version is written when it opens and when it closes, not when it is used). 400, as the alerts whose chains they explain.'),
      })
      .prefault({})
      .describe('Retention that `seam setup opensearch` manages: ISM policies for the daily indices, delete-by-query age-out for the identity and incidents indices (`enabled: false` or `--no-ism`: neither).'),
    rules: RulesConfig.prefault({}),
    identity: IdentityGraphConfig.prefault({}).describe('Identity graph: clusters (egress CIDRs, OIDC issuers) and windows.'),
    native: NativeConfig.prefault({}).describe('Native cross-plane detections.'),
    normalize: z
      .strictObject({
        maxRecordBytes: z
          .number()
          .int()
          .min(1024)
          .optional()
          .describe('Largest raw record the normalize role on Kafka accepts, in bytes (default 1048576, as `seam replay --max-record-bytes`); a larger one is dead-lettered (SEAM_ERR_INPUT_OVERSIZED). A raw message holding a batch document (ADR 0038) may be up to 16 times this, each record within it.'),
      })
      .prefault({})
      .describe('Normalize role (Kafka).'),
    correlate: z
      .strictObject({
        idleMs: z.number().int().min(0).optional().describe('A raw partition that stage 1 has caught up on and that received no record for this long (ms, default 10000) no longer holds the correlate role\'s watermark at its progress, but at the wall clock less the delay its last records came with (maxSourceDelayMs; ADR 0009).'),
        pollMs: z.number().int().min(0).optional().describe('How often the correlate role looks at stage 1\'s progress.'),
        maxSourceDelayMs: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe(
            'An idle raw partition (idleMs) holds the correlate role\'s watermark at the wall clock less the delay its last records came with (from event time to stage 1), when that delay is at most this (ms, default 900000): a source that delivers minutes late and pauses between deliveries resumes that late, and a busy plane\'s signals wait for it instead of being handed on before its records (ADR 0009, 5c). A longer delay (a backfill of old records) lets it stop holding the watermark back, as 0 does for every idle partition.',
          ),
        sourceDelayMs: z
          .partialRecord(SourceType, z.number().int().min(0))
          .optional()
          .describe(
            'Delivery delay (ms) to expect of each source (k8s_audit, cloudtrail, guardduty, runtime) before it has delivered anything since the correlate role started, e.g. `{ cloudtrail: 900000 }`: while none of its raw partitions has records, or none has a known delay, they hold the watermark at the wall clock less this, so a busy plane\'s signals wait for its first records instead of being handed on before them (ADR 0009, 5c). From its first records on, the delay they came with is used instead. A source not named here does not hold the watermark until it delivers (a plane not deployed must not stop the others). Default: `{ cloudtrail: 900000 }` (AWS documents CloudTrail\'s delivery as within about 5 minutes on average, not guaranteed; 15 min is the upper end) when this seam.yml\'s `collect.sources` read a CloudTrail log group, else none; `{}` turns it off. The Helm chart writes the same default into its roles\' seam.yml (which has no `collect`) when its `collect.sources` read CloudTrail.',
          ),
        maxRebuildMs: z
          .number()
          .int()
          .min(10_000)
          .optional()
          .describe(
            'Longest a correlate rebuild\'s read of history may take, in ms (default 1800000). A rebuild (each start, each rebalance) re-reads every owned `seam.signals` partition\'s rebuild window (24 h with the shipped rules) and its `seam.identity`; each read may take a minute plus 2 ms per message to read, at most this. A read that does not finish in time fails the batch, which is redelivered and rebuilds again (docs/metrics.md, Restarts and rebuilds).',
          ),
      })
      .prefault({})
      .describe('Correlate role timing (ADR 0009).'),
    incidents: z
      .strictObject({
        closeAfterMs: z.number().int().positive().default(86_400_000).describe('An incident closes once its identity has had no alert for this long in event time; the next alert opens a new incident (ADR 0020).'),
      })
      .prefault({})
      .describe('Incident lifecycle (ADR 0020).'),
    metrics: MetricsConfig.prefault({}),
    delivery: z.string().min(1).optional().describe('Alert delivery config file (docs/alert-delivery.md), as `seam run --delivery`.'),
    cluster: z.string().min(1).optional().describe('EKS cluster to attribute records to when they do not say (embedded runs, replay, identity explain).'),
    sensor: SensorFileConfig.optional(),
    collect: CollectConfig.optional().describe('Collectors `seam collect` runs (the collectors config, docs below); they write to kafka.topicPrefix\'s topics.'),
  })
  .describe('seam.yml: the configuration of every Seam command.');
export type SeamConfig = z.infer<typeof SeamConfig>;
export type SeamConfigInput = z.input<typeof SeamConfig>;
