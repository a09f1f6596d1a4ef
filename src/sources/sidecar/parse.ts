import { createHash, timingSafeEqual } from 'node:crypto';
import { detectFormat } from '../../core/normalize/detect.ts';
import type { ErrorCode } from '../../core/errors.ts';
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

/**
 * Cuts a body into records: NDJSON (one object per line; blank lines skipped), or one JSON object or
 * array as Falco's http_output and falcosidekick's webhook POST it. Only runtime records are
 * accepted (Falco alerts, seam.runtime/v1 events).
 */
export function parseBody(body: string, maxLineBytes: number, tokenCluster: string | undefined): { accepted: ParsedLine[]; rejected: RejectedLine[] } {
  const accepted: ParsedLine[] = [];
  const rejected: RejectedLine[] = [];
  const trimmed = body.trim();
  let lines: { line: number; text: string }[];
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      return { accepted, rejected: [{ line: 1, code: 'SEAM_ERR_INPUT_JSON', reason: `body is not a valid JSON array: ${(e as Error).message}` }] };
    }
    lines = (Array.isArray(arr) ? arr : []).map((v, i) => ({ line: i + 1, text: JSON.stringify(v) }));
  } else {
    lines = [];
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
  }
  for (const { line, text } of lines) {
    if (Buffer.byteLength(text, 'utf8') > maxLineBytes) {
      rejected.push({ line, code: 'SEAM_ERR_INPUT_OVERSIZED', reason: `line is over the ${maxLineBytes}-byte limit` });
      continue;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      rejected.push({ line, code: 'SEAM_ERR_INPUT_JSON', reason: `not valid JSON: ${(e as Error).message}` });
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      rejected.push({ line, code: 'SEAM_ERR_INPUT_NOT_OBJECT', reason: 'a record must be a JSON object' });
      continue;
    }
    const record = v as Record<string, unknown>;
    const format = detectFormat(record);
    if (format !== 'runtime_falco' && format !== 'runtime_native') {
      rejected.push({ line, code: 'SEAM_ERR_INPUT_UNKNOWN_FORMAT', reason: 'not a Falco alert (rule, output, priority) nor a seam.runtime/v1 event' });
      continue;
    }
    if (tokenCluster !== undefined && typeof record.cluster === 'string' && record.cluster !== tokenCluster) {
      rejected.push({ line, code: 'SEAM_ERR_INGEST_FORBIDDEN', reason: `record names cluster ${record.cluster} but the token is for ${tokenCluster}` });
      continue;
    }
    accepted.push({ line, text, record });
  }
  return { accepted, rejected };
}

/** Bus key of a runtime record: its pod, so one pod's events stay in order. */
export function runtimeKey(record: Record<string, unknown>, cluster: string | undefined, tokenId: string): string {
  const f = (record.output_fields ?? {}) as Record<string, unknown>;
  const ns = record.namespace ?? f['k8s.ns.name'];
  const pod = record.pod ?? f['k8s.pod.name'];
  if (typeof ns === 'string' && typeof pod === 'string') return `${cluster ?? ''}/${ns}/${pod}`;
  return `${cluster ?? ''}/${tokenId}`;
}
