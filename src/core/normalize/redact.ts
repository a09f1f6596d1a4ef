import type { SourceType } from '../envelope.ts';
import { isRec, obj, str, type Rec } from '../values.ts';

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
 *   SecretList and List items, and the `kubectl.kubernetes.io/last-applied-configuration` annotation
 *   of a Secret (it embeds the data);
 * - ConfigMap `data` / `binaryData` values under a secret-named key (DB_PASSWORD, AWS_SECRET_ACCESS_KEY:
 *   envFrom-style ConfigMaps), and secret-named container env values (`{ name: DB_PASSWORD, value }`);
 *   under these name-based rules a blank value (empty or whitespace only) holds nothing and is kept,
 *   so rules can tell "no value" from "a value" (a redacted value still counts as present);
 * - inside the last-applied annotation of any other object (a JSON text of the object): the text is
 *   parsed, redacted by these same rules and re-serialized; a text that does not parse is redacted whole;
 * - the `value` of each JSON-patch operation, redacted as the object form would be: the value is placed
 *   at the operation's path in an otherwise empty object of the patched resource (so /data/x of a Secret,
 *   an env entry added at /spec/.../env/-). An env value replaced by index (/env/3/value) is redacted
 *   when the response names a secret-named variable at that index, or when there is no response to ask;
 * - TokenRequest `status.token` (serviceaccounts/token) and TokenReview `spec.token`;
 * - CloudTrail `credentials.sessionToken` / `secretAccessKey` in responseElements (STS, SSO role
 *   credentials), Secrets Manager `secretString` / `secretBinary`, SSM SecureString or decrypted
 *   parameter values;
 * - Authorization header values, `Bearer <token>` and JWTs in any string (when the line may hold one,
 *   see `mayHoldToken`);
 * - EC2 user data (`userData` / `UserData`, CloudTrail's `<sensitiveDataRemoved>` kept); secret-named query
 *   parameters of any requestURI (`?token=`, presigned URLs' `X-Amz-Signature`); in the bodies' strings,
 *   scrub's patterns (`--password x`, `PGPASSWORD=x`, `mysql -p<secret>`...), argv lists (`command`, `args`)
 *   argument by argument with the one before; a JSON-patch operation adding one argument, with the argument
 *   before it (from the response, or an earlier operation of the patch);
 * - provider tokens by their documented format (`ghp_`, `glpat-`, `xoxb-`, `sk_live_`, `npm_`, `AIza`...; the
 *   prefix stays), per-program password flags (`curl -u user:pw`, `docker login -p`, `redis-cli -a`,
 *   `--from-literal=k=v`), keys that end in a secret's name (`AWS_SECRET_ACCESS_KEY`, `masterUserPassword`);
 * - round 4: keys ending in a secret word in any body and in text (`token`, `webhookSecret`, `pass: x`, `DB_PASS=x`;
 *   not `nextToken`, `secretName`), env entries as JSON/YAML text, `ldapsearch -w`, `sqlcmd -P`, `htpasswd -b`,
 *   long flags ending in a secret's name (`--master-user-password x`), a Secret's apply patch kept as YAML text.
 * - round 5: names ending in `_KEY` (`STRIPE_KEY=x`, env `SIGNING_KEY`; not `PUBLIC_KEY`, `PARTITION_KEY`, `KEY_ID`), DMS's
 *   Oracle TDE password (`securityDbEncryption`), `zip -P`, `7z -p<pw>`, `smbclient -U user%pw`, `openssl enc -k` / `-K`,
 *   Oracle logons after an Oracle client (`sqlplus user/pw@db`) and in a JDBC thin URL.
 * - round 6: `CONNECT user/pw@db` in SQL text, Impacket targets (`secretsdump.py dom/u:pw@host`) and `-hashes` / `-aesKey`,
 *   `-p` / `-H` of nxc, crackmapexec, evil-winrm, hydra and the like, FreeRDP `/p:` / `/pth:`, `net use` / `net user`
 *   passwords by position, openssl `-macopt key:`, `mysqladmin password x`.
 * - round 7: rabbitmqctl, lftp, Net-SNMP, Samba's `net -U`, `vault login`, a literal piped to `--password-stdin`, etcdctl...
 * - round 8: chpasswd's input (`echo 'u:pw' | chpasswd`), rabbitmqadmin `-p`, `snmpusm ... passwd <old> <new>`, `doctl -t`,
 *   SQL password clauses (`IDENTIFIED BY 'x'`, `PASSWORD('x')`, `ALTER ROLE r PASSWORD 'x'`), a program's secret after a quoted
 *   `-e` / `-c` script holding a `;` (CMD_UNIT), and an argv that is a command line split into words (walkJoinedArgv).
 * - round 9: printf's format into chpasswd (`printf '%s:%s\n' u pw`), a password on stdin of kinit, passwd, smbpasswd -s,
 *   cryptsetup, gpg --passphrase-fd 0; `-P` / `-w` / `-a` / `-p` of ipmitool, mosquitto, sqsh, tsql, vsql, valkey-cli, PsExec,
 *   cqlsh, usermod; winrs `-p:`, schtasks `/p` `/rp`; CMD_UNIT in flagRe / progFlagRe; CodeBuild's, Beanstalk's, App Runner's env.
 * - round 10: CMD_UNIT for the remaining command scopes (openssl -k, net -U, 7z, Oracle, redis-cli, SNMP, etcdctl) and ECHO_UNIT for
 *   echoed text (`echo "p;w" | passwd`); groups that run other commands (`(sleep 1; echo pw) | passwd`); ftp scripts; influx -p / -t;
 *   isql by position; X-Registry-Auth; netrc lines; openssl -pass stdin|file:|env:|fd: kept; exec command= values read joined.
 * - round 11: WORD_UNIT for the positional rules (a quoted `;` in htpasswd, rabbitmqctl, isql, net user, openssl passwd); stdin of
 *   programs that prompt (`mysql -p <<< pw`, psql -W, htpasswd -i, docker secret create -); heredocs into stdin takers (`cat <<EOF |
 *   passwd`); redis-cli AUTH; curl -b; --creds; npm config set _auth; twine / crane -p; quoted `-p 'pw'`; wpa_passphrase, nmcli;
 *   SSHPASS / PGPASS / REDISCLI_AUTH; every argv read joined (walkJoinedArgv), not only a split command line.
 * - round 12: a one-word first line of SQL fed to mysql -p / psql -W (heredoc, $'..' here-string, echo); PASSWORD('x') after a key;
 *   Oracle's REPLACE old; MongoDB shell passwords; `cookie=` unquoted ends at whitespace; an argv word is one argument (wholeArgValue,
 *   and the joined line's values end with a spaced word); az acr / regctl login -p, mysql "-px", gh secret set -b, crictl --auth,
 *   ctr --user, TF_TOKEN_<host>, vault kv put, kubectl config set users.*.token, a token as a URL's user info; account / shared
 *   access / pre-shared / subscription / auth keys; CloudFormation parameters; lists of passwords.
 * - round 13: a token as a URL's user holding `-` / `_` (a known prefix, or a mixed token's shape: tokenUserReplace); an expect
 *   script's send after a password or passphrase prompt; MSSQL's sp_addlogin / sp_password, a login's `PASSWORD = N'x'`;
 *   mysqladmin's command word after a lone -p stays (mariadb-admin too); ARM_ACCESS_KEY / AZURE_STORAGE_ACCESS_KEY are secrets.
 * The full list, and what is known not to be redacted: docs/redaction.md.
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

interface Hit {
  path: Key[];
  value: string;
}

/** Nothing to hide in an empty or whitespace-only value: name-based rules keep it (rules read it as "no value"). */
function isBlank(v: string): boolean {
  return v.trim() === '';
}

class Cow {
  // Allocated on the first redaction only: most records have nothing to redact.
  private owned: Set<object> | undefined;
  paths: string[] | undefined;

  constructor(
    public root: Rec,
    private readonly copy: boolean,
    /** Record mode: `set` only lists the change here (redacting a synthetic object, see redactJsonPatch). */
    private readonly record?: Hit[],
  ) {}

  /** Replaces the value at `path` (which must exist) and records the path. */
  set(path: readonly Key[], value: unknown): void {
    if (this.record !== undefined) {
      this.record.push({ path: path.slice(), value: value as string });
      return;
    }
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

/** What the audited request targets: kind-less bodies (patches, list items) are taken to be of that kind. */
type BodyCtx = 'secret' | 'configmap' | undefined;

/** A ConfigMap: values of secret-named keys (envFrom-style DB_PASSWORD); a blank value stays. */
function redactConfigMap(cow: Cow, o: Rec, path: Key[]): void {
  for (const field of ['data', 'binaryData'] as const) {
    const m = o[field];
    if (!isRec(m)) continue;
    for (const k of Object.keys(m)) {
      const v = m[k];
      if (typeof v === 'string' && v !== REDACTED && !isBlank(v) && isSecretName(k)) cow.set([...path, field, k], REDACTED);
    }
  }
}

/** Decodes a JSON pointer (RFC 6901): "/a~1b/0" -> ["a/b", "0"]. */
function pointer(p: string): string[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const INDEX_RE = /^(?:\d+|-)$/;

/** An object holding `value` at the pointer's segments (arrays for indexes), and the keys that lead to it. */
function placeAt(segs: readonly string[], value: unknown): { root: unknown; leaf: Key[] } {
  let node = value;
  const leaf: Key[] = [];
  for (let j = segs.length - 1; j >= 0; j--) {
    const s = segs[j] as string;
    if (INDEX_RE.test(s)) {
      node = [node];
      leaf.unshift(0);
    } else {
      node = { [s]: node };
      leaf.unshift(s);
    }
  }
  return { root: node, leaf };
}

function at(v: unknown, segs: readonly string[]): unknown {
  for (const s of segs) {
    if (Array.isArray(v)) v = /^\d+$/.test(s) ? v[Number(s)] : undefined;
    else if (isRec(v)) v = v[s];
    else return undefined;
  }
  return v;
}

/**
 * JSON patch (`kubectl patch --type=json`): each operation's value is redacted as the object form would
 * be, by placing it at its path in an otherwise empty body of the patched resource and redacting that.
 * `target` is the object after the patch (the response), read for the name of an env entry replaced by index.
 */
function redactJsonPatch(cow: Cow, ops: unknown[], path: Key[], ctx: BodyCtx, target: unknown): void {
  // The string arguments this patch put in each argv (by the argv's pointer), for an argument whose flag came in an earlier operation.
  let added: Map<string, string[]> | undefined;
  for (let i = 0; i < ops.length; i++) {
    const op = obj(ops[i]);
    const p = str(op?.path);
    if (op === undefined || p === undefined || op.value === undefined) continue;
    const segs = pointer(p);
    const valuePath = [...path, i, 'value'];
    if (typeof op.value === 'string' && segs.length >= 2 && INDEX_RE.test(segs[segs.length - 1] as string) && ARGV_KEY_RE.test(segs[segs.length - 2] as string)) {
      // One argument added or replaced (`/spec/containers/0/args/-`, `/args/3`): scrubbed with the one before it.
      const parent = p.slice(0, p.lastIndexOf('/'));
      const list = (added ??= new Map()).get(parent) ?? [];
      const v = scrubPatchedArg(op.value, segs, list, target);
      list.push(op.value);
      added.set(parent, list);
      if (v !== op.value) {
        cow.set(valuePath, v);
        continue;
      }
    }
    let placed = placeAt(segs, op.value);
    const n = segs.length;
    // /spec/.../env/3/value: the variable's name is not in the operation.
    if (n >= 3 && segs[n - 1] === 'value' && /^\d+$/.test(segs[n - 2] as string) && ENV_KEY_RE.test(segs[n - 3] as string) && typeof op.value === 'string') {
      const name = obj(at(target, segs.slice(0, -1)))?.name;
      if (typeof name !== 'string') {
        // No response to ask (Request-level audit): the value may be a secret's.
        if (op.value !== REDACTED && !isBlank(op.value)) cow.set(valuePath, REDACTED);
        continue;
      }
      const entry = placeAt(segs.slice(0, -1), { name, value: op.value });
      placed = { root: entry.root, leaf: [...entry.leaf, 'value'] };
    }
    const hits: Hit[] = [];
    redactK8sBody(new Cow({}, false, hits), placed.root, ['$'], ctx, undefined);
    walkStrings(placed.root, ['$'], hits);
    // One change per path (both passes may name it); a whole-value redaction wins over a scrubbed copy.
    const byPath = new Map<string, Hit>();
    for (const h of hits) {
      const id = h.path.join('\u0000');
      const seen = byPath.get(id);
      if (seen === undefined || (h.value === REDACTED && seen.value !== REDACTED)) byPath.set(id, h);
    }
    const leaf = placed.leaf;
    for (const h of byPath.values()) {
      const rest = h.path.slice(1);
      const under = leaf.every((k, j) => rest[j] === k);
      cow.set(under ? [...valuePath, ...rest.slice(leaf.length)] : valuePath, under ? h.value : REDACTED);
    }
  }
}

/**
 * One argument a JSON patch adds or replaces in a `command` / `args` / `argv` list, scrubbed as the argv would be
 * (scrubArg) with the argument before it and the programs before it: read from the object after the patch
 * (`target`, the response: where the value landed, and the container's command before its args), else from the
 * arguments earlier operations of the patch put in the same list (`--password`, then its value).
 * Without either (a Request-level audit of one appended value) the value is scrubbed alone.
 */
function scrubPatchedArg(value: string, segs: readonly string[], earlier: readonly string[], target: unknown): string {
  const n = segs.length;
  const arr = at(target, segs.slice(0, -1));
  if (Array.isArray(arr)) {
    const last = segs[n - 1] as string;
    let idx = last === '-' ? -1 : Number(last);
    if (idx < 0 || arr[idx] !== value) idx = arr.lastIndexOf(value);
    if (idx >= 0) {
      let prev = idx > 0 ? arr[idx - 1] : undefined;
      let prog = progsOf(arr, idx);
      if (segs[n - 2] === 'args') {
        const cmd = obj(at(target, segs.slice(0, -2)))?.command;
        if (Array.isArray(cmd)) {
          prog |= progsOf(cmd);
          if (idx === 0) prev = cmd[cmd.length - 1];
        }
      }
      return scrubArg(typeof prev === 'string' ? prev : undefined, value, prog);
    }
  }
  if (earlier.length === 0) return value;
  return scrubArg(earlier[earlier.length - 1], value, progsOf(earlier));
}

/** Walks a request/response body; `ctx` = the request's resource, the kind of kind-less objects. */
function redactK8sBody(cow: Cow, body: unknown, path: Key[], ctx: BodyCtx, target: unknown): void {
  if (typeof body === 'string') {
    // A patch the audit log kept as text (an apply patch's YAML): a Secret's is redacted whole.
    if (body !== REDACTED && (ctx === 'secret' || SECRET_KIND_IN_YAML_RE.test(body))) cow.set(path, REDACTED);
    return;
  }
  if (Array.isArray(body)) {
    redactJsonPatch(cow, body, path, ctx, target);
    return;
  }
  const o = obj(body);
  if (o === undefined) return;
  const lower = typeof o.kind === 'string' ? o.kind.toLowerCase() : undefined;
  const kind = lower === 'secret' ? 'Secret' : lower === 'configmap' ? 'ConfigMap' : o.kind;
  if (kind === 'Table' && Array.isArray(o.rows)) {
    // `kubectl get secrets -o ...` answers a Table whose rows carry the objects.
    for (let i = 0; i < o.rows.length; i++) {
      const row = obj(o.rows[i]);
      if (row !== undefined && row.object !== undefined) redactK8sBody(cow, row.object, [...path, 'rows', i, 'object'], ctx, undefined);
    }
    return;
  }
  if (kind === 'Secret' || (kind === undefined && ctx === 'secret')) {
    redactSecret(cow, o, path);
    return;
  }
  if (kind === 'ConfigMap' || (kind === undefined && ctx === 'configmap')) {
    redactConfigMap(cow, o, path);
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
    const secretItems = kind === 'SecretList' || (ctx === 'secret' && kind !== 'List');
    const configItems = kind === 'ConfigMapList' || (ctx === 'configmap' && kind !== 'List');
    for (let i = 0; i < items.length; i++) {
      const it = obj(items[i]);
      if (it === undefined) continue;
      const ik = typeof it.kind === 'string' ? it.kind.toLowerCase() : undefined;
      if (ik === 'secret' || (ik === undefined && secretItems)) redactSecret(cow, it, [...path, 'items', i]);
      else if (ik === 'configmap' || (ik === undefined && configItems)) redactConfigMap(cow, it, [...path, 'items', i]);
      else if (ik === 'table' || ik === 'list') redactK8sBody(cow, it, [...path, 'items', i], ctx, undefined);
    }
  }
}

/** Subresources whose request URI carries what runs in the container (`command=` of exec, the session of attach). */
const EXEC_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/**
 * The start of a query parameter whose name may be secret-bearing (token, password, X-Amz-Signature...; see
 * SECRET_PARAM_RE): a cheap test on the URI of every audit record before its query is decoded.
 */
const URI_PARAM_GATE = /[?&](?:x-|sig|acc|id_|ref|aut|tok|pas|pwd|sec|cli|api)/i;

/** An exec whose password is told by its position: htpasswd's, or `net use` / `net user`'s. */
const POSITIONAL_URI_GATE = /htpasswd|command=net(?:\.exe)?&command=user?&|rabbitmqctl|vault&|mc&|command=passwd&|mkpasswd/i;

/** Does this audit record's requestURI hold query values to scrub (an exec's command line, a token or a signature)? */
function uriMayHoldSecret(r: Rec): boolean {
  const uri = r.requestURI;
  if (typeof uri !== 'string' || !uri.includes('?')) return false;
  const sub = obj(r.objectRef)?.subresource;
  return (typeof sub === 'string' && EXEC_SUBRESOURCES.has(sub)) || uri.includes('command=') || URI_PARAM_GATE.test(uri);
}

const HEX2_RE = /^[0-9A-Fa-f]{2}$/;

/**
 * A query value as decoded (`+` is a space, `%XX` a UTF-8 byte), with the raw offset where each decoded
 * UTF-16 unit starts (`starts[text.length]` = raw.length): a decoded range maps back to its raw bytes.
 * A `%` not followed by two hex digits is kept as it is (URLSearchParams does the same).
 */
function decodeQueryValue(raw: string): { text: string; starts: number[] } {
  let text = '';
  const starts: number[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw.charCodeAt(i);
    if (c === 0x2b) {
      starts.push(i);
      text += ' ';
      i++;
      continue;
    }
    if (c === 0x25 && HEX2_RE.test(raw.slice(i + 1, i + 3))) {
      const b0 = parseInt(raw.slice(i + 1, i + 3), 16);
      let n = b0 < 0xc0 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
      const bytes = [b0];
      for (let k = 1; k < n; k++) {
        const at = i + 3 * k;
        const h = raw.slice(at + 1, at + 3);
        if (raw.charCodeAt(at) !== 0x25 || !HEX2_RE.test(h)) break;
        bytes.push(parseInt(h, 16));
      }
      n = bytes.length;
      const ch = Buffer.from(bytes).toString('utf8');
      for (let k = 0; k < ch.length; k++) starts.push(i);
      text += ch;
      i += 3 * n;
      continue;
    }
    starts.push(i);
    text += raw[i];
    i++;
  }
  starts.push(raw.length);
  return { text, starts };
}

/** `s` encoded as a query value, `[REDACTED]` left as it is (scrub then knows it, on the encoded URI too). */
function encodeQueryValue(s: string): string {
  return s.split(REDACTED).map(encodeURIComponent).join(REDACTED);
}

/**
 * The raw query value for `scrubbed` (the decoded value with secrets replaced): every part scrub kept is
 * copied byte for byte from `raw` (rules match the encoded form: `+` or `%20`, `%2F`); `[REDACTED]` is written
 * as it is, unencoded, so a later scrub of the raw URI (the token scan) sees a redacted value and leaves it.
 * If the kept parts cannot be lined up, the whole value is encoded afresh.
 */
function reencodeQueryValue(raw: string, d: { text: string; starts: number[] }, scrubbed: string): string {
  const pieces = scrubbed.split(REDACTED);
  const text = d.text;
  let out = '';
  let cur = 0;
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k] as string;
    let at: number;
    if (k === 0) at = text.startsWith(p) ? 0 : -1;
    else if (k === pieces.length - 1) at = text.endsWith(p) && text.length - p.length >= cur ? text.length - p.length : -1;
    else at = text.indexOf(p, cur);
    if (at < 0) return encodeQueryValue(scrubbed);
    if (k > 0) out += REDACTED;
    out += raw.slice(d.starts[at], d.starts[at + p.length]);
    cur = at + p.length;
  }
  return decodeQueryValue(out).text === scrubbed ? out : encodeQueryValue(scrubbed);
}

/**
 * Secrets in a request's query: an exec's command line (`kubectl exec pod -- mysql --password=x`,
 * kubernetes/kubernetes#97795), which the API server logs in requestURI as URL-encoded `command=` parameters
 * where the body scan never looks and scrub's patterns do not see them (`--password%3Dx`), and parameters of
 * any request named like a secret (`?token=`, `password=`, presigned URLs' `X-Amz-Signature`: SECRET_PARAM_RE),
 * whose whole value is redacted. Each other query value is decoded and scrubbed; the `command=` values are
 * scrubbed as one argv (scrubArg: `--password x`, `aws_secret_access_key x` as two arguments, `mysql ... -px`).
 * A value that changed is encoded back in its place; the path, the names, the separators and every other
 * value stay byte for byte as logged. Scrub replaces values, not command words, so rules on the command
 * (`cat /var/run/secrets/.../token`, `nc -e`) match as before.
 */
function redactRequestUri(cow: Cow, uri: string): void {
  const out = redactQuery(uri);
  if (out !== undefined) cow.set(['requestURI'], out);
}

/** The URI with its query's secrets redacted (see redactRequestUri), or undefined if nothing changed. */
function redactQuery(uri: string): string | undefined {
  const q = uri.indexOf('?');
  if (q < 0) return undefined;
  const hash = uri.indexOf('#', q);
  const end = hash < 0 ? uri.length : hash;
  let out = uri.slice(0, q + 1);
  let changed = false;
  let prevCommand: string | undefined;
  let prog = 0;
  // htpasswd's password is told by its position among the command's arguments: counted ahead.
  const commands = uri.includes('command=') ? new URLSearchParams(uri.slice(q + 1, end)).getAll('command') : [];
  const secretAt = POSITIONAL_URI_GATE.test(uri) ? htpasswdArgAt(commands) : -1;
  // Round 10: the values also read as the one command line they spell (a secret whose program word, flag or position lies in
  // other values: `isql DSN u <pw>`, `influx setup -p <pw>`, `echo <pw> | passwd`), for each value the pass below leaves as it is.
  const joined = commands.length > 1 ? joinedWords(commands) : undefined;
  let nCommand = 0;
  let i = q + 1;
  while (i <= end) {
    let amp = uri.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    const part = uri.slice(i, amp);
    const eq = part.indexOf('=');
    let next = part;
    if (eq >= 0) {
      const name = part.slice(0, eq);
      const raw = part.slice(eq + 1);
      const d = decodeQueryValue(raw);
      const isCommand = name === 'command';
      let value: string;
      if (isCommand) {
        const n = nCommand++;
        value = n === secretAt && d.text !== '' ? REDACTED : scrubArg(prevCommand, d.text, prog);
        if (value === d.text && joined !== undefined && joined[n] !== undefined && commands[n] === d.text) value = joined[n] as string;
        prog = progAfter(prog, prevCommand, d.text);
      } else if (d.text !== '' && !d.text.startsWith(REDACTED) && SECRET_PARAM_RE.test(name)) value = REDACTED;
      else value = scrub(d.text);
      prevCommand = isCommand ? d.text : undefined;
      if (value !== d.text) {
        next = name + '=' + reencodeQueryValue(raw, d, value);
        changed = true;
      }
    }
    out += next;
    if (amp < end) out += '&';
    i = amp + 1;
  }
  return changed ? out + uri.slice(end) : undefined;
}

function redactK8sAudit(cow: Cow, r: Rec): void {
  const ref = obj(r.objectRef);
  const resource = ref?.resource;
  const sub = ref?.subresource;
  if (typeof r.requestURI === 'string' && uriMayHoldSecret(r)) redactRequestUri(cow, r.requestURI);
  const ctx: BodyCtx = sub !== undefined ? undefined : resource === 'secrets' ? 'secret' : resource === 'configmaps' ? 'configmap' : undefined;
  if (r.requestObject !== undefined) redactK8sBody(cow, r.requestObject, ['requestObject'], ctx, r.responseObject);
  if (r.responseObject !== undefined) {
    redactK8sBody(cow, r.responseObject, ['responseObject'], ctx, undefined);
    if (resource === 'serviceaccounts' && sub === 'token') {
      const status = obj(obj(r.responseObject)?.status);
      if (status !== undefined && typeof status.token === 'string' && status.token !== REDACTED) cow.set(['responseObject', 'status', 'token'], REDACTED);
    }
  }
}

const CREDENTIAL_KEYS = ['sessionToken', 'secretAccessKey', 'SessionToken', 'SecretAccessKey'] as const;

function redactCredentials(cow: Cow, creds: unknown, path: Key[]): void {
  const c = obj(creds);
  if (c === undefined) return;
  for (const k of CREDENTIAL_KEYS) if (c[k] !== undefined && c[k] !== REDACTED) cow.set([...path, k], REDACTED);
}

function isSecureValue(p: Rec, decrypted: boolean): boolean {
  return p.value !== undefined && (p.type === 'SecureString' || (p.type === undefined && decrypted));
}

/** The string `field` of each object of `list` (at `path`). */
function redactEach(cow: Cow, list: unknown, path: Key[], field: string): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) {
    const it = obj(list[i]);
    if (it !== undefined && typeof it[field] === 'string' && it[field] !== REDACTED) cow.set([...path, i, field], REDACTED);
  }
}

function redactCloudTrail(cow: Cow, r: Rec): void {
  const re = obj(r.responseElements);
  const rp = obj(r.requestParameters);
  if (re !== undefined) {
    if (re.credentials !== undefined) redactCredentials(cow, re.credentials, ['responseElements', 'credentials']);
    // STS answers in PascalCase from some SDK paths; CreateAccessKey returns the new key's secret.
    if (re.Credentials !== undefined) redactCredentials(cow, re.Credentials, ['responseElements', 'Credentials']);
    if (re.accessKey !== undefined) redactCredentials(cow, re.accessKey, ['responseElements', 'accessKey']);
    if (re.AccessKey !== undefined) redactCredentials(cow, re.AccessKey, ['responseElements', 'AccessKey']);
    if (re.roleCredentials !== undefined) redactCredentials(cow, re.roleCredentials, ['responseElements', 'roleCredentials']);
    if (re.secretString !== undefined) cow.set(['responseElements', 'secretString'], REDACTED);
    if (re.secretBinary !== undefined) cow.set(['responseElements', 'secretBinary'], REDACTED);
  }
  if (rp !== undefined) {
    if (rp.secretString !== undefined) cow.set(['requestParameters', 'secretString'], REDACTED);
    if (rp.secretBinary !== undefined) cow.set(['requestParameters', 'secretBinary'], REDACTED);
  }
  // Round 9: API keys carried by value. API Gateway's ApiKey `value` (CreateApiKey may set it, GetApiKey(s) with includeValue
  // return it); AppSync's API key is its `id` (`da2-...`: CreateApiKey / UpdateApiKey / ListApiKeys, and UpdateApiKey /
  // DeleteApiKey's request). Ids, names and expiries stay.
  if (typeof r.eventName === 'string' && r.eventName.includes('ApiKey')) {
    if (r.eventSource === 'apigateway.amazonaws.com') {
      if (rp !== undefined && typeof rp.value === 'string' && rp.value !== REDACTED) cow.set(['requestParameters', 'value'], REDACTED);
      if (re !== undefined) {
        if (typeof re.value === 'string' && re.value !== REDACTED) cow.set(['responseElements', 'value'], REDACTED);
        redactEach(cow, re.items, ['responseElements', 'items'], 'value');
      }
    } else if (r.eventSource === 'appsync.amazonaws.com') {
      if (rp !== undefined && typeof rp.id === 'string' && rp.id !== REDACTED) cow.set(['requestParameters', 'id'], REDACTED);
      if (re !== undefined) {
        const one = obj(re.apiKey);
        if (one !== undefined && typeof one.id === 'string' && one.id !== REDACTED) cow.set(['responseElements', 'apiKey', 'id'], REDACTED);
        redactEach(cow, re.apiKeys, ['responseElements', 'apiKeys'], 'id');
      }
    }
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
const AUTH_RE = /((?:proxy-)?authorization\\?\s*["']?\s*[:=]\s*\\?["']?\s*)((?:bearer|basic|token|aws4-hmac-sha256)\s+)?[^\s"',;[\]{}\\]+/gi;
const BEARER_RE = /\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi;
const JWT_RE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
// High-confidence patterns in free text (command lines, Falco output, log lines):
const PRIVATE_KEY_RE = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;
/** `--password=x`, `--password x`, `password: x`, `token=x`, `db_password=x` (a flag or a key, then its value; `--no-password` is no flag of it). */
const SECRET_ARG_RE = /(-pass(?:in|out)?\s+pass:|-(?:src|dest)?(?:store|key)pass(?:=|\s+)|(?<![A-Za-z0-9_-])--?(?:oauth2-bearer|password|passwd|pass|pwd|secret|token|api-?key|access-?key|secret-?key|client-?secret|auth-?token)(?:=|\s+)|(?:\b|_)(?:password|passwd|pwd|secret|token|api[_-]?key|client_?secret|auth_?token)(?:\\?["']\s*:\s*\\?["']?|\s*=\s*(?:[Nn](?='))?\\?["']?|\s*:(?:\s+\\?["']?|\\?["'])))(?!<+(?:\s|$)|[Nn]'|(?:old_)?password[ \t]*\()("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi;
/**
 * Round 10: openssl's `-pass`, `-passin`, `-passout` that name where the secret is (`stdin`, `file:`, `env:`, `fd:`) are no secret
 * (`-pass pass:x` is one, and goes). Other programs' `-pass` take the password itself.
 */
const OPENSSL_PASS_FLAG_RE = /^-pass(?:in|out)?\s/;
const OPENSSL_PASS_SOURCE_RE = /^["']?(?:stdin\b|file:|env:|fd:)/;
export function secretArgReplace(m: string, k: string, v: string): string {
  if (v.startsWith('[REDACTED') || (OPENSSL_PASS_FLAG_RE.test(k) && OPENSSL_PASS_SOURCE_RE.test(v))) return m;
  return k + REDACTED;
}
/** `PGPASSWORD=x`, `AWS_SECRET_ACCESS_KEY=x`, `GITHUB_TOKEN=x`: an environment assignment of a secret-named variable. */
const SECRET_ENV_RE = /\b([A-Z0-9_]*(?:PASSWORD|PASSWD|_PWD|SECRET|TOKEN|SECRET_ACCESS_KEY|PRIVATE_KEY|API_KEY)[A-Z0-9_]*=)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g;
/**
 * `aws configure set aws_secret_access_key x`, `aws_session_token = x` (a credentials file), in any case: the
 * AWS CLI's key names, then a space, '=' or ':', then the value.
 */
const AWS_CONFIG_RE = /\b((?:aws_)?(?:secret_access_key|session_token)(?:\s*[=:]\s*|\s+))("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi;
/** An AWS secret access key (40 base64 characters) shortly after an access key id. */
const AWS_SECRET_RE = /((?:AKIA|ASIA)[0-9A-Z]{16}[^A-Za-z0-9/+=]{1,40}?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/g;
/** Not a value already redacted (by QUERY_SECRET_RE: `X-Amz-Security-Token=[REDACTED]&X-Amz-Date=...` keeps its other parameters). */
const HEADER_RE = /((?:set-)?cookie|x-amz-security-token|x-registry-(?:auth|config))(\\?["']?\s*[:=]\s*\\?["']?)(?!\[REDACTED\])([^"'\n\\]+)/gi;
/** HEADER_RE's replacement; round 10: a header set from a shell variable (`-H "X-Registry-Auth: $AUTH"`) holds no secret and stays. */
const SHELL_VAR_RE = /^\$(?:\w+|\{\w+\})\s*$/;
export function headerReplace(m: string, k: string, sep: string, v: string, at?: unknown, whole?: unknown): string {
  if (SHELL_VAR_RE.test(v)) return m;
  // Round 12: `cookie=` with no quote is a flag's or a parameter's value, which ends at whitespace (`curl --cookie=sid=x -H ...`
  // took the rest of the line); `--cookie=<file>` (no `=` in it) names curl's cookie file and stays.
  if (UNQUOTED_EQ_RE.test(sep)) {
    const ws = v.search(/\s/);
    const val = ws < 0 ? v : v.slice(0, ws);
    if (!val.includes('=') && typeof at === 'number' && typeof whole === 'string' && whole.startsWith('--', at - 2)) return m;
    return k + sep + REDACTED + (ws < 0 ? '' : v.slice(ws));
  }
  return k + sep + REDACTED;
}
const UNQUOTED_EQ_RE = /^[ \t]*=[ \t]*$/;
/**
 * A URL query parameter named like a secret (a presigned URL's `X-Amz-Signature`, `X-Amz-Credential`,
 * `X-Amz-Security-Token`, SigV2 `Signature`, `?access_token=`, `?password=`): its whole value, up to the next
 * parameter.
 */
const QUERY_SECRET_RE =
  /([?&](?:x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|signature|sig|(?:access_|id_|refresh_|auth_)?token|password|passwd|pwd|secret|client_secret|api_?key|apikey)=)([^&\s"'#\\]+)/gi;
/**
 * Round 8. One unit of a command's text up to `;`, `&`, `|` or a line's end (`[^;&|\n]` of the earlier rounds), where a
 * quoted argument counts whole: `mysql -e "use db; select 1" -p<secret>`, `curl -H 'Cookie: a=1; b=2' -u u:<secret>`,
 * `lftp -e "set x; open -u u,<secret> h"` are one command each. A quote opens an argument only after a space or `=`
 * (elsewhere it is a character of the word: `-u'root'`), and the argument ends at its closing quote on the same line;
 * one left open ends the command there. No unit can match where another does, so a failing match backtracks linearly.
 */
const CMD_UNIT = `(?:[^;&|\\n"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
/**
 * Round 10. One unit of the text `echo` / `printf` writes into a pipe: CMD_UNIT without `(` or `)` (a subshell's parenthesis ends
 * the text: `(sleep 1; echo pw) | passwd` is the group rule's), so a quoted `;` or `|` is part of it: `echo "p;w" | passwd u`.
 */
/**
 * Round 11. One unit of a word of the commands whose secret is told by its position (htpasswd, rabbitmqctl, vault, mc, isql):
 * CMD_UNIT without whitespace, so a quoted argument counts whole, `;` and all (`htpasswd -b f "u;x" pw`). A quote opens an
 * argument only after a space or `=`, as in CMD_UNIT (`pw"`, the end of an enclosing `sh -c "..."`, is one word).
 */
const WORD_UNIT = `(?:[^\\s;&|"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
/** The words of a command's arguments, a quoted argument whole (WORD_UNIT). */
const ARG_WORD_RE = new RegExp(`${WORD_UNIT}+`, 'g');
const ECHO_UNIT = `(?:[^;&|\\n"'()]|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
/**
 * The password of a MySQL or MariaDB client (mysql, mysqldump, mariadb-dump...) or of sshpass: `-p<secret>`
 * glued, as the client reads it, and the argument after a lone `-p` (sshpass's form; a MySQL client then
 * prompts and reads it as a database, but it is often meant as the password). Only after such a command word
 * in the same command (up to `;`, `&` or `|`), so `ssh -p2222` or `-p 8080` of other programs stay.
 */
const MYSQL_RE = new RegExp(
  `(\\b(?:(?:mysql|mariadb)[a-z-]*|sshpass|mongo(?:sh|dump|restore|export|import|files|stat|top)?|(?:docker|podman|nerdctl|buildah|skopeo|oras|helm\\s+registry|crane\\s+auth|az(?:\\s+acr)?|regctl\\s+registry)\\s+login)(?=\\s)${CMD_UNIT}*?\\s-p)(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?![-<])[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`,
  'g',
);
/** `curl -u user:<secret>`, `--user`, `--proxy-user`, `-U`, glued (`-uuser:pw`, `-sSu user:pw`) or `=`: what follows the first colon. */
const CURL_USER_RE = new RegExp(`(\\bcurl(?=\\s)${CMD_UNIT}*?\\s(?:-[a-zA-Z]*[uU]\\s*|--(?:proxy-)?user(?:\\s+|=))["']?[^\\s:"']*:)([^\\s"';&|\\\\]+)`, 'g');
/** `redis-cli -a <secret>` (its password flag). */
const REDIS_RE = new RegExp(`(\\bredis-cli(?=\\s)${CMD_UNIT}*?\\s-a\\s+)((?!-)[^\\s"';&|\\\\]+)`, 'g');
/** `kubectl create secret generic --from-literal=key=<secret>` (also `--from-literal key=<secret>`). */
const FROM_LITERAL_RE = /(--from-literal(?:=|\s+)["']?[^=\s"']*=)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
/**
 * Provider tokens by their documented format, with nothing around them that says so: GitHub (`ghp_`, `gho_`,
 * `ghu_`, `ghs_`, `ghr_` + 36 or more alphanumerics, fine-grained `github_pat_`), GitLab (`glpat-` and the other
 * `gl…-` token types, 20 or more), Slack (`xoxb-`/`xoxp-`/`xoxa-`/`xoxe-`... and `xapp-`, digits then a dash),
 * Stripe (`sk_live_`, `rk_live_`, and `_test_`), npm (`npm_` + 36), Google API keys (`AIza` + 35), Hugging Face
 * (`hf_`), SendGrid (`SG.x.y`), Shopify (`shpat_`...), DigitalOcean (`dop_v1_`...), PyPI (`pypi-AgEIcHlwaS5vcmc`),
 * Grafana (`glsa_`, `glc_`). Not inside a
 * longer word (`my_ghp_...`); the prefix stays (`ghp_[REDACTED]`: which kind of token it was).
 */
const PROVIDER_TOKEN_RE =
  /(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244}|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-[A-Za-z0-9_.-]{20,}|xox[abeoprs]-\d+-[A-Za-z0-9-]{8,}|xapp-\d+-[A-Za-z0-9-]{8,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|npm_[A-Za-z0-9]{36}|AIza[A-Za-z0-9_-]{35}|hf_[A-Za-z0-9]{34,40}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|do[opr]_v1_[a-f0-9]{64}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})(?![A-Za-z0-9_-])/g;
/**
 * OpenAI / Anthropic style `sk-` keys (`sk-…`, `sk-proj-…`, `sk-ant-api03-…`): 32 or more key characters that
 * mix upper case, lower case and digits (`sk-prod-account-readonly-role-xyz1`, a name, stays).
 */
const SK_KEY_RE = /(?<![A-Za-z0-9_-])sk-((?:proj|svcacct|admin|ant-api\d\d|ant-admin\d\d)-)?([A-Za-z0-9_-]{32,})/g;
/** A Slack incoming-webhook or workflow URL: the path after the host is the secret. */
const SLACK_HOOK_RE = /(hooks\.slack\.com\/(?:services|workflows|triggers)\/)(?!\[REDACTED)[A-Za-z0-9_/-]+/g;

/** What stays of a provider token: its kind (`ghp_`, `xoxb-`, `sk_live_`, `AIza`). */
function tokenPrefix(m: string): string {
  const k = m.startsWith('github_pat_') ? 11 : m.startsWith('AIza') ? 4 : m.startsWith('SG.') ? 3 : m.startsWith('do') ? 7 : m.charCodeAt(1) === 0x6b && m.charCodeAt(2) === 0x5f ? 8 : m.search(/[_-]/) + 1;
  return m.slice(0, k) + REDACTED;
}

/** The password in a URL's user info: `postgres://app:<secret>@db/orders`, `https://x-access-token:<secret>@github.com/...`. */
const USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]*:)([^\s/?#"'<>]+)@/gi;
/**
 * A long flag whose name ends in a secret's name, with any prefix, then its value: `--master-user-password x`,
 * `--s3-secret-access-key x`, `--aws-session-token x`, `--secret-string x` (Secrets Manager), `--webhook-secret x`.
 * `--no-password` and `--password-file` are not (a negation; a name that goes on); a secret's name after
 * `pull-`, `tls-`, `ssl-`, `cert-` or `ref-` is a Kubernetes Secret's name; a value starting with `-` is the next flag, one starting with `<` a redirect (`gh auth login --with-token < f`).
 */
const LONG_FLAG_RE =
  /((?<![A-Za-z0-9_-])--(?!no-)(?:[a-z0-9]+[-_])*?(?<!(?:pull|tls|ssl|cert|ref)[-_])(?:password|passwd|passphrase|pass|pwd|token|secret|secret[-_](?:access[-_])?key|access[-_]token|session[-_]token|api[-_]?key|client[-_]secret|secret[-_](?:string|binary)|account[-_]key|shared[-_]access[-_]key|pre[-_]shared[-_]key)(?:=|\s+))(?![-<])("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/gi;
/** `aws ssm put-parameter --type SecureString --value x`: the value of a SecureString, in one command (up to `;`, `&`, `|`). */
const SSM_PUT_RE = /\bput-parameter\b[^;&|\n]*/g;
const SSM_VALUE_RE = /(--value(?:=|\s+))(?!-)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g;
/**
 * A secret-named key and its value in a text (a ConfigMap's file, a JSON or YAML document in a string): `pass: x`,
 * `"webhookSecret": "x"`, `DB_PASS=x`, `--secret_key=x`. The key is tested by isTextSecretKey (the structured
 * rule's names); `true`, `false` and `null` stay (a switch, not a secret).
 */
const TEXT_KEY_RE = /((?<![A-Za-z0-9_.-])(\\?["']?)-{0,2}([A-Za-z_][A-Za-z0-9_.-]{0,80})\2[ \t]*[:=][ \t]*(?:[Nn]?\\?["'])?)(?![Nn]'|(?:[oO][lL][dD]_)?[pP][aA][sS][sS][wW][oO][rR][dD][ \t]*\()([^\s"',;&|\\{}[\]]+)/g;
/** A text-form key: `"pass"`, `pass:`, `DB_PASS=` (isSecretKey, without the header names AUTH_RE and HEADER_RE handle). */
export function isTextSecretKey(k: string): boolean {
  if (k === 'auth' || k === 'AUTH' || k === 'Auth') return true;
  // Round 11: the environment variables sshpass (`-e`), libpq (PGPASS) and redis-cli read a password from.
  if (k === 'SSHPASS' || k === 'PGPASS' || k === 'REDISCLI_AUTH') return true;
  const c = k.charCodeAt(k.length - 1) | 0x20;
  if ((c === 0x64 || c === 0x79 || c === 0x74 || c === 0x6e) && k.length >= 6 && SECRET_KEY_SUFFIX_RE.test(k)) return true;
  if (c === 0x73 && tailIs(k, 'passwords')) return true;
  if (c === 0x79 && k.charCodeAt(k.length - 1) === 0x59 && isKeyName(k, UPPER_KEY_NAME_RE)) return true;
  // DMS's Oracle TDE password (`--oracle-settings SecurityDbEncryption=x`, extra connection attributes).
  if (c === 0x6e && TDE_KEY_RE.test(k)) return true;
  return endsInSecretWord(k);
}
const TDE_KEY_RE = /^security_?db_?encryption$/i;
/** An env entry written as JSON text (a GuardDuty finding's request parameters): `{"name":"DB_PASSWORD","value":"x"}`. */
const ENV_JSON_RE = /("name"\s*:\s*"([^"\\]{1,128})"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)"/g;
/** An env entry written as YAML text: `- name: DB_PASSWORD` then `value: x` on the next line. */
const ENV_YAML_RE = /(\bname:[ \t]*["']?([A-Za-z0-9_.-]{1,128})["']?[ \t]*\r?\n[ \t]*value:[ \t]*["']?)([^\s"']+)/g;
/**
 * Per program, the flag that takes a password (OpenLDAP clients' `-w`, sqlcmd's, bcp's and osql's `-P`): glued
 * (`-wpw`) or the next argument, only after the program's word in the same command (up to `;`, `&`, `|`), so
 * `ldapsearch -W` (prompts) or another program's `-w` / `-P` stay.
 */
const LDAP_PROG = 'ldap(?:search|modify|add|delete|whoami|passwd|compare|modrdn|exop|url)';
const SQLCMD_PROG = '(?:sqlcmd|bcp|osql|isql)';
const flagRe = (prog: string, flag: string): RegExp =>
  new RegExp(`(\\b${prog}(?=\\s)${CMD_UNIT}*?\\s${flag})(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+))`, 'g');
const LDAP_RE = flagRe(LDAP_PROG, '-w');
const SQLCMD_RE = flagRe(SQLCMD_PROG, '-P');
/** zip's and unzip's `-P` (the archive's password; `zip --password x` is the flag rule's). */
const ZIP_PROG = '(?:un)?zip';
const ZIP_RE = flagRe(ZIP_PROG, '-P');
/** 7-Zip's and RAR's `-p<password>`, glued only: a lone `-p` prompts (the next argument is the archive). `-p-` is "no password". */
const SEVENZ_PROG = '(?:7z[arz]?|(?:un)?rar)';
const SEVENZ_RE = new RegExp(`(\\b${SEVENZ_PROG}(?=\\s)${CMD_UNIT}*?\\s-p)("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)`, 'g');
/**
 * Samba's clients: `smbclient -U user%password` (`-Uuser%pw`, `--user=user%pw`, `--user user%pw`), what follows the
 * first `%` (the user, `DOMAIN\\user`, stays; `-U user` alone prompts and stays). Round 9: a quoted argument counts whole
 * (CMD_UNIT), so `smbclient //h/s -c "cd x; get y" -U u%pw` (its documented way to run several commands) loses the password.
 */
const SMB_PROG = '(?:smbclient|rpcclient|smbcacls|smbget)';
const SMB_RE = new RegExp(`(\\b${SMB_PROG}(?=\\s)${CMD_UNIT}*?\\s(?:-U[ \\t]*|--user(?:=|[ \\t]+))["']?[^\\s%"';&|]*%)([^\\s"';&|\\\\]+)`, 'g');
/** openssl's `-k <password>` (enc), `-K <hex key>` (enc's raw key) and `-hmac <key>` (dgst); `-kfile`, `-pass file:` stay. */
const OPENSSL_RE = new RegExp(`(\\bopenssl(?=\\s)${CMD_UNIT}*?\\s-(?:k|K|hmac)\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]*"|'[^']*')`, 'g');
/**
 * An Oracle client's command (SQL*Plus, SQL*Loader, Data Pump, legacy exp/imp, RMAN, Data Guard's dgmgrl), up to
 * `;`, `&`, `|`: its logon `user/password@db` (`@//host:1521/svc`) anywhere, and `user/password` (a local database)
 * as the first argument after the options, after RMAN's `target` / `catalog` / `auxiliary` or after `userid=`.
 * Outside such a command `a/b@c` is a path and stays; so do `/ as sysdba` and a wallet's `/@tns` (no password).
 */
const ORACLE_PROG = '(?:sqlplus|sqlldr|expdp|impdp|exp|imp|rman|dgmgrl)';
const ORACLE_CMD_RE = new RegExp(`\\b${ORACLE_PROG}(?=\\s)${CMD_UNIT}*`, 'g');
/** A logon in an Oracle command: what precedes it, `user/` (quoted or not), the password, then `@` or the word's end. */
const ORACLE_LOGON_RE = /(\s|\buserid=)(["']?[A-Za-z0-9_$#.]+\/)([^\s@/"';&|\\]+)(?=(@)|["']?(?:\s|$))/g;
/** Before a logon without `@`: only options after the program, or RMAN's connection keyword. */
const ORACLE_LOCAL_BEFORE_RE = /^\S*(?:\s+-\S+)*$|\s(?:target|catalog|auxiliary)$/i;
/** An Oracle JDBC thin URL with a logon, in any string: `jdbc:oracle:thin:user/<secret>@//host:1521/svc` (`@host:port:sid`). */
const JDBC_THIN_RE = /(jdbc:oracle:thin:["']?[A-Za-z0-9_$#.]+["']?\/)([^\s@/"';&|\\]+)(?=@)/gi;
const JDBC_THIN_GATE = /thin:/i;
export function scrubOracleCommand(cmd: string): string {
  return cmd.replace(ORACLE_LOGON_RE, (m, pre: string, user: string, pw: string, at: string | undefined, off: number) => {
    if (pw.startsWith('[REDACTED')) return m;
    if (at === undefined && pre !== 'userid=' && !ORACLE_LOCAL_BEFORE_RE.test(cmd.slice(0, off))) return m;
    return pre + user + REDACTED;
  });
}
/**
 * Round 6. An Oracle logon in SQL text (a script piped to a client, a ConfigMap's `.sql` file): `CONNECT user/pw`,
 * `CONN user/pw@db`, at a statement's start (a line's, after a quote, `;` or `(`). Redacted when `@` follows, or
 * `;` or `AS SYS…`, or when the string names an Oracle client (`echo "connect app/pw" | sqlplus /nolog`): `connect
 * db/primary` in prose stays, and so does `CONNECT host:443` (HTTP), `connect / as sysdba` (no password).
 */
const CONNECT_RE = /((?:^|[\s"'`;(])conn(?:ect)?[ \t]+["']?[A-Za-z0-9_$#.]+["']?\/)("[^"]*"|[^\s@/"';&|\\]+)(?=(@|;|[ \t]+as[ \t]+sys)?)/gim;
const CONNECT_GATE = /conn(?:ect)?[ \t]/i;
/**
 * Impacket's examples (`secretsdump.py`, Kali's `impacket-secretsdump`...): the target `[domain/]user:password@host`,
 * or `domain/user:password` (getTGT.py, GetUserSPNs.py), in one command (up to `;`, `&`, `|`). Outside such a
 * command `a/b:c@d` is a path or a URL and stays. `-hashes LM:NT` and `-aesKey <hex>` are redacted after any program.
 */
const IMPACKET_PROG =
  '(?:impacket-[a-z0-9]+|(?:secretsdump|psexec|wmiexec|smbexec|atexec|dcomexec|getTGT|getST|GetUserSPNs|GetNPUsers|GetADUsers|GetLAPSPassword|mssqlclient|lookupsid|ticketer|reg|rpcdump|samrdump|addcomputer|dacledit|owneredit|rbcd|changepasswd|findDelegation|getPac|goldenPac|raiseChild|services|smbclient|wmiquery|netview|Get-GPPPassword|DumpNTLMInfo|keylistattack|describeTicket)\\.py)';
const IMPACKET_CMD_RE = new RegExp(`(?<![A-Za-z0-9_-])${IMPACKET_PROG}(?=\\s)${CMD_UNIT}*`, 'gi');
/** The target with a host: user, then the password (quoted parts allowed, `@` inside it too), up to the last `@host`. */
const IMPACKET_TARGET_RE = /(\s["']?(?:[A-Za-z0-9_.-]+\/)?[^\s/:@"']+:)((?:'[^']*'|"[^"]*"|[^\s"'])+?)(?=@[^\s@"':]+["']?(?:\s|$))/g;
/** The identity without a host: `domain/user:password`. */
const IMPACKET_ID_RE = /(\s["']?[A-Za-z0-9_.-]+\/[^\s/:@"']+:)((?:'[^']*'|"[^"]*"|[^\s"'@])+)(?=["']?(?:\s|$))/g;
const IMPACKET_GATE = /\.py\s|impacket-/i;
export function scrubImpacketCommand(cmd: string): string {
  return cmd.replace(IMPACKET_TARGET_RE, valueReplace).replace(IMPACKET_ID_RE, valueReplace);
}
const HASHES_RE = /((?<![A-Za-z0-9_-])-(?:hashes|aesKey)(?:=|\s+))((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/gi;
const HASHES_GATE = /hashes|aeskey/i;
/**
 * Lateral-movement and brute-force clients whose `-p` is the password (NetExec `nxc`, CrackMapExec, evil-winrm, hydra,
 * medusa, smbmap, rdesktop; round 8: rabbitmqadmin, whose `-P` is the port): glued or the next argument, quoted or not; `-p -` (rdesktop's prompt) and `-P` (a port or a
 * word list) stay. `-H <hash>` of NetExec, CrackMapExec and evil-winrm (smbmap's `-H` is the host).
 */
const PW_P_PROG = '(?:nxc|netexec|crackmapexec|cme|evil-winrm|hydra|medusa|smbmap|rdesktop|rabbitmqadmin|twine)';
const HASH_H_PROG = '(?:nxc|netexec|crackmapexec|cme|evil-winrm)';
const progFlagRe = (prog: string, flag: string): RegExp =>
  new RegExp(`(\\b${prog}(?=\\s)${CMD_UNIT}*?\\s${flag})(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g');
const PW_P_RE = progFlagRe(PW_P_PROG, '-p');
const HASH_H_RE = progFlagRe(HASH_H_PROG, '-H');
const PW_P_GATE = /nxc|netexec|crackmapexec|cme|evil-winrm|hydra|medusa|smbmap|rdesktop|rabbitmqadmin|twine/;
/** FreeRDP's `/p:<password>` and `/pth:<NT hash>` (xfreerdp, wfreerdp, sdl-freerdp, their 3.x names). */
const FREERDP_RE = new RegExp(`(\\b(?:[xw]|sdl-|wl)?freerdp3?(?=\\s)${CMD_UNIT}*?\\s\\/(?:p|pth):)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g');
const FREERDP_GATE = /freerdp/;
/**
 * Windows `net use [device] \\host\share <password> [/user:...]` and `net user <name> <password> [/add]`: the positional
 * argument after the share, or after the user's name (netSecretAt); `*` (a prompt) stays. Only where a command starts
 * (the string's or a line's start, after `;`, `&`, `|`, `(`, a quote, `=`, `cmd /c`, or a path: `C:\Windows\...\net.exe`),
 * so `the net user count grew` in prose stays.
 */
const NET_CMD_RE = new RegExp(`(?<=(?:^|[;&|(\\n"'\`=])[ \\t]*|\\/[ck][ \\t]+|[\\\\/])net(?:\\.exe)?[ \\t]+(use|user)\\b(${CMD_UNIT}*)`, 'gi');
const NET_GATE = /net(?:\.exe)?[ \t]+use/i;
const NET_WORD_RE = /"[^"]*"|'[^']*'|[^\s"']+/g;
const NET_DEVICE_RE = /^(?:[A-Za-z]:|\*|(?:LPT|COM)\d:)$/i;
const SAMBA_USER_VERB_RE = /^(?:add|delete|del|info|rename|password)$/;
/** Which of `words` (after `net use` or `net user`) is the password, or -1. */
function netSecretAt(sub: string, words: readonly string[]): number {
  const pos: number[] = [];
  for (let i = 0; i < words.length; i++) if (!(words[i] as string).startsWith('/')) pos.push(i);
  let k = 0;
  if (sub.toLowerCase() === 'use') {
    if (NET_DEVICE_RE.test(words[pos[0] ?? -1] ?? '')) k++;
    if (!(words[pos[k] ?? -1] ?? '').startsWith('\\\\')) return -1;
    k++;
  } else {
    // Samba's `net user add <name> [<password>]` (`net user delete|info|rename` take none).
    const verb = (words[pos[0] ?? -1] ?? '').toLowerCase();
    if (SAMBA_USER_VERB_RE.test(verb)) {
      if (verb !== 'add' && verb !== 'password') return -1;
      k = 2;
    } else k = 1;
  }
  const at = pos[k];
  if (at === undefined) return -1;
  const w = words[at] as string;
  return w === '*' || w === '""' || w === "''" || w.startsWith('[REDACTED') ? -1 : at;
}
export function scrubNetCommand(m: string, sub: string, args: string): string {
  const words = [...args.matchAll(NET_WORD_RE)];
  const at = netSecretAt(
    sub,
    words.map((w) => w[0]),
  );
  const w = words[at];
  if (w === undefined) return m;
  const i = m.length - args.length + (w.index ?? 0);
  return m.slice(0, i) + REDACTED + m.slice(i + w[0].length);
}
/** openssl's MAC, KDF and key options that carry a key or a password: `-macopt key:x`, `-macopt hexkey:x`, `-kdfopt pass:x`. */
const OPENSSL_OPT_RE = /((?<![A-Za-z0-9_-])-(?:mac|kdf|pkey|sig)opt(?:=|\s+)["']?(?:hex)?(?:key|pass|secret):)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
const OPENSSL_OPT_GATE = /(?:mac|kdf|pkey|sig)opt/;
/** `mysqladmin [options] password <new>` (`old-password`; mariadb-admin): the new password (its `-p<old>` is MYSQL_RE's). */
const MYSQLADMIN_RE = new RegExp(`(\\b(?:mysqladmin|mariadb-admin)(?=\\s)${CMD_UNIT}*?\\s(?:old-)?password\\s+)("[^"]*"|'[^']*'|(?!-)[^\\s"';&|\\\\]+)`, 'g');
const MYSQLADMIN_GATE = /mysqladmin|mariadb-admin/;
/** Round 13: mysqladmin's commands. After its lone `-p` (which prompts) such a word is the command, not a password. */
const MYSQLADMIN_CMD_WORD_RE = /^(?:create|debug|drop|extended-status|flush-[a-z-]+|kill|old-password|password|ping|processlist|reload|refresh|shutdown|st(?:art|op)-(?:replica|slave)|status|variables|version)$/;
const MYSQLADMIN_PROG_RE = /^(?:mysqladmin|mariadb-admin)\s/;
/** MYSQL_RE's replacement: the glued or the next argument, unless a mysqladmin command word after a lone `-p`. */
export function mysqlFlagReplace(m: string, k: string, glued: string | undefined, sp: string | undefined, spaced: string | undefined): string {
  const v = glued ?? spaced ?? '';
  if (v.startsWith('[REDACTED')) return m;
  if (spaced !== undefined && MYSQLADMIN_CMD_WORD_RE.test(spaced) && MYSQLADMIN_PROG_RE.test(k)) return m;
  return k + (sp ?? '') + REDACTED;
}
/** Any of round 6's words (one scan for the usual string that names none, before each pattern's own gate). */
const ROUND6_GATE = /conn|\.py\s|impacket-|hashes|aeskey|nxc|netexec|crackmapexec|cme|evil-winrm|hydra|medusa|smbmap|rdesktop|rabbitmqadmin|twine|freerdp|net(?:\.exe)?[ \t]+use|opt[\s=]/i;
/*
 * Round 7. Each program's command (up to `;`, `&`, `|`) is found first, then its flags inside it, so a command with
 * two secret flags (`snmpwalk -A x -X y`) loses both.
 */
/** A per-program password flag inside one command: glued (`-cx`) or the next argument, quoted or not. */
const cmdFlagRe = (flag: string): RegExp =>
  new RegExp(`(\\s${flag})(?:("[^"]+"|'[^']+'|[^\\s"';&|\\\\-][^\\s"';&|\\\\]*)|(\\s+)((?!-)[^\\s"';&|\\\\]+|"[^"]+"|'[^']+'))`, 'g');
/** Net-SNMP's clients: `-c <community>`, SNMPv3 `-A <auth pass>`, `-X <priv pass>`, `-3k`/`-3K`/`-3m`/`-3M` keys (not snmpd's `-c <config file>`). */
const SNMP_PROG = 'snmp(?:walk|bulkwalk|get|getnext|bulkget|set|table|trap|inform|delta|df|netstat|status|test|usm|vacm)';
const SNMP_CMD_RE = new RegExp(`\\b${SNMP_PROG}(?=\\s)${CMD_UNIT}*`, 'g');
const SNMP_FLAG_RE = cmdFlagRe('-(?:c|A|X|3[kKmM])');
/** FreeRDP's legacy (1.0) `-p <password>`: spaced only (a `-` word glued is a feature switch in the current syntax). */
const FREERDP_CMD_RE = new RegExp(`\\b(?:[xw]|sdl-|wl)?freerdp3?(?=\\s)${CMD_UNIT}*`, 'g');
const FREERDP_LEGACY_RE = /(\s-p\s+)((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/g;
/** ssh-keygen's `-N <new passphrase>` and `-P <old passphrase>` (`-N ''`, no passphrase, stays). */
const SSH_KEYGEN_CMD_RE = new RegExp(`\\bssh-keygen(?=\\s)${CMD_UNIT}*`, 'g');
const SSH_KEYGEN_FLAG_RE = cmdFlagRe('-[NP]');
/** etcdctl's `--user user:<password>` (v3), `-u user:<password>` / `--username` (v2): what follows the first colon. */
const ETCDCTL_CMD_RE = new RegExp(`\\betcdctl(?=\\s)${CMD_UNIT}*`, 'g');
const ETCDCTL_USER_RE = /(\s(?:--user(?:name)?(?:=|\s+)|-u\s+)["']?[^\s:"']+:)([^\s"';&|\\]+)/g;
/** lftp's `-u user,<password>` (also `open -u` in its `-e` script): what follows the first comma; `-u user` prompts. */
const LFTP_CMD_RE = new RegExp(`\\blftp(?=\\s)${CMD_UNIT}*`, 'g');
const LFTP_USER_RE = /(\s-u[ \t]*)(?:(["'])([^,"'\n]+,)[^"'\n]+(?=\2)|([^\s,"']+,)[^\s"';&|\\]+)/g;
export function scrubLftpCommand(cmd: string): string {
  return cmd.replace(LFTP_USER_RE, (m, pre: string, q: string | undefined, qUser: string | undefined, user: string | undefined) =>
    m.includes('[REDACTED') ? m : q !== undefined ? pre + q + (qUser as string) + REDACTED : pre + (user as string) + REDACTED,
  );
}
/** Samba's `net` (ads, rpc...), smbtree, winexe, smbcquotas, samba-tool: `-U user%<password>`, like the smbclient rule. */
const SAMBA_NET_CMD_RE = new RegExp(`(?<![\\w.-])(?:net|smbtree|winexe|smbcquotas|samba-tool)(?=\\s)${CMD_UNIT}*`, 'g');
const SAMBA_USER_RE = /(\s(?:-U[ \t]*|--user(?:=|[ \t]+))["']?[^\s%"';&|]+%)([^\s"';&|\\]+)/g;
/**
 * A secret piped in: what `echo` / `printf` writes into `docker login --password-stdin` (and helm, podman, oras...),
 * `gh auth login --with-token`, `passwd --stdin`, `sudo -S`, in one pipeline; or a here-string (`<<< x`) to them. A
 * variable or a command substitution (`echo "$CI_REGISTRY_PASSWORD"`, `$(aws ecr get-login-password)`) stays.
 */
const STDIN_TAKER = `(?:--password-stdin|--with-token|\\bpasswd\\b[^;&|\\n]*?[ \\t]--stdin|\\bsudo(?:[ \\t]+-[ugpCDhrtT][ \\t]+[^\\s-]\\S*|[ \\t]+-[A-Za-z]+)*?[ \\t]+-[A-Za-z]*S\\b)`;
const STDIN_ECHO_RE = new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?${STDIN_TAKER}))`, 'g');
const STDIN_HERE_RE = new RegExp(`(${STDIN_TAKER}[^;&|\\n]*?<<<[ \\t]*)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g');
const STDIN_GATE = /-stdin|with-token|sudo/;
const VAR_REF_RE = /^["']?\$/;
export function scrubEchoToStdin(m: string, prog: string, opts: string, text: string, pipe: string): string {
  if (text.startsWith('[REDACTED') || VAR_REF_RE.test(text)) return m;
  if (prog === 'printf') {
    // printf FORMAT ARG...: with a `%` in the format, the arguments are the secret and the format stays.
    const words = [...text.matchAll(NET_WORD_RE)];
    const first = words[0];
    if (first !== undefined && first[0].includes('%')) {
      if (words.length < 2 || (words[1] as RegExpMatchArray)[0].startsWith('[REDACTED') || VAR_REF_RE.test((words[1] as RegExpMatchArray)[0])) return m;
      return prog + opts + text.slice(0, (words[1] as RegExpMatchArray).index) + REDACTED + pipe;
    }
  }
  return prog + opts + REDACTED + pipe;
}
export function scrubHereStdin(m: string, k: string, v: string): string {
  return v.startsWith('[REDACTED') || VAR_REF_RE.test(v) ? m : k + REDACTED;
}
/** Commands whose password is told by its position (rabbitmqctl, vault login, mc alias set): see positionalSecretAt. */
const POSITIONAL_CMD_RE = new RegExp(`(?<![\\w.-])(rabbitmqctl|vault|mc)(?:\\.bat|\\.exe)?((?:[ \\t]+${WORD_UNIT}+)+)`, 'g');
const unquote = (w: string): string => (w.length >= 2 && (w[0] === '"' || w[0] === "'") && w.endsWith(w[0] as string) ? w.slice(1, -1) : w);
const RABBIT_VERB_RE = /^(?:add_user|change_password|authenticate_user)$/;
/** vault's flags that take a value when not written `-flag=value` (the others are switches: the word after them may be the token). */
const VAULT_VALUE_FLAG_RE = /^--?(?:method|path|address|namespace|ns|format|field|ca-cert|ca-path|client-cert|client-key|tls-server-name|wrap-ttl|mfa|header|agent-address|policy-override|unlock-key)$/;
const MC_VALUE_FLAG_RE = /^--(?:api|path|config-dir)$/;
/**
 * Which of `words` (the arguments after the program) is a password told by its position, or -1:
 * `rabbitmqctl [opts] add_user|change_password|authenticate_user <user> <password>`;
 * `vault login [flags] <token>` (a `key=value` is an auth method's setting, `-` reads stdin);
 * `mc alias set|config host add <alias> <url> <access key> <secret key>` (the access key id stays, like `AKIA…`).
 */
export function positionalSecretAt(prog: string, words: readonly string[]): number {
  const p = prog.toLowerCase();
  let at = -1;
  if (p === 'rabbitmqctl') {
    const verb = words.findIndex((w) => RABBIT_VERB_RE.test(w));
    if (verb < 0) return -1;
    let n = 0;
    for (let i = verb + 1; i < words.length && at < 0; i++) if (!(words[i] as string).startsWith('-') && n++ === 1) at = i;
  } else if (p === 'vault') {
    let i = 0;
    while (i < words.length && (words[i] as string).startsWith('-')) i++;
    if (words[i] !== 'login') return -1;
    for (i++; i < words.length; i++) {
      const w = words[i] as string;
      if (w === '-') return -1;
      if (w.startsWith('-')) {
        if (!w.includes('=') && VAULT_VALUE_FLAG_RE.test(w)) i++;
        continue;
      }
      if (!unquote(w).includes('=')) at = i;
      if (at >= 0) break;
    }
  } else {
    const pos: number[] = [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      if (w.startsWith('-')) {
        if (!w.includes('=') && MC_VALUE_FLAG_RE.test(w)) i++;
        continue;
      }
      pos.push(i);
    }
    const verb = pos.map((i) => words[i]).join(' ');
    const skip = verb.startsWith('alias set ') ? 2 : verb.startsWith('config host add ') ? 3 : -1;
    if (skip < 0) return -1;
    at = pos[skip + 3] ?? -1;
  }
  const w = at < 0 ? '' : unquote(words[at] as string);
  return w === '' || w.startsWith('[REDACTED') ? -1 : at;
}
export function scrubPositionalCommand(m: string, prog: string, args: string): string {
  const words = [...args.matchAll(NET_WORD_RE)];
  const w = words[positionalSecretAt(prog, words.map((x) => x[0]))];
  if (w === undefined) return m;
  const i = m.length - args.length + (w.index ?? 0);
  return m.slice(0, i) + REDACTED + m.slice(i + w[0].length);
}
const POSITIONAL_GATE = /rabbitmqctl|vault|mc[ \t]/;
/** Any of round 7's programs (one scan for the usual string that names none, before each pattern's own gate). */
const ROUND7_GATE = /snmp|freerdp|ssh-keygen|etcdctl|lftp|net|smbtree|winexe|smbcquotas|samba-tool|-stdin|with-token|sudo|rabbitmqctl|vault|mc[ \t]/;
/*
 * Round 8: chpasswd's input, snmpusm passwd, doctl -t, SQL password clauses (rabbitmqadmin -p is round 6's -p rule; Samba's
 * `net -U u%pw rpc` needed only a hint word; a quoted `-e` / `-c` script's `;` is CMD_UNIT's).
 */
/**
 * chpasswd and chgpasswd read `name:password` lines: what `echo` / `printf` writes into one (through other pipes: `| sudo
 * chpasswd`), a here-string (`<<< 'u:pw'`) or a here-document to it. The names stay (scrubChpasswdPairs).
 */
const CHPASSWD_TAKER = '\\bchg?passwd\\b';
const CHPASSWD_ECHO_RE = new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?${CHPASSWD_TAKER}))`, 'g');
const CHPASSWD_HERE_RE = new RegExp(`(${CHPASSWD_TAKER}[^;&|\\n]*?<<<[ \\t]*)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g');
/** A `name:password` pair of chpasswd's input (a line's start, after a space, a quote or printf's `\n`). */
const CHPASSWD_PAIR_RE = /((?:^|[\s'"]|\\n)[^\s:'"\\]+:)([^\s'"\\]+)/g;
/** A crypt(3) hash (`$6$salt$...`, `$y$...`: `chpasswd -e`), not a variable. */
const CRYPT_HASH_RE = /^\$[0-9a-z]{1,2}\$/;
/** The passwords of `name:password` pairs; a variable or a command substitution (`$PW`, `$(pwgen)`) stays. */
export function scrubChpasswdPairs(text: string): string {
  return text.replace(CHPASSWD_PAIR_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') || (v.startsWith('$') && !CRYPT_HASH_RE.test(v)) ? m : k + REDACTED));
}
export function scrubEchoToChpasswd(m: string, prog: string, opts: string, text: string, pipe: string): string {
  const t = prog === 'printf' && text.includes('%') ? scrubPrintfToChpasswd(text) : scrubChpasswdPairs(text);
  return t === text ? m : prog + opts + t + pipe;
}
/** snmpusm's `passwd [-Co] [-Ca] [-Cx] <old passphrase> <new passphrase> [user]`: both passphrases, told by their position. */
const SNMPUSM_CMD_RE = new RegExp(`\\bsnmpusm(?=\\s)${CMD_UNIT}*`, 'g');
export function scrubSnmpusmCommand(cmd: string): string {
  const words = [...cmd.matchAll(NET_WORD_RE)];
  const verb = words.findIndex((w) => w[0] === 'passwd');
  if (verb < 0) return cmd;
  const at: RegExpMatchArray[] = [];
  for (let i = verb + 1; i < words.length && at.length < 2; i++) if (!(words[i] as RegExpMatchArray)[0].startsWith('-')) at.push(words[i] as RegExpMatchArray);
  let out = cmd;
  for (const w of at.reverse()) if (!w[0].startsWith('[REDACTED')) out = out.slice(0, w.index) + REDACTED + out.slice((w.index ?? 0) + w[0].length);
  return out;
}
/** doctl's global `-t <token>` (`-t=<token>`, `-t<token>`; `--access-token` is the long-flag rule's), in any doctl command. */
const DOCTL_RE = progFlagRe('doctl', '-t=?');
/**
 * Passwords in SQL text (a `mysql -e` / `psql -c` script, a `.sql` file in a ConfigMap): `IDENTIFIED [WITH <plugin>] BY x` in a
 * `CREATE` / `ALTER` / `GRANT` statement (MySQL, Oracle's `IDENTIFIED BY tiger`, a database link's), MySQL's `PASSWORD('x')`
 * and `SET PASSWORD FOR u = 'x'`, PostgreSQL's `CREATE|ALTER USER|ROLE ... [WITH] [ENCRYPTED] PASSWORD 'x'`. A quoted value
 * keeps its quotes. `IDENTIFIED WITH auth_socket`, `IDENTIFIED BY RANDOM PASSWORD`, `PASSWORD NULL` stay; `SET PASSWORD = 'x'`
 * and `WITH PASSWORD = 'x'` (SQL Server) are the key rule's.
 */
const SQL_IDENTIFIED_RE = /((?:^|[\s"'`;(])(?:create|alter|grant)[ \t][^;\n]*?\bidentified[ \t]+(?:with[ \t]+\S+[ \t]+)?by[ \t]+(?:password[ \t]+)?)(?!random[ \t]+password\b)('[^']*'|"[^"]*"|[^\s"';,)\\]+)/gi;
const SQL_PASSWORD_FN_RE = /(\b(?:old_)?password[ \t]*\([ \t]*)('[^']*'|"[^"]*")/gi;
const SQL_SET_PASSWORD_FOR_RE = /(\bset[ \t]+password[ \t]+for[ \t]+[^\s=]+[ \t]*=[ \t]*)('[^']*'|"[^"]*")/gi;
/** Round 12: Oracle's `ALTER USER u IDENTIFIED BY new REPLACE old`: the old password too, once the new one is redacted. */
const SQL_REPLACE_RE = /(\bidentified[ \t]+by[ \t]+(?:'\[REDACTED\]'|"\[REDACTED\]"|\[REDACTED\])[ \t]+replace[ \t]+)('[^']*'|"[^"]*"|[^\s"';,)\\]+)/gi;
/** Round 12: the MongoDB shell's `db.changeUserPassword("u", "x")` and `db.auth("u", "x")`: the second argument, quotes kept. */
const MONGO_PW_RE = /(\b(?:changeUserPassword|auth)\([ \t]*(["'])[^"'\n]*\2[ \t]*,[ \t]*)(["'])([^"'\n]*)\3/g;
export function scrubMongoPassword(m: string, k: string, _q: string, q: string, v: string): string {
  return v === '' || v.startsWith('[REDACTED') || v.startsWith('$') ? m : k + q + REDACTED + q;
}
const SQL_ROLE_PASSWORD_RE = /((?:^|[\s"'`;(])(?:create|alter)[ \t]+(?:user|role)\b[^;\n]*?\bpassword[ \t]+)('[^']*'|"[^"]*")/gi;
export function sqlValueReplace(m: string, k: string, v: string): string {
  if (v.includes('[REDACTED') || v === "''" || v === '""') return m;
  const q = v[0] === "'" || v[0] === '"' ? v[0] : '';
  return k + q + REDACTED + q;
}
/** Any of round 8's words (one scan for the usual string that names none, before each pattern's own gate). */
const ROUND8_GATE = /passwd|snmpusm|doctl|identified|password/i;
/*
 * Round 9: printf's format into chpasswd, more programs that read a password on stdin (kinit, passwd, smbpasswd -s,
 * cryptsetup, gpg --passphrase-fd 0), password flags of ipmitool, mosquitto, sqsh, tsql, vsql, valkey-cli / keydb-cli,
 * PsExec, cqlsh, usermod / useradd, winrs and schtasks (a quoted `;` before sqlcmd's `-P` or ldapsearch's `-w` is CMD_UNIT's,
 * in flagRe and progFlagRe; gpg's `--passphrase x` is the long-flag rule's).
 */
/** A printf conversion (`%s`, `%-10s`; `%%` is a literal percent). */
const PRINTF_CONV_RE = /%(?:%|[-+ #0-9.]*[a-zA-Z])/g;
/**
 * `printf FORMAT ARG... | chpasswd`: a conversion after a `:` on its line of the format stands in a password's place, and the
 * arguments are taken by the conversions in turn (the format reused while arguments remain: `printf '%s:%s\n' u1 pw1 u2 pw2`).
 * Those arguments go, unless a variable or a command substitution; the others are read as pairs themselves (`printf '%s\n'
 * "u:pw"`), and so is the format (a literal `u:pw`; a conversion is no password).
 */
export function scrubPrintfToChpasswd(text: string): string {
  const words = [...text.matchAll(NET_WORD_RE)];
  const first = words[0];
  if (first === undefined) return text;
  const fmt = unquote(first[0]);
  const inPassword: boolean[] = [];
  for (const m of fmt.matchAll(PRINTF_CONV_RE)) {
    if (m[0] === '%%') continue;
    const before = fmt.slice(0, m.index);
    const line = before.slice(Math.max(before.lastIndexOf('\\n') + 2, before.lastIndexOf('\n') + 1, 0));
    inPassword.push(line.includes(':'));
  }
  let out = '';
  let cur = 0;
  for (let j = 0; j < words.length; j++) {
    const w = words[j] as RegExpMatchArray;
    const at = w.index ?? 0;
    let v: string;
    if (j === 0) v = w[0].replace(CHPASSWD_PAIR_RE, (m, k: string, pw: string) => (pw.startsWith('%') || pw.startsWith('[REDACTED') || pw.startsWith('$') ? m : k + REDACTED));
    else if (inPassword.length > 0 && inPassword[(j - 1) % inPassword.length] === true) v = w[0].startsWith('[REDACTED') || VAR_REF_RE.test(w[0]) ? w[0] : REDACTED;
    else v = scrubChpasswdPairs(w[0]);
    out += text.slice(cur, at) + v;
    cur = at + w[0].length;
  }
  return out + text.slice(cur);
}
/**
 * Programs that read a password on their standard input, as a pipeline's command (after `|`, `;`, `&`, `(`, a quote or a line's
 * start or a YAML list item's `- `, `sudo` and a directory allowed: not `grep passwd /etc/passwd`): kinit (MIT's prompter reads stdin), passwd (PAM reads
 * stdin when it is not a terminal), smbpasswd `-s`, cryptsetup (a passphrase on stdin), gpg `--passphrase-fd 0`.
 */
const STDIN9_PROG = '(?:kinit|passwd|cryptsetup|smbpasswd(?=[^;&|\\n]*?[ \\t]-[a-zA-Z]*s\\b)|gpg2?(?=[^;&|\\n]*?[ \\t]--passphrase-fd[ \\t=]+0\\b))';
const STDIN9_TAKER = `${STDIN9_PROG}(?<=(?:^|[|;&(\\n\`'"]|(?:^|\\n)[ \\t]*-)[ \\t]*(?:sudo(?:[ \\t]+(?:-[ugpCDhrtT][ \\t]+[^\\s-]\\S*|-\\S+))*[ \\t]+)?(?:[\\w.-]*\\/)*(?:kinit|passwd|cryptsetup|smbpasswd|gpg2?))(?![\\w.-])`;
const STDIN9_ECHO_RE = new RegExp(`\\b(echo|printf|yes)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?${STDIN9_TAKER}))`, 'g');
const STDIN9_HERE_RE = new RegExp(`(${STDIN9_TAKER}[^;&|\\n]*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'g');
/** A here-string to a round-9 stdin taker: `$'pw\npw'` (ANSI-C quoting) is a literal, not a variable. */
export function scrubHere9(m: string, k: string, v: string): string {
  return v.startsWith("$'") ? k + REDACTED : scrubHereStdin(m, k, v);
}
/** `-P <password>`: ipmitool (remote server password), mosquitto_pub / _sub / _rr, sqsh, FreeTDS's tsql. */
const UPPER_P9_PROG = '(?:ipmitool|mosquitto_(?:pub|sub|rr)|sqsh|tsql)';
const UPPER_P9_RE = flagRe(UPPER_P9_PROG, '-P');
/** `-w <password>`: Vertica's vsql (`-W` prompts). */
const VSQL_RE = flagRe('vsql', '-w');
/** `-a <password>`: redis-cli's forks valkey-cli and keydb-cli. */
const REDIS9_PROG = '(?:valkey|keydb)-cli';
const REDIS9_RE = flagRe(REDIS9_PROG, '-a');
/** `-p <password>`: Sysinternals PsExec (any case, `.exe`, `64`), cqlsh, and usermod / useradd (a crypt hash, often a password typed by mistake). */
const P9_PROG = '(?:[Pp][Ss][Ee][Xx][Ee][Cc](?:64)?(?:\\.[Ee][Xx][Ee])?|cqlsh|usermod|useradd)';
const P9_RE = progFlagRe(P9_PROG, '-p');
/** winrs `-p:<password>` / `-password:<password>` (also `/p:`). */
const WINRS_RE = new RegExp(`(\\bwinrs(?:\\.exe)?(?=\\s)${CMD_UNIT}*?\\s[-/]p(?:assword)?:)("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gi');
/** schtasks `/p <password>` (of `/u`) and `/rp <password>` (of `/ru`); `/p` followed by an option, `*` or `""` prompts or means none. */
const SCHTASKS_RE = new RegExp(`(\\bschtasks(?:\\.exe)?(?=\\s)${CMD_UNIT}*?\\s\\/r?p[ \\t]+)(?![/*])("[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gi');
/**
 * A password handed to a hashing command, often inside `useradd -p "$(...)"`: `openssl passwd [options] <password>...` (every
 * argument that is not an option or an option's value) and `mkpasswd [options] <password> [<salt>]` (the first). `-stdin`, `-in
 * file`, `mkpasswd -s`, a variable or a command substitution stay. The command ends at `)` or a backquote (a substitution's end).
 */
/** Round 11: a word of the hashing command, a quoted argument whole (WORD_UNIT without `)`, a backtick, `<` or `>`: the end of `$(...)`). */
const HASH_WORD_UNIT = `(?:[^\\s;&|)\`<>"']|(?<![\\s=])["']|(?<=[\\s=])"[^"\\n]*"|(?<=[\\s=])'[^'\\n]*')`;
const HASH_CMD_RE = new RegExp(`\\b(openssl[ \\t]+passwd|mkpasswd)((?:[ \\t]+${HASH_WORD_UNIT}+)+)`, 'g');
const OPENSSL_PASSWD_VALUE_RE = /^-(?:salt|in|rand|writerand|provider|provider-path|propquery)$/;
const MKPASSWD_VALUE_RE = /^(?:-[mSRP]|--(?:method|salt|rounds|password-fd))$/;
/** Which of `words` (after `openssl passwd` or `mkpasswd`) are passwords: openssl's every positional, mkpasswd's first. */
function hashSecretsAt(openssl: boolean, words: readonly string[]): number[] {
  const at: number[] = [];
  const valueRe = openssl ? OPENSSL_PASSWD_VALUE_RE : MKPASSWD_VALUE_RE;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w.length > 1 && w.startsWith('-')) {
      if (valueRe.test(w)) i++;
      continue;
    }
    if (!w.startsWith('[REDACTED') && !VAR_REF_RE.test(w) && w !== '') at.push(i);
    if (!openssl) break;
  }
  return at;
}
export function scrubHashCommand(m: string, cmd: string, args: string): string {
  const words = [...args.matchAll(NET_WORD_RE)];
  const at = hashSecretsAt(cmd.startsWith('openssl'), words.map((w) => w[0]));
  let out = m;
  for (const i of at.reverse()) {
    const w = words[i] as RegExpMatchArray;
    const off = m.length - args.length + (w.index ?? 0);
    const q = w[0][0] === '"' || w[0][0] === "'" ? (w[0][0] as string) : '';
    out = out.slice(0, off) + q + REDACTED + q + out.slice(off + w[0].length);
  }
  return out;
}
/** P9's replacement: usermod / useradd `-p "$(openssl passwd ...)"` or `-p "$HASH"` is no secret itself (the hash rule reads inside). */
export function flagReplaceNoVar(m: string, k: string, glued: string | undefined, sp: string | undefined, spaced: string | undefined): string {
  return VAR_REF_RE.test(glued ?? spaced ?? '') ? m : flagReplace(m, k, glued, sp, spaced);
}
/**
 * A group or a subshell piped to a stdin taker (`(echo pw; echo pw) | passwd u`, `{ echo pw; echo pw; } | smbpasswd -s -a u`):
 * each echo's text. Round 10: the group may hold other commands between `;` or `&&` (`(sleep 1; echo pw) | passwd u`, `{ sleep 2
 * && echo pw; } | kinit u`, `(cd /tmp; printf '%s\n' pw) | docker login --password-stdin`) and a single one (`(echo pw) | passwd`);
 * only the text of its `echo` / `printf` commands goes. Runs before the single-echo rules.
 */
const STDIN_GROUP_RE = new RegExp(
  `([({][ \\t]*)((?:[^;&|\\n(){}]*(?:;|&&))*[^;&|\\n(){}]*)([)}][ \\t]*\\|(?=[^;&\\n]*?(?:${STDIN_TAKER}|${STDIN9_TAKER})))`,
  'g',
);
const GROUP_ECHO_RE = /(?<=^|[;&][ \t]*)(echo|printf)((?:[ \t]+-[neE]{1,3})*[ \t]+)([^;&]*?[^;&\s])([ \t]*(?:;|&&)|[ \t]*$)/g;
export function scrubStdinGroup(m: string, open: string, body: string, close: string): string {
  if (!body.includes('echo') && !body.includes('printf')) return m;
  const b = body.replace(GROUP_ECHO_RE, scrubEchoToStdin);
  return b === body ? m : open + b + close;
}
/**
 * An nginx directive that sets a secret header (an ingress-nginx `configuration-snippet`, a ConfigMap's nginx.conf):
 * `proxy_set_header Authorization "Basic ..."`, `grpc_set_header x-api-key "..."`, `add_header Set-Cookie ...`; an nginx
 * variable (`$http_authorization`) stays. The header names hold a word HINT_RE knows (authorization, api key, token, secret,
 * password, cookie).
 */
const NGINX_HEADER_RE =
  /(\b(?:proxy_set_header|grpc_set_header|add_header|more_set_input_headers|more_set_headers)[ \t]+["']?(?:(?:proxy-)?authorization|[\w-]*(?:api[-_]?key|token|secret|passw(?:or)?d|cookie)[\w-]*)["']?[ \t]+)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s;"']+)/gi;
export function scrubNginxHeader(m: string, k: string, v: string): string {
  const q = v[0] === '"' || v[0] === "'" ? v[0] : '';
  const inner = q === '' ? v : v.slice(1, -1);
  return inner === '' || inner.startsWith('$') || inner.startsWith('[REDACTED') ? m : k + q + REDACTED + q;
}
/**
 * Round 9's gates. A scan for its 17 program words cost 3% of redact's time on the fixtures' records (a case-insensitive
 * alternation with 11 first letters tries nearly every position), so each part first asks for what its patterns cannot match
 * without: a pipe or a here-string (the stdin takers), a flag `-P`, `-p`, `-w`, `-a` or `/p`, `/rp` after a space (the flags).
 */
const STDIN9_GATE = /kinit|passwd|cryptsetup|gpg/;
const FLAG9_PRE_GATE = /\s[-/][PpwaRr]/;
const FLAG9_GATE = /ipmitool|mosquitto_|sqsh|tsql|vsql|valkey-cli|keydb-cli|psexec|cqlsh|usermod|useradd|winrs|schtasks/i;
/*
 * Round 10. influx v2's `-p` / `-t`, unixODBC isql's password by its position, a script fed to ftp, a netrc line.
 */
/** influx (v2)'s `-p <password>` (setup, user create) and `-t <token>`, spaced or `=`; glued is v1's `-port`, `-precision`, `-type`. */
const INFLUX_CMD_RE = new RegExp(`\\binflux(?=\\s)${CMD_UNIT}*`, 'g');
const INFLUX_FLAG_RE = /(\s-[pt](?:=|[ \t]+))((?!-)[^\s"';&|\\]+|"[^"]*"|'[^']*')/g;
/**
 * unixODBC's `isql DSN [user [password]] [options]` (and `iusql`): the third word that is not an option, as a command (where a
 * command starts, after `sudo` or a directory: `the isql tool` in prose stays); a redirection ends the count, and a spaced option
 * of one capital letter (Sybase's `isql -U sa -P x -S srv`) takes the word after it (Sybase's `-P` is the `-P` rule's).
 */
const ISQL_CMD_RE = new RegExp(`\\b(iu?sql)(?<=(?:^|[;&|(\\n"'\`])[ \\t]*(?:sudo[ \\t]+)?(?:[\\w.-]*\\/)*iu?sql)((?:[ \\t]+${WORD_UNIT}+)+)`, 'g');
const ISQL_GATE = /\biu?sql[ \t]/;
const REDIRECT_WORD_RE = /^\d*[<>]/;
export function isqlSecretAt(words: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (REDIRECT_WORD_RE.test(w) || w === '&&' || w === '|' || w === ';' || w === '&') return -1;
    if (w.startsWith('-')) {
      if (/^-[A-Z]$/.test(w)) i++;
      continue;
    }
    if (++n === 3) {
      const u = unquote(w);
      return u === '' || u.startsWith('[REDACTED') || VAR_REF_RE.test(w) ? -1 : i;
    }
  }
  return -1;
}
export function scrubIsql(m: string, _prog: string, args: string): string {
  const words = [...args.matchAll(NET_WORD_RE)];
  const w = words[isqlSecretAt(words.map((x) => x[0]))];
  if (w === undefined) return m;
  const i = m.length - args.length + (w.index ?? 0);
  return m.slice(0, i) + REDACTED + m.slice(i + w[0].length);
}
/**
 * A script fed to ftp on its standard input (a here-string, `echo` / `printf` piped to it, a heredoc): the password of each
 * `user <name> <password>` line and of `quote PASS <password>` (lines split by newlines or by `\n` written in the text).
 * `user <name>` alone, a variable, and sftp / lftp / tftp (other programs) stay.
 */
const FTP_PROG = '(?<![\\w.-])ftp(?=[ \\t]|$)';
const FTP_HERE_RE = new RegExp(`(${FTP_PROG}${CMD_UNIT}*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gm');
const FTP_ECHO_RE = new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?${FTP_PROG}))`, 'gm');
const FTP_USER_RE = /((?:^(?:\$?["'])?|\\n|\n)[ \t]*(?:user[ \t]+[^\s"'\\]+|(?:quote|literal)[ \t]+pass)[ \t]+)(?!\$)([^\s"'\\]+)/gi;
export function scrubFtpScript(text: string): string {
  return text.replace(FTP_USER_RE, valueReplace);
}
/*
 * Round 11. Secrets on stdin for programs that prompt (a here-string, `echo` / `printf` piped, a heredoc, also `cat <<EOF |`
 * into any stdin taker), redis-cli's AUTH / CONFIG SET, curl's cookies, container tools' `--creds`, npm's auth keys, Wi-Fi
 * passphrases (wpa_passphrase, nmcli).
 */
/**
 * Programs that take a password on stdin when their own flag says they will prompt: a MySQL client's lone `-p`, psql's `-W`
 * / `--password`, htpasswd's `-i`, `docker secret create <name> -` (and podman's). Group 1 names which.
 */
const STDIN11_TAKER = `((?:mysql|mariadb)[a-z-]*\\b[^;&|\\n]*?[ \\t]-p(?=[\\s;&|)]|$)|psql\\b[^;&|\\n]*?[ \\t](?:-W|--password)(?=[\\s;&|)]|$)|htpasswd\\b[^;&|\\n]*?[ \\t]-[a-zA-Z]*i[a-zA-Z]*(?=[ \\t])|secret[ \\t]+create[ \\t]+(?:-\\S+[ \\t]+)*[^\\s-]\\S*[ \\t]+-(?=[\\s;&|)]|$))`;
const STDIN11_HERE_RE = new RegExp(`(\\b${STDIN11_TAKER}[^;&|\\n]*?<<<[ \\t]*)(\\$'[^']*'|"[^"]*"|'[^']*'|[^\\s"';&|\\\\]+)`, 'gm');
const STDIN11_ECHO_RE = new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?\\b${STDIN11_TAKER}))`, 'gm');
const STDIN11_GATE = /mysql|mariadb|psql|htpasswd|secret[ \t]+create/;
/**
 * A MySQL client's `-p` and psql's `-W` read the password from the terminal when there is one, and stdin is then SQL: only a
 * single word (no space: a password, not `select 1`) is taken for the password.
 */
const SQL_PROMPT_RE = /^(?:mysql|mariadb|psql)/;
function oneWord(v: string): boolean {
  return !/\s|\\n/.test(unquote(v.startsWith("$'") ? v.slice(1) : v));
}
export function scrubHere11(m: string, k: string, taker: string, v: string): string {
  if (v.startsWith('[REDACTED') || (VAR_REF_RE.test(v) && !v.startsWith("$'"))) return m;
  if (SQL_PROMPT_RE.test(taker) && !oneWord(v)) {
    const t = sqlPromptFirstLine(v, v.startsWith("$'"));
    return t === undefined ? m : k + t;
  }
  return k + REDACTED;
}
export function scrubEcho11(m: string, prog: string, opts: string, text: string, pipe: string, taker: string): string {
  if (SQL_PROMPT_RE.test(taker) && !oneWord(text.trim())) {
    const t = sqlPromptFirstLine(text, true);
    return t === undefined ? m : prog + opts + t + pipe;
  }
  return scrubEchoToStdin(m, prog, opts, text, pipe);
}
/**
 * Round 12. What a MySQL client's lone `-p` or psql's `-W` reads when stdin is not a terminal (a pod's command, `kubectl exec`
 * without `-t`, a CI job) is the password, from the first line of stdin, and the rest is SQL: a first line that is one word (no
 * space), not a statement (`;`), a client command (`\\dt`, `status`, `quit`) nor a variable, is taken for the password
 * (`mysql -p <<EOF` then `pw` then SQL; `<<< $'pw\\nselect 1'`; `printf 'pw\\nselect 1' | mysql -p`). `escapes`: a written `\\n`
 * ends a line too (`$'...'`, echo / printf). Returns the text with that line replaced, or undefined.
 */
const SQL_CLIENT_COMMAND_RE = /^(?:\\|status$|quit$|exit$|help$|go$|ego$|rehash$|warnings$|nowarning$|begin$|commit$|rollback$|select$|show$)/i;
function sqlPromptFirstLine(text: string, escapes: boolean): string | undefined {
  const open = text.startsWith("$'") ? 2 : text.startsWith('"') || text.startsWith("'") ? 1 : 0;
  let end = text.indexOf('\n', open);
  if (escapes) {
    const e = text.indexOf('\\n', open);
    if (e >= 0 && (end < 0 || e < end)) end = e;
  }
  if (end < 0) return undefined;
  const first = text.slice(open, end).replace(/\r$/, '');
  if (first === '' || /\s/.test(first) || first.endsWith(';') || first.startsWith('[REDACTED') || first.startsWith('$') || SQL_CLIENT_COMMAND_RE.test(first)) return undefined;
  return text.slice(0, open) + REDACTED + text.slice(open + first.length);
}
/** A heredoc's command line running a MySQL client with a lone `-p` or psql with `-W` / `--password` (its body: sqlPromptFirstLine). */
const SQL_PROMPT_HEAD_RE = /\b(?:(?:mysql|mariadb)[a-z-]*\b[^;&|\n]*?[ \t]-p(?=[\s;&|)]|$)|psql\b[^;&|\n]*?[ \t](?:-W|--password)(?=[\s;&|)]|$))/;
/**
 * A heredoc whose command line reaches a stdin taker, the heredoc's own command or down a pipe (`passwd u <<EOF`, `cat <<EOF |
 * docker login --password-stdin`): the body whole for a program that reads only a password, each `name:x` pair's password for
 * chpasswd, each `user u x` line's for ftp, the first line for `sudo -S` (the rest is the command's). The delimiter lines stay.
 */
const HEREDOC11_RE = /^([^\n]*?(?<!<)<<-?(?!<)[ \t]*(["']?)(\w+)\2[^\n]*\n)([\s\S]*?)(?=\n[ \t]*\3[ \t]*(?:\n|$))/gm;
const WHOLE_BODY_TAKER_RE = new RegExp(`${STDIN_TAKER}|${STDIN9_TAKER}|\\bhtpasswd\\b[^;&|\\n]*?[ \\t]-[a-zA-Z]*i|\\bsecret[ \\t]+create[ \\t]+(?:-\\S+[ \\t]+)*[^\\s-]\\S*[ \\t]+-(?=[ \\t]|$)`);
const SUDO_S_RE = /\bsudo(?:[ \t]+-[ugpCDhrtT][ \t]+[^\s-]\S*|[ \t]+-[A-Za-z]+)*?[ \t]+-[A-Za-z]*S\b/;
const CHPASSWD_WORD_RE = new RegExp(CHPASSWD_TAKER);
const FTP_WORD_RE = new RegExp(FTP_PROG);
export function scrubHeredoc11(m: string, head: string, _q: string, _end: string, body: string): string {
  if (CHPASSWD_WORD_RE.test(head)) return head + scrubChpasswdPairs(body);
  if (FTP_WORD_RE.test(head)) return head + scrubFtpScript(body);
  // Round 12: SQL for a client that prompts (mysql -p, psql -W): its first line may be the password.
  if (SQL_PROMPT_HEAD_RE.test(head)) {
    const t = sqlPromptFirstLine(body + '\n', false);
    return t === undefined ? m : head + t.slice(0, -1);
  }
  if (body === '' || body.startsWith('[REDACTED') || VAR_REF_RE.test(body) || !WHOLE_BODY_TAKER_RE.test(head)) return m;
  if (SUDO_S_RE.test(head)) {
    const nl = body.indexOf('\n');
    return head + REDACTED + (nl < 0 ? '' : body.slice(nl));
  }
  return head + REDACTED;
}
/** A script fed to redis-cli (valkey-cli, keydb-cli; as its arguments, a here-string, or `echo` piped): `AUTH [user] x`, `CONFIG SET requirepass x` / `masterauth x`, in any case. */
const REDIS_CLI = '(?:redis|valkey|keydb)-cli';
const REDIS_AUTH_RE = /((?:^|[\s"'`]|\\n)(?:auth[ \t]+(?:[^\s"'\\;&|$]+[ \t]+(?=[^\s"'\\;&|]))?|config[ \t]+set[ \t]+(?:requirepass|masterauth)[ \t]+))(?!\$)([^\s"'\\;&|]+)/gi;
const REDIS_CMD_RE = new RegExp(`\\b${REDIS_CLI}(?=\\s)${CMD_UNIT}*`, 'g');
const REDIS_ECHO_RE = new RegExp(`\\b(echo|printf)((?:[ \\t]+-[neE]{1,3})*[ \\t]+)(${ECHO_UNIT}+?)([ \\t]*\\|(?=[^;&\\n]*?\\b${REDIS_CLI}))`, 'g');
export function scrubRedisScript(text: string): string {
  return text.replace(REDIS_AUTH_RE, valueReplace);
}
/** curl's `-b` / `--cookie` with cookie data (`name=value`; without `=` it names a cookie file and stays): the whole value. */
const CURL_COOKIE_RE = new RegExp(`(\\bcurl(?=\\s)${CMD_UNIT}*?\\s(?:-b|--cookie)(?:[ \\t]+|=))(?:(["'])([^"'\\n]*=[^"'\\n]*)\\2|([^\\s"';&|\\\\]*=[^\\s"';&|\\\\]*))`, 'g');
export function scrubCurlCookie(m: string, k: string, q: string | undefined, quoted: string | undefined, bare: string | undefined): string {
  const v = quoted ?? bare ?? '';
  if (v.startsWith('[REDACTED') || v.startsWith('$')) return m;
  return k + (q ?? '') + REDACTED + (q ?? '');
}
/** skopeo's, podman's, buildah's `--creds user:x`, `--src-creds`, `--dest-creds`: what follows the first colon (`--creds user` prompts and stays). */
const CREDS_RE = /((?<![\w-])--(?:src-|dest-)?creds(?:=|[ \t]+)["']?[^\s:"']*:)([^\s"';&|\\]+)/g;
/** `npm config set <key> <value>` (pnpm, yarn) of an auth key: `_auth`, `//registry/:_authToken`, `_password`, yarn's `npmAuthToken` / `npmAuthIdent`. */
const NPM_CONFIG_RE = /(\b(?:npm|pnpm|yarn)[ \t]+config[ \t]+set[ \t]+(?:-\S+[ \t]+)*["']?[^\s"'=]*?(?:_auth|_authToken|_password|npmAuthToken|npmAuthIdent)["']?[ \t]+)(?!-)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
/** `wpa_passphrase <ssid> <passphrase>`: the second argument (one argument reads the passphrase on stdin). */
const WPA_RE = /(\bwpa_passphrase(?:[ \t]+-\S+)*[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s;&|"'<>]+)[ \t]+)(?!\$)("[^"\n]*"|'[^'\n]*'|[^\s;&|"'<>]+)/g;
/** nmcli's secrets: `password x` of `dev wifi connect`, and the settings `wifi-sec.psk`, `wifi-sec.wep-key0..3`, `802-1x.password`... */
const NMCLI_CMD_RE = new RegExp(`\\bnmcli(?=\\s)${CMD_UNIT}*`, 'g');
const NMCLI_SECRET_RE =
  /(\s[+-]?(?:password|(?:wifi-sec|802-11-wireless-security)\.(?:psk|wep-key[0-3]|leap-password)|802-1x\.(?:password|private-key-password|phase2-private-key-password|pin)|vpn\.secrets|pppoe\.password|gsm\.(?:password|pin))[ \t]+)(?!\$)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
const ROUND11_GATE = /<<|mysql|mariadb|psql|htpasswd|secret[ \t]+create|-cli|curl|creds|config[ \t]+set|wpa_|nmcli/;
/*
 * Round 12. A MySQL client's password quoted whole (`mysql "-px"`), `gh secret set --body x`, crictl's `--auth`, containerd's `ctr
 * --user u:x`, Terraform's `TF_TOKEN_<host>=x`, Oracle's REPLACE old password, the MongoDB shell's passwords.
 */
const MYSQL_QUOTED_RE = new RegExp(`(\\b(?:mysql|mariadb)[a-z-]*(?=\\s)${CMD_UNIT}*?\\s(["'])-p)([^"'\\s][^"'\\n]*)(?=\\2)`, 'g');
const GH_SECRET_RE = new RegExp(
  `(\\bgh[ \\t]+secret[ \\t]+set(?=\\s)${CMD_UNIT}*?\\s(?:-b|--body))(?:("[^"]*"|'[^']*'|[^\\s"';&|\\\\=-][^\\s"';&|\\\\]*)|([ \\t]+|=)((?![-<])[^\\s"';&|\\\\]+|"[^"]*"|'[^']*'))`,
  'g',
);
const CRICTL_AUTH_RE = new RegExp(`(\\bcrictl(?=\\s)${CMD_UNIT}*?\\s--auth(?:=|[ \\t]+))((?!-)[^\\s"';&|\\\\]+|"[^"]*"|'[^']*')`, 'g');
const CTR_USER_RE = new RegExp(`(\\bctr(?=\\s)${CMD_UNIT}*?\\s(?:--user|-u)(?:=|[ \\t]+)["']?[^\\s:"']*:)([^\\s"';&|\\\\]+)`, 'g');
const TF_TOKEN_RE = /\b(TF_TOKEN_[A-Za-z0-9_-]+=)("[^"]*"|'[^']*'|[^\s"',;&|\\]+)/g;
/**
 * A token as a URL's user (`git clone https://<token>@github.com/...`, `https://<token>:x-oauth-basic@github.com/...`), judged by
 * tokenUserReplace; the password after it, if any, is USERINFO_RE's.
 */
const TOKEN_USERINFO_RE = /(\b[a-z][a-z0-9+.-]*:\/\/)([A-Za-z0-9_.~-]{10,})(?=@|:[^\s/@"'<>]*@)/gi;
/** Round 13: a provider token's prefix (PROVIDER_TOKEN_RE's kinds, any length after it), as a URL's user. */
const TOKEN_USER_PREFIX_RE = /^(?:gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-|gl(?:sa|c)_|xox[abeoprs]-|xapp-|npm_|pypi-|[rs]k_(?:live|test)_|hf_|do[opr]_v1_|shp(?:at|ca|pa|ss)_)/;
/** A part of a user name between `-`, `_`, `.`, `~`: a word, a number, or a word then a number (`deploy`, `Last`, `2024`, `agent42`). */
const NAME_PART_RE = /^(?:[a-z]+|[A-Z][a-z]*|[A-Z]+)?\d*$/;
/**
 * Is a URL's user a token? 20 or more letters and digits mixing both (round 12); a provider token's prefix then 10 or more
 * characters holding a digit or both cases (`ghp_…`, `glpat-…`, `pypi-…`; the prefix stays, as PROVIDER_TOKEN_RE keeps it); or,
 * split at `-` `_` `.` `~`, 20 or more characters of which 16 or more are in parts that are not a word, a number or a word then a
 * number (`Ab3dE_fGh1-jK2lMn0pQ`). A user name stays: `deploy-bot`, `john_doe`, `x-access-token`, `ci-runner-us-west-2-prod`,
 * `svc_jenkins_build_agent_42`, a pod's name `runner-7d9f8b6c5-x2k4p` (14 such characters).
 */
export function tokenUserReplace(m: string, k: string, v: string): string {
  if (v.startsWith('[REDACTED')) return m;
  if (/^[A-Za-z0-9]{20,}$/.test(v)) return /\d/.test(v) && /[A-Za-z]/.test(v) ? k + REDACTED : m;
  const p = TOKEN_USER_PREFIX_RE.exec(v);
  if (p !== null) {
    const rest = v.slice(p[0].length);
    if (rest.length >= 10 && (/\d/.test(rest) || (/[a-z]/.test(rest) && /[A-Z]/.test(rest)))) return k + p[0] + REDACTED;
  }
  let all = 0;
  let odd = 0;
  for (const part of v.split(/[-_.~]/)) {
    all += part.length;
    if (!NAME_PART_RE.test(part)) odd += part.length;
  }
  return all >= 20 && odd >= 16 ? k + REDACTED : m;
}
/** `vault kv put|patch [-flags] <path> k=v...`: every value (KV data is secret data, as a Secret's); `k=@file` and `k=-` name where it is. */
const VAULT_KV_CMD_RE = new RegExp(`\\bvault[ \\t]+kv[ \\t]+(?:put|patch)(?=\\s)${CMD_UNIT}*`, 'g');
const VAULT_KV_PAIR_RE = /(\s(?!-)[^\s="']+=)(?!@|-(?:\s|$))("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
/** `kubectl config set users.<name>.token x` (`password`, `client-key-data`, an auth provider's `client-secret`, `id-token`...). */
const KUBECONFIG_SET_RE = /(\bconfig[ \t]+set[ \t]+(?:--?\S+[ \t]+)*["']?users\.[^\s"']*?\.(?:password|client-key-data|[\w-]*secret|[\w-]*token)["']?[ \t]+)(?!-)("[^"]*"|'[^']*'|[^\s"';&|\\]+)/g;
const ROUND12_GATE = /["']-p|gh[ \t]+secret|crictl|\bctr\s|TF_TOKEN_|replace|changeUserPassword|auth\(|kv[ \t]+p|users\./i;

/*
 * Round 13: an expect script's answer to a password prompt; MSSQL's sp_addlogin and sp_password.
 */
/** A prompt's word: password (Password, PASSWORD) or passphrase. */
const EXPECT_PW_WORD = '(?:assword|ASSWORD|assphrase|ASSPHRASE)';
/** An expect pattern naming a password prompt: `"*assword*"`, `\"Password:\"` (inside a double-quoted `-c` script), `{*assword*}`. */
const EXPECT_PW_PAT = `(?:"[^"\\n]*?${EXPECT_PW_WORD}[^"\\n]*"|\\\\"[^"\\n]*?${EXPECT_PW_WORD}[^"\\n]*?\\\\"|\\{[^{}\\n]*?${EXPECT_PW_WORD}[^{}\\n]*\\})`;
/**
 * `expect "*assword*"` then, as the next command (after `;` or a new line) or in its action body (`{ send ... }`), or a password
 * pattern's action in a pattern list (`"*assword*" { send ... }`): what `send` / `exp_send` sends (quoted, braced or bare). After
 * another prompt (`login:`, `$ `, `yes/no`) a send stays.
 */
const EXPECT_SEND_RE = new RegExp(
  `((?:\\bexpect(?:[ \\t]+-(?:re|gl|ex|exact|nocase|timeout[ \\t]+\\d+|i[ \\t]+\\S+))*[ \\t]+(?:--[ \\t]+)?(?:${EXPECT_PW_PAT}|[^\\s"{};]*${EXPECT_PW_WORD}[^\\s"{};]*)(?:[ \\t]*(?:;|\\r?\\n))+[ \\t]*|(?<=\\s)${EXPECT_PW_PAT}[ \\t]*\\{[ \\t]*(?:\\r?\\n[ \\t]*)?)(?:exp_)?send(?:[ \\t]+-(?:-|s|h|raw|null|break|i[ \\t]+\\S+))*[ \\t]+)("(?:[^"\\\\\\n]|\\\\.)*"|\\\\"(?:(?!\\\\")[^\\n])*\\\\"|\\{[^{}\\n]*\\}|[^\\s"{};[\\]$\\\\][^\\s"{};\\]]*)`,
  'g',
);
/** The replacement of EXPECT_SEND_RE: the text sent goes, its quotes and a trailing `\r` / `\n` stay; a variable (`$pw`, `$env(PW)`) or a command (`[exec ...]`) stays. */
export function scrubExpectSend(m: string, k: string, v: string): string {
  const open = v.startsWith('\\"') ? '\\"' : v.startsWith('"') ? '"' : v.startsWith('{') ? '{' : '';
  const close = open === '{' ? '}' : open;
  const inner = v.slice(open.length, v.length - close.length);
  const tail = /(?:\\+[rn])*$/.exec(inner)?.[0] ?? '';
  const body = inner.slice(0, inner.length - tail.length);
  if (body === '' || body.startsWith('$') || body.startsWith('[')) return m;
  return k + open + REDACTED + tail + close;
}
/** `EXEC sp_addlogin 'login', 'password', ...` / `sp_password 'old', 'new', 'login'`: a statement's arguments, up to `;`, a line's end or a `"`. */
const SP_LOGIN_RE = /(\bsp_(?:addlogin|password)\b)([ \t][^;\n"]*)/gi;
/** One argument of an EXEC: `@name = ` then a quoted string (`N'x'`, `'it''s'`), or a bare word (NULL, a number, a variable). */
const SP_ARG_RE = /(?:@(\w+)[ \t]*=[ \t]*)?(?:([Nn]?')((?:[^'\n]|'')*)'|[^,'\s]+)/g;
/** sp_addlogin's password is its second argument (`@passwd`); sp_password's old and new are its first two (`@old`, `@new`). */
export function scrubSpLogin(m: string, name: string, args: string): string {
  const add = name.toLowerCase() === 'sp_addlogin';
  let out = '';
  let last = 0;
  let i = 0;
  for (const a of args.matchAll(SP_ARG_RE)) {
    const named = a[1]?.toLowerCase();
    const secret = named !== undefined ? (add ? named === 'passwd' : named === 'old' || named === 'new') : add ? i === 1 : i <= 1;
    i++;
    const v = a[3];
    if (!secret || v === undefined || v === '' || v.startsWith('[REDACTED')) continue;
    const at = (a.index ?? 0) + a[0].length - v.length - 1;
    out += args.slice(last, at) + REDACTED;
    last = at + v.length;
  }
  return last === 0 ? m : name + out + args.slice(last);
}
const ROUND13_GATE = /expect|sp_(?:addlogin|password)/i;
/** A netrc entry in text (`echo 'machine h login u password x' > ~/.netrc`, a ConfigMap's `.netrc`): what follows `password`. */
const NETRC_RE = /((?:^|[\s'"]|\\n)login[ \t]+[^\s"'\\]+(?:[ \t]+|(?:\\n|\r?\n)[ \t]*)password[ \t]+)(?!\$)("[^"]*"|[^\s"'\\]+)/g;
/** `htpasswd -b [-c...] file user password`, `htpasswd -nb user password`: the password is the last positional argument. */
const HTPASSWD_RE = new RegExp(`\\bhtpasswd((?:[ \\t]+${WORD_UNIT}+)+)`, 'g');

/**
 * Which of htpasswd's arguments (`words`, after the program) is the password: with `-b` (batch), the third
 * positional argument (file, user, password), or the second with `-n` (no file). -1 without `-b`.
 */
function htpasswdSecretAt(words: readonly string[]): number {
  let batch = false;
  let noFile = false;
  let positional = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (positional === 0 && w.length > 1 && w.startsWith('-')) {
      if (w.includes('b')) batch = true;
      if (w.includes('n')) noFile = true;
      // -C cost and -r rounds take the next argument.
      if (/[Cr]$/.test(w)) i++;
      continue;
    }
    if (batch && positional === (noFile ? 1 : 2)) return i;
    positional++;
  }
  return -1;
}

export function scrubHtpasswd(m: string, args: string): string {
  const words = [...args.matchAll(ARG_WORD_RE)];
  const at = htpasswdSecretAt(words.map((w) => w[0]));
  const w = words[at];
  if (w === undefined || w[0].startsWith('[REDACTED')) return m;
  const i = m.length - args.length + (w.index ?? 0);
  return m.slice(0, i) + REDACTED + m.slice(i + w[0].length);
}

/**
 * A word some pattern of scrub needs (a string without one is returned as it is). Factored by first letter: V8
 * tries each branch of an alternation at every position, so 20 branches scan about as fast as the 17 words of
 * the second round did, where the same words listed flat scanned 1.9x slower. It must hold a word of every
 * string any pattern could change (redact.test.ts holds scrub to the patterns without it or the gates).
 */
const HINT_RE =
  /a(?:lkey-cli|uth(?:orization|\\?["']?[ \t]*[:=]|\()|kia|sia|pi.?key|iza|ccess-?key|ccount.?key|eskey)|b(?:earer|cp\s)|c(?:ookie|url|ryptsetup|qlsh|reds\b|rictl|tr\s|onfig[ \t]+set|redentials\\?["']?[ \t]*[:=]|onn(?:ect)?[ \t]+["']?[\w$#.]+["']?\/|rackmapexec|me\s)|d(?:o[opr]_v1_|octl|gmgrl|ap(?:search|modify|add|delete|whoami|passwd|compare|modrdn|exop|url))|e(?:yJ|vil-winrm|tcdctl|xpect[ \t])|f(?:rom-literal|reerdp|tp(?:\s|$))|g(?:h[pousr]_|ithub_pat_|l(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-|l(?:sa|c)_)|h(?:f_|ooks\.slack|mac.?key|ashes|ydra)|k(?:_live_|_test_|init|eydb-cli|ey\\?["']?[ \t]*[:=]|dfopt|v[ \t]+p(?:ut|atch))|i(?:pmitool|mp\s|mpacket-|dentified\s|nflux\s)|m(?:ysql|ariadb|ongo|osquitto_|aster.?key|acopt|edusa|c[ \t]+(?:alias|config))|n(?:pm_|ame"?\s*:|mcli\s|xc\s|etexec|et(?:\.exe)?[ \t]+(?:use|ads|rpc|rap|sam|group|join|-U|--user|[^\n]*?\s(?:-U|--user)))|p(?:ass|wd|w(?:\\?["']?[ \t]*[:=]|")|rivate.?key|ypi-|dp\s|keyopt)|r(?:edis-cli|ar\s|pcclient|man\s|desktop|abbitmq(?:ctl|admin))|s(?:ecret|p_addlogin|ig(?:=|nature|opt)|qsh|ermod|eradd|chtasks|exec|igning.?key|ecurestring|ecurity_?db_?encryption|k-|g\.|hp[a-z]{2}_|ql(?:cmd|\s|plus|ldr)|mb(?:client|cacls|get|map|tree|cquotas)|sl\s|nmp|sh-keygen|udo\s|amba-tool)|t(?:oken|hin:|wine\s)|x(?:-amz-|-goog-|-registry-|ox[a-z]-|app-|p\s)|w(?:inexe|inrs)|z(?:ip|[arz])?\s|\slogin|\.py\s|:\/\/[^\s/@]*@/i;

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

/*
 * One gate per pattern: a text each pattern needs to match (so a string without it cannot match). A
 * string that passes HINT_RE usually holds one word of it ("secret", "token"...), and a gate scan costs
 * less than a global replace that finds nothing. Each gate tests the string as the earlier replacements
 * left it, so the result is the chain's, replacement for replacement.
 */
const AUTH_GATE = /authorization/i;
const BEARER_GATE = /bearer/i;
const AWS_KEY_GATE = /AKIA|ASIA/;
const HEADER_GATE = /cookie|x-amz-security-token|x-registry-/i;
const SECRET_ENV_GATE = /PASSW|_PWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY/;
const SECRET_ARG_GATE = /pass|pwd|secret|token|api[-_]?key|access-?key|bearer/i;
const AWS_CONFIG_GATE = /secret_access_key|session_token/i;
const QUERY_GATE = /[?&](?:x-|sig|acc|id_|ref|aut|tok|pas|pwd|sec|cli|api)/i;
const MYSQL_GATE = /mysql|mariadb|sshpass|mongo|\slogin/;
const LONG_FLAG_GATE = /--[a-z0-9_-]*(?:pass|pwd|token|secret|key)/i;
const SSM_GATE = /put-parameter/;
const TEXT_KEY_GATE = /(?:pass(?:word|wd)?|pwd|pw|phrase|token|secret|key|auth|credentials|value|encryption)\\?["']?[ \t]*[:=]/i;
const ENV_JSON_GATE = /"value"\s*:/;
const ENV_YAML_GATE = /\n[ \t]*value:/;
const LDAP_GATE = /ldap/;
const SQLCMD_GATE = /sqlcmd|bcp|osql|isql/;
const HTPASSWD_GATE = /htpasswd/;
/** Any of round 5's programs (one scan for the usual string that names none, before each program's own gate). */
const ROUND5_PROG_GATE = /zip|7z|rar|smbc|smbget|rpcclient|openssl|sqlplus|sqlldr|expdp|impdp|exp\s|imp\s|rman|dgmgrl/;
const ZIP_GATE = /zip/;
const SEVENZ_GATE = /7z|rar/;
const SMB_GATE = /smbc|smbget|rpcclient/;
const OPENSSL_GATE = /openssl/;
const ORACLE_GATE = /sqlplus|sqlldr|expdp|impdp|exp\s|imp\s|rman|dgmgrl/;
const CURL_GATE = /curl/;
const REDIS_GATE = /redis-cli/;
const FROM_LITERAL_GATE = /--from-literal/;
const TOKEN_GATE = /gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-|xox[abeoprs]-|xapp-|[rs]k_(?:live|test)_|npm_|AIza|hf_|SG\.|shp[a-z]{2}_|do[opr]_v1_|pypi-|gl(?:sa|c)_/;
const SK_GATE = /(?:^|[^A-Za-z0-9_-])sk-/;
const SLACK_HOOK_GATE = /hooks\.slack\.com/;
const USERINFO_GATE = /:\/\/[^\s/@]*@/;

/** Redacts tokens, keys and passwords in free text (also used on dead letters that are not JSON). */
export function scrub(s: string): string {
  if (!HINT_RE.test(s)) return s;
  if (s.includes('PRIVATE KEY-----')) s = s.replace(PRIVATE_KEY_RE, '-----BEGIN $1PRIVATE KEY-----' + REDACTED + '-----END $1PRIVATE KEY-----');
  if (AUTH_GATE.test(s)) s = s.replace(AUTH_RE, '$1$2' + REDACTED);
  if (BEARER_GATE.test(s)) s = s.replace(BEARER_RE, '$1$2' + REDACTED);
  if (s.includes('eyJ')) s = s.replace(JWT_RE, REDACTED);
  if (TOKEN_GATE.test(s)) s = s.replace(PROVIDER_TOKEN_RE, tokenPrefix);
  if (SK_GATE.test(s)) s = s.replace(SK_KEY_RE, (m, kind: string | undefined, v: string) => (/[A-Z]/.test(v) && /[a-z]/.test(v) && /\d/.test(v) ? 'sk-' + (kind ?? '') + REDACTED : m));
  if (SLACK_HOOK_GATE.test(s)) s = s.replace(SLACK_HOOK_RE, '$1' + REDACTED);
  if (AWS_KEY_GATE.test(s)) s = s.replace(AWS_SECRET_RE, '$1' + REDACTED);
  if (USERINFO_GATE.test(s)) {
    s = s.replace(USERINFO_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED + '@'));
    // Round 12: a token as the user info (round 13: with `-` or `_`, or before a password).
    s = s.replace(TOKEN_USERINFO_RE, tokenUserReplace);
  }
  if (QUERY_GATE.test(s)) s = s.replace(QUERY_SECRET_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (HEADER_GATE.test(s)) s = s.replace(HEADER_RE, headerReplace);
  if (SECRET_ENV_GATE.test(s)) s = s.replace(SECRET_ENV_RE, (m, k: string, v: string) => (v === REDACTED ? m : k + REDACTED));
  if (AWS_CONFIG_GATE.test(s)) s = s.replace(AWS_CONFIG_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (SECRET_ARG_GATE.test(s)) s = s.replace(SECRET_ARG_RE, secretArgReplace);
  if (MYSQL_GATE.test(s)) {
    // mysqladmin's new password first: MYSQL_RE would take `password` for the value of a lone -p before it.
    if (MYSQLADMIN_GATE.test(s)) s = s.replace(MYSQLADMIN_RE, valueReplace);
    s = s.replace(MYSQL_RE, mysqlFlagReplace);
  }
  if (CURL_GATE.test(s)) s = s.replace(CURL_USER_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (REDIS_GATE.test(s)) s = s.replace(REDIS_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (FROM_LITERAL_GATE.test(s)) s = s.replace(FROM_LITERAL_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (LONG_FLAG_GATE.test(s)) s = s.replace(LONG_FLAG_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
  if (SSM_GATE.test(s)) s = s.replace(SSM_PUT_RE, (cmd) => (cmd.includes('SecureString') ? cmd.replace(SSM_VALUE_RE, (m, k: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED)) : cmd));
  if (TEXT_KEY_GATE.test(s)) {
    s = s.replace(TEXT_KEY_RE, (m, k: string, _q: string, name: string, v: string) =>
      v.startsWith('[REDACTED') || v === 'true' || v === 'false' || v === 'null' || !isTextSecretKey(name) ? m : k + REDACTED,
    );
  }
  if (ENV_JSON_GATE.test(s)) s = s.replace(ENV_JSON_RE, (m, k: string, name: string, v: string) => (v === '' || v.startsWith('[REDACTED') || !isSecretName(name) ? m : k + REDACTED + '"'));
  if (ENV_YAML_GATE.test(s)) s = s.replace(ENV_YAML_RE, (m, k: string, name: string, v: string) => (v.startsWith('[REDACTED') || !isSecretName(name) ? m : k + REDACTED));
  if (LDAP_GATE.test(s)) s = s.replace(LDAP_RE, flagReplace);
  if (SQLCMD_GATE.test(s)) s = s.replace(SQLCMD_RE, flagReplace);
  if (HTPASSWD_GATE.test(s)) s = s.replace(HTPASSWD_RE, scrubHtpasswd);
  // Round 5: archive passwords, Samba's user%password, openssl's keys, Oracle logons.
  if (ROUND5_PROG_GATE.test(s)) {
    if (ZIP_GATE.test(s)) s = s.replace(ZIP_RE, flagReplace);
    if (SEVENZ_GATE.test(s)) s = s.replace(SEVENZ_RE, valueReplace);
    if (SMB_GATE.test(s)) s = s.replace(SMB_RE, valueReplace);
    if (OPENSSL_GATE.test(s)) s = s.replace(OPENSSL_RE, valueReplace);
    if (ORACLE_GATE.test(s)) s = s.replace(ORACLE_CMD_RE, scrubOracleCommand);
  }
  if (JDBC_THIN_GATE.test(s)) s = s.replace(JDBC_THIN_RE, valueReplace);
  // Round 6: SQL CONNECT logons, Impacket targets and hashes, lateral-movement clients, net use / net user, openssl options.
  if (ROUND6_GATE.test(s)) {
    if (CONNECT_GATE.test(s)) {
      const oracle = ORACLE_GATE.test(s);
      s = s.replace(CONNECT_RE, (m, k: string, v: string, after: string | undefined) => (v.startsWith('[REDACTED') || (after === undefined && !oracle) ? m : k + REDACTED));
    }
    if (HASHES_GATE.test(s)) s = s.replace(HASHES_RE, valueReplace);
    if (IMPACKET_GATE.test(s)) s = s.replace(IMPACKET_CMD_RE, scrubImpacketCommand);
    if (PW_P_GATE.test(s)) s = s.replace(PW_P_RE, flagReplace).replace(HASH_H_RE, flagReplace);
    if (FREERDP_GATE.test(s)) s = s.replace(FREERDP_RE, valueReplace);
    if (NET_GATE.test(s)) s = s.replace(NET_CMD_RE, scrubNetCommand);
    if (OPENSSL_OPT_GATE.test(s)) s = s.replace(OPENSSL_OPT_RE, valueReplace);
  }
  // Round 9, before round 7's single-echo rules: a group of echoes piped to a stdin taker; a secret header set by nginx.
  if (/[)}][ \t]*\|/.test(s)) s = s.replace(STDIN_GROUP_RE, scrubStdinGroup);
  if (/_header/i.test(s)) s = s.replace(NGINX_HEADER_RE, scrubNginxHeader);
  // Round 7: SNMP, FreeRDP's -p, ssh-keygen, etcdctl, lftp, Samba's net -U, secrets piped to --password-stdin, positions.
  if (ROUND7_GATE.test(s)) {
    if (s.includes('snmp')) s = s.replace(SNMP_CMD_RE, (cmd) => cmd.replace(SNMP_FLAG_RE, flagReplace));
    if (FREERDP_GATE.test(s)) s = s.replace(FREERDP_CMD_RE, (cmd) => cmd.replace(FREERDP_LEGACY_RE, valueReplace));
    if (s.includes('ssh-keygen')) s = s.replace(SSH_KEYGEN_CMD_RE, (cmd) => cmd.replace(SSH_KEYGEN_FLAG_RE, flagReplace));
    if (s.includes('etcdctl')) s = s.replace(ETCDCTL_CMD_RE, (cmd) => cmd.replace(ETCDCTL_USER_RE, valueReplace));
    if (s.includes('lftp')) s = s.replace(LFTP_CMD_RE, scrubLftpCommand);
    if (s.includes('%')) s = s.replace(SAMBA_NET_CMD_RE, (cmd) => cmd.replace(SAMBA_USER_RE, valueReplace));
    if (STDIN_GATE.test(s)) s = s.replace(STDIN_ECHO_RE, scrubEchoToStdin).replace(STDIN_HERE_RE, scrubHereStdin);
    if (POSITIONAL_GATE.test(s)) s = s.replace(POSITIONAL_CMD_RE, scrubPositionalCommand);
  }
  // Round 8: chpasswd's input, snmpusm passwd, doctl -t, SQL password clauses.
  if (ROUND8_GATE.test(s)) {
    if (s.includes('passwd')) s = s.replace(CHPASSWD_ECHO_RE, scrubEchoToChpasswd).replace(CHPASSWD_HERE_RE, (m, k: string, v: string) => k + scrubChpasswdPairs(v));
    if (s.includes('snmpusm')) s = s.replace(SNMPUSM_CMD_RE, scrubSnmpusmCommand);
    if (s.includes('doctl')) s = s.replace(DOCTL_RE, flagReplace);
    if (/identified/i.test(s)) s = s.replace(SQL_IDENTIFIED_RE, sqlValueReplace);
    if (/password[ \t]*\(/i.test(s)) s = s.replace(SQL_PASSWORD_FN_RE, sqlValueReplace);
    if (/password[ \t]+for/i.test(s)) s = s.replace(SQL_SET_PASSWORD_FOR_RE, sqlValueReplace);
    if (/password[ \t]+['"]/i.test(s)) s = s.replace(SQL_ROLE_PASSWORD_RE, sqlValueReplace);
  }
  // Round 9: stdin takers, per-program password flags of ipmitool, mosquitto, sqsh, tsql, vsql, valkey-cli, PsExec, winrs, schtasks...
  if (s.includes('|') || s.includes('<<<')) {
    if (STDIN9_GATE.test(s)) s = s.replace(STDIN9_ECHO_RE, scrubEchoToStdin).replace(STDIN9_HERE_RE, scrubHere9);
  }
  if (FLAG9_PRE_GATE.test(s) && FLAG9_GATE.test(s)) {
    if (/ipmitool|mosquitto_|sqsh|tsql/.test(s)) s = s.replace(UPPER_P9_RE, flagReplace);
    if (s.includes('vsql')) s = s.replace(VSQL_RE, flagReplace);
    if (/valkey-cli|keydb-cli/.test(s)) s = s.replace(REDIS9_RE, flagReplace);
    if (/psexec|cqlsh|usermod|useradd/i.test(s)) s = s.replace(P9_RE, flagReplaceNoVar);
    if (/winrs/i.test(s)) s = s.replace(WINRS_RE, sqlValueReplace);
    if (/schtasks/i.test(s)) s = s.replace(SCHTASKS_RE, sqlValueReplace);
  }
  if (s.includes('passwd')) s = s.replace(HASH_CMD_RE, scrubHashCommand);
  // Round 10: influx -p / -t, isql by position, a script fed to ftp, a netrc line.
  if (s.includes('influx')) s = s.replace(INFLUX_CMD_RE, (cmd) => cmd.replace(INFLUX_FLAG_RE, valueReplace));
  if (ISQL_GATE.test(s)) s = s.replace(ISQL_CMD_RE, scrubIsql);
  if (s.includes('ftp')) {
    if (s.includes('<<<')) s = s.replace(FTP_HERE_RE, (m, k: string, v: string) => k + scrubFtpScript(v));
    if (s.includes('|')) s = s.replace(FTP_ECHO_RE, (m, prog: string, opts: string, text: string, pipe: string) => prog + opts + scrubFtpScript(text) + pipe);
  }
  if (s.includes('login') && s.includes('password')) s = s.replace(NETRC_RE, valueReplace);
  // Round 11: stdin of programs that prompt, heredocs into stdin takers, redis-cli's AUTH, curl's cookies, --creds, npm auth keys, Wi-Fi.
  if (ROUND11_GATE.test(s)) {
    if (STDIN11_GATE.test(s)) {
      if (s.includes('<<<')) s = s.replace(STDIN11_HERE_RE, scrubHere11);
      if (s.includes('|')) s = s.replace(STDIN11_ECHO_RE, scrubEcho11);
    }
    if (s.includes('<<')) s = s.replace(HEREDOC11_RE, scrubHeredoc11);
    if (/(?:redis|valkey|keydb)-cli/.test(s)) {
      if (/auth|config/i.test(s)) s = s.replace(REDIS_CMD_RE, scrubRedisScript);
      if (s.includes('|')) s = s.replace(REDIS_ECHO_RE, (m, prog: string, opts: string, text: string, pipe: string) => prog + opts + scrubRedisScript(text) + pipe);
    }
    if (CURL_GATE.test(s) && /\s(?:-b|--cookie)/.test(s)) s = s.replace(CURL_COOKIE_RE, scrubCurlCookie);
    if (s.includes('creds')) s = s.replace(CREDS_RE, valueReplace);
    if (/config[ \t]+set/.test(s)) s = s.replace(NPM_CONFIG_RE, valueReplace);
    if (s.includes('wpa_passphrase')) s = s.replace(WPA_RE, valueReplace);
    if (s.includes('nmcli')) s = s.replace(NMCLI_CMD_RE, (cmd) => cmd.replace(NMCLI_SECRET_RE, valueReplace));
  }
  // Round 12: mysql "-px", gh secret set, crictl --auth, ctr --user, TF_TOKEN_<host>, Oracle's REPLACE, MongoDB shell passwords.
  if (ROUND12_GATE.test(s)) {
    if (/["']-p/.test(s) && /mysql|mariadb/.test(s)) s = s.replace(MYSQL_QUOTED_RE, (m, k: string, _q: string, v: string) => (v.startsWith('[REDACTED') ? m : k + REDACTED));
    if (/gh[ \t]+secret/.test(s)) s = s.replace(GH_SECRET_RE, flagReplace);
    if (s.includes('crictl')) s = s.replace(CRICTL_AUTH_RE, valueReplace);
    if (/\bctr\s/.test(s)) s = s.replace(CTR_USER_RE, valueReplace);
    if (s.includes('TF_TOKEN_')) s = s.replace(TF_TOKEN_RE, valueReplace);
    if (/replace/i.test(s)) s = s.replace(SQL_REPLACE_RE, sqlValueReplace);
    if (/changeUserPassword|auth\(/.test(s)) s = s.replace(MONGO_PW_RE, scrubMongoPassword);
    if (/kv[ \t]+p/.test(s)) s = s.replace(VAULT_KV_CMD_RE, (cmd) => cmd.replace(VAULT_KV_PAIR_RE, valueReplace));
    if (s.includes('users.')) s = s.replace(KUBECONFIG_SET_RE, valueReplace);
  }
  // Round 13: an expect script's answer to a password prompt, MSSQL's sp_addlogin / sp_password.
  if (ROUND13_GATE.test(s)) {
    if (s.includes('expect') && s.includes('send')) s = s.replace(EXPECT_SEND_RE, scrubExpectSend);
    if (/sp_(?:addlogin|password)/i.test(s)) s = s.replace(SP_LOGIN_RE, scrubSpLogin);
  }
  return s;
}

/** The replacement of a pattern whose first group stays and whose second is the secret (unless already redacted). */
function valueReplace(m: string, k: string, v: string): string {
  return v.startsWith('[REDACTED') ? m : k + REDACTED;
}

/** The replacement of a per-program password flag (MYSQL_RE's shape): the glued or the next argument. */
function flagReplace(m: string, k: string, glued: string | undefined, sp: string | undefined, spaced: string | undefined): string {
  const v = glued ?? spaced ?? '';
  return v.startsWith('[REDACTED') ? m : k + (sp ?? '') + REDACTED;
}

/** A MySQL or MariaDB client, sshpass or a MongoDB client as an argv word (`mysql`, `/usr/bin/mysqldump`, `mongosh`). */
const MYSQL_CMD_RE = /(?:^|\/)(?:(?:mysql|mariadb)[a-z-]*|sshpass|mongo(?:sh|dump|restore|export|import|files|stat|top)?)$/;
/** The word before `login` in `docker login`, `podman login`, `helm registry login`, `az login` (their `-p` is the password). */
const LOGIN_PARENT_RE = /(?:^|\/)(?:docker|podman|nerdctl|buildah|skopeo|oras|registry|az)$/;
/**
 * Programs of an argv whose flags take a secret (see scrubArg): `-p` (PROG_P), curl's `-u` (PROG_CURL), redis-cli's
 * `-a`, the OpenLDAP clients' `-w`, sqlcmd's / bcp's `-P`.
 */
const PROG_P = 1;
const PROG_CURL = 2;
const PROG_REDIS = 4;
const PROG_LDAP = 8;
/** `-P <secret>` / `-P<secret>`: sqlcmd, bcp, osql, zip, unzip. */
const PROG_UPPER_P = 16;
/** `-p<secret>` glued only: 7z, rar. */
const PROG_GLUED_P = 32;
/** `-U user%<secret>`, `--user=user%<secret>`: Samba's clients. */
const PROG_SMB = 64;
/** `-k <secret>`, `-K <key>`, `-hmac <key>`: openssl. */
const PROG_OPENSSL = 128;
/** `user/<secret>@db` logons: Oracle's clients. */
const PROG_ORACLE = 256;
/** Round 6: `[domain/]user:<secret>@host`, `domain/user:<secret>`: Impacket's examples. */
const PROG_IMPACKET = 512;
/** `-p <secret>` / `-p<secret>`: nxc, crackmapexec, evil-winrm, hydra, medusa, smbmap, rdesktop. */
const PROG_PW_P = 1024;
/** `-H <hash>`: nxc, crackmapexec, evil-winrm. */
const PROG_HASH_H = 2048;
/** `/p:<secret>`, `/pth:<hash>`: FreeRDP. */
const PROG_FREERDP = 4096;
/** `password <new>`: mysqladmin. */
const PROG_MYSQLADMIN = 8192;
/** Round 7: `-c`, `-A`, `-X`, `-3k`... <secret>: Net-SNMP's clients. */
const PROG_SNMP = 16384;
/** `-u user,<secret>`: lftp. */
const PROG_LFTP = 32768;
/** `-N` / `-P` <passphrase>: ssh-keygen. */
const PROG_SSH_KEYGEN = 65536;
/** Round 8: snmpusm (`passwd <old> <new>`), and where it is among them: the next non-option argument is the old or the new passphrase. */
const PROG_SNMPUSM = 1 << 17;
const PROG_USM_OLD = 1 << 18;
const PROG_USM_NEW = 1 << 19;
/** `-t <token>`, `-t=<token>`: doctl. */
const PROG_DOCTL = 1 << 20;
/** Round 9: `/p <secret>`, `/rp <secret>`, `-p:<secret>`: schtasks, winrs. */
const PROG_WIN = 1 << 21;
/** Round 10: influx (v2), whose `-p` and `-t` (spaced or `=`) are a password and a token. */
const PROG_INFLUX = 1 << 22;
const INFLUX_ARGV_GLUED_RE = /^(-[pt]=)(?!\[REDACTED)(.+)$/;
const DOCTL_ARGV_GLUED_RE = /^(-t=?)(?!\[REDACTED)(.+)$/;
const SNMP_CMD_WORD_RE = new RegExp(`(?:^|/)${SNMP_PROG}$`);
const SNMP_ARGV_FLAG_RE = /^-(?:c|A|X|3[kKmM])$/;
const SNMP_ARGV_GLUED_RE = /^(-(?:c|A|X))(?!\[REDACTED)./;
/** Samba's net, smbtree, winexe, smbcquotas, samba-tool (their `-U user%<secret>` is the smbclient rule's). */
const SAMBA_NET_CMD_WORD_RE = /(?:^|\/)(?:net|smbtree|winexe|smbcquotas|samba-tool)$/;
const IMPACKET_CMD_WORD_RE = new RegExp(`(?:^|/)${IMPACKET_PROG}$`, 'i');
const PW_P_CMD_WORD_RE = new RegExp(`(?:^|/)${PW_P_PROG}$`);
const HASH_H_CMD_WORD_RE = new RegExp(`(?:^|/)${HASH_H_PROG}$`);
const FREERDP_CMD_WORD_RE = /(?:^|\/)(?:[xw]|sdl-|wl)?freerdp3?$/;
/** An Impacket target as one argument: `[domain/]user:<secret>@host` (the last `@`), or `domain/user:<secret>`. */
const IMPACKET_ARG_RE = /^((?:[A-Za-z0-9_.-]+\/)?[^\s/:@]+:)(.+)(@[^\s@:]+)$|^([A-Za-z0-9_.-]+\/[^\s/:@]+:)([^@]+)$/;
const FREERDP_ARG_RE = /^(\/(?:p|pth):)(.+)$/;
const LDAP_CMD_RE = new RegExp(`(?:^|/)${LDAP_PROG}$`);
const UPPER_P_CMD_RE = new RegExp(`(?:^|/)(?:${SQLCMD_PROG}|${ZIP_PROG}|${UPPER_P9_PROG})$`);
/** Round 9: vsql (`-w`, the OpenLDAP clients' bit), valkey-cli / keydb-cli (`-a`), PsExec, cqlsh, usermod, useradd (`-p`). */
const VSQL_CMD_WORD_RE = /(?:^|\/)vsql$/;
const REDIS9_CMD_WORD_RE = new RegExp(`(?:^|/)${REDIS9_PROG}$`);
const P9_CMD_WORD_RE = new RegExp(`(?:^|[/\\\\])${P9_PROG}$`);
/** winrs, schtasks: `-p:<secret>` / `/p <secret>` / `/rp <secret>`. */
const WIN_CMD_WORD_RE = /(?:^|[/\\])(?:winrs|schtasks)(?:\.exe)?$/i;
const WIN_ARGV_FLAG_RE = /^\/r?p$/i;
const WIN_ARGV_GLUED_RE = /^([-/]p(?:assword)?:)(?!\[REDACTED)(.+)$/i;
const GLUED_P_CMD_RE = new RegExp(`(?:^|/)${SEVENZ_PROG}$`);
const SMB_CMD_RE = new RegExp(`(?:^|/)${SMB_PROG}$`);
const ORACLE_CMD_WORD_RE = new RegExp(`(?:^|/)${ORACLE_PROG}$`);
/** An Oracle logon as one argument: `user/password`, `user/password@db`, `userid=user/password@db`. */
const ORACLE_ARG_RE = /^((?:userid=)?["']?[A-Za-z0-9_$#.]+\/)([^\s@/"']+)(@.*)?$/;
const RMAN_CONNECT_RE = /^(?:target|catalog|auxiliary)$/i;
/** Programs sshpass runs: their `-p` is a port, so sshpass's `-p` rule stops at them. */
const SSH_CMD_RE = /(?:^|\/)(?:ssh|scp|sftp|rsync)$/;
/** The program bits of an argv after `a` (after `prev`), given the bits before it. */
function progAfter(bits: number, prev: string | undefined, a: string): number {
  // Round 8: a shell operator as a word of its own (an argv that is a command line split into words) ends the command.
  if (bits !== 0 && (a === '|' || a === '&&' || a === ';' || a === '||')) return 0;
  if (bits >= PROG_SNMPUSM) {
    // snmpusm's passwd: each of the two next non-option arguments is a passphrase (scrubArg), then none.
    if ((bits & (PROG_USM_OLD | PROG_USM_NEW)) !== 0 && !a.startsWith('-')) return (bits & PROG_USM_OLD) !== 0 ? (bits & ~PROG_USM_OLD) | PROG_USM_NEW : bits & ~PROG_USM_NEW;
    if ((bits & PROG_SNMPUSM) !== 0 && a === 'passwd') return bits | PROG_USM_OLD;
  }
  if (a === 'mysqladmin' || a.endsWith('/mysqladmin') || a === 'mariadb-admin' || a.endsWith('/mariadb-admin')) return bits | PROG_P | PROG_MYSQLADMIN;
  if (MYSQL_CMD_RE.test(a)) return bits | PROG_P;
  if (a === 'login' && prev !== undefined && LOGIN_PARENT_RE.test(prev)) return bits | PROG_P;
  if (a === 'curl' || a.endsWith('/curl')) return bits | PROG_CURL;
  if (a === 'redis-cli' || a.endsWith('/redis-cli') || REDIS9_CMD_WORD_RE.test(a)) return bits | PROG_REDIS;
  if (VSQL_CMD_WORD_RE.test(a)) return bits | PROG_LDAP;
  if (P9_CMD_WORD_RE.test(a)) return bits | PROG_PW_P;
  if (WIN_CMD_WORD_RE.test(a)) return bits | PROG_WIN;
  if (LDAP_CMD_RE.test(a)) return bits | PROG_LDAP;
  if (UPPER_P_CMD_RE.test(a)) return bits | PROG_UPPER_P;
  if (GLUED_P_CMD_RE.test(a)) return bits | PROG_GLUED_P;
  if (SMB_CMD_RE.test(a)) return bits | PROG_SMB;
  if (a === 'openssl' || a.endsWith('/openssl')) return bits | PROG_OPENSSL;
  if (ORACLE_CMD_WORD_RE.test(a)) return bits | PROG_ORACLE;
  if (IMPACKET_CMD_WORD_RE.test(a)) return bits | PROG_IMPACKET;
  if (PW_P_CMD_WORD_RE.test(a)) return bits | PROG_PW_P | (HASH_H_CMD_WORD_RE.test(a) ? PROG_HASH_H : 0);
  if (FREERDP_CMD_WORD_RE.test(a)) return bits | PROG_FREERDP;
  if (SNMP_CMD_WORD_RE.test(a)) return bits | PROG_SNMP | (a.endsWith('snmpusm') ? PROG_SNMPUSM : 0);
  if (a === 'doctl' || a.endsWith('/doctl')) return bits | PROG_DOCTL;
  if (a === 'influx' || a.endsWith('/influx')) return bits | PROG_INFLUX;
  if (a === 'lftp' || a.endsWith('/lftp')) return bits | PROG_LFTP;
  if (a === 'ssh-keygen' || a.endsWith('/ssh-keygen')) return bits | PROG_SSH_KEYGEN;
  if (a === 'etcdctl' || a.endsWith('/etcdctl')) return bits | PROG_CURL;
  if (SAMBA_NET_CMD_WORD_RE.test(a)) return bits | PROG_SMB;
  if ((bits & PROG_P) !== 0 && SSH_CMD_RE.test(a)) return bits & ~PROG_P;
  return bits;
}
/** The program bits of a whole argv (a container's command, read before its args). */
function progsOf(argv: readonly unknown[], upTo = argv.length): number {
  let bits = 0;
  let prev: string | undefined;
  for (let i = 0; i < upTo; i++) {
    const w = argv[i];
    if (typeof w !== 'string') {
      prev = undefined;
      continue;
    }
    bits = progAfter(bits, prev, w);
    prev = w;
  }
  return bits;
}
const NET_WORD_ARGV_RE = /^(?:net|net\.exe)$/i;
const POSITIONAL_ARGV_RE = /(?:^|\/)(rabbitmqctl|vault|mc)(?:\.bat|\.exe)?$/;
const NET_SUB_RE = /^user?$/i;
const ISQL_ARGV_RE = /(?:^|\/)iu?sql$/;
/**
 * The index in `argv` of a password told by its position: htpasswd's (htpasswdSecretAt after an `htpasswd` word), or
 * `net use` / `net user`'s (netSecretAt), or -1.
 */
function htpasswdArgAt(argv: readonly unknown[]): number {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    if (typeof w !== 'string') continue;
    if (w === 'htpasswd' || w.endsWith('/htpasswd')) {
      const rest = argv.slice(i + 1);
      const at = htpasswdSecretAt(rest.map((x) => (typeof x === 'string' ? x : '')));
      return at < 0 ? -1 : i + 1 + at;
    }
    // Round 9: `openssl passwd [options] <password>`, `mkpasswd [options] <password>` (the first password).
    if ((w === 'openssl' || w.endsWith('/openssl')) && argv[i + 1] === 'passwd') {
      const at = hashSecretsAt(true, argv.slice(i + 2).map((x) => (typeof x === 'string' ? x : '')))[0];
      if (at !== undefined) return i + 2 + at;
    }
    if (w === 'mkpasswd' || w.endsWith('/mkpasswd')) {
      const at = hashSecretsAt(false, argv.slice(i + 1).map((x) => (typeof x === 'string' ? x : '')))[0];
      if (at !== undefined) return i + 1 + at;
    }
    // Round 10: unixODBC's `isql DSN user <password>`.
    if (w.endsWith('sql') && ISQL_ARGV_RE.test(w)) {
      const at = isqlSecretAt(argv.slice(i + 1).map((x) => (typeof x === 'string' ? x : '')));
      if (at >= 0) return i + 1 + at;
    }
    const pm = POSITIONAL_ARGV_RE.exec(w);
    if (pm !== null) {
      const rest = argv.slice(i + 1).map((x) => (typeof x === 'string' ? x : ''));
      const end = rest.findIndex((x) => x === '&&' || x === '&' || x === ';' || x === '|');
      const at = positionalSecretAt(pm[1] as string, end < 0 ? rest : rest.slice(0, end));
      if (at >= 0) return i + 1 + at;
    }
    const sub = argv[i + 1];
    if (typeof sub === 'string' && NET_SUB_RE.test(sub) && NET_WORD_ARGV_RE.test(w.slice(w.lastIndexOf('\\') + 1))) {
      const rest = argv.slice(i + 2).map((x) => (typeof x === 'string' ? x : ''));
      const end = rest.findIndex((x) => x === '&&' || x === '&' || x === ';' || x === '|');
      const at = netSecretAt(sub, end < 0 ? rest : rest.slice(0, end));
      return at < 0 ? -1 : i + 2 + at;
    }
  }
  return -1;
}
const CURL_USER_FLAG_RE = /^(?:-[a-zA-Z]*[uU]|--(?:proxy-)?user)$/;
const CURL_USER_GLUED_RE = /^(?:-[a-zA-Z]*[uU][^:\s=]*|--(?:proxy-)?user=[^:\s]*):./;
/** Query parameters whose whole value is a secret, by name (any case). */
const SECRET_PARAM_RE =
  /^(?:x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|signature|sig|(?:access_|id_|refresh_|auth_)?token|password|passwd|pwd|secret|client_secret|api_?key|apikey)$/i;

/**
 * One argument of an argv (a container's command and args, an exec's `command=` values), after `prev`:
 * scrubbed alone and as the value of the one before it (`--password`, `hunter2` as two arguments); after a
 * MySQL client word (`mysql`), also `-p<secret>` and the argument after a lone `-p` (see MYSQL_RE).
 */
function scrubArg(prev: string | undefined, a: string, prog: number): string {
  let v = scrub(a);
  if (prev !== undefined && a !== '' && HINT_RE.test(prev)) {
    const pair = scrub(prev + ' ' + a);
    if (pair.startsWith(prev + ' ')) {
      const tail = pair.slice(prev.length + 1);
      if (tail !== a) v = tail;
    }
  }
  if (v !== a && ARG_SPACE_RE.test(a) && (prev === undefined || !SHELL_SCRIPT_FLAG_RE.test(prev))) v = wholeArgValue(a, v);
  if (prog === 0 || v !== a || a === '' || a.startsWith('[REDACTED')) return v;
  if ((prog & PROG_P) !== 0) {
    if (a.length > 2 && a.startsWith('-p') && !a.startsWith('-p[REDACTED')) return '-p' + REDACTED;
    // Round 13: mysqladmin's command after its lone -p (`-p password x`) stays.
    if (prev === '-p' && !a.startsWith('-') && ((prog & PROG_MYSQLADMIN) === 0 || !MYSQLADMIN_CMD_WORD_RE.test(a))) return REDACTED;
  }
  if ((prog & PROG_CURL) !== 0) {
    // Round 12: the word after `-b` / `--cookie` holding `=` is cookie data, whole (`["curl", "-b", "a=1; sid=x"]`).
    if ((prev === '-b' || prev === '--cookie') && a.includes('=') && !a.startsWith('$')) return REDACTED;
    const colon = a.indexOf(':');
    if (colon >= 0 && colon < a.length - 1 && !a.startsWith(REDACTED, colon + 1)) {
      if ((prev !== undefined && CURL_USER_FLAG_RE.test(prev) && !a.startsWith('-')) || CURL_USER_GLUED_RE.test(a)) return a.slice(0, colon + 1) + REDACTED;
    }
  }
  if ((prog & PROG_REDIS) !== 0 && prev === '-a' && !a.startsWith('-')) return REDACTED;
  if ((prog & PROG_LDAP) !== 0) {
    if (prev === '-w' && !a.startsWith('-')) return REDACTED;
    if (a.length > 2 && a.startsWith('-w')) return '-w' + REDACTED;
  }
  if ((prog & PROG_UPPER_P) !== 0) {
    if (prev === '-P' && !a.startsWith('-')) return REDACTED;
    if (a.length > 2 && a.startsWith('-P')) return '-P' + REDACTED;
  }
  if ((prog & PROG_GLUED_P) !== 0 && a.length > 2 && a.startsWith('-p') && a !== '-p-') return '-p' + REDACTED;
  if ((prog & PROG_SMB) !== 0) {
    const pct = a.indexOf('%');
    if (pct >= 0 && pct < a.length - 1 && (((prev === '-U' || prev === '--user') && !a.startsWith('-')) || /^(?:-U|--user=)[^%]*%/.test(a))) return a.slice(0, pct + 1) + REDACTED;
  }
  if ((prog & PROG_OPENSSL) !== 0 && (prev === '-k' || prev === '-K' || prev === '-hmac') && !a.startsWith('-')) return REDACTED;
  if ((prog & PROG_ORACLE) !== 0) {
    const m = ORACLE_ARG_RE.exec(a);
    if (m !== null && (m[3] !== undefined || a.startsWith('userid=') || prev === undefined || prev.startsWith('-') || ORACLE_CMD_WORD_RE.test(prev) || RMAN_CONNECT_RE.test(prev))) return (m[1] as string) + REDACTED + (m[3] ?? '');
  }
  if (prog < PROG_IMPACKET) return v;
  // Round 6.
  if ((prog & PROG_IMPACKET) !== 0 && !a.startsWith('-')) {
    const m = IMPACKET_ARG_RE.exec(a);
    if (m !== null) return m[1] !== undefined ? m[1] + REDACTED + (m[3] as string) : (m[4] as string) + REDACTED;
  }
  if ((prog & (PROG_PW_P | PROG_HASH_H)) !== 0) {
    if ((prog & PROG_PW_P) !== 0 && prev === '-p' && !a.startsWith('-')) return REDACTED;
    if ((prog & PROG_PW_P) !== 0 && a.length > 2 && a.startsWith('-p') && !a.startsWith('-p-')) return '-p' + REDACTED;
    if ((prog & PROG_HASH_H) !== 0 && prev === '-H' && !a.startsWith('-')) return REDACTED;
  }
  if ((prog & PROG_FREERDP) !== 0) {
    const m = FREERDP_ARG_RE.exec(a);
    if (m !== null) return (m[1] as string) + REDACTED;
    // Round 7: the legacy (1.0) `-p <password>`.
    if (prev === '-p' && !a.startsWith('-')) return REDACTED;
  }
  if ((prog & PROG_MYSQLADMIN) !== 0 && (prev === 'password' || prev === 'old-password') && !a.startsWith('-')) return REDACTED;
  if (prog < PROG_SNMP) return v;
  // Round 7.
  if ((prog & PROG_SNMP) !== 0) {
    if (prev !== undefined && SNMP_ARGV_FLAG_RE.test(prev) && !a.startsWith('-')) return REDACTED;
    const m = SNMP_ARGV_GLUED_RE.exec(a);
    if (m !== null) return (m[1] as string) + REDACTED;
  }
  if ((prog & PROG_LFTP) !== 0) {
    const comma = a.indexOf(',');
    if (comma > 0 && comma < a.length - 1 && ((prev === '-u' && !a.startsWith('-')) || (a.startsWith('-u') && comma > 2))) return a.slice(0, comma + 1) + REDACTED;
  }
  if ((prog & PROG_SSH_KEYGEN) !== 0) {
    if ((prev === '-N' || prev === '-P') && !a.startsWith('-')) return REDACTED;
    if (a.length > 2 && (a.startsWith('-N') || a.startsWith('-P'))) return a.slice(0, 2) + REDACTED;
  }
  if (prog < PROG_SNMPUSM) return v;
  // Round 8.
  if ((prog & (PROG_USM_OLD | PROG_USM_NEW)) !== 0 && !a.startsWith('-')) return REDACTED;
  if ((prog & PROG_DOCTL) !== 0) {
    if (prev === '-t' && !a.startsWith('-')) return REDACTED;
    const m = DOCTL_ARGV_GLUED_RE.exec(a);
    if (m !== null) return (m[1] as string) + REDACTED;
  }
  // Round 9.
  if ((prog & PROG_WIN) !== 0) {
    if (prev !== undefined && WIN_ARGV_FLAG_RE.test(prev) && !a.startsWith('/') && a !== '*') return REDACTED;
    const m = WIN_ARGV_GLUED_RE.exec(a);
    if (m !== null) return (m[1] as string) + REDACTED;
  }
  // Round 10.
  if ((prog & PROG_INFLUX) !== 0) {
    if ((prev === '-p' || prev === '-t') && !a.startsWith('-')) return REDACTED;
    const m = INFLUX_ARGV_GLUED_RE.exec(a);
    if (m !== null) return (m[1] as string) + REDACTED;
  }
  return v;
}

/**
 * Round 12. An argv word is one argument whatever it holds: a secret that scrub found at its start (the value after a secret
 * flag, `--password`, `x y`) or after its own `NAME=` / `--flag=` / `-Dkey=` (`API_TOKEN=x y`, `--password=x y`) runs to the
 * word's end, where the text rules stopped at the space. Other words keep what scrub kept (`export TOKEN=x y; run` is a script).
 */
const ARG_SPACE_RE = /\s/;
/** A shell's (or su's, python's...) `-c` and its combined forms (`-lc`, `-ec`): the word after it is a script, not a value. */
const SHELL_SCRIPT_FLAG_RE = /^-[a-z]*c$/;
const ARG_KEY_HEAD_RE = /^-{0,2}[A-Za-z_][\w.-]*=$/;
function wholeArgValue(a: string, v: string): string {
  const i = v.indexOf(REDACTED);
  if (i < 0) return v;
  const head = v.slice(0, i);
  const rest = v.slice(i + REDACTED.length);
  if (!ARG_SPACE_RE.test(rest.charAt(0)) || rest.includes(REDACTED) || !a.startsWith(head) || !a.endsWith(rest)) return v;
  return head === '' || ARG_KEY_HEAD_RE.test(head) ? head + REDACTED : v;
}

/**
 * Where `out` (scrub of `orig`) replaced text of `orig` by `[REDACTED]`: the ranges of `orig` it replaced, or undefined if the
 * kept parts cannot be lined up (then what lies between the first and the last change is taken).
 */
function redactedRanges(orig: string, out: string): [number, number][] {
  const pieces = out.split(REDACTED);
  const ranges: [number, number][] = [];
  let cur = 0;
  for (let k = 0; k < pieces.length; k++) {
    const p = pieces[k] as string;
    let at: number;
    if (k === 0) at = orig.startsWith(p) ? 0 : -1;
    else if (k === pieces.length - 1) at = orig.endsWith(p) && orig.length - p.length >= cur ? orig.length - p.length : -1;
    else at = orig.indexOf(p, cur);
    if (at < 0) {
      let a = 0;
      while (a < orig.length && a < out.length && orig[a] === out[a]) a++;
      let b = 0;
      while (b < orig.length - a && b < out.length - a && orig[orig.length - 1 - b] === out[out.length - 1 - b]) b++;
      return [[a, orig.length - b]];
    }
    if (k > 0) ranges.push([cur, at]);
    cur = at + p.length;
  }
  return ranges;
}
/**
 * An argv (round 8: one that is a command line split into words, holding a shell operator; round 11: any of 3 or more
 * words, a container's args after its command words `lead`): the words joined with spaces are scrubbed as the command line they
 * spell (`echo`, `pw`, `|`, `docker`, `login`, `--password-stdin`; `echo`, `u:pw`, `|`, `chpasswd`), and each word that held
 * redacted text gets it replaced, unless the word-by-word pass already changed that word.
 */
function walkJoinedArgv(argv: readonly unknown[], path: Key[], hits: Hit[], before: number, lead: readonly unknown[] = []): void {
  const words: string[] = [];
  for (const a of lead.length === 0 ? argv : lead.concat(argv)) {
    if (typeof a !== 'string') return;
    words.push(a);
  }
  if (words.length < 3) return;
  const joined = joinedWords(words);
  if (joined === undefined) return;
  for (let i = lead.length; i < words.length; i++) {
    const v = joined[i] as string;
    path.push(i - lead.length);
    if (v !== words[i] && !hits.slice(before).some((h) => h.path.length === path.length && h.path.every((k, j) => k === path[j]))) hits.push({ path: path.slice(), value: v });
    path.pop();
  }
}
/** The words of a command line split into words, scrubbed as the line they spell joined with spaces: each word with the redacted text inside it replaced, or undefined if scrub changed nothing. */
function joinedWords(words: readonly string[]): string[] | undefined {
  const joined = words.join(' ');
  const out = scrub(joined);
  if (out === joined) return undefined;
  const ranges = redactedRanges(joined, out);
  // Round 12: a word holding whitespace was one quoted argument; a value a rule found inside it ends with it (`["curl", "-H",
  // "Cookie: a=x", "-o", "f"]`: the header rule, which reads to the line's end, took `-o f` from the joined line).
  let ws = 0;
  for (let k = 0; k < words.length; k++) {
    const w = words[k] as string;
    const we = ws + w.length;
    if (ARG_SPACE_RE.test(w)) for (const r of ranges) if (r[0] > ws && r[0] < we && r[1] > we) r[1] = we;
    ws = we + 1;
  }
  const res: string[] = [];
  let start = 0;
  for (const w of words) {
    const end = start + w.length;
    let v = '';
    let cur = start;
    for (const [rs, re] of ranges) {
      if (re <= start || rs >= end || re <= rs) continue;
      v += joined.slice(cur, Math.max(rs, cur)) + REDACTED;
      cur = Math.max(cur, Math.min(re, end));
    }
    v += joined.slice(cur, end);
    res.push(v);
    start = end + 1;
  }
  return res;
}

/** Keys whose value is a secret, in any case (headers, STS/IAM credentials, common config keys). */
const SECRET_KEY_RE = /^(?:(?:proxy-)?authorization|(?:set-)?cookie|x-amz-security-token|x-registry-(?:auth|config)|secret_?key|secret_?string|secret_?binary|auth|security_?db_?encryption)$/i;
/** Keys that end in a secret's name, with any prefix: `AWS_SECRET_ACCESS_KEY`, `masterUserPassword`, `db.password`, `x-api-key`. */
const SECRET_KEY_SUFFIX_RE =
  /(?:password|passwd|secret_?access_?key|private_?key|client_?secret|api[_-]?key|session_?token|access_?token|refresh_?token|(?:auth|authorization|bearer)_?token|account[_-]?key|shared[_-]?access[_-]?key|pre[_-]?shared[_-]?key|subscription[_-]?key|auth[_-]?key)$/i;

/**
 * Words that name a secret only as a whole word at the end of a key: after its start, `_`, `-`, `.`, `/`, or a
 * lower-case letter or digit before a capital (`pass`, `DB_PASS`, `smtpPass`, not `bypass`; `webhookSecret`,
 * `apiToken`, `awsSecretKey`, `basicAuthCredentials`). Built from each word's lower, camelCase, Capitalized and UPPER forms.
 */
const SECRET_WORDS: readonly (readonly string[])[] = [
  ['pass'],
  ['pw'],
  ['passphrase'],
  ['token'],
  ['secret'],
  ['secret', 'key'],
  ['signing', 'key'],
  ['hmac', 'key'],
  ['master', 'key'],
  ['credentials'],
  ['api', 'key', 'value'],
  ['secret', 'value'],
];
const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);
const SECRET_WORD_RE = new RegExp(
  '(?:(?:^|[_.\\-/])(?:' +
    SECRET_WORDS.map((p) => [p.join('[_-]?'), p[0] + p.slice(1).map(cap).join(''), p.map(cap).join('[_-]?'), p.map((w) => w.toUpperCase()).join('_?')].join('|')).join('|') +
    ')|(?<=[a-z0-9])(?:' +
    SECRET_WORDS.map((p) => p.map(cap).join('[_-]?')).join('|') +
    '))$',
);
/**
 * Tokens that are not secrets: pagination, idempotency and request tokens (`nextToken`, `clientRequestToken`), and
 * STS's `subjectFromWebIdentityToken` (the service account a web identity names: the identity graph reads it).
 */
const NOT_SECRET_TOKEN_RE = /(?:next|page|pagination|continuation|continue|client|request|idempotency|resume|sync|cursor|marker|fromwebidentity)[_-]?token$/i;

/**
 * Is `k` a key whose value is a secret? The regexes run only on keys ending like one (d, y, t, n, s, w, e, h in
 * any case: password, key, secret, token, pass, pw, passphrase, auth).
 */
function isSecretKey(k: string): boolean {
  if (SECRET_KEY_RE.test(k)) return true;
  const c = k.charCodeAt(k.length - 1) | 0x20;
  if ((c === 0x64 || c === 0x79 || c === 0x74 || c === 0x6e) && k.length >= 6 && SECRET_KEY_SUFFIX_RE.test(k)) return true;
  // Round 12: a list of passwords (ElastiCache / MemoryDB CreateUser's `passwords`).
  if (c === 0x73 && tailIs(k, 'passwords')) return true;
  if (k.charCodeAt(k.length - 1) === 0x59 && isKeyName(k, UPPER_KEY_NAME_RE)) return true;
  return endsInSecretWord(k);
}

/**
 * A name that ends in `_KEY` after another word (`STRIPE_KEY`, `SIGNING_KEY`, `ENCRYPTION_KEY`, `LICENSE_KEY`, `APP_KEY`):
 * a key's value, unless the word before says the key is public or is a lookup's key, not a secret (NOT_SECRET_KEY_RE).
 * `KEY_ID`, `AWS_ACCESS_KEY_ID`, `KMS_KEY_ARN` do not end in `_KEY` and stay. In keys and text only UPPER_SNAKE names
 * count (`sort_key`, `partition_key` of a table are not secrets); an environment variable's or a ConfigMap key's name
 * in any case (isSecretName).
 */
const UPPER_KEY_NAME_RE = /^[A-Z0-9_]*[A-Z0-9]_KEY$/;
const ANY_KEY_NAME_RE = /[A-Za-z0-9]_key$/i;
/**
 * `_KEY` names that are not secrets: public halves (`PUBLIC_KEY`, `SSH_PUB_KEY`, Stripe's `PUBLISHABLE_KEY`, reCAPTCHA's
 * `SITE_KEY`), an access key id (`AWS_ACCESS_KEY`, `MINIO_ACCESS_KEY`: an identifier, see AKIA above; round 13: not Terraform's
 * azurerm `ARM_ACCESS_KEY` nor `AZURE_STORAGE_ACCESS_KEY`, an Azure storage account's key, a secret), where a key is kept
 * (`KMS_KEY`: an id or alias), and the keys of tables, objects and caches.
 */
const NOT_SECRET_KEY_RE = /(?:^|_)(?:PUBLIC|PUB|PUBLISHABLE|SITE|(?<!(?:^|_)(?:ARM|STORAGE)_)ACCESS|KMS|S3|OBJECT|PARTITION|SORT|HASH|RANGE|PRIMARY|FOREIGN|SHARD|CACHE|ROUTING|IDEMPOTENCY|DEDUP)_KEY$/i;
function isKeyName(k: string, re: RegExp): boolean {
  return re.test(k) && !NOT_SECRET_KEY_RE.test(k);
}

/** Does `k` end in `w` (lower case), in any case? No allocation: this runs on every string's key in a body. */
function tailIs(k: string, w: string): boolean {
  const off = k.length - w.length;
  if (off < 0) return false;
  for (let i = 0; i < w.length; i++) if ((k.charCodeAt(off + i) | 0x20) !== w.charCodeAt(i)) return false;
  return true;
}

/**
 * SECRET_WORD_RE (not a pagination token), run only when the key's end spells one of its last words in any case:
 * most keys (`name`, `namespace`, `resource`, `groups`) are told apart by a few character compares.
 */
function endsInSecretWord(k: string): boolean {
  const c = k.charCodeAt(k.length - 1) | 0x20;
  let maybe: boolean;
  if (c === 0x73) maybe = tailIs(k, 'pass') || tailIs(k, 'credentials');
  else if (c === 0x77) maybe = tailIs(k, 'pw');
  else if (c === 0x65) maybe = tailIs(k, 'passphrase') || tailIs(k, 'value');
  else if (c === 0x74) maybe = tailIs(k, 'secret');
  else if (c === 0x6e) maybe = tailIs(k, 'token');
  else if (c === 0x79) maybe = tailIs(k, 'key');
  else return false;
  return maybe && SECRET_WORD_RE.test(k) && !NOT_SECRET_TOKEN_RE.test(k);
}
/**
 * Names of environment variables that hold secrets (pod/Deployment `env[]`, Lambda/ECS environments, ConfigMap
 * keys), unless the name says the value is about a secret rather than the secret (REFERENCE_NAME_RE).
 */
const SECRET_NAME_RE = /pass(?:word|wd)?\b|pass(?:word|wd)|pwd|secret|token|credential|private.?key|api.?key|access.?key|auth|cookie|session|signing.?key|hmac|master.?key|(?:^|_)pw(?:$|_)/i;
/** A name for a reference, a kind or a time, not a value: `SECRET_ID`, `imagePullCredentialsType`, `TOKEN_TTL`, `DB_PASSWORD_FILE`. */
const REFERENCE_NAME_RE = /(?:[_.-](?:type|id|arn|name|ref|path|file|expiry|expiration|ttl|url|length|changed)|[a-z0-9](?:Type|Id|ID|Arn|Name|Ref|Path|File|Expiry|Expiration|Ttl|Url|URL|Length|Changed))$/i;
/** Names a secret-holding variable (SECRET_NAME_RE, not a reference's name). */
export function isSecretName(n: string): boolean {
  return (SECRET_NAME_RE.test(n) || isKeyName(n, ANY_KEY_NAME_RE)) && !REFERENCE_NAME_RE.test(n);
}
/** CodeBuild environment variable types whose value names a parameter or secret (PLAINTEXT holds the value itself). */
const REFERENCE_TYPE_RE = /^(?:PARAMETER_STORE|SECRETS_MANAGER)$/;
/**
 * Round 9: CodeBuild StartBuild's `environmentVariablesOverride`, Elastic Beanstalk's `optionSettings`, App Runner's
 * `runtimeEnvironmentVariables`, and a probe's `httpGet.httpHeaders` (`{ name: Authorization, value: Basic ... }`: a header is
 * named like an environment variable's secret, `Authorization`, `X-Api-Key`, `Cookie`).
 */
const ENV_KEY_RE = /^(?:env|environment|variables|environmentvariables|environmentvariablesoverride|optionsettings|runtimeenvironmentvariables|httpheaders)$/i;
const LAST_APPLIED_KEY = 'kubectl.kubernetes.io/last-applied-configuration';
const SECRET_KIND_IN_TEXT_RE = /"kind"\s*:\s*"secret"/i;
/** A Secret as YAML text (`kind: Secret` on a line of its own, quoted or not). */
const SECRET_KIND_IN_YAML_RE = /^kind:[ \t]*["']?secret["']?[ \t]*$/im;
/**
 * A word every rule of walkStrings needs in a text before it can redact anything in it (names, keys,
 * scrub's patterns), or a JSON escape that could spell one: without it an embedded manifest is not parsed.
 */
const EMBEDDED_HINT_RE =
  /pass|pwd|secret|token|credential|private.?key|api.?key|access.?key|auth|cookie|session|bearer|eyJ|AKIA|ASIA|signature|sig=|x-amz-|mysql|mariadb|mongo|\slogin|curl|redis-cli|from-literal|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas)-|xox[a-z]-|xapp-|k_live_|k_test_|npm_|(?:^|[^a-z0-9_-])sk-|aiza|hf_|\bsg\.|shp[a-z]{2}_|do[opr]_v1_|pypi-|gl(?:sa|c)_|hooks\.slack|userdata|:\/\/[^\s/@]*@|ldap|sqlcmd|bcp|osql|signing.?key|hmac|master.?key|_pw\b|_key|securit|zip\s|7z|rar\s|smbc|smbget|rpcclient|openssl|sqlplus|sqlldr|expdp|impdp|exp\s|imp\s|rman|dgmgrl|thin:|creds|config\s+set|twine|nmcli|psql|-cli|\\u/i;

/**
 * The last-applied annotation of an object that is not a Secret (a JSON text of the object kubectl
 * applied): redacted by the rules of the object itself. Returns the new text, or undefined if unchanged.
 */
function redactEmbeddedManifest(text: string): string | undefined {
  // A patch's request and response usually carry the same text: one parse for both.
  if (text === lastManifest.text) return lastManifest.result;
  const result = redactManifestText(text);
  lastManifest = { text, result };
  return result;
}

let lastManifest: { text: string | undefined; result: string | undefined } = { text: undefined, result: undefined };

function redactManifestText(text: string): string | undefined {
  if (SECRET_KIND_IN_TEXT_RE.test(text)) return REDACTED;
  if (!EMBEDDED_HINT_RE.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return REDACTED;
  }
  const hits: Hit[] = [];
  walkStrings(parsed, ['$'], hits);
  if (hits.length === 0) return undefined;
  const holder: Rec = { $: parsed };
  const cow = new Cow(holder, false);
  for (const h of hits) cow.set(h.path, h.value);
  return JSON.stringify(holder.$);
}

// What the strings under a key are: plain, env values (by their name), every value (a Secret's data),
// or values redacted by their key's name (a ConfigMap's data).
const PLAIN = 0;
const ENV = 1;
const SECRET_VALUES = 2;
const CONFIG_VALUES = 3;
/** EC2 user data (base64 of a boot script that may set passwords); CloudTrail's own `<sensitiveDataRemoved>` stays. */
const USER_DATA = 4;
type Ctx = typeof PLAIN | typeof ENV | typeof SECRET_VALUES | typeof CONFIG_VALUES | typeof USER_DATA;
const SENSITIVE_DATA_REMOVED = '<sensitiveDataRemoved>';
/** Keys of an argv: a container's `command` and `args` (pods and pod templates), a process's `argv`. */
const ARGV_KEY_RE = /^(?:command|args|argv)$/;

/**
 * The string arguments of an argv, each scrubbed with the one before it (scrubArg); `prev` and `mysql` carry
 * a container's `command` into its `args`.
 */
function walkArgv(argv: unknown[], path: Key[], hits: Hit[], prev: string | undefined, prog: number, secretAt = htpasswdArgAt(argv), lead: readonly unknown[] = []): void {
  const before = hits.length;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    path.push(i);
    if (typeof a !== 'string') {
      walkStrings(a, path, hits);
      prev = undefined;
    } else {
      if (a !== REDACTED) {
        const v = i === secretAt ? REDACTED : scrubArg(prev, a, prog);
        if (v !== a) hits.push({ path: path.slice(), value: v });
      }
      prog = progAfter(prog, prev, a);
      prev = a;
    }
    path.pop();
  }
  // Round 11: every argv, not only one holding a shell operator (round 8), is also read as the command line it spells, a
  // container's args after its command: a rule of scrub whose program word, flag and value lie in different arguments
  // (`["redis-cli", "AUTH", x]`, `["crane", "auth", "login", "-p", x]`, `["twine", "upload", "-p", x]`) finds them there.
  walkJoinedArgv(argv, path, hits, before, lead);
}

const PARAM_LIST_KEY_RE = /^(?:parameters|parameteroverrides)$/i;
function isParamSecret(o: Rec): boolean {
  const name = o.parameterKey;
  const value = o.parameterValue;
  return typeof name === 'string' && typeof value === 'string' && value !== REDACTED && !isBlank(value) && isSecretName(name);
}
/** An env entry `{ name, value }` (or Beanstalk's `{ optionName, value }`) whose name is a secret's and whose value is not blank nor a reference. */
function isEnvSecret(o: Rec, value: string): boolean {
  const name = typeof o.name === 'string' ? o.name : o.optionName;
  return typeof name === 'string' && value !== REDACTED && !isBlank(value) && isSecretName(name) && !REFERENCE_TYPE_RE.test(String(o.type));
}

function walkStrings(v: unknown, path: Key[], hits: Hit[], ctx: Ctx = PLAIN): void {
  if (typeof v === 'string') {
    if (v === REDACTED) return;
    if (ctx === SECRET_VALUES) {
      hits.push({ path: path.slice(), value: REDACTED });
      return;
    }
    if (isBlank(v)) return;
    if (ctx === USER_DATA) {
      if (v !== SENSITIVE_DATA_REMOVED) hits.push({ path: path.slice(), value: REDACTED });
      return;
    }
    const last = path[path.length - 1];
    if (typeof last === 'string' && (isSecretKey(last) || (ctx !== PLAIN && isSecretName(last)))) {
      hits.push({ path: path.slice(), value: REDACTED });
      return;
    }
    if ((last === 'requestUri' || last === 'RequestUri') && v.includes('?')) {
      // GuardDuty's Kubernetes API call (KubernetesApiCallAction): the audit record's requestURI, query and all.
      const t = redactQuery(v);
      if (t !== undefined) hits.push({ path: path.slice(), value: t });
      return;
    }
    if (last === LAST_APPLIED_KEY) {
      const t = redactEmbeddedManifest(v);
      if (t !== undefined) hits.push({ path: path.slice(), value: t });
      return;
    }
    if (v.length < 8) return;
    const s = scrub(v);
    if (s !== v) hits.push({ path: path.slice(), value: s });
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    const key = path[path.length - 1];
    if (ctx === PLAIN && typeof key === 'string' && ARGV_KEY_RE.test(key)) {
      walkArgv(v, path, hits, undefined, 0);
      return;
    }
    // Round 12: a list of secrets under a secret's key (`passwords: [x]` of ElastiCache / MemoryDB users): its strings.
    const secretList = typeof key === 'string' && isSecretKey(key);
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      const e = v[i];
      if (secretList && typeof e === 'string' && e !== REDACTED && !isBlank(e)) hits.push({ path: path.slice(), value: REDACTED });
      else walkStrings(e, path, hits, ctx);
      path.pop();
    }
    return;
  }
  const o = v as Rec;
  // `{ name: DB_PASSWORD, value: ... }` in an env list (pods, pod templates, ECS container definitions). A blank
  // value holds nothing and stays blank, so rules can tell a literal secret from an empty placeholder.
  // CodeBuild's PARAMETER_STORE / SECRETS_MANAGER variables hold the name of where the secret is, not the secret.
  // Elastic Beanstalk's option settings name theirs `optionName` (`{ namespace, optionName: DBPassword, value }`).
  const envSecret = ctx === ENV && typeof o.value === 'string' && isEnvSecret(o, o.value);
  if (envSecret) hits.push({ path: [...path, 'value'], value: REDACTED });
  // Round 12: CloudFormation's stack parameters (`parameters: [{ parameterKey: DBPassword, parameterValue }]`, CreateStack,
  // UpdateStack, CreateChangeSet, stack sets), by the parameter's name as an environment variable's.
  const n = path.length;
  const paramSecret = n >= 2 && typeof path[n - 1] === 'number' && PARAM_LIST_KEY_RE.test(path[n - 2] as string) && isParamSecret(o);
  if (paramSecret) hits.push({ path: [...path, 'parameterValue'], value: REDACTED });
  // A Secret or ConfigMap in any wrapper the structured pass does not know (kind in any case).
  const kind = typeof o.kind === 'string' ? o.kind.toLowerCase() : undefined;
  const top = path.length === 0;
  // for-in, not Object.keys: no key array per object (parsed records inherit no enumerable keys).
  for (const k in o) {
    if (top && k === 'seam') continue;
    if (envSecret && k === 'value') continue;
    if (paramSecret && k === 'parameterValue') continue;
    let c = ctx;
    if (kind === 'secret' && (k === 'data' || k === 'stringData')) c = SECRET_VALUES;
    else if (kind === 'configmap' && (k === 'data' || k === 'binaryData')) c = CONFIG_VALUES;
    else if (k === 'userData' || k === 'UserData') c = USER_DATA;
    else if (c === PLAIN && ENV_KEY_RE.test(k)) c = ENV;
    const child = o[k];
    path.push(k);
    // A container's args continue its command (`command: [mysql]`, `args: [-px]`).
    if (c === PLAIN && k === 'args' && Array.isArray(child) && Array.isArray(o.command)) {
      const cmd = o.command as unknown[];
      const last = cmd[cmd.length - 1];
      const whole = cmd.concat(child);
      walkArgv(child, path, hits, typeof last === 'string' ? last : undefined, progsOf(cmd), htpasswdArgAt(whole) - cmd.length, cmd);
    } else walkStrings(child, path, hits, c);
    path.pop();
  }
}

/** Every string in the record (except `seam`): tokens in free text, and values under an Authorization key. */
function scanStrings(cow: Cow): void {
  const hits: Hit[] = [];
  walkStrings(cow.root, [], hits);
  for (const h of hits) cow.set(h.path, h.value);
}

/**
 * Where secrets sit outside the structured rules' reach (env values, headers and keys in any case,
 * keys and passwords in command lines): the bodies of a record, walked whatever the line looked
 * like. Audit and CloudTrail bodies (request/response objects, parameters and elements), and all of
 * a runtime record (command lines, Falco output). A line-wide regex for every spelling cost more than
 * JSON.parse; walking the few records with bodies costs less.
 */
const GUARDDUTY_BODY_KEYS = ['action', 'runtimeDetails'] as const;

const BODY_KEYS: Partial<Record<SourceType, readonly string[]>> = {
  k8s_audit: ['requestObject', 'responseObject'],
  cloudtrail: ['requestParameters', 'responseElements', 'additionalEventData', 'serviceEventDetails'],
};

function scanBodies(cow: Cow, source: SourceType, record: Rec): void {
  const hits: Hit[] = [];
  const keys = BODY_KEYS[source];
  if (keys === undefined) {
    if (source === 'runtime') walkStrings(record, [], hits);
    else if (source === 'guardduty') {
      // What a finding quotes of the activity (a Kubernetes API call's requestUri and parameters, a process's
      // command line): walking the whole finding (resource details, geolocation...) cost 10% of normalize's time.
      const service = obj(record.service);
      if (service !== undefined) {
        for (const k of GUARDDUTY_BODY_KEYS) {
          const v = service[k];
          if (typeof v === 'object' && v !== null) walkStrings(v, ['service', k], hits);
        }
      }
    }
  } else {
    for (const k of keys) {
      const v = record[k];
      if (typeof v === 'object' && v !== null) walkStrings(v, [k], hits);
    }
  }
  for (const h of hits) cow.set(h.path, h.value);
}

/** Can this record hold a structured secret at all? (Most cannot: Metadata-level audit events, read-only calls.) */
function mayHoldSecret(source: SourceType, r: Rec): boolean {
  if (source === 'k8s_audit') return r.requestObject !== undefined || r.responseObject !== undefined || uriMayHoldSecret(r);
  if (source === 'cloudtrail') return r.responseElements != null || r.requestParameters != null || r.additionalEventData != null || r.serviceEventDetails != null;
  return source === 'runtime' || source === 'guardduty';
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
    else if (source === 'cloudtrail') redactCloudTrail(cow, record);
  }
  if (scanForTokens) scanStrings(cow);
  else if (structured) scanBodies(cow, source, record);
  return cow.paths;
}

/** Redacts secrets from one raw record of a known source. */
export function redact(source: SourceType, record: Rec, opts: RedactOptions): Redacted {
  const structured = mayHoldSecret(source, record);
  if (!structured && !opts.scanStrings) return { record, paths: undefined };
  const cow = new Cow(record, opts.copy);
  if (structured) {
    if (source === 'k8s_audit') redactK8sAudit(cow, record);
    else if (source === 'cloudtrail') redactCloudTrail(cow, record);
  }
  if (opts.scanStrings) scanStrings(cow);
  else if (structured) scanBodies(cow, source, cow.root);
  return { record: cow.root, paths: cow.paths };
}

/**
 * Redacts a record of unknown source (a dead letter): every structured rule of every source, and the
 * string scan. Returns a copy; `value` is not changed.
 */
export function redactAny(value: Rec): Rec {
  const cow = new Cow(value, true);
  redactK8sAudit(cow, value);
  redactCloudTrail(cow, value);
  scanStrings(cow);
  return cow.root;
}
