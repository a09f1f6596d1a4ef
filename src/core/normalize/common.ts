import type { Ingest, RawMeta, SeamMeta, SourceType } from '../envelope.ts';
import { SeamError, type ErrorCode } from '../errors.ts';
import { scrub } from './redact.ts';
import { EPOCH_MS_MIN } from './util.ts';

/** Placeholder until normalize sets the real list (one array per event, not two). */
const NOT_YET: string[] = [];

/** A fresh `seam` object with every field present (one hidden class for all events: faster to build and read). */
export function newSeam(source: SourceType, id: string, meta: RawMeta): SeamMeta {
  const ingest: Ingest = {
    collector: meta.collector,
    received_at: meta.receivedAt,
    truncated: meta.truncated === true,
    redacted: NOT_YET,
    origin: meta.origin,
  };
  return {
    id,
    source,
    format: undefined,
    account: meta.account,
    region: meta.region,
    // A collector's (or --cluster's) cluster is the cluster of its Kubernetes audit and runtime records only:
    // CloudTrail and GuardDuty are account-wide (an AMI share, an RDS delete is no cluster's). CloudTrail takes a
    // cluster from EKS API parameters, the identity graph from the workload or node credentials (SOC review M9).
    cluster: source === 'k8s_audit' || source === 'runtime' ? meta.cluster : undefined,
    principal: undefined,
    chain: undefined,
    source_ip: undefined,
    user_agent: undefined,
    action: undefined,
    outcome: undefined,
    resource: undefined,
    dry_run: undefined,
    time_skew: undefined,
    time_missing: undefined,
    ingest,
  };
}

/** A schema error naming the source and the field that failed. */
export function fieldError(source: SourceType, field: string, problem: string, code: ErrorCode = 'SEAM_ERR_NORMALIZE_SCHEMA'): SeamError {
  return new SeamError(code, `${source} record: ${field} ${problem}`, { details: { source, field } });
}

/** How much of an unreadable time a dead letter quotes. */
const TIME_QUOTE_MAX = 40;

/**
 * SEAM_ERR_NORMALIZE_TIMESTAMP for a time field that is there but unreadable (isoTime gave undefined): the reason
 * and `details.value` quote the value (cut to 40 characters, scrubbed), so a dead letter shows what the exporter
 * wrote. A number below EPOCH_MS_MIN is named as what it most likely is, epoch seconds. `value` undefined or null:
 * the field is missing, and `missing` says so.
 */
export function timeError(source: SourceType, field: string, value: unknown, missing = 'is missing'): SeamError {
  if (value === undefined || value === null) return fieldError(source, field, missing, 'SEAM_ERR_NORMALIZE_TIMESTAMP');
  let shown = scrub(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
  if (shown.length > TIME_QUOTE_MAX) shown = shown.slice(0, TIME_QUOTE_MAX) + '…';
  let problem = 'is not ISO 8601';
  if (typeof value === 'number') {
    problem = value >= 0 && value < EPOCH_MS_MIN ? 'looks like epoch seconds (Seam reads a number as epoch milliseconds)' : 'is not a usable epoch-milliseconds time';
  }
  const quoted = typeof value === 'string' ? `'${shown}'` : shown;
  return new SeamError('SEAM_ERR_NORMALIZE_TIMESTAMP', `${source} record: ${field} ${quoted} ${problem}`, { details: { source, field, value: shown } });
}

const IP_RE = /^[0-9a-fA-F:.]+$/;

/** Only IP-looking strings become `seam.source_ip` (CloudTrail also writes service names there, e.g. eks.amazonaws.com). */
export function ipOrUndefined(v: string | undefined): string | undefined {
  return v !== undefined && v.length <= 45 && IP_RE.test(v) ? v : undefined;
}

/** Joins the defined parts with '/', e.g. namespace/resource/name. */
export function joinPath(a: string | undefined, b: string | undefined, c: string | undefined): string | undefined {
  let s = '';
  if (a !== undefined) s = a;
  if (b !== undefined) s = s === '' ? b : s + '/' + b;
  if (c !== undefined) s = s === '' ? c : s + '/' + c;
  return s === '' ? undefined : s;
}
