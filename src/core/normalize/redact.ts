import type { SourceType } from '../envelope.ts';
import { isRec, obj, str, type Rec } from './util.ts';

/**
 * Secret redaction at normalization: secrets never reach the normalized topics or the index.
 *
 * Copy semantics: with `copy: true` the caller's record is never mutated. Only the objects on the
 * path to a redacted value are shallow-copied (copy-on-write); every other subtree is shared with the
 * input. With `copy: false` (normalizeLine, which owns the freshly parsed record) values are replaced
 * in place. Either way the returned record is the one to use.
 *
 * What is redacted (replaced by "[REDACTED]", keys kept so rules can still see which keys changed):
 * - Kubernetes Secret `data` / `stringData` values in requestObject / responseObject, including
 *   SecretList and List items and JSON-patch operations on /data or /stringData, and the
 *   `kubectl.kubernetes.io/last-applied-configuration` annotation of a Secret (it embeds the data);
 * - TokenRequest `status.token` (serviceaccounts/token) and TokenReview `spec.token`;
 * - CloudTrail `credentials.sessionToken` / `secretAccessKey` in responseElements (STS, SSO role
 *   credentials), Secrets Manager `secretString` / `secretBinary`, SSM SecureString or decrypted
 *   parameter values;
 * - Authorization header values, `Bearer <token>` and JWTs in any string (when the line may hold one,
 *   see `mayHoldToken`).
 * Paths are dotted (`responseObject.items.0.data.password`) and listed in `seam.ingest.redacted`.
 */

export const REDACTED = '[REDACTED]';

export interface RedactOptions {
  /** Copy-on-write (true) or in place (false). */
  copy: boolean;
  /** Scan every string for bearer tokens, Authorization values and JWTs. */
  scanStrings: boolean;
}

export interface Redacted {
  record: Rec;
  /** Undefined when nothing was redacted. */
  paths: string[] | undefined;
}

type Key = string | number;

class Cow {
  // Allocated on the first redaction only: most records have nothing to redact.
  private owned: Set<object> | undefined;
  paths: string[] | undefined;

  constructor(
    public root: Rec,
    private readonly copy: boolean,
  ) {}

  /** Replaces the value at `path` (which must exist) and records the path. */
  set(path: readonly Key[], value: unknown): void {
    let owned = this.owned;
    if (this.copy) {
      if (owned === undefined) {
        owned = this.owned = new Set();
        this.root = { ...this.root };
        owned.add(this.root);
      }
    }
    let cur: Record<Key, unknown> = this.root;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i] as Key;
      let child = cur[k];
      if (typeof child !== 'object' || child === null) return;
      if (owned !== undefined && !owned.has(child)) {
        child = Array.isArray(child) ? child.slice() : { ...(child as Rec) };
        cur[k] = child;
        owned.add(child as object);
      }
      cur = child as Record<Key, unknown>;
    }
    cur[path[path.length - 1] as Key] = value;
    (this.paths ??= []).push(path.join('.'));
  }

  /** Redacts every value of a string map (Secret data) at `path`. */
  redactValues(map: unknown, path: Key[]): void {
    if (!isRec(map)) {
      if (map !== undefined && map !== null && map !== REDACTED) this.set(path, REDACTED);
      return;
    }
    for (const k of Object.keys(map)) {
      if (map[k] !== REDACTED) this.set([...path, k], REDACTED);
    }
  }
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A Secret-shaped object: redacts data, stringData and the last-applied annotation. */
function redactSecret(cow: Cow, o: Rec, path: Key[]): void {
  if (o.data !== undefined) cow.redactValues(o.data, [...path, 'data']);
  if (o.stringData !== undefined) cow.redactValues(o.stringData, [...path, 'stringData']);
  const ann = obj(obj(o.metadata)?.annotations);
  if (ann !== undefined && typeof ann[LAST_APPLIED] === 'string') cow.set([...path, 'metadata', 'annotations', LAST_APPLIED], REDACTED);
}

/** Walks a request/response body; `secretCtx` = the request targets secrets, so kind-less objects are Secrets. */
function redactK8sBody(cow: Cow, body: unknown, path: Key[], secretCtx: boolean): void {
  if (Array.isArray(body)) {
    // JSON patch: [{ op, path: "/data/password", value }]
    if (!secretCtx) return;
    for (let i = 0; i < body.length; i++) {
      const op = obj(body[i]);
      const p = str(op?.path);
      if (op !== undefined && p !== undefined && (p.startsWith('/data') || p.startsWith('/stringData')) && op.value !== undefined) {
        cow.set([...path, i, 'value'], REDACTED);
      }
    }
    return;
  }
  const o = obj(body);
  if (o === undefined) return;
  const kind = o.kind;
  if (kind === 'Secret' || (kind === undefined && secretCtx)) {
    redactSecret(cow, o, path);
    return;
  }
  if (kind === 'TokenRequest') {
    const status = obj(o.status);
    if (status !== undefined && typeof status.token === 'string') cow.set([...path, 'status', 'token'], REDACTED);
    return;
  }
  if (kind === 'TokenReview') {
    const spec = obj(o.spec);
    if (spec !== undefined && typeof spec.token === 'string') cow.set([...path, 'spec', 'token'], REDACTED);
    return;
  }
  const items = o.items;
  if (Array.isArray(items)) {
    const itemCtx = kind === 'SecretList' || (secretCtx && kind !== 'List');
    for (let i = 0; i < items.length; i++) {
      const it = obj(items[i]);
      if (it === undefined) continue;
      if (it.kind === 'Secret' || (it.kind === undefined && itemCtx)) redactSecret(cow, it, [...path, 'items', i]);
    }
  }
}

function redactK8sAudit(cow: Cow, r: Rec): void {
  const ref = obj(r.objectRef);
  const resource = ref?.resource;
  const sub = ref?.subresource;
  const secretCtx = resource === 'secrets' && sub === undefined;
  if (r.requestObject !== undefined) redactK8sBody(cow, r.requestObject, ['requestObject'], secretCtx);
  if (r.responseObject !== undefined) {
    redactK8sBody(cow, r.responseObject, ['responseObject'], secretCtx);
    if (resource === 'serviceaccounts' && sub === 'token') {
      const status = obj(obj(r.responseObject)?.status);
      if (status !== undefined && typeof status.token === 'string' && status.token !== REDACTED) cow.set(['responseObject', 'status', 'token'], REDACTED);
    }
  }
}

const CREDENTIAL_KEYS = ['sessionToken', 'secretAccessKey'] as const;

function redactCredentials(cow: Cow, creds: unknown, path: Key[]): void {
  const c = obj(creds);
  if (c === undefined) return;
  for (const k of CREDENTIAL_KEYS) if (c[k] !== undefined && c[k] !== REDACTED) cow.set([...path, k], REDACTED);
}

function isSecureValue(p: Rec, decrypted: boolean): boolean {
  return p.value !== undefined && (p.type === 'SecureString' || (p.type === undefined && decrypted));
}

function redactCloudTrail(cow: Cow, r: Rec): void {
  const re = obj(r.responseElements);
  const rp = obj(r.requestParameters);
  if (re !== undefined) {
    if (re.credentials !== undefined) redactCredentials(cow, re.credentials, ['responseElements', 'credentials']);
    if (re.roleCredentials !== undefined) redactCredentials(cow, re.roleCredentials, ['responseElements', 'roleCredentials']);
    if (re.secretString !== undefined) cow.set(['responseElements', 'secretString'], REDACTED);
    if (re.secretBinary !== undefined) cow.set(['responseElements', 'secretBinary'], REDACTED);
  }
  if (rp !== undefined) {
    if (rp.secretString !== undefined) cow.set(['requestParameters', 'secretString'], REDACTED);
    if (rp.secretBinary !== undefined) cow.set(['requestParameters', 'secretBinary'], REDACTED);
  }
  if (r.eventSource === 'ssm.amazonaws.com') {
    const name = r.eventName;
    if (name === 'PutParameter' && rp !== undefined && rp.type === 'SecureString' && rp.value !== undefined) {
      cow.set(['requestParameters', 'value'], REDACTED);
    }
    if (re !== undefined && (name === 'GetParameter' || name === 'GetParameters' || name === 'GetParametersByPath')) {
      // A SecureString value is secret; an untyped value is treated as one when decryption was asked for.
      const decrypted = rp?.withDecryption === true;
      const one = obj(re.parameter);
      if (one !== undefined && isSecureValue(one, decrypted)) cow.set(['responseElements', 'parameter', 'value'], REDACTED);
      const many = re.parameters;
      if (Array.isArray(many)) {
        for (let i = 0; i < many.length; i++) {
          const p = obj(many[i]);
          if (p !== undefined && isSecureValue(p, decrypted)) cow.set(['responseElements', 'parameters', i, 'value'], REDACTED);
        }
      }
    }
  }
}

// Token patterns for free text. Order matters: the Authorization rule keeps its scheme word, so the
// bearer rule then sees "Bearer [REDACTED]" and leaves it alone.
const AUTH_RE = /(authorization\s*["']?\s*[:=]\s*["']?\s*)((?:bearer|basic|token)\s+)?[^\s"',;[\]{}]+/gi;
const BEARER_RE = /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi;
const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const HINT_RE = /bearer|authorization|eyJ/i;

/**
 * Cheap pre-check on the raw line: can any string in it hold a token? (False = skip the string scan.)
 * One case-sensitive alternation scans about as fast as memory allows; a case-insensitive one or
 * several `includes` are 2-3x slower. It covers the usual spellings (Bearer, bearer, BEARER,
 * Authorization, authorization, AUTHORIZATION) and JWTs (which start with "eyJ", base64 of '{"').
 * After "authorization" only what AUTH_RE or an `"Authorization"` key can put there counts
 * (whitespace, a quote, ':' or '=', or a JSON escape '\'): the `authorization.k8s.io/...` annotations
 * of every audit event and CloudTrail's `GetAuthorizationToken` do not.
 */
const LINE_HINT_RE = /[Bb]earer|BEARER|[Aa]uthorization[\s"':=\\]|AUTHORIZATION|eyJ/;

export function mayHoldToken(text: string): boolean {
  return LINE_HINT_RE.test(text);
}

function scrub(s: string): string {
  if (!HINT_RE.test(s)) return s;
  return s
    .replace(AUTH_RE, '$1$2' + REDACTED)
    .replace(BEARER_RE, '$1$2' + REDACTED)
    .replace(JWT_RE, REDACTED);
}

interface Hit {
  path: Key[];
  value: string;
}

const AUTH_KEY_RE = /^authorization$/i;

function walkStrings(v: unknown, path: Key[], hits: Hit[]): void {
  if (typeof v === 'string') {
    if (v.length < 8 || v === REDACTED) return;
    const last = path[path.length - 1];
    const s = typeof last === 'string' && AUTH_KEY_RE.test(last) ? REDACTED : scrub(v);
    if (s !== v) hits.push({ path: path.slice(), value: s });
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walkStrings(v[i], path, hits);
      path.pop();
    }
    return;
  }
  const top = path.length === 0;
  for (const k of Object.keys(v)) {
    if (top && k === 'seam') continue;
    path.push(k);
    walkStrings((v as Rec)[k], path, hits);
    path.pop();
  }
}

/** Every string in the record (except `seam`): tokens in free text, and values under an Authorization key. */
function scanStrings(cow: Cow): void {
  const hits: Hit[] = [];
  walkStrings(cow.root, [], hits);
  for (const h of hits) cow.set(h.path, h.value);
}

/** Can this record hold a structured secret at all? (Most cannot: Metadata-level audit events, read-only calls.) */
function mayHoldSecret(source: SourceType, r: Rec): boolean {
  if (source === 'k8s_audit') return r.requestObject !== undefined || r.responseObject !== undefined;
  if (source === 'cloudtrail') return r.responseElements != null || r.requestParameters != null;
  return false;
}

/**
 * In-place variant for records the caller owns (normalizeLine): no result object, returns the
 * redacted paths or undefined.
 */
export function redactInPlace(source: SourceType, record: Rec, scanForTokens: boolean): string[] | undefined {
  const structured = mayHoldSecret(source, record);
  if (!structured && !scanForTokens) return undefined;
  const cow = new Cow(record, false);
  if (structured) {
    if (source === 'k8s_audit') redactK8sAudit(cow, record);
    else redactCloudTrail(cow, record);
  }
  if (scanForTokens) scanStrings(cow);
  return cow.paths;
}

/** Redacts secrets from one raw record of a known source. */
export function redact(source: SourceType, record: Rec, opts: RedactOptions): Redacted {
  const structured = mayHoldSecret(source, record);
  if (!structured && !opts.scanStrings) return { record, paths: undefined };
  const cow = new Cow(record, opts.copy);
  if (structured) {
    if (source === 'k8s_audit') redactK8sAudit(cow, record);
    else redactCloudTrail(cow, record);
  }
  if (opts.scanStrings) scanStrings(cow);
  return { record: cow.root, paths: cow.paths };
}
