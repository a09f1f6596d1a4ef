/**
 * One registry of stable error codes. Every error Seam reports carries a `code` from this table,
 * whether it is retriable, and its `cause`. Add codes here, never inline strings elsewhere.
 */
export const ERROR_CODES = {
  // Input: records that cannot be read or understood (dead-lettered, never retried).
  SEAM_ERR_INPUT_JSON: { retriable: false, summary: 'record is not valid JSON' },
  SEAM_ERR_INPUT_TRUNCATED: { retriable: false, summary: 'record is truncated' },
  SEAM_ERR_INPUT_OVERSIZED: { retriable: false, summary: 'record exceeds the size limit' },
  SEAM_ERR_INPUT_UNKNOWN_FORMAT: { retriable: false, summary: 'record matches no known source format' },
  SEAM_ERR_INPUT_NOT_OBJECT: { retriable: false, summary: 'record is not a JSON object' },
  SEAM_ERR_INPUT_FILE: { retriable: false, summary: 'input file cannot be read' },
  SEAM_ERR_INPUT_UNSUPPORTED: { retriable: false, summary: 'input file is in a format Seam does not read (a ZIP archive, Parquet, bzip2, zstd): refused whole, one dead letter' },
  SEAM_ERR_INPUT_DEPTH: { retriable: false, summary: 'record nests objects or arrays deeper than the limit' },
  SEAM_ERR_INPUT_COMPRESSION: { retriable: false, summary: 'record is gzip-compressed and does not inflate' },
  // A stage threw on one record: the record is dead-lettered, never retried (only transport and sinks are).
  SEAM_ERR_STAGE_THREW: { retriable: false, summary: 'a pipeline stage threw on this record' },
  // Normalization: the record was recognised but fails its source's schema.
  SEAM_ERR_NORMALIZE_SCHEMA: { retriable: false, summary: 'record fails its source schema' },
  SEAM_ERR_NORMALIZE_TIMESTAMP: { retriable: false, summary: 'record has no usable event time' },
  // Rules: loading and evaluation.
  SEAM_ERR_RULE_YAML: { retriable: false, summary: 'rule file is not valid YAML' },
  SEAM_ERR_RULE_SCHEMA: { retriable: false, summary: 'rule does not follow the Sigma specification' },
  SEAM_ERR_RULE_CONDITION: { retriable: false, summary: 'rule condition cannot be parsed' },
  SEAM_ERR_RULE_MODIFIER: { retriable: false, summary: 'rule uses an unknown or invalid modifier' },
  SEAM_ERR_RULE_REFERENCE: { retriable: false, summary: 'rule refers to a rule or identifier that does not exist' },
  SEAM_ERR_RULE_EVAL: { retriable: false, summary: 'rule evaluation failed on an event' },
  SEAM_ERR_RULE_FILE: { retriable: false, summary: 'rule file or folder cannot be read' },
  SEAM_ERR_RULES_EMPTY: { retriable: false, summary: 'a rules path yields no rules' },
  SEAM_ERR_RULE_DUPLICATE: { retriable: false, summary: 'rule id or name is used by more than one rule' },
  SEAM_ERR_RULE_PLACEHOLDER: { retriable: false, summary: 'rule uses a placeholder that has no configured values' },
  SEAM_ERR_RULE_REGEX: { retriable: false, summary: 'rule regular expression cannot be compiled' },
  SEAM_ERR_RULE_SUPPRESSED: { retriable: false, summary: 'a correlation or filter silences or narrows a rule (reported so it is never silent)' },
  SEAM_ERR_RULE_LIMIT: { retriable: false, summary: 'a rule exceeds a resource bound (timespan, group cardinality, placeholder expansion)' },
  SEAM_ERR_RULE_VALUE: { retriable: false, summary: 'rule value does not suit its field modifiers' },
  SEAM_ERR_RULE_LOGSOURCE: { retriable: false, summary: 'rule logsource names a Seam product but maps to no source Seam collects, or misspells one: the rule never runs' },
  SEAM_ERR_RULE_FIELD: { retriable: false, summary: 'rule field differs only in letter case from a field Seam events carry (field names are case-sensitive): it never matches' },
  SEAM_ERR_RULE_NAME: { retriable: false, summary: "rule's name is not its file's name (a warning): correlations, filters and overrides refer to rules by name, people find them by file" },
  SEAM_ERR_RULE_TRIAGE: { retriable: false, summary: 'rule at level medium or above has no Triage: paragraph in its description: its alerts reach the analyst without triage text' },
  // Configuration and services.
  SEAM_ERR_CONFIG_INVALID: { retriable: false, summary: 'configuration is invalid' },
  SEAM_ERR_AWS_RANGES_INVALID: { retriable: false, summary: "the AWS IP ranges file (native.awsIpRangesFile, seam networks import-aws-ranges) cannot be read or is not AWS's ip-ranges.json (an HTML page, a truncated download, another file)" },
  SEAM_ERR_ADDRESS_LIST_INVALID: { retriable: false, summary: 'an address list (native.addressLists) cannot be read or is not a list of addresses and CIDRs (an HTML page, a truncated download, another file)' },
  SEAM_ERR_SERVICE_MISSING_TOOL: { retriable: false, summary: 'a required tool is not installed' },
  SEAM_ERR_SERVICE_START: { retriable: true, summary: 'a local service failed to start' },
  SEAM_ERR_BUS_PRODUCE: { retriable: true, summary: 'producing to the bus failed' },
  SEAM_ERR_BUS_CONNECT: { retriable: true, summary: 'the Kafka brokers cannot be reached, or refuse the connection (TLS, SASL): nothing was consumed or produced' },
  SEAM_ERR_BUS_TOPIC_NOT_READY: { retriable: true, summary: "a topic exists on the Kafka brokers but their metadata names no partitions for it yet (created a moment ago): looked at again later" },
  SEAM_ERR_BUS_TOPIC: { retriable: false, summary: 'a topic a command reads does not exist on the Kafka brokers (wrong topic prefix, or nothing has created it yet)' },
  SEAM_ERR_SINK_WRITE: { retriable: true, summary: 'writing to a sink failed' },
  // Embedded mode's identity state file (`seam run --resume`, ADR 0044).
  SEAM_ERR_STATE_LOAD: { retriable: false, summary: 'the embedded identity state file cannot be read or is not a state file Seam wrote' },
  SEAM_ERR_STATE_SAVE: { retriable: true, summary: 'saving the embedded identity state file failed' },
  SEAM_ERR_STATE_LOCKED: { retriable: true, summary: 'another seam run --resume holds the state directory lock' },
  // Identity seeds (seam.yml identity.seeds, --seed): snapshot files the identity graph starts from.
  SEAM_ERR_SEED: { retriable: false, summary: 'an identity seed file cannot be read, is not a snapshot Seam reads (aws-auth, access entries, Pod Identity associations, a kubectl List), or names no cluster' },
  // OpenSearch sink: per-document outcomes of bulk indexing, and setup.
  SEAM_ERR_SINK_REJECTED: { retriable: false, summary: 'OpenSearch rejected the document (mapping or argument error)' },
  SEAM_ERR_SINK_TOO_LARGE: { retriable: false, summary: 'document is larger than OpenSearch accepts in one request' },
  SEAM_ERR_SINK_SERIALIZE: { retriable: false, summary: 'document cannot be serialized to JSON' },
  SEAM_ERR_SINK_UNAVAILABLE: { retriable: true, summary: 'OpenSearch stayed unreachable or overloaded through every retry' },
  SEAM_ERR_SINK_REQUEST: { retriable: false, summary: 'OpenSearch refused the request (authentication, permission or malformed request)' },
  SEAM_ERR_SINK_SETUP: { retriable: false, summary: 'installing OpenSearch templates or policies failed' },
  // Collectors (src/sources/): AWS APIs, checkpoints, the sidecar ingest endpoint, the bus.
  SEAM_ERR_SOURCE_THROTTLED: { retriable: true, summary: 'the AWS API throttled the collector or answered 5xx' },
  SEAM_ERR_SOURCE_API: { retriable: false, summary: 'the AWS API refused the request (permission, missing log group or detector)' },
  SEAM_ERR_SOURCE_START: { retriable: true, summary: 'a collector could not start (list detectors, create its writers, read its checkpoints); it is tried again with back-off' },
  SEAM_ERR_CHECKPOINT_LOAD: { retriable: true, summary: 'reading a collector checkpoint failed' },
  SEAM_ERR_CHECKPOINT_SAVE: { retriable: true, summary: 'saving a collector checkpoint failed' },
  SEAM_ERR_CHECKPOINT_FENCED: { retriable: false, summary: 'another collector instance took over this checkpoint (fenced)' },
  SEAM_ERR_CHECKPOINT_TOO_LARGE: { retriable: false, summary: "a collector checkpoint is over the checkpoint topic's max.message.bytes (lower the unit's lookbackMs)" },
  SEAM_ERR_INGEST_UNAUTHENTICATED: { retriable: false, summary: 'ingest request has no valid bearer token' },
  SEAM_ERR_INGEST_FORBIDDEN: { retriable: false, summary: 'ingest token may not send records for this cluster' },
  SEAM_ERR_INGEST_BODY_TOO_LARGE: { retriable: false, summary: 'ingest request body exceeds the size limit' },
  SEAM_ERR_BUS_CONSUME: { retriable: true, summary: 'consuming from the bus failed' },
  // Alert delivery (src/sinks/: webhook, Slack, SNS, PagerDuty).
  SEAM_ERR_DELIVERY_FAILED: { retriable: true, summary: 'an alert output still failed after its last retry (dead-lettered)' },
  SEAM_ERR_DELIVERY_REJECTED: { retriable: false, summary: 'an alert output refused the notification (4xx other than 408/429)' },
} as const satisfies Record<string, { retriable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SeamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  /** Structured context (file, line, column, path, stage...) that a user can act on. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeamError';
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retriable: this.retriable, ...this.details };
  }
}

/** What a stage reports when it threw on one record's content: the record's error, dead-lettered. */
export function stageThrew(stage: string, e: unknown, details: Record<string, unknown> = {}): SeamError {
  if (e instanceof SeamError && !e.retriable) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new SeamError('SEAM_ERR_STAGE_THREW', `${stage} threw on this record: ${msg}`, { cause: e, details: { stage, ...details } });
}

export function isSeamError(e: unknown): e is SeamError {
  return e instanceof SeamError;
}

/** A value or a typed error: stream stages return this instead of throwing. */
export type Result<T, E = SeamError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
