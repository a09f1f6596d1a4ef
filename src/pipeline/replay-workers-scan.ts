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
import { closingQuote } from '../core/json-text.ts';
import { extraAccount } from '../core/normalize/principal.ts';
import { arnAccount, isoTime } from '../core/normalize/util.ts';
import { obj, str } from '../core/values.ts';
import { isoMs } from '../core/time.ts';
import { UNKNOWN_CLUSTER } from '../identity/keys.ts';
import type { RecordTenant } from './replay-workers-route.ts';

export interface QuickRecord {
  tenant: RecordTenant;
  t: number;
  id: string;
}

const RUNTIME_KINDS = new Set(['process', 'network', 'file', 'dns']);
/** normalize's limit on the whole record; a top-level value is one level in. */
const MAX_VALUE_DEPTH = 127;

/** The top-level values of one record, parsed when asked. */
class Top {
  private readonly at = new Map<string, number>();
  private readonly end = new Map<string, number>();
  private readonly parsed = new Map<string, unknown>();

  constructor(private readonly text: string) {}

  set(key: string, start: number, end: number): void {
    this.at.set(key, start);
    this.end.set(key, end);
    this.parsed.delete(key);
  }

  has(key: string): boolean {
    return this.at.has(key);
  }

  /** Is the value a JSON object (without parsing it)? */
  isObject(key: string): boolean {
    const i = this.at.get(key);
    return i !== undefined && this.text.charCodeAt(i) === 0x7b;
  }

  get(key: string): unknown {
    if (this.parsed.has(key)) return this.parsed.get(key);
    const i = this.at.get(key);
    const v = i === undefined ? undefined : (JSON.parse(this.text.slice(i, this.end.get(key))) as unknown);
    this.parsed.set(key, v);
    return v;
  }
}

/** End (index after the closing quote) of the string starting at `i`, or -1. */
function stringEnd(text: string, i: number): number {
  const j = closingQuote(text, i);
  return j < 0 ? -1 : j + 1;
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** End of the value starting at `i` (object, array, string or scalar), or -1 when it is too deep or cut short. */
function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x22) {
        j = stringEnd(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) {
        if (++depth > MAX_VALUE_DEPTH) return -1;
      } else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
    j++;
  }
  return j === i ? -1 : j;
}

/** The top-level values of a JSON object; undefined when the text is not a plain object. */
function topLevel(text: string): Top | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  const out = new Top(text);
  let i = 1;
  const n = text.length;
  for (;;) {
    while (i < n && isWs(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x7d) break;
    if (text.charCodeAt(i) !== 0x22) return undefined;
    const ke = stringEnd(text, i);
    if (ke < 0) return undefined;
    const key = text.slice(i + 1, ke - 1);
    if (key.includes('\\')) return undefined;
    i = ke;
    while (i < n && isWs(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    while (i < n && isWs(text.charCodeAt(i))) i++;
    const ve = valueEnd(text, i);
    if (ve < 0) return undefined;
    out.set(key, i, ve);
    i = ve;
    while (i < n && isWs(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x2c) i++;
    else if (c === 0x7d) break;
    else return undefined;
  }
  for (i++; i < n; i++) if (!isWs(text.charCodeAt(i))) return undefined;
  return out;
}

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
    const r = topLevel(text);
    return r === undefined ? undefined : quick(r, meta);
  } catch {
    return undefined;
  }
}

function quick(r: Top, meta: RawMeta): QuickRecord | undefined {
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
    const params = eventSource === 'eks.amazonaws.com' ? obj(r.get('requestParameters')) : undefined;
    const cluster = params === undefined ? meta.cluster : (str(params.clusterName) ?? str(params.name) ?? meta.cluster);
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
