import { createHash, timingSafeEqual } from 'node:crypto';
import { detectFormat } from '../../core/normalize/detect.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { jsonDepthExceeds } from '../../core/normalize/normalize.ts';
import type { SidecarToken } from './config.ts';

/** Pure parts of the ingest endpoint: token check and cutting a body into records. */

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/**
 * Finds the token whose SHA-256 matches. Every configured hash is compared (in constant time), so
 * the answer time does not tell how close a guess was or which entry matched.
 */
export function authenticate(authorization: string | undefined, tokens: readonly SidecarToken[]): SidecarToken | 'missing' | 'invalid' {
  if (authorization === undefined) return 'missing';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (m === null) return 'missing';
  const digest = createHash('sha256').update(m[1]!).digest();
  let found: SidecarToken | undefined;
  for (const t of tokens) {
    const ok = timingSafeEqual(digest, Buffer.from(t.sha256, 'hex'));
    if (ok && found === undefined) found = t;
  }
  return found ?? 'invalid';
}

export interface ParsedLine {
  line: number;
  text: string;
  record: Record<string, unknown>;
}
export interface RejectedLine {
  line: number;
  code: ErrorCode;
  reason: string;
}

export interface ParseOptions {
  maxLineBytes: number;
  /** Deepest nesting a record (or a JSON array body) may have; deeper is refused before parsing. */
  maxRecordDepth: number;
  /** The token that sent the body: what it is bound to is authoritative (see `identityProblem`). */
  token: Pick<SidecarToken, 'id' | 'cluster' | 'account' | 'workload' | 'serviceAccount' | 'trust'>;
}

/** Lines handled between two yields to the event loop, so one large body cannot block it. */
const CHUNK_LINES = 2000;

/**
 * Cuts a body into records: NDJSON (one object per line; blank lines skipped), or one JSON object or
 * array as Falco's http_output and falcosidekick's webhook POST it. Only runtime records are
 * accepted (Falco alerts, seam.runtime/v1 events), and only those the token may speak for.
 */
export function parseBody(body: string, opts: ParseOptions): { accepted: ParsedLine[]; rejected: RejectedLine[] } {
  const accepted: ParsedLine[] = [];
  const rejected: RejectedLine[] = [];
  const lines = cutBody(body, opts, rejected);
  for (const l of lines) checkLine(l.line, l.text, opts, accepted, rejected);
  return { accepted, rejected };
}

/** `parseBody`, yielding to the event loop every few thousand lines. */
export async function parseBodyChunked(body: string, opts: ParseOptions): Promise<{ accepted: ParsedLine[]; rejected: RejectedLine[] }> {
  const accepted: ParsedLine[] = [];
  const rejected: RejectedLine[] = [];
  const lines = cutBody(body, opts, rejected);
  for (let i = 0; i < lines.length; i++) {
    if (i > 0 && i % CHUNK_LINES === 0) await new Promise((r) => setImmediate(r));
    checkLine(lines[i]!.line, lines[i]!.text, opts, accepted, rejected);
  }
  return { accepted, rejected };
}

function cutBody(body: string, opts: ParseOptions, rejected: RejectedLine[]): { line: number; text: string }[] {
  const trimmed = body.trim();
  if (trimmed.startsWith('[')) {
    if (jsonDepthExceeds(trimmed, opts.maxRecordDepth + 1)) {
      rejected.push({ line: 1, code: 'SEAM_ERR_INPUT_DEPTH', reason: `body nests more than ${opts.maxRecordDepth} levels deep` });
      return [];
    }
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      rejected.push({ line: 1, code: 'SEAM_ERR_INPUT_JSON', reason: `body is not a valid JSON array: ${(e as Error).message}` });
      return [];
    }
    return (Array.isArray(arr) ? arr : []).map((v, i) => ({ line: i + 1, text: JSON.stringify(v) ?? 'null' }));
  }
  const lines: { line: number; text: string }[] = [];
  const parts = body.split('\n');
  // A single pretty-printed object (several lines, one value) is one record.
  if (parts.length > 1 && trimmed.startsWith('{') && !parts[0]!.trim().endsWith('}')) {
    lines.push({ line: 1, text: trimmed });
  } else {
    parts.forEach((p, i) => {
      const t = p.endsWith('\r') ? p.slice(0, -1) : p;
      if (t.trim() !== '') lines.push({ line: i + 1, text: t });
    });
  }
  return lines;
}

function checkLine(line: number, text: string, opts: ParseOptions, accepted: ParsedLine[], rejected: RejectedLine[]): void {
  if (text.length > opts.maxLineBytes || Buffer.byteLength(text, 'utf8') > opts.maxLineBytes) {
    rejected.push({ line, code: 'SEAM_ERR_INPUT_OVERSIZED', reason: `line is over the ${opts.maxLineBytes}-byte limit` });
    return;
  }
  const lead = text.trimStart().charCodeAt(0);
  if (lead !== 0x7b /* { */) {
    // Cheap refusal before JSON.parse: a record is an object (a body of junk lines costs little).
    const t = text.trim();
    const value = lead === 0x5b || lead === 0x22 || (lead >= 0x30 && lead <= 0x39) || lead === 0x2d || t === 'null' || t === 'true' || t === 'false';
    rejected.push(value ? { line, code: 'SEAM_ERR_INPUT_NOT_OBJECT', reason: 'a record must be a JSON object' } : { line, code: 'SEAM_ERR_INPUT_JSON', reason: 'not valid JSON (a record is a JSON object)' });
    return;
  }
  if (jsonDepthExceeds(text, opts.maxRecordDepth)) {
    rejected.push({ line, code: 'SEAM_ERR_INPUT_DEPTH', reason: `record nests more than ${opts.maxRecordDepth} levels deep` });
    return;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    rejected.push({ line, code: 'SEAM_ERR_INPUT_JSON', reason: `not valid JSON: ${(e as Error).message}` });
    return;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    rejected.push({ line, code: 'SEAM_ERR_INPUT_NOT_OBJECT', reason: 'a record must be a JSON object' });
    return;
  }
  const record = v as Record<string, unknown>;
  const format = detectFormat(record);
  if (format !== 'runtime_falco' && format !== 'runtime_native') {
    rejected.push({ line, code: 'SEAM_ERR_INPUT_UNKNOWN_FORMAT', reason: 'not a Falco alert (rule, output, priority) nor a seam.runtime/v1 event' });
    return;
  }
  const problem = identityProblem(record, opts.token);
  if (problem !== undefined) {
    rejected.push({ line, code: 'SEAM_ERR_INGEST_FORBIDDEN', reason: problem });
    return;
  }
  accepted.push({ line, text, record });
}

/** What a runtime record says about who and where it is: top-level (native) or Falco output fields. */
export function claimedIdentity(record: Record<string, unknown>): { cluster?: unknown; account?: unknown; namespace?: unknown; pod?: unknown; serviceAccount?: unknown } {
  const f = (typeof record.output_fields === 'object' && record.output_fields !== null ? record.output_fields : {}) as Record<string, unknown>;
  return {
    cluster: record.cluster ?? f['k8smeta.cluster.name'] ?? f['k8s.cluster.name'],
    account: record.account,
    namespace: record.namespace ?? f['k8s.ns.name'],
    pod: record.pod ?? f['k8s.pod.name'],
    serviceAccount: record.service_account ?? f['k8smeta.pod.sa'] ?? f['k8s.pod.sa'],
  };
}

/**
 * Why a token may not send this record, or undefined when it may. What the token is bound to is
 * authoritative: a record claiming another cluster, account, namespace, pod or service account is
 * refused (never rewritten). A token with `trust: any` and no binding may send anything.
 */
export function identityProblem(record: Record<string, unknown>, token: ParseOptions['token']): string | undefined {
  const c = claimedIdentity(record);
  const as = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v));
  const cluster = as(c.cluster);
  const account = as(c.account);
  const namespace = as(c.namespace);
  const pod = as(c.pod);
  const sa = as(c.serviceAccount);
  if (token.cluster !== undefined && cluster !== undefined && cluster !== token.cluster) return `record names cluster ${cluster} but token ${token.id} is for ${token.cluster}`;
  if (account !== undefined && account !== token.account && !(token.account === undefined && token.trust === 'any')) {
    return token.account === undefined ? `record names account ${account} but token ${token.id} is bound to no account (tokens[].account)` : `record names account ${account} but token ${token.id} is for ${token.account}`;
  }
  if (token.workload !== undefined) {
    const [ns, name] = token.workload.split('/') as [string, string];
    if (namespace !== undefined && namespace !== ns) return `record names namespace ${namespace} but token ${token.id} is for workload ${token.workload}`;
    if (pod !== undefined && pod !== name && !pod.startsWith(name + '-')) return `record names pod ${pod}, not a pod of workload ${token.workload} (token ${token.id})`;
    if (token.serviceAccount !== undefined && sa !== undefined && sa !== token.serviceAccount) return `record names service account ${sa} but token ${token.id} is for ${token.serviceAccount}`;
  }
  return undefined;
}

/** Bus key of a runtime record: its pod, so one pod's events stay in order. */
export function runtimeKey(record: Record<string, unknown>, cluster: string | undefined, tokenId: string): string {
  const f = (record.output_fields ?? {}) as Record<string, unknown>;
  const ns = record.namespace ?? f['k8s.ns.name'];
  const pod = record.pod ?? f['k8s.pod.name'];
  if (typeof ns === 'string' && typeof pod === 'string') return `${cluster ?? ''}/${ns}/${pod}`;
  return `${cluster ?? ''}/${tokenId}`;
}
