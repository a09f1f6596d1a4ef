/**
 * What the main thread of `seam replay --workers N` needs to know of a record in its first pass (ADR
 * 0018): its tenant, its event time and its `seam.id`, without parsing the whole record. The top-level
 * keys are walked (nested values skipped, strings by `indexOf`), and only the few small values that
 * decide the answer are parsed; the answer is what normalization would give, field for field (the
 * mappers in src/core/normalize/). Anything outside the common shapes (GuardDuty, lower-cased CloudTrail,
 * records without an id or time, escaped keys, deep nesting, anything that might not normalize) returns
 * undefined, and the caller normalizes the record fully. `replay-workers-scan.test.ts` holds the two to
 * the same answers over the fixtures, the demo and the bench's events, and each worker compares what the
 * main thread said with what it normalized (a disagreement is counted and reported).
 */
import type { RawMeta } from '../core/envelope.ts';
import { topLevel, type TopLevel } from '../core/json-text.ts';
import { extraAccount } from '../core/normalize/principal.ts';
import { arnAccount, isoTime } from '../core/normalize/util.ts';
import { eksClusterParam } from '../core/normalize/cloudtrail.ts';
import { obj, str } from '../core/values.ts';
import { isoMs } from '../core/time.ts';
import { UNKNOWN_CLUSTER } from '../identity/keys.ts';
import type { RecordTenant } from './replay-workers-route.ts';
import { RUNTIME_KINDS as RUNTIME_KIND_LIST } from '../core/schemas/runtime.ts';

export interface QuickRecord {
  tenant: RecordTenant;
  t: number;
  id: string;
}

const RUNTIME_KINDS = new Set<string>(RUNTIME_KIND_LIST);
/** normalize's limit on the whole record; a top-level value is one level in. */
const MAX_VALUE_DEPTH = 127;

function record(account: string | undefined, cluster: string | undefined, kube: boolean, timestamp: string, id: string, caller?: string): QuickRecord {
  const tenant: RecordTenant = { account, cluster: cluster ?? (kube ? UNKNOWN_CLUSTER : undefined) };
  if (caller !== undefined && caller !== account) tenant.caller = caller;
  return { tenant, t: isoMs(timestamp), id };
}

/** Tenant, event time and id of one record as normalization would give them, or undefined (normalize it). */
export function quickRecord(text: string, meta: RawMeta, maxRecordBytes: number): QuickRecord | undefined {
  // Records near the size limit, with a BOM, a CloudWatch export prefix or leading blanks: the full path.
  if (text.length * 3 > maxRecordBytes) return undefined;
  try {
    const r = topLevel(text, MAX_VALUE_DEPTH);
    return r === undefined ? undefined : quick(r, meta);
  } catch {
    return undefined;
  }
}

function quick(r: TopLevel, meta: RawMeta): QuickRecord | undefined {
  // The format, in detectFormat's order; only the common shapes.
  const apiVersion = r.get('apiVersion');
  if (r.get('kind') === 'Event' && typeof apiVersion === 'string' && apiVersion.startsWith('audit.k8s.io/')) {
    const auditID = str(r.get('auditID'));
    const stage = str(r.get('stage'));
    const user = obj(r.get('user'));
    const timestamp = isoTime(r.get('stageTimestamp')) ?? isoTime(r.get('requestReceivedTimestamp'));
    if (auditID === undefined || stage === undefined || str(r.get('verb')) === undefined || user === undefined || timestamp === undefined) return undefined;
    return record(meta.account ?? extraAccount(obj(user.extra)), meta.cluster, true, timestamp, auditID + ':' + stage);
  }
  if (r.has('eventSource') && r.has('eventName')) {
    const eventSource = str(r.get('eventSource'));
    const timestamp = r.has('eventTime') ? isoTime(r.get('eventTime')) : undefined;
    const id = str(r.get('eventID'));
    if (eventSource === undefined || str(r.get('eventName')) === undefined || timestamp === undefined || id === undefined) return undefined;
    const ui = obj(r.get('userIdentity'));
    const caller = str(ui?.accountId) ?? arnAccount(str(ui?.arn));
    const account = str(r.get('recipientAccountId')) ?? caller ?? meta.account;
    const params = eventSource === 'eks.amazonaws.com' || eventSource === 'eks-auth.amazonaws.com' ? obj(r.get('requestParameters')) : undefined;
    const cluster = params === undefined ? undefined : eksClusterParam(eventSource, params);
    return record(account, cluster, false, timestamp, id, caller);
  }
  if (r.has('eventsource') && r.has('eventname')) return undefined;
  if (r.get('schema') === 'seam.runtime/v1') {
    const kind = str(r.get('kind'));
    const timestamp = isoTime(r.get('time'));
    const id = str(r.get('id'));
    if (kind === undefined || !RUNTIME_KINDS.has(kind) || !r.isObject(kind) || timestamp === undefined || str(r.get('namespace')) === undefined || str(r.get('pod')) === undefined || id === undefined) return undefined;
    return record(str(r.get('account')) ?? meta.account, str(r.get('cluster')) ?? meta.cluster, true, timestamp, id);
  }
  if (r.get('source') === 'aws.guardduty' && r.has('detail')) return undefined;
  if (r.has('rule') && r.has('output') && r.has('priority')) {
    const timestamp = isoTime(r.get('time'));
    const id = str(r.get('uuid'));
    if (str(r.get('rule')) === undefined || timestamp === undefined || id === undefined) return undefined;
    const fields = obj(r.get('output_fields'));
    return record(meta.account, fields === undefined ? meta.cluster : (str(fields['k8smeta.cluster.name']) ?? meta.cluster), true, timestamp, id);
  }
  return undefined;
}
