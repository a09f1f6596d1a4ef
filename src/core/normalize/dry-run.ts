/**
 * Server-side dry runs (`kubectl apply --dry-run=server`, `kubectl diff`, Argo CD and Flux drift checks): the API
 * server admits, defaults and validates the write, answers as if it had made it, and stores nothing. The audit log
 * records them like any write; what tells them apart is the request's dry-run option (ADR 0045):
 *
 * - create, update, patch: the `dryRun` query parameter (CreateOptions, UpdateOptions, PatchOptions are decoded
 *   from the query only). The API server asks `len(url.Query()["dryRun"]) != 0`: present with any value, even
 *   empty (a value other than `All` is refused, which is also nothing written).
 * - delete, deletecollection: the DeleteOptions body when there is one (client-go and kubectl put `dryRun` there),
 *   else the query. The body is in the record as `requestObject` at level Request and above; at level Metadata a
 *   body cannot be seen, and the query decides.
 * - pods/eviction: the query or the Eviction body's `deleteOptions.dryRun`.
 *
 * Never a dry run, whatever the request says: reads (get, list, watch ignore the parameter: a `get` with
 * `?dryRun=All` still reads), connect subresources (exec, attach, portforward, proxy: the API server refuses the
 * parameter, and the refusal is a failure anyway), TokenRequest (`serviceaccounts/token`: the token is issued
 * whatever `dryRun` says) and the access and token reviews (create-only, nothing stored, the answer given either way).
 * A mark there would let a caller label a real read, session or token as a dry run.
 */
import { obj, str, type Rec } from '../values.ts';

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/** Subresources that ignore or refuse `dryRun`: what the request did (or failed to do) is real. */
const NOT_DRY_RUNNABLE_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy', 'token']);
/** Create-only resources that store nothing and answer whatever `dryRun` says. */
const REVIEWS: Readonly<Record<string, string>> = {
  tokenreviews: 'authentication.k8s.io',
  selfsubjectreviews: 'authentication.k8s.io',
  subjectaccessreviews: 'authorization.k8s.io',
  selfsubjectaccessreviews: 'authorization.k8s.io',
  localsubjectaccessreviews: 'authorization.k8s.io',
  selfsubjectrulesreviews: 'authorization.k8s.io',
};

const hexValue = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

/**
 * A query component decoded as Go's `url.QueryUnescape` does (`%XX` a byte, `+` a space), as a string of its bytes;
 * undefined when an escape is not `%` and two hex digits (Go then drops the whole `key=value` pair).
 */
export function unescapeQueryComponent(s: string): string | undefined {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const hi = i + 2 < s.length ? hexValue(s.charCodeAt(i + 1)) : -1;
      const lo = hi < 0 ? -1 : hexValue(s.charCodeAt(i + 2));
      if (lo < 0) return undefined;
      out += String.fromCharCode(hi * 16 + lo);
      i += 2;
    } else out += c === 43 ? ' ' : s[i];
  }
  return out;
}

/**
 * Does a raw query string (what follows `?` in a request URI) have `key`, as Go's `url.ParseQuery` (what the API
 * server reads its options with) parses it: pairs split on `&`, a pair holding a `;` dropped (Go 1.17 and later),
 * key and value unescaped and the pair dropped when either fails, the key compared exactly (case counts).
 */
export function queryHasKey(query: string, key: string): boolean {
  // The hot path: a query without escapes can only hold the key as written.
  if (query.indexOf('%') < 0 && query.indexOf(key) < 0) return false;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const pair = query.slice(start, end);
    start = end + 1;
    if (pair === '' || pair.indexOf(';') >= 0) continue;
    const eq = pair.indexOf('=');
    const k = unescapeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (k !== key) continue;
    if (eq >= 0 && unescapeQueryComponent(pair.slice(eq + 1)) === undefined) continue;
    return true;
  }
  return false;
}

/** The query of a request URI (after the first `?`), '' when it has none. */
function queryOf(uri: string | undefined): string {
  if (uri === undefined) return '';
  const q = uri.indexOf('?');
  return q < 0 ? '' : uri.slice(q + 1);
}

/** A `dryRun` list with at least one entry (DeleteOptions' field; an empty list is no dry run). */
const listed = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/** Was this audit event's request a server-side dry run, as far as the record shows? (See the module comment.) */
export function isDryRunRequest(verb: string, r: Rec): boolean {
  if (!WRITES.has(verb)) return false;
  const ref = obj(r.objectRef);
  const resource = str(ref?.resource);
  // Non-resource URLs (/healthz, /version...) have no options to read.
  if (resource === undefined) return false;
  const sub = str(ref?.subresource);
  if (sub !== undefined && NOT_DRY_RUNNABLE_SUBRESOURCES.has(sub)) return false;
  const review = REVIEWS[resource];
  if (review !== undefined && review === (str(ref?.apiGroup) ?? '')) return false;
  const body = obj(r.requestObject);
  if ((verb === 'delete' || verb === 'deletecollection') && body !== undefined) return listed(body.dryRun);
  if (resource === 'pods' && sub === 'eviction' && listed(obj(body?.deleteOptions)?.dryRun)) return true;
  return queryHasKey(queryOf(str(r.requestURI)), 'dryRun');
}
